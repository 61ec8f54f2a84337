/* SPDX-License-Identifier: MIT */
/* 2-D convolution: im2col + sgemm per sample, group and band of output rows; sgemm straight
 * on the input for 1x1 stride-1 unpadded kernels; direct loops for depthwise convolution. */
#include "ops/nn-conv2d.h"

#include <cblas.h>
#include <stdbool.h>
#include <string.h>

#include "core/nn-error.h"
#include "ops/nn-winograd.h"

/* Floor of a / b for b > 0 and any sign of a. */
static inline int
div_floor (int a,
           int b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Output positions o in [*lo, *hi) whose input position o * stride + off lies in [0, n_in). */
static inline void
valid_range (int *lo,
             int *hi,
             int  off,
             int  stride,
             int  n_in,
             int  n_out)
{
  int a, b;
  if (stride == 1)
    {
      a = -off;
      b = n_in - off;
    }
  else
    {
      a = -div_floor (off, stride);
      b = div_floor (n_in - 1 - off, stride) + 1;
    }
  *lo = a < 0 ? 0 : (a > n_out ? n_out : a);
  *hi = b > n_out ? n_out : b;
  if (*hi < *lo)
    *hi = *lo;
}

static int
out_size (int in,
          int k,
          int s,
          int pa,
          int pb,
          int dil)
{
  long num = (long) in + pa + pb - ((long) dil * (k - 1) + 1);
  return num < 0 ? 0 : (int) (num / s + 1);
}

static void
geom_check (const NnConvGeom *g)
{
  NN_ASSERT (g != NULL);
  NN_ASSERT (g->B > 0 && g->C > 0 && g->H > 0 && g->W > 0 && g->OC > 0);
  NN_ASSERT (g->KH > 0 && g->KW > 0 && g->SH > 0 && g->SW > 0 && g->DH > 0 && g->DW > 0);
  NN_ASSERT (g->PT >= 0 && g->PL >= 0 && g->PB >= 0 && g->PR >= 0);
  NN_ASSERT (g->G > 0 && g->C % g->G == 0 && g->OC % g->G == 0);
  NN_ASSERT (g->OH > 0 && g->OH == out_size (g->H, g->KH, g->SH, g->PT, g->PB, g->DH));
  NN_ASSERT (g->OW > 0 && g->OW == out_size (g->W, g->KW, g->SW, g->PL, g->PR, g->DW));
}

/* Grouped with one input channel per group (depthwise): direct loops beat G small gemms
 * with K = KH*KW. A single input channel without groups is one well-shaped gemm instead. */
static bool
is_direct (const NnConvGeom *g)
{
  return g->C == g->G && g->G > 1;
}

/* A 1x1 kernel at stride 1 without padding: the input already is the im2col matrix. */
static bool
is_pointwise (const NnConvGeom *g)
{
  return g->KH == 1 && g->KW == 1 && g->SH == 1 && g->SW == 1
         && g->PT == 0 && g->PL == 0 && g->PB == 0 && g->PR == 0;
}

/* y[i] += a * x[i]; unrolled so that gcc vectorizes it at -O2. */
static inline void
axpy (float       *restrict y,
      const float *restrict x,
      float                 a,
      int                   n)
{
  int i = 0;
  for (; i + 4 <= n; i += 4)
    {
      y[i] += a * x[i];
      y[i + 1] += a * x[i + 1];
      y[i + 2] += a * x[i + 2];
      y[i + 3] += a * x[i + 3];
    }
  for (; i < n; i++)
    y[i] += a * x[i];
}

/* y[i * incy] += a * x[i] for a strided destination. */
static inline void
axpy_strided (float       *restrict y,
              int                   incy,
              const float *restrict x,
              float                 a,
              int                   n)
{
  for (int i = 0; i < n; i++)
    y[(size_t) i * incy] += a * x[i];
}

/* Adds x[i * incx] * y[i] to the four partial sums acc, which gcc keeps in one vector
 * register; they carry across calls so that short rows do not pay for a reduction each. */
static inline void
dot_add (float                 acc[4],
         const float *restrict x,
         int                   incx,
         const float *restrict y,
         int                   n)
{
  float s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
  int i = 0;
  if (incx == 1)
    for (; i + 4 <= n; i += 4)
      {
        s0 += x[i] * y[i];
        s1 += x[i + 1] * y[i + 1];
        s2 += x[i + 2] * y[i + 2];
        s3 += x[i + 3] * y[i + 3];
      }
  for (; i < n; i++)
    s0 += x[(size_t) i * incx] * y[i];
  acc[0] = s0;
  acc[1] = s1;
  acc[2] = s2;
  acc[3] = s3;
}

/* y[i] = v; unrolled so that gcc vectorizes it at -O2. */
static inline void
fill (float *y,
      float  v,
      int    n)
{
  int i = 0;
  for (; i + 4 <= n; i += 4)
    {
      y[i] = v;
      y[i + 1] = v;
      y[i + 2] = v;
      y[i + 3] = v;
    }
  for (; i < n; i++)
    y[i] = v;
}

/* Sum of x[i], with four partial sums that gcc keeps in one vector register. */
static inline float
sum (const float *x,
     int          n)
{
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  int i = 0;
  for (; i + 4 <= n; i += 4)
    {
      s0 += x[i];
      s1 += x[i + 1];
      s2 += x[i + 2];
      s3 += x[i + 3];
    }
  for (; i < n; i++)
    s0 += x[i];
  return (s0 + s1) + (s2 + s3);
}

/* dst[i] = src[i * stride]; stride 2, common in downsampling layers, gets an unrolled loop. */
static inline void
gather (float       *restrict dst,
        const float *restrict src,
        int                   stride,
        int                   n)
{
  int i = 0;
  if (stride == 2)
    for (; i + 4 <= n; i += 4)
      {
        dst[i] = src[2 * i];
        dst[i + 1] = src[2 * i + 2];
        dst[i + 2] = src[2 * i + 4];
        dst[i + 3] = src[2 * i + 6];
      }
  for (; i < n; i++)
    dst[i] = src[(size_t) i * stride];
}

/* Stride 1 and as wide as the input: row oh of a tap's col row is input row oh + off_h
 * shifted by off_w, so the valid rows of each tap are one contiguous run of the input. */
static bool
is_row_aligned (const NnConvGeom *g)
{
  return g->SH == 1 && g->SW == 1 && g->OW == g->W;
}

/* Zeroes columns [0, w_lo) and [w_hi, OW) of rows [r_lo, r_hi) of a tap's band.
 * Column-wise, so that gcc does not turn one- or two-float fills into memset calls. */
static inline void
zero_border_columns (float *band,
                     int    r_lo,
                     int    r_hi,
                     int    w_lo,
                     int    w_hi,
                     int    OW)
{
  for (int ow = 0; ow < w_lo; ow++)
    for (int r = r_lo; r < r_hi; r++)
      band[(size_t) r * OW + ow] = 0.0f;
  for (int ow = w_hi; ow < OW; ow++)
    for (int r = r_lo; r < r_hi; r++)
      band[(size_t) r * OW + ow] = 0.0f;
}

/* When is_row_aligned (): output rows [h_lo, h_hi) of a tap read the input run
 * [*first, *first + *n), which lands at band offset *at for a band starting at row oh0.
 * The run is clipped to the plane; what falls outside belongs to the border columns. */
static inline void
aligned_run (long *first,
             long *n,
             long *at,
             int   h_lo,
             int   h_hi,
             int   oh0,
             int   off_h,
             int   off_w,
             int   H,
             int   W)
{
  long shift = (long) off_h * W + off_w;
  long lo = (long) h_lo * W, hi = (long) h_hi * W;
  if (lo + shift < 0)
    lo = -shift;
  if (hi + shift > (long) H * W)
    hi = (long) H * W - shift;
  *first = lo + shift;
  *n = hi > lo ? hi - lo : 0;
  *at = lo - (long) oh0 * W;
}

/* Output rows per band of the im2col matrix. A band of about 64 K floats stays in L2 between
 * im2col and the gemm that reads it; it is kept at 256 columns or more, below which the gemm
 * slows down. */
static int
band_rows (const NnConvGeom *g)
{
  const size_t K = (size_t) (g->C / g->G) * g->KH * g->KW;
  size_t rows = 65536 / (K * g->OW);
  size_t min_rows = (256 + (size_t) g->OW - 1) / g->OW;
  if (rows < min_rows)
    rows = min_rows;
  return rows < (size_t) g->OH ? (int) rows : g->OH;
}

/* The im2col band, and with `packed` false the room for Winograd's kernels besides its work. */
static size_t
scratch_size (const NnConvGeom *g,
              bool              packed)
{
  geom_check (g);
  if (is_direct (g) || is_pointwise (g))
    return 0;
  const size_t s = (size_t) (g->C / g->G) * g->KH * g->KW * (size_t) band_rows (g) * g->OW;
  if (!nn_winograd_pays_forward (g) && !nn_winograd_pays_backward (g))
    return s;
  const size_t w = packed ? nn_winograd_work_size (g) : nn_winograd_scratch_size (g);
  return w > s ? w : s;
}

size_t
nn_conv2d_scratch_size (const NnConvGeom *g)
{
  return scratch_size (g, false);
}

size_t
nn_conv2d_scratch_size_packed (const NnConvGeom *g)
{
  return scratch_size (g, true);
}

/* Output rows [*h_lo, *h_hi) of the band [oh0, oh1) whose input row oh*SH + off_h exists. */
static inline void
band_range (int              *h_lo,
            int              *h_hi,
            int               off_h,
            int               oh0,
            int               oh1,
            const NnConvGeom *g)
{
  valid_range (h_lo, h_hi, off_h, g->SH, g->H, g->OH);
  if (*h_lo < oh0)
    *h_lo = oh0;
  if (*h_hi > oh1)
    *h_hi = oh1;
  if (*h_hi < *h_lo)
    *h_hi = *h_lo;
}

/* col (Cg*KH*KW, (oh1-oh0)*OW) = the receptive fields of output rows [oh0, oh1) over
 * inp (Cg,H,W), one group of one sample; padding reads as zero. Row (c,kh,kw), column
 * (oh-oh0,ow) holds inp[c][oh*SH-PT+kh*DH][ow*SW-PL+kw*DW]. */
static void
im2col (float            *restrict col,
        const float      *restrict inp,
        int                         Cg,
        int                         oh0,
        int                         oh1,
        const NnConvGeom           *g)
{
  const int OW = g->OW, R = oh1 - oh0, SW = g->SW;
  const size_t NB = (size_t) R * OW;
  const bool aligned = is_row_aligned (g);
  for (int c = 0; c < Cg; c++)
    for (int kh = 0; kh < g->KH; kh++)
      {
        const int off_h = kh * g->DH - g->PT;
        int h_lo, h_hi;
        band_range (&h_lo, &h_hi, off_h, oh0, oh1, g);
        for (int kw = 0; kw < g->KW; kw++)
          {
            const int off_w = kw * g->DW - g->PL;
            int w_lo, w_hi;
            valid_range (&w_lo, &w_hi, off_w, SW, g->W, OW);
            const float *plane = inp + (size_t) c * g->H * g->W;
            float *band = col + ((size_t) (c * g->KH + kh) * g->KW + kw) * NB;
            int r_lo = h_lo - oh0, r_hi = h_hi - oh0;
            if (w_lo == w_hi) /* no valid column: all of it is padding */
              r_hi = r_lo;
            memset (band, 0, sizeof (float) * (size_t) r_lo * OW);
            memset (band + (size_t) r_hi * OW, 0, sizeof (float) * (size_t) (R - r_hi) * OW);
            if (r_lo == r_hi)
              continue;
            if (aligned)
              {
                long first, n, at;
                aligned_run (&first, &n, &at, h_lo, h_hi, oh0, off_h, off_w, g->H, g->W);
                memcpy (band + at, plane + first, sizeof (float) * (size_t) n);
              }
            else
              for (int oh = h_lo; oh < h_hi; oh++)
                {
                  float *dst = band + (size_t) (oh - oh0) * OW + w_lo;
                  const float *src = plane + (size_t) (oh * g->SH + off_h) * g->W
                                     + (w_lo * SW + off_w);
                  const int n = w_hi - w_lo;
                  if (SW == 1)
                    memcpy (dst, src, sizeof (float) * (size_t) n);
                  else
                    gather (dst, src, SW, n);
                }
            zero_border_columns (band, r_lo, r_hi, w_lo, w_hi, OW);
          }
      }
}

/* dinp (Cg,H,W) += the inverse scatter of col, laid out as in im2col () for output rows
 * [oh0, oh1); entries that fall on the padding are dropped. Clobbers those entries of col. */
static void
col2im_add (float            *restrict dinp,
            float            *restrict col,
            int                         Cg,
            int                         oh0,
            int                         oh1,
            const NnConvGeom           *g)
{
  const int OW = g->OW, SW = g->SW;
  const size_t NB = (size_t) (oh1 - oh0) * OW;
  const bool aligned = is_row_aligned (g);
  for (int c = 0; c < Cg; c++)
    for (int kh = 0; kh < g->KH; kh++)
      {
        const int off_h = kh * g->DH - g->PT;
        int h_lo, h_hi;
        band_range (&h_lo, &h_hi, off_h, oh0, oh1, g);
        for (int kw = 0; kw < g->KW; kw++)
          {
            const int off_w = kw * g->DW - g->PL;
            int w_lo, w_hi;
            valid_range (&w_lo, &w_hi, off_w, SW, g->W, OW);
            if (w_lo == w_hi || h_lo == h_hi)
              continue;
            float *plane = dinp + (size_t) c * g->H * g->W;
            float *band = col + ((size_t) (c * g->KH + kh) * g->KW + kw) * NB;
            if (aligned)
              {
                /* zeroed border columns add nothing to the neighbouring input rows */
                long first, n, at;
                zero_border_columns (band, h_lo - oh0, h_hi - oh0, w_lo, w_hi, OW);
                aligned_run (&first, &n, &at, h_lo, h_hi, oh0, off_h, off_w, g->H, g->W);
                axpy (plane + first, band + at, 1.0f, (int) n);
                continue;
              }
            for (int oh = h_lo; oh < h_hi; oh++)
              {
                const float *src = band + (size_t) (oh - oh0) * OW + w_lo;
                float *dst = plane + (size_t) (oh * g->SH + off_h) * g->W + (w_lo * SW + off_w);
                if (SW == 1)
                  axpy (dst, src, 1.0f, w_hi - w_lo);
                else
                  axpy_strided (dst, SW, src, 1.0f, w_hi - w_lo);
              }
          }
      }
}

/* Floats of the stack buffer of direct_forward_padded (32 KB): a zero-padded input plane and
 * the output plane at the padded width. */
#define NN_DIRECT_PADDED_MAX 8192

/* Stride 1 with a plane small enough for direct_forward_padded, whose per-tap runs are the
 * whole plane rather than short rows (7 to 28 floats in the late layers of mobile nets). */
static bool
is_direct_padded (const NnConvGeom *g)
{
  const size_t Hp = (size_t) g->H + g->PT + g->PB, Wp = (size_t) g->W + g->PL + g->PR;
  return g->SH == 1 && g->SW == 1 && (Hp + (size_t) g->OH) * Wp <= NN_DIRECT_PADDED_MAX;
}

/* Direct forward when is_direct () and is_direct_padded (): the input plane is copied into a
 * zero-padded plane of width Wp, so that each kernel tap is one run over the output plane laid
 * out at width Wp (the columns past OW are dropped when it is copied out). The taps add in the
 * order of direct_forward; the padding adds zeros. */
static void
direct_forward_padded (float            *out,
                       const float      *inp,
                       const float      *weight,
                       const float      *bias,
                       const NnConvGeom *g)
{
  const int M = g->OC / g->G, OW = g->OW, Wp = g->W + g->PL + g->PR;
  const int Hp = g->H + g->PT + g->PB;
  const int L = (g->OH - 1) * Wp + OW; /* output run, from (0, 0) to (OH - 1, OW - 1) */
  float buf[NN_DIRECT_PADDED_MAX];
  float *pad = buf, *acc = buf + (size_t) Hp * Wp;
  fill (pad, 0.0f, Hp * Wp);
  for (int b = 0; b < g->B; b++)
    for (int oc = 0; oc < g->OC; oc++)
      {
        float *o = out + ((size_t) b * g->OC + oc) * g->OH * OW;
        const float *in = inp + ((size_t) b * g->C + oc / M) * g->H * g->W;
        const float *w = weight + (size_t) oc * g->KH * g->KW;
        for (int ih = 0; ih < g->H; ih++)
          memcpy (pad + (size_t) (ih + g->PT) * Wp + g->PL, in + (size_t) ih * g->W,
                  sizeof (float) * (size_t) g->W);
        fill (acc, bias ? bias[oc] : 0.0f, L);
        for (int kh = 0; kh < g->KH; kh++)
          for (int kw = 0; kw < g->KW; kw++)
            axpy (acc, pad + (size_t) kh * g->DH * Wp + (size_t) kw * g->DW,
                  w[kh * g->KW + kw], L);
        for (int oh = 0; oh < g->OH; oh++)
          memcpy (o + (size_t) oh * OW, acc + (size_t) oh * Wp, sizeof (float) * (size_t) OW);
      }
}

/* Direct forward when is_direct (): output channel oc reads input channel oc / (OC/G) only.
 * Each kernel tap sweeps the rows it can reach, over the columns it can reach. */
static void
direct_forward (float            *out,
                const float      *inp,
                const float      *weight,
                const float      *bias,
                const NnConvGeom *g)
{
  const int M = g->OC / g->G, OW = g->OW, N = g->OH * g->OW;
  for (int b = 0; b < g->B; b++)
    for (int oc = 0; oc < g->OC; oc++)
      {
        float *o = out + ((size_t) b * g->OC + oc) * N;
        const float *in = inp + ((size_t) b * g->C + oc / M) * g->H * g->W;
        const float *w = weight + (size_t) oc * g->KH * g->KW;
        fill (o, bias ? bias[oc] : 0.0f, N);
        for (int kh = 0; kh < g->KH; kh++)
          {
            const int off_h = kh * g->DH - g->PT;
            int h_lo, h_hi;
            valid_range (&h_lo, &h_hi, off_h, g->SH, g->H, g->OH);
            for (int kw = 0; kw < g->KW; kw++)
              {
                const int off_w = kw * g->DW - g->PL;
                int w_lo, w_hi;
                valid_range (&w_lo, &w_hi, off_w, g->SW, g->W, OW);
                if (w_lo == w_hi)
                  continue;
                const float wv = w[kh * g->KW + kw];
                for (int oh = h_lo; oh < h_hi; oh++)
                  {
                    float *dst = o + (size_t) oh * OW + w_lo;
                    const float *src = in + (size_t) (oh * g->SH + off_h) * g->W
                                       + (w_lo * g->SW + off_w);
                    const int n = w_hi - w_lo;
                    if (g->SW == 1)
                      axpy (dst, src, wv, n);
                    else
                      for (int i = 0; i < n; i++)
                        dst[i] += wv * src[(size_t) i * g->SW];
                  }
              }
          }
      }
}

/* Direct backward when is_direct ():
 *   dinp[ci][ih][iw] += w[oc][kh][kw] * dout[oc][oh][ow]
 *   dweight[oc][kh][kw] += sum over b, oh, ow of inp[ci][ih][iw] * dout[oc][oh][ow]
 * with ci = oc / (OC/G), ih = oh*SH-PT+kh*DH, iw = ow*SW-PL+kw*DW. */
static void
direct_backward (float            *dinp,
                 float            *dweight,
                 const float      *dout,
                 const float      *inp,
                 const float      *weight,
                 const NnConvGeom *g)
{
  const int M = g->OC / g->G, OW = g->OW, N = g->OH * g->OW;
  for (int b = 0; b < g->B; b++)
    for (int oc = 0; oc < g->OC; oc++)
      {
        const float *d = dout + ((size_t) b * g->OC + oc) * N;
        const size_t in_off = ((size_t) b * g->C + oc / M) * g->H * g->W;
        const float *w = weight + (size_t) oc * g->KH * g->KW;
        float *dw = dweight ? dweight + (size_t) oc * g->KH * g->KW : NULL;
        for (int kh = 0; kh < g->KH; kh++)
          {
            const int off_h = kh * g->DH - g->PT;
            int h_lo, h_hi;
            valid_range (&h_lo, &h_hi, off_h, g->SH, g->H, g->OH);
            for (int kw = 0; kw < g->KW; kw++)
              {
                const int off_w = kw * g->DW - g->PL;
                int w_lo, w_hi;
                valid_range (&w_lo, &w_hi, off_w, g->SW, g->W, OW);
                if (w_lo == w_hi)
                  continue;
                const int n = w_hi - w_lo;
                const float wv = w[kh * g->KW + kw];
                float acc[4] = { 0.0f, 0.0f, 0.0f, 0.0f };
                for (int oh = h_lo; oh < h_hi; oh++)
                  {
                    const float *drow = d + (size_t) oh * OW + w_lo;
                    const size_t at = in_off + (size_t) (oh * g->SH + off_h) * g->W
                                      + (w_lo * g->SW + off_w);
                    if (dw)
                      dot_add (acc, inp + at, g->SW, drow, n);
                    if (dinp && g->SW == 1)
                      axpy (dinp + at, drow, wv, n);
                    else if (dinp)
                      axpy_strided (dinp + at, g->SW, drow, wv, n);
                  }
                if (dw)
                  dw[kh * g->KW + kw] += (acc[0] + acc[1]) + (acc[2] + acc[3]);
              }
          }
      }
}

/* Output rows [oh_begin, oh_end) of one group of one sample, band by band:
 * out_g (M, N) = weight_g (M, K) x im2col (inp_g) (K, N) + bias_g; out_g is the whole group. */
static void
forward_group_rows (float            *out,
                    float            *scratch,
                    const float      *inp,
                    const float      *weight,
                    const float      *bias,
                    const NnConvGeom *g,
                    int               oh_begin,
                    int               oh_end)
{
  const int Cg = g->C / g->G, M = g->OC / g->G, N = g->OH * g->OW;
  const int K = Cg * g->KH * g->KW;
  const int rows = band_rows (g);
  float beta = 0.0f;
  if (bias)
    {
      const size_t at = (size_t) oh_begin * g->OW, n = (size_t) (oh_end - oh_begin) * g->OW;
      for (int m = 0; m < M; m++)
        fill (out + (size_t) m * N + at, bias[m], (int) n);
      beta = 1.0f;
    }
  for (int oh0 = oh_begin; oh0 < oh_end; oh0 += rows)
    {
      const int oh1 = oh0 + rows < oh_end ? oh0 + rows : oh_end;
      const int NB = (oh1 - oh0) * g->OW;
      im2col (scratch, inp, Cg, oh0, oh1, g);
      /* columns [oh0*OW, oh1*OW) of out_g (M, N) = weight_g (M, K) x col (K, NB) */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, M, NB, K,
                   1.0f, weight, K, scratch, NB, beta, out + (size_t) oh0 * g->OW, N);
    }
}

