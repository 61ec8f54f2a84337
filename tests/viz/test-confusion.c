/* SPDX-License-Identifier: MIT */
/* Confusion matrix: each cell coloured by the fraction of its row (a perfect classifier's
 * diagonal in the map's top colour, the rest in its bottom colour), cells inside the drawing,
 * and the cairo state restored. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "test-pixel.h"
#include "viz.h"

#define W 500
#define H 360

static void
test_draw (void)
{
  /* Three classes: rows 0 and 1 perfect, row 2 split half and half between 1 and 2. */
  int counts[9] = { 10, 0, 0,
                    0, 7, 0,
                    0, 4, 4 };
  const char *labels[] = { "cat", "dog", "bird" };
  VizConfusion conf = { counts, 3, labels, "Confusion" };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (surface);
  cairo_set_line_width (cr, 5.0);
  viz_confusion_draw (cr, &conf, &style, W, H);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpfloat (cairo_get_line_width (cr), ==, 5.0);

  VizColormap cm;
  viz_colormap_init (&cm, VIZ_COLORMAP_SEQUENTIAL, 0.0, 1.0);
  /* Sample each cell near its corner, away from the count written in its middle. */
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      {
        double rect[4];
        viz_confusion_cell_rect (&conf, &style, W, H, r, c, rect);
        g_assert_cmpfloat (rect[2], >, 20.0);
        g_assert_cmpfloat (rect[0] + rect[2], <=, W);
        g_assert_cmpfloat (rect[1] + rect[3], <=, H);
        uint32_t p = test_pixel_at (surface, rect[0] + 3.0, rect[1] + 3.0);
        double fraction = (double) counts[r * 3 + c] / (r == 0 ? 10.0 : r == 1 ? 7.0 : 8.0);
        double rgb[3];
        viz_colormap_rgb (&cm, fraction, rgb);
        for (int k = 0; k < 3; k++)
          g_assert_cmpint (abs ((int) ((p >> (16 - 8 * k)) & 0xff) - (int) lround (255 * rgb[k])),
                           <=, 1);
      }
  /* The two ends of the map are different colours, so the check above means something. */
  g_assert_cmpuint (viz_colormap_pixel (&cm, 0.0f), !=, viz_colormap_pixel (&cm, 1.0f));
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/confusion/draw", test_draw);
  return g_test_run ();
}
