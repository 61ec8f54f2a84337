/* SPDX-License-Identifier: MIT */
/* Linear CKA: hand-computed cases, CKA(X, X) = 1, invariance to rotations and isotropic scaling
 * but not to a general linear map, the feature and Gram forms agreeing, and two models
 * compared layer by layer (the same graph required). */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"

static float *
random_matrix (int      n,
               int      d,
               uint64_t seed)
{
  float *x = g_new (float, (size_t) n * d);
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (int i = 0; i < n * d; i++)
    x[i] = nn_rng_normal (&rng);
  return x;
}

/* A random orthogonal d x d matrix: Gram-Schmidt (twice, in double) on Gaussian columns. */
static float *
random_orthogonal (int      d,
                   uint64_t seed)
{
  float *g = random_matrix (d, d, seed);
  double *q = g_new (double, (size_t) d * d);
  for (int i = 0; i < d * d; i++)
    q[i] = g[i];
  for (int j = 0; j < d; j++)
    for (int pass = 0; pass < 2; pass++)
      {
        for (int k = 0; k < j; k++)
          {
            double dot = 0.0;
            for (int i = 0; i < d; i++)
              dot += q[i * d + j] * q[i * d + k];
            for (int i = 0; i < d; i++)
              q[i * d + j] -= dot * q[i * d + k];
          }
        double norm = 0.0;
        for (int i = 0; i < d; i++)
          norm += q[i * d + j] * q[i * d + j];
        for (int i = 0; i < d; i++)
          q[i * d + j] /= sqrt (norm);
      }
  for (int i = 0; i < d * d; i++)
    g[i] = (float) q[i];
  g_free (q);
  return g;
}

/* y (n, d) = s x (n, d) a (d, d) + shift, in double. */
static float *
transform (const float *x,
           int          n,
           int          d,
           const float *a,
           double       s,
           double       shift)
{
  float *y = g_new (float, (size_t) n * d);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      {
        double v = 0.0;
        for (int k = 0; k < d; k++)
          v += (double) x[i * d + k] * (double) a[k * d + j];
        y[i * d + j] = (float) (s * v + shift);
      }
  return y;
}

static double
cka (const float *x,
     int          dx,
     const float *y,
     int          dy,
     int          n,
     NnCkaForm    form)
{
  double v = -1.0;
  NnError err = { 0 };
  g_assert_true (nn_cka_linear (&v, x, dx, y, dy, n, form, &err));
  return v;
}

static const NnCkaForm forms[] = { NN_CKA_AUTO, NN_CKA_FEATURES, NN_CKA_GRAM };

static void
test_hand (void)
{
  /* One feature each: CKA is the squared correlation. xc = (-1, 0, 1), yc = (-2, -1, 3):
   * (xc . yc)² / (|xc|² |yc|²) = 25 / (2 * 14). */
  const float x[] = { 0, 1, 2 }, y[] = { 0, 1, 5 };
  /* Four points on the axes against their first coordinate: XᵀX = 2 I, YᵀY = 2, YᵀX = (2, 0):
   * 4 / (sqrt (8) * 2) = 1 / sqrt (2). */
  const float p[] = { 1, 0, 0, 1, -1, 0, 0, -1 }, q[] = { 1, 0, -1, 0 };
  for (size_t f = 0; f < G_N_ELEMENTS (forms); f++)
    {
      g_assert_cmpfloat_with_epsilon (cka (x, 1, y, 1, 3, forms[f]), 25.0 / 28.0, 1e-6);
      g_assert_cmpfloat_with_epsilon (cka (p, 2, q, 1, 4, forms[f]), 1.0 / sqrt (2.0), 1e-6);
      g_assert_cmpfloat_with_epsilon (cka (q, 1, p, 2, 4, forms[f]), 1.0 / sqrt (2.0), 1e-6);
    }
}

static void
test_self (void)
{
  /* D < N (features) and D > N (Gram) */
  const int shapes[][2] = { { 50, 8 }, { 10, 40 } };
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int n = shapes[s][0], d = shapes[s][1];
      float *x = random_matrix (n, d, 3 + s);
      for (size_t f = 0; f < G_N_ELEMENTS (forms); f++)
        g_assert_cmpfloat_with_epsilon (cka (x, d, x, d, n, forms[f]), 1.0, 1e-5);
      g_free (x);
    }
}

