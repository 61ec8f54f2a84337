/* SPDX-License-Identifier: MIT */
/* HU-histogram rules: the lung field of a slice, its bin fractions, and an exhaustive search
 * of one- and two-threshold rules over sorted feature values with prefix class counts. */
#include "train/nn-hu-rules.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

float
nn_hu_rules_bin_lo (int b)
{
  NN_ASSERT (b >= 0 && b < NN_HU_RULES_BINS);
  return b == 0 ? -1e30f : -1000.0f + 100.0f * (float) b;
}

unsigned
nn_hu_rules_feature_bins (int f)
{
  NN_ASSERT (f >= 0 && f < NN_HU_RULES_FEATURES);
  if (f < NN_HU_RULES_BINS)
    return 1u << f;
  int k = NN_HU_RULES_BINS;
  for (int a = 0; a < NN_HU_RULES_BINS; a++)
    for (int b = a + 1; b < NN_HU_RULES_BINS; b++, k++)
      if (k == f)
        return (1u << a) | (1u << b);
  for (int a = 0; a < NN_HU_RULES_BINS; a++)
    for (int b = a + 2; b < NN_HU_RULES_BINS; b++, k++)
      if (k == f)
        return ((2u << b) - 1u) & ~((1u << a) - 1u);
  NN_ASSERT (false);
  return 0;
}

/* The sum of the fractions of the bins in mask, in bin order. */
static float
sum_bins (const float *fractions,
          unsigned     mask)
{
  float sum = 0.0f;
  for (int b = 0; b < NN_HU_RULES_BINS; b++)
    if (mask & (1u << b))
      sum += fractions[b];
  return sum;
}

static int
bin_of (float v)
{
  int b = (int) floorf ((v + 1000.0f) / 100.0f);
  return b < 0 ? 0 : (b >= NN_HU_RULES_BINS ? NN_HU_RULES_BINS - 1 : b);
}

/* Mean and spread (max - min; NULL: not wanted) of the 3 x 3 neighbourhood, clipped at the
 * edges. */
static void
box_mean (float       *out,
          float       *spread,
          const float *hu,
          int          h,
          int          w)
{
  for (int i = 0; i < h; i++)
    for (int j = 0; j < w; j++)
      {
        float sum = 0.0f, lo = 1e30f, hi = -1e30f;
        int n = 0;
        for (int di = -1; di <= 1; di++)
          for (int dj = -1; dj <= 1; dj++)
            {
              int y = i + di, x = j + dj;
              if (y < 0 || x < 0 || y >= h || x >= w)
                continue;
              float v = hu[(size_t) y * w + x];
              sum += v;
              lo = fminf (lo, v);
              hi = fmaxf (hi, v);
              n++;
            }
        out[(size_t) i * w + j] = sum / (float) n;
        if (spread != NULL)
          spread[(size_t) i * w + j] = hi - lo;
      }
}

/* out = max (dilate) or min (erode) of in over a (2r+1)^2 square, separably. */
static void
morph (unsigned char       *out,
       const unsigned char *in,
       unsigned char       *tmp,
       int                  h,
       int                  w,
       int                  r,
       bool                 dilate)
{
  for (int i = 0; i < h; i++)
    for (int j = 0; j < w; j++)
      {
        unsigned char v = dilate ? 0 : 1;
        for (int d = -r; d <= r; d++)
          {
            int x = j + d;
            unsigned char s = x < 0 || x >= w ? (dilate ? 0 : 1) : in[(size_t) i * w + x];
            v = dilate ? (v | s) : (v & s);
          }
        tmp[(size_t) i * w + j] = v;
      }
  for (int i = 0; i < h; i++)
    for (int j = 0; j < w; j++)
      {
        unsigned char v = dilate ? 0 : 1;
        for (int d = -r; d <= r; d++)
          {
            int y = i + d;
            unsigned char s = y < 0 || y >= h ? (dilate ? 0 : 1) : tmp[(size_t) y * w + j];
            v = dilate ? (v | s) : (v & s);
          }
        out[(size_t) i * w + j] = v;
      }
}

