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
  const NnModel *nm = scope_model_get_nn_model (model);
  float bank[16][9];
  nn_pfm_bank_kernels (bank);

  /* The first module: one input channel, 16 filters each. */
  ScopePfm a, b;
  g_assert_true (scope_pfm_find (&a, nm, nn_graph_find (g, "conv1.conv1x1")));
  g_assert_true (scope_pfm_find (&b, nm, nn_graph_find (g, "conv1.predefined")));
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
  g_assert_true (scope_pfm_find (&c, nm, nn_graph_find (g, "layer2.0.pfm1.conv1x1")));
  g_assert_cmpint (c.f, ==, 1);
  g_assert_cmpint (c.mid_c, ==, c.in_c);
  for (int j = 0; j < c.mid_c; j++)
    test_util_assert_close (c.bank + j * 9, bank[j % 16], 9, 1e-6, "layer2 kernel %d", j);

  /* Other layers are not modules. */
  g_assert_false (scope_pfm_find (&c, nm, 0));
  g_assert_false (scope_pfm_find (&c, nm, nn_graph_find (g, "layer2.0.pfm1.norm1")));
  g_assert_false (scope_pfm_find (&c, nm, g->n_nodes));
}

static void
test_trace (void)
{
  g_autoptr (ScopeModel) model = load_demo ();
  const NnGraph *g = scope_model_get_graph (model);
  const NnModel *nm = scope_model_get_nn_model (model);
  ScopePfm p;
  g_assert_true (scope_pfm_find (&p, nm, nn_graph_find (g, "layer2.0.pfm1.conv1x1")));
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
  const NnModel *nm = scope_model_get_nn_model (model);
  ScopePfm p;
  g_assert_true (scope_pfm_find (&p, nm, nn_graph_find (g, "layer2.0.pfm1.conv1x1")));
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

/* A PFNet of bank and size saved to dir with the options cnnscope-cli train writes (or none,
 * as files saved before the banks could be chosen), read back. */
static ScopeModel *
saved_pfnet (const TestUtilTmpDir *fx,
             NnPfmBank             bank,
             int                   size,
             gboolean              options)
{
  NnArchSpec spec = {
    .name = "pfnet18", .in_c = 1, .in_h = 16, .in_w = 16, .n_classes = 3, .width = 0.25f,
    .bank = bank, .pfm_size = size, .seed = 2,
  };
  NnError err = { 0 };
  NnGraph *graph = nn_arch_build (&spec, &err);
  g_assert_nonnull (graph);
  NnModel *model = nn_model_new (graph, "pfnet18");
  g_assert_nonnull (model);
  if (options)
    nn_arch_spec_format_options (&spec, model->arch_options, sizeof model->arch_options);
  g_autofree char *path = test_util_tmp_dir_path (fx, "pfnet.safetensors");
  g_assert_true (nn_model_save (model, path, &err));
  nn_model_free (model);
  g_autoptr (GError) error = NULL;
  ScopeModel *loaded = scope_model_load (path, &error);
  g_assert_no_error (error);
  return loaded;
}

/* The kernels named in the figure are the ones the network uses: for every bank and size,
 * each filtered channel's name is the kernel its weights hold, read from the model file; a
 * file without the options is taken as the full bank. */
static void
test_bank_names (TestUtilTmpDir *fx,
                 gconstpointer   data)
{
  (void) data;
  static const struct
  {
    NnPfmBank   bank;
    int         size;
    gboolean    options;
    const char *names;     /* the first filtered channels' kernels */
    const char *heading;
  } cases[] = {
    { NN_PFM_BANK_EDGES, 4, TRUE, "+U0 +U45 +U90 +U135 +U0",
      "edges bank, frozen (4 kernels): +U0 +U45 +U90 +U135" },
    { NN_PFM_BANK_LINES, 0, TRUE, "-E0 +E0 -E45 +E45 -E90 +E90 -E135 +E135 -E0",
      "lines bank, frozen (8 kernels): -E0 +E0 -E45 +E45 -E90 +E90 -E135 "
      "+E135" },
    { NN_PFM_BANK_FULL, 9, TRUE, "+U0 +U45 +U90 +U135 +E0 +E45 +E90 +E135 -U0 +U0",
      "full bank, frozen (9 kernels): +U0 +U45 … +E135 -U0" },
    { NN_PFM_BANK_FULL, 8, TRUE, "+U0 +U45 +U90 +U135 +E0 +E45 +E90 +E135 +U0",
      "full bank, frozen (8 kernels): +U0 +U45 +U90 +U135 +E0 +E45 +E90 "
      "+E135" },
    { NN_PFM_BANK_TRAINABLE, 4, TRUE, "+U0 +U90 +E0 +E90 +U0",
      "trainable bank, started as (4 kernels): +U0 +U90 +E0 +E90" },
    { NN_PFM_BANK_RANDOM_FROZEN, 4, TRUE, "+R0 +R2 +R4 +R6 +R0",
      "random-frozen bank, frozen (4 kernels): +R0 +R2 +R4 +R6" },
    { NN_PFM_BANK_FULL, 0, FALSE, "-U0 +U0 -U45 +U45 -U90 +U90 -U135 +U135 -E0 +E0 -E45 +E45 "
      "-E90 +E90 -E135 +E135",
      "full bank, frozen (16 kernels): -U0 +U0 … -E135 +E135" },
  };
  float full[16][9];
  nn_pfm_bank_kernels (full);
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr (ScopeModel) model = saved_pfnet (fx, cases[c].bank, cases[c].size,
                                                  cases[c].options);
      const NnModel *nm = scope_model_get_nn_model (model);
      ScopePfm p;
      g_assert_true (scope_pfm_find (&p, nm, nn_graph_find (nm->graph,
                                                            "layer1.0.pfm1.predefined")));
      g_assert_cmpint (p.kind, ==, cases[c].bank);
      g_auto (GStrv) names = g_strsplit (cases[c].names, " ", -1);
      for (int j = 0; names[j] != NULL; j++)
        {
          g_assert_cmpstr (scope_pfm_kernel_name (&p, j), ==, names[j]);
          /* The name is the kernel the channel holds (random-frozen has its own kernels). */
          if (cases[c].bank != NN_PFM_BANK_RANDOM_FROZEN)
            test_util_assert_close (p.bank + 9 * j, full[p.kernels[j % p.n_kernels]], 9, 1e-6,
                                    "case %d channel %d", (int) c, j);
        }
      char heading[256];
      scope_pfm_bank_heading (&p, heading, sizeof heading);
      g_assert_cmpstr (heading, ==, cases[c].heading);
      /* The figure, for a look: $CNNSCOPE_SCREENSHOT_DIR/pfm-bank-<bank>-<size>.png. */
      const char *shots = g_getenv ("CNNSCOPE_SCREENSHOT_DIR");
      if (shots != NULL && g_mkdir_with_parents (shots, 0755) == 0)
        {
          VizStyle style;
          viz_style_init (&style);
          cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 900, 600);
          cairo_t *cr = cairo_create (surface);
          scope_pfm_draw (cr, &p, 0, NULL, &style, 900, 600);
          cairo_destroy (cr);
          g_autofree char *name = g_strdup_printf ("pfm-bank-%s-%d.png",
                                                   nn_pfm_bank_name (p.kind), p.n_kernels);
          g_autofree char *path = g_build_filename (shots, name, NULL);
          g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
          cairo_surface_destroy (surface);
        }
      /* The drivers name the same kernels. */
      g_autofree ScopePfmDriver *drivers = g_new (ScopePfmDriver, p.mid_c);
      g_assert_cmpint (scope_pfm_trace (&p, 0, drivers, p.mid_c), ==, p.mid_c);
      for (int i = 0; i < p.mid_c; i++)
        g_assert_cmpint (drivers[i].kernel, ==, p.kernels[drivers[i].channel % p.n_kernels]);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/pfm/find", test_find);
  g_test_add_func ("/app/pfm/trace", test_trace);
  g_test_add_func ("/app/pfm/draw", test_draw);
  g_test_add ("/app/pfm/bank-names", TestUtilTmpDir, NULL, test_util_tmp_dir_setup,
              test_bank_names, test_util_tmp_dir_teardown);
  return g_test_run ();
}
