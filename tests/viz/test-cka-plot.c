/* SPDX-License-Identifier: MIT */
/* The per-layer CKA plot and the side-by-side channel figure, read back pixel by pixel: bar
 * heights and colours, the missing value, the selected outline, hit testing, and the channel
 * figure's two columns on one scale and its row of AM images. */
#include <glib.h>
#include <math.h>

#include "test-pixel.h"
#include "viz.h"

#define W 600
#define H 400

static uint32_t
rgb_pixel (const double rgb[3])
{
  return 0xff000000u | (uint32_t) lround (rgb[0] * 255.0) << 16
         | (uint32_t) lround (rgb[1] * 255.0) << 8 | (uint32_t) lround (rgb[2] * 255.0);
}

static int
channel_diff (uint32_t a,
              uint32_t b)
{
  int worst = 0;
  for (int shift = 0; shift < 24; shift += 8)
    worst = MAX (worst, abs ((int) ((a >> shift) & 0xff) - (int) ((b >> shift) & 0xff)));
  return worst;
}

static void
test_bars (void)
{
  const double cka[] = { 1.0, 0.5, NAN, 0.25 };
  const double distance[] = { 0.2, NAN, NAN, 0.4 };
  const char *const names[] = { "conv1", "relu1", "dead", "fc" };
  VizCkaPlot plot = { cka, distance, names, 4, 3, "title", "caption\nline two" };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (s);
  viz_cka_plot_draw (cr, &plot, &style, W, H);
  cairo_destroy (cr);
  cairo_surface_flush (s);

  double a[4];
  viz_cka_plot_area (&plot, &style, W, H, a);
  g_assert_cmpfloat (a[2], >, 300);
  g_assert_cmpfloat (a[3], >, 150);
  const double slot = a[2] / 4;
  const uint32_t white = 0xffffffffu;
  for (int i = 0; i < 4; i++)
    {
      double cx = a[0] + (i + 0.5) * slot;
      /* hit testing finds the slot */
      g_assert_cmpint (viz_cka_plot_hit (&plot, &style, W, H, cx, a[1] + 10), ==, i);
      if (isnan (cka[i]))
        {
          /* nothing above the base line but the grid */
          uint32_t p = test_pixel_at (s, cx - 0.2 * slot, a[1] + 0.6 * a[3]);
          g_assert_cmpint (channel_diff (p, white), <, 8);
          continue;
        }
      double rgb[3];
      viz_colormap_eval (VIZ_COLORMAP_SEQUENTIAL, cka[i], rgb);
      /* inside the bar, off its centre line (where the weight line may pass): its colour */
      double top = a[1] + a[3] * (1.0 - cka[i]);
      uint32_t in = test_pixel_at (s, cx - 0.2 * slot, top + 0.5 * (a[1] + a[3] - top) + 3);
      g_assert_cmpint (channel_diff (in, rgb_pixel (rgb)), <=, 2);
      /* above it: background (or a grid line, which is light) */
      if (cka[i] < 0.9)
        {
          uint32_t above = test_pixel_at (s, cx - 0.2 * slot, top - 12);
          g_assert_cmpint (channel_diff (above, white), <, 50);
        }
    }
  /* the selected bar (3) is outlined in the accent colour at its left edge */
  double bar = slot * 0.7, left = a[0] + 3.5 * slot - 0.5 * bar - 1.0;
  uint32_t edge = test_pixel_at (s, left, a[1] + a[3] - 5);
  double accent[3] = { style.accent[0], style.accent[1], style.accent[2] };
  g_assert_cmpint (channel_diff (edge, rgb_pixel (accent)), <, 60);
  /* the weight change of layer 3 (the largest) is drawn at the top of the area */
  uint32_t dot = test_pixel_at (s, a[0] + 3.5 * slot, a[1] + 1);
  g_assert_cmpint (channel_diff (dot, 0xffd95e00u), <, 60);
  g_assert_cmpint (viz_cka_plot_hit (&plot, &style, W, H, a[0] - 5, a[1] + 10), ==, -1);
  cairo_surface_destroy (s);
}

