/* SPDX-License-Identifier: MIT */
/* Graph construction: validation, shape inference and the parameter arena. The nn_graph_add_*
 * builders are in nn-graph-build.c; op, activation and gradient policy names in
 * nn-graph-names.c. */
#include "graph/nn-graph.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds that keep every size computation far away from overflow. */
#define NN_DIM_MAX     (1 << 20)
#define NN_NODE_MAX    100000
#define NN_ELEMS_MAX   ((size_t) 1 << 31)

size_t
nn_shape_size (NnShape shape)
{
  return (size_t) shape.c * (size_t) shape.h * (size_t) shape.w;
}

NnGraph *
nn_graph_new (void)
{
  NnGraph *graph = calloc (1, sizeof *graph);
  NN_ASSERT (graph != NULL);
  return graph;
}

void
nn_graph_free (NnGraph *graph)
{
  if (graph == NULL)
    return;
  free (graph->nodes);
  free (graph->params);
  free (graph->data);
  free (graph);
}

NnGraph *
nn_graph_dup (const NnGraph *graph)
{
  NnGraph *copy = calloc (1, sizeof *copy);
  NN_ASSERT (copy != NULL);
  copy->n_nodes = copy->cap_nodes = graph->n_nodes;
  copy->n_params = copy->cap_params = graph->n_params;
  copy->n_data = copy->cap_data = graph->n_data;
  copy->nodes = malloc (sizeof (NnNode) * (size_t) (graph->n_nodes ? graph->n_nodes : 1));
  copy->params = malloc (sizeof (NnParam) * (size_t) (graph->n_params ? graph->n_params : 1));
  copy->data = malloc (sizeof (float) * (graph->n_data ? graph->n_data : 1));
  NN_ASSERT (copy->nodes && copy->params && copy->data);
  memcpy (copy->nodes, graph->nodes, sizeof (NnNode) * (size_t) graph->n_nodes);
  memcpy (copy->params, graph->params, sizeof (NnParam) * (size_t) graph->n_params);
  memcpy (copy->data, graph->data, sizeof (float) * graph->n_data);
  return copy;
}

void
nn_graph_copy_data (NnGraph       *dst,
                    const NnGraph *src)
{
  NN_ASSERT (dst->n_data == src->n_data && dst->n_params == src->n_params);
  memcpy (dst->data, src->data, sizeof (float) * src->n_data);
}

static bool
grow (void  **ptr,
      int    *cap,
      int     need,
      size_t  elem)
{
  if (need <= *cap)
    return true;
  int ncap = *cap ? *cap * 2 : 16;
  while (ncap < need)
    ncap *= 2;
  void *p = realloc (*ptr, elem * (size_t) ncap);
  if (p == NULL)
    return false;
  *ptr = p;
  *cap = ncap;
  return true;
}

static int
add_param (NnGraph    *graph,
           int         node,
           NnParamRole role,
           const char *suffix,
           int         ndim,
           const int  *dims,
           float       fill,
           bool        trainable,
           NnError    *err)
{
  size_t count = 1;
  for (int i = 0; i < ndim; i++)
    count *= (size_t) dims[i];
  if (count > NN_ELEMS_MAX || graph->n_data + count > NN_ELEMS_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': parameter too large",
                         graph->nodes[node].name), -1;
  if (!grow ((void **) &graph->params, &graph->cap_params, graph->n_params + 1, sizeof (NnParam)))
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), -1;
  if (graph->n_data + count > graph->cap_data)
    {
      size_t ncap = graph->cap_data ? graph->cap_data * 2 : 1024;
      while (ncap < graph->n_data + count)
        ncap *= 2;
      float *p = realloc (graph->data, sizeof (float) * ncap);
      if (p == NULL)
        return nn_error_set (err, NN_ERROR_NOMEM, "out of memory allocating parameters"), -1;
      graph->data = p;
      graph->cap_data = ncap;
    }
  NnParam *param = &graph->params[graph->n_params];
  memset (param, 0, sizeof *param);
  snprintf (param->name, sizeof param->name, "%s.%s", graph->nodes[node].name, suffix);
  param->node = node;
  param->role = role;
  param->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    param->dims[i] = dims[i];
  param->offset = graph->n_data;
  param->count = count;
  param->trainable = trainable;
  for (size_t i = 0; i < count; i++)
    graph->data[graph->n_data + i] = fill;
  graph->n_data += count;
  NnNode *n = &graph->nodes[node];
  n->params[n->n_params++] = graph->n_params;
  return graph->n_params++;
}

