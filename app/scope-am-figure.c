/* SPDX-License-Identifier: MIT */
/* ScopeAmFigure layout and drawing: the caption on top; panels in a row over the plot of
 * their curves, or the grid of tiles with channel numbers and final values under them. */
#include "scope-am-figure.h"

#include <math.h>
#include <stdio.h>

#include "scope-error.h"
#include "viz-text.h"

/* Exported figures: pixels for PNG, points for SVG and PDF. */
#define EXPORT_WIDTH  1200.0
#define EXPORT_HEIGHT 800.0

static const double series_colours[SCOPE_AM_FIGURE_MAX_PANELS][4] = {
  { 0.12, 0.44, 0.85, 1.0 },
  { 0.90, 0.38, 0.05, 1.0 },
};

cairo_surface_t *
scope_am_figure_surface_new (const float *pixels,
                             int          c,
                             int          h,
                             int          w)
{
  g_return_val_if_fail (pixels != NULL && c >= 1 && h >= 1 && w >= 1, NULL);

  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  cairo_surface_flush (s);
  unsigned char *data = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);
  gsize hw = (gsize) h * (gsize) w;
  for (int y = 0; y < h; y++)
    {
      guint32 *row = (guint32 *) (void *) (data + (gsize) y * (gsize) stride);
      for (int x = 0; x < w; x++)
        {
          gsize i = (gsize) y * (gsize) w + (gsize) x;
          guint32 rgb[3];
          for (int k = 0; k < 3; k++)
            {
              float v = pixels[(gsize) (c >= 3 ? k : 0) * hw + i];
              rgb[k] = (guint32) lrintf (CLAMP (v, 0.0f, 1.0f) * 255.0f);
            }
          row[x] = (rgb[0] << 16) | (rgb[1] << 8) | rgb[2];
        }
    }
  cairo_surface_mark_dirty (s);
  return s;
}

/* The image into the square (x, y, size), pixels as nearest-filtered data, outlined. */
static void
draw_image (cairo_t         *cr,
            const VizStyle  *style,
            cairo_surface_t *image,
            double           x,
            double           y,
            double           size)
{
  cairo_save (cr);
  if (image != NULL)
    {
      int w = cairo_image_surface_get_width (image), h = cairo_image_surface_get_height (image);
      cairo_rectangle (cr, x, y, size, size);
      cairo_clip (cr);
      cairo_translate (cr, x, y);
      cairo_scale (cr, size / w, size / h);
      cairo_set_source_surface (cr, image, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
      cairo_paint (cr);
    }
  cairo_restore (cr);
  cairo_save (cr);
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         image != NULL ? 0.5 : 0.25);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, x + 0.5, y + 0.5, size - 1.0, size - 1.0);
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
draw_panels (cairo_t             *cr,
             const ScopeAmFigure *fig,
             const VizStyle      *style,
             double               top,
             double               width,
             double               height)
{
  double line = viz_text_line_height (style);
  int n = MAX (fig->n_panels, 1);
  double cell_w = (width - style->margin) / n;
  /* The images take at most 55 % of the height; the plot the rest. */
  double size = floor (fmin (cell_w - style->margin,
                             (height - top) * 0.55 - line - 2.0 * style->gap));
  size = fmax (size, 1.0);
  for (int k = 0; k < fig->n_panels; k++)
    {
      const ScopeAmPanel *p = &fig->panels[k];
      double cx = style->margin + cell_w * k + (cell_w - style->margin - size) / 2.0;
      if (p->title != NULL)
        viz_text_draw (cr, style, p->title, cx, top, 0.0, 0.0);
      draw_image (cr, style, p->image, cx, top + line + style->gap, size);
    }

  VizPlotSeries series[SCOPE_AM_FIGURE_MAX_PANELS];
  for (int k = 0; k < fig->n_panels; k++)
    {
      const ScopeAmPanel *p = &fig->panels[k];
      series[k] = (VizPlotSeries) {
        .y = p->history, .n = p->n_history, .label = fig->n_panels > 1 ? p->title : NULL,
      };
      for (int i = 0; i < 4; i++)
        series[k].color[i] = series_colours[k][i];
    }
  /* With a legend (two runs) the title's place is the legend's. */
  VizPlot plot = {
    .title = fig->n_panels > 1 ? NULL : "Objective of the original network",
    .x_label = "step",
    .y_label = fig->n_panels > 1 ? "objective of the original network" : "objective",
    .series = series,
    .n_series = fig->n_panels,
  };
  double plot_y = top + line + 2.0 * style->gap + size;
  cairo_save (cr);
  cairo_translate (cr, 0.0, plot_y);
  viz_plot_draw (cr, &plot, style, width, fmax (height - plot_y, 1.0));
  cairo_restore (cr);
}

