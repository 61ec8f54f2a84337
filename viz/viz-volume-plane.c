/* SPDX-License-Identifier: MIT */
/* A plane of a volume at its true aspect, with overlay, mask contour and crosshair. */
#include "viz-volume-plane.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "viz-image.h"

const double viz_volume_contour_rgb[3] = { 1.0, 0.2, 0.9 };

cairo_surface_t *
viz_volume_overlay_surface_new (const float       *values,
                                int                w,
                                int                h,
                                const VizColormap *cm,
                                double             opacity)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      return NULL;
    }
  cairo_surface_flush (surface);
  unsigned char *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  for (int y = 0; y < h; y++)
    {
      uint32_t *row = (uint32_t *) (void *) (data + (size_t) y * (size_t) stride);
      for (int x = 0; x < w; x++)
        {
          float v = values[(size_t) y * (size_t) w + (size_t) x];
          double a = isfinite (v) ? opacity * fabs (viz_colormap_position (cm, (double) v)) : 0.0;
          double rgb[3];
          viz_colormap_rgb (cm, (double) v, rgb);
          uint32_t alpha = (uint32_t) lround (a * 255.0);
          uint32_t r = (uint32_t) lround (rgb[0] * a * 255.0);
          uint32_t g = (uint32_t) lround (rgb[1] * a * 255.0);
          uint32_t b = (uint32_t) lround (rgb[2] * a * 255.0);
          row[x] = alpha << 24 | r << 16 | g << 8 | b;
        }
    }
  cairo_surface_mark_dirty (surface);
  return surface;
}

void
viz_volume_plane_layout (const VizVolumePlane *plane,
                         const VizStyle       *style,
                         double                width,
                         double                height,
                         double                rect[4])
{
  double aw = fmax (width - 2.0 * style->margin, 1.0);
  double ah = fmax (height - 2.0 * style->margin, 1.0);
  double aspect = plane->width_mm > 0.0 && plane->height_mm > 0.0
                  ? plane->width_mm / plane->height_mm : (double) plane->w / plane->h;
  double w = aw, h = aw / aspect;
  if (h > ah)
    {
      h = ah;
      w = ah * aspect;
    }
  rect[0] = (width - w) / 2.0;
  rect[1] = (height - h) / 2.0;
  rect[2] = w;
  rect[3] = h;
}

bool
viz_volume_plane_locate (const VizVolumePlane *plane,
                         const VizStyle       *style,
                         double                width,
                         double                height,
                         double                x,
                         double                y,
                         int                  *column,
                         int                  *row)
{
  double r[4];
  viz_volume_plane_layout (plane, style, width, height, r);
  double u = (x - r[0]) / r[2], v = (y - r[1]) / r[3];
  if (!(u >= 0.0 && u < 1.0 && v >= 0.0 && v < 1.0))
    return false;
  *column = (int) fmin (floor (u * plane->w), plane->w - 1);
  *row = (int) fmin (floor (v * plane->h), plane->h - 1);
  return true;
}

/* Whether voxel (x, y) of the plane is inside the mask; outside the plane is outside. */
static bool
inside (const VizVolumePlane *plane,
        int                   x,
        int                   y)
{
  return x >= 0 && y >= 0 && x < plane->w && y < plane->h
         && plane->mask[(size_t) y * (size_t) plane->w + (size_t) x] != 0;
}

/* The mask's contour as device-space segments along the voxels' edges, each run of edges on
 * one line joined into one segment; rect is the plane's place (viz_volume_plane_layout). */
static void
draw_contour (cairo_t              *cr,
              const VizVolumePlane *plane,
              const double          rect[4])
{
  double sx = rect[2] / plane->w, sy = rect[3] / plane->h;
  /* Horizontal edges: between rows y - 1 and y, for y from 0 to h. */
  for (int y = 0; y <= plane->h; y++)
    for (int x = 0; x < plane->w;)
      {
        if (inside (plane, x, y - 1) == inside (plane, x, y))
          {
            x++;
            continue;
          }
        int start = x;
        while (x < plane->w && inside (plane, x, y - 1) != inside (plane, x, y))
          x++;
        cairo_move_to (cr, rect[0] + start * sx, rect[1] + y * sy);
        cairo_line_to (cr, rect[0] + x * sx, rect[1] + y * sy);
      }
  /* Vertical edges: between columns x - 1 and x. */
  for (int x = 0; x <= plane->w; x++)
    for (int y = 0; y < plane->h;)
      {
        if (inside (plane, x - 1, y) == inside (plane, x, y))
          {
            y++;
            continue;
          }
        int start = y;
        while (y < plane->h && inside (plane, x - 1, y) != inside (plane, x, y))
          y++;
        cairo_move_to (cr, rect[0] + x * sx, rect[1] + start * sy);
        cairo_line_to (cr, rect[0] + x * sx, rect[1] + y * sy);
      }
  cairo_set_source_rgb (cr, viz_volume_contour_rgb[0], viz_volume_contour_rgb[1],
                        viz_volume_contour_rgb[2]);
  cairo_set_line_width (cr, 2.0);
  /* Square caps fill the corners where a horizontal and a vertical run meet. */
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_SQUARE);
  cairo_stroke (cr);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
}

void
viz_volume_plane_draw (cairo_t              *cr,
                       const VizVolumePlane *plane,
                       const VizStyle       *style,
                       double                width,
                       double                height)
{
  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
  double r[4];
  viz_volume_plane_layout (plane, style, width, height, r);
  double sx = r[2] / plane->w, sy = r[3] / plane->h;

  cairo_save (cr);
  cairo_translate (cr, r[0], r[1]);
  cairo_scale (cr, sx, sy);
  if (plane->image != NULL)
    viz_image_paint_nearest (cr, plane->image, 0, 0, plane->w, plane->h);
  if (plane->overlay != NULL)
    {
      cairo_rectangle (cr, 0, 0, plane->w, plane->h);
      cairo_clip (cr);
      cairo_set_source_surface (cr, plane->overlay, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_BILINEAR);
      cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
      cairo_paint (cr);
    }
  cairo_restore (cr);

  if (plane->mask != NULL)
    draw_contour (cr, plane, r);
  if (plane->crosshair)
    {
      double cx = r[0] + (plane->cross_x + 0.5) * sx;
      double cy = r[1] + (plane->cross_y + 0.5) * sy;
      cairo_set_source_rgba (cr, style->accent[0], style->accent[1], style->accent[2], 0.8);
      cairo_set_line_width (cr, 1.0);
      cairo_move_to (cr, r[0], cy);
      cairo_line_to (cr, r[0] + r[2], cy);
      cairo_move_to (cr, cx, r[1]);
      cairo_line_to (cr, cx, r[1] + r[3]);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}
