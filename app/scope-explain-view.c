/* SPDX-License-Identifier: MIT */
/* ScopeExplainView: the orchestrating half of the Explain view. Its pickers make the settings,
 * one ScopeExplainJob per panel computes them, and the immutable results the jobs deliver go to
 * ScopeExplainFigure, the drawing half. Settings that change the maps restart the jobs; display
 * settings (among them the CT window of the slice under the overlay, rendered again from the
 * input's HU plane) only go to the figure, which blends the maps again. */
#include "scope-explain-view.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scope-batch-window.h"
#include "scope-drop-down.h"
#include "scope-explain-figure.h"
#include "scope-file-dialog.h"
#include "scope-wrap-box.h"

/* HU per pixel of a drag on the image. */
#define DRAG_HU_PER_PX 4.0
#define CUSTOM_WINDOW 3

/* The entries of the baseline menu: NnBaselineKind's, then a chosen image. */
#define BASELINE_IMAGE NN_BASELINE_COUNT_

typedef struct
{
  ScopeExplainJob     *job;
  ScopeExplanation    *explanation;
  ScopeExplainMetrics *metrics;
  double               fraction;
  gboolean             done;
  char                *error;
  ScopeTrainStamp      job_stamp;    /* of the weights the job runs on (version 0: not a
                                        training run's) */
  ScopeTrainStamp      shown_stamp;  /* of the weights `explanation` came from */
  ScopeModel          *job_model;    /* the weights the job runs on */
} Panel;

struct _ScopeExplainView
{
  ScopeView           parent_instance;

  /* Template children. */
  GtkDropDown        *method_drop;
  GtkDropDown        *compare_drop;
  GtkBox             *ig_box;
  GtkDropDown        *ig_baseline_drop;
  GtkButton          *ig_image_button;
  GtkSpinButton      *ig_steps_spin;
  GtkLabel           *ig_delta_label;
  GtkBox             *smooth_box;
  GtkSpinButton      *smooth_samples_spin;
  GtkSpinButton      *smooth_noise_spin;
  GtkBox             *occlusion_box;
  GtkSpinButton      *occlusion_window_spin;
  GtkSpinButton      *occlusion_stride_spin;
  GtkBox             *shap_box;
  GtkSpinButton      *shap_samples_spin;
  GtkSpinButton      *shap_noise_spin;
  GtkDropDown        *class_drop;
  GtkLabel           *layer_label;
  GtkDropDown        *layer_drop;
  GtkScale           *opacity_scale;
  GtkCheckButton     *signed_check;
  GtkCheckButton     *fixed_check;
  GtkSpinButton      *fixed_spin;
  GtkBox             *ct_window_box;
  GtkDropDown        *ct_window_drop;
  GtkSpinButton      *ct_width_spin;
  GtkSpinButton      *ct_level_spin;
  GtkButton          *folder_button;
  GtkProgressBar     *progress_bar;
  GtkButton          *cancel_button;
  ScopeExplainFigure *figure;

  ScopeModel         *picked;      /* the model the pickers were filled for */
  ScopeInput         *baseline_image;  /* IG's chosen baseline, built for the model, or NULL */
  float              *ct_display;  /* a CT slice: its HU plane through window, (c, h, w) */
  NnCtWindow          window;      /* how the input's HU plane is shown in ct_display */
  NnCtWindow          default_window;  /* for a model without a window of its own */
  NnCtWindow          drag_start;  /* window when the drag on the image began */
  gboolean            syncing;     /* the window controls are being set: ignore their signals */
  int                *layers;      /* node of each entry of layer_drop */
  int                 n_layers;
  gboolean            dirty;       /* the maps are out of date */
  gboolean            updating;    /* pickers are being filled: ignore their signals */
  char               *status;
  ScopeModel         *figure_model;  /* the weights of the maps shown (the caption names them),
                                        NULL: the window's model */
  gboolean            live_pending;  /* newer weights of the training run wait for the jobs */
  guint               n_runs;        /* explanations started, each of one or two panels */
  Panel               panels[VIZ_EXPLAIN_FIGURE_PANELS];
};

G_DEFINE_FINAL_TYPE (ScopeExplainView, scope_explain_view, SCOPE_TYPE_VIEW)

/* The settings. */

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

/* Whether panel 0, or panel 1 when it shows, uses method. */
static gboolean
shows_method (ScopeExplainView *self,
              NnMethod          method)
{
  return selected_method (self, 0) == (int) method || selected_method (self, 1) == (int) method;
}

/* Each method's own settings are shown while a panel uses that method. */
static void
update_method_settings (ScopeExplainView *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->ig_box), shows_method (self, NN_METHOD_IG));
  gtk_widget_set_visible (GTK_WIDGET (self->smooth_box),
                          shows_method (self, NN_METHOD_SMOOTHGRAD));
  gtk_widget_set_visible (GTK_WIDGET (self->occlusion_box),
                          shows_method (self, NN_METHOD_OCCLUSION));
  gtk_widget_set_visible (GTK_WIDGET (self->shap_box),
                          shows_method (self, NN_METHOD_GRADIENT_SHAP));
  gboolean image = gtk_drop_down_get_selected (self->ig_baseline_drop) == BASELINE_IMAGE;
  gtk_widget_set_visible (GTK_WIDGET (self->ig_image_button), image);
  if (!shows_method (self, NN_METHOD_IG))
    gtk_label_set_text (self->ig_delta_label, "");
}

