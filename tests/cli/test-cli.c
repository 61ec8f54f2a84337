/* SPDX-License-Identifier: MIT */
/* cnnscope-cli end to end: runs the built binary on a small generated image folder (train,
 * info, predict, eval, activations, filters, bench) and on bad input, which must give a
 * non-zero exit and one line on stderr naming what is wrong. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn.h"
#include "test-util.h"

#define SIDE      28
#define PER_CLASS 10

typedef struct
{
  char *cli;      /* the binary */
  char *dir;      /* temporary folder for everything below */
  char *data;     /* dir/data/{horizontal,vertical}/NN.png */
  char *model;    /* dir/model.safetensors, trained on first use */
  char *sample_h; /* one image of each class */
  char *sample_v;
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

/* A failure: non-zero exit and exactly one line "cnnscope-cli: ..." on stderr, containing each
 * of the given words. */
static void
assert_failure (const Run *r,
                const char *word1,
                const char *word2)
{
  if (r->status <= 0)
    g_error ("expected a failure, got status %d; stderr: %s", r->status, r->err);
  g_assert_true (g_str_has_prefix (r->err, "cnnscope-cli: "));
  g_assert_true (g_str_has_suffix (r->err, "\n"));
  g_assert_true (strchr (r->err, '\n') == r->err + strlen (r->err) - 1);
  if (word1 != NULL && strstr (r->err, word1) == NULL)
    g_error ("stderr '%s' lacks '%s'", r->err, word1);
  if (word2 != NULL && strstr (r->err, word2) == NULL)
    g_error ("stderr '%s' lacks '%s'", r->err, word2);
}

static void
assert_success (const Run *r)
{
  if (r->status != 0)
    g_error ("expected success, got status %d; stderr: %s", r->status, r->err);
}

