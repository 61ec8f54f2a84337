/* SPDX-License-Identifier: MIT */
/* Float pixels to an RGB24 surface. */
#include "viz-image.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "nn.h"

/* v in [0, 1] (clamped, NaN as 0) as 0..255. */
static uint32_t
byte_of (float v)
{
  if (!(v > 0.0f))
    return 0;
  if (v >= 1.0f)
    return 255;
  return (uint32_t) lrintf (v * 255.0f);
}

cairo_surface_t *
viz_image_surface_new (const float *pixels,
                       int          c,
                       int          h,
                       int          w)
{
  NN_ASSERT (pixels != NULL && c >= 1 && h >= 1 && w >= 1);

  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  if (cairo_surface_status (s) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (s);
      return NULL;
    }
  cairo_surface_flush (s);
  unsigned char *data = cairo_image_surface_get_data (s);
  size_t stride = (size_t) cairo_image_surface_get_stride (s);
  size_t hw = (size_t) h * (size_t) w;
  for (int y = 0; y < h; y++)
    {
      uint32_t *row = (uint32_t *) (void *) (data + (size_t) y * stride);
      for (int x = 0; x < w; x++)
        {
          size_t i = (size_t) y * (size_t) w + (size_t) x;
          uint32_t rgb[3];
          for (int k = 0; k < 3; k++)
            rgb[k] = byte_of (pixels[(size_t) (c >= 3 ? k : 0) * hw + i]);
          row[x] = (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
        }
    }
  cairo_surface_mark_dirty (s);
  return s;
}
