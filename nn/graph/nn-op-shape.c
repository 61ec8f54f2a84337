/* SPDX-License-Identifier: MIT */
/* The shape rule of every op: its attributes checked against its inputs, its output shape and
 * the dims of its parameters (graph/nn-op.h). */
#include "graph/nn-op.h"

#include <math.h>

/* Bounds that keep every size computation far away from overflow. */
#define NN_DIM_MAX     (1 << 20)
#define NN_WINDOW_MAX  1024

static int
window_out (int in,
            int k,
            int s,
            int pa,
            int pb,
            int dil)
{
  long span = (long) dil * (k - 1) + 1;
  long num = (long) in + pa + pb - span;
  if (num < 0)
    return 0;
  return (int) (num / s + 1);
}

static bool
check_dims (const char *name,
            NnShape     s,
            NnError    *err)
{
  if (s.c <= 0 || s.h <= 0 || s.w <= 0)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': output shape %dx%dx%d is empty",
                         name, s.c, s.h, s.w);
  if (s.c > NN_DIM_MAX || s.h > NN_DIM_MAX || s.w > NN_DIM_MAX
      || nn_shape_size (s) > NN_GRAPH_ELEMS_MAX / 64)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': output shape %dx%dx%d is too large",
                         name, s.c, s.h, s.w);
  return true;
}

static bool
padding_in_range (int pt,
                  int pl,
                  int pb,
                  int pr)
{
  return pt >= 0 && pl >= 0 && pb >= 0 && pr >= 0 && pt <= NN_WINDOW_MAX && pl <= NN_WINDOW_MAX
         && pb <= NN_WINDOW_MAX && pr <= NN_WINDOW_MAX;
}

static bool
check_window (const char *name,
              int kh, int kw, int sh, int sw,
              int pt, int pl, int pb, int pr,
              NnError *err)
{
  if (kh <= 0 || kw <= 0 || kh > NN_WINDOW_MAX || kw > NN_WINDOW_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': kernel %dx%d out of range", name, kh, kw);
  if (sh <= 0 || sw <= 0 || sh > NN_WINDOW_MAX || sw > NN_WINDOW_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': stride %dx%d out of range", name, sh, sw);
  if (!padding_in_range (pt, pl, pb, pr))
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': padding out of range", name);
  return true;
}

static void
param_shape (NnParamShape *p,
             int           ndim,
             int           d0,
             int           d1,
             int           d2,
             int           d3)
{
  *p = (NnParamShape) { ndim, { d0, d1, d2, d3 } };
}

static bool
shape_conv (NnNode       *node,
            NnShape       in,
            NnParamShape *params,
            NnError      *err)
{
  const char *name = node->name;
  const NnConvAttrs *a = &node->attrs.conv;
  if (!check_window (name, a->kh, a->kw, a->sh, a->sw, a->pad_t, a->pad_l, a->pad_b, a->pad_r,
                     err))
    return false;
  if (a->dh <= 0 || a->dw <= 0 || a->dh > NN_WINDOW_MAX || a->dw > NN_WINDOW_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': dilation out of range", name);
  if (a->groups <= 0 || in.c % a->groups != 0 || a->out_channels <= 0
      || a->out_channels % a->groups != 0 || a->out_channels > NN_DIM_MAX)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "node '%s': %d groups do not divide %d input and %d output channels",
                         name, a->groups, in.c, a->out_channels);
  node->shape.c = a->out_channels;
  node->shape.h = window_out (in.h, a->kh, a->sh, a->pad_t, a->pad_b, a->dh);
  node->shape.w = window_out (in.w, a->kw, a->sw, a->pad_l, a->pad_r, a->dw);
  if (!check_dims (name, node->shape, err))
    return false;
  if ((size_t) (in.c / a->groups) * (size_t) a->kh * (size_t) a->kw > (size_t) NN_DIM_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': kernel too large", name);
  param_shape (&params[0], 4, a->out_channels, in.c / a->groups, a->kh, a->kw);
  if (a->bias)
    param_shape (&params[1], 1, a->out_channels, 0, 0, 0);
  return true;
}

static bool
shape_linear (NnNode       *node,
              NnShape       in,
              NnParamShape *params,
              NnError      *err)
{
  const NnLinearAttrs *a = &node->attrs.linear;
  size_t fin = nn_shape_size (in);
  if (a->out_features <= 0 || a->out_features > NN_DIM_MAX || fin > (size_t) NN_DIM_MAX * 16)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': %d output features out of range",
                         node->name, a->out_features);
  node->shape = (NnShape) { a->out_features, 1, 1 };
  param_shape (&params[0], 2, a->out_features, (int) fin, 0, 0);
  if (a->bias)
    param_shape (&params[1], 1, a->out_features, 0, 0, 0);
  return true;
}

/* Batch norm always has its affine parameters, then its running statistics; instance norm has
 * the affine parameters when asked. */
static bool
shape_norm (NnNode       *node,
            NnShape       in,
            NnParamShape *params,
            NnError      *err)
{
  NnNormAttrs *a = &node->attrs.norm;
  const bool batch = node->op == NN_OP_BATCHNORM;
  if (!(a->eps > 0.0f && a->eps < 1.0f) || !(a->momentum >= 0.0f && a->momentum <= 1.0f))
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': eps or momentum out of range",
                         node->name);
  if (!batch && in.h * in.w < 2)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "node '%s': instance norm needs more than one pixel", node->name);
  node->shape = in;
  if (batch)
    a->affine = true;
  for (int k = 0; k < (batch ? 4 : a->affine ? 2 : 0); k++)
    param_shape (&params[k], 1, in.c, 0, 0, 0);
  return true;
}

