/* SPDX-License-Identifier: MIT */
/* Batch and instance normalization: hand-computed statistics, the running-statistics update,
 * eval mode, every backward pass through the graph against central finite differences, and
 * accumulation. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "grad-check.h"
#include "nn.h"

#define EPS 1e-5f

typedef enum
{
  MODE_TRAIN,
  MODE_EVAL,
  MODE_INSTANCE,
} NormMode;

/* input (C, 1, HW) -> batch norm (training or eval) or instance norm, with gamma in [0.5, 1.5),
 * beta in [-0.5, 0.5), running mean in [-0.5, 0.5) and variance in [0.5, 2), through the shared
 * finite-difference check. The graph's batch norm is always affine: without affine parameters
 * it is gamma 1 and beta 0. */
static void
run_fd (NormMode mode,
        int      B,
        int      C,
        int      HW,
        bool     affine,
        uint64_t seed)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", C, 1, HW);
  int norm = mode == MODE_INSTANCE ? nn_graph_add_instancenorm (g, "norm", in, affine)
                                   : nn_graph_add_batchnorm (g, "norm", in);
  if (affine)
    {
      grad_check_fill_param (g, norm, NN_PARAM_WEIGHT, seed + 1, 0.5f, 1.5f);
      grad_check_fill_param (g, norm, NN_PARAM_BIAS, seed + 2, -0.5f, 0.5f);
    }
  if (mode != MODE_INSTANCE)
    {
      grad_check_fill_param (g, norm, NN_PARAM_RUNNING_MEAN, seed + 3, -0.5f, 0.5f);
      grad_check_fill_param (g, norm, NN_PARAM_RUNNING_VAR, seed + 4, 0.5f, 2.0f);
    }
  g_autofree float *x = g_new (float, (gsize) B * C * HW);
  grad_check_fill (x, (size_t) B * C * HW, seed, -2.0f, 3.0f);
  static const char *const names[] = { "batch norm, training", "batch norm, eval",
                                       "instance norm" };
  g_autofree char *op = g_strdup_printf ("%s (%d, %d, %d)%s", names[mode], B, C, HW,
                                         affine ? " affine" : "");
  GradCheck gc;
  grad_check_init (&gc, op);
  gc.batch = B;
  gc.training = mode == MODE_TRAIN;
  gc.input = x;
  gc.seed = seed + 5;
  gc.rel_tol = 2e-2;
  grad_check_graph (&gc, g);
  grad_check_assert (&gc);
  nn_graph_free (g);
}

static void
test_batchnorm_train_fd (void)
{
  run_fd (MODE_TRAIN, 2, 3, 5, true, 1);
  run_fd (MODE_TRAIN, 3, 2, 7, true, 2);
  run_fd (MODE_TRAIN, 5, 4, 1, true, 3);
  run_fd (MODE_TRAIN, 1, 2, 9, false, 4);
}

static void
test_batchnorm_eval_fd (void)
{
  run_fd (MODE_EVAL, 2, 3, 5, true, 5);
  run_fd (MODE_EVAL, 3, 1, 4, false, 6);
}

static void
test_instancenorm_fd (void)
{
  run_fd (MODE_INSTANCE, 2, 3, 5, true, 7);
  run_fd (MODE_INSTANCE, 3, 2, 9, false, 8);
  run_fd (MODE_INSTANCE, 1, 1, 2, true, 9);
}

/* Every backward pass adds to what its outputs hold, and leaves the affine gradients alone
 * without affine parameters. */