static int
pool_out (int in,
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
check_name (const NnGraph *graph,
            const NnNode  *spec,
            NnError       *err)
{
  size_t len = strnlen (spec->name, NN_NAME_MAX);
  if (len == 0 || len >= NN_NAME_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "node %d: missing or too long name", graph->n_nodes);
  if (nn_graph_find (graph, spec->name) >= 0)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': name used twice", spec->name);
  return true;
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
      || nn_shape_size (s) > NN_ELEMS_MAX / 64)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': output shape %dx%dx%d is too large",
                         name, s.c, s.h, s.w);
  return true;
}

static bool
check_window (const char *name,
              int kh, int kw, int sh, int sw,
              int pt, int pl, int pb, int pr,
              NnError *err)
{
  if (kh <= 0 || kw <= 0 || kh > 1024 || kw > 1024)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': kernel %dx%d out of range", name, kh, kw);
  if (sh <= 0 || sw <= 0 || sh > 1024 || sw > 1024)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': stride %dx%d out of range", name, sh, sw);
  if (pt < 0 || pl < 0 || pb < 0 || pr < 0 || pt > 1024 || pl > 1024 || pb > 1024 || pr > 1024)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': padding out of range", name);
  return true;
}

/* Fills node->shape and allocates parameters. The node is already appended. */
static bool
infer (NnGraph *graph,
       int      index,
       NnError *err)
{
  NnNode *node = &graph->nodes[index];
  const char *name = node->name;
  NnShape in = node->n_inputs > 0 ? graph->nodes[node->inputs[0]].shape : (NnShape) { 0, 0, 0 };
  int dims[4];

  switch (node->op)
    {
    case NN_OP_INPUT:
      if (!check_dims (name, node->shape, err))
        return false;
      return true;

    case NN_OP_CONV2D:
      {
        NnConvAttrs *a = &node->attrs.conv;
        if (!check_window (name, a->kh, a->kw, a->sh, a->sw,
                           a->pad_t, a->pad_l, a->pad_b, a->pad_r, err))
          return false;
        if (a->dh <= 0 || a->dw <= 0 || a->dh > 1024 || a->dw > 1024)
          return nn_error_set (err, NN_ERROR_SPEC, "node '%s': dilation out of range", name);
        if (a->groups <= 0 || in.c % a->groups != 0 || a->out_channels <= 0
            || a->out_channels % a->groups != 0 || a->out_channels > NN_DIM_MAX)
          return nn_error_set (err, NN_ERROR_SPEC,
                               "node '%s': %d groups do not divide %d input and %d output channels",
                               name, a->groups, in.c, a->out_channels);
        node->shape.c = a->out_channels;
        node->shape.h = pool_out (in.h, a->kh, a->sh, a->pad_t, a->pad_b, a->dh);
        node->shape.w = pool_out (in.w, a->kw, a->sw, a->pad_l, a->pad_r, a->dw);
        if (!check_dims (name, node->shape, err))
          return false;
        if ((size_t) (in.c / a->groups) * (size_t) a->kh * (size_t) a->kw > (size_t) NN_DIM_MAX)
          return nn_error_set (err, NN_ERROR_SPEC, "node '%s': kernel too large", name);
        dims[0] = a->out_channels;
        dims[1] = in.c / a->groups;
        dims[2] = a->kh;
        dims[3] = a->kw;
        if (add_param (graph, index, NN_PARAM_WEIGHT, "weight", 4, dims, 0.0f, true, err) < 0)
          return false;
        if (a->bias && add_param (graph, index, NN_PARAM_BIAS, "bias", 1, dims, 0.0f, true,
                                  err) < 0)
          return false;
        return true;
      }

    case NN_OP_LINEAR:
      {
        NnLinearAttrs *a = &node->attrs.linear;
        size_t fin = nn_shape_size (in);
        if (a->out_features <= 0 || a->out_features > NN_DIM_MAX || fin > (size_t) NN_DIM_MAX * 16)
          return nn_error_set (err, NN_ERROR_SPEC, "node '%s': %d output features out of range",
                               name, a->out_features);
        node->shape = (NnShape) { a->out_features, 1, 1 };
        dims[0] = a->out_features;
        dims[1] = (int) fin;
        if (add_param (graph, index, NN_PARAM_WEIGHT, "weight", 2, dims, 0.0f, true, err) < 0)
          return false;
        if (a->bias && add_param (graph, index, NN_PARAM_BIAS, "bias", 1, dims, 0.0f, true,
                                  err) < 0)
          return false;
        return true;
      }

    case NN_OP_BATCHNORM:
    case NN_OP_INSTANCENORM:
      {
        NnNormAttrs *a = &node->attrs.norm;
        if (!(a->eps > 0.0f && a->eps < 1.0f) || !(a->momentum >= 0.0f && a->momentum <= 1.0f))
          return nn_error_set (err, NN_ERROR_SPEC, "node '%s': eps or momentum out of range",
                               name);
        if (node->op == NN_OP_INSTANCENORM && in.h * in.w < 2)
          return nn_error_set (err, NN_ERROR_SPEC,
                               "node '%s': instance norm needs more than one pixel", name);
        node->shape = in;
        dims[0] = in.c;
        if (node->op == NN_OP_BATCHNORM)
          a->affine = true;
        if (a->affine)
          {
            if (add_param (graph, index, NN_PARAM_WEIGHT, "weight", 1, dims, 1.0f, true, err) < 0
                || add_param (graph, index, NN_PARAM_BIAS, "bias", 1, dims, 0.0f, true, err) < 0)
              return false;
          }
        if (node->op == NN_OP_BATCHNORM)
          {
            if (add_param (graph, index, NN_PARAM_RUNNING_MEAN, "running_mean", 1, dims, 0.0f,
                           false, err) < 0
                || add_param (graph, index, NN_PARAM_RUNNING_VAR, "running_var", 1, dims, 1.0f,
                              false, err) < 0)
              return false;
          }
        return true;
      }

    case NN_OP_ACTIVATION:
      {
        NnActAttrs *a = &node->attrs.act;
        if (a->kind < 0 || a->kind >= NN_ACT_COUNT_)
          return nn_error_set (err, NN_ERROR_SPEC, "node '%s': unknown activation", name);
        if (a->policy.kind < 0 || a->policy.kind >= NN_GRAD_COUNT_)
          return nn_error_set (err, NN_ERROR_SPEC, "node '%s': unknown gradient policy", name);
        if (a->policy.kind == NN_GRAD_PROXY_FULL)
          return nn_error_set (err, NN_ERROR_SPEC, "node '%s': proxygrad-full changes the "
                               "forward pass and is only a per-run policy, not a node's", name);
        if (!isfinite (a->slope) || !isfinite (a->policy.beta))
          return nn_error_set (err, NN_ERROR_SPEC, "node '%s': slope is not finite", name);
        if (!isfinite (a->alpha) || !isfinite (a->beta)
            || (a->kind == NN_ACT_CLIP && !(a->alpha <= a->beta)))
          return nn_error_set (err, NN_ERROR_SPEC,
                               "node '%s': activation parameters %g, %g out of range", name,
                               (double) a->alpha, (double) a->beta);
        node->shape = in;
        return true;
      }

    case NN_OP_MAXPOOL:
    case NN_OP_AVGPOOL:
      {
        NnPoolAttrs *a = &node->attrs.pool;
        if (!check_window (name, a->kh, a->kw, a->sh, a->sw,
                           a->pad_t, a->pad_l, a->pad_b, a->pad_r, err))
          return false;
        if (a->pad_t >= a->kh || a->pad_b >= a->kh || a->pad_l >= a->kw || a->pad_r >= a->kw)
          return nn_error_set (err, NN_ERROR_SPEC,
                               "node '%s': pooling padding must be smaller than the kernel", name);
        node->shape.c = in.c;
        node->shape.h = pool_out (in.h, a->kh, a->sh, a->pad_t, a->pad_b, 1);
        node->shape.w = pool_out (in.w, a->kw, a->sw, a->pad_l, a->pad_r, 1);
        return check_dims (name, node->shape, err);
      }

    case NN_OP_GLOBAL_AVGPOOL:
      node->shape = (NnShape) { in.c, 1, 1 };
      return true;

    case NN_OP_ADD:
    case NN_OP_MUL:
      {
        NnShape b = graph->nodes[node->inputs[1]].shape;
        if (node->n_inputs != 2)
          return nn_error_set (err, NN_ERROR_SPEC, "node '%s': needs two inputs", name);
        if (in.c != b.c || in.h != b.h || in.w != b.w)
          return nn_error_set (err, NN_ERROR_SPEC,
                               "node '%s': input shapes %dx%dx%d and %dx%dx%d differ",
                               name, in.c, in.h, in.w, b.c, b.h, b.w);
        node->shape = in;
        return true;
      }

    case NN_OP_CONCAT:
      {
        int c = 0;
        for (int i = 0; i < node->n_inputs; i++)
          {
            NnShape s = graph->nodes[node->inputs[i]].shape;
            if (s.h != in.h || s.w != in.w)
              return nn_error_set (err, NN_ERROR_SPEC,
                                   "node '%s': inputs differ in spatial size", name);
            c += s.c;
          }
        node->shape = (NnShape) { c, in.h, in.w };
        return check_dims (name, node->shape, err);
      }

    case NN_OP_FLATTEN:
      node->shape = (NnShape) { (int) nn_shape_size (in), 1, 1 };
      return check_dims (name, node->shape, err);

    case NN_OP_SOFTMAX:
      node->shape = in;
      return true;

    case NN_OP_DROPOUT:
      if (!(node->attrs.dropout.p >= 0.0f && node->attrs.dropout.p < 1.0f))
        return nn_error_set (err, NN_ERROR_SPEC, "node '%s': dropout p must be in [0, 1)", name);
      node->shape = in;
      return true;

    case NN_OP_SCALE:
    case NN_OP_PRELU:
      {
        const int nd = node->attrs.channel.per_element ? 3 : 1;
        node->shape = in;
        dims[0] = in.c;
        dims[1] = in.h;
        dims[2] = in.w;
        if (add_param (graph, index, NN_PARAM_WEIGHT, "weight", nd, dims,
                       node->op == NN_OP_SCALE ? 1.0f : 0.25f, true, err) < 0)
          return false;
        if (node->op == NN_OP_SCALE
            && add_param (graph, index, NN_PARAM_BIAS, "bias", nd, dims, 0.0f, true, err) < 0)
          return false;
        return true;
      }

    case NN_OP_PAD:
      {
        const NnPadAttrs *a = &node->attrs.pad;
        if (a->pad_t < 0 || a->pad_l < 0 || a->pad_b < 0 || a->pad_r < 0 || a->pad_t > 1024
            || a->pad_l > 1024 || a->pad_b > 1024 || a->pad_r > 1024 || !isfinite (a->value))
          return nn_error_set (err, NN_ERROR_SPEC, "node '%s': padding out of range", name);
        node->shape = (NnShape) { in.c, in.h + a->pad_t + a->pad_b, in.w + a->pad_l + a->pad_r };
        return check_dims (name, node->shape, err);
      }

    case NN_OP_RESHAPE:
      if (!check_dims (name, node->shape, err))
        return false;
      if (nn_shape_size (node->shape) != nn_shape_size (in))
        return nn_error_set (err, NN_ERROR_SPEC,
                             "node '%s': cannot reshape %dx%dx%d into %dx%dx%d", name, in.c,
                             in.h, in.w, node->shape.c, node->shape.h, node->shape.w);
      return true;

    case NN_OP_COUNT_:
    default:
      break;
    }
  return nn_error_set (err, NN_ERROR_SPEC, "node '%s': unknown op", name);
}

