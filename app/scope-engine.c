/* SPDX-License-Identifier: MIT */
/* ScopeEngine: one worker thread, a queue of open jobs (files to read, done in order, before any
 * forward job), a one-job queue of forward passes (a new job replaces the queued one and
 * cancels the running one), an atomic cancellation flag polled between the steps of a job, and
 * at most one idle source scheduled at a time to hand the newest result to the main thread.
 * The threads meet in its ScopeWorker (scope-worker.c): what they share is under the worker's
 * lock, except its cancel flag, which the running job polls without it. */
#include "scope-engine.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "scope-error.h"
#include "scope-worker.h"

typedef struct
{
  guint64     id;
  ScopeModel *model;
  ScopeInput *input;
} Job;

/* An open job: what to read or build (the paths, the current model and input), and what came
 * of it. */
typedef struct
{
  ScopeModel  *model;      /* the image is built for it unless a model is read */
  ScopeInput  *input;      /* rebuilt for a model read, or given a mask */
  gboolean     rebuild;    /* build input for model */
  ScopeOpened *opened;
  atomic_int   cancel;     /* set by scope_engine_cancel_open; the model's load polls it */
} OpenJob;

struct _ScopeEngine
{
  GObject           parent_instance;

  ScopeWorker       worker;          /* stopped: shut down */
  pthread_cond_t    wake;            /* with the worker's lock */
  guint64           last_id;         /* main thread only: ids of jobs handed out */

  /* Under the worker's lock. */
  GQueue            open_jobs;       /* OpenJob, oldest first */
  OpenJob          *open_running;    /* the open job on the worker, or NULL */
  GQueue            opened;          /* ScopeOpened read, waiting for the idle callback */
  char             *progress_path;   /* the model being read when progress_fraction >= 0 */
  double            progress_fraction;   /* newest progress not delivered, or -1 */
  Job              *queued;
  gboolean          running;
  guint64           newest;          /* the one job whose result may still be delivered */
  ScopeActivations *pending;         /* results waiting for the idle callback */
  GError           *pending_error;
};

