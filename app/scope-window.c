/* SPDX-License-Identifier: MIT */
/* ScopeWindow: the state (model, image, selected layer and channel), opening files, and the glue
 * that hands the engine's results to the views; scope-window-actions.c has the actions and keys. */
#include "scope-window-private.h"

#include <string.h>

#include "scope-application.h"
#include "scope-error.h"
#include "scope-layer.h"

enum
{
  PROP_0,
  PROP_FILTER_MODE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (ScopeWindow, scope_window, ADW_TYPE_APPLICATION_WINDOW)

void
scope_window_show_error (ScopeWindow *self,
                         const char  *format,
                         ...)
{
  va_list args;
  va_start (args, format);
  g_free (self->error_message);
  self->error_message = g_strdup_vprintf (format, args);
  va_end (args);

  g_autofree char *markup = g_markup_escape_text (self->error_message, -1);
  AdwToast *toast = adw_toast_new (markup);
  adw_toast_set_timeout (toast, 10);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
scope_window_show_message (ScopeWindow *self,
                           const char  *message)
{
  g_autofree char *markup = g_markup_escape_text (message, -1);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (markup));
}

const NnGraph *
scope_window_get_graph (ScopeWindow *self)
{
  return scope_model_get_graph (self->model);
}

/* What the Activations view shows while it has no activations. */
static void
show_status (ScopeWindow *self,
             const char  *title,
             const char  *description)
{
  adw_status_page_set_title (self->activations_status, title);
  adw_status_page_set_description (self->activations_status, description);
}

guint
scope_window_find_layer_position (ScopeWindow *self,
                                  int          node)
{
  GListModel *list = G_LIST_MODEL (self->layer_filter_model);
  guint n = g_list_model_get_n_items (list);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (ScopeLayer) layer = g_list_model_get_item (list, i);
      if (scope_layer_get_node (layer) == node)
        return i;
    }
  return GTK_INVALID_LIST_POSITION;
}

static void
update_filters_controls (ScopeWindow *self)
{
  gboolean has_filters = self->model != NULL
                         && scope_model_node_has_filters (self->model, self->node);
  /* The 1x1 conv of a PFNet module shows the whole module: its 1x1 kernels alone would be
   * single pixels. */
  gboolean module = scope_pfm_view_set_layer (self->pfm_view, self->model, self->node)
                    && g_str_has_suffix (scope_window_get_graph (self)->nodes[self->node].name,
                                         ".conv1x1");
  gtk_stack_set_visible_child_name (self->filters_stack,
                                    module ? "module" : has_filters ? "filters" : "none");

  int n_inputs = scope_filters_view_get_n_input_channels (self->filters_view);
  gboolean per_input = g_strcmp0 (self->filter_mode, "input-channel") == 0;
  GtkAdjustment *adjustment = gtk_spin_button_get_adjustment (self->input_channel_spin);
  gtk_adjustment_set_upper (adjustment, MAX (n_inputs - 1, 0));
  gtk_widget_set_sensitive (GTK_WIDGET (self->input_channel_spin), per_input);
  gtk_widget_set_sensitive (GTK_WIDGET (self->input_channel_label), per_input);
  scope_filters_view_set_input_channel (self->filters_view,
                                        per_input ? gtk_spin_button_get_value_as_int (
                                                      self->input_channel_spin)
                                                  : -1);
}

void
scope_window_select_channel (ScopeWindow *self,
                             int          channel)
{
  if (self->model == NULL || self->node < 0)
    return;
  self->channel = CLAMP (channel, 0, scope_window_get_graph (self)->nodes[self->node].shape.c - 1);
  scope_channel_view_set_channel (SCOPE_CHANNEL_VIEW (self->activations_view), self->channel);
  scope_channel_view_set_channel (SCOPE_CHANNEL_VIEW (self->filters_view), self->channel);
  scope_channel_view_set_channel (SCOPE_CHANNEL_VIEW (self->pfm_view), self->channel);
  scope_maximize_view_set_target (self->maximize_view, self->model, self->node, self->channel);
}

