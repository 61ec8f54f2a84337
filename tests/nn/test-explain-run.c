/* SPDX-License-Identifier: MIT */
/* The explain pipeline: the method registry (its flags against what each method does, its
 * functions against nn_cam_compute and nn_saliency_compute), masks, and nn_explain_run against
 * the per-method functions and metrics computed by hand. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"
#include "test-util.h"

/* input (3, 8, 8) -> conv "conv1" (4, 3x3, pad 1) -> relu "feat" -> max pool 2 "pool"
 * (4, 4, 4) -> conv "head" (5, 3x3, pad 1) -> relu "head-relu" -> global average pool -> linear
 * "fc" (3). The CAM family's default layer is head-relu, at half the input's resolution. */
#define IN_C    3
#define SIDE    8
#define CLASSES 3
#define IN_SIZE (IN_C * SIDE * SIDE)

typedef struct
{
  NnGraph *g;
  int      feat, head;
} Net;

static void
net_build (Net     *net,
           uint64_t seed)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", IN_C, SIDE, SIDE);
  int c1 = nn_graph_add_conv2d (g, "conv1", in, 4, 3, 1, 1, 1, 1, true);
  net->feat = nn_graph_add_relu (g, "feat", c1);
  int pool = nn_graph_add_maxpool (g, "pool", net->feat, 2, 2, 0);
  int head = nn_graph_add_conv2d (g, "head", pool, 5, 3, 1, 1, 1, 1, true);
  net->head = nn_graph_add_relu (g, "head-relu", head);
  int gap = nn_graph_add_global_avgpool (g, "gap", net->head);
  nn_graph_add_linear (g, "fc", gap, CLASSES, true);
  NnRng rng;
  nn_rng_init (&rng, seed);
  nn_graph_init_params (g, &rng);
  /* Positive biases keep most units active, so every method has something to show. */
  for (int node = 1; node < g->n_nodes; node++)
    {
      int b = nn_graph_node_param (g, node, NN_PARAM_BIAS);
      if (b >= 0 && g->nodes[node].op == NN_OP_CONV2D)
        for (size_t i = 0; i < g->params[b].count; i++)
          nn_graph_param_data (g, b)[i] = 0.1f;
    }
  net->g = g;
}

static void
random_input (float   *x,
              size_t   n,
              uint64_t seed)
{
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (size_t i = 0; i < n; i++)
    x[i] = nn_rng_normal (&rng);
}

static NnMap *
compute (NnGraph            *g,
         const float        *x,
         const NnMethodSpec *spec,
         int                 batch,
         unsigned            flags,
         NnError            *err)
{
  NnContext *ctx = nn_context_new (g, batch, flags, NULL);
  g_assert_nonnull (ctx);
  NnMap *map = nn_method_get_info (spec->method)->compute (ctx, x, spec, NULL, err);
  nn_context_free (ctx);
  return map;
}

static void
assert_maps_equal (const NnMap *a,
                   const NnMap *b)
{
  g_assert_cmpint (a->target, ==, b->target);
  g_assert_cmpint (a->layer, ==, b->layer);
  g_assert_cmpint (a->lh, ==, b->lh);
  g_assert_cmpint (a->lw, ==, b->lw);
  g_assert_cmpint (a->h, ==, b->h);
  g_assert_cmpint (a->w, ==, b->w);
  g_assert_cmpint (a->c, ==, b->c);
  g_assert_true (a->is_signed == b->is_signed);
  g_assert_cmpfloat (a->score, ==, b->score);
  g_assert_cmpmem (a->layer_map, sizeof (float) * (size_t) (a->lh * a->lw), b->layer_map,
                   sizeof (float) * (size_t) (b->lh * b->lw));
  g_assert_cmpmem (a->map, sizeof (float) * (size_t) (a->h * a->w), b->map,
                   sizeof (float) * (size_t) (b->h * b->w));
  if (a->c > 0)
    g_assert_cmpmem (a->channels, sizeof (float) * (size_t) (a->c * a->h * a->w), b->channels,
                     sizeof (float) * (size_t) (b->c * b->h * b->w));
}

/* The registry. */

