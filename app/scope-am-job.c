/* SPDX-License-Identifier: MIT */
/* ScopeAmJob: the AM worker and its hand-over. The threads meet in its ScopeWorker
 * (scope-worker.c): what they share is under the worker's lock; nn_am_run_step polls its
 * cancel flag before every step. */
#include "scope-am-job.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "scope-error.h"
#include "scope-worker.h"

struct _ScopeAmJob
{
  GObject       parent_instance;

  ScopeModel   *model;
  NnAmSettings  settings;        /* channels, start and direction point at the copies below */
  int          *channels;
  float        *start;           /* settings.start_items images, or NULL */
  float        *direction;       /* one weight per channel of the layer, or NULL */
  int           batch;
  ScopeAmState  state;           /* main thread: the last delivered state */
  ScopeWorker   worker;

  /* Under the worker's lock. */
  ScopeAmState  pending_state;
  gboolean      state_changed;
  GPtrArray    *pending;         /* ScopeAmResult, oldest first */
  int           n_done;
  guint         n_posted;
  GError       *pending_error;
};

enum
{
  UPDATE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (ScopeAmJob, scope_am_job, G_TYPE_OBJECT)

/* Results: one allocation holding the struct and its arrays. */

static ScopeAmResult *
result_new (const NnAmRun *run,
            const NnModel *model,
            int            first,
            int            steps,
            gboolean       best)
{
  int n = nn_am_run_get_items (run), n_history = 0;
  NnShape shape = nn_am_run_get_shape (run);
  gsize size = (gsize) shape.c * (gsize) shape.h * (gsize) shape.w;
  const float *history = nn_am_run_peek_history (run, 0, &n_history);
  gsize bytes = sizeof (ScopeAmResult) + sizeof (int) * (gsize) n
                + sizeof (float) * (size * (gsize) n + (gsize) n + (gsize) n_history);
  ScopeAmResult *r = g_atomic_rc_box_alloc0 (bytes);
  int *channels = (int *) (void *) (r + 1);
  float *pixels = (float *) (void *) (channels + n);
  float *objectives = pixels + size * (gsize) n;
  float *hist = objectives + n;
  for (int k = 0; k < n; k++)
    {
      channels[k] = nn_am_run_get_channel (run, k);
      NnImage out = { .c = shape.c, .h = shape.h, .w = shape.w, .bit_depth = 8,
                      .data = pixels + size * (gsize) k };
      nn_am_image_to_pixels (model, best ? nn_am_run_peek_best (run, k)
                                         : nn_am_run_peek_image (run, k), &out);
      objectives[k] = best ? nn_am_run_get_best_objective (run, k)
                           : nn_am_run_get_objective (run, k);
    }
  if (n_history > 0)
    memcpy (hist, history, sizeof (float) * (gsize) n_history);
  r->first = first;
  r->n_items = n;
  r->channels = channels;
  r->c = shape.c;
  r->h = shape.h;
  r->w = shape.w;
  r->pixels = pixels;
  r->objectives = objectives;
  r->history = hist;
  r->n_history = n_history;
  r->step = nn_am_run_get_step (run);
  r->steps = steps;
  r->done = nn_am_run_is_done (run);
  return r;
}

ScopeAmResult *
scope_am_result_ref (ScopeAmResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);

  return g_atomic_rc_box_acquire (result);
}

void
scope_am_result_unref (ScopeAmResult *result)
{
  if (result != NULL)
    g_atomic_rc_box_release (result);
}

/* Hand-over. */

/* Main thread: everything pending as one update. */
static gboolean
deliver_idle (gpointer data)
{
  ScopeAmJob *self = data;

  if (!scope_worker_begin_deliver (&self->worker))
    return G_SOURCE_REMOVE;
  g_autoptr (GPtrArray) results = self->pending;
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) scope_am_result_unref);
  g_autoptr (GError) error = g_steal_pointer (&self->pending_error);
  gboolean state_changed = self->state_changed;
  self->state_changed = FALSE;
  ScopeAmUpdate update = {
    .state = self->pending_state,
    .results = (ScopeAmResult *const *) results->pdata,
    .n_results = results->len,
    .n_done = self->n_done,
    .n_total = self->settings.n_channels,
    .error = error,
  };
  scope_worker_unlock (&self->worker);

  self->state = update.state;
  if (state_changed || update.n_results > 0 || error != NULL)
    g_signal_emit (self, signals[UPDATE], 0, &update);
  return G_SOURCE_REMOVE;
}