static void
test_backward_accumulates (void)
{
  enum { B = 2, C = 3, HW = 5, N = B * C * HW };
  float x[N], dy[N], out[N], gamma[C], beta[C], rm[C], rv[C], sm[B * C], si[B * C];
  grad_check_fill (x, N, 10, -2.0f, 3.0f);
  grad_check_fill (dy, N, 11, -1.0f, 1.0f);
  grad_check_fill (gamma, C, 12, 0.5f, 1.5f);
  grad_check_fill (beta, C, 13, -0.5f, 0.5f);
  grad_check_fill (rm, C, 14, -0.5f, 0.5f);
  grad_check_fill (rv, C, 15, 0.5f, 2.0f);
  for (NormMode mode = MODE_TRAIN; mode <= MODE_INSTANCE; mode++)
    for (int affine = 0; affine < 2; affine++)
      {
        const float *ga = affine ? gamma : NULL, *be = affine ? beta : NULL;
        float dx1[N] = { 0 }, dg1[C] = { 0 }, db1[C] = { 0 }, dx2[N], dg2[C], db2[C];
        float rm_tmp[C], rv_tmp[C];
        memcpy (rm_tmp, rm, sizeof rm);
        memcpy (rv_tmp, rv, sizeof rv);
        for (int i = 0; i < N; i++)
          dx2[i] = 0.5f;
        for (int c = 0; c < C; c++)
          dg2[c] = db2[c] = 0.25f;
        for (int pass = 0; pass < 3; pass++)
          {
            float *dx = pass == 0 ? dx1 : dx2;
            float *dg = pass == 0 ? dg1 : dg2, *db = pass == 0 ? db1 : db2;
            switch (mode)
              {
              case MODE_TRAIN:
                nn_batchnorm_forward_train (out, sm, si, rm_tmp, rv_tmp, x, ga, be, B, C, HW,
                                            EPS, 0.1f);
                nn_batchnorm_backward_train (dx, affine ? dg : NULL, affine ? db : NULL, dy, x,
                                             ga, sm, si, B, C, HW);
                break;
              case MODE_EVAL:
                nn_batchnorm_backward_eval (dx, affine ? dg : NULL, affine ? db : NULL, dy, x,
                                            ga, rm, rv, B, C, HW, EPS);
                break;
              case MODE_INSTANCE:
                nn_instancenorm_forward (out, sm, si, x, ga, be, B, C, HW, EPS);
                nn_instancenorm_backward (dx, affine ? dg : NULL, affine ? db : NULL, dy, x, ga,
                                          sm, si, B, C, HW);
                break;
              }
          }
        for (int i = 0; i < N; i++)
          g_assert_cmpfloat_with_epsilon (dx2[i], 0.5f + 2.0f * dx1[i], 1e-5);
        for (int c = 0; c < C; c++)
          {
            g_assert_cmpfloat_with_epsilon (dg2[c], 0.25f + 2.0f * dg1[c], 1e-4);
            g_assert_cmpfloat_with_epsilon (db2[c], 0.25f + 2.0f * db1[c], 1e-4);
          }
      }
}

/* (B=2, C=2, HW=2). Channel 0 holds 1, 2, 3, 6: mean 3, biased variance 14/4 = 3.5,
 * unbiased 14/3. Channel 1 holds -1, 0.5, 2, 4.5: mean 1.5, biased 16.5/4 = 4.125,
 * unbiased 16.5/3 = 5.5. */