void
scope_window_select_layer (ScopeWindow *self,
                           int          node)
{
  if (self->model == NULL)
    return;
  self->node = CLAMP (node, 0, scope_window_get_graph (self)->n_nodes - 1);
  scope_activations_view_set_layer (self->activations_view, self->node);
  scope_filters_view_set_layer (self->filters_view, self->model, self->node);
  scope_window_select_channel (self, self->channel);
  update_filters_controls (self);

  guint position = scope_window_find_layer_position (self, self->node);
  if (position != GTK_INVALID_LIST_POSITION)
    {
      if (gtk_single_selection_get_selected (self->layer_selection) != position)
        gtk_single_selection_set_selected (self->layer_selection, position);
      gtk_widget_activate_action (GTK_WIDGET (self->layer_list), "list.scroll-to-item", "u",
                                  position);
    }
}

/* The first convolution, where there is most to see; else the first layer after the input. */
static int
default_layer (const ScopeModel *model)
{
  const NnGraph *g = scope_model_get_graph (model);
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].op == NN_OP_CONV2D)
      return i;
  return g->n_nodes > 1 ? 1 : 0;
}

static void
update_model_labels (ScopeWindow *self)
{
  const NnModel *m = scope_model_get_nn_model (self->model);
  NnShape in = m->graph->nodes[0].shape;
  gsize params = 0;
  for (int i = 0; i < m->graph->n_nodes; i++)
    params += nn_graph_node_param_count (m->graph, i);
  g_autoptr (GString) detail = g_string_new (NULL);
  if (m->arch[0] != '\0')
    g_string_append_printf (detail, "%s · ", m->arch);
  g_string_append_printf (detail, "input %d×%d×%d · %d classes · %" G_GSIZE_FORMAT " params",
                          in.c, in.h, in.w, m->n_classes, params);
  if (m->test_accuracy >= 0.0)
    g_string_append_printf (detail, " · test accuracy %.2f %%", 100.0 * m->test_accuracy);
  gtk_label_set_label (self->model_label, scope_model_get_name (self->model));
  gtk_label_set_label (self->model_detail_label, detail->str);

  g_autofree char *title = g_strdup_printf ("%s — cnnscope", scope_model_get_name (self->model));
  gtk_window_set_title (GTK_WINDOW (self), title);
}

/* Whether b has a's layers (names and shapes): a snapshot of the same run. */
static gboolean
same_structure (const ScopeModel *a,
                const ScopeModel *b)
{
  const NnGraph *ga = scope_model_get_graph (a), *gb = scope_model_get_graph (b);
  if (ga->n_nodes != gb->n_nodes)
    return FALSE;
  for (int i = 0; i < ga->n_nodes; i++)
    if (strcmp (ga->nodes[i].name, gb->nodes[i].name) != 0
        || ga->nodes[i].shape.c != gb->nodes[i].shape.c)
      return FALSE;
  return TRUE;
}

static void run_forward (ScopeWindow *self);
static void set_model (ScopeWindow *self,
                       ScopeModel  *model);

/* The input as the views and the forward pass see it: the one opened last when it fits the
 * model, else none (it is being rebuilt for the model). */
static ScopeInput *
visible_input (ScopeWindow *self)
{
  return self->input != NULL && scope_input_fits (self->input, self->model) ? self->input : NULL;
}

/* After the model changed: an input that does not fit it is built again for it on the engine
 * thread (take_input receives it). */
static void
rebuild_input (ScopeWindow *self)
{
  if (self->input == NULL || visible_input (self) != NULL)
    return;
  g_autoptr (GError) error = NULL;
  if (scope_engine_rebuild (self->engine, self->input, self->model, &error) == 0)
    scope_window_show_error (self, "Cannot use the input: %s", error->message);
}

static void
inputs_changed (ScopeWindow *self)
{
  ScopeInput *input = visible_input (self);
  scope_explain_view_set_input (self->explain_view, self->model, input);
  if (self->model != NULL && self->input != NULL && input == NULL)
    show_status (self, "Computing Activations…", NULL);
}

/* The newest weights of a training run. The first snapshot of a run replaces the model as an
 * opened one does; later ones only swap the weights under the same selection, and the current
 * input runs through them on the engine thread. */
