/* SPDX-License-Identifier: MIT */
/* ScopeTrainView: the controls are read into a ScopeTrainSettings value when a run starts; the
 * job's updates go to the chart and the status line, its snapshots to the window (ScopeView's
 * "show-model") while the window shows the run's weights, and to the live explanations
 * (ScopeTrainLive: the probes' Grad-CAMs and the AM strip). Errors are reported by ScopeView's
 * "failed" signal, for the window's toast. */
#include "scope-train-view.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "scope-error.h"
#include "scope-file-dialog.h"
#include "scope-train-live.h"

struct _ScopeTrainView
{
  ScopeView        parent_instance;

  /* Template children. */
  GtkDropDown     *dataset_dropdown;
  GtkWidget       *folder_button;
  GtkLabel        *folder_label;
  GtkDropDown     *arch_dropdown;
  GtkSpinButton   *width_spin;
  GtkDropDown     *optimizer_dropdown;
  GtkSpinButton   *lr_spin;
  GtkSpinButton   *epochs_spin;
  GtkSpinButton   *batch_spin;
  GtkSpinButton   *per_class_spin;
  GtkDropDown     *policy_dropdown;
  GtkWidget       *slope_label;
  GtkSpinButton   *slope_spin;
  GtkButton       *pause_button;
  GtkStack        *pause_stack;      /* its label: "pause" or "resume" */
  GtkLabel        *status_label;
  GtkLabel        *metrics_label;    /* the last epoch's clinical metrics */
  gboolean         has_metrics;      /* FALSE: the label shows only the table's header */
  ScopeTrainChart *chart;
  GtkCheckButton  *live_check;
  GtkLabel        *live_label;
  GtkBox          *probe_box;
  GtkWidget       *probe_hint;
  GtkDropDown     *am_layer_drop;
  GtkDrawingArea  *am_strip;

  ScopeTrainLive  *live;

  char            *folder;          /* the chosen image folder, or NULL */
  ScopeTrainJob   *job;
  ScopeModel      *snapshot;        /* the newest weights of the run */
  ScopeModel      *saved;           /* the weights saved last */
  gboolean         following;       /* the window shows the run's weights */
  long             total_steps;
  long             step;
  float            test_accuracy;   /* of the last epoch, < 0 before */
  double           step_ms;         /* the timed steps' wall time, in milliseconds */
  long             timed_steps;     /* steps with a time (ScopeTrainStep.ms) */
  int              snapshot_ms;     /* ScopeTrainSettings.snapshot_ms of the next run */
};

G_DEFINE_FINAL_TYPE (ScopeTrainView, scope_train_view, SCOPE_TYPE_VIEW)

/* The policy drop-down's entries as nn_grad_policy_parse reads them; ProxyGrad takes the
 * slope. */
static const char *const policy_names[] = { "exact", "proxygrad", "sugar:bsilu", "sugar:nelu" };
static const char *const optimizer_names[] = { "sgd", "adamw", "lamb" };

static guint
string_index (const char *const *names,
              guint              n,
              const char        *name)
{
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (names[i], name) == 0)
      return i;
  return 0;
}