static int
spin_int (GtkSpinButton *spin)
{
  return gtk_spin_button_get_value_as_int (spin);
}

/* IG's baseline for the input as the menu asks (zeros when Image is chosen but no image is),
 * to free with free(), or NULL for zeros. */
static float *
ig_baseline (ScopeExplainView *self,
             const NnInput    *in)
{
  guint k = gtk_drop_down_get_selected (self->ig_baseline_drop);
  if (k == BASELINE_IMAGE)
    {
      if (self->baseline_image == NULL)
        return NULL;
      const NnInput *b = scope_input_get_nn_input (self->baseline_image);
      float *x = g_try_malloc (sizeof (float) * (gsize) in->c * (gsize) in->h * (gsize) in->w);
      if (x != NULL)
        memcpy (x, b->tensor, sizeof (float) * (gsize) in->c * (gsize) in->h * (gsize) in->w);
      return x;
    }
  if (k == NN_BASELINE_ZERO || k >= NN_BASELINE_COUNT_)
    return NULL;
  return nn_baseline_new ((NnBaselineKind) k, scope_model_get_nn_model (
                            scope_view_get_model (SCOPE_VIEW (self))),
                          in->tensor, 0.0f, 1, NULL);
}

/* The method settings of panel i's method into spec (the baseline is set by the caller). */
static void
method_settings (ScopeExplainView *self,
                 NnMethodSpec     *spec)
{
  switch (spec->method)
    {
    case NN_METHOD_IG:
      spec->samples = spin_int (self->ig_steps_spin);
      break;
    case NN_METHOD_SMOOTHGRAD:
      spec->samples = spin_int (self->smooth_samples_spin);
      spec->noise = (float) gtk_spin_button_get_value (self->smooth_noise_spin);
      break;
    case NN_METHOD_GRADIENT_SHAP:
      spec->samples = spin_int (self->shap_samples_spin);
      spec->noise = (float) gtk_spin_button_get_value (self->shap_noise_spin);
      break;
    case NN_METHOD_OCCLUSION:
      spec->window = spin_int (self->occlusion_window_spin);
      spec->stride = MIN (spin_int (self->occlusion_stride_spin), spec->window);
      break;
    case NN_METHOD_GRADCAM:
    case NN_METHOD_GRADCAM_PP:
    case NN_METHOD_XGRADCAM:
    case NN_METHOD_HIRESCAM:
    case NN_METHOD_LAYERCAM:
    case NN_METHOD_SCORECAM:
    case NN_METHOD_EIGENCAM:
    case NN_METHOD_ABLATIONCAM:
    case NN_METHOD_EIGENGRADCAM:
    case NN_METHOD_GRADIENT:
    case NN_METHOD_GUIDED:
    case NN_METHOD_GUIDED_GRADCAM:
    case NN_METHOD_FULLGRAD:
    case NN_METHOD_DEEPLIFT:
    case NN_METHOD_LRP_GAMMA_BOX:
    case NN_METHOD_LRP_PLUS_FLAT:
    case NN_METHOD_LRP_ALPHA_BETA:
    case NN_METHOD_ROLLOUT:
    case NN_METHOD_ATTN_GRAD:
    case NN_METHOD_COUNT_:
    default:
      break;
    }
}

static const NnCtWindow presets[CUSTOM_WINDOW] = {
  NN_CT_WINDOW_LUNG, NN_CT_WINDOW_MEDIASTINUM, NN_CT_WINDOW_BONE,
};

/* The model, and the input when there is an image to draw the overlays on. */

static ScopeModel *
model (ScopeExplainView *self)
{
  return scope_view_get_model (SCOPE_VIEW (self));
}

static ScopeInput *
input (ScopeExplainView *self)
{
  ScopeInput *in = scope_view_get_input (SCOPE_VIEW (self));
  return in != NULL && scope_input_get_nn_input (in)->display != NULL ? in : NULL;
}

static const NnInput *
nn_input (ScopeExplainView *self)
{
  return input (self) != NULL ? scope_input_get_nn_input (input (self)) : NULL;
}

static gboolean
is_ct (ScopeExplainView *self)
{
  return nn_input (self) != NULL && nn_input (self)->hu != NULL;
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

static const char *
class_label (const NnModel *m,
             int            k)
{
  return k >= 0 && k < m->n_classes && m->labels != NULL && m->labels[k] != NULL ? m->labels[k]
                                                                                 : "?";
}

/* The figure's settings: what the view shows the maps on, and how. */
static void
update_figure (ScopeExplainView *self)
{
  ScopeExplainFigureSettings s = {
    .model = self->figure_model != NULL ? self->figure_model : model (self),
    .input = input (self),
    .image = display (self),
    .display_window = is_ct (self) ? &self->window : NULL,
    .opacity = opacity (self),
    .is_signed = display_signed (self),
    .fixed_scale = fixed_scale (self),
    .target = selected_class (self),
    .layer = selected_layer (self),
    .n_panels = n_panels (self),
  };
  for (int i = 0; i < s.n_panels; i++)
    s.methods[i] = (NnMethod) selected_method (self, i);
  scope_explain_figure_set_settings (self->figure, &s);
}

/* Progress and status. */

static gboolean
panel_running (const Panel *p)
{
  return p->job != NULL && !p->done;
}

static void
update_progress (ScopeExplainView *self)
{
  int n = n_panels (self);
  double sum = 0.0;
  gboolean running = FALSE;
  for (int i = 0; i < n; i++)
    {
      sum += self->panels[i].fraction;
      running |= panel_running (&self->panels[i]);
    }
  gtk_progress_bar_set_fraction (self->progress_bar, sum / n);
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), running);
  if (self->status != NULL)
    gtk_progress_bar_set_text (self->progress_bar, self->status);
  scope_view_set_busy (SCOPE_VIEW (self), running || (self->dirty && input (self) != NULL));
}