static void
follow_model (ScopeWindow *self,
              ScopeModel  *model)
{
  if (self->model == NULL || !same_structure (self->model, model))
    {
      set_model (self, scope_model_ref (model));
      rebuild_input (self);
      run_forward (self);
      return;
    }
  g_clear_pointer (&self->model, scope_model_unref);
  self->model = scope_model_ref (model);
  scope_filters_view_set_layer (self->filters_view, self->model, self->node);
  scope_maximize_view_set_target (self->maximize_view, self->model, self->node, self->channel);
  update_filters_controls (self);
  update_model_labels (self);
  inputs_changed (self);
  rebuild_input (self);
  run_forward (self);
}

/* Takes ownership of model. */
static void
set_model (ScopeWindow *self,
           ScopeModel  *model)
{
  scope_engine_cancel (self->engine);
  g_clear_pointer (&self->model, scope_model_unref);
  self->model = model;
  self->node = -1;
  self->channel = 0;
  scope_activations_view_set_activations (self->activations_view, NULL);
  gtk_stack_set_visible_child_name (self->activations_stack, "empty");
  if (self->input != NULL)
    show_status (self, "Computing Activations…", NULL);
  else
    show_status (self, "No Image", "Open an image (Ctrl+Shift+O) to see the activations.");
  gtk_label_set_label (self->prediction_label, "");

  g_autoptr (GListModel) layers = scope_layer_list_new (model);
  gtk_filter_list_model_set_model (self->layer_filter_model, layers);
  scope_window_select_layer (self, default_layer (model));
  update_model_labels (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->layer_list));
  inputs_changed (self);
}

static gboolean
local_path (GFile   *file,
            char   **path,
            GError **error)
{
  *path = g_file_get_path (file);
  if (*path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s: not a local file", uri);
      return FALSE;
    }
  return TRUE;
}

/* Takes input, made on the engine thread: shown when it fits the model, else built again for
 * the model. Returns whether the forward pass has a new tensor to run on. */
static gboolean
take_input (ScopeWindow *self,
            ScopeInput  *input)
{
  if (!scope_input_fits (input, self->model))
    {
      g_autoptr (GError) error = NULL;
      if (scope_engine_rebuild (self->engine, input, self->model, &error) == 0)
        scope_window_show_error (self, "Cannot use the input: %s", error->message);
      scope_input_unref (input);
      return FALSE;
    }
  gboolean new_tensor = self->input == NULL
                        || scope_input_get_nn_input (self->input) != scope_input_get_nn_input (
                          input);
  g_clear_pointer (&self->input, scope_input_unref);
  self->input = input;
  const NnInput *in = scope_input_get_nn_input (input);
  g_autofree char *text = g_strdup_printf ("Input: %s (%d×%d)", scope_input_get_name (input),
                                           in->image_w, in->image_h);
  gtk_label_set_label (self->input_label, text);
  inputs_changed (self);
  return new_tensor;
}

static void
run_forward (ScopeWindow *self)
{
  ScopeInput *input = visible_input (self);
  if (self->model == NULL || input == NULL)
    return;
  g_autoptr (GError) error = NULL;
  if (scope_engine_run_forward (self->engine, self->model, input, &error) > 0)
    {
      if (scope_activations_view_get_activations (self->activations_view) == NULL)
        show_status (self, "Computing Activations…", NULL);
      return;
    }
  show_status (self, "No Activations", error->message);
  scope_window_show_error (self, "Could not compute the activations: %s", error->message);
}

/* "Cannot open x.png: reason": engine messages start with the file's whole path, which would
 * push the reason out of the toast. */
static void
show_open_error (ScopeWindow  *self,
                 const char   *path,
                 const GError *error)
{
  g_autofree char *name = g_path_get_basename (path);
  const char *reason = error->message;
  if (path != NULL && g_str_has_prefix (reason, path) && g_str_has_prefix (reason + strlen (path),
                                                                             ": "))
    reason += strlen (path) + 2;
  scope_window_show_error (self, "Cannot open %s: %s", name, reason);
}

