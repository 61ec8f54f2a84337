/* SPDX-License-Identifier: MIT */
/* The attribution figure (Explain view, cnnscope-cli cam and saliency): caption and title
 * rules, the overlay's pixels, the faithfulness part only when asked for, cairo state, and
 * export pixel for pixel the drawing. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "test-pixel.h"
#include "test-util.h"
#include "viz.h"

#define H 8
#define W 8

typedef struct
{
  NnModel          *model;
  float             image[H * W];
  float             map[H * W];
  VizColormap       cm;
  VizExplainFigure  fig;
} Fixture;

/* A two-class model (the dashes one: horizontal, vertical), a grey image and a constant map, so
 * that the overlay is one colour. */
static void
fixture_setup (Fixture      *f,
               gconstpointer unused)
{
  (void) unused;
  f->model = nn_synth_dashes_model_new (16);
  g_assert_nonnull (f->model);
  for (int p = 0; p < H * W; p++)
    {
      f->image[p] = 0.25f;
      f->map[p] = 2.0f;
    }
  viz_heatmap_colormap_init (&f->cm, f->map, H * W, false, 4.0);
  memset (&f->fig, 0, sizeof f->fig);
  f->fig.n_panels = 1;
  VizExplainPanel *p = &f->fig.panels[0];
  snprintf (p->method, sizeof p->method, "gradcam");
  viz_explain_figure_panel_title (p->title, sizeof p->title, "gradcam", f->model, 1, "detect",
                                  NULL);
  p->heatmap = (VizHeatmap) {
    .image = f->image, .c = 1, .map = f->map, .h = H, .w = W, .colormap = &f->cm,
    .opacity = 0.5,
  };
  viz_explain_figure_add_prediction (&f->fig, f->model, 1, 0.75);
  viz_explain_figure_add_prediction (&f->fig, f->model, 0, 0.25);
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer unused)
{
  (void) unused;
  nn_model_free (f->model);
}

static void
test_text (Fixture      *f,
           gconstpointer unused)
{
  (void) unused;
  g_assert_cmpstr (viz_explain_method_label ("ig"), ==, "Integrated Gradients");
  g_assert_cmpstr (viz_explain_method_label ("guided-gradcam"), ==, "Guided Grad-CAM");
  g_assert_cmpstr (viz_explain_method_label ("unknown"), ==, "unknown");
  g_assert_cmpstr (f->fig.panels[0].title, ==, "Grad-CAM · vertical · detect");
  char title[256];
  viz_explain_figure_panel_title (title, sizeof title, "ig", f->model, 0, NULL, NULL);
  g_assert_cmpstr (title, ==, "Integrated Gradients · horizontal");
  viz_explain_figure_panel_title (title, sizeof title, "ig", f->model, -1, NULL, "no layer");
  g_assert_cmpstr (title, ==, "Integrated Gradients: no layer");
  viz_explain_figure_panel_title (title, sizeof title, "ig", f->model, -1, NULL, NULL);
  g_assert_cmpstr (title, ==, "Integrated Gradients");
  /* Class 7 is not the model's: "?". */
  viz_explain_figure_panel_title (title, sizeof title, "gradcam", f->model, 7, NULL, NULL);
  g_assert_cmpstr (title, ==, "Grad-CAM · ?");
  g_assert_cmpint (f->fig.k, ==, 2);
  g_assert_cmpstr (f->fig.top_label[0], ==, "vertical (1)");
  g_assert_cmpfloat (f->fig.top_probability[1], ==, 0.25);

  NnFaithSettings faith;
  nn_faith_settings_init (&faith);
  faith.seed = 3;
  VizExplainCaption c = {
    .model_path = "/m/dashes.safetensors", .model = f->model, .input_path = "/in/a.png",
    .target = 1, .probability = 0.75, .top_prediction = true, .layer = "detect",
    .methods = { "gradcam", "ig" }, .n_methods = 2, .opacity = 0.6, .fixed_scale = 0.0,
    .faithfulness = true, .faith = &faith, .mask_pixels = -1,
  };
  char buf[1024];
  viz_explain_figure_caption (buf, sizeof buf, &c);
  g_assert_cmpstr (buf, ==,
                   "dashes.safetensors · input a.png · class 1 vertical (p = 0.750), the top "
                   "prediction · layer detect\n"
                   "method gradcam vs ig · opacity 0.60 · positive-only colormap · per-image "
                   "scale\n"
                   "deletion/insertion 20 steps (insertion from a blur) · ROAD 10–90 %, noise "
                   "0.01 · randomization seed 3");

  /* A class named by its number (an ONNX model's "0", "1", ...) is not named twice. */
  char *vertical = f->model->labels[1];
  f->model->labels[1] = (char *) "1";
  viz_explain_figure_caption (buf, sizeof buf, &c);
  g_assert_true (g_str_has_prefix (buf, "dashes.safetensors · input a.png · class 1 (p = 0.750), "
                                   "the top prediction · layer detect\n"));
  VizExplainFigure numbered = { 0 };
  viz_explain_figure_add_prediction (&numbered, f->model, 1, 0.5);
  g_assert_cmpstr (numbered.top_label[0], ==, "1");
  f->model->labels[1] = vertical;

  /* Before the map, a chosen class, a signed fixed scale, a CT slice, a mask without the
   * faithfulness metrics. */
  NnCtWindow bone = NN_CT_WINDOW_BONE;
  c = (VizExplainCaption) {
    .model_path = "m.onnx", .model = f->model, .target = -1, .methods = { "eigencam" },
    .n_methods = 1, .opacity = 1.0, .is_signed = true, .fixed_scale = 0.5,
    .display_window = &bone, .faith = &faith, .mask_pixels = 12,
  };
  viz_explain_figure_caption (buf, sizeof buf, &c);
  g_assert_cmpstr (buf, ==,
                   "m.onnx · input none · layer –\n"
                   "method eigencam · opacity 1.00 · signed (diverging) colormap · fixed scale "
                   "(max 0.5)\n"
                   "CT slice · model window none · display window bone (W 2000, L 300)\n"
                   "mask of 12 px, pointing game within 15 px");

  /* The settings are the given ones, not the defaults. */
  faith = (NnFaithSettings) { .metrics = NN_FAITH_ALL, .steps = 8, .blur_divisor = 4.0f,
                              .road_points = 4, .road_noise = 0.05f,
                              .pointing_tolerance = 2.5f, .seed = 11 };
  c = (VizExplainCaption) {
    .model_path = "m.onnx", .model = f->model, .target = -1, .methods = { "ig" },
    .n_methods = 1, .opacity = 0.5, .faithfulness = true, .faith = &faith, .mask_pixels = 3,
  };
  viz_explain_figure_caption (buf, sizeof buf, &c);
  g_assert_nonnull (strstr (buf, "\ndeletion/insertion 8 steps (insertion from a blur) · "
                            "ROAD 20–80 %, noise 0.05 · randomization seed 11 · mask of 3 px, "
                            "pointing game within 2.5 px"));

  /* Integrated Gradients works on the input: its caption names no layer, even when one is
   * chosen for the CAM methods (defect 12 of issue 15). */
  c.layer = "detect";
  viz_explain_figure_caption (buf, sizeof buf, &c);
  g_assert_null (strstr (buf, "layer"));
  g_assert_true (g_str_has_prefix (buf, "m.onnx · input none\nmethod ig ·"));
}

