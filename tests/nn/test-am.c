/* SPDX-License-Identifier: MIT */
/* Activation maximization: toy functions of our own for the two failures the ProxyGrad paper
 * describes (race of patterns, a dead unit), each policy's gradient by hand and by finite
 * differences, the plain gradient step and the box, the objectives, reproducibility, batching,
 * bad input, and a fixed zero-mean filter's border-only optimum. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "grad-check.h"
#include "nn.h"

/* Sets the weight (and bias) of a 1 x 1 conv node. */
static void
set_conv (NnGraph     *g,
          int          node,
          const float *w,
          size_t       n,
          const float *bias)
{
  memcpy (nn_graph_param_data (g, nn_graph_node_param (g, node, NN_PARAM_WEIGHT)), w,
          sizeof (float) * n);
  if (bias)
    memcpy (nn_graph_param_data (g, nn_graph_node_param (g, node, NN_PARAM_BIAS)), bias,
            sizeof (float) * g->nodes[node].shape.c);
}

/* f (x) = ReLU (x) + 2 ReLU (-x) on one pixel; pixel values 0..1 map to x in [-1, 1]. */
static NnModel *
race_model (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 1, 1, 1);
  int a = nn_graph_add_conv2d (g, "split", in, 2, 1, 1, 0, 1, 1, false);
  int r = nn_graph_add_relu (g, "relu", a);
  int f = nn_graph_add_conv2d (g, "f", r, 1, 1, 1, 0, 1, 1, false);
  set_conv (g, a, (const float[]) { 1.0f, -1.0f }, 2, NULL);
  set_conv (g, f, (const float[]) { 1.0f, 2.0f }, 2, NULL);
  NnModel *m = nn_model_new (g, "toy");
  m->mean[0] = 0.5f;
  m->std[0] = 0.5f;
  return m;
}

static void
toy_settings (NnAmSettings *s,
              int           layer,
              const float  *start,
              const char   *policy)
{
  static const int channel0 = 0;
  nn_am_settings_init (s);
  s->layer = layer;
  s->channels = &channel0;
  s->n_channels = 1;
  s->start = start;
  s->steps = 100;
  s->lr = 0.05f;
  g_assert_true (nn_grad_policy_parse (policy, &s->policy, NULL));
}

static float
run_final (const NnModel      *model,
           const NnAmSettings *s)
{
  NnError err = { 0 };
  NnAmRun *run = nn_am_run_new (model, s, &err);
  g_assert_nonnull (run);
  g_assert_true (nn_am_run_step (run, s->steps, NULL, &err));
  g_assert_true (nn_am_run_is_done (run));
  int n = 0;
  nn_am_run_peek_history (run, 0, &n);
  g_assert_cmpint (n, ==, s->steps + 1);
  float f = nn_am_run_get_objective (run, 0);
  nn_am_run_free (run);
  return f;
}

/* Plain ascent from x0 = 0.1 climbs to the local maximum f (1) = 1; with a backward slope
 * beta > 0.5 both readings of ProxyGrad reach the global maximum f (-1) = 2; beta < 0.5 does
 * not. The reported objective is the original network's. */
static void
test_race_of_patterns (void)
{
  NnModel *m = race_model ();
  const float x0 = 0.1f;
  NnAmSettings s;
  const struct
  {
    const char *policy;
    float       want;
  } cases[] = {
    { "exact", 1.0f }, { "proxygrad:0.6", 2.0f }, { "proxygrad-full:0.6", 2.0f },
    { "proxygrad:0.4", 1.0f }, { "proxygrad-full:0.4", 1.0f }, { "proxygrad:1", 2.0f },
  };
  for (size_t k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      toy_settings (&s, 3, &x0, cases[k].policy);
      g_assert_cmpfloat_with_epsilon (run_final (m, &s), cases[k].want, 1e-6);
      s.optimizer = NN_AM_OPTIMIZER_ADAM;
      g_assert_cmpfloat_with_epsilon (run_final (m, &s), cases[k].want, 1e-3);
    }
  nn_model_free (m);
}

/* relu (x - 1.5) on x in [-2, 2]: dead at the start x0 = 0. */
static NnModel *
dead_model (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 1, 1, 1);
  int a = nn_graph_add_conv2d (g, "pre", in, 1, 1, 1, 0, 1, 1, true);
  nn_graph_add_relu (g, "unit", a);
  set_conv (g, a, (const float[]) { 1.0f }, 1, (const float[]) { -1.5f });
  NnModel *m = nn_model_new (g, "toy");
  m->mean[0] = 0.5f;
  m->std[0] = 0.25f;
  return m;
}

