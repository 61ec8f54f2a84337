/* SPDX-License-Identifier: MIT */
/* ScopeChannelView: the abstract widget under every view that shows one layer with a selected
 * channel (Activations, Filters, PFNet module). It holds the "channel" property, redraws when
 * the channel or the theme changes, and gives the on-screen drawing style. */
#pragma once

#include <gtk/gtk.h>

#include "viz.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_CHANNEL_VIEW (scope_channel_view_get_type ())

G_DECLARE_DERIVABLE_TYPE (ScopeChannelView, scope_channel_view, SCOPE, CHANNEL_VIEW, GtkWidget)

struct _ScopeChannelViewClass
{
  GtkWidgetClass parent_class;

  /* The channel changed (before the redraw is queued and "channel" is notified); optional. */
  void (*channel_changed) (ScopeChannelView *self);
};

/* The selected channel, -1 for none (the "channel" property). */
void scope_channel_view_set_channel (ScopeChannelView *self,
                                     int               channel);
int  scope_channel_view_get_channel (ScopeChannelView *self);
/* The on-screen style: transparent background, the theme's text colour. */
void scope_channel_view_screen_style (ScopeChannelView *self,
                                      VizStyle         *style);

G_END_DECLS
