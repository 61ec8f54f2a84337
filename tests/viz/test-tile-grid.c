/* SPDX-License-Identifier: MIT */
/* Tile grid and colour bar drawn into image surfaces: tile colours on the shared scale, sharp
 * (nearest) pixels, layout and hit testing, cairo state restored, labels present. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "test-pixel.h"
#include "viz.h"

#define C 6
#define H 5
#define W 4

typedef struct
{
  float             data[C * H * W];
  VizColormap       cm;
  VizTileGrid       grid;
  VizStyle          style;
  cairo_surface_t  *surface;
  cairo_t          *cr;
} Fixture;

/* Channel 0 is constant at the minimum (-1), channel 2 constant at the maximum (10), channel 3
 * is the minimum except its pixel (0, 0) at the maximum, the others lie in between. */
static void
fixture_setup (Fixture      *f,
               gconstpointer unused)
{
  (void) unused;
  for (int k = 0; k < C; k++)
    for (int i = 0; i < H * W; i++)
      f->data[k * H * W + i] = (float) ((k * 7 + i * 3) % 9);
  for (int i = 0; i < H * W; i++)
    {
      f->data[0 * H * W + i] = -1.0f;
      f->data[2 * H * W + i] = 10.0f;
      f->data[3 * H * W + i] = -1.0f;
    }
  f->data[3 * H * W] = 10.0f;
  viz_colormap_init_for_data (&f->cm, VIZ_COLORMAP_SEQUENTIAL, f->data, C * H * W);
  f->grid = (VizTileGrid) {
    .data = f->data, .c = C, .h = H, .w = W, .colormap = &f->cm, .selected = -1,
  };
  viz_style_init (&f->style);
  f->surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 400, 300);
  f->cr = cairo_create (f->surface);
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer unused)
{
  (void) unused;
  cairo_destroy (f->cr);
  cairo_surface_destroy (f->surface);
}

static void
test_tile_colours (Fixture      *f,
                   gconstpointer unused)
{
  (void) unused;
  viz_tile_grid_draw (f->cr, &f->grid, &f->style, 400, 300);
  g_assert_cmpint (cairo_status (f->cr), ==, CAIRO_STATUS_SUCCESS);
  VizTileGridLayout layout;
  viz_tile_grid_layout (&layout, &f->grid, &f->style, 400, 300);
  g_assert_cmpint (layout.n, ==, C);
  /* Whole-pixel magnification, several screen pixels per data pixel. */
  double s = layout.tile_w / W;
  g_assert_cmpfloat (s, ==, floor (s));
  g_assert_cmpfloat (s, >=, 4.0);
  g_assert_cmpfloat (layout.tile_h / H, ==, s);

  uint32_t top = f->cm.lut[VIZ_COLORMAP_LUT_SIZE - 1], bottom = f->cm.lut[0];
  double r[4];
  /* The constant maximum channel is the top colour everywhere in its tile. */
  g_assert_true (viz_tile_grid_tile_rect (&layout, 2, r));
  for (double y = r[1] + 0.5; y < r[1] + r[3]; y += 1.0)
    for (double x = r[0] + 0.5; x < r[0] + r[2]; x += 1.0)
      g_assert_cmpuint (test_pixel_at (f->surface, x, y), ==, top);
  g_assert_true (viz_tile_grid_tile_rect (&layout, 0, r));
  g_assert_cmpuint (test_pixel_at (f->surface, r[0] + r[2] / 2, r[1] + r[3] / 2), ==, bottom);

  /* Nearest filtering: data pixel (0, 0) of channel 3 is an s x s block of the top colour,
   * and its neighbours are the bottom colour right up to the block's edge. */
  g_assert_true (viz_tile_grid_tile_rect (&layout, 3, r));
  for (int dy = 0; dy < (int) s; dy++)
    for (int dx = 0; dx < (int) s; dx++)
      g_assert_cmpuint (test_pixel_at (f->surface, r[0] + dx + 0.5, r[1] + dy + 0.5), ==, top);
  g_assert_cmpuint (test_pixel_at (f->surface, r[0] + s + 0.5, r[1] + 0.5), ==, bottom);
  g_assert_cmpuint (test_pixel_at (f->surface, r[0] + 0.5, r[1] + s + 0.5), ==, bottom);

  /* A middle value lands on the matching table entry. */
  g_assert_true (viz_tile_grid_tile_rect (&layout, 1, r));
  float v = f->data[1 * H * W + 2 * W + 1];
  g_assert_cmpuint (test_pixel_at (f->surface, r[0] + 1.5 * s, r[1] + 2.5 * s), ==,
                    viz_colormap_pixel (&f->cm, v));
}