enum
{
  OPEN_PROGRESS,
  OPENED,
  ACTIVATIONS_READY,
  JOB_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (ScopeEngine, scope_engine, G_TYPE_OBJECT)

static void
job_free (Job *job)
{
  if (job == NULL)
    return;
  scope_model_unref (job->model);
  scope_input_unref (job->input);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Job, job_free)

static void
opened_free (ScopeOpened *opened)
{
  if (opened == NULL)
    return;
  g_free (opened->model_path);
  g_clear_pointer (&opened->model, scope_model_unref);
  g_clear_error (&opened->model_error);
  g_free (opened->image_path);
  g_free (opened->mask_path);
  g_clear_error (&opened->mask_error);
  g_clear_pointer (&opened->input, scope_input_unref);
  g_clear_error (&opened->input_error);
  g_free (opened);
}

static void
open_job_free (OpenJob *job)
{
  if (job == NULL)
    return;
  g_clear_pointer (&job->model, scope_model_unref);
  g_clear_pointer (&job->input, scope_input_unref);
  opened_free (job->opened);
  g_free (job);
}

/* Runs on the worker: gives the input made so far (or the job's own) the mask asked for or
 * found beside the image. */
static void
open_mask (OpenJob *job)
{
  ScopeOpened *o = job->opened;
  ScopeInput *base = o->input != NULL ? o->input : job->input;
  NnError err = { 0 };
  NnImage *mask = nn_image_load (o->mask_path, &err);
  if (mask == NULL)
    {
      scope_error_from_nn (&o->mask_error, &err);
      return;
    }
  ScopeInput *masked = NULL;
  if (base == NULL)
    g_set_error (&o->mask_error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                 _ ("%s: there is no image to put the mask on"), o->mask_path);
  else
    masked = scope_input_new_with_mask (base, mask, &o->mask_error);
  nn_image_free (mask);
  if (masked != NULL)
    {
      g_clear_pointer (&o->input, scope_input_unref);
      o->input = masked;
    }
}

typedef struct
{
  ScopeEngine *engine;
  OpenJob     *job;
} OpenProgress;

/* Runs on the worker while a model loads: keeps the newest fraction for the idle. */
static void
open_progress (double  fraction,
               void   *user_data)
{
  OpenProgress *p = user_data;
  ScopeEngine *self = p->engine;
  scope_worker_lock (&self->worker);
  if (g_strcmp0 (self->progress_path, p->job->opened->model_path) != 0)
    {
      g_free (self->progress_path);
      self->progress_path = g_strdup (p->job->opened->model_path);
    }
  self->progress_fraction = fraction;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

/* Runs on the worker: reads and builds what the job asks for. */
static void
run_open (ScopeEngine *self,
          OpenJob     *job)
{
  ScopeOpened *o = job->opened;
  OpenProgress progress = { self, job };
  const NnLoadControl control = { .cancel = &job->cancel, .progress = open_progress,
                                  .user_data = &progress };
  if (o->model_path != NULL)
    o->model = scope_model_load_with (o->model_path, &control, &o->model_error);
  ScopeModel *model = o->model != NULL ? o->model : job->model;
  if (o->image_path != NULL)
    {
      o->input = scope_input_load (o->image_path, model, &o->input_error);
      if (o->input != NULL && o->mask_path == NULL)
        o->mask_path = nn_mask_find (o->image_path);
    }
  else if (job->input != NULL && (job->rebuild || o->model != NULL))
    o->input = scope_input_rebuild (job->input, model, &o->input_error);
  if (o->mask_path != NULL && (o->image_path == NULL || o->input != NULL))
    open_mask (job);
}

static gboolean
is_cancelled (ScopeEngine *self)
{
  return atomic_load (scope_worker_get_cancel (&self->worker)) != 0;
}

/* Runs on the worker: the forward pass with a context of its own. NULL without error when
 * cancelled. */
static ScopeActivations *
run_forward (ScopeEngine  *self,
             const Job    *job,
             GError      **error)
{
  NnError err = { 0 };
  /* every layer's activations are read: nothing folded away */
  NnContext *ctx = nn_context_new (scope_model_get_graph (job->model), 1, NN_CONTEXT_NO_FOLD,
                                   &err);
  if (ctx == NULL)
    {
      scope_error_from_nn (error, &err);
      return NULL;
    }
  ScopeActivations *result = NULL;
  if (!is_cancelled (self))
    {
      memcpy (nn_context_input (ctx), scope_input_get_nn_input (job->input)->tensor,
              scope_model_get_input_size (job->model) * sizeof (float));
      nn_context_forward (ctx, -1);
    }
  if (!is_cancelled (self))
    {
      result = scope_activations_new_from_context (job->model, scope_input_get_name (job->input),
                                                   ctx);
      if (result == NULL)
        g_set_error (error, SCOPE_NN_ERROR, NN_ERROR_NOMEM,
                     _ ("%s: out of memory for the activations of every layer"),
                     scope_model_get_name (job->model));
    }
  nn_context_free (ctx);
  return result;
}

/* Main thread: hands over whatever arrived since the last call, newest only. */
static gboolean
deliver_idle (gpointer data)
{
  ScopeEngine *self = data;

  if (!scope_worker_begin_deliver (&self->worker))
    return G_SOURCE_REMOVE;
  g_autoptr (ScopeActivations) result = g_steal_pointer (&self->pending);
  g_autoptr (GError) error = g_steal_pointer (&self->pending_error);
  GQueue opened = self->opened;
  g_queue_init (&self->opened);
  g_autofree char *progress_path = g_steal_pointer (&self->progress_path);
  double progress_fraction = self->progress_fraction;
  self->progress_fraction = -1.0;
  scope_worker_unlock (&self->worker);

  if (progress_path != NULL && progress_fraction >= 0.0)
    g_signal_emit (self, signals[OPEN_PROGRESS], 0, progress_path, progress_fraction);
  ScopeOpened *o;
  while ((o = g_queue_pop_head (&opened)) != NULL)
    {
      g_signal_emit (self, signals[OPENED], 0, o);
      opened_free (o);
    }
  if (result != NULL)
    g_signal_emit (self, signals[ACTIVATIONS_READY], 0, result);
  if (error != NULL)
    g_signal_emit (self, signals[JOB_FAILED], 0, error);
  return G_SOURCE_REMOVE;
}

/* Under lock: replaces the pending result and schedules the idle unless one is scheduled. */
static void
publish_locked (ScopeEngine      *self,
                ScopeActivations *result,
                GError           *error)
{
  g_clear_pointer (&self->pending, scope_activations_unref);
  g_clear_error (&self->pending_error);
  self->pending = result;
  self->pending_error = error;
  scope_worker_schedule_locked (&self->worker);
}

/* Under lock: queues what an open job read and schedules the idle unless one is scheduled. */
static void
publish_opened_locked (ScopeEngine *self,
                       ScopeOpened *opened)
{
  g_queue_push_tail (&self->opened, opened);
  scope_worker_schedule_locked (&self->worker);
}

static void *
worker_main (void *data)
{
  ScopeEngine *self = data;

  scope_worker_lock (&self->worker);
  for (;;)
    {
      while (self->queued == NULL && g_queue_is_empty (&self->open_jobs)
             && !self->worker.stopped)
        pthread_cond_wait (&self->wake, &self->worker.lock);
      if (self->worker.stopped)
        break;
      if (!g_queue_is_empty (&self->open_jobs))
        {
          OpenJob *open_job = g_queue_pop_head (&self->open_jobs);
          self->running = TRUE;
          self->open_running = open_job;
          scope_worker_unlock (&self->worker);
          run_open (self, open_job);
          scope_worker_lock (&self->worker);
          self->running = FALSE;
          self->open_running = NULL;
          if (!self->worker.stopped)
            publish_opened_locked (self, g_steal_pointer (&open_job->opened));
          open_job_free (open_job);
          continue;
        }
      g_autoptr (Job) job = g_steal_pointer (&self->queued);
      /* Cancellation requested before this job was taken belonged to older jobs. */
      atomic_store (scope_worker_get_cancel (&self->worker), 0);
      self->running = TRUE;
      scope_worker_unlock (&self->worker);

      g_autoptr (GError) error = NULL;
      ScopeActivations *result = run_forward (self, job, &error);

      scope_worker_lock (&self->worker);
      self->running = FALSE;
      if (job->id == self->newest && !self->worker.stopped
          && (result != NULL || error != NULL))
        publish_locked (self, result, g_steal_pointer (&error));
      else
        g_clear_pointer (&result, scope_activations_unref);
    }
  scope_worker_unlock (&self->worker);
  return NULL;
}

/* Main thread: starts the worker unless it runs; FALSE with error after shutdown. */
static gboolean
ensure_thread (ScopeEngine  *self,
               GError      **error)
{
  scope_worker_lock (&self->worker);
  gboolean quit = self->worker.stopped;
  scope_worker_unlock (&self->worker);
  if (quit)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "the engine is shut down");
      return FALSE;
    }
  if (!self->worker.started)
    return scope_worker_start (&self->worker, worker_main, self, "engine", error);
  return TRUE;
}

