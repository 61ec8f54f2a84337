/* SPDX-License-Identifier: MIT */
/* ScopeFigure layout and drawing: the caption on top, the grid in the left 60 %, the selected
 * tile large on the right (when the figure is wide enough), pixels as nearest-filtered data. */
#include "scope-figure.h"

#include <math.h>
#include <stdio.h>

#include "scope-error.h"

/* Narrower figures show the grid alone. */
#define PANEL_MIN_WIDTH 520.0
/* Values are written into the cells of the large tile when a cell is at least this big and the
 * tile has at most this many cells (a 3x3 kernel, not a 28x28 map). */
#define VALUE_MIN_CELL  34.0
#define VALUE_MAX_CELLS 64

/* Exported figures: pixels for PNG, points for SVG and PDF. */
#define EXPORT_WIDTH  1200.0
#define EXPORT_HEIGHT 750.0

typedef struct
{
  double body_y, body_h;   /* below the caption */
  double grid_w;           /* the grid and its colour bar */
  double panel_x, panel_w; /* the large tile; panel_w is 0 without one */
} Layout;

static void
figure_layout (const ScopeFigure *fig,
               const VizStyle    *style,
               double             width,
               double             height,
               Layout            *layout)
{
  layout->body_y = style->margin + viz_text_line_height (style);
  layout->body_h = fmax (height - layout->body_y, 0.0);
  gboolean panel = fig->panel_title != NULL && width >= PANEL_MIN_WIDTH;
  layout->grid_w = panel ? floor (width * 0.6) : width;
  layout->panel_x = layout->grid_w;
  layout->panel_w = panel ? width - layout->grid_w : 0.0;
}

/* Tile k's values written into its cells of the large tile at (x, y), `scale` px per cell, in
 * black or white, whichever reads on the cell's colour. */
static void
draw_cell_values (cairo_t           *cr,
                  const ScopeFigure *fig,
                  const VizStyle    *style,
                  int                k,
                  double             x,
                  double             y,
                  double             scale)
{
  const VizTileGrid *g = &fig->grid;
  const float *v = g->data + (gsize) k * (gsize) g->h * (gsize) g->w;
  VizStyle cell_style = *style;
  for (int i = 0; i < g->h; i++)
    for (int j = 0; j < g->w; j++)
      {
        double value = v[i * g->w + j], rgb[3];
        viz_colormap_rgb (g->colormap, value, rgb);
        double luma = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
        double ink = luma > 0.5 ? 0.0 : 1.0;
        cell_style.foreground[0] = cell_style.foreground[1] = cell_style.foreground[2] = ink;
        cell_style.foreground[3] = 1.0;
        char text[32];
        snprintf (text, sizeof text, "%.3g", value);
        viz_text_draw (cr, &cell_style, text, x + (j + 0.5) * scale, y + (i + 0.5) * scale,
                       0.5, 0.5);
      }
}

