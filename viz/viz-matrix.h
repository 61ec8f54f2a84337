/* SPDX-License-Identifier: MIT */
/* A matrix of values as a heat map (one cell per entry, nearest filtering) with a colour bar:
 * the learned 1x1 weights of a PFNet module, rows = output channels, columns = the channels it
 * mixes. One row may be outlined (the selected output channel). */
#pragma once

#include <cairo.h>
#include <stdbool.h>

#include "viz-colormap.h"
#include "viz-style.h"

typedef struct
{
  const float       *values;        /* rows * cols, row-major; borrowed */
  int                rows, cols;
  const VizColormap *colormap;      /* borrowed */
  int                selected_row;  /* outlined; -1 for none */
  const char        *row_label;     /* along the left side; may be NULL */
  const char        *col_label;     /* above the matrix; may be NULL */
} VizMatrix;

/* The matrix's box (x, y, w, h) when drawn into (0, 0, width, height); cells are
 * w / cols by h / rows. */
void viz_matrix_area (const VizMatrix *matrix,
                      const VizStyle  *style,
                      double           width,
                      double           height,
                      double           area[4]);
/* The row under (x, y), or -1. */
int  viz_matrix_hit_row (const VizMatrix *matrix,
                         const VizStyle  *style,
                         double           width,
                         double           height,
                         double           x,
                         double           y);
/* Draws into (0, 0, width, height); saves and restores cr. */
void viz_matrix_draw (cairo_t         *cr,
                      const VizMatrix *matrix,
                      const VizStyle  *style,
                      double           width,
                      double           height);
