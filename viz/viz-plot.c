/* SPDX-License-Identifier: MIT */
/* Line plot layout and drawing: the y axis on the left with its tick labels, the x axis at the
 * bottom, data mapped linearly; ticks reuse the colour bar's round numbers. */
#include "viz-plot.h"

#include <math.h>
#include <stdio.h>

#include "viz-colorbar.h"
#include "viz-text.h"

#define TICK_LEN   4.0
#define MAX_TICKS  16
/* Room for the y tick labels ("0.0001", "-12.5"). */
#define Y_LABELS_W 44.0

static double
series_x (const VizPlotSeries *s,
          int                  i)
{
  return s->x != NULL ? s->x[i] : (double) i;
}

/* The data's range over every series, or FALSE without a finite point. */
static bool
data_range (const VizPlot *plot,
            double        *x_lo,
            double        *x_hi,
            double        *y_lo,
            double        *y_hi)
{
  bool any = false;
  for (int k = 0; k < plot->n_series; k++)
    {
      const VizPlotSeries *s = &plot->series[k];
      for (int i = 0; i < s->n; i++)
        {
          double x = series_x (s, i), y = s->y[i];
          if (!isfinite (x) || !isfinite (y))
            continue;
          if (!any)
            {
              *x_lo = *x_hi = x;
              *y_lo = *y_hi = y;
              any = true;
              continue;
            }
          *x_lo = fmin (*x_lo, x);
          *x_hi = fmax (*x_hi, x);
          *y_lo = fmin (*y_lo, y);
          *y_hi = fmax (*y_hi, y);
        }
    }
  return any;
}

void
viz_plot_layout (VizPlotLayout  *layout,
                 const VizPlot  *plot,
                 const VizStyle *style,
                 double          width,
                 double          height)
{
  double line = viz_text_line_height (style), m = style->margin;
  double x_lo = 0.0, x_hi = 1.0, y_lo = 0.0, y_hi = 1.0;
  bool have = data_range (plot, &x_lo, &x_hi, &y_lo, &y_hi);
  if (plot->x_lo < plot->x_hi)
    {
      x_lo = plot->x_lo;
      x_hi = plot->x_hi;
    }
  else if (!have || x_hi <= x_lo)
    x_hi = x_lo + 1.0;
  if (plot->y_lo < plot->y_hi)
    {
      y_lo = plot->y_lo;
      y_hi = plot->y_hi;
    }
  else
    {
      /* Without points, 0 to 1 (not -0.5: an empty loss plot read as a negative loss). */
      double pad = !have ? 0.0 : y_hi > y_lo ? 0.05 * (y_hi - y_lo) : 0.5;
      y_lo -= pad;
      y_hi += pad;
    }
  layout->x_lo = x_lo;
  layout->x_hi = x_hi;
  layout->y_lo = y_lo;
  layout->y_hi = y_hi;

  /* Title and legend, then the y label on top; tick labels and x label below, tick labels on
   * the left. */
  double top = m + line + 2.0
               + (plot->y_label != NULL ? line : 0.0) + 0.5 * line;
  double bottom = m + TICK_LEN + line + (plot->x_label != NULL ? line : 0.0);
  double left = m + Y_LABELS_W + TICK_LEN;
  double right = m + 0.5 * Y_LABELS_W;
  layout->area[0] = round (left);
  layout->area[1] = round (top);
  layout->area[2] = fmax (round (width - left - right), 1.0);
  layout->area[3] = fmax (round (height - top - bottom), 1.0);
}

void
viz_plot_map (const VizPlotLayout *layout,
              double               x,
              double               y,
              double              *px,
              double              *py)
{
  *px = layout->area[0] + layout->area[2] * (x - layout->x_lo) / (layout->x_hi - layout->x_lo);
  *py = layout->area[1] + layout->area[3]
        - layout->area[3] * (y - layout->y_lo) / (layout->y_hi - layout->y_lo);
}

static void
set_ink (cairo_t        *cr,
         const VizStyle *style,
         double          alpha)
{
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         style->foreground[3] * alpha);
}

