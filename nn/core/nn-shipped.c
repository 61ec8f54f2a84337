/* SPDX-License-Identifier: MIT */
/* Finding shipped files: whether the running program lies in the build tree decides between the
 * build tree and the installation; the installation is looked up from the program's own folder
 * first. */
#include "core/nn-shipped.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn-config.h"

/* The running program's folder, resolved (/proc/self/exe), into dir; false when unknown. */
static bool
program_dir (char dir[PATH_MAX])
{
  ssize_t n = readlink ("/proc/self/exe", dir, PATH_MAX - 1);
  if (n <= 0)
    return false;
  dir[n] = '\0';
  char *slash = strrchr (dir, '/');
  if (slash == NULL)
    return false;
  *slash = '\0';
  return true;
}

/* Whether the folder lies in (or is) this build tree, both resolved. */
static bool
in_build_tree (const char *dir)
{
  char root[PATH_MAX];
  if (realpath (NN_BUILD_ROOT, root) == NULL)
    return false;
  size_t n = strlen (root);
  return strncmp (dir, root, n) == 0 && (dir[n] == '/' || dir[n] == '\0');
}

/* dir/relative into path, its folder resolved (no "..") when that folder exists; false when it
 * does not fit. */
static bool
relative_path (char        path[PATH_MAX],
               const char *dir,
               const char *relative)
{
  int n = snprintf (path, PATH_MAX, "%s/%s", dir, relative);
  if (n <= 0 || n >= PATH_MAX)
    return false;
  char *slash = strrchr (path, '/');
  char folder[PATH_MAX];
  *slash = '\0';
  bool resolved = realpath (path, folder) != NULL;
  *slash = '/';
  if (resolved && strlen (folder) + strlen (slash) < PATH_MAX)
    {
      strcat (folder, slash);
      strcpy (path, folder);
    }
  return true;
}

static char *
dup_or_nomem (const char *path,
              NnError    *err)
{
  char *copy = strdup (path);
  if (copy == NULL)
    nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  return copy;
}

char *
nn_shipped_path (const char *build_path,
                 const char *relative,
                 const char *installed_path,
                 int         mode,
                 NnError    *err)
{
  NN_ASSERT (build_path != NULL && installed_path != NULL);

  char dir[PATH_MAX];
  bool have_dir = program_dir (dir);
  if (have_dir && in_build_tree (dir))
    {
      if (access (build_path, mode) == 0)
        return dup_or_nomem (build_path, err);
      nn_error_set (err, NN_ERROR_IO, "%s is missing from the build tree (is it built?)",
                    build_path);
      return NULL;
    }
  char beside[PATH_MAX] = "";
  if (have_dir && relative != NULL && relative[0] != '\0' && relative_path (beside, dir, relative)
      && access (beside, mode) == 0)
    return dup_or_nomem (beside, err);
  if (access (installed_path, mode) == 0)
    return dup_or_nomem (installed_path, err);
  if (beside[0] != '\0')
    nn_error_set (err, NN_ERROR_IO, "%s is not installed (looked for %s and %s)",
                  installed_path, beside, installed_path);
  else
    nn_error_set (err, NN_ERROR_IO, "%s is not installed", installed_path);
  return NULL;
}
