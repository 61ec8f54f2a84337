/* SPDX-License-Identifier: MIT */
/* Line plots: the data's range, the mapping of points, the line drawn in its colour where the
 * data is and nowhere else, the axes in the foreground colour, and the cairo state restored. */
#include <glib.h>
#include <math.h>

#include "test-pixel.h"
#include "viz.h"

#define W 400
#define H 300

static int
channel (uint32_t p,
         int      shift)
{
  return (int) ((p >> shift) & 0xff);
}

static void
test_layout (void)
{
  double x[] = { 1.0, 2.0, 3.0, 4.0 };
  double y[] = { 2.0, NAN, 0.0, 1.0 };
  VizPlotSeries s = { .x = x, .y = y, .n = 4, .color = { 1, 0, 0, 1 } };
  VizPlot plot = { .title = "loss", .series = &s, .n_series = 1 };
  VizStyle style;
  viz_style_init (&style);
  VizPlotLayout l;
  viz_plot_layout (&l, &plot, &style, W, H);
  /* x from the data; y from the data with 5 % room each side; NaN is skipped. */
  g_assert_cmpfloat (l.x_lo, ==, 1.0);
  g_assert_cmpfloat (l.x_hi, ==, 4.0);
  g_assert_cmpfloat_with_epsilon (l.y_lo, -0.1, 1e-12);
  g_assert_cmpfloat_with_epsilon (l.y_hi, 2.1, 1e-12);
  g_assert_cmpfloat (l.area[0], >, 0.0);
  g_assert_cmpfloat (l.area[1], >, 0.0);
  g_assert_cmpfloat (l.area[0] + l.area[2], <, W);
  g_assert_cmpfloat (l.area[1] + l.area[3], <, H);

  /* The corners of the ranges land on the corners of the area, y upwards. */
  double px, py;
  viz_plot_map (&l, l.x_lo, l.y_lo, &px, &py);
  g_assert_cmpfloat_with_epsilon (px, l.area[0], 1e-9);
  g_assert_cmpfloat_with_epsilon (py, l.area[1] + l.area[3], 1e-9);
  viz_plot_map (&l, l.x_hi, l.y_hi, &px, &py);
  g_assert_cmpfloat_with_epsilon (px, l.area[0] + l.area[2], 1e-9);
  g_assert_cmpfloat_with_epsilon (py, l.area[1], 1e-9);

  /* Fixed ranges win over the data. */
  plot.y_lo = 0.0;
  plot.y_hi = 1.0;
  viz_plot_layout (&l, &plot, &style, W, H);
  g_assert_cmpfloat (l.y_lo, ==, 0.0);
  g_assert_cmpfloat (l.y_hi, ==, 1.0);

  /* Without points the axes still have a range: 0 to 1 on both. */
  VizPlot empty = { .series = NULL, .n_series = 0 };
  viz_plot_layout (&l, &empty, &style, W, H);
  g_assert_cmpfloat (l.x_lo, ==, 0.0);
  g_assert_cmpfloat (l.x_hi, ==, 1.0);
  g_assert_cmpfloat (l.y_lo, ==, 0.0);
  g_assert_cmpfloat (l.y_hi, ==, 1.0);
}

