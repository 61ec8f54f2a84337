/* SPDX-License-Identifier: MIT */
/* Class activation maps: the formulas (one function per gradient method, Eigen-CAM's
 * projection), the passes each method needs, the final ReLU and upsampling, and the registry's
 * functions of the CAM family (nn-method.h). */
#include "explain/nn-cam.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain/nn-method.h"

static const char *const method_names[NN_CAM_COUNT_] = {
  [NN_CAM_GRADCAM] = "gradcam",
  [NN_CAM_GRADCAM_PP] = "gradcam++",
  [NN_CAM_XGRADCAM] = "xgradcam",
  [NN_CAM_HIRESCAM] = "hirescam",
  [NN_CAM_LAYERCAM] = "layercam",
  [NN_CAM_SCORECAM] = "scorecam",
  [NN_CAM_EIGENCAM] = "eigencam",
};
_Static_assert (NN_CAM_EIGENCAM == NN_CAM_COUNT_ - 1, "method_names needs every NnCamMethod");

void
nn_cam_spec_init (NnCamSpec *spec)
{
  spec->method = NN_CAM_GRADCAM;
  spec->layer = -1;
  spec->target = -1;
  spec->keep_negative = false;
}

const char *
nn_cam_method_name (NnCamMethod method)
{
  NN_ASSERT (method >= 0 && method < NN_CAM_COUNT_);
  return method_names[method];
}

bool
nn_cam_method_from_name (const char  *name,
                         NnCamMethod *method)
{
  for (int i = 0; i < NN_CAM_COUNT_; i++)
    if (strcmp (name, method_names[i]) == 0)
      {
        *method = (NnCamMethod) i;
        return true;
      }
  return false;
}

bool
nn_cam_layer_resolve (const NnGraph *graph,
                      int            layer,
                      NnCamLayer    *view,
                      NnError       *err)
{
  if (layer < 0)
    {
      layer = nn_explain_default_layer (graph);
      if (layer < 0)
        return nn_error_set (err, NN_ERROR_SPEC, "the model has no layer with spatial extent");
    }
  if (!nn_explain_check_layer (graph, layer, err))
    return false;
  const NnNode *node = &graph->nodes[layer];
  const NnShape s = node->shape;
  *view = (NnCamLayer) { .layer = layer, .K = s.c, .lh = s.h, .lw = s.w };
  if (s.rank != 2)
    return true;
  /* (N tokens, E features): the patch tokens' grid, with or without a class token. */
  const int n = s.dims[0], e = s.dims[1];
  int skip = 0;
  const int g = nn_explain_token_grid (n, &skip);
  if (g == 0)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "layer '%s' holds %d tokens of %d features, which form no square grid "
                         "of patches (with or without a class token); choose a layer of "
                         "1 + g x g or g x g tokens", node->name, n, e);
  *view = (NnCamLayer) { .layer = layer, .K = e, .lh = g, .lw = g, .skip = skip,
                         .tokens = true };
  return true;
}

/* Copies one sample's values at the layer into the view (K, lh * lw). */
static void
view_copy (const NnCamLayer *view,
           const float      *values,
           float            *out)
{
  const size_t LHW = (size_t) view->lh * (size_t) view->lw;
  if (!view->tokens)
    {
      memcpy (out, values, sizeof (float) * (size_t) view->K * LHW);
      return;
    }
  /* token p (after the skipped ones) holds the K features of grid position p */
  for (size_t p = 0; p < LHW; p++)
    {
      const float *token = values + ((size_t) view->skip + p) * (size_t) view->K;
      for (int k = 0; k < view->K; k++)
        out[(size_t) k * LHW + p] = token[k];
    }
}

void
nn_cam_layer_read (NnContext        *ctx,
                   const NnCamLayer *view,
                   float            *A,
                   float            *G)
{
  view_copy (view, nn_context_output (ctx, view->layer), A);
  if (G != NULL)
    view_copy (view, nn_context_grad (ctx, view->layer), G);
}

void
nn_cam_layer_set_channel (const NnCamLayer *view,
                          float            *sample,
                          int               k,
                          float             value)
{
  const size_t LHW = (size_t) view->lh * (size_t) view->lw;
  for (size_t p = 0; p < LHW; p++)
    if (view->tokens)
      sample[((size_t) view->skip + p) * (size_t) view->K + (size_t) k] = value;
    else
      sample[(size_t) k * LHW + p] = value;
}

