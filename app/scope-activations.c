/* SPDX-License-Identifier: MIT */
/* ScopeActivations: one float block holding every node's output back to back. */
#include "scope-activations.h"

#include <math.h>
#include <string.h>

struct _ScopeActivations
{
  ScopeModel *model;
  char       *input_name;
  int         n_nodes;
  gsize      *offsets;      /* n_nodes + 1: node i is data[offsets[i] .. offsets[i + 1]) */
  float      *lo, *hi;      /* n_nodes value ranges */
  int         top_class;
  float       top_probability;
  float      *data;
};

G_DEFINE_BOXED_TYPE (ScopeActivations, scope_activations, scope_activations_ref,
                     scope_activations_unref)

static void
find_range (const float *v,
            gsize        n,
            float       *lo,
            float       *hi)
{
  float a = INFINITY, b = -INFINITY;
  for (gsize i = 0; i < n; i++)
    if (isfinite (v[i]))
      {
        a = v[i] < a ? v[i] : a;
        b = v[i] > b ? v[i] : b;
      }
  *lo = a <= b ? a : 0.0f;
  *hi = a <= b ? b : 0.0f;
}

static void
find_top_class (ScopeActivations *self,
                const NnGraph    *graph)
{
  int out = nn_graph_output (graph);
  NnShape s = graph->nodes[out].shape;
  int n = scope_model_get_nn_model (self->model)->n_classes;
  self->top_class = -1;
  if (n <= 0 || s.c != n || s.h != 1 || s.w != 1)
    return;
  const float *logits = self->data + self->offsets[out];
  g_autofree float *probs = g_new (float, n);
  if (graph->nodes[out].op == NN_OP_SOFTMAX)
    memcpy (probs, logits, (gsize) n * sizeof (float));
  else
    nn_softmax_forward (probs, logits, 1, n);
  int best = 0;
  for (int k = 1; k < n; k++)
    if (probs[k] > probs[best])
      best = k;
  self->top_class = best;
  self->top_probability = probs[best];
}

ScopeActivations *
scope_activations_new_from_context (ScopeModel *model,
                                    const char *input_name,
                                    NnContext  *ctx)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (ctx != NULL, NULL);
  g_return_val_if_fail (nn_context_get_batch (ctx) == 1, NULL);

  const NnGraph *graph = scope_model_get_graph (model);
  gsize total = 0;
  for (int i = 0; i < graph->n_nodes; i++)
    total += nn_shape_size (graph->nodes[i].shape);
  float *data = g_try_new (float, total > 0 ? total : 1);
  if (data == NULL)
    return NULL;

  ScopeActivations *self = g_atomic_rc_box_new0 (ScopeActivations);
  self->model = scope_model_ref (model);
  self->input_name = g_strdup (input_name != NULL ? input_name : "");
  self->n_nodes = graph->n_nodes;
  self->offsets = g_new (gsize, graph->n_nodes + 1);
  self->lo = g_new (float, graph->n_nodes);
  self->hi = g_new (float, graph->n_nodes);
  self->data = data;
  gsize offset = 0;
  for (int i = 0; i < graph->n_nodes; i++)
    {
      gsize n = nn_shape_size (graph->nodes[i].shape);
      self->offsets[i] = offset;
      memcpy (data + offset, nn_context_output (ctx, i), n * sizeof (float));
      find_range (data + offset, n, &self->lo[i], &self->hi[i]);
      offset += n;
    }
  self->offsets[graph->n_nodes] = offset;
  find_top_class (self, graph);
  return self;
}

ScopeActivations *
scope_activations_ref (ScopeActivations *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_atomic_rc_box_acquire (self);
}

static void
scope_activations_clear (gpointer data)
{
  ScopeActivations *self = data;

  scope_model_unref (self->model);
  g_free (self->input_name);
  g_free (self->offsets);
  g_free (self->lo);
  g_free (self->hi);
  g_free (self->data);
}

void
scope_activations_unref (ScopeActivations *self)
{
  if (self != NULL)
    g_atomic_rc_box_release_full (self, scope_activations_clear);
}

ScopeModel *
scope_activations_get_model (const ScopeActivations *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->model;
}

const char *
scope_activations_get_input_name (const ScopeActivations *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->input_name;
}

int
scope_activations_get_n_nodes (const ScopeActivations *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_nodes;
}

const float *
scope_activations_get_output (const ScopeActivations *self,
                              int                     node,
                              NnShape                *shape)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (node >= 0 && node < self->n_nodes, NULL);

  if (shape != NULL)
    *shape = scope_model_get_graph (self->model)->nodes[node].shape;
  return self->data + self->offsets[node];
}

void
scope_activations_get_range (const ScopeActivations *self,
                             int                     node,
                             float                  *lo,
                             float                  *hi)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (node >= 0 && node < self->n_nodes);

  *lo = self->lo[node];
  *hi = self->hi[node];
}

int
scope_activations_get_top_class (const ScopeActivations *self,
                                 float                  *probability)
{
  g_return_val_if_fail (self != NULL, -1);

  if (probability != NULL)
    *probability = self->top_class >= 0 ? self->top_probability : 0.0f;
  return self->top_class;
}
