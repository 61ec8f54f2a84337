/* SPDX-License-Identifier: MIT */
/* VizLayerFigure: the captions of the two kinds of layer figure, the layout (the caption on
 * top, the grid in the left 60 %, the selected tile large on the right when the figure is wide
 * enough) and the drawing, pixels as nearest-filtered data. */
#include "viz-layer-figure.h"

#include <math.h>
#include <stdio.h>

#include "viz-caption.h"
#include "viz-export.h"
#include "viz-image.h"
#include "viz-text.h"

/* Narrower figures show the grid alone. */
#define PANEL_MIN_WIDTH 520.0
/* Values are written into the cells of the large tile when a cell is at least this big and the
 * tile has at most this many cells (a 3x3 kernel, not a 28x28 map). */
#define VALUE_MIN_CELL  34.0
#define VALUE_MAX_CELLS 64

typedef struct
{
  double body_y, body_h;   /* below the caption */
  double grid_w;           /* the grid and its colour bar */
  double panel_x, panel_w; /* the large tile; panel_w is 0 without one */
} Layout;

static void
figure_layout (const VizLayerFigure *fig,
               const VizStyle       *style,
               double                width,
               double                height,
               Layout               *layout)
{
  layout->body_y = style->margin + viz_text_line_height (style);
  layout->body_h = fmax (height - layout->body_y, 0.0);
  bool panel = fig->panel_title[0] != '\0' && width >= PANEL_MIN_WIDTH;
  layout->grid_w = panel ? floor (width * 0.6) : width;
  layout->panel_x = layout->grid_w;
  layout->panel_w = panel ? width - layout->grid_w : 0.0;
}

/* The minimum, maximum and mean of n values. */
static void
value_range (const float *v,
             size_t       n,
             float       *lo,
             float       *hi,
             float       *mean)
{
  float a = v[0], b = v[0];
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      a = v[i] < a ? v[i] : a;
      b = v[i] > b ? v[i] : b;
      sum += (double) v[i];
    }
  *lo = a;
  *hi = b;
  *mean = (float) (sum / (double) n);
}

bool
viz_layer_figure_token_view (NnShape  s,
                             NnShape *view,
                             int     *skip)
{
  NN_ASSERT (view != NULL && skip != NULL);
  if (s.rank != 2)
    return false;
  const int g = nn_explain_token_grid (s.dims[0], skip);
  if (g == 0)
    return false;
  const int dims[3] = { s.dims[1], g, g };
  *view = nn_shape_of (3, dims);
  return true;
}

void
viz_layer_figure_token_grid (float       *out,
                             const float *data,
                             NnShape      s,
                             NnShape      view,
                             int          skip)
{
  NN_ASSERT (out != NULL && data != NULL);
  const int E = s.dims[1], P = view.h * view.w;
  for (int e = 0; e < E; e++)
    for (int p = 0; p < P; p++)
      out[(size_t) e * (size_t) P + (size_t) p] = data[(size_t) (skip + p) * (size_t) E
                                                       + (size_t) e];
}