/* stdout holds exactly one JSON object (and a newline). */
static cJSON *
parse_json (const Run *r)
{
  const char *end = NULL;
  cJSON *json = cJSON_ParseWithOpts (r->out, &end, false);
  if (json == NULL || !cJSON_IsObject (json))
    g_error ("stdout is not a JSON object: %s", r->out);
  while (*end == '\n' || *end == ' ')
    end++;
  g_assert_cmpint (*end, ==, '\0');
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

static bool
file_exists (const char *path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* A valid PNG of a plausible figure size. */
static void
assert_png (const char *path)
{
  NnError err = { 0 };
  NnImage *image = nn_image_load (path, &err);
  if (image == NULL)
    g_error ("%s", err.message);
  g_assert_cmpint (image->w, >=, 100);
  g_assert_cmpint (image->h, >=, 100);
  nn_image_free (image);
}

/* A PNG of exactly width x height pixels. */
static void
assert_png_size (const char *path,
                 int         width,
                 int         height)
{
  NnError err = { 0 };
  NnImage *image = nn_image_load (path, &err);
  if (image == NULL)
    g_error ("%s", err.message);
  g_assert_cmpint (image->w, ==, width);
  g_assert_cmpint (image->h, ==, height);
  nn_image_free (image);
}

/* Class 0: horizontal strokes; class 1: vertical strokes; pixels are exactly 0 or 1. */
static NnImage *
make_image (int cls,
            int i)
{
  NnImage *im = nn_image_new (1, SIDE, SIDE);
  memset (im->data, 0, sizeof (float) * SIDE * SIDE);
  for (int s = 0; s < 3; s++)
    {
      int a = 3 + (i * 7 + s * 5) % 18, b = 2 + (i * 3 + s * 11) % 14;
      for (int t = 0; t < 10; t++)
        {
          int y = cls == 0 ? a : b + t, x = cls == 0 ? b + t : a;
          im->data[y * SIDE + x] = 1.0f;
        }
    }
  return im;
}

static void
make_dataset (void)
{
  const char *classes[2] = { "horizontal", "vertical" };
  for (int k = 0; k < 2; k++)
    {
      char *sub = g_build_filename (env.data, classes[k], NULL);
      g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
      for (int i = 0; i < PER_CLASS; i++)
        {
          char name[32];
          g_snprintf (name, sizeof name, "%02d.png", i);
          char *path = g_build_filename (sub, name, NULL);
          NnImage *im = make_image (k, i);
          NnError err = { 0 };
          g_assert_true (nn_image_save_png (im, path, 8, &err));
          nn_image_free (im);
          if (i == 0)
            {
              if (k == 0)
                env.sample_h = g_strdup (path);
              else
                env.sample_v = g_strdup (path);
            }
          g_free (path);
        }
      g_free (sub);
    }
}

static void
ensure_model (void)
{
  if (file_exists (env.model))
    return;
  Run r = run_cli ("train", "--arch", "smallcnn", "--width", "0.25", "--data", env.data,
                   "--epochs", "1", "--batch", "8", "--seed", "3", "--out", env.model, "--json",
                   NULL);
  assert_success (&r);
  run_clear (&r);
  g_assert_true (file_exists (env.model));
}

static void
test_usage (void)
{
  Run r = run_cli ("--version", NULL);
  assert_success (&r);
  g_assert_true (g_str_has_prefix (r.out, "cnnscope-cli "));
  run_clear (&r);

  r = run_cli ("--help", NULL);
  assert_success (&r);
  const char *commands[] = { "info", "predict", "train", "eval", "embed", "examples",
                             "compare",
                             "activations", "filters", "am", "bench" };
  for (size_t i = 0; i < G_N_ELEMENTS (commands); i++)
    g_assert_nonnull (strstr (r.out, commands[i]));
  run_clear (&r);

  r = run_cli ("train", "--help", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "--optimizer"));
  run_clear (&r);

  r = run_cli (NULL);
  assert_failure (&r, "no command", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);

  r = run_cli ("frobnicate", NULL);
  assert_failure (&r, "unknown command", "'frobnicate'");
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);

  r = run_cli ("convert", "x.onnx", NULL);
  assert_failure (&r, "--out", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
}

static void
test_train (void)
{
  char *out = g_build_filename (env.dir, "train-test.safetensors", NULL);
  int before = test_util_count_entries (env.dir);
  Run r = run_cli ("train", "--arch", "smallcnn", "--width", "0.25", "--data", env.data,
                   "--epochs", "2", "--batch", "8", "--optimizer", "adamw", "--lr", "0.003",
                   "--policy", "proxygrad:0.3", "--schedule", "step", "--augment", "--seed",
                   "5", "--threads", "1", "--out", out, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  const cJSON *epochs = cJSON_GetObjectItemCaseSensitive (json, "epochs");
  g_assert_true (cJSON_IsArray (epochs));
  g_assert_cmpint (cJSON_GetArraySize (epochs), ==, 2);
  const cJSON *e1 = cJSON_GetArrayItem (epochs, 1);
  g_assert_cmpfloat (json_number (e1, "epoch"), ==, 2.0);
  g_assert_cmpfloat (json_number (e1, "train_loss"), >, 0.0);
  double acc = json_number (json, "test_accuracy");
  g_assert_cmpfloat (acc, >=, 0.0);
  g_assert_cmpfloat (acc, <=, 1.0);
  g_assert_cmpfloat (json_number (e1, "test_accuracy"), ==, acc);
  g_assert_cmpfloat (json_number (json, "seconds"), >, 0.0);
  g_assert_cmpfloat (json_number (json, "train_n"), ==, 2 * PER_CLASS);
  cJSON_Delete (json);
  /* Human progress on stderr, one line per epoch. */
  g_assert_nonnull (strstr (r.err, "epoch 1/2"));
  g_assert_nonnull (strstr (r.err, "epoch 2/2"));
  run_clear (&r);
  /* Only the model was added to the folder: no temporary file is left. */
  g_assert_true (file_exists (out));
  g_assert_cmpint (test_util_count_entries (env.dir), ==, before + 1);

  /* The model remembers how it was made. */
  r = run_cli ("info", out, "--json", NULL);
  assert_success (&r);
  json = parse_json (&r);
  const cJSON *cmd = cJSON_GetObjectItemCaseSensitive (json, "command");
  g_assert_true (cJSON_IsString (cmd));
  g_assert_nonnull (strstr (cmd->valuestring, "--policy proxygrad:0.3"));
  g_assert_cmpfloat (json_number (json, "test_accuracy"), ==, acc);
  cJSON_Delete (json);
  run_clear (&r);
  g_remove (out);
  g_free (out);
}

/* train --probe: every probe explained at the weights of the moment every N steps and at each
 * epoch's end (once when both fall on a step), a PNG each and a JSON line each, written
 * atomically; bad uses fail before training. */
static void
test_train_probes (void)
{
  char *dir = g_build_filename (env.dir, "probes", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  char *out = g_build_filename (env.dir, "probed.safetensors", NULL);
  char *list = g_strdup_printf ("%s,%s", env.sample_h, env.sample_v);
  /* 20 images in batches of 8: 2 steps an epoch, 6 in all; every 3 steps and each epoch's
   * end: steps 2, 3, 4 and 6 */
  Run r = run_cli ("train", "--arch", "smallcnn", "--width", "0.25", "--data", env.data,
                   "--epochs", "3", "--batch", "8", "--seed", "5", "--probe", list,
                   "--probe-every", "3", "--probe-out", dir, "--out", out, NULL);
  assert_success (&r);
  run_clear (&r);
  static const long steps[] = { 2, 3, 4, 6 };
  static const int epochs[] = { 1, 2, 2, 3 };
  /* two PNGs per step and the lines, no temporary file */
  g_assert_cmpint (test_util_count_entries (dir), ==, 2 * G_N_ELEMENTS (steps) + 1);
  char *jsonl = g_build_filename (dir, "probes.jsonl", NULL);
  char *text = NULL;
  g_assert_true (g_file_get_contents (jsonl, &text, NULL, NULL));
  char **lines = g_strsplit (text, "\n", -1);
  g_assert_cmpint (g_strv_length (lines), ==, 2 * G_N_ELEMENTS (steps) + 1);
  g_assert_cmpstr (lines[2 * G_N_ELEMENTS (steps)], ==, "");
  double first[2] = { 0 }, last[2] = { 0 };
  for (guint i = 0; i < 2 * G_N_ELEMENTS (steps); i++)
    {
      cJSON *line = cJSON_Parse (lines[i]);
      g_assert_nonnull (line);
      guint k = i / 2, probe = i % 2;
      g_assert_cmpfloat (json_number (line, "step"), ==, steps[k]);
      g_assert_cmpfloat (json_number (line, "epoch"), ==, epochs[k]);
      g_assert_cmpstr (cJSON_GetObjectItemCaseSensitive (line, "probe")->valuestring, ==,
                       probe == 0 ? env.sample_h : env.sample_v);
      const char *png = cJSON_GetObjectItemCaseSensitive (line, "png")->valuestring;
      char name[64];
      g_snprintf (name, sizeof name, "p%u-00-step%06ld.png", probe + 1, steps[k]);
      g_assert_true (g_str_has_suffix (png, name));
      assert_png_size (png, 360, 300);
      const cJSON *probs = cJSON_GetObjectItemCaseSensitive (line, "probabilities");
      g_assert_cmpint (cJSON_GetArraySize (probs), ==, 2);
      double sum = 0.0;
      for (int c = 0; c < 2; c++)
        sum += cJSON_GetArrayItem (probs, c)->valuedouble;
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
      /* the class explained is the predicted one */
      int predicted = cJSON_GetArrayItem (probs, 1)->valuedouble
                      > cJSON_GetArrayItem (probs, 0)->valuedouble;
      g_assert_cmpfloat (json_number (line, "class"), ==, predicted);
      if (k == 0)
        first[probe] = cJSON_GetArrayItem (probs, 0)->valuedouble;
      last[probe] = cJSON_GetArrayItem (probs, 0)->valuedouble;
      cJSON_Delete (line);
    }
  /* the weights moved between the first and the last probe */
  g_assert_cmpfloat (first[0], !=, last[0]);
  g_assert_cmpfloat (first[1], !=, last[1]);
  g_strfreev (lines);
  g_free (text);

  r = run_cli ("train", "--arch", "smallcnn", "--data", env.data, "--out", out, "--probe", list,
               NULL);
  assert_failure (&r, "--probe needs --probe-out", NULL);
  run_clear (&r);
  char *missing = g_build_filename (env.dir, "no-such-folder", NULL);
  r = run_cli ("train", "--arch", "smallcnn", "--width", "0.25", "--data", env.data, "--out",
               out, "--probe", list, "--probe-out", missing, NULL);
  assert_failure (&r, "no-such-folder", "cannot write");
  run_clear (&r);
  r = run_cli ("train", "--arch", "smallcnn", "--width", "0.25", "--data", env.data, "--out",
               out, "--probe", missing, "--probe-out", dir, NULL);
  assert_failure (&r, "no-such-folder", NULL);
  run_clear (&r);
  g_free (missing);
  g_free (jsonl);
  g_free (list);
  g_free (out);
  g_free (dir);
}

/* train --snapshot-every: a model every N steps, named with the step; compare between two of
 * them, with itself, and with another graph. */
static void
test_snapshots_compare (void)
{
  char *out = g_build_filename (env.dir, "snap.safetensors", NULL);
  char *snap[3];
  for (int k = 0; k < 3; k++)
    {
      char name[64];
      g_snprintf (name, sizeof name, "snap-step%06d.safetensors", 2 * (k + 1));
      snap[k] = g_build_filename (env.dir, name, NULL);
    }
  /* 20 images in batches of 8: 2 steps an epoch, 6 in all, a snapshot after steps 2, 4, 6 */
  int before = test_util_count_entries (env.dir);
  Run r = run_cli ("train", "--arch", "smallcnn", "--width", "0.25", "--data", env.data,
                   "--epochs", "3", "--batch", "8", "--seed", "4", "--snapshot-every", "2",
                   "--out", out, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  const cJSON *snaps = cJSON_GetObjectItemCaseSensitive (json, "snapshots");
  g_assert_cmpint (cJSON_GetArraySize (snaps), ==, 3);
  for (int k = 0; k < 3; k++)
    {
      const cJSON *e = cJSON_GetArrayItem (snaps, k);
      g_assert_cmpfloat (json_number (e, "step"), ==, 2 * (k + 1));
      g_assert_cmpstr (cJSON_GetObjectItemCaseSensitive (e, "path")->valuestring, ==, snap[k]);
      g_assert_true (file_exists (snap[k]));
    }
  cJSON_Delete (json);
  g_assert_nonnull (strstr (r.err, "step 4: saved"));
  run_clear (&r);
  /* the snapshots and the model, no temporary files */
  g_assert_cmpint (test_util_count_entries (env.dir), ==, before + 4);

  /* the last snapshot is the final model's weights */
  char *png = g_build_filename (env.dir, "cka.png", NULL);
  char *matrix = g_build_filename (env.dir, "cka-matrix.svg", NULL);
  char *channel = g_build_filename (env.dir, "channel.png", NULL);
  r = run_cli ("compare", snap[2], out, "--data", env.data, "--json", NULL);
  assert_success (&r);
  json = parse_json (&r);
  const cJSON *layers = cJSON_GetObjectItemCaseSensitive (json, "layers");
  g_assert_cmpint (cJSON_GetArraySize (layers), ==, 10);
  for (int l = 0; l < 10; l++)
    {
      const cJSON *e = cJSON_GetArrayItem (layers, l);
      g_assert_cmpfloat_with_epsilon (json_number (e, "cka"), 1.0, 1e-5);
      const cJSON *d = cJSON_GetObjectItemCaseSensitive (e, "weight_change");
      g_assert_true (cJSON_IsNull (d) || d->valuedouble == 0.0);
    }
  g_assert_cmpfloat (json_number (json, "n"), ==, 2 * PER_CLASS);
  cJSON_Delete (json);
  run_clear (&r);

  r = run_cli ("compare", snap[0], out, "--data", env.data, "--json", "--out", png, "--matrix",
               matrix, "--layer", "conv2", "--channel", "1", "--input", env.sample_h,
               "--channel-out", channel, "--limit", "12", "--features", "pool", NULL);
  assert_success (&r);
  json = parse_json (&r);
  g_assert_cmpfloat (json_number (json, "n"), ==, 12);
  layers = cJSON_GetObjectItemCaseSensitive (json, "layers");
  const cJSON *first = cJSON_GetArrayItem (layers, 0);
  g_assert_cmpstr (cJSON_GetObjectItemCaseSensitive (first, "name")->valuestring, ==, "conv1");
  g_assert_cmpfloat (json_number (first, "features"), ==, 8);  /* pooled: the channels */
  g_assert_cmpfloat (json_number (first, "weight_change"), >, 0.0);
  g_assert_true (cJSON_IsNull (cJSON_GetObjectItemCaseSensitive (cJSON_GetArrayItem (layers, 1),
                                                                 "weight_change")));
  const cJSON *m = cJSON_GetObjectItemCaseSensitive (json, "matrix");
  g_assert_cmpint (cJSON_GetArraySize (m), ==, 10);
  for (int l = 0; l < 10; l++)
    {
      double v = json_number (cJSON_GetArrayItem (layers, l), "cka");
      g_assert_cmpfloat (v, >=, 0.0);
      g_assert_cmpfloat (v, <=, 1.0 + 1e-9);
      g_assert_cmpfloat_with_epsilon (cJSON_GetArrayItem (cJSON_GetArrayItem (m, l), l)
                                      ->valuedouble, v, 1e-9);
    }
  cJSON_Delete (json);
  g_assert_null (strstr (r.err, "no Grad-CAM"));
  g_assert_null (strstr (r.err, "no activation-maximization row"));
  run_clear (&r);
  assert_png_size (png, 1000, 600);
  assert_png_size (channel, 1000, 600);
  /* the channel figure's AM row: the same figure without it (--am-steps 0) differs below the
   * activations and agrees above them; with it, two runs give the same file (seeded) */
  char *plain = g_build_filename (env.dir, "channel-plain.png", NULL);
  char *again = g_build_filename (env.dir, "channel-again.png", NULL);
  const char *outs[2] = { plain, again };
  const char *steps[2] = { "0", "256" };
  for (int k = 0; k < 2; k++)
    {
      r = run_cli ("compare", snap[0], out, "--data", env.data, "--layer", "conv2", "--channel",
                   "1", "--input", env.sample_h, "--channel-out", outs[k], "--limit", "12",
                   "--am-steps", steps[k], NULL);
      assert_success (&r);
      run_clear (&r);
    }
  NnError err = { 0 };
  NnImage *with_am = nn_image_load (channel, &err), *without = nn_image_load (plain, &err);
  g_assert_nonnull (with_am);
  g_assert_nonnull (without);
  g_assert_cmpint (with_am->c, ==, without->c);
  const size_t row = (size_t) with_am->w;
  size_t differ_top = 0, differ_bottom = 0;
  for (int y = 0; y < with_am->h; y++)
    for (size_t x = 0; x < row; x++)
      {
        size_t i = (size_t) y * row + x;   /* the first channel */
        if (with_am->data[i] != without->data[i])
          *(y < 40 ? &differ_top : &differ_bottom) += 1;
      }
  g_assert_cmpuint (differ_top, ==, 0);      /* the title and headings */
  g_assert_cmpuint (differ_bottom, >, 1000);
  nn_image_free (with_am);
  nn_image_free (without);
  gchar *a_bytes, *b_bytes;
  gsize a_len, b_len;
  g_assert_true (g_file_get_contents (channel, &a_bytes, &a_len, NULL));
  g_assert_true (g_file_get_contents (again, &b_bytes, &b_len, NULL));
  g_assert_cmpmem (a_bytes, a_len, b_bytes, b_len);
  g_free (a_bytes);
  g_free (b_bytes);
  g_free (plain);
  g_free (again);
  /* a layer without spatial extent: the channel figure without its Grad-CAM row, and why */
  r = run_cli ("compare", snap[0], out, "--data", env.data, "--layer", "fc1", "--channel", "1",
               "--input", env.sample_h, "--channel-out", channel, "--limit", "4", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.err, "no Grad-CAM row: layer 'fc1' has no spatial extent"));
  run_clear (&r);
  g_assert_true (file_exists (matrix));

  /* the table names every layer */
  r = run_cli ("compare", snap[0], snap[1], "--data", env.data, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "fc2"));
  g_assert_nonnull (strstr (r.out, "weight change"));
  g_assert_nonnull (strstr (r.err, "10 layers compared over 20 samples (flattened features)"));
  run_clear (&r);

  ensure_model ();
  char *wide = g_build_filename (env.dir, "wide.safetensors", NULL);
  r = run_cli ("train", "--arch", "smallcnn", "--width", "0.5", "--data", env.data, "--epochs",
               "1", "--batch", "8", "--out", wide, NULL);
  assert_success (&r);
  run_clear (&r);
  r = run_cli ("compare", env.model, wide, "--data", env.data, NULL);
  assert_failure (&r, "not the same network", "differ at node 1: 'conv1'");
  run_clear (&r);
  r = run_cli ("compare", env.model, out, "--data", env.data, "--channel", "1", NULL);
  assert_failure (&r, "--layer, --channel, --input and --channel-out", NULL);
  run_clear (&r);
  r = run_cli ("compare", env.model, out, "--data", env.data, "--layer", "nope", NULL);
  assert_failure (&r, "no layer 'nope'", NULL);
  run_clear (&r);
  r = run_cli ("compare", env.model, out, "--data", env.data, "--layer", "input", NULL);
  assert_failure (&r, "'input' is the input", NULL);
  run_clear (&r);
  r = run_cli ("train", "--arch", "smallcnn", "--data", env.data, "--out", out,
               "--snapshot-every", "0", NULL);
  assert_failure (&r, "snapshot-every", NULL);
  run_clear (&r);

  g_remove (wide);
  g_free (wide);
  g_remove (png);
  g_remove (matrix);
  g_remove (channel);
  g_free (png);
  g_free (matrix);
  g_free (channel);
  for (int k = 0; k < 3; k++)
    {
      g_remove (snap[k]);
      g_free (snap[k]);
    }
  g_remove (out);
  g_free (out);
}

static void
test_info (void)
{
  ensure_model ();
  Run r = run_cli ("info", env.model, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  g_assert_cmpstr (cJSON_GetObjectItem (json, "arch")->valuestring, ==, "smallcnn");
  const cJSON *shape = cJSON_GetObjectItem (json, "input_shape");
  g_assert_cmpint (cJSON_GetArraySize (shape), ==, 3);
  g_assert_cmpint (cJSON_GetArrayItem (shape, 0)->valueint, ==, 1);
  g_assert_cmpint (cJSON_GetArrayItem (shape, 1)->valueint, ==, SIDE);
  g_assert_cmpfloat (json_number (json, "n_classes"), ==, 2.0);
  const cJSON *labels = cJSON_GetObjectItem (json, "labels");
  g_assert_cmpstr (cJSON_GetArrayItem (labels, 0)->valuestring, ==, "horizontal");
  g_assert_cmpstr (cJSON_GetArrayItem (labels, 1)->valuestring, ==, "vertical");
  g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (json, "mean")), ==, 1);
  g_assert_cmpfloat (json_number (json, "trainable_params"), >, 0.0);

  /* Per node: name, op, output shape, params; they add up to the total. */
  const cJSON *nodes = cJSON_GetObjectItem (json, "nodes");
  double sum = 0.0;
  bool has_conv1 = false;
  const cJSON *node;
  cJSON_ArrayForEach (node, nodes)
    {
      const char *name = cJSON_GetObjectItem (node, "name")->valuestring;
      const char *op = cJSON_GetObjectItem (node, "op")->valuestring;
      g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (node, "output_shape")), ==, 3);
      sum += json_number (node, "params");
      if (strcmp (name, "conv1") == 0)
        {
          has_conv1 = true;
          g_assert_cmpstr (op, ==, "conv2d");
        }
    }
  g_assert_true (has_conv1);
  g_assert_cmpfloat (sum, ==, json_number (json, "params"));
  cJSON_Delete (json);
  run_clear (&r);

  r = run_cli ("info", env.model, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "smallcnn"));
  g_assert_nonnull (strstr (r.out, "conv1"));
  g_assert_nonnull (strstr (r.out, "horizontal"));
  run_clear (&r);
}