/* status, and while a training run's weights are explained, which of its steps they are. */
static void
set_status (ScopeExplainView *self,
            const char       *status);

static void
set_status_stamped (ScopeExplainView *self,
                    const char       *status)
{
  const ScopeTrainStamp *stamp = &self->panels[0].shown_stamp;
  if (stamp->version == 0)
    {
      set_status (self, status);
      return;
    }
  /* Translators: a status, then the training step and (1-based) epoch of the weights the map
   * was computed with. */
  g_autofree char *text = g_strdup_printf (_ ("%s · weights of step %ld, epoch %d"), status,
                                           stamp->step, stamp->epoch + 1);
  set_status (self, text);
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
panel_clear (ScopeExplainView *self,
             int               i)
{
  Panel *p = &self->panels[i];
  if (p->job != NULL)
    scope_explain_job_cancel (p->job);
  g_clear_object (&p->job);
  g_clear_pointer (&p->explanation, nn_explanation_free);
  g_clear_pointer (&p->metrics, g_free);
  g_clear_pointer (&p->error, g_free);
  p->fraction = 0.0;
  p->done = FALSE;
  p->shown_stamp = (ScopeTrainStamp) { 0 };
  scope_explain_figure_set_explanation (self->figure, i, NULL);
  scope_explain_figure_set_metrics (self->figure, i, NULL, NULL);
  scope_explain_figure_set_stopped (self->figure, i, FALSE);
  scope_view_set_can_export (SCOPE_VIEW (self), self->panels[0].explanation != NULL);
}

static void
panels_clear (ScopeExplainView *self)
{
  for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
    panel_clear (self, i);
}

/* The panel of job, or -1. */
static int
panel_of_job (ScopeExplainView *self,
              ScopeExplainJob  *job)
{
  for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
    if (self->panels[i].job == job)
      return i;
  return -1;
}

/* Job results. */

/* IG's convergence delta beside its steps: of each panel that has one. */
static void
update_delta (ScopeExplainView *self)
{
  g_autoptr (GString) text = g_string_new (NULL);
  for (int i = 0; i < n_panels (self); i++)
    {
      const ScopeExplanation *e = self->panels[i].explanation;
      if (e != NULL && e->has_delta)
        g_string_append_printf (text, "%sΔ %.3g", text->len > 0 ? ", " : "", e->delta);
    }
  gtk_label_set_text (self->ig_delta_label, text->str);
}

static void
on_map_ready (ScopeExplainJob  *job,
              ScopeExplanation *explanation,
              ScopeExplainView *self)
{
  int i = panel_of_job (self, job);
  g_return_if_fail (i >= 0);
  Panel *p = &self->panels[i];
  g_clear_pointer (&p->explanation, nn_explanation_free);
  p->explanation = g_boxed_copy (SCOPE_TYPE_EXPLANATION, explanation);
  p->shown_stamp = p->job_stamp;
  if (i == 0 && self->figure_model != p->job_model)
    {
      g_clear_pointer (&self->figure_model, scope_model_unref);
      self->figure_model = scope_model_ref (p->job_model);
      update_figure (self);
    }
  double map_s, total_s;
  scope_explain_job_get_seconds (job, &map_s, &total_s);
  g_autofree char *timing = scope_explain_timing_text (explanation, map_s, 0.0);
  set_status_stamped (self, timing);
  scope_explain_figure_set_explanation (self->figure, i, explanation);
  scope_view_set_can_export (SCOPE_VIEW (self), self->panels[0].explanation != NULL);
  update_delta (self);
}

static void
on_metrics_changed (ScopeExplainJob     *job,
                    ScopeExplainMetrics *metrics,
                    ScopeExplainView    *self)
{
  int i = panel_of_job (self, job);
  g_return_if_fail (i >= 0);
  Panel *p = &self->panels[i];
  g_clear_pointer (&p->metrics, g_free);
  p->metrics = g_boxed_copy (SCOPE_TYPE_EXPLAIN_METRICS, metrics);
  scope_explain_figure_set_metrics (self->figure, i, p->metrics, p->error);
}

static void
on_progress (ScopeExplainJob  *job,
             double            fraction,
             const char       *stage,
             ScopeExplainView *self)
{
  int i = panel_of_job (self, job);
  g_return_if_fail (i >= 0);
  self->panels[i].fraction = fraction;
  /* Translators: the stage of an explanation, as the engine names it ("map", "deletion"). */
  g_autofree char *text = g_strdup_printf (_ ("Computing %s…"), stage);
  set_status (self, text);
}

static void follow_weights (ScopeExplainView *self);

static void
on_finished (ScopeExplainJob  *job,
             const GError     *error,
             ScopeExplainView *self)
{
  int k = panel_of_job (self, job);
  g_return_if_fail (k >= 0);
  Panel *p = &self->panels[k];
  p->done = TRUE;
  p->fraction = 1.0;
  if (error != NULL)
    {
      p->error = g_strdup (error->message);
      scope_explain_figure_set_metrics (self->figure, k, p->metrics, p->error);
    }
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
      g_autofree char *text = g_strdup_printf (_ ("Failed: %s"), failed);
      set_status (self, text);
    }
  else if (all_done)
    {
      /* how long each panel's map and whole run took */
      g_autoptr (GString) text = g_string_new (_ ("Done"));
      const gsize bare = text->len;
      for (int i = 0; i < n_panels (self); i++)
        {
          const Panel *q = &self->panels[i];
          double map_s, total_s;
          scope_explain_job_get_seconds (q->job, &map_s, &total_s);
          if (q->explanation == NULL)
            continue;
          g_autofree char *timing = scope_explain_timing_text (q->explanation, map_s, total_s);
          g_string_append_printf (text, "%s%s", text->len == bare ? ": " : " · ", timing);
        }
      set_status_stamped (self, text->str);
    }
  if (all_done && self->live_pending)
    follow_weights (self);
}