void
nn_conv2d_forward (float            *out,
                   float            *scratch,
                   const float      *inp,
                   const float      *weight,
                   const float      *bias,
                   const NnConvGeom *g)
{
  geom_check (g);
  NN_ASSERT (out != NULL && inp != NULL && weight != NULL);
  NN_ASSERT (scratch != NULL || nn_conv2d_scratch_size (g) == 0);
  if (is_direct (g) && is_direct_padded (g))
    {
      direct_forward_padded (out, inp, weight, bias, g);
      return;
    }
  if (is_direct (g))
    {
      direct_forward (out, inp, weight, bias, g);
      return;
    }
  if (nn_winograd_pays_forward (g))
    {
      nn_winograd_forward (out, scratch, inp, weight, bias, g);
      return;
    }

  const int Cg = g->C / g->G, M = g->OC / g->G, N = g->OH * g->OW;
  const int K = Cg * g->KH * g->KW;
  const size_t plane = (size_t) g->H * g->W;
  for (int b = 0; b < g->B; b++)
    for (int gi = 0; gi < g->G; gi++)
      {
        const float *in = inp + ((size_t) b * g->C + (size_t) gi * Cg) * plane;
        const float *w = weight + (size_t) gi * M * K;
        float *o = out + ((size_t) b * g->OC + (size_t) gi * M) * N;
        if (is_pointwise (g))
          {
            float beta = 0.0f;
            if (bias)
              {
                for (int m = 0; m < M; m++)
                  fill (o + (size_t) m * N, bias[gi * M + m], N);
                beta = 1.0f;
              }
            /* out_g (M, N) = weight_g (M, K) x inp_g (K, N) */
            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K,
                         1.0f, w, K, in, N, beta, o, N);
            continue;
          }
        forward_group_rows (o, scratch, in, w, bias ? bias + (size_t) gi * M : NULL, g, 0,
                            g->OH);
      }
}

