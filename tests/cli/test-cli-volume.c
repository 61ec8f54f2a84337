/* SPDX-License-Identifier: MIT */
/* cnnscope-cli on volumes and in shards, end to end with the hand-set oriented-dashes model:
 * predict and cam on a NIfTI volume of dash images (one JSON line per slice, the class of each
 * known; out-of-distribution scores per slice), the attribution volume's geometry and the
 * montage, a DICOM series folder, several series, broken volumes, and --shard: the parts'
 * outputs concatenated equal the whole run's (predict and cam on a volume, cam on a folder;
 * eval's parts sum to the whole). */
#include <cjson/cJSON.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "nn.h"
#include "test-dicom.h"
#include "test-util.h"

#define S      NN_DASHES_SIZE
#define SLICES 5

typedef struct
{
  char     *cli;
  char     *dir;
  char     *model;           /* the dashes model */
  char     *volume;          /* SLICES dash images as a NIfTI volume */
  int       label[SLICES];   /* the class of each slice */
  NnVolume *read;            /* the volume as written */
  char     *mask;            /* the dashes of each slice's class, as a NIfTI mask volume */
  char     *set;             /* a folder of 6 images */
} Env;

static Env env;

typedef struct
{
  int   status;
  char *out;
  char *err;
} Run;

static Run
run_argv (const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, env.cli);
  for (int i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  Run r = { 0 };
  int wait_status = 0;
  GError *error = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &r.out, &r.err, &wait_status, &error));
  g_assert_no_error (error);
  r.status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  g_ptr_array_free (argv, TRUE);
  return r;
}

#define run_cli(...) run_argv ((const char *const[]) { __VA_ARGS__, NULL })

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
  memset (r, 0, sizeof *r);
}

static void
assert_success (const Run *r)
{
  if (r->status != 0)
    g_error ("expected success, got status %d; stderr: %s", r->status, r->err);
}

static void
assert_failure (const Run  *r,
                const char *word1,
                const char *word2)
{
  if (r->status <= 0)
    g_error ("expected a failure, got status %d; stderr: %s", r->status, r->err);
  g_assert_true (g_str_has_prefix (r->err, "cnnscope-cli: "));
  if (word1 != NULL && strstr (r->err, word1) == NULL)
    g_error ("stderr '%s' lacks '%s'", r->err, word1);
  if (word2 != NULL && strstr (r->err, word2) == NULL)
    g_error ("stderr '%s' lacks '%s'", r->err, word2);
}

static char *
path (const char *name)
{
  return g_build_filename (env.dir, name, NULL);
}

/* The lines of text (without the empty one after the last newline), parsed as JSON. */
static cJSON **
json_lines (const char *text,
            int        *n)
{
  char **lines = g_strsplit (text, "\n", -1);
  int count = 0;
  while (lines[count] != NULL && lines[count][0] != '\0')
    count++;
  g_assert_null (lines[count + (lines[count] != NULL)]);
  cJSON **out = g_new0 (cJSON *, count + 1);
  for (int i = 0; i < count; i++)
    if ((out[i] = cJSON_Parse (lines[i])) == NULL)
      g_error ("line %d is not JSON: %s", i, lines[i]);
  g_strfreev (lines);
  *n = count;
  return out;
}

static void
json_lines_free (cJSON **lines,
                 int     n)
{
  for (int i = 0; i < n; i++)
    cJSON_Delete (lines[i]);
  g_free (lines);
}

static double
number (const cJSON *o,
        const char  *key)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (o, key);
  if (!cJSON_IsNumber (item))
    g_error ("'%s' is not a number", key);
  return item->valuedouble;
}

static int
top_class (const cJSON *line)
{
  const cJSON *top = cJSON_GetObjectItem (line, "top");
  g_assert_true (cJSON_IsArray (top));
  return (int) number (cJSON_GetArrayItem (top, 0), "class");
}

