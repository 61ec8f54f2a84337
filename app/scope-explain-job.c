/* SPDX-License-Identifier: MIT */
/* ScopeExplainJob: the Explain view's worker. The thread owns two contexts (one for the method,
 * with gradients when it needs them, one forward-only batch for the metrics) and polls the cancel
 * flag of its ScopeWorker (scope-worker.c, where the threads meet) through NnExplainControl;
 * the pending results it shares with the main thread are under the worker's lock. */
#include "scope-explain-job.h"

#include <gio/gio.h>
#include <string.h>

#include "scope-error.h"
#include "scope-worker.h"

#define METRICS_BATCH 8
#define CURVE_STEPS   20
#define ROAD_POINTS   9
#define ROAD_NOISE    0.01f
#define POINTING_PX   15.0f
#define N_STAGES      6     /* map, deletion, insertion, ROAD (two), randomization */

typedef struct
{
  const char *label;
  gboolean    cam;
  int         method;   /* NnCamMethod or NnSaliencyMethod */
} Method;

static const Method methods[] = {
  { "Grad-CAM", TRUE, NN_CAM_GRADCAM },
  { "Grad-CAM++", TRUE, NN_CAM_GRADCAM_PP },
  { "XGrad-CAM", TRUE, NN_CAM_XGRADCAM },
  { "HiResCAM", TRUE, NN_CAM_HIRESCAM },
  { "LayerCAM", TRUE, NN_CAM_LAYERCAM },
  { "Score-CAM", TRUE, NN_CAM_SCORECAM },
  { "Eigen-CAM", TRUE, NN_CAM_EIGENCAM },
  { "Gradient", FALSE, NN_SALIENCY_GRADIENT },
  { "SmoothGrad", FALSE, NN_SALIENCY_SMOOTHGRAD },
  { "Integrated Gradients", FALSE, NN_SALIENCY_IG },
  { "Guided Backprop", FALSE, NN_SALIENCY_GUIDED },
  { "Guided Grad-CAM", FALSE, NN_SALIENCY_GUIDED_GRADCAM },
};

int
scope_explain_method_count (void)
{
  return (int) G_N_ELEMENTS (methods);
}

const char *
scope_explain_method_label (int method)
{
  g_return_val_if_fail (method >= 0 && method < scope_explain_method_count (), NULL);
  return methods[method].label;
}

const char *
scope_explain_method_name (int method)
{
  g_return_val_if_fail (method >= 0 && method < scope_explain_method_count (), NULL);
  const Method *m = &methods[method];
  return m->cam ? nn_cam_method_name ((NnCamMethod) m->method)
                : nn_saliency_method_name ((NnSaliencyMethod) m->method);
}

gboolean
scope_explain_method_uses_layer (int method)
{
  g_return_val_if_fail (method >= 0 && method < scope_explain_method_count (), FALSE);
  return methods[method].cam || methods[method].method == NN_SALIENCY_GUIDED_GRADCAM;
}

/* The immutable results. */

static void
explanation_clear (gpointer data)
{
  ScopeExplanation *self = data;
  scope_model_unref (self->model);
  nn_map_free (self->map);
}

ScopeExplanation *
scope_explanation_ref (ScopeExplanation *self)
{
  return g_atomic_rc_box_acquire (self);
}

void
scope_explanation_unref (ScopeExplanation *self)
{
  if (self != NULL)
    g_atomic_rc_box_release_full (self, explanation_clear);
}

G_DEFINE_BOXED_TYPE (ScopeExplanation, scope_explanation, scope_explanation_ref,
                     scope_explanation_unref)

ScopeExplainMetrics *
scope_explain_metrics_ref (ScopeExplainMetrics *self)
{
  return g_atomic_rc_box_acquire (self);
}

void
scope_explain_metrics_unref (ScopeExplainMetrics *self)
{
  if (self != NULL)
    g_atomic_rc_box_release (self);
}