void
nn_conv2d_forward_part (float            *out,
                        float            *scratch,
                        const float      *inp,
                        const float      *weight,
                        const float      *bias,
                        const NnConvGeom *g,
                        int               index,
                        int               n)
{
  geom_check (g);
  NN_ASSERT (out != NULL && inp != NULL && weight != NULL && scratch != NULL);
  NN_ASSERT (g->B == 1 && g->G == 1 && !is_direct (g) && !is_pointwise (g));
  NN_ASSERT (!nn_winograd_pays_forward (g));
  NN_ASSERT (n > 0 && index >= 0 && index < n);
  const int rows = band_rows (g), bands = (g->OH + rows - 1) / rows;
  const int b0 = (int) ((long) bands * index / n), b1 = (int) ((long) bands * (index + 1) / n);
  const int oh1 = b1 * rows < g->OH ? b1 * rows : g->OH;
  if (b0 < b1)
    forward_group_rows (out, scratch, inp, weight, bias, g, b0 * rows, oh1);
}

void
nn_conv2d_backward_input_part (float            *dinp,
                               float            *scratch,
                               const float      *dout,
                               const float      *weight,
                               const NnConvGeom *g,
                               int               index,
                               int               n)
{
  geom_check (g);
  NN_ASSERT (dinp != NULL && dout != NULL && weight != NULL);
  NN_ASSERT (g->B == 1 && g->G == 1);
  NN_ASSERT (scratch != NULL || nn_conv2d_scratch_size (g) == 0);
  NN_ASSERT (n > 0 && index >= 0 && index < n);
  const int c0 = (int) ((long) g->C * index / n), c1 = (int) ((long) g->C * (index + 1) / n);
  if (c0 == c1)
    return;
  if (nn_winograd_pays_backward (g))
    {
      nn_winograd_backward_input (dinp, scratch, dout, weight, g, c0, c1);
      return;
    }
  const int KK = g->KH * g->KW, K = g->C * KK, M = g->OC, N = g->OH * g->OW;
  const int KP = (c1 - c0) * KK;             /* rows of weight^T (K, M) this part takes */
  const float *w = weight + (size_t) c0 * KK; /* its columns of weight (M, K) */
  float *d = dinp + (size_t) c0 * g->H * g->W;
  if (is_pointwise (g))
    {
      /* dinp_part (KP, N) += weight_part^T (KP, M) x dout (M, N) */
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, KP, N, M, 1.0f, w, K, dout, N, 1.0f,
                   d, N);
      return;
    }
  const int rows = band_rows (g);
  for (int oh0 = 0; oh0 < g->OH; oh0 += rows)
    {
      const int oh1 = oh0 + rows < g->OH ? oh0 + rows : g->OH;
      const int NB = (oh1 - oh0) * g->OW;
      /* dcol_part (KP, NB) = weight_part^T (KP, M) x dout_band (M, NB) */
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, KP, NB, M, 1.0f, w, K,
                   dout + (size_t) oh0 * g->OW, N, 0.0f, scratch, NB);
      col2im_add (d, scratch, c1 - c0, oh0, oh1, g);
    }
}

