/* SPDX-License-Identifier: MIT */
/* Activation maximization (docs/am.md): a run object made from a model and settings,
 * stepped by its owner (a CLI loop or a GUI worker thread), that optimizes one image per
 * channel of a layer (all in one batch) under a chosen gradient policy. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/nn-error.h"
#include "graph/nn-graph.h"
#include "io/nn-model.h"

typedef enum
{
  NN_AM_OBJECTIVE_MEAN,        /* mean of the channel over its H x W */
  NN_AM_OBJECTIVE_CENTER,      /* the unit at (H / 2, W / 2) */
  NN_AM_OBJECTIVE_PERCENTILE,  /* mean of the channel's top `percentile` % of units */
  NN_AM_OBJECTIVE_UNIT,        /* the unit at (unit_y, unit_x) */
  NN_AM_OBJECTIVE_LOGIT,       /* a class logit: the channel of the output's logits */
  NN_AM_OBJECTIVE_DIRECTION,   /* sum over channels c of direction[c] x channel c's mean */
  NN_AM_OBJECTIVE_COUNT_
} NnAmObjective;

typedef enum
{
  NN_AM_PARAM_PIXELS,   /* the normalized image itself, clamped to the input range */
  NN_AM_PARAM_FOURIER,  /* cosine-basis coefficients scaled by 1 / frequency, decorrelated
                           colour for RGB, a sigmoid into pixel values 0..1 */
  NN_AM_PARAM_COUNT_
} NnAmParam;

typedef enum
{
  NN_AM_OPTIMIZER_NGA,   /* normalized gradient ascent: lr x gradient / RMS (gradient) */
  NN_AM_OPTIMIZER_ADAM,  /* Adam (0.9, 0.999, 1e-8) */
  NN_AM_OPTIMIZER_SGD,   /* a plain gradient step: lr x gradient */
  NN_AM_OPTIMIZER_COUNT_
} NnAmOptimizer;

/* The per-step transforms, as bits of NnAmSettings.transforms. Pad, jitter, scale and rotate
 * are one affine resampling (bilinear) of the image about its centre; blur follows it. */
typedef enum
{
  NN_AM_TRANSFORM_PAD    = 1 << 0,  /* shrink into a frame `pad` px wider, filled grey */
  NN_AM_TRANSFORM_JITTER = 1 << 1,  /* shift by up to +-`jitter` px */
  NN_AM_TRANSFORM_SCALE  = 1 << 2,  /* scale by 1 +- `scale` */
  NN_AM_TRANSFORM_ROTATE = 1 << 3,  /* rotate by up to +-`rotate` degrees */
  NN_AM_TRANSFORM_BLUR   = 1 << 4,  /* Gaussian blur of sigma `blur` px */
} NnAmTransform;

#define NN_AM_MAX_STEPS 100000
#define NN_AM_MAX_BATCH 4096

typedef struct
{
  int            layer;       /* node index; -1 for the logits (the output, before a softmax) */
  NnAmObjective  objective;
  const int     *channels;    /* n_channels channels (or classes), one image each; copied */
  int            n_channels;
  int            unit_y, unit_x;
  float          percentile;  /* in (0, 100] */
  const float   *direction;   /* one weight per channel of the layer (one image); copied */
  NnGradPolicy   policy;      /* the run's gradient policy (override of every ReLU) */
  float          warmup;      /* share of the steps run with the identity policy first */
  int            steps;
  float          lr;
  NnAmOptimizer  optimizer;
  NnAmParam      param;
  bool           clip;        /* pixels: clamp to [clip_lo, clip_hi] (normalized input values,
                                 every channel) after each step instead of the input range */
  float          clip_lo, clip_hi;
  unsigned       transforms;  /* NnAmTransform bits */
  int            pad, jitter;
  float          scale, rotate, blur;
  float          l2, tv;      /* weights of the penalties mean (x^2) and mean |grad x| */
  const float   *start;       /* NULL: noise; else one normalized (C, H, W) image for every
                                 item or (n_channels, C, H, W) (a previous result); copied */
  int            start_items; /* 1 or n_channels when start is set */
  float          noise;       /* std of the starting noise, in pixel units */
  uint64_t       seed;
  int            threads;     /* for the context; 1 by default */
  unsigned       context_flags; /* NnContextFlags added to the context's (0 by default) */
} NnAmSettings;