static void
update_controls (ScopeTrainView *self)
{
  ScopeTrainState state = self->job != NULL ? scope_train_job_get_state (self->job)
                                            : SCOPE_TRAIN_IDLE;
  gboolean active = scope_train_state_is_active (state);
  gboolean folder = gtk_drop_down_get_selected (self->dataset_dropdown) == 1;
  gtk_widget_set_visible (self->folder_button, folder);
  gtk_widget_set_visible (GTK_WIDGET (self->folder_label), folder);
  gboolean proxy = gtk_drop_down_get_selected (self->policy_dropdown) == 1;
  gtk_widget_set_sensitive (GTK_WIDGET (self->slope_spin), proxy);
  gtk_widget_set_sensitive (self->slope_label, proxy);
  gtk_widget_set_sensitive (GTK_WIDGET (gtk_widget_get_parent (self->folder_button)), !active);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.start", !active);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.stop", active);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.pause",
                                 state == SCOPE_TRAIN_RUNNING || state == SCOPE_TRAIN_LOADING);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.resume", state == SCOPE_TRAIN_PAUSED);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.save", self->snapshot != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.add-probe-tests",
                                 self->job != NULL && self->snapshot != NULL);
  scope_view_set_busy (SCOPE_VIEW (self),
                       active || (self->live != NULL && scope_train_live_is_running (self->live)));
  scope_view_set_unsaved (SCOPE_VIEW (self),
                          active ? _ ("A training run is going on, and its weights are not saved.")
                          : self->snapshot != NULL && self->snapshot != self->saved
                          ? _ ("The trained weights are not saved.") : NULL);
  scope_view_set_can_export (SCOPE_VIEW (self), self->job != NULL);
  if (state == SCOPE_TRAIN_PAUSED)
    {
      gtk_stack_set_visible_child_name (self->pause_stack, "resume");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->pause_button), "train.resume");
    }
  else
    {
      gtk_stack_set_visible_child_name (self->pause_stack, "pause");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->pause_button), "train.pause");
    }

  g_autofree char *text = NULL;
  g_autofree char *speed = self->timed_steps > 0
                           ? g_strdup_printf (_ (", %.1f ms per step (%.1f steps/s)"),
                                              self->step_ms / self->timed_steps,
                                              1000.0 * self->timed_steps / self->step_ms)
                           : g_strdup ("");
  g_autofree char *accuracy = self->test_accuracy >= 0.0f
                              ? g_strdup_printf (_ ("%s, test accuracy %.2f %%"), speed,
                                                 100.0 * self->test_accuracy)
                              : g_strdup (speed);
  switch (state)
    {
    case SCOPE_TRAIN_IDLE:
      return;
    case SCOPE_TRAIN_LOADING:
      text = g_strdup (_ ("Loading the data…"));
      break;
    case SCOPE_TRAIN_RUNNING:
      text = g_strdup_printf (_ ("Training: step %ld of %ld%s"), self->step, self->total_steps,
                              accuracy);
      break;
    case SCOPE_TRAIN_PAUSED:
      text = g_strdup_printf (_ ("Paused at step %ld of %ld%s"), self->step, self->total_steps,
                              accuracy);
      break;
    case SCOPE_TRAIN_FINISHED:
      text = g_strdup_printf (_ ("Finished: %ld steps%s"), self->step, accuracy);
      break;
    case SCOPE_TRAIN_STOPPED:
      text = g_strdup_printf (_ ("Stopped at step %ld of %ld%s"), self->step, self->total_steps,
                              accuracy);
      break;
    case SCOPE_TRAIN_FAILED:
      text = g_strdup (_ ("Failed (see the message)"));
      break;
    }
  gtk_label_set_label (self->status_label, text);
}

/* A ratio as " 0.95", or "    -" when it is undefined. */
static void
append_ratio (GString *text,
              double   value)
{
  if (isnan (value))
    g_string_append (text, "     -");
  else
    g_string_append_printf (text, " %5.3f", value);
}

static void
append_class_row (GString              *text,
                  const char           *name,
                  const NnClassMetrics *m)
{
  g_string_append_printf (text, "\n%-9.9s", name);
  append_ratio (text, m->sensitivity.value);
  append_ratio (text, m->specificity.value);
  append_ratio (text, m->precision.value);
  append_ratio (text, m->f1);
  append_ratio (text, m->auc);
}

/* The header of the metrics table; every row has its width, so the label keeps one width from
 * the start (the controls beside it do not move when the first epoch ends). */
static void
append_metrics_header (GString *text)
{
  g_string_append_printf (text, "%-9s %5s %5s %5s %5s %5s", "class", "sens.", "spec.", "prec.",
                          "F1", "AUC");
}

static void
clear_metrics (ScopeTrainView *self)
{
  g_autoptr (GString) text = g_string_new ("Test set, after each epoch\n");
  append_metrics_header (text);
  gtk_label_set_label (self->metrics_label, text->str);
  self->has_metrics = FALSE;
}

/* The clinical metrics as a small table: one row per class (against the rest), then the macro
 * means. */
