/* SPDX-License-Identifier: MIT */
/* One plane of a volume (axial, coronal or sagittal) as a figure: the slice at its true aspect
 * ratio from the voxel spacing, an optional attribution overlay, an optional lesion mask as its
 * contour, and the crosshair that links it to the other two planes. The same drawing serves the
 * application's Volume view and exports. */
#pragma once

#include <cairo.h>
#include <stdbool.h>
#include <stdint.h>

#include "viz-colormap.h"
#include "viz-style.h"

typedef struct
{
  cairo_surface_t *image;      /* w x h pixels (viz_image_surface_new), borrowed */
  cairo_surface_t *overlay;    /* w x h ARGB32 with alpha, or NULL; borrowed */
  const uint8_t   *mask;       /* w x h, row-major, non-zero inside a lesion, or NULL: drawn
                                * as its contour; borrowed */
  int              w, h;       /* voxels across and down */
  double           width_mm;   /* the plane's extent: its aspect ratio on screen */
  double           height_mm;
  bool             crosshair;
  double           cross_x;    /* crosshair in voxels: column and row (the voxel's centre is */
  double           cross_y;    /* at i + 0.5) */
} VizVolumePlane;

/* The colour of the mask's contour (magenta: apart from the crosshair's accent and from both
 * colour maps' ends). */
extern const double viz_volume_contour_rgb[3];

/* An overlay for a plane: values (h x w) through cm, each pixel's opacity opacity times its
 * distance from the map's zero (|position| on the map), so that attribution near 0 leaves the
 * scan visible. A premultiplied ARGB32 surface; NULL when too large. */
cairo_surface_t *viz_volume_overlay_surface_new (const float       *values,
                                                 int                w,
                                                 int                h,
                                                 const VizColormap *cm,
                                                 double             opacity);

/* Where the plane lies in a width x height area (device units): the largest rectangle of its
 * true aspect inside the style's margin, centred, as x, y, width, height. */
void viz_volume_plane_layout (const VizVolumePlane *plane,
                              const VizStyle       *style,
                              double                width,
                              double                height,
                              double                rect[4]);

/* The voxel (column, row) under point (x, y) of the area; false outside the plane. */
bool viz_volume_plane_locate (const VizVolumePlane *plane,
                              const VizStyle       *style,
                              double                width,
                              double                height,
                              double                x,
                              double                y,
                              int                  *column,
                              int                  *row);

/* Draws the plane (nearest-filtered), its overlay (bilinear), the mask's contour and the
 * crosshair in the accent colour. The contour follows the voxels' edges between inside and
 * outside (and the plane's border where a lesion touches it), stroked 2 device units wide
 * whatever the zoom, so it stays crisp. Saves and restores cr. */
void viz_volume_plane_draw (cairo_t              *cr,
                            const VizVolumePlane *plane,
                            const VizStyle       *style,
                            double                width,
                            double                height);
