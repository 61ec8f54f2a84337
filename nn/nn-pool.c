/* SPDX-License-Identifier: MIT */
/* Max, average and global average pooling with PyTorch's semantics for padding: padded cells
 * never win a max; for the average they count only with count_include_pad. */
#include "nn-pool.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "nn-error.h"

/* Every window must overlap the input: its first row (column) lies above the last input row
 * (column) and padding is smaller than the kernel, so the max is always over real cells. */
static void
check_geometry (const NnPoolAttrs *a,
                int                B,
                int                C,
                int                H,
                int                W,
                int                OH,
                int                OW)
{
  NN_ASSERT (a != NULL);
  NN_ASSERT (B > 0 && C > 0 && H > 0 && W > 0 && OH > 0 && OW > 0);
  NN_ASSERT (a->kh > 0 && a->kw > 0 && a->sh > 0 && a->sw > 0);
  NN_ASSERT (a->pad_t >= 0 && a->pad_l >= 0 && a->pad_b >= 0 && a->pad_r >= 0);
  NN_ASSERT (a->pad_t < a->kh && a->pad_l < a->kw);
  NN_ASSERT ((OH - 1) * a->sh - a->pad_t < H && (OW - 1) * a->sw - a->pad_l < W);
}

/* b wins over the running maximum m when it is larger, or when it is a NaN and m is not: the
 * rule of the general loop, in a form that lets the 2x2 loop vectorize. */
static inline int
max_takes (float b,
           float m)
{
  return b > m || (b != b && m == m);
}

/* One output row of a 2x2 stride-2 window without padding, from input rows x0 and x1 (row 2oh
 * starting at plane index `base`); every window lies inside the input. */
static void
max2x2_row (float       *restrict o,
            int32_t     *restrict am,
            const float *restrict x0,
            const float *restrict x1,
            int32_t                base,
            int                    W,
            int                    OW)
{
  for (int ow = 0; ow < OW; ow++)
    {
      float m = x0[2 * ow], b = x0[2 * ow + 1], c = x1[2 * ow], d = x1[2 * ow + 1];
      int32_t at = 0;
      at = max_takes (b, m) ? 1 : at;
      m = max_takes (b, m) ? b : m;
      at = max_takes (c, m) ? W : at;
      m = max_takes (c, m) ? c : m;
      at = max_takes (d, m) ? W + 1 : at;
      m = max_takes (d, m) ? d : m;
      o[ow] = m;
      am[ow] = base + 2 * ow + at;
    }
}

void
nn_maxpool_forward (float             *out,
                    int32_t           *argmax,
                    const float       *inp,
                    const NnPoolAttrs *attrs,
                    int                B,
                    int                C,
                    int                H,
                    int                W,
                    int                OH,
                    int                OW)
{
  NN_ASSERT (out && argmax && inp);
  check_geometry (attrs, B, C, H, W, OH, OW);
  const NnPoolAttrs *a = attrs;
  const bool fast = a->kh == 2 && a->kw == 2 && a->sh == 2 && a->sw == 2 && a->pad_t == 0
                    && a->pad_l == 0 && 2 * OH <= H && 2 * OW <= W;
  for (size_t bc = 0; bc < (size_t) B * (size_t) C; bc++)
    {
      const float *x = inp + bc * (size_t) H * (size_t) W;
      float *o = out + bc * (size_t) OH * (size_t) OW;
      int32_t *am = argmax + bc * (size_t) OH * (size_t) OW;
      if (fast)
        {
          for (int oh = 0; oh < OH; oh++)
            max2x2_row (o + (size_t) oh * OW, am + (size_t) oh * OW, x + (size_t) 2 * oh * W,
                        x + (size_t) (2 * oh + 1) * W, 2 * oh * W, W, OW);
          continue;
        }
      for (int oh = 0; oh < OH; oh++)
        {
          int h0 = oh * a->sh - a->pad_t;
          int h1 = h0 + a->kh < H ? h0 + a->kh : H;
          if (h0 < 0)
            h0 = 0;
          for (int ow = 0; ow < OW; ow++)
            {
              int w0 = ow * a->sw - a->pad_l;
              int w1 = w0 + a->kw < W ? w0 + a->kw : W;
              if (w0 < 0)
                w0 = 0;
              /* Scan in row-major order and replace only on a strictly larger value, so ties
               * go to the first index; a NaN wins and stays, as in PyTorch. */
              int best = h0 * W + w0;
              float vbest = x[best];
              for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++)
                  {
                    float v = x[h * W + w];
                    if (v > vbest || (isnan (v) && !isnan (vbest)))
                      {
                        vbest = v;
                        best = h * W + w;
                      }
                  }
              o[oh * OW + ow] = vbest;
              am[oh * OW + ow] = best;
            }
        }
    }
}

