/* SPDX-License-Identifier: MIT */
/* A volume's plane as a figure: laid out at the aspect of its extent in mm, points mapped back
 * to voxels, the crosshair through the chosen voxel's centre, an overlay transparent at 0, a
 * mask's contour on its voxels' edges; the per-slice strip coloured by probability, slices far
 * from the training data hatched. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "test-pixel.h"
#include "viz.h"

static void
test_layout_and_locate (void)
{
  VizStyle style;
  viz_style_init (&style);
  style.margin = 0.0;
  /* 40 x 20 voxels of 1 x 4 mm: 40 x 80 mm, twice as high as wide. */
  VizVolumePlane p = { .w = 40, .h = 20, .width_mm = 40.0, .height_mm = 80.0 };
  double r[4];
  viz_volume_plane_layout (&p, &style, 300.0, 300.0, r);
  g_assert_cmpfloat (fabs (r[2] - 150.0), <, 1e-9);
  g_assert_cmpfloat (fabs (r[3] - 300.0), <, 1e-9);
  g_assert_cmpfloat (fabs (r[0] - 75.0), <, 1e-9);
  g_assert_cmpfloat (fabs (r[1]), <, 1e-9);

  int column = -1, row = -1;
  /* Each voxel is 3.75 px wide and 15 px high. */
  g_assert_true (viz_volume_plane_locate (&p, &style, 300.0, 300.0, 75.0 + 3.75 * 10.5,
                                          15.0 * 7.5, &column, &row));
  g_assert_cmpint (column, ==, 10);
  g_assert_cmpint (row, ==, 7);
  g_assert_true (viz_volume_plane_locate (&p, &style, 300.0, 300.0, 224.9, 299.9, &column,
                                          &row));
  g_assert_cmpint (column, ==, 39);
  g_assert_cmpint (row, ==, 19);
  g_assert_false (viz_volume_plane_locate (&p, &style, 300.0, 300.0, 70.0, 10.0, &column,
                                           &row));
  g_assert_false (viz_volume_plane_locate (&p, &style, 300.0, 300.0, 226.0, 10.0, &column,
                                           &row));
}

static void
test_draw_crosshair_and_overlay (void)
{
  VizStyle style;
  viz_style_init (&style);
  style.margin = 0.0;
  style.accent[0] = 1.0;
  style.accent[1] = 0.0;
  style.accent[2] = 0.0;
  /* A black 10 x 10 plane, one voxel per 20 px; the overlay is 1 on its left half. */
  float grey[100] = { 0 }, attribution[100];
  for (int n = 0; n < 100; n++)
    attribution[n] = n % 10 < 5 ? 1.0f : 0.0f;
  VizColormap cm;
  viz_colormap_init (&cm, VIZ_COLORMAP_SEQUENTIAL, 0.0, 1.0);
  cairo_surface_t *image = viz_image_surface_new (grey, 1, 10, 10);
  cairo_surface_t *overlay = viz_volume_overlay_surface_new (attribution, 10, 10, &cm, 1.0);
  g_assert_nonnull (overlay);
  VizVolumePlane p = {
    .image = image, .overlay = overlay, .w = 10, .h = 10, .width_mm = 10.0, .height_mm = 10.0,
    .crosshair = true, .cross_x = 7, .cross_y = 2,
  };
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 200, 200);
  cairo_t *cr = cairo_create (s);
  viz_volume_plane_draw (cr, &p, &style, 200.0, 200.0);
  cairo_destroy (cr);
  cairo_surface_flush (s);

  /* The crosshair through the centre of voxel (7, 2): x = 150, y = 50, in red (80 % over
   * black). */
  uint32_t on_vertical = test_pixel_at (s, 150.0, 120.0);
  uint32_t on_horizontal = test_pixel_at (s, 180.0, 50.0);
  /* A 1 px line centred on a pixel edge covers two pixels by half. */
  g_assert_cmpuint ((on_vertical >> 16) & 0xff, >, 60);
  g_assert_cmpuint ((on_horizontal >> 16) & 0xff, >, 60);
  g_assert_cmpuint (test_pixel_at (s, 140.0, 120.0) & 0xffffff, ==, 0);
  /* Away from the lines: the overlay's top colour (yellow) on the left, black on the right. */
  uint32_t left = test_pixel_at (s, 30.0, 150.0), right = test_pixel_at (s, 170.0, 150.0);
  g_assert_cmpuint ((left >> 8) & 0xff, >, 150);
  g_assert_cmpuint (right & 0xffffff, ==, 0);

  cairo_surface_destroy (s);
  cairo_surface_destroy (overlay);
  cairo_surface_destroy (image);
}

