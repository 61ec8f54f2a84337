/* SPDX-License-Identifier: MIT */
/* cnnscope-cli cam and saliency end to end on the hand-set oriented-dashes model, whose maps
 * are known: the overlay figure, the .npy map pointing at the majority dashes, --json with the
 * metrics and the mask scores, a folder written by `synth dashes` in batch mode with
 * metrics.csv, bad input; and the CT demo model on a `synth ct` folder, masks found beside the
 * slices, DICOM input and a display window. */
#include <cjson/cJSON.h>
#include <glib.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "nn.h"
#include "test-util.h"

#define S NN_DASHES_SIZE

typedef struct
{
  char   *cli;
  char   *dir;
  char   *model;   /* the dashes model */
  char   *image;   /* one image ... */
  char   *mask;    /* ... and the pixels of its majority dashes */
  uint8_t orient[S * S];
  int     label;
  char   *set;     /* a folder of 6 images */
} Env;

static Env env;

typedef struct
{
  int   status;
  char *out;
  char *err;
} Run;

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
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &r.out, &r.err, &wait_status, &error));
  g_assert_no_error (error);
  r.status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  g_ptr_array_free (argv, TRUE);
  return r;
}

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

static void
assert_success (const Run *r)
{
  if (r->status != 0)
    g_error ("expected success, got status %d; stderr: %s", r->status, r->err);
}

/* Non-zero exit `code` and one line "cnnscope-cli: ..." on stderr containing `word`. */
static void
assert_failure (const Run  *r,
                int         code,
                const char *word)
{
  if (r->status != code)
    g_error ("expected status %d, got %d; stderr: %s", code, r->status, r->err);
  g_assert_true (g_str_has_prefix (r->err, "cnnscope-cli: "));
  g_assert_true (strchr (r->err, '\n') == r->err + strlen (r->err) - 1);
  if (strstr (r->err, word) == NULL)
    g_error ("stderr '%s' lacks '%s'", r->err, word);
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
number (const cJSON *o,
        const char  *key)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (o, key);
  if (!cJSON_IsNumber (item))
    g_error ("'%s' is not a number", key);
  return item->valuedouble;
}

static char *
path (const char *name)
{
  return g_build_filename (env.dir, name, NULL);
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

  NnRng rng;
  nn_rng_init (&rng, 3);
  NnImage *img = nn_image_new (1, S, S), *mask = nn_image_new (1, S, S);
  NnDashesInfo info;
  do
    nn_synth_dashes_draw (img->data, env.orient, S, &rng, &info);
  while (abs (info.n_horizontal - info.n_vertical) < 2);
  env.label = info.label;
  for (int p = 0; p < S * S; p++)
    mask->data[p] = env.orient[p] == info.label + 1 ? 1.0f : 0.0f;
  env.image = path ("image.png");
  env.mask = path ("mask.png");
  g_assert_true (nn_image_save_png (img, env.image, 8, &err));
  g_assert_true (nn_image_save_png (mask, env.mask, 8, &err));
  nn_image_free (img);
  nn_image_free (mask);
  env.set = path ("set");
  Run r = run_cli ("synth", "dashes", "--count", "6", "--seed", "11", "--out", env.set, NULL);
  assert_success (&r);
  run_clear (&r);
}

/* Pixels of figure (an RGB image) in the light green of a mask's outline. */
static int
outline_pixels (const NnImage *figure)
{
  size_t plane = (size_t) figure->h * (size_t) figure->w;
  int n = 0;
  for (size_t p = 0; p < plane; p++)
    if (fabsf (figure->data[p] - 0.3f) < 0.12f && figure->data[plane + p] > 0.88f
        && fabsf (figure->data[2 * plane + p] - 0.3f) < 0.12f)
      n++;
  return n;
}

