/* SPDX-License-Identifier: MIT */
/* The per-slice class probabilities of a volume as a strip along z. */
#include "viz-volume-strip.h"

#include <math.h>
#include <stdio.h>

#include "viz-colormap.h"
#include "viz-text.h"

/* The mark of a slice far from the training data: a translucent grey band with dark and light
 * diagonal hatching, which reads over every colour of the map and on light and dark themes. */
static void
hatch (cairo_t *cr,
       double   x,
       double   y,
       double   w,
       double   h)
{
  cairo_save (cr);
  cairo_rectangle (cr, x, y, w, h);
  cairo_clip (cr);
  cairo_set_source_rgba (cr, 0.5, 0.5, 0.5, 0.55);
  cairo_paint (cr);
  const double step = 6.0;
  cairo_set_line_width (cr, 1.5);
  for (int pass = 0; pass < 2; pass++)
    {
      double offset = pass * step / 2.0;
      for (double t = x - h + offset; t < x + w; t += step)
        {
          cairo_move_to (cr, t, y + h);
          cairo_line_to (cr, t + h, y);
        }
      double shade = pass == 0 ? 0.15 : 0.9;
      cairo_set_source_rgba (cr, shade, shade, shade, 0.8);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}

void
viz_volume_strip_draw (cairo_t              *cr,
                       const VizVolumeStrip *strip,
                       const VizStyle       *style,
                       double                width,
                       double                height)
{
  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
  if (strip->slices <= 0 || strip->classes <= 0)
    {
      cairo_restore (cr);
      return;
    }
  /* The labels' column: as wide as the widest label. */
  double label_w = 0.0;
  char number[16];
  for (int c = 0; c < strip->classes; c++)
    {
      snprintf (number, sizeof number, "%d", c);
      const char *label = strip->labels != NULL ? strip->labels[c] : number;
      label_w = fmax (label_w, viz_text_width (cr, style, label));
    }
  double x0 = style->margin + label_w + style->gap * 3.0;
  double y0 = style->margin;
  double w = fmax (width - x0 - style->margin, 1.0);
  double legend_h = strip->far != NULL && strip->far_label != NULL
                    ? viz_text_line_height (style) + style->gap : 0.0;
  double h = fmax (height - 2.0 * style->margin - legend_h, 1.0);
  double cw = w / strip->slices, ch = h / strip->classes;

  VizColormap cm;
  viz_colormap_init (&cm, VIZ_COLORMAP_SEQUENTIAL, 0.0, 1.0);
  for (int c = 0; c < strip->classes; c++)
    {
      snprintf (number, sizeof number, "%d", c);
      const char *label = strip->labels != NULL ? strip->labels[c] : number;
      viz_text_draw_fitted (cr, style, label, style->margin, y0 + (c + 0.5) * ch, label_w, 0.0,
                            0.5);
      for (int k = 0; k < strip->done && k < strip->slices; k++)
        {
          double rgb[3];
          float p = strip->probs[(size_t) k * (size_t) strip->classes + (size_t) c];
          viz_colormap_rgb (&cm, (double) p, rgb);
          cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
          /* Columns overlap by a pixel's fraction so no seams show between slices. */
          cairo_rectangle (cr, x0 + k * cw, y0 + c * ch, cw + 0.5, ch);
          cairo_fill (cr);
        }
    }
  if (strip->far != NULL)
    {
      for (int k = 0; k < strip->done && k < strip->slices; k++)
        if (strip->far[k])
          hatch (cr, x0 + k * cw, y0, cw + 0.5, h);
      if (strip->far_label != NULL)
        {
          double ly = y0 + h + style->gap, lh = viz_text_line_height (style);
          hatch (cr, x0, ly + 1.0, lh * 1.6, lh - 2.0);
          viz_text_draw_fitted (cr, style, strip->far_label, x0 + lh * 1.6 + style->gap * 2.0,
                                ly + lh / 2.0, fmax (w - lh * 1.6 - style->gap * 2.0, 1.0),
                                0.0, 0.5);
        }
    }
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1],
                         style->foreground[2], style->foreground[3]);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, x0, y0, w, h);
  cairo_stroke (cr);
  if (strip->current >= 0 && strip->current < strip->slices)
    {
      double x = x0 + (strip->current + 0.5) * cw;
      cairo_set_source_rgba (cr, style->accent[0], style->accent[1], style->accent[2], 1.0);
      cairo_set_line_width (cr, 2.0);
      cairo_move_to (cr, x, y0 - 2.0);
      cairo_line_to (cr, x, y0 + h + 2.0);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}
