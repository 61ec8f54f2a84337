/* SPDX-License-Identifier: MIT */
/* Colormaps: ends of the sequential map, monotonic and even lightness, the diverging map's
 * white centre and symmetry, ranges bound to data, the pixel table. */
#include <glib.h>
#include <math.h>

#include "viz.h"

static double
srgb_decode (double v)
{
  return v <= 0.04045 ? v / 12.92 : pow ((v + 0.055) / 1.055, 2.4);
}

/* Relative luminance Y (Rec. 709 primaries) of an sRGB colour. */
static double
luminance (const double rgb[3])
{
  return 0.2126 * srgb_decode (rgb[0]) + 0.7152 * srgb_decode (rgb[1])
         + 0.0722 * srgb_decode (rgb[2]);
}

/* CIE L* from Y. */
static double
lightness (const double rgb[3])
{
  double y = luminance (rgb);
  return y > 216.0 / 24389.0 ? 116.0 * cbrt (y) - 16.0 : y * 24389.0 / 27.0;
}

static void
test_sequential_endpoints (void)
{
  double lo[3], hi[3], below[3], above[3];
  viz_colormap_eval (VIZ_COLORMAP_SEQUENTIAL, 0.0, lo);
  viz_colormap_eval (VIZ_COLORMAP_SEQUENTIAL, 1.0, hi);
  /* Dark violet at the bottom: blue above green, little light. */
  g_assert_cmpfloat (luminance (lo), <, 0.03);
  g_assert_cmpfloat (lo[2], >, lo[1]);
  g_assert_cmpfloat (lo[0], >, lo[1]);
  /* Bright yellow at the top: red and green high, blue low. */
  g_assert_cmpfloat (luminance (hi), >, 0.7);
  g_assert_cmpfloat (hi[0], >, 0.85);
  g_assert_cmpfloat (hi[1], >, 0.85);
  g_assert_cmpfloat (hi[2], <, 0.35);
  /* Out-of-range positions clamp to the ends. */
  viz_colormap_eval (VIZ_COLORMAP_SEQUENTIAL, -3.0, below);
  viz_colormap_eval (VIZ_COLORMAP_SEQUENTIAL, 7.0, above);
  for (int i = 0; i < 3; i++)
    {
      g_assert_cmpfloat (below[i], ==, lo[i]);
      g_assert_cmpfloat (above[i], ==, hi[i]);
      g_assert_cmpfloat (lo[i], >=, 0.0);
      g_assert_cmpfloat (hi[i], <=, 1.0);
    }
}

static void
test_sequential_monotonic (void)
{
  const int n = 1000;
  double prev_y = -1.0, prev_l = 0.0;
  double min_step = INFINITY, max_step = 0.0;
  for (int i = 0; i <= n; i++)
    {
      double rgb[3];
      viz_colormap_eval (VIZ_COLORMAP_SEQUENTIAL, (double) i / n, rgb);
      double y = luminance (rgb), l = lightness (rgb);
      g_assert_cmpfloat (y, >, prev_y);
      if (i > 0)
        {
          min_step = fmin (min_step, l - prev_l);
          max_step = fmax (max_step, l - prev_l);
        }
      prev_y = y;
      prev_l = l;
    }
  /* Perceptually even: lightness steps of equal value steps stay within a factor of 2. */
  g_assert_cmpfloat (min_step, >, 0.0);
  g_assert_cmpfloat (max_step / min_step, <, 2.0);
}

static void
test_diverging_centre_and_symmetry (void)
{
  double mid[3];
  viz_colormap_eval (VIZ_COLORMAP_DIVERGING, 0.0, mid);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (mid[i], >, 0.93);
  g_assert_cmpfloat (fabs (mid[0] - mid[2]), <, 0.02);

  double prev_y = luminance (mid);
  for (int i = 1; i <= 20; i++)
    {
      double t = i / 20.0, neg[3], pos[3];
      viz_colormap_eval (VIZ_COLORMAP_DIVERGING, -t, neg);
      viz_colormap_eval (VIZ_COLORMAP_DIVERGING, t, pos);
      /* Blue below zero, red above, equally light at equal distances from zero. */
      g_assert_cmpfloat (neg[2], >, neg[0]);
      g_assert_cmpfloat (pos[0], >, pos[2]);
      g_assert_cmpfloat (fabs (lightness (neg) - lightness (pos)), <, 3.0);
      /* Lightness falls away from the centre on both sides. */
      g_assert_cmpfloat (luminance (pos), <, prev_y);
      prev_y = luminance (pos);
    }
  double end[3];
  viz_colormap_eval (VIZ_COLORMAP_DIVERGING, 1.0, end);
  g_assert_cmpfloat (end[0], >, 0.6);
  g_assert_cmpfloat (end[1], <, 0.3);
}

