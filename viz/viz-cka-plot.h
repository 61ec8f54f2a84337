/* SPDX-License-Identifier: MIT */
/* Two models compared layer by layer: a bar per layer with its linear CKA (0 to 1, coloured on
 * the sequential map), the relative change of its weights as a line on a second axis, and the
 * layer names under the bars. */
#pragma once

#include <cairo.h>

#include "viz-style.h"

typedef struct
{
  const double      *cka;       /* n values in [0, 1]; NaN: no bar (a layer that does not vary) */
  const double      *distance;  /* n relative weight changes, NaN for layers without weights;
                                   NULL: no line */
  const char *const *names;     /* n layer names */
  int                n;
  int                selected;  /* the bar outlined in the accent colour; -1 for none */
  const char        *title;     /* may be NULL */
  const char        *caption;   /* under the title, lines split at '\n'; may be NULL */
} VizCkaPlot;

/* The plot area (x, y, w, h) when drawn into (0, 0, width, height); bar i stands in the slot
 * x + i w / n .. x + (i + 1) w / n, a value v at height y + h (1 - v). */
void viz_cka_plot_area (const VizCkaPlot *plot,
                        const VizStyle   *style,
                        double            width,
                        double            height,
                        double            area[4]);
/* The layer whose slot holds x (inside the plot area's columns), or -1. */
int  viz_cka_plot_hit (const VizCkaPlot *plot,
                       const VizStyle   *style,
                       double            width,
                       double            height,
                       double            x,
                       double            y);
/* Draws into (0, 0, width, height); saves and restores cr. */
void viz_cka_plot_draw (cairo_t          *cr,
                        const VizCkaPlot *plot,
                        const VizStyle   *style,
                        double            width,
                        double            height);
