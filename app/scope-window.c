/* SPDX-License-Identifier: MIT */
/* ScopeWindow: the state (model, input, activations, selected layer and channel) as properties
 * the template binds to every view, opening files and rebuilding the input on the engine thread,
 * the forward pass, and the dispatch to the visible view (a ScopeView, never named). */
#include "scope-window.h"

#include <glib/gi18n.h>
#include <string.h>

#include "scope-accessible.h"
#include "scope-compare-view.h"
#include "scope-engine.h"
#include "scope-error.h"
#include "scope-explain-view.h"
#include "scope-layer.h"
#include "scope-maximize-view.h"
#include "scope-view.h"
#include "scope-volume-view.h"
#include "viz.h"

#define MAX_RECENT 10

struct _ScopeWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template children. */
  AdwToastOverlay      *toast_overlay;
  AdwViewStack         *view_stack;
  GtkWidget            *open_progress_box;
  GtkProgressBar       *open_progress;
  GtkLabel             *model_label;
  GtkLabel             *model_detail_label;
  GtkLabel             *input_label;
  GtkLabel             *prediction_label;
  GtkSearchEntry       *search_entry;
  GtkListView          *layer_list;
  GtkSingleSelection   *layer_selection;
  GtkFilterListModel   *layer_filter_model;
  GMenu                *recent_menu;
  AdwFlap              *flap;

  GSettings            *settings;       /* NULL without an installed or built schema */
  ScopeEngine          *engine;
  ScopeModel           *model;
  ScopeInput           *input;          /* opened last; fits model, or is being rebuilt */
  ScopeActivations     *activations;
  char                 *forward_error;  /* why the last forward pass failed, or NULL */
  int                   layer;          /* selected node, -1 without a model */
  int                   channel;
  gboolean              filling_list;   /* the layer list is being replaced */
  int                   opening;        /* models asked for and not yet come back */
  char                 *colormap;
  char                 *error_message;
  char                 *message;        /* the last message shown, or NULL */
  char                 *model_folder;   /* where the model and the input opened last are */
  char                 *input_folder;
  ScopeFrameTimer      *frame_timer;    /* NULL unless frame timing is on */
  gboolean              close_confirmed; /* the user chose to close and lose what a view has */
  gboolean              open_confirmed;  /* ... or to open another model */
  GFile                *volume_file;    /* the volume asked for last (the Volume view reads it) */
};

enum
{
  PROP_0,
  PROP_MODEL,
  PROP_INPUT,
  PROP_ACTIVATIONS,
  PROP_LAYER,
  PROP_CHANNEL,
  PROP_FRAME_TIMER,
  PROP_FORWARD_ERROR,
  PROP_COLORMAP,
  PROP_CAN_EXPORT,
  PROP_VOLUME_FILE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (ScopeWindow, scope_window, ADW_TYPE_APPLICATION_WINDOW)

static void
notify (ScopeWindow *self,
        int          prop_id)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

/* Telling the user. */

void
scope_window_show_error (ScopeWindow *self,
                         const char  *format,
                         ...)
{
  g_return_if_fail (SCOPE_IS_WINDOW (self));

  va_list args;
  va_start (args, format);
  g_free (self->error_message);
  self->error_message = g_strdup_vprintf (format, args);
  va_end (args);

  /* A toast holds one short line: Details shows the whole message (error.details). */
  g_autofree char *markup = g_markup_escape_text (self->error_message, -1);
  AdwToast *toast = adw_toast_new (markup);
  adw_toast_set_timeout (toast, 10);
  adw_toast_set_button_label (toast, _ ("_Details"));
  adw_toast_set_action_name (toast, "error.details");
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* The last error in full, in a dialog over the window, its text selectable. */
static void
show_error_details (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  (void) action_name;
  (void) parameter;
  ScopeWindow *self = SCOPE_WINDOW (widget);
  if (self->error_message == NULL)
    return;
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), _ ("Error"), NULL);
  GtkWidget *label = gtk_label_new (self->error_message);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  gtk_widget_set_name (label, "error-details");
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), label);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _ ("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

void
scope_window_show_message (ScopeWindow *self,
                           const char  *message)
{
  g_return_if_fail (SCOPE_IS_WINDOW (self));

  g_free (self->message);
  self->message = g_strdup (message);
  g_autofree char *markup = g_markup_escape_text (message, -1);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (markup));
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
  scope_window_show_error (self, _ ("Cannot open %s: %s"), name, reason);
}

/* Shows or hides the layer list (over the views when the window is narrow). */
static void
toggle_sidebar (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  (void) action_name;
  (void) parameter;
  ScopeWindow *self = SCOPE_WINDOW (widget);
  adw_flap_set_reveal_flap (self->flap, !adw_flap_get_reveal_flap (self->flap));
}

/* The views: the pages of the view stack. */

static ScopeView *
visible_view (ScopeWindow *self)
{
  GtkWidget *child = adw_view_stack_get_visible_child (self->view_stack);
  return child != NULL && SCOPE_IS_VIEW (child) ? SCOPE_VIEW (child) : NULL;
}

/* Every view, to g_ptr_array_unref. */
static GPtrArray *
views (ScopeWindow *self)
{
  GPtrArray *all = g_ptr_array_new ();
  g_autoptr (GtkSelectionModel) pages = adw_view_stack_get_pages (self->view_stack);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (pages)); i++)
    {
      g_autoptr (AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), i);
      GtkWidget *child = adw_view_stack_page_get_child (page);
      if (SCOPE_IS_VIEW (child))
        g_ptr_array_add (all, child);
    }
  return all;
}

