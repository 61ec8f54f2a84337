/* SPDX-License-Identifier: MIT */
/* The scatter plot of an embedding: layout (title and caption on top, the legend on the right,
 * a square-ish plot area framed between), dots, rings on misclassified samples, legend. */
#include "viz-scatter.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "viz-caption.h"
#include "viz-text.h"

#define DOT_RADIUS  2.5
#define RING_RADIUS 5.0
#define SWATCH      10.0

/* Ten hues far apart, readable on white (the first ten classes). */
static const double palette[10][3] = {
  { 0.122, 0.467, 0.706 }, { 1.000, 0.498, 0.055 }, { 0.173, 0.627, 0.173 },
  { 0.839, 0.153, 0.157 }, { 0.580, 0.404, 0.741 }, { 0.549, 0.337, 0.294 },
  { 0.890, 0.467, 0.761 }, { 0.498, 0.498, 0.498 }, { 0.737, 0.741, 0.133 },
  { 0.090, 0.745, 0.812 },
};

void
viz_scatter_class_rgb (int    k,
                       double rgb[3])
{
  if (k >= 0 && k < 10)
    {
      memcpy (rgb, palette[k], sizeof palette[k]);
      return;
    }
  /* hue by the golden angle, lightness alternating: an HSV colour with s = 0.65 */
  double h = fmod ((k < 0 ? 0 : k) * 0.618033988749895, 1.0) * 6.0;
  double v = k % 2 ? 0.6 : 0.9, s = 0.65;
  double c = v * s, x = c * (1.0 - fabs (fmod (h, 2.0) - 1.0)), m = v - c;
  double r = 0, g = 0, b = 0;
  switch ((int) h)
    {
    case 0: r = c, g = x; break;
    case 1: r = x, g = c; break;
    case 2: g = c, b = x; break;
    case 3: g = x, b = c; break;
    case 4: r = x, b = c; break;
    default: r = c, b = x; break;
    }
  rgb[0] = r + m;
  rgb[1] = g + m;
  rgb[2] = b + m;
}

void
viz_scatter_caption (char                    *buf,
                     size_t                   size,
                     const VizScatterCaption *c)
{
  viz_caption_append (buf, size, "layer %s (%s, %d features), %s, N = %d", c->layer,
                      c->flatten ? "flattened" : "pooled", c->features,
                      c->tsne ? "t-SNE" : "PCA", c->n);
  if (c->tsne)
    viz_caption_append (buf, size, ", perplexity %g, seed %llu", c->perplexity,
                        (unsigned long long) c->seed);
  else
    viz_caption_append (buf, size, ", variance %.1f%% + %.1f%%", c->variance[0],
                        c->variance[1]);
  viz_caption_append (buf, size, "\n%s, coloured by %s class, %d misclassified (ringed)",
                      c->dataset, c->colour_pred ? "predicted" : "true", c->wrong);
}

static const char *
class_name (const VizScatter *scatter,
            int               k,
            char             *buf,
            size_t            size)
{
  if (scatter->labels != NULL && scatter->labels[k] != NULL)
    return scatter->labels[k];
  snprintf (buf, size, "%d", k);
  return buf;
}

static int
count_lines (const char *text)
{
  if (text == NULL || *text == '\0')
    return 0;
  int n = 1;
  for (const char *c = text; *c; c++)
    n += *c == '\n';
  return n;
}

typedef struct
{
  double area[4];             /* the plot area x, y, w, h */
  double x_lo, x_hi, y_lo, y_hi;
  double legend_x, legend_y;  /* the legend's top-left corner */
  double top;                 /* under the title and caption */
} Layout;

/* The legend's width from the longest class name, estimated from the font's line height so
 * that drawing and hit tests (which have no cairo context) agree on the layout. */
static double
legend_width (const VizScatter *scatter,
              const VizStyle   *style)
{
  const double line = viz_text_line_height (style);
  double widest = 0.0;
  char buf[32];
  for (int k = 0; k < scatter->n_classes; k++)
    {
      const char *name = class_name (scatter, k, buf, sizeof buf);
      widest = fmax (widest, 0.55 * line * (double) strlen (name));
    }
  if (scatter->pred != NULL)
    widest = fmax (widest, 0.55 * line * (double) strlen ("misclassified"));
  return SWATCH + 6.0 + fmin (widest, 200.0);
}

