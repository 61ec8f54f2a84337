/* SPDX-License-Identifier: MIT */
/* Window/level of CT slices and reading a slice from DICOM, 16-bit PNG or 8-bit images. */
#include "io/nn-ct.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "io/nn-dicom.h"
#include "io/nn-file.h"

static const struct
{
  const char *name;
  NnCtWindow  window;
} presets[] = {
  { "lung", NN_CT_WINDOW_LUNG },
  { "mediastinum", NN_CT_WINDOW_MEDIASTINUM },
  { "bone", NN_CT_WINDOW_BONE },
};

#define N_PRESETS (sizeof presets / sizeof presets[0])

bool
nn_ct_window_parse (const char *text,
                    NnCtWindow *window,
                    NnError    *err)
{
  NN_ASSERT (text != NULL && window != NULL);
  for (size_t i = 0; i < N_PRESETS; i++)
    if (strcmp (text, presets[i].name) == 0)
      {
        *window = presets[i].window;
        return true;
      }
  char *end = NULL;
  errno = 0;
  double w = strtod (text, &end);
  bool ok = end != text && *end == ',' && errno == 0 && isfinite (w) && w > 0.0 && w <= 1e5;
  double l = 0.0;
  if (ok)
    {
      const char *rest = end + 1;
      l = strtod (rest, &end);
      ok = end != rest && *end == '\0' && errno == 0 && isfinite (l) && fabs (l) <= 1e5;
    }
  if (!ok)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "bad window '%s' (expected lung, mediastinum, bone, or W,L in HU "
                         "with W > 0, e.g. 400,40)", text);
  window->width = (float) w;
  window->level = (float) l;
  return true;
}

const char *
nn_ct_window_name (const NnCtWindow *window)
{
  NN_ASSERT (window != NULL);
  for (size_t i = 0; i < N_PRESETS; i++)
    if (window->width == presets[i].window.width && window->level == presets[i].window.level)
      return presets[i].name;
  return NULL;
}

void
nn_ct_window_format (const NnCtWindow *window,
                     char             *buf,
                     size_t            size)
{
  NN_ASSERT (window != NULL && buf != NULL && size > 0);
  const char *name = nn_ct_window_name (window);
  if (name != NULL)
    snprintf (buf, size, "%s (W %g, L %g)", name, (double) window->width,
              (double) window->level);
  else
    snprintf (buf, size, "W %g, L %g", (double) window->width, (double) window->level);
}

void
nn_ct_window_apply (const NnCtWindow *window,
                    float            *out,
                    const float      *hu,
                    size_t            n)
{
  NN_ASSERT (window != NULL && window->width > 0.0f && (out != NULL || n == 0));
  float lo = window->level - 0.5f * window->width;
  float inv = 1.0f / window->width;
  for (size_t i = 0; i < n; i++)
    {
      float v = (hu[i] - lo) * inv;
      /* NaN fails both comparisons and becomes 0. */
      out[i] = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;
    }
}

NnImage *
nn_ct_window_image (const NnImage    *image,
                    const NnCtWindow *window)
{
  NN_ASSERT (image != NULL && window != NULL);
  NnImage *out = nn_image_new (image->c, image->h, image->w);
  if (out == NULL)
    return NULL;
  out->bit_depth = 8;
  nn_ct_window_apply (window, out->data, image->data,
                      (size_t) image->c * image->h * image->w);
  return out;
}

float
nn_ct_hu_from_png16 (float value)
{
  return value * 65535.0f - NN_CT_PNG_OFFSET;
}

float
nn_ct_png16_from_hu (float hu)
{
  return (hu + NN_CT_PNG_OFFSET) / 65535.0f;
}

bool
nn_ct_save_png16 (const NnImage *image,
                  const char    *path,
                  NnError       *err)
{
  NN_ASSERT (image != NULL && image->c == 1 && path != NULL);
  NnImage *png = nn_image_new (1, image->h, image->w);
  if (png == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
  for (size_t i = 0; i < (size_t) image->h * image->w; i++)
    png->data[i] = nn_ct_png16_from_hu (image->data[i]);
  bool ok = nn_image_save_png (png, path, 16, err);
  nn_image_free (png);
  return ok;
}

/* The first bytes of a file; false with err set when it cannot be read. */
static bool
read_head (const char    *path,
           unsigned char *head,
           size_t         size,
           size_t        *got,
           NnError       *err)
{
  uint64_t file_size;
  int fd = nn_file_open_regular (path, &file_size, err);
  if (fd < 0)
    return false;
  *got = file_size < size ? (size_t) file_size : size;
  bool ok = nn_file_read_at (fd, path, head, *got, 0, err);
  close (fd);
  return ok;
}

NnImage *
nn_ct_load (const char *path,
            NnError    *err)
{
  NN_ASSERT (path != NULL);
  unsigned char head[132];
  size_t got = 0;
  if (!read_head (path, head, sizeof head, &got, err))
    return NULL;
  if (got >= 132 && memcmp (head + 128, "DICM", 4) == 0)
    return nn_dicom_load (path, err);

  static const unsigned char png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  bool png = got >= 26 && memcmp (head, png_magic, 8) == 0 && memcmp (head + 12, "IHDR", 4) == 0;
  int depth = png ? head[24] : 0, color = png ? head[25] : 0;
  if (png && depth == 16 && color != 0)
    {
      static const char *const color_names[] = {
        "gray", "?", "RGB", "palette", "gray + alpha", "?", "RGBA",
      };
      nn_error_set (err, NN_ERROR_UNSUPPORTED,
                    "%s: a 16-bit %s PNG is not a CT slice (expected 16-bit gray, HU + 1024)",
                    path, color < 7 ? color_names[color] : "?");
      return NULL;
    }
  bool jpeg = got >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff;
  size_t len = strlen (path);
  if (!png && !jpeg && len > 4 && strcasecmp (path + len - 4, ".dcm") == 0)
    return nn_dicom_load (path, err);
  if (got > 0 && !jpeg && (got < sizeof png_magic || memcmp (head, png_magic, 8) != 0))
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: unsupported input (not a PNG, JPEG "
                         "or DICOM file)", path), NULL;
  NnImage *image = nn_image_load (path, err);
  if (image == NULL)
    return NULL;
  if (image->bit_depth == 16 && image->c == 1)
    {
      for (size_t i = 0; i < (size_t) image->h * image->w; i++)
        image->data[i] = nn_ct_hu_from_png16 (image->data[i]);
      image->hu = true;
    }
  return image;
}
