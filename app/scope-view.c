/* SPDX-License-Identifier: MIT */
/* ScopeView: the window's state as properties, the virtual functions the window dispatches
 * through, and a stack of the status page and the content (the child of a view's template). */
#include "scope-view.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "scope-accessible.h"

typedef struct
{
  GtkStack         *stack;       /* "status" and "content" */
  AdwStatusPage    *status;
  ScopeModel       *model;
  ScopeInput       *input;
  ScopeActivations *activations;
  int               layer;
  int               channel;
  ScopeFrameTimer  *frame_timer;
  gboolean          busy;
  char             *unsaved;    /* what closing would lose, or NULL */
  gboolean          can_export;
} ScopeViewPrivate;

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_INPUT,
  PROP_ACTIVATIONS,
  PROP_LAYER,
  PROP_CHANNEL,
  PROP_FRAME_TIMER,
  PROP_BUSY,
  PROP_CAN_EXPORT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  FAILED,
  DONE,
  SHOW_MODEL,
  SHOW_INPUT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GtkBuildableIface *parent_buildable_iface;

static void scope_view_buildable_init (GtkBuildableIface *iface);

G_DEFINE_ABSTRACT_TYPE_WITH_CODE (ScopeView, scope_view, GTK_TYPE_WIDGET,
                                  G_ADD_PRIVATE (ScopeView)
                                  G_IMPLEMENT_INTERFACE (GTK_TYPE_BUILDABLE,
                                                         scope_view_buildable_init))

/* The child of a view's template is its content. */
static void
scope_view_buildable_add_child (GtkBuildable *buildable,
                                GtkBuilder   *builder,
                                GObject      *child,
                                const char   *type)
{
  ScopeView *self = SCOPE_VIEW (buildable);
  ScopeViewPrivate *priv = scope_view_get_instance_private (self);

  if (type == NULL && GTK_IS_WIDGET (child))
    {
      g_return_if_fail (gtk_stack_get_child_by_name (priv->stack, "content") == NULL);
      gtk_stack_add_named (priv->stack, GTK_WIDGET (child), "content");
      gtk_stack_set_visible_child_name (priv->stack, "content");
    }
  else
    parent_buildable_iface->add_child (buildable, builder, child, type);
}

static void
scope_view_buildable_init (GtkBuildableIface *iface)
{
  parent_buildable_iface = g_type_interface_peek_parent (iface);
  iface->add_child = scope_view_buildable_add_child;
}

