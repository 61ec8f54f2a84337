/* SPDX-License-Identifier: MIT */
/* One op's forward pass: each op's kernel call over a range of samples, and, for a batch of
 * one, over the part of the sample a worker takes. A switch over NnOp picks the op's function. */
#include "graph/nn-context-private.h"

#include <string.h>

#include "ops/nn-activation.h"
#include "ops/nn-broadcast.h"
#include "ops/nn-channelwise.h"
#include "ops/nn-conv2d.h"
#include "ops/nn-elementwise.h"
#include "ops/nn-linear.h"
#include "ops/nn-matmul.h"
#include "ops/nn-norm.h"
#include "ops/nn-pool.h"
#include "ops/nn-transpose.h"
#include "ops/nn-winograd.h"
#include "core/nn-workers.h"

/* Node i over samples [b0, b0 + nb) by worker w: its output and first input at sample b0, the
 * per-sample shape of that input (the node's own for the input node) and the sizes. */
typedef struct
{
  NnContext    *ctx;
  const NnGraph *graph;
  const NnNode *node;
  int           i;
  int           b0;
  int           nb;
  int           w;
  NnShape       is;
  size_t        isz;
  size_t        osz;
  size_t        n;    /* output values of the range: osz * nb */
  const float  *in;
  float        *out;
} Slice;

/* The range's part of input k of the node (of output size osz per sample). */
static const float *
slice_input (const Slice *s,
             int          k)
{
  return s->ctx->out[s->node->inputs[k]] + (size_t) s->b0 * s->osz;
}

/* Into its own output, or folded into the output of its group's last node. */
static void
forward_conv (const Slice *s)
{
  NnConvGeom g = nn_context_conv_geom (s->ctx, s->node, s->nb);
  const NnConvRun r = nn_context_conv_run (s->ctx, s->i);
  g.no_winograd |= r.no_winograd;
  float *scratch = nn_context_scratch (s->ctx, s->w);
  float *out = r.out + (size_t) s->b0 * s->osz;
  if (r.packed != NULL)
    nn_winograd_forward_packed (out, scratch, s->in, r.packed, r.bias, &g, 0, g.OC);
  else
    nn_conv2d_forward (out, scratch, s->in, r.weight, r.bias, &g);
  if (r.act != NULL)
    nn_activation_forward (out, out, s->n, r.act);
}

static void
forward_linear (const Slice *s)
{
  nn_linear_forward (s->out, s->in, nn_context_param_ptr (s->graph, s->i, NN_PARAM_WEIGHT),
                     nn_context_param_ptr (s->graph, s->i, NN_PARAM_BIAS), s->nb, (int) s->isz,
                     s->node->shape.c);
}

/* Training (unless frozen, nn_context_batch_stats): batch statistics (saved for the
 * backward), running statistics updated; eval: the running statistics. */
static void
forward_batchnorm (const Slice *s)
{
  const NnNormAttrs *a = &s->node->attrs.norm;
  const NnGraph *graph = s->graph;
  int pm = nn_graph_node_param (graph, s->i, NN_PARAM_RUNNING_MEAN);
  int pv = nn_graph_node_param (graph, s->i, NN_PARAM_RUNNING_VAR);
  float *rm = graph->data + graph->params[pm].offset;
  float *rv = graph->data + graph->params[pv].offset;
  const float *gamma = nn_context_param_ptr (graph, s->i, NN_PARAM_WEIGHT);
  const float *beta = nn_context_param_ptr (graph, s->i, NN_PARAM_BIAS);
  float *stats = s->ctx->stats[s->i];
  int C = s->node->shape.c, HW = s->node->shape.h * s->node->shape.w;
  if (nn_context_batch_stats (s->ctx, s->node))
    nn_batchnorm_forward_train (s->out, stats, stats + C, rm, rv, s->in, gamma, beta, s->nb, C,
                                HW, a->eps, a->momentum);
  else
    nn_batchnorm_forward_eval (s->out, s->in, gamma, beta, rm, rv, s->nb, C, HW, a->eps);
}

