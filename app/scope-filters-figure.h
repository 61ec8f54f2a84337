/* SPDX-License-Identifier: MIT */
/* ScopeFiltersFigure: the drawing of the Filters view, the kernels of a conv layer, one tile per
 * output channel, summed over the input channels or of one input channel, on the diverging map
 * centred on 0 with a colour bar; the selected output channel's kernel large with its values. A
 * thin widget over the weights of an immutable ScopeModel; clicking a tile selects its output
 * channel. */
#pragma once

#include <gtk/gtk.h>

#include "scope-figure-view.h"
#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_FILTERS_FIGURE (scope_filters_figure_get_type ())

G_DECLARE_FINAL_TYPE (ScopeFiltersFigure, scope_filters_figure, SCOPE, FILTERS_FIGURE,
                      ScopeFigureView)

/* Shows the kernels of node of model (NULL model: nothing); the figure keeps a reference. A
 * node without filters (scope_model_node_has_filters) shows nothing. */
void     scope_filters_figure_set_layer (ScopeFiltersFigure *self,
                                         ScopeModel         *model,
                                         int                 node);
/* -1: each kernel summed over its input channels; k >= 0: the kernels of input channel k
 * (clamped to the layer's input channels per group). */
void     scope_filters_figure_set_input_channel (ScopeFiltersFigure *self,
                                                 int                 input_channel);
/* Input channels per group of the layer's kernels (0 without filters). */
int      scope_filters_figure_get_n_input_channels (ScopeFiltersFigure *self);
/* Writes what the figure shows, with its caption, as PNG, SVG or PDF (by extension). */
gboolean scope_filters_figure_export (ScopeFiltersFigure  *self,
                                      const char          *path,
                                      GError             **error);

G_END_DECLS