static void
set_state (ScopeAmJob   *self,
           ScopeAmState  state,
           GError       *error)
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

/* Worker: takes result; replaces an undelivered one of the same batch. */
static void
post (ScopeAmJob    *self,
      ScopeAmResult *result)
{
  scope_worker_lock (&self->worker);
  GPtrArray *p = self->pending;
  if (p->len > 0)
    {
      ScopeAmResult *last = g_ptr_array_index (p, p->len - 1);
      if (last->first == result->first)
        g_ptr_array_remove_index (p, p->len - 1);
    }
  g_ptr_array_add (p, result);
  if (result->done)
    self->n_done = result->first + result->n_items;
  self->n_posted++;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

/* Worker: one batch from start to end; FALSE when it was cancelled or failed. */
static gboolean
run_batch (ScopeAmJob  *self,
           int          first,
           GError     **error)
{
  const NnModel *model = scope_model_get_nn_model (self->model);
  NnAmSettings s = self->settings;
  s.channels = self->channels + first;
  s.n_channels = MIN (self->batch, self->settings.n_channels - first);
  /* A start with one image per item: this batch's images. */
  if (s.start != NULL && s.start_items > 1)
    {
      NnShape in = model->graph->nodes[0].shape;
      s.start += (gsize) first * (gsize) in.c * (gsize) in.h * (gsize) in.w;
      s.start_items = s.n_channels;
    }
  NnError err = { 0 };
  NnAmRun *run = nn_am_run_new (model, &s, &err);
  if (run == NULL)
    return scope_error_from_nn (error, &err), FALSE;

  post (self, result_new (run, model, first, s.steps, FALSE));
  gint64 last = g_get_monotonic_time ();
  gboolean ok = TRUE;
  while (ok && !nn_am_run_is_done (run))
    {
      ok = nn_am_run_step (run, 1, scope_worker_get_cancel (&self->worker), &err);
      gint64 now = g_get_monotonic_time ();
      if (ok && (nn_am_run_is_done (run) || now - last >= SCOPE_AM_JOB_INTERVAL_US))
        {
          post (self, result_new (run, model, first, s.steps, FALSE));
          last = now;
        }
    }
  if (!ok && err.code != NN_ERROR_CANCELLED)
    {
      /* Not finite any more: the best images so far, to look at, and the message. */
      post (self, result_new (run, model, first, s.steps, TRUE));
      scope_error_from_nn (error, &err);
    }
  nn_am_run_free (run);
  return ok;
}

static void *
worker_main (void *data)
{
  ScopeAmJob *self = data;

  for (int first = 0; first < self->settings.n_channels; first += self->batch)
    {
      GError *error = NULL;
      if (!run_batch (self, first, &error))
        {
          if (error != NULL)
            set_state (self, SCOPE_AM_FAILED, error);
          return NULL;
        }
    }
  set_state (self, SCOPE_AM_FINISHED, NULL);
  return NULL;
}

/* API. */

ScopeAmJob *
scope_am_job_new (ScopeModel         *model,
                  const NnAmSettings *settings,
                  int                 batch)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (settings != NULL, NULL);
  g_return_val_if_fail (settings->n_channels >= 1 && settings->channels != NULL, NULL);
  g_return_val_if_fail (batch >= 1, NULL);

  ScopeAmJob *self = g_object_new (SCOPE_TYPE_AM_JOB, NULL);
  self->model = scope_model_ref (model);
  self->settings = *settings;
  self->channels = g_memdup2 (settings->channels, sizeof (int) * (gsize) settings->n_channels);
  self->settings.channels = self->channels;
  const NnGraph *g = scope_model_get_graph (model);
  if (settings->start != NULL)
    {
      NnShape in = g->nodes[0].shape;
      self->start = g_memdup2 (settings->start, sizeof (float) * (gsize) settings->start_items
                                                * (gsize) in.c * (gsize) in.h * (gsize) in.w);
    }
  self->settings.start = self->start;
  self->settings.start_items = self->start != NULL ? settings->start_items : 0;
  if (settings->direction != NULL && settings->layer >= 0 && settings->layer < g->n_nodes)
    self->direction = g_memdup2 (settings->direction,
                                 sizeof (float) * (gsize) g->nodes[settings->layer].shape.c);
  self->settings.direction = self->direction;
  self->batch = batch;
  return self;
}

