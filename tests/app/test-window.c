/* SPDX-License-Identifier: MIT */
/* The application window under Xvfb, driven through its actions and keys: the demo model and a
 * sample image, activations from the engine thread, layer and channel selection, the layer
 * search, the Activations, Filters and Explain views (with a CT slice, its mask and display
 * window too, rendered again without reading the file), export, the Maximize view (live run,
 * compare, all channels, export), the views on their base type (the window's state bound to
 * each, export, busy and cancel through the visible one), training followed by every view,
 * bad files, the shortcuts and About windows, and a prompt close. Each test has a window of its
 * own and finds the application's preferences (recent files, size) at their defaults; waits
 * block on the main context.
 * Screenshots of each view go to $CNNSCOPE_SCREENSHOT_DIR and are checked not to be blank. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "scope-activations-view.h"
#include "scope-application.h"
#include "scope-batch-window.h"
#include "scope-explain-figure.h"
#include "scope-explain-view.h"
#include "scope-filters-figure.h"
#include "scope-filters-view.h"
#include "scope-maximize-view.h"
#include "scope-pfm-figure.h"
#include "scope-train-view.h"
#include "scope-volume-view.h"
#include "scope-window.h"
#include "test-util.h"
#include "ui-util.h"

/* The application, registered once; the running test's window, which window_setup makes (with
 * the application's preferences back to their defaults) and window_teardown destroys, so that
 * no test sees what another left. */
static ScopeApplication *app;
static ScopeWindow      *window;
static char             *shot_dir;

/* Main loop helpers. */

static gboolean
activations_delivered (gpointer data)
{
  (void) data;
  return scope_window_get_activations (window) != NULL && !scope_window_is_busy (window);
}

static gboolean
error_mentions (gpointer data)
{
  const char *message = scope_window_get_error_message (window);
  return message != NULL && strstr (message, data) != NULL && !scope_window_is_busy (window);
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

typedef struct
{
  const int *count;
  int        target;
} FrameWait;

static gboolean
frames_done (gpointer data)
{
  const FrameWait *wait = data;
  return *wait->count >= wait->target;
}

/* Lets the window lay out and draw a few frames after a change. */
static void
wait_frames (GtkWidget *widget,
             int        frames)
{
  int count = 0;
  guint id = gtk_widget_add_tick_callback (widget, count_frame, &count, NULL);
  FrameWait wait = { &count, frames };
  test_util_wait (frames_done, &wait, "frames to be drawn");
  gtk_widget_remove_tick_callback (widget, id);
}

/* Activates an action of the window under test. */
#define activate(...) ui_util_activate (GTK_WIDGET (window), __VA_ARGS__)

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

/* Where widget lies in the window. */
static graphene_rect_t
bounds_in_window (GtkWidget *widget)
{
  graphene_rect_t r;
  g_assert_true (gtk_widget_compute_bounds (widget, GTK_WIDGET (window), &r));
  return r;
}

static void
assert_same_bounds (const graphene_rect_t *a,
                    const graphene_rect_t *b,
                    const char            *what)
{
  g_test_message ("%s: %.0f,%.0f %.0fx%.0f then %.0f,%.0f %.0fx%.0f", what, a->origin.x,
                  a->origin.y, a->size.width, a->size.height, b->origin.x, b->origin.y,
                  b->size.width, b->size.height);
  g_assert_true (graphene_rect_equal (a, b));
}

static GtkWindow *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (toplevel, type) && gtk_widget_get_visible (
            GTK_WIDGET (toplevel)))
        return toplevel;
    }
  return NULL;
}

/* Screenshots: saved under shot_dir and checked not to be blank. */
static void
screenshot (GtkWidget  *widget,
            const char *name,
            double      min_stddev,
            guint       min_colours)
{
  ui_util_screenshot (widget, shot_dir, name, min_stddev, min_colours);
}

static const NnGraph *
window_graph (void)
{
  ScopeActivations *act = scope_window_get_activations (window);
  g_assert_nonnull (act);
  return scope_model_get_graph (scope_activations_get_model (act));
}

static int
find_node (const char *name)
{
  int node = nn_graph_find (window_graph (), name);
  g_assert_cmpint (node, >=, 0);
  return node;
}

/* Each test's own window. */

/* Every preference back to its default (the memory backend keeps what an earlier test set). */
static void
reset_settings (GSettings *settings)
{
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (settings, "settings-schema", &schema, NULL);
  g_auto (GStrv) keys = g_settings_schema_list_keys (schema);
  for (char **key = keys; *key != NULL; key++)
    g_settings_reset (settings, *key);
}

static void
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* Set when the running test's window is finalized. */
static gboolean window_finalized;

/* Fresh preferences (no recent files, the default size) and a new window on the demo model and
 * sample image, as the application opens when started without files; their activations
 * delivered. */
static void
window_setup (gpointer      fixture,
              gconstpointer data)
{
  (void) fixture;
  (void) data;
  GSettings *settings = scope_application_get_settings (app);
  g_assert_nonnull (settings);
  reset_settings (settings);
  g_assert_null (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_application_activate (G_APPLICATION (app));
  window = SCOPE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  window_finalized = FALSE;
  g_object_set_data_full (G_OBJECT (window), "test-window-finalized", &window_finalized,
                          set_flag);
  test_util_wait (activations_delivered, NULL, "activations of the demo model");
}

static void
destroy_toplevels (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  while (g_list_model_get_n_items (toplevels) > 0)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, 0);
      gtk_window_destroy (toplevel);
    }
}

/* The window closes as the user closes it (joining its threads), every other window goes, and
 * nothing keeps the window alive. */
static void
window_teardown (gpointer      fixture,
                 gconstpointer data)
{
  (void) fixture;
  (void) data;
  if (window != NULL)
    gtk_window_close (GTK_WINDOW (window));
  destroy_toplevels ();
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_null (window);
  g_assert_true (window_finalized);
}

/* Tests. */

static void
test_opens_demo (void)
{
  g_assert_nonnull (window);
  test_util_wait (activations_delivered, NULL, "activations of the opened files");
  g_assert_null (scope_window_get_error_message (window));

  ScopeActivations *act = scope_window_get_activations (window);
  ScopeModel *model = scope_activations_get_model (act);
  g_assert_cmpstr (scope_model_get_name (model), ==, "demo-pfnet-fashion.safetensors");
  g_assert_cmpstr (scope_activations_get_input_name (act), ==, "fashion-ankle-boot.png");
  g_assert_cmpint (scope_activations_get_top_class (act, NULL), ==, 9);
  g_assert_true (strstr (gtk_window_get_title (GTK_WINDOW (window)), "demo-pfnet-fashion")
                 != NULL);
  /* The first convolution is selected, channel 0. */
  g_assert_cmpint (scope_window_get_layer (window), ==, find_node ("conv1.predefined"));
  g_assert_cmpint (scope_window_get_channel (window), ==, 0);

  GtkWidget *view = find_descendant (GTK_WIDGET (window), SCOPE_TYPE_ACTIVATIONS_VIEW);
  g_assert_nonnull (view);
  wait_frames (GTK_WIDGET (window), 3);
  g_assert_true (gtk_widget_get_mapped (view));
  screenshot (GTK_WIDGET (window), "1-window-activations", 20.0, 200);
  /* The view alone: 16 heat maps on the sequential map and the channel large. */
  screenshot (view, "1-activations-view", 20.0, 200);
}

typedef struct
{
  GListModel *rows;
  guint       n;
} RowsWait;

static gboolean
rows_are (gpointer data)
{
  const RowsWait *wait = data;
  return g_list_model_get_n_items (wait->rows) == wait->n;
}

static void
test_select_layer_and_channel (void)
{
  const NnGraph *graph = window_graph ();
  int node = find_node ("layer2.0.pfm1.conv1x1");
  g_assert_cmpint (graph->nodes[node].shape.c, ==, 32);

  activate ("layer.select", "i", node);
  g_assert_cmpint (scope_window_get_layer (window), ==, node);
  activate ("channel.select", "i", 7);
  g_assert_cmpint (scope_window_get_channel (window), ==, 7);
  activate ("channel.next", NULL);
  g_assert_cmpint (scope_window_get_channel (window), ==, 8);
  activate ("channel.previous", NULL);
  g_assert_cmpint (scope_window_get_channel (window), ==, 7);
  activate ("channel.select", "i", 1000);
  g_assert_cmpint (scope_window_get_channel (window), ==, 31);
  activate ("channel.select", "i", 7);

  /* Next and previous layer keep the channel where the layer has it. */
  activate ("layer.next", NULL);
  g_assert_cmpint (scope_window_get_layer (window), ==, node + 1);
  g_assert_cmpint (scope_window_get_channel (window), ==, 7);
  activate ("layer.previous", NULL);
  g_assert_cmpint (scope_window_get_layer (window), ==, node);

  /* The views follow the window's selection. */
  GtkWidget *view = find_descendant (GTK_WIDGET (window), SCOPE_TYPE_ACTIVATIONS_VIEW);
  g_assert_cmpint (scope_view_get_layer (SCOPE_VIEW (view)), ==, node);
  g_assert_cmpint (scope_view_get_channel (SCOPE_VIEW (view)), ==, 7);

  /* The search narrows the list and layer.next walks the matches only. */
  GtkWidget *list = find_named (GTK_WIDGET (window), "layer-list");
  GListModel *rows = G_LIST_MODEL (gtk_list_view_get_model (GTK_LIST_VIEW (list)));
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, (guint) graph->n_nodes);
  GtkWidget *search = find_named (GTK_WIDGET (window), "layer-search");
  guint matches = 0;
  for (int i = 0; i < graph->n_nodes; i++)
    matches += strstr (graph->nodes[i].name, "conv1x1") != NULL;
  g_assert_cmpuint (matches, >, 2);
  gtk_editable_set_text (GTK_EDITABLE (search), "CONV1X1");
  /* GtkSearchEntry reports changes after a short delay. */
  RowsWait rows_wait = { rows, matches };
  test_util_wait (rows_are, &rows_wait, "the layer list to show the matches");
  activate ("layer.next", NULL);
  int next = scope_window_get_layer (window);
  g_assert_cmpint (next, >, node);
  g_assert_nonnull (strstr (graph->nodes[next].name, "conv1x1"));
  g_assert_cmpint (graph->nodes[next - 1].op, !=, NN_OP_CONV2D);
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "2-window-search", 20.0, 200);
  gtk_editable_set_text (GTK_EDITABLE (search), "");
  rows_wait.n = (guint) graph->n_nodes;
  test_util_wait (rows_are, &rows_wait, "the layer list to show every layer");

  activate ("layer.select", "i", node);
  activate ("channel.select", "i", 7);
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "2-window-activations-layer", 20.0, 200);
}

/* The shortcut of widget's shortcut controllers whose trigger reads `trigger`, activated as a
 * key press would; returns whether it handled the key. */
static gboolean
press (GtkWidget  *widget,
       const char *trigger)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (widget);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);
      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      GListModel *shortcuts = G_LIST_MODEL (controller);
      for (guint k = 0; k < g_list_model_get_n_items (shortcuts); k++)
        {
          g_autoptr (GtkShortcut) shortcut = g_list_model_get_item (shortcuts, k);
          g_autofree char *text = gtk_shortcut_trigger_to_string (
            gtk_shortcut_get_trigger (shortcut));
          if (g_strcmp0 (text, trigger) == 0)
            return gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut), 0, widget,
                                                 gtk_shortcut_get_arguments (shortcut));
        }
    }
  g_assert_not_reached ();
}

static void
test_keys (void)
{
  GtkWidget *keys = GTK_WIDGET (window);
  GtkWidget *search = find_named (GTK_WIDGET (window), "layer-search");
  GtkWidget *list = find_named (GTK_WIDGET (window), "layer-list");
  AdwViewStack *stack = ADW_VIEW_STACK (find_descendant (GTK_WIDGET (window),
                                                         ADW_TYPE_VIEW_STACK));
  int node = find_node ("conv1.predefined");
  activate ("layer.select", "i", node);
  activate ("channel.select", "i", 3);

  /* Arrows browse: left/right the channel, up/down the layer. */
  gtk_root_set_focus (GTK_ROOT (window), NULL);
  g_assert_true (press (keys, "Right"));
  g_assert_cmpint (scope_window_get_channel (window), ==, 4);
  g_assert_true (press (keys, "Left"));
  g_assert_cmpint (scope_window_get_channel (window), ==, 3);
  g_assert_true (press (keys, "Down"));
  g_assert_cmpint (scope_window_get_layer (window), ==, node + 1);
  g_assert_true (press (keys, "Up"));
  g_assert_cmpint (scope_window_get_layer (window), ==, node);

  /* In a text field the arrows move the cursor; in the layer list up and down are the list's
   * own (it moves the selection), left and right still change the channel. */
  gtk_widget_grab_focus (search);
  g_assert_false (press (keys, "Right"));
  g_assert_cmpint (scope_window_get_channel (window), ==, 3);
  gtk_widget_grab_focus (list);
  g_assert_false (press (keys, "Down"));
  g_assert_true (press (keys, "Right"));
  g_assert_cmpint (scope_window_get_channel (window), ==, 4);

  g_assert_true (press (GTK_WIDGET (window), "<Control>2"));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, "filters");
  g_assert_true (press (GTK_WIDGET (window), "<Control>1"));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, "activations");
  g_assert_true (press (GTK_WIDGET (window), "<Control>f"));
  g_assert_true (gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (window)), search));

  /* Escape in the search clears it (every layer back) and returns to the list. */
  GListModel *rows = G_LIST_MODEL (gtk_list_view_get_model (GTK_LIST_VIEW (list)));
  guint all = g_list_model_get_n_items (rows);
  gtk_editable_set_text (GTK_EDITABLE (search), "conv1x1");
  g_assert_cmpuint (g_list_model_get_n_items (rows), <, all);
  g_assert_true (press (search, "Escape"));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (search)), ==, "");
  g_assert_cmpuint (g_list_model_get_n_items (rows), ==, all);
  g_assert_true (gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (window)), list));
}

/* Activates a view's own action (view actions are looked up from the view upwards). */
static void
activate_on (GtkWidget  *widget,
             const char *action,
             const char *format,
             ...)
{
  va_list args;
  va_start (args, format);
  GVariant *parameter = g_variant_new_va (format, NULL, &args);
  va_end (args);
  g_assert_true (gtk_widget_activate_action_variant (widget, action, parameter));
}

