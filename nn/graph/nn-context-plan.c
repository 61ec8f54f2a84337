/* SPDX-License-Identifier: MIT */
/* The plan of a context's memory: every buffer it needs (the per-node tables, each node's output
 * and gradient, the buffers the op table asks for, the scratch, the parameter gradients) laid
 * out one after another, so that the context allocates one block and points into it. */
#include "graph/nn-context-private.h"

#include <stdint.h>
#include <stdlib.h>

#include "graph/nn-op.h"
#include "graph/nn-packs.h"
#include "ops/nn-conv2d.h"
#include "ops/nn-winograd.h"

/* Where the next buffer goes; with base NULL the plan only adds up the sizes. */
typedef struct
{
  char   *base;
  size_t  used;
} Layout;

static size_t
align_up (size_t bytes)
{
  return (bytes + NN_CONTEXT_ALIGN - 1) / NN_CONTEXT_ALIGN * NN_CONTEXT_ALIGN;
}

/* The next `bytes` of the block (NULL while sizing). */
static void *
take (Layout *l,
      size_t  bytes)
{
  void *p = l->base != NULL ? l->base + l->used : NULL;
  l->used += align_up (bytes);
  return p;
}

void *
nn_context_alloc_aligned (size_t  bytes,
                          void  **raw)
{
  *raw = calloc (1, bytes + NN_CONTEXT_ALIGN);
  if (*raw == NULL)
    return NULL;
  const size_t at = (size_t) (uintptr_t) *raw;
  return (char *) *raw + (align_up (at) - at);
}

size_t
nn_context_scratch_floats (const NnContext *ctx)
{
  const NnGraph *graph = ctx->graph;
  size_t most = 0;
  for (int i = 0; i < graph->n_nodes; i++)
    {
      const NnNode *node = &graph->nodes[i];
      if (nn_op_info (node->op)->scratch != NN_OP_SCRATCH_CONV)
        continue;
      /* Ungrouped convs that take Winograd run on the context's packed kernels. */
      NnConvGeom g = nn_context_conv_geom (ctx, node, ctx->batch);
      size_t s = g.G == 1 ? nn_conv2d_scratch_size_packed (&g) : nn_conv2d_scratch_size (&g);
      most = s > most ? s : most;
      if (g.G == 1)
        continue;
      /* A single sample split over the workers by groups may leave a worker one group, which
       * runs as an ungrouped conv (depthwise ones then no longer run direct, and Winograd ones
       * pack their kernels into the scratch). */
      g.B = 1;
      g.C /= g.G;
      g.OC /= g.G;
      g.G = 1;
      s = nn_conv2d_scratch_size (&g);
      most = s > most ? s : most;
    }
  /* Whole 64-byte lines, so that every worker's slice starts aligned. */
  return align_up (most * sizeof (float)) / sizeof (float);
}

/* The bytes of the buffer the op table asks node `node` to keep, for `batch` samples. */
static size_t
buffer_bytes (const NnNode *node,
              int           batch)
{
  const size_t values = nn_shape_size (node->shape) * (size_t) batch;
  switch (nn_op_info (node->op)->buffer)
    {
    case NN_OP_BUFFER_STATS:
      return sizeof (float) * 2 * (size_t) node->shape.c;
    case NN_OP_BUFFER_SAMPLE_STATS:
      return sizeof (float) * 2 * (size_t) node->shape.c * (size_t) batch;
    case NN_OP_BUFFER_ARGMAX:
      return sizeof (int32_t) * values;
    case NN_OP_BUFFER_MASK:
      return values;
    case NN_OP_BUFFER_NONE:
      return 0;
    }
  return 0;
}

/* The packings conv node i runs with (nn-packs.h), reserved in the graph's table: the
 * Winograd kernels where a pass takes Winograd (of the folded weights where it folds), and its
 * folded weights and bias where it folds. False when out of memory. */
static bool
reserve_packings (NnContext *ctx,
                  int        i)
{
  NnGraph *graph = ctx->graph;
  const NnNode *node = &graph->nodes[i];
  const int tail = nn_context_fold_tail (ctx, i);
  ctx->fold_tail[i] = tail;
  ctx->has_folds |= tail != 0;
  ctx->pack_use[i] = 0;
  if (node->op != NN_OP_CONV2D)
    return true;
  const int norm = tail == 0 ? -1 : graph->nodes[tail].op == NN_OP_BATCHNORM
                                      ? tail : graph->nodes[tail].inputs[0];
  const NnConvGeom g = nn_context_conv_geom (ctx, node, ctx->batch);
  if (tail != 0)
    ctx->pack_use[i] |= 1u << NN_PACK_FOLD;
  if (nn_winograd_pays_forward (&g))
    ctx->pack_use[i] |= 1u << (tail != 0 ? NN_PACK_WINOGRAD_FOLDED : NN_PACK_WINOGRAD);
  if (nn_context_winograd_backward (ctx, &g))
    ctx->pack_use[i] |= 1u << NN_PACK_WINOGRAD_BACKWARD;
  for (int k = 0; k < NN_PACK_KINDS; k++)
    if ((ctx->pack_use[i] & (1u << k))
        && !nn_graph_packs_reserve (graph, i, (NnPackKind) k,
                                    k == NN_PACK_FOLD || k == NN_PACK_WINOGRAD_FOLDED ? norm : -1))
      return false;
  return true;
}

