/* SPDX-License-Identifier: MIT */
/* Two graphs side by side: whether they are the same network (nodes, wiring, shapes,
 * parameter tensors) and how far a node's parameters moved from one to the other. */
#include "graph/nn-graph.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The node in words for an error message: "'conv1' (conv2d 32x26x26, 3x3 s1 p0)". */
static void
describe (const NnNode *node,
          char         *buf,
          size_t        size)
{
  NnNodeDescription d;
  nn_node_describe (node, &d);
  snprintf (buf, size, "'%s' (%s %s%s%s)", node->name, d.op, d.shape, d.attrs[0] ? ", " : "",
            d.attrs);
}

bool
nn_graph_check_same (const NnGraph *a,
                     const NnGraph *b,
                     NnError       *err)
{
  NN_ASSERT (a != NULL && b != NULL);
  char da[256], db[256];
  const int n = a->n_nodes < b->n_nodes ? a->n_nodes : b->n_nodes;
  for (int i = 0; i < n; i++)
    {
      const NnNode *x = &a->nodes[i], *y = &b->nodes[i];
      bool inputs = x->n_inputs == y->n_inputs;
      for (int k = 0; inputs && k < x->n_inputs; k++)
        inputs = x->inputs[k] == y->inputs[k];
      bool params = x->n_params == y->n_params;
      for (int k = 0; params && k < x->n_params; k++)
        {
          const NnParam *p = &a->params[x->params[k]], *q = &b->params[y->params[k]];
          params = p->role == q->role && p->count == q->count && p->ndim == q->ndim;
          for (int j = 0; params && j < p->ndim; j++)
            params = p->dims[j] == q->dims[j];
        }
      describe (x, da, sizeof da);
      describe (y, db, sizeof db);
      if (strcmp (da, db) != 0 || !inputs || !params)
        return nn_error_set (err, NN_ERROR_SPEC, "the graphs differ at node %d: %s in the "
                             "first, %s%s in the second", i, da, db,
                             strcmp (da, db) != 0 ? "" : !inputs ? " with other inputs"
                             : " with other parameter tensors");
    }
  if (a->n_nodes != b->n_nodes)
    {
      const NnGraph *longer = a->n_nodes > b->n_nodes ? a : b;
      describe (&longer->nodes[n], da, sizeof da);
      return nn_error_set (err, NN_ERROR_SPEC, "the graphs differ in length: %d nodes in the "
                           "first, %d in the second, which goes on with node %d %s",
                           a->n_nodes, b->n_nodes, n, da);
    }
  return true;
}

double
nn_graph_node_param_distance (const NnGraph *a,
                              const NnGraph *b,
                              int            node)
{
  NN_ASSERT (a != NULL && b != NULL && node >= 0 && node < a->n_nodes && node < b->n_nodes);
  const NnNode *x = &a->nodes[node], *y = &b->nodes[node];
  NN_ASSERT (x->n_params == y->n_params);
  double diff = 0.0, norm = 0.0;
  int used = 0;
  for (int k = 0; k < x->n_params; k++)
    {
      const NnParam *p = &a->params[x->params[k]], *q = &b->params[y->params[k]];
      NN_ASSERT (p->count == q->count);
      if (p->role != NN_PARAM_WEIGHT && p->role != NN_PARAM_BIAS)
        continue;
      const float *u = a->data + p->offset, *v = b->data + q->offset;
      for (size_t i = 0; i < p->count; i++)
        {
          double d = (double) u[i] - (double) v[i];
          diff += d * d;
          norm += (double) u[i] * (double) u[i];
        }
      used++;
    }
  if (used == 0)
    return (double) NAN;
  if (norm == 0.0)
    return diff == 0.0 ? 0.0 : (double) INFINITY;
  return sqrt (diff / norm);
}
