/* SPDX-License-Identifier: MIT */
/* Optimizers against PyTorch's numbers and a double-precision LAMB twin; frozen parameters and
 * buffers untouched; learning-rate schedules at hand-computed points. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"

#define N_TRAINABLE 9
#define N_STEPS     3

/* The trainable values in the order fc.weight (4), fc.bias (1), bn.weight (2), bn.bias (2). */
static const float p0[N_TRAINABLE] = { 0.5f, -1.0f, 2.0f, 0.0f, 0.25f, 1.0f, 1.0f, 0.0f, -0.3f };
static const float grads[N_STEPS][N_TRAINABLE] = {
  { 0.1f, -0.2f, 0.3f, 0.0f, 0.5f, -0.05f, 0.02f, 1.0f, -0.4f },
  { 0.2f, -0.1f, -0.3f, 0.0f, 0.4f, 0.05f, 0.0f, -1.0f, -0.3f },
  { -0.1f, 0.3f, 0.1f, 0.0f, 0.3f, 0.1f, -0.02f, 0.5f, 0.2f },
};
static const float lrs[N_STEPS] = { 0.1f, 0.05f, 0.02f };

/* Reference values from PyTorch 1.13: one float32 tensor p = torch.tensor (p0) with
 * p.grad = torch.tensor (grads[t]), param_groups[0]['lr'] = lrs[t] and opt.step () for
 * t = 0, 1, 2, printed with %.9g after each step. The elementwise optimizers see the same
 * numbers whether the values form one tensor or four. */

/* torch.optim.SGD (lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01) */
static const float ref_sgd_nesterov[N_STEPS][N_TRAINABLE] = {
  { 0.480049998f, -0.960099995f, 1.93920004f, 0.0f, 0.154524997f, 1.00759995f, 0.994300008f,
    -0.189999998f, -0.223430008f },
  { 0.456341445f, -0.941182911f, 1.95289779f, 0.0f, 0.0960269496f, 1.00351274f, 0.992140412f,
    -0.135319501f, -0.178396255f },
  { 0.455119371f, -0.947387934f, 1.94823599f, 0.0f, 0.070758976f, 0.998941362f, 0.991924942f,
    -0.152617306f, -0.175156534f },
};
/* torch.optim.SGD (lr=0.1, momentum=0.9, weight_decay=0) */
static const float ref_sgd_momentum[N_STEPS][N_TRAINABLE] = {
  { 0.49000001f, -0.980000019f, 1.97000003f, 0.0f, 0.200000003f, 1.005f, 0.998000026f,
    -0.100000001f, -0.26000002f },
  { 0.475500017f, -0.966000021f, 1.97150004f, 0.0f, 0.157499999f, 1.00475001f, 0.997100055f,
    -0.0949999988f, -0.227000028f },
  { 0.472280025f, -0.966960013f, 1.97004008f, 0.0f, 0.136199996f, 1.00266004f, 0.997176051f,
    -0.103199996f, -0.219120026f },
};
/* torch.optim.SGD (lr=0.1, momentum=0, weight_decay=0.01) */
static const float ref_sgd_plain[N_STEPS][N_TRAINABLE] = {
  { 0.489499986f, -0.978999972f, 1.96800005f, 0.0f, 0.199750006f, 1.00399995f, 0.996999979f,
    -0.100000001f, -0.2597f },
  { 0.479255229f, -0.973510444f, 1.98201609f, 0.0f, 0.179650128f, 1.0009979f, 0.996501505f,
    -0.0499499999f, -0.244570151f },
  { 0.481159389f, -0.979315758f, 1.97961974f, 0.0f, 0.173614204f, 0.998797715f, 0.996702194f,
    -0.0599400103f, -0.248521239f },
};
/* torch.optim.AdamW (lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1) */
static const float ref_adamw[N_STEPS][N_TRAINABLE] = {
  { 0.395000011f, -0.889999986f, 1.88f, 0.0f, 0.147500008f, 1.09000003f, 0.890000045f,
    -0.0999999866f, -0.197000027f },
  { 0.344765902f, -0.838940978f, 1.87323153f, 0.0f, 0.0973562151f, 1.08191848f, 0.852047145f,
    -0.0968684033f, -0.146886274f },
  { 0.335674584f, -0.838902652f, 1.8673439f, 0.0f, 0.0779059678f, 1.06885076f, 0.852060378f,
    -0.100169174f, -0.137238279f },
};