static void
test_registry_rows (void)
{
  g_assert_cmpint (NN_METHOD_COUNT_, ==, 12);
  for (int m = 0; m < NN_METHOD_COUNT_; m++)
    {
      const NnMethodInfo *info = nn_method_get_info ((NnMethod) m);
      g_assert_nonnull (info->name);
      g_assert_nonnull (info->label);
      g_assert_nonnull (info->compute);
      NnMethod found;
      g_assert_true (nn_method_from_name (info->name, &found));
      g_assert_cmpint (found, ==, m);
      for (int k = 0; k < m; k++)
        {
          g_assert_cmpstr (nn_method_get_info ((NnMethod) k)->name, !=, info->name);
          g_assert_cmpstr (nn_method_get_info ((NnMethod) k)->label, !=, info->label);
        }
    }
  NnMethod m;
  g_assert_false (nn_method_from_name ("grad-cam", &m));
  g_assert_true (nn_method_from_name ("guided-gradcam", &m));
  g_assert_cmpint (m, ==, NN_METHOD_GUIDED_GRADCAM);
  g_assert_cmpstr (nn_method_get_info (NN_METHOD_IG)->label, ==, "Integrated Gradients");

  char names[256];
  nn_method_format_names (names, sizeof names, NN_METHOD_FLAG_CAM, 0);
  g_assert_cmpstr (names, ==,
                   "gradcam, gradcam++, xgradcam, hirescam, layercam, scorecam or eigencam");
  nn_method_format_names (names, sizeof names, 0, NN_METHOD_FLAG_CAM);
  g_assert_cmpstr (names, ==, "gradient, smoothgrad, ig, guided or guided-gradcam");
  nn_method_format_names (names, 12, 0, NN_METHOD_FLAG_CAM);
  g_assert_cmpstr (names, ==, "gradient, s");
}

/* The registry's functions compute what nn_cam_compute and nn_saliency_compute do. */
static void
test_registry_same_as_per_family (void)
{
  Net net;
  net_build (&net, 3);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 5);
  NnContext *ctx = nn_context_new (net.g, 4, NN_CONTEXT_BACKWARD, NULL);
  const NnCamMethod cams[] = { NN_CAM_GRADCAM, NN_CAM_GRADCAM_PP, NN_CAM_XGRADCAM,
                               NN_CAM_HIRESCAM, NN_CAM_LAYERCAM, NN_CAM_SCORECAM,
                               NN_CAM_EIGENCAM };
  const NnSaliencyMethod saliencies[] = { NN_SALIENCY_GRADIENT, NN_SALIENCY_SMOOTHGRAD,
                                          NN_SALIENCY_IG, NN_SALIENCY_GUIDED,
                                          NN_SALIENCY_GUIDED_GRADCAM };
  for (int m = 0; m < NN_METHOD_COUNT_; m++)
    {
      const NnMethodInfo *info = nn_method_get_info ((NnMethod) m);
      NnMethodSpec spec;
      nn_method_spec_init (&spec);
      spec.method = (NnMethod) m;
      spec.target = 1;
      spec.layer = net.feat;
      spec.keep_negative = true;
      spec.samples = 6;
      spec.seed = 9;
      NnError err = { 0 };
      NnMap *got = nn_method_compute (ctx, x, &spec, NULL, &err);
      g_assert_nonnull (got);
      NnMap *want;
      if (info->flags & NN_METHOD_FLAG_CAM)
        {
          NnCamSpec cs;
          nn_cam_spec_init (&cs);
          cs.method = cams[m];
          cs.target = 1;
          cs.layer = net.feat;
          cs.keep_negative = true;
          g_assert_cmpstr (nn_cam_method_name (cs.method), ==, info->name);
          want = nn_cam_compute (ctx, x, &cs, NULL, &err);
        }
      else
        {
          NnSaliencySpec ss;
          nn_saliency_spec_init (&ss);
          ss.method = saliencies[m - NN_METHOD_GRADIENT];
          ss.target = 1;
          ss.layer = net.feat;
          ss.samples = 6;
          ss.seed = 9;
          g_assert_cmpstr (nn_saliency_method_name (ss.method), ==, info->name);
          want = nn_saliency_compute (ctx, x, &ss, NULL, &err);
        }
      g_assert_nonnull (want);
      assert_maps_equal (got, want);
      nn_map_free (got);
      nn_map_free (want);
    }
  nn_context_free (ctx);
  nn_graph_free (net.g);
}

