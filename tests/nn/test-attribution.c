/* SPDX-License-Identifier: MIT */
/* The attribution methods in their own files against direct computations: Occlusion against a
 * loop over patches, AblationCAM against ablating channels by hand, Eigen-Grad-CAM against
 * Eigen-CAM's projection of G * A, FullGrad against its terms, DeepLIFT's summation to delta,
 * GradientSHAP against a loop, LRP's conservation and its rules by hand. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"

#define IN_C 2
#define SIDE 6
#define CLASSES 3
#define IN_SIZE (IN_C * SIDE * SIDE)

/* input (2, 6, 6) -> conv (4, 3x3, pad 1) -> ReLU -> conv (3, 3x3, pad 1) -> ReLU -> global
 * average pool -> linear (3). */
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
  memcpy (nn_context_input (ctx), x, sizeof (float) * nn_shape_size (g->nodes[0].shape));
  nn_context_forward (ctx, -1);
  return nn_context_output (ctx, nn_graph_output (g))[c];
}

static NnMap *
compute (NnContext          *ctx,
         const float        *x,
         const NnMethodSpec *spec)
{
  NnError err = { 0 };
  NnMap *m = nn_method_compute (ctx, x, spec, NULL, &err);
  if (m == NULL)
    g_error ("%s", err.message);
  return m;
}

/* Occlusion against a loop over every patch position, with patches cut by the border (a
 * window of 4 with stride 3 on 6 px: starts 0 and 3; of 4 with stride 4: 0 and 4, cut to 2)
 * and a baseline of its own. */