/* A grid drawn from a prebuilt atlas (its data no longer read) looks the same. */
static void
test_atlas_reused (Fixture      *f,
                   gconstpointer unused)
{
  (void) unused;
  viz_tile_grid_draw (f->cr, &f->grid, &f->style, 400, 300);
  cairo_surface_t *atlas = viz_tile_grid_atlas_new (&f->grid);
  g_assert_nonnull (atlas);
  VizTileGrid cached = f->grid;
  cached.data = NULL;
  cached.atlas = atlas;
  cairo_surface_t *again = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 400, 300);
  cairo_t *cr = cairo_create (again);
  viz_tile_grid_draw (cr, &cached, &f->style, 400, 300);
  cairo_destroy (cr);
  cairo_surface_flush (again);
  cairo_surface_flush (f->surface);
  int stride = cairo_image_surface_get_stride (again);
  g_assert_cmpmem (cairo_image_surface_get_data (again), stride * 300,
                   cairo_image_surface_get_data (f->surface), stride * 300);
  /* The caller's atlas is borrowed, not consumed. */
  g_assert_cmpuint (cairo_surface_get_reference_count (atlas), ==, 1);
  cairo_surface_destroy (again);
  cairo_surface_destroy (atlas);
}

static void
test_layout_and_hit (Fixture      *f,
                     gconstpointer unused)
{
  (void) unused;
  VizTileGridLayout layout;
  viz_tile_grid_layout (&layout, &f->grid, &f->style, 400, 300);
  g_assert_cmpint (layout.cols * layout.rows, >=, C);
  g_assert_cmpint ((layout.cols - 1) * layout.rows, <, C);
  for (int k = 0; k < C; k++)
    {
      double r[4];
      g_assert_true (viz_tile_grid_tile_rect (&layout, k, r));
      g_assert_cmpint (viz_tile_grid_hit (&layout, r[0] + r[2] / 2, r[1] + r[3] / 2), ==, k);
      g_assert_cmpint (viz_tile_grid_hit (&layout, r[0], r[1]), ==, k);
      /* The gap right of a tile belongs to no tile. */
      g_assert_cmpint (viz_tile_grid_hit (&layout, r[0] + r[2] + 0.5, r[1] + 1), ==, -1);
      /* Inside the drawing, left of the colour bar. */
      g_assert_cmpfloat (r[0], >=, f->style.margin);
      g_assert_cmpfloat (r[0] + r[2], <=, layout.bar_x);
      g_assert_cmpfloat (r[1] + r[3], <=, 300 - f->style.margin);
    }
  g_assert_false (viz_tile_grid_tile_rect (&layout, C, (double[4]) { 0 }));
  g_assert_cmpint (viz_tile_grid_hit (&layout, 1, 1), ==, -1);
  g_assert_cmpfloat (layout.bar_x + layout.bar_w, <=, 400);

  /* Many channels in a small area: tiles shrink below one pixel per data pixel but stay
   * inside the area. */
  VizTileGrid many = f->grid;
  many.c = 1;
  many.h = 200;
  many.w = 200;
  viz_tile_grid_layout (&layout, &many, &f->style, 150, 100);
  g_assert_cmpfloat (layout.tile_w, >, 0.0);
  g_assert_cmpfloat (layout.tile_w, <, 200.0);
  g_assert_cmpfloat (layout.y0 + layout.tile_h, <=, 100 - f->style.margin + 1e-9);
}