/* The statistics of sample b, channel c: mean at stats[b C + c], invstd at
 * stats[B C + b C + c]. */
static void
forward_instancenorm (const Slice *s)
{
  int C = s->node->shape.c, HW = s->node->shape.h * s->node->shape.w;
  float *mean = s->ctx->stats[s->i] + (size_t) s->b0 * C;
  float *invstd = s->ctx->stats[s->i] + (size_t) s->ctx->batch * C + (size_t) s->b0 * C;
  nn_instancenorm_forward (s->out, mean, invstd, s->in,
                           nn_context_param_ptr (s->graph, s->i, NN_PARAM_WEIGHT),
                           nn_context_param_ptr (s->graph, s->i, NN_PARAM_BIAS), s->nb, C, HW,
                           s->node->attrs.norm.eps);
}

static void
forward_activation (const Slice *s)
{
  NnActAttrs proxy;
  nn_activation_forward (s->out, s->in, s->n, nn_context_act_attrs (s->ctx, s->node, &proxy));
}

static void
forward_maxpool (const Slice *s)
{
  nn_maxpool_forward (s->out, s->ctx->argmax[s->i] + (size_t) s->b0 * s->osz, s->in,
                      &s->node->attrs.pool, s->nb, s->is.c, s->is.h, s->is.w, s->node->shape.h,
                      s->node->shape.w);
}

static void
forward_avgpool (const Slice *s)
{
  nn_avgpool_forward (s->out, s->in, &s->node->attrs.pool, s->nb, s->is.c, s->is.h, s->is.w,
                      s->node->shape.h, s->node->shape.w);
}

static void
forward_global_avgpool (const Slice *s)
{
  nn_global_avgpool_forward (s->out, s->in, s->nb, s->is.c, s->is.h * s->is.w);
}

static void
forward_add (const Slice *s)
{
  nn_add_forward (s->out, s->in, slice_input (s, 1), s->n);
}

static void
forward_mul (const Slice *s)
{
  nn_mul_forward (s->out, s->in, slice_input (s, 1), s->n);
}

static void
forward_broadcast (const Slice *s)
{
  const NnBroadcastGeom g = nn_context_broadcast_geom (s->graph, s->node);
  const float *b = s->ctx->out[s->node->inputs[1]] + (size_t) s->b0 * g.nb;
  nn_broadcast_forward (s->out, s->in, b, &g, s->nb, nn_context_binary_kind (s->node->op));
}

static void
forward_reduce (const Slice *s)
{
  const NnReduceGeom g = nn_context_reduce_geom (s->graph, s->node);
  const NnReduceKind kind = nn_context_reduce_kind (s->node->op);
  int32_t *argmax = kind == NN_REDUCE_MAX ? s->ctx->argmax[s->i] + (size_t) s->b0 * s->osz
                                          : NULL;
  nn_reduce_forward (s->out, argmax, s->in, &g, s->nb, kind);
}

/* The transpose geometry of a transpose node. */
static NnTransposeGeom
transpose_geom (const Slice *s)
{
  NnTransposeGeom g;
  const bool ok = nn_transpose_geom (&g, s->is.rank, s->is.dims, s->node->attrs.transpose.perm);
  NN_ASSERT (ok);
  return g;
}

static void
forward_transpose (const Slice *s)
{
  const NnTransposeGeom g = transpose_geom (s);
  nn_transpose_forward (s->out, s->in, &g, s->nb);
}

/* The (outer, n, inner) view of a slice node's input around its axis. */
static void
slice_view (NnShape  is,
            int      axis,
            size_t  *outer,
            size_t  *inner)
{
  *outer = 1;
  *inner = 1;
  for (int d = 0; d < is.rank; d++)
    if (d < axis)
      *outer *= (size_t) is.dims[d];
    else if (d > axis)
      *inner *= (size_t) is.dims[d];
}

static void
forward_slice (const Slice *s)
{
  const NnSliceAttrs *a = &s->node->attrs.slice;
  size_t outer, inner;
  slice_view (s->is, a->axis, &outer, &inner);
  nn_slice_forward (s->out, s->in, s->nb, outer, s->is.dims[a->axis], a->start, a->size, inner);
}

