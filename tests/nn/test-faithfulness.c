/* SPDX-License-Identifier: MIT */
/* Faithfulness metrics: deletion and insertion against images built here, pixel order, ROAD's
 * imputation on known planes and its curves on the dashes model, pointing game, energy share
 * and Spearman's rho by hand, the randomization check, bad input, cancellation, dashes files. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"
#include "test-util.h"

/* input (1, 4, 4) -> linear (2): the logit difference is a weighted pixel sum. */
static NnGraph *
linear_net (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 1, 4, 4);
  int fc = nn_graph_add_linear (g, "fc", in, 2, false);
  float *w = nn_graph_param_data (g, nn_graph_node_param (g, fc, NN_PARAM_WEIGHT));
  for (int p = 0; p < 16; p++)
    w[p] = 0.1f * (float) (p % 5) - 0.15f;
  return g;
}

static double
prob0 (const NnGraph *g,
       const float   *x)
{
  const float *w = nn_graph_param_data (g, nn_graph_node_param (g, 1, NN_PARAM_WEIGHT));
  double l0 = 0.0, l1 = 0.0;
  for (int p = 0; p < 16; p++)
    {
      l0 += (double) w[p] * x[p];
      l1 += (double) w[16 + p] * x[p];
    }
  return 1.0 / (1.0 + exp (l1 - l0));
}

static void
test_order (void)
{
  const float map[6] = { 0.5f, 2.0f, 0.5f, -1.0f, NAN, 3.0f };
  int order[6];
  g_assert_true (nn_faith_order (order, map, 6));
  const int want[6] = { 5, 1, 0, 2, 3, 4 };
  g_assert_cmpmem (order, sizeof order, want, sizeof want);
}

