/* SPDX-License-Identifier: MIT */
/* Pooling: values PyTorch gives for the same windows (padding, count_include_pad, ceil-mode
 * output sizes), max-pool ties and padding, backward passes through the graph (and of the
 * ceil-mode kernels) against finite differences, and accumulation. */
#include <glib.h>
#include <math.h>

#include "grad-check.h"
#include "nn.h"

typedef struct
{
  int         B, C, H, W, OH, OW;
  NnPoolAttrs a;
} PoolCase;

static NnPoolAttrs
square (int  k,
        int  s,
        int  p,
        bool include_pad)
{
  return (NnPoolAttrs) { .kh = k, .kw = k, .sh = s, .sw = s, .pad_t = p, .pad_l = p,
                         .pad_b = p, .pad_r = p, .count_include_pad = include_pad };
}

static void
check_values (const float *got,
              const float *want,
              int          n)
{
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (got[i], want[i], 1e-5);
}

/* Reference values printed by torch.nn.functional.avg_pool2d / max_pool2d on the 5x5 input
 * 1..25 and the 6x6 input 1..36 (row-major). */
static void
test_pytorch_values (void)
{
  float x5[25], x6[36], neg5[25], out[16];
  int32_t am[16];
  for (int i = 0; i < 25; i++)
    {
      x5[i] = (float) (i + 1);
      neg5[i] = -(float) (i + 1);
    }
  for (int i = 0; i < 36; i++)
    x6[i] = (float) (i + 1);

  /* k 3, s 2, p 1, count_include_pad true: the corner divides 1+2+6+7 by 9. */
  NnPoolAttrs a = square (3, 2, 1, true);
  nn_avgpool_forward (out, x5, &a, 1, 1, 5, 5, 3, 3);
  const float want_a[9] = { 16.0f / 9, 33.0f / 9, 28.0f / 9, 69.0f / 9, 13.0f, 87.0f / 9,
                            76.0f / 9, 123.0f / 9, 88.0f / 9 };
  check_values (out, want_a, 9);

  /* The same without padding in the count. */
  a.count_include_pad = false;
  nn_avgpool_forward (out, x5, &a, 1, 1, 5, 5, 3, 3);
  const float want_b[9] = { 4.0f, 5.5f, 7.0f, 11.5f, 13.0f, 14.5f, 19.0f, 20.5f, 22.0f };
  check_values (out, want_b, 9);

  /* ceil_mode (k 2, s 2, 5 -> 3): the last window runs past the input and counts only what
   * lies inside it, even with count_include_pad. */
  a = square (2, 2, 0, true);
  nn_avgpool_forward (out, x5, &a, 1, 1, 5, 5, 3, 3);
  const float want_c[9] = { 4.0f, 6.0f, 7.5f, 14.0f, 16.0f, 17.5f, 21.5f, 23.5f, 25.0f };
  check_values (out, want_c, 9);

  /* ceil_mode with padding (k 3, s 2, p 1, 6 -> 4): the last window keeps its padded row and
   * column in the count but not the cells beyond the padding. */
  a = square (3, 2, 1, true);
  nn_avgpool_forward (out, x6, &a, 1, 1, 6, 6, 4, 4);
  const float want_d[16] = { 2.0f, 4.0f, 16.0f / 3, 3.0f, 9.0f, 15.0f, 17.0f, 9.0f,
                             17.0f, 27.0f, 29.0f, 15.0f, 10.5f, 16.5f, 17.5f, 9.0f };
  check_values (out, want_d, 16);
  a.count_include_pad = false;
  nn_avgpool_forward (out, x6, &a, 1, 1, 6, 6, 4, 4);
  const float want_e[16] = { 4.5f, 6.0f, 8.0f, 9.0f, 13.5f, 15.0f, 17.0f, 18.0f,
                             25.5f, 27.0f, 29.0f, 30.0f, 31.5f, 33.0f, 35.0f, 36.0f };
  check_values (out, want_e, 16);

  /* Max of negative values with padding: padded cells (0) never win. */
  a = square (3, 2, 1, true);
  nn_maxpool_forward (out, am, neg5, &a, 1, 1, 5, 5, 3, 3);
  const float want_m[9] = { -1, -2, -4, -6, -7, -9, -16, -17, -19 };
  const int32_t want_mi[9] = { 0, 1, 3, 5, 6, 8, 15, 16, 18 };
  check_values (out, want_m, 9);
  for (int i = 0; i < 9; i++)
    g_assert_cmpint (am[i], ==, want_mi[i]);

  /* Max pooling in ceil mode. */
  nn_maxpool_forward (out, am, x6, &a, 1, 1, 6, 6, 4, 4);
  const int32_t want_ni[16] = { 7, 9, 11, 11, 19, 21, 23, 23, 31, 33, 35, 35, 31, 33, 35, 35 };
  for (int i = 0; i < 16; i++)
    {
      g_assert_cmpint (am[i], ==, want_ni[i]);
      g_assert_cmpfloat (out[i], ==, x6[want_ni[i]]);
    }
}