static void
test_draw (void)
{
  /* A red line from (0, 0) to (10, 10) on fixed ranges 0 .. 10. */
  double y[] = { 0.0, 10.0 };
  double x[] = { 0.0, 10.0 };
  VizPlotSeries s = { .x = x, .y = y, .n = 2, .color = { 1, 0, 0, 1 }, .line_width = 3.0,
                      .label = "train" };
  VizPlot plot = { .title = "A line", .x_label = "step", .y_label = "value", .series = &s,
                   .n_series = 1, .x_lo = 0.0, .x_hi = 10.0, .y_lo = 0.0, .y_hi = 10.0 };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (surface);
  cairo_set_line_width (cr, 7.0);
  cairo_set_source_rgb (cr, 0.0, 1.0, 0.0);
  viz_plot_draw (cr, &plot, &style, W, H);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);

  /* The state is as it was: line width and source. */
  g_assert_cmpfloat (cairo_get_line_width (cr), ==, 7.0);
  double r, g, b, a;
  g_assert_cmpint (cairo_pattern_get_rgba (cairo_get_source (cr), &r, &g, &b, &a), ==,
                   CAIRO_STATUS_SUCCESS);
  g_assert_cmpfloat (g, ==, 1.0);
  g_assert_cmpfloat (r, ==, 0.0);

  VizPlotLayout l;
  viz_plot_layout (&l, &plot, &style, W, H);
  /* On the line (its middle, and a quarter along): red. */
  for (double t = 2.5; t <= 7.5; t += 2.5)
    {
      double px, py;
      viz_plot_map (&l, t, t, &px, &py);
      uint32_t p = test_pixel_at (surface, px, py);
      g_assert_cmpint (channel (p, 16), >, 200);
      g_assert_cmpint (channel (p, 8), <, 60);
      g_assert_cmpint (channel (p, 0), <, 60);
    }
  /* Off the line, inside the area, away from grid lines: the white background. */
  double px, py;
  viz_plot_map (&l, 7.3, 1.3, &px, &py);
  uint32_t bg = test_pixel_at (surface, px, py);
  for (int shift = 0; shift < 24; shift += 8)
    g_assert_cmpint (channel (bg, shift), ==, 255);
  /* The x axis is a dark line along the area's bottom, the y axis along its left. */
  uint32_t axis = test_pixel_at (surface, l.area[0] + 0.5 * l.area[2], l.area[1] + l.area[3]);
  g_assert_cmpint (channel (axis, 8), <, 80);
  axis = test_pixel_at (surface, l.area[0], l.area[1] + 0.5 * l.area[3]);
  g_assert_cmpint (channel (axis, 8), <, 80);
  /* Tick labels left of the y axis: some dark pixels there. */
  int dark = 0;
  for (double yy = l.area[1]; yy < l.area[1] + l.area[3]; yy += 1.0)
    for (double xx = 2.0; xx < l.area[0] - 6.0; xx += 1.0)
      dark += channel (test_pixel_at (surface, xx, yy), 8) < 128;
  g_assert_cmpint (dark, >, 20);

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_markers_and_gaps (void)
{
  /* Two points with a NaN between them: no line joins them, but each has its marker. */
  double y[] = { 1.0, NAN, 1.0 };
  VizPlotSeries s = { .y = y, .n = 3, .color = { 0, 0, 1, 1 }, .markers = true };
  VizPlot plot = { .series = &s, .n_series = 1, .y_lo = 0.0, .y_hi = 2.0 };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (surface);
  viz_plot_draw (cr, &plot, &style, W, H);
  VizPlotLayout l;
  viz_plot_layout (&l, &plot, &style, W, H);
  double px, py;
  viz_plot_map (&l, 0.0, 1.0, &px, &py);
  g_assert_cmpint (channel (test_pixel_at (surface, px + 1.0, py), 0), >, 200);
  g_assert_cmpint (channel (test_pixel_at (surface, px + 1.0, py), 16), <, 60);
  viz_plot_map (&l, 2.0, 1.0, &px, &py);
  g_assert_cmpint (channel (test_pixel_at (surface, px - 1.0, py), 0), >, 200);
  viz_plot_map (&l, 1.0, 1.0, &px, &py);
  uint32_t mid = test_pixel_at (surface, px, py);
  g_assert_cmpint (channel (mid, 16), >, 200);  /* white: the gap */
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/plot/layout", test_layout);
  g_test_add_func ("/viz/plot/draw", test_draw);
  g_test_add_func ("/viz/plot/markers-and-gaps", test_markers_and_gaps);
  return g_test_run ();
}
