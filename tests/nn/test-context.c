/* SPDX-License-Identifier: MIT */
/* Whole-graph forward and backward through NnContext: parameter and input gradients against
 * finite differences (batch norm in train and eval mode), backward stopped at an inner node,
 * input-only backward, and the per-run gradient-policy override. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "grad-check.h"
#include "nn.h"

#define BATCH 2

/* input (2,7,7) -> conv1 -> bn1 -> relu1 -> pool1 (4,4,4); then a residual branch
 * add (conv2 (pool1), pool1), a concat branch cat (add, conv3 (pool1)) and a gating branch
 * mul (cat, sigmoid (conv4 (pool1))); then global average pool -> fc (3). */
static NnGraph *
build_graph (uint64_t seed)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 2, 7, 7);
  int c1 = nn_graph_add_conv2d (g, "conv1", in, 4, 3, 1, 1, 1, 1, true);
  int bn = nn_graph_add_batchnorm (g, "bn1", c1);
  int r1 = nn_graph_add_relu (g, "relu1", bn);
  int p1 = nn_graph_add_maxpool (g, "pool1", r1, 3, 2, 1);
  int c2 = nn_graph_add_conv2d (g, "conv2", p1, 4, 3, 1, 1, 1, 1, false);
  int add = nn_graph_add_add (g, "add", c2, p1);
  int c3 = nn_graph_add_conv2d (g, "conv3", p1, 2, 1, 1, 0, 1, 1, true);
  const int cat_in[2] = { add, c3 };
  int cat = nn_graph_add_concat (g, "cat", cat_in, 2);
  int c4 = nn_graph_add_conv2d (g, "conv4", p1, 6, 1, 1, 0, 1, 1, true);
  int gate = nn_graph_add_activation (g, "gate", c4, NN_ACT_SIGMOID);
  int mul = nn_graph_add_mul (g, "mul", cat, gate);
  int gap = nn_graph_add_global_avgpool (g, "gap", mul);
  nn_graph_add_linear (g, "fc", gap, 3, true);

  NnRng rng;
  nn_rng_init (&rng, seed);
  nn_graph_init_params (g, &rng);
  /* Biases, BN affine parameters and running statistics away from their trivial defaults, so
   * every gradient term is exercised. */
  for (int p = 0; p < g->n_params; p++)
    {
      NnParam *prm = &g->params[p];
      float *d = g->data + prm->offset;
      for (size_t j = 0; j < prm->count; j++)
        switch (prm->role)
          {
          case NN_PARAM_BIAS:
          case NN_PARAM_RUNNING_MEAN:
            d[j] = 0.4f * nn_rng_uniform (&rng) - 0.2f;
            break;
          case NN_PARAM_RUNNING_VAR:
            d[j] = 0.5f + nn_rng_uniform (&rng);
            break;
          case NN_PARAM_WEIGHT:
            if (g->nodes[prm->node].op == NN_OP_BATCHNORM)
              d[j] = 0.7f + 0.6f * nn_rng_uniform (&rng);
            break;
          case NN_PARAM_ROLE_COUNT_:
          default:
            g_assert_not_reached ();
          }
    }
  return g;
}

/* input (1,6,6) -> conv1 -> relu1 -> conv2 -> relu2 -> gap -> fc (2): a plain ReLU net. */
static NnGraph *
build_relu_graph (uint64_t seed)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 1, 6, 6);
  int c1 = nn_graph_add_conv2d (g, "conv1", in, 3, 3, 1, 1, 1, 1, true);
  int r1 = nn_graph_add_relu (g, "relu1", c1);
  int c2 = nn_graph_add_conv2d (g, "conv2", r1, 3, 3, 2, 1, 1, 1, true);
  int r2 = nn_graph_add_relu (g, "relu2", c2);
  int gap = nn_graph_add_global_avgpool (g, "gap", r2);
  nn_graph_add_linear (g, "fc", gap, 2, true);
  NnRng rng;
  nn_rng_init (&rng, seed);
  nn_graph_init_params (g, &rng);
  return g;
}

