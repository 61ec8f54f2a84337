/* SPDX-License-Identifier: MIT */
/* The plan of a context's memory: every buffer it needs (the per-node tables, each node's output
 * and gradient, the buffers the op table asks for, the scratch, the parameter gradients) laid
 * out one after another, so that the context allocates one block and points into it. */
#include "graph/nn-context-private.h"

#include <stdint.h>
#include <stdlib.h>

#include "graph/nn-op.h"
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

/* The Winograd packings of conv node i, each NULL where that pass does not take Winograd, and
 * its folded weights and bias where it folds. */
static void
take_packings (NnContext *ctx,
               Layout    *l,
               int        i)
{
  const NnNode *node = &ctx->graph->nodes[i];
  float *fwd = NULL, *bwd = NULL, *fw = NULL, *fb = NULL;
  const int tail = nn_context_fold_tail (ctx, i);
  if (tail != 0)
    {
      const NnConvAttrs *a = &node->attrs.conv;
      const size_t per = (size_t) (ctx->graph->nodes[node->inputs[0]].shape.c / a->groups)
                         * a->kh * a->kw;
      fw = take (l, sizeof (float) * per * (size_t) a->out_channels);
      fb = take (l, sizeof (float) * (size_t) a->out_channels);
    }
  if (node->op == NN_OP_CONV2D)
    {
      const NnConvGeom g = nn_context_conv_geom (ctx, node, ctx->batch);
      const bool f = nn_winograd_pays_forward (&g);
      const bool b = (ctx->flags & NN_CONTEXT_BACKWARD) && nn_winograd_pays_backward (&g);
      fwd = f ? take (l, sizeof (float) * nn_winograd_packed_size (&g)) : NULL;
      bwd = b ? take (l, sizeof (float) * nn_winograd_packed_size (&g)) : NULL;
    }
  if (l->base == NULL)
    return;
  ctx->wino_fwd[i] = fwd;
  ctx->wino_bwd[i] = bwd;
  ctx->fold_tail[i] = tail;
  ctx->fold_weight[i] = fw;
  ctx->fold_bias[i] = fb;
  ctx->has_folds |= tail != 0;
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
 * NN_CONTEXT_BACKWARD) and its op's buffer, then the convs' Winograd packings, worker 0's
 * scratch and the parameter gradients (with NN_CONTEXT_PARAM_GRADS). */
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
  float **wino_fwd = take (l, sizeof (float *) * n);
  float **wino_bwd = take (l, sizeof (float *) * n);
  int *fold_tail = take (l, sizeof (int) * n);
  float **fold_weight = take (l, sizeof (float *) * n);
  float **fold_bias = take (l, sizeof (float *) * n);
  uint8_t *keep = take (l, n);
  uint8_t *fold_skip = take (l, n);
  uint8_t *fold_unwritten = take (l, n);
  if (l->base != NULL)
    {
      ctx->wino_fwd = wino_fwd;
      ctx->wino_bwd = wino_bwd;
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
  for (int i = 0; i < graph->n_nodes; i++)
    take_packings (ctx, l, i);
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
  return true;
}

void
nn_context_conv_pack (NnContext *ctx)
{
  const NnGraph *graph = ctx->graph;
  if (ctx->packed_version == graph->version)
    return;
  ctx->packed_version = graph->version;
  if (ctx->has_folds)
    nn_context_fold_weights (ctx);
  for (int i = 0; i < graph->n_nodes; i++)
    {
      if (ctx->wino_fwd[i] == NULL && ctx->wino_bwd[i] == NULL)
        continue;
      const NnConvGeom g = nn_context_conv_geom (ctx, &graph->nodes[i], ctx->batch);
      const float *w = nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT);
      /* a folded conv's forward packing holds its folded weights */
      if (ctx->wino_fwd[i] != NULL)
        nn_winograd_pack_forward (ctx->wino_fwd[i], ctx->fold_tail[i] ? ctx->fold_weight[i] : w,
                                  &g);
      if (ctx->wino_bwd[i] != NULL)
        nn_winograd_pack_backward (ctx->wino_bwd[i], w, &g);
    }
}
