/* SPDX-License-Identifier: MIT */
/* The engine thread under a bare main loop: a forward job's result equals a forward pass on
 * this thread, only the newest of many jobs is delivered (once), cancel and shutdown are
 * prompt and deliver nothing, results are immutable snapshots, files and masks are read and
 * inputs rebuilt for another model without reading again, many start/stop cycles. The
 * training job likewise: progress arrives step by step, pause holds it, stop is prompt,
 * snapshots of the weights stay as they were, failures name the dataset. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "scope-engine.h"
#include "scope-train-job.h"
#include "test-util.h"

typedef struct
{
  ScopeModel       *model;
  ScopeInput       *input;      /* the sample image, built for model */
  const float      *tensor;     /* its tensor */
  gsize             n_input;
  char             *tmp;        /* .npy inputs written by npy_input */
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

/* An input of the model's shape holding data: tmp/<name>.npy, read and built for the model. */
static ScopeInput *
npy_input (Fixture     *f,
           const char  *name,
           const float *data)
{
  const NnShape in = scope_model_get_graph (f->model)->nodes[0].shape;
  const int dims[] = { in.c, in.h, in.w };
  g_autofree char *file = g_strconcat (name, ".npy", NULL);
  g_autofree char *path = g_build_filename (f->tmp, file, NULL);
  NnError err = { 0 };
  g_assert_true (nn_npy_save (path, data, dims, 3, &err));
  g_autoptr (GError) error = NULL;
  ScopeInput *input = scope_input_load (path, f->model, &error);
  g_assert_no_error (error);
  g_assert_true (scope_input_fits (input, f->model));
  return input;
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
  f->input = scope_input_load (image_path, f->model, &error);
  g_assert_no_error (error);
  f->tensor = scope_input_get_nn_input (f->input)->tensor;
  f->n_input = scope_model_get_input_size (f->model);
  f->tmp = test_util_make_tmp_dir ();
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
  scope_input_unref (f->input);
  scope_model_unref (f->model);
  test_util_remove_tree (f->tmp);
  g_free (f->tmp);
}

static gboolean
engine_idle (gpointer data)
{
  return !scope_engine_is_busy (data);
}

/* Blocks on the main context until the engine is idle (results delivered). */
static void
wait_idle (ScopeEngine *engine)
{
  test_util_wait (engine_idle, engine, "the engine to be idle");
  g_assert_false (scope_engine_is_busy (engine));
}

static void
test_forward_matches_context (Fixture      *f,
                              gconstpointer unused)
{
  (void) unused;
  g_autoptr (GError) error = NULL;
  guint64 id = scope_engine_run_forward (f->engine, f->model, f->input, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (id, >, 0);
  wait_idle (f->engine);
  g_assert_cmpuint (f->errors->len, ==, 0);
  g_assert_cmpuint (f->results->len, ==, 1);
  ScopeActivations *act = f->results->pdata[0];
  g_assert_true (scope_activations_get_model (act) == f->model);
  g_assert_cmpstr (scope_activations_get_input_name (act), ==, "fashion-ankle-boot.png");

  /* The same pass on this thread, every node compared (so none folded away). */
  NnGraph *graph = scope_model_get_graph (f->model);
  NnError err = { 0 };
  NnContext *ctx = nn_context_new (graph, 1, NN_CONTEXT_NO_FOLD, &err);
  g_assert_nonnull (ctx);
  memcpy (nn_context_input (ctx), f->tensor, f->n_input * sizeof (float));
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
  g_autofree float *data = g_new (float, f->n_input);
  for (int k = 1; k <= 20; k++)
    {
      for (gsize i = 0; i < f->n_input; i++)
        data[i] = f->tensor[i] * (float) k;
      g_autofree char *name = g_strdup_printf ("job-%d", k);
      g_autoptr (ScopeInput) input = npy_input (f, name, data);
      g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, input, NULL), ==,
                        (guint64) k);
    }
  wait_idle (f->engine);
  test_util_run_for (0.1);
  g_assert_cmpuint (f->results->len, ==, 1);
  ScopeActivations *act = f->results->pdata[0];
  g_assert_cmpstr (scope_activations_get_input_name (act), ==, "job-20.npy");
  test_util_assert_close (scope_activations_get_output (act, 0, NULL), data, f->n_input, 0.0,
                          "the input of the newest job");
}