/* The gradient methods' formulas, one function each: add the map (HW) of A (K, HW) and
 * G (K, HW) into a zeroed map. */
typedef void (*CamCombine) (float       *map,
                            const float *A,
                            const float *G,
                            int          K,
                            int          HW);

/* map += w_k A_k for every channel. */
static void
add_weighted (float       *map,
              const float *a,
              float        wk,
              int          HW)
{
  for (int p = 0; p < HW; p++)
    map[p] += wk * a[p];
}

static void
combine_gradcam (float       *map,
                 const float *A,
                 const float *G,
                 int          K,
                 int          HW)
{
  for (int k = 0; k < K; k++)
    {
      const float *g = G + (size_t) k * (size_t) HW;
      double s = 0.0;
      for (int p = 0; p < HW; p++)
        s += (double) g[p];
      add_weighted (map, A + (size_t) k * (size_t) HW, (float) (s / HW), HW);
    }
}

/* The closed form of the second-order weights under an exponential output. */
static void
combine_gradcam_pp (float       *map,
                    const float *A,
                    const float *G,
                    int          K,
                    int          HW)
{
  for (int k = 0; k < K; k++)
    {
      const float *a = A + (size_t) k * (size_t) HW;
      const float *g = G + (size_t) k * (size_t) HW;
      double sum_a = 0.0, s = 0.0;
      for (int p = 0; p < HW; p++)
        sum_a += (double) a[p];
      for (int p = 0; p < HW; p++)
        {
          if (g[p] == 0.0f)
            continue;
          double g2 = (double) g[p] * (double) g[p], g3 = g2 * (double) g[p];
          double denom = 2.0 * g2 + sum_a * g3;
          double alpha = denom != 0.0 ? g2 / denom : 0.0;
          s += alpha * (double) (g[p] > 0.0f ? g[p] : 0.0f);
        }
      add_weighted (map, a, (float) s, HW);
    }
}

static void
combine_xgradcam (float       *map,
                  const float *A,
                  const float *G,
                  int          K,
                  int          HW)
{
  for (int k = 0; k < K; k++)
    {
      const float *a = A + (size_t) k * (size_t) HW;
      const float *g = G + (size_t) k * (size_t) HW;
      double sum_a = 0.0, s = 0.0;
      for (int p = 0; p < HW; p++)
        {
          sum_a += (double) a[p];
          s += (double) a[p] * (double) g[p];
        }
      add_weighted (map, a, sum_a != 0.0 ? (float) (s / sum_a) : 0.0f, HW);
    }
}

static void
combine_hirescam (float       *map,
                  const float *A,
                  const float *G,
                  int          K,
                  int          HW)
{
  for (int k = 0; k < K; k++)
    {
      const float *a = A + (size_t) k * (size_t) HW;
      const float *g = G + (size_t) k * (size_t) HW;
      for (int p = 0; p < HW; p++)
        map[p] += g[p] * a[p];
    }
}

static void
combine_layercam (float       *map,
                  const float *A,
                  const float *G,
                  int          K,
                  int          HW)
{
  for (int k = 0; k < K; k++)
    {
      const float *a = A + (size_t) k * (size_t) HW;
      const float *g = G + (size_t) k * (size_t) HW;
      for (int p = 0; p < HW; p++)
        map[p] += (g[p] > 0.0f ? g[p] : 0.0f) * a[p];
    }
}

/* Per NnCamMethod: the formula of a gradient method; NULL for Score-CAM and Eigen-CAM. */
static const CamCombine combiners[NN_CAM_COUNT_] = {
  [NN_CAM_GRADCAM] = combine_gradcam,
  [NN_CAM_GRADCAM_PP] = combine_gradcam_pp,
  [NN_CAM_XGRADCAM] = combine_xgradcam,
  [NN_CAM_HIRESCAM] = combine_hirescam,
  [NN_CAM_LAYERCAM] = combine_layercam,
};