static void
test_cam_single (void)
{
  char *fig = path ("cam.png"), *npy = path ("cam.npy");
  Run r = run_cli ("cam", env.model, env.image, "--out", fig, "--npy", npy, "--metrics",
                   "--mask", env.mask, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  g_assert_cmpint ((int) number (json, "class"), ==, env.label);
  g_assert_cmpstr (cJSON_GetObjectItem (json, "label")->valuestring, ==,
                   env.label == 0 ? "horizontal" : "vertical");
  g_assert_cmpstr (cJSON_GetObjectItem (json, "layer")->valuestring, ==, "detect_relu");
  g_assert_cmpstr (cJSON_GetObjectItem (json, "method")->valuestring, ==, "gradcam");
  const cJSON *metrics = cJSON_GetObjectItem (json, "metrics");
  g_assert_nonnull (metrics);
  g_assert_true (cJSON_IsTrue (cJSON_GetObjectItem (metrics, "pointing_game")));
  g_assert_cmpfloat (number (metrics, "energy_share"), >, 0.999);
  double del = number (cJSON_GetObjectItem (metrics, "deletion"), "auc");
  double ins = number (cJSON_GetObjectItem (metrics, "insertion"), "auc");
  g_test_message ("dashes Grad-CAM: deletion AUC %.3f, insertion AUC %.3f, ROAD MoRF %.3f, "
                  "LeRF %.3f, rho %.3f", del, ins, number (metrics, "road_morf_mean"),
                  number (metrics, "road_lerf_mean"), number (metrics, "randomization_rho"));
  g_assert_cmpfloat (del, >=, 0.0);
  g_assert_cmpfloat (del, <=, 1.0);
  g_assert_cmpfloat (number (metrics, "road_morf_mean"), <, number (metrics, "road_lerf_mean"));
  g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (cJSON_GetObjectItem (metrics,
                                                                                "deletion"),
                                                            "prob")), ==, 21);
  /* The logit curve beside it, min-max normalised over its points: from 0 to 1. */
  const cJSON *dl = cJSON_GetObjectItem (metrics, "deletion");
  const cJSON *norm = cJSON_GetObjectItem (dl, "logit_norm");
  g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (dl, "logit")), ==, 21);
  g_assert_cmpint (cJSON_GetArraySize (norm), ==, 21);
  double lo = 1.0, hi = 0.0;
  for (int i = 0; i < 21; i++)
    {
      lo = fmin (lo, cJSON_GetArrayItem (norm, i)->valuedouble);
      hi = fmax (hi, cJSON_GetArrayItem (norm, i)->valuedouble);
    }
  g_assert_cmpfloat (lo, ==, 0.0);
  g_assert_cmpfloat (hi, ==, 1.0);
  double auc_logit = number (dl, "auc_logit");
  g_assert_cmpfloat (auc_logit, >=, 0.0);
  g_assert_cmpfloat (auc_logit, <=, 1.0);
  cJSON_Delete (json);

  /* The .npy map: its energy sits on the majority dashes. */
  NnError err = { 0 };
  NnNpy *map = nn_npy_load (npy, &err);
  g_assert_nonnull (map);
  g_assert_cmpint (map->ndim, ==, 2);
  g_assert_cmpint (map->dims[0], ==, S);
  double inside = 0.0, total = 0.0;
  for (int p = 0; p < S * S; p++)
    {
      g_assert_cmpfloat (map->data[p], >=, 0.0f);
      total += map->data[p];
      inside += env.orient[p] == env.label + 1 ? map->data[p] : 0.0;
    }
  g_assert_cmpfloat (total, >, 0.0);
  g_assert_cmpfloat (inside, ==, total);
  nn_npy_free (map);
  NnImage *figure = nn_image_load (fig, &err);
  g_assert_nonnull (figure);
  /* The Explain view's figure, at the size the application exports. */
  g_assert_cmpint (figure->w, ==, 1200);
  g_assert_cmpint (figure->h, ==, 750);
  g_assert_cmpint (figure->c, ==, 3);
  /* The mask's outline is drawn over the overlay. */
  int masked = outline_pixels (figure);
  g_assert_cmpint (masked, >, 100);
  nn_image_free (figure);
  run_clear (&r);

  /* Every CAM method runs; the text summary goes to stderr. */
  const char *methods[] = { "gradcam++", "xgradcam", "hirescam", "layercam", "scorecam",
                            "eigencam", "ablationcam", "eigengradcam" };
  for (size_t i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      r = run_cli ("cam", env.model, env.image, "--method", methods[i], "--batch", "3", "--out",
                   fig, NULL);
      assert_success (&r);
      g_assert_nonnull (strstr (r.err, methods[i]));
      g_assert_cmpstr (r.out, ==, "");
      run_clear (&r);
    }
  r = run_cli ("cam", env.model, env.image, "--signed", "--class", env.label ? "0" : "1",
               "--out", fig, "--json", NULL);
  assert_success (&r);
  json = parse_json (&r);
  g_assert_true (cJSON_IsTrue (cJSON_GetObjectItem (json, "signed")));
  g_assert_cmpint ((int) number (json, "class"), ==, 1 - env.label);
  cJSON_Delete (json);
  run_clear (&r);
  /* Without --mask, no outline. */
  figure = nn_image_load (fig, &err);
  g_assert_nonnull (figure);
  g_test_message ("outline pixels: %d with --mask, %d without", masked,
                  outline_pixels (figure));
  g_assert_cmpint (outline_pixels (figure), <, masked / 10);
  nn_image_free (figure);
  g_free (fig);
  g_free (npy);
}

