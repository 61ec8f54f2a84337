/* SPDX-License-Identifier: MIT */
/* ScopeFigureView: the drawing, hit testing, selected channel and theme handling the figure
 * widgets share; the subclasses only say what the figure is. */
#include "scope-figure-view.h"

#include <glib/gi18n.h>

#include "scope-accessible.h"
#include "scope-figure.h"

typedef struct
{
  int channel;
} ScopeFigureViewPrivate;

enum
{
  PROP_0,
  PROP_CHANNEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (ScopeFigureView, scope_figure_view, GTK_TYPE_WIDGET)

static void
default_draw (ScopeFigureView *self,
              cairo_t         *cr,
              const VizStyle  *style,
              double           width,
              double           height)
{
  VizLayerFigure fig;
  if (SCOPE_FIGURE_VIEW_GET_CLASS (self)->make_figure (self, &fig))
    {
      viz_layer_figure_draw (cr, &fig, style, width, height);
      /* Named for assistive technologies as the figure's caption and large tile name it. */
      g_autofree char *label = fig.panel_title[0] != '\0'
                               ? g_strdup_printf ("%s; %s", fig.caption, fig.panel_title)
                               : g_strdup (fig.caption);
      scope_accessible_set_label (GTK_WIDGET (self), label);
    }
}

static int
default_hit (ScopeFigureView *self,
             const VizStyle  *style,
             double           width,
             double           height,
             double           x,
             double           y)
{
  VizLayerFigure fig;
  if (!SCOPE_FIGURE_VIEW_GET_CLASS (self)->make_figure (self, &fig))
    return -1;
  return viz_layer_figure_hit (&fig, style, width, height, x, y);
}

static void
scope_figure_view_snapshot (GtkWidget   *widget,
                            GtkSnapshot *snapshot)
{
  ScopeFigureView *self = SCOPE_FIGURE_VIEW (widget);
  double width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  if (width <= 0 || height <= 0)
    return;
  VizStyle style;
  scope_figure_style_init_screen (&style, widget);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  SCOPE_FIGURE_VIEW_GET_CLASS (self)->draw (self, cr, &style, width, height);
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
  VizStyle style;
  scope_figure_style_init_screen (&style, GTK_WIDGET (self));
  int k = SCOPE_FIGURE_VIEW_GET_CLASS (self)->hit (self, &style,
                                                   gtk_widget_get_width (GTK_WIDGET (self)),
                                                   gtk_widget_get_height (GTK_WIDGET (self)),
                                                   x, y);
  if (k >= 0)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
      scope_figure_view_set_channel (self, k);
    }
}

static void
scope_figure_view_css_changed (GtkWidget         *widget,
                               GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (scope_figure_view_parent_class)->css_changed (widget, change);
  gtk_widget_queue_draw (widget);
}

static void
scope_figure_view_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  ScopeFigureView *self = SCOPE_FIGURE_VIEW (object);

  switch (prop_id)
    {
    case PROP_CHANNEL:
      g_value_set_int (value, scope_figure_view_get_channel (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_figure_view_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  ScopeFigureView *self = SCOPE_FIGURE_VIEW (object);

  switch (prop_id)
    {
    case PROP_CHANNEL:
      scope_figure_view_set_channel (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_figure_view_class_init (ScopeFigureViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = scope_figure_view_get_property;
  object_class->set_property = scope_figure_view_set_property;
  widget_class->snapshot = scope_figure_view_snapshot;
  widget_class->css_changed = scope_figure_view_css_changed;
  klass->draw = default_draw;
  klass->hit = default_hit;

  properties[PROP_CHANNEL] =
    g_param_spec_int ("channel", NULL, NULL, -1, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
scope_figure_view_init (ScopeFigureView *self)
{
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_size_request (GTK_WIDGET (self), 320, 240);
  scope_accessible_set_label (GTK_WIDGET (self), _ ("Figure (nothing shown yet)"));

  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
}

void
scope_figure_view_set_channel (ScopeFigureView *self,
                               int              channel)
{
  g_return_if_fail (SCOPE_IS_FIGURE_VIEW (self));

  ScopeFigureViewPrivate *priv = scope_figure_view_get_instance_private (self);
  channel = MAX (channel, -1);
  if (channel == priv->channel)
    return;
  priv->channel = channel;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHANNEL]);
}

int
scope_figure_view_get_channel (ScopeFigureView *self)
{
  g_return_val_if_fail (SCOPE_IS_FIGURE_VIEW (self), -1);

  ScopeFigureViewPrivate *priv = scope_figure_view_get_instance_private (self);
  return priv->channel;
}
