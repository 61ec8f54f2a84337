/* SPDX-License-Identifier: MIT */
/* Channels of a (C, H, W) tensor as a grid of tiles with one shared scale and a colour bar:
 * the activations of a layer, or (through viz-filter-grid) the kernels of a conv layer. Tiles
 * use nearest filtering: pixels are data. */
#pragma once

#include <cairo.h>
#include <stdbool.h>

#include "viz-colormap.h"
#include "viz-style.h"

typedef struct
{
  const float       *data;      /* (c, h, w), borrowed */
  int                c, h, w;
  const VizColormap *colormap;  /* the scale shared by every tile, borrowed */
  int                selected;  /* channel drawn with an outline, -1 for none */
  cairo_surface_t   *atlas;     /* optional, borrowed: the tiles from viz_tile_grid_atlas_new,
                                   so that data shown many times is mapped only once */
} VizTileGrid;

/* Where everything goes for a given size: tile k sits at column k % cols, row k / cols. */
typedef struct
{
  int    n, cols, rows;
  double x0, y0;              /* top-left corner of tile 0 */
  double tile_w, tile_h;      /* size of one tile */
  double pitch_x, pitch_y;    /* from one tile to the next (tile, gap, label row) */
  double bar_x, bar_y;        /* the colour bar's box (bar and labels) */
  double bar_w, bar_h;
} VizTileGridLayout;

/* Chooses the column count that gives the largest tiles in (width, height) once the margin,
 * the colour bar and the tile labels are set aside; tiles grow by whole pixels when they can. */
void viz_tile_grid_layout (VizTileGridLayout *layout,
                           const VizTileGrid *grid,
                           const VizStyle    *style,
                           double             width,
                           double             height);
/* The rectangle (x, y, w, h) of tile k; false when k is out of range. */
bool viz_tile_grid_tile_rect (const VizTileGridLayout *layout,
                              int                      k,
                              double                   rect[4]);
/* The channel under (x, y), or -1. */
int  viz_tile_grid_hit (const VizTileGridLayout *layout,
                        double                   x,
                        double                   y);

/* Every how many tiles a label goes: 1, 2, 5, 10, 20, 50, ... tiles, the fewest that leave
 * room for the widest label in the style's font on cr (a 768-channel layer in a small window
 * has tiles narrower than their numbers, which would run together). Such labels start at their
 * tile's left edge, and one that would end past the grid's right edge is left out. */
int  viz_tile_grid_label_step (cairo_t                 *cr,
                               const VizStyle          *style,
                               const VizTileGridLayout *layout);

/* Every channel mapped through grid->colormap into one image surface (channel k at column
 * k % ceil (sqrt (c)) of a grid of h x w cells), for grid->atlas; NULL when too large. A view
 * makes it once when data arrives and paints it every frame. */
cairo_surface_t *viz_tile_grid_atlas_new (const VizTileGrid *grid);

/* Draws the grid and its colour bar into (0, 0, width, height); saves and restores cr. */
void viz_tile_grid_draw (cairo_t           *cr,
                         const VizTileGrid *grid,
                         const VizStyle    *style,
                         double             width,
                         double             height);
