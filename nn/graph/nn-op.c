/* SPDX-License-Identifier: MIT */
/* What an op is (graph/nn-op.h): the op table, the names of ops and parameter roles, each op's
 * shape rule, and a node in words (nn_node_describe). */
#include "graph/nn-op.h"

#include "ops/nn-broadcast.h"
#include "ops/nn-reduce.h"
#include "ops/nn-transpose.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PARAM(role, init)    { NN_PARAM_##role, init, true, false }
#define PARAM_HE(role)       { NN_PARAM_##role, 0.0f, true, true }
#define BUFFER(role, init)   { NN_PARAM_##role, init, false, false }

#define AT(field)            offsetof (NnNode, field)
#define ATTR(key, type, f)   { key, NN_ATTR_##type, 1, { AT (f) }, false }
#define ATTR2(key, a, b)     { key, NN_ATTR_INTS, 2, { AT (a), AT (b) }, false }
#define ATTR4(key, s)        { key, NN_ATTR_INTS, 4, { AT (s.pad_t), AT (s.pad_l), AT (s.pad_b), \
                                                       AT (s.pad_r) }, false }
#define ATTR_ACT_PARAM(key, f) { key, NN_ATTR_FLOAT, 1, { AT (f) }, true }

#define ATTR_SHAPE           { "shape", NN_ATTR_SHAPE, 1, { AT (shape) }, false }
#define ATTRS_WINDOW(s)      ATTR2 ("kernel", s.kh, s.kw), ATTR2 ("stride", s.sh, s.sw), \
                             ATTR4 ("padding", s)
#define ATTRS_REDUCE         ATTR ("axes", INT, attrs.reduce.axes), \
                             ATTR ("keepdims", BOOL, attrs.reduce.keepdims)
#define ATTRS_NORM           ATTR ("eps", FLOAT, attrs.norm.eps), \
                             ATTR ("momentum", FLOAT, attrs.norm.momentum), \
                             ATTR ("affine", BOOL, attrs.norm.affine)