static void
layout (Layout           *l,
        const VizScatter *scatter,
        const VizStyle   *style,
        double            width,
        double            height)
{
  const double line = viz_text_line_height (style), m = style->margin;
  l->top = m + line * ((scatter->title != NULL) + count_lines (scatter->caption));
  if (l->top > m)
    l->top += line / 2;
  const double lw = legend_width (scatter, style);
  const double left = m + (scatter->y_label != NULL ? line + 4.0 : 0.0);
  const double bottom = m + (scatter->x_label != NULL ? line + 4.0 : 0.0);
  l->area[0] = left;
  l->area[1] = l->top;
  l->area[2] = fmax (10.0, width - left - m - lw - 2.0 * m);
  l->area[3] = fmax (10.0, height - l->top - bottom);
  l->legend_x = l->area[0] + l->area[2] + 2.0 * m;
  l->legend_y = l->top;

  l->x_lo = l->y_lo = HUGE_VAL;
  l->x_hi = l->y_hi = -HUGE_VAL;
  for (int i = 0; i < scatter->n; i++)
    {
      double x = (double) scatter->xy[2 * i], y = (double) scatter->xy[2 * i + 1];
      if (!isfinite (x) || !isfinite (y))
        continue;
      l->x_lo = fmin (l->x_lo, x);
      l->x_hi = fmax (l->x_hi, x);
      l->y_lo = fmin (l->y_lo, y);
      l->y_hi = fmax (l->y_hi, y);
    }
  if (!(l->x_lo <= l->x_hi))
    l->x_lo = -1.0, l->x_hi = 1.0, l->y_lo = -1.0, l->y_hi = 1.0;
  /* a single value spread around itself, then room for the rings at the edges */
  if (l->x_hi == l->x_lo)
    l->x_lo -= 1.0, l->x_hi += 1.0;
  if (l->y_hi == l->y_lo)
    l->y_lo -= 1.0, l->y_hi += 1.0;
  const double pad_x = (l->x_hi - l->x_lo) * 1.5 * RING_RADIUS / l->area[2];
  const double pad_y = (l->y_hi - l->y_lo) * 1.5 * RING_RADIUS / l->area[3];
  l->x_lo -= pad_x;
  l->x_hi += pad_x;
  l->y_lo -= pad_y;
  l->y_hi += pad_y;
}

static void
map (const Layout *l,
     double        x,
     double        y,
     double       *px,
     double       *py)
{
  *px = l->area[0] + (x - l->x_lo) / (l->x_hi - l->x_lo) * l->area[2];
  *py = l->area[1] + (1.0 - (y - l->y_lo) / (l->y_hi - l->y_lo)) * l->area[3];
}

void
viz_scatter_point (const VizScatter *scatter,
                   const VizStyle   *style,
                   double            width,
                   double            height,
                   int               i,
                   double           *x,
                   double           *y)
{
  Layout l;
  layout (&l, scatter, style, width, height);
  map (&l, (double) scatter->xy[2 * i], (double) scatter->xy[2 * i + 1], x, y);
}

int
viz_scatter_hit (const VizScatter *scatter,
                 const VizStyle   *style,
                 double            width,
                 double            height,
                 double            x,
                 double            y,
                 double            radius)
{
  Layout l;
  layout (&l, scatter, style, width, height);
  int best = -1;
  double best_d2 = radius * radius;
  for (int i = 0; i < scatter->n; i++)
    {
      double px, py;
      map (&l, (double) scatter->xy[2 * i], (double) scatter->xy[2 * i + 1], &px, &py);
      double d2 = (px - x) * (px - x) + (py - y) * (py - y);
      if (d2 <= best_d2)
        {
          best = i;
          best_d2 = d2;
        }
    }
  return best;
}

static bool
wrong (const VizScatter *scatter,
       int               i)
{
  return scatter->pred != NULL && scatter->pred[i] != scatter->truth[i];
}