/* Ties go to the first index of the window in row-major order. */
static void
test_maxpool_ties (void)
{
  float x[16], out[9];
  int32_t am[9];
  for (int i = 0; i < 16; i++)
    x[i] = 1.0f;
  x[5] = x[6] = 2.0f; /* (1,1) and (1,2) tie */
  NnPoolAttrs a = square (2, 1, 0, true);
  nn_maxpool_forward (out, am, x, &a, 1, 1, 4, 4, 3, 3);
  /* Window (0,0) covers 0,1,4,5 -> 5; (0,1) covers 1,2,5,6 -> 5 (first of the tie);
   * (0,2) covers 2,3,6,7 -> 6; (2,2) is all ones -> its first cell 10. */
  g_assert_cmpint (am[0], ==, 5);
  g_assert_cmpint (am[1], ==, 5);
  g_assert_cmpint (am[2], ==, 6);
  g_assert_cmpint (am[8], ==, 10);
  g_assert_cmpfloat (out[8], ==, 1.0f);

  /* With padding and all-equal negative values, the first in-bounds cell wins. */
  for (int i = 0; i < 16; i++)
    x[i] = -3.0f;
  NnPoolAttrs p = square (3, 2, 1, true);
  nn_maxpool_forward (out, am, x, &p, 1, 1, 4, 4, 2, 2);
  const int32_t want[4] = { 0, 1, 4, 5 };
  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpint (am[i], ==, want[i]);
      g_assert_cmpfloat (out[i], ==, -3.0f);
    }

  /* The backward pass routes each output gradient to its winner only, and accumulates. */
  float dout[4] = { 1.0f, 2.0f, 3.0f, 4.0f }, dx[16];
  for (int i = 0; i < 16; i++)
    dx[i] = 0.5f;
  nn_maxpool_backward (dx, dout, am, 1, 1, 4, 4, 2, 2);
  for (int i = 0; i < 16; i++)
    {
      float want_dx = 0.5f;
      for (int k = 0; k < 4; k++)
        if (am[k] == i)
          want_dx += dout[k];
      g_assert_cmpfloat (dx[i], ==, want_dx);
    }
}

/* The naive twin of max pooling: each window clipped to the input and scanned in row-major
 * order, a strictly larger value or the first NaN taking over. */
static void
maxpool_naive (float             *out,
               int32_t           *argmax,
               const float       *x,
               const NnPoolAttrs *a,
               int                BC,
               int                H,
               int                W,
               int                OH,
               int                OW)
{
  for (int bc = 0; bc < BC; bc++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++)
        {
          const float *p = x + (size_t) bc * H * W;
          int h0 = oh * a->sh - a->pad_t, w0 = ow * a->sw - a->pad_l, best = -1;
          for (int h = MAX (h0, 0); h < MIN (h0 + a->kh, H); h++)
            for (int w = MAX (w0, 0); w < MIN (w0 + a->kw, W); w++)
              if (best < 0 || (isnan (p[h * W + w]) && !isnan (p[best]))
                  || p[h * W + w] > p[best])
                best = h * W + w;
          out[((size_t) bc * OH + oh) * OW + ow] = p[best];
          argmax[((size_t) bc * OH + oh) * OW + ow] = best;
        }
}

/* The row-at-a-time loops against the naive twin: values from a small set (many ties), some
 * NaNs and infinities, odd and even sizes, padding, floor and ceil mode. */