static void
test_state_restored (Fixture      *f,
                     gconstpointer unused)
{
  (void) unused;
  cairo_translate (f->cr, 3, 4);
  cairo_scale (f->cr, 0.75, 0.75);
  cairo_set_source_rgb (f->cr, 0.1, 0.2, 0.3);
  cairo_set_line_width (f->cr, 7.0);
  cairo_matrix_t before, after;
  cairo_get_matrix (f->cr, &before);
  cairo_pattern_t *source = cairo_get_source (f->cr);

  f->grid.selected = 4;
  f->style.tile_labels = true;
  viz_tile_grid_draw (f->cr, &f->grid, &f->style, 400, 300);

  g_assert_cmpint (cairo_status (f->cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_get_matrix (f->cr, &after);
  g_assert_cmpmem (&before, sizeof before, &after, sizeof after);
  g_assert_true (cairo_get_source (f->cr) == source);
  double r, g, b, a;
  g_assert_cmpint (cairo_pattern_get_rgba (source, &r, &g, &b, &a), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpfloat (r, ==, 0.1);
  g_assert_cmpfloat (b, ==, 0.3);
  g_assert_cmpfloat (cairo_get_line_width (f->cr), ==, 7.0);
  g_assert_false (cairo_has_current_point (f->cr));
}

static int
count_non_background (cairo_surface_t *s,
                      double           x0,
                      double           y0,
                      double           x1,
                      double           y1)
{
  int n = 0;
  for (double y = floor (y0) + 0.5; y < y1; y += 1.0)
    for (double x = floor (x0) + 0.5; x < x1; x += 1.0)
      if (test_pixel_at (s, x, y) != 0xffffffffu)
        n++;
  return n;
}

/* The first and last rows of the colour bar (its outline), found in the drawing. */
static void
bar_rows (const Fixture           *f,
          const VizTileGridLayout *layout,
          double                  *first,
          double                  *last)
{
  double bx = layout->bar_x + f->style.colorbar_width / 2;
  *first = *last = -1.0;
  for (double y = layout->bar_y + 0.5; y < layout->bar_y + layout->bar_h; y += 1.0)
    if (test_pixel_at (f->surface, bx, y) != 0xffffffffu)
      {
        if (*first < 0.0)
          *first = y;
        *last = y;
      }
  g_assert_cmpfloat (*first, >=, 0.0);
  g_assert_cmpfloat (*last - *first, >, 100.0);
}

static void
assert_close_pixel (uint32_t a,
                    uint32_t b)
{
  for (int shift = 0; shift < 32; shift += 8)
    g_assert_cmpint (abs ((int) ((a >> shift) & 0xff) - (int) ((b >> shift) & 0xff)), <=, 8);
}

static void
test_colorbar_labels (Fixture      *f,
                      gconstpointer unused)
{
  (void) unused;
  viz_tile_grid_draw (f->cr, &f->grid, &f->style, 400, 300);
  VizTileGridLayout layout;
  viz_tile_grid_layout (&layout, &f->grid, &f->style, 400, 300);

  /* The bar itself: the top colour at its top, the bottom colour at its bottom. */
  double first, last;
  bar_rows (f, &layout, &first, &last);
  double bx = layout.bar_x + f->style.colorbar_width / 2;
  assert_close_pixel (test_pixel_at (f->surface, bx, first + 2.0),
                      f->cm.lut[VIZ_COLORMAP_LUT_SIZE - 1]);
  assert_close_pixel (test_pixel_at (f->surface, bx, last - 2.0), f->cm.lut[0]);

  /* Tick labels read the real values: 0, 2, ... 10 for data in [-1, 10]; each has text
   * beside its tick, right of the bar. */
  double ticks[16];
  int n = viz_colorbar_ticks (f->cm.lo, f->cm.hi, ticks, 16);
  g_assert_cmpint (n, ==, 6);
  double lx0 = layout.bar_x + f->style.colorbar_width + 5;
  double lx1 = layout.bar_x + layout.bar_w;
  for (int i = 0; i < n; i++)
    {
      g_assert_cmpfloat (ticks[i], ==, 2.0 * i);
      double y = first + (last - first) * (f->cm.hi - ticks[i]) / (f->cm.hi - f->cm.lo);
      g_assert_cmpint (count_non_background (f->surface, lx0, y - 3, lx1, y + 3), >, 8);
    }
  /* Between two labels there is no text. */
  double gap_y = first + (last - first) * (f->cm.hi - 5.0) / (f->cm.hi - f->cm.lo);
  g_assert_cmpint (count_non_background (f->surface, lx0, gap_y - 1, lx1, gap_y + 1), ==, 0);
}

static void
test_ticks (void)
{
  double t[16];
  int n = viz_colorbar_ticks (0.0, 1.0, t, 16);
  g_assert_cmpint (n, ==, 6);
  g_assert_cmpfloat (t[0], ==, 0.0);
  g_assert_cmpfloat (fabs (t[5] - 1.0), <, 1e-12);
  n = viz_colorbar_ticks (-3.7, 12.2, t, 16);
  g_assert_cmpint (n, ==, 3);
  g_assert_cmpfloat (t[0], ==, 0.0);
  g_assert_cmpfloat (t[1], ==, 5.0);
  g_assert_cmpfloat (t[2], ==, 10.0);
  n = viz_colorbar_ticks (-0.03, 0.03, t, 16);
  for (int i = 0; i < n; i++)
    g_assert_true (t[i] >= -0.03 && t[i] <= 0.03);
  g_assert_cmpint (n, >=, 3);
  /* Narrow ranges far from zero still get round ticks; an empty range gets its ends. */
  n = viz_colorbar_ticks (1.01, 1.02, t, 16);
  g_assert_cmpint (n, ==, 6);
  g_assert_cmpfloat (fabs (t[1] - 1.012), <, 1e-12);
  n = viz_colorbar_ticks (3.0, 3.0, t, 16);
  g_assert_cmpint (n, ==, 2);
  g_assert_cmpfloat (t[0], ==, 3.0);
  g_assert_cmpfloat (t[1], ==, 3.0);
  /* At most `max` ticks. */
  g_assert_cmpint (viz_colorbar_ticks (0.0, 1.0, t, 3), ==, 3);
}

static void
test_selected_and_labels (Fixture      *f,
                          gconstpointer unused)
{
  (void) unused;
  f->style.tile_labels = true;
  f->grid.selected = 1;
  viz_tile_grid_draw (f->cr, &f->grid, &f->style, 400, 300);
  VizTileGridLayout layout;
  viz_tile_grid_layout (&layout, &f->grid, &f->style, 400, 300);
  double r[4];
  viz_tile_grid_tile_rect (&layout, 1, r);
  /* The accent outline just outside the selected tile (orange: red high, blue low). */
  uint32_t p = test_pixel_at (f->surface, r[0] + r[2] / 2, r[1] - 1.5);
  g_assert_cmpint ((int) ((p >> 16) & 0xff), >, 200);
  g_assert_cmpint ((int) (p & 0xff), <, 80);
  viz_tile_grid_tile_rect (&layout, 0, r);
  g_assert_cmpuint (test_pixel_at (f->surface, r[0] + r[2] / 2, r[1] - 1.5), ==, 0xffffffffu);
  /* A label row under each tile, with text in it. */
  g_assert_cmpfloat (layout.pitch_y - layout.tile_h - f->style.gap, >, 8.0);
  g_assert_cmpint (count_non_background (f->surface, r[0], r[1] + r[3] + 2, r[0] + r[2],
                                         r[1] + layout.pitch_y - f->style.gap), >, 5);
}

/* 768 channels of 2 x 2 in 400 x 300: tiles narrower than "767", so only every step-th tile is
 * labelled, with room for its number, and the label row under an unlabelled tile stays empty;
 * the six channels of the fixture all have theirs. */
static void
test_many_labels (Fixture      *f,
                  gconstpointer unused)
{
  (void) unused;
  f->style.tile_labels = true;
  VizTileGridLayout layout;
  viz_tile_grid_layout (&layout, &f->grid, &f->style, 400, 300);
  g_assert_cmpint (viz_tile_grid_label_step (f->cr, &f->style, &layout), ==, 1);

  enum { MANY = 768 };
  float *data = g_new0 (float, MANY * 4);
  for (int i = 0; i < MANY * 4; i++)
    data[i] = (float) (i % 7);
  VizColormap cm;
  viz_colormap_init_for_data (&cm, VIZ_COLORMAP_SEQUENTIAL, data, MANY * 4);
  VizTileGrid grid = { .data = data, .c = MANY, .h = 2, .w = 2, .colormap = &cm,
                       .selected = -1 };
  viz_tile_grid_layout (&layout, &grid, &f->style, 400, 300);
  const int step = viz_tile_grid_label_step (f->cr, &f->style, &layout);
  g_assert_cmpint (step, >, 1);
  g_assert_cmpfloat (step * layout.pitch_x, >=, viz_text_width (f->cr, &f->style, "767"));
  g_assert_cmpfloat ((step == 2 ? 1 : step / 2) * layout.pitch_x, <,
                     viz_text_width (f->cr, &f->style, "767") + 8.0);
  viz_tile_grid_draw (f->cr, &grid, &f->style, 400, 300);
  double r[4];
  g_assert_true (viz_tile_grid_tile_rect (&layout, step, r));
  g_assert_cmpint (count_non_background (f->surface, r[0], r[1] + r[3] + 2, r[0] + r[2],
                                         r[1] + layout.pitch_y - f->style.gap), >, 0);
  g_assert_true (viz_tile_grid_tile_rect (&layout, step + 1, r));
  g_assert_cmpint (count_non_background (f->surface, r[0] + 1, r[1] + r[3] + 2,
                                         r[0] + r[2] - 1, r[1] + layout.pitch_y - f->style.gap),
                   ==, 0);
  g_free (data);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/viz/tile-grid/tile-colours", Fixture, NULL, fixture_setup, test_tile_colours,
              fixture_teardown);
  g_test_add ("/viz/tile-grid/atlas-reused", Fixture, NULL, fixture_setup, test_atlas_reused,
              fixture_teardown);
  g_test_add ("/viz/tile-grid/layout-and-hit", Fixture, NULL, fixture_setup,
              test_layout_and_hit, fixture_teardown);
  g_test_add ("/viz/tile-grid/state-restored", Fixture, NULL, fixture_setup,
              test_state_restored, fixture_teardown);
  g_test_add ("/viz/tile-grid/colorbar-labels", Fixture, NULL, fixture_setup,
              test_colorbar_labels, fixture_teardown);
  g_test_add ("/viz/tile-grid/selected-and-labels", Fixture, NULL, fixture_setup,
              test_selected_and_labels, fixture_teardown);
  g_test_add ("/viz/tile-grid/many-labels", Fixture, NULL, fixture_setup, test_many_labels,
              fixture_teardown);
  g_test_add_func ("/viz/colorbar/ticks", test_ticks);
  return g_test_run ();
}
