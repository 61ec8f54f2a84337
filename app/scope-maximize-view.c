/* SPDX-License-Identifier: MIT */
/* ScopeMaximizeView: the controls are read into NnAmSettings when a run starts; each job's
 * updates are mapped once into image surfaces and curves (doubles for viz_plot), which the
 * canvas paints every frame through viz_am_figure_draw, as export does. */
#include "scope-maximize-view.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "scope-accessible.h"
#include "scope-drop-down.h"
#include "scope-error.h"
#include "scope-figure.h"
#include "scope-file-dialog.h"
#include "scope-input.h"
#include "scope-wrap-box.h"

/* Channels run together when filling the grid. */
#define GRID_BATCH 8

struct _ScopeMaximizeView
{
  ScopeView          parent_instance;

  /* Template children. */
  GtkDropDown       *target_dropdown;
  ScopeExamplesPanel *examples_panel;
  GtkLabel          *layer_label;
  GtkWidget         *channel_label;
  GtkSpinButton     *channel_spin;
  GtkWidget         *class_label;
  GtkDropDown       *class_dropdown;
  GtkDropDown       *policy_dropdown;
  GtkSpinButton     *slope_spin;
  GtkSpinButton     *steps_spin;
  GtkSpinButton     *lr_spin;
  GtkSpinButton     *seed_spin;
  GtkCheckButton    *pad_check;
  GtkCheckButton    *jitter_check;
  GtkCheckButton    *scale_check;
  GtkCheckButton    *rotate_check;
  GtkCheckButton    *blur_check;
  GtkWidget         *objective_label;
  GtkDropDown       *objective_dropdown;
  GtkWidget         *unit_label;
  GtkWidget         *unit_box;
  GtkSpinButton     *unit_y_spin;
  GtkSpinButton     *unit_x_spin;
  GtkWidget         *percentile_label;
  GtkSpinButton     *percentile_spin;
  GtkWidget         *direction_label;
  GtkEntry          *direction_entry;
  GtkSpinButton     *warmup_spin;
  GtkDropDown       *optimizer_dropdown;
  GtkDropDown       *param_dropdown;
  GtkSpinButton     *l2_spin;
  GtkSpinButton     *tv_spin;
  GtkDropDown       *start_dropdown;
  GtkButton         *start_button;
  GtkSpinButton     *pad_spin;
  GtkSpinButton     *jitter_spin;
  GtkSpinButton     *scale_spin;
  GtkSpinButton     *rotate_spin;
  GtkSpinButton     *blur_strength_spin;
  GtkProgressBar    *progress_bar;
  GtkLabel          *status_label;
  GtkDrawingArea    *canvas;
  GtkStack          *canvas_stack;  /* "empty" before a first run, else "figure" */

  ScopeModel        *model;       /* the window's (the view's "model"); NULL without one */
  int                node;
  int                channel;     /* storage for scope_maximize_view_get_settings */
  float             *direction;   /* the direction entry's weights, or NULL when it does not
                                     hold one per channel of the layer */
  ScopeInput        *start_image; /* the image to start from, built for the model, or NULL */
  float             *previous;    /* panel 0's final image of the last run, normalized */
  gsize              previous_size;

  gboolean           choosing;    /* the start is being set from code: ask for no file */
  ScopeMaximizeMode  mode;
  ScopeAmJob        *jobs[VIZ_AM_FIGURE_MAX_PANELS];
  int                n_jobs;
  char               caption[1024];
  /* Panels: the newest result of each job, mapped. */
  ScopeAmResult     *results[VIZ_AM_FIGURE_MAX_PANELS];
  cairo_surface_t   *images[VIZ_AM_FIGURE_MAX_PANELS];
  GArray            *histories[VIZ_AM_FIGURE_MAX_PANELS];  /* double */
  char               titles[VIZ_AM_FIGURE_MAX_PANELS][256];
  char              *names[VIZ_AM_FIGURE_MAX_PANELS];      /* "exact", "proxygrad:0.3" */
  /* The grid. */
  cairo_surface_t  **tiles;
  double            *tile_values;
  double            *tile_progress;  /* steps done / steps of each tile, 1 when final */
  int                n_tiles;
  int                n_done;
  guint              n_images;
  gint64             started_at;  /* monotonic, microseconds */
  gint64             ended_at;    /* 0 while running */
};

G_DEFINE_FINAL_TYPE (ScopeMaximizeView, scope_maximize_view, SCOPE_TYPE_VIEW)

/* The policy drop-down's entries; the ProxyGrad ones take the slope. */
enum
{
  POLICY_EXACT,
  POLICY_PROXY,
  POLICY_PROXY_FULL,
  POLICY_SUGAR,
  POLICY_SUGAR_NELU,
  POLICY_IDENTITY,
  POLICY_REDIRECTED,
};

/* The objective drop-down's entries, in its order. */
static const NnAmObjective objectives[] = {
  NN_AM_OBJECTIVE_MEAN, NN_AM_OBJECTIVE_CENTER, NN_AM_OBJECTIVE_UNIT,
  NN_AM_OBJECTIVE_PERCENTILE, NN_AM_OBJECTIVE_DIRECTION,
};

/* The start drop-down's entries. */
enum
{
  START_NOISE,
  START_IMAGE,
  START_PREVIOUS,
};

/* The weights of the direction entry into self->direction: one per channel of the layer (else
 * NULL). */
static void
parse_direction (ScopeMaximizeView *self)
{
  g_clear_pointer (&self->direction, g_free);
  if (self->model == NULL || self->node < 0)
    return;
  int c = scope_model_get_graph (self->model)->nodes[self->node].shape.c;
  g_auto (GStrv) parts = g_strsplit (gtk_editable_get_text (GTK_EDITABLE (self->direction_entry)),
                                     ",", -1);
  if ((int) g_strv_length (parts) != c)
    return;
  float *w = g_new (float, c);
  for (int k = 0; k < c; k++)
    {
      char *end;
      char *text = g_strstrip (parts[k]);
      w[k] = (float) g_ascii_strtod (text, &end);
      if (end == text || *end != '\0' || !isfinite (w[k]))
        {
          g_free (w);
          return;
        }
    }
  self->direction = w;
}

