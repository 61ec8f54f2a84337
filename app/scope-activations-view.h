/* SPDX-License-Identifier: MIT */
/* The Activations view: the forward pass's output of the selected layer for the current input
 * (ScopeActivationsFigure), or what is missing (a model, an image, the pass itself) on its
 * status page. */
#pragma once

#include "scope-view.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_ACTIVATIONS_VIEW (scope_activations_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopeActivationsView, scope_activations_view, SCOPE, ACTIVATIONS_VIEW,
                      ScopeView)

G_END_DECLS
