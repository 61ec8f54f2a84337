/* SPDX-License-Identifier: MIT */
/* Dataset examples: the top and bottom k against a brute-force loop over single images,
 * receptive fields by hand and by the input gradient of a unit, and the cache file (round
 * trip, another key, broken files). */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "test-util.h"

#define SIDE 12

/* conv 3x3 (4 channels) -> ReLU -> max pool 2 -> conv 3x3 (3 channels), seeded weights. */
static NnModel *
small_model (void)
{
  NnGraph *g = nn_graph_new ();
  int x = nn_graph_add_input (g, "input", 1, SIDE, SIDE);
  x = nn_graph_add_conv2d (g, "conv1", x, 4, 3, 1, 1, 1, 1, true);
  x = nn_graph_add_relu (g, "relu1", x);
  x = nn_graph_add_maxpool (g, "pool1", x, 2, 2, 0);
  nn_graph_add_conv2d (g, "conv2", x, 3, 3, 1, 1, 1, 1, true);
  NnRng rng;
  nn_rng_init (&rng, 3);
  nn_graph_init_params (g, &rng);
  /* Biases that are not zero, so the ReLU cuts at different places per channel. */
  for (int p = 0; p < g->n_params; p++)
    if (g->params[p].role == NN_PARAM_BIAS)
      for (size_t i = 0; i < g->params[p].count; i++)
        g->data[g->params[p].offset + i] = 0.3f * (nn_rng_uniform (&rng) - 0.5f);
  NnModel *model = nn_model_new (g, "");
  g_assert_nonnull (model);
  model->mean[0] = 0.5f;
  model->std[0] = 0.25f;
  return model;
}

static NnDataset *
random_dataset (int      n,
                uint64_t seed)
{
  NnDataset *ds = nn_dataset_new (n, 1, SIDE, SIDE, 2);
  g_assert_nonnull (ds);
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (size_t i = 0; i < (size_t) n * SIDE * SIDE; i++)
    ds->images[i] = nn_rng_uniform (&rng);
  for (int i = 0; i < n; i++)
    ds->labels[i] = i % 2;
  return ds;
}

/* Every sample's spatial maximum and its position for every channel of node, one image at a
 * time: stat[(i * C + c) * 3 + {0, 1, 2}] = value, y, x. */
static float *
brute_force (NnModel         *model,
             const NnDataset *ds,
             int              node)
{
  NnShape s = model->graph->nodes[node].shape;
  NnContext *ctx = nn_context_new (model->graph, 1, NN_CONTEXT_NO_FOLD, NULL);
  g_assert_nonnull (ctx);
  float *stat = g_new (float, (size_t) ds->n * s.c * 3);
  const size_t sample = (size_t) SIDE * SIDE;
  for (int i = 0; i < ds->n; i++)
    {
      float *in = nn_context_input (ctx);
      for (size_t p = 0; p < sample; p++)
        in[p] = (ds->images[i * sample + p] - model->mean[0]) / model->std[0];
      nn_context_forward (ctx, -1);
      const float *act = nn_context_output (ctx, node);
      for (int c = 0; c < s.c; c++)
        {
          int best = 0;
          for (int p = 0; p < s.h * s.w; p++)
            if (act[c * s.h * s.w + p] > act[c * s.h * s.w + best])
              best = p;
          float *st = stat + ((size_t) i * s.c + c) * 3;
          st[0] = act[c * s.h * s.w + best];
          st[1] = (float) (best / s.w);
          st[2] = (float) (best % s.w);
        }
    }
  nn_context_free (ctx);
  return stat;
}

typedef struct
{
  const float *values;  /* (n) */
  int          sign;    /* +1: descending, -1: ascending */
} Order;

static Order order;

static int
compare_samples (const void *a,
                 const void *b)
{
  int i = *(const int *) a, j = *(const int *) b;
  float vi = order.values[i], vj = order.values[j];
  if (vi != vj)
    return (order.sign > 0 ? vi < vj : vi > vj) ? 1 : -1;
  return i < j ? -1 : 1;
}