gboolean
scope_window_open (ScopeWindow *self,
                   GFile       *model,
                   GFile       *image)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), FALSE);

  gboolean ok = TRUE;
  g_autofree char *model_path = NULL, *image_path = NULL;
  g_autoptr (GError) error = NULL;
  if (model != NULL && !local_path (model, &model_path, &error))
    {
      scope_window_show_error (self, "Cannot open %s", error->message);
      g_clear_error (&error);
      ok = FALSE;
    }
  if (image != NULL && !local_path (image, &image_path, &error))
    {
      scope_window_show_error (self, "Cannot open %s", error->message);
      g_clear_error (&error);
      ok = FALSE;
    }
  if (model_path == NULL && image_path == NULL)
    return ok;
  /* The engine thread reads the files; on_opened takes what it read. */
  if (scope_engine_open (self->engine, model_path, image_path, self->model, self->input,
                         &error) == 0)
    {
      scope_window_show_error (self, "Cannot open files: %s", error->message);
      return FALSE;
    }
  return ok;
}

gboolean
scope_window_open_mask (ScopeWindow *self,
                        GFile       *mask)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (mask), FALSE);

  g_autofree char *mask_path = NULL;
  g_autoptr (GError) error = NULL;
  if (!local_path (mask, &mask_path, &error))
    {
      scope_window_show_error (self, "Cannot open %s", error->message);
      return FALSE;
    }
  if (scope_engine_open_mask (self->engine, mask_path, self->input, &error) == 0)
    {
      scope_window_show_error (self, "Cannot open files: %s", error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
scope_window_open_file (ScopeWindow *self,
                        GFile       *file)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *lower = g_ascii_strdown (name != NULL ? name : "", -1);
  gboolean is_model = g_str_has_suffix (lower, ".safetensors")
                      || g_str_has_suffix (lower, ".onnx");
  return scope_window_open (self, is_model ? file : NULL, is_model ? NULL : file);
}

gboolean
scope_window_export (ScopeWindow  *self,
                     GFile        *file,
                     GError      **error)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autofree char *path = NULL;
  if (!local_path (file, &path, error))
    return FALSE;
  const char *view = adw_view_stack_get_visible_child_name (self->view_stack);
  if (g_strcmp0 (view, "filters") == 0
      && g_strcmp0 (gtk_stack_get_visible_child_name (self->filters_stack), "module") == 0)
    return scope_pfm_view_export (self->pfm_view, path, error);
  if (g_strcmp0 (view, "filters") == 0)
    return scope_filters_view_export (self->filters_view, path, error);
  if (g_strcmp0 (view, "train") == 0)
    return scope_train_view_export (self->train_view, path, error);
  if (g_strcmp0 (view, "explain") == 0)
    return scope_explain_view_export (self->explain_view, path, error);
  if (g_strcmp0 (view, "maximize") == 0)
    return scope_maximize_view_export (self->maximize_view, path, error);
  return scope_activations_view_export (self->activations_view, path, error);
}

ScopeActivations *
scope_window_get_activations (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), NULL);

  return scope_activations_view_get_activations (self->activations_view);
}

int
scope_window_get_layer (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), -1);

  return self->node;
}

int
scope_window_get_channel (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), -1);

  return self->channel;
}

gboolean
scope_window_is_busy (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), FALSE);

  return scope_engine_is_busy (self->engine);
}

#define MAX_RECENT 10

void
scope_window_update_recent_menu (ScopeWindow *self)
{
  g_menu_remove_all (self->recent_menu);
  if (self->settings == NULL)
    return;
  g_auto (GStrv) paths = g_settings_get_strv (self->settings, "recent-files");
  for (int i = 0; paths[i] != NULL; i++)
    {
      g_autofree char *name = g_path_get_basename (paths[i]);
      g_autoptr (GMenuItem) item = g_menu_item_new (name, NULL);
      g_menu_item_set_action_and_target_value (item, "file.open-recent",
                                               g_variant_new_string (paths[i]));
      g_menu_append_item (self->recent_menu, item);
    }
}

void
scope_window_add_recent (ScopeWindow *self,
                         const char  *path)
{
  if (self->settings == NULL)
    return;
  g_auto (GStrv) old = g_settings_get_strv (self->settings, "recent-files");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_strv_builder_add (builder, path);
  int n = 1;
  for (int i = 0; old[i] != NULL && n < MAX_RECENT; i++)
    if (strcmp (old[i], path) != 0)
      {
        g_strv_builder_add (builder, old[i]);
        n++;
      }
  g_auto (GStrv) paths = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "recent-files", (const char *const *) paths);
  scope_window_update_recent_menu (self);
}

