/* SPDX-License-Identifier: MIT */
/* The synthetic chest CT generator: tissue densities where the anatomy puts them, masks that
 * cover exactly the lesions, determinism by seed, and filtered back-projection of a noiseless
 * phantom reconstructing it. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"
#include "test-util.h"

#define SIZE 128

/* One noiseless slice of class cls from seed. */
static void
generate (NnSynthCtClass cls,
          uint64_t       seed,
          float         *hu,
          unsigned char *mask)
{
  NnSynthCtOptions opt;
  nn_synth_ct_options_init (&opt);
  opt.size = SIZE;
  opt.noise_hu = 0.0f;
  NnRng rng;
  nn_rng_init (&rng, seed);
  NnError err = { 0 };
  g_assert_true (nn_synth_ct_generate (&opt, cls, &rng, hu, mask, &err));
}

static float
at (const float *hu,
    int          i,
    int          j)
{
  return hu[(size_t) i * SIZE + j];
}

/* Median of the values in the box rows [i0, i1) x columns [j0, j1). */
static float
box_median (const float *hu,
            int          i0,
            int          i1,
            int          j0,
            int          j1)
{
  GArray *v = g_array_new (FALSE, FALSE, sizeof (float));
  for (int i = i0; i < i1; i++)
    for (int j = j0; j < j1; j++)
      g_array_append_val (v, hu[(size_t) i * SIZE + j]);
  float *data = (float *) (void *) v->data;
  /* Insertion sort: the boxes are small. */
  for (guint a = 1; a < v->len; a++)
    for (guint b = a; b > 0 && data[b - 1] > data[b]; b--)
      {
        float t = data[b];
        data[b] = data[b - 1];
        data[b - 1] = t;
      }
  float m = data[v->len / 2];
  g_array_free (v, TRUE);
  return m;
}

static void
test_tissue_ranges (void)
{
  float *hu = g_new (float, SIZE * SIZE);
  unsigned char *mask = g_new (unsigned char, SIZE * SIZE);
  for (uint64_t seed = 1; seed <= 5; seed++)
    {
      generate (NN_SYNTH_CT_HEALTHY, seed, hu, mask);
      /* Air in the corners, lung parenchyma (-880 to -830 HU, raised by vessels) in the middle
       * of each lung (left and right of the
       * midline at mid height), soft tissue of the heart / mediastinum in the middle, bone
       * somewhere in the lower middle (spine). */
      g_assert_cmpfloat (fabsf (at (hu, 2, 2) + 1000.0f), <, 1.0f);
      g_assert_cmpfloat (fabsf (at (hu, SIZE - 3, SIZE - 3) + 1000.0f), <, 1.0f);
      float right_lung = box_median (hu, 56, 68, 34, 46);
      float left_lung = box_median (hu, 50, 62, 88, 98);
      g_assert_cmpfloat (right_lung, >, -900.0f);
      g_assert_cmpfloat (right_lung, <, -700.0f);
      g_assert_cmpfloat (left_lung, >, -900.0f);
      g_assert_cmpfloat (left_lung, <, -700.0f);
      float heart = box_median (hu, 66, 72, 68, 74);
      g_assert_cmpfloat (heart, >, 20.0f);
      g_assert_cmpfloat (heart, <, 60.0f);
      float max_spine = -1000.0f;
      for (int i = 80; i < 110; i++)
        for (int j = 56; j < 72; j++)
          max_spine = fmaxf (max_spine, at (hu, i, j));
      g_assert_cmpfloat (max_spine, >, 500.0f);
      /* Subcutaneous fat: along the middle row, the least dense of the first pixels inside
       * the body (fat, then muscle and ribs). */
      int j = 0;
      while (j < SIZE / 2 && at (hu, SIZE / 2, j) < -500.0f)
        j++;
      float fat = 1000.0f;
      for (int d = 1; d < 6; d++)
        fat = fminf (fat, at (hu, SIZE / 2, j + d));
      g_assert_cmpfloat (fat, >, -130.0f);
      g_assert_cmpfloat (fat, <, -60.0f);
      for (int k = 0; k < SIZE * SIZE; k++)
        {
          g_assert_cmpfloat (hu[k], >=, -1000.5f);
          g_assert_cmpfloat (hu[k], <=, 900.0f);
          g_assert_cmpint (mask[k], ==, 0);
        }
    }
  g_free (hu);
  g_free (mask);
}

/* Lesion pixels: mask set exactly where the slice differs from the same seed's anatomy (the
 * lesions are drawn after it with their own random draws), in the lesion's density range. */