static void
test_invariance (void)
{
  enum { N = 60, D = 6 };
  float *x = random_matrix (N, D, 11);
  float *z = random_matrix (N, D, 12);
  for (int i = 0; i < N; i++)
    z[i * D] += 2.0f * x[i * D];  /* z partly like x */
  float *q = random_orthogonal (D, 13);
  float *rotated = transform (x, N, D, q, 3.7, 5.0);

  /* a general invertible map: identity with one axis stretched 10 times */
  float stretch[D * D] = { 0 };
  for (int j = 0; j < D; j++)
    stretch[j * D + j] = j == 0 ? 10.0f : 1.0f;
  float *stretched = transform (x, N, D, stretch, 1.0, 0.0);

  for (size_t f = 0; f < G_N_ELEMENTS (forms); f++)
    {
      g_assert_cmpfloat_with_epsilon (cka (x, D, rotated, D, N, forms[f]), 1.0, 1e-5);
      double zx = cka (z, D, x, D, N, forms[f]);
      g_assert_cmpfloat (zx, >, 0.05);
      g_assert_cmpfloat (zx, <, 0.95);
      g_assert_cmpfloat_with_epsilon (cka (z, D, rotated, D, N, forms[f]), zx, 1e-5);
      /* not invariant: x's first axis now carries almost all the variance */
      double xs = cka (x, D, stretched, D, N, forms[f]);
      g_assert_cmpfloat (xs, <, 0.6);
      g_assert_cmpfloat (fabs (cka (z, D, stretched, D, N, forms[f]) - zx), >, 0.05);
    }
  g_free (stretched);
  g_free (rotated);
  g_free (q);
  g_free (z);
  g_free (x);
}

/* One layer held as features and the other as a Gram matrix gives the numbers of both forms. */
static void
test_mixed_forms (void)
{
  enum { N = 20, DX = 7, DY = 30 };
  float *x = random_matrix (N, DX, 21);
  float *y = random_matrix (N, DY, 22);
  for (int i = 0; i < N; i++)
    y[i * DY + 3] += 1.5f * x[i * DX];
  double ref = cka (x, DX, y, DY, N, NN_CKA_GRAM);
  g_assert_cmpfloat_with_epsilon (cka (x, DX, y, DY, N, NN_CKA_FEATURES), ref, 1e-5);
  g_assert_cmpfloat (ref, >, 0.1);
  NnError err = { 0 };
  for (int fx = 0; fx < 2; fx++)
    for (int fy = 0; fy < 2; fy++)
      {
        NnCkaRep a, b;
        g_assert_true (nn_cka_rep_init (&a, x, N, DX, fx ? NN_CKA_GRAM : NN_CKA_FEATURES, &err));
        g_assert_true (nn_cka_rep_init (&b, y, N, DY, fy ? NN_CKA_GRAM : NN_CKA_FEATURES, &err));
        g_assert_true (a.gram == (fx == 1) && b.gram == (fy == 1));
        double ab, ba;
        g_assert_true (nn_cka_similarity (&ab, &a, &b, &err));
        g_assert_true (nn_cka_similarity (&ba, &b, &a, &err));
        g_assert_cmpfloat_with_epsilon (ab, ref, 1e-5);
        g_assert_cmpfloat_with_epsilon (ba, ref, 1e-5);
        nn_cka_rep_clear (&a);
        nn_cka_rep_clear (&b);
      }
  /* AUTO keeps x (7 < 20) as features and y (30 > 20) as its Gram matrix */
  NnCkaRep a, b;
  g_assert_true (nn_cka_rep_init (&a, x, N, DX, NN_CKA_AUTO, &err));
  g_assert_true (nn_cka_rep_init (&b, y, N, DY, NN_CKA_AUTO, &err));
  g_assert_false (a.gram);
  g_assert_true (b.gram);
  nn_cka_rep_clear (&a);
  nn_cka_rep_clear (&b);
  g_free (y);
  g_free (x);
}

