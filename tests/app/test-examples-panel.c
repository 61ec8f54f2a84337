/* SPDX-License-Identifier: MIT */
/* The Maximize view's dataset examples panel under Xvfb, driven through its actions: nothing
 * before a run; the ranking of a layer of the demo model over a small image folder the test
 * writes (the ten Fashion-MNIST samples, shifted and dimmed) on a worker, written to the cache
 * in $XDG_CACHE_HOME; another channel shown from the same ranking; the layer chosen again read
 * back from the cache; a broken cache computed again; stop; crops. Screenshots (light, dark,
 * cropped) go to $CNNSCOPE_SCREENSHOT_DIR. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "scope-application.h"
#include "scope-maximize-view.h"
#include "scope-window.h"
#include "test-util.h"
#include "ui-util.h"

/* Variants written of each of the ten samples. */
#define PER_CLASS 8

static ScopeApplication *app;
static ScopeWindow      *window;
static char             *shot_dir;
static char             *cache_home;

#define activate(widget, ...) ui_util_activate (GTK_WIDGET (widget), __VA_ARGS__)

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

static gboolean
activations_delivered (gpointer data)
{
  (void) data;
  return scope_window_get_activations (window) != NULL && !scope_window_is_busy (window);
}

static int ticks;

static gboolean
count_tick (GtkWidget     *widget,
            GdkFrameClock *clock,
            gpointer       data)
{
  (void) widget;
  (void) clock;
  (void) data;
  ticks++;
  return G_SOURCE_CONTINUE;
}

static gboolean
ticks_reached (gpointer data)
{
  return ticks >= GPOINTER_TO_INT (data);
}

/* Lets the window lay out and draw a few frames. */
static void
wait_frames (int frames)
{
  ticks = 0;
  guint id = gtk_widget_add_tick_callback (GTK_WIDGET (window), count_tick, NULL, NULL);
  test_util_wait (ticks_reached, GINT_TO_POINTER (frames), "frames to be drawn");
  gtk_widget_remove_tick_callback (GTK_WIDGET (window), id);
}

/* The ten Fashion-MNIST samples of data/samples, PER_CLASS variants each (shifted by up to two
 * pixels, dimmed by up to 30 %), as root/<k-name>/<v>.png: the folders sort in the demo
 * model's class order. */
static void
write_dataset (const char *root)
{
  static const char *const names[10] = {
    "tshirt-top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle-boot",
  };
  const char *data = g_getenv ("CNNSCOPE_DATA_DIR");
  for (int k = 0; k < 10; k++)
    {
      g_autofree char *file = g_strdup_printf ("fashion-%s.png", names[k]);
      g_autofree char *path = g_build_filename (data, "samples", file, NULL);
      NnError err = { 0 };
      NnImage *image = nn_image_load (path, &err);
      g_assert_nonnull (image);
      g_autofree char *folder_name = g_strdup_printf ("%d-%s", k, names[k]);
      g_autofree char *folder = g_build_filename (root, folder_name, NULL);
      g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
      NnImage *variant = nn_image_new (image->c, image->h, image->w);
      g_assert_nonnull (variant);
      for (int v = 0; v < PER_CLASS; v++)
        {
          int dx = v % 5 - 2, dy = (v * 3) % 5 - 2;
          float dim = 1.0f - 0.3f * (float) v / PER_CLASS;
          for (int c = 0; c < image->c; c++)
            for (int y = 0; y < image->h; y++)
              for (int x = 0; x < image->w; x++)
                {
                  int sx = x - dx, sy = y - dy;
                  float value = sx >= 0 && sx < image->w && sy >= 0 && sy < image->h
                                ? image->data[((size_t) c * image->h + sy) * image->w + sx]
                                : 0.0f;
                  variant->data[((size_t) c * image->h + y) * image->w + x] = dim * value;
                }
          g_autofree char *name = g_strdup_printf ("%02d.png", v);
          g_autofree char *out = g_build_filename (folder, name, NULL);
          g_assert_true (nn_image_save_png (variant, out, 8, &err));
        }
      nn_image_free (variant);
      nn_image_free (image);
    }
}

static gboolean
run_done (gpointer data)
{
  return !scope_examples_panel_is_running (data);
}

static gboolean
examples_shown (gpointer data)
{
  return !scope_examples_panel_is_running (data)
         && scope_examples_panel_get_examples (data) != NULL;
}

static gboolean
am_done (gpointer data)
{
  return !scope_maximize_view_is_running (data) && scope_maximize_view_get_n_images (data) > 0;
}

