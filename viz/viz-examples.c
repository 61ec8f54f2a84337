/* SPDX-License-Identifier: MIT */
/* The dataset examples figure (viz-examples.h): two rows of square cells, each holding one
 * sample (or its crop) fitted with nearest filtering, its activation under it. */
#include "viz-examples.h"

#include <math.h>
#include <stdio.h>

#include "viz-caption.h"
#include "viz-image.h"
#include "viz-text.h"

void
viz_examples_tiles (VizExampleTile         *tiles,
                    const NnExamples       *examples,
                    int                     c,
                    const NnDataset        *ds,
                    const NnReceptiveField *field)
{
  const int count = nn_examples_count (examples);
  const size_t sample = (size_t) ds->c * ds->h * ds->w;
  for (int end = 0; end < 2; end++)
    {
      const NnExample *list = end == 0 ? nn_examples_top (examples, c)
                                       : nn_examples_bottom (examples, c);
      for (int i = 0; i < count; i++)
        {
          VizExampleTile *t = &tiles[end * count + i];
          *t = (VizExampleTile) {
            .pixels = ds->images + (size_t) list[i].index * sample,
            .c = ds->c, .h = ds->h, .w = ds->w, .whole = field->whole,
            .index = list[i].index, .value = list[i].value,
          };
          nn_receptive_field_rect (field, list[i].y, list[i].x, ds->h, ds->w, t->rect);
          t->field[0] = field->start_h + list[i].y * field->jump_h;
          t->field[1] = field->start_w + list[i].x * field->jump_w;
          t->field[2] = field->size_h;
          t->field[3] = field->size_w;
        }
    }
}

void
viz_examples_caption (char                   *buf,
                      size_t                  size,
                      const char             *layer,
                      int                     channel,
                      const char             *dataset,
                      int                     n,
                      const NnReceptiveField *field,
                      bool                    crop)
{
  buf[0] = '\0';
  viz_caption_append (buf, size, "Layer %s, channel %d: %d samples of %s ranked by the "
                      "channel's spatial maximum", layer, channel, n, dataset);
  if (field->whole)
    viz_caption_append (buf, size, "; its units see the whole image");
  else
    viz_caption_append (buf, size, "; %s the unit's receptive field (%d x %d px)",
                        crop ? "crops at" : "outlined:", field->size_h, field->size_w);
}

typedef struct
{
  double cell;       /* side of a square cell */
  double x0;         /* left of the first cell */
  double row_y[2];   /* top of each row's cells */
  double head_y[2];  /* top of each row's heading */
  double title_y, caption_y;
  double lh;
} Layout;

static void
layout (Layout            *l,
        const VizExamples *ex,
        const VizStyle    *style,
        double             width,
        double             height)
{
  l->lh = viz_text_line_height (style);
  double y = style->margin;
  l->title_y = y;
  if (ex->title != NULL)
    y += l->lh + style->gap * 2.0;
  double caption_h = ex->caption != NULL ? 2.0 * l->lh + style->gap * 2.0 : 0.0;
  /* Per row: heading, cells, value line, space. */
  double text_h = 2.0 * (l->lh + style->gap + l->lh + style->gap * 4.0);
  double ah = height - y - style->margin - caption_h - text_h;
  double aw = width - 2.0 * style->margin;
  int n = ex->n > 0 ? ex->n : 1;
  l->cell = fmax (0.0, fmin ((aw - style->gap * 4.0 * (n - 1)) / n, ah / 2.0));
  l->x0 = style->margin;
  for (int r = 0; r < 2; r++)
    {
      l->head_y[r] = y;
      l->row_y[r] = y + l->lh + style->gap;
      y = l->row_y[r] + l->cell + l->lh + style->gap * 5.0;
    }
  l->caption_y = y;
}

static double
cell_x (const Layout   *l,
        const VizStyle *style,
        int             i)
{
  return l->x0 + i * (l->cell + style->gap * 4.0);
}

