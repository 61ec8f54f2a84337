/* SPDX-License-Identifier: MIT */
/* Fully connected layer: forward and backward are one sgemm each. */
#include "ops/nn-linear.h"

#include <cblas.h>
#include <stddef.h>

#include "core/nn-error.h"

void
nn_linear_forward (float       *out,
                   const float *inp,
                   const float *weight,
                   const float *bias,
                   int          B,
                   int          IN,
                   int          OUT)
{
  NN_ASSERT (out != NULL && inp != NULL && weight != NULL);
  NN_ASSERT (B > 0 && IN > 0 && OUT > 0);
  float beta = 0.0f;
  if (bias)
    {
      for (int b = 0; b < B; b++)
        for (int o = 0; o < OUT; o++)
          out[(size_t) b * OUT + o] = bias[o];
      beta = 1.0f;
    }
  /* out (B, OUT) = inp (B, IN) x weight^T (IN, OUT) */
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, B, OUT, IN,
               1.0f, inp, IN, weight, IN, beta, out, OUT);
}

/* dinp = dout W, dweight = dout^T inp, dbias = column sums of dout; all accumulate. */
void
nn_linear_backward (float       *dinp,
                    float       *dweight,
                    float       *dbias,
                    const float *dout,
                    const float *inp,
                    const float *weight,
                    int          B,
                    int          IN,
                    int          OUT)
{
  NN_ASSERT (dout != NULL && inp != NULL && weight != NULL);
  NN_ASSERT (B > 0 && IN > 0 && OUT > 0);
  /* dinp (B, IN) += dout (B, OUT) x weight (OUT, IN) */
  if (dinp)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, B, IN, OUT,
                 1.0f, dout, OUT, weight, IN, 1.0f, dinp, IN);
  /* dweight (OUT, IN) += dout^T (OUT, B) x inp (B, IN) */
  if (dweight)
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, OUT, IN, B,
                 1.0f, dout, OUT, inp, IN, 1.0f, dweight, IN);
  if (dbias)
    for (int b = 0; b < B; b++)
      for (int o = 0; o < OUT; o++)
        dbias[o] += dout[(size_t) b * OUT + o];
}

void
nn_linear_backward_params (float       *dweight,
                           float       *dbias,
                           const float *dout,
                           const float *inp,
                           int          B,
                           int          IN,
                           int          OUT,
                           int          o0,
                           int          o1)
{
  NN_ASSERT (dout != NULL && inp != NULL);
  NN_ASSERT (B > 0 && IN > 0 && OUT > 0 && 0 <= o0 && o0 <= o1 && o1 <= OUT);
  if (o0 == o1)
    return;
  /* dweight rows [o0, o1) (o1-o0, IN) += dout^T columns [o0, o1) (o1-o0, B) x inp (B, IN) */
  if (dweight)
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, o1 - o0, IN, B,
                 1.0f, dout + o0, OUT, inp, IN, 1.0f, dweight + (size_t) o0 * IN, IN);
  if (dbias)
    for (int b = 0; b < B; b++)
      for (int o = o0; o < o1; o++)
        dbias[o] += dout[(size_t) b * OUT + o];
}
