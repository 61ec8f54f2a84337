/* SPDX-License-Identifier: MIT */
/* A scatter plot of a 2-D embedding (PCA, t-SNE): one dot per sample coloured by its class
 * (true or predicted), a ring around every misclassified sample, a legend with the class
 * names, and a title and caption (layer, method, N, perplexity) above the plot. */
#pragma once

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "viz-style.h"

typedef struct
{
  const float       *xy;          /* n (x, y) pairs */
  int                n;
  const int         *truth;       /* n true classes */
  const int         *pred;        /* n predicted classes; NULL: no rings, coloured by truth */
  bool               colour_pred; /* colour by pred rather than truth */
  int                n_classes;   /* every class in truth and pred is below it */
  const char *const *labels;      /* n_classes names; NULL: the class numbers */
  const char        *title;       /* may be NULL */
  const char        *caption;     /* under the title, lines split at '\n'; may be NULL */
  const char        *x_label;     /* under the plot ("PC 1"); may be NULL */
  const char        *y_label;     /* left of the plot; may be NULL */
} VizScatter;

/* What an embedding's caption says (the CLI's and the window's figure). */
typedef struct
{
  const char *layer;
  bool        flatten;       /* flattened features, else pooled per channel */
  int         features;      /* per sample */
  bool        tsne;          /* else PCA */
  int         n;             /* samples */
  double      perplexity;    /* t-SNE's */
  uint64_t    seed;          /* t-SNE's */
  double      variance[2];   /* PCA: the shares of the total variance on the axes, percent */
  const char *dataset;
  bool        colour_pred;
  int         wrong;         /* misclassified samples */
} VizScatterCaption;

/* "layer L (pooled, D features), PCA, N = n, variance a% + b%" (or "t-SNE, N = n, perplexity
 * P, seed S"), then "\n<dataset>, coloured by true class, W misclassified (ringed)", appended
 * to buf. */
void viz_scatter_caption (char                    *buf,
                          size_t                   size,
                          const VizScatterCaption *caption);

/* The colour of class k (RGB in [0, 1]): ten distinct hues, then hues spaced by the golden
 * angle at two lightnesses. */
void viz_scatter_class_rgb (int    k,
                            double rgb[3]);
/* The device point of sample i when the scatter is drawn into (0, 0, width, height). */
void viz_scatter_point (const VizScatter *scatter,
                        const VizStyle   *style,
                        double            width,
                        double            height,
                        int               i,
                        double           *x,
                        double           *y);
/* The sample whose dot is nearest to (x, y) within `radius` device units, or -1 (hovering). */
int  viz_scatter_hit (const VizScatter *scatter,
                      const VizStyle   *style,
                      double            width,
                      double            height,
                      double            x,
                      double            y,
                      double            radius);
/* Draws into (0, 0, width, height); saves and restores cr. */
void viz_scatter_draw (cairo_t          *cr,
                       const VizScatter *scatter,
                       const VizStyle   *style,
                       double            width,
                       double            height);
