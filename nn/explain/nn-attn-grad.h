/* SPDX-License-Identifier: MIT */
/* Gradient-weighted attention of a vision transformer (Chefer, Gur and Wolf 2021, "Generic
 * Attention-model Explainability", their rule for self-attention encoders). */
#pragma once

#include "explain/nn-explain.h"

/* The relevance of the patch tokens for class `target` (-1: the top prediction) of input
 * (C, H, W) on ctx, which the calling thread owns and which has gradient buffers: for each
 * block's attention A (heads, N, N) (nn_rollout_attention_nodes) and the gradient dA of the
 * target's logit, Abar = the mean over heads of max (dA * A, 0) elementwise; R = I, then
 * R += Abar R through the blocks from the first; the class token's row of R over the patch
 * tokens (the mean of all rows when there is no class token) on their g x g grid, upsampled to
 * the input. block k >= 1 uses the k-th block's attention only (R = I + Abar: its row over the
 * patch tokens is Abar's); 0 uses all. m->layer is the last attention used. NULL with err when the
 * model has no attention ("no attention maps: attn-grad applies to vision transformers"), on
 * a block out of range, a context without gradients, a bad class, a NaN input or when out of
 * memory. The registry's row (nn-method.h) calls it as nn_attn_grad with spec->block. */
NnMap *nn_attn_grad_compute (NnContext   *ctx,
                             const float *input,
                             int          target,
                             int          block,
                             NnError     *err);
