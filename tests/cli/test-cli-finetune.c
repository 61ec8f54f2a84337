/* SPDX-License-Identifier: MIT */
/* cnnscope-cli train --init: fine-tuning a saved model with --freeze (frozen weights and
 * batch-norm statistics bit-identical, the rest trained), --new-head (the output count),
 * continuing from the saved weights (the first step's loss is the model's evaluation loss),
 * --size, and bad input (a layer that does not exist, --new-head 0, a truncated model, a
 * network that cannot change its input size) giving one clear line. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "nn.h"
#include "test-util.h"

#define SIDE      28
#define PER_CLASS 10

typedef struct
{
  char *cli;   /* the binary */
  char *dir;   /* temporary folder for everything below */
  char *data;  /* dir/data/{dark,light}/NN.png */
  char *base;  /* dir/base.safetensors: resnet18 (width 1/8) trained here for two classes */
} Env;

static Env env;

typedef struct
{
  int   status;  /* exit code, or -1 when killed by a signal */
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
  memset (r, 0, sizeof *r);
}

/* Runs cnnscope-cli with the NULL-terminated arguments. */
static Run
run_cli (const char *first,
         ...)
{
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, env.cli);
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  Run r = { 0 };
  int wait_status = 0;
  GError *error = NULL;
  gboolean ok = g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                              &r.out, &r.err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  r.status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  g_ptr_array_free (argv, TRUE);
  return r;
}

static void
assert_success (const Run *r)
{
  if (r->status != 0)
    g_error ("expected success, got status %d; stderr: %s", r->status, r->err);
}

/* Exit status `status` and one line "cnnscope-cli: ..." on stderr holding both words. */
static void
assert_failure (const Run  *r,
                int         status,
                const char *word1,
                const char *word2)
{
  if (r->status != status)
    g_error ("expected status %d, got %d; stderr: %s", status, r->status, r->err);
  g_assert_true (g_str_has_prefix (r->err, "cnnscope-cli: "));
  g_assert_true (strchr (r->err, '\n') == r->err + strlen (r->err) - 1);
  if (word1 != NULL && strstr (r->err, word1) == NULL)
    g_error ("stderr '%s' lacks '%s'", r->err, word1);
  if (word2 != NULL && strstr (r->err, word2) == NULL)
    g_error ("stderr '%s' lacks '%s'", r->err, word2);
}

static cJSON *
parse_json (const Run *r)
{
  cJSON *json = cJSON_Parse (r->out);
  if (json == NULL || !cJSON_IsObject (json))
    g_error ("stdout is not a JSON object: %s", r->out);
  return json;
}

static double
json_number (const cJSON *obj,
             const char  *key)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (obj, key);
  if (!cJSON_IsNumber (item))
    g_error ("'%s' is not a number", key);
  return item->valuedouble;
}

static NnModel *
load (const char *path)
{
  NnError err = { 0 };
  NnModel *model = nn_model_load (path, &err);
  if (model == NULL)
    g_error ("%s", err.message);
  return model;
}

/* Two classes of 28 x 28 gray images: noise, brighter in the top half for `light`. */
static void
make_dataset (void)
{
  const char *classes[2] = { "dark", "light" };
  NnRng rng;
  nn_rng_init (&rng, 11);
  for (int k = 0; k < 2; k++)
    {
      g_autofree char *sub = g_build_filename (env.data, classes[k], NULL);
      g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
      for (int i = 0; i < PER_CLASS; i++)
        {
          NnImage *im = nn_image_new (1, SIDE, SIDE);
          for (int p = 0; p < SIDE * SIDE; p++)
            im->data[p] = 0.1f + 0.5f * nn_rng_uniform (&rng)
                          + (k == 1 && p < SIDE * SIDE / 2 ? 0.3f : 0.0f);
          char name[32];
          g_snprintf (name, sizeof name, "%02d.png", i);
          g_autofree char *path = g_build_filename (sub, name, NULL);
          NnError err = { 0 };
          g_assert_true (nn_image_save_png (im, path, 8, &err));
          nn_image_free (im);
        }
    }
}

static void
ensure_base (void)
{
  if (g_file_test (env.base, G_FILE_TEST_EXISTS))
    return;
  Run r = run_cli ("train", "--arch", "resnet18", "--width", "0.125", "--data", env.data,
                   "--epochs", "1", "--batch", "5", "--seed", "3", "--threads", "1", "--out",
                   env.base, NULL);
  assert_success (&r);
  run_clear (&r);
}

/* Whether parameter `name` of a and b holds the same bits. */
static bool
same_param (const NnModel *a,
            const NnModel *b,
            int            p)
{
  const NnParam *pa = &a->graph->params[p], *pb = &b->graph->params[p];
  g_assert_cmpstr (pa->name, ==, pb->name);
  g_assert_cmpuint (pa->count, ==, pb->count);
  return memcmp (a->graph->data + pa->offset, b->graph->data + pb->offset,
                 sizeof (float) * pa->count) == 0;
}