void
viz_layer_figure_init_activations (VizLayerFigure    *fig,
                                   const char        *model_path,
                                   const NnNode      *node,
                                   const char        *input_path,
                                   const float       *data,
                                   const VizColormap *cm,
                                   int                channel)
{
  NN_ASSERT (fig != NULL && model_path != NULL && node != NULL && input_path != NULL);
  NN_ASSERT (data != NULL && cm != NULL);

  NnShape s = node->shape;
  int skip = 0;
  const bool tokens = viz_layer_figure_token_view (node->shape, &s, &skip);
  if (channel >= s.c)
    channel = -1;
  *fig = (VizLayerFigure) {
    .grid = {
      .data = data, .c = s.c, .h = s.h, .w = s.w, .colormap = cm, .selected = channel,
    },
  };
  char model[256], input[256], scale[96];
  if (cm->kind == VIZ_COLORMAP_DIVERGING)
    snprintf (scale, sizeof scale, "diverging map ±%.4g", cm->hi);
  else
    {
      char lo[32], hi[32];
      snprintf (scale, sizeof scale, "sequential map %s to %s",
                viz_text_format_value (lo, sizeof lo, 4, cm->lo),
                viz_text_format_value (hi, sizeof hi, 4, cm->hi));
    }
  char shape[96];
  if (tokens)
    snprintf (shape, sizeof shape, "%d tokens × %d features, patch grid %d×%d",
              node->shape.dims[0], s.c, s.h, s.w);
  else
    snprintf (shape, sizeof shape, "%d×%d×%d", s.c, s.h, s.w);
  snprintf (fig->caption, sizeof fig->caption, "%s · %s (%s %s) · input %s · %s",
            viz_caption_file_name (model, sizeof model, model_path, false), node->name,
            nn_op_name (node->op), shape,
            viz_caption_file_name (input, sizeof input, input_path, true), scale);
  if (channel < 0 || s.h <= 0 || s.w <= 0)
    return;
  size_t n = (size_t) s.h * (size_t) s.w;
  float lo, hi, mean;
  value_range (data + (size_t) channel * n, n, &lo, &hi, &mean);
  snprintf (fig->panel_title, sizeof fig->panel_title, "%s %d of %d",
            tokens ? "Feature" : "Channel", channel, s.c);
  char a[32], b[32], c[32];
  snprintf (fig->panel_note, sizeof fig->panel_note, "min %s   max %s   mean %s",
            viz_text_format_value (a, sizeof a, 4, (double) lo),
            viz_text_format_value (b, sizeof b, 4, (double) hi),
            viz_text_format_value (c, sizeof c, 4, (double) mean));
}

void
viz_layer_figure_init_filters (VizLayerFigure      *fig,
                               const char          *model_path,
                               const char          *layer_name,
                               const VizFilterGrid *filters,
                               const float         *maps,
                               const VizColormap   *cm,
                               int                  channel)
{
  NN_ASSERT (fig != NULL && model_path != NULL && layer_name != NULL && filters != NULL);
  NN_ASSERT (maps != NULL && cm != NULL);

  const VizFilterGrid *f = filters;
  if (channel >= f->oc)
    channel = -1;
  *fig = (VizLayerFigure) {
    .grid = {
      .data = maps, .c = f->oc, .h = f->kh, .w = f->kw, .colormap = cm, .selected = channel,
    },
  };
  char model[256], what[96];
  if (f->input_channel < 0)
    snprintf (what, sizeof what, "summed over %d input channel%s", f->ic, f->ic == 1 ? "" : "s");
  else
    snprintf (what, sizeof what, "input channel %d of %d", f->input_channel, f->ic);
  snprintf (fig->caption, sizeof fig->caption, "%s · %s (%d filters %d×%d) · %s · diverging "
            "map ±%.4g", viz_caption_file_name (model, sizeof model, model_path, false),
            layer_name, f->oc, f->kh, f->kw, what, cm->hi);
  if (channel < 0 || f->kh <= 0 || f->kw <= 0)
    return;
  size_t k2 = (size_t) f->kh * (size_t) f->kw;
  float lo, hi, mean;
  value_range (maps + (size_t) channel * k2, k2, &lo, &hi, &mean);
  snprintf (fig->panel_title, sizeof fig->panel_title, "Filter %d of %d, %s", channel, f->oc,
            what);
  char a[32], b[32];
  snprintf (fig->panel_note, sizeof fig->panel_note, "min %s   max %s",
            viz_text_format_value (a, sizeof a, 4, (double) lo),
            viz_text_format_value (b, sizeof b, 4, (double) hi));
}

/* How the values of one tile are written into its cells: value * 10^-exponent with `digits`
 * significant digits; digits 0: not at all. */
typedef struct
{
  int exponent;
  int digits;
} CellFormat;

/* The most precise format whose every value fits its cell with room to spare (so neighbours
 * never run together): plain with 3 or 2 digits, else scaled by a power of 1000 that brings
 * the largest magnitude to 1 .. 999 (the note then says by how much), with 3, 2 or 1 digits. */
