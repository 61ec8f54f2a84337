/* SPDX-License-Identifier: MIT */
/* One figure, two front ends: the window (under Xvfb) exports its Activations, Filters and
 * Explain views of the demo model, cnnscope-cli writes the same figures with the same settings,
 * and the PNG files (both kept in $CNNSCOPE_SCREENSHOT_DIR) are identical byte for byte. */
#include <glib/gstdio.h>

#include "scope-application.h"
#include "scope-explain-view.h"
#include "scope-filters-view.h"
#include "scope-window.h"
#include "test-util.h"
#include "ui-util.h"

static ScopeWindow *window;
static char        *shot_dir;
static char        *model_path;
static char        *image_path;

static gboolean
activations_delivered (gpointer data)
{
  (void) data;
  return scope_window_get_activations (window) != NULL && !scope_window_is_busy (window);
}

/* Activates an action of the window under test. */
#define activate(...) ui_util_activate (GTK_WIDGET (window), __VA_ARGS__)

static void
select_layer (const char *name,
              int         channel)
{
  ScopeActivations *act = scope_window_get_activations (window);
  g_assert_nonnull (act);
  int node = nn_graph_find (scope_model_get_graph (scope_activations_get_model (act)), name);
  g_assert_cmpint (node, >=, 0);
  activate ("layer.select", "i", node);
  activate ("channel.select", "i", channel);
  g_assert_cmpint (scope_window_get_layer (window), ==, node);
  g_assert_cmpint (scope_window_get_channel (window), ==, channel);
}

/* Exports the visible view as <name>-window.png; the path, to g_free. */
static char *
export_window (const char *name)
{
  g_autofree char *file = g_strconcat (name, "-window.png", NULL);
  char *path = g_build_filename (shot_dir, file, NULL);
  g_autoptr (GFile) out = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_window_export (window, out, &error));
  g_assert_no_error (error);
  return path;
}

/* Runs cnnscope-cli with the arguments (NULL-terminated) and --out <name>-cli.png; the path, to
 * g_free. */
static char *
export_cli (const char *name,
            ...)
{
  g_autofree char *file = g_strconcat (name, "-cli.png", NULL);
  char *path = g_build_filename (shot_dir, file, NULL);
  g_autofree char *cli = g_build_filename (g_getenv ("CNNSCOPE_BUILD_DIR"), "cli",
                                           "cnnscope-cli", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, cli);
  va_list ap;
  va_start (ap, name);
  for (const char *a = va_arg (ap, const char *); a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, "--out");
  g_ptr_array_add (argv, path);
  g_ptr_array_add (argv, NULL);
  g_autofree char *out = NULL, *err = NULL;
  int wait_status = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &wait_status, &error));
  g_assert_no_error (error);
  g_test_message ("cnnscope-cli: %s", err);
  g_assert_true (g_spawn_check_wait_status (wait_status, &error));
  g_assert_no_error (error);
  return path;
}

/* The two files hold the same bytes (and are real figures). */
static void
assert_same_bytes (const char *a,
                   const char *b)
{
  g_autofree char *da = NULL, *db = NULL;
  gsize na = 0, nb = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_get_contents (a, &da, &na, &error));
  g_assert_true (g_file_get_contents (b, &db, &nb, &error));
  g_assert_no_error (error);
  g_test_message ("%s: %" G_GSIZE_FORMAT " bytes, %s: %" G_GSIZE_FORMAT " bytes", a, na, b, nb);
  g_assert_cmpuint (na, >, 10000);
  g_assert_true (g_str_has_prefix (da, "\x89PNG"));
  g_assert_cmpmem (da, na, db, nb);
}

