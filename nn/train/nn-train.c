/* SPDX-License-Identifier: MIT */
/* The training loop (seeded shuffling and augmentation, per-epoch evaluation, a progress
 * callback and a cancel flag polled every step) and evaluation with a confusion matrix. */
#include "train/nn-train.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/nn-context.h"
#include "ops/nn-elementwise.h"

/* Largest random shift of the augmentation, in pixels. */
#define NN_AUGMENT_SHIFT 2

void
nn_train_config_init (NnTrainConfig *config)
{
  NN_ASSERT (config != NULL);
  memset (config, 0, sizeof *config);
  config->epochs = 10;
  config->batch = 64;
  config->lr = 0.05f;
  nn_optimizer_parse ("sgd", &config->optimizer, NULL);
  config->schedule = (NnSchedule) {
    .kind = NN_SCHEDULE_COSINE, .step_size = 0, .gamma = 0.1f, .warmup = 0,
  };
  config->set_policy = false;
  config->policy = (NnGradPolicy) { .kind = NN_GRAD_EXACT, .beta = 0.0f };
  config->augment = false;
  config->bn_batches = 50;
  config->seed = 1;
}

/* A configuration usually comes from the user (CLI flags, app settings): a bad value is a
 * runtime error, not an assertion. */
static bool
check_config (const NnTrainConfig *config,
              NnError             *err)
{
  const NnOptimizerConfig *o = &config->optimizer;
  if (config->epochs <= 0)
    return nn_error_set (err, NN_ERROR_SPEC, "epochs must be positive, not %d", config->epochs);
  if (config->batch <= 0)
    return nn_error_set (err, NN_ERROR_SPEC, "batch size must be positive, not %d",
                         config->batch);
  if (config->bn_batches < 0)
    return nn_error_set (err, NN_ERROR_SPEC, "the batches of precise batch norm must not be "
                         "negative, not %d", config->bn_batches);
  if (config->set_policy && config->policy.kind == NN_GRAD_PROXY_FULL)
    return nn_error_set (err, NN_ERROR_SPEC, "policy proxygrad-full changes the forward pass and "
                         "is meant for activation maximization; train with proxygrad:B");
  if (!isfinite (config->lr) || config->lr < 0.0f)
    return nn_error_set (err, NN_ERROR_SPEC, "learning rate %g is not valid",
                         (double) config->lr);
  if (config->schedule.kind == NN_SCHEDULE_STEP
      && (config->schedule.step_size <= 0 || !(config->schedule.gamma > 0.0f)))
    return nn_error_set (err, NN_ERROR_SPEC,
                         "a step schedule needs a positive step size and gamma");
  if (!(o->momentum >= 0.0f) || !(o->weight_decay >= 0.0f))
    return nn_error_set (err, NN_ERROR_SPEC, "momentum and weight decay must not be negative");
  if (o->kind == NN_OPTIMIZER_SGD && o->nesterov && !(o->momentum > 0.0f))
    return nn_error_set (err, NN_ERROR_SPEC, "Nesterov momentum needs a positive momentum");
  if (o->kind != NN_OPTIMIZER_SGD
      && !(o->beta1 >= 0.0f && o->beta1 < 1.0f && o->beta2 >= 0.0f && o->beta2 < 1.0f
           && o->eps >= 0.0f))
    return nn_error_set (err, NN_ERROR_SPEC, "betas must lie in [0, 1) and eps must not be "
                         "negative");
  return true;
}

