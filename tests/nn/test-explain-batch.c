/* SPDX-License-Identifier: MIT */
/* The batched perturbation methods (Score-CAM, SmoothGrad, Integrated Gradients, deletion,
 * insertion, ROAD) at every batch size, on one thread and on two, against references computed
 * here one input at a time on a batch-1 context; progress per pass and cancellation between
 * passes; the batch size rule; a whole run at the chosen batch against batch 1. */
#include <glib.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

/* input (3, 10, 10) -> conv "conv1" (6, 3x3, pad 1) -> batch norm -> tanh "feat" -> conv
 * "conv2" (5, 3x3, stride 2, pad 1) -> sigmoid "deep" (5, 5, 5) -> global average pool ->
 * linear "fc" (4). Smooth activations: no ties for the gradients to fall on. (Score-CAM also
 * runs with a ReLU as "deep", for channels that are constant.) */
#define IN_C 3
#define SIDE 10
#define HW (SIDE * SIDE)
#define IN_SIZE (IN_C * HW)
#define DEEP 5
#define DEEP_SIDE 5
#define CLASSES 4

typedef struct
{
  NnGraph *g;
  int      deep, fc;
} Net;

static void
net_build_act (Net       *net,
               NnActKind  deep_act)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", IN_C, SIDE, SIDE);
  int c1 = nn_graph_add_conv2d (g, "conv1", in, 6, 3, 1, 1, 1, 1, true);
  int bn = nn_graph_add_batchnorm (g, "bn1", c1);
  int feat = nn_graph_add_activation (g, "feat", bn, NN_ACT_TANH);
  int c2 = nn_graph_add_conv2d (g, "conv2", feat, DEEP, 3, 2, 1, 1, 1, true);
  net->deep = nn_graph_add_activation (g, "deep", c2, deep_act);
  int gap = nn_graph_add_global_avgpool (g, "gap", net->deep);
  net->fc = nn_graph_add_linear (g, "fc", gap, CLASSES, true);
  NnRng rng;
  nn_rng_init (&rng, 21);
  nn_graph_init_params (g, &rng);
  /* Running statistics that do something in eval mode. */
  float *mean = nn_graph_param_data (g, nn_graph_node_param (g, bn, NN_PARAM_RUNNING_MEAN));
  float *var = nn_graph_param_data (g, nn_graph_node_param (g, bn, NN_PARAM_RUNNING_VAR));
  for (int c = 0; c < 6; c++)
    {
      mean[c] = 0.05f * (float) c - 0.1f;
      var[c] = 0.5f + 0.2f * (float) c;
    }
  /* Logits far enough apart that the softmax weights differ from channel to channel. */
  float *w = nn_graph_param_data (g, nn_graph_node_param (g, net->fc, NN_PARAM_WEIGHT));
  for (int i = 0; i < CLASSES * DEEP; i++)
    w[i] *= 4.0f;
  net->g = g;
}

