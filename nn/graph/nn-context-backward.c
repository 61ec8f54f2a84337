/* SPDX-License-Identifier: MIT */
/* One op's backward pass over a range of samples: each op's kernel call with the gradients that
 * are wanted (the input's when ctx->want says so, the parameters' when asked for and
 * trainable). A switch over NnOp picks the op's function. */
#include "graph/nn-context-private.h"

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

/* Node i over samples [b0, b0 + nb) by worker w: the gradient of its output (dout), its output,
 * its first input and that input's gradient (din, NULL when not wanted), each at sample b0. */
typedef struct
{
  NnContext    *ctx;
  const NnGraph *graph;
  const NnNode *node;
  int           i;
  int           b0;
  int           nb;
  int           w;
  bool          want_params;
  NnShape       is;
  size_t        isz;
  size_t        osz;
  size_t        n;     /* output values of the range: osz * nb */
  const float  *dout;
  const float  *out;
  const float  *in;
  float        *din;
} Slice;

static const float *
weight_of (const Slice *s)
{
  return nn_context_param_ptr (s->graph, s->i, NN_PARAM_WEIGHT);
}

/* Where this worker accumulates the gradient of the node's parameter, or NULL. */
static float *
grad_of (const Slice *s,
         NnParamRole  role)
{
  return nn_context_param_grad_ptr (s->ctx, s->i, role, s->want_params, s->w);
}

/* The gradient of input k at sample b0, or NULL when it is not wanted. */
static float *
input_grad (const Slice *s,
            int          k)
{
  const int j = s->node->inputs[k];
  const size_t size = nn_shape_size (s->graph->nodes[j].shape);
  return s->ctx->want[j] ? s->ctx->grad[j] + (size_t) s->b0 * size : NULL;
}

static void
backward_conv (const Slice *s)
{
  NnConvGeom g = nn_context_conv_geom (s->ctx, s->node, s->nb);
  float *dw = grad_of (s, NN_PARAM_WEIGHT), *db = grad_of (s, NN_PARAM_BIAS);
  float *din = s->din, *scratch = nn_context_scratch (s->ctx, s->w);
  const float *packed = s->ctx->wino_bwd[s->i];
  if (din != NULL && packed != NULL)
    {
      nn_winograd_backward_input_packed (din, scratch, s->dout, packed, &g, 0, g.C);
      din = NULL;
    }
  /* the context chose im2col for the input gradient (its scratch has no room for kernels) */
  g.no_winograd = true;
  if (din || dw || db)
    nn_conv2d_backward (din, dw, db, scratch, s->dout, s->in, weight_of (s), &g);
}

static void
backward_linear (const Slice *s)
{
  float *dw = grad_of (s, NN_PARAM_WEIGHT), *db = grad_of (s, NN_PARAM_BIAS);
  if (s->din || dw || db)
    nn_linear_backward (s->din, dw, db, s->dout, s->in, weight_of (s), s->nb, (int) s->isz,
                        s->node->shape.c);
}

static void
backward_batchnorm (const Slice *s)
{
  const int C = s->node->shape.c, HW = s->node->shape.h * s->node->shape.w;
  float *dg = grad_of (s, NN_PARAM_WEIGHT), *db = grad_of (s, NN_PARAM_BIAS);
  const float *stats = s->ctx->stats[s->i];
  if (!(s->din || dg || db))
    return;
  if (nn_context_batch_stats (s->ctx, s->node))
    nn_batchnorm_backward_train (s->din, dg, db, s->dout, s->in, weight_of (s), stats, stats + C,
                                 s->nb, C, HW);
  else
    nn_batchnorm_backward_eval (s->din, dg, db, s->dout, s->in, weight_of (s),
                                nn_context_param_ptr (s->graph, s->i, NN_PARAM_RUNNING_MEAN),
                                nn_context_param_ptr (s->graph, s->i, NN_PARAM_RUNNING_VAR),
                                s->nb, C, HW, s->node->attrs.norm.eps);
}

static void
backward_instancenorm (const Slice *s)
{
  const int C = s->node->shape.c, HW = s->node->shape.h * s->node->shape.w;
  float *dg = grad_of (s, NN_PARAM_WEIGHT), *db = grad_of (s, NN_PARAM_BIAS);
  const float *stats = s->ctx->stats[s->i];
  if (s->din || dg || db)
    nn_instancenorm_backward (s->din, dg, db, s->dout, s->in, weight_of (s),
                              stats + (size_t) s->b0 * C,
                              stats + (size_t) s->ctx->batch * C + (size_t) s->b0 * C, s->nb, C,
                              HW);
}

/* The ReLU family follows the context's override, if any, else the node's own policy. */
static void
backward_activation (const Slice *s)
{
  const NnActAttrs *a = &s->node->attrs.act;
  const NnGradPolicy *policy = s->ctx->has_override && a->kind == NN_ACT_RELU
                               ? &s->ctx->policy_override : &a->policy;
  if (s->din)
    nn_activation_backward (s->din, s->dout, s->in, s->out, s->n, a, policy);
}