/* The model's normalized input for one of our generated images, as make_image draws it. */
static void
write_npy_input (const char *path,
                 const cJSON *info,
                 int          cls,
                 int          i,
                 bool         batch_dim)
{
  float mean = (float) cJSON_GetArrayItem (cJSON_GetObjectItem (info, "mean"), 0)->valuedouble;
  float std = (float) cJSON_GetArrayItem (cJSON_GetObjectItem (info, "std"), 0)->valuedouble;
  NnImage *im = make_image (cls, i);
  for (int j = 0; j < SIDE * SIDE; j++)
    im->data[j] = (im->data[j] - mean) / std;
  const int dims4[4] = { 1, 1, SIDE, SIDE };
  NnError err = { 0 };
  g_assert_true (nn_npy_save (path, im->data, batch_dim ? dims4 : dims4 + 1,
                              batch_dim ? 4 : 3, &err));
  nn_image_free (im);
}

static void
test_predict (void)
{
  ensure_model ();
  char *logits = g_build_filename (env.dir, "logits.npy", NULL);
  Run r = run_cli ("predict", env.model, env.sample_h, env.sample_v, "--top", "2",
                   "--logits-npy", logits, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  const cJSON *preds = cJSON_GetObjectItem (json, "predictions");
  g_assert_cmpint (cJSON_GetArraySize (preds), ==, 2);

  NnError err = { 0 };
  NnNpy *npy = nn_npy_load (logits, &err);
  g_assert_nonnull (npy);
  g_assert_cmpint (npy->ndim, ==, 2);
  g_assert_cmpint (npy->dims[0], ==, 2);
  g_assert_cmpint (npy->dims[1], ==, 2);
  for (int i = 0; i < 2; i++)
    {
      const cJSON *p = cJSON_GetArrayItem (preds, i);
      g_assert_cmpstr (cJSON_GetObjectItem (p, "input")->valuestring, ==,
                       i == 0 ? env.sample_h : env.sample_v);
      const cJSON *top = cJSON_GetObjectItem (p, "top");
      g_assert_cmpint (cJSON_GetArraySize (top), ==, 2);
      double p0 = json_number (cJSON_GetArrayItem (top, 0), "probability");
      double p1 = json_number (cJSON_GetArrayItem (top, 1), "probability");
      g_assert_cmpfloat (p0, >=, p1);
      g_assert_cmpfloat (fabs (p0 + p1 - 1.0), <, 1e-5);
      /* The probabilities are the softmax of the logits written to the .npy. */
      int k0 = (int) json_number (cJSON_GetArrayItem (top, 0), "class");
      const float *l = npy->data + 2 * i;
      double expect = 1.0 / (1.0 + exp ((double) l[1 - k0] - (double) l[k0]));
      g_assert_cmpfloat (fabs (p0 - expect), <, 1e-5);
      const char *label = cJSON_GetObjectItem (cJSON_GetArrayItem (top, 0), "label")->valuestring;
      g_assert_cmpstr (label, ==, k0 == 0 ? "horizontal" : "vertical");
    }
  float png_logits[2] = { npy->data[0], npy->data[1] };
  nn_npy_free (npy);
  cJSON_Delete (json);
  run_clear (&r);

  /* The same image as an already normalized .npy, (1, C, H, W) and (C, H, W), gives the same
   * logits as the PNG. */
  r = run_cli ("info", env.model, "--json", NULL);
  cJSON *info = parse_json (&r);
  run_clear (&r);
  char *in4 = g_build_filename (env.dir, "input4.npy", NULL);
  char *in3 = g_build_filename (env.dir, "input3.npy", NULL);
  write_npy_input (in4, info, 0, 0, true);
  write_npy_input (in3, info, 0, 0, false);
  cJSON_Delete (info);
  r = run_cli ("predict", env.model, in4, in3, "--logits-npy", logits, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "horizontal"));
  run_clear (&r);
  npy = nn_npy_load (logits, &err);
  g_assert_nonnull (npy);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (fabs (npy->data[i] - png_logits[i % 2]), <, 1e-4);
  nn_npy_free (npy);

  /* An array of the wrong shape is refused, naming the file. */
  const float zeros[3 * SIDE * SIDE] = { 0 };
  const int dims[3] = { 3, SIDE, SIDE };
  char *wrong = g_build_filename (env.dir, "wrong-shape.npy", NULL);
  g_assert_true (nn_npy_save (wrong, zeros, dims, 3, &err));
  r = run_cli ("predict", env.model, wrong, NULL);
  assert_failure (&r, wrong, "does not fit");
  run_clear (&r);

  g_remove (wrong);
  g_remove (in3);
  g_remove (in4);
  g_remove (logits);
  g_free (wrong);
  g_free (in3);
  g_free (in4);
  g_free (logits);
}

static void
test_eval (void)
{
  ensure_model ();
  Run r = run_cli ("eval", env.model, env.data, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  int n = (int) json_number (json, "n");
  g_assert_cmpint (n, ==, 2 * PER_CLASS);
  double acc = json_number (json, "accuracy");
  g_assert_cmpfloat (json_number (json, "loss"), >, 0.0);
  const cJSON *conf = cJSON_GetObjectItem (json, "confusion");
  g_assert_cmpint (cJSON_GetArraySize (conf), ==, 2);
  int total = 0, diag = 0;
  for (int i = 0; i < 2; i++)
    {
      const cJSON *row = cJSON_GetArrayItem (conf, i);
      g_assert_cmpint (cJSON_GetArraySize (row), ==, 2);
      for (int j = 0; j < 2; j++)
        {
          int v = cJSON_GetArrayItem (row, j)->valueint;
          total += v;
          diag += i == j ? v : 0;
        }
      /* Each row holds the samples of one true class. */
      g_assert_cmpint (cJSON_GetArrayItem (row, 0)->valueint
                       + cJSON_GetArrayItem (row, 1)->valueint, ==, PER_CLASS);
    }
  g_assert_cmpint (total, ==, n);
  g_assert_cmpfloat (fabs (acc - (double) diag / n), <, 1e-9);
  cJSON_Delete (json);
  run_clear (&r);

  r = run_cli ("eval", env.model, env.data, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "accuracy"));
  run_clear (&r);

  /* The ROC figure, at its default size and at a given one; not for one shard. */
  g_autofree char *roc = g_build_filename (env.dir, "roc.png", NULL);
  r = run_cli ("eval", env.model, env.data, "--roc", roc, NULL);
  assert_success (&r);
  run_clear (&r);
  assert_png_size (roc, 700, 600);
  r = run_cli ("eval", env.model, env.data, "--roc", roc, "--width", "400", "--height", "300",
               "--json", NULL);
  assert_success (&r);
  cJSON_Delete (parse_json (&r));
  run_clear (&r);
  assert_png_size (roc, 400, 300);
  r = run_cli ("eval", env.model, env.data, "--roc", roc, "--shard", "0/2", NULL);
  assert_failure (&r, "--roc", "--merge");
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  g_remove (roc);
}

/* ood-fit on the training split, and predict with the statistics: every input gets a score
 * and the threshold; a bad percentile is a usage error and a missing file a failure. */
static void
test_ood_fit (void)
{
  ensure_model ();
  char *ood = g_build_filename (env.dir, "m.ood.json", NULL);
  Run r = run_cli ("ood-fit", env.model, env.data, "--out", ood, "--percentile", "90", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "percentile 90"));
  run_clear (&r);
  r = run_cli ("predict", env.model, env.sample_v, "--ood", ood, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  const cJSON *o = cJSON_GetObjectItem (cJSON_GetArrayItem (cJSON_GetObjectItem (json,
                                                                                 "predictions"),
                                                            0), "ood");
  g_assert_nonnull (o);
  double score = json_number (o, "score"), threshold = json_number (o, "threshold");
  g_assert_cmpfloat (score, >=, 0.0);
  g_assert_cmpfloat (threshold, >, 0.0);
  g_assert_cmpint (cJSON_IsTrue (cJSON_GetObjectItem (o, "far")), ==, score > threshold);
  cJSON_Delete (json);
  run_clear (&r);
  r = run_cli ("ood-fit", env.model, env.data, "--out", ood, "--percentile", "0", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  char *missing = g_build_filename (env.dir, "missing.ood.json", NULL);
  r = run_cli ("predict", env.model, env.sample_v, "--ood", missing, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "missing.ood.json"));
  run_clear (&r);
  g_free (missing);
  g_free (ood);
}