static void
net_build (Net *net)
{
  net_build_act (net, NN_ACT_SIGMOID);
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

/* The reference: one input at a time on a batch-1 context without workers. */

/* The logits of x into logits (CLASSES). */
static void
one_logits (NnContext   *one,
            const Net   *net,
            const float *x,
            double      *logits)
{
  memcpy (nn_context_input (one), x, sizeof (float) * IN_SIZE);
  nn_context_forward (one, net->fc);
  const float *l = nn_context_output (one, net->fc);
  for (int c = 0; c < CLASSES; c++)
    logits[c] = l[c];
}

static double
one_probability (NnContext   *one,
                 const Net   *net,
                 const float *x,
                 int          target)
{
  double l[CLASSES], m = -INFINITY, z = 0.0;
  one_logits (one, net, x, l);
  for (int c = 0; c < CLASSES; c++)
    m = fmax (m, l[c]);
  for (int c = 0; c < CLASSES; c++)
    z += exp (l[c] - m);
  return exp (l[target] - m) / z;
}

/* d logit_target / dx into g (IN_SIZE), by the context's backward from a one-hot seed. */
static void
one_gradient (NnContext   *one,
              const Net   *net,
              const float *x,
              int          target,
              double      *g)
{
  memcpy (nn_context_input (one), x, sizeof (float) * IN_SIZE);
  nn_context_forward (one, net->fc);
  float *seed = nn_context_grad (one, net->fc);
  memset (seed, 0, sizeof (float) * CLASSES);
  seed[target] = 1.0f;
  nn_context_backward (one, net->fc, NN_BACKWARD_INPUT, -1);
  const float *dx = nn_context_grad (one, 0);
  for (int i = 0; i < IN_SIZE; i++)
    g[i] = dx[i];
}

/* Bilinear resampling of in (h, w) to out (H, W), pixel centres aligned, clamped. */
static void
upsample (double       *out,
          const double *in,
          int           h,
          int           w,
          int           H,
          int           W)
{
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        double sy = fmax ((y + 0.5) * h / H - 0.5, 0.0), sx = fmax ((x + 0.5) * w / W - 0.5, 0.0);
        int y0 = MIN ((int) sy, h - 1), x0 = MIN ((int) sx, w - 1);
        int y1 = MIN (y0 + 1, h - 1), x1 = MIN (x0 + 1, w - 1);
        double ty = sy - y0, tx = sx - x0;
        double top = in[y0 * w + x0] * (1 - tx) + in[y0 * w + x1] * tx;
        double bot = in[y1 * w + x0] * (1 - tx) + in[y1 * w + x1] * tx;
        out[y * W + x] = top * (1 - ty) + bot * ty;
      }
}

/* The pixels by decreasing value, ties in index order. */
static void
pixel_order (int         *order,
             const float *map)
{
  for (int p = 0; p < HW; p++)
    order[p] = p;
  for (int i = 1; i < HW; i++)
    for (int j = i; j > 0 && map[order[j]] > map[order[j - 1]]; j--)
      {
        int t = order[j];
        order[j] = order[j - 1];
        order[j - 1] = t;
      }
}

/* A context of `batch` inputs on `threads` threads. */
static NnContext *
context_new (const Net *net,
             int        batch,
             int        threads,
             unsigned   flags)
{
  NnContext *ctx = nn_context_new (net->g, batch, flags, NULL);
  g_assert_nonnull (ctx);
  g_assert_true (nn_context_set_threads (ctx, threads, NULL));
  return ctx;
}

/* Counts progress reports and cancels after the `cancel_after`-th. */
typedef struct
{
  atomic_int cancel;
  int        cancel_after;
  int        calls;
  int        last_done, total;
  bool       increasing;
} Progress;

static void
on_progress (int   done,
             int   total,
             void *user_data)
{
  Progress *p = user_data;
  if (p->calls > 0 && done <= p->last_done)
    p->increasing = false;
  p->last_done = done;
  p->total = total;
  if (++p->calls == p->cancel_after)
    atomic_store (&p->cancel, 1);
}

/* The batch sizes and thread counts every method is run at: one input per pass, sizes that
 * leave a partly filled last pass, and one larger than the whole job. */
static const int batches[] = { 1, 2, 3, 5, 64 };
static const int thread_counts[] = { 1, 2 };

static int
passes (int n,
        int batch)
{
  return (n + batch - 1) / batch;
}

static void
assert_close (double got,
              double want,
              double tol)
{
  if (!(fabs (got - want) <= tol * (1.0 + fabs (want))))
    g_error ("got %.9g, want %.9g", got, want);
}

/* Score-CAM on net against the definition, one masked input at a time: w_k = p_target (x *
 * M_k), M_k = A_k upsampled and scaled to [0, 1] (0 for a constant channel); map = sum_k w_k
 * A_k. `inputs`: how many different masked inputs the channels give (constant channels share
 * the zero image; all-zero ones need none), which sets the passes. */
