/* SPDX-License-Identifier: MIT */
/* The on-screen figure style, from the widget's CSS colour. */
#include "scope-figure.h"

void
scope_figure_style_init_screen (VizStyle  *style,
                                GtkWidget *widget)
{
  g_return_if_fail (style != NULL);
  g_return_if_fail (GTK_IS_WIDGET (widget));

  GdkRGBA ink;
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &ink);
  viz_style_init (style);
  style->background[3] = 0.0;
  style->foreground[0] = ink.red;
  style->foreground[1] = ink.green;
  style->foreground[2] = ink.blue;
  style->foreground[3] = ink.alpha;
  style->tile_labels = TRUE;
}
