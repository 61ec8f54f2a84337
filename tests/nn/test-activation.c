/* SPDX-License-Identifier: MIT */
/* Activations: forward values, exact backward against finite differences, accumulation, and
 * the derivative every gradient policy prescribes at hand-picked points. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "grad-check.h"
#include "nn.h"

static NnActAttrs
act_attrs (NnActKind kind,
           float     slope)
{
  return (NnActAttrs) { .kind = kind, .slope = slope, .policy = { NN_GRAD_EXACT, 0.0f } };
}

static void
test_forward (void)
{
  const float x[5] = { -2.0f, -0.5f, 0.0f, 0.5f, 3.0f };
  float y[5];

  NnActAttrs relu = act_attrs (NN_ACT_RELU, 0.0f);
  nn_activation_forward (y, x, 5, &relu);
  const float want_relu[5] = { 0.0f, 0.0f, 0.0f, 0.5f, 3.0f };
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat (y[i], ==, want_relu[i]);

  NnActAttrs leaky = act_attrs (NN_ACT_RELU, 0.1f);
  nn_activation_forward (y, x, 5, &leaky);
  const float want_leaky[5] = { -0.2f, -0.05f, 0.0f, 0.5f, 3.0f };
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat_with_epsilon (y[i], want_leaky[i], 1e-7);

  NnActAttrs sig = act_attrs (NN_ACT_SIGMOID, 0.0f);
  nn_activation_forward (y, x, 5, &sig);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat_with_epsilon (y[i], 1.0 / (1.0 + exp (-(double) x[i])), 1e-7);
  g_assert_cmpfloat (y[2], ==, 0.5f);

  NnActAttrs th = act_attrs (NN_ACT_TANH, 0.0f);
  nn_activation_forward (y, x, 5, &th);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat_with_epsilon (y[i], tanh ((double) x[i]), 1e-7);

  /* Extreme inputs stay finite. */
  const float big[2] = { -1000.0f, 1000.0f };
  nn_activation_forward (y, big, 2, &sig);
  g_assert_cmpfloat (y[0], ==, 0.0f);
  g_assert_cmpfloat (y[1], ==, 1.0f);
}

/* Exact backward of each activation through a one-op graph against the shared finite-difference
 * check, with inputs kept at least 0.05 away from the kinks. */
static void
check_range_fd (const char       *op,
                const NnActAttrs *attrs,
                const float      *kinks,
                int               n_kinks,
                float             lo,
                uint64_t          seed)
{
  enum { N = 97 };
  float x[N];
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (int i = 0; i < N; i++)
    {
      float v = 8.0f * nn_rng_uniform (&rng) + lo;
      for (int k = 0; k < n_kinks; k++)
        if (fabsf (v - kinks[k]) < 0.05f)
          v += 0.1f;
      x[i] = v;
    }
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", N, 1, 1);
  NnNode spec = { .op = NN_OP_ACTIVATION, .name = "act", .inputs = { in }, .n_inputs = 1,
                  .attrs.act = *attrs };
  g_assert_cmpint (nn_graph_add (g, &spec, NULL), ==, 1);
  GradCheck gc;
  grad_check_init (&gc, op);
  gc.batch = 1;
  gc.input = x;
  gc.seed = seed;
  gc.rel_tol = 2e-3;
  grad_check_graph (&gc, g);
  grad_check_assert (&gc);
  nn_graph_free (g);
}

/* Inputs in [-4, 4). */
static void
check_attrs_fd (const char       *op,
                const NnActAttrs *attrs,
                const float      *kinks,
                int               n_kinks,
                uint64_t          seed)
{
  check_range_fd (op, attrs, kinks, n_kinks, -4.0f, seed);
}

static void
check_exact_fd (const char *op,
                NnActKind   kind,
                float       slope,
                uint64_t    seed)
{
  NnActAttrs attrs = act_attrs (kind, slope);
  const float kink = 0.0f;
  check_attrs_fd (op, &attrs, &kink, 1, seed);
}

/* The activations with their parameters. */
static NnActAttrs
attrs_full (NnActKind kind,
            float     alpha,
            float     beta)
{
  NnActAttrs attrs = act_attrs (kind, 0.0f);
  attrs.alpha = alpha;
  attrs.beta = beta;
  return attrs;
}

