/* SPDX-License-Identifier: MIT */
/* Scale-and-shift, PReLU and constant padding: hand values, backward passes against finite
 * differences, and the ops inside a graph (context forward/backward, save and load). */
#include <glib.h>
#include <math.h>

#include <string.h>

#include "grad-check.h"
#include "nn.h"
#include "test-util.h"

enum { B = 2, C = 3, H = 4, W = 5, HW = H * W, N = B * C * HW };

/* Which op a check runs. */
typedef enum
{
  OP_SCALE,
  OP_PRELU,
  OP_PAD,
} Op;

#define PT 1
#define PL 2
#define PB 0
#define PR 1
#define ON (B * C * (H + PT + PB) * (W + PL + PR))

/* input (C, H, W) -> op, its parameters per channel or per element, through the shared
 * finite-difference check: weights in [-0.3, 0.7), biases in [0, 1), inputs at least 0.05
 * away from the PReLU kink. */
static void
check_fd (Op   op,
          bool per_element)
{
  float x[N];
  NnRng rng;
  nn_rng_init (&rng, 11 + (uint64_t) op);
  for (int i = 0; i < N; i++)
    {
      float v = 4.0f * nn_rng_uniform (&rng) - 2.0f;
      x[i] = fabsf (v) < 0.05f ? v + 0.1f : v;
    }
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", C, H, W);
  const char *name = NULL;
  switch (op)
    {
    case OP_SCALE:
      nn_graph_add_scale (g, "scale", in, per_element);
      grad_check_fill_param (g, 1, NN_PARAM_WEIGHT, 12, -0.3f, 0.7f);
      grad_check_fill_param (g, 1, NN_PARAM_BIAS, 13, 0.0f, 1.0f);
      name = per_element ? "scale per element" : "scale";
      break;
    case OP_PRELU:
      nn_graph_add_prelu (g, "prelu", in, per_element);
      grad_check_fill_param (g, 1, NN_PARAM_WEIGHT, 14, -0.3f, 0.7f);
      name = per_element ? "prelu per element" : "prelu";
      break;
    case OP_PAD:
      nn_graph_add_pad (g, "pad", in, PT, PL, PB, PR, 0.5f);
      g_assert_cmpuint (nn_shape_size (g->nodes[1].shape) * B, ==, ON);
      name = "pad";
      break;
    }
  GradCheck gc;
  grad_check_init (&gc, name);
  gc.batch = B;
  gc.input = x;
  gc.seed = 15 + (uint64_t) op;
  gc.rel_tol = 2e-3;
  grad_check_graph (&gc, g);
  grad_check_assert (&gc);
  nn_graph_free (g);
}

static void
test_backward_fd (void)
{
  for (int per_element = 0; per_element < 2; per_element++)
    {
      check_fd (OP_SCALE, per_element);
      check_fd (OP_PRELU, per_element);
    }
  check_fd (OP_PAD, false);
}

/* The backward passes add to what their outputs hold. */
static void
test_backward_accumulates (void)
{
  float x[N], dy[ON], weight[C], bias[C];
  grad_check_fill (x, N, 16, -2.0f, 2.0f);
  grad_check_fill (dy, ON, 17, -1.0f, 1.0f);
  grad_check_fill (weight, C, 18, -0.3f, 0.7f);
  grad_check_fill (bias, C, 19, 0.0f, 1.0f);
  for (Op op = OP_SCALE; op <= OP_PAD; op++)
    {
      float dx1[N] = { 0 }, dw1[C] = { 0 }, db1[C] = { 0 }, dx2[N], dw2[C], db2[C];
      for (int i = 0; i < N; i++)
        dx2[i] = 0.5f;
      for (int c = 0; c < C; c++)
        dw2[c] = db2[c] = 0.25f;
      for (int pass = 0; pass < 3; pass++)
        {
          float *dx = pass == 0 ? dx1 : dx2, *dw = pass == 0 ? dw1 : dw2;
          float *db = pass == 0 ? db1 : db2;
          switch (op)
            {
            case OP_SCALE:
              nn_scale_backward (dx, dw, db, dy, x, weight, B, C, HW);
              break;
            case OP_PRELU:
              nn_prelu_backward (dx, dw, dy, x, weight, B, C, HW);
              break;
            case OP_PAD:
              nn_pad_backward (dx, dy, B, C, H, W, PT, PL, PB, PR);
              break;
            }
        }
      for (int i = 0; i < N; i++)
        g_assert_cmpfloat_with_epsilon (dx2[i], 0.5f + 2.0f * dx1[i], 1e-5);
      for (int c = 0; c < C; c++)
        {
          g_assert_cmpfloat_with_epsilon (dw2[c], 0.25f + 2.0f * dw1[c], 1e-4);
          g_assert_cmpfloat_with_epsilon (db2[c], 0.25f + 2.0f * db1[c], 1e-4);
        }
    }
}

static void
test_forward (void)
{
  /* (B=1, C=2, HW=2) */
  const float x[4] = { -1.0f, 2.0f, -4.0f, 0.5f };
  const float weight[2] = { 2.0f, 0.25f };
  const float bias[2] = { 1.0f, -1.0f };
  float out[4];
  nn_scale_forward (out, x, weight, bias, 1, 2, 2);
  const float want_scale[4] = { -1.0f, 5.0f, -2.0f, -0.875f };
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (out[i], ==, want_scale[i]);
  nn_prelu_forward (out, x, weight, 1, 2, 2);
  const float want_prelu[4] = { -2.0f, 2.0f, -1.0f, 0.5f };
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (out[i], ==, want_prelu[i]);

  /* A 1x2 image padded by 1 above and 1 on the right with 9. */
  const float img[2] = { 3.0f, 4.0f };
  float padded[6];
  nn_pad_forward (padded, img, 1, 1, 1, 2, 1, 0, 0, 1, 9.0f);
  const float want_pad[6] = { 9.0f, 9.0f, 9.0f, 3.0f, 4.0f, 9.0f };
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (padded[i], ==, want_pad[i]);
}

