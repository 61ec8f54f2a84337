/* SPDX-License-Identifier: MIT */
/* Activation maximization: settings and their checks, the objectives and their gradients, and
 * the run, stepped by its owner, that records the original network's objective each step. */
#include "explain/nn-am-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const objective_names[NN_AM_OBJECTIVE_COUNT_] = {
  [NN_AM_OBJECTIVE_MEAN] = "mean",
  [NN_AM_OBJECTIVE_CENTER] = "center",
  [NN_AM_OBJECTIVE_PERCENTILE] = "percentile",
  [NN_AM_OBJECTIVE_UNIT] = "unit",
  [NN_AM_OBJECTIVE_LOGIT] = "logit",
  [NN_AM_OBJECTIVE_DIRECTION] = "direction",
};
_Static_assert (NN_AM_OBJECTIVE_DIRECTION == NN_AM_OBJECTIVE_COUNT_ - 1,
                "objective_names needs every NnAmObjective");

void
nn_am_settings_init (NnAmSettings *s)
{
  *s = (NnAmSettings) {
    .layer = -1, .objective = NN_AM_OBJECTIVE_MEAN, .percentile = 10.0f,
    .policy = { NN_GRAD_EXACT, 0.0f }, .steps = 256, .lr = 0.05f,
    .optimizer = NN_AM_OPTIMIZER_NGA, .param = NN_AM_PARAM_PIXELS, .pad = 4, .jitter = 2,
    .scale = 0.05f, .rotate = 5.0f, .blur = 0.5f, .start_items = 1, .noise = 0.1f, .seed = 1,
    .threads = 1,
  };
}

const char *
nn_am_objective_name (NnAmObjective objective)
{
  NN_ASSERT (objective >= 0 && objective < NN_AM_OBJECTIVE_COUNT_);
  return objective_names[objective];
}

bool
nn_am_objective_parse (const char    *text,
                       NnAmObjective *objective,
                       NnError       *err)
{
  for (int i = 0; i < NN_AM_OBJECTIVE_COUNT_; i++)
    if (strcmp (text, objective_names[i]) == 0)
      {
        *objective = (NnAmObjective) i;
        return true;
      }
  return nn_error_set (err, NN_ERROR_SPEC, "unknown objective '%s' (expected mean, center, "
                       "percentile, unit, logit or direction)", text);
}

bool
nn_am_transforms_parse (const char *text,
                        unsigned   *transforms,
                        NnError    *err)
{
  static const char *const names[] = { "pad", "jitter", "scale", "rotate", "blur" };
  _Static_assert (1u << (sizeof names / sizeof names[0] - 1) == NN_AM_TRANSFORM_BLUR,
                  "names needs one name per NnAmTransform bit");
  *transforms = 0;
  if (strcmp (text, "none") == 0)
    return true;
  const char *p = text;
  while (*p)
    {
      size_t len = strcspn (p, ",");
      bool found = false;
      if (len == 3 && strncmp (p, "all", 3) == 0)
        {
          *transforms |= (1u << 5) - 1;
          found = true;
        }
      for (unsigned k = 0; k < 5 && !found; k++)
        if (strlen (names[k]) == len && strncmp (p, names[k], len) == 0)
          {
            *transforms |= 1u << k;
            found = true;
          }
      if (!found)
        return nn_error_set (err, NN_ERROR_SPEC, "unknown transform '%.*s' in '%s' (expected "
                             "pad, jitter, scale, rotate, blur, all or none)", (int) len, p,
                             text);
      p += len;
      if (*p == ',')
        p++;
    }
  return true;
}

static int
compare_desc (const void *a,
              const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x < y) - (x > y);
}