static void
test_freeze (void)
{
  ensure_base ();
  g_autofree char *out = g_build_filename (env.dir, "frozen.safetensors", NULL);
  Run r = run_cli ("train", "--init", env.base, "--freeze", "layer2", "--data", env.data,
                   "--epochs", "2", "--batch", "5", "--lr", "0.01", "--threads", "1", "--out",
                   out, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.err, "frozen: 'layer2' and every layer before it"));
  run_clear (&r);
  NnModel *base = load (env.base), *tuned = load (out);
  int frozen = 0, changed = 0;
  for (int p = 0; p < base->graph->n_params; p++)
    {
      const char *name = base->graph->params[p].name;
      bool before = g_str_has_prefix (name, "conv1.") || g_str_has_prefix (name, "bn1.")
                    || g_str_has_prefix (name, "layer1.") || g_str_has_prefix (name, "layer2.");
      /* Weights, biases and running statistics of the frozen layers keep their bits; the
       * others all moved. */
      if (before)
        {
          if (!same_param (base, tuned, p))
            g_error ("%s changed", name);
          frozen++;
        }
      else
        {
          if (same_param (base, tuned, p))
            g_error ("%s did not change", name);
          changed++;
        }
      /* Freezing belongs to the run: the saved model is trainable throughout, as before. */
      g_assert_true (tuned->graph->params[p].trainable == base->graph->params[p].trainable);
    }
  /* Parameter tensors: conv1 (a weight), bn1 (four), layer1's two blocks (ten each), layer2's
   * two blocks and its downsample conv and norm (five). */
  g_assert_cmpint (frozen, ==, 5 + 20 + 25);
  g_assert_cmpint (changed, >, 0);
  nn_model_free (tuned);
  nn_model_free (base);
}

static void
test_new_head (void)
{
  g_autofree char *ten = g_build_filename (env.dir, "ten.safetensors", NULL);
  g_autofree char *out = g_build_filename (env.dir, "head.safetensors", NULL);
  NnArchSpec spec = {
    .name = "resnet18", .in_c = 1, .in_h = SIDE, .in_w = SIDE, .n_classes = 10,
    .width = 0.125f, .bank = NN_PFM_BANK_FULL, .seed = 4,
  };
  NnError err = { 0 };
  NnGraph *graph = nn_arch_build (&spec, &err);
  g_assert_nonnull (graph);
  NnModel *model = nn_model_new (graph, "resnet18");
  g_assert_true (nn_model_save (model, ten, &err));
  nn_model_free (model);

  Run r = run_cli ("train", "--init", ten, "--data", env.data, "--epochs", "1", "--out", out,
                   NULL);
  assert_failure (&r, 1, "10 outputs", "--new-head 2");
  run_clear (&r);
  r = run_cli ("train", "--init", ten, "--new-head", "3", "--data", env.data, "--epochs", "1",
               "--out", out, NULL);
  assert_failure (&r, 2, "--new-head 3", "2 classes");
  run_clear (&r);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));

  r = run_cli ("train", "--init", ten, "--new-head", "2", "--data", env.data, "--epochs", "1",
               "--batch", "5", "--threads", "1", "--out", out, "--json", NULL);
  assert_success (&r);
  run_clear (&r);
  NnModel *tuned = load (out);
  g_assert_cmpint (tuned->n_classes, ==, 2);
  g_assert_cmpint ((int) nn_shape_size (tuned->graph->nodes[nn_graph_output (tuned->graph)]
                                          .shape), ==, 2);
  g_assert_cmpstr (tuned->labels[0], ==, "dark");
  g_assert_cmpstr (tuned->labels[1], ==, "light");
  nn_model_free (tuned);

  r = run_cli ("predict", out, env.data, "--json", NULL);
  assert_success (&r);
  run_clear (&r);
}

/* With every norm frozen (--freeze avgpool) and one batch of the whole set, the first step's
 * loss is taken before any update with the norms in inference mode: the saved model's
 * evaluation loss on the same images. A fresh network starts elsewhere. */
