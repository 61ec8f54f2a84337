/* SPDX-License-Identifier: MIT */
/* nn_explain_run: the stages of an explanation in order (the map and what comes with it, then
 * each metric), the contexts they run on, progress and cancellation. */
#include "explain/nn-explain-run.h"

#include <stdlib.h>
#include <string.h>

#include "explain/nn-cam.h"

static const char *const stage_names[NN_EXPLAIN_STAGE_COUNT_] = {
  [NN_EXPLAIN_STAGE_MAP] = "map",
  [NN_EXPLAIN_STAGE_DELETION] = "deletion",
  [NN_EXPLAIN_STAGE_INSERTION] = "insertion",
  [NN_EXPLAIN_STAGE_ROAD_MORF] = "ROAD MoRF",
  [NN_EXPLAIN_STAGE_ROAD_LERF] = "ROAD LeRF",
  [NN_EXPLAIN_STAGE_RANDOMIZATION] = "randomization",
};

/* The metric each stage after the map computes. */
static const unsigned stage_metrics[NN_EXPLAIN_STAGE_COUNT_] = {
  [NN_EXPLAIN_STAGE_MAP] = 0,
  [NN_EXPLAIN_STAGE_DELETION] = NN_FAITH_DELETION,
  [NN_EXPLAIN_STAGE_INSERTION] = NN_FAITH_INSERTION,
  [NN_EXPLAIN_STAGE_ROAD_MORF] = NN_FAITH_ROAD_MORF,
  [NN_EXPLAIN_STAGE_ROAD_LERF] = NN_FAITH_ROAD_LERF,
  [NN_EXPLAIN_STAGE_RANDOMIZATION] = NN_FAITH_RANDOMIZATION,
};

void
nn_explain_spec_init (NnExplainSpec *spec)
{
  NN_ASSERT (spec != NULL);
  memset (spec, 0, sizeof *spec);
  nn_method_spec_init (&spec->map);
  spec->mask = NULL;
  nn_faith_settings_init (&spec->faith);
  spec->batch = 0;
  spec->threads = 1;
}

const char *
nn_explain_stage_name (NnExplainStage stage)
{
  NN_ASSERT (stage >= 0 && stage < NN_EXPLAIN_STAGE_COUNT_);
  return stage_names[stage];
}

bool
nn_explain_spec_runs_stage (const NnExplainSpec *spec,
                            NnExplainStage       stage)
{
  NN_ASSERT (spec != NULL && stage >= 0 && stage < NN_EXPLAIN_STAGE_COUNT_);
  return stage == NN_EXPLAIN_STAGE_MAP || (spec->faith.metrics & stage_metrics[stage]) != 0;
}

double
nn_explain_spec_fraction (const NnExplainSpec *spec,
                          NnExplainStage       stage,
                          int                  done,
                          int                  total)
{
  int before = 0, n = 0;
  for (int s = 0; s < NN_EXPLAIN_STAGE_COUNT_; s++)
    if (nn_explain_spec_runs_stage (spec, (NnExplainStage) s))
      {
        before += s < (int) stage;
        n++;
      }
  double within = total > 0 ? (double) done / total : 0.0;
  within = within < 0.0 ? 0.0 : within > 1.0 ? 1.0 : within;
  return (before + within) / n;
}

NnExplanation *
nn_explanation_dup (const NnExplanation *explanation)
{
  NN_ASSERT (explanation != NULL);
  NnExplanation *copy = malloc (sizeof *copy);
  if (copy == NULL)
    return NULL;
  *copy = *explanation;
  copy->map = explanation->map != NULL ? nn_map_dup (explanation->map) : NULL;
  if (explanation->map != NULL && copy->map == NULL)
    {
      free (copy);
      return NULL;
    }
  return copy;
}

void
nn_explanation_free (NnExplanation *explanation)
{
  if (explanation == NULL)
    return;
  nn_map_free (explanation->map);
  free (explanation);
}