static int
expected_inputs (NnOp op)
{
  switch (op)
    {
    case NN_OP_INPUT:
      return 0;
    case NN_OP_ADD:
    case NN_OP_MUL:
      return 2;
    case NN_OP_CONCAT:
      return -1;
    case NN_OP_CONV2D:
    case NN_OP_LINEAR:
    case NN_OP_BATCHNORM:
    case NN_OP_INSTANCENORM:
    case NN_OP_ACTIVATION:
    case NN_OP_MAXPOOL:
    case NN_OP_AVGPOOL:
    case NN_OP_GLOBAL_AVGPOOL:
    case NN_OP_FLATTEN:
    case NN_OP_SOFTMAX:
    case NN_OP_DROPOUT:
    case NN_OP_SCALE:
    case NN_OP_PRELU:
    case NN_OP_PAD:
    case NN_OP_RESHAPE:
      return 1;
    case NN_OP_COUNT_:
    default:
      return -2;
    }
}

int
nn_graph_add (NnGraph      *graph,
              const NnNode *spec,
              NnError      *err)
{
  if (spec->op < 0 || spec->op >= NN_OP_COUNT_)
    return nn_error_set (err, NN_ERROR_SPEC, "node %d: unknown op", graph->n_nodes), -1;
  if (!check_name (graph, spec, err))
    return -1;
  if (graph->n_nodes >= NN_NODE_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "too many nodes"), -1;
  if ((spec->op == NN_OP_INPUT) != (graph->n_nodes == 0))
    return nn_error_set (err, NN_ERROR_SPEC,
                         "node '%s': the first node, and only it, must be the input",
                         spec->name), -1;
  int want = expected_inputs (spec->op);
  if ((want >= 0 && spec->n_inputs != want)
      || (want == -1 && (spec->n_inputs < 1 || spec->n_inputs > NN_MAX_INPUTS)))
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': %s takes %d inputs, got %d", spec->name,
                         nn_op_name (spec->op), want, spec->n_inputs), -1;
  for (int i = 0; i < spec->n_inputs; i++)
    if (spec->inputs[i] < 0 || spec->inputs[i] >= graph->n_nodes)
      return nn_error_set (err, NN_ERROR_SPEC,
                           "node '%s': input %d refers to a node that does not come before it",
                           spec->name, i), -1;
  if (!grow ((void **) &graph->nodes, &graph->cap_nodes, graph->n_nodes + 1, sizeof (NnNode)))
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), -1;

  int index = graph->n_nodes;
  int saved_params = graph->n_params;
  size_t saved_data = graph->n_data;
  NnNode *node = &graph->nodes[index];
  *node = *spec;
  node->name[NN_NAME_MAX - 1] = '\0';
  node->n_params = 0;
  graph->n_nodes++;
  if (!infer (graph, index, err))
    {
      graph->n_nodes--;
      graph->n_params = saved_params;
      graph->n_data = saved_data;
      return -1;
    }
  return index;
}