/* Dense: the rows of the range are its samples' rows of the last axis. */
static void
forward_dense (const Slice *s)
{
  const int IN = s->is.dims[s->is.rank - 1];
  const size_t rows = s->isz / (size_t) IN * (size_t) s->nb;
  nn_linear_forward (s->out, s->in, nn_context_param_ptr (s->graph, s->i, NN_PARAM_WEIGHT),
                     nn_context_param_ptr (s->graph, s->i, NN_PARAM_BIAS), (int) rows, IN,
                     s->node->attrs.linear.out_features);
}

static void
forward_matmul (const Slice *s)
{
  NnMatmulGeom g = nn_context_matmul_geom (s->graph, s->node);
  const float *b = s->ctx->out[s->node->inputs[1]] + (size_t) s->b0 * g.bsz;
  nn_matmul_forward (s->out, s->in, b, g.stack * (size_t) s->nb, g.M, g.K, g.N);
}

static void
forward_softmax_axis (const Slice *s)
{
  size_t outer, inner;
  slice_view (s->is, s->node->attrs.axis.axis, &outer, &inner);
  nn_softmax_axis_forward (s->out, s->in, outer * (size_t) s->nb,
                           s->is.dims[s->node->attrs.axis.axis], inner);
}

static void
forward_concat (const Slice *s)
{
  const float *ins[NN_MAX_INPUTS];
  int channels[NN_MAX_INPUTS];
  for (int k = 0; k < s->node->n_inputs; k++)
    {
      const NnShape ks = s->graph->nodes[s->node->inputs[k]].shape;
      ins[k] = s->ctx->out[s->node->inputs[k]] + (size_t) s->b0 * nn_shape_size (ks);
      channels[k] = ks.c;
    }
  nn_concat_forward (s->out, ins, channels, s->node->n_inputs, s->nb,
                     s->node->shape.h * s->node->shape.w);
}

/* Flatten and reshape: the same values. */
static void
forward_copy (const Slice *s)
{
  memcpy (s->out, s->in, sizeof (float) * s->n);
}

static void
forward_softmax (const Slice *s)
{
  nn_softmax_forward (s->out, s->in, s->nb, (int) s->osz);
}

/* Scale and PReLU; per element is per channel over (C H W, 1). */
static void
forward_channelwise (const Slice *s)
{
  const bool pe = s->node->attrs.channel.per_element;
  const int C = pe ? (int) s->isz : s->is.c, HW = pe ? 1 : s->is.h * s->is.w;
  const float *weight = nn_context_param_ptr (s->graph, s->i, NN_PARAM_WEIGHT);
  if (s->node->op == NN_OP_SCALE)
    nn_scale_forward (s->out, s->in, weight, nn_context_param_ptr (s->graph, s->i, NN_PARAM_BIAS),
                      s->nb, C, HW);
  else
    nn_prelu_forward (s->out, s->in, weight, s->nb, C, HW);
}

static void
forward_pad (const Slice *s)
{
  const NnPadAttrs *a = &s->node->attrs.pad;
  nn_pad_forward (s->out, s->in, s->nb, s->is.c, s->is.h, s->is.w, a->pad_t, a->pad_l, a->pad_b,
                  a->pad_r, a->value);
}

/* Active only in training mode, with p > 0: then its mask is kept for the backward. */
static void
forward_dropout (const Slice *s)
{
  const float p = s->node->attrs.dropout.p;
  if (s->ctx->training && p > 0.0f)
    nn_dropout_forward (s->out, s->ctx->mask[s->i] + (size_t) s->b0 * s->osz, s->in, s->n, p,
                        &s->ctx->rng);
  else
    forward_copy (s);
}

