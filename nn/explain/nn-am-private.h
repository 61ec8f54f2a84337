/* SPDX-License-Identifier: MIT */
/* Shared by the parts of activation maximization: the run (nn-am.c) and the image side of a
 * step (nn-am-image.c: parameterization, transforms and their adjoints, penalties). */
#pragma once

#include "explain/nn-am.h"
#include "graph/nn-context.h"
#include "core/nn-rng.h"

/* One item's transform: the output pixel (y, x) samples the image at
 * (cy + a (y - cy - ty) + b (x - cx - tx), cx + c (y - cy - ty) + d (x - cx - tx)). */
typedef struct
{
  float a, b, c, d;
  float ty, tx;
} NnAmAffine;

/* The cosine basis with decorrelated colour: orthonormal DCT-II matrices of the height and the
 * width, the 1 / frequency scale of each coefficient, the colour matrix and its inverse. */
typedef struct
{
  float *dct_h;     /* (H, H) */
  float *dct_w;     /* (W, W) */
  float *scale;     /* (H, W) */
  float  colour[9];
  float  colour_inv[9];
  float *tmp;       /* (H, W) */
  float *tmp2;      /* (H, W) */
} NnAmBasis;

struct NnAmRun
{
  const NnModel *model;
  NnAmSettings   settings;
  int           *channels;    /* per item */
  float         *direction;
  int            layer;       /* the resolved node */
  NnShape        lshape;      /* its per-sample shape */
  NnShape        ishape;      /* the input's */
  int            items;
  size_t         n;           /* floats per image */
  NnContext     *ctx;
  NnRng          rng;
  float          lo[NN_MODEL_MAX_CHANNELS], hi[NN_MODEL_MAX_CHANNELS];  /* input range */

  float         *params;      /* items x n: pixels or coefficients */
  float         *image;       /* items x n: the current normalized images */
  float         *best;
  float         *best_obj;
  int           *best_step;
  float         *history;     /* items x (steps + 1) */
  int            recorded;    /* history values per item */
  float         *gimage;      /* items x n */
  float         *gparams;
  float         *m, *v;       /* Adam */
  float         *tmp;         /* n floats: blur, transforms */
  float         *scratch;     /* H x W of the layer: percentile selection */
  NnAmAffine    *affine;      /* per item, of the current step */
  float         *blur_kernel; /* 2 radius + 1 taps */
  int            blur_radius;
  NnAmBasis      basis;
  int            step;
  bool           done;
  bool           failed;
};

/* Normalized pixel values from the parameters: run->image for every item. */
void nn_am_render (NnAmRun *run);
/* The parameter gradient run->gparams from the image gradient run->gimage. */
void nn_am_render_backward (NnAmRun *run);
/* Parameters that give the normalized image `image` (C, H, W) for item b. */
void nn_am_params_from_image (NnAmRun     *run,
                              int          b,
                              const float *image);
bool nn_am_basis_init (NnAmRun *run);
void nn_am_basis_free (NnAmBasis *basis);

/* Draws each item's transform from rng and writes the transformed images into inp
 * (items, C, H, W). */
void nn_am_transform (NnAmRun     *run,
                      NnRng       *rng,
                      float       *inp);
/* Adds the adjoint of the transforms applied to gin into run->gimage. */
void nn_am_transform_backward (NnAmRun     *run,
                               const float *gin);
/* Subtracts the penalties' gradients (L2, total variation) from run->gimage and returns the
 * penalty of item b. */
float nn_am_penalty (NnAmRun *run,
                     int      b);
