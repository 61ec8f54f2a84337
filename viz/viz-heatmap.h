/* SPDX-License-Identifier: MIT */
/* An attribution map over its input image: the image (gray or RGB) blended with the map's
 * colours at a chosen opacity, and a colour bar with the map's real values. Positive-only maps
 * use the sequential colormap, signed ones the diverging map centred on 0. */
#pragma once

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "viz-colormap.h"
#include "viz-style.h"

typedef struct
{
  const float       *image;     /* (c, h, w) in [0, 1], borrowed; NULL: the map alone */
  int                c;         /* 1 or 3 */
  const float       *map;       /* (h, w), borrowed */
  int                h, w;
  const VizColormap *colormap;  /* the map's scale, borrowed */
  double             opacity;   /* of the map over the image, in [0, 1] */
  bool               fade;      /* the opacity grows with |position on the scale|, from 0 at
                                   0 to `opacity` at the ends: the image shows through where
                                   the map is near 0 (signed maps) */
  cairo_surface_t   *surface;   /* optional, borrowed: from viz_heatmap_surface_new, so that a
                                   view blends once and paints every frame */
  const uint8_t     *mask;      /* (h, w), nonzero inside, borrowed: a lesion mask whose
                                   outline is drawn over the image; NULL: none */
} VizHeatmap;

/* The scale of a map: signed maps get the diverging map over [-m, m], m = max |v|; the others
 * the sequential map over [0, max v]. fixed > 0 replaces the per-image maximum m (or max v) by
 * a fixed one, so several maps share a scale. */
void             viz_heatmap_colormap_init (VizColormap *cm,
                                            const float *map,
                                            size_t       n,
                                            bool         is_signed,
                                            double       fixed);

/* The blended pixels, w x h: (1 - a) image + a colour (map), a = opacity (times |position| with
 * fade). NULL when too large. */
cairo_surface_t *viz_heatmap_surface_new (const VizHeatmap *hm);

/* Where the parts go in (width, height): the image fitted (aspect kept) left, the bar right. */
void             viz_heatmap_layout (const VizHeatmap *hm,
                                     const VizStyle   *style,
                                     double            width,
                                     double            height,
                                     double            image_rect[4],
                                     double            bar_rect[4]);

/* The outline of a mask (h, w), nonzero inside: the pixel edges between inside and outside, as
 * a path in pixel units (pixel (y, x) spans [x, x + 1] x [y, y + 1]); the caller strokes it. */
void             viz_mask_contour_path (cairo_t       *cr,
                                        const uint8_t *mask,
                                        int            h,
                                        int            w);

/* Draws the overlay (bilinear filtering), the mask's outline when there is one, and its colour
 * bar into (0, 0, width, height); saves and restores cr. */
void             viz_heatmap_draw (cairo_t          *cr,
                                   const VizHeatmap *hm,
                                   const VizStyle   *style,
                                   double            width,
                                   double            height);
