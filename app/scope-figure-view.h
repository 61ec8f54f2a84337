/* SPDX-License-Identifier: MIT */
/* ScopeFigureView: the abstract widget under the Activations and Filters views. It draws the
 * subclass's VizLayerFigure in the theme's colours and turns a click on a tile into the selected
 * channel. */
#pragma once

#include "scope-channel-view.h"
#include "viz.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_FIGURE_VIEW (scope_figure_view_get_type ())

G_DECLARE_DERIVABLE_TYPE (ScopeFigureView, scope_figure_view, SCOPE, FIGURE_VIEW,
                          ScopeChannelView)

struct _ScopeFigureViewClass
{
  ScopeChannelViewClass parent_class;

  /* Fills fig from the current state (its numbers borrowed from the view until the next
   * change), or returns FALSE when there is nothing to show. */
  gboolean (*make_figure) (ScopeFigureView *self,
                           VizLayerFigure  *fig);
};

G_END_DECLS
