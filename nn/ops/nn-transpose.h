/* SPDX-License-Identifier: MIT */
/* A permutation of the per-sample axes of a tensor, batch by batch. */
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