static void
test_occlusion_loop (void)
{
  NnGraph *g = relu_net (1);
  NnContext *ctx = nn_context_new (g, 3, 0, NULL);
  NnContext *one = nn_context_new (g, 1, 0, NULL);
  float x[IN_SIZE], base[IN_SIZE], occluded[IN_SIZE];
  random_input (x, IN_SIZE, 2);
  random_input (base, IN_SIZE, 3);
  const int cases[][2] = { { 4, 3 }, { 4, 4 }, { 2, 1 }, { 6, 6 } };
  for (size_t k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      const int window = cases[k][0], stride = cases[k][1];
      NnMethodSpec spec;
      nn_method_spec_init (&spec);
      spec.method = NN_METHOD_OCCLUSION;
      spec.target = 1;
      spec.window = window;
      spec.stride = stride;
      spec.baseline = k % 2 ? base : NULL;
      NnMap *m = compute (ctx, x, &spec);
      float expect[SIDE * SIDE] = { 0 }, count[SIDE * SIDE] = { 0 };
      float y = logit_of (one, x, 1);
      int starts = 0;
      for (int y0 = 0; y0 == 0 || y0 + window - stride < SIDE; y0 += stride)
        for (int x0 = 0; x0 == 0 || x0 + window - stride < SIDE; x0 += stride)
          {
            memcpy (occluded, x, sizeof x);
            for (int c = 0; c < IN_C; c++)
              for (int i = y0; i < y0 + window && i < SIDE; i++)
                for (int j = x0; j < x0 + window && j < SIDE; j++)
                  occluded[(c * SIDE + i) * SIDE + j] = spec.baseline
                                                        ? base[(c * SIDE + i) * SIDE + j] : 0.0f;
            float drop = y - logit_of (one, occluded, 1);
            for (int i = y0; i < y0 + window && i < SIDE; i++)
              for (int j = x0; j < x0 + window && j < SIDE; j++)
                {
                  expect[i * SIDE + j] += drop;
                  count[i * SIDE + j] += 1.0f;
                }
            starts++;
          }
      g_assert_cmpint (starts, >, 0);
      g_assert_true (m->is_signed);
      g_assert_cmpint (m->c, ==, IN_C);
      for (int p = 0; p < SIDE * SIDE; p++)
        {
          g_assert_cmpfloat (count[p], >, 0.0f);
          g_assert_cmpfloat_with_epsilon (m->map[p], expect[p] / count[p], 1e-5);
          g_assert_cmpfloat (m->channels[SIDE * SIDE + p], ==, m->map[p]);
        }
      nn_map_free (m);
    }
  NnMethodSpec spec;
  nn_method_spec_init (&spec);
  spec.method = NN_METHOD_OCCLUSION;
  spec.window = 3;
  spec.stride = 4;
  NnError err = { 0 };
  g_assert_null (nn_method_compute (ctx, x, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "stride"));
  nn_context_free (one);
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* AblationCAM at relu1 against ablating by hand: zeroing channel k of relu1 is zeroing the
 * weights of conv2 that read it; w_k = (y - y_k) / y. Batches of 3 for 4 channels. */
static void
test_ablationcam_by_hand (void)
{
  NnGraph *g = relu_net (4);
  NnContext *ctx = nn_context_new (g, 3, 0, NULL);
  NnContext *one = nn_context_new (g, 1, 0, NULL);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 5);
  const int layer = nn_graph_find (g, "relu1"), conv2 = nn_graph_find (g, "conv2");
  const int K = 4, HW = SIDE * SIDE;
  float *w2 = nn_graph_param_data (g, nn_graph_node_param (g, conv2, NN_PARAM_WEIGHT));
  float saved[3 * 4 * 9];
  memcpy (saved, w2, sizeof saved);
  for (int target = 0; target < CLASSES; target++)
    {
      float y = logit_of (one, x, target);
      float A[4 * SIDE * SIDE];
      memcpy (A, nn_context_output (one, layer), sizeof A);
      double expect[SIDE * SIDE] = { 0 };
      for (int k = 0; k < K; k++)
        {
          for (int o = 0; o < 3; o++)
            memset (w2 + (o * K + k) * 9, 0, sizeof (float) * 9);
          float yk = logit_of (one, x, target);
          memcpy (w2, saved, sizeof saved);
          for (int p = 0; p < HW; p++)
            expect[p] += (double) (y - yk) / y * A[k * HW + p];
        }
      NnMethodSpec spec;
      nn_method_spec_init (&spec);
      spec.method = NN_METHOD_ABLATIONCAM;
      spec.layer = layer;
      spec.target = target;
      spec.keep_negative = true;
      NnMap *m = compute (ctx, x, &spec);
      g_assert_cmpint (m->lh, ==, SIDE);
      g_assert_cmpfloat (m->score, ==, y);
      for (int p = 0; p < HW; p++)
        g_assert_cmpfloat_with_epsilon (m->layer_map[p], expect[p],
                                        1e-4 * (1.0 + fabs (expect[p])));
      nn_map_free (m);
    }
  nn_context_free (one);
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* Eigen-Grad-CAM is Eigen-CAM's projection of G * A, with G the target's gradient at the
 * layer from a backward pass of the test's own, then a ReLU. */
static void
test_eigengradcam_projection (void)
{
  NnGraph *g = relu_net (6);
  NnContext *ctx = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 7);
  const int layer = nn_graph_find (g, "relu2"), K = 3, HW = SIDE * SIDE;
  const int target = 2, out = nn_graph_output (g);
  logit_of (ctx, x, target);
  float *seed = nn_context_grad (ctx, out);
  memset (seed, 0, sizeof (float) * CLASSES);
  seed[target] = 1.0f;
  nn_context_backward (ctx, out, NN_BACKWARD_INPUT, -1);
  float P[3 * SIDE * SIDE], expect[SIDE * SIDE];
  for (int i = 0; i < K * HW; i++)
    P[i] = nn_context_grad (ctx, layer)[i] * nn_context_output (ctx, layer)[i];
  g_assert_true (nn_cam_eigen_projection (expect, P, K, HW));
  NnMethodSpec spec;
  nn_method_spec_init (&spec);
  spec.method = NN_METHOD_EIGENGRADCAM;
  spec.layer = layer;
  spec.target = target;
  NnMap *m = compute (ctx, x, &spec);
  double positive = 0.0;
  for (int p = 0; p < HW; p++)
    {
      g_assert_cmpfloat_with_epsilon (m->layer_map[p], expect[p], 1e-5);
      g_assert_cmpfloat (m->map[p], ==, fmaxf (expect[p], 0.0f));
      positive += m->map[p];
    }
  g_assert_cmpfloat (positive, >, 0.0);
  nn_map_free (m);
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* FullGrad on a network whose only bias is the linear head's (which FullGrad skips, as
 * pytorch-grad-cam does): the input term alone, each channel of |dy/dx * x| scaled to [0, 1],
 * summed, scaled to [0, 1]. Then with conv biases: more terms, still in [0, 1] with maximum 1. */
