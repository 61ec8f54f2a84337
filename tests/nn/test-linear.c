/* SPDX-License-Identifier: MIT */
/* Linear layer: a hand-computed case, forward against a double-precision reference,
 * gradients through the graph against central finite differences, accumulation and NULL
 * outputs. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "grad-check.h"
#include "nn.h"
#include "test-util.h"

typedef struct
{
  int B, IN, OUT;
} Shape;

static const Shape shapes[] = {
  { 1, 1, 1 }, { 1, 7, 5 }, { 3, 4, 2 }, { 3, 1, 6 }, { 2, 9, 1 }, { 5, 33, 10 },
  { 64, 100, 10 },
};

static float *
random_new (size_t  n,
            GRand  *rand)
{
  float *p = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    p[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  return p;
}

static float *
filled_new (size_t n,
            float  v)
{
  float *p = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    p[i] = v;
  return p;
}

static void
test_hand (void)
{
  static const float inp[] = { 1, 2, 3, 4, 5, 6 };      /* (2, 3) */
  static const float w[] = { 1, 0, -1, 2, 1, 0 };      /* (2, 3) */
  static const float bias[] = { 0.5f, -1 };
  static const float dout[] = { 1, 2, 3, -1 };         /* (2, 2) */
  static const float eout[] = { -1.5f, 3, -1.5f, 12 };
  static const float edinp[] = { 5, 2, -1, 1, -1, -3 }; /* dout W */
  static const float edw[] = { 13, 17, 21, -2, -1, 0 }; /* dout^T inp */
  static const float edb[] = { 4, 1 };
  float out[4] = { NAN, NAN, NAN, NAN };
  float dinp[6] = { 0 }, dw[6] = { 0 }, db[2] = { 0 };

  nn_linear_forward (out, inp, w, bias, 2, 3, 2);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat_with_epsilon (out[i], eout[i], 1e-6);
  nn_linear_forward (out, inp, w, NULL, 2, 3, 2);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat_with_epsilon (out[i], eout[i] - bias[i % 2], 1e-6);

  nn_linear_backward (dinp, dw, db, dout, inp, w, 2, 3, 2);
  for (int i = 0; i < 6; i++)
    {
      g_assert_cmpfloat_with_epsilon (dinp[i], edinp[i], 1e-6);
      g_assert_cmpfloat_with_epsilon (dw[i], edw[i], 1e-6);
    }
  for (int i = 0; i < 2; i++)
    g_assert_cmpfloat_with_epsilon (db[i], edb[i], 1e-6);
}

static void
test_forward_reference (void)
{
  GRand *rand = g_rand_new_with_seed (1);
  for (size_t k = 0; k < G_N_ELEMENTS (shapes); k++)
    for (int with_bias = 0; with_bias < 2; with_bias++)
      {
        const Shape *s = &shapes[k];
        size_t no = (size_t) s->B * s->OUT;
        float *inp = random_new ((size_t) s->B * s->IN, rand);
        float *w = random_new ((size_t) s->OUT * s->IN, rand);
        float *bias = random_new (s->OUT, rand);
        float *out = filled_new (no, NAN), *ref = g_new (float, no);
        for (int b = 0; b < s->B; b++)
          for (int o = 0; o < s->OUT; o++)
            {
              double acc = with_bias ? (double) bias[o] : 0.0;
              for (int i = 0; i < s->IN; i++)
                acc += (double) inp[b * s->IN + i] * (double) w[o * s->IN + i];
              ref[b * s->OUT + o] = (float) acc;
            }
        nn_linear_forward (out, inp, w, with_bias ? bias : NULL, s->B, s->IN, s->OUT);
        test_util_assert_close (out, ref, no, 1e-5, "forward, shape %dx%d->%d", s->B, s->IN,
                                s->OUT);
        g_free (inp);
        g_free (w);
        g_free (bias);
        g_free (out);
        g_free (ref);
      }
  g_rand_free (rand);
}

/* Every shape, with and without bias, as a one-op graph through the shared finite-difference
 * check. The layer is linear in each argument, so central differences are exact up to rounding
 * and a large step keeps that rounding far below the tolerance. */
