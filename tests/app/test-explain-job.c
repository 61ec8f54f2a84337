/* SPDX-License-Identifier: MIT */
/* The Explain view's worker under a bare main loop: the map arrives first and equals the same
 * method run on this thread, then metrics snapshots that only grow (a stage's numbers never
 * change in later ones), then "finished" once; cancel is prompt and emits nothing more; bad
 * classes and layers are errors, not crashes. */
#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "graph/nn-packs.h"
#include "scope-explain-job.h"
#include "test-util.h"

typedef struct
{
  GPtrArray *maps;        /* ScopeExplanation, in order */
  GPtrArray *metrics;     /* ScopeExplainMetrics, in order */
  GArray    *fractions;   /* progress, double */
  GArray    *times;       /* when each progress report arrived, gint64 us */
  int        order_error; /* metrics seen before the map */
  int        finished;
  char      *error;
  int        after_cancel;  /* signals after the job was cancelled */
  gboolean   cancelled;
} Record;

static char *
data_path (const char *name)
{
  const char *dir = g_getenv ("CNNSCOPE_DATA_DIR");
  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static void
record_init (Record *r)
{
  memset (r, 0, sizeof *r);
  r->maps = g_ptr_array_new_with_free_func ((GDestroyNotify) nn_explanation_free);
  r->metrics = g_ptr_array_new_with_free_func (g_free);
  r->fractions = g_array_new (FALSE, FALSE, sizeof (double));
  r->times = g_array_new (FALSE, FALSE, sizeof (gint64));
}

static void
record_clear (Record *r)
{
  g_ptr_array_unref (r->maps);
  g_ptr_array_unref (r->metrics);
  g_array_unref (r->fractions);
  g_array_unref (r->times);
  g_free (r->error);
}

static void
on_map (ScopeExplainJob  *job,
        ScopeExplanation *e,
        Record           *r)
{
  (void) job;
  r->after_cancel += r->cancelled;
  g_ptr_array_add (r->maps, g_boxed_copy (SCOPE_TYPE_EXPLANATION, e));
}

static void
on_metrics (ScopeExplainJob     *job,
            ScopeExplainMetrics *m,
            Record              *r)
{
  (void) job;
  r->after_cancel += r->cancelled;
  r->order_error += r->maps->len == 0;
  g_ptr_array_add (r->metrics, g_boxed_copy (SCOPE_TYPE_EXPLAIN_METRICS, m));
}

static void
on_progress (ScopeExplainJob *job,
             double           fraction,
             const char      *stage,
             Record          *r)
{
  (void) job;
  g_assert_nonnull (stage);
  r->after_cancel += r->cancelled;
  g_array_append_val (r->fractions, fraction);
  gint64 now = g_get_monotonic_time ();
  g_array_append_val (r->times, now);
}

static void
on_finished (ScopeExplainJob *job,
             const GError    *error,
             Record          *r)
{
  (void) job;
  r->after_cancel += r->cancelled;
  r->finished++;
  if (error != NULL)
    r->error = g_strdup (error->message);
}

static ScopeExplainJob *
job_new (ScopeModel          *model,
         ScopeInput          *input,
         const NnExplainSpec *spec,
         Record              *r)
{
  ScopeExplainJob *job = scope_explain_job_new (model, input, spec);
  g_signal_connect (job, "map-ready", G_CALLBACK (on_map), r);
  g_signal_connect (job, "metrics-changed", G_CALLBACK (on_metrics), r);
  g_signal_connect (job, "progress", G_CALLBACK (on_progress), r);
  g_signal_connect (job, "finished", G_CALLBACK (on_finished), r);
  return job;
}

typedef struct
{
  const Record *r;
  guint         fractions;
} RecordWait;

static gboolean
record_done (gpointer data)
{
  const RecordWait *w = data;
  return w->fractions > 0 ? w->r->fractions->len >= w->fractions : w->r->finished > 0;
}

/* Blocks on the main context until r has `finished` (or the progress has `fractions` entries,
 * when fractions > 0). */
static void
wait_until (const Record *r,
            guint         fractions)
{
  RecordWait w = { r, fractions };
  test_util_wait (record_done, &w, fractions > 0 ? "progress of the explain job"
                                                 : "the explain job to finish");
}

/* Every metric, the method of the registry's row `name`, the top class at its default layer. */
static void
spec_init (NnExplainSpec *spec,
           const char    *name)
{
  nn_explain_spec_init (spec);
  g_assert_true (nn_method_from_name (name, &spec->map.method));
}

/* The demo model and the ankle boot built for it; *mask: the boot itself (the sample is
 * 28 x 28 gray, like the model's input), to g_free. */
static ScopeModel *
load_demo (ScopeInput **input,
           guint8     **mask)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *model_path = data_path ("demo-pfnet-fashion.safetensors");
  ScopeModel *model = scope_model_load (model_path, &error);
  g_assert_no_error (error);
  g_autofree char *image_path = data_path ("samples/fashion-ankle-boot.png");
  *input = scope_input_load (image_path, model, &error);
  g_assert_no_error (error);
  NnImage *image = nn_image_load (image_path, NULL);
  g_assert_nonnull (image);
  g_assert_cmpint (image->h * image->w, ==, (int) scope_model_get_input_size (model));
  *mask = g_new (guint8, image->h * image->w);
  for (int p = 0; p < image->h * image->w; p++)
    (*mask)[p] = image->data[p] > 0.2f;
  nn_image_free (image);
  return model;
}

