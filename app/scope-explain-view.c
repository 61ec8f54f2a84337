/* SPDX-License-Identifier: MIT */
/* ScopeExplainView: the pickers, one ScopeExplainJob per panel, and the figure drawn from the
 * immutable results the jobs deliver. Settings that change the maps restart the jobs; display
 * settings (among them the CT window of the slice under the overlay) only blend them again. */
#include "scope-explain-view.h"

#include <math.h>
#include <string.h>

#include "scope-error.h"
#include "scope-figure.h"

/* HU per pixel of a drag on the image. */
#define DRAG_HU_PER_PX 4.0
#define CUSTOM_WINDOW 3

typedef struct
{
  ScopeExplainJob     *job;
  ScopeExplanation    *explanation;
  ScopeExplainMetrics *metrics;
  double               fraction;
  gboolean             done;
  char                *error;
  VizColormap          colormap;
  cairo_surface_t     *surface;    /* the blended overlay, made when the map or display changes */
} Panel;

struct _ScopeExplainView
{
  GtkWidget       parent_instance;

  /* Template children. */
  GtkDropDown    *method_drop;
  GtkDropDown    *compare_drop;
  GtkDropDown    *class_drop;
  GtkLabel       *layer_label;
  GtkDropDown    *layer_drop;
  GtkScale       *opacity_scale;
  GtkCheckButton *signed_check;
  GtkCheckButton *fixed_check;
  GtkSpinButton  *fixed_spin;
  GtkBox         *ct_window_box;
  GtkDropDown    *ct_window_drop;
  GtkSpinButton  *ct_width_spin;
  GtkSpinButton  *ct_level_spin;
  GtkProgressBar *progress_bar;
  GtkButton      *cancel_button;
  GtkDrawingArea *canvas;

  ScopeModel     *model;
  ScopeInput     *input;       /* fits model, or NULL */
  float          *ct_display;  /* a CT slice: its HU plane through window, (c, h, w) */
  NnCtWindow      window;      /* how the input's HU plane is shown in ct_display */
  NnCtWindow      drag_start;  /* window when the drag on the image began */
  gboolean        syncing;     /* the window controls are being set: ignore their signals */
  int            *layers;      /* node of each entry of layer_drop */
  int             n_layers;
  gboolean        dirty;       /* the maps are out of date */
  gboolean        updating;    /* pickers are being filled: ignore their signals */
  char           *status;
  Panel           panels[VIZ_EXPLAIN_FIGURE_PANELS];
};

G_DEFINE_FINAL_TYPE (ScopeExplainView, scope_explain_view, GTK_TYPE_WIDGET)

static int
selected_method (ScopeExplainView *self,
                 int               panel)
{
  guint k = gtk_drop_down_get_selected (panel == 0 ? self->method_drop : self->compare_drop);
  if (k == GTK_INVALID_LIST_POSITION)
    return panel == 0 ? 0 : -1;
  return panel == 0 ? (int) k : (int) k - 1;
}

static int
n_panels (ScopeExplainView *self)
{
  return selected_method (self, 1) >= 0 ? 2 : 1;
}

static int
selected_class (ScopeExplainView *self)
{
  guint k = gtk_drop_down_get_selected (self->class_drop);
  return k == GTK_INVALID_LIST_POSITION || k == 0 ? -1 : (int) k - 1;
}

static int
selected_layer (ScopeExplainView *self)
{
  guint k = gtk_drop_down_get_selected (self->layer_drop);
  return k < (guint) self->n_layers ? self->layers[k] : -1;
}

static gboolean
uses_layer (int method)
{
  return nn_method_has_flags ((NnMethod) method, NN_METHOD_FLAG_LAYER);
}

static const char *
method_name (int method)
{
  return nn_method_get_info ((NnMethod) method)->name;
}

static gboolean
display_signed (ScopeExplainView *self)
{
  return gtk_check_button_get_active (self->signed_check);
}

