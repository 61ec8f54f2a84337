/* SPDX-License-Identifier: MIT */
/* Attention rollout and gradient-weighted attention on a hand-built two-block transformer (one
 * head, then two) against their definitions computed here in double precision from the
 * engine's attention maps (and, for the gradients, finite differences of the logit in each
 * attention entry), and through the method registry's nn_explain_run; a model without
 * attention is refused. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "nn.h"

#define TOKENS 5  /* a class token and a 2 x 2 grid of patches */
#define DIM 4

typedef struct
{
  NnGraph *g;
  int      att[2];
} Net;

/* One attention block on seq (TOKENS, DIM) with `heads` heads of DIM / heads; returns seq
 * plus the attention's output, and its softmax node in *att. */
static int
block (NnGraph    *g,
       const char *prefix,
       int         seq,
       int         heads,
       int        *att)
{
  char name[64];
  const int hd = DIM / heads;
  const int split[3] = { TOKENS, heads, hd }, merged[2] = { TOKENS, DIM };
  const int to_heads[3] = { 1, 0, 2 }, to_keys[3] = { 1, 2, 0 }, back[3] = { 1, 0, 2 };
  int proj[3];
  const char *parts[3] = { "q", "k", "v" };
  for (int i = 0; i < 3; i++)
    {
      snprintf (name, sizeof name, "%s.%s", prefix, parts[i]);
      int d = nn_graph_add_dense (g, name, seq, DIM, true);
      snprintf (name, sizeof name, "%s.%s.split", prefix, parts[i]);
      int r = nn_graph_add_reshape_shape (g, name, d, nn_shape_of (3, split));
      snprintf (name, sizeof name, "%s.%s.heads", prefix, parts[i]);
      proj[i] = nn_graph_add_transpose (g, name, r, i == 1 ? to_keys : to_heads);
    }
  snprintf (name, sizeof name, "%s.scores", prefix);
  int scores = nn_graph_add_matmul (g, name, proj[0], proj[1]);
  snprintf (name, sizeof name, "%s.softmax", prefix);
  *att = nn_graph_add_softmax_axis (g, name, scores, 2);
  snprintf (name, sizeof name, "%s.mixed", prefix);
  int mixed = nn_graph_add_matmul (g, name, *att, proj[2]);
  snprintf (name, sizeof name, "%s.back", prefix);
  int tr = nn_graph_add_transpose (g, name, mixed, back);
  snprintf (name, sizeof name, "%s.merged", prefix);
  int out = nn_graph_add_reshape_shape (g, name, tr, nn_shape_of (2, merged));
  snprintf (name, sizeof name, "%s.residual", prefix);
  return nn_graph_add_broadcast (g, NN_OP_BROADCAST_ADD, name, seq, out);
}

/* input (3, 4, 4) -> conv "patch" (DIM, 2x2 stride 2) -> 4 patch tokens, a class token made
 * from the first -> (TOKENS, DIM) -> a block of 1 head, a block of 2 -> the class token -> "fc". */
static void
net_build (Net *net)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 3, 4, 4);
  int patch = nn_graph_add_conv2d (g, "patch", in, DIM, 2, 2, 0, 1, 1, true);
  const int flat_dims[2] = { DIM, 4 }, seq_dims[2] = { TOKENS, DIM }, perm[2] = { 1, 0 };
  int flat = nn_graph_add_reshape_shape (g, "flat", patch, nn_shape_of (2, flat_dims));
  int patches = nn_graph_add_transpose (g, "patches", flat, perm);
  int first = nn_graph_add_slice (g, "first", patches, 0, 0, 1);
  int cls = nn_graph_add_dense (g, "cls", first, DIM, true);
  const int parts[2] = { cls, patches };
  int cat = nn_graph_add_concat (g, "cat", parts, 2);
  int seq = nn_graph_add_reshape_shape (g, "seq", cat, nn_shape_of (2, seq_dims));
  seq = block (g, "b0", seq, 1, &net->att[0]);
  seq = block (g, "b1", seq, 2, &net->att[1]);
  int cls_out = nn_graph_add_slice (g, "cls_out", seq, 0, 0, 1);
  int flat_cls = nn_graph_add_flatten (g, "flat_cls", cls_out);
  nn_graph_add_linear (g, "fc", flat_cls, 3, true);
  NnRng rng;
  nn_rng_init (&rng, 21);
  nn_graph_init_params (g, &rng);
  net->g = g;
}