void
nn_context_forward_slice (NnContext *ctx,
                          int        i,
                          int        b0,
                          int        nb,
                          int        w)
{
  const NnGraph *graph = ctx->graph;
  const NnNode *node = &graph->nodes[i];
  if (ctx->fold_skip[i])
    return;
  Slice s = { .ctx = ctx, .graph = graph, .node = node, .i = i, .b0 = b0, .nb = nb, .w = w };
  s.osz = nn_shape_size (node->shape);
  s.out = ctx->out[i] + (size_t) b0 * s.osz;
  s.is = node->n_inputs > 0 ? graph->nodes[node->inputs[0]].shape : node->shape;
  s.isz = nn_shape_size (s.is);
  s.in = node->n_inputs > 0 ? ctx->out[node->inputs[0]] + (size_t) b0 * s.isz : NULL;
  s.n = s.osz * (size_t) nb;

  switch (node->op)
    {
    case NN_OP_INPUT:
      break;
    case NN_OP_CONV2D:
      forward_conv (&s);
      break;
    case NN_OP_LINEAR:
      forward_linear (&s);
      break;
    case NN_OP_BATCHNORM:
      forward_batchnorm (&s);
      break;
    case NN_OP_INSTANCENORM:
      forward_instancenorm (&s);
      break;
    case NN_OP_ACTIVATION:
      forward_activation (&s);
      break;
    case NN_OP_MAXPOOL:
      forward_maxpool (&s);
      break;
    case NN_OP_AVGPOOL:
      forward_avgpool (&s);
      break;
    case NN_OP_GLOBAL_AVGPOOL:
      forward_global_avgpool (&s);
      break;
    case NN_OP_ADD:
      forward_add (&s);
      break;
    case NN_OP_MUL:
      forward_mul (&s);
      break;
    case NN_OP_BROADCAST_ADD:
    case NN_OP_BROADCAST_SUB:
    case NN_OP_BROADCAST_MUL:
    case NN_OP_BROADCAST_DIV:
      forward_broadcast (&s);
      break;
    case NN_OP_REDUCE_SUM:
    case NN_OP_REDUCE_MEAN:
    case NN_OP_REDUCE_MAX:
      forward_reduce (&s);
      break;
    case NN_OP_TRANSPOSE:
      forward_transpose (&s);
      break;
    case NN_OP_SLICE:
      forward_slice (&s);
      break;
    case NN_OP_DENSE:
      forward_dense (&s);
      break;
    case NN_OP_MATMUL:
      forward_matmul (&s);
      break;
    case NN_OP_SOFTMAX_AXIS:
      forward_softmax_axis (&s);
      break;
    case NN_OP_CONCAT:
      forward_concat (&s);
      break;
    case NN_OP_FLATTEN:
    case NN_OP_RESHAPE:
      forward_copy (&s);
      break;
    case NN_OP_SOFTMAX:
      forward_softmax (&s);
      break;
    case NN_OP_SCALE:
    case NN_OP_PRELU:
      forward_channelwise (&s);
      break;
    case NN_OP_PAD:
      forward_pad (&s);
      break;
    case NN_OP_DROPOUT:
      forward_dropout (&s);
      break;
    case NN_OP_COUNT_:
    default:
      NN_ASSERT (!"unknown op");
    }
}

/* A node of a batch of one, split within the sample over the workers: worker `index` of `n`
 * computes its part of the output. */
typedef struct
{
  NnContext    *ctx;
  const NnGraph *graph;
  const NnNode *node;
  int           i;
  int           index;
  int           n;
  NnShape       is;
  size_t        ihw;   /* input pixels per channel */
  size_t        ohw;   /* output pixels per channel */
  const float  *in;
  float        *out;
} Part;

/* Groups are independent; without groups each worker takes a share of the output rows or of the
 * output channels (and then builds its own im2col matrix, or transforms the whole input for
 * Winograd). */