static void
test_filters (void)
{
  ScopeFiltersView *view = SCOPE_FILTERS_VIEW (find_descendant (GTK_WIDGET (window),
                                                                SCOPE_TYPE_FILTERS_VIEW));
  g_assert_nonnull (view);
  GtkWidget *grid = find_descendant (GTK_WIDGET (view), SCOPE_TYPE_FILTERS_FIGURE);
  g_assert_nonnull (grid);
  GtkWidget *status = find_descendant (GTK_WIDGET (view), ADW_TYPE_STATUS_PAGE);
  g_assert_nonnull (status);

  /* The fixed PFM filter bank of the first layer: 16 kernels 3x3, one input channel. */
  activate ("layer.select", "i", find_node ("conv1.predefined"));
  activate ("channel.select", "i", 9);
  activate ("view.show", "s", "filters");
  wait_frames (GTK_WIDGET (window), 3);
  g_assert_true (gtk_widget_get_mapped (grid));
  g_assert_cmpint (scope_view_get_channel (SCOPE_VIEW (view)), ==, 9);
  g_assert_cmpint (scope_figure_view_get_channel (SCOPE_FIGURE_VIEW (grid)), ==, 9);
  g_assert_cmpint (scope_filters_view_get_input_channel (view), ==, -1);
  screenshot (GTK_WIDGET (window), "3-window-filters-bank", 20.0, 50);

  /* A 1x1 layer outside a module, per input channel: 32 filters of input channel 3 of 16. */
  activate ("layer.select", "i", find_node ("layer2.0.downsample.1"));
  activate_on (GTK_WIDGET (view), "filters.mode", "s", "input-channel");
  g_autofree char *mode = NULL;
  g_object_get (view, "filter-mode", &mode, NULL);
  g_assert_cmpstr (mode, ==, "input-channel");
  g_assert_cmpint (scope_filters_view_get_n_input_channels (view), ==, 16);
  GtkWidget *spin = find_descendant (GTK_WIDGET (view), GTK_TYPE_SPIN_BUTTON);
  g_assert_true (gtk_widget_get_sensitive (spin));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 3);
  g_assert_cmpint (scope_filters_view_get_input_channel (view), ==, 3);
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "4-window-filters-input-channel", 20.0, 50);
  activate_on (GTK_WIDGET (view), "filters.mode", "s", "summed");
  g_assert_cmpint (scope_filters_view_get_input_channel (view), ==, -1);
  g_assert_false (gtk_widget_get_sensitive (spin));

  /* The 1x1 conv of a PFNet module shows the module: the bank, the 1x1 weights as a matrix,
   * and what drives the selected output channel. */
  GtkWidget *module = find_descendant (GTK_WIDGET (view), SCOPE_TYPE_PFM_FIGURE);
  g_assert_nonnull (module);
  activate ("layer.select", "i", find_node ("layer2.0.pfm1.conv1x1"));
  activate ("channel.select", "i", 5);
  wait_frames (GTK_WIDGET (window), 3);
  g_assert_true (gtk_widget_get_mapped (module));
  g_assert_false (gtk_widget_get_mapped (grid));
  g_assert_cmpint (scope_figure_view_get_channel (SCOPE_FIGURE_VIEW (module)), ==, 5);
  screenshot (GTK_WIDGET (window), "4b-window-filters-module", 20.0, 100);
  /* A row chosen in the module selects that channel in the window, and so in every view. */
  scope_figure_view_set_channel (SCOPE_FIGURE_VIEW (module), 12);
  g_assert_cmpint (scope_window_get_channel (window), ==, 12);
  GtkWidget *activations = find_descendant (GTK_WIDGET (window), SCOPE_TYPE_ACTIVATIONS_VIEW);
  g_assert_cmpint (scope_view_get_channel (SCOPE_VIEW (activations)), ==, 12);
  g_autofree char *module_png = g_build_filename (shot_dir, "export-module.png", NULL);
  g_autoptr (GFile) module_file = g_file_new_for_path (module_png);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_window_export (window, module_file, &error));
  g_assert_no_error (error);
  /* The predefined conv of the module shows its kernels as a plain grid. */
  activate ("layer.select", "i", find_node ("layer2.0.pfm1.predefined"));
  wait_frames (GTK_WIDGET (window), 3);
  g_assert_true (gtk_widget_get_mapped (grid));

  /* A batch norm has no filters: the view's status page instead of the grid, and nothing to
   * export. */
  activate ("layer.select", "i", find_node ("layer2.0.pfm1.norm2"));
  wait_frames (GTK_WIDGET (window), 3);
  g_assert_false (gtk_widget_get_mapped (grid));
  g_assert_true (gtk_widget_get_mapped (status));
  g_assert_false (scope_view_get_can_export (SCOPE_VIEW (view)));
  /* It says which layers have filters: how many convolutions, and the nearest two. */
  const NnGraph *graph = window_graph ();
  int norm = find_node ("layer2.0.pfm1.norm2"), n_convs = 0, above = -1, below = -1;
  for (int i = 0; i < graph->n_nodes; i++)
    if (graph->nodes[i].op == NN_OP_CONV2D)
      {
        n_convs++;
        if (i < norm)
          above = i;
        else if (below < 0)
          below = i;
      }
  g_assert_cmpint (above, >=, 0);
  g_assert_cmpint (below, >, norm);
  const char *description = adw_status_page_get_description (ADW_STATUS_PAGE (status));
  g_test_message ("status: %s", description);
  g_assert_nonnull (strstr (description, "layer2.0.pfm1.norm2"));
  g_autofree char *count = g_strdup_printf ("%d layers", n_convs);
  g_autofree char *nearest = g_strdup_printf ("<b>%s</b> (above) and <b>%s</b> (below)",
                                              graph->nodes[above].name,
                                              graph->nodes[below].name);
  g_assert_nonnull (strstr (description, count));
  g_assert_nonnull (strstr (description, nearest));
  screenshot (GTK_WIDGET (window), "5-window-filters-none", 3.0, 20);

  activate ("layer.select", "i", find_node ("conv1.predefined"));
  wait_frames (GTK_WIDGET (window), 3);
  g_assert_true (gtk_widget_get_mapped (grid));
  g_assert_false (gtk_widget_get_mapped (status));
}

static char *
read_head (const char *path,
           gsize      *length)
{
  char *contents = NULL;
  g_autoptr (GError) error = NULL;
  g_assert_true (g_file_get_contents (path, &contents, length, &error));
  g_assert_no_error (error);
  return contents;
}

static void
check_png (const char *path,
           int         width,
           int         height)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) texture = gdk_texture_new_from_filename (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, width);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, height);
  UiUtilPixelStats stats = ui_util_texture_stats (texture);
  g_test_message ("%s: luma mean %.1f sd %.1f, %u colours", path, stats.mean, stats.stddev,
                  stats.colours);
  g_assert_cmpfloat (stats.stddev, >, 20.0);
  g_assert_cmpuint (stats.colours, >=, 50);
}

static void
test_export (void)
{
  /* The Filters view showing conv1.predefined. */
  activate ("view.show", "s", "filters");
  activate ("layer.select", "i", find_node ("conv1.predefined"));
  wait_frames (GTK_WIDGET (window), 3);
  g_autofree char *filters_png = g_build_filename (shot_dir, "export-filters.png", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (filters_png);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_window_export (window, file, &error));
  g_assert_no_error (error);
  check_png (filters_png, 1200, 750);
  g_assert_cmpstr (scope_window_get_message (window), ==, "Exported export-filters.png");

  activate ("view.show", "s", "activations");
  const char *names[] = { "export-activations.png", "export-activations.svg",
                          "export-activations.pdf" };
  const char *heads[] = { "\x89PNG", "<?xml", "%PDF" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (shot_dir, names[i], NULL);
      g_autoptr (GFile) out = g_file_new_for_path (path);
      g_assert_true (scope_window_export (window, out, &error));
      g_assert_no_error (error);
      gsize length;
      g_autofree char *contents = read_head (path, &length);
      g_assert_cmpuint (length, >, 1000);
      g_assert_true (g_str_has_prefix (contents, heads[i]));
      if (i == 1)
        g_assert_nonnull (strstr (contents, "<svg"));
    }
  g_autofree char *png = g_build_filename (shot_dir, names[0], NULL);
  check_png (png, 1200, 750);

  /* Failures are errors naming the file, not crashes. */
  g_autoptr (GFile) bad_type = g_file_new_for_path ("/tmp/figure.bmp");
  g_assert_false (scope_window_export (window, bad_type, &error));
  g_assert_nonnull (error);
  g_test_message ("export to .bmp: %s", error->message);
  g_clear_error (&error);
  g_autoptr (GFile) bad_dir = g_file_new_for_path ("/nonexistent-folder/figure.png");
  g_assert_false (scope_window_export (window, bad_dir, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent-folder/figure.png"));
}

/* Opens an image with the window's model and waits for its activations. */
static void
open_image (const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_assert_true (scope_window_open (window, NULL, file));
  test_util_wait (activations_delivered, NULL, "activations of the opened image");
  g_autofree char *name = g_path_get_basename (path);
  g_assert_cmpstr (scope_activations_get_input_name (scope_window_get_activations (window)), ==,
                   name);
}

static void
test_bad_files (void)
{
  g_autofree char *tmp = test_util_make_tmp_dir ();
  g_autofree char *bad_model = g_build_filename (tmp, "broken.safetensors", NULL);
  g_autofree char *bad_image = g_build_filename (tmp, "broken.png", NULL);
  test_util_write_file (bad_model, "not a model at all", 18);
  test_util_write_file (bad_image, "\x89PNG\r\n\x1a\n truncated", 19);
  ScopeActivations *before = scope_window_get_activations (window);
  int layer = scope_window_get_layer (window);

  /* The engine thread reads the files; the errors come back as toasts naming the file. */
  g_autoptr (GFile) model_file = g_file_new_for_path (bad_model);
  g_assert_true (scope_window_open (window, model_file, NULL));
  test_util_wait (error_mentions, (gpointer) "broken.safetensors",
                  "an error message naming the file");
  g_test_message ("bad model: %s", scope_window_get_error_message (window));

  g_autoptr (GFile) image_file = g_file_new_for_path (bad_image);
  g_assert_true (scope_window_open (window, NULL, image_file));
  test_util_wait (error_mentions, (gpointer) "broken.png", "an error message naming the file");
  g_test_message ("bad image: %s", scope_window_get_error_message (window));
  test_util_wait (activations_delivered, NULL, "activations of the opened files");

  /* The window keeps what it had, and keeps working. */
  g_assert_true (scope_window_get_activations (window) == before);
  g_assert_cmpint (scope_window_get_layer (window), ==, layer);
  g_autofree char *data = g_strdup (g_getenv ("CNNSCOPE_DATA_DIR"));
  g_autofree char *sneaker = g_build_filename (data, "samples", "fashion-sneaker.png", NULL);
  g_autoptr (GFile) sneaker_file = g_file_new_for_path (sneaker);
  g_assert_true (scope_window_open (window, NULL, sneaker_file));
  test_util_wait (activations_delivered, NULL, "activations of the opened files");
  ScopeActivations *after = scope_window_get_activations (window);
  g_assert_true (after != before);
  g_assert_cmpstr (scope_activations_get_input_name (after), ==, "fashion-sneaker.png");
  g_assert_cmpint (scope_activations_get_top_class (after, NULL), ==, 7);
  g_assert_cmpint (scope_window_get_layer (window), ==, layer);
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "6-window-sneaker", 20.0, 200);
  test_util_remove_tree (tmp);
}

typedef struct
{
  ScopeExplainView *view;
  int               panels;
} ExplainWait;

/* Every panel has its map and all its metrics, and no job runs. */
static gboolean
explain_done (gpointer data)
{
  const ExplainWait *wait = data;
  if (scope_view_get_busy (SCOPE_VIEW (wait->view)))
    return FALSE;
  for (int p = 0; p < wait->panels; p++)
    {
      ScopeExplainMetrics *m = scope_explain_view_get_metrics (wait->view, p);
      if (scope_explain_view_get_explanation (wait->view, p) == NULL || m == NULL
          || !(m->has & NN_FAITH_RANDOMIZATION))
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  ScopeExplainView *view;
  gboolean          want;
} MaskWait;

static gboolean
mask_is (gpointer data)
{
  const MaskWait *wait = data;
  return !scope_window_is_busy (window) && scope_explain_view_has_mask (wait->view) == wait->want;
}

/* Every page of the view stack, each a ScopeView; to g_ptr_array_unref. */
static GPtrArray *
window_views (void)
{
  AdwViewStack *stack = ADW_VIEW_STACK (find_descendant (GTK_WIDGET (window),
                                                         ADW_TYPE_VIEW_STACK));
  g_autoptr (GtkSelectionModel) pages = adw_view_stack_get_pages (stack);
  GPtrArray *all = g_ptr_array_new ();
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (pages)); i++)
    {
      g_autoptr (AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), i);
      GtkWidget *child = adw_view_stack_page_get_child (page);
      g_assert_true (SCOPE_IS_VIEW (child));
      g_ptr_array_add (all, child);
    }
  return all;
}

/* Training. */

typedef struct
{
  ScopeTrainView *view;
  guint           steps;
} TrainWait;

static gboolean
train_has_steps (gpointer data)
{
  TrainWait *w = data;
  return scope_train_chart_get_n_steps (scope_train_view_get_chart (w->view)) >= w->steps;
}

static gboolean
train_paused (gpointer data)
{
  return scope_train_view_get_state (SCOPE_TRAIN_VIEW (data)) == SCOPE_TRAIN_PAUSED;
}

static gboolean
train_has_confusion (gpointer data)
{
  return scope_train_chart_has_confusion (scope_train_view_get_chart (SCOPE_TRAIN_VIEW (data)));
}

/* The window shows activations of the training run's newest weights. */
static gboolean
following_training (gpointer data)
{
  ScopeActivations *act = scope_window_get_activations (window);
  return act != NULL && scope_activations_get_model (act)
                        == scope_train_view_get_snapshot (SCOPE_TRAIN_VIEW (data))
         && !scope_window_is_busy (window);
}