static void
test_backward_fd (void)
{
  check_exact_fd ("relu", NN_ACT_RELU, 0.0f, 1);
  check_exact_fd ("leaky relu 0.2", NN_ACT_RELU, 0.2f, 2);
  check_exact_fd ("sigmoid", NN_ACT_SIGMOID, 0.0f, 3);
  check_exact_fd ("tanh", NN_ACT_TANH, 0.0f, 4);
  check_exact_fd ("erf", NN_ACT_ERF, 0.0f, 11);
  check_exact_fd ("gelu", NN_ACT_GELU, 0.0f, 12);
  check_exact_fd ("gelu tanh", NN_ACT_GELU_TANH, 0.0f, 13);
  check_exact_fd ("silu", NN_ACT_SILU, 0.0f, 14);

  NnActAttrs clip = attrs_full (NN_ACT_CLIP, -1.0f, 2.0f);
  check_attrs_fd ("clip [-1, 2]", &clip, (const float[]) { -1.0f, 2.0f }, 2, 5);
  NnActAttrs hsig = attrs_full (NN_ACT_HARDSIGMOID, 0.2f, 0.5f);
  check_attrs_fd ("hard sigmoid", &hsig, (const float[]) { -2.5f, 2.5f }, 2, 6);
  NnActAttrs hswish = act_attrs (NN_ACT_HARDSWISH, 0.0f);
  check_attrs_fd ("hard swish", &hswish, (const float[]) { -3.0f, 3.0f }, 2, 7);
  NnActAttrs square = attrs_full (NN_ACT_POW, 2.0f, 0.0f);
  check_attrs_fd ("pow 2", &square, NULL, 0, 15);
  NnActAttrs cube = attrs_full (NN_ACT_POW, 3.0f, 0.0f);
  check_attrs_fd ("pow 3", &cube, NULL, 0, 16);
  /* Roots on x in [0.5, 8.5). */
  NnActAttrs root = attrs_full (NN_ACT_POW, 0.5f, 0.0f);
  check_range_fd ("pow 0.5", &root, NULL, 0, 0.5f, 17);
  NnActAttrs power = attrs_full (NN_ACT_POW, -1.5f, 0.0f);
  check_range_fd ("pow -1.5", &power, NULL, 0, 0.5f, 18);
  NnActAttrs sq = act_attrs (NN_ACT_SQRT, 0.0f);
  check_range_fd ("sqrt", &sq, NULL, 0, 0.5f, 19);
}

/* Every kind's backward adds to what dinp holds: twice over a buffer that starts at 0.5 gives
 * 0.5 plus twice the gradient of one pass. */
static void
test_backward_accumulates (void)
{
  enum { N = 41 };
  const NnActAttrs kinds[] = {
    act_attrs (NN_ACT_RELU, 0.0f), act_attrs (NN_ACT_RELU, 0.2f),
    act_attrs (NN_ACT_SIGMOID, 0.0f), act_attrs (NN_ACT_TANH, 0.0f),
    attrs_full (NN_ACT_CLIP, -1.0f, 2.0f), attrs_full (NN_ACT_HARDSIGMOID, 0.2f, 0.5f),
    act_attrs (NN_ACT_HARDSWISH, 0.0f), act_attrs (NN_ACT_ERF, 0.0f),
    act_attrs (NN_ACT_GELU, 0.0f), act_attrs (NN_ACT_GELU_TANH, 0.0f),
    act_attrs (NN_ACT_SILU, 0.0f), attrs_full (NN_ACT_POW, 2.0f, 0.0f),
    attrs_full (NN_ACT_POW, 3.0f, 0.0f),
  };
  const NnGradPolicy exact = { NN_GRAD_EXACT, 0.0f };
  float x[N], dy[N], out[N], once[N], twice[N];
  grad_check_fill (x, N, 8, -4.0f, 4.0f);
  grad_check_fill (dy, N, 9, -1.0f, 1.0f);
  for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      nn_activation_forward (out, x, N, &kinds[k]);
      for (int i = 0; i < N; i++)
        {
          once[i] = 0.0f;
          twice[i] = 0.5f;
        }
      nn_activation_backward (once, dy, x, out, N, &kinds[k], &exact);
      nn_activation_backward (twice, dy, x, out, N, &kinds[k], &exact);
      nn_activation_backward (twice, dy, x, out, N, &kinds[k], &exact);
      for (int i = 0; i < N; i++)
        g_assert_cmpfloat_with_epsilon (twice[i], 0.5f + 2.0f * once[i], 1e-6);
    }
}

