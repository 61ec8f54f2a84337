/* SPDX-License-Identifier: MIT */
/* ScopeExamplesJob: reads the dataset, then the cache or the ranking of every channel of the
 * layer on its ScopeWorker's thread (scope-worker.c, where the threads meet), polling the
 * worker's cancel flag; a computed ranking is written to the cache before it is delivered. */
#include "scope-examples-job.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "scope-error.h"
#include "scope-worker.h"

/* Samples per forward pass, as the CLI's examples runs them. */
#define EXAMPLES_BATCH 64

/* The share of the run reading the dataset takes, for one progress bar. */
#define READ_SHARE 0.1

static void
examples_clear (ScopeExamples *self)
{
  nn_examples_free (self->examples);
  nn_dataset_free (self->samples);
  g_free (self->layer);
  g_free (self->dataset);
  g_free (self->cache_note);
}

ScopeExamples *
scope_examples_ref (ScopeExamples *self)
{
  return g_atomic_rc_box_acquire (self);
}

void
scope_examples_unref (ScopeExamples *self)
{
  if (self != NULL)
    g_atomic_rc_box_release_full (self, (GDestroyNotify) examples_clear);
}

G_DEFINE_BOXED_TYPE (ScopeExamples, scope_examples, scope_examples_ref, scope_examples_unref)

struct _ScopeExamplesJob
{
  GObject                parent_instance;

  /* Set before the thread starts, read-only afterwards. */
  ScopeModel            *model;
  ScopeExamplesSettings  settings;   /* the strings are owned */

  ScopeWorker            worker;

  /* Under the worker's lock. */
  double                 pending_fraction;  /* < 0: no progress pending */
  const char            *pending_stage;
  gboolean               pending_finished;
  ScopeExamples         *pending_result;
  GError                *pending_error;
};