static gboolean
class_mode (ScopeMaximizeView *self)
{
  return gtk_drop_down_get_selected (self->target_dropdown) == 1;
}

static gboolean
any_running (ScopeMaximizeView *self)
{
  for (int k = 0; k < self->n_jobs; k++)
    if (scope_am_job_get_state (self->jobs[k]) == SCOPE_AM_RUNNING)
      return TRUE;
  return FALSE;
}

static void
update_controls (ScopeMaximizeView *self)
{
  gboolean classes = class_mode (self);
  gtk_widget_set_visible (self->channel_label, !classes);
  gtk_widget_set_visible (GTK_WIDGET (self->channel_spin), !classes);
  gtk_widget_set_visible (self->class_label, classes);
  gtk_widget_set_visible (GTK_WIDGET (self->class_dropdown), classes);
  /* The objective of a channel, with the settings of the chosen one. */
  guint objective = gtk_drop_down_get_selected (self->objective_dropdown);
  gtk_widget_set_visible (self->objective_label, !classes);
  gtk_widget_set_visible (GTK_WIDGET (self->objective_dropdown), !classes);
  gboolean unit = !classes && objective < G_N_ELEMENTS (objectives)
                  && objectives[objective] == NN_AM_OBJECTIVE_UNIT;
  gboolean percentile = !classes && objective < G_N_ELEMENTS (objectives)
                        && objectives[objective] == NN_AM_OBJECTIVE_PERCENTILE;
  gboolean direction = !classes && objective < G_N_ELEMENTS (objectives)
                       && objectives[objective] == NN_AM_OBJECTIVE_DIRECTION;
  gtk_widget_set_visible (self->unit_label, unit);
  gtk_widget_set_visible (self->unit_box, unit);
  gtk_widget_set_visible (self->percentile_label, percentile);
  gtk_widget_set_visible (GTK_WIDGET (self->percentile_spin), percentile);
  gtk_widget_set_visible (self->direction_label, direction);
  gtk_widget_set_visible (GTK_WIDGET (self->direction_entry), direction);
  gtk_widget_set_visible (GTK_WIDGET (self->start_button),
                          gtk_drop_down_get_selected (self->start_dropdown) == START_IMAGE);
  /* A transform's strength matters while the transform is on. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->pad_spin),
                            gtk_check_button_get_active (self->pad_check));
  gtk_widget_set_sensitive (GTK_WIDGET (self->jitter_spin),
                            gtk_check_button_get_active (self->jitter_check));
  gtk_widget_set_sensitive (GTK_WIDGET (self->scale_spin),
                            gtk_check_button_get_active (self->scale_check));
  gtk_widget_set_sensitive (GTK_WIDGET (self->rotate_spin),
                            gtk_check_button_get_active (self->rotate_check));
  gtk_widget_set_sensitive (GTK_WIDGET (self->blur_strength_spin),
                            gtk_check_button_get_active (self->blur_check));

  gboolean running = any_running (self);
  gboolean ready = self->model != NULL && (classes || self->node > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "maximize.run", ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "maximize.compare", ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "maximize.all-channels", ready);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "maximize.stop", running);
  scope_view_set_busy (SCOPE_VIEW (self), running);
  scope_view_set_can_export (SCOPE_VIEW (self), self->mode != SCOPE_MAXIMIZE_NONE);
  gtk_stack_set_visible_child_name (self->canvas_stack,
                                    self->mode != SCOPE_MAXIMIZE_NONE ? "figure" : "empty");
}

/* Settings. */

void
scope_maximize_view_get_settings (ScopeMaximizeView *self,
                                  NnAmSettings      *s)
{
  g_return_if_fail (SCOPE_IS_MAXIMIZE_VIEW (self));
  g_return_if_fail (s != NULL);

  nn_am_settings_init (s);
  if (class_mode (self))
    {
      s->layer = -1;
      s->objective = NN_AM_OBJECTIVE_LOGIT;
      self->channel = (int) gtk_drop_down_get_selected (self->class_dropdown);
    }
  else
    {
      s->layer = self->node;
      guint k = gtk_drop_down_get_selected (self->objective_dropdown);
      s->objective = k < G_N_ELEMENTS (objectives) ? objectives[k] : NN_AM_OBJECTIVE_MEAN;
      self->channel = gtk_spin_button_get_value_as_int (self->channel_spin);
      s->unit_y = gtk_spin_button_get_value_as_int (self->unit_y_spin);
      s->unit_x = gtk_spin_button_get_value_as_int (self->unit_x_spin);
      s->percentile = (float) gtk_spin_button_get_value (self->percentile_spin);
      if (s->objective == NN_AM_OBJECTIVE_DIRECTION)
        {
          parse_direction (self);
          s->direction = self->direction;
        }
    }
  s->channels = &self->channel;
  s->n_channels = 1;
  float beta = (float) gtk_spin_button_get_value (self->slope_spin);
  switch (gtk_drop_down_get_selected (self->policy_dropdown))
    {
    case POLICY_PROXY:
      s->policy = (NnGradPolicy) { NN_GRAD_PROXY, beta };
      break;
    case POLICY_PROXY_FULL:
      s->policy = (NnGradPolicy) { NN_GRAD_PROXY_FULL, beta };
      break;
    case POLICY_SUGAR:
      s->policy = (NnGradPolicy) { NN_GRAD_SUGAR_BSILU, 0.0f };
      break;
    case POLICY_SUGAR_NELU:
      s->policy = (NnGradPolicy) { NN_GRAD_SUGAR_NELU, 0.0f };
      break;
    case POLICY_IDENTITY:
      s->policy = (NnGradPolicy) { NN_GRAD_IDENTITY, 0.0f };
      break;
    case POLICY_REDIRECTED:
      s->policy = (NnGradPolicy) { NN_GRAD_REDIRECTED, 0.0f };
      break;
    default:
      s->policy = (NnGradPolicy) { NN_GRAD_EXACT, 0.0f };
      break;
    }
  s->steps = gtk_spin_button_get_value_as_int (self->steps_spin);
  s->lr = (float) gtk_spin_button_get_value (self->lr_spin);
  s->seed = (uint64_t) gtk_spin_button_get_value_as_int (self->seed_spin);
  s->transforms = 0;
  struct { GtkCheckButton *check; unsigned bit; } checks[] = {
    { self->pad_check, NN_AM_TRANSFORM_PAD }, { self->jitter_check, NN_AM_TRANSFORM_JITTER },
    { self->scale_check, NN_AM_TRANSFORM_SCALE }, { self->rotate_check, NN_AM_TRANSFORM_ROTATE },
    { self->blur_check, NN_AM_TRANSFORM_BLUR },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (checks); i++)
    if (gtk_check_button_get_active (checks[i].check))
      s->transforms |= checks[i].bit;
  s->pad = gtk_spin_button_get_value_as_int (self->pad_spin);
  s->jitter = gtk_spin_button_get_value_as_int (self->jitter_spin);
  s->scale = (float) gtk_spin_button_get_value (self->scale_spin);
  s->rotate = (float) gtk_spin_button_get_value (self->rotate_spin);
  s->blur = (float) gtk_spin_button_get_value (self->blur_strength_spin);
  s->warmup = (float) gtk_spin_button_get_value (self->warmup_spin);
  s->optimizer = gtk_drop_down_get_selected (self->optimizer_dropdown) == 1
                 ? NN_AM_OPTIMIZER_ADAM : NN_AM_OPTIMIZER_NGA;
  s->param = gtk_drop_down_get_selected (self->param_dropdown) == 1 ? NN_AM_PARAM_FOURIER
                                                                   : NN_AM_PARAM_PIXELS;
  s->l2 = (float) gtk_spin_button_get_value (self->l2_spin);
  s->tv = (float) gtk_spin_button_get_value (self->tv_spin);
  switch (gtk_drop_down_get_selected (self->start_dropdown))
    {
    case START_IMAGE:
      s->start = self->start_image != NULL
                 ? scope_input_get_nn_input (self->start_image)->tensor : NULL;
      break;
    case START_PREVIOUS:
      s->start = self->previous;
      break;
    default:
      break;
    }
  s->start_items = 1;
}

void
scope_maximize_view_set_settings (ScopeMaximizeView  *self,
                                  const NnAmSettings *s)
{
  g_return_if_fail (SCOPE_IS_MAXIMIZE_VIEW (self));
  g_return_if_fail (s != NULL);

  guint policy = POLICY_EXACT;
  switch (s->policy.kind)
    {
    case NN_GRAD_PROXY:
      policy = POLICY_PROXY;
      break;
    case NN_GRAD_PROXY_FULL:
      policy = POLICY_PROXY_FULL;
      break;
    case NN_GRAD_SUGAR_BSILU:
      policy = POLICY_SUGAR;
      break;
    case NN_GRAD_SUGAR_NELU:
      policy = POLICY_SUGAR_NELU;
      break;
    case NN_GRAD_IDENTITY:
      policy = POLICY_IDENTITY;
      break;
    case NN_GRAD_REDIRECTED:
      policy = POLICY_REDIRECTED;
      break;
    case NN_GRAD_EXACT:
    case NN_GRAD_GUIDED:
    case NN_GRAD_COUNT_:
      break;
    }
  gtk_drop_down_set_selected (self->policy_dropdown, policy);
  if (policy == POLICY_PROXY || policy == POLICY_PROXY_FULL)
    gtk_spin_button_set_value (self->slope_spin, s->policy.beta);
  gtk_spin_button_set_value (self->steps_spin, s->steps);
  gtk_spin_button_set_value (self->lr_spin, s->lr);
  gtk_spin_button_set_value (self->seed_spin, (double) s->seed);
  gtk_check_button_set_active (self->pad_check, (s->transforms & NN_AM_TRANSFORM_PAD) != 0);
  gtk_check_button_set_active (self->jitter_check,
                               (s->transforms & NN_AM_TRANSFORM_JITTER) != 0);
  gtk_check_button_set_active (self->scale_check, (s->transforms & NN_AM_TRANSFORM_SCALE) != 0);
  gtk_check_button_set_active (self->rotate_check,
                               (s->transforms & NN_AM_TRANSFORM_ROTATE) != 0);
  gtk_check_button_set_active (self->blur_check, (s->transforms & NN_AM_TRANSFORM_BLUR) != 0);
  gtk_spin_button_set_value (self->pad_spin, s->pad);
  gtk_spin_button_set_value (self->jitter_spin, s->jitter);
  gtk_spin_button_set_value (self->scale_spin, s->scale);
  gtk_spin_button_set_value (self->rotate_spin, s->rotate);
  gtk_spin_button_set_value (self->blur_strength_spin, s->blur);
  gtk_spin_button_set_value (self->warmup_spin, s->warmup);
  gtk_drop_down_set_selected (self->optimizer_dropdown, s->optimizer == NN_AM_OPTIMIZER_ADAM);
  gtk_drop_down_set_selected (self->param_dropdown, s->param == NN_AM_PARAM_FOURIER);
  gtk_spin_button_set_value (self->l2_spin, s->l2);
  gtk_spin_button_set_value (self->tv_spin, s->tv);
  if (s->objective != NN_AM_OBJECTIVE_LOGIT)
    for (guint k = 0; k < G_N_ELEMENTS (objectives); k++)
      if (objectives[k] == s->objective)
        gtk_drop_down_set_selected (self->objective_dropdown, k);
  gtk_spin_button_set_value (self->unit_y_spin, s->unit_y);
  gtk_spin_button_set_value (self->unit_x_spin, s->unit_x);
  gtk_spin_button_set_value (self->percentile_spin, s->percentile);
  if (s->direction != NULL && s->layer >= 0 && self->model != NULL)
    {
      g_autoptr (GString) text = g_string_new (NULL);
      int c = scope_model_get_graph (self->model)->nodes[s->layer].shape.c;
      for (int k = 0; k < c; k++)
        {
          char number[G_ASCII_DTOSTR_BUF_SIZE];
          g_string_append_printf (text, "%s%s", k > 0 ? ", " : "",
                                  g_ascii_dtostr (number, sizeof number, s->direction[k]));
        }
      gtk_editable_set_text (GTK_EDITABLE (self->direction_entry), text->str);
    }
  update_controls (self);
}

void
scope_maximize_view_set_start (ScopeMaximizeView  *self,
                               ScopeMaximizeStart  start)
{
  g_return_if_fail (SCOPE_IS_MAXIMIZE_VIEW (self));

  gtk_drop_down_set_selected (self->start_dropdown, (guint) start);
}

gboolean
scope_maximize_view_set_start_image (ScopeMaximizeView  *self,
                                     GFile              *file,
                                     GError            **error)
{
  g_return_val_if_fail (SCOPE_IS_MAXIMIZE_VIEW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  if (self->model == NULL)
    return g_set_error_literal (error, SCOPE_NN_ERROR, NN_ERROR_SPEC, _ ("open a model first")),
           FALSE;
  g_autofree char *path = g_file_get_path (file);
  ScopeInput *image = scope_input_load (path, self->model, error);
  if (image == NULL)
    return FALSE;
  g_clear_pointer (&self->start_image, scope_input_unref);
  self->start_image = image;
  g_autofree char *label = g_strdup_printf ("%s…", scope_input_get_name (image));
  gtk_button_set_label (self->start_button, label);
  self->choosing = TRUE;
  gtk_drop_down_set_selected (self->start_dropdown, START_IMAGE);
  self->choosing = FALSE;
  update_controls (self);
  return TRUE;
}

static void
on_start_chosen (GtkWidget *owner,
                 GFile     *file)
{
  ScopeMaximizeView *self = SCOPE_MAXIMIZE_VIEW (owner);
  g_autoptr (GError) error = NULL;
  if (!scope_maximize_view_set_start_image (self, file, &error))
    scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot start from this image: %s"),
                             error->message);
}

static void
choose_start_image (ScopeMaximizeView *self)
{
  static const ScopeFileType types[] = {
    { N_ ("Images and arrays"), "*.png;*.jpg;*.jpeg;*.PNG;*.JPG;*.JPEG;*.npy" },
  };
  scope_file_dialog_run (GTK_WIDGET (self), GTK_FILE_CHOOSER_ACTION_OPEN, _ ("Start Image"),
                         _ ("_Open"), types, G_N_ELEMENTS (types), NULL, NULL, on_start_chosen);
}

static void
on_start_changed (ScopeMaximizeView *self)
{
  update_controls (self);
  if (gtk_drop_down_get_selected (self->start_dropdown) == START_IMAGE
      && self->start_image == NULL && !self->choosing)
    choose_start_image (self);
}

void
scope_maximize_view_set_class (ScopeMaximizeView *self,
                               int                class_index)
{
  g_return_if_fail (SCOPE_IS_MAXIMIZE_VIEW (self));

  gtk_drop_down_set_selected (self->target_dropdown, class_index >= 0 ? 1 : 0);
  if (class_index >= 0)
    gtk_drop_down_set_selected (self->class_dropdown, (guint) class_index);
  update_controls (self);
}

static void
fill_classes (ScopeMaximizeView *self)
{
  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
  const NnModel *m = self->model != NULL ? scope_model_get_nn_model (self->model) : NULL;
  for (int k = 0; m != NULL && k < m->n_classes; k++)
    {
      g_autofree char *text = m->labels != NULL && m->labels[k] != NULL
                              ? g_strdup_printf ("%d: %s", k, m->labels[k])
                              : g_strdup_printf ("%d", k);
      gtk_string_list_append (list, text);
    }
  gtk_drop_down_set_model (self->class_dropdown, G_LIST_MODEL (list));
}

/* Follows the layer and channel selected in the window. */
static void
set_target (ScopeMaximizeView *self,
            ScopeModel        *model,
            int                node,
            int                channel)
{
  if (model != self->model)
    {
      gboolean same_classes = FALSE;
      if (model != NULL && self->model != NULL)
        same_classes = scope_model_get_nn_model (model)->n_classes
                       == scope_model_get_nn_model (self->model)->n_classes;
      g_clear_pointer (&self->model, scope_model_unref);
      self->model = model != NULL ? scope_model_ref (model) : NULL;
      if (!same_classes)
        fill_classes (self);
      if (self->start_image != NULL)
        {
          ScopeInput *rebuilt = model != NULL
                                ? scope_input_rebuild (self->start_image, model, NULL) : NULL;
          g_clear_pointer (&self->start_image, scope_input_unref);
          self->start_image = rebuilt;
          if (rebuilt == NULL)
            gtk_button_set_label (self->start_button, _ ("Choose…"));
        }
    }
  if (self->model == NULL)
    {
      self->node = -1;
      gtk_label_set_label (self->layer_label, _ ("No model"));
      scope_view_show_status (SCOPE_VIEW (self), "find-location-symbolic", _ ("No Model"),
                              _ ("Open a model (Ctrl+O) to see what its channels respond to "
                                 "most."));
      update_controls (self);
      return;
    }
  scope_view_show_status (SCOPE_VIEW (self), NULL, NULL, NULL);
  const NnGraph *g = scope_model_get_graph (self->model);
  self->node = CLAMP (node, 0, g->n_nodes - 1);
  NnShape shape = g->nodes[self->node].shape;
  g_autofree char *text = g_strdup_printf ("%s (%d×%d×%d)", g->nodes[self->node].name, shape.c,
                                           shape.h, shape.w);
  gtk_label_set_label (self->layer_label, text);
  gtk_spin_button_set_range (self->channel_spin, 0, MAX (shape.c - 1, 0));
  gtk_spin_button_set_value (self->channel_spin, CLAMP (channel, 0, MAX (shape.c - 1, 0)));
  update_controls (self);
}

/* Results. */

static void
set_panel_title (ScopeMaximizeView *self,
                 int                k)
{
  const NnAmSettings *s = scope_am_job_get_settings (self->jobs[k]);
  const ScopeAmResult *r = self->results[k];
  viz_am_figure_panel_title (self->titles[k], sizeof self->titles[k], &s->policy,
                             r != NULL ? (double) r->objectives[0] : NAN, r != NULL && r->done);
}

static double
elapsed_s (ScopeMaximizeView *self)
{
  gint64 end = self->ended_at != 0 ? self->ended_at : g_get_monotonic_time ();
  return (double) (end - self->started_at) / G_USEC_PER_SEC;
}

static void
update_status (ScopeMaximizeView *self)
{
  g_autofree char *text = NULL, *progress = NULL;
  double fraction = 0.0;
  /* Running while any job runs; else failed or stopped if any did; else finished. */
  gboolean failed = FALSE, stopped = FALSE;
  for (int k = 0; k < self->n_jobs; k++)
    {
      ScopeAmState state = scope_am_job_get_state (self->jobs[k]);
      failed |= state == SCOPE_AM_FAILED;
      stopped |= state == SCOPE_AM_STOPPED;
    }
  /* Translators: the state of activation maximization, before its numbers. */
  const char *verb = any_running (self) ? _ ("Running") : failed ? _ ("Failed")
                     : stopped ? _ ("Stopped") : _ ("Finished");
  double t = elapsed_s (self);
  if (self->mode == SCOPE_MAXIMIZE_ALL)
    {
      /* The steps of the running batch count too, not only the finished batches. */
      double sum = 0.0;
      for (int k = 0; k < self->n_tiles; k++)
        sum += self->tile_progress[k];
      fraction = self->n_tiles > 0 ? sum / self->n_tiles : 0.0;
      progress = g_strdup_printf (_ ("%d of %d · %.0f %%"), self->n_done, self->n_tiles,
                                  100.0 * fraction);
      text = g_strdup_printf (_ ("%s: %d of %d images done in %.1f s (%.2f s per image)"), verb,
                              self->n_done, self->n_tiles, t,
                              self->n_done > 0 ? t / self->n_done : 0.0);
    }
  else if (self->mode != SCOPE_MAXIMIZE_NONE)
    {
      int step = G_MAXINT, steps = 1;
      g_autoptr (GString) values = g_string_new (NULL);
      for (int k = 0; k < self->n_jobs; k++)
        {
          const ScopeAmResult *r = self->results[k];
          step = MIN (step, r != NULL ? r->step : 0);
          steps = r != NULL ? r->steps : scope_am_job_get_settings (self->jobs[k])->steps;
          if (r != NULL && isfinite (r->objectives[0]))
            g_string_append_printf (values, "%s%s %.4g", k > 0 ? ", " : "", self->names[k],
                                    r->objectives[0]);
        }
      fraction = (double) step / MAX (steps, 1);
      progress = g_strdup_printf (_ ("step %d of %d"), step, steps);
      text = g_strdup_printf (_ ("%s: %s; %u images in %.2f s (%.1f per second)"), verb,
                              values->str, self->n_images, t, self->n_images / fmax (t, 1e-3));
    }
  gtk_progress_bar_set_fraction (self->progress_bar, CLAMP (fraction, 0.0, 1.0));
  gtk_progress_bar_set_text (self->progress_bar, progress);
  if (text != NULL)
    gtk_label_set_label (self->status_label, text);
}

static void
take_grid_result (ScopeMaximizeView   *self,
                  const ScopeAmResult *r)
{
  gsize size = (gsize) r->c * (gsize) r->h * (gsize) r->w;
  for (int i = 0; i < r->n_items; i++)
    {
      int k = r->first + i;
      if (k < 0 || k >= self->n_tiles)
        continue;
      g_clear_pointer (&self->tiles[k], cairo_surface_destroy);
      self->tiles[k] = viz_image_surface_new (r->pixels + size * (gsize) i, r->c, r->h, r->w);
      if (r->done)
        self->tile_values[k] = r->objectives[i];
      self->tile_progress[k] = r->done ? 1.0 : (double) r->step / MAX (r->steps, 1);
    }
}

static void
take_panel_result (ScopeMaximizeView *self,
                   int                k,
                   ScopeAmResult     *r)
{
  g_clear_pointer (&self->results[k], scope_am_result_unref);
  self->results[k] = scope_am_result_ref (r);
  g_clear_pointer (&self->images[k], cairo_surface_destroy);
  self->images[k] = viz_image_surface_new (r->pixels, r->c, r->h, r->w);
  g_array_set_size (self->histories[k], (guint) r->n_history);
  double *h = (double *) (void *) self->histories[k]->data;
  for (int i = 0; i < r->n_history; i++)
    h[i] = r->history[i];
  set_panel_title (self, k);
  if (k == 0)
    self->n_images++;
  /* Panel 0's final image, normalized as the model reads it: a start for the next run. */
  if (k == 0 && r->done)
    {
      const NnModel *m = scope_model_get_nn_model (self->model);
      gsize hw = (gsize) r->h * (gsize) r->w;
      g_free (self->previous);
      self->previous_size = (gsize) r->c * hw;
      self->previous = g_new (float, self->previous_size);
      for (int c = 0; c < r->c; c++)
        for (gsize p = 0; p < hw; p++)
          self->previous[c * hw + p] = (r->pixels[c * hw + p] - m->mean[c]) / m->std[c];
    }
}

static void
on_update (ScopeAmJob          *job,
           const ScopeAmUpdate *update,
           ScopeMaximizeView   *self)
{
  int k = 0;
  while (k < self->n_jobs && self->jobs[k] != job)
    k++;
  if (k == self->n_jobs)
    return;
  if (self->mode == SCOPE_MAXIMIZE_ALL)
    {
      for (guint i = 0; i < update->n_results; i++)
        take_grid_result (self, update->results[i]);
      self->n_done = update->n_done;
    }
  else if (update->n_results > 0)
    take_panel_result (self, k, update->results[update->n_results - 1]);
  if (!any_running (self) && self->ended_at == 0)
    self->ended_at = g_get_monotonic_time ();
  update_status (self);
  update_controls (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
  if (update->error != NULL)
    scope_view_report_error (SCOPE_VIEW (self), _ ("Activation maximization failed: %s"),
                             update->error->message);
}

/* Runs. */

static void
clear_results (ScopeMaximizeView *self)
{
  for (int k = 0; k < VIZ_AM_FIGURE_MAX_PANELS; k++)
    {
      if (self->jobs[k] != NULL)
        scope_am_job_stop (self->jobs[k]);
      g_clear_object (&self->jobs[k]);
      g_clear_pointer (&self->results[k], scope_am_result_unref);
      g_clear_pointer (&self->images[k], cairo_surface_destroy);
      g_array_set_size (self->histories[k], 0);
      self->titles[k][0] = '\0';
      g_clear_pointer (&self->names[k], g_free);
    }
  self->n_jobs = 0;
  for (int k = 0; k < self->n_tiles; k++)
    g_clear_pointer (&self->tiles[k], cairo_surface_destroy);
  g_clear_pointer (&self->tiles, g_free);
  g_clear_pointer (&self->tile_values, g_free);
  g_clear_pointer (&self->tile_progress, g_free);
  self->n_tiles = 0;
  self->n_done = 0;
  self->n_images = 0;
}

static gboolean
check_ready (ScopeMaximizeView  *self,
             GError            **error)
{
  if (self->model == NULL)
    {
      g_set_error_literal (error, SCOPE_NN_ERROR, NN_ERROR_SPEC, _ ("open a model first"));
      return FALSE;
    }
  NnAmSettings s;
  scope_maximize_view_get_settings (self, &s);
  const NnShape in = scope_model_get_graph (self->model)->nodes[0].shape;
  guint start = gtk_drop_down_get_selected (self->start_dropdown);
  if (start == START_IMAGE && self->start_image == NULL)
    {
      g_set_error_literal (error, SCOPE_NN_ERROR, NN_ERROR_SPEC,
                           _ ("choose the image to start from first"));
      return FALSE;
    }
  if (start == START_PREVIOUS
      && (self->previous == NULL
          || self->previous_size != (gsize) in.c * (gsize) in.h * (gsize) in.w))
    {
      g_set_error_literal (error, SCOPE_NN_ERROR, NN_ERROR_SPEC,
                           _ ("no previous result of this model to start from: Run first"));
      return FALSE;
    }
  if (s.objective == NN_AM_OBJECTIVE_DIRECTION && s.direction == NULL)
    {
      g_set_error (error, SCOPE_NN_ERROR, NN_ERROR_SPEC,
                   _ ("the direction needs %d weights, one per channel of the layer, separated "
                      "by commas"),
                   scope_model_get_graph (self->model)->nodes[self->node].shape.c);
      return FALSE;
    }
  return TRUE;
}

/* Starts one job per settings value (they share the target). */
static gboolean
start_jobs (ScopeMaximizeView   *self,
            ScopeMaximizeMode    mode,
            const NnAmSettings  *settings,
            int                  n,
            int                  batch,
            const char          *caption,
            GError             **error)
{
  clear_results (self);
  self->mode = mode;
  g_strlcpy (self->caption, caption, sizeof self->caption);
  g_autofree char *label = g_strdup_printf (_ ("Activation maximization: %s"), caption);
  scope_accessible_set_label (GTK_WIDGET (self->canvas), label);
  self->started_at = g_get_monotonic_time ();
  self->ended_at = 0;
  for (int k = 0; k < n; k++)
    {
      /* each run's context takes the engine's threads (the Threads preference): a batch of
       * channels splits over them, a single image within its layers */
      NnAmSettings s = settings[k];
      s.threads = 0;
      self->jobs[k] = scope_am_job_new (self->model, &s, batch);
      self->n_jobs++;
      char name[64];
      nn_grad_policy_format (&settings[k].policy, name, sizeof name);
      self->names[k] = g_strdup (name);
      set_panel_title (self, k);
      g_signal_connect (self->jobs[k], "update", G_CALLBACK (on_update), self);
    }
  gboolean ok = TRUE;
  for (int k = 0; k < n && ok; k++)
    ok = scope_am_job_start (self->jobs[k], error);
  if (!ok)
    {
      for (int k = 0; k < n; k++)
        scope_am_job_stop (self->jobs[k]);
      self->ended_at = g_get_monotonic_time ();
    }
  update_status (self);
  update_controls (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
  return ok;
}

static gboolean
run (ScopeMaximizeView  *self,
     GError            **error)
{
  if (!check_ready (self, error))
    return FALSE;
  NnAmSettings s;
  scope_maximize_view_get_settings (self, &s);
  char policy[64];
  nn_grad_policy_format (&s.policy, policy, sizeof policy);
  char caption[sizeof self->caption];
  viz_am_figure_caption (caption, sizeof caption, scope_model_get_name (self->model),
                         scope_model_get_nn_model (self->model), &s, policy, FALSE);
  return start_jobs (self, SCOPE_MAXIMIZE_SINGLE, &s, 1, 1, caption, error);
}

static gboolean
compare (ScopeMaximizeView  *self,
         GError            **error)
{
  if (!check_ready (self, error))
    return FALSE;
  NnAmSettings s[2];
  scope_maximize_view_get_settings (self, &s[0]);
  s[1] = s[0];
  s[0].policy = (NnGradPolicy) { NN_GRAD_EXACT, 0.0f };
  if (s[1].policy.kind != NN_GRAD_PROXY_FULL)
    s[1].policy = (NnGradPolicy) { NN_GRAD_PROXY,
                                   (float) gtk_spin_button_get_value (self->slope_spin) };
  char proxy[64], text[160];
  nn_grad_policy_format (&s[1].policy, proxy, sizeof proxy);
  g_snprintf (text, sizeof text, "exact vs %s, same start", proxy);
  char caption[sizeof self->caption];
  viz_am_figure_caption (caption, sizeof caption, scope_model_get_name (self->model),
                         scope_model_get_nn_model (self->model), &s[0], text, FALSE);
  return start_jobs (self, SCOPE_MAXIMIZE_COMPARE, s, 2, 1, caption, error);
}

static gboolean
run_all (ScopeMaximizeView  *self,
         GError            **error)
{
  if (!check_ready (self, error))
    return FALSE;
  NnAmSettings s;
  scope_maximize_view_get_settings (self, &s);
  const NnModel *m = scope_model_get_nn_model (self->model);
  int n = s.layer < 0 ? m->n_classes : m->graph->nodes[s.layer].shape.c;
  if (n < 1)
    {
      g_set_error_literal (error, SCOPE_NN_ERROR, NN_ERROR_SPEC, _ ("the layer has no channels"));
      return FALSE;
    }
  g_autofree int *channels = g_new (int, n);
  for (int k = 0; k < n; k++)
    channels[k] = k;
  s.channels = channels;
  s.n_channels = n;
  char policy[64];
  nn_grad_policy_format (&s.policy, policy, sizeof policy);
  char caption[sizeof self->caption];
  viz_am_figure_caption (caption, sizeof caption, scope_model_get_name (self->model), m, &s,
                         policy, TRUE);
  gboolean ok = start_jobs (self, SCOPE_MAXIMIZE_ALL, &s, 1, GRID_BATCH, caption, error);
  self->n_tiles = n;
  self->tiles = g_new0 (cairo_surface_t *, n);
  self->tile_values = g_new (double, n);
  self->tile_progress = g_new0 (double, n);
  for (int k = 0; k < n; k++)
    self->tile_values[k] = NAN;
  update_status (self);
  return ok;
}

static void
cancel (ScopeView *view)
{
  ScopeMaximizeView *self = SCOPE_MAXIMIZE_VIEW (view);
  gboolean was_running = any_running (self);
  for (int k = 0; k < self->n_jobs; k++)
    scope_am_job_stop (self->jobs[k]);
  scope_examples_panel_cancel (self->examples_panel);
  if (was_running)
    {
      self->ended_at = g_get_monotonic_time ();
      update_status (self);
    }
  update_controls (self);
}

gboolean
scope_maximize_view_is_running (ScopeMaximizeView *self)
{
  g_return_val_if_fail (SCOPE_IS_MAXIMIZE_VIEW (self), FALSE);

  return any_running (self);
}

ScopeMaximizeMode
scope_maximize_view_get_mode (ScopeMaximizeView *self)
{
  g_return_val_if_fail (SCOPE_IS_MAXIMIZE_VIEW (self), SCOPE_MAXIMIZE_NONE);

  return self->mode;
}

ScopeAmResult *
scope_maximize_view_get_result (ScopeMaximizeView *self,
                                int                panel)
{
  g_return_val_if_fail (SCOPE_IS_MAXIMIZE_VIEW (self), NULL);
  g_return_val_if_fail (panel >= 0 && panel < VIZ_AM_FIGURE_MAX_PANELS, NULL);

  return self->results[panel];
}

ScopeExamplesPanel *
scope_maximize_view_get_examples_panel (ScopeMaximizeView *self)
{
  g_return_val_if_fail (SCOPE_IS_MAXIMIZE_VIEW (self), NULL);

  return self->examples_panel;
}

guint
scope_maximize_view_get_n_images (ScopeMaximizeView *self)
{
  g_return_val_if_fail (SCOPE_IS_MAXIMIZE_VIEW (self), 0);

  return self->n_images;
}

int
scope_maximize_view_get_n_tiles_done (ScopeMaximizeView *self,
                                      int               *n_tiles)
{
  g_return_val_if_fail (SCOPE_IS_MAXIMIZE_VIEW (self), 0);

  if (n_tiles != NULL)
    *n_tiles = self->n_tiles;
  return self->n_done;
}

/* Drawing and export. */

static void
fill_figure (ScopeMaximizeView *self,
             VizAmFigure       *fig)
{
  memset (fig, 0, sizeof *fig);
  g_strlcpy (fig->caption, self->caption, sizeof fig->caption);
  if (self->mode == SCOPE_MAXIMIZE_ALL)
    {
      fig->tiles = self->tiles;
      fig->tile_values = self->tile_values;
      fig->n_tiles = self->n_tiles;
      for (int k = 0; k < self->n_jobs; k++)
        fig->stopped |= scope_am_job_get_state (self->jobs[k]) == SCOPE_AM_STOPPED;
      if (self->n_jobs > 0
          && scope_am_job_get_settings (self->jobs[0])->objective == NN_AM_OBJECTIVE_LOGIT)
        fig->class_model = scope_model_get_nn_model (self->model);
      return;
    }
  fig->n_panels = self->n_jobs;
  for (int k = 0; k < self->n_jobs; k++)
    {
      VizAmPanel *p = &fig->panels[k];
      g_strlcpy (p->title, self->titles[k], sizeof p->title);
      p->image = self->images[k];
      p->history = (const double *) (void *) self->histories[k]->data;
      p->n_history = (int) self->histories[k]->len;
    }
}

char *
scope_maximize_view_get_tile_label (ScopeMaximizeView *self,
                                    int                k)
{
  g_return_val_if_fail (SCOPE_IS_MAXIMIZE_VIEW (self), NULL);

  if (self->mode != SCOPE_MAXIMIZE_ALL || k < 0 || k >= self->n_tiles)
    return NULL;
  VizAmFigure fig;
  fill_figure (self, &fig);
  char text[64];
  viz_am_figure_tile_label (text, sizeof text, &fig, k);
  return g_strdup (text);
}

static void
draw_canvas (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        data)
{
  ScopeMaximizeView *self = data;
  if (self->mode == SCOPE_MAXIMIZE_NONE)
    return;
  VizStyle style;
  scope_figure_style_init_screen (&style, GTK_WIDGET (area));
  VizAmFigure fig;
  fill_figure (self, &fig);
  viz_am_figure_draw (cr, &fig, &style, width, height);
}

static gboolean
export (ScopeView   *view,
        const char  *path,
        GError     **error)
{
  ScopeMaximizeView *self = SCOPE_MAXIMIZE_VIEW (view);
  if (self->mode == SCOPE_MAXIMIZE_NONE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _ ("%s: there is no activation maximization to export yet"), path);
      return FALSE;
    }
  VizAmFigure fig;
  fill_figure (self, &fig);
  NnError err = { 0 };
  if (viz_am_figure_export (&fig, path, VIZ_AM_FIGURE_WIDTH, VIZ_AM_FIGURE_HEIGHT, &err))
    return TRUE;
  scope_error_from_nn (error, &err);
  return FALSE;
}

static void
changed (ScopeView       *view,
         ScopeViewChange  what)
{
  if (what & (SCOPE_VIEW_MODEL | SCOPE_VIEW_LAYER | SCOPE_VIEW_CHANNEL))
    {
      set_target (SCOPE_MAXIMIZE_VIEW (view), scope_view_get_model (view),
                  scope_view_get_layer (view), scope_view_get_channel (view));
      scope_examples_panel_set_target (SCOPE_MAXIMIZE_VIEW (view)->examples_panel,
                                       scope_view_get_model (view), scope_view_get_layer (view),
                                       scope_view_get_channel (view));
    }
}

/* Actions. */

typedef gboolean (*StartFunc) (ScopeMaximizeView *self,
                               GError           **error);

static void
start_action (GtkWidget  *widget,
              const char *name,
              GVariant   *parameter)
{
  (void) parameter;
  ScopeMaximizeView *self = SCOPE_MAXIMIZE_VIEW (widget);
  StartFunc start = g_str_equal (name, "maximize.compare") ? compare
                    : g_str_equal (name, "maximize.all-channels") ? run_all
                    : run;
  g_autoptr (GError) error = NULL;
  if (!start (self, &error))
    scope_view_report_error (SCOPE_VIEW (self), _ ("Activation maximization failed: %s"),
                             error->message);
}

static void
stop_action (GtkWidget  *widget,
             const char *name,
             GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  cancel (SCOPE_VIEW (widget));
}

/* GObject and GtkWidget. */

static void
on_selection_changed (GObject           *object,
                      GParamSpec        *pspec,
                      ScopeMaximizeView *self)
{
  (void) object;
  (void) pspec;
  update_controls (self);
}

static void
scope_maximize_view_dispose (GObject *object)
{
  ScopeMaximizeView *self = SCOPE_MAXIMIZE_VIEW (object);

  clear_results (self);
  g_clear_pointer (&self->model, scope_model_unref);
  g_clear_pointer (&self->start_image, scope_input_unref);

  G_OBJECT_CLASS (scope_maximize_view_parent_class)->dispose (object);
}

static void
scope_maximize_view_finalize (GObject *object)
{
  ScopeMaximizeView *self = SCOPE_MAXIMIZE_VIEW (object);

  for (int k = 0; k < VIZ_AM_FIGURE_MAX_PANELS; k++)
    g_array_unref (self->histories[k]);
  g_free (self->direction);
  g_free (self->previous);

  G_OBJECT_CLASS (scope_maximize_view_parent_class)->finalize (object);
}

static void
scope_maximize_view_class_init (ScopeMaximizeViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ScopeViewClass *view_class = SCOPE_VIEW_CLASS (klass);

  object_class->dispose = scope_maximize_view_dispose;
  object_class->finalize = scope_maximize_view_finalize;

  view_class->changed = changed;
  view_class->export = export;
  view_class->cancel = cancel;

  g_type_ensure (SCOPE_TYPE_EXAMPLES_PANEL);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cnnscope/Cnnscope/ui/scope-maximize-view.ui");
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, target_dropdown);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, examples_panel);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, layer_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, channel_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, channel_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, class_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, class_dropdown);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, policy_dropdown);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, slope_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, steps_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, lr_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, seed_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, pad_check);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, jitter_check);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, scale_check);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, rotate_check);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, blur_check);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, objective_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, objective_dropdown);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, unit_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, unit_box);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, unit_y_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, unit_x_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, percentile_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, percentile_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, direction_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, direction_entry);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, warmup_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, optimizer_dropdown);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, param_dropdown);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, l2_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, tv_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, start_dropdown);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, start_button);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, pad_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, jitter_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, scale_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, rotate_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, blur_strength_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, status_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, canvas);
  gtk_widget_class_bind_template_child (widget_class, ScopeMaximizeView, canvas_stack);

  gtk_widget_class_install_action (widget_class, "maximize.run", NULL, start_action);
  gtk_widget_class_install_action (widget_class, "maximize.compare", NULL, start_action);
  gtk_widget_class_install_action (widget_class, "maximize.all-channels", NULL, start_action);
  gtk_widget_class_install_action (widget_class, "maximize.stop", NULL, stop_action);
  gtk_widget_class_set_css_name (widget_class, "maximize-view");
  g_type_ensure (SCOPE_TYPE_WRAP_BOX);
}