/* A run in progress: what the per-pass progress of the methods is forwarded with. */
typedef struct
{
  const NnModel             *model;
  const NnInput             *input;
  const NnExplainSpec       *spec;
  const NnExplainRunControl *control;
  NnExplainStage             stage;
  NnExplainControl           inner;     /* what the methods and metrics are driven with */
  NnContext                 *ctx;       /* the context of the last stage, kept for the next one
                                           when it has the batch and buffers that one needs */
  NnExplanation             *e;
} Run;

static void
report (const Run *run,
        int        done,
        int        total)
{
  if (run->control != NULL && run->control->progress != NULL)
    run->control->progress (run->stage, done, total, run->control->user_data);
}

static void
forward_progress (int   done,
                  int   total,
                  void *user_data)
{
  report (user_data, done, total);
}

/* A context of `batch` inputs with at least the buffers of `flags`: the one the previous stage
 * ran on when it fits (a context is planned once per batch size, not per stage), otherwise a
 * new one, made after the old one is freed. */
static NnContext *
context_get (Run      *run,
             int       batch,
             unsigned  flags,
             NnError  *err)
{
  NnContext *ctx = run->ctx;
  if (ctx != NULL && nn_context_get_batch (ctx) == batch
      && (nn_context_grad (ctx, 0) != NULL || !(flags & NN_CONTEXT_BACKWARD)))
    return ctx;
  nn_context_free (ctx);
  if (run->spec->no_winograd)
    flags |= NN_CONTEXT_NO_WINOGRAD;
  run->ctx = ctx = nn_context_new (run->model->graph, batch, flags, err);
  if (ctx != NULL && !nn_context_set_threads (ctx, run->spec->threads, err))
    {
      nn_context_free (ctx);
      run->ctx = ctx = NULL;
    }
  return ctx;
}

/* How many inputs the map's method evaluates in all: Score-CAM and AblationCAM one per channel
 * of the layer, SmoothGrad, IG and GradientSHAP their samples; 0 when not known here (Occlusion's
 * patches depend on its window, the others run one pass). */
static int
method_inputs (const Run *run)
{
  const NnMethodSpec *ms = &run->spec->map;
  const NnGraph *graph = run->model->graph;
  switch (ms->method)
    {
    case NN_METHOD_SCORECAM:
    case NN_METHOD_ABLATIONCAM:
      {
        NnCamLayer view;
        return nn_cam_layer_resolve (graph, ms->layer, &view, NULL) ? view.K : 0;
      }
    case NN_METHOD_SMOOTHGRAD:
      return ms->samples > 0 ? ms->samples : 25;
    case NN_METHOD_IG:
      return ms->samples > 0 ? ms->samples : 32;
    case NN_METHOD_GRADIENT_SHAP:
      return ms->samples > 0 ? ms->samples : 25;
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
      return 0;
    }
}

/* The batch of a stage: spec->batch, or (0) nn_explain_batch_size's for `inputs` inputs. */
static int
stage_batch (const Run *run,
             unsigned   flags,
             int        inputs)
{
  if (run->spec->batch > 0)
    return run->spec->batch;
  return nn_explain_batch_size (run->model->graph, flags, run->spec->threads, inputs);
}

/* How many images a metric stage evaluates. */
static int
metric_inputs (const Run *run)
{
  const NnFaithSettings *fs = &run->spec->faith;
  switch (run->stage)
    {
    case NN_EXPLAIN_STAGE_DELETION:
    case NN_EXPLAIN_STAGE_INSERTION:
      return fs->steps + 1;
    case NN_EXPLAIN_STAGE_ROAD_MORF:
    case NN_EXPLAIN_STAGE_ROAD_LERF:
      return fs->road_points;
    case NN_EXPLAIN_STAGE_MAP:
    case NN_EXPLAIN_STAGE_RANDOMIZATION:
    case NN_EXPLAIN_STAGE_COUNT_:
    default:
      return 0;
    }
}

