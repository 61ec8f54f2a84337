/* SPDX-License-Identifier: MIT */
/* What the attribution methods in their own files (occlusion, AblationCAM, FullGrad,
 * Eigen-Grad-CAM, GradientSHAP, DeepLIFT, LRP) share: the first forward pass with the map it
 * starts, and the bounds of an input. */
#pragma once

#include <stdbool.h>

#include "explain/nn-explain.h"

/* Runs nn_explain_prepare on input (C, H, W) (resolving *target) and returns a zeroed map of
 * lh x lw at the layer, H x W at the input and c channels carrying the logits, target and
 * score; NULL with err on a bad class or input, or when out of memory. */
NnMap *nn_attribution_begin (NnContext   *ctx,
                             const float *input,
                             int         *target,
                             int          lh,
                             int          lw,
                             int          c,
                             NnError     *err);

/* map (HW) += sum over the c channels of channels (c, HW). */
void   nn_attribution_sum_channels (float       *map,
                                    const float *channels,
                                    int          c,
                                    size_t       hw);

/* After a forward pass of sample 0: the gradient of the target logit at `stop` (-1: down to
 * the input) under the exact ReLU derivative, in nn_context_grad (ctx, stop). */
void   nn_attribution_backward (NnContext *ctx,
                                int        target,
                                int        stop);

/* A CAM's last steps: the map at the input (m->map) from m->layer_map, through a ReLU unless
 * keep_negative, upsampled bilinearly. False when out of memory. */
bool   nn_attribution_finish_cam (NnMap *m,
                                  bool   keep_negative);

/* False with err (naming the method) when ctx has no gradient buffers. */
bool   nn_attribution_check_gradients (NnContext  *ctx,
                                       const char *name,
                                       NnError    *err);
