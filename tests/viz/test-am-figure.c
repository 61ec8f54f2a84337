/* SPDX-License-Identifier: MIT */
/* The activation maximization figure (Maximize view and cnnscope-cli am): images mapped with
 * their values clamped to [0, 1], captions and titles, images as sharp blocks in panels and in
 * the grid, cairo state restored, and export pixel for pixel the drawing. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "test-pixel.h"
#include "test-util.h"
#include "viz.h"

/* The pixel value of an RGB24 surface at (x, y), without the unused alpha byte. */
static uint32_t
rgb_at (cairo_surface_t *s,
        int              x,
        int              y)
{
  return test_pixel_at (s, x + 0.5, y + 0.5) & 0xffffffu;
}

static void
test_image_clamped (void)
{
  /* Grey: out-of-range values are clamped, NaN is black, the middle rounds to nearest. */
  const float grey[6] = { -0.5f, 0.0f, 0.5f, 1.0f, 1.7f, NAN };
  cairo_surface_t *s = viz_image_surface_new (grey, 1, 2, 3);
  g_assert_nonnull (s);
  g_assert_cmpint (cairo_image_surface_get_format (s), ==, CAIRO_FORMAT_RGB24);
  g_assert_cmpint (cairo_image_surface_get_width (s), ==, 3);
  g_assert_cmpint (cairo_image_surface_get_height (s), ==, 2);
  g_assert_cmphex (rgb_at (s, 0, 0), ==, 0x000000);
  g_assert_cmphex (rgb_at (s, 1, 0), ==, 0x000000);
  g_assert_cmphex (rgb_at (s, 2, 0), ==, 0x808080);
  g_assert_cmphex (rgb_at (s, 0, 1), ==, 0xffffff);
  g_assert_cmphex (rgb_at (s, 1, 1), ==, 0xffffff);
  g_assert_cmphex (rgb_at (s, 2, 1), ==, 0x000000);
  cairo_surface_destroy (s);

  /* RGB planes, each clamped on its own: red above 1, green below 0, blue in range. */
  const float rgb[3 * 2] = { 2.0f, 0.2f, -3.0f, 0.4f, 0.6f, 0.0f };
  s = viz_image_surface_new (rgb, 3, 1, 2);
  g_assert_cmphex (rgb_at (s, 0, 0), ==, 0xff0099);
  g_assert_cmphex (rgb_at (s, 1, 0), ==, 0x336600);
  cairo_surface_destroy (s);
}

static void
test_caption (void)
{
  NnModel *model = nn_synth_dashes_model_new (16);
  g_assert_nonnull (model);
  nn_model_set_label (model, 1, "vertical");
  int detect = nn_graph_find (model->graph, "detect");
  g_assert_cmpint (detect, >=, 0);
  NnAmSettings s;
  nn_am_settings_init (&s);
  int channels[3] = { 1, 0, 1 };
  s.layer = detect;
  s.channels = channels;
  s.n_channels = 1;
  char buf[1024];
  viz_am_figure_caption (buf, sizeof buf, "/m/dashes.safetensors", model, &s, "exact", false);
  g_assert_cmpstr (buf, ==, "dashes.safetensors · layer detect channel 1\n"
                   "exact · 256 steps, lr 0.05, seed 1");

  s.n_channels = 3;
  s.transforms = NN_AM_TRANSFORM_JITTER | NN_AM_TRANSFORM_BLUR;
  s.objective = NN_AM_OBJECTIVE_UNIT;
  s.unit_y = 2;
  s.unit_x = 3;
  s.optimizer = NN_AM_OPTIMIZER_ADAM;
  s.tv = 0.5f;
  viz_am_figure_caption (buf, sizeof buf, "dashes.safetensors", model, &s, "proxygrad:0.3",
                         false);
  g_assert_cmpstr (buf, ==, "dashes.safetensors · layer detect channels 1, 0, 1 · unit (2, 3)\n"
                   "proxygrad:0.3 · 256 steps, lr 0.05, seed 1 · jitter+blur · Adam · TV 0.5");

  nn_am_settings_init (&s);
  s.layer = -1;
  s.objective = NN_AM_OBJECTIVE_LOGIT;
  s.channels = channels;
  s.n_channels = 1;
  s.steps = 10;
  viz_am_figure_caption (buf, sizeof buf, "d.safetensors", model, &s, "exact", false);
  g_assert_cmpstr (buf, ==, "d.safetensors · class 1 vertical\nexact · 10 steps, lr 0.05, "
                   "seed 1");
  viz_am_figure_caption (buf, sizeof buf, "d.safetensors", model, &s, "exact", true);
  g_assert_true (g_str_has_prefix (buf, "d.safetensors · every class logit\n"));

  /* A small buffer is cut, never overrun. */
  char small[12];
  viz_am_figure_caption (small, sizeof small, "d.safetensors", model, &s, "exact", true);
  g_assert_cmpstr (small, ==, "d.safetenso");
  nn_model_free (model);
}

