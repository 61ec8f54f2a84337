/* SPDX-License-Identifier: MIT */
/* Out-of-distribution statistics on a model whose features are its input: class means and the
 * covariance by hand, the threshold's percentile, a far point, the file round trip and a file
 * that belongs to another model. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "test-util.h"

/* input (1, 1, 2) -> linear (2): the features are the two input values. */
static NnModel *
two_feature_model (void)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 1, 1, 2);
  nn_graph_add_linear (g, "fc", in, 2, false);
  NnModel *m = nn_model_new (g, NULL);
  return m;
}

static void
test_fit (void)
{
  NnModel *model = two_feature_model ();
  NnError err = { 0 };
  g_assert_cmpint (nn_ood_feature_node (model->graph, &err), ==, 0);
  /* Class 0 at (0 +- 1, 0 +- 2), class 1 at (10 +- 1, 10 +- 2): four corners each. */
  const float dx[4] = { -1, 1, -1, 1 }, dy[4] = { -2, -2, 2, 2 };
  NnDataset *ds = nn_dataset_new (8, 1, 1, 2, 2);
  for (int i = 0; i < 8; i++)
    {
      int c = i / 4;
      ds->labels[i] = c;
      ds->images[2 * i] = 10.0f * c + dx[i % 4];
      ds->images[2 * i + 1] = 10.0f * c + dy[i % 4];
    }
  NnOod *ood = nn_ood_fit (model, ds, 100.0, 3, &err);
  g_assert_nonnull (ood);
  g_assert_cmpint (ood->dim, ==, 2);
  g_assert_cmpstr (ood->layer, ==, "input");
  g_assert_cmpfloat_with_epsilon (ood->means[0], 0.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (ood->means[3], 10.0, 1e-6);
  /* Pooled covariance over n - classes = 6: diag (8/6, 32/6) plus 1e-3 of its mean (10/3),
   * off-diagonal 0. Every training point is then at squared distance 1 / (4/3 + r) +
   * 4 / (16/3 + r), halved by dim. */
  double r = 1e-3 * (8.0 / 6 + 32.0 / 6) / 2;
  double train = (1.0 / (8.0 / 6 + r) + 4.0 / (32.0 / 6 + r)) / 2;
  g_assert_cmpfloat_with_epsilon (ood->chol[0], sqrt (8.0 / 6 + r), 1e-5);
  g_assert_cmpfloat_with_epsilon (ood->chol[2], 0.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (ood->threshold, train, 1e-5);
  g_assert_cmpint (ood->train_n, ==, 8);
  /* The nearest class counts: (10, 10) is class 1's mean; (5, 5) is far from both. */
  const float at_mean[2] = { 10.0f, 10.0f }, between[2] = { 5.0f, 5.0f };
  g_assert_cmpfloat_with_epsilon (nn_ood_score (ood, at_mean), 0.0, 1e-9);
  double far = (25.0 / (8.0 / 6 + r) + 25.0 / (32.0 / 6 + r)) / 2;
  g_assert_cmpfloat_with_epsilon (nn_ood_score (ood, between), far, 1e-4);
  g_assert_cmpfloat (nn_ood_score (ood, between), >, ood->threshold);

  /* The file round trip keeps every score; another model's graph is refused. */
  char *dir = test_util_make_tmp_dir ();
  char *file = g_build_filename (dir, "m.ood.json", NULL);
  g_assert_true (nn_ood_save (ood, file, &err));
  NnOod *back = nn_ood_load (file, model->graph, &err);
  g_assert_nonnull (back);
  g_assert_cmpfloat (nn_ood_score (back, between), ==, nn_ood_score (ood, between));
  g_assert_cmpfloat_with_epsilon (back->threshold, ood->threshold, 1e-12);
  NnGraph *other = nn_graph_new ();
  nn_graph_add_linear (other, "fc", nn_graph_add_input (other, "input", 1, 1, 3), 2, false);
  g_assert_null (nn_ood_load (file, other, &err));
  g_assert_nonnull (strstr (err.message, "do not belong to this model"));
  nn_graph_free (other);
  nn_error_clear (&err);
  test_util_write_file (file, "{\"format\": \"x\"}", 15);
  g_assert_null (nn_ood_load (file, model->graph, &err));
  g_assert_nonnull (strstr (err.message, "not a cnnscope out-of-distribution"));
  nn_error_clear (&err);

  /* A percentile outside (0, 100] is refused. */
  g_assert_null (nn_ood_fit (model, ds, 0.0, 3, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  nn_error_clear (&err);

  test_util_remove_tree (dir);
  g_free (file);
  g_free (dir);
  nn_ood_free (back);
  nn_ood_free (ood);
  nn_dataset_free (ds);
  nn_model_free (model);
}

/* Where the statistics of a model are looked for (the CLI and the application alike). */
static void
test_path (void)
{
  const char *cases[][2] = {
    { "data/demo-ct.safetensors", "data/demo-ct.ood.json" },
    { "net.onnx", "net.onnx.ood.json" },
    { ".safetensors", ".safetensors.ood.json" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *path = nn_ood_path_new (cases[i][0]);
      g_assert_cmpstr (path, ==, cases[i][1]);
      free (path);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ood/fit", test_fit);
  g_test_add_func ("/ood/path", test_path);
  return g_test_run ();
}