static void
test_masks_match_lesions (void)
{
  float *hu = g_new (float, SIZE * SIZE);
  unsigned char *mask = g_new (unsigned char, SIZE * SIZE);
  float *healthy = g_new (float, SIZE * SIZE);
  unsigned char *none = g_new (unsigned char, SIZE * SIZE);
  for (uint64_t seed = 1; seed <= 8; seed++)
    for (int cls = NN_SYNTH_CT_COVID; cls <= NN_SYNTH_CT_OTHER; cls++)
      {
        generate (NN_SYNTH_CT_HEALTHY, seed, healthy, none);
        generate ((NnSynthCtClass) cls, seed, hu, mask);
        int n_mask = 0, n_changed_outside = 0, n_raised = 0;
        double sum = 0.0, sum_change = 0.0;
        for (int k = 0; k < SIZE * SIZE; k++)
          {
            float change = hu[k] - healthy[k];
            g_assert_cmpfloat (change, >=, -1e-3f);
            if (mask[k])
              {
                n_mask++;
                sum += hu[k];
                /* Inside the mask the lesion raised the density (unless a vessel already was
                 * as dense), and never to bone. */
                g_assert_cmpfloat (hu[k], <, 100.0f);
                n_raised += change > 20.0f;
                sum_change += change;
              }
            else if (change > 150.0f)
              n_changed_outside++;
          }
        g_assert_cmpint (n_mask, >, 10);
        /* Vessels as dense as the lesion keep their value. */
        g_assert_cmpint (n_raised, >=, n_mask / 2);
        g_assert_cmpfloat (sum_change / n_mask, >, 100.0);
        /* Outside the mask only the lesions' soft rims changed much: a fraction of it. */
        g_assert_cmpint (n_changed_outside, <, n_mask);
        double mean = sum / n_mask;
        if (cls == NN_SYNTH_CT_COVID)
          {
            g_assert_cmpfloat (mean, >, -720.0);
            g_assert_cmpfloat (mean, <, -250.0);
          }
        else
          {
            g_assert_cmpfloat (mean, >, -100.0);
            g_assert_cmpfloat (mean, <, 80.0);
          }
      }
  g_free (hu);
  g_free (mask);
  g_free (healthy);
  g_free (none);
}

static void
test_deterministic (void)
{
  NnSynthCtOptions opt;
  nn_synth_ct_options_init (&opt);
  opt.size = 64;
  opt.acquisition = TRUE;
  float *a = g_new (float, 64 * 64), *b = g_new (float, 64 * 64);
  unsigned char *ma = g_new (unsigned char, 64 * 64), *mb = g_new (unsigned char, 64 * 64);
  NnRng rng;
  NnError err = { 0 };
  nn_rng_init (&rng, 42);
  g_assert_true (nn_synth_ct_generate (&opt, NN_SYNTH_CT_COVID, &rng, a, ma, &err));
  nn_rng_init (&rng, 42);
  g_assert_true (nn_synth_ct_generate (&opt, NN_SYNTH_CT_COVID, &rng, b, mb, &err));
  g_assert_cmpmem (a, 64 * 64 * sizeof (float), b, 64 * 64 * sizeof (float));
  g_assert_cmpmem (ma, 64 * 64, mb, 64 * 64);
  nn_rng_init (&rng, 43);
  g_assert_true (nn_synth_ct_generate (&opt, NN_SYNTH_CT_COVID, &rng, b, mb, &err));
  g_assert_true (memcmp (a, b, 64 * 64 * sizeof (float)) != 0);
  g_free (a);
  g_free (b);
  g_free (ma);
  g_free (mb);
}

/* Projection of a disc: every ray's integral is the chord length times the value. */
static void
test_project_disc (void)
{
  const int size = 64;
  int n_angles, n_bins;
  nn_synth_ct_geometry (size, &n_angles, &n_bins);
  float *image = g_new0 (float, size * size);
  const float r = 20.0f;
  /* Supersampled disc of radius r pixels at the centre. */
  for (int i = 0; i < size; i++)
    for (int j = 0; j < size; j++)
      {
        int in = 0;
        for (int s = 0; s < 16; s++)
          {
            float y = (float) i + ((float) (s / 4) + 0.5f) / 4.0f - size / 2.0f;
            float x = (float) j + ((float) (s % 4) + 0.5f) / 4.0f - size / 2.0f;
            in += x * x + y * y < r * r;
          }
        image[i * size + j] = (float) in / 16.0f;
      }
  float *sino = g_new (float, n_angles * n_bins);
  nn_synth_ct_project (sino, image, size, n_angles, n_bins);
  for (int a = 0; a < n_angles; a += 7)
    for (int b = 0; b < n_bins; b++)
      {
        float t = (float) b - 0.5f * (float) (n_bins - 1);
        float chord = fabsf (t) < r ? 2.0f * sqrtf (r * r - t * t) : 0.0f;
        /* Bilinear sampling blurs the edge by about a pixel. */
        float tol = fabsf (fabsf (t) - r) < 2.0f ? 6.0f : 0.3f + 0.015f * chord;
        g_assert_cmpfloat (fabsf (sino[a * n_bins + b] - chord), <, tol);
      }
  g_free (image);
  g_free (sino);
}

