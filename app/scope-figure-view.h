/* SPDX-License-Identifier: MIT */
/* ScopeFigureView: the abstract widget under the Activations and Filters views. It draws the
 * subclass's ScopeFigure in the theme's colours and turns a click on a tile into the selected
 * channel. */
#pragma once

#include "scope-channel-view.h"
#include "scope-figure.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_FIGURE_VIEW (scope_figure_view_get_type ())

G_DECLARE_DERIVABLE_TYPE (ScopeFigureView, scope_figure_view, SCOPE, FIGURE_VIEW,
                          ScopeChannelView)

struct _ScopeFigureViewClass
{
  ScopeChannelViewClass parent_class;

  /* Fills fig from the current state, or returns FALSE when there is nothing to show. The
   * strings fig points to are returned in caption, title and note (NULL when unused) and are
   * freed by the caller. */
  gboolean (*make_figure) (ScopeFigureView  *self,
                           ScopeFigure      *fig,
                           char            **caption,
                           char            **title,
                           char            **note);
};

G_END_DECLS
