/* SPDX-License-Identifier: MIT */
/* The strip along z: the model's class probabilities of every axial slice of a volume, a row per
 * class and a column per slice (inferior on the left), on the sequential colour map from 0 to 1,
 * so that where in the scan the model sees each class reads at a glance; the slices an
 * out-of-distribution check flags are hatched grey, with a legend. */
#pragma once

#include <cairo.h>
#include <stdint.h>

#include "viz-style.h"

typedef struct
{
  const float        *probs;    /* slices x classes, the first `done` rows filled; borrowed */
  int                 slices;
  int                 classes;
  int                 done;     /* slices classified so far; the rest are drawn empty */
  int                 current;  /* the slice marked, or -1 */
  const char *const  *labels;   /* classes names, or NULL for their numbers */
  const uint8_t      *far;      /* slices, the first `done` filled: non-zero where the slice is
                                 * far from the training data; NULL: no check */
  const char         *far_label; /* the legend of the hatching (e.g. "far from the training
                                  * data"), drawn under the strip when far is given */
} VizVolumeStrip;

/* Draws the strip with its row labels at the left and, with far, a line of legend under it.
 * Saves and restores cr. */
void viz_volume_strip_draw (cairo_t              *cr,
                            const VizVolumeStrip *strip,
                            const VizStyle       *style,
                            double                width,
                            double                height);
