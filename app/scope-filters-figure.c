/* SPDX-License-Identifier: MIT */
/* ScopeFiltersFigure: the kernels are reduced (viz_filter_grid_maps_new) and mapped into an atlas
 * once, when the layer or the input channel changes; every frame paints the atlas through
 * viz_layer_figure_draw. */
#include "scope-filters-figure.h"

#include <glib/gi18n.h>
#include <stdlib.h>

#include "scope-error.h"

struct _ScopeFiltersFigure
{
  ScopeFigureView  parent_instance;

  ScopeModel      *model;
  int              node;
  int              input_channel;

  /* Made from the above by ensure_tiles (). */
  gboolean         tiles_valid;
  VizFilterGrid    filters;
  float           *maps;    /* (oc, kh, kw), malloc'd by viz */
  VizColormap      cm;
  cairo_surface_t *atlas;
};

G_DEFINE_FINAL_TYPE (ScopeFiltersFigure, scope_filters_figure, SCOPE_TYPE_FIGURE_VIEW)

static void
invalidate_tiles (ScopeFiltersFigure *self)
{
  self->tiles_valid = FALSE;
  g_clear_pointer (&self->maps, free);
  g_clear_pointer (&self->atlas, cairo_surface_destroy);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The layer's weights as a VizFilterGrid, or FALSE when it has none. */
static gboolean
layer_filters (ScopeFiltersFigure *self,
               VizFilterGrid      *filters)
{
  if (self->model == NULL || !scope_model_node_has_filters (self->model, self->node))
    return FALSE;
  const NnGraph *graph = scope_model_get_graph (self->model);
  int weight = nn_graph_node_param (graph, self->node, NN_PARAM_WEIGHT);
  const NnParam *p = &graph->params[weight];
  *filters = (VizFilterGrid) {
    .weights = nn_graph_param_data (graph, weight),
    .oc = p->dims[0], .ic = p->dims[1], .kh = p->dims[2], .kw = p->dims[3],
    .input_channel = MIN (self->input_channel, p->dims[1] - 1),
    .selected = -1,
  };
  return p->dims[0] > 0 && p->dims[2] > 0 && p->dims[3] > 0;
}

static gboolean
ensure_tiles (ScopeFiltersFigure *self)
{
  if (self->tiles_valid)
    return self->atlas != NULL;
  self->tiles_valid = TRUE;
  if (!layer_filters (self, &self->filters))
    return FALSE;
  self->maps = viz_filter_grid_maps_new (&self->filters, &self->cm);
  if (self->maps == NULL)
    return FALSE;
  VizTileGrid grid = {
    .data = self->maps, .c = self->filters.oc, .h = self->filters.kh, .w = self->filters.kw,
    .colormap = &self->cm, .selected = -1,
  };
  self->atlas = viz_tile_grid_atlas_new (&grid);
  return self->atlas != NULL;
}

static gboolean
make_figure (ScopeFigureView *view,
             VizLayerFigure  *fig)
{
  ScopeFiltersFigure *self = SCOPE_FILTERS_FIGURE (view);
  if (!ensure_tiles (self))
    return FALSE;
  const NnNode *node = &scope_model_get_graph (self->model)->nodes[self->node];
  viz_layer_figure_init_filters (fig, scope_model_get_name (self->model), node->name,
                                 &self->filters, self->maps, &self->cm,
                                 scope_figure_view_get_channel (SCOPE_FIGURE_VIEW (self)));
  fig->grid.atlas = self->atlas;
  return TRUE;
}

static void
scope_filters_figure_dispose (GObject *object)
{
  ScopeFiltersFigure *self = SCOPE_FILTERS_FIGURE (object);

  g_clear_pointer (&self->model, scope_model_unref);
  g_clear_pointer (&self->maps, free);
  g_clear_pointer (&self->atlas, cairo_surface_destroy);

  G_OBJECT_CLASS (scope_filters_figure_parent_class)->dispose (object);
}

static void
scope_filters_figure_class_init (ScopeFiltersFigureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ScopeFigureViewClass *figure_class = SCOPE_FIGURE_VIEW_CLASS (klass);

  object_class->dispose = scope_filters_figure_dispose;

  figure_class->make_figure = make_figure;

  gtk_widget_class_set_css_name (widget_class, "filters-figure");
}

static void
scope_filters_figure_init (ScopeFiltersFigure *self)
{
  self->input_channel = -1;
}

void
scope_filters_figure_set_layer (ScopeFiltersFigure *self,
                                ScopeModel         *model,
                                int                 node)
{
  g_return_if_fail (SCOPE_IS_FILTERS_FIGURE (self));

  if (model == self->model && node == self->node)
    return;
  if (model != self->model)
    {
      g_clear_pointer (&self->model, scope_model_unref);
      self->model = model != NULL ? scope_model_ref (model) : NULL;
    }
  self->node = node;
  invalidate_tiles (self);
}

void
scope_filters_figure_set_input_channel (ScopeFiltersFigure *self,
                                        int                 input_channel)
{
  g_return_if_fail (SCOPE_IS_FILTERS_FIGURE (self));

  input_channel = MAX (input_channel, -1);
  if (input_channel == self->input_channel)
    return;
  self->input_channel = input_channel;
  invalidate_tiles (self);
}

int
scope_filters_figure_get_n_input_channels (ScopeFiltersFigure *self)
{
  g_return_val_if_fail (SCOPE_IS_FILTERS_FIGURE (self), 0);

  VizFilterGrid filters;
  return layer_filters (self, &filters) ? filters.ic : 0;
}

gboolean
scope_filters_figure_export (ScopeFiltersFigure  *self,
                             const char          *path,
                             GError             **error)
{
  g_return_val_if_fail (SCOPE_IS_FILTERS_FIGURE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  VizLayerFigure fig;
  if (!make_figure (SCOPE_FIGURE_VIEW (self), &fig))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _ ("%s: the selected layer has no filters to export"), path);
      return FALSE;
    }
  NnError err = { 0 };
  if (viz_layer_figure_export (&fig, path, VIZ_LAYER_FIGURE_WIDTH, VIZ_LAYER_FIGURE_HEIGHT,
                               &err))
    return TRUE;
  scope_error_from_nn (error, &err);
  return FALSE;
}
