/* SPDX-License-Identifier: MIT */
/* ScopeActivationsView: the layer's channels are mapped into an atlas image once, when the
 * data, the layer or the colour map changes; every frame paints the atlas through
 * viz_layer_figure_draw. */
#include "scope-activations-view.h"

#include "scope-error.h"

struct _ScopeActivationsView
{
  ScopeFigureView   parent_instance;

  ScopeActivations *activations;
  int               node;
  char             *colormap;

  /* Made from the above by ensure_tiles (). */
  gboolean          tiles_valid;
  VizColormap       cm;
  cairo_surface_t  *atlas;
};

enum
{
  PROP_0,
  PROP_COLORMAP,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (ScopeActivationsView, scope_activations_view, SCOPE_TYPE_FIGURE_VIEW)

static int
channel_get (ScopeActivationsView *self)
{
  return scope_channel_view_get_channel (SCOPE_CHANNEL_VIEW (self));
}

/* The layer's output when there is one to show. */
static const float *
layer_output (ScopeActivationsView *self,
              NnShape              *shape)
{
  if (self->activations == NULL || self->node < 0
      || self->node >= scope_activations_get_n_nodes (self->activations))
    return NULL;
  const float *data = scope_activations_get_output (self->activations, self->node, shape);
  return nn_shape_size (*shape) > 0 ? data : NULL;
}

static void
invalidate_tiles (ScopeActivationsView *self)
{
  self->tiles_valid = FALSE;
  g_clear_pointer (&self->atlas, cairo_surface_destroy);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Maps the layer's channels once: the shared scale and the atlas every frame paints. */
static gboolean
ensure_tiles (ScopeActivationsView *self)
{
  if (self->tiles_valid)
    return self->atlas != NULL;
  self->tiles_valid = TRUE;
  NnShape s;
  const float *data = layer_output (self, &s);
  if (data == NULL)
    return FALSE;
  float lo, hi;
  scope_activations_get_range (self->activations, self->node, &lo, &hi);
  VizColormapKind kind = lo < 0.0f ? VIZ_COLORMAP_DIVERGING : VIZ_COLORMAP_SEQUENTIAL;
  if (g_strcmp0 (self->colormap, "sequential") == 0)
    kind = VIZ_COLORMAP_SEQUENTIAL;
  else if (g_strcmp0 (self->colormap, "diverging") == 0)
    kind = VIZ_COLORMAP_DIVERGING;
  viz_colormap_init (&self->cm, kind, lo, hi);
  VizTileGrid grid = {
    .data = data, .c = s.c, .h = s.h, .w = s.w, .colormap = &self->cm, .selected = -1,
  };
  self->atlas = viz_tile_grid_atlas_new (&grid);
  return self->atlas != NULL;
}

/* The figure of the current state: its numbers are the view's. */
static gboolean
make_figure (ScopeFigureView *view,
             VizLayerFigure  *fig)
{
  ScopeActivationsView *self = SCOPE_ACTIVATIONS_VIEW (view);
  if (!ensure_tiles (self))
    return FALSE;
  NnShape s;
  const float *data = layer_output (self, &s);
  ScopeModel *model = scope_activations_get_model (self->activations);
  viz_layer_figure_init_activations (fig, scope_model_get_name (model),
                                     &scope_model_get_graph (model)->nodes[self->node],
                                     scope_activations_get_input_name (self->activations), data,
                                     &self->cm, channel_get (self));
  fig->grid.atlas = self->atlas;
  return TRUE;
}

static void
scope_activations_view_dispose (GObject *object)
{
  ScopeActivationsView *self = SCOPE_ACTIVATIONS_VIEW (object);

  g_clear_pointer (&self->activations, scope_activations_unref);
  g_clear_pointer (&self->atlas, cairo_surface_destroy);

  G_OBJECT_CLASS (scope_activations_view_parent_class)->dispose (object);
}

static void
scope_activations_view_finalize (GObject *object)
{
  ScopeActivationsView *self = SCOPE_ACTIVATIONS_VIEW (object);

  g_free (self->colormap);

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
      scope_activations_view_set_colormap (self, g_value_get_string (value));
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
  ScopeFigureViewClass *figure_class = SCOPE_FIGURE_VIEW_CLASS (klass);

  object_class->dispose = scope_activations_view_dispose;
  object_class->finalize = scope_activations_view_finalize;
  object_class->get_property = scope_activations_view_get_property;
  object_class->set_property = scope_activations_view_set_property;

  figure_class->make_figure = make_figure;

  properties[PROP_COLORMAP] =
    g_param_spec_string ("colormap", NULL, NULL, "auto",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "activations-view");
}

static void
scope_activations_view_init (ScopeActivationsView *self)
{
  self->colormap = g_strdup ("auto");
}

GtkWidget *
scope_activations_view_new (void)
{
  return g_object_new (SCOPE_TYPE_ACTIVATIONS_VIEW, NULL);
}

void
scope_activations_view_set_activations (ScopeActivationsView *self,
                                        ScopeActivations     *activations)
{
  g_return_if_fail (SCOPE_IS_ACTIVATIONS_VIEW (self));

  if (activations == self->activations)
    return;
  g_clear_pointer (&self->activations, scope_activations_unref);
  self->activations = activations != NULL ? scope_activations_ref (activations) : NULL;
  invalidate_tiles (self);
}

ScopeActivations *
scope_activations_view_get_activations (ScopeActivationsView *self)
{
  g_return_val_if_fail (SCOPE_IS_ACTIVATIONS_VIEW (self), NULL);

  return self->activations;
}

void
scope_activations_view_set_layer (ScopeActivationsView *self,
                                  int                   node)
{
  g_return_if_fail (SCOPE_IS_ACTIVATIONS_VIEW (self));

  if (node == self->node)
    return;
  self->node = node;
  invalidate_tiles (self);
}

int
scope_activations_view_get_layer (ScopeActivationsView *self)
{
  g_return_val_if_fail (SCOPE_IS_ACTIVATIONS_VIEW (self), -1);

  return self->node;
}

void
scope_activations_view_set_colormap (ScopeActivationsView *self,
                                     const char           *colormap)
{
  g_return_if_fail (SCOPE_IS_ACTIVATIONS_VIEW (self));

  if (g_strcmp0 (colormap, self->colormap) == 0)
    return;
  g_free (self->colormap);
  self->colormap = g_strdup (colormap != NULL ? colormap : "auto");
  invalidate_tiles (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COLORMAP]);
}

gboolean
scope_activations_view_export (ScopeActivationsView  *self,
                               const char            *path,
                               GError               **error)
{
  g_return_val_if_fail (SCOPE_IS_ACTIVATIONS_VIEW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  VizLayerFigure fig;
  if (!make_figure (SCOPE_FIGURE_VIEW (self), &fig))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   "%s: there are no activations to export yet", path);
      return FALSE;
    }
  NnError err = { 0 };
  if (viz_layer_figure_export (&fig, path, VIZ_LAYER_FIGURE_WIDTH, VIZ_LAYER_FIGURE_HEIGHT,
                               &err))
    return TRUE;
  scope_error_from_nn (error, &err);
  return FALSE;
}
