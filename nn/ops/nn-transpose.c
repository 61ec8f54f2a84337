/* SPDX-License-Identifier: MIT */
/* Transpose and slice (ops/nn-transpose.h). Transpose: an odometer over the output's rows with
 * the input's offset following it; each row (the last output dim) is a strided loop. */
#include "ops/nn-transpose.h"

#include <string.h>

#include "core/nn-error.h"

bool
nn_transpose_geom (NnTransposeGeom *g,
                   int              rank,
                   const int       *dims,
                   const int       *perm)
{
  if (rank < 1 || rank > NN_TRANSPOSE_MAX_RANK)
    return false;
  size_t stride[NN_TRANSPOSE_MAX_RANK], step = 1;
  for (int d = rank - 1; d >= 0; d--)
    {
      if (dims[d] < 1)
        return false;
      stride[d] = step;
      step *= (size_t) dims[d];
    }
  bool seen[NN_TRANSPOSE_MAX_RANK] = { false };
  g->rank = rank;
  g->n = step;
  for (int d = 0; d < rank; d++)
    {
      if (perm[d] < 0 || perm[d] >= rank || seen[perm[d]])
        return false;
      seen[perm[d]] = true;
      g->dims[d] = dims[perm[d]];
      g->si[d] = stride[perm[d]];
    }
  return true;
}

/* Moves the odometer over the output's outer dims (all but the last) one row on; the input
 * offset follows. */
static void
next_row (const NnTransposeGeom *g,
          int                   *idx,
          size_t                *i)
{
  for (int d = g->rank - 2; d >= 0; d--)
    {
      *i += g->si[d];
      if (++idx[d] < g->dims[d])
        return;
      *i -= g->si[d] * (size_t) g->dims[d];
      idx[d] = 0;
    }
}

void
nn_transpose_forward (float                 *out,
                      const float           *inp,
                      const NnTransposeGeom *g,
                      int                    B)
{
  NN_ASSERT (out && inp);
  const int n = g->dims[g->rank - 1];
  const size_t s = g->si[g->rank - 1];
  for (int b = 0; b < B; b++)
    {
      const float *x = inp + (size_t) b * g->n;
      float *y = out + (size_t) b * g->n;
      int idx[NN_TRANSPOSE_MAX_RANK] = { 0 };
      size_t i = 0;
      for (size_t o = 0; o < g->n; o += (size_t) n)
        {
          for (int k = 0; k < n; k++)
            y[o + (size_t) k] = x[i + (size_t) k * s];
          next_row (g, idx, &i);
        }
    }
}

void
nn_transpose_backward (float                 *dinp,
                       const float           *dout,
                       const NnTransposeGeom *g,
                       int                    B)
{
  if (dinp == NULL)
    return;
  const int n = g->dims[g->rank - 1];
  const size_t s = g->si[g->rank - 1];
  for (int b = 0; b < B; b++)
    {
      float *dx = dinp + (size_t) b * g->n;
      const float *dy = dout + (size_t) b * g->n;
      int idx[NN_TRANSPOSE_MAX_RANK] = { 0 };
      size_t i = 0;
      for (size_t o = 0; o < g->n; o += (size_t) n)
        {
          for (int k = 0; k < n; k++)
            dx[i + (size_t) k * s] += dy[o + (size_t) k];
          next_row (g, idx, &i);
        }
    }
}

void
nn_slice_forward (float       *out,
                  const float *inp,
                  int          B,
                  size_t       outer,
                  int          n,
                  int          start,
                  int          size,
                  size_t       inner)
{
  NN_ASSERT (out && inp && start >= 0 && size >= 1 && start + size <= n);
  const size_t rows = (size_t) B * outer, chunk = (size_t) size * inner;
  for (size_t r = 0; r < rows; r++)
    memcpy (out + r * chunk, inp + (r * (size_t) n + (size_t) start) * inner,
            sizeof (float) * chunk);
}

void
nn_slice_backward (float       *dinp,
                   const float *dout,
                   int          B,
                   size_t       outer,
                   int          n,
                   int          start,
                   int          size,
                   size_t       inner)
{
  if (dinp == NULL)
    return;
  const size_t rows = (size_t) B * outer, chunk = (size_t) size * inner;
  for (size_t r = 0; r < rows; r++)
    {
      float *dx = dinp + (r * (size_t) n + (size_t) start) * inner;
      const float *dy = dout + r * chunk;
      for (size_t k = 0; k < chunk; k++)
        dx[k] += dy[k];
    }
}
