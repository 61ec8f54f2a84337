/* SPDX-License-Identifier: MIT */
/* Inference folding (batch norm into the conv before it, ReLU on its output) against the
 * unfolded pass (NN_CONTEXT_NO_FOLD) on a ResNet-18 with non-trivial batch-norm statistics:
 * logits and the outputs of folded groups, serial and on workers, after the statistics change,
 * forward to a layer inside a group, kept layers, Score-CAM; gradient passes do not fold. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"
#include "graph/nn-context-private.h"

/* A ResNet-18 at 32 px (at full width, layer1's 3x3 convs take Winograd) whose batch norms
 * have random running statistics and affine parameters. */
static NnGraph *
resnet_new (uint64_t seed,
            float    width)
{
  NnArchSpec spec = {
    .name = "resnet18", .in_c = 3, .in_h = 32, .in_w = 32, .n_classes = 10, .width = width,
    .seed = seed,
  };
  NnGraph *graph = nn_arch_build (&spec, NULL);
  g_assert_nonnull (graph);
  GRand *rand = g_rand_new_with_seed ((guint32) seed);
  for (int p = 0; p < graph->n_params; p++)
    {
      const NnParam *prm = &graph->params[p];
      if (graph->nodes[prm->node].op != NN_OP_BATCHNORM)
        continue;
      float *d = nn_graph_param_data (graph, p);
      for (size_t i = 0; i < prm->count; i++)
        if (prm->role == NN_PARAM_RUNNING_MEAN || prm->role == NN_PARAM_BIAS)
          d[i] = (float) g_rand_double_range (rand, -0.3, 0.3);
        else
          d[i] = (float) g_rand_double_range (rand, 0.5, 1.5);
    }
  g_rand_free (rand);
  nn_graph_bump_version (graph);
  return graph;
}