static void
test_activations (void)
{
  ensure_model ();
  char *png = g_build_filename (env.dir, "act.png", NULL);
  char *npy_path = g_build_filename (env.dir, "act.npy", NULL);
  Run r = run_cli ("activations", env.model, env.sample_v, "--layer", "relu1", "--out", png,
                   "--npy", npy_path, NULL);
  assert_success (&r);
  run_clear (&r);
  /* The layer figure at the size the application exports, unless asked for another. */
  assert_png_size (png, 1200, 750);
  NnError err = { 0 };
  NnNpy *npy = nn_npy_load (npy_path, &err);
  g_assert_nonnull (npy);
  g_assert_cmpint (npy->ndim, ==, 3);
  g_assert_cmpint (npy->dims[1], ==, SIDE);
  g_assert_cmpint (npy->dims[2], ==, SIDE);
  float max = 0.0f;
  for (size_t i = 0; i < npy->count; i++)
    {
      g_assert_cmpfloat (npy->data[i], >=, 0.0f);  /* after a ReLU */
      max = npy->data[i] > max ? npy->data[i] : max;
    }
  g_assert_cmpfloat (max, >, 0.0f);
  nn_npy_free (npy);

  /* Other figure formats follow the extension. */
  char *svg = g_build_filename (env.dir, "act.svg", NULL);
  r = run_cli ("activations", env.model, env.sample_h, "--layer", "conv2", "--out", svg, NULL);
  assert_success (&r);
  run_clear (&r);
  g_assert_true (file_exists (svg));

  r = run_cli ("activations", env.model, env.sample_v, "--layer", "relu1", "--channel", "1",
               "--width", "640", "--height", "400", "--out", png, NULL);
  assert_success (&r);
  run_clear (&r);
  assert_png_size (png, 640, 400);
  g_remove (png);
  r = run_cli ("activations", env.model, env.sample_v, "--layer", "relu1", "--channel", "999",
               "--out", png, NULL);
  assert_failure (&r, "--channel", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  r = run_cli ("activations", env.model, env.sample_v, "--layer", "relu1", "--width", "10",
               "--out", png, NULL);
  assert_failure (&r, "--width", NULL);
  run_clear (&r);
  g_assert_false (file_exists (png));

  g_remove (svg);
  g_remove (png);
  g_remove (npy_path);
  g_free (svg);
  g_free (png);
  g_free (npy_path);
}

/* The rows of an embed CSV after its header, checked for shape: index, true, true_name, pred,
 * pred_name, x, y with classes in [0, 2) named after the folders, distinct indices in
 * [0, 2 PER_CLASS) and finite coordinates. Returns the row count; wrong counts the rows whose
 * prediction is not the true class, xsum sums x. */
static int
check_embed_csv (const char *path,
                 int        *wrong,
                 double     *xsum)
{
  char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  char **lines = g_strsplit (text, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "index,true,true_name,pred,pred_name,x,y");
  const char *names[2] = { "horizontal", "vertical" };
  bool seen[2 * PER_CLASS] = { false };
  int n = 0;
  *wrong = 0;
  *xsum = 0.0;
  for (int i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++, n++)
    {
      char **f = g_strsplit (lines[i], ",", -1);
      g_assert_cmpint (g_strv_length (f), ==, 7);
      int index = atoi (f[0]), truth = atoi (f[1]), pred = atoi (f[3]);
      g_assert_cmpint (index, >=, 0);
      g_assert_cmpint (index, <, 2 * PER_CLASS);
      g_assert_false (seen[index]);
      seen[index] = true;
      /* the folder's samples come class by class, in sorted order */
      g_assert_cmpint (truth, ==, index / PER_CLASS);
      g_assert_cmpstr (f[2], ==, names[truth]);
      g_assert_true (pred == 0 || pred == 1);
      g_assert_cmpstr (f[4], ==, names[pred]);
      double x = g_ascii_strtod (f[5], NULL), y = g_ascii_strtod (f[6], NULL);
      g_assert_true (isfinite (x) && isfinite (y));
      *wrong += pred != truth;
      *xsum += x;
      g_strfreev (f);
    }
  g_strfreev (lines);
  g_free (text);
  return n;
}

static void
test_embed (void)
{
  ensure_model ();
  char *png = g_build_filename (env.dir, "embed.png", NULL);
  char *svg = g_build_filename (env.dir, "embed.svg", NULL);
  char *csv = g_build_filename (env.dir, "embed.csv", NULL);
  char *csv2 = g_build_filename (env.dir, "embed2.csv", NULL);

  /* PCA of every test sample: centred coordinates, and the same mistakes as eval counts. */
  Run r = run_cli ("embed", env.model, env.data, "--layer", "relu1", "--method", "pca", "--out",
                   png, "--csv", csv, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.err, "PCA"));
  run_clear (&r);
  assert_png_size (png, 900, 700);
  int wrong;
  double xsum;
  g_assert_cmpint (check_embed_csv (csv, &wrong, &xsum), ==, 2 * PER_CLASS);
  g_assert_cmpfloat (fabs (xsum), <, 1e-3);
  r = run_cli ("eval", env.model, env.data, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  const cJSON *conf = cJSON_GetObjectItem (json, "confusion");
  int off = cJSON_GetArrayItem (cJSON_GetArrayItem (conf, 0), 1)->valueint
            + cJSON_GetArrayItem (cJSON_GetArrayItem (conf, 1), 0)->valueint;
  g_assert_cmpint (wrong, ==, off);
  cJSON_Delete (json);
  run_clear (&r);

  /* t-SNE of 16 samples drawn by seed: the same seed gives the same map. */
  r = run_cli ("embed", env.model, env.data, "--layer", "relu1", "--method", "tsne",
               "--perplexity", "5", "--limit", "16", "--seed", "3", "--colour", "pred",
               "--out", svg, "--csv", csv, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.err, "t-SNE"));
  run_clear (&r);
  g_assert_true (file_exists (svg));
  g_assert_cmpint (check_embed_csv (csv, &wrong, &xsum), ==, 16);
  r = run_cli ("embed", env.model, env.data, "--layer", "relu1", "--method", "tsne",
               "--perplexity", "5", "--limit", "16", "--seed", "3", "--csv", csv2, NULL);
  assert_success (&r);
  run_clear (&r);
  char *a = NULL, *b = NULL;
  g_assert_true (g_file_get_contents (csv, &a, NULL, NULL));
  g_assert_true (g_file_get_contents (csv2, &b, NULL, NULL));
  g_assert_cmpstr (a, ==, b);
  g_free (a);
  g_free (b);
  /* flattened features: 8 x 28 x 28 values per sample at a quarter-width model's relu1 */
  r = run_cli ("embed", env.model, env.data, "--layer", "relu1", "--features", "flatten",
               "--csv", csv2, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.err, "of 6272 features"));
  run_clear (&r);

  /* 20 samples are too few for perplexity 30 */
  g_remove (png);
  r = run_cli ("embed", env.model, env.data, "--layer", "relu1", "--method", "tsne", "--out",
               png, NULL);
  assert_failure (&r, "perplexity 30 needs at least 91 points", NULL);
  run_clear (&r);
  g_assert_false (file_exists (png));
  r = run_cli ("embed", env.model, env.data, "--layer", "nosuch", "--out", png, NULL);
  assert_failure (&r, "nosuch", NULL);
  run_clear (&r);
  r = run_cli ("embed", env.model, env.data, "--layer", "relu1", "--method", "umap", "--out",
               png, NULL);
  assert_failure (&r, "--method", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  r = run_cli ("embed", env.model, env.data, "--layer", "relu1", NULL);
  assert_failure (&r, "--out or --csv", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  r = run_cli ("embed", env.model, env.data, "--out", png, NULL);
  assert_failure (&r, "--layer", NULL);
  run_clear (&r);
  r = run_cli ("embed", env.model, env.data, "--layer", "relu1", "--limit", "1", "--csv", csv,
               NULL);
  assert_failure (&r, "--limit", NULL);
  run_clear (&r);
  g_assert_false (file_exists (png));

  g_remove (csv2);
  g_remove (csv);
  g_remove (svg);
  g_free (csv2);
  g_free (csv);
  g_free (svg);
  g_free (png);
}

/* The "top" or "bottom" list of an examples --json run: k entries, values ordered, each
 * sample and rectangle in range. */
static const cJSON *
check_examples_list (const cJSON *json,
                     const char  *end,
                     int          k,
                     int          n)
{
  const cJSON *list = cJSON_GetObjectItem (json, end);
  g_assert_cmpint (cJSON_GetArraySize (list), ==, k);
  double last = g_str_equal (end, "top") ? INFINITY : -INFINITY;
  for (int i = 0; i < k; i++)
    {
      const cJSON *e = cJSON_GetArrayItem (list, i);
      double v = json_number (e, "value");
      g_assert_true (g_str_equal (end, "top") ? v <= last : v >= last);
      last = v;
      g_assert_cmpfloat (json_number (e, "index"), >=, 0);
      g_assert_cmpfloat (json_number (e, "index"), <, n);
      const cJSON *rect = cJSON_GetObjectItem (e, "rect");
      int y0 = cJSON_GetArrayItem (rect, 0)->valueint, x0 = cJSON_GetArrayItem (rect, 1)->valueint;
      int h = cJSON_GetArrayItem (rect, 2)->valueint, w = cJSON_GetArrayItem (rect, 3)->valueint;
      g_assert_true (y0 >= 0 && x0 >= 0 && h > 0 && w > 0 && y0 + h <= 28 && x0 + w <= 28);
      g_assert_nonnull (cJSON_GetObjectItem (e, "class_name"));
    }
  return list;
}

static void
test_examples (void)
{
  ensure_model ();
  char *png = g_build_filename (env.dir, "examples.png", NULL);
  char *svg = g_build_filename (env.dir, "examples.svg", NULL);
  char *cache = g_build_filename (env.dir, "examples.cache", NULL);
  g_remove (cache);

  /* Computed, written to the cache, drawn. relu1 follows a 3 x 3 conv with padding 1: each
   * unit sees 3 x 3 pixels. */
  Run r = run_cli ("examples", env.model, env.data, "--layer", "relu1", "--channel", "3", "--k",
                   "4", "--out", png, "--json", "--cache", cache, NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  run_clear (&r);
  assert_png_size (png, 900, 420);
  g_assert_true (file_exists (cache));
  g_assert_false (cJSON_IsTrue (cJSON_GetObjectItem (json, "cached")));
  g_assert_cmpfloat (json_number (json, "n"), ==, 2 * PER_CLASS);
  const cJSON *field = cJSON_GetObjectItem (json, "receptive_field");
  g_assert_cmpint (cJSON_GetArrayItem (cJSON_GetObjectItem (field, "size"), 0)->valueint, ==, 3);
  check_examples_list (json, "top", 4, 2 * PER_CLASS);
  check_examples_list (json, "bottom", 4, 2 * PER_CLASS);
  char *first = cJSON_PrintUnformatted (cJSON_GetObjectItem (json, "top"));
  cJSON_Delete (json);

  /* From the cache: the same ranking. */
  r = run_cli ("examples", env.model, env.data, "--layer", "relu1", "--channel", "3", "--k", "4",
               "--json", "--cache", cache, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.err, "from the cache"));
  json = parse_json (&r);
  run_clear (&r);
  g_assert_true (cJSON_IsTrue (cJSON_GetObjectItem (json, "cached")));
  char *again = cJSON_PrintUnformatted (cJSON_GetObjectItem (json, "top"));
  g_assert_cmpstr (first, ==, again);
  g_free (again);
  cJSON_Delete (json);

  /* A broken cache is computed again (and rewritten); another k does not read it. */
  test_util_write_file (cache, "not a cache", 11);
  r = run_cli ("examples", env.model, env.data, "--layer", "relu1", "--channel", "3", "--k", "4",
               "--json", "--cache", cache, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.err, "not a valid dataset examples cache"));
  json = parse_json (&r);
  run_clear (&r);
  g_assert_false (cJSON_IsTrue (cJSON_GetObjectItem (json, "cached")));
  again = cJSON_PrintUnformatted (cJSON_GetObjectItem (json, "top"));
  g_assert_cmpstr (first, ==, again);
  g_free (again);
  cJSON_Delete (json);
  r = run_cli ("examples", env.model, env.data, "--layer", "relu1", "--channel", "3", "--k", "5",
               "--crop", "--out", svg, "--json", "--cache", cache, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.err, "another model, dataset, layer or k"));
  json = parse_json (&r);
  run_clear (&r);
  g_assert_false (cJSON_IsTrue (cJSON_GetObjectItem (json, "cached")));
  check_examples_list (json, "top", 5, 2 * PER_CLASS);
  cJSON_Delete (json);
  g_assert_true (file_exists (svg));

  /* Errors. */
  r = run_cli ("examples", env.model, env.data, "--layer", "relu1", "--channel", "99", "--json",
               NULL);
  assert_failure (&r, "channels (0 to", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  r = run_cli ("examples", env.model, env.data, "--layer", "relu1", "--json", NULL);
  assert_failure (&r, "--channel", NULL);
  run_clear (&r);
  r = run_cli ("examples", env.model, env.data, "--layer", "relu1", "--channel", "0", NULL);
  assert_failure (&r, "--out or --json", NULL);
  run_clear (&r);
  r = run_cli ("examples", env.model, env.data, "--layer", "nosuch", "--channel", "0", "--json",
               NULL);
  assert_failure (&r, "nosuch", NULL);
  run_clear (&r);
  /* A fully connected layer: one unit per channel, which sees the whole image. */
  r = run_cli ("examples", env.model, env.data, "--layer", "fc1", "--channel", "0", "--json",
               NULL);
  assert_success (&r);
  json = parse_json (&r);
  run_clear (&r);
  field = cJSON_GetObjectItem (json, "receptive_field");
  g_assert_true (cJSON_IsTrue (cJSON_GetObjectItem (field, "whole")));
  check_examples_list (json, "bottom", 8, 2 * PER_CLASS);
  cJSON_Delete (json);

  g_free (first);
  g_remove (cache);
  g_remove (svg);
  g_remove (png);
  g_free (cache);
  g_free (svg);
  g_free (png);
}

/* Runs am with --json and returns the parsed object. */
static cJSON *
am_json (const char *first,
         ...)
{
  GPtrArray *args = g_ptr_array_new ();
  g_ptr_array_add (args, (gpointer) "am");
  g_ptr_array_add (args, env.model);
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, (gpointer) "--json");
  char *cmd[64] = { 0 };
  g_assert_cmpuint (args->len, <, 60);
  for (guint i = 0; i < args->len; i++)
    cmd[i] = args->pdata[i];
  g_ptr_array_free (args, TRUE);
  Run r = run_cli (cmd[0], cmd[1], cmd[2], cmd[3], cmd[4], cmd[5], cmd[6], cmd[7], cmd[8],
                   cmd[9], cmd[10], cmd[11], cmd[12], cmd[13], cmd[14], cmd[15], cmd[16],
                   cmd[17], cmd[18], cmd[19], cmd[20], NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  run_clear (&r);
  return json;
}

