/* SPDX-License-Identifier: MIT */
/* Ops that move values between the per-sample axes of a tensor, batch by batch: a permutation
 * of the axes, and a slice along one axis. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define NN_TRANSPOSE_MAX_RANK 6

/* One sample of the output: its `rank` dims (output dim d is input dim perm[d]) and, for each,
 * the step the input takes along it; n values per sample. */
typedef struct
{
  int    rank;
  int    dims[NN_TRANSPOSE_MAX_RANK];
  size_t si[NN_TRANSPOSE_MAX_RANK];
  size_t n;
} NnTransposeGeom;

/* The geometry of permuting dims (rank 1 to NN_TRANSPOSE_MAX_RANK) by perm; false when perm is
 * not a permutation of 0 .. rank - 1. */
bool nn_transpose_geom (NnTransposeGeom *g,
                        int              rank,
                        const int       *dims,
                        const int       *perm);

/* out (B, n) = inp (B, n) with its axes permuted. */
void nn_transpose_forward (float                 *out,
                           const float           *inp,
                           const NnTransposeGeom *g,
                           int                    B);
/* dinp (B, n) += dout with the permutation undone. */
void nn_transpose_backward (float                 *dinp,
                            const float           *dout,
                            const NnTransposeGeom *g,
                            int                    B);

/* out (B, outer, size, inner) = inp (B, outer, n, inner)[:, :, start : start + size, :]. */
void nn_slice_forward (float       *out,
                       const float *inp,
                       int          B,
                       size_t       outer,
                       int          n,
                       int          start,
                       int          size,
                       size_t       inner);
/* dinp (B, outer, n, inner)[:, :, start : start + size, :] += dout (B, outer, size, inner). */
void nn_slice_backward (float       *dinp,
                        const float *dout,
                        int          B,
                        size_t       outer,
                        int          n,
                        int          start,
                        int          size,
                        size_t       inner);