static void
test_panel_title (void)
{
  char buf[256];
  NnGradPolicy exact = { NN_GRAD_EXACT, 0.0f }, proxy = { NN_GRAD_PROXY, 0.25f };
  viz_am_figure_panel_title (buf, sizeof buf, &exact, NAN, false);
  g_assert_cmpstr (buf, ==, "Plain (exact)");
  viz_am_figure_panel_title (buf, sizeof buf, &exact, 1.5, false);
  g_assert_cmpstr (buf, ==, "Plain (exact): objective 1.5");
  viz_am_figure_panel_title (buf, sizeof buf, &proxy, 0.123456, true);
  g_assert_cmpstr (buf, ==, "ProxyGrad β=0.25: final 0.1235");
}

/* Pixels of s equal to rgb. */
static int
count_rgb (cairo_surface_t *s,
           uint32_t         rgb)
{
  int n = 0, w = cairo_image_surface_get_width (s), h = cairo_image_surface_get_height (s);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      n += (test_pixel_at (s, x + 0.5, y + 0.5) & 0xffffffu) == rgb;
  return n;
}

static void
test_panel_pixels (void)
{
  /* A 2 x 2 image whose values lie outside [0, 1] in two pixels: drawn large, each pixel is a
   * block of one colour, the out-of-range ones clamped to black and white. */
  const float rgb[3 * 4] = {
    1.6f, 0.0f, 0.2f, -0.4f,   /* red */
    1.2f, 0.6f, 0.8f, -2.0f,   /* green */
    9.0f, 0.0f, 0.4f, -0.1f,   /* blue */
  };
  cairo_surface_t *image = viz_image_surface_new (rgb, 3, 2, 2);
  const double history[4] = { 0.0, 1.0, 1.5, 1.75 };
  VizAmFigure fig = { .n_panels = 1 };
  snprintf (fig.caption, sizeof fig.caption, "a caption\nits second line");
  snprintf (fig.panels[0].title, sizeof fig.panels[0].title, "Plain (exact): final 1.75");
  fig.panels[0].image = image;
  fig.panels[0].history = history;
  fig.panels[0].n_history = 4;

  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 600, 500);
  cairo_t *cr = cairo_create (s);
  viz_am_figure_draw (cr, &fig, &style, 600, 500);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  /* The image is about half the height: each block has more than 100 x 100 pixels of its
   * colour (nearest filtering, no blend between blocks). */
  const uint32_t colours[4] = { 0xffffff, 0x009900, 0x33cc66, 0x000000 };
  int blocks[4];
  for (int k = 0; k < 4; k++)
    {
      blocks[k] = count_rgb (s, colours[k]);
      g_assert_cmpint (blocks[k], >, 100 * 100);
    }
  /* The three coloured blocks are equal squares (black and white also show in the text). */
  g_assert_cmpint (blocks[1], ==, blocks[2]);
  int side = (int) lround (sqrt (blocks[1]));
  g_assert_cmpint (side * side, ==, blocks[1]);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
  cairo_surface_destroy (image);
}

