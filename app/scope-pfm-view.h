/* SPDX-License-Identifier: MIT */
/* The Filters view of a PFNet module: its fixed filter bank, the learned 1x1 weights as a
 * matrix on the diverging map, and the filtered channels that drive the selected output
 * channel most. A thin widget over an immutable ScopeModel; a click on a matrix row selects
 * that output channel. */
#pragma once

#include "scope-channel-view.h"
#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_PFM_VIEW (scope_pfm_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopePfmView, scope_pfm_view, SCOPE, PFM_VIEW, ScopeChannelView)

GtkWidget *scope_pfm_view_new (void);

/* Shows the module of node (its predefined or 1x1 conv) of model; returns whether node belongs
 * to a module (otherwise the view shows nothing). The view keeps a reference to model. */
gboolean   scope_pfm_view_set_layer (ScopePfmView *self,
                                     ScopeModel   *model,
                                     int           node);
/* Writes what the view shows, with its caption, as PNG, SVG or PDF (by extension). */
gboolean   scope_pfm_view_export (ScopePfmView  *self,
                                  const char    *path,
                                  GError       **error);

G_END_DECLS
