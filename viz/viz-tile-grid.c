/* SPDX-License-Identifier: MIT */
/* Tile grid layout and drawing: the channels are mapped once into an atlas image, then each
 * tile paints its part of the atlas with nearest filtering. */
#include "viz-tile-grid.h"

#include <math.h>
#include <stdio.h>

#include "viz-colorbar.h"
#include "viz-image.h"
#include "viz-text.h"

/* The colour bar is at least this tall (when there is room), so its labels never crowd. */
#define BAR_MIN_HEIGHT 160.0

void
viz_tile_grid_layout (VizTileGridLayout *layout,
                      const VizTileGrid *grid,
                      const VizStyle    *style,
                      double             width,
                      double             height)
{
  double label_h = style->tile_labels ? viz_text_line_height (style) : 0.0;
  double gap = style->gap;
  double bar_box_w = style->colorbar_width + style->colorbar_labels;
  double aw = width - 3.0 * style->margin - bar_box_w;
  double ah = height - 2.0 * style->margin;
  int n = grid->c > 0 && grid->h > 0 && grid->w > 0 ? grid->c : 0;

  int best_cols = n > 0 ? 1 : 0;
  double best = 0.0;
  for (int cols = 1; cols <= n; cols++)
    {
      int rows = (n + cols - 1) / cols;
      double sx = (aw - (cols - 1) * gap) / (cols * (double) grid->w);
      double sy = (ah - (rows - 1) * gap - rows * label_h) / (rows * (double) grid->h);
      double s = fmin (sx, sy);
      if (s > best)
        {
          best = s;
          best_cols = cols;
        }
    }
  if (best >= 1.0)
    best = floor (best);

  *layout = (VizTileGridLayout) { 0 };
  layout->n = n;
  layout->cols = best_cols;
  layout->rows = best_cols > 0 ? (n + best_cols - 1) / best_cols : 0;
  layout->x0 = style->margin;
  layout->y0 = style->margin;
  layout->tile_w = best * grid->w;
  layout->tile_h = best * grid->h;
  layout->pitch_x = layout->tile_w + gap;
  layout->pitch_y = layout->tile_h + label_h + gap;

  double grid_w = layout->cols > 0 ? layout->cols * layout->pitch_x - gap : 0.0;
  double grid_h = layout->rows > 0 ? layout->rows * layout->pitch_y - gap : 0.0;
  layout->bar_x = layout->x0 + grid_w + style->margin;
  layout->bar_y = style->margin;
  layout->bar_w = bar_box_w;
  layout->bar_h = fmax (grid_h, fmin (ah, BAR_MIN_HEIGHT));
}

bool
viz_tile_grid_tile_rect (const VizTileGridLayout *layout,
                         int                      k,
                         double                   rect[4])
{
  if (k < 0 || k >= layout->n || layout->cols <= 0)
    return false;
  rect[0] = layout->x0 + (k % layout->cols) * layout->pitch_x;
  rect[1] = layout->y0 + (k / layout->cols) * layout->pitch_y;
  rect[2] = layout->tile_w;
  rect[3] = layout->tile_h;
  return true;
}

int
viz_tile_grid_hit (const VizTileGridLayout *layout,
                   double                   x,
                   double                   y)
{
  if (layout->cols <= 0 || layout->pitch_x <= 0.0 || layout->pitch_y <= 0.0)
    return -1;
  double fx = (x - layout->x0) / layout->pitch_x;
  double fy = (y - layout->y0) / layout->pitch_y;
  if (fx < 0.0 || fy < 0.0 || fx >= layout->cols)
    return -1;
  int col = (int) fx, row = (int) fy;
  int k = row * layout->cols + col;
  double rect[4];
  if (!viz_tile_grid_tile_rect (layout, k, rect))
    return -1;
  if (x >= rect[0] + rect[2] || y >= rect[1] + rect[3])
    return -1;
  return k;
}

/* Channels per row of the atlas. */
static int
atlas_cols (int n)
{
  return (int) ceil (sqrt ((double) n));
}

