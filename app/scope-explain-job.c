/* SPDX-License-Identifier: MIT */
/* ScopeExplainJob: the Explain view's worker. The thread runs nn_explain_run, which owns the
 * contexts, polls the cancel flag of the job's ScopeWorker (scope-worker.c, where the threads
 * meet) and hands each stage's result over; the copies waiting for the main thread are under
 * the worker's lock. */
#include "scope-explain-job.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "scope-error.h"
#include "scope-worker.h"

static ScopeExplainMetrics *
metrics_dup (const ScopeExplainMetrics *metrics)
{
  return g_memdup2 (metrics, sizeof *metrics);
}

G_DEFINE_BOXED_TYPE (ScopeExplanation, scope_explanation, nn_explanation_dup, nn_explanation_free)
G_DEFINE_BOXED_TYPE (ScopeExplainMetrics, scope_explain_metrics, metrics_dup, g_free)

struct _ScopeExplainJob
{
  GObject              parent_instance;

  /* Set before the thread starts, read-only afterwards. */
  ScopeModel          *model;
  ScopeInput          *input;
  guint8              *mask;          /* spec.mask points here */
  float               *baseline;      /* spec.map.baseline points here */
  NnExplainSpec        spec;

  ScopeWorker          worker;

  /* Under the worker's lock. */
  gboolean             running;
  ScopeExplanation    *pending_map;
  ScopeExplainMetrics *pending_metrics;
  double               pending_fraction; /* < 0: no progress pending */
  const char          *pending_stage;
  gboolean             pending_finished;
  GError              *pending_error;
  gint64               started_at;    /* monotonic microseconds, when the thread began */
  gint64               map_us;        /* the map stage's time, 0 until it is done */
  gint64               total_us;      /* the whole run's, 0 until it ended */
};

