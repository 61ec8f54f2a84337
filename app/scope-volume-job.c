/* SPDX-License-Identifier: MIT */
/* ScopeVolumeJob: the worker side of the Volume view. Results go out through the worker's one
 * merged idle: the newest progress, and once the end (the volume read, or an error). */
#include "scope-volume-job.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "scope-error.h"
#include "scope-worker.h"

struct _ScopeVolumeJob
{
  /* Set before the thread starts, read-only afterwards. */
  char                   *path;      /* load */
  char                   *series;    /* load: the series chosen, or NULL */
  ScopeModel             *model;     /* classify */
  const NnVolume         *volume;
  const NnVolume         *masks;     /* explain, or NULL */
  NnCtWindow              window;
  gboolean                has_window;
  int                     classes;   /* classify; 0 for explain */
  NnExplainSpec           spec;
  NnVolume               *attribution; /* explain: written by the worker slice by slice */
  gint8                  *pointing;  /* explain: nz, written by the worker slice by slice */
  const NnOod            *ood;       /* classify: the model's (it holds the model), or NULL */
  double                 *scores;    /* classify with ood: nz, written slice by slice */
  int                     feature;   /* classify with ood: the node of its features */
  float                  *features;  /* worker only: nz x ood->dim */
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
  NnVolumeSeries         *found;     /* load of a folder of several series */
  int                     n_found;

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
  gboolean folder = g_file_test (self->path, G_FILE_TEST_IS_DIR);
  NnVolume *read = folder ? nn_volume_load_dicom (self->path, self->series, &err)
                          : nn_volume_load (self->path, &err);
  if (read == NULL && folder && self->series == NULL && err.code == NN_ERROR_SPEC)
    {
      /* Several series: list them for the user to choose (the error stays as it was). */
      NnError list_err = { 0 };
      int n = 0;
      NnVolumeSeries *found = nn_volume_dicom_series (self->path, &n, &list_err);
      scope_worker_lock (&self->worker);
      self->found = found;
      self->n_found = found != NULL ? n : 0;
      scope_worker_unlock (&self->worker);
    }
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
  /* Features of slice k are filled before this call (nn_volume_classify_features). */
  double score = self->ood != NULL
                 ? nn_ood_score (self->ood, self->features + (gsize) k * (gsize) self->ood->dim)
                 : 0.0;
  scope_worker_lock (&self->worker);
  if (self->ood != NULL)
    self->scores[k] = score;
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
  if (self->ood != NULL)
    self->features = g_try_new (float, (gsize) self->volume->nz * (gsize) self->ood->dim);
  gboolean ok = FALSE;
  if (probs == NULL || (self->ood != NULL && self->features == NULL))
    nn_error_set (&err, NN_ERROR_NOMEM, "out of memory for the slice probabilities");
  else
    ok = nn_volume_classify_features (scope_model_get_nn_model (self->model), self->volume,
                                      self->path, self->has_window ? &self->window : NULL, 0,
                                      self->volume->nz, 8, probs, NULL,
                                      self->ood != NULL ? self->feature : -1, self->features,
                                      slice_done, self, scope_worker_get_cancel (&self->worker),
                                      &err);
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
  ScopeVolumeJob *self = user_data;
  scope_worker_lock (&self->worker);
  self->pointing[k] = explanation->metrics.has & NN_FAITH_MASK
                      ? (gint8) explanation->metrics.pointing : -1;
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
  if (nn_volume_explain (scope_model_get_nn_model (self->model), self->volume, self->masks,
                         self->path,
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
                       const char          *series,
                       ScopeVolumeJobDone   done,
                       gpointer             data,
                       GError             **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (done != NULL, NULL);

  ScopeVolumeJob *self = job_new (done, data);
  self->path = g_strdup (path);
  self->series = g_strdup (series);
  return job_start (self, load_main, "volume", error);
}

NnVolumeSeries *
scope_volume_job_steal_series (ScopeVolumeJob *self,
                               int            *n)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (n != NULL, NULL);

  scope_worker_lock (&self->worker);
  NnVolumeSeries *found = NULL;
  *n = 0;
  if (self->found != NULL)
    {
      /* A copy in GLib's allocator for the caller, whatever nn/ allocated with. */
      found = g_memdup2 (self->found, sizeof *found * (gsize) self->n_found);
      *n = self->n_found;
    }
  g_clear_pointer (&self->found, free);
  self->n_found = 0;
  scope_worker_unlock (&self->worker);
  return found;
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
  self->ood = scope_model_get_ood (model);
  if (self->ood != NULL)
    {
      self->feature = nn_graph_find (scope_model_get_graph (model), self->ood->layer);
      if (self->feature < 0)
        self->ood = NULL;
      else
        self->scores = g_new0 (double, (gsize) volume->nz);
    }
  self->progress = progress;
  self->probs = g_new0 (float, (gsize) volume->nz * (gsize) self->classes);
  self->shown = g_new0 (float, (gsize) volume->nz * (gsize) self->classes);
  return job_start (self, classify_main, "classify", error);
}

ScopeVolumeJob *
scope_volume_job_explain (ScopeModel              *model,
                          const NnVolume          *volume,
                          const NnVolume          *masks,
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
  g_return_val_if_fail (masks == NULL || nn_volume_same_grid (volume, masks, 0.01), NULL);

  ScopeVolumeJob *self = job_new (done, data);
  self->path = g_strdup (name != NULL ? name : "volume");
  self->model = scope_model_ref (model);
  self->volume = volume;
  self->has_window = window != NULL;
  if (window != NULL)
    self->window = *window;
  self->masks = masks;
  self->spec = *spec;
  self->progress = progress;
  self->pointing = g_new (gint8, (gsize) volume->nz);
  memset (self->pointing, -1, (gsize) volume->nz);
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

const double *
scope_volume_job_peek_ood_scores (ScopeVolumeJob *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->ood != NULL ? self->scores : NULL;
}

const gint8 *
scope_volume_job_peek_pointing (ScopeVolumeJob *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->pointing;
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
  g_free (job->series);
  g_free (job->pointing);
  g_free (job->scores);
  g_free (job->features);
  free (job->found);
  g_free (job->probs);
  g_free (job->shown);
  g_free (job);
}
