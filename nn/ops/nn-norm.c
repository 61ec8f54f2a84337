/* SPDX-License-Identifier: MIT */
/* Batch normalization (train and eval) and instance normalization, with PyTorch's semantics:
 * biased variance to normalize, unbiased variance for the running estimate. */
#include "ops/nn-norm.h"

#include <math.h>
#include <stddef.h>

#include "core/nn-error.h"
#include "ops/nn-simd.h"

/* Sums of one row, in 8 float lanes that the compiler vectorizes; rows are short enough (one
 * plane) for float lanes, and the callers add the rows up in double. */
#define LANES 8

static double
row_sum (const float *x,
         int          n)
{
  float acc[LANES] = { 0 };
  int k = 0;
  for (; k + LANES <= n; k += LANES)
    for (int l = 0; l < LANES; l++)
      acc[l] += x[k + l];
  double total = 0.0;
  for (int l = 0; l < LANES; l++)
    total += (double) acc[l];
  for (; k < n; k++)
    total += (double) x[k];
  return total;
}

/* sum (x - m)^2 */
static double
row_sq_dev (const float *x,
            int          n,
            float        m)
{
  float acc[LANES] = { 0 };
  int k = 0;
  for (; k + LANES <= n; k += LANES)
    for (int l = 0; l < LANES; l++)
      {
        float d = x[k + l] - m;
        acc[l] += d * d;
      }
  double total = 0.0;
  for (int l = 0; l < LANES; l++)
    total += (double) acc[l];
  for (; k < n; k++)
    {
      double d = (double) x[k] - (double) m;
      total += d * d;
    }
  return total;
}

/* sum dy and sum dy (x - m) s */
static void
row_dy_sums (double      *sum_dy,
             double      *sum_dy_xhat,
             const float *dy,
             const float *x,
             int          n,
             float        m,
             float        s)
{
  float a[LANES] = { 0 }, b[LANES] = { 0 };
  int k = 0;
  for (; k + LANES <= n; k += LANES)
    for (int l = 0; l < LANES; l++)
      {
        a[l] += dy[k + l];
        b[l] += dy[k + l] * ((x[k + l] - m) * s);
      }
  double ta = 0.0, tb = 0.0;
  for (int l = 0; l < LANES; l++)
    {
      ta += (double) a[l];
      tb += (double) b[l];
    }
  for (; k < n; k++)
    {
      ta += (double) dy[k];
      tb += (double) dy[k] * (double) ((x[k] - m) * s);
    }
  *sum_dy += ta;
  *sum_dy_xhat += tb;
}

/* Mean and biased variance of n values spread over `planes` planes of `HW` floats, `stride`
 * floats apart (stride C*HW walks one channel across the batch). Two passes, accumulated in
 * double, so the variance does not lose digits when the mean is large. */
static void
plane_stats (double      *mean,
             double      *var,
             const float *x,
             int          planes,
             size_t       stride,
             int          HW)
{
  double sum = 0.0;
  for (int b = 0; b < planes; b++)
    sum += row_sum (x + (size_t) b * stride, HW);
  double n = (double) planes * (double) HW;
  double m = sum / n;
  double sq = 0.0;
  for (int b = 0; b < planes; b++)
    sq += row_sq_dev (x + (size_t) b * stride, HW, (float) m);
  *mean = m;
  *var = sq / n;
}

/* out = (x - mean) * invstd * gamma + beta over `planes` planes, i.e. out = x * scale + shift. */
static void
plane_affine (float       *out,
              const float *x,
              int          planes,
              size_t       stride,
              int          HW,
              float        scale,
              float        shift)
{
  const NnSimdKernels *k = nn_simd ();
  for (int b = 0; b < planes; b++)
    k->scale_shift (out + (size_t) b * stride, x + (size_t) b * stride, (size_t) HW, scale,
                    shift);
}

/* The backward pass of normalizing with the statistics of the same values. With
 * xhat = (x - mean) invstd, y = gamma xhat + beta and n values per group:
 *   dbeta  = sum dy,   dgamma = sum dy xhat,
 *   dx     = gamma invstd / n * (n dy - sum dy - xhat sum dy xhat). */