static void
test_maxpool_against_naive (void)
{
  static const struct
  {
    int         H, W, OH, OW;
    NnPoolAttrs a;
  } cases[] = {
    { 28, 28, 14, 14, { 2, 2, 2, 2, 0, 0, 0, 0, true } },
    { 7, 9, 3, 4, { 2, 2, 2, 2, 0, 0, 0, 0, true } },
    { 7, 9, 4, 5, { 2, 2, 2, 2, 0, 0, 0, 0, true } },
    { 2, 2, 1, 1, { 2, 2, 2, 2, 0, 0, 0, 0, true } },
    { 6, 34, 3, 17, { 2, 2, 2, 2, 0, 0, 0, 0, true } },
    { 5, 3, 3, 2, { 2, 2, 2, 2, 0, 0, 0, 0, true } },
    { 12, 12, 6, 6, { 3, 3, 2, 2, 1, 1, 1, 1, true } },
    { 11, 13, 6, 7, { 3, 3, 2, 2, 1, 1, 1, 1, true } },
    { 6, 6, 4, 4, { 3, 3, 2, 2, 1, 1, 1, 1, true } },
    { 9, 10, 9, 10, { 3, 3, 1, 1, 1, 1, 1, 1, true } },
    { 5, 7, 5, 4, { 2, 3, 1, 2, 1, 0, 0, 2, true } },
    { 3, 3, 1, 1, { 3, 3, 3, 3, 0, 0, 0, 0, true } },
    { 4, 2, 4, 2, { 3, 3, 1, 1, 1, 2, 1, 2, true } },
  };
  NnRng rng;
  nn_rng_init (&rng, 42);
  for (size_t t = 0; t < G_N_ELEMENTS (cases); t++)
    {
      const int BC = 3, H = cases[t].H, W = cases[t].W, OH = cases[t].OH, OW = cases[t].OW;
      const size_t n = (size_t) BC * H * W, m = (size_t) BC * OH * OW;
      float *x = g_new (float, n), *out = g_new (float, m), *want = g_new (float, m);
      int32_t *am = g_new (int32_t, m), *want_am = g_new (int32_t, m);
      for (size_t i = 0; i < n; i++)
        {
          uint32_t r = nn_rng_below (&rng, 40);
          x[i] = r == 0 ? NAN : r == 1 ? -INFINITY : r == 2 ? INFINITY : (float) (r % 5) - 2.0f;
        }
      nn_maxpool_forward (out, am, x, &cases[t].a, 1, BC, H, W, OH, OW);
      maxpool_naive (want, want_am, x, &cases[t].a, BC, H, W, OH, OW);
      for (size_t i = 0; i < m; i++)
        {
          g_assert_cmpint (am[i], ==, want_am[i]);
          g_assert_true ((isnan (out[i]) && isnan (want[i])) || out[i] == want[i]);
        }
      g_free (x);
      g_free (out);
      g_free (want);
      g_free (am);
      g_free (want_am);
    }
}

typedef enum
{
  KIND_MAX,
  KIND_AVG,
} PoolKind;

/* A shuffled ladder with steps of 0.1, so that no perturbation of 0.01 changes which cell wins
 * a max. */
static float *
ladder_new (size_t   n,
            uint64_t seed)
{
  float *x = g_new (float, n);
  int *order = g_new (int, n);
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (size_t i = 0; i < n; i++)
    order[i] = (int) i;
  nn_rng_shuffle (&rng, order, (int) n);
  for (size_t i = 0; i < n; i++)
    x[i] = 0.1f * (float) order[i] - 0.05f * (float) n;
  g_free (order);
  return x;
}

/* input (C, H, W) -> max or average pool, through the shared finite-difference check; the
 * graph's output size must be the case's. */
static void
check_pool_fd (PoolKind        kind,
               const PoolCase *pc,
               uint64_t        seed)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", pc->C, pc->H, pc->W);
  NnNode spec = { .op = kind == KIND_MAX ? NN_OP_MAXPOOL : NN_OP_AVGPOOL, .name = "pool",
                  .inputs = { in }, .n_inputs = 1, .attrs.pool = pc->a };
  int pool = nn_graph_add (g, &spec, NULL);
  g_assert_cmpint (pool, ==, 1);
  g_assert_cmpint (g->nodes[pool].shape.h, ==, pc->OH);
  g_assert_cmpint (g->nodes[pool].shape.w, ==, pc->OW);
  g_autofree float *x = ladder_new ((size_t) pc->B * pc->C * pc->H * pc->W, seed);
  const NnPoolAttrs *a = &pc->a;
  g_autofree char *op = g_strdup_printf ("%s %dx%d stride %dx%d pads %d %d %d %d%s on (%d, %d, "
                                         "%d, %d)", kind == KIND_MAX ? "max pool" : "avg pool",
                                         a->kh, a->kw, a->sh, a->sw, a->pad_t, a->pad_l,
                                         a->pad_b, a->pad_r,
                                         kind == KIND_AVG && a->count_include_pad
                                         ? " counting the padding" : "",
                                         pc->B, pc->C, pc->H, pc->W);
  GradCheck gc;
  grad_check_init (&gc, op);
  gc.batch = pc->B;
  gc.input = x;
  gc.seed = seed;
  gc.abs_tol = 1e-3;
  gc.rel_tol = 2e-3;
  grad_check_graph (&gc, g);
  grad_check_assert (&gc);
  nn_graph_free (g);
}

