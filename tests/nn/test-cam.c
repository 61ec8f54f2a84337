/* SPDX-License-Identifier: MIT */
/* Class activation maps: upsampling and every gradient formula against direct implementations
 * (layer gradient derived by hand), Score-CAM and Eigen-CAM against known answers, the stopped
 * backward, bad input, cancellation, and the oriented-dashes model's known Grad-CAM. */
#include <glib.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "nn.h"

/* input (3, 6, 6) -> conv "conv1" (4, 3x3, pad 1) -> relu "feat" -> conv "head" (2, 3x3,
 * pad 1, no bias) -> global average pool -> linear "fc" (3). */
#define IN_C 3
#define SIDE 6
#define FEAT 4
#define HEAD 2
#define CLASSES 3

typedef struct
{
  NnGraph *g;
  int      feat, head, gap, fc;
} Net;

static void
net_build (Net     *net,
           uint64_t seed)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", IN_C, SIDE, SIDE);
  int c1 = nn_graph_add_conv2d (g, "conv1", in, FEAT, 3, 1, 1, 1, 1, true);
  net->feat = nn_graph_add_relu (g, "feat", c1);
  net->head = nn_graph_add_conv2d (g, "head", net->feat, HEAD, 3, 1, 1, 1, 1, false);
  net->gap = nn_graph_add_global_avgpool (g, "gap", net->head);
  net->fc = nn_graph_add_linear (g, "fc", net->gap, CLASSES, true);
  NnRng rng;
  nn_rng_init (&rng, seed);
  nn_graph_init_params (g, &rng);
  float *b = nn_graph_param_data (g, nn_graph_node_param (g, 1, NN_PARAM_BIAS));
  for (int k = 0; k < FEAT; k++)
    b[k] = 0.1f;
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

/* d logit_c / d feat (k, y, x) by hand: the logit is sum_o Wfc[c,o] mean_ij head[o,i,j], and
 * head[o,i,j] = sum_k,dy,dx Wh[o,k,dy,dx] feat[k, i+dy-1, j+dx-1]. */
static void
hand_gradient (const Net *net,
               int        c,
               double    *G)
{
  const float *wh = nn_graph_param_data (net->g, nn_graph_node_param (net->g, net->head,
                                                                      NN_PARAM_WEIGHT));
  const float *wfc = nn_graph_param_data (net->g, nn_graph_node_param (net->g, net->fc,
                                                                       NN_PARAM_WEIGHT));
  memset (G, 0, sizeof (double) * FEAT * SIDE * SIDE);
  for (int o = 0; o < HEAD; o++)
    for (int i = 0; i < SIDE; i++)
      for (int j = 0; j < SIDE; j++)
        for (int k = 0; k < FEAT; k++)
          for (int dy = 0; dy < 3; dy++)
            for (int dx = 0; dx < 3; dx++)
              {
                int y = i + dy - 1, x = j + dx - 1;
                if (y < 0 || y >= SIDE || x < 0 || x >= SIDE)
                  continue;
                G[(k * SIDE + y) * SIDE + x] += (double) wfc[c * HEAD + o] / (SIDE * SIDE)
                                                * (double) wh[((o * FEAT + k) * 3 + dy) * 3 + dx];
              }
}

/* The formulas written out directly from the papers, in double. */
static void
naive_cam (double      *map,
           const float *A,
           const double *G,
           NnCamMethod  method)
{
  const int HW = SIDE * SIDE;
  for (int p = 0; p < HW; p++)
    map[p] = 0.0;
  for (int k = 0; k < FEAT; k++)
    {
      const float *a = A + k * HW;
      const double *g = G + k * HW;
      double suma = 0.0, w = 0.0;
      for (int p = 0; p < HW; p++)
        suma += a[p];
      for (int p = 0; p < HW; p++)
        switch (method)
          {
          case NN_CAM_GRADCAM:
            w += g[p] / HW;
            break;
          case NN_CAM_GRADCAM_PP:
            if (g[p] != 0.0)
              w += pow (g[p], 2) / (2 * pow (g[p], 2) + suma * pow (g[p], 3)) * fmax (g[p], 0.0);
            break;
          case NN_CAM_XGRADCAM:
            w += a[p] / suma * g[p];
            break;
          case NN_CAM_HIRESCAM:
            map[p] += g[p] * a[p];
            break;
          case NN_CAM_LAYERCAM:
            map[p] += fmax (g[p], 0.0) * a[p];
            break;
          case NN_CAM_SCORECAM:
          case NN_CAM_EIGENCAM:
          case NN_CAM_COUNT_:
          default:
            g_assert_not_reached ();
          }
      if (method == NN_CAM_GRADCAM || method == NN_CAM_GRADCAM_PP || method == NN_CAM_XGRADCAM)
        for (int p = 0; p < HW; p++)
          map[p] += w * a[p];
    }
}