float
nn_am_objective_eval (const NnAmSettings *s,
                      int                 channel,
                      NnShape             shape,
                      const float        *act,
                      float              *grad,
                      float              *scratch)
{
  const size_t hw = (size_t) shape.h * shape.w;
  switch (s->objective)
    {
    case NN_AM_OBJECTIVE_MEAN:
    case NN_AM_OBJECTIVE_LOGIT:
      {
        const float *a = act + (size_t) channel * hw;
        double sum = 0.0;
        for (size_t i = 0; i < hw; i++)
          sum += (double) a[i];
        if (grad)
          for (size_t i = 0; i < hw; i++)
            grad[(size_t) channel * hw + i] += 1.0f / (float) hw;
        return (float) (sum / (double) hw);
      }
    case NN_AM_OBJECTIVE_CENTER:
    case NN_AM_OBJECTIVE_UNIT:
      {
        int y = s->objective == NN_AM_OBJECTIVE_CENTER ? shape.h / 2 : s->unit_y;
        int x = s->objective == NN_AM_OBJECTIVE_CENTER ? shape.w / 2 : s->unit_x;
        size_t at = (size_t) channel * hw + (size_t) y * shape.w + x;
        if (grad)
          grad[at] += 1.0f;
        return act[at];
      }
    case NN_AM_OBJECTIVE_PERCENTILE:
      {
        /* The mean of the k largest units, k = ceil (hw percentile / 100); ties at the
         * threshold share the gradient of the places left. */
        const float *a = act + (size_t) channel * hw;
        size_t k = (size_t) ceil ((double) hw * (double) s->percentile / 100.0);
        k = k < 1 ? 1 : k > hw ? hw : k;
        memcpy (scratch, a, sizeof (float) * hw);
        qsort (scratch, hw, sizeof (float), compare_desc);
        float thr = scratch[k - 1];
        double sum = 0.0;
        size_t above = 0, at_thr = 0;
        for (size_t i = 0; i < k; i++)
          sum += (double) scratch[i];
        for (size_t i = 0; i < hw; i++)
          {
            above += a[i] > thr;
            at_thr += a[i] == thr;
          }
        if (grad)
          {
            float share = (float) (k - above) / (float) at_thr;
            for (size_t i = 0; i < hw; i++)
              if (a[i] > thr)
                grad[(size_t) channel * hw + i] += 1.0f / (float) k;
              else if (a[i] == thr)
                grad[(size_t) channel * hw + i] += share / (float) k;
          }
        return (float) (sum / (double) k);
      }
    case NN_AM_OBJECTIVE_DIRECTION:
      {
        double sum = 0.0;
        for (int c = 0; c < shape.c; c++)
          {
            double m = 0.0;
            for (size_t i = 0; i < hw; i++)
              m += (double) act[(size_t) c * hw + i];
            sum += (double) s->direction[c] * m / (double) hw;
            if (grad)
              for (size_t i = 0; i < hw; i++)
                grad[(size_t) c * hw + i] += s->direction[c] / (float) hw;
          }
        return (float) sum;
      }
    case NN_AM_OBJECTIVE_COUNT_:
    default:
      NN_ASSERT (!"unknown objective");
    }
}

static bool
is_spatial (NnAmObjective objective)
{
  return objective == NN_AM_OBJECTIVE_CENTER || objective == NN_AM_OBJECTIVE_UNIT
         || objective == NN_AM_OBJECTIVE_PERCENTILE;
}

static bool
check_number (float       value,
              float       lo,
              float       hi,
              const char *what,
              NnError    *err)
{
  if (!(isfinite (value) && value >= lo && value <= hi))
    return nn_error_set (err, NN_ERROR_SPEC, "%s %g is out of range (%g to %g)", what,
                         (double) value, (double) lo, (double) hi);
  return true;
}

