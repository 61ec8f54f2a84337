/* SPDX-License-Identifier: MIT */
/* Conv2d: hand-computed outputs, fast kernels against the naive twins over many geometries,
 * gradients through the graph against central finite differences, accumulation and NULL
 * outputs. */
#include <glib.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "grad-check.h"
#include "nn.h"
#include "test-util.h"

/* Floats written after every buffer a kernel writes; any change is an overrun. */
#define CANARY_LEN 16
#define CANARY     12345.0f

typedef struct
{
  const char *name;
  NnConvGeom  g;
} Case;

static int
out_len (int in,
         int k,
         int s,
         int pa,
         int pb,
         int d)
{
  return (in + pa + pb - d * (k - 1) - 1) / s + 1;
}

static NnConvGeom
geom (int B, int C, int H, int W, int OC, int KH, int KW, int SH, int SW,
      int PT, int PL, int PB, int PR, int DH, int DW, int G)
{
  NnConvGeom g = {
    .B = B, .C = C, .H = H, .W = W, .OC = OC, .KH = KH, .KW = KW, .SH = SH, .SW = SW,
    .PT = PT, .PL = PL, .PB = PB, .PR = PR, .DH = DH, .DW = DW, .G = G,
  };
  g.OH = out_len (H, KH, SH, PT, PB, DH);
  g.OW = out_len (W, KW, SW, PL, PR, DW);
  g_assert_cmpint (g.OH, >, 0);
  g_assert_cmpint (g.OW, >, 0);
  return g;
}

/* B C H W OC KH KW SH SW PT PL PB PR DH DW G */
static Case cases[] = {
  { "3x3 same", { 2, 3, 7, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, false } },
  { "3x3 stride 2", { 3, 2, 8, 9, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, false } },
  { "2x2 stride 3 (gaps)", { 1, 2, 7, 8, 2, 2, 2, 3, 3, 0, 0, 0, 0, 1, 1, 1, 0, 0, false } },
  { "5x5 stride 2", { 2, 2, 9, 7, 3, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 1, 0, 0, false } },
  { "asymmetric padding", { 2, 2, 6, 5, 3, 3, 3, 1, 1, 2, 0, 1, 3, 1, 1, 1, 0, 0, false } },
  { "asymmetric padding stride 2", { 3, 2, 7, 6, 2, 3, 3, 2, 2, 0, 1, 2, 0, 1, 1, 1, 0, 0, false } },
  { "dilation 2", { 2, 3, 9, 8, 2, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, 0, 0, false } },
  { "dilation 2x1 stride 1x2", { 1, 2, 8, 9, 3, 3, 2, 1, 2, 1, 0, 2, 1, 2, 1, 1, 0, 0, false } },
  { "groups 2", { 2, 4, 6, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 0, 0, false } },
  { "groups 2 stride 2 dilation 2", { 3, 4, 9, 7, 4, 3, 3, 2, 2, 2, 1, 0, 3, 2, 2, 2, 0, 0, false } },
  { "depthwise", { 2, 3, 7, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 0, 0, false } },
  { "depthwise stride 2", { 3, 4, 8, 7, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4, 0, 0, false } },
  { "depthwise multiplier 2", { 2, 3, 6, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, 0, 0, false } },
  { "depthwise dilated asymmetric", { 2, 2, 9, 8, 2, 3, 3, 2, 3, 2, 0, 1, 3, 2, 2, 2, 0, 0, false } },
  { "one input channel", { 3, 1, 7, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, false } },
  { "1x1", { 3, 5, 7, 5, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, false } },
  { "1x1 groups 2", { 2, 4, 5, 3, 6, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, 0, 0, false } },
  { "1x1 stride 2", { 2, 3, 7, 6, 4, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0, 0, false } },
  { "1x1 padded", { 1, 3, 4, 5, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, false } },
  { "kernel larger than input", { 2, 2, 2, 3, 3, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, 0, 0, false } },
  { "3x1 kernel stride 2x1", { 2, 3, 7, 5, 2, 3, 1, 2, 1, 1, 0, 1, 0, 1, 1, 1, 0, 0, false } },
  { "1x3 kernel", { 1, 2, 5, 7, 3, 1, 3, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, false } },
  { "1x1 output", { 3, 2, 5, 5, 3, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, false } },
  { "rows of padding only", { 2, 2, 3, 3, 2, 2, 2, 1, 1, 3, 3, 2, 2, 1, 1, 1, 0, 0, false } },
  { "depthwise columns of padding", { 1, 2, 3, 2, 2, 3, 3, 1, 1, 1, 2, 1, 2, 1, 1, 2, 0, 0, false } },
  { "4x2 stride 3x1 dilation 1x3", { 2, 3, 10, 9, 2, 4, 2, 3, 1, 2, 0, 1, 1, 1, 3, 1, 0, 0, false } },
  { "depthwise 5x5 on 7x7", { 1, 6, 7, 7, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 6, 0, 0, false } },
  /* a plane too large for the padded depthwise kernel: the row-by-row one */
  { "depthwise large plane", { 1, 2, 90, 91, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 0, 0, false } },
  { "larger", { 2, 8, 12, 11, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, false } },
  /* large enough for the fast kernels to split the im2col matrix into bands of rows */
  { "bands", { 1, 32, 20, 39, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, false } },
  { "bands stride 2 groups 2", { 2, 32, 41, 64, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 0, 0, false } },
  { "bands dilated asymmetric", { 1, 24, 30, 33, 3, 3, 3, 1, 1, 2, 0, 1, 3, 2, 2, 1, 0, 0, false } },
};
#define N_BAND_CASES 3