bool
nn_conv2d_splits_rows (const NnConvGeom *g,
                       int               n)
{
  geom_check (g);
  NN_ASSERT (n > 0);
  if (g->G != 1 || is_direct (g) || is_pointwise (g) || nn_winograd_pays_forward (g))
    return false;
  /* Splitting channels builds the im2col matrix (K, N) n times; splitting rows packs the
   * weights (OC, K) once per band, and each thread has about OH / n / rows bands. */
  const size_t N = (size_t) g->OH * g->OW;
  const int rows = band_rows (g);
  const size_t bands = ((size_t) g->OH + (size_t) n * rows - 1) / ((size_t) n * rows);
  return bands * (size_t) g->OC < N;
}

void
nn_conv2d_backward (float            *dinp,
                    float            *dweight,
                    float            *dbias,
                    float            *scratch,
                    const float      *dout,
                    const float      *inp,
                    const float      *weight,
                    const NnConvGeom *g)
{
  geom_check (g);
  NN_ASSERT (dout != NULL && inp != NULL && weight != NULL);
  NN_ASSERT (scratch != NULL || nn_conv2d_scratch_size (g) == 0);
  const int Cg = g->C / g->G, M = g->OC / g->G, N = g->OH * g->OW;
  const int K = Cg * g->KH * g->KW;

  if (dbias)
    for (int b = 0; b < g->B; b++)
      for (int oc = 0; oc < g->OC; oc++)
        dbias[oc] += sum (dout + ((size_t) b * g->OC + oc) * N, N);
  if (!dinp && !dweight)
    return;
  if (is_direct (g))
    {
      direct_backward (dinp, dweight, dout, inp, weight, g);
      return;
    }

  if (dinp && (dweight ? nn_winograd_pays_beside_weights (g) : nn_winograd_pays_backward (g)))
    {
      nn_winograd_backward_input (dinp, scratch, dout, weight, g, 0, g->C);
      dinp = NULL;
      if (!dweight)
        return;
    }
  const bool pointwise = is_pointwise (g);
  const int rows = band_rows (g);
  const size_t plane = (size_t) g->H * g->W;
  for (int b = 0; b < g->B; b++)
    for (int gi = 0; gi < g->G; gi++)
      {
        const size_t in_off = ((size_t) b * g->C + (size_t) gi * Cg) * plane;
        const float *d = dout + ((size_t) b * g->OC + (size_t) gi * M) * N;
        const float *w = weight + (size_t) gi * M * K;
        float *dw = dweight ? dweight + (size_t) gi * M * K : NULL;
        if (pointwise)
          {
            /* dweight_g (M, K) += dout_g (M, N) x inp_g^T (N, K) */
            if (dw)
              cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N,
                           1.0f, d, N, inp + in_off, N, 1.0f, dw, K);
            /* dinp_g (K, N) += weight_g^T (K, M) x dout_g (M, N) */
            if (dinp)
              cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M,
                           1.0f, w, K, d, N, 1.0f, dinp + in_off, N);
            continue;
          }
        for (int oh0 = 0; oh0 < g->OH; oh0 += rows)
          {
            const int oh1 = oh0 + rows < g->OH ? oh0 + rows : g->OH;
            const int NB = (oh1 - oh0) * g->OW;
            const float *db = d + (size_t) oh0 * g->OW; /* dout_g columns of the band */
            if (dw)
              {
                /* dweight_g (M, K) += dout_band (M, NB) x col^T (NB, K) */
                im2col (scratch, inp + in_off, Cg, oh0, oh1, g);
                cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, M, K, NB,
                             1.0f, db, N, scratch, NB, 1.0f, dw, K);
              }
            if (dinp)
              {
                /* dcol (K, NB) = weight_g^T (K, M) x dout_band (M, NB), scattered into dinp */
                cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, NB, M,
                             1.0f, w, K, db, N, 0.0f, scratch, NB);
                col2im_add (dinp + in_off, scratch, Cg, oh0, oh1, g);
              }
          }
      }
}