static void
test_ranges (void)
{
  const float data[] = { 2.0f, -0.5f, NAN, 7.5f, INFINITY, 1.0f };
  VizColormap cm;
  viz_colormap_init_for_data (&cm, VIZ_COLORMAP_SEQUENTIAL, data, G_N_ELEMENTS (data));
  g_assert_cmpfloat (cm.lo, ==, -0.5);
  g_assert_cmpfloat (cm.hi, ==, 7.5);
  g_assert_cmpfloat (viz_colormap_position (&cm, 7.5), ==, 1.0);
  g_assert_cmpfloat (viz_colormap_position (&cm, 100.0), ==, 1.0);
  g_assert_cmpfloat (viz_colormap_position (&cm, 3.5), ==, 0.5);
  g_assert_cmpuint (viz_colormap_pixel (&cm, 7.5f), ==, cm.lut[VIZ_COLORMAP_LUT_SIZE - 1]);
  g_assert_cmpuint (viz_colormap_pixel (&cm, -0.5f), ==, cm.lut[0]);
  g_assert_cmpuint (viz_colormap_pixel (&cm, NAN), ==, 0xff808080u);

  viz_colormap_init_for_data (&cm, VIZ_COLORMAP_DIVERGING, data, G_N_ELEMENTS (data));
  g_assert_cmpfloat (cm.lo, ==, -7.5);
  g_assert_cmpfloat (cm.hi, ==, 7.5);
  g_assert_cmpfloat (viz_colormap_position (&cm, 0.0), ==, 0.0);
  g_assert_cmpfloat (viz_colormap_position (&cm, -7.5), ==, -1.0);

  /* Constant data still gives a readable range, with the value at the bottom. */
  const float flat[] = { 3.0f, 3.0f };
  viz_colormap_init_for_data (&cm, VIZ_COLORMAP_SEQUENTIAL, flat, 2);
  g_assert_cmpfloat (cm.lo, ==, 3.0);
  g_assert_cmpfloat (cm.hi, ==, 4.0);
  viz_colormap_init (&cm, VIZ_COLORMAP_DIVERGING, 0.0, 0.0);
  g_assert_cmpfloat (cm.hi, ==, 1.0);
  viz_colormap_init (&cm, VIZ_COLORMAP_SEQUENTIAL, 5.0, 1.0);
  g_assert_cmpfloat (cm.lo, ==, 1.0);
  g_assert_cmpfloat (cm.hi, ==, 5.0);
}

static void
test_lut_matches_eval (void)
{
  VizColormap cm;
  viz_colormap_init (&cm, VIZ_COLORMAP_DIVERGING, -2.0, 2.0);
  for (int i = 0; i < VIZ_COLORMAP_LUT_SIZE; i += 17)
    {
      double rgb[3];
      viz_colormap_eval (VIZ_COLORMAP_DIVERGING, 2.0 * i / (VIZ_COLORMAP_LUT_SIZE - 1) - 1.0,
                         rgb);
      uint32_t p = cm.lut[i];
      g_assert_cmpuint (p >> 24, ==, 0xff);
      g_assert_cmpint ((int) ((p >> 16) & 0xff), ==, (int) lround (rgb[0] * 255.0));
      g_assert_cmpint ((int) ((p >> 8) & 0xff), ==, (int) lround (rgb[1] * 255.0));
      g_assert_cmpint ((int) (p & 0xff), ==, (int) lround (rgb[2] * 255.0));
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/colormap/sequential-endpoints", test_sequential_endpoints);
  g_test_add_func ("/viz/colormap/sequential-monotonic-lightness", test_sequential_monotonic);
  g_test_add_func ("/viz/colormap/diverging-centre-symmetry", test_diverging_centre_and_symmetry);
  g_test_add_func ("/viz/colormap/ranges", test_ranges);
  g_test_add_func ("/viz/colormap/lut-matches-eval", test_lut_matches_eval);
  return g_test_run ();
}
