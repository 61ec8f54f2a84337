/* SPDX-License-Identifier: MIT */
/* The Activations view: every channel of the selected layer for the current input as a tile
 * grid on one scale with a colour bar, and the selected channel large beside it. A thin widget
 * over an immutable ScopeActivations; clicking a tile selects its channel. */
#pragma once

#include <gtk/gtk.h>

#include "scope-activations.h"
#include "scope-figure-view.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_ACTIVATIONS_VIEW (scope_activations_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopeActivationsView, scope_activations_view, SCOPE, ACTIVATIONS_VIEW,
                      ScopeFigureView)

GtkWidget        *scope_activations_view_new (void);

/* Shows activations (NULL: nothing); the view keeps a reference. */
void              scope_activations_view_set_activations (ScopeActivationsView *self,
                                                          ScopeActivations     *activations);
ScopeActivations *scope_activations_view_get_activations (ScopeActivationsView *self);
/* The node of the graph whose output is shown. */
void              scope_activations_view_set_layer (ScopeActivationsView *self,
                                                    int                   node);
int               scope_activations_view_get_layer (ScopeActivationsView *self);
/* "auto" (diverging map for signed values, else sequential), "sequential" or "diverging". */
void              scope_activations_view_set_colormap (ScopeActivationsView *self,
                                                       const char           *colormap);

/* Writes what the view shows, with its caption, as PNG, SVG or PDF (by extension). */
gboolean          scope_activations_view_export (ScopeActivationsView  *self,
                                                 const char            *path,
                                                 GError               **error);

G_END_DECLS