static void
backward_maxpool (const Slice *s)
{
  if (s->din)
    nn_maxpool_backward (s->din, s->dout, s->ctx->argmax[s->i] + (size_t) s->b0 * s->osz, s->nb,
                         s->is.c, s->is.h, s->is.w, s->node->shape.h, s->node->shape.w);
}

static void
backward_avgpool (const Slice *s)
{
  if (s->din)
    nn_avgpool_backward (s->din, s->dout, &s->node->attrs.pool, s->nb, s->is.c, s->is.h,
                         s->is.w, s->node->shape.h, s->node->shape.w);
}

static void
backward_global_avgpool (const Slice *s)
{
  if (s->din)
    nn_global_avgpool_backward (s->din, s->dout, s->nb, s->is.c, s->is.h * s->is.w);
}

static void
backward_add (const Slice *s)
{
  nn_add_backward (s->din, input_grad (s, 1), s->dout, s->n);
}

static void
backward_mul (const Slice *s)
{
  const float *b = s->ctx->out[s->node->inputs[1]] + (size_t) s->b0 * s->osz;
  nn_mul_backward (s->din, input_grad (s, 1), s->dout, s->in, b, s->n);
}

static void
backward_broadcast (const Slice *s)
{
  const NnBroadcastGeom g = nn_context_broadcast_geom (s->graph, s->node);
  const float *b = s->ctx->out[s->node->inputs[1]] + (size_t) s->b0 * g.nb;
  nn_broadcast_backward (s->din, input_grad (s, 1), s->dout, s->in, b, &g, s->nb,
                         nn_context_binary_kind (s->node->op));
}

static void
backward_reduce (const Slice *s)
{
  const NnReduceGeom g = nn_context_reduce_geom (s->graph, s->node);
  const NnReduceKind kind = nn_context_reduce_kind (s->node->op);
  const int32_t *argmax = kind == NN_REDUCE_MAX
                          ? s->ctx->argmax[s->i] + (size_t) s->b0 * s->osz : NULL;
  nn_reduce_backward (s->din, s->dout, argmax, &g, s->nb, kind);
}