/* A stage's numbers are the same in every snapshot that has them. */
static void
assert_same_stage (const ScopeExplainMetrics *a,
                   const ScopeExplainMetrics *last)
{
  if (a->has & NN_FAITH_DELETION)
    g_assert_cmpmem (&a->deletion, sizeof a->deletion, &last->deletion, sizeof a->deletion);
  if (a->has & NN_FAITH_INSERTION)
    g_assert_cmpmem (&a->insertion, sizeof a->insertion, &last->insertion, sizeof a->insertion);
  if (a->has & NN_FAITH_ROAD_MORF)
    g_assert_cmpfloat (a->road_morf_mean, ==, last->road_morf_mean);
  if (a->has & NN_FAITH_ROAD_LERF)
    g_assert_cmpfloat (a->road_lerf_mean, ==, last->road_lerf_mean);
  if (a->has & NN_FAITH_MASK)
    g_assert_cmpfloat (a->energy, ==, last->energy);
}

static void
test_results_arrive (void)
{
  g_autoptr (ScopeInput) input = NULL;
  g_autofree guint8 *mask = NULL;
  g_autoptr (ScopeModel) model = load_demo (&input, &mask);
  NnExplainSpec spec;
  spec_init (&spec, "gradcam");
  spec.mask = mask;
  Record r;
  record_init (&r);
  ScopeExplainJob *job = job_new (model, input, &spec, &r);
  g_assert_true (scope_explain_job_start (job, NULL));
  wait_until (&r, 0);
  g_assert_cmpint (r.finished, ==, 1);
  g_assert_null (r.error);
  g_assert_false (scope_explain_job_is_running (job));

  /* The map first, once; it equals Grad-CAM computed here. */
  g_assert_cmpuint (r.maps->len, ==, 1);
  g_assert_cmpint (r.order_error, ==, 0);
  ScopeExplanation *e = g_ptr_array_index (r.maps, 0);
  NnGraph *g = scope_model_get_graph (model);
  NnContext *ctx = nn_context_new (g, 1, NN_CONTEXT_BACKWARD, NULL);
  g_assert_nonnull (ctx);
  NnMap *here = nn_method_compute (ctx, scope_input_get_nn_input (input)->tensor, &spec.map,
                                   NULL, NULL);
  g_assert_nonnull (here);
  g_assert_cmpint (e->map->target, ==, here->target);
  g_assert_cmpint (e->map->target, ==, 9);   /* the ankle boot */
  g_assert_cmpint (e->map->layer, ==, nn_explain_default_layer (g));
  for (int p = 0; p < here->h * here->w; p++)
    g_assert_cmpfloat (fabsf (e->map->map[p] - here->map[p]), <=,
                       1e-5f * (1.0f + fabsf (here->map[p])));
  nn_map_free (here);
  nn_context_free (ctx);
  g_assert_cmpint (e->top_class[0], ==, 9);
  g_assert_cmpfloat (e->top_probability[0], ==, e->probability);

  /* Metrics: snapshots with ever more known, ending with everything and the mask numbers. */
  g_assert_cmpuint (r.metrics->len, >=, 1);
  const ScopeExplainMetrics *last = g_ptr_array_index (r.metrics, r.metrics->len - 1);
  g_assert_cmpuint (last->has, ==, NN_FAITH_ALL);
  guint prev = 0;
  for (guint i = 0; i < r.metrics->len; i++)
    {
      const ScopeExplainMetrics *m = g_ptr_array_index (r.metrics, i);
      g_assert_cmpuint (m->has & prev, ==, prev);
      g_assert_cmpuint (m->has, !=, prev);
      prev = m->has;
      assert_same_stage (m, last);
    }
  g_assert_cmpfloat (fabsf (last->deletion.prob[0] - e->probability), <, 1e-4f);
  g_assert_cmpfloat (last->deletion.auc, <, last->insertion.auc);
  g_assert_cmpfloat (last->energy, >, 0.0);
  g_assert_cmpfloat (last->energy, <=, 1.0);
  g_assert_cmpfloat (last->energy, ==, nn_faith_energy_share (e->map->map, mask, e->map->h,
                                                              e->map->w));
  g_assert_true (last->pointing == nn_faith_pointing_game (e->map->map, mask, e->map->h,
                                                           e->map->w,
                                                           spec.faith.pointing_tolerance));
  g_test_message ("deletion %.3f insertion %.3f ROAD %.3f / %.3f rho %.3f pointing %d "
                  "energy %.3f; %u snapshots, %u progress reports", last->deletion.auc,
                  last->insertion.auc, last->road_morf_mean, last->road_lerf_mean, last->rho,
                  last->pointing, last->energy, r.metrics->len, r.fractions->len);

  /* Progress rises within [0, 1]. */
  g_assert_cmpuint (r.fractions->len, >=, 1);
  for (guint i = 0; i < r.fractions->len; i++)
    {
      double f = g_array_index (r.fractions, double, i);
      g_assert_cmpfloat (f, >=, 0.0);
      g_assert_cmpfloat (f, <=, 1.0);
      if (i > 0)
        g_assert_cmpfloat (f, >=, g_array_index (r.fractions, double, i - 1));
    }

  /* The results outlive the job, unchanged. */
  float *copy = g_memdup2 (e->map->map, sizeof (float) * e->map->h * e->map->w);
  g_object_unref (job);
  g_assert_cmpmem (e->map->map, sizeof (float) * e->map->h * e->map->w, copy,
                   sizeof (float) * e->map->h * e->map->w);
  g_free (copy);
  record_clear (&r);
}