static const NnOpInfo op_table[] = {
  [NN_OP_INPUT] = {
    .name = "input", .n_inputs = 0,
    .attrs = { ATTR_SHAPE },
    .split = NN_OP_SPLIT_NONE,
  },
  [NN_OP_CONV2D] = {
    .name = "conv2d", .n_inputs = 1,
    .n_params = 2, .params = { PARAM_HE (WEIGHT), PARAM (BIAS, 0.0f) },
    .attrs = {
      ATTR ("out_channels", INT, attrs.conv.out_channels), ATTRS_WINDOW (attrs.conv),
      ATTR2 ("dilation", attrs.conv.dh, attrs.conv.dw), ATTR ("groups", INT, attrs.conv.groups),
      ATTR ("bias", BOOL, attrs.conv.bias),
    },
    .split = NN_OP_SPLIT_BATCH, .sample_split = true, .scratch = NN_OP_SCRATCH_CONV,
    .backward = true,
  },
  [NN_OP_LINEAR] = {
    .name = "linear", .n_inputs = 1,
    .n_params = 2, .params = { PARAM_HE (WEIGHT), PARAM (BIAS, 0.0f) },
    .attrs = {
      ATTR ("out_features", INT, attrs.linear.out_features),
      ATTR ("bias", BOOL, attrs.linear.bias),
    },
    .split = NN_OP_SPLIT_WEIGHTS, .backward = true,
  },
  [NN_OP_BATCHNORM] = {
    .name = "batchnorm", .n_inputs = 1,
    .n_params = 4, .params = {
      PARAM (WEIGHT, 1.0f), PARAM (BIAS, 0.0f), BUFFER (RUNNING_MEAN, 0.0f),
      BUFFER (RUNNING_VAR, 1.0f),
    },
    .attrs = { ATTRS_NORM },
    .split = NN_OP_SPLIT_BATCH, .coupling = NN_OP_COUPLING_STATS, .sample_split = true,
    .buffer = NN_OP_BUFFER_STATS, .backward = true,
  },
  [NN_OP_INSTANCENORM] = {
    .name = "instancenorm", .n_inputs = 1,
    .n_params = 2, .params = { PARAM (WEIGHT, 1.0f), PARAM (BIAS, 0.0f) },
    .attrs = { ATTRS_NORM },
    .split = NN_OP_SPLIT_BATCH, .buffer = NN_OP_BUFFER_SAMPLE_STATS, .backward = true,
  },
  [NN_OP_ACTIVATION] = {
    .name = "activation", .n_inputs = 1,
    .attrs = {
      ATTR ("kind", ACT, attrs.act.kind), ATTR ("slope", FLOAT, attrs.act.slope),
      ATTR_ACT_PARAM ("alpha", attrs.act.alpha), ATTR_ACT_PARAM ("beta", attrs.act.beta),
      ATTR ("policy", POLICY, attrs.act.policy),
    },
    .split = NN_OP_SPLIT_BATCH, .sample_split = true, .backward = true,
  },
  [NN_OP_MAXPOOL] = {
    .name = "maxpool", .n_inputs = 1,
    .attrs = {
      ATTRS_WINDOW (attrs.pool),
      ATTR ("count_include_pad", BOOL, attrs.pool.count_include_pad),
    },
    .split = NN_OP_SPLIT_BATCH, .sample_split = true, .buffer = NN_OP_BUFFER_ARGMAX,
    .backward = true,
  },
  [NN_OP_AVGPOOL] = {
    .name = "avgpool", .n_inputs = 1,
    .attrs = {
      ATTRS_WINDOW (attrs.pool),
      ATTR ("count_include_pad", BOOL, attrs.pool.count_include_pad),
    },
    .split = NN_OP_SPLIT_BATCH, .sample_split = true, .backward = true,
  },
  [NN_OP_GLOBAL_AVGPOOL] = {
    .name = "global_avgpool", .n_inputs = 1,
    .split = NN_OP_SPLIT_BATCH, .sample_split = true, .backward = true,
  },
  [NN_OP_ADD] = {
    .name = "add", .n_inputs = 2,
    .split = NN_OP_SPLIT_BATCH, .sample_split = true, .backward = true,
  },
  [NN_OP_MUL] = {
    .name = "mul", .n_inputs = 2,
    .split = NN_OP_SPLIT_BATCH, .sample_split = true, .backward = true,
  },
  [NN_OP_CONCAT] = {
    .name = "concat", .n_inputs = NN_OP_INPUTS_ANY,
    .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_FLATTEN] = {
    .name = "flatten", .n_inputs = 1,
    .split = NN_OP_SPLIT_BATCH, .sample_split = true, .backward = true,
  },
  [NN_OP_SOFTMAX] = {
    .name = "softmax", .n_inputs = 1,
    .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_DROPOUT] = {
    .name = "dropout", .n_inputs = 1,
    .attrs = { ATTR ("p", FLOAT, attrs.dropout.p) },
    .split = NN_OP_SPLIT_BATCH, .coupling = NN_OP_COUPLING_RNG, .sample_split = true,
    .buffer = NN_OP_BUFFER_MASK, .backward = true,
  },
  [NN_OP_SCALE] = {
    .name = "scale", .n_inputs = 1,
    .n_params = 2, .params = { PARAM (WEIGHT, 1.0f), PARAM (BIAS, 0.0f) },
    .attrs = { ATTR ("per_element", BOOL, attrs.channel.per_element) },
    .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_PRELU] = {
    .name = "prelu", .n_inputs = 1,
    .n_params = 1, .params = { PARAM (WEIGHT, 0.25f) },
    .attrs = { ATTR ("per_element", BOOL, attrs.channel.per_element) },
    .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_PAD] = {
    .name = "pad", .n_inputs = 1,
    .attrs = { ATTR4 ("padding", attrs.pad), ATTR ("value", FLOAT, attrs.pad.value) },
    .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_RESHAPE] = {
    .name = "reshape", .n_inputs = 1,
    .attrs = { ATTR_SHAPE },
    .split = NN_OP_SPLIT_BATCH, .sample_split = true, .backward = true,
  },
  [NN_OP_BROADCAST_ADD] = {
    .name = "broadcast_add", .n_inputs = 2, .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_BROADCAST_SUB] = {
    .name = "broadcast_sub", .n_inputs = 2, .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_BROADCAST_MUL] = {
    .name = "broadcast_mul", .n_inputs = 2, .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_BROADCAST_DIV] = {
    .name = "broadcast_div", .n_inputs = 2, .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_REDUCE_SUM] = {
    .name = "reduce_sum", .n_inputs = 1, .attrs = { ATTRS_REDUCE },
    .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_REDUCE_MEAN] = {
    .name = "reduce_mean", .n_inputs = 1, .attrs = { ATTRS_REDUCE },
    .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_TRANSPOSE] = {
    .name = "transpose", .n_inputs = 1,
    .attrs = { { "perm", NN_ATTR_LIST, 1, { AT (attrs.transpose.perm), AT (attrs.transpose.rank) },
                 false } },
    .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_SLICE] = {
    .name = "slice", .n_inputs = 1,
    .attrs = {
      ATTR ("axis", INT, attrs.slice.axis), ATTR ("start", INT, attrs.slice.start),
      ATTR ("size", INT, attrs.slice.size),
    },
    .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_DENSE] = {
    .name = "dense", .n_inputs = 1,
    .n_params = 2, .params = { PARAM_HE (WEIGHT), PARAM (BIAS, 0.0f) },
    .attrs = {
      ATTR ("out_features", INT, attrs.linear.out_features),
      ATTR ("bias", BOOL, attrs.linear.bias),
    },
    .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_MATMUL] = {
    .name = "matmul", .n_inputs = 2, .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_SOFTMAX_AXIS] = {
    .name = "softmax_axis", .n_inputs = 1, .attrs = { ATTR ("axis", INT, attrs.axis.axis) },
    .split = NN_OP_SPLIT_BATCH, .backward = true,
  },
  [NN_OP_REDUCE_MAX] = {
    .name = "reduce_max", .n_inputs = 1, .attrs = { ATTRS_REDUCE },
    .split = NN_OP_SPLIT_BATCH, .buffer = NN_OP_BUFFER_ARGMAX, .backward = true,
  },
};
_Static_assert (sizeof op_table / sizeof op_table[0] == NN_OP_COUNT_,
                "op_table needs one row per NnOp");

