/* SPDX-License-Identifier: MIT */
/* The training loop and evaluation on a small synthetic, linearly separable image set:
 * learning, determinism, cancellation, NaN detection, evaluation against a per-sample twin. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "nn.h"

#define SIDE 8

/* C x 8 x 8 images with noise in [0.2, 0.8); class 0 has its left (top when `rows`) half
 * brightened by 0.15, class 1 the other half: single pixels overlap between the classes,
 * half-image means do not. */
static NnDataset *
make_halves_full (int      n,
                  uint64_t seed,
                  int      channels,
                  bool     rows)
{
  NnDataset *ds = nn_dataset_new (n, channels, SIDE, SIDE, 2);
  g_assert_nonnull (ds);
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (int i = 0; i < n; i++)
    {
      int label = (int) nn_rng_below (&rng, 2);
      ds->labels[i] = label;
      float *img = ds->images + (size_t) i * channels * SIDE * SIDE;
      for (int c = 0; c < channels; c++)
        for (int y = 0; y < SIDE; y++)
          for (int x = 0; x < SIDE; x++)
            {
              int pos = rows ? y : x;
              bool bright = label == 0 ? pos < SIDE / 2 : pos >= SIDE / 2;
              img[(c * SIDE + y) * SIDE + x] = 0.2f + 0.6f * nn_rng_uniform (&rng)
                                               + (bright ? 0.15f : 0.0f);
            }
    }
  return ds;
}

static NnDataset *
make_halves (int      n,
             uint64_t seed)
{
  return make_halves_full (n, seed, 1, false);
}

/* conv 3x3 (4) -> BN -> ReLU -> maxpool 2 -> flatten -> linear (2), He-initialised. The
 * training code reads only graph, mean and std of the model, so it lives on the stack. */
static void
model_init_full (NnModel  *model,
                 uint64_t  seed,
                 int       channels)
{
  NnGraph *g = nn_graph_new ();
  int x = nn_graph_add_input (g, "input", channels, SIDE, SIDE);
  x = nn_graph_add_conv2d (g, "conv1", x, 4, 3, 1, 1, 1, 1, false);
  x = nn_graph_add_batchnorm (g, "bn1", x);
  x = nn_graph_add_relu (g, "relu1", x);
  x = nn_graph_add_maxpool (g, "pool1", x, 2, 2, 0);
  x = nn_graph_add_flatten (g, "flatten", x);
  nn_graph_add_linear (g, "fc", x, 2, true);
  NnRng rng;
  nn_rng_init (&rng, seed);
  nn_graph_init_params (g, &rng);
  memset (model, 0, sizeof *model);
  model->graph = g;
  model->n_classes = 2;
  for (int c = 0; c < channels; c++)
    {
      model->mean[c] = 0.5f;
      model->std[c] = 0.25f;
    }
  model->test_accuracy = -1.0;
}

static void
model_init (NnModel  *model,
            uint64_t  seed)
{
  model_init_full (model, seed, 1);
}

static void
small_config (NnTrainConfig *config)
{
  nn_train_config_init (config);
  config->epochs = 3;
  config->batch = 16;
  config->lr = 0.05f;
  config->seed = 42;
}

typedef struct
{
  int             steps;
  int             epochs_done;
  long            last_step;
  long            total_steps;
  float           first_lr;
  NnTrainProgress last_epoch;
  int             cancel_at;  /* set *cancel after this many steps; 0: never */
  atomic_int     *cancel;
} Recorder;

static void
record (const NnTrainProgress *p,
        void                  *user_data)
{
  Recorder *r = user_data;
  if (p->epoch_done)
    {
      r->epochs_done++;
      g_assert_cmpint (p->step, ==, r->last_step);
      r->last_epoch = *p;
      return;
    }
  r->steps++;
  g_assert_cmpint (p->step, ==, r->last_step + 1);
  g_assert_cmpint (p->epoch, ==, r->epochs_done);
  g_assert_true (isfinite (p->loss));
  g_assert_cmpfloat (p->accuracy, >=, 0.0f);
  g_assert_cmpfloat (p->accuracy, <=, 1.0f);
  if (p->step == 1)
    r->first_lr = p->lr;
  r->last_step = p->step;
  r->total_steps = p->total_steps;
  if (r->cancel_at > 0 && r->steps == r->cancel_at)
    atomic_store (r->cancel, 1);
}