/* The graph's pools round their output size down; PyTorch's ceil mode is the same pool with
 * the end padding grown to match, as the ONNX reader builds it (the last two cases). */
static const PoolCase *
pool_cases (int *count)
{
  static const PoolCase cases[] = {
    { 2, 3, 7, 5, 4, 3, { 3, 3, 2, 2, 1, 1, 1, 1, true } },
    { 1, 2, 6, 6, 3, 3, { 2, 2, 2, 2, 0, 0, 0, 0, true } },
    { 1, 1, 5, 5, 5, 5, { 3, 3, 1, 1, 1, 1, 1, 1, true } },
    /* asymmetric kernel, stride and padding: OH = (5+1+0-2)/1+1, OW = (7+0+2-3)/2+1 */
    { 2, 2, 5, 7, 5, 4, { 2, 3, 1, 2, 1, 0, 0, 2, true } },
    /* ceil mode: 6 -> 4 with k 3, s 2, p 1 and 5 -> 3 with k 2, s 2 */
    { 1, 2, 6, 6, 4, 4, { 3, 3, 2, 2, 1, 1, 2, 2, true } },
    { 2, 1, 5, 5, 3, 3, { 2, 2, 2, 2, 0, 0, 1, 1, true } },
  };
  *count = (int) G_N_ELEMENTS (cases);
  return cases;
}

static void
test_maxpool_fd (void)
{
  int count;
  const PoolCase *cases = pool_cases (&count);
  for (int i = 0; i < count; i++)
    check_pool_fd (KIND_MAX, &cases[i], (uint64_t) i + 1);
}

static void
test_avgpool_fd (void)
{
  int count;
  const PoolCase *cases = pool_cases (&count);
  for (int i = 0; i < count; i++)
    for (int inc = 0; inc < 2; inc++)
      {
        PoolCase pc = cases[i];
        pc.a.count_include_pad = inc;
        check_pool_fd (KIND_AVG, &pc, (uint64_t) i + 11);
      }
}

/* sum (w * pool (x)) of the kernels called directly, for the sizes only a direct call has. */
typedef struct
{
  PoolKind        kind;
  const PoolCase *pc;
  const float    *x, *w;
  float          *out;
  int32_t        *argmax;
} KernelLoss;

static double
kernel_loss (void *data)
{
  KernelLoss *l = data;
  const PoolCase *pc = l->pc;
  if (l->kind == KIND_MAX)
    nn_maxpool_forward (l->out, l->argmax, l->x, &pc->a, pc->B, pc->C, pc->H, pc->W, pc->OH,
                        pc->OW);
  else
    nn_avgpool_forward (l->out, l->x, &pc->a, pc->B, pc->C, pc->H, pc->W, pc->OH, pc->OW);
  double s = 0.0;
  for (size_t i = 0; i < (size_t) pc->B * pc->C * pc->OH * pc->OW; i++)
    s += (double) l->w[i] * (double) l->out[i];
  return s;
}

/* The kernels also take PyTorch's ceil-mode sizes as they are (the last window running past
 * the padding, which counts only what lies inside it); no graph asks for them, so their
 * backward passes are checked on the kernels directly. */
static void
test_ceil_mode_kernels_fd (void)
{
  static const PoolCase cases[] = {
    { 1, 2, 6, 6, 4, 4, { 3, 3, 2, 2, 1, 1, 1, 1, true } },
    { 2, 1, 5, 5, 3, 3, { 2, 2, 2, 2, 0, 0, 0, 0, true } },
  };
  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++)
    for (int kind = KIND_MAX; kind <= KIND_AVG; kind++)
      for (int inc = 0; inc < 2; inc++)
        {
          PoolCase pc = cases[k];
          pc.a.count_include_pad = inc;
          size_t n = (size_t) pc.B * pc.C * pc.H * pc.W;
          size_t m = (size_t) pc.B * pc.C * pc.OH * pc.OW;
          g_autofree float *x = ladder_new (n, 21 + k);
          g_autofree float *w = g_new (float, m), *out = g_new (float, m);
          g_autofree float *dx = g_new0 (float, n);
          g_autofree int32_t *argmax = g_new (int32_t, m);
          grad_check_fill (w, m, 22 + k, -1.0f, 1.0f);
          KernelLoss l = { (PoolKind) kind, &pc, x, w, out, argmax };
          kernel_loss (&l);
          if (kind == KIND_MAX)
            nn_maxpool_backward (dx, w, argmax, pc.B, pc.C, pc.H, pc.W, pc.OH, pc.OW);
          else
            nn_avgpool_backward (dx, w, &pc.a, pc.B, pc.C, pc.H, pc.W, pc.OH, pc.OW);
          GradCheck gc;
          grad_check_init (&gc, kind == KIND_MAX ? "max pool kernel, ceil mode"
                                                 : inc ? "avg pool kernel, ceil mode, "
                                                         "counting the padding"
                                                       : "avg pool kernel, ceil mode");
          gc.abs_tol = 1e-3;
          grad_check_values (&gc, "input", x, dx, n, kernel_loss, &l);
          grad_check_assert (&gc);
        }
}