void
nn_maxpool_backward (float         *dinp,
                     const float   *dout,
                     const int32_t *argmax,
                     int            B,
                     int            C,
                     int            H,
                     int            W,
                     int            OH,
                     int            OW)
{
  NN_ASSERT (dinp && dout && argmax);
  NN_ASSERT (B > 0 && C > 0 && H > 0 && W > 0 && OH > 0 && OW > 0);
  const size_t plane = (size_t) OH * (size_t) OW;
  for (size_t bc = 0; bc < (size_t) B * (size_t) C; bc++)
    {
      float *dx = dinp + bc * (size_t) H * (size_t) W;
      const float *dy = dout + bc * plane;
      const int32_t *am = argmax + bc * plane;
      for (size_t k = 0; k < plane; k++)
        dx[am[k]] += dy[k];
    }
}

/* The window of output (oh, ow) clipped to the input, and the divisor of its average:
 * PyTorch's count_include_pad counts the cells of the window that lie within the padded
 * input (all of them unless the window runs past the bottom/right padding), otherwise only
 * the in-bounds cells. */
typedef struct
{
  int   h0, h1, w0, w1;
  float inv_count;
} PoolWindow;

static PoolWindow
avg_window (const NnPoolAttrs *a,
            int                H,
            int                W,
            int                oh,
            int                ow)
{
  PoolWindow win;
  int h0 = oh * a->sh - a->pad_t;
  int w0 = ow * a->sw - a->pad_l;
  int h1 = h0 + a->kh < H + a->pad_b ? h0 + a->kh : H + a->pad_b;
  int w1 = w0 + a->kw < W + a->pad_r ? w0 + a->kw : W + a->pad_r;
  int padded = (h1 - h0) * (w1 - w0);
  win.h0 = h0 > 0 ? h0 : 0;
  win.w0 = w0 > 0 ? w0 : 0;
  win.h1 = h1 < H ? h1 : H;
  win.w1 = w1 < W ? w1 : W;
  int count = a->count_include_pad ? padded : (win.h1 - win.h0) * (win.w1 - win.w0);
  win.inv_count = 1.0f / (float) count;
  return win;
}

void
nn_avgpool_forward (float             *out,
                    const float       *inp,
                    const NnPoolAttrs *attrs,
                    int                B,
                    int                C,
                    int                H,
                    int                W,
                    int                OH,
                    int                OW)
{
  NN_ASSERT (out && inp);
  check_geometry (attrs, B, C, H, W, OH, OW);
  for (size_t bc = 0; bc < (size_t) B * (size_t) C; bc++)
    {
      const float *x = inp + bc * (size_t) H * (size_t) W;
      float *o = out + bc * (size_t) OH * (size_t) OW;
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++)
          {
            PoolWindow win = avg_window (attrs, H, W, oh, ow);
            float sum = 0.0f;
            for (int h = win.h0; h < win.h1; h++)
              for (int w = win.w0; w < win.w1; w++)
                sum += x[h * W + w];
            o[oh * OW + ow] = sum * win.inv_count;
          }
    }
}

void
nn_avgpool_backward (float             *dinp,
                     const float       *dout,
                     const NnPoolAttrs *attrs,
                     int                B,
                     int                C,
                     int                H,
                     int                W,
                     int                OH,
                     int                OW)
{
  NN_ASSERT (dinp && dout);
  check_geometry (attrs, B, C, H, W, OH, OW);
  for (size_t bc = 0; bc < (size_t) B * (size_t) C; bc++)
    {
      float *dx = dinp + bc * (size_t) H * (size_t) W;
      const float *dy = dout + bc * (size_t) OH * (size_t) OW;
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++)
          {
            PoolWindow win = avg_window (attrs, H, W, oh, ow);
            float g = dy[oh * OW + ow] * win.inv_count;
            for (int h = win.h0; h < win.h1; h++)
              for (int w = win.w0; w < win.w1; w++)
                dx[h * W + w] += g;
          }
    }
}

void
nn_global_avgpool_forward (float       *out,
                           const float *inp,
                           int          B,
                           int          C,
                           int          HW)
{
  NN_ASSERT (out && inp && B > 0 && C > 0 && HW > 0);
  const float inv = 1.0f / (float) HW;
  for (size_t bc = 0; bc < (size_t) B * (size_t) C; bc++)
    {
      const float *x = inp + bc * (size_t) HW;
      float sum = 0.0f;
      for (int k = 0; k < HW; k++)
        sum += x[k];
      out[bc] = sum * inv;
    }
}

void
nn_global_avgpool_backward (float       *dinp,
                            const float *dout,
                            int          B,
                            int          C,
                            int          HW)
{
  NN_ASSERT (dinp && dout && B > 0 && C > 0 && HW > 0);
  const float inv = 1.0f / (float) HW;
  for (size_t bc = 0; bc < (size_t) B * (size_t) C; bc++)
    {
      float *dx = dinp + bc * (size_t) HW;
      float g = dout[bc] * inv;
      for (int k = 0; k < HW; k++)
        dx[k] += g;
    }
}