static void
cancel_views (ScopeWindow *self)
{
  g_autoptr (GPtrArray) all = views (self);
  for (guint i = 0; i < all->len; i++)
    scope_view_cancel (all->pdata[i]);
}

/* The selection. */

static const NnGraph *
graph (ScopeWindow *self)
{
  return scope_model_get_graph (self->model);
}

/* Position of node in the (searched) layer list, or GTK_INVALID_LIST_POSITION. */
static guint
find_layer_position (ScopeWindow *self,
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

void
scope_window_select_channel (ScopeWindow *self,
                             int          channel)
{
  g_return_if_fail (SCOPE_IS_WINDOW (self));

  if (self->model == NULL || self->layer < 0)
    return;
  /* A token layer's channels are its features (the Activations view shows its patch grid). */
  NnShape shape = graph (self)->nodes[self->layer].shape, view;
  int skip;
  if (viz_layer_figure_token_view (shape, &view, &skip))
    shape = view;
  channel = CLAMP (channel, 0, shape.c - 1);
  if (channel == self->channel)
    return;
  self->channel = channel;
  notify (self, PROP_CHANNEL);
}

/* Selects node in the views and the layer list; the channel is kept when the new layer has
 * it. */
static void
set_layer (ScopeWindow *self,
           int          node)
{
  node = CLAMP (node, 0, graph (self)->n_nodes - 1);
  if (node != self->layer)
    {
      self->layer = node;
      notify (self, PROP_LAYER);
    }
  scope_window_select_channel (self, self->channel);
  guint position = find_layer_position (self, self->layer);
  if (position != GTK_INVALID_LIST_POSITION)
    {
      if (gtk_single_selection_get_selected (self->layer_selection) != position)
        gtk_single_selection_set_selected (self->layer_selection, position);
      gtk_widget_activate_action (GTK_WIDGET (self->layer_list), "list.scroll-to-item", "u",
                                  position);
    }
}

void
scope_window_select_layer (ScopeWindow *self,
                           int          node)
{
  g_return_if_fail (SCOPE_IS_WINDOW (self));

  if (self->model == NULL || node < 0 || node >= graph (self)->n_nodes)
    return;
  /* A layer hidden by the search is still selected, with the search cleared. */
  if (find_layer_position (self, node) == GTK_INVALID_LIST_POSITION)
    gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  set_layer (self, node);
}

void
scope_window_step_layer (ScopeWindow *self,
                         int          step)
{
  g_return_if_fail (SCOPE_IS_WINDOW (self));

  GListModel *list = G_LIST_MODEL (self->layer_filter_model);
  guint n = g_list_model_get_n_items (list);
  if (self->model == NULL || n == 0)
    return;
  guint position = find_layer_position (self, self->layer);
  guint next;
  if (position == GTK_INVALID_LIST_POSITION)
    next = 0;
  else if (step < 0)
    next = position > 0 ? position - 1 : 0;
  else
    next = MIN (position + 1, n - 1);
  g_autoptr (ScopeLayer) layer = g_list_model_get_item (list, next);
  set_layer (self, scope_layer_get_node (layer));
}

/* The model and the input. */

/* The input as the views and the forward pass see it: the one opened last when it fits the
 * model, else none (it is being rebuilt for the model). */
static ScopeInput *
visible_input (ScopeWindow *self)
{
  return self->input != NULL && scope_input_fits (self->input, self->model) ? self->input : NULL;
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
  g_string_append_printf (detail, _ ("input %d×%d×%d · %d classes · %lu params"),
                          in.c, in.h, in.w, m->n_classes, (unsigned long) params);
  if (m->test_accuracy >= 0.0)
    g_string_append_printf (detail, _ (" · test accuracy %.2f %%"), 100.0 * m->test_accuracy);
  gtk_label_set_label (self->model_label, scope_model_get_name (self->model));
  gtk_label_set_label (self->model_detail_label, detail->str);

  /* Translators: the window's title: the model's name, then the application's. */
  g_autofree char *title = g_strdup_printf (_ ("%s — cnnscope"),
                                            scope_model_get_name (self->model));
  gtk_window_set_title (GTK_WINDOW (self), title);
}

static void
set_activations (ScopeWindow      *self,
                 ScopeActivations *activations,
                 const char       *error)
{
  if (activations != self->activations)
    {
      g_clear_pointer (&self->activations, scope_activations_unref);
      self->activations = activations != NULL ? scope_activations_ref (activations) : NULL;
      notify (self, PROP_ACTIVATIONS);
    }
  if (g_strcmp0 (error, self->forward_error) != 0)
    {
      g_free (self->forward_error);
      self->forward_error = g_strdup (error);
      notify (self, PROP_FORWARD_ERROR);
    }
  float probability;
  int k = activations != NULL ? scope_activations_get_top_class (activations, &probability) : -1;
  const NnModel *m = activations != NULL ? scope_model_get_nn_model (self->model) : NULL;
  g_autofree char *text = NULL;
  if (k >= 0)
    text = g_strdup_printf (_ ("Prediction: %s (%.1f %%)"),
                            m->labels[k] != NULL ? m->labels[k] : "?", 100.0 * probability);
  gtk_label_set_label (self->prediction_label, text != NULL ? text : "");
}

/* Takes model. A snapshot of the same run (same_run) only swaps the weights under the same
 * selection and keeps the activations until new ones come; another model starts from its
 * default layer. The input is notified gone before the model when it no longer fits it, and
 * back after. */
static void
set_model (ScopeWindow *self,
           ScopeModel  *model,
           gboolean     same_run)
{
  ScopeInput *before = visible_input (self);
  if (!same_run)
    {
      scope_engine_cancel (self->engine);
      set_activations (self, NULL, NULL);
    }
  g_clear_pointer (&self->model, scope_model_unref);
  self->model = model;
  ScopeInput *after = visible_input (self);
  if (before != NULL && after == NULL)
    notify (self, PROP_INPUT);
  notify (self, PROP_MODEL);
  if (!same_run)
    {
      self->filling_list = TRUE;
      g_autoptr (GListModel) layers = scope_layer_list_new (model);
      gtk_filter_list_model_set_model (self->layer_filter_model, layers);
      self->filling_list = FALSE;
      self->layer = -1;
      if (self->channel != 0)
        {
          self->channel = 0;
          notify (self, PROP_CHANNEL);
        }
      set_layer (self, default_layer (model));
      gtk_widget_grab_focus (GTK_WIDGET (self->layer_list));
    }
  if (before == NULL && after != NULL)
    notify (self, PROP_INPUT);
  update_model_labels (self);
}

/* Builds input again for the model on the engine thread (take_input receives it). */
static void
rebuild (ScopeWindow *self,
         ScopeInput  *input)
{
  g_autoptr (GError) error = NULL;
  if (scope_engine_rebuild (self->engine, input, self->model, &error) == 0)
    scope_window_show_error (self, _ ("Cannot use the input: %s"), error->message);
}

/* After the model changed: the input, when it does not fit the model. */
static void
rebuild_input (ScopeWindow *self)
{
  if (self->input != NULL && visible_input (self) == NULL)
    rebuild (self, self->input);
}

static void
run_forward (ScopeWindow *self)
{
  ScopeInput *input = visible_input (self);
  if (self->model == NULL || input == NULL)
    return;
  g_autoptr (GError) error = NULL;
  if (scope_engine_run_forward (self->engine, self->model, input, &error) == 0)
    {
      set_activations (self, self->activations, error->message);
      scope_window_show_error (self, _ ("Could not compute the activations: %s"), error->message);
    }
}

/* The newest weights of a training run (a view's "show-model"): the first snapshot of a run
 * replaces the model as an opened one does; later ones only swap the weights under the same
 * selection. The current input runs through them on the engine thread. */
static void
follow_model (ScopeWindow *self,
              ScopeModel  *model)
{
  gboolean same_run = self->model != NULL && scope_model_same_structure (self->model, model);
  set_model (self, scope_model_ref (model), same_run);
  rebuild_input (self);
  run_forward (self);
}

/* Takes input, made on the engine thread: shown when it fits the model, else built again for
 * the model. Returns whether the forward pass has a new tensor to run on. */
static gboolean
take_input (ScopeWindow *self,
            ScopeInput  *input)
{
  if (!scope_input_fits (input, self->model))
    {
      rebuild (self, input);
      scope_input_unref (input);
      return FALSE;
    }
  gboolean new_tensor = self->input == NULL
                        || scope_input_get_nn_input (self->input) != scope_input_get_nn_input (
                          input);
  g_clear_pointer (&self->input, scope_input_unref);
  self->input = input;
  const NnInput *in = scope_input_get_nn_input (input);
  g_autofree char *text = g_strdup_printf (_ ("Input: %s (%d×%d)"), scope_input_get_name (input),
                                           in->image_w, in->image_h);
  gtk_label_set_label (self->input_label, text);
  notify (self, PROP_INPUT);
  return new_tensor;
}

/* Recent files. */

/* A file name as a menu label: menus read "_" as a mnemonic, so each is doubled to show as
 * itself. To g_free. */
static char *
menu_label (const char *name)
{
  GString *label = g_string_new (NULL);
  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p == '_')
        g_string_append_c (label, '_');
      g_string_append_c (label, *p);
    }
  return g_string_free (label, FALSE);
}

