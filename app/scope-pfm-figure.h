/* SPDX-License-Identifier: MIT */
/* ScopePfmFigure: the drawing of a PFNet module in the Filters view: its fixed filter bank, the
 * learned 1x1 weights as a matrix on the diverging map, and the filtered channels that drive
 * the selected output channel most. A thin widget over an immutable ScopeModel; a click on a
 * matrix row selects that output channel. */
#pragma once

#include "scope-figure-view.h"
#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_PFM_FIGURE (scope_pfm_figure_get_type ())

G_DECLARE_FINAL_TYPE (ScopePfmFigure, scope_pfm_figure, SCOPE, PFM_FIGURE, ScopeFigureView)

/* Shows the module of node (its predefined or 1x1 conv) of model; returns whether node belongs
 * to a module (otherwise the figure shows nothing). The figure keeps a reference to model. */
gboolean scope_pfm_figure_set_layer (ScopePfmFigure *self,
                                     ScopeModel     *model,
                                     int             node);
/* Writes what the figure shows, with its caption, as PNG, SVG or PDF (by extension). */
gboolean scope_pfm_figure_export (ScopePfmFigure  *self,
                                  const char      *path,
                                  GError         **error);

G_END_DECLS