void
scope_window_set_frame_timing (ScopeWindow *self,
                               gboolean     enabled)
{
  g_return_if_fail (SCOPE_IS_WINDOW (self));

  scope_train_view_set_frame_timer (self->train_view, NULL);
  g_clear_pointer (&self->frame_timer, scope_frame_timer_free);
  if (enabled)
    self->frame_timer = scope_frame_timer_new (GTK_WIDGET (self));
  scope_train_view_set_frame_timer (self->train_view, self->frame_timer);
}

ScopeFrameTimer *
scope_window_get_frame_timer (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), NULL);

  return self->frame_timer;
}

const char *
scope_window_get_error_message (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), NULL);

  return self->error_message;
}

/* Engine results. */

/* What the engine made for scope_window_open, open_mask or a rebuild: a model that could not be
 * read keeps the current one; an input that could not be made keeps the current input. */
static void
on_opened (ScopeEngine *engine,
           ScopeOpened *opened,
           ScopeWindow *self)
{
  (void) engine;
  gboolean changed = FALSE;
  if (opened->model_path != NULL)
    {
      if (opened->model != NULL)
        {
          set_model (self, g_steal_pointer (&opened->model));
          scope_window_add_recent (self, opened->model_path);
          self->follow_training = FALSE;
          changed = TRUE;
        }
      else
        show_open_error (self, opened->model_path, opened->model_error);
    }
  if (opened->image_path != NULL && opened->input != NULL)
    scope_window_add_recent (self, opened->image_path);
  else if (opened->image_path != NULL)
    show_open_error (self, opened->image_path, opened->input_error);
  else if (opened->input_error != NULL)
    scope_window_show_error (self, "Cannot use the input: %s", opened->input_error->message);
  if (opened->mask_error != NULL)
    show_open_error (self, opened->mask_path, opened->mask_error);
  if (opened->input != NULL)
    changed |= take_input (self, g_steal_pointer (&opened->input));
  else
    rebuild_input (self);
  if (changed)
    run_forward (self);
}

static void
on_activations_ready (ScopeEngine      *engine,
                      ScopeActivations *activations,
                      ScopeWindow      *self)
{
  (void) engine;
  if (scope_activations_get_model (activations) != self->model)
    return;
  ScopeFrameStamp start;
  scope_frame_stamp_now (&start);
  scope_activations_view_set_activations (self->activations_view, activations);
  gtk_stack_set_visible_child_name (self->activations_stack, "view");

  float probability;
  int k = scope_activations_get_top_class (activations, &probability);
  const NnModel *m = scope_model_get_nn_model (self->model);
  g_autofree char *text = NULL;
  if (k >= 0)
    text = g_strdup_printf ("Prediction: %s (%.1f %%)", m->labels[k] != NULL ? m->labels[k] : "?",
                            100.0 * probability);
  gtk_label_set_label (self->prediction_label, text != NULL ? text : "");
  if (self->frame_timer != NULL)
    scope_frame_timer_add_work (self->frame_timer, &start);
}

/* A new run: the views follow its weights until the user opens another model. */
static void
on_train_started (ScopeTrainView *view,
                  ScopeWindow    *self)
{
  (void) view;
  self->follow_training = TRUE;
}

static void
on_train_snapshot (ScopeTrainView *view,
                   ScopeModel     *model,
                   ScopeWindow    *self)
{
  (void) view;
  if (self->follow_training)
    follow_model (self, model);
}

static void
on_train_failed (ScopeTrainView *view,
                 const GError   *error,
                 ScopeWindow    *self)
{
  (void) view;
  scope_window_show_error (self, "Training failed: %s", error->message);
}

static void
on_job_failed (ScopeEngine  *engine,
               const GError *error,
               ScopeWindow  *self)
{
  (void) engine;
  show_status (self, "No Activations", error->message);
  scope_window_show_error (self, "Could not compute the activations: %s", error->message);
}

/* Widget signals. */

static void
on_layer_selected (GtkSingleSelection *selection,
                   GParamSpec         *pspec,
                   ScopeWindow        *self)
{
  (void) pspec;
  ScopeLayer *layer = gtk_single_selection_get_selected_item (selection);
  if (layer != NULL && scope_layer_get_node (layer) != self->node)
    scope_window_select_layer (self, scope_layer_get_node (layer));
}