/* Resolves the layer and checks everything that depends on the model. */
static bool
check_settings (const NnModel      *model,
                const NnAmSettings *s,
                int                *layer,
                NnError            *err)
{
  const NnGraph *g = model->graph;
  if (s->objective < 0 || s->objective >= NN_AM_OBJECTIVE_COUNT_)
    return nn_error_set (err, NN_ERROR_SPEC, "unknown objective");
  if (s->steps < 1 || s->steps > NN_AM_MAX_STEPS)
    return nn_error_set (err, NN_ERROR_SPEC, "%d steps is out of range (1 to %d)", s->steps,
                         NN_AM_MAX_STEPS);
  if (!check_number (s->lr, 0.0f, 1e6f, "learning rate", err)
      || !check_number (s->warmup, 0.0f, 1.0f, "warm-up share", err)
      || !check_number (s->l2, 0.0f, 1e6f, "L2 weight", err)
      || !check_number (s->tv, 0.0f, 1e6f, "total-variation weight", err)
      || !check_number (s->noise, 0.0f, 10.0f, "noise", err)
      || !check_number (s->policy.beta, 0.0f, 10.0f, "policy slope", err))
    return false;
  if (s->policy.kind < 0 || s->policy.kind >= NN_GRAD_COUNT_)
    return nn_error_set (err, NN_ERROR_SPEC, "unknown gradient policy");
  if (s->optimizer < 0 || s->optimizer >= NN_AM_OPTIMIZER_COUNT_ || s->param < 0
      || s->param >= NN_AM_PARAM_COUNT_)
    return nn_error_set (err, NN_ERROR_SPEC, "unknown optimizer or parameterization");
  if (s->clip && s->param != NN_AM_PARAM_PIXELS)
    return nn_error_set (err, NN_ERROR_SPEC, "a box for the input values needs the pixels "
                         "parameterization");
  if (s->clip && !(isfinite (s->clip_lo) && isfinite (s->clip_hi) && s->clip_lo < s->clip_hi))
    return nn_error_set (err, NN_ERROR_SPEC, "the box [%g, %g] for the input values is not an "
                         "interval (low < high, both finite)", (double) s->clip_lo,
                         (double) s->clip_hi);
  if (s->transforms & ~((1u << 5) - 1))
    return nn_error_set (err, NN_ERROR_SPEC, "unknown transform bits 0x%x", s->transforms);
  if ((s->transforms & NN_AM_TRANSFORM_PAD) && (s->pad < 0 || s->pad > 1024))
    return nn_error_set (err, NN_ERROR_SPEC, "pad %d is out of range (0 to 1024)", s->pad);
  if ((s->transforms & NN_AM_TRANSFORM_JITTER) && (s->jitter < 0 || s->jitter > 1024))
    return nn_error_set (err, NN_ERROR_SPEC, "jitter %d is out of range (0 to 1024)",
                         s->jitter);
  if (((s->transforms & NN_AM_TRANSFORM_SCALE) && !check_number (s->scale, 0.0f, 0.9f, "scale",
                                                                  err))
      || ((s->transforms & NN_AM_TRANSFORM_ROTATE)
          && !check_number (s->rotate, 0.0f, 180.0f, "rotation", err))
      || ((s->transforms & NN_AM_TRANSFORM_BLUR)
          && !check_number (s->blur, 0.01f, 16.0f, "blur sigma", err)))
    return false;

  const NnShape in = g->nodes[0].shape;
  if (in.c > NN_MODEL_MAX_CHANNELS)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%d input channels (at most %d)", in.c,
                         NN_MODEL_MAX_CHANNELS);
  for (int c = 0; c < in.c; c++)
    if (!(isfinite (model->std[c]) && model->std[c] > 0.0f && isfinite (model->mean[c])))
      return nn_error_set (err, NN_ERROR_SPEC, "the model's input normalization of channel %d "
                           "is not valid (std %g)", c, (double) model->std[c]);
  if (s->param == NN_AM_PARAM_FOURIER && in.c != 1 && in.c != 3)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "the Fourier parameterization needs 1 or 3 "
                         "input channels, not %d", in.c);

  int l = s->layer;
  if (l < 0)
    {
      if (s->objective != NN_AM_OBJECTIVE_LOGIT)
        return nn_error_set (err, NN_ERROR_SPEC, "no layer given for objective '%s'",
                             nn_am_objective_name (s->objective));
      l = nn_graph_output (g);
      if (g->nodes[l].op == NN_OP_SOFTMAX)
        l = g->nodes[l].inputs[0];
    }
  if (l < 1 || l >= g->n_nodes)
    return nn_error_set (err, NN_ERROR_SPEC, "layer %d does not exist (the model has layers 1 "
                         "to %d)", l, g->n_nodes - 1);
  const NnNode *node = &g->nodes[l];
  const NnShape sh = node->shape;
  if (is_spatial (s->objective) && sh.h * sh.w <= 1)
    return nn_error_set (err, NN_ERROR_SPEC, "objective '%s' needs a layer with a spatial "
                         "extent; layer '%s' is %d x %d x %d", nn_am_objective_name (s->objective),
                         node->name, sh.c, sh.h, sh.w);
  if (s->objective == NN_AM_OBJECTIVE_LOGIT && sh.h * sh.w != 1)
    return nn_error_set (err, NN_ERROR_SPEC, "objective 'logit' needs a layer of logits; layer "
                         "'%s' is %d x %d x %d", node->name, sh.c, sh.h, sh.w);
  if (s->objective == NN_AM_OBJECTIVE_UNIT
      && (s->unit_y < 0 || s->unit_y >= sh.h || s->unit_x < 0 || s->unit_x >= sh.w))
    return nn_error_set (err, NN_ERROR_SPEC, "unit (%d, %d) is outside layer '%s' (%d x %d)",
                         s->unit_y, s->unit_x, node->name, sh.h, sh.w);
  if (s->objective == NN_AM_OBJECTIVE_PERCENTILE
      && !(s->percentile > 0.0f && s->percentile <= 100.0f))
    return nn_error_set (err, NN_ERROR_SPEC, "percentile %g is out of range (0 to 100]",
                         (double) s->percentile);
  if (s->objective == NN_AM_OBJECTIVE_DIRECTION)
    {
      if (s->direction == NULL)
        return nn_error_set (err, NN_ERROR_SPEC, "objective 'direction' needs its weights");
      for (int c = 0; c < sh.c; c++)
        if (!isfinite (s->direction[c]))
          return nn_error_set (err, NN_ERROR_SPEC, "direction weight %d is not finite", c);
    }
  else
    {
      if (s->channels == NULL || s->n_channels < 1 || s->n_channels > NN_AM_MAX_BATCH)
        return nn_error_set (err, NN_ERROR_SPEC, "%d channels asked for (1 to %d)",
                             s->channels ? s->n_channels : 0, NN_AM_MAX_BATCH);
      for (int k = 0; k < s->n_channels; k++)
        if (s->channels[k] < 0 || s->channels[k] >= sh.c)
          return nn_error_set (err, NN_ERROR_SPEC, "%s %d is out of range: layer '%s' has %d "
                               "(0 to %d)",
                               s->objective == NN_AM_OBJECTIVE_LOGIT ? "class" : "channel",
                               s->channels[k], node->name, sh.c, sh.c - 1);
    }
  int items = s->objective == NN_AM_OBJECTIVE_DIRECTION ? 1 : s->n_channels;
  if (s->start && s->start_items != 1 && s->start_items != items)
    return nn_error_set (err, NN_ERROR_SPEC, "%d starting images for %d images", s->start_items,
                         items);
  *layer = l;
  return true;
}