/* The field from the 3 x 3 means m. */
static long
field_of (const float   *m,
          int            h,
          int            w,
          unsigned char *field)
{
  size_t n = (size_t) h * w;
  unsigned char *outside = calloc (n, 1);
  unsigned char *tmp = malloc (n);
  unsigned char *closed = malloc (n);
  int *stack = malloc (n * sizeof *stack);
  if (outside == NULL || tmp == NULL || closed == NULL || stack == NULL)
    {
      free (outside);
      free (tmp);
      free (closed);
      free (stack);
      return -1;
    }
  /* The air around the body: flood fill from the border. */
  size_t top = 0;
  for (int i = 0; i < h; i++)
    for (int j = 0; j < w; j++)
      {
        size_t p = (size_t) i * w + j;
        if ((i == 0 || j == 0 || i == h - 1 || j == w - 1) && m[p] < -500.0f && !outside[p])
          {
            outside[p] = 1;
            stack[top++] = (int) p;
          }
      }
  while (top > 0)
    {
      int p = stack[--top], i = p / w, j = p % w;
      const int di[4] = { -1, 1, 0, 0 }, dj[4] = { 0, 0, -1, 1 };
      for (int d = 0; d < 4; d++)
        {
          int y = i + di[d], x = j + dj[d];
          if (y < 0 || x < 0 || y >= h || x >= w)
            continue;
          size_t q = (size_t) y * w + x;
          if (!outside[q] && m[q] < -500.0f)
            {
              outside[q] = 1;
              stack[top++] = (int) q;
            }
        }
    }
  for (size_t p = 0; p < n; p++)
    field[p] = !outside[p] && m[p] < -400.0f;
  int r = (h < w ? h : w) / 12;
  r = r < 1 ? 1 : r;
  morph (closed, field, tmp, h, w, r, true);
  morph (field, closed, tmp, h, w, r + 1, false);
  long count = 0;
  for (size_t p = 0; p < n; p++)
    {
      field[p] = field[p] && !outside[p];
      count += field[p];
    }
  free (outside);
  free (tmp);
  free (closed);
  free (stack);
  return count;
}

long
nn_hu_rules_lung_field (const float   *hu,
                        int            h,
                        int            w,
                        unsigned char *field)
{
  NN_ASSERT (hu != NULL && field != NULL && h >= 1 && w >= 1);
  float *m = malloc ((size_t) h * w * sizeof *m);
  if (m == NULL)
    return -1;
  box_mean (m, NULL, hu, h, w);
  long count = field_of (m, h, w, field);
  free (m);
  return count;
}

bool
nn_hu_rules_features (const float *hu,
                      int          h,
                      int          w,
                      float       *features,
                      NnError     *err)
{
  NN_ASSERT (hu != NULL && features != NULL && h >= 1 && w >= 1);
  size_t n = (size_t) h * w;
  float *m = malloc (n * sizeof *m);
  float *spread = malloc (n * sizeof *spread);
  unsigned char *field = malloc (n);
  long count = -1;
  if (m != NULL && spread != NULL && field != NULL)
    {
      box_mean (m, spread, hu, h, w);
      count = field_of (m, h, w, field);
    }
  if (count < 0)
    {
      free (m);
      free (spread);
      free (field);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for the lung field of a %d x %d "
                           "slice", w, h);
    }
  memset (features, 0, NN_HU_RULES_FEATURES * sizeof *features);
  for (size_t p = 0; p < n; p++)
    if (field[p] && spread[p] < 200.0f)
      features[bin_of (m[p])] += 1.0f;
  for (int b = 0; b < NN_HU_RULES_BINS && count > 0; b++)
    features[b] /= (float) count;
  for (int f = NN_HU_RULES_BINS; f < NN_HU_RULES_FEATURES; f++)
    features[f] = sum_bins (features, nn_hu_rules_feature_bins (f));
  free (m);
  free (spread);
  free (field);
  return true;
}

typedef struct
{
  float value;
  int   label;
} Sample;

static int
compare_samples (const void *a,
                 const void *b)
{
  float x = ((const Sample *) a)->value, y = ((const Sample *) b)->value;
  return (x > y) - (x < y);
}

/* The most frequent class among counts[c] (the lowest on ties) and its count. */
static int
majority (const int *counts,
          int        n_classes,
          int       *best)
{
  int arg = 0;
  for (int c = 1; c < n_classes; c++)
    if (counts[c] > counts[arg])
      arg = c;
  *best = counts[arg];
  return arg;
}