static void
test_batchnorm_train_stats (void)
{
  const float x[8] = { 1, 2, -1, 0.5f, 3, 6, 2, 4.5f };
  const float gamma[2] = { 2.0f, -1.0f };
  const float beta[2] = { 0.5f, 1.0f };
  const double mean[2] = { 3.0, 1.5 };
  const double var[2] = { 3.5, 4.125 };
  float rm[2] = { 0.5f, -1.0f };
  float rv[2] = { 2.0f, 0.5f };
  float out[8], sm[2], si[2];

  nn_batchnorm_forward_train (out, sm, si, rm, rv, x, gamma, beta, 2, 2, 2, EPS, 0.1f);
  for (int c = 0; c < 2; c++)
    {
      g_assert_cmpfloat_with_epsilon (sm[c], mean[c], 1e-6);
      g_assert_cmpfloat_with_epsilon (si[c], 1.0 / sqrt (var[c] + 1e-5), 1e-6);
    }
  /* running = 0.9 running + 0.1 batch, with the unbiased variance. */
  g_assert_cmpfloat_with_epsilon (rm[0], 0.9 * 0.5 + 0.1 * 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (rm[1], 0.9 * -1.0 + 0.1 * 1.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (rv[0], 0.9 * 2.0 + 0.1 * 14.0 / 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (rv[1], 0.9 * 0.5 + 0.1 * 5.5, 1e-6);
  for (int b = 0; b < 2; b++)
    for (int c = 0; c < 2; c++)
      for (int k = 0; k < 2; k++)
        {
          int i = (b * 2 + c) * 2 + k;
          double want = gamma[c] * (x[i] - mean[c]) / sqrt (var[c] + 1e-5) + beta[c];
          g_assert_cmpfloat_with_epsilon (out[i], want, 1e-5);
        }

  /* A second batch moves the running statistics again from where they are. */
  float rm1 = rm[0], rv1 = rv[0];
  nn_batchnorm_forward_train (out, sm, si, rm, rv, x, gamma, beta, 2, 2, 2, EPS, 0.1f);
  g_assert_cmpfloat_with_epsilon (rm[0], 0.9 * rm1 + 0.1 * 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (rv[0], 0.9 * rv1 + 0.1 * 14.0 / 3.0, 1e-6);

  /* Without affine parameters the output is the plain standardized value. */
  nn_batchnorm_forward_train (out, sm, si, rm, rv, x, NULL, NULL, 2, 2, 2, EPS, 0.1f);
  g_assert_cmpfloat_with_epsilon (out[0], (1.0 - 3.0) / sqrt (3.5 + 1e-5), 1e-5);
  g_assert_cmpfloat_with_epsilon (out[7], (4.5 - 1.5) / sqrt (4.125 + 1e-5), 1e-5);
}

static void
test_batchnorm_eval (void)
{
  const float x[8] = { 1, 2, -1, 0.5f, 3, 6, 2, 4.5f };
  const float gamma[2] = { 2.0f, -1.0f };
  const float beta[2] = { 0.5f, 1.0f };
  const float rm[2] = { 0.25f, -1.0f };
  const float rv[2] = { 4.0f, 0.09f };
  float out[8];

  nn_batchnorm_forward_eval (out, x, gamma, beta, rm, rv, 2, 2, 2, EPS);
  for (int b = 0; b < 2; b++)
    for (int c = 0; c < 2; c++)
      for (int k = 0; k < 2; k++)
        {
          int i = (b * 2 + c) * 2 + k;
          double want = gamma[c] * (x[i] - rm[c]) / sqrt (rv[c] + 1e-5) + beta[c];
          g_assert_cmpfloat_with_epsilon (out[i], want, 1e-5);
        }
  /* x = 1 in channel 0: 2 * 0.75 / sqrt (4.00001) + 0.5 = 1.25 (nearly). */
  g_assert_cmpfloat_with_epsilon (out[0], 1.25, 1e-4);

  /* The eval backward is the affine map: dx = gamma / sqrt (rv + eps) dy. */
  float dout[8], dx[8] = { 0 };
  for (int i = 0; i < 8; i++)
    dout[i] = (float) (i + 1);
  nn_batchnorm_backward_eval (dx, NULL, NULL, dout, x, gamma, rm, rv, 2, 2, 2, EPS);
  for (int b = 0; b < 2; b++)
    for (int c = 0; c < 2; c++)
      for (int k = 0; k < 2; k++)
        {
          int i = (b * 2 + c) * 2 + k;
          g_assert_cmpfloat_with_epsilon (dx[i], gamma[c] * dout[i] / sqrt (rv[c] + 1e-5), 1e-4);
        }
}

/* (B=2, C=1, HW=4): sample 0 holds 1, 2, 3, 6 (mean 3, var 3.5), sample 1 holds
 * -1, 0.5, 2, 4.5 (mean 1.5, var 4.125): statistics per sample, not over the batch. */
static void
test_instancenorm_stats (void)
{
  const float x[8] = { 1, 2, 3, 6, -1, 0.5f, 2, 4.5f };
  const float gamma[1] = { 1.5f };
  const float beta[1] = { -0.5f };
  const double mean[2] = { 3.0, 1.5 };
  const double var[2] = { 3.5, 4.125 };
  float out[8], sm[2], si[2];

  nn_instancenorm_forward (out, sm, si, x, gamma, beta, 2, 1, 4, EPS);
  for (int b = 0; b < 2; b++)
    {
      g_assert_cmpfloat_with_epsilon (sm[b], mean[b], 1e-6);
      g_assert_cmpfloat_with_epsilon (si[b], 1.0 / sqrt (var[b] + 1e-5), 1e-6);
      for (int k = 0; k < 4; k++)
        {
          int i = b * 4 + k;
          double want = 1.5 * (x[i] - mean[b]) / sqrt (var[b] + 1e-5) - 0.5;
          g_assert_cmpfloat_with_epsilon (out[i], want, 1e-5);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/norm/batchnorm-train-stats", test_batchnorm_train_stats);
  g_test_add_func ("/nn/norm/batchnorm-eval", test_batchnorm_eval);
  g_test_add_func ("/nn/norm/instancenorm-stats", test_instancenorm_stats);
  g_test_add_func ("/nn/norm/batchnorm-train-backward-finite-differences",
                   test_batchnorm_train_fd);
  g_test_add_func ("/nn/norm/batchnorm-eval-backward-finite-differences",
                   test_batchnorm_eval_fd);
  g_test_add_func ("/nn/norm/instancenorm-backward-finite-differences", test_instancenorm_fd);
  g_test_add_func ("/nn/norm/backward-accumulates", test_backward_accumulates);
  return g_test_run ();
}