static void
record (NnAmRun *run)
{
  const NnShape sh = run->lshape;
  const float *act = nn_context_output (run->ctx, run->layer);
  const int t = run->recorded;
  for (int b = 0; b < run->items; b++)
    {
      float f = nn_am_objective_eval (&run->settings, run->channels[b], sh,
                                      act + (size_t) b * nn_shape_size (sh), NULL,
                                      run->scratch);
      run->history[(size_t) b * (run->settings.steps + 1) + t] = f;
      if (isfinite (f) && (run->best_step[b] < 0 || f > run->best_obj[b]))
        {
          run->best_obj[b] = f;
          run->best_step[b] = t;
          memcpy (run->best + (size_t) b * run->n, run->image + (size_t) b * run->n,
                  sizeof (float) * run->n);
        }
    }
  run->recorded++;
}

/* The original network's forward pass on the current (untransformed) images. */
static void
forward_original (NnAmRun *run)
{
  const NnGradPolicy exact = { NN_GRAD_EXACT, 0.0f };
  nn_context_set_policy_override (run->ctx, &exact);
  memcpy (nn_context_input (run->ctx), run->image, sizeof (float) * run->n * (size_t) run->items);
  nn_context_forward (run->ctx, run->layer);
}

static bool
needs_separate_record (const NnAmRun *run)
{
  return run->settings.transforms != 0 || run->settings.policy.kind == NN_GRAD_PROXY_FULL;
}