static void
show_metrics (ScopeTrainView         *self,
              const ScopeTrainUpdate *update)
{
  const NnMetrics *m = update->metrics;
  g_autoptr (GString) text = g_string_new (NULL);
  g_string_append_printf (text, "Test set (%ld), accuracy %.3f\n", m->n, m->accuracy.value);
  append_metrics_header (text);
  for (int k = 0; k < m->n_classes; k++)
    {
      char number[16];
      g_snprintf (number, sizeof number, "%d", k);
      append_class_row (text, update->class_names != NULL && k < update->n_classes
                              ? update->class_names[k] : number, &m->classes[k]);
    }
  append_class_row (text, "mean", &m->macro);
  gtk_label_set_label (self->metrics_label, text->str);
  self->has_metrics = TRUE;
}

static void
on_update (ScopeTrainJob          *job,
           const ScopeTrainUpdate *update,
           ScopeTrainView         *self)
{
  (void) job;
  ScopeFrameStamp start;
  scope_frame_stamp_now (&start);
  scope_train_chart_add (self->chart, update);
  self->total_steps = update->total_steps;
  if (update->n_steps > 0)
    self->step = update->steps[update->n_steps - 1].step;
  for (guint i = 0; i < update->n_steps; i++)
    if (update->steps[i].ms > 0.0f)
      {
        self->step_ms += update->steps[i].ms;
        self->timed_steps++;
      }
  if (update->n_epochs > 0)
    self->test_accuracy = update->epochs[update->n_epochs - 1].test_accuracy;
  if (update->metrics != NULL)
    show_metrics (self, update);
  if (update->snapshot != NULL)
    {
      g_clear_pointer (&self->snapshot, scope_model_unref);
      self->snapshot = scope_model_ref (update->snapshot);
      if (self->following)
        scope_view_show_model (SCOPE_VIEW (self), self->snapshot);
      scope_train_live_set_weights (self->live, self->snapshot);
    }
  update_controls (self);
  if (update->error != NULL)
    scope_view_report_error (SCOPE_VIEW (self), _ ("Training failed: %s"), update->error->message);
  ScopeFrameTimer *timer = scope_view_get_frame_timer (SCOPE_VIEW (self));
  if (timer != NULL)
    scope_frame_timer_add_work (timer, &start);
}

void
scope_train_view_get_settings (ScopeTrainView     *self,
                               ScopeTrainSettings *s)
{
  g_return_if_fail (SCOPE_IS_TRAIN_VIEW (self));
  g_return_if_fail (s != NULL);

  scope_train_settings_init (s);
  if (gtk_drop_down_get_selected (self->dataset_dropdown) == 1)
    g_strlcpy (s->dataset, self->folder != NULL ? self->folder : "", sizeof s->dataset);
  GtkStringObject *arch = gtk_drop_down_get_selected_item (self->arch_dropdown);
  if (arch != NULL)
    g_strlcpy (s->arch, gtk_string_object_get_string (arch), sizeof s->arch);
  s->width = gtk_spin_button_get_value (self->width_spin);
  guint opt = gtk_drop_down_get_selected (self->optimizer_dropdown);
  g_strlcpy (s->optimizer, optimizer_names[MIN (opt, G_N_ELEMENTS (optimizer_names) - 1)],
             sizeof s->optimizer);
  s->lr = gtk_spin_button_get_value (self->lr_spin);
  s->epochs = gtk_spin_button_get_value_as_int (self->epochs_spin);
  s->batch = gtk_spin_button_get_value_as_int (self->batch_spin);
  s->per_class = gtk_spin_button_get_value_as_int (self->per_class_spin);
  s->snapshot_ms = self->snapshot_ms;
  guint policy = MIN (gtk_drop_down_get_selected (self->policy_dropdown),
                      G_N_ELEMENTS (policy_names) - 1);
  if (policy == 1)
    g_snprintf (s->policy, sizeof s->policy, "proxygrad:%g",
                gtk_spin_button_get_value (self->slope_spin));
  else
    g_strlcpy (s->policy, policy_names[policy], sizeof s->policy);
}

