/* SPDX-License-Identifier: MIT */
/* What a context knows about one node: its parameters and where their gradients go, its conv
 * geometry, the forward attributes of an activation under an override, how it splits over the
 * workers (from the op table), and the zeroing of its inputs' gradients. */
#include "graph/nn-context-private.h"

#include <string.h>

#include "graph/nn-op.h"
#include "ops/nn-winograd.h"

size_t
nn_context_node_param_count (const NnGraph *graph,
                             int            i)
{
  size_t count = 0;
  const NnNode *node = &graph->nodes[i];
  for (int k = 0; k < node->n_params; k++)
    count += graph->params[node->params[k]].count;
  return count;
}

bool
nn_context_node_has_trainable (const NnGraph *graph,
                               int            node)
{
  const NnNode *n = &graph->nodes[node];
  for (int k = 0; k < n->n_params; k++)
    if (graph->params[n->params[k]].trainable)
      return true;
  return false;
}

NnConvGeom
nn_context_conv_geom (const NnContext *ctx,
                      const NnNode    *node,
                      int              batch)
{
  const NnShape in = ctx->graph->nodes[node->inputs[0]].shape;
  const NnConvAttrs *a = &node->attrs.conv;
  return (NnConvGeom) {
    .B = batch, .C = in.c, .H = in.h, .W = in.w,
    .OC = a->out_channels, .KH = a->kh, .KW = a->kw, .SH = a->sh, .SW = a->sw,
    .PT = a->pad_t, .PL = a->pad_l, .PB = a->pad_b, .PR = a->pad_r,
    .DH = a->dh, .DW = a->dw, .G = a->groups, .OH = node->shape.h, .OW = node->shape.w,
    .no_winograd = (ctx->flags & NN_CONTEXT_NO_WINOGRAD) != 0,
  };
}

bool
nn_context_winograd_backward (const NnContext  *ctx,
                              const NnConvGeom *g)
{
  if (!(ctx->flags & NN_CONTEXT_BACKWARD))
    return false;
  return ctx->flags & NN_CONTEXT_PARAM_GRADS ? nn_winograd_pays_beside_weights (g)
                                             : nn_winograd_pays_backward (g);
}

NnBroadcastGeom
nn_context_broadcast_geom (const NnGraph *graph,
                           const NnNode  *node)
{
  const NnShape a = graph->nodes[node->inputs[0]].shape, b = graph->nodes[node->inputs[1]].shape;
  NnBroadcastGeom g;
  const bool ok = nn_broadcast_geom (&g, a.rank, a.dims, b.rank, b.dims);
  NN_ASSERT (ok);
  return g;
}

NnMatmulGeom
nn_context_matmul_geom (const NnGraph *graph,
                        const NnNode  *node)
{
  const NnShape a = graph->nodes[node->inputs[0]].shape, b = graph->nodes[node->inputs[1]].shape;
  NnMatmulGeom g = {
    .stack = 1, .M = a.dims[a.rank - 2], .K = a.dims[a.rank - 1], .N = b.dims[b.rank - 1],
    .bsz = nn_shape_size (b),
  };
  for (int d = 0; d < a.rank - 2; d++)
    g.stack *= (size_t) a.dims[d];
  return g;
}

NnBinaryKind
nn_context_binary_kind (NnOp op)
{
  switch (op)
    {
    case NN_OP_BROADCAST_ADD:
      return NN_BINARY_ADD;
    case NN_OP_BROADCAST_SUB:
      return NN_BINARY_SUB;
    case NN_OP_BROADCAST_MUL:
      return NN_BINARY_MUL;
    case NN_OP_BROADCAST_DIV:
      return NN_BINARY_DIV;
    case NN_OP_INPUT:
    case NN_OP_CONV2D:
    case NN_OP_LINEAR:
    case NN_OP_BATCHNORM:
    case NN_OP_INSTANCENORM:
    case NN_OP_ACTIVATION:
    case NN_OP_MAXPOOL:
    case NN_OP_AVGPOOL:
    case NN_OP_GLOBAL_AVGPOOL:
    case NN_OP_ADD:
    case NN_OP_MUL:
    case NN_OP_CONCAT:
    case NN_OP_FLATTEN:
    case NN_OP_SOFTMAX:
    case NN_OP_DROPOUT:
    case NN_OP_SCALE:
    case NN_OP_PRELU:
    case NN_OP_PAD:
    case NN_OP_RESHAPE:
    case NN_OP_REDUCE_SUM:
    case NN_OP_REDUCE_MEAN:
    case NN_OP_REDUCE_MAX:
    case NN_OP_TRANSPOSE:
    case NN_OP_SLICE:
    case NN_OP_DENSE:
    case NN_OP_MATMUL:
    case NN_OP_SOFTMAX_AXIS:
    case NN_OP_COUNT_:
      break;
    }
  NN_ASSERT (!"not a broadcast op");
  return NN_BINARY_ADD;
}

NnReduceGeom
nn_context_reduce_geom (const NnGraph *graph,
                        const NnNode  *node)
{
  const NnShape in = graph->nodes[node->inputs[0]].shape;
  NnReduceGeom g;
  const bool ok = nn_reduce_geom (&g, in.rank, in.dims, node->attrs.reduce.axes);
  NN_ASSERT (ok);
  return g;
}