static void
check_scorecam (const Net *net,
                int        inputs)
{
  NnContext *one = context_new (net, 1, 1, NN_CONTEXT_BACKWARD);
  float x[IN_SIZE], masked[IN_SIZE];
  random_input (x, IN_SIZE, 3);
  const int target = 2;
  memcpy (nn_context_input (one), x, sizeof x);
  nn_context_forward (one, net->fc);
  float A[DEEP * DEEP_SIDE * DEEP_SIDE];
  memcpy (A, nn_context_output (one, net->deep), sizeof A);
  double want[DEEP_SIDE * DEEP_SIDE] = { 0 };
  for (int k = 0; k < DEEP; k++)
    {
      double a[DEEP_SIDE * DEEP_SIDE], mask[HW], lo = INFINITY, hi = -INFINITY;
      for (int p = 0; p < DEEP_SIDE * DEEP_SIDE; p++)
        a[p] = A[k * DEEP_SIDE * DEEP_SIDE + p];
      upsample (mask, a, DEEP_SIDE, DEEP_SIDE, SIDE, SIDE);
      for (int p = 0; p < HW; p++)
        {
          lo = fmin (lo, mask[p]);
          hi = fmax (hi, mask[p]);
        }
      for (int c = 0; c < IN_C; c++)
        for (int p = 0; p < HW; p++)
          masked[c * HW + p] = hi > lo ? (float) (x[c * HW + p] * (mask[p] - lo) / (hi - lo))
                                       : 0.0f;
      double w = one_probability (one, net, masked, target);
      for (int p = 0; p < DEEP_SIDE * DEEP_SIDE; p++)
        want[p] += w * a[p];
    }

  for (size_t bi = 0; bi < G_N_ELEMENTS (batches); bi++)
    for (size_t ti = 0; ti < G_N_ELEMENTS (thread_counts); ti++)
      {
        NnContext *ctx = context_new (net, batches[bi], thread_counts[ti], 0);
        NnCamSpec spec;
        nn_cam_spec_init (&spec);
        spec.method = NN_CAM_SCORECAM;
        spec.layer = net->deep;
        spec.target = target;
        spec.keep_negative = true;
        Progress prog = { .increasing = true };
        NnExplainControl control = { &prog.cancel, on_progress, &prog };
        NnMap *m = nn_cam_compute (ctx, x, &spec, &control, NULL);
        g_assert_nonnull (m);
        g_assert_cmpint (prog.calls, ==, passes (inputs, batches[bi]));
        g_assert_cmpint (prog.last_done, ==, DEEP);
        g_assert_true (prog.increasing);
        for (int p = 0; p < DEEP_SIDE * DEEP_SIDE; p++)
          assert_close (m->layer_map[p], want[p], 1e-5);
        nn_map_free (m);
        nn_context_free (ctx);
      }
  nn_context_free (one);
}

static void
test_scorecam (void)
{
  Net net;
  net_build (&net);
  check_scorecam (&net, DEEP);
  nn_graph_free (net.g);
}

/* Channel 1 of "deep" is 0.5 everywhere, channel 3 zero everywhere (a ReLU of constants):
 * three channels with inputs of their own and the zero image for channel 1. */
static void
test_scorecam_constant_channels (void)
{
  Net net;
  net_build_act (&net, NN_ACT_RELU);
  int conv2 = nn_graph_find (net.g, "conv2");
  float *w = nn_graph_param_data (net.g, nn_graph_node_param (net.g, conv2, NN_PARAM_WEIGHT));
  float *b = nn_graph_param_data (net.g, nn_graph_node_param (net.g, conv2, NN_PARAM_BIAS));
  const int per = 6 * 3 * 3;
  memset (w + 1 * per, 0, sizeof (float) * per);
  memset (w + 3 * per, 0, sizeof (float) * per);
  b[1] = 0.5f;
  b[3] = -1.0f;
  /* The other channels must vary for the count of passes to hold. */
  NnContext *one = context_new (&net, 1, 1, 0);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 3);
  memcpy (nn_context_input (one), x, sizeof x);
  nn_context_forward (one, net.deep);
  const float *A = nn_context_output (one, net.deep);
  for (int k = 0; k < DEEP; k++)
    {
      float lo = A[k * 25], hi = A[k * 25];
      for (int p = 1; p < 25; p++)
        {
          lo = fminf (lo, A[k * 25 + p]);
          hi = fmaxf (hi, A[k * 25 + p]);
        }
      g_assert_true ((hi > lo) == (k != 1 && k != 3));
    }
  nn_context_free (one);
  check_scorecam (&net, 4);
  nn_graph_free (net.g);
}

