/* SPDX-License-Identifier: MIT */
/* The layer figure (Activations and Filters, in the app and the CLI): captions and panel text,
 * the selected tile large with nearest-filtered pixels, hit testing, cairo state restored, and
 * export pixel for pixel the drawing in the export style. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-pixel.h"
#include "test-util.h"
#include "viz.h"

#define C 3
#define H 4
#define W 5

typedef struct
{
  float           data[C * H * W];
  VizColormap     cm;
  NnNode          node;
  VizLayerFigure  fig;
  VizStyle        style;
} Fixture;

/* Channel k holds k + (i * W + j) / 10: distinct values, channel 2 the largest. */
static void
fixture_setup (Fixture      *f,
               gconstpointer unused)
{
  (void) unused;
  for (int k = 0; k < C; k++)
    for (int i = 0; i < H * W; i++)
      f->data[k * H * W + i] = (float) k + (float) i / 10.0f;
  viz_colormap_init (&f->cm, VIZ_COLORMAP_SEQUENTIAL, 0.0, 3.9);
  memset (&f->node, 0, sizeof f->node);
  f->node.op = NN_OP_CONV2D;
  snprintf (f->node.name, sizeof f->node.name, "conv1");
  f->node.shape = nn_shape_chw (C, H, W);
  viz_layer_figure_init_activations (&f->fig, "/models/demo.v2.safetensors", &f->node,
                                     "/images/boot.png", f->data, &f->cm, 1);
  viz_style_init (&f->style);
}

static void
test_activations_text (Fixture      *f,
                       gconstpointer unused)
{
  (void) unused;
  /* The model without folder and extension, the input without folder. */
  g_assert_cmpstr (f->fig.caption, ==, "demo.v2 · conv1 (conv2d 3×4×5) · input boot.png · "
                   "sequential map 0 to 3.9");
  g_assert_cmpstr (f->fig.panel_title, ==, "Channel 1 of 3");
  g_assert_cmpstr (f->fig.panel_note, ==, "min 1   max 2.9   mean 1.95");
  g_assert_true (f->fig.grid.data == f->data);
  g_assert_true (f->fig.grid.colormap == &f->cm);
  g_assert_cmpint (f->fig.grid.selected, ==, 1);
  g_assert_null (f->fig.grid.atlas);

  /* No channel, or one the layer does not have: no large panel. */
  VizLayerFigure none;
  viz_layer_figure_init_activations (&none, "demo", &f->node, "boot.png", f->data, &f->cm, C);
  g_assert_cmpstr (none.panel_title, ==, "");
  g_assert_cmpint (none.grid.selected, ==, -1);
  viz_layer_figure_init_activations (&none, "demo", &f->node, "boot.png", f->data, &f->cm, -1);
  g_assert_cmpstr (none.panel_title, ==, "");

  VizColormap div;
  viz_colormap_init (&div, VIZ_COLORMAP_DIVERGING, -0.5, 2.0);
  viz_layer_figure_init_activations (&none, "demo", &f->node, "boot.png", f->data, &div, 0);
  g_assert_nonnull (strstr (none.caption, "· diverging map ±2"));
}

static void
test_filters_text (Fixture      *f,
                   gconstpointer unused)
{
  (void) unused;
  (void) f;
  /* 2 output channels of 2 input channels, 1 x 2 kernels. */
  const float weights[2 * 2 * 1 * 2] = { 1, 2, 3, 4, -1, 0, 0.5f, 0.25f };
  VizFilterGrid filters = {
    .weights = weights, .oc = 2, .ic = 2, .kh = 1, .kw = 2, .input_channel = -1,
    .selected = -1,
  };
  VizColormap cm;
  float *maps = viz_filter_grid_maps_new (&filters, &cm);
  g_assert_nonnull (maps);
  VizLayerFigure fig;
  viz_layer_figure_init_filters (&fig, "m.onnx", "layer1.conv", &filters, maps, &cm, 1);
  g_assert_cmpstr (fig.caption, ==, "m · layer1.conv (2 filters 1×2) · summed over 2 input "
                   "channels · diverging map ±6");
  g_assert_cmpstr (fig.panel_title, ==, "Filter 1 of 2, summed over 2 input channels");
  g_assert_cmpstr (fig.panel_note, ==, "min -0.5   max 0.25");
  g_assert_true (fig.grid.data == maps);
  g_assert_cmpint (fig.grid.c, ==, 2);
  free (maps);

  filters.input_channel = 1;
  maps = viz_filter_grid_maps_new (&filters, &cm);
  viz_layer_figure_init_filters (&fig, "m.onnx", "layer1.conv", &filters, maps, &cm, 0);
  g_assert_nonnull (strstr (fig.caption, "· input channel 1 of 2 ·"));
  g_assert_cmpstr (fig.panel_title, ==, "Filter 0 of 2, input channel 1 of 2");
  g_assert_cmpstr (fig.panel_note, ==, "min 3   max 4");
  free (maps);
}

