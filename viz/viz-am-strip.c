/* SPDX-License-Identifier: MIT */
/* The strip of activation maximization images. */
#include "viz-am-strip.h"

#include <math.h>

#include "viz-image.h"
#include "viz-text.h"

void
viz_am_strip_draw (cairo_t          *cr,
                   const VizAmStrip *strip,
                   const VizStyle   *style,
                   double            width,
                   double            height)
{
  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
  double m = style->margin, gap = style->gap, line = viz_text_line_height (style);
  double top = 0.0;
  if (strip->title != NULL && strip->title[0] != '\0')
    {
      viz_text_draw_fitted (cr, style, strip->title, m, m, width - 2.0 * m, 0.0, 0.0);
      top = line;
    }
  if (strip->n < 1 || strip->pixels == NULL || strip->h < 1 || strip->w < 1)
    {
      cairo_restore (cr);
      return;
    }
  /* the largest square-pixel tiles that fit in one row, with a label row under them */
  double label = strip->labels != NULL ? line : 0.0;
  double avail_w = (width - 2.0 * m - gap * (strip->n - 1)) / strip->n;
  double avail_h = height - 2.0 * m - top - gap - label;
  double scale = fmin (avail_w / strip->w, avail_h / strip->h);
  if (scale <= 0.0)
    {
      cairo_restore (cr);
      return;
    }
  double tw = scale * strip->w, th = scale * strip->h;
  size_t plane = (size_t) strip->c * (size_t) strip->h * (size_t) strip->w;
  for (int i = 0; i < strip->n; i++)
    {
      double x = m + i * (tw + gap), y = m + top + gap;
      cairo_surface_t *image = viz_image_surface_new (strip->pixels + plane * (size_t) i,
                                                      strip->c, strip->h, strip->w);
      if (image != NULL)
        {
          cairo_save (cr);
          cairo_translate (cr, x, y);
          cairo_scale (cr, scale, scale);
          viz_image_paint_nearest (cr, image, 0, 0, strip->w, strip->h);
          cairo_restore (cr);
          cairo_surface_destroy (image);
        }
      if (strip->labels != NULL && strip->labels[i] != NULL)
        viz_text_draw_fitted (cr, style, strip->labels[i], x, y + th, tw, 0.0, 0.0);
    }
  cairo_restore (cr);
}