static void
backward_transpose (const Slice *s)
{
  NnTransposeGeom g;
  const bool ok = nn_transpose_geom (&g, s->is.rank, s->is.dims, s->node->attrs.transpose.perm);
  NN_ASSERT (ok);
  nn_transpose_backward (s->din, s->dout, &g, s->nb);
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
backward_slice (const Slice *s)
{
  const NnSliceAttrs *a = &s->node->attrs.slice;
  size_t outer, inner;
  slice_view (s->is, a->axis, &outer, &inner);
  nn_slice_backward (s->din, s->dout, s->nb, outer, s->is.dims[a->axis], a->start, a->size,
                     inner);
}

static void
backward_dense (const Slice *s)
{
  float *dw = grad_of (s, NN_PARAM_WEIGHT), *db = grad_of (s, NN_PARAM_BIAS);
  const int IN = s->is.dims[s->is.rank - 1];
  const size_t rows = s->isz / (size_t) IN * (size_t) s->nb;
  if (s->din || dw || db)
    nn_linear_backward (s->din, dw, db, s->dout, s->in, weight_of (s), (int) rows, IN,
                        s->node->attrs.linear.out_features);
}

static void
backward_matmul (const Slice *s)
{
  NnMatmulGeom g = nn_context_matmul_geom (s->graph, s->node);
  const float *b = s->ctx->out[s->node->inputs[1]] + (size_t) s->b0 * g.bsz;
  nn_matmul_backward (s->din, input_grad (s, 1), s->dout, s->in, b, g.stack * (size_t) s->nb,
                      g.M, g.K, g.N);
}

static void
backward_softmax_axis (const Slice *s)
{
  size_t outer, inner;
  slice_view (s->is, s->node->attrs.axis.axis, &outer, &inner);
  nn_softmax_axis_backward (s->din, s->dout, s->out, outer * (size_t) s->nb,
                            s->is.dims[s->node->attrs.axis.axis], inner);
}

static void
backward_concat (const Slice *s)
{
  float *dins[NN_MAX_INPUTS];
  int channels[NN_MAX_INPUTS];
  for (int k = 0; k < s->node->n_inputs; k++)
    {
      dins[k] = input_grad (s, k);
      channels[k] = s->graph->nodes[s->node->inputs[k]].shape.c;
    }
  nn_concat_backward (dins, s->dout, channels, s->node->n_inputs, s->nb,
                      s->node->shape.h * s->node->shape.w);
}

/* Flatten and reshape (and dropout when inactive): the gradient passes unchanged. */
static void
backward_copy (const Slice *s)
{
  if (s->din)
    nn_add_backward (s->din, NULL, s->dout, s->n);
}

/* Scale and PReLU; per element is per channel over (C H W, 1). */
static void
backward_channelwise (const Slice *s)
{
  const bool pe = s->node->attrs.channel.per_element;
  const int C = pe ? (int) s->isz : s->is.c, HW = pe ? 1 : s->is.h * s->is.w;
  float *dw = grad_of (s, NN_PARAM_WEIGHT), *db = grad_of (s, NN_PARAM_BIAS);
  if (s->node->op == NN_OP_SCALE && (s->din || dw || db))
    nn_scale_backward (s->din, dw, db, s->dout, s->in, weight_of (s), s->nb, C, HW);
  else if (s->node->op == NN_OP_PRELU && (s->din || dw))
    nn_prelu_backward (s->din, dw, s->dout, s->in, weight_of (s), s->nb, C, HW);
}

static void
backward_pad (const Slice *s)
{
  const NnPadAttrs *a = &s->node->attrs.pad;
  if (s->din)
    nn_pad_backward (s->din, s->dout, s->nb, s->is.c, s->is.h, s->is.w, a->pad_t, a->pad_l,
                     a->pad_b, a->pad_r);
}

static void
backward_softmax (const Slice *s)
{
  if (s->din)
    nn_softmax_backward (s->din, s->dout, s->out, s->nb, (int) s->osz);
}

static void
backward_dropout (const Slice *s)
{
  const float p = s->node->attrs.dropout.p;
  if (s->din && s->ctx->training && p > 0.0f)
    nn_dropout_backward (s->din, s->dout, s->ctx->mask[s->i] + (size_t) s->b0 * s->osz, s->n, p);
  else
    backward_copy (s);
}

void
nn_context_backward_slice (NnContext *ctx,
                           int        i,
                           int        b0,
                           int        nb,
                           int        w,
                           bool       want_params)
{
  const NnGraph *graph = ctx->graph;
  const NnNode *node = &graph->nodes[i];
  const int i0 = node->n_inputs > 0 ? node->inputs[0] : 0;
  Slice s = {
    .ctx = ctx, .graph = graph, .node = node, .i = i, .b0 = b0, .nb = nb, .w = w,
    .want_params = want_params,
  };
  s.osz = nn_shape_size (node->shape);
  s.dout = ctx->grad[i] + (size_t) b0 * s.osz;
  s.out = ctx->out[i] + (size_t) b0 * s.osz;
  s.is = node->n_inputs > 0 ? graph->nodes[i0].shape : node->shape;
  s.isz = nn_shape_size (s.is);
  s.din = node->n_inputs > 0 && ctx->want[i0] ? ctx->grad[i0] + (size_t) b0 * s.isz : NULL;
  s.in = node->n_inputs > 0 ? ctx->out[i0] + (size_t) b0 * s.isz : NULL;
  s.n = s.osz * (size_t) nb;

  nn_context_zero_input_grads (ctx, i, b0, nb);
  if (ctx->rule != NULL && ctx->rule (ctx, i, ctx->rule_data))
    return;
  switch (node->op)
    {
    case NN_OP_INPUT:
      break;
    case NN_OP_CONV2D:
      backward_conv (&s);
      break;
    case NN_OP_LINEAR:
      backward_linear (&s);
      break;
    case NN_OP_BATCHNORM:
      backward_batchnorm (&s);
      break;
    case NN_OP_INSTANCENORM:
      backward_instancenorm (&s);
      break;
    case NN_OP_ACTIVATION:
      backward_activation (&s);
      break;
    case NN_OP_MAXPOOL:
      backward_maxpool (&s);
      break;
    case NN_OP_AVGPOOL:
      backward_avgpool (&s);
      break;
    case NN_OP_GLOBAL_AVGPOOL:
      backward_global_avgpool (&s);
      break;
    case NN_OP_ADD:
      backward_add (&s);
      break;
    case NN_OP_MUL:
      backward_mul (&s);
      break;
    case NN_OP_BROADCAST_ADD:
    case NN_OP_BROADCAST_SUB:
    case NN_OP_BROADCAST_MUL:
    case NN_OP_BROADCAST_DIV:
      backward_broadcast (&s);
      break;
    case NN_OP_REDUCE_SUM:
    case NN_OP_REDUCE_MEAN:
    case NN_OP_REDUCE_MAX:
      backward_reduce (&s);
      break;
    case NN_OP_TRANSPOSE:
      backward_transpose (&s);
      break;
    case NN_OP_SLICE:
      backward_slice (&s);
      break;
    case NN_OP_DENSE:
      backward_dense (&s);
      break;
    case NN_OP_MATMUL:
      backward_matmul (&s);
      break;
    case NN_OP_SOFTMAX_AXIS:
      backward_softmax_axis (&s);
      break;
    case NN_OP_CONCAT:
      backward_concat (&s);
      break;
    case NN_OP_FLATTEN:
    case NN_OP_RESHAPE:
      backward_copy (&s);
      break;
    case NN_OP_SCALE:
    case NN_OP_PRELU:
      backward_channelwise (&s);
      break;
    case NN_OP_PAD:
      backward_pad (&s);
      break;
    case NN_OP_SOFTMAX:
      backward_softmax (&s);
      break;
    case NN_OP_DROPOUT:
      backward_dropout (&s);
      break;
    case NN_OP_COUNT_:
    default:
      NN_ASSERT (!"unknown op");
    }
}
