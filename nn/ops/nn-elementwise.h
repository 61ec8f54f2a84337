/* SPDX-License-Identifier: MIT */
/* Elementwise and channel-wise ops without parameters: add, mul, concat, softmax, dropout,
 * and the cross-entropy loss. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "core/nn-rng.h"

/* out (N) = a (N) + b (N). */
void nn_add_forward (float *out, const float *a, const float *b, size_t N);
/* da += dout, db += dout (either may be NULL). */
void nn_add_backward (float *da, float *db, const float *dout, size_t N);

/* out (N) = a (N) * b (N). */
void nn_mul_forward (float *out, const float *a, const float *b, size_t N);
/* da += dout * b, db += dout * a (either may be NULL). */
void nn_mul_backward (float *da, float *db, const float *dout, const float *a, const float *b,
                      size_t N);

/* out (B, sum C_i, HW) = concat over channels of inputs[i] (B, C_i, HW). */
void nn_concat_forward (float              *out,
                        const float *const *inputs,
                        const int          *channels,
                        int                 n_inputs,
                        int                 B,
                        int                 HW);
/* dinputs[i] += the slice of dout; NULL entries are skipped. */
void nn_concat_backward (float *const *dinputs,
                         const float  *dout,
                         const int    *channels,
                         int           n_inputs,
                         int           B,
                         int           HW);

/* out (B,N) = softmax over N of inp (B,N), computed stably. */
void nn_softmax_forward (float *out, const float *inp, int B, int N);
/* dinp += out * (dout - sum(dout * out)). */
void nn_softmax_backward (float *dinp, const float *dout, const float *out, int B, int N);

/* Inverted dropout: out = inp * mask / (1 - p) with mask ~ Bernoulli(1 - p), mask stored. */
void nn_dropout_forward (float *out, uint8_t *mask, const float *inp, size_t N, float p,
                         NnRng *rng);
void nn_dropout_backward (float *dinp, const float *dout, const uint8_t *mask, size_t N,
                          float p);

/* Mean cross-entropy of logits (B,N) against integer labels (B); returns the loss. When
 * dlogits is not NULL it receives (softmax - onehot) / B (overwritten, not accumulated: it
 * seeds the backward pass). `correct` (may be NULL) receives the count of argmax hits. */
float nn_cross_entropy (float       *dlogits,
                        int         *correct,
                        const float *logits,
                        const int   *labels,
                        int          B,
                        int          N);
