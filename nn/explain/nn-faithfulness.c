/* SPDX-License-Identifier: MIT */
/* Faithfulness metrics of attribution maps: perturbation curves (deletion, insertion, ROAD),
 * ground-truth mask scores (pointing game, energy share) and the model-randomization check. */
#include "explain/nn-faithfulness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/nn-rng.h"
#include "core/nn-workers.h"

void
nn_faith_settings_init (NnFaithSettings *settings)
{
  NN_ASSERT (settings != NULL);
  settings->metrics = NN_FAITH_ALL;
  settings->steps = 20;
  settings->blur_divisor = 16.0f;
  settings->road_points = 9;
  settings->road_noise = 0.01f;
  settings->pointing_tolerance = 15.0f;
  settings->seed = 1;
}

bool
nn_faith_settings_check (const NnFaithSettings *settings,
                         NnError               *err)
{
  NN_ASSERT (settings != NULL);
  if ((settings->metrics & ~(unsigned) NN_FAITH_ALL) != 0)
    return nn_error_set (err, NN_ERROR_SPEC, "unknown metrics 0x%x", settings->metrics);
  if (settings->steps < 1 || settings->steps >= NN_CURVE_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "a curve takes 1 to %d steps, not %d",
                         NN_CURVE_MAX - 1, settings->steps);
  if (!(settings->blur_divisor > 0.0f))
    return nn_error_set (err, NN_ERROR_SPEC, "the blur divisor must be positive, not %g",
                         (double) settings->blur_divisor);
  if (settings->road_points < 1 || settings->road_points > NN_CURVE_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "ROAD takes 1 to %d fractions, not %d",
                         NN_CURVE_MAX, settings->road_points);
  if (!(settings->road_noise >= 0.0f) || !(settings->pointing_tolerance >= 0.0f))
    return nn_error_set (err, NN_ERROR_SPEC, "bad ROAD noise %g or pointing tolerance %g",
                         (double) settings->road_noise, (double) settings->pointing_tolerance);
  return true;
}

float
nn_faith_settings_blur (const NnFaithSettings *settings,
                        int                    h,
                        int                    w)
{
  NN_ASSERT (settings != NULL && settings->blur_divisor > 0.0f);
  return (float) (h > w ? h : w) / settings->blur_divisor;
}

void
nn_faith_settings_road_fractions (const NnFaithSettings *settings,
                                  float                 *fractions)
{
  NN_ASSERT (settings != NULL && fractions != NULL && settings->road_points > 0);
  /* step * (i + 1) rather than (i + 1) / (n + 1): 9 points give 0.1f * (i + 1) exactly. */
  const float step = 1.0f / (float) (settings->road_points + 1);
  for (int i = 0; i < settings->road_points; i++)
    fractions[i] = step * (float) (i + 1);
}

/* For qsort: the map values, to order pixel indices by. */
typedef struct
{
  float value;
  int   index;
} Ranked;

static int
compare_ranked_desc (const void *a,
                     const void *b)
{
  const Ranked *x = a, *y = b;
  if (x->value != y->value)
    return x->value > y->value ? -1 : 1;
  return (x->index > y->index) - (x->index < y->index);
}

static void
rank_pixels (Ranked      *r,
             const float *map,
             int          n)
{
  for (int i = 0; i < n; i++)
    {
      r[i].value = isfinite (map[i]) ? map[i] : -INFINITY;
      r[i].index = i;
    }
  qsort (r, (size_t) n, sizeof *r, compare_ranked_desc);
}

bool
nn_faith_order (int         *order,
                const float *map,
                int          n)
{
  NN_ASSERT (order && map && n > 0);
  Ranked *r = malloc (sizeof *r * (size_t) n);
  if (r == NULL)
    return false;
  rank_pixels (r, map, n);
  for (int i = 0; i < n; i++)
    order[i] = r[i].index;
  free (r);
  return true;
}

/* Separable Gaussian blur of each plane of x (C, H, W) into out, borders replicated; tmp holds
 * H * W floats. */
