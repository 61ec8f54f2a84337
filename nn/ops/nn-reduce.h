/* SPDX-License-Identifier: MIT */
/* Sum, mean and max of a tensor over any of its per-sample axes, batch by batch. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NN_REDUCE_MAX_RANK 6

typedef enum
{
  NN_REDUCE_SUM,
  NN_REDUCE_MEAN,
  NN_REDUCE_MAX,
} NnReduceKind;

/* One sample: the input's `rank` dims, and for each input dim the step the output takes along
 * it (0 for a reduced dim); nin and nout are the sample sizes, count = nin / nout the values
 * reduced into each output. */
typedef struct
{
  int    rank;
  int    dims[NN_REDUCE_MAX_RANK];
  size_t so[NN_REDUCE_MAX_RANK];
  size_t nin, nout, count;
} NnReduceGeom;

/* The geometry of reducing dims (rank 1 to NN_REDUCE_MAX_RANK) over the axes whose bit is set
 * in `axes` (bit d: dim d); false when a rank or axis is out of range or no axis is set. The
 * output's dims are the input's with the reduced ones 1 (the caller drops them or not). */
bool nn_reduce_geom (NnReduceGeom *g,
                     int           rank,
                     const int    *dims,
                     int           axes);

/* out (B, nout) = the reduction of inp (B, nin). For max, argmax (B, nout) receives the index
 * within the sample of the first maximum. */
void nn_reduce_forward (float              *out,
                        int32_t            *argmax,
                        const float        *inp,
                        const NnReduceGeom *g,
                        int                 B,
                        NnReduceKind        kind);
/* dinp (B, nin) += dout spread back: to every reduced value for sum (divided by count for
 * mean), to the first maximum for max. */
void nn_reduce_backward (float              *dinp,
                         const float        *dout,
                         const int32_t      *argmax,
                         const NnReduceGeom *g,
                         int                 B,
                         NnReduceKind        kind);
