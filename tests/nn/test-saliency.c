/* SPDX-License-Identifier: MIT */
/* Input-space attribution: the input gradient against finite differences, Guided Backprop by
 * hand on a two-ReLU network, SmoothGrad and Integrated Gradients against direct loops,
 * IG's completeness, Guided Grad-CAM as a product, bad input and cancellation. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "grad-check.h"
#include "nn.h"

#define IN_C 2
#define SIDE 5
#define CLASSES 3
#define IN_SIZE (IN_C * SIDE * SIDE)

/* input (2, 5, 5) -> conv (3, 3x3, pad 1) -> tanh -> conv "head" (2, 3x3, pad 1) -> sigmoid
 * -> global average pool -> linear (3): smooth, so finite differences are exact enough. */
static NnGraph *
smooth_net (uint64_t seed)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", IN_C, SIDE, SIDE);
  int c1 = nn_graph_add_conv2d (g, "conv1", in, 3, 3, 1, 1, 1, 1, true);
  int t = nn_graph_add_activation (g, "tanh", c1, NN_ACT_TANH);
  int c2 = nn_graph_add_conv2d (g, "head", t, 2, 3, 1, 1, 1, 1, true);
  int s = nn_graph_add_activation (g, "sig", c2, NN_ACT_SIGMOID);
  int gap = nn_graph_add_global_avgpool (g, "gap", s);
  nn_graph_add_linear (g, "fc", gap, CLASSES, true);
  NnRng rng;
  nn_rng_init (&rng, seed);
  nn_graph_init_params (g, &rng);
  return g;
}

/* The same with ReLUs, for the guided methods. */
static NnGraph *
relu_net (uint64_t seed)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", IN_C, SIDE, SIDE);
  int c1 = nn_graph_add_conv2d (g, "conv1", in, 4, 3, 1, 1, 1, 1, true);
  int r1 = nn_graph_add_relu (g, "relu1", c1);
  int c2 = nn_graph_add_conv2d (g, "conv2", r1, 3, 3, 1, 1, 1, 1, true);
  int r2 = nn_graph_add_relu (g, "relu2", c2);
  int gap = nn_graph_add_global_avgpool (g, "gap", r2);
  nn_graph_add_linear (g, "fc", gap, CLASSES, true);
  NnRng rng;
  nn_rng_init (&rng, seed);
  nn_graph_init_params (g, &rng);
  return g;
}

static void
random_input (float   *x,
              size_t   n,
              uint64_t seed)
{
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (size_t i = 0; i < n; i++)
    x[i] = nn_rng_normal (&rng);
}

static float
logit_of (NnContext   *ctx,
          const float *x,
          int          c)
{
  NnGraph *g = nn_context_get_graph (ctx);
  memcpy (nn_context_input (ctx), x, sizeof (float) * IN_SIZE);
  nn_context_forward (ctx, -1);
  return nn_context_output (ctx, nn_graph_output (g))[c];
}

static NnMap *
compute (NnContext        *ctx,
         const float      *x,
         NnSaliencyMethod  method,
         int               target,
         int               samples)
{
  NnSaliencySpec spec;
  nn_saliency_spec_init (&spec);
  spec.method = method;
  spec.target = target;
  spec.samples = samples;
  NnError err = { 0 };
  NnMap *m = nn_saliency_compute (ctx, x, &spec, NULL, &err);
  if (m == NULL)
    g_error ("%s", err.message);
  return m;
}

/* The logit of one class at input x, on a forward-only context. */
typedef struct
{
  NnContext   *ctx;
  const float *x;
  int          c;
} Logit;

static double
logit_loss (void *data)
{
  const Logit *l = data;
  return logit_of (l->ctx, l->x, l->c);
}

