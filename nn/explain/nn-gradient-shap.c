/* SPDX-License-Identifier: MIT */
/* GradientSHAP (Lundberg and Lee 2017, as Captum computes it): expected gradients over random
 * baselines. Each of N samples draws a point a ~ U(0, 1), Gaussian noise e and a baseline x'
 * (the given one, or uniform noise over the input's range), and the attribution is the mean
 * of dy/dx (x' + a (x + e - x')) * (x + e - x'). Samples go through the context a batch at a
 * time. The registry's function nn_gradient_shap (nn-method.h). */
#include <stdlib.h>
#include <string.h>

#include "core/nn-rng.h"
#include "explain/nn-attribution.h"
#include "explain/nn-method.h"

/* Sample b's point on its path into x, and x + e - x' into diff; the draws in this order:
 * a, then e per value (when sigma > 0), then x' per value (without a baseline). */
static void
draw_sample (float        *x,
             float        *diff,
             const float  *input,
             const float  *baseline,
             size_t        n,
             float         sigma,
             float         lo,
             float         hi,
             NnRng        *rng)
{
  const float a = nn_rng_uniform (rng);
  for (size_t i = 0; i < n; i++)
    diff[i] = input[i] + (sigma > 0.0f ? sigma * nn_rng_normal (rng) : 0.0f);
  for (size_t i = 0; i < n; i++)
    {
      float base = baseline != NULL ? baseline[i] : lo + (hi - lo) * nn_rng_uniform (rng);
      diff[i] -= base;
      x[i] = base + a * diff[i];
    }
}

NnMap *
nn_gradient_shap (NnContext              *ctx,
                  const float            *input,
                  const NnMethodSpec     *spec,
                  const NnExplainControl *control,
                  NnError                *err)
{
  NN_ASSERT (ctx && input && spec);
  NnGraph *graph = nn_context_get_graph (ctx);
  const NnShape in = graph->nodes[0].shape;
  const size_t hw = (size_t) in.h * (size_t) in.w, in_size = nn_shape_size (in);
  const int n = spec->samples > 0 ? spec->samples : 25, batch = nn_context_get_batch (ctx);
  if (spec->samples < 0 || spec->samples > 100000 || !(spec->noise >= 0.0f))
    return nn_error_set (err, NN_ERROR_SPEC, "bad sample count %d or noise level %g",
                         spec->samples, (double) spec->noise), NULL;
  int target = spec->target;
  if (!nn_attribution_check_gradients (ctx, "gradientshap", err))
    return NULL;
  if (nn_explain_cancelled (control, err))
    return NULL;
  NnMap *m = nn_attribution_begin (ctx, input, &target, in.h, in.w, in.c, err);
  if (m == NULL)
    return NULL;
  float *diff = malloc (sizeof (float) * in_size * (size_t) batch);
  if (diff == NULL)
    {
      nn_map_free (m);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }
  float lo = input[0], hi = input[0];
  for (size_t i = 1; i < in_size; i++)
    {
      lo = input[i] < lo ? input[i] : lo;
      hi = input[i] > hi ? input[i] : hi;
    }
  const float sigma = spec->noise * (hi - lo);
  const int logit = nn_explain_logit_node (graph);
  const size_t classes = nn_shape_size (graph->nodes[logit].shape);
  const NnGradPolicy exact = { NN_GRAD_EXACT, 0.0f };
  NnRng rng;
  nn_rng_init (&rng, spec->seed);
  bool ok = true;
  for (int s0 = 0; s0 < n && ok; s0 += batch)
    {
      if (nn_explain_cancelled (control, err))
        {
          ok = false;
          break;
        }
      int nb = n - s0 < batch ? n - s0 : batch;
      float *x = nn_context_input (ctx);
      for (int b = 0; b < nb; b++)
        draw_sample (x + (size_t) b * in_size, diff + (size_t) b * in_size, input,
                     spec->baseline, in_size, sigma, lo, hi, &rng);
      nn_context_forward (ctx, logit);
      float *seed = nn_context_grad (ctx, logit);
      memset (seed, 0, sizeof (float) * classes * (size_t) batch);
      for (int b = 0; b < nb; b++)
        seed[(size_t) b * classes + (size_t) target] = 1.0f;
      nn_context_set_policy_override (ctx, &exact);
      nn_context_backward (ctx, logit, NN_BACKWARD_INPUT, -1);
      nn_context_set_policy_override (ctx, NULL);
      const float *g = nn_context_grad (ctx, 0);
      for (size_t i = 0; i < in_size * (size_t) nb; i++)
        m->channels[i % in_size] += g[i] * diff[i] / (float) n;
      nn_explain_report (control, s0 + nb, n);
    }
  free (diff);
  if (!ok)
    {
      nn_map_free (m);
      return NULL;
    }
  nn_attribution_sum_channels (m->map, m->channels, in.c, hw);
  memcpy (m->layer_map, m->map, sizeof (float) * hw);
  m->is_signed = true;
  return m;
}