static void
test_fullgrad_terms (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", IN_C, SIDE, SIDE);
  int c1 = nn_graph_add_conv2d (g, "conv1", in, 4, 3, 1, 1, 1, 1, false);
  int r1 = nn_graph_add_relu (g, "relu1", c1);
  int gap = nn_graph_add_global_avgpool (g, "gap", r1);
  nn_graph_add_linear (g, "fc", gap, CLASSES, true);
  NnRng rng;
  nn_rng_init (&rng, 8);
  nn_graph_init_params (g, &rng);
  NnContext *ctx = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 9);
  NnMethodSpec spec;
  nn_method_spec_init (&spec);
  spec.method = NN_METHOD_GRADIENT;
  spec.target = 1;
  NnMap *grad = compute (ctx, x, &spec);
  double expect[SIDE * SIDE] = { 0 }, hi = 0.0, lo = INFINITY;
  for (int c = 0; c < IN_C; c++)
    {
      double v[SIDE * SIDE], vlo = INFINITY, vhi = 0.0;
      for (int p = 0; p < SIDE * SIDE; p++)
        {
          v[p] = fabs ((double) grad->channels[c * SIDE * SIDE + p] * x[c * SIDE * SIDE + p]);
          vlo = fmin (vlo, v[p]);
          vhi = fmax (vhi, v[p]);
        }
      for (int p = 0; p < SIDE * SIDE; p++)
        expect[p] += (v[p] - vlo) / (1e-7 + vhi - vlo);
    }
  for (int p = 0; p < SIDE * SIDE; p++)
    {
      lo = fmin (lo, expect[p]);
      hi = fmax (hi, expect[p]);
    }
  spec.method = NN_METHOD_FULLGRAD;
  NnMap *m = compute (ctx, x, &spec);
  g_assert_cmpint (m->layer, ==, 0);
  for (int p = 0; p < SIDE * SIDE; p++)
    g_assert_cmpfloat_with_epsilon (m->map[p], (expect[p] - lo) / (1e-7 + hi - lo), 1e-5);
  nn_map_free (m);
  nn_map_free (grad);
  nn_context_free (ctx);
  nn_graph_free (g);

  g = relu_net (10);
  ctx = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  m = compute (ctx, x, &spec);
  float top = 0.0f;
  for (int p = 0; p < SIDE * SIDE; p++)
    {
      g_assert_cmpfloat (m->map[p], >=, 0.0f);
      top = fmaxf (top, m->map[p]);
    }
  g_assert_cmpfloat_with_epsilon (top, 1.0f, 1e-5);
  nn_map_free (m);
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* conv -> ReLU -> max pool -> conv -> sigmoid -> global average pool -> linear: every kind of
 * node DeepLIFT's rule replaces. */
static NnGraph *
pool_net (uint64_t seed)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", IN_C, SIDE, SIDE);
  int c1 = nn_graph_add_conv2d (g, "conv1", in, 4, 3, 1, 1, 1, 1, true);
  int r1 = nn_graph_add_relu (g, "relu1", c1);
  int p1 = nn_graph_add_maxpool (g, "pool1", r1, 2, 2, 0);
  int c2 = nn_graph_add_conv2d (g, "conv2", p1, 3, 3, 1, 1, 1, 1, true);
  int s2 = nn_graph_add_activation (g, "sig2", c2, NN_ACT_SIGMOID);
  int gap = nn_graph_add_global_avgpool (g, "gap", s2);
  nn_graph_add_linear (g, "fc", gap, CLASSES, true);
  NnRng rng;
  nn_rng_init (&rng, seed);
  nn_graph_init_params (g, &rng);
  return g;
}

/* DeepLIFT's summation to delta: the attributions sum to y(x) - y(x') for every class, from
 * zeros and from a baseline of its own, through ReLU, max pooling and a sigmoid; and they are
 * not the gradient times the input difference (except where they must be). */
