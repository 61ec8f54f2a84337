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

/* The smallest magnification of a pixel in an SVG export, and the largest image made. */
#define SVG_MIN_BLOCK  8
#define SVG_MAX_PIXELS (16 * 1024 * 1024)

/* The pixels (sx, sy, sw, sh) of image, each a k x k block; NULL when it cannot be made. */
static cairo_surface_t *
magnified_new (cairo_surface_t *image,
               int              sx,
               int              sy,
               int              sw,
               int              sh,
               int              k)
{
  cairo_surface_t *big = cairo_image_surface_create (cairo_image_surface_get_format (image),
                                                     sw * k, sh * k);
  if (cairo_surface_status (big) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (big);
      return NULL;
    }
  cairo_surface_flush (image);
  const unsigned char *src = cairo_image_surface_get_data (image);
  int src_stride = cairo_image_surface_get_stride (image);
  unsigned char *dst = cairo_image_surface_get_data (big);
  int dst_stride = cairo_image_surface_get_stride (big);
  for (int y = 0; y < sh * k; y++)
    {
      const uint32_t *in = (const uint32_t *) (src + (size_t) (sy + y / k) * (size_t) src_stride)
                           + sx;
      uint32_t *out = (uint32_t *) (dst + (size_t) y * (size_t) dst_stride);
      for (int x = 0; x < sw * k; x++)
        out[x] = in[x / k];
    }
  cairo_surface_mark_dirty (big);
  return big;
}

void
viz_image_paint_nearest (cairo_t         *cr,
                         cairo_surface_t *image,
                         int              sx,
                         int              sy,
                         int              sw,
                         int              sh)
{
  NN_ASSERT (cr != NULL && image != NULL);
  NN_ASSERT (cairo_surface_get_type (image) == CAIRO_SURFACE_TYPE_IMAGE);
  NN_ASSERT (cairo_image_surface_get_format (image) == CAIRO_FORMAT_RGB24
             || cairo_image_surface_get_format (image) == CAIRO_FORMAT_ARGB32);
  NN_ASSERT (sx >= 0 && sy >= 0 && sw >= 1 && sh >= 1);
  NN_ASSERT (sx + sw <= cairo_image_surface_get_width (image)
             && sy + sh <= cairo_image_surface_get_height (image));

  cairo_save (cr);
  cairo_surface_t *magnified = NULL;
  int k = 1;
  if (cairo_surface_get_type (cairo_get_target (cr)) == CAIRO_SURFACE_TYPE_SVG)
    {
      /* At least SVG_MIN_BLOCK output pixels per pixel, more when it is drawn larger. */
      double dx = 1.0, dy = 1.0;
      cairo_user_to_device_distance (cr, &dx, &dy);
      double scale = fmax (fabs (dx), fabs (dy));
      k = (int) fmax (SVG_MIN_BLOCK, ceil (fmin (scale, 64.0)));
      while (k > 1 && (double) sw * sh * k * k > SVG_MAX_PIXELS)
        k--;
      if (k > 1)
        magnified = magnified_new (image, sx, sy, sw, sh, k);
    }
  if (magnified != NULL)
    {
      cairo_scale (cr, 1.0 / k, 1.0 / k);
      cairo_set_source_surface (cr, magnified, 0.0, 0.0);
      cairo_surface_destroy (magnified);
      cairo_rectangle (cr, 0.0, 0.0, (double) sw * k, (double) sh * k);
    }
  else
    {
      cairo_set_source_surface (cr, image, -(double) sx, -(double) sy);
      cairo_rectangle (cr, 0.0, 0.0, sw, sh);
    }
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_fill (cr);
  cairo_restore (cr);
}
