/* SPDX-License-Identifier: MIT */
/* The dataset examples figure: every tile's image in its cell (found by the hit test), whole
 * images against crops at the receptive field, crops cut by the border in place, and the cairo
 * state restored. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "test-pixel.h"
#include "viz.h"

#define W 600
#define H 320
#define SIDE 8

/* Images of SIDE x SIDE: one grey level, or white in its top-left 4 x 4 and black elsewhere. */
static float flat[3][SIDE * SIDE];
static float corner[SIDE * SIDE];

static cairo_surface_t *
draw (const VizExamples *fig)
{
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (surface);
  cairo_set_line_width (cr, 5.0);
  viz_examples_draw (cr, fig, &style, W, H);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpfloat (cairo_get_line_width (cr), ==, 5.0);
  cairo_destroy (cr);
  return surface;
}

/* The bounding box of the points the hit test gives to tile t (x0, y0, x1, y1). */
static void
cell_of (const VizExamples *fig,
         int                t,
         double             box[4])
{
  VizStyle style;
  viz_style_init (&style);
  box[0] = box[1] = INFINITY;
  box[2] = box[3] = -INFINITY;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      if (viz_examples_hit (fig, &style, W, H, x + 0.5, y + 0.5) == t)
        {
          box[0] = fmin (box[0], x);
          box[1] = fmin (box[1], y);
          box[2] = fmax (box[2], x);
          box[3] = fmax (box[3], y);
        }
  g_assert_true (isfinite (box[0]));
}

static int
grey_at (cairo_surface_t *s,
         double           x,
         double           y)
{
  return (int) ((test_pixel_at (s, x, y) >> 8) & 0xff);
}

static void
test_tiles (void)
{
  for (int i = 0; i < SIDE * SIDE; i++)
    {
      flat[0][i] = 1.0f;
      flat[1][i] = 0.5f;
      flat[2][i] = 0.0f;
      corner[i] = (i / SIDE < 4 && i % SIDE < 4) ? 1.0f : 0.0f;
    }
  VizExampleTile top[2] = {
    { flat[0], 1, SIDE, SIDE, { 0, 0, SIDE, SIDE }, { 0, 0, SIDE, SIDE }, false, 4, 3.0f },
    { corner, 1, SIDE, SIDE, { 0, 0, 4, 4 }, { 0, 0, 4, 4 }, false, 7, 2.0f },
  };
  VizExampleTile bottom[2] = {
    { flat[1], 1, SIDE, SIDE, { 0, 0, SIDE, SIDE }, { 0, 0, SIDE, SIDE }, false, 1, -1.0f },
    /* A 4 x 4 field at (-2, -2): only its bottom-right 2 x 2 lies on the image. */
    { flat[2], 1, SIDE, SIDE, { 0, 0, 2, 2 }, { -2, -2, 4, 4 }, false, 2, -0.5f },
  };
  VizExamples fig = { top, bottom, 2, false, "title", "caption", { NULL, NULL } };
  cairo_surface_t *s = draw (&fig);
  double box[4][4];
  for (int t = 0; t < 4; t++)
    cell_of (&fig, t, box[t]);
  VizStyle style;
  viz_style_init (&style);
  g_assert_cmpint (viz_examples_hit (&fig, &style, W, H, -1, -1), ==, -1);
  /* Rows: the top tiles above the bottom ones; in a row, left to right. */
  g_assert_cmpfloat (box[0][3], <, box[2][1]);
  g_assert_cmpfloat (box[0][2], <, box[1][0]);
  /* The whole images: white, mid grey; the corner image's centre is black, its top-left
   * quarter white. */
  double cx[4], cy[4];
  for (int t = 0; t < 4; t++)
    {
      cx[t] = (box[t][0] + box[t][2]) / 2.0;
      cy[t] = (box[t][1] + box[t][3]) / 2.0;
    }
  g_assert_cmpint (grey_at (s, cx[0], cy[0]), ==, 255);
  g_assert_cmpint (abs (grey_at (s, cx[2], cy[2]) - 128), <=, 1);
  double side = box[1][2] - box[1][0];
  g_assert_cmpint (grey_at (s, cx[1] + side / 4, cy[1] + side / 4), ==, 0);
  g_assert_cmpint (grey_at (s, box[1][0] + side / 8, box[1][1] + side / 8), ==, 255);
  cairo_surface_destroy (s);

  /* Cropped: the corner tile's field is its white quarter, so its centre is white; the field
   * cut by the border shows its 2 x 2 black image pixels in the bottom-right quarter of the
   * cell and the (white) background elsewhere. */
  fig.crop = true;
  s = draw (&fig);
  g_assert_cmpint (grey_at (s, cx[1], cy[1]), ==, 255);
  g_assert_cmpint (grey_at (s, cx[0], cy[0]), ==, 255);
  g_assert_cmpint (grey_at (s, cx[3] + side / 4, cy[3] + side / 4), ==, 0);
  uint32_t background = test_pixel_at (s, 1, 1);
  g_assert_cmpint (grey_at (s, 1, 1), ==, 255);
  g_assert_cmpuint (test_pixel_at (s, cx[3] - side / 4, cy[3] - side / 4), ==, background);
  cairo_surface_destroy (s);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/examples-figure/tiles-crops-hits", test_tiles);
  return g_test_run ();
}
