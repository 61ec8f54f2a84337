/* SPDX-License-Identifier: MIT */
/* Winograd F(4x4, 3x3): kernels to 6x6 by G k G^T, 6x6 input tiles (overlapping by 2) by
 * B^T d B, one sgemm per transform-domain position over channels x tiles, 4x4 outputs by
 * A^T m A. Interpolation points 0, 1, -1, 2, -2 and infinity. */
#include "ops/nn-winograd.h"

#include <cblas.h>

#include "core/nn-error.h"

#define TILE_OUT 4  /* output pixels per tile side */
#define TILE_IN  6  /* input pixels per tile side */
#define TILE_N   36 /* transform-domain positions */

/* One correlation of a source (C, H, W) with a 3x3 kernel bank into (O, OH, OW), padding pt
 * on top and pl on the left (the rest of the padding follows from the sizes). */
typedef struct
{
  int C, H, W;
  int O, OH, OW;
  int pt, pl;
} Plan;

static int
tiles (int OH,
       int OW)
{
  return ((OH + TILE_OUT - 1) / TILE_OUT) * ((OW + TILE_OUT - 1) / TILE_OUT);
}

bool
nn_winograd_applies (const NnConvGeom *g)
{
  return !g->no_winograd && g->KH == 3 && g->KW == 3 && g->SH == 1 && g->SW == 1 && g->DH == 1 && g->DW == 1
         && g->G == 1 && g->PT <= 2 && g->PL <= 2 && g->PB <= 2 && g->PR <= 2;
}

/* Measured against im2col on one thread (docs/benchmarks.md): the transforms cost per channel
 * summed over (C forward, OC backward) and the transformed kernels per tile, so Winograd pays
 * from 64 such channels at 8x8 outputs, or from 24 at about 20x20 (below 24 it loses
 * everywhere). */
static bool
pays (int k,
      int h,
      int w)
{
  return h >= 8 && w >= 8 && (k >= 64 || (k >= 24 && h * w >= 400));
}

bool
nn_winograd_pays_forward (const NnConvGeom *g)
{
  return nn_winograd_applies (g) && pays (g->C, g->OH, g->OW);
}

bool
nn_winograd_pays_backward (const NnConvGeom *g)
{
  return nn_winograd_applies (g) && pays (g->OC, g->H, g->W);
}

/* With the weight gradient in the same backward (training), the im2col input gradient runs band
 * by band beside it, on the output gradient the weight gradient's sgemm has just brought into
 * cache, while Winograd walks the output gradient again and, on small maps, runs its 36 sgemms
 * per sample over a few tiles (16 columns at 14x14), far from OpenBLAS' peak and dominated by
 * each call's set-up: the small CNN's training step (64 channels on 14x14, batch 64) took
 * 13.4 ms with im2col against 15.4-18.6 ms with Winograd (docs/benchmarks.md). From 28x28 (49
 * tiles per sample) the sgemms are wide enough that Winograd's 4x fewer multiplies win again, as
 * in the single-sample table. */
bool
nn_winograd_pays_beside_weights (const NnConvGeom *g)
{
  return nn_winograd_pays_backward (g) && g->H * g->W >= 28 * 28;
}

/* The tiles (36, C, T) and products (36, O, T) of a plan. */
static size_t
plan_work (const Plan *p)
{
  const size_t T = (size_t) tiles (p->OH, p->OW);
  return (size_t) TILE_N * ((size_t) p->C * T + (size_t) p->O * T);
}

/* ... and its transformed kernels (36, O, C) before them. */
static size_t
plan_floats (const Plan *p)
{
  return (size_t) TILE_N * p->O * p->C + plan_work (p);
}

static Plan
plan_forward (const NnConvGeom *g)
{
  return (Plan) { g->C, g->H, g->W, g->OC, g->OH, g->OW, g->PT, g->PL };
}

/* The input gradient of channels [c0, c1) correlates dout (OC, OH, OW) with the flipped kernel,
 * padded by 2 - PT on top and 2 - PL on the left, into (c1 - c0, H, W). */