/* The selected tile large in the box (x, y, w, h): title, tile, note. */
static void
draw_panel (cairo_t           *cr,
            const ScopeFigure *fig,
            const VizStyle    *style,
            double             x,
            double             y,
            double             w,
            double             h)
{
  const VizTileGrid *g = &fig->grid;
  int k = g->selected;
  if (k < 0 || k >= g->c || g->h <= 0 || g->w <= 0 || g->atlas == NULL)
    return;
  double m = style->margin, line = viz_text_line_height (style);
  viz_text_draw (cr, style, fig->panel_title, x + m, y + m, 0.0, 0.0);
  double top = y + 2.0 * m + line;
  double aw = w - 2.0 * m, ah = h - (top - y) - 2.0 * m - line;
  if (aw <= 1.0 || ah <= 1.0)
    return;
  double scale = fmin (aw / g->w, ah / g->h);
  if (scale >= 1.0)
    scale = floor (scale);
  double left = x + m, iw = scale * g->w, ih = scale * g->h;

  /* The atlas holds channel k at column k % ceil (sqrt (c)) (viz_tile_grid_atlas_new). */
  int cols = (int) ceil (sqrt ((double) g->c));
  cairo_save (cr);
  cairo_rectangle (cr, left, top, iw, ih);
  cairo_clip (cr);
  cairo_translate (cr, left, top);
  cairo_scale (cr, scale, scale);
  cairo_set_source_surface (cr, g->atlas, -(double) ((k % cols) * g->w),
                            -(double) ((k / cols) * g->h));
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_restore (cr);

  cairo_save (cr);
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         0.5 * style->foreground[3]);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, left - 0.5, top - 0.5, iw + 1.0, ih + 1.0);
  cairo_stroke (cr);
  cairo_restore (cr);

  if (scale >= VALUE_MIN_CELL && g->h * g->w <= VALUE_MAX_CELLS)
    draw_cell_values (cr, fig, style, k, left, top, scale);
  if (fig->panel_note != NULL)
    viz_text_draw (cr, style, fig->panel_note, left, top + ih + m, 0.0, 0.0);
}

void
scope_figure_style_init_screen (VizStyle *style,
                                double    red,
                                double    green,
                                double    blue,
                                double    alpha)
{
  viz_style_init (style);
  style->background[3] = 0.0;
  style->foreground[0] = red;
  style->foreground[1] = green;
  style->foreground[2] = blue;
  style->foreground[3] = alpha;
  style->tile_labels = TRUE;
}

void
scope_figure_draw (cairo_t           *cr,
                   const ScopeFigure *fig,
                   const VizStyle    *style,
                   double             width,
                   double             height)
{
  g_return_if_fail (cr != NULL && fig != NULL && style != NULL);

  Layout layout;
  figure_layout (fig, style, width, height, &layout);
  cairo_save (cr);
  cairo_rectangle (cr, 0.0, 0.0, width, height);
  cairo_clip (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
  if (fig->caption != NULL)
    viz_text_draw (cr, style, fig->caption, style->margin, style->margin, 0.0, 0.0);

  cairo_save (cr);
  cairo_translate (cr, 0.0, layout.body_y);
  viz_tile_grid_draw (cr, &fig->grid, style, layout.grid_w, layout.body_h);
  cairo_restore (cr);

  if (layout.panel_w > 0.0)
    draw_panel (cr, fig, style, layout.panel_x, layout.body_y, layout.panel_w, layout.body_h);
  cairo_restore (cr);
}

int
scope_figure_hit (const ScopeFigure *fig,
                  const VizStyle    *style,
                  double             width,
                  double             height,
                  double             x,
                  double             y)
{
  g_return_val_if_fail (fig != NULL && style != NULL, -1);

  Layout layout;
  figure_layout (fig, style, width, height, &layout);
  if (x >= layout.grid_w)
    return -1;
  VizTileGridLayout grid_layout;
  viz_tile_grid_layout (&grid_layout, &fig->grid, style, layout.grid_w, layout.body_h);
  return viz_tile_grid_hit (&grid_layout, x, y - layout.body_y);
}

typedef struct
{
  const ScopeFigure *fig;
  VizStyle           style;
} ExportData;

static void
export_draw (cairo_t    *cr,
             const void *user_data,
             double      width,
             double      height)
{
  const ExportData *data = user_data;
  scope_figure_draw (cr, data->fig, &data->style, width, height);
}

gboolean
scope_figure_export (const ScopeFigure  *fig,
                     const char         *path,
                     GError            **error)
{
  g_return_val_if_fail (fig != NULL && path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ExportData data = { .fig = fig };
  viz_style_init (&data.style);
  data.style.tile_labels = fig->grid.c > 1;
  NnError err = { 0 };
  if (!viz_export (path, export_draw, &data, EXPORT_WIDTH, EXPORT_HEIGHT, &err))
    {
      scope_error_from_nn (error, &err);
      return FALSE;
    }
  return TRUE;
}
