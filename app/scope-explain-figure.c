/* SPDX-License-Identifier: MIT */
/* ScopeExplainFigure: copies of the results and the settings, one blended surface per panel,
 * and the VizExplainFigure made from them for each frame and each export. */
#include "scope-explain-figure.h"

#include <glib/gi18n.h>
#include <string.h>

#include "scope-accessible.h"
#include "scope-error.h"
#include "scope-figure.h"

typedef struct
{
  ScopeExplanation    *explanation;
  ScopeExplainMetrics *metrics;
  char                *error;
  VizColormap          colormap;
  cairo_surface_t     *surface;   /* the map over the image, blended when either changes */
  gboolean             stopped;   /* its job was cancelled: what is missing will not come */
} Panel;

struct _ScopeExplainFigure
{
  GtkWidget                   parent_instance;

  ScopeExplainFigureSettings  settings;  /* its pointers point to the copies below */
  NnCtWindow                  display_window;
  float                      *image;
  Panel                       panels[VIZ_EXPLAIN_FIGURE_PANELS];
};

G_DEFINE_FINAL_TYPE (ScopeExplainFigure, scope_explain_figure, GTK_TYPE_WIDGET)

static const NnInput *
nn_input (ScopeExplainFigure *self)
{
  return self->settings.input != NULL ? scope_input_get_nn_input (self->settings.input) : NULL;
}

/* Blends panel i's map over the image for the current settings. */
static void
update_surface (ScopeExplainFigure *self,
                int                 i)
{
  Panel *p = &self->panels[i];
  g_clear_pointer (&p->surface, cairo_surface_destroy);
  if (p->explanation == NULL || self->image == NULL)
    return;
  const NnMap *map = p->explanation->map;
  const ScopeExplainFigureSettings *s = &self->settings;
  viz_heatmap_colormap_init (&p->colormap, map->map, (size_t) map->h * (size_t) map->w,
                             s->is_signed, s->fixed_scale);
  VizHeatmap hm = {
    .image = self->image, .c = nn_input (self)->c, .map = map->map, .h = map->h, .w = map->w,
    .colormap = &p->colormap, .opacity = s->opacity, .fade = s->is_signed,
  };
  p->surface = viz_heatmap_surface_new (&hm);
}

/* The caption: every setting of the figure. */
static void
figure_caption (ScopeExplainFigure *self,
                VizExplainFigure   *fig)
{
  const ScopeExplainFigureSettings *s = &self->settings;
  const NnModel *m = scope_model_get_nn_model (s->model);
  const ScopeExplanation *first = self->panels[0].explanation;
  int layer = first != NULL && first->map->layer > 0 ? first->map->layer : s->layer;
  gsize lit = 0;
  gboolean has_mask = s->input != NULL && scope_input_get_mask (s->input, &lit) != NULL;
  NnFaithSettings faith;
  nn_faith_settings_init (&faith);
  VizExplainCaption caption = {
    .model_path = scope_model_get_name (s->model),
    .model = m,
    .input_path = s->input != NULL ? scope_input_get_name (s->input) : NULL,
    .target = first != NULL ? first->map->target : -1,
    .probability = first != NULL ? first->probability : 0.0,
    .top_prediction = first != NULL && s->target < 0,
    .layer = layer >= 0 ? m->graph->nodes[layer].name : NULL,
    .n_methods = s->n_panels,
    .opacity = s->opacity,
    .is_signed = s->is_signed,
    .fixed_scale = s->fixed_scale,
    .display_window = s->display_window,
    .faithfulness = TRUE,
    .faith = &faith,
    .mask_pixels = has_mask ? (int) lit : -1,
  };
  for (int i = 0; i < s->n_panels; i++)
    caption.methods[i] = nn_method_get_info (s->methods[i])->name;
  viz_explain_figure_caption (fig->caption, sizeof fig->caption, &caption);
}