static double
fixed_scale (ScopeExplainView *self)
{
  return gtk_check_button_get_active (self->fixed_check)
         ? gtk_spin_button_get_value (self->fixed_spin) : 0.0;
}

static double
opacity (ScopeExplainView *self)
{
  return gtk_range_get_value (GTK_RANGE (self->opacity_scale));
}

static const NnCtWindow presets[CUSTOM_WINDOW] = {
  NN_CT_WINDOW_LUNG, NN_CT_WINDOW_MEDIASTINUM, NN_CT_WINDOW_BONE,
};

static const NnInput *
nn_input (ScopeExplainView *self)
{
  return self->input != NULL ? scope_input_get_nn_input (self->input) : NULL;
}

/* What the overlays are drawn on: a CT slice through the display window, else the input's
 * display image; NULL when there is none. */
static const float *
display (ScopeExplainView *self)
{
  const NnInput *in = nn_input (self);
  if (in == NULL)
    return NULL;
  return in->hu != NULL ? self->ct_display : in->display;
}

static gboolean
is_ct (ScopeExplainView *self)
{
  return nn_input (self) != NULL && nn_input (self)->hu != NULL;
}

/* Blends panel p's overlay for the current display settings. */
static void
update_surface (ScopeExplainView *self,
                Panel            *p)
{
  g_clear_pointer (&p->surface, cairo_surface_destroy);
  if (p->explanation == NULL || display (self) == NULL)
    return;
  const NnMap *map = p->explanation->map;
  viz_heatmap_colormap_init (&p->colormap, map->map, (size_t) map->h * (size_t) map->w,
                             display_signed (self), fixed_scale (self));
  VizHeatmap hm = {
    .image = display (self), .c = nn_input (self)->c, .map = map->map, .h = map->h, .w = map->w,
    .colormap = &p->colormap, .opacity = opacity (self), .fade = display_signed (self),
  };
  p->surface = viz_heatmap_surface_new (&hm);
}

static void
update_progress (ScopeExplainView *self)
{
  int n = n_panels (self);
  double sum = 0.0;
  gboolean busy = FALSE;
  for (int i = 0; i < n; i++)
    {
      sum += self->panels[i].fraction;
      busy |= self->panels[i].job != NULL && !self->panels[i].done;
    }
  gtk_progress_bar_set_fraction (self->progress_bar, sum / n);
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), busy);
  if (self->status != NULL)
    gtk_progress_bar_set_text (self->progress_bar, self->status);
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

static void
set_status (ScopeExplainView *self,
            const char       *status)
{
  if (status != self->status)
    {
      g_free (self->status);
      self->status = g_strdup (status);
    }
  update_progress (self);
}

static void
panel_clear (Panel *p)
{
  if (p->job != NULL)
    scope_explain_job_cancel (p->job);
  g_clear_object (&p->job);
  g_clear_pointer (&p->explanation, nn_explanation_free);
  g_clear_pointer (&p->metrics, g_free);
  g_clear_pointer (&p->surface, cairo_surface_destroy);
  g_clear_pointer (&p->error, g_free);
  p->fraction = 0.0;
  p->done = FALSE;
}

static Panel *
panel_of_job (ScopeExplainView *self,
              ScopeExplainJob  *job)
{
  for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
    if (self->panels[i].job == job)
      return &self->panels[i];
  return NULL;
}

/* Job results. */