static bool
check_data (const NnModel   *model,
            const NnDataset *ds,
            const char      *what,
            NnError         *err)
{
  const NnGraph *graph = model->graph;
  if (graph->n_nodes < 2)
    return nn_error_set (err, NN_ERROR_SPEC, "the model has no layers");
  NnShape in = graph->nodes[0].shape;
  if (in.c > NN_MODEL_MAX_CHANNELS)
    return nn_error_set (err, NN_ERROR_SPEC, "the model takes %d channels (at most %d)", in.c,
                         NN_MODEL_MAX_CHANNELS);
  if (ds->n <= 0)
    return nn_error_set (err, NN_ERROR_SPEC, "the %s set is empty", what);
  if (ds->c != in.c || ds->h != in.h || ds->w != in.w)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "the %s set has images of %d x %d x %d, the model takes %d x %d x %d",
                         what, ds->c, ds->h, ds->w, in.c, in.h, in.w);
  size_t N = nn_shape_size (graph->nodes[nn_graph_output (graph)].shape);
  for (int i = 0; i < ds->n; i++)
    if (ds->labels[i] < 0 || (size_t) ds->labels[i] >= N)
      return nn_error_set (err, NN_ERROR_SPEC,
                           "sample %d of the %s set has label %d, the model has %zu outputs",
                           i, what, ds->labels[i], N);
  return true;
}

/* dst (C,H,W) = (src (C,H,W) - mean) / std per channel, read at column (flip ? W-1-x : x) - dx
 * and row y - dy; pixels shifted in from outside are 0 before normalization, as padding a raw
 * image with black. */
static void
fill_sample (float         *dst,
             const float   *src,
             const NnModel *model,
             int            C,
             int            H,
             int            W,
             int            dy,
             int            dx,
             bool           flip)
{
  for (int c = 0; c < C; c++)
    {
      const float mean = model->mean[c], sd = model->std[c];
      const float *s = src + (size_t) c * H * W;
      float *d = dst + (size_t) c * H * W;
      for (int y = 0; y < H; y++)
        {
          int sy = y - dy;
          for (int x = 0; x < W; x++)
            {
              int sx = (flip ? W - 1 - x : x) - dx;
              float v = sy >= 0 && sy < H && sx >= 0 && sx < W ? s[(size_t) sy * W + sx] : 0.0f;
              d[(size_t) y * W + x] = (v - mean) / sd;
            }
        }
    }
}

static int
argmax (const float *v,
        int          N)
{
  int best = 0;
  for (int k = 1; k < N; k++)
    if (v[k] > v[best])
      best = k;
  return best;
}

/* s[c] = z[c] - log sum_{j != c} exp z[j], the log-odds of class c (-inf..inf for one class
 * alone: then s[0] = +inf is clamped to FLT_MAX). */
static void
one_vs_rest_scores (const float *z,
                    int          N,
                    float       *s)
{
  for (int c = 0; c < N; c++)
    {
      double top = -(double) INFINITY;
      for (int j = 0; j < N; j++)
        if (j != c && (double) z[j] > top)
          top = (double) z[j];
      double sum = 0.0;
      for (int j = 0; j < N; j++)
        if (j != c)
          sum += exp ((double) z[j] - top);
      double v = N > 1 ? (double) z[c] - top - log (sum) : (double) FLT_MAX;
      s[c] = (float) fmax (-(double) FLT_MAX, fmin ((double) FLT_MAX, v));
    }
}

/* Runs ds through ctx, batch rows at a time. The last partial batch fills only its rows and
 * zeroes the rest, whose outputs are ignored: in eval mode every op treats samples
 * independently (batch norm uses its running statistics), so padding changes nothing. */
