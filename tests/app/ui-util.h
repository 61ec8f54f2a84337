/* SPDX-License-Identifier: MIT */
/* What the UI tests share: driving a window through its actions. */
#pragma once

#include <gtk/gtk.h>

/* Activates `action` on widget with the parameter built from format and the arguments
 * (g_variant_new; NULL format: no parameter); the test fails when the action is not there. */
void ui_util_activate (GtkWidget  *widget,
                       const char *action,
                       const char *format,
                       ...);

/* A texture's spread: the luma's mean and standard deviation (0 .. 255) and its distinct
 * pixel values, to tell a drawing from a blank one. */
typedef struct
{
  double mean, stddev;
  guint  colours;
} UiUtilPixelStats;

UiUtilPixelStats ui_util_texture_stats (GdkTexture *texture);

/* How many of texture's pixels are within tolerance (per channel, 0 .. 255) of the colour
 * (r, g, b). */
guint       ui_util_count_colour (GdkTexture *texture,
                                  int         r,
                                  int         g,
                                  int         b,
                                  int         tolerance);

/* The widget as it looks now, rendered by its window's renderer. */
GdkTexture *ui_util_render_widget (GtkWidget *widget);

/* Saves a screenshot of widget as dir/<name>.png and checks it is not blank: the luma varies by
 * at least min_stddev (0 .. 255) and there are at least min_colours distinct colours. */
void        ui_util_screenshot (GtkWidget  *widget,
                                const char *dir,
                                const char *name,
                                double      min_stddev,
                                guint       min_colours);
