/* SPDX-License-Identifier: MIT */
/* Matrix products and the softmax along an axis (ops/nn-matmul.h): one sgemm per matrix of the
 * stack; the softmax walks each line of the axis with a stride of `inner`. */
#include "ops/nn-matmul.h"

#include <cblas.h>
#include <math.h>

#include "core/nn-error.h"

void
nn_matmul_forward (float       *out,
                   const float *a,
                   const float *b,
                   size_t       S,
                   int          M,
                   int          K,
                   int          N)
{
  NN_ASSERT (out && a && b && M > 0 && K > 0 && N > 0);
  const size_t am = (size_t) M * K, bm = (size_t) K * N, om = (size_t) M * N;
  for (size_t s = 0; s < S; s++)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a + s * am, K,
                 b + s * bm, N, 0.0f, out + s * om, N);
}

void
nn_matmul_backward (float       *da,
                    float       *db,
                    const float *dout,
                    const float *a,
                    const float *b,
                    size_t       S,
                    int          M,
                    int          K,
                    int          N)
{
  NN_ASSERT (dout && a && b && M > 0 && K > 0 && N > 0);
  const size_t am = (size_t) M * K, bm = (size_t) K * N, om = (size_t) M * N;
  for (size_t s = 0; s < S; s++)
    {
      /* da (M, K) += dout (M, N) b^T (N, K) */
      if (da)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, 1.0f, dout + s * om, N,
                     b + s * bm, N, 1.0f, da + s * am, K);
      /* db (K, N) += a^T (K, M) dout (M, N) */
      if (db)
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1.0f, a + s * am, K,
                     dout + s * om, N, 1.0f, db + s * bm, N);
    }
}

void
nn_softmax_axis_forward (float       *out,
                         const float *inp,
                         size_t       outer,
                         int          n,
                         size_t       inner)
{
  NN_ASSERT (out && inp && n > 0 && inner > 0);
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner; i++)
      {
        const float *x = inp + o * (size_t) n * inner + i;
        float *y = out + o * (size_t) n * inner + i;
        float mx = x[0];
        for (int k = 1; k < n; k++)
          mx = x[k * inner] > mx ? x[k * inner] : mx;
        double sum = 0.0;
        for (int k = 0; k < n; k++)
          {
            y[k * inner] = expf (x[k * inner] - mx);
            sum += (double) y[k * inner];
          }
        const float inv = (float) (1.0 / sum);
        for (int k = 0; k < n; k++)
          y[k * inner] *= inv;
      }
}

void
nn_softmax_axis_backward (float       *dinp,
                          const float *dout,
                          const float *out,
                          size_t       outer,
                          int          n,
                          size_t       inner)
{
  if (dinp == NULL)
    return;
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner; i++)
      {
        const size_t base = o * (size_t) n * inner + i;
        double dot = 0.0;
        for (int k = 0; k < n; k++)
          dot += (double) dout[base + k * inner] * (double) out[base + k * inner];
        for (int k = 0; k < n; k++)
          dinp[base + k * inner] += out[base + k * inner] * (dout[base + k * inner] - (float) dot);
      }
}