gboolean
scope_am_job_start (ScopeAmJob  *self,
                    GError     **error)
{
  g_return_val_if_fail (SCOPE_IS_AM_JOB (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->worker.started)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                           _ ("this activation maximization was started before"));
      return FALSE;
    }
  self->state = SCOPE_AM_RUNNING;
  scope_worker_lock (&self->worker);
  self->pending_state = SCOPE_AM_RUNNING;
  self->state_changed = TRUE;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
  if (!scope_worker_start (&self->worker, worker_main, self, "activation maximization",
                           error))
    {
      self->state = SCOPE_AM_FAILED;
      return FALSE;
    }
  return TRUE;
}

void
scope_am_job_stop (ScopeAmJob *self)
{
  g_return_if_fail (SCOPE_IS_AM_JOB (self));

  scope_worker_request_stop (&self->worker);
  scope_worker_join (&self->worker);

  /* The worker is gone: drop what was not delivered. */
  scope_worker_lock (&self->worker);
  g_ptr_array_set_size (self->pending, 0);
  g_clear_error (&self->pending_error);
  scope_worker_unlock (&self->worker);
  if (self->state == SCOPE_AM_RUNNING)
    self->state = SCOPE_AM_STOPPED;
}

ScopeAmState
scope_am_job_get_state (ScopeAmJob *self)
{
  g_return_val_if_fail (SCOPE_IS_AM_JOB (self), SCOPE_AM_IDLE);

  return self->state;
}

const NnAmSettings *
scope_am_job_get_settings (ScopeAmJob *self)
{
  g_return_val_if_fail (SCOPE_IS_AM_JOB (self), NULL);

  return &self->settings;
}

guint
scope_am_job_get_n_posted (ScopeAmJob *self)
{
  g_return_val_if_fail (SCOPE_IS_AM_JOB (self), 0);

  scope_worker_lock (&self->worker);
  guint n = self->n_posted;
  scope_worker_unlock (&self->worker);
  return n;
}

static void
scope_am_job_dispose (GObject *object)
{
  scope_am_job_stop (SCOPE_AM_JOB (object));

  G_OBJECT_CLASS (scope_am_job_parent_class)->dispose (object);
}

static void
scope_am_job_finalize (GObject *object)
{
  ScopeAmJob *self = SCOPE_AM_JOB (object);

  g_clear_pointer (&self->model, scope_model_unref);
  g_free (self->channels);
  g_free (self->start);
  g_free (self->direction);
  g_ptr_array_unref (self->pending);
  scope_worker_clear (&self->worker);

  G_OBJECT_CLASS (scope_am_job_parent_class)->finalize (object);
}

static void
scope_am_job_class_init (ScopeAmJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = scope_am_job_dispose;
  object_class->finalize = scope_am_job_finalize;

  /**
   * ScopeAmJob::update:
   * @update: (type gpointer): a `const ScopeAmUpdate *`, valid during the emission
   *
   * Emitted on the main context with what the worker posted since the last emission.
   */
  signals[UPDATE] =
    g_signal_new ("update", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
scope_am_job_init (ScopeAmJob *self)
{
  /* At the default priority, above GTK's layout and paint: a result that arrives during a
   * frame is shown on the next one, not after it. */
  scope_worker_init (&self->worker, G_PRIORITY_DEFAULT, deliver_idle, self);
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) scope_am_result_unref);
}