/* Starting work. */

/* Starts panel i's job; FALSE with error when its thread cannot start. */
static gboolean
panel_start (ScopeExplainView  *self,
             int                i,
             GError           **error)
{
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  /* the contexts take the engine's threads (the Threads preference) and the batch
   * nn_explain_batch_size chooses for them */
  spec.threads = 0;
  spec.map.method = (NnMethod) selected_method (self, i);
  spec.map.target = selected_class (self);
  spec.map.layer = selected_layer (self);
  spec.map.keep_negative = display_signed (self);
  method_settings (self, &spec.map);
  float *baseline = spec.map.method == NN_METHOD_IG ? ig_baseline (self, nn_input (self)) : NULL;
  spec.map.baseline = baseline;
  spec.mask = scope_input_get_mask (input (self), NULL);
  Panel *p = &self->panels[i];
  p->job = scope_explain_job_new (model (self), input (self), &spec);
  scope_model_get_stamp (model (self), &p->job_stamp);
  g_clear_pointer (&p->job_model, scope_model_unref);
  p->job_model = scope_model_ref (model (self));
  free (baseline);
  g_signal_connect_object (p->job, "map-ready", G_CALLBACK (on_map_ready), self,
                           G_CONNECT_DEFAULT);
  g_signal_connect_object (p->job, "metrics-changed", G_CALLBACK (on_metrics_changed), self,
                           G_CONNECT_DEFAULT);
  g_signal_connect_object (p->job, "progress", G_CALLBACK (on_progress), self,
                           G_CONNECT_DEFAULT);
  g_signal_connect_object (p->job, "finished", G_CALLBACK (on_finished), self,
                           G_CONNECT_DEFAULT);
  if (scope_explain_job_start (p->job, error))
    return TRUE;
  p->done = TRUE;
  p->error = g_strdup ((*error)->message);
  scope_explain_figure_set_metrics (self->figure, i, NULL, p->error);
  return FALSE;
}

/* Starts the panels' jobs; keep: the maps shown stay until the new ones replace them (newer
 * weights of a training run). */
static void
start_panels (ScopeExplainView *self,
              gboolean          keep)
{
  if (keep)
    for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
      {
        Panel *p = &self->panels[i];
        g_clear_object (&p->job);
        g_clear_pointer (&p->error, g_free);
        p->fraction = 0.0;
        p->done = FALSE;
        scope_explain_figure_set_stopped (self->figure, i, FALSE);
      }
  else
    {
      panels_clear (self);
      g_clear_pointer (&self->figure_model, scope_model_unref);
      update_figure (self);
    }
  self->dirty = FALSE;
  self->live_pending = FALSE;
  if (model (self) == NULL || input (self) == NULL)
    {
      set_status (self, model (self) == NULL ? _ ("No model") : _ ("No image"));
      return;
    }
  self->n_runs++;
  for (int i = 0; i < n_panels (self); i++)
    {
      g_autoptr (GError) error = NULL;
      if (!panel_start (self, i, &error))
        {
          g_autofree char *text = g_strdup_printf (_ ("Failed: %s"), error->message);
          set_status (self, text);
          return;
        }
    }
  set_status (self, _ ("Computing map…"));
}

static void
run (ScopeExplainView *self)
{
  start_panels (self, FALSE);
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
  update_progress (self);
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
  update_method_settings (self);
  invalidate (self);
}

static void
on_method_setting_changed (ScopeExplainView *self)
{
  invalidate (self);
}

/* Loads file as IG's baseline image for the model; FALSE with error when it cannot be read or
 * built for the model. */
static gboolean
load_baseline_image (ScopeExplainView  *self,
                     GFile             *file,
                     GError           **error)
{
  if (model (self) == NULL)
    return g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("No model to build %s for"),
                        g_file_peek_path (file)), FALSE;
  g_autofree char *path = g_file_get_path (file);
  ScopeInput *image = scope_input_load (path, model (self), error);
  if (image == NULL)
    return FALSE;
  g_clear_pointer (&self->baseline_image, scope_input_unref);
  self->baseline_image = image;
  g_autofree char *label = g_strdup_printf ("%s…", scope_input_get_name (image));
  gtk_button_set_label (self->ig_image_button, label);
  return TRUE;
}