/* Main thread: queues job (taken); 0 with error after shutdown. */
static guint64
queue_open (ScopeEngine  *self,
            OpenJob      *job,
            GError      **error)
{
  if (!ensure_thread (self, error))
    {
      open_job_free (job);
      return 0;
    }
  scope_worker_lock (&self->worker);
  g_queue_push_tail (&self->open_jobs, job);
  pthread_cond_signal (&self->wake);
  scope_worker_unlock (&self->worker);
  return ++self->last_id;
}

static OpenJob *
open_job_new (ScopeModel *model,
              ScopeInput *input)
{
  OpenJob *job = g_new0 (OpenJob, 1);
  atomic_init (&job->cancel, 0);
  job->model = model != NULL ? scope_model_ref (model) : NULL;
  job->input = input != NULL ? scope_input_ref (input) : NULL;
  job->opened = g_new0 (ScopeOpened, 1);
  return job;
}

guint64
scope_engine_open (ScopeEngine  *self,
                   const char   *model_path,
                   const char   *image_path,
                   ScopeModel   *model,
                   ScopeInput   *input,
                   GError      **error)
{
  g_return_val_if_fail (SCOPE_IS_ENGINE (self), 0);
  g_return_val_if_fail (model_path != NULL || image_path != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  OpenJob *job = open_job_new (model, input);
  job->opened->model_path = g_strdup (model_path);
  job->opened->image_path = g_strdup (image_path);
  return queue_open (self, job, error);
}

guint64
scope_engine_open_mask (ScopeEngine  *self,
                        const char   *mask_path,
                        ScopeInput   *input,
                        GError      **error)
{
  g_return_val_if_fail (SCOPE_IS_ENGINE (self), 0);
  g_return_val_if_fail (mask_path != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  OpenJob *job = open_job_new (NULL, input);
  job->opened->mask_path = g_strdup (mask_path);
  return queue_open (self, job, error);
}

guint64
scope_engine_rebuild (ScopeEngine  *self,
                      ScopeInput   *input,
                      ScopeModel   *model,
                      GError      **error)
{
  g_return_val_if_fail (SCOPE_IS_ENGINE (self), 0);
  g_return_val_if_fail (input != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  OpenJob *job = open_job_new (model, input);
  job->rebuild = TRUE;
  return queue_open (self, job, error);
}

guint64
scope_engine_run_forward (ScopeEngine  *self,
                          ScopeModel   *model,
                          ScopeInput   *input,
                          GError      **error)
{
  g_return_val_if_fail (SCOPE_IS_ENGINE (self), 0);
  g_return_val_if_fail (model != NULL, 0);
  g_return_val_if_fail (input != NULL && scope_input_fits (input, model), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!ensure_thread (self, error))
    return 0;

  Job *job = g_new0 (Job, 1);
  guint64 id = job->id = ++self->last_id;
  job->model = scope_model_ref (model);
  job->input = scope_input_ref (input);

  /* Only this (the main) thread stops the worker, so it still runs here. */
  scope_worker_lock (&self->worker);
  job_free (self->queued);
  self->queued = job;
  self->newest = job->id;
  atomic_store (scope_worker_get_cancel (&self->worker), 1);
  /* A result of an older job that is waiting for the idle is stale now. */
  g_clear_pointer (&self->pending, scope_activations_unref);
  g_clear_error (&self->pending_error);
  pthread_cond_signal (&self->wake);
  scope_worker_unlock (&self->worker);
  /* Not job->id: once unlocked, the worker may have run and freed the job. */
  return id;
}

void
scope_engine_cancel (ScopeEngine *self)
{
  g_return_if_fail (SCOPE_IS_ENGINE (self));

  scope_worker_lock (&self->worker);
  g_clear_pointer (&self->queued, job_free);
  self->newest = 0;
  atomic_store (scope_worker_get_cancel (&self->worker), 1);
  g_clear_pointer (&self->pending, scope_activations_unref);
  g_clear_error (&self->pending_error);
  scope_worker_unlock (&self->worker);
}

/* Under lock: sets the cancel flag of every open job queued or running. */
static void
cancel_opens_locked (ScopeEngine *self)
{
  for (GList *l = self->open_jobs.head; l != NULL; l = l->next)
    atomic_store (&((OpenJob *) l->data)->cancel, 1);
  if (self->open_running != NULL)
    atomic_store (&self->open_running->cancel, 1);
}

void
scope_engine_cancel_open (ScopeEngine *self)
{
  g_return_if_fail (SCOPE_IS_ENGINE (self));

  scope_worker_lock (&self->worker);
  cancel_opens_locked (self);
  scope_worker_unlock (&self->worker);
}

void
scope_engine_shutdown (ScopeEngine *self)
{
  g_return_if_fail (SCOPE_IS_ENGINE (self));

  /* A model being read stops at its next tensor rather than holding the join. */
  scope_engine_cancel_open (self);
  scope_worker_request_stop (&self->worker);
  scope_worker_lock (&self->worker);
  self->newest = 0;
  g_clear_pointer (&self->queued, job_free);
  g_queue_clear_full (&self->open_jobs, (GDestroyNotify) open_job_free);
  pthread_cond_signal (&self->wake);
  scope_worker_unlock (&self->worker);
  scope_worker_join (&self->worker);

  /* The worker is gone: drop what was not delivered. */
  scope_worker_lock (&self->worker);
  g_clear_pointer (&self->pending, scope_activations_unref);
  g_clear_error (&self->pending_error);
  g_queue_clear_full (&self->opened, (GDestroyNotify) opened_free);
  g_clear_pointer (&self->progress_path, g_free);
  scope_worker_unlock (&self->worker);
}

gboolean
scope_engine_is_busy (ScopeEngine *self)
{
  g_return_val_if_fail (SCOPE_IS_ENGINE (self), FALSE);

  scope_worker_lock (&self->worker);
  gboolean busy = self->queued != NULL || !g_queue_is_empty (&self->open_jobs) || self->running
                  || self->worker.idle != NULL;
  scope_worker_unlock (&self->worker);
  return busy;
}

static void
scope_engine_dispose (GObject *object)
{
  scope_engine_shutdown (SCOPE_ENGINE (object));

  G_OBJECT_CLASS (scope_engine_parent_class)->dispose (object);
}

static void
scope_engine_finalize (GObject *object)
{
  ScopeEngine *self = SCOPE_ENGINE (object);

  pthread_cond_destroy (&self->wake);
  scope_worker_clear (&self->worker);

  G_OBJECT_CLASS (scope_engine_parent_class)->finalize (object);
}

static void
scope_engine_class_init (ScopeEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = scope_engine_dispose;
  object_class->finalize = scope_engine_finalize;

  /**
   * ScopeEngine::open-progress:
   * @path: the model being read
   * @fraction: how much of it was read, from 0 to 1
   *
   * Emitted on the main context while a model is read, with the newest fraction (reports that
   * arrive between two main-loop iterations merge), before the "opened" of that model.
   */
  signals[OPEN_PROGRESS] =
    g_signal_new ("open-progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_DOUBLE);

  /**
   * ScopeEngine::opened:
   * @opened: (type gpointer): a `ScopeOpened *`, valid during the emission; handlers may
   *   steal its model and input
   *
   * Emitted on the main context when an open, mask or rebuild job is done (or failed).
   */
  signals[OPENED] =
    g_signal_new ("opened", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_POINTER);

  /**
   * ScopeEngine::activations-ready:
   * @activations: the newest forward job's result
   *
   * Emitted on the main context when the newest forward job has finished.
   */
  signals[ACTIVATIONS_READY] =
    g_signal_new ("activations-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  SCOPE_TYPE_ACTIVATIONS | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * ScopeEngine::job-failed:
   * @error: what went wrong, naming the model
   *
   * Emitted on the main context when the newest job failed.
   */
  signals[JOB_FAILED] =
    g_signal_new ("job-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
scope_engine_init (ScopeEngine *self)
{
  scope_worker_init (&self->worker, G_PRIORITY_DEFAULT_IDLE, deliver_idle, self);
  pthread_cond_init (&self->wake, NULL);
  g_queue_init (&self->open_jobs);
  g_queue_init (&self->opened);
  self->progress_fraction = -1.0;
}

ScopeEngine *
scope_engine_new (void)
{
  return g_object_new (SCOPE_TYPE_ENGINE, NULL);
}
