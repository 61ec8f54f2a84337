/* SPDX-License-Identifier: MIT */
/* The per-layer CKA plot: bars on a fixed 0..1 axis at the left, the weight change on its own
 * axis at the right (0 to its largest finite value), names turned upright under the bars, one
 * in every k when they do not all fit. */
#include "viz-cka-plot.h"

#include <math.h>

#include "viz-colorbar.h"
#include "viz-colormap.h"
#include "viz-text.h"

#define TICK_LEN    4.0
#define AXIS_LABELS 40.0   /* room for the tick labels of an axis */
#define NAMES_MAX   140.0  /* the longest layer name shown under the bars */
#define MAX_TICKS   12

static const double distance_rgba[4] = { 0.85, 0.37, 0.0, 1.0 };

static double
names_height (const VizCkaPlot *plot,
              const VizStyle   *style)
{
  /* measured on a scratch surface: layout must not need the target */
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (s);
  double widest = 0.0;
  for (int i = 0; i < plot->n; i++)
    widest = fmax (widest, viz_text_width (cr, style, plot->names[i]));
  cairo_destroy (cr);
  cairo_surface_destroy (s);
  return fmin (widest, NAMES_MAX);
}

static int
caption_lines (const char *text)
{
  if (text == NULL || text[0] == '\0')
    return 0;
  int n = 1;
  for (const char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

static double
distance_max (const VizCkaPlot *plot)
{
  double hi = 0.0;
  for (int i = 0; plot->distance != NULL && i < plot->n; i++)
    if (isfinite (plot->distance[i]))
      hi = fmax (hi, plot->distance[i]);
  return hi > 0.0 ? hi : 1.0;
}

void
viz_cka_plot_area (const VizCkaPlot *plot,
                   const VizStyle   *style,
                   double            width,
                   double            height,
                   double            area[4])
{
  double line = viz_text_line_height (style), m = style->margin;
  double top = m + (plot->title != NULL ? line : 0.0) + caption_lines (plot->caption) * line
               + 1.5 * line;  /* the legend and the axis titles */
  double bottom = m + TICK_LEN + 2.0 + names_height (plot, style);
  double left = m + AXIS_LABELS + TICK_LEN;
  double right = m + (plot->distance != NULL ? AXIS_LABELS + TICK_LEN : 0.5 * AXIS_LABELS);
  area[0] = round (left);
  area[1] = round (top);
  area[2] = fmax (round (width - left - right), 1.0);
  area[3] = fmax (round (height - top - bottom), 1.0);
}

int
viz_cka_plot_hit (const VizCkaPlot *plot,
                  const VizStyle   *style,
                  double            width,
                  double            height,
                  double            x,
                  double            y)
{
  (void) y;
  if (plot->n <= 0)
    return -1;
  double a[4];
  viz_cka_plot_area (plot, style, width, height, a);
  if (x < a[0] || x >= a[0] + a[2])
    return -1;
  int i = (int) floor ((x - a[0]) * plot->n / a[2]);
  return i < plot->n ? i : plot->n - 1;
}

static void
set_ink (cairo_t        *cr,
         const VizStyle *style,
         double          alpha)
{
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         style->foreground[3] * alpha);
}

/* A vertical axis at x with ticks over lo..hi, labels on the side `dir` (-1 left, +1 right). */
static void
draw_axis (cairo_t        *cr,
           const VizStyle *style,
           const double    a[4],
           double          x,
           double          lo,
           double          hi,
           int             dir,
           bool            grid)
{
  double ticks[MAX_TICKS];
  char text[32];
  int n = viz_colorbar_ticks (lo, hi, ticks, MAX_TICKS);
  cairo_set_line_width (cr, 1.0);
  for (int i = 0; i < n; i++)
    {
      double py = round (a[1] + a[3] * (1.0 - (ticks[i] - lo) / (hi - lo))) + 0.5;
      if (grid)
        {
          set_ink (cr, style, 0.15);
          cairo_move_to (cr, a[0], py);
          cairo_line_to (cr, a[0] + a[2], py);
          cairo_stroke (cr);
        }
      set_ink (cr, style, 1.0);
      cairo_move_to (cr, x, py);
      cairo_line_to (cr, x + dir * TICK_LEN, py);
      cairo_stroke (cr);
      viz_text_format_value (text, sizeof text, 3, ticks[i]);
      viz_text_draw (cr, style, text, x + dir * (TICK_LEN + 2.0), py, dir < 0 ? 1.0 : 0.0, 0.5);
    }
  set_ink (cr, style, 1.0);
  cairo_move_to (cr, round (x) + 0.5, a[1]);
  cairo_line_to (cr, round (x) + 0.5, a[1] + a[3] + 0.5);
  cairo_stroke (cr);
}

static void
draw_bars (cairo_t          *cr,
           const VizCkaPlot *plot,
           const VizStyle   *style,
           const double      a[4])
{
  double slot = a[2] / plot->n;
  double bar = fmax (slot * 0.7, 1.0);
  for (int i = 0; i < plot->n; i++)
    {
      double v = plot->cka[i];
      double x = a[0] + (i + 0.5) * slot - 0.5 * bar;
      if (!isfinite (v))
        {
          /* no value: a short grey dash on the base line */
          set_ink (cr, style, 0.4);
          cairo_rectangle (cr, x, a[1] + a[3] - 2.0, bar, 2.0);
          cairo_fill (cr);
          continue;
        }
      v = fmin (fmax (v, 0.0), 1.0);
      double rgb[3];
      viz_colormap_eval (VIZ_COLORMAP_SEQUENTIAL, v, rgb);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      double top = a[1] + a[3] * (1.0 - v);
      cairo_rectangle (cr, x, top, bar, a[1] + a[3] - top);
      cairo_fill (cr);
      if (i == plot->selected)
        {
          cairo_set_source_rgba (cr, style->accent[0], style->accent[1], style->accent[2],
                                 style->accent[3]);
          cairo_set_line_width (cr, 2.0);
          cairo_rectangle (cr, x - 1.0, top - 1.0, bar + 2.0, a[1] + a[3] - top + 1.0);
          cairo_stroke (cr);
        }
    }
}

static void
draw_distance (cairo_t          *cr,
               const VizCkaPlot *plot,
               const double      a[4],
               double            hi)
{
  double slot = a[2] / plot->n;
  cairo_set_source_rgba (cr, distance_rgba[0], distance_rgba[1], distance_rgba[2],
                         distance_rgba[3]);
  cairo_set_line_width (cr, 1.5);
  bool pen = false;
  for (int i = 0; i < plot->n; i++)
    {
      double d = plot->distance[i];
      if (!isfinite (d))
        continue;  /* layers without weights: the line joins the ones that have them */
      double px = a[0] + (i + 0.5) * slot, py = a[1] + a[3] * (1.0 - fmin (d, hi) / hi);
      if (pen)
        cairo_line_to (cr, px, py);
      else
        cairo_move_to (cr, px, py);
      pen = true;
    }
  cairo_stroke (cr);
  for (int i = 0; i < plot->n; i++)
    {
      double d = plot->distance[i];
      if (!isfinite (d))
        continue;
      cairo_new_sub_path (cr);
      cairo_arc (cr, a[0] + (i + 0.5) * slot, a[1] + a[3] * (1.0 - fmin (d, hi) / hi), 2.5, 0.0,
                 2.0 * M_PI);
    }
  cairo_fill (cr);
}

/* The names turned to read upwards, right-aligned under their bars; one in every k when a
 * line of text is taller than a slot. */
static void
draw_names (cairo_t          *cr,
            const VizCkaPlot *plot,
            const VizStyle   *style,
            const double      a[4])
{
  double slot = a[2] / plot->n, line = viz_text_line_height (style);
  int every = slot >= line ? 1 : (int) ceil (line / slot);
  for (int i = 0; i < plot->n; i += every)
    {
      cairo_save (cr);
      cairo_translate (cr, a[0] + (i + 0.5) * slot, a[1] + a[3] + TICK_LEN + 2.0);
      cairo_rotate (cr, -M_PI / 2.0);
      viz_text_draw_fitted (cr, style, plot->names[i], 0.0, 0.0, NAMES_MAX, 1.0, 0.5);
      cairo_restore (cr);
    }
}

void
viz_cka_plot_draw (cairo_t          *cr,
                   const VizCkaPlot *plot,
                   const VizStyle   *style,
                   double            width,
                   double            height)
{
  cairo_save (cr);
  cairo_new_path (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_rectangle (cr, 0, 0, width, height);
      cairo_fill (cr);
    }
  double line = viz_text_line_height (style), m = style->margin;
  double y = m;
  if (plot->title != NULL)
    {
      viz_text_draw (cr, style, plot->title, m, y, 0.0, 0.0);
      y += line;
    }
  if (plot->caption != NULL && plot->caption[0] != '\0')
    viz_text_draw_lines (cr, style, plot->caption, m, y);

  double a[4];
  viz_cka_plot_area (plot, style, width, height, a);
  draw_axis (cr, style, a, a[0], 0.0, 1.0, -1, true);
  viz_text_draw (cr, style, "linear CKA", a[0] - TICK_LEN - AXIS_LABELS, a[1] - 0.5 * line,
                 0.0, 1.0);
  double hi = distance_max (plot);
  if (plot->distance != NULL)
    {
      cairo_save (cr);
      VizStyle orange = *style;
      for (int k = 0; k < 4; k++)
        orange.foreground[k] = distance_rgba[k];
      draw_axis (cr, &orange, a, a[0] + a[2], 0.0, hi, +1, false);
      viz_text_draw (cr, &orange, "weight change (relative L2)", a[0] + a[2] + TICK_LEN
                     + AXIS_LABELS, a[1] - 0.5 * line, 1.0, 1.0);
      cairo_restore (cr);
    }
  /* the base line */
  set_ink (cr, style, 1.0);
  cairo_set_line_width (cr, 1.0);
  cairo_move_to (cr, a[0], a[1] + a[3] + 0.5);
  cairo_line_to (cr, a[0] + a[2], a[1] + a[3] + 0.5);
  cairo_stroke (cr);
  if (plot->n > 0)
    {
      draw_bars (cr, plot, style, a);
      if (plot->distance != NULL)
        draw_distance (cr, plot, a, hi);
      draw_names (cr, plot, style, a);
    }
  cairo_restore (cr);
}