static void
gaussian_blur (float       *out,
               const float *x,
               float       *tmp,
               int          C,
               int          H,
               int          W,
               float        sigma)
{
  const size_t hw = (size_t) H * (size_t) W;
  if (!(sigma > 0.0f))
    {
      memcpy (out, x, sizeof (float) * hw * (size_t) C);
      return;
    }
  int r = (int) ceilf (3.0f * sigma);
  if (r > 64)
    r = 64;
  float k[129];
  float ksum = 0.0f;
  for (int i = -r; i <= r; i++)
    {
      k[i + r] = expf (-0.5f * (float) (i * i) / (sigma * sigma));
      ksum += k[i + r];
    }
  for (int i = 0; i <= 2 * r; i++)
    k[i] /= ksum;
  for (int c = 0; c < C; c++)
    {
      const float *p = x + (size_t) c * hw;
      float *o = out + (size_t) c * hw;
      for (int y = 0; y < H; y++)
        for (int xx = 0; xx < W; xx++)
          {
            float s = 0.0f;
            for (int i = -r; i <= r; i++)
              {
                int q = xx + i < 0 ? 0 : xx + i >= W ? W - 1 : xx + i;
                s += k[i + r] * p[y * W + q];
              }
            tmp[y * W + xx] = s;
          }
      for (int y = 0; y < H; y++)
        for (int xx = 0; xx < W; xx++)
          {
            float s = 0.0f;
            for (int i = -r; i <= r; i++)
              {
                int q = y + i < 0 ? 0 : y + i >= H ? H - 1 : y + i;
                s += k[i + r] * tmp[q * W + xx];
              }
            o[y * W + xx] = s;
          }
    }
}

static double
trapezoid (const NnCurve *curve,
           const float   *y)
{
  double a = 0.0;
  for (int i = 1; i < curve->n; i++)
    a += 0.5 * (double) (y[i] + y[i - 1]) * (double) (curve->fraction[i] - curve->fraction[i - 1]);
  return a;
}

/* The normalised logit curve of a deletion or insertion curve and its area (nn-faithfulness.h).
 */
static void
normalise_logit (NnCurve *curve)
{
  double lo = (double) curve->logit[0], hi = (double) curve->logit[0];
  for (int i = 1; i < curve->n; i++)
    {
      lo = fmin (lo, (double) curve->logit[i]);
      hi = fmax (hi, (double) curve->logit[i]);
    }
  if (hi - lo < 1e-6)
    {
      for (int i = 0; i < curve->n; i++)
        curve->logit_norm[i] = NAN;
      curve->auc_logit = (double) NAN;
      return;
    }
  for (int i = 0; i < curve->n; i++)
    curve->logit_norm[i] = (float) (((double) curve->logit[i] - lo) / (hi - lo));
  curve->auc_logit = trapezoid (curve, curve->logit_norm);
}

/* Builds image i of a curve into x (one input of the context); `w` is the thread that builds it
 * (its own scratch), one of the context's threads. */
typedef void (*MakeImage) (float *x, int i, int w, void *data);

/* The images of one pass, shared out over the threads: the image build (ROAD's imputation
 * above all) would otherwise run on one core while the others wait for the pass. */
typedef struct
{
  MakeImage  make;
  void      *data;
  float     *x;        /* the context's input */
  size_t     in_size;
  int        i0;       /* the pass's first image */
  int        nb;       /* its images */
} MakeJob;

static void
make_images_work (void *data,
                  int   index,
                  int   n)
{
  const MakeJob *job = data;
  for (int b = index; b < job->nb; b += n)
    job->make (job->x + (size_t) b * job->in_size, job->i0 + b, index, job->data);
}

/* Evaluates the n images of a curve through ctx, as many per pass as its batch holds; prob[i]
 * and logit[i] = the target's probability and logit for image i. Images are made on `workers` (NULL: the calling
 * thread), whose count the make function's scratch is sized for. */
