/* SPDX-License-Identifier: MIT */
/* Clinical metrics against hand-computed values: per-class and macro accuracy, precision,
 * sensitivity, specificity and F1 of a 3-class confusion matrix, Wilson intervals from
 * published tables, undefined ratios, and the ROC AUC with ties. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "nn.h"
#include "test-util.h"

#define EPS 1e-9

static void
assert_proportion (const NnProportion *p,
                   long                num,
                   long                den)
{
  g_assert_cmpint (p->num, ==, num);
  g_assert_cmpint (p->den, ==, den);
  g_assert_cmpfloat_with_epsilon (p->value, (double) num / (double) den, EPS);
  g_assert_cmpfloat (p->lo, <=, p->value);
  g_assert_cmpfloat (p->hi, >=, p->value);
}

static void
test_wilson (void)
{
  double lo, hi;
  /* 8 of 10: 0.4902 to 0.9433 (Newcombe 1998, table I's method 3). */
  nn_wilson_interval (8, 10, &lo, &hi);
  g_assert_cmpfloat_with_epsilon (lo, 0.4902, 1e-4);
  g_assert_cmpfloat_with_epsilon (hi, 0.9433, 1e-4);
  nn_wilson_interval (0, 10, &lo, &hi);
  g_assert_cmpfloat (lo, ==, 0.0);
  g_assert_cmpfloat_with_epsilon (hi, 0.2775, 1e-4);
  nn_wilson_interval (10, 10, &lo, &hi);
  g_assert_cmpfloat_with_epsilon (lo, 0.7225, 1e-4);
  g_assert_cmpfloat (hi, ==, 1.0);
  /* 81 of 263: 0.2553 to 0.3662 (Newcombe 1998). */
  nn_wilson_interval (81, 263, &lo, &hi);
  g_assert_cmpfloat_with_epsilon (lo, 0.2553, 1e-4);
  g_assert_cmpfloat_with_epsilon (hi, 0.3662, 1e-4);
  nn_wilson_interval (0, 0, &lo, &hi);
  g_assert_true (isnan (lo) && isnan (hi));
}

static void
test_three_classes (void)
{
  /*          pred 0  1  2
   * true 0:       8  1  1
   * true 1:       2  6  2
   * true 2:       0  0  5 */
  const long confusion[9] = { 8, 1, 1, 2, 6, 2, 0, 0, 5 };
  NnMetrics m;
  g_assert_true (nn_metrics_compute (confusion, 3, NULL, NULL, 0, &m, NULL));
  g_assert_cmpint (m.n, ==, 25);
  assert_proportion (&m.accuracy, 19, 25);
  /* Class 0: TP 8, FN 2, FP 2, TN 13. */
  const NnClassMetrics *c = &m.classes[0];
  g_assert_cmpint (c->n, ==, 10);
  assert_proportion (&c->accuracy, 21, 25);
  assert_proportion (&c->precision, 8, 10);
  assert_proportion (&c->sensitivity, 8, 10);
  assert_proportion (&c->specificity, 13, 15);
  g_assert_cmpfloat_with_epsilon (c->f1, 0.8, EPS);
  g_assert_cmpfloat_with_epsilon (c->sensitivity.lo, 0.4902, 1e-4);
  g_assert_true (isnan (c->auc));
  /* Class 1: TP 6, FN 4, FP 1, TN 14. */
  c = &m.classes[1];
  assert_proportion (&c->accuracy, 20, 25);
  assert_proportion (&c->precision, 6, 7);
  assert_proportion (&c->sensitivity, 6, 10);
  assert_proportion (&c->specificity, 14, 15);
  g_assert_cmpfloat_with_epsilon (c->f1, 12.0 / 17.0, EPS);
  /* Class 2: TP 5, FN 0, FP 3, TN 17. */
  c = &m.classes[2];
  g_assert_cmpint (c->n, ==, 5);
  assert_proportion (&c->accuracy, 22, 25);
  assert_proportion (&c->precision, 5, 8);
  assert_proportion (&c->sensitivity, 5, 5);
  assert_proportion (&c->specificity, 17, 20);
  g_assert_cmpfloat_with_epsilon (c->f1, 10.0 / 13.0, EPS);
  /* Macro: unweighted means, no interval. */
  g_assert_cmpfloat_with_epsilon (m.macro.accuracy.value, (21 + 20 + 22) / 75.0, EPS);
  g_assert_cmpfloat_with_epsilon (m.macro.precision.value, (0.8 + 6.0 / 7 + 0.625) / 3, EPS);
  g_assert_cmpfloat_with_epsilon (m.macro.sensitivity.value, 0.8, EPS);
  g_assert_cmpfloat_with_epsilon (m.macro.specificity.value,
                                  (13.0 / 15 + 14.0 / 15 + 0.85) / 3, EPS);
  g_assert_cmpfloat_with_epsilon (m.macro.f1, (0.8 + 12.0 / 17 + 10.0 / 13) / 3, EPS);
  g_assert_true (isnan (m.macro.precision.lo));
  nn_metrics_clear (&m);
}

/* A class never predicted has no precision; the macro mean skips it. A class never present
 * has no sensitivity. */
