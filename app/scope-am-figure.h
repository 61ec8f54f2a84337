/* SPDX-License-Identifier: MIT */
/* What the Maximize view draws, on screen and in exported files alike: a caption line, then
 * either one or two AM images (single run, or plain and ProxyGrad side by side) with their
 * objective curves in one plot, or a grid of the images of every channel of a layer. Cairo and
 * viz/ only, no GTK. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "viz.h"

G_BEGIN_DECLS

#define SCOPE_AM_FIGURE_MAX_PANELS 2

typedef struct
{
  const char      *title;      /* above the image: policy and objective */
  cairo_surface_t *image;      /* the pixels mapped once; NULL: not there yet */
  const double    *history;    /* objective of the original network before each step */
  int              n_history;
} ScopeAmPanel;

typedef struct
{
  const char       *caption;      /* model, layer, channel, policy, steps; lines split at \n */
  /* Panels (n_tiles == 0): one image per run and their curves. */
  ScopeAmPanel      panels[SCOPE_AM_FIGURE_MAX_PANELS];
  int               n_panels;
  /* The grid (n_tiles > 0): tile k is channel k of the layer; NULL tiles are still running. */
  cairo_surface_t *const *tiles;
  const double     *tile_values;  /* n_tiles final objectives (NAN: none yet) */
  int               n_tiles;
} ScopeAmFigure;

/* An RGB24 surface of a (c, h, w) image of values 0..1; c = 1 gives grey, else the first
 * three channels are red, green and blue. */
cairo_surface_t *scope_am_figure_surface_new (const float *pixels,
                                              int          c,
                                              int          h,
                                              int          w);

/* Draws fig into (0, 0, width, height); saves and restores cr. Images use nearest filtering. */
void             scope_am_figure_draw (cairo_t             *cr,
                                       const ScopeAmFigure *fig,
                                       const VizStyle      *style,
                                       double               width,
                                       double               height);
/* Writes fig as a PNG, SVG or PDF (by the extension of path) in the default style. */
gboolean         scope_am_figure_export (const ScopeAmFigure  *fig,
                                         const char           *path,
                                         GError              **error);

G_END_DECLS