/* The top predictions and the target's probability, from the logits the map carries. */
static void
top_k (NnExplanation *e)
{
  const NnMap *m = e->map;
  const int n = m->classes;
  e->probability = nn_explain_softmax_at (m->logits, n, m->target);
  e->k = n < NN_EXPLAIN_TOP_K ? n : NN_EXPLAIN_TOP_K;
  nn_explain_top_k (e->top_class, m->logits, n, e->k);
  for (int k = 0; k < e->k; k++)
    e->top_probability[k] = nn_explain_softmax_at (m->logits, n, e->top_class[k]);
}

/* The map stage: the method on a context with gradient buffers only when it needs them (kept
 * for the metrics when they run at the same batch), the top predictions, the mask's
 * metrics. */
static bool
run_map (Run     *run,
         NnError *err)
{
  const NnExplainSpec *spec = run->spec;
  const NnMethodInfo *info = nn_method_get_info (spec->map.method);
  unsigned flags = (info->flags & NN_METHOD_FLAG_GRADIENTS) ? NN_CONTEXT_BACKWARD : 0;
  const bool batched = (info->flags & NN_METHOD_FLAG_BATCHED) != 0;
  const int inputs = batched ? method_inputs (run) : 1;
  int batch = batched ? stage_batch (run, flags, inputs) : 1;
  NnContext *ctx = context_get (run, batch, flags, err);
  if (ctx == NULL)
    return false;
  NnMap *map = info->compute (ctx, run->input->tensor, &spec->map, &run->inner, err);
  if (map == NULL)
    return false;
  NnExplanation *e = calloc (1, sizeof *e);
  if (e == NULL || map->logits == NULL)
    {
      nn_map_free (map);
      free (e);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
    }
  e->method = spec->map.method;
  e->map = map;
  e->inputs = inputs;
  e->batch = batch;
  top_k (e);
  if (spec->map.method == NN_METHOD_IG)
    {
      if (!nn_ig_convergence_delta (ctx, map, spec->map.baseline, &e->delta, err))
        {
          nn_explanation_free (e);
          return false;
        }
      e->has_delta = true;
    }
  if (spec->mask != NULL && (spec->faith.metrics & NN_FAITH_MASK))
    {
      e->metrics.pointing = nn_faith_pointing_game (map->map, spec->mask, map->h, map->w,
                                                    spec->faith.pointing_tolerance);
      e->metrics.energy = nn_faith_energy_share (map->map, spec->mask, map->h, map->w);
      e->metrics.has |= NN_FAITH_MASK;
    }
  run->e = e;
  return true;
}

/* Mean probability over a ROAD curve's points. */
static double
curve_mean (const NnCurve *curve)
{
  double mean = 0.0;
  for (int i = 0; i < curve->n; i++)
    mean += (double) curve->prob[i] / curve->n;
  return mean;
}