void
scope_train_view_set_settings (ScopeTrainView           *self,
                               const ScopeTrainSettings *s)
{
  g_return_if_fail (SCOPE_IS_TRAIN_VIEW (self));
  g_return_if_fail (s != NULL);

  gboolean folder = g_strcmp0 (s->dataset, "fashion-mnist") != 0;
  g_free (self->folder);
  self->folder = folder ? g_strdup (s->dataset) : NULL;
  gtk_label_set_label (self->folder_label, folder ? s->dataset : "");
  gtk_drop_down_set_selected (self->dataset_dropdown, folder ? 1 : 0);
  const char *const *archs = nn_arch_names ();
  gtk_drop_down_set_selected (self->arch_dropdown,
                              string_index (archs, g_strv_length ((char **) archs), s->arch));
  gtk_spin_button_set_value (self->width_spin, s->width);
  gtk_drop_down_set_selected (self->optimizer_dropdown,
                              string_index (optimizer_names, G_N_ELEMENTS (optimizer_names),
                                            s->optimizer));
  gtk_spin_button_set_value (self->lr_spin, s->lr);
  gtk_spin_button_set_value (self->epochs_spin, s->epochs);
  gtk_spin_button_set_value (self->batch_spin, s->batch);
  gtk_spin_button_set_value (self->per_class_spin, s->per_class);
  self->snapshot_ms = s->snapshot_ms;
  NnGradPolicy policy;
  guint index = 0;
  if (nn_grad_policy_parse (s->policy, &policy, NULL))
    {
      if (policy.kind == NN_GRAD_PROXY)
        {
          index = 1;
          gtk_spin_button_set_value (self->slope_spin, policy.beta);
        }
      else
        index = string_index (policy_names, G_N_ELEMENTS (policy_names), s->policy);
    }
  gtk_drop_down_set_selected (self->policy_dropdown, index);
  update_controls (self);
}

/* Stops the run and joins its thread. */
static void
stop (ScopeTrainView *self)
{
  if (self->job == NULL)
    return;
  scope_train_job_stop (self->job);
  /* The weights it stopped on, not the last snapshot before: the window shows them and Save
   * writes them. */
  ScopeModel *final = scope_train_job_get_final (self->job);
  if (final != NULL && final != self->snapshot)
    {
      g_clear_pointer (&self->snapshot, scope_model_unref);
      self->snapshot = scope_model_ref (final);
      if (self->following)
        scope_view_show_model (SCOPE_VIEW (self), self->snapshot);
      scope_train_live_set_weights (self->live, self->snapshot);
    }
  update_controls (self);
}

/* Starts a run with the controls' settings, stopping the previous one; the window shows its
 * weights from the first snapshot on, until another model is opened. */
static gboolean
start (ScopeTrainView  *self,
       GError         **error)
{
  ScopeTrainSettings s;
  scope_train_view_get_settings (self, &s);
  if (s.dataset[0] == '\0')
    {
      g_set_error_literal (error, SCOPE_NN_ERROR, NN_ERROR_SPEC,
                           _ ("choose an image folder to train on first"));
      return FALSE;
    }
  stop (self);
  g_clear_object (&self->job);
  /* without a probe chosen, the window's image is the probe */
  ScopeInput *input = scope_view_get_input (SCOPE_VIEW (self));
  if (scope_train_live_get_n_probes (self->live) == 0 && input != NULL)
    scope_train_live_add_probe (self->live, input, -1);
  self->job = scope_train_job_new (&s);
  g_signal_connect (self->job, "update", G_CALLBACK (on_update), self);
  self->step = 0;
  self->total_steps = 0;
  self->test_accuracy = -1.0f;
  self->step_ms = 0.0;
  self->timed_steps = 0;
  clear_metrics (self);
  g_autofree char *caption = g_strdup_printf ("%s ×%g on %s · %s lr %g · batch %d · %s%s",
                                              s.arch, s.width, s.dataset, s.optimizer, s.lr,
                                              s.batch, s.policy,
                                              s.per_class > 0 ? " · subset" : "");
  scope_train_chart_reset (self->chart, caption);
  gboolean ok = scope_train_job_start (self->job, error);
  self->following = ok;
  update_controls (self);
  return ok;
}

