/* SPDX-License-Identifier: MIT */
/* The engine thread under a bare main loop: a forward job's result equals a forward pass on
 * this thread, only the newest of many jobs is delivered (once), cancel and shutdown are
 * prompt and deliver nothing, results are immutable snapshots, many start/stop cycles. */
#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "scope-engine.h"
#include "test-util.h"

typedef struct
{
  ScopeModel       *model;
  float            *input;      /* the sample image, preprocessed */
  gsize             n_input;
  ScopeEngine      *engine;
  GPtrArray        *results;    /* ScopeActivations delivered, in order */
  GPtrArray        *errors;     /* messages of failed jobs */
} Fixture;

static char *
data_path (const char *name)
{
  const char *dir = g_getenv ("CNNSCOPE_DATA_DIR");
  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static void
on_ready (ScopeEngine      *engine,
          ScopeActivations *activations,
          Fixture          *f)
{
  (void) engine;
  g_ptr_array_add (f->results, scope_activations_ref (activations));
}

static void
on_failed (ScopeEngine  *engine,
           const GError *error,
           Fixture      *f)
{
  (void) engine;
  g_ptr_array_add (f->errors, g_strdup (error->message));
}

static void
fixture_setup (Fixture      *f,
               gconstpointer unused)
{
  (void) unused;
  g_autoptr (GError) error = NULL;
  g_autofree char *model_path = data_path ("demo-pfnet-fashion.safetensors");
  f->model = scope_model_load (model_path, &error);
  g_assert_no_error (error);
  g_autofree char *image_path = data_path ("samples/fashion-ankle-boot.png");
  NnError err = { 0 };
  NnImage *image = nn_image_load (image_path, &err);
  g_assert_nonnull (image);
  f->input = scope_model_preprocess (f->model, image, &error);
  g_assert_no_error (error);
  nn_image_free (image);
  f->n_input = scope_model_get_input_size (f->model);
  f->engine = scope_engine_new ();
  f->results = g_ptr_array_new_with_free_func ((GDestroyNotify) scope_activations_unref);
  f->errors = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (f->engine, "activations-ready", G_CALLBACK (on_ready), f);
  g_signal_connect (f->engine, "job-failed", G_CALLBACK (on_failed), f);
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer unused)
{
  (void) unused;
  g_clear_object (&f->engine);
  g_ptr_array_unref (f->results);
  g_ptr_array_unref (f->errors);
  g_free (f->input);
  scope_model_unref (f->model);
}

static gboolean
wake_up (gpointer data)
{
  (void) data;
  return G_SOURCE_CONTINUE;
}

/* Runs the default main context until the engine is idle (results delivered), at most
 * `seconds`. */
static void
wait_idle (ScopeEngine *engine,
           double       seconds)
{
  guint tick = g_timeout_add (10, wake_up, NULL);
  gint64 deadline = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (scope_engine_is_busy (engine) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  g_assert_false (scope_engine_is_busy (engine));
}

/* Runs the main context for `seconds` whatever happens. */
static void
spin (double seconds)
{
  guint tick = g_timeout_add (10, wake_up, NULL);
  gint64 deadline = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
}

static void
test_forward_matches_context (Fixture      *f,
                              gconstpointer unused)
{
  (void) unused;
  g_autoptr (GError) error = NULL;
  guint64 id = scope_engine_run_forward (f->engine, f->model, f->input, "boot.png", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (id, >, 0);
  wait_idle (f->engine, 20.0);
  g_assert_cmpuint (f->errors->len, ==, 0);
  g_assert_cmpuint (f->results->len, ==, 1);
  ScopeActivations *act = f->results->pdata[0];
  g_assert_true (scope_activations_get_model (act) == f->model);
  g_assert_cmpstr (scope_activations_get_input_name (act), ==, "boot.png");

  /* The same pass on this thread, every node compared. */
  NnGraph *graph = scope_model_get_graph (f->model);
  NnError err = { 0 };
  NnContext *ctx = nn_context_new (graph, 1, 0, &err);
  g_assert_nonnull (ctx);
  memcpy (nn_context_input (ctx), f->input, f->n_input * sizeof (float));
  nn_context_forward (ctx, -1);
  g_assert_cmpint (scope_activations_get_n_nodes (act), ==, graph->n_nodes);
  for (int i = 0; i < graph->n_nodes; i++)
    {
      NnShape s;
      const float *out = scope_activations_get_output (act, i, &s);
      g_assert_cmpint (s.c, ==, graph->nodes[i].shape.c);
      gsize n = nn_shape_size (s);
      const float *ref = nn_context_output (ctx, i);
      test_util_assert_close (out, ref, n, 1e-5, "node %d (%s)", i, graph->nodes[i].name);
      float lo, hi, rlo = ref[0], rhi = ref[0];
      for (gsize k = 1; k < n; k++)
        {
          rlo = MIN (rlo, ref[k]);
          rhi = MAX (rhi, ref[k]);
        }
      scope_activations_get_range (act, i, &lo, &hi);
      g_assert_cmpfloat_with_epsilon (lo, rlo, 1e-5 * (1.0 + fabsf (rlo)));
      g_assert_cmpfloat_with_epsilon (hi, rhi, 1e-5 * (1.0 + fabsf (rhi)));
    }

  /* The demo model knows an ankle boot when it sees one (class 9). */
  float probability;
  g_assert_cmpint (scope_activations_get_top_class (act, &probability), ==, 9);
  g_assert_cmpfloat (probability, >, 0.5f);
  nn_context_free (ctx);
}

static void
test_newest_only (Fixture      *f,
                  gconstpointer unused)
{
  (void) unused;
  /* Twenty jobs in a row, input k scaled by k: only the last one's result arrives, once. */
  g_autofree float *input = g_new (float, f->n_input);
  for (int k = 1; k <= 20; k++)
    {
      for (gsize i = 0; i < f->n_input; i++)
        input[i] = f->input[i] * (float) k;
      g_autofree char *name = g_strdup_printf ("job %d", k);
      g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, input, name, NULL), ==,
                        (guint64) k);
    }
  wait_idle (f->engine, 20.0);
  spin (0.1);
  g_assert_cmpuint (f->results->len, ==, 1);
  ScopeActivations *act = f->results->pdata[0];
  g_assert_cmpstr (scope_activations_get_input_name (act), ==, "job 20");
  test_util_assert_close (scope_activations_get_output (act, 0, NULL), input, f->n_input, 0.0,
                          "the input of the newest job");
}

static void
test_cancel (Fixture      *f,
             gconstpointer unused)
{
  (void) unused;
  g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, f->input, "a", NULL), >, 0);
  scope_engine_cancel (f->engine);
  wait_idle (f->engine, 5.0);
  spin (0.2);
  g_assert_cmpuint (f->results->len, ==, 0);
  g_assert_cmpuint (f->errors->len, ==, 0);

  /* The engine still works after a cancel. */
  g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, f->input, "b", NULL), >, 0);
  wait_idle (f->engine, 20.0);
  g_assert_cmpuint (f->results->len, ==, 1);
}

