/* SPDX-License-Identifier: MIT */
/* Reductions over any axes (ops/nn-reduce.h): an odometer over the input with the output's
 * offset following it. */
#include "ops/nn-reduce.h"

#include <math.h>
#include <string.h>

#include "core/nn-error.h"

bool
nn_reduce_geom (NnReduceGeom *g,
                int           rank,
                const int    *dims,
                int           axes)
{
  if (rank < 1 || rank > NN_REDUCE_MAX_RANK || axes <= 0 || axes >= (1 << rank))
    return false;
  size_t step = 1, nin = 1;
  g->rank = rank;
  for (int d = rank - 1; d >= 0; d--)
    {
      if (dims[d] < 1)
        return false;
      g->dims[d] = dims[d];
      nin *= (size_t) dims[d];
      if (axes & (1 << d))
        g->so[d] = 0;
      else
        {
          g->so[d] = step;
          step *= (size_t) dims[d];
        }
    }
  g->nin = nin;
  g->nout = step;
  g->count = nin / step;
  return true;
}

/* Moves the odometer one value on; the output offset follows. */
static inline void
next_value (const NnReduceGeom *g,
            int                *idx,
            size_t             *o)
{
  for (int d = g->rank - 1; d >= 0; d--)
    {
      *o += g->so[d];
      if (++idx[d] < g->dims[d])
        return;
      *o -= g->so[d] * (size_t) g->dims[d];
      idx[d] = 0;
    }
}

void
nn_reduce_forward (float              *out,
                   int32_t            *argmax,
                   const float        *inp,
                   const NnReduceGeom *g,
                   int                 B,
                   NnReduceKind        kind)
{
  NN_ASSERT (out && inp && (kind != NN_REDUCE_MAX || argmax));
  for (int s = 0; s < B; s++)
    {
      const float *x = inp + (size_t) s * g->nin;
      float *y = out + (size_t) s * g->nout;
      int32_t *am = kind == NN_REDUCE_MAX ? argmax + (size_t) s * g->nout : NULL;
      int idx[NN_REDUCE_MAX_RANK] = { 0 };
      size_t o = 0;
      if (kind == NN_REDUCE_MAX)
        {
          for (size_t k = 0; k < g->nout; k++)
            {
              y[k] = -INFINITY;
              am[k] = -1;
            }
          for (size_t i = 0; i < g->nin; i++)
            {
              if (x[i] > y[o] || am[o] < 0)
                {
                  y[o] = x[i];
                  am[o] = (int32_t) i;
                }
              next_value (g, idx, &o);
            }
          continue;
        }
      memset (y, 0, sizeof (float) * g->nout);
      for (size_t i = 0; i < g->nin; i++)
        {
          y[o] += x[i];
          next_value (g, idx, &o);
        }
      if (kind == NN_REDUCE_MEAN)
        {
          const float inv = 1.0f / (float) g->count;
          for (size_t k = 0; k < g->nout; k++)
            y[k] *= inv;
        }
    }
}

void
nn_reduce_backward (float              *dinp,
                    const float        *dout,
                    const int32_t      *argmax,
                    const NnReduceGeom *g,
                    int                 B,
                    NnReduceKind        kind)
{
  if (dinp == NULL)
    return;
  const float scale = kind == NN_REDUCE_MEAN ? 1.0f / (float) g->count : 1.0f;
  for (int s = 0; s < B; s++)
    {
      float *dx = dinp + (size_t) s * g->nin;
      const float *dy = dout + (size_t) s * g->nout;
      if (kind == NN_REDUCE_MAX)
        {
          const int32_t *am = argmax + (size_t) s * g->nout;
          for (size_t k = 0; k < g->nout; k++)
            dx[am[k]] += dy[k];
          continue;
        }
      int idx[NN_REDUCE_MAX_RANK] = { 0 };
      size_t o = 0;
      for (size_t i = 0; i < g->nin; i++)
        {
          dx[i] += dy[o] * scale;
          next_value (g, idx, &o);
        }
    }
}
