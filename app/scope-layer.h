/* SPDX-License-Identifier: MIT */
/* One row of the sidebar's layer list: a node of the model as text (name, op, output shape,
 * parameter count) for the list view, its filter and its row template. */
#pragma once

#include <gio/gio.h>

#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_LAYER (scope_layer_get_type ())

G_DECLARE_FINAL_TYPE (ScopeLayer, scope_layer, SCOPE, LAYER, GObject)

/* The node's index in the model's graph. */
int         scope_layer_get_node (ScopeLayer *self);

/* Every node of model as a GListModel of ScopeLayer. */
GListModel *scope_layer_list_new (const ScopeModel *model);

G_END_DECLS
