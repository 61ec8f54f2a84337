/* SPDX-License-Identifier: MIT */
/* Attribution overlays: the map's scale, the blended surface, layout and drawing. */
#include "viz-heatmap.h"

#include <math.h>
#include <stdint.h>

#include "viz-colorbar.h"

void
viz_heatmap_colormap_init (VizColormap *cm,
                           const float *map,
                           size_t       n,
                           bool         is_signed,
                           double       fixed)
{
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      if (!isfinite (map[i]))
        continue;
      double v = is_signed ? fabs ((double) map[i]) : (double) map[i];
      m = v > m ? v : m;
    }
  if (fixed > 0.0)
    m = fixed;
  if (is_signed)
    viz_colormap_init (cm, VIZ_COLORMAP_DIVERGING, -m, m);
  else
    viz_colormap_init (cm, VIZ_COLORMAP_SEQUENTIAL, 0.0, m);
}

static double
channel (uint32_t pixel,
         int      shift)
{
  return (double) ((pixel >> shift) & 0xffu) / 255.0;
}

cairo_surface_t *
viz_heatmap_surface_new (const VizHeatmap *hm)
{
  if (hm->w <= 0 || hm->h <= 0 || hm->w > 16384 || hm->h > 16384)
    return NULL;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, hm->w, hm->h);
  if (cairo_surface_status (s) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (s);
      return NULL;
    }
  cairo_surface_flush (s);
  unsigned char *data = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);
  const size_t hw = (size_t) hm->h * (size_t) hm->w;
  double a = hm->image ? hm->opacity : 1.0;
  a = a < 0.0 ? 0.0 : a > 1.0 ? 1.0 : a;
  for (int y = 0; y < hm->h; y++)
    {
      uint32_t *row = (uint32_t *) (data + (size_t) y * (size_t) stride);
      for (int x = 0; x < hm->w; x++)
        {
          size_t p = (size_t) y * (size_t) hm->w + (size_t) x;
          uint32_t cp = viz_colormap_pixel (hm->colormap, hm->map[p]);
          double ap = a;
          if (hm->fade && hm->image)
            ap *= isfinite (hm->map[p])
                  ? fabs (viz_colormap_position (hm->colormap, (double) hm->map[p])) : 0.0;
          double rgb[3];
          for (int k = 0; k < 3; k++)
            {
              double img = 0.0;
              if (hm->image)
                {
                  float v = hm->image[(size_t) (hm->c == 3 ? k : 0) * hw + p];
                  img = v < 0.0f ? 0.0 : v > 1.0f ? 1.0 : (double) v;
                }
              rgb[k] = (1.0 - ap) * img + ap * channel (cp, 16 - 8 * k);
            }
          row[x] = 0xff000000u | (uint32_t) lround (rgb[0] * 255.0) << 16
                   | (uint32_t) lround (rgb[1] * 255.0) << 8 | (uint32_t) lround (rgb[2] * 255.0);
        }
    }
  cairo_surface_mark_dirty (s);
  return s;
}

void
viz_heatmap_layout (const VizHeatmap *hm,
                    const VizStyle   *style,
                    double            width,
                    double            height,
                    double            image_rect[4],
                    double            bar_rect[4])
{
  double bar_w = style->colorbar_width + style->colorbar_labels;
  double aw = width - 2.0 * style->margin - style->gap * 4.0 - bar_w;
  double ah = height - 2.0 * style->margin;
  aw = aw > 1.0 ? aw : 1.0;
  ah = ah > 1.0 ? ah : 1.0;
  double scale = fmin (aw / hm->w, ah / hm->h);
  image_rect[0] = style->margin;
  image_rect[1] = style->margin + 0.5 * (ah - scale * hm->h);
  image_rect[2] = scale * hm->w;
  image_rect[3] = scale * hm->h;
  bar_rect[0] = image_rect[0] + image_rect[2] + style->gap * 4.0;
  bar_rect[1] = image_rect[1];
  bar_rect[2] = bar_w;
  bar_rect[3] = image_rect[3];
}

static bool
mask_at (const uint8_t *mask,
         int            h,
         int            w,
         int            y,
         int            x)
{
  return y >= 0 && y < h && x >= 0 && x < w && mask[(size_t) y * (size_t) w + (size_t) x] != 0;
}

void
viz_mask_contour_path (cairo_t       *cr,
                       const uint8_t *mask,
                       int            h,
                       int            w)
{
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        if (!mask_at (mask, h, w, y, x))
          continue;
        if (!mask_at (mask, h, w, y - 1, x))
          {
            cairo_move_to (cr, x, y);
            cairo_line_to (cr, x + 1, y);
          }
        if (!mask_at (mask, h, w, y + 1, x))
          {
            cairo_move_to (cr, x, y + 1);
            cairo_line_to (cr, x + 1, y + 1);
          }
        if (!mask_at (mask, h, w, y, x - 1))
          {
            cairo_move_to (cr, x, y);
            cairo_line_to (cr, x, y + 1);
          }
        if (!mask_at (mask, h, w, y, x + 1))
          {
            cairo_move_to (cr, x + 1, y);
            cairo_line_to (cr, x + 1, y + 1);
          }
      }
}

/* The mask's outline over the image at img: a dark line under a light one, so that it shows
 * over any map colour. */
static void
draw_mask (cairo_t          *cr,
           const VizHeatmap *hm,
           const double      img[4])
{
  cairo_save (cr);
  cairo_translate (cr, img[0], img[1]);
  cairo_scale (cr, img[2] / hm->w, img[3] / hm->h);
  viz_mask_contour_path (cr, hm->mask, hm->h, hm->w);
  cairo_identity_matrix (cr);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_SQUARE);
  cairo_set_source_rgb (cr, 0.0, 0.0, 0.0);
  cairo_set_line_width (cr, 3.0);
  cairo_stroke_preserve (cr);
  cairo_set_source_rgb (cr, 0.3, 1.0, 0.3);
  cairo_set_line_width (cr, 1.5);
  cairo_stroke (cr);
  cairo_restore (cr);
}

void
viz_heatmap_draw (cairo_t          *cr,
                  const VizHeatmap *hm,
                  const VizStyle   *style,
                  double            width,
                  double            height)
{
  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_rectangle (cr, 0.0, 0.0, width, height);
      cairo_fill (cr);
    }
  double img[4], bar[4];
  viz_heatmap_layout (hm, style, width, height, img, bar);
  cairo_surface_t *s = hm->surface ? cairo_surface_reference (hm->surface)
                                   : viz_heatmap_surface_new (hm);
  if (s != NULL)
    {
      cairo_save (cr);
      cairo_rectangle (cr, img[0], img[1], img[2], img[3]);
      cairo_clip (cr);
      cairo_translate (cr, img[0], img[1]);
      cairo_scale (cr, img[2] / hm->w, img[3] / hm->h);
      cairo_set_source_surface (cr, s, 0.0, 0.0);
      cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_BILINEAR);
      cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
      cairo_paint (cr);
      cairo_restore (cr);
      cairo_surface_destroy (s);
    }
  if (hm->mask != NULL)
    draw_mask (cr, hm, img);
  cairo_translate (cr, bar[0], bar[1]);
  viz_colorbar_draw (cr, hm->colormap, style, bar[2], bar[3]);
  cairo_restore (cr);
}