/* A caption wraps inside a narrow figure (the Explain view in a small window) and is drawn as
 * before when it fits. */
static void
test_caption_wraps (Fixture      *f,
                    gconstpointer unused)
{
  (void) f;
  (void) unused;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 400, 200);
  cairo_t *cr = cairo_create (s);
  VizStyle style;
  viz_style_init (&style);
  const char *text = "demo-pfnet-fashion.safetensors · input fashion-ankle-boot.png · class 9 "
                     "Ankle boot (p = 0.999), the top prediction\nmethod gradcam";
  double line = viz_text_line_height (&style);
  double lines = viz_text_draw_lines (cr, &style, text, 0.0, 0.0);
  g_assert_cmpfloat (lines, ==, 2.0 * line);
  g_assert_cmpfloat (viz_text_draw_wrapped (cr, &style, text, 0.0, 0.0, 5000.0), ==, lines);
  double narrow = viz_text_draw_wrapped (cr, &style, text, 0.0, 0.0, 200.0);
  g_test_message ("%.0f px of caption at 200 px wide, %.0f px unwrapped", narrow, lines);
  g_assert_cmpfloat (narrow, >=, 4.0 * line);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

/* What the metrics table says: numbers, "…" while they come, "–" once cancelled, and "n/a"
 * for the faithfulness of a map of zeros, which ranks no pixels (defect 12 of issue 15). */
static void
test_metric_text (Fixture      *f,
                  gconstpointer unused)
{
  (void) unused;
  char text[64];
  VizExplainMetrics *m = &f->fig.panels[0].metrics;
  viz_explain_figure_format_metric (text, sizeof text, &f->fig, 0, VIZ_EXPLAIN_ROW_RHO);
  g_assert_cmpstr (text, ==, "…");
  m->has = VIZ_EXPLAIN_HAS_RANDOMIZATION;
  m->rho = 0.25;
  viz_explain_figure_format_metric (text, sizeof text, &f->fig, 0, VIZ_EXPLAIN_ROW_RHO);
  g_assert_cmpstr (text, ==, "0.250");
  m->stopped = true;
  viz_explain_figure_format_metric (text, sizeof text, &f->fig, 0, VIZ_EXPLAIN_ROW_DELETION);
  g_assert_cmpstr (text, ==, "–");
  viz_explain_figure_format_metric (text, sizeof text, &f->fig, 0, VIZ_EXPLAIN_ROW_RHO);
  g_assert_cmpstr (text, ==, "0.250");

  for (int p = 0; p < H * W; p++)
    f->map[p] = 0.0f;
  m->has |= VIZ_EXPLAIN_HAS_DELETION;
  for (int r = VIZ_EXPLAIN_ROW_DELETION; r <= VIZ_EXPLAIN_ROW_RHO; r++)
    {
      viz_explain_figure_format_metric (text, sizeof text, &f->fig, 0, (VizExplainRow) r);
      g_assert_cmpstr (text, ==, "n/a");
    }
}

