/* SPDX-License-Identifier: MIT */
/* Accessible names under Xvfb: every view of the window (each shown in turn), the layer list
 * and header, and the Preferences window's page are walked widget by widget; a button or menu
 * button needs a label child, or a tooltip and an accessible label; a spin button or scale needs
 * an accessible label or a labelled-by relation; a drawing area or figure needs an accessible
 * label.
 * Names are read from the record scope_accessible_set_label keeps, and checked against GTK's own
 * accessible state (GTK_A11Y=test keeps it). The checker is first shown to fail on bare
 * widgets. */
#include <adwaita.h>
#include <string.h>

#include "scope-accessible.h"
#include "scope-application.h"
#include "scope-explain-figure.h"
#include "scope-figure-view.h"
#include "scope-train-chart.h"
#include "scope-view.h"
#include "scope-window.h"
#include "test-util.h"

static ScopeApplication *app;

/* The text of a label inside a button (at any depth), or NULL. */
static const char *
label_child (GtkWidget *widget)
{
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      if (GTK_IS_LABEL (c) && *gtk_label_get_text (GTK_LABEL (c)) != '\0')
        return gtk_label_get_text (GTK_LABEL (c));
      const char *inner = label_child (c);
      if (inner != NULL)
        return inner;
    }
  return NULL;
}

static gboolean
is_figure (GtkWidget *widget)
{
  return GTK_IS_DRAWING_AREA (widget) || SCOPE_IS_FIGURE_VIEW (widget)
         || SCOPE_IS_EXPLAIN_FIGURE (widget) || SCOPE_IS_TRAIN_CHART (widget);
}

/* A line naming widget for the report: its type, name and where it is. */
static char *
describe (GtkWidget *widget)
{
  g_autoptr (GString) path = g_string_new (NULL);
  for (GtkWidget *w = widget; w != NULL; w = gtk_widget_get_parent (w))
    {
      const char *name = gtk_widget_get_name (w);
      g_string_prepend (path, name != NULL && g_strcmp0 (name, G_OBJECT_TYPE_NAME (w)) != 0
                              ? name : G_OBJECT_TYPE_NAME (w));
      if (gtk_widget_get_parent (w) != NULL)
        g_string_prepend (path, " > ");
    }
  GtkWidget *before = gtk_widget_get_prev_sibling (widget);
  return g_strdup_printf ("%s (%s, after %s)", G_OBJECT_TYPE_NAME (widget), path->str,
                          before != NULL ? G_OBJECT_TYPE_NAME (before) : "nothing");
}

/* Appends to problems what widget and its descendants lack. */
static void
check_tree (GtkWidget *widget,
            GPtrArray *problems)
{
  const char *type = G_OBJECT_TYPE_NAME (widget);
  /* Menus not open, the window's own buttons (named by GTK) and toasts are not ours. */
  if (GTK_IS_POPOVER (widget) || GTK_IS_WINDOW_CONTROLS (widget)
      || g_str_equal (type, "AdwToastWidget"))
    return;
  const char *label = scope_accessible_get_label (widget);
  const char *tooltip = gtk_widget_get_tooltip_text (widget);
  gboolean has_label = label != NULL && *label != '\0';
  gboolean has_tooltip = tooltip != NULL && *tooltip != '\0';
  const char *lack = NULL;
  if (GTK_IS_MENU_BUTTON (widget))
    {
      const char *text = gtk_menu_button_get_label (GTK_MENU_BUTTON (widget));
      if ((text == NULL || *text == '\0') && !(has_tooltip && has_label))
        lack = "a label, or a tooltip and an accessible label";
    }
  else if (GTK_IS_BUTTON (widget))
    {
      if (label_child (widget) == NULL && !(has_tooltip && has_label))
        lack = "a label, or a tooltip and an accessible label";
    }
  else if (GTK_IS_SPIN_BUTTON (widget) || GTK_IS_SCALE (widget))
    {
      if (!has_label && scope_accessible_get_labelled_by (widget) == NULL)
        lack = "an accessible label or a labelled-by relation";
    }
  else if (is_figure (widget) && !has_label)
    lack = "an accessible label describing the figure";
  if (lack != NULL)
    {
      g_autofree char *what = describe (widget);
      g_ptr_array_add (problems, g_strdup_printf ("%s lacks %s", what, lack));
    }

  /* What was recorded is what GTK holds. */
  if (has_label)
    {
      g_autofree char *differs = gtk_test_accessible_check_property (
        GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, label);
      if (differs != NULL)
        g_ptr_array_add (problems, g_strdup_printf ("%s: accessible label %s, recorded \"%s\"",
                                                    type, differs, label));
    }
  if (scope_accessible_get_labelled_by (widget) != NULL
      && !gtk_test_accessible_has_relation (GTK_ACCESSIBLE (widget),
                                            GTK_ACCESSIBLE_RELATION_LABELLED_BY))
    g_ptr_array_add (problems, g_strdup_printf ("%s: labelled-by recorded but not set", type));

  /* The parts of a compound control are GTK's. */
  if (GTK_IS_SPIN_BUTTON (widget) || GTK_IS_SCALE (widget) || GTK_IS_DROP_DOWN (widget)
      || GTK_IS_MENU_BUTTON (widget))
    return;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    check_tree (c, problems);
}

/* The problems under root, reported; their number. */
static guint
count_problems (GtkWidget  *root,
                const char *where)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  check_tree (root, problems);
  for (guint i = 0; i < problems->len; i++)
    g_test_message ("%s: %s", where, (const char *) problems->pdata[i]);
  return problems->len;
}

