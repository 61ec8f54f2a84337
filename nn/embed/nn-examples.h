/* SPDX-License-Identifier: MIT */
/* Dataset examples: for every channel of a layer, the k samples of a dataset that activate it
 * most and least (with where), the receptive field of a unit to crop them, and a cache file. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/nn-error.h"
#include "data/nn-dataset.h"
#include "embed/nn-features.h"
#include "graph/nn-graph.h"
#include "io/nn-model.h"

/* One sample's response to one channel: the channel's spatial maximum over the sample's
 * output plane, and the position (y, x) in that plane of its first maximum (row-major). */
typedef struct
{
  int   index;  /* the sample's place in the dataset */
  float value;
  int   y, x;
} NnExample;

/* Both ends of one ranking per channel: samples ordered by their spatial maximum, ties by the
 * lower sample index. top (C, k) runs from the highest maximum down, bottom (C, k) from the
 * lowest up; a channel has min(k, n) of each (rows past that are unused). */
typedef struct
{
  int        c, h, w;  /* the layer's output shape */
  int        k;        /* examples kept per channel and end */
  int        n;        /* samples ranked */
  NnExample *top;
  NnExample *bottom;
} NnExamples;

/* The ranking of every channel of `node` (a layer with a (C, H, W) output) over the first
 * ds->n samples of ds, normalized as the model asks, in batches of `batch` on one eval-mode
 * context. Memory beyond the context is O(C * k). progress (after each batch) and cancel
 * (polled between batches: NN_ERROR_CANCELLED) may be NULL. */
NnExamples *nn_examples_new (NnModel          *model,
                             const NnDataset  *ds,
                             int               node,
                             int               k,
                             int               batch,
                             NnEmbedProgress   progress,
                             void             *user_data,
                             const atomic_int *cancel,
                             NnError          *err);
void        nn_examples_free (NnExamples *examples);
/* Channel c's top (or bottom) examples: nn_examples_count (ex) entries. */
const NnExample *nn_examples_top (const NnExamples *examples,
                                  int               c);
const NnExample *nn_examples_bottom (const NnExamples *examples,
                                     int               c);
int              nn_examples_count (const NnExamples *examples);

/* The receptive field of the units of a node along one axis: unit i of the node's output sees
 * input pixels start + i * jump .. start + i * jump + size - 1 (start may be negative and the
 * end past the image: padding). `whole` when a unit sees the whole input (a global pool, a
 * linear layer, a norm over the plane, a reshape on any path). */
typedef struct
{
  bool whole;
  int  size_h, size_w;
  int  jump_h, jump_w;
  int  start_h, start_w;
} NnReceptiveField;

/* The field of node's units from the kernel sizes, strides, paddings and dilations on every
 * path from the input: where paths meet (add, concat, mul), the union of their fields. False
 * with err when paths of different strides meet (the union then differs from unit to unit). */
bool nn_receptive_field (NnReceptiveField *field,
                         const NnGraph    *graph,
                         int               node,
                         NnError          *err);
/* The input rectangle unit (y, x) sees, clipped to the in_h x in_w input: rows
 * rect[0] .. rect[0] + rect[2] - 1, columns rect[1] .. rect[1] + rect[3] - 1 (y0, x0, h, w). */
void nn_receptive_field_rect (const NnReceptiveField *field,
                              int                     y,
                              int                     x,
                              int                     in_h,
                              int                     in_w,
                              int                     rect[4]);

/* What identifies a model file for a cache: its real path, size and modification time, as
 * one line of text (free). Taken before the model is read, so that a file rewritten after
 * that gives another identity. NULL with err when the file cannot be examined. */
char *nn_examples_model_identity (const char *model_path,
                                  NnError    *err);
/* The key a cache file is valid for: the model's identity, the dataset (its spec, and its
 * folder's modification time when it names one), the layer and k, as one line of text (free).
 * NULL when out of memory. */
char *nn_examples_cache_key (const char *model_identity,
                             const char *dataset,
                             const char *layer,
                             int         k,
                             NnError    *err);
/* A file name for the key: "examples-<16 hex digits of its hash>.bin" into name. */
void  nn_examples_cache_name (char       *name,
                              size_t      size,
                              const char *key);
/* Writes examples and the key to path atomically. */
bool  nn_examples_save (const NnExamples *examples,
                        const char       *path,
                        const char       *key,
                        NnError          *err);
/* Reads a file nn_examples_save wrote for the same key; NULL with err when it is missing
 * (NN_ERROR_IO), written for another key, or broken (NN_ERROR_FORMAT: wrong magic, sizes that
 * do not add up, a checksum that does not match, indices or positions out of range). */
NnExamples *nn_examples_load (const char *path,
                              const char *key,
                              NnError    *err);
