/* SPDX-License-Identifier: MIT */
/* ROC curves over viz-curve: one series per class, the chance line, labels with the AUC. */
#include "viz-roc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "viz-curve.h"
#include "viz-scatter.h"

#define LABEL_MAX 96

void
viz_roc_draw (cairo_t        *cr,
              const VizRoc   *roc,
              const VizStyle *style,
              double          width,
              double          height)
{
  const int k = roc->n_classes > 0 ? roc->n_classes : 0;
  VizCurveSeries *series = calloc ((size_t) k + 1, sizeof *series);
  char *labels = calloc ((size_t) k + 1, LABEL_MAX);
  if (series == NULL || labels == NULL)
    {
      free (series);
      free (labels);
      return;
    }
  static const float diagonal[2] = { 0.0f, 1.0f };
  series[0] = (VizCurveSeries) {
    .x = diagonal, .y = diagonal, .n = 2, .rgba = { 0.55, 0.55, 0.55, 1.0 }, .dashed = true,
    .label = "chance",
  };
  int n = 1;
  for (int c = 0; c < k; c++)
    {
      if (roc->n_points[c] < 2 || roc->fpr[c] == NULL || roc->tpr[c] == NULL)
        continue;
      char *label = labels + (size_t) c * LABEL_MAX;
      if (isnan (roc->auc[c]))
        snprintf (label, LABEL_MAX, "%s", roc->labels[c]);
      else
        snprintf (label, LABEL_MAX, "%s (AUC %.3f)", roc->labels[c], roc->auc[c]);
      double rgb[3];
      viz_scatter_class_rgb (c, rgb);
      series[n++] = (VizCurveSeries) {
        .x = roc->fpr[c], .y = roc->tpr[c], .n = (int) roc->n_points[c],
        .rgba = { rgb[0], rgb[1], rgb[2], 1.0 }, .label = label,
      };
    }
  VizCurve curve = {
    .series = series, .n_series = n, .x_min = 0.0, .x_max = 1.0, .y_min = 0.0, .y_max = 1.0,
    .title = roc->title,
  };
  viz_curve_draw (cr, &curve, style, width, height);
  free (labels);
  free (series);
}
