/* SPDX-License-Identifier: MIT */
/* Ops with one parameter per channel: scale-and-shift (what constant Mul, Add, Sub and Div of
 * an ONNX graph become) and PReLU. Shapes are (B, C, HW). */
#pragma once

/* out (B,C,HW) = inp * weight[c] + bias[c]. */
void nn_scale_forward (float       *out,
                       const float *inp,
                       const float *weight,
                       const float *bias,
                       int          B,
                       int          C,
                       int          HW);
/* dinp += dout * weight[c]; dweight[c] += sum dout * inp; dbias[c] += sum dout (any may be
 * NULL). */
void nn_scale_backward (float       *dinp,
                        float       *dweight,
                        float       *dbias,
                        const float *dout,
                        const float *inp,
                        const float *weight,
                        int          B,
                        int          C,
                        int          HW);

/* out (B,C,HW) = inp > 0 ? inp : weight[c] * inp. */
void nn_prelu_forward (float       *out,
                       const float *inp,
                       const float *weight,
                       int          B,
                       int          C,
                       int          HW);
/* dinp += dout * (inp > 0 ? 1 : weight[c]); dweight[c] += sum over inp <= 0 of dout * inp
 * (either may be NULL). */
void nn_prelu_backward (float       *dinp,
                        float       *dweight,
                        const float *dout,
                        const float *inp,
                        const float *weight,
                        int          B,
                        int          C,
                        int          HW);

/* out (B,C,H+PT+PB,W+PL+PR) = inp (B,C,H,W) surrounded by `value`. */
void nn_pad_forward (float       *out,
                     const float *inp,
                     int          B,
                     int          C,
                     int          H,
                     int          W,
                     int          PT,
                     int          PL,
                     int          PB,
                     int          PR,
                     float        value);
/* dinp (B,C,H,W) += the inner window of dout. */
void nn_pad_backward (float       *dinp,
                      const float *dout,
                      int          B,
                      int          C,
                      int          H,
                      int          W,
                      int          PT,
                      int          PL,
                      int          PB,
                      int          PR);