static void
check_against_brute_force (NnModel         *model,
                           const NnDataset *ds,
                           const char      *layer,
                           int              k,
                           int              batch)
{
  int node = nn_graph_find (model->graph, layer);
  g_assert_cmpint (node, >, 0);
  NnShape s = model->graph->nodes[node].shape;
  NnError err = { 0 };
  NnExamples *ex = nn_examples_new (model, ds, node, k, batch, NULL, NULL, NULL, &err);
  g_assert_nonnull (ex);
  g_assert_cmpint (ex->c, ==, s.c);
  g_assert_cmpint (ex->h, ==, s.h);
  g_assert_cmpint (ex->w, ==, s.w);
  g_assert_cmpint (ex->n, ==, ds->n);
  g_assert_cmpint (nn_examples_count (ex), ==, MIN (k, ds->n));

  float *stat = brute_force (model, ds, node);
  float *values = g_new (float, ds->n);
  int *idx = g_new (int, ds->n);
  for (int c = 0; c < s.c; c++)
    {
      for (int i = 0; i < ds->n; i++)
        values[i] = stat[((size_t) i * s.c + c) * 3];
      for (int end = 0; end < 2; end++)
        {
          for (int i = 0; i < ds->n; i++)
            idx[i] = i;
          order = (Order) { values, end == 0 ? 1 : -1 };
          qsort (idx, (size_t) ds->n, sizeof (int), compare_samples);
          const NnExample *list = end == 0 ? nn_examples_top (ex, c) : nn_examples_bottom (ex, c);
          for (int r = 0; r < nn_examples_count (ex); r++)
            {
              const float *st = stat + ((size_t) idx[r] * s.c + c) * 3;
              g_assert_cmpint (list[r].index, ==, idx[r]);
              g_assert_cmpfloat_with_epsilon (list[r].value, st[0], 1e-4);
              g_assert_cmpint (list[r].y, ==, (int) st[1]);
              g_assert_cmpint (list[r].x, ==, (int) st[2]);
            }
        }
    }
  g_free (idx);
  g_free (values);
  g_free (stat);
  nn_examples_free (ex);
}

static void
test_top_k (void)
{
  NnModel *model = small_model ();
  NnDataset *ds = random_dataset (53, 7);
  /* A conv layer (no ties), a ReLU layer (ties at 0 go by index), batches that do and do not
   * divide the set, and k above n. */
  check_against_brute_force (model, ds, "conv2", 5, 8);
  check_against_brute_force (model, ds, "conv2", 5, 1);
  check_against_brute_force (model, ds, "relu1", 6, 64);
  check_against_brute_force (model, ds, "pool1", 60, 10);
  nn_dataset_free (ds);
  nn_model_free (model);
}

static void
on_progress (int   done,
             int   total,
             void *user_data)
{
  int *calls = user_data;
  g_assert_cmpint (total, ==, 20);
  g_assert_cmpint (done, <=, total);
  (*calls)++;
}

static void
on_progress_cancel (int   done,
                    int   total,
                    void *user_data)
{
  (void) done;
  (void) total;
  atomic_store ((atomic_int *) user_data, 1);
}

