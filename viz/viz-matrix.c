/* SPDX-License-Identifier: MIT */
/* Matrix heat map: the values mapped into an image surface of rows x cols pixels, scaled up with
 * nearest filtering into cells of whole pixels when they fit; row and column numbers every few
 * cells; the colour bar on the right. */
#include "viz-matrix.h"

#include <math.h>
#include <stdio.h>

#include "viz-colorbar.h"
#include "viz-image.h"
#include "viz-text.h"

/* Room left of the matrix for the row numbers and the row label. */
#define ROW_NUMBERS_W 30.0

void
viz_matrix_area (const VizMatrix *matrix,
                 const VizStyle  *style,
                 double           width,
                 double           height,
                 double           area[4])
{
  double line = viz_text_line_height (style), m = style->margin;
  double left = m + ROW_NUMBERS_W + (matrix->row_label != NULL ? line : 0.0);
  double top = m + line + (matrix->col_label != NULL ? line : 0.0);
  double aw = width - left - m - 2.0 * style->gap - style->colorbar_width - style->colorbar_labels;
  double ah = height - top - m;
  int rows = matrix->rows > 0 ? matrix->rows : 1, cols = matrix->cols > 0 ? matrix->cols : 1;
  double cell = fmax (fmin (aw / cols, ah / rows), 0.0);
  if (cell >= 1.0)
    cell = floor (cell);
  area[0] = round (left);
  area[1] = round (top);
  area[2] = cell * cols;
  area[3] = cell * rows;
}

int
viz_matrix_hit_row (const VizMatrix *matrix,
                    const VizStyle  *style,
                    double           width,
                    double           height,
                    double           x,
                    double           y)
{
  double a[4];
  viz_matrix_area (matrix, style, width, height, a);
  if (x < a[0] || x >= a[0] + a[2] || y < a[1] || y >= a[1] + a[3] || a[3] <= 0.0)
    return -1;
  int row = (int) ((y - a[1]) / (a[3] / matrix->rows));
  return row < matrix->rows ? row : -1;
}

/* Numbers every `step` rows or columns, so that they do not overlap. */
static int
label_step (double cell,
            double needed)
{
  static const int steps[] = { 1, 2, 4, 8, 16, 32, 64, 128 };
  for (unsigned i = 0; i < sizeof steps / sizeof steps[0]; i++)
    if (steps[i] * cell >= needed)
      return steps[i];
  return 256;
}

void
viz_matrix_draw (cairo_t         *cr,
                 const VizMatrix *matrix,
                 const VizStyle  *style,
                 double           width,
                 double           height)
{
  double a[4];
  viz_matrix_area (matrix, style, width, height, a);
  int rows = matrix->rows, cols = matrix->cols;
  if (rows <= 0 || cols <= 0 || a[2] <= 0.0 || a[3] <= 0.0)
    return;
  double cell = a[2] / cols, line = viz_text_line_height (style);

  cairo_save (cr);
  cairo_new_path (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_rectangle (cr, 0.0, 0.0, width, height);
      cairo_fill (cr);
    }
  cairo_surface_t *image = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, cols, rows);
  unsigned char *pixels = cairo_image_surface_get_data (image);
  if (pixels != NULL)
    {
      int stride = cairo_image_surface_get_stride (image);
      for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
          *(uint32_t *) (void *) (pixels + (size_t) r * (size_t) stride + (size_t) c * 4) =
            viz_colormap_pixel (matrix->colormap, matrix->values[(size_t) r * (size_t) cols
                                                                 + (size_t) c]);
      cairo_surface_mark_dirty (image);
      cairo_save (cr);
      cairo_rectangle (cr, a[0], a[1], a[2], a[3]);
      cairo_clip (cr);
      cairo_translate (cr, a[0], a[1]);
      cairo_scale (cr, cell, cell);
      viz_image_paint_nearest (cr, image, 0, 0, cols, rows);
      cairo_restore (cr);
    }
  cairo_surface_destroy (image);

  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         0.5 * style->foreground[3]);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, a[0] - 0.5, a[1] - 0.5, a[2] + 1.0, a[3] + 1.0);
  cairo_stroke (cr);

  char text[32];
  int step = label_step (cell, line);
  for (int r = 0; r < rows; r += step)
    {
      snprintf (text, sizeof text, "%d", r);
      viz_text_draw (cr, style, text, a[0] - 3.0, a[1] + (r + 0.5) * cell, 1.0, 0.5);
    }
  step = label_step (cell, 3.0 * line);
  for (int c = 0; c < cols; c += step)
    {
      snprintf (text, sizeof text, "%d", c);
      viz_text_draw (cr, style, text, a[0] + (c + 0.5) * cell, a[1] - 1.0, 0.5, 1.0);
    }
  if (matrix->col_label != NULL)
    viz_text_draw (cr, style, matrix->col_label, a[0], a[1] - 1.0 - line, 0.0, 1.0);
  if (matrix->row_label != NULL)
    {
      cairo_save (cr);
      cairo_translate (cr, style->margin, a[1] + 0.5 * a[3]);
      cairo_rotate (cr, -0.5 * 3.141592653589793);
      viz_text_draw (cr, style, matrix->row_label, 0.0, 0.0, 0.5, 0.0);
      cairo_restore (cr);
    }

  if (matrix->selected_row >= 0 && matrix->selected_row < rows)
    {
      cairo_set_source_rgba (cr, style->accent[0], style->accent[1], style->accent[2],
                             style->accent[3]);
      cairo_set_line_width (cr, 2.0);
      cairo_rectangle (cr, a[0] - 1.0, a[1] + matrix->selected_row * cell - 1.0, a[2] + 2.0,
                       cell + 2.0);
      cairo_stroke (cr);
    }

  cairo_translate (cr, a[0] + a[2] + 2.0 * style->gap, a[1] - 0.5 * line);
  viz_colorbar_draw (cr, matrix->colormap, style, style->colorbar_width + style->colorbar_labels,
                     a[3] + line);
  cairo_restore (cr);
}