static bool
evaluate_images (NnContext              *ctx,
                 NnWorkers              *workers,
                 int                     n,
                 int                     target,
                 MakeImage               make,
                 void                   *data,
                 float                  *prob,
                 float                  *logit_out,
                 const NnExplainControl *control,
                 NnError                *err)
{
  NnGraph *graph = nn_context_get_graph (ctx);
  const size_t in_size = nn_shape_size (graph->nodes[0].shape);
  const int batch = nn_context_get_batch (ctx);
  const int logit = nn_explain_logit_node (graph);
  const int classes = (int) nn_shape_size (graph->nodes[logit].shape);
  if (!nn_explain_check_class (graph, target, err))
    return false;
  if (target < 0)
    return nn_error_set (err, NN_ERROR_SPEC, "the class must be given");
  nn_context_set_training (ctx, false);
  for (int i0 = 0; i0 < n; i0 += batch)
    {
      if (nn_explain_cancelled (control, err))
        return false;
      MakeJob job = { make, data, nn_context_input (ctx), in_size, i0,
                      n - i0 < batch ? n - i0 : batch };
      if (workers != NULL && job.nb > 1)
        nn_workers_run (workers, make_images_work, &job);
      else
        make_images_work (&job, 0, 1);
      nn_context_forward (ctx, logit);
      const float *logits = nn_context_output (ctx, logit);
      for (int b = 0; b < job.nb; b++)
        {
          const float *z = logits + (size_t) b * (size_t) classes;
          prob[i0 + b] = nn_explain_softmax_at (z, classes, target);
          logit_out[i0 + b] = z[target];
        }
      nn_explain_report (control, i0 + job.nb, n);
    }
  return true;
}

/* How many threads make a curve's images: the context's, no more than a pass's images. */
static int
image_threads (NnContext *ctx)
{
  int threads = nn_context_get_threads (ctx), batch = nn_context_get_batch (ctx);
  return batch < threads ? batch : threads;
}

/* The team of `*threads` image threads; NULL for one, or when they cannot start (then
 * *threads is 1 and the calling thread makes every image). */
static NnWorkers *
image_workers_new (int *threads)
{
  NnWorkers *workers = *threads > 1 ? nn_workers_new (*threads) : NULL;
  if (workers == NULL)
    *threads = 1;
  return workers;
}

typedef struct
{
  const float *from;     /* pixels not yet changed */
  const float *to;       /* what changed pixels become (NULL: zeros) */
  const int   *order;
  int          C;
  size_t       hw;
  int          steps;
} CurveImages;

static void
make_curve_image (float *x,
                  int    i,
                  int    w,
                  void  *data)
{
  (void) w;
  const CurveImages *ci = data;
  size_t changed = (size_t) llround ((double) i * (double) ci->hw / ci->steps);
  memcpy (x, ci->from, sizeof (float) * ci->hw * (size_t) ci->C);
  for (size_t j = 0; j < changed; j++)
    for (int c = 0; c < ci->C; c++)
      {
        size_t at = (size_t) c * ci->hw + (size_t) ci->order[j];
        x[at] = ci->to ? ci->to[at] : 0.0f;
      }
}

bool
nn_faith_curve (NnContext              *ctx,
                const float            *input,
                const float            *map,
                int                     target,
                NnCurveKind             kind,
                int                     steps,
                float                   blur,
                NnCurve                *curve,
                const NnExplainControl *control,
                NnError                *err)
{
  NN_ASSERT (ctx && input && map && curve);
  if (steps < 1 || steps >= NN_CURVE_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "a curve takes 1 to %d steps, not %d",
                         NN_CURVE_MAX - 1, steps);
  NnShape in = nn_context_get_graph (ctx)->nodes[0].shape;
  const size_t hw = (size_t) in.h * (size_t) in.w;
  int *order = malloc (sizeof (int) * hw);
  float *blurred = kind == NN_CURVE_INSERTION ? malloc (sizeof (float) * hw * (size_t) in.c)
                                              : NULL;
  float *tmp = kind == NN_CURVE_INSERTION ? malloc (sizeof (float) * hw) : NULL;
  if (order == NULL || (kind == NN_CURVE_INSERTION && (blurred == NULL || tmp == NULL)))
    {
      free (order);
      free (blurred);
      free (tmp);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
    }
  if (!nn_faith_order (order, map, (int) hw))
    {
      free (order);
      free (blurred);
      free (tmp);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
    }
  CurveImages ci = { .order = order, .C = in.c, .hw = hw, .steps = steps };
  if (kind == NN_CURVE_INSERTION)
    {
      gaussian_blur (blurred, input, tmp, in.c, in.h, in.w, blur);
      ci.from = blurred;
      ci.to = input;
    }
  else
    ci.from = input;
  memset (curve, 0, sizeof *curve);
  curve->n = steps + 1;
  for (int i = 0; i <= steps; i++)
    curve->fraction[i] = (float) i / (float) steps;
  int threads = image_threads (ctx);
  NnWorkers *workers = image_workers_new (&threads);
  bool ok = evaluate_images (ctx, workers, curve->n, target, make_curve_image, &ci, curve->prob,
                             curve->logit, control, err);
  nn_workers_free (workers);
  curve->auc = ok ? trapezoid (curve, curve->prob) : 0.0;
  if (ok)
    normalise_logit (curve);
  free (order);
  free (blurred);
  free (tmp);
  return ok;
}