static void
test_learns_separable (void)
{
  NnDataset *train = make_halves (256, 1);
  NnDataset *test = make_halves (100, 2);
  NnModel model;
  model_init (&model, 7);
  NnTrainConfig config;
  small_config (&config);
  Recorder rec = { 0 };
  NnError err = { 0 };
  g_assert_true (nn_train (&model, train, test, &config, record, &rec, NULL, &err));

  /* 256 / 16 = 16 steps per epoch. */
  g_assert_cmpint (rec.steps, ==, 48);
  g_assert_cmpint (rec.total_steps, ==, 48);
  g_assert_cmpint (rec.epochs_done, ==, 3);
  g_assert_cmpfloat (rec.first_lr, ==, 0.05f);
  g_assert_cmpfloat (rec.last_epoch.test_accuracy, >, 0.95f);
  g_assert_cmpfloat (rec.last_epoch.train_accuracy, >, 0.9f);

  NnEvalResult res;
  g_assert_true (nn_evaluate (&model, test, 16, &res, NULL, &err));
  g_assert_cmpint (res.n, ==, 100);
  g_assert_cmpfloat (res.accuracy, >, 0.95);
  g_assert_cmpfloat_with_epsilon (res.accuracy, rec.last_epoch.test_accuracy, 1e-6);
  g_assert_cmpfloat_with_epsilon (res.loss, rec.last_epoch.test_loss, 1e-6);
  /* Two classes: the log-odds are z0 - z1 and z1 - z0; the predicted class is the positive one,
   * and each sample's true class is kept. */
  int predicted1 = 0, confusion1 = res.confusion[1] + res.confusion[3];
  for (int i = 0; i < res.n; i++)
    {
      g_assert_cmpint (res.labels[i], ==, test->labels[i]);
      g_assert_cmpfloat (fabsf (res.scores[2 * i] + res.scores[2 * i + 1]), <, 1e-5f);
      predicted1 += res.scores[2 * i + 1] > 0.0f;
    }
  g_assert_cmpint (predicted1, ==, confusion1);
  nn_eval_result_clear (&res);

  nn_graph_free (model.graph);
  nn_dataset_free (train);
  nn_dataset_free (test);
}

static NnGraph *
train_copy (uint64_t seed,
            bool     augment)
{
  NnDataset *train = make_halves (96, 3);
  NnModel model;
  model_init (&model, 11);
  NnTrainConfig config;
  small_config (&config);
  config.epochs = 2;
  config.augment = augment;
  config.seed = seed;
  config.optimizer.kind = NN_OPTIMIZER_ADAMW;
  config.optimizer.weight_decay = 0.01f;
  config.lr = 0.01f;
  g_assert_true (nn_train (&model, train, NULL, &config, NULL, NULL, NULL, NULL));
  nn_dataset_free (train);
  return model.graph;
}

static void
test_deterministic (void)
{
  NnGraph *a = train_copy (5, true);
  NnGraph *b = train_copy (5, true);
  NnGraph *c = train_copy (6, true);
  NnGraph *d = train_copy (5, false);
  g_assert_cmpuint (a->n_data, ==, b->n_data);
  /* Bit-identical weights and BN running statistics. */
  g_assert_cmpmem (a->data, sizeof (float) * a->n_data, b->data, sizeof (float) * b->n_data);
  /* Another seed (another order) and no augmentation both give other weights. */
  g_assert_true (memcmp (a->data, c->data, sizeof (float) * a->n_data) != 0);
  g_assert_true (memcmp (a->data, d->data, sizeof (float) * a->n_data) != 0);
  nn_graph_free (a);
  nn_graph_free (b);
  nn_graph_free (c);
  nn_graph_free (d);
}

/* RGB with augmentation (shifts and mirror images): top/bottom halves survive both, so the
 * net still learns them, and two runs agree bit for bit. */
static void
test_augment_rgb (void)
{
  NnDataset *train = make_halves_full (192, 1, 3, true);
  NnDataset *test = make_halves_full (60, 2, 3, true);
  NnGraph *graphs[2];
  for (int run = 0; run < 2; run++)
    {
      NnModel model;
      model_init_full (&model, 3, 3);
      NnTrainConfig config;
      small_config (&config);
      config.augment = true;
      Recorder rec = { 0 };
      g_assert_true (nn_train (&model, train, test, &config, record, &rec, NULL, NULL));
      g_assert_cmpfloat (rec.last_epoch.test_accuracy, >, 0.9f);
      graphs[run] = model.graph;
    }
  g_assert_cmpmem (graphs[0]->data, sizeof (float) * graphs[0]->n_data, graphs[1]->data,
                   sizeof (float) * graphs[1]->n_data);
  nn_graph_free (graphs[0]);
  nn_graph_free (graphs[1]);
  nn_dataset_free (train);
  nn_dataset_free (test);
}

