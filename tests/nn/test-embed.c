/* SPDX-License-Identifier: MIT */
/* A layer's features over a dataset (the dashes model, whose pooled features are dash counts),
 * PCA against points on a known line and plane, t-SNE on well-separated Gaussian clusters,
 * Barnes-Hut's gradient against the exact one, and bad input. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "embed/nn-tsne-private.h"
#include "nn.h"

#define SIZE 24

static NnDataset *
dashes_dataset (int       n,
                uint64_t  seed,
                int      *n_horizontal,
                int      *n_vertical)
{
  NnDataset *ds = nn_dataset_new (n, 1, SIZE, SIZE, 2);
  g_assert_nonnull (ds);
  uint8_t *orientation = g_malloc (SIZE * SIZE);
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (int i = 0; i < n; i++)
    {
      NnDashesInfo info;
      nn_synth_dashes_draw (ds->images + (size_t) i * SIZE * SIZE, orientation, SIZE, &rng, &info);
      ds->labels[i] = info.label;
      n_horizontal[i] = info.n_horizontal;
      n_vertical[i] = info.n_vertical;
    }
  g_free (orientation);
  return ds;
}

typedef struct
{
  int calls, last_done, last_total;
  atomic_int *cancel_at_first;
} Progress;

static void
on_progress (int   done,
             int   total,
             void *user_data)
{
  Progress *p = user_data;
  g_assert_cmpint (done, >, p->last_done);
  p->calls++;
  p->last_done = done;
  p->last_total = total;
  if (p->cancel_at_first != NULL)
    atomic_store (p->cancel_at_first, 1);
}

static void
test_features (void)
{
  enum { N = 37 };
  int nh[N], nv[N];
  NnDataset *ds = dashes_dataset (N, 5, nh, nv);
  NnModel *model = nn_synth_dashes_model_new (SIZE);
  g_assert_nonnull (model);
  int node = nn_graph_find (model->graph, "detect_relu");
  g_assert_cmpint (node, >, 0);

  Progress progress = { 0 };
  NnError err = { 0 };
  NnFeatures *f = nn_features_new (model, ds, node, NN_FEATURES_POOL, 8, on_progress, &progress,
                                   NULL, &err);
  g_assert_nonnull (f);
  g_assert_cmpint (f->n, ==, N);
  g_assert_cmpint (f->d, ==, 2);
  /* 5 batches of 8, the last partial; the last report is every sample. */
  g_assert_cmpint (progress.calls, ==, 5);
  g_assert_cmpint (progress.last_done, ==, N);
  g_assert_cmpint (progress.last_total, ==, N);
  for (int i = 0; i < N; i++)
    {
      /* The ReLU is 1 exactly at each dash's centre: the mean is the count over the area. */
      g_assert_cmpfloat_with_epsilon (f->values[2 * i] * SIZE * SIZE, nh[i], 1e-3);
      g_assert_cmpfloat_with_epsilon (f->values[2 * i + 1] * SIZE * SIZE, nv[i], 1e-3);
      g_assert_cmpint (f->labels[i], ==, ds->labels[i]);
      g_assert_cmpint (f->preds[i], ==, nh[i] > nv[i] ? 0 : 1);
    }

  NnFeatures *flat = nn_features_new (model, ds, node, NN_FEATURES_FLATTEN, 16, NULL, NULL,
                                      NULL, &err);
  g_assert_nonnull (flat);
  g_assert_cmpint (flat->d, ==, 2 * SIZE * SIZE);
  for (int i = 0; i < N; i++)
    for (int c = 0; c < 2; c++)
      {
        double sum = 0.0;
        for (int p = 0; p < SIZE * SIZE; p++)
          sum += flat->values[(size_t) i * flat->d + c * SIZE * SIZE + p];
        g_assert_cmpfloat_with_epsilon (sum / (SIZE * SIZE), f->values[2 * i + c], 1e-6);
      }

  /* Cancelled after the first batch. */
  atomic_int cancel = 0;
  Progress stop = { .cancel_at_first = &cancel };
  g_assert_null (nn_features_new (model, ds, node, NN_FEATURES_POOL, 8, on_progress, &stop,
                                  &cancel, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  g_assert_cmpint (stop.calls, ==, 1);

  g_assert_null (nn_features_new (model, ds, model->graph->n_nodes, NN_FEATURES_POOL, 8, NULL,
                                  NULL, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);

  nn_features_free (flat);
  nn_features_free (f);
  nn_model_free (model);
  nn_dataset_free (ds);
}

/* Points c + t u on a line in 3-D: the first component is t - mean (t) up to sign, with
 * variance var (t); the second has none. D > N goes through the Gram matrix. */
static void
check_line (int D,
            int N)
{
  double u[16] = { 0 };
  for (int j = 0; j < D; j++)
    u[j] = 1.0 + j;
  double norm = 0.0;
  for (int j = 0; j < D; j++)
    norm += u[j] * u[j];
  float *x = g_new (float, (size_t) N * D);
  double t[32], mean = 0.0;
  for (int i = 0; i < N; i++)
    {
      t[i] = (i * 7 % N) - 0.3 * i;
      mean += t[i] / N;
      for (int j = 0; j < D; j++)
        x[i * D + j] = (float) (5.0 - j + t[i] * u[j] / sqrt (norm));
    }
  double var = 0.0;
  for (int i = 0; i < N; i++)
    var += (t[i] - mean) * (t[i] - mean) / (N - 1);
  float out[64], variance[2];
  NnError err = { 0 };
  g_assert_true (nn_pca (out, variance, x, N, D, 2, &err));
  g_assert_cmpfloat_with_epsilon (variance[0], var, 1e-4 * var);
  g_assert_cmpfloat_with_epsilon (variance[1], 0.0, 1e-4 * var);
  /* the sign puts the projection of largest magnitude on the positive side */
  int big = 0;
  for (int i = 1; i < N; i++)
    if (fabs (t[i] - mean) > fabs (t[big] - mean))
      big = i;
  double sign = t[big] - mean > 0 ? 1.0 : -1.0;
  for (int i = 0; i < N; i++)
    {
      g_assert_cmpfloat_with_epsilon (out[2 * i], sign * (t[i] - mean), 1e-3);
      g_assert_cmpfloat_with_epsilon (out[2 * i + 1], 0.0, 1e-3);
    }
  g_free (x);
}

static void
test_pca_line (void)
{
  check_line (3, 20);
  check_line (12, 6);
}

/* Points a u + b v + c on a plane in 5-D with orthonormal u, v and var (a) > var (b): the
 * projections are (a, b) centred, up to each one's sign. */
static void
test_pca_plane (void)
{
  enum { N = 40, D = 5 };
  const double u[D] = { 0.6, 0.8, 0, 0, 0 }, v[D] = { 0, 0, 0.6, 0, -0.8 };
  float x[N * D];
  double a[N], b[N], ma = 0, mb = 0;
  NnRng rng;
  nn_rng_init (&rng, 3);
  for (int i = 0; i < N; i++)
    {
      a[i] = 4.0 * nn_rng_normal (&rng);
      b[i] = 1.0 * nn_rng_normal (&rng);
      ma += a[i] / N;
      mb += b[i] / N;
      for (int j = 0; j < D; j++)
        x[i * D + j] = (float) (a[i] * u[j] + b[i] * v[j] + j);
    }
  float out[N * 2];
  NnError err = { 0 };
  g_assert_true (nn_pca (out, NULL, x, N, D, 2, &err));
  /* The total variance is the sum of every component's (all D of them). */
  float every[N * D], variance[D];
  g_assert_true (nn_pca (every, variance, x, N, D, D, &err));
  double sum = 0.0;
  for (int c = 0; c < D; c++)
    sum += variance[c];
  double total = nn_pca_total_variance (x, N, D);
  g_assert_cmpfloat_with_epsilon (total, sum, 1e-4 * total);
  g_assert_cmpfloat (total, >, 16.0);
  /* with a and b drawn independently, their sample covariance is small but not 0: compare
   * through |correlation| with the true coordinates */
  for (int c = 0; c < 2; c++)
    {
      const double *s = c == 0 ? a : b, m = c == 0 ? ma : mb;
      double sxy = 0, sxx = 0, syy = 0;
      for (int i = 0; i < N; i++)
        {
          sxy += (s[i] - m) * out[2 * i + c];
          sxx += (s[i] - m) * (s[i] - m);
          syy += (double) out[2 * i + c] * out[2 * i + c];
        }
      g_assert_cmpfloat (fabs (sxy) / sqrt (sxx * syy), >, 0.99);
    }
  /* together the two components keep every point's distance to the centroid */
  for (int i = 0; i < N; i++)
    {
      double r2 = (a[i] - ma) * (a[i] - ma) + (b[i] - mb) * (b[i] - mb);
      double p2 = (double) out[2 * i] * out[2 * i] + (double) out[2 * i + 1] * out[2 * i + 1];
      g_assert_cmpfloat_with_epsilon (p2, r2, 1e-3 * (1.0 + r2));
    }
}

static void
test_pca_bad (void)
{
  float x[6] = { 1, 2, 3, 4, 5, 6 }, out[12];
  NnError err = { 0 };
  g_assert_false (nn_pca (out, NULL, x, 1, 6, 1, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  g_assert_nonnull (strstr (err.message, "at least 2 points"));
  g_assert_false (nn_pca (out, NULL, x, 3, 2, 3, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
}

/* n_clusters Gaussian clusters (sd 1) in D dimensions, centres 12 apart on the axes. */
static float *
clusters (int      N,
          int      D,
          int      n_clusters,
          uint64_t seed,
          int     *label)
{
  float *x = g_new (float, (size_t) N * D);
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (int i = 0; i < N; i++)
    {
      label[i] = i % n_clusters;
      for (int j = 0; j < D; j++)
        x[(size_t) i * D + j] = nn_rng_normal (&rng) + (j == label[i] ? 12.0f : 0.0f);
    }
  return x;
}

/* The fraction of each point's k nearest map neighbours that share its cluster. */
static double
knn_purity (const float *y,
            const int   *label,
            int          N,
            int          k)
{
  long same = 0;
  double *d = g_new (double, N);
  for (int i = 0; i < N; i++)
    {
      for (int j = 0; j < N; j++)
        {
          double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
          d[j] = j == i ? HUGE_VAL : dx * dx + dy * dy;
        }
      for (int r = 0; r < k; r++)
        {
          int best = 0;
          for (int j = 1; j < N; j++)
            if (d[j] < d[best])
              best = j;
          same += label[best] == label[i];
          d[best] = HUGE_VAL;
        }
    }
  g_free (d);
  return (double) same / ((double) N * k);
}

static void
check_tsne (int N,
            int exact_below)
{
  enum { D = 10, CLUSTERS = 4 };
  int *label = g_new (int, N);
  float *x = clusters (N, D, CLUSTERS, 11, label);
  NnTsneConfig config;
  nn_tsne_config_init (&config);
  config.perplexity = 20;
  config.exact_below = exact_below;
  config.threads = 2;
  float *y = g_new (float, 2 * N), *again = g_new (float, 2 * N);
  NnError err = { 0 };
  Progress progress = { 0 };
  progress.last_done = -1;
  g_assert_true (nn_tsne (y, x, N, D, &config, on_progress, &progress, NULL, &err));
  g_assert_cmpint (progress.last_done, ==, config.iterations);
  double purity = knn_purity (y, label, N, 10);
  g_test_message ("N %d, exact below %d: 10-NN purity %.4f", N, exact_below, purity);
  g_assert_cmpfloat (purity, >, 0.98);
  /* seeded: the same on one thread */
  config.threads = 1;
  g_assert_true (nn_tsne (again, x, N, D, &config, NULL, NULL, NULL, &err));
  g_assert_cmpmem (y, sizeof (float) * 2 * N, again, sizeof (float) * 2 * N);
  /* another seed, another map */
  config.seed = 2;
  g_assert_true (nn_tsne (again, x, N, D, &config, NULL, NULL, NULL, &err));
  g_assert_true (memcmp (y, again, sizeof (float) * 2 * N) != 0);
  g_free (again);
  g_free (y);
  g_free (x);
  g_free (label);
}

static void
test_tsne_exact (void)
{
  check_tsne (200, 1000);
}

static void
test_tsne_barnes_hut (void)
{
  check_tsne (600, 100);
}

/* A small set (80 points) at the automatic learning rate: the early exaggeration must not fling
 * a point far from the others (it did at a fixed rate of 200: rate x exaggeration >> N). */
static void
test_tsne_small (void)
{
  enum { N = 80, D = 10 };
  int label[N];
  float *x = clusters (N, D, 4, 5, label);
  NnTsneConfig config;
  nn_tsne_config_init (&config);
  config.perplexity = 20;
  float y[2 * N];
  NnError err = { 0 };
  g_assert_true (nn_tsne (y, x, N, D, &config, NULL, NULL, NULL, &err));
  double cx = 0, cy = 0;
  for (int i = 0; i < N; i++)
    {
      cx += y[2 * i] / (double) N;
      cy += y[2 * i + 1] / (double) N;
    }
  double mean = 0, far = 0;
  for (int i = 0; i < N; i++)
    {
      double r = hypot (y[2 * i] - cx, y[2 * i + 1] - cy);
      mean += r / N;
      far = fmax (far, r);
    }
  g_test_message ("N %d: mean distance to the centroid %.2f, largest %.2f", N, mean, far);
  g_assert_cmpfloat (far, <, 3.0 * mean);
  g_assert_cmpfloat (knn_purity (y, label, N, 5), >, 0.95);
  g_free (x);
}

static double
gradient_error (const double         *y,
                const NnTsneAffinity *p,
                double                theta)
{
  const int N = p->n;
  double *exact = g_new (double, 2 * N), *bh = g_new (double, 2 * N);
  NnTsneGradient *g = nn_tsne_gradient_new (N, 2);
  g_assert_nonnull (g);
  g_assert_true (nn_tsne_gradient (g, exact, y, p, 1.0, 0.0));
  g_assert_true (nn_tsne_gradient (g, bh, y, p, 1.0, theta));
  double num = 0, den = 0;
  for (int k = 0; k < 2 * N; k++)
    {
      num += (bh[k] - exact[k]) * (bh[k] - exact[k]);
      den += exact[k] * exact[k];
    }
  nn_tsne_gradient_free (g);
  g_free (bh);
  g_free (exact);
  return sqrt (num / den);
}

static void
test_bh_gradient (void)
{
  enum { N = 300, D = 6 };
  int label[N];
  float *x = clusters (N, D, 3, 4, label);
  NnTsneAffinity p;
  NnError err = { 0 };
  g_assert_true (nn_tsne_affinity_init (&p, x, N, D, 10.0, 30, &err));
  /* P is symmetric and sums to 1 */
  double total = 0.0;
  for (int i = 0; i < N; i++)
    for (int s = p.row[i]; s < p.row[i + 1]; s++)
      {
        int j = p.col[s];
        g_assert_cmpint (j, !=, i);
        total += p.val[s];
        bool found = false;
        for (int t = p.row[j]; t < p.row[j + 1]; t++)
          if (p.col[t] == i)
            {
              g_assert_cmpfloat_with_epsilon (p.val[t], p.val[s], 1e-9);
              found = true;
            }
        g_assert_true (found);
      }
  g_assert_cmpfloat_with_epsilon (total, 1.0, 1e-4);

  double y[2 * N];
  NnRng rng;
  nn_rng_init (&rng, 9);
  for (int i = 0; i < N; i++)
    {
      y[2 * i] = 3.0 * nn_rng_normal (&rng) + 10.0 * (label[i] == 1);
      y[2 * i + 1] = 3.0 * nn_rng_normal (&rng) + 10.0 * (label[i] == 2);
    }
  /* two points on top of each other share a leaf */
  y[2] = y[0];
  y[3] = y[1];
  double e_fine = gradient_error (y, &p, 1e-3);
  double e_half = gradient_error (y, &p, 0.5);
  g_test_message ("Barnes-Hut gradient error: theta 0.001 %.3g, theta 0.5 %.3g", e_fine,
                  e_half);
  g_assert_cmpfloat (e_fine, <, 1e-9);
  g_assert_cmpfloat (e_half, <, 0.02);
  g_assert_cmpfloat (e_half, >, e_fine);
  nn_tsne_affinity_clear (&p);
  g_free (x);
}

static void
test_tsne_bad (void)
{
  float x[200 * 2] = { 0 }, y[200 * 2];
  for (int i = 0; i < 200 * 2; i++)
    x[i] = (float) (i % 17);
  NnTsneConfig config;
  nn_tsne_config_init (&config);
  NnError err = { 0 };
  g_assert_false (nn_tsne (y, x, 1, 2, &config, NULL, NULL, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  g_assert_nonnull (strstr (err.message, "at least 2 points"));
  /* perplexity 30 needs 91 points */
  g_assert_false (nn_tsne (y, x, 50, 2, &config, NULL, NULL, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  g_assert_nonnull (strstr (err.message, "perplexity 30 needs at least 91 points"));
  x[7] = NAN;
  g_assert_false (nn_tsne (y, x, 200, 2, &config, NULL, NULL, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_NUMERIC);
  g_assert_nonnull (strstr (err.message, "point 3"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/embed/features", test_features);
  g_test_add_func ("/nn/embed/pca-line", test_pca_line);
  g_test_add_func ("/nn/embed/pca-plane", test_pca_plane);
  g_test_add_func ("/nn/embed/pca-bad", test_pca_bad);
  g_test_add_func ("/nn/embed/tsne-exact-clusters", test_tsne_exact);
  g_test_add_func ("/nn/embed/tsne-barnes-hut-clusters", test_tsne_barnes_hut);
  g_test_add_func ("/nn/embed/tsne-small-set", test_tsne_small);
  g_test_add_func ("/nn/embed/barnes-hut-gradient", test_bh_gradient);
  g_test_add_func ("/nn/embed/tsne-bad", test_tsne_bad);
  return g_test_run ();
}
