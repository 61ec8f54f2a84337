/* SPDX-License-Identifier: MIT */
/* Text through pangocairo for the viz/ drawings (labels, ticks). */
#pragma once

#include <cairo.h>
#include <stddef.h>

#include "viz-style.h"

/* Draws one line of text in the style's font and foreground colour so that the point
 * (align_x, align_y) of its logical box (0 = left/top, 1 = right/bottom) lands on (x, y).
 * Returns the width of the text. */
double viz_text_draw (cairo_t        *cr,
                      const VizStyle *style,
                      const char     *text,
                      double          x,
                      double          y,
                      double          align_x,
                      double          align_y);

/* viz_text_draw, the text cut short with "…" at the end when it is wider than max_width. */
double viz_text_draw_fitted (cairo_t        *cr,
                             const VizStyle *style,
                             const char     *text,
                             double          x,
                             double          y,
                             double          max_width,
                             double          align_x,
                             double          align_y);

/* The width of one line of text in the style's font, in device units of cr. */
double viz_text_width (cairo_t        *cr,
                       const VizStyle *style,
                       const char     *text);

/* Formats value with %.<digits>g into buf; a zero of either sign reads "0", never "-0".
 * Returns buf. */
char  *viz_text_format_value (char   *buf,
                              size_t  size,
                              int     digits,
                              double  value);

/* Draws text split at '\n' into lines, the first with its top-left corner at (x, y), each
 * line_height below the last. Returns the y under the last line. */
double viz_text_draw_lines (cairo_t        *cr,
                            const VizStyle *style,
                            const char     *text,
                            double          x,
                            double          y);

/* Like viz_text_draw_lines, but a line wider than width wraps at word boundaries onto the next
 * (a caption in a narrow window). Returns the y under the last line. */
double viz_text_draw_wrapped (cairo_t        *cr,
                              const VizStyle *style,
                              const char     *text,
                              double          x,
                              double          y,
                              double          width);

/* The height of one line of the style's font in device units, without a cairo context (at
 * pangocairo's default 96 dpi). */
double viz_text_line_height (const VizStyle *style);
