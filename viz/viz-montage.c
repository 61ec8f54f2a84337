/* SPDX-License-Identifier: MIT */
/* The montage of slices (viz-montage.h): grid layout, blended tiles, labels, colour bar. */
#include "viz-montage.h"

#include <math.h>

#include "viz-colorbar.h"
#include "viz-heatmap.h"
#include "viz-text.h"

/* The tile width (device units) of a grid of cols columns in aw x ah. */
static double
tile_width (const VizMontage *m,
            const VizStyle   *style,
            int               cols,
            double            aw,
            double            ah,
            double            label_h)
{
  int rows = (m->n + cols - 1) / cols;
  double tw = (aw - style->gap * (cols - 1)) / cols;
  double th = (ah - style->gap * (rows - 1)) / rows - label_h;
  double by_h = th / (m->aspect * m->h) * m->w;
  return fmax (0.0, fmin (tw, by_h));
}

void
viz_montage_draw (cairo_t          *cr,
                  const VizMontage *montage,
                  const VizStyle   *style,
                  double            width,
                  double            height)
{
  const VizMontage *m = montage;
  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_rectangle (cr, 0.0, 0.0, width, height);
      cairo_fill (cr);
    }
  double bar_w = style->colorbar_width + style->colorbar_labels;
  double aw = fmax (1.0, width - 2.0 * style->margin - style->gap * 4.0 - bar_w);
  double ah = fmax (1.0, height - 2.0 * style->margin);
  double label_h = viz_text_line_height (style) + style->gap;
  int cols = 1;
  double tw = 0.0;
  for (int c = 1; m->n > 0 && c <= m->n; c++)
    {
      double t = tile_width (m, style, c, aw, ah, label_h);
      if (t > tw)
        {
          tw = t;
          cols = c;
        }
    }
  double th = tw / m->w * m->h * m->aspect;
  for (int t = 0; t < m->n && tw > 0.0; t++)
    {
      double x = style->margin + (t % cols) * (tw + style->gap);
      double y = style->margin + (t / cols) * (th + label_h + style->gap);
      VizHeatmap hm = {
        .image = m->tiles[t].image, .c = 1, .map = m->tiles[t].map, .h = m->h, .w = m->w,
        .colormap = m->colormap, .opacity = m->opacity, .fade = m->fade,
      };
      cairo_surface_t *s = viz_heatmap_surface_new (&hm);
      if (s != NULL)
        {
          cairo_save (cr);
          cairo_rectangle (cr, x, y, tw, th);
          cairo_clip (cr);
          cairo_translate (cr, x, y);
          cairo_scale (cr, tw / m->w, th / m->h);
          cairo_set_source_surface (cr, s, 0.0, 0.0);
          cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_BILINEAR);
          cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
          cairo_paint (cr);
          cairo_restore (cr);
          cairo_surface_destroy (s);
        }
      if (m->tiles[t].label != NULL)
        {
          cairo_save (cr);
          cairo_rectangle (cr, x, y + th, tw, label_h);
          cairo_clip (cr);
          viz_text_draw (cr, style, m->tiles[t].label, x, y + th + style->gap * 0.5, 0.0, 0.0);
          cairo_restore (cr);
        }
    }
  int rows = m->n > 0 ? (m->n + cols - 1) / cols : 1;
  double grid_w = cols * tw + (cols - 1) * style->gap;
  double grid_h = rows * (th + label_h) + (rows - 1) * style->gap;
  cairo_translate (cr, style->margin + grid_w + style->gap * 4.0, style->margin);
  viz_colorbar_draw (cr, m->colormap, style, bar_w, fmax (grid_h - label_h, 1.0));
  cairo_restore (cr);
}
