/* SPDX-License-Identifier: MIT */
/* Fine-tuning: the model-level edits (input size, classifier, frozen layers) over the graph
 * copies of nn-graph-edit.c. */
#include "train/nn-finetune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
nn_finetune_resize_input (NnModel *model,
                          int      h,
                          int      w,
                          NnError *err)
{
  NN_ASSERT (model != NULL && model->graph != NULL);
  NnGraph *graph = nn_graph_with_input (model->graph, nn_model_input_channels (model), h, w,
                                        err);
  if (graph == NULL)
    return false;
  nn_graph_free (model->graph);
  model->graph = graph;
  return true;
}

int
nn_finetune_classifier (const NnGraph *graph)
{
  NN_ASSERT (graph != NULL);
  for (int i = graph->n_nodes - 1; i > 0; i--)
    if (graph->nodes[i].op == NN_OP_LINEAR || graph->nodes[i].op == NN_OP_DENSE)
      return i;
  return -1;
}

/* n labels "0" .. "n - 1"; NULL when out of memory. */
static char **
labels_new (int n)
{
  char **labels = calloc ((size_t) n, sizeof (char *));
  for (int k = 0; labels != NULL && k < n; k++)
    {
      labels[k] = malloc (16);
      if (labels[k] == NULL)
        {
          for (int j = 0; j < k; j++)
            free (labels[j]);
          free (labels);
          return NULL;
        }
      snprintf (labels[k], 16, "%d", k);
    }
  return labels;
}

bool
nn_finetune_new_head (NnModel  *model,
                      int       n_classes,
                      uint64_t  seed,
                      NnError  *err)
{
  NN_ASSERT (model != NULL && model->graph != NULL);
  if (n_classes < 1)
    return nn_error_set (err, NN_ERROR_SPEC, "a new classifier needs at least one class, not %d",
                         n_classes);
  int head = nn_finetune_classifier (model->graph);
  if (head < 0)
    return nn_error_set (err, NN_ERROR_SPEC, "the model has no linear layer to replace");
  NnRng rng;
  nn_rng_init (&rng, seed);
  NnGraph *graph = nn_graph_with_outputs (model->graph, head, n_classes, &rng, err);
  if (graph == NULL)
    return false;
  int outputs = (int) nn_shape_size (graph->nodes[nn_graph_output (graph)].shape);
  char **labels = labels_new (outputs);
  if (labels == NULL)
    {
      nn_graph_free (graph);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
    }
  for (int k = 0; k < model->n_classes; k++)
    free (model->labels[k]);
  free (model->labels);
  nn_graph_free (model->graph);
  model->graph = graph;
  model->labels = labels;
  model->n_classes = outputs;
  model->test_accuracy = -1.0;
  return true;
}

/* Whether node `name` lies in module `layer`: its name is layer, or layer then '.' and more. */
static bool
in_module (const char *name,
           const char *layer)
{
  size_t n = strlen (layer);
  return strncmp (name, layer, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

bool
nn_finetune_has_layer (const NnGraph *graph,
                       const char    *layer)
{
  NN_ASSERT (graph != NULL && layer != NULL);
  for (int i = 0; i < graph->n_nodes; i++)
    if (in_module (graph->nodes[i].name, layer))
      return true;
  return false;
}

int
nn_finetune_freeze (NnGraph    *graph,
                    const char *layer,
                    NnError    *err)
{
  NN_ASSERT (graph != NULL && layer != NULL);
  unsigned char *mark = calloc ((size_t) graph->n_nodes, 1);
  if (mark == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), -1;
  int exact = nn_graph_find (graph, layer);
  bool any = false;
  for (int i = 0; i < graph->n_nodes; i++)
    if (exact >= 0 ? i == exact : in_module (graph->nodes[i].name, layer))
      {
        mark[i] = 1;
        any = true;
      }
  if (!any)
    {
      free (mark);
      return nn_error_set (err, NN_ERROR_SPEC, "no layer is named '%s', nor has a name that "
                           "starts with '%s.'", layer, layer), -1;
    }
  /* Nodes come in topological order: each marked node marks its inputs before they are seen. */
  for (int i = graph->n_nodes - 1; i >= 0; i--)
    if (mark[i])
      for (int k = 0; k < graph->nodes[i].n_inputs; k++)
        mark[graph->nodes[i].inputs[k]] = 1;
  size_t left = 0;
  for (int p = 0; p < graph->n_params; p++)
    {
      const NnParam *prm = &graph->params[p];
      if (prm->trainable && !mark[prm->node])
        left += prm->count;
    }
  if (left == 0)
    {
      free (mark);
      return nn_error_set (err, NN_ERROR_SPEC, "freezing up to '%s' would leave nothing to "
                           "train", layer), -1;
    }
  int frozen = 0;
  for (int i = 0; i < graph->n_nodes; i++)
    if (mark[i] && nn_graph_node_param_count (graph, i) > 0)
      {
        nn_graph_set_trainable (graph, i, false);
        frozen++;
      }
  free (mark);
  return frozen;
}