static void
test_train (void)
{
  ScopeTrainView *view = SCOPE_TRAIN_VIEW (find_descendant (GTK_WIDGET (window),
                                                            SCOPE_TYPE_TRAIN_VIEW));
  g_assert_nonnull (view);
  activate ("view.show", "s", "train");
  wait_frames (GTK_WIDGET (window), 3);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (view)));
  g_assert_cmpint (scope_train_view_get_state (view), ==, SCOPE_TRAIN_IDLE);

  /* The small CNN on 100 Fashion-MNIST images per class, batch 32: 31 steps an epoch; more
   * epochs than the test waits for, so that it is still running when paused and stopped. */
  ScopeTrainSettings s;
  scope_train_settings_init (&s);
  s.per_class = 100;
  s.batch = 32;
  s.epochs = 40;
  s.lr = 0.02;
  scope_train_view_set_settings (view, &s);
  ScopeTrainSettings read;
  scope_train_view_get_settings (view, &read);
  g_assert_cmpstr (read.dataset, ==, "fashion-mnist");
  g_assert_cmpstr (read.arch, ==, "smallcnn");
  g_assert_cmpint (read.per_class, ==, 100);
  g_assert_cmpint (read.batch, ==, 32);
  g_assert_cmpstr (read.policy, ==, "exact");

  /* Defect 10: Pause turning into Resume moves nothing (checked when paused below). */
  GtkWidget *pause_button = find_named (GTK_WIDGET (view), "pause-button");
  graphene_rect_t pause_bounds = bounds_in_window (pause_button);

  scope_window_set_frame_timing (window, TRUE);
  ScopeFrameTimer *timer = scope_window_get_frame_timer (window);
  g_assert_nonnull (timer);
  g_assert_true (press (GTK_WIDGET (window), "<Control>t"));
  g_assert_true (scope_train_state_is_active (scope_train_view_get_state (view)));

  /* Progress arrives while the user browses: the Train view, then the Filters and Activations
   * views following the newest weights. */
  TrainWait w = { view, 12 };
  test_util_wait (train_has_steps, &w, "training steps");
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "9-window-train-running", 20.0, 100);
  activate ("view.show", "s", "filters");
  activate ("layer.select", "i", 1);
  test_util_wait (following_training, view, "activations of the newest training weights");
  g_assert_nonnull (strstr (gtk_window_get_title (GTK_WINDOW (window)), "smallcnn"));
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "10-window-filters-training", 20.0, 50);
  activate ("view.show", "s", "activations");
  w.steps = scope_train_chart_get_n_steps (scope_train_view_get_chart (view)) + 4;
  test_util_wait (train_has_steps, &w, "training steps");
  test_util_wait (following_training, view, "activations of the newest training weights");
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "11-window-activations-training", 20.0, 100);
  activate ("view.show", "s", "train");

  /* Pause holds it; resume goes on; the first epoch's confusion matrix arrives. */
  gtk_widget_activate_action (GTK_WIDGET (view), "train.pause", NULL);
  test_util_wait (train_paused, view, "the training to pause");
  guint held = scope_train_chart_get_n_steps (scope_train_view_get_chart (view));
  wait_frames (GTK_WIDGET (window), 10);
  graphene_rect_t paused_bounds = bounds_in_window (pause_button);
  assert_same_bounds (&pause_bounds, &paused_bounds, "the Pause button as Resume");
  g_assert_cmpuint (scope_train_chart_get_n_steps (scope_train_view_get_chart (view)), ==, held);

  /* Every view follows the run's weights, the Explain view too: shown while the run is
   * paused, it explains the input with them (at the small CNN's own default layer). */
  ScopeExplainView *explain = SCOPE_EXPLAIN_VIEW (find_descendant (GTK_WIDGET (window),
                                                                   SCOPE_TYPE_EXPLAIN_VIEW));
  activate ("view.show", "s", "explain");
  ExplainWait explained = { explain, 1 };
  test_util_wait (explain_done, &explained, "the explanation with the trained weights");
  test_util_wait (following_training, view, "activations of the newest training weights");
  ScopeModel *trained_model = scope_train_view_get_snapshot (view);
  g_autoptr (GPtrArray) views = window_views ();
  for (guint i = 0; i < views->len; i++)
    g_assert_true (scope_view_get_model (views->pdata[i]) == trained_model);
  ScopeExplanation *e = scope_explain_view_get_explanation (explain, 0);
  g_assert_cmpint (e->map->layer, ==, nn_explain_default_layer (scope_model_get_graph (
                                                                  trained_model)));
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "12a-window-explain-training", 20.0, 100);
  activate ("view.show", "s", "train");
  gtk_widget_activate_action (GTK_WIDGET (view), "train.resume", NULL);
  test_util_wait (train_has_confusion, view, "the first epoch's confusion matrix");
  w.steps = MAX (40, held + 2);
  test_util_wait (train_has_steps, &w, "training steps after resuming");
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "12-window-train-epoch", 20.0, 100);
  g_assert_cmpuint (scope_train_chart_get_n_epochs (scope_train_view_get_chart (view)), >=, 1);
  /* The clinical metrics of the epoch, as eval reports them: a row per class and the means. */
  const char *metrics = scope_train_view_get_metrics_text (view);
  g_assert_nonnull (metrics);
  g_test_message ("metrics after the first epoch:\n%s", metrics);
  g_assert_nonnull (strstr (metrics, "sens."));
  g_assert_nonnull (strstr (metrics, "AUC"));
  g_assert_nonnull (strstr (metrics, "\nTrouser "));
  g_assert_nonnull (strstr (metrics, "\nmean "));

  /* The main thread's work per frame while it trained. */
  g_autofree char *stats = scope_frame_timer_format (timer);
  g_test_message ("frame timing during training: %s", stats);
  g_assert_cmpuint (scope_frame_timer_get_n_frames (timer), >, 10);

  /* Stop is prompt. */
  gint64 start = g_get_monotonic_time ();
  gtk_widget_activate_action (GTK_WIDGET (view), "train.stop", NULL);
  gint64 took = g_get_monotonic_time () - start;
  g_test_message ("stopping the training took %.1f ms", took / 1000.0);
  g_assert_cmpint (took, <, TEST_UTIL_PROMPT_US);
  g_assert_cmpint (scope_train_view_get_state (view), ==, SCOPE_TRAIN_STOPPED);
  scope_window_set_frame_timing (window, FALSE);

  /* Defect 2: the views and Save have the weights it stopped on, whose metadata says how far
   * it got (not the 40 epochs asked for) and claims no test accuracy for them. */
  ScopeModel *final = scope_train_view_get_snapshot (view);
  g_assert_nonnull (strstr (scope_model_get_name (final), "stopped at step"));
  const NnModel *final_nn = scope_model_get_nn_model (final);
  g_assert_nonnull (strstr (final_nn->command, "stopped at step"));
  g_assert_nonnull (strstr (final_nn->command, "of 40 epochs"));
  g_test_message ("stopped: %s, test accuracy %g", final_nn->command, final_nn->test_accuracy);
  if (strstr (final_nn->command, "not measured") != NULL)
    g_assert_cmpfloat (final_nn->test_accuracy, <, 0.0);
  test_util_wait (following_training, view, "activations of the weights it stopped on");
  g_assert_true (scope_window_get_model (window) == final);

  /* Export the curves; save the model and read it back. */
  g_autofree char *png = g_build_filename (shot_dir, "export-train.png", NULL);
  g_autoptr (GFile) png_file = g_file_new_for_path (png);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_window_export (window, png_file, &error));
  g_assert_no_error (error);
  check_png (png, 1200, 750);
  g_autofree char *saved = g_build_filename (shot_dir, "trained-smallcnn.safetensors", NULL);
  g_autoptr (GFile) saved_file = g_file_new_for_path (saved);
  g_assert_true (scope_train_view_save_model (view, saved_file, &error));
  g_assert_no_error (error);
  NnError err = { 0 };
  NnModel *back = nn_model_load (saved, &err);
  g_assert_nonnull (back);
  const NnModel *trained = scope_model_get_nn_model (scope_train_view_get_snapshot (view));
  g_assert_cmpstr (back->arch, ==, "smallcnn");
  g_assert_cmpstr (back->command, ==, final_nn->command);
  g_assert_cmpfloat (back->test_accuracy, ==, final_nn->test_accuracy);
  g_assert_cmpstr (back->labels[9], ==, trained->labels[9]);
  test_util_assert_close (back->graph->data, trained->graph->data, trained->graph->n_data, 0.0,
                          "saved weights");
  nn_model_free (back);
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "13-window-train-stopped", 20.0, 100);
}

/* The Maximize view. */

static gboolean
maximize_stopped (gpointer data)
{
  return !scope_maximize_view_is_running (SCOPE_MAXIMIZE_VIEW (data));
}

static gboolean
maximize_has_image (gpointer data)
{
  return scope_maximize_view_get_n_images (SCOPE_MAXIMIZE_VIEW (data)) >= 2;
}

static gboolean
maximize_has_tile (gpointer data)
{
  return scope_maximize_view_get_n_tiles_done (SCOPE_MAXIMIZE_VIEW (data), NULL) >= 1;
}

static gboolean
progress_moved (gpointer data)
{
  return gtk_progress_bar_get_fraction (data) > 0.0;
}

static void
stop_maximize (ScopeMaximizeView *view)
{
  gint64 start = g_get_monotonic_time ();
  gtk_widget_activate_action (GTK_WIDGET (view), "maximize.stop", NULL);
  gint64 took = g_get_monotonic_time () - start;
  g_test_message ("stopping activation maximization took %.1f ms", took / 1000.0);
  g_assert_cmpint (took, <, TEST_UTIL_PROMPT_US);
  g_assert_false (scope_maximize_view_is_running (view));
}

static void
test_maximize (void)
{
  ScopeMaximizeView *view = SCOPE_MAXIMIZE_VIEW (find_descendant (GTK_WIDGET (window),
                                                                  SCOPE_TYPE_MAXIMIZE_VIEW));
  g_assert_nonnull (view);
  int old_layer = scope_window_get_layer (window), old_channel = scope_window_get_channel (window);
  activate ("view.show", "s", "maximize");
  wait_frames (GTK_WIDGET (window), 3);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (view)));
  g_assert_cmpint (scope_maximize_view_get_mode (view), ==, SCOPE_MAXIMIZE_NONE);
  /* Before a first run a status page says what to do. */
  GtkWidget *empty = find_named (GTK_WIDGET (view), "maximize-empty");
  g_assert_true (gtk_widget_get_mapped (empty));
  screenshot (GTK_WIDGET (view), "maximize-empty", 5.0, 10);

  /* The view follows the sidebar's layer and channel. */
  int node = find_node ("layer1.0.add");
  activate ("layer.select", "i", node);
  activate ("channel.select", "i", 3);
  NnAmSettings s;
  scope_maximize_view_get_settings (view, &s);
  g_assert_cmpint (s.layer, ==, node);
  g_assert_cmpint (s.n_channels, ==, 1);
  g_assert_cmpint (s.channels[0], ==, 3);
  g_assert_cmpint (s.objective, ==, NN_AM_OBJECTIVE_MEAN);
  /* Or a class logit. */
  scope_maximize_view_set_class (view, 9);
  NnAmSettings logit;
  scope_maximize_view_get_settings (view, &logit);
  g_assert_cmpint (logit.layer, ==, -1);
  g_assert_cmpint (logit.objective, ==, NN_AM_OBJECTIVE_LOGIT);
  g_assert_cmpint (logit.channels[0], ==, 9);
  scope_maximize_view_set_class (view, -1);
  scope_maximize_view_get_settings (view, &s);
  g_assert_cmpint (s.layer, ==, node);
  g_assert_cmpint (s.channels[0], ==, 3);

  /* A long run, live: the image updates at least 10 times a second while the window draws;
   * stop is prompt. */
  s.steps = NN_AM_MAX_STEPS;
  s.transforms = NN_AM_TRANSFORM_JITTER;
  scope_maximize_view_set_settings (view, &s);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "maximize.run", NULL));
  wait_frames (GTK_WIDGET (window), 2);
  g_assert_false (gtk_widget_get_mapped (empty));
  g_assert_true (scope_maximize_view_is_running (view));
  test_util_wait (maximize_has_image, view, "images of the live run");
  scope_window_set_frame_timing (window, TRUE);
  ScopeFrameTimer *timer = scope_window_get_frame_timer (window);
  guint before = scope_maximize_view_get_n_images (view);
  int first_step = scope_maximize_view_get_result (view, 0)->step;
  gint64 t0 = g_get_monotonic_time ();
  test_util_run_for (2.0);
  double seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  double rate = (scope_maximize_view_get_n_images (view) - before) / seconds;
  double fps = scope_frame_timer_get_n_frames (timer) / seconds;
  int steps = scope_maximize_view_get_result (view, 0)->step - first_step;
  double step_s = seconds / MAX (steps, 1);
  double paced = 1.0 / ((double) SCOPE_AM_JOB_INTERVAL_US / G_USEC_PER_SEC + step_s);
  g_autofree char *stats = scope_frame_timer_format (timer);
  g_test_message ("Maximize view: %.1f image updates per second over %.2f s (%.1f ms an AM "
                  "step); the window drew %.1f frames per second (%s)", rate, seconds,
                  1000.0 * step_s, fps, stats);
  scope_window_set_frame_timing (window, FALSE);
  /* A new image on nearly every frame the window draws, and at least 10 a second whenever it
   * draws at least 12.5 frames a second (a software GL renderer on a loaded machine may not)
   * and the steps allow it: each image waits for the step that ends its interval, which under
   * sanitizers on a loaded machine may take longer. */
  g_assert_cmpfloat (rate, >=, MIN (MIN (10.0, 0.75 * fps), 0.5 * paced));
  /* Screenshots take what the window last drew: an image that arrived since then left
   * nothing drawn. */
  wait_frames (GTK_WIDGET (window), 1);
  screenshot (GTK_WIDGET (window), "14-window-maximize-live", 20.0, 100);
  stop_maximize (view);

  /* A short run to its end: the objective rose. */
  s.steps = 300;
  scope_maximize_view_set_settings (view, &s);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "maximize.run", NULL));
  test_util_wait (maximize_stopped, view, "activation maximization to end");
  ScopeAmResult *r = scope_maximize_view_get_result (view, 0);
  g_assert_nonnull (r);
  g_assert_true (r->done);
  g_assert_cmpint (r->n_history, ==, 301);
  g_assert_cmpfloat (r->objectives[0], >, r->history[0]);
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "15-window-maximize-run", 20.0, 100);

  /* Plain and ProxyGrad from the same start, side by side, with their final values. */
  s.policy = (NnGradPolicy) { NN_GRAD_PROXY, 0.3f };
  scope_maximize_view_set_settings (view, &s);
  g_assert_true (press (GTK_WIDGET (window), "<Shift><Control>Return"));
  g_assert_cmpint (scope_maximize_view_get_mode (view), ==, SCOPE_MAXIMIZE_COMPARE);
  test_util_wait (maximize_stopped, view, "activation maximization to end");
  ScopeAmResult *plain = scope_maximize_view_get_result (view, 0);
  ScopeAmResult *proxy = scope_maximize_view_get_result (view, 1);
  g_assert_nonnull (plain);
  g_assert_nonnull (proxy);
  g_assert_true (plain->done && proxy->done);
  g_assert_cmpfloat (plain->history[0], ==, proxy->history[0]);
  g_assert_true (isfinite (plain->objectives[0]) && isfinite (proxy->objectives[0]));
  g_test_message ("compare, layer1.0.add channel 3, 300 steps: exact %.4f, proxygrad:0.3 %.4f",
                  plain->objectives[0], proxy->objectives[0]);
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "16-window-maximize-compare", 20.0, 100);
  g_autofree char *png = g_build_filename (shot_dir, "export-maximize-compare.png", NULL);
  g_autoptr (GFile) png_file = g_file_new_for_path (png);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_window_export (window, png_file, &error));
  g_assert_no_error (error);
  check_png (png, 1200, 800);

  /* All 16 channels of the first block's output: cancelled while the first batch runs, then
   * run to the end. */
  activate ("layer.select", "i", find_node ("layer1.0.relu2"));
  s.policy = (NnGradPolicy) { NN_GRAD_EXACT, 0.0f };
  s.steps = 20000;
  scope_maximize_view_set_settings (view, &s);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "maximize.all-channels", NULL));
  g_assert_cmpint (scope_maximize_view_get_mode (view), ==, SCOPE_MAXIMIZE_ALL);
  int n_tiles = 0;
  g_assert_cmpint (scope_maximize_view_get_n_tiles_done (view, &n_tiles), ==, 0);
  g_assert_cmpint (n_tiles, ==, 16);
  /* Defect 11: the progress moves with the steps of the first batch, before it ends. */
  GtkProgressBar *progress = GTK_PROGRESS_BAR (find_named (GTK_WIDGET (view),
                                                           "maximize-progress"));
  test_util_wait (progress_moved, progress, "the progress to move in the first batch");
  g_assert_cmpint (scope_maximize_view_get_n_tiles_done (view, NULL), ==, 0);
  g_test_message ("progress %s before a batch finished", gtk_progress_bar_get_text (progress));
  stop_maximize (view);
  g_assert_cmpint (scope_maximize_view_get_n_tiles_done (view, NULL), <, 16);
  /* The half-optimized images of the stopped batch are marked. */
  g_autofree char *label = scope_maximize_view_get_tile_label (view, 0);
  g_test_message ("tile 0 after Stop: %s", label);
  g_assert_cmpstr (label, ==, "0 unfinished");
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "17a-window-maximize-all-stopped", 20.0, 50);
  s.steps = 150;
  scope_maximize_view_set_settings (view, &s);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "maximize.all-channels", NULL));
  test_util_wait (maximize_has_tile, view, "the first finished tile");
  test_util_wait (maximize_stopped, view, "activation maximization to end");
  g_assert_cmpint (scope_maximize_view_get_n_tiles_done (view, &n_tiles), ==, 16);
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "17-window-maximize-all", 20.0, 100);
  g_autofree char *grid_png = g_build_filename (shot_dir, "export-maximize-all.png", NULL);
  g_autoptr (GFile) grid_file = g_file_new_for_path (grid_png);
  g_assert_true (scope_window_export (window, grid_file, &error));
  g_assert_no_error (error);
  check_png (grid_png, 1200, 800);
  /* The same figure as SVG and PDF. */
  const char *const vector[][2] = { { "svg", "<svg" }, { "pdf", "%PDF-" } };
  for (gsize i = 0; i < G_N_ELEMENTS (vector); i++)
    {
      g_autofree char *name = g_strdup_printf ("export-maximize-all.%s", vector[i][0]);
      g_autofree char *path = g_build_filename (shot_dir, name, NULL);
      g_autoptr (GFile) file = g_file_new_for_path (path);
      g_assert_true (scope_window_export (window, file, &error));
      g_assert_no_error (error);
      g_autofree char *bytes = NULL;
      gsize length = 0;
      g_assert_true (g_file_get_contents (path, &bytes, &length, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (length, >, 1000);
      g_assert_nonnull (g_strstr_len (bytes, MIN (length, 400), vector[i][1]));
    }
  g_assert_null (scope_window_get_error_message (window));

  activate ("view.show", "s", "activations");
  activate ("layer.select", "i", old_layer);
  activate ("channel.select", "i", old_channel);
}

/* The views on their base type. */

static gboolean
can_export (void)
{
  gboolean can;
  g_object_get (window, "can-export", &can, NULL);
  return can;
}

static void
test_views (void)
{
  /* The template binds the window's state to every view. */
  g_autoptr (GPtrArray) views = window_views ();
  g_assert_cmpuint (views->len, ==, 8);
  int node = find_node ("layer1.0.add");
  activate ("layer.select", "i", node);
  activate ("channel.select", "i", 3);
  for (guint i = 0; i < views->len; i++)
    {
      ScopeView *view = views->pdata[i];
      g_assert_true (scope_view_get_model (view) == scope_window_get_model (window));
      g_assert_nonnull (scope_view_get_input (view));
      g_assert_true (scope_view_get_input (view) == scope_window_get_input (window));
      g_assert_true (scope_view_get_activations (view) == scope_window_get_activations (window));
      g_assert_cmpint (scope_view_get_layer (view), ==, node);
      g_assert_cmpint (scope_view_get_channel (view), ==, 3);
    }
  /* A view choosing a channel chooses it in the window, and so in every other view. */
  scope_view_set_channel (views->pdata[0], 5);
  g_assert_cmpint (scope_window_get_channel (window), ==, 5);
  for (guint i = 0; i < views->len; i++)
    g_assert_cmpint (scope_view_get_channel (views->pdata[i]), ==, 5);

  /* Export goes to the visible view: the Train view has nothing before a run, the Activations
   * view has its figure. */
  activate ("view.show", "s", "train");
  g_assert_false (can_export ());
  g_autofree char *path = g_build_filename (shot_dir, "export-views.png", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;
  g_assert_false (scope_window_export (window, file, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_test_message ("export of the Train view before a run: %s", error->message);
  g_clear_error (&error);
  activate ("view.show", "s", "activations");
  g_assert_true (can_export ());
  g_assert_true (scope_window_export (window, file, &error));
  g_assert_no_error (error);
  check_png (path, 1200, 750);

  /* Busy and cancel go to the visible view: a long activation maximization makes the window
   * busy while its view shows (Ctrl+Return shows Maximize and runs it), and Escape (view.cancel)
   * stops it at once. */
  ScopeMaximizeView *maximize = SCOPE_MAXIMIZE_VIEW (find_descendant (GTK_WIDGET (window),
                                                                      SCOPE_TYPE_MAXIMIZE_VIEW));
  NnAmSettings s;
  scope_maximize_view_get_settings (maximize, &s);
  s.steps = NN_AM_MAX_STEPS;
  scope_maximize_view_set_settings (maximize, &s);
  AdwViewStack *stack = ADW_VIEW_STACK (find_descendant (GTK_WIDGET (window),
                                                         ADW_TYPE_VIEW_STACK));
  activate ("view.show", "s", "activations");
  g_assert_true (press (GTK_WIDGET (window), "<Control>Return"));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (stack), ==, "maximize");
  g_assert_true (scope_maximize_view_is_running (maximize));
  test_util_wait (maximize_has_image, maximize, "images of the live run");
  g_assert_true (scope_view_get_busy (SCOPE_VIEW (maximize)));
  g_assert_true (scope_window_is_busy (window));
  activate ("view.show", "s", "activations");
  g_assert_false (scope_window_is_busy (window));
  g_assert_true (scope_maximize_view_is_running (maximize));
  activate ("view.show", "s", "maximize");
  gtk_root_set_focus (GTK_ROOT (window), NULL);
  gint64 start = g_get_monotonic_time ();
  g_assert_true (press (GTK_WIDGET (window), "Escape"));
  gint64 took = g_get_monotonic_time () - start;
  g_test_message ("cancelling the visible view took %.1f ms", took / 1000.0);
  g_assert_cmpint (took, <, TEST_UTIL_PROMPT_US);
  g_assert_false (scope_maximize_view_is_running (maximize));
  g_assert_false (scope_view_get_busy (SCOPE_VIEW (maximize)));
  g_assert_false (scope_window_is_busy (window));
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "18-window-maximize-cancelled", 20.0, 100);
}

/* Files dropped on the window: a model, then an image, as the drop target delivers them. */
static void
test_drop (void)
{
  GtkDropTarget *target = NULL;
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (window));
  for (guint i = 0; i < g_list_model_get_n_items (controllers) && target == NULL; i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);
      if (GTK_IS_DROP_TARGET (controller))
        target = GTK_DROP_TARGET (controller);
    }
  g_assert_nonnull (target);

  /* A third file among the recent ones, before the drops. */
  g_autofree char *data = g_strdup (g_getenv ("CNNSCOPE_DATA_DIR"));
  g_autofree char *sneaker = g_build_filename (data, "samples", "fashion-sneaker.png", NULL);
  open_image (sneaker);

  const char *names[] = { "demo-pfnet-fashion.safetensors", "samples/fashion-bag.png" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (data, names[i], NULL);
      GValue value = G_VALUE_INIT;
      g_value_init (&value, G_TYPE_FILE);
      g_value_take_object (&value, g_file_new_for_path (path));
      gboolean accepted = FALSE;
      g_signal_emit_by_name (target, "drop", &value, 20.0, 20.0, &accepted);
      g_value_unset (&value);
      g_assert_true (accepted);
    }
  test_util_wait (activations_delivered, NULL, "activations of the opened files");
  ScopeActivations *act = scope_window_get_activations (window);
  g_assert_cmpstr (scope_model_get_name (scope_activations_get_model (act)), ==,
                   "demo-pfnet-fashion.safetensors");
  g_assert_cmpstr (scope_activations_get_input_name (act), ==, "fashion-bag.png");
  g_assert_cmpint (scope_activations_get_top_class (act, NULL), ==, 8);

  /* Both are the newest recent files, and one opens again from there. */
  GSettings *settings = scope_application_get_settings (app);
  g_assert_nonnull (settings);
  g_auto (GStrv) recent = g_settings_get_strv (settings, "recent-files");
  g_assert_cmpuint (g_strv_length (recent), >=, 3);
  g_assert_true (g_str_has_suffix (recent[0], "fashion-bag.png"));
  g_assert_true (g_str_has_suffix (recent[1], "demo-pfnet-fashion.safetensors"));
  g_assert_true (g_strv_contains ((const char *const *) recent, sneaker));
  activate ("file.open-recent", "s", sneaker);
  test_util_wait (activations_delivered, NULL, "activations of the opened files");
  act = scope_window_get_activations (window);
  g_assert_cmpstr (scope_activations_get_input_name (act), ==, "fashion-sneaker.png");
  g_auto (GStrv) after = g_settings_get_strv (settings, "recent-files");
  g_assert_cmpstr (after[0], ==, sneaker);
  g_assert_cmpuint (g_strv_length (after), ==, g_strv_length (recent));
}

