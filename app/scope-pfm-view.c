/* SPDX-License-Identifier: MIT */
/* ScopePfmView: the module is found once per layer; every frame draws it through
 * scope_pfm_draw (a 1x1 matrix of up to 128 x 128 cells and 16 kernels: cheap to map). */
#include "scope-pfm-view.h"

#include <string.h>

#include "scope-error.h"
#include "scope-figure.h"
#include "scope-pfm.h"

#define EXPORT_WIDTH  1200.0
#define EXPORT_HEIGHT 750.0

struct _ScopePfmView
{
  ScopeChannelView parent_instance;

  ScopeModel      *model;
  gboolean         valid;
  ScopePfm         pfm;      /* points into model's graph */
  char            *caption;
};

G_DEFINE_FINAL_TYPE (ScopePfmView, scope_pfm_view, SCOPE_TYPE_CHANNEL_VIEW)

static void
screen_style (ScopePfmView *self,
              VizStyle     *style)
{
  scope_channel_view_screen_style (SCOPE_CHANNEL_VIEW (self), style);
  style->tile_labels = TRUE;
}

static int
channel_get (ScopePfmView *self)
{
  return scope_channel_view_get_channel (SCOPE_CHANNEL_VIEW (self));
}

static void
scope_pfm_view_snapshot (GtkWidget   *widget,
                         GtkSnapshot *snapshot)
{
  ScopePfmView *self = SCOPE_PFM_VIEW (widget);
  double width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  if (!self->valid || width <= 0 || height <= 0)
    return;
  VizStyle style;
  screen_style (self, &style);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  scope_pfm_draw (cr, &self->pfm, channel_get (self), self->caption, &style, width, height);
  cairo_destroy (cr);
}

static void
on_pressed (GtkGestureClick *gesture,
            int              n_press,
            double           x,
            double           y,
            ScopePfmView    *self)
{
  (void) n_press;
  if (!self->valid)
    return;
  VizStyle style;
  screen_style (self, &style);
  int row = scope_pfm_hit (&self->pfm, self->caption, &style,
                           gtk_widget_get_width (GTK_WIDGET (self)),
                           gtk_widget_get_height (GTK_WIDGET (self)), x, y);
  if (row >= 0)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
      scope_channel_view_set_channel (SCOPE_CHANNEL_VIEW (self), row);
    }
}

static void
scope_pfm_view_dispose (GObject *object)
{
  ScopePfmView *self = SCOPE_PFM_VIEW (object);

  self->valid = FALSE;
  g_clear_pointer (&self->model, scope_model_unref);
  g_clear_pointer (&self->caption, g_free);

  G_OBJECT_CLASS (scope_pfm_view_parent_class)->dispose (object);
}

static void
scope_pfm_view_class_init (ScopePfmViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = scope_pfm_view_dispose;
  widget_class->snapshot = scope_pfm_view_snapshot;

  gtk_widget_class_set_css_name (widget_class, "pfm-view");
}

static void
scope_pfm_view_init (ScopePfmView *self)
{
  gtk_widget_set_size_request (GTK_WIDGET (self), 480, 320);
  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
}

GtkWidget *
scope_pfm_view_new (void)
{
  return g_object_new (SCOPE_TYPE_PFM_VIEW, NULL);
}

gboolean
scope_pfm_view_set_layer (ScopePfmView *self,
                          ScopeModel   *model,
                          int           node)
{
  g_return_val_if_fail (SCOPE_IS_PFM_VIEW (self), FALSE);

  if (model != self->model)
    {
      g_clear_pointer (&self->model, scope_model_unref);
      self->model = model != NULL ? scope_model_ref (model) : NULL;
    }
  self->valid = model != NULL && scope_pfm_find (&self->pfm, scope_model_get_graph (model),
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
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return self->valid;
}

typedef struct
{
  ScopePfmView *self;
  VizStyle      style;
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
scope_pfm_view_export (ScopePfmView  *self,
                       const char    *path,
                       GError       **error)
{
  g_return_val_if_fail (SCOPE_IS_PFM_VIEW (self), FALSE);
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
