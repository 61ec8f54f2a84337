/* SPDX-License-Identifier: MIT */
/* The first forward pass and map of the attribution methods in their own files. */
#include "explain/nn-attribution.h"

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
