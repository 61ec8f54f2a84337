/* SPDX-License-Identifier: MIT */
/* The dataset examples figure of one channel: the samples that activate it most in one row and
 * least in another, each whole with its unit's receptive field outlined or cropped to it, with
 * its activation under it. The CLI's figure and the Maximize view's panel. */
#pragma once

#include <cairo.h>
#include <stdbool.h>

#include "nn.h"
#include "viz-style.h"

typedef struct
{
  const float *pixels;     /* (c, h, w) in [0, 1], borrowed: the sample as the dataset has it */
  int          c, h, w;
  int          rect[4];    /* the receptive field of the unit at the argmax, in the image: y, x,
                              h, w (nn_receptive_field_rect) */
  int          field[4];   /* the same field unclipped (it may reach past the image: padding) */
  bool         whole;      /* the unit sees the whole image (no outline) */
  int          index;      /* the sample's place in the dataset */
  float        value;      /* the channel's spatial maximum */
} VizExampleTile;

typedef struct
{
  const VizExampleTile *top;     /* n of them, highest first; borrowed */
  const VizExampleTile *bottom;  /* n of them, lowest first; borrowed */
  int                   n;
  bool                  crop;    /* show each tile's receptive field only, else the whole image
                                    with the field outlined */
  const char           *title;   /* above, or NULL */
  const char           *caption; /* below (wrapped), or NULL */
  const char           *heads[2];  /* above each row; NULL: "Highest activation", "Lowest
                                      activation" (the window passes translations) */
} VizExamples;

/* The tiles of channel c (2 * nn_examples_count entries: the top ones, then the bottom ones)
 * from the examples of a layer, the dataset they index and the layer's receptive field. */
void viz_examples_tiles (VizExampleTile         *tiles,
                         const NnExamples       *examples,
                         int                     c,
                         const NnDataset        *ds,
                         const NnReceptiveField *field);

/* The caption: "Layer relu3, channel 5: 10,000 samples of fashion-mnist ranked by the
 * channel's spatial maximum; crops at the unit's receptive field (9 x 9 px)". */
void viz_examples_caption (char                   *buf,
                           size_t                  size,
                           const char             *layer,
                           int                     channel,
                           const char             *dataset,
                           int                     n,
                           const NnReceptiveField *field,
                           bool                    crop);

/* Draws the figure into (0, 0, width, height); saves and restores cr. */
void viz_examples_draw (cairo_t           *cr,
                        const VizExamples *examples,
                        const VizStyle    *style,
                        double             width,
                        double             height);

/* The tile (0 to n - 1 in the top row, n to 2n - 1 in the bottom row) under point (x, y) of a
 * figure drawn at width x height, or -1. */
int  viz_examples_hit (const VizExamples *examples,
                       const VizStyle    *style,
                       double             width,
                       double             height,
                       double             x,
                       double             y);
