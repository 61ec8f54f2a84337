/* SPDX-License-Identifier: MIT */
/* Screenshots of the application under Xvfb, driven through the window's actions: every view
 * of the switcher on the demo model and sample image at 800x600 and 1280x800, light and dark;
 * with MODEL and IMAGE, that model's Activations and Explain views with the chosen methods (and
 * the status each run ends with, its times, in the log).
 * Usage: screenshots OUTDIR [MODEL IMAGE [METHOD...]] (default method: gradcam). */
#include <adwaita.h>
#include <string.h>

#include "scope-application.h"
#include "scope-explain-view.h"
#include "scope-maximize-view.h"
#include "scope-window.h"
#include "test-util.h"
#include "ui-util.h"

static ScopeApplication *app;
static ScopeWindow      *window;
static const char       *out_dir;
static const char       *model_path, *image_path;
static char            **methods;

static gboolean
activations_delivered (gpointer data)
{
  (void) data;
  return scope_window_get_activations (window) != NULL && !scope_window_is_busy (window)
         && !scope_window_is_opening (window);
}

static gboolean
count_frame (GtkWidget     *widget,
             GdkFrameClock *clock,
             gpointer       data)
{
  (void) widget;
  (void) clock;
  (*(int *) data)++;
  return G_SOURCE_CONTINUE;
}

static gboolean
frames_done (gpointer data)
{
  return *(int *) data >= 4;
}

/* Lets the window lay out and draw a few frames after a change. */
static void
wait_frames (void)
{
  int count = 0;
  guint id = gtk_widget_add_tick_callback (GTK_WIDGET (window), count_frame, &count, NULL);
  test_util_wait (frames_done, &count, "frames to be drawn");
  gtk_widget_remove_tick_callback (GTK_WIDGET (window), id);
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

/* The names of the switcher's pages, in order (to g_strfreev). */
static char **
view_names (void)
{
  AdwViewStack *stack = ADW_VIEW_STACK (find_descendant (GTK_WIDGET (window),
                                                         ADW_TYPE_VIEW_STACK));
  g_assert_nonnull (stack);
  g_autoptr (GtkSelectionModel) pages = adw_view_stack_get_pages (stack);
  GStrvBuilder *names = g_strv_builder_new ();
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (pages)); i++)
    {
      g_autoptr (AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), i);
      g_strv_builder_add (names, adw_view_stack_page_get_name (page));
    }
  char **all = g_strv_builder_end (names);
  g_strv_builder_unref (names);
  return all;
}

/* The Explain view's map in panel 0 is there and no job runs. */
static gboolean
explain_done (gpointer data)
{
  ScopeExplainView *view = data;
  ScopeExplainMetrics *m = scope_explain_view_get_metrics (view, 0);
  return !scope_view_get_busy (SCOPE_VIEW (view))
         && scope_explain_view_get_explanation (view, 0) != NULL && m != NULL
         && (m->has & NN_FAITH_RANDOMIZATION);
}

typedef struct
{
  ScopeExplainView *view;
  NnMethod          method;
} MapWait;

/* Panel 0 shows a map of the method. */
static gboolean
explain_has_map (gpointer data)
{
  const MapWait *wait = data;
  ScopeExplanation *e = scope_explain_view_get_explanation (wait->view, 0);
  return e != NULL && e->method == wait->method;
}

static gboolean
explain_idle (gpointer data)
{
  return !scope_view_get_busy (SCOPE_VIEW (data));
}

static gboolean
maximize_done (gpointer data)
{
  return !scope_maximize_view_is_running (data) && scope_maximize_view_get_n_images (data) > 0;
}

static ScopeExplainView *
explain_view (void)
{
  return SCOPE_EXPLAIN_VIEW (find_descendant (GTK_WIDGET (window), SCOPE_TYPE_EXPLAIN_VIEW));
}

static void
shoot (const char *name)
{
  wait_frames ();
  ui_util_screenshot (GTK_WIDGET (window), out_dir, name, 5.0, 20);
}

/* Every view at 800x600 and 1280x800, light and dark; the Maximize view after a run, the
 * Explain view with its metrics. */