bool
nn_cam_eigen_projection (float       *map,
                         const float *A,
                         int          K,
                         int          HW)
{
  NN_ASSERT (map && A && K > 0 && HW > 0);
  /* R (K, HW): each channel minus its mean over positions; C (K, K) = R R^T. */
  float *R = malloc (sizeof (float) * (size_t) K * (size_t) HW);
  float *C = malloc (sizeof (float) * (size_t) K * (size_t) K);
  float *v = malloc (sizeof (float) * (size_t) K);
  float *u = malloc (sizeof (float) * (size_t) K);
  if (R == NULL || C == NULL || v == NULL || u == NULL)
    {
      free (R);
      free (C);
      free (v);
      free (u);
      return false;
    }
  for (int k = 0; k < K; k++)
    {
      const float *a = A + (size_t) k * (size_t) HW;
      double mean = 0.0;
      for (int p = 0; p < HW; p++)
        mean += (double) a[p];
      mean /= HW;
      for (int p = 0; p < HW; p++)
        R[(size_t) k * (size_t) HW + (size_t) p] = a[p] - (float) mean;
    }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, K, K, HW, 1.0f, R, HW, R, HW, 0.0f, C,
               K);
  /* Power iteration from a fixed start that is not orthogonal to any eigenvector in
   * practice. */
  for (int k = 0; k < K; k++)
    v[k] = 1.0f + 0.01f * (float) k / (float) K;
  for (int it = 0; it < 1000; it++)
    {
      cblas_sgemv (CblasRowMajor, CblasNoTrans, K, K, 1.0f, C, K, v, 1, 0.0f, u, 1);
      double norm = 0.0;
      for (int k = 0; k < K; k++)
        norm += (double) u[k] * (double) u[k];
      norm = sqrt (norm);
      if (norm == 0.0)
        break;
      double change = 0.0;
      for (int k = 0; k < K; k++)
        {
          float nk = (float) ((double) u[k] / norm);
          change += fabs ((double) (nk - v[k]));
          v[k] = nk;
        }
      if (change < 1e-7 * K)
        break;
    }
  /* map = R^T v; the sign follows the (centred) mean over channels. */
  cblas_sgemv (CblasRowMajor, CblasTrans, K, HW, 1.0f, R, HW, v, 1, 0.0f, map, 1);
  double agree = 0.0;
  for (int p = 0; p < HW; p++)
    {
      double m = 0.0;
      for (int k = 0; k < K; k++)
        m += (double) R[(size_t) k * (size_t) HW + (size_t) p];
      agree += m * (double) map[p];
    }
  if (agree < 0.0)
    for (int p = 0; p < HW; p++)
      map[p] = -map[p];
  free (R);
  free (C);
  free (v);
  free (u);
  return true;
}

/* Score-CAM: each channel, upsampled to the input and scaled to [0, 1], masks the input; its
 * weight is the target's softmax probability for the masked input. A (K, lh * lw) is a copy of
 * the layer's activations. The masked inputs go through the context `batch` at a time, except
 * those of constant channels (often all zero after a ReLU): their mask is 0, so each would mask
 * the input to the zero image. An all-zero channel adds w_k * 0 to the map whatever its weight,
 * so it needs no pass; the other constant channels share one pass of the zero image (the
 * probability each of their own passes would give). Progress counts channels. */