size_t
nn_faith_road_scratch_size (int h,
                            int w)
{
  NN_ASSERT (h > 0 && w > 0);
  size_t size = 0;
  for (int lh = h, lw = w;; lh = (lh + 1) / 2, lw = (lw + 1) / 2)
    {
      size += 2 * (size_t) lh * (size_t) lw;
      if (lh == 1 && lw == 1)
        break;
    }
  return size;
}

/* A first guess for the removed pixels (push-pull): a pyramid of 2 x 2 means of the known
 * values, then each unknown pixel takes its parent's value, from the top down. The guess holds
 * the coarse shape of the solution, which relaxation alone would spread only slowly. */
static void
push_pull (float         *plane,
           const uint8_t *removed,
           int            h,
           int            w,
           float         *scratch)
{
  float *v[40], *m[40];
  int hs[40], ws[40], n = 0;
  float *at = scratch;
  for (int lh = h, lw = w;; lh = (lh + 1) / 2, lw = (lw + 1) / 2)
    {
      NN_ASSERT (n < 40);
      hs[n] = lh;
      ws[n] = lw;
      v[n] = at;
      m[n] = at + (size_t) lh * (size_t) lw;
      at += 2 * (size_t) lh * (size_t) lw;
      n++;
      if (lh == 1 && lw == 1)
        break;
    }
  for (size_t p = 0; p < (size_t) h * (size_t) w; p++)
    {
      m[0][p] = removed[p] ? 0.0f : 1.0f;
      v[0][p] = removed[p] ? 0.0f : plane[p];
    }
  for (int k = 1; k < n; k++)
    for (int y = 0; y < hs[k]; y++)
      for (int x = 0; x < ws[k]; x++)
        {
          float sv = 0.0f, sm = 0.0f;
          for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++)
              {
                int cy = 2 * y + dy, cx = 2 * x + dx;
                if (cy >= hs[k - 1] || cx >= ws[k - 1])
                  continue;
                size_t c = (size_t) cy * (size_t) ws[k - 1] + (size_t) cx;
                sv += m[k - 1][c] * v[k - 1][c];
                sm += m[k - 1][c];
              }
          size_t q = (size_t) y * (size_t) ws[k] + (size_t) x;
          v[k][q] = sm > 0.0f ? sv / sm : 0.0f;
          m[k][q] = sm > 0.0f ? 1.0f : 0.0f;
        }
  for (int k = n - 2; k >= 0; k--)
    for (int y = 0; y < hs[k]; y++)
      for (int x = 0; x < ws[k]; x++)
        {
          size_t q = (size_t) y * (size_t) ws[k] + (size_t) x;
          if (m[k][q] == 0.0f)
            v[k][q] = v[k + 1][(size_t) (y / 2) * (size_t) ws[k + 1] + (size_t) (x / 2)];
        }
  for (size_t p = 0; p < (size_t) h * (size_t) w; p++)
    if (removed[p])
      plane[p] = v[0][p];
}