static void
test_activations (void)
{
  test_util_wait (activations_delivered, NULL, "the demo model's activations");
  ScopeActivations *act = scope_window_get_activations (window);
  g_assert_cmpstr (scope_model_get_name (scope_activations_get_model (act)), ==,
                   "demo-pfnet-fashion.safetensors");
  g_assert_cmpstr (scope_activations_get_input_name (act), ==, "fashion-ankle-boot.png");
  activate ("view.show", "s", "activations");

  /* Signed values (diverging map) with a channel large, then a layer of 16 channels. */
  select_layer ("layer2.0.pfm1.conv1x1", 7);
  g_autofree char *app1 = export_window ("bytes-activations-signed");
  g_autofree char *cli1 = export_cli ("bytes-activations-signed", "activations", model_path,
                                      image_path, "--layer", "layer2.0.pfm1.conv1x1",
                                      "--channel", "7", NULL);
  assert_same_bytes (app1, cli1);

  select_layer ("conv1.predefined", 0);
  g_autofree char *app2 = export_window ("bytes-activations");
  g_autofree char *cli2 = export_cli ("bytes-activations", "activations", model_path,
                                      image_path, "--layer", "conv1.predefined", NULL);
  assert_same_bytes (app2, cli2);
}

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_descendant (child, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_filters (void)
{
  activate ("view.show", "s", "filters");
  GtkWidget *view = find_descendant (GTK_WIDGET (window), SCOPE_TYPE_FILTERS_VIEW);
  g_assert_nonnull (view);
  g_assert_true (gtk_widget_activate_action_variant (view, "filters.mode",
                                                     g_variant_new_string ("summed")));
  /* The fixed 3 x 3 bank with the values of filter 9 written in its cells. */
  select_layer ("conv1.predefined", 9);
  g_autofree char *app1 = export_window ("bytes-filters-bank");
  g_autofree char *cli1 = export_cli ("bytes-filters-bank", "filters", model_path, "--layer",
                                      "conv1.predefined", "--channel", "9", NULL);
  assert_same_bytes (app1, cli1);

  /* A learned 1 x 1 convolution summed over its 16 input channels. */
  select_layer ("layer2.0.downsample.1", 3);
  g_autofree char *app2 = export_window ("bytes-filters-1x1");
  g_autofree char *cli2 = export_cli ("bytes-filters-1x1", "filters", model_path, "--layer",
                                      "layer2.0.downsample.1", "--channel", "3", NULL);
  assert_same_bytes (app2, cli2);
}

static gboolean
explain_done (gpointer data)
{
  ScopeExplainView *view = data;
  ScopeExplainMetrics *m = scope_explain_view_get_metrics (view, 0);
  return !scope_view_get_busy (SCOPE_VIEW (view)) && scope_explain_view_get_explanation (view, 0)
         && m != NULL && (m->has & NN_FAITH_RANDOMIZATION);
}

static void
test_explain (void)
{
  /* The view's defaults: Grad-CAM at the last spatial layer for the top class, opacity 0.6,
   * positive map, per-image scale, every metric; the CLI's defaults are the same. */
  activate ("view.show", "s", "explain");
  ScopeExplainView *view = SCOPE_EXPLAIN_VIEW (find_descendant (GTK_WIDGET (window),
                                                                SCOPE_TYPE_EXPLAIN_VIEW));
  g_assert_nonnull (view);
  test_util_wait (explain_done, view, "the explanation and its metrics");
  g_autofree char *app = export_window ("bytes-explain");
  g_autofree char *cli = export_cli ("bytes-explain", "cam", model_path, image_path,
                                     "--metrics", NULL);
  assert_same_bytes (app, cli);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  const char *dir = g_getenv ("CNNSCOPE_SCREENSHOT_DIR");
  shot_dir = g_strdup (dir != NULL ? dir : "screenshots");
  g_assert_cmpint (g_mkdir_with_parents (shot_dir, 0755), ==, 0);
  const char *data = g_getenv ("CNNSCOPE_DATA_DIR");
  g_assert_nonnull (data);
  model_path = g_build_filename (data, "demo-pfnet-fashion.safetensors", NULL);
  image_path = g_build_filename (data, "samples", "fashion-ankle-boot.png", NULL);

  /* The window opens the demo model on this sample by itself. */
  ScopeApplication *app = scope_application_new (G_APPLICATION_HANDLES_OPEN
                                                 | G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = SCOPE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));

  g_test_add_func ("/ui/figure-bytes/activations", test_activations);
  g_test_add_func ("/ui/figure-bytes/filters", test_filters);
  g_test_add_func ("/ui/figure-bytes/explain", test_explain);
  int status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (app);
  g_free (model_path);
  g_free (image_path);
  g_free (shot_dir);
  return status;
}
