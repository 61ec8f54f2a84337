/* SPDX-License-Identifier: MIT */
/* Gradient-weighted attention: one backward pass from the target's logit down to the first
 * attention used, then each block's positive gradient-times-attention, accumulated as
 * R += Abar R. */
#include "explain/nn-attn-grad.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "explain/nn-method.h"
#include "explain/nn-rollout.h"

/* R += Abar R, with Abar the mean over heads of max (grad * att, 0) for one block's attention
 * att and its gradient grad (heads, N, N); `a` and `t` are N x N scratch. */
static void
accumulate_block (float       *R,
                  const float *att,
                  const float *grad,
                  int          heads,
                  int          N,
                  float       *a,
                  float       *t)
{
  const size_t nn = (size_t) N * (size_t) N;
  memset (a, 0, sizeof (float) * nn);
  for (int h = 0; h < heads; h++)
    {
      const float *ah = att + (size_t) h * nn, *gh = grad + (size_t) h * nn;
      for (size_t i = 0; i < nn; i++)
        {
          const float v = ah[i] * gh[i];
          a[i] += v > 0.0f ? v : 0.0f;
        }
    }
  for (size_t i = 0; i < nn; i++)
    a[i] /= (float) heads;
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, a, N, R, N, 0.0f, t,
               N);
  for (size_t i = 0; i < nn; i++)
    R[i] += t[i];
}

NnMap *
nn_attn_grad_compute (NnContext   *ctx,
                      const float *input,
                      int          target,
                      int          block,
                      NnError     *err)
{
  NN_ASSERT (ctx && input);
  NnGraph *graph = nn_context_get_graph (ctx);
  int n_att = 0, N = 0, skip = 0, g = 0;
  int *att = nn_rollout_attention_grid (graph, "attn-grad", &n_att, &N, &skip, &g, err);
  if (att == NULL)
    return NULL;
  if (block < 0 || block > n_att)
    {
      nn_error_set (err, NN_ERROR_SPEC, "attn-grad: no block %d (the model has %d blocks with "
                    "attention maps, 1 to %d)", block, n_att, n_att);
      free (att);
      return NULL;
    }
  if (nn_context_grad (ctx, 0) == NULL)
    {
      nn_error_set (err, NN_ERROR_SPEC, "attn-grad needs a context with gradient buffers");
      free (att);
      return NULL;
    }
  const int first = block > 0 ? block - 1 : 0, last = block > 0 ? block - 1 : n_att - 1;
  for (int l = first; l <= last; l++)
    nn_context_keep (ctx, att[l]);

  float score = 0.0f;
  const NnShape in = graph->nodes[0].shape;
  const size_t nn = (size_t) N * (size_t) N;
  NnMap *m = NULL;
  float *R = malloc (sizeof (float) * nn);
  float *a = malloc (sizeof (float) * nn);
  float *t = malloc (sizeof (float) * nn);
  bool ok = nn_explain_prepare (ctx, input, &target, &score, err);
  if (ok)
    {
      m = nn_map_new (g, g, in.h, in.w, 0);
      if (m == NULL || R == NULL || a == NULL || t == NULL || !nn_map_copy_logits (m, ctx))
        ok = nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
    }
  if (ok)
    {
      m->target = target;
      m->score = score;
      m->layer = att[last];
      const int logit = nn_explain_logit_node (graph);
      const size_t classes = nn_shape_size (graph->nodes[logit].shape);
      float *seed = nn_context_grad (ctx, logit);
      memset (seed, 0, sizeof (float) * classes * (size_t) nn_context_get_batch (ctx));
      seed[target] = 1.0f;
      const NnGradPolicy exact = { NN_GRAD_EXACT, 0.0f };
      nn_context_set_policy_override (ctx, &exact);
      nn_context_backward (ctx, logit, 0, att[first]);
      nn_context_set_policy_override (ctx, NULL);

      memset (R, 0, sizeof (float) * nn);
      for (int i = 0; i < N; i++)
        R[(size_t) i * (size_t) N + (size_t) i] = 1.0f;
      for (int l = first; l <= last; l++)
        {
          const NnShape s = graph->nodes[att[l]].shape;
          accumulate_block (R, nn_context_output (ctx, att[l]), nn_context_grad (ctx, att[l]),
                            s.rank == 3 ? s.dims[0] : 1, N, a, t);
        }
      nn_rollout_read_row (m->layer_map, R, N, skip, g);
      nn_explain_upsample (m->map, m->layer_map, g, g, in.h, in.w);
      m->is_signed = false;
    }
  free (att);
  free (R);
  free (a);
  free (t);
  if (!ok)
    {
      nn_map_free (m);
      return NULL;
    }
  return m;
}

NnMap *
nn_attn_grad (NnContext              *ctx,
              const float            *input,
              const NnMethodSpec     *spec,
              const NnExplainControl *control,
              NnError                *err)
{
  NN_ASSERT (spec != NULL);
  if (nn_explain_cancelled (control, err))
    return NULL;
  NnMap *m = nn_attn_grad_compute (ctx, input, spec->target, spec->block, err);
  if (m != NULL)
    nn_explain_report (control, 1, 1);
  return m;
}