static void
test_saliency (void)
{
  char *fig = path ("sal.svg"), *npy = path ("sal.npy");
  const char *methods[] = { "gradient", "smoothgrad", "ig", "guided", "guided-gradcam",
                            "fullgrad", "occlusion", "deeplift", "gradientshap",
                            "lrp-epsilon-gamma-box", "lrp-epsilon-plus-flat",
                            "lrp-epsilon-alpha2-beta1" };
  for (size_t i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      Run r = run_cli ("saliency", env.model, env.image, "--method", methods[i], "--samples",
                       "4", "--patch", "5", "--stride", "3", "--out", fig, "--npy", npy, "--json",
                       NULL);
      assert_success (&r);
      cJSON *json = parse_json (&r);
      g_assert_cmpint ((int) number (json, "class"), ==, env.label);
      NnMethod method;
      g_assert_true (nn_method_from_name (methods[i], &method));
      g_assert_cmpint (cJSON_IsTrue (cJSON_GetObjectItem (json, "signed")), ==,
                       nn_method_has_flags (method, NN_METHOD_FLAG_SIGNED));
      cJSON_Delete (json);
      NnNpy *map = nn_npy_load (npy, NULL);
      g_assert_nonnull (map);
      g_assert_cmpint (map->count, ==, S * S);
      nn_npy_free (map);
      g_assert_true (g_file_test (fig, G_FILE_TEST_IS_REGULAR));
      run_clear (&r);
    }
  /* Metrics and the mask work for input-space maps too. */
  Run r = run_cli ("saliency", env.model, env.image, "--method", "gradient", "--metrics",
                   "--mask", env.mask, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  const cJSON *metrics = cJSON_GetObjectItem (json, "metrics");
  g_assert_nonnull (metrics);
  g_assert_cmpfloat (fabs (number (metrics, "randomization_rho")), <=, 1.0);
  g_assert_true (cJSON_IsTrue (cJSON_GetObjectItem (metrics, "pointing_game")));
  cJSON_Delete (json);
  run_clear (&r);
  g_free (fig);
  g_free (npy);
}

static void
test_folder (void)
{
  char *out = path ("batch");
  Run r = run_cli ("cam", env.model, env.set, "--out", out, "--metrics", "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (json, "results")), ==, 6);
  g_assert_cmpint ((int) number (json, "failed"), ==, 0);
  cJSON_Delete (json);
  g_assert_cmpint (test_util_count_entries (out), ==, 7);
  char *csv = g_build_filename (out, "metrics.csv", NULL), *text = NULL;
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  char **lines = g_strsplit (text, "\n", -1);
  g_assert_cmpint (g_strv_length (lines), ==, 8);
  g_assert_true (g_str_has_prefix (lines[0], "input,class,label,score,probability,"));
  /* Every row's class is its folder's: the model is exact. */
  for (int i = 1; i <= 6; i++)
    {
      char **cells = g_strsplit (lines[i], ",", -1);
      g_assert_cmpint (g_strv_length (cells), ==, 14);
      bool horizontal = strstr (cells[0], "/horizontal/") != NULL;
      g_assert_cmpstr (cells[1], ==, horizontal ? "0" : "1");
      g_assert_cmpstr (cells[5], !=, "");
      /* The deletion AUC of the normalised logit, in [0, 1]. */
      g_assert_cmpstr (cells[12], !=, "");
      g_assert_cmpfloat (g_ascii_strtod (cells[12], NULL), >=, 0.0);
      g_assert_cmpfloat (g_ascii_strtod (cells[12], NULL), <=, 1.0);
      g_strfreev (cells);
    }
  g_strfreev (lines);
  g_free (text);
  g_free (csv);
  run_clear (&r);
  g_free (out);
}

/* A FIFO named like an image is not an input of a folder run (a reader would wait on it for
 * ever), and named on its own it is refused with a message. */
static void
test_folder_fifo (void)
{
  char *set = path ("fifo-set"), *out = path ("fifo-out");
  Run r = run_cli ("synth", "dashes", "--count", "2", "--seed", "4", "--out", set, NULL);
  assert_success (&r);
  run_clear (&r);
  char *fifo = g_build_filename (set, "horizontal", "zz-fifo.png", NULL);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  r = run_cli ("cam", env.model, set, "--out", out, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  g_assert_cmpint (cJSON_GetArraySize (cJSON_GetObjectItem (json, "results")), ==, 2);
  g_assert_cmpint ((int) number (json, "failed"), ==, 0);
  cJSON_Delete (json);
  run_clear (&r);
  r = run_cli ("cam", env.model, fifo, NULL);
  assert_failure (&r, 1, "zz-fifo.png: not a regular file (a FIFO)");
  run_clear (&r);
  g_free (fifo);
  g_free (out);
  g_free (set);
}

/* The CT demo model on fresh synthetic slices: every slice is explained once (the 16-bit PNG,
 * not its DICOM twin, mask or windowed copy), each lesion slice with its mask. */
static void
test_ct_folder (void)
{
  char *set = path ("ct"), *out = path ("ct-out"), *fig = path ("ct.png");
  char *model = g_build_filename (g_getenv ("CNNSCOPE_SOURCE_DIR"), "data", "demo-ct.safetensors",
                                  NULL);
  Run r = run_cli ("synth", "ct", "--count", "6", "--seed", "5", "--size", "96", "--out", set,
                   NULL);
  assert_success (&r);
  run_clear (&r);
  r = run_cli ("cam", model, set, "--layer", "layer3.1.relu2", "--out", out, "--json", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  const cJSON *results = cJSON_GetObjectItem (json, "results");
  g_assert_cmpint (cJSON_GetArraySize (results), ==, 6);
  int with_mask = 0;
  for (int i = 0; i < 6; i++)
    {
      const cJSON *item = cJSON_GetArrayItem (results, i);
      const char *input = cJSON_GetObjectItem (item, "input")->valuestring;
      g_assert_true (g_str_has_suffix (input, ".png"));
      g_assert_false (g_str_has_suffix (input, ".mask.png") || g_str_has_suffix (input, ".lung.png"));
      const cJSON *metrics = cJSON_GetObjectItem (item, "metrics");
      bool lesion = strstr (input, "/healthy/") == NULL;
      g_assert_true ((metrics != NULL) == lesion);
      if (metrics)
        {
          g_assert_nonnull (cJSON_GetObjectItem (metrics, "pointing_game"));
          g_assert_null (cJSON_GetObjectItem (metrics, "deletion"));
          with_mask++;
        }
    }
  g_assert_cmpint (with_mask, ==, 4);
  g_assert_cmpint ((int) number (json, "pointing_game_n"), ==, 4);
  cJSON_Delete (json);
  run_clear (&r);

  /* One DICOM slice, shown through the bone window: the caption names both windows. */
  char *dcm = g_build_filename (set, "covid", "0001.dcm", NULL);
  r = run_cli ("cam", model, dcm, "--window", "bone", "--out", fig, "--json", NULL);
  assert_success (&r);
  json = parse_json (&r);
  g_assert_cmpint ((int) number (json, "class"), >=, 0);
  cJSON_Delete (json);
  g_assert_true (g_file_test (fig, G_FILE_TEST_IS_REGULAR));
  run_clear (&r);
  r = run_cli ("cam", model, dcm, "--window", "sideways", NULL);
  assert_failure (&r, 2, "sideways");
  run_clear (&r);
  g_free (dcm);
  g_free (model);
  g_free (fig);
  g_free (out);
  g_free (set);
}

/* A folder run in which every input fails after its map (each figure's path is taken by a
 * folder): no pointing game is reported, since no input came through. */
static void
test_folder_all_failed (void)
{
  char *set = path ("ct-fail"), *out = path ("ct-fail-out");
  char *model = g_build_filename (g_getenv ("CNNSCOPE_SOURCE_DIR"), "data", "demo-ct.safetensors",
                                  NULL);
  Run r = run_cli ("synth", "ct", "--count", "2", "--seed", "5", "--size", "64", "--out", set,
                   NULL);
  assert_success (&r);
  run_clear (&r);
  const char *figures[2] = { "healthy_0000.png", "covid_0001.png" };
  for (int i = 0; i < 2; i++)
    {
      char *taken = g_build_filename (out, figures[i], NULL);
      g_assert_cmpint (g_mkdir_with_parents (taken, 0755), ==, 0);
      g_free (taken);
    }
  r = run_cli ("cam", model, set, "--layer", "layer3.1.relu2", "--out", out, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "covid_0001.png: cannot write"));
  g_assert_null (strstr (r.err, "pointing game"));
  run_clear (&r);
  r = run_cli ("cam", model, set, "--layer", "layer3.1.relu2", "--out", out, "--json", NULL);
  g_assert_cmpint (r.status, ==, 1);
  cJSON *json = parse_json (&r);
  g_assert_cmpint ((int) number (json, "failed"), ==, 2);
  g_assert_null (cJSON_GetObjectItem (json, "pointing_game_n"));
  cJSON_Delete (json);
  run_clear (&r);
  g_free (model);
  g_free (out);
  g_free (set);
}

static void
test_bad_input (void)
{
  Run r = run_cli ("cam", env.model, env.image, "--class", "2", NULL);
  assert_failure (&r, 1, "class 2 out of range");
  run_clear (&r);
  r = run_cli ("cam", env.model, env.image, "--layer", "pool", NULL);
  assert_failure (&r, 1, "no spatial extent");
  run_clear (&r);
  r = run_cli ("cam", env.model, env.image, "--layer", "nope", NULL);
  assert_failure (&r, 1, "nope");
  run_clear (&r);
  r = run_cli ("cam", env.model, env.image, "--method", "gradcam+", NULL);
  assert_failure (&r, 2, "gradcam+");
  run_clear (&r);
  r = run_cli ("saliency", env.model, env.image, NULL);
  assert_failure (&r, 2, "--method");
  run_clear (&r);
  r = run_cli ("cam", env.model, env.model, NULL);
  assert_failure (&r, 1, "unsupported input");
  run_clear (&r);
  r = run_cli ("cam", env.model, env.image, "--mask", env.model, NULL);
  assert_failure (&r, 1, "dashes.safetensors");
  run_clear (&r);
  r = run_cli ("cam", env.model, env.set, NULL);
  assert_failure (&r, 2, "--out");
  run_clear (&r);
  r = run_cli ("cam", env.model, env.image, "--opacity", "2", NULL);
  assert_failure (&r, 2, "opacity");
  run_clear (&r);
  char *bad = path ("cam.txt");
  r = run_cli ("cam", env.model, env.image, "--out", bad, NULL);
  assert_failure (&r, 1, "cam.txt");
  run_clear (&r);
  g_free (bad);
}

/* --help and the --method errors list the registry's names: the CAM rows for cam, the others
 * for saliency; a name of the other command is refused; rollout and attn-grad need a transformer. */
static void
test_method_names (void)
{
  GString *cam = g_string_new (NULL), *saliency = g_string_new (NULL);
  for (int m = 0; m < NN_METHOD_COUNT_; m++)
    {
      const NnMethodInfo *info = nn_method_get_info ((NnMethod) m);
      GString *names = (info->flags & NN_METHOD_FLAG_CAM) ? cam : saliency;
      g_string_append_printf (names, "%s%s", names->len ? "|" : "", info->name);
    }
  Run r = run_cli ("cam", "--help", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, cam->str));
  run_clear (&r);
  r = run_cli ("saliency", "--help", NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, saliency->str));
  run_clear (&r);
  r = run_cli ("cam", env.model, env.image, "--method", "ig", NULL);
  assert_failure (&r, 2, "scorecam");
  run_clear (&r);
  r = run_cli ("saliency", env.model, env.image, "--method", "gradcam", NULL);
  assert_failure (&r, 2, "guided-gradcam");
  run_clear (&r);
  /* Attention rollout is offered, and refused on this CNN saying why. */
  r = run_cli ("saliency", env.model, env.image, "--method", "rollout", NULL);
  assert_failure (&r, 1, "no attention maps: rollout applies to vision transformers");
  run_clear (&r);
  r = run_cli ("saliency", env.model, env.image, "--method", "attn-grad", "--block", "2", NULL);
  assert_failure (&r, 1, "no attention maps: attn-grad applies to vision transformers");
  run_clear (&r);
  r = run_cli ("saliency", env.model, env.image, "--method", "attn-grad", "--block", "0", NULL);
  assert_failure (&r, 2, "--block");
  run_clear (&r);
  g_string_free (cam, TRUE);
  g_string_free (saliency, TRUE);
}

/* An image is recognised by its content, whatever its name, as the window opens it. */
static void
test_input_by_content (void)
{
  char *renamed = path ("image.data");
  char *contents = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (env.image, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (renamed, contents, (gssize) len, NULL));
  g_free (contents);
  Run a = run_cli ("cam", env.model, env.image, "--json", NULL);
  Run b = run_cli ("cam", env.model, renamed, "--json", NULL);
  assert_success (&a);
  assert_success (&b);
  cJSON *ja = parse_json (&a), *jb = parse_json (&b);
  g_assert_cmpfloat (number (ja, "probability"), ==, number (jb, "probability"));
  g_assert_cmpint ((int) number (ja, "class"), ==, (int) number (jb, "class"));
  cJSON_Delete (ja);
  cJSON_Delete (jb);
  run_clear (&a);
  run_clear (&b);
  g_free (renamed);
}

/* The CT demo model's out-of-distribution statistics (data/demo-ct.ood.json, read by default):
 * the real neck slice CT_small.dcm from pydicom is far from the training data, the synthetic
 * sample slices are not; --ood none leaves the check out. */
static void
test_ct_ood (void)
{
  const char *ct_small = "/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm";
  if (!g_file_test (ct_small, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("python3-pydicom's CT_small.dcm is not installed");
      return;
    }
  const char *src = g_getenv ("CNNSCOPE_SOURCE_DIR");
  char *model = g_build_filename (src, "data", "demo-ct.safetensors", NULL);
  char *samples[4];
  const char *names[4] = { "ct-healthy.png", "ct-covid.png", "ct-other.png", "ct-covid.dcm" };
  for (int i = 0; i < 4; i++)
    samples[i] = g_build_filename (src, "data", "samples", names[i], NULL);
  Run r = run_cli ("predict", model, ct_small, samples[0], samples[1], samples[2], samples[3],
                   "--json", "--top", "1", NULL);
  assert_success (&r);
  cJSON *json = parse_json (&r);
  const cJSON *predictions = cJSON_GetObjectItem (json, "predictions");
  g_assert_cmpint (cJSON_GetArraySize (predictions), ==, 5);
  for (int i = 0; i < 5; i++)
    {
      const cJSON *ood = cJSON_GetObjectItem (cJSON_GetArrayItem (predictions, i), "ood");
      g_assert_nonnull (ood);
      double score = number (ood, "score"), threshold = number (ood, "threshold");
      g_test_message ("%s: out-of-distribution score %.3f, threshold %.3f",
                      i == 0 ? "CT_small.dcm" : names[i - 1], score, threshold);
      g_assert_true (cJSON_IsBool (cJSON_GetObjectItem (ood, "far")));
      g_assert_cmpint (cJSON_IsTrue (cJSON_GetObjectItem (ood, "far")), ==, i == 0);
      g_assert_cmpint (score > threshold, ==, i == 0);
    }
  cJSON_Delete (json);
  run_clear (&r);
  r = run_cli ("predict", model, ct_small, NULL);
  assert_success (&r);
  g_assert_nonnull (strstr (r.out, "far from the training data"));
  run_clear (&r);
  r = run_cli ("predict", model, ct_small, "--ood", "none", NULL);
  assert_success (&r);
  g_assert_null (strstr (r.out, "out-of-distribution"));
  run_clear (&r);
  for (int i = 0; i < 4; i++)
    g_free (samples[i]);
  g_free (model);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  setup ();
  g_test_add_func ("/cli/cam/single", test_cam_single);
  g_test_add_func ("/cli/cam/saliency", test_saliency);
  g_test_add_func ("/cli/cam/folder", test_folder);
  g_test_add_func ("/cli/cam/folder-fifo", test_folder_fifo);
  g_test_add_func ("/cli/cam/ct-folder", test_ct_folder);
  g_test_add_func ("/cli/cam/folder-all-failed", test_folder_all_failed);
  g_test_add_func ("/cli/cam/bad-input", test_bad_input);
  g_test_add_func ("/cli/cam/method-names", test_method_names);
  g_test_add_func ("/cli/cam/input-by-content", test_input_by_content);
  g_test_add_func ("/cli/predict/ct-ood", test_ct_ood);
  int rc = g_test_run ();
  test_util_remove_tree (env.dir);
  g_free (env.dir);
  g_free (env.cli);
  g_free (env.model);
  g_free (env.image);
  g_free (env.mask);
  g_free (env.set);
  return rc;
}
