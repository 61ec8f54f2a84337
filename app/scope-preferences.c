/* SPDX-License-Identifier: MIT */
/* AdwPreferencesWindow built in code: one page, a Display group (colour map, default CT
 * window, export format) and an Engine group (threads), each row bound to its key. */
#include "scope-preferences.h"

/* The keys of each combo row in the order of its rows, NULL-terminated. */
static const char *const colormap_nicks[] = { "auto", "sequential", "diverging", NULL };
static const char *const ct_window_nicks[] = { "lung", "mediastinum", "bone", NULL };
static const char *const export_format_nicks[] = { "png", "svg", "pdf", NULL };

static gboolean
nick_to_row (GValue   *value,
             GVariant *variant,
             gpointer  data)
{
  const char *const *nicks = data;
  const char *nick = g_variant_get_string (variant, NULL);
  for (guint i = 0; nicks[i] != NULL; i++)
    if (g_strcmp0 (nick, nicks[i]) == 0)
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
row_to_nick (const GValue       *value,
             const GVariantType *type,
             gpointer            data)
{
  (void) type;
  const char *const *nicks = data;
  guint i = g_value_get_uint (value);
  return i < g_strv_length ((char **) nicks) ? g_variant_new_string (nicks[i]) : NULL;
}

/* A combo row named name, with the labels (NULL-terminated) as its rows, bound to key. */
static GtkWidget *
combo_row_new (GSettings         *settings,
               const char        *key,
               const char *const *nicks,
               const char        *name,
               const char        *title,
               const char        *subtitle,
               const char *const *labels)
{
  AdwComboRow *row = ADW_COMBO_ROW (adw_combo_row_new ());
  gtk_widget_set_name (GTK_WIDGET (row), name);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  g_autoptr (GtkStringList) list = gtk_string_list_new (labels);
  adw_combo_row_set_model (row, G_LIST_MODEL (list));
  g_settings_bind_with_mapping (settings, key, row, "selected", G_SETTINGS_BIND_DEFAULT,
                                nick_to_row, row_to_nick, (gpointer) nicks, NULL);
  return GTK_WIDGET (row);
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
  adw_preferences_group_add (
    display, combo_row_new (settings, "colormap", colormap_nicks, "colormap-row",
                            "Colour map of activations",
                            "Automatic: diverging around 0 for signed values, sequential "
                            "otherwise",
                            (const char *const[]) { "Automatic", "Sequential", "Diverging",
                                                    NULL }));
  adw_preferences_group_add (
    display, combo_row_new (settings, "ct-window", ct_window_nicks, "ct-window-row",
                            "CT window",
                            "How CT slices and volumes are shown until another window is "
                            "chosen; the model keeps its own",
                            (const char *const[]) { "Lung", "Mediastinum", "Bone", NULL }));
  adw_preferences_group_add (
    display, combo_row_new (settings, "export-format", export_format_nicks,
                            "export-format-row", "Export format",
                            "The format Export suggests for a view's figure",
                            (const char *const[]) { "PNG", "SVG", "PDF", NULL }));
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