/* The detailed action name of the window's key `trigger`. */
static char *
key_action (const char *trigger)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (window));
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);
      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint k = 0; k < g_list_model_get_n_items (G_LIST_MODEL (controller)); k++)
        {
          g_autoptr (GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller),
                                                                    k);
          g_autofree char *text = gtk_shortcut_trigger_to_string (
            gtk_shortcut_get_trigger (shortcut));
          GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);
          if (g_strcmp0 (text, trigger) == 0 && GTK_IS_NAMED_ACTION (action))
            return g_strdup (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)));
        }
    }
  return NULL;
}

static void
test_shortcuts_and_about (void)
{
  /* Help: F1 opens the user guide, this tree's docs/app.md (not opened here: no browser). */
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "help"));
  g_autofree char *help_key = key_action ("F1");
  g_assert_cmpstr (help_key, ==, "app.help");
  g_autofree char *uri = scope_application_get_help_uri ();
  g_autofree char *path = g_filename_from_uri (uri, NULL, NULL);
  g_assert_nonnull (path);
  g_assert_true (g_str_has_suffix (path, "/docs/app.md"));
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  activate ("win.show-help-overlay", NULL);
  GtkWindow *help = find_toplevel (GTK_TYPE_SHORTCUTS_WINDOW);
  g_assert_nonnull (help);
  wait_frames (GTK_WIDGET (help), 3);
  screenshot (GTK_WIDGET (help), "7-shortcuts", 5.0, 20);
  gtk_window_close (help);

  g_action_group_activate_action (G_ACTION_GROUP (app), "about", NULL);
  GtkWindow *about = find_toplevel (ADW_TYPE_ABOUT_WINDOW);
  g_assert_nonnull (about);
  wait_frames (GTK_WIDGET (about), 3);
  screenshot (GTK_WIDGET (about), "8-about", 5.0, 20);
  gtk_window_destroy (about);
}

/* A method of nn's registry by its name ("gradcam"). */
static int
method_index (const char *name)
{
  NnMethod method;
  g_assert_true (nn_method_from_name (name, &method));
  return (int) method;
}

static void
check_explanation (ScopeExplainView *view,
                   int               panel,
                   int               method,
                   const NnGraph    *graph)
{
  ScopeExplanation *e = scope_explain_view_get_explanation (view, panel);
  g_assert_nonnull (e);
  g_assert_cmpint (e->method, ==, method);
  /* The class defaults to the top prediction, the one the Activations view found (the
   * sneaker, class 7, which test_explain opens). */
  int top = scope_activations_get_top_class (scope_window_get_activations (window), NULL);
  g_assert_cmpint (top, ==, 7);
  g_assert_cmpint (e->map->target, ==, top);
  g_assert_cmpint (e->k, ==, NN_EXPLAIN_TOP_K);
  g_assert_cmpint (e->top_class[0], ==, top);
  double sum = 0.0;
  for (int i = 0; i < e->k; i++)
    {
      sum += e->top_probability[i];
      if (i > 0)
        g_assert_cmpfloat (e->top_probability[i], <=, e->top_probability[i - 1]);
    }
  g_assert_cmpfloat (sum, <=, 1.0 + 1e-5);
  g_assert_cmpfloat (fabs (e->probability - e->top_probability[0]), <, 1e-6);
  g_assert_cmpint (e->map->h, ==, graph->nodes[0].shape.h);
  g_assert_cmpint (e->map->w, ==, graph->nodes[0].shape.w);
  float peak = 0.0f;
  for (int p = 0; p < e->map->h * e->map->w; p++)
    peak = fmaxf (peak, fabsf (e->map->map[p]));
  g_assert_cmpfloat (peak, >, 0.0f);

  ScopeExplainMetrics *m = scope_explain_view_get_metrics (view, panel);
  g_assert_nonnull (m);
  g_assert_cmpuint (m->has & NN_FAITH_MASK, ==, 0);
  g_assert_cmpint (m->deletion.n, ==, 21);
  g_assert_cmpint (m->insertion.n, ==, 21);
  g_assert_cmpfloat (m->deletion.auc, >=, 0.0);
  g_assert_cmpfloat (m->deletion.auc, <=, 1.0);
  g_assert_cmpfloat (m->insertion.auc, >=, 0.0);
  g_assert_cmpfloat (m->insertion.auc, <=, 1.0);
  /* Both curves start from the input's probability (deletion) or end at it (insertion). */
  g_assert_cmpfloat (fabs (m->deletion.prob[0] - e->probability), <, 1e-4);
  g_assert_cmpfloat (fabs (m->insertion.prob[20] - e->probability), <, 1e-4);
  g_assert_cmpfloat (fabs (m->rho), <=, 1.0);
  g_test_message ("%s: p = %.3f, deletion AUC %.3f, insertion AUC %.3f, ROAD MoRF %.3f LeRF "
                  "%.3f, randomization rho %.3f", nn_method_get_info ((NnMethod) method)->label,
                  e->probability, m->deletion.auc, m->insertion.auc, m->road_morf_mean,
                  m->road_lerf_mean, m->rho);
}

static void
test_explain (void)
{
  g_autofree char *sneaker = g_build_filename (g_getenv ("CNNSCOPE_DATA_DIR"), "samples",
                                               "fashion-sneaker.png", NULL);
  open_image (sneaker);
  const NnGraph *graph = window_graph ();
  activate ("view.show", "s", "explain");
  ScopeExplainView *view = SCOPE_EXPLAIN_VIEW (find_descendant (GTK_WIDGET (window),
                                                                SCOPE_TYPE_EXPLAIN_VIEW));
  g_assert_nonnull (view);
  wait_frames (GTK_WIDGET (window), 3);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (view)));
  /* A picture, not a CT slice: no window controls. */
  g_assert_false (scope_explain_view_get_ct_window (view, NULL));
  g_assert_false (gtk_widget_is_visible (find_named (GTK_WIDGET (view), "ct-window")));

  /* Grad-CAM at the last spatial layer for the top class, then its metrics. */
  ExplainWait wait = { view, 1 };
  test_util_wait (explain_done, &wait, "every explanation and its metrics");
  int gradcam = method_index ("gradcam");
  check_explanation (view, 0, gradcam, graph);
  ScopeExplanation *e = scope_explain_view_get_explanation (view, 0);
  g_assert_cmpint (e->map->layer, ==, nn_explain_default_layer (graph));
  g_assert_false (e->map->is_signed);
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "9-window-explain", 20.0, 200);
  screenshot (GTK_WIDGET (view), "9-explain-gradcam", 20.0, 200);

  /* Another method, with Grad-CAM beside it. */
  int ig = method_index ("ig");
  scope_explain_view_set_method (view, 0, ig);
  scope_explain_view_set_method (view, 1, gradcam);
  wait.panels = 2;
  test_util_wait (explain_done, &wait, "every explanation and its metrics");
  check_explanation (view, 0, ig, graph);
  check_explanation (view, 1, gradcam, graph);
  g_assert_true (scope_explain_view_get_explanation (view, 0)->map->is_signed);
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (view), "9-explain-compare", 20.0, 200);

  /* The methods in files of their own come through the registry too: LRP beside AblationCAM. */
  int lrp = method_index ("lrp-epsilon-gamma-box"), ablation = method_index ("ablationcam");
  scope_explain_view_set_method (view, 0, lrp);
  scope_explain_view_set_method (view, 1, ablation);
  test_util_wait (explain_done, &wait, "every explanation and its metrics");
  check_explanation (view, 0, lrp, graph);
  check_explanation (view, 1, ablation, graph);
  g_assert_true (scope_explain_view_get_explanation (view, 0)->map->is_signed);
  g_assert_cmpint (scope_explain_view_get_explanation (view, 1)->map->layer, ==,
                   nn_explain_default_layer (graph));

  const char *names[] = { "export-explain.png", "export-explain.svg", "export-explain.pdf" };
  const char *heads[] = { "\x89PNG", "<?xml", "%PDF" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (shot_dir, names[i], NULL);
      g_autoptr (GFile) out = g_file_new_for_path (path);
      g_autoptr (GError) error = NULL;
      g_assert_true (scope_window_export (window, out, &error));
      g_assert_no_error (error);
      gsize length;
      g_autofree char *contents = read_head (path, &length);
      g_assert_cmpuint (length, >, 1000);
      g_assert_true (g_str_has_prefix (contents, heads[i]));
      if (i == 1)
        g_assert_nonnull (strstr (contents, "<svg"));
    }
  g_autofree char *png = g_build_filename (shot_dir, names[0], NULL);
  check_png (png, 1200, 750);

  /* With a mask (the shoe's own pixels, brighter than 0.2, as a PNG of the input's size), the
   * pointing game and the energy share are computed too. */
  NnShape in = graph->nodes[0].shape;
  g_autofree guint8 *mask = g_new (guint8, in.h * in.w);
  NnImage *image = nn_image_load (sneaker, NULL);
  g_assert_nonnull (image);
  g_assert_cmpint (image->h * image->w, ==, in.h * in.w);
  for (int p = 0; p < in.h * in.w; p++)
    {
      mask[p] = image->data[p] > 0.2f;
      image->data[p] = mask[p];
    }
  g_autofree char *mask_path = g_build_filename (shot_dir, "sneaker-mask.png", NULL);
  g_assert_true (nn_image_save_png (image, mask_path, 8, NULL));
  nn_image_free (image);
  g_autoptr (GFile) mask_file = g_file_new_for_path (mask_path);
  wait_frames (GTK_WIDGET (window), 3);
  g_autoptr (GdkTexture) unmasked = ui_util_render_widget (GTK_WIDGET (view));
  guint green_before = ui_util_count_colour (unmasked, 77, 255, 77, 30);
  g_assert_true (scope_window_open_mask (window, mask_file));
  MaskWait mask_wait = { view, TRUE };
  test_util_wait (mask_is, &mask_wait, "the mask to arrive");
  test_util_wait (explain_done, &wait, "every explanation and its metrics");
  /* The mask's outline is drawn in light green over both panels. */
  wait_frames (GTK_WIDGET (window), 3);
  g_autoptr (GdkTexture) masked = ui_util_render_widget (GTK_WIDGET (view));
  guint green_after = ui_util_count_colour (masked, 77, 255, 77, 30);
  g_test_message ("light green pixels: %u without the mask, %u with it", green_before,
                  green_after);
  g_assert_cmpuint (green_after, >, green_before + 200);
  for (int p = 0; p < 2; p++)
    {
      ScopeExplainMetrics *m = scope_explain_view_get_metrics (view, p);
      const NnMap *map = scope_explain_view_get_explanation (view, p)->map;
      g_assert_cmpuint (m->has & NN_FAITH_MASK, !=, 0);
      g_assert_cmpfloat (m->energy, ==, nn_faith_energy_share (map->map, mask, map->h, map->w));
      g_test_message ("%s with the mask: pointing %s, energy share %.3f",
                      nn_method_get_info (scope_explain_view_get_explanation (view, p)->method)
                      ->label, m->pointing ? "hit" : "miss", m->energy);
    }
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (view), "9-explain-mask", 20.0, 200);
}