static void
on_map_ready (ScopeExplainJob  *job,
              ScopeExplanation *explanation,
              ScopeExplainView *self)
{
  Panel *p = panel_of_job (self, job);
  g_return_if_fail (p != NULL);
  g_clear_pointer (&p->explanation, nn_explanation_free);
  p->explanation = g_boxed_copy (SCOPE_TYPE_EXPLANATION, explanation);
  update_surface (self, p);
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

static void
on_metrics_changed (ScopeExplainJob     *job,
                    ScopeExplainMetrics *metrics,
                    ScopeExplainView    *self)
{
  Panel *p = panel_of_job (self, job);
  g_return_if_fail (p != NULL);
  g_clear_pointer (&p->metrics, g_free);
  p->metrics = g_boxed_copy (SCOPE_TYPE_EXPLAIN_METRICS, metrics);
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

static void
on_progress (ScopeExplainJob  *job,
             double            fraction,
             const char       *stage,
             ScopeExplainView *self)
{
  Panel *p = panel_of_job (self, job);
  g_return_if_fail (p != NULL);
  p->fraction = fraction;
  g_autofree char *text = g_strdup_printf ("Computing %s…", stage);
  set_status (self, text);
}

static void
on_finished (ScopeExplainJob  *job,
             const GError     *error,
             ScopeExplainView *self)
{
  Panel *p = panel_of_job (self, job);
  g_return_if_fail (p != NULL);
  p->done = TRUE;
  p->fraction = 1.0;
  if (error != NULL)
    p->error = g_strdup (error->message);
  gboolean all_done = TRUE;
  const char *failed = NULL;
  for (int i = 0; i < n_panels (self); i++)
    {
      all_done &= self->panels[i].done;
      if (self->panels[i].error != NULL)
        failed = self->panels[i].error;
    }
  if (failed != NULL)
    {
      g_autofree char *text = g_strdup_printf ("Failed: %s", failed);
      set_status (self, text);
    }
  else
    set_status (self, all_done ? "Done" : self->status);
}

/* Starting work. */

static void
run (ScopeExplainView *self)
{
  for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
    panel_clear (&self->panels[i]);
  if (self->model == NULL || self->input == NULL)
    {
      self->dirty = FALSE;
      set_status (self, self->model == NULL ? "No model" : "No image");
      return;
    }
  self->dirty = FALSE;
  for (int i = 0; i < n_panels (self); i++)
    {
      NnExplainSpec spec;
      nn_explain_spec_init (&spec);
      spec.map.method = (NnMethod) selected_method (self, i);
      spec.map.target = selected_class (self);
      spec.map.layer = selected_layer (self);
      spec.map.keep_negative = display_signed (self);
      spec.mask = scope_input_get_mask (self->input, NULL);
      Panel *p = &self->panels[i];
      p->job = scope_explain_job_new (self->model, self->input, &spec);
      g_signal_connect_object (p->job, "map-ready", G_CALLBACK (on_map_ready), self,
                               G_CONNECT_DEFAULT);
      g_signal_connect_object (p->job, "metrics-changed", G_CALLBACK (on_metrics_changed), self,
                               G_CONNECT_DEFAULT);
      g_signal_connect_object (p->job, "progress", G_CALLBACK (on_progress), self,
                               G_CONNECT_DEFAULT);
      g_signal_connect_object (p->job, "finished", G_CALLBACK (on_finished), self,
                               G_CONNECT_DEFAULT);
      g_autoptr (GError) error = NULL;
      if (!scope_explain_job_start (p->job, &error))
        {
          p->done = TRUE;
          p->error = g_strdup (error->message);
          g_autofree char *text = g_strdup_printf ("Failed: %s", error->message);
          set_status (self, text);
          return;
        }
    }
  set_status (self, "Computing map…");
}

/* Runs when the view is on screen and the maps are out of date. */
static void
maybe_run (ScopeExplainView *self)
{
  if (self->dirty && gtk_widget_get_mapped (GTK_WIDGET (self)))
    run (self);
}

static void
invalidate (ScopeExplainView *self)
{
  if (self->updating)
    return;
  self->dirty = TRUE;
  maybe_run (self);
}

static void
on_maps_setting_changed (GObject          *object,
                         GParamSpec       *pspec,
                         ScopeExplainView *self)
{
  (void) object;
  (void) pspec;
  gboolean layered = uses_layer (selected_method (self, 0))
                     || (selected_method (self, 1) >= 0 && uses_layer (selected_method (self, 1)));
  gtk_widget_set_sensitive (GTK_WIDGET (self->layer_drop), layered);
  gtk_widget_set_sensitive (GTK_WIDGET (self->layer_label), layered);
  invalidate (self);
}

static void
on_signed_toggled (GtkCheckButton   *check,
                   ScopeExplainView *self)
{
  (void) check;
  /* The CAM methods keep their negative part only when asked: the maps change. */
  invalidate (self);
}

static void
on_display_changed (ScopeExplainView *self)
{
  for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
    update_surface (self, &self->panels[i]);
  gtk_widget_set_sensitive (GTK_WIDGET (self->fixed_spin),
                            gtk_check_button_get_active (self->fixed_check));
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

/* Shows window in the controls (its preset, or Custom) and under the overlays. */
static void
set_window (ScopeExplainView *self,
            NnCtWindow        window)
{
  self->window = window;
  guint k = CUSTOM_WINDOW;
  for (guint i = 0; i < CUSTOM_WINDOW; i++)
    if (presets[i].width == window.width && presets[i].level == window.level)
      k = i;
  self->syncing = TRUE;
  gtk_drop_down_set_selected (self->ct_window_drop, k);
  gtk_spin_button_set_value (self->ct_width_spin, window.width);
  gtk_spin_button_set_value (self->ct_level_spin, window.level);
  self->syncing = FALSE;
  if (is_ct (self))
    {
      nn_input_render (nn_input (self), &self->window, self->ct_display);
      on_display_changed (self);
    }
}

static void
on_window_preset_changed (GObject          *object,
                          GParamSpec       *pspec,
                          ScopeExplainView *self)
{
  (void) object;
  (void) pspec;
  guint k = gtk_drop_down_get_selected (self->ct_window_drop);
  /* Custom keeps the values until they are edited or dragged. */
  if (!self->syncing && k < CUSTOM_WINDOW)
    set_window (self, presets[k]);
}

static void
on_window_value_changed (ScopeExplainView *self)
{
  if (!self->syncing)
    set_window (self, (NnCtWindow) {
                  (float) gtk_spin_button_get_value (self->ct_width_spin),
                  (float) gtk_spin_button_get_value (self->ct_level_spin),
                });
}

/* Dragging on a CT slice: right widens the window, down raises its level. */
static void
on_drag_begin (GtkGestureDrag   *gesture,
               double            x,
               double            y,
               ScopeExplainView *self)
{
  (void) x;
  (void) y;
  if (!is_ct (self))
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  self->drag_start = self->window;
}

static void
on_drag_update (GtkGestureDrag   *gesture,
                double            dx,
                double            dy,
                ScopeExplainView *self)
{
  (void) gesture;
  if (!is_ct (self))
    return;
  GtkAdjustment *wa = gtk_spin_button_get_adjustment (self->ct_width_spin);
  GtkAdjustment *la = gtk_spin_button_get_adjustment (self->ct_level_spin);
  double width = CLAMP (round (self->drag_start.width + dx * DRAG_HU_PER_PX),
                        gtk_adjustment_get_lower (wa), gtk_adjustment_get_upper (wa));
  double level = CLAMP (round (self->drag_start.level + dy * DRAG_HU_PER_PX),
                        gtk_adjustment_get_lower (la), gtk_adjustment_get_upper (la));
  set_window (self, (NnCtWindow) { (float) width, (float) level });
}

static void
on_cancel_clicked (GtkButton        *button,
                   ScopeExplainView *self)
{
  (void) button;
  scope_explain_view_cancel (self);
}

/* The figure. */

static const char *
class_label (ScopeExplainView *self,
             int               k)
{
  const NnModel *m = scope_model_get_nn_model (self->model);
  return k >= 0 && k < m->n_classes && m->labels != NULL && m->labels[k] != NULL ? m->labels[k]
                                                                                 : "?";
}

/* The metrics of the job as the figure shows them. */
static void
figure_metrics (VizExplainMetrics         *out,
                const ScopeExplainMetrics *m)
{
  memset (out, 0, sizeof *out);
  if (m == NULL)
    return;
  static const guint flags[][2] = {
    { NN_FAITH_DELETION, VIZ_EXPLAIN_HAS_DELETION },
    { NN_FAITH_INSERTION, VIZ_EXPLAIN_HAS_INSERTION },
    { NN_FAITH_ROAD_MORF | NN_FAITH_ROAD_LERF, VIZ_EXPLAIN_HAS_ROAD },
    { NN_FAITH_RANDOMIZATION, VIZ_EXPLAIN_HAS_RANDOMIZATION },
    { NN_FAITH_MASK, VIZ_EXPLAIN_HAS_MASK },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (flags); i++)
    if ((m->has & flags[i][0]) == flags[i][0])
      out->has |= flags[i][1];
  out->deletion = m->deletion;
  out->insertion = m->insertion;
  out->road_morf = m->road_morf_mean;
  out->road_lerf = m->road_lerf_mean;
  out->rho = m->rho;
  out->pointing = m->pointing;
  out->energy = m->energy;
}

/* Fills fig from the current state; the maps and the image stay the view's. */
static gboolean
make_figure (ScopeExplainView *self,
             VizExplainFigure *fig)
{
  if (self->model == NULL)
    return FALSE;
  memset (fig, 0, sizeof *fig);
  const NnModel *nn_model = scope_model_get_nn_model (self->model);
  const NnGraph *g = nn_model->graph;
  const ScopeExplanation *first = self->panels[0].explanation;
  fig->n_panels = n_panels (self);
  fig->faithfulness = TRUE;
  int layer = first != NULL && first->map->layer > 0 ? first->map->layer : selected_layer (self);
  gsize lit = 0;
  gboolean has_mask = self->input != NULL && scope_input_get_mask (self->input, &lit) != NULL;
  NnFaithSettings faith;
  nn_faith_settings_init (&faith);
  VizExplainCaption caption = {
    .model_path = scope_model_get_name (self->model),
    .model = nn_model,
    .input_path = self->input != NULL ? scope_input_get_name (self->input) : NULL,
    .target = first != NULL ? first->map->target : -1,
    .probability = first != NULL ? first->probability : 0.0,
    .top_prediction = first != NULL && selected_class (self) < 0,
    .layer = layer >= 0 ? g->nodes[layer].name : NULL,
    .n_methods = fig->n_panels,
    .opacity = opacity (self),
    .is_signed = display_signed (self),
    .fixed_scale = fixed_scale (self),
    .display_window = is_ct (self) ? &self->window : NULL,
    .faithfulness = TRUE,
    .seed = faith.seed,
    .mask_pixels = has_mask ? (int) lit : -1,
  };
  for (int i = 0; i < fig->n_panels; i++)
    caption.methods[i] = method_name (selected_method (self, i));
  viz_explain_figure_caption (fig->caption, sizeof fig->caption, &caption);

  for (int i = 0; i < fig->n_panels; i++)
    {
      Panel *p = &self->panels[i];
      VizExplainPanel *fp = &fig->panels[i];
      int method = selected_method (self, i);
      const char *name = method_name (method);
      g_strlcpy (fp->method, name, sizeof fp->method);
      const NnMap *map = p->explanation != NULL ? p->explanation->map : NULL;
      gboolean layered = map != NULL && uses_layer (method) && map->layer > 0;
      viz_explain_figure_panel_title (fp->title, sizeof fp->title, name, nn_model,
                                      map != NULL ? map->target : -1,
                                      layered ? g->nodes[map->layer].name : NULL, p->error);
      if (map != NULL)
        fp->heatmap = (VizHeatmap) {
          .image = display (self), .c = nn_input (self)->c, .map = map->map, .h = map->h,
          .w = map->w,
          .colormap = &p->colormap, .opacity = opacity (self), .fade = display_signed (self),
          .surface = p->surface,
        };
      figure_metrics (&fp->metrics, p->metrics);
    }
  for (int i = 0; first != NULL && i < first->k; i++)
    viz_explain_figure_add_prediction (fig, nn_model, first->top_class[i],
                                       first->top_probability[i]);
  return TRUE;
}

static void
draw_canvas (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        data)
{
  ScopeExplainView *self = data;
  VizExplainFigure fig;
  if (!make_figure (self, &fig))
    return;
  VizStyle style;
  scope_figure_style_init_screen (&style, GTK_WIDGET (area));
  viz_explain_figure_draw (cr, &fig, &style, width, height);
}

/* Filling the pickers. */

static void
fill_pickers (ScopeExplainView *self)
{
  self->updating = TRUE;
  g_autoptr (GtkStringList) classes = gtk_string_list_new (NULL);
  gtk_string_list_append (classes, "Top prediction");
  g_autoptr (GtkStringList) layers = gtk_string_list_new (NULL);
  g_clear_pointer (&self->layers, g_free);
  self->n_layers = 0;
  guint default_layer = GTK_INVALID_LIST_POSITION;
  if (self->model != NULL)
    {
      const NnModel *m = scope_model_get_nn_model (self->model);
      for (int k = 0; k < m->n_classes; k++)
        {
          g_autofree char *text = g_strdup_printf ("%d %s", k, class_label (self, k));
          gtk_string_list_append (classes, text);
        }
      const NnGraph *g = m->graph;
      int fallback = nn_explain_default_layer (g);
      self->layers = g_new (int, g->n_nodes);
      for (int i = 1; i < g->n_nodes; i++)
        if (nn_explain_check_layer (g, i, NULL))
          {
            if (i == fallback)
              default_layer = (guint) self->n_layers;
            self->layers[self->n_layers++] = i;
            g_autofree char *text = g_strdup_printf ("%s (%d×%d×%d)", g->nodes[i].name,
                                                     g->nodes[i].shape.c, g->nodes[i].shape.h,
                                                     g->nodes[i].shape.w);
            gtk_string_list_append (layers, text);
          }
    }
  gtk_drop_down_set_model (self->class_drop, G_LIST_MODEL (classes));
  gtk_drop_down_set_selected (self->class_drop, 0);
  gtk_drop_down_set_model (self->layer_drop, G_LIST_MODEL (layers));
  gtk_drop_down_set_selected (self->layer_drop, default_layer);
  self->updating = FALSE;
}

/* Public API. */

void
scope_explain_view_set_input (ScopeExplainView *self,
                              ScopeModel       *model,
                              ScopeInput       *input)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_VIEW (self));
  g_return_if_fail (input == NULL || scope_input_fits (input, model));

  if (model == self->model && input == self->input)
    return;
  for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
    panel_clear (&self->panels[i]);
  gboolean new_model = model != self->model;
  if (new_model)
    {
      g_clear_pointer (&self->model, scope_model_unref);
      self->model = model != NULL ? scope_model_ref (model) : NULL;
      fill_pickers (self);
    }
  g_clear_pointer (&self->input, scope_input_unref);
  g_clear_pointer (&self->ct_display, g_free);
  const NnInput *in = NULL;
  if (model != NULL && input != NULL && scope_input_get_nn_input (input)->display != NULL)
    {
      self->input = scope_input_ref (input);
      in = scope_input_get_nn_input (input);
      if (in->hu != NULL)
        self->ct_display = g_new (float, (gsize) in->c * in->h * in->w);
    }
  /* A new model starts from its own window (lung without one); a new slice keeps the window
   * chosen. */
  if (new_model && self->model != NULL)
    {
      const NnModel *m = scope_model_get_nn_model (self->model);
      set_window (self, m->has_window ? m->window : NN_CT_WINDOW_LUNG);
    }
  else if (is_ct (self))
    nn_input_render (in, &self->window, self->ct_display);
  gtk_widget_set_visible (GTK_WIDGET (self->ct_window_box), is_ct (self));
  self->dirty = TRUE;
  set_status (self, self->input != NULL ? "Waiting to be shown" : "No image");
  maybe_run (self);
}

gboolean
scope_explain_view_get_ct_window (ScopeExplainView *self,
                                  NnCtWindow       *window)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_VIEW (self), FALSE);

  if (window != NULL)
    *window = self->window;
  return is_ct (self);
}

