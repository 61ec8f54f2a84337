/* SPDX-License-Identifier: MIT */
/* The explain pipeline: the method registry (its flags against what each method does, its
 * functions against nn_cam_compute and nn_saliency_compute), masks, and nn_explain_run against
 * the per-method functions and metrics computed by hand. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"

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

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/method/rows", test_registry_rows);
  g_test_add_func ("/nn/method/same-as-per-family", test_registry_same_as_per_family);
  g_test_add_func ("/nn/method/map-logits", test_map_logits);
  g_test_add_func ("/nn/method/flags-match-behaviour", test_registry_flags);
  return g_test_run ();
}