static void
setup (void)
{
  env.cli = g_build_filename (g_getenv ("CNNSCOPE_BUILD_DIR"), "cli", "cnnscope-cli", NULL);
  env.dir = test_util_make_tmp_dir ();
  env.model = path ("dashes.safetensors");
  NnModel *model = nn_synth_dashes_model_new (S);
  NnError err = { 0 };
  g_assert_true (nn_model_save (model, env.model, &err));
  nn_model_free (model);

  /* Slices of dash images with a clear majority; i runs to the patient's right (R), so that
   * the volume is flipped left-right when cut into axial slices: dashes stay horizontal or
   * vertical. */
  NnVolume *v = nn_volume_new (S, S, SLICES);
  NnVolume *mask = nn_volume_new (S, S, SLICES);
  NnRng rng;
  nn_rng_init (&rng, 5);
  uint8_t orient[S * S];
  for (int k = 0; k < SLICES; k++)
    {
      NnDashesInfo info;
      do
        nn_synth_dashes_draw (v->data + (size_t) k * S * S, orient, S, &rng, &info);
      while (abs (info.n_horizontal - info.n_vertical) < 2);
      env.label[k] = info.label;
      for (int p = 0; p < S * S; p++)
        mask->data[(size_t) k * S * S + p] = orient[p] == info.label + 1 ? 1.0f : 0.0f;
    }
  const double affine[3][4] = {
    { 0.7, 0.0, 0.0, -20.0 }, { 0.0, -0.7, 0.0, 15.0 }, { 0.0, 0.0, 3.0, -40.0 },
  };
  memcpy (v->affine, affine, sizeof affine);
  v->spacing[0] = v->spacing[1] = 0.7;
  v->spacing[2] = 3.0;
  v->qform_code = 1;
  v->sform_code = 1;
  env.volume = path ("dashes.nii.gz");
  g_assert_true (nn_volume_save_nifti (v, "dashes", env.volume, &err));
  env.read = v;
  memcpy (mask->affine, v->affine, sizeof mask->affine);
  memcpy (mask->spacing, v->spacing, sizeof mask->spacing);
  env.mask = path ("mask.nii.gz");
  g_assert_true (nn_volume_save_nifti (mask, "lesions", env.mask, &err));
  nn_volume_free (mask);

  env.set = path ("set");
  Run r = run_cli ("synth", "dashes", "--count", "6", "--seed", "11", "--out", env.set);
  assert_success (&r);
  run_clear (&r);
}

static void
teardown (void)
{
  test_util_remove_tree (env.dir);
  g_free (env.dir);
  g_free (env.cli);
  g_free (env.model);
  g_free (env.volume);
  g_free (env.mask);
  g_free (env.set);
  nn_volume_free (env.read);
}

/* predict on a volume: one line per slice along z with its known class; the shards' outputs
 * concatenated are the whole run's. */
static void
test_predict_volume (void)
{
  Run r = run_cli ("predict", env.model, env.volume, "--top", "2");
  assert_success (&r);
  int n = 0;
  cJSON **lines = json_lines (r.out, &n);
  g_assert_cmpint (n, ==, SLICES);
  for (int k = 0; k < n; k++)
    {
      g_assert_cmpint ((int) number (lines[k], "slice"), ==, k);
      g_assert_cmpint ((int) number (lines[k], "slices"), ==, SLICES);
      g_assert_cmpfloat (fabs (number (lines[k], "z_mm") - (-40.0 + 3.0 * k)), <, 1e-9);
      g_assert_cmpint (top_class (lines[k]), ==, env.label[k]);
      g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (lines[k], "top")), ==, 2);
    }
  json_lines_free (lines, n);
  g_assert_nonnull (strstr (r.err, "slice 5 of 5"));

  GString *parts = g_string_new ("");
  for (int i = 0; i < 3; i++)
    {
      char shard[16];
      g_snprintf (shard, sizeof shard, "%d/3", i);
      Run p = run_cli ("predict", env.model, env.volume, "--top", "2", "--shard", shard);
      assert_success (&p);
      g_string_append (parts, p.out);
      run_clear (&p);
    }
  g_assert_cmpstr (parts->str, ==, r.out);
  g_string_free (parts, TRUE);
  run_clear (&r);

  /* Files and folders: --jsonl gives a line per input, and its shards concatenate too. */
  r = run_cli ("predict", env.model, env.set, "--jsonl");
  assert_success (&r);
  lines = json_lines (r.out, &n);
  g_assert_cmpint (n, ==, 6);
  for (int i = 0; i < n; i++)
    {
      const char *input = cJSON_GetObjectItem (lines[i], "input")->valuestring;
      g_assert_cmpint (top_class (lines[i]), ==, strstr (input, "/vertical/") != NULL);
    }
  json_lines_free (lines, n);
  GString *joined = g_string_new ("");
  for (int i = 0; i < 4; i++)
    {
      char shard[16];
      g_snprintf (shard, sizeof shard, "%d/4", i);
      Run p = run_cli ("predict", env.model, env.set, "--jsonl", "--shard", shard);
      assert_success (&p);
      g_string_append (joined, p.out);
      run_clear (&p);
    }
  g_assert_cmpstr (joined->str, ==, r.out);
  g_string_free (joined, TRUE);
  run_clear (&r);
}