static Plan
plan_backward (const NnConvGeom *g,
               int               c0,
               int               c1)
{
  return (Plan) { g->OC, g->OH, g->OW, c1 - c0, g->H, g->W, 2 - g->PT, 2 - g->PL };
}

size_t
nn_winograd_scratch_size (const NnConvGeom *g)
{
  NN_ASSERT (nn_winograd_applies (g));
  const Plan f = plan_forward (g), b = plan_backward (g, 0, g->C);
  const size_t sf = plan_floats (&f), sb = plan_floats (&b);
  return sf > sb ? sf : sb;
}

size_t
nn_winograd_work_size (const NnConvGeom *g)
{
  NN_ASSERT (nn_winograd_applies (g));
  const Plan f = plan_forward (g), b = plan_backward (g, 0, g->C);
  const size_t sf = plan_work (&f), sb = plan_work (&b);
  return sf > sb ? sf : sb;
}

/* u (6x6) = G k G^T for a 3x3 kernel k (row-major). */
static void
kernel_transform (float       u[TILE_N],
                  const float k[9])
{
  float t[TILE_IN][3];
  for (int j = 0; j < 3; j++)
    {
      const float g0 = k[j], g1 = k[3 + j], g2 = k[6 + j];
      t[0][j] = g0 / 4.0f;
      t[1][j] = -(g0 + g1 + g2) / 6.0f;
      t[2][j] = -(g0 - g1 + g2) / 6.0f;
      t[3][j] = g0 / 24.0f + g1 / 12.0f + g2 / 6.0f;
      t[4][j] = g0 / 24.0f - g1 / 12.0f + g2 / 6.0f;
      t[5][j] = g2;
    }
  for (int i = 0; i < TILE_IN; i++)
    {
      const float g0 = t[i][0], g1 = t[i][1], g2 = t[i][2];
      float *r = u + i * TILE_IN;
      r[0] = g0 / 4.0f;
      r[1] = -(g0 + g1 + g2) / 6.0f;
      r[2] = -(g0 - g1 + g2) / 6.0f;
      r[3] = g0 / 24.0f + g1 / 12.0f + g2 / 6.0f;
      r[4] = g0 / 24.0f - g1 / 12.0f + g2 / 6.0f;
      r[5] = g2;
    }
}

/* U (36, O, C): the transformed kernels of the forward pass, O = OC. */
static void
weights_forward (float            *U,
                 const float      *weight,
                 const NnConvGeom *g)
{
  const size_t OCC = (size_t) g->OC * g->C;
  float u[TILE_N];
  for (size_t k = 0; k < OCC; k++)
    {
      kernel_transform (u, weight + k * 9);
      for (int x = 0; x < TILE_N; x++)
        U[x * OCC + k] = u[x];
    }
}

/* U (36, c1 - c0, OC): the transformed kernels of the input gradient of channels [c0, c1),
 * kernel (c, oc) = weight (oc, c) turned by 180 degrees. */
static void
weights_backward (float            *U,
                  const float      *weight,
                  const NnConvGeom *g,
                  int               c0,
                  int               c1)
{
  const size_t OCC = (size_t) (c1 - c0) * g->OC;
  float u[TILE_N], k[9];
  for (int c = c0; c < c1; c++)
    for (int oc = 0; oc < g->OC; oc++)
      {
        const float *w = weight + ((size_t) oc * g->C + c) * 9;
        for (int i = 0; i < 9; i++)
          k[i] = w[8 - i];
        kernel_transform (u, k);
        const size_t at = (size_t) (c - c0) * g->OC + oc;
        for (int x = 0; x < TILE_N; x++)
          U[x * OCC + at] = u[x];
      }
}

/* The transforms run on LANES tiles side by side (consecutive tiles of a row of tiles), so that
 * the compiler vectorizes them over the tiles and the tiles' values load and store as runs. */
#define LANES 8

typedef float Lanes[LANES];

