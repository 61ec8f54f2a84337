/* SPDX-License-Identifier: MIT */
/* The activation maximization figure, as the Maximize view and `cnnscope-cli am` draw it: a
 * caption, then one or two AM images (a run, or plain and ProxyGrad side by side) over their
 * objective curves, or a grid of the images of many channels with their final objectives. */
#pragma once

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>

#include "nn.h"
#include "viz-style.h"

#define VIZ_AM_FIGURE_MAX_PANELS 2

/* The size of an exported figure (pixels for PNG, points for SVG and PDF) unless asked for
 * another. */
#define VIZ_AM_FIGURE_WIDTH  1200.0
#define VIZ_AM_FIGURE_HEIGHT 800.0

typedef struct
{
  char             title[256];  /* above the image: policy and objective */
  cairo_surface_t *image;       /* the pixels mapped once (viz_image_surface_new), borrowed;
                                   NULL: not there yet */
  const double    *history;     /* the original network's objective before each step (and
                                   after the last), borrowed */
  int              n_history;
} VizAmPanel;

/* A plain value: the text is held in the struct, images and numbers are borrowed. */
typedef struct
{
  char                    caption[1024];  /* model, target, policy, settings; lines split at
                                             '\n' */
  /* Panels (n_tiles == 0): one image per run and their curves. */
  VizAmPanel              panels[VIZ_AM_FIGURE_MAX_PANELS];
  int                     n_panels;
  /* The grid (n_tiles > 0); NULL tiles are still running. */
  cairo_surface_t *const *tiles;          /* n_tiles, borrowed */
  const double           *tile_values;    /* n_tiles final objectives (NAN: none yet), borrowed;
                                             may be NULL */
  const int              *tile_channels;  /* n_tiles channel (or class) numbers under the tiles,
                                             borrowed; NULL: tile k is channel k */
  int                     n_tiles;
  bool                    stopped;        /* the run was stopped: a tile with an image but no
                                             final value is marked unfinished */
  const NnModel          *class_model;    /* non-NULL: the tiles are class logits of this
                                             model, labelled with its class names */
} VizAmFigure;

/* The caption of a run of settings s on model (its file named without folders): the target
 * (layer and channels, or class logits; every one of them when all), the objective, then on a
 * second line policies (e.g. "exact", or "exact vs proxygrad:0.3, same start"), steps, rate,
 * seed and the settings that differ from the defaults. */
void viz_am_figure_caption (char               *buf,
                            size_t              size,
                            const char         *model_path,
                            const NnModel      *model,
                            const NnAmSettings *s,
                            const char         *policies,
                            bool                all);
/* A panel's title: the policy's name and slope, then the objective once there is one (NAN:
 * none yet), "final" when the run is done. */
void viz_am_figure_panel_title (char               *buf,
                                size_t              size,
                                const NnGradPolicy *policy,
                                double              objective,
                                bool                done);

/* The label under grid tile k: "channel: final value", "channel …" while it runs, "channel
 * unfinished" when the run was stopped before it ended; a class logit's number is followed by
 * its class name ("9 Ankle boot: 12.5"). */
void viz_am_figure_tile_label (char              *buf,
                               size_t             size,
                               const VizAmFigure *fig,
                               int                k);

/* Draws fig into (0, 0, width, height); saves and restores cr. Images use nearest filtering. */
void viz_am_figure_draw (cairo_t           *cr,
                         const VizAmFigure *fig,
                         const VizStyle    *style,
                         double             width,
                         double             height);
/* Writes fig in viz's default style (dark on white) as PNG, SVG or PDF (by the extension of
 * path), atomically. */
bool viz_am_figure_export (const VizAmFigure *fig,
                           const char        *path,
                           double             width,
                           double             height,
                           NnError           *err);
