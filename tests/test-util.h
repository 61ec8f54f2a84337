/* SPDX-License-Identifier: MIT */
/* Helpers shared by the test programs: a scratch folder per test (a GTest fixture), removing a
 * folder tree, counting a folder's entries, writing a file, comparing float arrays, waiting on
 * the main context. GLib only. */
#pragma once

#include <glib.h>
#include <stddef.h>

/* A fixture holding a fresh temporary folder, removed with everything in it at teardown. */
typedef struct
{
  char *dir;
} TestUtilTmpDir;

void  test_util_tmp_dir_setup (TestUtilTmpDir *fx,
                               gconstpointer   data);
void  test_util_tmp_dir_teardown (TestUtilTmpDir *fx,
                                  gconstpointer   data);
/* dir/name, to g_free. */
char *test_util_tmp_dir_path (const TestUtilTmpDir *fx,
                              const char           *name);

/* A fresh temporary folder named after the test program, to g_free (after
 * test_util_remove_tree). Asserts on failure. */
char *test_util_make_tmp_dir (void);

/* Removes path and, for a folder, everything in it; symbolic links are removed, never followed. */
void  test_util_remove_tree (const char *path);

/* The number of entries in folder dir. */
int   test_util_count_entries (const char *dir);

/* Writes size bytes to path (created or truncated), asserting on failure. No fsync: some tests
 * write thousands of files. */
void  test_util_write_file (const char *path,
                            const void *bytes,
                            size_t      size);

/* Fails the test unless |a[i] - b[i]| <= tol * (1 + |b[i]|) for every i; the message starts
 * with the printf-style description of what is compared. */
void  test_util_assert_close (const float *a,
                              const float *b,
                              size_t       n,
                              double       tol,
                              const char  *format,
                              ...) G_GNUC_PRINTF (5, 6);

/* Waits on the default main context. They block in g_main_context_iteration (NULL, TRUE) and
 * check their condition after every dispatch; a tick of TEST_UTIL_TICK_MS wakes them for
 * conditions that change on another thread without a main-loop event. Their limit is far above
 * any normal run, so that sanitizers or a loaded machine make a test slower, never failing. */
#define TEST_UTIL_WAIT_LIMIT_S 300
#define TEST_UTIL_TICK_MS      50

/* A stop, cancel or shutdown is prompt when it waits for at most the step in flight, which
 * takes milliseconds; tests allow it this long (microseconds): far more than a step takes under
 * sanitizers on a loaded machine, far less than the runs they stop would go on. */
#define TEST_UTIL_PROMPT_US    (10 * G_USEC_PER_SEC)

typedef gboolean (*TestUtilCondition) (gpointer data);

/* Blocks on the main context until condition (data) holds; fails the test, naming `what`, when
 * TEST_UTIL_WAIT_LIMIT_S seconds pass first. */
#define test_util_wait(condition, data, what)                                           \
  test_util_wait_at (__FILE__, __LINE__, G_STRFUNC, (condition), (data), (what))

void  test_util_wait_at (const char        *file,
                         int                line,
                         const char        *func,
                         TestUtilCondition  condition,
                         gpointer           data,
                         const char        *what);

/* Runs the main context for `seconds` whatever happens: to see that nothing more arrives, or
 * to count what arrives in that time. */
void  test_util_run_for (double seconds);
