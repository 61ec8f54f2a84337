/* SPDX-License-Identifier: MIT */
/* The Explain view's folder worker under a bare main loop: one row per image in name order,
 * each as nn_explain_run gives it on this thread, an error row for a file that is not an
 * image, other files skipped, "finished" once; cancel stops it and nothing comes after. */
#include <gio/gio.h>
#include <string.h>

#include "scope-batch-job.h"
#include "test-util.h"

typedef struct
{
  guint   rows;        /* rows delivered */
  guint   total;
  int     finished;
  GError *error;
  int     after_finished;
} Record;

static void
on_rows (ScopeBatchJob *job,
         GPtrArray     *rows,
         guint          done,
         guint          total,
         Record        *r)
{
  (void) job;
  r->after_finished += r->finished;
  r->rows += rows->len;
  g_assert_cmpuint (r->rows, ==, done);
  r->total = total;
}

static void
on_finished (ScopeBatchJob *job,
             const GError  *error,
             Record        *r)
{
  (void) job;
  r->finished++;
  if (error != NULL)
    r->error = g_error_copy (error);
}

static gboolean
finished (gpointer data)
{
  return ((Record *) data)->finished > 0;
}

static char *
data_path (const char *folder,
           const char *name)
{
  return g_build_filename (folder, name, NULL);
}

/* A folder of three pictures, a broken one and a text file. */
static void
make_folder (const char *folder)
{
  const char *names[] = { "fashion-bag.png", "fashion-dress.png", "fashion-trouser.png" };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *samples = data_path (g_getenv ("CNNSCOPE_DATA_DIR"), "samples");
      g_autofree char *from = data_path (samples, names[i]);
      g_autofree char *to = data_path (folder, names[i]);
      g_autofree char *contents = NULL;
      gsize length;
      g_assert_true (g_file_get_contents (from, &contents, &length, NULL));
      g_assert_true (g_file_set_contents (to, contents, (gssize) length, NULL));
    }
  g_autofree char *bad = data_path (folder, "a-broken.png");
  g_assert_true (g_file_set_contents (bad, "not a png", -1, NULL));
  g_autofree char *text = data_path (folder, "readme.txt");
  g_assert_true (g_file_set_contents (text, "skipped", -1, NULL));
}

static ScopeModel *
load_demo (void)
{
  g_autofree char *path = data_path (g_getenv ("CNNSCOPE_DATA_DIR"),
                                     "demo-pfnet-fashion.safetensors");
  g_autoptr (GError) error = NULL;
  ScopeModel *model = scope_model_load (path, &error);
  g_assert_no_error (error);
  return model;
}