static void
scope_maximize_view_init (ScopeMaximizeView *self)
{
  self->node = -1;
  for (int k = 0; k < VIZ_AM_FIGURE_MAX_PANELS; k++)
    self->histories[k] = g_array_new (FALSE, FALSE, sizeof (double));
  gtk_widget_init_template (GTK_WIDGET (self));
  /* The settings keep their width whatever is chosen (a class name, another target), so the
   * transforms below them do not reflow. */
  scope_drop_down_fix_width (self->target_dropdown, 15);
  scope_drop_down_fix_width (self->class_dropdown, 15);
  scope_drop_down_fix_width (self->policy_dropdown, 15);

  gtk_drawing_area_set_draw_func (self->canvas, draw_canvas, self, NULL);
  scope_accessible_set_label (GTK_WIDGET (self->canvas),
                              _ ("Activation maximization (nothing run yet)"));
  g_signal_connect (self->target_dropdown, "notify::selected",
                    G_CALLBACK (on_selection_changed), self);
  g_signal_connect_swapped (self->objective_dropdown, "notify::selected",
                            G_CALLBACK (update_controls), self);
  g_signal_connect_swapped (self->start_dropdown, "notify::selected",
                            G_CALLBACK (on_start_changed), self);
  g_signal_connect_swapped (self->start_button, "clicked", G_CALLBACK (choose_start_image),
                            self);
  GtkCheckButton *checks[] = {
    self->pad_check, self->jitter_check, self->scale_check, self->rotate_check, self->blur_check,
  };
  for (gsize i = 0; i < G_N_ELEMENTS (checks); i++)
    g_signal_connect_swapped (checks[i], "toggled", G_CALLBACK (update_controls), self);
  fill_classes (self);
  set_target (self, NULL, -1, 0);
}
