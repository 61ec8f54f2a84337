/* SPDX-License-Identifier: MIT */
/* Transpose of the per-sample axes and slices along one axis: hand values, the shape rules,
 * and the backward pass against finite differences (permutations of ranks 2 to 4, slices of
 * each axis). */
#include <glib.h>

#include "grad-check.h"
#include "nn.h"
#include "ops/nn-transpose.h"

static void
test_values (void)
{
  NnTransposeGeom g;
  g_assert_true (nn_transpose_geom (&g, 2, (const int[]) { 2, 3 }, (const int[]) { 1, 0 }));
  g_assert_cmpint (g.dims[0], ==, 3);
  g_assert_cmpint (g.dims[1], ==, 2);
  const float x[12] = { 0, 1, 2, 3, 4, 5, /**/ 6, 7, 8, 9, 10, 11 };
  float y[12];
  nn_transpose_forward (y, x, &g, 2);
  const float want[12] = { 0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11 };
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat (y[i], ==, want[i]);
  float dx[12] = { 0 };
  nn_transpose_backward (dx, want, &g, 2);
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat (dx[i], ==, x[i]);

  /* (2, 3, 4) by (2, 0, 1): out[k][i][j] = in[i][j][k]. */
  g_assert_true (nn_transpose_geom (&g, 3, (const int[]) { 2, 3, 4 },
                                    (const int[]) { 2, 0, 1 }));
  float a[24], b[24];
  for (int i = 0; i < 24; i++)
    a[i] = (float) i;
  nn_transpose_forward (b, a, &g, 1);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      for (int k = 0; k < 4; k++)
        g_assert_cmpfloat (b[(k * 2 + i) * 3 + j], ==, a[(i * 3 + j) * 4 + k]);

  g_assert_false (nn_transpose_geom (&g, 2, (const int[]) { 2, 3 }, (const int[]) { 0, 0 }));
  g_assert_false (nn_transpose_geom (&g, 2, (const int[]) { 2, 3 }, (const int[]) { 0, 2 }));
}

static void
test_shape (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input_shape (g, "input", nn_shape_of (4, (const int[]) { 2, 3, 4, 5 }));
  int t = nn_graph_add_transpose (g, "t", in, (const int[]) { 1, 0, 3, 2 });
  g_assert_true (nn_shape_equal (g->nodes[t].shape,
                                 nn_shape_of (4, (const int[]) { 3, 2, 5, 4 })));
  NnNode spec = { .op = NN_OP_TRANSPOSE, .inputs = { in }, .n_inputs = 1 };
  snprintf (spec.name, sizeof spec.name, "bad");
  spec.attrs.transpose = (NnTransposeAttrs) { { 0, 1, 2 }, 3 };
  NnError err = { 0 };
  g_assert_cmpint (nn_graph_add (g, &spec, &err), <, 0);
  g_assert_nonnull (strstr (err.message, "node 'bad': perm is not a permutation"));
  nn_graph_free (g);
}

static void
test_grad (void)
{
  static const struct
  {
    int rank;
    int dims[4];
    int perm[4];
  } cases[] = {
    { 2, { 3, 4 }, { 1, 0 } },
    { 3, { 2, 3, 4 }, { 2, 0, 1 } },
    { 3, { 2, 3, 4 }, { 0, 2, 1 } },
    { 4, { 2, 3, 2, 3 }, { 1, 0, 3, 2 } },
    { 4, { 2, 3, 2, 3 }, { 3, 1, 2, 0 } },
  };
  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      NnGraph *g = nn_graph_new ();
      int in = nn_graph_add_input_shape (g, "input", nn_shape_of (cases[k].rank, cases[k].dims));
      /* The loss weights each output value differently, so a wrong order shows. */
      int t = nn_graph_add_transpose (g, "t", in, cases[k].perm);
      nn_graph_add_activation (g, "tanh", t, NN_ACT_TANH);
      GradCheck gc;
      char name[32];
      snprintf (name, sizeof name, "transpose case %u", (unsigned) k);
      grad_check_init (&gc, name);
      grad_check_graph (&gc, g);
      grad_check_assert (&gc);
      nn_graph_free (g);
    }
}

static void
test_slice (void)
{
  /* Two samples of (2, 3, 2), values 1 .. 2 of axis 1. */
  float x[24], y[16], dx[24] = { 0 };
  for (int i = 0; i < 24; i++)
    x[i] = (float) i;
  nn_slice_forward (y, x, 2, 2, 3, 1, 2, 2);
  const float want[16] = { 2, 3, 4, 5, 8, 9, 10, 11, 14, 15, 16, 17, 20, 21, 22, 23 };
  for (int i = 0; i < 16; i++)
    g_assert_cmpfloat (y[i], ==, want[i]);
  nn_slice_backward (dx, y, 2, 2, 3, 1, 2, 2);
  g_assert_cmpfloat (dx[0] + dx[1] + dx[6] + dx[7] + dx[12] + dx[19], ==, 0.0f);
  g_assert_cmpfloat (dx[2], ==, 2.0f);
  g_assert_cmpfloat (dx[11], ==, 11.0f);
  g_assert_cmpfloat (dx[23], ==, 23.0f);

  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 4, 3, 5);
  int sl = nn_graph_add_slice (g, "half", in, 0, 2, 2);
  g_assert_true (nn_shape_equal (g->nodes[sl].shape, nn_shape_chw (2, 3, 5)));
  NnNode spec = { .op = NN_OP_SLICE, .inputs = { in }, .n_inputs = 1 };
  snprintf (spec.name, sizeof spec.name, "bad");
  spec.attrs.slice = (NnSliceAttrs) { 2, 3, 3 };
  NnError err = { 0 };
  g_assert_cmpint (nn_graph_add (g, &spec, &err), <, 0);
  g_assert_nonnull (strstr (err.message, "node 'bad': slice 3+3 of axis 2 out of range"));
  nn_graph_free (g);

  for (int axis = 0; axis < 3; axis++)
    {
      g = nn_graph_new ();
      in = nn_graph_add_input (g, "input", 4, 3, 5);
      nn_graph_add_slice (g, "slice", in, axis, 1, 2);
      GradCheck gc;
      grad_check_init (&gc, "slice");
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
  g_test_add_func ("/nn/transpose/values", test_values);
  g_test_add_func ("/nn/transpose/shape", test_shape);
  g_test_add_func ("/nn/transpose/grad", test_grad);
  g_test_add_func ("/nn/transpose/slice", test_slice);
  return g_test_run ();
}
