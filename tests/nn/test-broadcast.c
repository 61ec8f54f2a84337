/* SPDX-License-Identifier: MIT */
/* Broadcasting add, sub, mul and div of two run-time tensors: the geometry, hand values, shape
 * errors, and the backward pass against finite differences through a graph, for the patterns
 * the ONNX exports use (squeeze-and-excitation (C, H, W) * (C, 1, 1), a vector over the last
 * dim, an outer sum (H, 1) + (1, W)). */
#include <glib.h>

#include "grad-check.h"
#include "nn.h"
#include "ops/nn-broadcast.h"

static void
test_geom (void)
{
  NnBroadcastGeom g;
  g_assert_true (nn_broadcast_geom (&g, 3, (const int[]) { 2, 3, 4 }, 1, (const int[]) { 4 }));
  g_assert_cmpint (g.rank, ==, 3);
  g_assert_cmpint (g.dims[0], ==, 2);
  g_assert_cmpint (g.dims[2], ==, 4);
  g_assert_cmpuint (g.sb[0], ==, 0);
  g_assert_cmpuint (g.sb[1], ==, 0);
  g_assert_cmpuint (g.sb[2], ==, 1);
  g_assert_cmpuint (g.sa[0], ==, 12);
  g_assert_cmpuint (g.na, ==, 24);
  g_assert_cmpuint (g.nb, ==, 4);
  g_assert_cmpuint (g.nout, ==, 24);
  g_assert_true (nn_broadcast_geom (&g, 2, (const int[]) { 3, 1 }, 2, (const int[]) { 1, 4 }));
  g_assert_cmpuint (g.nout, ==, 12);
  g_assert_false (nn_broadcast_geom (&g, 2, (const int[]) { 3, 4 }, 1, (const int[]) { 3 }));
  g_assert_false (nn_broadcast_geom (&g, 7, (const int[]) { 1, 1, 1, 1, 1, 1, 1 }, 1,
                                     (const int[]) { 1 }));
}

/* Two samples of (2, 1) against (1, 3): every kind by hand. */
static void
test_values (void)
{
  NnBroadcastGeom g;
  g_assert_true (nn_broadcast_geom (&g, 2, (const int[]) { 2, 1 }, 2, (const int[]) { 1, 3 }));
  const float a[4] = { 1, 2, 3, 4 };             /* sample 0: (1, 2), sample 1: (3, 4) */
  const float b[6] = { 1, 2, 4, -1, -2, -4 };
  float out[12];
  nn_broadcast_forward (out, a, b, &g, 2, NN_BINARY_SUB);
  const float sub[12] = { 0, -1, -3, 1, 0, -2, 4, 5, 7, 5, 6, 8 };
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat (out[i], ==, sub[i]);
  nn_broadcast_forward (out, a, b, &g, 2, NN_BINARY_DIV);
  g_assert_cmpfloat (out[2], ==, 0.25f);
  g_assert_cmpfloat (out[11], ==, -1.0f);
  nn_broadcast_forward (out, a, b, &g, 2, NN_BINARY_MUL);
  g_assert_cmpfloat (out[5], ==, 8.0f);
  nn_broadcast_forward (out, a, b, &g, 2, NN_BINARY_ADD);
  g_assert_cmpfloat (out[9], ==, 3.0f);

  /* The gradient of a sums over the dim it was repeated along; b's over the other. */
  float dout[12], da[4] = { 0 }, db[6] = { 0 };
  for (int i = 0; i < 12; i++)
    dout[i] = 1.0f;
  nn_broadcast_backward (da, db, dout, a, b, &g, 2, NN_BINARY_SUB);
  g_assert_cmpfloat (da[0], ==, 3.0f);
  g_assert_cmpfloat (da[3], ==, 3.0f);
  g_assert_cmpfloat (db[0], ==, -2.0f);
  g_assert_cmpfloat (db[5], ==, -2.0f);
  nn_broadcast_backward (da, NULL, dout, a, b, &g, 2, NN_BINARY_MUL);
  g_assert_cmpfloat (da[0], ==, 3.0f + 1 + 2 + 4);
}

