/* SPDX-License-Identifier: MIT */
/* Input-space attribution: gradients of the target logit with respect to the input, for the
 * input itself, noisy copies (SmoothGrad), points on a straight path from a baseline
 * (Integrated Gradients), or under the guided ReLU backward (Guided Backprop); and the
 * registry's functions of these methods (nn-method.h). */
#include "explain/nn-saliency.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/nn-rng.h"
#include "explain/nn-method.h"

static const char *const method_names[NN_SALIENCY_COUNT_] = {
  [NN_SALIENCY_GRADIENT] = "gradient",
  [NN_SALIENCY_SMOOTHGRAD] = "smoothgrad",
  [NN_SALIENCY_IG] = "ig",
  [NN_SALIENCY_GUIDED] = "guided",
  [NN_SALIENCY_GUIDED_GRADCAM] = "guided-gradcam",
};
_Static_assert (NN_SALIENCY_GUIDED_GRADCAM == NN_SALIENCY_COUNT_ - 1,
                "method_names needs every NnSaliencyMethod");

void
nn_saliency_spec_init (NnSaliencySpec *spec)
{
  memset (spec, 0, sizeof *spec);
  spec->method = NN_SALIENCY_GRADIENT;
  spec->target = -1;
  spec->samples = 0;
  spec->noise = 0.15f;
  spec->layer = -1;
  spec->seed = 1;
}

const char *
nn_saliency_method_name (NnSaliencyMethod method)
{
  NN_ASSERT (method >= 0 && method < NN_SALIENCY_COUNT_);
  return method_names[method];
}

bool
nn_saliency_method_from_name (const char       *name,
                              NnSaliencyMethod *method)
{
  for (int i = 0; i < NN_SALIENCY_COUNT_; i++)
    if (strcmp (name, method_names[i]) == 0)
      {
        *method = (NnSaliencyMethod) i;
        return true;
      }
  return false;
}

/* The input gradient of the target logit for the first nb samples already in the context's
 * input; gradients are in nn_context_grad (ctx, 0). */
static void
input_gradients (NnContext *ctx,
                 int        nb,
                 int        target)
{
  NnGraph *graph = nn_context_get_graph (ctx);
  const int logit = nn_explain_logit_node (graph);
  const size_t classes = nn_shape_size (graph->nodes[logit].shape);
  nn_context_forward (ctx, logit);
  float *seed = nn_context_grad (ctx, logit);
  memset (seed, 0, sizeof (float) * classes * (size_t) nn_context_get_batch (ctx));
  for (int b = 0; b < nb; b++)
    seed[(size_t) b * classes + (size_t) target] = 1.0f;
  nn_context_backward (ctx, logit, NN_BACKWARD_INPUT, -1);
}

/* map (HW) = max over c of |g (c, HW)|, accumulated with weight `scale`. */
static void
add_max_abs (float       *map,
             const float *g,
             int          C,
             size_t       hw,
             float        scale)
{
  for (size_t p = 0; p < hw; p++)
    {
      float m = 0.0f;
      for (int c = 0; c < C; c++)
        {
          float v = fabsf (g[(size_t) c * hw + p]);
          m = v > m ? v : m;
        }
      map[p] += scale * m;
    }
}

/* SmoothGrad and IG: `n` inputs made by `make` go through the context in batches; their
 * gradients are summed into sum (C, H, W) and, for SmoothGrad, their max-abs maps into map. */