static void
test_progress_cancel_errors (void)
{
  NnModel *model = small_model ();
  NnDataset *ds = random_dataset (20, 8);
  int node = nn_graph_find (model->graph, "conv2");
  int calls = 0;
  NnError err = { 0 };
  NnExamples *ex = nn_examples_new (model, ds, node, 3, 6, on_progress, &calls, NULL, &err);
  g_assert_nonnull (ex);
  g_assert_cmpint (calls, ==, 4);
  nn_examples_free (ex);

  atomic_int cancel = 0;
  ex = nn_examples_new (model, ds, node, 3, 6, on_progress_cancel, &cancel, &cancel, &err);
  g_assert_null (ex);
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);

  g_assert_null (nn_examples_new (model, ds, node, 0, 6, NULL, NULL, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  g_assert_null (nn_examples_new (model, ds, 0, 3, 6, NULL, NULL, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  NnDataset *wrong = nn_dataset_new (4, 1, SIDE + 1, SIDE, 2);
  g_assert_null (nn_examples_new (model, wrong, node, 3, 6, NULL, NULL, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  nn_dataset_free (wrong);
  nn_dataset_free (ds);
  nn_model_free (model);
}

/* The input gradient of unit (c, y, x) of node, for one random image. */
static float *
unit_gradient (NnGraph *g,
               int      node,
               int      c,
               int      y,
               int      x)
{
  NnContext *ctx = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  g_assert_nonnull (ctx);
  NnShape in = g->nodes[0].shape;
  NnRng rng;
  nn_rng_init (&rng, 11);
  float *input = nn_context_input (ctx);
  for (int i = 0; i < in.c * in.h * in.w; i++)
    input[i] = nn_rng_normal (&rng);
  nn_context_forward (ctx, node);
  NnShape s = g->nodes[node].shape;
  float *seed = nn_context_grad (ctx, node);
  memset (seed, 0, sizeof (float) * nn_shape_size (s));
  seed[((size_t) c * s.h + y) * s.w + x] = 1.0f;
  nn_context_backward (ctx, node, NN_BACKWARD_INPUT, -1);
  float *grad = g_memdup2 (nn_context_grad (ctx, 0), sizeof (float) * in.h * in.w * in.c);
  nn_context_free (ctx);
  return grad;
}

/* Checks that the gradient of the unit is zero outside its rectangle and, when `tight`, not
 * zero on each of the rectangle's four edges. */
static void
check_field_empirically (NnGraph *g,
                         int      node,
                         int      y,
                         int      x,
                         gboolean tight)
{
  NnReceptiveField f;
  NnError err = { 0 };
  g_assert_true (nn_receptive_field (&f, g, node, &err));
  NnShape in = g->nodes[0].shape;
  int r[4];
  nn_receptive_field_rect (&f, y, x, in.h, in.w, r);
  float *grad = unit_gradient (g, node, 0, y, x);
  float edge[4] = { 0 };  /* top, bottom, left, right */
  for (int i = 0; i < in.h; i++)
    for (int j = 0; j < in.w; j++)
      {
        float v = fabsf (grad[i * in.w + j]);
        gboolean inside = i >= r[0] && i < r[0] + r[2] && j >= r[1] && j < r[1] + r[3];
        if (!inside)
          g_assert_cmpfloat (v, ==, 0.0f);
        if (!inside)
          continue;
        edge[0] = i == r[0] ? fmaxf (edge[0], v) : edge[0];
        edge[1] = i == r[0] + r[2] - 1 ? fmaxf (edge[1], v) : edge[1];
        edge[2] = j == r[1] ? fmaxf (edge[2], v) : edge[2];
        edge[3] = j == r[1] + r[3] - 1 ? fmaxf (edge[3], v) : edge[3];
      }
  if (tight)
    for (int e = 0; e < 4; e++)
      g_assert_cmpfloat (edge[e], >, 0.0f);
  g_free (grad);
}

/* conv 3 (pad 1) -> pool 2 (stride 2) -> conv 3 (stride 2, pad 1) -> conv 3 (dilation 2,
 * pad 2) -> avg pool 3 (stride 1, pad 1), on 48 x 48; max or average for the first pool. */
static NnGraph *
chain_graph (gboolean max_pool)
{
  NnGraph *g = nn_graph_new ();
  int x = nn_graph_add_input (g, "input", 1, 48, 48);
  x = nn_graph_add_conv2d (g, "a", x, 2, 3, 1, 1, 1, 1, false);
  x = max_pool ? nn_graph_add_maxpool (g, "b", x, 2, 2, 0) : nn_graph_add_avgpool (g, "b", x, 2,
                                                                                     2, 0);
  x = nn_graph_add_conv2d (g, "c", x, 2, 3, 2, 1, 1, 1, false);
  x = nn_graph_add_conv2d (g, "d", x, 2, 3, 1, 2, 2, 1, false);
  nn_graph_add_avgpool (g, "e", x, 3, 1, 1);
  NnRng rng;
  nn_rng_init (&rng, 5);
  nn_graph_init_params (g, &rng);
  return g;
}

static void
test_receptive_field_chain (void)
{
  NnGraph *g = chain_graph (TRUE);
  /* By hand: size += dilation * (k - 1) * jump, start -= pad * jump, jump *= stride. */
  static const struct { const char *name; int size, jump, start; } want[] = {
    { "a", 3, 1, -1 },   /* 1 + 2 * 1, start 0 - 1 */
    { "b", 4, 2, -1 },   /* 3 + 1 * 1 */
    { "c", 8, 4, -3 },   /* 4 + 2 * 2, start -1 - 1 * 2 */
    { "d", 24, 4, -11 }, /* 8 + 2 * 2 * 4, start -3 - 2 * 4 */
    { "e", 32, 4, -15 }, /* 24 + 2 * 4, start -11 - 4 */
  };
  for (size_t i = 0; i < G_N_ELEMENTS (want); i++)
    {
      NnReceptiveField f;
      g_assert_true (nn_receptive_field (&f, g, nn_graph_find (g, want[i].name), NULL));
      g_assert_false (f.whole);
      g_assert_cmpint (f.size_h, ==, want[i].size);
      g_assert_cmpint (f.size_w, ==, want[i].size);
      g_assert_cmpint (f.jump_h, ==, want[i].jump);
      g_assert_cmpint (f.jump_w, ==, want[i].jump);
      g_assert_cmpint (f.start_h, ==, want[i].start);
      g_assert_cmpint (f.start_w, ==, want[i].start);
    }
  /* Unit (6, 2) of e: rows -15 + 24 = 9 .. 40; columns -15 + 8 = -7 .. 24, clipped at 0. */
  NnReceptiveField f;
  g_assert_true (nn_receptive_field (&f, g, nn_graph_find (g, "e"), NULL));
  int r[4];
  nn_receptive_field_rect (&f, 6, 2, 48, 48, r);
  g_assert_cmpint (r[0], ==, 9);
  g_assert_cmpint (r[2], ==, 32);
  g_assert_cmpint (r[1], ==, 0);
  g_assert_cmpint (r[3], ==, 25);

  /* The gradient of a unit is zero outside its field (through the max pool, only the
   * winners carry it); with an average pool it reaches every edge of the field. */
  int e = nn_graph_find (g, "e"), c = nn_graph_find (g, "c");
  check_field_empirically (g, e, 6, 2, FALSE);
  check_field_empirically (g, e, 11, 11, FALSE);
  check_field_empirically (g, c, 5, 3, FALSE);
  nn_graph_free (g);
  g = chain_graph (FALSE);
  check_field_empirically (g, nn_graph_find (g, "e"), 6, 2, TRUE);
  check_field_empirically (g, nn_graph_find (g, "e"), 4, 7, TRUE);
  check_field_empirically (g, nn_graph_find (g, "d"), 3, 9, TRUE);
  nn_graph_free (g);
}

static void
test_receptive_field_graph (void)
{
  /* Two branches that see different windows, joined by an add: unit 0 of p sees -1 .. 1, of q
   * 0 .. 2 (padding at the bottom and right only), of the sum -1 .. 2. */
  NnGraph *g = nn_graph_new ();
  int x = nn_graph_add_input (g, "input", 1, 20, 20);
  int p = nn_graph_add_conv2d (g, "p", x, 1, 3, 1, 1, 1, 1, false);
  int padded = nn_graph_add_pad (g, "padded", x, 0, 0, 2, 2, 0.0f);
  int q = nn_graph_add_conv2d (g, "q", padded, 1, 3, 1, 0, 1, 1, false);
  int sum = nn_graph_add_add (g, "sum", p, q);
  int pooled = nn_graph_add_global_avgpool (g, "gap", sum);
  NnRng rng;
  nn_rng_init (&rng, 9);
  nn_graph_init_params (g, &rng);
  NnReceptiveField f;
  g_assert_true (nn_receptive_field (&f, g, q, NULL));
  g_assert_cmpint (f.start_h, ==, 0);
  g_assert_cmpint (f.size_h, ==, 3);
  g_assert_true (nn_receptive_field (&f, g, sum, NULL));
  g_assert_false (f.whole);
  g_assert_cmpint (f.start_h, ==, -1);
  g_assert_cmpint (f.start_w, ==, -1);
  g_assert_cmpint (f.size_h, ==, 4);
  g_assert_cmpint (f.size_w, ==, 4);
  g_assert_cmpint (f.jump_h, ==, 1);
  check_field_empirically (g, sum, 7, 12, TRUE);
  check_field_empirically (g, sum, 0, 19, TRUE);
  g_assert_true (nn_receptive_field (&f, g, pooled, NULL));
  g_assert_true (f.whole);
  int r[4];
  nn_receptive_field_rect (&f, 0, 0, 20, 20, r);
  g_assert_cmpint (r[0], ==, 0);
  g_assert_cmpint (r[1], ==, 0);
  g_assert_cmpint (r[2], ==, 20);
  g_assert_cmpint (r[3], ==, 20);
  nn_graph_free (g);

  /* Paths of strides 2 and 1 meeting: no common field. */
  g = nn_graph_new ();
  x = nn_graph_add_input (g, "input", 1, 48, 48);
  int s2 = nn_graph_add_conv2d (g, "s2", x, 1, 1, 2, 0, 1, 1, false);
  int s1 = nn_graph_add_conv2d (g, "s1", x, 1, 25, 1, 0, 1, 1, false);
  int mixed = nn_graph_add_add (g, "mixed", s2, s1);
  NnError err = { 0 };
  g_assert_false (nn_receptive_field (&f, g, mixed, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (err.message, "mixed"));
  nn_graph_free (g);
}

static void
assert_examples_equal (const NnExamples *a,
                       const NnExamples *b)
{
  g_assert_cmpint (a->c, ==, b->c);
  g_assert_cmpint (a->h, ==, b->h);
  g_assert_cmpint (a->w, ==, b->w);
  g_assert_cmpint (a->k, ==, b->k);
  g_assert_cmpint (a->n, ==, b->n);
  for (int c = 0; c < a->c; c++)
    {
      g_assert_cmpmem (nn_examples_top (a, c), sizeof (NnExample) * nn_examples_count (a),
                       nn_examples_top (b, c), sizeof (NnExample) * nn_examples_count (b));
      g_assert_cmpmem (nn_examples_bottom (a, c), sizeof (NnExample) * nn_examples_count (a),
                       nn_examples_bottom (b, c), sizeof (NnExample) * nn_examples_count (b));
    }
}

static void
test_cache (void)
{
  NnModel *model = small_model ();
  NnDataset *ds = random_dataset (30, 4);
  int node = nn_graph_find (model->graph, "conv2");
  NnError err = { 0 };
  NnExamples *ex = nn_examples_new (model, ds, node, 4, 16, NULL, NULL, NULL, &err);
  g_assert_nonnull (ex);

  g_autofree char *dir = test_util_make_tmp_dir ();
  g_autofree char *model_path = g_build_filename (dir, "m.safetensors", NULL);
  g_assert_true (nn_model_save (model, model_path, &err));
  char *id = nn_examples_model_identity (model_path, &err);
  g_assert_nonnull (id);
  char *key = nn_examples_cache_key (id, "fashion-mnist", "conv2", 4, &err);
  g_assert_nonnull (key);
  char *other = nn_examples_cache_key (id, "fashion-mnist", "conv2", 5, &err);
  g_assert_cmpstr (key, !=, other);
  char name[64], other_name[64];
  nn_examples_cache_name (name, sizeof name, key);
  nn_examples_cache_name (other_name, sizeof other_name, other);
  g_assert_true (g_str_has_prefix (name, "examples-"));
  g_assert_cmpstr (name, !=, other_name);
  g_assert_null (nn_examples_model_identity ("/nonexistent/m.safetensors", &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_IO);

  /* Round trip. */
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_assert_true (nn_examples_save (ex, path, key, &err));
  NnExamples *back = nn_examples_load (path, key, &err);
  g_assert_nonnull (back);
  assert_examples_equal (ex, back);
  nn_examples_free (back);

  /* Written for another key. */
  g_assert_null (nn_examples_load (path, other, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_FORMAT);
  g_assert_nonnull (strstr (err.message, "another"));

  /* Rewriting the model file changes its key (size or modification time). */
  model->test_accuracy = 0.5;
  g_usleep (20000);
  g_assert_true (nn_model_save (model, model_path, &err));
  char *rewritten = nn_examples_model_identity (model_path, &err);
  g_assert_cmpstr (rewritten, !=, id);
  free (rewritten);

  /* Broken files: every byte flipped in turn, truncated at every length, missing. */
  gchar *contents = NULL;
  gsize length = 0;
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_autofree char *broken = g_build_filename (dir, "broken.bin", NULL);
  for (gsize i = 0; i < length; i += 7)
    {
      contents[i] ^= 0x5a;
      g_assert_true (g_file_set_contents (broken, contents, (gssize) length, NULL));
      contents[i] ^= 0x5a;
      g_assert_null (nn_examples_load (broken, key, &err));
      g_assert_cmpint (err.code, ==, NN_ERROR_FORMAT);
    }
  for (gsize len = 0; len < length; len += 5)
    {
      g_assert_true (g_file_set_contents (broken, contents, (gssize) len, NULL));
      g_assert_null (nn_examples_load (broken, key, &err));
      g_assert_cmpint (err.code, ==, NN_ERROR_FORMAT);
    }
  g_free (contents);
  g_assert_null (nn_examples_load (dir, key, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_IO);
  g_autofree char *missing = g_build_filename (dir, "missing.bin", NULL);
  g_assert_null (nn_examples_load (missing, key, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_IO);

  /* A file whose checksum holds but whose contents cannot be: a sample out of range, a list
   * out of order. */
  ex->top[1].index = ds->n + 3;
  g_assert_true (nn_examples_save (ex, broken, key, &err));
  g_assert_null (nn_examples_load (broken, key, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_FORMAT);
  ex->top[1].index = 0;
  float v = ex->bottom[0].value;
  ex->bottom[0].value = ex->bottom[1].value + 1.0f;
  g_assert_true (nn_examples_save (ex, broken, key, &err));
  g_assert_null (nn_examples_load (broken, key, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_FORMAT);
  ex->bottom[0].value = v;

  test_util_remove_tree (dir);
  free (id);
  free (key);
  free (other);
  nn_examples_free (ex);
  nn_dataset_free (ds);
  nn_model_free (model);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/examples/top-k-brute-force", test_top_k);
  g_test_add_func ("/nn/examples/progress-cancel-errors", test_progress_cancel_errors);
  g_test_add_func ("/nn/examples/receptive-field-chain", test_receptive_field_chain);
  g_test_add_func ("/nn/examples/receptive-field-graph", test_receptive_field_graph);
  g_test_add_func ("/nn/examples/cache", test_cache);
  return g_test_run ();
}
