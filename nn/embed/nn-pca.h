/* SPDX-License-Identifier: MIT */
/* Principal component analysis of the rows of a matrix: the projections on the top k
 * components, from LAPACK's symmetric eigensolver on the covariance (or Gram) matrix. */
#pragma once

#include <stdbool.h>

#include "core/nn-error.h"

/* out (N, k) = (x (N, D) - column means) V, V (D, k) the eigenvectors of the covariance with
 * the k largest eigenvalues, largest first; variance (k, may be NULL) = those eigenvalues (the
 * variance along each component, divided by N - 1). Each component's sign puts the projection
 * of largest magnitude on the positive side. Needs N >= 2 and 1 <= k <= min (N, D). */
bool nn_pca (float       *out,
             float       *variance,
             const float *x,
             int          N,
             int          D,
             int          k,
             NnError     *err);

/* The total variance of the rows of x (N, D): the trace of their covariance (divided by
 * N - 1), against which nn_pca's variances are shares. N >= 2. */
double nn_pca_total_variance (const float *x,
                              int          N,
                              int          D);