static void
test_continue (void)
{
  ensure_base ();
  g_autofree char *out = g_build_filename (env.dir, "continued.safetensors", NULL);
  Run r = run_cli ("eval", env.base, env.data, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  double saved_loss = json_number (json, "loss");
  cJSON_Delete (json);
  run_clear (&r);

  r = run_cli ("train", "--init", env.base, "--freeze", "avgpool", "--data", env.data,
               "--epochs", "1", "--batch", "20", "--threads", "1", "--out", out, "--json", NULL);
  assert_success (&r);
  json = parse_json (&r);
  const cJSON *epoch = cJSON_GetArrayItem (cJSON_GetObjectItemCaseSensitive (json, "epochs"), 0);
  double first_loss = json_number (epoch, "train_loss");
  g_assert_cmpfloat (fabs (first_loss - saved_loss), <, 1e-5 * saved_loss);
  cJSON_Delete (json);
  run_clear (&r);

  r = run_cli ("train", "--arch", "resnet18", "--width", "0.125", "--data", env.data,
               "--epochs", "1", "--batch", "20", "--seed", "9", "--threads", "1", "--out", out,
               "--json", NULL);
  assert_success (&r);
  json = parse_json (&r);
  epoch = cJSON_GetArrayItem (cJSON_GetObjectItemCaseSensitive (json, "epochs"), 0);
  g_assert_cmpfloat (fabs (json_number (epoch, "train_loss") - saved_loss), >, 1e-3);
  cJSON_Delete (json);
  run_clear (&r);
}

static void
test_size (void)
{
  ensure_base ();
  g_autofree char *out = g_build_filename (env.dir, "sized.safetensors", NULL);
  Run r = run_cli ("train", "--init", env.base, "--size", "40x36", "--data", env.data,
                   "--epochs", "1", "--batch", "5", "--threads", "1", "--out", out, NULL);
  assert_success (&r);
  run_clear (&r);
  NnModel *tuned = load (out);
  g_assert_cmpint (nn_model_input_height (tuned), ==, 40);
  g_assert_cmpint (nn_model_input_width (tuned), ==, 36);
  nn_model_free (tuned);

  /* smallcnn flattens its feature maps into fc1, whose size follows the input's. */
  g_autofree char *flat = g_build_filename (env.dir, "flat.safetensors", NULL);
  r = run_cli ("train", "--arch", "smallcnn", "--width", "0.25", "--data", env.data,
               "--epochs", "1", "--batch", "5", "--threads", "1", "--out", flat, NULL);
  assert_success (&r);
  run_clear (&r);
  r = run_cli ("train", "--init", flat, "--size", "32", "--data", env.data, "--out", out, NULL);
  assert_failure (&r, 1, "layer 'fc1'", "1x32x32");
  run_clear (&r);
}

static void
test_bad_input (void)
{
  ensure_base ();
  g_autofree char *out = g_build_filename (env.dir, "bad.safetensors", NULL);
  Run r = run_cli ("train", "--init", env.base, "--freeze", "layer9", "--data", env.data,
                   "--out", out, NULL);
  assert_failure (&r, 2, "--freeze", "no layer 'layer9'");
  run_clear (&r);
  r = run_cli ("train", "--init", env.base, "--freeze", "fc", "--data", env.data, "--out", out,
               NULL);
  assert_failure (&r, 1, "nothing to train", NULL);
  run_clear (&r);
  r = run_cli ("train", "--init", env.base, "--new-head", "0", "--data", env.data, "--out", out,
               NULL);
  assert_failure (&r, 2, "--new-head", "'0'");
  run_clear (&r);
  r = run_cli ("train", "--arch", "smallcnn", "--new-head", "2", "--data", env.data, "--out",
               out, NULL);
  assert_failure (&r, 2, "--new-head needs --init", NULL);
  run_clear (&r);
  r = run_cli ("train", "--arch", "smallcnn", "--init", env.base, "--data", env.data, "--out",
               out, NULL);
  assert_failure (&r, 2, "one of --arch", NULL);
  run_clear (&r);

  /* The first half of a saved model. */
  g_autofree char *truncated = g_build_filename (env.dir, "truncated.safetensors", NULL);
  g_autofree char *bytes = NULL;
  gsize size = 0;
  g_assert_true (g_file_get_contents (env.base, &bytes, &size, NULL));
  test_util_write_file (truncated, bytes, size / 2);
  r = run_cli ("train", "--init", truncated, "--data", env.data, "--out", out, NULL);
  assert_failure (&r, 1, "truncated.safetensors", NULL);
  run_clear (&r);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *build = g_getenv ("CNNSCOPE_BUILD_DIR");
  if (build == NULL)
    {
      g_printerr ("CNNSCOPE_BUILD_DIR is not set (run through meson test)\n");
      return 1;
    }
  env.cli = g_build_filename (build, "cli", "cnnscope-cli", NULL);
  env.dir = test_util_make_tmp_dir ();
  env.data = g_build_filename (env.dir, "data", NULL);
  env.base = g_build_filename (env.dir, "base.safetensors", NULL);
  make_dataset ();

  g_test_add_func ("/cli/finetune/freeze", test_freeze);
  g_test_add_func ("/cli/finetune/new-head", test_new_head);
  g_test_add_func ("/cli/finetune/continue", test_continue);
  g_test_add_func ("/cli/finetune/size", test_size);
  g_test_add_func ("/cli/finetune/bad-input", test_bad_input);
  int status = g_test_run ();
  test_util_remove_tree (env.dir);
  g_free (env.cli);
  g_free (env.dir);
  g_free (env.data);
  g_free (env.base);
  return status;
}
