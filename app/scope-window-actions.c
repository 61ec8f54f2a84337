/* SPDX-License-Identifier: MIT */
/* The window's actions, one action group per prefix, and its keys: browsing layers and
 * channels, switching and cancelling views, the open and export dialogs. */
#include "scope-window-actions.h"

#include <glib/gi18n.h>

#include "scope-file-dialog.h"

/* Every key of the window, in one place; resources/ui/help-overlay.ui lists them. Keys without
 * modifiers other than F1 (Help, everywhere) browse the model: they act below the header bar,
 * before the focused widget, except in text fields (they move the cursor there), in popovers
 * (menus and drop-downs have their own keys) and, for up and down, in a list, which moves its
 * own selection. */
typedef struct
{
  guint           keyval;
  GdkModifierType modifiers;
  const char     *action;
  const char     *target;     /* the action's parameter as GVariant text, or NULL */
  gboolean        list_key;   /* a focused list handles it itself */
} WindowKey;

static const WindowKey window_keys[] = {
  { GDK_KEY_Up, 0, "layer.previous", NULL, TRUE },
  { GDK_KEY_Down, 0, "layer.next", NULL, TRUE },
  { GDK_KEY_Left, 0, "channel.previous", NULL, FALSE },
  { GDK_KEY_Right, 0, "channel.next", NULL, FALSE },
  { GDK_KEY_Escape, 0, "view.cancel", NULL, FALSE },
  { GDK_KEY_f, GDK_CONTROL_MASK, "search.focus", NULL, FALSE },
  { GDK_KEY_F9, 0, "sidebar.toggle", NULL, FALSE },
  { GDK_KEY_1, GDK_CONTROL_MASK, "view.show", "'activations'", FALSE },
  { GDK_KEY_2, GDK_CONTROL_MASK, "view.show", "'filters'", FALSE },
  { GDK_KEY_3, GDK_CONTROL_MASK, "view.show", "'maximize'", FALSE },
  { GDK_KEY_4, GDK_CONTROL_MASK, "view.show", "'explain'", FALSE },
  { GDK_KEY_5, GDK_CONTROL_MASK, "view.show", "'train'", FALSE },
  { GDK_KEY_6, GDK_CONTROL_MASK, "view.show", "'volume'", FALSE },
  { GDK_KEY_7, GDK_CONTROL_MASK, "view.show", "'embed'", FALSE },
  { GDK_KEY_8, GDK_CONTROL_MASK, "view.show", "'compare'", FALSE },
  { GDK_KEY_Return, GDK_CONTROL_MASK, "view.activate", "'maximize.run'", FALSE },
  { GDK_KEY_Return, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "view.activate", "'maximize.compare'",
    FALSE },
  { GDK_KEY_t, GDK_CONTROL_MASK, "view.activate", "'train.start'", FALSE },
  { GDK_KEY_o, GDK_CONTROL_MASK, "file.open-model", NULL, FALSE },
  { GDK_KEY_o, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "file.open-image", NULL, FALSE },
  { GDK_KEY_e, GDK_CONTROL_MASK, "file.export", NULL, FALSE },
  { GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL, FALSE },
  { GDK_KEY_q, GDK_CONTROL_MASK, "app.quit", NULL, FALSE },
  { GDK_KEY_comma, GDK_CONTROL_MASK, "app.preferences", NULL, FALSE },
  { GDK_KEY_F1, 0, "app.help", NULL, FALSE },
};

static const ScopeFileType model_types[] = {
  { N_ ("Models (.safetensors, .onnx)"), "*.safetensors;*.onnx;*.ONNX" },
  { N_ ("All files"), "*" },
};

static const ScopeFileType image_types[] = {
  { N_ ("Images, CT slices and arrays (PNG, JPEG, DICOM, .npy)"),
    "*.png;*.PNG;*.jpg;*.JPG;*.jpeg;*.JPEG;*.dcm;*.DCM;*.npy;*.NPY" },
  { N_ ("All files"), "*" },
};

static const ScopeFileType volume_types[] = {
  { N_ ("NIfTI volumes (.nii, .nii.gz)"), "*.nii;*.NII;*.nii.gz;*.NII.GZ" },
  { N_ ("All files"), "*" },
};

static const ScopeFileType mask_types[] = {
  { N_ ("Masks (PNG, nonzero inside)"), "*.png;*.PNG" },
  { N_ ("All files"), "*" },
};

static const ScopeFileType figure_types[] = {
  { N_ ("PNG image"), "*.png" },
  { N_ ("SVG drawing"), "*.svg" },
  { N_ ("PDF document"), "*.pdf" },
};