/* Clip (ReLU6), hard sigmoid and hard swish at hand-computed points. */
static void
test_hard_forward (void)
{
  const float x[6] = { -4.0f, -3.0f, -1.5f, 0.0f, 4.5f, 7.0f };
  float y[6];
  NnActAttrs relu6 = act_attrs (NN_ACT_CLIP, 0.0f);
  relu6.beta = 6.0f;
  nn_activation_forward (y, x, 6, &relu6);
  const float want_relu6[6] = { 0.0f, 0.0f, 0.0f, 0.0f, 4.5f, 6.0f };
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (y[i], ==, want_relu6[i]);

  NnActAttrs hsig = act_attrs (NN_ACT_HARDSIGMOID, 0.0f);
  hsig.alpha = 0.2f;
  hsig.beta = 0.5f;
  nn_activation_forward (y, x, 6, &hsig);
  const float want_hsig[6] = { 0.0f, 0.0f, 0.2f, 0.5f, 1.0f, 1.0f };
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (y[i], want_hsig[i], 1e-6);

  NnActAttrs hswish = act_attrs (NN_ACT_HARDSWISH, 0.0f);
  nn_activation_forward (y, x, 6, &hswish);
  /* x (x + 3) / 6 on [-3, 3]: -1.5 -> -0.375 */
  const float want_hswish[6] = { 0.0f, 0.0f, -0.375f, 0.0f, 4.5f, 7.0f };
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (y[i], want_hswish[i], 1e-6);
}

/* Pow and sqrt at hand-computed points: squares of negatives are positive, x^0.5 is sqrt. */
static void
test_pow_forward (void)
{
  const float x[4] = { -3.0f, 0.0f, 4.0f, 2.25f };
  float y[4];
  NnActAttrs square = attrs_full (NN_ACT_POW, 2.0f, 0.0f);
  nn_activation_forward (y, x, 4, &square);
  const float want_sq[4] = { 9.0f, 0.0f, 16.0f, 5.0625f };
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (y[i], ==, want_sq[i]);
  NnActAttrs cube = attrs_full (NN_ACT_POW, 3.0f, 0.0f);
  nn_activation_forward (y, x, 4, &cube);
  const float want_cube[4] = { -27.0f, 0.0f, 64.0f, 11.390625f };
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat_with_epsilon (y[i], want_cube[i], 1e-5);
  NnActAttrs sq = act_attrs (NN_ACT_SQRT, 0.0f);
  nn_activation_forward (y + 1, x + 1, 3, &sq);
  g_assert_cmpfloat (y[1], ==, 0.0f);
  g_assert_cmpfloat (y[2], ==, 2.0f);
  g_assert_cmpfloat (y[3], ==, 1.5f);
  /* d/dx x^2 at -3 is -6; d/dx sqrt at 4 is 1/4. */
  float dx[4] = { 0 };
  const float ones[4] = { 1.0f, 1.0f, 1.0f, 1.0f };
  const NnGradPolicy exact = { NN_GRAD_EXACT, 0.0f };
  nn_activation_forward (y, x, 4, &square);
  nn_activation_backward (dx, ones, x, y, 4, &square, &exact);
  g_assert_cmpfloat (dx[0], ==, -6.0f);
  dx[2] = 0.0f;
  nn_activation_forward (y + 2, x + 2, 1, &sq);
  nn_activation_backward (dx + 2, ones, x + 2, y + 2, 1, &sq, &exact);
  g_assert_cmpfloat (dx[2], ==, 0.25f);
}

/* Erf, GELU (exact and tanh) and SiLU at 1 and -0.5, against values computed in double. */
static void
test_smooth_forward (void)
{
  const float x[2] = { 1.0f, -0.5f };
  const struct
  {
    NnActKind kind;
    double    want[2];
  } cases[] = {
    { NN_ACT_ERF, { 0.8427007929497149, -0.5204998778130465 } },
    { NN_ACT_GELU, { 0.8413447460685429, -0.15426876936299347 } },
    { NN_ACT_GELU_TANH, { 0.8411919906082768, -0.15428599017299825 } },
    { NN_ACT_SILU, { 0.7310585786300049, -0.18877033 } },
  };
  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      float y[2];
      NnActAttrs attrs = act_attrs (cases[k].kind, 0.0f);
      nn_activation_forward (y, x, 2, &attrs);
      for (int i = 0; i < 2; i++)
        g_assert_cmpfloat_with_epsilon (y[i], cases[k].want[i], 1e-6);
    }
}