/* The logits a map carries are those of a forward pass of the unchanged input. */
static void
test_map_logits (void)
{
  Net net;
  net_build (&net, 4);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 6);
  NnContext *fwd = nn_context_new (net.g, 1, 0, NULL);
  memcpy (nn_context_input (fwd), x, sizeof x);
  int logit = nn_explain_logit_node (net.g);
  nn_context_forward (fwd, logit);
  const float *want = nn_context_output (fwd, logit);
  for (int m = 0; m < NN_METHOD_COUNT_; m++)
    {
      NnMethodSpec spec;
      nn_method_spec_init (&spec);
      spec.method = (NnMethod) m;
      spec.samples = 5;
      NnError err = { 0 };
      NnMap *map = compute (net.g, x, &spec, 3, NN_CONTEXT_BACKWARD, &err);
      g_assert_nonnull (map);
      g_assert_cmpint (map->classes, ==, CLASSES);
      g_assert_cmpmem (map->logits, sizeof (float) * CLASSES, want, sizeof (float) * CLASSES);
      g_assert_cmpint (map->target, ==, nn_explain_argmax (want, CLASSES));
      NnMap *copy = nn_map_dup (map);
      nn_map_free (map);
      g_assert_cmpmem (copy->logits, sizeof (float) * CLASSES, want, sizeof (float) * CLASSES);
      nn_map_free (copy);
    }
  nn_context_free (fwd);
  nn_graph_free (net.g);
}

typedef struct
{
  int calls;
} Count;

static void
count_progress (int   done,
                int   total,
                void *user_data)
{
  (void) done;
  (void) total;
  ((Count *) user_data)->calls++;
}

/* Each flag against what the method does. */
static void
test_registry_flags (void)
{
  Net net;
  net_build (&net, 7);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 8);
  for (int m = 0; m < NN_METHOD_COUNT_; m++)
    {
      const NnMethodInfo *info = nn_method_get_info ((NnMethod) m);
      NnMethodSpec spec;
      nn_method_spec_init (&spec);
      spec.method = (NnMethod) m;
      spec.samples = 8;
      NnError err = { 0 };

      /* Gradients: without them the method fails cleanly; a method that needs none works on
       * a forward-only context. */
      NnMap *fwd = compute (net.g, x, &spec, 1, 0, &err);
      if (info->flags & NN_METHOD_FLAG_GRADIENTS)
        {
          g_assert_null (fwd);
          g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
          g_assert_nonnull (strstr (err.message, "gradient"));
        }
      else
        g_assert_nonnull (fwd);
      nn_map_free (fwd);

      /* CAM: the map at the layer's resolution; keep_negative gives a signed map. Signed: the
       * map is signed (and has negative values) without keep_negative. */
      NnMap *map = compute (net.g, x, &spec, 1, NN_CONTEXT_BACKWARD, &err);
      g_assert_nonnull (map);
      g_assert_cmpint (map->lh, ==, (info->flags & NN_METHOD_FLAG_CAM) ? SIDE / 2 : SIDE);
      g_assert_cmpint (map->layer, ==, (info->flags & NN_METHOD_FLAG_CAM) ? net.head : 0);
      g_assert_true (map->is_signed == ((info->flags & NN_METHOD_FLAG_SIGNED) != 0));
      float lo = map->map[0];
      for (int p = 1; p < SIDE * SIDE; p++)
        lo = fminf (lo, map->map[p]);
      g_assert_true ((lo < 0.0f) == ((info->flags & NN_METHOD_FLAG_SIGNED) != 0));
      spec.keep_negative = true;
      NnMap *kept = compute (net.g, x, &spec, 1, NN_CONTEXT_BACKWARD, &err);
      g_assert_true (kept->is_signed
                     == ((info->flags & (NN_METHOD_FLAG_SIGNED | NN_METHOD_FLAG_CAM)) != 0));
      spec.keep_negative = false;
      nn_map_free (kept);

      /* Layer: another layer gives another map. */
      spec.layer = net.feat;
      NnMap *other = compute (net.g, x, &spec, 1, NN_CONTEXT_BACKWARD, &err);
      g_assert_nonnull (other);
      bool differs = memcmp (map->map, other->map, sizeof (float) * SIDE * SIDE) != 0;
      g_assert_true (differs == ((info->flags & NN_METHOD_FLAG_LAYER) != 0));
      spec.layer = -1;
      nn_map_free (other);
      nn_map_free (map);

      /* Batched: a batch of 4 takes fewer passes than a batch of 1. */
      Count one = { 0 }, four = { 0 };
      NnExplainControl c1 = { NULL, count_progress, &one }, c4 = { NULL, count_progress, &four };
      for (int b = 1; b <= 4; b += 3)
        {
          NnContext *ctx = nn_context_new (net.g, b, NN_CONTEXT_BACKWARD, NULL);
          NnMap *mb = info->compute (ctx, x, &spec, b == 1 ? &c1 : &c4, &err);
          g_assert_nonnull (mb);
          nn_map_free (mb);
          nn_context_free (ctx);
        }
      g_assert_true ((four.calls < one.calls) == ((info->flags & NN_METHOD_FLAG_BATCHED) != 0));
    }
  nn_graph_free (net.g);
}