/* Pixels of s in the rectangle (x0, y0) - (x1, y1) that are not white. */
static int
count_ink (cairo_surface_t *s,
           int              x0,
           int              y0,
           int              x1,
           int              y1)
{
  int n = 0;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      n += (test_pixel_at (s, x + 0.5, y + 0.5) & 0xffffffu) != 0xffffffu;
  return n;
}

static void
test_pixels (Fixture      *f,
             gconstpointer unused)
{
  (void) unused;
  VizStyle style;
  viz_style_init (&style);
  const int width = 900, height = 600;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (s);
  viz_explain_figure_draw (cr, &f->fig, &style, width, height);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);

  /* The overlay is one colour: the blend of the grey image and the map's colour, as the
   * heatmap's own surface has it, in the middle of the left 60 %. */
  cairo_surface_t *blend = viz_heatmap_surface_new (&f->fig.panels[0].heatmap);
  uint32_t want = test_pixel_at (blend, 0.5, 0.5);
  g_assert_cmphex (test_pixel_at (s, 0.6 * width / 2 - 20, height / 2.0), ==, want);
  cairo_surface_destroy (blend);

  /* Without the faithfulness part, the lower right (where the curves go) is empty; with it,
   * the curves and their axes are drawn there. */
  g_assert_cmpint (count_ink (s, 0.6 * width, height / 2, width, height), ==, 0);
  f->fig.faithfulness = true;
  VizExplainMetrics *m = &f->fig.panels[0].metrics;
  m->has = VIZ_EXPLAIN_HAS_DELETION | VIZ_EXPLAIN_HAS_INSERTION;
  m->deletion = (NnCurve) { .n = 3, .fraction = { 0, 0.5f, 1 }, .prob = { 1, 0.2f, 0 } };
  m->insertion = (NnCurve) { .n = 3, .fraction = { 0, 0.5f, 1 }, .prob = { 0, 0.8f, 1 } };
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  viz_explain_figure_draw (cr, &f->fig, &style, width, height);
  g_assert_cmpint (count_ink (s, 0.6 * width, height / 2, width, height), >, 500);

  /* State restored. */
  cairo_matrix_t before, after;
  cairo_translate (cr, 5, 6);
  cairo_set_line_width (cr, 3.0);
  cairo_get_matrix (cr, &before);
  viz_explain_figure_draw (cr, &f->fig, &style, 500, 300);
  cairo_get_matrix (cr, &after);
  g_assert_cmpmem (&before, sizeof before, &after, sizeof after);
  g_assert_cmpfloat (cairo_get_line_width (cr), ==, 3.0);
  g_assert_false (cairo_has_current_point (cr));
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

static void
test_export (Fixture      *f,
             gconstpointer unused)
{
  (void) unused;
  g_autofree char *dir = test_util_make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "explain.png", NULL);
  NnError err = { 0 };
  g_assert_true (viz_explain_figure_export (&f->fig, path, 640, 400, &err));
  cairo_surface_t *read = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_image_surface_get_width (read), ==, 640);
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 640, 400);
  cairo_t *cr = cairo_create (s);
  viz_explain_figure_draw (cr, &f->fig, &style, 640, 400);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  cairo_surface_flush (read);
  int stride = cairo_image_surface_get_stride (s);
  g_assert_cmpint (cairo_image_surface_get_stride (read), ==, stride);
  g_assert_cmpmem (cairo_image_surface_get_data (read), (gsize) stride * 400,
                   cairo_image_surface_get_data (s), (gsize) stride * 400);
  cairo_surface_destroy (read);
  cairo_surface_destroy (s);
  test_util_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/viz/explain-figure/text", Fixture, NULL, fixture_setup, test_text,
              fixture_teardown);
  g_test_add ("/viz/explain-figure/caption-wraps", Fixture, NULL, fixture_setup,
              test_caption_wraps, fixture_teardown);
  g_test_add ("/viz/explain-figure/metric-text", Fixture, NULL, fixture_setup,
              test_metric_text, fixture_teardown);
  g_test_add ("/viz/explain-figure/pixels", Fixture, NULL, fixture_setup, test_pixels,
              fixture_teardown);
  g_test_add ("/viz/explain-figure/export", Fixture, NULL, fixture_setup, test_export,
              fixture_teardown);
  return g_test_run ();
}