ScopeTrainState
scope_train_view_get_state (ScopeTrainView *self)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_VIEW (self), SCOPE_TRAIN_IDLE);

  return self->job != NULL ? scope_train_job_get_state (self->job) : SCOPE_TRAIN_IDLE;
}

ScopeModel *
scope_train_view_get_snapshot (ScopeTrainView *self)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_VIEW (self), NULL);

  return self->snapshot;
}

const char *
scope_train_view_get_metrics_text (ScopeTrainView *self)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_VIEW (self), NULL);
  if (!self->has_metrics)
    return NULL;
  return gtk_label_get_label (self->metrics_label);
}

ScopeTrainLive *
scope_train_view_get_live (ScopeTrainView *self)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_VIEW (self), NULL);

  return self->live;
}

ScopeTrainChart *
scope_train_view_get_chart (ScopeTrainView *self)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_VIEW (self), NULL);

  return self->chart;
}

gboolean
scope_train_view_save_model (ScopeTrainView  *self,
                             GFile           *file,
                             GError         **error)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_VIEW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autofree char *path = g_file_get_path (file);
  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, _ ("%s: not a local file"), uri);
      return FALSE;
    }
  if (self->snapshot == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   _ ("%s: there is no trained model to save yet"), path);
      return FALSE;
    }
  NnError err = { 0 };
  if (!nn_model_save (scope_model_get_nn_model (self->snapshot), path, &err))
    {
      scope_error_from_nn (error, &err);
      return FALSE;
    }
  g_clear_pointer (&self->saved, scope_model_unref);
  self->saved = scope_model_ref (self->snapshot);
  update_controls (self);
  return TRUE;
}

static gboolean
export (ScopeView   *view,
        const char  *path,
        GError     **error)
{
  return scope_train_chart_export (SCOPE_TRAIN_VIEW (view)->chart, path, error);
}

static void
cancel (ScopeView *view)
{
  stop (SCOPE_TRAIN_VIEW (view));
}

/* Probes. */

static void
add_probe_input_action (GtkWidget  *widget,
                        const char *name,
                        GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  ScopeTrainView *self = SCOPE_TRAIN_VIEW (widget);
  ScopeInput *input = scope_view_get_input (SCOPE_VIEW (self));
  if (input == NULL)
    {
      scope_view_report_error (SCOPE_VIEW (self), "%s", _ ("There is no image to add: open one "
                                                           "first (Ctrl+Shift+O)"));
      return;
    }
  scope_train_live_add_probe (self->live, input, -1);
}

static void
probe_file_chosen (GtkWidget *owner,
                   GFile     *file)
{
  ScopeTrainView *self = SCOPE_TRAIN_VIEW (owner);
  ScopeModel *model = self->snapshot != NULL ? self->snapshot
                                             : scope_view_get_model (SCOPE_VIEW (self));
  g_autofree char *path = g_file_get_path (file);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScopeInput) input = path != NULL && model != NULL
                                 ? scope_input_load (path, model, &error) : NULL;
  if (input == NULL)
    {
      scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot add the probe: %s"),
                               error != NULL ? error->message : _ ("no model to build it for"));
      return;
    }
  scope_train_live_add_probe (self->live, input, -1);
}

static void
add_probe_file_action (GtkWidget  *widget,
                       const char *name,
                       GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  static const ScopeFileType types[] = {
    { N_ ("Images"), "*.png;*.jpg;*.jpeg;*.PNG;*.JPG;*.JPEG;*.npy;*.dcm" },
  };
  scope_file_dialog_run (widget, GTK_FILE_CHOOSER_ACTION_OPEN, _ ("Add a Probe Image"),
                         _ ("_Add"), types, G_N_ELEMENTS (types), NULL, NULL,
                         probe_file_chosen);
}

