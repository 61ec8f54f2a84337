/* SPDX-License-Identifier: MIT */
/* t-SNE (van der Maaten and Hinton 2008; Barnes-Hut, van der Maaten 2014): a 2-D map of points
 * whose neighbourhoods keep those of the input. Exact below a size threshold, Barnes-Hut with
 * a quadtree above it; seeded, and the same seed gives the same map on any thread count. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/nn-error.h"
#include "embed/nn-features.h"

typedef struct
{
  double   perplexity;     /* effective neighbours per point; needs N >= 3 perplexity + 1 */
  int      iterations;     /* gradient steps in all, the first 250 with early exaggeration */
  double   learning_rate;  /* <= 0: max (50, N / 12) */
  double   theta;          /* Barnes-Hut's accuracy (0.5); smaller is slower and closer */
  int      exact_below;    /* exact t-SNE below this many points, Barnes-Hut from there */
  int      threads;        /* threads for Barnes-Hut's repulsion; 0: as OpenBLAS's */
  uint64_t seed;           /* the initial map's */
} NnTsneConfig;

#define NN_TSNE_EXAGGERATION       12.0
#define NN_TSNE_EXAGGERATION_STEPS 250
/* The automatic learning rate's floor: with the rate times the exaggeration well above N, the
 * exaggerated steps overshoot and fling points out of small sets. */
#define NN_TSNE_MIN_RATE           50.0

/* perplexity 30, 1000 iterations, automatic rate, theta 0.5, exact below 2000, seed 1. */
void nn_tsne_config_init (NnTsneConfig *config);

/* out (N, 2) = the t-SNE map of x (N, D). progress (the steps done of config->iterations, and
 * the affinities as step 0) and cancel may be NULL; cancel is polled every step. */
bool nn_tsne (float              *out,
              const float        *x,
              int                 N,
              int                 D,
              const NnTsneConfig *config,
              NnEmbedProgress     progress,
              void               *user_data,
              const atomic_int   *cancel,
              NnError            *err);