/* Sigmoid and SiLU run a vectorized exponential: over a long odd-length run (vector body and
 * scalar tail) and at the extremes they match the libm formula 1 / (1 + e^-x) in double. */
static void
test_sigmoid_silu_wide (void)
{
  enum { N = 2003 };
  float *x = g_new (float, N), *y = g_new (float, N);
  for (int i = 0; i < N; i++)
    x[i] = -100.0f + 200.0f * (float) i / (N - 1);
  const NnActKind kinds[2] = { NN_ACT_SIGMOID, NN_ACT_SILU };
  for (int k = 0; k < 2; k++)
    {
      NnActAttrs attrs = act_attrs (kinds[k], 0.0f);
      nn_activation_forward (y, x, N, &attrs);
      for (int i = 0; i < N; i++)
        {
          const double s = 1.0 / (1.0 + exp (-(double) x[i]));
          const double want = kinds[k] == NN_ACT_SIGMOID ? s : (double) x[i] * s;
          g_assert_cmpfloat (fabs (y[i] - want), <=, 1e-6 * fabs (want) + 1e-30);
        }
    }
  const float special[5] = { -INFINITY, INFINITY, NAN, 88.5f, -88.5f };
  NnActAttrs sig = act_attrs (NN_ACT_SIGMOID, 0.0f);
  nn_activation_forward (y, special, 5, &sig);
  g_assert_cmpfloat (y[0], ==, 0.0f);
  g_assert_cmpfloat (y[1], ==, 1.0f);
  g_assert_true (isnan (y[2]));
  g_assert_cmpfloat (y[3], ==, 1.0f);
  g_assert_cmpfloat (y[4], <=, 1e-37);
  g_free (x);
  g_free (y);
}

static float
policy_grad (NnGradKind kind,
             float      beta,
             float      x,
             float      dy,
             float      slope)
{
  const NnGradPolicy p = { kind, beta };
  return nn_relu_policy_grad (x, dy, slope, &p);
}