static bool
evaluate_with (NnContext        *ctx,
               const NnModel    *model,
               const NnDataset  *ds,
               NnEvalResult     *result,
               const atomic_int *cancel,
               NnError          *err)
{
  NnGraph *graph = model->graph;
  const int B = nn_context_get_batch (ctx);
  const int out = nn_graph_output (graph);
  const int N = (int) nn_shape_size (graph->nodes[out].shape);
  const size_t sample = (size_t) ds->c * ds->h * ds->w;

  memset (result, 0, sizeof *result);
  result->confusion = calloc ((size_t) N * N, sizeof (int));
  result->scores = malloc ((size_t) ds->n * (size_t) N * sizeof (float));
  result->labels = malloc ((size_t) ds->n * sizeof (int));
  if (result->confusion == NULL || result->scores == NULL || result->labels == NULL)
    {
      nn_eval_result_clear (result);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for the results of %d samples "
                           "of %d classes", ds->n, N);
    }
  result->n = ds->n;
  result->n_classes = N;

  nn_context_set_training (ctx, false);
  double loss_sum = 0.0;
  long correct = 0;
  float *in = nn_context_input (ctx);
  for (int start = 0; start < ds->n; start += B)
    {
      if (cancel && atomic_load (cancel))
        {
          nn_eval_result_clear (result);
          return nn_error_set (err, NN_ERROR_CANCELLED, "evaluation cancelled");
        }
      int rows = ds->n - start < B ? ds->n - start : B;
      for (int r = 0; r < rows; r++)
        fill_sample (in + r * sample, ds->images + (size_t) (start + r) * sample, model, ds->c,
                     ds->h, ds->w, 0, 0, false);
      if (rows < B)
        memset (in + rows * sample, 0, sizeof (float) * sample * (size_t) (B - rows));
      nn_context_forward (ctx, -1);
      const float *logits = nn_context_output (ctx, out);
      const int *labels = ds->labels + start;
      loss_sum += (double) nn_cross_entropy (NULL, NULL, logits, labels, rows, N) * rows;
      for (int r = 0; r < rows; r++)
        {
          int pred = argmax (logits + (size_t) r * N, N);
          result->confusion[labels[r] * N + pred]++;
          result->labels[start + r] = labels[r];
          one_vs_rest_scores (logits + (size_t) r * N, N,
                              result->scores + (size_t) (start + r) * N);
          correct += pred == labels[r];
        }
    }
  result->accuracy = (double) correct / ds->n;
  result->loss = loss_sum / ds->n;
  return true;
}

bool
nn_evaluate (NnModel          *model,
             const NnDataset  *ds,
             int               batch,
             NnEvalResult     *result,
             const atomic_int *cancel,
             NnError          *err)
{
  NN_ASSERT (model != NULL && model->graph != NULL && ds != NULL && result != NULL);
  memset (result, 0, sizeof *result);
  if (batch <= 0)
    return nn_error_set (err, NN_ERROR_SPEC, "batch size must be positive, not %d", batch);
  if (!check_data (model, ds, "evaluation", err))
    return false;
  NnContext *ctx = nn_context_new (model->graph, batch < ds->n ? batch : ds->n, 0, err);
  if (ctx == NULL)
    return false;
  if (!nn_context_set_threads (ctx, 0, err))
    {
      nn_context_free (ctx);
      return false;
    }
  bool ok = evaluate_with (ctx, model, ds, result, cancel, err);
  nn_context_free (ctx);
  return ok;
}

void
nn_eval_result_clear (NnEvalResult *result)
{
  if (result == NULL)
    return;
  free (result->confusion);
  free (result->scores);
  free (result->labels);
  memset (result, 0, sizeof *result);
}

/* Fills the input of ctx and `labels` (B) with the samples idx[0 .. B-1] of ds, augmented
 * with random shifts (and mirror images for RGB) drawn from rng when augment is set. */
static void
fill_batch (NnContext       *ctx,
            int             *labels,
            const NnModel   *model,
            const NnDataset *ds,
            const int       *idx,
            bool             augment,
            NnRng           *rng)
{
  const int B = nn_context_get_batch (ctx);
  const size_t sample = (size_t) ds->c * ds->h * ds->w;
  /* Tiny images get a smaller shift so the content stays mostly in view. */
  int max_shift = (ds->h < ds->w ? ds->h : ds->w) / 8;
  if (max_shift > NN_AUGMENT_SHIFT)
    max_shift = NN_AUGMENT_SHIFT;
  float *in = nn_context_input (ctx);
  for (int r = 0; r < B; r++)
    {
      int i = idx[r];
      int dy = 0, dx = 0;
      bool flip = false;
      if (augment)
        {
          dy = (int) nn_rng_below (rng, (uint32_t) (2 * max_shift + 1)) - max_shift;
          dx = (int) nn_rng_below (rng, (uint32_t) (2 * max_shift + 1)) - max_shift;
          if (ds->c == 3)
            flip = nn_rng_below (rng, 2) != 0;
        }
      labels[r] = ds->labels[i];
      fill_sample (in + r * sample, ds->images + (size_t) i * sample, model, ds->c, ds->h, ds->w,
                   dy, dx, flip);
    }
}

