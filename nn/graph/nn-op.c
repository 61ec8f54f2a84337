/* SPDX-License-Identifier: MIT */
/* The op table (graph/nn-op.h), the names of ops and parameter roles, and a node in words
 * (nn_node_describe). */
#include "graph/nn-op.h"

#include <stdio.h>
#include <string.h>

#define PARAM(role, init)    { NN_PARAM_##role, init, true, false }
#define PARAM_HE(role)       { NN_PARAM_##role, 0.0f, true, true }
#define BUFFER(role, init)   { NN_PARAM_##role, init, false, false }

#define AT(field)            offsetof (NnNode, field)
#define ATTR(key, type, f)   { key, NN_ATTR_##type, 1, { AT (f) }, false }
#define ATTR2(key, a, b)     { key, NN_ATTR_INTS, 2, { AT (a), AT (b) }, false }
#define ATTR3(key, a, b, c)  { key, NN_ATTR_INTS, 3, { AT (a), AT (b), AT (c) }, false }
#define ATTR4(key, s)        { key, NN_ATTR_INTS, 4, { AT (s.pad_t), AT (s.pad_l), AT (s.pad_b), \
                                                       AT (s.pad_r) }, false }
#define ATTR_ACT_PARAM(key, f) { key, NN_ATTR_FLOAT, 1, { AT (f) }, true }

#define ATTR_SHAPE           ATTR3 ("shape", shape.c, shape.h, shape.w)
#define ATTRS_WINDOW(s)      ATTR2 ("kernel", s.kh, s.kw), ATTR2 ("stride", s.sh, s.sw), \
                             ATTR4 ("padding", s)
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

bool
nn_attr_present (const NnNode *node,
                 const NnAttr *attr)
{
  return !attr->act_params || nn_act_has_params (node->attrs.act.kind);
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
  snprintf (desc->shape, sizeof desc->shape, "%dx%dx%d", node->shape.c, node->shape.h,
            node->shape.w);
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
    case NN_OP_COUNT_:
      break;
    }
}