/* The 8-bit pixel of the map's colour at value. */
static uint32_t
rgb_pixel (const VizColormap *cm,
           double             value)
{
  double rgb[3];
  viz_colormap_rgb (cm, value, rgb);
  uint32_t px = 0;
  for (int c = 0; c < 3; c++)
    px = px << 8 | (uint32_t) lround (rgb[c] * 255.0);
  return px;
}

/* px as a or b when every channel is within 2 of it, else px (without alpha). */
static uint32_t
snap (uint32_t px,
      uint32_t a,
      uint32_t b)
{
  uint32_t candidates[2] = { a, b };
  for (int n = 0; n < 2; n++)
    {
      gboolean close = TRUE;
      for (int shift = 0; shift < 24; shift += 8)
        close = close && abs ((int) ((px >> shift) & 0xff)
                              - (int) ((candidates[n] >> shift) & 0xff)) <= 2;
      if (close)
        return candidates[n];
    }
  return px & 0xffffff;
}

static void
test_strip (void)
{
  VizStyle style;
  viz_style_init (&style);
  /* Two classes over four slices, two classified: slice 0 is class 0, slice 1 class 1. */
  float probs[8] = { 1.0f, 0.0f, 0.0f, 1.0f, 0.5f, 0.5f, 0.5f, 0.5f };
  const char *labels[] = { "a", "b" };
  VizVolumeStrip strip = {
    .probs = probs, .slices = 4, .classes = 2, .done = 2, .current = -1, .labels = labels,
  };
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 400, 100);
  cairo_t *cr = cairo_create (s);
  viz_volume_strip_draw (cr, &strip, &style, 400.0, 100.0);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  VizColormap cm;
  viz_colormap_init (&cm, VIZ_COLORMAP_SEQUENTIAL, 0.0, 1.0);
  uint32_t hot = rgb_pixel (&cm, 1.0), cold = rgb_pixel (&cm, 0.0);
  /* Along each row, left to right (inferior first): the map's colours of slices 0 and 1 in
   * turn, then the two slices not classified, neither colour. */
  double rows[2] = {
    style.margin + (100.0 - 2.0 * style.margin) * 0.25,
    style.margin + (100.0 - 2.0 * style.margin) * 0.75,
  };
  for (int c = 0; c < 2; c++)
    {
      uint32_t runs[4];
      int n = 0;
      for (int x = 0; x < 400; x++)
        {
          uint32_t px = snap (test_pixel_at (s, x + 0.5, rows[c]), hot, cold);
          if ((px == hot || px == cold) && (n == 0 || runs[n - 1] != px) && n < 4)
            runs[n++] = px;
        }
      g_assert_cmpint (n, ==, 2);
      g_assert_cmphex (runs[0], ==, c == 0 ? hot : cold);
      g_assert_cmphex (runs[1], ==, c == 0 ? cold : hot);
      /* Near the right end: slice 3, not classified. */
      uint32_t empty = snap (test_pixel_at (s, 400.0 - style.margin - 5.0, rows[c]), hot, cold);
      g_assert_cmphex (empty, !=, hot);
      g_assert_cmphex (empty, !=, cold);
    }
  cairo_surface_destroy (s);
}

/* The contour colour's pixel. */
static uint32_t
contour_pixel (void)
{
  uint32_t px = 0;
  for (int c = 0; c < 3; c++)
    px = px << 8 | (uint32_t) lround (viz_volume_contour_rgb[c] * 255.0);
  return px;
}

