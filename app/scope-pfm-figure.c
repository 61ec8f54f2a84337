/* SPDX-License-Identifier: MIT */
/* ScopePfmFigure: the module is found once per layer; every frame draws it through
 * scope_pfm_draw (a 1x1 matrix of up to 128 x 128 cells and 16 kernels: cheap to map). */
#include "scope-pfm-figure.h"

#include <string.h>

#include "scope-accessible.h"
#include "scope-error.h"
#include "scope-pfm.h"

#define EXPORT_WIDTH  1200.0
#define EXPORT_HEIGHT 750.0

struct _ScopePfmFigure
{
  ScopeFigureView  parent_instance;

  ScopeModel      *model;
  gboolean         valid;
  ScopePfm         pfm;      /* points into model's graph */
  char            *caption;
};

G_DEFINE_FINAL_TYPE (ScopePfmFigure, scope_pfm_figure, SCOPE_TYPE_FIGURE_VIEW)

static int
channel_get (ScopePfmFigure *self)
{
  return scope_figure_view_get_channel (SCOPE_FIGURE_VIEW (self));
}

static void
draw (ScopeFigureView *view,
      cairo_t         *cr,
      const VizStyle  *style,
      double           width,
      double           height)
{
  ScopePfmFigure *self = SCOPE_PFM_FIGURE (view);
  if (self->valid)
    scope_pfm_draw (cr, &self->pfm, channel_get (self), self->caption, style, width, height);
}

static int
hit (ScopeFigureView *view,
     const VizStyle  *style,
     double           width,
     double           height,
     double           x,
     double           y)
{
  ScopePfmFigure *self = SCOPE_PFM_FIGURE (view);
  if (!self->valid)
    return -1;
  return scope_pfm_hit (&self->pfm, self->caption, style, width, height, x, y);
}

static void
scope_pfm_figure_dispose (GObject *object)
{
  ScopePfmFigure *self = SCOPE_PFM_FIGURE (object);

  self->valid = FALSE;
  g_clear_pointer (&self->model, scope_model_unref);
  g_clear_pointer (&self->caption, g_free);

  G_OBJECT_CLASS (scope_pfm_figure_parent_class)->dispose (object);
}

static void
scope_pfm_figure_class_init (ScopePfmFigureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ScopeFigureViewClass *figure_class = SCOPE_FIGURE_VIEW_CLASS (klass);

  object_class->dispose = scope_pfm_figure_dispose;
  figure_class->draw = draw;
  figure_class->hit = hit;

  gtk_widget_class_set_css_name (widget_class, "pfm-figure");
}

static void
scope_pfm_figure_init (ScopePfmFigure *self)
{
  gtk_widget_set_size_request (GTK_WIDGET (self), 480, 320);
}

gboolean
scope_pfm_figure_set_layer (ScopePfmFigure *self,
                            ScopeModel     *model,
                            int             node)
{
  g_return_val_if_fail (SCOPE_IS_PFM_FIGURE (self), FALSE);

  if (model != self->model)
    {
      g_clear_pointer (&self->model, scope_model_unref);
      self->model = model != NULL ? scope_model_ref (model) : NULL;
    }
  self->valid = model != NULL && scope_pfm_find (&self->pfm, scope_model_get_nn_model (model),
                                                 node);
  g_clear_pointer (&self->caption, g_free);
  if (self->valid)
    {
      const NnGraph *g = scope_model_get_graph (model);
      g_autofree char *stem = scope_model_get_stem (model);
      g_autofree char *module = g_strndup (g->nodes[self->pfm.conv1x1].name,
                                           strlen (g->nodes[self->pfm.conv1x1].name)
                                           - strlen (".conv1x1"));
      self->caption = g_strdup_printf ("%s · PFNet module %s: %d input channel%s × %d "
                                       "filter%s → 1×1 → %d channels · diverging maps",
                                       stem, module, self->pfm.in_c,
                                       self->pfm.in_c == 1 ? "" : "s", self->pfm.f,
                                       self->pfm.f == 1 ? "" : "s", self->pfm.out_c);
      scope_accessible_set_label (GTK_WIDGET (self), self->caption);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return self->valid;
}

typedef struct
{
  ScopePfmFigure *self;
  VizStyle        style;
} ExportData;

static void
export_draw (cairo_t    *cr,
             const void *user_data,
             double      width,
             double      height)
{
  const ExportData *data = user_data;
  scope_pfm_draw (cr, &data->self->pfm, channel_get (data->self), data->self->caption,
                  &data->style, width, height);
}

gboolean
scope_pfm_figure_export (ScopePfmFigure  *self,
                         const char      *path,
                         GError         **error)
{
  g_return_val_if_fail (SCOPE_IS_PFM_FIGURE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!self->valid)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "%s: the selected layer is not part of a PFNet module", path);
      return FALSE;
    }
  ExportData data = { .self = self };
  viz_style_init (&data.style);
  data.style.tile_labels = TRUE;
  NnError err = { 0 };
  if (!viz_export (path, export_draw, &data, EXPORT_WIDTH, EXPORT_HEIGHT, &err))
    {
      scope_error_from_nn (error, &err);
      return FALSE;
    }
  return TRUE;
}