static void
test_policy_points (void)
{
  /* Exact: 1 for x > 0, the forward slope otherwise (0 at the kink, as in PyTorch). */
  g_assert_cmpfloat (policy_grad (NN_GRAD_EXACT, 0.0f, 2.0f, 1.0f, 0.0f), ==, 1.0f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_EXACT, 0.0f, -1.0f, 1.0f, 0.0f), ==, 0.0f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_EXACT, 0.0f, 0.0f, 1.0f, 0.0f), ==, 0.0f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_EXACT, 0.0f, -1.0f, 1.0f, 0.1f), ==, 0.1f);

  /* ProxyGrad: slope beta below zero whatever the forward slope. */
  g_assert_cmpfloat (policy_grad (NN_GRAD_PROXY, 0.3f, -1.0f, 1.0f, 0.0f), ==, 0.3f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_PROXY, 0.3f, -1.0f, -4.0f, 0.1f), ==, 0.3f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_PROXY, 0.3f, 2.0f, 1.0f, 0.0f), ==, 1.0f);

  /* SUGAR B-SiLU: s(x) + (x + 1.67) s(x) (1 - s(x)); at 0: 0.5 + 1.67 / 4. */
  g_assert_cmpfloat_with_epsilon (policy_grad (NN_GRAD_SUGAR_BSILU, 0.0f, 0.0f, 1.0f, 0.0f),
                                  0.5 + 1.67 * 0.25, 1e-6);
  /* At x = -1.67 the second term vanishes: s(-1.67). */
  g_assert_cmpfloat_with_epsilon (policy_grad (NN_GRAD_SUGAR_BSILU, 0.0f, -1.67f, 1.0f, 0.0f),
                                  1.0 / (1.0 + exp (1.67)), 1e-6);
  /* It is the derivative of (x + a) s(x) - a/2, checked by differences at several points. */
  for (double x = -4.0; x <= 4.0; x += 0.75)
    {
      double h = 1e-4;
      double fp = (x + h + 1.67) / (1.0 + exp (-(x + h))) - 0.835;
      double fm = (x - h + 1.67) / (1.0 + exp (-(x - h))) - 0.835;
      g_assert_cmpfloat_with_epsilon (policy_grad (NN_GRAD_SUGAR_BSILU, 0.0f, (float) x, 1.0f,
                                                   0.0f), (fp - fm) / (2 * h), 1e-5);
    }

  /* SUGAR NeLU with a = 0.01: 1 for x > 0, 2 a x / (1 + x^2)^2 otherwise. */
  g_assert_cmpfloat (policy_grad (NN_GRAD_SUGAR_NELU, 0.01f, 0.5f, 1.0f, 0.0f), ==, 1.0f);
  g_assert_cmpfloat_with_epsilon (policy_grad (NN_GRAD_SUGAR_NELU, 0.01f, -1.0f, 1.0f, 0.0f),
                                  -0.005, 1e-8);
  g_assert_cmpfloat_with_epsilon (policy_grad (NN_GRAD_SUGAR_NELU, 0.5f, -2.0f, 1.0f, 0.0f),
                                  2.0 * 0.5 * -2.0 / 25.0, 1e-7);
  g_assert_cmpfloat (policy_grad (NN_GRAD_SUGAR_NELU, 0.01f, 0.0f, 1.0f, 0.0f), ==, 0.0f);
  /* ... the derivative of -a / (1 + x^2). */
  for (double x = -3.0; x < 0.0; x += 0.5)
    {
      double h = 1e-4, a = 0.2;
      double num = (-a / (1 + (x + h) * (x + h)) + a / (1 + (x - h) * (x - h))) / (2 * h);
      g_assert_cmpfloat_with_epsilon (policy_grad (NN_GRAD_SUGAR_NELU, 0.2f, (float) x, 1.0f,
                                                   0.0f), num, 1e-6);
    }

  /* Identity warm-up. */
  g_assert_cmpfloat (policy_grad (NN_GRAD_IDENTITY, 0.0f, -3.0f, -1.0f, 0.0f), ==, 1.0f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_IDENTITY, 0.0f, 3.0f, 1.0f, 0.0f), ==, 1.0f);

  /* Redirected: below zero, pass a gradient that would raise x under ascent (dy > 0). */
  g_assert_cmpfloat (policy_grad (NN_GRAD_REDIRECTED, 0.0f, -1.0f, 0.7f, 0.0f), ==, 1.0f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_REDIRECTED, 0.0f, -1.0f, -0.7f, 0.0f), ==, 0.0f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_REDIRECTED, 0.0f, 0.0f, -0.7f, 0.0f), ==, 0.0f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_REDIRECTED, 0.0f, 1.0f, -0.7f, 0.0f), ==, 1.0f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_REDIRECTED, 0.0f, -1.0f, -0.7f, 0.2f), ==, 0.2f);

  /* Guided: only a positive gradient at a positive input passes, whatever the forward slope. */
  g_assert_cmpfloat (policy_grad (NN_GRAD_GUIDED, 0.0f, 1.0f, 0.7f, 0.0f), ==, 1.0f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_GUIDED, 0.0f, 1.0f, -0.7f, 0.0f), ==, 0.0f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_GUIDED, 0.0f, -1.0f, 0.7f, 0.2f), ==, 0.0f);
  g_assert_cmpfloat (policy_grad (NN_GRAD_GUIDED, 0.0f, 0.0f, 0.7f, 0.0f), ==, 0.0f);
  NnGradPolicy parsed;
  g_assert_true (nn_grad_policy_parse ("guided", &parsed, NULL));
  g_assert_cmpint (parsed.kind, ==, NN_GRAD_GUIDED);
  char text[32];
  nn_grad_policy_format (&parsed, text, sizeof text);
  g_assert_cmpstr (text, ==, "guided");
}

/* NeLU's alpha: the default 0.01 when none is given, settable as sugar:nelu:A or nelu:A, kept
 * through the text form (a model file stores the policy as text), and refused out of range. */
static void
test_policy_nelu_alpha (void)
{
  NnGradPolicy p;
  char text[32];
  g_assert_true (nn_grad_policy_parse ("sugar:nelu", &p, NULL));
  g_assert_cmpint (p.kind, ==, NN_GRAD_SUGAR_NELU);
  g_assert_cmpfloat (p.beta, ==, 0.01f);
  nn_grad_policy_format (&p, text, sizeof text);
  g_assert_cmpstr (text, ==, "sugar:nelu");
  g_assert_true (nn_grad_policy_parse ("nelu:0.1", &p, NULL));
  g_assert_cmpint (p.kind, ==, NN_GRAD_SUGAR_NELU);
  g_assert_cmpfloat (p.beta, ==, 0.1f);
  nn_grad_policy_format (&p, text, sizeof text);
  g_assert_cmpstr (text, ==, "sugar:nelu:0.1");
  NnGradPolicy back;
  g_assert_true (nn_grad_policy_parse (text, &back, NULL));
  g_assert_cmpint (back.kind, ==, NN_GRAD_SUGAR_NELU);
  g_assert_cmpfloat (back.beta, ==, 0.1f);
  g_assert_true (nn_grad_policy_parse ("sugar:nelu:0.5", &p, NULL));
  g_assert_cmpfloat (p.beta, ==, 0.5f);
  g_assert_true (nn_grad_policy_parse ("bsilu", &p, NULL));
  g_assert_cmpint (p.kind, ==, NN_GRAD_SUGAR_BSILU);
  NnError err = { 0 };
  g_assert_false (nn_grad_policy_parse ("nelu:-1", &p, &err));
  g_assert_nonnull (strstr (err.message, "alpha"));
  g_assert_false (nn_grad_policy_parse ("sugar:nelu:x", &p, NULL));
  g_assert_false (nn_grad_policy_parse ("nelux", &p, NULL));
}

