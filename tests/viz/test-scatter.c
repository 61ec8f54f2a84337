/* SPDX-License-Identifier: MIT */
/* The embedding scatter: each dot in its class's colour where viz_scatter_point puts it, a
 * ring only around misclassified samples, colouring by prediction, the legend's swatches, hit
 * tests, and the cairo state restored. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "test-pixel.h"
#include "viz.h"

#define W 480
#define H 360

static const float xy[] = { 0, 0, 10, 0, 0, 10, 10, 10, 5, 5 };
static const int truth[] = { 0, 1, 2, 0, 1 };
static const int pred[] = { 0, 1, 2, 2, 1 };   /* sample 3 is misclassified */
static const char *labels[] = { "shirt", "trouser", "bag" };

static void
assert_rgb (uint32_t      p,
            const double  rgb[3])
{
  for (int k = 0; k < 3; k++)
    g_assert_cmpint (abs ((int) ((p >> (16 - 8 * k)) & 0xff) - (int) lround (255 * rgb[k])),
                     <=, 2);
}

static cairo_surface_t *
draw (const VizScatter *sc,
      const VizStyle   *style)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (surface);
  cairo_set_line_width (cr, 5.0);
  viz_scatter_draw (cr, sc, style, W, H);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpfloat (cairo_get_line_width (cr), ==, 5.0);
  cairo_destroy (cr);
  return surface;
}

static void
test_draw (void)
{
  VizScatter sc = { xy, 5, truth, pred, false, 3, labels, "Feature space",
                    "layer4, t-SNE\nN 5, perplexity 1", "t-SNE 1", "t-SNE 2" };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *surface = draw (&sc, &style);
  const uint32_t white = 0xffffffff;
  for (int i = 0; i < 5; i++)
    {
      double x, y, rgb[3];
      viz_scatter_point (&sc, &style, W, H, i, &x, &y);
      g_assert_cmpfloat (x, >, 0.0);
      g_assert_cmpfloat (x, <, W * 0.8);
      g_assert_cmpfloat (y, >, 2 * viz_text_line_height (&style));
      g_assert_cmpfloat (y, <, H);
      viz_scatter_class_rgb (truth[i], rgb);
      assert_rgb (test_pixel_at (surface, x, y), rgb);
      /* the ring, 5 px out, is drawn only around the misclassified sample */
      uint32_t ring = test_pixel_at (surface, x + 5.0, y);
      if (i == 3)
        g_assert_cmpuint (ring, !=, white);
      else
        g_assert_cmpuint (ring, ==, white);
      g_assert_cmpint (viz_scatter_hit (&sc, &style, W, H, x + 1.0, y - 1.0, 4.0), ==, i);
    }
  g_assert_cmpint (viz_scatter_hit (&sc, &style, W, H, 1.0, 1.0, 4.0), ==, -1);
  /* y grows upwards */
  double x0, y0, x2, y2;
  viz_scatter_point (&sc, &style, W, H, 0, &x0, &y0);
  viz_scatter_point (&sc, &style, W, H, 2, &x2, &y2);
  g_assert_cmpfloat (y2, <, y0);
  g_assert_cmpfloat (x2, ==, x0);
  /* three class colours in the legend column, right of every dot */
  double x1, y1;
  viz_scatter_point (&sc, &style, W, H, 1, &x1, &y1);
  for (int k = 0; k < 3; k++)
    {
      double rgb[3];
      viz_scatter_class_rgb (k, rgb);
      bool found = false;
      for (int py = 0; py < H && !found; py++)
        for (int px = (int) x1 + 10; px < W && !found; px++)
          {
            uint32_t p = test_pixel_at (surface, px + 0.5, py + 0.5);
            found = abs ((int) ((p >> 16) & 0xff) - (int) lround (255 * rgb[0])) <= 2
                    && abs ((int) ((p >> 8) & 0xff) - (int) lround (255 * rgb[1])) <= 2
                    && abs ((int) (p & 0xff) - (int) lround (255 * rgb[2])) <= 2;
          }
      g_assert_true (found);
    }
  cairo_surface_destroy (surface);

  /* coloured by prediction, the misclassified sample takes its predicted class's colour */
  sc.colour_pred = true;
  surface = draw (&sc, &style);
  double x3, y3, rgb[3];
  viz_scatter_point (&sc, &style, W, H, 3, &x3, &y3);
  viz_scatter_class_rgb (2, rgb);
  assert_rgb (test_pixel_at (surface, x3, y3), rgb);
  cairo_surface_destroy (surface);
}

static void
test_palette (void)
{
  /* the first 30 classes all differ */
  for (int a = 0; a < 30; a++)
    for (int b = 0; b < a; b++)
      {
        double ra[3], rb[3];
        viz_scatter_class_rgb (a, ra);
        viz_scatter_class_rgb (b, rb);
        double d = fabs (ra[0] - rb[0]) + fabs (ra[1] - rb[1]) + fabs (ra[2] - rb[2]);
        g_assert_cmpfloat (d, >, 0.02);
      }
}

static void
test_degenerate (void)
{
  /* every point at one place, no predictions, no labels: draws without NaNs */
  const float same[] = { 3, 3, 3, 3 };
  const int t[] = { 0, 1 };
  VizScatter sc = { same, 2, t, NULL, false, 2, NULL, NULL, NULL, NULL, NULL };
  VizStyle style;
  viz_style_init (&style);
  double x, y;
  viz_scatter_point (&sc, &style, W, H, 0, &x, &y);
  g_assert_true (isfinite (x) && isfinite (y));
  cairo_surface_t *surface = draw (&sc, &style);
  double rgb[3];
  viz_scatter_class_rgb (1, rgb);
  assert_rgb (test_pixel_at (surface, x, y), rgb);
  cairo_surface_destroy (surface);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/scatter/draw", test_draw);
  g_test_add_func ("/viz/scatter/palette", test_palette);
  g_test_add_func ("/viz/scatter/degenerate", test_degenerate);
  return g_test_run ();
}