static void
test_deletion_insertion (void)
{
  NnGraph *g = linear_net ();
  NnContext *ctx = nn_context_new (g, 3, 0, NULL);
  float x[16], map[16], img[16];
  for (int p = 0; p < 16; p++)
    {
      x[p] = 1.0f + 0.25f * (float) p;
      map[p] = (float) ((p * 7) % 16);
    }
  int order[16];
  g_assert_true (nn_faith_order (order, map, 16));
  NnCurve del;
  g_assert_true (nn_faith_curve (ctx, x, map, 0, NN_CURVE_DELETION, 8, 0.0f, &del, NULL, NULL));
  g_assert_cmpint (del.n, ==, 9);
  double auc = 0.0;
  for (int i = 0; i <= 8; i++)
    {
      memcpy (img, x, sizeof x);
      for (int j = 0; j < 2 * i; j++)
        img[order[j]] = 0.0f;
      g_assert_cmpfloat_with_epsilon (del.fraction[i], i / 8.0, 1e-7);
      g_assert_cmpfloat (fabs (del.prob[i] - prob0 (g, img)), <=, 1e-5);
      if (i > 0)
        auc += 0.5 * (del.prob[i] + del.prob[i - 1]) / 8.0;
    }
  g_assert_cmpfloat (fabs (del.auc - auc), <=, 1e-6);

  /* Insertion with blur 0 starts from the input itself: a flat curve. */
  NnCurve ins;
  g_assert_true (nn_faith_curve (ctx, x, map, 0, NN_CURVE_INSERTION, 4, 0.0f, &ins, NULL, NULL));
  for (int i = 0; i < ins.n; i++)
    g_assert_cmpfloat (fabs (ins.prob[i] - prob0 (g, x)), <=, 1e-5);
  /* With blur, the first point is the blurred image and the last the input. */
  g_assert_true (nn_faith_curve (ctx, x, map, 0, NN_CURVE_INSERTION, 4, 1.0f, &ins, NULL, NULL));
  g_assert_cmpfloat (fabs (ins.prob[4] - prob0 (g, x)), <=, 1e-5);
  g_assert_cmpfloat (fabs (ins.prob[0] - prob0 (g, x)), >, 1e-4);

  NnError err = { 0 };
  g_assert_false (nn_faith_curve (ctx, x, map, 2, NN_CURVE_DELETION, 8, 0.0f, &del, NULL, &err));
  g_assert_nonnull (strstr (err.message, "out of range"));
  g_assert_false (nn_faith_curve (ctx, x, map, 0, NN_CURVE_DELETION, NN_CURVE_MAX, 0.0f, &del,
                                  NULL, &err));
  atomic_int cancel = 1;
  NnExplainControl control = { &cancel, NULL, NULL };
  g_assert_false (nn_faith_curve (ctx, x, map, 0, NN_CURVE_DELETION, 8, 0.0f, &del, &control,
                                  &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  nn_context_free (ctx);
  nn_graph_free (g);
}

static void
test_road_impute (void)
{
  enum { H = 12, W = 15 };
  float plane[H * W];
  uint8_t removed[H * W] = { 0 };
  /* A linear ramp with interior holes: the symmetric neighbour mean reproduces it. */
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        plane[y * W + x] = 0.3f * (float) x - 0.7f * (float) y + 2.0f;
        if (y > 1 && y < H - 2 && x > 2 && x < W - 2 && (x + y) % 3 != 0)
          {
            removed[y * W + x] = 1;
            plane[y * W + x] = 100.0f;
          }
      }
  float *scratch = g_new (float, nn_faith_road_scratch_size (H, W));
  nn_faith_road_impute (plane, removed, H, W, scratch);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      g_assert_cmpfloat (fabs (plane[y * W + x] - (0.3 * x - 0.7 * y + 2.0)), <=, 1e-3);

  /* x^2 - y^2 is harmonic for this stencil too: a large hole (30 x 30 of 40 x 40) is filled
   * with it to well within the tolerance. */
  enum { L = 40 };
  float *big = g_new (float, L * L);
  float *big_scratch = g_new (float, nn_faith_road_scratch_size (L, L));
  uint8_t *big_removed = g_new0 (uint8_t, L * L);
  for (int y = 0; y < L; y++)
    for (int x = 0; x < L; x++)
      {
        big[y * L + x] = (float) ((x - 20) * (x - 20) - (y - 17) * (y - 17)) / 40.0f;
        big_removed[y * L + x] = y >= 5 && y < 35 && x >= 5 && x < 35;
        if (big_removed[y * L + x])
          big[y * L + x] = 0.0f;
      }
  nn_faith_road_impute (big, big_removed, L, L, big_scratch);
  double worst = 0.0;
  for (int y = 0; y < L; y++)
    for (int x = 0; x < L; x++)
      worst = fmax (worst, fabs (big[y * L + x] - ((x - 20) * (x - 20) - (y - 17) * (y - 17))
                                                    / 40.0));
  g_test_message ("ROAD imputation of a 30 x 30 hole: worst error %.2e (values span 20)", worst);
  g_assert_cmpfloat (worst, <=, 2e-3);
  g_free (big);
  g_free (big_scratch);
  g_free (big_removed);

  /* One removed pixel: the weighted mean of its neighbours (1/6 edge, 1/12 diagonal). */
  float p3[9] = { 1, 2, 3, 4, 99, 6, 7, 8, 10 };
  uint8_t r3[9] = { 0, 0, 0, 0, 1, 0, 0, 0, 0 };
  nn_faith_road_impute (p3, r3, 3, 3, scratch);
  double want = (2 + 4 + 6 + 8) / 6.0 + (1 + 3 + 7 + 10) / 12.0;
  g_assert_cmpfloat_with_epsilon (p3[4], want, 1e-4);
  /* A removed corner: renormalized over its three neighbours. */
  float c3[9] = { 99, 2, 3, 4, 5, 6, 7, 8, 9 };
  uint8_t rc[9] = { 1, 0, 0, 0, 0, 0, 0, 0, 0 };
  nn_faith_road_impute (c3, rc, 3, 3, scratch);
  g_assert_cmpfloat_with_epsilon (c3[0], (2 / 6.0 + 4 / 6.0 + 5 / 12.0) / (5 / 12.0), 1e-4);
  g_free (scratch);
}

static void
test_pointing_energy (void)
{
  enum { H = 40, W = 40 };
  float map[H * W] = { 0 };
  uint8_t mask[H * W] = { 0 };
  map[10 * W + 10] = 5.0f;
  map[30 * W + 30] = 1.0f;
  map[0] = -3.0f;
  mask[10 * W + 25] = 1;  /* 15 px away: a hit */
  g_assert_true (nn_faith_pointing_game (map, mask, H, W, 15.0f));
  g_assert_false (nn_faith_pointing_game (map, mask, H, W, 14.9f));
  mask[10 * W + 25] = 0;
  mask[10 * W + 26] = 1;
  g_assert_false (nn_faith_pointing_game (map, mask, H, W, 15.0f));
  memset (mask, 0, sizeof mask);
  g_assert_false (nn_faith_pointing_game (map, mask, H, W, 15.0f));
  mask[30 * W + 30] = 1;
  mask[0] = 1;
  g_assert_cmpfloat_with_epsilon (nn_faith_energy_share (map, mask, H, W), 1.0 / 6.0, 1e-9);
  memset (map, 0, sizeof map);
  g_assert_cmpfloat (nn_faith_energy_share (map, mask, H, W), ==, 0.0);
}

static void
test_spearman (void)
{
  const float a[5] = { 1, 2, 3, 4, 5 }, b[5] = { 5, 6, 7, 8, 7 }, c[5] = { 10, 8, 6, 4, -1 };
  const float sq[5] = { 1, 4, 9, 16, 25 }, flat[5] = { 2, 2, 2, 2, 2 };
  /* Ranks of b: 1, 2, 3.5, 5, 3.5; rho = 8 / sqrt (10 * 9.5). */
  g_assert_cmpfloat_with_epsilon (nn_faith_spearman (a, b, 5), 8.0 / sqrt (95.0), 1e-9);
  g_assert_cmpfloat_with_epsilon (nn_faith_spearman (a, c, 5), -1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (nn_faith_spearman (a, sq, 5), 1.0, 1e-9);
  g_assert_cmpfloat (nn_faith_spearman (a, flat, 5), ==, 0.0);
}

/* A saturated model: class 0's logit is 60 + sum_p (p / 8) x_p against 0, so its probability
 * rounds to 1 for every image of the curves and the probability AUC is 1 for any map; the
 * normalised logit still tells the faithful map (pixels by weight) from its reverse. */
static void
test_saturated (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 1, 4, 4);
  int fc = nn_graph_add_linear (g, "fc", in, 2, true);
  float *w = nn_graph_param_data (g, nn_graph_node_param (g, fc, NN_PARAM_WEIGHT));
  float *b = nn_graph_param_data (g, nn_graph_node_param (g, fc, NN_PARAM_BIAS));
  float x[16], good_map[16], bad_map[16];
  for (int p = 0; p < 16; p++)
    {
      w[p] = (float) p / 8.0f;
      w[16 + p] = 0.0f;
      x[p] = 1.0f;
      good_map[p] = w[p];
      bad_map[p] = -w[p];
    }
  b[0] = 60.0f;
  b[1] = 0.0f;
  NnContext *ctx = nn_context_new (g, 4, 0, NULL);
  NnCurve good, bad, ins;
  g_assert_true (nn_faith_curve (ctx, x, good_map, 0, NN_CURVE_DELETION, 16, 0.0f, &good, NULL,
                                 NULL));
  g_assert_true (nn_faith_curve (ctx, x, bad_map, 0, NN_CURVE_DELETION, 16, 0.0f, &bad, NULL,
                                 NULL));
  g_assert_true (nn_faith_curve (ctx, x, good_map, 0, NN_CURVE_INSERTION, 16, 0.0f, &ins, NULL,
                                 NULL));
  for (int i = 0; i < good.n; i++)
    {
      g_assert_cmpfloat (good.prob[i], ==, 1.0f);
      g_assert_cmpfloat (bad.prob[i], ==, 1.0f);
    }
  g_assert_cmpfloat (good.auc, ==, bad.auc);
  g_test_message ("saturated deletion: probability AUC %.3f for both maps; normalised logit AUC "
                  "%.3f (faithful) vs %.3f (reversed)", good.auc, good.auc_logit,
                  bad.auc_logit);
  /* The logit falls from 60 + 15 to 60, its maximum and minimum: by hand, after k of 16 pixels
   * by weight the logit lost the k largest weights. */
  g_assert_cmpfloat_with_epsilon (good.logit[0], 75.0, 1e-4);
  g_assert_cmpfloat_with_epsilon (good.logit[16], 60.0, 1e-4);
  g_assert_cmpfloat_with_epsilon (good.logit_norm[0], 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (good.logit_norm[16], 0.0, 1e-6);
  double by_hand = 0.0, prev = 1.0;
  for (int k = 1; k <= 16; k++)
    {
      double lost = 0.0;
      for (int j = 0; j < k; j++)
        lost += (15 - j) / 8.0;
      double norm = 1.0 - lost / 15.0;
      g_assert_cmpfloat_with_epsilon (good.logit_norm[k], norm, 1e-5);
      by_hand += 0.5 * (norm + prev) / 16.0;
      prev = norm;
    }
  g_assert_cmpfloat_with_epsilon (good.auc_logit, by_hand, 1e-5);
  g_assert_cmpfloat (good.auc_logit, <, 0.4);
  g_assert_cmpfloat (bad.auc_logit, >, 0.6);
  /* Insertion with blur 0 starts from the input itself: the logit does not move and its
   * normalisation is undefined. */
  g_assert_true (isnan (ins.auc_logit));
  g_assert_true (isnan (ins.logit_norm[0]));
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* On the dashes model: removing the dash centres Grad-CAM points at destroys the prediction,
 * removing the least relevant pixels does not; deletion falls faster than for a map that
 * ranks pixels the other way round. */
static void
test_dashes_curves (void)
{
  const int S = NN_DASHES_SIZE;
  NnModel *model = nn_synth_dashes_model_new (S);
  NnContext *ctx = nn_context_new (model->graph, 8, NN_CONTEXT_BACKWARD, NULL);
  float *img = g_new (float, S * S), *rev = g_new (float, S * S);
  uint8_t *orient = g_new (uint8_t, S * S);
  NnRng rng;
  nn_rng_init (&rng, 5);
  NnDashesInfo info;
  do
    nn_synth_dashes_draw (img, orient, S, &rng, &info);
  while (abs (info.n_horizontal - info.n_vertical) < 2);
  NnCamSpec spec;
  nn_cam_spec_init (&spec);
  NnMap *map = nn_cam_compute (ctx, img, &spec, NULL, NULL);
  g_assert_nonnull (map);
  g_assert_cmpint (map->target, ==, info.label);

  const float fractions[3] = { 0.0f, 0.01f, 0.05f };
  NnCurve morf, lerf;
  g_assert_true (nn_faith_road (ctx, img, map->map, map->target, fractions, 3, true, 0.01f, 1,
                                &morf, NULL, NULL));
  g_assert_true (nn_faith_road (ctx, img, map->map, map->target, fractions, 3, false, 0.01f, 1,
                                &lerf, NULL, NULL));
  g_test_message ("ROAD MoRF %.3f %.3f %.3f, LeRF %.3f %.3f %.3f", morf.prob[0], morf.prob[1],
                  morf.prob[2], lerf.prob[0], lerf.prob[1], lerf.prob[2]);
  g_assert_cmpfloat (morf.prob[0], ==, lerf.prob[0]);
  g_assert_cmpfloat (morf.prob[0], >, 0.8);
  g_assert_cmpfloat (morf.prob[1], <, 0.6);
  g_assert_cmpfloat (lerf.prob[1], ==, morf.prob[0]);

  for (int p = 0; p < S * S; p++)
    rev[p] = -map->map[p];
  NnCurve good, bad;
  g_assert_true (nn_faith_curve (ctx, img, map->map, map->target, NN_CURVE_DELETION, 20, 0.0f,
                                 &good, NULL, NULL));
  g_assert_true (nn_faith_curve (ctx, img, rev, map->target, NN_CURVE_DELETION, 20, 0.0f, &bad,
                                 NULL, NULL));
  g_test_message ("deletion AUC: Grad-CAM %.3f, reversed %.3f", good.auc, bad.auc);
  g_assert_cmpfloat (good.auc, <, bad.auc);

  NnError err = { 0 };
  const float bad_fr[2] = { 0.5f, 0.2f };
  g_assert_false (nn_faith_road (ctx, img, map->map, 0, bad_fr, 2, true, 0.0f, 1, &morf, NULL,
                                 &err));
  g_assert_nonnull (strstr (err.message, "increase"));
  nn_map_free (map);
  g_free (img);
  g_free (rev);
  g_free (orient);
  nn_context_free (ctx);
  nn_model_free (model);
}

/* A random conv net: Grad-CAM and the gradient change when its weights are redrawn. */
static void
test_randomization (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 3, 16, 16);
  int c1 = nn_graph_add_conv2d (g, "conv1", in, 8, 3, 1, 1, 1, 1, true);
  int r1 = nn_graph_add_relu (g, "relu1", c1);
  int c2 = nn_graph_add_conv2d (g, "conv2", r1, 8, 3, 1, 1, 1, 1, true);
  int r2 = nn_graph_add_relu (g, "relu2", c2);
  int gap = nn_graph_add_global_avgpool (g, "gap", r2);
  nn_graph_add_linear (g, "fc", gap, 4, true);
  NnRng rng;
  nn_rng_init (&rng, 21);
  nn_graph_init_params (g, &rng);
  float x[3 * 16 * 16];
  for (size_t i = 0; i < G_N_ELEMENTS (x); i++)
    x[i] = nn_rng_normal (&rng);
  NnContext *ctx = nn_context_new (g, 2, NN_CONTEXT_BACKWARD, NULL);
  NnCamSpec cam;
  nn_cam_spec_init (&cam);
  cam.layer = r1;
  NnMap *map = nn_cam_compute (ctx, x, &cam, NULL, NULL);
  g_assert_nonnull (map);
  double rho = 1.0;
  g_assert_true (nn_faith_randomization (g, x, &cam, NULL, map, 2, 3, &rho, NULL, NULL));
  g_test_message ("randomization: Grad-CAM rho %.3f", rho);
  g_assert_cmpfloat (fabs (rho), <, 0.5);
  nn_map_free (map);
  NnSaliencySpec sal;
  nn_saliency_spec_init (&sal);
  map = nn_saliency_compute (ctx, x, &sal, NULL, NULL);
  g_assert_true (nn_faith_randomization (g, x, NULL, &sal, map, 2, 3, &rho, NULL, NULL));
  g_test_message ("randomization: gradient rho %.3f", rho);
  g_assert_cmpfloat (fabs (rho), <, 0.5);
  /* The map itself correlates perfectly with itself. */
  g_assert_cmpfloat_with_epsilon (nn_faith_spearman (map->map, map->map, 256), 1.0, 1e-12);
  nn_map_free (map);
  (void) r2;
  nn_context_free (ctx);
  nn_graph_free (g);
}

/* The dashes set on disk reads back as an image folder the model classifies perfectly. */
static void
test_dashes_write (void)
{
  char *dir = test_util_make_tmp_dir ();
  char *root = g_build_filename (dir, "set", NULL);
  NnError err = { 0 };
  g_assert_true (nn_synth_dashes_write (root, 30, 7, 48, &err));
  NnDataset *ds = nn_dataset_load_folder (root, 1, 48, 48, &err);
  g_assert_nonnull (ds);
  g_assert_cmpint (ds->n, ==, 30);
  g_assert_cmpstr (ds->class_names[0], ==, "horizontal");
  NnModel *model = nn_synth_dashes_model_new (48);
  NnContext *ctx = nn_context_new (model->graph, 1, 0, NULL);
  int correct = 0;
  for (int i = 0; i < ds->n; i++)
    {
      memcpy (nn_context_input (ctx), ds->images + (size_t) i * 48 * 48, sizeof (float) * 48 * 48);
      nn_context_forward (ctx, -1);
      correct += nn_explain_argmax (nn_context_output (ctx, nn_graph_output (model->graph)), 2)
                 == ds->labels[i];
    }
  g_assert_cmpint (correct, ==, ds->n);
  char *csv = g_build_filename (root, "labels.csv", NULL), *text = NULL;
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  char **lines = g_strsplit (text, "\n", -1);
  g_assert_cmpint (g_strv_length (lines), ==, 32);  /* header, 30 rows, empty tail */
  g_strfreev (lines);
  g_free (text);
  g_free (csv);
  g_assert_false (nn_synth_dashes_write (root, 3, 7, 8, &err));
  g_assert_nonnull (strstr (err.message, "size 8"));
  nn_context_free (ctx);
  nn_model_free (model);
  nn_dataset_free (ds);
  test_util_remove_tree (dir);
  g_free (root);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/faithfulness/order", test_order);
  g_test_add_func ("/nn/faithfulness/deletion-insertion-direct", test_deletion_insertion);
  g_test_add_func ("/nn/faithfulness/saturated-logit", test_saturated);
  g_test_add_func ("/nn/faithfulness/road-impute-known", test_road_impute);
  g_test_add_func ("/nn/faithfulness/pointing-energy-by-hand", test_pointing_energy);
  g_test_add_func ("/nn/faithfulness/spearman-by-hand", test_spearman);
  g_test_add_func ("/nn/faithfulness/dashes-curves",
                   test_dashes_curves);
  g_test_add_func ("/nn/faithfulness/randomization", test_randomization);
  g_test_add_func ("/nn/faithfulness/dashes-write", test_dashes_write);
  return g_test_run ();
}
