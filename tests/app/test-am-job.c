/* SPDX-License-Identifier: MIT */
/* The AM job under a bare main loop: results arrive while it runs and its final images equal a
 * run on this thread, kept results never change, all channels come in batches, at least 10
 * images a second reach the main loop (as fast as the steps allow), stop is prompt and delivers
 * nothing more, bad settings fail with a message, a class logit rises, and many start/stop
 * cycles (leaks are the ASan stage's to find). Waits block on the main context. */
#include <math.h>
#include <string.h>

#include "scope-am-job.h"
#include "test-util.h"

typedef struct
{
  ScopeModel *model;
  int         layer;      /* layer1.0.add, 16 x 28 x 28 */
  GPtrArray  *results;    /* ScopeAmResult, every one delivered, in order */
  guint       n_updates;
  int         n_done;
  ScopeAmState state;
  char       *error;
  guint       want_results;  /* what wait_results waits for */
} Fixture;

static void
on_update (ScopeAmJob          *job,
           const ScopeAmUpdate *update,
           Fixture             *f)
{
  (void) job;
  f->n_updates++;
  for (guint i = 0; i < update->n_results; i++)
    g_ptr_array_add (f->results, scope_am_result_ref (update->results[i]));
  f->n_done = update->n_done;
  f->state = update->state;
  if (update->error != NULL)
    {
      g_free (f->error);
      f->error = g_strdup (update->error->message);
    }
}

static void
fixture_setup (Fixture      *f,
               gconstpointer unused)
{
  (void) unused;
  const char *dir = g_getenv ("CNNSCOPE_DATA_DIR");
  g_assert_nonnull (dir);
  g_autofree char *path = g_build_filename (dir, "demo-pfnet-fashion.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  f->model = scope_model_load (path, &error);
  g_assert_no_error (error);
  f->layer = nn_graph_find (scope_model_get_graph (f->model), "layer1.0.add");
  g_assert_cmpint (f->layer, >, 0);
  f->results = g_ptr_array_new_with_free_func ((GDestroyNotify) scope_am_result_unref);
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer unused)
{
  (void) unused;
  g_ptr_array_unref (f->results);
  scope_model_unref (f->model);
  g_free (f->error);
}

static void
settings_for (const Fixture *f,
              NnAmSettings  *s,
              const int     *channels,
              int            n,
              int            steps)
{
  nn_am_settings_init (s);
  s->layer = f->layer;
  s->channels = channels;
  s->n_channels = n;
  s->steps = steps;
  s->transforms = NN_AM_TRANSFORM_JITTER;
  s->seed = 7;
}

static ScopeAmJob *
start (Fixture            *f,
       const NnAmSettings *s,
       int                 batch)
{
  ScopeAmJob *job = scope_am_job_new (f->model, s, batch);
  g_signal_connect (job, "update", G_CALLBACK (on_update), f);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_am_job_start (job, &error));
  g_assert_no_error (error);
  g_assert_cmpint (scope_am_job_get_state (job), ==, SCOPE_AM_RUNNING);
  return job;
}

static gboolean
job_ended (gpointer data)
{
  return scope_am_job_get_state (data) != SCOPE_AM_RUNNING;
}

/* Blocks on the main context until the job has delivered its end. */
static void
wait_end (ScopeAmJob *job)
{
  test_util_wait (job_ended, job, "the AM job to end");
}

static gboolean
has_results (gpointer data)
{
  const Fixture *f = data;
  return f->results->len >= f->want_results;
}

/* Blocks on the main context until `n` results have arrived in all. */
static void
wait_results (Fixture *f,
              guint    n)
{
  f->want_results = n;
  test_util_wait (has_results, f, "results of the AM job");
}

static gsize
image_floats (const ScopeAmResult *r)
{
  return (gsize) r->n_items * (gsize) r->c * (gsize) r->h * (gsize) r->w;
}

