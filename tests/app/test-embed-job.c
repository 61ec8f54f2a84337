/* SPDX-License-Identifier: MIT */
/* The Feature Space view's worker under a bare main loop: PCA of the dashes model's detector
 * over a folder of dashes images gives the same map as nn_features_new and nn_pca on this
 * thread, with every prediction right and progress that only grows, and "finished" once; a
 * cancel is prompt and emits nothing more; a missing folder is an error naming it. */
#include <gio/gio.h>
#include <string.h>

#include "scope-embed-job.h"
#include "test-util.h"

#define SIZE  48
#define COUNT 40

typedef struct
{
  GArray         *fractions;     /* progress, double */
  int             finished;
  ScopeEmbedding *embedding;
  char           *error;
  int             after_cancel;  /* signals after the job was cancelled */
  gboolean        cancelled;
} Record;

static void
on_progress (ScopeEmbedJob *job,
             double         fraction,
             const char    *stage,
             Record        *r)
{
  (void) job;
  g_assert_nonnull (stage);
  r->after_cancel += r->cancelled;
  g_array_append_val (r->fractions, fraction);
}

static void
on_finished (ScopeEmbedJob  *job,
             ScopeEmbedding *embedding,
             const GError   *error,
             Record         *r)
{
  (void) job;
  r->after_cancel += r->cancelled;
  r->finished++;
  if (embedding != NULL)
    r->embedding = scope_embedding_ref (embedding);
  if (error != NULL)
    r->error = g_strdup (error->message);
}

static gboolean
is_finished (gpointer data)
{
  return ((Record *) data)->finished > 0;
}

static ScopeEmbedJob *
start (ScopeModel               *model,
       const ScopeEmbedSettings *settings,
       Record                   *r)
{
  memset (r, 0, sizeof *r);
  r->fractions = g_array_new (FALSE, FALSE, sizeof (double));
  ScopeEmbedJob *job = scope_embed_job_new (model, settings);
  g_signal_connect (job, "progress", G_CALLBACK (on_progress), r);
  g_signal_connect (job, "finished", G_CALLBACK (on_finished), r);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_embed_job_start (job, &error));
  g_assert_no_error (error);
  return job;
}

static void
record_clear (Record *r)
{
  g_array_unref (r->fractions);
  scope_embedding_unref (r->embedding);
  g_free (r->error);
}

static int
find_node (ScopeModel *model,
           const char *name)
{
  const NnGraph *graph = scope_model_get_graph (model);
  for (int i = 0; i < graph->n_nodes; i++)
    if (strcmp (graph->nodes[i].name, name) == 0)
      return i;
  g_assert_not_reached ();
}

static void
test_pca (void)
{
  g_autofree char *tmp = test_util_make_tmp_dir ();
  NnError err = { 0 };
  g_assert_true (nn_synth_dashes_write (tmp, COUNT, 3, SIZE, &err));
  g_autoptr (ScopeModel) model = scope_model_new_take (nn_synth_dashes_model_new (SIZE),
                                                       "dashes.safetensors");
  ScopeEmbedSettings settings = {
    .dataset = tmp, .node = find_node (model, "detect_relu"), .mode = NN_FEATURES_POOL,
    .seed = 1,
  };
  Record r;
  ScopeEmbedJob *job = start (model, &settings, &r);
  g_assert_true (scope_embed_job_is_running (job));
  test_util_wait (is_finished, &r, "the PCA map");
  test_util_run_for (0.1);
  g_assert_cmpint (r.finished, ==, 1);
  g_assert_null (r.error);
  g_assert_false (scope_embed_job_is_running (job));
  const ScopeEmbedding *e = r.embedding;
  g_assert_nonnull (e);
  g_assert_cmpint (e->n, ==, COUNT);
  g_assert_cmpint (e->d, ==, 2);
  g_assert_false (e->tsne);
  g_assert_cmpstr (e->layer, ==, "detect_relu");
  /* The hand-set model counts the dashes: every prediction is right. */
  g_assert_cmpint (e->wrong, ==, 0);
  for (int i = 0; i < e->n; i++)
    g_assert_cmpint (e->preds[i], ==, e->samples->labels[i]);
  g_assert_cmpstr (e->names[0], ==, "horizontal");
  /* Two features: the two axes hold all of the variance. */
  g_assert_cmpfloat_with_epsilon (e->variance[0] + e->variance[1], 100.0, 1e-3);
  /* Progress only grows, within [0, 1]. */
  g_assert_cmpuint (r.fractions->len, >, 0);
  for (guint k = 0; k < r.fractions->len; k++)
    {
      double f = g_array_index (r.fractions, double, k);
      g_assert_cmpfloat (f, >=, 0.0);
      g_assert_cmpfloat (f, <=, 1.0);
      if (k > 0)
        g_assert_cmpfloat (f, >=, g_array_index (r.fractions, double, k - 1));
    }

  /* The same map as the engine gives on this thread. */
  const NnModel *m = scope_model_get_nn_model (model);
  NnDataset *ds = nn_dataset_open (tmp, FALSE, 1, SIZE, SIZE, &err);
  g_assert_nonnull (ds);
  NnFeatures *f = nn_features_new ((NnModel *) m, ds, settings.node, NN_FEATURES_POOL, 64, NULL,
                                   NULL, NULL, &err);
  g_assert_nonnull (f);
  float *xy = g_new (float, 2 * f->n);
  g_assert_true (nn_pca (xy, NULL, f->values, f->n, f->d, 2, &err));
  const gsize bytes = sizeof (float) * 2 * (gsize) f->n;
  g_assert_cmpint (f->n, ==, e->n);
  g_assert_cmpmem (xy, bytes, e->xy, bytes);
  g_free (xy);
  nn_features_free (f);
  nn_dataset_free (ds);

  g_object_unref (job);
  record_clear (&r);

  /* A limit draws that many samples, their places in the folder kept. */
  settings.limit = 10;
  job = start (model, &settings, &r);
  test_util_wait (is_finished, &r, "the PCA map of 10 samples");
  g_assert_cmpint (r.embedding->n, ==, 10);
  for (int i = 1; i < 10; i++)
    g_assert_cmpint (r.embedding->index[i], >, r.embedding->index[i - 1]);
  g_assert_cmpint (r.embedding->index[9], <, COUNT);
  g_object_unref (job);
  record_clear (&r);

  /* Cancel at once: prompt, and nothing arrives afterwards. */
  settings.limit = 0;
  settings.tsne = TRUE;
  settings.perplexity = 5;
  job = start (model, &settings, &r);
  gint64 t0 = g_get_monotonic_time ();
  scope_embed_job_cancel (job);
  r.cancelled = TRUE;
  g_assert_cmpint (g_get_monotonic_time () - t0, <, TEST_UTIL_PROMPT_US);
  g_assert_false (scope_embed_job_is_running (job));
  test_util_run_for (0.2);
  g_assert_cmpint (r.after_cancel, ==, 0);
  g_assert_null (r.embedding);
  g_object_unref (job);
  record_clear (&r);

  /* A folder that is not there: an error naming it. */
  g_autofree char *missing = g_build_filename (tmp, "no-such-set", NULL);
  settings.dataset = missing;
  settings.tsne = FALSE;
  job = start (model, &settings, &r);
  test_util_wait (is_finished, &r, "the error");
  g_assert_null (r.embedding);
  g_assert_nonnull (r.error);
  g_assert_nonnull (strstr (r.error, "no-such-set"));
  g_object_unref (job);
  record_clear (&r);
  test_util_remove_tree (tmp);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/embed-job/pca-limit-cancel-error", test_pca);
  return g_test_run ();
}
