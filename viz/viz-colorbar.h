/* SPDX-License-Identifier: MIT */
/* A vertical colour bar with real values: the map from bottom (lo) to top (hi), ticks at round
 * numbers and their labels (pangocairo) to the right. */
#pragma once

#include <cairo.h>

#include "viz-colormap.h"
#include "viz-style.h"

/* Draws into (0, 0, width, height): the bar is style->colorbar_width wide at the left, with
 * half a text line kept free above and below so the end labels fit; labels take the rest of
 * the width. Saves and restores cr. */
void viz_colorbar_draw (cairo_t           *cr,
                        const VizColormap *cm,
                        const VizStyle    *style,
                        double             width,
                        double             height);

/* Tick values at round numbers (1, 2 or 5 times a power of ten) inside [lo, hi]; at least
 * the two ends when no round number fits twice. Returns the count written (<= max). */
int  viz_colorbar_ticks (double  lo,
                         double  hi,
                         double *ticks,
                         int     max);