cairo_surface_t *
viz_tile_grid_atlas_new (const VizTileGrid *grid)
{
  int n = grid->c;
  if (n <= 0 || grid->h <= 0 || grid->w <= 0)
    return NULL;
  int ac = atlas_cols (n);
  int ar = (n + ac - 1) / ac;
  cairo_surface_t *atlas = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, ac * grid->w,
                                                       ar * grid->h);
  if (cairo_surface_status (atlas) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (atlas);
      return NULL;
    }
  cairo_surface_flush (atlas);
  unsigned char *pixels = cairo_image_surface_get_data (atlas);
  size_t stride = (size_t) cairo_image_surface_get_stride (atlas);
  size_t plane = (size_t) grid->h * (size_t) grid->w;
  for (int k = 0; k < n; k++)
    {
      const float *src = grid->data + (size_t) k * plane;
      size_t ox = (size_t) (k % ac) * (size_t) grid->w, oy = (size_t) (k / ac) * (size_t) grid->h;
      for (int y = 0; y < grid->h; y++)
        {
          uint32_t *row = (uint32_t *) (void *) (pixels + (oy + (size_t) y) * stride) + ox;
          for (int x = 0; x < grid->w; x++)
            row[x] = viz_colormap_pixel (grid->colormap, src[(size_t) y * (size_t) grid->w
                                                             + (size_t) x]);
        }
    }
  cairo_surface_mark_dirty (atlas);
  return atlas;
}

int
viz_tile_grid_label_step (cairo_t                 *cr,
                          const VizStyle          *style,
                          const VizTileGridLayout *layout)
{
  char widest[16];
  snprintf (widest, sizeof widest, "%d", layout->n > 0 ? layout->n - 1 : 0);
  const double need = viz_text_width (cr, style, widest) + 8.0;
  static const int mantissa[3] = { 1, 2, 5 };
  for (int decade = 1; decade <= 1000000; decade *= 10)
    for (int i = 0; i < 3; i++)
      if (mantissa[i] * decade * layout->pitch_x >= need)
        return mantissa[i] * decade;
  return layout->n;
}

void
viz_tile_grid_draw (cairo_t           *cr,
                    const VizTileGrid *grid,
                    const VizStyle    *style,
                    double             width,
                    double             height)
{
  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_rectangle (cr, 0.0, 0.0, width, height);
      cairo_fill (cr);
    }

  VizTileGridLayout layout;
  viz_tile_grid_layout (&layout, grid, style, width, height);
  int ac = atlas_cols (layout.n);
  cairo_surface_t *atlas = NULL;
  if (layout.n > 0 && layout.tile_w > 0.0)
    atlas = grid->atlas != NULL ? cairo_surface_reference (grid->atlas)
                                : viz_tile_grid_atlas_new (grid);
  const int step = style->tile_labels && layout.n > 0
                   ? viz_tile_grid_label_step (cr, style, &layout) : 1;
  for (int k = 0; atlas != NULL && k < layout.n; k++)
    {
      double r[4];
      viz_tile_grid_tile_rect (&layout, k, r);
      cairo_save (cr);
      cairo_rectangle (cr, r[0], r[1], r[2], r[3]);
      cairo_clip (cr);
      cairo_translate (cr, r[0], r[1]);
      cairo_scale (cr, r[2] / grid->w, r[3] / grid->h);
      viz_image_paint_nearest (cr, atlas, (k % ac) * grid->w, (k / ac) * grid->h, grid->w,
                               grid->h);
      cairo_restore (cr);

      /* A faint frame just outside the tile, so a tile of background colour (white on the
       * diverging map) still shows its extent. */
      cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                             0.2 * style->foreground[3]);
      cairo_set_line_width (cr, 1.0);
      cairo_rectangle (cr, r[0] - 0.5, r[1] - 0.5, r[2] + 1.0, r[3] + 1.0);
      cairo_stroke (cr);

      if (style->tile_labels && step == 1)
        {
          char label[16];
          snprintf (label, sizeof label, "%d", k);
          viz_text_draw (cr, style, label, r[0] + 0.5 * r[2], r[1] + r[3], 0.5, 0.0);
        }
      else if (style->tile_labels && k % step == 0)
        {
          /* Labels wider than their tile start at it, and only where they end in the grid. */
          char label[16];
          snprintf (label, sizeof label, "%d", k);
          if (r[0] + viz_text_width (cr, style, label) <= layout.x0 + layout.cols * layout.pitch_x)
            viz_text_draw (cr, style, label, r[0], r[1] + r[3], 0.0, 0.0);
        }
      if (k == grid->selected)
        {
          cairo_set_source_rgba (cr, style->accent[0], style->accent[1], style->accent[2],
                                 style->accent[3]);
          cairo_set_line_width (cr, 2.0);
          cairo_rectangle (cr, r[0] - 1.0, r[1] - 1.0, r[2] + 2.0, r[3] + 2.0);
          cairo_stroke (cr);
        }
    }
  if (atlas != NULL)
    cairo_surface_destroy (atlas);

  cairo_translate (cr, layout.bar_x, layout.bar_y);
  viz_colorbar_draw (cr, grid->colormap, style, layout.bar_w, layout.bar_h);
  cairo_restore (cr);
}