static bool
score_cam (NnContext              *ctx,
           NnMap                  *m,
           const float            *input,
           const float            *A,
           int                     K,
           const NnExplainControl *control,
           NnError                *err)
{
  NnGraph *graph = nn_context_get_graph (ctx);
  const NnShape in = graph->nodes[0].shape;
  const size_t hw = (size_t) in.h * (size_t) in.w, in_size = (size_t) in.c * hw;
  const int LHW = m->lh * m->lw, batch = nn_context_get_batch (ctx);
  const int logit = nn_explain_logit_node (graph);
  const int classes = (int) nn_shape_size (graph->nodes[logit].shape);
  float *mask = malloc (sizeof (float) * hw);
  float *weights = calloc ((size_t) K, sizeof (float));
  int *slot = malloc (sizeof (int) * (size_t) batch);  /* the channel in each input, -1: zeros */
  bool *shares_zero = calloc ((size_t) K, sizeof (bool));
  if (mask == NULL || weights == NULL || slot == NULL || shares_zero == NULL)
    {
      free (mask);
      free (weights);
      free (slot);
      free (shares_zero);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
    }
  bool ok = true, need_zero = false;
  int k = 0;
  float zero_weight = 0.0f;
  while (ok && (k < K || need_zero))
    {
      if (nn_explain_cancelled (control, err))
        {
          ok = false;
          break;
        }
      /* Fill the batch with the next channels that need a pass of their own; the zero image
       * takes the last slot once every channel is placed. */
      float *x = nn_context_input (ctx);
      int nb = 0;
      for (; k < K && nb < batch; k++)
        {
          const float *a = A + (size_t) k * (size_t) LHW;
          nn_explain_upsample (mask, a, m->lh, m->lw, in.h, in.w);
          float lo = mask[0], hi = mask[0];
          for (size_t p = 1; p < hw; p++)
            {
              lo = mask[p] < lo ? mask[p] : lo;
              hi = mask[p] > hi ? mask[p] : hi;
            }
          if (!(hi > lo))
            {
              bool zero = true;
              for (int p = 0; p < LHW && zero; p++)
                zero = a[p] == 0.0f;
              shares_zero[k] = !zero;
              need_zero |= !zero;
              continue;
            }
          float scale = 1.0f / (hi - lo);
          float *xb = x + (size_t) nb * in_size;
          for (int c = 0; c < in.c; c++)
            for (size_t p = 0; p < hw; p++)
              xb[(size_t) c * hw + p] = input[(size_t) c * hw + p] * (mask[p] - lo) * scale;
          slot[nb++] = k;
        }
      if (k == K && need_zero && nb < batch)
        {
          memset (x + (size_t) nb * in_size, 0, sizeof (float) * in_size);
          slot[nb++] = -1;
          need_zero = false;
        }
      if (nb > 0)
        {
          nn_context_forward (ctx, logit);
          const float *logits = nn_context_output (ctx, logit);
          for (int b = 0; b < nb; b++)
            {
              float w = nn_explain_softmax_at (logits + (size_t) b * (size_t) classes, classes,
                                               m->target);
              if (slot[b] >= 0)
                weights[slot[b]] = w;
              else
                zero_weight = w;
            }
        }
      /* Every channel placed so far is done, but the last waits for a pending zero pass. */
      nn_explain_report (control, need_zero ? k - 1 : k, K);
    }
  if (ok)
    for (int c = 0; c < K; c++)
      {
        float w = shares_zero[c] ? zero_weight : weights[c];
        for (int p = 0; p < LHW; p++)
          m->layer_map[p] += w * A[(size_t) c * (size_t) LHW + (size_t) p];
      }
  free (mask);
  free (weights);
  free (slot);
  free (shares_zero);
  return ok;
}

/* The map of one CAM method at `layer` (-1: the last spatial one): the gradients of the target
 * at the layer through `combine`, or Score-CAM's masked passes (score), or Eigen-CAM's
 * projection (neither). `name` is for errors. */
static NnMap *
cam_map (NnContext              *ctx,
         const float            *input,
         int                     layer,
         int                     target,
         bool                    keep_negative,
         const char             *name,
         CamCombine              combine,
         bool                    score,
         const NnExplainControl *control,
         NnError                *err)
{
  NnGraph *graph = nn_context_get_graph (ctx);
  NnCamLayer view;
  if (!nn_cam_layer_resolve (graph, layer, &view, err))
    return NULL;
  layer = view.layer;
  if (combine != NULL && nn_context_grad (ctx, 0) == NULL)
    return nn_error_set (err, NN_ERROR_SPEC, "%s needs a context with gradient buffers", name),
           NULL;
  if (nn_explain_cancelled (control, err))
    return NULL;

  /* the layer's activations are read after a pass to the logits */
  nn_context_keep (ctx, layer);
  float score_logit = 0.0f;
  if (!nn_explain_prepare (ctx, input, &target, &score_logit, err))
    return NULL;
  const NnShape in = graph->nodes[0].shape;
  const int K = view.K, LHW = view.lh * view.lw;
  NnMap *m = nn_map_new (view.lh, view.lw, in.h, in.w, 0);
  float *A = malloc (sizeof (float) * (size_t) K * (size_t) LHW);
  float *G = combine != NULL ? malloc (sizeof (float) * (size_t) K * (size_t) LHW) : NULL;
  if (m == NULL || A == NULL || (combine != NULL && G == NULL) || !nn_map_copy_logits (m, ctx))
    {
      nn_map_free (m);
      free (A);
      free (G);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }
  m->target = target;
  m->score = score_logit;
  m->layer = layer;
  nn_cam_layer_read (ctx, &view, A, NULL);

  bool ok = true;
  if (combine != NULL)
    {
      const int logit = nn_explain_logit_node (graph);
      const size_t classes = nn_shape_size (graph->nodes[logit].shape);
      float *seed = nn_context_grad (ctx, logit);
      memset (seed, 0, sizeof (float) * classes * (size_t) nn_context_get_batch (ctx));
      seed[target] = 1.0f;
      const NnGradPolicy exact = { NN_GRAD_EXACT, 0.0f };
      nn_context_set_policy_override (ctx, &exact);
      nn_context_backward (ctx, logit, 0, layer);
      nn_context_set_policy_override (ctx, NULL);
      nn_cam_layer_read (ctx, &view, A, G);
      combine (m->layer_map, A, G, K, LHW);
      nn_explain_report (control, 1, 1);
    }
  else if (score)
    ok = score_cam (ctx, m, input, A, K, control, err);
  else
    {
      ok = nn_cam_eigen_projection (m->layer_map, A, K, LHW);
      if (!ok)
        nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
      nn_explain_report (control, 1, 1);
    }
  free (A);
  free (G);
  if (!ok)
    {
      nn_map_free (m);
      return NULL;
    }

  m->is_signed = keep_negative;
  float *shown = malloc (sizeof (float) * (size_t) LHW);
  if (shown == NULL)
    {
      nn_map_free (m);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }
  for (int p = 0; p < LHW; p++)
    shown[p] = keep_negative || m->layer_map[p] > 0.0f ? m->layer_map[p] : 0.0f;
  nn_explain_upsample (m->map, shown, view.lh, view.lw, in.h, in.w);
  free (shown);
  return m;
}