/* Score-CAM as the Explain view starts it (the engine's threads, batch 0) runs its masked
 * inputs at nn_explain_batch_size's batch, one per channel of the layer, with the batch norms
 * folded, and the job reports how long the map and the whole run took, in the status text the
 * view shows. */
static void
test_scorecam_timing (void)
{
  g_autoptr (ScopeInput) input = NULL;
  g_autofree guint8 *mask = NULL;
  g_autoptr (ScopeModel) model = load_demo (&input, &mask);
  NnExplainSpec spec;
  spec_init (&spec, "scorecam");
  spec.threads = 0;
  spec.faith.metrics = NN_FAITH_DELETION;
  Record r;
  record_init (&r);
  ScopeExplainJob *job = job_new (model, input, &spec, &r);
  double map_s = -1.0, total_s = -1.0;
  scope_explain_job_get_seconds (job, &map_s, &total_s);
  g_assert_cmpfloat (map_s, ==, 0.0);
  g_assert_cmpfloat (total_s, ==, 0.0);
  NnGraph *g = scope_model_get_graph (model);
  g_assert_cmpuint (nn_graph_packs_bytes (g), ==, 0);
  g_assert_true (scope_explain_job_start (job, NULL));
  wait_until (&r, 0);
  g_assert_null (r.error);
  g_assert_cmpuint (r.maps->len, ==, 1);
  const ScopeExplanation *e = g_ptr_array_index (r.maps, 0);
  const int channels = g->nodes[e->map->layer].shape.c;
  g_assert_cmpint (e->inputs, ==, channels);
  g_assert_cmpint (e->batch, ==, nn_explain_batch_size (g, 0, 0, channels));
  g_assert_cmpint (e->batch, >, 1);
  /* its forward-only passes ran on the model's shared packings: the demo model's batch norms
   * folded into their convolutions */
  g_assert_cmpuint (nn_graph_packs_bytes (g), >, 0);
  scope_explain_job_get_seconds (job, &map_s, &total_s);
  g_assert_cmpfloat (map_s, >, 0.0);
  g_assert_cmpfloat (total_s, >=, map_s);
  g_autofree char *text = scope_explain_timing_text (e, map_s, total_s);
  g_autofree char *head = g_strdup_printf ("Score-CAM, %d channels, batch %d, ", channels,
                                           e->batch);
  g_test_message ("%s", text);
  g_assert_true (g_str_has_prefix (text, head));
  g_assert_true (g_str_has_suffix (text, " s)") || g_str_has_suffix (text, " s"));
  g_object_unref (job);
  record_clear (&r);
}