static void
on_baseline_chosen (GtkWidget *owner,
                    GFile     *file)
{
  ScopeExplainView *self = SCOPE_EXPLAIN_VIEW (owner);
  g_autoptr (GError) error = NULL;
  if (!load_baseline_image (self, file, &error))
    {
      g_autofree char *text = g_strdup_printf (_ ("Failed: %s"), error->message);
      set_status (self, text);
      return;
    }
  invalidate (self);
}

static void
choose_baseline_image (ScopeExplainView *self)
{
  static const ScopeFileType types[] = {
    { N_ ("Images"), "*.png;*.jpg;*.jpeg;*.PNG;*.JPG;*.JPEG;*.npy;*.dcm" },
  };
  scope_file_dialog_run (GTK_WIDGET (self), GTK_FILE_CHOOSER_ACTION_OPEN, _ ("Baseline Image"),
                         _ ("_Open"), types, G_N_ELEMENTS (types), NULL, NULL, on_baseline_chosen);
}

static void
on_baseline_changed (ScopeExplainView *self)
{
  update_method_settings (self);
  if (gtk_drop_down_get_selected (self->ig_baseline_drop) == BASELINE_IMAGE
      && self->baseline_image == NULL && !self->updating)
    choose_baseline_image (self);
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
  gtk_widget_set_sensitive (GTK_WIDGET (self->fixed_spin),
                            gtk_check_button_get_active (self->fixed_check));
  update_figure (self);
}

/* The CT window. */

/* Shows window in the controls (its preset, or Custom) and under the overlays: the input's HU
 * plane rendered again, nothing read or computed again. */
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
  scope_view_cancel (SCOPE_VIEW (self));
}

/* The window's state. */

/* Whether b has a's classes and layers (names and shapes): a snapshot of the same run, whose
 * pickers stay as they are. */
static gboolean
same_pickers (const ScopeModel *a,
              const ScopeModel *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  const NnModel *ma = scope_model_get_nn_model (a), *mb = scope_model_get_nn_model (b);
  if (ma->n_classes != mb->n_classes || ma->graph->n_nodes != mb->graph->n_nodes)
    return FALSE;
  for (int i = 0; i < ma->graph->n_nodes; i++)
    if (strcmp (ma->graph->nodes[i].name, mb->graph->nodes[i].name) != 0
        || ma->graph->nodes[i].shape.c != mb->graph->nodes[i].shape.c)
      return FALSE;
  for (int k = 0; k < ma->n_classes; k++)
    if (g_strcmp0 (class_label (ma, k), class_label (mb, k)) != 0)
      return FALSE;
  return TRUE;
}

static void
fill_pickers (ScopeExplainView *self)
{
  self->updating = TRUE;
  g_autoptr (GtkStringList) classes = gtk_string_list_new (NULL);
  gtk_string_list_append (classes, _ ("Top prediction"));
  g_autoptr (GtkStringList) layers = gtk_string_list_new (NULL);
  g_clear_pointer (&self->layers, g_free);
  self->n_layers = 0;
  guint default_layer = GTK_INVALID_LIST_POSITION;
  if (model (self) != NULL)
    {
      const NnModel *m = scope_model_get_nn_model (model (self));
      for (int k = 0; k < m->n_classes; k++)
        {
          g_autofree char *text = g_strdup_printf ("%d %s", k, class_label (m, k));
          gtk_string_list_append (classes, text);
        }
      const NnGraph *g = m->graph;
      /* Occlusion's patch: at most the input's smaller side; a quarter of it, stride half. */
      int side = MAX (1, MIN (g->nodes[0].shape.h, g->nodes[0].shape.w));
      gtk_spin_button_set_range (self->occlusion_window_spin, 1, side);
      gtk_spin_button_set_range (self->occlusion_stride_spin, 1, side);
      gtk_spin_button_set_value (self->occlusion_window_spin, MAX (1, side / 4));
      gtk_spin_button_set_value (self->occlusion_stride_spin, MAX (1, side / 8));
      int fallback = nn_explain_default_layer (g);
      self->layers = g_new (int, g->n_nodes);
      /* The layers a CAM can use: spatial ones, and token layers with a square patch grid. */
      for (int i = 1; i < g->n_nodes; i++)
        {
          NnCamLayer view;
          if (!nn_cam_layer_resolve (g, i, &view, NULL))
            continue;
          if (i == fallback)
            default_layer = (guint) self->n_layers;
          self->layers[self->n_layers++] = i;
          const NnShape s = g->nodes[i].shape;
          g_autofree char *text
            = view.tokens ? g_strdup_printf (_ ("%s (%d tokens × %d, %d×%d grid)"),
                                             g->nodes[i].name, s.dims[0], s.dims[1], view.lh,
                                             view.lw)
                          : g_strdup_printf ("%s (%d×%d×%d)", g->nodes[i].name, s.c, s.h, s.w);
          gtk_string_list_append (layers, text);
        }
    }
  gtk_drop_down_set_model (self->class_drop, G_LIST_MODEL (classes));
  gtk_drop_down_set_selected (self->class_drop, 0);
  gtk_drop_down_set_model (self->layer_drop, G_LIST_MODEL (layers));
  gtk_drop_down_set_selected (self->layer_drop, default_layer);
  self->updating = FALSE;
}

