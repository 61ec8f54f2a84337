/* SPDX-License-Identifier: MIT */
/* The training job's snapshots under a bare main loop: each carries the stamp of the weights
 * it copied (its version counting the run's snapshots, its step and epoch), in the order they
 * were taken, so that a live explanation can name and check the weights it used; the newest
 * comes last, the final one at the run's last step, and a stopped run's weights carry the
 * newest version of all. Waits block on the main context. */
#include "scope-train-job.h"
#include "test-util.h"

typedef struct
{
  GArray          *stamps;   /* ScopeTrainStamp of every snapshot delivered, in order */
  long             last_step;
  long             total_steps;
  ScopeTrainState  state;
} Record;

static void
on_update (ScopeTrainJob          *job,
           const ScopeTrainUpdate *update,
           Record                 *r)
{
  (void) job;
  r->state = update->state;
  r->total_steps = update->total_steps;
  if (update->n_steps > 0)
    r->last_step = update->steps[update->n_steps - 1].step;
  if (update->snapshot != NULL)
    {
      ScopeTrainStamp stamp;
      g_assert_true (scope_model_get_stamp (update->snapshot, &stamp));
      g_array_append_val (r->stamps, stamp);
      /* its name says the same step */
      g_autofree char *step = g_strdup_printf ("step %ld)", stamp.step);
      g_assert_true (g_str_has_suffix (scope_model_get_name (update->snapshot), step));
    }
}

static gboolean
run_ended (gpointer data)
{
  return !scope_train_state_is_active (((Record *) data)->state);
}

static gboolean
has_snapshots (gpointer data)
{
  return ((Record *) data)->stamps->len >= 3;
}

static ScopeTrainJob *
start (Record *r,
       int     epochs)
{
  ScopeTrainSettings s;
  scope_train_settings_init (&s);
  s.per_class = 20;
  s.batch = 32;
  s.epochs = epochs;
  s.snapshot_ms = 0;   /* a copy after every step: more than the main loop takes */
  r->stamps = g_array_new (FALSE, FALSE, sizeof (ScopeTrainStamp));
  r->state = SCOPE_TRAIN_LOADING;
  ScopeTrainJob *job = scope_train_job_new (&s);
  g_signal_connect (job, "update", G_CALLBACK (on_update), r);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_train_job_start (job, &error));
  g_assert_no_error (error);
  return job;
}

/* Versions grow with the steps; the last snapshot is the run's last step. */
static void
test_stamps (void)
{
  Record r = { 0 };
  g_autoptr (ScopeTrainJob) job = start (&r, 2);
  test_util_wait (run_ended, &r, "the run to finish");
  g_assert_cmpint (r.state, ==, SCOPE_TRAIN_FINISHED);
  g_assert_cmpuint (r.stamps->len, >=, 2);
  const ScopeTrainStamp *s = (const ScopeTrainStamp *) (void *) r.stamps->data;
  g_assert_cmpint (s[0].step, ==, 0);   /* the weights before the first step */
  for (guint i = 1; i < r.stamps->len; i++)
    {
      g_assert_cmpuint (s[i].version, >, s[i - 1].version);
      g_assert_cmpint (s[i].step, >=, s[i - 1].step);
      g_assert_cmpint (s[i].epoch, >=, s[i - 1].epoch);
    }
  const ScopeTrainStamp *last = &s[r.stamps->len - 1];
  g_test_message ("%u snapshots delivered of %" G_GUINT64_FORMAT " taken, %ld steps",
                  r.stamps->len, last->version, r.total_steps);
  g_assert_cmpint (last->step, ==, r.total_steps);
  g_assert_cmpint (last->epoch, ==, 1);
  g_assert_null (scope_train_job_get_final (job));
  g_array_unref (r.stamps);
}

/* The weights a stopped run stopped on are newer than every snapshot delivered. */
static void
test_stopped (void)
{
  Record r = { 0 };
  g_autoptr (ScopeTrainJob) job = start (&r, 40);
  test_util_wait (has_snapshots, &r, "three snapshots");
  scope_train_job_stop (job);
  g_assert_cmpint (scope_train_job_get_state (job), ==, SCOPE_TRAIN_STOPPED);
  ScopeModel *final = scope_train_job_get_final (job);
  g_assert_nonnull (final);
  ScopeTrainStamp stamp;
  g_assert_true (scope_model_get_stamp (final, &stamp));
  const ScopeTrainStamp *last = &g_array_index (r.stamps, ScopeTrainStamp, r.stamps->len - 1);
  g_assert_cmpuint (stamp.version, >, last->version);
  g_assert_cmpint (stamp.step, >=, last->step);
  g_assert_cmpint (stamp.step, >=, r.last_step);
  g_array_unref (r.stamps);
}

/* A model that is not a snapshot has no stamp. */
static void
test_not_snapshot (void)
{
  const char *dir = g_getenv ("CNNSCOPE_DATA_DIR");
  g_assert_nonnull (dir);
  g_autofree char *path = g_build_filename (dir, "demo-pfnet-fashion.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScopeModel) model = scope_model_load (path, &error);
  g_assert_no_error (error);
  ScopeTrainStamp stamp = { .version = 7 };
  g_assert_false (scope_model_get_stamp (model, &stamp));
  g_assert_cmpuint (stamp.version, ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/train-job/stamps", test_stamps);
  g_test_add_func ("/app/train-job/stopped", test_stopped);
  g_test_add_func ("/app/train-job/not-snapshot", test_not_snapshot);
  return g_test_run ();
}
