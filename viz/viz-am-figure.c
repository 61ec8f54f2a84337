/* SPDX-License-Identifier: MIT */
/* VizAmFigure: the captions and titles, and the layout: the caption on top; panels in a row
 * over the plot of their curves, or the grid of tiles with channel numbers and final values
 * under them. */
#include "viz-am-figure.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "viz-caption.h"
#include "viz-export.h"
#include "viz-image.h"
#include "viz-plot.h"
#include "viz-text.h"

static const double series_colours[VIZ_AM_FIGURE_MAX_PANELS][4] = {
  { 0.12, 0.44, 0.85, 1.0 },
  { 0.90, 0.38, 0.05, 1.0 },
};

/* ", " separated channel numbers into buf, at most a dozen, then "…". */
static void
append_channels (char               *buf,
                 size_t              size,
                 const NnAmSettings *s)
{
  for (int i = 0; i < s->n_channels && i < 12; i++)
    viz_caption_append (buf, size, "%s%d", i > 0 ? ", " : "", s->channels[i]);
  if (s->n_channels > 12)
    viz_caption_append (buf, size, ", …");
}

/* What is maximized: the class logits or a layer's channels, and the objective when it is not
 * the plain mean of a channel. */
static void
append_target (char               *buf,
               size_t              size,
               const NnModel      *model,
               const NnAmSettings *s,
               bool                all)
{
  const bool one = s->n_channels == 1 && s->channels != NULL;
  if (s->layer < 0 && all)
    viz_caption_append (buf, size, " · every class logit");
  else if (s->layer < 0 && one)
    {
      int k = s->channels[0];
      bool label = model->labels != NULL && k >= 0 && k < model->n_classes
                   && model->labels[k] != NULL;
      viz_caption_append (buf, size, " · class %d%s%s", k, label ? " " : "",
                          label ? model->labels[k] : "");
    }
  else if (s->layer < 0)
    {
      viz_caption_append (buf, size, " · classes ");
      append_channels (buf, size, s);
    }
  else
    {
      viz_caption_append (buf, size, " · layer %s", model->graph->nodes[s->layer].name);
      if (s->objective == NN_AM_OBJECTIVE_DIRECTION)
        viz_caption_append (buf, size, ", a direction over its channels");
      else if (all)
        viz_caption_append (buf, size, ", every channel");
      else if (one)
        viz_caption_append (buf, size, " channel %d", s->channels[0]);
      else
        {
          viz_caption_append (buf, size, " channels ");
          append_channels (buf, size, s);
        }
    }
  switch (s->objective)
    {
    case NN_AM_OBJECTIVE_CENTER:
      viz_caption_append (buf, size, " · its centre unit");
      break;
    case NN_AM_OBJECTIVE_PERCENTILE:
      viz_caption_append (buf, size, " · mean of its top %g %%", (double) s->percentile);
      break;
    case NN_AM_OBJECTIVE_UNIT:
      viz_caption_append (buf, size, " · unit (%d, %d)", s->unit_y, s->unit_x);
      break;
    case NN_AM_OBJECTIVE_MEAN:
    case NN_AM_OBJECTIVE_LOGIT:
    case NN_AM_OBJECTIVE_DIRECTION:
    case NN_AM_OBJECTIVE_COUNT_:
      break;
    }
}

void
viz_am_figure_caption (char               *buf,
                       size_t              size,
                       const char         *model_path,
                       const NnModel      *model,
                       const NnAmSettings *s,
                       const char         *policies,
                       bool                all)
{
  NN_ASSERT (buf != NULL && size > 0 && model_path != NULL && model != NULL && s != NULL);
  NN_ASSERT (policies != NULL);

  viz_caption_file_name (buf, size, model_path, true);
  append_target (buf, size, model, s, all);
  viz_caption_append (buf, size, "\n%s · %d steps, lr %g, seed %" PRIu64, policies, s->steps,
                      (double) s->lr, s->seed);
  static const char *const names[] = { "pad", "jitter", "scale", "rotate", "blur" };
  bool first = true;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (s->transforms & (1u << i))
      {
        viz_caption_append (buf, size, "%s%s", first ? " · " : "+", names[i]);
        first = false;
      }
  /* The settings the application never changes, when they are not the defaults. */
  if (s->warmup > 0.0f)
    viz_caption_append (buf, size, " · warm-up %g", (double) s->warmup);
  if (s->optimizer == NN_AM_OPTIMIZER_ADAM)
    viz_caption_append (buf, size, " · Adam");
  if (s->param == NN_AM_PARAM_FOURIER)
    viz_caption_append (buf, size, " · Fourier basis");
  if (s->l2 > 0.0f)
    viz_caption_append (buf, size, " · L2 %g", (double) s->l2);
  if (s->tv > 0.0f)
    viz_caption_append (buf, size, " · TV %g", (double) s->tv);
  if (s->start != NULL)
    viz_caption_append (buf, size, " · from a given start");
}

