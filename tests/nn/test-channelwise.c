/* SPDX-License-Identifier: MIT */
/* Scale-and-shift, PReLU and constant padding: hand values, backward passes against finite
 * differences, and the ops inside a graph (context forward/backward, save and load). */
#include <glib.h>
#include <math.h>

#include <string.h>

#include "nn.h"
#include "test-util.h"

enum { B = 2, C = 3, H = 4, W = 5, HW = H * W, N = B * C * HW };

/* Which op a finite-difference check runs: its loss is sum (w * out). */
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

static void
run (Op           op,
     float       *out,
     const float *x,
     const float *weight,
     const float *bias)
{
  switch (op)
    {
    case OP_SCALE:
      nn_scale_forward (out, x, weight, bias, B, C, HW);
      break;
    case OP_PRELU:
      nn_prelu_forward (out, x, weight, B, C, HW);
      break;
    case OP_PAD:
      nn_pad_forward (out, x, B, C, H, W, PT, PL, PB, PR, 0.5f);
      break;
    }
}

static double
loss (Op           op,
      const float *x,
      const float *weight,
      const float *bias,
      const float *w,
      int          n_out)
{
  float out[ON];
  run (op, out, x, weight, bias);
  double total = 0.0;
  for (int i = 0; i < n_out; i++)
    total += (double) w[i] * (double) out[i];
  return total;
}

/* Central difference of loss with respect to *v. */
static double
numeric (Op           op,
         float       *v,
         const float *x,
         const float *weight,
         const float *bias,
         const float *w,
         int          n_out)
{
  const float h = 1e-2f, save = *v;
  *v = save + h;
  float vp = *v;
  double lp = loss (op, x, weight, bias, w, n_out);
  *v = save - h;
  float vm = *v;
  double lm = loss (op, x, weight, bias, w, n_out);
  *v = save;
  return (lp - lm) / ((double) vp - (double) vm);
}

static void
check_fd (Op op)
{
  float x[N], weight[C], bias[C], w[ON], dx[N], dweight[C], dbias[C];
  const int n_out = op == OP_PAD ? ON : N;
  NnRng rng;
  nn_rng_init (&rng, 11 + (uint64_t) op);
  for (int i = 0; i < N; i++)
    {
      float v = 4.0f * nn_rng_uniform (&rng) - 2.0f;
      x[i] = fabsf (v) < 0.05f ? v + 0.1f : v;   /* away from the PReLU kink */
      dx[i] = 0.5f;
    }
  for (int c = 0; c < C; c++)
    {
      weight[c] = nn_rng_uniform (&rng) - 0.3f;
      bias[c] = nn_rng_uniform (&rng);
      dweight[c] = dbias[c] = 0.25f;
    }
  for (int i = 0; i < n_out; i++)
    w[i] = 2.0f * nn_rng_uniform (&rng) - 1.0f;

  switch (op)
    {
    case OP_SCALE:
      nn_scale_backward (dx, dweight, dbias, w, x, weight, B, C, HW);
      break;
    case OP_PRELU:
      nn_prelu_backward (dx, dweight, w, x, weight, B, C, HW);
      break;
    case OP_PAD:
      nn_pad_backward (dx, w, B, C, H, W, PT, PL, PB, PR);
      break;
    }
  /* The backward passes accumulate onto the starting values. */
  for (int i = 0; i < N; i++)
    {
      double num = numeric (op, &x[i], x, weight, bias, w, n_out);
      g_assert_cmpfloat_with_epsilon ((double) dx[i] - 0.5, num, 2e-3 + 1e-2 * fabs (num));
    }
  if (op == OP_PAD)
    return;
  for (int c = 0; c < C; c++)
    {
      double num = numeric (op, &weight[c], x, weight, bias, w, n_out);
      g_assert_cmpfloat_with_epsilon ((double) dweight[c] - 0.25, num, 2e-3 + 1e-2 * fabs (num));
      if (op == OP_SCALE)
        {
          num = numeric (op, &bias[c], x, weight, bias, w, n_out);
          g_assert_cmpfloat_with_epsilon ((double) dbias[c] - 0.25, num,
                                          2e-3 + 1e-2 * fabs (num));
        }
    }
}

static void
test_backward_fd (void)
{
  check_fd (OP_SCALE);
  check_fd (OP_PRELU);
  check_fd (OP_PAD);
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

/* A graph with every new op: the context gives the same input gradient as finite differences
 * of its own forward pass, and the model survives save and load. */
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
  NnContext *ctx = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  float *in = nn_context_input (ctx);
  NnRng rng;
  nn_rng_init (&rng, 9);
  float x[18];
  for (int i = 0; i < 18; i++)
    x[i] = in[i] = 3.0f * nn_rng_uniform (&rng) - 1.5f;
  const int out = nn_graph_output (g);
  nn_context_forward (ctx, -1);
  float *seed = nn_context_grad (ctx, out);
  seed[0] = 1.0f;
  seed[1] = -0.5f;
  seed[2] = 0.25f;
  const float s[3] = { 1.0f, -0.5f, 0.25f };
  nn_context_backward (ctx, out, NN_BACKWARD_INPUT, -1);
  float dx[18];
  memcpy (dx, nn_context_grad (ctx, 0), sizeof dx);
  for (int i = 0; i < 18; i++)
    {
      double l[2];
      for (int k = 0; k < 2; k++)
        {
          memcpy (in, x, sizeof x);
          in[i] += k == 0 ? 1e-3f : -1e-3f;
          nn_context_forward (ctx, -1);
          const float *y = nn_context_output (ctx, out);
          l[k] = (double) s[0] * y[0] + (double) s[1] * y[1] + (double) s[2] * y[2];
        }
      double num = (l[0] - l[1]) / 2e-3;
      g_assert_cmpfloat_with_epsilon (dx[i], num, 2e-3 + 1e-2 * fabs (num));
    }
  nn_context_free (ctx);

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
  g_test_add_func ("/nn/channelwise/graph", test_graph);
  return g_test_run ();
}