static bool
cancelled (const atomic_int *cancel,
           int               epoch,
           long              step,
           NnError          *err)
{
  if (cancel == NULL || atomic_load (cancel) == 0)
    return false;
  nn_error_set (err, NN_ERROR_CANCELLED, "training cancelled in epoch %d after step %ld",
                epoch + 1, step);
  return true;
}

/* One training run's state: the context, the optimizer and the sample order. */
typedef struct
{
  NnModel             *model;
  const NnDataset     *train;
  const NnTrainConfig *config;
  NnContext           *ctx;
  NnOptimizer         *opt;
  int                 *perm;     /* (n) the order of this epoch's samples */
  int                 *labels;   /* (B) the labels of the batch */
  int                 *probe;    /* (B) the probe batch of the ReLU statistics */
  float               *momenta;  /* (n_nodes) the batch norms' momenta, kept during precise BN */
  int                  B;
  long                 steps_per_epoch;
  long                 total;
  long                 step;     /* steps done so far */
  NnRng                order_rng;
  NnRng                augment_rng;
  NnTrainProgress      progress;
} Trainer;

static void
trainer_clear (Trainer *t)
{
  nn_context_free (t->ctx);
  nn_optimizer_free (t->opt);
  free (t->perm);
  free (t->labels);
  free (t->probe);
  free (t->momenta);
}