static void
fill_geoms (void)
{
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      NnConvGeom *g = &cases[i].g;
      *g = geom (g->B, g->C, g->H, g->W, g->OC, g->KH, g->KW, g->SH, g->SW,
                 g->PT, g->PL, g->PB, g->PR, g->DH, g->DW, g->G);
    }
}

static size_t
inp_size (const NnConvGeom *g)
{
  return (size_t) g->B * g->C * g->H * g->W;
}

static size_t
out_size (const NnConvGeom *g)
{
  return (size_t) g->B * g->OC * g->OH * g->OW;
}

static size_t
weight_size (const NnConvGeom *g)
{
  return (size_t) g->OC * (g->C / g->G) * g->KH * g->KW;
}

/* A buffer of n floats filled with `fill`, followed by canaries. */
static float *
buf_new (size_t n,
         float  fill)
{
  float *p = g_new (float, n + CANARY_LEN);
  for (size_t i = 0; i < n; i++)
    p[i] = fill;
  for (size_t i = 0; i < CANARY_LEN; i++)
    p[n + i] = CANARY;
  return p;
}

static void
buf_check_free (float  *p,
                size_t  n)
{
  for (size_t i = 0; i < CANARY_LEN; i++)
    g_assert_cmpfloat (p[n + i], ==, CANARY);
  g_free (p);
}

