/* SPDX-License-Identifier: MIT */
/* How faithful an attribution map is: deletion and insertion curves with their area, ROAD
 * (most- or least-relevant pixels replaced by noisy linear imputation), the pointing game and
 * energy share inside a ground-truth mask, and the model-randomization sanity check. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "explain/nn-cam.h"
#include "explain/nn-explain.h"
#include "explain/nn-method.h"
#include "explain/nn-saliency.h"

#define NN_CURVE_MAX 101

/* A curve of the target's softmax probability and logit against the fraction of pixels
 * changed; an immutable value without pointers.
 *
 * A saturated softmax keeps the probability at 1 until the logit margin is nearly gone, so its
 * deletion and insertion curves can be flat at 1 whatever the map. The logit curve, min-max
 * normalised over its own points, still orders the maps: deletion and insertion give both
 * (nn_faith_curve). Normalising between the input and the fully changed input instead breaks
 * down when the two score alike (an all-baseline image that the model still calls the class). */
typedef struct
{
  int    n;                            /* points */
  float  fraction[NN_CURVE_MAX];       /* in [0, 1], increasing */
  float  prob[NN_CURVE_MAX];
  float  logit[NN_CURVE_MAX];          /* the target's logit */
  /* Deletion and insertion only: (logit - min) / (max - min), min and max over the curve's
   * points, in [0, 1]; NAN when max - min < 1e-6 (the logit does not move). */
  float  logit_norm[NN_CURVE_MAX];
  double auc;                          /* trapezoidal area under prob over fraction */
  double auc_logit;                    /* the same under logit_norm; NAN when that is */
} NnCurve;

typedef enum
{
  NN_CURVE_DELETION,   /* most relevant pixels first replaced by the baseline (zeros) */
  NN_CURVE_INSERTION,  /* most relevant pixels first copied into the blurred input */
} NnCurveKind;

typedef enum
{
  NN_FAITH_DELETION      = 1 << 0,
  NN_FAITH_INSERTION     = 1 << 1,
  NN_FAITH_ROAD_MORF     = 1 << 2,   /* most relevant first */
  NN_FAITH_ROAD_LERF     = 1 << 3,   /* least relevant first */
  NN_FAITH_RANDOMIZATION = 1 << 4,
  NN_FAITH_MASK          = 1 << 5,   /* pointing game and energy share, given a mask */
  NN_FAITH_ALL           = (1 << 6) - 1,
} NnFaithMetric;

/* How the metrics of one map are computed; the same in the app and the CLI. */
typedef struct
{
  unsigned metrics;             /* NnFaithMetric bits: which to compute */
  int      steps;               /* deletion and insertion: fractions 0, 1/steps, ..., 1 */
  float    blur_divisor;        /* insertion's blur: sigma = max (H, W) / blur_divisor px */
  int      road_points;         /* ROAD at fractions 1/(n+1), ..., n/(n+1) */
  float    road_noise;          /* sigma of ROAD's imputation noise */
  float    pointing_tolerance;  /* px */
  uint64_t seed;                /* ROAD's noise, the randomized weights */
} NnFaithSettings;

/* Every metric, 20 steps, blur max (H, W) / 16, ROAD at 10%, ..., 90% with noise 0.01, the
 * pointing game within 15 px, seed 1. */
void     nn_faith_settings_init (NnFaithSettings *settings);
/* Checks the sizes and ranges; the error names the setting. */
bool     nn_faith_settings_check (const NnFaithSettings *settings,
                                  NnError               *err);
/* Insertion's blur sigma in px for an input of h x w. */
float    nn_faith_settings_blur (const NnFaithSettings *settings,
                                 int                    h,
                                 int                    w);
/* ROAD's settings->road_points fractions. */
void     nn_faith_settings_road_fractions (const NnFaithSettings *settings,
                                           float                 *fractions);

/* The metrics of one map, as far as they are known: a value without pointers. */
typedef struct
{
  unsigned has;              /* NnFaithMetric bits of the fields below that are filled */
  NnCurve  deletion;
  NnCurve  insertion;
  NnCurve  road_morf;
  NnCurve  road_lerf;
  double   road_morf_mean;   /* mean probability over the ROAD fractions */
  double   road_lerf_mean;
  double   rho;              /* Spearman rho of the map and the randomized model's map */
  bool     pointing;         /* pointing game hit */
  double   energy;           /* share of the positive energy inside the mask */
} NnFaithMetrics;

