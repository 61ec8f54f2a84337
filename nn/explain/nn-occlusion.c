/* SPDX-License-Identifier: MIT */
/* Occlusion (Zeiler and Fergus 2014, as Captum defines it): a square patch over every channel
 * slides over the input with a stride; the patch is replaced by the baseline and the drop of
 * the target logit is credited to every pixel under it, averaged over the patches that cover
 * the pixel. The registry's function nn_occlusion (nn-method.h). */
#include <stdlib.h>
#include <string.h>

#include "explain/nn-attribution.h"
#include "explain/nn-method.h"

/* Patches along a side of n pixels: the last one starts at or after n - window and may be
 * cut by the border (Captum's ceil ((n - window) / stride) + 1). */
static int
patch_count (int n,
             int window,
             int stride)
{
  return (n - window + stride - 1) / stride + 1;
}

NnMap *
nn_occlusion (NnContext              *ctx,
              const float            *input,
              const NnMethodSpec     *spec,
              const NnExplainControl *control,
              NnError                *err)
{
  NN_ASSERT (ctx && input && spec);
  NnGraph *graph = nn_context_get_graph (ctx);
  const NnShape in = graph->nodes[0].shape;
  const int side = in.h < in.w ? in.h : in.w;
  const int window = spec->window > 0 ? spec->window : side / 4 > 0 ? side / 4 : 1;
  const int stride = spec->stride > 0 ? spec->stride : window / 2 > 0 ? window / 2 : 1;
  if (window > side || stride > window)
    return nn_error_set (err, NN_ERROR_SPEC, "occlusion: a window of %d px with stride %d does "
                         "not fit a %d x %d input (window at most the input, stride at most the "
                         "window)", window, stride, in.h, in.w), NULL;
  if (nn_explain_cancelled (control, err))
    return NULL;
  int target = spec->target;
  NnMap *m = nn_attribution_begin (ctx, input, &target, in.h, in.w, in.c, err);
  if (m == NULL)
    return NULL;
  const size_t hw = (size_t) in.h * (size_t) in.w, in_size = (size_t) in.c * hw;
  const int ny = patch_count (in.h, window, stride), nx = patch_count (in.w, window, stride);
  const int n = ny * nx, batch = nn_context_get_batch (ctx);
  const int logit = nn_explain_logit_node (graph);
  const size_t classes = nn_shape_size (graph->nodes[logit].shape);
  float *count = calloc (hw, sizeof (float));
  if (count == NULL)
    {
      nn_map_free (m);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }
  for (int p0 = 0; p0 < n; p0 += batch)
    {
      if (nn_explain_cancelled (control, err))
        {
          free (count);
          nn_map_free (m);
          return NULL;
        }
      int nb = n - p0 < batch ? n - p0 : batch;
      float *x = nn_context_input (ctx);
      for (int b = 0; b < nb; b++)
        {
          int y0 = (p0 + b) / nx * stride, x0 = (p0 + b) % nx * stride;
          int y1 = y0 + window < in.h ? y0 + window : in.h;
          int x1 = x0 + window < in.w ? x0 + window : in.w;
          float *xb = x + (size_t) b * in_size;
          memcpy (xb, input, sizeof (float) * in_size);
          for (int c = 0; c < in.c; c++)
            for (int y = y0; y < y1; y++)
              for (int xx = x0; xx < x1; xx++)
                {
                  size_t i = (size_t) c * hw + (size_t) y * (size_t) in.w + (size_t) xx;
                  xb[i] = spec->baseline != NULL ? spec->baseline[i] : 0.0f;
                }
        }
      nn_context_forward (ctx, logit);
      const float *logits = nn_context_output (ctx, logit);
      for (int b = 0; b < nb; b++)
        {
          int y0 = (p0 + b) / nx * stride, x0 = (p0 + b) % nx * stride;
          int y1 = y0 + window < in.h ? y0 + window : in.h;
          int x1 = x0 + window < in.w ? x0 + window : in.w;
          float drop = m->score - logits[(size_t) b * classes + (size_t) m->target];
          for (int y = y0; y < y1; y++)
            for (int xx = x0; xx < x1; xx++)
              {
                m->map[(size_t) y * (size_t) in.w + (size_t) xx] += drop;
                count[(size_t) y * (size_t) in.w + (size_t) xx] += 1.0f;
              }
        }
      nn_explain_report (control, p0 + nb, n);
    }
  /* Every pixel lies under at least one patch; every channel gets the pixel's value. */
  for (size_t p = 0; p < hw; p++)
    m->map[p] /= count[p];
  for (int c = 0; c < in.c; c++)
    memcpy (m->channels + (size_t) c * hw, m->map, sizeof (float) * hw);
  memcpy (m->layer_map, m->map, sizeof (float) * hw);
  m->layer = 0;
  m->is_signed = true;
  free (count);
  return m;
}