static bool
trainer_init (Trainer             *t,
              NnModel             *model,
              const NnDataset     *train,
              const NnTrainConfig *config,
              NnError             *err)
{
  *t = (Trainer) { .model = model, .train = train, .config = config };
  /* A set smaller than the batch still trains, with one batch of the whole set per epoch. */
  t->B = config->batch < train->n ? config->batch : train->n;
  t->steps_per_epoch = train->n / t->B;  /* the last partial batch is dropped */
  t->total = t->steps_per_epoch * config->epochs;
  t->ctx = nn_context_new (model->graph, t->B, NN_CONTEXT_BACKWARD | NN_CONTEXT_PARAM_GRADS,
                           err);
  if (t->ctx == NULL || !nn_context_set_threads (t->ctx, 0, err))
    return false;
  t->opt = nn_optimizer_new (model->graph, &config->optimizer);
  t->perm = malloc (sizeof (int) * (size_t) train->n);
  t->labels = malloc (sizeof (int) * (size_t) t->B);
  t->probe = malloc (sizeof (int) * (size_t) t->B);
  t->momenta = malloc (sizeof (float) * (size_t) model->graph->n_nodes);
  if (t->opt == NULL || t->perm == NULL || t->labels == NULL || t->probe == NULL
      || t->momenta == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for the optimizer state");
  for (int i = 0; i < train->n; i++)
    t->perm[i] = i;
  /* Evenly spaced, so that a set sorted by class gives a probe of every class. */
  for (int r = 0; r < t->B; r++)
    t->probe[r] = (int) ((long) r * train->n / t->B);

  /* Independent streams for the order, the augmentation and dropout, all from one seed. */
  nn_rng_init (&t->order_rng, config->seed);
  nn_rng_init (&t->augment_rng, config->seed ^ 0x6a09e667f3bcc908ull);
  nn_context_set_seed (t->ctx, config->seed ^ 0xbb67ae8584caa73bull);
  t->progress = (NnTrainProgress) {
    .total_steps = t->total, .test_loss = -1.0f, .test_accuracy = -1.0f, .dead_relu = -1.0f,
    .relu_sparsity = -1.0f,
  };
  return true;
}

/* Step s of the epoch: forward, loss, backward, optimizer; fills the progress of the step. */
static bool
trainer_step (Trainer *t,
              int      epoch,
              long     s,
              double  *loss_sum,
              long    *correct_sum,
              NnError *err)
{
  NnGraph *graph = t->model->graph;
  const int out = nn_graph_output (graph);
  const int N = (int) nn_shape_size (graph->nodes[out].shape);
  fill_batch (t->ctx, t->labels, t->model, t->train, t->perm + s * t->B, t->config->augment,
              &t->augment_rng);
  nn_context_zero_param_grads (t->ctx);
  nn_context_forward (t->ctx, -1);
  int correct = 0;
  float loss = nn_cross_entropy (nn_context_grad (t->ctx, out), &correct,
                                 nn_context_output (t->ctx, out), t->labels, t->B, N);
  if (!isfinite (loss))
    return nn_error_set (err, NN_ERROR_NUMERIC,
                         "the loss became %s in epoch %d at step %ld (learning rate too "
                         "high, or a broken model?)", isnan (loss) ? "NaN" : "infinite",
                         epoch + 1, t->step + 1);
  nn_context_backward (t->ctx, out, NN_BACKWARD_PARAMS, -1);
  float lr = nn_schedule_lr (&t->config->schedule, t->config->lr, t->step, t->total);
  nn_optimizer_step (t->opt, graph, nn_context_param_grads (t->ctx), lr);
  t->step++;

  *loss_sum += (double) loss;
  *correct_sum += correct;
  NnTrainProgress *p = &t->progress;
  p->epoch = epoch;
  p->step = t->step;
  p->lr = lr;
  p->loss = loss;
  p->accuracy = (float) correct / (float) t->B;
  p->epoch_done = false;
  p->train_loss = (float) (*loss_sum / (double) (s + 1));
  p->train_accuracy = (float) ((double) *correct_sum / (double) ((s + 1) * t->B));
  p->test_loss = -1.0f;
  p->test_accuracy = -1.0f;
  return true;
}

/* Whether node i is a batch norm that training normalises with batch statistics: a frozen one
 * (fine-tuning, train --freeze) keeps the running statistics it came with. */
static bool
recalibrates (const NnGraph *graph,
              int            i)
{
  return graph->nodes[i].op == NN_OP_BATCHNORM && nn_graph_node_trainable (graph, i);
}

/* Precise batch norm (NnTrainConfig.bn_batches): training-mode passes over the first batches
 * of this epoch's order, unaugmented, with momentum 1 / (k + 1) on the k-th, so that each
 * running statistic ends as the plain mean of the batch statistics (the variance as the
 * biased one the batches were normalised with); the momenta are then restored. */
static void
trainer_recalibrate_bn (Trainer *t)
{
  NnGraph *graph = t->model->graph;
  long batches = t->config->bn_batches < t->steps_per_epoch ? t->config->bn_batches
                                                            : t->steps_per_epoch;
  bool any = false;
  for (int i = 0; i < graph->n_nodes; i++)
    if (recalibrates (graph, i))
      {
        t->momenta[i] = graph->nodes[i].attrs.norm.momentum;
        any = true;
      }
  if (!any || batches <= 0)
    return;
  nn_context_set_training (t->ctx, true);
  for (long k = 0; k < batches; k++)
    {
      for (int i = 0; i < graph->n_nodes; i++)
        if (recalibrates (graph, i))
          graph->nodes[i].attrs.norm.momentum = 1.0f / (float) (k + 1);
      fill_batch (t->ctx, t->labels, t->model, t->train, t->perm + k * t->B, false,
                  &t->augment_rng);
      nn_context_forward (t->ctx, -1);
    }
  /* The running variance averaged the unbiased batch variances; training normalised each
   * batch by its biased one (over m = B H W values), which is what eval mode should divide by
   * to give what training gave. */
  for (int i = 0; i < graph->n_nodes; i++)
    {
      NnNode *node = &graph->nodes[i];
      if (!recalibrates (graph, i))
        continue;
      node->attrs.norm.momentum = t->momenta[i];
      double m = (double) t->B * node->shape.h * node->shape.w;
      if (m > 1.0)
        {
          float *rv = nn_graph_param_data (graph, nn_graph_node_param (graph, i,
                                                                       NN_PARAM_RUNNING_VAR));
          for (int c = 0; c < node->shape.c; c++)
            rv[c] = (float) ((double) rv[c] * (m - 1.0) / m);
        }
    }
  nn_graph_bump_version (graph);
}

bool
nn_relu_activity (NnContext *ctx,
                  int        rows,
                  float     *dead,
                  float     *sparsity)
{
  NN_ASSERT (ctx != NULL && dead != NULL && sparsity != NULL);
  NN_ASSERT (rows >= 1 && rows <= nn_context_get_batch (ctx));
  const NnGraph *graph = nn_context_get_graph (ctx);
  size_t units = 0, dead_units = 0, values = 0, zeros = 0;
  for (int i = 0; i < graph->n_nodes; i++)
    {
      const NnNode *node = &graph->nodes[i];
      if (node->op != NN_OP_ACTIVATION || node->attrs.act.kind != NN_ACT_RELU)
        continue;
      size_t n = nn_shape_size (node->shape);
      const float *out = nn_context_output (ctx, i);
      for (size_t u = 0; u < n; u++)
        {
          int off = 0;
          for (int r = 0; r < rows; r++)
            off += out[(size_t) r * n + u] <= 0.0f;
          zeros += (size_t) off;
          dead_units += off == rows;
        }
      units += n;
      values += n * (size_t) rows;
    }
  if (units == 0)
    {
      *dead = *sparsity = -1.0f;
      return false;
    }
  *dead = (float) ((double) dead_units / (double) units);
  *sparsity = (float) ((double) zeros / (double) values);
  return true;
}

/* The ReLU statistics of the progress, on the probe batch in eval mode. */
static void
trainer_relu_activity (Trainer *t)
{
  nn_context_set_training (t->ctx, false);
  fill_batch (t->ctx, t->labels, t->model, t->train, t->probe, false, &t->augment_rng);
  nn_context_forward (t->ctx, -1);
  nn_relu_activity (t->ctx, t->B, &t->progress.dead_relu, &t->progress.relu_sparsity);
}

/* One epoch over the shuffled set, then the evaluation on test (may be NULL). */
static bool
trainer_epoch (Trainer          *t,
               int               epoch,
               const NnDataset  *test,
               NnTrainCallback   callback,
               void             *user_data,
               const atomic_int *cancel,
               NnError          *err)
{
  nn_rng_shuffle (&t->order_rng, t->perm, t->train->n);
  nn_context_set_training (t->ctx, true);
  double loss_sum = 0.0;
  long correct_sum = 0;
  for (long s = 0; s < t->steps_per_epoch; s++)
    {
      if (cancelled (cancel, epoch, t->step, err)
          || !trainer_step (t, epoch, s, &loss_sum, &correct_sum, err))
        return false;
      if (callback)
        callback (&t->progress, user_data);
    }

  if (cancelled (cancel, epoch, t->step, err))
    return false;
  trainer_recalibrate_bn (t);
  trainer_relu_activity (t);
  if (test != NULL)
    {
      NnEvalResult res;
      if (!evaluate_with (t->ctx, t->model, test, &res, cancel, err))
        return false;
      t->progress.test_loss = (float) res.loss;
      t->progress.test_accuracy = (float) res.accuracy;
      nn_eval_result_clear (&res);
    }
  t->progress.epoch_done = true;
  if (callback)
    callback (&t->progress, user_data);
  return true;
}

bool
nn_train (NnModel             *model,
          const NnDataset     *train,
          const NnDataset     *test,
          const NnTrainConfig *config,
          NnTrainCallback      callback,
          void                *user_data,
          const atomic_int    *cancel,
          NnError             *err)
{
  NN_ASSERT (model != NULL && model->graph != NULL && train != NULL && config != NULL);
  if (!check_config (config, err) || !check_data (model, train, "training", err)
      || (test != NULL && !check_data (model, test, "test", err)))
    return false;
  if (config->set_policy)
    nn_graph_set_policy (model->graph, &config->policy);

  Trainer t;
  bool ok = trainer_init (&t, model, train, config, err);
  for (int epoch = 0; ok && epoch < config->epochs; epoch++)
    ok = trainer_epoch (&t, epoch, test, callback, user_data, cancel, err);
  trainer_clear (&t);
  return ok;
}
