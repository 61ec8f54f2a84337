/* SPDX-License-Identifier: MIT */
/* Matrix heat map: each cell in its value's colour on the diverging map (positive red, negative
 * blue, zero white), the selected row outlined in the accent colour, hit testing by row, and
 * the cairo state restored. */
#include <glib.h>

#include "test-pixel.h"
#include "viz.h"

#define W 400
#define H 300

static void
test_draw (void)
{
  /* 3 x 4: v[r][c] = (c - 1.5) * (r + 1), from -4.5 to 4.5. */
  float v[12];
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++)
      v[r * 4 + c] = (float) ((c - 1.5) * (r + 1));
  VizColormap cm;
  viz_colormap_init_for_data (&cm, VIZ_COLORMAP_DIVERGING, v, 12);
  g_assert_cmpfloat (cm.hi, ==, 4.5);
  VizMatrix m = { v, 3, 4, &cm, 1, "output", "input" };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (surface);
  cairo_set_line_width (cr, 3.0);
  viz_matrix_draw (cr, &m, &style, W, H);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpfloat (cairo_get_line_width (cr), ==, 3.0);

  double a[4];
  viz_matrix_area (&m, &style, W, H, a);
  double cell = a[2] / 4;
  g_assert_cmpfloat (cell, >, 10.0);
  g_assert_cmpfloat_with_epsilon (a[3], 3 * cell, 1e-9);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++)
      {
        uint32_t p = test_pixel_at (surface, a[0] + (c + 0.5) * cell, a[1] + (r + 0.5) * cell);
        g_assert_cmpuint (p, ==, viz_colormap_pixel (&cm, v[r * 4 + c]));
      }
  /* Row 2's right end is the largest value: the map's top colour, red. */
  uint32_t top = test_pixel_at (surface, a[0] + 3.5 * cell, a[1] + 2.5 * cell);
  g_assert_cmpuint (top, ==, cm.lut[VIZ_COLORMAP_LUT_SIZE - 1]);
  g_assert_cmpint ((int) ((top >> 16) & 0xff), >, (int) (top & 0xff));

  /* The outline of row 1 just left of the matrix, in the accent colour (orange). */
  uint32_t outline = test_pixel_at (surface, a[0] - 1.0, a[1] + 1.5 * cell);
  g_assert_cmpint ((int) ((outline >> 16) & 0xff), >, 180);
  g_assert_cmpint ((int) (outline & 0xff), <, 100);
  /* Row 0 has none there. */
  uint32_t plain = test_pixel_at (surface, a[0] - 1.0, a[1] + 0.5 * cell);
  g_assert_cmpuint (plain, !=, outline);

  g_assert_cmpint (viz_matrix_hit_row (&m, &style, W, H, a[0] + 1.0, a[1] + 2.5 * cell), ==, 2);
  g_assert_cmpint (viz_matrix_hit_row (&m, &style, W, H, a[0] - 5.0, a[1] + 2.5 * cell), ==,
                   -1);
  g_assert_cmpint (viz_matrix_hit_row (&m, &style, W, H, a[0] + 1.0, a[1] + a[3] + 2.0), ==,
                   -1);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_stays_in_box (void)
{
  /* Drawn into the right half of a black surface, it leaves the left half black: a figure
   * can put it beside other drawings. */
  float v[4] = { -1.0f, 0.0f, 0.5f, 1.0f };
  VizColormap cm;
  viz_colormap_init_for_data (&cm, VIZ_COLORMAP_DIVERGING, v, 4);
  VizMatrix m = { v, 2, 2, &cm, -1, NULL, NULL };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 0.0, 0.0, 0.0);
  cairo_paint (cr);
  cairo_translate (cr, W / 2, 0.0);
  viz_matrix_draw (cr, &m, &style, W / 2, H);
  g_assert_cmpuint (test_pixel_at (surface, 10.0, 10.0), ==, 0xff000000u);
  g_assert_cmpuint (test_pixel_at (surface, W / 2 - 1, H / 2), ==, 0xff000000u);
  g_assert_cmpuint (test_pixel_at (surface, W / 2 + 1, 1.0), ==, 0xffffffffu);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/matrix/draw", test_draw);
  g_test_add_func ("/viz/matrix/stays-in-box", test_stays_in_box);
  return g_test_run ();
}