static void
test_contour (void)
{
  VizStyle style;
  viz_style_init (&style);
  style.margin = 0.0;
  /* A black 10 x 10 plane, 20 px per voxel; the mask is the 2 x 2 block of columns and rows 3
   * and 4, and the voxel (9, 0) in the corner, at the plane's border. */
  float grey[100] = { 0 };
  uint8_t mask[100] = { 0 };
  mask[3 * 10 + 3] = mask[3 * 10 + 4] = mask[4 * 10 + 3] = mask[4 * 10 + 4] = 1;
  mask[9] = 1;
  cairo_surface_t *image = viz_image_surface_new (grey, 1, 10, 10);
  VizVolumePlane p = {
    .image = image, .mask = mask, .w = 10, .h = 10, .width_mm = 10.0, .height_mm = 10.0,
  };
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 200, 200);
  cairo_t *cr = cairo_create (s);
  viz_volume_plane_draw (cr, &p, &style, 200.0, 200.0);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  uint32_t edge = contour_pixel ();
  /* The block's edges at x, y = 60 and 100 (2 px wide: the pixels either side), its corners
   * filled; inside and outside stay black. */
  g_assert_cmphex (test_pixel_at (s, 59.5, 80.0) & 0xffffff, ==, edge);
  g_assert_cmphex (test_pixel_at (s, 60.5, 80.0) & 0xffffff, ==, edge);
  g_assert_cmphex (test_pixel_at (s, 100.5, 70.0) & 0xffffff, ==, edge);
  g_assert_cmphex (test_pixel_at (s, 80.0, 60.5) & 0xffffff, ==, edge);
  g_assert_cmphex (test_pixel_at (s, 80.0, 99.5) & 0xffffff, ==, edge);
  g_assert_cmphex (test_pixel_at (s, 59.5, 59.5) & 0xffffff, ==, edge);
  g_assert_cmphex (test_pixel_at (s, 80.0, 80.0) & 0xffffff, ==, 0);
  g_assert_cmphex (test_pixel_at (s, 80.0, 50.0) & 0xffffff, ==, 0);
  g_assert_cmphex (test_pixel_at (s, 40.0, 150.0) & 0xffffff, ==, 0);
  /* The corner voxel is outlined along the plane's border too. */
  g_assert_cmphex (test_pixel_at (s, 180.5, 10.0) & 0xffffff, ==, edge);
  g_assert_cmphex (test_pixel_at (s, 190.0, 19.5) & 0xffffff, ==, edge);
  g_assert_cmphex (test_pixel_at (s, 190.0, 0.5) & 0xffffff, ==, edge);
  g_assert_cmphex (test_pixel_at (s, 199.5, 10.0) & 0xffffff, ==, edge);
  g_assert_cmphex (test_pixel_at (s, 190.0, 10.0) & 0xffffff, ==, 0);
  cairo_surface_destroy (s);
  cairo_surface_destroy (image);
}

/* The strip of four slices, all classified, drawn into a new surface, with far (or NULL). */
static cairo_surface_t *
draw_strip_far (const uint8_t *far)
{
  VizStyle style;
  viz_style_init (&style);
  float probs[8] = { 1.0f, 0.0f, 1.0f, 0.0f, 1.0f, 0.0f, 1.0f, 0.0f };
  VizVolumeStrip strip = {
    .probs = probs, .slices = 4, .classes = 2, .done = 4, .current = -1, .far = far,
    .far_label = "far",
  };
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 400, 100);
  cairo_t *cr = cairo_create (s);
  viz_volume_strip_draw (cr, &strip, &style, 400.0, 100.0);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  return s;
}

/* Whether column x of a and b differ between rows y0 and y1. */
static gboolean
column_differs (cairo_surface_t *a,
                cairo_surface_t *b,
                double           x,
                double           y0,
                double           y1)
{
  for (double y = y0; y < y1; y += 1.0)
    if ((test_pixel_at (a, x, y) & 0xffffff) != (test_pixel_at (b, x, y) & 0xffffff))
      return TRUE;
  return FALSE;
}

static void
test_strip_far (void)
{
  const uint8_t none[4] = { 0, 0, 0, 0 }, third[4] = { 0, 0, 1, 0 };
  cairo_surface_t *plain = draw_strip_far (none);
  cairo_surface_t *marked = draw_strip_far (third);
  /* The labels' column is empty ("0", "1" are narrow): slice k spans about 30 + 90 k px. Only
   * slice 2's column changes, over the strip's rows. */
  g_assert_false (column_differs (plain, marked, 80.0, 10.0, 60.0));
  g_assert_true (column_differs (plain, marked, 260.0, 10.0, 60.0));
  g_assert_false (column_differs (plain, marked, 360.0, 10.0, 60.0));
  /* The legend's swatch under the strip is there in both. */
  cairo_surface_t *unchecked = draw_strip_far (NULL);
  g_assert_true (column_differs (plain, unchecked, 40.0, 60.0, 92.0));
  cairo_surface_destroy (unchecked);
  cairo_surface_destroy (plain);
  cairo_surface_destroy (marked);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/volume-plane/layout-and-locate", test_layout_and_locate);
  g_test_add_func ("/viz/volume-plane/draw-crosshair-and-overlay",
                   test_draw_crosshair_and_overlay);
  g_test_add_func ("/viz/volume-plane/strip", test_strip);
  g_test_add_func ("/viz/volume-plane/contour", test_contour);
  g_test_add_func ("/viz/volume-plane/strip-far", test_strip_far);
  return g_test_run ();
}
