/* SPDX-License-Identifier: MIT */
/* Default drawing style. */
#include "viz-style.h"

void
viz_style_init (VizStyle *style)
{
  *style = (VizStyle) {
    .background = { 1.0, 1.0, 1.0, 1.0 },
    .foreground = { 0.12, 0.12, 0.14, 1.0 },
    .accent = { 0.93, 0.35, 0.05, 1.0 },
    .font = "Sans 9",
    .margin = 8.0,
    .gap = 2.0,
    .colorbar_width = 14.0,
    .colorbar_labels = 64.0,
    .tile_labels = false,
  };
}