bool
nn_hu_rules_fit (const float *features,
                 const int   *labels,
                 int          n,
                 int          n_classes,
                 int          n_thresholds,
                 NnHuRule    *rule,
                 NnError     *err)
{
  NN_ASSERT (features != NULL && labels != NULL && rule != NULL && n >= 1);
  NN_ASSERT (n_classes >= 1 && (n_thresholds == 1 || n_thresholds == 2));
  Sample *s = malloc ((size_t) n * sizeof *s);
  /* prefix[i * n_classes + c]: samples of class c among the first i in sorted order. */
  int *prefix = malloc ((size_t) (n + 1) * n_classes * sizeof *prefix);
  int *counts = malloc ((size_t) n_classes * 3 * sizeof *counts);
  if (s == NULL || prefix == NULL || counts == NULL)
    {
      free (s);
      free (prefix);
      free (counts);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory fitting rules on %d samples", n);
    }
  int best_correct = -1;
  memset (rule, 0, sizeof *rule);
  for (int f = 0; f < NN_HU_RULES_FEATURES; f++)
    {
      for (int k = 0; k < n; k++)
        {
          NN_ASSERT (labels[k] >= 0 && labels[k] < n_classes);
          s[k].value = features[(size_t) k * NN_HU_RULES_FEATURES + f];
          s[k].label = labels[k];
        }
      qsort (s, (size_t) n, sizeof *s, compare_samples);
      memset (prefix, 0, (size_t) n_classes * sizeof *prefix);
      for (int k = 0; k < n; k++)
        {
          memcpy (prefix + (size_t) (k + 1) * n_classes, prefix + (size_t) k * n_classes,
                  (size_t) n_classes * sizeof *prefix);
          prefix[(size_t) (k + 1) * n_classes + s[k].label]++;
        }
      /* Cuts i <= j at positions 0..n between distinct values: [0, i), [i, j), [j, n). */
      for (int i = 0; i <= n; i++)
        {
          if (i > 0 && i < n && s[i].value == s[i - 1].value)
            continue;
          for (int j = i; j <= n; j++)
            {
              if (n_thresholds == 1 && j != i)
                break;
              if (j > i && j < n && s[j].value == s[j - 1].value)
                continue;
              int *c0 = counts, *c1 = counts + n_classes, *c2 = counts + 2 * n_classes;
              for (int c = 0; c < n_classes; c++)
                {
                  c0[c] = prefix[(size_t) i * n_classes + c];
                  c1[c] = prefix[(size_t) j * n_classes + c] - c0[c];
                  c2[c] = prefix[(size_t) n * n_classes + c] - prefix[(size_t) j * n_classes + c];
                }
              int m0, m1, m2;
              int k0 = majority (c0, n_classes, &m0), k1 = majority (c1, n_classes, &m1);
              int k2 = majority (c2, n_classes, &m2);
              if (m0 + m1 + m2 <= best_correct)
                continue;
              best_correct = m0 + m1 + m2;
              rule->n_thresholds = n_thresholds;
              rule->bins = nn_hu_rules_feature_bins (f);
              rule->lo = i == 0 ? -1.0f : (i == n ? 2.0f : 0.5f * (s[i - 1].value + s[i].value));
              rule->hi = j == 0 ? -1.0f : (j == n ? 2.0f : 0.5f * (s[j - 1].value + s[j].value));
              rule->classes[0] = k0;
              rule->classes[1] = j > i ? k1 : k0;
              rule->classes[2] = k2;
            }
        }
    }
  rule->train_accuracy = (double) best_correct / n;
  free (s);
  free (prefix);
  free (counts);
  return true;
}

int
nn_hu_rule_predict (const NnHuRule *rule,
                    const float    *features)
{
  NN_ASSERT (rule != NULL && features != NULL);
  float f = sum_bins (features, rule->bins);
  if (f < rule->lo)
    return rule->classes[0];
  if (f < rule->hi)
    return rule->classes[1];
  return rule->classes[2];
}

double
nn_hu_rule_accuracy (const NnHuRule *rule,
                     const float    *features,
                     const int      *labels,
                     int             n)
{
  NN_ASSERT (rule != NULL && features != NULL && labels != NULL && n >= 1);
  int correct = 0;
  for (int k = 0; k < n; k++)
    correct += nn_hu_rule_predict (rule, features + (size_t) k * NN_HU_RULES_FEATURES)
               == labels[k];
  return (double) correct / n;
}