static void
on_view_channel (GObject     *view,
                 GParamSpec  *pspec,
                 ScopeWindow *self)
{
  (void) pspec;
  int channel;
  g_object_get (view, "channel", &channel, NULL);
  if (channel >= 0 && channel != self->channel)
    scope_window_select_channel (self, channel);
}

static void
on_input_channel_changed (GtkSpinButton *spin,
                          ScopeWindow   *self)
{
  (void) spin;
  update_filters_controls (self);
}

static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         ScopeWindow   *self)
{
  (void) target;
  (void) x;
  (void) y;
  return scope_window_open_file (self, g_value_get_object (value));
}

static void
on_maximize_failed (ScopeMaximizeView *view,
                    const GError      *error,
                    ScopeWindow       *self)
{
  (void) view;
  scope_window_show_error (self, "Activation maximization failed: %s", error->message);
}

/* GObject and GtkWidget. */

static gboolean
scope_window_close_request (GtkWindow *window)
{
  ScopeWindow *self = SCOPE_WINDOW (window);

  /* Closing stops the engine and the training at once (cancel and join), before the widgets
   * go. */
  scope_engine_shutdown (self->engine);
  scope_train_view_stop (self->train_view);
  scope_maximize_view_stop (self->maximize_view);
  if (self->frame_timer != NULL && g_getenv ("CNNSCOPE_FRAME_TIMES") != NULL)
    scope_frame_timer_print (self->frame_timer);
  scope_explain_view_cancel (self->explain_view);
  if (self->settings != NULL)
    {
      int width, height;
      gtk_window_get_default_size (window, &width, &height);
      gboolean maximized = gtk_window_is_maximized (window);
      g_settings_set_boolean (self->settings, "window-maximized", maximized);
      if (!maximized && width > 0 && height > 0)
        {
          g_settings_set_int (self->settings, "window-width", width);
          g_settings_set_int (self->settings, "window-height", height);
        }
    }
  return GTK_WINDOW_CLASS (scope_window_parent_class)->close_request (window);
}

static void
scope_window_dispose (GObject *object)
{
  ScopeWindow *self = SCOPE_WINDOW (object);

  if (self->engine != NULL)
    scope_engine_shutdown (self->engine);
  g_clear_object (&self->engine);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->model, scope_model_unref);
  g_clear_pointer (&self->input, scope_input_unref);
  if (self->train_view != NULL)
    scope_train_view_set_frame_timer (self->train_view, NULL);
  g_clear_pointer (&self->frame_timer, scope_frame_timer_free);

  G_OBJECT_CLASS (scope_window_parent_class)->dispose (object);
}

static void
scope_window_finalize (GObject *object)
{
  ScopeWindow *self = SCOPE_WINDOW (object);

  g_free (self->filter_mode);
  g_free (self->error_message);

  G_OBJECT_CLASS (scope_window_parent_class)->finalize (object);
}