/* The backward passes add to what dinp holds. */
static void
test_backward_accumulates (void)
{
  const PoolCase pc = { 2, 3, 7, 5, 4, 3, { 3, 3, 2, 2, 1, 1, 1, 1, true } };
  enum { N = 2 * 3 * 7 * 5, M = 2 * 3 * 4 * 3 };
  float x[N], dy[M], out[M];
  int32_t argmax[M];
  grad_check_fill (x, N, 31, -1.0f, 1.0f);
  grad_check_fill (dy, M, 32, -1.0f, 1.0f);
  nn_maxpool_forward (out, argmax, x, &pc.a, pc.B, pc.C, pc.H, pc.W, pc.OH, pc.OW);
  for (int kind = KIND_MAX; kind <= KIND_AVG; kind++)
    {
      float once[N] = { 0 }, twice[N];
      for (int i = 0; i < N; i++)
        twice[i] = 0.5f;
      for (int pass = 0; pass < 3; pass++)
        if (kind == KIND_MAX)
          nn_maxpool_backward (pass == 0 ? once : twice, dy, argmax, pc.B, pc.C, pc.H, pc.W,
                               pc.OH, pc.OW);
        else
          nn_avgpool_backward (pass == 0 ? once : twice, dy, &pc.a, pc.B, pc.C, pc.H, pc.W,
                               pc.OH, pc.OW);
      for (int i = 0; i < N; i++)
        g_assert_cmpfloat_with_epsilon (twice[i], 0.5f + 2.0f * once[i], 1e-5);
    }
}

/* Global average pooling as a one-op graph. */
static void
test_global_avgpool_fd (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 3, 4, 5);
  nn_graph_add_global_avgpool (g, "gap", in);
  GradCheck gc;
  grad_check_init (&gc, "global average pool");
  grad_check_graph (&gc, g);
  grad_check_assert (&gc);
  nn_graph_free (g);
}

static void
test_global_avgpool (void)
{
  /* (B=2, C=2, HW=3). */
  const float x[12] = { 1, 2, 3, -1, 0, 4, 10, 20, 30, 0.5f, 0.5f, 2 };
  float out[4];
  nn_global_avgpool_forward (out, x, 2, 2, 3);
  const float want[4] = { 2.0f, 1.0f, 20.0f, 1.0f };
  check_values (out, want, 4);

  const float dout[4] = { 3.0f, -6.0f, 1.5f, 0.0f };
  float dx[12];
  for (int i = 0; i < 12; i++)
    dx[i] = 1.0f;
  nn_global_avgpool_backward (dx, dout, 2, 2, 3);
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat_with_epsilon (dx[i], 1.0f + dout[i / 3] / 3.0f, 1e-6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/pool/pytorch-values", test_pytorch_values);
  g_test_add_func ("/nn/pool/maxpool-ties-and-padding", test_maxpool_ties);
  g_test_add_func ("/nn/pool/maxpool-against-naive", test_maxpool_against_naive);
  g_test_add_func ("/nn/pool/maxpool-backward-finite-differences", test_maxpool_fd);
  g_test_add_func ("/nn/pool/avgpool-backward-finite-differences", test_avgpool_fd);
  g_test_add_func ("/nn/pool/ceil-mode-kernels-finite-differences", test_ceil_mode_kernels_fd);
  g_test_add_func ("/nn/pool/backward-accumulates", test_backward_accumulates);
  g_test_add_func ("/nn/pool/global-avgpool", test_global_avgpool);
  g_test_add_func ("/nn/pool/global-avgpool-finite-differences", test_global_avgpool_fd);
  return g_test_run ();
}