typedef struct
{
  NnGraph *graph;
  int      fc, frozen, bn;
  int      tensors[4];       /* the trainable parameter indices, in p0's order */
  int      sizes[4];
  float   *grad_arena;       /* parallel to graph->data */
  float   *before;           /* copy of graph->data before the steps */
} Fixture;

/* input (4) -> fc: linear 4 -> 1 -> frozen: linear 1 -> 2 (frozen) -> bn: batch norm (2).
 * Trainable: fc.weight, fc.bias, bn.weight, bn.bias; frozen: the second linear layer and the
 * running statistics. */
static void
fixture_init (Fixture *f)
{
  f->graph = nn_graph_new ();
  int in = nn_graph_add_input (f->graph, "input", 4, 1, 1);
  f->fc = nn_graph_add_linear (f->graph, "fc", in, 1, true);
  f->frozen = nn_graph_add_linear (f->graph, "frozen", f->fc, 2, true);
  f->bn = nn_graph_add_batchnorm (f->graph, "bn", f->frozen);
  nn_graph_set_trainable (f->graph, f->frozen, false);
  f->tensors[0] = nn_graph_node_param (f->graph, f->fc, NN_PARAM_WEIGHT);
  f->tensors[1] = nn_graph_node_param (f->graph, f->fc, NN_PARAM_BIAS);
  f->tensors[2] = nn_graph_node_param (f->graph, f->bn, NN_PARAM_WEIGHT);
  f->tensors[3] = nn_graph_node_param (f->graph, f->bn, NN_PARAM_BIAS);
  size_t total = 0;
  for (int k = 0; k < 4; k++)
    {
      f->sizes[k] = (int) f->graph->params[f->tensors[k]].count;
      total += (size_t) f->sizes[k];
    }
  g_assert_cmpuint (total, ==, N_TRAINABLE);
  g_assert_cmpuint (nn_graph_count_trainable (f->graph), ==, N_TRAINABLE);

  /* Every value and gradient outside the trainable tensors is set to something an update
   * would change. */
  size_t n = f->graph->n_data;
  f->grad_arena = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    {
      f->graph->data[i] = 0.75f + 0.125f * (float) i;
      f->grad_arena[i] = 7.0f;
    }
  for (int k = 0, j = 0; k < 4; k++)
    {
      float *p = nn_graph_param_data (f->graph, f->tensors[k]);
      for (int e = 0; e < f->sizes[k]; e++)
        p[e] = p0[j++];
    }
  f->before = g_memdup2 (f->graph->data, sizeof (float) * n);
}

static void
fixture_clear (Fixture *f)
{
  nn_graph_free (f->graph);
  g_free (f->grad_arena);
  g_free (f->before);
}

static void
fixture_set_grads (Fixture     *f,
                   const float *g)
{
  for (int k = 0, j = 0; k < 4; k++)
    {
      float *d = f->grad_arena + f->graph->params[f->tensors[k]].offset;
      for (int e = 0; e < f->sizes[k]; e++)
        d[e] = g[j++];
    }
}

static void
fixture_get_values (const Fixture *f,
                    float         *out)
{
  for (int k = 0, j = 0; k < 4; k++)
    {
      const float *p = nn_graph_param_data (f->graph, f->tensors[k]);
      for (int e = 0; e < f->sizes[k]; e++)
        out[j++] = p[e];
    }
}

static bool
is_trainable_offset (const Fixture *f,
                     size_t         i)
{
  for (int k = 0; k < 4; k++)
    {
      const NnParam *p = &f->graph->params[f->tensors[k]];
      if (i >= p->offset && i < p->offset + p->count)
        return true;
    }
  return false;
}

static void
assert_untrainable_unchanged (const Fixture *f)
{
  size_t untouched = 0;
  for (size_t i = 0; i < f->graph->n_data; i++)
    if (!is_trainable_offset (f, i))
      {
        g_assert_cmpfloat (f->graph->data[i], ==, f->before[i]);
        untouched++;
      }
  /* frozen.weight (2), frozen.bias (2), bn running mean (2) and var (2) */
  g_assert_cmpuint (untouched, ==, 8);
}