int
nn_graph_find (const NnGraph *graph,
               const char    *name)
{
  for (int i = 0; i < graph->n_nodes; i++)
    if (strcmp (graph->nodes[i].name, name) == 0)
      return i;
  return -1;
}

int
nn_graph_output (const NnGraph *graph)
{
  NN_ASSERT (graph->n_nodes > 0);
  return graph->n_nodes - 1;
}

float *
nn_graph_param_data (const NnGraph *graph,
                     int            index)
{
  NN_ASSERT (index >= 0 && index < graph->n_params);
  return graph->data + graph->params[index].offset;
}

int
nn_graph_node_param (const NnGraph *graph,
                     int            node,
                     NnParamRole    role)
{
  const NnNode *n = &graph->nodes[node];
  for (int i = 0; i < n->n_params; i++)
    if (graph->params[n->params[i]].role == role)
      return n->params[i];
  return -1;
}

size_t
nn_graph_count_trainable (const NnGraph *graph)
{
  size_t total = 0;
  for (int i = 0; i < graph->n_params; i++)
    if (graph->params[i].trainable)
      total += graph->params[i].count;
  return total;
}

size_t
nn_graph_node_param_count (const NnGraph *graph,
                           int            node)
{
  size_t total = 0;
  const NnNode *n = &graph->nodes[node];
  for (int i = 0; i < n->n_params; i++)
    {
      const NnParam *p = &graph->params[n->params[i]];
      if (p->role == NN_PARAM_WEIGHT || p->role == NN_PARAM_BIAS)
        total += p->count;
    }
  return total;
}