/* One metric stage into run->e->metrics. */
static bool
run_metric (Run     *run,
            NnError *err)
{
  const NnFaithSettings *fs = &run->spec->faith;
  const float *x = run->input->tensor;
  const NnMap *map = run->e->map;
  NnFaithMetrics *m = &run->e->metrics;
  float fractions[NN_CURVE_MAX];
  NnContext *ctx = NULL;
  if (run->stage != NN_EXPLAIN_STAGE_RANDOMIZATION)
    {
      /* The curves run forward passes only: a context with gradient buffers serves too. */
      ctx = context_get (run, stage_batch (run, 0, metric_inputs (run)), 0, err);
      if (ctx == NULL)
        return false;
    }
  switch (run->stage)
    {
    case NN_EXPLAIN_STAGE_DELETION:
      return nn_faith_curve (ctx, x, map->map, map->target, NN_CURVE_DELETION, fs->steps, 0.0f,
                             &m->deletion, &run->inner, err);
    case NN_EXPLAIN_STAGE_INSERTION:
      return nn_faith_curve (ctx, x, map->map, map->target, NN_CURVE_INSERTION, fs->steps,
                             nn_faith_settings_blur (fs, map->h, map->w), &m->insertion,
                             &run->inner, err);
    case NN_EXPLAIN_STAGE_ROAD_MORF:
      nn_faith_settings_road_fractions (fs, fractions);
      if (!nn_faith_road (ctx, x, map->map, map->target, fractions, fs->road_points, true,
                          fs->road_noise, fs->seed, &m->road_morf, &run->inner, err))
        return false;
      m->road_morf_mean = curve_mean (&m->road_morf);
      return true;
    case NN_EXPLAIN_STAGE_ROAD_LERF:
      nn_faith_settings_road_fractions (fs, fractions);
      if (!nn_faith_road (ctx, x, map->map, map->target, fractions, fs->road_points, false,
                          fs->road_noise, fs->seed, &m->road_lerf, &run->inner, err))
        return false;
      m->road_lerf_mean = curve_mean (&m->road_lerf);
      return true;
    case NN_EXPLAIN_STAGE_RANDOMIZATION:
      {
        /* On a copy of the model, with a context of its own: the one kept is freed first. */
        const NnMethodInfo *info = nn_method_get_info (run->spec->map.method);
        unsigned flags = (info->flags & NN_METHOD_FLAG_GRADIENTS) ? NN_CONTEXT_BACKWARD : 0;
        int batch = (info->flags & NN_METHOD_FLAG_BATCHED)
                    ? stage_batch (run, flags, method_inputs (run)) : 1;
        nn_context_free (run->ctx);
        run->ctx = NULL;
        return nn_faith_randomization_method (run->model->graph, x, &run->spec->map, map, batch,
                                              run->spec->threads, fs->seed, &m->rho,
                                              &run->inner, err);
      }
    case NN_EXPLAIN_STAGE_MAP:
    case NN_EXPLAIN_STAGE_COUNT_:
    default:
      NN_ASSERT (!"not a metric stage");
      return false;
    }
}

/* What is checked before anything runs: the input's shape and the settings. */
static bool
check (const NnModel       *model,
       const NnInput       *input,
       const NnExplainSpec *spec,
       NnError             *err)
{
  const NnShape in = model->graph->nodes[0].shape;
  if (input->tensor == NULL || input->c != in.c || input->h != in.h || input->w != in.w)
    return nn_error_set (err, NN_ERROR_SPEC, "%s: the input (%d x %d x %d) was not built for "
                         "this model (%d x %d x %d)", input->path, input->c, input->h, input->w,
                         in.c, in.h, in.w);
  if (spec->batch < 0 || spec->batch > 4096)
    return nn_error_set (err, NN_ERROR_SPEC, "a batch of 1 to 4096 inputs (0: chosen for the "
                         "model and threads), not %d", spec->batch);
  return nn_faith_settings_check (&spec->faith, err)
         && nn_explain_check_class (model->graph, spec->map.target, err);
}

NnExplanation *
nn_explain_run (const NnModel             *model,
                const NnInput             *input,
                const NnExplainSpec       *spec,
                const NnExplainRunControl *control,
                NnError                   *err)
{
  NN_ASSERT (model != NULL && input != NULL && spec != NULL);
  NN_ASSERT (spec->map.method >= 0 && spec->map.method < NN_METHOD_COUNT_);
  if (!check (model, input, spec, err))
    return NULL;
  Run run = { .model = model, .input = input, .spec = spec, .control = control };
  run.inner = (NnExplainControl) { control != NULL ? control->cancel : NULL, forward_progress,
                                   &run };
  bool ok = true;
  for (int s = 0; ok && s < NN_EXPLAIN_STAGE_COUNT_; s++)
    {
      run.stage = (NnExplainStage) s;
      if (!nn_explain_spec_runs_stage (spec, run.stage))
        continue;
      ok = !nn_explain_cancelled (&run.inner, err);
      if (ok)
        {
          report (&run, 0, 1);
          ok = run.stage == NN_EXPLAIN_STAGE_MAP ? run_map (&run, err) : run_metric (&run, err);
        }
      if (ok && run.stage != NN_EXPLAIN_STAGE_MAP)
        run.e->metrics.has |= stage_metrics[run.stage];
      if (ok && control != NULL && control->stage_done != NULL)
        control->stage_done (run.stage, run.e, control->user_data);
    }
  nn_context_free (run.ctx);
  if (!ok)
    {
      nn_explanation_free (run.e);
      return NULL;
    }
  return run.e;
}