gboolean
scope_explain_view_has_mask (ScopeExplainView *self)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_VIEW (self), FALSE);

  return self->input != NULL && scope_input_get_mask (self->input, NULL) != NULL;
}

void
scope_explain_view_set_method (ScopeExplainView *self,
                               int               panel,
                               int               method)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_VIEW (self));
  g_return_if_fail (panel == 0 || panel == 1);
  g_return_if_fail (method >= (panel == 0 ? 0 : -1) && method < NN_METHOD_COUNT_);

  if (panel == 0)
    gtk_drop_down_set_selected (self->method_drop, (guint) method);
  else
    gtk_drop_down_set_selected (self->compare_drop, (guint) (method + 1));
}

void
scope_explain_view_cancel (ScopeExplainView *self)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_VIEW (self));

  gboolean any = FALSE;
  for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
    if (self->panels[i].job != NULL && !self->panels[i].done)
      {
        scope_explain_job_cancel (self->panels[i].job);
        self->panels[i].done = TRUE;
        any = TRUE;
      }
  if (any)
    set_status (self, "Cancelled");
}

gboolean
scope_explain_view_is_busy (ScopeExplainView *self)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_VIEW (self), FALSE);

  if (self->dirty && self->input != NULL)
    return TRUE;
  for (int i = 0; i < n_panels (self); i++)
    if (self->panels[i].job != NULL && !self->panels[i].done)
      return TRUE;
  return FALSE;
}

