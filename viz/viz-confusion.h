/* SPDX-License-Identifier: MIT */
/* A confusion matrix: rows are the true classes, columns the predicted ones; each cell is
 * coloured by the fraction of its row on the sequential map, with the count written in it when
 * it fits, class names along both axes and a colour bar from 0 to 1. */
#pragma once

#include <cairo.h>

#include "viz-style.h"

typedef struct
{
  const int         *counts;  /* n * n, row = true class, column = predicted */
  int                n;
  const char *const *labels;  /* n class names; NULL: the class numbers */
  const char        *title;   /* may be NULL */
} VizConfusion;

/* The cell of (row, col) when drawn into (0, 0, width, height), as x, y, w, h. */
void viz_confusion_cell_rect (const VizConfusion *conf,
                              const VizStyle     *style,
                              double              width,
                              double              height,
                              int                 row,
                              int                 col,
                              double              rect[4]);
/* Draws into (0, 0, width, height); saves and restores cr. */
void viz_confusion_draw (cairo_t            *cr,
                         const VizConfusion *conf,
                         const VizStyle     *style,
                         double              width,
                         double              height);
