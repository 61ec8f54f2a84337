/* SPDX-License-Identifier: MIT */
/* The version-2 synthetic CT volumes: determinism by seed, a slice drawn alone equal to the
 * volume's, the anatomy along z (trachea, lungs, diaphragm), masks per class, the slice picked
 * for 2-D sets, and the volume's geometry. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"
#include "test-util.h"

#define SIZE 64
#define NZ   32

static NnSynthCt2 *
patient (NnSynthCt2Class cls,
         uint64_t        seed,
         bool            acquisition)
{
  NnSynthCt2Options opt;
  nn_synth_ct2_options_init (&opt);
  opt.size = SIZE;
  opt.n_slices = NZ;
  opt.acquisition = acquisition;
  opt.noise_hu = 0.0f;
  NnError err = { 0 };
  NnSynthCt2 *ct = nn_synth_ct2_new (&opt, cls, seed, &err);
  g_assert_nonnull (ct);
  return ct;
}

static void
volume (NnSynthCt2Class cls,
        uint64_t        seed,
        bool            acquisition,
        NnVolume      **hu,
        NnVolume      **mask)
{
  NnSynthCt2 *ct = patient (cls, seed, acquisition);
  NnError err = { 0 };
  g_assert_true (nn_synth_ct2_volume (ct, hu, mask, &err));
  nn_synth_ct2_free (ct);
}

static void
test_deterministic (void)
{
  NnVolume *a, *am, *b, *bm, *c, *cm;
  volume (NN_SYNTH_CT2_COVID, 7, true, &a, &am);
  volume (NN_SYNTH_CT2_COVID, 7, true, &b, &bm);
  volume (NN_SYNTH_CT2_COVID, 8, true, &c, &cm);
  size_t n = (size_t) SIZE * SIZE * NZ;
  g_assert_cmpmem (a->data, n * sizeof (float), b->data, n * sizeof (float));
  g_assert_cmpmem (am->data, n * sizeof (float), bm->data, n * sizeof (float));
  g_assert_true (memcmp (a->data, c->data, n * sizeof (float)) != 0);
  for (size_t k = 0; k < n; k++)
    g_assert_true (isfinite (a->data[k]));

  /* Any slice drawn alone is the volume's. */
  NnSynthCt2 *ct = patient (NN_SYNTH_CT2_COVID, 7, true);
  float *hu = g_new (float, SIZE * SIZE);
  unsigned char *mask = g_new (unsigned char, SIZE * SIZE);
  NnError err = { 0 };
  const int ks[] = { 0, NZ / 2, NZ - 1 };
  for (size_t t = 0; t < G_N_ELEMENTS (ks); t++)
    {
      g_assert_true (nn_synth_ct2_slice (ct, ks[t], hu, mask, &err));
      g_assert_cmpmem (hu, SIZE * SIZE * sizeof (float),
                       a->data + (size_t) ks[t] * SIZE * SIZE, SIZE * SIZE * sizeof (float));
    }
  nn_synth_ct2_free (ct);
  g_free (hu);
  g_free (mask);
  nn_volume_free (a);
  nn_volume_free (am);
  nn_volume_free (b);
  nn_volume_free (bm);
  nn_volume_free (c);
  nn_volume_free (cm);
}

/* Pixels below thr inside the box of rows [i0, i1) x columns [j0, j1) (fractions of SIZE). */
static int
count_below (const float *hu,
             float        thr,
             float        i0,
             float        i1,
             float        j0,
             float        j1)
{
  int n = 0;
  for (int i = (int) (i0 * SIZE); i < (int) (i1 * SIZE); i++)
    for (int j = (int) (j0 * SIZE); j < (int) (j1 * SIZE); j++)
      n += hu[i * SIZE + j] < thr;
  return n;
}

/* Air pixels inside the body: below -700 HU and not reachable from the border through
 * pixels below -500 HU. */
static int
inner_air (const float *hu)
{
  unsigned char *outside = g_new0 (unsigned char, SIZE * SIZE);
  int *stack = g_new (int, SIZE * SIZE);
  int top = 0;
  for (int k = 0; k < SIZE; k++)
    {
      int border[4] = { k, (SIZE - 1) * SIZE + k, k * SIZE, k * SIZE + SIZE - 1 };
      for (int b = 0; b < 4; b++)
        if (!outside[border[b]] && hu[border[b]] < -500.0f)
          {
            outside[border[b]] = 1;
            stack[top++] = border[b];
          }
    }
  while (top > 0)
    {
      int p = stack[--top], i = p / SIZE, j = p % SIZE;
      const int di[4] = { -1, 1, 0, 0 }, dj[4] = { 0, 0, -1, 1 };
      for (int d = 0; d < 4; d++)
        {
          int ni = i + di[d], nj = j + dj[d];
          if (ni < 0 || nj < 0 || ni >= SIZE || nj >= SIZE)
            continue;
          int q = ni * SIZE + nj;
          if (!outside[q] && hu[q] < -500.0f)
            {
              outside[q] = 1;
              stack[top++] = q;
            }
        }
    }
  int n = 0;
  for (int p = 0; p < SIZE * SIZE; p++)
    n += !outside[p] && hu[p] < -700.0f;
  g_free (outside);
  g_free (stack);
  return n;
}

