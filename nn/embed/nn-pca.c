/* SPDX-License-Identifier: MIT */
/* PCA by an exact symmetric eigensolver (LAPACKE ssyevr asked for the top k eigenpairs only):
 * robust where the top eigenvalues are close, which power iteration is not. The D x D
 * covariance is used when D <= N, else the N x N Gram matrix, whose eigenvectors scaled by
 * the square roots of their eigenvalues are the same projections. */
#include "embed/nn-pca.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool
nn_pca (float       *out,
        float       *variance,
        const float *x,
        int          N,
        int          D,
        int          k,
        NnError     *err)
{
  NN_ASSERT (out != NULL && x != NULL);
  if (N < 2)
    return nn_error_set (err, NN_ERROR_SPEC, "PCA needs at least 2 points, not %d", N);
  if (D < 1 || k < 1 || k > D || k > N)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "PCA of %d points of %d features cannot give %d components", N, D, k);
  const bool gram = D > N;
  const int M = gram ? N : D;  /* the order of the eigenproblem */
  float *xc = malloc ((size_t) N * D * sizeof (float));
  float *cov = malloc ((size_t) M * M * sizeof (float));
  float *w = malloc ((size_t) M * sizeof (float));
  float *z = malloc ((size_t) M * k * sizeof (float));
  int *support = malloc ((size_t) 2 * k * sizeof (int));
  double *mean = calloc ((size_t) D, sizeof (double));
  bool ok = false;
  if (xc == NULL || cov == NULL || w == NULL || z == NULL || support == NULL || mean == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory for PCA of %d x %d", N, D);
      goto done;
    }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < D; j++)
      mean[j] += (double) x[(size_t) i * D + j];
  for (int j = 0; j < D; j++)
    mean[j] /= N;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < D; j++)
      xc[(size_t) i * D + j] = (float) ((double) x[(size_t) i * D + j] - mean[j]);

  /* cov (D, D) = xc^T xc / (N - 1), or the Gram matrix (N, N) = xc xc^T / (N - 1); only the
   * upper triangle is read. */
  const float scale = 1.0f / (float) (N - 1);
  if (gram)
    cblas_ssyrk (CblasRowMajor, CblasUpper, CblasNoTrans, N, D, scale, xc, D, 0.0f, cov, N);
  else
    cblas_ssyrk (CblasRowMajor, CblasUpper, CblasTrans, D, N, scale, xc, D, 0.0f, cov, D);
  int found = 0;
  /* Eigenvalues come in ascending order: indices M - k + 1 .. M are the top k. */
  lapack_int info = LAPACKE_ssyevr (LAPACK_ROW_MAJOR, 'V', 'I', 'U', M, cov, M, 0.0f, 0.0f,
                                    M - k + 1, M, 0.0f, &found, w, z, k, support);
  if (info != 0 || found != k)
    {
      nn_error_set (err, NN_ERROR_NUMERIC, "the eigensolver failed on PCA of %d x %d (info %d)",
                    N, D, (int) info);
      goto done;
    }
  for (int c = 0; c < k; c++)
    {
      const int col = k - 1 - c;  /* largest first */
      const float lambda = w[col] > 0.0f ? w[col] : 0.0f;
      if (variance != NULL)
        variance[c] = lambda;
      for (int i = 0; i < N; i++)
        {
          double p;
          if (gram)
            p = (double) z[(size_t) i * k + col] * sqrt ((double) lambda * (N - 1));
          else
            {
              p = 0.0;
              for (int j = 0; j < D; j++)
                p += (double) xc[(size_t) i * D + j] * (double) z[(size_t) j * k + col];
            }
          out[(size_t) i * k + c] = (float) p;
        }
      int big = 0;
      for (int i = 1; i < N; i++)
        if (fabsf (out[(size_t) i * k + c]) > fabsf (out[(size_t) big * k + c]))
          big = i;
      if (out[(size_t) big * k + c] < 0.0f)
        for (int i = 0; i < N; i++)
          out[(size_t) i * k + c] = -out[(size_t) i * k + c];
    }
  ok = true;

done:
  free (xc);
  free (cov);
  free (w);
  free (z);
  free (support);
  free (mean);
  return ok;
}

double
nn_pca_total_variance (const float *x,
                       int          N,
                       int          D)
{
  NN_ASSERT (x != NULL && N >= 2 && D >= 1);

  double total = 0.0;
  for (int j = 0; j < D; j++)
    {
      double s = 0.0, s2 = 0.0;
      for (int i = 0; i < N; i++)
        {
          double v = (double) x[(size_t) i * D + j];
          s += v;
          s2 += v * v;
        }
      total += (s2 - s * s / N) / (N - 1);
    }
  return total;
}