/* A new model or input: the pickers (unless the model is a snapshot of the same run), the
 * status page, the slice's window, and the maps to compute again. */
static void
inputs_changed (ScopeExplainView *self,
                gboolean          new_model)
{
  panels_clear (self);
  ScopeView *view = SCOPE_VIEW (self);
  gboolean fresh = new_model && !same_pickers (self->picked, model (self));
  if (fresh)
    {
      g_clear_pointer (&self->picked, scope_model_unref);
      self->picked = model (self) != NULL ? scope_model_ref (model (self)) : NULL;
      fill_pickers (self);
      if (self->baseline_image != NULL)
        {
          ScopeInput *rebuilt = model (self) != NULL
                                ? scope_input_rebuild (self->baseline_image, model (self), NULL)
                                : NULL;
          g_clear_pointer (&self->baseline_image, scope_input_unref);
          self->baseline_image = rebuilt;
          if (rebuilt == NULL)
            gtk_button_set_label (self->ig_image_button, _ ("Choose…"));
        }
    }
  g_clear_pointer (&self->ct_display, g_free);
  if (is_ct (self))
    self->ct_display = g_new (float, (gsize) nn_input (self)->c * nn_input (self)->h
                                     * nn_input (self)->w);
  /* A new model starts from its own window (the default without one); a new slice, or new
   * weights of the same run, keep the window chosen. */
  const NnModel *m = model (self) != NULL ? scope_model_get_nn_model (model (self)) : NULL;
  if (fresh && m != NULL)
    set_window (self, m->has_window ? m->window : self->default_window);
  else if (is_ct (self))
    nn_input_render (nn_input (self), &self->window, self->ct_display);
  gtk_widget_set_visible (GTK_WIDGET (self->ct_window_box), is_ct (self));
  const char *icon = "find-location-symbolic";
  if (m == NULL)
    scope_view_show_status (view, icon, _ ("No Model"),
                            _ ("Open a model (Ctrl+O) to see what its predictions rest on."));
  else if (input (self) == NULL)
    scope_view_show_status (view, icon, _ ("No Image"),
                            _ ("Open an image (Ctrl+Shift+O) to see what the model looks at "
                               "in it."));
  else
    scope_view_show_status (view, NULL, NULL, NULL);
  self->dirty = TRUE;
  set_status (self, input (self) != NULL ? _ ("Waiting to be shown") : _ ("No image"));
  g_clear_pointer (&self->figure_model, scope_model_unref);
  update_figure (self);
  maybe_run (self);
}

static gboolean
any_running (ScopeExplainView *self)
{
  for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
    if (panel_running (&self->panels[i]))
      return TRUE;
  return FALSE;
}

/* Newer weights of the training run whose weights the maps show (or are being computed on):
 * at most one explanation runs; weights arriving meanwhile wait, the newest replacing older
 * ones, and are explained when it ends. The running job is never cancelled (that would join
 * its thread on the main loop) and the maps shown stay until the new ones come. */
static void
follow_weights (ScopeExplainView *self)
{
  if (any_running (self))
    {
      self->live_pending = TRUE;
      return;
    }
  self->live_pending = FALSE;
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      self->dirty = TRUE;
      update_progress (self);
      return;
    }
  start_panels (self, TRUE);
}

/* Whether the new model is a later snapshot of the training run the maps were computed on
 * (same pickers, same input), to be followed rather than started afresh. */
static gboolean
is_newer_weights (ScopeExplainView *self,
                  ScopeViewChange   what)
{
  if (what & SCOPE_VIEW_INPUT || model (self) == NULL || input (self) == NULL
      || !scope_model_get_stamp (model (self), NULL) || !same_pickers (self->picked, model (self)))
    return FALSE;
  for (int i = 0; i < n_panels (self); i++)
    if (self->panels[i].job == NULL)
      return FALSE;
  return TRUE;
}

static void
changed (ScopeView       *view,
         ScopeViewChange  what)
{
  ScopeExplainView *self = SCOPE_EXPLAIN_VIEW (view);
  if ((what & SCOPE_VIEW_MODEL) && is_newer_weights (self, what))
    follow_weights (self);
  else if (what & (SCOPE_VIEW_MODEL | SCOPE_VIEW_INPUT))
    inputs_changed (self, (what & SCOPE_VIEW_MODEL) != 0);
}

static gboolean
export (ScopeView   *view,
        const char  *path,
        GError     **error)
{
  return scope_explain_figure_export (SCOPE_EXPLAIN_VIEW (view)->figure, path, error);
}

/* Cancels and joins the running jobs; their partial results stay on screen. */
static void
cancel (ScopeView *view)
{
  ScopeExplainView *self = SCOPE_EXPLAIN_VIEW (view);
  gboolean any = FALSE;
  for (int i = 0; i < VIZ_EXPLAIN_FIGURE_PANELS; i++)
    if (panel_running (&self->panels[i]))
      {
        scope_explain_job_cancel (self->panels[i].job);
        self->panels[i].done = TRUE;
        scope_explain_figure_set_stopped (self->figure, i, TRUE);
        any = TRUE;
      }
  if (any)
    set_status (self, _ ("Cancelled"));
}

/* A folder explained. */