/* The step's objective (summed over items, under the policy's forward pass, on the transformed
 * images, minus the penalties) and its gradient in run->gparams; rng draws the transforms.
 * With `forwarded`, the context already holds the forward pass of the untransformed images
 * under the policy (no transforms, a policy that keeps the forward pass). */
static float
compute_gradient (NnAmRun            *run,
                  const NnGradPolicy *policy,
                  NnRng              *rng,
                  bool                forwarded)
{
  const NnShape sh = run->lshape;
  const size_t lsize = nn_shape_size (sh);
  nn_context_set_policy_override (run->ctx, policy);
  if (!forwarded)
    {
      float *inp = nn_context_input (run->ctx);
      if (run->settings.transforms)
        nn_am_transform (run, rng, inp);
      else
        memcpy (inp, run->image, sizeof (float) * run->n * (size_t) run->items);
      nn_context_forward (run->ctx, run->layer);
    }
  float *seed = nn_context_grad (run->ctx, run->layer);
  const float *act = nn_context_output (run->ctx, run->layer);
  memset (seed, 0, sizeof (float) * lsize * (size_t) run->items);
  double total = 0.0;
  for (int b = 0; b < run->items; b++)
    total += (double) nn_am_objective_eval (&run->settings, run->channels[b], sh,
                                            act + (size_t) b * lsize, seed + (size_t) b * lsize,
                                            run->scratch);
  nn_context_backward (run->ctx, run->layer, NN_BACKWARD_INPUT, -1);
  const float *gin = nn_context_grad (run->ctx, 0);
  if (run->settings.transforms)
    {
      memset (run->gimage, 0, sizeof (float) * run->n * (size_t) run->items);
      nn_am_transform_backward (run, gin);
    }
  else
    memcpy (run->gimage, gin, sizeof (float) * run->n * (size_t) run->items);
  for (int b = 0; b < run->items; b++)
    total -= (double) nn_am_penalty (run, b);
  nn_am_render_backward (run);
  return (float) total;
}

/* The run's buffers for its items and steps; false when out of memory. */
static bool
run_alloc (NnAmRun            *run,
           const NnAmSettings *settings)
{
  const size_t all = run->n * (size_t) run->items;
  const size_t hw = (size_t) run->ishape.h * run->ishape.w;
  bool ok = true;
  run->channels = calloc ((size_t) run->items, sizeof (int));
  run->params = calloc (all, sizeof (float));
  run->image = calloc (all, sizeof (float));
  run->best = calloc (all, sizeof (float));
  run->best_obj = calloc ((size_t) run->items, sizeof (float));
  run->best_step = calloc ((size_t) run->items, sizeof (int));
  run->history = calloc ((size_t) run->items * (size_t) (settings->steps + 1), sizeof (float));
  run->gimage = calloc (all, sizeof (float));
  run->gparams = calloc (all, sizeof (float));
  run->tmp = calloc (run->n + hw, sizeof (float));
  run->scratch = calloc ((size_t) run->lshape.h * run->lshape.w, sizeof (float));
  run->affine = calloc ((size_t) run->items, sizeof (NnAmAffine));
  if (settings->optimizer == NN_AM_OPTIMIZER_ADAM)
    {
      run->m = calloc (all, sizeof (float));
      run->v = calloc (all, sizeof (float));
      ok = run->m && run->v;
    }
  if (settings->objective == NN_AM_OBJECTIVE_DIRECTION)
    {
      run->direction = malloc (sizeof (float) * (size_t) run->lshape.c);
      ok = ok && run->direction;
      if (run->direction)
        memcpy (run->direction, settings->direction, sizeof (float) * (size_t) run->lshape.c);
    }
  if (settings->transforms & NN_AM_TRANSFORM_BLUR)
    {
      run->blur_radius = (int) ceilf (3.0f * settings->blur);
      run->blur_kernel = malloc (sizeof (float) * (size_t) (2 * run->blur_radius + 1));
      ok = ok && run->blur_kernel;
      if (run->blur_kernel)
        {
          float sum = 0.0f;
          for (int k = -run->blur_radius; k <= run->blur_radius; k++)
            sum += run->blur_kernel[k + run->blur_radius]
              = expf (-0.5f * (float) (k * k) / (settings->blur * settings->blur));
          for (int k = 0; k <= 2 * run->blur_radius; k++)
            run->blur_kernel[k] /= sum;
        }
    }
  ok = ok && run->channels && run->params && run->image && run->best && run->best_obj
       && run->best_step && run->history && run->gimage && run->gparams && run->tmp
       && run->scratch && run->affine;
  if (ok && settings->param == NN_AM_PARAM_FOURIER)
    ok = nn_am_basis_init (run);
  return ok;
}

