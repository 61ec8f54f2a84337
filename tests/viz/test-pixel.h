/* SPDX-License-Identifier: MIT */
/* Reading back pixels drawn into an image surface, for the viz tests. */
#pragma once

#include <cairo.h>
#include <stdint.h>

/* The ARGB32 pixel of image surface s that contains the point (x, y) in device units; asserts
 * that the point lies on the surface. */
uint32_t test_pixel_at (cairo_surface_t *s,
                        double           x,
                        double           y);
