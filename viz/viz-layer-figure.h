/* SPDX-License-Identifier: MIT */
/* The figure of one layer, as the Activations and Filters views and `cnnscope-cli activations`
 * and `filters` draw it: a caption line, a tile grid with its colour bar, and beside it the
 * selected tile large with its title and values. */
#pragma once

#include <cairo.h>
#include <stdbool.h>

#include "nn.h"
#include "viz-colormap.h"
#include "viz-filter-grid.h"
#include "viz-style.h"
#include "viz-tile-grid.h"

/* The size of an exported figure (pixels for PNG, points for SVG and PDF) unless asked for
 * another. */
#define VIZ_LAYER_FIGURE_WIDTH  1200.0
#define VIZ_LAYER_FIGURE_HEIGHT 750.0

/* A plain value: the text is held in the struct, the numbers are borrowed (see grid). */
typedef struct
{
  VizTileGrid grid;             /* grid.data and grid.colormap are borrowed; grid.atlas is
                                   optional (the tiles mapped once, borrowed) */
  char        caption[1024];    /* model, layer, settings */
  char        panel_title[256]; /* about the selected tile; "" for no large panel */
  char        panel_note[256];  /* a line under the large tile (its value range) */
} VizLayerFigure;

/* A token layer (rank 2, N tokens x E features, whose tokens form a square grid of patches after
 * an optional class token: nn_explain_token_grid) is shown as E channels of its g x g patch
 * tokens, the class token dropped, as the CAMs see it: true with *view = (E, g, g) and *skip the
 * tokens before the grid; false for any other shape (shown as its (C, H, W)). */
bool viz_layer_figure_token_view (NnShape  s,
                                  NnShape *view,
                                  int     *skip);
/* out (E, g, g) = data (N, E) of a token layer without its first skip tokens, feature-major
 * (view and skip from viz_layer_figure_token_view). */
void viz_layer_figure_token_grid (float       *out,
                                  const float *data,
                                  NnShape      s,
                                  NnShape      view,
                                  int          skip);

/* The figure of a layer's output for one input: data is node's output (C, H, W), or for a token
 * layer its patch grid (viz_layer_figure_token_grid), on the scale cm, both borrowed; channel
 * (a feature of a token layer) is shown large (-1 or out of range: none). Captions name the
 * model file and the input file without their folders (and the model without its extension). */
void viz_layer_figure_init_activations (VizLayerFigure    *fig,
                                        const char        *model_path,
                                        const NnNode      *node,
                                        const char        *input_path,
                                        const float       *data,
                                        const VizColormap *cm,
                                        int                channel);
/* The figure of a conv layer's kernels: maps and cm from viz_filter_grid_maps_new (filters),
 * borrowed; channel is the output channel shown large (-1 or out of range: none). */
void viz_layer_figure_init_filters (VizLayerFigure      *fig,
                                    const char          *model_path,
                                    const char          *layer_name,
                                    const VizFilterGrid *filters,
                                    const float         *maps,
                                    const VizColormap   *cm,
                                    int                  channel);

/* Draws fig into (0, 0, width, height); saves and restores cr. Narrow figures show the grid
 * alone. */
void viz_layer_figure_draw (cairo_t              *cr,
                            const VizLayerFigure *fig,
                            const VizStyle       *style,
                            double                width,
                            double                height);
/* The tile under (x, y) when fig is drawn at width x height, or -1. */
int  viz_layer_figure_hit (const VizLayerFigure *fig,
                           const VizStyle       *style,
                           double                width,
                           double                height,
                           double                x,
                           double                y);
/* The style of an exported figure: viz's defaults (dark on white), tile numbers when there is
 * more than one tile. */
void viz_layer_figure_style_init (VizStyle             *style,
                                  const VizLayerFigure *fig);
/* Writes fig in that style as PNG, SVG or PDF (by the extension of path), atomically. */
bool viz_layer_figure_export (const VizLayerFigure *fig,
                              const char           *path,
                              double                width,
                              double                height,
                              NnError              *err);