/* SmoothGrad or IG at every batch size and thread count against want_channels and want_map. */
static void
check_saliency (const Net        *net,
                const float      *x,
                NnSaliencyMethod  method,
                int               target,
                int               samples,
                const float      *baseline,
                const double     *want_channels,
                const double     *want_map)
{
  for (size_t bi = 0; bi < G_N_ELEMENTS (batches); bi++)
    for (size_t ti = 0; ti < G_N_ELEMENTS (thread_counts); ti++)
      {
        NnContext *ctx = context_new (net, batches[bi], thread_counts[ti], NN_CONTEXT_BACKWARD);
        NnSaliencySpec spec;
        nn_saliency_spec_init (&spec);
        spec.method = method;
        spec.target = target;
        spec.samples = samples;
        spec.noise = 0.2f;
        spec.seed = 77;
        spec.baseline = baseline;
        Progress prog = { .increasing = true };
        NnExplainControl control = { &prog.cancel, on_progress, &prog };
        NnMap *m = nn_saliency_compute (ctx, x, &spec, &control, NULL);
        g_assert_nonnull (m);
        g_assert_cmpint (prog.calls, ==, passes (samples, batches[bi]));
        g_assert_cmpint (prog.last_done, ==, samples);
        g_assert_true (prog.increasing);
        for (int i = 0; i < IN_SIZE; i++)
          assert_close (m->channels[i], want_channels[i], 1e-5);
        for (int p = 0; p < HW; p++)
          assert_close (m->map[p], want_map[p], 1e-5);
        nn_map_free (m);
        nn_context_free (ctx);
      }
}

static void
test_smoothgrad (void)
{
  Net net;
  net_build (&net);
  NnContext *one = context_new (&net, 1, 1, NN_CONTEXT_BACKWARD);
  float x[IN_SIZE], noisy[IN_SIZE];
  random_input (x, IN_SIZE, 4);
  enum { N = 7 };
  /* Noise drawn input after input, value after value, from one generator seeded with the
   * seed: sigma = noise (max x - min x). Channels: the mean gradient; map: the mean of
   * max_c |gradient|. */
  float lo = x[0], hi = x[0];
  for (int i = 0; i < IN_SIZE; i++)
    {
      lo = fminf (lo, x[i]);
      hi = fmaxf (hi, x[i]);
    }
  NnRng rng;
  nn_rng_init (&rng, 77);
  double channels[IN_SIZE] = { 0 }, map[HW] = { 0 }, g[IN_SIZE];
  for (int s = 0; s < N; s++)
    {
      for (int i = 0; i < IN_SIZE; i++)
        noisy[i] = x[i] + 0.2f * (hi - lo) * nn_rng_normal (&rng);
      one_gradient (one, &net, noisy, 1, g);
      for (int i = 0; i < IN_SIZE; i++)
        channels[i] += g[i] / N;
      for (int p = 0; p < HW; p++)
        {
          double most = 0.0;
          for (int c = 0; c < IN_C; c++)
            most = fmax (most, fabs (g[c * HW + p]));
          map[p] += most / N;
        }
    }
  check_saliency (&net, x, NN_SALIENCY_SMOOTHGRAD, 1, N, NULL, channels, map);
  nn_context_free (one);
  nn_graph_free (net.g);
}