/* The checker finds what bare widgets lack, and what scope_accessible_name_controls and
 * scope_accessible_set_label give them. */
static void
test_checker (void)
{
  GtkWidget *box = g_object_ref_sink (gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0));
  GtkWidget *icon = gtk_button_new_from_icon_name ("document-open-symbolic");
  GtkWidget *label = gtk_label_new ("Steps");
  GtkWidget *spin = gtk_spin_button_new_with_range (0, 10, 1);
  GtkWidget *area = gtk_drawing_area_new ();
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), spin);
  gtk_box_append (GTK_BOX (box), area);
  g_assert_cmpuint (count_problems (box, "bare"), ==, 3);
  gtk_widget_set_tooltip_text (icon, "Open Model");
  g_assert_cmpuint (count_problems (box, "tooltip only"), ==, 3);
  scope_accessible_name_controls (box);
  g_assert_cmpstr (scope_accessible_get_label (icon), ==, "Open Model");
  g_assert_true (scope_accessible_get_labelled_by (spin) == label);
  g_assert_cmpuint (count_problems (box, "named"), ==, 1);
  scope_accessible_set_label (area, "Grad-CAM map of layer4 for class 3");
  g_assert_cmpuint (count_problems (box, "all named"), ==, 0);
  g_object_unref (box);
}

static gboolean
window_settled (gpointer data)
{
  ScopeWindow *window = data;
  return scope_window_get_activations (window) != NULL && !scope_window_is_busy (window);
}

static gboolean
view_settled (gpointer data)
{
  return !scope_window_is_busy (data);
}

static int frames;

static gboolean
count_frame (GtkWidget     *widget,
             GdkFrameClock *clock,
             gpointer       data)
{
  (void) widget;
  (void) clock;
  (void) data;
  frames++;
  return G_SOURCE_CONTINUE;
}

static gboolean
frames_drawn (gpointer data)
{
  return frames >= GPOINTER_TO_INT (data);
}

/* Lets widget lay out and draw a few frames. */
static void
wait_frames (GtkWidget *widget)
{
  frames = 0;
  guint id = gtk_widget_add_tick_callback (widget, count_frame, NULL, NULL);
  test_util_wait (frames_drawn, GINT_TO_POINTER (3), "frames to be drawn");
  gtk_widget_remove_tick_callback (widget, id);
}

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_descendant (c, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWindow *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) toplevel = g_list_model_get_item (toplevels, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (toplevel, type))
        return toplevel;
    }
  return NULL;
}

static gboolean
explain_figure_named (gpointer data)
{
  const char *label = scope_accessible_get_label (data);
  return label != NULL && strstr (label, "nothing shown") == NULL;
}

/* Each view of the demo window shown in turn, and the whole window walked; the Explain view's
 * map is named by its panel's title once drawn; then the Preferences window. */
static void
test_window (void)
{
  g_application_activate (G_APPLICATION (app));
  ScopeWindow *window = SCOPE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  test_util_wait (window_settled, window, "activations of the demo model");

  AdwViewStack *stack = ADW_VIEW_STACK (find_descendant (GTK_WIDGET (window),
                                                         ADW_TYPE_VIEW_STACK));
  g_autoptr (GtkSelectionModel) pages = adw_view_stack_get_pages (stack);
  guint n_pages = g_list_model_get_n_items (G_LIST_MODEL (pages));
  g_assert_cmpuint (n_pages, >=, 6);
  guint problems = 0;
  for (guint i = 0; i < n_pages; i++)
    {
      g_autoptr (AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), i);
      const char *name = adw_view_stack_page_get_name (page);
      g_assert_true (scope_window_show_view (window, name));
      test_util_wait (view_settled, window, "the view's work");
      wait_frames (GTK_WIDGET (window));
      problems += count_problems (GTK_WIDGET (window), name);
      if (g_str_equal (name, "explain"))
        {
          GtkWidget *figure = find_descendant (adw_view_stack_page_get_child (page),
                                               SCOPE_TYPE_EXPLAIN_FIGURE);
          g_assert_nonnull (figure);
          test_util_wait (explain_figure_named, figure, "the attribution map's name");
          g_test_message ("explain figure: %s", scope_accessible_get_label (figure));
        }
    }
  g_assert_cmpuint (problems, ==, 0);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "app.preferences", NULL));
  GtkWindow *prefs = find_toplevel (ADW_TYPE_PREFERENCES_WINDOW);
  g_assert_true (ADW_IS_PREFERENCES_WINDOW (prefs));
  wait_frames (GTK_WIDGET (prefs));
  /* Its page: the window around it (search, page switcher) is libadwaita's. */
  GtkWidget *page = find_descendant (GTK_WIDGET (prefs), ADW_TYPE_PREFERENCES_PAGE);
  g_assert_nonnull (page);
  g_assert_cmpuint (count_problems (page, "preferences"), ==, 0);
  gtk_window_destroy (prefs);

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_close (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_null (window);
}

int
main (int    argc,
      char **argv)
{
  /* GTK's test accessibility context keeps the properties set, for the comparison. */
  g_setenv ("GTK_A11Y", "test", TRUE);
  g_test_init (&argc, &argv, NULL);
  gtk_init ();

  app = scope_application_new (G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_test_add_func ("/ui/accessible/checker", test_checker);
  g_test_add_func ("/ui/accessible/window", test_window);
  int status = g_test_run ();
  g_object_unref (app);
  return status;
}