static void
scope_window_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  ScopeWindow *self = SCOPE_WINDOW (object);

  switch (prop_id)
    {
    case PROP_FILTER_MODE:
      g_value_set_string (value, self->filter_mode);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_window_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  ScopeWindow *self = SCOPE_WINDOW (object);

  switch (prop_id)
    {
    case PROP_FILTER_MODE:
      {
        const char *mode = g_value_get_string (value);
        if (g_strcmp0 (mode, "summed") != 0 && g_strcmp0 (mode, "input-channel") != 0)
          {
            g_warning ("unknown filter mode '%s'", mode);
            return;
          }
        if (g_strcmp0 (mode, self->filter_mode) == 0)
          return;
        g_free (self->filter_mode);
        self->filter_mode = g_strdup (mode);
        update_filters_controls (self);
        g_object_notify_by_pspec (object, pspec);
      }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_window_class_init (ScopeWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = scope_window_dispose;
  object_class->finalize = scope_window_finalize;
  object_class->get_property = scope_window_get_property;
  object_class->set_property = scope_window_set_property;
  window_class->close_request = scope_window_close_request;

  /**
   * ScopeWindow:filter-mode:
   *
   * How the Filters view shows the kernels: "summed" over the input channels, or
   * "input-channel" (the one chosen next to the view). The state of the filters.mode action.
   */
  properties[PROP_FILTER_MODE] =
    g_param_spec_string ("filter-mode", NULL, NULL, "summed",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (SCOPE_TYPE_ACTIVATIONS_VIEW);
  g_type_ensure (SCOPE_TYPE_FILTERS_VIEW);
  g_type_ensure (SCOPE_TYPE_EXPLAIN_VIEW);
  g_type_ensure (SCOPE_TYPE_LAYER);
  g_type_ensure (SCOPE_TYPE_TRAIN_VIEW);
  g_type_ensure (SCOPE_TYPE_MAXIMIZE_VIEW);
  g_type_ensure (SCOPE_TYPE_PFM_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cnnscope/Cnnscope/ui/scope-window.ui");
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, paned);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, model_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, model_detail_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, input_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, prediction_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, layer_list);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, layer_selection);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, layer_filter_model);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, activations_stack);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, activations_status);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, activations_view);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, filters_stack);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, input_channel_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, input_channel_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, filters_view);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, train_view);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, maximize_view);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, recent_menu);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, pfm_view);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, explain_view);

  scope_window_class_install_actions (widget_class);
}

static void
scope_window_init (ScopeWindow *self)
{
  self->node = -1;
  self->filter_mode = g_strdup ("summed");
  gtk_widget_init_template (GTK_WIDGET (self));

  self->engine = scope_engine_new ();
  g_signal_connect_object (self->engine, "opened", G_CALLBACK (on_opened), self,
                           G_CONNECT_DEFAULT);
  g_signal_connect_object (self->engine, "activations-ready", G_CALLBACK (on_activations_ready),
                           self, G_CONNECT_DEFAULT);
  g_signal_connect_object (self->engine, "job-failed", G_CALLBACK (on_job_failed), self,
                           G_CONNECT_DEFAULT);

  g_signal_connect (self->layer_selection, "notify::selected-item",
                    G_CALLBACK (on_layer_selected), self);
  g_signal_connect (self->activations_view, "notify::channel", G_CALLBACK (on_view_channel),
                    self);
  g_signal_connect (self->filters_view, "notify::channel", G_CALLBACK (on_view_channel), self);
  g_signal_connect (self->pfm_view, "notify::channel", G_CALLBACK (on_view_channel), self);
  g_signal_connect (self->train_view, "started", G_CALLBACK (on_train_started), self);
  g_signal_connect (self->train_view, "snapshot", G_CALLBACK (on_train_snapshot), self);
  g_signal_connect (self->train_view, "failed", G_CALLBACK (on_train_failed), self);
  g_signal_connect (self->maximize_view, "failed", G_CALLBACK (on_maximize_failed), self);
  g_signal_connect (self->input_channel_spin, "value-changed",
                    G_CALLBACK (on_input_channel_changed), self);
  gtk_search_entry_set_key_capture_widget (self->search_entry, GTK_WIDGET (self));

  GtkDropTarget *drop = gtk_drop_target_new (G_TYPE_FILE, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  scope_window_add_keys (self);
  update_filters_controls (self);
  if (g_getenv ("CNNSCOPE_FRAME_TIMES") != NULL)
    scope_window_set_frame_timing (self, TRUE);
}

ScopeWindow *
scope_window_new (GtkApplication *application)
{
  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);

  ScopeWindow *self = g_object_new (SCOPE_TYPE_WINDOW, "application", application, NULL);
  if (SCOPE_IS_APPLICATION (application))
    {
      GSettings *settings = scope_application_get_settings (SCOPE_APPLICATION (application));
      if (settings != NULL)
        {
          self->settings = g_object_ref (settings);
          g_settings_bind (settings, "colormap", self->activations_view, "colormap",
                           G_SETTINGS_BIND_GET);
          gtk_window_set_default_size (GTK_WINDOW (self),
                                       g_settings_get_int (settings, "window-width"),
                                       g_settings_get_int (settings, "window-height"));
          if (g_settings_get_boolean (settings, "window-maximized"))
            gtk_window_maximize (GTK_WINDOW (self));
          scope_window_update_recent_menu (self);
        }
    }
  return self;
}
