/* SPDX-License-Identifier: MIT */
/* AdwPreferencesWindow built in code: one page, a Display group (colour map) and an Engine
 * group (threads), each row bound to its key. */
#include "scope-preferences.h"

/* The colour map keys in the order of the combo row. */
static const char *const colormap_nicks[] = { "auto", "sequential", "diverging" };

static gboolean
colormap_to_row (GValue   *value,
                 GVariant *variant,
                 gpointer  data)
{
  (void) data;
  const char *nick = g_variant_get_string (variant, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (colormap_nicks); i++)
    if (g_strcmp0 (nick, colormap_nicks[i]) == 0)
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
row_to_colormap (const GValue       *value,
                 const GVariantType *type,
                 gpointer            data)
{
  (void) type;
  (void) data;
  guint i = g_value_get_uint (value);
  return i < G_N_ELEMENTS (colormap_nicks) ? g_variant_new_string (colormap_nicks[i]) : NULL;
}

GtkWindow *
scope_preferences_new (GtkWindow *parent,
                       GSettings *settings)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  AdwPreferencesWindow *window = ADW_PREFERENCES_WINDOW (adw_preferences_window_new ());
  gtk_window_set_transient_for (GTK_WINDOW (window), parent);
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  adw_preferences_window_set_search_enabled (window, FALSE);
  AdwPreferencesPage *page = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());

  AdwPreferencesGroup *display = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (display, "Display");
  AdwComboRow *colormap = ADW_COMBO_ROW (adw_combo_row_new ());
  gtk_widget_set_name (GTK_WIDGET (colormap), "colormap-row");
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (colormap), "Colour map of activations");
  adw_action_row_set_subtitle (ADW_ACTION_ROW (colormap),
                               "Automatic: diverging around 0 for signed values, sequential "
                               "otherwise");
  g_autoptr (GtkStringList) maps = gtk_string_list_new ((const char *const[]) {
    "Automatic", "Sequential", "Diverging", NULL });
  adw_combo_row_set_model (colormap, G_LIST_MODEL (maps));
  g_settings_bind_with_mapping (settings, "colormap", colormap, "selected",
                                G_SETTINGS_BIND_DEFAULT, colormap_to_row, row_to_colormap,
                                NULL, NULL);
  adw_preferences_group_add (display, GTK_WIDGET (colormap));
  adw_preferences_page_add (page, display);

  AdwPreferencesGroup *engine = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (engine, "Engine");
  AdwActionRow *threads = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (threads), "Threads");
  adw_action_row_set_subtitle (threads, "0: one per core but one, left to the window; used "
                                        "from the next start");
  GtkWidget *spin = gtk_spin_button_new_with_range (0, 256, 1);
  gtk_widget_set_name (spin, "threads-spin");
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  g_settings_bind (settings, "threads", spin, "value", G_SETTINGS_BIND_DEFAULT);
  adw_action_row_add_suffix (threads, spin);
  adw_action_row_set_activatable_widget (threads, spin);
  adw_preferences_group_add (engine, GTK_WIDGET (threads));
  adw_preferences_page_add (page, engine);

  adw_preferences_window_add (window, page);
  return GTK_WINDOW (window);
}
