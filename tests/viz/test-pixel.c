/* SPDX-License-Identifier: MIT */
/* Reading back pixels drawn into an image surface, for the viz tests. */
#include "test-pixel.h"

#include <glib.h>
#include <math.h>
#include <stddef.h>

uint32_t
test_pixel_at (cairo_surface_t *s,
               double           x,
               double           y)
{
  cairo_surface_flush (s);
  unsigned char *data = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);
  int ix = (int) floor (x), iy = (int) floor (y);
  g_assert_true (ix >= 0 && iy >= 0 && ix < cairo_image_surface_get_width (s)
                 && iy < cairo_image_surface_get_height (s));
  return *(uint32_t *) (void *) (data + (size_t) iy * (size_t) stride + (size_t) ix * 4);
}
