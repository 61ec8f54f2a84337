/* SPDX-License-Identifier: MIT */
/* ScopeActivationsView: hands the window's state to its figure and says on the status page why
 * there is nothing to show. Its own properties: the colour map (the preference) and the error
 * of the last forward pass, both bound by the window's template. */
#include "scope-activations-view.h"

#include <glib/gi18n.h>

#include "scope-activations-figure.h"

struct _ScopeActivationsView
{
  ScopeView               parent_instance;

  ScopeActivationsFigure *figure;
  char                   *colormap;
  char                   *forward_error;
};

enum
{
  PROP_0,
  PROP_COLORMAP,
  PROP_FORWARD_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (ScopeActivationsView, scope_activations_view, SCOPE_TYPE_VIEW)

/* Stores a copy of value in *slot; FALSE when it is the one stored. */
static gboolean
set_string (char       **slot,
            const char  *value)
{
  if (g_strcmp0 (*slot, value) == 0)
    return FALSE;
  g_free (*slot);
  *slot = g_strdup (value);
  return TRUE;
}

static void
update_status (ScopeActivationsView *self)
{
  ScopeView *view = SCOPE_VIEW (self);
  const char *icon = "image-loading-symbolic";
  gboolean shown = scope_view_get_activations (view) != NULL;
  if (shown)
    scope_view_show_status (view, NULL, NULL, NULL);
  else if (scope_view_get_model (view) == NULL)
    scope_view_show_status (view, icon, _ ("No Activations Yet"),
                            _ ("Open a model (Ctrl+O) and an image (Ctrl+Shift+O)."));
  else if (scope_view_get_input (view) == NULL)
    scope_view_show_status (view, icon, _ ("No Image"),
                            _ ("Open an image (Ctrl+Shift+O) to see the activations."));
  else if (self->forward_error != NULL)
    scope_view_show_status (view, icon, _ ("No Activations"), self->forward_error);
  else
    scope_view_show_status (view, icon, _ ("Computing Activations…"), NULL);
  scope_view_set_can_export (view, shown);
}

static void
changed (ScopeView       *view,
         ScopeViewChange  what)
{
  ScopeActivationsView *self = SCOPE_ACTIVATIONS_VIEW (view);
  if (what & SCOPE_VIEW_ACTIVATIONS)
    scope_activations_figure_set_activations (self->figure, scope_view_get_activations (view));
  if (what & (SCOPE_VIEW_LAYER | SCOPE_VIEW_MODEL))
    scope_activations_figure_set_layer (self->figure, scope_view_get_layer (view));
  if (what & SCOPE_VIEW_CHANNEL)
    scope_figure_view_set_channel (SCOPE_FIGURE_VIEW (self->figure),
                                   scope_view_get_channel (view));
  update_status (self);
}

static gboolean
export (ScopeView   *view,
        const char  *path,
        GError     **error)
{
  return scope_activations_figure_export (SCOPE_ACTIVATIONS_VIEW (view)->figure, path, error);
}

static void
on_figure_channel (ScopeFigureView      *figure,
                   GParamSpec           *pspec,
                   ScopeActivationsView *self)
{
  (void) pspec;
  scope_view_set_channel (SCOPE_VIEW (self), scope_figure_view_get_channel (figure));
}

static void
scope_activations_view_finalize (GObject *object)
{
  ScopeActivationsView *self = SCOPE_ACTIVATIONS_VIEW (object);

  g_free (self->colormap);
  g_free (self->forward_error);

  G_OBJECT_CLASS (scope_activations_view_parent_class)->finalize (object);
}

static void
scope_activations_view_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  ScopeActivationsView *self = SCOPE_ACTIVATIONS_VIEW (object);

  switch (prop_id)
    {
    case PROP_COLORMAP:
      g_value_set_string (value, self->colormap);
      break;
    case PROP_FORWARD_ERROR:
      g_value_set_string (value, self->forward_error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_activations_view_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  ScopeActivationsView *self = SCOPE_ACTIVATIONS_VIEW (object);

  switch (prop_id)
    {
    case PROP_COLORMAP:
      if (set_string (&self->colormap, g_value_get_string (value)))
        {
          scope_activations_figure_set_colormap (self->figure, self->colormap);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_FORWARD_ERROR:
      if (set_string (&self->forward_error, g_value_get_string (value)))
        {
          update_status (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_activations_view_class_init (ScopeActivationsViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ScopeViewClass *view_class = SCOPE_VIEW_CLASS (klass);

  object_class->finalize = scope_activations_view_finalize;
  object_class->get_property = scope_activations_view_get_property;
  object_class->set_property = scope_activations_view_set_property;
  view_class->changed = changed;
  view_class->export = export;

  /* "auto" (a diverging map for signed values, else sequential), "sequential" or
   * "diverging". */
  properties[PROP_COLORMAP] =
    g_param_spec_string ("colormap", NULL, NULL, "auto",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Why the last forward pass gave no activations, or NULL. */
  properties[PROP_FORWARD_ERROR] =
    g_param_spec_string ("forward-error", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (SCOPE_TYPE_ACTIVATIONS_FIGURE);
  gtk_widget_class_set_template_from_resource (
    widget_class, "/org/cnnscope/Cnnscope/ui/scope-activations-view.ui");
  gtk_widget_class_bind_template_child (widget_class, ScopeActivationsView, figure);
  gtk_widget_class_set_css_name (widget_class, "activations-view");
}

static void
scope_activations_view_init (ScopeActivationsView *self)
{
  self->colormap = g_strdup ("auto");
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->figure, "notify::channel", G_CALLBACK (on_figure_channel), self);
  update_status (self);
}