static void
on_folder_chosen (GtkWidget *owner,
                  GFile     *folder)
{
  ScopeExplainView *self = SCOPE_EXPLAIN_VIEW (owner);
  g_autoptr (GError) error = NULL;
  if (scope_explain_view_explain_folder (self, folder, &error) == NULL)
    scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot explain the folder: %s"),
                             error->message);
}

static void
on_folder_clicked (ScopeExplainView *self)
{
  scope_file_dialog_run (GTK_WIDGET (self), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                         _ ("Explain a Folder"), _ ("_Explain"), NULL, 0, NULL, NULL,
                         on_folder_chosen);
}

/* Public API. */

GtkWindow *
scope_explain_view_explain_folder (ScopeExplainView  *self,
                                   GFile             *folder,
                                   GError           **error)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_VIEW (self), NULL);
  g_return_val_if_fail (G_IS_FILE (folder), NULL);

  if (model (self) == NULL)
    return g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("no model")), NULL;
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.threads = 0; /* the engine's threads, as the panels */
  spec.map.method = (NnMethod) selected_method (self, 0);
  spec.map.target = selected_class (self);
  spec.map.layer = selected_layer (self);
  spec.map.keep_negative = display_signed (self);
  method_settings (self, &spec.map);
  int kind = (int) gtk_drop_down_get_selected (self->ig_baseline_drop);
  if (kind == BASELINE_IMAGE && self->baseline_image != NULL)
    spec.map.baseline = scope_input_get_nn_input (self->baseline_image)->tensor;
  g_autofree char *path = g_file_get_path (folder);
  g_autoptr (ScopeBatchJob) job = scope_batch_job_new (model (self), path, &spec,
                                                       kind < BASELINE_IMAGE ? kind : -1);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *name = g_path_get_basename (path);
  /* Translators: the batch window's title: a method and a folder ("Grad-CAM of samples"). */
  g_autofree char *title = g_strdup_printf (_ ("%s of %s"),
                                            nn_method_get_info (spec.map.method)->label, name);
  ScopeBatchWindow *window = scope_batch_window_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root)
                                                                          : NULL,
                                                     job, model (self), title);
  if (!scope_batch_job_start (job, error))
    {
      gtk_window_destroy (GTK_WINDOW (window));
      return NULL;
    }
  gtk_window_present (GTK_WINDOW (window));
  return GTK_WINDOW (window);
}

gboolean
scope_explain_view_has_mask (ScopeExplainView *self)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_VIEW (self), FALSE);

  return input (self) != NULL && scope_input_get_mask (input (self), NULL) != NULL;
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

void
scope_explain_view_set_default_window (ScopeExplainView *self,
                                       NnCtWindow        window)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_VIEW (self));

  self->default_window = window;
  set_window (self, window);
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
scope_explain_view_set_method_settings (ScopeExplainView                *self,
                                        const ScopeExplainMethodSettings *settings)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_VIEW (self));
  g_return_if_fail (settings != NULL);

  gtk_spin_button_set_value (self->ig_steps_spin, settings->ig_steps);
  gtk_spin_button_set_value (self->smooth_samples_spin, settings->smooth_samples);
  gtk_spin_button_set_value (self->smooth_noise_spin, settings->smooth_noise);
  gtk_spin_button_set_value (self->occlusion_window_spin, settings->occlusion_window);
  gtk_spin_button_set_value (self->occlusion_stride_spin, settings->occlusion_stride);
  gtk_spin_button_set_value (self->shap_samples_spin, settings->shap_samples);
  gtk_spin_button_set_value (self->shap_noise_spin, settings->shap_noise);
}

void
scope_explain_view_get_method_settings (ScopeExplainView           *self,
                                        ScopeExplainMethodSettings *settings)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_VIEW (self));
  g_return_if_fail (settings != NULL);

  *settings = (ScopeExplainMethodSettings) {
    .ig_baseline = (int) gtk_drop_down_get_selected (self->ig_baseline_drop),
    .ig_steps = spin_int (self->ig_steps_spin),
    .smooth_samples = spin_int (self->smooth_samples_spin),
    .smooth_noise = gtk_spin_button_get_value (self->smooth_noise_spin),
    .occlusion_window = spin_int (self->occlusion_window_spin),
    .occlusion_stride = spin_int (self->occlusion_stride_spin),
    .shap_samples = spin_int (self->shap_samples_spin),
    .shap_noise = gtk_spin_button_get_value (self->shap_noise_spin),
  };
}

void
scope_explain_view_set_baseline (ScopeExplainView *self,
                                 int               kind)
{
  g_return_if_fail (SCOPE_IS_EXPLAIN_VIEW (self));
  g_return_if_fail (kind >= 0 && kind <= BASELINE_IMAGE);

  gtk_drop_down_set_selected (self->ig_baseline_drop, (guint) kind);
}

gboolean
scope_explain_view_set_baseline_image (ScopeExplainView  *self,
                                       GFile             *file,
                                       GError           **error)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_VIEW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  if (!load_baseline_image (self, file, error))
    return FALSE;
  self->updating = TRUE;
  gtk_drop_down_set_selected (self->ig_baseline_drop, BASELINE_IMAGE);
  self->updating = FALSE;
  update_method_settings (self);
  invalidate (self);
  return TRUE;
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
scope_explain_view_get_stamp (ScopeExplainView *self,
                              int               panel,
                              ScopeTrainStamp  *stamp)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_VIEW (self), FALSE);
  g_return_val_if_fail (panel >= 0 && panel < VIZ_EXPLAIN_FIGURE_PANELS, FALSE);

  if (stamp != NULL)
    *stamp = self->panels[panel].shown_stamp;
  return self->panels[panel].explanation != NULL && self->panels[panel].shown_stamp.version > 0;
}