static void
test_gradient_finite_differences (void)
{
  NnGraph *g = smooth_net (1);
  NnContext *ctx = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  NnContext *fwd = nn_context_new (g, 1, 0, NULL);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 2);
  for (int c = 0; c < CLASSES; c++)
    {
      NnMap *m = compute (ctx, x, NN_SALIENCY_GRADIENT, c, 0);
      g_assert_cmpint (m->c, ==, IN_C);
      g_assert_cmpint (m->h, ==, SIDE);
      double scale = 0.0;
      for (int i = 0; i < IN_SIZE; i++)
        scale = fmax (scale, fabs (m->channels[i]));
      g_assert_cmpfloat (scale, >, 1e-4);
      Logit l = { fwd, x, c };
      g_autofree char *op = g_strdup_printf ("gradient saliency of class %d", c);
      GradCheck gc;
      grad_check_init (&gc, op);
      gc.abs_tol = 2e-3 * scale;
      gc.rel_tol = 0.0;
      grad_check_values (&gc, "input", x, m->channels, IN_SIZE, logit_loss, &l);
      grad_check_assert (&gc);
      for (int p = 0; p < SIDE * SIDE; p++)
        g_assert_cmpfloat (m->map[p], ==, fmaxf (fabsf (m->channels[p]),
                                                 fabsf (m->channels[SIDE * SIDE + p])));
      g_assert_false (m->is_signed);
      nn_map_free (m);
    }
  nn_context_free (fwd);
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* x (1, 1, 2) -> fc1 -> relu -> fc2 -> relu -> fc3, worked by hand: z1 = (-1, 2.5),
 * z2 = (2.5, 1); for class 0 dL/dh2 = (1, -2). Exact: (0.1, 0.2). Guided drops the -2 at
 * the second ReLU and the first unit at the first: (0.5, 1). */