static void
run_against_reference (const NnOptimizerConfig *config,
                       const float (*ref)[N_TRAINABLE])
{
  Fixture f;
  fixture_init (&f);
  NnOptimizer *opt = nn_optimizer_new (f.graph, config);
  g_assert_nonnull (opt);
  for (int t = 0; t < N_STEPS; t++)
    {
      fixture_set_grads (&f, grads[t]);
      nn_optimizer_step (opt, f.graph, f.grad_arena, lrs[t]);
      float got[N_TRAINABLE];
      fixture_get_values (&f, got);
      for (int j = 0; j < N_TRAINABLE; j++)
        g_assert_cmpfloat_with_epsilon (got[j], ref[t][j], 2e-6);
    }
  assert_untrainable_unchanged (&f);
  nn_optimizer_free (opt);
  fixture_clear (&f);
}

static void
test_sgd_nesterov (void)
{
  NnOptimizerConfig c = { .kind = NN_OPTIMIZER_SGD, .momentum = 0.9f, .nesterov = true,
                          .weight_decay = 0.01f };
  /* By hand, first step of element 0: d = 0.1 + 0.01 * 0.5 = 0.105, buf = d,
   * p = 0.5 - 0.1 * (d + 0.9 * buf) = 0.48005. */
  g_assert_cmpfloat_with_epsilon (ref_sgd_nesterov[0][0], 0.48005, 1e-7);
  run_against_reference (&c, ref_sgd_nesterov);
}

static void
test_sgd_momentum (void)
{
  NnOptimizerConfig c = { .kind = NN_OPTIMIZER_SGD, .momentum = 0.9f, .nesterov = false };
  /* By hand, element 0: buf1 = 0.1, p1 = 0.49; buf2 = 0.09 + 0.2 = 0.29,
   * p2 = 0.49 - 0.05 * 0.29 = 0.4755; buf3 = 0.261 - 0.1 = 0.161, p3 = 0.4755 - 0.00322. */
  g_assert_cmpfloat_with_epsilon (ref_sgd_momentum[2][0], 0.47228, 1e-7);
  run_against_reference (&c, ref_sgd_momentum);
}

static void
test_sgd_plain (void)
{
  NnOptimizerConfig c = { .kind = NN_OPTIMIZER_SGD, .momentum = 0.0f, .weight_decay = 0.01f };
  run_against_reference (&c, ref_sgd_plain);
}

static void
test_adamw (void)
{
  NnOptimizerConfig c = { .kind = NN_OPTIMIZER_ADAMW, .weight_decay = 0.1f, .beta1 = 0.9f,
                          .beta2 = 0.999f, .eps = 1e-8f };
  /* By hand, first step of element 0: decay 0.5 * (1 - 0.01) = 0.495; m_hat = g, v_hat = g^2,
   * so the step is lr * sign (g): 0.495 - 0.1 = 0.395. */
  g_assert_cmpfloat_with_epsilon (ref_adamw[0][0], 0.395, 1e-7);
  run_against_reference (&c, ref_adamw);
}

/* LAMB in double precision, per tensor: m, v as Adam; r = m_hat / (sqrt (v_hat) + eps) + wd p;
 * p -= lr * (||p|| / ||r||) * r, the ratio 1 when a norm is 0. */
static void
lamb_twin (double                  *p,
           double                  *m,
           double                  *v,
           const float             *g,
           int                      n,
           int                      t,
           double                   lr,
           const NnOptimizerConfig *c)
{
  double b1 = c->beta1, b2 = c->beta2, eps = c->eps, wd = c->weight_decay;
  double r[N_TRAINABLE], pn = 0, rn = 0;
  for (int i = 0; i < n; i++)
    {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * (double) g[i] * g[i];
      double mh = m[i] / (1 - pow (b1, t)), vh = v[i] / (1 - pow (b2, t));
      r[i] = mh / (sqrt (vh) + eps) + wd * p[i];
      pn += p[i] * p[i];
      rn += r[i] * r[i];
    }
  double trust = pn > 0 && rn > 0 ? sqrt (pn) / sqrt (rn) : 1.0;
  for (int i = 0; i < n; i++)
    p[i] -= lr * trust * r[i];
}

