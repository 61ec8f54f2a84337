/* SPDX-License-Identifier: MIT */
/* ScopeWindow's actions and keys: browsing layers and channels, switching views, the open and
 * export dialogs, and the one table of every key of the window. */
#include "scope-window-private.h"

#include "scope-file-dialog.h"
#include "scope-layer.h"

/* Every key of the window, in one place; resources/ui/help-overlay.ui lists them. Keys without
 * modifiers browse the model: they act in the content below the header bar, before the focused
 * widget, except in text fields (they move the cursor there) and, for up and down, in the layer
 * list, which moves its own selection. */
typedef struct
{
  guint           keyval;
  GdkModifierType modifiers;
  const char     *action;
  const char     *target;     /* the action's parameter as GVariant text, or NULL */
  gboolean        list_key;   /* the layer list handles it itself when focused */
} WindowKey;

static const WindowKey window_keys[] = {
  { GDK_KEY_Up, 0, "layer.previous", NULL, TRUE },
  { GDK_KEY_Down, 0, "layer.next", NULL, TRUE },
  { GDK_KEY_Left, 0, "channel.previous", NULL, FALSE },
  { GDK_KEY_Right, 0, "channel.next", NULL, FALSE },
  { GDK_KEY_f, GDK_CONTROL_MASK, "search.focus", NULL, FALSE },
  { GDK_KEY_1, GDK_CONTROL_MASK, "view.show", "'activations'", FALSE },
  { GDK_KEY_2, GDK_CONTROL_MASK, "view.show", "'filters'", FALSE },
  { GDK_KEY_3, GDK_CONTROL_MASK, "view.show", "'maximize'", FALSE },
  { GDK_KEY_4, GDK_CONTROL_MASK, "view.show", "'explain'", FALSE },
  { GDK_KEY_5, GDK_CONTROL_MASK, "view.show", "'train'", FALSE },
  { GDK_KEY_o, GDK_CONTROL_MASK, "file.open-model", NULL, FALSE },
  { GDK_KEY_o, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "file.open-image", NULL, FALSE },
  { GDK_KEY_e, GDK_CONTROL_MASK, "file.export", NULL, FALSE },
  { GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL, FALSE },
  { GDK_KEY_q, GDK_CONTROL_MASK, "app.quit", NULL, FALSE },
};

static const ScopeFileType model_types[] = {
  { "Models (.safetensors, .onnx)", "*.safetensors;*.onnx;*.ONNX" },
  { "All files", "*" },
};

static const ScopeFileType image_types[] = {
  { "Images and CT slices (PNG, JPEG, DICOM)",
    "*.png;*.PNG;*.jpg;*.JPG;*.jpeg;*.JPEG;*.dcm;*.DCM" },
  { "All files", "*" },
};

static const ScopeFileType mask_types[] = {
  { "Masks (PNG, nonzero inside)", "*.png;*.PNG" },
  { "All files", "*" },
};

static const ScopeFileType figure_types[] = {
  { "PNG image", "*.png" },
  { "SVG drawing", "*.svg" },
  { "PDF document", "*.pdf" },
};

/* Actions. */

static void
step_layer (ScopeWindow *self,
            int          step)
{
  if (self->model == NULL)
    return;
  GListModel *list = G_LIST_MODEL (self->layer_filter_model);
  guint n = g_list_model_get_n_items (list);
  if (n == 0)
    return;
  guint position = scope_window_find_layer_position (self, self->node);
  guint next;
  if (position == GTK_INVALID_LIST_POSITION)
    next = 0;
  else if (step < 0)
    next = position > 0 ? position - 1 : 0;
  else
    next = MIN (position + 1, n - 1);
  g_autoptr (ScopeLayer) layer = g_list_model_get_item (list, next);
  scope_window_select_layer (self, scope_layer_get_node (layer));
}

static void
layer_previous_action (GtkWidget  *widget,
                       const char *name,
                       GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  step_layer (SCOPE_WINDOW (widget), -1);
}