/* The start: noise around mid-grey, or the given images. */
static void
run_start (NnAmRun            *run,
           const NnAmSettings *settings)
{
  const NnModel *model = run->model;
  const size_t hw = (size_t) run->ishape.h * run->ishape.w;
  nn_rng_init (&run->rng, settings->seed);
  for (int b = 0; b < run->items; b++)
    {
      if (settings->start)
        {
          const float *img = settings->start + (settings->start_items == 1 ? 0 : (size_t) b
                                                * run->n);
          nn_am_params_from_image (run, b, img);
          continue;
        }
      float *p = run->params + (size_t) b * run->n;
      if (settings->param == NN_AM_PARAM_PIXELS)
        for (int c = 0; c < run->ishape.c; c++)
          for (size_t i = 0; i < hw; i++)
            {
              float v = (0.5f + settings->noise * nn_rng_normal (&run->rng) - model->mean[c])
                        / model->std[c];
              p[c * hw + i] = v < run->lo[c] ? run->lo[c] : v > run->hi[c] ? run->hi[c] : v;
            }
      else
        /* sigmoid' (0) = 1/4: coefficients of std 4 noise give pixels of about that std. */
        for (size_t i = 0; i < run->n; i++)
          p[i] = 4.0f * settings->noise * nn_rng_normal (&run->rng);
    }
  nn_am_render (run);
}

NnAmRun *
nn_am_run_new (const NnModel      *model,
               const NnAmSettings *settings,
               NnError            *err)
{
  NN_ASSERT (model != NULL && settings != NULL);
  int layer = -1;
  if (!check_settings (model, settings, &layer, err))
    return NULL;
  NnAmRun *run = calloc (1, sizeof *run);
  if (run == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  const NnGraph *g = model->graph;
  const bool direction = settings->objective == NN_AM_OBJECTIVE_DIRECTION;
  run->model = model;
  run->settings = *settings;
  run->layer = layer;
  run->lshape = g->nodes[layer].shape;
  run->ishape = g->nodes[0].shape;
  run->n = nn_shape_size (run->ishape);
  run->items = direction ? 1 : settings->n_channels;
  if (!run_alloc (run, settings))
    {
      nn_am_run_free (run);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for %d images", run->items),
             NULL;
    }
  /* The run keeps its own copies: the caller's arrays need not outlive this call. */
  run->settings.direction = run->direction;
  run->settings.channels = NULL;
  run->settings.start = NULL;
  run->ctx = nn_context_new (model->graph, run->items,
                             NN_CONTEXT_BACKWARD | settings->context_flags, err);
  if (run->ctx == NULL
      || (settings->threads != 1 && !nn_context_set_threads (run->ctx, settings->threads, err)))
    {
      nn_am_run_free (run);
      return NULL;
    }

  for (int b = 0; b < run->items; b++)
    {
      run->channels[b] = direction ? 0 : settings->channels[b];
      run->best_step[b] = -1;
    }
  /* The input range (normalized pixel values 0..1), or the box that replaces it. */
  for (int c = 0; c < run->ishape.c; c++)
    {
      run->lo[c] = settings->clip ? settings->clip_lo : (0.0f - model->mean[c]) / model->std[c];
      run->hi[c] = settings->clip ? settings->clip_hi : (1.0f - model->mean[c]) / model->std[c];
    }
  run_start (run, settings);
  return run;
}

void
nn_am_run_free (NnAmRun *run)
{
  if (run == NULL)
    return;
  nn_context_free (run->ctx);
  nn_am_basis_free (&run->basis);
  free (run->channels);
  free (run->direction);
  free (run->params);
  free (run->image);
  free (run->best);
  free (run->best_obj);
  free (run->best_step);
  free (run->history);
  free (run->gimage);
  free (run->gparams);
  free (run->m);
  free (run->v);
  free (run->tmp);
  free (run->scratch);
  free (run->affine);
  free (run->blur_kernel);
  free (run);
}

static bool
all_finite (const float *x,
            size_t       n)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite (x[i]))
      return false;
  return true;
}