G_DEFINE_BOXED_TYPE (ScopeExplainMetrics, scope_explain_metrics, scope_explain_metrics_ref,
                     scope_explain_metrics_unref)

/* The job. */

struct _ScopeExplainJob
{
  GObject              parent_instance;

  /* Set before the thread starts, read-only afterwards. */
  ScopeModel          *model;
  float               *input;
  guint8              *mask;
  ScopeExplainSpec     spec;

  ScopeWorker          worker;

  /* Under the worker's lock. */
  gboolean             running;
  ScopeExplanation    *pending_map;
  ScopeExplainMetrics *pending_metrics;
  double               pending_fraction; /* < 0: no progress pending */
  const char          *pending_stage;
  gboolean             pending_finished;
  GError              *pending_error;
  GSource             *idle;
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

static void
publish_progress (ScopeExplainJob *self,
                  int              stage,
                  int              done,
                  int              total,
                  const char      *name)
{
  int stages = self->spec.metrics ? N_STAGES : 1;
  double within = total > 0 ? (double) done / total : 0.0;
  scope_worker_lock (&self->worker);
  self->pending_fraction = (stage + within) / stages;
  self->pending_stage = name;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

typedef struct
{
  ScopeExplainJob *job;
  int              stage;
  const char      *name;
} ProgressData;

static void
on_progress (int   done,
             int   total,
             void *user_data)
{
  const ProgressData *p = user_data;
  publish_progress (p->job, p->stage, done, total, p->name);
}

/* Takes metrics: the newest snapshot replaces an undelivered older one. */
static void
publish_metrics (ScopeExplainJob     *self,
                 ScopeExplainMetrics *metrics)
{
  scope_worker_lock (&self->worker);
  g_clear_pointer (&self->pending_metrics, scope_explain_metrics_unref);
  self->pending_metrics = metrics;
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
}

/* A new snapshot: a copy of the previous one, to be completed before it is published. */
static ScopeExplainMetrics *
metrics_next (const ScopeExplainMetrics *prev)
{
  ScopeExplainMetrics *next = g_atomic_rc_box_new0 (ScopeExplainMetrics);
  if (prev != NULL)
    *next = *prev;
  return next;
}

static int
method_batch (const Method *m)
{
  if (m->cam)
    return m->method == NN_CAM_SCORECAM ? METRICS_BATCH : 1;
  return m->method == NN_SALIENCY_SMOOTHGRAD || m->method == NN_SALIENCY_IG ? METRICS_BATCH : 1;
}

static gboolean
method_needs_grads (const Method *m)
{
  return !m->cam || (m->method != NN_CAM_SCORECAM && m->method != NN_CAM_EIGENCAM);
}

typedef struct
{
  NnCamSpec      cam;
  NnSaliencySpec saliency;
} Specs;

static void
specs_init (const ScopeExplainSpec *spec,
            Specs                  *s)
{
  const Method *m = &methods[spec->method];
  nn_cam_spec_init (&s->cam);
  s->cam.method = (NnCamMethod) m->method;
  s->cam.layer = spec->layer;
  s->cam.target = spec->target;
  s->cam.keep_negative = spec->keep_negative;
  nn_saliency_spec_init (&s->saliency);
  s->saliency.method = (NnSaliencyMethod) m->method;
  s->saliency.target = spec->target;
  s->saliency.layer = spec->layer;
  s->saliency.seed = spec->seed;
}

/* The top predictions of the unchanged input, from ctx (at least one sample). */
static void
top_k (ScopeExplanation *e,
       NnContext        *ctx,
       const float      *input)
{
  const NnGraph *g = nn_context_get_graph (ctx);
  int logit = nn_explain_logit_node (g);
  int classes = (int) nn_shape_size (g->nodes[logit].shape);
  memcpy (nn_context_input (ctx), input, sizeof (float) * nn_shape_size (g->nodes[0].shape));
  nn_context_forward (ctx, logit);
  const float *logits = nn_context_output (ctx, logit);
  e->probability = nn_explain_softmax_at (logits, classes, e->map->target);
  e->k = 0;
  g_autofree gboolean *used = g_new0 (gboolean, classes);
  int n = classes;
  for (int k = 0; k < MIN (SCOPE_EXPLAIN_TOP_K, n); k++)
    {
      int best = -1;
      for (int i = 0; i < n; i++)
        if (!used[i] && (best < 0 || logits[i] > logits[best]))
          best = i;
      used[best] = TRUE;
      e->top_class[k] = best;
      e->top_probability[k] = nn_explain_softmax_at (logits, classes, best);
      e->k++;
    }
}

/* Runs on the worker: the map, then each metric. FALSE with err (NN_ERROR_CANCELLED when
 * cancelled). */
static gboolean
run (ScopeExplainJob *self,
     NnError         *err)
{
  const Method *m = &methods[self->spec.method];
  NnGraph *g = scope_model_get_graph (self->model);
  Specs s;
  specs_init (&self->spec, &s);
  ProgressData pd = { self, 0, "map" };
  NnExplainControl control = { scope_worker_get_cancel (&self->worker), on_progress, &pd };

  if (!nn_explain_check_class (g, self->spec.target, err)
      || (self->spec.layer >= 0 && !nn_explain_check_layer (g, self->spec.layer, err)))
    return FALSE;
  NnContext *grad_ctx = nn_context_new (g, method_batch (m),
                                        method_needs_grads (m) ? NN_CONTEXT_BACKWARD : 0, err);
  if (grad_ctx == NULL)
    return FALSE;
  NnContext *ctx = nn_context_new (g, self->spec.metrics ? METRICS_BATCH : 1, 0, err);
  if (ctx == NULL)
    {
      nn_context_free (grad_ctx);
      return FALSE;
    }

  publish_progress (self, 0, 0, 1, "map");
  NnMap *map = m->cam ? nn_cam_compute (grad_ctx, self->input, &s.cam, &control, err)
                      : nn_saliency_compute (grad_ctx, self->input, &s.saliency, &control, err);
  nn_context_free (grad_ctx);
  gboolean ok = map != NULL;
  ScopeExplanation *e = NULL;
  if (ok)
    {
      e = g_atomic_rc_box_new0 (ScopeExplanation);
      e->model = scope_model_ref (self->model);
      e->spec = self->spec;
      e->map = map;
      top_k (e, ctx, self->input);
      scope_worker_lock (&self->worker);
      self->pending_map = scope_explanation_ref (e);
      scope_worker_schedule_locked (&self->worker);
      scope_worker_unlock (&self->worker);
    }

  if (ok && self->spec.metrics)
    {
      const NnMap *mp = e->map;
      float blur = (float) MAX (mp->h, mp->w) / 16.0f;
      float fractions[ROAD_POINTS];
      for (int i = 0; i < ROAD_POINTS; i++)
        fractions[i] = 0.1f * (float) (i + 1);
      ScopeExplainMetrics *cur = NULL, *next;

      pd = (ProgressData) { self, 1, "deletion" };
      next = metrics_next (cur);
      ok = nn_faith_curve (ctx, self->input, mp->map, mp->target, NN_CURVE_DELETION, CURVE_STEPS,
                           0.0f, &next->deletion, &control, err);
      next->has |= SCOPE_EXPLAIN_HAS_DELETION;
      if (ok && self->mask != NULL)
        {
          next->has |= SCOPE_EXPLAIN_HAS_MASK;
          next->pointing = nn_faith_pointing_game (mp->map, self->mask, mp->h, mp->w,
                                                   POINTING_PX);
          next->energy = nn_faith_energy_share (mp->map, self->mask, mp->h, mp->w);
        }
      cur = next;
      if (ok)
        publish_metrics (self, scope_explain_metrics_ref (cur));

      if (ok)
        {
          pd = (ProgressData) { self, 2, "insertion" };
          next = metrics_next (cur);
          ok = nn_faith_curve (ctx, self->input, mp->map, mp->target, NN_CURVE_INSERTION,
                               CURVE_STEPS, blur, &next->insertion, &control, err);
          next->has |= SCOPE_EXPLAIN_HAS_INSERTION;
          scope_explain_metrics_unref (cur);
          cur = next;
          if (ok)
            publish_metrics (self, scope_explain_metrics_ref (cur));
        }
      if (ok)
        {
          pd = (ProgressData) { self, 3, "ROAD" };
          next = metrics_next (cur);
          ok = nn_faith_road (ctx, self->input, mp->map, mp->target, fractions, ROAD_POINTS, TRUE,
                              ROAD_NOISE, self->spec.seed, &next->road_morf, &control, err);
          pd = (ProgressData) { self, 4, "ROAD" };
          ok = ok && nn_faith_road (ctx, self->input, mp->map, mp->target, fractions,
                                    ROAD_POINTS, FALSE, ROAD_NOISE, self->spec.seed,
                                    &next->road_lerf, &control, err);
          for (int i = 0; ok && i < ROAD_POINTS; i++)
            {
              next->road_morf_mean += (double) next->road_morf.prob[i] / ROAD_POINTS;
              next->road_lerf_mean += (double) next->road_lerf.prob[i] / ROAD_POINTS;
            }
          next->has |= SCOPE_EXPLAIN_HAS_ROAD;
          scope_explain_metrics_unref (cur);
          cur = next;
          if (ok)
            publish_metrics (self, scope_explain_metrics_ref (cur));
        }
      if (ok)
        {
          pd = (ProgressData) { self, 5, "randomization" };
          next = metrics_next (cur);
          ok = nn_faith_randomization (g, self->input, m->cam ? &s.cam : NULL,
                                       m->cam ? NULL : &s.saliency, mp, method_batch (m),
                                       self->spec.seed, &next->rho, &control, err);
          next->has |= SCOPE_EXPLAIN_HAS_RANDOMIZATION;
          scope_explain_metrics_unref (cur);
          cur = next;
          if (ok)
            publish_metrics (self, scope_explain_metrics_ref (cur));
        }
      scope_explain_metrics_unref (cur);
    }
  scope_explanation_unref (e);
  nn_context_free (ctx);
  return ok;
}

static void *
worker_main (void *data)
{
  ScopeExplainJob *self = data;
  NnError err = { 0 };
  gboolean ok = run (self, &err);

  scope_worker_lock (&self->worker);
  self->running = FALSE;
  self->pending_finished = TRUE;
  if (!ok)
    scope_error_from_nn (&self->pending_error, &err);
  scope_worker_schedule_locked (&self->worker);
  scope_worker_unlock (&self->worker);
  return NULL;
}

ScopeExplainJob *
scope_explain_job_new (ScopeModel             *model,
                       const float            *input,
                       const guint8           *mask,
                       const ScopeExplainSpec *spec)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (spec != NULL, NULL);
  g_return_val_if_fail (spec->method >= 0 && spec->method < scope_explain_method_count (), NULL);

  ScopeExplainJob *self = g_object_new (SCOPE_TYPE_EXPLAIN_JOB, NULL);
  self->model = scope_model_ref (model);
  self->input = g_memdup2 (input, scope_model_get_input_size (model) * sizeof (float));
  if (mask != NULL)
    {
      const NnShape in = scope_model_get_graph (model)->nodes[0].shape;
      self->mask = g_memdup2 (mask, (gsize) in.h * (gsize) in.w);
    }
  self->spec = *spec;
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
  g_clear_pointer (&self->pending_map, scope_explanation_unref);
  g_clear_pointer (&self->pending_metrics, scope_explain_metrics_unref);
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
  g_free (self->input);
  g_free (self->mask);
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
   * @stage: what runs now ("map", "deletion", ...)
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
