/* SPDX-License-Identifier: MIT */
/* Clinical metrics of a classifier from its confusion matrix: per class (one vs the rest) and
 * macro-averaged accuracy, precision, sensitivity, specificity and F1, Wilson intervals, and the
 * one-vs-rest ROC AUC from per-sample scores. */
#pragma once

#include <stdbool.h>

#include "core/nn-error.h"

/* A proportion num / den with its 95 % Wilson score interval; value, lo and hi are NAN when den
 * is 0 (e.g. the precision of a class never predicted). */
typedef struct
{
  long   num;
  long   den;
  double value;
  double lo;
  double hi;
} NnProportion;

typedef struct
{
  long         n;            /* samples whose true class is this one */
  NnProportion accuracy;     /* (TP + TN) / all */
  NnProportion precision;    /* TP / (TP + FP) */
  NnProportion sensitivity;  /* recall: TP / (TP + FN) */
  NnProportion specificity;  /* TN / (TN + FP) */
  double       f1;           /* 2 TP / (2 TP + FP + FN); NAN when that is 0 / 0 */
  double       auc;          /* one vs rest; NAN without scores or without both groups */
} NnClassMetrics;

typedef struct
{
  int             n_classes;
  long            n;
  NnProportion    accuracy;  /* overall: trace / n */
  NnClassMetrics *classes;   /* n_classes */
  /* Unweighted means over the classes where each is defined; its proportions have only a
   * value (num, den 0; lo, hi NAN). */
  NnClassMetrics  macro;
} NnMetrics;

/* The 95 % Wilson score interval of k successes in n trials (z = 1.959964). */
void   nn_wilson_interval (long    k,
                           long    n,
                           double *lo,
                           double *hi);

/* The area under the ROC curve of scores (n) against positive (n; non-zero marks a positive),
 * by the Mann-Whitney statistic with ties counted one half. NAN when either group is empty;
 * false only when out of memory. */
bool   nn_roc_auc (const float         *scores,
                   const unsigned char *positive,
                   long                 n,
                   double              *auc,
                   NnError             *err);

/* The ROC curve of the same: *n_points points (false positive rate, true positive rate) from
 * (0, 0) to (1, 1), one per distinct score from the highest down (tied scores make one
 * diagonal step, so the area under the polyline is nn_roc_auc's). *fpr and *tpr are
 * malloc'd (free them); NULL with no points when either group is empty. False only when out
 * of memory. */
bool   nn_roc_curve (const float         *scores,
                     const unsigned char *positive,
                     long                 n,
                     float              **fpr,
                     float              **tpr,
                     long                *n_points,
                     NnError             *err);

/* Fills m from confusion (k * k, row = true class, column = predicted). With scores (n * k,
 * row-major, higher = more likely that class) and labels (n true classes), also the one-vs-rest
 * AUC of each class; scores may be NULL. Free m with nn_metrics_clear. */
bool   nn_metrics_compute (const long  *confusion,
                           int          k,
                           const float *scores,
                           const int   *labels,
                           long         n,
                           NnMetrics   *m,
                           NnError     *err);
void   nn_metrics_clear (NnMetrics *m);
