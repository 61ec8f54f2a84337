/* SPDX-License-Identifier: MIT */
/* The Compare view under Xvfb, driven through its actions: before model B a status page with
 * a button to open it; a model of another network is refused with a toast naming it; model B
 * (the demo model with noise on its trainable conv weights) opens on a worker and the selected
 * channel, the layer's Grad-CAM and the channel's AM image (the same run as a direct one) show
 * in both; another channel is maximized anew and that run cancelled, and nothing runs while
 * the view is off screen; the layers are compared over a small image folder with progress,
 * and a run is cancelled; the view exports its plot.
 * Screenshots, light and dark, go to $CNNSCOPE_SCREENSHOT_DIR. */
#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "scope-application.h"
#include "scope-compare-view.h"
#include "scope-window.h"
#include "test-util.h"
#include "ui-util.h"

static ScopeApplication *app;
static ScopeWindow      *window;
static char             *shot_dir;

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

static GtkWidget *
find_named (GtkWidget  *widget,
            const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_named (child, name);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
delivered (gpointer data)
{
  (void) data;
  return scope_window_get_activations (window) != NULL && !scope_window_is_busy (window);
}

static gboolean
error_mentions (gpointer data)
{
  const char *message = scope_window_get_error_message (window);
  return message != NULL && strstr (message, data) != NULL;
}

static gboolean
b_shown (gpointer data)
{
  ScopeCompareView *view = data;
  return scope_compare_view_get_model_b (view) != NULL && scope_compare_view_has_outputs (view)
         && !scope_view_get_busy (SCOPE_VIEW (view));
}

static gboolean
am_started (gpointer data)
{
  ScopeCompareView *view = data;
  const ScopeAmResult *r = scope_compare_view_get_am (view, 0);
  return r != NULL && r->channels[0] == 5 && r->step > 0;
}

/* Model A's AM image of channel `channel` at node as the view's runs make it: a direct run
 * with nn_am_settings_init's settings but `steps`, in pixels. */
static void
assert_am_equals_direct (const ScopeAmResult *r,
                         const NnModel       *model,
                         int                  node,
                         int                  channel,
                         int                  steps)
{
  NnAmSettings s;
  nn_am_settings_init (&s);
  s.layer = node;
  s.channels = &channel;
  s.n_channels = 1;
  s.steps = steps;
  NnError err = { 0 };
  NnAmRun *run = nn_am_run_new (model, &s, &err);
  g_assert_nonnull (run);
  g_assert_true (nn_am_run_step (run, steps, NULL, &err));
  NnShape in = nn_am_run_get_shape (run);
  NnImage *pixels = nn_image_new (in.c, in.h, in.w);
  nn_am_image_to_pixels (model, nn_am_run_peek_image (run, 0), pixels);
  g_assert_cmpint (r->c, ==, in.c);
  g_assert_cmpint (r->h, ==, in.h);
  g_assert_cmpint (r->w, ==, in.w);
  g_assert_cmpmem (r->pixels, sizeof (float) * nn_shape_size (in), pixels->data,
                   sizeof (float) * nn_shape_size (in));
  nn_image_free (pixels);
  nn_am_run_free (run);
}

/* The error message before a run, to tell a new one. */
static char *earlier_error;

/* The run ended: with the layers compared, or with a new error. */
static gboolean
compared (gpointer data)
{
  ScopeCompareView *view = data;
  return !scope_view_get_busy (SCOPE_VIEW (view))
         && (scope_compare_view_get_layers (view) != NULL
             || g_strcmp0 (scope_window_get_error_message (window), earlier_error) != 0);
}

static int ticks;

#define AM_STEPS 48

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

static void
wait_frames (int frames)
{
  ticks = 0;
  guint id = gtk_widget_add_tick_callback (GTK_WIDGET (window), count_tick, NULL, NULL);
  test_util_wait (ticks_reached, GINT_TO_POINTER (frames), "frames to be drawn");
  gtk_widget_remove_tick_callback (GTK_WIDGET (window), id);
}

/* The window light and dark. */
static void
screenshots (const char *name)
{
  AdwStyleManager *styles = adw_style_manager_get_default ();
  static const struct
  {
    AdwColorScheme scheme;
    const char    *suffix;
  } schemes[] = { { ADW_COLOR_SCHEME_FORCE_LIGHT, "light" },
                  { ADW_COLOR_SCHEME_FORCE_DARK, "dark" } };
  for (gsize k = 0; k < G_N_ELEMENTS (schemes); k++)
    {
      adw_style_manager_set_color_scheme (styles, schemes[k].scheme);
      wait_frames (3);
      g_autofree char *file = g_strdup_printf ("%s-%s", name, schemes[k].suffix);
      ui_util_screenshot (GTK_WIDGET (window), shot_dir, file, 20.0, 50);
    }
  adw_style_manager_set_color_scheme (styles, ADW_COLOR_SCHEME_DEFAULT);
}

/* The demo model with Gaussian noise of half their spread on its trainable conv weights;
 * returns the first such conv's node. */
static int
write_model_b (const char *path,
               const char *a_path)
{
  NnError err = { 0 };
  NnModel *m = nn_model_load (a_path, &err);
  g_assert_nonnull (m);
  NnRng rng;
  nn_rng_init (&rng, 9);
  int first = -1;
  for (int i = 0; i < m->graph->n_params; i++)
    {
      NnParam *p = &m->graph->params[i];
      if (!p->trainable || p->role != NN_PARAM_WEIGHT
          || m->graph->nodes[p->node].op != NN_OP_CONV2D)
        continue;
      float *w = m->graph->data + p->offset;
      double s2 = 0.0;
      for (size_t k = 0; k < p->count; k++)
        s2 += (double) w[k] * w[k];
      float sd = (float) sqrt (s2 / (double) p->count);
      for (size_t k = 0; k < p->count; k++)
        w[k] += 0.5f * sd * nn_rng_normal (&rng);
      if (first < 0)
        first = p->node;
    }
  g_assert_true (nn_model_save (m, path, &err));
  nn_model_free (m);
  return first;
}

/* 30 images under dir/<class>/: five fashion samples, each at six brightnesses. */
static void
write_dataset (const char *dir)
{
  static const char *const names[] = { "tshirt-top", "trouser", "pullover", "dress", "coat" };
  const char *data = g_getenv ("CNNSCOPE_DATA_DIR");
  for (size_t k = 0; k < G_N_ELEMENTS (names); k++)
    {
      g_autofree char *file = g_strdup_printf ("fashion-%s.png", names[k]);
      g_autofree char *src = g_build_filename (data, "samples", file, NULL);
      g_autofree char *sub = g_build_filename (dir, names[k], NULL);
      g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
      NnError err = { 0 };
      for (int v = 0; v < 6; v++)
        {
          NnImage *im = nn_image_load (src, &err);
          g_assert_nonnull (im);
          size_t n = (size_t) im->c * im->h * im->w;
          for (size_t i = 0; i < n; i++)
            im->data[i] = fminf (1.0f, im->data[i] * (0.5f + 0.15f * (float) v));
          g_autofree char *name = g_strdup_printf ("%d.png", v);
          g_autofree char *path = g_build_filename (sub, name, NULL);
          g_assert_true (nn_image_save_png (im, path, 8, &err));
          nn_image_free (im);
        }
    }
}

static void
test_compare (void)
{
  g_autofree char *tmp = test_util_make_tmp_dir ();
  const char *data = g_getenv ("CNNSCOPE_DATA_DIR");
  g_autofree char *a_path = g_build_filename (data, "demo-pfnet-fashion.safetensors", NULL);
  g_autofree char *image = g_build_filename (data, "samples", "fashion-shirt.png", NULL);
  g_autofree char *b_path = g_build_filename (tmp, "noisy.safetensors", NULL);
  g_autofree char *other = g_build_filename (tmp, "other.safetensors", NULL);
  g_autofree char *dataset = g_build_filename (tmp, "data", NULL);
  int conv = write_model_b (b_path, a_path);
  write_dataset (dataset);
  NnArchSpec spec = { .name = "smallcnn", .in_c = 1, .in_h = 28, .in_w = 28, .n_classes = 10,
                      .width = 0.25f, .seed = 1 };
  NnError err = { 0 };
  NnModel *small = nn_model_new (nn_arch_build (&spec, &err), "smallcnn");
  g_assert_true (nn_model_save (small, other, &err));
  nn_model_free (small);

  g_autoptr (GFile) model = g_file_new_for_path (a_path);
  g_autoptr (GFile) input = g_file_new_for_path (image);
  g_assert_true (scope_window_open (window, model, input));
  test_util_wait (delivered, NULL, "activations of the demo model");
  g_assert_true (scope_window_show_view (window, "compare"));
  ScopeCompareView *view = SCOPE_COMPARE_VIEW (find_descendant (GTK_WIDGET (window),
                                                                SCOPE_TYPE_COMPARE_VIEW));
  g_assert_nonnull (view);
  scope_window_select_layer (window, conv);
  scope_window_select_channel (window, 3);
  /* fewer steps than the default, for the test's time */
  NnAmSettings defaults;
  nn_am_settings_init (&defaults);
  defaults.steps = AM_STEPS;
  scope_compare_view_set_am_defaults (view, &defaults);

  /* no model B yet: the status page says how, its button opens the file dialog */
  wait_frames (3);
  GtkWidget *empty = find_named (GTK_WIDGET (view), "compare-empty");
  g_assert_true (gtk_widget_get_mapped (empty));
  g_assert_false (gtk_widget_get_mapped (find_named (GTK_WIDGET (view), "compare-pair")));
  GtkWidget *open_button = find_named (empty, "compare-empty-open");
  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (open_button)), ==,
                   "compare.choose");
  g_assert_true (gtk_widget_is_sensitive (open_button));
  g_assert_null (scope_compare_view_get_am (view, 0));
  screenshots ("compare-0-empty");

  /* another network: refused, saying where */
  activate (view, "compare.open", "s", other);
  test_util_wait (error_mentions, "is not the network of", "the other network to be refused");
  g_assert_nonnull (strstr (scope_window_get_error_message (window), "differ"));
  g_assert_null (scope_compare_view_get_model_b (view));

  activate (view, "compare.open", "s", b_path);
  test_util_wait (b_shown, view, "model B, both activations and both AM images");
  g_assert_true (scope_compare_view_has_cams (view));
  g_assert_false (gtk_widget_get_mapped (empty));
  /* the AM images of channel 3 in both, finished; A's is a direct run's with the same
   * settings, B's (other weights, same seed) another image */
  const ScopeAmResult *am_a = scope_compare_view_get_am (view, 0);
  const ScopeAmResult *am_b = scope_compare_view_get_am (view, 1);
  g_assert_nonnull (am_a);
  g_assert_nonnull (am_b);
  g_assert_true (am_a->done && am_b->done);
  g_assert_cmpint (am_a->step, ==, AM_STEPS);
  g_assert_cmpint (am_a->channels[0], ==, 3);
  g_assert_cmpint (am_b->channels[0], ==, 3);
  const NnModel *model_a = scope_model_get_nn_model (scope_window_get_model (window));
  assert_am_equals_direct (am_a, model_a, conv, 3, AM_STEPS);
  size_t am_size = (size_t) am_a->c * am_a->h * am_a->w;
  g_assert_true (memcmp (am_a->pixels, am_b->pixels, sizeof (float) * am_size) != 0);
  wait_frames (3);
  screenshots ("compare-1-channel");
  /* the pair differs between A and B: the two halves of the drawing are not alike */
  GtkWidget *pair = find_named (GTK_WIDGET (view), "compare-pair");
  g_autoptr (GdkTexture) shot = ui_util_render_widget (pair);
  UiUtilPixelStats stats = ui_util_texture_stats (shot);
  g_assert_cmpuint (stats.colours, >, 50);

  /* another channel is maximized anew (with steps enough to be cancelled before the end);
   * cancelled, its partial images stay, marked */
  defaults.steps = NN_AM_MAX_STEPS;
  scope_compare_view_set_am_defaults (view, &defaults);
  scope_window_select_channel (window, 5);
  g_assert_true (scope_compare_view_get_am_running (view));
  g_assert_true (gtk_widget_get_visible (find_named (GTK_WIDGET (view), "compare-am-progress")));
  test_util_wait (am_started, view, "the AM of channel 5 to take a step");
  activate (view, "compare.cancel", NULL);
  g_assert_false (scope_compare_view_get_am_running (view));
  g_assert_false (scope_view_get_busy (SCOPE_VIEW (view)));
  g_assert_true (gtk_widget_get_visible (find_named (GTK_WIDGET (view), "compare-am-label")));
  g_assert_false (gtk_widget_get_visible (find_named (GTK_WIDGET (view),
                                                      "compare-am-progress")));
  /* back to channel 3: its images again, from a new run */
  defaults.steps = AM_STEPS;
  scope_compare_view_set_am_defaults (view, &defaults);
  scope_window_select_channel (window, 3);
  test_util_wait (b_shown, view, "the AM of channel 3 again");
  g_assert_cmpint (scope_compare_view_get_am (view, 0)->channels[0], ==, 3);
  assert_am_equals_direct (scope_compare_view_get_am (view, 0), model_a, conv, 3, AM_STEPS);

  /* the layers over the image folder, with the progress bar while it runs */
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (view), "compare-dataset")),
                         dataset);
  activate (view, "compare.run", NULL);
  g_assert_true (scope_view_get_busy (SCOPE_VIEW (view)));
  earlier_error = g_strdup (scope_window_get_error_message (window));
  test_util_wait (compared, view, "the layers to be compared");
  const NnCkaLayers *layers = scope_compare_view_get_layers (view);
  if (layers == NULL)
    g_error ("no layers compared: %s", scope_window_get_error_message (window));
  const NnGraph *graph = scope_model_get_graph (scope_window_get_model (window));
  g_clear_pointer (&earlier_error, g_free);
  g_assert_cmpint (layers->n_layers, ==, graph->n_nodes - 1);
  g_assert_cmpint (layers->n, ==, 30);
  int below = 0;
  for (int l = 0; l < layers->n_layers; l++)
    {
      if (isnan (layers->cka[l]))
        continue;
      g_assert_cmpfloat (layers->cka[l], >=, 0.0);
      g_assert_cmpfloat (layers->cka[l], <=, 1.0);
      below += layers->cka[l] < 0.999;
    }
  g_assert_cmpint (below, >, 0);
  g_assert_cmpfloat (layers->distance[conv - 1], >, 0.3);
  g_assert_cmpfloat (layers->distance[conv - 1], <, 0.7);
  wait_frames (3);
  screenshots ("compare-2-cka");

  /* cancelled at once: nothing new, nothing running, the last result kept */
  activate (view, "compare.run", NULL);
  g_assert_true (scope_view_get_busy (SCOPE_VIEW (view)));
  activate (view, "compare.cancel", NULL);
  g_assert_false (scope_view_get_busy (SCOPE_VIEW (view)));
  g_assert_true (scope_compare_view_get_layers (view) == layers);

  /* off screen, another channel starts nothing; back on screen, its runs start */
  defaults.steps = NN_AM_MAX_STEPS;
  scope_compare_view_set_am_defaults (view, &defaults);
  g_assert_true (scope_window_show_view (window, "activations"));
  wait_frames (2);
  scope_window_select_channel (window, 7);
  g_assert_false (scope_compare_view_get_am_running (view));
  g_assert_null (scope_compare_view_get_am (view, 0));
  g_assert_true (scope_window_show_view (window, "compare"));
  wait_frames (2);
  g_assert_true (scope_compare_view_get_am_running (view));
  activate (view, "compare.cancel", NULL);
  g_assert_false (scope_compare_view_get_am_running (view));

  g_autofree char *png = g_build_filename (tmp, "compare.png", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_view_export (SCOPE_VIEW (view), png, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));
  test_util_remove_tree (tmp);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  const char *dir = g_getenv ("CNNSCOPE_SCREENSHOT_DIR");
  shot_dir = g_strdup (dir != NULL ? dir : "screenshots");
  g_assert_cmpint (g_mkdir_with_parents (shot_dir, 0755), ==, 0);

  app = scope_application_new (G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = SCOPE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 800);

  g_test_add_func ("/ui/compare/open-channel-cka", test_compare);
  int status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_unref (app);
  g_free (shot_dir);
  return status;
}