/* Fills the Open Recent menu from the settings. */
static void
update_recent_menu (ScopeWindow *self)
{
  g_menu_remove_all (self->recent_menu);
  if (self->settings == NULL)
    return;
  g_auto (GStrv) paths = g_settings_get_strv (self->settings, "recent-files");
  for (int i = 0; paths[i] != NULL; i++)
    {
      g_autofree char *name = g_path_get_basename (paths[i]);
      g_autofree char *label = menu_label (name);
      g_autoptr (GMenuItem) item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target_value (item, "file.open-recent",
                                               g_variant_new_string (paths[i]));
      g_menu_append_item (self->recent_menu, item);
    }
}

/* Puts path first in the recent files (GSettings "recent-files") and rebuilds the menu. */
static void
add_recent (ScopeWindow *self,
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
  update_recent_menu (self);
}

/* Opening files. */

static gboolean
local_path (GFile   *file,
            char   **path,
            GError **error)
{
  *path = g_file_get_path (file);
  if (*path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, _ ("%s: not a local file"), uri);
      return FALSE;
    }
  return TRUE;
}

/* A dialog asking whether to go on and lose what a view holds (the reason of the first view
 * with unsaved work: a training run, weights not saved), with heading and the destructive
 * response `response` labelled label; NULL when nothing would be lost. The caller connects
 * "response" and presents it. */