static void
test_lamb (void)
{
  NnOptimizerConfig c = { .kind = NN_OPTIMIZER_LAMB, .weight_decay = 0.01f, .beta1 = 0.9f,
                          .beta2 = 0.999f, .eps = 1e-6f };
  Fixture f;
  fixture_init (&f);
  /* bn.bias starts at zero: its trust ratio is 1 on the first step. */
  float *bn_bias = nn_graph_param_data (f.graph, f.tensors[3]);
  bn_bias[0] = bn_bias[1] = 0.0f;
  double p[N_TRAINABLE], m[N_TRAINABLE] = { 0 }, v[N_TRAINABLE] = { 0 };
  float start[N_TRAINABLE];
  fixture_get_values (&f, start);
  for (int j = 0; j < N_TRAINABLE; j++)
    p[j] = start[j];

  NnOptimizer *opt = nn_optimizer_new (f.graph, &c);
  for (int t = 0; t < N_STEPS; t++)
    {
      fixture_set_grads (&f, grads[t]);
      nn_optimizer_step (opt, f.graph, f.grad_arena, lrs[t]);
      for (int k = 0, j = 0; k < 4; j += f.sizes[k], k++)
        lamb_twin (p + j, m + j, v + j, grads[t] + j, f.sizes[k], t + 1, lrs[t], &c);
      float got[N_TRAINABLE];
      fixture_get_values (&f, got);
      for (int j = 0; j < N_TRAINABLE; j++)
        g_assert_cmpfloat_with_epsilon (got[j], p[j], 2e-6);
      if (t == 0)
        {
          /* By hand: r = sign (g) (up to eps) on the first step, trust 1 for the zero tensor. */
          g_assert_cmpfloat_with_epsilon (got[7], -0.1, 1e-6);
          g_assert_cmpfloat_with_epsilon (got[8], 0.1, 1e-6);
          /* fc.bias, one element: ||p|| / ||r|| = 0.25 / (1 + 0.0025), r = 1.0025. */
          g_assert_cmpfloat_with_epsilon (got[4], 0.25 - 0.1 * 0.25, 1e-6);
        }
    }
  assert_untrainable_unchanged (&f);
  nn_optimizer_free (opt);
  fixture_clear (&f);
}

/* Freezing a tensor after some steps takes effect at the next step. */
static void
test_freeze_between_steps (void)
{
  NnOptimizerConfig c;
  g_assert_true (nn_optimizer_parse ("adamw", &c, NULL));
  Fixture f;
  fixture_init (&f);
  NnOptimizer *opt = nn_optimizer_new (f.graph, &c);
  fixture_set_grads (&f, grads[0]);
  nn_optimizer_step (opt, f.graph, f.grad_arena, 0.1f);
  float *w = nn_graph_param_data (f.graph, f.tensors[0]);
  g_assert_cmpfloat (w[0], !=, p0[0]);
  float w0 = w[0];
  nn_graph_set_trainable (f.graph, f.fc, false);
  nn_optimizer_step (opt, f.graph, f.grad_arena, 0.1f);
  g_assert_cmpfloat (w[0], ==, w0);
  g_assert_cmpfloat (nn_graph_param_data (f.graph, f.tensors[2])[0], !=, p0[5]);
  nn_optimizer_free (opt);
  fixture_clear (&f);
}