static void
test_integrated_gradients (void)
{
  Net net;
  net_build (&net);
  NnContext *one = context_new (&net, 1, 1, NN_CONTEXT_BACKWARD);
  float x[IN_SIZE], base[IN_SIZE], point[IN_SIZE];
  random_input (x, IN_SIZE, 5);
  random_input (base, IN_SIZE, 6);
  for (int i = 0; i < IN_SIZE; i++)
    base[i] *= 0.2f;
  enum { N = 9 };
  /* (x - x') times the mean gradient at the midpoints x' + (s + 0.5) / N (x - x'); the map sums
   * the channels. */
  double channels[IN_SIZE] = { 0 }, map[HW] = { 0 }, g[IN_SIZE];
  for (int s = 0; s < N; s++)
    {
      float alpha = ((float) s + 0.5f) / (float) N;
      for (int i = 0; i < IN_SIZE; i++)
        point[i] = base[i] + alpha * (x[i] - base[i]);
      one_gradient (one, &net, point, 3, g);
      for (int i = 0; i < IN_SIZE; i++)
        channels[i] += g[i] / N * (x[i] - base[i]);
    }
  for (int c = 0; c < IN_C; c++)
    for (int p = 0; p < HW; p++)
      map[p] += channels[c * HW + p];
  check_saliency (&net, x, NN_SALIENCY_IG, 3, N, base, channels, map);
  nn_context_free (one);
  nn_graph_free (net.g);
}

/* out = each plane of x blurred by a Gaussian of sigma px (radius ceil (3 sigma), normalized,
 * borders replicated), rows first. */
static void
blur (float       *out,
      const float *x,
      float        sigma)
{
  int r = (int) ceilf (3.0f * sigma);
  float k[64], sum = 0.0f;
  g_assert_cmpint (2 * r + 1, <=, 64);
  for (int i = -r; i <= r; i++)
    sum += k[i + r] = expf (-0.5f * (float) (i * i) / (sigma * sigma));
  for (int i = 0; i <= 2 * r; i++)
    k[i] /= sum;
  for (int c = 0; c < IN_C; c++)
    {
      float tmp[HW];
      const float *p = x + c * HW;
      for (int y = 0; y < SIDE; y++)
        for (int xx = 0; xx < SIDE; xx++)
          {
            float s = 0.0f;
            for (int i = -r; i <= r; i++)
              s += k[i + r] * p[y * SIDE + CLAMP (xx + i, 0, SIDE - 1)];
            tmp[y * SIDE + xx] = s;
          }
      for (int y = 0; y < SIDE; y++)
        for (int xx = 0; xx < SIDE; xx++)
          {
            float s = 0.0f;
            for (int i = -r; i <= r; i++)
              s += k[i + r] * tmp[CLAMP (y + i, 0, SIDE - 1) * SIDE + xx];
            out[c * HW + y * SIDE + xx] = s;
          }
    }
}

/* A curve computed at every batch size and thread count, against want (n points). */
typedef bool (*CurveFn) (NnContext *ctx, const float *x, const float *map, int target,
                         NnCurve *curve, const NnExplainControl *control, NnError *err);

static void
check_curve (const Net    *net,
             const float  *x,
             const float  *map,
             int           target,
             CurveFn       fn,
             const double *want,
             int           n)
{
  for (size_t bi = 0; bi < G_N_ELEMENTS (batches); bi++)
    for (size_t ti = 0; ti < G_N_ELEMENTS (thread_counts); ti++)
      {
        NnContext *ctx = context_new (net, batches[bi], thread_counts[ti], 0);
        Progress prog = { .increasing = true };
        NnExplainControl control = { &prog.cancel, on_progress, &prog };
        NnCurve curve;
        g_assert_true (fn (ctx, x, map, target, &curve, &control, NULL));
        g_assert_cmpint (curve.n, ==, n);
        g_assert_cmpint (prog.calls, ==, passes (n, batches[bi]));
        g_assert_cmpint (prog.last_done, ==, n);
        g_assert_true (prog.increasing);
        for (int i = 0; i < n; i++)
          assert_close (curve.prob[i], want[i], 1e-5);

        /* Cancelled after the first pass: no curve, whatever the batch. */
        if (passes (n, batches[bi]) > 1)
          {
            Progress stop = { .cancel_after = 1 };
            NnExplainControl stop_control = { &stop.cancel, on_progress, &stop };
            NnError err = { 0 };
            g_assert_false (fn (ctx, x, map, target, &curve, &stop_control, &err));
            g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
            g_assert_cmpint (stop.calls, ==, 1);
          }
        nn_context_free (ctx);
      }
}