static AdwMessageDialog *
ask_before_losing (ScopeWindow *self,
                   const char  *heading,
                   const char  *response,
                   const char  *label)
{
  g_autoptr (GPtrArray) all = views (self);
  const char *reason = NULL;
  for (guint i = 0; i < all->len && reason == NULL; i++)
    reason = scope_view_get_unsaved (all->pdata[i]);
  if (reason == NULL)
    return NULL;
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                                         heading, reason));
  adw_message_dialog_add_responses (dialog, "cancel", _ ("_Cancel"), response, label, NULL);
  adw_message_dialog_set_response_appearance (dialog, response, ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  return dialog;
}

/* Open on the dialog asking before another model replaces the views' work: the files kept on
 * the dialog are opened then. */
static void
on_open_response (AdwMessageDialog *dialog,
                  const char       *response,
                  ScopeWindow      *self)
{
  if (g_strcmp0 (response, "open") != 0)
    return;
  self->open_confirmed = TRUE;
  scope_window_open (self, g_object_get_data (G_OBJECT (dialog), "model"),
                     g_object_get_data (G_OBJECT (dialog), "image"));
  self->open_confirmed = FALSE;
}

gboolean
scope_window_open (ScopeWindow *self,
                   GFile       *model,
                   GFile       *image)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), FALSE);

  AdwMessageDialog *dialog = model != NULL && !self->open_confirmed
                             ? ask_before_losing (self, _ ("Open Another Model?"), "open",
                                                  _ ("_Open"))
                             : NULL;
  if (dialog != NULL)
    {
      g_object_set_data_full (G_OBJECT (dialog), "model", g_object_ref (model), g_object_unref);
      if (image != NULL)
        g_object_set_data_full (G_OBJECT (dialog), "image", g_object_ref (image),
                                g_object_unref);
      g_signal_connect_object (dialog, "response", G_CALLBACK (on_open_response), self,
                               G_CONNECT_DEFAULT);
      gtk_window_present (GTK_WINDOW (dialog));
      return TRUE;
    }

  gboolean ok = TRUE;
  g_autofree char *model_path = NULL, *image_path = NULL;
  g_autoptr (GError) error = NULL;
  if (model != NULL && !local_path (model, &model_path, &error))
    {
      scope_window_show_error (self, _ ("Cannot open %s"), error->message);
      g_clear_error (&error);
      ok = FALSE;
    }
  if (image != NULL && !local_path (image, &image_path, &error))
    {
      scope_window_show_error (self, _ ("Cannot open %s"), error->message);
      g_clear_error (&error);
      ok = FALSE;
    }
  if (model_path == NULL && image_path == NULL)
    return ok;
  /* The engine thread reads the files; on_opened takes what it made. */
  if (scope_engine_open (self->engine, model_path, image_path, self->model, self->input,
                         &error) == 0)
    {
      scope_window_show_error (self, _ ("Cannot open files: %s"), error->message);
      return FALSE;
    }
  if (model_path != NULL)
    self->opening++;
  return ok;
}

void
scope_window_cancel_open (ScopeWindow *self)
{
  g_return_if_fail (SCOPE_IS_WINDOW (self));

  scope_engine_cancel_open (self->engine);
}

gboolean
scope_window_is_opening (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), FALSE);

  return self->opening > 0;
}

/* How much of the model being opened was read: the bar in the header, shown until every model
 * asked for has come back. */
static void
on_open_progress (ScopeEngine *engine,
                  const char  *path,
                  double       fraction,
                  ScopeWindow *self)
{
  (void) engine;
  if (self->opening == 0)
    return;
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *text = g_strdup_printf (_ ("Opening %s"), name);
  gtk_widget_set_visible (self->open_progress_box, TRUE);
  gtk_progress_bar_set_text (self->open_progress, text);
  gtk_progress_bar_set_fraction (self->open_progress, CLAMP (fraction, 0.0, 1.0));
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
      scope_window_show_error (self, _ ("Cannot open %s"), error->message);
      return FALSE;
    }
  if (scope_engine_open_mask (self->engine, mask_path, self->input, &error) == 0)
    {
      scope_window_show_error (self, _ ("Cannot open files: %s"), error->message);
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

  if (scope_window_is_volume (file))
    return scope_window_open_volume (self, file);
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *lower = g_ascii_strdown (name != NULL ? name : "", -1);
  gboolean is_model = g_str_has_suffix (lower, ".safetensors")
                      || g_str_has_suffix (lower, ".onnx");
  return scope_window_open (self, is_model ? file : NULL, is_model ? NULL : file);
}

gboolean
scope_window_is_volume (GFile *file)
{
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *lower = g_ascii_strdown (name != NULL ? name : "", -1);
  return g_str_has_suffix (lower, ".nii") || g_str_has_suffix (lower, ".nii.gz")
         || g_file_query_file_type (file, G_FILE_QUERY_INFO_NONE, NULL) == G_FILE_TYPE_DIRECTORY;
}

gboolean
scope_window_open_volume (ScopeWindow *self,
                          GFile       *volume)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (volume), FALSE);

  g_set_object (&self->volume_file, volume);
  notify (self, PROP_VOLUME_FILE);
  scope_window_show_view (self, "volume");
  return TRUE;
}