static void
plane_backward (float       *dinp,
                float       *dgamma,
                float       *dbeta,
                const float *dout,
                const float *inp,
                float        gamma,
                float        mean,
                float        invstd,
                int          planes,
                size_t       stride,
                int          HW)
{
  double sum_dy = 0.0, sum_dy_xhat = 0.0;
  for (int b = 0; b < planes; b++)
    row_dy_sums (&sum_dy, &sum_dy_xhat, dout + (size_t) b * stride, inp + (size_t) b * stride,
                 HW, mean, invstd);
  if (dbeta)
    *dbeta += (float) sum_dy;
  if (dgamma)
    *dgamma += (float) sum_dy_xhat;
  if (dinp == NULL)
    return;
  double n = (double) planes * (double) HW;
  float mean_dy = (float) (sum_dy / n);
  float mean_dy_xhat = (float) (sum_dy_xhat / n);
  float scale = gamma * invstd;
  for (int b = 0; b < planes; b++)
    {
      const float *dy = dout + (size_t) b * stride;
      const float *x = inp + (size_t) b * stride;
      float *dx = dinp + (size_t) b * stride;
      for (int k = 0; k < HW; k++)
        {
          float xhat = (x[k] - mean) * invstd;
          dx[k] += scale * (dy[k] - mean_dy - xhat * mean_dy_xhat);
        }
    }
}

void
nn_batchnorm_forward_train (float       *out,
                            float       *save_mean,
                            float       *save_invstd,
                            float       *running_mean,
                            float       *running_var,
                            const float *inp,
                            const float *gamma,
                            const float *beta,
                            int          B,
                            int          C,
                            int          HW,
                            float        eps,
                            float        momentum)
{
  nn_batchnorm_forward_train_channels (out, save_mean, save_invstd, running_mean, running_var,
                                       inp, gamma, beta, B, C, HW, eps, momentum, 0, C);
}

void
nn_batchnorm_forward_train_channels (float       *out,
                                     float       *save_mean,
                                     float       *save_invstd,
                                     float       *running_mean,
                                     float       *running_var,
                                     const float *inp,
                                     const float *gamma,
                                     const float *beta,
                                     int          B,
                                     int          C,
                                     int          HW,
                                     float        eps,
                                     float        momentum,
                                     int          c0,
                                     int          c1)
{
  NN_ASSERT (out && save_mean && save_invstd && running_mean && running_var && inp);
  NN_ASSERT (B > 0 && C > 0 && HW > 0 && eps > 0.0f);
  NN_ASSERT (0 <= c0 && c0 <= c1 && c1 <= C);
  const size_t stride = (size_t) C * (size_t) HW;
  const double n = (double) B * (double) HW;
  /* PyTorch refuses one value per channel in training; we keep the biased variance then
   * (zero) instead of dividing by zero. */
  const double bessel = n > 1.0 ? n / (n - 1.0) : 1.0;
  for (int c = c0; c < c1; c++)
    {
      const float *x = inp + (size_t) c * HW;
      double mean, var;
      plane_stats (&mean, &var, x, B, stride, HW);
      float invstd = (float) (1.0 / sqrt (var + (double) eps));
      float g = gamma ? gamma[c] : 1.0f;
      float bt = beta ? beta[c] : 0.0f;
      float scale = g * invstd;
      plane_affine (out + (size_t) c * HW, x, B, stride, HW, scale,
                    bt - (float) mean * scale);
      save_mean[c] = (float) mean;
      save_invstd[c] = invstd;
      running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * (float) mean;
      running_var[c] = (1.0f - momentum) * running_var[c] + momentum * (float) (var * bessel);
    }
}

void
nn_batchnorm_forward_eval (float       *out,
                           const float *inp,
                           const float *gamma,
                           const float *beta,
                           const float *running_mean,
                           const float *running_var,
                           int          B,
                           int          C,
                           int          HW,
                           float        eps)
{
  NN_ASSERT (out && inp && running_mean && running_var);
  NN_ASSERT (B > 0 && C > 0 && HW > 0 && eps > 0.0f);
  const size_t stride = (size_t) C * (size_t) HW;
  for (int c = 0; c < C; c++)
    {
      float invstd = 1.0f / sqrtf (running_var[c] + eps);
      float scale = (gamma ? gamma[c] : 1.0f) * invstd;
      float shift = (beta ? beta[c] : 0.0f) - running_mean[c] * scale;
      plane_affine (out + (size_t) c * HW, inp + (size_t) c * HW, B, stride, HW, scale, shift);
    }
}

void
nn_batchnorm_backward_train (float       *dinp,
                             float       *dgamma,
                             float       *dbeta,
                             const float *dout,
                             const float *inp,
                             const float *gamma,
                             const float *save_mean,
                             const float *save_invstd,
                             int          B,
                             int          C,
                             int          HW)
{
  nn_batchnorm_backward_train_channels (dinp, dgamma, dbeta, dout, inp, gamma, save_mean,
                                        save_invstd, B, C, HW, 0, C);
}

