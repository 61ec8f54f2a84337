/* SPDX-License-Identifier: MIT */
/* ScopeTrainJob: the training worker and its hand-over. The threads meet in its ScopeWorker
 * (scope-worker.c): what they share is under the worker's lock; nn_train polls its cancel flag.
 * The one idle takes every pending step and epoch record, the newest snapshot, confusion
 * matrix and clinical metrics, and the state. */
#include "scope-train-job.h"

#include <gio/gio.h>
#include <string.h>

#include "scope-error.h"
#include "scope-worker.h"

struct _ScopeTrainJob
{
  GObject             parent_instance;

  ScopeTrainSettings  settings;
  ScopeTrainState     state;          /* main thread: the last delivered state */
  ScopeWorker         worker;
  pthread_cond_t      wake;           /* with the worker's lock */

  /* Under the worker's lock. */
  gboolean            paused;         /* asked by the main thread */
  ScopeTrainState     pending_state;
  gboolean            state_changed;
  long                total_steps;
  int                 n_classes;
  char              **class_names;    /* set once by the worker, before the first update */
  NnImage           **test_images;    /* n_classes: each class's first test image (NULL when
                                         it has none); set with class_names */
  GArray             *pending_steps;  /* ScopeTrainStep */
  GArray             *pending_epochs; /* ScopeTrainEpoch */
  ScopeModel         *pending_snapshot;
  int                *pending_confusion;
  NnMetrics          *pending_metrics;
  GError             *pending_error;
  long                last_step;      /* the last step done, and its epoch (0-based) */
  int                 last_epoch;
  gboolean            epoch_ended;    /* the last step ended its epoch */

  /* Main thread, after the worker is joined. */
  ScopeModel         *final;          /* the weights a stopped run stopped on */

  /* Worker only. */
  NnModel            *model;
  NnDataset          *test;
  gint64              last_snapshot;
  guint64             n_snapshots;    /* worker, then main thread after the join: published */
  gint64              step_clock;     /* worker: when the last step's callback ended, or 0 */
};

