/* SPDX-License-Identifier: MIT */
/* ScopeVolumeJob: the worker side of the Volume view. Results go out through the worker's one
 * merged idle: the newest progress, and once the end (the volume read, or an error). */
#include "scope-volume-job.h"

#include <gio/gio.h>
#include <string.h>

#include "scope-error.h"
#include "scope-worker.h"

struct _ScopeVolumeJob
{
  /* Set before the thread starts, read-only afterwards. */
  char                   *path;      /* load */
  ScopeModel             *model;     /* classify */
  const NnVolume         *volume;
  NnCtWindow              window;
  gboolean                has_window;
  int                     classes;   /* classify; 0 for explain */
  NnExplainSpec           spec;
  NnVolume               *attribution; /* explain: written by the worker slice by slice */
  ScopeVolumeJobProgress  progress;
  ScopeVolumeJobDone      done;
  gpointer                data;

  ScopeWorker             worker;

  /* Under the worker's lock. */
  float                  *probs;     /* volume->nz x classes */
  int                     slices_done;
  gboolean                pending_progress;
  gboolean                finished;
  NnVolume               *result;
  GError                 *error;

  /* Main thread only. */
  gboolean                delivered_end;
  float                  *shown;     /* a copy of probs handed to progress */
};

static gboolean
deliver_idle (gpointer data)
{
  ScopeVolumeJob *self = data;

  if (!scope_worker_begin_deliver (&self->worker))
    return G_SOURCE_REMOVE;
  int done = self->slices_done;
  gboolean progress = self->pending_progress;
  if (progress && self->classes > 0)
    memcpy (self->shown, self->probs, (gsize) done * (gsize) self->classes * sizeof (float));
  self->pending_progress = FALSE;
  gboolean finished = self->finished;
  NnVolume *result = g_steal_pointer (&self->result);
  g_autoptr (GError) error = g_steal_pointer (&self->error);
  self->finished = FALSE;
  scope_worker_unlock (&self->worker);

  if (progress && self->progress != NULL)
    self->progress (done, self->volume->nz, self->shown, self->data);
  if (finished && !self->delivered_end)
    {
      self->delivered_end = TRUE;
      self->done (result, error, self->data);
    }
  else
    nn_volume_free (result);
  return G_SOURCE_REMOVE;
}

