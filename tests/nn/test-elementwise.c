/* SPDX-License-Identifier: MIT */
/* Add, mul, concat, softmax, dropout and cross-entropy: hand values, stability with large
 * logits, dropout statistics, and backward passes against finite differences (through the
 * graph for the ops). */
#include <glib.h>
#include <math.h>

#include "grad-check.h"
#include "nn.h"

static void
test_add_mul (void)
{
  const float a[4] = { 1.0f, -2.0f, 0.5f, 3.0f };
  const float b[4] = { 4.0f, 0.25f, -1.0f, 2.0f };
  const float dout[4] = { 1.0f, 2.0f, -3.0f, 0.5f };
  float out[4], da[4], db[4];

  nn_add_forward (out, a, b, 4);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (out[i], ==, a[i] + b[i]);
  nn_mul_forward (out, a, b, 4);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (out[i], ==, a[i] * b[i]);

  for (int i = 0; i < 4; i++)
    da[i] = db[i] = 1.0f;
  nn_add_backward (da, db, dout, 4);
  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpfloat (da[i], ==, 1.0f + dout[i]);
      g_assert_cmpfloat (db[i], ==, 1.0f + dout[i]);
    }
  nn_add_backward (NULL, db, dout, 4);
  g_assert_cmpfloat (db[2], ==, 1.0f + 2.0f * dout[2]);

  for (int i = 0; i < 4; i++)
    da[i] = db[i] = 1.0f;
  nn_mul_backward (da, db, dout, a, b, 4);
  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpfloat (da[i], ==, 1.0f + dout[i] * b[i]);
      g_assert_cmpfloat (db[i], ==, 1.0f + dout[i] * a[i]);
    }
  nn_mul_backward (da, NULL, dout, a, b, 4);
  g_assert_cmpfloat (da[3], ==, 1.0f + 2.0f * dout[3] * b[3]);
}

/* Concat over channels of (B=2, 1, HW=2) and (B=2, 2, HW=2) into (B=2, 3, HW=2). */
static void
test_concat (void)
{
  const float p[4] = { 1, 2, 3, 4 };
  const float q[8] = { 10, 11, 12, 13, 20, 21, 22, 23 };
  const float *inputs[2] = { p, q };
  const int channels[2] = { 1, 2 };
  float out[12];
  nn_concat_forward (out, inputs, channels, 2, 2, 2);
  const float want[12] = { 1, 2, 10, 11, 12, 13, 3, 4, 20, 21, 22, 23 };
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat (out[i], ==, want[i]);

  float dout[12], dp[4], dq[8];
  for (int i = 0; i < 12; i++)
    dout[i] = (float) (i + 1);
  for (int i = 0; i < 4; i++)
    dp[i] = 0.5f;
  for (int i = 0; i < 8; i++)
    dq[i] = 0.5f;
  float *dins[2] = { dp, dq };
  nn_concat_backward (dins, dout, channels, 2, 2, 2);
  /* Each input gets back exactly the slice it contributed: out[k] came from want[k]. */
  const float dp_want[4] = { 1, 2, 7, 8 };
  const float dq_want[8] = { 3, 4, 5, 6, 9, 10, 11, 12 };
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (dp[i], ==, 0.5f + dp_want[i]);
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat (dq[i], ==, 0.5f + dq_want[i]);

  /* NULL entries are skipped, the others still get their own slice. */
  float *only_q[2] = { NULL, dq };
  nn_concat_backward (only_q, dout, channels, 2, 2, 2);
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat (dq[i], ==, 0.5f + 2.0f * dq_want[i]);
}