static void
test_upsample (void)
{
  /* PyTorch's interpolate (bilinear, align_corners=False) of [[0, 1], [2, 3]] to 4 x 4. */
  const float in[4] = { 0, 1, 2, 3 };
  const float want[16] = { 0, 0.25f, 0.75f, 1, 0.5f, 0.75f, 1.25f, 1.5f,
                           1.5f, 1.75f, 2.25f, 2.5f, 2, 2.25f, 2.75f, 3 };
  float out[16];
  nn_explain_upsample (out, in, 2, 2, 4, 4);
  for (int i = 0; i < 16; i++)
    g_assert_cmpfloat_with_epsilon (out[i], want[i], 1e-6);
  /* Same size: the identity. */
  float same[4];
  nn_explain_upsample (same, in, 2, 2, 2, 2);
  g_assert_cmpmem (same, sizeof same, in, sizeof in);
}

static void
test_gradient_formulas (void)
{
  const NnCamMethod methods[] = { NN_CAM_GRADCAM, NN_CAM_GRADCAM_PP, NN_CAM_XGRADCAM,
                                  NN_CAM_HIRESCAM, NN_CAM_LAYERCAM };
  Net net;
  net_build (&net, 3);
  NnContext *ctx = nn_context_new (net.g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[IN_C * SIDE * SIDE];
  random_input (x, G_N_ELEMENTS (x), 5);
  double G[FEAT * SIDE * SIDE], want[SIDE * SIDE];
  for (int c = 0; c < CLASSES; c++)
    for (size_t m = 0; m < G_N_ELEMENTS (methods); m++)
      {
        NnCamSpec spec;
        nn_cam_spec_init (&spec);
        spec.method = methods[m];
        spec.layer = net.feat;
        spec.target = c;
        NnError err = { 0 };
        NnMap *map = nn_cam_compute (ctx, x, &spec, NULL, &err);
        g_assert_nonnull (map);
        g_assert_cmpint (map->target, ==, c);
        g_assert_cmpint (map->lh, ==, SIDE);
        hand_gradient (&net, c, G);
        naive_cam (want, nn_context_output (ctx, net.feat), G, methods[m]);
        double scale = 1e-12;
        for (int p = 0; p < SIDE * SIDE; p++)
          scale = fmax (scale, fabs (want[p]));
        bool any_negative = false;
        for (int p = 0; p < SIDE * SIDE; p++)
          {
            g_assert_cmpfloat (fabs (map->layer_map[p] - want[p]), <=, 1e-5 * scale);
            /* Same resolution: the shown map is the ReLU of the layer map. */
            g_assert_cmpfloat (fabs (map->map[p] - fmax (want[p], 0.0)), <=, 1e-5 * scale);
            any_negative |= want[p] < 0.0;
          }
        g_assert_false (map->is_signed);
        nn_map_free (map);
        /* keep_negative keeps the signed values. */
        spec.keep_negative = true;
        map = nn_cam_compute (ctx, x, &spec, NULL, &err);
        g_assert_nonnull (map);
        g_assert_true (map->is_signed);
        for (int p = 0; p < SIDE * SIDE; p++)
          g_assert_cmpfloat (fabs (map->map[p] - want[p]), <=, 1e-5 * scale);
        if (methods[m] == NN_CAM_HIRESCAM && c == 0)
          g_assert_true (any_negative);
        nn_map_free (map);
      }
  nn_context_free (ctx);
  nn_graph_free (net.g);
}

/* The default target is the top prediction; its score is the logit. */
static void
test_default_target_and_layer (void)
{
  Net net;
  net_build (&net, 4);
  g_assert_cmpint (nn_explain_default_layer (net.g), ==, net.head);
  NnContext *ctx = nn_context_new (net.g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[IN_C * SIDE * SIDE];
  random_input (x, G_N_ELEMENTS (x), 6);
  NnCamSpec spec;
  nn_cam_spec_init (&spec);
  NnMap *map = nn_cam_compute (ctx, x, &spec, NULL, NULL);
  g_assert_nonnull (map);
  g_assert_cmpint (map->layer, ==, net.head);
  const float *logits = nn_context_output (ctx, net.fc);
  int top = 0;
  for (int c = 1; c < CLASSES; c++)
    top = logits[c] > logits[top] ? c : top;
  g_assert_cmpint (map->target, ==, top);
  g_assert_cmpfloat (map->score, ==, logits[top]);
  nn_map_free (map);
  nn_context_free (ctx);
  nn_graph_free (net.g);

  /* ResNet-18: the last ReLU of layer4. */
  NnArchSpec as = { .name = "resnet18", .in_c = 3, .in_h = 64, .in_w = 64, .n_classes = 5,
                    .width = 0.125f, .seed = 1 };
  NnGraph *g = nn_arch_build (&as, NULL);
  g_assert_nonnull (g);
  int layer = nn_explain_default_layer (g);
  g_assert_cmpint (layer, >=, 0);
  g_assert_cmpint (g->nodes[layer].op, ==, NN_OP_ACTIVATION);
  g_assert_true (g_str_has_prefix (g->nodes[layer].name, "layer4."));
  g_assert_cmpint (g->nodes[layer + 1].op, ==, NN_OP_GLOBAL_AVGPOOL);
  nn_graph_free (g);
}

/* Grad-CAM's backward stops at the layer: the input gradient is never written. */
static void
test_backward_stops_at_layer (void)
{
  Net net;
  net_build (&net, 5);
  NnContext *ctx = nn_context_new (net.g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[IN_C * SIDE * SIDE];
  random_input (x, G_N_ELEMENTS (x), 7);
  float *gin = nn_context_grad (ctx, 0);
  for (size_t i = 0; i < G_N_ELEMENTS (x); i++)
    gin[i] = 12345.0f;
  NnCamSpec spec;
  nn_cam_spec_init (&spec);
  spec.layer = net.feat;
  NnMap *map = nn_cam_compute (ctx, x, &spec, NULL, NULL);
  g_assert_nonnull (map);
  for (size_t i = 0; i < G_N_ELEMENTS (x); i++)
    g_assert_cmpfloat (gin[i], ==, 12345.0f);
  nn_map_free (map);
  nn_context_free (ctx);
  nn_graph_free (net.g);
}

typedef struct
{
  atomic_int cancel;
  int        calls, last_done, total, cancel_after;
} Progress;

static void
on_progress (int   done,
             int   total,
             void *user_data)
{
  Progress *p = user_data;
  g_assert_cmpint (done, >, p->last_done);
  g_assert_cmpint (done, <=, total);
  p->last_done = done;
  p->total = total;
  if (++p->calls == p->cancel_after)
    atomic_store (&p->cancel, 1);
}

/* Score-CAM through a batch of 3 against one masked input at a time, built here. */
static void
test_scorecam_naive (void)
{
  Net net;
  net_build (&net, 8);
  NnContext *ctx = nn_context_new (net.g, 3, 0, NULL);
  NnContext *one = nn_context_new (net.g, 1, 0, NULL);
  float x[IN_C * SIDE * SIDE];
  random_input (x, G_N_ELEMENTS (x), 9);
  NnCamSpec spec;
  nn_cam_spec_init (&spec);
  spec.method = NN_CAM_SCORECAM;
  spec.layer = net.feat;
  spec.target = 1;
  Progress prog = { 0 };
  NnExplainControl control = { &prog.cancel, on_progress, &prog };
  NnMap *map = nn_cam_compute (ctx, x, &spec, &control, NULL);
  g_assert_nonnull (map);
  g_assert_cmpint (prog.calls, ==, 2);  /* 4 channels in batches of 3 */
  g_assert_cmpint (prog.last_done, ==, FEAT);

  memcpy (nn_context_input (one), x, sizeof x);
  nn_context_forward (one, -1);
  float A[FEAT * SIDE * SIDE];
  memcpy (A, nn_context_output (one, net.feat), sizeof A);
  double want[SIDE * SIDE] = { 0 };
  for (int k = 0; k < FEAT; k++)
    {
      const float *a = A + k * SIDE * SIDE;
      float lo = a[0], hi = a[0];
      for (int p = 0; p < SIDE * SIDE; p++)
        {
          lo = fminf (lo, a[p]);
          hi = fmaxf (hi, a[p]);
        }
      float *xin = nn_context_input (one);
      for (int c = 0; c < IN_C; c++)
        for (int p = 0; p < SIDE * SIDE; p++)
          xin[c * SIDE * SIDE + p] = x[c * SIDE * SIDE + p]
                                     * (hi > lo ? (a[p] - lo) / (hi - lo) : 0.0f);
      nn_context_forward (one, -1);
      const float *l = nn_context_output (one, net.fc);
      double z = exp (l[0]) + exp (l[1]) + exp (l[2]);
      double w = exp (l[1]) / z;
      for (int p = 0; p < SIDE * SIDE; p++)
        want[p] += w * a[p];
    }
  for (int p = 0; p < SIDE * SIDE; p++)
    g_assert_cmpfloat (fabs (map->layer_map[p] - want[p]), <=, 1e-5 * (1.0 + fabs (want[p])));
  nn_map_free (map);

  /* Cancelled after the first batch. */
  Progress stop = { .cancel_after = 1 };
  NnExplainControl stop_control = { &stop.cancel, on_progress, &stop };
  NnError err = { 0 };
  g_assert_null (nn_cam_compute (ctx, x, &spec, &stop_control, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  g_assert_cmpint (stop.calls, ==, 1);
  nn_context_free (one);
  nn_context_free (ctx);
  nn_graph_free (net.g);
}

/* A worker thread owns the context and runs Score-CAM; the main thread cancels it after its
 * first pass, as the application's Explain view does. The first progress report waits for the
 * flag, so the outcome does not depend on timing; both threads block on a condition variable
 * while they wait (pthread's, which ThreadSanitizer sees). */
typedef struct
{
  NnContext       *ctx;
  const float     *x;
  NnCamSpec        spec;
  atomic_int       cancel;
  pthread_mutex_t  lock;
  pthread_cond_t   changed;
  bool             started;   /* under lock */
  NnExplainControl control;
  NnError          err;
  NnMap           *map;
} Job;

static void
job_progress (int   done,
              int   total,
              void *user_data)
{
  Job *job = user_data;
  (void) total;
  if (done == 0)
    return;
  pthread_mutex_lock (&job->lock);
  if (!job->started)
    {
      job->started = true;
      pthread_cond_broadcast (&job->changed);
      while (!atomic_load (&job->cancel))
        pthread_cond_wait (&job->changed, &job->lock);
    }
  pthread_mutex_unlock (&job->lock);
}

static gpointer
job_run (gpointer data)
{
  Job *job = data;
  job->map = nn_cam_compute (job->ctx, job->x, &job->spec, &job->control, &job->err);
  return NULL;
}

static void
test_cancel_from_other_thread (void)
{
  Net net;
  net_build (&net, 14);
  float x[IN_C * SIDE * SIDE];
  random_input (x, G_N_ELEMENTS (x), 15);
  Job job = { .x = x };
  pthread_mutex_init (&job.lock, NULL);
  pthread_cond_init (&job.changed, NULL);
  job.ctx = nn_context_new (net.g, 1, 0, NULL);
  nn_cam_spec_init (&job.spec);
  job.spec.method = NN_CAM_SCORECAM;
  job.spec.layer = net.feat;
  job.control = (NnExplainControl) { &job.cancel, job_progress, &job };
  GThread *thread = g_thread_new ("cam", job_run, &job);
  pthread_mutex_lock (&job.lock);
  while (!job.started)
    pthread_cond_wait (&job.changed, &job.lock);
  atomic_store (&job.cancel, 1);
  pthread_cond_broadcast (&job.changed);
  pthread_mutex_unlock (&job.lock);
  g_thread_join (thread);
  g_assert_null (job.map);
  g_assert_cmpint (job.err.code, ==, NN_ERROR_CANCELLED);
  /* The context still works afterwards. */
  atomic_store (&job.cancel, 0);
  job.control.progress = NULL;
  job_run (&job);
  g_assert_nonnull (job.map);
  nn_map_free (job.map);
  nn_context_free (job.ctx);
  pthread_cond_destroy (&job.changed);
  pthread_mutex_destroy (&job.lock);
  nn_graph_free (net.g);
}

/* Eigen-CAM at the input: channels that are one spatial pattern v times positive gains u_k,
 * plus offsets, have v (centred) as their first principal component. */
static void
test_eigencam_known_component (void)
{
  Net net;
  net_build (&net, 10);
  NnContext *ctx = nn_context_new (net.g, 1, 0, NULL);
  const int HW = SIDE * SIDE;
  float x[IN_C * SIDE * SIDE], v[SIDE * SIDE];
  NnRng rng;
  nn_rng_init (&rng, 11);
  double vmean = 0.0;
  for (int p = 0; p < HW; p++)
    vmean += v[p] = nn_rng_normal (&rng);
  vmean /= HW;
  for (int c = 0; c < IN_C; c++)
    for (int p = 0; p < HW; p++)
      x[c * HW + p] = (0.5f + (float) c) * v[p] + (float) c - 1.0f;
  NnCamSpec spec;
  nn_cam_spec_init (&spec);
  spec.method = NN_CAM_EIGENCAM;
  spec.layer = 0;
  spec.keep_negative = true;
  NnMap *map = nn_cam_compute (ctx, x, &spec, NULL, NULL);
  g_assert_nonnull (map);
  /* map = s (v - mean v) with s > 0. */
  double s = 0.0, n2 = 0.0;
  for (int p = 0; p < HW; p++)
    {
      s += map->layer_map[p] * (v[p] - vmean);
      n2 += (v[p] - vmean) * (v[p] - vmean);
    }
  s /= n2;
  g_assert_cmpfloat (s, >, 0.0);
  for (int p = 0; p < HW; p++)
    g_assert_cmpfloat (fabs (map->layer_map[p] - s * (v[p] - vmean)), <=, 1e-4 * s);
  nn_map_free (map);
  nn_context_free (ctx);
  nn_graph_free (net.g);

  /* Random activations: no unit direction projects the centred channels further. */
  enum { K = 7, P = 20 };
  float A[K * P], proj[P], R[K * P];
  for (int i = 0; i < K * P; i++)
    A[i] = nn_rng_normal (&rng);
  g_assert_true (nn_cam_eigen_projection (proj, A, K, P));
  for (int k = 0; k < K; k++)
    {
      double m = 0.0;
      for (int p = 0; p < P; p++)
        m += A[k * P + p];
      for (int p = 0; p < P; p++)
        R[k * P + p] = A[k * P + p] - (float) (m / P);
    }
  double best = 0.0;
  for (int p = 0; p < P; p++)
    best += (double) proj[p] * proj[p];
  for (int trial = 0; trial < 500; trial++)
    {
      double u[K], un = 0.0, pn = 0.0;
      for (int k = 0; k < K; k++)
        {
          u[k] = nn_rng_normal (&rng);
          un += u[k] * u[k];
        }
      for (int p = 0; p < P; p++)
        {
          double q = 0.0;
          for (int k = 0; k < K; k++)
            q += u[k] / sqrt (un) * R[k * P + p];
          pn += q * q;
        }
      g_assert_cmpfloat (pn, <=, best * (1.0 + 1e-4));
    }
}

static void
test_bad_input (void)
{
  Net net;
  net_build (&net, 12);
  NnContext *ctx = nn_context_new (net.g, 1, NN_CONTEXT_BACKWARD, NULL);
  NnContext *fwd = nn_context_new (net.g, 1, 0, NULL);
  float x[IN_C * SIDE * SIDE];
  random_input (x, G_N_ELEMENTS (x), 13);
  NnCamSpec spec;
  nn_cam_spec_init (&spec);
  NnError err = { 0 };

  spec.target = CLASSES;
  g_assert_null (nn_cam_compute (ctx, x, &spec, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  g_assert_nonnull (strstr (err.message, "class 3 out of range"));
  spec.target = -2;
  g_assert_null (nn_cam_compute (ctx, x, &spec, NULL, &err));

  spec.target = -1;
  spec.layer = net.gap;
  g_assert_null (nn_cam_compute (ctx, x, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "'gap' has no spatial extent"));
  spec.layer = net.fc + 1;
  g_assert_null (nn_cam_compute (ctx, x, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "does not exist"));

  /* Gradient methods need gradient buffers; Score-CAM does not. */
  spec.layer = -1;
  g_assert_null (nn_cam_compute (fwd, x, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "gradient buffers"));
  spec.method = NN_CAM_EIGENCAM;
  NnMap *map = nn_cam_compute (fwd, x, &spec, NULL, &err);
  g_assert_nonnull (map);
  nn_map_free (map);

  /* A NaN in the input. */
  x[5] = NAN;
  g_assert_null (nn_cam_compute (fwd, x, &spec, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_NUMERIC);

  /* Cancelled before it starts. */
  x[5] = 0.0f;
  atomic_int cancel = 1;
  NnExplainControl control = { &cancel, NULL, NULL };
  spec.method = NN_CAM_GRADCAM;
  g_assert_null (nn_cam_compute (ctx, x, &spec, &control, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);

  NnCamMethod m;
  g_assert_true (nn_cam_method_from_name ("gradcam++", &m));
  g_assert_cmpint (m, ==, NN_CAM_GRADCAM_PP);
  g_assert_false (nn_cam_method_from_name ("gradcam+", &m));
  for (int i = 0; i < NN_CAM_COUNT_; i++)
    {
      g_assert_true (nn_cam_method_from_name (nn_cam_method_name ((NnCamMethod) i), &m));
      g_assert_cmpint (m, ==, i);
    }
  nn_context_free (fwd);
  nn_context_free (ctx);
  nn_graph_free (net.g);
}

/* The hand-set dashes model counts dashes exactly, and every gradient CAM of the majority
 * class puts all its energy on the centres of the majority-orientation dashes. */
static void
test_dashes_known_answer (void)
{
  const int S = NN_DASHES_SIZE;
  NnModel *model = nn_synth_dashes_model_new (S);
  g_assert_nonnull (model);
  NnContext *ctx = nn_context_new (model->graph, 1, NN_CONTEXT_BACKWARD, NULL);
  int logit = nn_explain_logit_node (model->graph);
  g_assert_cmpint (nn_explain_default_layer (model->graph), ==,
                   nn_graph_find (model->graph, "detect_relu"));
  float *img = g_new (float, S * S);
  uint8_t *orient = g_new (uint8_t, S * S), *mask = g_new (uint8_t, S * S);
  NnRng rng;
  nn_rng_init (&rng, 42);
  const NnCamMethod methods[] = { NN_CAM_GRADCAM, NN_CAM_GRADCAM_PP, NN_CAM_XGRADCAM,
                                  NN_CAM_HIRESCAM, NN_CAM_LAYERCAM };
  int hits = 0, total = 0;
  for (int i = 0; i < 40; i++)
    {
      NnDashesInfo info;
      nn_synth_dashes_draw (img, orient, S, &rng, &info);
      g_assert_cmpint (info.n_horizontal, !=, info.n_vertical);
      g_assert_cmpint (info.n_horizontal + info.n_vertical, >=, 3);
      int lit = 0;
      for (int p = 0; p < S * S; p++)
        lit += orient[p] != 0;
      g_assert_cmpint (lit, ==, NN_DASHES_LENGTH * (info.n_horizontal + info.n_vertical));
      for (size_t m = 0; m < G_N_ELEMENTS (methods); m++)
        for (int cls = 0; cls < 2; cls++)
          {
            int count = cls == 0 ? info.n_horizontal : info.n_vertical;
            NnCamSpec spec;
            nn_cam_spec_init (&spec);
            spec.method = methods[m];
            spec.target = m == 0 && cls == info.label ? -1 : cls;
            NnMap *map = nn_cam_compute (ctx, img, &spec, NULL, NULL);
            g_assert_nonnull (map);
            g_assert_cmpint (map->target, ==, cls);
            const float *logits = nn_context_output (ctx, logit);
            g_assert_cmpfloat_with_epsilon (logits[0], info.n_horizontal, 1e-3);
            g_assert_cmpfloat_with_epsilon (logits[1], info.n_vertical, 1e-3);
            for (int p = 0; p < S * S; p++)
              mask[p] = orient[p] == cls + 1;
            if (count == 0)
              {
                for (int p = 0; p < S * S; p++)
                  g_assert_cmpfloat (map->map[p], ==, 0.0f);
              }
            else
              {
                g_assert_true (nn_faith_pointing_game (map->map, mask, S, S, 0.0f));
                g_assert_cmpfloat (nn_faith_energy_share (map->map, mask, S, S), >, 0.999);
                /* One peak per dash of this orientation. */
                int peaks = 0;
                for (int p = 0; p < S * S; p++)
                  peaks += map->map[p] > 0.0f;
                g_assert_cmpint (peaks, ==, count);
              }
            if (cls == info.label)
              {
                hits += nn_faith_pointing_game (map->map, mask, S, S, 0.0f);
                total++;
              }
            nn_map_free (map);
          }
    }
  g_test_message ("dashes: pointing game %d / %d on the majority class", hits, total);
  g_assert_cmpint (hits, ==, total);
  g_free (img);
  g_free (orient);
  g_free (mask);
  nn_context_free (ctx);
  nn_model_free (model);
}

/* A token net: input (3, 4, 4) -> conv "patch" (4, 2x2 stride 2) -> its 2 x 2 grid as 4 patch
 * tokens "patches" (4, 4) -> a class token "cls" made from the first -> "seq" (5, 4) -> dense
 * "embed" (6) -> GELU "tokens" (5, 6) -> dense "mix" -> ReLU -> the first 3 tokens "three"
 * (3, 6) -> mean over tokens -> linear "fc" (3). */
typedef struct
{
  NnGraph *g;
  int      patches, tokens, three, fc;
} TokenNet;

static void
token_net_build (TokenNet *net)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", IN_C, 4, 4);
  int patch = nn_graph_add_conv2d (g, "patch", in, 4, 2, 2, 0, 1, 1, true);
  const int flat_dims[2] = { 4, 4 }, seq_dims[2] = { 5, 4 }, perm[2] = { 1, 0 };
  int flat = nn_graph_add_reshape_shape (g, "flat", patch, nn_shape_of (2, flat_dims));
  net->patches = nn_graph_add_transpose (g, "patches", flat, perm);
  int first = nn_graph_add_slice (g, "first", net->patches, 0, 0, 1);
  int cls = nn_graph_add_dense (g, "cls", first, 4, true);
  const int parts[2] = { cls, net->patches };
  int cat = nn_graph_add_concat (g, "cat", parts, 2);
  int seq = nn_graph_add_reshape_shape (g, "seq", cat, nn_shape_of (2, seq_dims));
  int embed = nn_graph_add_dense (g, "embed", seq, 6, true);
  net->tokens = nn_graph_add_activation (g, "tokens", embed, NN_ACT_GELU);
  int mix = nn_graph_add_dense (g, "mix", net->tokens, 6, true);
  int act = nn_graph_add_relu (g, "act", mix);
  net->three = nn_graph_add_slice (g, "three", act, 0, 0, 3);
  int pool = nn_graph_add_reduce (g, NN_OP_REDUCE_MEAN, "pool", net->three, 1, false);
  net->fc = nn_graph_add_linear (g, "fc", pool, CLASSES, true);
  NnRng rng;
  nn_rng_init (&rng, 11);
  nn_graph_init_params (g, &rng);
  net->g = g;
}

/* Grad-CAM by hand from a token layer's activations and gradients (N, E): the tokens from
 * `skip` on are the grid positions, the features the channels. */
static void
token_gradcam (double      *want,
               const float *act,
               const float *grad,
               int          skip,
               int          n,
               int          e)
{
  const int positions = n - skip;
  memset (want, 0, sizeof (double) * (size_t) positions);
  for (int k = 0; k < e; k++)
    {
      double w = 0.0;
      for (int t = skip; t < n; t++)
        w += grad[t * e + k];
      w /= positions;
      for (int t = skip; t < n; t++)
        want[t - skip] += w * act[t * e + k];
    }
}

/* Token layers through the patch grid: with a class token (dropped) and without, Grad-CAM
 * against the hand formula on the engine's own activations and gradients, upsampled to the
 * input; a token layer with no square grid is refused, saying why, and is never the default. */
static void
test_token_layers (void)
{
  TokenNet net;
  token_net_build (&net);
  NnContext *ctx = nn_context_new (net.g, 1, NN_CONTEXT_BACKWARD, NULL);
  NnContext *ref = nn_context_new (net.g, 1, NN_CONTEXT_BACKWARD, NULL);
  float x[IN_C * 16];
  random_input (x, G_N_ELEMENTS (x), 9);
  const struct { int layer, n, e, skip; } cases[] = {
    { net.tokens, 5, 6, 1 },
    { net.patches, 4, 4, 0 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int c = 0; c < CLASSES; c++)
      {
        NnCamSpec spec;
        nn_cam_spec_init (&spec);
        spec.layer = cases[i].layer;
        spec.target = c;
        spec.keep_negative = true;
        NnError err = { 0 };
        NnMap *map = nn_cam_compute (ctx, x, &spec, NULL, &err);
        g_assert_nonnull (map);
        g_assert_cmpint (map->lh, ==, 2);
        g_assert_cmpint (map->lw, ==, 2);
        g_assert_cmpint (map->h, ==, 4);

        memcpy (nn_context_input (ref), x, sizeof x);
        nn_context_keep (ref, cases[i].layer);
        nn_context_forward (ref, -1);
        float *seed = nn_context_grad (ref, net.fc);
        memset (seed, 0, sizeof (float) * CLASSES);
        seed[c] = 1.0f;
        nn_context_backward (ref, net.fc, NN_BACKWARD_INPUT, -1);
        double want[4];
        token_gradcam (want, nn_context_output (ref, cases[i].layer),
                       nn_context_grad (ref, cases[i].layer), cases[i].skip, cases[i].n,
                       cases[i].e);
        double scale = 1e-12;
        for (int p = 0; p < 4; p++)
          scale = fmax (scale, fabs (want[p]));
        g_assert_cmpfloat (scale, >, 1e-6);
        float shown[4], up[16];
        for (int p = 0; p < 4; p++)
          {
            g_assert_cmpfloat (fabs (map->layer_map[p] - want[p]), <=, 1e-5 * scale);
            shown[p] = (float) want[p];
          }
        nn_explain_upsample (up, shown, 2, 2, 4, 4);
        for (int p = 0; p < 16; p++)
          g_assert_cmpfloat (fabs (map->map[p] - up[p]), <=, 1e-5 * scale);
        nn_map_free (map);
      }

  NnCamSpec spec;
  nn_cam_spec_init (&spec);
  spec.layer = net.three;
  NnError err = { 0 };
  g_assert_null (nn_cam_compute (ctx, x, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "'three' holds 3 tokens of 6 features"));
  g_assert_nonnull (strstr (err.message, "no square grid"));
  /* One token (here the class token alone, (1, 4)) is no grid. */
  spec.layer = nn_graph_find (net.g, "cls");
  g_assert_null (nn_cam_compute (ctx, x, &spec, NULL, &err));
  g_assert_nonnull (strstr (err.message, "'cls' holds 1 tokens of 4 features"));
  /* The default layer is the last token layer with a grid ("act", (5, 6)), not "three" after
   * it, whose 3 tokens form none; a CAM with no layer given works there. */
  const int act = nn_graph_find (net.g, "act");
  g_assert_cmpint (act, >, net.tokens);
  g_assert_cmpint (nn_explain_default_layer (net.g), ==, act);
  nn_cam_spec_init (&spec);
  NnMap *map = nn_cam_compute (ctx, x, &spec, NULL, &err);
  g_assert_nonnull (map);
  g_assert_cmpint (map->layer, ==, act);
  g_assert_cmpint (map->lh, ==, 2);
  g_assert_cmpint (map->lw, ==, 2);
  nn_map_free (map);
  int skip = -1;
  g_assert_cmpint (nn_explain_token_grid (197, &skip), ==, 14);
  g_assert_cmpint (skip, ==, 1);
  g_assert_cmpint (nn_explain_token_grid (49, &skip), ==, 7);
  g_assert_cmpint (skip, ==, 0);
  g_assert_cmpint (nn_explain_token_grid (2, &skip), ==, 0);
  g_assert_cmpint (nn_explain_token_grid (10, &skip), ==, 3);
  g_assert_cmpint (skip, ==, 1);
  nn_context_free (ref);
  nn_context_free (ctx);
  nn_graph_free (net.g);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/cam/upsample-by-hand", test_upsample);
  g_test_add_func ("/nn/cam/gradient-formulas-naive", test_gradient_formulas);
  g_test_add_func ("/nn/cam/default-target-and-layer", test_default_target_and_layer);
  g_test_add_func ("/nn/cam/backward-stops-at-layer", test_backward_stops_at_layer);
  g_test_add_func ("/nn/cam/scorecam-naive-and-cancel", test_scorecam_naive);
  g_test_add_func ("/nn/cam/cancel-from-other-thread", test_cancel_from_other_thread);
  g_test_add_func ("/nn/cam/eigencam-known-component", test_eigencam_known_component);
  g_test_add_func ("/nn/cam/bad-input", test_bad_input);
  g_test_add_func ("/nn/cam/dashes-known-answer", test_dashes_known_answer);
  g_test_add_func ("/nn/cam/token-layers", test_token_layers);
  return g_test_run ();
}
