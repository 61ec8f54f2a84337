/* SPDX-License-Identifier: MIT */
/* The op table and the name tables: every entry is there and reads back, the graph creates and
 * initialises parameters as the table says, every op's attributes survive a model file, and a
 * node in words is what `cnnscope-cli info` shows. */
#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph/nn-op.h"
#include "nn.h"
#include "test-util.h"

static void
test_names (void)
{
  for (int i = 0; i < NN_OP_COUNT_; i++)
    {
      const char *name = nn_op_name ((NnOp) i);
      NnOp back;
      g_assert_nonnull (name);
      g_assert_true (nn_op_from_name (name, &back));
      g_assert_cmpint (back, ==, i);
    }
  for (int i = 0; i < NN_ACT_COUNT_; i++)
    {
      NnActKind back;
      g_assert_true (nn_act_from_name (nn_act_name ((NnActKind) i), &back));
      g_assert_cmpint (back, ==, i);
    }
  for (int i = 0; i < NN_GRAD_COUNT_; i++)
    {
      NnGradPolicy policy;
      g_assert_true (nn_grad_policy_parse (nn_grad_kind_name ((NnGradKind) i), &policy, NULL));
      g_assert_cmpint (policy.kind, ==, i);
    }
  for (int i = 0; i < NN_PARAM_ROLE_COUNT_; i++)
    g_assert_nonnull (nn_param_role_name ((NnParamRole) i));
  for (int i = 0; i < NN_CAM_COUNT_; i++)
    {
      NnCamMethod back;
      g_assert_true (nn_cam_method_from_name (nn_cam_method_name ((NnCamMethod) i), &back));
      g_assert_cmpint (back, ==, i);
    }
  for (int i = 0; i < NN_SALIENCY_COUNT_; i++)
    {
      NnSaliencyMethod back;
      g_assert_true (nn_saliency_method_from_name (nn_saliency_method_name ((NnSaliencyMethod) i),
                                                   &back));
      g_assert_cmpint (back, ==, i);
    }
  for (int i = 0; i < NN_AM_OBJECTIVE_COUNT_; i++)
    g_assert_nonnull (nn_am_objective_name ((NnAmObjective) i));
  for (int i = 0; i < 16; i++)
    g_assert_nonnull (nn_pfm_kernel_name (i));
}

static void
test_table (void)
{
  for (int i = 0; i < NN_OP_COUNT_; i++)
    {
      const NnOpInfo *info = nn_op_info ((NnOp) i);
      g_assert_cmpint (info->backward, ==, i != NN_OP_INPUT);
      g_assert_cmpint (info->split == NN_OP_SPLIT_NONE, ==, i == NN_OP_INPUT);
      g_assert_true (info->n_inputs == NN_OP_INPUTS_ANY
                     || (info->n_inputs >= 0 && info->n_inputs <= NN_MAX_INPUTS));
      g_assert_cmpint (info->n_params, <=, NN_MAX_NODE_PARAMS);
      for (int k = 0; k < info->n_params; k++)
        for (int j = 0; j < k; j++)
          g_assert_cmpint (info->params[j].role, !=, info->params[k].role);
      for (int k = 0; k < NN_OP_MAX_ATTRS && info->attrs[k].key != NULL; k++)
        {
          const NnAttr *a = &info->attrs[k];
          g_assert_true (a->type != NN_ATTR_INTS || (a->n >= 2 && a->n <= 4));
          for (int j = 0; j < k; j++)
            g_assert_cmpstr (info->attrs[j].key, !=, a->key);
        }
    }
}

/* input (3,8,8) and one node of every op after it, each with attributes away from the
 * defaults. */
