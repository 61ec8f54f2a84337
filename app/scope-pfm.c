/* SPDX-License-Identifier: MIT */
/* ScopePfm: finding a module by its node names, tracing, and the figure: the bank and the
 * drivers in the left column, the matrix on the right. */
#include "scope-pfm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define N_DRIVERS   8
/* The left column's share of the width. */
#define LEFT_SHARE  0.42

static gboolean
sibling (const NnGraph *graph,
         const char    *name,
         const char    *suffix,
         const char    *other,
         int           *node)
{
  gsize n = strlen (name), s = strlen (suffix);
  if (n <= s || strcmp (name + n - s, suffix) != 0)
    return FALSE;
  g_autofree char *prefix = g_strndup (name, n - s);
  g_autofree char *wanted = g_strconcat (prefix, other, NULL);
  *node = nn_graph_find (graph, wanted);
  return *node >= 0;
}

gboolean
scope_pfm_find (ScopePfm      *pfm,
                const NnModel *model,
                int            node)
{
  g_return_val_if_fail (pfm != NULL && model != NULL, FALSE);

  const NnGraph *graph = model->graph;
  if (node < 0 || node >= graph->n_nodes)
    return FALSE;
  const char *name = graph->nodes[node].name;
  int predefined, conv1x1;
  if (sibling (graph, name, ".predefined", ".conv1x1", &conv1x1))
    predefined = node;
  else if (sibling (graph, name, ".conv1x1", ".predefined", &predefined))
    conv1x1 = node;
  else
    return FALSE;

  const NnNode *p = &graph->nodes[predefined], *c = &graph->nodes[conv1x1];
  int pw = nn_graph_node_param (graph, predefined, NN_PARAM_WEIGHT);
  int cw = nn_graph_node_param (graph, conv1x1, NN_PARAM_WEIGHT);
  if (p->op != NN_OP_CONV2D || c->op != NN_OP_CONV2D || pw < 0 || cw < 0 || c->n_inputs != 1)
    return FALSE;
  const NnParam *pp = &graph->params[pw], *cp = &graph->params[cw];
  int in_c = graph->nodes[p->inputs[0]].shape.c;
  if (pp->ndim != 4 || cp->ndim != 4 || pp->dims[1] != 1 || pp->dims[2] != 3
      || pp->dims[3] != 3 || cp->dims[2] != 1 || cp->dims[3] != 1 || cp->dims[1] != pp->dims[0]
      || in_c <= 0 || pp->dims[0] % in_c != 0 || p->attrs.conv.groups != in_c)
    return FALSE;
  *pfm = (ScopePfm) {
    .predefined = predefined,
    .conv1x1 = conv1x1,
    .in_c = in_c,
    .f = pp->dims[0] / in_c,
    .mid_c = pp->dims[0],
    .out_c = cp->dims[0],
    .bank = nn_graph_param_data (graph, pw),
    .mix = nn_graph_param_data (graph, cw),
  };
  int size;
  if (!nn_pfm_bank_from_options (model->arch_options, &pfm->kind, &size, NULL))
    {
      pfm->kind = NN_PFM_BANK_FULL;
      size = 0;
    }
  pfm->n_kernels = nn_pfm_bank_subset (pfm->kind, size, pfm->kernels, NULL);
  return TRUE;
}

const char *
scope_pfm_kernel_name (const ScopePfm *pfm,
                       int             j)
{
  g_return_val_if_fail (pfm != NULL && pfm->n_kernels > 0 && j >= 0, "");
  return nn_pfm_bank_kernel_name (pfm->kind, pfm->kernels[j % pfm->n_kernels]);
}

void
scope_pfm_bank_heading (const ScopePfm *pfm,
                        char           *buf,
                        gsize           size)
{
  g_return_if_fail (pfm != NULL && buf != NULL && size > 0);

  gboolean trained = pfm->kind == NN_PFM_BANK_TRAINABLE;
  int n = pfm->n_kernels;
  g_autoptr (GString) text = g_string_new (NULL);
  g_string_printf (text, "%s bank, %s (%d kernel%s):", nn_pfm_bank_name (pfm->kind),
                   trained ? "started as" : "frozen", n, n == 1 ? "" : "s");
  for (int j = 0; j < n; j++)
    {
      /* Long lists keep their two first and two last names. */
      if (n > 8 && j >= 2 && j < n - 2)
        {
          if (j == 2)
            g_string_append (text, " …");
          continue;
        }
      g_string_append_printf (text, " %s", scope_pfm_kernel_name (pfm, j));
    }
  g_strlcpy (buf, text->str, size);
}

