/* SPDX-License-Identifier: MIT */
/* A probe of a network while it trains: the image with its attribution map over it and a
 * caption (the class explained, its probability, the step); the same drawing on screen and in
 * cli train's --probe-out files. */
#pragma once

#include <cairo.h>

#include "viz-heatmap.h"
#include "viz-style.h"

typedef struct
{
  VizHeatmap  heatmap;   /* the probe image and its map, with the map's scale */
  const char *title;     /* first line above the image ("true: Coat 30.5 %"), or NULL */
  const char *subtitle;  /* second line ("step 120, epoch 1"), or NULL */
} VizProbe;

/* Draws the title lines (cut short to the width) and under them the overlay with its colour
 * bar into (0, 0, width, height); saves and restores cr. */
void viz_probe_draw (cairo_t        *cr,
                     const VizProbe *probe,
                     const VizStyle *style,
                     double          width,
                     double          height);