enum { STEPS = 8, ROAD_N = 4 };
static const float road_fractions[ROAD_N] = { 0.1f, 0.3f, 0.5f, 0.8f };

static bool
deletion (NnContext *ctx, const float *x, const float *map, int target, NnCurve *curve,
          const NnExplainControl *control, NnError *err)
{
  return nn_faith_curve (ctx, x, map, target, NN_CURVE_DELETION, STEPS, 0.0f, curve, control,
                         err);
}

static bool
insertion (NnContext *ctx, const float *x, const float *map, int target, NnCurve *curve,
           const NnExplainControl *control, NnError *err)
{
  return nn_faith_curve (ctx, x, map, target, NN_CURVE_INSERTION, STEPS, 1.5f, curve, control,
                         err);
}

static bool
road_morf (NnContext *ctx, const float *x, const float *map, int target, NnCurve *curve,
           const NnExplainControl *control, NnError *err)
{
  return nn_faith_road (ctx, x, map, target, road_fractions, ROAD_N, true, 0.05f, 9, curve,
                        control, err);
}

static bool
road_lerf (NnContext *ctx, const float *x, const float *map, int target, NnCurve *curve,
           const NnExplainControl *control, NnError *err)
{
  return nn_faith_road (ctx, x, map, target, road_fractions, ROAD_N, false, 0.05f, 9, curve,
                        control, err);
}

static void
test_curves (void)
{
  Net net;
  net_build (&net);
  NnContext *one = context_new (&net, 1, 1, 0);
  float x[IN_SIZE], map[HW], img[IN_SIZE], blurred[IN_SIZE];
  random_input (x, IN_SIZE, 8);
  random_input (map, HW, 10);
  map[7] = map[3];  /* a tie */
  const int target = 0;
  int order[HW];
  pixel_order (order, map);

  /* Deletion: the first round (i HW / STEPS) pixels in order set to 0 in every channel;
   * insertion: copied from the input into the blurred input. */
  double want[STEPS + 1];
  blur (blurred, x, 1.5f);
  for (int kind = 0; kind < 2; kind++)
    {
      for (int i = 0; i <= STEPS; i++)
        {
          memcpy (img, kind == 0 ? x : blurred, sizeof img);
          int changed = (int) lround ((double) i * HW / STEPS);
          for (int j = 0; j < changed; j++)
            for (int c = 0; c < IN_C; c++)
              img[c * HW + order[j]] = kind == 0 ? 0.0f : x[c * HW + order[j]];
          want[i] = one_probability (one, &net, img, target);
        }
      check_curve (&net, x, map, target, kind == 0 ? deletion : insertion, want, STEPS + 1);
    }

  /* ROAD: the top (MoRF) or bottom (LeRF) round (f HW) pixels removed, each plane imputed,
   * then noise of sigma 0.05 on the removed values from a generator seeded with seed + i. */
  for (int morf = 0; morf < 2; morf++)
    {
      double want_road[ROAD_N];
      for (int i = 0; i < ROAD_N; i++)
        {
          uint8_t removed[HW] = { 0 };
          int k = (int) lround ((double) road_fractions[i] * HW);
          for (int j = 0; j < k; j++)
            removed[order[morf ? j : HW - 1 - j]] = 1;
          memcpy (img, x, sizeof img);
          float *scratch = g_new (float, nn_faith_road_scratch_size (SIDE, SIDE));
          NnRng rng;
          nn_rng_init (&rng, 9 + (uint64_t) i);
          for (int c = 0; c < IN_C; c++)
            {
              nn_faith_road_impute (img + c * HW, removed, SIDE, SIDE, scratch);
              for (int p = 0; p < HW; p++)
                if (removed[p])
                  img[c * HW + p] += 0.05f * nn_rng_normal (&rng);
            }
          g_free (scratch);
          want_road[i] = one_probability (one, &net, img, target);
        }
      check_curve (&net, x, map, target, morf ? road_morf : road_lerf, want_road, ROAD_N);
    }
  nn_context_free (one);
  nn_graph_free (net.g);
}