/* Panel 0's map is there (its metrics may still be computing). */
static gboolean
map_ready (gpointer data)
{
  return scope_explain_view_get_explanation (data, 0) != NULL;
}

/* A copy of panel 0's map after a setting changed: the view computes it again at once. */
static float *
remap (ScopeExplainView *view)
{
  g_assert_null (scope_explain_view_get_explanation (view, 0));
  test_util_wait (map_ready, view, "the map with the new setting");
  const NnMap *m = scope_explain_view_get_explanation (view, 0)->map;
  return g_memdup2 (m->map, sizeof (float) * (gsize) m->h * (gsize) m->w);
}

static gboolean
maps_differ (const ScopeExplainView *view,
             const float            *a,
             const float            *b)
{
  const NnMap *m = scope_explain_view_get_explanation ((ScopeExplainView *) view, 0)->map;
  return memcmp (a, b, sizeof (float) * (gsize) m->h * (gsize) m->w) != 0;
}

static gboolean
widget_shown (ScopeExplainView *view,
              const char       *name)
{
  GtkWidget *w = find_named (GTK_WIDGET (view), name);
  g_assert_nonnull (w);
  return gtk_widget_get_visible (w);
}

/* Each method's own settings show only while a panel uses the method, go into the run's spec
 * and change its result: IG's steps its convergence delta (shown beside them), its baseline the
 * map; SmoothGrad's and GradientSHAP's samples and noise, Occlusion's patch and stride. The
 * controls stay inside the window at 800 x 600. */
static void
test_explain_settings (void)
{
  g_autofree char *sneaker = g_build_filename (g_getenv ("CNNSCOPE_DATA_DIR"), "samples",
                                               "fashion-sneaker.png", NULL);
  open_image (sneaker);
  activate ("view.show", "s", "explain");
  ScopeExplainView *view = SCOPE_EXPLAIN_VIEW (find_descendant (GTK_WIDGET (window),
                                                                SCOPE_TYPE_EXPLAIN_VIEW));
  wait_frames (GTK_WIDGET (window), 3);
  const char *boxes[] = { "ig-settings", "smoothgrad-settings", "occlusion-settings",
                          "shap-settings" };
  for (gsize i = 0; i < G_N_ELEMENTS (boxes); i++)
    g_assert_false (widget_shown (view, boxes[i]));

  /* IG: the delta with 2 steps, then with 256. */
  ScopeExplainMethodSettings set;
  scope_explain_view_get_method_settings (view, &set);
  g_assert_cmpint (set.ig_steps, ==, 32);
  g_assert_cmpint (set.ig_baseline, ==, NN_BASELINE_ZERO);
  scope_explain_view_set_method (view, 0, NN_METHOD_IG);
  g_assert_true (widget_shown (view, "ig-settings"));
  g_assert_false (widget_shown (view, "smoothgrad-settings"));
  g_assert_false (widget_shown (view, "ig-image"));
  test_util_wait (map_ready, view, "the IG map");
  set.ig_steps = 2;
  scope_explain_view_set_method_settings (view, &set);
  g_autofree float *coarse = remap (view);
  ScopeExplanation *e = scope_explain_view_get_explanation (view, 0);
  g_assert_true (e->has_delta);
  double delta_coarse = e->delta;
  set.ig_steps = 256;
  scope_explain_view_set_method_settings (view, &set);
  g_autofree float *fine = remap (view);
  e = scope_explain_view_get_explanation (view, 0);
  g_assert_true (e->has_delta);
  g_test_message ("IG delta: %.4g with 2 steps, %.4g with 256", delta_coarse, e->delta);
  g_assert_cmpfloat (fabs (e->delta), <, fabs (delta_coarse));
  g_assert_true (maps_differ (view, coarse, fine));
  g_autofree char *shown = g_strdup_printf ("Δ %.3g", e->delta);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (find_named (GTK_WIDGET (view), "ig-delta"))),
                   ==, shown);

  /* Every baseline gives another map. */
  float *maps[NN_BASELINE_COUNT_ + 1] = { g_steal_pointer (&fine) };
  for (int k = 1; k < NN_BASELINE_COUNT_; k++)
    {
      scope_explain_view_set_baseline (view, k);
      maps[k] = remap (view);
      for (int j = 0; j < k; j++)
        g_assert_true (maps_differ (view, maps[j], maps[k]));
    }
  g_autofree char *boot = g_build_filename (g_getenv ("CNNSCOPE_DATA_DIR"), "samples",
                                            "fashion-ankle-boot.png", NULL);
  g_autoptr (GFile) boot_file = g_file_new_for_path (boot);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_explain_view_set_baseline_image (view, boot_file, &error));
  g_assert_no_error (error);
  g_assert_true (widget_shown (view, "ig-image"));
  maps[NN_BASELINE_COUNT_] = remap (view);
  for (int j = 0; j < NN_BASELINE_COUNT_; j++)
    g_assert_true (maps_differ (view, maps[j], maps[NN_BASELINE_COUNT_]));
  scope_explain_view_get_method_settings (view, &set);
  g_assert_cmpint (set.ig_baseline, ==, NN_BASELINE_COUNT_);
  g_autoptr (GFile) missing = g_file_new_for_path ("/nonexistent/baseline.png");
  g_assert_false (scope_explain_view_set_baseline_image (view, missing, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  for (int k = 0; k <= NN_BASELINE_COUNT_; k++)
    g_free (maps[k]);

  /* Screenshots with IG's settings at 800 x 600 and 1280 x 800: the toolbar wraps and stays in
   * the window. */
  static const int sizes[][2] = { { 800, 600 }, { 1280, 800 } };
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      gtk_window_set_default_size (GTK_WINDOW (window), sizes[i][0], sizes[i][1]);
      wait_frames (GTK_WIDGET (window), 4);
      graphene_rect_t delta_box = bounds_in_window (find_named (GTK_WIDGET (view), "ig-delta"));
      g_assert_cmpfloat (delta_box.origin.x + delta_box.size.width, <=,
                         gtk_widget_get_width (GTK_WIDGET (window)));
      g_autofree char *shot = g_strdup_printf ("explain-ig-settings-%dx%d", sizes[i][0],
                                               sizes[i][1]);
      screenshot (GTK_WIDGET (window), shot, 10.0, 50);
    }

  /* SmoothGrad: samples and noise. */
  scope_explain_view_set_method (view, 0, NN_METHOD_SMOOTHGRAD);
  g_assert_false (widget_shown (view, "ig-settings"));
  g_assert_true (widget_shown (view, "smoothgrad-settings"));
  g_autofree float *sg = remap (view);
  set.smooth_samples = 4;
  scope_explain_view_set_method_settings (view, &set);
  g_autofree float *sg_few = remap (view);
  g_assert_true (maps_differ (view, sg, sg_few));
  set.smooth_noise = 0.4;
  scope_explain_view_set_method_settings (view, &set);
  g_autofree float *sg_noisy = remap (view);
  g_assert_true (maps_differ (view, sg_few, sg_noisy));

  /* GradientSHAP, compared with Occlusion in the second panel: both settings show. */
  scope_explain_view_set_method (view, 0, NN_METHOD_GRADIENT_SHAP);
  scope_explain_view_set_method (view, 1, NN_METHOD_OCCLUSION);
  g_assert_true (widget_shown (view, "shap-settings"));
  g_assert_true (widget_shown (view, "occlusion-settings"));
  g_assert_false (widget_shown (view, "smoothgrad-settings"));
  g_autofree float *shap = remap (view);
  set.shap_samples = 5;
  scope_explain_view_set_method_settings (view, &set);
  g_autofree float *shap_few = remap (view);
  g_assert_true (maps_differ (view, shap, shap_few));
  set.shap_noise = 0.0;
  scope_explain_view_set_method_settings (view, &set);
  g_autofree float *shap_quiet = remap (view);
  g_assert_true (maps_differ (view, shap_few, shap_quiet));
  wait_frames (GTK_WIDGET (window), 4);
  screenshot (GTK_WIDGET (window), "explain-shap-occlusion-settings-1280x800", 10.0, 50);

  /* Occlusion in panel 0: the patch, then the stride, change its map. */
  scope_explain_view_set_method (view, 1, -1);
  scope_explain_view_set_method (view, 0, NN_METHOD_OCCLUSION);
  g_assert_false (widget_shown (view, "shap-settings"));
  g_autofree float *occ = remap (view);
  scope_explain_view_get_method_settings (view, &set);
  const NnShape in = window_graph ()->nodes[0].shape;
  g_assert_cmpint (set.occlusion_window, ==, MIN (in.h, in.w) / 4);
  set.occlusion_window = 10;
  scope_explain_view_set_method_settings (view, &set);
  g_autofree float *occ_big = remap (view);
  g_assert_true (maps_differ (view, occ, occ_big));
  set.occlusion_stride = 1;
  scope_explain_view_set_method_settings (view, &set);
  g_autofree float *occ_dense = remap (view);
  g_assert_true (maps_differ (view, occ_big, occ_dense));
  scope_window_cancel_view (window);
}

/* A short run of the view's settings to its end: panel 0's final result (borrowed). */
static ScopeAmResult *
maximize_run_to_end (ScopeMaximizeView *view)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "maximize.run", NULL));
  g_assert_true (scope_maximize_view_is_running (view));
  test_util_wait (maximize_stopped, view, "activation maximization to end");
  ScopeAmResult *r = scope_maximize_view_get_result (view, 0);
  g_assert_nonnull (r);
  g_assert_true (r->done);
  return r;
}

static gboolean
results_differ (const ScopeAmResult *a,
                const ScopeAmResult *b)
{
  gsize n = (gsize) a->c * (gsize) a->h * (gsize) a->w;
  return memcmp (a->pixels, b->pixels, sizeof (float) * n) != 0
         || a->objectives[0] != b->objectives[0];
}

#define N_MAXIMIZE_CHANGES 13

/* Change i of the settings, each one control of the Maximize view; its name. */
static const char *
maximize_change (int           i,
                 NnAmSettings *t)
{
  switch (i)
    {
    case 0:
      t->objective = NN_AM_OBJECTIVE_CENTER;
      return "centre unit";
    case 1:
      t->objective = NN_AM_OBJECTIVE_UNIT;
      t->unit_y = 1;
      t->unit_x = 2;
      return "unit (1, 2)";
    case 2:
      t->objective = NN_AM_OBJECTIVE_PERCENTILE;
      t->percentile = 5.0f;
      return "top 5 %";
    case 3:
      t->warmup = 0.5f;
      return "warm-up 0.5";
    case 4:
      t->optimizer = NN_AM_OPTIMIZER_ADAM;
      return "Adam";
    case 5:
      t->param = NN_AM_PARAM_FOURIER;
      return "Fourier, decorrelated colour";
    case 6:
      t->l2 = 0.5f;
      return "L2 0.5";
    case 7:
      t->tv = 0.5f;
      return "TV 0.5";
    case 8:
      t->policy = (NnGradPolicy) { NN_GRAD_IDENTITY, 0.0f };
      return "identity policy";
    case 9:
      t->transforms = NN_AM_TRANSFORM_PAD;
      t->pad = 4;
      return "pad 4";
    case 10:
      t->transforms = NN_AM_TRANSFORM_PAD;
      t->pad = 9;
      return "pad 9";
    case 11:
      t->transforms = NN_AM_TRANSFORM_ROTATE;
      t->rotate = 5.0f;
      return "rotate 5";
    default:
      t->transforms = NN_AM_TRANSFORM_ROTATE;
      t->rotate = 40.0f;
      return "rotate 40";
    }
}

/* Every setting the CLI's am has reaches the run from the window: each one changed alone from
 * the same seed gives another image; a one-hot direction matches the channel's mean; a run
 * started from the previous result starts where it ended. */
