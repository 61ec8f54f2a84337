/* SPDX-License-Identifier: MIT */
/* One layer's features over a dataset, a row per sample (global-average-pooled per channel or
 * flattened), with the true classes and the model's predictions: what embed/ maps to 2-D. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>

#include "core/nn-error.h"
#include "data/nn-dataset.h"
#include "graph/nn-context.h"
#include "io/nn-model.h"

typedef enum
{
  NN_FEATURES_POOL,     /* (C): the mean of each channel over H x W */
  NN_FEATURES_FLATTEN,  /* (C*H*W): the whole output */
} NnFeaturesMode;

/* Called on the calling thread after each batch: `done` of `total` samples. */
typedef void (*NnEmbedProgress) (int   done,
                                 int   total,
                                 void *user_data);

typedef struct
{
  int    n, d;     /* samples, features per sample */
  float *values;   /* (n, d) */
  int   *labels;   /* (n) true classes, copied from the dataset */
  int   *preds;    /* (n) the model's top class */
} NnFeatures;

/* Runs the first ds->n samples of ds (normalized as the model asks) through the model in
 * batches of `batch` on one eval-mode context and keeps the output of `node`. progress and
 * cancel may be NULL; a set cancel flag gives NN_ERROR_CANCELLED between batches. */
NnFeatures *nn_features_new (NnModel          *model,
                             const NnDataset  *ds,
                             int               node,
                             NnFeaturesMode    mode,
                             int               batch,
                             NnEmbedProgress   progress,
                             void             *user_data,
                             const atomic_int *cancel,
                             NnError          *err);
/* nn_features_new for several layers in one pass over the data: out[i] (n_nodes entries,
 * filled on success, all NULL on failure) receives the features of nodes[i]. */
bool        nn_features_new_many (NnFeatures      **out,
                                  NnModel          *model,
                                  const NnDataset  *ds,
                                  const int        *nodes,
                                  int               n_nodes,
                                  NnFeaturesMode    mode,
                                  int               batch,
                                  NnEmbedProgress   progress,
                                  void             *user_data,
                                  const atomic_int *cancel,
                                  NnError          *err);
void        nn_features_free (NnFeatures *features);

/* Called after each batch's forward pass: ctx holds the outputs of samples start ..
 * start + rows - 1 of the dataset in its first `rows` rows. False (with err set) stops the
 * run. */
typedef bool (*NnFeaturesVisit) (NnContext *ctx,
                                 int        start,
                                 int        rows,
                                 void      *user_data,
                                 NnError   *err);

/* The pass under nn_features_new and nn_examples_new: the first ds->n samples of ds,
 * normalized as the model asks, through one eval-mode context in batches of `batch`, the
 * nodes kept (written even where folding would skip them); visit hears each batch, then
 * progress. False with err on bad input (a node that is not a layer, a dataset whose images do
 * not fit the model), out of memory, a visit's failure or cancel (NN_ERROR_CANCELLED). */
bool        nn_features_run (NnModel          *model,
                             const NnDataset  *ds,
                             const int        *nodes,
                             int               n_nodes,
                             int               batch,
                             NnFeaturesVisit   visit,
                             void             *visit_data,
                             NnEmbedProgress   progress,
                             void             *user_data,
                             const atomic_int *cancel,
                             NnError          *err);