static void
test_cancel_prompt (void)
{
  /* Score-CAM and its metrics on an untrained ResNet-18 at 64 px: seconds of work, 512 masked
   * images (64 passes) for the map alone. */
  NnArchSpec arch = { .name = "resnet18", .in_c = 3, .in_h = 64, .in_w = 64, .n_classes = 10,
                      .width = 1.0f, .seed = 3 };
  NnError err = { 0 };
  NnGraph *graph = nn_arch_build (&arch, &err);
  g_assert_nonnull (graph);
  g_autoptr (ScopeModel) model = scope_model_new_take (nn_model_new (graph, "resnet18"),
                                                       "resnet18-random");
  gsize n = scope_model_get_input_size (model);
  g_autofree float *data = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    data[i] = (float) sin (0.01 * (double) i);
  g_autofree char *tmp = test_util_make_tmp_dir ();
  g_autofree char *path = g_build_filename (tmp, "waves.npy", NULL);
  const int dims[] = { 3, 64, 64 };
  g_assert_true (nn_npy_save (path, data, dims, 3, &err));
  g_autoptr (GError) error = NULL;
  g_autoptr (ScopeInput) input = scope_input_load (path, model, &error);
  g_assert_no_error (error);
  NnExplainSpec spec;
  spec_init (&spec, "scorecam");
  Record r;
  record_init (&r);
  ScopeExplainJob *job = job_new (model, input, &spec, &r);
  g_assert_true (scope_explain_job_start (job, NULL));
  /* Wait for passes of Score-CAM to report, so the job is inside the method; their spacing
   * says how long a pass takes on this machine (and build). */
  wait_until (&r, 4);
  g_assert_cmpuint (r.fractions->len, >=, 4);
  gint64 pass = (g_array_index (r.times, gint64, r.times->len - 1)
                 - g_array_index (r.times, gint64, 1)) / (gint64) (r.times->len - 2);
  g_assert_cmpint (r.finished, ==, 0);
  g_assert_true (scope_explain_job_is_running (job));

  r.cancelled = TRUE;
  gint64 start = g_get_monotonic_time ();
  scope_explain_job_cancel (job);
  gint64 took = g_get_monotonic_time () - start;
  g_test_message ("cancelling Score-CAM on ResNet-18 took %.1f ms, a pass %.1f ms",
                  took / 1000.0, pass / 1000.0);
  /* The flag is polled before every pass: at most the pass in flight finishes, not the 64 of
   * the map. A quarter of them, measured on this machine and build, leaves room for a loaded
   * machine's pauses. */
  g_assert_cmpint (took, <, 16 * pass + G_USEC_PER_SEC / 2);
  g_assert_false (scope_explain_job_is_running (job));

  /* Nothing is delivered afterwards, not even "finished". */
  test_util_run_for (0.2);
  g_assert_cmpint (r.after_cancel, ==, 0);
  g_assert_cmpint (r.finished, ==, 0);
  scope_explain_job_cancel (job);
  g_object_unref (job);
  record_clear (&r);
  test_util_remove_tree (tmp);
}

static void
test_bad_spec (void)
{
  g_autoptr (ScopeInput) input = NULL;
  g_autofree guint8 *mask = NULL;
  g_autoptr (ScopeModel) model = load_demo (&input, &mask);
  const NnGraph *g = scope_model_get_graph (model);
  int logits = nn_explain_logit_node (g);
  struct
  {
    int         target, layer;
    const char *expect;
  } cases[] = {
    { 10, -1, "10" },          /* the demo has classes 0 .. 9 */
    { -1, logits, g->nodes[logits].name },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      NnExplainSpec spec;
      spec_init (&spec, "gradcam");
      spec.map.target = cases[i].target;
      spec.map.layer = cases[i].layer;
      Record r;
      record_init (&r);
      ScopeExplainJob *job = job_new (model, input, &spec, &r);
      g_assert_true (scope_explain_job_start (job, NULL));
      wait_until (&r, 0);
      g_assert_cmpint (r.finished, ==, 1);
      g_assert_nonnull (r.error);
      g_test_message ("%s", r.error);
      g_assert_nonnull (strstr (r.error, cases[i].expect));
      g_assert_cmpuint (r.maps->len, ==, 0);
      g_assert_cmpuint (r.metrics->len, ==, 0);
      g_object_unref (job);
      record_clear (&r);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* OpenBLAS's own threads are invisible to ThreadSanitizer: the job's thread does the work. */
  nn_blas_set_threads (1);
  g_test_add_func ("/app/explain-job/results-arrive", test_results_arrive);
  g_test_add_func ("/app/explain-job/cancel-prompt", test_cancel_prompt);
  g_test_add_func ("/app/explain-job/scorecam-timing", test_scorecam_timing);
  g_test_add_func ("/app/explain-job/bad-spec", test_bad_spec);
  return g_test_run ();
}