static void
test_parse (void)
{
  NnOptimizerConfig c;
  NnError err = { 0 };
  g_assert_true (nn_optimizer_parse ("sgd", &c, &err));
  g_assert_cmpint (c.kind, ==, NN_OPTIMIZER_SGD);
  g_assert_cmpfloat (c.momentum, ==, 0.9f);
  g_assert_true (c.nesterov);
  g_assert_cmpfloat (c.weight_decay, ==, 5e-4f);

  g_assert_true (nn_optimizer_parse ("adamw", &c, &err));
  g_assert_cmpint (c.kind, ==, NN_OPTIMIZER_ADAMW);
  g_assert_cmpfloat (c.beta1, ==, 0.9f);
  g_assert_cmpfloat (c.beta2, ==, 0.999f);
  g_assert_cmpfloat (c.eps, ==, 1e-8f);
  g_assert_cmpfloat (c.weight_decay, ==, 0.01f);

  g_assert_true (nn_optimizer_parse ("lamb", &c, &err));
  g_assert_cmpint (c.kind, ==, NN_OPTIMIZER_LAMB);
  g_assert_cmpfloat (c.beta1, ==, 0.9f);
  g_assert_cmpfloat (c.beta2, ==, 0.999f);
  g_assert_cmpfloat (c.weight_decay, ==, 0.01f);

  c.kind = NN_OPTIMIZER_LAMB;
  g_assert_false (nn_optimizer_parse ("adam", &c, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  g_assert_nonnull (strstr (err.message, "'adam'"));
  g_assert_cmpint (c.kind, ==, NN_OPTIMIZER_LAMB);
  g_assert_false (nn_optimizer_parse ("SGD ", &c, NULL));
}

static void
test_schedule_constant (void)
{
  NnSchedule s = { .kind = NN_SCHEDULE_CONSTANT };
  g_assert_cmpfloat (nn_schedule_lr (&s, 0.3f, 0, 100), ==, 0.3f);
  g_assert_cmpfloat (nn_schedule_lr (&s, 0.3f, 99, 100), ==, 0.3f);
}

static void
test_schedule_cosine (void)
{
  NnSchedule s = { .kind = NN_SCHEDULE_COSINE };
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.4f, 0, 100), 0.4, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.4f, 50, 100), 0.2, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.4f, 100, 100), 0.0, 1e-7);
  /* (1 + cos (pi / 4)) / 2 = 0.853553 */
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.4f, 25, 100), 0.4 * 0.8535533906, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.4f, 75, 100), 0.4 * 0.1464466094, 1e-7);
}

static void
test_schedule_step (void)
{
  NnSchedule s = { .kind = NN_SCHEDULE_STEP, .step_size = 10, .gamma = 0.5f };
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.8f, 0, 100), 0.8, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.8f, 9, 100), 0.8, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.8f, 10, 100), 0.4, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.8f, 29, 100), 0.2, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.8f, 30, 100), 0.1, 1e-7);
}

static void
test_schedule_warmup (void)
{
  /* 10 warm-up steps rising linearly to the base rate, then cosine over the other 100. */
  NnSchedule s = { .kind = NN_SCHEDULE_COSINE, .warmup = 10 };
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.5f, 0, 110), 0.05, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.5f, 4, 110), 0.25, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.5f, 9, 110), 0.5, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.5f, 10, 110), 0.5, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.5f, 60, 110), 0.25, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&s, 0.5f, 110, 110), 0.0, 1e-7);

  NnSchedule st = { .kind = NN_SCHEDULE_STEP, .step_size = 5, .gamma = 0.1f, .warmup = 2 };
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&st, 1.0f, 0, 20), 0.5, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&st, 1.0f, 6, 20), 1.0, 1e-7);
  g_assert_cmpfloat_with_epsilon (nn_schedule_lr (&st, 1.0f, 7, 20), 0.1, 1e-7);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/optimizer/sgd-nesterov-torch", test_sgd_nesterov);
  g_test_add_func ("/nn/optimizer/sgd-momentum-torch", test_sgd_momentum);
  g_test_add_func ("/nn/optimizer/sgd-plain-torch", test_sgd_plain);
  g_test_add_func ("/nn/optimizer/adamw-torch", test_adamw);
  g_test_add_func ("/nn/optimizer/lamb-double-twin", test_lamb);
  g_test_add_func ("/nn/optimizer/freeze-between-steps", test_freeze_between_steps);
  g_test_add_func ("/nn/optimizer/parse", test_parse);
  g_test_add_func ("/nn/optimizer/schedule-constant", test_schedule_constant);
  g_test_add_func ("/nn/optimizer/schedule-cosine", test_schedule_cosine);
  g_test_add_func ("/nn/optimizer/schedule-step", test_schedule_step);
  g_test_add_func ("/nn/optimizer/schedule-warmup", test_schedule_warmup);
  return g_test_run ();
}