static CellFormat
choose_cell_format (cairo_t        *cr,
                    const VizStyle *style,
                    const float    *v,
                    int             n,
                    double          scale)
{
  double big = 0.0;
  for (int i = 0; i < n; i++)
    big = fmax (big, fabs ((double) v[i]));
  int engineering = big > 0.0 ? 3 * (int) floor (log10 (big) / 3.0) : 0;
  const CellFormat candidates[] = {
    { 0, 3 }, { 0, 2 }, { engineering, 3 }, { engineering, 2 }, { engineering, 1 },
  };
  double room = scale - 6.0;
  for (size_t c = 0; c < sizeof candidates / sizeof candidates[0]; c++)
    {
      CellFormat f = candidates[c];
      if (c >= 2 && f.exponent == 0)
        break;
      double factor = pow (10.0, -f.exponent);
      bool fits = true;
      for (int i = 0; i < n && fits; i++)
        {
          char text[32];
          viz_text_format_value (text, sizeof text, f.digits, (double) v[i] * factor);
          fits = viz_text_width (cr, style, text) <= room;
        }
      if (fits)
        return f;
    }
  return (CellFormat) { 0, 0 };
}

/* Tile k's values written into its cells of the large tile at (x, y), `scale` px per cell, in
 * black or white, whichever reads on the cell's colour. Returns the format used. */
static CellFormat
draw_cell_values (cairo_t              *cr,
                  const VizLayerFigure *fig,
                  const VizStyle       *style,
                  int                   k,
                  double                x,
                  double                y,
                  double                scale)
{
  const VizTileGrid *g = &fig->grid;
  const float *v = g->data + (size_t) k * (size_t) g->h * (size_t) g->w;
  CellFormat format = choose_cell_format (cr, style, v, g->h * g->w, scale);
  if (format.digits == 0)
    return format;
  double factor = pow (10.0, -format.exponent);
  VizStyle cell_style = *style;
  for (int i = 0; i < g->h; i++)
    for (int j = 0; j < g->w; j++)
      {
        double value = (double) v[i * g->w + j], rgb[3];
        viz_colormap_rgb (g->colormap, value, rgb);
        double luma = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
        double ink = luma > 0.5 ? 0.0 : 1.0;
        cell_style.foreground[0] = cell_style.foreground[1] = cell_style.foreground[2] = ink;
        cell_style.foreground[3] = 1.0;
        char text[32];
        viz_text_format_value (text, sizeof text, format.digits, value * factor);
        viz_text_draw (cr, &cell_style, text, x + (j + 0.5) * scale, y + (i + 0.5) * scale,
                       0.5, 0.5);
      }
  return format;
}

/* Channels per row of the atlas (viz_tile_grid_atlas_new). */
static int
atlas_cols (int n)
{
  return (int) ceil (sqrt ((double) n));
}

/* The selected tile large in the box (x, y, w, h): title, tile, note. */
static void
draw_panel (cairo_t              *cr,
            const VizLayerFigure *fig,
            const VizStyle       *style,
            cairo_surface_t      *atlas,
            double                x,
            double                y,
            double                w,
            double                h)
{
  const VizTileGrid *g = &fig->grid;
  int k = g->selected;
  if (k < 0 || k >= g->c || g->h <= 0 || g->w <= 0 || atlas == NULL)
    return;
  double m = style->margin, line = viz_text_line_height (style);
  viz_text_draw (cr, style, fig->panel_title, x + m, y + m, 0.0, 0.0);
  double top = y + 2.0 * m + line;
  double aw = w - 2.0 * m, ah = h - (top - y) - 2.0 * m - line;
  if (aw <= 1.0 || ah <= 1.0)
    return;
  double scale = fmin (aw / g->w, ah / g->h);
  if (scale >= 1.0)
    scale = floor (scale);
  double left = x + m, iw = scale * g->w, ih = scale * g->h;

  int cols = atlas_cols (g->c);
  cairo_save (cr);
  cairo_rectangle (cr, left, top, iw, ih);
  cairo_clip (cr);
  cairo_translate (cr, left, top);
  cairo_scale (cr, scale, scale);
  viz_image_paint_nearest (cr, atlas, (k % cols) * g->w, (k / cols) * g->h, g->w, g->h);
  cairo_restore (cr);

  cairo_save (cr);
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         0.5 * style->foreground[3]);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, left - 0.5, top - 0.5, iw + 1.0, ih + 1.0);
  cairo_stroke (cr);
  cairo_restore (cr);

  CellFormat format = { 0, 0 };
  if (scale >= VALUE_MIN_CELL && g->h * g->w <= VALUE_MAX_CELLS)
    format = draw_cell_values (cr, fig, style, k, left, top, scale);
  double note_w = 0.0;
  if (fig->panel_note[0] != '\0')
    note_w = viz_text_draw (cr, style, fig->panel_note, left, top + ih + m, 0.0, 0.0);
  if (format.digits > 0 && format.exponent != 0)
    {
      char text[48];
      snprintf (text, sizeof text, "%scells ×1e%d", note_w > 0.0 ? "   " : "", format.exponent);
      viz_text_draw (cr, style, text, left + note_w, top + ih + m, 0.0, 0.0);
    }
}

