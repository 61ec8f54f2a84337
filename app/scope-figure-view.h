/* SPDX-License-Identifier: MIT */
/* ScopeFigureView: the abstract thin widget under the figures of one layer (activations, filters,
 * a PFNet module): it draws the subclass's figure in the theme's colours, redraws when the
 * channel or the theme changes, and turns a click on a tile into the selected channel (the
 * "channel" property). By default the figure is a VizLayerFigure. */
#pragma once

#include <gtk/gtk.h>

#include "viz.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_FIGURE_VIEW (scope_figure_view_get_type ())

G_DECLARE_DERIVABLE_TYPE (ScopeFigureView, scope_figure_view, SCOPE, FIGURE_VIEW, GtkWidget)

struct _ScopeFigureViewClass
{
  GtkWidgetClass parent_class;

  /* Fills fig from the current state (its numbers borrowed from the view until the next
   * change), or returns FALSE when there is nothing to show. Used by the default draw and
   * hit. */
  gboolean (*make_figure) (ScopeFigureView *self,
                           VizLayerFigure  *fig);
  /* Draws the figure into (0, 0, width, height) in style. */
  void     (*draw)        (ScopeFigureView *self,
                           cairo_t         *cr,
                           const VizStyle  *style,
                           double           width,
                           double           height);
  /* The channel whose tile is at (x, y) in a figure of width x height, or -1. */
  int      (*hit)         (ScopeFigureView *self,
                           const VizStyle  *style,
                           double           width,
                           double           height,
                           double           x,
                           double           y);
};

/* The selected channel, -1 for none (the "channel" property); a change queues a draw. */
void scope_figure_view_set_channel (ScopeFigureView *self,
                                    int              channel);
int  scope_figure_view_get_channel (ScopeFigureView *self);

G_END_DECLS