static int
node_named (const char *name)
{
  int node = nn_graph_find (scope_model_get_graph (scope_window_get_model (window)), name);
  g_assert_cmpint (node, >, 0);
  return node;
}

static void
screenshot (const char *name)
{
  wait_frames (4);
  ui_util_screenshot (GTK_WIDGET (window), shot_dir, name, 20.0, 100);
}

/* The one file in the cache folder, to g_free. */
static char *
cache_file (void)
{
  g_autofree char *dir = g_build_filename (cache_home, "cnnscope", "examples", NULL);
  g_assert_cmpint (test_util_count_entries (dir), ==, 1);
  GDir *d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  char *path = g_build_filename (dir, g_dir_read_name (d), NULL);
  g_dir_close (d);
  return path;
}

static void
check_ranking (const ScopeExamples *e,
               int                  channel)
{
  g_assert_cmpint (e->examples->n, ==, 10 * PER_CLASS);
  g_assert_cmpint (nn_examples_count (e->examples), ==, SCOPE_EXAMPLES_K);
  const NnExample *top = nn_examples_top (e->examples, channel);
  const NnExample *bottom = nn_examples_bottom (e->examples, channel);
  for (int i = 1; i < SCOPE_EXAMPLES_K; i++)
    {
      g_assert_cmpfloat (top[i].value, <=, top[i - 1].value);
      g_assert_cmpfloat (bottom[i].value, >=, bottom[i - 1].value);
    }
  g_assert_cmpfloat (top[SCOPE_EXAMPLES_K - 1].value, >=, bottom[SCOPE_EXAMPLES_K - 1].value);
  g_assert_cmpfloat (top[0].value, >, bottom[0].value);
}

