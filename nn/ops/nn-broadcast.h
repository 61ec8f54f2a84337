/* SPDX-License-Identifier: MIT */
/* Elementwise add, sub, mul and div of two tensors whose per-sample shapes broadcast against
 * each other (NumPy rules, aligned on the last dim), batch by batch. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define NN_BROADCAST_MAX_RANK 6

typedef enum
{
  NN_BINARY_ADD,
  NN_BINARY_SUB,
  NN_BINARY_MUL,
  NN_BINARY_DIV,
} NnBinaryKind;

/* One sample of the output: `rank` dims, and for each output dim the step it takes in a's and
 * b's sample (0 where that input has size 1 and is repeated); na, nb, nout are the sample sizes
 * of a, b and the output. */
typedef struct
{
  int    rank;
  int    dims[NN_BROADCAST_MAX_RANK];
  size_t sa[NN_BROADCAST_MAX_RANK];
  size_t sb[NN_BROADCAST_MAX_RANK];
  size_t na, nb, nout;
} NnBroadcastGeom;

/* The geometry of a (rank ra, dims da) against b (rank rb, dims db); false when they do not
 * broadcast (a dim differs and neither is 1) or a rank is out of range. */
bool  nn_broadcast_geom (NnBroadcastGeom *g,
                         int              ra,
                         const int       *da,
                         int              rb,
                         const int       *db);

/* out (B, nout) = a (B, na) op b (B, nb), broadcast. */
void  nn_broadcast_forward (float                 *out,
                            const float           *a,
                            const float           *b,
                            const NnBroadcastGeom *g,
                            int                    B,
                            NnBinaryKind           kind);
/* da (B, na) += dout reduced over a's broadcast dims times d(op)/da, and db likewise (either may
 * be NULL). */
void  nn_broadcast_backward (float                 *da,
                             float                 *db,
                             const float           *dout,
                             const float           *a,
                             const float           *b,
                             const NnBroadcastGeom *g,
                             int                    B,
                             NnBinaryKind           kind);