static void
test_results_arrive (Fixture      *f,
                     gconstpointer unused)
{
  (void) unused;
  int channel = 3;
  NnAmSettings s;
  settings_for (f, &s, &channel, 1, 300);
  g_autoptr (ScopeAmJob) job = start (f, &s, 1);
  wait_end (job);
  g_assert_cmpint (scope_am_job_get_state (job), ==, SCOPE_AM_FINISHED);
  g_assert_cmpint (f->state, ==, SCOPE_AM_FINISHED);
  g_assert_null (f->error);
  g_assert_cmpuint (f->results->len, >=, 2);

  /* The first result is the start; steps only grow; the last is the final image. */
  const ScopeAmResult *first = g_ptr_array_index (f->results, 0);
  const ScopeAmResult *last = g_ptr_array_index (f->results, f->results->len - 1);
  g_assert_cmpint (first->step, ==, 0);
  g_assert_cmpint (first->n_history, ==, 0);
  g_assert_true (isnan (first->objectives[0]));
  g_assert_false (first->done);
  for (guint i = 1; i < f->results->len; i++)
    {
      const ScopeAmResult *a = g_ptr_array_index (f->results, i - 1);
      const ScopeAmResult *b = g_ptr_array_index (f->results, i);
      g_assert_cmpint (b->step, >, a->step);
      g_assert_cmpint (b->n_history, >, a->n_history);
    }
  g_assert_true (last->done);
  g_assert_cmpint (last->step, ==, 300);
  g_assert_cmpint (last->steps, ==, 300);
  g_assert_cmpint (last->n_history, ==, 301);
  g_assert_cmpint (last->channels[0], ==, 3);
  g_assert_cmpint (last->c, ==, 1);
  g_assert_cmpint (last->h, ==, 28);
  g_assert_cmpint (last->w, ==, 28);
  g_assert_cmpfloat (last->objectives[0], ==, last->history[300]);
  g_assert_cmpfloat (last->objectives[0], >, last->history[0]);
  for (gsize i = 0; i < image_floats (last); i++)
    g_assert_true (last->pixels[i] >= 0.0f && last->pixels[i] <= 1.0f);

  /* The same run on this thread gives the same image and history. */
  NnError err = { 0 };
  const NnModel *model = scope_model_get_nn_model (f->model);
  NnAmRun *run = nn_am_run_new (model, &s, &err);
  g_assert_nonnull (run);
  g_assert_true (nn_am_run_step (run, 300, NULL, &err));
  NnImage *ref = nn_image_new (1, 28, 28);
  nn_am_image_to_pixels (model, nn_am_run_peek_image (run, 0), ref);
  test_util_assert_close (last->pixels, ref->data, 28 * 28, 0.0, "final image");
  int n = 0;
  const float *history = nn_am_run_peek_history (run, 0, &n);
  g_assert_cmpint (n, ==, 301);
  test_util_assert_close (last->history, history, 301, 0.0, "history");
  nn_image_free (ref);
  nn_am_run_free (run);
}

static void
test_immutable (Fixture      *f,
                gconstpointer unused)
{
  (void) unused;
  int channel = 5;
  NnAmSettings s;
  settings_for (f, &s, &channel, 1, 1000);
  g_autoptr (ScopeAmJob) job = start (f, &s, 1);
  /* The second result: after some steps, with a history. */
  wait_results (f, 2);
  ScopeAmResult *kept = scope_am_result_ref (g_ptr_array_index (f->results, 1));
  g_assert_cmpint (kept->n_history, >, 0);
  g_assert_false (kept->done);
  g_autofree float *pixels = g_memdup2 (kept->pixels, sizeof (float) * image_floats (kept));
  g_autofree float *history = g_memdup2 (kept->history, sizeof (float) * (gsize) kept->n_history);
  int step = kept->step, n_history = kept->n_history;
  float objective = kept->objectives[0];
  wait_end (job);

  /* Later steps changed the image, not the result handed out before. */
  const ScopeAmResult *last = g_ptr_array_index (f->results, f->results->len - 1);
  g_assert_true (last != kept);
  g_assert_cmpint (memcmp (last->pixels, pixels, sizeof (float) * image_floats (kept)), !=, 0);
  g_assert_cmpint (kept->step, ==, step);
  g_assert_cmpint (kept->n_history, ==, n_history);
  g_assert_cmpint (memcmp (&kept->objectives[0], &objective, sizeof objective), ==, 0);
  g_assert_cmpint (memcmp (kept->pixels, pixels, sizeof (float) * image_floats (kept)), ==, 0);
  g_assert_cmpint (memcmp (kept->history, history, sizeof (float) * (gsize) n_history), ==, 0);
  scope_am_result_unref (kept);
}