/* The first test image of each class (ten at most), each explained for its own class. */
static void
add_probe_tests_action (GtkWidget  *widget,
                        const char *name,
                        GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  ScopeTrainView *self = SCOPE_TRAIN_VIEW (widget);
  if (self->job == NULL || self->snapshot == NULL)
    return;
  const NnModel *m = scope_model_get_nn_model (self->snapshot);
  for (int k = 0; k < MIN (m->n_classes, 10); k++)
    {
      const NnImage *image = scope_train_job_get_test_image (self->job, k);
      if (image == NULL)
        continue;
      /* A name, not a path: a class such as "T-shirt/top" must not look like folders. */
      g_autofree char *label = g_strdelimit (g_strdup_printf (_ ("test image of %s"),
                                                              m->labels[k] != NULL
                                                              ? m->labels[k] : "?"),
                                             G_DIR_SEPARATOR_S, '-');
      g_autoptr (GError) error = NULL;
      g_autoptr (ScopeInput) input = scope_input_new_image (label, image, self->snapshot,
                                                            &error);
      if (input == NULL)
        {
          scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot add the probe: %s"),
                                   error->message);
          return;
        }
      scope_train_live_add_probe (self->live, input, k);
    }
}

static void
on_live_changed (gpointer data)
{
  update_controls (SCOPE_TRAIN_VIEW (data));
}

/* Another model opened in the window: its views no longer follow the run. */
static void
changed (ScopeView       *view,
         ScopeViewChange  what)
{
  ScopeTrainView *self = SCOPE_TRAIN_VIEW (view);
  if ((what & SCOPE_VIEW_MODEL) && scope_view_get_model (view) != self->snapshot)
    self->following = FALSE;
}

/* Actions. */

static void
start_action (GtkWidget  *widget,
              const char *name,
              GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  g_autoptr (GError) error = NULL;
  if (!start (SCOPE_TRAIN_VIEW (widget), &error))
    scope_view_report_error (SCOPE_VIEW (widget), _ ("Training failed: %s"), error->message);
}

static void
pause_action (GtkWidget  *widget,
              const char *name,
              GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  ScopeTrainView *self = SCOPE_TRAIN_VIEW (widget);
  if (self->job != NULL)
    scope_train_job_pause (self->job);
}

static void
resume_action (GtkWidget  *widget,
               const char *name,
               GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  ScopeTrainView *self = SCOPE_TRAIN_VIEW (widget);
  if (self->job != NULL)
    scope_train_job_resume (self->job);
}

static void
stop_action (GtkWidget  *widget,
             const char *name,
             GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  stop (SCOPE_TRAIN_VIEW (widget));
}

static void
folder_chosen (GtkWidget *owner,
               GFile     *file)
{
  ScopeTrainView *self = SCOPE_TRAIN_VIEW (owner);
  g_autofree char *path = g_file_get_path (file);
  if (path == NULL)
    return;
  g_free (self->folder);
  self->folder = g_steal_pointer (&path);
  gtk_label_set_label (self->folder_label, self->folder);
}

static void
choose_folder_action (GtkWidget  *widget,
                      const char *name,
                      GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  scope_file_dialog_run (widget, GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _ ("Choose Image Folder"),
                         _ ("_Choose"), NULL, 0, NULL, NULL, folder_chosen);
}

static const ScopeFileType model_types[] = {
  { N_ ("cnnscope models (.safetensors)"), "*.safetensors" },
};

static void
save_chosen (GtkWidget *owner,
             GFile     *file)
{
  g_autoptr (GError) error = NULL;
  if (!scope_train_view_save_model (SCOPE_TRAIN_VIEW (owner), file, &error))
    {
      scope_view_report_error (SCOPE_VIEW (owner), _ ("Could not save the model: %s"),
                               error->message);
      return;
    }
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *message = g_strdup_printf (_ ("Saved %s"), name);
  scope_view_report_done (SCOPE_VIEW (owner), message);
}

static void
save_action (GtkWidget  *widget,
             const char *name,
             GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  ScopeTrainView *self = SCOPE_TRAIN_VIEW (widget);
  if (self->snapshot == NULL)
    return;
  g_autofree char *suggested = g_strdup_printf ("%s-trained.safetensors",
                                                scope_model_get_nn_model (self->snapshot)->arch);
  scope_file_dialog_run (widget, GTK_FILE_CHOOSER_ACTION_SAVE, _ ("Save Model"), _ ("_Save"),
                         model_types, G_N_ELEMENTS (model_types), NULL, suggested,
                         save_chosen);
}

