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

/* The nets here are CNNs: a method that needs attention maps (attention rollout, gradient-
 * weighted attention) must have been refused, saying why. True for such a method, whose result
 * the caller skips. */
static bool
assert_refused_without_attention (NnMethod       method,
                                  bool           produced,
                                  const NnError *err)
{
  if (!nn_method_has_flags (method, NN_METHOD_FLAG_ATTENTION))
    return false;
  g_assert_false (produced);
  g_assert_cmpint (err->code, ==, NN_ERROR_SPEC);
  char want[128];
  snprintf (want, sizeof want, "no attention maps: %s applies to vision transformers",
            nn_method_get_info (method)->name);
  g_assert_nonnull (strstr (err->message, want));
  return true;
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
  g_assert_cmpint (NN_METHOD_COUNT_, ==, 23);
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
                   "gradcam, gradcam++, xgradcam, hirescam, layercam, scorecam, eigencam, "
                   "ablationcam or eigengradcam");
  nn_method_format_names (names, sizeof names, 0, NN_METHOD_FLAG_CAM);
  g_assert_cmpstr (names, ==, "gradient, smoothgrad, ig, guided, guided-gradcam, fullgrad, "
                   "occlusion, "
                   "deeplift, gradientshap, lrp-epsilon-gamma-box, lrp-epsilon-plus-flat, "
                   "lrp-epsilon-alpha2-beta1, rollout or attn-grad");
  nn_method_format_names (names, sizeof names, NN_METHOD_FLAG_ATTENTION, 0);
  g_assert_cmpstr (names, ==, "rollout or attn-grad");
  g_assert_cmpstr (nn_method_get_info (NN_METHOD_ROLLOUT)->label, ==, "Attention rollout");
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
      /* The methods in files of their own have no per-family entry point
       * (tests/nn/test-attribution.c checks them). */
      if ((m > NN_METHOD_EIGENCAM && m < NN_METHOD_GRADIENT) || m > NN_METHOD_GUIDED_GRADCAM)
        continue;
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
      if (assert_refused_without_attention ((NnMethod) m, map != NULL, &err))
        continue;
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

      /* Attention: on this CNN the method is refused, saying why. */
      NnMap *fwd = compute (net.g, x, &spec, 1, NN_CONTEXT_BACKWARD, &err);
      if (assert_refused_without_attention ((NnMethod) m, fwd != NULL, &err))
        continue;
      nn_map_free (fwd);

      /* Gradients: without them the method fails cleanly; a method that needs none works on
       * a forward-only context. */
      fwd = compute (net.g, x, &spec, 1, 0, &err);
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
  g_assert_true (nn_faith_randomization_method (net.g, x, &ms, map, 1, 1, 5, &by_method, NULL,
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

/* nn_explain_run. */

typedef struct
{
  NnModel *model;
  NnInput *input;
  uint8_t  mask[SIDE * SIDE];
  char    *path;
} Setup;

/* A model around the test net and an input read from a .npy file of random values; a mask of
 * the lower right quarter. */
static void
setup_init (Setup          *su,
            TestUtilTmpDir *fx,
            uint64_t        seed)
{
  Net net;
  net_build (&net, seed);
  su->model = nn_model_new (net.g, "test");
  float x[IN_SIZE];
  random_input (x, IN_SIZE, seed + 100);
  su->path = test_util_tmp_dir_path (fx, "x.npy");
  const int dims[3] = { IN_C, SIDE, SIDE };
  g_assert_true (nn_npy_save (su->path, x, dims, 3, NULL));
  su->input = nn_input_load (su->path, su->model, NULL, NULL);
  g_assert_nonnull (su->input);
  g_assert_cmpmem (su->input->tensor, sizeof x, x, sizeof x);
  for (int y = 0; y < SIDE; y++)
    for (int xx = 0; xx < SIDE; xx++)
      su->mask[y * SIDE + xx] = y >= SIDE / 2 && xx >= SIDE / 2;
}

static void
setup_clear (Setup *su)
{
  nn_input_unref (su->input);
  nn_model_free (su->model);
  g_free (su->path);
}

static void
assert_curves_equal (const NnCurve *a,
                     const NnCurve *b)
{
  g_assert_cmpint (a->n, ==, b->n);
  g_assert_cmpmem (a->fraction, sizeof (float) * (size_t) a->n, b->fraction,
                   sizeof (float) * (size_t) b->n);
  g_assert_cmpmem (a->prob, sizeof (float) * (size_t) a->n, b->prob,
                   sizeof (float) * (size_t) b->n);
  g_assert_cmpfloat (a->auc, ==, b->auc);
}

/* The map, the top predictions and every metric, against the per-method function, a forward
 * pass of its own and the metrics computed by hand with the constants the front ends used. */
static void
test_run_same_as_by_hand (TestUtilTmpDir *fx,
                          gconstpointer   data)
{
  (void) data;
  Setup su;
  setup_init (&su, fx, 21);
  NnGraph *g = su.model->graph;
  const float *x = su.input->tensor;

  /* The top predictions of a forward pass of its own. */
  NnContext *fwd = nn_context_new (g, 1, 0, NULL);
  memcpy (nn_context_input (fwd), x, sizeof (float) * IN_SIZE);
  int logit = nn_explain_logit_node (g);
  nn_context_forward (fwd, logit);
  float logits[CLASSES];
  memcpy (logits, nn_context_output (fwd, logit), sizeof logits);
  nn_context_free (fwd);
  int order[CLASSES] = { 0, 1, 2 };
  for (int i = 1; i < CLASSES; i++)
    for (int j = i; j > 0 && logits[order[j]] > logits[order[j - 1]]; j--)
      {
        int t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }

  for (int m = 0; m < NN_METHOD_COUNT_; m++)
    {
      const NnMethodInfo *info = nn_method_get_info ((NnMethod) m);
      NnExplainSpec spec;
      nn_explain_spec_init (&spec);
      spec.map.method = (NnMethod) m;
      spec.map.samples = 6;
      spec.map.seed = 3;
      spec.faith.seed = 4;
      spec.batch = 5;
      spec.mask = su.mask;
      NnError err = { 0 };
      NnExplanation *e = nn_explain_run (su.model, su.input, &spec, NULL, &err);
      if (assert_refused_without_attention ((NnMethod) m, e != NULL, &err))
        continue;
      g_assert_nonnull (e);
      g_assert_cmpint (e->method, ==, m);
      g_assert_cmpuint (e->metrics.has, ==, NN_FAITH_ALL);

      int batch = (info->flags & NN_METHOD_FLAG_BATCHED) ? 5 : 1;
      NnMap *want = compute (g, x, &spec.map, batch,
                             (info->flags & NN_METHOD_FLAG_GRADIENTS) ? NN_CONTEXT_BACKWARD : 0,
                             &err);
      g_assert_nonnull (want);
      assert_maps_equal (e->map, want);

      g_assert_cmpint (e->k, ==, CLASSES);
      for (int k = 0; k < CLASSES; k++)
        {
          g_assert_cmpint (e->top_class[k], ==, order[k]);
          g_assert_cmpfloat (e->top_probability[k], ==,
                             nn_explain_softmax_at (logits, CLASSES, order[k]));
        }
      g_assert_cmpfloat (e->probability, ==,
                         nn_explain_softmax_at (logits, CLASSES, want->target));

      /* 20 steps, blur max (H, W) / 16, ROAD at 0.1f * (i + 1) with noise 0.01, 15 px. */
      NnContext *ctx = nn_context_new (g, 5, 0, NULL);
      NnCurve del, ins, morf, lerf;
      g_assert_true (nn_faith_curve (ctx, x, want->map, want->target, NN_CURVE_DELETION, 20,
                                     0.0f, &del, NULL, NULL));
      g_assert_true (nn_faith_curve (ctx, x, want->map, want->target, NN_CURVE_INSERTION, 20,
                                     (float) SIDE / 16.0f, &ins, NULL, NULL));
      float fractions[9];
      for (int i = 0; i < 9; i++)
        fractions[i] = 0.1f * (float) (i + 1);
      g_assert_true (nn_faith_road (ctx, x, want->map, want->target, fractions, 9, true, 0.01f,
                                    4, &morf, NULL, NULL));
      g_assert_true (nn_faith_road (ctx, x, want->map, want->target, fractions, 9, false,
                                    0.01f, 4, &lerf, NULL, NULL));
      nn_context_free (ctx);
      double morf_mean = 0.0, lerf_mean = 0.0, rho = 0.0;
      for (int i = 0; i < 9; i++)
        {
          morf_mean += (double) morf.prob[i] / 9;
          lerf_mean += (double) lerf.prob[i] / 9;
        }
      g_assert_true (nn_faith_randomization_method (g, x, &spec.map, want, batch, 1, 4, &rho,
                                                    NULL, NULL));
      assert_curves_equal (&e->metrics.deletion, &del);
      assert_curves_equal (&e->metrics.insertion, &ins);
      assert_curves_equal (&e->metrics.road_morf, &morf);
      assert_curves_equal (&e->metrics.road_lerf, &lerf);
      g_assert_cmpfloat (e->metrics.road_morf_mean, ==, morf_mean);
      g_assert_cmpfloat (e->metrics.road_lerf_mean, ==, lerf_mean);
      g_assert_cmpfloat (e->metrics.rho, ==, rho);
      g_assert_true (e->metrics.pointing
                     == nn_faith_pointing_game (want->map, su.mask, SIDE, SIDE, 15.0f));
      g_assert_cmpfloat (e->metrics.energy, ==,
                         nn_faith_energy_share (want->map, su.mask, SIDE, SIDE));

      NnExplanation *copy = nn_explanation_dup (e);
      nn_explanation_free (e);
      assert_maps_equal (copy->map, want);
      assert_curves_equal (&copy->metrics.road_lerf, &lerf);
      nn_explanation_free (copy);
      nn_map_free (want);
    }
  setup_clear (&su);
}

typedef struct
{
  const NnExplainSpec *spec;
  int                  n_started;
  NnExplainStage       started[64];
  int                  n_done;
  NnExplainStage       done[NN_EXPLAIN_STAGE_COUNT_];
  unsigned             has[NN_EXPLAIN_STAGE_COUNT_];
  bool                 map_at_first;
  double               fraction;       /* the last one reported, never decreasing */
  NnExplainStage       cancel_stage;   /* set the flag at this stage's ... */
  int                  cancel_at;      /* ... report number cancel_at (1: when it starts) */
  int                  reports_in_cancel_stage;
  atomic_int           cancel;
} Record;

static void
record_progress (NnExplainStage  stage,
                 int             done,
                 int             total,
                 void           *user_data)
{
  Record *r = user_data;
  g_assert_cmpint (done, >=, 0);
  g_assert_cmpint (done, <=, total);
  if (done == 0)
    {
      g_assert_cmpint (r->n_started, <, (int) G_N_ELEMENTS (r->started));
      r->started[r->n_started++] = stage;
    }
  double f = nn_explain_spec_fraction (r->spec, stage, done, total);
  g_assert_cmpfloat (f, >=, r->fraction);
  g_assert_cmpfloat (f, <=, 1.0);
  r->fraction = f;
  if (stage == r->cancel_stage && ++r->reports_in_cancel_stage == r->cancel_at)
    atomic_store (&r->cancel, 1);
}

static void
record_done (NnExplainStage       stage,
             const NnExplanation *so_far,
             void                *user_data)
{
  Record *r = user_data;
  if (r->n_done == 0)
    r->map_at_first = so_far->map != NULL && so_far->k > 0;
  r->has[r->n_done] = so_far->metrics.has;
  r->done[r->n_done++] = stage;
}

/* Progress and results arrive stage by stage, in order, for the stages asked for only. */
static void
test_run_stages_in_order (TestUtilTmpDir *fx,
                          gconstpointer   data)
{
  (void) data;
  Setup su;
  setup_init (&su, fx, 22);
  const unsigned asked[] = { NN_FAITH_ALL, NN_FAITH_INSERTION | NN_FAITH_RANDOMIZATION, 0 };
  for (size_t a = 0; a < G_N_ELEMENTS (asked); a++)
    {
      NnExplainSpec spec;
      nn_explain_spec_init (&spec);
      spec.map.method = NN_METHOD_SCORECAM;
      spec.batch = 2;
      spec.mask = su.mask;
      spec.faith.metrics = asked[a];
      Record r = { .spec = &spec, .cancel_stage = NN_EXPLAIN_STAGE_COUNT_ };
      NnExplainRunControl control = { &r.cancel, record_progress, record_done, &r };
      NnError err = { 0 };
      NnExplanation *e = nn_explain_run (su.model, su.input, &spec, &control, &err);
      g_assert_nonnull (e);
      g_assert_cmpuint (e->metrics.has, ==, asked[a]);
      g_assert_true (r.map_at_first);
      int n = 0;
      unsigned has = 0;
      for (int s = 0; s < NN_EXPLAIN_STAGE_COUNT_; s++)
        {
          bool runs = s == NN_EXPLAIN_STAGE_MAP || (asked[a] & (1u << (s - 1)));
          g_assert_true (runs == nn_explain_spec_runs_stage (&spec, (NnExplainStage) s));
          if (!runs)
            continue;
          g_assert_cmpint (r.started[n], ==, s);
          g_assert_cmpint (r.done[n], ==, s);
          /* The map stage brings the mask's metrics; each later one its own. */
          has |= s == NN_EXPLAIN_STAGE_MAP ? asked[a] & NN_FAITH_MASK : 1u << (s - 1);
          g_assert_cmpuint (r.has[n], ==, has);
          n++;
        }
      g_assert_cmpint (r.n_started, ==, n);
      g_assert_cmpint (r.n_done, ==, n);
      g_assert_cmpfloat (r.fraction, ==, 1.0);
      g_assert_cmpstr (nn_explain_stage_name (NN_EXPLAIN_STAGE_ROAD_LERF), ==, "ROAD LeRF");
      nn_explanation_free (e);
    }
  setup_clear (&su);
}

/* Cancelled in any stage, as it starts or after its first pass (the batched methods take more
 * than one in every stage): NN_ERROR_CANCELLED, nothing more delivered, everything freed
 * (ASan). */
static void
test_run_cancel (TestUtilTmpDir *fx,
                 gconstpointer   data)
{
  (void) data;
  Setup su;
  setup_init (&su, fx, 23);
  const NnMethod methods[] = { NN_METHOD_SCORECAM, NN_METHOD_SMOOTHGRAD, NN_METHOD_GRADCAM };
  for (size_t m = 0; m < G_N_ELEMENTS (methods); m++)
    for (int s = 0; s < NN_EXPLAIN_STAGE_COUNT_; s++)
      for (int at = 1; at <= (methods[m] == NN_METHOD_GRADCAM ? 1 : 2); at++)
        {
          NnExplainSpec spec;
          nn_explain_spec_init (&spec);
          spec.map.method = methods[m];
          spec.map.samples = 6;
          spec.batch = 2;
          Record r = { .spec = &spec, .cancel_stage = (NnExplainStage) s, .cancel_at = at };
          NnExplainRunControl control = { &r.cancel, record_progress, record_done, &r };
          NnError err = { 0 };
          g_assert_null (nn_explain_run (su.model, su.input, &spec, &control, &err));
          g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
          g_assert_cmpint (r.n_done, ==, s);
          g_assert_cmpint (r.started[r.n_started - 1], ==, s);
          g_assert_cmpint (r.reports_in_cancel_stage, ==, at);
        }
  /* Set before the run: nothing starts. */
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  Record r = { .spec = &spec, .cancel_stage = NN_EXPLAIN_STAGE_COUNT_ };
  atomic_store (&r.cancel, 1);
  NnExplainRunControl control = { &r.cancel, record_progress, record_done, &r };
  NnError err = { 0 };
  g_assert_null (nn_explain_run (su.model, su.input, &spec, &control, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  g_assert_cmpint (r.n_started, ==, 0);
  setup_clear (&su);
}

static void
test_run_bad_input (TestUtilTmpDir *fx,
                    gconstpointer   data)
{
  (void) data;
  Setup su;
  setup_init (&su, fx, 24);
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.faith.metrics = 0;
  NnError err = { 0 };

  /* An input built for a model of another shape, or for none. */
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", IN_C, SIDE / 2, SIDE);
  int conv = nn_graph_add_conv2d (g, "conv", in, 2, 3, 1, 1, 1, 1, true);
  int gap = nn_graph_add_global_avgpool (g, "gap", conv);
  nn_graph_add_linear (g, "fc", gap, CLASSES, true);
  NnModel *other = nn_model_new (g, "other");
  g_assert_null (nn_explain_run (other, su.input, &spec, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  g_assert_nonnull (strstr (err.message, su.path));
  NnInput *bare = nn_input_rebuild (su.input, NULL, NULL);
  g_assert_null (nn_explain_run (su.model, bare, &spec, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  nn_input_unref (bare);
  nn_model_free (other);

  /* A class out of range, a layer without extent, bad settings. */
  spec.map.target = CLASSES;
  g_assert_null (nn_explain_run (su.model, su.input, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "class"));
  spec.map.target = -1;
  spec.map.layer = nn_graph_find (su.model->graph, "gap");
  g_assert_null (nn_explain_run (su.model, su.input, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "gap"));
  spec.map.layer = -1;
  spec.faith.steps = 0;
  g_assert_null (nn_explain_run (su.model, su.input, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "steps"));
  spec.faith.steps = 20;
  spec.batch = -1;
  g_assert_null (nn_explain_run (su.model, su.input, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "batch"));
  spec.batch = 0;
  /* The map alone. */
  NnExplanation *e = nn_explain_run (su.model, su.input, &spec, NULL, &err);
  g_assert_nonnull (e);
  g_assert_cmpuint (e->metrics.has, ==, 0);
  nn_explanation_free (e);
  setup_clear (&su);
}

/* nn_explain_top_k against a full stable sort, with ties, NaN and every k. */
/* spec.no_winograd: the whole run on contexts without Winograd, so the input gradient of a
 * network whose 3x3 convolution takes Winograd (64 channels on 8x8) is the one an im2col
 * context computes, bit for bit, and not the default's. */
static void
test_run_no_winograd (TestUtilTmpDir *fx,
                      gconstpointer   data)
{
  (void) data;
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 64, 8, 8);
  int conv = nn_graph_add_conv2d (g, "conv", in, 64, 3, 1, 1, 1, 1, true);
  int relu = nn_graph_add_relu (g, "relu", conv);
  int gap = nn_graph_add_global_avgpool (g, "gap", relu);
  nn_graph_add_linear (g, "fc", gap, CLASSES, true);
  NnRng rng;
  nn_rng_init (&rng, 9);
  nn_graph_init_params (g, &rng);
  NnModel *model = nn_model_new (g, "wide");
  float *x = g_new (float, 64 * 8 * 8);
  random_input (x, 64 * 8 * 8, 10);
  g_autofree char *path = test_util_tmp_dir_path (fx, "wide.npy");
  const int dims[3] = { 64, 8, 8 };
  g_assert_true (nn_npy_save (path, x, dims, 3, NULL));
  NnInput *input = nn_input_load (path, model, NULL, NULL);
  g_assert_nonnull (input);

  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.map.method = NN_METHOD_GRADIENT;
  spec.map.target = 1;
  spec.faith.metrics = 0;
  NnError err = { 0 };
  NnExplanation *fast = nn_explain_run (model, input, &spec, NULL, &err);
  spec.no_winograd = true;
  NnExplanation *exact = nn_explain_run (model, input, &spec, NULL, &err);
  g_assert_nonnull (fast);
  g_assert_nonnull (exact);
  NnMap *im2col = compute (g, x, &spec.map, 1, NN_CONTEXT_BACKWARD | NN_CONTEXT_NO_WINOGRAD,
                           &err);
  NnMap *winograd = compute (g, x, &spec.map, 1, NN_CONTEXT_BACKWARD, &err);
  assert_maps_equal (exact->map, im2col);
  assert_maps_equal (fast->map, winograd);
  /* The two paths round differently: the test sees which one ran. */
  g_assert_true (memcmp (im2col->map, winograd->map,
                         sizeof (float) * (size_t) im2col->h * (size_t) im2col->w) != 0);
  nn_map_free (winograd);
  nn_map_free (im2col);
  nn_explanation_free (exact);
  nn_explanation_free (fast);
  nn_input_unref (input);
  g_free (x);
  nn_model_free (model);
}

static void
test_top_k (void)
{
  enum { N = 40 };
  GRand *rand = g_rand_new_with_seed (5);
  for (int round = 0; round < 20; round++)
    {
      float values[N];
      for (int i = 0; i < N; i++)
        values[i] = (float) g_rand_int_range (rand, -4, 5);  /* many ties */
      for (int i = 0; i < round % 3; i++)
        values[g_rand_int_range (rand, 0, N)] = NAN;
      /* Larger first, ties in index order, NaN last. */
      int want[N];
      for (int i = 0; i < N; i++)
        {
          int pos = i;
          for (; pos > 0; pos--)
            {
              float a = values[i], b = values[want[pos - 1]];
              if (!(a > b || (isnan (b) && !isnan (a))))
                break;
              want[pos] = want[pos - 1];
            }
          want[pos] = i;
        }
      for (int k = 0; k <= N; k++)
        {
          int order[N];
          nn_explain_top_k (order, values, N, k);
          for (int i = 0; i < k; i++)
            g_assert_cmpint (order[i], ==, want[i]);
        }
    }
  g_rand_free (rand);

  const float probs[5] = { 0.1f, 0.3f, 0.3f, 0.05f, 0.25f };
  int order[3];
  nn_explain_top_k (order, probs, 5, 3);
  g_assert_cmpint (order[0], ==, 1);
  g_assert_cmpint (order[1], ==, 2);
  g_assert_cmpint (order[2], ==, 4);
}

/* The output row itself after a final softmax, its softmax otherwise. */
static void
test_probabilities (void)
{
  const float row[4] = { 1.0f, -2.0f, 0.5f, 3.0f };
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 4, 1, 1);
  float probs[4];
  nn_explain_probabilities (probs, row, g);
  double sum = 0.0;
  for (int k = 0; k < 4; k++)
    {
      g_assert_cmpfloat_with_epsilon (probs[k], nn_explain_softmax_at (row, 4, k), 1e-6);
      sum += probs[k];
    }
  g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-6);
  nn_graph_add_softmax (g, "softmax", in);
  nn_explain_probabilities (probs, row, g);
  g_assert_cmpmem (probs, sizeof probs, row, sizeof row);
  nn_graph_free (g);
}

/* The baselines in the model's normalized space: black is (0 - mean) / std, uniform noise lies
 * in the normalized [0, 1] and follows its seed, the blur keeps a constant image and spreads an
 * impulse into weights summing to it; unknown names are refused. */
static void
test_baselines (void)
{
  Net net;
  net_build (&net, 5);
  NnModel *model = nn_model_new (net.g, "test");
  const float mean[IN_C] = { 0.5f, 0.25f, 0.1f }, std[IN_C] = { 0.5f, 0.2f, 2.0f };
  memcpy (model->mean, mean, sizeof mean);
  memcpy (model->std, std, sizeof std);
  const int hw = SIDE * SIDE;
  NnError err = { 0 };

  float *b = nn_baseline_new (NN_BASELINE_ZERO, model, NULL, 0.0f, 1, &err);
  for (int i = 0; i < IN_SIZE; i++)
    g_assert_cmpfloat (b[i], ==, 0.0f);
  free (b);
  b = nn_baseline_new (NN_BASELINE_BLACK, model, NULL, 0.0f, 1, &err);
  for (int c = 0; c < IN_C; c++)
    for (int p = 0; p < hw; p++)
      g_assert_cmpfloat_with_epsilon (b[c * hw + p], -mean[c] / std[c], 1e-6);
  free (b);

  float *u1 = nn_baseline_new (NN_BASELINE_UNIFORM, model, NULL, 0.0f, 7, &err);
  float *u2 = nn_baseline_new (NN_BASELINE_UNIFORM, model, NULL, 0.0f, 7, &err);
  float *u3 = nn_baseline_new (NN_BASELINE_UNIFORM, model, NULL, 0.0f, 8, &err);
  g_assert_cmpmem (u1, sizeof (float) * IN_SIZE, u2, sizeof (float) * IN_SIZE);
  g_assert_true (memcmp (u1, u3, sizeof (float) * IN_SIZE) != 0);
  for (int c = 0; c < IN_C; c++)
    {
      double lo = 1e9, hi = -1e9;
      for (int p = 0; p < hw; p++)
        {
          float pixel = u1[c * hw + p] * std[c] + mean[c];
          lo = MIN (lo, pixel);
          hi = MAX (hi, pixel);
        }
      g_assert_cmpfloat (lo, >=, -1e-6);
      g_assert_cmpfloat (hi, <=, 1.0 + 1e-6);
      g_assert_cmpfloat (hi - lo, >, 0.3);
    }
  free (u1);
  free (u2);
  free (u3);

  float x[IN_SIZE];
  for (int i = 0; i < IN_SIZE; i++)
    x[i] = 0.75f;
  x[hw + 3 * SIDE + 4] = 10.75f;
  b = nn_baseline_new (NN_BASELINE_BLUR, model, x, 1.0f, 1, &err);
  double excess = 0.0;
  for (int p = 0; p < hw; p++)
    {
      g_assert_cmpfloat_with_epsilon (b[p], 0.75f, 1e-5);
      g_assert_cmpfloat (b[hw + p], >=, 0.75f - 1e-5);
      excess += b[hw + p] - 0.75;
    }
  g_assert_cmpfloat_with_epsilon (excess, 10.0, 1e-3);
  g_assert_cmpfloat (b[hw + 3 * SIDE + 4], <, 10.75f / 4);
  g_assert_cmpfloat (b[hw + 3 * SIDE + 5], >, 0.75f + 0.5f);
  free (b);

  NnBaselineKind kind;
  g_assert_true (nn_baseline_kind_from_name ("blur", &kind));
  g_assert_cmpint (kind, ==, NN_BASELINE_BLUR);
  g_assert_cmpstr (nn_baseline_kind_name (NN_BASELINE_UNIFORM), ==, "uniform");
  g_assert_false (nn_baseline_kind_from_name ("grey", &kind));
  nn_model_free (model);
}

/* IG's convergence delta in the run: the sum of the attributions minus the difference of the
 * target logit between the input and the baseline (by a forward pass of its own), smaller with
 * more steps; other methods have none. */
static void
test_run_ig_delta (TestUtilTmpDir *fx,
                   gconstpointer   data)
{
  (void) data;
  Setup su;
  setup_init (&su, fx, 31);
  NnError err = { 0 };
  float *base = nn_baseline_new (NN_BASELINE_BLUR, su.model, su.input->tensor, 1.5f, 1, &err);
  g_assert_nonnull (base);
  double deltas[2];
  const int steps[2] = { 2, 200 };
  for (int k = 0; k < 2; k++)
    {
      NnExplainSpec spec;
      nn_explain_spec_init (&spec);
      spec.faith.metrics = 0;
      spec.map.method = NN_METHOD_IG;
      spec.map.samples = steps[k];
      spec.map.baseline = base;
      NnExplanation *e = nn_explain_run (su.model, su.input, &spec, NULL, &err);
      g_assert_nonnull (e);
      g_assert_true (e->has_delta);

      NnContext *fwd = nn_context_new (su.model->graph, 1, 0, NULL);
      int logit = nn_explain_logit_node (su.model->graph);
      float f[2];
      const float *inputs[2] = { su.input->tensor, base };
      for (int i = 0; i < 2; i++)
        {
          memcpy (nn_context_input (fwd), inputs[i], sizeof (float) * IN_SIZE);
          nn_context_forward (fwd, logit);
          f[i] = nn_context_output (fwd, logit)[e->map->target];
        }
      nn_context_free (fwd);
      double sum = 0.0;
      for (int i = 0; i < IN_SIZE; i++)
        sum += e->map->channels[i];
      g_assert_cmpfloat_with_epsilon (e->delta, sum - (f[0] - f[1]), 1e-4);
      deltas[k] = e->delta;
      nn_explanation_free (e);
    }
  g_assert_cmpfloat (fabs (deltas[1]), <, fabs (deltas[0]));
  g_assert_cmpfloat (fabs (deltas[1]), <, 0.05 * fabs (deltas[0]) + 1e-3);

  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.faith.metrics = 0;
  spec.map.method = NN_METHOD_SMOOTHGRAD;
  NnExplanation *e = nn_explain_run (su.model, su.input, &spec, NULL, &err);
  g_assert_false (e->has_delta);
  nn_explanation_free (e);
  free (base);
  setup_clear (&su);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/explain/top-k", test_top_k);
  g_test_add_func ("/nn/explain/probabilities", test_probabilities);
  g_test_add_func ("/nn/explain/baselines", test_baselines);
  g_test_add_func ("/nn/method/rows", test_registry_rows);
  g_test_add_func ("/nn/method/same-as-per-family", test_registry_same_as_per_family);
  g_test_add_func ("/nn/method/map-logits", test_map_logits);
  g_test_add_func ("/nn/method/flags-match-behaviour", test_registry_flags);
  g_test_add_func ("/nn/faithfulness/settings", test_faith_settings);
  g_test_add_func ("/nn/faithfulness/randomization-method", test_randomization_method);
  g_test_add_func ("/nn/mask/path", test_mask_path);
  g_test_add ("/nn/mask/load", TestUtilTmpDir, NULL, test_util_tmp_dir_setup, test_mask_load,
              test_util_tmp_dir_teardown);
#define ADD(path, fn) \
  g_test_add (path, TestUtilTmpDir, NULL, test_util_tmp_dir_setup, fn, \
              test_util_tmp_dir_teardown)
  ADD ("/nn/explain-run/same-as-by-hand", test_run_same_as_by_hand);
  ADD ("/nn/explain-run/stages-in-order", test_run_stages_in_order);
  ADD ("/nn/explain-run/cancel-frees-everything", test_run_cancel);
  ADD ("/nn/explain-run/no-winograd", test_run_no_winograd);
  ADD ("/nn/explain-run/bad-input", test_run_bad_input);
  ADD ("/nn/explain-run/ig-delta", test_run_ig_delta);
#undef ADD
  return g_test_run ();
}