void
nn_faith_road_impute (float         *plane,
                      const uint8_t *removed,
                      int            h,
                      int            w,
                      float         *scratch)
{
  static const int dy[8] = { -1, 1, 0, 0, -1, -1, 1, 1 };
  static const int dx[8] = { 0, 0, -1, 1, -1, 1, -1, 1 };
  static const float wt[8] = { 1.0f / 6, 1.0f / 6, 1.0f / 6, 1.0f / 6,
                               1.0f / 12, 1.0f / 12, 1.0f / 12, 1.0f / 12 };
  NN_ASSERT (plane && removed && scratch && h > 0 && w > 0);
  const size_t n = (size_t) h * (size_t) w;
  size_t n_known = 0;
  float lo = INFINITY, hi = -INFINITY;
  for (size_t p = 0; p < n; p++)
    if (!removed[p])
      {
        n_known++;
        lo = plane[p] < lo ? plane[p] : lo;
        hi = plane[p] > hi ? plane[p] : hi;
      }
  if (n_known == 0 || n_known == n)
    return;
  push_pull (plane, removed, h, w, scratch);
  /* Successive over-relaxation of x_p = sum_q w_pq x_q / sum_q w_pq over the removed pixels,
   * with the relaxation factor that is optimal for a Laplace problem of this size. */
  const int side = h > w ? h : w;
  float omega = 2.0f / (1.0f + sinf (3.14159265f / (float) side));
  omega = omega < 1.0f ? 1.0f : omega > 1.97f ? 1.97f : omega;
  const float tol = 1e-5f * (hi - lo > 0.0f ? hi - lo : 1.0f);
  for (int it = 0; it < 4 * side + 100; it++)
    {
      float change = 0.0f;
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            size_t p = (size_t) y * (size_t) w + (size_t) x;
            if (!removed[p])
              continue;
            float s = 0.0f, ws = 0.0f;
            for (int k = 0; k < 8; k++)
              {
                int yy = y + dy[k], xx = x + dx[k];
                if (yy < 0 || yy >= h || xx < 0 || xx >= w)
                  continue;
                s += wt[k] * plane[(size_t) yy * (size_t) w + (size_t) xx];
                ws += wt[k];
              }
            float next = plane[p] + omega * (s / ws - plane[p]);
            float d = fabsf (next - plane[p]);
            change = d > change ? d : change;
            plane[p] = next;
          }
      if (change < tol)
        break;
    }
}

/* ROAD's images; each image thread w has its own removed[w] (H * W) and scratch[w]. */
typedef struct
{
  const float   *input;
  const int     *order;
  const float   *fractions;
  int            C, H, W;
  bool           morf;
  float          noise;
  uint64_t       seed;
  uint8_t       *removed;
  float         *scratch;
  size_t         scratch_size;
} RoadImages;

static void
make_road_image (float *x,
                 int    i,
                 int    w,
                 void  *data)
{
  const RoadImages *ri = data;
  const size_t hw = (size_t) ri->H * (size_t) ri->W;
  uint8_t *removed = ri->removed + (size_t) w * hw;
  float *scratch = ri->scratch + (size_t) w * ri->scratch_size;
  size_t k = (size_t) llround ((double) ri->fractions[i] * (double) hw);
  memset (removed, 0, hw);
  for (size_t j = 0; j < k; j++)
    removed[ri->order[ri->morf ? j : hw - 1 - j]] = 1;
  memcpy (x, ri->input, sizeof (float) * hw * (size_t) ri->C);
  NnRng rng;
  nn_rng_init (&rng, ri->seed + (uint64_t) i);
  for (int c = 0; c < ri->C; c++)
    {
      float *plane = x + (size_t) c * hw;
      nn_faith_road_impute (plane, removed, ri->H, ri->W, scratch);
      if (ri->noise > 0.0f)
        for (size_t p = 0; p < hw; p++)
          if (removed[p])
            plane[p] += ri->noise * nn_rng_normal (&rng);
    }
}