static double
item_number (const cJSON *json,
             int          item,
             const char  *key)
{
  const cJSON *items = cJSON_GetObjectItem (json, "channels");
  return cJSON_GetNumberValue (cJSON_GetObjectItem (cJSON_GetArrayItem (items, item), key));
}

static void
test_am (void)
{
  ensure_model ();
  char *png = g_build_filename (env.dir, "am.png", NULL);
  char *npy_path = g_build_filename (env.dir, "am.npy", NULL);
  char *one_path = g_build_filename (env.dir, "am-one.npy", NULL);

  /* Two channels in one batch: the history has steps + 1 values, ends at the final
   * objective, and went up. */
  cJSON *json = am_json ("--layer", "conv2", "--channel", "0,3", "--steps", "20", "--out", png,
                         "--npy", npy_path, "--transforms", "jitter,rotate", "--tv", "0.01",
                         NULL);
  const cJSON *items = cJSON_GetObjectItem (json, "channels");
  g_assert_cmpint (cJSON_GetArraySize (items), ==, 2);
  for (int k = 0; k < 2; k++)
    {
      const cJSON *hist = cJSON_GetObjectItem (cJSON_GetArrayItem (items, k), "history");
      g_assert_cmpint (cJSON_GetArraySize (hist), ==, 21);
      double last = cJSON_GetNumberValue (cJSON_GetArrayItem (hist, 20));
      g_assert_cmpfloat (last, ==, item_number (json, k, "objective"));
      g_assert_cmpfloat (last, >, item_number (json, k, "initial"));
    }
  g_assert_cmpfloat (item_number (json, 1, "channel"), ==, 3);
  cJSON_Delete (json);
  /* The Maximize view's figure, at the size the application exports. */
  assert_png_size (png, 1200, 800);
  NnError err = { 0 };
  NnNpy *npy = nn_npy_load (npy_path, &err);
  g_assert_nonnull (npy);
  g_assert_cmpint (npy->ndim, ==, 4);
  g_assert_cmpint (npy->dims[0], ==, 2);
  g_assert_cmpint (npy->dims[3], ==, SIDE);
  nn_npy_free (npy);

  /* A seed makes the run reproducible; ProxyGrad (both readings) and Adam on the Fourier basis
   * run too, and the objective reported is the original network's. */
  const char *policies[] = { "exact", "proxygrad-full:0.5" };
  for (int k = 0; k < 2; k++)
    {
      cJSON *a = am_json ("--layer", "relu2", "--channel", "1", "--steps", "15", "--seed", "4",
                          "--policy", policies[k], "--param", "fourier", "--optimizer", "adam",
                          "--lr", "0.1", "--npy", one_path, NULL);
      cJSON *b = am_json ("--layer", "relu2", "--channel", "1", "--steps", "15", "--seed", "4",
                          "--policy", policies[k], "--param", "fourier", "--optimizer", "adam",
                          "--lr", "0.1", NULL);
      g_assert_cmpfloat (item_number (a, 0, "objective"), ==, item_number (b, 0, "objective"));
      g_assert_cmpstr (cJSON_GetObjectItem (a, "policy")->valuestring, ==, policies[k]);
      cJSON_Delete (b);
      /* Starting from that result, the first objective is its final one. */
      b = am_json ("--layer", "relu2", "--channel", "1", "--steps", "1", "--start", one_path,
                   NULL);
      g_assert_cmpfloat_with_epsilon (item_number (b, 0, "initial"),
                                      item_number (a, 0, "objective"), 1e-4);
      cJSON_Delete (a);
      cJSON_Delete (b);
    }

  /* Every channel of a layer, and every class logit. */
  json = am_json ("--layer", "conv1", "--all-channels", "--batch", "3", "--steps", "5",
                  "--out", png, "--objective", "percentile", "--percentile", "5", NULL);
  g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (json, "channels")), ==, 8);
  g_assert_cmpfloat (item_number (json, 7, "channel"), ==, 7);
  cJSON_Delete (json);
  assert_png (png);
  json = am_json ("--objective", "logit", "--all-channels", "--steps", "5", "--warmup", "0.4",
                  NULL);
  g_assert_cmpstr (cJSON_GetObjectItem (json, "layer")->valuestring, ==, "fc2");
  g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (json, "channels")), ==, 2);
  cJSON_Delete (json);
  json = am_json ("--layer", "conv2", "--unit", "3,4", "--channel", "2", "--steps", "3", NULL);
  g_assert_cmpstr (cJSON_GetObjectItem (json, "target")->valuestring, ==, "unit");
  g_assert_cmpfloat (json_number (json, "objective"), ==, item_number (json, 0, "objective"));
  g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (json, "history")), ==, 4);
  cJSON_Delete (json);

  /* The paper's setting: plain gradient steps, every normalized input value kept in [-1, 1].
   * The same steps without the box leave values outside it; with it, values end on its walls
   * and none beyond. */
  for (int boxed = 0; boxed < 2; boxed++)
    {
      /* Without the box, NULL ends the arguments before it. */
      json = am_json ("--layer", "conv2", "--channel", "0,1", "--steps", "10", "--optimizer",
                      "sgd", "--lr", "50", "--npy", npy_path, boxed ? "--clip" : NULL, "-1,1",
                      NULL);
      g_assert_cmpstr (cJSON_GetObjectItem (json, "optimizer")->valuestring, ==, "sgd");
      const cJSON *box = cJSON_GetObjectItem (json, "clip");
      g_assert_true (boxed ? box != NULL : box == NULL);
      if (boxed)
        {
          g_assert_cmpfloat (cJSON_GetNumberValue (cJSON_GetArrayItem (box, 0)), ==, -1.0);
          g_assert_cmpfloat (cJSON_GetNumberValue (cJSON_GetArrayItem (box, 1)), ==, 1.0);
        }
      cJSON_Delete (json);
      npy = nn_npy_load (npy_path, &err);
      g_assert_nonnull (npy);
      g_assert_cmpuint (npy->count, ==, 2 * SIDE * SIDE);
      size_t outside = 0, on_wall = 0;
      for (size_t i = 0; i < npy->count; i++)
        {
          outside += npy->data[i] < -1.0f || npy->data[i] > 1.0f;
          on_wall += npy->data[i] == -1.0f || npy->data[i] == 1.0f;
        }
      if (boxed)
        {
          g_assert_cmpuint (outside, ==, 0);
          g_assert_cmpuint (on_wall, >, 0);
        }
      else
        g_assert_cmpuint (outside, >, 0);
      nn_npy_free (npy);
    }

  g_remove (png);
  g_remove (npy_path);
  g_remove (one_path);
  g_free (png);
  g_free (npy_path);
  g_free (one_path);
}

