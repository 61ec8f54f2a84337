/* SPDX-License-Identifier: MIT */
/* Per-channel scale-and-shift, PReLU and constant padding, forward and backward. */
#include "ops/nn-channelwise.h"

#include <stddef.h>

#include "core/nn-error.h"

void
nn_scale_forward (float       *out,
                  const float *inp,
                  const float *weight,
                  const float *bias,
                  int          B,
                  int          C,
                  int          HW)
{
  NN_ASSERT (out && inp && weight && bias);
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++)
      {
        const size_t o = ((size_t) b * C + c) * HW;
        const float w = weight[c], s = bias[c];
        for (int i = 0; i < HW; i++)
          out[o + i] = inp[o + i] * w + s;
      }
}

void
nn_scale_backward (float       *dinp,
                   float       *dweight,
                   float       *dbias,
                   const float *dout,
                   const float *inp,
                   const float *weight,
                   int          B,
                   int          C,
                   int          HW)
{
  NN_ASSERT (dout && inp && weight);
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++)
      {
        const size_t o = ((size_t) b * C + c) * HW;
        float sw = 0.0f, sb = 0.0f;
        for (int i = 0; i < HW; i++)
          {
            sw += dout[o + i] * inp[o + i];
            sb += dout[o + i];
          }
        if (dinp)
          for (int i = 0; i < HW; i++)
            dinp[o + i] += dout[o + i] * weight[c];
        if (dweight)
          dweight[c] += sw;
        if (dbias)
          dbias[c] += sb;
      }
}

void
nn_prelu_forward (float       *out,
                  const float *inp,
                  const float *weight,
                  int          B,
                  int          C,
                  int          HW)
{
  NN_ASSERT (out && inp && weight);
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++)
      {
        const size_t o = ((size_t) b * C + c) * HW;
        const float a = weight[c];
        for (int i = 0; i < HW; i++)
          out[o + i] = inp[o + i] > 0.0f ? inp[o + i] : a * inp[o + i];
      }
}

void
nn_prelu_backward (float       *dinp,
                   float       *dweight,
                   const float *dout,
                   const float *inp,
                   const float *weight,
                   int          B,
                   int          C,
                   int          HW)
{
  NN_ASSERT (dout && inp && weight);
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++)
      {
        const size_t o = ((size_t) b * C + c) * HW;
        const float a = weight[c];
        float sa = 0.0f;
        for (int i = 0; i < HW; i++)
          {
            const float x = inp[o + i];
            if (x <= 0.0f)
              sa += dout[o + i] * x;
            if (dinp)
              dinp[o + i] += x > 0.0f ? dout[o + i] : a * dout[o + i];
          }
        if (dweight)
          dweight[c] += sa;
      }
}

void
nn_pad_forward (float       *out,
                const float *inp,
                int          B,
                int          C,
                int          H,
                int          W,
                int          PT,
                int          PL,
                int          PB,
                int          PR,
                float        value)
{
  NN_ASSERT (out && inp);
  const int OH = H + PT + PB, OW = W + PL + PR;
  for (int bc = 0; bc < B * C; bc++)
    {
      const float *src = inp + (size_t) bc * H * W;
      float *dst = out + (size_t) bc * OH * OW;
      for (int y = 0; y < OH; y++)
        for (int x = 0; x < OW; x++)
          {
            const int iy = y - PT, ix = x - PL;
            dst[(size_t) y * OW + x] = iy >= 0 && iy < H && ix >= 0 && ix < W
                                       ? src[(size_t) iy * W + ix] : value;
          }
    }
}

void
nn_pad_backward (float       *dinp,
                 const float *dout,
                 int          B,
                 int          C,
                 int          H,
                 int          W,
                 int          PT,
                 int          PL,
                 int          PB,
                 int          PR)
{
  NN_ASSERT (dinp && dout);
  const int OH = H + PT + PB, OW = W + PL + PR;
  for (int bc = 0; bc < B * C; bc++)
    {
      float *dst = dinp + (size_t) bc * H * W;
      const float *src = dout + (size_t) bc * OH * OW;
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          dst[(size_t) y * W + x] += src[(size_t) (y + PT) * OW + x + PL];
    }
}
