/* SPDX-License-Identifier: MIT */
/* Linear centred kernel alignment (CKA, Kornblith et al. 2019): how alike two sets of features
 * of the same examples are, up to rotation and scale; per layer between two models. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/nn-error.h"
#include "embed/nn-features.h"

/* Which form holds a layer: the cheaper one (NN_CKA_AUTO: features when D <= N), or one forced
 * (the tests check that both give the same numbers). */
typedef enum
{
  NN_CKA_AUTO,
  NN_CKA_FEATURES,
  NN_CKA_GRAM,
} NnCkaForm;

/* One layer's features over N examples, centred over the examples, in the smaller of two forms
 * that give the same inner products: the features Xc (N, D) themselves, or the Gram matrix
 * K = Xc Xcᵀ (N, N). norm = ||Xcᵀ Xc||_F = ||K||_F. */
typedef struct
{
  int     n, d;
  bool    gram;    /* values is K (n, n), else Xc (n, d) */
  float  *values;
  double  norm;
} NnCkaRep;

/* Centres x (n, d) (means in double) and keeps it in `form`. Needs n >= 2; non-finite
 * features are an NN_ERROR_NUMERIC error. */
bool   nn_cka_rep_init (NnCkaRep    *rep,
                        const float *x,
                        int          n,
                        int          d,
                        NnCkaForm    form,
                        NnError     *err);
void   nn_cka_rep_clear (NnCkaRep *rep);

/* out = HSIC(X, Y) / sqrt (HSIC(X, X) HSIC(Y, Y)) with the linear kernel, which is
 * ||Ycᵀ Xc||_F² / (||Xcᵀ Xc||_F ||Ycᵀ Yc||_F) (1/(n - 1)² factors cancel): in [0, 1]
 * (clamped there against rounding), 1 when Y is X rotated and scaled. NaN when either layer
 * does not vary over the examples. False (out of memory) only for the products. a and b must
 * hold the same examples. */
bool   nn_cka_similarity (double         *out,
                          const NnCkaRep *a,
                          const NnCkaRep *b,
                          NnError        *err);

/* Linear CKA of x (n, dx) and y (n, dy), rows the same examples. */
bool   nn_cka_linear (double      *out,
                      const float *x,
                      int          dx,
                      const float *y,
                      int          dy,
                      int          n,
                      NnCkaForm    form,
                      NnError     *err);

/* Two models of the same graph compared layer by layer over a dataset. */
typedef struct
{
  int     n;          /* examples */
  int     n_layers;   /* every node but the input */
  int    *nodes;      /* (n_layers) node indices, the same in both graphs */
  int    *dims;       /* (n_layers) features per example */
  double *cka;        /* (n_layers) CKA of each layer in a with the same layer in b */
  double *distance;   /* (n_layers) nn_graph_node_param_distance of each layer, NaN when it
                         has no weights */
  double *matrix;     /* (n_layers, n_layers) CKA of layer i of a with layer j of b; NULL when
                         not asked for */
  double  accuracy[2];  /* each model's accuracy on the examples */
} NnCkaLayers;

/* Refuses graphs that nn_graph_check_same refuses. Runs the first ds->n samples through both
 * models (batches of `batch`, as nn_features_new_many; layers in groups that fit a memory
 * budget, one pass per group) and compares every layer's features (`mode`). progress reports
 * samples done over both models and every pass; a set cancel flag stops it between batches
 * with NN_ERROR_CANCELLED. */
NnCkaLayers *nn_cka_layers_new (NnModel          *a,
                                NnModel          *b,
                                const NnDataset  *ds,
                                NnFeaturesMode    mode,
                                bool              matrix,
                                int               batch,
                                NnEmbedProgress   progress,
                                void             *user_data,
                                const atomic_int *cancel,
                                NnError          *err);
/* Floats of features nn_cka_layers_new holds at once (256 MB). */
#define NN_CKA_BUDGET ((size_t) 1 << 26)
/* nn_cka_layers_new with layers grouped under `budget` floats of features per pass instead
 * (a layer larger than it goes alone); the result does not depend on it. */
NnCkaLayers *nn_cka_layers_new_with (NnModel          *a,
                                     NnModel          *b,
                                     const NnDataset  *ds,
                                     NnFeaturesMode    mode,
                                     bool              matrix,
                                     int               batch,
                                     size_t            budget,
                                     NnEmbedProgress   progress,
                                     void             *user_data,
                                     const atomic_int *cancel,
                                     NnError          *err);
void         nn_cka_layers_free (NnCkaLayers *layers);