/* The plain gradient of a dead unit is zero: plain AM does not move; ProxyGrad and an identity
 * warm-up do, and wake the unit up. */
static void
test_dead_unit (void)
{
  NnModel *m = dead_model ();
  const float x0 = 0.0f;
  NnAmSettings s;
  NnError err = { 0 };
  toy_settings (&s, 2, &x0, "exact");
  NnAmRun *run = nn_am_run_new (m, &s, &err);
  g_assert_nonnull (run);
  g_assert_true (nn_am_run_step (run, s.steps, NULL, &err));
  int n;
  const float *h = nn_am_run_peek_history (run, 0, &n);
  for (int t = 0; t < n; t++)
    g_assert_cmpfloat (h[t], ==, 0.0f);
  g_assert_cmpfloat (nn_am_run_peek_image (run, 0)[0], ==, 0.0f);
  nn_am_run_free (run);

  toy_settings (&s, 2, &x0, "proxygrad:0.3");
  g_assert_cmpfloat_with_epsilon (run_final (m, &s), 0.5f, 1e-6);
  toy_settings (&s, 2, &x0, "proxygrad-full:0.3");
  g_assert_cmpfloat_with_epsilon (run_final (m, &s), 0.5f, 1e-6);
  toy_settings (&s, 2, &x0, "exact");
  s.warmup = 0.5f;
  g_assert_cmpfloat_with_epsilon (run_final (m, &s), 0.5f, 1e-6);
  nn_model_free (m);
}

/* x -> r1 = relu (x) -> r2 = relu (-r1 - 0.02) -> out = r2, at x = -0.1 with beta = 0.5:
 * the straight-through derivative is beta * (-1) * beta = -0.25; the proxy network has
 * r1 = -0.05, r2 pre-activation 0.03 > 0, so its derivative is 1 * (-1) * beta = -0.5 and its
 * objective 0.03, while the original's objective and gradient are 0. */
static void
test_policy_gradients_by_hand (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 1, 1, 1);
  int a = nn_graph_add_conv2d (g, "a", in, 1, 1, 1, 0, 1, 1, false);
  int r1 = nn_graph_add_relu (g, "r1", a);
  int b = nn_graph_add_conv2d (g, "b", r1, 1, 1, 1, 0, 1, 1, true);
  int r2 = nn_graph_add_relu (g, "r2", b);
  set_conv (g, a, (const float[]) { 1.0f }, 1, NULL);
  set_conv (g, b, (const float[]) { -1.0f }, 1, (const float[]) { -0.02f });
  NnModel *m = nn_model_new (g, "toy");
  m->mean[0] = 0.5f;
  m->std[0] = 0.5f;
  const float x0 = -0.1f;
  const struct
  {
    const char *policy;
    float       value, grad;
  } cases[] = {
    { "exact", 0.0f, 0.0f },
    { "proxygrad:0.5", 0.0f, -0.25f },
    { "proxygrad-full:0.5", 0.03f, -0.5f },
    { "identity", 0.0f, -1.0f },
    /* r2: dy = 1 > 0 passes; r1: dy = -1 < 0 at x < 0 gets slope 0. */
    { "redirected", 0.0f, 0.0f },
    /* B-SiLU derivative at -0.02 times -1 times at -0.1. */
    { "sugar:bsilu", 0.0f, 0.0f },
  };
  for (size_t k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      NnAmSettings s;
      toy_settings (&s, r2, &x0, cases[k].policy);
      NnError err = { 0 };
      NnAmRun *run = nn_am_run_new (m, &s, &err);
      g_assert_nonnull (run);
      float grad;
      float value = nn_am_run_gradient (run, &grad);
      float want = cases[k].grad;
      if (strcmp (cases[k].policy, "sugar:bsilu") == 0)
        {
          const NnGradPolicy p = { NN_GRAD_SUGAR_BSILU, 0.0f };
          want = -nn_relu_policy_grad (-0.02f, 1.0f, 0.0f, &p)
                 * nn_relu_policy_grad (-0.1f, -1.0f, 0.0f, &p);
        }
      g_assert_cmpfloat_with_epsilon (value, cases[k].value, 1e-6);
      g_assert_cmpfloat_with_epsilon (grad, want, 1e-6);
      /* Whatever the policy, the history holds the original network's objective. */
      g_assert_true (nn_am_run_step (run, 1, NULL, &err));
      int n;
      g_assert_cmpfloat (nn_am_run_peek_history (run, 0, &n)[0], ==, 0.0f);
      nn_am_run_free (run);
    }
  nn_model_free (m);
}

