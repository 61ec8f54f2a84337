/* SPDX-License-Identifier: MIT */
/* Parameter-free ops: add, mul, channel concat, softmax, inverted dropout and the mean
 * cross-entropy loss with its gradient. */
#include "ops/nn-elementwise.h"

#include <math.h>
#include <string.h>

#include "core/nn-error.h"
#include "ops/nn-simd.h"

void
nn_add_forward (float       *out,
                const float *a,
                const float *b,
                size_t       N)
{
  NN_ASSERT (out && a && b);
  nn_simd ()->add (out, a, b, N);
}

void
nn_add_backward (float       *da,
                 float       *db,
                 const float *dout,
                 size_t       N)
{
  NN_ASSERT (dout != NULL);
  if (da)
    nn_simd ()->accumulate (da, dout, N);
  if (db)
    nn_simd ()->accumulate (db, dout, N);
}

void
nn_mul_forward (float       *out,
                const float *a,
                const float *b,
                size_t       N)
{
  NN_ASSERT (out && a && b);
  for (size_t i = 0; i < N; i++)
    out[i] = a[i] * b[i];
}

void
nn_mul_backward (float       *da,
                 float       *db,
                 const float *dout,
                 const float *a,
                 const float *b,
                 size_t       N)
{
  NN_ASSERT (dout && a && b);
  if (da)
    for (size_t i = 0; i < N; i++)
      da[i] += dout[i] * b[i];
  if (db)
    for (size_t i = 0; i < N; i++)
      db[i] += dout[i] * a[i];
}

void
nn_concat_forward (float              *out,
                   const float *const *inputs,
                   const int          *channels,
                   int                 n_inputs,
                   int                 B,
                   int                 HW)
{
  NN_ASSERT (out && inputs && channels && n_inputs > 0 && B > 0 && HW > 0);
  for (int b = 0; b < B; b++)
    for (int k = 0; k < n_inputs; k++)
      {
        size_t n = (size_t) channels[k] * (size_t) HW;
        memcpy (out, inputs[k] + (size_t) b * n, sizeof (float) * n);
        out += n;
      }
}

void
nn_concat_backward (float *const *dinputs,
                    const float  *dout,
                    const int    *channels,
                    int           n_inputs,
                    int           B,
                    int           HW)
{
  NN_ASSERT (dinputs && dout && channels && n_inputs > 0 && B > 0 && HW > 0);
  for (int b = 0; b < B; b++)
    for (int k = 0; k < n_inputs; k++)
      {
        size_t n = (size_t) channels[k] * (size_t) HW;
        if (dinputs[k])
          {
            float *dx = dinputs[k] + (size_t) b * n;
            for (size_t i = 0; i < n; i++)
              dx[i] += dout[i];
          }
        dout += n;
      }
}

void
nn_softmax_forward (float       *out,
                    const float *inp,
                    int          B,
                    int          N)
{
  NN_ASSERT (out && inp && B > 0 && N > 0);
  for (int b = 0; b < B; b++)
    {
      const float *x = inp + (size_t) b * N;
      float *y = out + (size_t) b * N;
      /* Subtracting the row maximum keeps every exponent <= 0, so nothing overflows. */
      float max = x[0];
      for (int i = 1; i < N; i++)
        if (x[i] > max)
          max = x[i];
      float sum = 0.0f;
      for (int i = 0; i < N; i++)
        {
          y[i] = expf (x[i] - max);
          sum += y[i];
        }
      float inv = 1.0f / sum;
      for (int i = 0; i < N; i++)
        y[i] *= inv;
    }
}

void
nn_softmax_backward (float       *dinp,
                     const float *dout,
                     const float *out,
                     int          B,
                     int          N)
{
  NN_ASSERT (dinp && dout && out && B > 0 && N > 0);
  for (int b = 0; b < B; b++)
    {
      const float *dy = dout + (size_t) b * N;
      const float *y = out + (size_t) b * N;
      float *dx = dinp + (size_t) b * N;
      float dot = 0.0f;
      for (int i = 0; i < N; i++)
        dot += dy[i] * y[i];
      for (int i = 0; i < N; i++)
        dx[i] += y[i] * (dy[i] - dot);
    }
}

void
nn_dropout_forward (float       *out,
                    uint8_t     *mask,
                    const float *inp,
                    size_t       N,
                    float        p,
                    NnRng       *rng)
{
  NN_ASSERT (out && mask && inp && rng);
  NN_ASSERT (p >= 0.0f && p < 1.0f);
  const float scale = 1.0f / (1.0f - p);
  for (size_t i = 0; i < N; i++)
    {
      /* uniform is in [0, 1): P(u >= p) = 1 - p, and p = 0 keeps everything. */
      mask[i] = nn_rng_uniform (rng) >= p;
      out[i] = mask[i] ? inp[i] * scale : 0.0f;
    }
}

void
nn_dropout_backward (float         *dinp,
                     const float   *dout,
                     const uint8_t *mask,
                     size_t         N,
                     float          p)
{
  NN_ASSERT (dinp && dout && mask);
  NN_ASSERT (p >= 0.0f && p < 1.0f);
  const float scale = 1.0f / (1.0f - p);
  for (size_t i = 0; i < N; i++)
    if (mask[i])
      dinp[i] += dout[i] * scale;
}

float
nn_cross_entropy (float       *dlogits,
                  int         *correct,
                  const float *logits,
                  const int   *labels,
                  int          B,
                  int          N)
{
  NN_ASSERT (logits && labels && B > 0 && N > 0);
  double loss = 0.0;
  int hits = 0;
  for (int b = 0; b < B; b++)
    {
      const float *x = logits + (size_t) b * N;
      int label = labels[b];
      NN_ASSERT (label >= 0 && label < N);
      /* loss_b = log sum exp (x) - x[label], with the maximum factored out; the first maximum
       * is the prediction. */
      int arg = 0;
      for (int i = 1; i < N; i++)
        if (x[i] > x[arg])
          arg = i;
      float max = x[arg];
      double sum = 0.0;
      for (int i = 0; i < N; i++)
        sum += (double) expf (x[i] - max);
      loss += log (sum) - (double) (x[label] - max);
      hits += arg == label;
      if (dlogits)
        {
          float *dx = dlogits + (size_t) b * N;
          float inv = (float) (1.0 / sum) / (float) B;
          for (int i = 0; i < N; i++)
            dx[i] = expf (x[i] - max) * inv;
          dx[label] -= 1.0f / (float) B;
        }
    }
  if (correct)
    *correct = hits;
  return (float) (loss / (double) B);
}
