/* SPDX-License-Identifier: MIT */
/* Line plots with axes: round-number ticks with labels, axis titles, a legend, one or more
 * series of (x, y) points (loss and accuracy curves of a training run). */
#pragma once

#include <cairo.h>
#include <stdbool.h>

#include "viz-style.h"

typedef struct
{
  const double *x;          /* n values; NULL: 0, 1, .., n - 1 */
  const double *y;          /* n values; non-finite points break the line */
  int           n;
  double        color[4];   /* RGBA in [0, 1] */
  double        line_width; /* device units; <= 0: 1.5 */
  bool          markers;    /* a dot on every point (few points, such as one per epoch) */
  const char   *label;      /* in the legend; NULL: not listed */
} VizPlotSeries;

typedef struct
{
  const char          *title;    /* above the plot area; may be NULL */
  const char          *x_label;  /* under the x axis; may be NULL */
  const char          *y_label;  /* above the y axis; may be NULL */
  const VizPlotSeries *series;
  int                  n_series;
  /* The axes' ranges; lo >= hi: taken from the data (with a little room in y). */
  double               x_lo, x_hi;
  double               y_lo, y_hi;
} VizPlot;

/* Where the data lands when the plot is drawn into (0, 0, width, height): the plot area
 * (x, y, w, h in device units) and the ranges of the axes. */
typedef struct
{
  double area[4];
  double x_lo, x_hi;
  double y_lo, y_hi;
} VizPlotLayout;

void viz_plot_layout (VizPlotLayout  *layout,
                      const VizPlot  *plot,
                      const VizStyle *style,
                      double          width,
                      double          height);
/* The device point of the data point (x, y). */
void viz_plot_map (const VizPlotLayout *layout,
                   double               x,
                   double               y,
                   double              *px,
                   double              *py);
/* Draws into (0, 0, width, height): title, axes with ticks and labels, the series clipped to
 * the plot area, the legend right of the title. A plot without points shows its axes.
 * Saves and restores cr. */
void viz_plot_draw (cairo_t        *cr,
                    const VizPlot  *plot,
                    const VizStyle *style,
                    double          width,
                    double          height);