/* The figure of what the widget holds; its arrays are the widget's. FALSE without a model. */
static gboolean
make_figure (ScopeExplainFigure *self,
             VizExplainFigure   *fig)
{
  const ScopeExplainFigureSettings *s = &self->settings;
  if (s->model == NULL)
    return FALSE;
  memset (fig, 0, sizeof *fig);
  const NnModel *m = scope_model_get_nn_model (s->model);
  fig->n_panels = s->n_panels;
  fig->faithfulness = TRUE;
  figure_caption (self, fig);
  for (int i = 0; i < s->n_panels; i++)
    {
      Panel *p = &self->panels[i];
      VizExplainPanel *fp = &fig->panels[i];
      const char *name = nn_method_get_info (s->methods[i])->name;
      g_strlcpy (fp->method, name, sizeof fp->method);
      const NnMap *map = p->explanation != NULL ? p->explanation->map : NULL;
      gboolean layered = map != NULL && map->layer > 0
                         && nn_method_has_flags (s->methods[i], NN_METHOD_FLAG_LAYER);
      viz_explain_figure_panel_title (fp->title, sizeof fp->title, name, m,
                                      map != NULL ? map->target : -1,
                                      layered ? m->graph->nodes[map->layer].name : NULL,
                                      p->error);
      /* Integrated Gradients: how far its attributions are from summing to f(x) - f(x'). */
      if (p->explanation != NULL && p->explanation->has_delta && p->error == NULL)
        {
          gsize len = strlen (fp->title);
          g_snprintf (fp->title + len, sizeof fp->title - len, ", delta %.3g",
                      p->explanation->delta);
        }
      if (map != NULL && self->image != NULL)
        fp->heatmap = (VizHeatmap) {
          .image = self->image, .c = nn_input (self)->c, .map = map->map, .h = map->h,
          .w = map->w, .colormap = &p->colormap, .opacity = s->opacity, .fade = s->is_signed,
          .surface = p->surface,
          .mask = s->input != NULL ? scope_input_get_mask (s->input, NULL) : NULL,
        };
      if (p->metrics != NULL)
        viz_explain_metrics_from_faith (&fp->metrics, p->metrics);
      fp->metrics.stopped = p->stopped;
    }
  const ScopeExplanation *first = self->panels[0].explanation;
  for (int i = 0; first != NULL && i < first->k; i++)
    viz_explain_figure_add_prediction (fig, m, first->top_class[i], first->top_probability[i]);
  return TRUE;
}

void
scope_explain_figure_set_settings (ScopeExplainFigure               *self,
                                   const ScopeExplainFigureSettings *settings)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_FIGURE (self));
  g_return_if_fail (settings != NULL);
  g_return_if_fail (settings->n_panels >= 1 && settings->n_panels <= VIZ_EXPLAIN_FIGURE_PANELS);
  g_return_if_fail (settings->input == NULL || settings->image != NULL);

  ScopeExplainFigureSettings *s = &self->settings;
  ScopeModel *model = settings->model != NULL ? scope_model_ref (settings->model) : NULL;
  ScopeInput *input = settings->input != NULL ? scope_input_ref (settings->input) : NULL;
  g_clear_pointer (&s->model, scope_model_unref);
  g_clear_pointer (&s->input, scope_input_unref);
  g_clear_pointer (&self->image, g_free);
  *s = *settings;
  s->model = model;
  s->input = input;
  if (input != NULL)
    {
      const NnInput *in = scope_input_get_nn_input (input);
      self->image = g_memdup2 (settings->image, (gsize) in->c * in->h * in->w * sizeof (float));
    }
  s->image = self->image;
  if (settings->display_window != NULL)
    self->display_window = *settings->display_window;
  s->display_window = settings->display_window != NULL ? &self->display_window : NULL;
  for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
    update_surface (self, i);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
scope_explain_figure_set_explanation (ScopeExplainFigure     *self,
                                      int                     panel,
                                      const ScopeExplanation *explanation)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_FIGURE (self));
  g_return_if_fail (panel >= 0 && panel < VIZ_EXPLAIN_FIGURE_PANELS);

  Panel *p = &self->panels[panel];
  g_clear_pointer (&p->explanation, nn_explanation_free);
  if (explanation != NULL)
    p->explanation = g_boxed_copy (SCOPE_TYPE_EXPLANATION, explanation);
  update_surface (self, panel);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