/* Where the large tile lands in a figure of width x height: the layout the figure documents
 * (grid in the left 60 %, the panel's title line, whole-pixel magnification). */
static void
panel_rect_of (const VizStyle *style,
               double          width,
               double          height,
               int             tile_w,
               int             tile_h,
               double          rect[4])
{
  double m = style->margin, line = viz_text_line_height (style);
  double body_y = m + line, body_h = height - body_y;
  double x = floor (width * 0.6), w = width - x;
  double top = body_y + 2.0 * m + line;
  double aw = w - 2.0 * m, ah = body_h - (top - body_y) - 2.0 * m - line;
  double scale = floor (fmin (aw / tile_w, ah / tile_h));
  rect[0] = x + m;
  rect[1] = top;
  rect[2] = scale * tile_w;
  rect[3] = scale * tile_h;
}

static void
panel_rect (const VizStyle *style,
            double          width,
            double          height,
            double          rect[4])
{
  panel_rect_of (style, width, height, W, H, rect);
}

static void
test_panel_pixels (Fixture      *f,
                   gconstpointer unused)
{
  (void) unused;
  const double width = 900, height = 500;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (s);
  viz_layer_figure_draw (cr, &f->fig, &f->style, width, height);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  double r[4];
  panel_rect (&f->style, width, height, r);
  double scale = r[2] / W;
  g_assert_cmpfloat (scale, >=, 20.0);
  /* Every data pixel of channel 1 is a block of its colour: nearest filtering, no blur near the
   * block's corners (the tile's own edge may fall inside a device pixel). */
  for (int i = 0; i < H; i++)
    for (int j = 0; j < W; j++)
      {
        uint32_t want = viz_colormap_pixel (&f->cm, f->data[1 * H * W + i * W + j]);
        double x = r[0] + j * scale, y = r[1] + i * scale;
        g_assert_cmpuint (test_pixel_at (s, x + 1.5, y + 1.5), ==, want);
        g_assert_cmpuint (test_pixel_at (s, x + scale - 1.5, y + scale - 1.5), ==, want);
      }
  /* Left of the panel: white background between the grid's colour bar and the panel. */
  g_assert_cmpuint (test_pixel_at (s, r[0] - 2.5, r[1] + r[3] / 2), ==, 0xffffffffu);

  /* Without a panel title the grid has the whole width (and needs less of it here): nothing is
   * drawn where the large tile was. */
  VizLayerFigure grid_only = f->fig;
  grid_only.panel_title[0] = '\0';
  viz_layer_figure_draw (cr, &grid_only, &f->style, width, height);
  g_assert_cmpuint (test_pixel_at (s, r[0] + 2.5 * scale, r[1] + 2.5 * scale), ==, 0xffffffffu);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

/* A 7x7 kernel of values around 3e-3: the numbers written into its cells each stay inside their
 * cell (the pixels beside every inner cell border are the cells' own colours, no ink), and
 * a kernel of signed zeros reads "min 0", never "-0". */
static void
test_cell_values (Fixture      *f,
                  gconstpointer unused)
{
  (void) unused;
  enum { K = 7 };
  const float pattern[3] = { -0.00304f, 0.00334f, -0.00179f };
  float weights[K * K];
  for (int i = 0; i < K * K; i++)
    weights[i] = pattern[i % 3];
  VizFilterGrid filters = {
    .weights = weights, .oc = 1, .ic = 1, .kh = K, .kw = K, .input_channel = -1,
    .selected = -1,
  };
  VizColormap cm;
  float *maps = viz_filter_grid_maps_new (&filters, &cm);
  g_assert_nonnull (maps);
  VizLayerFigure fig;
  viz_layer_figure_init_filters (&fig, "m.onnx", "conv1", &filters, maps, &cm, 0);
  g_assert_cmpstr (fig.panel_note, ==, "min -0.00304   max 0.00334");

  const double width = 800, height = 420;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (s);
  viz_layer_figure_draw (cr, &fig, &f->style, width, height);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_flush (s);
  double r[4];
  panel_rect_of (&f->style, width, height, K, K, r);
  double scale = r[2] / K;
  g_test_message ("cells of %.0f px", scale);
  g_assert_cmpfloat (scale, >=, 34.0);  /* large enough for numbers */
  g_assert_cmpfloat (scale, <, 48.0);   /* small enough that 8 characters do not fit */
  /* Some cell shows ink (the numbers are there at all). */
  int ink = 0;
  for (double x = r[0] + 2.0; x < r[0] + scale - 2.0; x += 1.0)
    ink += test_pixel_at (s, x, r[1] + scale / 2) != viz_colormap_pixel (&cm, maps[0]);
  g_assert_cmpint (ink, >, 0);
  for (int i = 0; i < K; i++)
    for (int j = 1; j < K; j++)
      {
        uint32_t left = viz_colormap_pixel (&cm, maps[i * K + j - 1]);
        uint32_t right = viz_colormap_pixel (&cm, maps[i * K + j]);
        double bx = r[0] + j * scale, cy = r[1] + (i + 0.5) * scale;
        for (double dy = -5.0; dy <= 5.0; dy += 1.0)
          {
            g_assert_cmpuint (test_pixel_at (s, bx - 1.5, cy + dy), ==, left);
            g_assert_cmpuint (test_pixel_at (s, bx + 1.5, cy + dy), ==, right);
          }
      }
  cairo_destroy (cr);
  cairo_surface_destroy (s);
  free (maps);

  for (int i = 0; i < K * K; i++)
    weights[i] = -0.0f;
  maps = viz_filter_grid_maps_new (&filters, &cm);
  viz_layer_figure_init_filters (&fig, "m.onnx", "conv1", &filters, maps, &cm, 0);
  g_assert_cmpstr (fig.panel_note, ==, "min 0   max 0");
  free (maps);
}

static void
test_hit (Fixture      *f,
          gconstpointer unused)
{
  (void) unused;
  const double width = 900, height = 500;
  double m = f->style.margin, line = viz_text_line_height (&f->style);
  double body_y = m + line;
  VizTileGridLayout layout;
  viz_tile_grid_layout (&layout, &f->fig.grid, &f->style, floor (width * 0.6), height - body_y);
  for (int k = 0; k < C; k++)
    {
      double r[4];
      g_assert_true (viz_tile_grid_tile_rect (&layout, k, r));
      g_assert_cmpint (viz_layer_figure_hit (&f->fig, &f->style, width, height,
                                             r[0] + r[2] / 2, body_y + r[1] + r[3] / 2), ==, k);
    }
  /* The caption and the large tile are no tile. */
  g_assert_cmpint (viz_layer_figure_hit (&f->fig, &f->style, width, height, 20, 5), ==, -1);
  double p[4];
  panel_rect (&f->style, width, height, p);
  g_assert_cmpint (viz_layer_figure_hit (&f->fig, &f->style, width, height, p[0] + 1,
                                         p[1] + 1), ==, -1);
}

static void
test_state_restored (Fixture      *f,
                     gconstpointer unused)
{
  (void) unused;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 700, 400);
  cairo_t *cr = cairo_create (s);
  cairo_translate (cr, 3, 4);
  cairo_set_source_rgb (cr, 0.1, 0.2, 0.3);
  cairo_set_line_width (cr, 7.0);
  cairo_matrix_t before, after;
  cairo_get_matrix (cr, &before);
  cairo_pattern_t *source = cairo_get_source (cr);
  viz_layer_figure_draw (cr, &f->fig, &f->style, 600, 350);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_get_matrix (cr, &after);
  g_assert_cmpmem (&before, sizeof before, &after, sizeof after);
  g_assert_true (cairo_get_source (cr) == source);
  g_assert_cmpfloat (cairo_get_line_width (cr), ==, 7.0);
  g_assert_false (cairo_has_current_point (cr));
  /* Drawn inside its box only: the clip is the figure's, then restored. */
  g_assert_cmpuint (test_pixel_at (s, 650, 380), ==, 0);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

/* The exported PNG is the drawing in the export style, pixel for pixel, at the size asked. */
static void
test_export (Fixture      *f,
             gconstpointer unused)
{
  (void) unused;
  g_autofree char *dir = test_util_make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "layer.png", NULL);
  NnError err = { 0 };
  g_assert_true (viz_layer_figure_export (&f->fig, path, 640, 360, &err));
  cairo_surface_t *read = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (read), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (read), ==, 640);
  g_assert_cmpint (cairo_image_surface_get_height (read), ==, 360);

  VizStyle style;
  viz_layer_figure_style_init (&style, &f->fig);
  g_assert_true (style.tile_labels);
  cairo_surface_t *direct = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 640, 360);
  cairo_t *cr = cairo_create (direct);
  viz_layer_figure_draw (cr, &f->fig, &style, 640, 360);
  cairo_destroy (cr);
  cairo_surface_flush (direct);
  cairo_surface_flush (read);
  int stride = cairo_image_surface_get_stride (direct);
  g_assert_cmpint (cairo_image_surface_get_stride (read), ==, stride);
  g_assert_cmpmem (cairo_image_surface_get_data (read), (gsize) stride * 360,
                   cairo_image_surface_get_data (direct), (gsize) stride * 360);
  cairo_surface_destroy (direct);
  cairo_surface_destroy (read);

  /* A bad extension is an error naming the file, and nothing is written. */
  g_autofree char *bad = g_build_filename (dir, "layer.bmp", NULL);
  g_assert_false (viz_layer_figure_export (&f->fig, bad, 640, 360, &err));
  g_assert_nonnull (strstr (err.message, "layer.bmp"));
  g_assert_cmpint (test_util_count_entries (dir), ==, 1);
  test_util_remove_tree (dir);
}

