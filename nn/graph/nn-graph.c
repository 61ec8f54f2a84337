/* SPDX-License-Identifier: MIT */
/* Graph construction: validation, the parameter arena and the questions asked of a graph. The
 * op table and each op's shape rule are in nn-op.c, the nn_graph_add_* builders in
 * nn-graph-build.c. */
#include "graph/nn-graph.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/nn-op.h"
#include "graph/nn-packs.h"

#define NN_NODE_MAX 100000

NnGraph *
nn_graph_new (void)
{
  return calloc (1, sizeof (NnGraph));
}

void
nn_graph_free (NnGraph *graph)
{
  if (graph == NULL)
    return;
  nn_graph_packs_free (graph);
  free (graph->nodes);
  free (graph->params);
  free (graph->data);
  free (graph);
}

NnGraph *
nn_graph_dup (const NnGraph *graph)
{
  NnGraph *copy = calloc (1, sizeof *copy);
  if (copy == NULL)
    return NULL;
  copy->n_nodes = copy->cap_nodes = graph->n_nodes;
  copy->n_params = copy->cap_params = graph->n_params;
  copy->n_data = copy->cap_data = graph->n_data;
  copy->nodes = malloc (sizeof (NnNode) * (size_t) (graph->n_nodes ? graph->n_nodes : 1));
  copy->params = malloc (sizeof (NnParam) * (size_t) (graph->n_params ? graph->n_params : 1));
  copy->data = malloc (sizeof (float) * (graph->n_data ? graph->n_data : 1));
  if (copy->nodes == NULL || copy->params == NULL || copy->data == NULL)
    {
      nn_graph_free (copy);
      return NULL;
    }
  memcpy (copy->nodes, graph->nodes, sizeof (NnNode) * (size_t) graph->n_nodes);
  memcpy (copy->params, graph->params, sizeof (NnParam) * (size_t) graph->n_params);
  memcpy (copy->data, graph->data, sizeof (float) * graph->n_data);
  copy->version = graph->version;
  return copy;
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

static size_t
param_count (const NnParamShape *shape)
{
  size_t count = 1;
  for (int i = 0; i < shape->ndim; i++)
    count *= (size_t) shape->dims[i];
  return count;
}

/* Appends parameter `p` of the op table's row with the dims the shape rule gave, filled with
 * its initial value. */
static int
add_param (NnGraph            *graph,
           int                 node,
           const NnOpParam    *p,
           const NnParamShape *shape,
           NnError            *err)
{
  size_t count = param_count (shape);
  if (count > NN_GRAPH_ELEMS_MAX || graph->n_data + count > NN_GRAPH_ELEMS_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': parameter too large",
                         graph->nodes[node].name), -1;
  if (!grow ((void **) &graph->params, &graph->cap_params, graph->n_params + 1, sizeof (NnParam)))
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), -1;
  if (graph->n_data + count > graph->cap_data)
    {
      size_t ncap = graph->cap_data ? graph->cap_data * 2 : 1024;
      while (ncap < graph->n_data + count)
        ncap *= 2;
      float *data = realloc (graph->data, sizeof (float) * ncap);
      if (data == NULL)
        return nn_error_set (err, NN_ERROR_NOMEM, "out of memory allocating parameters"), -1;
      graph->data = data;
      graph->cap_data = ncap;
    }
  NnParam *param = &graph->params[graph->n_params];
  memset (param, 0, sizeof *param);
  snprintf (param->name, sizeof param->name, "%s.%s", graph->nodes[node].name,
            nn_param_role_name (p->role));
  param->node = node;
  param->role = p->role;
  param->ndim = shape->ndim;
  for (int i = 0; i < shape->ndim; i++)
    param->dims[i] = shape->dims[i];
  param->offset = graph->n_data;
  param->count = count;
  param->trainable = p->trainable;
  for (size_t i = 0; i < count; i++)
    graph->data[graph->n_data + i] = p->init;
  graph->n_data += count;
  nn_graph_bump_version (graph);
  NnNode *n = &graph->nodes[node];
  n->params[n->n_params++] = graph->n_params;
  return graph->n_params++;
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

/* What nn_graph_add checks before the op's shape rule: the op, the name, the place of the input
 * node, the number of inputs and that each comes before the node. */
static bool
check_spec (const NnGraph *graph,
            const NnNode  *spec,
            NnError       *err)
{
  if (spec->op < 0 || spec->op >= NN_OP_COUNT_)
    return nn_error_set (err, NN_ERROR_SPEC, "node %d: unknown op", graph->n_nodes);
  if (!check_name (graph, spec, err))
    return false;
  if (graph->n_nodes >= NN_NODE_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "too many nodes");
  if ((spec->op == NN_OP_INPUT) != (graph->n_nodes == 0))
    return nn_error_set (err, NN_ERROR_SPEC,
                         "node '%s': the first node, and only it, must be the input",
                         spec->name);
  const NnOpInfo *info = nn_op_info (spec->op);
  int want = info->n_inputs;
  if ((want >= 0 && spec->n_inputs != want)
      || (want == NN_OP_INPUTS_ANY && (spec->n_inputs < 1 || spec->n_inputs > NN_MAX_INPUTS)))
    return nn_error_set (err, NN_ERROR_SPEC, "node '%s': %s takes %d inputs, got %d", spec->name,
                         info->name, want, spec->n_inputs);
  for (int i = 0; i < spec->n_inputs; i++)
    if (spec->inputs[i] < 0 || spec->inputs[i] >= graph->n_nodes)
      return nn_error_set (err, NN_ERROR_SPEC,
                           "node '%s': input %d refers to a node that does not come before it",
                           spec->name, i);
  return true;
}

bool
nn_graph_spec_param_count (const NnGraph *graph,
                           const NnNode  *spec,
                           size_t        *count,
                           NnError       *err)
{
  *count = 0;
  if (!check_spec (graph, spec, err))
    return false;
  NnNode node = *spec;
  NnParamShape shapes[NN_MAX_NODE_PARAMS];
  node.name[NN_NAME_MAX - 1] = '\0';
  if (!nn_op_shape (graph, &node, shapes, err))
    return false;
  for (int k = 0; k < nn_op_info (node.op)->n_params; k++)
    if (shapes[k].ndim > 0)
      *count += param_count (&shapes[k]);
  return true;
}

/* The shape rule of the appended node `index`, then its parameters. */
static bool
shape_and_params (NnGraph *graph,
                  int      index,
                  NnError *err)
{
  NnParamShape shapes[NN_MAX_NODE_PARAMS];
  NnNode *node = &graph->nodes[index];
  if (!nn_op_shape (graph, node, shapes, err))
    return false;
  const NnOpInfo *info = nn_op_info (node->op);
  for (int k = 0; k < info->n_params; k++)
    if (shapes[k].ndim > 0 && add_param (graph, index, &info->params[k], &shapes[k], err) < 0)
      return false;
  return true;
}

int
nn_graph_add (NnGraph      *graph,
              const NnNode *spec,
              NnError      *err)
{
  if (!check_spec (graph, spec, err))
    return -1;
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
  if (!shape_and_params (graph, index, err))
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

void
nn_graph_bump_version (NnGraph *graph)
{
  NN_ASSERT (graph != NULL);
  graph->version++;
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

bool
nn_graph_node_trainable (const NnGraph *graph,
                         int            node)
{
  const NnNode *n = &graph->nodes[node];
  for (int i = 0; i < n->n_params; i++)
    if (graph->params[n->params[i]].trainable)
      return true;
  return false;
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

/* He normal for the parameters the op table marks so, the table's initial value for the
 * others; frozen parameters and buffers (running statistics, even when marked trainable) keep
 * their values. */
static void
init_param (NnGraph *graph,
            int      index,
            NnRng   *rng)
{
  NnParam *p = &graph->params[index];
  const NnNode *node = &graph->nodes[p->node];
  float *data = graph->data + p->offset;
  if (!p->trainable)
    return;
  const NnOpParam *row = NULL;
  const NnOpInfo *info = nn_op_info (node->op);
  for (int k = 0; k < info->n_params; k++)
    if (info->params[k].role == p->role)
      row = &info->params[k];
  NN_ASSERT (row != NULL);
  if (!row->trainable)
    return;
  if (row->he)
    {
      size_t fan_in = p->count / (size_t) p->dims[0];
      float std = sqrtf (2.0f / (float) fan_in);
      for (size_t j = 0; j < p->count; j++)
        data[j] = std * nn_rng_normal (rng);
    }
  else
    for (size_t j = 0; j < p->count; j++)
      data[j] = row->init;
}

void
nn_graph_init_params (NnGraph *graph,
                      NnRng   *rng)
{
  for (int i = 0; i < graph->n_params; i++)
    init_param (graph, i, rng);
}

void
nn_graph_init_node_params (NnGraph *graph,
                           int      node,
                           NnRng   *rng)
{
  NN_ASSERT (node >= 0 && node < graph->n_nodes);
  const NnNode *n = &graph->nodes[node];
  for (int k = 0; k < n->n_params; k++)
    init_param (graph, n->params[k], rng);
  nn_graph_bump_version (graph);
}
