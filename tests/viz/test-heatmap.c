/* SPDX-License-Identifier: MIT */
/* Attribution overlays: the scale (sequential for positive maps, diverging and symmetric for
 * signed ones, fixed when asked), blended pixel colours at opacity 0, 1 and in between, and
 * the drawing (image fitted left, colour bar right, cairo state restored), and a mask's
 * outline over it. */
#include <glib.h>
#include <math.h>

#include "test-pixel.h"
#include "viz.h"

static int
red (uint32_t p)
{
  return (int) ((p >> 16) & 0xff);
}

static int
green (uint32_t p)
{
  return (int) ((p >> 8) & 0xff);
}

static int
blue (uint32_t p)
{
  return (int) (p & 0xff);
}

static void
test_scale (void)
{
  const float map[4] = { -0.5f, 2.0f, 1.0f, 0.0f };
  VizColormap cm;
  viz_heatmap_colormap_init (&cm, map, 4, false, 0.0);
  g_assert_cmpint (cm.kind, ==, VIZ_COLORMAP_SEQUENTIAL);
  g_assert_cmpfloat (cm.lo, ==, 0.0);
  g_assert_cmpfloat (cm.hi, ==, 2.0);
  viz_heatmap_colormap_init (&cm, map, 4, true, 0.0);
  g_assert_cmpint (cm.kind, ==, VIZ_COLORMAP_DIVERGING);
  g_assert_cmpfloat (cm.lo, ==, -2.0);
  g_assert_cmpfloat (cm.hi, ==, 2.0);
  viz_heatmap_colormap_init (&cm, map, 4, false, 5.0);
  g_assert_cmpfloat (cm.hi, ==, 5.0);
}

static void
test_blend (void)
{
  /* 2 x 2 gray image; the map: 0 and its maximum on the top row. */
  const float image[4] = { 0.0f, 1.0f, 0.5f, 0.5f };
  const float map[4] = { 0.0f, 1.0f, 0.5f, 0.25f };
  VizColormap cm;
  viz_heatmap_colormap_init (&cm, map, 4, false, 0.0);
  VizHeatmap hm = { .image = image, .c = 1, .map = map, .h = 2, .w = 2, .colormap = &cm };
  for (int o = 0; o <= 2; o++)
    {
      hm.opacity = 0.5 * o;
      cairo_surface_t *s = viz_heatmap_surface_new (&hm);
      g_assert_nonnull (s);
      for (int p = 0; p < 4; p++)
        {
          uint32_t got = test_pixel_at (s, p % 2 + 0.5, p / 2 + 0.5);
          uint32_t cp = viz_colormap_pixel (&cm, map[p]);
          double a = hm.opacity;
          g_assert_cmpint (abs (red (got) - (int) lround ((1 - a) * image[p] * 255
                                                          + a * red (cp))), <=, 1);
          g_assert_cmpint (abs (green (got) - (int) lround ((1 - a) * image[p] * 255
                                                            + a * green (cp))), <=, 1);
          g_assert_cmpint (abs (blue (got) - (int) lround ((1 - a) * image[p] * 255
                                                           + a * blue (cp))), <=, 1);
        }
      cairo_surface_destroy (s);
    }
  /* Signed: 0 is white on the diverging map. */
  const float signed_map[4] = { -1.0f, 1.0f, 0.0f, 0.0f };
  viz_heatmap_colormap_init (&cm, signed_map, 4, true, 0.0);
  hm.map = signed_map;
  hm.opacity = 1.0;
  cairo_surface_t *s = viz_heatmap_surface_new (&hm);
  uint32_t white = test_pixel_at (s, 0.5, 1.5);
  g_assert_cmpint (white, ==, viz_colormap_pixel (&cm, 0.0f));
  g_assert_cmpint (red (white), >=, 235);
  g_assert_cmpint (green (white), >=, 235);
  g_assert_cmpint (blue (white), >=, 235);
  uint32_t neg = test_pixel_at (s, 0.5, 0.5), pos = test_pixel_at (s, 1.5, 0.5);
  g_assert_cmpint (blue (neg), >, red (neg));
  g_assert_cmpint (red (pos), >, blue (pos));
  cairo_surface_destroy (s);
  /* Fading: where the map is 0 the image shows (gray 0.5), the ends get the full opacity. */
  hm.fade = true;
  hm.opacity = 0.8;
  s = viz_heatmap_surface_new (&hm);
  uint32_t zero = test_pixel_at (s, 0.5, 1.5);
  g_assert_cmpint (abs (red (zero) - 128), <=, 1);
  g_assert_cmpint (abs (blue (zero) - 128), <=, 1);
  uint32_t end = test_pixel_at (s, 1.5, 0.5), top = viz_colormap_pixel (&cm, 1.0f);
  g_assert_cmpint (abs (red (end) - (int) lround (0.2 * 255 + 0.8 * red (top))), <=, 1);
  cairo_surface_destroy (s);
}