static const char *const role_names[] = {
  [NN_PARAM_WEIGHT] = "weight",
  [NN_PARAM_BIAS] = "bias",
  [NN_PARAM_RUNNING_MEAN] = "running_mean",
  [NN_PARAM_RUNNING_VAR] = "running_var",
};
_Static_assert (sizeof role_names / sizeof role_names[0] == NN_PARAM_ROLE_COUNT_,
                "role_names needs one name per NnParamRole");

const NnOpInfo *
nn_op_info (NnOp op)
{
  NN_ASSERT (op >= 0 && op < NN_OP_COUNT_);
  return &op_table[op];
}

const char *
nn_op_name (NnOp op)
{
  return nn_op_info (op)->name;
}

bool
nn_op_from_name (const char *name,
                 NnOp       *op)
{
  for (int i = 0; i < NN_OP_COUNT_; i++)
    if (strcmp (name, op_table[i].name) == 0)
      {
        *op = (NnOp) i;
        return true;
      }
  return false;
}

const char *
nn_param_role_name (NnParamRole role)
{
  NN_ASSERT (role >= 0 && role < NN_PARAM_ROLE_COUNT_);
  return role_names[role];
}

size_t
nn_attr_value_size (const NnAttr *attr)
{
  switch (attr->type)
    {
    case NN_ATTR_INT:
    case NN_ATTR_INTS:
      return sizeof (int);
    case NN_ATTR_FLOAT:
      return sizeof (float);
    case NN_ATTR_BOOL:
      return sizeof (bool);
    case NN_ATTR_ACT:
      return sizeof (NnActKind);
    case NN_ATTR_POLICY:
      return sizeof (NnGradPolicy);
    case NN_ATTR_SHAPE:
      return sizeof (NnShape);
    case NN_ATTR_LIST:
      return sizeof (int) * NN_MAX_RANK;
    }
  return 0;
}

bool
nn_attr_present (const NnNode *node,
                 const NnAttr *attr)
{
  return !attr->act_params || nn_act_has_params (node->attrs.act.kind);
}

/* Shapes. */

_Static_assert (NN_BROADCAST_MAX_RANK == NN_MAX_RANK, "broadcasting covers every rank");
_Static_assert (NN_REDUCE_MAX_RANK == NN_MAX_RANK, "reductions cover every rank");
_Static_assert (NN_TRANSPOSE_MAX_RANK == NN_MAX_RANK, "transposes cover every rank");