enum
{
  UPDATE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (ScopeTrainJob, scope_train_job, G_TYPE_OBJECT)

void
scope_train_settings_init (ScopeTrainSettings *settings)
{
  g_return_if_fail (settings != NULL);

  memset (settings, 0, sizeof *settings);
  g_strlcpy (settings->dataset, "fashion-mnist", sizeof settings->dataset);
  g_strlcpy (settings->arch, "smallcnn", sizeof settings->arch);
  settings->width = 1.0;
  g_strlcpy (settings->optimizer, "sgd", sizeof settings->optimizer);
  settings->lr = 0.02;
  settings->epochs = 2;
  settings->batch = 64;
  settings->per_class = 500;
  g_strlcpy (settings->policy, "exact", sizeof settings->policy);
  settings->seed = 1;
  settings->snapshot_ms = 500;
}

gboolean
scope_train_state_is_active (ScopeTrainState state)
{
  return state == SCOPE_TRAIN_LOADING || state == SCOPE_TRAIN_RUNNING
         || state == SCOPE_TRAIN_PAUSED;
}

static void
metrics_free (NnMetrics *metrics)
{
  if (metrics == NULL)
    return;
  nn_metrics_clear (metrics);
  g_free (metrics);
}

/* Main thread: hands over everything pending as one update. */
static gboolean
deliver_idle (gpointer data)
{
  ScopeTrainJob *self = data;

  if (!scope_worker_begin_deliver (&self->worker))
    return G_SOURCE_REMOVE;
  g_autoptr (GArray) steps = self->pending_steps;
  g_autoptr (GArray) epochs = self->pending_epochs;
  self->pending_steps = g_array_new (FALSE, FALSE, sizeof (ScopeTrainStep));
  self->pending_epochs = g_array_new (FALSE, FALSE, sizeof (ScopeTrainEpoch));
  g_autoptr (ScopeModel) snapshot = g_steal_pointer (&self->pending_snapshot);
  g_autofree int *confusion = g_steal_pointer (&self->pending_confusion);
  NnMetrics *metrics = g_steal_pointer (&self->pending_metrics);
  g_autoptr (GError) error = g_steal_pointer (&self->pending_error);
  gboolean state_changed = self->state_changed;
  self->state_changed = FALSE;
  ScopeTrainUpdate update = {
    .state = self->pending_state,
    .total_steps = self->total_steps,
    .n_classes = self->n_classes,
    .class_names = (const char *const *) self->class_names,
    .steps = (const ScopeTrainStep *) (void *) steps->data,
    .n_steps = steps->len,
    .epochs = (const ScopeTrainEpoch *) (void *) epochs->data,
    .n_epochs = epochs->len,
    .snapshot = snapshot,
    .confusion = confusion,
    .metrics = metrics,
    .error = error,
  };
  scope_worker_unlock (&self->worker);

  /* class_names is written once by the worker before the first update and freed in finalize,
   * so it can be read here without the lock. */
  self->state = update.state;
  if (state_changed || update.n_steps > 0 || update.n_epochs > 0 || snapshot != NULL
      || confusion != NULL || metrics != NULL || error != NULL)
    g_signal_emit (self, signals[UPDATE], 0, &update);
  metrics_free (metrics);
  return G_SOURCE_REMOVE;
}

static void
set_state (ScopeTrainJob   *self,
           ScopeTrainState  state,
           GError          *error)
{
  scope_worker_lock (&self->worker);
  self->pending_state = state;
  self->state_changed = TRUE;
  if (error != NULL)
    {
      g_clear_error (&self->pending_error);
      self->pending_error = error;
    }
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

/* Worker: a copy of the weights as they are now after step of epoch, stamped with the next
 * version, for the main thread. */
static void
publish_snapshot (ScopeTrainJob *self,
                  long           step,
                  int            epoch)
{
  g_autofree char *name = g_strdup_printf ("%s (%s, step %ld)", self->settings.arch,
                                           self->settings.dataset, step);
  ScopeTrainStamp stamp = { .version = ++self->n_snapshots, .step = step, .epoch = epoch };
  ScopeModel *snapshot = scope_model_new_snapshot (self->model, name, &stamp);
  scope_worker_lock (&self->worker);
  g_clear_pointer (&self->pending_snapshot, scope_model_unref);
  self->pending_snapshot = snapshot;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
  self->last_snapshot = g_get_monotonic_time ();
}

/* Worker, from the epoch callback: the confusion matrix of the model on the test set and the
 * clinical metrics (as `cnnscope-cli eval` gives them; without them when out of memory). */
static void
publish_confusion (ScopeTrainJob *self)
{
  NnEvalResult result;
  NnError err = { 0 };
  if (!nn_evaluate (self->model, self->test, self->settings.batch, &result,
                    scope_worker_get_cancel (&self->worker), &err))
    return;
  int n = result.n_classes;
  int *confusion = g_memdup2 (result.confusion, sizeof (int) * (gsize) n * (gsize) n);
  g_autofree long *counts = g_new (long, (gsize) n * (gsize) n);
  for (int k = 0; k < n * n; k++)
    counts[k] = result.confusion[k];
  NnMetrics *metrics = g_new0 (NnMetrics, 1);
  if (!nn_metrics_compute (counts, n, result.scores, result.labels, result.n, metrics, &err))
    g_clear_pointer (&metrics, metrics_free);
  self->model->test_accuracy = result.accuracy;
  nn_eval_result_clear (&result);
  scope_worker_lock (&self->worker);
  g_free (self->pending_confusion);
  self->pending_confusion = confusion;
  if (metrics != NULL)
    {
      metrics_free (self->pending_metrics);
      self->pending_metrics = metrics;
    }
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

/* Worker: after every step. Records it, copies the weights when due, waits while paused. */
static void
on_progress (const NnTrainProgress *p,
             void                  *user_data)
{
  ScopeTrainJob *self = user_data;
  const gint64 now = g_get_monotonic_time ();

  scope_worker_lock (&self->worker);
  self->last_step = p->step;
  self->last_epoch = p->epoch;
  self->epoch_ended = p->epoch_done;
  if (p->epoch_done)
    {
      ScopeTrainEpoch e = {
        .epoch = p->epoch, .step = p->step, .train_loss = p->train_loss,
        .train_accuracy = p->train_accuracy, .test_loss = p->test_loss,
        .test_accuracy = p->test_accuracy,
      };
      g_array_append_val (self->pending_epochs, e);
    }
  else
    {
      ScopeTrainStep s = {
        .step = p->step, .epoch = p->epoch, .lr = p->lr, .loss = p->loss,
        .accuracy = p->accuracy,
        .ms = self->step_clock != 0 ? (float) (now - self->step_clock) / 1000.0f : 0.0f,
      };
      g_array_append_val (self->pending_steps, s);
    }
  scope_worker_schedule_locked (&self->worker);
  gboolean paused = self->paused;
  scope_worker_unlock (&self->worker);

  if (p->epoch_done)
    publish_confusion (self);
  gint64 due = self->last_snapshot + (gint64) self->settings.snapshot_ms * 1000;
  if (p->epoch_done || paused || g_get_monotonic_time () >= due)
    publish_snapshot (self, p->step, p->epoch);
  /* the next step's time starts here, without the snapshot; an epoch's evaluation and a
   * pause come before the next step and are not counted */
  self->step_clock = p->epoch_done || paused ? 0 : g_get_monotonic_time ();
  if (!paused)
    return;

  set_state (self, SCOPE_TRAIN_PAUSED, NULL);
  scope_worker_lock (&self->worker);
  while (self->paused && atomic_load (scope_worker_get_cancel (&self->worker)) == 0)
    pthread_cond_wait (&self->wake, &self->worker.lock);
  scope_worker_unlock (&self->worker);
  if (atomic_load (scope_worker_get_cancel (&self->worker)) == 0)
    set_state (self, SCOPE_TRAIN_RUNNING, NULL);
}

/* Worker: the first image of each of n classes in ds (NULL for a class without one), as the
 * model's input sees it, for probes of the live explanations. */
static NnImage **
test_images (const NnDataset *ds,
             int              n)
{
  NnImage **images = g_new0 (NnImage *, n);
  gsize size = (gsize) ds->c * (gsize) ds->h * (gsize) ds->w;
  for (int i = 0; i < ds->n; i++)
    {
      int k = ds->labels[i];
      if (k < 0 || k >= n || images[k] != NULL)
        continue;
      images[k] = nn_image_new (ds->c, ds->h, ds->w);
      if (images[k] != NULL)
        memcpy (images[k]->data, ds->images + (gsize) i * size, sizeof (float) * size);
    }
  return images;
}

/* Worker: the data and a fresh network for it, as the CLI's train command builds them. */
static gboolean
prepare (ScopeTrainJob  *self,
         NnDataset     **train,
         GError        **error)
{
  const ScopeTrainSettings *s = &self->settings;
  NnError err = { 0 };
  *train = nn_dataset_open (s->dataset, true, 0, 0, 0, &err);
  if (*train == NULL)
    return scope_error_from_nn (error, &err), FALSE;
  self->test = nn_dataset_open (s->dataset, false, (*train)->c, (*train)->h, (*train)->w, &err);
  if (self->test == NULL)
    return scope_error_from_nn (error, &err), FALSE;
  if (s->per_class > 0)
    {
      NnDataset *sub = nn_dataset_subset_per_class (*train, s->per_class, s->seed);
      nn_dataset_free (*train);
      *train = sub;
      /* The test set in proportion: a fifth as many per class, at least 20. */
      sub = nn_dataset_subset_per_class (self->test, MAX (s->per_class / 5, 20), s->seed);
      nn_dataset_free (self->test);
      self->test = sub;
    }
  if ((*train)->n < 1 || self->test->n < 1)
    {
      g_set_error (error, SCOPE_NN_ERROR, NN_ERROR_SPEC, "%s: no images to train on",
                   s->dataset);
      return FALSE;
    }

  NnArchSpec spec = {
    .name = s->arch, .in_c = (*train)->c, .in_h = (*train)->h, .in_w = (*train)->w,
    .n_classes = (*train)->n_classes, .width = (float) s->width, .bank = NN_PFM_BANK_FULL,
    .seed = s->seed,
  };
  NnGraph *graph = nn_arch_build (&spec, &err);
  if (graph == NULL)
    return scope_error_from_nn (error, &err), FALSE;
  self->model = nn_model_new (graph, s->arch);
  if (self->model == NULL)
    nn_graph_free (graph);
  for (int k = 0; self->model != NULL && k < (*train)->n_classes; k++)
    if (!nn_model_set_label (self->model, k, (*train)->class_names[k]))
      g_clear_pointer (&self->model, nn_model_free);
  if (self->model == NULL)
    {
      g_set_error (error, SCOPE_NN_ERROR, NN_ERROR_NOMEM, "out of memory for the model");
      return FALSE;
    }
  nn_dataset_mean_std (*train, self->model->mean, self->model->std);
  for (int ch = 0; ch < (*train)->c && ch < NN_MODEL_MAX_CHANNELS; ch++)
    if (!(self->model->std[ch] > 1e-6f))
      self->model->std[ch] = 1.0f;
  g_strlcpy (self->model->dataset, s->dataset, sizeof self->model->dataset);
  g_autofree char *command = g_strdup_printf ("cnnscope train: %s width %g, %s lr %g, %d epochs, "
                                              "batch %d, %d per class, policy %s, seed %"
                                              G_GUINT64_FORMAT, s->arch, s->width, s->optimizer,
                                              s->lr, s->epochs, s->batch, s->per_class,
                                              s->policy, s->seed);
  g_strlcpy (self->model->command, command, sizeof self->model->command);
  return TRUE;
}

static gboolean
make_config (const ScopeTrainSettings  *s,
             NnTrainConfig             *config,
             GError                   **error)
{
  NnError err = { 0 };
  nn_train_config_init (config);
  config->epochs = s->epochs;
  config->batch = s->batch;
  config->lr = (float) s->lr;
  config->seed = s->seed;
  if (!nn_optimizer_parse (s->optimizer, &config->optimizer, &err)
      || !nn_grad_policy_parse (s->policy, &config->policy, &err))
    return scope_error_from_nn (error, &err), FALSE;
  config->set_policy = TRUE;
  return TRUE;
}

static void *
worker_main (void *data)
{
  ScopeTrainJob *self = data;
  NnDataset *train = NULL;
  NnTrainConfig config;
  GError *error = NULL;

  if (!make_config (&self->settings, &config, &error) || !prepare (self, &train, &error))
    {
      set_state (self, SCOPE_TRAIN_FAILED, error);
      nn_dataset_free (train);
      return NULL;
    }

  int batch = MIN (config.batch, train->n);
  scope_worker_lock (&self->worker);
  self->total_steps = (long) (train->n / batch) * config.epochs;
  self->n_classes = train->n_classes;
  self->class_names = g_new0 (char *, train->n_classes + 1);
  for (int k = 0; k < train->n_classes; k++)
    self->class_names[k] = g_strdup (train->class_names[k]);
  self->test_images = test_images (self->test, train->n_classes);
  scope_worker_unlock (&self->worker);
  set_state (self, SCOPE_TRAIN_RUNNING, NULL);
  publish_snapshot (self, 0, 0);

  NnError err = { 0 };
  gboolean ok = nn_train (self->model, train, self->test, &config, on_progress, self,
                          scope_worker_get_cancel (&self->worker), &err);
  nn_dataset_free (train);
  if (ok)
    {
      set_state (self, SCOPE_TRAIN_FINISHED, NULL);
      return NULL;
    }
  if (err.code == NN_ERROR_CANCELLED)
    return NULL;
  /* The weights as they were when it failed, to look at (last_step is the worker's own). */
  publish_snapshot (self, self->last_step, self->last_epoch);
  scope_error_from_nn (&error, &err);
  set_state (self, SCOPE_TRAIN_FAILED, error);
  return NULL;
}

ScopeTrainJob *
scope_train_job_new (const ScopeTrainSettings *settings)
{
  g_return_val_if_fail (settings != NULL, NULL);

  ScopeTrainJob *self = g_object_new (SCOPE_TYPE_TRAIN_JOB, NULL);
  self->settings = *settings;
  return self;
}

gboolean
scope_train_job_start (ScopeTrainJob  *self,
                       GError        **error)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_JOB (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->worker.started)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                           "this training run was started before");
      return FALSE;
    }
  self->state = SCOPE_TRAIN_LOADING;
  scope_worker_lock (&self->worker);
  self->pending_state = SCOPE_TRAIN_LOADING;
  self->state_changed = TRUE;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
  if (!scope_worker_start (&self->worker, worker_main, self, "training", error))
    {
      self->state = SCOPE_TRAIN_FAILED;
      return FALSE;
    }
  return TRUE;
}