/* Faithfulness settings. */

static void
test_faith_settings (void)
{
  NnFaithSettings fs;
  nn_faith_settings_init (&fs);
  g_assert_cmpuint (fs.metrics, ==, NN_FAITH_ALL);
  g_assert_cmpint (fs.steps, ==, 20);
  g_assert_cmpint (fs.road_points, ==, 9);
  g_assert_cmpfloat (fs.road_noise, ==, 0.01f);
  g_assert_cmpfloat (fs.pointing_tolerance, ==, 15.0f);
  g_assert_cmpuint (fs.seed, ==, 1);
  g_assert_true (nn_faith_settings_check (&fs, NULL));
  /* The blur and ROAD fractions the front ends used: max (H, W) / 16, 0.1f * (i + 1). */
  g_assert_cmpfloat (nn_faith_settings_blur (&fs, 224, 160), ==, 224.0f / 16.0f);
  g_assert_cmpfloat (nn_faith_settings_blur (&fs, 100, 320), ==, 320.0f / 16.0f);
  float fractions[9];
  nn_faith_settings_road_fractions (&fs, fractions);
  for (int i = 0; i < 9; i++)
    g_assert_cmpfloat (fractions[i], ==, 0.1f * (float) (i + 1));

  const struct
  {
    int         steps, points;
    float       divisor, noise;
    unsigned    metrics;
    const char *says;
  } bad[] = {
    { 0, 9, 16.0f, 0.01f, NN_FAITH_ALL, "steps" },
    { NN_CURVE_MAX, 9, 16.0f, 0.01f, NN_FAITH_ALL, "steps" },
    { 20, 0, 16.0f, 0.01f, NN_FAITH_ALL, "fractions" },
    { 20, 9, 0.0f, 0.01f, NN_FAITH_ALL, "blur" },
    { 20, 9, 16.0f, -1.0f, NN_FAITH_ALL, "noise" },
    { 20, 9, 16.0f, 0.01f, 1u << 10, "metrics" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      NnFaithSettings b = fs;
      b.steps = bad[i].steps;
      b.road_points = bad[i].points;
      b.blur_divisor = bad[i].divisor;
      b.road_noise = bad[i].noise;
      b.metrics = bad[i].metrics;
      NnError err = { 0 };
      g_assert_false (nn_faith_settings_check (&b, &err));
      g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
      g_assert_nonnull (strstr (err.message, bad[i].says));
    }
}

/* The randomization check of a registry method equals the one given per family. */
static void
test_randomization_method (void)
{
  Net net;
  net_build (&net, 11);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 12);
  NnContext *ctx = nn_context_new (net.g, 1, NN_CONTEXT_BACKWARD, NULL);
  NnCamSpec cs;
  nn_cam_spec_init (&cs);
  cs.method = NN_CAM_LAYERCAM;
  NnMap *map = nn_cam_compute (ctx, x, &cs, NULL, NULL);
  NnMethodSpec ms;
  nn_method_spec_init (&ms);
  ms.method = NN_METHOD_LAYERCAM;
  double by_family = 2.0, by_method = 3.0;
  g_assert_true (nn_faith_randomization (net.g, x, &cs, NULL, map, 1, 5, &by_family, NULL,
                                         NULL));
  g_assert_true (nn_faith_randomization_method (net.g, x, &ms, map, 1, 5, &by_method, NULL,
                                                NULL));
  g_assert_cmpfloat (by_family, ==, by_method);
  g_assert_cmpfloat (fabs (by_method), <=, 1.0);
  nn_map_free (map);
  nn_context_free (ctx);
  nn_graph_free (net.g);
}

/* Masks. */