/* GObject and GtkWidget. */

static void
on_selection_changed (GObject        *dropdown,
                      GParamSpec     *pspec,
                      ScopeTrainView *self)
{
  (void) dropdown;
  (void) pspec;
  update_controls (self);
}

static void
scope_train_view_dispose (GObject *object)
{
  ScopeTrainView *self = SCOPE_TRAIN_VIEW (object);

  /* The job's dispose cancels and joins its worker. */
  if (self->job != NULL)
    g_signal_handlers_disconnect_by_data (self->job, self);
  g_clear_object (&self->job);
  g_clear_pointer (&self->live, scope_train_live_free);
  g_clear_pointer (&self->snapshot, scope_model_unref);
  g_clear_pointer (&self->saved, scope_model_unref);

  G_OBJECT_CLASS (scope_train_view_parent_class)->dispose (object);
}

static void
scope_train_view_finalize (GObject *object)
{
  ScopeTrainView *self = SCOPE_TRAIN_VIEW (object);

  g_free (self->folder);

  G_OBJECT_CLASS (scope_train_view_parent_class)->finalize (object);
}

static void
scope_train_view_class_init (ScopeTrainViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ScopeViewClass *view_class = SCOPE_VIEW_CLASS (klass);

  object_class->dispose = scope_train_view_dispose;
  object_class->finalize = scope_train_view_finalize;

  view_class->changed = changed;
  view_class->export = export;
  view_class->cancel = cancel;

  g_type_ensure (SCOPE_TYPE_TRAIN_CHART);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cnnscope/Cnnscope/ui/scope-train-view.ui");
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, dataset_dropdown);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, folder_button);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, folder_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, arch_dropdown);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, width_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, optimizer_dropdown);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, lr_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, epochs_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, batch_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, per_class_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, policy_dropdown);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, slope_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, slope_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, pause_button);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, pause_stack);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, status_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, metrics_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, chart);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, live_check);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, live_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, probe_box);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, probe_hint);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, am_layer_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeTrainView, am_strip);

  gtk_widget_class_install_action (widget_class, "train.start", NULL, start_action);
  gtk_widget_class_install_action (widget_class, "train.pause", NULL, pause_action);
  gtk_widget_class_install_action (widget_class, "train.resume", NULL, resume_action);
  gtk_widget_class_install_action (widget_class, "train.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "train.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "train.choose-folder", NULL,
                                   choose_folder_action);
  gtk_widget_class_install_action (widget_class, "train.add-probe-input", NULL,
                                   add_probe_input_action);
  gtk_widget_class_install_action (widget_class, "train.add-probe-file", NULL,
                                   add_probe_file_action);
  gtk_widget_class_install_action (widget_class, "train.add-probe-tests", NULL,
                                   add_probe_tests_action);
  gtk_widget_class_set_css_name (widget_class, "train-view");
}

static void
scope_train_view_init (ScopeTrainView *self)
{
  self->test_accuracy = -1.0f;
  gtk_widget_init_template (GTK_WIDGET (self));
  ScopeTrainLiveWidgets live = {
    .live_check = self->live_check, .live_label = self->live_label,
    .probe_box = self->probe_box, .probe_hint = self->probe_hint,
    .am_layer_drop = self->am_layer_drop, .am_strip = self->am_strip,
    .changed = G_CALLBACK (on_live_changed), .data = self,
  };
  self->live = scope_train_live_new (&live);

  GtkStringList *archs = gtk_string_list_new ((const char *const *) nn_arch_names ());
  gtk_drop_down_set_model (self->arch_dropdown, G_LIST_MODEL (archs));
  g_object_unref (archs);
  g_signal_connect (self->dataset_dropdown, "notify::selected",
                    G_CALLBACK (on_selection_changed), self);
  g_signal_connect (self->policy_dropdown, "notify::selected",
                    G_CALLBACK (on_selection_changed), self);
  ScopeTrainSettings defaults;
  scope_train_settings_init (&defaults);
  scope_train_view_set_settings (self, &defaults);
  clear_metrics (self);
}