/* What the engine made for scope_window_open, open_mask or a rebuild: a model that could not be
 * read keeps the current one; an input that could not be made keeps the current input. */
static void
on_opened (ScopeEngine *engine,
           ScopeOpened *opened,
           ScopeWindow *self)
{
  (void) engine;
  gboolean changed = FALSE;
  if (opened->model_path != NULL && self->opening > 0 && --self->opening == 0)
    {
      gtk_widget_set_visible (self->open_progress_box, FALSE);
      gtk_progress_bar_set_fraction (self->open_progress, 0.0);
    }
  if (opened->model_path != NULL && opened->model != NULL)
    {
      set_model (self, g_steal_pointer (&opened->model), FALSE);
      add_recent (self, opened->model_path);
      g_free (self->model_folder);
      self->model_folder = g_path_get_dirname (opened->model_path);
      changed = TRUE;
    }
  else if (opened->model_path != NULL
           && g_error_matches (opened->model_error, SCOPE_NN_ERROR, NN_ERROR_CANCELLED))
    {
      g_autofree char *name = g_path_get_basename (opened->model_path);
      g_autofree char *message = g_strdup_printf (_ ("Stopped opening %s"), name);
      scope_window_show_message (self, message);
    }
  else if (opened->model_path != NULL)
    show_open_error (self, opened->model_path, opened->model_error);
  if (opened->image_path != NULL && opened->input != NULL)
    {
      add_recent (self, opened->image_path);
      g_free (self->input_folder);
      self->input_folder = g_path_get_dirname (opened->image_path);
    }
  else if (opened->image_path != NULL)
    show_open_error (self, opened->image_path, opened->input_error);
  else if (opened->input_error != NULL)
    scope_window_show_error (self, _ ("Cannot use the input: %s"), opened->input_error->message);
  if (opened->mask_error != NULL)
    show_open_error (self, opened->mask_path, opened->mask_error);
  else if (opened->mask_path != NULL && opened->input != NULL)
    {
      g_autofree char *name = g_path_get_basename (opened->mask_path);
      gsize lit = 0;
      g_autofree char *text = scope_input_get_mask (opened->input, &lit) != NULL
        ? g_strdup_printf (ngettext ("Mask %s: %lu pixel inside", "Mask %s: %lu pixels inside",
                                     lit), name, (unsigned long) lit)
        : g_strdup_printf (_ ("Mask %s is empty: no mask"), name);
      scope_window_show_message (self, text);
    }
  /* An input that could not be built for the model is not tried again: that would loop. */
  if (opened->input != NULL)
    changed |= take_input (self, g_steal_pointer (&opened->input));
  else if (opened->input_error == NULL)
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
  set_activations (self, activations, NULL);
  if (self->frame_timer != NULL)
    scope_frame_timer_add_work (self->frame_timer, &start);
}

static void
on_job_failed (ScopeEngine  *engine,
               const GError *error,
               ScopeWindow  *self)
{
  (void) engine;
  set_activations (self, self->activations, error->message);
  scope_window_show_error (self, _ ("Could not compute the activations: %s"), error->message);
}

/* The visible view. */

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
  ScopeView *view = visible_view (self);
  if (view == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, _ ("%s: no view is shown"), path);
      return FALSE;
    }
  if (!scope_view_export (view, path, error))
    return FALSE;
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *message = g_strdup_printf (_ ("Exported %s"), name);
  scope_window_show_message (self, message);
  return TRUE;
}

char *
scope_window_get_export_name (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), NULL);

  if (self->model == NULL || self->layer < 0)
    return NULL;
  g_autofree char *stem = scope_model_get_stem (self->model);
  const char *view = adw_view_stack_get_visible_child_name (self->view_stack);
  g_autofree char *format = self->settings != NULL
                            ? g_settings_get_string (self->settings, "export-format")
                            : g_strdup ("png");
  return g_strdup_printf ("%s-%s-%s.%s", stem, graph (self)->nodes[self->layer].name,
                          view != NULL ? view : "view", format);
}

GFile *
scope_window_get_dialog_folder (ScopeWindow *self,
                                gboolean     for_model)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), NULL);

  const char *first = for_model ? self->model_folder : self->input_folder;
  const char *second = for_model ? self->input_folder : self->model_folder;
  const char *folder = first != NULL ? first : second;
  return folder != NULL ? g_file_new_for_path (folder) : NULL;
}

gboolean
scope_window_show_view (ScopeWindow *self,
                        const char  *name)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  if (adw_view_stack_get_child_by_name (self->view_stack, name) == NULL)
    return FALSE;
  adw_view_stack_set_visible_child_name (self->view_stack, name);
  return TRUE;
}

gboolean
scope_window_activate_view_action (ScopeWindow *self,
                                   const char  *action)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (action != NULL, FALSE);

  const char *dot = strchr (action, '.');
  if (dot == NULL)
    return FALSE;
  g_autofree char *name = g_strndup (action, (gsize) (dot - action));
  GtkWidget *view = adw_view_stack_get_child_by_name (self->view_stack, name);
  if (view == NULL)
    return FALSE;
  adw_view_stack_set_visible_child_name (self->view_stack, name);
  return gtk_widget_activate_action (view, action, NULL);
}

void
scope_window_cancel_view (ScopeWindow *self)
{
  g_return_if_fail (SCOPE_IS_WINDOW (self));

  ScopeView *view = visible_view (self);
  if (view != NULL)
    scope_view_cancel (view);
}

