/* SPDX-License-Identifier: MIT */
/* t-SNE's parts, in the order they call each other: nn-tsne-affinity.c (the input affinities
 * P) <- nn-tsne.c (the gradients and the optimization). Tests read the gradients directly. */
#pragma once

#include <stdbool.h>

#include "core/nn-error.h"

/* A symmetric sparse matrix in compressed rows: row i holds col[row[i] .. row[i+1]-1]. */
typedef struct
{
  int    n;
  int   *row;   /* n + 1 */
  int   *col;
  float *val;
} NnTsneAffinity;

/* P = (P_j|i + P_i|j) / 2N over each point's K nearest neighbours (squared Euclidean
 * distances), where P_j|i is a Gaussian whose width a binary search per point sets so that its
 * perplexity is `perplexity`; K = N - 1 gives the dense P of exact t-SNE. P sums to 1. */
bool nn_tsne_affinity_init (NnTsneAffinity *p,
                            const float    *x,
                            int             N,
                            int             D,
                            double          perplexity,
                            int             K,
                            NnError        *err);
void nn_tsne_affinity_clear (NnTsneAffinity *p);

/* The scratch of t-SNE's gradient for N points: the quadtree, per-point sums, the threads
 * (0: as many as OpenBLAS uses). NULL when out of memory or a thread cannot start. */
typedef struct NnTsneGradient NnTsneGradient;

NnTsneGradient *nn_tsne_gradient_new (int N,
                                      int threads);
void            nn_tsne_gradient_free (NnTsneGradient *g);

/* grad (N, 2) = dKL/dy for y (N, 2) with P multiplied by `exaggeration`:
 * 4 sum_j (e p_ij - q_ij) w_ij (y_i - y_j), w_ij = 1 / (1 + |y_i - y_j|^2), q_ij = w_ij / Z.
 * theta = 0 sums the repulsion over every pair; theta > 0 is Barnes-Hut: a quadtree cell of
 * width s at distance r from a point stands for its points when s / r < theta. False only when
 * out of memory. */
bool            nn_tsne_gradient (NnTsneGradient       *g,
                                  double               *grad,
                                  const double         *y,
                                  const NnTsneAffinity *p,
                                  double                exaggeration,
                                  double                theta);
