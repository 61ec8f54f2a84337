/* SPDX-License-Identifier: MIT */
/* Winograd F(4x4, 3x3) for stride-1, dilation-1, ungrouped 3x3 convolutions: 36 sgemms per
 * sample (one per position of the 6x6 transform domain) instead of 9 per output pixel. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "ops/nn-conv2d.h"

/* Whether the geometry can run through Winograd: a 3x3 kernel, stride 1, dilation 1, no groups
 * and padding of at most 2 on every side (so that the input gradient is a padded convolution
 * too), unless no_winograd is set. */
bool nn_winograd_applies (const NnConvGeom *g);

/* Whether Winograd is faster than im2col for the forward pass, and for the input gradient, of
 * the geometry (nn_winograd_applies () and the measured rule in nn-winograd.c). The forward
 * rule does not look at OC, so that a share of the output channels takes the path the whole
 * takes. */
bool nn_winograd_pays_forward (const NnConvGeom *g);
bool nn_winograd_pays_backward (const NnConvGeom *g);
/* Whether the input gradient still pays through Winograd when the same backward computes the
 * weight gradient (training): only on larger maps (the rule in nn-winograd.c). */
bool nn_winograd_pays_beside_weights (const NnConvGeom *g);

/* Floats of scratch nn_winograd_forward and nn_winograd_backward_input need. */
size_t nn_winograd_scratch_size (const NnConvGeom *g);
/* Floats of scratch the packed functions need (the tiles and products, without the kernels). */
size_t nn_winograd_work_size (const NnConvGeom *g);

/* Floats of a packing of the transformed kernels (36 x OC x C). */
size_t nn_winograd_packed_size (const NnConvGeom *g);

/* The kernels of weight (OC, C, 3, 3) transformed for the forward pass, and for the input
 * gradient, into `packed` (nn_winograd_packed_size floats); a packing serves as long as the
 * weights do not change. */
void nn_winograd_pack_forward (float            *packed,
                               const float      *weight,
                               const NnConvGeom *g);
void nn_winograd_pack_backward (float            *packed,
                                const float      *weight,
                                const NnConvGeom *g);

/* Output channels [oc0, oc1) of out (B,OC,OH,OW) = conv (inp, weight) + bias (may be NULL) from
 * the forward packing; `scratch` holds nn_winograd_work_size floats. */
void nn_winograd_forward_packed (float            *out,
                                 float            *scratch,
                                 const float      *inp,
                                 const float      *packed,
                                 const float      *bias,
                                 const NnConvGeom *g,
                                 int               oc0,
                                 int               oc1);

/* dinp[:, c0 .. c1) += the input gradient of those channels, from the backward packing. */
void nn_winograd_backward_input_packed (float            *dinp,
                                        float            *scratch,
                                        const float      *dout,
                                        const float      *packed,
                                        const NnConvGeom *g,
                                        int               c0,
                                        int               c1);

/* The same, packing the kernels into the scratch first. */

/* out (B,OC,OH,OW) = conv (inp, weight) + bias (may be NULL), as nn_conv2d_forward, through
 * Winograd; only where nn_winograd_applies (). */
void nn_winograd_forward (float            *out,
                          float            *scratch,
                          const float      *inp,
                          const float      *weight,
                          const float      *bias,
                          const NnConvGeom *g);

/* dinp[:, c0 .. c1) += the input gradient of those channels (the correlation of dout with the
 * flipped, transposed kernel), through Winograd; only where nn_winograd_applies (). */
void nn_winograd_backward_input (float            *dinp,
                                 float            *scratch,
                                 const float      *dout,
                                 const float      *weight,
                                 const NnConvGeom *g,
                                 int               c0,
                                 int               c1);