static void
test_rollout_by_definition (void)
{
  Net net;
  net_build (&net);
  int nodes[4];
  g_assert_cmpint (nn_rollout_attention_nodes (net.g, nodes, 4), ==, 2);
  g_assert_cmpint (nodes[0], ==, net.att[0]);
  g_assert_cmpint (nodes[1], ==, net.att[1]);

  NnContext *ctx = nn_context_new (net.g, 1, 0, NULL);
  NnContext *ref = nn_context_new (net.g, 1, 0, NULL);
  float x[3 * 16];
  NnRng rng;
  nn_rng_init (&rng, 4);
  for (size_t i = 0; i < G_N_ELEMENTS (x); i++)
    x[i] = 2.0f * nn_rng_normal (&rng);
  NnError err = { 0 };
  NnMap *m = nn_rollout_compute (ctx, x, &err);
  g_assert_nonnull (m);
  g_assert_cmpint (m->lh, ==, 2);
  g_assert_cmpint (m->lw, ==, 2);
  g_assert_cmpint (m->layer, ==, net.att[1]);

  /* The definition: R = A1' A0', A' = rownorm (mean_heads A + I); the class token's row. */
  memcpy (nn_context_input (ref), x, sizeof x);
  nn_context_keep (ref, net.att[0]);
  nn_context_keep (ref, net.att[1]);
  nn_context_forward (ref, -1);
  double R[TOKENS][TOKENS] = { { 0 } };
  for (int i = 0; i < TOKENS; i++)
    R[i][i] = 1.0;
  const int heads[2] = { 1, 2 };
  bool sharp = false;
  for (int l = 0; l < 2; l++)
    {
      const float *att = nn_context_output (ref, net.att[l]);
      double a[TOKENS][TOKENS], t[TOKENS][TOKENS];
      for (int r = 0; r < TOKENS; r++)
        {
          double sum = 0.0;
          for (int c = 0; c < TOKENS; c++)
            {
              double v = 0.0;
              for (int h = 0; h < heads[l]; h++)
                v += att[(h * TOKENS + r) * TOKENS + c];
              a[r][c] = v / heads[l] + (r == c);
              sum += a[r][c];
              sharp |= att[r * TOKENS + c] > 0.5f || att[r * TOKENS + c] < 0.05f;
            }
          for (int c = 0; c < TOKENS; c++)
            a[r][c] /= sum;
        }
      for (int r = 0; r < TOKENS; r++)
        for (int c = 0; c < TOKENS; c++)
          {
            t[r][c] = 0.0;
            for (int k = 0; k < TOKENS; k++)
              t[r][c] += a[r][k] * R[k][c];
          }
      memcpy (R, t, sizeof R);
    }
  /* the attention is far from uniform, so the order and the identity matter */
  g_assert_true (sharp);
  float want[4], up[16];
  double lo = 1.0, hi = 0.0;
  for (int p = 0; p < 4; p++)
    {
      g_assert_cmpfloat (fabs (m->layer_map[p] - R[0][1 + p]), <=, 1e-6);
      want[p] = (float) R[0][1 + p];
      lo = fmin (lo, R[0][1 + p]);
      hi = fmax (hi, R[0][1 + p]);
    }
  g_assert_cmpfloat (hi - lo, >, 1e-3);
  nn_explain_upsample (up, want, 2, 2, 4, 4);
  for (int p = 0; p < 16; p++)
    g_assert_cmpfloat (fabs (m->map[p] - up[p]), <=, 1e-6);
  nn_map_free (m);
  nn_context_free (ref);
  nn_context_free (ctx);
  nn_graph_free (net.g);
}

/* On a transformer the CAMs' default layer is the input of the last block's attention (here
 * "b0.residual", the tokens entering block b1), not a layer after it, whose patch tokens no
 * longer reach the class token: Grad-CAM there is nonzero. */
