/* SPDX-License-Identifier: MIT */
/* ScopeChannelView: the selected channel and the theme handling the layer views share. */
#include "scope-channel-view.h"

#include "scope-figure.h"

typedef struct
{
  int channel;
} ScopeChannelViewPrivate;

enum
{
  PROP_0,
  PROP_CHANNEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (ScopeChannelView, scope_channel_view, GTK_TYPE_WIDGET)

static void
scope_channel_view_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  ScopeChannelView *self = SCOPE_CHANNEL_VIEW (object);

  switch (prop_id)
    {
    case PROP_CHANNEL:
      g_value_set_int (value, scope_channel_view_get_channel (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_channel_view_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  ScopeChannelView *self = SCOPE_CHANNEL_VIEW (object);

  switch (prop_id)
    {
    case PROP_CHANNEL:
      scope_channel_view_set_channel (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_channel_view_css_changed (GtkWidget         *widget,
                                GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (scope_channel_view_parent_class)->css_changed (widget, change);
  gtk_widget_queue_draw (widget);
}

static void
scope_channel_view_class_init (ScopeChannelViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = scope_channel_view_get_property;
  object_class->set_property = scope_channel_view_set_property;
  widget_class->css_changed = scope_channel_view_css_changed;

  properties[PROP_CHANNEL] =
    g_param_spec_int ("channel", NULL, NULL, -1, G_MAXINT, 0,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
scope_channel_view_init (ScopeChannelView *self)
{
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}

void
scope_channel_view_set_channel (ScopeChannelView *self,
                                int               channel)
{
  g_return_if_fail (SCOPE_IS_CHANNEL_VIEW (self));

  ScopeChannelViewPrivate *priv = scope_channel_view_get_instance_private (self);
  channel = MAX (channel, -1);
  if (channel == priv->channel)
    return;
  priv->channel = channel;
  ScopeChannelViewClass *klass = SCOPE_CHANNEL_VIEW_GET_CLASS (self);
  if (klass->channel_changed != NULL)
    klass->channel_changed (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHANNEL]);
}

int
scope_channel_view_get_channel (ScopeChannelView *self)
{
  g_return_val_if_fail (SCOPE_IS_CHANNEL_VIEW (self), -1);

  ScopeChannelViewPrivate *priv = scope_channel_view_get_instance_private (self);
  return priv->channel;
}

void
scope_channel_view_screen_style (ScopeChannelView *self,
                                 VizStyle         *style)
{
  g_return_if_fail (SCOPE_IS_CHANNEL_VIEW (self));

  scope_figure_style_init_screen (style, GTK_WIDGET (self));
}