void
nn_graph_set_trainable (NnGraph *graph,
                        int      node,
                        bool     trainable)
{
  NnNode *n = &graph->nodes[node];
  for (int i = 0; i < n->n_params; i++)
    {
      NnParam *p = &graph->params[n->params[i]];
      if (p->role == NN_PARAM_WEIGHT || p->role == NN_PARAM_BIAS)
        p->trainable = trainable;
    }
}

void
nn_graph_set_policy (NnGraph            *graph,
                     const NnGradPolicy *policy)
{
  for (int i = 0; i < graph->n_nodes; i++)
    {
      NnNode *n = &graph->nodes[i];
      if (n->op == NN_OP_ACTIVATION && n->attrs.act.kind == NN_ACT_RELU)
        n->attrs.act.policy = *policy;
    }
}

void
nn_graph_init_params (NnGraph *graph,
                      NnRng   *rng)
{
  for (int i = 0; i < graph->n_params; i++)
    {
      NnParam *p = &graph->params[i];
      const NnNode *node = &graph->nodes[p->node];
      float *data = graph->data + p->offset;
      if (!p->trainable)
        continue;
      if (p->role == NN_PARAM_WEIGHT && (node->op == NN_OP_CONV2D || node->op == NN_OP_LINEAR))
        {
          size_t fan_in = p->count / (size_t) p->dims[0];
          float std = sqrtf (2.0f / (float) fan_in);
          for (size_t j = 0; j < p->count; j++)
            data[j] = std * nn_rng_normal (rng);
        }
      else if (p->role == NN_PARAM_WEIGHT && node->op == NN_OP_PRELU)
        for (size_t j = 0; j < p->count; j++)
          data[j] = 0.25f;
      else if (p->role == NN_PARAM_WEIGHT)
        for (size_t j = 0; j < p->count; j++)
          data[j] = 1.0f;
      else if (p->role == NN_PARAM_BIAS)
        for (size_t j = 0; j < p->count; j++)
          data[j] = 0.0f;
    }
}
