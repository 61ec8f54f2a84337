/* SPDX-License-Identifier: MIT */
/* AblationCAM (Desai and Ramaswamy 2020, as pytorch-grad-cam computes it): each channel k of
 * the layer is ablated in turn and the rest of the network run again from the layer; its
 * weight is the relative drop of the target logit, w_k = (y - y_k) / y, and the map is
 * sum_k w_k A_k. The registry's function nn_cam_ablationcam (nn-method.h). */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "explain/nn-attribution.h"
#include "explain/nn-cam.h"
#include "explain/nn-method.h"

/* The logits y_k (K) of the target with channel k of the layer's view set to `value` in its
 * output (`size` floats a sample, saved in `out0`), `batch` channels per pass. Every sample of
 * ctx already went forward to the layer from the input: nodes before the layer keep those
 * outputs (skip connections read them). */
static bool
ablated_logits (NnContext              *ctx,
                float                  *y,
                const float            *out0,
                size_t                  size,
                const NnCamLayer       *view,
                float                   value,
                int                     target,
                const NnExplainControl *control,
                NnError                *err)
{
  const NnGraph *graph = nn_context_get_graph (ctx);
  const int logit = nn_explain_logit_node (graph), batch = nn_context_get_batch (ctx);
  const int layer = view->layer, K = view->K;
  const size_t classes = nn_shape_size (graph->nodes[logit].shape);
  for (int k0 = 0; k0 < K; k0 += batch)
    {
      if (nn_explain_cancelled (control, err))
        return false;
      int nb = K - k0 < batch ? K - k0 : batch;
      float *out = nn_context_output (ctx, layer);
      for (int b = 0; b < nb; b++)
        {
          float *ob = out + (size_t) b * size;
          memcpy (ob, out0, sizeof (float) * size);
          nn_cam_layer_set_channel (view, ob, k0 + b, value);
        }
      nn_context_forward_from (ctx, layer + 1, logit);
      const float *logits = nn_context_output (ctx, logit);
      for (int b = 0; b < nb; b++)
        y[k0 + b] = logits[(size_t) b * classes + (size_t) target];
      nn_explain_report (control, k0 + nb, K);
    }
  return true;
}

NnMap *
nn_cam_ablationcam (NnContext              *ctx,
                    const float            *input,
                    const NnMethodSpec     *spec,
                    const NnExplainControl *control,
                    NnError                *err)
{
  NN_ASSERT (ctx && input && spec);
  NnGraph *graph = nn_context_get_graph (ctx);
  int layer = spec->layer, target = spec->target;
  NnCamLayer view;
  if (!nn_cam_layer_resolve (graph, layer, &view, err) || nn_explain_cancelled (control, err))
    return NULL;
  layer = view.layer;
  nn_context_keep (ctx, layer);
  const NnShape in = graph->nodes[0].shape;
  const int K = view.K, LHW = view.lh * view.lw, batch = nn_context_get_batch (ctx);
  NnMap *m = nn_attribution_begin (ctx, input, &target, view.lh, view.lw, 0, err);
  if (m == NULL)
    return NULL;
  m->layer = layer;
  if (m->score == 0.0f)
    {
      nn_map_free (m);
      return nn_error_set (err, NN_ERROR_NUMERIC, "ablationcam: the logit of class %d is 0, "
                           "so its relative drops are undefined", target), NULL;
    }
  const size_t size = (size_t) K * (size_t) LHW, in_size = nn_shape_size (in);
  const size_t out_size = nn_shape_size (graph->nodes[layer].shape);
  float *A = malloc (sizeof (float) * size);
  float *out0 = malloc (sizeof (float) * out_size);
  float *y = malloc (sizeof (float) * (size_t) K);
  if (A == NULL || out0 == NULL || y == NULL)
    {
      free (A);
      free (out0);
      free (y);
      nn_map_free (m);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }
  nn_cam_layer_read (ctx, &view, A, NULL);
  memcpy (out0, nn_context_output (ctx, layer), sizeof (float) * out_size);
  /* A channel is ablated to 0 when the view's smallest activation is 0 (after a ReLU), else
   * far below the smallest (pytorch-grad-cam's AblationLayer). */
  float lo = FLT_MAX;
  for (size_t i = 0; i < size; i++)
    lo = A[i] < lo ? A[i] : lo;
  const float value = lo == 0.0f ? 0.0f : lo - 1e7f;
  float *x = nn_context_input (ctx);
  for (int b = 0; b < batch; b++)
    memcpy (x + (size_t) b * in_size, input, sizeof (float) * in_size);
  nn_context_forward (ctx, layer);
  bool ok = ablated_logits (ctx, y, out0, out_size, &view, value, target, control, err);
  if (ok)
    for (int k = 0; k < K; k++)
      {
        float w = (m->score - y[k]) / m->score;
        for (int p = 0; p < LHW; p++)
          m->layer_map[p] += w * A[(size_t) k * (size_t) LHW + (size_t) p];
      }
  free (A);
  free (out0);
  free (y);
  if (ok && !nn_attribution_finish_cam (m, spec->keep_negative))
    ok = nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  if (!ok)
    {
      nn_map_free (m);
      return NULL;
    }
  return m;
}