/* FBP of the noiseless projection of a slice is close to the slice away from edges. */
static void
test_fbp_reconstructs (void)
{
  const int size = 96;
  NnSynthCtOptions opt;
  nn_synth_ct_options_init (&opt);
  opt.size = size;
  opt.noise_hu = 0.0f;
  float *hu = g_new (float, size * size), *rec = g_new (float, size * size);
  unsigned char *mask = g_new (unsigned char, size * size);
  NnRng rng;
  nn_rng_init (&rng, 7);
  NnError err = { 0 };
  g_assert_true (nn_synth_ct_generate (&opt, NN_SYNTH_CT_OTHER, &rng, hu, mask, &err));
  int n_angles, n_bins;
  nn_synth_ct_geometry (size, &n_angles, &n_bins);
  float *mu = g_new (float, size * size), *sino = g_new (float, n_angles * n_bins);
  for (int k = 0; k < size * size; k++)
    mu[k] = 1.0f + hu[k] / 1000.0f;
  nn_synth_ct_project (sino, mu, size, n_angles, n_bins);
  g_assert_true (nn_synth_ct_reconstruct (rec, sino, size, n_angles, n_bins, &err));

  /* Flat regions: pixels whose 5x5 neighbourhood varies by under 5 HU. */
  double err_flat = 0.0, spread = 0.0, mean = 0.0;
  int n_flat = 0;
  for (int k = 0; k < size * size; k++)
    mean += hu[k];
  mean /= size * size;
  for (int i = 2; i < size - 2; i++)
    for (int j = 2; j < size - 2; j++)
      {
        float lo = 1e9f, hi = -1e9f;
        for (int di = -2; di <= 2; di++)
          for (int dj = -2; dj <= 2; dj++)
            {
              float v = hu[(i + di) * size + j + dj];
              lo = fminf (lo, v);
              hi = fmaxf (hi, v);
            }
        int k = i * size + j;
        spread += fabs (hu[k] - mean);
        if (hi - lo >= 5.0f)
          continue;
        err_flat += fabs (1000.0 * ((double) rec[k] - 1.0) - (double) hu[k]);
        n_flat++;
      }
  g_assert_cmpint (n_flat, >, size * size / 4);
  err_flat /= n_flat;
  spread /= (size - 4) * (size - 4);
  g_test_message ("FBP: mean absolute error %.1f HU in %d flat pixels (image spread %.0f HU)",
                  err_flat, n_flat, spread);
  g_assert_cmpfloat (err_flat, <, 25.0);
  g_assert_cmpfloat (err_flat, <, spread / 20.0);
  g_free (hu);
  g_free (rec);
  g_free (mask);
  g_free (mu);
  g_free (sino);
}

/* The simulated scan adds noise of a plausible level: air stays near -1000 HU with a spread of
 * a few to tens of HU, and fewer photons give more noise. */
static void
test_acquisition_noise (void)
{
  NnSynthCtOptions opt;
  nn_synth_ct_options_init (&opt);
  opt.size = 64;
  opt.acquisition = TRUE;
  float *hu = g_new (float, 64 * 64);
  unsigned char *mask = g_new (unsigned char, 64 * 64);
  double sd[2];
  for (int t = 0; t < 2; t++)
    {
      opt.photons = t == 0 ? 2e5f : 2e3f;
      NnRng rng;
      nn_rng_init (&rng, 5);
      NnError err = { 0 };
      g_assert_true (nn_synth_ct_generate (&opt, NN_SYNTH_CT_HEALTHY, &rng, hu, mask, &err));
      double s = 0.0, s2 = 0.0;
      int n = 0;
      for (int i = 1; i < 5; i++)
        for (int j = 4; j < 60; j++)
          {
            s += hu[i * 64 + j];
            s2 += (double) hu[i * 64 + j] * hu[i * 64 + j];
            n++;
          }
      double m = s / n;
      sd[t] = sqrt (s2 / n - m * m);
      g_assert_cmpfloat (fabs (m + 1000.0), <, 30.0);
    }
  g_test_message ("air noise: %.1f HU at 2e5 photons, %.1f HU at 2e3", sd[0], sd[1]);
  g_assert_cmpfloat (sd[0], >, 0.5);
  g_assert_cmpfloat (sd[1], >, 3.0 * sd[0]);
  g_free (hu);
  g_free (mask);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/synth-ct/tissue-ranges", test_tissue_ranges);
  g_test_add_func ("/nn/synth-ct/masks-match-lesions", test_masks_match_lesions);
  g_test_add_func ("/nn/synth-ct/deterministic", test_deterministic);
  g_test_add_func ("/nn/synth-ct/project-disc", test_project_disc);
  g_test_add_func ("/nn/synth-ct/fbp-reconstructs", test_fbp_reconstructs);
  g_test_add_func ("/nn/synth-ct/acquisition-noise", test_acquisition_noise);
  return g_test_run ();
}
