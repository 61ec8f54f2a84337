/* SPDX-License-Identifier: MIT */
/* Pictures of a network while it trains: one probe image with its attribution map over it and a
 * caption (the class explained, its probability, the step), and a strip of activation
 * maximization images with their channels; the same drawing on screen and in cli train's
 * --probe-out files. */
#pragma once

#include <cairo.h>

#include "viz-heatmap.h"
#include "viz-style.h"

typedef struct
{
  VizHeatmap  heatmap;   /* the probe image and its map, with the map's scale */
  const char *title;     /* first line above the image ("Coat 93.1 % (true: Coat)"), or NULL */
  const char *subtitle;  /* second line ("step 120, epoch 1"), or NULL */
} VizProbe;

/* Draws the title lines (cut short to the width) and under them the overlay with its colour
 * bar into (0, 0, width, height); saves and restores cr. */
void viz_probe_draw (cairo_t        *cr,
                     const VizProbe *probe,
                     const VizStyle *style,
                     double          width,
                     double          height);

typedef struct
{
  int          n;         /* images */
  const float *pixels;    /* n x (c, h, w) in [0, 1], borrowed */
  int          c, h, w;
  const char *const *labels;  /* n labels under the images ("ch 3", a class), or NULL */
  const char  *title;     /* one line above the images, or NULL */
} VizAmStrip;

/* The images side by side in one row, as large as fit (aspect kept, nearest filtering: pixels
 * are data), each with its label under it, the title above; saves and restores cr. */
void viz_am_strip_draw (cairo_t          *cr,
                        const VizAmStrip *strip,
                        const VizStyle   *style,
                        double            width,
                        double            height);