void
scope_train_job_pause (ScopeTrainJob *self)
{
  g_return_if_fail (SCOPE_IS_TRAIN_JOB (self));

  scope_worker_lock (&self->worker);
  self->paused = TRUE;
  scope_worker_unlock (&self->worker);
}

void
scope_train_job_resume (ScopeTrainJob *self)
{
  g_return_if_fail (SCOPE_IS_TRAIN_JOB (self));

  scope_worker_lock (&self->worker);
  self->paused = FALSE;
  pthread_cond_signal (&self->wake);
  scope_worker_unlock (&self->worker);
}

/* Main thread, the worker joined: the weights the run stopped on, saying how far it got. Its
 * test accuracy is unknown unless it stopped right at the end of an epoch (measured then):
 * that of an earlier epoch belongs to other weights, and measuring it now would hold up
 * Stop. */
static void
keep_final (ScopeTrainJob *self)
{
  if (self->model == NULL || self->final != NULL)
    return;
  const ScopeTrainSettings *s = &self->settings;
  int epochs_done = self->last_epoch + (self->epoch_ended ? 1 : 0);
  if (!self->epoch_ended)
    self->model->test_accuracy = -1.0;
  g_autofree char *command = g_strdup_printf (
    "%s; stopped at step %ld of %ld, after %d of %d epochs%s", self->model->command,
    self->last_step, self->total_steps, epochs_done, s->epochs,
    self->epoch_ended ? "" : " (test accuracy not measured after the stop)");
  g_strlcpy (self->model->command, command, sizeof self->model->command);
  g_autofree char *name = g_strdup_printf ("%s (%s, stopped at step %ld)", s->arch, s->dataset,
                                           self->last_step);
  ScopeTrainStamp stamp = {
    .version = ++self->n_snapshots, .step = self->last_step, .epoch = self->last_epoch,
  };
  self->final = scope_model_new_snapshot (self->model, name, &stamp);
}

