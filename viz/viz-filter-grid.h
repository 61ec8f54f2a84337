/* SPDX-License-Identifier: MIT */
/* The kernels of a conv layer, one tile per output channel: either summed over the input
 * channels or one input channel, on the diverging map with a shared max-|w| scale (0 is white),
 * with a colour bar. */
#pragma once

#include <cairo.h>

#include "viz-colormap.h"
#include "viz-style.h"

typedef struct
{
  const float *weights;        /* (oc, ic, kh, kw), ic = C / G; borrowed */
  int          oc, ic, kh, kw;
  int          input_channel;  /* -1: sum over the input channels; else that one */
  int          selected;       /* output channel drawn with an outline, -1 for none */
} VizFilterGrid;

/* The (oc, kh, kw) kernels the grid shows, newly allocated (free ()), with their diverging
 * scale in cm; NULL when out of memory. */
float *viz_filter_grid_maps_new (const VizFilterGrid *grid,
                                 VizColormap         *cm);

/* Draws into (0, 0, width, height) like viz_tile_grid_draw; saves and restores cr. */
void   viz_filter_grid_draw (cairo_t             *cr,
                             const VizFilterGrid *grid,
                             const VizStyle      *style,
                             double               width,
                             double               height);