static void
draw_tile (cairo_t              *cr,
           const VizExampleTile *t,
           bool                  crop,
           const VizStyle       *style,
           double                x,
           double                y,
           double                cell)
{
  /* Crops share one scale, that of the whole field, and sit where they are in it: a field cut
   * by the image's border shows the border. */
  int sy = 0, sx = 0, sh = t->h, sw = t->w, fy = 0, fx = 0, fh = t->h, fw = t->w;
  if (crop && !t->whole)
    {
      sy = t->rect[0];
      sx = t->rect[1];
      sh = t->rect[2];
      sw = t->rect[3];
      fy = t->field[0];
      fx = t->field[1];
      fh = t->field[2];
      fw = t->field[3];
    }
  cairo_surface_t *image = viz_image_surface_new (t->pixels, t->c, t->h, t->w);
  if (image == NULL || sh <= 0 || sw <= 0 || fh <= 0 || fw <= 0)
    {
      if (image != NULL)
        cairo_surface_destroy (image);
      return;
    }
  double scale = cell / (fh > fw ? fh : fw);
  double ox = x + (cell - fw * scale) / 2.0 + (sx - fx) * scale;
  double oy = y + (cell - fh * scale) / 2.0 + (sy - fy) * scale;
  cairo_save (cr);
  cairo_translate (cr, ox, oy);
  cairo_scale (cr, scale, scale);
  viz_image_paint_nearest (cr, image, sx, sy, sw, sh);
  cairo_restore (cr);
  cairo_surface_destroy (image);
  if (!crop && !t->whole)
    {
      cairo_save (cr);
      cairo_rectangle (cr, ox + t->rect[1] * scale + 0.75, oy + t->rect[0] * scale + 0.75,
                       t->rect[3] * scale - 1.5, t->rect[2] * scale - 1.5);
      cairo_set_source_rgba (cr, style->accent[0], style->accent[1], style->accent[2],
                             style->accent[3]);
      cairo_set_line_width (cr, 1.5);
      cairo_stroke (cr);
      cairo_restore (cr);
    }
}

void
viz_examples_draw (cairo_t           *cr,
                   const VizExamples *examples,
                   const VizStyle    *style,
                   double             width,
                   double             height)
{
  const VizExamples *ex = examples;
  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_rectangle (cr, 0.0, 0.0, width, height);
      cairo_fill (cr);
    }
  Layout l;
  layout (&l, ex, style, width, height);
  double text_w = width - 2.0 * style->margin;
  if (ex->title != NULL)
    viz_text_draw_fitted (cr, style, ex->title, style->margin, l.title_y, text_w, 0.0, 0.0);
  static const char *const heads[2] = { "Highest activation", "Lowest activation" };
  for (int r = 0; r < 2; r++)
    {
      const char *head = ex->heads[r] != NULL ? ex->heads[r] : heads[r];
      viz_text_draw_fitted (cr, style, head, style->margin, l.head_y[r], text_w, 0.0, 0.0);
      const VizExampleTile *row = r == 0 ? ex->top : ex->bottom;
      for (int i = 0; i < ex->n && l.cell > 0.0; i++)
        {
          double x = cell_x (&l, style, i);
          draw_tile (cr, &row[i], ex->crop, style, x, l.row_y[r], l.cell);
          char value[32];
          viz_text_format_value (value, sizeof value, 3, (double) row[i].value);
          viz_text_draw_fitted (cr, style, value, x + l.cell / 2.0,
                                l.row_y[r] + l.cell + style->gap, l.cell + style->gap * 4.0,
                                0.5, 0.0);
        }
    }
  if (ex->caption != NULL)
    viz_text_draw_wrapped (cr, style, ex->caption, style->margin, l.caption_y, text_w);
  cairo_restore (cr);
}

int
viz_examples_hit (const VizExamples *examples,
                  const VizStyle    *style,
                  double             width,
                  double             height,
                  double             x,
                  double             y)
{
  Layout l;
  layout (&l, examples, style, width, height);
  for (int r = 0; r < 2; r++)
    for (int i = 0; i < examples->n; i++)
      {
        double cx = cell_x (&l, style, i);
        if (x >= cx && x < cx + l.cell && y >= l.row_y[r] && y < l.row_y[r] + l.cell)
          return r * examples->n + i;
      }
  return -1;
}