NnReduceKind
nn_context_reduce_kind (NnOp op)
{
  switch (op)
    {
    case NN_OP_REDUCE_SUM:
      return NN_REDUCE_SUM;
    case NN_OP_REDUCE_MEAN:
      return NN_REDUCE_MEAN;
    case NN_OP_REDUCE_MAX:
      return NN_REDUCE_MAX;
    case NN_OP_INPUT:
    case NN_OP_CONV2D:
    case NN_OP_LINEAR:
    case NN_OP_BATCHNORM:
    case NN_OP_INSTANCENORM:
    case NN_OP_ACTIVATION:
    case NN_OP_MAXPOOL:
    case NN_OP_AVGPOOL:
    case NN_OP_GLOBAL_AVGPOOL:
    case NN_OP_ADD:
    case NN_OP_MUL:
    case NN_OP_CONCAT:
    case NN_OP_FLATTEN:
    case NN_OP_SOFTMAX:
    case NN_OP_DROPOUT:
    case NN_OP_SCALE:
    case NN_OP_PRELU:
    case NN_OP_PAD:
    case NN_OP_RESHAPE:
    case NN_OP_BROADCAST_ADD:
    case NN_OP_BROADCAST_SUB:
    case NN_OP_BROADCAST_MUL:
    case NN_OP_BROADCAST_DIV:
    case NN_OP_TRANSPOSE:
    case NN_OP_SLICE:
    case NN_OP_DENSE:
    case NN_OP_MATMUL:
    case NN_OP_SOFTMAX_AXIS:
    case NN_OP_COUNT_:
      break;
    }
  NN_ASSERT (!"not a reduce op");
  return NN_REDUCE_SUM;
}

const float *
nn_context_param_ptr (const NnGraph *graph,
                      int            node,
                      NnParamRole    role)
{
  int p = nn_graph_node_param (graph, node, role);
  return p >= 0 ? graph->data + graph->params[p].offset : NULL;
}

float *
nn_context_param_grad_ptr (NnContext  *ctx,
                           int         node,
                           NnParamRole role,
                           bool        want_params,
                           int         w)
{
  if (!want_params || ctx->param_grads == NULL)
    return NULL;
  int p = nn_graph_node_param (ctx->graph, node, role);
  if (p < 0 || !ctx->graph->params[p].trainable)
    return NULL;
  const NnParam *param = &ctx->graph->params[p];
  if (w == 0)
    return ctx->param_grads + param->offset;
  const NnParam *first = &ctx->graph->params[ctx->graph->nodes[node].params[0]];
  return ctx->private_grads + (size_t) (w - 1) * ctx->private_size + ctx->private_at[node]
         + (param->offset - first->offset);
}

float *
nn_context_scratch (NnContext *ctx,
                    int        w)
{
  if (w == 0)
    return ctx->scratch;
  return ctx->worker_scratch + (size_t) (w - 1) * ctx->scratch_size;
}

const NnActAttrs *
nn_context_act_attrs (const NnContext *ctx,
                      const NnNode    *node,
                      NnActAttrs      *proxy)
{
  const NnActAttrs *a = &node->attrs.act;
  if (!ctx->has_override || ctx->policy_override.kind != NN_GRAD_PROXY_FULL
      || a->kind != NN_ACT_RELU)
    return a;
  *proxy = *a;
  proxy->slope = ctx->policy_override.beta;
  return proxy;
}

void
nn_context_batch_share (int  batch,
                        int  index,
                        int  n,
                        int *b0,
                        int *nb)
{
  int base = batch / n, extra = batch % n;
  *b0 = index * base + (index < extra ? index : extra);
  *nb = base + (index < extra ? 1 : 0);
}

bool
nn_context_batch_stats (const NnContext *ctx,
                        const NnNode    *node)
{
  return ctx->training && nn_graph_node_trainable (ctx->graph, (int) (node - ctx->graph->nodes));
}

/* Whether the node, in the context's mode, ties the samples of the batch together
 * (NnOpCoupling). */
static bool
couples_batch (const NnContext *ctx,
               const NnNode    *node)
{
  if (!ctx->training)
    return false;
  switch (nn_op_info (node->op)->coupling)
    {
    case NN_OP_COUPLING_STATS:
      return nn_context_batch_stats (ctx, node);
    case NN_OP_COUPLING_RNG:
      return node->attrs.dropout.p > 0.0f;
    case NN_OP_COUPLING_NONE:
      return false;
    }
  return false;
}

bool
nn_context_splits_over_batch (const NnContext *ctx,
                              const NnNode    *node)
{
  return nn_op_info (node->op)->split != NN_OP_SPLIT_NONE && !couples_batch (ctx, node);
}

bool
nn_context_splits_over_channels (const NnContext *ctx,
                                 const NnNode    *node)
{
  return nn_op_info (node->op)->coupling == NN_OP_COUPLING_STATS && couples_batch (ctx, node);
}

bool
nn_context_splits_single_sample (const NnContext *ctx,
                                 const NnNode    *node)
{
  return nn_op_info (node->op)->sample_split && !couples_batch (ctx, node);
}

void
nn_context_zero_input_grads (NnContext *ctx,
                             int        i,
                             int        b0,
                             int        nb)
{
  const NnNode *node = &ctx->graph->nodes[i];
  for (int k = 0; k < node->n_inputs; k++)
    {
      int j = node->inputs[k];
      if (ctx->zero_by[j] != i)
        continue;
      size_t size = nn_shape_size (ctx->graph->nodes[j].shape);
      memset (ctx->grad[j] + (size_t) b0 * size, 0, sizeof (float) * size * (size_t) nb);
    }
}