NnMap *
nn_cam_compute (NnContext              *ctx,
                const float            *input,
                const NnCamSpec        *spec,
                const NnExplainControl *control,
                NnError                *err)
{
  NN_ASSERT (ctx && input && spec);
  NN_ASSERT (spec->method >= 0 && spec->method < NN_CAM_COUNT_);
  return cam_map (ctx, input, spec->layer, spec->target, spec->keep_negative,
                  nn_cam_method_name (spec->method), combiners[spec->method],
                  spec->method == NN_CAM_SCORECAM, control, err);
}

/* The registry's functions (nn-method.h). */

static NnMap *
cam_method (NnContext              *ctx,
            const float            *input,
            const NnMethodSpec     *spec,
            NnCamMethod             method,
            const NnExplainControl *control,
            NnError                *err)
{
  NN_ASSERT (ctx && input && spec);
  return cam_map (ctx, input, spec->layer, spec->target, spec->keep_negative,
                  nn_cam_method_name (method), combiners[method], method == NN_CAM_SCORECAM,
                  control, err);
}

NnMap *
nn_cam_gradcam (NnContext              *ctx,
                const float            *input,
                const NnMethodSpec     *spec,
                const NnExplainControl *control,
                NnError                *err)
{
  return cam_method (ctx, input, spec, NN_CAM_GRADCAM, control, err);
}

NnMap *
nn_cam_gradcam_pp (NnContext              *ctx,
                   const float            *input,
                   const NnMethodSpec     *spec,
                   const NnExplainControl *control,
                   NnError                *err)
{
  return cam_method (ctx, input, spec, NN_CAM_GRADCAM_PP, control, err);
}

NnMap *
nn_cam_xgradcam (NnContext              *ctx,
                 const float            *input,
                 const NnMethodSpec     *spec,
                 const NnExplainControl *control,
                 NnError                *err)
{
  return cam_method (ctx, input, spec, NN_CAM_XGRADCAM, control, err);
}

NnMap *
nn_cam_hirescam (NnContext              *ctx,
                 const float            *input,
                 const NnMethodSpec     *spec,
                 const NnExplainControl *control,
                 NnError                *err)
{
  return cam_method (ctx, input, spec, NN_CAM_HIRESCAM, control, err);
}

NnMap *
nn_cam_layercam (NnContext              *ctx,
                 const float            *input,
                 const NnMethodSpec     *spec,
                 const NnExplainControl *control,
                 NnError                *err)
{
  return cam_method (ctx, input, spec, NN_CAM_LAYERCAM, control, err);
}

NnMap *
nn_cam_scorecam (NnContext              *ctx,
                 const float            *input,
                 const NnMethodSpec     *spec,
                 const NnExplainControl *control,
                 NnError                *err)
{
  return cam_method (ctx, input, spec, NN_CAM_SCORECAM, control, err);
}

NnMap *
nn_cam_eigencam (NnContext              *ctx,
                 const float            *input,
                 const NnMethodSpec     *spec,
                 const NnExplainControl *control,
                 NnError                *err)
{
  return cam_method (ctx, input, spec, NN_CAM_EIGENCAM, control, err);
}