/* A token layer (1 class token + 2 x 2 patch tokens, 3 features) is shown as 3 features over
 * the 2 x 2 patch grid, the class token dropped; a rank-2 layer of 6 tokens (no square grid)
 * and a conv layer keep their shapes. */
static void
test_token_layer (void)
{
  enum { N = 5, E = 3 };
  float data[N * E];
  for (int t = 0; t < N; t++)
    for (int e = 0; e < E; e++)
      data[t * E + e] = (float) (10 * t + e);
  const int dims[2] = { N, E };
  NnNode node = { .op = NN_OP_SCALE };
  snprintf (node.name, sizeof node.name, "ln_1");
  node.shape = nn_shape_of (2, dims);
  NnShape view;
  int skip = -1;
  g_assert_true (viz_layer_figure_token_view (node.shape, &view, &skip));
  g_assert_cmpint (skip, ==, 1);
  g_assert_cmpint (view.c, ==, E);
  g_assert_cmpint (view.h, ==, 2);
  g_assert_cmpint (view.w, ==, 2);
  float grid[E * 4];
  viz_layer_figure_token_grid (grid, data, node.shape, view, skip);
  for (int e = 0; e < E; e++)
    for (int p = 0; p < 4; p++)
      g_assert_cmpfloat (grid[e * 4 + p], ==, (float) (10 * (1 + p) + e));

  VizColormap cm;
  viz_colormap_init (&cm, VIZ_COLORMAP_SEQUENTIAL, 0.0, 42.0);
  VizLayerFigure fig;
  viz_layer_figure_init_activations (&fig, "vit.onnx", &node, "x.png", grid, &cm, 2);
  g_assert_cmpstr (fig.caption, ==, "vit · ln_1 (scale 5 tokens × 3 features, patch grid "
                   "2×2) · input x.png · sequential map 0 to 42");
  g_assert_cmpstr (fig.panel_title, ==, "Feature 2 of 3");
  g_assert_cmpstr (fig.panel_note, ==, "min 12   max 42   mean 27");
  g_assert_cmpint (fig.grid.c, ==, E);
  g_assert_cmpint (fig.grid.h, ==, 2);
  g_assert_cmpint (fig.grid.w, ==, 2);

  const int six[2] = { 6, E };
  g_assert_false (viz_layer_figure_token_view (nn_shape_of (2, six), &view, &skip));
  g_assert_false (viz_layer_figure_token_view (nn_shape_chw (3, 2, 2), &view, &skip));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viz/layer-figure/token-layer", test_token_layer);
  g_test_add ("/viz/layer-figure/activations-text", Fixture, NULL, fixture_setup,
              test_activations_text, NULL);
  g_test_add ("/viz/layer-figure/filters-text", Fixture, NULL, fixture_setup,
              test_filters_text, NULL);
  g_test_add ("/viz/layer-figure/panel-pixels", Fixture, NULL, fixture_setup,
              test_panel_pixels, NULL);
  g_test_add ("/viz/layer-figure/cell-values", Fixture, NULL, fixture_setup,
              test_cell_values, NULL);
  g_test_add ("/viz/layer-figure/hit", Fixture, NULL, fixture_setup, test_hit,
              NULL);
  g_test_add ("/viz/layer-figure/state-restored", Fixture, NULL, fixture_setup,
              test_state_restored, NULL);
  g_test_add ("/viz/layer-figure/export", Fixture, NULL, fixture_setup, test_export,
              NULL);
  return g_test_run ();
}