/* Actions: (action, parameter, the window). */

static void
layer_previous (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       window)
{
  (void) action;
  (void) parameter;
  scope_window_step_layer (window, -1);
}

static void
layer_next (GSimpleAction *action,
            GVariant      *parameter,
            gpointer       window)
{
  (void) action;
  (void) parameter;
  scope_window_step_layer (window, 1);
}

static void
layer_select (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       window)
{
  (void) action;
  scope_window_select_layer (window, g_variant_get_int32 (parameter));
}

static void
channel_previous (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       window)
{
  (void) action;
  (void) parameter;
  scope_window_select_channel (window, scope_window_get_channel (window) - 1);
}

static void
channel_next (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       window)
{
  (void) action;
  (void) parameter;
  scope_window_select_channel (window, scope_window_get_channel (window) + 1);
}

static void
channel_select (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       window)
{
  (void) action;
  scope_window_select_channel (window, g_variant_get_int32 (parameter));
}

static void
view_show (GSimpleAction *action,
           GVariant      *parameter,
           gpointer       window)
{
  (void) action;
  scope_window_show_view (window, g_variant_get_string (parameter, NULL));
}

static void
view_activate (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       window)
{
  (void) action;
  scope_window_activate_view_action (window, g_variant_get_string (parameter, NULL));
}

static void
view_cancel (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       window)
{
  (void) action;
  (void) parameter;
  scope_window_cancel_view (window);
}

static void
search_focus (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       window)
{
  (void) action;
  (void) parameter;
  scope_window_focus_search (window);
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
volume_chosen (GtkWidget *parent,
               GFile     *file)
{
  scope_window_open_volume (SCOPE_WINDOW (parent), file);
}

static void
export_chosen (GtkWidget *parent,
               GFile     *file)
{
  ScopeWindow *window = SCOPE_WINDOW (parent);
  g_autoptr (GError) error = NULL;
  if (!scope_window_export (window, file, &error))
    scope_window_show_error (window, _ ("Could not export the view: %s"), error->message);
}

static void
file_open_model (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       window)
{
  (void) action;
  (void) parameter;
  g_autoptr (GFile) folder = scope_window_get_dialog_folder (window, TRUE);
  scope_file_dialog_run (window, GTK_FILE_CHOOSER_ACTION_OPEN, _ ("Open Model"), _ ("_Open"),
                         model_types, G_N_ELEMENTS (model_types), folder, NULL, model_chosen);
}

static void
file_cancel_open (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       window)
{
  (void) action;
  (void) parameter;
  scope_window_cancel_open (window);
}

static void
file_open_image (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       window)
{
  (void) action;
  (void) parameter;
  g_autoptr (GFile) folder = scope_window_get_dialog_folder (window, FALSE);
  scope_file_dialog_run (window, GTK_FILE_CHOOSER_ACTION_OPEN, _ ("Open Image"), _ ("_Open"),
                         image_types, G_N_ELEMENTS (image_types), folder, NULL, image_chosen);
}

static void
file_open_volume (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       window)
{
  (void) action;
  (void) parameter;
  g_autoptr (GFile) folder = scope_window_get_dialog_folder (window, FALSE);
  scope_file_dialog_run (window, GTK_FILE_CHOOSER_ACTION_OPEN, _ ("Open Volume"), _ ("_Open"),
                         volume_types, G_N_ELEMENTS (volume_types), folder, NULL,
                         volume_chosen);
}

/* A DICOM series is a folder. */
static void
file_open_series (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       window)
{
  (void) action;
  (void) parameter;
  g_autoptr (GFile) folder = scope_window_get_dialog_folder (window, FALSE);
  scope_file_dialog_run (window, GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _ ("Open DICOM Series"),
                         _ ("_Open"), NULL, 0, folder, NULL, volume_chosen);
}

static void
file_open_mask (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       window)
{
  (void) action;
  (void) parameter;
  g_autoptr (GFile) folder = scope_window_get_dialog_folder (window, FALSE);
  scope_file_dialog_run (window, GTK_FILE_CHOOSER_ACTION_OPEN, _ ("Open Mask"), _ ("_Open"),
                         mask_types, G_N_ELEMENTS (mask_types), folder, NULL, mask_chosen);
}

/* A path from the recent files: a model by its extension, else an image. */
static void
file_open_recent (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       window)
{
  (void) action;
  g_autoptr (GFile) file = g_file_new_for_path (g_variant_get_string (parameter, NULL));
  scope_window_open_file (window, file);
}

static void
file_export (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       window)
{
  (void) action;
  (void) parameter;
  g_autofree char *suggested = scope_window_get_export_name (window);
  if (suggested == NULL)
    {
      scope_window_show_error (window, _ ("Could not export the view: no model is open"));
      return;
    }
  scope_file_dialog_run (window, GTK_FILE_CHOOSER_ACTION_SAVE, _ ("Export View"), _ ("_Export"),
                         figure_types, G_N_ELEMENTS (figure_types), NULL, suggested,
                         export_chosen);
}

static const GActionEntry layer_actions[] = {
  { .name = "previous", .activate = layer_previous },
  { .name = "next", .activate = layer_next },
  { .name = "select", .activate = layer_select, .parameter_type = "i" },
};

static const GActionEntry channel_actions[] = {
  { .name = "previous", .activate = channel_previous },
  { .name = "next", .activate = channel_next },
  { .name = "select", .activate = channel_select, .parameter_type = "i" },
};

static const GActionEntry view_actions[] = {
  { .name = "show", .activate = view_show, .parameter_type = "s" },
  { .name = "cancel", .activate = view_cancel },
  { .name = "activate", .activate = view_activate, .parameter_type = "s" },
};

static const GActionEntry search_actions[] = {
  { .name = "focus", .activate = search_focus },
};

static const GActionEntry file_actions[] = {
  { .name = "open-model", .activate = file_open_model },
  { .name = "cancel-open", .activate = file_cancel_open },
  { .name = "open-image", .activate = file_open_image },
  { .name = "open-mask", .activate = file_open_mask },
  { .name = "open-volume", .activate = file_open_volume },
  { .name = "open-series", .activate = file_open_series },
  { .name = "open-recent", .activate = file_open_recent, .parameter_type = "s" },
  { .name = "export", .activate = file_export },
};

/* The actions of entries, as prefix.name on window; returns the group. */
static GActionMap *
add_group (ScopeWindow        *window,
           const char         *prefix,
           const GActionEntry *entries,
           int                 n)
{
  g_autoptr (GSimpleActionGroup) group = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (group), entries, n, window);
  gtk_widget_insert_action_group (GTK_WIDGET (window), prefix, G_ACTION_GROUP (group));
  return G_ACTION_MAP (group);
}

