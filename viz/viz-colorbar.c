/* SPDX-License-Identifier: MIT */
/* Colour bar drawing and tick placement. */
#include "viz-colorbar.h"

#include <math.h>
#include <stdio.h>

#include "viz-text.h"

#define TICK_LEN 4.0

int
viz_colorbar_ticks (double  lo,
                    double  hi,
                    double *ticks,
                    int     max)
{
  if (max < 2)
    return 0;
  double range = hi - lo;
  int n = 0;
  if (range > 0.0 && isfinite (range))
    {
      double raw = range / 4.0;
      double mag = pow (10.0, floor (log10 (raw)));
      double norm = raw / mag;
      double step = (norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0) * mag;
      double first = ceil (lo / step - 1e-9);
      for (double k = first; n < max; k += 1.0)
        {
          double v = k * step;
          if (v > hi + step * 1e-9)
            break;
          ticks[n++] = fabs (v) < step * 1e-9 ? 0.0 : v;
        }
    }
  if (n < 2)
    {
      ticks[0] = lo;
      ticks[1] = hi;
      n = 2;
    }
  return n;
}

void
viz_colorbar_draw (cairo_t           *cr,
                   const VizColormap *cm,
                   const VizStyle    *style,
                   double             width,
                   double             height)
{
  (void) width;
  /* Whole device units, so the bar's outline is crisp on an unscaled surface. */
  double half = 0.5 * viz_text_line_height (style);
  double bar_w = round (style->colorbar_width);
  double y0 = ceil (half), bar_h = floor (height - y0 - half);
  if (bar_h <= 1.0)
    return;

  cairo_save (cr);
  /* The map as a 1 x 256 column, top = hi, stretched over the bar. */
  cairo_surface_t *column = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1,
                                                        VIZ_COLORMAP_LUT_SIZE);
  unsigned char *pixels = cairo_image_surface_get_data (column);
  int stride = cairo_image_surface_get_stride (column);
  if (pixels != NULL)
    {
      for (int i = 0; i < VIZ_COLORMAP_LUT_SIZE; i++)
        *(uint32_t *) (void *) (pixels + (size_t) i * (size_t) stride) =
          cm->lut[VIZ_COLORMAP_LUT_SIZE - 1 - i];
      cairo_surface_mark_dirty (column);
      cairo_save (cr);
      cairo_rectangle (cr, 0.0, y0, bar_w, bar_h);
      cairo_clip (cr);
      cairo_translate (cr, 0.0, y0);
      cairo_scale (cr, bar_w, bar_h / VIZ_COLORMAP_LUT_SIZE);
      cairo_set_source_surface (cr, column, 0.0, 0.0);
      cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
      cairo_paint (cr);
      cairo_restore (cr);
    }
  cairo_surface_destroy (column);

  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         style->foreground[3]);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, 0.5, y0 + 0.5, bar_w - 1.0, bar_h - 1.0);
  cairo_stroke (cr);

  double ticks[16];
  int n = viz_colorbar_ticks (cm->lo, cm->hi, ticks, 16);
  for (int i = 0; i < n; i++)
    {
      double y = y0 + bar_h * (cm->hi - ticks[i]) / (cm->hi - cm->lo);
      cairo_move_to (cr, bar_w, y);
      cairo_line_to (cr, bar_w + TICK_LEN, y);
      cairo_stroke (cr);
      char label[32];
      viz_text_format_value (label, sizeof label, 4, ticks[i]);
      viz_text_draw (cr, style, label, bar_w + TICK_LEN + 2.0, y, 0.0, 0.5);
    }
  cairo_restore (cr);
}