static void
test_anatomy_along_z (void)
{
  for (uint64_t seed = 1; seed <= 4; seed++)
    {
      NnVolume *v, *m;
      volume (NN_SYNTH_CT2_HEALTHY, seed, false, &v, &m);
      const float *top = v->data + (size_t) (NZ - 1) * SIZE * SIZE;
      const float *mid = v->data + (size_t) (NZ / 2) * SIZE * SIZE;
      const float *bottom = v->data;
      /* Above the apices: the trachea's air in the middle of the neck, and no lung. */
      int trachea = count_below (top, -700.0f, 0.35f, 0.75f, 0.4f, 0.6f);
      g_assert_cmpint (trachea, >=, 2);
      g_assert_cmpint (inner_air (top), <=, trachea + 4);
      /* Mid chest: both lungs, each filling its side. */
      int right = count_below (mid, -600.0f, 0.3f, 0.7f, 0.1f, 0.45f);
      int left = count_below (mid, -600.0f, 0.3f, 0.7f, 0.55f, 0.9f);
      g_assert_cmpint (right, >, SIZE * SIZE / 20);
      g_assert_cmpint (left, >, SIZE * SIZE / 25);
      /* The base: the domes leave much less lung, the liver on the right. */
      g_assert_cmpint (inner_air (bottom), <, inner_air (mid) / 2);
      int liver = 0;
      for (int i = (int) (0.3f * SIZE); i < (int) (0.6f * SIZE); i++)
        for (int j = (int) (0.2f * SIZE); j < (int) (0.4f * SIZE); j++)
          liver += bottom[i * SIZE + j] > 40.0f && bottom[i * SIZE + j] < 80.0f;
      g_assert_cmpint (liver, >, 20);
      /* Bone in every slice (spine), nothing outside the HU range of the scene. */
      for (int k = 0; k < NZ; k++)
        {
          float max = -2000.0f;
          for (int p = 0; p < SIZE * SIZE; p++)
            {
              float x = v->data[(size_t) k * SIZE * SIZE + p];
              g_assert_cmpfloat (x, >=, -1000.5f);
              g_assert_cmpfloat (x, <=, 900.0f);
              max = fmaxf (max, x);
            }
          g_assert_cmpfloat (max, >, 150.0f);
        }
      nn_volume_free (v);
      nn_volume_free (m);
    }
}

/* Masks: empty for healthy, present for the lesion classes, only where the lesion raised the
 * density over the same seed's lung. */
static void
test_masks (void)
{
  size_t n = (size_t) SIZE * SIZE * NZ;
  for (uint64_t seed = 1; seed <= 6; seed++)
    for (int cls = 0; cls < NN_SYNTH_CT2_N_CLASSES; cls++)
      {
        NnVolume *v, *m;
        volume ((NnSynthCt2Class) cls, seed, false, &v, &m);
        size_t area = 0, dense = 0;
        for (size_t k = 0; k < n; k++)
          if (m->data[k] > 0.0f)
            {
              g_assert_cmpfloat (m->data[k], ==, 1.0f);
              area++;
              dense += v->data[k] > -750.0f;
            }
        if (cls == NN_SYNTH_CT2_HEALTHY)
          g_assert_cmpuint (area, ==, 0);
        else
          {
            g_assert_cmpuint (area, >, 5);
            /* Inside a lesion the lung is denser than aerated lung (a few air bronchograms
             * and fissure crossings aside). */
            g_assert_cmpuint (dense, >, area * 8 / 10);
          }
        nn_volume_free (v);
        nn_volume_free (m);
      }
}

/* COVID ground glass stands above the lung around it, also in dense dependent lung: over each
 * patient's lesion voxels, the mean rise over the aerated lung (below -500 HU, outside the
 * mask) within two pixels in the same slice is above 90 HU for every patient (104 HU at
 * least over these 24; without the ground glass's floor over its local lung 49 HU, and below
 * 90 for 7 of them). */