static void
changed (ScopeView       *self,
         ScopeViewChange  what,
         int              prop_id)
{
  ScopeViewClass *klass = SCOPE_VIEW_GET_CLASS (self);
  if (klass->changed != NULL)
    klass->changed (self, what);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
scope_view_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  ScopeView *self = SCOPE_VIEW (object);
  ScopeViewPrivate *priv = scope_view_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_MODEL:
      if (g_value_get_boxed (value) != priv->model)
        {
          g_clear_pointer (&priv->model, scope_model_unref);
          priv->model = g_value_dup_boxed (value);
          changed (self, SCOPE_VIEW_MODEL, prop_id);
        }
      break;
    case PROP_INPUT:
      if (g_value_get_boxed (value) != priv->input)
        {
          g_clear_pointer (&priv->input, scope_input_unref);
          priv->input = g_value_dup_boxed (value);
          changed (self, SCOPE_VIEW_INPUT, prop_id);
        }
      break;
    case PROP_ACTIVATIONS:
      if (g_value_get_boxed (value) != priv->activations)
        {
          g_clear_pointer (&priv->activations, scope_activations_unref);
          priv->activations = g_value_dup_boxed (value);
          changed (self, SCOPE_VIEW_ACTIVATIONS, prop_id);
        }
      break;
    case PROP_LAYER:
      if (priv->layer != g_value_get_int (value))
        {
          priv->layer = g_value_get_int (value);
          changed (self, SCOPE_VIEW_LAYER, prop_id);
        }
      break;
    case PROP_CHANNEL:
      scope_view_set_channel (self, g_value_get_int (value));
      break;
    case PROP_FRAME_TIMER:
      priv->frame_timer = g_value_get_pointer (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_view_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  ScopeView *self = SCOPE_VIEW (object);
  ScopeViewPrivate *priv = scope_view_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_boxed (value, priv->model);
      break;
    case PROP_INPUT:
      g_value_set_boxed (value, priv->input);
      break;
    case PROP_ACTIVATIONS:
      g_value_set_boxed (value, priv->activations);
      break;
    case PROP_LAYER:
      g_value_set_int (value, priv->layer);
      break;
    case PROP_CHANNEL:
      g_value_set_int (value, priv->channel);
      break;
    case PROP_FRAME_TIMER:
      g_value_set_pointer (value, priv->frame_timer);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, priv->busy);
      break;
    case PROP_CAN_EXPORT:
      g_value_set_boolean (value, priv->can_export);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_view_dispose (GObject *object)
{
  ScopeView *self = SCOPE_VIEW (object);
  ScopeViewPrivate *priv = scope_view_get_instance_private (self);

  if (priv->stack != NULL)
    gtk_widget_unparent (GTK_WIDGET (priv->stack));
  priv->stack = NULL;
  priv->status = NULL;
  g_clear_pointer (&priv->model, scope_model_unref);
  g_clear_pointer (&priv->input, scope_input_unref);
  g_clear_pointer (&priv->activations, scope_activations_unref);
  g_clear_pointer (&priv->unsaved, g_free);
  priv->frame_timer = NULL;

  G_OBJECT_CLASS (scope_view_parent_class)->dispose (object);
}

/* Every view's controls are named for assistive technologies once its template is built, and
 * again when it is shown (for the controls added since). */
static void
scope_view_constructed (GObject *object)
{
  G_OBJECT_CLASS (scope_view_parent_class)->constructed (object);
  scope_accessible_name_controls (GTK_WIDGET (object));
}

static void
scope_view_map (GtkWidget *widget)
{
  scope_accessible_name_controls (widget);
  GTK_WIDGET_CLASS (scope_view_parent_class)->map (widget);
}

static void
scope_view_class_init (ScopeViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = scope_view_constructed;
  object_class->dispose = scope_view_dispose;
  object_class->get_property = scope_view_get_property;
  object_class->set_property = scope_view_set_property;

  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  properties[PROP_MODEL] = g_param_spec_boxed ("model", NULL, NULL, SCOPE_TYPE_MODEL, rw);
  properties[PROP_INPUT] = g_param_spec_boxed ("input", NULL, NULL, SCOPE_TYPE_INPUT, rw);
  properties[PROP_ACTIVATIONS] = g_param_spec_boxed ("activations", NULL, NULL,
                                                     SCOPE_TYPE_ACTIVATIONS, rw);
  properties[PROP_LAYER] = g_param_spec_int ("layer", NULL, NULL, -1, G_MAXINT, -1, rw);
  properties[PROP_CHANNEL] = g_param_spec_int ("channel", NULL, NULL, -1, G_MAXINT, 0, rw);
  /* A ScopeFrameTimer, not owned. */
  properties[PROP_FRAME_TIMER] = g_param_spec_pointer ("frame-timer", NULL, NULL,
                                                       G_PARAM_READWRITE
                                                       | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUSY] = g_param_spec_boolean ("busy", NULL, NULL, FALSE, ro);
  properties[PROP_CAN_EXPORT] = g_param_spec_boolean ("can-export", NULL, NULL, FALSE, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * ScopeView::failed:
   * @error: what went wrong, as the user reads it
   */
  signals[FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * ScopeView::done:
   * @message: what was done, as the user reads it ("Saved model.safetensors")
   */
  signals[DONE] =
    g_signal_new ("done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * ScopeView::show-model:
   * @model: the model every view should show
   */
  signals[SHOW_MODEL] =
    g_signal_new ("show-model", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, SCOPE_TYPE_MODEL | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * ScopeView::show-input:
   * @input: the input every view should show (built for the current model)
   */
  signals[SHOW_INPUT] =
    g_signal_new ("show-input", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, SCOPE_TYPE_INPUT | G_SIGNAL_TYPE_STATIC_SCOPE);

  widget_class->map = scope_view_map;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
scope_view_init (ScopeView *self)
{
  ScopeViewPrivate *priv = scope_view_get_instance_private (self);

  priv->layer = -1;
  priv->stack = GTK_STACK (gtk_stack_new ());
  priv->status = ADW_STATUS_PAGE (adw_status_page_new ());
  gtk_stack_add_named (priv->stack, GTK_WIDGET (priv->status), "status");
  gtk_widget_set_parent (GTK_WIDGET (priv->stack), GTK_WIDGET (self));
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}

ScopeModel *
scope_view_get_model (ScopeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VIEW (self), NULL);

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  return priv->model;
}

ScopeInput *
scope_view_get_input (ScopeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VIEW (self), NULL);

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  return priv->input;
}

ScopeActivations *
scope_view_get_activations (ScopeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VIEW (self), NULL);

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  return priv->activations;
}

int
scope_view_get_layer (ScopeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VIEW (self), -1);

  /* The layer may be notified after the model: a node the new graph lacks is none. */
  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  if (priv->model == NULL || priv->layer >= scope_model_get_graph (priv->model)->n_nodes)
    return -1;
  return priv->layer;
}

int
scope_view_get_channel (ScopeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VIEW (self), -1);

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  return priv->channel;
}

void
scope_view_set_channel (ScopeView *self,
                        int        channel)
{
  g_return_if_fail (SCOPE_IS_VIEW (self));

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  channel = MAX (channel, -1);
  if (channel == priv->channel)
    return;
  priv->channel = channel;
  changed (self, SCOPE_VIEW_CHANNEL, PROP_CHANNEL);
}

ScopeFrameTimer *
scope_view_get_frame_timer (ScopeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VIEW (self), NULL);

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  return priv->frame_timer;
}