static const char *
policy_display (const NnGradPolicy *policy)
{
  switch (policy->kind)
    {
    case NN_GRAD_EXACT:
      return "Plain (exact)";
    case NN_GRAD_PROXY:
      return "ProxyGrad";
    case NN_GRAD_PROXY_FULL:
      return "ProxyGrad (full proxy)";
    case NN_GRAD_SUGAR_BSILU:
    case NN_GRAD_SUGAR_NELU:
      return "SUGAR";
    case NN_GRAD_IDENTITY:
    case NN_GRAD_REDIRECTED:
    case NN_GRAD_GUIDED:
    case NN_GRAD_COUNT_:
      break;
    }
  return nn_grad_kind_name (policy->kind);
}

void
viz_am_figure_panel_title (char               *buf,
                           size_t              size,
                           const NnGradPolicy *policy,
                           double              objective,
                           bool                done)
{
  NN_ASSERT (buf != NULL && size > 0 && policy != NULL);

  snprintf (buf, size, "%s", policy_display (policy));
  if (policy->kind == NN_GRAD_PROXY || policy->kind == NN_GRAD_PROXY_FULL)
    viz_caption_append (buf, size, " β=%g", (double) policy->beta);
  if (isfinite (objective))
    viz_caption_append (buf, size, ": %s %.4g", done ? "final" : "objective", objective);
}

/* The image into the square (x, y, size), pixels as nearest-filtered data, outlined. */
static void
draw_image (cairo_t         *cr,
            const VizStyle  *style,
            cairo_surface_t *image,
            double           x,
            double           y,
            double           size)
{
  cairo_save (cr);
  if (image != NULL)
    {
      int w = cairo_image_surface_get_width (image), h = cairo_image_surface_get_height (image);
      cairo_rectangle (cr, x, y, size, size);
      cairo_clip (cr);
      cairo_translate (cr, x, y);
      cairo_scale (cr, size / w, size / h);
      viz_image_paint_nearest (cr, image, 0, 0, w, h);
    }
  cairo_restore (cr);
  cairo_save (cr);
  cairo_set_source_rgba (cr, style->foreground[0], style->foreground[1], style->foreground[2],
                         image != NULL ? 0.5 : 0.25);
  cairo_set_line_width (cr, 1.0);
  cairo_rectangle (cr, x + 0.5, y + 0.5, size - 1.0, size - 1.0);
  cairo_stroke (cr);
  cairo_restore (cr);
}

static void
draw_panels (cairo_t           *cr,
             const VizAmFigure *fig,
             const VizStyle    *style,
             double             top,
             double             width,
             double             height)
{
  double line = viz_text_line_height (style);
  int n = fig->n_panels > 1 ? fig->n_panels : 1;
  double cell_w = (width - style->margin) / n;
  /* The images take at most 55 % of the height; the plot the rest. */
  double size = floor (fmin (cell_w - style->margin,
                             (height - top) * 0.55 - line - 2.0 * style->gap));
  size = fmax (size, 1.0);
  for (int k = 0; k < fig->n_panels; k++)
    {
      const VizAmPanel *p = &fig->panels[k];
      double cx = style->margin + cell_w * k + (cell_w - style->margin - size) / 2.0;
      viz_text_draw (cr, style, p->title, cx, top, 0.0, 0.0);
      draw_image (cr, style, p->image, cx, top + line + style->gap, size);
    }

  VizPlotSeries series[VIZ_AM_FIGURE_MAX_PANELS];
  for (int k = 0; k < fig->n_panels; k++)
    {
      const VizAmPanel *p = &fig->panels[k];
      series[k] = (VizPlotSeries) {
        .y = p->history, .n = p->n_history, .label = fig->n_panels > 1 ? p->title : NULL,
      };
      for (int i = 0; i < 4; i++)
        series[k].color[i] = series_colours[k][i];
    }
  /* With a legend (two runs) the title's place is the legend's. */
  VizPlot plot = {
    .title = fig->n_panels > 1 ? NULL : "Objective of the original network",
    .x_label = "step",
    .y_label = fig->n_panels > 1 ? "objective of the original network" : "objective",
    .series = series,
    .n_series = fig->n_panels,
  };
  double plot_y = top + line + 2.0 * style->gap + size;
  cairo_save (cr);
  cairo_translate (cr, 0.0, plot_y);
  viz_plot_draw (cr, &plot, style, width, fmax (height - plot_y, 1.0));
  cairo_restore (cr);
}