/* y[k * ys] = (B^T x)[k] for the 6 rows x[k * xs], lane by lane. */
static inline void
input_rows (Lanes       *restrict y,
            int                   ys,
            const Lanes *restrict x,
            int                   xs)
{
  for (int l = 0; l < LANES; l++)
    {
      const float x0 = x[0][l], x1 = x[xs][l], x2 = x[2 * xs][l], x3 = x[3 * xs][l];
      const float x4 = x[4 * xs][l], x5 = x[5 * xs][l];
      y[0][l] = 4.0f * x0 - 5.0f * x2 + x4;
      y[ys][l] = -4.0f * (x1 + x2) + x3 + x4;
      y[2 * ys][l] = 4.0f * (x1 - x2) - x3 + x4;
      y[3 * ys][l] = 2.0f * (x3 - x1) - x2 + x4;
      y[4 * ys][l] = 2.0f * (x1 - x3) - x2 + x4;
      y[5 * ys][l] = 4.0f * x1 - 5.0f * x3 + x5;
    }
}

/* d[i * 6 + j][l] = the source at row y0 + i, column x0 + 4 l + j, zero outside the plane,
 * for lanes l < n (the rest zero). */
static void
gather_tiles (Lanes            *restrict d,
              const float      *restrict plane,
              const Plan                *p,
              int                        y0,
              int                        x0,
              int                        n)
{
  const bool inside = n == LANES && y0 >= 0 && x0 >= 0 && y0 + TILE_IN <= p->H
                      && x0 + TILE_OUT * (n - 1) + TILE_IN <= p->W;
  if (inside)
    {
      for (int i = 0; i < TILE_IN; i++)
        {
          const float *row = plane + (size_t) (y0 + i) * p->W + x0;
          for (int j = 0; j < TILE_IN; j++)
            for (int l = 0; l < LANES; l++)
              d[i * TILE_IN + j][l] = row[TILE_OUT * l + j];
        }
      return;
    }
  for (int i = 0; i < TILE_IN; i++)
    {
      const int y = y0 + i;
      const bool row_inside = y >= 0 && y < p->H;
      /* Rows above or below the plane are never read: no pointer is formed for them. */
      const float *row = row_inside ? plane + (size_t) y * p->W : plane;
      for (int j = 0; j < TILE_IN; j++)
        for (int l = 0; l < LANES; l++)
          {
            const int x = x0 + TILE_OUT * l + j;
            d[i * TILE_IN + j][l] = l < n && row_inside && x >= 0 && x < p->W ? row[x] : 0.0f;
          }
    }
}

/* V (36, C, T) = B^T d B for every 6x6 tile d of every channel of the source, zero outside. */
static void
input_transform (float       *restrict V,
                 const float *restrict src,
                 const Plan           *p)
{
  const int TH = (p->OH + TILE_OUT - 1) / TILE_OUT, TW = (p->OW + TILE_OUT - 1) / TILE_OUT;
  const size_t CT = (size_t) p->C * TH * TW;
  Lanes d[TILE_N], t[TILE_N];
  for (int c = 0; c < p->C; c++)
    {
      const float *plane = src + (size_t) c * p->H * p->W;
      for (int ty = 0; ty < TH; ty++)
        for (int tx = 0; tx < TW; tx += LANES)
          {
            const int n = TW - tx < LANES ? TW - tx : LANES;
            gather_tiles (d, plane, p, ty * TILE_OUT - p->pt, tx * TILE_OUT - p->pl, n);
            for (int j = 0; j < TILE_IN; j++)
              input_rows (t + j, TILE_IN, d + j, TILE_IN);
            for (int i = 0; i < TILE_IN; i++)
              input_rows (d + i * TILE_IN, 1, t + i * TILE_IN, 1);
            float *v = V + (size_t) c * TH * TW + (size_t) ty * TW + tx;
            for (int x = 0; x < TILE_N; x++)
              for (int l = 0; l < n; l++)
                v[x * CT + l] = d[x][l];
          }
    }
}

