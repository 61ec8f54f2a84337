/* SPDX-License-Identifier: MIT */
/* Max, average and global average pooling over NCHW tensors. Sizes: B batch, C channels,
 * H W input, OH OW output; window and padding in NnPoolAttrs. Padded cells never win a max
 * and count for the average only when count_include_pad is set. */
#pragma once

#include <stdint.h>

#include <stdbool.h>

typedef struct
{
  int  kh, kw;
  int  sh, sw;
  int  pad_t, pad_l, pad_b, pad_r;
  bool count_include_pad;  /* average pooling only */
} NnPoolAttrs;

/* out (B,C,OH,OW) = max over the window of inp (B,C,H,W); argmax (B,C,OH,OW) keeps the index
 * of the winner within its (H,W) plane for the backward pass. */
void nn_maxpool_forward (float             *out,
                         int32_t           *argmax,
                         const float       *inp,
                         const NnPoolAttrs *attrs,
                         int                B,
                         int                C,
                         int                H,
                         int                W,
                         int                OH,
                         int                OW);

/* Accumulates dinp (B,C,H,W) from dout (B,C,OH,OW). */
void nn_maxpool_backward (float         *dinp,
                          const float   *dout,
                          const int32_t *argmax,
                          int            B,
                          int            C,
                          int            H,
                          int            W,
                          int            OH,
                          int            OW);

void nn_avgpool_forward (float             *out,
                         const float       *inp,
                         const NnPoolAttrs *attrs,
                         int                B,
                         int                C,
                         int                H,
                         int                W,
                         int                OH,
                         int                OW);

void nn_avgpool_backward (float             *dinp,
                          const float       *dout,
                          const NnPoolAttrs *attrs,
                          int                B,
                          int                C,
                          int                H,
                          int                W,
                          int                OH,
                          int                OW);

/* out (B,C) = mean over HW of inp (B,C,HW). */
void nn_global_avgpool_forward (float       *out,
                                const float *inp,
                                int          B,
                                int          C,
                                int          HW);

void nn_global_avgpool_backward (float       *dinp,
                                 const float *dout,
                                 int          B,
                                 int          C,
                                 int          HW);
