/* SPDX-License-Identifier: MIT */
/* Fully connected layer through OpenBLAS sgemm. Sizes: B batch, IN input features,
 * OUT output features. */
#pragma once

/* out (B,OUT) = inp (B,IN) weight^T (IN,OUT) + bias (OUT); bias may be NULL. */
void nn_linear_forward (float       *out,
                        const float *inp,
                        const float *weight,
                        const float *bias,
                        int          B,
                        int          IN,
                        int          OUT);

/* Accumulates dinp (B,IN), dweight (OUT,IN), dbias (OUT); each may be NULL. */
void nn_linear_backward (float       *dinp,
                         float       *dweight,
                         float       *dbias,
                         const float *dout,
                         const float *inp,
                         const float *weight,
                         int          B,
                         int          IN,
                         int          OUT);

/* The rows [o0, o1) of nn_linear_backward's dweight and dbias: outputs o0 to o1 - 1 only, so
 * that threads may share the outputs without private copies. */
void nn_linear_backward_params (float       *dweight,
                                float       *dbias,
                                const float *dout,
                                const float *inp,
                                int          B,
                                int          IN,
                                int          OUT,
                                int          o0,
                                int          o1);
