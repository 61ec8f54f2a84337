/* SPDX-License-Identifier: MIT */
/* ScopeActivationsFigure: the layer's channels are mapped into an atlas image once, when the
 * data, the layer or the colour map changes; every frame paints the atlas through
 * viz_layer_figure_draw. */
#include "scope-activations-figure.h"

#include <glib/gi18n.h>

#include "scope-error.h"

struct _ScopeActivationsFigure
{
  ScopeFigureView   parent_instance;

  ScopeActivations *activations;
  int               node;
  char             *colormap;

  /* Made from the above by ensure_tiles (). */
  gboolean          tiles_valid;
  VizColormap       cm;
  cairo_surface_t  *atlas;
  float            *tokens;  /* a token layer's patch grid (viz_layer_figure_token_grid) */
};

G_DEFINE_FINAL_TYPE (ScopeActivationsFigure, scope_activations_figure, SCOPE_TYPE_FIGURE_VIEW)

static int
channel_get (ScopeActivationsFigure *self)
{
  return scope_figure_view_get_channel (SCOPE_FIGURE_VIEW (self));
}

/* The layer's output when there is one to show. */
static const float *
layer_output (ScopeActivationsFigure *self,
              NnShape                *shape)
{
  if (self->activations == NULL || self->node < 0
      || self->node >= scope_activations_get_n_nodes (self->activations))
    return NULL;
  const float *data = scope_activations_get_output (self->activations, self->node, shape);
  return nn_shape_size (*shape) > 0 ? data : NULL;
}

static void
invalidate_tiles (ScopeActivationsFigure *self)
{
  self->tiles_valid = FALSE;
  g_clear_pointer (&self->atlas, cairo_surface_destroy);
  g_clear_pointer (&self->tokens, g_free);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Maps the layer's channels once: the shared scale and the atlas every frame paints. */
static gboolean
ensure_tiles (ScopeActivationsFigure *self)
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
  NnShape view;
  int skip;
  if (viz_layer_figure_token_view (s, &view, &skip))
    {
      self->tokens = g_try_new (float, nn_shape_size (view));
      if (self->tokens == NULL)
        return FALSE;
      viz_layer_figure_token_grid (self->tokens, data, s, view, skip);
      data = self->tokens;
      s = view;
    }
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
  ScopeActivationsFigure *self = SCOPE_ACTIVATIONS_FIGURE (view);
  if (!ensure_tiles (self))
    return FALSE;
  NnShape s;
  const float *data = layer_output (self, &s);
  ScopeModel *model = scope_activations_get_model (self->activations);
  viz_layer_figure_init_activations (fig, scope_model_get_name (model),
                                     &scope_model_get_graph (model)->nodes[self->node],
                                     scope_activations_get_input_name (self->activations),
                                     self->tokens != NULL ? self->tokens : data, &self->cm,
                                     channel_get (self));
  fig->grid.atlas = self->atlas;
  return TRUE;
}

static void
scope_activations_figure_dispose (GObject *object)
{
  ScopeActivationsFigure *self = SCOPE_ACTIVATIONS_FIGURE (object);

  g_clear_pointer (&self->activations, scope_activations_unref);
  g_clear_pointer (&self->atlas, cairo_surface_destroy);
  g_clear_pointer (&self->tokens, g_free);

  G_OBJECT_CLASS (scope_activations_figure_parent_class)->dispose (object);
}

static void
scope_activations_figure_finalize (GObject *object)
{
  ScopeActivationsFigure *self = SCOPE_ACTIVATIONS_FIGURE (object);

  g_free (self->colormap);

  G_OBJECT_CLASS (scope_activations_figure_parent_class)->finalize (object);
}

static void
scope_activations_figure_class_init (ScopeActivationsFigureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ScopeFigureViewClass *figure_class = SCOPE_FIGURE_VIEW_CLASS (klass);

  object_class->dispose = scope_activations_figure_dispose;
  object_class->finalize = scope_activations_figure_finalize;

  figure_class->make_figure = make_figure;

  gtk_widget_class_set_css_name (widget_class, "activations-figure");
}

static void
scope_activations_figure_init (ScopeActivationsFigure *self)
{
  self->colormap = g_strdup ("auto");
}

void
scope_activations_figure_set_activations (ScopeActivationsFigure *self,
                                          ScopeActivations       *activations)
{
  g_return_if_fail (SCOPE_IS_ACTIVATIONS_FIGURE (self));

  if (activations == self->activations)
    return;
  g_clear_pointer (&self->activations, scope_activations_unref);
  self->activations = activations != NULL ? scope_activations_ref (activations) : NULL;
  invalidate_tiles (self);
}

void
scope_activations_figure_set_layer (ScopeActivationsFigure *self,
                                    int                     node)
{
  g_return_if_fail (SCOPE_IS_ACTIVATIONS_FIGURE (self));

  if (node == self->node)
    return;
  self->node = node;
  invalidate_tiles (self);
}

void
scope_activations_figure_set_colormap (ScopeActivationsFigure *self,
                                       const char             *colormap)
{
  g_return_if_fail (SCOPE_IS_ACTIVATIONS_FIGURE (self));

  if (g_strcmp0 (colormap, self->colormap) == 0)
    return;
  g_free (self->colormap);
  self->colormap = g_strdup (colormap != NULL ? colormap : "auto");
  invalidate_tiles (self);
}

gboolean
scope_activations_figure_export (ScopeActivationsFigure  *self,
                                 const char              *path,
                                 GError                 **error)
{
  g_return_val_if_fail (SCOPE_IS_ACTIVATIONS_FIGURE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  VizLayerFigure fig;
  if (!make_figure (SCOPE_FIGURE_VIEW (self), &fig))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   _ ("%s: there are no activations to export yet"), path);
      return FALSE;
    }
  NnError err = { 0 };
  if (viz_layer_figure_export (&fig, path, VIZ_LAYER_FIGURE_WIDTH, VIZ_LAYER_FIGURE_HEIGHT,
                               &err))
    return TRUE;
  scope_error_from_nn (error, &err);
  return FALSE;
}
