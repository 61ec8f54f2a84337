/* SPDX-License-Identifier: MIT */
/* ScopeFigureView: the drawing, hit testing and widget set-up that the figure views share; the
 * subclasses only say what the figure is. */
#include "scope-figure-view.h"

G_DEFINE_ABSTRACT_TYPE (ScopeFigureView, scope_figure_view, SCOPE_TYPE_CHANNEL_VIEW)

static gboolean
make_figure (ScopeFigureView *self,
             VizLayerFigure  *fig)
{
  return SCOPE_FIGURE_VIEW_GET_CLASS (self)->make_figure (self, fig);
}

static void
scope_figure_view_snapshot (GtkWidget   *widget,
                            GtkSnapshot *snapshot)
{
  ScopeFigureView *self = SCOPE_FIGURE_VIEW (widget);
  double width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  VizLayerFigure fig;
  if (width <= 0 || height <= 0 || !make_figure (self, &fig))
    return;
  VizStyle style;
  scope_channel_view_screen_style (SCOPE_CHANNEL_VIEW (self), &style);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  viz_layer_figure_draw (cr, &fig, &style, width, height);
  cairo_destroy (cr);
}

static void
on_pressed (GtkGestureClick *gesture,
            int              n_press,
            double           x,
            double           y,
            ScopeFigureView *self)
{
  (void) n_press;
  VizLayerFigure fig;
  if (!make_figure (self, &fig))
    return;
  VizStyle style;
  scope_channel_view_screen_style (SCOPE_CHANNEL_VIEW (self), &style);
  int k = viz_layer_figure_hit (&fig, &style, gtk_widget_get_width (GTK_WIDGET (self)),
                                gtk_widget_get_height (GTK_WIDGET (self)), x, y);
  if (k >= 0)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
      scope_channel_view_set_channel (SCOPE_CHANNEL_VIEW (self), k);
    }
}

static void
scope_figure_view_class_init (ScopeFigureViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  widget_class->snapshot = scope_figure_view_snapshot;
}

static void
scope_figure_view_init (ScopeFigureView *self)
{
  gtk_widget_set_size_request (GTK_WIDGET (self), 320, 240);

  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
}