static bool
many_gradients (NnContext              *ctx,
                NnMap                  *m,
                const float            *input,
                const NnSaliencySpec   *spec,
                const float            *baseline,
                float                  *sum,
                const NnExplainControl *control,
                NnError                *err)
{
  NnGraph *graph = nn_context_get_graph (ctx);
  const NnShape in = graph->nodes[0].shape;
  const size_t hw = (size_t) in.h * (size_t) in.w, in_size = (size_t) in.c * hw;
  const int batch = nn_context_get_batch (ctx);
  const bool smooth = spec->method == NN_SALIENCY_SMOOTHGRAD;
  const int n = spec->samples > 0 ? spec->samples : smooth ? 25 : 32;
  float lo = input[0], hi = input[0];
  for (size_t i = 1; i < in_size; i++)
    {
      lo = input[i] < lo ? input[i] : lo;
      hi = input[i] > hi ? input[i] : hi;
    }
  const float sigma = spec->noise * (hi - lo);
  NnRng rng;
  nn_rng_init (&rng, spec->seed);
  for (int s0 = 0; s0 < n; s0 += batch)
    {
      if (nn_explain_cancelled (control, err))
        return false;
      int nb = n - s0 < batch ? n - s0 : batch;
      float *x = nn_context_input (ctx);
      for (int b = 0; b < nb; b++)
        {
          float *xb = x + (size_t) b * in_size;
          if (smooth)
            for (size_t i = 0; i < in_size; i++)
              xb[i] = input[i] + sigma * nn_rng_normal (&rng);
          else
            {
              /* Midpoint rule on the path x' + alpha (x - x'). */
              float alpha = ((float) (s0 + b) + 0.5f) / (float) n;
              for (size_t i = 0; i < in_size; i++)
                xb[i] = baseline[i] + alpha * (input[i] - baseline[i]);
            }
        }
      input_gradients (ctx, nb, m->target);
      const float *g = nn_context_grad (ctx, 0);
      for (int b = 0; b < nb; b++)
        {
          const float *gb = g + (size_t) b * in_size;
          for (size_t i = 0; i < in_size; i++)
            sum[i] += gb[i];
          if (smooth)
            add_max_abs (m->map, gb, in.c, hw, 1.0f / (float) n);
        }
      nn_explain_report (control, s0 + nb, n);
    }
  for (size_t i = 0; i < in_size; i++)
    sum[i] /= (float) n;
  return true;
}

NnMap *
nn_saliency_compute (NnContext              *ctx,
                     const float            *input,
                     const NnSaliencySpec   *spec,
                     const NnExplainControl *control,
                     NnError                *err)
{
  NN_ASSERT (ctx && input && spec);
  NN_ASSERT (spec->method >= 0 && spec->method < NN_SALIENCY_COUNT_);
  NnGraph *graph = nn_context_get_graph (ctx);
  if (nn_context_grad (ctx, 0) == NULL)
    return nn_error_set (err, NN_ERROR_SPEC, "%s needs a context with gradient buffers",
                         nn_saliency_method_name (spec->method)), NULL;
  if (spec->samples < 0 || spec->samples > 100000 || !(spec->noise >= 0.0f))
    return nn_error_set (err, NN_ERROR_SPEC, "bad sample count %d or noise level %g",
                         spec->samples, (double) spec->noise), NULL;
  if (nn_explain_cancelled (control, err))
    return NULL;

  /* Guided Grad-CAM's Grad-CAM part first: it checks the layer and resolves the class. */
  NnMap *cam = NULL;
  int target = spec->target;
  if (spec->method == NN_SALIENCY_GUIDED_GRADCAM)
    {
      NnCamSpec cs;
      nn_cam_spec_init (&cs);
      cs.layer = spec->layer;
      cs.target = spec->target;
      cam = nn_cam_compute (ctx, input, &cs, NULL, err);
      if (cam == NULL)
        return NULL;
      target = cam->target;
    }

  float score = 0.0f;
  if (!nn_explain_prepare (ctx, input, &target, &score, err))
    {
      nn_map_free (cam);
      return NULL;
    }
  const NnShape in = graph->nodes[0].shape;
  const size_t hw = (size_t) in.h * (size_t) in.w, in_size = (size_t) in.c * hw;
  NnMap *m = nn_map_new (in.h, in.w, in.h, in.w, in.c);
  float *zeros = spec->method == NN_SALIENCY_IG && spec->baseline == NULL
                 ? calloc (in_size, sizeof (float)) : NULL;
  if (m == NULL || (spec->method == NN_SALIENCY_IG && spec->baseline == NULL && zeros == NULL)
      || !nn_map_copy_logits (m, ctx))
    {
      nn_map_free (cam);
      nn_map_free (m);
      free (zeros);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }
  m->target = target;
  m->score = score;
  m->layer = 0;

  bool ok = true;
  const NnGradPolicy exact = { NN_GRAD_EXACT, 0.0f }, guided = { NN_GRAD_GUIDED, 0.0f };
  bool is_guided = spec->method == NN_SALIENCY_GUIDED
                   || spec->method == NN_SALIENCY_GUIDED_GRADCAM;
  nn_context_set_policy_override (ctx, is_guided ? &guided : &exact);
  switch (spec->method)
    {
    case NN_SALIENCY_GRADIENT:
    case NN_SALIENCY_GUIDED:
    case NN_SALIENCY_GUIDED_GRADCAM:
      input_gradients (ctx, 1, target);
      memcpy (m->channels, nn_context_grad (ctx, 0), sizeof (float) * in_size);
      if (cam != NULL)
        for (int c = 0; c < in.c; c++)
          for (size_t p = 0; p < hw; p++)
            m->channels[(size_t) c * hw + p] *= cam->map[p];
      add_max_abs (m->map, m->channels, in.c, hw, 1.0f);
      nn_explain_report (control, 1, 1);
      break;
    case NN_SALIENCY_SMOOTHGRAD:
      ok = many_gradients (ctx, m, input, spec, NULL, m->channels, control, err);
      break;
    case NN_SALIENCY_IG:
      {
        const float *base = spec->baseline ? spec->baseline : zeros;
        ok = many_gradients (ctx, m, input, spec, base, m->channels, control, err);
        for (size_t i = 0; ok && i < in_size; i++)
          m->channels[i] *= input[i] - base[i];
        for (int c = 0; ok && c < in.c; c++)
          for (size_t p = 0; p < hw; p++)
            m->map[p] += m->channels[(size_t) c * hw + p];
        m->is_signed = true;
        break;
      }
    case NN_SALIENCY_COUNT_:
    default:
      NN_ASSERT (!"unknown saliency method");
    }
  nn_context_set_policy_override (ctx, NULL);
  nn_map_free (cam);
  free (zeros);
  if (!ok)
    {
      nn_map_free (m);
      return NULL;
    }
  memcpy (m->layer_map, m->map, sizeof (float) * hw);
  return m;
}

