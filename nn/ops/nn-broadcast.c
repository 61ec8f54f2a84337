/* SPDX-License-Identifier: MIT */
/* Broadcasting elementwise add, sub, mul and div (ops/nn-broadcast.h): an odometer over the
 * output's outer dims and a strided loop over its last dim. */
#include "ops/nn-broadcast.h"

#include "core/nn-error.h"

bool
nn_broadcast_geom (NnBroadcastGeom *g,
                   int              ra,
                   const int       *da,
                   int              rb,
                   const int       *db)
{
  if (ra < 1 || rb < 1 || ra > NN_BROADCAST_MAX_RANK || rb > NN_BROADCAST_MAX_RANK)
    return false;
  const int r = ra > rb ? ra : rb;
  size_t step_a = 1, step_b = 1, nout = 1;
  g->rank = r;
  for (int d = r - 1; d >= 0; d--)
    {
      const int ka = d - (r - ra), kb = d - (r - rb);
      const int xa = ka >= 0 ? da[ka] : 1, xb = kb >= 0 ? db[kb] : 1;
      if (xa < 1 || xb < 1 || (xa != xb && xa != 1 && xb != 1))
        return false;
      g->dims[d] = xa > xb ? xa : xb;
      g->sa[d] = xa == 1 ? 0 : step_a;
      g->sb[d] = xb == 1 ? 0 : step_b;
      step_a *= (size_t) xa;
      step_b *= (size_t) xb;
      nout *= (size_t) g->dims[d];
    }
  g->na = step_a;
  g->nb = step_b;
  g->nout = nout;
  return true;
}

static inline float
apply (float        x,
       float        y,
       NnBinaryKind kind)
{
  switch (kind)
    {
    case NN_BINARY_ADD:
      return x + y;
    case NN_BINARY_SUB:
      return x - y;
    case NN_BINARY_MUL:
      return x * y;
    case NN_BINARY_DIV:
      return x / y;
    }
  return 0.0f;
}

/* Moves the odometer over the outer dims (all but the last) one row on: the offsets of a and b
 * follow. */
static void
next_row (const NnBroadcastGeom *g,
          int                   *idx,
          size_t                *oa,
          size_t                *ob)
{
  for (int d = g->rank - 2; d >= 0; d--)
    {
      *oa += g->sa[d];
      *ob += g->sb[d];
      if (++idx[d] < g->dims[d])
        return;
      *oa -= g->sa[d] * (size_t) g->dims[d];
      *ob -= g->sb[d] * (size_t) g->dims[d];
      idx[d] = 0;
    }
}

/* When a has the output's shape and b is constant over the trailing dims [k, rank) and laid
 * out like the output over the others (squeeze-and-excitation's (C, H, W) * (C, 1, 1)): the
 * length of the runs of a that meet one value of b; 0 otherwise. */
static size_t
scalar_run (const NnBroadcastGeom *g)
{
  if (g->na != g->nout)
    return 0;
  int k = g->rank;
  size_t inner = 1;
  while (k > 0 && g->sb[k - 1] == 0)
    inner *= (size_t) g->dims[--k];
  if (k == g->rank)
    return 0;
  size_t step = 1;
  for (int d = k - 1; d >= 0; d--)
    {
      if (g->dims[d] != 1 && g->sb[d] != step)
        return 0;
      step *= (size_t) g->dims[d];
    }
  return step == g->nb ? inner : 0;
}

/* out[i] = x[i] op y for a run of n; one loop per kind, so that each vectorizes. */
static void
apply_run (float       *restrict o,
           const float *restrict x,
           float                 y,
           size_t                n,
           NnBinaryKind          kind)
{
  switch (kind)
    {
    case NN_BINARY_ADD:
      for (size_t i = 0; i < n; i++)
        o[i] = x[i] + y;
      break;
    case NN_BINARY_SUB:
      for (size_t i = 0; i < n; i++)
        o[i] = x[i] - y;
      break;
    case NN_BINARY_MUL:
      for (size_t i = 0; i < n; i++)
        o[i] = x[i] * y;
      break;
    case NN_BINARY_DIV:
      for (size_t i = 0; i < n; i++)
        o[i] = x[i] / y;
      break;
    }
}

void
nn_broadcast_forward (float                 *out,
                      const float           *a,
                      const float           *b,
                      const NnBroadcastGeom *g,
                      int                    B,
                      NnBinaryKind           kind)
{
  NN_ASSERT (out && a && b && g->rank >= 1);
  const int n = g->dims[g->rank - 1];
  const size_t la = g->sa[g->rank - 1], lb = g->sb[g->rank - 1];
  const size_t rows = g->nout / (size_t) n;
  const size_t run = scalar_run (g);
  for (int s = 0; s < B; s++)
    {
      const float *as = a + (size_t) s * g->na, *bs = b + (size_t) s * g->nb;
      float *os = out + (size_t) s * g->nout;
      if (run > 0)
        {
          for (size_t j = 0; j < g->nb; j++)
            apply_run (os + j * run, as + j * run, bs[j], run, kind);
          continue;
        }
      int idx[NN_BROADCAST_MAX_RANK] = { 0 };
      size_t oa = 0, ob = 0;
      for (size_t r = 0; r < rows; r++)
        {
          float *o = os + r * (size_t) n;
          const float *x = as + oa, *y = bs + ob;
          if (la == 1 && lb == 1)
            for (int k = 0; k < n; k++)
              o[k] = apply (x[k], y[k], kind);
          else if (la == 1)
            for (int k = 0; k < n; k++)
              o[k] = apply (x[k], y[0], kind);
          else
            for (int k = 0; k < n; k++)
              o[k] = apply (x[(size_t) k * la], y[(size_t) k * lb], kind);
          next_row (g, idx, &oa, &ob);
        }
    }
}

void
nn_broadcast_backward (float                 *da,
                       float                 *db,
                       const float           *dout,
                       const float           *a,
                       const float           *b,
                       const NnBroadcastGeom *g,
                       int                    B,
                       NnBinaryKind           kind)
{
  if (da == NULL && db == NULL)
    return;
  const int n = g->dims[g->rank - 1];
  const size_t la = g->sa[g->rank - 1], lb = g->sb[g->rank - 1];
  const size_t rows = g->nout / (size_t) n;
  for (int s = 0; s < B; s++)
    {
      const size_t sa = (size_t) s * g->na, sb = (size_t) s * g->nb;
      const float *go = dout + (size_t) s * g->nout;
      int idx[NN_BROADCAST_MAX_RANK] = { 0 };
      size_t oa = 0, ob = 0;
      for (size_t r = 0; r < rows; r++)
        {
          const float *gr = go + r * (size_t) n;
          for (int k = 0; k < n; k++)
            {
              const size_t ia = sa + oa + (size_t) k * la, ib = sb + ob + (size_t) k * lb;
              const float gk = gr[k];
              float ga = gk, gb = gk;
              switch (kind)
                {
                case NN_BINARY_ADD:
                  break;
                case NN_BINARY_SUB:
                  gb = -gk;
                  break;
                case NN_BINARY_MUL:
                  ga = gk * b[ib];
                  gb = gk * a[ia];
                  break;
                case NN_BINARY_DIV:
                  ga = gk / b[ib];
                  gb = -gk * a[ia] / (b[ib] * b[ib]);
                  break;
                }
              if (da != NULL)
                da[ia] += ga;
              if (db != NULL)
                db[ib] += gb;
            }
          next_row (g, idx, &oa, &ob);
        }
    }
}