/* A small CNN with a spatial layer for the finite-difference checks. */
static NnModel *
small_cnn (int c)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", c, 10, 10);
  int c1 = nn_graph_add_conv2d (g, "conv1", in, 4, 3, 1, 1, 1, 1, true);
  int r1 = nn_graph_add_relu (g, "relu1", c1);
  int c2 = nn_graph_add_conv2d (g, "conv2", r1, 3, 3, 1, 1, 1, 1, true);
  nn_graph_add_leaky_relu (g, "relu2", c2, 0.05f);
  NnRng rng;
  nn_rng_init (&rng, 5);
  nn_graph_init_params (g, &rng);
  for (int p = 0; p < g->n_params; p++)
    if (g->params[p].role == NN_PARAM_BIAS)
      for (size_t i = 0; i < g->params[p].count; i++)
        nn_graph_param_data (g, p)[i] = 0.2f * nn_rng_normal (&rng);
  NnModel *m = nn_model_new (g, "small");
  for (int k = 0; k < c; k++)
    {
      m->mean[k] = 0.4f + 0.05f * (float) k;
      m->std[k] = 0.25f;
    }
  return m;
}

/* The gradient a run ascends equals finite differences of the value it ascends, through the
 * transforms, the penalties and both parameterizations, wherever the policy is the exact
 * derivative of some network: exact, and the full proxy (the proxy network's own). */
typedef struct
{
  NnAmRun *run;
  float   *unused;
} AmLoss;

/* The value the next step ascends, at the parameters as they are now. */
static double
am_loss (void *data)
{
  AmLoss *l = data;
  return nn_am_run_gradient (l->run, l->unused);
}

static void
check_fd (const NnModel      *m,
          const NnAmSettings *s,
          const char         *op)
{
  NnError err = { 0 };
  NnAmRun *run = nn_am_run_new (m, s, &err);
  g_assert_nonnull (run);
  size_t n;
  float *p = nn_am_run_get_params (run, &n);
  float *grad = g_new (float, n), *unused = g_new (float, n);
  nn_am_run_gradient (run, grad);
  AmLoss l = { run, unused };
  GradCheck gc;
  grad_check_init (&gc, op);
  gc.max_points = 38;
  gc.rel_tol = 2e-2;
  /* A ReLU kink inside +-eps may spoil one coordinate; no more. */
  gc.kink_share = 1.0 / 38.0;
  grad_check_values (&gc, "image parameters", p, grad, n, am_loss, &l);
  grad_check_assert (&gc);
  g_free (grad);
  g_free (unused);
  nn_am_run_free (run);
}

static void
test_backward_finite_differences (void)
{
  static const int channels[2] = { 1, 2 };
  const char *policies[] = { "exact", "proxygrad-full:0.3" };
  for (int c = 1; c <= 3; c += 2)
    {
      NnModel *m = small_cnn (c);
      for (int k = 0; k < 2; k++)
        for (int variant = 0; variant < 4; variant++)
          {
            NnAmSettings s;
            nn_am_settings_init (&s);
            s.layer = 4;
            s.channels = channels;
            s.n_channels = 2;
            s.seed = 3 + (uint64_t) variant;
            s.noise = 0.2f;
            g_assert_true (nn_grad_policy_parse (policies[k], &s.policy, NULL));
            s.objective = (NnAmObjective) (variant % 3);
            s.param = variant >= 2 ? NN_AM_PARAM_FOURIER : NN_AM_PARAM_PIXELS;
            s.transforms = variant % 2 ? NN_AM_TRANSFORM_PAD | NN_AM_TRANSFORM_JITTER
                                         | NN_AM_TRANSFORM_SCALE | NN_AM_TRANSFORM_ROTATE
                                         | NN_AM_TRANSFORM_BLUR
                                       : 0;
            s.jitter = 1;
            s.rotate = 20.0f;
            s.scale = 0.2f;
            s.l2 = 0.3f;
            s.tv = variant % 2 ? 0.2f : 0.0f;
            g_autofree char *op = g_strdup_printf ("AM, %d channel%s, %s, variant %d", c,
                                                   c > 1 ? "s" : "", policies[k], variant);
            check_fd (m, &s, op);
          }
      nn_model_free (m);
    }
}