ScopeExplanation *
scope_explain_view_get_explanation (ScopeExplainView *self,
                                    int               panel)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_VIEW (self), NULL);
  g_return_val_if_fail (panel >= 0 && panel < VIZ_EXPLAIN_FIGURE_PANELS, NULL);

  return self->panels[panel].explanation;
}

ScopeExplainMetrics *
scope_explain_view_get_metrics (ScopeExplainView *self,
                                int               panel)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_VIEW (self), NULL);
  g_return_val_if_fail (panel >= 0 && panel < VIZ_EXPLAIN_FIGURE_PANELS, NULL);

  return self->panels[panel].metrics;
}

gboolean
scope_explain_view_export (ScopeExplainView  *self,
                           const char        *path,
                           GError           **error)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_VIEW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  VizExplainFigure fig;
  if (self->panels[0].explanation == NULL || !make_figure (self, &fig))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   "%s: there is no attribution map to export yet", path);
      return FALSE;
    }
  NnError err = { 0 };
  if (viz_explain_figure_export (&fig, path, VIZ_EXPLAIN_FIGURE_WIDTH,
                                 VIZ_EXPLAIN_FIGURE_HEIGHT, &err))
    return TRUE;
  scope_error_from_nn (error, &err);
  return FALSE;
}

/* GObject and GtkWidget. */