static void
test_batches (Fixture      *f,
              gconstpointer unused)
{
  (void) unused;
  int channels[16];
  for (int k = 0; k < 16; k++)
    channels[k] = k;
  NnAmSettings s;
  settings_for (f, &s, channels, 16, 40);
  g_autoptr (ScopeAmJob) job = start (f, &s, 6);
  wait_end (job);
  g_assert_cmpint (scope_am_job_get_state (job), ==, SCOPE_AM_FINISHED);
  g_assert_cmpint (f->n_done, ==, 16);

  /* Batches of 6, 6 and 4 channels, each ending with its final result, in order. */
  int done_first[3] = { -1, -1, -1 }, n_final = 0, last_first = 0;
  for (guint i = 0; i < f->results->len; i++)
    {
      const ScopeAmResult *r = g_ptr_array_index (f->results, i);
      g_assert_cmpint (r->first, >=, last_first);
      last_first = r->first;
      g_assert_cmpint (r->n_items, ==, r->first == 12 ? 4 : 6);
      for (int k = 0; k < r->n_items; k++)
        g_assert_cmpint (r->channels[k], ==, r->first + k);
      if (r->done)
        {
          g_assert_cmpint (n_final, <, 3);
          done_first[n_final++] = r->first;
          g_assert_cmpint (r->step, ==, 40);
        }
    }
  g_assert_cmpint (n_final, ==, 3);
  g_assert_cmpint (done_first[0], ==, 0);
  g_assert_cmpint (done_first[1], ==, 6);
  g_assert_cmpint (done_first[2], ==, 12);
}

/* For at least a second, results reach the main loop at the pace the job posts them: one per
 * SCOPE_AM_JOB_INTERVAL_US, after the step that ends the interval (at least 10 a second while a
 * step takes less than 50 ms). The lower bound follows the pace of the steps measured here, so
 * that a slow build or a loaded machine does not fail it. Stop is prompt and final. */
static void
test_rate_and_stop (Fixture      *f,
                    gconstpointer unused)
{
  (void) unused;
  int channel = 1;
  NnAmSettings s;
  settings_for (f, &s, &channel, 1, NN_AM_MAX_STEPS);
  g_autoptr (ScopeAmJob) job = start (f, &s, 1);
  wait_results (f, 1);
  guint before = f->results->len;
  int first_step = ((ScopeAmResult *) g_ptr_array_index (f->results, before - 1))->step;
  gint64 t0 = g_get_monotonic_time ();
  test_util_run_for (1.0);
  wait_results (f, before + 10);
  double seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  guint delivered = f->results->len - before;
  int steps = ((ScopeAmResult *) g_ptr_array_index (f->results, f->results->len - 1))->step
              - first_step;
  double step_s = seconds / MAX (steps, 1);
  double interval_s = (double) SCOPE_AM_JOB_INTERVAL_US / G_USEC_PER_SEC;
  double paced = seconds / (interval_s + step_s);
  g_test_message ("AM on the demo model: %u images delivered in %.2f s, %d steps (%.1f ms a "
                  "step; %u posted in all)", delivered, seconds, steps, 1000.0 * step_s,
                  scope_am_job_get_n_posted (job));
  g_assert_cmpfloat (delivered, >=, 0.5 * paced);
  /* At most one per interval, give or take the timer. */
  g_assert_cmpfloat (delivered, <=, 1.25 * seconds / interval_s + 1.0);

  gint64 start_us = g_get_monotonic_time ();
  scope_am_job_stop (job);
  gint64 took = g_get_monotonic_time () - start_us;
  g_test_message ("stop took %.2f ms", took / 1000.0);
  g_assert_cmpint (took, <, TEST_UTIL_PROMPT_US);
  g_assert_cmpint (scope_am_job_get_state (job), ==, SCOPE_AM_STOPPED);
  guint updates = f->n_updates;
  test_util_run_for (0.2);
  g_assert_cmpuint (f->n_updates, ==, updates);
  scope_am_job_stop (job);
  g_assert_cmpint (scope_am_job_get_state (job), ==, SCOPE_AM_STOPPED);
}