/* predict on a volume with out-of-distribution statistics (fitted here on the dash set): each
 * slice's line has its score against the threshold; --ood none leaves them out. */
static void
test_predict_volume_ood (void)
{
  char *stats = path ("stats.ood.json");
  Run r = run_cli ("ood-fit", env.model, env.set, "--out", stats);
  assert_success (&r);
  run_clear (&r);
  r = run_cli ("predict", env.model, env.volume, "--ood", stats);
  assert_success (&r);
  int n = 0;
  cJSON **lines = json_lines (r.out, &n);
  g_assert_cmpint (n, ==, SLICES);
  for (int k = 0; k < n; k++)
    {
      const cJSON *ood = cJSON_GetObjectItem (lines[k], "ood");
      g_assert_nonnull (ood);
      double score = number (ood, "score"), threshold = number (ood, "threshold");
      g_test_message ("slice %d: out-of-distribution score %.3f, threshold %.3f", k, score,
                      threshold);
      g_assert_true (isfinite (score) && score > 0.0);
      g_assert_cmpint (cJSON_IsTrue (cJSON_GetObjectItem (ood, "far")), ==, score > threshold);
    }
  json_lines_free (lines, n);
  run_clear (&r);
  r = run_cli ("predict", env.model, env.volume, "--ood", "none");
  assert_success (&r);
  g_assert_null (strstr (r.out, "\"ood\""));
  run_clear (&r);
  g_free (stats);
}

/* cam on a volume: JSON lines, the attribution volume over the input's geometry (same affine
 * and codes), a montage; a shard fills only its slices. */
static void
test_cam_volume (void)
{
  char *out = path ("attr.nii.gz"), *montage = path ("attr.png");
  Run r = run_cli ("cam", env.model, env.volume, "--out", out);
  assert_success (&r);
  int n = 0;
  cJSON **lines = json_lines (r.out, &n);
  g_assert_cmpint (n, ==, SLICES);
  for (int k = 0; k < n; k++)
    {
      g_assert_cmpint ((int) number (lines[k], "slice"), ==, k);
      g_assert_cmpint ((int) number (lines[k], "class"), ==, env.label[k]);
      g_assert_cmpstr (cJSON_GetObjectItem (lines[k], "method")->valuestring, ==, "gradcam");
    }
  json_lines_free (lines, n);
  NnError err = { 0 };
  NnVolume *attr = nn_volume_load (out, &err);
  if (attr == NULL)
    g_error ("%s", err.message);
  g_assert_cmpint (attr->nx, ==, S);
  g_assert_cmpint (attr->ny, ==, S);
  g_assert_cmpint (attr->nz, ==, SLICES);
  g_assert_cmpint (attr->sform_code, ==, 1);
  g_assert_cmpint (attr->qform_code, ==, 1);
  for (int row = 0; row < 3; row++)
    for (int c = 0; c < 4; c++)
      g_assert_cmpfloat (fabs (attr->affine[row][c] - env.read->affine[row][c]), <, 1e-6);
  /* Grad-CAM of the exact model lies on the dashes of the slice's class, in the volume's own
   * voxel order (not the flipped one the slices were explained in). */
  for (int k = 0; k < SLICES; k++)
    {
      double total = 0.0, on_dashes = 0.0;
      for (int p = 0; p < S * S; p++)
        {
          float a = attr->data[(size_t) k * S * S + p];
          total += a;
          on_dashes += env.read->data[(size_t) k * S * S + p] > 0.25f ? a : 0.0;
        }
      g_assert_cmpfloat (total, >, 0.0);
      g_assert_cmpfloat (on_dashes / total, >, 0.5);
    }
  NnImage *png = nn_image_load (montage, &err);
  g_assert_nonnull (png);
  g_assert_cmpint (png->w, ==, 1200);
  nn_image_free (png);
  run_clear (&r);

  /* Shards: the JSON lines concatenate to the whole; each NIfTI holds its slices only. */
  char *whole_out = NULL;
  r = run_cli ("cam", env.model, env.volume);
  assert_success (&r);
  whole_out = g_strdup (r.out);
  run_clear (&r);
  GString *joined = g_string_new ("");
  for (int i = 0; i < 2; i++)
    {
      char shard[16], name[32];
      g_snprintf (shard, sizeof shard, "%d/2", i);
      g_snprintf (name, sizeof name, "part%d.nii", i);
      char *part = path (name);
      Run p = run_cli ("cam", env.model, env.volume, "--shard", shard, "--out", part);
      assert_success (&p);
      g_string_append (joined, p.out);
      NnVolume *v = nn_volume_load (part, &err);
      g_assert_nonnull (v);
      /* Part 0 of 2 of 5 slices is slices 0 and 1. */
      for (int k = 0; k < SLICES; k++)
        {
          double sum = 0.0;
          for (int q = 0; q < S * S; q++)
            sum += fabs (v->data[(size_t) k * S * S + q] - attr->data[(size_t) k * S * S + q]);
          if ((k < 2) == (i == 0))
            g_assert_cmpfloat (sum, ==, 0.0);
          else
            for (int q = 0; q < S * S; q++)
              g_assert_cmpfloat (v->data[(size_t) k * S * S + q], ==, 0.0f);
        }
      nn_volume_free (v);
      run_clear (&p);
      g_free (part);
    }
  g_assert_cmpstr (joined->str, ==, whole_out);
  g_string_free (joined, TRUE);
  g_free (whole_out);
  nn_volume_free (attr);
  g_free (out);
  g_free (montage);
}