static void
test_cancel (Fixture      *f,
             gconstpointer unused)
{
  (void) unused;
  g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, f->input, NULL), >, 0);
  scope_engine_cancel (f->engine);
  wait_idle (f->engine);
  test_util_run_for (0.2);
  g_assert_cmpuint (f->results->len, ==, 0);
  g_assert_cmpuint (f->errors->len, ==, 0);

  /* The engine still works after a cancel. */
  g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, f->input, NULL), >, 0);
  wait_idle (f->engine);
  g_assert_cmpuint (f->results->len, ==, 1);
}

static void
test_shutdown (Fixture      *f,
               gconstpointer unused)
{
  (void) unused;
  g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, f->input, NULL), >, 0);
  gint64 start = g_get_monotonic_time ();
  scope_engine_shutdown (f->engine);
  gint64 took = g_get_monotonic_time () - start;
  g_test_message ("shutdown with a job running took %.1f ms", took / 1000.0);
  g_assert_cmpint (took, <, TEST_UTIL_PROMPT_US);
  g_assert_false (scope_engine_is_busy (f->engine));
  test_util_run_for (0.1);
  g_assert_cmpuint (f->results->len, ==, 0);

  g_autoptr (GError) error = NULL;
  g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, f->input, &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  scope_engine_shutdown (f->engine);
}

static void
test_immutable (Fixture      *f,
                gconstpointer unused)
{
  (void) unused;
  g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, f->input, NULL), >, 0);
  wait_idle (f->engine);
  g_assert_cmpuint (f->results->len, ==, 1);
  ScopeActivations *first = f->results->pdata[0];
  int out = nn_graph_output (scope_model_get_graph (f->model));
  NnShape s;
  const float *first_logits = scope_activations_get_output (first, out, &s);
  g_autofree float *logits = g_memdup2 (first_logits, nn_shape_size (s) * sizeof (float));

  /* A second job on another input leaves the first result as it was. */
  g_autofree float *zeros = g_new0 (float, f->n_input);
  g_autoptr (ScopeInput) other = npy_input (f, "zeros", zeros);
  g_assert_cmpuint (scope_engine_run_forward (f->engine, f->model, other, NULL), >, 0);
  wait_idle (f->engine);
  g_assert_cmpuint (f->results->len, ==, 2);
  ScopeActivations *second = f->results->pdata[1];
  g_assert_true (first != second);
  test_util_assert_close (scope_activations_get_output (first, 0, NULL), f->tensor, f->n_input,
                          0.0, "first result's input");
  test_util_assert_close (scope_activations_get_output (first, out, NULL), logits,
                          nn_shape_size (s), 0.0, "first result's logits");
  test_util_assert_close (scope_activations_get_output (second, 0, NULL), zeros, f->n_input,
                          0.0, "second result's input");
}

/* What an open job made, as a line: "model-path ok|error | image-path ok|error [mask]". */
static void
on_opened (ScopeEngine *engine,
           ScopeOpened *opened,
           GPtrArray   *seen)
{
  (void) engine;
  /* Steal what was made, as the window does. */
  g_autoptr (ScopeModel) model = g_steal_pointer (&opened->model);
  g_autoptr (ScopeInput) input = g_steal_pointer (&opened->input);
  gsize lit = 0;
  gboolean mask = input != NULL && scope_input_get_mask (input, &lit) != NULL;
  g_ptr_array_add (seen, g_strdup_printf ("%s %s | %s %s%s",
                                          opened->model_path ? opened->model_path : "-",
                                          model != NULL ? "ok" : opened->model_error
                                          ? opened->model_error->message : "-",
                                          opened->image_path ? opened->image_path : "-",
                                          input != NULL ? "ok" : opened->input_error
                                          ? opened->input_error->message : "-",
                                          mask ? " mask" : ""));
  if (model != NULL)
    g_assert_cmpint (nn_model_input_channels (scope_model_get_nn_model (model)), ==, 1);
  if (model != NULL && input != NULL)
    g_assert_true (scope_input_fits (input, model));
  if (mask)
    g_assert_cmpuint (lit, >, 0);
}

