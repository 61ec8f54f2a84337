/* SPDX-License-Identifier: MIT */
/* Input-space attribution: the input gradient, SmoothGrad, Integrated Gradients, Guided
 * Backprop and Guided Grad-CAM. Each keeps the per-channel attribution (NnMap.channels) and a
 * per-pixel map. The method registry (nn-method.h) declares each method's function,
 * nn_saliency_gradient and so on. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "explain/nn-cam.h"
#include "explain/nn-explain.h"

typedef enum
{
  NN_SALIENCY_GRADIENT,       /* map = max_c |dS/dx| (unsigned) */
  NN_SALIENCY_SMOOTHGRAD,     /* mean over noisy copies of max_c |dS/dx| (unsigned) */
  NN_SALIENCY_IG,             /* (x - x') * mean of dS/dx along the path; map = sum over c
                                 (signed; sums to about S (x) - S (x')) */
  NN_SALIENCY_GUIDED,         /* guided backprop gradient; map = max_c |g| */
  NN_SALIENCY_GUIDED_GRADCAM, /* guided gradient times the Grad-CAM map; map = max_c |.| */
  NN_SALIENCY_COUNT_
} NnSaliencyMethod;

typedef struct
{
  NnSaliencyMethod method;
  int              target;    /* class; -1: the top prediction */
  int              samples;   /* SmoothGrad's noisy copies (25), IG's steps (32) */
  float            noise;     /* SmoothGrad: sigma as a fraction of the input's range (0.15) */
  const float     *baseline;  /* IG: x' (C, H, W), borrowed; NULL: zeros */
  int              layer;     /* Guided Grad-CAM: Grad-CAM's layer (-1: the last spatial one) */
  uint64_t         seed;      /* SmoothGrad's noise */
} NnSaliencySpec;

void        nn_saliency_spec_init (NnSaliencySpec *spec);
/* "gradient", "smoothgrad", "ig", "guided", "guided-gradcam". */
const char *nn_saliency_method_name (NnSaliencyMethod method);
bool        nn_saliency_method_from_name (const char       *name,
                                          NnSaliencyMethod *method);

/* Computes the map of input (C, H, W) on ctx (made with NN_CONTEXT_BACKWARD, owned by the
 * calling thread). SmoothGrad and IG run as many samples per pass as the context's batch
 * holds, polling control->cancel before each pass. ReLUs backpropagate exactly, or guided for
 * the guided methods, whatever the model's own policies; the context is left without an
 * override. NULL with err on a bad class, cancellation or out of memory. */
NnMap      *nn_saliency_compute (NnContext              *ctx,
                                 const float            *input,
                                 const NnSaliencySpec   *spec,
                                 const NnExplainControl *control,
                                 NnError                *err);