static void
finish (ScopeVolumeJob *self,
        NnVolume       *result,
        NnError        *err)
{
  scope_worker_lock (&self->worker);
  self->finished = TRUE;
  self->result = result;
  if (result == NULL && err != NULL && err->code != NN_ERROR_NONE)
    scope_error_from_nn (&self->error, err);
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

static void *
load_main (void *data)
{
  ScopeVolumeJob *self = data;
  NnError err = { 0 };
  NnVolume *read = nn_volume_load (self->path, &err);
  NnVolume *lps = read != NULL ? nn_volume_reorient (read, "LPS", &err) : NULL;
  nn_volume_free (read);
  finish (self, lps, &err);
  return NULL;
}

static void
slice_done (int                  k,
            const float         *probs,
            const NnExplanation *explanation,
            void                *user_data)
{
  (void) explanation;
  ScopeVolumeJob *self = user_data;
  scope_worker_lock (&self->worker);
  memcpy (self->probs + (gsize) k * (gsize) self->classes, probs,
          (gsize) self->classes * sizeof (float));
  self->slices_done = k + 1;
  self->pending_progress = TRUE;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

static void *
classify_main (void *data)
{
  ScopeVolumeJob *self = data;
  NnError err = { 0 };
  /* The engine fills its own array; slice_done copies each row under the lock. */
  float *probs = g_try_new (float, (gsize) self->volume->nz * (gsize) self->classes);
  gboolean ok = FALSE;
  if (probs == NULL)
    nn_error_set (&err, NN_ERROR_NOMEM, "out of memory for the slice probabilities");
  else
    ok = nn_volume_classify (scope_model_get_nn_model (self->model), self->volume, self->path,
                             self->has_window ? &self->window : NULL, 0, self->volume->nz, 8,
                             probs, NULL, slice_done, self,
                             scope_worker_get_cancel (&self->worker), &err);
  g_free (probs);
  if (ok)
    err.code = NN_ERROR_NONE;
  finish (self, NULL, &err);
  return NULL;
}

static void
explained (int                  k,
           const float         *probs,
           const NnExplanation *explanation,
           void                *user_data)
{
  (void) probs;
  (void) explanation;
  ScopeVolumeJob *self = user_data;
  scope_worker_lock (&self->worker);
  self->slices_done = k + 1;
  self->pending_progress = TRUE;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

static void *
explain_main (void *data)
{
  ScopeVolumeJob *self = data;
  NnError err = { 0 };
  if (nn_volume_explain (scope_model_get_nn_model (self->model), self->volume, NULL, self->path,
                         self->has_window ? &self->window : NULL, &self->spec, 0,
                         self->volume->nz, self->attribution, explained, self,
                         scope_worker_get_cancel (&self->worker), &err))
    err.code = NN_ERROR_NONE;
  finish (self, NULL, &err);
  return NULL;
}

static ScopeVolumeJob *
job_new (ScopeVolumeJobDone done,
         gpointer           data)
{
  ScopeVolumeJob *self = g_new0 (ScopeVolumeJob, 1);
  self->done = done;
  self->data = data;
  scope_worker_init (&self->worker, G_PRIORITY_DEFAULT, deliver_idle, self);
  return self;
}

static ScopeVolumeJob *
job_start (ScopeVolumeJob   *self,
           ScopeWorkerFunc   func,
           const char       *what,
           GError          **error)
{
  if (!scope_worker_start (&self->worker, func, self, what, error))
    {
      scope_volume_job_free (self);
      return NULL;
    }
  return self;
}

ScopeVolumeJob *
scope_volume_job_load (const char          *path,
                       ScopeVolumeJobDone   done,
                       gpointer             data,
                       GError             **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (done != NULL, NULL);

  ScopeVolumeJob *self = job_new (done, data);
  self->path = g_strdup (path);
  return job_start (self, load_main, "volume", error);
}

ScopeVolumeJob *
scope_volume_job_classify (ScopeModel              *model,
                           const NnVolume          *volume,
                           const char              *name,
                           const NnCtWindow        *window,
                           ScopeVolumeJobProgress   progress,
                           ScopeVolumeJobDone       done,
                           gpointer                 data,
                           GError                 **error)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (volume != NULL, NULL);
  g_return_val_if_fail (done != NULL, NULL);

  ScopeVolumeJob *self = job_new (done, data);
  self->path = g_strdup (name != NULL ? name : "volume");
  self->model = scope_model_ref (model);
  self->volume = volume;
  self->has_window = window != NULL;
  if (window != NULL)
    self->window = *window;
  self->classes = scope_model_get_nn_model (model)->n_classes;
  self->progress = progress;
  self->probs = g_new0 (float, (gsize) volume->nz * (gsize) self->classes);
  self->shown = g_new0 (float, (gsize) volume->nz * (gsize) self->classes);
  return job_start (self, classify_main, "classify", error);
}

ScopeVolumeJob *
scope_volume_job_explain (ScopeModel              *model,
                          const NnVolume          *volume,
                          const char              *name,
                          const NnCtWindow        *window,
                          const NnExplainSpec     *spec,
                          ScopeVolumeJobProgress   progress,
                          ScopeVolumeJobDone       done,
                          gpointer                 data,
                          GError                 **error)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (volume != NULL, NULL);
  g_return_val_if_fail (spec != NULL, NULL);
  g_return_val_if_fail (done != NULL, NULL);

  ScopeVolumeJob *self = job_new (done, data);
  self->path = g_strdup (name != NULL ? name : "volume");
  self->model = scope_model_ref (model);
  self->volume = volume;
  self->has_window = window != NULL;
  if (window != NULL)
    self->window = *window;
  self->spec = *spec;
  self->progress = progress;
  self->attribution = nn_volume_new_like (volume);
  if (self->attribution == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "out of memory for the attribution volume");
      scope_volume_job_free (self);
      return NULL;
    }
  return job_start (self, explain_main, "explain", error);
}

const NnVolume *
scope_volume_job_peek_attribution (ScopeVolumeJob *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->attribution;
}

void
scope_volume_job_free (ScopeVolumeJob *job)
{
  if (job == NULL)
    return;
  scope_worker_request_stop (&job->worker);
  scope_worker_join (&job->worker);
  nn_volume_free (job->result);
  nn_volume_free (job->attribution);
  g_clear_error (&job->error);
  scope_worker_clear (&job->worker);
  g_clear_pointer (&job->model, scope_model_unref);
  g_free (job->path);
  g_free (job->probs);
  g_free (job->shown);
  g_free (job);
}
