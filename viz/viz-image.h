/* SPDX-License-Identifier: MIT */
/* Images as data: a (C, H, W) array of values in [0, 1] mapped once into an image surface that
 * figures paint with nearest filtering (activation maximization results, inputs). */
#pragma once

#include <cairo.h>

/* An opaque RGB24 surface of w x h pixels from pixels (c, h, w), borrowed: c = 1 (or 2) gives
 * grey from the first channel, c >= 3 red, green and blue from the first three. Values are
 * clamped to [0, 1] (and NaN is black) before rounding to 8 bits. NULL when too large. */
cairo_surface_t *viz_image_surface_new (const float *pixels,
                                        int          c,
                                        int          h,
                                        int          w);