bool
nn_faith_road (NnContext              *ctx,
               const float            *input,
               const float            *map,
               int                     target,
               const float            *fractions,
               int                     n,
               bool                    most_relevant_first,
               float                   noise,
               uint64_t                seed,
               NnCurve                *curve,
               const NnExplainControl *control,
               NnError                *err)
{
  NN_ASSERT (ctx && input && map && fractions && curve);
  if (n < 1 || n > NN_CURVE_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "ROAD takes 1 to %d fractions, not %d",
                         NN_CURVE_MAX, n);
  for (int i = 0; i < n; i++)
    if (!(fractions[i] >= 0.0f && fractions[i] < 1.0f)
        || (i > 0 && fractions[i] <= fractions[i - 1]))
      return nn_error_set (err, NN_ERROR_SPEC, "ROAD fractions must increase within [0, 1)");
  NnShape in = nn_context_get_graph (ctx)->nodes[0].shape;
  const size_t hw = (size_t) in.h * (size_t) in.w;
  const size_t scratch_size = nn_faith_road_scratch_size (in.h, in.w);
  int threads = image_threads (ctx);
  NnWorkers *workers = image_workers_new (&threads);
  int *order = malloc (sizeof (int) * hw);
  uint8_t *removed = malloc (hw * (size_t) threads);
  float *scratch = malloc (sizeof (float) * scratch_size * (size_t) threads);
  if (order == NULL || removed == NULL || scratch == NULL || !nn_faith_order (order, map, (int) hw))
    {
      nn_workers_free (workers);
      free (order);
      free (removed);
      free (scratch);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
    }
  RoadImages ri = { input, order, fractions, in.c, in.h, in.w, most_relevant_first, noise, seed,
                    removed, scratch, scratch_size };
  memset (curve, 0, sizeof *curve);
  curve->n = n;
  memcpy (curve->fraction, fractions, sizeof (float) * (size_t) n);
  bool ok = evaluate_images (ctx, workers, n, target, make_road_image, &ri, curve->prob,
                             curve->logit, control, err);
  curve->auc = ok ? trapezoid (curve, curve->prob) : 0.0;
  for (int i = 0; i < n; i++)
    curve->logit_norm[i] = NAN;
  curve->auc_logit = (double) NAN;
  nn_workers_free (workers);
  free (order);
  free (removed);
  free (scratch);
  return ok;
}

bool
nn_faith_pointing_game (const float   *map,
                        const uint8_t *mask,
                        int            h,
                        int            w,
                        float          tolerance)
{
  NN_ASSERT (map && mask && h > 0 && w > 0);
  size_t n = (size_t) h * (size_t) w, best = 0;
  for (size_t p = 1; p < n; p++)
    if (map[p] > map[best])
      best = p;
  int by = (int) (best / (size_t) w), bx = (int) (best % (size_t) w);
  float t2 = tolerance * tolerance;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if (mask[(size_t) y * (size_t) w + (size_t) x])
        {
          float d2 = (float) ((y - by) * (y - by) + (x - bx) * (x - bx));
          if (d2 <= t2)
            return true;
        }
  return false;
}

double
nn_faith_energy_share (const float   *map,
                       const uint8_t *mask,
                       int            h,
                       int            w)
{
  NN_ASSERT (map && mask && h > 0 && w > 0);
  double inside = 0.0, total = 0.0;
  for (size_t p = 0; p < (size_t) h * (size_t) w; p++)
    if (map[p] > 0.0f)
      {
        total += (double) map[p];
        if (mask[p])
          inside += (double) map[p];
      }
  return total > 0.0 ? inside / total : 0.0;
}

/* Average ranks (1-based) of the n values of v into rank. */
static bool
average_ranks (double      *rank,
               const float *v,
               size_t       n)
{
  Ranked *r = malloc (sizeof *r * n);
  if (r == NULL)
    return false;
  rank_pixels (r, v, (int) n);
  size_t i = 0;
  while (i < n)
    {
      size_t j = i;
      while (j + 1 < n && r[j + 1].value == r[i].value)
        j++;
      double avg = 0.5 * (double) (i + j) + 1.0;
      for (size_t k = i; k <= j; k++)
        rank[r[k].index] = avg;
      i = j + 1;
    }
  free (r);
  return true;
}

double
nn_faith_spearman (const float *a,
                   const float *b,
                   size_t       n)
{
  NN_ASSERT (a && b && n > 0);
  double *ra = malloc (sizeof (double) * n), *rb = malloc (sizeof (double) * n);
  double result = 0.0;
  if (ra != NULL && rb != NULL && average_ranks (ra, a, n) && average_ranks (rb, b, n))
    {
      double ma = 0.0, mb = 0.0;
      for (size_t i = 0; i < n; i++)
        {
          ma += ra[i];
          mb += rb[i];
        }
      ma /= (double) n;
      mb /= (double) n;
      double sab = 0.0, saa = 0.0, sbb = 0.0;
      for (size_t i = 0; i < n; i++)
        {
          sab += (ra[i] - ma) * (rb[i] - mb);
          saa += (ra[i] - ma) * (ra[i] - ma);
          sbb += (rb[i] - mb) * (rb[i] - mb);
        }
      result = saa > 0.0 && sbb > 0.0 ? sab / sqrt (saa * sbb) : 0.0;
    }
  free (ra);
  free (rb);
  return result;
}