static void
test_softmax (void)
{
  /* (B=3, N=4): an ordinary row, a row of huge logits, a row of very negative ones. */
  const float x[12] = { 0.5f, -1.0f, 2.0f, 0.0f,
                        1000.0f, 1001.0f, 1002.0f, 999.0f,
                        -1000.0f, -1001.0f, -1002.0f, -999.0f };
  float y[12];
  nn_softmax_forward (y, x, 3, 4);
  for (int b = 0; b < 3; b++)
    {
      double sum = 0.0;
      for (int i = 0; i < 4; i++)
        {
          g_assert_true (isfinite (y[b * 4 + i]));
          g_assert_cmpfloat (y[b * 4 + i], >, 0.0f);
          sum += y[b * 4 + i];
        }
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-6);
    }
  /* Row 0 by hand; row 1 equals softmax (1, 2, 3, 0); row 2 equals softmax (-1, -2, -3, 0). */
  double z0 = exp (0.5) + exp (-1.0) + exp (2.0) + 1.0;
  g_assert_cmpfloat_with_epsilon (y[2], exp (2.0) / z0, 1e-6);
  g_assert_cmpfloat_with_epsilon (y[1], exp (-1.0) / z0, 1e-6);
  double z1 = exp (1.0) + exp (2.0) + exp (3.0) + 1.0;
  g_assert_cmpfloat_with_epsilon (y[6], exp (3.0) / z1, 1e-6);
  g_assert_cmpfloat_with_epsilon (y[7], 1.0 / z1, 1e-6);
  double z2 = exp (-1.0) + exp (-2.0) + exp (-3.0) + 1.0;
  g_assert_cmpfloat_with_epsilon (y[11], 1.0 / z2, 1e-6);
}

/* input (N) -> softmax, through the shared finite-difference check. */
static void
test_softmax_fd (void)
{
  enum { B = 3, N = 5 };
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", N, 1, 1);
  nn_graph_add_softmax (g, "softmax", in);
  float x[B * N];
  grad_check_fill (x, B * N, 3, -2.0f, 2.0f);
  GradCheck gc;
  grad_check_init (&gc, "softmax");
  gc.batch = B;
  gc.input = x;
  gc.abs_tol = 5e-4;
  gc.rel_tol = 2e-3;
  grad_check_graph (&gc, g);
  grad_check_assert (&gc);
  nn_graph_free (g);
}

/* The softmax backward adds to what dinp holds. */
static void
test_softmax_accumulates (void)
{
  enum { B = 3, N = 5 };
  float x[B * N], y[B * N], dy[B * N], once[B * N] = { 0 }, twice[B * N];
  grad_check_fill (x, B * N, 4, -2.0f, 2.0f);
  grad_check_fill (dy, B * N, 5, -1.0f, 1.0f);
  for (int i = 0; i < B * N; i++)
    twice[i] = 0.25f;
  nn_softmax_forward (y, x, B, N);
  nn_softmax_backward (once, dy, y, B, N);
  nn_softmax_backward (twice, dy, y, B, N);
  nn_softmax_backward (twice, dy, y, B, N);
  for (int i = 0; i < B * N; i++)
    g_assert_cmpfloat_with_epsilon (twice[i], 0.25f + 2.0f * once[i], 1e-6);
}

/* The ops test_graph_fd puts after the input and a per-element scale of it. */
typedef enum
{
  GRAPH_ADD,
  GRAPH_MUL,
  GRAPH_CONCAT,
  GRAPH_RESHAPE_FLATTEN,
  GRAPH_DROPOUT,
} GraphOp;

/* Add, mul and concat of the input and a per-element scale of it (so that their two inputs
 * differ and share one gradient buffer), a reshape then flatten, and dropout (the identity in
 * eval mode), through the shared finite-difference check. */
