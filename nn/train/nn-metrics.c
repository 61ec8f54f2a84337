/* SPDX-License-Identifier: MIT */
/* Clinical metrics from a confusion matrix (nn-metrics.h): Wilson intervals and the
 * Mann-Whitney ROC AUC. */
#include "train/nn-metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WILSON_Z 1.959963984540054

void
nn_wilson_interval (long    k,
                    long    n,
                    double *lo,
                    double *hi)
{
  if (n <= 0)
    {
      *lo = *hi = (double) NAN;
      return;
    }
  double p = (double) k / (double) n, z2 = WILSON_Z * WILSON_Z, nn = (double) n;
  double centre = (p + z2 / (2.0 * nn)) / (1.0 + z2 / nn);
  double half = WILSON_Z / (1.0 + z2 / nn) * sqrt (p * (1.0 - p) / nn + z2 / (4.0 * nn * nn));
  /* Exactly 0 and 1 at the ends, where rounding would leave a few ulps. */
  *lo = k == 0 || centre - half < 0.0 ? 0.0 : centre - half;
  *hi = k == n || centre + half > 1.0 ? 1.0 : centre + half;
}

static NnProportion
proportion (long num,
            long den)
{
  NnProportion p = { num, den, (double) NAN, (double) NAN, (double) NAN };
  if (den > 0)
    {
      p.value = (double) num / (double) den;
      nn_wilson_interval (num, den, &p.lo, &p.hi);
    }
  return p;
}

typedef struct
{
  float score;
  bool  positive;
} Scored;

static int
compare_scored (const void *a,
                const void *b)
{
  float x = ((const Scored *) a)->score, y = ((const Scored *) b)->score;
  return (x > y) - (x < y);
}

