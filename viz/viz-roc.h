/* SPDX-License-Identifier: MIT */
/* ROC curves of a classifier, one per class against the rest (nn_roc_curve), with the chance
 * diagonal and each class's AUC in the legend: the figure of `cnnscope-cli eval --roc`. */
#pragma once

#include <cairo.h>

#include "viz-style.h"

typedef struct
{
  int                  n_classes;
  const float *const  *fpr;       /* per class: n_points[k] false positive rates, borrowed */
  const float *const  *tpr;       /* per class: the true positive rates */
  const long          *n_points;  /* per class; a class with fewer than 2 is not drawn */
  const double        *auc;       /* per class, NAN when unknown */
  const char *const   *labels;    /* n_classes names */
  const char          *title;     /* may be NULL */
} VizRoc;

/* Draws into (0, 0, width, height): the unit square of false positive rate (1 - specificity,
 * x) against true positive rate (sensitivity, y), the classes in viz_scatter_class_rgb's
 * colours, the diagonal dashed. Saves and restores cr. */
void viz_roc_draw (cairo_t        *cr,
                   const VizRoc   *roc,
                   const VizStyle *style,
                   double          width,
                   double          height);