static void
update (NnAmRun *run)
{
  const NnAmSettings *s = &run->settings;
  const size_t n = run->n;
  for (int b = 0; b < run->items; b++)
    {
      float *p = run->params + (size_t) b * n;
      const float *g = run->gparams + (size_t) b * n;
      if (s->optimizer == NN_AM_OPTIMIZER_NGA)
        {
          /* A zero gradient (a dead unit) leaves the image where it is. */
          double ss = 0.0;
          for (size_t i = 0; i < n; i++)
            ss += (double) g[i] * (double) g[i];
          float rms = (float) sqrt (ss / (double) n);
          if (rms > 0.0f)
            for (size_t i = 0; i < n; i++)
              p[i] += s->lr * g[i] / rms;
        }
      else if (s->optimizer == NN_AM_OPTIMIZER_SGD)
        for (size_t i = 0; i < n; i++)
          p[i] += s->lr * g[i];
      else
        {
          float *m = run->m + (size_t) b * n, *v = run->v + (size_t) b * n;
          const float b1 = 0.9f, b2 = 0.999f;
          const float c1 = 1.0f - powf (b1, (float) (run->step + 1));
          const float c2 = 1.0f - powf (b2, (float) (run->step + 1));
          for (size_t i = 0; i < n; i++)
            {
              m[i] = b1 * m[i] + (1.0f - b1) * g[i];
              v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
              p[i] += s->lr * (m[i] / c1) / (sqrtf (v[i] / c2) + 1e-8f);
            }
        }
      if (s->param == NN_AM_PARAM_PIXELS)
        {
          const size_t hw = (size_t) run->ishape.h * run->ishape.w;
          for (int c = 0; c < run->ishape.c; c++)
            for (size_t i = 0; i < hw; i++)
              {
                float *x = &p[c * hw + i];
                *x = *x < run->lo[c] ? run->lo[c] : *x > run->hi[c] ? run->hi[c] : *x;
              }
        }
    }
}

static const NnGradPolicy *
step_policy (const NnAmRun *run,
             NnGradPolicy  *identity)
{
  *identity = (NnGradPolicy) { NN_GRAD_IDENTITY, 0.0f };
  const int warm = (int) ceilf (run->settings.warmup * (float) run->settings.steps);
  return run->step < warm ? identity : &run->settings.policy;
}

static bool
fail_numeric (NnAmRun    *run,
              const char *what,
              NnError    *err)
{
  run->failed = true;
  return nn_error_set (err, NN_ERROR_NUMERIC, "step %d: the %s is no longer finite (NaN or "
                       "Inf); stopped, the best images so far are kept (image 0: objective %g "
                       "at step %d)", run->step, what, (double) run->best_obj[0],
                       run->best_step[0]);
}