static void
test_bad (void)
{
  NnError err = { 0 };
  double v = 0.0;
  const float x[] = { 1, 2, 3, 4 }, constant[] = { 2, 2, 2, 2 };
  g_assert_false (nn_cka_linear (&v, x, 1, x, 1, 1, NN_CKA_AUTO, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  const float bad[] = { 1, NAN, 3, 4 };
  g_assert_false (nn_cka_linear (&v, x, 1, bad, 1, 4, NN_CKA_AUTO, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_NUMERIC);
  /* a layer that does not vary has no similarity to speak of */
  g_assert_true (nn_cka_linear (&v, x, 1, constant, 1, 4, NN_CKA_AUTO, &err));
  g_assert_true (isnan (v));
}

static NnModel *
small_model (float    width,
             uint64_t seed)
{
  NnArchSpec spec = {
    .name = "smallcnn", .in_c = 1, .in_h = 28, .in_w = 28, .n_classes = 4, .width = width,
    .bank = NN_PFM_BANK_FULL, .seed = seed,
  };
  NnError err = { 0 };
  NnGraph *graph = nn_arch_build (&spec, &err);
  g_assert_nonnull (graph);
  NnModel *model = nn_model_new (graph, "smallcnn");
  g_assert_nonnull (model);
  return model;
}

static NnDataset *
random_dataset (int      n,
                uint64_t seed)
{
  NnDataset *ds = nn_dataset_new (n, 1, 28, 28, 4);
  g_assert_nonnull (ds);
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (size_t i = 0; i < (size_t) n * 28 * 28; i++)
    ds->images[i] = nn_rng_uniform (&rng);
  for (int i = 0; i < n; i++)
    ds->labels[i] = i % 4;
  return ds;
}

typedef struct
{
  int calls, last_done, last_total;
} Progress;

static void
on_progress (int   done,
             int   total,
             void *user_data)
{
  Progress *p = user_data;
  g_assert_cmpint (done, >, p->last_done);
  g_assert_cmpint (done, <=, total);
  p->calls++;
  p->last_done = done;
  p->last_total = total;
}

static void
test_layers (void)
{
  enum { N = 30 };
  NnModel *a = small_model (0.25f, 1);
  NnModel *b = nn_model_dup (a);
  g_assert_nonnull (b);
  /* b: the first conv's weights (not its bias) times 1.5: distance 0.5 there when the bias is
   * zero, and its output is a's scaled, so CKA 1 */
  int conv = -1;
  for (int i = 1; i < b->graph->n_nodes && conv < 0; i++)
    if (b->graph->nodes[i].op == NN_OP_CONV2D)
      conv = i;
  g_assert_cmpint (conv, >, 0);
  int w = nn_graph_node_param (b->graph, conv, NN_PARAM_WEIGHT);
  int bias = nn_graph_node_param (b->graph, conv, NN_PARAM_BIAS);
  float *wd = nn_graph_param_data (b->graph, w);
  for (size_t i = 0; i < b->graph->params[w].count; i++)
    wd[i] *= 1.5f;
  if (bias >= 0)
    memset (nn_graph_param_data (b->graph, bias), 0, b->graph->params[bias].count * sizeof (float));
  if (bias >= 0)
    memset (nn_graph_param_data (a->graph, bias), 0, a->graph->params[bias].count * sizeof (float));
  NnModel *c = small_model (0.25f, 2);  /* same graph, other weights */
  NnDataset *ds = random_dataset (N, 7);

  NnError err = { 0 };
  Progress progress = { 0 };
  NnCkaLayers *same = nn_cka_layers_new (a, a, ds, NN_FEATURES_FLATTEN, true, 8, on_progress,
                                         &progress, NULL, &err);
  g_assert_nonnull (same);
  g_assert_cmpint (same->n_layers, ==, a->graph->n_nodes - 1);
  g_assert_cmpint (progress.last_done, ==, progress.last_total);
  g_assert_cmpint (progress.last_total % (2 * N), ==, 0);
  g_assert_cmpfloat (same->accuracy[0], ==, same->accuracy[1]);
  const int L = same->n_layers;
  for (int l = 0; l < L; l++)
    {
      g_assert_cmpint (same->nodes[l], ==, l + 1);
      if (isnan (same->cka[l]))
        continue;
      g_assert_cmpfloat_with_epsilon (same->cka[l], 1.0, 1e-4);
      g_assert_cmpfloat_with_epsilon (same->matrix[(size_t) l * L + l], 1.0, 1e-4);
      for (int m = 0; m < L; m++)
        g_assert_cmpfloat_with_epsilon (same->matrix[(size_t) l * L + m],
                                        same->matrix[(size_t) m * L + l], 1e-4);
      g_assert_true (isnan (same->distance[l]) || same->distance[l] == 0.0);
    }

  NnCkaLayers *scaled = nn_cka_layers_new (a, b, ds, NN_FEATURES_POOL, false, 64, NULL, NULL,
                                           NULL, &err);
  g_assert_nonnull (scaled);
  g_assert_null (scaled->matrix);
  g_assert_cmpfloat_with_epsilon (scaled->distance[conv - 1], 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (scaled->cka[conv - 1], 1.0, 1e-4);
  for (int l = conv; l < L; l++)
    if (scaled->distance[l] == scaled->distance[l])
      g_assert_cmpfloat (scaled->distance[l], ==, 0.0);

  NnCkaLayers *other = nn_cka_layers_new (a, c, ds, NN_FEATURES_FLATTEN, false, 16, NULL, NULL,
                                          NULL, &err);
  g_assert_nonnull (other);
  g_assert_cmpfloat (other->distance[conv - 1], >, 0.5);
  int below = 0;
  for (int l = 0; l < L; l++)
    below += other->cka[l] < 0.999;
  g_assert_cmpint (below, >, 0);

  /* layers in groups of at most 4000 floats of features (30 samples: one or two layers a
   * pass): the same numbers, and the progress counts every pass */
  progress = (Progress) { 0 };
  NnCkaLayers *grouped = nn_cka_layers_new_with (a, c, ds, NN_FEATURES_FLATTEN, false, 16, 4000,
                                                 on_progress, &progress, NULL, &err);
  g_assert_nonnull (grouped);
  for (int l = 0; l < L; l++)
    if (!isnan (other->cka[l]))
      g_assert_cmpfloat_with_epsilon (grouped->cka[l], other->cka[l], 1e-6);
  g_assert_cmpint (progress.last_done, ==, progress.last_total);
  g_assert_cmpint (progress.last_total, >, 2 * N * 4);
  nn_cka_layers_free (grouped);

  /* another graph: refused, naming where */
  NnModel *wide = small_model (0.5f, 1);
  g_assert_null (nn_cka_layers_new (a, wide, ds, NN_FEATURES_POOL, false, 8, NULL, NULL, NULL,
                                    &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  g_assert_nonnull (strstr (err.message, "the graphs differ at node"));
  g_assert_nonnull (strstr (err.message, a->graph->nodes[conv].name));

  atomic_int cancel = 1;
  g_assert_null (nn_cka_layers_new (a, b, ds, NN_FEATURES_POOL, false, 8, NULL, NULL, &cancel,
                                    &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);

  nn_cka_layers_free (other);
  nn_cka_layers_free (scaled);
  nn_cka_layers_free (same);
  nn_model_free (wide);
  nn_model_free (c);
  nn_model_free (b);
  nn_model_free (a);
  nn_dataset_free (ds);
}

static void
test_graph_check (void)
{
  NnModel *a = small_model (0.25f, 1);
  NnModel *b = small_model (0.25f, 5);
  NnError err = { 0 };
  g_assert_true (nn_graph_check_same (a->graph, b->graph, &err));
  NnGraph *shorter = nn_graph_new ();
  g_assert_nonnull (shorter);
  g_assert_cmpint (nn_graph_add_input (shorter, a->graph->nodes[0].name, 1, 28, 28), ==, 0);
  g_assert_false (nn_graph_check_same (a->graph, shorter, &err));
  g_assert_nonnull (strstr (err.message, "differ in length"));
  g_assert_nonnull (strstr (err.message, a->graph->nodes[1].name));
  nn_graph_free (shorter);
  nn_model_free (b);
  nn_model_free (a);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/cka/hand-computed", test_hand);
  g_test_add_func ("/nn/cka/self", test_self);
  g_test_add_func ("/nn/cka/invariance", test_invariance);
  g_test_add_func ("/nn/cka/mixed-forms", test_mixed_forms);
  g_test_add_func ("/nn/cka/bad", test_bad);
  g_test_add_func ("/nn/cka/layers", test_layers);
  g_test_add_func ("/nn/cka/graph-check", test_graph_check);
  return g_test_run ();
}