/* A copy of graph whose conv and linear weights are redrawn: normal, with the standard
 * deviation of the original's, seeded. NULL when out of memory. */
static NnGraph *
randomized_copy (const NnGraph *graph,
                 uint64_t       seed)
{
  NnGraph *copy = nn_graph_dup (graph);
  if (copy == NULL)
    return NULL;
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (int i = 0; i < copy->n_params; i++)
    {
      const NnParam *p = &copy->params[i];
      NnOp op = copy->nodes[p->node].op;
      if (p->role != NN_PARAM_WEIGHT || (op != NN_OP_CONV2D && op != NN_OP_LINEAR))
        continue;
      float *d = copy->data + p->offset;
      double s2 = 0.0;
      for (size_t j = 0; j < p->count; j++)
        s2 += (double) d[j] * (double) d[j];
      float sd = (float) sqrt (s2 / (double) p->count);
      for (size_t j = 0; j < p->count; j++)
        d[j] = sd * nn_rng_normal (&rng);
    }
  nn_graph_bump_version (copy);
  return copy;
}

bool
nn_faith_randomization_method (const NnGraph          *graph,
                               const float            *input,
                               const NnMethodSpec     *spec,
                               const NnMap            *original,
                               int                     batch,
                               int                     threads,
                               uint64_t                seed,
                               double                 *rho,
                               const NnExplainControl *control,
                               NnError                *err)
{
  NN_ASSERT (graph && input && spec && original && rho);
  NnGraph *copy = randomized_copy (graph, seed);
  if (copy == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  NnMethodSpec s = *spec;
  s.target = original->target;
  if (nn_method_has_flags (spec->method, NN_METHOD_FLAG_CAM))
    s.layer = original->layer;
  unsigned flags = nn_method_has_flags (spec->method, NN_METHOD_FLAG_GRADIENTS)
                   ? NN_CONTEXT_BACKWARD : 0;
  NnContext *ctx = nn_context_new (copy, batch, flags, err);
  if (ctx != NULL && !nn_context_set_threads (ctx, threads, err))
    {
      nn_context_free (ctx);
      ctx = NULL;
    }
  NnMap *m = ctx != NULL ? nn_method_compute (ctx, input, &s, control, err) : NULL;
  if (m != NULL)
    *rho = nn_faith_spearman (original->map, m->map, (size_t) m->h * (size_t) m->w);
  bool ok = m != NULL;
  nn_map_free (m);
  nn_context_free (ctx);
  nn_graph_free (copy);
  return ok;
}

bool
nn_faith_randomization (const NnGraph          *graph,
                        const float            *input,
                        const NnCamSpec        *cam,
                        const NnSaliencySpec   *saliency,
                        const NnMap            *original,
                        int                     batch,
                        uint64_t                seed,
                        double                 *rho,
                        const NnExplainControl *control,
                        NnError                *err)
{
  NN_ASSERT (graph && input && original && rho);
  NN_ASSERT ((cam == NULL) != (saliency == NULL));
  NnMethodSpec s;
  nn_method_spec_init (&s);
  const char *name = cam ? nn_cam_method_name (cam->method)
                         : nn_saliency_method_name (saliency->method);
  bool known = nn_method_from_name (name, &s.method);
  NN_ASSERT (known);
  if (cam)
    s.keep_negative = cam->keep_negative;
  else
    {
      s.samples = saliency->samples;
      s.noise = saliency->noise;
      s.baseline = saliency->baseline;
      s.layer = saliency->layer;
      s.seed = saliency->seed;
    }
  return nn_faith_randomization_method (graph, input, &s, original, batch, 1, seed, rho,
                                        control, err);
}
