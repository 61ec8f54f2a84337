/* SPDX-License-Identifier: MIT */
/* VizTrainFigure: two plots on the left (loss, accuracy), the confusion matrix on the right
 * when there is room, through viz_plot and viz_confusion. */
#include "viz-train-figure.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "viz-confusion.h"
#include "viz-export.h"
#include "viz-plot.h"
#include "viz-text.h"

/* Narrower figures stack the confusion matrix under the plots. */
#define SIDE_BY_SIDE_MIN_WIDTH 760.0

static const double step_colour[4] = { 0.55, 0.62, 0.75, 0.9 };
static const double train_colour[4] = { 0.12, 0.44, 0.85, 1.0 };
static const double test_colour[4] = { 0.90, 0.38, 0.05, 1.0 };

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

double
viz_train_figure_loss_top (const VizTrainFigure *fig)
{
  NN_ASSERT (fig != NULL);

  int n = fig->n_steps;
  if (n < 20)
    return 0.0;
  double *sorted = malloc (sizeof (double) * (size_t) n);
  if (sorted == NULL)
    return 0.0;
  memcpy (sorted, fig->step_loss, sizeof (double) * (size_t) n);
  qsort (sorted, (size_t) n, sizeof (double), compare_double);
  double top = 1.25 * sorted[(n * 95) / 100];
  for (int i = 0; i < fig->n_epochs; i++)
    top = fmax (top, fig->epoch_train_loss[i]);
  double largest = sorted[n - 1];
  free (sorted);
  return top < largest ? top : 0.0;
}

static void
draw_plot (cairo_t              *cr,
           const VizTrainFigure *fig,
           const VizStyle       *style,
           bool                  accuracy,
           double                x,
           double                y,
           double                w,
           double                h)
{
  VizPlotSeries series[3] = {
    {
      .x = fig->step_x,
      .y = accuracy ? fig->step_acc : fig->step_loss,
      .n = fig->n_steps,
      .line_width = 1.0,
      .label = "each step",
    },
    {
      .x = fig->epoch_x,
      .y = accuracy ? fig->epoch_train_acc : fig->epoch_train_loss,
      .n = fig->n_epochs,
      .line_width = 2.0,
      .markers = true,
      .label = "train, epoch mean",
    },
    {
      .x = fig->epoch_x,
      .y = accuracy ? fig->epoch_test_acc : fig->epoch_test_loss,
      .n = fig->n_epochs,
      .line_width = 2.0,
      .markers = true,
      .label = "test",
    },
  };
  for (int k = 0; k < 4; k++)
    {
      series[0].color[k] = step_colour[k];
      series[1].color[k] = train_colour[k];
      series[2].color[k] = test_colour[k];
    }
  double last = fig->n_steps > 0 ? fig->step_x[fig->n_steps - 1] : 0.0;
  VizPlot plot = {
    .title = accuracy ? "Accuracy" : "Loss (cross-entropy)",
    .x_label = "step",
    .series = series,
    .n_series = 3,
    .x_lo = 0.0,
    .x_hi = last > 0.0 ? last : 0.0,
    .y_lo = 0.0,
    .y_hi = accuracy ? 1.0 : viz_train_figure_loss_top (fig),
  };
  cairo_save (cr);
  cairo_translate (cr, x, y);
  viz_plot_draw (cr, &plot, style, w, h);
  cairo_restore (cr);
}

void
viz_train_figure_draw (cairo_t              *cr,
                       const VizTrainFigure *fig,
                       const VizStyle       *style,
                       double                width,
                       double                height)
{
  NN_ASSERT (cr != NULL && fig != NULL && style != NULL);

  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
  double top = 0.0;
  if (fig->caption[0] != '\0')
    {
      viz_text_draw (cr, style, fig->caption, style->margin, style->margin, 0.0, 0.0);
      top = style->margin + viz_text_line_height (style);
    }
  double body = height - top;
  bool side = width >= SIDE_BY_SIDE_MIN_WIDTH;
  double plots_w = side ? floor (width * 0.58) : width;
  double plots_h = side ? body : floor (body * 0.62);
  draw_plot (cr, fig, style, false, 0.0, top, plots_w, floor (plots_h / 2));
  draw_plot (cr, fig, style, true, 0.0, top + floor (plots_h / 2), plots_w,
             plots_h - floor (plots_h / 2));

  double cx = side ? plots_w : 0.0, cy = side ? top : top + plots_h;
  double cw = side ? width - plots_w : width, ch = side ? body : body - plots_h;
  cairo_translate (cr, cx, cy);
  if (fig->confusion != NULL)
    {
      VizConfusion conf = {
        .counts = fig->confusion,
        .n = fig->n_classes,
        .labels = fig->class_names,
        .title = "Confusion on the test set (rows: true class)",
      };
      viz_confusion_draw (cr, &conf, style, cw, ch);
    }
  else
    viz_text_draw (cr, style, "The confusion matrix appears after the first epoch.",
                   style->margin, style->margin, 0.0, 0.0);
  cairo_restore (cr);
}

static void
export_draw (cairo_t    *cr,
             const void *data,
             double      width,
             double      height)
{
  VizStyle style;
  viz_style_init (&style);
  viz_train_figure_draw (cr, data, &style, width, height);
}

bool
viz_train_figure_export (const VizTrainFigure *fig,
                         const char           *path,
                         double                width,
                         double                height,
                         NnError              *err)
{
  NN_ASSERT (fig != NULL && path != NULL);

  return viz_export (path, export_draw, fig, width, height, err);
}