guint
scope_explain_view_get_n_runs (ScopeExplainView *self)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_VIEW (self), 0);

  return self->n_runs;
}

const char *
scope_explain_view_get_status (ScopeExplainView *self)
{
  g_return_val_if_fail (SCOPE_IS_EXPLAIN_VIEW (self), NULL);

  return self->status;
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
    {
      Panel *p = &self->panels[i];
      if (p->job != NULL)
        scope_explain_job_cancel (p->job);
      g_clear_object (&p->job);
      g_clear_pointer (&p->explanation, nn_explanation_free);
      g_clear_pointer (&p->metrics, g_free);
      g_clear_pointer (&p->error, g_free);
      g_clear_pointer (&p->job_model, scope_model_unref);
    }
  g_clear_pointer (&self->figure_model, scope_model_unref);
  g_clear_pointer (&self->picked, scope_model_unref);
  g_clear_pointer (&self->baseline_image, scope_input_unref);

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
  ScopeViewClass *view_class = SCOPE_VIEW_CLASS (klass);

  object_class->dispose = scope_explain_view_dispose;
  object_class->finalize = scope_explain_view_finalize;
  widget_class->map = scope_explain_view_map;
  view_class->changed = changed;
  view_class->export = export;
  view_class->cancel = cancel;

  g_type_ensure (SCOPE_TYPE_EXPLAIN_FIGURE);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cnnscope/Cnnscope/ui/scope-explain-view.ui");
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, method_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, compare_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, ig_box);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, ig_baseline_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, ig_image_button);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, ig_steps_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, ig_delta_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, smooth_box);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, smooth_samples_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, smooth_noise_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, occlusion_box);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, occlusion_window_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, occlusion_stride_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, shap_box);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, shap_samples_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, shap_noise_spin);
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
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, folder_button);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, ScopeExplainView, figure);
  gtk_widget_class_set_css_name (widget_class, "explain-view");
  g_type_ensure (SCOPE_TYPE_WRAP_BOX);
}

/* The method menus come from nn's registry, in its order. */
static void
fill_methods (ScopeExplainView *self)
{
  g_autoptr (GtkStringList) methods = gtk_string_list_new (NULL);
  g_autoptr (GtkStringList) compare = gtk_string_list_new (NULL);
  gtk_string_list_append (compare, C_ ("compare with method", "None"));
  for (int i = 0; i < NN_METHOD_COUNT_; i++)
    {
      gtk_string_list_append (methods, nn_method_get_info ((NnMethod) i)->label);
      gtk_string_list_append (compare, nn_method_get_info ((NnMethod) i)->label);
    }
  gtk_drop_down_set_model (self->method_drop, G_LIST_MODEL (methods));
  gtk_drop_down_set_model (self->compare_drop, G_LIST_MODEL (compare));
  gtk_drop_down_set_selected (self->method_drop, 0);
  gtk_drop_down_set_selected (self->compare_drop, 0);
}

static void
scope_explain_view_init (ScopeExplainView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* The toolbar stays put whatever is chosen (a long class name, another method). */
  scope_drop_down_fix_width (self->method_drop, 20);
  scope_drop_down_fix_width (self->compare_drop, 20);
  scope_drop_down_fix_width (self->class_drop, 16);
  scope_drop_down_fix_width (self->layer_drop, 24);
  fill_methods (self);
  fill_pickers (self);
  update_method_settings (self);

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
  GtkSpinButton *spins[] = {
    self->ig_steps_spin, self->smooth_samples_spin, self->smooth_noise_spin,
    self->occlusion_window_spin, self->occlusion_stride_spin, self->shap_samples_spin,
    self->shap_noise_spin,
  };
  for (gsize i = 0; i < G_N_ELEMENTS (spins); i++)
    g_signal_connect_swapped (spins[i], "value-changed", G_CALLBACK (on_method_setting_changed),
                              self);
  g_signal_connect_swapped (self->ig_baseline_drop, "notify::selected",
                            G_CALLBACK (on_baseline_changed), self);
  g_signal_connect_swapped (self->ig_image_button, "clicked",
                            G_CALLBACK (choose_baseline_image), self);
  g_signal_connect_swapped (self->folder_button, "clicked", G_CALLBACK (on_folder_clicked),
                            self);
  self->default_window = NN_CT_WINDOW_LUNG;
  set_window (self, self->default_window);
  g_signal_connect (self->ct_window_drop, "notify::selected",
                    G_CALLBACK (on_window_preset_changed), self);
  g_signal_connect_swapped (self->ct_width_spin, "value-changed",
                            G_CALLBACK (on_window_value_changed), self);
  g_signal_connect_swapped (self->ct_level_spin, "value-changed",
                            G_CALLBACK (on_window_value_changed), self);
  GtkGesture *drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self->figure), GTK_EVENT_CONTROLLER (drag));
  gtk_widget_set_sensitive (GTK_WIDGET (self->fixed_spin), FALSE);
  inputs_changed (self, TRUE);
}
