/* SPDX-License-Identifier: MIT */
/* Max, average and global average pooling with PyTorch's semantics for padding: padded cells
 * never win a max; for the average they count only with count_include_pad. */
#include "ops/nn-pool.h"

#include <math.h>
#include <stddef.h>

#include "core/nn-error.h"

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

/* b wins over the running maximum m when it is larger, or when it is a NaN and m is not. */
static inline int
max_takes (float b,
           float m)
{
  return b > m || (b != b && m == m);
}

/* The window of rows [h0, h1) and columns from w0 (clipped to the input), scanned in row-major
 * order: only a strictly larger value (or a first NaN) takes over, so ties go to the first
 * index and a NaN wins and stays, as in PyTorch. */
static void
max_window (float       *o,
            int32_t     *am,
            const float *x,
            int          h0,
            int          h1,
            int          w0,
            int          kw,
            int          W)
{
  int w1 = w0 + kw < W ? w0 + kw : W;
  if (w0 < 0)
    w0 = 0;
  int best = h0 * W + w0;
  float vbest = x[best];
  for (int h = h0; h < h1; h++)
    for (int w = w0; w < w1; w++)
      if (max_takes (x[h * W + w], vbest))
        {
          vbest = x[h * W + w];
          best = h * W + w;
        }
  *o = vbest;
  *am = best;
}

/* The same scan for the windows of columns [lo, hi), which lie inside the input's width, at
 * stride 2 over KH rows of KW cells from `row` (plane index `base`); KH and KW are constants
 * after inlining, so that gcc and clang vectorize the loop over the columns. */
static inline __attribute__ ((always_inline)) void
max_s2_rows (float       *restrict o,
             int32_t     *restrict am,
             const float *restrict row,
             int32_t                base,
             int                    W,
             int                    off,
             int                    lo,
             int                    hi,
             int                    KH,
             int                    KW)
{
  for (int ow = lo; ow < hi; ow++)
    {
      const float *p = row + 2 * ow + off;
      const int32_t i = base + 2 * ow + off;
      float m = p[0];
      int32_t at = i;
      for (int r = 0; r < KH; r++)
        for (int k = 0; k < KW; k++)
          {
            int t = max_takes (p[r * W + k], m);
            at = t ? i + r * W + k : at;
            m = t ? p[r * W + k] : m;
          }
      o[ow] = m;
      am[ow] = at;
    }
}

/* max_s2_rows for the windows of one output row: `rows` (1 to 3) rows of 2 or 3 cells. */
static void
max_s2 (float       *o,
        int32_t     *am,
        const float *row,
        int32_t      base,
        int          W,
        int          off,
        int          lo,
        int          hi,
        int          rows,
        int          kw)
{
  switch (rows * 4 + kw)
    {
    case 1 * 4 + 2:
      max_s2_rows (o, am, row, base, W, off, lo, hi, 1, 2);
      break;
    case 2 * 4 + 2:
      max_s2_rows (o, am, row, base, W, off, lo, hi, 2, 2);
      break;
    case 1 * 4 + 3:
      max_s2_rows (o, am, row, base, W, off, lo, hi, 1, 3);
      break;
    case 2 * 4 + 3:
      max_s2_rows (o, am, row, base, W, off, lo, hi, 2, 3);
      break;
    case 3 * 4 + 3:
      max_s2_rows (o, am, row, base, W, off, lo, hi, 3, 3);
      break;
    default:
      NN_ASSERT (!"no stride-2 loop for this window");
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
  /* Columns [lo, hi) have their whole window inside the input's width: in the common
   * downsampling windows (2x2 or 3x3 at stride 2, or 2x3) they go through max_s2 (). */
  int lo = 0, hi = 0;
  if (a->sw == 2 && (a->kw == 2 || a->kw == 3) && a->kh <= 3 && a->kh <= a->kw)
    {
      lo = (a->pad_l + 1) / 2;
      hi = W + a->pad_l - a->kw >= 0 ? (W + a->pad_l - a->kw) / 2 + 1 : 0;
      lo = lo < OW ? lo : OW;
      hi = hi < OW ? hi : OW;
      hi = hi > lo ? hi : lo;
    }
  for (size_t bc = 0; bc < (size_t) B * (size_t) C; bc++)
    {
      const float *x = inp + bc * (size_t) H * (size_t) W;
      float *o = out + bc * (size_t) OH * (size_t) OW;
      int32_t *am = argmax + bc * (size_t) OH * (size_t) OW;
      for (int oh = 0; oh < OH; oh++)
        {
          int h0 = oh * a->sh - a->pad_t;
          int h1 = h0 + a->kh < H ? h0 + a->kh : H;
          if (h0 < 0)
            h0 = 0;
          float *orow = o + (size_t) oh * OW;
          int32_t *arow = am + (size_t) oh * OW;
          for (int ow = 0; ow < lo; ow++)
            max_window (orow + ow, arow + ow, x, h0, h1, ow * a->sw - a->pad_l, a->kw, W);
          for (int ow = hi; ow < OW; ow++)
            max_window (orow + ow, arow + ow, x, h0, h1, ow * a->sw - a->pad_l, a->kw, W);
          if (lo < hi)
            max_s2 (orow, arow, x + (size_t) h0 * W, h0 * W, W, -a->pad_l, lo, hi, h1 - h0, a->kw);
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
