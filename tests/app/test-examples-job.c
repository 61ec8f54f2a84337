/* SPDX-License-Identifier: MIT */
/* The dataset examples panel's worker under a bare main loop: the ranking of the dashes
 * model's detectors over a folder of dashes images is nn_examples_new's on this thread, with
 * progress that only grows and "finished" once; written to the cache and read back from it; a
 * cache that cannot be written is noted, not fatal; a cancel is prompt and emits nothing more;
 * a missing folder is an error naming it. */
#include <gio/gio.h>
#include <string.h>

#include "scope-examples-job.h"
#include "test-util.h"

#define SIZE  48
#define COUNT 40
#define K     5

typedef struct
{
  GArray        *fractions;     /* progress, double */
  int            finished;
  ScopeExamples *examples;
  char          *error;
  int            after_cancel;  /* signals after the job was cancelled */
  gboolean       cancelled;
} Record;

static void
on_progress (ScopeExamplesJob *job,
             double            fraction,
             const char       *stage,
             Record           *r)
{
  (void) job;
  g_assert_nonnull (stage);
  r->after_cancel += r->cancelled;
  g_array_append_val (r->fractions, fraction);
}

static void
on_finished (ScopeExamplesJob *job,
             ScopeExamples    *examples,
             const GError     *error,
             Record           *r)
{
  (void) job;
  r->after_cancel += r->cancelled;
  r->finished++;
  if (examples != NULL)
    r->examples = scope_examples_ref (examples);
  if (error != NULL)
    r->error = g_strdup (error->message);
}

static gboolean
is_finished (gpointer data)
{
  return ((Record *) data)->finished > 0;
}

static ScopeExamplesJob *
start (ScopeModel                  *model,
       const ScopeExamplesSettings *settings,
       Record                      *r)
{
  memset (r, 0, sizeof *r);
  r->fractions = g_array_new (FALSE, FALSE, sizeof (double));
  ScopeExamplesJob *job = scope_examples_job_new (model, settings);
  g_signal_connect (job, "progress", G_CALLBACK (on_progress), r);
  g_signal_connect (job, "finished", G_CALLBACK (on_finished), r);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_examples_job_start (job, &error));
  g_assert_no_error (error);
  return job;
}

static void
record_clear (Record *r)
{
  g_array_unref (r->fractions);
  scope_examples_unref (r->examples);
  g_free (r->error);
}

static void
assert_same_ranking (const NnExamples *a,
                     const NnExamples *b)
{
  g_assert_cmpint (a->c, ==, b->c);
  g_assert_cmpint (a->n, ==, b->n);
  g_assert_cmpint (nn_examples_count (a), ==, nn_examples_count (b));
  for (int c = 0; c < a->c; c++)
    {
      g_assert_cmpmem (nn_examples_top (a, c), sizeof (NnExample) * nn_examples_count (a),
                       nn_examples_top (b, c), sizeof (NnExample) * nn_examples_count (b));
      g_assert_cmpmem (nn_examples_bottom (a, c), sizeof (NnExample) * nn_examples_count (a),
                       nn_examples_bottom (b, c), sizeof (NnExample) * nn_examples_count (b));
    }
}