void
viz_layer_figure_draw (cairo_t              *cr,
                       const VizLayerFigure *fig,
                       const VizStyle       *style,
                       double                width,
                       double                height)
{
  NN_ASSERT (cr != NULL && fig != NULL && style != NULL);

  Layout layout;
  figure_layout (fig, style, width, height, &layout);
  cairo_save (cr);
  cairo_rectangle (cr, 0.0, 0.0, width, height);
  cairo_clip (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
  viz_text_draw (cr, style, fig->caption, style->margin, style->margin, 0.0, 0.0);

  /* One atlas for the grid and the large tile: the caller's, or made here once. */
  VizTileGrid grid = fig->grid;
  cairo_surface_t *atlas = grid.atlas != NULL ? cairo_surface_reference (grid.atlas)
                                              : viz_tile_grid_atlas_new (&grid);
  grid.atlas = atlas;
  cairo_save (cr);
  cairo_translate (cr, 0.0, layout.body_y);
  viz_tile_grid_draw (cr, &grid, style, layout.grid_w, layout.body_h);
  cairo_restore (cr);

  if (layout.panel_w > 0.0)
    draw_panel (cr, fig, style, atlas, layout.panel_x, layout.body_y, layout.panel_w,
                layout.body_h);
  if (atlas != NULL)
    cairo_surface_destroy (atlas);
  cairo_restore (cr);
}

int
viz_layer_figure_hit (const VizLayerFigure *fig,
                      const VizStyle       *style,
                      double                width,
                      double                height,
                      double                x,
                      double                y)
{
  NN_ASSERT (fig != NULL && style != NULL);

  Layout layout;
  figure_layout (fig, style, width, height, &layout);
  if (x >= layout.grid_w)
    return -1;
  VizTileGridLayout grid_layout;
  viz_tile_grid_layout (&grid_layout, &fig->grid, style, layout.grid_w, layout.body_h);
  return viz_tile_grid_hit (&grid_layout, x, y - layout.body_y);
}

void
viz_layer_figure_style_init (VizStyle             *style,
                             const VizLayerFigure *fig)
{
  viz_style_init (style);
  style->tile_labels = fig->grid.c > 1;
}

typedef struct
{
  const VizLayerFigure *fig;
  VizStyle              style;
} ExportData;

static void
export_draw (cairo_t    *cr,
             const void *user_data,
             double      width,
             double      height)
{
  const ExportData *data = user_data;
  viz_layer_figure_draw (cr, data->fig, &data->style, width, height);
}

bool
viz_layer_figure_export (const VizLayerFigure *fig,
                         const char           *path,
                         double                width,
                         double                height,
                         NnError              *err)
{
  NN_ASSERT (fig != NULL && path != NULL);

  ExportData data = { .fig = fig };
  viz_layer_figure_style_init (&data.style, fig);
  return viz_export (path, export_draw, &data, width, height, err);
}
