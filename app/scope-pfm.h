/* SPDX-License-Identifier: MIT */
/* A pre-defined filter module (PFM) of a PFNet as the Filters view shows it: the frozen 3x3
 * filter bank of its depthwise conv and the learned 1x1 weights that mix the filtered channels,
 * and which filtered channels (and so which input channels and kernels) drive an output
 * channel most, traced through the 1x1 weights. The drawing is Cairo and viz/ only. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "nn.h"
#include "viz.h"

G_BEGIN_DECLS

typedef struct
{
  int          predefined;  /* the depthwise 3x3 conv node */
  int          conv1x1;     /* the 1x1 conv node */
  int          in_c;        /* the module's input channels */
  int          f;           /* filtered channels per input channel: mid_c = in_c * f */
  int          mid_c;
  int          out_c;
  const float *bank;        /* (mid_c, 1, 3, 3): channel j filters input j / f with kernel
                               kernels[j % n_kernels]; borrowed from the graph */
  const float *mix;         /* (out_c, mid_c); borrowed from the graph */
  NnPfmBank    kind;        /* the bank the network was built with (its model file says) */
  int          n_kernels;   /* how many kernels it uses */
  int          kernels[16]; /* nn_pfm_bank_subset's list: the kernels in channel order */
} ScopePfm;

/* Fills pfm when node is the predefined conv or the 1x1 conv of a PFM ("<m>.predefined" and
 * "<m>.conv1x1", the 1x1 reading the depthwise conv through its norm and ReLU). The bank and
 * its size come from the model's arch_options (nn_pfm_bank_from_options: the full bank of 16
 * for files without them or with options that do not parse). */
gboolean scope_pfm_find (ScopePfm      *pfm,
                         const NnModel *model,
                         int            node);
/* The name of the kernel of filtered channel j ("+U0", "-R3"). */
const char *
         scope_pfm_kernel_name (const ScopePfm *pfm,
                                int             j);

/* The bank's heading in the figure: its name, frozen or trained, its size and kernels
 * ("edges bank, frozen (4 kernels): +U0 +U45 +U90 +U135"). */
void     scope_pfm_bank_heading (const ScopePfm *pfm,
                                 char           *buf,
                                 gsize           size);

typedef struct
{
  int   channel;  /* filtered channel j */
  int   input;    /* the module's input channel it reads, j / f */
  int   kernel;   /* its kernel, kernels[j % n_kernels] (an index into the 16) */
  float weight;   /* mix[o][j] */
} ScopePfmDriver;

/* The filtered channels feeding output channel o, by |weight| from the largest, at most n;
 * returns how many were written. */
int      scope_pfm_trace (const ScopePfm *pfm,
                          int             o,
                          ScopePfmDriver *drivers,
                          int             n);

/* Draws the module into (0, 0, width, height): caption, the bank, the drivers of output
 * channel `selected`, the 1x1 weights as a matrix with that row outlined. Saves and restores
 * cr. */
void     scope_pfm_draw (cairo_t        *cr,
                         const ScopePfm *pfm,
                         int             selected,
                         const char     *caption,
                         const VizStyle *style,
                         double          width,
                         double          height);
/* The output channel (matrix row) under (x, y), or -1. */
int      scope_pfm_hit (const ScopePfm *pfm,
                        const char     *caption,
                        const VizStyle *style,
                        double          width,
                        double          height,
                        double          x,
                        double          y);

G_END_DECLS