static void
test_grid_pixels (void)
{
  /* Three tiles, one still running. */
  const float red[3] = { 1.0f, 0.0f, 0.0f }, blue[3] = { 0.0f, 0.0f, 1.0f };
  cairo_surface_t *tiles[3] = {
    viz_image_surface_new (red, 3, 1, 1), NULL, viz_image_surface_new (blue, 3, 1, 1),
  };
  const double values[3] = { 0.5, NAN, 2.0 };
  const int channels[3] = { 4, 7, 9 };
  VizAmFigure fig = {
    .tiles = tiles, .tile_values = values, .tile_channels = channels, .n_tiles = 3,
  };
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 400, 200);
  cairo_t *cr = cairo_create (s);
  viz_am_figure_draw (cr, &fig, &style, 400, 200);
  int r = count_rgb (s, 0xff0000), b = count_rgb (s, 0x0000ff);
  g_assert_cmpint (r, >, 60 * 60);
  g_assert_cmpint (r, ==, b);
  /* The running tile is only an outline: no third block. */
  g_assert_cmpint (count_rgb (s, 0xffffff), >, 400 * 200 - 3 * r);

  /* State restored. */
  cairo_matrix_t before, after;
  cairo_translate (cr, 5, 6);
  cairo_set_line_width (cr, 3.0);
  cairo_get_matrix (cr, &before);
  viz_am_figure_draw (cr, &fig, &style, 300, 150);
  cairo_get_matrix (cr, &after);
  g_assert_cmpmem (&before, sizeof before, &after, sizeof after);
  g_assert_cmpfloat (cairo_get_line_width (cr), ==, 3.0);
  g_assert_false (cairo_has_current_point (cr));
  cairo_destroy (cr);
  cairo_surface_destroy (s);

  /* Export is the drawing in the default style, pixel for pixel. */
  g_autofree char *dir = test_util_make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "am.png", NULL);
  NnError err = { 0 };
  g_assert_true (viz_am_figure_export (&fig, path, 400, 200, &err));
  cairo_surface_t *read = cairo_image_surface_create_from_png (path);
  s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 400, 200);
  cr = cairo_create (s);
  viz_am_figure_draw (cr, &fig, &style, 400, 200);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  cairo_surface_flush (read);
  int stride = cairo_image_surface_get_stride (s);
  g_assert_cmpint (cairo_image_surface_get_stride (read), ==, stride);
  g_assert_cmpmem (cairo_image_surface_get_data (read), (gsize) stride * 200,
                   cairo_image_surface_get_data (s), (gsize) stride * 200);
  cairo_surface_destroy (read);
  cairo_surface_destroy (s);
  cairo_surface_destroy (tiles[0]);
  cairo_surface_destroy (tiles[2]);
  test_util_remove_tree (dir);
}

/* Tile labels: the final value, "…" while running, "unfinished" after a stop, and class names
 * for class logits. */
static void
test_tile_labels (void)
{
  NnModel *model = nn_synth_dashes_model_new (16);
  g_assert_nonnull (model);
  float grey[4] = { 0.5f, 0.5f, 0.5f, 0.5f };
  cairo_surface_t *tiles[3] = { viz_image_surface_new (grey, 1, 2, 2),
                                viz_image_surface_new (grey, 1, 2, 2), NULL };
  double values[3] = { 2.5, NAN, NAN };
  int classes[3] = { 0, 1, 1 };
  VizAmFigure fig = { .tiles = tiles, .tile_values = values, .tile_channels = classes,
                      .n_tiles = 3 };
  char text[256];
  viz_am_figure_tile_label (text, sizeof text, &fig, 0);
  g_assert_cmpstr (text, ==, "0: 2.5");
  viz_am_figure_tile_label (text, sizeof text, &fig, 1);
  g_assert_cmpstr (text, ==, "1 …");
  viz_am_figure_tile_label (text, sizeof text, &fig, 2);
  g_assert_cmpstr (text, ==, "1");
  fig.stopped = true;
  viz_am_figure_tile_label (text, sizeof text, &fig, 1);
  g_assert_cmpstr (text, ==, "1 unfinished");
  fig.class_model = model;
  viz_am_figure_tile_label (text, sizeof text, &fig, 0);
  g_assert_cmpstr (text, ==, "0 horizontal: 2.5");
  viz_am_figure_tile_label (text, sizeof text, &fig, 1);
  g_assert_cmpstr (text, ==, "1 vertical unfinished");
  /* Drawn into small tiles, the long labels are cut short, not run into each other. */
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 200, 120);
  cairo_t *cr = cairo_create (s);
  VizStyle style;
  viz_style_init (&style);
  viz_am_figure_draw (cr, &fig, &style, 200, 120);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
  for (int k = 0; k < 2; k++)
    cairo_surface_destroy (tiles[k]);
  nn_model_free (model);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/am-figure/image-clamped", test_image_clamped);
  g_test_add_func ("/viz/am-figure/caption", test_caption);
  g_test_add_func ("/viz/am-figure/panel-title", test_panel_title);
  g_test_add_func ("/viz/am-figure/panel-pixels", test_panel_pixels);
  g_test_add_func ("/viz/am-figure/grid-pixels", test_grid_pixels);
  g_test_add_func ("/viz/am-figure/tile-labels", test_tile_labels);
  return g_test_run ();
}