void
nn_conv2d_forward_naive (float            *out,
                         const float      *inp,
                         const float      *weight,
                         const float      *bias,
                         const NnConvGeom *g)
{
  geom_check (g);
  NN_ASSERT (out != NULL && inp != NULL && weight != NULL);
  const int Cg = g->C / g->G, M = g->OC / g->G;
  for (int b = 0; b < g->B; b++)
    for (int oc = 0; oc < g->OC; oc++)
      for (int oh = 0; oh < g->OH; oh++)
        for (int ow = 0; ow < g->OW; ow++)
          {
            float s = bias ? bias[oc] : 0.0f;
            for (int c = 0; c < Cg; c++)
              for (int kh = 0; kh < g->KH; kh++)
                for (int kw = 0; kw < g->KW; kw++)
                  {
                    int ih = oh * g->SH - g->PT + kh * g->DH;
                    int iw = ow * g->SW - g->PL + kw * g->DW;
                    if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W)
                      continue;
                    int ci = oc / M * Cg + c;
                    s += inp[(((size_t) b * g->C + ci) * g->H + ih) * g->W + iw]
                         * weight[(((size_t) oc * Cg + c) * g->KH + kh) * g->KW + kw];
                  }
            out[(((size_t) b * g->OC + oc) * g->OH + oh) * g->OW + ow] = s;
          }
}