static void
fill_input (NnContext *ctx,
            size_t     n,
            guint32    seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  float *x = nn_context_input (ctx);
  for (size_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  g_rand_free (rand);
}

/* The largest difference of a and b over the largest |b|. */
static double
rel_diff (const float *a,
          const float *b,
          size_t       n)
{
  double d = 0.0, scale = 1e-30;
  for (size_t i = 0; i < n; i++)
    {
      d = fmax (d, fabs ((double) a[i] - b[i]));
      scale = fmax (scale, fabs ((double) b[i]));
    }
  return d / scale;
}

static int
count (const uint8_t *bytes,
       int            n)
{
  int k = 0;
  for (int i = 0; i < n; i++)
    k += bytes[i] != 0;
  return k;
}

#define TOL 1e-5
#define FOLDED (2 * (1 + 8) + 8 + 3)

/* Every node the folded pass wrote (outputs of groups included) against the unfolded pass. */
static void
assert_close (NnContext *folded,
              NnContext *plain,
              int        batch,
              int        last)
{
  const NnGraph *graph = nn_context_get_graph (plain);
  for (int i = 1; i <= last; i++)
    {
      if (folded->fold_unwritten[i])
        continue;
      const size_t n = nn_shape_size (graph->nodes[i].shape) * (size_t) batch;
      const double d = rel_diff (nn_context_output (folded, i), nn_context_output (plain, i), n);
      if (d > TOL)
        g_error ("node %s: folded and unfolded differ by %.3g", graph->nodes[i].name, d);
    }
}

static void
test_forward (void)
{
  NnGraph *graph = resnet_new (5, 1.0f);
  const size_t n_in = nn_shape_size (graph->nodes[0].shape);
  for (int threads = 1; threads <= 2; threads++)
    for (int batch = 1; batch <= 3; batch += 2)
      {
        NnContext *folded = nn_context_new (graph, batch, 0, NULL);
        NnContext *plain = nn_context_new (graph, batch, NN_CONTEXT_NO_FOLD, NULL);
        g_assert_true (folded != NULL && plain != NULL);
        g_assert_true (nn_context_set_threads (folded, threads, NULL));
        g_assert_true (nn_context_set_threads (plain, threads, NULL));
        fill_input (folded, n_in * (size_t) batch, 9);
        fill_input (plain, n_in * (size_t) batch, 9);
        nn_context_forward (folded, -1);
        nn_context_forward (plain, -1);
        /* ResNet-18's 20 convs all fold: the stem's and each block's first with a ReLU (conv
         * and norm left unwritten), the block's second and the downsampling ones into the
         * norm before the sum (the conv left unwritten) */
        g_assert_cmpint (count (folded->fold_unwritten, graph->n_nodes), ==, FOLDED);
        g_assert_cmpint (count (plain->fold_unwritten, graph->n_nodes), ==, 0);
        assert_close (folded, plain, batch, graph->n_nodes - 1);

        /* new statistics reach the folded weights through the graph's version */
        const int bn = nn_graph_find (graph, "layer1.0.bn1");
        g_assert_cmpint (bn, >, 0);
        float *mean = nn_graph_param_data (graph, nn_graph_node_param (graph, bn,
                                                                       NN_PARAM_RUNNING_MEAN));
        for (int c = 0; c < graph->nodes[bn].shape.c; c++)
          mean[c] += 0.5f;
        nn_graph_bump_version (graph);
        nn_context_forward (folded, -1);
        nn_context_forward (plain, -1);
        assert_close (folded, plain, batch, graph->n_nodes - 1);
        for (int c = 0; c < graph->nodes[bn].shape.c; c++)
          mean[c] -= 0.5f;
        nn_graph_bump_version (graph);
        nn_context_free (plain);
        nn_context_free (folded);
      }
  nn_graph_free (graph);
}

/* A pass that ends inside a group, and a kept batch norm, leave those groups unfolded. */
static void
test_partial (void)
{
  NnGraph *graph = resnet_new (6, 1.0f);
  const size_t n_in = nn_shape_size (graph->nodes[0].shape);
  const int bn = nn_graph_find (graph, "layer1.1.bn1");
  const int kept = nn_graph_find (graph, "layer2.0.bn1");
  g_assert_true (bn > 0 && kept > 0);
  NnContext *folded = nn_context_new (graph, 2, 0, NULL);
  NnContext *plain = nn_context_new (graph, 2, NN_CONTEXT_NO_FOLD, NULL);
  g_assert_true (folded != NULL && plain != NULL);
  fill_input (folded, 2 * n_in, 10);
  fill_input (plain, 2 * n_in, 10);
  nn_context_forward (folded, bn);
  nn_context_forward (plain, bn);
  g_assert_false (folded->fold_unwritten[bn] || folded->fold_unwritten[bn - 1]);
  assert_close (folded, plain, 2, bn);

  nn_context_keep (folded, kept);
  nn_context_forward (folded, -1);
  nn_context_forward (plain, -1);
  g_assert_false (folded->fold_unwritten[kept]);
  g_assert_cmpint (count (folded->fold_unwritten, graph->n_nodes), ==, FOLDED - 2);
  assert_close (folded, plain, 2, graph->n_nodes - 1);
  nn_context_free (plain);
  nn_context_free (folded);
  nn_graph_free (graph);
}

/* Contexts with gradient buffers, and training passes, never fold: the backward reads the
 * unfolded values. A forward-only context in training mode runs unfolded too. */
static void
test_gradients_unaffected (void)
{
  NnGraph *graph = resnet_new (7, 1.0f);
  const size_t n_in = nn_shape_size (graph->nodes[0].shape);
  NnContext *grad = nn_context_new (graph, 2, NN_CONTEXT_BACKWARD, NULL);
  NnContext *plain = nn_context_new (graph, 2, NN_CONTEXT_NO_FOLD, NULL);
  g_assert_true (grad != NULL && plain != NULL);
  g_assert_false (grad->has_folds);
  fill_input (grad, 2 * n_in, 11);
  fill_input (plain, 2 * n_in, 11);
  nn_context_forward (grad, -1);
  nn_context_forward (plain, -1);
  g_assert_cmpint (count (grad->fold_unwritten, graph->n_nodes), ==, 0);
  for (int i = 1; i < graph->n_nodes; i++)
    g_assert_cmpmem (nn_context_output (grad, i),
                     sizeof (float) * 2 * nn_shape_size (graph->nodes[i].shape),
                     nn_context_output (plain, i),
                     sizeof (float) * 2 * nn_shape_size (graph->nodes[i].shape));

  NnContext *train = nn_context_new (graph, 2, 0, NULL);
  g_assert_nonnull (train);
  g_assert_true (train->has_folds);
  nn_context_set_training (train, true);
  fill_input (train, 2 * n_in, 11);
  nn_context_forward (train, -1);
  g_assert_cmpint (count (train->fold_unwritten, graph->n_nodes), ==, 0);
  nn_context_free (train);
  nn_context_free (plain);
  nn_context_free (grad);
  nn_graph_free (graph);
}

/* Score-CAM runs forward passes only: folded, its map is the unfolded one. */
static void
test_scorecam (void)
{
  NnGraph *graph = resnet_new (8, 0.25f);
  const size_t n_in = nn_shape_size (graph->nodes[0].shape);
  float *x = g_new (float, n_in);
  GRand *rand = g_rand_new_with_seed (12);
  for (size_t i = 0; i < n_in; i++)
    x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  g_rand_free (rand);
  NnCamSpec spec;
  nn_cam_spec_init (&spec);
  spec.method = NN_CAM_SCORECAM;
  spec.layer = nn_graph_find (graph, "layer3.1.bn2");
  g_assert_cmpint (spec.layer, >, 0);
  NnMap *maps[2];
  for (int k = 0; k < 2; k++)
    {
      NnContext *ctx = nn_context_new (graph, 4, k == 0 ? 0 : NN_CONTEXT_NO_FOLD, NULL);
      g_assert_nonnull (ctx);
      maps[k] = nn_cam_compute (ctx, x, &spec, NULL, NULL);
      g_assert_nonnull (maps[k]);
      g_assert_false (ctx->fold_unwritten[spec.layer]);
      g_assert_true ((k == 0) == (count (ctx->fold_unwritten, graph->n_nodes) > 0));
      nn_context_free (ctx);
    }
  g_assert_cmpint (maps[0]->target, ==, maps[1]->target);
  const size_t n = (size_t) maps[0]->h * maps[0]->w;
  g_assert_cmpfloat (rel_diff (maps[0]->map, maps[1]->map, n), <=, 1e-4);
  nn_map_free (maps[1]);
  nn_map_free (maps[0]);
  g_free (x);
  nn_graph_free (graph);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/fold/forward", test_forward);
  g_test_add_func ("/nn/fold/partial", test_partial);
  g_test_add_func ("/nn/fold/gradients-unaffected", test_gradients_unaffected);
  g_test_add_func ("/nn/fold/scorecam", test_scorecam);
  return g_test_run ();
}