static void
part_conv (const Part *p)
{
  NnConvGeom g = nn_context_conv_geom (p->ctx, p->node, 1);
  const NnConvRun r = nn_context_conv_run (p->ctx, p->i);
  g.no_winograd |= r.no_winograd;
  const float *in = p->in;
  const float *weight = r.weight, *bias = r.bias;
  float *out = r.out;
  float *scratch = nn_context_scratch (p->ctx, p->index);
  const int Cg = g.C / g.G, M = g.OC / g.G;
  const size_t wsize = (size_t) Cg * g.KH * g.KW;
  int c0, nc;
  if (r.packed != NULL)
    {
      nn_context_batch_share (g.OC, p->index, p->n, &c0, &nc);
      nn_winograd_forward_packed (out, scratch, in, r.packed, bias, &g, c0, c0 + nc);
      return;
    }
  if (g.G > 1)
    {
      nn_context_batch_share (g.G, p->index, p->n, &c0, &nc);
      g.G = nc;
      g.C = nc * Cg;
      g.OC = nc * M;
      in += (size_t) c0 * Cg * p->ihw;
      weight += (size_t) c0 * M * wsize;
      bias = bias ? bias + (size_t) c0 * M : NULL;
      out += (size_t) c0 * M * p->ohw;
    }
  else if (nn_conv2d_splits_rows (&g, p->n))
    {
      nn_conv2d_forward_part (out, scratch, in, weight, bias, &g, p->index, p->n);
      return;
    }
  else
    {
      nn_context_batch_share (g.OC, p->index, p->n, &c0, &nc);
      g.OC = nc;
      weight += (size_t) c0 * wsize;
      bias = bias ? bias + c0 : NULL;
      out += (size_t) c0 * p->ohw;
    }
  if (nc > 0)
    nn_conv2d_forward (out, scratch, in, weight, bias, &g);
}

/* Eval mode only: a share of the channels. */
static void
part_batchnorm (const Part *p)
{
  int c0, nc;
  nn_context_batch_share (p->node->shape.c, p->index, p->n, &c0, &nc);
  if (nc == 0)
    return;
  const float *gamma = nn_context_param_ptr (p->graph, p->i, NN_PARAM_WEIGHT);
  const float *beta = nn_context_param_ptr (p->graph, p->i, NN_PARAM_BIAS);
  nn_batchnorm_forward_eval (p->out + (size_t) c0 * p->ohw, p->in + (size_t) c0 * p->ihw,
                             gamma ? gamma + c0 : NULL, beta ? beta + c0 : NULL,
                             nn_context_param_ptr (p->graph, p->i, NN_PARAM_RUNNING_MEAN) + c0,
                             nn_context_param_ptr (p->graph, p->i, NN_PARAM_RUNNING_VAR) + c0, 1,
                             nc, (int) p->ohw, p->node->attrs.norm.eps);
}

static void
part_maxpool (const Part *p)
{
  int c0, nc;
  nn_context_batch_share (p->node->shape.c, p->index, p->n, &c0, &nc);
  if (nc > 0)
    nn_maxpool_forward (p->out + (size_t) c0 * p->ohw,
                        p->ctx->argmax[p->i] + (size_t) c0 * p->ohw, p->in + (size_t) c0 * p->ihw,
                        &p->node->attrs.pool, 1, nc, p->is.h, p->is.w, p->node->shape.h,
                        p->node->shape.w);
}

static void
part_avgpool (const Part *p)
{
  int c0, nc;
  nn_context_batch_share (p->node->shape.c, p->index, p->n, &c0, &nc);
  if (nc > 0)
    nn_avgpool_forward (p->out + (size_t) c0 * p->ohw, p->in + (size_t) c0 * p->ihw,
                        &p->node->attrs.pool, 1, nc, p->is.h, p->is.w, p->node->shape.h,
                        p->node->shape.w);
}

static void
part_global_avgpool (const Part *p)
{
  int c0, nc;
  nn_context_batch_share (p->node->shape.c, p->index, p->n, &c0, &nc);
  if (nc > 0)
    nn_global_avgpool_forward (p->out + c0, p->in + (size_t) c0 * p->ihw, 1, nc, (int) p->ihw);
}

/* The worker's range [*e0, *e1) of the output values, in whole cache lines (16 floats); false
 * when it is empty. */
static bool
part_range (const Part *p,
            size_t     *e0,
            size_t     *e1)
{
  const size_t total = nn_shape_size (p->node->shape);
  int l0, nl;
  nn_context_batch_share ((int) ((total + 15) / 16), p->index, p->n, &l0, &nl);
  *e0 = (size_t) l0 * 16;
  *e1 = (size_t) (l0 + nl) * 16;
  if (*e1 > total)
    *e1 = total;
  return *e0 < *e1;
}