static int
compare_drivers (const void *a,
                 const void *b)
{
  const ScopePfmDriver *x = a, *y = b;
  float ax = fabsf (x->weight), ay = fabsf (y->weight);
  if (ax != ay)
    return ax < ay ? 1 : -1;
  return (x->channel > y->channel) - (x->channel < y->channel);
}

int
scope_pfm_trace (const ScopePfm *pfm,
                 int             o,
                 ScopePfmDriver *drivers,
                 int             n)
{
  g_return_val_if_fail (pfm != NULL && drivers != NULL, 0);

  if (o < 0 || o >= pfm->out_c || n <= 0)
    return 0;
  g_autofree ScopePfmDriver *all = g_new (ScopePfmDriver, pfm->mid_c);
  for (int j = 0; j < pfm->mid_c; j++)
    all[j] = (ScopePfmDriver) {
      .channel = j, .input = j / pfm->f, .kernel = pfm->kernels[j % pfm->n_kernels],
      .weight = pfm->mix[(gsize) o * (gsize) pfm->mid_c + (gsize) j],
    };
  qsort (all, (size_t) pfm->mid_c, sizeof *all, compare_drivers);
  n = MIN (n, pfm->mid_c);
  memcpy (drivers, all, sizeof *drivers * (gsize) n);
  return n;
}

typedef struct
{
  double top;            /* below the caption */
  double left_w;
  double bank_h;         /* the bank grid, then the drivers below it */
} Layout;

static void
pfm_layout (const char     *caption,
            const VizStyle *style,
            double          width,
            double          height,
            Layout         *l)
{
  l->top = caption != NULL ? style->margin + viz_text_line_height (style) : 0.0;
  l->left_w = floor (width * LEFT_SHARE);
  l->bank_h = floor ((height - l->top) * 0.42);
}

static VizMatrix
pfm_matrix (const ScopePfm    *pfm,
            const VizColormap *cm,
            int                selected)
{
  return (VizMatrix) {
    .values = pfm->mix, .rows = pfm->out_c, .cols = pfm->mid_c, .colormap = cm,
    .selected_row = selected, .row_label = "output channel",
    .col_label = "learned 1×1 weights: filtered channel →",
  };
}

/* A 3x3 kernel as cells of `size` px at (x, y). */
static void
draw_kernel (cairo_t           *cr,
             const float       *k,
             const VizColormap *cm,
             double             x,
             double             y,
             double             size)
{
  double cell = size / 3.0, rgb[3];
  for (int i = 0; i < 9; i++)
    {
      viz_colormap_rgb (cm, k[i], rgb);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_rectangle (cr, x + (i % 3) * cell, y + (i / 3) * cell, cell, cell);
      cairo_fill (cr);
    }
}