/* The specialised backward loops agree with the scalar rule, for every policy, and
 * accumulate into dinp. */
static void
test_policy_backward_matches_rule (void)
{
  enum { N = 64 };
  float x[N], dy[N], out[N], dx[N];
  NnRng rng;
  nn_rng_init (&rng, 11);
  for (int i = 0; i < N; i++)
    {
      x[i] = 6.0f * nn_rng_uniform (&rng) - 3.0f;
      dy[i] = 2.0f * nn_rng_uniform (&rng) - 1.0f;
    }
  x[0] = 0.0f;
  for (int k = 0; k < NN_GRAD_COUNT_; k++)
    for (int s = 0; s < 2; s++)
      {
        const NnGradPolicy policy = { (NnGradKind) k, k == NN_GRAD_SUGAR_NELU ? 0.01f : 0.3f };
        NnActAttrs attrs = act_attrs (NN_ACT_RELU, s ? 0.1f : 0.0f);
        nn_activation_forward (out, x, N, &attrs);
        for (int i = 0; i < N; i++)
          dx[i] = 1.0f;
        nn_activation_backward (dx, dy, x, out, N, &attrs, &policy);
        for (int i = 0; i < N; i++)
          {
            float g = nn_relu_policy_grad (x[i], dy[i], attrs.slope, &policy);
            g_assert_cmpfloat_with_epsilon (dx[i], 1.0f + dy[i] * g, 1e-6);
          }
      }
}

/* The policy only changes the ReLU family: sigmoid and tanh keep their true derivative. */
static void
test_policy_ignored_by_smooth (void)
{
  const float x[4] = { -2.0f, -0.3f, 0.4f, 1.5f };
  const float dy[4] = { 1.0f, -2.0f, 0.5f, 3.0f };
  const NnGradPolicy proxy = { NN_GRAD_PROXY, 0.3f };
  const NnActKind kinds[2] = { NN_ACT_SIGMOID, NN_ACT_TANH };
  for (int k = 0; k < 2; k++)
    {
      NnActAttrs attrs = act_attrs (kinds[k], 0.0f);
      float out[4], dx[4] = { 0 };
      nn_activation_forward (out, x, 4, &attrs);
      nn_activation_backward (dx, dy, x, out, 4, &attrs, &proxy);
      for (int i = 0; i < 4; i++)
        {
          double want = kinds[k] == NN_ACT_SIGMOID ? out[i] * (1.0 - out[i])
                                                   : 1.0 - out[i] * out[i];
          g_assert_cmpfloat_with_epsilon (dx[i], dy[i] * want, 1e-6);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/activation/forward", test_forward);
  g_test_add_func ("/nn/activation/hard-forward", test_hard_forward);
  g_test_add_func ("/nn/activation/pow", test_pow_forward);
  g_test_add_func ("/nn/activation/smooth-forward", test_smooth_forward);
  g_test_add_func ("/nn/activation/sigmoid-silu-wide", test_sigmoid_silu_wide);
  g_test_add_func ("/nn/activation/backward-finite-differences", test_backward_fd);
  g_test_add_func ("/nn/activation/backward-accumulates", test_backward_accumulates);
  g_test_add_func ("/nn/activation/policy-points", test_policy_points);
  g_test_add_func ("/nn/activation/policy-nelu-alpha", test_policy_nelu_alpha);
  g_test_add_func ("/nn/activation/policy-backward-matches-rule",
                   test_policy_backward_matches_rule);
  g_test_add_func ("/nn/activation/policy-ignored-by-smooth", test_policy_ignored_by_smooth);
  return g_test_run ();
}