/* A lesion mask volume gives each slice with a lesion the pointing game and energy share. */
static void
test_cam_volume_mask (void)
{
  Run r = run_cli ("cam", env.model, env.volume, "--mask", env.mask);
  assert_success (&r);
  int n = 0;
  cJSON **lines = json_lines (r.out, &n);
  g_assert_cmpint (n, ==, SLICES);
  for (int k = 0; k < n; k++)
    {
      const cJSON *metrics = cJSON_GetObjectItem (lines[k], "metrics");
      g_assert_nonnull (metrics);
      g_assert_true (cJSON_IsTrue (cJSON_GetObjectItem (metrics, "pointing_game")));
      g_assert_cmpfloat (number (metrics, "energy_share"), >, 0.99);
    }
  json_lines_free (lines, n);
  g_assert_nonnull (strstr (r.err, "pointing game: 5 of 5 slices with a lesion"));
  run_clear (&r);
  /* A mask that is not on the scan's grid. */
  char *other = path ("other-mask.nii");
  NnVolume *m = nn_volume_new (S, S, SLICES - 1);
  NnError err = { 0 };
  g_assert_true (nn_volume_save_nifti (m, NULL, other, &err));
  nn_volume_free (m);
  r = run_cli ("cam", env.model, env.volume, "--mask", other);
  assert_failure (&r, other, "does not lie on the scan's voxel grid");
  run_clear (&r);
  g_free (other);
}

/* cam on a folder in shards: the metrics CSVs (a header in part 0 only) concatenate to the
 * whole run's metrics.csv. */
