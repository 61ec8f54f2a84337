/* SPDX-License-Identifier: MIT */
/* Inference folding: a conv whose only reader is an eval-mode batch norm runs with the norm's
 * scale and shift folded into its weights and bias, and writes the norm's output (or, with the
 * ReLU that alone reads the norm, the ReLU's output) directly. */
#include "graph/nn-context-private.h"

#include <string.h>

#include "graph/nn-op.h"

/* The one node that reads node i's output (as any input), or -1 when none or several do. */
static int
only_reader (const NnGraph *graph,
             int            i)
{
  int reader = -1;
  for (int j = i + 1; j < graph->n_nodes; j++)
    for (int k = 0; k < graph->nodes[j].n_inputs; k++)
      if (graph->nodes[j].inputs[k] == i)
        {
          if (reader >= 0)
            return -1;
          reader = j;
        }
  return reader;
}

int
nn_context_fold_tail (const NnContext *ctx,
                      int              i)
{
  const NnGraph *graph = ctx->graph;
  if ((ctx->flags & (NN_CONTEXT_BACKWARD | NN_CONTEXT_NO_FOLD))
      || graph->nodes[i].op != NN_OP_CONV2D)
    return 0;
  const int bn = only_reader (graph, i);
  if (bn < 0 || graph->nodes[bn].op != NN_OP_BATCHNORM)
    return 0;
  const int act = only_reader (graph, bn);
  if (act >= 0 && graph->nodes[act].op == NN_OP_ACTIVATION
      && graph->nodes[act].attrs.act.kind == NN_ACT_RELU)
    return act;
  return bn;
}

/* The batch norm of the group conv i heads. */
static int
group_norm (const NnContext *ctx,
            int              i)
{
  const int tail = ctx->fold_tail[i];
  return ctx->graph->nodes[tail].op == NN_OP_BATCHNORM ? tail
                                                       : ctx->graph->nodes[tail].inputs[0];
}

void
nn_context_fold_begin (NnContext *ctx,
                       int        last)
{
  const NnGraph *graph = ctx->graph;
  const size_t n = (size_t) graph->n_nodes;
  memset (ctx->fold_skip, 0, n);
  memset (ctx->fold_unwritten, 0, n);
  if (!ctx->has_folds || ctx->training || ctx->has_override)
    return;
  for (int i = 0; i < graph->n_nodes; i++)
    {
      const int tail = ctx->fold_tail[i];
      if (tail == 0 || tail > last)
        continue;
      const int bn = group_norm (ctx, i);
      if (ctx->keep[i] || (bn != tail && ctx->keep[bn]))
        continue;
      ctx->fold_unwritten[i] = 1;
      ctx->fold_unwritten[bn] = bn != tail;
      ctx->fold_skip[bn] = 1;
      ctx->fold_skip[tail] = 1;
    }
}

NnConvRun
nn_context_conv_run (const NnContext *ctx,
                     int              i)
{
  const NnGraph *graph = ctx->graph;
  if (ctx->fold_unwritten[i])
    {
      const NnNode *tail = &graph->nodes[ctx->fold_tail[i]];
      return (NnConvRun) {
        .weight = ctx->fold_weight[i], .bias = ctx->fold_bias[i], .packed = ctx->wino_fwd[i],
        .out = ctx->out[ctx->fold_tail[i]],
        .act = tail->op == NN_OP_ACTIVATION ? &tail->attrs.act : NULL,
      };
    }
  /* A conv planned for folding whose group does not fold in this pass: its packing holds the
   * folded weights, so it runs through im2col. */
  return (NnConvRun) {
    .weight = nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT),
    .bias = nn_context_param_ptr (graph, i, NN_PARAM_BIAS),
    .packed = ctx->fold_tail[i] ? NULL : ctx->wino_fwd[i], .out = ctx->out[i], .act = NULL,
    .no_winograd = ctx->fold_tail[i] != 0,
  };
}