/* Keys. */

static gboolean
activate_browse_key (GtkWidget *widget,
                     GVariant  *args,
                     gpointer   user_data)
{
  (void) args;
  const WindowKey *key = user_data;
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (widget));
  if (focus != NULL
      && (GTK_IS_EDITABLE (focus) || gtk_widget_get_ancestor (focus, ADW_TYPE_HEADER_BAR)
          || gtk_widget_get_ancestor (focus, GTK_TYPE_POPOVER)
          || (key->list_key && gtk_widget_get_ancestor (focus, GTK_TYPE_LIST_VIEW))))
    return FALSE;
  return gtk_widget_activate_action (widget, key->action, NULL);
}

static void
add_keys (ScopeWindow *window)
{
  GtkEventController *window_controller = gtk_shortcut_controller_new ();
  GtkEventController *browse_controller = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (browse_controller, GTK_PHASE_CAPTURE);
  for (gsize i = 0; i < G_N_ELEMENTS (window_keys); i++)
    {
      const WindowKey *key = &window_keys[i];
      GtkShortcutTrigger *trigger = gtk_keyval_trigger_new (key->keyval, key->modifiers);
      if (key->modifiers == 0 && key->keyval != GDK_KEY_F1)
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
  gtk_widget_add_controller (GTK_WIDGET (window), window_controller);
  gtk_widget_add_controller (GTK_WIDGET (window), browse_controller);
}

void
scope_window_actions_add (ScopeWindow *window)
{
  g_return_if_fail (SCOPE_IS_WINDOW (window));

  add_group (window, "layer", layer_actions, G_N_ELEMENTS (layer_actions));
  add_group (window, "channel", channel_actions, G_N_ELEMENTS (channel_actions));
  add_group (window, "view", view_actions, G_N_ELEMENTS (view_actions));
  add_group (window, "search", search_actions, G_N_ELEMENTS (search_actions));
  GActionMap *file = add_group (window, "file", file_actions, G_N_ELEMENTS (file_actions));
  /* Export only what the visible view can export. */
  g_object_bind_property (window, "can-export", g_action_map_lookup_action (file, "export"),
                          "enabled", G_BINDING_SYNC_CREATE);
  add_keys (window);
}