/* A graph with every new op: the context's input and parameter gradients match finite
 * differences of its own forward pass, and the model survives save and load. */
static NnGraph *
build_graph (void)
{
  NnGraph *g = nn_graph_new ();
  int x = nn_graph_add_input (g, "input", 2, 3, 3);
  x = nn_graph_add_pad (g, "pad", x, 1, 0, 0, 1, -0.5f);
  x = nn_graph_add_scale (g, "scale", x, false);
  x = nn_graph_add_prelu (g, "prelu", x, false);
  x = nn_graph_add_activation_full (g, "clip", x, NN_ACT_CLIP, -1.0f, 1.5f);
  x = nn_graph_add_activation_full (g, "hsig", x, NN_ACT_HARDSIGMOID, 0.3f, 0.4f);
  x = nn_graph_add_activation (g, "hswish", x, NN_ACT_HARDSWISH);
  int scale_pe = nn_graph_add_scale (g, "scale_pe", x, true);
  int prelu_pe = nn_graph_add_prelu (g, "prelu_pe", scale_pe, true);
  x = nn_graph_add_reshape (g, "reshape", prelu_pe, 8, 4, 1);
  nn_graph_add_linear (g, "fc", x, 3, true);
  NnRng rng;
  nn_rng_init (&rng, 5);
  nn_graph_init_params (g, &rng);
  float *w = nn_graph_param_data (g, nn_graph_node_param (g, 2, NN_PARAM_WEIGHT));
  float *b = nn_graph_param_data (g, nn_graph_node_param (g, 2, NN_PARAM_BIAS));
  w[0] = 1.5f;
  w[1] = -0.7f;
  b[0] = 0.2f;
  b[1] = -0.1f;
  float *a = nn_graph_param_data (g, nn_graph_node_param (g, 3, NN_PARAM_WEIGHT));
  a[1] = 0.6f;
  /* One parameter per value: 2 x 4 x 4 each. */
  const NnParamRole roles[3] = { NN_PARAM_WEIGHT, NN_PARAM_BIAS, NN_PARAM_WEIGHT };
  const int nodes[3] = { scale_pe, scale_pe, prelu_pe };
  for (int k = 0; k < 3; k++)
    {
      int p = nn_graph_node_param (g, nodes[k], roles[k]);
      g_assert_cmpuint (g->params[p].count, ==, 32);
      float *v = nn_graph_param_data (g, p);
      for (int i = 0; i < 32; i++)
        v[i] = nn_rng_uniform (&rng) - 0.25f;
    }
  return g;
}

static void
test_graph (void)
{
  NnGraph *g = build_graph ();
  g_assert_cmpint (g->nodes[1].shape.h, ==, 4);
  g_assert_cmpint (g->nodes[1].shape.w, ==, 4);
  float x[18];
  grad_check_fill (x, 18, 9, -1.5f, 1.5f);
  GradCheck gc;
  grad_check_init (&gc, "pad, scale, prelu, clip, hard sigmoid, hard swish, reshape, linear");
  gc.batch = 1;
  gc.input = x;
  gc.eps = 1e-3;
  grad_check_graph (&gc, g);
  grad_check_assert (&gc);

  char *dir = test_util_make_tmp_dir ();
  char *path = g_build_filename (dir, "m.safetensors", NULL);
  NnModel *model = nn_model_new (g, "test");
  NnError err = { 0 };
  g_assert_true (nn_model_save (model, path, &err));
  NnModel *back = nn_model_load (path, &err);
  g_assert_nonnull (back);
  const NnGraph *h = back->graph;
  g_assert_cmpint (h->n_nodes, ==, g->n_nodes);
  for (int i = 0; i < g->n_nodes; i++)
    {
      g_assert_cmpint (h->nodes[i].op, ==, g->nodes[i].op);
      g_assert_cmpint (h->nodes[i].shape.c, ==, g->nodes[i].shape.c);
      g_assert_cmpint (h->nodes[i].shape.h, ==, g->nodes[i].shape.h);
    }
  g_assert_cmpfloat (h->nodes[1].attrs.pad.value, ==, -0.5f);
  g_assert_cmpint (h->nodes[1].attrs.pad.pad_r, ==, 1);
  g_assert_cmpfloat (h->nodes[4].attrs.act.alpha, ==, -1.0f);
  g_assert_cmpfloat (h->nodes[4].attrs.act.beta, ==, 1.5f);
  g_assert_cmpfloat (h->nodes[5].attrs.act.alpha, ==, 0.3f);
  g_assert_false (h->nodes[2].attrs.channel.per_element);
  g_assert_true (h->nodes[7].attrs.channel.per_element);
  g_assert_true (h->nodes[8].attrs.channel.per_element);
  g_assert_cmpint (h->nodes[9].shape.c, ==, 8);
  g_assert_cmpmem (h->data, h->n_data * sizeof (float), g->data, g->n_data * sizeof (float));
  nn_model_free (back);
  nn_model_free (model);
  test_util_remove_tree (dir);
  g_free (path);
  g_free (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/channelwise/forward", test_forward);
  g_test_add_func ("/nn/channelwise/backward-finite-differences", test_backward_fd);
  g_test_add_func ("/nn/channelwise/backward-accumulates", test_backward_accumulates);
  g_test_add_func ("/nn/channelwise/graph", test_graph);
  return g_test_run ();
}