static NnGraph *
build_every_op (void)
{
  NnGraph *g = nn_graph_new ();
  int x = nn_graph_add_input (g, "input", 3, 8, 8);
  int conv = nn_graph_add_conv2d (g, "conv", x, 6, 3, 1, 2, 2, 3, true);
  int bn = nn_graph_add_batchnorm (g, "bn", conv);
  int in = nn_graph_add_instancenorm (g, "in", bn, true);
  int leaky = nn_graph_add_leaky_relu (g, "leaky", in, 0.125f);
  int clip = nn_graph_add_activation_full (g, "clip", leaky, NN_ACT_CLIP, -0.5f, 6.0f);
  int hsig = nn_graph_add_activation_full (g, "hsig", clip, NN_ACT_HARDSIGMOID, 0.25f, 0.5f);
  int mp = nn_graph_add_maxpool (g, "maxpool", hsig, 3, 1, 1);
  int ap = nn_graph_add_avgpool (g, "avgpool", mp, 3, 1, 1);
  int sum = nn_graph_add_add (g, "sum", ap, mp);
  int prod = nn_graph_add_mul (g, "prod", sum, ap);
  int cat = nn_graph_add_concat (g, "cat", (const int[]) { prod, sum, mp }, 3);
  int pad = nn_graph_add_pad (g, "pad", cat, 1, 0, 2, 1, -0.5f);
  int sc = nn_graph_add_scale (g, "scale", pad, true);
  int pr = nn_graph_add_prelu (g, "prelu", sc, false);
  int rs = nn_graph_add_reshape (g, "reshape", pr, 9, 22, 9);
  int mean = nn_graph_add_global_avgpool (g, "mean", rs);
  int sig = nn_graph_add_activation (g, "sigmoid", mean, NN_ACT_SIGMOID);
  int badd = nn_graph_add_broadcast (g, NN_OP_BROADCAST_ADD, "badd", rs, mean);
  int bsub = nn_graph_add_broadcast (g, NN_OP_BROADCAST_SUB, "bsub", mean, badd);
  int bmul = nn_graph_add_broadcast (g, NN_OP_BROADCAST_MUL, "bmul", bsub, sig);
  int bdiv = nn_graph_add_broadcast (g, NN_OP_BROADCAST_DIV, "bdiv", bmul, sig);
  int rsum = nn_graph_add_reduce (g, NN_OP_REDUCE_SUM, "rsum", bdiv, 2, true);
  int rmean = nn_graph_add_reduce (g, NN_OP_REDUCE_MEAN, "rmean", bdiv, 4, true);
  int rmax = nn_graph_add_reduce (g, NN_OP_REDUCE_MAX, "rmax", bdiv, 1, false);
  int outer = nn_graph_add_broadcast (g, NN_OP_BROADCAST_ADD, "outer", rsum, rmean);
  int both = nn_graph_add_broadcast (g, NN_OP_BROADCAST_ADD, "both", outer, rmax);
  int tr = nn_graph_add_transpose (g, "transpose", both, (const int[]) { 2, 0, 1 });
  int sl = nn_graph_add_slice (g, "slice", tr, 1, 2, 5);
  int dn = nn_graph_add_dense (g, "dense", sl, 3, true);
  int sm = nn_graph_add_softmax_axis (g, "softmax_axis", dn, 1);
  int smt = nn_graph_add_transpose (g, "transpose_2", sm, (const int[]) { 0, 2, 1 });
  int mm = nn_graph_add_matmul (g, "matmul", sm, smt);
  int gap = nn_graph_add_global_avgpool (g, "gap", mm);
  int fl = nn_graph_add_flatten (g, "flatten", gap);
  int dr = nn_graph_add_dropout (g, "dropout", fl, 0.25f);
  int fc = nn_graph_add_linear (g, "fc", dr, 4, false);
  nn_graph_add_softmax (g, "softmax", fc);
  NnGradPolicy policy = { NN_GRAD_PROXY, 0.5f };
  g->nodes[leaky].attrs.act.policy = policy;
  return g;
}

static void
test_params (void)
{
  NnGraph *g = build_every_op ();
  NnRng rng;
  nn_rng_init (&rng, 3);
  nn_graph_init_params (g, &rng);
  bool seen[NN_OP_COUNT_] = { false };
  for (int i = 0; i < g->n_nodes; i++)
    {
      const NnNode *node = &g->nodes[i];
      const NnOpInfo *info = nn_op_info (node->op);
      seen[node->op] = true;
      int k = 0;
      for (int p = 0; p < node->n_params; p++)
        {
          const NnParam *param = &g->params[node->params[p]];
          /* The node's parameters follow the table's order, skipping the ones it lacks. */
          while (k < info->n_params && info->params[k].role != param->role)
            k++;
          g_assert_cmpint (k, <, info->n_params);
          g_assert_cmpint (param->trainable, ==, info->params[k].trainable);
          g_assert_true (g_str_has_suffix (param->name, nn_param_role_name (param->role)));
          const float *d = g->data + param->offset;
          if (!info->params[k].he)
            for (size_t j = 0; j < param->count; j++)
              g_assert_cmpfloat (d[j], ==, info->params[k].init);
        }
      /* What a reader bounds before adding a node is what the node holds. */
      size_t count, held = 0;
      for (int p = 0; p < node->n_params; p++)
        held += g->params[node->params[p]].count;
      NnGraph *partial = nn_graph_dup (g);
      partial->n_nodes = i;
      g_assert_true (nn_graph_spec_param_count (partial, node, &count, NULL));
      g_assert_cmpuint (count, ==, held);
      nn_graph_free (partial);
    }
  for (int op = 0; op < NN_OP_COUNT_; op++)
    g_assert_true (seen[op]);
  nn_graph_free (g);
}