scope_explain_figure_set_metrics (ScopeExplainFigure        *self,
                                  int                        panel,
                                  const ScopeExplainMetrics *metrics,
                                  const char                *error)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_FIGURE (self));
  g_return_if_fail (panel >= 0 && panel < VIZ_EXPLAIN_FIGURE_PANELS);

  Panel *p = &self->panels[panel];
  g_clear_pointer (&p->metrics, g_free);
  g_clear_pointer (&p->error, g_free);
  if (metrics != NULL)
    p->metrics = g_boxed_copy (SCOPE_TYPE_EXPLAIN_METRICS, metrics);
  p->error = g_strdup (error);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

char *
scope_explain_figure_get_metric_text (ScopeExplainFigure *self,
                                      int                 panel,
                                      VizExplainRow       row)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_FIGURE (self), NULL);

  VizExplainFigure fig;
  if (!make_figure (self, &fig) || panel < 0 || panel >= fig.n_panels)
    return NULL;
  char text[64];
  viz_explain_figure_format_metric (text, sizeof text, &fig, panel, row);
  return g_strdup (text);
}

void
scope_explain_figure_set_stopped (ScopeExplainFigure *self,
                                  int                 panel,
                                  gboolean            stopped)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_FIGURE (self));
  g_return_if_fail (panel >= 0 && panel < VIZ_EXPLAIN_FIGURE_PANELS);

  self->panels[panel].stopped = stopped;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
scope_explain_figure_export (ScopeExplainFigure  *self,
                             const char          *path,
                             GError             **error)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_FIGURE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  VizExplainFigure fig;
  if (self->panels[0].explanation == NULL || !make_figure (self, &fig))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   _ ("%s: there is no attribution map to export yet"), path);
      return FALSE;
    }
  NnError err = { 0 };
  if (viz_explain_figure_export (&fig, path, VIZ_EXPLAIN_FIGURE_WIDTH,
                                 VIZ_EXPLAIN_FIGURE_HEIGHT, &err))
    return TRUE;
  scope_error_from_nn (error, &err);
  return FALSE;
}

static void
scope_explain_figure_snapshot (GtkWidget   *widget,
                               GtkSnapshot *snapshot)
{
  ScopeExplainFigure *self = SCOPE_EXPLAIN_FIGURE (widget);
  double width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  VizExplainFigure fig;
  if (width <= 0 || height <= 0 || !make_figure (self, &fig))
    return;
  VizStyle style;
  scope_figure_style_init_screen (&style, widget);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  viz_explain_figure_draw (cr, &fig, &style, width, height);
  cairo_destroy (cr);
  /* Named for assistive technologies by its panels' titles ("Grad-CAM · layer4 · class 3"). */
  g_autoptr (GString) label = g_string_new (NULL);
  for (int i = 0; i < fig.n_panels; i++)
    g_string_append_printf (label, "%s%s", i > 0 ? "; " : "", fig.panels[i].title);
  scope_accessible_set_label (widget, label->str);
}

static void
scope_explain_figure_css_changed (GtkWidget         *widget,
                                  GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (scope_explain_figure_parent_class)->css_changed (widget, change);
  gtk_widget_queue_draw (widget);
}

static void
scope_explain_figure_dispose (GObject *object)
{
  ScopeExplainFigure *self = SCOPE_EXPLAIN_FIGURE (object);

  for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
    {
      Panel *p = &self->panels[i];
      g_clear_pointer (&p->explanation, nn_explanation_free);
      g_clear_pointer (&p->metrics, g_free);
      g_clear_pointer (&p->error, g_free);
      g_clear_pointer (&p->surface, cairo_surface_destroy);
    }
  g_clear_pointer (&self->settings.model, scope_model_unref);
  g_clear_pointer (&self->settings.input, scope_input_unref);
  g_clear_pointer (&self->image, g_free);
  self->settings.image = NULL;

  G_OBJECT_CLASS (scope_explain_figure_parent_class)->dispose (object);
}

static void
scope_explain_figure_class_init (ScopeExplainFigureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = scope_explain_figure_dispose;
  widget_class->snapshot = scope_explain_figure_snapshot;
  widget_class->css_changed = scope_explain_figure_css_changed;
  gtk_widget_class_set_css_name (widget_class, "explain-figure");
}

static void
scope_explain_figure_init (ScopeExplainFigure *self)
{
  self->settings.n_panels = 1;
  self->settings.target = -1;
  self->settings.layer = -1;
  scope_accessible_set_label (GTK_WIDGET (self), _ ("Attribution map (nothing shown yet)"));
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
}