static void
scope_explain_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (scope_explain_view_parent_class)->map (widget);
  maybe_run (SCOPE_EXPLAIN_VIEW (widget));
}

static void
scope_explain_view_dispose (GObject *object)
{
  ScopeExplainView *self = SCOPE_EXPLAIN_VIEW (object);

  for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
    panel_clear (&self->panels[i]);
  g_clear_pointer (&self->model, scope_model_unref);
  g_clear_pointer (&self->input, scope_input_unref);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (scope_explain_view_parent_class)->dispose (object);
}

static void
scope_explain_view_finalize (GObject *object)
{
  ScopeExplainView *self = SCOPE_EXPLAIN_VIEW (object);

  g_free (self->ct_display);
  g_free (self->layers);
  g_free (self->status);

  G_OBJECT_CLASS (scope_explain_view_parent_class)->finalize (object);
}

static void
scope_explain_view_class_init (ScopeExplainViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = scope_explain_view_dispose;
  object_class->finalize = scope_explain_view_finalize;
  widget_class->map = scope_explain_view_map;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cnnscope/Cnnscope/ui/scope-explain-view.ui");
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, method_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, compare_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, class_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, layer_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, layer_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, opacity_scale);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, signed_check);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, fixed_check);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, fixed_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, ct_window_box);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, ct_window_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, ct_width_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, ct_level_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, canvas);
}