/* Cancelled after the first pass on two threads: Score-CAM and SmoothGrad give no map. */
static void
test_cancel_between_passes (void)
{
  Net net;
  net_build (&net);
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 11);
  for (int saliency = 0; saliency < 2; saliency++)
    {
      NnContext *ctx = context_new (&net, 2, 2, saliency ? NN_CONTEXT_BACKWARD : 0);
      Progress stop = { .cancel_after = 1 };
      NnExplainControl control = { &stop.cancel, on_progress, &stop };
      NnMethodSpec spec;
      nn_method_spec_init (&spec);
      spec.method = saliency ? NN_METHOD_SMOOTHGRAD : NN_METHOD_SCORECAM;
      spec.layer = saliency ? -1 : net.deep;
      spec.samples = 6;
      NnError err = { 0 };
      g_assert_null (nn_method_compute (ctx, x, &spec, &control, &err));
      g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
      g_assert_cmpint (stop.calls, ==, 1);
      g_assert_cmpint (stop.last_done, ==, 2);
      nn_context_free (ctx);
    }
  nn_graph_free (net.g);
}

/* The rule: a multiple of the threads, one input per thread at least, as many as fit the
 * budget, NN_EXPLAIN_BATCH_MAX per thread at most, never more than the inputs. */
static void
test_batch_size (void)
{
  Net net;
  net_build (&net);
  size_t fwd = nn_explain_sample_bytes (net.g, 0);
  size_t sum = 0;
  for (int i = 0; i < net.g->n_nodes; i++)
    sum += sizeof (float) * nn_shape_size (net.g->nodes[i].shape);
  g_assert_cmpuint (fwd, ==, sum);
  g_assert_cmpuint (nn_explain_sample_bytes (net.g, NN_CONTEXT_BACKWARD), ==, 2 * sum);
  /* A small model: the cap. */
  g_assert_cmpint (nn_explain_batch_size (net.g, 0, 1, 0), ==, NN_EXPLAIN_BATCH_MAX);
  g_assert_cmpint (nn_explain_batch_size (net.g, 0, 2, 0), ==, 2 * NN_EXPLAIN_BATCH_MAX);
  g_assert_cmpint (nn_explain_batch_size (net.g, 0, 2, 25), ==, 25);
  nn_graph_free (net.g);

  /* A large one: 64 x 256 x 256 floats (16 MB) per input, a share per thread. */
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", 3, 256, 256);
  int c = nn_graph_add_conv2d (g, "conv", in, 64, 3, 1, 1, 1, 1, true);
  int gap = nn_graph_add_global_avgpool (g, "gap", c);
  nn_graph_add_linear (g, "fc", gap, 2, true);
  g_assert_cmpint (nn_explain_batch_size (g, 0, 1, 0), ==, 1);
  g_assert_cmpint (nn_explain_batch_size (g, 0, 3, 100), ==, 3);
  g_assert_cmpint (nn_explain_batch_size (g, NN_CONTEXT_BACKWARD, 2, 100), ==, 2);
  nn_graph_free (g);

  /* A middle one: the budget decides, and gradient buffers halve it. */
  g = nn_graph_new ();
  in = nn_graph_add_input (g, "input", 1, 128, 128);
  c = nn_graph_add_conv2d (g, "conv", in, 16, 3, 1, 1, 1, 1, true);
  gap = nn_graph_add_global_avgpool (g, "gap", c);
  nn_graph_add_linear (g, "fc", gap, 2, true);
  size_t per = nn_explain_sample_bytes (g, 0);
  int want = (int) MIN (NN_EXPLAIN_BATCH_BYTES / per, (size_t) NN_EXPLAIN_BATCH_MAX);
  g_assert_cmpint (want, >, 1);
  g_assert_cmpint (want, <, NN_EXPLAIN_BATCH_MAX);
  g_assert_cmpint (nn_explain_batch_size (g, 0, 2, 0), ==, 2 * want);
  g_assert_cmpint (nn_explain_batch_size (g, NN_CONTEXT_BACKWARD, 2, 0), ==,
                   2 * (int) (NN_EXPLAIN_BATCH_BYTES / (2 * per)));
  nn_graph_free (g);
}