static void
test_backward_finite_differences (void)
{
  for (size_t k = 0; k < G_N_ELEMENTS (shapes); k++)
    for (int with_bias = 0; with_bias < 2; with_bias++)
      {
        const Shape *s = &shapes[k];
        NnGraph *g = nn_graph_new ();
        int in = nn_graph_add_input (g, "input", s->IN, 1, 1);
        int fc = nn_graph_add_linear (g, "fc", in, s->OUT, with_bias);
        grad_check_fill_param (g, fc, NN_PARAM_WEIGHT, 2 + k, -1.0f, 1.0f);
        if (with_bias)
          grad_check_fill_param (g, fc, NN_PARAM_BIAS, 3 + k, -1.0f, 1.0f);
        g_autofree char *op = g_strdup_printf ("linear %dx%d->%d%s", s->B, s->IN, s->OUT,
                                               with_bias ? " with bias" : "");
        GradCheck gc;
        grad_check_init (&gc, op);
        gc.batch = s->B;
        gc.seed = 4 + k;
        gc.eps = 0.5;
        gc.abs_tol = 1e-3;
        gc.rel_tol = 1e-3;
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
  GRand *rand = g_rand_new_with_seed (3);
  for (size_t k = 0; k < G_N_ELEMENTS (shapes); k++)
    {
      const Shape *s = &shapes[k];
      size_t ni = (size_t) s->B * s->IN, nw = (size_t) s->OUT * s->IN;
      size_t no = (size_t) s->B * s->OUT;
      float *inp = random_new (ni, rand), *w = random_new (nw, rand);
      float *dout = random_new (no, rand);
      float *di = filled_new (ni, 0.0f), *dw = filled_new (nw, 0.0f);
      float *db = filled_new (s->OUT, 0.0f);
      float *di2 = filled_new (ni, 0.0f), *dw2 = filled_new (nw, 0.0f);
      float *db2 = filled_new (s->OUT, 0.0f);
      float *di1 = filled_new (ni, 1.0f), *dw1 = filled_new (nw, 1.0f);
      float *db1 = filled_new (s->OUT, 1.0f);

      nn_linear_backward (di, dw, db, dout, inp, w, s->B, s->IN, s->OUT);
      nn_linear_backward (di2, dw2, db2, dout, inp, w, s->B, s->IN, s->OUT);
      nn_linear_backward (di2, dw2, db2, dout, inp, w, s->B, s->IN, s->OUT);
      nn_linear_backward (di1, NULL, NULL, dout, inp, w, s->B, s->IN, s->OUT);
      nn_linear_backward (NULL, dw1, NULL, dout, inp, w, s->B, s->IN, s->OUT);
      nn_linear_backward (NULL, NULL, db1, dout, inp, w, s->B, s->IN, s->OUT);
      nn_linear_backward (NULL, NULL, NULL, dout, inp, w, s->B, s->IN, s->OUT);

      for (size_t i = 0; i < ni; i++)
        {
          g_assert_cmpfloat_with_epsilon (di2[i], 2.0f * di[i], 1e-5);
          g_assert_cmpfloat_with_epsilon (di1[i], 1.0f + di[i], 1e-5);
        }
      for (size_t i = 0; i < nw; i++)
        {
          g_assert_cmpfloat_with_epsilon (dw2[i], 2.0f * dw[i], 1e-5);
          g_assert_cmpfloat_with_epsilon (dw1[i], 1.0f + dw[i], 1e-5);
        }
      for (size_t i = 0; i < (size_t) s->OUT; i++)
        {
          g_assert_cmpfloat_with_epsilon (db2[i], 2.0f * db[i], 1e-5);
          g_assert_cmpfloat_with_epsilon (db1[i], 1.0f + db[i], 1e-5);
        }

      float *all[] = { inp, w, dout, di, dw, db, di2, dw2, db2, di1, dw1, db1 };
      for (size_t i = 0; i < G_N_ELEMENTS (all); i++)
        g_free (all[i]);
    }
  g_rand_free (rand);
}

/* The parameter gradients of output rows [o0, o1) equal those rows of the whole backward,
 * leave the other rows alone, and pieces covering all rows add up to the whole. */
static void
test_backward_params_rows (void)
{
  GRand *rand = g_rand_new_with_seed (5);
  for (size_t k = 0; k < G_N_ELEMENTS (shapes); k++)
    {
      const Shape *s = &shapes[k];
      size_t ni = (size_t) s->B * s->IN, nw = (size_t) s->OUT * s->IN;
      float *inp = random_new (ni, rand), *w = random_new (nw, rand);
      float *dout = random_new ((size_t) s->B * s->OUT, rand);
      float *dw = filled_new (nw, 0.5f), *db = filled_new (s->OUT, 0.5f);
      float *dw_rows = filled_new (nw, 0.5f), *db_rows = filled_new (s->OUT, 0.5f);
      nn_linear_backward (NULL, dw, db, dout, inp, w, s->B, s->IN, s->OUT);
      int mid = s->OUT / 3;
      nn_linear_backward_params (dw_rows, db_rows, dout, inp, s->B, s->IN, s->OUT, mid, s->OUT);
      for (int o = 0; o < s->OUT; o++)
        {
          g_assert_cmpfloat (db_rows[o], ==, o < mid ? 0.5f : db[o]);
          for (int i = 0; i < s->IN; i++)
            if (o < mid)
              g_assert_cmpfloat (dw_rows[(size_t) o * s->IN + i], ==, 0.5f);
            else
              g_assert_cmpfloat_with_epsilon (dw_rows[(size_t) o * s->IN + i],
                                              dw[(size_t) o * s->IN + i], 1e-5);
        }
      nn_linear_backward_params (dw_rows, db_rows, dout, inp, s->B, s->IN, s->OUT, 0, mid);
      nn_linear_backward_params (dw_rows, NULL, dout, inp, s->B, s->IN, s->OUT, mid, mid);
      for (size_t i = 0; i < nw; i++)
        g_assert_cmpfloat_with_epsilon (dw_rows[i], dw[i], 1e-5);
      for (int o = 0; o < s->OUT; o++)
        g_assert_cmpfloat_with_epsilon (db_rows[o], db[o], 1e-5);
      float *all[] = { inp, w, dout, dw, db, dw_rows, db_rows };
      for (size_t i = 0; i < G_N_ELEMENTS (all); i++)
        g_free (all[i]);
    }
  g_rand_free (rand);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/linear/hand", test_hand);
  g_test_add_func ("/nn/linear/forward-reference", test_forward_reference);
  g_test_add_func ("/nn/linear/backward-finite-differences", test_backward_finite_differences);
  g_test_add_func ("/nn/linear/backward-accumulates", test_backward_accumulates);
  g_test_add_func ("/nn/linear/backward-params-rows", test_backward_params_rows);
  return g_test_run ();
}