/* A (3, 4, 5) sample against b constant over trailing dims ((3, 1, 1), (3, 4, 1), (1, 1, 1)),
 * the runs of the fast path, and against (1, 4, 1), which takes the general path: every kind
 * against the index arithmetic done here. */
static void
test_trailing_runs (void)
{
  const int shapes[4][3] = { { 3, 1, 1 }, { 3, 4, 1 }, { 1, 1, 1 }, { 1, 4, 1 } };
  const NnBinaryKind kinds[4] = { NN_BINARY_ADD, NN_BINARY_SUB, NN_BINARY_MUL, NN_BINARY_DIV };
  float a[2 * 60], b[2 * 12], out[2 * 60];
  for (int i = 0; i < 120; i++)
    a[i] = 0.25f * (float) (i % 17) - 1.5f;
  for (int i = 0; i < 24; i++)
    b[i] = 0.5f + 0.125f * (float) i;
  for (int c = 0; c < 4; c++)
    {
      const int *db = shapes[c];
      const int nb = db[0] * db[1] * db[2];
      NnBroadcastGeom g;
      g_assert_true (nn_broadcast_geom (&g, 3, (const int[]) { 3, 4, 5 }, 3, db));
      for (int k = 0; k < 4; k++)
        {
          nn_broadcast_forward (out, a, b, &g, 2, kinds[k]);
          for (int s = 0; s < 2; s++)
            for (int i = 0; i < 3; i++)
              for (int j = 0; j < 4; j++)
                for (int l = 0; l < 5; l++)
                  {
                    const int at = s * 60 + (i * 4 + j) * 5 + l;
                    const float x = a[at];
                    const float y = b[s * nb + (db[0] > 1 ? i : 0) * db[1] + (db[1] > 1 ? j : 0)];
                    const float want = kinds[k] == NN_BINARY_ADD   ? x + y
                                       : kinds[k] == NN_BINARY_SUB ? x - y
                                       : kinds[k] == NN_BINARY_MUL ? x * y
                                                                   : x / y;
                    g_assert_cmpfloat (out[at], ==, want);
                  }
        }
    }
}

static void
test_shape_errors (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 3, 4, 5);
  int v = nn_graph_add_reshape_shape (g, "v", nn_graph_add_linear (g, "fc", in, 4, true),
                                      nn_shape_of (1, (const int[]) { 4 }));
  NnNode spec = { .op = NN_OP_BROADCAST_MUL, .inputs = { in, v }, .n_inputs = 2 };
  snprintf (spec.name, sizeof spec.name, "mul");
  NnError err = { 0 };
  g_assert_cmpint (nn_graph_add (g, &spec, &err), <, 0);
  g_assert_nonnull (strstr (err.message, "node 'mul': shapes 3x4x5 and 4 do not broadcast"));
  nn_graph_free (g);
  /* Against 5, the last dim, it does, either way round. */
  g = nn_graph_new ();
  in = nn_graph_add_input (g, "input", 3, 4, 5);
  v = nn_graph_add_reshape_shape (g, "v", nn_graph_add_linear (g, "fc", in, 5, true),
                                  nn_shape_of (1, (const int[]) { 5 }));
  int add = nn_graph_add_broadcast (g, NN_OP_BROADCAST_ADD, "add", v, in);
  g_assert_cmpint (add, >, 0);
  g_assert_true (nn_shape_equal (g->nodes[add].shape, g->nodes[in].shape));
  nn_graph_free (g);
}