static void
test_rows (TestUtilTmpDir *fx,
           gconstpointer   data)
{
  (void) data;
  make_folder (fx->dir);
  g_autoptr (ScopeModel) model = load_demo ();
  const NnModel *m = scope_model_get_nn_model (model);
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.map.method = NN_METHOD_IG;
  spec.map.samples = 8;
  spec.faith.metrics = NN_FAITH_DELETION | NN_FAITH_INSERTION;
  g_autoptr (ScopeBatchJob) job = scope_batch_job_new (model, fx->dir, &spec,
                                                       NN_BASELINE_BLUR);
  Record r = { 0 };
  g_signal_connect (job, "rows", G_CALLBACK (on_rows), &r);
  g_signal_connect (job, "finished", G_CALLBACK (on_finished), &r);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_batch_job_start (job, &error));
  g_assert_no_error (error);
  g_assert_true (scope_batch_job_is_running (job));
  test_util_wait (finished, &r, "the batch to finish");
  test_util_run_for (0.1);
  g_assert_cmpint (r.finished, ==, 1);
  g_assert_cmpint (r.after_finished, ==, 0);
  g_assert_null (r.error);
  g_assert_cmpuint (r.rows, ==, 4);
  g_assert_cmpuint (r.total, ==, 4);
  g_assert_false (scope_batch_job_is_running (job));
  guint n_rows, n_files;
  const ScopeBatchRow *rows = scope_batch_job_get_rows (job, &n_rows, &n_files);
  g_assert_cmpuint (n_rows, ==, 4);
  g_assert_cmpstr (rows[0].name, ==, "a-broken.png");
  g_assert_nonnull (strstr (rows[0].error, "a-broken.png"));
  const char *names[] = { "fashion-bag.png", "fashion-dress.png", "fashion-trouser.png" };
  for (int i = 1; i < 4; i++)
    {
      g_assert_cmpstr (rows[i].name, ==, names[i - 1]);
      g_assert_null (rows[i].error);
      /* The same file explained here, with its own blurred baseline. */
      g_autofree char *path = data_path (fx->dir, names[i - 1]);
      NnInput *in = nn_input_load (path, m, NULL, NULL);
      g_assert_nonnull (in);
      float *base = nn_baseline_new (NN_BASELINE_BLUR, m, in->tensor, 0.0f, 1, NULL);
      NnExplainSpec s = spec;
      s.map.baseline = base;
      NnExplanation *e = nn_explain_run (m, in, &s, NULL, NULL);
      g_assert_nonnull (e);
      g_assert_cmpint (rows[i].target, ==, e->map->target);
      g_assert_cmpfloat (rows[i].probability, ==, e->probability);
      g_assert_cmpuint (rows[i].metrics.has, ==, NN_FAITH_DELETION | NN_FAITH_INSERTION);
      g_assert_cmpfloat (rows[i].metrics.deletion.auc, ==, e->metrics.deletion.auc);
      g_assert_cmpfloat (rows[i].metrics.insertion.auc, ==, e->metrics.insertion.auc);
      nn_explanation_free (e);
      free (base);
      nn_input_unref (in);
    }
  g_clear_error (&r.error);
}

static void
test_cancel (TestUtilTmpDir *fx,
             gconstpointer   data)
{
  (void) data;
  make_folder (fx->dir);
  g_autoptr (ScopeModel) model = load_demo ();
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  g_autoptr (ScopeBatchJob) job = scope_batch_job_new (model, fx->dir, &spec, -1);
  Record r = { 0 };
  g_signal_connect (job, "rows", G_CALLBACK (on_rows), &r);
  g_signal_connect (job, "finished", G_CALLBACK (on_finished), &r);
  g_assert_true (scope_batch_job_start (job, NULL));
  scope_batch_job_cancel (job);
  g_assert_cmpint (r.finished, ==, 1);
  g_assert_false (scope_batch_job_is_running (job));
  guint n_rows, n_files;
  scope_batch_job_get_rows (job, &n_rows, &n_files);
  g_assert_cmpuint (n_files, ==, 4);
  /* Cancelled before the last file, or it had ended: either way one "finished". */
  g_assert_true (n_rows < n_files ? g_error_matches (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                  : TRUE);
  scope_batch_job_cancel (job);
  test_util_run_for (0.1);
  g_assert_cmpint (r.finished, ==, 1);
  g_assert_cmpint (r.after_finished, ==, 0);
  g_clear_error (&r.error);

  /* A folder without images, and one that does not exist. */
  g_autofree char *empty = data_path (fx->dir, "empty");
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  g_autoptr (ScopeBatchJob) none = scope_batch_job_new (model, empty, &spec, -1);
  g_autoptr (GError) error = NULL;
  g_assert_false (scope_batch_job_start (none, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_autofree char *missing = data_path (fx->dir, "missing");
  g_autoptr (ScopeBatchJob) gone = scope_batch_job_new (model, missing, &spec, -1);
  g_assert_false (scope_batch_job_start (gone, &error));
  g_assert_nonnull (error);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/app/batch-job/rows", TestUtilTmpDir, NULL, test_util_tmp_dir_setup, test_rows,
              test_util_tmp_dir_teardown);
  g_test_add ("/app/batch-job/cancel", TestUtilTmpDir, NULL, test_util_tmp_dir_setup,
              test_cancel, test_util_tmp_dir_teardown);
  return g_test_run ();
}