/* Cancels the worker and joins it; returns whether the run was still going. */
static gboolean
halt (ScopeTrainJob *self)
{
  scope_worker_request_stop (&self->worker);
  scope_worker_lock (&self->worker);
  pthread_cond_signal (&self->wake);
  scope_worker_unlock (&self->worker);
  scope_worker_join (&self->worker);

  /* The worker is gone: drop what was not delivered. */
  scope_worker_lock (&self->worker);
  g_clear_pointer (&self->pending_snapshot, scope_model_unref);
  g_clear_pointer (&self->pending_confusion, g_free);
  g_clear_pointer (&self->pending_metrics, metrics_free);
  g_clear_error (&self->pending_error);
  scope_worker_unlock (&self->worker);
  if (!scope_train_state_is_active (self->state))
    return FALSE;
  self->state = SCOPE_TRAIN_STOPPED;
  return TRUE;
}

void
scope_train_job_stop (ScopeTrainJob *self)
{
  g_return_if_fail (SCOPE_IS_TRAIN_JOB (self));

  if (halt (self))
    keep_final (self);
}

ScopeModel *
scope_train_job_get_final (ScopeTrainJob *self)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_JOB (self), NULL);

  return self->final;
}

const NnImage *
scope_train_job_get_test_image (ScopeTrainJob *self,
                                int            k)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_JOB (self), NULL);

  /* written once by the worker before the first update was delivered */
  if (self->test_images == NULL || k < 0 || k >= self->n_classes)
    return NULL;
  return self->test_images[k];
}