static void
test_cancel (void)
{
  NnDataset *train = make_halves (256, 1);
  NnModel model;
  model_init (&model, 7);
  NnTrainConfig config;
  small_config (&config);
  atomic_int cancel = 0;
  Recorder rec = { .cancel_at = 3, .cancel = &cancel };
  NnError err = { 0 };
  g_assert_false (nn_train (&model, train, NULL, &config, record, &rec, &cancel, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  g_assert_cmpint (rec.steps, ==, 3);
  g_assert_cmpint (rec.last_step, ==, 3);
  g_assert_cmpint (rec.epochs_done, ==, 0);

  /* Already set: not a single step, the weights stay as they are. */
  float *before = g_memdup2 (model.graph->data, sizeof (float) * model.graph->n_data);
  Recorder none = { 0 };
  nn_error_clear (&err);
  g_assert_false (nn_train (&model, train, NULL, &config, record, &none, &cancel, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  g_assert_cmpint (none.steps, ==, 0);
  g_assert_cmpmem (before, sizeof (float) * model.graph->n_data, model.graph->data,
                   sizeof (float) * model.graph->n_data);

  g_free (before);
  nn_graph_free (model.graph);
  nn_dataset_free (train);
}

static void
test_nan_loss (void)
{
  NnDataset *train = make_halves (64, 1);
  NnModel model;
  model_init (&model, 7);
  int fc = nn_graph_find (model.graph, "fc");
  nn_graph_param_data (model.graph, nn_graph_node_param (model.graph, fc, NN_PARAM_WEIGHT))[0]
    = NAN;
  NnTrainConfig config;
  small_config (&config);
  Recorder rec = { 0 };
  NnError err = { 0 };
  g_assert_false (nn_train (&model, train, NULL, &config, record, &rec, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_NUMERIC);
  g_assert_nonnull (strstr (err.message, "NaN"));
  g_assert_cmpint (rec.steps, ==, 0);
  nn_graph_free (model.graph);
  nn_dataset_free (train);
}

/* Drop-last: 50 samples in batches of 16 give 3 steps per epoch; a set smaller than the batch
 * trains with one batch of all of it. */
static void
test_step_counts (void)
{
  NnDataset *train = make_halves (50, 1);
  NnDataset *tiny = make_halves (10, 2);
  NnModel model;
  model_init (&model, 7);
  NnTrainConfig config;
  small_config (&config);
  config.epochs = 2;
  Recorder rec = { 0 };
  g_assert_true (nn_train (&model, train, NULL, &config, record, &rec, NULL, NULL));
  g_assert_cmpint (rec.steps, ==, 6);
  g_assert_cmpint (rec.total_steps, ==, 6);
  g_assert_cmpint (rec.epochs_done, ==, 2);
  /* Without a test set the test fields say "unknown". */
  g_assert_cmpfloat (rec.last_epoch.test_accuracy, <, 0.0f);

  config.batch = 64;
  Recorder small = { 0 };
  g_assert_true (nn_train (&model, tiny, NULL, &config, record, &small, NULL, NULL));
  g_assert_cmpint (small.steps, ==, 2);
  nn_graph_free (model.graph);
  nn_dataset_free (train);
  nn_dataset_free (tiny);
}

/* Frozen layers keep their weights; the policy is set on the model's ReLUs. */
static void
test_frozen_and_policy (void)
{
  NnDataset *train = make_halves (64, 1);
  NnModel model;
  model_init (&model, 7);
  NnGraph *g = model.graph;
  int conv = nn_graph_find (g, "conv1");
  int fc = nn_graph_find (g, "fc");
  nn_graph_set_trainable (g, conv, false);
  const NnParam *cw = &g->params[nn_graph_node_param (g, conv, NN_PARAM_WEIGHT)];
  const NnParam *fw = &g->params[nn_graph_node_param (g, fc, NN_PARAM_WEIGHT)];
  float *conv_before = g_memdup2 (g->data + cw->offset, sizeof (float) * cw->count);
  float *fc_before = g_memdup2 (g->data + fw->offset, sizeof (float) * fw->count);
  NnTrainConfig config;
  small_config (&config);
  config.epochs = 1;
  config.set_policy = true;
  config.policy = (NnGradPolicy) { .kind = NN_GRAD_PROXY, .beta = 0.3f };
  g_assert_true (nn_train (&model, train, NULL, &config, NULL, NULL, NULL, NULL));
  g_assert_cmpmem (conv_before, sizeof (float) * cw->count, g->data + cw->offset,
                   sizeof (float) * cw->count);
  g_assert_true (memcmp (fc_before, g->data + fw->offset, sizeof (float) * fw->count) != 0);
  const NnActAttrs *act = &g->nodes[nn_graph_find (g, "relu1")].attrs.act;
  g_assert_cmpint (act->policy.kind, ==, NN_GRAD_PROXY);
  g_assert_cmpfloat (act->policy.beta, ==, 0.3f);
  g_free (conv_before);
  g_free (fc_before);
  nn_graph_free (g);
  nn_dataset_free (train);
}

/* One training step of input (1x2x2) -> flatten -> fc1 (5) -> relu1 -> fc2 (2), plain SGD
 * (no momentum, no weight decay, constant lr) over the whole set as one batch, with `policy`
 * on the ReLU: the first step's loss goes to *loss, the parameters after it to after[] (as many
 * as graph->n_data); the parameters before it to before[]. */
#define PG_N   8
#define PG_IN  4
#define PG_HID 5

static void
proxy_step (const NnDataset    *ds,
            const NnGradPolicy *policy,
            float              *before,
            float              *after,
            float              *loss)
{
  NnGraph *g = nn_graph_new ();
  int x = nn_graph_add_input (g, "input", 1, 2, 2);
  x = nn_graph_add_flatten (g, "flatten", x);
  x = nn_graph_add_linear (g, "fc1", x, PG_HID, true);
  x = nn_graph_add_relu (g, "relu1", x);
  nn_graph_add_linear (g, "fc2", x, 2, true);
  NnRng rng;
  nn_rng_init (&rng, 5);
  nn_graph_init_params (g, &rng);
  /* He initialisation leaves the biases at zero: give fc1's some spread so that the signs of
   * its pre-activations are mixed over the batch. */
  float *b1 = g->data + g->params[nn_graph_node_param (g, nn_graph_find (g, "fc1"),
                                                       NN_PARAM_BIAS)].offset;
  for (int j = 0; j < PG_HID; j++)
    b1[j] = 0.3f * (float) (j - 2);
  g_assert_cmpuint (g->n_data, ==, PG_HID * PG_IN + PG_HID + 2 * PG_HID + 2);
  memcpy (before, g->data, sizeof (float) * g->n_data);
  NnModel model;
  memset (&model, 0, sizeof model);
  model.graph = g;
  model.n_classes = 2;
  model.std[0] = 1.0f;
  model.test_accuracy = -1.0;

  NnTrainConfig config;
  nn_train_config_init (&config);
  config.epochs = 1;
  config.batch = PG_N;
  config.lr = 0.1f;
  config.optimizer = (NnOptimizerConfig) { .kind = NN_OPTIMIZER_SGD };
  config.schedule = (NnSchedule) { .kind = NN_SCHEDULE_CONSTANT };
  config.bn_batches = 0;
  config.set_policy = true;
  config.policy = *policy;
  Recorder rec = { 0 };
  g_assert_true (nn_train (&model, ds, NULL, &config, record, &rec, NULL, NULL));
  g_assert_cmpint (rec.steps, ==, 1);
  g_assert_cmpfloat (rec.first_lr, ==, 0.1f);
  *loss = rec.last_epoch.train_loss;
  memcpy (after, g->data, sizeof (float) * g->n_data);
  nn_graph_free (g);
}

/* The step of proxy_step by the definition, in double: the gradient of the mean cross-entropy
 * with the ReLU's derivative 1 above zero and `slope` at or below it (0: exact; beta:
 * ProxyGrad), the forward pass a plain ReLU either way. w1 (HID x IN), b1, w2 (2 x HID), b2 are
 * the parameters before the step; the updated ones go to the same layout in want[]. Returns
 * the loss; *negative counts the pre-activations <= 0 over the batch. */
static double
proxy_step_definition (const NnDataset *ds,
                       const float     *w1,
                       const float     *b1,
                       const float     *w2,
                       const float     *b2,
                       double           slope,
                       double           lr,
                       double          *want,
                       int             *negative)
{
  double g1[PG_HID * PG_IN] = { 0 }, gb1[PG_HID] = { 0 }, g2[2 * PG_HID] = { 0 }, gb2[2] = { 0 };
  double loss = 0.0;
  *negative = 0;
  for (int b = 0; b < PG_N; b++)
    {
      const float *in = ds->images + b * PG_IN;
      double z[PG_HID], h[PG_HID], o[2];
      for (int j = 0; j < PG_HID; j++)
        {
          z[j] = b1[j];
          for (int i = 0; i < PG_IN; i++)
            z[j] += (double) w1[j * PG_IN + i] * in[i];
          h[j] = z[j] > 0.0 ? z[j] : 0.0;
          *negative += z[j] <= 0.0;
        }
      for (int k = 0; k < 2; k++)
        {
          o[k] = b2[k];
          for (int j = 0; j < PG_HID; j++)
            o[k] += (double) w2[k * PG_HID + j] * h[j];
        }
      double m = fmax (o[0], o[1]);
      double lse = m + log (exp (o[0] - m) + exp (o[1] - m));
      loss += (lse - o[ds->labels[b]]) / PG_N;
      double dout[2];
      for (int k = 0; k < 2; k++)
        {
          dout[k] = (exp (o[k] - lse) - (k == ds->labels[b])) / PG_N;
          gb2[k] += dout[k];
          for (int j = 0; j < PG_HID; j++)
            g2[k * PG_HID + j] += dout[k] * h[j];
        }
      for (int j = 0; j < PG_HID; j++)
        {
          double dz = (dout[0] * w2[j] + dout[1] * w2[PG_HID + j]) * (z[j] > 0.0 ? 1.0 : slope);
          gb1[j] += dz;
          for (int i = 0; i < PG_IN; i++)
            g1[j * PG_IN + i] += dz * in[i];
        }
    }
  double *p = want;
  for (int i = 0; i < PG_HID * PG_IN; i++)
    *p++ = w1[i] - lr * g1[i];
  for (int j = 0; j < PG_HID; j++)
    *p++ = b1[j] - lr * gb1[j];
  for (int i = 0; i < 2 * PG_HID; i++)
    *p++ = w2[i] - lr * g2[i];
  for (int k = 0; k < 2; k++)
    *p++ = b2[k] - lr * gb2[k];
  return loss;
}

/* Training with proxygrad:beta is the definition: the same forward pass (the same loss) as
 * exact, and parameter updates from the gradient with the ReLU's derivative beta below zero;
 * the exact policy's derivative 0 there gives a different step, so the check can tell them
 * apart. */
static void
test_proxygrad_step (void)
{
  NnDataset *ds = nn_dataset_new (PG_N, 1, 2, 2, 2);
  NnRng rng;
  nn_rng_init (&rng, 3);
  for (int i = 0; i < PG_N * PG_IN; i++)
    ds->images[i] = 2.0f * nn_rng_uniform (&rng) - 1.0f;
  for (int b = 0; b < PG_N; b++)
    ds->labels[b] = b % 2;

  const int n_params = PG_HID * PG_IN + PG_HID + 2 * PG_HID + 2;
  const NnGradPolicy exact = { NN_GRAD_EXACT, 0.0f }, proxy = { NN_GRAD_PROXY, 0.25f };
  float before[64], after_exact[64], after_proxy[64], loss_exact, loss_proxy;
  proxy_step (ds, &exact, before, after_exact, &loss_exact);
  proxy_step (ds, &proxy, before, after_proxy, &loss_proxy);
  g_assert_cmpfloat (loss_proxy, ==, loss_exact);

  /* The parameters lie in the graph's order: fc1 weight, fc1 bias, fc2 weight, fc2 bias. */
  const float *w1 = before, *b1 = w1 + PG_HID * PG_IN, *w2 = b1 + PG_HID, *b2 = w2 + 2 * PG_HID;
  double want_exact[64], want_proxy[64];
  int negative;
  double loss = proxy_step_definition (ds, w1, b1, w2, b2, 0.0, 0.1, want_exact, &negative);
  g_assert_cmpfloat_with_epsilon (loss_exact, loss, 1e-5);
  g_assert_cmpint (negative, >, PG_N * PG_HID / 4);
  g_assert_cmpint (negative, <, PG_N * PG_HID * 3 / 4);
  proxy_step_definition (ds, w1, b1, w2, b2, 0.25, 0.1, want_proxy, &negative);
  double moved_apart = 0.0;
  for (int i = 0; i < n_params; i++)
    {
      g_assert_cmpfloat_with_epsilon (after_exact[i], want_exact[i], 1e-5);
      g_assert_cmpfloat_with_epsilon (after_proxy[i], want_proxy[i], 1e-5);
      moved_apart = fmax (moved_apart, fabs (want_proxy[i] - want_exact[i]));
    }
  g_assert_cmpfloat (moved_apart, >, 1e-3);
  nn_dataset_free (ds);
}

/* Per-sample twin of nn_evaluate: one batch-1 forward pass per image, the loss as
 * logsumexp - logit[label] in double. */
static void
evaluate_twin (NnModel         *model,
               const NnDataset *ds,
               int             *confusion,
               double          *accuracy,
               double          *loss)
{
  NnContext *ctx = nn_context_new (model->graph, 1, 0, NULL);
  g_assert_nonnull (ctx);
  int out = nn_graph_output (model->graph);
  int hits = 0;
  double sum = 0.0;
  for (int i = 0; i < ds->n; i++)
    {
      float *in = nn_context_input (ctx);
      for (int p = 0; p < SIDE * SIDE; p++)
        in[p] = (ds->images[i * SIDE * SIDE + p] - model->mean[0]) / model->std[0];
      nn_context_forward (ctx, -1);
      const float *z = nn_context_output (ctx, out);
      int pred = z[1] > z[0] ? 1 : 0;
      double mx = fmax (z[0], z[1]);
      sum += mx + log (exp (z[0] - mx) + exp (z[1] - mx)) - z[ds->labels[i]];
      confusion[ds->labels[i] * 2 + pred]++;
      hits += pred == ds->labels[i];
    }
  *accuracy = (double) hits / ds->n;
  *loss = sum / ds->n;
  nn_context_free (ctx);
}

static void
test_evaluate_partial_batches (void)
{
  NnDataset *train = make_halves (64, 1);
  NnDataset *test = make_halves (101, 4);
  NnModel model;
  model_init (&model, 9);
  /* A single low-rate epoch: BN running statistics away from their defaults, accuracy far
   * from both 0 and 1, so counting errors would show. */
  NnTrainConfig config;
  small_config (&config);
  config.epochs = 1;
  config.lr = 0.002f;
  config.optimizer.momentum = 0.0f;
  config.optimizer.nesterov = false;
  g_assert_true (nn_train (&model, train, NULL, &config, NULL, NULL, NULL, NULL));

  int twin[4] = { 0 };
  double twin_acc, twin_loss;
  evaluate_twin (&model, test, twin, &twin_acc, &twin_loss);
  int counts[2] = { 0 };
  for (int i = 0; i < test->n; i++)
    counts[test->labels[i]]++;

  const int batches[] = { 1, 7, 32, 100, 101, 500 };
  for (size_t b = 0; b < G_N_ELEMENTS (batches); b++)
    {
      NnEvalResult res;
      NnError err = { 0 };
      g_assert_true (nn_evaluate (&model, test, batches[b], &res, NULL, &err));
      g_assert_cmpint (res.n, ==, 101);
      g_assert_cmpint (res.n_classes, ==, 2);
      int sum = 0, diag = 0;
      for (int t = 0; t < 2; t++)
        {
          g_assert_cmpint (res.confusion[t * 2] + res.confusion[t * 2 + 1], ==, counts[t]);
          diag += res.confusion[t * 3];
          for (int p = 0; p < 2; p++)
            {
              sum += res.confusion[t * 2 + p];
              g_assert_cmpint (res.confusion[t * 2 + p], ==, twin[t * 2 + p]);
            }
        }
      g_assert_cmpint (sum, ==, 101);
      g_assert_cmpfloat_with_epsilon (res.accuracy, (double) diag / 101, 1e-12);
      g_assert_cmpfloat_with_epsilon (res.accuracy, twin_acc, 1e-12);
      g_assert_cmpfloat_with_epsilon (res.loss, twin_loss, 1e-5);
      nn_eval_result_clear (&res);
      g_assert_null (res.confusion);
    }
  nn_graph_free (model.graph);
  nn_dataset_free (train);
  nn_dataset_free (test);
}

static void
test_evaluate_cancel (void)
{
  NnDataset *test = make_halves (40, 4);
  NnModel model;
  model_init (&model, 9);
  atomic_int cancel = 1;
  NnEvalResult res;
  NnError err = { 0 };
  g_assert_false (nn_evaluate (&model, test, 8, &res, &cancel, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  g_assert_null (res.confusion);
  nn_graph_free (model.graph);
  nn_dataset_free (test);
}

static void
test_bad_input (void)
{
  NnModel model;
  model_init (&model, 7);
  NnTrainConfig config;
  small_config (&config);
  NnError err = { 0 };

  NnDataset *wrong = nn_dataset_new (4, 1, SIDE, SIDE + 1, 2);
  g_assert_false (nn_train (&model, wrong, NULL, &config, NULL, NULL, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  NnEvalResult res;
  g_assert_false (nn_evaluate (&model, wrong, 4, &res, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);

  NnDataset *labels = make_halves (8, 1);
  labels->labels[5] = 2;
  nn_error_clear (&err);
  g_assert_false (nn_train (&model, labels, NULL, &config, NULL, NULL, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  g_assert_nonnull (strstr (err.message, "label 2"));

  labels->labels[5] = 1;
  config.epochs = 0;
  nn_error_clear (&err);
  g_assert_false (nn_train (&model, labels, NULL, &config, NULL, NULL, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  small_config (&config);
  config.schedule.kind = NN_SCHEDULE_STEP;
  nn_error_clear (&err);
  g_assert_false (nn_train (&model, labels, NULL, &config, NULL, NULL, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);

  nn_dataset_free (wrong);
  nn_dataset_free (labels);
  nn_graph_free (model.graph);
}

/* The pre-defined kernels of every PFM of g, copied. */
static float *
predefined_copy (const NnGraph *g,
                 size_t        *count)
{
  GArray *all = g_array_new (FALSE, FALSE, sizeof (float));
  for (int i = 0; i < g->n_nodes; i++)
    if (g_str_has_suffix (g->nodes[i].name, ".predefined"))
      {
        const NnParam *w = &g->params[nn_graph_node_param (g, i, NN_PARAM_WEIGHT)];
        g_array_append_vals (all, g->data + w->offset, (guint) w->count);
      }
  *count = all->len;
  return (float *) g_array_free (all, FALSE);
}

/* A frozen bank (a subset of the full one, random) keeps its kernels through training, a
 * trainable one learns; the model file keeps bank, size, kernels and which are frozen. */
static void
test_pfm_banks_train (void)
{
  static const struct
  {
    NnPfmBank bank;
    int       size;
  } cases[] = {
    { NN_PFM_BANK_FULL, 8 }, { NN_PFM_BANK_RANDOM_FROZEN, 16 }, { NN_PFM_BANK_TRAINABLE, 9 },
  };
  NnDataset *train = make_halves (32, 4);
  char *dir = g_dir_make_tmp ("test-train-XXXXXX", NULL);
  g_assert_nonnull (dir);
  char *path = g_build_filename (dir, "pfnet.safetensors", NULL);
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      NnArchSpec spec = {
        .name = "pfnet18", .in_c = 1, .in_h = SIDE, .in_w = SIDE, .n_classes = 2,
        .width = 0.125f, .bank = cases[c].bank, .pfm_size = cases[c].size, .seed = 3,
      };
      NnGraph *g = nn_arch_build (&spec, NULL);
      g_assert_nonnull (g);
      NnModel *model = nn_model_new (g, "pfnet18");
      g_assert_nonnull (model);
      nn_arch_spec_format_options (&spec, model->arch_options, sizeof model->arch_options);
      model->mean[0] = 0.5f;
      model->std[0] = 0.25f;
      size_t n_before, n_after;
      float *before = predefined_copy (g, &n_before);
      NnTrainConfig config;
      small_config (&config);
      config.epochs = 1;
      g_assert_true (nn_train (model, train, NULL, &config, NULL, NULL, NULL, NULL));
      float *after = predefined_copy (g, &n_after);
      g_assert_cmpuint (n_before, ==, n_after);
      bool same = memcmp (before, after, sizeof (float) * n_before) == 0;
      g_assert_true (same == (cases[c].bank != NN_PFM_BANK_TRAINABLE));

      NnError err = { 0 };
      g_assert_true (nn_model_save (model, path, &err));
      NnModel *back = nn_model_load (path, &err);
      g_assert_nonnull (back);
      g_assert_cmpstr (back->arch_options, ==, model->arch_options);
      g_assert_nonnull (strstr (back->arch_options, nn_pfm_bank_name (cases[c].bank)));
      size_t n_back;
      float *kernels = predefined_copy (back->graph, &n_back);
      g_assert_cmpmem (kernels, sizeof (float) * n_back, after, sizeof (float) * n_after);
      int pw = nn_graph_node_param (back->graph, nn_graph_find (back->graph,
                                                                "layer2.0.pfm1.predefined"),
                                    NN_PARAM_WEIGHT);
      g_assert_true (back->graph->params[pw].trainable
                     == (cases[c].bank == NN_PFM_BANK_TRAINABLE));
      g_free (kernels);
      g_free (before);
      g_free (after);
      nn_model_free (back);
      nn_model_free (model);
    }
  g_remove (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  nn_dataset_free (train);
}

/* A ResNet-18 on 20 images with batch 64: one step per epoch. With precise batch norm the
 * running statistics are those of the training set under the final weights, so eval mode
 * gives what training mode gives on the whole set; with the moving averages alone (momentum
 * 0.1, six steps) they are far off. */
static void
bn_consistency (int     bn_batches,
                double *mean_error,
                double *logit_error,
                int    *disagree)
{
  NnDataset *train = make_halves (20, 8);
  NnArchSpec spec = {
    .name = "resnet18", .in_c = 1, .in_h = SIDE, .in_w = SIDE, .n_classes = 2, .width = 0.125f,
    .seed = 4,
  };
  NnModel *model = nn_model_new (nn_arch_build (&spec, NULL), "resnet18");
  g_assert_nonnull (model);
  model->mean[0] = 0.5f;
  model->std[0] = 0.25f;
  NnTrainConfig config;
  nn_train_config_init (&config);
  config.epochs = 6;
  config.bn_batches = bn_batches;
  g_assert_true (nn_train (model, train, NULL, &config, NULL, NULL, NULL, NULL));

  NnGraph *g = model->graph;
  NnContext *ctx = nn_context_new (g, train->n, NN_CONTEXT_NO_FOLD, NULL);
  g_assert_nonnull (ctx);
  float *in = nn_context_input (ctx);
  for (int i = 0; i < train->n * SIDE * SIDE; i++)
    in[i] = (train->images[i] - model->mean[0]) / model->std[0];
  int out = nn_graph_output (g);
  nn_context_forward (ctx, -1);
  float *eval = g_memdup2 (nn_context_output (ctx, out), sizeof (float) * 2 * train->n);
  /* The running means, before a training-mode pass moves them. */
  float *running = g_memdup2 (g->data, sizeof (float) * g->n_data);
  nn_context_set_training (ctx, true);
  nn_context_forward (ctx, -1);
  const float *trained = nn_context_output (ctx, out);
  *logit_error = 0.0;
  *disagree = 0;
  double scale = 0.0;
  for (int i = 0; i < train->n; i++)
    {
      for (int k = 0; k < 2; k++)
        {
          *logit_error = fmax (*logit_error, fabs ((double) eval[2 * i + k] - trained[2 * i + k]));
          scale = fmax (scale, fabs ((double) trained[2 * i + k]));
        }
      *disagree += (eval[2 * i + 1] > eval[2 * i]) != (trained[2 * i + 1] > trained[2 * i]);
    }
  *logit_error /= scale;
  /* Each batch norm's running mean against the mean of its input over the set. */
  *mean_error = 0.0;
  for (int i = 0; i < g->n_nodes; i++)
    {
      if (g->nodes[i].op != NN_OP_BATCHNORM)
        continue;
      NnShape sh = g->nodes[i].shape;
      const float *x = nn_context_output (ctx, g->nodes[i].inputs[0]);
      const float *rm = running + g->params[nn_graph_node_param (g, i, NN_PARAM_RUNNING_MEAN)]
                                    .offset;
      for (int ch = 0; ch < sh.c; ch++)
        {
          double sum = 0.0, abs_sum = 0.0;
          for (int b = 0; b < train->n; b++)
            for (int p = 0; p < sh.h * sh.w; p++)
              {
                double v = x[((size_t) b * sh.c + ch) * sh.h * sh.w + p];
                sum += v;
                abs_sum += fabs (v);
              }
          double mean = sum / (train->n * sh.h * sh.w);
          double typical = abs_sum / (train->n * sh.h * sh.w) + 1e-6;
          *mean_error = fmax (*mean_error, fabs (mean - rm[ch]) / typical);
        }
    }
  g_free (eval);
  g_free (running);
  nn_context_free (ctx);
  nn_model_free (model);
  nn_dataset_free (train);
}

static void
test_precise_bn (void)
{
  double mean_error, logit_error;
  int disagree;
  bn_consistency (50, &mean_error, &logit_error, &disagree);
  g_test_message ("precise BN: running means off by %.2g, logits by %.2g, %d predictions "
                  "differ", mean_error, logit_error, disagree);
  g_assert_cmpfloat (mean_error, <, 1e-4);
  g_assert_cmpfloat (logit_error, <, 1e-4);
  g_assert_cmpint (disagree, ==, 0);
  bn_consistency (0, &mean_error, &logit_error, &disagree);
  g_test_message ("moving averages: running means off by %.2g, logits by %.2g, %d predictions "
                  "differ", mean_error, logit_error, disagree);
  g_assert_cmpfloat (mean_error, >, 0.1);
  g_assert_cmpfloat (logit_error, >, 0.3);
  g_assert_cmpint (disagree, >, 0);
}

/* Dead units and sparsity by hand: input (4) - relu1 - linear (2) - relu2 over three rows.
 * relu1: units 0 and 2 are <= 0 in every row, 1 and 3 are not; 9 of its 12 values are <= 0.
 * relu2: unit 0 (bias -100) is dead, unit 1 (bias 1, zero weights) never; 3 of 6 values. */
static void
test_relu_activity (void)
{
  NnGraph *g = nn_graph_new ();
  int x = nn_graph_add_input (g, "input", 4, 1, 1);
  x = nn_graph_add_relu (g, "relu1", x);
  x = nn_graph_add_flatten (g, "flatten", x);
  int fc = nn_graph_add_linear (g, "fc", x, 2, true);
  nn_graph_add_relu (g, "relu2", fc);
  float *w = nn_graph_param_data (g, nn_graph_node_param (g, fc, NN_PARAM_WEIGHT));
  float *b = nn_graph_param_data (g, nn_graph_node_param (g, fc, NN_PARAM_BIAS));
  for (int i = 0; i < 8; i++)
    w[i] = 1.0f;
  for (int i = 4; i < 8; i++)
    w[i] = 0.0f;
  b[0] = -100.0f;
  b[1] = 1.0f;
  NnContext *ctx = nn_context_new (g, 3, NN_CONTEXT_NO_FOLD, NULL);
  g_assert_nonnull (ctx);
  const float rows[3][4] = { { -1, 2, 0, -3 }, { -2, -1, 0, 1 }, { -0.5f, 3, 0, -1 } };
  memcpy (nn_context_input (ctx), rows, sizeof rows);
  nn_context_forward (ctx, -1);
  float dead, sparsity;
  g_assert_true (nn_relu_activity (ctx, 3, &dead, &sparsity));
  g_assert_cmpfloat_with_epsilon (dead, 3.0 / 6.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (sparsity, 12.0 / 18.0, 1e-6);
  /* The first row alone: relu1 units 0, 2 and 3 and relu2 unit 0 are off. */
  g_assert_true (nn_relu_activity (ctx, 1, &dead, &sparsity));
  g_assert_cmpfloat_with_epsilon (dead, 4.0 / 6.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (sparsity, 4.0 / 6.0, 1e-6);
  nn_context_free (ctx);
  nn_graph_free (g);

  g = nn_graph_new ();
  x = nn_graph_add_input (g, "input", 4, 1, 1);
  nn_graph_add_flatten (g, "flatten", x);
  ctx = nn_context_new (g, 1, NN_CONTEXT_NO_FOLD, NULL);
  nn_context_forward (ctx, -1);
  g_assert_false (nn_relu_activity (ctx, 1, &dead, &sparsity));
  g_assert_cmpfloat (dead, ==, -1.0f);
  g_assert_cmpfloat (sparsity, ==, -1.0f);
  nn_context_free (ctx);
  nn_graph_free (g);

  /* Training reports them each epoch; a ReLU whose input is always negative counts dead. */
  NnDataset *train = make_halves (32, 2);
  NnModel model;
  model_init (&model, 5);
  int bn = nn_graph_find (model.graph, "bn1");
  float *beta = nn_graph_param_data (model.graph, nn_graph_node_param (model.graph, bn,
                                                                        NN_PARAM_BIAS));
  for (int c = 0; c < 4; c++)
    beta[c] = -1000.0f;
  nn_graph_set_trainable (model.graph, bn, false);
  NnTrainConfig config;
  small_config (&config);
  config.epochs = 1;
  Recorder rec = { 0 };
  g_assert_true (nn_train (&model, train, NULL, &config, record, &rec, NULL, NULL));
  g_assert_cmpfloat (rec.last_epoch.dead_relu, ==, 1.0f);
  g_assert_cmpfloat (rec.last_epoch.relu_sparsity, ==, 1.0f);
  nn_graph_free (model.graph);
  model_init (&model, 5);
  rec = (Recorder) { 0 };
  g_assert_true (nn_train (&model, train, NULL, &config, record, &rec, NULL, NULL));
  g_assert_cmpfloat (rec.last_epoch.dead_relu, <, 1.0f);
  g_assert_cmpfloat (rec.last_epoch.relu_sparsity, >, 0.0f);
  g_assert_cmpfloat (rec.last_epoch.relu_sparsity, <, 1.0f);
  nn_graph_free (model.graph);
  nn_dataset_free (train);
}

static void
test_config_defaults (void)
{
  NnTrainConfig c;
  memset (&c, 0xff, sizeof c);
  nn_train_config_init (&c);
  g_assert_cmpint (c.batch, ==, 64);
  g_assert_cmpfloat (c.lr, ==, 0.05f);
  g_assert_cmpint (c.epochs, >, 0);
  g_assert_cmpint (c.optimizer.kind, ==, NN_OPTIMIZER_SGD);
  g_assert_cmpfloat (c.optimizer.momentum, ==, 0.9f);
  g_assert_true (c.optimizer.nesterov);
  g_assert_cmpfloat (c.optimizer.weight_decay, ==, 5e-4f);
  g_assert_cmpint (c.schedule.kind, ==, NN_SCHEDULE_COSINE);
  g_assert_cmpint (c.schedule.warmup, ==, 0);
  g_assert_false (c.set_policy);
  g_assert_false (c.augment);
  g_assert_cmpint (c.bn_batches, ==, 50);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/train/config-defaults", test_config_defaults);
  g_test_add_func ("/nn/train/learns-separable", test_learns_separable);
  g_test_add_func ("/nn/train/deterministic", test_deterministic);
  g_test_add_func ("/nn/train/augment-rgb", test_augment_rgb);
  g_test_add_func ("/nn/train/cancel", test_cancel);
  g_test_add_func ("/nn/train/nan-loss", test_nan_loss);
  g_test_add_func ("/nn/train/step-counts", test_step_counts);
  g_test_add_func ("/nn/train/frozen-and-policy", test_frozen_and_policy);
  g_test_add_func ("/nn/train/proxygrad-step", test_proxygrad_step);
  g_test_add_func ("/nn/train/evaluate-partial-batches", test_evaluate_partial_batches);
  g_test_add_func ("/nn/train/evaluate-cancel", test_evaluate_cancel);
  g_test_add_func ("/nn/train/bad-input", test_bad_input);
  g_test_add_func ("/nn/train/pfm-banks", test_pfm_banks_train);
  g_test_add_func ("/nn/train/precise-bn", test_precise_bn);
  g_test_add_func ("/nn/train/relu-activity", test_relu_activity);
  return g_test_run ();
}
