/* SPDX-License-Identifier: MIT */
/* The app's side of the viz/ figures: the style they are drawn in on screen. The figures
 * themselves (layout, drawing, export) are in viz/, shared with cnnscope-cli. */
#pragma once

#include <gtk/gtk.h>

#include "viz.h"

G_BEGIN_DECLS

/* viz's defaults on a transparent background, text and lines in widget's theme colour, tile
 * numbers under the tiles. */
void scope_figure_style_init_screen (VizStyle  *style,
                                     GtkWidget *widget);

G_END_DECLS
