/* SPDX-License-Identifier: MIT */
/* ROC curves: a perfect class runs up the left edge and along the top in its class colour, a
 * class without a curve is skipped, the chance diagonal is drawn, and the cairo state is
 * restored. */
#include <glib.h>
#include <math.h>

#include "test-pixel.h"
#include "viz.h"

#define W 360
#define H 300

static gboolean
near_rgb (uint32_t      p,
          const double *rgb)
{
  double r = ((p >> 16) & 0xff) / 255.0, g = ((p >> 8) & 0xff) / 255.0, b = (p & 0xff) / 255.0;
  return fabs (r - rgb[0]) < 0.12 && fabs (g - rgb[1]) < 0.12 && fabs (b - rgb[2]) < 0.12;
}

static void
test_curves (void)
{
  const float fpr0[3] = { 0.0f, 0.0f, 1.0f }, tpr0[3] = { 0.0f, 1.0f, 1.0f };
  const float *fpr[2] = { fpr0, NULL }, *tpr[2] = { tpr0, NULL };
  const long n_points[2] = { 3, 0 };
  const double auc[2] = { 1.0, NAN };
  const char *labels[2] = { "covid", "other" };
  VizRoc roc = { 2, fpr, tpr, n_points, auc, labels, "ROC" };

  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (s);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  VizStyle style;
  viz_style_init (&style);
  cairo_set_source_rgb (cr, 0.25, 0.5, 0.75);
  viz_roc_draw (cr, &roc, &style, W, H);
  double r, g, b, a;
  g_assert_cmpint (cairo_pattern_get_rgba (cairo_get_source (cr), &r, &g, &b, &a), ==,
                   CAIRO_STATUS_SUCCESS);
  g_assert_cmpfloat (fabs (r - 0.25) + fabs (g - 0.5) + fabs (b - 0.75), <, 1e-9);
  cairo_destroy (cr);
  cairo_surface_flush (s);

  /* The same plot rectangle as viz-curve's for the unit square. */
  VizCurveSeries none = { 0 };
  VizCurve frame = { &none, 0, 0.0, 1.0, 0.0, 1.0, "ROC" };
  double rect[4];
  viz_curve_plot_rect (&frame, &style, W, H, rect);
  double colour[3];
  viz_scatter_class_rgb (0, colour);
  /* Up the left edge (x = 0) and along the top (y = 1), a quarter of the way in. */
  g_assert_true (near_rgb (test_pixel_at (s, rect[0], rect[1] + 0.75 * rect[3]), colour));
  g_assert_true (near_rgb (test_pixel_at (s, rect[0] + 0.25 * rect[2], rect[1]), colour));
  /* The dashed chance line: grey somewhere along the diagonal, not the class colour. */
  const double grey[3] = { 0.55, 0.55, 0.55 };
  int on_diagonal = 0;
  for (int i = 1; i < 40; i++)
    {
      double t = i / 40.0;
      uint32_t p = test_pixel_at (s, rect[0] + t * rect[2], rect[1] + (1.0 - t) * rect[3]);
      g_assert_false (near_rgb (p, colour));
      on_diagonal += near_rgb (p, grey);
    }
  g_assert_cmpint (on_diagonal, >=, 10);
  cairo_surface_destroy (s);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/roc/curves", test_curves);
  return g_test_run ();
}
