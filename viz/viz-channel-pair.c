/* SPDX-License-Identifier: MIT */
/* The side-by-side channel figure: a row each of filters, activations, CAMs and AM images
 * (tile grids, heat maps, images) in two columns under a title, the scale of each row taken
 * over both models. */
#include "viz-channel-pair.h"

#include <math.h>

#include "viz-colormap.h"
#include "viz-heatmap.h"
#include "viz-image.h"
#include "viz-text.h"
#include "viz-tile-grid.h"

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

/* The range of both arrays (n values each), non-finite values ignored. */
static void
range2 (const float *const a[2],
        size_t             n,
        double            *lo,
        double            *hi)
{
  *lo = (double) INFINITY;
  *hi = -(double) INFINITY;
  for (int m = 0; m < 2; m++)
    for (size_t i = 0; i < n; i++)
      if (isfinite (a[m][i]))
        {
          *lo = fmin (*lo, (double) a[m][i]);
          *hi = fmax (*hi, (double) a[m][i]);
        }
  if (!(*lo <= *hi))
    *lo = *hi = 0.0;
}

static void
draw_grid (cairo_t           *cr,
           const VizTileGrid *grid,
           const VizStyle    *style,
           double             x,
           double             y,
           double             w,
           double             h)
{
  cairo_save (cr);
  cairo_translate (cr, x, y);
  viz_tile_grid_draw (cr, grid, style, w, h);
  cairo_restore (cr);
}

/* An AM image (c, h, w) fitted into (x, y, w, h) at an integer or fitted scale, centred and
 * outlined. */
static void
draw_am (cairo_t        *cr,
         const float    *pixels,
         int             c,
         int             ih,
         int             iw,
         const VizStyle *style,
         double          x,
         double          y,
         double          w,
         double          h)
{
  double scale = fmin (w / iw, h / ih);
  if (!(scale > 0.0))
    return;
  if (scale >= 1.0)
    scale = floor (scale);
  double dw = scale * iw, dh = scale * ih;
  double left = floor (x + 0.5 * (w - dw)), top = floor (y + 0.5 * (h - dh));
  cairo_surface_t *image = viz_image_surface_new (pixels, c, ih, iw);
  if (image != NULL)
    {
      cairo_save (cr);
      cairo_translate (cr, left, top);
      cairo_scale (cr, scale, scale);
      viz_image_paint_nearest (cr, image, 0, 0, iw, ih);
      cairo_restore (cr);
      cairo_surface_destroy (image);
    }
  cairo_save (cr);
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         0.5);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, left - 0.5, top - 0.5, dw + 1.0, dh + 1.0);
  cairo_stroke (cr);
  cairo_restore (cr);
}

void
viz_channel_pair_draw (cairo_t              *cr,
                       const VizChannelPair *pair,
                       const VizStyle       *style,
                       double                width,
                       double                height)
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
  if (pair->title != NULL)
    {
      viz_text_draw (cr, style, pair->title, m, y, 0.0, 0.0);
      y += line;
    }
  if (caption_lines (pair->caption) > 0)
    y = viz_text_draw_lines (cr, style, pair->caption, m, y);
  y += 0.5 * line;
  double col_w = (width - 2.0 * m) / 2.0;
  for (int k = 0; k < 2; k++)
    viz_text_draw_fitted (cr, style, pair->names[k], m + k * col_w + 0.5 * col_w, y, col_w,
                          0.5, 0.0);
  y += line;

  const bool filters = pair->filters[0] != NULL && pair->filters[1] != NULL;
  const bool cams = pair->cams[0] != NULL && pair->cams[1] != NULL && pair->image != NULL;
  const bool ams = (pair->ams[0] != NULL || pair->ams[1] != NULL) && pair->am_h > 0
                   && pair->am_w > 0;
  const int rows = 1 + filters + cams + ams;
  double row_h = fmax ((height - y - m) / rows, 1.0);
  VizStyle tiles = *style;
  tiles.margin = 0.5 * m;
  if (filters)
    {
      double lo, hi;
      range2 (pair->filters, (size_t) pair->ic * pair->kh * pair->kw, &lo, &hi);
      VizColormap cm;
      viz_colormap_init (&cm, VIZ_COLORMAP_DIVERGING, lo, hi);
      viz_text_draw (cr, style, "filters (one kernel per input channel)", m, y, 0.0, 0.0);
      for (int k = 0; k < 2; k++)
        {
          VizTileGrid grid = { pair->filters[k], pair->ic, pair->kh, pair->kw, &cm, -1, NULL };
          draw_grid (cr, &grid, &tiles, m + k * col_w, y + line, col_w, row_h - line);
        }
      y += row_h;
    }
  double lo, hi;
  range2 (pair->acts, (size_t) pair->h * pair->w, &lo, &hi);
  VizColormap cm;
  viz_colormap_init (&cm, lo < 0.0 ? VIZ_COLORMAP_DIVERGING : VIZ_COLORMAP_SEQUENTIAL, lo, hi);
  viz_text_draw (cr, style, "activation", m, y, 0.0, 0.0);
  for (int k = 0; k < 2; k++)
    {
      VizTileGrid grid = { pair->acts[k], 1, pair->h, pair->w, &cm, -1, NULL };
      draw_grid (cr, &grid, &tiles, m + k * col_w, y + line, col_w, row_h - line);
    }
  if (cams)
    {
      y += row_h;
      range2 (pair->cams, (size_t) pair->cam_h * pair->cam_w, &lo, &hi);
      VizColormap cam_cm;
      viz_colormap_init (&cam_cm, VIZ_COLORMAP_SEQUENTIAL, 0.0, hi);
      viz_text_draw (cr, style, pair->cam_label != NULL ? pair->cam_label : "CAM", m, y, 0.0,
                     0.0);
      for (int k = 0; k < 2; k++)
        {
          VizHeatmap hm = {
            .image = pair->image, .c = pair->image_c, .map = pair->cams[k], .h = pair->cam_h,
            .w = pair->cam_w, .colormap = &cam_cm, .opacity = 0.5,
          };
          cairo_save (cr);
          cairo_translate (cr, m + k * col_w, y + line);
          viz_heatmap_draw (cr, &hm, &tiles, col_w, row_h - line);
          cairo_restore (cr);
        }
    }
  if (ams)
    {
      y += row_h;
      viz_text_draw (cr, style, pair->am_label != NULL ? pair->am_label
                                                       : "activation maximization",
                     m, y, 0.0, 0.0);
      for (int k = 0; k < 2; k++)
        if (pair->ams[k] != NULL)
          draw_am (cr, pair->ams[k], pair->am_c, pair->am_h, pair->am_w, style,
                   m + k * col_w + tiles.margin, y + line + tiles.margin,
                   col_w - 2.0 * tiles.margin, row_h - line - 2.0 * tiles.margin);
    }
  cairo_restore (cr);
}
