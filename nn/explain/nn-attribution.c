/* SPDX-License-Identifier: MIT */
/* The first forward pass and map of the attribution methods in their own files. */
#include "explain/nn-attribution.h"

#include <stdlib.h>
#include <string.h>

NnMap *
nn_attribution_begin (NnContext   *ctx,
                      const float *input,
                      int         *target,
                      int          lh,
                      int          lw,
                      int          c,
                      NnError     *err)
{
  const NnShape in = nn_context_get_graph (ctx)->nodes[0].shape;
  float score = 0.0f;
  if (!nn_explain_prepare (ctx, input, target, &score, err))
    return NULL;
  NnMap *m = nn_map_new (lh, lw, in.h, in.w, c);
  if (m == NULL || !nn_map_copy_logits (m, ctx))
    {
      nn_map_free (m);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }
  m->target = *target;
  m->score = score;
  return m;
}

void
nn_attribution_sum_channels (float       *map,
                             const float *channels,
                             int          c,
                             size_t       hw)
{
  for (int k = 0; k < c; k++)
    for (size_t p = 0; p < hw; p++)
      map[p] += channels[(size_t) k * hw + p];
}

void
nn_attribution_backward (NnContext *ctx,
                         int        target,
                         int        stop)
{
  NnGraph *graph = nn_context_get_graph (ctx);
  const int logit = nn_explain_logit_node (graph);
  const size_t classes = nn_shape_size (graph->nodes[logit].shape);
  float *seed = nn_context_grad (ctx, logit);
  memset (seed, 0, sizeof (float) * classes * (size_t) nn_context_get_batch (ctx));
  seed[target] = 1.0f;
  const NnGradPolicy exact = { NN_GRAD_EXACT, 0.0f };
  nn_context_set_policy_override (ctx, &exact);
  nn_context_backward (ctx, logit, stop < 0 ? NN_BACKWARD_INPUT : 0, stop);
  nn_context_set_policy_override (ctx, NULL);
}

bool
nn_attribution_finish_cam (NnMap *m,
                           bool   keep_negative)
{
  const size_t lhw = (size_t) m->lh * (size_t) m->lw;
  float *shown = malloc (sizeof (float) * lhw);
  if (shown == NULL)
    return false;
  for (size_t p = 0; p < lhw; p++)
    shown[p] = keep_negative || m->layer_map[p] > 0.0f ? m->layer_map[p] : 0.0f;
  nn_explain_upsample (m->map, shown, m->lh, m->lw, m->h, m->w);
  m->is_signed = keep_negative;
  free (shown);
  return true;
}

bool
nn_attribution_check_gradients (NnContext  *ctx,
                                const char *name,
                                NnError    *err)
{
  if (nn_context_grad (ctx, 0) == NULL)
    return nn_error_set (err, NN_ERROR_SPEC, "%s needs a context with gradient buffers", name);
  return true;
}
