/* SPDX-License-Identifier: MIT */
/* Preferences without a session bus: they go to a key file under the user's configuration
 * folder (the window's size and the recent files survive the window), and the first window
 * says so once. Runs with no GSETTINGS_BACKEND and a session bus address that leads nowhere. */
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <string.h>

#include "scope-application.h"
#include "scope-window.h"
#include "test-util.h"

static char             *tmp;
static ScopeApplication *app;

static gboolean
window_settled (gpointer data)
{
  ScopeWindow *window = data;
  return scope_window_get_activations (window) != NULL && !scope_window_is_busy (window);
}

static ScopeWindow *
open_window (void)
{
  g_application_activate (G_APPLICATION (app));
  ScopeWindow *window = SCOPE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  test_util_wait (window_settled, window, "activations of the demo model");
  return window;
}

static void
close_window (ScopeWindow *window)
{
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_close (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_null (window);
}

static void
test_key_file (void)
{
  g_autofree char *expected = g_build_filename (tmp, "config", "cnnscope", "settings.ini", NULL);
  g_assert_cmpstr (scope_application_get_settings_file (app), ==, expected);
  GSettings *settings = scope_application_get_settings (app);
  g_assert_nonnull (settings);

  ScopeWindow *window = open_window ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1400, 900);
  close_window (window);

  /* The size and the recent files (the demo model and image) are in the file. */
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (expected, &contents, NULL, NULL));
  g_test_message ("%s:\n%s", expected, contents);
  g_assert_nonnull (strstr (contents, "window-width=1400"));
  g_assert_nonnull (strstr (contents, "window-height=900"));
  g_assert_nonnull (strstr (contents, "demo-pfnet-fashion.safetensors"));

  /* A store read afresh from the file has them: they last beyond this run. */
  g_autoptr (GSettingsBackend) backend = g_keyfile_settings_backend_new (
    expected, "/org/cnnscope/Cnnscope/", "cnnscope");
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (settings, "settings-schema", &schema, NULL);
  g_autoptr (GSettings) again = g_settings_new_full (schema, backend, NULL);
  g_assert_cmpint (g_settings_get_int (again, "window-width"), ==, 1400);

  /* The next window opens at that size. */
  window = open_window ();
  int width, height;
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 1400);
  g_assert_cmpint (height, ==, 900);
  close_window (window);
}

int
main (int    argc,
      char **argv)
{
  /* Before anything reads them: no bus, no chosen store, a configuration folder of our own. */
  tmp = test_util_make_tmp_dir ();
  g_autofree char *config = g_build_filename (tmp, "config", NULL);
  g_autofree char *bus = g_strdup_printf ("unix:path=%s/no-bus", tmp);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", bus, TRUE);
  g_unsetenv ("GSETTINGS_BACKEND");
  g_test_init (&argc, &argv, NULL);

  app = scope_application_new (G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_test_add_func ("/ui/settings-file/key-file", test_key_file);
  int status = g_test_run ();
  g_object_unref (app);
  test_util_remove_tree (tmp);
  g_free (tmp);
  return status;
}