static void
test_guided_by_hand (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 1, 1, 2);
  int f1 = nn_graph_add_linear (g, "fc1", in, 2, false);
  int r1 = nn_graph_add_relu (g, "relu1", f1);
  int f2 = nn_graph_add_linear (g, "fc2", r1, 2, false);
  int r2 = nn_graph_add_relu (g, "relu2", f2);
  int f3 = nn_graph_add_linear (g, "fc3", r2, 2, false);
  const float w1[4] = { 1, -1, 0.5f, 1 }, w2[4] = { 1, 1, -1, 0.4f }, w3[4] = { 1, -2, 0.5f,
                                                                                0.5f };
  memcpy (nn_graph_param_data (g, nn_graph_node_param (g, f1, NN_PARAM_WEIGHT)), w1, sizeof w1);
  memcpy (nn_graph_param_data (g, nn_graph_node_param (g, f2, NN_PARAM_WEIGHT)), w2, sizeof w2);
  memcpy (nn_graph_param_data (g, nn_graph_node_param (g, f3, NN_PARAM_WEIGHT)), w3, sizeof w3);
  /* The model's own policy must not matter. */
  const NnGradPolicy proxy = { NN_GRAD_PROXY, 0.3f };
  nn_graph_set_policy (g, &proxy);
  NnContext *ctx = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  const float x[2] = { 1, 2 };
  NnSaliencySpec spec;
  nn_saliency_spec_init (&spec);
  spec.target = 0;
  NnMap *m = nn_saliency_compute (ctx, x, &spec, NULL, NULL);
  g_assert_nonnull (m);
  g_assert_cmpfloat_with_epsilon (m->channels[0], 0.1, 1e-6);
  g_assert_cmpfloat_with_epsilon (m->channels[1], 0.2, 1e-6);
  g_assert_cmpfloat_with_epsilon (m->score, 0.5, 1e-6);
  nn_map_free (m);
  spec.method = NN_SALIENCY_GUIDED;
  m = nn_saliency_compute (ctx, x, &spec, NULL, NULL);
  g_assert_nonnull (m);
  g_assert_cmpfloat_with_epsilon (m->channels[0], 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (m->channels[1], 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (m->map[1], 1.0, 1e-6);
  nn_map_free (m);
  /* Guided Grad-CAM needs a spatial layer: this network has none but the input itself. */
  spec.method = NN_SALIENCY_GUIDED_GRADCAM;
  spec.layer = 0;
  NnError err = { 0 };
  m = nn_saliency_compute (ctx, x, &spec, NULL, &err);
  g_assert_nonnull (m);
  nn_map_free (m);
  (void) r1;
  (void) r2;
  nn_context_free (ctx);
  nn_graph_free (g);
}

static void
test_smoothgrad_naive (void)
{
  NnGraph *g = smooth_net (3);
  NnContext *ctx = nn_context_new (g, 4, NN_CONTEXT_BACKWARD, NULL);
  NnContext *one = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[IN_SIZE], noisy[IN_SIZE];
  random_input (x, IN_SIZE, 4);
  NnSaliencySpec spec;
  nn_saliency_spec_init (&spec);
  spec.method = NN_SALIENCY_SMOOTHGRAD;
  spec.target = 2;
  spec.samples = 7;
  spec.noise = 0.2f;
  spec.seed = 99;
  NnMap *m = nn_saliency_compute (ctx, x, &spec, NULL, NULL);
  g_assert_nonnull (m);

  float lo = x[0], hi = x[0];
  for (int i = 0; i < IN_SIZE; i++)
    {
      lo = fminf (lo, x[i]);
      hi = fmaxf (hi, x[i]);
    }
  NnRng rng;
  nn_rng_init (&rng, 99);
  double mean_grad[IN_SIZE] = { 0 }, mean_map[SIDE * SIDE] = { 0 };
  for (int s = 0; s < 7; s++)
    {
      for (int i = 0; i < IN_SIZE; i++)
        noisy[i] = x[i] + 0.2f * (hi - lo) * nn_rng_normal (&rng);
      NnMap *gm = compute (one, noisy, NN_SALIENCY_GRADIENT, 2, 0);
      for (int i = 0; i < IN_SIZE; i++)
        mean_grad[i] += gm->channels[i] / 7.0;
      for (int p = 0; p < SIDE * SIDE; p++)
        mean_map[p] += gm->map[p] / 7.0;
      nn_map_free (gm);
    }
  for (int i = 0; i < IN_SIZE; i++)
    g_assert_cmpfloat (fabs (m->channels[i] - mean_grad[i]), <=, 1e-5);
  for (int p = 0; p < SIDE * SIDE; p++)
    g_assert_cmpfloat (fabs (m->map[p] - mean_map[p]), <=, 1e-5);
  nn_map_free (m);
  nn_context_free (one);
  nn_context_free (ctx);
  nn_graph_free (g);
}

static void
test_integrated_gradients (void)
{
  NnGraph *g = smooth_net (5);
  NnContext *ctx = nn_context_new (g, 3, NN_CONTEXT_BACKWARD, NULL);
  NnContext *one = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[IN_SIZE], base[IN_SIZE], point[IN_SIZE];
  random_input (x, IN_SIZE, 6);
  random_input (base, IN_SIZE, 7);
  for (int i = 0; i < IN_SIZE; i++)
    base[i] *= 0.1f;

  /* Completeness: the attributions sum to f (x) - f (x'). */
  NnSaliencySpec spec;
  nn_saliency_spec_init (&spec);
  spec.method = NN_SALIENCY_IG;
  spec.target = 1;
  spec.samples = 300;
  spec.baseline = base;
  NnMap *m = nn_saliency_compute (ctx, x, &spec, NULL, NULL);
  g_assert_nonnull (m);
  g_assert_true (m->is_signed);
  double total = 0.0;
  for (int p = 0; p < SIDE * SIDE; p++)
    total += m->map[p];
  double diff = (double) logit_of (one, x, 1) - logit_of (one, base, 1);
  g_test_message ("IG completeness: sum %.6f, f(x) - f(x') %.6f", total, diff);
  g_assert_cmpfloat (fabs (diff), >, 1e-3);
  g_assert_cmpfloat (fabs (total - diff), <=, 1e-3 * fabs (diff) + 1e-5);
  nn_map_free (m);

  /* Five midpoints, computed here one gradient at a time. */
  spec.samples = 5;
  m = nn_saliency_compute (ctx, x, &spec, NULL, NULL);
  double want[IN_SIZE] = { 0 };
  for (int s = 0; s < 5; s++)
    {
      float a = (s + 0.5f) / 5.0f;
      for (int i = 0; i < IN_SIZE; i++)
        point[i] = base[i] + a * (x[i] - base[i]);
      NnMap *gm = compute (one, point, NN_SALIENCY_GRADIENT, 1, 0);
      for (int i = 0; i < IN_SIZE; i++)
        want[i] += gm->channels[i] / 5.0 * (x[i] - base[i]);
      nn_map_free (gm);
    }
  for (int i = 0; i < IN_SIZE; i++)
    g_assert_cmpfloat (fabs (m->channels[i] - want[i]), <=, 1e-5 * (1.0 + fabs (want[i])));
  nn_map_free (m);
  nn_context_free (one);
  nn_context_free (ctx);
  nn_graph_free (g);
}

static void
test_guided_gradcam_product (void)
{
  NnGraph *g = relu_net (8);
  NnContext *ctx = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 9);
  int layer = nn_graph_find (g, "relu1");
  NnSaliencySpec spec;
  nn_saliency_spec_init (&spec);
  spec.method = NN_SALIENCY_GUIDED_GRADCAM;
  spec.layer = layer;
  NnMap *m = nn_saliency_compute (ctx, x, &spec, NULL, NULL);
  g_assert_nonnull (m);
  NnMap *guided = compute (ctx, x, NN_SALIENCY_GUIDED, m->target, 0);
  NnCamSpec cs;
  nn_cam_spec_init (&cs);
  cs.layer = layer;
  NnMap *cam = nn_cam_compute (ctx, x, &cs, NULL, NULL);
  g_assert_cmpint (cam->target, ==, m->target);
  bool any = false;
  for (int c = 0; c < IN_C; c++)
    for (int p = 0; p < SIDE * SIDE; p++)
      {
        float want = guided->channels[c * SIDE * SIDE + p] * cam->map[p];
        g_assert_cmpfloat (fabsf (m->channels[c * SIDE * SIDE + p] - want), <=, 1e-6f);
        any |= want != 0.0f;
      }
  g_assert_true (any);
  /* Guided backprop differs from the plain gradient on this network. */
  NnMap *plain = compute (ctx, x, NN_SALIENCY_GRADIENT, m->target, 0);
  double d = 0.0;
  for (int i = 0; i < IN_SIZE; i++)
    d += fabs (plain->channels[i] - guided->channels[i]);
  g_assert_cmpfloat (d, >, 1e-3);
  nn_map_free (plain);
  nn_map_free (cam);
  nn_map_free (guided);
  nn_map_free (m);
  nn_context_free (ctx);
  nn_graph_free (g);
}

