/* SPDX-License-Identifier: MIT */
/* The inputs of a folder for the batch commands (cli-inputs.h). */
#include "cli-inputs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli-common.h"

/* True when path ends with ext (".png"), ignoring case. */
bool
cli_has_extension (const char *path,
                   const char *ext)
{
  size_t lp = strlen (path), le = strlen (ext);
  return lp > le && strcasecmp (path + lp - le, ext) == 0;
}

/* Whether the file at path is an input of a folder run: an image, DICOM slice or .npy, but not
 * the lesion mask or the windowed copy that `synth ct` writes beside each slice, nor a DICOM
 * file with a PNG of the same name beside it (the same slice, written both ways). */
bool
cli_is_folder_input (const char *path)
{
  if (nn_mask_path_is_mask (path) || cli_has_extension (path, ".lung.png"))
    return false;
  if (cli_has_extension (path, ".dcm"))
    {
      char twin[4096];
      struct stat st;
      return snprintf (twin, sizeof twin, "%.*s.png", (int) strlen (path) - 4, path)
             >= (int) sizeof twin || stat (twin, &st) != 0;
    }
  return cli_has_extension (path, ".png") || cli_has_extension (path, ".jpg")
         || cli_has_extension (path, ".jpeg") || cli_has_extension (path, ".npy");
}

bool
cli_names_add (CliNames   *names,
               const char *name)
{
  if (names->n == names->cap)
    {
      int cap = names->cap ? 2 * names->cap : 64;
      char **grown = realloc (names->items, sizeof (char *) * (size_t) cap);
      if (grown == NULL)
        return false;
      names->items = grown;
      names->cap = cap;
    }
  return (names->items[names->n++] = strdup (name)) != NULL;
}

void
cli_names_clear (CliNames *names)
{
  for (int i = 0; i < names->n; i++)
    free (names->items[i]);
  free (names->items);
  *names = (CliNames) { 0 };
}

static int
compare_names (const void *a,
               const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The entries of the folder at path, sorted, without hidden ones. */
static bool
list_folder (const char *path,
             CliNames   *names)
{
  DIR *d = opendir (path);
  if (d == NULL)
    return cli_fail (CLI_EXIT_FAILURE, "%s: cannot open the folder: %s", path,
                     strerror (errno)), false;
  struct dirent *e;
  bool ok = true;
  while (ok && (e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      ok = cli_names_add (names, e->d_name);
  closedir (d);
  if (!ok)
    return cli_fail (CLI_EXIT_FAILURE, "%s: out of memory listing the inputs", path), false;
  if (names->n > 1)
    qsort (names->items, (size_t) names->n, sizeof (char *), compare_names);
  return true;
}

/* Symbolic links count only when they lead to a file; a FIFO named *.png would block the
 * reader. */
bool
cli_collect_inputs (const char *root,
                    const char *rel,
                    CliNames   *list)
{
  char path[4096];
  snprintf (path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
  CliNames names = { 0 };
  bool ok = list_folder (path, &names);
  for (int i = 0; ok && i < names.n; i++)
    {
      char sub[4096], full[4096];
      struct stat st;
      if (snprintf (sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", names.items[i])
          >= (int) sizeof sub
          || snprintf (full, sizeof full, "%s/%s", root, sub) >= (int) sizeof full
          || lstat (full, &st) != 0)
        continue;
      /* Symbolic links count only when they lead to a file: a linked folder could loop. */
      if (S_ISLNK (st.st_mode) && (stat (full, &st) != 0 || !S_ISREG (st.st_mode)))
        continue;
      if (S_ISDIR (st.st_mode))
        ok = cli_collect_inputs (root, sub, list);
      else if (S_ISREG (st.st_mode) && cli_is_folder_input (full) && !cli_names_add (list, sub))
        {
          cli_fail (CLI_EXIT_FAILURE, "%s: out of memory listing the inputs", root);
          ok = false;
        }
    }
  cli_names_clear (&names);
  return ok;
}