static void
test_am_bad_input (void)
{
  ensure_model ();
  struct
  {
    const char *args[8];
    const char *word1, *word2;
  } cases[] = {
    { { "--layer", "nope", "--channel", "0", "--json" }, "nope", NULL },
    { { "--layer", "conv2", "--channel", "99", "--json" }, "channel 99", "out of range" },
    { { "--layer", "fc1", "--channel", "0", "--objective", "center", "--json" },
      "spatial extent", "fc1" },
    { { "--layer", "conv2", "--channel", "0", "--steps", "0", "--json" }, "for --steps (",
      NULL },
    { { "--layer", "conv2", "--channel", "0", "--steps", "1000000000", "--json" }, "--steps",
      NULL },
    { { "--layer", "conv2", "--channel", "0", "--policy", "proxygrad-full:x", "--json" },
      "--policy", "slope" },
    { { "--layer", "conv2", "--channel", "0", "--transforms", "twist", "--json" }, "twist",
      NULL },
    { { "--layer", "conv2", "--channel", "0" }, "nothing to write", NULL },
    { { "--layer", "conv2", "--channel", "0", "--all-channels", "--json" }, "either", NULL },
    { { "--layer", "conv2", "--channel", "0", "--start", "/nonexistent.png", "--json" },
      "nonexistent", NULL },
    { { "--layer", "conv2", "--direction", "1,2", "--json" }, "2 weights", NULL },
    { { "--layer", "conv2", "--channel", "0", "--out", "" }, "empty output path for '--out'",
      NULL },
    { { "--layer", "", "--channel", "0", "--json" }, "empty value for '--layer'", NULL },
    { { "--layer", "conv2", "--channel", "0", "--optimizer", "rmsprop", "--json" },
      "rmsprop", "nga, adam or sgd" },
    { { "--layer", "conv2", "--channel", "0", "--clip", "1,-1", "--json" }, "--clip",
      "LO < HI" },
    { { "--layer", "conv2", "--channel", "0", "--clip=-1,1", "--param=fourier", "--json" },
      "pixels parameterization", NULL },
  };
  for (size_t k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      const char *const *a = cases[k].args;
      Run r = run_cli ("am", env.model, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
      assert_failure (&r, cases[k].word1, cases[k].word2);
      g_assert_null (strstr (r.err, "---"));
      g_assert_cmpstr (r.out, ==, "");
      run_clear (&r);
    }
}

static void
test_filters (void)
{
  ensure_model ();
  char *png = g_build_filename (env.dir, "filters.png", NULL);
  Run r = run_cli ("filters", env.model, "--layer", "conv2", "--out", png, NULL);
  assert_success (&r);
  run_clear (&r);
  assert_png (png);
  g_remove (png);
  r = run_cli ("filters", env.model, "--layer", "conv1", "--input-channel", "0", "--out", png,
               NULL);
  assert_success (&r);
  run_clear (&r);
  assert_png (png);
  g_remove (png);

  /* A layer without conv weights, and an input channel the layer does not have. */
  r = run_cli ("filters", env.model, "--layer", "relu1", "--out", png, NULL);
  assert_failure (&r, "'relu1'", "conv2d");
  run_clear (&r);
  r = run_cli ("filters", env.model, "--layer", "conv1", "--input-channel", "1", "--out", png,
               NULL);
  assert_failure (&r, "--input-channel", NULL);
  run_clear (&r);
  r = run_cli ("filters", env.model, "--layer", "conv1", "--channel", "999", "--out", png, NULL);
  assert_failure (&r, "--channel", NULL);
  run_clear (&r);
  g_assert_false (file_exists (png));
  g_free (png);
}

static void
test_bench (void)
{
  Run r = run_cli ("bench", "--only", "sgemm_peak", "--repeat", "2", "--threads", "1", "--json",
                   NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  g_assert_cmpfloat (json_number (json, "threads"), ==, 1.0);
  g_assert_true (cJSON_IsTrue (cJSON_GetObjectItem (json, "winograd")));
  g_assert_true (cJSON_IsTrue (cJSON_GetObjectItem (json, "fold")));
  const cJSON *list = cJSON_GetObjectItem (json, "workloads");
  g_assert_cmpint (cJSON_GetArraySize (list), ==, 1);
  const cJSON *w = cJSON_GetArrayItem (list, 0);
  g_assert_cmpstr (cJSON_GetObjectItem (w, "name")->valuestring, ==, "sgemm_peak");
  double median = json_number (w, "median_ms");
  g_assert_cmpfloat (json_number (w, "min_ms"), <=, median);
  g_assert_cmpfloat (json_number (w, "max_ms"), >=, median);
  g_assert_cmpfloat (json_number (w, "gflops"), >, 0.1);
  /* The worker holds three 4 MiB matrices. */
  g_assert_cmpfloat (json_number (w, "peak_rss_mb"), >, 12.0);
  /* What it ran on, at the top and beside the result. */
  const cJSON *cpus[] = { cJSON_GetObjectItem (json, "cpu"), cJSON_GetObjectItem (w, "cpu") };
  for (size_t i = 0; i < G_N_ELEMENTS (cpus); i++)
    {
      g_assert_nonnull (cpus[i]);
      g_assert_true (cJSON_IsString (cJSON_GetObjectItem (cpus[i], "blas_core")));
      g_assert_cmpstr (cJSON_GetObjectItem (cpus[i], "blas_core")->valuestring, !=, "");
      g_assert_true (cJSON_IsString (cJSON_GetObjectItem (cpus[i], "model")));
      g_assert_true (cJSON_IsBool (cJSON_GetObjectItem (cpus[i], "avx2")));
      g_assert_true (cJSON_IsBool (cJSON_GetObjectItem (cpus[i], "avx512f")));
      g_assert_true (cJSON_IsBool (cJSON_GetObjectItem (cpus[i], "fma")));
    }
  cJSON_Delete (json);
  run_clear (&r);

  /* The paths measured are named; --no-winograd and --no-fold turn them off. */
  r = run_cli ("bench", "--only", "sgemm_peak", "--repeat", "1", "--threads", "1", "--json",
               "--no-winograd", "--no-fold", NULL);
  assert_success (&r);
  json = parse_json (&r);
  g_assert_true (cJSON_IsFalse (cJSON_GetObjectItem (json, "winograd")));
  g_assert_true (cJSON_IsFalse (cJSON_GetObjectItem (json, "fold")));
  cJSON_Delete (json);
  run_clear (&r);

  r = run_cli ("bench", "--only", "nothing", NULL);
  assert_failure (&r, "'nothing'", "--only");
  run_clear (&r);
}

static void
test_bad_files (void)
{
  ensure_model ();
  /* A model that does not exist. */
  Run r = run_cli ("info", "/nonexistent/model.safetensors", NULL);
  assert_failure (&r, "/nonexistent/model.safetensors", NULL);
  run_clear (&r);

  /* A corrupt model, and a truncated one. */
  char *corrupt = g_build_filename (env.dir, "corrupt.safetensors", NULL);
  g_assert_true (g_file_set_contents (corrupt, "this is not a model at all", -1, NULL));
  r = run_cli ("info", corrupt, NULL);
  assert_failure (&r, corrupt, NULL);
  run_clear (&r);
  char *contents = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (env.model, &contents, &len, NULL));
  char *truncated = g_build_filename (env.dir, "truncated.safetensors", NULL);
  g_assert_true (g_file_set_contents (truncated, contents, (gssize) (len / 2), NULL));
  g_free (contents);
  r = run_cli ("predict", truncated, env.sample_h, NULL);
  assert_failure (&r, truncated, NULL);
  run_clear (&r);

  /* Inputs: missing, corrupt, of an unknown kind. */
  r = run_cli ("predict", env.model, "/nonexistent/image.png", NULL);
  assert_failure (&r, "/nonexistent/image.png", NULL);
  run_clear (&r);
  char *bad_png = g_build_filename (env.dir, "bad.png", NULL);
  char *figure = g_build_filename (env.dir, "never.png", NULL);
  g_assert_true (g_file_set_contents (bad_png, "\x89PNG\r\n\x1a\n garbage", -1, NULL));
  r = run_cli ("activations", env.model, bad_png, "--layer", "conv1", "--out", figure, NULL);
  assert_failure (&r, bad_png, NULL);
  run_clear (&r);
  g_assert_false (file_exists (figure));
  r = run_cli ("predict", env.model, corrupt, NULL);
  assert_failure (&r, corrupt, "unsupported input");
  run_clear (&r);

  /* A DICOM slice on which the decoder crashes (a stand-in helper that does): one line naming
   * the slice and exit status 1, not a crash of the CLI. */
  char *slice = g_build_filename (env.dir, "slice.dcm", NULL);
  NnImage *hu = nn_image_new (1, 8, 8);
  NnError err = { 0 };
  g_assert_true (nn_dicom_save (hu, 1.0, NULL, slice, &err));
  nn_image_free (hu);
  char *helper = g_build_filename (env.dir, "crashing-helper", NULL);
  g_assert_true (g_file_set_contents (helper, "#!/bin/sh\nkill -SEGV $$\n", -1, NULL));
  g_assert_cmpint (g_chmod (helper, 0755), ==, 0);
  char *real_helper = g_strdup (g_getenv ("CNNSCOPE_DICOM_HELPER"));
  g_setenv ("CNNSCOPE_DICOM_HELPER", helper, TRUE);
  r = run_cli ("predict", env.model, slice, NULL);
  if (real_helper != NULL)
    g_setenv ("CNNSCOPE_DICOM_HELPER", real_helper, TRUE);
  else
    g_unsetenv ("CNNSCOPE_DICOM_HELPER");
  g_assert_cmpint (r.status, ==, 1);
  assert_failure (&r, slice, "the DICOM decoder crashed on this file (signal 11");
  run_clear (&r);
  r = run_cli ("predict", env.model, slice, NULL);
  assert_success (&r);
  run_clear (&r);
  g_remove (helper);
  g_remove (slice);
  g_free (real_helper);
  g_free (helper);
  g_free (slice);

  /* An unknown layer says how to list the layers. */
  r = run_cli ("activations", env.model, env.sample_h, "--layer", "nope", "--out", figure,
               NULL);
  assert_failure (&r, "'nope'", "cnnscope-cli info");
  run_clear (&r);
  g_assert_false (file_exists (figure));

  g_remove (bad_png);
  g_remove (truncated);
  g_remove (corrupt);
  g_free (figure);
  g_free (bad_png);
  g_free (truncated);
  g_free (corrupt);
}

/* Runs the shell command line script with $0 = cnnscope-cli, $1 = the model, $2 = a sample. */
static Run
run_shell (const char *script)
{
  const char *argv[] = { "/bin/sh", "-c", script, env.cli, env.model, env.sample_h, NULL };
  Run r = { 0 };
  int wait_status = 0;
  GError *error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r.out,
                               &r.err, &wait_status, &error));
  g_assert_no_error (error);
  r.status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  return r;
}

/* A full disk: for standard output (/dev/full), and for a figure (RLIMIT_FSIZE through ulimit,
 * SIGXFSZ ignored so that the write fails instead): exit status 1, one line naming what could
 * not be written and why, nothing left behind. */
static void
test_full_disk (void)
{
  ensure_model ();
  Run r = run_shell ("exec \"$0\" info \"$1\" --json > /dev/full");
  g_assert_cmpint (r.status, ==, 1);
  assert_failure (&r, "standard output", "No space left on device");
  run_clear (&r);

  char *dir = g_build_filename (env.dir, "full-disk", NULL);
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  char *script = g_strdup_printf ("trap '' XFSZ; ulimit -f 2; exec \"$0\" activations \"$1\" "
                                  "\"$2\" --layer conv1 --out '%s/act.pdf'", dir);
  r = run_shell (script);
  g_assert_cmpint (r.status, ==, 1);
  assert_failure (&r, "act.pdf: cannot write: File too large", NULL);
  g_assert_cmpint (test_util_count_entries (dir), ==, 0);
  run_clear (&r);
  g_free (script);
  test_util_remove_tree (dir);
  g_free (dir);
}

/* The options of the few-data and SUGAR experiments: a PFNet's bank and its size reach the
 * model file, the weight decay overrides the optimizer's whatever the order, and every epoch
 * reports its dead ReLUs and sparsity. */