typedef struct
{
  atomic_int cancel;
  int        calls;
} Progress;

static void
on_progress (int   done,
             int   total,
             void *user_data)
{
  Progress *p = user_data;
  g_assert_cmpint (done, <=, total);
  if (++p->calls == 1)
    atomic_store (&p->cancel, 1);
}

static void
test_bad_input (void)
{
  NnGraph *g = smooth_net (10);
  NnContext *ctx = nn_context_new (g, 2, NN_CONTEXT_BACKWARD, NULL);
  NnContext *fwd = nn_context_new (g, 1, 0, NULL);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 11);
  NnSaliencySpec spec;
  nn_saliency_spec_init (&spec);
  NnError err = { 0 };
  spec.target = CLASSES;
  g_assert_null (nn_saliency_compute (ctx, x, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "out of range"));
  spec.target = 0;
  g_assert_null (nn_saliency_compute (fwd, x, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "gradient buffers"));
  spec.method = NN_SALIENCY_GUIDED_GRADCAM;
  spec.layer = nn_graph_find (g, "gap");
  g_assert_null (nn_saliency_compute (ctx, x, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "no spatial extent"));

  spec.method = NN_SALIENCY_SMOOTHGRAD;
  spec.samples = 6;
  Progress prog = { 0 };
  NnExplainControl control = { &prog.cancel, on_progress, &prog };
  g_assert_null (nn_saliency_compute (ctx, x, &spec, &control, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  g_assert_cmpint (prog.calls, ==, 1);

  NnSaliencyMethod m;
  for (int i = 0; i < NN_SALIENCY_COUNT_; i++)
    {
      g_assert_true (nn_saliency_method_from_name (nn_saliency_method_name ((NnSaliencyMethod) i),
                                                   &m));
      g_assert_cmpint (m, ==, i);
    }
  g_assert_false (nn_saliency_method_from_name ("gradients", &m));
  nn_context_free (fwd);
  nn_context_free (ctx);
  nn_graph_free (g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/saliency/gradient-finite-differences", test_gradient_finite_differences);
  g_test_add_func ("/nn/saliency/guided-by-hand", test_guided_by_hand);
  g_test_add_func ("/nn/saliency/smoothgrad-naive", test_smoothgrad_naive);
  g_test_add_func ("/nn/saliency/integrated-gradients", test_integrated_gradients);
  g_test_add_func ("/nn/saliency/guided-gradcam-product", test_guided_gradcam_product);
  g_test_add_func ("/nn/saliency/bad-input", test_bad_input);
  return g_test_run ();
}