void
nn_batchnorm_backward_train_channels (float       *dinp,
                                      float       *dgamma,
                                      float       *dbeta,
                                      const float *dout,
                                      const float *inp,
                                      const float *gamma,
                                      const float *save_mean,
                                      const float *save_invstd,
                                      int          B,
                                      int          C,
                                      int          HW,
                                      int          c0,
                                      int          c1)
{
  NN_ASSERT (dout && inp && save_mean && save_invstd);
  NN_ASSERT (B > 0 && C > 0 && HW > 0);
  NN_ASSERT (0 <= c0 && c0 <= c1 && c1 <= C);
  const size_t stride = (size_t) C * (size_t) HW;
  for (int c = c0; c < c1; c++)
    {
      size_t off = (size_t) c * HW;
      plane_backward (dinp ? dinp + off : NULL, dgamma ? dgamma + c : NULL,
                      dbeta ? dbeta + c : NULL, dout + off, inp + off,
                      gamma ? gamma[c] : 1.0f, save_mean[c], save_invstd[c], B, stride, HW);
    }
}

void
nn_batchnorm_backward_eval (float       *dinp,
                            float       *dgamma,
                            float       *dbeta,
                            const float *dout,
                            const float *inp,
                            const float *gamma,
                            const float *running_mean,
                            const float *running_var,
                            int          B,
                            int          C,
                            int          HW,
                            float        eps)
{
  NN_ASSERT (dout && inp && running_mean && running_var);
  NN_ASSERT (B > 0 && C > 0 && HW > 0 && eps > 0.0f);
  /* y = gamma (x - rm) invstd + beta with constant statistics: dx = gamma invstd dy,
   * dgamma = sum dy (x - rm) invstd, dbeta = sum dy. */
  const size_t stride = (size_t) C * (size_t) HW;
  for (int c = 0; c < C; c++)
    {
      float invstd = 1.0f / sqrtf (running_var[c] + eps);
      float scale = (gamma ? gamma[c] : 1.0f) * invstd;
      float rm = running_mean[c];
      double sum_dy = 0.0, sum_dy_xhat = 0.0;
      for (int b = 0; b < B; b++)
        {
          size_t off = (size_t) b * stride + (size_t) c * HW;
          const float *dy = dout + off;
          row_dy_sums (&sum_dy, &sum_dy_xhat, dy, inp + off, HW, rm, invstd);
          if (dinp)
            {
              float *dx = dinp + off;
              for (int k = 0; k < HW; k++)
                dx[k] += scale * dy[k];
            }
        }
      if (dgamma)
        dgamma[c] += (float) sum_dy_xhat;
      if (dbeta)
        dbeta[c] += (float) sum_dy;
    }
}

void
nn_instancenorm_forward (float       *out,
                         float       *save_mean,
                         float       *save_invstd,
                         const float *inp,
                         const float *gamma,
                         const float *beta,
                         int          B,
                         int          C,
                         int          HW,
                         float        eps)
{
  NN_ASSERT (out && save_mean && save_invstd && inp);
  NN_ASSERT (B > 0 && C > 0 && HW > 0 && eps > 0.0f);
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++)
      {
        size_t bc = (size_t) b * C + (size_t) c;
        const float *x = inp + bc * HW;
        double mean, var;
        plane_stats (&mean, &var, x, 1, 0, HW);
        float invstd = (float) (1.0 / sqrt (var + (double) eps));
        float scale = (gamma ? gamma[c] : 1.0f) * invstd;
        float shift = (beta ? beta[c] : 0.0f) - (float) mean * scale;
        plane_affine (out + bc * HW, x, 1, 0, HW, scale, shift);
        save_mean[bc] = (float) mean;
        save_invstd[bc] = invstd;
      }
}

void
nn_instancenorm_backward (float       *dinp,
                          float       *dgamma,
                          float       *dbeta,
                          const float *dout,
                          const float *inp,
                          const float *gamma,
                          const float *save_mean,
                          const float *save_invstd,
                          int          B,
                          int          C,
                          int          HW)
{
  NN_ASSERT (dout && inp && save_mean && save_invstd);
  NN_ASSERT (B > 0 && C > 0 && HW > 0);
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++)
      {
        size_t bc = (size_t) b * C + (size_t) c;
        size_t off = bc * HW;
        plane_backward (dinp ? dinp + off : NULL, dgamma ? dgamma + c : NULL,
                        dbeta ? dbeta + c : NULL, dout + off, inp + off,
                        gamma ? gamma[c] : 1.0f, save_mean[bc], save_invstd[bc], 1, 0, HW);
      }
}