static void
test_bad_settings (Fixture      *f,
                   gconstpointer unused)
{
  (void) unused;
  int channel = 99;
  NnAmSettings s;
  settings_for (f, &s, &channel, 1, 10);
  g_autoptr (ScopeAmJob) job = start (f, &s, 1);
  wait_end (job);
  g_assert_cmpint (scope_am_job_get_state (job), ==, SCOPE_AM_FAILED);
  g_assert_nonnull (f->error);
  g_test_message ("error: %s", f->error);
  g_assert_nonnull (strstr (f->error, "99"));
  g_assert_cmpuint (f->results->len, ==, 0);
}

/* A class logit: the ankle boot's logit rises. */
static void
test_logit (Fixture      *f,
            gconstpointer unused)
{
  (void) unused;
  int class_index = 9;
  NnAmSettings s;
  settings_for (f, &s, &class_index, 1, 100);
  s.layer = -1;
  s.objective = NN_AM_OBJECTIVE_LOGIT;
  g_autoptr (ScopeAmJob) job = start (f, &s, 1);
  wait_end (job);
  g_assert_cmpint (scope_am_job_get_state (job), ==, SCOPE_AM_FINISHED);
  const ScopeAmResult *last = g_ptr_array_index (f->results, f->results->len - 1);
  g_assert_true (last->done);
  g_assert_cmpint (last->channels[0], ==, 9);
  g_assert_cmpint (last->n_history, ==, 101);
  g_test_message ("logit 9: %.3f -> %.3f", last->history[0], last->objectives[0]);
  g_assert_cmpfloat (last->objectives[0], >, last->history[0] + 1.0f);
}

/* Runs long enough never to end by themselves, stopped at once, after the first result or
 * after a few iterations. */
static void
test_cycles (Fixture      *f,
             gconstpointer unused)
{
  (void) unused;
  int channels[4] = { 0, 1, 2, 3 };
  NnAmSettings s;
  settings_for (f, &s, channels, 4, NN_AM_MAX_STEPS);
  for (int i = 0; i < 40; i++)
    {
      ScopeAmJob *job = start (f, &s, 1 + i % 4);
      if (i % 3 == 1)
        wait_results (f, 1);
      else if (i % 3 == 2)
        test_util_run_for (0.01);
      gint64 t0 = g_get_monotonic_time ();
      scope_am_job_stop (job);
      g_assert_cmpint (g_get_monotonic_time () - t0, <, TEST_UTIL_PROMPT_US);
      g_assert_cmpint (scope_am_job_get_state (job), ==, SCOPE_AM_STOPPED);
      g_object_unref (job);
      g_ptr_array_set_size (f->results, 0);
    }
  /* A job dropped while running is stopped by dispose. */
  ScopeAmJob *job = start (f, &s, 2);
  g_object_unref (job);
  test_util_run_for (0.05);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/app/am-job/results-arrive", Fixture, NULL, fixture_setup, test_results_arrive,
              fixture_teardown);
  g_test_add ("/app/am-job/immutable", Fixture, NULL, fixture_setup, test_immutable,
              fixture_teardown);
  g_test_add ("/app/am-job/batches", Fixture, NULL, fixture_setup, test_batches,
              fixture_teardown);
  g_test_add ("/app/am-job/rate-and-stop", Fixture, NULL, fixture_setup, test_rate_and_stop,
              fixture_teardown);
  g_test_add ("/app/am-job/bad-settings", Fixture, NULL, fixture_setup, test_bad_settings,
              fixture_teardown);
  g_test_add ("/app/am-job/logit", Fixture, NULL, fixture_setup, test_logit, fixture_teardown);
  g_test_add ("/app/am-job/cycles", Fixture, NULL, fixture_setup, test_cycles,
              fixture_teardown);
  return g_test_run ();
}