NnShape
nn_shape_of (int        rank,
             const int *dims)
{
  NN_ASSERT (rank >= 1 && rank <= NN_MAX_RANK);
  NnShape s = { .rank = rank };
  int w = 1;
  for (int d = 0; d < rank; d++)
    {
      s.dims[d] = dims[d];
      if (d >= 2)
        w *= dims[d];
    }
  s.c = dims[0];
  s.h = rank > 1 ? dims[1] : 1;
  s.w = w;
  return s;
}

bool
nn_shape_equal (NnShape a,
                NnShape b)
{
  if (a.rank != b.rank)
    return false;
  for (int d = 0; d < a.rank; d++)
    if (a.dims[d] != b.dims[d])
      return false;
  return true;
}

void
nn_shape_format (NnShape shape,
                 char   *buf,
                 size_t  size)
{
  NN_ASSERT (size > 0);
  buf[0] = '\0';
  size_t len = 0;
  for (int d = 0; d < shape.rank && len < size; d++)
    {
      int n = snprintf (buf + len, size - len, d > 0 ? "x%d" : "%d", shape.dims[d]);
      if (n < 0)
        break;
      len += (size_t) n;
    }
}

/* Shape rules. */

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
  node->shape = nn_shape_chw (a->out_channels,
                              window_out (in.h, a->kh, a->sh, a->pad_t, a->pad_b, a->dh),
                              window_out (in.w, a->kw, a->sw, a->pad_l, a->pad_r, a->dw));
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
  node->shape = nn_shape_chw (a->out_features, 1, 1);
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
  node->shape = nn_shape_chw (in.c, window_out (in.h, a->kh, a->sh, a->pad_t, a->pad_b, 1),
                              window_out (in.w, a->kw, a->sw, a->pad_l, a->pad_r, 1));
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

/* Two inputs whose per-sample shapes broadcast (NumPy rules): the output has the larger rank
 * and, per dim, the larger size. */
static bool
shape_broadcast (const NnGraph *graph,
                 NnNode        *node,
                 NnShape        in,
                 NnError       *err)
{
  if (node->n_inputs != 2)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': needs two inputs", node->name);
  NnShape b = graph->nodes[node->inputs[1]].shape;
  NnBroadcastGeom g;
  if (!nn_broadcast_geom (&g, in.rank, in.dims, b.rank, b.dims))
    {
      char sa[64], sb[64];
      nn_shape_format (in, sa, sizeof sa);
      nn_shape_format (b, sb, sizeof sb);
      return nn_error_set (err, NN_ERROR_SPEC, "node '%s': shapes %s and %s do not broadcast",
                           node->name, sa, sb);
    }
  node->shape = nn_shape_of (g.rank, g.dims);
  return check_dims (node->name, node->shape, err);
}

/* A reduction over the axes of the mask: those dims become 1 or are dropped. */
static bool
shape_reduce (NnNode  *node,
              NnShape  in,
              NnError *err)
{
  const NnReduceAttrs *a = &node->attrs.reduce;
  NnReduceGeom g;
  if (!nn_reduce_geom (&g, in.rank, in.dims, a->axes))
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': axes mask %d out of range for rank %d",
                         node->name, a->axes, in.rank);
  int dims[NN_MAX_RANK], rank = 0;
  for (int d = 0; d < in.rank; d++)
    if (!(a->axes & (1 << d)))
      dims[rank++] = in.dims[d];
    else if (a->keepdims)
      dims[rank++] = 1;
  if (rank == 0)
    dims[rank++] = 1;
  node->shape = nn_shape_of (rank, dims);
  return check_dims (node->name, node->shape, err);
}

static bool
shape_transpose (NnNode  *node,
                 NnShape  in,
                 NnError *err)
{
  const NnTransposeAttrs *a = &node->attrs.transpose;
  NnTransposeGeom g;
  if (a->rank != in.rank || !nn_transpose_geom (&g, in.rank, in.dims, a->perm))
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': perm is not a permutation of the "
                         "input's %d axes", node->name, in.rank);
  node->shape = nn_shape_of (g.rank, g.dims);
  return true;
}