static void
test_ground_glass_rise (void)
{
  double lowest = INFINITY;
  for (uint64_t seed = 1; seed <= 24; seed++)
    {
      NnVolume *v, *m;
      volume (NN_SYNTH_CT2_COVID, seed, false, &v, &m);
      double sum = 0.0;
      int n = 0;
      for (int k = 0; k < NZ; k++)
        for (int i = 0; i < SIZE; i++)
          for (int j = 0; j < SIZE; j++)
            {
              size_t p = ((size_t) k * SIZE + i) * SIZE + j;
              if (m->data[p] == 0.0f)
                continue;
              double ring = 0.0;
              int nr = 0;
              for (int di = -2; di <= 2; di++)
                for (int dj = -2; dj <= 2; dj++)
                  {
                    int a = i + di, b = j + dj;
                    if (a < 0 || b < 0 || a >= SIZE || b >= SIZE)
                      continue;
                    size_t q = ((size_t) k * SIZE + a) * SIZE + b;
                    if (m->data[q] == 0.0f && v->data[q] < -500.0f)
                      {
                        ring += v->data[q];
                        nr++;
                      }
                  }
              if (nr > 0)
                {
                  sum += v->data[p] - ring / nr;
                  n++;
                }
            }
      g_assert_cmpint (n, >, 0);
      g_test_message ("seed %d: lesion voxels %.0f HU above the lung around them (%d voxels)",
                      (int) seed, sum / n, n);
      lowest = fmin (lowest, sum / n);
      nn_volume_free (v);
      nn_volume_free (m);
    }
  g_test_message ("lowest mean rise %.0f HU", lowest);
  g_assert_cmpfloat (lowest, >, 90.0);
}

/* The slice a 2-D set takes: a lesion slice for the lesion classes, determined by the seed. */
static void
test_pick_slice (void)
{
  float *hu = g_new (float, SIZE * SIZE), *again = g_new (float, SIZE * SIZE);
  unsigned char *mask = g_new (unsigned char, SIZE * SIZE);
  NnError err = { 0 };
  int found = 0;
  for (uint64_t seed = 1; seed <= 6; seed++)
    for (int cls = 0; cls < NN_SYNTH_CT2_N_CLASSES; cls++)
      {
        NnSynthCt2 *ct = patient ((NnSynthCt2Class) cls, seed, false);
        int k = nn_synth_ct2_pick_slice (ct, 8, hu, mask, &err);
        g_assert_cmpint (k, >=, cls == NN_SYNTH_CT2_HEALTHY ? 0 : -1);
        g_assert_cmpint (k, <, NZ);
        if (k < 0)
          {
            nn_synth_ct2_free (ct);
            continue;
          }
        int area = 0;
        for (int p = 0; p < SIZE * SIZE; p++)
          area += mask[p];
        if (cls == NN_SYNTH_CT2_HEALTHY)
          g_assert_cmpint (area, ==, 0);
        else
          {
            g_assert_cmpint (area, >=, 8);
            found++;
          }
        g_assert_true (nn_synth_ct2_slice (ct, k, again, mask, &err));
        g_assert_cmpmem (hu, SIZE * SIZE * sizeof (float), again, SIZE * SIZE * sizeof (float));
        nn_synth_ct2_free (ct);
      }
  g_assert_cmpint (found, >=, 10);
  g_free (hu);
  g_free (again);
  g_free (mask);
}

/* LPS voxels with the drawn spacing: i toward the patient's left, j posterior, k superior. */
static void
test_geometry (void)
{
  NnSynthCt2 *ct = patient (NN_SYNTH_CT2_HEALTHY, 3, false);
  const NnSynthCt2Info *info = nn_synth_ct2_info (ct);
  g_assert_cmpfloat (fabs (info->pixel_mm - 400.0 / SIZE), <, 1e-9);
  g_assert_cmpfloat (info->slice_mm, >, 3.0);
  g_assert_cmpfloat (info->slice_mm, <, 15.0);
  NnVolume *v, *m;
  NnError err = { 0 };
  g_assert_true (nn_synth_ct2_volume (ct, &v, &m, &err));
  char codes[4];
  nn_volume_orientation (v, codes);
  g_assert_cmpstr (codes, ==, "LPS");
  g_assert_true (v->hu);
  g_assert_cmpfloat (fabs (v->spacing[2] - info->slice_mm), <, 1e-9);
  nn_volume_orientation (m, codes);
  g_assert_cmpstr (codes, ==, "LPS");
  nn_volume_free (v);
  nn_volume_free (m);
  nn_synth_ct2_free (ct);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/synth-ct2/deterministic", test_deterministic);
  g_test_add_func ("/nn/synth-ct2/anatomy-along-z", test_anatomy_along_z);
  g_test_add_func ("/nn/synth-ct2/masks", test_masks);
  g_test_add_func ("/nn/synth-ct2/ground-glass-rise", test_ground_glass_rise);
  g_test_add_func ("/nn/synth-ct2/pick-slice", test_pick_slice);
  g_test_add_func ("/nn/synth-ct2/geometry", test_geometry);
  return g_test_run ();
}
