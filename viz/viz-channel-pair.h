/* SPDX-License-Identifier: MIT */
/* One channel of the same layer in two models side by side: its filters (the kernel for each
 * input channel) and its activation on one input, each row on one scale shared by both models
 * so that the colours compare; optionally a class's Grad-CAM and the channel's activation-
 * maximization image in both. */
#pragma once

#include <cairo.h>

#include "viz-style.h"

typedef struct
{
  const char  *title;       /* may be NULL */
  const char  *caption;     /* under the title, lines split at '\n'; may be NULL */
  const char  *names[2];    /* the two models' headings */
  const float *filters[2];  /* (ic, kh, kw) each, the channel's kernel; NULL: no filter row (a
                               layer without conv weights) */
  int          ic, kh, kw;
  const float *acts[2];     /* (h, w) each, the channel's activation */
  int          h, w;
  const float *cams[2];     /* (cam_h, cam_w) each, a class's attribution map over the input;
                               NULL: no CAM row */
  const float *image;       /* (image_c, cam_h, cam_w) in [0, 1]: what the maps lie over */
  int          image_c, cam_h, cam_w;
  const char  *cam_label;   /* the CAM row's heading ("Grad-CAM, class Shirt") */
  const float *ams[2];      /* (am_c, am_h, am_w) each in [0, 1]: the image that maximizes the
                               channel in each model; NULL: no AM row (one NULL: that model's
                               image is still missing, its place stays empty) */
  int          am_c, am_h, am_w;
  const char  *am_label;    /* the AM row's heading; NULL: "activation maximization" */
} VizChannelPair;

/* Draws into (0, 0, width, height): a column per model under its heading, the filters (diverging
 * map, 0 white) above the activations (sequential map, or diverging when a value is negative)
 * and the CAMs over the image (sequential map from 0 to the larger maximum), each with its
 * colour bar, and the AM images (as pixels, nearest-filtered, centred). Saves and restores
 * cr. */
void viz_channel_pair_draw (cairo_t              *cr,
                            const VizChannelPair *pair,
                            const VizStyle       *style,
                            double                width,
                            double                height);