static void
test_views (void)
{
  static const int sizes[][2] = { { 800, 600 }, { 1280, 800 } };
  static const struct
  {
    AdwColorScheme scheme;
    const char    *name;
  } schemes[] = { { ADW_COLOR_SCHEME_FORCE_LIGHT, "light" },
                  { ADW_COLOR_SCHEME_FORCE_DARK, "dark" } };
  g_auto (GStrv) names = view_names ();
  ScopeMaximizeView *maximize = SCOPE_MAXIMIZE_VIEW (find_descendant (GTK_WIDGET (window),
                                                                      SCOPE_TYPE_MAXIMIZE_VIEW));
  ui_util_activate (GTK_WIDGET (window), "view.show", "s", "maximize");
  g_assert_true (scope_window_activate_view_action (window, "maximize.run"));
  test_util_wait (maximize_done, maximize, "the activation maximization");
  AdwStyleManager *style = adw_style_manager_get_default ();
  for (gsize c = 0; c < G_N_ELEMENTS (schemes); c++)
    {
      adw_style_manager_set_color_scheme (style, schemes[c].scheme);
      for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
        {
          gtk_window_set_default_size (GTK_WINDOW (window), sizes[s][0], sizes[s][1]);
          for (char **v = names; *v != NULL; v++)
            {
              ui_util_activate (GTK_WIDGET (window), "view.show", "s", *v);
              if (strcmp (*v, "explain") == 0)
                test_util_wait (explain_done, explain_view (), "the explanation and metrics");
              g_autofree char *shot = g_strdup_printf ("%s-%dx%d-%s", *v, sizes[s][0],
                                                       sizes[s][1], schemes[c].name);
              shoot (shot);
            }
        }
    }
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
}

/* MODEL and IMAGE: the Activations view at the default layer, then the Explain view with each
 * method, at 1280x800 (its map shown; the metrics may still run). */
static void
test_model (void)
{
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  g_autoptr (GFile) model = g_file_new_for_path (model_path);
  g_autoptr (GFile) image = g_file_new_for_path (image_path);
  g_assert_true (scope_window_open (window, model, image));
  test_util_wait (activations_delivered, NULL, "activations of the model");
  g_autofree char *base = g_path_get_basename (model_path);
  char *dot = strrchr (base, '.');
  if (dot != NULL)
    *dot = '\0';
  ui_util_activate (GTK_WIDGET (window), "view.show", "s", "activations");
  g_autofree char *act = g_strdup_printf ("%s-activations", base);
  shoot (act);
  /* The CAMs' default layer too: on a transformer, a token layer shown as its patch grid. */
  const int layer = nn_explain_default_layer (scope_model_get_graph (scope_window_get_model (
                                                                       window)));
  if (layer >= 0)
    {
      ui_util_activate (GTK_WIDGET (window), "layer.select", "i", layer);
      test_util_wait (activations_delivered, NULL, "activations of the layer");
      g_autofree char *shot = g_strdup_printf ("%s-activations-default-layer", base);
      shoot (shot);
    }
  ui_util_activate (GTK_WIDGET (window), "view.show", "s", "explain");
  ScopeExplainView *view = explain_view ();
  const char *fallback[] = { "gradcam", NULL };
  for (char **m = methods != NULL && methods[0] != NULL ? methods : (char **) fallback;
       *m != NULL; m++)
    {
      NnMethod method;
      g_assert_true (nn_method_from_name (*m, &method));
      scope_explain_view_set_method (view, 0, (int) method);
      MapWait wait = { view, method };
      test_util_wait (explain_has_map, &wait, "the map");
      g_autofree char *shot = g_strdup_printf ("%s-explain-%s", base, *m);
      shoot (shot);
      /* The time the window reports for the map and its metrics. */
      test_util_wait (explain_idle, view, "the metrics");
      g_test_message ("%s: %s", *m, scope_explain_view_get_status (view));
    }
  scope_window_cancel_view (window);
}

static void
window_setup (gpointer      fixture,
              gconstpointer data)
{
  (void) fixture;
  (void) data;
  g_application_activate (G_APPLICATION (app));
  window = SCOPE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  test_util_wait (activations_delivered, NULL, "activations of the demo model");
}

static void
window_teardown (gpointer      fixture,
                 gconstpointer data)
{
  (void) fixture;
  (void) data;
  if (window != NULL)
    gtk_window_close (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_null (window);
}

typedef struct
{
  void (*run) (void);
} Shots;

static void
run_test (gpointer      fixture,
          gconstpointer data)
{
  (void) fixture;
  ((const Shots *) data)->run ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2 || argc == 3)
    {
      g_printerr ("usage: %s OUTDIR [MODEL IMAGE [METHOD...]]\n", argv[0]);
      return 2;
    }
  out_dir = argv[1];
  g_assert_cmpint (g_mkdir_with_parents (out_dir, 0755), ==, 0);
  if (argc >= 4)
    {
      model_path = argv[2];
      image_path = argv[3];
      methods = argv + 4;
    }
  app = scope_application_new (G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  static const Shots model_shots = { test_model }, view_shots = { test_views };
  if (model_path != NULL)
    g_test_add_vtable ("/ui/screenshots/model", 0, &model_shots, window_setup, run_test,
                       window_teardown);
  else
    g_test_add_vtable ("/ui/screenshots/views", 0, &view_shots, window_setup, run_test,
                       window_teardown);
  int status = g_test_run ();
  g_object_unref (app);
  return status;
}
