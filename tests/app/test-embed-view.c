/* SPDX-License-Identifier: MIT */
/* The Feature Space view under Xvfb, driven through its actions: the status page before a
 * first run; PCA of the demo model's layer over a small image folder the test writes (the ten
 * Fashion-MNIST samples, shifted and dimmed) on a worker, one dot per sample; hovering a dot
 * shows its image, class and prediction; a click on a dot makes that sample the input of the
 * other views; export; t-SNE coloured by prediction; a
 * cancel at once leaves the last map and an idle view; the view fits 800 x 600. Screenshots go
 * to $CNNSCOPE_SCREENSHOT_DIR. */
#include <adwaita.h>
#include <gdk/x11/gdkx.h>
#include <math.h>
#include <string.h>

#include "scope-application.h"
#include "scope-embed-view.h"
#include "scope-explain-view.h"
#include "scope-window.h"
#include "test-util.h"
#include "ui-util.h"

/* Variants written of each of the ten samples. */
#define PER_CLASS 8

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
activations_delivered (gpointer data)
{
  (void) data;
  return scope_window_get_activations (window) != NULL && !scope_window_is_busy (window);
}

static gboolean
input_named (gpointer data)
{
  ScopeInput *input = scope_window_get_input (window);
  return input != NULL && strstr (scope_input_get_name (input), data) != NULL
         && activations_delivered (NULL);
}

static gboolean
model_named (gpointer data)
{
  ScopeModel *model = scope_window_get_model (window);
  return model != NULL && g_strcmp0 (scope_model_get_name (model), data) == 0;
}