static void
test_mask_path (void)
{
  const char *const cases[][2] = {
    { "a/b.png", "a/b.mask.png" },
    { "a/b.dcm", "a/b.mask.png" },
    { "/data/ct/slice-004.JPG", "/data/ct/slice-004.mask.png" },
    { "a.d/b", "a.d/b.mask.png" },
    { "b", "b.mask.png" },
    { "a/b.c.png", "a/b.c.mask.png" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *path = nn_mask_path_new (cases[i][0]);
      g_assert_cmpstr (path, ==, cases[i][1]);
      g_assert_true (nn_mask_path_is_mask (path));
      g_assert_false (nn_mask_path_is_mask (cases[i][0]));
      free (path);
    }
  g_assert_true (nn_mask_path_is_mask ("x/Y.MASK.PNG"));
  g_assert_false (nn_mask_path_is_mask (".mask.png"));
}

/* A 12 x 16 gray mask: a 4 x 4 block at 1, a 4 x 4 block at 0.4 (outside), the rest 0. */
static NnImage *
mask_image (void)
{
  NnImage *img = nn_image_new (1, 12, 16);
  memset (img->data, 0, sizeof (float) * 12 * 16);
  for (int y = 2; y < 6; y++)
    for (int x = 3; x < 7; x++)
      {
        img->data[y * 16 + x] = 1.0f;
        img->data[(y + 5) * 16 + x + 6] = 0.4f;
      }
  return img;
}

static void
test_mask_load (TestUtilTmpDir *fx,
                gconstpointer   data)
{
  (void) data;
  char *input = test_util_tmp_dir_path (fx, "slice.png");
  g_assert_null (nn_mask_find (input));
  char *path = nn_mask_path_new (input);
  NnImage *img = mask_image ();
  g_assert_true (nn_image_save_png (img, path, 8, NULL));
  char *found = nn_mask_find (input);
  g_assert_cmpstr (found, ==, path);
  free (found);

  /* At its own size: exactly the block at 1. */
  size_t lit = 0;
  uint8_t *mask = nn_mask_load (path, 12, 16, &lit, NULL);
  g_assert_nonnull (mask);
  g_assert_cmpuint (lit, ==, 16);
  for (int y = 0; y < 12; y++)
    for (int x = 0; x < 16; x++)
      g_assert_cmpint (mask[y * 16 + x], ==, y >= 2 && y < 6 && x >= 3 && x < 7);
  free (mask);

  /* Fitted like an input image: the same as thresholding nn_image_fit's plane at 0.5; RGB
   * gives the same as gray. */
  NnImage *fit = nn_image_fit (img, 6, 6);
  NnImage *rgb = nn_image_convert (img, 3);
  size_t want = 0;
  for (int p = 0; p < 36; p++)
    want += fit->data[p] >= 0.5f;
  g_assert_cmpuint (want, >, 0);
  mask = nn_mask_load (path, 6, 6, &lit, NULL);
  uint8_t *from_rgb = nn_mask_from_image (rgb, 6, 6, NULL, NULL);
  g_assert_cmpuint (lit, ==, want);
  for (int p = 0; p < 36; p++)
    {
      g_assert_cmpint (mask[p], ==, fit->data[p] >= 0.5f);
      g_assert_cmpint (from_rgb[p], ==, mask[p]);
    }
  free (mask);
  free (from_rgb);
  nn_image_free (rgb);
  nn_image_free (fit);

  /* An empty mask is read (lit 0); a missing or broken one is an error naming the file. */
  memset (img->data, 0, sizeof (float) * 12 * 16);
  g_assert_true (nn_image_save_png (img, path, 8, NULL));
  mask = nn_mask_load (path, 12, 16, &lit, NULL);
  g_assert_nonnull (mask);
  g_assert_cmpuint (lit, ==, 0);
  free (mask);
  char *missing = test_util_tmp_dir_path (fx, "missing.mask.png");
  NnError err = { 0 };
  g_assert_null (nn_mask_load (missing, 12, 16, &lit, &err));
  g_assert_nonnull (strstr (err.message, missing));
  test_util_write_file (path, "not a png", 9);
  nn_error_clear (&err);
  g_assert_null (nn_mask_load (path, 12, 16, &lit, &err));
  g_assert_nonnull (strstr (err.message, path));
  g_free (missing);
  nn_image_free (img);
  free (path);
  g_free (input);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/method/rows", test_registry_rows);
  g_test_add_func ("/nn/method/same-as-per-family", test_registry_same_as_per_family);
  g_test_add_func ("/nn/method/map-logits", test_map_logits);
  g_test_add_func ("/nn/method/flags-match-behaviour", test_registry_flags);
  g_test_add_func ("/nn/faithfulness/settings", test_faith_settings);
  g_test_add_func ("/nn/faithfulness/randomization-method", test_randomization_method);
  g_test_add_func ("/nn/mask/path", test_mask_path);
  g_test_add ("/nn/mask/load", TestUtilTmpDir, NULL, test_util_tmp_dir_setup, test_mask_load,
              test_util_tmp_dir_teardown);
  return g_test_run ();
}