static bool
shape_activation (NnNode  *node,
                  NnShape  in,
                  NnError *err)
{
  const char *name = node->name;
  const NnActAttrs *a = &node->attrs.act;
  if (a->kind < 0 || a->kind >= NN_ACT_COUNT_)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': unknown activation", name);
  if (a->policy.kind < 0 || a->policy.kind >= NN_GRAD_COUNT_)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': unknown gradient policy", name);
  if (a->policy.kind == NN_GRAD_PROXY_FULL)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': proxygrad-full changes the "
                         "forward pass and is only a per-run policy, not a node's", name);
  if (!isfinite (a->slope) || !isfinite (a->policy.beta))
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': slope is not finite", name);
  if (!nn_act_params_valid (a->kind, a->alpha, a->beta))
    return nn_error_set (err, NN_ERROR_SPEC,
                         "node '%s': activation parameters %g, %g out of range", name,
                         (double) a->alpha, (double) a->beta);
  node->shape = in;
  return true;
}

static bool
shape_pool (NnNode  *node,
            NnShape  in,
            NnError *err)
{
  const char *name = node->name;
  const NnPoolAttrs *a = &node->attrs.pool;
  if (!check_window (name, a->kh, a->kw, a->sh, a->sw, a->pad_t, a->pad_l, a->pad_b, a->pad_r,
                     err))
    return false;
  if (a->pad_t >= a->kh || a->pad_b >= a->kh || a->pad_l >= a->kw || a->pad_r >= a->kw)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "node '%s': pooling padding must be smaller than the kernel", name);
  node->shape.c = in.c;
  node->shape.h = window_out (in.h, a->kh, a->sh, a->pad_t, a->pad_b, 1);
  node->shape.w = window_out (in.w, a->kw, a->sw, a->pad_l, a->pad_r, 1);
  return check_dims (name, node->shape, err);
}

static bool
shape_binary (const NnGraph *graph,
              NnNode        *node,
              NnShape        in,
              NnError       *err)
{
  NnShape b = graph->nodes[node->inputs[1]].shape;
  if (node->n_inputs != 2)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': needs two inputs", node->name);
  if (in.c != b.c || in.h != b.h || in.w != b.w)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "node '%s': input shapes %dx%dx%d and %dx%dx%d differ",
                         node->name, in.c, in.h, in.w, b.c, b.h, b.w);
  node->shape = in;
  return true;
}

static bool
shape_concat (const NnGraph *graph,
              NnNode        *node,
              NnShape        in,
              NnError       *err)
{
  int c = 0;
  for (int i = 0; i < node->n_inputs; i++)
    {
      NnShape s = graph->nodes[node->inputs[i]].shape;
      if (s.h != in.h || s.w != in.w)
        return nn_error_set (err, NN_ERROR_SPEC, "node '%s': inputs differ in spatial size",
                             node->name);
      c += s.c;
    }
  node->shape = (NnShape) { c, in.h, in.w };
  return check_dims (node->name, node->shape, err);
}