ScopeTrainState
scope_train_job_get_state (ScopeTrainJob *self)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_JOB (self), SCOPE_TRAIN_IDLE);

  return self->state;
}

static void
scope_train_job_dispose (GObject *object)
{
  ScopeTrainJob *self = SCOPE_TRAIN_JOB (object);

  halt (self);
  g_clear_pointer (&self->final, scope_model_unref);

  G_OBJECT_CLASS (scope_train_job_parent_class)->dispose (object);
}

static void
scope_train_job_finalize (GObject *object)
{
  ScopeTrainJob *self = SCOPE_TRAIN_JOB (object);

  nn_model_free (self->model);
  nn_dataset_free (self->test);
  for (int k = 0; self->test_images != NULL && k < self->n_classes; k++)
    nn_image_free (self->test_images[k]);
  g_free (self->test_images);
  g_strfreev (self->class_names);
  g_array_unref (self->pending_steps);
  g_array_unref (self->pending_epochs);
  pthread_cond_destroy (&self->wake);
  scope_worker_clear (&self->worker);

  G_OBJECT_CLASS (scope_train_job_parent_class)->finalize (object);
}

static void
scope_train_job_class_init (ScopeTrainJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = scope_train_job_dispose;
  object_class->finalize = scope_train_job_finalize;

  /**
   * ScopeTrainJob::update:
   * @update: (type gpointer): a `const ScopeTrainUpdate *`, valid during the emission
   *
   * Emitted on the main context with what the worker reported since the last emission.
   */
  signals[UPDATE] =
    g_signal_new ("update", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
scope_train_job_init (ScopeTrainJob *self)
{
  scope_worker_init (&self->worker, G_PRIORITY_DEFAULT_IDLE, deliver_idle, self);
  pthread_cond_init (&self->wake, NULL);
  self->pending_steps = g_array_new (FALSE, FALSE, sizeof (ScopeTrainStep));
  self->pending_epochs = g_array_new (FALSE, FALSE, sizeof (ScopeTrainEpoch));
  scope_train_settings_init (&self->settings);
}
