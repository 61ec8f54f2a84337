/* SPDX-License-Identifier: MIT */
/* Eigen-Grad-CAM (pytorch-grad-cam): the projection of G * A, the layer's gradients times its
 * activations, centred per channel, on its first principal component over the channels (as
 * Eigen-CAM projects A, with the same sign convention). The registry's function
 * nn_cam_eigengradcam (nn-method.h). */
#include <stdlib.h>

#include "explain/nn-attribution.h"
#include "explain/nn-cam.h"
#include "explain/nn-method.h"

NnMap *
nn_cam_eigengradcam (NnContext              *ctx,
                     const float            *input,
                     const NnMethodSpec     *spec,
                     const NnExplainControl *control,
                     NnError                *err)
{
  NN_ASSERT (ctx && input && spec);
  NnGraph *graph = nn_context_get_graph (ctx);
  int layer = spec->layer, target = spec->target;
  if (!nn_attribution_check_gradients (ctx, "eigengradcam", err))
    return NULL;
  NnCamLayer view;
  if (!nn_cam_layer_resolve (graph, layer, &view, err) || nn_explain_cancelled (control, err))
    return NULL;
  layer = view.layer;
  const int K = view.K, LHW = view.lh * view.lw;
  NnMap *m = nn_attribution_begin (ctx, input, &target, view.lh, view.lw, 0, err);
  if (m == NULL)
    return NULL;
  m->layer = layer;
  const size_t size = (size_t) K * (size_t) LHW;
  float *P = malloc (sizeof (float) * size);
  float *G = malloc (sizeof (float) * size);
  if (P == NULL || G == NULL)
    {
      free (P);
      free (G);
      nn_map_free (m);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }
  nn_attribution_backward (ctx, target, layer);
  nn_cam_layer_read (ctx, &view, P, G);
  for (size_t i = 0; i < size; i++)
    P[i] *= G[i];
  bool ok = nn_cam_eigen_projection (m->layer_map, P, K, LHW)
            && nn_attribution_finish_cam (m, spec->keep_negative);
  free (P);
  free (G);
  nn_explain_report (control, 1, 1);
  if (!ok)
    {
      nn_map_free (m);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }
  return m;
}
