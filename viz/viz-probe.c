/* SPDX-License-Identifier: MIT */
/* The probe tile of a training run. */
#include "viz-probe.h"

#include "viz-text.h"

/* Draws the lines that are set, one under the other from y; returns the height they took. */
static double
draw_lines (cairo_t        *cr,
            const VizStyle *style,
            const char     *first,
            const char     *second,
            double          x,
            double          y,
            double          width)
{
  double line = viz_text_line_height (style);
  double used = 0.0;
  const char *lines[2] = { first, second };
  for (int i = 0; i < 2; i++)
    if (lines[i] != NULL && lines[i][0] != '\0')
      {
        viz_text_draw_fitted (cr, style, lines[i], x, y + used, width, 0.0, 0.0);
        used += line;
      }
  return used;
}

static void
fill_background (cairo_t        *cr,
                 const VizStyle *style)
{
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
}

void
viz_probe_draw (cairo_t        *cr,
                const VizProbe *probe,
                const VizStyle *style,
                double          width,
                double          height)
{
  cairo_save (cr);
  fill_background (cr, style);
  double m = style->margin;
  double top = draw_lines (cr, style, probe->title, probe->subtitle, m, m, width - 2.0 * m);
  double h = height - 2.0 * m - top;
  if (h > 1.0 && width - 2.0 * m > 1.0)
    {
      VizStyle inner = *style;
      inner.margin = 0.0;
      inner.background[3] = 0.0;
      cairo_translate (cr, m, m + top + (top > 0.0 ? style->gap : 0.0));
      viz_heatmap_draw (cr, &probe->heatmap, &inner, width - 2.0 * m,
                        h - (top > 0.0 ? style->gap : 0.0));
    }
  cairo_restore (cr);
}