static void
test_cam_folder_shards (void)
{
  char *out = path ("batch");
  Run r = run_cli ("cam", env.model, env.set, "--out", out);
  assert_success (&r);
  run_clear (&r);
  char *csv = g_build_filename (out, "metrics.csv", NULL), *whole = NULL;
  g_assert_true (g_file_get_contents (csv, &whole, NULL, NULL));
  GString *joined = g_string_new ("");
  for (int i = 0; i < 4; i++)
    {
      char shard[16], name[64];
      g_snprintf (shard, sizeof shard, "%d/4", i);
      r = run_cli ("cam", env.model, env.set, "--out", out, "--shard", shard);
      assert_success (&r);
      run_clear (&r);
      g_snprintf (name, sizeof name, "metrics-%d-of-4.csv", i);
      char *part = g_build_filename (out, name, NULL), *text = NULL;
      g_assert_true (g_file_get_contents (part, &text, NULL, NULL));
      g_string_append (joined, text);
      g_free (text);
      g_free (part);
    }
  g_assert_cmpstr (joined->str, ==, whole);
  g_string_free (joined, TRUE);
  g_free (whole);
  g_free (csv);
  g_free (out);

  /* eval: the parts' counts and confusion matrices add up to the whole's, and --merge of the
   * parts (two concatenated in one file, in any order) gives the whole run's metrics and AUC. */
  r = run_cli ("eval", env.model, env.set, "--json");
  assert_success (&r);
  cJSON *all = cJSON_Parse (r.out);
  run_clear (&r);
  int n = 0, confusion[4] = { 0 };
  GString *parts[2] = { g_string_new (""), g_string_new ("") };
  for (int i = 2; i >= 0; i--)
    {
      char shard[16];
      g_snprintf (shard, sizeof shard, "%d/3", i);
      r = run_cli ("eval", env.model, env.set, "--json", "--shard", shard);
      assert_success (&r);
      g_string_append (parts[i == 1], r.out);
      cJSON *part = cJSON_Parse (r.out);
      g_assert_cmpstr (cJSON_GetObjectItem (part, "shard")->valuestring, ==, shard);
      n += (int) number (part, "n");
      g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (part, "scores")), ==,
                       (int) number (part, "n"));
      const cJSON *m = cJSON_GetObjectItem (part, "confusion");
      for (int c = 0; c < 4; c++)
        confusion[c] += cJSON_GetArrayItem (cJSON_GetArrayItem (m, c / 2), c % 2)->valueint;
      cJSON_Delete (part);
      run_clear (&r);
    }
  g_assert_cmpint (n, ==, (int) number (all, "n"));
  g_assert_null (cJSON_GetObjectItem (all, "scores"));
  const cJSON *m = cJSON_GetObjectItem (all, "confusion");
  for (int c = 0; c < 4; c++)
    g_assert_cmpint (confusion[c], ==,
                     cJSON_GetArrayItem (cJSON_GetArrayItem (m, c / 2), c % 2)->valueint);
  char *p02 = path ("eval-0-2.jsonl"), *p1 = path ("eval-1.jsonl");
  test_util_write_file (p02, parts[0]->str, parts[0]->len);
  test_util_write_file (p1, parts[1]->str, parts[1]->len);
  r = run_cli ("eval", "--merge", p02, p1, "--json");
  assert_success (&r);
  cJSON *merged = cJSON_Parse (r.out);
  run_clear (&r);
  g_assert_cmpint ((int) number (merged, "parts"), ==, 3);
  g_assert_cmpint ((int) number (merged, "n"), ==, n);
  g_assert_cmpfloat_with_epsilon (number (merged, "loss"), number (all, "loss"), 1e-6);
  const cJSON *mm = cJSON_GetObjectItem (merged, "metrics"), *am = cJSON_GetObjectItem (all,
                                                                                      "metrics");
  char *a = cJSON_PrintUnformatted (am), *b = cJSON_PrintUnformatted (mm);
  g_assert_cmpstr (a, ==, b);
  cJSON_free (a);
  cJSON_free (b);
  /* Both classes' one-vs-rest AUC are known (not null) and each class's sensitivity is its
   * diagonal over its row. */
  const cJSON *classes = cJSON_GetObjectItem (mm, "classes");
  for (int c = 0; c < 2; c++)
    {
      const cJSON *cls = cJSON_GetArrayItem (classes, c);
      g_assert_true (cJSON_IsNumber (cJSON_GetObjectItem (cls, "auc")));
      const cJSON *row = cJSON_GetArrayItem (m, c);
      double tp = cJSON_GetArrayItem (row, c)->valuedouble;
      double all_row = tp + cJSON_GetArrayItem (row, 1 - c)->valuedouble;
      g_assert_cmpfloat_with_epsilon (number (cJSON_GetObjectItem (cls, "sensitivity"),
                                              "value"), tp / all_row, 1e-12);
    }
  cJSON_Delete (merged);
  /* A missing part and a part given twice are errors. */
  r = run_cli ("eval", "--merge", p02);
  assert_failure (&r, "eval --merge", "part 1/3 is missing");
  run_clear (&r);
  r = run_cli ("eval", "--merge", p02, p1, p1);
  assert_failure (&r, p1, "part 1/3 appears twice");
  run_clear (&r);
  g_free (p02);
  g_free (p1);
  g_string_free (parts[0], TRUE);
  g_string_free (parts[1], TRUE);
  cJSON_Delete (all);
}