/* A training step of the graph on a fixed input: the output, the input gradient and the
 * parameters afterwards (batch norm updates its running statistics) depend on every attribute
 * that changes what the graph computes. Returns them one after another, to g_free. */
static float *
training_step (NnGraph *g,
               size_t  *n)
{
  const int B = 2;
  NnContext *ctx = nn_context_new (g, B, NN_CONTEXT_BACKWARD, NULL);
  g_assert_nonnull (ctx);
  nn_context_set_training (ctx, true);
  nn_context_set_seed (ctx, 11);
  const int out = nn_graph_output (g);
  const size_t n_in = nn_shape_size (g->nodes[0].shape) * B;
  const size_t n_out = nn_shape_size (g->nodes[out].shape) * B;
  float *x = nn_context_input (ctx);
  for (size_t j = 0; j < n_in; j++)
    x[j] = (float) ((j * 37) % 17) / 8.0f - 1.0f;
  nn_context_forward (ctx, -1);
  float *seed = nn_context_grad (ctx, out);
  for (size_t j = 0; j < n_out; j++)
    seed[j] = j % 2 ? 1.0f : -0.5f;
  nn_context_backward (ctx, out, NN_BACKWARD_INPUT, -1);
  *n = n_out + n_in + g->n_data;
  float *result = g_new (float, *n);
  memcpy (result, nn_context_output (ctx, out), sizeof (float) * n_out);
  memcpy (result + n_out, nn_context_grad (ctx, 0), sizeof (float) * n_in);
  memcpy (result + n_out + n_in, g->data, sizeof (float) * g->n_data);
  nn_context_free (ctx);
  return result;
}

/* Attribute `attr` of the op table is the same in both nodes. */
static void
assert_same_attr (const NnNode *x,
                  const NnNode *y,
                  const NnAttr *attr)
{
  size_t size = nn_attr_value_size (attr);
  for (int k = 0; k < attr->n; k++)
    if (memcmp (nn_attr_get (x, attr, k), nn_attr_get (y, attr, k), size) != 0)
      g_error ("node '%s': attribute '%s' differs", x->name, attr->key);
}

/* Every op's attributes survive a model file: each one the table lists reads back the same, and
 * the loaded graph computes the same training step bit for bit. */
static void
test_model_file (void)
{
  NnGraph *g = build_every_op ();
  NnRng rng;
  nn_rng_init (&rng, 5);
  nn_graph_init_params (g, &rng);
  NnModel *model = nn_model_new (g, "every-op");
  char *dir = test_util_make_tmp_dir ();
  char *path = g_build_filename (dir, "every-op.safetensors", NULL);
  NnError err = { 0 };
  g_assert_true (nn_model_save (model, path, &err));
  NnModel *back = nn_model_load (path, &err);
  g_assert_nonnull (back);
  NnGraph *h = back->graph;
  g_assert_cmpint (h->n_nodes, ==, g->n_nodes);
  for (int i = 0; i < g->n_nodes; i++)
    {
      const NnNode *a = &g->nodes[i], *b = &h->nodes[i];
      g_assert_cmpstr (a->name, ==, b->name);
      g_assert_cmpint (a->op, ==, b->op);
      g_assert_cmpint (a->n_inputs, ==, b->n_inputs);
      g_assert_cmpmem (a->inputs, sizeof a->inputs, b->inputs, sizeof b->inputs);
      g_assert_cmpmem (&a->shape, sizeof a->shape, &b->shape, sizeof b->shape);
      const NnOpInfo *info = nn_op_info (a->op);
      for (int k = 0; k < NN_OP_MAX_ATTRS && info->attrs[k].key != NULL; k++)
        if (nn_attr_present (a, &info->attrs[k]))
          assert_same_attr (a, b, &info->attrs[k]);
    }
  g_assert_cmpuint (h->n_data, ==, g->n_data);
  g_assert_cmpmem (h->data, sizeof (float) * h->n_data, g->data, sizeof (float) * g->n_data);
  size_t n, m;
  float *want = training_step (g, &n);
  float *got = training_step (h, &m);
  g_assert_cmpmem (got, sizeof (float) * m, want, sizeof (float) * n);
  g_free (want);
  g_free (got);
  nn_model_free (back);
  nn_model_free (model);
  test_util_remove_tree (dir);
  g_free (path);
  g_free (dir);
}

typedef struct
{
  uintptr_t begin;
  uintptr_t end;
} Span;