/* y[k * ys] = (A^T x)[k] for the 6 rows x[k * xs], lane by lane. */
static inline void
output_rows (Lanes       *restrict y,
             int                   ys,
             const Lanes *restrict x,
             int                   xs)
{
  for (int l = 0; l < LANES; l++)
    {
      const float x0 = x[0][l], x1 = x[xs][l], x2 = x[2 * xs][l], x3 = x[3 * xs][l];
      const float x4 = x[4 * xs][l], x5 = x[5 * xs][l];
      const float a = x1 + x2, b = x1 - x2, c = x3 + x4, e = x3 - x4;
      y[0][l] = x0 + a + c;
      y[ys][l] = b + 2.0f * e;
      y[2 * ys][l] = a + 4.0f * c;
      y[3 * ys][l] = b + 8.0f * e + x5;
    }
}

/* out (O, OH, OW) = A^T m A for every tile of M (36, O, T), plus bias or plus what out holds. */
static void
output_transform (float       *restrict out,
                  const float *restrict M,
                  const float          *bias,
                  bool                  accumulate,
                  const Plan           *p)
{
  const int TH = (p->OH + TILE_OUT - 1) / TILE_OUT, TW = (p->OW + TILE_OUT - 1) / TILE_OUT;
  const size_t T = (size_t) TH * TW, OT = (size_t) p->O * T;
  Lanes m[TILE_N], t[TILE_OUT * TILE_IN], y[TILE_OUT * TILE_OUT];
  for (int o = 0; o < p->O; o++)
    {
      float *plane = out + (size_t) o * p->OH * p->OW;
      const float b = bias ? bias[o] : 0.0f;
      for (int ty = 0; ty < TH; ty++)
        for (int tx = 0; tx < TW; tx += LANES)
          {
            const int n = TW - tx < LANES ? TW - tx : LANES;
            const float *mo = M + (size_t) o * T + (size_t) ty * TW + tx;
            for (int x = 0; x < TILE_N; x++)
              for (int l = 0; l < LANES; l++)
                m[x][l] = l < n ? mo[x * OT + l] : 0.0f;
            for (int j = 0; j < TILE_IN; j++)
              output_rows (t + j, TILE_IN, m + j, TILE_IN);
            for (int i = 0; i < TILE_OUT; i++)
              output_rows (y + i * TILE_OUT, 1, t + i * TILE_IN, 1);
            const int y0 = ty * TILE_OUT, x0 = tx * TILE_OUT;
            const int ni = p->OH - y0 < TILE_OUT ? p->OH - y0 : TILE_OUT;
            const int nx = p->OW - x0 < TILE_OUT * n ? p->OW - x0 : TILE_OUT * n;
            for (int i = 0; i < ni; i++)
              {
                float *row = plane + (size_t) (y0 + i) * p->OW + x0;
                for (int k = 0; k < nx; k++)
                  {
                    const float v = y[i * TILE_OUT + k % TILE_OUT][k / TILE_OUT];
                    row[k] = (accumulate ? row[k] : b) + v;
                  }
              }
          }
    }
}

/* One sample: out (O, OH, OW) (+)= the correlation of src with the kernels U (36, O, C), whose
 * blocks are `u_stride` floats apart. */
static void
run (float       *out,
     float       *work,
     const float *src,
     const float *U,
     size_t       u_stride,
     const float *bias,
     bool         accumulate,
     const Plan  *p)
{
  const int T = tiles (p->OH, p->OW);
  float *V = work, *M = work + (size_t) TILE_N * p->C * T;
  input_transform (V, src, p);
  for (int x = 0; x < TILE_N; x++)
    /* M_x (O, T) = U_x (O, C) x V_x (C, T) */
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, p->O, T, p->C, 1.0f,
                 U + x * u_stride, p->C, V + (size_t) x * p->C * T, T, 0.0f,
                 M + (size_t) x * p->O * T, T);
  output_transform (out, M, bias, accumulate, p);
}

size_t
nn_winograd_packed_size (const NnConvGeom *g)
{
  NN_ASSERT (nn_winograd_applies (g));
  return (size_t) TILE_N * g->OC * g->C;
}

void
nn_winograd_pack_forward (float            *packed,
                          const float      *weight,
                          const NnConvGeom *g)
{
  NN_ASSERT (nn_winograd_applies (g) && packed != NULL && weight != NULL);
  weights_forward (packed, weight, g);
}

