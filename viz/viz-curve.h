/* SPDX-License-Identifier: MIT */
/* A small line plot for curves over a fixed range: axes with ticks, one line per series
 * (solid or dashed), and a legend. The Explain view draws its deletion and insertion curves
 * with it. */
#pragma once

#include <cairo.h>
#include <stdbool.h>

#include "viz-style.h"

typedef struct
{
  const float *x;          /* n points, borrowed */
  const float *y;
  int          n;
  double       rgba[4];
  bool         dashed;
  const char  *label;      /* in the legend; NULL: not listed */
} VizCurveSeries;

typedef struct
{
  const VizCurveSeries *series;   /* n_series, borrowed; a series with n < 2 is skipped */
  int                   n_series;
  double                x_min, x_max;
  double                y_min, y_max;
  const char           *title;    /* above the plot, or NULL */
} VizCurve;

/* Where the data area lies in (0, 0, width, height): x, y, width, height. The frame is drawn a
 * few pixels outside it, so that values at the ends of the ranges show whole. */
void viz_curve_plot_rect (const VizCurve *curve,
                          const VizStyle *style,
                          double          width,
                          double          height,
                          double          rect[4]);

/* Draws the plot into (0, 0, width, height); saves and restores cr. Values outside the range
 * are clipped at the frame. */
void viz_curve_draw (cairo_t        *cr,
                     const VizCurve *curve,
                     const VizStyle *style,
                     double          width,
                     double          height);
