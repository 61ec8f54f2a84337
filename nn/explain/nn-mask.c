/* SPDX-License-Identifier: MIT */
/* Ground-truth masks: the naming rule beside an input, and reading a mask at the model's input
 * size. */
#include "explain/nn-mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MASK_SUFFIX ".mask.png"

char *
nn_mask_path_new (const char *input_path)
{
  NN_ASSERT (input_path != NULL);
  const char *dot = strrchr (input_path, '.');
  const char *slash = strrchr (input_path, '/');
  size_t stem = dot != NULL && (slash == NULL || dot > slash) ? (size_t) (dot - input_path)
                                                              : strlen (input_path);
  size_t size = stem + sizeof MASK_SUFFIX;
  char *path = malloc (size);
  if (path != NULL)
    snprintf (path, size, "%.*s%s", (int) stem, input_path, MASK_SUFFIX);
  return path;
}

bool
nn_mask_path_is_mask (const char *path)
{
  NN_ASSERT (path != NULL);
  size_t len = strlen (path), suffix = strlen (MASK_SUFFIX);
  return len > suffix && strcasecmp (path + len - suffix, MASK_SUFFIX) == 0;
}

char *
nn_mask_find (const char *input_path)
{
  char *path = nn_mask_path_new (input_path);
  struct stat st;
  if (path != NULL && (stat (path, &st) != 0 || !S_ISREG (st.st_mode)))
    {
      free (path);
      return NULL;
    }
  return path;
}

/* Whether path is a regular file. */
static bool
is_file (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISREG (st.st_mode);
}

char *
nn_mask_volume_find (const char *volume_path)
{
  NN_ASSERT (volume_path != NULL);
  static const char *const exts[] = { ".nii.gz", ".nii" };
  size_t len = strlen (volume_path), stem = 0;
  for (size_t e = 0; e < sizeof exts / sizeof exts[0] && stem == 0; e++)
    {
      size_t n = strlen (exts[e]);
      if (len > n && strcasecmp (volume_path + len - n, exts[e]) == 0)
        stem = len - n;
    }
  if (stem == 0 || (stem > 5 && strncasecmp (volume_path + stem - 5, ".mask", 5) == 0))
    return NULL;
  size_t size = stem + sizeof ".mask.nii.gz";
  char *path = malloc (size);
  for (size_t e = 0; path != NULL && e < sizeof exts / sizeof exts[0]; e++)
    {
      snprintf (path, size, "%.*s.mask%s", (int) stem, volume_path, exts[e]);
      if (is_file (path))
        return path;
    }
  free (path);
  return NULL;
}

uint8_t *
nn_mask_from_image (const NnImage *image,
                    int            h,
                    int            w,
                    size_t        *lit,
                    NnError       *err)
{
  NN_ASSERT (image != NULL && h > 0 && w > 0);
  NnImage *gray = image->c == 1 ? NULL : nn_image_convert (image, 1);
  const NnImage *src = image->c == 1 ? image : gray;
  NnImage *fit = src != NULL && (src->h != h || src->w != w) ? nn_image_fit (src, h, w) : NULL;
  const NnImage *plane = src != NULL && (src->h != h || src->w != w) ? fit : src;
  const size_t n = (size_t) h * (size_t) w;
  uint8_t *mask = plane != NULL ? malloc (n) : NULL;
  size_t count = 0;
  if (mask != NULL)
    for (size_t p = 0; p < n; p++)
      count += mask[p] = plane->data[p] >= NN_MASK_THRESHOLD;
  nn_image_free (fit);
  nn_image_free (gray);
  if (mask == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory fitting the mask to %d x %d", h, w),
           NULL;
  if (lit != NULL)
    *lit = count;
  return mask;
}

uint8_t *
nn_mask_load (const char *path,
              int         h,
              int         w,
              size_t     *lit,
              NnError    *err)
{
  NN_ASSERT (path != NULL);
  NnImage *image = nn_image_load (path, err);
  if (image == NULL)
    return NULL;
  uint8_t *mask = nn_mask_from_image (image, h, w, lit, err);
  nn_image_free (image);
  if (mask == NULL)
    nn_error_prefix (err, "%s", path);
  return mask;
}
