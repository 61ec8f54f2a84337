/* SPDX-License-Identifier: MIT */
/* Baselines x' for Integrated Gradients (and the other methods that take one): zeros, a black
 * image, the input blurred, uniform noise, made in the model's normalized input space; and IG's
 * convergence delta, how far the attributions are from summing to f(x) - f(x'). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "explain/nn-explain.h"
#include "io/nn-model.h"

typedef enum
{
  NN_BASELINE_ZERO,     /* zeros of the normalized input: the mean colour */
  NN_BASELINE_BLACK,    /* a black image: (0 - mean) / std per channel */
  NN_BASELINE_BLUR,     /* the input under a Gaussian blur (sigma in pixels) */
  NN_BASELINE_UNIFORM,  /* pixels drawn uniformly from [0, 1], then normalized */
  NN_BASELINE_COUNT_
} NnBaselineKind;

/* "zero", "black", "blur", "uniform". */
const char *nn_baseline_kind_name (NnBaselineKind kind);
/* Looks a kind up by its name; false when there is none. */
bool        nn_baseline_kind_from_name (const char     *name,
                                        NnBaselineKind *kind);

/* A new baseline (C, H, W) at model's input shape, to free with free(): input (the normalized
 * tensor being explained) is read for NN_BASELINE_BLUR only (blur_sigma <= 0: an eighth of the
 * smaller side), seed for NN_BASELINE_UNIFORM only. NULL with err when out of memory. */
float      *nn_baseline_new (NnBaselineKind  kind,
                             const NnModel  *model,
                             const float    *input,
                             float           blur_sigma,
                             uint64_t        seed,
                             NnError        *err);

/* IG's convergence delta of map (computed for input from baseline on ctx, so map->score is
 * f(x)): the sum of its attributions minus (f(x) - f(x')), f the target logit, after one
 * forward pass of baseline on ctx (NULL: zeros). Near 0 when the path integral is accurate;
 * it shrinks as the steps grow. False with err when out of memory. */
bool        nn_ig_convergence_delta (NnContext   *ctx,
                                     const NnMap *map,
                                     const float *baseline,
                                     double      *delta,
                                     NnError     *err);