enum
{
  MAP_READY,
  METRICS_CHANGED,
  PROGRESS,
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (ScopeExplainJob, scope_explain_job, G_TYPE_OBJECT)

/* Main context: hands over everything that arrived since the last call, in order. */
static gboolean
deliver_idle (gpointer data)
{
  ScopeExplainJob *self = data;

  if (!scope_worker_begin_deliver (&self->worker))
    return G_SOURCE_REMOVE;
  g_autoptr (ScopeExplanation) map = g_steal_pointer (&self->pending_map);
  g_autoptr (ScopeExplainMetrics) metrics = g_steal_pointer (&self->pending_metrics);
  double fraction = self->pending_fraction;
  const char *stage = self->pending_stage;
  gboolean finished = self->pending_finished;
  g_autoptr (GError) error = g_steal_pointer (&self->pending_error);
  self->pending_fraction = -1.0;
  self->pending_finished = FALSE;
  scope_worker_unlock (&self->worker);

  g_object_ref (self);
  if (map != NULL)
    g_signal_emit (self, signals[MAP_READY], 0, map);
  if (metrics != NULL)
    g_signal_emit (self, signals[METRICS_CHANGED], 0, metrics);
  if (fraction >= 0.0)
    g_signal_emit (self, signals[PROGRESS], 0, fraction, stage);
  if (finished)
    g_signal_emit (self, signals[FINISHED], 0, error);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* Worker: the fraction of the whole run done, and the stage running. */
static void
on_stage_progress (NnExplainStage  stage,
                   int             done,
                   int             total,
                   void           *user_data)
{
  ScopeExplainJob *self = user_data;
  double fraction = nn_explain_spec_fraction (&self->spec, stage, done, total);
  scope_worker_lock (&self->worker);
  self->pending_fraction = fraction;
  self->pending_stage = nn_explain_stage_name (stage);
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

/* Worker: copies of what a stage completed; a newer metrics snapshot replaces an undelivered
 * older one. A copy that runs out of memory is not delivered. */
static void
on_stage_done (NnExplainStage       stage,
               const NnExplanation *so_far,
               void                *user_data)
{
  ScopeExplainJob *self = user_data;
  ScopeExplanation *map = stage == NN_EXPLAIN_STAGE_MAP ? nn_explanation_dup (so_far) : NULL;
  ScopeExplainMetrics *metrics = metrics_dup (&so_far->metrics);
  const gint64 now = g_get_monotonic_time ();
  scope_worker_lock (&self->worker);
  if (stage == NN_EXPLAIN_STAGE_MAP)
    self->map_us = MAX (now - self->started_at, 1);
  if (map != NULL)
    {
      g_clear_pointer (&self->pending_map, nn_explanation_free);
      self->pending_map = map;
    }
  g_clear_pointer (&self->pending_metrics, g_free);
  self->pending_metrics = metrics;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

static void *
worker_main (void *data)
{
  ScopeExplainJob *self = data;
  const NnExplainRunControl control = {
    .cancel = scope_worker_get_cancel (&self->worker),
    .progress = on_stage_progress,
    .stage_done = on_stage_done,
    .user_data = self,
  };
  NnError err = { 0 };
  scope_worker_lock (&self->worker);
  self->started_at = g_get_monotonic_time ();
  scope_worker_unlock (&self->worker);
  NnExplanation *e = nn_explain_run (scope_model_get_nn_model (self->model),
                                     scope_input_get_nn_input (self->input), &self->spec,
                                     &control, &err);
  nn_explanation_free (e);
  const gint64 now = g_get_monotonic_time ();

  scope_worker_lock (&self->worker);
  self->total_us = MAX (now - self->started_at, 1);
  self->running = FALSE;
  self->pending_finished = TRUE;
  if (e == NULL)
    scope_error_from_nn (&self->pending_error, &err);
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
  return NULL;
}

ScopeExplainJob *
scope_explain_job_new (ScopeModel          *model,
                       ScopeInput          *input,
                       const NnExplainSpec *spec)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (input != NULL && scope_input_fits (input, model), NULL);
  g_return_val_if_fail (spec != NULL, NULL);
  g_return_val_if_fail (spec->map.method >= 0 && spec->map.method < NN_METHOD_COUNT_, NULL);

  ScopeExplainJob *self = g_object_new (SCOPE_TYPE_EXPLAIN_JOB, NULL);
  self->model = scope_model_ref (model);
  self->input = scope_input_ref (input);
  self->spec = *spec;
  if (spec->mask != NULL)
    {
      const NnInput *in = scope_input_get_nn_input (input);
      self->mask = g_memdup2 (spec->mask, (gsize) in->h * (gsize) in->w);
      self->spec.mask = self->mask;
    }
  if (spec->map.baseline != NULL)
    {
      const NnInput *in = scope_input_get_nn_input (input);
      self->baseline = g_memdup2 (spec->map.baseline,
                                  sizeof (float) * (gsize) in->c * (gsize) in->h * (gsize) in->w);
      self->spec.map.baseline = self->baseline;
    }
  return self;
}

gboolean
scope_explain_job_start (ScopeExplainJob  *self,
                         GError          **error)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_JOB (self), FALSE);
  g_return_val_if_fail (!self->worker.started || self->worker.joined, FALSE);

  self->running = TRUE;
  if (!scope_worker_start (&self->worker, worker_main, self, "explain", error))
    {
      self->running = FALSE;
      return FALSE;
    }
  return TRUE;
}

void
scope_explain_job_cancel (ScopeExplainJob *self)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_JOB (self));

  scope_worker_request_stop (&self->worker);
  scope_worker_join (&self->worker);
  scope_worker_lock (&self->worker);
  g_clear_pointer (&self->pending_map, nn_explanation_free);
  g_clear_pointer (&self->pending_metrics, g_free);
  g_clear_error (&self->pending_error);
  self->pending_finished = FALSE;
  self->running = FALSE;
  scope_worker_unlock (&self->worker);
}

gboolean
scope_explain_job_is_running (ScopeExplainJob *self)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_JOB (self), FALSE);

  scope_worker_lock (&self->worker);
  gboolean running = self->running || self->worker.idle != NULL;
  scope_worker_unlock (&self->worker);
  return running;
}

void
scope_explain_job_get_seconds (ScopeExplainJob *self,
                               double          *map,
                               double          *total)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_JOB (self));

  scope_worker_lock (&self->worker);
  *map = (double) self->map_us / G_USEC_PER_SEC;
  *total = (double) self->total_us / G_USEC_PER_SEC;
  scope_worker_unlock (&self->worker);
}