bool
nn_roc_auc (const float         *scores,
            const unsigned char *positive,
            long                 n,
            double              *auc,
            NnError             *err)
{
  *auc = (double) NAN;
  long n_pos = 0;
  for (long i = 0; i < n; i++)
    n_pos += positive[i] != 0;
  if (n_pos == 0 || n_pos == n)
    return true;
  Scored *s = malloc ((size_t) n * sizeof *s);
  if (s == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for the ROC of %ld samples", n);
  for (long i = 0; i < n; i++)
    s[i] = (Scored) { scores[i], positive[i] != 0 };
  qsort (s, (size_t) n, sizeof *s, compare_scored);
  /* Sum of the positives' ranks (1-based), tied scores sharing their mean rank. */
  double rank_sum = 0.0;
  for (long i = 0; i < n;)
    {
      long j = i;
      long pos = 0;
      while (j < n && s[j].score == s[i].score)
        pos += s[j++].positive;
      rank_sum += (double) pos * (double) (i + 1 + j) / 2.0;
      i = j;
    }
  free (s);
  double p = (double) n_pos, q = (double) (n - n_pos);
  *auc = (rank_sum - p * (p + 1.0) / 2.0) / (p * q);
  return true;
}

bool
nn_roc_curve (const float         *scores,
              const unsigned char *positive,
              long                 n,
              float              **fpr,
              float              **tpr,
              long                *n_points,
              NnError             *err)
{
  NN_ASSERT (scores != NULL && positive != NULL && fpr != NULL && tpr != NULL);
  NN_ASSERT (n_points != NULL && n >= 0);
  *fpr = *tpr = NULL;
  *n_points = 0;
  long n_pos = 0;
  for (long i = 0; i < n; i++)
    n_pos += positive[i] != 0;
  if (n_pos == 0 || n_pos == n)
    return true;
  Scored *s = malloc ((size_t) n * sizeof *s);
  float *x = malloc ((size_t) (n + 1) * sizeof *x);
  float *y = malloc ((size_t) (n + 1) * sizeof *y);
  if (s == NULL || x == NULL || y == NULL)
    {
      free (s);
      free (x);
      free (y);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for the ROC of %ld samples", n);
    }
  for (long i = 0; i < n; i++)
    s[i] = (Scored) { scores[i], positive[i] != 0 };
  qsort (s, (size_t) n, sizeof *s, compare_scored);
  /* From the highest score down, one point per distinct score: everything at or above it
   * called positive. */
  const double p = (double) n_pos, q = (double) (n - n_pos);
  long tp = 0, fp = 0, m = 0;
  x[m] = 0.0f;
  y[m++] = 0.0f;
  for (long j = n - 1; j >= 0;)
    {
      long i = j;
      while (i >= 0 && s[i].score == s[j].score)
        {
          tp += s[i].positive;
          fp += !s[i].positive;
          i--;
        }
      x[m] = (float) ((double) fp / q);
      y[m++] = (float) ((double) tp / p);
      j = i;
    }
  free (s);
  *fpr = x;
  *tpr = y;
  *n_points = m;
  return true;
}

/* Adds x to *sum and counts it when it is defined. */
static void
add_defined (double  x,
             double *sum,
             int    *count)
{
  if (!isnan (x))
    {
      *sum += x;
      (*count)++;
    }
}

static NnProportion
mean_only (double sum,
           int    count)
{
  NnProportion p = { 0, 0, count > 0 ? sum / count : (double) NAN, (double) NAN,
                     (double) NAN };
  return p;
}

bool
nn_metrics_compute (const long  *confusion,
                    int          k,
                    const float *scores,
                    const int   *labels,
                    long         n,
                    NnMetrics   *m,
                    NnError     *err)
{
  memset (m, 0, sizeof *m);
  m->classes = calloc ((size_t) k, sizeof *m->classes);
  unsigned char *positive = scores != NULL ? malloc ((size_t) (n > 0 ? n : 1)) : NULL;
  float *column = scores != NULL ? malloc ((size_t) (n > 0 ? n : 1) * sizeof (float)) : NULL;
  if (m->classes == NULL || (scores != NULL && (positive == NULL || column == NULL)))
    {
      free (positive);
      free (column);
      nn_metrics_clear (m);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for the metrics of %d classes",
                           k);
    }
  m->n_classes = k;
  long total = 0, trace = 0;
  for (int i = 0; i < k; i++)
    for (int j = 0; j < k; j++)
      {
        total += confusion[i * k + j];
        trace += i == j ? confusion[i * k + j] : 0;
      }
  m->n = total;
  m->accuracy = proportion (trace, total);

  double sums[6] = { 0 };
  int counts[6] = { 0 };
  for (int c = 0; c < k; c++)
    {
      long tp = confusion[c * k + c], row = 0, col = 0;
      for (int j = 0; j < k; j++)
        {
          row += confusion[c * k + j];
          col += confusion[j * k + c];
        }
      long fn = row - tp, fp = col - tp, tn = total - tp - fn - fp;
      NnClassMetrics *cm = &m->classes[c];
      cm->n = row;
      cm->accuracy = proportion (tp + tn, total);
      cm->precision = proportion (tp, tp + fp);
      cm->sensitivity = proportion (tp, tp + fn);
      cm->specificity = proportion (tn, tn + fp);
      cm->f1 = 2 * tp + fp + fn > 0 ? 2.0 * tp / (double) (2 * tp + fp + fn) : (double) NAN;
      cm->auc = (double) NAN;
      if (scores != NULL)
        {
          for (long i = 0; i < n; i++)
            {
              column[i] = scores[i * k + c];
              positive[i] = labels[i] == c;
            }
          if (!nn_roc_auc (column, positive, n, &cm->auc, err))
            {
              free (positive);
              free (column);
              nn_metrics_clear (m);
              return false;
            }
        }
      add_defined (cm->accuracy.value, &sums[0], &counts[0]);
      add_defined (cm->precision.value, &sums[1], &counts[1]);
      add_defined (cm->sensitivity.value, &sums[2], &counts[2]);
      add_defined (cm->specificity.value, &sums[3], &counts[3]);
      add_defined (cm->f1, &sums[4], &counts[4]);
      add_defined (cm->auc, &sums[5], &counts[5]);
    }
  free (positive);
  free (column);
  m->macro.n = total;
  m->macro.accuracy = mean_only (sums[0], counts[0]);
  m->macro.precision = mean_only (sums[1], counts[1]);
  m->macro.sensitivity = mean_only (sums[2], counts[2]);
  m->macro.specificity = mean_only (sums[3], counts[3]);
  m->macro.f1 = mean_only (sums[4], counts[4]).value;
  m->macro.auc = mean_only (sums[5], counts[5]).value;
  return true;
}

void
nn_metrics_clear (NnMetrics *m)
{
  if (m == NULL)
    return;
  free (m->classes);
  memset (m, 0, sizeof *m);
}
