/* SPDX-License-Identifier: MIT */
/* The HU-histogram rule baseline on hand-made slices: the lung field (air around the body
 * excluded, a dense patch inside the lung included, the rim dropped), the bin fractions, and the
 * rules fitted with one and two thresholds. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"

#define S 40

/* Air around a body (rows and columns 4..35, 40 HU) holding a lung (8..31, -850 HU) with a
 * square patch of side `patch` at value `patch_hu` from (12, 12). */
static void
slice (float *hu,
       int    patch,
       float  patch_hu)
{
  for (int i = 0; i < S; i++)
    for (int j = 0; j < S; j++)
      {
        float v = -1000.0f;
        if (i >= 4 && i < 36 && j >= 4 && j < 36)
          v = 40.0f;
        if (i >= 8 && i < 32 && j >= 8 && j < 32)
          v = -850.0f;
        if (i >= 12 && i < 12 + patch && j >= 12 && j < 12 + patch)
          v = patch_hu;
        hu[i * S + j] = v;
      }
}

static void
test_field_and_features (void)
{
  float hu[S * S];
  unsigned char field[S * S];
  slice (hu, 0, 0.0f);
  long n = nn_hu_rules_lung_field (hu, S, S, field);
  /* The lung (rows and columns 8..31) without its one-pixel rim, 9..30, whose corners the
   * 3 x 3 means (below -400 HU only with five lung pixels of nine) cut. */
  g_assert_cmpint (n, ==, 22 * 22 - 4);
  for (int i = 0; i < S; i++)
    for (int j = 0; j < S; j++)
      {
        bool in = i >= 9 && i < 31 && j >= 9 && j < 31;
        bool corner = (i == 9 || i == 30) && (j == 9 || j == 30);
        g_assert_cmpint (field[i * S + j], ==, in && !corner);
      }
  float f[NN_HU_RULES_FEATURES];
  NnError err = { 0 };
  g_assert_true (nn_hu_rules_features (hu, S, S, f, &err));
  /* Every pixel of the field is flat lung, in [-900, -800) (bin 1). */
  g_assert_cmpfloat (f[1], ==, 1.0f);
  for (int b = 0; b < NN_HU_RULES_BINS; b++)
    if (b != 1)
      g_assert_cmpfloat (f[b], ==, 0.0f);

  /* A consolidation (20 HU) of 8 x 8 inside the lung belongs to the field (the closing fills
   * it); its flat 6 x 6 core counts in [0, 100), its edges in no bin. */
  slice (hu, 8, 20.0f);
  g_assert_cmpint (nn_hu_rules_lung_field (hu, S, S, field), ==, 22 * 22 - 4);
  for (int i = 12; i < 20; i++)
    for (int j = 12; j < 20; j++)
      g_assert_cmpint (field[i * S + j], ==, 1);
  g_assert_true (nn_hu_rules_features (hu, S, S, f, &err));
  g_assert_cmpfloat (fabsf (f[10] - 36.0f / 480.0f), <, 1e-6f);
  g_assert_cmpfloat (f[1] + f[10], <, 1.0f - 50.0f / 480.0f);
  /* Pair and range features are the sums of their bins. */
  for (int k = NN_HU_RULES_BINS; k < NN_HU_RULES_FEATURES; k++)
    {
      unsigned bins = nn_hu_rules_feature_bins (k);
      g_assert_cmpuint (bins & ~((1u << NN_HU_RULES_BINS) - 1u), ==, 0);
      float sum = 0.0f;
      int n_bins = 0;
      for (int b = 0; b < NN_HU_RULES_BINS; b++)
        if (bins & (1u << b))
          {
            sum += f[b];
            n_bins++;
          }
      g_assert_cmpint (n_bins, >=, 2);
      g_assert_cmpfloat (f[k], ==, sum);
    }
  g_assert_cmpuint (nn_hu_rules_feature_bins (NN_HU_RULES_FEATURES - 1), ==,
                    (1u << (NN_HU_RULES_BINS - 1)) | (1u << (NN_HU_RULES_BINS - 2))
                    | (1u << (NN_HU_RULES_BINS - 3)));
}

/* Three classes by the size of a ground-glass patch (-500 HU): none, 4 x 4, 10 x 10. One
 * threshold separates two groups at best (2/3); two thresholds all three. */
static void
test_fit (void)
{
  enum { N = 12 };
  const int sizes[3] = { 0, 4, 10 };
  float features[N * NN_HU_RULES_FEATURES];
  int labels[N];
  float hu[S * S];
  NnError err = { 0 };
  for (int k = 0; k < N; k++)
    {
      labels[k] = k % 3;
      /* The lung's density wobbles from slice to slice. */
      slice (hu, sizes[k % 3] + (k >= 6 && k % 3 ? 1 : 0), -500.0f);
      for (int p = 0; p < S * S; p++)
        if (hu[p] == -850.0f)
          hu[p] += 10.0f * (float) (k % 4);
      g_assert_true (nn_hu_rules_features (hu, S, S, features + k * NN_HU_RULES_FEATURES,
                                           &err));
    }
  NnHuRule one, two;
  g_assert_true (nn_hu_rules_fit (features, labels, N, 3, 1, &one, &err));
  g_assert_cmpfloat (fabs (one.train_accuracy - 2.0 / 3.0), <, 1e-9);
  g_assert_cmpfloat (nn_hu_rule_accuracy (&one, features, labels, N), ==, one.train_accuracy);
  g_assert_true (nn_hu_rules_fit (features, labels, N, 3, 2, &two, &err));
  g_assert_cmpfloat (two.train_accuracy, ==, 1.0);
  g_assert_cmpint (two.n_thresholds, ==, 2);
  g_assert_cmpfloat (two.lo, <, two.hi);
  g_assert_cmpint (two.classes[1], ==, 1);
  g_assert_cmpfloat (nn_hu_rule_accuracy (&two, features, labels, N), ==, 1.0);

  /* Fresh slices: a 5 x 5 patch is small, 9 x 9 large, none healthy. */
  const int fresh[3] = { 0, 5, 9 };
  for (int c = 0; c < 3; c++)
    {
      float f[NN_HU_RULES_FEATURES];
      slice (hu, fresh[c], -500.0f);
      g_assert_true (nn_hu_rules_features (hu, S, S, f, &err));
      g_assert_cmpint (nn_hu_rule_predict (&two, f), ==, c);
    }

  /* Labels no feature can tell apart: the best rule is the majority, 7 of 12. */
  int shuffled[N] = { 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1 };
  for (int k = 0; k < N; k++)
    {
      slice (hu, 0, 0.0f);
      g_assert_true (nn_hu_rules_features (hu, S, S, features + k * NN_HU_RULES_FEATURES,
                                           &err));
    }
  g_assert_true (nn_hu_rules_fit (features, shuffled, N, 2, 2, &two, &err));
  g_assert_cmpfloat (fabs (two.train_accuracy - 7.0 / 12.0), <, 1e-9);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/hu-rules/field-and-features", test_field_and_features);
  g_test_add_func ("/nn/hu-rules/fit", test_fit);
  return g_test_run ();
}