static void
part_activation (const Part *p)
{
  size_t e0, e1;
  NnActAttrs proxy;
  if (part_range (p, &e0, &e1))
    nn_activation_forward (p->out + e0, p->in + e0, e1 - e0,
                           nn_context_act_attrs (p->ctx, p->node, &proxy));
}

static void
part_binary (const Part *p)
{
  size_t e0, e1;
  if (!part_range (p, &e0, &e1))
    return;
  const float *b = p->ctx->out[p->node->inputs[1]] + e0;
  if (p->node->op == NN_OP_ADD)
    nn_add_forward (p->out + e0, p->in + e0, b, e1 - e0);
  else
    nn_mul_forward (p->out + e0, p->in + e0, b, e1 - e0);
}

/* Flatten, reshape and dropout in eval mode: the same values. */
static void
part_copy (const Part *p)
{
  size_t e0, e1;
  if (part_range (p, &e0, &e1))
    memcpy (p->out + e0, p->in + e0, sizeof (float) * (e1 - e0));
}

static void
single_sample_work (void *data,
                    int   index,
                    int   n)
{
  Part p = *(const Part *) data;
  p.index = index;
  p.n = n;
  switch (p.node->op)
    {
    case NN_OP_CONV2D:
      part_conv (&p);
      break;
    case NN_OP_BATCHNORM:
      part_batchnorm (&p);
      break;
    case NN_OP_MAXPOOL:
      part_maxpool (&p);
      break;
    case NN_OP_AVGPOOL:
      part_avgpool (&p);
      break;
    case NN_OP_GLOBAL_AVGPOOL:
      part_global_avgpool (&p);
      break;
    case NN_OP_ACTIVATION:
      part_activation (&p);
      break;
    case NN_OP_ADD:
    case NN_OP_MUL:
      part_binary (&p);
      break;
    case NN_OP_FLATTEN:
    case NN_OP_RESHAPE:
    case NN_OP_DROPOUT:
      part_copy (&p);
      break;
    case NN_OP_INPUT:
    case NN_OP_LINEAR:
    case NN_OP_INSTANCENORM:
    case NN_OP_CONCAT:
    case NN_OP_SOFTMAX:
    case NN_OP_SCALE:
    case NN_OP_PRELU:
    case NN_OP_PAD:
    case NN_OP_BROADCAST_ADD:
    case NN_OP_BROADCAST_SUB:
    case NN_OP_BROADCAST_MUL:
    case NN_OP_BROADCAST_DIV:
    case NN_OP_REDUCE_SUM:
    case NN_OP_REDUCE_MEAN:
    case NN_OP_REDUCE_MAX:
    case NN_OP_TRANSPOSE:
    case NN_OP_SLICE:
    case NN_OP_DENSE:
    case NN_OP_MATMUL:
    case NN_OP_SOFTMAX_AXIS:
    case NN_OP_COUNT_:
    default:
      NN_ASSERT (!"op does not split within a sample");
    }
}

void
nn_context_forward_single_sample (NnContext *ctx,
                                  int        i)
{
  const NnNode *node = &ctx->graph->nodes[i];
  if (ctx->fold_skip[i])
    return;
  const NnShape is = ctx->graph->nodes[node->inputs[0]].shape;
  Part part = {
    .ctx = ctx, .graph = ctx->graph, .node = node, .i = i, .is = is,
    .ihw = (size_t) is.h * is.w, .ohw = (size_t) node->shape.h * node->shape.w,
    .in = ctx->out[node->inputs[0]], .out = ctx->out[i],
  };
  nn_workers_run (ctx->workers, single_sample_work, &part);
  const NnConvRun r = node->op == NN_OP_CONV2D ? nn_context_conv_run (ctx, i) : (NnConvRun) { 0 };
  if (r.act != NULL)
    nn_activation_forward (r.out, r.out, nn_shape_size (node->shape), r.act);
}