static void
draw_axes (cairo_t             *cr,
           const VizPlot       *plot,
           const VizPlotLayout *l,
           const VizStyle      *style)
{
  double x0 = l->area[0], y0 = l->area[1], w = l->area[2], h = l->area[3];
  double ticks[MAX_TICKS];
  char text[32];

  cairo_set_line_width (cr, 1.0);
  int n = viz_colorbar_ticks (l->y_lo, l->y_hi, ticks, MAX_TICKS);
  for (int i = 0; i < n; i++)
    {
      double px, py;
      viz_plot_map (l, l->x_lo, ticks[i], &px, &py);
      py = round (py) + 0.5;
      set_ink (cr, style, 0.15);
      cairo_move_to (cr, x0, py);
      cairo_line_to (cr, x0 + w, py);
      cairo_stroke (cr);
      set_ink (cr, style, 1.0);
      cairo_move_to (cr, x0 - TICK_LEN, py);
      cairo_line_to (cr, x0, py);
      cairo_stroke (cr);
      viz_text_format_value (text, sizeof text, 4, ticks[i]);
      viz_text_draw (cr, style, text, x0 - TICK_LEN - 2.0, py, 1.0, 0.5);
    }
  n = viz_colorbar_ticks (l->x_lo, l->x_hi, ticks, MAX_TICKS);
  for (int i = 0; i < n; i++)
    {
      double px, py;
      viz_plot_map (l, ticks[i], l->y_lo, &px, &py);
      px = round (px) + 0.5;
      set_ink (cr, style, 1.0);
      cairo_move_to (cr, px, y0 + h);
      cairo_line_to (cr, px, y0 + h + TICK_LEN);
      cairo_stroke (cr);
      viz_text_format_value (text, sizeof text, 4, ticks[i]);
      viz_text_draw (cr, style, text, px, y0 + h + TICK_LEN + 1.0, 0.5, 0.0);
    }

  /* The axes themselves: left and bottom. */
  set_ink (cr, style, 1.0);
  cairo_move_to (cr, x0 + 0.5, y0);
  cairo_line_to (cr, x0 + 0.5, y0 + h + 0.5);
  cairo_line_to (cr, x0 + w, y0 + h + 0.5);
  cairo_stroke (cr);

  double line = viz_text_line_height (style);
  if (plot->title != NULL)
    viz_text_draw (cr, style, plot->title, style->margin, style->margin, 0.0, 0.0);
  if (plot->y_label != NULL)
    viz_text_draw (cr, style, plot->y_label, x0 - TICK_LEN - Y_LABELS_W, y0 - 0.5 * line, 0.0,
                   1.0);
  if (plot->x_label != NULL)
    viz_text_draw (cr, style, plot->x_label, x0 + 0.5 * w, y0 + h + TICK_LEN + 1.0 + line, 0.5,
                   0.0);
}

static void
draw_series (cairo_t             *cr,
             const VizPlotSeries *s,
             const VizPlotLayout *l)
{
  cairo_set_source_rgba (cr, s->color[0], s->color[1], s->color[2], s->color[3]);
  cairo_set_line_width (cr, s->line_width > 0.0 ? s->line_width : 1.5);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  bool pen_down = false;
  for (int i = 0; i < s->n; i++)
    {
      double x = series_x (s, i), y = s->y[i], px, py;
      if (!isfinite (x) || !isfinite (y))
        {
          pen_down = false;
          continue;
        }
      viz_plot_map (l, x, y, &px, &py);
      if (pen_down)
        cairo_line_to (cr, px, py);
      else
        cairo_move_to (cr, px, py);
      pen_down = true;
    }
  cairo_stroke (cr);
  if (!s->markers)
    return;
  for (int i = 0; i < s->n; i++)
    {
      double x = series_x (s, i), y = s->y[i], px, py;
      if (!isfinite (x) || !isfinite (y))
        continue;
      viz_plot_map (l, x, y, &px, &py);
      cairo_new_sub_path (cr);
      cairo_arc (cr, px, py, 3.0, 0.0, 6.283185307179586);
    }
  cairo_fill (cr);
}

/* The labelled series in one row on the title line, right-aligned: a short line in the
 * series' colour, then its label. */
static void
draw_legend (cairo_t        *cr,
             const VizPlot  *plot,
             const VizStyle *style,
             double          width)
{
  double line = viz_text_line_height (style);
  double x = width - style->margin;
  double y = style->margin;
  for (int k = plot->n_series - 1; k >= 0; k--)
    {
      const VizPlotSeries *s = &plot->series[k];
      if (s->label == NULL)
        continue;
      double tw = viz_text_draw (cr, style, s->label, x, y, 1.0, 0.0);
      cairo_set_source_rgba (cr, s->color[0], s->color[1], s->color[2], s->color[3]);
      cairo_set_line_width (cr, 2.0);
      cairo_move_to (cr, x - tw - 20.0, y + 0.5 * line);
      cairo_line_to (cr, x - tw - 4.0, y + 0.5 * line);
      cairo_stroke (cr);
      x -= tw + 32.0;
    }
}

void
viz_plot_draw (cairo_t        *cr,
               const VizPlot  *plot,
               const VizStyle *style,
               double          width,
               double          height)
{
  VizPlotLayout l;
  viz_plot_layout (&l, plot, style, width, height);

  cairo_save (cr);
  cairo_new_path (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_rectangle (cr, 0.0, 0.0, width, height);
      cairo_fill (cr);
    }
  draw_axes (cr, plot, &l, style);

  cairo_save (cr);
  cairo_rectangle (cr, l.area[0], l.area[1] - 4.0, l.area[2] + 4.0, l.area[3] + 4.0);
  cairo_clip (cr);
  for (int k = 0; k < plot->n_series; k++)
    draw_series (cr, &plot->series[k], &l);
  cairo_restore (cr);

  draw_legend (cr, plot, style, width);
  cairo_restore (cr);
}