enum
{
  PROGRESS,
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (ScopeExamplesJob, scope_examples_job, G_TYPE_OBJECT)

/* Main context: hands over whatever arrived since the last call. */
static gboolean
deliver_idle (gpointer data)
{
  ScopeExamplesJob *self = data;

  if (!scope_worker_begin_deliver (&self->worker))
    return G_SOURCE_REMOVE;
  double fraction = self->pending_fraction;
  const char *stage = self->pending_stage;
  gboolean finished = self->pending_finished;
  g_autoptr (ScopeExamples) result = g_steal_pointer (&self->pending_result);
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
post_progress (ScopeExamplesJob *self,
               double            fraction,
               const char       *stage)
{
  scope_worker_lock (&self->worker);
  self->pending_fraction = fraction;
  self->pending_stage = stage;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

static void
on_progress (int   done,
             int   total,
             void *user_data)
{
  post_progress (user_data, READ_SHARE + (1.0 - READ_SHARE) * done / MAX (total, 1),
                 N_ ("ranking"));
}

/* The cached ranking when the cache holds one for this dataset, else NULL (with the reason in
 * e->cache_note when the file exists but cannot serve). */
static NnExamples *
read_cache (ScopeExamplesJob *self,
            ScopeExamples    *e)
{
  const ScopeExamplesSettings *s = &self->settings;
  if (s->cache_path == NULL)
    return NULL;
  NnError err = { 0 };
  NnExamples *ex = nn_examples_load (s->cache_path, s->cache_key, &err);
  const NnShape shape = scope_model_get_graph (self->model)->nodes[s->node].shape;
  if (ex != NULL && (ex->n != e->samples->n || ex->c != shape.c))
    {
      nn_examples_free (ex);
      nn_error_set (&err, NN_ERROR_FORMAT, "%s: written for another size of data or layer",
                    s->cache_path);
      ex = NULL;
    }
  if (ex == NULL && err.code != NN_ERROR_IO)
    e->cache_note = g_strdup (err.message);
  return ex;
}

/* The whole run; NULL with err on failure or cancel. */
static ScopeExamples *
rank (ScopeExamplesJob *self,
      NnError          *err)
{
  const ScopeExamplesSettings *s = &self->settings;
  NnModel *model = (NnModel *) scope_model_get_nn_model (self->model);
  const NnGraph *graph = scope_model_get_graph (self->model);
  int ic = nn_model_input_channels (model);
  if (ic != 1 && ic != 3)
    {
      nn_error_set (err, NN_ERROR_SPEC, "the model takes %d input channels; datasets give 1 "
                    "or 3", ic);
      return NULL;
    }
  NnReceptiveField field;
  if (!nn_receptive_field (&field, graph, s->node, err))
    return NULL;
  post_progress (self, 0.0, N_ ("reading the dataset"));
  NnDataset *ds = nn_dataset_open (s->dataset, FALSE, ic, nn_model_input_height (model),
                                   nn_model_input_width (model), err);
  if (ds == NULL)
    return NULL;
  if (model->has_window && ds->ct16)
    nn_dataset_apply_ct_window (ds, &model->window);

  ScopeExamples *e = g_atomic_rc_box_new0 (ScopeExamples);
  e->samples = ds;
  e->field = field;
  e->node = s->node;
  e->layer = g_strdup (graph->nodes[s->node].name);
  e->dataset = g_strdup (s->dataset);
  if (atomic_load (scope_worker_get_cancel (&self->worker)))
    {
      nn_error_set (err, NN_ERROR_CANCELLED, "cancelled");
      scope_examples_unref (e);
      return NULL;
    }
  post_progress (self, READ_SHARE, N_ ("reading the cache"));
  e->examples = read_cache (self, e);
  e->from_cache = e->examples != NULL;
  if (e->examples != NULL)
    return e;

  post_progress (self, READ_SHARE, N_ ("ranking"));
  e->examples = nn_examples_new (model, ds, s->node, s->k, EXAMPLES_BATCH, on_progress, self,
                                 scope_worker_get_cancel (&self->worker), err);
  if (e->examples == NULL)
    {
      scope_examples_unref (e);
      return NULL;
    }
  if (s->cache_path != NULL)
    {
      /* A cache that cannot be written costs only the next run's time: noted, not fatal. */
      NnError cache_err = { 0 };
      g_autofree char *dir = g_path_get_dirname (s->cache_path);
      if (g_mkdir_with_parents (dir, 0700) != 0)
        nn_error_set (&cache_err, NN_ERROR_IO, "%s: cannot create the folder", dir);
      else
        nn_examples_save (e->examples, s->cache_path, s->cache_key, &cache_err);
      if (cache_err.code != NN_ERROR_NONE)
        {
          g_free (e->cache_note);
          e->cache_note = g_strdup (cache_err.message);
        }
    }
  return e;
}

static void *
worker_main (void *data)
{
  ScopeExamplesJob *self = data;
  NnError err = { 0 };
  ScopeExamples *e = rank (self, &err);

  scope_worker_lock (&self->worker);
  self->pending_finished = TRUE;
  self->pending_result = e;
  if (e == NULL)
    scope_error_from_nn (&self->pending_error, &err);
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
  return NULL;
}

ScopeExamplesJob *
scope_examples_job_new (ScopeModel                  *model,
                        const ScopeExamplesSettings *settings)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (settings != NULL && settings->dataset != NULL, NULL);
  g_return_val_if_fail (settings->node > 0
                        && settings->node < scope_model_get_graph (model)->n_nodes, NULL);
  g_return_val_if_fail ((settings->cache_path == NULL) == (settings->cache_key == NULL), NULL);

  ScopeExamplesJob *self = g_object_new (SCOPE_TYPE_EXAMPLES_JOB, NULL);
  self->model = scope_model_ref (model);
  self->settings = *settings;
  self->settings.dataset = g_strdup (settings->dataset);
  self->settings.cache_path = g_strdup (settings->cache_path);
  self->settings.cache_key = g_strdup (settings->cache_key);
  return self;
}

gboolean
scope_examples_job_start (ScopeExamplesJob  *self,
                          GError           **error)
{
  g_return_val_if_fail (SCOPE_IS_EXAMPLES_JOB (self), FALSE);
  g_return_val_if_fail (!self->worker.started, FALSE);

  return scope_worker_start (&self->worker, worker_main, self, "dataset examples", error);
}

void
scope_examples_job_cancel (ScopeExamplesJob *self)
{
  g_return_if_fail (SCOPE_IS_EXAMPLES_JOB (self));

  scope_worker_request_stop (&self->worker);
  scope_worker_join (&self->worker);
  scope_worker_lock (&self->worker);
  g_clear_pointer (&self->pending_result, scope_examples_unref);
  g_clear_error (&self->pending_error);
  self->pending_finished = FALSE;
  scope_worker_unlock (&self->worker);
}

static void
scope_examples_job_dispose (GObject *object)
{
  scope_examples_job_cancel (SCOPE_EXAMPLES_JOB (object));

  G_OBJECT_CLASS (scope_examples_job_parent_class)->dispose (object);
}

static void
scope_examples_job_finalize (GObject *object)
{
  ScopeExamplesJob *self = SCOPE_EXAMPLES_JOB (object);

  scope_model_unref (self->model);
  g_free (self->settings.dataset);
  g_free (self->settings.cache_path);
  g_free (self->settings.cache_key);
  scope_worker_clear (&self->worker);

  G_OBJECT_CLASS (scope_examples_job_parent_class)->finalize (object);
}

static void
scope_examples_job_class_init (ScopeExamplesJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = scope_examples_job_dispose;
  object_class->finalize = scope_examples_job_finalize;

  /**
   * ScopeExamplesJob::progress:
   * @fraction: of the whole run, in [0, 1]
   * @stage: what runs now
   */
  signals[PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_DOUBLE,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * ScopeExamplesJob::finished:
   * @examples: (nullable): the result, or NULL on failure
   * @error: (nullable): what went wrong, or NULL
   */
  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, SCOPE_TYPE_EXAMPLES | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
scope_examples_job_init (ScopeExamplesJob *self)
{
  scope_worker_init (&self->worker, G_PRIORITY_DEFAULT_IDLE, deliver_idle, self);
  self->pending_fraction = -1.0;
}
