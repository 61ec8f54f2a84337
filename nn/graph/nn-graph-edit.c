/* SPDX-License-Identifier: MIT */
/* Copies of a graph with one thing changed, for fine-tuning: another input size or another
 * number of outputs of a linear layer. Every node is added again through nn_graph_add, so its
 * shape rule decides whether it still fits. */
#include "graph/nn-graph.h"

#include <stdio.h>
#include <string.h>

#include "graph/nn-op.h"

/* The change: the input's per-sample shape, and node `head` (-1: none) given out_features. */
typedef struct
{
  NnShape input;
  int     head;
  int     out_features;
  NnRng  *rng;
} Edit;

/* Copies the values and trainable flags of node i's parameters from `from`, refusing a
 * parameter whose size changed. */
static bool
copy_params (NnGraph       *to,
             const NnGraph *from,
             int            i,
             const char    *change,
             NnError       *err)
{
  const NnNode *old = &from->nodes[i], *node = &to->nodes[i];
  NN_ASSERT (old->n_params == node->n_params);
  for (int k = 0; k < node->n_params; k++)
    {
      const NnParam *src = &from->params[old->params[k]];
      NnParam *dst = &to->params[node->params[k]];
      if (src->count != dst->count)
        return nn_error_set (err, NN_ERROR_SPEC, "layer '%s' (%s) cannot take %s: its %s would "
                             "hold %zu values instead of %zu (its parameters depend on the size "
                             "of its input; a network with a global pooling before its "
                             "classifier can change its input size)", node->name,
                             nn_op_name (node->op), change, dst->name, dst->count, src->count);
      memcpy (to->data + dst->offset, from->data + src->offset, sizeof (float) * src->count);
      dst->trainable = src->trainable;
    }
  return true;
}

static NnGraph *
rebuild (const NnGraph *graph,
         const Edit    *edit,
         const char    *change,
         NnError       *err)
{
  NnGraph *out = nn_graph_new ();
  if (out == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  for (int i = 0; i < graph->n_nodes; i++)
    {
      NnNode spec = graph->nodes[i];
      spec.n_params = 0;
      if (i == 0)
        spec.shape = edit->input;
      if (i == edit->head)
        spec.attrs.linear.out_features = edit->out_features;
      NnError add_err = { 0 };
      if (nn_graph_add (out, &spec, &add_err) != i)
        {
          if (add_err.code == NN_ERROR_NOMEM)
            nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
          else
            nn_error_set (err, NN_ERROR_SPEC, "layer '%s' (%s) cannot take %s: %s", spec.name,
                          nn_op_name (spec.op), change, add_err.message);
          nn_graph_free (out);
          return NULL;
        }
      if (i == edit->head)
        {
          nn_graph_set_trainable (out, i, true);
          nn_graph_init_node_params (out, i, edit->rng);
        }
      else if (!copy_params (out, graph, i, change, err))
        {
          nn_graph_free (out);
          return NULL;
        }
    }
  return out;
}

NnGraph *
nn_graph_with_input (const NnGraph *graph,
                     int            c,
                     int            h,
                     int            w,
                     NnError       *err)
{
  NN_ASSERT (graph != NULL && graph->n_nodes > 0);
  if (c < 1 || h < 1 || w < 1)
    return nn_error_set (err, NN_ERROR_SPEC, "input size %dx%dx%d is not valid", c, h, w),
           NULL;
  Edit edit = { .input = nn_shape_chw (c, h, w), .head = -1 };
  char change[64];
  snprintf (change, sizeof change, "an input of %dx%dx%d", c, h, w);
  return rebuild (graph, &edit, change, err);
}

NnGraph *
nn_graph_with_outputs (const NnGraph *graph,
                       int            node,
                       int            out_features,
                       NnRng         *rng,
                       NnError       *err)
{
  NN_ASSERT (graph != NULL && rng != NULL && node > 0 && node < graph->n_nodes);
  NN_ASSERT (graph->nodes[node].op == NN_OP_LINEAR || graph->nodes[node].op == NN_OP_DENSE);
  if (out_features < 1)
    return nn_error_set (err, NN_ERROR_SPEC, "a layer needs at least one output, not %d",
                         out_features), NULL;
  Edit edit = { .input = graph->nodes[0].shape, .head = node, .out_features = out_features,
                .rng = rng };
  char change[64];
  snprintf (change, sizeof change, "a classifier of %d outputs", out_features);
  return rebuild (graph, &edit, change, err);
}
