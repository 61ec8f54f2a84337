/* SPDX-License-Identifier: MIT */
/* What the Activations and Filters views draw, on screen and in exported files alike: a caption
 * line, a tile grid with its colour bar (viz_tile_grid_draw), and beside it the selected tile
 * large with its title and values. Cairo and viz/ only, no GTK. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "viz.h"

G_BEGIN_DECLS

typedef struct
{
  VizTileGrid  grid;         /* grid.atlas is required: the tiles mapped once */
  const char  *caption;      /* model, layer, settings */
  const char  *panel_title;  /* about the selected tile, NULL for no large panel */
  const char  *panel_note;   /* a line under the large tile (its value range) */
} ScopeFigure;

/* The style of a view on screen: viz's defaults on a transparent background, text and lines
 * in the theme's colour (red, green, blue, alpha in [0, 1]), tile numbers under the tiles. */
void     scope_figure_style_init_screen (VizStyle *style,
                                         double    red,
                                         double    green,
                                         double    blue,
                                         double    alpha);

/* Draws fig into (0, 0, width, height); saves and restores cr. */
void     scope_figure_draw (cairo_t           *cr,
                            const ScopeFigure *fig,
                            const VizStyle    *style,
                            double             width,
                            double             height);
/* The tile under (x, y) when fig is drawn at width x height, or -1. */
int      scope_figure_hit (const ScopeFigure *fig,
                           const VizStyle    *style,
                           double             width,
                           double             height,
                           double             x,
                           double             y);
/* Writes fig as a PNG, SVG or PDF (by the extension of path) in the default style, dark on
 * white, at a size that suits a page. */
gboolean scope_figure_export (const ScopeFigure  *fig,
                              const char         *path,
                              GError            **error);

G_END_DECLS