gboolean
scope_view_export (ScopeView   *self,
                   const char  *path,
                   GError     **error)
{
  g_return_val_if_fail (SCOPE_IS_VIEW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ScopeViewClass *klass = SCOPE_VIEW_GET_CLASS (self);
  if (klass->export == NULL || !scope_view_get_can_export (self))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _ ("%s: this view has nothing to export now"), path);
      return FALSE;
    }
  return klass->export (self, path, error);
}

void
scope_view_cancel (ScopeView *self)
{
  g_return_if_fail (SCOPE_IS_VIEW (self));

  ScopeViewClass *klass = SCOPE_VIEW_GET_CLASS (self);
  if (klass->cancel != NULL)
    klass->cancel (self);
}

gboolean
scope_view_get_busy (ScopeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VIEW (self), FALSE);

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  return priv->busy;
}

gboolean
scope_view_get_can_export (ScopeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VIEW (self), FALSE);

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  return priv->can_export;
}

const char *
scope_view_get_unsaved (ScopeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VIEW (self), NULL);

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  return priv->unsaved;
}

void
scope_view_set_unsaved (ScopeView  *self,
                        const char *reason)
{
  g_return_if_fail (SCOPE_IS_VIEW (self));

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  if (g_strcmp0 (reason, priv->unsaved) == 0)
    return;
  g_free (priv->unsaved);
  priv->unsaved = g_strdup (reason);
}

void
scope_view_set_busy (ScopeView *self,
                     gboolean   busy)
{
  g_return_if_fail (SCOPE_IS_VIEW (self));

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  busy = !!busy;
  if (busy == priv->busy)
    return;
  priv->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

void
scope_view_set_can_export (ScopeView *self,
                           gboolean   can_export)
{
  g_return_if_fail (SCOPE_IS_VIEW (self));

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  can_export = !!can_export;
  if (can_export == priv->can_export)
    return;
  priv->can_export = can_export;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_EXPORT]);
}

void
scope_view_show_status (ScopeView  *self,
                        const char *icon_name,
                        const char *title,
                        const char *description)
{
  g_return_if_fail (SCOPE_IS_VIEW (self));

  ScopeViewPrivate *priv = scope_view_get_instance_private (self);
  if (title == NULL)
    {
      if (gtk_stack_get_child_by_name (priv->stack, "content") != NULL)
        gtk_stack_set_visible_child_name (priv->stack, "content");
      return;
    }
  adw_status_page_set_icon_name (priv->status, icon_name);
  adw_status_page_set_title (priv->status, title);
  adw_status_page_set_description (priv->status, description);
  gtk_stack_set_visible_child_name (priv->stack, "status");
}

void
scope_view_report_done (ScopeView  *self,
                        const char *message)
{
  g_return_if_fail (SCOPE_IS_VIEW (self));
  g_return_if_fail (message != NULL);

  g_signal_emit (self, signals[DONE], 0, message);
}

void
scope_view_report_error (ScopeView  *self,
                         const char *format,
                         ...)
{
  g_return_if_fail (SCOPE_IS_VIEW (self));

  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_autoptr (GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, message);
  g_signal_emit (self, signals[FAILED], 0, error);
}

void
scope_view_show_model (ScopeView  *self,
                       ScopeModel *model)
{
  g_return_if_fail (SCOPE_IS_VIEW (self));
  g_return_if_fail (model != NULL);

  g_signal_emit (self, signals[SHOW_MODEL], 0, model);
}

void
scope_view_show_input (ScopeView  *self,
                       ScopeInput *input)
{
  g_return_if_fail (SCOPE_IS_VIEW (self));
  g_return_if_fail (input != NULL);

  g_signal_emit (self, signals[SHOW_INPUT], 0, input);
}
