/* SPDX-License-Identifier: MIT */
/* pangocairo text drawing shared by the viz/ drawings. */
#include "viz-text.h"

#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static PangoLayout *
layout_new (cairo_t        *cr,
            const VizStyle *style,
            const char     *text)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string (style->font);
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  pango_layout_set_text (layout, text, -1);
  return layout;
}

double
viz_text_width (cairo_t        *cr,
                const VizStyle *style,
                const char     *text)
{
  PangoLayout *layout = layout_new (cr, style, text);
  int w, h;
  pango_layout_get_pixel_size (layout, &w, &h);
  g_object_unref (layout);
  return w;
}

char *
viz_text_format_value (char   *buf,
                       size_t  size,
                       int     digits,
                       double  value)
{
  snprintf (buf, size, "%.*g", digits, value == 0.0 ? 0.0 : value);
  return buf;
}

double
viz_text_draw (cairo_t        *cr,
               const VizStyle *style,
               const char     *text,
               double          x,
               double          y,
               double          align_x,
               double          align_y)
{
  PangoLayout *layout = layout_new (cr, style, text);
  int w, h;
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_save (cr);
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         style->foreground[3]);
  cairo_move_to (cr, x - align_x * w, y - align_y * h);
  pango_cairo_show_layout (cr, layout);
  cairo_new_path (cr);  /* the path is not part of the saved state: leave none behind */
  cairo_restore (cr);
  g_object_unref (layout);
  return w;
}

double
viz_text_draw_fitted (cairo_t        *cr,
                      const VizStyle *style,
                      const char     *text,
                      double          x,
                      double          y,
                      double          max_width,
                      double          align_x,
                      double          align_y)
{
  PangoLayout *layout = layout_new (cr, style, text);
  if (max_width > 0.0)
    {
      pango_layout_set_width (layout, (int) (max_width * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
    }
  PangoRectangle ink, logical;
  pango_layout_get_pixel_extents (layout, &ink, &logical);
  int w = logical.width, h = logical.height;
  cairo_save (cr);
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         style->foreground[3]);
  /* A layout with a width lays its text out from its own left edge: place that edge. */
  cairo_move_to (cr, x - align_x * w - logical.x, y - align_y * h);
  pango_cairo_show_layout (cr, layout);
  cairo_new_path (cr);
  cairo_restore (cr);
  g_object_unref (layout);
  return w;
}

double
viz_text_draw_lines (cairo_t        *cr,
                     const VizStyle *style,
                     const char     *text,
                     double          x,
                     double          y)
{
  double line = viz_text_line_height (style);
  char *copy = strdup (text);
  if (copy == NULL)
    return y;
  for (char *p = copy; p != NULL; y += line)
    {
      char *end = strchr (p, '\n');
      if (end != NULL)
        *end = '\0';
      viz_text_draw (cr, style, p, x, y, 0.0, 0.0);
      p = end != NULL ? end + 1 : NULL;
    }
  free (copy);
  return y;
}

double
viz_text_draw_wrapped (cairo_t        *cr,
                       const VizStyle *style,
                       const char     *text,
                       double          x,
                       double          y,
                       double          width)
{
  double line = viz_text_line_height (style);
  char *copy = strdup (text);
  if (copy == NULL)
    return y;
  for (char *p = copy; p != NULL;)
    {
      char *end = strchr (p, '\n');
      if (end != NULL)
        *end = '\0';
      PangoLayout *layout = layout_new (cr, style, p);
      if (width > 0.0)
        {
          pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
          pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
        }
      /* Each of its lines where viz_text_draw_lines puts a line: line_height apart. */
      PangoLayoutIter *iter = pango_layout_get_iter (layout);
      do
        {
          PangoLayoutLine *l = pango_layout_iter_get_line_readonly (iter);
          int start = l->start_index, length = l->length;
          char *piece = strndup (p + start, (size_t) length);
          if (piece != NULL)
            viz_text_draw (cr, style, piece, x, y, 0.0, 0.0);
          free (piece);
          y += line;
        }
      while (pango_layout_iter_next_line (iter));
      pango_layout_iter_free (iter);
      g_object_unref (layout);
      p = end != NULL ? end + 1 : NULL;
    }
  free (copy);
  return y;
}

double
viz_text_line_height (const VizStyle *style)
{
  PangoFontDescription *font = pango_font_description_from_string (style->font);
  double size = pango_font_description_get_size (font) / (double) PANGO_SCALE;
  if (!pango_font_description_get_size_is_absolute (font))
    size *= 96.0 / 72.0;
  pango_font_description_free (font);
  if (!(size > 0.0))
    size = 12.0;
  return size * 1.3;
}
