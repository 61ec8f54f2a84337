/* SPDX-License-Identifier: MIT */
/* The training figure, as the Train view draws and exports it: loss and accuracy per step and
 * per epoch on the left, the newest confusion matrix on the test set on the right (under the
 * plots when the figure is narrow). */
#pragma once

#include <cairo.h>
#include <stdbool.h>

#include "nn.h"
#include "viz-style.h"

/* The size of an exported figure (pixels for PNG, points for SVG and PDF). */
#define VIZ_TRAIN_FIGURE_WIDTH  1200.0
#define VIZ_TRAIN_FIGURE_HEIGHT 750.0

/* A plain value: the caption is held in the struct, the history is borrowed. */
typedef struct
{
  char               caption[1024];     /* model, dataset, settings; "" for none */
  /* Each step: its global number, loss and accuracy. */
  const double      *step_x;
  const double      *step_loss;
  const double      *step_acc;
  int                n_steps;
  /* Each epoch: the global step where it ended, its train means and its test values (NAN
   * without a test set: a gap). */
  const double      *epoch_x;
  const double      *epoch_train_loss;
  const double      *epoch_test_loss;
  const double      *epoch_train_acc;
  const double      *epoch_test_acc;
  int                n_epochs;
  /* The newest confusion matrix, n_classes x n_classes, row = true class; NULL: none yet. */
  const int         *confusion;
  int                n_classes;
  const char *const *class_names;       /* n_classes; NULL: the class numbers */
} VizTrainFigure;

/* The top of the loss axis: 0 (from the data), unless a few early spikes (the first steps of
 * a high learning rate) would flatten the rest of the curve; then 1.25 times the 95th
 * percentile of the step losses (at least the largest epoch mean), and the spikes run off the
 * top. */
double viz_train_figure_loss_top (const VizTrainFigure *fig);

/* Draws fig into (0, 0, width, height); saves and restores cr. */
void   viz_train_figure_draw (cairo_t              *cr,
                              const VizTrainFigure *fig,
                              const VizStyle       *style,
                              double                width,
                              double                height);
/* Writes fig in viz's default style (dark on white) as PNG, SVG or PDF (by the extension of
 * path), atomically. */
bool   viz_train_figure_export (const VizTrainFigure *fig,
                                const char           *path,
                                double                width,
                                double                height,
                                NnError              *err);