void
viz_scatter_draw (cairo_t          *cr,
                  const VizScatter *scatter,
                  const VizStyle   *style,
                  double            width,
                  double            height)
{
  cairo_save (cr);
  cairo_set_source_rgba (cr, style->background[0], style->background[1], style->background[2],
                         style->background[3]);
  cairo_paint (cr);
  Layout l;
  layout (&l, scatter, style, width, height);
  const double line = viz_text_line_height (style), m = style->margin;

  double y = m;
  if (scatter->title != NULL)
    {
      viz_text_draw_fitted (cr, style, scatter->title, m, y, width - 2 * m, 0.0, 0.0);
      y += line;
    }
  if (scatter->caption != NULL)
    viz_text_draw_lines (cr, style, scatter->caption, m, y);

  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         0.5);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, l.area[0] + 0.5, l.area[1] + 0.5, l.area[2] - 1.0, l.area[3] - 1.0);
  cairo_stroke (cr);
  if (scatter->x_label != NULL)
    viz_text_draw (cr, style, scatter->x_label, l.area[0] + l.area[2] / 2,
                   l.area[1] + l.area[3] + 4.0, 0.5, 0.0);
  if (scatter->y_label != NULL)
    {
      cairo_save (cr);
      cairo_translate (cr, l.area[0] - 4.0, l.area[1] + l.area[3] / 2);
      cairo_rotate (cr, -M_PI / 2);
      viz_text_draw (cr, style, scatter->y_label, 0.0, 0.0, 0.5, 1.0);
      cairo_restore (cr);
    }

  /* Dots, the misclassified last so that their rings stay on top. */
  cairo_save (cr);
  cairo_rectangle (cr, l.area[0], l.area[1], l.area[2], l.area[3]);
  cairo_clip (cr);
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < scatter->n; i++)
      {
        if (wrong (scatter, i) != (pass == 1))
          continue;
        double px, py, rgb[3];
        map (&l, (double) scatter->xy[2 * i], (double) scatter->xy[2 * i + 1], &px, &py);
        if (!isfinite (px) || !isfinite (py))
          continue;
        viz_scatter_class_rgb (scatter->colour_pred && scatter->pred != NULL
                               ? scatter->pred[i] : scatter->truth[i], rgb);
        cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
        cairo_arc (cr, px, py, DOT_RADIUS, 0.0, 2 * M_PI);
        cairo_fill (cr);
        if (pass == 1)
          {
            cairo_set_source_rgb (cr, style->foreground[0], style->foreground[1],
                                  style->foreground[2]);
            cairo_set_line_width (cr, 1.2);
            cairo_new_sub_path (cr);
            cairo_arc (cr, px, py, RING_RADIUS, 0.0, 2 * M_PI);
            cairo_stroke (cr);
          }
      }
  cairo_restore (cr);

  /* The legend: a swatch and a name per class, then the ring. */
  char buf[32];
  double ly = l.legend_y;
  const double name_width = width - l.legend_x - SWATCH - 6.0 - m;
  for (int k = 0; k < scatter->n_classes && ly + line <= height; k++, ly += line)
    {
      double rgb[3];
      viz_scatter_class_rgb (k, rgb);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_arc (cr, l.legend_x + SWATCH / 2, ly + line / 2, SWATCH / 2 - 1.0, 0.0, 2 * M_PI);
      cairo_fill (cr);
      viz_text_draw_fitted (cr, style, class_name (scatter, k, buf, sizeof buf),
                            l.legend_x + SWATCH + 6.0, ly, name_width, 0.0, 0.0);
    }
  if (scatter->pred != NULL && ly + 2 * line <= height)
    {
      ly += line / 2;
      cairo_set_source_rgb (cr, style->foreground[0], style->foreground[1], style->foreground[2]);
      cairo_set_line_width (cr, 1.2);
      cairo_new_sub_path (cr);
      cairo_arc (cr, l.legend_x + SWATCH / 2, ly + line / 2, RING_RADIUS, 0.0, 2 * M_PI);
      cairo_stroke (cr);
      viz_text_draw_fitted (cr, style, "misclassified", l.legend_x + SWATCH + 6.0, ly,
                            name_width, 0.0, 0.0);
    }
  cairo_restore (cr);
}