/* What the method's inputs are called: the layer's channels for the CAMs that mask or ablate
 * them, else samples or steps; NULL for one pass. */
static const char *
inputs_noun (NnMethod method)
{
  switch (method)
    {
    case NN_METHOD_SCORECAM:
    case NN_METHOD_ABLATIONCAM:
      return N_ ("channels");
    case NN_METHOD_IG:
      return N_ ("steps");
    case NN_METHOD_SMOOTHGRAD:
    case NN_METHOD_GRADIENT_SHAP:
      return N_ ("samples");
    case NN_METHOD_GRADCAM:
    case NN_METHOD_GRADCAM_PP:
    case NN_METHOD_XGRADCAM:
    case NN_METHOD_HIRESCAM:
    case NN_METHOD_LAYERCAM:
    case NN_METHOD_EIGENCAM:
    case NN_METHOD_GRADIENT:
    case NN_METHOD_GUIDED:
    case NN_METHOD_GUIDED_GRADCAM:
    case NN_METHOD_EIGENGRADCAM:
    case NN_METHOD_FULLGRAD:
    case NN_METHOD_OCCLUSION:
    case NN_METHOD_DEEPLIFT:
    case NN_METHOD_LRP_GAMMA_BOX:
    case NN_METHOD_LRP_PLUS_FLAT:
    case NN_METHOD_LRP_ALPHA_BETA:
    case NN_METHOD_ROLLOUT:
    case NN_METHOD_ATTN_GRAD:
    case NN_METHOD_COUNT_:
    default:
      return NULL;
    }
}

char *
scope_explain_timing_text (const NnExplanation *explanation,
                           double               map_s,
                           double               total_s)
{
  g_return_val_if_fail (explanation != NULL, NULL);

  const NnExplanation *e = explanation;
  const char *noun = inputs_noun (e->method);
  g_autoptr (GString) text = g_string_new (nn_method_get_info (e->method)->label);
  if (noun != NULL && e->inputs > 0)
    /* Translators: the inputs of an explanation ("128 channels") and its batch size. */
    g_string_append_printf (text, _ (", %d %s, batch %d"), e->inputs, _ (noun), e->batch);
  g_string_append_printf (text, ", %.*f s", map_s < 10.0 ? 2 : 1, map_s);
  if (total_s > map_s + 0.005)
    g_string_append_printf (text, _ (" (with metrics %.*f s)"), total_s < 10.0 ? 2 : 1, total_s);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
scope_explain_job_dispose (GObject *object)
{
  scope_explain_job_cancel (SCOPE_EXPLAIN_JOB (object));

  G_OBJECT_CLASS (scope_explain_job_parent_class)->dispose (object);
}

static void
scope_explain_job_finalize (GObject *object)
{
  ScopeExplainJob *self = SCOPE_EXPLAIN_JOB (object);

  scope_model_unref (self->model);
  scope_input_unref (self->input);
  g_free (self->mask);
  g_free (self->baseline);
  scope_worker_clear (&self->worker);

  G_OBJECT_CLASS (scope_explain_job_parent_class)->finalize (object);
}

static void
scope_explain_job_class_init (ScopeExplainJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = scope_explain_job_dispose;
  object_class->finalize = scope_explain_job_finalize;

  /**
   * ScopeExplainJob::map-ready:
   * @explanation: the map and the top predictions
   */
  signals[MAP_READY] =
    g_signal_new ("map-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, SCOPE_TYPE_EXPLANATION | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * ScopeExplainJob::metrics-changed:
   * @metrics: every metric known so far
   */
  signals[METRICS_CHANGED] =
    g_signal_new ("metrics-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1,
                  SCOPE_TYPE_EXPLAIN_METRICS | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * ScopeExplainJob::progress:
   * @fraction: of the whole job, in [0, 1]
   * @stage: what runs now (nn_explain_stage_name: "map", "deletion", ...)
   */
  signals[PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_DOUBLE,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * ScopeExplainJob::finished:
   * @error: (nullable): what went wrong, or NULL
   */
  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
scope_explain_job_init (ScopeExplainJob *self)
{
  scope_worker_init (&self->worker, G_PRIORITY_DEFAULT_IDLE, deliver_idle, self);
  self->pending_fraction = -1.0;
}