static void
test_train_experiment_options (void)
{
  char *out = g_build_filename (env.dir, "pfnet-lines.safetensors", NULL);
  Run r = run_cli ("train", "--arch", "pfnet18", "--width", "0.25", "--data", env.data,
                   "--epochs", "1", "--batch", "64", "--pfm-bank", "lines", "--pfm-size", "4",
                   "--weight-decay", "0", "--optimizer", "adamw", "--lr", "0.003", "--policy",
                   "nelu:0.1", "--bn-batches", "3", "--test-per-class", "2", "--threads", "1",
                   "--out", out, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  g_assert_cmpfloat (json_number (json, "weight_decay"), ==, 0.0);
  g_assert_cmpfloat (json_number (json, "bn_batches"), ==, 3.0);
  g_assert_cmpfloat (json_number (json, "test_n"), ==, 4.0);
  const cJSON *options = cJSON_GetObjectItemCaseSensitive (json, "arch_options");
  g_assert_true (cJSON_IsString (options));
  g_assert_cmpstr (options->valuestring, ==, "pfm_bank=lines pfm_size=4");
  const cJSON *e1 = cJSON_GetArrayItem (cJSON_GetObjectItemCaseSensitive (json, "epochs"), 0);
  double dead = json_number (e1, "dead_relu"), sparsity = json_number (e1, "relu_sparsity");
  g_assert_cmpfloat (dead, >=, 0.0);
  g_assert_cmpfloat (dead, <, 1.0);
  g_assert_cmpfloat (sparsity, >, 0.0);
  g_assert_cmpfloat (sparsity, <, 1.0);
  cJSON_Delete (json);
  g_assert_nonnull (strstr (r.err, "dead ReLUs"));
  g_assert_nonnull (strstr (r.err, "weight decay 0,"));
  run_clear (&r);

  r = run_cli ("info", out, "--json", NULL);
  assert_success (&r);
  json = parse_json (&r);
  options = cJSON_GetObjectItemCaseSensitive (json, "arch_options");
  g_assert_true (cJSON_IsString (options));
  g_assert_cmpstr (options->valuestring, ==, "pfm_bank=lines pfm_size=4");
  cJSON_Delete (json);
  run_clear (&r);
  g_remove (out);

  /* Without --weight-decay, the optimizer's default. */
  r = run_cli ("train", "--arch", "smallcnn", "--width", "0.25", "--data", env.data,
               "--epochs", "1", "--optimizer", "adamw", "--threads", "1", "--out", out, "--json",
               NULL);
  assert_success (&r);
  json = parse_json (&r);
  g_assert_cmpfloat_with_epsilon (json_number (json, "weight_decay"), 0.01, 1e-7);
  cJSON_Delete (json);
  run_clear (&r);
  g_remove (out);

  r = run_cli ("train", "--arch", "pfnet18", "--data", env.data, "--pfm-bank", "edge", "--out",
               out, NULL);
  assert_failure (&r, "--pfm-bank", "'edge'");
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  r = run_cli ("train", "--arch", "pfnet18", "--data", env.data, "--pfm-bank", "edges",
               "--pfm-size", "9", "--out", out, NULL);
  assert_failure (&r, "--pfm-size", "9 kernels");
  run_clear (&r);
  r = run_cli ("train", "--arch", "resnet18", "--data", env.data, "--pfm-bank", "edges",
               "--out", out, NULL);
  assert_failure (&r, "pfnet18", "resnet18");
  run_clear (&r);
  r = run_cli ("train", "--arch", "smallcnn", "--data", env.data, "--weight-decay", "-1",
               "--out", out, NULL);
  assert_failure (&r, "--weight-decay", NULL);
  run_clear (&r);
  r = run_cli ("train", "--arch", "smallcnn", "--data", env.data, "--policy", "nelu:x",
               "--out", out, NULL);
  assert_failure (&r, "--policy", "alpha");
  run_clear (&r);
  g_assert_false (file_exists (out));
  g_free (out);
}

static void
test_bad_options (void)
{
  ensure_model ();
  char *out = g_build_filename (env.dir, "never.safetensors", NULL);
  Run r = run_cli ("train", "--arch", "smallcnn", "--data", env.data, "--epochs", "abc",
                   "--out", out, NULL);
  assert_failure (&r, "--epochs", "'abc'");
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  r = run_cli ("train", "--arch", "smallcnn", "--data", env.data, "--epochs", "0", "--out", out,
               NULL);
  assert_failure (&r, "--epochs", NULL);
  run_clear (&r);
  r = run_cli ("train", "--arch", "smallcnn", "--data", env.data, "--lr", "1e", "--out", out,
               NULL);
  assert_failure (&r, "--lr", NULL);
  run_clear (&r);
  r = run_cli ("train", "--arch", "alexnet", "--data", env.data, "--out", out, NULL);
  assert_failure (&r, "'alexnet'", NULL);
  run_clear (&r);
  r = run_cli ("train", "--arch", "smallcnn", "--data", env.data, "--optimizer", "rmsprop",
               "--out", out, NULL);
  assert_failure (&r, "rmsprop", NULL);
  run_clear (&r);
  r = run_cli ("train", "--arch", "smallcnn", "--data", env.data, NULL);
  assert_failure (&r, "--out", NULL);
  run_clear (&r);
  r = run_cli ("info", env.model, "--bogus", NULL);
  assert_failure (&r, "'--bogus'", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  r = run_cli ("info", env.model, "--json=yes", NULL);
  assert_failure (&r, "--json", NULL);
  run_clear (&r);
  r = run_cli ("predict", env.model, env.sample_h, "--top", NULL);
  assert_failure (&r, "--top", "needs a value");
  run_clear (&r);
  r = run_cli ("predict", env.model, env.sample_h, "--top", "3", NULL);
  assert_failure (&r, "--top", "2 classes");
  run_clear (&r);
  r = run_cli ("predict", env.model, NULL);
  assert_failure (&r, "INPUT", NULL);
  run_clear (&r);

  /* Training that fails on its data writes nothing. */
  char *missing = g_build_filename (env.dir, "no-such-data", NULL);
  r = run_cli ("train", "--arch", "smallcnn", "--data", missing, "--out", out, NULL);
  assert_failure (&r, missing, NULL);
  run_clear (&r);
  char *bad_out = g_build_filename (env.dir, "no-such-dir", "m.safetensors", NULL);
  r = run_cli ("train", "--arch", "smallcnn", "--data", env.data, "--out", bad_out, NULL);
  assert_failure (&r, bad_out, NULL);
  run_clear (&r);
  g_assert_false (file_exists (out));
  g_free (bad_out);
  g_free (missing);
  g_free (out);
}

/* synth ct --version 2: slices of chest volumes in the version-1 layout (classes healthy,
 * covid, pneumonia, listed in slices.csv, the same bytes from the same seed, read by train),
 * NIfTI volumes with their lesion masks, and the options only version 2 takes. */
static void
test_synth_ct2 (void)
{
  char *root = g_build_filename (env.dir, "ct2", NULL);
  char *train = g_build_filename (root, "train", NULL);
  char *test = g_build_filename (root, "test", NULL);
  char *again = g_build_filename (env.dir, "ct2-again", NULL);
  Run r = run_cli ("synth", "ct", "--version", "2", "--count", "6", "--seed", "5", "--size",
                   "32", "--out", train, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  const cJSON *classes = cJSON_GetObjectItem (json, "classes");
  g_assert_cmpfloat (json_number (classes, "healthy"), ==, 2.0);
  g_assert_cmpfloat (json_number (classes, "covid"), ==, 2.0);
  g_assert_cmpfloat (json_number (classes, "pneumonia"), ==, 2.0);
  g_assert_cmpfloat (json_number (json, "version"), ==, 2.0);
  g_assert_true (cJSON_IsTrue (cJSON_GetObjectItem (json, "acquisition")));
  cJSON_Delete (json);
  run_clear (&r);
  r = run_cli ("synth", "ct", "--version", "2", "--count", "6", "--seed", "5", "--size", "32",
               "--out", again, NULL);
  assert_success (&r);
  run_clear (&r);
  r = run_cli ("synth", "ct", "--version", "2", "--count", "3", "--seed", "6", "--size", "32",
               "--out", test, NULL);
  assert_success (&r);
  run_clear (&r);
  const char *names[3] = { "healthy", "covid", "pneumonia" };
  for (int i = 0; i < 6; i++)
    {
      char *file = g_strdup_printf ("%04d.png", i);
      char *path = g_build_filename (train, names[i % 3], file, NULL);
      char *twin = g_build_filename (again, names[i % 3], file, NULL);
      char *a, *b;
      gsize na, nb;
      g_assert_true (g_file_get_contents (path, &a, &na, NULL));
      g_assert_true (g_file_get_contents (twin, &b, &nb, NULL));
      g_assert_cmpmem (a, na, b, nb);
      g_free (a);
      g_free (b);
      /* A lesion slice for the lesion classes, none in a healthy one. */
      char *mask_name = g_strdup_printf ("%04d.mask.png", i);
      char *mask_path = g_build_filename (train, names[i % 3], mask_name, NULL);
      NnError err = { 0 };
      NnImage *mask = nn_image_load (mask_path, &err);
      g_assert_nonnull (mask);
      int area = 0;
      for (int p = 0; p < 32 * 32; p++)
        area += mask->data[p] > 0.5f;
      if (i % 3 == 0)
        g_assert_cmpint (area, ==, 0);
      else
        g_assert_cmpint (area, >=, 4);
      nn_image_free (mask);
      g_free (mask_path);
      g_free (mask_name);
      g_free (twin);
      g_free (path);
      g_free (file);
    }
  char *csv = g_build_filename (train, "slices.csv", NULL);
  char *text;
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_true (g_str_has_prefix (text, "file,class,pattern,slice,"));
  g_assert_nonnull (strstr (text, "pneumonia/0005.png,pneumonia,"));
  g_free (text);
  g_free (csv);

  char *model = g_build_filename (env.dir, "ct2.safetensors", NULL);
  r = run_cli ("train", "--arch", "smallcnn", "--data", root, "--epochs", "1", "--out", model,
               NULL);
  assert_success (&r);
  run_clear (&r);
  g_assert_true (file_exists (model));

  /* Volumes: the HU volume and its mask, LPS, the mask empty for healthy only. */
  char *vols = g_build_filename (env.dir, "ct2-volumes", NULL);
  r = run_cli ("synth", "ct", "--version", "2", "--volumes", "--count", "3", "--seed", "2",
               "--size", "32", "--slices", "16", "--out", vols, NULL);
  assert_success (&r);
  run_clear (&r);
  for (int i = 0; i < 3; i++)
    {
      char *file = g_strdup_printf ("%04d.nii.gz", i);
      char *mask_file = g_strdup_printf ("%04d.mask.nii.gz", i);
      char *path = g_build_filename (vols, names[i], file, NULL);
      char *mask_path = g_build_filename (vols, names[i], mask_file, NULL);
      NnError err = { 0 };
      NnVolume *v = nn_volume_load (path, &err), *m = nn_volume_load (mask_path, &err);
      g_assert_nonnull (v);
      g_assert_nonnull (m);
      g_assert_cmpint (v->nx, ==, 32);
      g_assert_cmpint (v->nz, ==, 16);
      g_assert_true (v->hu);
      char codes[4];
      nn_volume_orientation (v, codes);
      g_assert_cmpstr (codes, ==, "LPS");
      size_t voxels = 0;
      for (size_t p = 0; p < (size_t) 32 * 32 * 16; p++)
        voxels += m->data[p] > 0.0f;
      if (i == 0)
        g_assert_cmpuint (voxels, ==, 0);
      else
        g_assert_cmpuint (voxels, >, 0);
      nn_volume_free (v);
      nn_volume_free (m);
      g_free (path);
      g_free (mask_path);
      g_free (file);
      g_free (mask_file);
    }
  csv = g_build_filename (vols, "volumes.csv", NULL);
  g_assert_true (file_exists (csv));
  g_free (csv);

  r = run_cli ("synth", "ct", "--volumes", "--count", "1", "--out", vols, NULL);
  assert_failure (&r, "need --version 2", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  r = run_cli ("synth", "ct", "--version", "3", "--count", "1", "--out", vols, NULL);
  assert_failure (&r, "version", NULL);
  run_clear (&r);
  g_free (vols);
  g_free (model);
  g_free (again);
  g_free (test);
  g_free (train);
  g_free (root);
}

/* synth baseline: on version-1 slices a rule on the bins from -700 to -300 HU tells COVID from
 * the rest (the reason for version 2); the JSON, and a set that is not CT. */
static void
test_synth_baseline (void)
{
  char *root = g_build_filename (env.dir, "baseline", NULL);
  char *train = g_build_filename (root, "train", NULL);
  char *test = g_build_filename (root, "test", NULL);
  Run r = run_cli ("synth", "ct", "--count", "45", "--seed", "3", "--size", "48", "--out", train,
                   NULL);
  assert_success (&r);
  run_clear (&r);
  r = run_cli ("synth", "ct", "--count", "30", "--seed", "4", "--size", "48", "--out", test,
               NULL);
  assert_success (&r);
  run_clear (&r);
  r = run_cli ("synth", "baseline", root, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  g_assert_cmpfloat (json_number (json, "train"), ==, 45.0);
  g_assert_cmpfloat (json_number (json, "test"), ==, 30.0);
  g_assert_cmpfloat (fabs (json_number (json, "majority") - 1.0 / 3.0), <, 1e-9);
  const cJSON *two = cJSON_GetObjectItem (json, "two_thresholds");
  g_assert_cmpfloat (json_number (two, "thresholds"), ==, 2.0);
  g_assert_cmpfloat (json_number (two, "train_accuracy"), >=,
                     json_number (cJSON_GetObjectItem (json, "one_threshold"),
                                  "train_accuracy"));
  g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (two, "classes")), ==, 3);
  const cJSON *covid = cJSON_GetObjectItem (cJSON_GetObjectItem (json, "one_vs_rest"), "covid");
  g_assert_cmpfloat (json_number (covid, "train_accuracy"), >=, 0.95);
  g_assert_cmpfloat (json_number (covid, "test_accuracy"), >=, 0.9);
  const char *feature = cJSON_GetObjectItem (covid, "feature")->valuestring;
  g_assert_true (strstr (feature, "-600") != NULL || strstr (feature, "-500") != NULL);
  cJSON_Delete (json);
  run_clear (&r);
  /* Without --json, readable lines on stdout. */
  r = run_cli ("synth", "baseline", train, test, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "best rule, two thresholds: "));
  g_assert_nonnull (strstr (r.out, "covid vs the rest: "));
  run_clear (&r);
  r = run_cli ("synth", "baseline", env.data, NULL);
  assert_failure (&r, "not a CT dataset", NULL);
  run_clear (&r);
  r = run_cli ("synth", "baseline", NULL);
  assert_failure (&r, "expected DATA [TEST]", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  g_free (test);
  g_free (train);
  g_free (root);
}

/* SIGINT during training: a clean stop, exit 130, and no model (nor temporary file). */
/* synth ct: the layout, determinism, DICOM holding the same HU as the 16-bit PNG, training
 * reading it as CT with a window stored in the model, predict on .dcm and .png alike. */
static void
test_synth_ct (void)
{
  char *root = g_build_filename (env.dir, "ct", NULL);
  char *train = g_build_filename (root, "train", NULL);
  char *test = g_build_filename (root, "test", NULL);
  char *again = g_build_filename (env.dir, "ct-again", NULL);
  Run r = run_cli ("synth", "ct", "--count", "9", "--seed", "5", "--size", "32", "--out", train,
                   "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  const cJSON *classes = cJSON_GetObjectItem (json, "classes");
  g_assert_cmpfloat (json_number (classes, "healthy"), ==, 3.0);
  g_assert_cmpfloat (json_number (classes, "covid"), ==, 3.0);
  g_assert_cmpfloat (json_number (classes, "other"), ==, 3.0);
  cJSON_Delete (json);
  run_clear (&r);
  r = run_cli ("synth", "ct", "--count", "3", "--seed", "6", "--size", "32", "--out", test,
               NULL);
  assert_success (&r);
  run_clear (&r);
  r = run_cli ("synth", "ct", "--count", "9", "--seed", "5", "--size", "32", "--out", again,
               NULL);
  assert_success (&r);
  run_clear (&r);

  /* Slice i of class i % 3: four files each; the same seed gives the same bytes. */
  const char *names[3] = { "healthy", "covid", "other" };
  for (int i = 0; i < 9; i++)
    {
      const char *exts[4] = { ".png", ".lung.png", ".mask.png", ".dcm" };
      for (int e = 0; e < 4; e++)
        {
          char *file = g_strdup_printf ("%04d%s", i, exts[e]);
          char *path = g_build_filename (train, names[i % 3], file, NULL);
          char *twin = g_build_filename (again, names[i % 3], file, NULL);
          g_assert_true (file_exists (path));
          if (e < 3)
            {
              char *a, *b;
              gsize na, nb;
              g_assert_true (g_file_get_contents (path, &a, &na, NULL));
              g_assert_true (g_file_get_contents (twin, &b, &nb, NULL));
              g_assert_cmpmem (a, na, b, nb);
              g_free (a);
              g_free (b);
            }
          g_free (twin);
          g_free (path);
          g_free (file);
        }
    }
  char *png = g_build_filename (train, "covid", "0001.png", NULL);
  char *dcm = g_build_filename (train, "covid", "0001.dcm", NULL);
  NnError err = { 0 };
  NnImage *a = nn_ct_load (png, &err), *b = nn_ct_load (dcm, &err);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_true (a->hu && b->hu);
  g_assert_cmpint (a->h, ==, 32);
  for (int i = 0; i < 32 * 32; i++)
    g_assert_cmpfloat (a->data[i], ==, b->data[i]);
  nn_image_free (a);
  nn_image_free (b);

  char *model = g_build_filename (env.dir, "ct.safetensors", NULL);
  r = run_cli ("train", "--arch", "smallcnn", "--data", root, "--epochs", "1", "--window",
               "bone", "--out", model, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.err, "bone (W 2000, L 300)"));
  run_clear (&r);
  r = run_cli ("info", model, "--json", NULL);
  json = parse_json (&r);
  const cJSON *window = cJSON_GetObjectItem (json, "ct_window");
  g_assert_cmpfloat (json_number (window, "width"), ==, 2000.0);
  g_assert_cmpfloat (json_number (window, "level"), ==, 300.0);
  g_assert_cmpstr (cJSON_GetObjectItem (window, "name")->valuestring, ==, "bone");
  cJSON_Delete (json);
  run_clear (&r);

  /* The DICOM and the 16-bit PNG of a slice give the same logits. */
  char *logits = g_build_filename (env.dir, "ct-logits.npy", NULL);
  r = run_cli ("predict", model, png, dcm, "--logits-npy", logits, NULL);
  assert_success (&r);
  run_clear (&r);
  NnNpy *npy = nn_npy_load (logits, &err);
  g_assert_nonnull (npy);
  g_assert_cmpint (npy->dims[0], ==, 2);
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat (npy->data[k], ==, npy->data[3 + k]);
  nn_npy_free (npy);

  r = run_cli ("eval", model, root, "--json", NULL);
  assert_success (&r);
  json = parse_json (&r);
  g_assert_cmpfloat (json_number (json, "n"), ==, 3.0);
  cJSON_Delete (json);
  run_clear (&r);

  /* activations --window: a CT model keeps its own window; another model reads the slice
   * through the one given, and without one as (HU + 1024) / 65535. */
  ensure_model ();
  char *act[4];
  const char *act_models[4] = { model, model, env.model, env.model };
  const char *act_layers[4] = { "conv1", "conv1", "relu1", "relu1" };
  const char *act_windows[4] = { "lung", NULL, "lung", NULL };
  for (int k = 0; k < 4; k++)
    {
      char *name = g_strdup_printf ("act%d.npy", k);
      act[k] = g_build_filename (env.dir, name, NULL);
      char *fig = g_build_filename (env.dir, "act.png", NULL);
      r = act_windows[k] != NULL
          ? run_cli ("activations", act_models[k], dcm, "--layer", act_layers[k], "--out", fig,
                     "--npy", act[k], "--window", act_windows[k], NULL)
          : run_cli ("activations", act_models[k], dcm, "--layer", act_layers[k], "--out", fig,
                     "--npy", act[k], NULL);
      assert_success (&r);
      run_clear (&r);
      g_free (fig);
      g_free (name);
    }
  char *c0, *c1;
  gsize n0, n1;
  g_assert_true (g_file_get_contents (act[0], &c0, &n0, NULL));
  g_assert_true (g_file_get_contents (act[1], &c1, &n1, NULL));
  g_assert_cmpmem (c0, n0, c1, n1);
  g_free (c0);
  g_free (c1);
  g_assert_true (g_file_get_contents (act[2], &c0, &n0, NULL));
  g_assert_true (g_file_get_contents (act[3], &c1, &n1, NULL));
  g_assert_cmpuint (n0, ==, n1);
  g_assert_true (memcmp (c0, c1, n0) != 0);
  g_free (c0);
  g_free (c1);
  for (int k = 0; k < 4; k++)
    {
      g_remove (act[k]);
      g_free (act[k]);
    }

  /* Bad input. */
  r = run_cli ("synth", "blobs", "--count", "3", "--out", again, NULL);
  assert_failure (&r, "unknown kind 'blobs'", NULL);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
  r = run_cli ("synth", "ct", "--out", again, NULL);
  assert_failure (&r, "--count", NULL);
  run_clear (&r);
  r = run_cli ("synth", "ct", "--count", "1", "--window", "0,5", "--out", again, NULL);
  assert_failure (&r, "bad window", NULL);
  run_clear (&r);
  r = run_cli ("train", "--arch", "smallcnn", "--data", env.data, "--epochs", "1", "--window",
               "lung", "--out", model, NULL);
  assert_failure (&r, "not a CT dataset", NULL);
  run_clear (&r);
  char *text = g_build_filename (env.dir, "text.dcm", NULL);
  test_util_write_file (text, "not dicom", 9);
  r = run_cli ("predict", model, text, NULL);
  assert_failure (&r, text, "not a DICOM file");
  run_clear (&r);

  g_free (text);
  g_free (logits);
  g_free (model);
  g_free (png);
  g_free (dcm);
  test_util_remove_tree (again);
  test_util_remove_tree (root);
  g_free (again);
  g_free (test);
  g_free (train);
  g_free (root);
}

static void
test_train_cancel (void)
{
  char *out = g_build_filename (env.dir, "cancelled.safetensors", NULL);
  int before = test_util_count_entries (env.dir);
  const char *argv[] = {
    env.cli, "train", "--arch", "smallcnn", "--width", "0.25", "--data", env.data, "--epochs",
    "100000", "--batch", "4", "--out", out, NULL,
  };
  GPid pid;
  int err_fd;
  GError *error = NULL;
  g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                           G_SPAWN_DO_NOT_REAP_CHILD
                                           | G_SPAWN_STDOUT_TO_DEV_NULL,
                                           NULL, NULL, &pid, NULL, NULL, &err_fd, &error));
  g_assert_no_error (error);
  /* Wait until training runs (its first epoch line), then interrupt. */
  GString *text = g_string_new (NULL);
  char buf[256];
  while (strstr (text->str, "epoch 1/") == NULL)
    {
      ssize_t n = read (err_fd, buf, sizeof buf);
      g_assert_cmpint (n, >, 0);
      g_string_append_len (text, buf, n);
    }
  g_assert_cmpint (kill (pid, SIGINT), ==, 0);
  ssize_t n;
  while ((n = read (err_fd, buf, sizeof buf)) > 0)
    g_string_append_len (text, buf, n);
  close (err_fd);
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 130);
  g_assert_nonnull (strstr (text->str, "cnnscope-cli: training cancelled"));
  g_assert_nonnull (strstr (text->str, out));
  g_assert_false (file_exists (out));
  g_assert_cmpint (test_util_count_entries (env.dir), ==, before);
  g_string_free (text, TRUE);
  g_free (out);
}