/* Defaults: layer -1, channel mean, exact policy, no warm-up, 256 steps, lr 0.05, NGA on
 * pixels clamped to the model's input range (no box), no transforms (pad 4, jitter 2, scale 0.05, rotate 5, blur 0.5 once enabled), no
 * penalties, noise 0.1, seed 1, one thread. channels must still be set. */
void nn_am_settings_init (NnAmSettings *settings);

const char *nn_am_objective_name (NnAmObjective objective);
bool        nn_am_objective_parse (const char    *text,
                                   NnAmObjective *objective,
                                   NnError       *err);
/* Parses a comma-separated list of pad, jitter, scale, rotate, blur, "all" or "none". */
bool        nn_am_transforms_parse (const char *text,
                                    unsigned   *transforms,
                                    NnError    *err);

typedef struct NnAmRun NnAmRun;

/* Checks the settings against the model (layer, channels, spatial objectives, ranges) and
 * prepares the run: context, buffers, the starting images. The model is borrowed and must
 * outlive the run; it is never changed. */
NnAmRun     *nn_am_run_new (const NnModel      *model,
                            const NnAmSettings *settings,
                            NnError            *err);
void         nn_am_run_free (NnAmRun *run);

/* Runs up to n more steps (fewer at the end of the run), polling *cancel (may be NULL) before
 * each. Returns false on cancellation (NN_ERROR_CANCELLED) or when the objective or the
 * gradient stops being finite (NN_ERROR_NUMERIC; the run then stops for good and its best
 * images stay available). After the last step the final images are evaluated. */
bool         nn_am_run_step (NnAmRun          *run,
                             int               n,
                             const atomic_int *cancel,
                             NnError          *err);
int          nn_am_run_get_step (const NnAmRun *run);
bool         nn_am_run_is_done (const NnAmRun *run);
int          nn_am_run_get_items (const NnAmRun *run);
int          nn_am_run_get_channel (const NnAmRun *run,
                                    int            item);
/* Per-item image shape is the model's input (C, H, W). */
NnShape      nn_am_run_get_shape (const NnAmRun *run);

/* The current normalized image of an item (C, H, W); lent until the next step. */
const float *nn_am_run_peek_image (const NnAmRun *run,
                                   int            item);
/* The image with the highest objective so far, and that objective. */
const float *nn_am_run_peek_best (const NnAmRun *run,
                                  int            item);
float        nn_am_run_get_best_objective (const NnAmRun *run,
                                           int            item);
/* The objective of the original network (the model's own forward pass, whatever the
 * policy) of the untransformed image before each step, then of the final image: *n values
 * (steps done + 1 once the run is done). */
const float *nn_am_run_peek_history (const NnAmRun *run,
                                     int            item,
                                     int           *n);
/* The last value of the history. */
float        nn_am_run_get_objective (const NnAmRun *run,
                                      int            item);

/* The optimized parameters (items x C x H x W pixels or basis coefficients), *n floats; they
 * may be changed between steps (tests, restarts). */
float       *nn_am_run_get_params (NnAmRun *run,
                                   size_t  *n);
/* The value the next step ascends (the objective summed over the items under the step's
 * policy, its forward pass and transforms, minus the penalties) and its gradient with respect
 * to the parameters, written to grad (*n floats of nn_am_run_get_params); does not step. */
float        nn_am_run_gradient (NnAmRun *run,
                                 float   *grad);

/* A normalized (C, H, W) image as pixel values 0..1 (clamped) for display or saving. */
void         nn_am_image_to_pixels (const NnModel *model,
                                    const float   *image,
                                    NnImage       *out);

/* The objective of item `item` read from a layer output (C, H, W) of one sample, and its
 * gradient added into grad (C, H, W) when grad is not NULL. `scratch` holds H x W floats
 * (top-percentile selection). */
float        nn_am_objective_eval (const NnAmSettings *settings,
                                   int                 channel,
                                   NnShape             shape,
                                   const float        *act,
                                   float              *grad,
                                   float              *scratch);