typedef enum
{
  PATTERN_SE,        /* (C, H, W) op (C, 1, 1) */
  PATTERN_SE_LEFT,   /* (C, 1, 1) op (C, H, W) */
  PATTERN_VECTOR,    /* (C, H, W) op (W) */
  PATTERN_OUTER,     /* (H, 1) op (1, W) */
  PATTERN_SAME,      /* (C, H, W) op (C, H, W) */
  PATTERN_COUNT
} Pattern;

/* input (3, 4, 5) -> the two operands of `pattern` -> op, checked against finite differences.
 * The divisor goes through a sigmoid shifted away from 0. */
static void
check_op (NnOp    op,
          Pattern pattern)
{
  enum { C = 3, H = 4, W = 5 };
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", C, H, W);
  int a = in, b = in;
  switch (pattern)
    {
    case PATTERN_SE:
    case PATTERN_SE_LEFT:
      b = nn_graph_add_global_avgpool (g, "pool", in);
      b = nn_graph_add_reshape (g, "pool4d", b, C, 1, 1);
      if (pattern == PATTERN_SE_LEFT)
        {
          a = b;
          b = in;
        }
      break;
    case PATTERN_VECTOR:
      b = nn_graph_add_reshape_shape (g, "v", nn_graph_add_linear (g, "fc", in, W, true),
                                      nn_shape_of (1, (const int[]) { W }));
      break;
    case PATTERN_OUTER:
      a = nn_graph_add_reshape_shape (g, "col", nn_graph_add_linear (g, "fa", in, H, true),
                                      nn_shape_of (2, (const int[]) { H, 1 }));
      b = nn_graph_add_reshape_shape (g, "row", nn_graph_add_linear (g, "fb", in, W, true),
                                      nn_shape_of (2, (const int[]) { 1, W }));
      break;
    case PATTERN_SAME:
      b = nn_graph_add_activation (g, "tanh", in, NN_ACT_TANH);
      break;
    case PATTERN_COUNT:
      g_assert_not_reached ();
    }
  if (op == NN_OP_BROADCAST_DIV)
    {
      b = nn_graph_add_activation (g, "sigmoid", b, NN_ACT_SIGMOID);
      b = nn_graph_add_scale (g, "shift", b, false);
      float *bias = nn_graph_param_data (g, nn_graph_node_param (g, b, NN_PARAM_BIAS));
      for (int k = 0; k < g->nodes[b].shape.c; k++)
        bias[k] = 0.5f;
    }
  for (int i = 1; i < g->n_nodes; i++)
    if (g->nodes[i].op == NN_OP_LINEAR)
      grad_check_fill_param (g, i, NN_PARAM_WEIGHT, 10 + (uint64_t) i, -0.3f, 0.3f);
  int out = nn_graph_add_broadcast (g, op, "op", a, b);
  g_assert_cmpint (out, >, 0);
  GradCheck gc;
  char name[64];
  snprintf (name, sizeof name, "%s pattern %d", nn_op_name (op), (int) pattern);
  grad_check_init (&gc, name);
  gc.abs_tol = 1e-3;
  gc.rel_tol = 5e-3;
  grad_check_graph (&gc, g);
  grad_check_assert (&gc);
  nn_graph_free (g);
}

static void
test_grad (void)
{
  const NnOp ops[] = { NN_OP_BROADCAST_ADD, NN_OP_BROADCAST_SUB, NN_OP_BROADCAST_MUL,
                       NN_OP_BROADCAST_DIV };
  for (gsize k = 0; k < G_N_ELEMENTS (ops); k++)
    for (int p = 0; p < PATTERN_COUNT; p++)
      check_op (ops[k], (Pattern) p);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/broadcast/geom", test_geom);
  g_test_add_func ("/nn/broadcast/values", test_values);
  g_test_add_func ("/nn/broadcast/trailing-runs", test_trailing_runs);
  g_test_add_func ("/nn/broadcast/shape-errors", test_shape_errors);
  g_test_add_func ("/nn/broadcast/grad", test_grad);
  return g_test_run ();
}