void
nn_conv2d_backward_naive (float            *dinp,
                          float            *dweight,
                          float            *dbias,
                          const float      *dout,
                          const float      *inp,
                          const float      *weight,
                          const NnConvGeom *g)
{
  geom_check (g);
  NN_ASSERT (dout != NULL && inp != NULL && weight != NULL);
  const int Cg = g->C / g->G, M = g->OC / g->G;
  for (int b = 0; b < g->B; b++)
    for (int oc = 0; oc < g->OC; oc++)
      for (int oh = 0; oh < g->OH; oh++)
        for (int ow = 0; ow < g->OW; ow++)
          {
            float d = dout[(((size_t) b * g->OC + oc) * g->OH + oh) * g->OW + ow];
            if (dbias)
              dbias[oc] += d;
            for (int c = 0; c < Cg; c++)
              for (int kh = 0; kh < g->KH; kh++)
                for (int kw = 0; kw < g->KW; kw++)
                  {
                    int ih = oh * g->SH - g->PT + kh * g->DH;
                    int iw = ow * g->SW - g->PL + kw * g->DW;
                    if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W)
                      continue;
                    int ci = oc / M * Cg + c;
                    size_t i = (((size_t) b * g->C + ci) * g->H + ih) * g->W + iw;
                    size_t k = (((size_t) oc * Cg + c) * g->KH + kh) * g->KW + kw;
                    if (dinp)
                      dinp[i] += weight[k] * d;
                    if (dweight)
                      dweight[k] += inp[i] * d;
                  }
          }
}
