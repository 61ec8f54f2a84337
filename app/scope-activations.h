/* SPDX-License-Identifier: MIT */
/* The result of a forward job: a copy of every node's output for one input image, with each
 * node's value range and the predicted class. Immutable once made, atomically reference
 * counted, so the engine thread hands it to the main thread as a value. */
#pragma once

#include <glib-object.h>

#include "nn.h"
#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_ACTIVATIONS (scope_activations_get_type ())

typedef struct _ScopeActivations ScopeActivations;

GType             scope_activations_get_type (void);

/* Copies the outputs of every node of ctx (batch 1) after a forward pass of model's graph;
 * NULL when out of memory. Runs on the engine thread. */
ScopeActivations *scope_activations_new_from_context (ScopeModel *model,
                                                      const char *input_name,
                                                      NnContext  *ctx);
ScopeActivations *scope_activations_ref (ScopeActivations *self);
void              scope_activations_unref (ScopeActivations *self);

ScopeModel       *scope_activations_get_model (const ScopeActivations *self);
/* What the input was (the image's file name). */
const char       *scope_activations_get_input_name (const ScopeActivations *self);
int               scope_activations_get_n_nodes (const ScopeActivations *self);
/* Node's output (C, H, W); shape receives its size when not NULL. */
const float      *scope_activations_get_output (const ScopeActivations *self,
                                               int                     node,
                                               NnShape                *shape);
/* Smallest and largest finite value of node's output (0, 0 when there is none). */
void              scope_activations_get_range (const ScopeActivations *self,
                                              int                     node,
                                              float                  *lo,
                                              float                  *hi);
/* The most likely class of the network's output and its probability (softmax of the logits
 * unless the graph ends in a softmax); -1 when the output is not a vector of the model's
 * classes. */
int               scope_activations_get_top_class (const ScopeActivations *self,
                                                   float                  *probability);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScopeActivations, scope_activations_unref)

G_END_DECLS