/* A whole run at the chosen batch on two threads (the randomized model's too) gives the run at
 * batch 1 on one. */
static void
test_run_chosen_batch (void)
{
  Net net;
  net_build (&net);
  NnModel *model = nn_model_new (net.g, "batched");
  g_assert_nonnull (model);
  NnInput input = { 0 };
  float x[IN_SIZE];
  random_input (x, IN_SIZE, 12);
  input.tensor = x;
  input.c = IN_C;
  input.h = SIDE;
  input.w = SIDE;
  input.path = "test";
  const NnMethod methods[] = { NN_METHOD_SCORECAM, NN_METHOD_SMOOTHGRAD, NN_METHOD_IG };
  for (size_t mi = 0; mi < G_N_ELEMENTS (methods); mi++)
    {
      NnExplanation *e[2];
      for (int k = 0; k < 2; k++)
        {
          NnExplainSpec spec;
          nn_explain_spec_init (&spec);
          spec.map.method = methods[mi];
          spec.map.samples = 5;
          spec.faith.metrics = NN_FAITH_ALL;
          spec.faith.steps = 6;
          spec.faith.road_points = 3;
          spec.batch = k == 0 ? 1 : 0;
          spec.threads = k == 0 ? 1 : 2;
          NnError err = { 0 };
          e[k] = nn_explain_run (model, &input, &spec, NULL, &err);
          if (e[k] == NULL)
            g_error ("%s", err.message);
        }
      for (int p = 0; p < HW; p++)
        assert_close (e[1]->map->map[p], e[0]->map->map[p], 1e-5);
      const NnCurve *c0[] = { &e[0]->metrics.deletion, &e[0]->metrics.insertion,
                              &e[0]->metrics.road_morf, &e[0]->metrics.road_lerf };
      const NnCurve *c1[] = { &e[1]->metrics.deletion, &e[1]->metrics.insertion,
                              &e[1]->metrics.road_morf, &e[1]->metrics.road_lerf };
      for (size_t ci = 0; ci < G_N_ELEMENTS (c0); ci++)
        {
          g_assert_cmpint (c1[ci]->n, ==, c0[ci]->n);
          for (int i = 0; i < c0[ci]->n; i++)
            assert_close (c1[ci]->prob[i], c0[ci]->prob[i], 1e-5);
        }
      g_assert_cmpfloat (fabs (e[1]->metrics.rho - e[0]->metrics.rho), <=, 1e-6);
      nn_explanation_free (e[0]);
      nn_explanation_free (e[1]);
    }
  nn_model_free (model);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/explain-batch/scorecam", test_scorecam);
  g_test_add_func ("/nn/explain-batch/scorecam-constant-channels",
                   test_scorecam_constant_channels);
  g_test_add_func ("/nn/explain-batch/smoothgrad", test_smoothgrad);
  g_test_add_func ("/nn/explain-batch/integrated-gradients", test_integrated_gradients);
  g_test_add_func ("/nn/explain-batch/curves", test_curves);
  g_test_add_func ("/nn/explain-batch/cancel-between-passes", test_cancel_between_passes);
  g_test_add_func ("/nn/explain-batch/batch-size", test_batch_size);
  g_test_add_func ("/nn/explain-batch/run-chosen-batch", test_run_chosen_batch);
  return g_test_run ();
}