/* Writes slice dir/name of a DICOM series: 4 x 4, at z, in series uid. */
static void
write_dicom_slice (const char *dir,
                   const char *name,
                   const char *uid,
                   double      z)
{
  TestDicomSpec s = test_dicom_spec_default ();
  s.rows = 4;
  s.cols = 4;
  char position[64];
  g_snprintf (position, sizeof position, "0\\0\\%g", z);
  s.position = position;
  s.spacing = "1\\1";
  s.series_uid = uid;
  s.slope = "1";
  s.intercept = "-1024";
  GByteArray *b = test_dicom_make (&s);
  char *file = g_build_filename (dir, name, NULL);
  test_util_write_file (file, b->data, b->len);
  g_free (file);
  g_byte_array_free (b, TRUE);
}

static void
test_dicom_series (void)
{
  char *dir = path ("series");
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  const char *names[3] = { "x.dcm", "y.dcm", "z.dcm" };
  const double z[3] = { 7.5, -2.5, 2.5 };
  for (int k = 0; k < 3; k++)
    write_dicom_slice (dir, names[k], "1.2.3", z[k]);
  Run r = run_cli ("predict", env.model, dir);
  assert_success (&r);
  int n = 0;
  cJSON **lines = json_lines (r.out, &n);
  g_assert_cmpint (n, ==, 3);
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat (number (lines[k], "z_mm"), ==, -2.5 + 5.0 * k);
  json_lines_free (lines, n);
  run_clear (&r);

  /* A second series: named in the error, chosen with --series. */
  write_dicom_slice (dir, "w.dcm", "1.2.4", 0.0);
  r = run_cli ("predict", env.model, dir);
  assert_failure (&r, "holds 2 series", "1.2.4 (1 slice)");
  run_clear (&r);
  r = run_cli ("cam", env.model, dir, "--series", "1.2.4");
  assert_success (&r);
  lines = json_lines (r.out, &n);
  g_assert_cmpint (n, ==, 1);
  json_lines_free (lines, n);
  run_clear (&r);
  /* --files reads the folder as separate slices (no geometry needed). */
  char *out = path ("files-out");
  r = run_cli ("cam", env.model, dir, "--files", "--out", out);
  assert_success (&r);
  run_clear (&r);
  g_free (out);
  g_free (dir);
}

static void
test_bad (void)
{
  char *bad = path ("bad.nii.gz");
  char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (env.volume, &bytes, &len, NULL));
  test_util_write_file (bad, bytes, len / 2);
  g_free (bytes);
  Run r = run_cli ("cam", env.model, bad);
  assert_failure (&r, bad, "truncated");
  run_clear (&r);
  r = run_cli ("predict", env.model, bad);
  assert_failure (&r, bad, "truncated");
  run_clear (&r);
  r = run_cli ("cam", env.model, env.volume, "--npy", bad);
  assert_failure (&r, "--npy takes a single image INPUT", NULL);
  run_clear (&r);
  r = run_cli ("cam", env.model, env.model, "--shard", "0/2");
  assert_failure (&r, "--shard needs a folder or a volume", NULL);
  run_clear (&r);
  const char *shards[] = { "2/2", "1", "-1/2", "1/0", "a/b", "1/2x" };
  for (size_t i = 0; i < G_N_ELEMENTS (shards); i++)
    {
      r = run_cli ("predict", env.model, env.volume, "--shard", shards[i]);
      assert_failure (&r, "--shard", shards[i]);
      g_assert_cmpint (r.status, ==, 2);
      run_clear (&r);
    }
  g_free (bad);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  setup ();
  g_test_add_func ("/cli/volume/predict", test_predict_volume);
  g_test_add_func ("/cli/volume/predict-ood", test_predict_volume_ood);
  g_test_add_func ("/cli/volume/cam", test_cam_volume);
  g_test_add_func ("/cli/volume/cam-mask", test_cam_volume_mask);
  g_test_add_func ("/cli/volume/folder-shards", test_cam_folder_shards);
  g_test_add_func ("/cli/volume/dicom-series", test_dicom_series);
  g_test_add_func ("/cli/volume/bad", test_bad);
  int status = g_test_run ();
  teardown ();
  return status;
}