static bool
shape_dropout (NnNode  *node,
               NnShape  in,
               NnError *err)
{
  if (!(node->attrs.dropout.p >= 0.0f && node->attrs.dropout.p < 1.0f))
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': dropout p must be in [0, 1)",
                         node->name);
  node->shape = in;
  return true;
}

/* Scale: a weight and a bias; PReLU: a slope; per channel, or per value of a sample. */
static bool
shape_channelwise (NnNode       *node,
                   NnShape       in,
                   NnParamShape *params)
{
  const int nd = node->attrs.channel.per_element ? 3 : 1;
  node->shape = in;
  for (int k = 0; k < (node->op == NN_OP_SCALE ? 2 : 1); k++)
    param_shape (&params[k], nd, in.c, in.h, in.w, 0);
  return true;
}

static bool
shape_pad (NnNode  *node,
           NnShape  in,
           NnError *err)
{
  const NnPadAttrs *a = &node->attrs.pad;
  if (!padding_in_range (a->pad_t, a->pad_l, a->pad_b, a->pad_r) || !isfinite (a->value))
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': padding out of range", node->name);
  node->shape = (NnShape) { in.c, in.h + a->pad_t + a->pad_b, in.w + a->pad_l + a->pad_r };
  return check_dims (node->name, node->shape, err);
}

/* The input and reshape nodes carry their shape in the spec. */
static bool
shape_given (NnNode  *node,
             NnShape  in,
             NnError *err)
{
  if (!check_dims (node->name, node->shape, err))
    return false;
  if (node->op == NN_OP_RESHAPE && nn_shape_size (node->shape) != nn_shape_size (in))
    return nn_error_set (err, NN_ERROR_SPEC,
                         "node '%s': cannot reshape %dx%dx%d into %dx%dx%d", node->name, in.c,
                         in.h, in.w, node->shape.c, node->shape.h, node->shape.w);
  return true;
}

static bool
shape_same (NnNode  *node,
            NnShape  in)
{
  node->shape = in;
  return true;
}

static bool
shape_vector (NnNode  *node,
              int      length,
              NnError *err)
{
  node->shape = (NnShape) { length, 1, 1 };
  return check_dims (node->name, node->shape, err);
}

bool
nn_op_shape (const NnGraph *graph,
             NnNode        *node,
             NnParamShape  *params,
             NnError       *err)
{
  NnShape in = node->n_inputs > 0 ? graph->nodes[node->inputs[0]].shape : (NnShape) { 0, 0, 0 };
  for (int k = 0; k < NN_MAX_NODE_PARAMS; k++)
    params[k].ndim = 0;
  switch (node->op)
    {
    case NN_OP_INPUT:
    case NN_OP_RESHAPE:
      return shape_given (node, in, err);
    case NN_OP_CONV2D:
      return shape_conv (node, in, params, err);
    case NN_OP_LINEAR:
      return shape_linear (node, in, params, err);
    case NN_OP_BATCHNORM:
    case NN_OP_INSTANCENORM:
      return shape_norm (node, in, params, err);
    case NN_OP_ACTIVATION:
      return shape_activation (node, in, err);
    case NN_OP_MAXPOOL:
    case NN_OP_AVGPOOL:
      return shape_pool (node, in, err);
    case NN_OP_GLOBAL_AVGPOOL:
      return shape_vector (node, in.c, err);
    case NN_OP_ADD:
    case NN_OP_MUL:
      return shape_binary (graph, node, in, err);
    case NN_OP_CONCAT:
      return shape_concat (graph, node, in, err);
    case NN_OP_FLATTEN:
      return shape_vector (node, (int) nn_shape_size (in), err);
    case NN_OP_SOFTMAX:
      return shape_same (node, in);
    case NN_OP_DROPOUT:
      return shape_dropout (node, in, err);
    case NN_OP_SCALE:
    case NN_OP_PRELU:
      return shape_channelwise (node, in, params);
    case NN_OP_PAD:
      return shape_pad (node, in, err);
    case NN_OP_COUNT_:
    default:
      break;
    }
  return nn_error_set (err, NN_ERROR_SPEC, "node '%s': unknown op", node->name);
}
