/* SPDX-License-Identifier: MIT */
/* Images as data: a (C, H, W) array of values in [0, 1] mapped once into an image surface that
 * figures paint with nearest filtering (activation maximization results, inputs), crisp in
 * every export format. */
#pragma once

#include <cairo.h>

/* An opaque RGB24 surface of w x h pixels from pixels (c, h, w), borrowed: c = 1 (or 2) gives
 * grey from the first channel, c >= 3 red, green and blue from the first three. Values are
 * clamped to [0, 1] (and NaN is black) before rounding to 8 bits. NULL when too large. */
cairo_surface_t *viz_image_surface_new (const float *pixels,
                                        int          c,
                                        int          h,
                                        int          w);

/* Fills the rectangle (0, 0, sw, sh) in user units with the pixels (sx, sy, sw, sh) of image
 * (an image surface), one user unit per pixel, nearest-filtered: the caller translates and
 * scales to where they go. SVG has no nearest filter that cairo writes and viewers smooth
 * scaled images, so on an SVG target the pixels are embedded already magnified (each a block
 * of at least 8 x 8), which keeps them sharp; PNG and PDF get the image as it is. */
void viz_image_paint_nearest (cairo_t         *cr,
                              cairo_surface_t *image,
                              int              sx,
                              int              sy,
                              int              sw,
                              int              sh);
