/* SPDX-License-Identifier: MIT */
/* Figure export: renders a draw callback into a PNG, SVG or PDF file, atomically (temporary
 * file in the same folder, fsync, rename), so a failed export never leaves a broken file. */
#pragma once

#include <cairo.h>
#include <stdbool.h>

#include "nn.h"

/* Draws the figure into (0, 0, width, height). */
typedef void (*VizDrawFunc) (cairo_t    *cr,
                             const void *user_data,
                             double      width,
                             double      height);

/* width x height pixels. */
bool viz_export_png (const char  *path,
                     VizDrawFunc  draw,
                     const void  *user_data,
                     int          width,
                     int          height,
                     NnError     *err);
/* Chooses the format by the extension of path (.png, .svg or .pdf, any case); any other
 * extension is an NN_ERROR_SPEC error. */
bool viz_export (const char  *path,
                 VizDrawFunc  draw,
                 const void  *user_data,
                 double       width,
                 double       height,
                 NnError     *err);
