/* SPDX-License-Identifier: MIT */
/* Out-of-distribution score: how far an input's penultimate-layer features lie from the
 * training set's, as the Mahalanobis distance to the nearest class mean with a shared
 * covariance (Lee et al. 2018), against a threshold taken from the training set's own scores. */
#pragma once

#include <stdbool.h>

#include "core/nn-error.h"
#include "data/nn-dataset.h"
#include "io/nn-model.h"

#define NN_OOD_LAYER_MAX 96

typedef struct
{
  char    layer[NN_OOD_LAYER_MAX];  /* the feature node: the input of the last linear node */
  int     n_classes;
  int     dim;                      /* features per sample */
  float  *means;                    /* n_classes * dim class means */
  float  *chol;                     /* dim * dim: lower Cholesky factor of the pooled
                                     * within-class covariance (plus a small ridge) */
  double  threshold;                /* scores above it are "far from the training data" */
  double  percentile;               /* of the training scores that gave the threshold */
  long    train_n;                  /* training samples the statistics come from */
} NnOod;

/* The node whose output is the score's features: the input of the graph's last linear node,
 * or -1 (with err) for a graph without one. */
int     nn_ood_feature_node (const NnGraph *graph,
                             NnError       *err);

/* Fits the statistics on ds (its pixels in [0, 1], as a CT set after its window) through
 * model, `batch` samples per pass: class means, the pooled within-class covariance (with 1e-3
 * of the mean variance added to its diagonal), and the threshold at `percentile` (in (0, 100]) of the training samples' scores. */
NnOod  *nn_ood_fit (NnModel         *model,
                    const NnDataset *ds,
                    double           percentile,
                    int              batch,
                    NnError         *err);
void    nn_ood_free (NnOod *ood);

/* The score of one sample's features (ood->dim): min over classes of the squared Mahalanobis
 * distance divided by dim (about 1 for a typical training sample); NAN when out of memory. */
double  nn_ood_score (const NnOod *ood,
                      const float *features);

/* Where a model's statistics are looked for: model_path with ".safetensors" replaced by (or,
 * for another name, followed by) ".ood.json". NULL when out of memory. */
char   *nn_ood_path_new (const char *model_path);

/* JSON files: {"format": "cnnscope-ood", "version": 1, "layer", "classes", "dim", "means",
 * "chol", "threshold", "percentile", "train_n"}. Loading checks them against graph (the
 * layer exists, its output has dim values, classes match). */
bool    nn_ood_save (const NnOod *ood,
                     const char  *path,
                     NnError     *err);
NnOod  *nn_ood_load (const char    *path,
                     const NnGraph *graph,
                     NnError       *err);