static void
test_deeplift_summation (void)
{
  NnGraph *nets[] = { relu_net (11), pool_net (12) };
  float x[IN_SIZE], base[IN_SIZE];
  random_input (x, IN_SIZE, 13);
  random_input (base, IN_SIZE, 14);
  for (size_t n = 0; n < G_N_ELEMENTS (nets); n++)
    {
      NnContext *ctx = nn_context_new (nets[n], 1, NN_CONTEXT_BACKWARD, NULL);
      NnContext *one = nn_context_new (nets[n], 1, 0, NULL);
      for (int b = 0; b < 2; b++)
        for (int c = 0; c < CLASSES; c++)
          {
            NnMethodSpec spec;
            nn_method_spec_init (&spec);
            spec.method = NN_METHOD_DEEPLIFT;
            spec.target = c;
            spec.baseline = b ? base : NULL;
            NnMap *m = compute (ctx, x, &spec);
            float zeros[IN_SIZE] = { 0 };
            double delta = (double) logit_of (one, x, c) - logit_of (one, b ? base : zeros, c);
            double sum = 0.0, map_sum = 0.0;
            for (int i = 0; i < IN_SIZE; i++)
              sum += m->channels[i];
            for (int p = 0; p < SIDE * SIDE; p++)
              map_sum += m->map[p];
            g_assert_true (m->is_signed);
            g_assert_cmpfloat (fabs (delta), >, 1e-3);
            g_assert_cmpfloat_with_epsilon (sum, delta, 1e-4 * (1.0 + fabs (delta)));
            g_assert_cmpfloat_with_epsilon (map_sum, sum, 1e-4 * (1.0 + fabs (delta)));
            spec.method = NN_METHOD_GRADIENT;
            NnMap *grad = compute (ctx, x, &spec);
            double differs = 0.0;
            for (int i = 0; i < IN_SIZE; i++)
              differs = fmax (differs, fabs (m->channels[i] - grad->channels[i]
                                                              * (x[i] - (b ? base[i] : 0.0f))));
            /* From zeros through ReLUs without biases (nn_graph_init_params sets them to 0),
             * every multiplier relu (z) / z is the derivative. */
            if (b == 1 || n == 1)
              g_assert_cmpfloat (differs, >, 1e-3);
            nn_map_free (grad);
            nn_map_free (m);
          }
      nn_context_free (one);
      nn_context_free (ctx);
      nn_graph_free (nets[n]);
    }
}

/* GradientSHAP against a loop over its samples with the same draws (a, then the noise, then
 * a uniform baseline per value), each gradient from the Gradient method on one sample; in
 * batches of 4 for 7 samples, with and without a given baseline. */