static void
test_maximize_settings (void)
{
  ScopeMaximizeView *view = SCOPE_MAXIMIZE_VIEW (find_descendant (GTK_WIDGET (window),
                                                                  SCOPE_TYPE_MAXIMIZE_VIEW));
  activate ("view.show", "s", "maximize");
  int node = find_node ("layer1.0.add");
  activate ("layer.select", "i", node);
  activate ("channel.select", "i", 3);
  wait_frames (GTK_WIDGET (window), 3);
  g_assert_false (gtk_widget_get_visible (find_named (GTK_WIDGET (view), "percentile")));
  g_assert_false (gtk_widget_get_visible (find_named (GTK_WIDGET (view), "direction")));
  NnAmSettings s;
  scope_maximize_view_get_settings (view, &s);
  s.steps = 12;
  scope_maximize_view_set_settings (view, &s);
  ScopeAmResult *base = scope_am_result_ref (maximize_run_to_end (view));
  /* The same settings again: the same image (so a difference below is the setting's). */
  g_assert_false (results_differ (base, maximize_run_to_end (view)));

  ScopeAmResult *previous = scope_am_result_ref (base);
  for (int i = 0; i < N_MAXIMIZE_CHANGES; i++)
    {
      NnAmSettings t = s;
      const char *what = maximize_change (i, &t);
      scope_maximize_view_set_settings (view, &t);
      NnAmSettings shown;
      scope_maximize_view_get_settings (view, &shown);
      g_assert_cmpint (shown.objective, ==, t.objective);
      g_assert_cmpint (shown.unit_y, ==, t.unit_y);
      g_assert_cmpint (shown.unit_x, ==, t.unit_x);
      g_assert_cmpfloat (shown.percentile, ==, t.percentile);
      g_assert_cmpfloat (shown.warmup, ==, t.warmup);
      g_assert_cmpint (shown.optimizer, ==, t.optimizer);
      g_assert_cmpint (shown.param, ==, t.param);
      g_assert_cmpfloat (shown.l2, ==, t.l2);
      g_assert_cmpfloat (shown.tv, ==, t.tv);
      g_assert_cmpint (shown.policy.kind, ==, t.policy.kind);
      g_assert_cmpuint (shown.transforms, ==, t.transforms);
      g_assert_cmpint (shown.pad, ==, t.pad);
      g_assert_cmpfloat (shown.rotate, ==, t.rotate);
      ScopeAmResult *r = maximize_run_to_end (view);
      g_test_message ("maximize, %s: objective %.4f (defaults %.4f)", what,
                      r->objectives[0], base->objectives[0]);
      g_assert_true (results_differ (base, r));
      g_assert_true (results_differ (previous, r));
      scope_am_result_unref (previous);
      previous = scope_am_result_ref (r);
      if (i == 1)
        g_assert_true (gtk_widget_get_visible (find_named (GTK_WIDGET (view), "unit-y")));
      /* A strength can be set while its transform is on. */
      g_assert_true (gtk_widget_get_sensitive (find_named (GTK_WIDGET (view), "pad"))
                     == ((t.transforms & NN_AM_TRANSFORM_PAD) != 0));
      if (i == 2)
        {
          g_assert_true (gtk_widget_get_visible (find_named (GTK_WIDGET (view), "percentile")));
          wait_frames (GTK_WIDGET (window), 3);
          static const int sizes[][2] = { { 800, 600 }, { 1280, 800 } };
          for (gsize k = 0; k < G_N_ELEMENTS (sizes); k++)
            {
              gtk_window_set_default_size (GTK_WINDOW (window), sizes[k][0], sizes[k][1]);
              wait_frames (GTK_WIDGET (window), 4);
              g_autofree char *shot = g_strdup_printf ("maximize-settings-%dx%d", sizes[k][0],
                                                       sizes[k][1]);
              screenshot (GTK_WIDGET (window), shot, 10.0, 50);
            }
        }
    }
  scope_am_result_unref (previous);
  scope_maximize_view_set_settings (view, &s);

  /* A one-hot direction on channel 3 is channel 3's mean. */
  int c = window_graph ()->nodes[node].shape.c;
  g_autofree float *w = g_new0 (float, c);
  w[3] = 1.0f;
  NnAmSettings d = s;
  d.objective = NN_AM_OBJECTIVE_DIRECTION;
  d.direction = w;
  d.layer = node;
  scope_maximize_view_set_settings (view, &d);
  g_assert_true (gtk_widget_get_visible (find_named (GTK_WIDGET (view), "direction")));
  NnAmSettings shown;
  scope_maximize_view_get_settings (view, &shown);
  g_assert_nonnull (shown.direction);
  g_assert_cmpmem (shown.direction, sizeof (float) * (gsize) c, w, sizeof (float) * (gsize) c);
  ScopeAmResult *r = maximize_run_to_end (view);
  g_assert_cmpfloat_with_epsilon (r->objectives[0], base->objectives[0],
                                  1e-3 * fabs (base->objectives[0]) + 1e-5);
  /* A direction of the wrong length starts nothing. */
  gtk_editable_set_text (GTK_EDITABLE (find_named (GTK_WIDGET (view), "direction")), "1, 2");
  scope_maximize_view_get_settings (view, &shown);
  g_assert_null (shown.direction);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "maximize.run", NULL));
  g_assert_false (scope_maximize_view_is_running (view));
  scope_maximize_view_set_settings (view, &s);

  /* From the previous result: the new run starts at the objective the last one ended on. */
  r = maximize_run_to_end (view);
  double ended = r->objectives[0];
  scope_maximize_view_set_start (view, SCOPE_MAXIMIZE_START_PREVIOUS);
  scope_maximize_view_get_settings (view, &shown);
  g_assert_nonnull (shown.start);
  r = maximize_run_to_end (view);
  g_test_message ("maximize from the previous result: it ended at %.4f, the next starts at "
                  "%.4f and ends at %.4f", ended, r->history[0], r->objectives[0]);
  g_assert_cmpfloat_with_epsilon (r->history[0], ended, 0.02 * fabs (ended) + 1e-4);

  /* From an image: the sneaker's own objective first. */
  g_autofree char *sneaker = g_build_filename (g_getenv ("CNNSCOPE_DATA_DIR"), "samples",
                                               "fashion-sneaker.png", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (sneaker);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_maximize_view_set_start_image (view, file, &error));
  g_assert_no_error (error);
  g_assert_true (gtk_widget_get_visible (find_named (GTK_WIDGET (view), "start-image")));
  r = maximize_run_to_end (view);
  g_assert_cmpfloat (r->history[0], !=, base->history[0]);
  g_assert_true (results_differ (base, r));
  scope_am_result_unref (base);
  /* The settings' lower half: the penalties, the start and the transforms' strengths. */
  GtkScrolledWindow *scroll = GTK_SCROLLED_WINDOW (find_named (GTK_WIDGET (view),
                                                               "maximize-settings"));
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (scroll);
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
  wait_frames (GTK_WIDGET (window), 4);
  screenshot (GTK_WIDGET (window), "maximize-settings-start-1280x800", 10.0, 50);
}

static gboolean
batch_finished (gpointer data)
{
  return !scope_batch_job_is_running (scope_batch_window_get_job (data));
}

/* A folder explained from the Explain view: a row per image in name order with the class,
 * probability and metrics nn_explain_run gives for the file, an error for a file that is not
 * an image, other files skipped; Cancel stops a batch. */
static void
test_explain_folder (void)
{
  activate ("view.show", "s", "explain");
  ScopeExplainView *view = SCOPE_EXPLAIN_VIEW (find_descendant (GTK_WIDGET (window),
                                                                SCOPE_TYPE_EXPLAIN_VIEW));
  g_autofree char *folder = g_build_filename (shot_dir, "batch", NULL);
  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  const char *names[] = { "fashion-bag.png", "fashion-coat.png", "fashion-sneaker.png" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *from = g_build_filename (g_getenv ("CNNSCOPE_DATA_DIR"), "samples",
                                                names[i], NULL);
      g_autofree char *to = g_build_filename (folder, names[i], NULL);
      g_autofree char *contents = NULL;
      gsize length;
      g_assert_true (g_file_get_contents (from, &contents, &length, NULL));
      g_assert_true (g_file_set_contents (to, contents, (gssize) length, NULL));
    }
  g_autofree char *bad = g_build_filename (folder, "broken.png", NULL);
  g_assert_true (g_file_set_contents (bad, "not a png", -1, NULL));
  g_autofree char *notes = g_build_filename (folder, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (notes, "skipped", -1, NULL));

  scope_explain_view_set_method (view, 0, NN_METHOD_GRADIENT);
  g_autoptr (GFile) dir = g_file_new_for_path (folder);
  g_autoptr (GError) error = NULL;
  ScopeBatchWindow *batch = SCOPE_BATCH_WINDOW (scope_explain_view_explain_folder (view, dir,
                                                                                   &error));
  g_assert_no_error (error);
  g_assert_nonnull (batch);
  test_util_wait (batch_finished, batch, "the folder to be explained");
  guint n_rows, n_files;
  const ScopeBatchRow *rows = scope_batch_job_get_rows (scope_batch_window_get_job (batch),
                                                        &n_rows, &n_files);
  g_assert_cmpuint (n_files, ==, 4);
  g_assert_cmpuint (n_rows, ==, 4);
  g_assert_cmpstr (rows[0].name, ==, "broken.png");
  g_assert_nonnull (rows[0].error);
  g_assert_cmpstr (scope_batch_window_get_cell (batch, 0, 0), ==, "File");
  g_assert_cmpstr (scope_batch_window_get_cell (batch, 1, 1), ==, rows[0].error);
  ScopeModel *model = scope_activations_get_model (scope_window_get_activations (window));
  const NnModel *m = scope_model_get_nn_model (model);
  for (guint i = 1; i < n_rows; i++)
    {
      g_assert_cmpstr (rows[i].name, ==, names[i - 1]);
      g_assert_null (rows[i].error);
      g_autofree char *path = g_build_filename (folder, names[i - 1], NULL);
      NnInput *in = nn_input_load (path, m, NULL, NULL);
      g_assert_nonnull (in);
      NnExplainSpec spec;
      nn_explain_spec_init (&spec);
      spec.map.method = NN_METHOD_GRADIENT;
      NnExplanation *e = nn_explain_run (m, in, &spec, NULL, NULL);
      g_assert_nonnull (e);
      g_assert_cmpint (rows[i].target, ==, e->map->target);
      g_assert_cmpfloat (rows[i].probability, ==, e->probability);
      g_assert_cmpuint (rows[i].metrics.has, ==, e->metrics.has);
      g_assert_cmpfloat (rows[i].metrics.deletion.auc, ==, e->metrics.deletion.auc);
      g_assert_cmpfloat (rows[i].metrics.rho, ==, e->metrics.rho);
      g_autofree char *prob = g_strdup_printf ("%.3f", e->probability);
      g_assert_cmpstr (scope_batch_window_get_cell (batch, (int) i + 1, 2), ==, prob);
      g_test_message ("batch: %s class %d p %.3f deletion %.3f insertion %.3f", rows[i].name,
                      rows[i].target, rows[i].probability, rows[i].metrics.deletion.auc,
                      rows[i].metrics.insertion.auc);
      nn_explanation_free (e);
      nn_input_unref (in);
    }
  wait_frames (GTK_WIDGET (batch), 4);
  screenshot (GTK_WIDGET (batch), "explain-folder", 5.0, 20);
  gtk_window_destroy (GTK_WINDOW (batch));

  /* Cancelled at once: it ends, with fewer rows than files or all of them. */
  batch = SCOPE_BATCH_WINDOW (scope_explain_view_explain_folder (view, dir, &error));
  g_assert_nonnull (batch);
  ScopeBatchJob *job = scope_batch_window_get_job (batch);
  g_assert_true (scope_batch_job_is_running (job));
  scope_batch_job_cancel (job);
  g_assert_false (scope_batch_job_is_running (job));
  scope_batch_job_get_rows (job, &n_rows, &n_files);
  g_assert_cmpuint (n_rows, <=, n_files);
  gtk_window_destroy (GTK_WINDOW (batch));

  /* A folder without images. */
  g_autofree char *empty = g_build_filename (shot_dir, "batch-empty", NULL);
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  g_autoptr (GFile) empty_dir = g_file_new_for_path (empty);
  g_assert_null (scope_explain_view_explain_folder (view, empty_dir, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static gboolean
ct_model_delivered (gpointer data)
{
  (void) data;
  ScopeActivations *act = scope_window_get_activations (window);
  return act != NULL && !scope_window_is_busy (window)
         && g_strcmp0 (scope_model_get_name (scope_activations_get_model (act)),
                       "demo-ct.safetensors") == 0;
}

/* Fraction of the bytes of two same-sized renderings that differ. */
static double
texture_difference (GdkTexture *a,
                    GdkTexture *b)
{
  int w = gdk_texture_get_width (a), h = gdk_texture_get_height (a);
  g_assert_cmpint (gdk_texture_get_width (b), ==, w);
  g_assert_cmpint (gdk_texture_get_height (b), ==, h);
  gsize n = (gsize) w * (gsize) h * 4;
  g_autofree guchar *pa = g_malloc (n), *pb = g_malloc (n);
  gdk_texture_download (a, pa, (gsize) w * 4);
  gdk_texture_download (b, pb, (gsize) w * 4);
  gsize differ = 0;
  for (gsize i = 0; i < n; i++)
    differ += pa[i] != pb[i];
  return (double) differ / (double) n;
}

static void
assert_window (ScopeExplainView *view,
               NnCtWindow        expected,
               guint             preset)
{
  NnCtWindow shown;
  g_assert_true (scope_explain_view_get_ct_window (view, &shown));
  g_assert_cmpfloat (shown.width, ==, expected.width);
  g_assert_cmpfloat (shown.level, ==, expected.level);
  GtkWidget *view_widget = GTK_WIDGET (view);
  g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (find_named (view_widget,
                                                                           "ct-window"))),
                    ==, preset);
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (find_named (view_widget,
                                                                             "ct-width"))),
                     ==, expected.width);
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (find_named (view_widget,
                                                                             "ct-level"))),
                     ==, expected.level);
}

