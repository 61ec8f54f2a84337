/* SPDX-License-Identifier: MIT */
/* ScopeActivationsFigure: the drawing of the Activations view, every channel of the selected
 * layer for the current input as a tile grid on one scale with a colour bar and the selected
 * channel large beside it. A thin widget over an immutable ScopeActivations; clicking a tile
 * selects its channel. */
#pragma once

#include <gtk/gtk.h>

#include "scope-activations.h"
#include "scope-figure-view.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_ACTIVATIONS_FIGURE (scope_activations_figure_get_type ())

G_DECLARE_FINAL_TYPE (ScopeActivationsFigure, scope_activations_figure, SCOPE,
                      ACTIVATIONS_FIGURE, ScopeFigureView)

/* Shows activations (NULL: nothing); the figure keeps a reference. */
void     scope_activations_figure_set_activations (ScopeActivationsFigure *self,
                                                   ScopeActivations       *activations);
/* The node of the graph whose output is shown. */
void     scope_activations_figure_set_layer (ScopeActivationsFigure *self,
                                             int                     node);
/* "auto" (diverging map for signed values, else sequential), "sequential" or "diverging". */
void     scope_activations_figure_set_colormap (ScopeActivationsFigure *self,
                                                const char             *colormap);
/* Writes what the figure shows, with its caption, as PNG, SVG or PDF (by extension). */
gboolean scope_activations_figure_export (ScopeActivationsFigure  *self,
                                          const char              *path,
                                          GError                 **error);

G_END_DECLS