/* Objectives on a hand-written (2, 2, 3) layer. */
static void
test_objectives_by_hand (void)
{
  const float act[12] = { 1, 5, 2, 7, 3, 0,      /* channel 0 */
                          -1, 4, 4, 2, 8, -3 };  /* channel 1 */
  const NnShape shape = nn_shape_chw (2, 2, 3);
  float grad[12], scratch[6];
  NnAmSettings s;
  nn_am_settings_init (&s);

  memset (grad, 0, sizeof grad);
  g_assert_cmpfloat_with_epsilon (nn_am_objective_eval (&s, 0, shape, act, grad, scratch),
                                  18.0 / 6.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (grad[3], 1.0 / 6.0, 1e-7);
  g_assert_cmpfloat (grad[6], ==, 0.0f);

  s.objective = NN_AM_OBJECTIVE_CENTER;  /* (2 / 2, 3 / 2) = (1, 1) */
  memset (grad, 0, sizeof grad);
  g_assert_cmpfloat (nn_am_objective_eval (&s, 1, shape, act, grad, scratch), ==, 8.0f);
  g_assert_cmpfloat (grad[10], ==, 1.0f);

  s.objective = NN_AM_OBJECTIVE_UNIT;
  s.unit_y = 0;
  s.unit_x = 2;
  g_assert_cmpfloat (nn_am_objective_eval (&s, 0, shape, act, NULL, scratch), ==, 2.0f);

  /* Top 50 % of 6 units: 3 of them. Channel 0: 7, 5, 3. Channel 1: 8, 4, 4. */
  s.objective = NN_AM_OBJECTIVE_PERCENTILE;
  s.percentile = 50.0f;
  memset (grad, 0, sizeof grad);
  g_assert_cmpfloat_with_epsilon (nn_am_objective_eval (&s, 0, shape, act, grad, scratch),
                                  5.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (grad[4], 1.0 / 3.0, 1e-7);
  g_assert_cmpfloat (grad[2], ==, 0.0f);
  g_assert_cmpfloat_with_epsilon (nn_am_objective_eval (&s, 1, shape, act, NULL, scratch),
                                  16.0 / 3.0, 1e-6);
  /* A tie at the threshold: top 4 of channel 1 are 8, 4, 4, 2; top 2 are 8 and one 4, the
   * gradient shared by both 4s. */
  s.percentile = 100.0f * 2.0f / 6.0f;
  memset (grad, 0, sizeof grad);
  g_assert_cmpfloat_with_epsilon (nn_am_objective_eval (&s, 1, shape, act, grad, scratch),
                                  6.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (grad[7], 0.25, 1e-7);
  g_assert_cmpfloat_with_epsilon (grad[8], 0.25, 1e-7);
  g_assert_cmpfloat_with_epsilon (grad[10], 0.5, 1e-7);

  s.objective = NN_AM_OBJECTIVE_DIRECTION;
  const float dir[2] = { 2.0f, -1.0f };
  s.direction = dir;
  memset (grad, 0, sizeof grad);
  g_assert_cmpfloat_with_epsilon (nn_am_objective_eval (&s, 0, shape, act, grad, scratch),
                                  2.0 * 3.0 - 14.0 / 6.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (grad[0], 2.0 / 6.0, 1e-7);
  g_assert_cmpfloat_with_epsilon (grad[11], -1.0 / 6.0, 1e-7);
}

static NnAmRun *
small_run (const NnModel *m,
           uint64_t       seed,
           int            steps)
{
  static const int channels[3] = { 0, 1, 2 };
  NnAmSettings s;
  nn_am_settings_init (&s);
  s.layer = 4;
  s.channels = channels;
  s.n_channels = 3;
  s.seed = seed;
  s.steps = steps;
  s.transforms = NN_AM_TRANSFORM_JITTER | NN_AM_TRANSFORM_ROTATE | NN_AM_TRANSFORM_SCALE;
  g_assert_true (nn_grad_policy_parse ("proxygrad:0.3", &s.policy, NULL));
  NnError err = { 0 };
  NnAmRun *run = nn_am_run_new (m, &s, &err);
  g_assert_nonnull (run);
  g_assert_true (nn_am_run_step (run, steps, NULL, &err));
  return run;
}

/* The same seed gives the same images and histories; another seed other ones. */
static void
test_reproducible (void)
{
  NnModel *m = small_cnn (3);
  NnAmRun *a = small_run (m, 9, 20), *b = small_run (m, 9, 20), *c = small_run (m, 10, 20);
  NnShape sh = nn_am_run_get_shape (a);
  size_t n = nn_shape_size (sh);
  for (int item = 0; item < 3; item++)
    {
      g_assert_cmpmem (nn_am_run_peek_image (a, item), n * sizeof (float),
                       nn_am_run_peek_image (b, item), n * sizeof (float));
      int na, nb;
      const float *ha = nn_am_run_peek_history (a, item, &na);
      const float *hb = nn_am_run_peek_history (b, item, &nb);
      g_assert_cmpmem (ha, (size_t) na * sizeof (float), hb, (size_t) nb * sizeof (float));
      g_assert_true (memcmp (nn_am_run_peek_image (a, item), nn_am_run_peek_image (c, item),
                             n * sizeof (float)) != 0);
      /* The objective went up, and the best is at least the last. */
      g_assert_cmpfloat (ha[na - 1], >, ha[0]);
      g_assert_cmpfloat (nn_am_run_get_best_objective (a, item), >=, ha[na - 1]);
    }
  nn_am_run_free (a);
  nn_am_run_free (b);
  nn_am_run_free (c);
  nn_model_free (m);
}

/* Several channels in one batch give what each gives alone (from the same start). */
static void
test_batch_equals_single (void)
{
  NnModel *m = small_cnn (1);
  float start[100];
  NnRng rng;
  nn_rng_init (&rng, 4);
  for (int i = 0; i < 100; i++)
    start[i] = nn_rng_normal (&rng) * 0.5f;
  const int both[2] = { 0, 2 }, one[1] = { 2 };
  NnAmSettings s;
  nn_am_settings_init (&s);
  s.layer = 4;
  s.start = start;
  s.steps = 15;
  s.objective = NN_AM_OBJECTIVE_PERCENTILE;
  NnError err = { 0 };
  s.channels = both;
  s.n_channels = 2;
  NnAmRun *batch = nn_am_run_new (m, &s, &err);
  s.channels = one;
  s.n_channels = 1;
  NnAmRun *single = nn_am_run_new (m, &s, &err);
  g_assert_true (nn_am_run_step (batch, 100, NULL, &err));
  g_assert_true (nn_am_run_step (single, 7, NULL, &err));
  g_assert_false (nn_am_run_is_done (single));
  g_assert_cmpint (nn_am_run_get_step (single), ==, 7);
  g_assert_true (nn_am_run_step (single, 8, NULL, &err));
  g_assert_true (nn_am_run_is_done (single));
  g_assert_cmpint (nn_am_run_get_step (batch), ==, 15);
  for (int i = 0; i < 100; i++)
    g_assert_cmpfloat_with_epsilon (nn_am_run_peek_image (batch, 1)[i],
                                    nn_am_run_peek_image (single, 0)[i], 1e-5);
  g_assert_cmpfloat_with_epsilon (nn_am_run_get_objective (batch, 1),
                                  nn_am_run_get_objective (single, 0), 1e-5);
  nn_am_run_free (batch);
  nn_am_run_free (single);
  nn_model_free (m);
}

/* The plain gradient step x <- x + lr f'(x) on the race function f (x) = relu (x) + 2 relu (-x)
 * from x0 = 0.1 with lr 0.3: exact f' = 1 gives x1 = 0.4; straight-through ProxyGrad at
 * beta 0.6 gives f' = 1 - 2 x 0.6 = -0.2 and x1 = 0.04; the full proxy agrees here (one ReLU
 * layer, next to the input). */
static void
test_sgd_step_by_hand (void)
{
  NnModel *m = race_model ();
  const float x0 = 0.1f;
  const struct
  {
    const char *policy;
    float       x1;
  } cases[] = {
    { "exact", 0.4f }, { "proxygrad:0.6", 0.04f }, { "proxygrad-full:0.6", 0.04f },
  };
  for (size_t k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      NnAmSettings s;
      toy_settings (&s, 3, &x0, cases[k].policy);
      s.optimizer = NN_AM_OPTIMIZER_SGD;
      s.lr = 0.3f;
      NnError err = { 0 };
      NnAmRun *run = nn_am_run_new (m, &s, &err);
      g_assert_nonnull (run);
      g_assert_true (nn_am_run_step (run, 1, NULL, &err));
      g_assert_cmpfloat_with_epsilon (nn_am_run_peek_image (run, 0)[0], cases[k].x1, 1e-6);
      nn_am_run_free (run);
    }
  nn_model_free (m);
}

/* Two input channels of one pixel into out = x0 - x1 (objective: its mean): the plain step
 * with lr 1 moves (0.2, 0.3) to (1.2, -0.7), clamped to (1, -0.7), then to (1, -1) and stays
 * there; every value lies in the box after every step. The box replaces the model's input
 * range: [-1, 3] lets the race function reach x = 3 (f = 3) beyond its range [-1, 1]. A noise
 * start is clamped into the box too. */
static void
test_clip_box (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 2, 1, 1);
  int out = nn_graph_add_conv2d (g, "out", in, 1, 1, 1, 0, 1, 1, false);
  set_conv (g, out, (const float[]) { 1.0f, -1.0f }, 2, NULL);
  NnModel *m = nn_model_new (g, "box");
  for (int c = 0; c < 2; c++)
    {
      m->mean[c] = 0.5f;
      m->std[c] = 0.25f;
    }
  const float x0[2] = { 0.2f, 0.3f };
  NnAmSettings s;
  toy_settings (&s, out, x0, "exact");
  s.optimizer = NN_AM_OPTIMIZER_SGD;
  s.lr = 1.0f;
  s.clip = true;
  s.clip_lo = -1.0f;
  s.clip_hi = 1.0f;
  NnError err = { 0 };
  NnAmRun *run = nn_am_run_new (m, &s, &err);
  g_assert_nonnull (run);
  const float want[3][2] = { { 1.0f, -0.7f }, { 1.0f, -1.0f }, { 1.0f, -1.0f } };
  for (int t = 0; t < 3; t++)
    {
      g_assert_true (nn_am_run_step (run, 1, NULL, &err));
      const float *x = nn_am_run_peek_image (run, 0);
      for (int c = 0; c < 2; c++)
        {
          g_assert_cmpfloat (x[c], >=, -1.0f);
          g_assert_cmpfloat (x[c], <=, 1.0f);
          g_assert_cmpfloat_with_epsilon (x[c], want[t][c], 1e-6);
        }
    }
  nn_am_run_free (run);

  s.start = NULL;
  s.noise = 1.0f;
  s.clip_lo = -0.1f;
  s.clip_hi = 0.1f;
  run = nn_am_run_new (m, &s, &err);
  g_assert_nonnull (run);
  const float *x = nn_am_run_peek_image (run, 0);
  for (int c = 0; c < 2; c++)
    g_assert_true (x[c] >= -0.1f && x[c] <= 0.1f);
  nn_am_run_free (run);
  nn_model_free (m);

  NnModel *race = race_model ();
  const float r0 = 0.5f;
  toy_settings (&s, 3, &r0, "exact");
  s.optimizer = NN_AM_OPTIMIZER_SGD;
  s.lr = 0.5f;
  g_assert_cmpfloat_with_epsilon (run_final (race, &s), 1.0f, 1e-6);
  s.clip = true;
  s.clip_lo = -1.0f;
  s.clip_hi = 3.0f;
  g_assert_cmpfloat_with_epsilon (run_final (race, &s), 3.0f, 1e-6);
  nn_model_free (race);
}

static void
expect_error (const NnModel      *m,
              const NnAmSettings *s,
              const char         *part)
{
  NnError err = { 0 };
  NnAmRun *run = nn_am_run_new (m, s, &err);
  g_assert_null (run);
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  if (strstr (err.message, part) == NULL)
    g_error ("expected '%s' in '%s'", part, err.message);
}

static void
test_bad_settings (void)
{
  NnModel *m = small_cnn (1);
  NnModel *toy = race_model ();
  static const int ch5[1] = { 5 }, ch0[1] = { 0 };
  NnAmSettings s;
  nn_am_settings_init (&s);
  s.layer = 99;
  s.channels = ch0;
  s.n_channels = 1;
  expect_error (m, &s, "layer 99 does not exist");
  s.layer = 4;
  s.channels = ch5;
  expect_error (m, &s, "channel 5 is out of range");
  s.channels = ch0;
  s.steps = 0;
  expect_error (m, &s, "0 steps");
  s.steps = 1000000000;
  expect_error (m, &s, "out of range");
  s.steps = 10;
  s.objective = NN_AM_OBJECTIVE_UNIT;
  s.unit_y = 10;
  expect_error (m, &s, "outside layer");
  s.objective = NN_AM_OBJECTIVE_CENTER;
  s.layer = 3;
  expect_error (toy, &s, "needs a layer with a spatial extent");
  s.objective = NN_AM_OBJECTIVE_LOGIT;
  s.layer = 4;
  expect_error (m, &s, "needs a layer of logits");
  s.objective = NN_AM_OBJECTIVE_MEAN;
  s.lr = NAN;
  expect_error (m, &s, "learning rate");
  s.lr = 0.1f;
  s.clip = true;
  s.clip_lo = 1.0f;
  s.clip_hi = -1.0f;
  expect_error (m, &s, "is not an interval");
  s.clip_lo = -1.0f;
  s.clip_hi = 1.0f;
  s.param = NN_AM_PARAM_FOURIER;
  expect_error (m, &s, "needs the pixels parameterization");
  s.param = NN_AM_PARAM_PIXELS;
  s.clip = false;
  s.n_channels = 0;
  expect_error (m, &s, "0 channels");
  nn_model_free (m);
  nn_model_free (toy);
}

/* A weight turning NaN in the middle of a run stops it with a clear error; the best image and
 * its objective stay. Cancellation stops before a step. */
static void
test_nan_and_cancel (void)
{
  NnModel *m = race_model ();
  const float x0 = 0.1f;
  NnAmSettings s;
  toy_settings (&s, 3, &x0, "exact");
  NnError err = { 0 };
  NnAmRun *run = nn_am_run_new (m, &s, &err);
  g_assert_true (nn_am_run_step (run, 5, NULL, &err));
  float best = nn_am_run_get_best_objective (run, 0);
  /* Objectives are recorded before each step: the best so far is x = 0.1 + 4 x 0.05. */
  g_assert_cmpfloat_with_epsilon (best, 0.3f, 1e-6);
  NnGraph *g = m->graph;
  nn_graph_param_data (g, nn_graph_node_param (g, 3, NN_PARAM_WEIGHT))[0] = NAN;
  g_assert_false (nn_am_run_step (run, 5, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_NUMERIC);
  g_assert_nonnull (strstr (err.message, "NaN"));
  g_assert_true (nn_am_run_is_done (run));
  g_assert_cmpfloat (nn_am_run_get_best_objective (run, 0), ==, best);
  g_assert_cmpfloat_with_epsilon (nn_am_run_peek_best (run, 0)[0], 0.3f, 1e-6);
  g_assert_false (nn_am_run_step (run, 1, NULL, &err));
  nn_am_run_free (run);

  nn_graph_param_data (g, nn_graph_node_param (g, 3, NN_PARAM_WEIGHT))[0] = 1.0f;
  run = nn_am_run_new (m, &s, &err);
  atomic_int cancel = 1;
  g_assert_false (nn_am_run_step (run, 5, &cancel, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  g_assert_cmpint (nn_am_run_get_step (run), ==, 0);
  nn_am_run_free (run);
  nn_model_free (m);
}

/* A proxygrad-full override makes the context's ReLU forward passes leaky with slope beta;
 * any other override, or none, leaves them alone. A node cannot keep the policy. */
static void
test_proxy_full_context (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 1, 1, 4);
  int r = nn_graph_add_relu (g, "relu", in);
  NnError err = { 0 };
  NnContext *ctx = nn_context_new (g, 1, 0, &err);
  const float x[4] = { -2.0f, -0.5f, 0.0f, 3.0f };
  const NnGradPolicy full = { NN_GRAD_PROXY_FULL, 0.25f }, st = { NN_GRAD_PROXY, 0.25f };
  const NnGradPolicy *overrides[3] = { &full, &st, NULL };
  for (int k = 0; k < 3; k++)
    {
      nn_context_set_policy_override (ctx, overrides[k]);
      memcpy (nn_context_input (ctx), x, sizeof x);
      nn_context_forward (ctx, -1);
      const float *y = nn_context_output (ctx, r);
      for (int i = 0; i < 4; i++)
        g_assert_cmpfloat (y[i], ==, x[i] > 0.0f ? x[i] : (k == 0 ? 0.25f * x[i] : 0.0f));
    }
  nn_context_free (ctx);

  NnNode spec = { .op = NN_OP_ACTIVATION, .inputs = { r }, .n_inputs = 1 };
  strcpy (spec.name, "relu2");
  spec.attrs.act = (NnActAttrs) { .kind = NN_ACT_RELU, .policy = full };
  g_assert_cmpint (nn_graph_add (g, &spec, &err), ==, -1);
  g_assert_nonnull (strstr (err.message, "per-run policy"));
  nn_graph_free (g);
}

/* A frozen, zero-mean 3x3 filter (PFNet's -U0) with zero padding, as conv1.predefined of a
 * PFNet: the mean of its output is linear in the image, and every interior pixel is read by all
 * nine taps, which sum to 0, so only the border has a gradient. AM leaves the interior at its
 * starting noise and drives the left column to white and the right column to black (the taps
 * a border pixel misses are the other side's column), the corners and the top and bottom rows
 * (rows of U0 sum to 0) excepted as computed. docs/am.md, "Fixed linear filters". */
static void
test_fixed_linear_filter (void)
{
  enum { S = 8 };
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 1, S, S);
  int conv = nn_graph_add_conv2d (g, "predefined", in, 1, 3, 1, 1, 1, 1, false);
  float bank[16][9];
  nn_pfm_bank_kernels (bank);
  set_conv (g, conv, bank[0], 9, NULL);
  NnModel *m = nn_model_new (g, "toy");
  m->mean[0] = 0.5f;
  m->std[0] = 0.5f;
  NnAmSettings s;
  toy_settings (&s, conv, NULL, "exact");
  s.steps = 64;
  NnError err = { 0 };
  NnAmRun *run = nn_am_run_new (m, &s, &err);
  g_assert_nonnull (run);
  size_t n;
  float start[S * S], grad[S * S];
  memcpy (start, nn_am_run_get_params (run, &n), sizeof start);
  g_assert_cmpuint (n, ==, S * S);
  nn_am_run_gradient (run, grad);
  /* the gradient of the mean: minus the missing taps' sum over H W, 0 inside */
  double right = 0.0, left = 0.0;
  for (int r = 0; r < 3; r++)
    {
      left += bank[0][r * 3];
      right += bank[0][r * 3 + 2];
    }
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++)
      {
        double want = 0.0;
        if (x == 0)
          want = -right;
        else if (x == S - 1)
          want = -left;
        /* a corner misses a column and a row (which sums to 0), sharing one tap */
        if (y == 0 || y == S - 1)
          want = x == 0 || x == S - 1 ? want + bank[0][(y == 0 ? 6 : 0) + (x == 0 ? 2 : 0)]
                                      : 0.0;
        g_assert_cmpfloat_with_epsilon (grad[y * S + x], want / (S * S), 1e-6);
      }
  g_assert_cmpfloat (-right, >, 0.0);
  g_assert_true (nn_am_run_step (run, s.steps, NULL, &err));
  const float *image = nn_am_run_peek_image (run, 0);
  for (int y = 1; y < S - 1; y++)
    for (int x = 1; x < S - 1; x++)
      g_assert_cmpfloat (image[y * S + x], ==, start[y * S + x]);
  for (int y = 1; y < S - 1; y++)
    {
      g_assert_cmpfloat (image[y * S], ==, 1.0f);       /* white: (1 - 0.5) / 0.5 */
      g_assert_cmpfloat (image[y * S + S - 1], ==, -1.0f);
    }
  nn_am_run_free (run);
  nn_model_free (m);
}

static void
test_parse (void)
{
  NnGradPolicy p;
  NnError err = { 0 };
  g_assert_true (nn_grad_policy_parse ("proxygrad-full:0.6", &p, &err));
  g_assert_cmpint (p.kind, ==, NN_GRAD_PROXY_FULL);
  g_assert_cmpfloat (p.beta, ==, 0.6f);
  char buf[64];
  nn_grad_policy_format (&p, buf, sizeof buf);
  g_assert_cmpstr (buf, ==, "proxygrad-full:0.6");
  g_assert_false (nn_grad_policy_parse ("proxygrad-full:x", &p, &err));
  g_assert_false (nn_grad_policy_parse ("proxygrad-fullish", &p, &err));
  unsigned t;
  g_assert_true (nn_am_transforms_parse ("jitter,blur", &t, &err));
  g_assert_cmpuint (t, ==, NN_AM_TRANSFORM_JITTER | NN_AM_TRANSFORM_BLUR);
  g_assert_false (nn_am_transforms_parse ("jitter,twist", &t, &err));
  g_assert_nonnull (strstr (err.message, "twist"));
  NnAmObjective o;
  g_assert_true (nn_am_objective_parse ("percentile", &o, &err));
  g_assert_cmpint (o, ==, NN_AM_OBJECTIVE_PERCENTILE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/am/race-of-patterns", test_race_of_patterns);
  g_test_add_func ("/nn/am/dead-unit", test_dead_unit);
  g_test_add_func ("/nn/am/policy-gradients-by-hand", test_policy_gradients_by_hand);
  g_test_add_func ("/nn/am/backward-finite-differences", test_backward_finite_differences);
  g_test_add_func ("/nn/am/objectives-by-hand", test_objectives_by_hand);
  g_test_add_func ("/nn/am/reproducible", test_reproducible);
  g_test_add_func ("/nn/am/batch-equals-single", test_batch_equals_single);
  g_test_add_func ("/nn/am/sgd-step-by-hand", test_sgd_step_by_hand);
  g_test_add_func ("/nn/am/clip-box", test_clip_box);
  g_test_add_func ("/nn/am/bad-settings", test_bad_settings);
  g_test_add_func ("/nn/am/nan-and-cancel", test_nan_and_cancel);
  g_test_add_func ("/nn/am/proxy-full-context", test_proxy_full_context);
  g_test_add_func ("/nn/am/parse", test_parse);
  g_test_add_func ("/nn/am/fixed-linear-filter", test_fixed_linear_filter);
  return g_test_run ();
}
