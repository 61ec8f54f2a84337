/* SPDX-License-Identifier: MIT */
/* The defaults of activation maximization in the preferences (the memory settings backend):
 * set before a window opens, its Maximize view starts with them; changed in the Preferences
 * window, the keys and the view follow; changed in the store, the Preferences rows and the view
 * follow. The other settings of the view (the seed, the transforms on) stay as they were. The
 * Compare view's AM runs take the Maximize view's starting settings and follow the keys. */
#include <adwaita.h>
#include <math.h>

#include "scope-application.h"
#include "scope-compare-view.h"
#include "scope-maximize-view.h"
#include "scope-window.h"
#include "test-util.h"

static ScopeApplication *app;

static gboolean
window_settled (gpointer data)
{
  ScopeWindow *window = data;
  return scope_window_get_activations (window) != NULL && !scope_window_is_busy (window);
}

static GtkWidget *
find_widget (GtkWidget  *widget,
             GType       type,
             const char *name)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type)
      && (name == NULL || g_strcmp0 (gtk_widget_get_name (widget), name) == 0))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_widget (c, type, name);
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

/* The Compare view's AM settings are the Maximize view's as it started (m): the preferences
 * and the view's own defaults. */
static void
assert_compare_defaults (ScopeWindow        *window,
                         const NnAmSettings *m)
{
  ScopeCompareView *compare = SCOPE_COMPARE_VIEW (find_widget (GTK_WIDGET (window),
                                                               SCOPE_TYPE_COMPARE_VIEW, NULL));
  g_assert_nonnull (compare);
  NnAmSettings c;
  scope_compare_view_get_am_defaults (compare, &c);
  g_assert_cmpint (c.steps, ==, m->steps);
  g_assert_cmpfloat (c.lr, ==, m->lr);
  g_assert_cmpint (c.optimizer, ==, m->optimizer);
  g_assert_cmpint (c.param, ==, m->param);
  g_assert_cmpint (c.pad, ==, m->pad);
  g_assert_cmpint (c.jitter, ==, m->jitter);
  g_assert_cmpfloat (c.scale, ==, m->scale);
  g_assert_cmpfloat (c.rotate, ==, m->rotate);
  g_assert_cmpfloat (c.blur, ==, m->blur);
  g_assert_cmpint (c.objective, ==, m->objective);
  g_assert_cmpint (c.policy.kind, ==, m->policy.kind);
  g_assert_cmpuint (c.transforms, ==, m->transforms);
  g_assert_cmpuint (c.seed, ==, m->seed);
  g_assert_cmpfloat (c.l2, ==, m->l2);
  g_assert_cmpfloat (c.tv, ==, m->tv);
  g_assert_cmpfloat (c.warmup, ==, m->warmup);
}

static void
test_am_defaults (void)
{
  GSettings *settings = scope_application_get_settings (app);
  g_assert_nonnull (settings);
  g_settings_set_int (settings, "am-steps", 40);
  g_settings_set_double (settings, "am-learning-rate", 0.2);
  g_settings_set_string (settings, "am-optimizer", "adam");
  g_settings_set_string (settings, "am-parameterization", "fourier");
  g_settings_set_int (settings, "am-pad", 7);
  g_settings_set_int (settings, "am-jitter", 5);
  g_settings_set_double (settings, "am-scale", 0.25);
  g_settings_set_double (settings, "am-rotate", 12);
  g_settings_set_double (settings, "am-blur", 1.5);

  g_application_activate (G_APPLICATION (app));
  ScopeWindow *window = SCOPE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  test_util_wait (window_settled, window, "activations of the demo model");
  ScopeMaximizeView *view = SCOPE_MAXIMIZE_VIEW (find_widget (GTK_WIDGET (window),
                                                              SCOPE_TYPE_MAXIMIZE_VIEW, NULL));
  g_assert_nonnull (view);

  /* The view starts with the preferences; what they do not hold keeps the view's defaults. */
  NnAmSettings s, plain;
  nn_am_settings_init (&plain);
  scope_maximize_view_get_settings (view, &s);
  g_assert_cmpint (s.steps, ==, 40);
  g_assert_cmpfloat_with_epsilon (s.lr, 0.2, 1e-6);
  g_assert_cmpint (s.optimizer, ==, NN_AM_OPTIMIZER_ADAM);
  g_assert_cmpint (s.param, ==, NN_AM_PARAM_FOURIER);
  g_assert_cmpint (s.pad, ==, 7);
  g_assert_cmpint (s.jitter, ==, 5);
  g_assert_cmpfloat_with_epsilon (s.scale, 0.25, 1e-6);
  g_assert_cmpfloat_with_epsilon (s.rotate, 12.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (s.blur, 1.5, 1e-6);
  g_assert_cmpuint (s.seed, ==, plain.seed);
  guint transforms = s.transforms;
  assert_compare_defaults (window, &s);

  /* A change in the Preferences window goes to the key and to the view. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "app.preferences", NULL));
  GtkWindow *prefs = find_toplevel (ADW_TYPE_PREFERENCES_WINDOW);
  g_assert_true (ADW_IS_PREFERENCES_WINDOW (prefs));
  GtkSpinButton *steps = GTK_SPIN_BUTTON (find_widget (GTK_WIDGET (prefs),
                                                       GTK_TYPE_SPIN_BUTTON, "am-steps-spin"));
  g_assert_nonnull (steps);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (steps), ==, 40);
  gtk_spin_button_set_value (steps, 96);
  g_assert_cmpint (g_settings_get_int (settings, "am-steps"), ==, 96);
  AdwComboRow *param = ADW_COMBO_ROW (find_widget (GTK_WIDGET (prefs), ADW_TYPE_COMBO_ROW,
                                                   "am-param-row"));
  g_assert_nonnull (param);
  g_assert_cmpuint (adw_combo_row_get_selected (param), ==, 1);
  adw_combo_row_set_selected (param, 0);
  g_autofree char *nick = g_settings_get_string (settings, "am-parameterization");
  g_assert_cmpstr (nick, ==, "pixels");
  scope_maximize_view_get_settings (view, &s);
  g_assert_cmpint (s.steps, ==, 96);
  g_assert_cmpint (s.param, ==, NN_AM_PARAM_PIXELS);
  assert_compare_defaults (window, &s);

  /* A change in the store reaches the Preferences row and the view. */
  g_settings_set_double (settings, "am-rotate", 30);
  GtkSpinButton *rotate = GTK_SPIN_BUTTON (find_widget (GTK_WIDGET (prefs),
                                                        GTK_TYPE_SPIN_BUTTON, "am-rotate-spin"));
  g_assert_cmpfloat (gtk_spin_button_get_value (rotate), ==, 30.0);
  scope_maximize_view_get_settings (view, &s);
  g_assert_cmpfloat_with_epsilon (s.rotate, 30.0, 1e-6);
  g_assert_cmpint (s.optimizer, ==, NN_AM_OPTIMIZER_ADAM);
  g_assert_cmpuint (s.transforms, ==, transforms);
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
  g_test_init (&argc, &argv, NULL);

  app = scope_application_new (G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_test_add_func ("/ui/am-defaults/preferences", test_am_defaults);
  int status = g_test_run ();
  g_object_unref (app);
  return status;
}