static int
span_by_begin (const void *a,
               const void *b)
{
  const Span *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* A context's buffers come from one plan: each output and gradient starts on a 64-byte line,
 * none overlaps another, and a training step through every op runs in them. */
static void
test_context_plan (void)
{
  NnGraph *g = build_every_op ();
  NnRng rng;
  nn_rng_init (&rng, 7);
  nn_graph_init_params (g, &rng);
  const int B = 3;
  NnContext *ctx = nn_context_new (g, B, NN_CONTEXT_BACKWARD | NN_CONTEXT_PARAM_GRADS, NULL);
  g_assert_nonnull (ctx);
  Span *spans = g_new (Span, 2 * (size_t) g->n_nodes + 1);
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++)
    {
      const size_t bytes = sizeof (float) * nn_shape_size (g->nodes[i].shape) * B;
      const float *buffers[2] = { nn_context_output (ctx, i), nn_context_grad (ctx, i) };
      for (int k = 0; k < 2; k++)
        {
          g_assert_cmpuint ((uintptr_t) buffers[k] % 64, ==, 0);
          spans[n++] = (Span) { (uintptr_t) buffers[k], (uintptr_t) buffers[k] + bytes };
        }
    }
  const float *pg = nn_context_param_grads (ctx);
  spans[n++] = (Span) { (uintptr_t) pg, (uintptr_t) pg + sizeof (float) * g->n_data };
  qsort (spans, (size_t) n, sizeof (Span), span_by_begin);
  for (int k = 1; k < n; k++)
    g_assert_cmpuint (spans[k - 1].end, <=, spans[k].begin);

  nn_context_set_training (ctx, true);
  float *x = nn_context_input (ctx);
  for (size_t j = 0; j < nn_shape_size (g->nodes[0].shape) * B; j++)
    x[j] = nn_rng_uniform (&rng) - 0.5f;
  nn_context_forward (ctx, -1);
  const int out = nn_graph_output (g);
  float *seed = nn_context_grad (ctx, out);
  for (size_t j = 0; j < nn_shape_size (g->nodes[out].shape) * B; j++)
    seed[j] = j % 2 ? 1.0f : -1.0f;
  nn_context_zero_param_grads (ctx);
  nn_context_backward (ctx, out, NN_BACKWARD_PARAMS | NN_BACKWARD_INPUT, -1);
  double sum = 0.0;
  for (size_t j = 0; j < g->n_data; j++)
    {
      g_assert_true (isfinite (pg[j]));
      sum += fabs (pg[j]);
    }
  g_assert_cmpfloat (sum, >, 0.0);
  g_free (spans);
  nn_context_free (ctx);
  nn_graph_free (g);
}

static void
expect_description (const NnNode *node,
                    const char   *op,
                    const char   *shape,
                    const char   *attrs)
{
  NnNodeDescription d;
  nn_node_describe (node, &d);
  g_assert_cmpstr (d.op, ==, op);
  g_assert_cmpstr (d.shape, ==, shape);
  g_assert_cmpstr (d.attrs, ==, attrs);
}

static void
test_describe (void)
{
  NnGraph *g = build_every_op ();
  expect_description (&g->nodes[nn_graph_find (g, "conv")], "conv2d", "6x8x8", "3x3 s1 p2 d2 g3");
  expect_description (&g->nodes[nn_graph_find (g, "leaky")], "activation", "6x8x8",
                      "leaky 0.125, grad proxygrad:0.5");
  expect_description (&g->nodes[nn_graph_find (g, "clip")], "activation", "6x8x8", "clip");
  expect_description (&g->nodes[nn_graph_find (g, "maxpool")], "maxpool", "6x8x8", "3x3 s1 p1");
  expect_description (&g->nodes[nn_graph_find (g, "dropout")], "dropout", "9x1x1", "p 0.25");
  expect_description (&g->nodes[nn_graph_find (g, "flatten")], "flatten", "9x1x1", "");
  nn_graph_set_policy (g, &(NnGradPolicy) { NN_GRAD_SUGAR_BSILU, 0.0f });
  g->nodes[nn_graph_find (g, "leaky")].attrs.act.slope = 0.0f;
  expect_description (&g->nodes[nn_graph_find (g, "leaky")], "activation", "6x8x8",
                      "relu, grad sugar:bsilu");
  nn_graph_free (g);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/op/names", test_names);
  g_test_add_func ("/nn/op/table", test_table);
  g_test_add_func ("/nn/op/params", test_params);
  g_test_add_func ("/nn/op/model-file", test_model_file);
  g_test_add_func ("/nn/op/context-plan", test_context_plan);
  g_test_add_func ("/nn/op/describe", test_describe);
  return g_test_run ();
}
