/* SPDX-License-Identifier: MIT */
/* ScopeEmbedJob: reads the dataset, draws the samples, computes the features and the map on its
 * ScopeWorker's thread (scope-worker.c, where the threads meet), polling the worker's cancel
 * flag; the progress and the result wait for the main thread under the worker's lock. */
#include "scope-embed-job.h"

#include <gio/gio.h>

#include "scope-error.h"
#include "scope-worker.h"

/* Samples per forward pass, as the CLI's embed runs them. */
#define EMBED_BATCH 64

/* The share of the whole run each stage takes, for one progress bar. */
#define READ_SHARE     0.1
#define FEATURES_SHARE 0.4

static void
embedding_clear (ScopeEmbedding *self)
{
  nn_dataset_free (self->samples);
  g_free (self->index);
  g_free (self->preds);
  g_free (self->xy);
  if (self->names != NULL)
    for (int k = 0; k < self->n_classes; k++)
      g_free (self->names[k]);
  g_free (self->names);
  g_free (self->layer);
  g_free (self->dataset);
}

ScopeEmbedding *
scope_embedding_ref (ScopeEmbedding *self)
{
  return g_atomic_rc_box_acquire (self);
}

void
scope_embedding_unref (ScopeEmbedding *self)
{
  if (self != NULL)
    g_atomic_rc_box_release_full (self, (GDestroyNotify) embedding_clear);
}

G_DEFINE_BOXED_TYPE (ScopeEmbedding, scope_embedding, scope_embedding_ref,
                     scope_embedding_unref)

struct _ScopeEmbedJob
{
  GObject             parent_instance;

  /* Set before the thread starts, read-only afterwards. */
  ScopeModel         *model;
  ScopeEmbedSettings  settings;   /* settings.dataset is owned */

  ScopeWorker         worker;

  /* Under the worker's lock. */
  gboolean            running;
  double              pending_fraction;  /* < 0: no progress pending */
  const char         *pending_stage;
  gboolean            pending_finished;
  ScopeEmbedding     *pending_result;
  GError             *pending_error;
};