static float *
buf_random (size_t  n,
            GRand  *rand)
{
  float *p = buf_new (n, 0.0f);
  for (size_t i = 0; i < n; i++)
    p[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  return p;
}

static float *
buf_dup (const float *src,
         size_t       n)
{
  float *p = buf_new (n, 0.0f);
  memcpy (p, src, sizeof (float) * n);
  return p;
}

static float *
scratch_new (const NnConvGeom *g)
{
  /* NaN: the kernels must not read scratch they have not written */
  return buf_new (nn_conv2d_scratch_size (g), NAN);
}

static void
forward (bool              fast,
         float            *out,
         const float      *inp,
         const float      *weight,
         const float      *bias,
         const NnConvGeom *g)
{
  if (fast)
    {
      float *scratch = scratch_new (g);
      nn_conv2d_forward (out, scratch, inp, weight, bias, g);
      buf_check_free (scratch, nn_conv2d_scratch_size (g));
    }
  else
    nn_conv2d_forward_naive (out, inp, weight, bias, g);
}

static void
backward (bool              fast,
          float            *dinp,
          float            *dweight,
          float            *dbias,
          const float      *dout,
          const float      *inp,
          const float      *weight,
          const NnConvGeom *g)
{
  if (fast)
    {
      float *scratch = scratch_new (g);
      nn_conv2d_backward (dinp, dweight, dbias, scratch, dout, inp, weight, g);
      buf_check_free (scratch, nn_conv2d_scratch_size (g));
    }
  else
    nn_conv2d_backward_naive (dinp, dweight, dbias, dout, inp, weight, g);
}

/* Hand-computed cases, each run through the fast and the naive kernels. */

typedef struct
{
  NnConvGeom   g;
  const float *inp, *weight, *bias, *expect;
} HandCase;

static void
check_hand (const HandCase *h)
{
  for (int fast = 0; fast < 2; fast++)
    {
      size_t n = out_size (&h->g);
      float *out = buf_new (n, NAN);
      forward (fast, out, h->inp, h->weight, h->bias, &h->g);
      for (size_t i = 0; i < n; i++)
        g_assert_cmpfloat_with_epsilon (out[i], h->expect[i], 1e-4);
      buf_check_free (out, n);
    }
}

static void
test_hand_forward (void)
{
  static const float x3[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

  /* 2x2 kernel, no padding: out[0][0] = 1*1 + 2*2 + 4*3 + 5*4 + 0.5 */
  static const float k2[] = { 1, 2, 3, 4 }, b05[] = { 0.5f };
  static const float e1[] = { 37.5f, 47.5f, 67.5f, 77.5f };
  check_hand (&(HandCase) { geom (1, 1, 3, 3, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1),
                            x3, k2, b05, e1 });

  /* box filter, padding 1, stride 2: the sums of the four corner 2x2 blocks */
  static const float ones[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
  static const float e2[] = { 12, 16, 24, 28 };
  check_hand (&(HandCase) { geom (1, 1, 3, 3, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),
                            x3, ones, NULL, e2 });

  /* cross-correlation, not convolution: the kernel is not flipped */
  static const float k12[] = { 1, 10 }, x123[] = { 1, 2, 3 };
  static const float e3[] = { 0, 10, 21, 32 };
  /* left padding 2, right padding 0: the padded row is 0 0 1 2 3 */
  check_hand (&(HandCase) { geom (1, 1, 1, 3, 1, 1, 2, 1, 1, 0, 2, 0, 0, 1, 1, 1),
                            x123, k12, NULL, e3 });

  /* dilation 3 over 1 2 3 4 5 with taps (1, 1): 1+4, 2+5 */
  static const float x5[] = { 1, 2, 3, 4, 5 }, k11[] = { 1, 1 };
  static const float e4[] = { 5, 7 };
  check_hand (&(HandCase) { geom (1, 1, 1, 5, 1, 1, 2, 1, 1, 0, 0, 0, 0, 1, 3, 1),
                            x5, k11, NULL, e4 });

  /* groups 2 with 1x1 kernels, 2 output channels per group: channels 0 and 1 read input
   * channel 0 (all 1), channels 2 and 3 read input channel 1 (all 10) */
  static const float xg[] = { 1, 1, 10, 10 }, kg[] = { 1, 2, 3, 4 };
  static const float eg[] = { 1, 1, 2, 2, 30, 30, 40, 40 };
  check_hand (&(HandCase) { geom (1, 2, 1, 2, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2),
                            xg, kg, NULL, eg });

  /* groups 2 with two input channels per group, weight (2,2,1,1):
   * out0 = 1*x0 + 2*x1, out1 = 3*x2 + 4*x3; the second sample sees the inputs doubled */
  static const float xg2[] = { 1, 2, 3, 4, 2, 4, 6, 8 }, kg2[] = { 1, 2, 3, 4 };
  static const float bg2[] = { 0.25f, -1 };
  static const float eg2[] = { 5.25f, 24, 10.25f, 49 };
  check_hand (&(HandCase) { geom (2, 4, 1, 1, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2),
                            xg2, kg2, bg2, eg2 });

  /* depthwise 2x2, stride 1, padding bottom/right 1: channel 1 uses the kernel (0 0; 0 2) */
  static const float xd[] = { 1, 2, 3, 4, 1, 2, 3, 4 };
  static const float kd[] = { 1, 1, 1, 1, 0, 0, 0, 2 };
  static const float ed[] = { 10, 6, 7, 4, 8, 0, 0, 0 };
  check_hand (&(HandCase) { geom (1, 2, 2, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1, 1, 1, 2),
                            xd, kd, NULL, ed });
}

static void
test_hand_backward (void)
{
  /* Box filter, padding 1, stride 2 on 3x3, dout all ones: dinp counts the windows that
   * cover each pixel; dweight[kh][kw] sums the pixels tap (kh,kw) meets. */
  static const float x3[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  static const float ones[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
  static const float dout[] = { 1, 1, 1, 1 };
  static const float edinp[] = { 1, 2, 1, 2, 4, 2, 1, 2, 1 };
  /* tap (1,1) meets the corners 1+3+7+9; tap (0,0) meets only x[1][1] = 5 */
  static const float edw[] = { 5, 4 + 6, 5, 2 + 8, 20, 2 + 8, 5, 4 + 6, 5 };
  NnConvGeom g = geom (1, 1, 3, 3, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1);

  for (int fast = 0; fast < 2; fast++)
    {
      float *dinp = buf_new (9, 0.0f), *dw = buf_new (9, 0.0f), *db = buf_new (1, 0.5f);
      backward (fast, dinp, dw, db, dout, x3, ones, &g);
      for (int i = 0; i < 9; i++)
        {
          g_assert_cmpfloat_with_epsilon (dinp[i], edinp[i], 1e-6);
          g_assert_cmpfloat_with_epsilon (dw[i], edw[i], 1e-4);
        }
      g_assert_cmpfloat_with_epsilon (db[0], 0.5f + 4, 1e-6);
      buf_check_free (dinp, 9);
      buf_check_free (dw, 9);
      buf_check_free (db, 1);
    }
}

static void
test_forward_fast_vs_naive (void)
{
  GRand *rand = g_rand_new_with_seed (1);
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int with_bias = 0; with_bias < 2; with_bias++)
      {
        const NnConvGeom *g = &cases[c].g;
        float *inp = buf_random (inp_size (g), rand);
        float *w = buf_random (weight_size (g), rand);
        float *bias = buf_random (g->OC, rand);
        float *ref = buf_new (out_size (g), NAN), *out = buf_new (out_size (g), NAN);

        nn_conv2d_forward_naive (ref, inp, w, with_bias ? bias : NULL, g);
        forward (true, out, inp, w, with_bias ? bias : NULL, g);
        test_util_assert_close (out, ref, out_size (g), 1e-4, "forward, case '%s'", cases[c].name);

        buf_check_free (ref, out_size (g));
        buf_check_free (out, out_size (g));
        buf_check_free (inp, inp_size (g));
        buf_check_free (w, weight_size (g));
        buf_check_free (bias, g->OC);
      }
  g_rand_free (rand);
}

/* Parts of a single sample's output rows, for 1 to 4 threads: together they equal the whole
 * forward bit for bit (each part is whole bands), and none writes outside its rows. */
static void
test_forward_parts (void)
{
  GRand *rand = g_rand_new_with_seed (9);
  int tested = 0;
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      NnConvGeom g = cases[c].g;
      g.B = 1;
      if (!nn_conv2d_splits_rows (&g, 2))
        continue;
      tested++;
      float *inp = buf_random (inp_size (&g), rand);
      float *w = buf_random (weight_size (&g), rand);
      float *bias = buf_random (g.OC, rand);
      float *whole = buf_new (out_size (&g), NAN), *scratch = scratch_new (&g);
      nn_conv2d_forward (whole, scratch, inp, w, bias, &g);
      for (int n = 1; n <= 4; n++)
        {
          float *out = buf_new (out_size (&g), NAN);
          for (int index = 0; index < n; index++)
            nn_conv2d_forward_part (out, scratch, inp, w, bias, &g, index, n);
          g_assert_cmpmem (out, out_size (&g) * sizeof (float), whole,
                           out_size (&g) * sizeof (float));
          buf_check_free (out, out_size (&g));
        }
      buf_check_free (whole, out_size (&g));
      buf_check_free (scratch, nn_conv2d_scratch_size (&g));
      buf_check_free (inp, inp_size (&g));
      buf_check_free (w, weight_size (&g));
      buf_check_free (bias, g.OC);
    }
  /* the band cases among them, which have several bands */
  g_assert_cmpint (tested, >=, 10);
  g_rand_free (rand);
}

/* The input-gradient parts of one sample, summed over n parts into a buffer that already holds
 * a gradient, match the naive backward for every ungrouped case. */
static void
test_backward_input_parts (void)
{
  GRand *rand = g_rand_new_with_seed (10);
  int tested = 0;
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      NnConvGeom g = cases[c].g;
      g.B = 1;
      if (g.G != 1)
        continue;
      tested++;
      float *inp = buf_random (inp_size (&g), rand);
      float *w = buf_random (weight_size (&g), rand);
      float *dout = buf_random (out_size (&g), rand);
      float *prior = buf_random (inp_size (&g), rand);
      float *expect = buf_dup (prior, inp_size (&g));
      nn_conv2d_backward_naive (expect, NULL, NULL, dout, inp, w, &g);
      for (int n = 1; n <= 5; n++)
        {
          float *dinp = buf_dup (prior, inp_size (&g));
          for (int index = 0; index < n; index++)
            {
              float *scratch = scratch_new (&g);
              nn_conv2d_backward_input_part (dinp, scratch, dout, w, &g, index, n);
              buf_check_free (scratch, nn_conv2d_scratch_size (&g));
            }
          for (size_t i = 0; i < inp_size (&g); i++)
            g_assert_cmpfloat_with_epsilon (dinp[i], expect[i], 1e-4);
          buf_check_free (dinp, inp_size (&g));
        }
      buf_check_free (expect, inp_size (&g));
      buf_check_free (prior, inp_size (&g));
      buf_check_free (dout, out_size (&g));
      buf_check_free (w, weight_size (&g));
      buf_check_free (inp, inp_size (&g));
    }
  g_assert_cmpint (tested, >=, 20);
  g_rand_free (rand);
}

static void
test_backward_fast_vs_naive (void)
{
  GRand *rand = g_rand_new_with_seed (2);
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      const NnConvGeom *g = &cases[c].g;
      size_t ni = inp_size (g), nw = weight_size (g), no = out_size (g);
      float *inp = buf_random (ni, rand), *w = buf_random (nw, rand);
      float *dout = buf_random (no, rand);
      /* both start from the same nonzero gradients: the kernels must add to them */
      float *di0 = buf_random (ni, rand), *dw0 = buf_random (nw, rand);
      float *db0 = buf_random (g->OC, rand);
      float *di1 = buf_dup (di0, ni), *dw1 = buf_dup (dw0, nw), *db1 = buf_dup (db0, g->OC);

      nn_conv2d_backward_naive (di0, dw0, db0, dout, inp, w, g);
      backward (true, di1, dw1, db1, dout, inp, w, g);
      test_util_assert_close (di1, di0, ni, 1e-4, "dinp, case '%s'", cases[c].name);
      test_util_assert_close (dw1, dw0, nw, 1e-4, "dweight, case '%s'", cases[c].name);
      test_util_assert_close (db1, db0, g->OC, 1e-4, "dbias, case '%s'", cases[c].name);

      float *all[] = { inp, w, dout, di0, dw0, db0, di1, dw1, db1 };
      size_t len[] = { ni, nw, no, ni, nw, g->OC, ni, nw, g->OC };
      for (size_t i = 0; i < G_N_ELEMENTS (all); i++)
        buf_check_free (all[i], len[i]);
    }
  g_rand_free (rand);
}

/* Every case as a one-op graph through the shared finite-difference check, on one thread and
 * on two (which split the batch, or a single sample's rows and input channels), at up to 60
 * elements of each tensor. The convolution is linear in each of its arguments, so the central
 * difference has no truncation error and the step can be large, which keeps float rounding of
 * the forward pass (about 1e-7 relative) far below the tolerance. The naive twin is held to the
 * fast kernels by the comparisons above. */
static void
test_backward_finite_differences (void)
{
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int threads = 1; threads <= 2; threads++)
      {
        const NnConvGeom *cg = &cases[c].g;
        NnGraph *g = nn_graph_new ();
        int in = nn_graph_add_input (g, "input", cg->C, cg->H, cg->W);
        NnNode spec = { .op = NN_OP_CONV2D, .name = "conv", .inputs = { in }, .n_inputs = 1 };
        spec.attrs.conv = (NnConvAttrs) {
          .out_channels = cg->OC, .kh = cg->KH, .kw = cg->KW, .sh = cg->SH, .sw = cg->SW,
          .pad_t = cg->PT, .pad_l = cg->PL, .pad_b = cg->PB, .pad_r = cg->PR,
          .dh = cg->DH, .dw = cg->DW, .groups = cg->G, .bias = true,
        };
        int conv = nn_graph_add (g, &spec, NULL);
        g_assert_cmpint (conv, ==, 1);
        g_assert_cmpint (g->nodes[conv].shape.h, ==, cg->OH);
        g_assert_cmpint (g->nodes[conv].shape.w, ==, cg->OW);
        grad_check_fill_param (g, conv, NN_PARAM_WEIGHT, 3 + c, -1.0f, 1.0f);
        grad_check_fill_param (g, conv, NN_PARAM_BIAS, 4 + c, -1.0f, 1.0f);
        g_autofree char *op = g_strdup_printf ("conv2d '%s' on %d thread%s", cases[c].name,
                                               threads, threads > 1 ? "s" : "");
        GradCheck gc;
        grad_check_init (&gc, op);
        gc.batch = cg->B;
        gc.threads = threads;
        gc.seed = 5 + c;
        gc.eps = 0.5;
        gc.abs_tol = 1e-3;
        gc.rel_tol = 1e-3;
        gc.max_points = 60;
        grad_check_graph (&gc, g);
        grad_check_assert (&gc);
        nn_graph_free (g);
      }
}