static void
test_graph_fd (void)
{
  static const char *const names[] = { "add", "mul", "concat", "reshape and flatten",
                                       "dropout, eval" };
  for (GraphOp op = GRAPH_ADD; op <= GRAPH_DROPOUT; op++)
    {
      NnGraph *g = nn_graph_new ();
      int in = nn_graph_add_input (g, "input", 2, 3, 4);
      int scaled = nn_graph_add_scale (g, "scale", in, true);
      grad_check_fill_param (g, scaled, NN_PARAM_WEIGHT, 6 + op, -1.0f, 1.0f);
      grad_check_fill_param (g, scaled, NN_PARAM_BIAS, 7 + op, -1.0f, 1.0f);
      const int both[2] = { in, scaled };
      switch (op)
        {
        case GRAPH_ADD:
          nn_graph_add_add (g, "add", in, scaled);
          break;
        case GRAPH_MUL:
          nn_graph_add_mul (g, "mul", in, scaled);
          break;
        case GRAPH_CONCAT:
          nn_graph_add_concat (g, "concat", both, 2);
          break;
        case GRAPH_RESHAPE_FLATTEN:
          nn_graph_add_flatten (g, "flatten", nn_graph_add_reshape (g, "reshape", scaled, 4, 2,
                                                                    3));
          break;
        case GRAPH_DROPOUT:
          nn_graph_add_dropout (g, "dropout", scaled, 0.5f);
          break;
        }
      GradCheck gc;
      grad_check_init (&gc, names[op]);
      gc.seed = 8 + op;
      gc.rel_tol = 2e-3;
      grad_check_graph (&gc, g);
      grad_check_assert (&gc);
      nn_graph_free (g);
    }
}

static void
test_dropout (void)
{
  enum { N = 200000 };
  const float p = 0.3f;
  float *x = g_new (float, N), *y = g_new (float, N), *dx = g_new (float, N);
  float *dy = g_new (float, N);
  uint8_t *mask = g_new (uint8_t, N), *mask2 = g_new (uint8_t, N);
  for (int i = 0; i < N; i++)
    {
      x[i] = 1.0f + (float) (i % 7);
      dy[i] = (float) (i % 5) - 2.0f;
      dx[i] = 0.5f;
    }
  NnRng rng;
  nn_rng_init (&rng, 42);
  nn_dropout_forward (y, mask, x, N, p, &rng);

  /* Mask consistency: kept cells are scaled by 1/(1-p), dropped ones are 0. */
  double kept = 0.0, mean_in = 0.0, mean_out = 0.0;
  for (int i = 0; i < N; i++)
    {
      g_assert_true (mask[i] == 0 || mask[i] == 1);
      if (mask[i])
        g_assert_cmpfloat_with_epsilon (y[i], x[i] / (1.0f - p), 1e-5);
      else
        g_assert_cmpfloat (y[i], ==, 0.0f);
      kept += mask[i];
      mean_in += x[i];
      mean_out += y[i];
    }
  /* Keep rate 0.7 (sd of the estimate ~0.001) and the expectation is preserved. */
  g_assert_cmpfloat_with_epsilon (kept / N, 0.7, 0.005);
  g_assert_cmpfloat_with_epsilon (mean_out / mean_in, 1.0, 0.01);

  nn_dropout_backward (dx, dy, mask, N, p);
  for (int i = 0; i < N; i++)
    g_assert_cmpfloat_with_epsilon (dx[i], 0.5f + (mask[i] ? dy[i] / (1.0f - p) : 0.0f),
                                    1e-5);

  /* Same seed, same mask; another seed, another mask. */
  nn_rng_init (&rng, 42);
  nn_dropout_forward (y, mask2, x, N, p, &rng);
  g_assert_cmpmem (mask, N, mask2, N);
  nn_rng_init (&rng, 43);
  nn_dropout_forward (y, mask2, x, N, p, &rng);
  int differ = 0;
  for (int i = 0; i < N; i++)
    differ += mask[i] != mask2[i];
  g_assert_cmpint (differ, >, N / 10);

  /* p = 0 keeps everything unchanged. */
  nn_dropout_forward (y, mask, x, N, 0.0f, &rng);
  for (int i = 0; i < N; i++)
    {
      g_assert_cmpint (mask[i], ==, 1);
      g_assert_cmpfloat (y[i], ==, x[i]);
    }
  g_free (x);
  g_free (y);
  g_free (dx);
  g_free (dy);
  g_free (mask);
  g_free (mask2);
}