void
nn_winograd_pack_backward (float            *packed,
                           const float      *weight,
                           const NnConvGeom *g)
{
  NN_ASSERT (nn_winograd_applies (g) && packed != NULL && weight != NULL);
  weights_backward (packed, weight, g, 0, g->C);
}

void
nn_winograd_forward_packed (float            *out,
                            float            *scratch,
                            const float      *inp,
                            const float      *packed,
                            const float      *bias,
                            const NnConvGeom *g,
                            int               oc0,
                            int               oc1)
{
  NN_ASSERT (nn_winograd_applies (g));
  NN_ASSERT (out != NULL && scratch != NULL && inp != NULL && packed != NULL);
  NN_ASSERT (0 <= oc0 && oc0 <= oc1 && oc1 <= g->OC);
  if (oc0 == oc1)
    return;
  Plan p = plan_forward (g);
  p.O = oc1 - oc0;
  const size_t in_n = (size_t) g->C * g->H * g->W, out_n = (size_t) g->OC * g->OH * g->OW;
  const size_t at = (size_t) oc0 * g->OH * g->OW;
  for (int b = 0; b < g->B; b++)
    run (out + b * out_n + at, scratch, inp + b * in_n, packed + (size_t) oc0 * g->C,
         (size_t) g->OC * g->C, bias ? bias + oc0 : NULL, false, &p);
}

void
nn_winograd_backward_input_packed (float            *dinp,
                                   float            *scratch,
                                   const float      *dout,
                                   const float      *packed,
                                   const NnConvGeom *g,
                                   int               c0,
                                   int               c1)
{
  NN_ASSERT (nn_winograd_applies (g));
  NN_ASSERT (dinp != NULL && scratch != NULL && dout != NULL && packed != NULL);
  NN_ASSERT (0 <= c0 && c0 <= c1 && c1 <= g->C);
  if (c0 == c1)
    return;
  const Plan p = plan_backward (g, c0, c1);
  const size_t in_n = (size_t) g->C * g->H * g->W, out_n = (size_t) g->OC * g->OH * g->OW;
  const size_t at = (size_t) c0 * g->H * g->W;
  for (int b = 0; b < g->B; b++)
    run (dinp + b * in_n + at, scratch, dout + b * out_n, packed + (size_t) c0 * g->OC,
         (size_t) g->C * g->OC, NULL, true, &p);
}

void
nn_winograd_forward (float            *out,
                     float            *scratch,
                     const float      *inp,
                     const float      *weight,
                     const float      *bias,
                     const NnConvGeom *g)
{
  NN_ASSERT (nn_winograd_applies (g));
  NN_ASSERT (scratch != NULL && weight != NULL);
  weights_forward (scratch, weight, g);
  nn_winograd_forward_packed (out, scratch + nn_winograd_packed_size (g), inp, scratch, bias, g,
                              0, g->OC);
}

void
nn_winograd_backward_input (float            *dinp,
                            float            *scratch,
                            const float      *dout,
                            const float      *weight,
                            const NnConvGeom *g,
                            int               c0,
                            int               c1)
{
  NN_ASSERT (nn_winograd_applies (g));
  NN_ASSERT (scratch != NULL && weight != NULL);
  NN_ASSERT (0 <= c0 && c0 <= c1 && c1 <= g->C);
  if (c0 == c1)
    return;
  /* the kernels of channels [c0, c1) alone, as rows of a (36, c1 - c0, OC) packing */
  weights_backward (scratch, weight, g, c0, c1);
  const Plan p = plan_backward (g, c0, c1);
  float *work = scratch + (size_t) TILE_N * (c1 - c0) * g->OC;
  const size_t in_n = (size_t) g->C * g->H * g->W, out_n = (size_t) g->OC * g->OH * g->OW;
  for (int b = 0; b < g->B; b++)
    run (dinp + b * in_n + (size_t) c0 * g->H * g->W, work, dout + b * out_n, scratch,
         (size_t) (c1 - c0) * g->OC, NULL, true, &p);
}