static void
test_explain_ct (void)
{
  /* A CT slice with its mask beside it, in a folder of its own. */
  g_autofree char *tmp = test_util_make_tmp_dir ();
  const char *data = g_getenv ("CNNSCOPE_DATA_DIR");
  const char *files[] = { "ct-covid.png", "ct-covid.mask.png" };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *from = g_build_filename (data, "samples", files[i], NULL);
      g_autofree char *to = g_build_filename (tmp, files[i], NULL);
      g_autofree char *contents = NULL;
      gsize length;
      g_assert_true (g_file_get_contents (from, &contents, &length, NULL));
      test_util_write_file (to, contents, length);
    }
  g_autofree char *model_path = g_build_filename (data, "demo-ct.safetensors", NULL);
  g_autofree char *slice_path = g_build_filename (tmp, "ct-covid.png", NULL);
  g_autoptr (GFile) model = g_file_new_for_path (model_path);
  g_autoptr (GFile) slice = g_file_new_for_path (slice_path);
  activate ("view.show", "s", "explain");
  ScopeExplainView *view = SCOPE_EXPLAIN_VIEW (find_descendant (GTK_WIDGET (window),
                                                                SCOPE_TYPE_EXPLAIN_VIEW));
  g_assert_true (scope_window_open (window, model, slice));
  test_util_wait (ct_model_delivered, NULL, "activations of the CT model");
  const NnGraph *graph = window_graph ();
  const NnModel *nn_model = scope_model_get_nn_model (scope_activations_get_model (
                                                        scope_window_get_activations (window)));
  g_assert_true (nn_model->has_window);
  /* The Explain view follows the model opened while it shows. */
  g_assert_true (scope_view_get_model (SCOPE_VIEW (view)) == scope_window_get_model (window));

  /* The mask came with the slice: the pointing game and energy share rows are there. */
  ExplainWait wait = { view, 1 };
  test_util_wait (explain_done, &wait, "every explanation and its metrics");
  g_assert_true (scope_explain_view_has_mask (view));
  ScopeExplanation *e = scope_explain_view_get_explanation (view, 0);
  ScopeExplainMetrics *m = scope_explain_view_get_metrics (view, 0);
  g_assert_cmpint (e->map->h, ==, graph->nodes[0].shape.h);
  g_assert_cmpuint (m->has & NN_FAITH_MASK, !=, 0);
  g_assert_cmpfloat (m->energy, >, 0.0);
  g_assert_cmpfloat (m->energy, <=, 1.0);
  g_test_message ("CT slice with its mask: class %d p = %.3f, pointing %s, energy share %.3f",
                  e->map->target, e->probability, m->pointing ? "hit" : "miss", m->energy);

  /* The controls show, starting from the model's own window. */
  g_assert_true (gtk_widget_is_visible (find_named (GTK_WIDGET (view), "ct-window")));
  const char *name = nn_ct_window_name (&nn_model->window);
  const char *names[] = { "lung", "mediastinum", "bone" };
  guint preset = 3;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (name, names[i]) == 0)
      preset = i;
  assert_window (view, nn_model->window, preset);
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (window), "14-window-explain-ct", 20.0, 200);
  screenshot (GTK_WIDGET (view), "14-explain-ct-model-window", 20.0, 200);
  GtkWidget *figure = find_descendant (GTK_WIDGET (view), SCOPE_TYPE_EXPLAIN_FIGURE);
  g_autoptr (GdkTexture) before = ui_util_render_widget (figure);

  /* Bone: the slice under the overlay changes, the map is the same and no job runs. It is
   * rendered again from the input's HU plane, not read again: the file is gone by then. */
  ScopeInput *input = scope_window_get_input (window);
  g_assert_nonnull (input);
  g_assert_true (scope_view_get_input (SCOPE_VIEW (view)) == input);
  g_assert_cmpint (g_unlink (slice_path), ==, 0);
  GtkDropDown *drop = GTK_DROP_DOWN (find_named (GTK_WIDGET (view), "ct-window"));
  gtk_drop_down_set_selected (drop, 2);
  assert_window (view, NN_CT_WINDOW_BONE, 2);
  g_assert_false (scope_window_is_busy (window));
  g_assert_true (scope_window_get_input (window) == input);
  g_assert_false (scope_view_get_busy (SCOPE_VIEW (view)));
  g_assert_true (scope_explain_view_get_explanation (view, 0) == e);
  g_assert_true (scope_explain_view_get_metrics (view, 0) == m);
  wait_frames (GTK_WIDGET (window), 3);
  g_autoptr (GdkTexture) bone = ui_util_render_widget (figure);
  double changed = texture_difference (before, bone);
  g_test_message ("bone window: %.1f %% of the figure's bytes changed", 100.0 * changed);
  g_assert_cmpfloat (changed, >, 0.01);
  screenshot (GTK_WIDGET (view), "14-explain-ct-bone", 20.0, 200);

  /* A drag on the image: 50 px right widens by 200 HU, 25 px up lowers the level by 100. */
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (figure);
  GtkGesture *drag = NULL;
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GObject) controller = g_list_model_get_item (controllers, i);
      if (GTK_IS_GESTURE_DRAG (controller))
        drag = GTK_GESTURE (controller);
    }
  g_assert_nonnull (drag);
  g_signal_emit_by_name (drag, "drag-begin", 100.0, 100.0);
  g_signal_emit_by_name (drag, "drag-update", 20.0, -10.0);
  g_signal_emit_by_name (drag, "drag-update", 50.0, -25.0);
  NnCtWindow dragged = { NN_CT_WINDOW_BONE.width + 200.0f, NN_CT_WINDOW_BONE.level - 100.0f };
  assert_window (view, dragged, 3);
  g_assert_false (scope_view_get_busy (SCOPE_VIEW (view)));
  g_assert_true (scope_explain_view_get_explanation (view, 0) == e);
  wait_frames (GTK_WIDGET (window), 3);
  g_autoptr (GdkTexture) after_drag = ui_util_render_widget (figure);
  g_assert_cmpfloat (texture_difference (bone, after_drag), >, 0.001);
  screenshot (GTK_WIDGET (view), "14-explain-ct-drag", 20.0, 200);

  g_autofree char *png = g_build_filename (shot_dir, "export-explain-ct.png", NULL);
  g_autoptr (GFile) out = g_file_new_for_path (png);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_window_export (window, out, &error));
  g_assert_no_error (error);
  check_png (png, 1200, 750);

  /* Open Mask: a file that is no image names itself in the toast and keeps the mask; an empty
   * mask is no mask; the real one brings the pointing game back. */
  g_autofree char *bad = g_build_filename (tmp, "bad-mask.png", NULL);
  test_util_write_file (bad, "not a png", 9);
  g_autoptr (GFile) bad_file = g_file_new_for_path (bad);
  g_assert_true (scope_window_open_mask (window, bad_file));
  test_util_wait (error_mentions, "bad-mask.png", "an error message naming the file");
  g_assert_true (scope_explain_view_has_mask (view));
  NnImage *blank = nn_image_new (1, 40, 40);
  g_assert_nonnull (blank);
  g_autofree char *empty = g_build_filename (tmp, "empty-mask.png", NULL);
  g_assert_true (nn_image_save_png (blank, empty, 8, NULL));
  nn_image_free (blank);
  g_autoptr (GFile) empty_file = g_file_new_for_path (empty);
  g_assert_true (scope_window_open_mask (window, empty_file));
  MaskWait mask_wait = { view, FALSE };
  test_util_wait (mask_is, &mask_wait, "the mask to change");
  g_autofree char *mask_path = g_build_filename (tmp, "ct-covid.mask.png", NULL);
  g_autoptr (GFile) mask_file = g_file_new_for_path (mask_path);
  g_assert_true (scope_window_open_mask (window, mask_file));
  mask_wait.want = TRUE;
  test_util_wait (mask_is, &mask_wait, "the mask to change");
  /* A toast says which mask it is and how big. */
  g_assert_nonnull (strstr (scope_window_get_message (window), "Mask ct-covid.mask.png: "));
  test_util_wait (explain_done, &wait, "every explanation and its metrics");
  g_assert_cmpuint (scope_explain_view_get_metrics (view, 0)->has & NN_FAITH_MASK, !=,
                    0);

  activate ("view.show", "s", "activations");
  test_util_remove_tree (tmp);
}

/* A model of `layers` linear layers of 256 features on a (channels, 28, 28) input: many
 * tensors, so that its load reports progress several times. */
static void
write_wide_model (const char *path,
                  int         channels,
                  int         layers)
{
  NnGraph *graph = nn_graph_new ();
  int node = nn_graph_add_input (graph, "input", channels, 28, 28);
  node = nn_graph_add_flatten (graph, "flatten", node);
  for (int k = 0; k < layers; k++)
    {
      char name[32];
      g_snprintf (name, sizeof name, "fc%d", k);
      node = nn_graph_add_linear (graph, name, node, k == layers - 1 ? 10 : 256, true);
      g_assert_cmpint (node, >=, 0);
    }
  NnModel *model = nn_model_new (graph, "wide");
  NnError err = { 0 };
  g_assert_true (nn_model_save (model, path, &err));
  nn_model_free (model);
}

typedef struct
{
  GtkWidget *box;
  int        reports;
  int        reports_shown;   /* with the bar in the header */
  double     last;
} ProgressSeen;

static void
on_progress_fraction (GtkProgressBar *bar,
                      GParamSpec     *pspec,
                      ProgressSeen   *seen)
{
  (void) pspec;
  double fraction = gtk_progress_bar_get_fraction (bar);
  if (fraction <= 0.0)
    return;   /* the bar put back when the model came */
  seen->reports++;
  seen->reports_shown += gtk_widget_get_visible (seen->box);
  seen->last = fraction;
}

static const char *
model_name (void)
{
  ScopeModel *model = scope_window_get_model (window);
  return model != NULL ? scope_model_get_name (model) : NULL;
}

static gboolean
open_done (gpointer data)
{
  (void) data;
  return !scope_window_is_opening (window) && !scope_window_is_busy (window);
}

/* A model opens with a progress bar in the header, which goes away when it is open; the stop
 * button's action stops a model being read, and the window keeps the model it had. */
static void
test_open_progress (void)
{
  test_util_wait (activations_delivered, NULL, "activations of the opened files");
  g_autofree char *tmp = test_util_make_tmp_dir ();
  g_autofree char *wide = g_build_filename (tmp, "wide.safetensors", NULL);
  g_autofree char *wide2 = g_build_filename (tmp, "wide-2.safetensors", NULL);
  write_wide_model (wide, 1, 48);
  write_wide_model (wide2, 1, 48);
  GtkWidget *bar = find_named (GTK_WIDGET (window), "open-progress");
  g_assert_nonnull (bar);
  GtkWidget *box = gtk_widget_get_parent (bar);
  g_assert_false (gtk_widget_get_visible (box));

  ProgressSeen seen = { .box = box };
  gulong id = g_signal_connect (bar, "notify::fraction", G_CALLBACK (on_progress_fraction),
                                &seen);
  g_autoptr (GFile) file = g_file_new_for_path (wide);
  g_assert_true (scope_window_open (window, file, NULL));
  g_assert_true (scope_window_is_opening (window));
  test_util_wait (open_done, NULL, "the wide model to open");
  g_signal_handler_disconnect (bar, id);
  g_test_message ("%d progress reports reached the window", seen.reports);
  g_assert_cmpstr (model_name (), ==, "wide.safetensors");
  /* Reports merge between main-loop iterations, but the last one (all read) always arrives,
   * before the model, with the bar shown. */
  g_assert_cmpint (seen.reports, >=, 1);
  g_assert_cmpint (seen.reports_shown, ==, seen.reports);
  g_assert_cmpfloat (seen.last, ==, 1.0);
  g_assert_false (gtk_widget_get_visible (box));
  g_assert_null (scope_window_get_error_message (window));

  /* Stopped right after it was asked for: the engine thread may have read it already (then it
   * opens), else it stops at its next tensor and the window keeps the model it had. */
  g_autoptr (GFile) file2 = g_file_new_for_path (wide2);
  g_assert_true (scope_window_open (window, file2, NULL));
  activate ("file.cancel-open", NULL);
  test_util_wait (open_done, NULL, "the stopped model to come back");
  g_assert_false (gtk_widget_get_visible (box));
  g_assert_null (scope_window_get_error_message (window));
  if (g_strcmp0 (model_name (), "wide.safetensors") == 0)
    g_test_message ("stopped opening wide-2.safetensors; wide.safetensors stays");
  else
    {
      g_test_message ("wide-2.safetensors was read before the stop arrived");
      g_assert_cmpstr (model_name (), ==, "wide-2.safetensors");
    }

  /* A model that the image does not fit: one error, and the window settles (it used to build
   * the input again and again). */
  g_autofree char *planes = g_build_filename (tmp, "planes.safetensors", NULL);
  write_wide_model (planes, 3 * 7, 2);
  g_autoptr (GFile) file3 = g_file_new_for_path (planes);
  g_assert_true (scope_window_open (window, file3, NULL));
  test_util_wait (open_done, NULL, "the model the image does not fit to open");
  g_assert_cmpstr (model_name (), ==, "planes.safetensors");
  g_assert_nonnull (strstr (scope_window_get_error_message (window), "21 input channels"));
  test_util_remove_tree (tmp);
}

static void
test_close_joins (void)
{
  /* A job in flight, then the window closes: the engine is cancelled and joined at once. */
  g_autofree char *data = g_strdup (g_getenv ("CNNSCOPE_DATA_DIR"));
  g_autofree char *bag = g_build_filename (data, "samples", "fashion-bag.png", NULL);
  g_autoptr (GFile) bag_file = g_file_new_for_path (bag);
  g_assert_true (scope_window_open (window, NULL, bag_file));
  gint64 start = g_get_monotonic_time ();
  gtk_window_close (GTK_WINDOW (window));
  gint64 took = g_get_monotonic_time () - start;
  g_test_message ("closing the window with a job in flight took %.1f ms", took / 1000.0);
  g_assert_cmpint (took, <, TEST_UTIL_PROMPT_US);
  g_assert_null (window);
}

/* Whether some label under widget shows text (as drawn: mnemonic underscores taken out). */
static gboolean
shows_label (GtkWidget  *widget,
             const char *text)
{
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (shows_label (child, text))
      return TRUE;
  return FALSE;
}

static gboolean
recent_has (gpointer data)
{
  const char *path = data;
  g_auto (GStrv) recent = g_settings_get_strv (scope_application_get_settings (app),
                                               "recent-files");
  return g_strv_contains ((const char *const *) recent, path) && !scope_window_is_busy (window);
}

static void
test_recent_underscores (void)
{
  /* Defect 4: an underscore in a recent file's name is shown, not read as a mnemonic. */
  g_autofree char *tmp = test_util_make_tmp_dir ();
  g_autofree char *from = g_build_filename (g_getenv ("CNNSCOPE_DATA_DIR"), "samples",
                                            "fashion-bag.png", NULL);
  g_autofree char *path = g_build_filename (tmp, "fashion_bag_2.png", NULL);
  g_autofree char *contents = NULL;
  gsize length;
  g_assert_true (g_file_get_contents (from, &contents, &length, NULL));
  test_util_write_file (path, contents, length);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_assert_true (scope_window_open (window, NULL, file));
  test_util_wait (recent_has, path, "the image among the recent files");

  GtkMenuButton *button = GTK_MENU_BUTTON (find_named (GTK_WIDGET (window), "primary-menu"));
  g_assert_nonnull (button);
  gtk_menu_button_popup (button);
  GtkWidget *popover = GTK_WIDGET (gtk_menu_button_get_popover (button));
  wait_frames (GTK_WIDGET (window), 2);
  g_assert_true (shows_label (popover, "fashion_bag_2.png"));
  g_assert_false (shows_label (popover, "fashionbag2.png"));
  gtk_menu_button_popdown (button);
  test_util_remove_tree (tmp);
}

static void
test_error_details (void)
{
  /* Defect 6: a toast shows one line; the whole message is a click away. */
  const char *message = "Cannot open very-long-name-of-a-chest-ct-slice-from-the-archive.dcm: "
                        "the pixel data ends after 131072 of 524288 bytes "
                        "(is the file truncated?)";
  scope_window_show_error (window, "%s", message);
  wait_frames (GTK_WIDGET (window), 2);
  GtkWidget *overlay = find_descendant (GTK_WIDGET (window), ADW_TYPE_TOAST_OVERLAY);
  g_assert_true (shows_label (overlay, "_Details") || shows_label (overlay, "Details"));
  activate ("error.details", NULL);
  GtkWindow *dialog = find_toplevel (ADW_TYPE_MESSAGE_DIALOG);
  g_assert_nonnull (dialog);
  GtkWidget *label = find_named (GTK_WIDGET (dialog), "error-details");
  g_assert_nonnull (label);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (label)), ==, message);
  wait_frames (GTK_WIDGET (dialog), 2);
  screenshot (GTK_WIDGET (dialog), "error-details", 5.0, 4);
  gtk_window_destroy (dialog);
}

static void
test_frame_timer_close (void)
{
  /* Defect 9: frame timing on while the window closes (teardown) disconnects cleanly; any
   * warning is fatal here. */
  scope_window_set_frame_timing (window, TRUE);
  wait_frames (GTK_WIDGET (window), 3);
  g_assert_cmpuint (scope_frame_timer_get_n_frames (scope_window_get_frame_timer (window)), >,
                    0);
}

/* Defect 12: after Cancel the numbers that will not come say so ("–", not "…"). */
static void
test_explain_cancel (void)
{
  activate ("view.show", "s", "explain");
  ScopeExplainView *view = SCOPE_EXPLAIN_VIEW (find_descendant (GTK_WIDGET (window),
                                                                SCOPE_TYPE_EXPLAIN_VIEW));
  ScopeExplainFigure *figure = SCOPE_EXPLAIN_FIGURE (find_descendant (GTK_WIDGET (view),
                                                                      SCOPE_TYPE_EXPLAIN_FIGURE));
  g_assert_true (scope_view_get_busy (SCOPE_VIEW (view)));
  g_autofree char *before = scope_explain_figure_get_metric_text (figure, 0,
                                                                  VIZ_EXPLAIN_ROW_RHO);
  g_assert_cmpstr (before, ==, "…");
  scope_window_cancel_view (window);
  g_assert_false (scope_view_get_busy (SCOPE_VIEW (view)));
  g_autofree char *after = scope_explain_figure_get_metric_text (figure, 0, VIZ_EXPLAIN_ROW_RHO);
  g_assert_cmpstr (after, ==, "–");
  wait_frames (GTK_WIDGET (window), 3);
  screenshot (GTK_WIDGET (view), "explain-cancelled", 5.0, 10);
}

/* The Preferences window (Ctrl+comma): its colour map row changes the preference, which the
 * window follows; so do the default CT window (the Explain and Volume views show it) and the
 * export format (the name Export suggests). */