static void
test_rank_cache_cancel (void)
{
  g_autofree char *tmp = test_util_make_tmp_dir ();
  g_autofree char *data = g_build_filename (tmp, "dashes", NULL);
  NnError err = { 0 };
  g_assert_true (nn_synth_dashes_write (data, COUNT, 3, SIZE, &err));
  g_autoptr (ScopeModel) model = scope_model_new_take (nn_synth_dashes_model_new (SIZE),
                                                       "dashes.safetensors");
  int node = nn_graph_find (scope_model_get_graph (model), "detect_relu");
  g_assert_cmpint (node, >, 0);
  g_autofree char *cache = g_build_filename (tmp, "cache", "examples.bin", NULL);
  ScopeExamplesSettings settings = {
    .dataset = data, .node = node, .k = K, .cache_path = cache, .cache_key = "the key",
  };

  /* Ranked on the worker, as on this thread; the cache folder made and the file written. */
  Record r;
  ScopeExamplesJob *job = start (model, &settings, &r);
  test_util_wait (is_finished, &r, "the ranking");
  g_assert_cmpint (r.finished, ==, 1);
  g_assert_null (r.error);
  g_assert_nonnull (r.examples);
  g_assert_false (r.examples->from_cache);
  g_assert_null (r.examples->cache_note);
  g_assert_cmpstr (r.examples->layer, ==, "detect_relu");
  g_assert_cmpint (r.examples->samples->n, ==, COUNT);
  g_assert_cmpuint (r.fractions->len, >, 0);
  for (guint i = 1; i < r.fractions->len; i++)
    g_assert_cmpfloat (g_array_index (r.fractions, double, i), >=,
                       g_array_index (r.fractions, double, i - 1));
  NnDataset *ds = nn_dataset_open (data, FALSE, 1, SIZE, SIZE, &err);
  g_assert_nonnull (ds);
  NnExamples *direct = nn_examples_new ((NnModel *) scope_model_get_nn_model (model), ds, node,
                                        K, 64, NULL, NULL, NULL, &err);
  g_assert_nonnull (direct);
  assert_same_ranking (r.examples->examples, direct);
  g_assert_true (g_file_test (cache, G_FILE_TEST_IS_REGULAR));
  g_object_unref (job);
  record_clear (&r);

  /* Read back from the cache. */
  job = start (model, &settings, &r);
  test_util_wait (is_finished, &r, "the cached ranking");
  g_assert_nonnull (r.examples);
  g_assert_true (r.examples->from_cache);
  assert_same_ranking (r.examples->examples, direct);
  g_object_unref (job);
  record_clear (&r);

  /* Another key: ranked again, the reason noted, the file rewritten for the new key. */
  settings.cache_key = "another key";
  job = start (model, &settings, &r);
  test_util_wait (is_finished, &r, "the ranking for another key");
  g_assert_false (r.examples->from_cache);
  g_assert_nonnull (strstr (r.examples->cache_note, "another model"));
  NnExamples *back = nn_examples_load (cache, "another key", &err);
  g_assert_nonnull (back);
  nn_examples_free (back);
  g_object_unref (job);
  record_clear (&r);

  /* A cache that cannot be written (its folder would be under a file): noted, not fatal. */
  g_autofree char *blocked = g_build_filename (data, "horizontal", NULL);
  g_autofree char *file = NULL;
  {
    GDir *d = g_dir_open (blocked, 0, NULL);
    g_assert_nonnull (d);
    file = g_build_filename (blocked, g_dir_read_name (d), "x", "examples.bin", NULL);
    g_dir_close (d);
  }
  settings.cache_path = file;
  job = start (model, &settings, &r);
  test_util_wait (is_finished, &r, "the ranking with an unwritable cache");
  g_assert_nonnull (r.examples);
  g_assert_nonnull (r.examples->cache_note);
  assert_same_ranking (r.examples->examples, direct);
  g_object_unref (job);
  record_clear (&r);

  /* Cancel at once: prompt, and nothing arrives afterwards. */
  settings.cache_path = NULL;
  settings.cache_key = NULL;
  job = start (model, &settings, &r);
  gint64 t0 = g_get_monotonic_time ();
  scope_examples_job_cancel (job);
  r.cancelled = TRUE;
  g_assert_cmpint (g_get_monotonic_time () - t0, <, TEST_UTIL_PROMPT_US);
  test_util_run_for (0.2);
  g_assert_cmpint (r.after_cancel, ==, 0);
  g_assert_null (r.examples);
  g_object_unref (job);
  record_clear (&r);

  /* A folder that is not there: an error naming it. */
  g_autofree char *missing = g_build_filename (tmp, "no-such-set", NULL);
  settings.dataset = missing;
  job = start (model, &settings, &r);
  test_util_wait (is_finished, &r, "the error");
  g_assert_null (r.examples);
  g_assert_nonnull (strstr (r.error, "no-such-set"));
  g_object_unref (job);
  record_clear (&r);

  nn_examples_free (direct);
  nn_dataset_free (ds);
  test_util_remove_tree (tmp);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/examples-job/rank-cache-cancel", test_rank_cache_cancel);
  return g_test_run ();
}