static void
draw_grid (cairo_t             *cr,
           const ScopeAmFigure *fig,
           const VizStyle      *style,
           double               top,
           double               width,
           double               height)
{
  double line = viz_text_line_height (style);
  double avail_w = width - 2.0 * style->margin, avail_h = height - top - style->margin;
  int n = fig->n_tiles, best_cols = 1;
  double best = 0.0;
  /* The column count that gives the largest tiles. */
  for (int cols = 1; cols <= n; cols++)
    {
      int rows = (n + cols - 1) / cols;
      double s = fmin (avail_w / cols - style->gap, avail_h / rows - line - style->gap);
      if (s > best)
        {
          best = s;
          best_cols = cols;
        }
    }
  double size = floor (fmax (best, 1.0));
  for (int k = 0; k < n; k++)
    {
      double x = style->margin + (k % best_cols) * (size + style->gap);
      double y = top + (k / best_cols) * (size + line + style->gap);
      draw_image (cr, style, fig->tiles[k], x, y, size);
      char text[48];
      if (fig->tile_values != NULL && isfinite (fig->tile_values[k]))
        snprintf (text, sizeof text, "%d: %.3g", k, fig->tile_values[k]);
      else
        snprintf (text, sizeof text, "%d", k);
      viz_text_draw (cr, style, text, x + size / 2.0, y + size, 0.5, 0.0);
    }
}

void
scope_am_figure_draw (cairo_t             *cr,
                      const ScopeAmFigure *fig,
                      const VizStyle      *style,
                      double               width,
                      double               height)
{
  g_return_if_fail (cr != NULL && fig != NULL && style != NULL);

  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
  /* The caption's lines, split at newlines. */
  double top = style->margin;
  if (fig->caption != NULL)
    {
      g_auto (GStrv) lines = g_strsplit (fig->caption, "\n", -1);
      for (int i = 0; lines[i] != NULL; i++)
        {
          viz_text_draw (cr, style, lines[i], style->margin, top, 0.0, 0.0);
          top += viz_text_line_height (style);
        }
      top += style->margin;
    }
  if (fig->n_tiles > 0)
    draw_grid (cr, fig, style, top, width, height);
  else
    draw_panels (cr, fig, style, top, width, height);
  cairo_restore (cr);
}

typedef struct
{
  const ScopeAmFigure *fig;
  VizStyle             style;
} ExportData;

static void
export_draw (cairo_t    *cr,
             const void *user_data,
             double      width,
             double      height)
{
  const ExportData *data = user_data;
  scope_am_figure_draw (cr, data->fig, &data->style, width, height);
}

gboolean
scope_am_figure_export (const ScopeAmFigure  *fig,
                        const char           *path,
                        GError              **error)
{
  g_return_val_if_fail (fig != NULL && path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ExportData data = { .fig = fig };
  viz_style_init (&data.style);
  NnError err = { 0 };
  if (!viz_export (path, export_draw, &data, EXPORT_WIDTH, EXPORT_HEIGHT, &err))
    {
      scope_error_from_nn (error, &err);
      return FALSE;
    }
  return TRUE;
}