static void
scope_explain_view_init (ScopeExplainView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_autoptr (GtkStringList) methods = gtk_string_list_new (NULL);
  g_autoptr (GtkStringList) compare = gtk_string_list_new (NULL);
  gtk_string_list_append (compare, "None");
  for (int i = 0; i < NN_METHOD_COUNT_; i++)
    {
      gtk_string_list_append (methods, nn_method_get_info ((NnMethod) i)->label);
      gtk_string_list_append (compare, nn_method_get_info ((NnMethod) i)->label);
    }
  gtk_drop_down_set_model (self->method_drop, G_LIST_MODEL (methods));
  gtk_drop_down_set_model (self->compare_drop, G_LIST_MODEL (compare));
  gtk_drop_down_set_selected (self->method_drop, 0);
  gtk_drop_down_set_selected (self->compare_drop, 0);
  fill_pickers (self);

  gtk_drawing_area_set_draw_func (self->canvas, draw_canvas, self, NULL);
  g_signal_connect (self->method_drop, "notify::selected", G_CALLBACK (on_maps_setting_changed),
                    self);
  g_signal_connect (self->compare_drop, "notify::selected",
                    G_CALLBACK (on_maps_setting_changed), self);
  g_signal_connect (self->class_drop, "notify::selected", G_CALLBACK (on_maps_setting_changed),
                    self);
  g_signal_connect (self->layer_drop, "notify::selected", G_CALLBACK (on_maps_setting_changed),
                    self);
  g_signal_connect (self->signed_check, "toggled", G_CALLBACK (on_signed_toggled), self);
  g_signal_connect_swapped (self->opacity_scale, "value-changed",
                            G_CALLBACK (on_display_changed), self);
  g_signal_connect_swapped (self->signed_check, "toggled", G_CALLBACK (on_display_changed),
                            self);
  g_signal_connect_swapped (self->fixed_check, "toggled", G_CALLBACK (on_display_changed), self);
  g_signal_connect_swapped (self->fixed_spin, "value-changed", G_CALLBACK (on_display_changed),
                            self);
  g_signal_connect (self->cancel_button, "clicked", G_CALLBACK (on_cancel_clicked), self);
  set_window (self, NN_CT_WINDOW_LUNG);
  g_signal_connect (self->ct_window_drop, "notify::selected",
                    G_CALLBACK (on_window_preset_changed), self);
  g_signal_connect_swapped (self->ct_width_spin, "value-changed",
                            G_CALLBACK (on_window_value_changed), self);
  g_signal_connect_swapped (self->ct_level_spin, "value-changed",
                            G_CALLBACK (on_window_value_changed), self);
  GtkGesture *drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self->canvas), GTK_EVENT_CONTROLLER (drag));
  gtk_widget_set_sensitive (GTK_WIDGET (self->fixed_spin), FALSE);
  set_status (self, "No model");
}