static size_t
node_size (NnContext *ctx,
           int        node)
{
  const NnGraph *g = nn_context_get_graph (ctx);
  return nn_shape_size (g->nodes[node].shape) * (size_t) nn_context_get_batch (ctx);
}

static void
fill_input (NnContext *ctx,
            uint64_t   seed)
{
  NnRng rng;
  nn_rng_init (&rng, seed);
  float *x = nn_context_input (ctx);
  for (size_t i = 0; i < node_size (ctx, 0); i++)
    x[i] = 2.0f * nn_rng_uniform (&rng) - 1.0f;
}

/* The scalar the tests differentiate: sum w * output, with fixed weights w. */
typedef struct
{
  NnContext *ctx;
  int        out;
  float     *w;
} Objective;

static void
objective_init (Objective *o,
                NnContext *ctx,
                uint64_t   seed)
{
  NnRng rng;
  nn_rng_init (&rng, seed);
  o->ctx = ctx;
  o->out = nn_graph_output (nn_context_get_graph (ctx));
  o->w = g_new (float, node_size (ctx, o->out));
  for (size_t i = 0; i < node_size (ctx, o->out); i++)
    o->w[i] = 2.0f * nn_rng_uniform (&rng) - 1.0f;
}

static double
objective_eval (Objective *o)
{
  nn_context_forward (o->ctx, -1);
  const float *y = nn_context_output (o->ctx, o->out);
  double s = 0.0;
  for (size_t i = 0; i < node_size (o->ctx, o->out); i++)
    s += (double) o->w[i] * (double) y[i];
  return s;
}

/* Forward, then seed the output gradient with w and run the backward pass. */
static void
objective_backward (Objective *o,
                    unsigned   what,
                    int        stop)
{
  objective_eval (o);
  memcpy (nn_context_grad (o->ctx, o->out), o->w, sizeof (float) * node_size (o->ctx, o->out));
  nn_context_backward (o->ctx, o->out, what, stop);
}

/* Every trainable parameter and the input against finite differences of the whole graph, and
 * no gradient for batch norm's running statistics, which are not trainable. A ReLU kink or a
 * change of max-pool winner within the step may spoil the central difference of a rare entry,
 * which must then match one side. */
static void
check_graph_gradients (bool training)
{
  NnGraph *g = build_graph (1);
  GradCheck gc;
  grad_check_init (&gc, training ? "whole graph, training" : "whole graph, eval");
  gc.batch = BATCH;
  gc.training = training;
  gc.seed = 2;
  gc.eps = 2e-3;
  gc.abs_tol = 1e-3;
  gc.rel_tol = 2e-2;
  gc.kink_share = 0.02;
  grad_check_graph (&gc, g);
  grad_check_assert (&gc);
  nn_graph_free (g);
}

static void
test_gradients_train (void)
{
  check_graph_gradients (true);
}

static void
test_gradients_eval (void)
{
  check_graph_gradients (false);
}