static void
test_undefined (void)
{
  const long confusion[4] = { 5, 0, 3, 0 };
  NnMetrics m;
  g_assert_true (nn_metrics_compute (confusion, 2, NULL, NULL, 0, &m, NULL));
  g_assert_true (isnan (m.classes[1].precision.value));
  g_assert_cmpint (m.classes[1].precision.den, ==, 0);
  assert_proportion (&m.classes[1].sensitivity, 0, 3);
  g_assert_cmpfloat (m.classes[1].f1, ==, 0.0);
  g_assert_cmpfloat_with_epsilon (m.macro.precision.value, 5.0 / 8.0, EPS);
  nn_metrics_clear (&m);

  const long absent[4] = { 4, 0, 0, 0 };
  g_assert_true (nn_metrics_compute (absent, 2, NULL, NULL, 0, &m, NULL));
  g_assert_true (isnan (m.classes[1].sensitivity.value));
  g_assert_true (isnan (m.classes[1].f1));
  assert_proportion (&m.classes[1].specificity, 4, 4);
  nn_metrics_clear (&m);
}

static void
test_auc (void)
{
  double auc;
  /* Positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered. */
  const float s1[4] = { 0.1f, 0.4f, 0.35f, 0.8f };
  const unsigned char p1[4] = { 0, 0, 1, 1 };
  g_assert_true (nn_roc_auc (s1, p1, 4, &auc, NULL));
  g_assert_cmpfloat_with_epsilon (auc, 0.75, EPS);
  /* Ties count one half: (0.5 + 1 + 0 + 0.5) / 4. */
  const float s2[4] = { 1.0f, 1.0f, 0.5f, 0.5f };
  const unsigned char p2[4] = { 1, 0, 1, 0 };
  g_assert_true (nn_roc_auc (s2, p2, 4, &auc, NULL));
  g_assert_cmpfloat_with_epsilon (auc, 0.5, EPS);
  /* Perfect, reversed, one group only. */
  const unsigned char p3[4] = { 0, 1, 0, 1 };
  const float s3[4] = { -3.0f, 2.0f, 1.0f, 5.0f };
  g_assert_true (nn_roc_auc (s3, p3, 4, &auc, NULL));
  g_assert_cmpfloat (auc, ==, 1.0);
  const float s4[4] = { 3.0f, -2.0f, 1.0f, -5.0f };
  g_assert_true (nn_roc_auc (s4, p3, 4, &auc, NULL));
  g_assert_cmpfloat (auc, ==, 0.0);
  const unsigned char none[4] = { 0 };
  g_assert_true (nn_roc_auc (s4, none, 4, &auc, NULL));
  g_assert_true (isnan (auc));

  /* Through nn_metrics_compute: three samples of two classes with each class's score. */
  const float scores[6] = { 2.0f, -2.0f, 0.5f, -0.5f, -1.0f, 1.0f };
  const int labels[3] = { 0, 1, 1 };
  const long confusion[4] = { 1, 0, 1, 1 };
  NnMetrics m;
  g_assert_true (nn_metrics_compute (confusion, 2, scores, labels, 3, &m, NULL));
  /* Class 0: positive 2.0 against 0.5 and -1.0: 1. Class 1: -2.0 against -0.5, 1.0: 1. */
  g_assert_cmpfloat (m.classes[0].auc, ==, 1.0);
  g_assert_cmpfloat (m.classes[1].auc, ==, 1.0);
  g_assert_cmpfloat (m.macro.auc, ==, 1.0);
  nn_metrics_clear (&m);
  const int swapped[3] = { 1, 0, 0 };
  g_assert_true (nn_metrics_compute (confusion, 2, scores, swapped, 3, &m, NULL));
  g_assert_cmpfloat (m.classes[0].auc, ==, 0.0);
  nn_metrics_clear (&m);
}

/* Scores 0.9 (positive), 0.8 (negative), 0.8 (positive), 0.3 (negative): from the top, one
 * point per distinct score, the tie at 0.8 one diagonal step; the area under the points is
 * the AUC, 3.5 / 4 pairs ordered. */
static void
test_roc_curve (void)
{
  const float scores[4] = { 0.9f, 0.8f, 0.8f, 0.3f };
  const unsigned char positive[4] = { 1, 0, 1, 0 };
  float *fpr = NULL, *tpr = NULL;
  long n = 0;
  g_assert_true (nn_roc_curve (scores, positive, 4, &fpr, &tpr, &n, NULL));
  g_assert_cmpint (n, ==, 4);
  const float want_x[4] = { 0.0f, 0.0f, 0.5f, 1.0f }, want_y[4] = { 0.0f, 0.5f, 1.0f, 1.0f };
  double area = 0.0;
  for (long i = 0; i < n; i++)
    {
      g_assert_cmpfloat (fpr[i], ==, want_x[i]);
      g_assert_cmpfloat (tpr[i], ==, want_y[i]);
      if (i > 0)
        area += (double) (fpr[i] - fpr[i - 1]) * (double) (tpr[i] + tpr[i - 1]) / 2.0;
    }
  double auc;
  g_assert_true (nn_roc_auc (scores, positive, 4, &auc, NULL));
  g_assert_cmpfloat (auc, ==, 0.875);
  g_assert_cmpfloat (area, ==, auc);
  free (fpr);
  free (tpr);

  /* One group only: no curve. */
  const unsigned char all[4] = { 1, 1, 1, 1 };
  g_assert_true (nn_roc_curve (scores, all, 4, &fpr, &tpr, &n, NULL));
  g_assert_cmpint (n, ==, 0);
  g_assert_null (fpr);
  g_assert_null (tpr);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/wilson", test_wilson);
  g_test_add_func ("/metrics/three-classes", test_three_classes);
  g_test_add_func ("/metrics/undefined", test_undefined);
  g_test_add_func ("/metrics/auc", test_auc);
  g_test_add_func ("/metrics/roc-curve", test_roc_curve);
  return g_test_run ();
}
