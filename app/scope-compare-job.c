/* SPDX-License-Identifier: MIT */
/* ScopeCompareJob: the worker side of the Compare view. Results go out through the worker's
 * one merged idle: the newest progress, and once the end (the result, or an error). */
#include "scope-compare-job.h"

#include <string.h>

#include "scope-error.h"
#include "scope-worker.h"

struct _ScopeCompareJob
{
  /* Set before the thread starts, read-only afterwards. */
  char                    *path;     /* open: the file; cka: the dataset */
  ScopeModel              *models[2];
  ScopeInput              *input;    /* forward */
  int                      node;
  int                      limit;
  ScopeCompareJobProgress  progress;
  ScopeCompareJobDone      done;
  gpointer                 data;

  ScopeWorker              worker;

  /* Under the worker's lock. */
  int                      samples_done, samples_total;
  gboolean                 pending_progress;
  gboolean                 finished;
  ScopeCompareResult      *result;
  GError                  *error;

  /* Main thread only. */
  gboolean                 delivered_end;
};

void
scope_compare_result_free (ScopeCompareResult *result)
{
  if (result == NULL)
    return;
  g_clear_pointer (&result->model, scope_model_unref);
  g_free (result->outputs[0]);
  g_free (result->outputs[1]);
  g_free (result->cams[0]);
  g_free (result->cams[1]);
  g_free (result->cam_note);
  nn_cka_layers_free (result->layers);
  g_free (result);
}

static gboolean
deliver_idle (gpointer data)
{
  ScopeCompareJob *self = data;

  if (!scope_worker_begin_deliver (&self->worker))
    return G_SOURCE_REMOVE;
  int done = self->samples_done, total = self->samples_total;
  gboolean progress = self->pending_progress;
  self->pending_progress = FALSE;
  gboolean finished = self->finished;
  ScopeCompareResult *result = g_steal_pointer (&self->result);
  g_autoptr (GError) error = g_steal_pointer (&self->error);
  self->finished = FALSE;
  scope_worker_unlock (&self->worker);

  if (progress && self->progress != NULL)
    self->progress (done, total, self->data);
  if (finished && !self->delivered_end)
    {
      self->delivered_end = TRUE;
      self->done (result, error, self->data);
    }
  else
    scope_compare_result_free (result);
  return G_SOURCE_REMOVE;
}