enum
{
  PROGRESS,
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (ScopeEmbedJob, scope_embed_job, G_TYPE_OBJECT)

/* Main context: hands over whatever arrived since the last call. */
static gboolean
deliver_idle (gpointer data)
{
  ScopeEmbedJob *self = data;

  if (!scope_worker_begin_deliver (&self->worker))
    return G_SOURCE_REMOVE;
  double fraction = self->pending_fraction;
  const char *stage = self->pending_stage;
  gboolean finished = self->pending_finished;
  g_autoptr (ScopeEmbedding) result = g_steal_pointer (&self->pending_result);
  g_autoptr (GError) error = g_steal_pointer (&self->pending_error);
  self->pending_fraction = -1.0;
  self->pending_finished = FALSE;
  scope_worker_unlock (&self->worker);

  g_object_ref (self);
  if (fraction >= 0.0)
    g_signal_emit (self, signals[PROGRESS], 0, fraction, stage);
  if (finished)
    g_signal_emit (self, signals[FINISHED], 0, result, error);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* Worker. */
static void
post_progress (ScopeEmbedJob *self,
               double         fraction,
               const char    *stage)
{
  scope_worker_lock (&self->worker);
  self->pending_fraction = fraction;
  self->pending_stage = stage;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

static void
on_features_progress (int   done,
                      int   total,
                      void *user_data)
{
  post_progress (user_data, READ_SHARE + FEATURES_SHARE * done / MAX (total, 1), "features");
}

static void
on_tsne_progress (int   done,
                  int   total,
                  void *user_data)
{
  post_progress (user_data, READ_SHARE + FEATURES_SHARE
                 + (1.0 - READ_SHARE - FEATURES_SHARE) * done / MAX (total, 1), "t-SNE");
}

static gboolean
cancelled (ScopeEmbedJob *self,
           NnError       *err)
{
  if (atomic_load (scope_worker_get_cancel (&self->worker)) == 0)
    return FALSE;
  nn_error_set (err, NN_ERROR_CANCELLED, "cancelled");
  return TRUE;
}

/* Class names: the dataset's, else the model's labels, else the class numbers. */
static void
name_classes (ScopeEmbedding *e,
              const NnModel  *model)
{
  const NnDataset *ds = e->samples;
  e->n_classes = MAX (model->n_classes, ds->n_classes);
  e->names = g_new0 (char *, e->n_classes);
  for (int k = 0; k < e->n_classes; k++)
    if (k < ds->n_classes && ds->class_names[k] != NULL)
      e->names[k] = g_strdup (ds->class_names[k]);
    else if (k < model->n_classes && model->labels[k] != NULL)
      e->names[k] = g_strdup (model->labels[k]);
    else
      e->names[k] = g_strdup_printf ("%d", k);
}

/* The whole run; NULL with err on failure or cancel. */
static ScopeEmbedding *
embed (ScopeEmbedJob *self,
       NnError       *err)
{
  const ScopeEmbedSettings *s = &self->settings;
  NnModel *model = (NnModel *) scope_model_get_nn_model (self->model);
  const NnGraph *graph = scope_model_get_graph (self->model);
  int ic = nn_model_input_channels (model);
  if (ic != 1 && ic != 3)
    {
      nn_error_set (err, NN_ERROR_SPEC, "the model takes %d input channels; datasets give 1 "
                    "or 3", ic);
      return NULL;
    }
  post_progress (self, 0.0, "reading the dataset");
  NnDataset *ds = nn_dataset_open (s->dataset, FALSE, ic, nn_model_input_height (model),
                                   nn_model_input_width (model), err);
  if (ds == NULL || cancelled (self, err))
    {
      nn_dataset_free (ds);
      return NULL;
    }
  if (model->has_window && ds->ct16)
    nn_dataset_apply_ct_window (ds, &model->window);

  ScopeEmbedding *e = g_atomic_rc_box_new0 (ScopeEmbedding);
  e->layer = g_strdup (graph->nodes[s->node].name);
  e->dataset = g_strdup (s->dataset);
  e->tsne = s->tsne;
  e->flatten = s->mode == NN_FEATURES_FLATTEN;
  e->perplexity = s->perplexity;
  e->seed = s->seed;
  const int n = s->limit > 0 && s->limit < ds->n ? s->limit : ds->n;
  e->index = g_new (int, n);
  if (n < ds->n)
    {
      e->samples = nn_dataset_sample (ds, n, s->seed, e->index);
      nn_dataset_free (ds);
      if (e->samples == NULL)
        {
          nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory for %d samples", s->dataset, n);
          scope_embedding_unref (e);
          return NULL;
        }
    }
  else
    {
      e->samples = ds;
      for (int i = 0; i < n; i++)
        e->index[i] = i;
    }
  name_classes (e, model);
  post_progress (self, READ_SHARE, "features");

  NnFeatures *f = nn_features_new (model, e->samples, s->node, s->mode, EMBED_BATCH,
                                   on_features_progress, self,
                                   scope_worker_get_cancel (&self->worker), err);
  if (f == NULL)
    {
      scope_embedding_unref (e);
      return NULL;
    }
  e->n = f->n;
  e->d = f->d;
  e->preds = g_memdup2 (f->preds, sizeof (int) * (gsize) f->n);
  for (int i = 0; i < f->n; i++)
    e->wrong += f->preds[i] != f->labels[i];
  e->xy = g_new (float, 2 * (gsize) f->n);
  gboolean ok;
  if (s->tsne)
    {
      NnTsneConfig config;
      nn_tsne_config_init (&config);
      config.perplexity = s->perplexity;
      config.seed = s->seed;
      ok = nn_tsne (e->xy, f->values, f->n, f->d, &config, on_tsne_progress, self,
                    scope_worker_get_cancel (&self->worker), err);
    }
  else if (f->d < 2)
    ok = nn_error_set (err, NN_ERROR_SPEC, "layer %s gives 1 feature per sample; PCA needs 2",
                       e->layer);
  else
    {
      post_progress (self, READ_SHARE + FEATURES_SHARE, "PCA");
      float variance[2] = { 0 };
      ok = nn_pca (e->xy, variance, f->values, f->n, f->d, 2, err);
      double total = ok ? nn_pca_total_variance (f->values, f->n, f->d) : 0.0;
      for (int c = 0; c < 2; c++)
        e->variance[c] = total > 0.0 ? 100.0 * variance[c] / total : 0.0;
    }
  nn_features_free (f);
  if (!ok)
    {
      scope_embedding_unref (e);
      return NULL;
    }
  return e;
}

static void *
worker_main (void *data)
{
  ScopeEmbedJob *self = data;
  NnError err = { 0 };
  ScopeEmbedding *e = embed (self, &err);

  scope_worker_lock (&self->worker);
  self->running = FALSE;
  self->pending_finished = TRUE;
  self->pending_result = e;
  if (e == NULL)
    scope_error_from_nn (&self->pending_error, &err);
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
  return NULL;
}

ScopeEmbedJob *
scope_embed_job_new (ScopeModel               *model,
                     const ScopeEmbedSettings *settings)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (settings != NULL && settings->dataset != NULL, NULL);
  g_return_val_if_fail (settings->node >= 0
                        && settings->node < scope_model_get_graph (model)->n_nodes, NULL);

  ScopeEmbedJob *self = g_object_new (SCOPE_TYPE_EMBED_JOB, NULL);
  self->model = scope_model_ref (model);
  self->settings = *settings;
  self->settings.dataset = g_strdup (settings->dataset);
  return self;
}

gboolean
scope_embed_job_start (ScopeEmbedJob  *self,
                       GError        **error)
{
  g_return_val_if_fail (SCOPE_IS_EMBED_JOB (self), FALSE);
  g_return_val_if_fail (!self->worker.started, FALSE);

  self->running = TRUE;
  if (!scope_worker_start (&self->worker, worker_main, self, "feature space", error))
    {
      self->running = FALSE;
      return FALSE;
    }
  return TRUE;
}

void
scope_embed_job_cancel (ScopeEmbedJob *self)
{
  g_return_if_fail (SCOPE_IS_EMBED_JOB (self));

  scope_worker_request_stop (&self->worker);
  scope_worker_join (&self->worker);
  scope_worker_lock (&self->worker);
  g_clear_pointer (&self->pending_result, scope_embedding_unref);
  g_clear_error (&self->pending_error);
  self->pending_finished = FALSE;
  self->running = FALSE;
  scope_worker_unlock (&self->worker);
}

gboolean
scope_embed_job_is_running (ScopeEmbedJob *self)
{
  g_return_val_if_fail (SCOPE_IS_EMBED_JOB (self), FALSE);

  scope_worker_lock (&self->worker);
  gboolean running = self->running || self->worker.idle != NULL;
  scope_worker_unlock (&self->worker);
  return running;
}

static void
scope_embed_job_dispose (GObject *object)
{
  scope_embed_job_cancel (SCOPE_EMBED_JOB (object));

  G_OBJECT_CLASS (scope_embed_job_parent_class)->dispose (object);
}

static void
scope_embed_job_finalize (GObject *object)
{
  ScopeEmbedJob *self = SCOPE_EMBED_JOB (object);

  scope_model_unref (self->model);
  g_free (self->settings.dataset);
  scope_worker_clear (&self->worker);

  G_OBJECT_CLASS (scope_embed_job_parent_class)->finalize (object);
}

static void
scope_embed_job_class_init (ScopeEmbedJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = scope_embed_job_dispose;
  object_class->finalize = scope_embed_job_finalize;

  /**
   * ScopeEmbedJob::progress:
   * @fraction: of the whole run, in [0, 1]
   * @stage: what runs now
   */
  signals[PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_DOUBLE,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * ScopeEmbedJob::finished:
   * @embedding: (nullable): the result, or NULL on failure
   * @error: (nullable): what went wrong, or NULL
   */
  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, SCOPE_TYPE_EMBEDDING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
scope_embed_job_init (ScopeEmbedJob *self)
{
  scope_worker_init (&self->worker, G_PRIORITY_DEFAULT_IDLE, deliver_idle, self);
  self->pending_fraction = -1.0;
}