static void
test_draw (void)
{
  enum { N = 8 };
  float image[3 * N * N], map[N * N];
  for (int i = 0; i < 3 * N * N; i++)
    image[i] = 0.0f;
  for (int i = 0; i < N * N; i++)
    map[i] = (float) (i % N);
  VizColormap cm;
  viz_heatmap_colormap_init (&cm, map, N * N, false, 0.0);
  VizHeatmap hm = { .image = image, .c = 3, .map = map, .h = N, .w = N, .colormap = &cm,
                    .opacity = 1.0 };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 300, 200);
  cairo_t *cr = cairo_create (s);
  cairo_set_line_width (cr, 7.0);
  viz_heatmap_draw (cr, &hm, &style, 300, 200);
  g_assert_cmpfloat (cairo_get_line_width (cr), ==, 7.0);
  double img[4], bar[4];
  viz_heatmap_layout (&hm, &style, 300, 200, img, bar);
  g_assert_cmpfloat (fabs (img[2] - img[3]), <, 1e-9);
  g_assert_cmpfloat (bar[0], >, img[0] + img[2]);
  g_assert_cmpfloat (bar[0] + bar[2], <=, 300.0);
  cairo_surface_flush (s);
  /* The left column shows the minimum's colour, the right column the maximum's. */
  uint32_t left = test_pixel_at (s, img[0] + 1, img[1] + 0.5 * img[3]);
  uint32_t right = test_pixel_at (s, img[0] + img[2] - 1, img[1] + 0.5 * img[3]);
  uint32_t lo = viz_colormap_pixel (&cm, 0.0f), hi = viz_colormap_pixel (&cm, (float) (N - 1));
  g_assert_cmpint (abs (red (left) - red (lo)) + abs (blue (left) - blue (lo)), <=, 6);
  g_assert_cmpint (abs (red (right) - red (hi)) + abs (green (right) - green (hi)), <=, 6);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

/* A 2 x 2 square inside a 4 x 4 mask: its outline is the eight unit edges around the square,
 * nothing inside it or outside. */
static void
test_mask_contour (void)
{
  enum { N = 4 };
  const uint8_t mask[N * N] = { 0, 0, 0, 0,
                                0, 1, 1, 0,
                                0, 1, 1, 0,
                                0, 0, 0, 0 };
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (s);
  viz_mask_contour_path (cr, mask, N, N);
  double x0, y0, x1, y1;
  cairo_path_extents (cr, &x0, &y0, &x1, &y1);
  g_assert_cmpfloat (x0, ==, 1.0);
  g_assert_cmpfloat (y0, ==, 1.0);
  g_assert_cmpfloat (x1, ==, 3.0);
  g_assert_cmpfloat (y1, ==, 3.0);
  cairo_path_t *path = cairo_copy_path (cr);
  int moves = 0;
  for (int i = 0; i < path->num_data; i += path->data[i].header.length)
    if (path->data[i].header.type == CAIRO_PATH_MOVE_TO)
      moves++;
  g_assert_cmpint (moves, ==, 8);
  cairo_path_destroy (path);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

/* The mask's outline drawn over the overlay: on the square's edge the line's light green,
 * inside the square the overlay as without a mask. */
static void
test_mask_draw (void)
{
  enum { N = 4 };
  const uint8_t mask[N * N] = { 0, 0, 0, 0,
                                0, 1, 1, 0,
                                0, 1, 1, 0,
                                0, 0, 0, 0 };
  float image[N * N], map[N * N];
  for (int i = 0; i < N * N; i++)
    {
      image[i] = 0.0f;
      map[i] = 0.0f;
    }
  VizColormap cm;
  viz_heatmap_colormap_init (&cm, map, N * N, false, 1.0);
  VizHeatmap hm = { .image = image, .c = 1, .map = map, .h = N, .w = N, .colormap = &cm,
                    .opacity = 0.0, .mask = mask };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 300, 200);
  cairo_t *cr = cairo_create (s);
  viz_heatmap_draw (cr, &hm, &style, 300, 200);
  cairo_surface_flush (s);
  double img[4], bar[4];
  viz_heatmap_layout (&hm, &style, 300, 200, img, bar);
  double cell = img[2] / N;
  uint32_t edge = test_pixel_at (s, img[0] + cell, img[1] + 2.0 * cell);
  g_assert_cmpint (green (edge), >, 150);
  g_assert_cmpint (red (edge), <, 120);
  uint32_t inside = test_pixel_at (s, img[0] + 2.0 * cell, img[1] + 2.0 * cell);
  g_assert_cmpint (green (inside), <, 10);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/heatmap/scale", test_scale);
  g_test_add_func ("/viz/heatmap/blend", test_blend);
  g_test_add_func ("/viz/heatmap/draw", test_draw);
  g_test_add_func ("/viz/heatmap/mask-contour", test_mask_contour);
  g_test_add_func ("/viz/heatmap/mask-draw", test_mask_draw);
  return g_test_run ();
}
