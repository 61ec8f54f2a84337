/* SPDX-License-Identifier: MIT */
/* How viz/ draws: colours, font, spacing. One value is passed to every viz_*_draw function so
 * the same drawing serves the screen, the tests and exported figures. */
#pragma once

#include <stdbool.h>

typedef struct
{
  double      background[4];    /* RGBA in [0, 1]; alpha 0 leaves the target untouched */
  double      foreground[4];    /* text, ticks and outlines */
  double      accent[4];        /* the selected tile's outline */
  const char *font;             /* Pango font description, e.g. "Sans 9"; borrowed */
  double      margin;           /* around the whole drawing, in device units (px) */
  double      gap;              /* between tiles */
  double      colorbar_width;   /* the colour bar itself */
  double      colorbar_labels;  /* room reserved right of the bar for its tick labels */
  bool        tile_labels;      /* the channel number under each tile */
} VizStyle;

/* Dark text on white, "Sans 9", 8 px margin, 2 px gaps, no tile labels. */
void viz_style_init (VizStyle *style);