static void
test_examples (void)
{
  g_autofree char *tmp = test_util_make_tmp_dir ();
  g_autofree char *root = g_build_filename (tmp, "fashion-set", NULL);
  write_dataset (root);
  const char *data = g_getenv ("CNNSCOPE_DATA_DIR");
  g_autofree char *model_path = g_build_filename (data, "demo-pfnet-fashion.safetensors", NULL);
  g_autofree char *image_path = g_build_filename (data, "samples", "fashion-ankle-boot.png",
                                                  NULL);
  g_autoptr (GFile) model = g_file_new_for_path (model_path);
  g_autoptr (GFile) image = g_file_new_for_path (image_path);
  g_assert_true (scope_window_open (window, model, image));
  test_util_wait (activations_delivered, NULL, "activations of the demo model");
  g_assert_true (scope_window_show_view (window, "maximize"));
  ScopeMaximizeView *view = SCOPE_MAXIMIZE_VIEW (find_descendant (GTK_WIDGET (window),
                                                                  SCOPE_TYPE_MAXIMIZE_VIEW));
  g_assert_nonnull (view);
  ScopeExamplesPanel *panel = scope_maximize_view_get_examples_panel (view);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (panel)));

  /* Nothing before a run, and nothing cached to read. */
  int add = node_named ("layer2.0.add");
  scope_window_select_layer (window, add);
  scope_window_select_channel (window, 3);
  scope_examples_panel_set_folder (panel, root);
  g_assert_false (scope_examples_panel_is_running (panel));
  g_assert_null (scope_examples_panel_get_examples (panel));

  /* The ranking of every channel of the layer, in the background, then cached. */
  activate (panel, "examples.run", NULL);
  g_assert_true (scope_examples_panel_is_running (panel));
  test_util_wait (run_done, panel, "the dataset examples");
  /* Held: the panel drops its ranking when the layer changes. */
  g_autoptr (ScopeExamples) first = scope_examples_ref (scope_examples_panel_get_examples (panel));
  ScopeExamples *e = first;
  g_assert_false (e->from_cache);
  g_assert_null (e->cache_note);
  g_assert_cmpint (e->node, ==, add);
  g_assert_false (e->field.whole);
  g_assert_cmpint (e->field.size_h, >, 3);
  check_ranking (e, 3);
  g_autofree char *cache = cache_file ();

  /* The channel's AM image above its examples. */
  NnAmSettings settings;
  scope_maximize_view_get_settings (view, &settings);
  settings.steps = 64;
  scope_maximize_view_set_settings (view, &settings);
  activate (view, "maximize.run", NULL);
  test_util_wait (am_done, view, "the AM image");
  screenshot ("examples-1-light");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_FORCE_DARK);
  screenshot ("examples-2-dark");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_FORCE_LIGHT);

  /* Another channel of the layer: shown from the same ranking, nothing runs. */
  scope_window_select_channel (window, 5);
  g_assert_false (scope_examples_panel_is_running (panel));
  g_assert_true (scope_examples_panel_get_examples (panel) == e);
  check_ranking (e, 5);
  scope_examples_panel_set_crop (panel, TRUE);
  screenshot ("examples-3-crop");
  scope_examples_panel_set_crop (panel, FALSE);

  /* Another layer drops the ranking (nothing cached for it, nothing runs); the first layer
   * again is read back from the cache. */
  int relu = node_named ("layer1.0.relu2");
  scope_window_select_layer (window, relu);
  g_assert_null (scope_examples_panel_get_examples (panel));
  g_assert_false (scope_examples_panel_is_running (panel));
  scope_window_select_layer (window, add);
  g_assert_true (scope_examples_panel_is_running (panel));
  test_util_wait (run_done, panel, "the cached dataset examples");
  ScopeExamples *cached = scope_examples_panel_get_examples (panel);
  g_assert_nonnull (cached);
  g_assert_true (cached->from_cache);
  g_assert_nonnull (strstr (scope_examples_panel_get_status (panel), "cache"));
  for (int c = 0; c < cached->examples->c; c++)
    g_assert_cmpmem (nn_examples_top (cached->examples, c),
                     sizeof (NnExample) * SCOPE_EXAMPLES_K, nn_examples_top (first->examples, c),
                     sizeof (NnExample) * SCOPE_EXAMPLES_K);

  /* A broken cache file: computed again, said so, and written anew. */
  scope_window_select_layer (window, relu);
  test_util_write_file (cache, "broken", 6);
  scope_window_select_layer (window, add);
  test_util_wait (run_done, panel, "the dataset examples again");
  e = scope_examples_panel_get_examples (panel);
  g_assert_nonnull (e);
  g_assert_false (e->from_cache);
  g_assert_nonnull (e->cache_note);
  g_assert_nonnull (strstr (e->cache_note, "not a valid dataset examples cache"));
  check_ranking (e, 3);
  g_autofree char *again = cache_file ();
  g_assert_cmpstr (again, ==, cache);
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_assert_true (g_file_get_contents (cache, &contents, &length, NULL));
  g_assert_cmpuint (length, >, 6);

  /* While the view is hidden, browsing layers reads nothing; shown again, the cached ranking
   * of its layer is read. */
  scope_window_select_layer (window, relu);
  g_assert_true (scope_window_show_view (window, "activations"));
  scope_window_select_layer (window, add);
  g_assert_false (scope_examples_panel_is_running (panel));
  g_assert_null (scope_examples_panel_get_examples (panel));
  g_assert_true (scope_window_show_view (window, "maximize"));
  test_util_wait (examples_shown, panel, "the cached ranking once the view is shown");
  g_assert_true (scope_examples_panel_get_examples (panel)->from_cache);

  /* Stop at once: nothing runs, the status says so; the next layer has nothing cached. */
  scope_window_select_layer (window, relu);
  activate (panel, "examples.run", NULL);
  g_assert_true (scope_examples_panel_is_running (panel));
  activate (panel, "examples.stop", NULL);
  g_assert_false (scope_examples_panel_is_running (panel));
  g_assert_cmpstr (scope_examples_panel_get_status (panel), ==, "Stopped.");
  g_assert_null (scope_examples_panel_get_examples (panel));
  wait_frames (2);
  g_assert_null (scope_window_get_error_message (window));

  test_util_remove_tree (tmp);
}

int
main (int    argc,
      char **argv)
{
  /* The panel's cache goes to a folder of this run, set before GLib first reads it. */
  cache_home = test_util_make_tmp_dir ();
  g_setenv ("XDG_CACHE_HOME", cache_home, TRUE);
  g_test_init (&argc, &argv, NULL);

  const char *dir = g_getenv ("CNNSCOPE_SCREENSHOT_DIR");
  shot_dir = g_strdup (dir != NULL ? dir : "screenshots");
  g_assert_cmpint (g_mkdir_with_parents (shot_dir, 0755), ==, 0);

  app = scope_application_new (G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = SCOPE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_FORCE_LIGHT);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 860);

  g_test_add_func ("/ui/examples/run-cache-stop", test_examples);
  int status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_unref (app);
  test_util_remove_tree (cache_home);
  g_free (cache_home);
  g_free (shot_dir);
  return status;
}