static void
test_preferences (void)
{
  activate ("app.preferences", NULL);
  GtkWindow *prefs = find_toplevel (ADW_TYPE_PREFERENCES_WINDOW);
  g_assert_nonnull (prefs);
  AdwComboRow *row = ADW_COMBO_ROW (find_named (GTK_WIDGET (prefs), "colormap-row"));
  g_assert_nonnull (row);
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 0);
  adw_combo_row_set_selected (row, 2);
  GSettings *settings = scope_application_get_settings (app);
  g_autofree char *map = g_settings_get_string (settings, "colormap");
  g_assert_cmpstr (map, ==, "diverging");
  g_autofree char *shown = NULL;
  g_object_get (window, "colormap", &shown, NULL);
  g_assert_cmpstr (shown, ==, "diverging");
  g_settings_set_string (settings, "colormap", "sequential");
  g_assert_cmpuint (adw_combo_row_get_selected (row), ==, 1);
  GtkSpinButton *threads = GTK_SPIN_BUTTON (find_named (GTK_WIDGET (prefs), "threads-spin"));
  gtk_spin_button_set_value (threads, 3);
  g_assert_cmpint (g_settings_get_int (settings, "threads"), ==, 3);

  GtkWidget *explain = find_descendant (GTK_WIDGET (window), SCOPE_TYPE_EXPLAIN_VIEW);
  GtkWidget *volume = find_descendant (GTK_WIDGET (window), SCOPE_TYPE_VOLUME_VIEW);
  NnCtWindow shown_window;
  scope_explain_view_get_ct_window (SCOPE_EXPLAIN_VIEW (explain), &shown_window);
  g_assert_cmpfloat (shown_window.width, ==, NN_CT_WINDOW_LUNG.width);
  g_assert_cmpfloat (scope_volume_view_get_window (SCOPE_VOLUME_VIEW (volume)).level, ==,
                     NN_CT_WINDOW_LUNG.level);
  AdwComboRow *ct_row = ADW_COMBO_ROW (find_named (GTK_WIDGET (prefs), "ct-window-row"));
  g_assert_nonnull (ct_row);
  g_assert_cmpuint (adw_combo_row_get_selected (ct_row), ==, 0);
  adw_combo_row_set_selected (ct_row, 2);
  g_autofree char *ct = g_settings_get_string (settings, "ct-window");
  g_assert_cmpstr (ct, ==, "bone");
  scope_explain_view_get_ct_window (SCOPE_EXPLAIN_VIEW (explain), &shown_window);
  g_assert_cmpfloat (shown_window.width, ==, NN_CT_WINDOW_BONE.width);
  g_assert_cmpfloat (shown_window.level, ==, NN_CT_WINDOW_BONE.level);
  NnCtWindow volume_window = scope_volume_view_get_window (SCOPE_VOLUME_VIEW (volume));
  g_assert_cmpfloat (volume_window.width, ==, NN_CT_WINDOW_BONE.width);
  g_assert_cmpfloat (volume_window.level, ==, NN_CT_WINDOW_BONE.level);
  g_settings_set_string (settings, "ct-window", "mediastinum");
  g_assert_cmpuint (adw_combo_row_get_selected (ct_row), ==, 1);
  volume_window = scope_volume_view_get_window (SCOPE_VOLUME_VIEW (volume));
  g_assert_cmpfloat (volume_window.level, ==, NN_CT_WINDOW_MEDIASTINUM.level);

  AdwComboRow *format_row = ADW_COMBO_ROW (find_named (GTK_WIDGET (prefs),
                                                       "export-format-row"));
  g_assert_nonnull (format_row);
  g_autofree char *png_name = scope_window_get_export_name (window);
  g_assert_true (g_str_has_suffix (png_name, ".png"));
  adw_combo_row_set_selected (format_row, 1);
  g_autofree char *format = g_settings_get_string (settings, "export-format");
  g_assert_cmpstr (format, ==, "svg");
  g_autofree char *svg_name = scope_window_get_export_name (window);
  g_assert_true (g_str_has_suffix (svg_name, ".svg"));
  g_settings_set_string (settings, "export-format", "pdf");
  g_assert_cmpuint (adw_combo_row_get_selected (format_row), ==, 2);
  g_autofree char *pdf_name = scope_window_get_export_name (window);
  g_assert_true (g_str_has_suffix (pdf_name, ".pdf"));
  wait_frames (GTK_WIDGET (prefs), 3);
  screenshot (GTK_WIDGET (prefs), "preferences", 3.0, 20);
  gtk_window_destroy (prefs);
}

/* Closing while training asks first: Cancel keeps the window and the run, Close ends both. */
static void
test_close_while_training (void)
{
  ScopeTrainView *view = SCOPE_TRAIN_VIEW (find_descendant (GTK_WIDGET (window),
                                                            SCOPE_TYPE_TRAIN_VIEW));
  ScopeTrainSettings s;
  scope_train_settings_init (&s);
  s.per_class = 100;
  s.batch = 32;
  s.epochs = 40;
  scope_train_view_set_settings (view, &s);
  g_assert_true (press (GTK_WIDGET (window), "<Control>t"));
  g_assert_true (scope_train_state_is_active (scope_train_view_get_state (view)));

  /* Opening another model asks too: Cancel opens nothing, Open opens it (the file need not
   * exist: reading it comes later, on the engine thread). */
  g_autofree char *tmp = test_util_make_tmp_dir ();
  g_autofree char *other = g_build_filename (tmp, "other.safetensors", NULL);
  g_autoptr (GFile) other_file = g_file_new_for_path (other);
  g_assert_true (scope_window_open (window, other_file, NULL));
  AdwMessageDialog *asked = ADW_MESSAGE_DIALOG (find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_nonnull (asked);
  g_assert_cmpstr (adw_message_dialog_get_heading (asked), ==, "Open Another Model?");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (asked), "training run"));
  g_assert_false (scope_window_is_opening (window));
  adw_message_dialog_response (asked, "cancel");
  gtk_window_destroy (GTK_WINDOW (asked)); /* a response from code leaves the dialog open */
  wait_frames (GTK_WIDGET (window), 2);
  g_assert_false (scope_window_is_opening (window));
  g_assert_true (scope_train_state_is_active (scope_train_view_get_state (view)));
  g_assert_true (scope_window_open (window, other_file, NULL));
  asked = ADW_MESSAGE_DIALOG (find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_nonnull (asked);
  adw_message_dialog_response (asked, "open");
  gtk_window_destroy (GTK_WINDOW (asked));
  g_assert_true (scope_window_is_opening (window));
  wait_frames (GTK_WIDGET (window), 2);

  gtk_window_close (GTK_WINDOW (window));
  g_assert_nonnull (window);
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_nonnull (dialog);
  g_test_message ("asked: %s", adw_message_dialog_get_body (dialog));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "training run"));
  adw_message_dialog_response (dialog, "cancel");
  wait_frames (GTK_WIDGET (window), 2);
  g_assert_nonnull (window);
  g_assert_true (scope_train_state_is_active (scope_train_view_get_state (view)));

  gtk_window_close (GTK_WINDOW (window));
  dialog = ADW_MESSAGE_DIALOG (find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "close");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_null (window);
}

/* Defect 13: Open Image starts in the folder of the image opened last, Open Model in the
 * model's, not in Recent (where a typed path is not followed). */
static void
test_dialog_folder (void)
{
  g_autofree char *samples = g_build_filename (g_getenv ("CNNSCOPE_DATA_DIR"), "samples", NULL);
  g_autoptr (GFile) samples_dir = g_file_new_for_path (samples);
  g_autoptr (GFile) data_dir = g_file_new_for_path (g_getenv ("CNNSCOPE_DATA_DIR"));
  const char *actions[] = { "file.open-image", "file.open-model" };
  GFile *expected[] = { samples_dir, data_dir };
  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      activate (actions[i], NULL);
      GtkWindow *dialog = find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG);
      g_assert_nonnull (dialog);
      wait_frames (GTK_WIDGET (dialog), 3);
      g_autoptr (GFile) folder = gtk_file_chooser_get_current_folder (GTK_FILE_CHOOSER (dialog));
      g_assert_nonnull (folder);
      g_autofree char *path = g_file_get_path (folder);
      g_test_message ("%s opens in %s", actions[i], path);
      g_assert_true (g_file_equal (folder, expected[i]));
      gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
      wait_frames (GTK_WIDGET (window), 2);
      g_assert_null (find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG));
    }
}

/* Defect 3: every view fits a window of 800 x 600: the window's minimum size for that width
 * allows it; and it is laid out at 800 x 600 and at 1280 x 800 for the screenshots, light and
 * dark. */
static void
test_small_window (void)
{
  static const char *names[] = { "activations", "filters", "maximize", "explain", "train" };
  static const int sizes[][2] = { { 800, 600 }, { 1280, 800 } };
  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      gtk_window_set_default_size (GTK_WINDOW (window), sizes[s][0], sizes[s][1]);
      for (gsize v = 0; v < G_N_ELEMENTS (names); v++)
        {
          activate ("view.show", "s", names[v]);
          wait_frames (GTK_WIDGET (window), 4);
          int min_w, min_h, nat;
          gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat,
                              NULL, NULL);
          gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_VERTICAL, sizes[s][0],
                              &min_h, &nat, NULL, NULL);
          int w = gtk_widget_get_width (GTK_WIDGET (window));
          int h = gtk_widget_get_height (GTK_WIDGET (window));
          g_test_message ("%s at %dx%d: minimum %dx%d, laid out at %dx%d", names[v],
                          sizes[s][0], sizes[s][1], min_w, min_h, w, h);
          g_autofree char *shot = g_strdup_printf ("small-%dx%d-%s", sizes[s][0], sizes[s][1],
                                                   names[v]);
          screenshot (GTK_WIDGET (window), shot, 10.0, 50);
          g_assert_cmpint (min_w, <=, sizes[s][0]);
          g_assert_cmpint (min_h, <=, sizes[s][1]);
          /* Laid out at the size asked for (less the frame the window manager may take). */
          g_assert_cmpint (w, <=, sizes[s][0]);
          g_assert_cmpint (w, >=, sizes[s][0] - 20);
          g_assert_cmpint (h, <=, sizes[s][1]);
          g_assert_cmpint (h, >=, sizes[s][1] - 20);
        }
      /* The layer list sits beside the views when there is room, else it folds away and the
       * sidebar button (F9) brings it over them. */
      AdwFlap *flap = ADW_FLAP (find_named (GTK_WIDGET (window), "flap"));
      g_assert_nonnull (flap);
      gboolean narrow = sizes[s][0] < 1000;
      g_assert_true (adw_flap_get_folded (flap) == narrow);
      g_assert_true (adw_flap_get_reveal_flap (flap) == !narrow);
      if (narrow)
        {
          activate ("sidebar.toggle", NULL);
          g_assert_true (adw_flap_get_reveal_flap (flap));
          wait_frames (GTK_WIDGET (window), 4);
          g_autofree char *shot = g_strdup_printf ("small-%dx%d-sidebar", sizes[s][0],
                                                   sizes[s][1]);
          screenshot (GTK_WIDGET (window), shot, 10.0, 50);
          activate ("sidebar.toggle", NULL);
          g_assert_false (adw_flap_get_reveal_flap (flap));
        }
    }

  /* The same views in the dark style, at both sizes. */
  AdwStyleManager *style = adw_style_manager_get_default ();
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      gtk_window_set_default_size (GTK_WINDOW (window), sizes[s][0], sizes[s][1]);
      for (gsize v = 0; v < G_N_ELEMENTS (names); v++)
        {
          activate ("view.show", "s", names[v]);
          wait_frames (GTK_WIDGET (window), 4);
          g_autofree char *shot = g_strdup_printf ("small-%dx%d-%s-dark", sizes[s][0],
                                                   sizes[s][1], names[v]);
          screenshot (GTK_WIDGET (window), shot, 10.0, 50);
        }
    }
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
}

static void
test_layout_steady (void)
{
  /* Defect 10: the controls do not move when a choice changes their text. */
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);

  /* Explain: a long class name in place of "Top prediction". */
  activate ("view.show", "s", "explain");
  ScopeExplainView *explain = SCOPE_EXPLAIN_VIEW (find_descendant (GTK_WIDGET (window),
                                                                   SCOPE_TYPE_EXPLAIN_VIEW));
  wait_frames (GTK_WIDGET (window), 4);
  GtkWidget *opacity = find_named (GTK_WIDGET (explain), "opacity");
  GtkDropDown *class_drop = GTK_DROP_DOWN (find_named (GTK_WIDGET (explain), "class-drop"));
  graphene_rect_t before = bounds_in_window (opacity);
  graphene_rect_t drop_before = bounds_in_window (GTK_WIDGET (class_drop));
  GListModel *classes = gtk_drop_down_get_model (class_drop);
  guint longest = 0;
  gsize longest_len = 0;
  for (guint i = 1; i < g_list_model_get_n_items (classes); i++)
    {
      g_autoptr (GtkStringObject) item = g_list_model_get_item (classes, i);
      gsize len = strlen (gtk_string_object_get_string (item));
      if (len > longest_len)
        {
          longest = i;
          longest_len = len;
        }
    }
  g_assert_cmpuint (longest, >, 0);
  gtk_drop_down_set_selected (class_drop, longest);
  wait_frames (GTK_WIDGET (window), 4);
  graphene_rect_t drop_after = bounds_in_window (GTK_WIDGET (class_drop));
  assert_same_bounds (&drop_before, &drop_after, "the class drop-down");
  graphene_rect_t after = bounds_in_window (opacity);
  assert_same_bounds (&before, &after, "the opacity scale after choosing a class");
  scope_window_cancel_view (window);

  /* Maximize: the class-logit target. */
  activate ("view.show", "s", "maximize");
  wait_frames (GTK_WIDGET (window), 4);
  GtkWidget *transforms = find_named (GTK_WIDGET (window), "transforms");
  before = bounds_in_window (transforms);
  GtkDropDown *target = GTK_DROP_DOWN (find_named (GTK_WIDGET (window), "target-drop"));
  gtk_drop_down_set_selected (target, 1);
  wait_frames (GTK_WIDGET (window), 4);
  after = bounds_in_window (transforms);
  g_assert_cmpfloat (after.size.width, ==, before.size.width);
  g_assert_cmpfloat (after.size.height, ==, before.size.height);
  g_assert_cmpfloat (after.origin.x, ==, before.origin.x);
  gtk_drop_down_set_selected (target, 0);
}

typedef struct
{
  const char *path;
  void      (*run) (void);
} WindowTest;

/* A test between window_setup and window_teardown. */
static void
run_test (gpointer      fixture,
          gconstpointer data)
{
  (void) fixture;
  ((const WindowTest *) data)->run ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  const char *dir = g_getenv ("CNNSCOPE_SCREENSHOT_DIR");
  shot_dir = g_strdup (dir != NULL ? dir : "screenshots");
  g_assert_cmpint (g_mkdir_with_parents (shot_dir, 0755), ==, 0);

  static const WindowTest tests[] = {
    { "/ui/window/opens-demo", test_opens_demo },
    { "/ui/window/select-layer-and-channel", test_select_layer_and_channel },
    { "/ui/window/keys", test_keys },
    { "/ui/window/filters", test_filters },
    { "/ui/window/export", test_export },
    { "/ui/window/maximize", test_maximize },
    { "/ui/window/maximize-settings", test_maximize_settings },
    { "/ui/window/views", test_views },
    { "/ui/window/bad-files", test_bad_files },
    { "/ui/window/open-progress", test_open_progress },
    { "/ui/window/train", test_train },
    { "/ui/window/drop", test_drop },
    { "/ui/window/shortcuts-and-about", test_shortcuts_and_about },
    { "/ui/window/explain", test_explain },
    { "/ui/window/explain-settings", test_explain_settings },
    { "/ui/window/explain-folder", test_explain_folder },
    { "/ui/window/explain-ct", test_explain_ct },
    { "/ui/window/close-joins", test_close_joins },
    { "/ui/window/recent-underscores", test_recent_underscores },
    { "/ui/window/frame-timer-close", test_frame_timer_close },
    { "/ui/window/error-details", test_error_details },
    { "/ui/window/small-window", test_small_window },
    { "/ui/window/layout-steady", test_layout_steady },
    { "/ui/window/dialog-folder", test_dialog_folder },
    { "/ui/window/explain-cancel", test_explain_cancel },
    { "/ui/window/preferences", test_preferences },
    { "/ui/window/close-while-training", test_close_while_training },
  };
  app = scope_application_new (G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (tests); i++)
    g_test_add_vtable (tests[i].path, 0, &tests[i], window_setup, run_test, window_teardown);
  int status = g_test_run ();

  g_object_unref (app);
  g_free (shot_dir);
  return status;
}
