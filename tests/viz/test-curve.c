/* SPDX-License-Identifier: MIT */
/* Line plots: a series lands where its values say inside the plot rectangle, dashed series
 * leave gaps, values outside the range are clipped, values at the ends of the range are drawn
 * whole inside the frame, and the cairo state is restored. */
#include <glib.h>
#include <math.h>

#include "test-pixel.h"
#include "viz.h"

#define W 300
#define H 200

static cairo_surface_t *
draw (const VizCurve *curve,
      double          rect[4])
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (s);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  VizStyle style;
  viz_style_init (&style);
  cairo_set_source_rgb (cr, 0.25, 0.5, 0.75);
  viz_curve_draw (cr, curve, &style, W, H);
  /* The source set before the call is back. */
  double r, g, b, a;
  g_assert_cmpint (cairo_pattern_get_rgba (cairo_get_source (cr), &r, &g, &b, &a), ==,
                   CAIRO_STATUS_SUCCESS);
  g_assert_cmpfloat (fabs (r - 0.25) + fabs (g - 0.5) + fabs (b - 0.75), <, 1e-9);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  viz_curve_plot_rect (curve, &style, W, H, rect);
  return s;
}

static gboolean
is_red (uint32_t p)
{
  return ((p >> 16) & 0xff) > 200 && ((p >> 8) & 0xff) < 60 && (p & 0xff) < 60;
}

static void
test_line_position (void)
{
  /* y = 0.25 everywhere from x = 0 to 1, on [0, 1] x [0, 1]; a second series above the range. */
  const float x[2] = { 0.0f, 1.0f }, y[2] = { 0.25f, 0.25f }, high[2] = { 2.0f, 2.0f };
  VizCurveSeries series[2] = {
    { .x = x, .y = y, .n = 2, .rgba = { 1, 0, 0, 1 } },
    { .x = x, .y = high, .n = 2, .rgba = { 1, 0, 0, 1 } },
  };
  VizCurve curve = { series, 2, 0.0, 1.0, 0.0, 1.0, NULL };
  double r[4];
  cairo_surface_t *s = draw (&curve, r);
  g_assert_cmpfloat (r[2], >, 100.0);
  g_assert_cmpfloat (r[3], >, 80.0);
  double line_y = r[1] + 0.75 * r[3];
  int hits = 0;
  for (int i = 1; i < 10; i++)
    hits += is_red (test_pixel_at (s, r[0] + r[2] * i / 10.0, line_y));
  g_assert_cmpint (hits, ==, 9);
  /* Nothing red halfway between the line and the top: the line is where its value says, and
   * the out-of-range series is clipped away. */
  for (int i = 1; i < 10; i++)
    {
      g_assert_false (is_red (test_pixel_at (s, r[0] + r[2] * i / 10.0, r[1] + 0.4 * r[3])));
      g_assert_false (is_red (test_pixel_at (s, r[0] + r[2] * i / 10.0, r[1] - 2.0)));
    }
  cairo_surface_destroy (s);
}

static gboolean
is_dark (uint32_t p)
{
  return ((p >> 16) & 0xff) < 128 && ((p >> 8) & 0xff) < 128 && (p & 0xff) < 128;
}

/* How many pixel rows of red column x has around y: the width of a horizontal red line there
 * (from how far the green channel falls below white). */
static double
red_coverage (cairo_surface_t *s,
              double           x,
              double           y)
{
  double rows = 0.0;
  for (double dy = -2.0; dy <= 2.0; dy += 1.0)
    rows += (255.0 - ((test_pixel_at (s, x, y + dy) >> 8) & 0xff)) / 255.0;
  return rows;
}

/* Whether some pixel of column x between rows y0 and y1 (y0 < y1) is dark: the frame. */
static gboolean
frame_between (cairo_surface_t *s,
               double           x,
               double           y0,
               double           y1)
{
  for (double y = y0; y <= y1; y += 1.0)
    if (is_dark (test_pixel_at (s, x, y)))
      return TRUE;
  return FALSE;
}

static void
test_range_ends (void)
{
  /* Probabilities of exactly 1 and exactly 0 (a deletion curve that never moves): both lines
   * are drawn whole, inside the frame, which stays visible beyond them. */
  const float x[2] = { 0.0f, 1.0f }, one[2] = { 1.0f, 1.0f }, zero[2] = { 0.0f, 0.0f };
  VizCurveSeries series[2] = {
    { .x = x, .y = one, .n = 2, .rgba = { 1, 0, 0, 1 } },
    { .x = x, .y = zero, .n = 2, .rgba = { 1, 0, 0, 1 } },
  };
  VizCurve curve = { series, 2, 0.0, 1.0, 0.0, 1.0, NULL };
  double r[4];
  cairo_surface_t *s = draw (&curve, r);
  double top = r[1], bottom = r[1] + r[3];
  for (int i = 1; i < 10; i++)
    {
      double px = r[0] + r[2] * i / 10.0;
      /* The 2-px lines are drawn whole, not cut in half by the frame. */
      g_assert_cmpfloat (red_coverage (s, px, top), >, 1.6);
      g_assert_cmpfloat (red_coverage (s, px, bottom), >, 1.6);
      g_assert_true (frame_between (s, px, top - 8.0, top - 1.5));
      g_assert_true (frame_between (s, px, bottom + 1.5, bottom + 8.0));
    }
  cairo_surface_destroy (s);
}

static void
test_dashed (void)
{
  const float x[2] = { 0.0f, 1.0f }, y[2] = { 0.5f, 0.5f };
  VizCurveSeries series = { .x = x, .y = y, .n = 2, .rgba = { 1, 0, 0, 1 }, .dashed = true };
  VizCurve curve = { &series, 1, 0.0, 1.0, 0.0, 1.0, NULL };
  double r[4];
  cairo_surface_t *s = draw (&curve, r);
  int on = 0, off = 0;
  double y_mid = r[1] + 0.5 * r[3];
  for (double px = r[0] + 2.0; px < r[0] + r[2] - 2.0; px += 1.0)
    is_red (test_pixel_at (s, px, y_mid)) ? on++ : off++;
  g_assert_cmpint (on, >, 0);
  g_assert_cmpint (off, >, 0);
  cairo_surface_destroy (s);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/curve/line-position", test_line_position);
  g_test_add_func ("/viz/curve/range-ends", test_range_ends);
  g_test_add_func ("/viz/curve/dashed", test_dashed);
  return g_test_run ();
}
