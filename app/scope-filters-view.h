/* SPDX-License-Identifier: MIT */
/* The Filters view: the kernels of the selected conv layer (ScopeFiltersFigure), summed over the
 * input channels or of one of them (the "filter-mode" property and its "filters.mode" action),
 * or, for the 1x1 conv of a PFNet module, the whole module (ScopePfmFigure); a layer without
 * kernels says so on the status page. */
#pragma once

#include "scope-view.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_FILTERS_VIEW (scope_filters_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopeFiltersView, scope_filters_view, SCOPE, FILTERS_VIEW, ScopeView)

/* The input channel whose kernels are shown, -1 when they are summed. */
int scope_filters_view_get_input_channel (ScopeFiltersView *self);
/* Input channels per group of the layer's kernels (0 without filters). */
int scope_filters_view_get_n_input_channels (ScopeFiltersView *self);

G_END_DECLS