static bool
shape_slice (NnNode  *node,
             NnShape  in,
             NnError *err)
{
  const NnSliceAttrs *a = &node->attrs.slice;
  if (a->axis < 0 || a->axis >= in.rank || a->start < 0 || a->size < 1
      || a->start > in.dims[a->axis] - a->size)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': slice %d+%d of axis %d out of range",
                         node->name, a->start, a->size, a->axis);
  int dims[NN_MAX_RANK];
  for (int d = 0; d < in.rank; d++)
    dims[d] = d == a->axis ? a->size : in.dims[d];
  node->shape = nn_shape_of (in.rank, dims);
  return true;
}

static bool
shape_dense (NnNode       *node,
             NnShape       in,
             NnParamShape *params,
             NnError      *err)
{
  const NnLinearAttrs *a = &node->attrs.linear;
  const int fin = in.dims[in.rank - 1];
  if (a->out_features <= 0 || a->out_features > NN_DIM_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': %d output features out of range",
                         node->name, a->out_features);
  int dims[NN_MAX_RANK];
  for (int d = 0; d < in.rank; d++)
    dims[d] = d == in.rank - 1 ? a->out_features : in.dims[d];
  node->shape = nn_shape_of (in.rank, dims);
  param_shape (&params[0], 2, a->out_features, fin, 0, 0);
  if (a->bias)
    param_shape (&params[1], 1, a->out_features, 0, 0, 0);
  return check_dims (node->name, node->shape, err);
}

static bool
shape_matmul (const NnGraph *graph,
              NnNode        *node,
              NnShape        a,
              NnError       *err)
{
  const NnShape b = graph->nodes[node->inputs[1]].shape;
  bool ok = a.rank >= 2 && a.rank == b.rank && a.dims[a.rank - 1] == b.dims[b.rank - 2];
  for (int d = 0; ok && d < a.rank - 2; d++)
    ok = a.dims[d] == b.dims[d];
  if (!ok)
    {
      char as[64], bs[64];
      nn_shape_format (a, as, sizeof as);
      nn_shape_format (b, bs, sizeof bs);
      return nn_error_set (err, NN_ERROR_SPEC, "node '%s': matmul of %s and %s: the shapes do "
                           "not fit", node->name, as, bs);
    }
  int dims[NN_MAX_RANK];
  for (int d = 0; d < a.rank; d++)
    dims[d] = d == a.rank - 1 ? b.dims[d] : a.dims[d];
  node->shape = nn_shape_of (a.rank, dims);
  return check_dims (node->name, node->shape, err);
}

static bool
shape_softmax_axis (NnNode  *node,
                    NnShape  in,
                    NnError *err)
{
  if (node->attrs.axis.axis < 0 || node->attrs.axis.axis >= in.rank)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': softmax axis %d out of range",
                         node->name, node->attrs.axis.axis);
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
  node->shape = nn_shape_chw (c, in.h, in.w);
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
  node->shape = nn_shape_chw (in.c, in.h + a->pad_t + a->pad_b, in.w + a->pad_l + a->pad_r);
  return check_dims (node->name, node->shape, err);
}

/* The input and reshape nodes carry their shape in the spec: its dims, or (c, h, w) when its
 * rank is 0. */
static bool
shape_given (NnNode  *node,
             NnShape  in,
             NnError *err)
{
  NnShape *s = &node->shape;
  if (s->rank == 0)
    *s = nn_shape_chw (s->c, s->h, s->w);
  if (s->rank < 1 || s->rank > NN_MAX_RANK)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': rank %d out of range (1 to %d)",
                         node->name, s->rank, NN_MAX_RANK);
  size_t size = 1;
  for (int d = 0; d < s->rank; d++)
    {
      if (s->dims[d] <= 0 || s->dims[d] > NN_DIM_MAX)
        return nn_error_set (err, NN_ERROR_SPEC, "node '%s': dimension %d of %d out of range",
                             node->name, d, s->rank);
      size *= (size_t) s->dims[d];
      if (size > NN_GRAPH_ELEMS_MAX / 64)
        return nn_error_set (err, NN_ERROR_SPEC, "node '%s': output shape is too large",
                             node->name);
    }
  *s = nn_shape_of (s->rank, s->dims);
  if (!check_dims (node->name, *s, err))
    return false;
  if (node->op == NN_OP_RESHAPE && nn_shape_size (*s) != nn_shape_size (in))
    {
      char from[64], to[64];
      nn_shape_format (in, from, sizeof from);
      nn_shape_format (*s, to, sizeof to);
      return nn_error_set (err, NN_ERROR_SPEC, "node '%s': cannot reshape %s into %s",
                           node->name, from, to);
    }
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
  node->shape = nn_shape_chw (length, 1, 1);
  return check_dims (node->name, node->shape, err);
}

