/* SPDX-License-Identifier: MIT */
/* PFNet modules in the demo model: found from either of their convs, the frozen bank equal to
 * the published kernels, and the tracing of an output channel through the 1x1 weights. */
#include <cairo.h>
#include <math.h>

#include "scope-model.h"
#include "scope-pfm.h"
#include "test-util.h"

static ScopeModel *
load_demo (void)
{
  const char *dir = g_getenv ("CNNSCOPE_DATA_DIR");
  g_assert_nonnull (dir);
  g_autofree char *path = g_build_filename (dir, "demo-pfnet-fashion.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  ScopeModel *model = scope_model_load (path, &error);
  g_assert_no_error (error);
  return model;
}

static void
test_find (void)
{
  g_autoptr (ScopeModel) model = load_demo ();
  const NnGraph *g = scope_model_get_graph (model);
  float bank[16][9];
  nn_pfm_bank_kernels (bank);

  /* The first module: one input channel, 16 filters each. */
  ScopePfm a, b;
  g_assert_true (scope_pfm_find (&a, g, nn_graph_find (g, "conv1.conv1x1")));
  g_assert_true (scope_pfm_find (&b, g, nn_graph_find (g, "conv1.predefined")));
  g_assert_cmpint (a.predefined, ==, b.predefined);
  g_assert_cmpint (a.conv1x1, ==, b.conv1x1);
  g_assert_cmpint (a.in_c, ==, 1);
  g_assert_cmpint (a.f, ==, 16);
  g_assert_cmpint (a.mid_c, ==, 16);
  g_assert_cmpint (a.out_c, ==, g->nodes[a.conv1x1].shape.c);
  for (int j = 0; j < a.mid_c; j++)
    test_util_assert_close (a.bank + j * 9, bank[j % 16], 9, 1e-6, "conv1 kernel %d", j);

  /* A later module: one filter per channel, kernel j % 16 on channel j. */
  ScopePfm c;
  g_assert_true (scope_pfm_find (&c, g, nn_graph_find (g, "layer2.0.pfm1.conv1x1")));
  g_assert_cmpint (c.f, ==, 1);
  g_assert_cmpint (c.mid_c, ==, c.in_c);
  for (int j = 0; j < c.mid_c; j++)
    test_util_assert_close (c.bank + j * 9, bank[j % 16], 9, 1e-6, "layer2 kernel %d", j);

  /* Other layers are not modules. */
  g_assert_false (scope_pfm_find (&c, g, 0));
  g_assert_false (scope_pfm_find (&c, g, nn_graph_find (g, "layer2.0.pfm1.norm1")));
  g_assert_false (scope_pfm_find (&c, g, g->n_nodes));
}

static void
test_trace (void)
{
  g_autoptr (ScopeModel) model = load_demo ();
  const NnGraph *g = scope_model_get_graph (model);
  ScopePfm p;
  g_assert_true (scope_pfm_find (&p, g, nn_graph_find (g, "layer2.0.pfm1.conv1x1")));
  int o = 5;
  g_autofree ScopePfmDriver *all = g_new (ScopePfmDriver, p.mid_c);
  g_assert_cmpint (scope_pfm_trace (&p, o, all, p.mid_c), ==, p.mid_c);
  const float *row = p.mix + o * p.mid_c;
  float largest = 0.0f;
  for (int j = 0; j < p.mid_c; j++)
    largest = fmaxf (largest, fabsf (row[j]));
  g_assert_cmpfloat (fabsf (all[0].weight), ==, largest);
  gboolean *seen = g_new0 (gboolean, p.mid_c);
  for (int i = 0; i < p.mid_c; i++)
    {
      const ScopePfmDriver *d = &all[i];
      g_assert_cmpfloat (d->weight, ==, row[d->channel]);
      g_assert_cmpint (d->input, ==, d->channel / p.f);
      g_assert_cmpint (d->kernel, ==, d->channel % 16);
      g_assert_false (seen[d->channel]);
      seen[d->channel] = TRUE;
      if (i > 0)
        g_assert_cmpfloat (fabsf (all[i - 1].weight), >=, fabsf (d->weight));
    }
  g_free (seen);
  ScopePfmDriver top[3];
  g_assert_cmpint (scope_pfm_trace (&p, o, top, 3), ==, 3);
  g_assert_cmpint (top[2].channel, ==, all[2].channel);
  g_assert_cmpint (scope_pfm_trace (&p, p.out_c, top, 3), ==, 0);
}

static void
test_draw (void)
{
  /* The module figure draws, hits the row it drew outlined, and restores the state. */
  g_autoptr (ScopeModel) model = load_demo ();
  const NnGraph *g = scope_model_get_graph (model);
  ScopePfm p;
  g_assert_true (scope_pfm_find (&p, g, nn_graph_find (g, "layer2.0.pfm1.conv1x1")));
  VizStyle style;
  viz_style_init (&style);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 900, 600);
  cairo_t *cr = cairo_create (s);
  cairo_set_line_width (cr, 4.0);
  scope_pfm_draw (cr, &p, 5, "caption", &style, 900, 600);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpfloat (cairo_get_line_width (cr), ==, 4.0);
  /* Scan the right part for the row under the pointer: every hit row is in range and the
   * rows grow downwards. */
  int last = -1, hits = 0;
  for (double y = 0; y < 600; y += 3)
    {
      int row = scope_pfm_hit (&p, "caption", &style, 900, 600, 500, y);
      if (row < 0)
        continue;
      g_assert_cmpint (row, <, p.out_c);
      g_assert_cmpint (row, >=, last);
      last = row;
      hits++;
    }
  g_assert_cmpint (hits, >, 10);
  g_assert_cmpint (last, ==, p.out_c - 1);
  g_assert_cmpint (scope_pfm_hit (&p, "caption", &style, 900, 600, 10, 300), ==, -1);
  cairo_destroy (cr);
  cairo_surface_destroy (s);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/pfm/find", test_find);
  g_test_add_func ("/app/pfm/trace", test_trace);
  g_test_add_func ("/app/pfm/draw", test_draw);
  return g_test_run ();
}