/* Two calls give twice the gradient of one; a NULL output is skipped and does not change
 * the others. */
static void
test_backward_accumulates (void)
{
  GRand *rand = g_rand_new_with_seed (4);
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int fast = 0; fast < 2; fast++)
      {
        const NnConvGeom *g = &cases[c].g;
        size_t ni = inp_size (g), nw = weight_size (g), no = out_size (g);
        float *inp = buf_random (ni, rand), *w = buf_random (nw, rand);
        float *dout = buf_random (no, rand);
        float *di = buf_new (ni, 0.0f), *dw = buf_new (nw, 0.0f), *db = buf_new (g->OC, 0.0f);
        float *di2 = buf_new (ni, 0.0f), *dw2 = buf_new (nw, 0.0f);
        float *db2 = buf_new (g->OC, 0.0f);

        backward (fast, di, dw, db, dout, inp, w, g);
        backward (fast, di2, dw2, db2, dout, inp, w, g);
        backward (fast, di2, dw2, db2, dout, inp, w, g);
        for (size_t i = 0; i < ni; i++)
          di[i] *= 2.0f;
        for (size_t i = 0; i < nw; i++)
          dw[i] *= 2.0f;
        for (size_t i = 0; i < (size_t) g->OC; i++)
          db[i] *= 2.0f;
        test_util_assert_close (di2, di, ni, 1e-4, "twice dinp, case '%s'", cases[c].name);
        test_util_assert_close (dw2, dw, nw, 1e-4, "twice dweight, case '%s'", cases[c].name);
        test_util_assert_close (db2, db, g->OC, 1e-4, "twice dbias, case '%s'", cases[c].name);

        /* one output at a time, into buffers that start at 1 */
        float *di1 = buf_new (ni, 1.0f), *dw1 = buf_new (nw, 1.0f), *db1 = buf_new (g->OC, 1.0f);
        backward (fast, di1, NULL, NULL, dout, inp, w, g);
        backward (fast, NULL, dw1, NULL, dout, inp, w, g);
        backward (fast, NULL, NULL, db1, dout, inp, w, g);
        backward (fast, NULL, NULL, NULL, dout, inp, w, g);
        for (size_t i = 0; i < ni; i++)
          di1[i] = (di1[i] - 1.0f) * 2.0f;
        for (size_t i = 0; i < nw; i++)
          dw1[i] = (dw1[i] - 1.0f) * 2.0f;
        for (size_t i = 0; i < (size_t) g->OC; i++)
          db1[i] = (db1[i] - 1.0f) * 2.0f;
        test_util_assert_close (di1, di, ni, 1e-4, "dinp alone, case '%s'", cases[c].name);
        test_util_assert_close (dw1, dw, nw, 1e-4, "dweight alone, case '%s'", cases[c].name);
        test_util_assert_close (db1, db, g->OC, 1e-4, "dbias alone, case '%s'", cases[c].name);

        float *all[] = { inp, w, dout, di, dw, db, di2, dw2, db2, di1, dw1, db1 };
        size_t len[] = { ni, nw, no, ni, nw, g->OC, ni, nw, g->OC, ni, nw, g->OC };
        for (size_t i = 0; i < G_N_ELEMENTS (all); i++)
          buf_check_free (all[i], len[i]);
      }
  g_rand_free (rand);
}

