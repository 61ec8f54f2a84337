/* SPDX-License-Identifier: MIT */
/* Baselines for the path and perturbation methods, and Integrated Gradients' convergence
 * delta. */
#include "explain/nn-baseline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/nn-rng.h"

static const char *const kind_names[NN_BASELINE_COUNT_] = {
  [NN_BASELINE_ZERO] = "zero",
  [NN_BASELINE_BLACK] = "black",
  [NN_BASELINE_BLUR] = "blur",
  [NN_BASELINE_UNIFORM] = "uniform",
};

const char *
nn_baseline_kind_name (NnBaselineKind kind)
{
  NN_ASSERT (kind >= 0 && kind < NN_BASELINE_COUNT_);
  return kind_names[kind];
}

bool
nn_baseline_kind_from_name (const char     *name,
                            NnBaselineKind *kind)
{
  for (int k = 0; k < NN_BASELINE_COUNT_; k++)
    if (strcmp (name, kind_names[k]) == 0)
      {
        *kind = (NnBaselineKind) k;
        return true;
      }
  return false;
}

/* One pass of a normalized Gaussian kernel along rows (step 1) or columns (step w) of each
 * plane, clamped at the borders: out = in * kernel. */
static void
blur_pass (float       *out,
           const float *in,
           int          c,
           int          h,
           int          w,
           bool         along_rows,
           const float *kernel,
           int          radius)
{
  const int n = along_rows ? w : h;
  for (int ch = 0; ch < c; ch++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          const float *plane = in + (size_t) ch * h * w;
          int pos = along_rows ? x : y;
          float s = 0.0f;
          for (int k = -radius; k <= radius; k++)
            {
              int q = pos + k < 0 ? 0 : pos + k >= n ? n - 1 : pos + k;
              s += kernel[k + radius] * (along_rows ? plane[(size_t) y * w + q]
                                                    : plane[(size_t) q * w + x]);
            }
          out[((size_t) ch * h + y) * w + x] = s;
        }
}

static bool
blur (float       *out,
      const float *in,
      int          c,
      int          h,
      int          w,
      float        sigma,
      NnError     *err)
{
  int radius = (int) ceilf (3.0f * sigma);
  const size_t size = (size_t) c * h * w;
  float *kernel = malloc (sizeof (float) * (size_t) (2 * radius + 1));
  float *tmp = malloc (sizeof (float) * size);
  if (kernel == NULL || tmp == NULL)
    {
      free (kernel);
      free (tmp);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
    }
  float total = 0.0f;
  for (int k = -radius; k <= radius; k++)
    total += kernel[k + radius] = expf (-0.5f * (float) (k * k) / (sigma * sigma));
  for (int k = 0; k <= 2 * radius; k++)
    kernel[k] /= total;
  blur_pass (tmp, in, c, h, w, true, kernel, radius);
  blur_pass (out, tmp, c, h, w, false, kernel, radius);
  free (kernel);
  free (tmp);
  return true;
}

float *
nn_baseline_new (NnBaselineKind  kind,
                 const NnModel  *model,
                 const float    *input,
                 float           blur_sigma,
                 uint64_t        seed,
                 NnError        *err)
{
  NN_ASSERT (model != NULL && kind >= 0 && kind < NN_BASELINE_COUNT_);
  NN_ASSERT (kind != NN_BASELINE_BLUR || input != NULL);
  const NnShape in = model->graph->nodes[0].shape;
  const size_t hw = (size_t) in.h * (size_t) in.w;
  float *x = calloc ((size_t) in.c * hw, sizeof (float));
  if (x == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  NnRng rng;
  nn_rng_init (&rng, seed);
  switch (kind)
    {
    case NN_BASELINE_ZERO:
      break;
    case NN_BASELINE_BLACK:
    case NN_BASELINE_UNIFORM:
      for (int c = 0; c < in.c; c++)
        for (size_t p = 0; p < hw; p++)
          {
            float pixel = kind == NN_BASELINE_BLACK ? 0.0f : nn_rng_uniform (&rng);
            x[(size_t) c * hw + p] = (pixel - model->mean[c]) / model->std[c];
          }
      break;
    case NN_BASELINE_BLUR:
      {
        float sigma = blur_sigma > 0.0f ? blur_sigma
                                        : (float) (in.h < in.w ? in.h : in.w) / 8.0f;
        if (!blur (x, input, in.c, in.h, in.w, sigma, err))
          {
            free (x);
            return NULL;
          }
        break;
      }
    case NN_BASELINE_COUNT_:
    default:
      NN_ASSERT (!"unknown baseline");
    }
  return x;
}

bool
nn_ig_convergence_delta (NnContext   *ctx,
                         const NnMap *map,
                         const float *baseline,
                         double      *delta,
                         NnError     *err)
{
  NN_ASSERT (ctx && map && delta);
  const NnShape in = nn_context_get_graph (ctx)->nodes[0].shape;
  const size_t size = (size_t) in.c * in.h * in.w;
  float *zeros = baseline == NULL ? calloc (size, sizeof (float)) : NULL;
  if (baseline == NULL && zeros == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  int target = map->target;
  float f_base = 0.0f;
  bool ok = nn_explain_prepare (ctx, baseline != NULL ? baseline : zeros, &target, &f_base, err);
  free (zeros);
  if (!ok)
    return false;
  double sum = 0.0;
  if (map->channels != NULL)
    for (size_t i = 0; i < (size_t) map->c * map->h * map->w; i++)
      sum += (double) map->channels[i];
  else
    for (size_t i = 0; i < (size_t) map->h * map->w; i++)
      sum += (double) map->map[i];
  *delta = sum - ((double) map->score - (double) f_base);
  return true;
}
