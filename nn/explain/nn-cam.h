/* SPDX-License-Identifier: MIT */
/* Class activation maps at a chosen layer: Grad-CAM, Grad-CAM++, XGrad-CAM, HiResCAM,
 * LayerCAM (one forward pass and a backward pass that stops at the layer), Score-CAM (one
 * forward pass per channel, batched, cancellable) and Eigen-CAM (forward only). The method
 * registry (nn-method.h) declares each method's function, nn_cam_gradcam and so on. */
#pragma once

#include <stdbool.h>

#include "explain/nn-explain.h"

typedef enum
{
  NN_CAM_GRADCAM,     /* w_k = mean_ij G_kij; map = sum_k w_k A_k */
  NN_CAM_GRADCAM_PP,  /* w_k = sum_ij a_kij relu (G_kij), a = G^2 / (2 G^2 + sum_ab A_kab G^3)
                         (0 where the denominator is 0) */
  NN_CAM_XGRADCAM,    /* w_k = sum_ij A_kij G_kij / sum_ab A_kab (0 for an all-zero channel) */
  NN_CAM_HIRESCAM,    /* map = sum_k G_k * A_k, elementwise */
  NN_CAM_LAYERCAM,    /* map = sum_k relu (G_k) * A_k */
  NN_CAM_SCORECAM,    /* w_k = softmax (f (x * M_k))_c, M_k = A_k upsampled, scaled to [0, 1] */
  NN_CAM_EIGENCAM,    /* map = projection of the centred A on its first principal component */
  NN_CAM_COUNT_
} NnCamMethod;

typedef struct
{
  NnCamMethod method;
  int         layer;   /* node index; -1: the last spatial layer */
  int         target;  /* class; -1: the top prediction (Eigen-CAM ignores it) */
  bool        keep_negative;  /* skip the final ReLU: a signed map */
} NnCamSpec;

/* Grad-CAM at the last spatial layer for the top class, positive part only. */
void        nn_cam_spec_init (NnCamSpec *spec);

/* "gradcam", "gradcam++", "xgradcam", "hirescam", "layercam", "scorecam", "eigencam". */
const char *nn_cam_method_name (NnCamMethod method);
bool        nn_cam_method_from_name (const char  *name,
                                     NnCamMethod *method);

/* How the CAM methods see a layer: K channels over an lh x lw grid. A layer (C, H, W) is
 * itself. A token layer, per-sample shape (N, E) of rank 2 with N - 1 or N a square g * g, is
 * its g x g grid of patch tokens (row-major) with the E features as channels, the first (class)
 * token dropped when N - 1 is square, as pytorch-grad-cam's reshape_transform makes it. */
typedef struct
{
  int  layer;       /* node index */
  int  K, lh, lw;   /* channels, grid rows, grid columns */
  int  skip;        /* tokens before the grid: 1 for a class token, else 0 */
  bool tokens;      /* a token layer (N, E) */
} NnCamLayer;

/* Resolves `layer` (-1: the last spatial layer), checks it as nn_explain_check_layer does and
 * fills *view. False with err when the layer does not exist, does not feed the logits, has no
 * spatial extent, or is a token layer whose tokens form no square grid (saying why). */
bool        nn_cam_layer_resolve (const NnGraph *graph,
                                  int            layer,
                                  NnCamLayer    *view,
                                  NnError       *err);

/* The CAM's view (K, lh * lw) of sample 0 of the layer in ctx: its activations into A and,
 * unless G is NULL, its gradients into G (both K * lh * lw floats, copied). */
void        nn_cam_layer_read (NnContext        *ctx,
                               const NnCamLayer *view,
                               float            *A,
                               float            *G);

/* Sets channel k of the view to `value` in one sample of the layer's output, laid out as the
 * layer's own shape (a token layer: feature k of every patch token). */
void        nn_cam_layer_set_channel (const NnCamLayer *view,
                                      float            *sample,
                                      int               k,
                                      float             value);

/* Computes the map of input (C, H, W) on ctx, which the calling thread owns. Gradient methods
 * need a context made with NN_CONTEXT_BACKWARD; Score-CAM evaluates as many masked inputs per
 * pass as the context's batch holds, polling control->cancel before each pass. The context is
 * left in eval mode with no policy override. NULL with err on a bad layer or class, on
 * cancellation or when out of memory. */
NnMap      *nn_cam_compute (NnContext              *ctx,
                            const float            *input,
                            const NnCamSpec        *spec,
                            const NnExplainControl *control,
                            NnError                *err);

/* Eigen-CAM's projection (HW) of A (K, HW) on the first principal component of its channels
 * (power iteration on the K x K covariance); the sign makes it correlate positively with the
 * channel mean. False when out of memory. */
bool        nn_cam_eigen_projection (float       *map,
                                     const float *A,
                                     int          K,
                                     int          HW);