/* The band cases do span several bands: the scratch is smaller than the whole im2col
 * matrix, so the comparisons above cover the band edges. */
static void
test_bands (void)
{
  for (size_t c = G_N_ELEMENTS (cases) - N_BAND_CASES; c < G_N_ELEMENTS (cases); c++)
    {
      const NnConvGeom *g = &cases[c].g;
      size_t cols = (size_t) (g->C / g->G) * g->KH * g->KW * g->OH * g->OW;
      g_assert_cmpuint (nn_conv2d_scratch_size (g), >, 0);
      g_assert_cmpuint (nn_conv2d_scratch_size (g), <, cols);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  fill_geoms ();
  g_test_add_func ("/nn/conv2d/hand-forward", test_hand_forward);
  g_test_add_func ("/nn/conv2d/hand-backward", test_hand_backward);
  g_test_add_func ("/nn/conv2d/forward-fast-vs-naive", test_forward_fast_vs_naive);
  g_test_add_func ("/nn/conv2d/forward-parts", test_forward_parts);
  g_test_add_func ("/nn/conv2d/backward-fast-vs-naive", test_backward_fast_vs_naive);
  g_test_add_func ("/nn/conv2d/backward-input-parts", test_backward_input_parts);
  g_test_add_func ("/nn/conv2d/backward-finite-differences", test_backward_finite_differences);
  g_test_add_func ("/nn/conv2d/backward-accumulates", test_backward_accumulates);
  g_test_add_func ("/nn/conv2d/bands", test_bands);
  return g_test_run ();
}