static void
layer_next_action (GtkWidget  *widget,
                   const char *name,
                   GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  step_layer (SCOPE_WINDOW (widget), 1);
}

static void
layer_select_action (GtkWidget  *widget,
                     const char *name,
                     GVariant   *parameter)
{
  (void) name;
  ScopeWindow *self = SCOPE_WINDOW (widget);
  int node = g_variant_get_int32 (parameter);
  if (self->model == NULL || node < 0 || node >= scope_window_get_graph (self)->n_nodes)
    return;
  /* A layer hidden by the search is still selected, with the search cleared. */
  if (scope_window_find_layer_position (self, node) == GTK_INVALID_LIST_POSITION)
    gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  scope_window_select_layer (self, node);
}

static void
channel_previous_action (GtkWidget  *widget,
                         const char *name,
                         GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  ScopeWindow *self = SCOPE_WINDOW (widget);
  scope_window_select_channel (self, self->channel - 1);
}

static void
channel_next_action (GtkWidget  *widget,
                     const char *name,
                     GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  ScopeWindow *self = SCOPE_WINDOW (widget);
  scope_window_select_channel (self, self->channel + 1);
}

static void
channel_select_action (GtkWidget  *widget,
                       const char *name,
                       GVariant   *parameter)
{
  (void) name;
  scope_window_select_channel (SCOPE_WINDOW (widget), g_variant_get_int32 (parameter));
}

static void
view_show_action (GtkWidget  *widget,
                  const char *name,
                  GVariant   *parameter)
{
  (void) name;
  ScopeWindow *self = SCOPE_WINDOW (widget);
  const char *view = g_variant_get_string (parameter, NULL);
  if (adw_view_stack_get_child_by_name (self->view_stack, view) != NULL)
    adw_view_stack_set_visible_child_name (self->view_stack, view);
}

static void
search_focus_action (GtkWidget  *widget,
                     const char *name,
                     GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  gtk_widget_grab_focus (GTK_WIDGET (SCOPE_WINDOW (widget)->search_entry));
}

static void
model_chosen (GtkWidget *parent,
              GFile     *file)
{
  scope_window_open (SCOPE_WINDOW (parent), file, NULL);
}

static void
image_chosen (GtkWidget *parent,
              GFile     *file)
{
  scope_window_open (SCOPE_WINDOW (parent), NULL, file);
}

static void
mask_chosen (GtkWidget *parent,
             GFile     *file)
{
  scope_window_open_mask (SCOPE_WINDOW (parent), file);
}

static void
export_chosen (GtkWidget *parent,
               GFile     *file)
{
  ScopeWindow *self = SCOPE_WINDOW (parent);
  g_autoptr (GError) error = NULL;
  if (!scope_window_export (self, file, &error))
    {
      scope_window_show_error (self, "Could not export the view: %s", error->message);
      return;
    }
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *message = g_strdup_printf ("Exported %s", name);
  scope_window_show_message (self, message);
}

/* A path from the recent files: a model by its extension, else an image. */
static void
open_recent_action (GtkWidget  *widget,
                    const char *name,
                    GVariant   *parameter)
{
  (void) name;
  g_autoptr (GFile) file = g_file_new_for_path (g_variant_get_string (parameter, NULL));
  scope_window_open_file (SCOPE_WINDOW (widget), file);
}

static void
open_model_action (GtkWidget  *widget,
                   const char *name,
                   GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  scope_file_dialog_run (widget, GTK_FILE_CHOOSER_ACTION_OPEN, "Open Model",
                         "_Open", model_types, G_N_ELEMENTS (model_types), NULL, model_chosen);
}

static void
open_image_action (GtkWidget  *widget,
                   const char *name,
                   GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  scope_file_dialog_run (widget, GTK_FILE_CHOOSER_ACTION_OPEN, "Open Image",
                         "_Open", image_types, G_N_ELEMENTS (image_types), NULL, image_chosen);
}

static void
open_mask_action (GtkWidget  *widget,
                  const char *name,
                  GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  scope_file_dialog_run (widget, GTK_FILE_CHOOSER_ACTION_OPEN, "Open Mask",
                         "_Open", mask_types, G_N_ELEMENTS (mask_types), NULL, mask_chosen);
}