static void
test_channel_pair (void)
{
  /* A's activation is 0 everywhere, B's rises to 4: on one scale, A's tile is the bottom of
   * the map and B's top-right pixel its top */
  float act_a[4 * 4] = { 0 }, act_b[4 * 4];
  for (int i = 0; i < 16; i++)
    act_b[i] = (float) i / 15.0f * 4.0f;
  const float filt_a[2 * 3 * 3] = { 1, 0, 0, 0, 0, 0, 0, 0, -1 };
  const float filt_b[2 * 3 * 3] = { 0 };
  VizChannelPair pair = {
    .title = "title", .names = { "A", "B" }, .filters = { filt_a, filt_b }, .ic = 2, .kh = 3,
    .kw = 3, .acts = { act_a, act_b }, .h = 4, .w = 4,
  };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (s);
  viz_channel_pair_draw (cr, &pair, &style, W, H);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  /* count the pixels of the map's two ends in each half of the bottom row */
  double lo[3], hi[3];
  viz_colormap_eval (VIZ_COLORMAP_SEQUENTIAL, 0.0, lo);
  viz_colormap_eval (VIZ_COLORMAP_SEQUENTIAL, 1.0, hi);
  int n_lo[2] = { 0 }, n_hi[2] = { 0 };
  for (int y = H / 2; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        uint32_t p = test_pixel_at (s, x + 0.5, y + 0.5);
        n_lo[x >= W / 2] += channel_diff (p, rgb_pixel (lo)) <= 2;
        n_hi[x >= W / 2] += channel_diff (p, rgb_pixel (hi)) <= 2;
      }
  g_assert_cmpint (n_lo[0], >, 100);   /* A: all at the bottom of the scale */
  g_assert_cmpint (n_hi[1], >, 10);    /* B reaches the top */
  g_assert_cmpint (n_lo[0], >, 4 * n_lo[1]);
  cairo_surface_destroy (s);
}

/* Red and blue pixels in the left and right halves of the bottom half of the channel figure
 * with an AM row (A red, B blue; b NULL: B's image missing). */
static void
count_am (gboolean with_b,
          int      red[2],
          int      blue[2])
{
  float act[2 * 2] = { 0, 1, 2, 3 };
  float am_a[3 * 8 * 8] = { 0 }, am_b[3 * 8 * 8] = { 0 };
  for (int i = 0; i < 64; i++)
    {
      am_a[i] = 1.0f;            /* red plane */
      am_b[2 * 64 + i] = 1.0f;   /* blue plane */
    }
  VizChannelPair pair = {
    .names = { "A", "B" }, .acts = { act, act }, .h = 2, .w = 2,
    .ams = { am_a, with_b ? am_b : NULL }, .am_c = 3, .am_h = 8, .am_w = 8,
  };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (s);
  viz_channel_pair_draw (cr, &pair, &style, W, H);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  red[0] = red[1] = blue[0] = blue[1] = 0;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        uint32_t p = test_pixel_at (s, x + 0.5, y + 0.5);
        if (y < H / 2)
          {
            /* nothing of the AM images above their row */
            g_assert_cmpint (channel_diff (p, 0xffff0000u), >, 0);
            g_assert_cmpint (channel_diff (p, 0xff0000ffu), >, 0);
            continue;
          }
        red[x >= W / 2] += p == 0xffff0000u;
        blue[x >= W / 2] += p == 0xff0000ffu;
      }
  cairo_surface_destroy (s);
}

static void
test_channel_pair_am (void)
{
  int red[2], blue[2];
  count_am (TRUE, red, blue);
  /* each image fills a square of its column, at least 8 x 8 px per 8 x 8 pixels */
  g_assert_cmpint (red[0], >=, 64 * 64);
  g_assert_cmpint (red[1], ==, 0);
  g_assert_cmpint (blue[1], ==, red[0]);
  g_assert_cmpint (blue[0], ==, 0);
  /* B's image not there yet: its place stays empty, A's is unchanged */
  int red2[2], blue2[2];
  count_am (FALSE, red2, blue2);
  g_assert_cmpint (red2[0], ==, red[0]);
  g_assert_cmpint (blue2[0] + blue2[1] + red2[1], ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/cka-plot/bars", test_bars);
  g_test_add_func ("/viz/cka-plot/channel-pair", test_channel_pair);
  g_test_add_func ("/viz/cka-plot/channel-pair-am", test_channel_pair_am);
  return g_test_run ();
}