gboolean
scope_window_is_busy (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), FALSE);

  ScopeView *view = visible_view (self);
  return scope_engine_is_busy (self->engine) || (view != NULL && scope_view_get_busy (view));
}

static gboolean
can_export (ScopeWindow *self)
{
  ScopeView *view = visible_view (self);
  return view != NULL && scope_view_get_can_export (view);
}

static void
on_can_export_changed (ScopeWindow *self)
{
  notify (self, PROP_CAN_EXPORT);
}

static void
on_view_failed (ScopeView    *view,
                const GError *error,
                ScopeWindow  *self)
{
  (void) view;
  scope_window_show_error (self, "%s", error->message);
}

static void
on_view_done (ScopeView   *view,
              const char  *message,
              ScopeWindow *self)
{
  (void) view;
  scope_window_show_message (self, message);
}

static void
on_view_show_model (ScopeView   *view,
                    ScopeModel  *model,
                    ScopeWindow *self)
{
  (void) view;
  follow_model (self, model);
}

static void
on_view_show_input (ScopeView   *view,
                    ScopeInput  *input,
                    ScopeWindow *self)
{
  (void) view;
  if (take_input (self, scope_input_ref (input)))
    run_forward (self);
}

/* The rest of the state. */

ScopeModel *
scope_window_get_model (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), NULL);

  return self->model;
}

ScopeInput *
scope_window_get_input (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), NULL);

  return visible_input (self);
}

ScopeActivations *
scope_window_get_activations (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), NULL);

  return self->activations;
}

int
scope_window_get_layer (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), -1);

  return self->layer;
}

int
scope_window_get_channel (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), -1);

  return self->channel;
}

void
scope_window_focus_search (ScopeWindow *self)
{
  g_return_if_fail (SCOPE_IS_WINDOW (self));

  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

const char *
scope_window_get_message (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), NULL);

  return self->message;
}

const char *
scope_window_get_error_message (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), NULL);

  return self->error_message;
}

void
scope_window_set_frame_timing (ScopeWindow *self,
                               gboolean     enabled)
{
  g_return_if_fail (SCOPE_IS_WINDOW (self));

  ScopeFrameTimer *old = g_steal_pointer (&self->frame_timer);
  if (enabled)
    self->frame_timer = scope_frame_timer_new (GTK_WIDGET (self));
  notify (self, PROP_FRAME_TIMER);
  scope_frame_timer_free (old);
}

ScopeFrameTimer *
scope_window_get_frame_timer (ScopeWindow *self)
{
  g_return_val_if_fail (SCOPE_IS_WINDOW (self), NULL);

  return self->frame_timer;
}

/* Widget signals. */

static void
on_layer_selected (GtkSingleSelection *selection,
                   GParamSpec         *pspec,
                   ScopeWindow        *self)
{
  (void) pspec;
  ScopeLayer *layer = gtk_single_selection_get_selected_item (selection);
  if (!self->filling_list && layer != NULL && scope_layer_get_node (layer) != self->layer)
    set_layer (self, scope_layer_get_node (layer));
}

/* Escape in the search field clears it and goes back to the list. */
static void
on_stop_search (GtkSearchEntry *entry,
                ScopeWindow    *self)
{
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  gtk_widget_grab_focus (GTK_WIDGET (self->layer_list));
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

/* GObject and GtkWidget. */

static gboolean
close_confirmed (gpointer data)
{
  gtk_window_close (GTK_WINDOW (data));
  return G_SOURCE_REMOVE;
}

/* The dialog finishes its response before the window (its parent) goes: closed from an idle. */
static void
on_close_response (AdwMessageDialog *dialog,
                   const char       *response,
                   ScopeWindow      *self)
{
  (void) dialog;
  if (g_strcmp0 (response, "close") != 0)
    return;
  self->close_confirmed = TRUE;
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, close_confirmed, g_object_ref (self),
                   g_object_unref);
}

/* Asks before closing when a view holds what closing would lose; TRUE while it asks. */
static gboolean
ask_before_closing (ScopeWindow *self)
{
  if (self->close_confirmed)
    return FALSE;
  AdwMessageDialog *dialog = ask_before_losing (self, _ ("Close the Window?"), "close",
                                                _ ("_Close"));
  if (dialog == NULL)
    return FALSE;
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_close_response), self,
                           G_CONNECT_DEFAULT);
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

static gboolean
scope_window_close_request (GtkWindow *window)
{
  ScopeWindow *self = SCOPE_WINDOW (window);

  if (ask_before_closing (self))
    return TRUE;

  /* Closing stops the engine and every view's work at once (cancel and join), before the
   * widgets go. */
  scope_engine_shutdown (self->engine);
  cancel_views (self);
  if (self->frame_timer != NULL && g_getenv ("CNNSCOPE_FRAME_TIMES") != NULL)
    scope_frame_timer_print (self->frame_timer);
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
  if (self->view_stack != NULL)
    cancel_views (self);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->model, scope_model_unref);
  g_clear_pointer (&self->input, scope_input_unref);
  g_clear_pointer (&self->activations, scope_activations_unref);
  if (self->frame_timer != NULL)
    scope_window_set_frame_timing (self, FALSE);

  G_OBJECT_CLASS (scope_window_parent_class)->dispose (object);
}