/* The registry's functions (nn-method.h). */

static NnMap *
saliency_method (NnContext              *ctx,
                 const float            *input,
                 const NnMethodSpec     *spec,
                 NnSaliencyMethod        method,
                 const NnExplainControl *control,
                 NnError                *err)
{
  NN_ASSERT (ctx && input && spec);
  NnSaliencySpec s;
  nn_saliency_spec_init (&s);
  s.method = method;
  s.target = spec->target;
  s.samples = spec->samples;
  s.noise = spec->noise;
  s.baseline = spec->baseline;
  s.layer = spec->layer;
  s.seed = spec->seed;
  return nn_saliency_compute (ctx, input, &s, control, err);
}

NnMap *
nn_saliency_gradient (NnContext              *ctx,
                      const float            *input,
                      const NnMethodSpec     *spec,
                      const NnExplainControl *control,
                      NnError                *err)
{
  return saliency_method (ctx, input, spec, NN_SALIENCY_GRADIENT, control, err);
}

NnMap *
nn_saliency_smoothgrad (NnContext              *ctx,
                        const float            *input,
                        const NnMethodSpec     *spec,
                        const NnExplainControl *control,
                        NnError                *err)
{
  return saliency_method (ctx, input, spec, NN_SALIENCY_SMOOTHGRAD, control, err);
}

NnMap *
nn_saliency_ig (NnContext              *ctx,
                const float            *input,
                const NnMethodSpec     *spec,
                const NnExplainControl *control,
                NnError                *err)
{
  return saliency_method (ctx, input, spec, NN_SALIENCY_IG, control, err);
}

NnMap *
nn_saliency_guided (NnContext              *ctx,
                    const float            *input,
                    const NnMethodSpec     *spec,
                    const NnExplainControl *control,
                    NnError                *err)
{
  return saliency_method (ctx, input, spec, NN_SALIENCY_GUIDED, control, err);
}

NnMap *
nn_saliency_guided_gradcam (NnContext              *ctx,
                            const float            *input,
                            const NnMethodSpec     *spec,
                            const NnExplainControl *control,
                            NnError                *err)
{
  return saliency_method (ctx, input, spec, NN_SALIENCY_GUIDED_GRADCAM, control, err);
}