static void
draw_grid (cairo_t           *cr,
           const VizAmFigure *fig,
           const VizStyle    *style,
           double             top,
           double             width,
           double             height)
{
  double line = viz_text_line_height (style);
  double avail_w = width - 2.0 * style->margin, avail_h = height - top - style->margin;
  int n = fig->n_tiles, best_cols = 1;
  double best = 0.0;
  /* The column count that gives the largest tiles. */
  for (int cols = 1; cols <= n; cols++)
    {
      int rows = (n + cols - 1) / cols;
      double s = fmin (avail_w / cols - style->gap, avail_h / rows - line - style->gap);
      if (s > best)
        {
          best = s;
          best_cols = cols;
        }
    }
  double size = floor (fmax (best, 1.0));
  for (int k = 0; k < n; k++)
    {
      double x = style->margin + (k % best_cols) * (size + style->gap);
      double y = top + (k / best_cols) * (size + line + style->gap);
      draw_image (cr, style, fig->tiles[k], x, y, size);
      bool final = fig->tile_values != NULL && isfinite (fig->tile_values[k]);
      if (fig->stopped && fig->tiles[k] != NULL && !final)
        {
          /* Half-optimized: washed out and crossed, so it is not taken for a result. */
          cairo_save (cr);
          cairo_rectangle (cr, x, y, size, size);
          cairo_set_source_rgba (cr, style->background[0], style->background[1],
                                 style->background[2], 0.6);
          cairo_fill_preserve (cr);
          cairo_move_to (cr, x, y);
          cairo_line_to (cr, x + size, y + size);
          cairo_move_to (cr, x + size, y);
          cairo_line_to (cr, x, y + size);
          cairo_set_source_rgba (cr, 0.8, 0.1, 0.1, 0.8);
          cairo_set_line_width (cr, 1.5);
          cairo_stroke (cr);
          cairo_restore (cr);
        }
      char text[256];
      viz_am_figure_tile_label (text, sizeof text, fig, k);
      viz_text_draw_fitted (cr, style, text, x + size / 2.0, y + size, size + style->gap, 0.5,
                            0.0);
    }
}

void
viz_am_figure_tile_label (char              *buf,
                          size_t             size,
                          const VizAmFigure *fig,
                          int                k)
{
  NN_ASSERT (buf != NULL && size > 0 && fig != NULL && k >= 0 && k < fig->n_tiles);
  int channel = fig->tile_channels != NULL ? fig->tile_channels[k] : k;
  const NnModel *m = fig->class_model;
  char name[160] = "", value[32];
  if (m != NULL && channel >= 0 && channel < m->n_classes && m->labels != NULL
      && m->labels[channel] != NULL)
    snprintf (name, sizeof name, " %s", m->labels[channel]);
  if (fig->tile_values != NULL && isfinite (fig->tile_values[k]))
    snprintf (buf, size, "%d%s: %s", channel, name,
              viz_text_format_value (value, sizeof value, 3, fig->tile_values[k]));
  else if (fig->stopped && fig->tiles[k] != NULL)
    snprintf (buf, size, "%d%s unfinished", channel, name);
  else if (fig->tiles[k] != NULL)
    snprintf (buf, size, "%d%s …", channel, name);
  else
    snprintf (buf, size, "%d%s", channel, name);
}

void
viz_am_figure_draw (cairo_t           *cr,
                    const VizAmFigure *fig,
                    const VizStyle    *style,
                    double             width,
                    double             height)
{
  NN_ASSERT (cr != NULL && fig != NULL && style != NULL);
  NN_ASSERT (fig->n_panels >= 0 && fig->n_panels <= VIZ_AM_FIGURE_MAX_PANELS);
  NN_ASSERT (fig->n_tiles == 0 || fig->tiles != NULL);

  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
  double top = style->margin;
  if (fig->caption[0] != '\0')
    top = viz_text_draw_wrapped (cr, style, fig->caption, style->margin, top,
                                 width - 2.0 * style->margin) + style->margin;
  if (fig->n_tiles > 0)
    draw_grid (cr, fig, style, top, width, height);
  else
    draw_panels (cr, fig, style, top, width, height);
  cairo_restore (cr);
}

static void
export_draw (cairo_t    *cr,
             const void *user_data,
             double      width,
             double      height)
{
  VizStyle style;
  viz_style_init (&style);
  viz_am_figure_draw (cr, user_data, &style, width, height);
}

bool
viz_am_figure_export (const VizAmFigure *fig,
                      const char        *path,
                      double             width,
                      double             height,
                      NnError           *err)
{
  NN_ASSERT (fig != NULL && path != NULL);

  return viz_export (path, export_draw, fig, width, height, err);
}