static void
test_gradient_shap_loop (void)
{
  NnGraph *g = pool_net (15);
  NnContext *ctx = nn_context_new (g, 4, NN_CONTEXT_BACKWARD, NULL);
  NnContext *one = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[IN_SIZE], base[IN_SIZE];
  random_input (x, IN_SIZE, 16);
  random_input (base, IN_SIZE, 17);
  float lo = x[0], hi = x[0];
  for (int i = 0; i < IN_SIZE; i++)
    {
      lo = fminf (lo, x[i]);
      hi = fmaxf (hi, x[i]);
    }
  for (int b = 0; b < 2; b++)
    {
      NnMethodSpec spec;
      nn_method_spec_init (&spec);
      spec.method = NN_METHOD_GRADIENT_SHAP;
      spec.target = 2;
      spec.samples = 7;
      spec.noise = 0.1f;
      spec.seed = 18;
      spec.baseline = b ? base : NULL;
      NnMap *m = compute (ctx, x, &spec);
      double expect[IN_SIZE] = { 0 };
      NnRng rng;
      nn_rng_init (&rng, 18);
      for (int s = 0; s < 7; s++)
        {
          float a = nn_rng_uniform (&rng), diff[IN_SIZE], z[IN_SIZE];
          for (int i = 0; i < IN_SIZE; i++)
            diff[i] = x[i] + 0.1f * (hi - lo) * nn_rng_normal (&rng);
          for (int i = 0; i < IN_SIZE; i++)
            {
              float xb = b ? base[i] : lo + (hi - lo) * nn_rng_uniform (&rng);
              diff[i] -= xb;
              z[i] = xb + a * diff[i];
            }
          NnMethodSpec gs;
          nn_method_spec_init (&gs);
          gs.method = NN_METHOD_GRADIENT;
          gs.target = 2;
          NnMap *grad = compute (one, z, &gs);
          for (int i = 0; i < IN_SIZE; i++)
            expect[i] += (double) grad->channels[i] * diff[i] / 7.0;
          nn_map_free (grad);
        }
      double scale = 0.0;
      for (int i = 0; i < IN_SIZE; i++)
        scale = fmax (scale, fabs (expect[i]));
      g_assert_cmpfloat (scale, >, 1e-4);
      for (int i = 0; i < IN_SIZE; i++)
        g_assert_cmpfloat_with_epsilon (m->channels[i], expect[i], 1e-5 * scale);
      for (int p = 0; p < SIDE * SIDE; p++)
        g_assert_cmpfloat_with_epsilon (m->map[p], expect[p] + expect[SIDE * SIDE + p],
                                        1e-5 * scale);
      g_assert_true (m->is_signed);
      nn_map_free (m);
    }
  nn_context_free (one);
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* LRP-0 on a two-layer dense net by hand: x = (1, 2), W1 = ((1, -1), (2, 1)), ReLU, W2 =
 * (1, 1), no biases: z1 = (-1, 4), y = 4; the hidden relevance is (0, 4), the input's
 * x_i W1_2i (4 / 4) = (2, 2). */
static void
test_lrp_epsilon_by_hand (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 1, 1, 2);
  int f = nn_graph_add_flatten (g, "flatten", in);
  int l1 = nn_graph_add_linear (g, "fc1", f, 2, false);
  int r = nn_graph_add_relu (g, "relu", l1);
  int l2 = nn_graph_add_linear (g, "fc2", r, 1, false);
  const float w1[] = { 1, -1, 2, 1 }, w2[] = { 1, 1 };
  memcpy (nn_graph_param_data (g, nn_graph_node_param (g, l1, NN_PARAM_WEIGHT)), w1, sizeof w1);
  memcpy (nn_graph_param_data (g, nn_graph_node_param (g, l2, NN_PARAM_WEIGHT)), w2, sizeof w2);
  NnContext *ctx = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  const NnLrpComposite lrp0 = {
    .first = { NN_LRP_EPSILON, 0.0f }, .first_linear = true, .conv = { NN_LRP_EPSILON, 0.0f },
    .linear = { NN_LRP_EPSILON, 0.0f }, .stabilizer = 0.0f,
  };
  const float x[] = { 1, 2 };
  NnError err = { 0 };
  NnMap *m = nn_lrp_compute (ctx, x, 0, &lrp0, NULL, &err);
  g_assert_nonnull (m);
  g_assert_cmpfloat (m->score, ==, 4.0f);
  g_assert_cmpfloat_with_epsilon (m->channels[0], 2.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (m->channels[1], 2.0f, 1e-6);
  nn_map_free (m);
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* Without biases every rule conserves relevance, sum R_input = y_c (the ε rule as ε -> 0):
 * each as the conv rule (and the first layer's) of relu_net, the linear layer with ε 1e-9. */
static void
test_lrp_conservation (void)
{
  NnGraph *g = relu_net (19);
  NnContext *ctx = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 20);
  const NnLrpRule rules[] = {
    { NN_LRP_EPSILON, 1e-9f }, { NN_LRP_GAMMA, 0.25f }, { NN_LRP_ALPHA_BETA, 2.0f },
    { NN_LRP_ZPLUS, 0.0f }, { NN_LRP_ZBOX, 0.0f }, { NN_LRP_FLAT, 0.0f },
  };
  for (size_t r = 0; r < G_N_ELEMENTS (rules); r++)
    for (int c = 0; c < CLASSES; c++)
      {
        const NnLrpComposite comp = {
          .first = rules[r], .conv = rules[r], .linear = { NN_LRP_EPSILON, 1e-9f },
          .stabilizer = 1e-9f,
        };
        NnError err = { 0 };
        NnMap *m = nn_lrp_compute (ctx, x, c, &comp, NULL, &err);
        g_assert_nonnull (m);
        double sum = 0.0, map_sum = 0.0;
        for (int i = 0; i < IN_SIZE; i++)
          sum += m->channels[i];
        for (int p = 0; p < SIDE * SIDE; p++)
          map_sum += m->map[p];
        g_assert_cmpfloat (fabs (m->score), >, 1e-3);
        g_assert_cmpfloat_with_epsilon (sum, m->score, 1e-4 * (1.0 + fabs (m->score)));
        g_assert_cmpfloat_with_epsilon (map_sum, sum, 1e-4 * (1.0 + fabs (sum)));
        nn_map_free (m);
      }
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* A composite that folds batch norms gives the relevance of the same network built with the
 * batch norm folded into the convolution by hand. */
static void
test_lrp_batchnorm_folded (void)
{
  NnGraph *nets[2];
  for (int n = 0; n < 2; n++)
    {
      NnGraph *g = nn_graph_new ();
      int in = nn_graph_add_input (g, "input", IN_C, SIDE, SIDE);
      int c1 = nn_graph_add_conv2d (g, "conv1", in, 4, 3, 1, 1, 1, 1, true);
      int bn = n == 0 ? nn_graph_add_batchnorm (g, "bn1", c1) : c1;
      int r1 = nn_graph_add_relu (g, "relu1", bn);
      int c2 = nn_graph_add_conv2d (g, "conv2", r1, 3, 3, 1, 1, 1, 1, true);
      int r2 = nn_graph_add_relu (g, "relu2", c2);
      int gap = nn_graph_add_global_avgpool (g, "gap", r2);
      nn_graph_add_linear (g, "fc", gap, CLASSES, true);
      NnRng rng;
      nn_rng_init (&rng, 21);
      nn_graph_init_params (g, &rng);
      nets[n] = g;
    }
  /* Batch-norm statistics and biases that are not the identity, folded by hand into net 1. */
  NnGraph *a = nets[0], *b = nets[1];
  const int bn = nn_graph_find (a, "bn1"), c1a = nn_graph_find (a, "conv1");
  const int c1b = nn_graph_find (b, "conv1");
  float *gamma = nn_graph_param_data (a, nn_graph_node_param (a, bn, NN_PARAM_WEIGHT));
  float *beta = nn_graph_param_data (a, nn_graph_node_param (a, bn, NN_PARAM_BIAS));
  float *mean = nn_graph_param_data (a, nn_graph_node_param (a, bn, NN_PARAM_RUNNING_MEAN));
  float *var = nn_graph_param_data (a, nn_graph_node_param (a, bn, NN_PARAM_RUNNING_VAR));
  float *wa = nn_graph_param_data (a, nn_graph_node_param (a, c1a, NN_PARAM_WEIGHT));
  float *ba = nn_graph_param_data (a, nn_graph_node_param (a, c1a, NN_PARAM_BIAS));
  float *wb = nn_graph_param_data (b, nn_graph_node_param (b, c1b, NN_PARAM_WEIGHT));
  float *bb = nn_graph_param_data (b, nn_graph_node_param (b, c1b, NN_PARAM_BIAS));
  for (int k = 0; k < 4; k++)
    {
      gamma[k] = 0.5f + 0.25f * (float) k;
      beta[k] = 0.1f * (float) (k - 2);
      mean[k] = 0.05f * (float) k;
      var[k] = 0.6f + 0.2f * (float) k;
      ba[k] = 0.03f * (float) (1 - k);
      float sk = gamma[k] / sqrtf (var[k] + a->nodes[bn].attrs.norm.eps);
      for (int e = 0; e < IN_C * 9; e++)
        wb[k * IN_C * 9 + e] = wa[k * IN_C * 9 + e] * sk;
      bb[k] = (ba[k] - mean[k]) * sk + beta[k];
    }
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 22);
  NnMap *maps[2];
  for (int n = 0; n < 2; n++)
    {
      NnContext *ctx = nn_context_new (nets[n], 1, NN_CONTEXT_BACKWARD, NULL);
      NnMethodSpec spec;
      nn_method_spec_init (&spec);
      spec.method = NN_METHOD_LRP_ALPHA_BETA;
      spec.target = 0;
      maps[n] = compute (ctx, x, &spec);
      nn_context_free (ctx);
    }
  double scale = 0.0;
  for (int i = 0; i < IN_SIZE; i++)
    scale = fmax (scale, fabs (maps[1]->channels[i]));
  g_assert_cmpfloat (scale, >, 1e-4);
  for (int i = 0; i < IN_SIZE; i++)
    g_assert_cmpfloat_with_epsilon (maps[0]->channels[i], maps[1]->channels[i], 1e-5 * scale);
  for (int n = 0; n < 2; n++)
    {
      nn_map_free (maps[n]);
      nn_graph_free (nets[n]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/attribution/occlusion-loop", test_occlusion_loop);
  g_test_add_func ("/nn/attribution/ablationcam-by-hand", test_ablationcam_by_hand);
  g_test_add_func ("/nn/attribution/eigengradcam-projection", test_eigengradcam_projection);
  g_test_add_func ("/nn/attribution/fullgrad-terms", test_fullgrad_terms);
  g_test_add_func ("/nn/attribution/deeplift-summation", test_deeplift_summation);
  g_test_add_func ("/nn/attribution/gradient-shap-loop", test_gradient_shap_loop);
  g_test_add_func ("/nn/attribution/lrp-epsilon-by-hand", test_lrp_epsilon_by_hand);
  g_test_add_func ("/nn/attribution/lrp-conservation", test_lrp_conservation);
  g_test_add_func ("/nn/attribution/lrp-batchnorm-folded", test_lrp_batchnorm_folded);
  return g_test_run ();
}
