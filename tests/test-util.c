/* SPDX-License-Identifier: MIT */
/* Helpers shared by the test programs: scratch folders and files, float comparisons, waits on
 * the main context. */
#include "test-util.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

char *
test_util_make_tmp_dir (void)
{
  char *base = g_path_get_basename (g_get_prgname () != NULL ? g_get_prgname () : "test");
  char *tmpl = g_strconcat (base, "-XXXXXX", NULL);
  GError *error = NULL;
  char *dir = g_dir_make_tmp (tmpl, &error);
  g_assert_no_error (error);
  g_free (tmpl);
  g_free (base);
  return dir;
}

void
test_util_remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      GDir *dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          char *child = g_build_filename (path, name, NULL);
          test_util_remove_tree (child);
          g_free (child);
        }
      if (dir != NULL)
        g_dir_close (dir);
    }
  g_remove (path);
}

int
test_util_count_entries (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  int n = 0;
  while (g_dir_read_name (d) != NULL)
    n++;
  g_dir_close (d);
  return n;
}

void
test_util_write_file (const char *path,
                      const void *bytes,
                      size_t      size)
{
  FILE *file = fopen (path, "wb");
  g_assert_nonnull (file);
  g_assert_cmpuint (fwrite (bytes, 1, size, file), ==, size);
  g_assert_cmpint (fclose (file), ==, 0);
}

void
test_util_tmp_dir_setup (TestUtilTmpDir *fx,
                         gconstpointer   data)
{
  (void) data;
  fx->dir = test_util_make_tmp_dir ();
}

void
test_util_tmp_dir_teardown (TestUtilTmpDir *fx,
                            gconstpointer   data)
{
  (void) data;
  test_util_remove_tree (fx->dir);
  g_free (fx->dir);
}

char *
test_util_tmp_dir_path (const TestUtilTmpDir *fx,
                        const char           *name)
{
  return g_build_filename (fx->dir, name, NULL);
}

void
test_util_assert_close (const float *a,
                        const float *b,
                        size_t       n,
                        double       tol,
                        const char  *format,
                        ...)
{
  for (size_t i = 0; i < n; i++)
    if (!(fabs ((double) a[i] - (double) b[i]) <= tol * (1.0 + fabs ((double) b[i]))))
      {
        va_list ap;
        va_start (ap, format);
        char *what = g_strdup_vprintf (format, ap);
        va_end (ap);
        g_error ("%s: element %zu is %.7g, expected %.7g", what, i, (double) a[i],
                 (double) b[i]);
      }
}

static gboolean
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
tick (gpointer data)
{
  (void) data;
  return G_SOURCE_CONTINUE;
}

void
test_util_wait_at (const char        *file,
                   int                line,
                   const char        *func,
                   TestUtilCondition  condition,
                   gpointer           data,
                   const char        *what)
{
  gboolean expired = FALSE;
  guint limit = g_timeout_add_seconds (TEST_UTIL_WAIT_LIMIT_S, set_flag, &expired);
  guint ticker = g_timeout_add (TEST_UTIL_TICK_MS, tick, NULL);
  gboolean met;
  while (!(met = condition (data)) && !expired)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (ticker);
  if (!expired)
    g_source_remove (limit);
  if (!met)
    {
      char *message = g_strdup_printf ("waited %d s for %s", TEST_UTIL_WAIT_LIMIT_S, what);
      g_assertion_message (G_LOG_DOMAIN, file, line, func, message);
      g_free (message);
    }
}

void
test_util_run_for (double seconds)
{
  gboolean expired = FALSE;
  g_timeout_add ((guint) (seconds * 1000.0), set_flag, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
}