static gboolean
run_done (gpointer data)
{
  return !scope_embed_view_is_running (data);
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

/* Sets a drop-down of the view, found by its widget name. */
static void
select_in (ScopeEmbedView *view,
           const char     *name,
           guint           position)
{
  GtkDropDown *drop = GTK_DROP_DOWN (find_named (GTK_WIDGET (view), name));
  g_assert_nonnull (drop);
  gtk_drop_down_set_selected (drop, position);
}

/* Moves the X pointer to the screen's bottom-right corner, outside the window. */
static void
park_pointer (void)
{
  GdkDisplay *display = gdk_display_get_default ();
  if (!GDK_IS_X11_DISPLAY (display))
    return;
  Display *x = gdk_x11_display_get_xdisplay (display);
  Window root = DefaultRootWindow (x);
  XWarpPointer (x, None, root, 0, 0, 0, 0, DisplayWidth (x, DefaultScreen (x)) - 1,
                DisplayHeight (x, DefaultScreen (x)) - 1);
  XSync (x, False);
  wait_frames (2);
}

static void
screenshot_at (int         width,
               int         height,
               const char *name)
{
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  wait_frames (4);
  ui_util_screenshot (GTK_WIDGET (window), shot_dir, name, 20.0, 100);
}

static void
test_embed (void)
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

  ScopeEmbedView *view = SCOPE_EMBED_VIEW (find_descendant (GTK_WIDGET (window),
                                                            SCOPE_TYPE_EMBED_VIEW));
  g_assert_nonnull (view);
  g_assert_true (scope_window_show_view (window, "embed"));
  AdwViewStack *stack = ADW_VIEW_STACK (find_descendant (GTK_WIDGET (window),
                                                         ADW_TYPE_VIEW_STACK));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, "embed");

  /* Before a first run: the status page, nothing to export, Run needs a folder when
   * Fashion-MNIST is not installed. */
  g_assert_null (scope_embed_view_get_embedding (view));
  g_assert_false (scope_view_get_can_export (SCOPE_VIEW (view)));
  g_assert_true (gtk_widget_get_mapped (find_named (GTK_WIDGET (view), "embed-empty")));
  screenshot_at (1280, 800, "embed-1-empty-1280x800");

  /* PCA of the last block's output over the folder: one dot per image. */
  const NnGraph *graph = scope_model_get_graph (scope_window_get_model (window));
  int node = -1;
  for (int i = 0; i < graph->n_nodes; i++)
    if (strcmp (graph->nodes[i].name, "layer4.1.relu2") == 0)
      node = i;
  g_assert_cmpint (node, >=, 0);
  scope_window_select_layer (window, node);
  scope_embed_view_set_folder (view, root);
  activate (view, "embed.run", NULL);
  g_assert_true (scope_embed_view_is_running (view));
  g_assert_true (scope_view_get_busy (SCOPE_VIEW (view)));
  test_util_wait (run_done, view, "the PCA map");
  g_assert_null (scope_window_get_error_message (window));
  const ScopeEmbedding *e = scope_embed_view_get_embedding (view);
  g_assert_nonnull (e);
  g_assert_cmpint (e->n, ==, 10 * PER_CLASS);
  g_assert_false (e->tsne);
  g_assert_cmpint (e->n_classes, ==, 10);
  for (int i = 0; i < e->n; i++)
    {
      g_assert_true (isfinite (e->xy[2 * i]) && isfinite (e->xy[2 * i + 1]));
      g_assert_cmpint (e->samples->labels[i], ==, i / PER_CLASS);
    }
  /* The axes hold a share of the variance, the first the larger. */
  g_assert_cmpfloat (e->variance[0], >, 0.0);
  g_assert_cmpfloat (e->variance[0], >=, e->variance[1]);
  g_assert_cmpfloat (e->variance[0] + e->variance[1], <=, 100.0 + 1e-6);
  g_assert_true (scope_view_get_can_export (SCOPE_VIEW (view)));
  g_assert_false (scope_view_get_busy (SCOPE_VIEW (view)));
  g_assert_false (gtk_widget_get_mapped (find_named (GTK_WIDGET (view), "embed-empty")));
  screenshot_at (1280, 800, "embed-2-pca-1280x800");
  g_assert_cmpint (e->d, ==, 128);

  /* A click on a dot: that sample becomes the input of every view. Choose a sample the dot of
   * no other sample hides. */
  int pick = -1;
  for (int i = e->n - 1; i >= 0 && pick < 0; i--)
    {
      double x, y;
      scope_embed_view_get_point (view, i, &x, &y);
      if (scope_embed_view_hit (view, x, y) == i)
        pick = i;
    }
  g_assert_cmpint (pick, >=, 0);
  double px, py;
  scope_embed_view_get_point (view, pick, &px, &py);

  /* Hovering it rings it and shows its image with its class and prediction. Xvfb's pointer
   * rests in the middle of the screen, over the plot: the events of the preview's mapping would
   * report it there, so it is moved off the window first. */
  park_pointer ();
  activate (view, "embed.hover", "(dd)", px + 1.0, py - 1.0);
  g_assert_cmpint (scope_embed_view_get_hovered (view), ==, pick);
  GtkWidget *preview = scope_embed_view_get_preview (view);
  wait_frames (3);
  g_assert_true (gtk_widget_get_visible (preview));
  GtkLabel *label = GTK_LABEL (find_descendant (preview, GTK_TYPE_LABEL));
  g_autofree char *number = g_strdup_printf ("#%d: %s", e->index[pick],
                                             e->names[e->samples->labels[pick]]);
  g_assert_nonnull (strstr (gtk_label_get_label (label), number));
  GtkImage *image_widget = GTK_IMAGE (find_descendant (preview, GTK_TYPE_IMAGE));
  GdkPaintable *thumb = gtk_image_get_paintable (image_widget);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (thumb), >=, 4 * e->samples->w);
  screenshot_at (1280, 800, "embed-2b-hover-1280x800");
  ui_util_screenshot (preview, shot_dir, "embed-2c-hover-preview", 10.0, 20);
  activate (view, "embed.hover", "(dd)", -50.0, -50.0);
  g_assert_cmpint (scope_embed_view_get_hovered (view), ==, -1);
  g_assert_false (gtk_widget_get_visible (preview));
  scope_embed_view_get_point (view, pick, &px, &py);
  ScopeInput *before = scope_window_get_input (window);
  g_assert_cmpstr (scope_input_get_name (before), ==, "fashion-ankle-boot.png");
  activate (view, "embed.click", "(dd)", px, py);
  g_autofree char *expected = g_strdup_printf ("fashion-set #%d (", e->index[pick]);
  test_util_wait (input_named, expected, "the clicked sample as the input");
  ScopeInput *after = scope_window_get_input (window);
  g_assert_true (after != before);
  const NnInput *in = scope_input_get_nn_input (after);
  g_assert_cmpint (in->h, ==, e->samples->h);
  g_assert_cmpint (in->w, ==, e->samples->w);
  /* The Explain view has it too. */
  GtkWidget *explain = find_descendant (GTK_WIDGET (window), SCOPE_TYPE_EXPLAIN_VIEW);
  g_assert_true (scope_view_get_input (SCOPE_VIEW (explain)) == after);
  /* A click beside every dot opens nothing. */
  activate (view, "embed.click", "(dd)", -50.0, -50.0);
  g_assert_true (scope_window_get_input (window) == after);

  /* Export, as the other views do. */
  g_autofree char *png = g_build_filename (shot_dir, "embed-3-export.png", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_view_export (SCOPE_VIEW (view), png, &error));
  g_assert_no_error (error);
  g_autofree char *svg = g_build_filename (tmp, "embed.svg", NULL);
  g_assert_true (scope_view_export (SCOPE_VIEW (view), svg, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (svg, G_FILE_TEST_IS_REGULAR));

  /* A cancel at once: the view is idle and keeps the PCA map. */
  select_in (view, "embed-method", 1);
  GtkSpinButton *perplexity = GTK_SPIN_BUTTON (find_named (GTK_WIDGET (view),
                                                           "embed-perplexity"));
  gtk_spin_button_set_value (perplexity, 20);
  activate (view, "embed.run", NULL);
  g_assert_true (scope_embed_view_is_running (view));
  gint64 start = g_get_monotonic_time ();
  activate (window, "view.cancel", NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, <, TEST_UTIL_PROMPT_US);
  g_assert_false (scope_embed_view_is_running (view));
  g_assert_false (scope_view_get_busy (SCOPE_VIEW (view)));
  wait_frames (3);
  g_assert_true (scope_embed_view_get_embedding (view) == e);
  g_assert_false (e->tsne);

  /* t-SNE to the end, coloured by prediction. */
  select_in (view, "embed-colour", 1);
  activate (view, "embed.run", NULL);
  test_util_wait (run_done, view, "the t-SNE map");
  g_assert_null (scope_window_get_error_message (window));
  e = scope_embed_view_get_embedding (view);
  g_assert_true (e->tsne);
  g_assert_cmpint (e->n, ==, 10 * PER_CLASS);
  g_assert_cmpfloat (e->perplexity, ==, 20.0);
  screenshot_at (1280, 800, "embed-4-tsne-1280x800");

  /* The view fits the smallest window the application supports, 800 x 600. */
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 600);
  wait_frames (4);
  int min_w, min_h, nat;
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat, NULL,
                      NULL);
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_VERTICAL, 800, &min_h, &nat, NULL,
                      NULL);
  g_test_message ("Feature Space view: the window's minimum %dx%d", min_w, min_h);
  g_assert_cmpint (min_w, <=, 800);
  g_assert_cmpint (min_h, <=, 600);
  ui_util_screenshot (GTK_WIDGET (window), shot_dir, "embed-5-tsne-800x600", 20.0, 100);
  select_in (view, "embed-method", 0);
  select_in (view, "embed-colour", 0);
  activate (view, "embed.run", NULL);
  test_util_wait (run_done, view, "the PCA map again");
  screenshot_at (800, 600, "embed-6-pca-800x600");
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 800);

  /* Newer weights of the same structure (a training run's snapshot) keep the map. */
  const ScopeEmbedding *kept = scope_embed_view_get_embedding (view);
  g_assert_nonnull (kept);
  g_autoptr (ScopeModel) copy = scope_model_new_copy (
    scope_model_get_nn_model (scope_window_get_model (window)), "snapshot.safetensors");
  scope_view_show_model (SCOPE_VIEW (view), copy);
  g_assert_true (scope_window_get_model (window) == copy);
  g_assert_true (scope_embed_view_get_embedding (view) == kept);

  /* Another model: the map belonged to the old one. */
  g_autofree char *ct_path = g_build_filename (data, "demo-ct.safetensors", NULL);
  g_autoptr (GFile) ct = g_file_new_for_path (ct_path);
  g_assert_true (scope_window_open (window, ct, NULL));
  test_util_wait (model_named, "demo-ct.safetensors", "the CT model");
  g_assert_null (scope_embed_view_get_embedding (view));
  g_assert_false (scope_view_get_can_export (SCOPE_VIEW (view)));
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

  app = scope_application_new (G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = SCOPE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_FORCE_LIGHT);
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 800);

  g_test_add_func ("/ui/embed/pca-click-cancel-tsne", test_embed);
  int status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_unref (app);
  g_free (shot_dir);
  return status;
}
