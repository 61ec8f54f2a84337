/* SPDX-License-Identifier: MIT */
/* A row of activation maximization images with their channels (or classes) under them and a
 * title line: the strip a training run's live explanations show beside the probes. */
#pragma once

#include <cairo.h>

#include "viz-style.h"

typedef struct
{
  int                n;       /* images */
  const float       *pixels;  /* n x (c, h, w) in [0, 1], borrowed */
  int                c, h, w;
  const char *const *labels;  /* n labels under the images ("ch 3", a class), or NULL */
  const char        *title;   /* one line above the images, or NULL */
} VizAmStrip;

/* The images side by side in one row, as large as fit (aspect kept, nearest filtering: pixels
 * are data), each with its label under it, the title above; saves and restores cr. */
void viz_am_strip_draw (cairo_t          *cr,
                        const VizAmStrip *strip,
                        const VizStyle   *style,
                        double            width,
                        double            height);
