/* SPDX-License-Identifier: MIT */
/* The CAMs' default layer: the last spatial layer of a CNN, and on a vision transformer the
 * token layer entering its last attention. */
#include "explain/nn-explain.h"

#include <stdint.h>
#include <stdlib.h>

#include "explain/nn-rollout.h"

/* A token layer (N, E) whose tokens form a square grid of patches. */
static bool
is_token_grid (const NnShape *s)
{
  int skip = 0;
  return s->rank == 2 && s->dims[1] > 1 && nn_explain_token_grid (s->dims[0], &skip) > 0;
}

/* Whether a CAM can see the output as a map: spatial extent, and a token layer (N, E) only when
 * its tokens form a square grid of patches (not a transformer's class token alone). */
static bool
has_cam_grid (const NnShape *s)
{
  return s->h * s->w > 1 && (s->rank != 2 || is_token_grid (s));
}

/* In a transformer only attention mixes the tokens: after the last attention map the patch
 * tokens no longer reach the class token (their gradients are 0). The token layer that every
 * path from the input to the last attention map goes through, the last such in graph order
 * with the shape of the first token layer the attention gives back (the token stream, not a
 * joint q, k, v projection): ViT's last block's first layer norm, which pytorch-grad-cam's ViT
 * example uses. -1 when the model has no attention or no such layer, or when out of memory.
 * Nodes are in topological order, so node d lies on every path from the input to the last
 * attention map exactly when no edge between the nodes on such paths jumps over it. */
static int
last_token_layer_before_attention (const NnGraph *graph)
{
  const int n_att = nn_rollout_attention_nodes (graph, NULL, 0);
  if (n_att == 0)
    return -1;
  int *att = malloc (sizeof (int) * (size_t) n_att);
  uint8_t *from_input = calloc ((size_t) graph->n_nodes, 1);
  uint8_t *to_att = calloc ((size_t) graph->n_nodes, 1);
  uint8_t *from_att = calloc ((size_t) graph->n_nodes, 1);
  int *jump = malloc (sizeof (int) * (size_t) graph->n_nodes);
  int best = -1;
  if (att != NULL && from_input != NULL && to_att != NULL && from_att != NULL && jump != NULL)
    {
      nn_rollout_attention_nodes (graph, att, n_att);
      const int last = att[n_att - 1];
      /* the shape of the tokens the last attention gives back */
      const NnShape *stream = NULL;
      from_att[last] = 1;
      for (int i = last + 1; i < graph->n_nodes && stream == NULL; i++)
        {
          for (int k = 0; k < graph->nodes[i].n_inputs; k++)
            from_att[i] |= from_att[graph->nodes[i].inputs[k]];
          if (from_att[i] && is_token_grid (&graph->nodes[i].shape))
            stream = &graph->nodes[i].shape;
        }
      from_input[0] = 1;
      for (int i = 1; i <= last; i++)
        for (int k = 0; k < graph->nodes[i].n_inputs; k++)
          from_input[i] |= from_input[graph->nodes[i].inputs[k]];
      to_att[last] = 1;
      for (int i = last; i >= 0; i--)
        if (to_att[i])
          for (int k = 0; k < graph->nodes[i].n_inputs; k++)
            to_att[graph->nodes[i].inputs[k]] = 1;
      for (int i = 0; i <= last; i++)
        jump[i] = i;
      for (int v = 0; v <= last; v++)
        if (from_input[v] && to_att[v])
          for (int k = 0; k < graph->nodes[v].n_inputs; k++)
            {
              const int u = graph->nodes[v].inputs[k];
              jump[u] = v > jump[u] ? v : jump[u];
            }
      int furthest = 0;
      for (int d = 0; d < last; d++)
        {
          const bool on_paths = from_input[d] && to_att[d];
          const NnShape *sd = &graph->nodes[d].shape;
          if (on_paths && furthest <= d && stream != NULL && is_token_grid (sd)
              && sd->dims[0] == stream->dims[0] && sd->dims[1] == stream->dims[1])
            best = d;
          if (on_paths)
            furthest = jump[d] > furthest ? jump[d] : furthest;
        }
    }
  free (att);
  free (from_input);
  free (to_att);
  free (from_att);
  free (jump);
  return best;
}

int
nn_explain_default_layer (const NnGraph *graph)
{
  const int tokens = last_token_layer_before_attention (graph);
  if (tokens >= 0 && nn_explain_feeds_logits (graph, tokens))
    return tokens;
  int logit = nn_explain_logit_node (graph);
  for (int i = logit; i >= 0; i--)
    if (has_cam_grid (&graph->nodes[i].shape) && nn_explain_feeds_logits (graph, i))
      return i;
  return -1;
}
