/* SPDX-License-Identifier: MIT */
/* Products of tensors and the softmax along an axis: hand values of the kernels, the shape
 * rules of dense, matmul and softmax_axis, and their backward passes against finite
 * differences through graphs. */
#include <glib.h>
#include <string.h>

#include "grad-check.h"
#include "nn.h"
#include "ops/nn-matmul.h"

static void
test_matmul_values (void)
{
  /* Two products of (2, 3) by (3, 2). */
  const float a[12] = { 1, 2, 3, 4, 5, 6, /**/ 1, 0, -1, 0, 2, 0 };
  const float b[12] = { 1, 0, 0, 1, 1, 1, /**/ 2, 1, 3, 0, -1, 4 };
  float c[8];
  nn_matmul_forward (c, a, b, 2, 2, 3, 2);
  const float want[8] = { 4, 5, 10, 11, /**/ 3, -3, 6, 0 };
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat (c[i], ==, want[i]);
  /* dout = ones: da = ones b^T (row sums of b), db = a^T ones (column sums of a). */
  const float ones[8] = { 1, 1, 1, 1, 1, 1, 1, 1 };
  float da[12] = { 0 }, db[12] = { 0 };
  nn_matmul_backward (da, db, ones, a, b, 2, 2, 3, 2);
  const float want_da[12] = { 1, 1, 2, 1, 1, 2, /**/ 3, 3, 3, 3, 3, 3 };
  const float want_db[12] = { 5, 5, 7, 7, 9, 9, /**/ 1, 1, 2, 2, -1, -1 };
  for (int i = 0; i < 12; i++)
    {
      g_assert_cmpfloat (da[i], ==, want_da[i]);
      g_assert_cmpfloat (db[i], ==, want_db[i]);
    }
}

static void
test_softmax_values (void)
{
  /* (1, 2, 2) along the middle axis: each column (stride 2) sums to 1. */
  const float x[4] = { 0.0f, 1.0f, G_LN2, 1.0f };
  float y[4];
  nn_softmax_axis_forward (y, x, 1, 2, 2);
  g_assert_cmpfloat_with_epsilon (y[0], 1.0 / 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (y[2], 2.0 / 3.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (y[1], 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (y[3], 0.5, 1e-6);
  /* A gradient equal along the axis gives nothing; one on the first value p (1 - p). */
  float dx[4] = { 0 };
  const float dy[4] = { 1, 1, 0, 0 };
  nn_softmax_axis_backward (dx, dy, y, 1, 2, 2);
  g_assert_cmpfloat_with_epsilon (dx[0], 2.0 / 9.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (dx[2], -2.0 / 9.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (dx[1], 0.25, 1e-6);
  g_assert_cmpfloat_with_epsilon (dx[3], -0.25, 1e-6);
  /* Large values stay finite. */
  const float big[2] = { 1000.0f, 0.0f };
  nn_softmax_axis_forward (y, big, 1, 2, 1);
  g_assert_cmpfloat (y[0], ==, 1.0f);
  g_assert_cmpfloat (y[1], ==, 0.0f);
}

static NnError
add_fails (NnGraph *g,
           NnNode   spec)
{
  NnError err = { 0 };
  snprintf (spec.name, sizeof spec.name, "bad");
  g_assert_cmpint (nn_graph_add (g, &spec, &err), <, 0);
  return err;
}

static void
test_shapes (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input_shape (g, "input", nn_shape_of (3, (const int[]) { 2, 4, 3 }));
  int dn = nn_graph_add_dense (g, "dense", in, 5, true);
  g_assert_true (nn_shape_equal (g->nodes[dn].shape,
                                 nn_shape_of (3, (const int[]) { 2, 4, 5 })));
  g_assert_cmpint (g->params[nn_graph_node_param (g, dn, NN_PARAM_WEIGHT)].dims[1], ==, 3);
  int t = nn_graph_add_transpose (g, "t", in, (const int[]) { 0, 2, 1 });
  int mm = nn_graph_add_matmul (g, "mm", in, t);
  g_assert_true (nn_shape_equal (g->nodes[mm].shape,
                                 nn_shape_of (3, (const int[]) { 2, 4, 4 })));
  int sm = nn_graph_add_softmax_axis (g, "sm", mm, 1);
  g_assert_true (nn_shape_equal (g->nodes[sm].shape, g->nodes[mm].shape));

  NnNode spec = { .op = NN_OP_MATMUL, .inputs = { in, in }, .n_inputs = 2 };
  NnError err = add_fails (g, spec);
  g_assert_nonnull (strstr (err.message, "node 'bad': matmul of 2x4x3 and 2x4x3"));
  spec = (NnNode) { .op = NN_OP_SOFTMAX_AXIS, .inputs = { in }, .n_inputs = 1,
                    .attrs.axis.axis = 3 };
  err = add_fails (g, spec);
  g_assert_nonnull (strstr (err.message, "node 'bad': softmax axis 3 out of range"));
  spec = (NnNode) { .op = NN_OP_DENSE, .inputs = { in }, .n_inputs = 1,
                    .attrs.linear.out_features = 0 };
  err = add_fails (g, spec);
  g_assert_nonnull (strstr (err.message, "node 'bad': 0 output features out of range"));
  nn_graph_free (g);
}

static void
check_graph (const char *op,
             NnGraph    *g)
{
  NnRng rng;
  nn_rng_init (&rng, 5);
  nn_graph_init_params (g, &rng);
  GradCheck gc;
  grad_check_init (&gc, op);
  gc.abs_tol = 1e-3;
  gc.rel_tol = 5e-3;
  grad_check_graph (&gc, g);
  grad_check_assert (&gc);
  nn_graph_free (g);
}

static void
test_grad (void)
{
  /* Dense over the last axis of ranks 1 to 3, with and without bias. */
  for (int rank = 1; rank <= 3; rank++)
    {
      NnGraph *g = nn_graph_new ();
      const int dims[3] = { 3, 2, 4 };
      int in = nn_graph_add_input_shape (g, "input", nn_shape_of (rank, dims + 3 - rank));
      nn_graph_add_dense (g, "dense", in, 3, rank != 2);
      check_graph ("dense", g);
    }
  /* x x^T and x times a dense image of itself: both inputs of the product get gradients. */
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input_shape (g, "input", nn_shape_of (3, (const int[]) { 2, 4, 3 }));
  int t = nn_graph_add_transpose (g, "t", in, (const int[]) { 0, 2, 1 });
  nn_graph_add_matmul (g, "mm", in, t);
  check_graph ("matmul x x^T", g);
  g = nn_graph_new ();
  in = nn_graph_add_input_shape (g, "input", nn_shape_of (2, (const int[]) { 3, 4 }));
  int dn = nn_graph_add_dense (g, "dense", in, 2, true);
  int dt = nn_graph_add_transpose (g, "t", dn, (const int[]) { 1, 0 });
  nn_graph_add_matmul (g, "mm", dt, in);
  check_graph ("matmul rank 2", g);
  /* Softmax along each axis of a rank-3 tensor. */
  for (int axis = 0; axis < 3; axis++)
    {
      g = nn_graph_new ();
      in = nn_graph_add_input_shape (g, "input", nn_shape_of (3, (const int[]) { 2, 3, 4 }));
      nn_graph_add_softmax_axis (g, "softmax", in, axis);
      check_graph ("softmax_axis", g);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/matmul/values", test_matmul_values);
  g_test_add_func ("/nn/matmul/softmax-values", test_softmax_values);
  g_test_add_func ("/nn/matmul/shapes", test_shapes);
  g_test_add_func ("/nn/matmul/grad", test_grad);
  return g_test_run ();
}
