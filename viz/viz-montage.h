/* SPDX-License-Identifier: MIT */
/* A montage of a volume's slices: each slice's image with its attribution map blended over it
 * (viz-heatmap), in a grid with a label under each tile, and one colour bar for all of them. */
#pragma once

#include <cairo.h>
#include <stdbool.h>

#include "viz-colormap.h"
#include "viz-style.h"

typedef struct
{
  const float *image;  /* (h, w) gray in [0, 1], borrowed */
  const float *map;    /* (h, w), borrowed */
  const char  *label;  /* under the tile (e.g. "12  z 35.0 mm  covid 0.93"), or NULL */
} VizMontageTile;

typedef struct
{
  const VizMontageTile *tiles;     /* n of them, borrowed */
  int                   n;
  int                   h, w;      /* of every tile's image and map */
  double                aspect;    /* the height of a pixel over its width (1: square) */
  const VizColormap    *colormap;  /* shared by the tiles, borrowed */
  double                opacity;   /* of the maps over the images */
  bool                  fade;      /* as VizHeatmap.fade (signed maps) */
} VizMontage;

/* Draws the grid (columns chosen so the tiles are as large as they can be) and the colour
 * bar into (0, 0, width, height); saves and restores cr. */
void viz_montage_draw (cairo_t          *cr,
                       const VizMontage *montage,
                       const VizStyle   *style,
                       double            width,
                       double            height);
