/* SPDX-License-Identifier: MIT */
/* FullGrad (Srinivas and Fleuret 2019, as pytorch-grad-cam computes it): the input term
 * |dy/dx * x| and, for every convolution with a bias and every batch norm, the bias term
 * |b_k * dy/dz_k| of each channel k of its output z (a batch norm's bias is
 * beta - mean gamma / sqrt (var + eps)). Each channel of each term is shifted and scaled to
 * [0, 1] (min-max), upsampled to the input, and everything is summed and scaled to [0, 1]
 * again. The registry's function nn_fullgrad (nn-method.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain/nn-attribution.h"
#include "explain/nn-method.h"

/* pytorch-grad-cam's scale_cam_image: v = (v - min) / (1e-7 + max (v - min)) over n values. */
static void
scale_min_max (float  *v,
               size_t  n)
{
  float lo = v[0], hi = v[0];
  for (size_t i = 1; i < n; i++)
    {
      lo = v[i] < lo ? v[i] : lo;
      hi = v[i] > hi ? v[i] : hi;
    }
  for (size_t i = 0; i < n; i++)
    v[i] = (v[i] - lo) / (1e-7f + (hi - lo));
}

/* The bias of channel k of a conv or batch-norm node, or false when it has none. */
static bool
node_bias (const NnGraph *graph,
           int            node,
           float         *bias)
{
  const NnNode *n = &graph->nodes[node];
  int b = nn_graph_node_param (graph, node, NN_PARAM_BIAS);
  if (n->op == NN_OP_CONV2D && b >= 0)
    {
      memcpy (bias, nn_graph_param_data (graph, b), sizeof (float) * (size_t) n->shape.c);
      return true;
    }
  if (n->op != NN_OP_BATCHNORM)
    return false;
  int w = nn_graph_node_param (graph, node, NN_PARAM_WEIGHT);
  const float *mean = nn_graph_param_data (graph, nn_graph_node_param (graph, node,
                                                                       NN_PARAM_RUNNING_MEAN));
  const float *var = nn_graph_param_data (graph, nn_graph_node_param (graph, node,
                                                                      NN_PARAM_RUNNING_VAR));
  for (int k = 0; k < n->shape.c; k++)
    {
      float gamma = w >= 0 ? nn_graph_param_data (graph, w)[k] : 1.0f;
      float beta = b >= 0 ? nn_graph_param_data (graph, b)[k] : 0.0f;
      bias[k] = beta - mean[k] * gamma / sqrtf (var[k] + n->attrs.norm.eps);
    }
  return true;
}

/* map (H, W) += the sum over the K channels of v (K, h, w), each scaled to [0, 1] and
 * upsampled; v is overwritten. */
static void
add_scaled_channels (float *map,
                     float *v,
                     float *up,
                     int    K,
                     int    h,
                     int    w,
                     int    H,
                     int    W)
{
  const size_t hw = (size_t) h * (size_t) w, HW = (size_t) H * (size_t) W;
  for (int k = 0; k < K; k++)
    {
      float *vk = v + (size_t) k * hw;
      scale_min_max (vk, hw);
      nn_explain_upsample (up, vk, h, w, H, W);
      for (size_t p = 0; p < HW; p++)
        map[p] += up[p];
    }
}

NnMap *
nn_fullgrad (NnContext              *ctx,
                 const float            *input,
                 const NnMethodSpec     *spec,
                 const NnExplainControl *control,
                 NnError                *err)
{
  NN_ASSERT (ctx && input && spec);
  NnGraph *graph = nn_context_get_graph (ctx);
  const NnShape in = graph->nodes[0].shape;
  int target = spec->target;
  if (!nn_attribution_check_gradients (ctx, "fullgrad", err))
    return NULL;
  if (nn_explain_cancelled (control, err))
    return NULL;
  NnMap *m = nn_attribution_begin (ctx, input, &target, in.h, in.w, 0, err);
  if (m == NULL)
    return NULL;
  size_t most = nn_shape_size (in);
  int most_c = 1;
  for (int i = 1; i < graph->n_nodes; i++)
    {
      size_t n = nn_shape_size (graph->nodes[i].shape);
      most = n > most ? n : most;
      most_c = graph->nodes[i].shape.c > most_c ? graph->nodes[i].shape.c : most_c;
    }
  float *v = malloc (sizeof (float) * most);
  float *up = malloc (sizeof (float) * (size_t) in.h * (size_t) in.w);
  float *bias = malloc (sizeof (float) * (size_t) most_c);
  if (v == NULL || up == NULL || bias == NULL)
    {
      free (v);
      free (up);
      free (bias);
      nn_map_free (m);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }
  nn_attribution_backward (ctx, target, -1);
  const float *gx = nn_context_grad (ctx, 0);
  for (size_t i = 0; i < nn_shape_size (in); i++)
    v[i] = fabsf (gx[i] * input[i]);
  add_scaled_channels (m->layer_map, v, up, in.c, in.h, in.w, in.h, in.w);
  for (int i = 1; i < graph->n_nodes; i++)
    {
      const NnShape s = graph->nodes[i].shape;
      if (s.rank != 3 || !node_bias (graph, i, bias))
        continue;
      const size_t hw = (size_t) s.h * (size_t) s.w;
      const float *g = nn_context_grad (ctx, i);
      for (int k = 0; k < s.c; k++)
        for (size_t p = 0; p < hw; p++)
          v[(size_t) k * hw + p] = fabsf (bias[k] * g[(size_t) k * hw + p]);
      add_scaled_channels (m->layer_map, v, up, s.c, s.h, s.w, in.h, in.w);
    }
  scale_min_max (m->layer_map, (size_t) in.h * (size_t) in.w);
  memcpy (m->map, m->layer_map, sizeof (float) * (size_t) in.h * (size_t) in.w);
  free (v);
  free (up);
  free (bias);
  nn_explain_report (control, 1, 1);
  return m;
}
