/* SPDX-License-Identifier: MIT */
/* The live-training pictures: the AM strip puts each image in its own place, side by side at
 * the largest scale that fits, pixels unsmoothed; the probe tile keeps its title above the
 * overlay and draws the map's colours over the image; both save and restore the context. */
#include <glib.h>

#include "test-pixel.h"
#include "viz.h"

static cairo_surface_t *
surface_new (int w,
             int h)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  g_assert_cmpint (cairo_surface_status (s), ==, CAIRO_STATUS_SUCCESS);
  return s;
}

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

/* Two 2x2 gray images, black and white, in a 200 x 100 strip without title or labels: each
 * becomes a 92 px square (height-limited: 100 - 2 margins of 2 - the gap of 4 under the
 * title's place), side by side with a gap of 4: the first over x in [2, 94], the second over
 * [98, 190]. */
static void
test_am_strip_places (void)
{
  float pixels[2 * 4] = { 0, 0, 0, 0, 1, 1, 1, 1 };
  VizAmStrip strip = { .n = 2, .pixels = pixels, .c = 1, .h = 2, .w = 2 };
  VizStyle style;
  viz_style_init (&style);
  style.margin = 2.0;
  style.gap = 4.0;
  style.background[0] = 1.0;
  style.background[1] = 0.0;
  style.background[2] = 0.0;
  style.background[3] = 1.0;
  cairo_surface_t *s = surface_new (200, 100);
  cairo_t *cr = cairo_create (s);
  viz_am_strip_draw (cr, &strip, &style, 200, 100);
  /* the context is as it was */
  double x = 5.0, y = 7.0;
  cairo_user_to_device (cr, &x, &y);
  g_assert_cmpfloat (x, ==, 5.0);
  g_assert_cmpfloat (y, ==, 7.0);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  /* black image, white image, background between and beyond */
  uint32_t first = test_pixel_at (s, 10, 50), second = test_pixel_at (s, 150, 50);
  g_assert_cmpint (red (first), ==, 0);
  g_assert_cmpint (green (first), ==, 0);
  g_assert_cmpint (red (second), ==, 255);
  g_assert_cmpint (green (second), ==, 255);
  uint32_t gap = test_pixel_at (s, 96, 50), beyond = test_pixel_at (s, 195, 50);
  g_assert_cmpint (red (gap), ==, 255);
  g_assert_cmpint (green (gap), ==, 0);
  g_assert_cmpint (red (beyond), ==, 255);
  g_assert_cmpint (green (beyond), ==, 0);
  /* nearest filtering: the images' edges are sharp, their border pixels their own colour */
  g_assert_cmpint (green (test_pixel_at (s, 98.5, 50)), ==, 255);
  g_assert_cmpint (green (test_pixel_at (s, 93.5, 50)), ==, 0);
  cairo_surface_destroy (s);
}

/* A probe with a title: the first text line at the top, the overlay below it, coloured by the
 * map where it is high. */
static void
test_probe_tile (void)
{
  enum { N = 8 };
  float image[N * N], map[N * N];
  for (int i = 0; i < N * N; i++)
    {
      image[i] = 0.0f;
      map[i] = (i % N) >= N / 2 ? 1.0f : 0.0f;  /* right half hot */
    }
  VizColormap cm;
  viz_heatmap_colormap_init (&cm, map, N * N, false, 0.0);
  VizProbe probe = {
    .heatmap = { .image = image, .c = 1, .map = map, .h = N, .w = N, .colormap = &cm,
                 .opacity = 1.0 },
    .title = "probe",
    .subtitle = "step 1, epoch 1",
  };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *s = surface_new (300, 260);
  cairo_t *cr = cairo_create (s);
  viz_probe_draw (cr, &probe, &style, 300, 260);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  /* under the two text lines the overlay starts; its left (cold) and right (hot) halves differ
   * and neither is the white background */
  double line = viz_text_line_height (&style);
  double top = style.margin + 2.0 * line + style.gap;
  double rect[4], bar[4];
  viz_heatmap_layout (&probe.heatmap, &(VizStyle) { .margin = 0.0, .gap = style.gap,
                                                    .colorbar_width = style.colorbar_width,
                                                    .colorbar_labels = style.colorbar_labels },
                      300 - 2.0 * style.margin, 260 - 2.0 * style.margin - 2.0 * line
                      - style.gap, rect, bar);
  double y = top + rect[1] + rect[3] / 2.0;
  uint32_t cold = test_pixel_at (s, style.margin + rect[0] + rect[2] * 0.2, y);
  uint32_t hot = test_pixel_at (s, style.margin + rect[0] + rect[2] * 0.8, y);
  g_assert_cmpuint (cold, !=, hot);
  g_assert_cmpuint (cold & 0xffffff, !=, 0xffffff);
  g_assert_cmpuint (hot & 0xffffff, !=, 0xffffff);
  /* the title's first line drew something dark at the top left */
  gboolean ink = FALSE;
  for (int x = (int) style.margin; x < 40; x++)
    for (int yy = (int) style.margin; yy < (int) (style.margin + line); yy++)
      ink |= red (test_pixel_at (s, x + 0.5, yy + 0.5)) < 128;
  g_assert_true (ink);
  cairo_surface_destroy (s);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/probe/am-strip-places", test_am_strip_places);
  g_test_add_func ("/viz/probe/tile", test_probe_tile);
  return g_test_run ();
}