static void
scope_window_finalize (GObject *object)
{
  ScopeWindow *self = SCOPE_WINDOW (object);

  g_free (self->forward_error);
  g_free (self->colormap);
  g_free (self->error_message);
  g_free (self->model_folder);
  g_free (self->input_folder);
  g_free (self->message);
  g_clear_object (&self->volume_file);

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
    case PROP_MODEL:
      g_value_set_boxed (value, self->model);
      break;
    case PROP_INPUT:
      g_value_set_boxed (value, visible_input (self));
      break;
    case PROP_ACTIVATIONS:
      g_value_set_boxed (value, self->activations);
      break;
    case PROP_LAYER:
      g_value_set_int (value, self->layer);
      break;
    case PROP_CHANNEL:
      g_value_set_int (value, self->channel);
      break;
    case PROP_FRAME_TIMER:
      g_value_set_pointer (value, self->frame_timer);
      break;
    case PROP_FORWARD_ERROR:
      g_value_set_string (value, self->forward_error);
      break;
    case PROP_COLORMAP:
      g_value_set_string (value, self->colormap);
      break;
    case PROP_CAN_EXPORT:
      g_value_set_boolean (value, can_export (self));
      break;
    case PROP_VOLUME_FILE:
      g_value_set_object (value, self->volume_file);
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
    case PROP_CHANNEL:
      scope_window_select_channel (self, g_value_get_int (value));
      break;
    case PROP_COLORMAP:
      if (g_strcmp0 (g_value_get_string (value), self->colormap) != 0)
        {
          g_free (self->colormap);
          self->colormap = g_value_dup_string (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
install_properties (GObjectClass *object_class)
{
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  properties[PROP_MODEL] = g_param_spec_boxed ("model", NULL, NULL, SCOPE_TYPE_MODEL, ro);
  /* NULL while the input opened last is being rebuilt for the model. */
  properties[PROP_INPUT] = g_param_spec_boxed ("input", NULL, NULL, SCOPE_TYPE_INPUT, ro);
  properties[PROP_ACTIVATIONS] = g_param_spec_boxed ("activations", NULL, NULL,
                                                     SCOPE_TYPE_ACTIVATIONS, ro);
  properties[PROP_LAYER] = g_param_spec_int ("layer", NULL, NULL, -1, G_MAXINT, -1, ro);
  /* Bound both ways: a view selects a channel by setting its own. */
  properties[PROP_CHANNEL] = g_param_spec_int ("channel", NULL, NULL, -1, G_MAXINT, 0, rw);
  /* A ScopeFrameTimer, NULL when frame timing is off. */
  properties[PROP_FRAME_TIMER] = g_param_spec_pointer ("frame-timer", NULL, NULL, ro);
  /* Why the last forward pass gave no activations, or NULL. */
  properties[PROP_FORWARD_ERROR] = g_param_spec_string ("forward-error", NULL, NULL, NULL, ro);
  /* The colour map preference of the Activations view ("auto", "sequential", "diverging"). */
  properties[PROP_COLORMAP] = g_param_spec_string ("colormap", NULL, NULL, "auto", rw);
  /* Whether the visible view has a figure to export. */
  properties[PROP_CAN_EXPORT] = g_param_spec_boolean ("can-export", NULL, NULL, FALSE, ro);
  /* The volume asked for last (a GFile: a NIfTI file or a DICOM series folder), which the
   * Volume view reads. */
  properties[PROP_VOLUME_FILE] = g_param_spec_object ("volume-file", NULL, NULL, G_TYPE_FILE,
                                                      ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
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
  install_properties (object_class);
  gtk_widget_class_install_action (widget_class, "error.details", NULL, show_error_details);
  gtk_widget_class_install_action (widget_class, "sidebar.toggle", NULL, toggle_sidebar);

  g_type_ensure (SCOPE_TYPE_LAYER);
  scope_view_ensure_types ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cnnscope/Cnnscope/ui/scope-window.ui");
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, open_progress_box);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, open_progress);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, model_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, model_detail_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, input_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, prediction_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, layer_list);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, layer_selection);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, layer_filter_model);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, recent_menu);
  gtk_widget_class_bind_template_child (widget_class, ScopeWindow, flap);
}

/* What every view tells the window: errors, a model to show, whether it can export. */
static void
connect_views (ScopeWindow *self)
{
  g_autoptr (GPtrArray) all = views (self);
  for (guint i = 0; i < all->len; i++)
    {
      g_signal_connect_object (all->pdata[i], "failed", G_CALLBACK (on_view_failed), self,
                               G_CONNECT_DEFAULT);
      g_signal_connect_object (all->pdata[i], "show-input", G_CALLBACK (on_view_show_input),
                               self, G_CONNECT_DEFAULT);
      g_signal_connect_object (all->pdata[i], "show-model", G_CALLBACK (on_view_show_model),
                               self, G_CONNECT_DEFAULT);
      g_signal_connect_object (all->pdata[i], "done", G_CALLBACK (on_view_done), self,
                               G_CONNECT_DEFAULT);
      g_signal_connect_object (all->pdata[i], "notify::can-export",
                               G_CALLBACK (on_can_export_changed), self, G_CONNECT_SWAPPED);
    }
  g_signal_connect_object (self->view_stack, "notify::visible-child",
                           G_CALLBACK (on_can_export_changed), self, G_CONNECT_SWAPPED);
}

