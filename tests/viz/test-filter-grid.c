/* SPDX-License-Identifier: MIT */
/* Filter grid: kernels summed over input channels or sliced, the shared symmetric scale, and
 * the drawn colours (positive red, negative blue, zero white). */
#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "test-pixel.h"
#include "viz.h"

/* Weights (OC 3, IC 2, 3, 3): w[o][i][j] = (o + 1) * (i == 0 ? 1 : -0.5) * (j - 4). */
static void
fill_weights (float w[3 * 2 * 9])
{
  for (int o = 0; o < 3; o++)
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 9; j++)
        w[(o * 2 + i) * 9 + j] = (float) ((o + 1) * (i == 0 ? 1.0 : -0.5) * (j - 4));
}

static void
test_maps (void)
{
  float w[3 * 2 * 9];
  fill_weights (w);
  VizFilterGrid grid = { w, 3, 2, 3, 3, -1, -1 };
  VizColormap cm;
  float *maps = viz_filter_grid_maps_new (&grid, &cm);
  g_assert_nonnull (maps);
  /* Summed: (o + 1) * 0.5 * (j - 4); the largest magnitude is 3 * 0.5 * 4 = 6. */
  for (int o = 0; o < 3; o++)
    for (int j = 0; j < 9; j++)
      g_assert_cmpfloat (maps[o * 9 + j], ==, (float) ((o + 1) * 0.5 * (j - 4)));
  g_assert_cmpint (cm.kind, ==, VIZ_COLORMAP_DIVERGING);
  g_assert_cmpfloat (cm.hi, ==, 6.0);
  g_assert_cmpfloat (cm.lo, ==, -6.0);
  free (maps);

  grid.input_channel = 1;
  maps = viz_filter_grid_maps_new (&grid, &cm);
  for (int o = 0; o < 3; o++)
    for (int j = 0; j < 9; j++)
      g_assert_cmpfloat (maps[o * 9 + j], ==, w[(o * 2 + 1) * 9 + j]);
  g_assert_cmpfloat (cm.hi, ==, 6.0);
  free (maps);
}

static void
test_draw (void)
{
  float w[3 * 2 * 9];
  fill_weights (w);
  VizFilterGrid grid = { w, 3, 2, 3, 3, 0, -1 };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 300, 200);
  cairo_t *cr = cairo_create (surface);
  viz_filter_grid_draw (cr, &grid, &style, 300, 200);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);

  /* The same layout as a tile grid of (3, 3, 3). */
  VizColormap cm;
  float *maps = viz_filter_grid_maps_new (&grid, &cm);
  VizTileGrid tiles = { .data = maps, .c = 3, .h = 3, .w = 3, .colormap = &cm, .selected = -1 };
  VizTileGridLayout layout;
  viz_tile_grid_layout (&layout, &tiles, &style, 300, 200);
  double r[4];
  viz_tile_grid_tile_rect (&layout, 2, r);
  double s = r[2] / 3;
  /* Channel 2, input 0: weights 3 * (j - 4): j = 8 is the maximum (pure top colour, red),
   * j = 0 the minimum (blue), j = 4 is zero (white). */
  uint32_t max = test_pixel_at (surface, r[0] + 2.5 * s, r[1] + 2.5 * s);
  uint32_t min = test_pixel_at (surface, r[0] + 0.5 * s, r[1] + 0.5 * s);
  uint32_t zero = test_pixel_at (surface, r[0] + 1.5 * s, r[1] + 1.5 * s);
  g_assert_cmpuint (max, ==, cm.lut[VIZ_COLORMAP_LUT_SIZE - 1]);
  g_assert_cmpuint (min, ==, cm.lut[0]);
  g_assert_cmpint ((int) ((max >> 16) & 0xff), >, (int) (max & 0xff));
  g_assert_cmpint ((int) (min & 0xff), >, (int) ((min >> 16) & 0xff));
  for (int shift = 0; shift < 24; shift += 8)
    g_assert_cmpint ((int) ((zero >> shift) & 0xff), >, 235);
  free (maps);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/filter-grid/maps", test_maps);
  g_test_add_func ("/viz/filter-grid/draw", test_draw);
  return g_test_run ();
}