static void
export_action (GtkWidget  *widget,
               const char *name,
               GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  ScopeWindow *self = SCOPE_WINDOW (widget);
  if (self->model == NULL)
    {
      scope_window_show_error (self, "Could not export the view: no model is open");
      return;
    }
  g_autofree char *stem = scope_model_get_stem (self->model);
  const char *layer = scope_window_get_graph (self)->nodes[self->node].name;
  g_autofree char *suggested = g_strdup_printf ("%s-%s-%s.png", stem, layer,
                                                adw_view_stack_get_visible_child_name (
                                                  self->view_stack));
  scope_file_dialog_run (widget, GTK_FILE_CHOOSER_ACTION_SAVE, "Export View",
                         "_Export", figure_types, G_N_ELEMENTS (figure_types), suggested,
                         export_chosen);
}

void
scope_window_class_install_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "layer.previous", NULL, layer_previous_action);
  gtk_widget_class_install_action (widget_class, "layer.next", NULL, layer_next_action);
  gtk_widget_class_install_action (widget_class, "layer.select", "i", layer_select_action);
  gtk_widget_class_install_action (widget_class, "channel.previous", NULL,
                                   channel_previous_action);
  gtk_widget_class_install_action (widget_class, "channel.next", NULL, channel_next_action);
  gtk_widget_class_install_action (widget_class, "channel.select", "i", channel_select_action);
  gtk_widget_class_install_action (widget_class, "view.show", "s", view_show_action);
  gtk_widget_class_install_action (widget_class, "search.focus", NULL, search_focus_action);
  gtk_widget_class_install_action (widget_class, "file.open-model", NULL, open_model_action);
  gtk_widget_class_install_action (widget_class, "file.open-image", NULL, open_image_action);
  gtk_widget_class_install_action (widget_class, "file.open-mask", NULL, open_mask_action);
  gtk_widget_class_install_action (widget_class, "file.export", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "file.open-recent", "s", open_recent_action);
  gtk_widget_class_install_property_action (widget_class, "filters.mode", "filter-mode");
}

/* Keys. */

static gboolean
activate_browse_key (GtkWidget *widget,
                     GVariant  *args,
                     gpointer   user_data)
{
  (void) args;
  const WindowKey *key = user_data;
  ScopeWindow *self = SCOPE_WINDOW (gtk_widget_get_root (widget));
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));
  if (focus != NULL
      && (GTK_IS_EDITABLE (focus)
          || (key->list_key && gtk_widget_is_ancestor (focus, GTK_WIDGET (self->layer_list)))))
    return FALSE;
  return gtk_widget_activate_action (GTK_WIDGET (self), key->action, NULL);
}

void
scope_window_add_keys (ScopeWindow *self)
{
  GtkEventController *window_controller = gtk_shortcut_controller_new ();
  GtkEventController *browse_controller = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (browse_controller, GTK_PHASE_CAPTURE);
  for (gsize i = 0; i < G_N_ELEMENTS (window_keys); i++)
    {
      const WindowKey *key = &window_keys[i];
      GtkShortcutTrigger *trigger = gtk_keyval_trigger_new (key->keyval, key->modifiers);
      if (key->modifiers == 0)
        {
          GtkShortcutAction *action = gtk_callback_action_new (activate_browse_key,
                                                               (gpointer) key, NULL);
          gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (browse_controller),
                                                gtk_shortcut_new (trigger, action));
        }
      else
        {
          GtkShortcut *shortcut = gtk_shortcut_new (trigger, gtk_named_action_new (key->action));
          if (key->target != NULL)
            gtk_shortcut_set_arguments (shortcut, g_variant_new_parsed (key->target));
          gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (window_controller),
                                                shortcut);
        }
    }
  gtk_widget_add_controller (GTK_WIDGET (self), window_controller);
  gtk_widget_add_controller (GTK_WIDGET (self->paned), browse_controller);
}