static void
test_cross_entropy (void)
{
  /* Row 0: logits (1, 2, 3), label 2 -> log (e + e^2 + e^3) - 3 = 0.40760596, predicted 2.
   * Row 1: logits (0, 0, 0), label 0 -> log 3 = 1.09861229, predicted 0 (first of the tie).
   * Row 2: logits (5, 1, -2), label 1 -> log (e^5 + e + e^-2) - 1, predicted 0 (a miss). */
  const float x[9] = { 1, 2, 3, 0, 0, 0, 5, 1, -2 };
  const int labels[3] = { 2, 0, 1 };
  float d[9];
  for (int i = 0; i < 9; i++)
    d[i] = 123.0f;
  int correct = -1;
  float loss = nn_cross_entropy (d, &correct, x, labels, 3, 3);
  double l2 = log (exp (5.0) + exp (1.0) + exp (-2.0)) - 1.0;
  g_assert_cmpfloat_with_epsilon (loss, (0.40760596 + 1.09861229 + l2) / 3.0, 1e-6);
  g_assert_cmpint (correct, ==, 2);

  /* The gradient is (softmax - onehot) / B and overwrites what was there. */
  double z0 = exp (1.0) + exp (2.0) + exp (3.0);
  g_assert_cmpfloat_with_epsilon (d[0], exp (1.0) / z0 / 3.0, 1e-7);
  g_assert_cmpfloat_with_epsilon (d[2], (exp (3.0) / z0 - 1.0) / 3.0, 1e-7);
  g_assert_cmpfloat_with_epsilon (d[3], (1.0 / 3.0 - 1.0) / 3.0, 1e-7);
  g_assert_cmpfloat_with_epsilon (d[4], 1.0 / 9.0, 1e-7);
  for (int b = 0; b < 3; b++)
    g_assert_cmpfloat_with_epsilon (d[3 * b] + d[3 * b + 1] + d[3 * b + 2], 0.0, 1e-7);

  /* NULL outputs are allowed; huge logits stay finite. */
  const float big[3] = { 1000.0f, 990.0f, 1010.0f };
  const int label = 0;
  loss = nn_cross_entropy (NULL, NULL, big, &label, 1, 3);
  g_assert_cmpfloat_with_epsilon (loss, log (exp (-10.0) + exp (-20.0) + 1.0) + 10.0, 1e-5);
}

/* The mean cross-entropy of logits x against labels, as grad_check_values needs it. */
typedef struct
{
  const float *x;
  const int   *labels;
  int          B, N;
} CrossEntropy;

static double
cross_entropy_loss (void *data)
{
  const CrossEntropy *ce = data;
  return nn_cross_entropy (NULL, NULL, ce->x, ce->labels, ce->B, ce->N);
}

static void
test_cross_entropy_fd (void)
{
  enum { B = 4, N = 6 };
  float x[B * N], d[B * N];
  int labels[B] = { 0, 5, 2, 2 };
  NnRng rng;
  nn_rng_init (&rng, 9);
  for (int i = 0; i < B * N; i++)
    x[i] = 6.0f * nn_rng_uniform (&rng) - 3.0f;
  nn_cross_entropy (d, NULL, x, labels, B, N);
  CrossEntropy ce = { x, labels, B, N };
  GradCheck gc;
  grad_check_init (&gc, "cross-entropy");
  gc.abs_tol = 2e-4;
  grad_check_values (&gc, "logits", x, d, B * N, cross_entropy_loss, &ce);
  grad_check_assert (&gc);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/elementwise/add-mul", test_add_mul);
  g_test_add_func ("/nn/elementwise/concat", test_concat);
  g_test_add_func ("/nn/elementwise/softmax", test_softmax);
  g_test_add_func ("/nn/elementwise/softmax-backward-finite-differences", test_softmax_fd);
  g_test_add_func ("/nn/elementwise/softmax-backward-accumulates", test_softmax_accumulates);
  g_test_add_func ("/nn/elementwise/graph-backward-finite-differences", test_graph_fd);
  g_test_add_func ("/nn/elementwise/dropout", test_dropout);
  g_test_add_func ("/nn/elementwise/cross-entropy", test_cross_entropy);
  g_test_add_func ("/nn/elementwise/cross-entropy-finite-differences", test_cross_entropy_fd);
  return g_test_run ();
}
