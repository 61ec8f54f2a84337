/* SPDX-License-Identifier: MIT */
/* Names of ops, activations and gradient policies: the text form used in model files and on
 * the command line. */
#include "graph/nn-graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[NN_OP_COUNT_] = {
  [NN_OP_INPUT] = "input",
  [NN_OP_CONV2D] = "conv2d",
  [NN_OP_LINEAR] = "linear",
  [NN_OP_BATCHNORM] = "batchnorm",
  [NN_OP_INSTANCENORM] = "instancenorm",
  [NN_OP_ACTIVATION] = "activation",
  [NN_OP_MAXPOOL] = "maxpool",
  [NN_OP_AVGPOOL] = "avgpool",
  [NN_OP_GLOBAL_AVGPOOL] = "global_avgpool",
  [NN_OP_ADD] = "add",
  [NN_OP_MUL] = "mul",
  [NN_OP_CONCAT] = "concat",
  [NN_OP_FLATTEN] = "flatten",
  [NN_OP_SOFTMAX] = "softmax",
  [NN_OP_DROPOUT] = "dropout",
  [NN_OP_SCALE] = "scale",
  [NN_OP_PRELU] = "prelu",
  [NN_OP_PAD] = "pad",
  [NN_OP_RESHAPE] = "reshape",
};

static const char *const act_names[NN_ACT_COUNT_] = {
  [NN_ACT_RELU] = "relu",
  [NN_ACT_SIGMOID] = "sigmoid",
  [NN_ACT_TANH] = "tanh",
  [NN_ACT_CLIP] = "clip",
  [NN_ACT_HARDSIGMOID] = "hardsigmoid",
  [NN_ACT_HARDSWISH] = "hardswish",
};

static const char *const grad_names[NN_GRAD_COUNT_] = {
  [NN_GRAD_EXACT] = "exact",
  [NN_GRAD_PROXY] = "proxygrad",
  [NN_GRAD_SUGAR_BSILU] = "sugar:bsilu",
  [NN_GRAD_SUGAR_NELU] = "sugar:nelu",
  [NN_GRAD_IDENTITY] = "identity",
  [NN_GRAD_REDIRECTED] = "redirected",
  [NN_GRAD_GUIDED] = "guided",
  [NN_GRAD_PROXY_FULL] = "proxygrad-full",
};

const char *
nn_op_name (NnOp op)
{
  NN_ASSERT (op >= 0 && op < NN_OP_COUNT_);
  return op_names[op];
}

bool
nn_op_from_name (const char *name,
                 NnOp       *op)
{
  for (int i = 0; i < NN_OP_COUNT_; i++)
    if (strcmp (name, op_names[i]) == 0)
      {
        *op = (NnOp) i;
        return true;
      }
  return false;
}

const char *
nn_act_name (NnActKind kind)
{
  NN_ASSERT (kind >= 0 && kind < NN_ACT_COUNT_);
  return act_names[kind];
}

bool
nn_act_from_name (const char *name,
                  NnActKind  *kind)
{
  for (int i = 0; i < NN_ACT_COUNT_; i++)
    if (strcmp (name, act_names[i]) == 0)
      {
        *kind = (NnActKind) i;
        return true;
      }
  return false;
}

const char *
nn_grad_kind_name (NnGradKind kind)
{
  NN_ASSERT (kind >= 0 && kind < NN_GRAD_COUNT_);
  return grad_names[kind];
}

bool
nn_grad_policy_parse (const char   *text,
                      NnGradPolicy *policy,
                      NnError      *err)
{
  policy->beta = 0.0f;
  static const struct
  {
    const char *prefix;
    NnGradKind  kind;
  } proxies[] = { { "proxygrad-full", NN_GRAD_PROXY_FULL }, { "proxygrad", NN_GRAD_PROXY } };
  for (size_t k = 0; k < sizeof proxies / sizeof proxies[0]; k++)
    {
      size_t len = strlen (proxies[k].prefix);
      if (strncmp (text, proxies[k].prefix, len) != 0 || (text[len] != ':' && text[len] != '\0'))
        continue;
      policy->kind = proxies[k].kind;
      policy->beta = 0.3f;
      if (text[len] == '\0')
        return true;
      char *end = NULL;
      double beta = strtod (text + len + 1, &end);
      if (end == text + len + 1 || *end != '\0' || !(beta >= 0.0 && beta <= 10.0))
        return nn_error_set (err, NN_ERROR_SPEC,
                             "gradient policy '%s': the slope must be a number in [0, 10]", text);
      policy->beta = (float) beta;
      return true;
    }
  for (int i = 0; i < NN_GRAD_COUNT_; i++)
    if (strcmp (text, grad_names[i]) == 0)
      {
        policy->kind = (NnGradKind) i;
        if (policy->kind == NN_GRAD_SUGAR_NELU)
          policy->beta = 0.01f;
        return true;
      }
  return nn_error_set (err, NN_ERROR_SPEC,
                       "unknown gradient policy '%s' (expected exact, proxygrad:B, "
                       "proxygrad-full:B, sugar:bsilu, sugar:nelu, identity, redirected or "
                       "guided)", text);
}

void
nn_grad_policy_format (const NnGradPolicy *policy,
                       char               *buf,
                       size_t              size)
{
  if (policy->kind == NN_GRAD_PROXY || policy->kind == NN_GRAD_PROXY_FULL)
    snprintf (buf, size, "%s:%g", nn_grad_kind_name (policy->kind), (double) policy->beta);
  else
    snprintf (buf, size, "%s", nn_grad_kind_name (policy->kind));
}
