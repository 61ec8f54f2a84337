/* SPDX-License-Identifier: MIT */
/* Confusion matrix layout and drawing: square cells, row labels on the left, column labels on
 * top (class numbers, with the names listed by the row labels), the colour bar on the right. */
#include "viz-confusion.h"

#include <math.h>
#include <stdio.h>

#include "viz-colorbar.h"
#include "viz-colormap.h"
#include "viz-text.h"

/* Room for the row labels ("9 Ankle boot"). */
#define ROW_LABELS_W 96.0

typedef struct
{
  double x0, y0, cell;
  double bar_x;
} Layout;

static void
confusion_layout (const VizConfusion *conf,
                  const VizStyle     *style,
                  double              width,
                  double              height,
                  Layout             *l)
{
  double line = viz_text_line_height (style), m = style->margin;
  double top = m + (conf->title != NULL ? line + 2.0 : 0.0) + line + 2.0;
  double aw = width - 2.0 * m - ROW_LABELS_W - style->colorbar_width - style->colorbar_labels;
  double ah = height - top - m;
  int n = conf->n > 0 ? conf->n : 1;
  l->cell = fmax (floor (fmin (aw, ah) / n), 1.0);
  l->x0 = round (m + ROW_LABELS_W);
  l->y0 = round (top);
  l->bar_x = l->x0 + l->cell * n + 2.0 * style->gap + m;
}

void
viz_confusion_cell_rect (const VizConfusion *conf,
                         const VizStyle     *style,
                         double              width,
                         double              height,
                         int                 row,
                         int                 col,
                         double              rect[4])
{
  Layout l;
  confusion_layout (conf, style, width, height, &l);
  rect[0] = l.x0 + col * l.cell;
  rect[1] = l.y0 + row * l.cell;
  rect[2] = l.cell;
  rect[3] = l.cell;
}

void
viz_confusion_draw (cairo_t            *cr,
                    const VizConfusion *conf,
                    const VizStyle     *style,
                    double              width,
                    double              height)
{
  Layout l;
  confusion_layout (conf, style, width, height, &l);
  double line = viz_text_line_height (style);
  VizColormap cm;
  viz_colormap_init (&cm, VIZ_COLORMAP_SEQUENTIAL, 0.0, 1.0);

  cairo_save (cr);
  cairo_new_path (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_rectangle (cr, 0.0, 0.0, width, height);
      cairo_fill (cr);
    }
  if (conf->title != NULL)
    viz_text_draw (cr, style, conf->title, style->margin, style->margin, 0.0, 0.0);

  int n = conf->n;
  char text[64];
  VizStyle cell_style = *style;
  for (int r = 0; r < n; r++)
    {
      long total = 0;
      for (int c = 0; c < n; c++)
        total += conf->counts[r * n + c];
      for (int c = 0; c < n; c++)
        {
          int count = conf->counts[r * n + c];
          double fraction = total > 0 ? (double) count / (double) total : 0.0;
          double rgb[3];
          viz_colormap_rgb (&cm, fraction, rgb);
          cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
          double x = l.x0 + c * l.cell, y = l.y0 + r * l.cell;
          cairo_rectangle (cr, x, y, l.cell, l.cell);
          cairo_fill (cr);
          if (l.cell >= 2.2 * line)
            {
              double luma = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
              double ink = luma > 0.5 ? 0.0 : 1.0;
              cell_style.foreground[0] = cell_style.foreground[1] = ink;
              cell_style.foreground[2] = ink;
              cell_style.foreground[3] = 1.0;
              snprintf (text, sizeof text, "%d", count);
              viz_text_draw (cr, &cell_style, text, x + 0.5 * l.cell, y + 0.5 * l.cell, 0.5,
                             0.5);
            }
        }
      if (conf->labels != NULL && conf->labels[r] != NULL)
        snprintf (text, sizeof text, "%d %s", r, conf->labels[r]);
      else
        snprintf (text, sizeof text, "%d", r);
      viz_text_draw (cr, style, text, l.x0 - style->gap - 2.0, l.y0 + (r + 0.5) * l.cell, 1.0,
                     0.5);
    }
  for (int c = 0; c < n; c++)
    {
      snprintf (text, sizeof text, "%d", c);
      viz_text_draw (cr, style, text, l.x0 + (c + 0.5) * l.cell, l.y0 - 2.0, 0.5, 1.0);
    }
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         0.5 * style->foreground[3]);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, l.x0 - 0.5, l.y0 - 0.5, l.cell * n + 1.0, l.cell * n + 1.0);
  cairo_stroke (cr);

  cairo_translate (cr, l.bar_x, l.y0 - 0.5 * line);
  viz_colorbar_draw (cr, &cm, style, style->colorbar_width + style->colorbar_labels,
                     l.cell * n + line);
  cairo_restore (cr);
}