/* Hands result (taken; NULL on failure) or err to the main thread. */
static void
finish (ScopeCompareJob    *self,
        ScopeCompareResult *result,
        NnError            *err)
{
  scope_worker_lock (&self->worker);
  self->finished = TRUE;
  self->result = result;
  if (result == NULL)
    scope_error_from_nn (&self->error, err);
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

static void *
open_main (void *data)
{
  ScopeCompareJob *self = data;
  NnError err = { 0 };
  NnModel *b = nn_model_load (self->path, &err);
  ScopeCompareResult *result = NULL;
  if (b != NULL
      && !nn_graph_check_same (scope_model_get_graph (self->models[0]), b->graph, &err))
    nn_error_prefix (&err, "%s is not the network of %s", self->path,
                     scope_model_get_name (self->models[0]));
  else if (b != NULL)
    {
      result = g_new0 (ScopeCompareResult, 1);
      result->model = scope_model_new_take (g_steal_pointer (&b), self->path);
    }
  nn_model_free (b);
  finish (self, result, &err);
  return NULL;
}

/* Grad-CAM at the node for A's top class in both models; a layer that takes no CAM leaves a
 * note instead. False only on a failure to report (out of memory, cancelled). */
static gboolean
forward_cams (ScopeCompareJob    *self,
              ScopeCompareResult *result,
              NnError            *err)
{
  const NnInput *input = scope_input_get_nn_input (self->input);
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.map.layer = self->node;
  spec.faith.metrics = 0;
  NnExplainRunControl control = { .cancel = scope_worker_get_cancel (&self->worker) };
  for (int m = 0; m < 2; m++)
    {
      NnError cam_err = { 0 };
      NnExplanation *e = nn_explain_run (scope_model_get_nn_model (self->models[m]), input,
                                         &spec, &control, &cam_err);
      if (e == NULL && cam_err.code == NN_ERROR_SPEC)
        {
          g_clear_pointer (&result->cams[0], g_free);
          result->cam_note = g_strdup (cam_err.message);
          return TRUE;
        }
      if (e == NULL)
        {
          *err = cam_err;
          return FALSE;
        }
      result->cams[m] = g_memdup2 (e->map->map, (gsize) e->map->h * (gsize) e->map->w
                                                 * sizeof (float));
      if (m == 0)
        result->cam_class = spec.map.target = e->map->target;
      nn_explanation_free (e);
    }
  return TRUE;
}

static void *
forward_main (void *data)
{
  ScopeCompareJob *self = data;
  NnError err = { 0 };
  ScopeCompareResult *result = g_new0 (ScopeCompareResult, 1);
  const float *tensor = scope_input_get_nn_input (self->input)->tensor;
  for (int m = 0; m < 2; m++)
    {
      NnGraph *graph = scope_model_get_graph (self->models[m]);
      NnContext *ctx = nn_context_new (graph, 1, 0, &err);
      if (ctx == NULL)
        {
          scope_compare_result_free (g_steal_pointer (&result));
          break;
        }
      nn_context_keep (ctx, self->node);
      memcpy (nn_context_input (ctx), tensor,
              scope_model_get_input_size (self->models[m]) * sizeof (float));
      nn_context_forward (ctx, self->node);
      gsize n = nn_shape_size (graph->nodes[self->node].shape);
      result->outputs[m] = g_memdup2 (nn_context_output (ctx, self->node), n * sizeof (float));
      nn_context_free (ctx);
    }
  if (result != NULL && !forward_cams (self, result, &err))
    scope_compare_result_free (g_steal_pointer (&result));
  finish (self, result, &err);
  return NULL;
}

static void
cka_progress (int   done,
              int   total,
              void *user_data)
{
  ScopeCompareJob *self = user_data;
  scope_worker_lock (&self->worker);
  self->samples_done = done;
  self->samples_total = total;
  self->pending_progress = TRUE;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

static void *
cka_main (void *data)
{
  ScopeCompareJob *self = data;
  NnError err = { 0 };
  const NnModel *a = scope_model_get_nn_model (self->models[0]);
  NnModel *ma = (NnModel *) a, *mb = (NnModel *) scope_model_get_nn_model (self->models[1]);
  ScopeCompareResult *result = NULL;
  NnDataset *ds = nn_dataset_open (self->path, false, nn_model_input_channels (a),
                                   nn_model_input_height (a), nn_model_input_width (a), &err);
  NnDataset *part = NULL;
  if (ds != NULL && ds->ct16)
    {
      /* both see the slices through one window, as in cnnscope-cli compare */
      if (!a->has_window || !mb->has_window || a->window.width != mb->window.width
          || a->window.level != mb->window.level)
        {
          nn_error_set (&err, NN_ERROR_SPEC, "%s: a CT dataset, but the two models do not have "
                        "the same CT window", self->path);
          g_clear_pointer (&ds, nn_dataset_free);
        }
      else
        nn_dataset_apply_ct_window (ds, &a->window);
    }
  if (ds != NULL && self->limit < ds->n
      && (part = nn_dataset_sample (ds, self->limit, 1, NULL)) == NULL)
    nn_error_set (&err, NN_ERROR_NOMEM, "out of memory for %d samples", self->limit);
  else if (ds != NULL)
    {
      /* the models are immutable: nn_features reads them through contexts of its own */
      NnCkaLayers *layers = nn_cka_layers_new (ma, mb, part != NULL ? part : ds,
                                               NN_FEATURES_FLATTEN, false, 32, cka_progress,
                                               self, scope_worker_get_cancel (&self->worker),
                                               &err);
      if (layers != NULL)
        {
          result = g_new0 (ScopeCompareResult, 1);
          result->layers = layers;
        }
    }
  nn_dataset_free (part);
  nn_dataset_free (ds);
  finish (self, result, &err);
  return NULL;
}

static ScopeCompareJob *
job_new (ScopeModel          *a,
         ScopeModel          *b,
         ScopeCompareJobDone  done,
         gpointer             data)
{
  ScopeCompareJob *self = g_new0 (ScopeCompareJob, 1);
  self->models[0] = scope_model_ref (a);
  self->models[1] = b != NULL ? scope_model_ref (b) : NULL;
  self->done = done;
  self->data = data;
  scope_worker_init (&self->worker, G_PRIORITY_DEFAULT, deliver_idle, self);
  return self;
}

static ScopeCompareJob *
job_start (ScopeCompareJob  *self,
           ScopeWorkerFunc   func,
           const char       *what,
           GError          **error)
{
  if (!scope_worker_start (&self->worker, func, self, what, error))
    {
      scope_compare_job_free (self);
      return NULL;
    }
  return self;
}

ScopeCompareJob *
scope_compare_job_open (const char           *path,
                        ScopeModel           *a,
                        ScopeCompareJobDone   done,
                        gpointer              data,
                        GError              **error)
{
  g_return_val_if_fail (path != NULL && a != NULL && done != NULL, NULL);

  ScopeCompareJob *self = job_new (a, NULL, done, data);
  self->path = g_strdup (path);
  return job_start (self, open_main, "compare", error);
}

ScopeCompareJob *
scope_compare_job_forward (ScopeModel           *a,
                           ScopeModel           *b,
                           ScopeInput           *input,
                           int                   node,
                           ScopeCompareJobDone   done,
                           gpointer              data,
                           GError              **error)
{
  g_return_val_if_fail (a != NULL && b != NULL && input != NULL && done != NULL, NULL);
  g_return_val_if_fail (node >= 1 && node < scope_model_get_graph (a)->n_nodes, NULL);

  ScopeCompareJob *self = job_new (a, b, done, data);
  self->input = scope_input_ref (input);
  self->node = node;
  return job_start (self, forward_main, "compare", error);
}

ScopeCompareJob *
scope_compare_job_cka (ScopeModel               *a,
                       ScopeModel               *b,
                       const char               *dataset,
                       int                       limit,
                       ScopeCompareJobProgress   progress,
                       ScopeCompareJobDone       done,
                       gpointer                  data,
                       GError                  **error)
{
  g_return_val_if_fail (a != NULL && b != NULL && dataset != NULL && done != NULL, NULL);
  g_return_val_if_fail (limit >= 2, NULL);

  ScopeCompareJob *self = job_new (a, b, done, data);
  self->path = g_strdup (dataset);
  self->limit = limit;
  self->progress = progress;
  return job_start (self, cka_main, "compare", error);
}

void
scope_compare_job_free (ScopeCompareJob *job)
{
  if (job == NULL)
    return;
  scope_worker_request_stop (&job->worker);
  scope_worker_join (&job->worker);
  scope_compare_result_free (job->result);
  g_clear_error (&job->error);
  scope_worker_clear (&job->worker);
  g_clear_pointer (&job->models[0], scope_model_unref);
  g_clear_pointer (&job->models[1], scope_model_unref);
  g_free (job->path);
  g_clear_pointer (&job->input, scope_input_unref);
  g_free (job);
}