static void
test_default_layer (void)
{
  Net net;
  net_build (&net);
  const int want = nn_graph_find (net.g, "b0.residual");
  g_assert_cmpint (want, >, net.att[0]);
  g_assert_cmpint (nn_explain_default_layer (net.g), ==, want);

  NnContext *ctx = nn_context_new (net.g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[3 * 16];
  NnRng rng;
  nn_rng_init (&rng, 6);
  for (size_t i = 0; i < G_N_ELEMENTS (x); i++)
    x[i] = 2.0f * nn_rng_normal (&rng);
  NnCamSpec spec;
  nn_cam_spec_init (&spec);
  spec.keep_negative = true;
  NnError err = { 0 };
  NnMap *m = nn_cam_compute (ctx, x, &spec, NULL, &err);
  g_assert_nonnull (m);
  g_assert_cmpint (m->layer, ==, want);
  g_assert_cmpint (m->lh, ==, 2);
  double mag = 0.0;
  for (int p = 0; p < 4; p++)
    mag += fabs (m->layer_map[p]);
  g_assert_cmpfloat (mag, >, 1e-6);
  nn_map_free (m);

  /* The last token layer of all, after the last attention: its patch tokens get no gradient. */
  spec.layer = nn_graph_find (net.g, "b1.residual");
  m = nn_cam_compute (ctx, x, &spec, NULL, &err);
  g_assert_nonnull (m);
  for (int p = 0; p < 4; p++)
    g_assert_cmpfloat (m->layer_map[p], ==, 0.0f);
  nn_map_free (m);
  nn_context_free (ctx);
  nn_graph_free (net.g);
}

/* The gradient of logit `target` in each entry of the attention maps att[0..1] (heads, N, N),
 * by central differences: each entry of the kept map nudged, the graph run on from the next
 * node. grads[l] holds heads[l] * TOKENS * TOKENS values. */
static void
attention_gradients (const Net   *net,
                     const float *x,
                     int          target,
                     double       grads[2][2 * TOKENS * TOKENS],
                     float        atts[2][2 * TOKENS * TOKENS])
{
  NnContext *ref = nn_context_new (net->g, 1, NN_CONTEXT_NO_FOLD, NULL);
  memcpy (nn_context_input (ref), x, sizeof (float) * 3 * 16);
  nn_context_forward (ref, -1);
  const int out = nn_graph_output (net->g);
  const int heads[2] = { 1, 2 };
  const float eps = 1e-2f;
  for (int l = 0; l < 2; l++)
    {
      float *a = nn_context_output (ref, net->att[l]);
      const int n = heads[l] * TOKENS * TOKENS;
      memcpy (atts[l], a, sizeof (float) * (size_t) n);
      for (int i = 0; i < n; i++)
        {
          const float keep = a[i];
          a[i] = keep + eps;
          nn_context_forward_from (ref, net->att[l] + 1, -1);
          const double up = nn_context_output (ref, out)[target];
          a[i] = keep - eps;
          nn_context_forward_from (ref, net->att[l] + 1, -1);
          const double down = nn_context_output (ref, out)[target];
          a[i] = keep;
          grads[l][i] = (up - down) / (2.0 * eps);
        }
      nn_context_forward (ref, -1);
    }
  nn_context_free (ref);
}

/* Abar = mean over heads of max (grad * att, 0) (TOKENS x TOKENS); counts the negative
 * products in *negative. */
static void
weighted_attention (double       abar[TOKENS][TOKENS],
                    const float *att,
                    const double *grad,
                    int          heads,
                    int         *negative)
{
  for (int r = 0; r < TOKENS; r++)
    for (int c = 0; c < TOKENS; c++)
      {
        double v = 0.0;
        for (int h = 0; h < heads; h++)
          {
            const int i = (h * TOKENS + r) * TOKENS + c;
            const double p = grad[i] * att[i];
            *negative += p < -1e-4;
            v += p > 0.0 ? p : 0.0;
          }
        abar[r][c] = v / heads;
      }
}

/* Gradient-weighted attention for a class that is not the top one: R = I, R += Abar R per
 * block; the class token's row over the patches; with a block chosen, that block's Abar row. */
static void
test_attn_grad_by_definition (void)
{
  Net net;
  net_build (&net);
  float x[3 * 16];
  NnRng rng;
  nn_rng_init (&rng, 4);
  for (size_t i = 0; i < G_N_ELEMENTS (x); i++)
    x[i] = 0.3f * nn_rng_normal (&rng);  /* soft attention: nonzero softmax gradients */
  NnContext *ctx = nn_context_new (net.g, 1, NN_CONTEXT_BACKWARD, NULL);
  NnError err = { 0 };
  NnMap *top = nn_attn_grad_compute (ctx, x, -1, 0, &err);
  g_assert_nonnull (top);
  const int target = (top->target + 1) % 3;
  nn_map_free (top);

  double grads[2][2 * TOKENS * TOKENS];
  float atts[2][2 * TOKENS * TOKENS];
  attention_gradients (&net, x, target, grads, atts);
  const int heads[2] = { 1, 2 };
  double abar[2][TOKENS][TOKENS];
  int negative = 0;
  for (int l = 0; l < 2; l++)
    weighted_attention (abar[l], atts[l], grads[l], heads[l], &negative);
  /* some products are negative: the positive part matters */
  g_assert_cmpint (negative, >, 0);
  double R[TOKENS][TOKENS] = { { 0 } };
  for (int i = 0; i < TOKENS; i++)
    R[i][i] = 1.0;
  for (int l = 0; l < 2; l++)
    {
      double t[TOKENS][TOKENS];
      for (int r = 0; r < TOKENS; r++)
        for (int c = 0; c < TOKENS; c++)
          {
            t[r][c] = R[r][c];
            for (int k = 0; k < TOKENS; k++)
              t[r][c] += abar[l][r][k] * R[k][c];
          }
      memcpy (R, t, sizeof R);
    }

  NnMap *m = nn_attn_grad_compute (ctx, x, target, 0, &err);
  g_assert_nonnull (m);
  g_assert_cmpint (m->target, ==, target);
  g_assert_cmpint (m->layer, ==, net.att[1]);
  g_assert_cmpint (m->lh, ==, 2);
  g_assert_cmpint (m->lw, ==, 2);
  g_assert_false (m->is_signed);
  double hi = 0.0, lo = 1e30;
  for (int p = 0; p < 4; p++)
    {
      hi = fmax (hi, R[0][1 + p]);
      lo = fmin (lo, R[0][1 + p]);
    }
  g_assert_cmpfloat (hi - lo, >, 1e-3);
  float want[4], up[16];
  for (int p = 0; p < 4; p++)
    {
      g_assert_cmpfloat (fabs (m->layer_map[p] - R[0][1 + p]), <=, 1e-3 * hi);
      want[p] = m->layer_map[p];
    }
  nn_explain_upsample (up, want, 2, 2, 4, 4);
  g_assert_cmpmem (m->map, sizeof up, up, sizeof up);
  nn_map_free (m);

  /* One block: the first block's Abar row of the class token, which differs from the whole. */
  for (int b = 1; b <= 2; b++)
    {
      m = nn_attn_grad_compute (ctx, x, target, b, &err);
      g_assert_nonnull (m);
      g_assert_cmpint (m->layer, ==, net.att[b - 1]);
      double scale = 0.0, diff = 0.0;
      for (int p = 0; p < 4; p++)
        scale = fmax (scale, abar[b - 1][0][1 + p]);
      g_assert_cmpfloat (scale, >, 1e-4);
      for (int p = 0; p < 4; p++)
        {
          g_assert_cmpfloat (fabs (m->layer_map[p] - abar[b - 1][0][1 + p]), <=, 1e-3 * scale);
          diff = fmax (diff, fabs (abar[b - 1][0][1 + p] - R[0][1 + p]));
        }
      g_assert_cmpfloat (diff, >, 1e-3 * hi);
      nn_map_free (m);
    }
  g_assert_null (nn_attn_grad_compute (ctx, x, target, 3, &err));
  g_assert_nonnull (strstr (err.message, "attn-grad: no block 3 (the model has 2 blocks"));
  nn_context_free (ctx);

  ctx = nn_context_new (net.g, 1, 0, NULL);
  g_assert_null (nn_attn_grad_compute (ctx, x, target, 0, &err));
  g_assert_nonnull (strstr (err.message, "needs a context with gradient buffers"));
  nn_context_free (ctx);
  nn_graph_free (net.g);
}

static void
test_no_attention (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 3, 4, 4);
  int conv = nn_graph_add_conv2d (g, "conv", in, 2, 3, 1, 1, 1, 1, true);
  int gap = nn_graph_add_global_avgpool (g, "gap", conv);
  nn_graph_add_linear (g, "fc", gap, 3, true);
  NnContext *ctx = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[3 * 16] = { 0 };
  NnError err = { 0 };
  g_assert_null (nn_rollout_compute (ctx, x, &err));
  g_assert_nonnull (strstr (err.message,
                            "no attention maps: rollout applies to vision transformers"));
  g_assert_null (nn_attn_grad_compute (ctx, x, -1, 0, &err));
  g_assert_nonnull (strstr (err.message,
                            "no attention maps: attn-grad applies to vision transformers"));
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* The registry's row through nn_explain_run, as the CLI and the window run it: found by name,
 * needing attention maps and no gradients, it gives the engine function's map; the metrics
 * run on it too. */
static void
test_explain_run (void)
{
  NnMethod method;
  g_assert_true (nn_method_from_name ("rollout", &method));
  g_assert_cmpint (method, ==, NN_METHOD_ROLLOUT);
  g_assert_true (nn_method_has_flags (method, NN_METHOD_FLAG_ATTENTION));
  g_assert_false (nn_method_has_flags (method, NN_METHOD_FLAG_GRADIENTS));
  g_assert_false (nn_method_has_flags (method, NN_METHOD_FLAG_CAM));

  Net net;
  net_build (&net);
  float x[3 * 16];
  NnRng rng;
  nn_rng_init (&rng, 5);
  for (size_t i = 0; i < G_N_ELEMENTS (x); i++)
    x[i] = 2.0f * nn_rng_normal (&rng);
  NnContext *ctx = nn_context_new (net.g, 1, 0, NULL);
  NnError err = { 0 };
  NnMap *want = nn_rollout_compute (ctx, x, &err);
  g_assert_nonnull (want);
  nn_context_free (ctx);

  NnModel *model = nn_model_new (net.g, "vit");
  char *dir = g_dir_make_tmp ("test-rollout-XXXXXX", NULL);
  g_assert_nonnull (dir);
  char *path = g_build_filename (dir, "x.npy", NULL);
  const int dims[3] = { 3, 4, 4 };
  g_assert_true (nn_npy_save (path, x, dims, 3, NULL));
  NnInput *input = nn_input_load (path, model, NULL, &err);
  g_assert_nonnull (input);

  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.map.method = method;
  spec.faith.metrics = NN_FAITH_DELETION | NN_FAITH_INSERTION;
  NnExplanation *e = nn_explain_run (model, input, &spec, NULL, &err);
  g_assert_nonnull (e);
  g_assert_cmpint (e->method, ==, NN_METHOD_ROLLOUT);
  g_assert_cmpint (e->map->lh, ==, 2);
  g_assert_cmpint (e->map->lw, ==, 2);
  g_assert_cmpint (e->map->layer, ==, net.att[1]);
  g_assert_cmpint (e->map->target, ==, want->target);
  g_assert_cmpmem (e->map->layer_map, sizeof (float) * 4, want->layer_map, sizeof (float) * 4);
  g_assert_cmpmem (e->map->map, sizeof (float) * 16, want->map, sizeof (float) * 16);
  g_assert_cmpuint (e->metrics.has, ==, NN_FAITH_DELETION | NN_FAITH_INSERTION);
  nn_explanation_free (e);
  nn_map_free (want);

  /* Gradient-weighted attention of the second block alone, with gradients. */
  g_assert_true (nn_method_from_name ("attn-grad", &method));
  g_assert_cmpint (method, ==, NN_METHOD_ATTN_GRAD);
  g_assert_cmpstr (nn_method_get_info (method)->label, ==, "Attention × gradient");
  g_assert_true (nn_method_has_flags (method,
                                      NN_METHOD_FLAG_ATTENTION | NN_METHOD_FLAG_GRADIENTS));
  ctx = nn_context_new (net.g, 1, NN_CONTEXT_BACKWARD, NULL);
  want = nn_attn_grad_compute (ctx, x, -1, 2, &err);
  g_assert_nonnull (want);
  nn_context_free (ctx);
  spec.map.method = method;
  spec.map.block = 2;
  e = nn_explain_run (model, input, &spec, NULL, &err);
  g_assert_nonnull (e);
  g_assert_cmpint (e->method, ==, NN_METHOD_ATTN_GRAD);
  g_assert_cmpint (e->map->layer, ==, net.att[1]);
  g_assert_cmpint (e->map->target, ==, want->target);
  g_assert_cmpmem (e->map->layer_map, sizeof (float) * 4, want->layer_map, sizeof (float) * 4);
  g_assert_cmpuint (e->metrics.has, ==, NN_FAITH_DELETION | NN_FAITH_INSERTION);
  nn_explanation_free (e);
  nn_map_free (want);
  nn_input_unref (input);
  nn_model_free (model);
  g_remove (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/rollout/by-definition", test_rollout_by_definition);
  g_test_add_func ("/nn/rollout/attn-grad", test_attn_grad_by_definition);
  g_test_add_func ("/nn/rollout/no-attention", test_no_attention);
  g_test_add_func ("/nn/rollout/default-layer", test_default_layer);
  g_test_add_func ("/nn/rollout/explain-run", test_explain_run);
  return g_test_run ();
}