static void
draw_drivers (cairo_t        *cr,
              const ScopePfm *pfm,
              int             selected,
              const VizStyle *style,
              double          width,
              double          height)
{
  double line = viz_text_line_height (style), m = style->margin;
  char text[160];
  if (selected < 0 || selected >= pfm->out_c)
    return;
  ScopePfmDriver drivers[N_DRIVERS];
  int n = scope_pfm_trace (pfm, selected, drivers, N_DRIVERS);
  snprintf (text, sizeof text, "Output channel %d is driven most by:", selected);
  viz_text_draw (cr, style, text, m, m, 0.0, 0.0);
  double row_h = fmax (floor ((height - 2.0 * m - 1.5 * line) / N_DRIVERS), 1.0);
  double size = fmin (row_h - 4.0, 2.0 * line);
  float largest = n > 0 ? fabsf (drivers[0].weight) : 0.0f;
  VizColormap kernel_cm, weight_cm;
  viz_colormap_init_for_data (&kernel_cm, VIZ_COLORMAP_DIVERGING, pfm->bank,
                              (size_t) pfm->mid_c * 9);
  viz_colormap_init (&weight_cm, VIZ_COLORMAP_DIVERGING, -largest, largest);
  for (int i = 0; i < n && size > 2.0; i++)
    {
      const ScopePfmDriver *d = &drivers[i];
      double y = m + 1.5 * line + i * row_h;
      draw_kernel (cr, pfm->bank + (gsize) d->channel * 9, &kernel_cm, m, y, size);
      snprintf (text, sizeof text, "%+.3f  ch %d: %s ← in %d", (double) d->weight, d->channel,
                scope_pfm_kernel_name (pfm, d->channel), d->input);
      double tx = m + size + 6.0;
      viz_text_draw (cr, style, text, tx, y + 0.5 * size, 0.0, 0.5);
      /* A bar for |weight| relative to the largest, in the weight's colour. */
      double bar_x = width * 0.70, bar_w = width - bar_x - m;
      if (bar_w > 8.0 && largest > 0.0f)
        {
          double rgb[3];
          viz_colormap_rgb (&weight_cm, d->weight, rgb);
          cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
          cairo_rectangle (cr, bar_x, y + 0.25 * size, bar_w * fabsf (d->weight) / largest,
                           0.5 * size);
          cairo_fill (cr);
        }
    }
}

void
scope_pfm_draw (cairo_t        *cr,
                const ScopePfm *pfm,
                int             selected,
                const char     *caption,
                const VizStyle *style,
                double          width,
                double          height)
{
  g_return_if_fail (cr != NULL && pfm != NULL && style != NULL);

  Layout l;
  pfm_layout (caption, style, width, height, &l);
  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
  if (caption != NULL)
    viz_text_draw (cr, style, caption, style->margin, style->margin, 0.0, 0.0);

  /* The bank: the first n_kernels filtered channels carry its kernels. */
  int n_bank = MIN (pfm->mid_c, pfm->n_kernels);
  VizColormap bank_cm;
  viz_colormap_init_for_data (&bank_cm, VIZ_COLORMAP_DIVERGING, pfm->bank, (size_t) n_bank * 9);
  VizTileGrid bank = {
    .data = pfm->bank, .c = n_bank, .h = 3, .w = 3, .colormap = &bank_cm, .selected = -1,
  };
  double line = viz_text_line_height (style);
  cairo_save (cr);
  cairo_translate (cr, 0.0, l.top);
  char heading[256];
  scope_pfm_bank_heading (pfm, heading, sizeof heading);
  viz_text_draw_fitted (cr, style, heading, style->margin, style->margin,
                        l.left_w - 2.0 * style->margin, 0.0, 0.0);
  cairo_translate (cr, 0.0, line + style->margin);
  viz_tile_grid_draw (cr, &bank, style, l.left_w, l.bank_h - line - style->margin);
  cairo_restore (cr);

  cairo_save (cr);
  cairo_translate (cr, 0.0, l.top + l.bank_h);
  draw_drivers (cr, pfm, selected, style, l.left_w, height - l.top - l.bank_h);
  cairo_restore (cr);

  VizColormap mix_cm;
  viz_colormap_init_for_data (&mix_cm, VIZ_COLORMAP_DIVERGING, pfm->mix,
                              (size_t) pfm->out_c * (size_t) pfm->mid_c);
  VizMatrix matrix = pfm_matrix (pfm, &mix_cm, selected);
  cairo_translate (cr, l.left_w, l.top);
  viz_matrix_draw (cr, &matrix, style, width - l.left_w, height - l.top);
  cairo_restore (cr);
}

int
scope_pfm_hit (const ScopePfm *pfm,
               const char     *caption,
               const VizStyle *style,
               double          width,
               double          height,
               double          x,
               double          y)
{
  g_return_val_if_fail (pfm != NULL && style != NULL, -1);

  Layout l;
  pfm_layout (caption, style, width, height, &l);
  VizColormap cm;
  viz_colormap_init (&cm, VIZ_COLORMAP_DIVERGING, -1.0, 1.0);
  VizMatrix matrix = pfm_matrix (pfm, &cm, -1);
  return viz_matrix_hit_row (&matrix, style, width - l.left_w, height - l.top, x - l.left_w,
                             y - l.top);
}