static void
test_shutdown (Fixture      *f,
               gconstpointer unused)
{
  (void) unused;
  g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, f->input, "a", NULL), >, 0);
  gint64 start = g_get_monotonic_time ();
  scope_engine_shutdown (f->engine);
  gint64 took = g_get_monotonic_time () - start;
  g_test_message ("shutdown with a job running took %.1f ms", took / 1000.0);
  g_assert_cmpint (took, <, G_USEC_PER_SEC);
  g_assert_false (scope_engine_is_busy (f->engine));
  spin (0.1);
  g_assert_cmpuint (f->results->len, ==, 0);

  g_autoptr (GError) error = NULL;
  g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, f->input, "b", &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  scope_engine_shutdown (f->engine);
}

static void
test_immutable (Fixture      *f,
                gconstpointer unused)
{
  (void) unused;
  g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, f->input, "a", NULL), >, 0);
  wait_idle (f->engine, 20.0);
  g_assert_cmpuint (f->results->len, ==, 1);
  ScopeActivations *first = f->results->pdata[0];
  int out = nn_graph_output (scope_model_get_graph (f->model));
  NnShape s;
  const float *first_logits = scope_activations_get_output (first, out, &s);
  g_autofree float *logits = g_memdup2 (first_logits, nn_shape_size (s) * sizeof (float));

  /* A second job on another input leaves the first result as it was. */
  g_autofree float *other = g_new0 (float, f->n_input);
  g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, other, "b", NULL), >, 0);
  wait_idle (f->engine, 20.0);
  g_assert_cmpuint (f->results->len, ==, 2);
  ScopeActivations *second = f->results->pdata[1];
  g_assert_true (first != second);
  test_util_assert_close (scope_activations_get_output (first, 0, NULL), f->input, f->n_input,
                          0.0, "first result's input");
  test_util_assert_close (scope_activations_get_output (first, out, NULL), logits,
                          nn_shape_size (s), 0.0, "first result's logits");
  test_util_assert_close (scope_activations_get_output (second, 0, NULL), other, f->n_input,
                          0.0, "second result's input");
}

static void
test_start_stop_cycles (Fixture      *f,
                        gconstpointer unused)
{
  (void) unused;
  /* Engines made, given a job and dropped at once (dispose cancels and joins), or after
   * delivering; under ASan this is the leak check. */
  for (int cycle = 0; cycle < 40; cycle++)
    {
      g_autoptr (ScopeEngine) engine = scope_engine_new ();
      g_assert_cmpuint (scope_engine_run_forward (engine, f->model, f->input, "x", NULL), >, 0);
      if (cycle % 4 == 3)
        wait_idle (engine, 20.0);
    }
  spin (0.05);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  nn_blas_set_threads (1);

  g_test_add ("/app/engine/forward-matches-context", Fixture, NULL, fixture_setup,
              test_forward_matches_context, fixture_teardown);
  g_test_add ("/app/engine/newest-only", Fixture, NULL, fixture_setup, test_newest_only,
              fixture_teardown);
  g_test_add ("/app/engine/cancel", Fixture, NULL, fixture_setup, test_cancel,
              fixture_teardown);
  g_test_add ("/app/engine/shutdown-prompt", Fixture, NULL, fixture_setup, test_shutdown,
              fixture_teardown);
  g_test_add ("/app/engine/immutable-results", Fixture, NULL, fixture_setup, test_immutable,
              fixture_teardown);
  g_test_add ("/app/engine/start-stop-cycles", Fixture, NULL, fixture_setup,
              test_start_stop_cycles, fixture_teardown);
  return g_test_run ();
}
