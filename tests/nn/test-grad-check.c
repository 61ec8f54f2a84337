/* SPDX-License-Identifier: MIT */
/* The finite-difference checker itself: it passes a true gradient, fails one that is not the
 * forward pass's derivative and names the op, tensor and element, samples large arrays, and
 * lets kinks through only up to the share it is given. */
#include <glib.h>
#include <string.h>

#include "grad-check.h"
#include "nn.h"

/* input (4, 3, 3) -> linear (5). */
static NnGraph *
linear_graph (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 4, 3, 3);
  int fc = nn_graph_add_linear (g, "fc", in, 5, true);
  grad_check_fill_param (g, fc, NN_PARAM_WEIGHT, 1, -1.0f, 1.0f);
  grad_check_fill_param (g, fc, NN_PARAM_BIAS, 2, -1.0f, 1.0f);
  return g;
}

static void
test_passes_true_gradient (void)
{
  NnGraph *g = linear_graph ();
  NnGraph *before = nn_graph_dup (g);
  GradCheck gc;
  grad_check_init (&gc, "linear");
  g_assert_true (grad_check_graph (&gc, g));
  g_assert_true (grad_check_passed (&gc));
  g_assert_cmpstr (gc.failure, ==, "");
  /* Every element of the input (2 x 36), the weight (5 x 36) and the bias (5). */
  g_assert_cmpuint (gc.n_checked, ==, 72 + 180 + 5);
  g_assert_cmpuint (gc.n_one_sided, ==, 0);
  /* The parameters are as they were. */
  g_assert_cmpmem (g->data, g->n_data * sizeof (float), before->data,
                   before->n_data * sizeof (float));
  nn_graph_free (before);
  nn_graph_free (g);
}

/* A ReLU whose backward follows ProxyGrad (slope 0.3 below zero) while its forward pass stays
 * the plain ReLU: the gradient is not the forward pass's derivative and the check fails at the
 * first negative input, whatever the tolerances of the op tests. */
static void
test_fails_wrong_gradient (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 6, 1, 1);
  nn_graph_add_relu (g, "relu", in);
  const float x[12] = { 0.5f, 0.8f, -0.6f, 0.3f, 0.9f, -0.2f,
                        0.4f, -0.7f, 0.6f, 0.1f, -0.9f, 0.2f };
  GradCheck gc;
  grad_check_init (&gc, "relu under ProxyGrad");
  gc.input = x;
  g_assert_true (grad_check_graph (&gc, g));
  g_assert_true (grad_check_passed (&gc));

  const NnGradPolicy proxy = { NN_GRAD_PROXY, 0.3f };
  nn_graph_set_policy (g, &proxy);
  grad_check_init (&gc, "relu under ProxyGrad");
  gc.input = x;
  g_assert_false (grad_check_graph (&gc, g));
  g_assert_false (grad_check_passed (&gc));
  g_test_message ("%s", gc.failure);
  g_assert_true (g_str_has_prefix (gc.failure, "relu under ProxyGrad: input[2]: analytic "));
  /* Later checks of the same GradCheck fail too and keep the first message. */
  char first[sizeof gc.failure];
  memcpy (first, gc.failure, sizeof first);
  NnGraph *lin = linear_graph ();
  g_assert_false (grad_check_graph (&gc, lin));
  g_assert_cmpstr (gc.failure, ==, first);
  nn_graph_free (lin);
  nn_graph_free (g);
}

/* A wrong parameter gradient is named by the parameter: the loss of grad_check_values here
 * is sum (w * x^2) and the gradient handed over is w * x, half the true one. */
typedef struct
{
  const float *x, *w;
  size_t       n;
} Square;

static double
square_loss (void *data)
{
  const Square *s = data;
  double l = 0.0;
  for (size_t i = 0; i < s->n; i++)
    l += (double) s->w[i] * (double) s->x[i] * (double) s->x[i];
  return l;
}

static void
test_values (void)
{
  float x[40], w[40], good[40], half[40];
  grad_check_fill (x, 40, 3, -2.0f, 2.0f);
  grad_check_fill (w, 40, 4, -1.0f, 1.0f);
  for (int i = 0; i < 40; i++)
    {
      good[i] = 2.0f * w[i] * x[i];
      half[i] = w[i] * x[i];
    }
  Square s = { x, w, 40 };
  GradCheck gc;
  grad_check_init (&gc, "square");
  g_assert_true (grad_check_values (&gc, "x", x, good, 40, square_loss, &s));
  g_assert_true (grad_check_passed (&gc));
  g_assert_cmpuint (gc.n_checked, ==, 40);

  /* Sampled: one element from each of 7 stretches. */
  grad_check_init (&gc, "square");
  gc.max_points = 7;
  g_assert_true (grad_check_values (&gc, "x", x, good, 40, square_loss, &s));
  g_assert_cmpuint (gc.n_checked, ==, 7);

  grad_check_init (&gc, "square");
  g_assert_false (grad_check_values (&gc, "weight", x, half, 40, square_loss, &s));
  g_assert_true (g_str_has_prefix (gc.failure, "square: weight[0]: analytic "));
}

/* ReLU inputs exactly at the kink: the exact gradient there is 0 (the left side), the central
 * difference 0.5. Without a kink share that fails; with one it passes as long as the kinks are
 * within the share. */
static void
test_kinks (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 10, 1, 1);
  nn_graph_add_relu (g, "relu", in);
  float x[10] = { 0.5f, -0.5f, 0.0f, 0.7f, -0.3f, 0.2f, 0.9f, -0.8f, 0.4f, 0.6f };
  GradCheck gc;
  grad_check_init (&gc, "relu at its kink");
  gc.batch = 1;
  gc.input = x;
  g_assert_false (grad_check_graph (&gc, g));
  g_assert_true (g_str_has_prefix (gc.failure, "relu at its kink: input[2]: "));

  grad_check_init (&gc, "relu at its kink");
  gc.batch = 1;
  gc.input = x;
  gc.kink_share = 0.1;
  g_assert_true (grad_check_graph (&gc, g));
  g_assert_true (grad_check_passed (&gc));
  g_assert_cmpuint (gc.n_one_sided, ==, 1);

  x[5] = 0.0f;
  grad_check_init (&gc, "relu at its kink");
  gc.batch = 1;
  gc.input = x;
  gc.kink_share = 0.1;
  g_assert_true (grad_check_graph (&gc, g));
  g_assert_cmpuint (gc.n_one_sided, ==, 2);
  g_assert_false (grad_check_passed (&gc));
  g_test_message ("%s", gc.failure);
  g_assert_nonnull (strstr (gc.failure, "2 of 10 elements"));
  nn_graph_free (g);
}

/* A frozen parameter is not compared, and must get no gradient. */
static void
test_frozen (void)
{
  NnGraph *g = linear_graph ();
  nn_graph_set_trainable (g, 1, false);
  GradCheck gc;
  grad_check_init (&gc, "frozen linear");
  g_assert_true (grad_check_graph (&gc, g));
  g_assert_true (grad_check_passed (&gc));
  g_assert_cmpuint (gc.n_checked, ==, 72);
  nn_graph_free (g);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/grad-check/passes-true-gradient", test_passes_true_gradient);
  g_test_add_func ("/nn/grad-check/fails-wrong-gradient", test_fails_wrong_gradient);
  g_test_add_func ("/nn/grad-check/values", test_values);
  g_test_add_func ("/nn/grad-check/kinks", test_kinks);
  g_test_add_func ("/nn/grad-check/frozen", test_frozen);
  return g_test_run ();
}
