/* SPDX-License-Identifier: MIT */
/* Batch and instance normalization: hand-computed statistics, the running-statistics update,
 * eval mode, and every backward pass against central finite differences. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"

#define EPS 1e-5f

typedef enum
{
  MODE_TRAIN,
  MODE_EVAL,
  MODE_INSTANCE,
} NormMode;

typedef struct
{
  NormMode mode;
  int      B, C, HW;
  float   *x, *gamma, *beta, *rm, *rv;  /* gamma/beta NULL when not affine */
  float   *w;                           /* weights of the scalar loss: sum w * out */
  float   *out, *sm, *si, *rm_tmp, *rv_tmp;
} NormCase;

static void
norm_forward (NormCase *nc)
{
  size_t C = (size_t) nc->C;
  switch (nc->mode)
    {
    case MODE_TRAIN:
      /* Fresh copies of the running statistics, so repeated forwards see the same state. */
      memcpy (nc->rm_tmp, nc->rm, sizeof (float) * C);
      memcpy (nc->rv_tmp, nc->rv, sizeof (float) * C);
      nn_batchnorm_forward_train (nc->out, nc->sm, nc->si, nc->rm_tmp, nc->rv_tmp, nc->x,
                                  nc->gamma, nc->beta, nc->B, nc->C, nc->HW, EPS, 0.1f);
      break;
    case MODE_EVAL:
      nn_batchnorm_forward_eval (nc->out, nc->x, nc->gamma, nc->beta, nc->rm, nc->rv, nc->B,
                                 nc->C, nc->HW, EPS);
      break;
    case MODE_INSTANCE:
      nn_instancenorm_forward (nc->out, nc->sm, nc->si, nc->x, nc->gamma, nc->beta, nc->B,
                               nc->C, nc->HW, EPS);
      break;
    default:
      g_assert_not_reached ();
    }
}

static double
norm_loss (NormCase *nc)
{
  norm_forward (nc);
  size_t n = (size_t) nc->B * nc->C * nc->HW;
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += (double) nc->w[i] * (double) nc->out[i];
  return s;
}

/* Compares analytic[i] with the central difference of the loss in x[i]. */
static void
check_fd (NormCase    *nc,
          float       *x,
          const float *analytic,
          size_t       n,
          const char  *what)
{
  const float h = 1e-2f;
  for (size_t i = 0; i < n; i++)
    {
      float save = x[i];
      x[i] = save + h;
      float xp = x[i];
      double lp = norm_loss (nc);
      x[i] = save - h;
      float xm = x[i];
      double lm = norm_loss (nc);
      x[i] = save;
      double num = (lp - lm) / ((double) xp - (double) xm);
      double ana = (double) analytic[i];
      double tol = 2e-3 + 2e-2 * fmax (fabs (num), fabs (ana));
      if (fabs (num - ana) > tol)
        g_error ("%s[%zu]: analytic %g, finite differences %g", what, i, ana, num);
    }
}

static void
fill_uniform (float  *x,
              size_t  n,
              NnRng  *rng,
              float   lo,
              float   hi)
{
  for (size_t i = 0; i < n; i++)
    x[i] = lo + (hi - lo) * nn_rng_uniform (rng);
}

static void
run_fd (NormMode mode,
        int      B,
        int      C,
        int      HW,
        bool     affine,
        uint64_t seed)
{
  NnRng rng;
  nn_rng_init (&rng, seed);
  size_t n = (size_t) B * C * HW;
  size_t nstat = mode == MODE_INSTANCE ? (size_t) B * C : (size_t) C;
  NormCase nc = { .mode = mode, .B = B, .C = C, .HW = HW };
  nc.x = g_new (float, n);
  nc.w = g_new (float, n);
  nc.out = g_new (float, n);
  nc.sm = g_new (float, nstat);
  nc.si = g_new (float, nstat);
  nc.rm = g_new (float, C);
  nc.rv = g_new (float, C);
  nc.rm_tmp = g_new (float, C);
  nc.rv_tmp = g_new (float, C);
  float *gamma = g_new (float, C);
  float *beta = g_new (float, C);
  fill_uniform (nc.x, n, &rng, -2.0f, 3.0f);
  fill_uniform (nc.w, n, &rng, -1.0f, 1.0f);
  fill_uniform (gamma, C, &rng, 0.5f, 1.5f);
  fill_uniform (beta, C, &rng, -0.5f, 0.5f);
  fill_uniform (nc.rm, C, &rng, -0.5f, 0.5f);
  fill_uniform (nc.rv, C, &rng, 0.5f, 2.0f);
  nc.gamma = affine ? gamma : NULL;
  nc.beta = affine ? beta : NULL;

  /* Gradients accumulate: start from a known non-zero value and subtract it afterwards. */
  const float base = 0.25f;
  float *dx = g_new (float, n);
  float *dg = g_new (float, C);
  float *db = g_new (float, C);
  for (size_t i = 0; i < n; i++)
    dx[i] = base;
  for (int c = 0; c < C; c++)
    dg[c] = db[c] = base;

  norm_forward (&nc);
  float *dgp = affine ? dg : NULL, *dbp = affine ? db : NULL;
  switch (mode)
    {
    case MODE_TRAIN:
      nn_batchnorm_backward_train (dx, dgp, dbp, nc.w, nc.x, nc.gamma, nc.sm, nc.si, B, C, HW);
      break;
    case MODE_EVAL:
      nn_batchnorm_backward_eval (dx, dgp, dbp, nc.w, nc.x, nc.gamma, nc.rm, nc.rv, B, C, HW,
                                  EPS);
      break;
    case MODE_INSTANCE:
      nn_instancenorm_backward (dx, dgp, dbp, nc.w, nc.x, nc.gamma, nc.sm, nc.si, B, C, HW);
      break;
    default:
      g_assert_not_reached ();
    }
  for (size_t i = 0; i < n; i++)
    dx[i] -= base;
  for (int c = 0; c < C; c++)
    {
      dg[c] -= base;
      db[c] -= base;
    }

  check_fd (&nc, nc.x, dx, n, "dinp");
  if (affine)
    {
      check_fd (&nc, gamma, dg, (size_t) C, "dgamma");
      check_fd (&nc, beta, db, (size_t) C, "dbeta");
    }
  else
    for (int c = 0; c < C; c++)
      g_assert_cmpfloat (dg[c], ==, 0.0f);

  g_free (nc.x);
  g_free (nc.w);
  g_free (nc.out);
  g_free (nc.sm);
  g_free (nc.si);
  g_free (nc.rm);
  g_free (nc.rv);
  g_free (nc.rm_tmp);
  g_free (nc.rv_tmp);
  g_free (gamma);
  g_free (beta);
  g_free (dx);
  g_free (dg);
  g_free (db);
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
  return g_test_run ();
}