static void
test_open (Fixture      *f,
           gconstpointer unused)
{
  (void) unused;
  /* Files are read on the engine thread, every result delivered in the order asked. */
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (f->engine, "opened", G_CALLBACK (on_opened), seen);
  g_autofree char *model = data_path ("demo-pfnet-fashion.safetensors");
  g_autofree char *image = data_path ("samples/fashion-bag.png");
  g_autoptr (GError) error = NULL;
  g_assert_cmpuint (scope_engine_open (f->engine, model, image, NULL, NULL, &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpuint (scope_engine_open (f->engine, "/nonexistent/m.safetensors", NULL, NULL,
                                       NULL, NULL), >, 0);
  g_assert_cmpuint (scope_engine_open (f->engine, NULL, model, f->model, NULL, NULL), >, 0);
  /* A model read alone rebuilds the current input for it. */
  g_assert_cmpuint (scope_engine_open (f->engine, model, NULL, f->model, f->input, NULL), >, 0);
  wait_idle (f->engine);
  g_assert_cmpuint (seen->len, ==, 4);
  g_autofree char *first = g_strdup_printf ("%s ok | %s ok", model, image);
  g_assert_cmpstr (seen->pdata[0], ==, first);
  g_test_message ("%s", (char *) seen->pdata[1]);
  g_assert_true (g_str_has_prefix (seen->pdata[1], "/nonexistent/m.safetensors /nonexistent/"
                                   "m.safetensors"));
  g_test_message ("%s", (char *) seen->pdata[2]);
  g_assert_nonnull (strstr (seen->pdata[2], model));
  g_assert_null (strstr (seen->pdata[2], "| ok"));
  g_autofree char *rebuilt = g_strdup_printf ("%s ok | - ok", model);
  g_assert_cmpstr (seen->pdata[3], ==, rebuilt);

  /* Shutdown drops what was not delivered. */
  g_assert_cmpuint (scope_engine_open (f->engine, model, NULL, NULL, NULL, NULL), >, 0);
  scope_engine_shutdown (f->engine);
  test_util_run_for (0.1);
  g_assert_cmpuint (seen->len, ==, 4);
}

static void
on_opened_mask (ScopeEngine *engine,
                ScopeOpened *opened,
                GPtrArray   *seen)
{
  (void) engine;
  const guint8 *mask = opened->input != NULL ? scope_input_get_mask (opened->input, NULL) : NULL;
  g_ptr_array_add (seen, g_strdup_printf ("%s %s", opened->mask_path ? opened->mask_path : "-",
                                          mask != NULL ? "ok" : opened->mask_error
                                          ? opened->mask_error->message : "-"));
  if (mask != NULL)
    {
      /* Fitted to the input: the slice's own size without a model. */
      const NnInput *in = scope_input_get_nn_input (opened->input);
      g_assert_cmpint (in->w, ==, opened->image_path != NULL ? 96 : 28);
    }
}

static void
test_open_mask (Fixture      *f,
                gconstpointer unused)
{
  (void) unused;
  /* A slice brings the mask beside it (a/b.png: a/b.mask.png); a picture without one brings
   * none; a mask asked for alone goes on the input given, or fails naming its file. */
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (f->engine, "opened", G_CALLBACK (on_opened_mask), seen);
  g_autofree char *slice = data_path ("samples/ct-covid.png");
  g_autofree char *dicom = data_path ("samples/ct-covid.dcm");
  g_autofree char *mask = data_path ("samples/ct-covid.mask.png");
  g_autofree char *bag = data_path ("samples/fashion-bag.png");
  g_assert_cmpuint (scope_engine_open (f->engine, NULL, slice, NULL, NULL, NULL), >, 0);
  g_assert_cmpuint (scope_engine_open (f->engine, NULL, dicom, NULL, NULL, NULL), >, 0);
  g_assert_cmpuint (scope_engine_open (f->engine, NULL, bag, NULL, NULL, NULL), >, 0);
  g_assert_cmpuint (scope_engine_open_mask (f->engine, mask, f->input, NULL), >, 0);
  g_assert_cmpuint (scope_engine_open_mask (f->engine, "/nonexistent/m.mask.png", f->input,
                                            NULL), >, 0);
  g_assert_cmpuint (scope_engine_open_mask (f->engine, mask, NULL, NULL), >, 0);
  wait_idle (f->engine);
  g_assert_cmpuint (seen->len, ==, 6);
  g_autofree char *found = g_strdup_printf ("%s ok", mask);
  g_assert_cmpstr (seen->pdata[0], ==, found);
  g_assert_cmpstr (seen->pdata[1], ==, found);
  g_assert_cmpstr (seen->pdata[2], ==, "- -");
  g_assert_cmpstr (seen->pdata[3], ==, found);
  g_test_message ("%s", (char *) seen->pdata[4]);
  g_assert_true (g_str_has_prefix (seen->pdata[4], "/nonexistent/m.mask.png /nonexistent/"
                                   "m.mask.png"));
  g_test_message ("%s", (char *) seen->pdata[5]);
  g_assert_nonnull (strstr (seen->pdata[5], "no image"));
}

static gboolean
opened_is (gpointer data)
{
  return ((GPtrArray *) data)->len > 0;
}

static void
on_rebuilt (ScopeEngine *engine,
            ScopeOpened *opened,
            GPtrArray   *inputs)
{
  (void) engine;
  g_assert_no_error (opened->input_error);
  g_ptr_array_add (inputs, g_steal_pointer (&opened->input));
}

static void
test_rebuild (Fixture      *f,
              gconstpointer unused)
{
  (void) unused;
  /* A CT slice read without a model, with its mask, built again for the Fashion model: the
   * model's size, the same file and a mask fitted to the new size; nothing read again (the
   * file is gone by then). */
  g_autofree char *from = data_path ("samples/ct-covid.png");
  g_autofree char *slice = g_build_filename (f->tmp, "ct.png", NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_assert_true (g_file_get_contents (from, &contents, &length, NULL));
  test_util_write_file (slice, contents, length);
  g_autoptr (GError) error = NULL;
  g_autoptr (ScopeInput) bare = scope_input_load (slice, NULL, &error);
  g_assert_no_error (error);
  g_autofree char *mask_path = data_path ("samples/ct-covid.mask.png");
  NnImage *mask = nn_image_load (mask_path, NULL);
  g_assert_nonnull (mask);
  g_autoptr (ScopeInput) slice_input = scope_input_new_with_mask (bare, mask, &error);
  g_assert_no_error (error);
  nn_image_free (mask);
  g_assert_true (scope_input_fits (slice_input, NULL));
  g_assert_false (scope_input_fits (slice_input, f->model));
  g_assert_cmpint (g_unlink (slice), ==, 0);

  g_autoptr (GPtrArray) inputs = g_ptr_array_new_with_free_func (
    (GDestroyNotify) scope_input_unref);
  g_signal_connect (f->engine, "opened", G_CALLBACK (on_rebuilt), inputs);
  g_assert_cmpuint (scope_engine_rebuild (f->engine, slice_input, f->model, &error), >, 0);
  g_assert_no_error (error);
  test_util_wait (opened_is, inputs, "the rebuilt input");
  ScopeInput *rebuilt = inputs->pdata[0];
  g_assert_true (scope_input_fits (rebuilt, f->model));
  const NnInput *in = scope_input_get_nn_input (rebuilt);
  g_assert_cmpstr (in->path, ==, slice);
  g_assert_cmpint (in->w, ==, 28);
  g_assert_nonnull (in->tensor);
  gsize lit = 0, lit_before = 0;
  g_assert_nonnull (scope_input_get_mask (rebuilt, &lit));
  g_assert_nonnull (scope_input_get_mask (slice_input, &lit_before));
  g_assert_cmpuint (lit, >, 0);
  g_assert_cmpuint (lit, <, lit_before);
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
      g_assert_cmpuint (scope_engine_run_forward (engine, f->model, f->input, NULL), >, 0);
      if (cycle % 4 == 3)
        wait_idle (engine);
    }
  test_util_run_for (0.05);
}

/* Training jobs. */

typedef struct
{
  char            *root;       /* a synthetic image folder with train/ and test/ */
  ScopeTrainJob   *job;
  GArray          *steps;      /* ScopeTrainStep, as delivered */
  GArray          *epochs;     /* ScopeTrainEpoch */
  GPtrArray       *snapshots;  /* ScopeModel */
  int             *confusion;  /* the newest, n_classes^2 */
  int              n_classes;
  guint            updates;
  ScopeTrainState  state;
  char            *error;
  guint            target;     /* of has_target_steps */
  float           *first;      /* the first snapshot's weights as delivered */
} TrainFixture;

/* root/<split>/<class>/<k>.png: 16x16 grey images, class "horizontal" with bright rows,
 * "vertical" with bright columns, a seeded offset and noise so no two are alike. */
static void
write_stripes (const char *root)
{
  const char *splits[] = { "train", "test" };
  const char *classes[] = { "horizontal", "vertical" };
  GRand *rand = g_rand_new_with_seed (5);
  for (int s = 0; s < 2; s++)
    for (int c = 0; c < 2; c++)
      {
        g_autofree char *dir = g_build_filename (root, splits[s], classes[c], NULL);
        g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
        for (int k = 0; k < (s == 0 ? 48 : 16); k++)
          {
            NnImage *image = nn_image_new (1, 16, 16);
            int offset = g_rand_int_range (rand, 0, 4);
            for (int y = 0; y < 16; y++)
              for (int x = 0; x < 16; x++)
                {
                  int along = c == 0 ? y : x;
                  float v = (along + offset) % 4 < 2 ? 0.8f : 0.2f;
                  image->data[y * 16 + x] = v + (float) g_rand_double_range (rand, -0.1, 0.1);
                }
            g_autofree char *name = g_strdup_printf ("%02d.png", k);
            g_autofree char *path = g_build_filename (dir, name, NULL);
            NnError err = { 0 };
            g_assert_true (nn_image_save_png (image, path, 8, &err));
            nn_image_free (image);
          }
      }
  g_rand_free (rand);
}

static void
on_train_update (ScopeTrainJob          *job,
                 const ScopeTrainUpdate *u,
                 TrainFixture           *f)
{
  (void) job;
  f->updates++;
  f->state = u->state;
  g_array_append_vals (f->steps, u->steps, u->n_steps);
  g_array_append_vals (f->epochs, u->epochs, u->n_epochs);
  if (u->snapshot != NULL)
    {
      const NnGraph *g = scope_model_get_graph (u->snapshot);
      if (f->snapshots->len == 0)
        f->first = g_memdup2 (g->data, g->n_data * sizeof (float));
      g_ptr_array_add (f->snapshots, scope_model_ref (u->snapshot));
    }
  if (u->confusion != NULL)
    {
      g_free (f->confusion);
      f->n_classes = u->n_classes;
      f->confusion = g_memdup2 (u->confusion, sizeof (int) * (gsize) (u->n_classes
                                                                     * u->n_classes));
    }
  if (u->error != NULL)
    {
      g_free (f->error);
      f->error = g_strdup (u->error->message);
    }
}

static void
train_setup (TrainFixture *f,
             gconstpointer unused)
{
  (void) unused;
  f->root = test_util_make_tmp_dir ();
  write_stripes (f->root);
  f->steps = g_array_new (FALSE, FALSE, sizeof (ScopeTrainStep));
  f->epochs = g_array_new (FALSE, FALSE, sizeof (ScopeTrainEpoch));
  f->snapshots = g_ptr_array_new_with_free_func ((GDestroyNotify) scope_model_unref);
}

static void
train_teardown (TrainFixture *f,
                gconstpointer unused)
{
  (void) unused;
  g_clear_object (&f->job);
  g_array_unref (f->steps);
  g_array_unref (f->epochs);
  g_ptr_array_unref (f->snapshots);
  g_free (f->confusion);
  g_free (f->error);
  g_free (f->first);
  test_util_remove_tree (f->root);
  g_free (f->root);
}

/* smallcnn on the stripes, batch 8 (12 steps an epoch), a snapshot every step. */
static void
train_settings (TrainFixture       *f,
                ScopeTrainSettings *s,
                int                 epochs)
{
  scope_train_settings_init (s);
  g_strlcpy (s->dataset, f->root, sizeof s->dataset);
  s->epochs = epochs;
  s->batch = 8;
  s->per_class = 0;
  s->lr = 0.02;
  s->snapshot_ms = 0;
}

static void
train_start (TrainFixture             *f,
             const ScopeTrainSettings *s)
{
  f->job = scope_train_job_new (s);
  g_signal_connect (f->job, "update", G_CALLBACK (on_train_update), f);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_train_job_start (f->job, &error));
  g_assert_no_error (error);
  g_assert_cmpint (scope_train_job_get_state (f->job), ==, SCOPE_TRAIN_LOADING);
}

static gboolean
train_ended (gpointer data)
{
  const TrainFixture *f = data;
  return !scope_train_state_is_active (f->state) && f->state != SCOPE_TRAIN_IDLE;
}

static gboolean
has_five_steps (gpointer data)
{
  const TrainFixture *f = data;
  return f->steps->len >= 5;
}

static gboolean
has_target_steps (gpointer data)
{
  const TrainFixture *f = data;
  return f->steps->len >= f->target;
}

static gboolean
is_paused (gpointer data)
{
  const TrainFixture *f = data;
  return f->state == SCOPE_TRAIN_PAUSED;
}

static void
test_train_progress (TrainFixture *f,
                     gconstpointer unused)
{
  (void) unused;
  ScopeTrainSettings s;
  train_settings (f, &s, 3);
  train_start (f, &s);
  test_util_wait (train_ended, f, "the training to end");
  g_assert_null (f->error);
  g_assert_cmpint (f->state, ==, SCOPE_TRAIN_FINISHED);
  g_assert_cmpint (scope_train_job_get_state (f->job), ==, SCOPE_TRAIN_FINISHED);

  /* Every step once, in order. */
  g_test_message ("%u steps in %u updates", f->steps->len, f->updates);
  g_assert_cmpuint (f->steps->len, ==, 3 * 96 / 8);
  for (guint i = 0; i < f->steps->len; i++)
    {
      const ScopeTrainStep *st = &g_array_index (f->steps, ScopeTrainStep, i);
      g_assert_cmpint (st->step, ==, (long) i + 1);
      g_assert_cmpint (st->epoch, ==, (int) i / 12);
      g_assert_true (isfinite (st->loss) && st->loss >= 0.0f);
      g_assert_true (st->accuracy >= 0.0f && st->accuracy <= 1.0f);
    }
  g_assert_cmpuint (f->epochs->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (g_array_index (f->epochs, ScopeTrainEpoch, i).step, ==, 12 * (long) (i + 1));
  const ScopeTrainEpoch *last = &g_array_index (f->epochs, ScopeTrainEpoch, 2);
  g_test_message ("last epoch: train loss %.3f acc %.3f, test loss %.3f acc %.3f",
                  (double) last->train_loss, (double) last->train_accuracy,
                  (double) last->test_loss, (double) last->test_accuracy);
  /* Stripes are easy: it learns them. */
  g_assert_cmpfloat (last->test_accuracy, >=, 0.9f);
  const ScopeTrainStep *first = &g_array_index (f->steps, ScopeTrainStep, 0);
  g_assert_cmpfloat (last->train_loss, <, first->loss);

  /* The confusion matrix counts the 32 test images; its diagonal is the accuracy. */
  g_assert_cmpint (f->n_classes, ==, 2);
  int total = 0, diagonal = 0;
  for (int i = 0; i < 4; i++)
    total += f->confusion[i];
  diagonal = f->confusion[0] + f->confusion[3];
  g_assert_cmpint (total, ==, 32);
  g_assert_cmpfloat_with_epsilon ((double) diagonal / total, last->test_accuracy, 1e-6);

  /* Snapshots: the initial weights and more; the last is the trained model. */
  g_assert_cmpuint (f->snapshots->len, >=, 2);
  const NnModel *m = scope_model_get_nn_model (f->snapshots->pdata[f->snapshots->len - 1]);
  g_assert_cmpstr (m->arch, ==, "smallcnn");
  g_assert_cmpstr (m->labels[1], ==, "vertical");
}

static void
test_train_pause_resume (TrainFixture *f,
                         gconstpointer unused)
{
  (void) unused;
  ScopeTrainSettings s;
  train_settings (f, &s, 5000);
  train_start (f, &s);
  test_util_wait (has_five_steps, f, "five training steps");
  scope_train_job_pause (f->job);
  test_util_wait (is_paused, f, "the training to pause");
  guint held = f->steps->len;
  test_util_run_for (0.4);
  g_assert_cmpint (f->state, ==, SCOPE_TRAIN_PAUSED);
  g_assert_cmpuint (f->steps->len, ==, held);
  /* Paused, it handed over its weights as they are. */
  g_assert_cmpuint (f->snapshots->len, >=, 2);

  scope_train_job_resume (f->job);
  f->target = held + 5;
  test_util_wait (has_target_steps, f, "more training steps");
  g_assert_cmpint (f->state, ==, SCOPE_TRAIN_RUNNING);

  /* Stop while paused is prompt too. */
  scope_train_job_pause (f->job);
  test_util_wait (is_paused, f, "the training to pause");
  gint64 start = g_get_monotonic_time ();
  scope_train_job_stop (f->job);
  g_assert_cmpint (g_get_monotonic_time () - start, <, TEST_UTIL_PROMPT_US);
  g_assert_cmpint (scope_train_job_get_state (f->job), ==, SCOPE_TRAIN_STOPPED);
}

static void
test_train_stop_prompt (TrainFixture *f,
                        gconstpointer unused)
{
  (void) unused;
  ScopeTrainSettings s;
  train_settings (f, &s, 5000);
  train_start (f, &s);
  test_util_wait (has_five_steps, f, "five training steps");
  gint64 start = g_get_monotonic_time ();
  scope_train_job_stop (f->job);
  gint64 took = g_get_monotonic_time () - start;
  g_test_message ("stop while training took %.1f ms", took / 1000.0);
  g_assert_cmpint (took, <, TEST_UTIL_PROMPT_US);
  g_assert_cmpint (scope_train_job_get_state (f->job), ==, SCOPE_TRAIN_STOPPED);
  guint updates = f->updates;
  test_util_run_for (0.2);
  g_assert_cmpuint (f->updates, ==, updates);
  g_assert_cmpuint (f->steps->len, <, 5000 * 12);
}

static void
test_train_snapshots_immutable (TrainFixture *f,
                                gconstpointer unused)
{
  (void) unused;
  ScopeTrainSettings s;
  train_settings (f, &s, 2);
  train_start (f, &s);
  test_util_wait (train_ended, f, "the training to end");
  g_assert_cmpint (f->state, ==, SCOPE_TRAIN_FINISHED);
  g_assert_cmpuint (f->snapshots->len, >=, 3);

  /* The first snapshot still holds the weights it had when it arrived, while training went on
   * and moved most of them (pending snapshots are merged: the first delivered one may be of a
   * later step than the initial weights). */
  const NnModel *first = scope_model_get_nn_model (f->snapshots->pdata[0]);
  const NnModel *last = scope_model_get_nn_model (f->snapshots->pdata[f->snapshots->len - 1]);
  gsize n = first->graph->n_data;
  g_assert_cmpuint (last->graph->n_data, ==, n);
  test_util_assert_close (first->graph->data, f->first, n, 0.0,
                          "first snapshot against its weights when delivered");
  gsize differ = 0;
  for (gsize i = 0; i < n; i++)
    differ += last->graph->data[i] != first->graph->data[i];
  g_test_message ("%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " weights differ between the first "
                  "and the last snapshot", differ, n);
  g_assert_cmpuint (differ, >, n / 2);
}

static void
test_train_bad_dataset (TrainFixture *f,
                        gconstpointer unused)
{
  (void) unused;
  ScopeTrainSettings s;
  train_settings (f, &s, 1);
  g_strlcpy (s.dataset, "/nonexistent/dataset-folder", sizeof s.dataset);
  train_start (f, &s);
  test_util_wait (train_ended, f, "the training to end");
  g_assert_cmpint (f->state, ==, SCOPE_TRAIN_FAILED);
  g_assert_nonnull (f->error);
  g_test_message ("%s", f->error);
  g_assert_nonnull (strstr (f->error, "/nonexistent/dataset-folder"));

  /* A bad policy is refused before any data is read. */
  g_clear_object (&f->job);
  g_clear_pointer (&f->error, g_free);
  f->state = SCOPE_TRAIN_IDLE;
  train_settings (f, &s, 1);
  g_strlcpy (s.policy, "proxygrad:oops", sizeof s.policy);
  train_start (f, &s);
  test_util_wait (train_ended, f, "the training to end");
  g_assert_cmpint (f->state, ==, SCOPE_TRAIN_FAILED);
  g_assert_nonnull (f->error);
  g_test_message ("%s", f->error);
}

static void
test_train_cycles (TrainFixture *f,
                   gconstpointer unused)
{
  (void) unused;
  /* Runs started and stopped at once (while loading), after a few steps, or when done;
   * under ASan this is the leak check. */
  ScopeTrainSettings s;
  train_settings (f, &s, 1);
  for (int cycle = 0; cycle < 24; cycle++)
    {
      g_array_set_size (f->steps, 0);
      f->state = SCOPE_TRAIN_IDLE;
      train_start (f, &s);
      if (cycle % 3 == 1)
        test_util_wait (has_five_steps, f, "five training steps");
      else if (cycle % 3 == 2)
        test_util_wait (train_ended, f, "the training to end");
      gint64 start = g_get_monotonic_time ();
      scope_train_job_stop (f->job);
      g_assert_cmpint (g_get_monotonic_time () - start, <, TEST_UTIL_PROMPT_US);
      g_clear_object (&f->job);
    }
  test_util_run_for (0.05);
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
  g_test_add ("/app/engine/open", Fixture, NULL, fixture_setup, test_open, fixture_teardown);
  g_test_add ("/app/engine/open-mask", Fixture, NULL, fixture_setup, test_open_mask,
              fixture_teardown);
  g_test_add ("/app/engine/rebuild", Fixture, NULL, fixture_setup, test_rebuild,
              fixture_teardown);
  g_test_add ("/app/engine/start-stop-cycles", Fixture, NULL, fixture_setup,
              test_start_stop_cycles, fixture_teardown);
  g_test_add ("/app/train/progress", TrainFixture, NULL, train_setup, test_train_progress,
              train_teardown);
  g_test_add ("/app/train/pause-resume", TrainFixture, NULL, train_setup,
              test_train_pause_resume, train_teardown);
  g_test_add ("/app/train/stop-prompt", TrainFixture, NULL, train_setup, test_train_stop_prompt,
              train_teardown);
  g_test_add ("/app/train/snapshots-immutable", TrainFixture, NULL, train_setup,
              test_train_snapshots_immutable, train_teardown);
  g_test_add ("/app/train/bad-dataset", TrainFixture, NULL, train_setup, test_train_bad_dataset,
              train_teardown);
  g_test_add ("/app/train/start-stop-cycles", TrainFixture, NULL, train_setup,
              test_train_cycles, train_teardown);
  return g_test_run ();
}