bool
nn_op_shape (const NnGraph *graph,
             NnNode        *node,
             NnParamShape  *params,
             NnError       *err)
{
  NnShape in = node->n_inputs > 0 ? graph->nodes[node->inputs[0]].shape : nn_shape_chw (0, 0, 0);
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
    case NN_OP_BROADCAST_ADD:
    case NN_OP_BROADCAST_SUB:
    case NN_OP_BROADCAST_MUL:
    case NN_OP_BROADCAST_DIV:
      return shape_broadcast (graph, node, in, err);
    case NN_OP_REDUCE_SUM:
    case NN_OP_REDUCE_MEAN:
    case NN_OP_REDUCE_MAX:
      return shape_reduce (node, in, err);
    case NN_OP_TRANSPOSE:
      return shape_transpose (node, in, err);
    case NN_OP_SLICE:
      return shape_slice (node, in, err);
    case NN_OP_DENSE:
      return shape_dense (node, in, params, err);
    case NN_OP_MATMUL:
      return shape_matmul (graph, node, in, err);
    case NN_OP_SOFTMAX_AXIS:
      return shape_softmax_axis (node, in, err);
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

/* A node in words. */

static void
describe_conv (const NnConvAttrs *a,
               char              *buf,
               size_t             size)
{
  int n = snprintf (buf, size, "%dx%d s%d p%d", a->kh, a->kw, a->sh, a->pad_t);
  if (a->dh != 1 && n > 0 && (size_t) n < size)
    n += snprintf (buf + n, size - (size_t) n, " d%d", a->dh);
  if (a->groups != 1 && n > 0 && (size_t) n < size)
    snprintf (buf + n, size - (size_t) n, " g%d", a->groups);
}

static void
describe_activation (const NnActAttrs *a,
                     char             *buf,
                     size_t            size)
{
  char policy[48];
  nn_grad_policy_format (&a->policy, policy, sizeof policy);
  if (a->kind == NN_ACT_RELU && a->slope != 0.0f)
    snprintf (buf, size, "leaky %g, grad %s", (double) a->slope, policy);
  else if (a->kind == NN_ACT_RELU)
    snprintf (buf, size, "relu, grad %s", policy);
  else
    snprintf (buf, size, "%s", nn_act_name (a->kind));
}

static void
describe_pool (const NnPoolAttrs *a,
               char              *buf,
               size_t             size)
{
  snprintf (buf, size, "%dx%d s%d p%d", a->kh, a->kw, a->sh, a->pad_t);
}

static void
describe_dropout (const NnDropoutAttrs *a,
                  char                 *buf,
                  size_t                size)
{
  snprintf (buf, size, "p %g", (double) a->p);
}

void
nn_node_describe (const NnNode      *node,
                  NnNodeDescription *desc)
{
  desc->op = nn_op_name (node->op);
  nn_shape_format (node->shape, desc->shape, sizeof desc->shape);
  char *buf = desc->attrs;
  const size_t size = sizeof desc->attrs;
  buf[0] = '\0';
  switch (node->op)
    {
    case NN_OP_CONV2D:
      describe_conv (&node->attrs.conv, buf, size);
      break;
    case NN_OP_ACTIVATION:
      describe_activation (&node->attrs.act, buf, size);
      break;
    case NN_OP_MAXPOOL:
    case NN_OP_AVGPOOL:
      describe_pool (&node->attrs.pool, buf, size);
      break;
    case NN_OP_DROPOUT:
      describe_dropout (&node->attrs.dropout, buf, size);
      break;
    case NN_OP_INPUT:
    case NN_OP_LINEAR:
    case NN_OP_BATCHNORM:
    case NN_OP_INSTANCENORM:
    case NN_OP_GLOBAL_AVGPOOL:
    case NN_OP_ADD:
    case NN_OP_MUL:
    case NN_OP_CONCAT:
    case NN_OP_FLATTEN:
    case NN_OP_SOFTMAX:
    case NN_OP_SCALE:
    case NN_OP_PRELU:
    case NN_OP_PAD:
    case NN_OP_RESHAPE:
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
      break;
    }
}
