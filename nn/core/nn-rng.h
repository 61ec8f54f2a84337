/* SPDX-License-Identifier: MIT */
/* An explicit, seeded random number generator (xoshiro128+ seeded by splitmix64); no global
 * state anywhere in nn/. */
#pragma once

#include <stdint.h>

typedef struct
{
  uint32_t s[4];
  int      has_spare;
  float    spare;
} NnRng;

void     nn_rng_init (NnRng   *rng,
                      uint64_t seed);
/* Uniform in [0, 1). */
float    nn_rng_uniform (NnRng *rng);
/* Uniform integer in [0, n). */
uint32_t nn_rng_below (NnRng   *rng,
                       uint32_t n);
/* Uniform in [lo, hi). */
float    nn_rng_range (NnRng *rng,
                       float  lo,
                       float  hi);
/* A Poisson count of mean lambda: Knuth's product method for small means, the normal
 * approximation (rounded, at least 0) above 30. */
float    nn_rng_poisson (NnRng *rng,
                         float  lambda);
/* Standard normal (Box-Muller). */
float    nn_rng_normal (NnRng *rng);
void     nn_rng_shuffle (NnRng *rng,
                         int   *items,
                         int    n);