/* convert on an ONNX model from Debian's conformance data: the result keeps the layers and
 * stores the normalization given; info opens the .onnx itself too. */
static void
test_convert (void)
{
  const char *onnx = "/usr/share/libonnx-testdata/data/node/test_averagepool_2d_default/"
                     "model.onnx";
  if (!file_exists (onnx))
    {
      g_test_skip ("libonnx-testdata is not installed");
      return;
    }
  char *out = g_build_filename (env.dir, "converted.safetensors", NULL);
  Run r = run_cli ("convert", onnx, "--out", out, "--mean", "0.5", "--std", "0.25", "--json",
                   NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  g_assert_cmpfloat (json_number (json, "layers"), ==, 2);
  g_assert_cmpfloat (json_number (json, "outputs"), ==, 3 * 31 * 31);
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive (json, "input_shape");
  g_assert_cmpint (cJSON_GetArraySize (shape), ==, 3);
  g_assert_cmpfloat (cJSON_GetArrayItem (shape, 2)->valuedouble, ==, 32);
  cJSON_Delete (json);
  run_clear (&r);

  r = run_cli ("info", out, "--json", NULL);
  assert_success (&r);
  json = parse_json (&r);
  const cJSON *std = cJSON_GetObjectItemCaseSensitive (json, "std");
  g_assert_cmpint (cJSON_GetArraySize (std), ==, 3);
  g_assert_cmpfloat (cJSON_GetArrayItem (std, 2)->valuedouble, ==, 0.25);
  cJSON_Delete (json);
  run_clear (&r);

  r = run_cli ("info", onnx, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "avgpool"));
  run_clear (&r);

  r = run_cli ("convert", onnx, "--out", out, "--mean", "1,2", "--std", "1,2", NULL);
  assert_failure (&r, "2 --mean/--std values", "3 input channels");
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);

  r = run_cli ("convert", env.sample_h, "--out", out, NULL);
  assert_failure (&r, env.sample_h, "ONNX");
  g_assert_cmpint (r.status, ==, 1);
  run_clear (&r);
  g_free (out);
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
  env.model = g_build_filename (env.dir, "model.safetensors", NULL);
  make_dataset ();

  g_test_add_func ("/cli/usage", test_usage);
  g_test_add_func ("/cli/train", test_train);
  g_test_add_func ("/cli/train-experiment-options", test_train_experiment_options);
  g_test_add_func ("/cli/full-disk", test_full_disk);
  g_test_add_func ("/cli/train-cancel", test_train_cancel);
  g_test_add_func ("/cli/info", test_info);
  g_test_add_func ("/cli/predict", test_predict);
  g_test_add_func ("/cli/eval", test_eval);
  g_test_add_func ("/cli/ood-fit", test_ood_fit);
  g_test_add_func ("/cli/activations", test_activations);
  g_test_add_func ("/cli/embed", test_embed);
  g_test_add_func ("/cli/examples", test_examples);
  g_test_add_func ("/cli/snapshots-compare", test_snapshots_compare);
  g_test_add_func ("/cli/train-probes", test_train_probes);
  g_test_add_func ("/cli/filters", test_filters);
  g_test_add_func ("/cli/am", test_am);
  g_test_add_func ("/cli/am-bad-input", test_am_bad_input);
  g_test_add_func ("/cli/bench", test_bench);
  g_test_add_func ("/cli/bad-files", test_bad_files);
  g_test_add_func ("/cli/bad-options", test_bad_options);
  g_test_add_func ("/cli/convert", test_convert);
  g_test_add_func ("/cli/synth-ct", test_synth_ct);
  g_test_add_func ("/cli/synth-ct2", test_synth_ct2);
  g_test_add_func ("/cli/synth-baseline", test_synth_baseline);
  int status = g_test_run ();

  test_util_remove_tree (env.dir);
  g_free (env.sample_h);
  g_free (env.sample_v);
  g_free (env.model);
  g_free (env.data);
  g_free (env.dir);
  g_free (env.cli);
  return status;
}
