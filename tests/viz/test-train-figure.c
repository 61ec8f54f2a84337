/* SPDX-License-Identifier: MIT */
/* The training figure (Train view): the loss axis that lets early spikes run off the top, the
 * confusion matrix beside the plots or under them, cairo state, and export pixel for pixel the
 * drawing. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "test-pixel.h"
#include "test-util.h"
#include "viz.h"

#define STEPS  100
#define EPOCHS 2

typedef struct
{
  double         step_x[STEPS], step_loss[STEPS], step_acc[STEPS];
  double         epoch_x[EPOCHS], train_loss[EPOCHS], test_loss[EPOCHS];
  double         train_acc[EPOCHS], test_acc[EPOCHS];
  int            confusion[3 * 3];
  VizTrainFigure fig;
} Fixture;

/* Loss 1 falling to 0.5 with three spikes of 50 in the first steps; two epochs; a 3-class
 * confusion matrix. */
static void
fixture_setup (Fixture      *f,
               gconstpointer unused)
{
  (void) unused;
  for (int i = 0; i < STEPS; i++)
    {
      f->step_x[i] = i + 1;
      f->step_loss[i] = i < 3 ? 50.0 : 1.0 - 0.5 * i / STEPS;
      f->step_acc[i] = 0.5 + 0.4 * i / STEPS;
    }
  for (int e = 0; e < EPOCHS; e++)
    {
      f->epoch_x[e] = (e + 1) * STEPS / EPOCHS;
      f->train_loss[e] = 0.9 - 0.2 * e;
      f->test_loss[e] = e == 0 ? NAN : 0.8;
      f->train_acc[e] = 0.6 + 0.2 * e;
      f->test_acc[e] = e == 0 ? NAN : 0.7;
    }
  const int confusion[9] = { 30, 2, 1, 3, 25, 4, 0, 5, 30 };
  memcpy (f->confusion, confusion, sizeof confusion);
  f->fig = (VizTrainFigure) {
    .step_x = f->step_x, .step_loss = f->step_loss, .step_acc = f->step_acc,
    .n_steps = STEPS,
    .epoch_x = f->epoch_x, .epoch_train_loss = f->train_loss,
    .epoch_test_loss = f->test_loss, .epoch_train_acc = f->train_acc,
    .epoch_test_acc = f->test_acc, .n_epochs = EPOCHS,
    .confusion = f->confusion, .n_classes = 3,
  };
  snprintf (f->fig.caption, sizeof f->fig.caption, "smallcnn · dashes · 2 epochs");
}

static void
test_loss_top (Fixture      *f,
               gconstpointer unused)
{
  (void) unused;
  /* 1.25 x the 95th percentile (the loss of step 4, 0.98): the spikes of 50 run off the
   * top. */
  double top = viz_train_figure_loss_top (&f->fig);
  g_assert_cmpfloat (fabs (top - 1.25 * f->step_loss[4]), <, 1e-12);
  /* An epoch mean above that raises it. */
  f->train_loss[0] = 3.0;
  g_assert_cmpfloat (viz_train_figure_loss_top (&f->fig), ==, 3.0);
  /* Without spikes, or with few steps, the axis follows the data. */
  f->train_loss[0] = 0.9;
  for (int i = 0; i < 3; i++)
    f->step_loss[i] = 1.0;
  g_assert_cmpfloat (viz_train_figure_loss_top (&f->fig), ==, 0.0);
  f->step_loss[0] = 50.0;
  f->fig.n_steps = 19;
  g_assert_cmpfloat (viz_train_figure_loss_top (&f->fig), ==, 0.0);
}

/* Pixels of s in (x0, y0) - (x1, y1) that are not white. */
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

/* Ink right of the plots (wide) or under them (narrow), with and without the matrix. */
static void
confusion_ink (Fixture *f,
               int      width,
               int      height,
               int     *with,
               int     *without)
{
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (s);
  bool wide = width >= 760;
  int x0 = wide ? (int) floor (width * 0.58) + 1 : 0;
  int y0 = wide ? 0 : (int) (0.7 * height);
  for (int k = 0; k < 2; k++)
    {
      f->fig.confusion = k == 0 ? f->confusion : NULL;
      viz_train_figure_draw (cr, &f->fig, &style, width, height);
      g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
      *(k == 0 ? with : without) = count_ink (s, x0, y0, width, height);
    }
  cairo_destroy (cr);
  cairo_surface_destroy (s);
  f->fig.confusion = f->confusion;
}

static void
test_confusion_place (Fixture      *f,
                      gconstpointer unused)
{
  (void) unused;
  int with, without;
  /* Wide: beside the plots; without a matrix only its note is there. */
  confusion_ink (f, 900, 500, &with, &without);
  g_assert_cmpint (with, >, 20 * without);
  g_assert_cmpint (without, >, 0);
  /* Narrow: under the plots. */
  confusion_ink (f, 500, 700, &with, &without);
  g_assert_cmpint (with, >, 20 * without);
}

static void
test_state_and_export (Fixture      *f,
                       gconstpointer unused)
{
  (void) unused;
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 800, 500);
  cairo_t *cr = cairo_create (s);
  cairo_matrix_t before, after;
  cairo_translate (cr, 5, 6);
  cairo_set_line_width (cr, 3.0);
  cairo_get_matrix (cr, &before);
  viz_train_figure_draw (cr, &f->fig, &style, 700, 400);
  cairo_get_matrix (cr, &after);
  g_assert_cmpmem (&before, sizeof before, &after, sizeof after);
  g_assert_cmpfloat (cairo_get_line_width (cr), ==, 3.0);
  g_assert_false (cairo_has_current_point (cr));
  cairo_destroy (cr);
  cairo_surface_destroy (s);

  g_autofree char *dir = test_util_make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "train.png", NULL);
  NnError err = { 0 };
  g_assert_true (viz_train_figure_export (&f->fig, path, 800, 500, &err));
  cairo_surface_t *read = cairo_image_surface_create_from_png (path);
  s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 800, 500);
  cr = cairo_create (s);
  viz_train_figure_draw (cr, &f->fig, &style, 800, 500);
  cairo_destroy (cr);
  cairo_surface_flush (s);
  cairo_surface_flush (read);
  int stride = cairo_image_surface_get_stride (s);
  g_assert_cmpint (cairo_image_surface_get_stride (read), ==, stride);
  g_assert_cmpmem (cairo_image_surface_get_data (read), (gsize) stride * 500,
                   cairo_image_surface_get_data (s), (gsize) stride * 500);
  cairo_surface_destroy (read);
  cairo_surface_destroy (s);
  test_util_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/viz/train-figure/loss-top", Fixture, NULL, fixture_setup, test_loss_top, NULL);
  g_test_add ("/viz/train-figure/confusion-place", Fixture, NULL, fixture_setup,
              test_confusion_place, NULL);
  g_test_add ("/viz/train-figure/state-and-export", Fixture, NULL, fixture_setup,
              test_state_and_export, NULL);
  return g_test_run ();
}