/* Batch norm in training mode updates its running statistics; eval mode leaves them. */
static void
test_running_stats (void)
{
  NnGraph *g = build_graph (4);
  NnContext *ctx = nn_context_new (g, BATCH, 0, NULL);
  fill_input (ctx, 5);
  int bn = nn_graph_find (g, "bn1");
  const NnParam *rm = &g->params[nn_graph_node_param (g, bn, NN_PARAM_RUNNING_MEAN)];
  float before[4], after[4];
  memcpy (before, g->data + rm->offset, sizeof before);
  nn_context_forward (ctx, -1);
  g_assert_cmpmem (before, sizeof before, g->data + rm->offset, sizeof before);

  nn_context_set_training (ctx, true);
  nn_context_forward (ctx, bn);
  memcpy (after, g->data + rm->offset, sizeof after);
  /* running = 0.9 running + 0.1 batch mean of conv1's output. */
  const float *y = nn_context_output (ctx, nn_graph_find (g, "conv1"));
  for (int c = 0; c < 4; c++)
    {
      double m = 0.0;
      for (int b = 0; b < BATCH; b++)
        for (int k = 0; k < 49; k++)
          m += y[(b * 4 + c) * 49 + k];
      m /= BATCH * 49;
      g_assert_cmpfloat_with_epsilon (after[c], 0.9 * before[c] + 0.1 * m, 1e-5);
    }
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* Backward stopped at pool1 (four consumers) fills pool1's gradient with the values a full
 * pass computes, leaves everything below it alone, and gives parameter gradients only above
 * it. */
static void
test_backward_stop (void)
{
  NnGraph *g = build_graph (6);
  NnContext *ctx = nn_context_new (g, BATCH, NN_CONTEXT_BACKWARD | NN_CONTEXT_PARAM_GRADS, NULL);
  nn_context_set_training (ctx, true);
  fill_input (ctx, 7);
  Objective o;
  objective_init (&o, ctx, 8);
  int stop = nn_graph_find (g, "pool1");
  size_t nstop = node_size (ctx, stop);

  nn_context_zero_param_grads (ctx);
  objective_backward (&o, NN_BACKWARD_PARAMS | NN_BACKWARD_INPUT, -1);
  float *full_stop = g_memdup2 (nn_context_grad (ctx, stop), sizeof (float) * nstop);
  float *full_params = g_memdup2 (nn_context_param_grads (ctx), sizeof (float) * g->n_data);
  double norm = 0.0;
  for (size_t i = 0; i < nstop; i++)
    norm += fabs (full_stop[i]);
  g_assert_cmpfloat (norm, >, 1e-3);

  /* Sentinels below the stop node, and a stale value in the stop node's own gradient. */
  for (int i = 0; i < stop; i++)
    for (size_t k = 0; k < node_size (ctx, i); k++)
      nn_context_grad (ctx, i)[k] = 7.0f;
  for (size_t k = 0; k < nstop; k++)
    nn_context_grad (ctx, stop)[k] = -3.0f;
  nn_context_zero_param_grads (ctx);

  objective_backward (&o, 0, stop);
  const float *got = nn_context_grad (ctx, stop);
  for (size_t i = 0; i < nstop; i++)
    g_assert_cmpfloat_with_epsilon (got[i], full_stop[i], 1e-6 + 1e-5 * fabs (full_stop[i]));
  for (int i = 0; i < stop; i++)
    for (size_t k = 0; k < node_size (ctx, i); k++)
      g_assert_cmpfloat (nn_context_grad (ctx, i)[k], ==, 7.0f);
  const float *pg = nn_context_param_grads (ctx);
  for (size_t j = 0; j < g->n_data; j++)
    g_assert_cmpfloat (pg[j], ==, 0.0f);

  /* With parameters asked for: the layers above the stop get their full-pass gradients, the
   * layers below get none. */
  objective_backward (&o, NN_BACKWARD_PARAMS, stop);
  for (int p = 0; p < g->n_params; p++)
    {
      const NnParam *prm = &g->params[p];
      for (size_t j = 0; j < prm->count; j++)
        {
          float v = pg[prm->offset + j], full = full_params[prm->offset + j];
          if (prm->node < stop)
            g_assert_cmpfloat (v, ==, 0.0f);
          else
            g_assert_cmpfloat_with_epsilon (v, full, 1e-6 + 1e-5 * fabs (full));
        }
    }
  for (size_t k = 0; k < node_size (ctx, 0); k++)
    g_assert_cmpfloat (nn_context_grad (ctx, 0)[k], ==, 7.0f);

  g_free (full_stop);
  g_free (full_params);
  g_free (o.w);
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* NN_BACKWARD_INPUT alone leaves the parameter gradients at zero and gives the same input
 * gradient as a full pass; node gradients restart from zero on each pass, parameter
 * gradients accumulate. */
static void
test_backward_input_only (void)
{
  NnGraph *g = build_graph (9);
  NnContext *ctx = nn_context_new (g, BATCH, NN_CONTEXT_BACKWARD | NN_CONTEXT_PARAM_GRADS, NULL);
  fill_input (ctx, 10);
  Objective o;
  objective_init (&o, ctx, 11);
  size_t nin = node_size (ctx, 0);

  nn_context_zero_param_grads (ctx);
  objective_backward (&o, NN_BACKWARD_PARAMS | NN_BACKWARD_INPUT, -1);
  float *full_dx = g_memdup2 (nn_context_grad (ctx, 0), sizeof (float) * nin);
  float *full_dp = g_memdup2 (nn_context_param_grads (ctx), sizeof (float) * g->n_data);

  objective_backward (&o, NN_BACKWARD_PARAMS | NN_BACKWARD_INPUT, -1);
  const float *pg = nn_context_param_grads (ctx);
  bool any = false;
  for (size_t j = 0; j < g->n_data; j++)
    {
      g_assert_cmpfloat_with_epsilon (pg[j], 2.0f * full_dp[j], 1e-6 + 1e-5 * fabs (full_dp[j]));
      any = any || full_dp[j] != 0.0f;
    }
  g_assert_true (any);
  for (size_t i = 0; i < nin; i++)
    g_assert_cmpfloat (nn_context_grad (ctx, 0)[i], ==, full_dx[i]);

  nn_context_zero_param_grads (ctx);
  objective_backward (&o, NN_BACKWARD_INPUT, -1);
  for (size_t j = 0; j < g->n_data; j++)
    g_assert_cmpfloat (pg[j], ==, 0.0f);
  for (size_t i = 0; i < nin; i++)
    g_assert_cmpfloat_with_epsilon (nn_context_grad (ctx, 0)[i], full_dx[i],
                                    1e-6 + 1e-5 * fabs (full_dx[i]));

  g_free (full_dx);
  g_free (full_dp);
  g_free (o.w);
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* A ProxyGrad override changes the input gradient of a ReLU net, not its output, and gives
 * what the same policy stored in the model gives; clearing it restores the exact gradient. */
static void
test_policy_override (void)
{
  NnGraph *g = build_relu_graph (12);
  NnContext *ctx = nn_context_new (g, BATCH, NN_CONTEXT_BACKWARD, NULL);
  fill_input (ctx, 13);
  Objective o;
  objective_init (&o, ctx, 14);
  size_t nin = node_size (ctx, 0), nout = node_size (ctx, o.out);

  objective_backward (&o, NN_BACKWARD_INPUT, -1);
  float *exact_dx = g_memdup2 (nn_context_grad (ctx, 0), sizeof (float) * nin);
  float *exact_y = g_memdup2 (nn_context_output (ctx, o.out), sizeof (float) * nout);

  /* The exact gradient is the true one, at this input. A conv weight moves a whole channel of
   * pre-activations, so more of them cross a ReLU kink than an input value does. */
  GradCheck gc;
  grad_check_init (&gc, "ReLU net, exact policy");
  gc.batch = BATCH;
  gc.input = nn_context_input (ctx);
  gc.eps = 2e-3;
  gc.abs_tol = 1e-3;
  gc.rel_tol = 2e-2;
  gc.kink_share = 0.05;
  grad_check_graph (&gc, g);
  grad_check_assert (&gc);

  const NnGradPolicy proxy = { NN_GRAD_PROXY, 0.3f };
  nn_context_set_policy_override (ctx, &proxy);
  objective_backward (&o, NN_BACKWARD_INPUT, -1);
  g_assert_cmpmem (nn_context_output (ctx, o.out), sizeof (float) * nout, exact_y,
                   sizeof (float) * nout);
  float *proxy_dx = g_memdup2 (nn_context_grad (ctx, 0), sizeof (float) * nin);
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < nin; i++)
    {
      diff += fabs (proxy_dx[i] - exact_dx[i]);
      scale += fabs (exact_dx[i]);
    }
  g_assert_cmpfloat (diff, >, 0.05 * scale);
  /* The model itself still says exact. */
  g_assert_cmpint (g->nodes[nn_graph_find (g, "relu1")].attrs.act.policy.kind, ==,
                   NN_GRAD_EXACT);

  /* The same policy stored in the model gives the same gradient. */
  nn_context_set_policy_override (ctx, NULL);
  nn_graph_set_policy (g, &proxy);
  objective_backward (&o, NN_BACKWARD_INPUT, -1);
  for (size_t i = 0; i < nin; i++)
    g_assert_cmpfloat (nn_context_grad (ctx, 0)[i], ==, proxy_dx[i]);

  /* An exact override on a ProxyGrad model, then no override on an exact model. */
  const NnGradPolicy exact = { NN_GRAD_EXACT, 0.0f };
  nn_context_set_policy_override (ctx, &exact);
  objective_backward (&o, NN_BACKWARD_INPUT, -1);
  for (size_t i = 0; i < nin; i++)
    g_assert_cmpfloat (nn_context_grad (ctx, 0)[i], ==, exact_dx[i]);
  nn_context_set_policy_override (ctx, NULL);
  nn_graph_set_policy (g, &exact);
  objective_backward (&o, NN_BACKWARD_INPUT, -1);
  for (size_t i = 0; i < nin; i++)
    g_assert_cmpfloat (nn_context_grad (ctx, 0)[i], ==, exact_dx[i]);

  g_free (exact_dx);
  g_free (exact_y);
  g_free (proxy_dx);
  g_free (o.w);
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* The same batch through a serial context and through contexts whose workers split the batch
 * (and batch norm's channels), or a single sample's channels: outputs equal (bit-identical when
 * samples are split), parameter and input gradients equal up to the order in which the
 * workers' partial sums are added. Batch 5 does not divide evenly. */
static void
test_threads_match_serial (void)
{
  for (int training = 0; training <= 1; training++)
    for (int threads = 2; threads <= 3; threads++)
      for (int B = 1; B <= 5; B += 4)
      {
        NnGraph *g1 = build_graph (11);
        NnGraph *g2 = nn_graph_dup (g1);
        unsigned flags = NN_CONTEXT_BACKWARD | NN_CONTEXT_PARAM_GRADS;
        NnContext *serial = nn_context_new (g1, B, flags, NULL);
        NnContext *split = nn_context_new (g2, B, flags, NULL);
        g_assert_true (nn_context_set_threads (split, threads, NULL));
        nn_context_set_training (serial, training);
        nn_context_set_training (split, training);
        size_t n_in = nn_shape_size (g1->nodes[0].shape) * (size_t) B;
        NnRng rng;
        nn_rng_init (&rng, 5);
        for (size_t i = 0; i < n_in; i++)
          nn_context_input (serial)[i] = nn_context_input (split)[i] = nn_rng_normal (&rng);

        int out = nn_graph_output (g1);
        size_t n_out = nn_shape_size (g1->nodes[out].shape) * (size_t) B;
        nn_context_forward (serial, -1);
        nn_context_forward (split, -1);
        for (int node = 0; node < g1->n_nodes; node++)
          if (B > 1)
            g_assert_cmpmem (nn_context_output (serial, node),
                             node_size (serial, node) * sizeof (float),
                             nn_context_output (split, node),
                             node_size (split, node) * sizeof (float));
          else
            for (size_t k = 0; k < node_size (serial, node); k++)
              g_assert_cmpfloat_with_epsilon (nn_context_output (serial, node)[k],
                                              nn_context_output (split, node)[k], 1e-5);
        for (size_t i = 0; i < n_out; i++)
          nn_context_grad (serial, out)[i] = nn_context_grad (split, out)[i] = (float) i - 3.0f;
        nn_context_zero_param_grads (serial);
        nn_context_zero_param_grads (split);
        nn_context_backward (serial, out, NN_BACKWARD_PARAMS | NN_BACKWARD_INPUT, -1);
        nn_context_backward (split, out, NN_BACKWARD_PARAMS | NN_BACKWARD_INPUT, -1);
        for (size_t i = 0; i < g1->n_data; i++)
          g_assert_cmpfloat_with_epsilon (nn_context_param_grads (serial)[i],
                                          nn_context_param_grads (split)[i],
                                          1e-4 * (1.0 + fabs (nn_context_param_grads (serial)[i])));
        for (size_t i = 0; i < n_in; i++)
          g_assert_cmpfloat_with_epsilon (nn_context_grad (serial, 0)[i],
                                          nn_context_grad (split, 0)[i], 1e-5);
        /* The input gradient alone (activation maximization): a single sample's convolutions
         * then split their input gradient by input channels. */
        nn_context_backward (serial, out, NN_BACKWARD_INPUT, -1);
        nn_context_backward (split, out, NN_BACKWARD_INPUT, -1);
        for (size_t i = 0; i < n_in; i++)
          g_assert_cmpfloat_with_epsilon (nn_context_grad (serial, 0)[i],
                                          nn_context_grad (split, 0)[i], 1e-5);
        /* Batch statistics were updated identically. */
        g_assert_cmpmem (g1->data, g1->n_data * sizeof (float), g2->data,
                         g2->n_data * sizeof (float));
        nn_context_free (serial);
        nn_context_free (split);
        nn_graph_free (g1);
        nn_graph_free (g2);
      }
}

/* A single RGB sample through PFNet-18 on two and three workers: the 3-group depthwise stem is
 * split into groups of one, which must still find its scratch (a crash once). */
static void
test_threads_single_sample_pfnet (void)
{
  NnArchSpec spec = {
    .name = "pfnet18", .in_c = 3, .in_h = 32, .in_w = 32, .n_classes = 10, .width = 0.25f,
    .bank = NN_PFM_BANK_FULL, .seed = 3,
  };
  NnGraph *g = nn_arch_build (&spec, NULL);
  g_assert_nonnull (g);
  NnContext *serial = nn_context_new (g, 1, 0, NULL);
  size_t n_in = nn_shape_size (g->nodes[0].shape);
  NnRng rng;
  nn_rng_init (&rng, 9);
  for (size_t i = 0; i < n_in; i++)
    nn_context_input (serial)[i] = nn_rng_normal (&rng);
  nn_context_forward (serial, -1);
  int out = nn_graph_output (g);
  for (int threads = 2; threads <= 3; threads++)
    {
      NnContext *split = nn_context_new (g, 1, 0, NULL);
      g_assert_true (nn_context_set_threads (split, threads, NULL));
      memcpy (nn_context_input (split), nn_context_input (serial), n_in * sizeof (float));
      nn_context_forward (split, -1);
      for (int k = 0; k < g->nodes[out].shape.c; k++)
        g_assert_cmpfloat_with_epsilon (nn_context_output (split, out)[k],
                                        nn_context_output (serial, out)[k], 1e-4);
      nn_context_free (split);
    }
  nn_context_free (serial);
  nn_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/context/backward-finite-differences-train", test_gradients_train);
  g_test_add_func ("/nn/context/backward-finite-differences-eval", test_gradients_eval);
  g_test_add_func ("/nn/context/batchnorm-running-stats", test_running_stats);
  g_test_add_func ("/nn/context/backward-stop", test_backward_stop);
  g_test_add_func ("/nn/context/backward-input-only", test_backward_input_only);
  g_test_add_func ("/nn/context/policy-override", test_policy_override);
  g_test_add_func ("/nn/context/threads-match-serial", test_threads_match_serial);
  g_test_add_func ("/nn/context/threads-single-sample-pfnet", test_threads_single_sample_pfnet);
  return g_test_run ();
}
