/* SPDX-License-Identifier: MIT */
/* Helpers shared by the test programs: a scratch folder per test (a GTest fixture), removing a
 * folder tree, counting a folder's entries, writing a file, comparing float arrays. GLib only. */
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
