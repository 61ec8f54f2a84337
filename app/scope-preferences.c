/* SPDX-License-Identifier: MIT */
/* AdwPreferencesWindow built in code: one page, a Display group (colour map, default CT
 * window, export format), a Maximize group (the defaults of activation maximization) and an
 * Engine group (threads), each row bound to its key. */
#include "scope-preferences.h"

#include <glib/gi18n.h>

#include "scope-accessible.h"

/* The keys of each combo row in the order of its rows, NULL-terminated. */
static const char *const colormap_nicks[] = { "auto", "sequential", "diverging", NULL };
static const char *const ct_window_nicks[] = { "lung", "mediastinum", "bone", NULL };
static const char *const export_format_nicks[] = { "png", "svg", "pdf", NULL };
static const char *const optimizer_nicks[] = { "normalized-gradient", "adam", NULL };
static const char *const param_nicks[] = { "pixels", "fourier", NULL };

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

/* A combo row named name, with the labels (NULL-terminated, translated here) as its rows,
 * bound to key. */
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
  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
  for (guint i = 0; labels[i] != NULL; i++)
    gtk_string_list_append (list, _ (labels[i]));
  adw_combo_row_set_model (row, G_LIST_MODEL (list));
  g_settings_bind_with_mapping (settings, key, row, "selected", G_SETTINGS_BIND_DEFAULT,
                                nick_to_row, row_to_nick, (gpointer) nicks, NULL);
  return GTK_WIDGET (row);
}

/* A row titled title with a spin button named name from lower to upper, bound to key. */
static GtkWidget *
spin_row_new (GSettings  *settings,
              const char *key,
              const char *name,
              const char *title,
              const char *subtitle,
              double      lower,
              double      upper,
              double      step,
              guint       digits)
{
  AdwActionRow *row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (row, subtitle);
  GtkWidget *spin = gtk_spin_button_new_with_range (lower, upper, step);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), digits);
  gtk_widget_set_name (spin, name);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  scope_accessible_set_label (spin, title);
  g_settings_bind (settings, key, spin, "value", G_SETTINGS_BIND_DEFAULT);
  adw_action_row_add_suffix (row, spin);
  adw_action_row_set_activatable_widget (row, spin);
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
  adw_preferences_group_set_title (display, _ ("Display"));
  adw_preferences_group_add (
    display, combo_row_new (settings, "colormap", colormap_nicks, "colormap-row",
                            _ ("Colour map of activations"),
                            _ ("Automatic: diverging around 0 for signed values, sequential "
                               "otherwise"),
                            (const char *const[]) { N_ ("Automatic"), N_ ("Sequential"),
                                                    N_ ("Diverging"), NULL }));
  adw_preferences_group_add (
    display, combo_row_new (settings, "ct-window", ct_window_nicks, "ct-window-row",
                            _ ("CT window"),
                            _ ("How CT slices and volumes are shown until another window is "
                               "chosen; the model keeps its own"),
                            (const char *const[]) { N_ ("Lung"), N_ ("Mediastinum"),
                                                    N_ ("Bone"), NULL }));
  adw_preferences_group_add (
    display, combo_row_new (settings, "export-format", export_format_nicks,
                            "export-format-row", _ ("Export format"),
                            _ ("The format Export suggests for a view's figure"),
                            (const char *const[]) { N_ ("PNG"), N_ ("SVG"), N_ ("PDF"),
                                                    NULL }));
  adw_preferences_page_add (page, display);

  AdwPreferencesGroup *am = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (am, _ ("Activation Maximization"));
  adw_preferences_group_set_description (am, _ ("The settings the Maximize view starts with; "
                                                "a change here is shown there at once"));
  adw_preferences_group_add (am, spin_row_new (settings, "am-steps", "am-steps-spin",
                                               _ ("Steps"), NULL, 1, 100000, 16, 0));
  adw_preferences_group_add (am, spin_row_new (settings, "am-learning-rate", "am-lr-spin",
                                               _ ("Learning rate"), NULL, 0.0001, 10, 0.01, 4));
  adw_preferences_group_add (
    am, combo_row_new (settings, "am-optimizer", optimizer_nicks, "am-optimizer-row",
                       _ ("Optimizer"), _ ("Normalized gradient ascent or Adam"),
                       (const char *const[]) { N_ ("Normalized gradient"), N_ ("Adam"),
                                               NULL }));
  adw_preferences_group_add (
    am, combo_row_new (settings, "am-parameterization", param_nicks, "am-param-row",
                       _ ("Parameters"), _ ("What is optimized"),
                       (const char *const[]) { N_ ("Pixels"),
                                               N_ ("Fourier, decorrelated colour"), NULL }));
  adw_preferences_group_add (am, spin_row_new (settings, "am-pad", "am-pad-spin",
                                               _ ("Pad, px"), NULL, 0, 64, 1, 0));
  adw_preferences_group_add (am, spin_row_new (settings, "am-jitter", "am-jitter-spin",
                                               _ ("Jitter, px"), _ ("Largest shift"), 0, 64,
                                               1, 0));
  adw_preferences_group_add (am, spin_row_new (settings, "am-scale", "am-scale-spin",
                                               _ ("Scale by"),
                                               _ ("Largest relative change of size"), 0, 1,
                                               0.01, 2));
  adw_preferences_group_add (am, spin_row_new (settings, "am-rotate", "am-rotate-spin",
                                               _ ("Rotate, °"), _ ("Largest rotation"), 0, 180,
                                               1, 0));
  adw_preferences_group_add (am, spin_row_new (settings, "am-blur", "am-blur-spin",
                                               _ ("Blur σ, px"), NULL, 0, 10, 0.1, 1));
  adw_preferences_page_add (page, am);

  AdwPreferencesGroup *engine = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (engine, _ ("Engine"));
  adw_preferences_group_add (engine, spin_row_new (settings, "threads", "threads-spin",
                                                   _ ("Threads"),
                                                   _ ("0: one per core but one, left to the "
                                                      "window; used from the next start"),
                                                   0, 256, 1, 0));
  adw_preferences_page_add (page, engine);

  adw_preferences_window_add (window, page);
  return GTK_WINDOW (window);
}