/* The order of the n pixels by map value, highest first (ties: lower index first; NaN last).
 * False when out of memory. */
bool   nn_faith_order (int         *order,
                       const float *map,
                       int          n);

/* Deletion or insertion curve with steps + 1 points (1 <= steps < NN_CURVE_MAX) at fractions
 * 0, 1/steps, ..., 1 of the pixels (all channels of a pixel together), for the input
 * (C, H, W) and its map (H, W). Insertion starts from the input blurred with a Gaussian of
 * sigma `blur` px. Images go through ctx as many per pass as its batch holds. */
bool   nn_faith_curve (NnContext              *ctx,
                       const float            *input,
                       const float            *map,
                       int                     target,
                       NnCurveKind             kind,
                       int                     steps,
                       float                   blur,
                       NnCurve                *curve,
                       const NnExplainControl *control,
                       NnError                *err);

/* ROAD: for each fraction p in fractions (n of them, increasing, in [0, 1)), the pixels of the
 * top (most_relevant_first) or bottom fraction p by map are removed and imputed: each removed
 * value becomes the weighted mean of its 8 neighbours (1/6 for edge, 1/12 for diagonal ones,
 * renormalized at the border), solved jointly for all removed pixels, plus Gaussian noise of
 * sigma `noise` (seeded). The curve's points are (p, probability). */
bool   nn_faith_road (NnContext              *ctx,
                      const float            *input,
                      const float            *map,
                      int                     target,
                      const float            *fractions,
                      int                     n,
                      bool                    most_relevant_first,
                      float                   noise,
                      uint64_t                seed,
                      NnCurve                 *curve,
                      const NnExplainControl *control,
                      NnError                *err);
/* The imputation alone, for one plane (h, w) in place: removed[p] != 0 marks unknowns. A
 * push-pull pyramid gives the first guess, successive over-relaxation solves to 1e-5 of the
 * known values' range. scratch holds nn_faith_road_scratch_size (h, w) floats. */
size_t nn_faith_road_scratch_size (int h,
                                   int w);
void   nn_faith_road_impute (float         *plane,
                             const uint8_t *removed,
                             int            h,
                             int            w,
                             float         *scratch);

/* Pointing game: true when the map's maximum (the first on ties) lies within `tolerance` px
 * (Euclidean) of a mask pixel. False as well when the mask is empty. */
bool   nn_faith_pointing_game (const float   *map,
                               const uint8_t *mask,
                               int            h,
                               int            w,
                               float          tolerance);
/* Share of the map's positive energy (sum of max (map, 0)) inside the mask; 0 for a map
 * without positive values. */
double nn_faith_energy_share (const float   *map,
                              const uint8_t *mask,
                              int            h,
                              int            w);

/* Spearman rank correlation of a and b (n values; ties get their average rank); 0 when either
 * is constant. */
double nn_faith_spearman (const float *a,
                          const float *b,
                          size_t       n);

/* Model-randomization sanity check (Adebayo et al.): the weights of every conv and linear layer
 * of a copy of graph are redrawn (normal, the same standard deviation as the original, seeded)
 * and the same method recomputed for the same target (and, for the CAM family, layer) as
 * `original`. *rho is the Spearman correlation of the two input-resolution maps; a faithful map
 * changes (low rho). `batch` and `threads` (nn_context_set_threads) size the copy's context. */
bool   nn_faith_randomization_method (const NnGraph          *graph,
                                      const float            *input,
                                      const NnMethodSpec     *spec,
                                      const NnMap            *original,
                                      int                     batch,
                                      int                     threads,
                                      uint64_t                seed,
                                      double                 *rho,
                                      const NnExplainControl *control,
                                      NnError                *err);
/* The same for a method given as cam or saliency (exactly one non-NULL), on one thread. */
bool   nn_faith_randomization (const NnGraph          *graph,
                               const float            *input,
                               const NnCamSpec        *cam,
                               const NnSaliencySpec   *saliency,
                               const NnMap            *original,
                               int                     batch,
                               uint64_t                seed,
                               double                 *rho,
                               const NnExplainControl *control,
                               NnError                *err);
