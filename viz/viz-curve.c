/* SPDX-License-Identifier: MIT */
/* Line plots: the frame, ticks from viz_colorbar_ticks, the series and their legend. */
#include "viz-curve.h"

#include <math.h>
#include <stdio.h>

#include "viz-colorbar.h"
#include "viz-text.h"

#define MAX_TICKS  8
#define TICK_LEN   3.0
#define LEGEND_LEN 18.0
/* Room between the frame and the data area, so that a curve sitting at the end of a range
 * (a probability of exactly 0 or 1) is drawn whole inside the frame, not on it. */
#define INSET      4.0

void
viz_curve_plot_rect (const VizCurve *curve,
                     const VizStyle *style,
                     double          width,
                     double          height,
                     double          rect[4])
{
  double line = viz_text_line_height (style);
  double top = style->margin + (curve->title != NULL ? line + 2.0 : 0.0) + INSET;
  double left = style->margin + 4.0 * line + INSET;
  double bottom = style->margin + line + TICK_LEN + 2.0 + INSET;
  rect[0] = left;
  rect[1] = top;
  rect[2] = fmax (width - left - style->margin - INSET, 0.0);
  rect[3] = fmax (height - top - bottom, 0.0);
}

static double
to_x (const VizCurve *c,
      const double    r[4],
      double          v)
{
  return r[0] + (v - c->x_min) / (c->x_max - c->x_min) * r[2];
}

static double
to_y (const VizCurve *c,
      const double    r[4],
      double          v)
{
  return r[1] + r[3] - (v - c->y_min) / (c->y_max - c->y_min) * r[3];
}

static void
draw_ticks (cairo_t        *cr,
            const VizCurve *c,
            const VizStyle *style,
            const double    r[4])
{
  double ticks[MAX_TICKS];
  char text[32];
  int n = viz_colorbar_ticks (c->x_min, c->x_max, ticks, MAX_TICKS);
  for (int i = 0; i < n; i++)
    {
      double x = to_x (c, r, ticks[i]), bottom = r[1] + r[3] + INSET;
      cairo_move_to (cr, x, bottom);
      cairo_line_to (cr, x, bottom + TICK_LEN);
      viz_text_format_value (text, sizeof text, 6, ticks[i]);
      viz_text_draw (cr, style, text, x, bottom + TICK_LEN + 1.0, 0.5, 0.0);
    }
  n = viz_colorbar_ticks (c->y_min, c->y_max, ticks, MAX_TICKS);
  for (int i = 0; i < n; i++)
    {
      double y = to_y (c, r, ticks[i]), left = r[0] - INSET;
      cairo_move_to (cr, left - TICK_LEN, y);
      cairo_line_to (cr, left, y);
      viz_text_format_value (text, sizeof text, 6, ticks[i]);
      viz_text_draw (cr, style, text, left - TICK_LEN - 2.0, y, 1.0, 0.5);
    }
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         style->foreground[3]);
  cairo_stroke (cr);
}

void
viz_curve_draw (cairo_t        *cr,
                const VizCurve *curve,
                const VizStyle *style,
                double          width,
                double          height)
{
  if (curve->x_max <= curve->x_min || curve->y_max <= curve->y_min)
    return;
  double r[4];
  viz_curve_plot_rect (curve, style, width, height, r);
  if (r[2] <= 0.0 || r[3] <= 0.0)
    return;

  cairo_save (cr);
  cairo_set_line_width (cr, 1.0);
  if (curve->title != NULL)
    viz_text_draw (cr, style, curve->title, r[0] - INSET, style->margin, 0.0, 0.0);
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         style->foreground[3]);
  cairo_rectangle (cr, r[0] - INSET + 0.5, r[1] - INSET + 0.5, r[2] + 2.0 * INSET - 1.0,
                   r[3] + 2.0 * INSET - 1.0);
  cairo_stroke (cr);
  draw_ticks (cr, curve, style, r);

  /* The series are clipped inside the frame: a value a little beyond the range still shows
   * at its edge, one far beyond it is cut off. */
  cairo_save (cr);
  cairo_rectangle (cr, r[0] - INSET + 1.0, r[1] - INSET + 1.0, r[2] + 2.0 * INSET - 2.0,
                   r[3] + 2.0 * INSET - 2.0);
  cairo_clip (cr);
  cairo_set_line_width (cr, 2.0);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  double dash[] = { 5.0, 3.0 };
  for (int s = 0; s < curve->n_series; s++)
    {
      const VizCurveSeries *sr = &curve->series[s];
      if (sr->n < 2)
        continue;
      for (int i = 0; i < sr->n; i++)
        cairo_line_to (cr, to_x (curve, r, (double) sr->x[i]),
                       to_y (curve, r, (double) sr->y[i]));
      cairo_set_source_rgba (cr, sr->rgba[0], sr->rgba[1], sr->rgba[2], sr->rgba[3]);
      cairo_set_dash (cr, dash, sr->dashed ? 2 : 0, 0.0);
      cairo_stroke (cr);
    }
  cairo_restore (cr);

  /* The legend, right inside the plot, a third of the way down: deletion curves fall towards
   * the bottom, insertion curves rise towards the top. */
  double line = viz_text_line_height (style);
  double y = r[1] + r[3] / 3.0;
  for (int s = 0; s < curve->n_series; s++)
    {
      const VizCurveSeries *sr = &curve->series[s];
      if (sr->label == NULL || sr->n < 2)
        continue;
      double x = r[0] + r[2] - 6.0;
      double tw = viz_text_draw (cr, style, sr->label, x, y, 1.0, 0.5);
      cairo_set_line_width (cr, 2.0);
      cairo_set_dash (cr, dash, sr->dashed ? 2 : 0, 0.0);
      cairo_move_to (cr, x - tw - 4.0 - LEGEND_LEN, y);
      cairo_line_to (cr, x - tw - 4.0, y);
      cairo_set_source_rgba (cr, sr->rgba[0], sr->rgba[1], sr->rgba[2], sr->rgba[3]);
      cairo_stroke (cr);
      y += line;
    }
  cairo_restore (cr);
}