static void
point_buffer (NnContext    *ctx,
              int           i,
              const NnNode *node,
              void         *buffer)
{
  switch (nn_op_info (node->op)->buffer)
    {
    case NN_OP_BUFFER_STATS:
    case NN_OP_BUFFER_SAMPLE_STATS:
      ctx->stats[i] = buffer;
      break;
    case NN_OP_BUFFER_ARGMAX:
      ctx->argmax[i] = buffer;
      break;
    case NN_OP_BUFFER_MASK:
      ctx->mask[i] = buffer;
      break;
    case NN_OP_BUFFER_NONE:
      break;
    }
}

/* The tables indexed by node, then per node its output, its gradient (with
 * NN_CONTEXT_BACKWARD) and its op's buffer, then worker 0's scratch and the parameter gradients
 * (with NN_CONTEXT_PARAM_GRADS). */
static void
layout (NnContext *ctx,
        Layout    *l)
{
  const NnGraph *graph = ctx->graph;
  const size_t n = (size_t) graph->n_nodes;
  float **out = take (l, sizeof (float *) * n);
  float **grad = take (l, sizeof (float *) * n);
  float **stats = take (l, sizeof (float *) * n);
  int32_t **argmax = take (l, sizeof (int32_t *) * n);
  uint8_t **mask = take (l, sizeof (uint8_t *) * n);
  uint8_t *reach = take (l, n);
  uint8_t *want = take (l, n);
  int *zero_by = take (l, sizeof (int) * n);
  size_t *private_at = take (l, sizeof (size_t) * n);
  const float **wino_fwd = take (l, sizeof (float *) * n);
  const float **wino_bwd = take (l, sizeof (float *) * n);
  uint8_t *pack_use = take (l, n);
  int *fold_tail = take (l, sizeof (int) * n);
  const float **fold_weight = take (l, sizeof (float *) * n);
  const float **fold_bias = take (l, sizeof (float *) * n);
  uint8_t *keep = take (l, n);
  uint8_t *fold_skip = take (l, n);
  uint8_t *fold_unwritten = take (l, n);
  if (l->base != NULL)
    {
      ctx->wino_fwd = wino_fwd;
      ctx->wino_bwd = wino_bwd;
      ctx->pack_use = pack_use;
      ctx->fold_tail = fold_tail;
      ctx->fold_weight = fold_weight;
      ctx->fold_bias = fold_bias;
      ctx->keep = keep;
      ctx->fold_skip = fold_skip;
      ctx->fold_unwritten = fold_unwritten;
      /* no version yet: the first pass packs */
      ctx->packed_version = ctx->graph->version - 1;
      ctx->out = out;
      ctx->grad = grad;
      ctx->stats = stats;
      ctx->argmax = argmax;
      ctx->mask = mask;
      ctx->reach = reach;
      ctx->want = want;
      ctx->zero_by = zero_by;
      ctx->private_at = private_at;
    }
  for (int i = 0; i < graph->n_nodes; i++)
    {
      const NnNode *node = &graph->nodes[i];
      const size_t values = nn_shape_size (node->shape) * (size_t) ctx->batch;
      float *o = take (l, sizeof (float) * values);
      float *g = ctx->flags & NN_CONTEXT_BACKWARD ? take (l, sizeof (float) * values) : NULL;
      void *buffer = take (l, buffer_bytes (node, ctx->batch));
      if (l->base == NULL)
        continue;
      out[i] = o;
      grad[i] = g;
      point_buffer (ctx, i, node, buffer);
    }
  float *scratch = take (l, sizeof (float) * ctx->scratch_size);
  float *param_grads = ctx->flags & NN_CONTEXT_PARAM_GRADS
                       ? take (l, sizeof (float) * graph->n_data) : NULL;
  if (l->base == NULL)
    return;
  ctx->scratch = scratch;
  ctx->param_grads = param_grads;
}

bool
nn_context_plan (NnContext *ctx)
{
  Layout sizing = { NULL, 0 };
  layout (ctx, &sizing);
  Layout block = { nn_context_alloc_aligned (sizing.used, &ctx->block), 0 };
  if (block.base == NULL)
    return false;
  layout (ctx, &block);
  for (int i = 0; i < ctx->graph->n_nodes; i++)
    if (!reserve_packings (ctx, i))
      {
        free (ctx->block);
        return false;
      }
  return true;
}

void
nn_context_conv_pack (NnContext *ctx)
{
  NnGraph *graph = ctx->graph;
  if (ctx->packed_version == graph->version)
    return;
  ctx->packed_version = graph->version;
  for (int i = 0; i < graph->n_nodes; i++)
    {
      const unsigned use = ctx->pack_use[i];
      if (use == 0)
        continue;
      if (use & (1u << NN_PACK_FOLD))
        {
          const NnNode *node = &graph->nodes[i];
          const NnConvAttrs *a = &node->attrs.conv;
          const size_t per = (size_t) (graph->nodes[node->inputs[0]].shape.c / a->groups)
                             * a->kh * a->kw;
          ctx->fold_weight[i] = nn_graph_packs_get (graph, i, NN_PACK_FOLD);
          ctx->fold_bias[i] = ctx->fold_weight[i] + per * (size_t) a->out_channels;
        }
      /* a folded conv's forward packing holds its folded weights */
      if (use & (1u << NN_PACK_WINOGRAD))
        ctx->wino_fwd[i] = nn_graph_packs_get (graph, i, NN_PACK_WINOGRAD);
      if (use & (1u << NN_PACK_WINOGRAD_FOLDED))
        ctx->wino_fwd[i] = nn_graph_packs_get (graph, i, NN_PACK_WINOGRAD_FOLDED);
      if (use & (1u << NN_PACK_WINOGRAD_BACKWARD))
        ctx->wino_bwd[i] = nn_graph_packs_get (graph, i, NN_PACK_WINOGRAD_BACKWARD);
    }
}
