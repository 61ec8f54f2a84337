/* SPDX-License-Identifier: MIT */
/* Attention rollout: finding the attention maps (softmax over the keys of a (heads, N, N) or
 * (N, N) node) and multiplying them through the blocks. */
#include "explain/nn-rollout.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "explain/nn-method.h"

/* A softmax over the last axis of a square (heads, N, N) or (N, N) output. */
static bool
is_attention (const NnNode *node)
{
  const NnShape s = node->shape;
  if (node->op != NN_OP_SOFTMAX_AXIS || (s.rank != 2 && s.rank != 3))
    return false;
  return node->attrs.axis.axis == s.rank - 1 && s.dims[s.rank - 1] == s.dims[s.rank - 2];
}

int
nn_rollout_attention_nodes (const NnGraph *graph,
                            int           *nodes,
                            int            cap)
{
  int n = 0;
  for (int i = 0; i < graph->n_nodes; i++)
    if (is_attention (&graph->nodes[i]))
      {
        if (n < cap)
          nodes[n] = i;
        n++;
      }
  return n;
}

/* R = A R, with A one block's attention (heads, N, N) averaged over heads, plus the identity,
 * rows renormalised; `a` and `t` are N x N scratch. */
static void
roll_block (float       *R,
            const float *att,
            int          heads,
            int          N,
            float       *a,
            float       *t)
{
  const size_t nn = (size_t) N * (size_t) N;
  memset (a, 0, sizeof (float) * nn);
  for (int h = 0; h < heads; h++)
    for (size_t i = 0; i < nn; i++)
      a[i] += att[(size_t) h * nn + i];
  for (int r = 0; r < N; r++)
    {
      float *row = a + (size_t) r * (size_t) N;
      double sum = 0.0;
      for (int c = 0; c < N; c++)
        {
          row[c] = row[c] / (float) heads + (r == c ? 1.0f : 0.0f);
          sum += (double) row[c];
        }
      for (int c = 0; c < N; c++)
        row[c] = sum > 0.0 ? (float) ((double) row[c] / sum) : 0.0f;
    }
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, a, N, R, N, 0.0f, t,
               N);
  memcpy (R, t, sizeof (float) * nn);
}

int *
nn_rollout_attention_grid (const NnGraph *graph,
                           const char    *name,
                           int           *n_att,
                           int           *tokens,
                           int           *skip,
                           int           *grid,
                           NnError       *err)
{
  const int n = nn_rollout_attention_nodes (graph, NULL, 0);
  if (n == 0)
    return nn_error_set (err, NN_ERROR_SPEC, "no attention maps: %s applies to vision "
                         "transformers (the model has no softmax over the keys of a tokens x "
                         "tokens map)", name), NULL;
  int *att = malloc (sizeof (int) * (size_t) n);
  if (att == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  nn_rollout_attention_nodes (graph, att, n);
  const NnShape s0 = graph->nodes[att[0]].shape;
  const int N = s0.dims[s0.rank - 1];
  for (int l = 0; l < n; l++)
    {
      const NnShape s = graph->nodes[att[l]].shape;
      if (s.dims[s.rank - 1] != N)
        {
          nn_error_set (err, NN_ERROR_SPEC, "%s: attention '%s' is over %d tokens, '%s' over "
                        "%d", name, graph->nodes[att[0]].name, N, graph->nodes[att[l]].name,
                        s.dims[s.rank - 1]);
          free (att);
          return NULL;
        }
    }
  *grid = nn_explain_token_grid (N, skip);
  if (*grid == 0)
    {
      nn_error_set (err, NN_ERROR_SPEC, "%s: %d tokens form no square grid of patches (with "
                    "or without a class token)", name, N);
      free (att);
      return NULL;
    }
  *n_att = n;
  *tokens = N;
  return att;
}

void
nn_rollout_read_row (float       *layer_map,
                     const float *R,
                     int          N,
                     int          skip,
                     int          g)
{
  const int rows = skip ? 1 : N;
  for (int p = 0; p < g * g; p++)
    {
      double v = 0.0;
      for (int r = 0; r < rows; r++)
        v += (double) R[(size_t) r * (size_t) N + (size_t) (skip + p)];
      layer_map[p] = (float) (v / rows);
    }
}

NnMap *
nn_rollout_compute (NnContext   *ctx,
                    const float *input,
                    NnError     *err)
{
  NN_ASSERT (ctx && input);
  NnGraph *graph = nn_context_get_graph (ctx);
  int n_att = 0, N = 0, skip = 0;
  int g = 0;
  int *att = nn_rollout_attention_grid (graph, "rollout", &n_att, &N, &skip, &g, err);
  if (att == NULL)
    return NULL;

  for (int l = 0; l < n_att; l++)
    nn_context_keep (ctx, att[l]);
  int target = -1;
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
      m->layer = att[n_att - 1];
      memset (R, 0, sizeof (float) * nn);
      for (int i = 0; i < N; i++)
        R[(size_t) i * (size_t) N + (size_t) i] = 1.0f;
      for (int l = 0; l < n_att; l++)
        {
          const NnShape s = graph->nodes[att[l]].shape;
          roll_block (R, nn_context_output (ctx, att[l]), s.rank == 3 ? s.dims[0] : 1, N, a, t);
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
nn_rollout (NnContext              *ctx,
            const float            *input,
            const NnMethodSpec     *spec,
            const NnExplainControl *control,
            NnError                *err)
{
  NN_ASSERT (spec != NULL);
  if (nn_explain_cancelled (control, err))
    return NULL;
  return nn_rollout_compute (ctx, input, err);
}