static void
scope_window_init (ScopeWindow *self)
{
  self->layer = -1;
  self->colormap = g_strdup ("auto");
  gtk_widget_init_template (GTK_WIDGET (self));

  self->engine = scope_engine_new ();
  g_signal_connect_object (self->engine, "open-progress", G_CALLBACK (on_open_progress), self,
                           G_CONNECT_DEFAULT);
  g_signal_connect_object (self->engine, "opened", G_CALLBACK (on_opened), self,
                           G_CONNECT_DEFAULT);
  g_signal_connect_object (self->engine, "activations-ready", G_CALLBACK (on_activations_ready),
                           self, G_CONNECT_DEFAULT);
  g_signal_connect_object (self->engine, "job-failed", G_CALLBACK (on_job_failed), self,
                           G_CONNECT_DEFAULT);
  connect_views (self);
  g_signal_connect (self->layer_selection, "notify::selected-item",
                    G_CALLBACK (on_layer_selected), self);
  gtk_search_entry_set_key_capture_widget (self->search_entry, GTK_WIDGET (self));
  scope_accessible_set_label (GTK_WIDGET (self->search_entry), _ ("Search layers"));
  scope_accessible_name_controls (GTK_WIDGET (self));
  g_signal_connect (self->search_entry, "stop-search", G_CALLBACK (on_stop_search), self);

  GtkDropTarget *drop = gtk_drop_target_new (G_TYPE_FILE, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  if (g_getenv ("CNNSCOPE_FRAME_TIMES") != NULL)
    scope_window_set_frame_timing (self, TRUE);
}

/* The default CT display window of the preferences, in the order of the schema's enum. */
static void
on_ct_window_changed (ScopeWindow *self)
{
  static const NnCtWindow windows[] = {
    NN_CT_WINDOW_LUNG, NN_CT_WINDOW_MEDIASTINUM, NN_CT_WINDOW_BONE,
  };
  int k = g_settings_get_enum (self->settings, "ct-window");
  NnCtWindow window = windows[k >= 0 && k < (int) G_N_ELEMENTS (windows) ? k : 0];
  scope_explain_view_set_default_window (
    SCOPE_EXPLAIN_VIEW (adw_view_stack_get_child_by_name (self->view_stack, "explain")), window);
  scope_volume_view_set_default_window (
    SCOPE_VOLUME_VIEW (adw_view_stack_get_child_by_name (self->view_stack, "volume")), window);
}

/* The settings of activation maximization in the preferences, into s. */
static void
am_preferences (ScopeWindow  *self,
                NnAmSettings *s)
{
  s->steps = g_settings_get_int (self->settings, "am-steps");
  s->lr = (float) g_settings_get_double (self->settings, "am-learning-rate");
  s->optimizer = g_settings_get_enum (self->settings, "am-optimizer") == 1
                 ? NN_AM_OPTIMIZER_ADAM : NN_AM_OPTIMIZER_NGA;
  s->param = g_settings_get_enum (self->settings, "am-parameterization") == 1
             ? NN_AM_PARAM_FOURIER : NN_AM_PARAM_PIXELS;
  s->pad = g_settings_get_int (self->settings, "am-pad");
  s->jitter = g_settings_get_int (self->settings, "am-jitter");
  s->scale = (float) g_settings_get_double (self->settings, "am-scale");
  s->rotate = (float) g_settings_get_double (self->settings, "am-rotate");
  s->blur = (float) g_settings_get_double (self->settings, "am-blur");
}

/* The settings of activation maximization in the preferences, shown in the Maximize view's
 * controls (the others, the objective and the transforms on, stay as they are), and taken by
 * the Compare view's AM runs over the defaults the Maximize view starts with. */
static void
apply_am_defaults (ScopeWindow *self)
{
  ScopeMaximizeView *view = SCOPE_MAXIMIZE_VIEW (
    adw_view_stack_get_child_by_name (self->view_stack, "maximize"));
  NnAmSettings s;
  scope_maximize_view_get_settings (view, &s);
  am_preferences (self, &s);
  scope_maximize_view_set_settings (view, &s);
  nn_am_settings_init (&s);
  am_preferences (self, &s);
  scope_compare_view_set_am_defaults (
    SCOPE_COMPARE_VIEW (adw_view_stack_get_child_by_name (self->view_stack, "compare")), &s);
}

static void
on_settings_changed (ScopeWindow *self,
                     const char  *key)
{
  if (g_str_has_prefix (key, "am-"))
    apply_am_defaults (self);
}

ScopeWindow *
scope_window_new (GtkApplication *application,
                  GSettings      *settings)
{
  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  ScopeWindow *self = g_object_new (SCOPE_TYPE_WINDOW, "application", application, NULL);
  if (settings != NULL)
    {
      self->settings = g_object_ref (settings);
      g_settings_bind (settings, "colormap", self, "colormap", G_SETTINGS_BIND_GET);
      gtk_window_set_default_size (GTK_WINDOW (self), g_settings_get_int (settings, "window-width"),
                                   g_settings_get_int (settings, "window-height"));
      if (g_settings_get_boolean (settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
      update_recent_menu (self);
      g_signal_connect_object (settings, "changed::ct-window", G_CALLBACK (on_ct_window_changed),
                               self, G_CONNECT_SWAPPED);
      on_ct_window_changed (self);
      g_signal_connect_object (settings, "changed", G_CALLBACK (on_settings_changed), self,
                               G_CONNECT_SWAPPED);
      apply_am_defaults (self);
    }
  return self;
}
