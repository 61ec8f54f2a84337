/* SPDX-License-Identifier: MIT */
/* The one colormap module: a perceptually uniform sequential map (dark violet to yellow, lightness
 * rising linearly in OKLab) and a diverging map centred on 0 (blue, white, red) for signed
 * values, each bound to the value range it shows. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef enum
{
  VIZ_COLORMAP_SEQUENTIAL,  /* t in [0, 1] */
  VIZ_COLORMAP_DIVERGING,   /* t in [-1, 1]; 0 is white */
} VizColormapKind;

#define VIZ_COLORMAP_LUT_SIZE 256

/* A map bound to its range: `lo` is drawn with the bottom colour, `hi` with the top one. A
 * diverging map's range is always symmetric (lo = -hi), so 0 is white. */
typedef struct
{
  VizColormapKind kind;
  double          lo, hi;
  uint32_t        lut[VIZ_COLORMAP_LUT_SIZE];  /* opaque CAIRO_FORMAT_ARGB32 pixels */
} VizColormap;

/* The colour at t as sRGB in [0, 1] (t is clamped to the kind's domain). */
void     viz_colormap_eval (VizColormapKind kind,
                            double          t,
                            double          rgb[3]);

/* Binds kind to [lo, hi]. Diverging: the range becomes [-m, m], m = max (|lo|, |hi|). An empty
 * range is widened (sequential: [lo, lo + 1]; diverging: [-1, 1]) so the bar still reads. */
void     viz_colormap_init (VizColormap    *cm,
                            VizColormapKind kind,
                            double          lo,
                            double          hi);
/* The range of n values: min .. max (sequential) or -max|v| .. max|v| (diverging); non-finite
 * values are ignored. */
void     viz_colormap_init_for_data (VizColormap    *cm,
                                     VizColormapKind kind,
                                     const float    *data,
                                     size_t          n);

/* Where value sits on the map: [0, 1] (sequential) or [-1, 1] (diverging), clamped. */
double   viz_colormap_position (const VizColormap *cm,
                                double             value);
void     viz_colormap_rgb (const VizColormap *cm,
                           double             value,
                           double             rgb[3]);
/* The opaque ARGB32 pixel for value (from the table; non-finite values are mid grey). */
uint32_t viz_colormap_pixel (const VizColormap *cm,
                             float              value);
