/* SPDX-License-Identifier: MIT */
/* Sum, mean and max over any per-sample axes: the geometry, hand values, the output shapes with
 * and without keepdims, and the backward pass against finite differences through a graph. */
#include <glib.h>
#include <math.h>

#include "grad-check.h"
#include "nn.h"
#include "ops/nn-reduce.h"

/* Two samples of (2, 3): every kind over the last axis, the first, and both. */
static void
test_values (void)
{
  const float x[12] = { 1, 5, 3, -1, -2, -3, /**/ 0, 0, 7, 2, 8, 2 };
  NnReduceGeom g;
  float out[6];
  int32_t am[6];
  g_assert_true (nn_reduce_geom (&g, 2, (const int[]) { 2, 3 }, 2));
  g_assert_cmpuint (g.nout, ==, 2);
  g_assert_cmpuint (g.count, ==, 3);
  nn_reduce_forward (out, NULL, x, &g, 2, NN_REDUCE_SUM);
  const float sum[4] = { 9, -6, 7, 12 };
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (out[i], ==, sum[i]);
  nn_reduce_forward (out, am, x, &g, 2, NN_REDUCE_MAX);
  const float max[4] = { 5, -1, 7, 8 };
  const int32_t where[4] = { 1, 3, 2, 4 };
  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpfloat (out[i], ==, max[i]);
      g_assert_cmpint (am[i], ==, where[i]);
    }
  float dout[4] = { 1, 2, 3, 4 }, dx[12] = { 0 };
  nn_reduce_backward (dx, dout, am, &g, 2, NN_REDUCE_MAX);
  g_assert_cmpfloat (dx[1], ==, 1.0f);
  g_assert_cmpfloat (dx[3], ==, 2.0f);
  g_assert_cmpfloat (dx[6 + 2], ==, 3.0f);
  g_assert_cmpfloat (dx[6 + 4], ==, 4.0f);
  g_assert_cmpfloat (dx[0] + dx[2] + dx[4] + dx[5], ==, 0.0f);

  g_assert_true (nn_reduce_geom (&g, 2, (const int[]) { 2, 3 }, 1));
  nn_reduce_forward (out, NULL, x, &g, 2, NN_REDUCE_MEAN);
  const float mean[6] = { 0, 1.5f, 0, 1, 4, 4.5f };
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (out[i], ==, mean[i]);
  for (int i = 0; i < 12; i++)
    dx[i] = 0.0f;
  const float dm[6] = { 2, 4, 6, 8, 10, 12 };
  nn_reduce_backward (dx, dm, NULL, &g, 2, NN_REDUCE_MEAN);
  g_assert_cmpfloat (dx[0], ==, 1.0f);
  g_assert_cmpfloat (dx[3], ==, 1.0f);
  g_assert_cmpfloat (dx[6 + 5], ==, 6.0f);

  g_assert_true (nn_reduce_geom (&g, 2, (const int[]) { 2, 3 }, 3));
  g_assert_cmpuint (g.nout, ==, 1);
  g_assert_false (nn_reduce_geom (&g, 2, (const int[]) { 2, 3 }, 0));
  g_assert_false (nn_reduce_geom (&g, 2, (const int[]) { 2, 3 }, 4));
}

static void
test_shapes (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 3, 4, 5);
  int a = nn_graph_add_reduce (g, NN_OP_REDUCE_MEAN, "spatial", in, 6, false);
  g_assert_true (nn_shape_equal (g->nodes[a].shape, nn_shape_of (1, (const int[]) { 3 })));
  int b = nn_graph_add_reduce (g, NN_OP_REDUCE_SUM, "keep", in, 1, true);
  g_assert_true (nn_shape_equal (g->nodes[b].shape, nn_shape_of (3, (const int[]) { 1, 4, 5 })));
  int c = nn_graph_add_reduce (g, NN_OP_REDUCE_MAX, "all", in, 7, false);
  g_assert_true (nn_shape_equal (g->nodes[c].shape, nn_shape_of (1, (const int[]) { 1 })));
  NnNode spec = { .op = NN_OP_REDUCE_SUM, .inputs = { in }, .n_inputs = 1 };
  snprintf (spec.name, sizeof spec.name, "bad");
  spec.attrs.reduce.axes = 8;
  NnError err = { 0 };
  g_assert_cmpint (nn_graph_add (g, &spec, &err), <, 0);
  g_assert_nonnull (strstr (err.message, "node 'bad': axes mask 8 out of range for rank 3"));
  nn_graph_free (g);
}

/* input (3, 4, 5) -> reduce over each mask, checked against finite differences (max over
 * values that are distinct and far apart, so that no winner changes within eps). */
static void
test_grad (void)
{
  enum { C = 3, H = 4, W = 5, B = 2 };
  const NnOp ops[] = { NN_OP_REDUCE_SUM, NN_OP_REDUCE_MEAN, NN_OP_REDUCE_MAX };
  float x[B * C * H * W];
  for (int i = 0; i < B * C * H * W; i++)
    x[i] = 0.1f * (float) ((i * 37) % (B * C * H * W)) - 5.0f;
  for (gsize k = 0; k < G_N_ELEMENTS (ops); k++)
    for (int axes = 1; axes < 8; axes++)
      {
        NnGraph *g = nn_graph_new ();
        int in = nn_graph_add_input (g, "input", C, H, W);
        nn_graph_add_reduce (g, ops[k], "reduce", in, axes, axes & 1);
        GradCheck gc;
        char name[64];
        snprintf (name, sizeof name, "%s axes %d", nn_op_name (ops[k]), axes);
        grad_check_init (&gc, name);
        gc.batch = B;
        gc.input = x;
        grad_check_graph (&gc, g);
        grad_check_assert (&gc);
        nn_graph_free (g);
      }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/reduce/values", test_values);
  g_test_add_func ("/nn/reduce/shapes", test_shapes);
  g_test_add_func ("/nn/reduce/grad", test_grad);
  return g_test_run ();
}
