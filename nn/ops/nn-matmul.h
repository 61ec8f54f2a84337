/* SPDX-License-Identifier: MIT */
/* Matrix products of tensors: a stack of products of two run-time matrices (attention's Q K^T
 * and A V), one sgemm per matrix of the stack, and the softmax along one axis. */
#pragma once

#include <stddef.h>

/* out (S, M, N) = a (S, M, K) b (S, K, N): S products. */
void nn_matmul_forward (float       *out,
                        const float *a,
                        const float *b,
                        size_t       S,
                        int          M,
                        int          K,
                        int          N);

/* Accumulates da (S, M, K) += dout b^T and db (S, K, N) += a^T dout; either may be NULL. */
void nn_matmul_backward (float       *da,
                         float       *db,
                         const float *dout,
                         const float *a,
                         const float *b,
                         size_t       S,
                         int          M,
                         int          K,
                         int          N);

/* out (outer, n, inner) = the softmax of inp (outer, n, inner) along its middle axis, computed
 * stably (the maximum subtracted). */
void nn_softmax_axis_forward (float       *out,
                              const float *inp,
                              size_t       outer,
                              int          n,
                              size_t       inner);

/* Accumulates dinp += out (dout - sum_n (dout out)) along the middle axis. */
void nn_softmax_axis_backward (float       *dinp,
                               const float *dout,
                               const float *out,
                               size_t       outer,
                               int          n,
                               size_t       inner);