bool
nn_am_run_step (NnAmRun          *run,
                int               n,
                const atomic_int *cancel,
                NnError          *err)
{
  NN_ASSERT (run != NULL);
  if (run->failed)
    return nn_error_set (err, NN_ERROR_NUMERIC, "the run stopped at step %d after a NaN or "
                         "Inf", run->step);
  const size_t all = run->n * (size_t) run->items;
  for (int k = 0; k < n && !run->done; k++)
    {
      if (cancel && atomic_load (cancel))
        return nn_error_set (err, NN_ERROR_CANCELLED, "activation maximization cancelled at "
                             "step %d", run->step);
      const bool separate = needs_separate_record (run);
      if (separate)
        forward_original (run);
      NnGradPolicy identity;
      const NnGradPolicy *policy = step_policy (run, &identity);
      if (!separate)
        {
          /* The step's own forward pass is the original network's. */
          nn_context_set_policy_override (run->ctx, policy);
          memcpy (nn_context_input (run->ctx), run->image, sizeof (float) * all);
          nn_context_forward (run->ctx, run->layer);
        }
      record (run);
      for (int b = 0; b < run->items; b++)
        if (!isfinite (run->history[(size_t) b * (run->settings.steps + 1) + run->step]))
          return fail_numeric (run, "objective", err);
      float total = compute_gradient (run, policy, &run->rng, !separate);
      if (!isfinite (total) || !all_finite (run->gparams, all))
        return fail_numeric (run, "gradient", err);
      update (run);
      if (!all_finite (run->params, all))
        return fail_numeric (run, "image", err);
      nn_am_render (run);
      run->step++;
      if (run->step == run->settings.steps)
        {
          forward_original (run);
          record (run);
          run->done = true;
          for (int b = 0; b < run->items; b++)
            if (!isfinite (run->history[(size_t) b * (run->settings.steps + 1) + run->step]))
              return fail_numeric (run, "objective", err);
        }
    }
  return true;
}

int
nn_am_run_get_step (const NnAmRun *run)
{
  return run->step;
}

bool
nn_am_run_is_done (const NnAmRun *run)
{
  return run->done || run->failed;
}

int
nn_am_run_get_items (const NnAmRun *run)
{
  return run->items;
}

int
nn_am_run_get_channel (const NnAmRun *run,
                       int            item)
{
  NN_ASSERT (item >= 0 && item < run->items);
  return run->settings.objective == NN_AM_OBJECTIVE_DIRECTION ? -1 : run->channels[item];
}

NnShape
nn_am_run_get_shape (const NnAmRun *run)
{
  return run->ishape;
}

const float *
nn_am_run_peek_image (const NnAmRun *run,
                      int            item)
{
  NN_ASSERT (item >= 0 && item < run->items);
  return run->image + (size_t) item * run->n;
}

const float *
nn_am_run_peek_best (const NnAmRun *run,
                     int            item)
{
  NN_ASSERT (item >= 0 && item < run->items);
  return run->best + (size_t) item * run->n;
}

float
nn_am_run_get_best_objective (const NnAmRun *run,
                              int            item)
{
  NN_ASSERT (item >= 0 && item < run->items);
  return run->best_step[item] >= 0 ? run->best_obj[item] : NAN;
}

const float *
nn_am_run_peek_history (const NnAmRun *run,
                        int            item,
                        int           *n)
{
  NN_ASSERT (item >= 0 && item < run->items && n != NULL);
  *n = run->recorded;
  return run->history + (size_t) item * (run->settings.steps + 1);
}

float
nn_am_run_get_objective (const NnAmRun *run,
                         int            item)
{
  NN_ASSERT (item >= 0 && item < run->items);
  if (run->recorded == 0)
    return NAN;
  return run->history[(size_t) item * (run->settings.steps + 1) + run->recorded - 1];
}

float *
nn_am_run_get_params (NnAmRun *run,
                      size_t  *n)
{
  *n = run->n * (size_t) run->items;
  return run->params;
}

float
nn_am_run_gradient (NnAmRun *run,
                    float   *grad)
{
  NnGradPolicy identity;
  NnRng rng = run->rng;
  nn_am_render (run);
  float total = compute_gradient (run, step_policy (run, &identity), &rng, false);
  memcpy (grad, run->gparams, sizeof (float) * run->n * (size_t) run->items);
  return total;
}

void
nn_am_image_to_pixels (const NnModel *model,
                       const float   *image,
                       NnImage       *out)
{
  const size_t hw = (size_t) out->h * out->w;
  NN_ASSERT (out->c == nn_model_input_channels (model));
  for (int c = 0; c < out->c; c++)
    for (size_t i = 0; i < hw; i++)
      {
        float v = image[c * hw + i] * model->std[c] + model->mean[c];
        out->data[c * hw + i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
      }
}
