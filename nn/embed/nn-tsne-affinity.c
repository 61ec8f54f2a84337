/* SPDX-License-Identifier: MIT */
/* t-SNE's input affinities: squared distances in row blocks through sgemm, each point's K
 * nearest neighbours, a binary search per point on the Gaussian's precision for the asked
 * perplexity, then P symmetrized into compressed rows. */
#include "embed/nn-tsne-private.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_ROWS  512
#define SEARCH_STEPS 200

void
nn_tsne_affinity_clear (NnTsneAffinity *p)
{
  if (p == NULL)
    return;
  free (p->row);
  free (p->col);
  free (p->val);
  memset (p, 0, sizeof *p);
}

/* Keeps the K smallest of dist (N) except index `self` in idx/d (K), as a max-heap. */
static void
select_nearest (int         *idx,
                float       *d,
                const float *dist,
                int          N,
                int          K,
                int          self)
{
  int size = 0;
  for (int j = 0; j < N; j++)
    {
      if (j == self)
        continue;
      float v = dist[j];
      int pos;
      if (size < K)
        {
          pos = size++;
          while (pos > 0 && d[(pos - 1) / 2] < v)
            {
              d[pos] = d[(pos - 1) / 2];
              idx[pos] = idx[(pos - 1) / 2];
              pos = (pos - 1) / 2;
            }
        }
      else if (v < d[0])
        {
          pos = 0;
          for (;;)
            {
              int l = 2 * pos + 1, r = l + 1, big = pos;
              float bv = v;
              if (l < K && d[l] > bv)
                big = l, bv = d[l];
              if (r < K && d[r] > bv)
                big = r;
              if (big == pos)
                break;
              d[pos] = d[big];
              idx[pos] = idx[big];
              pos = big;
            }
        }
      else
        continue;
      d[pos] = v;
      idx[pos] = j;
    }
}

/* p (K) = the conditional P_j|i over the distances d (K) whose perplexity is exp (target). */
static void
calibrate (float       *p,
           const float *d,
           int          K,
           double       target)
{
  float dmin = FLT_MAX;
  for (int j = 0; j < K; j++)
    dmin = d[j] < dmin ? d[j] : dmin;
  double beta = 1.0, lo = 0.0, hi = HUGE_VAL;
  double sum = 0.0;
  for (int step = 0; step < SEARCH_STEPS; step++)
    {
      /* exp (-beta (d - dmin)): the shift cancels in the normalization and keeps the largest
       * term at 1. H = log sum + beta sum (d - dmin) e / sum. */
      double dot = 0.0;
      sum = 0.0;
      for (int j = 0; j < K; j++)
        {
          double e = exp (-beta * (double) (d[j] - dmin));
          p[j] = (float) e;
          sum += e;
          dot += (double) (d[j] - dmin) * e;
        }
      double H = log (sum) + beta * dot / sum;
      if (fabs (H - target) < 1e-5)
        break;
      if (H > target)
        {
          lo = beta;
          beta = hi == HUGE_VAL ? beta * 2.0 : (beta + hi) / 2.0;
        }
      else
        {
          hi = beta;
          beta = (beta + lo) / 2.0;
        }
    }
  for (int j = 0; j < K; j++)
    p[j] = (float) ((double) p[j] / sum);
}

typedef struct
{
  int   col;
  float val;
} Entry;

static int
compare_entry (const void *a,
               const void *b)
{
  int x = ((const Entry *) a)->col, y = ((const Entry *) b)->col;
  return (x > y) - (x < y);
}

/* Symmetrizes the conditional rows (N, K) into p: every (i, j, v) goes to row i and row j,
 * then each row is sorted by column and repeated columns are summed. */
static bool
symmetrize (NnTsneAffinity *p,
            const int      *nbr,
            const float    *cond,
            int             N,
            int             K)
{
  const size_t E = (size_t) 2 * N * K;
  int *start = calloc ((size_t) N + 1, sizeof (int));
  int *fill = malloc ((size_t) N * sizeof (int));
  Entry *entry = malloc (E * sizeof (Entry));
  p->n = N;
  p->row = malloc (((size_t) N + 1) * sizeof (int));
  p->col = malloc (E * sizeof (int));
  p->val = malloc (E * sizeof (float));
  bool ok = start && fill && entry && p->row && p->col && p->val;
  if (ok)
    {
      for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++)
          {
            start[i + 1]++;
            start[nbr[(size_t) i * K + k] + 1]++;
          }
      for (int i = 0; i < N; i++)
        start[i + 1] += start[i];
      memcpy (fill, start, (size_t) N * sizeof (int));
      for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++)
          {
            int j = nbr[(size_t) i * K + k];
            float v = cond[(size_t) i * K + k] / (float) (2 * N);
            entry[fill[i]++] = (Entry) { j, v };
            entry[fill[j]++] = (Entry) { i, v };
          }
      size_t out = 0;
      for (int i = 0; i < N; i++)
        {
          p->row[i] = (int) out;
          qsort (entry + start[i], (size_t) (start[i + 1] - start[i]), sizeof (Entry),
                 compare_entry);
          for (int s = start[i]; s < start[i + 1]; s++)
            if (out > (size_t) p->row[i] && p->col[out - 1] == entry[s].col)
              p->val[out - 1] += entry[s].val;
            else
              {
                p->col[out] = entry[s].col;
                p->val[out++] = entry[s].val;
              }
        }
      p->row[N] = (int) out;
    }
  free (start);
  free (fill);
  free (entry);
  return ok;
}

bool
nn_tsne_affinity_init (NnTsneAffinity *p,
                       const float    *x,
                       int             N,
                       int             D,
                       double          perplexity,
                       int             K,
                       NnError        *err)
{
  NN_ASSERT (p != NULL && x != NULL && N >= 2 && D >= 1 && K >= 1 && K <= N - 1);
  memset (p, 0, sizeof *p);
  const int R = N < BLOCK_ROWS ? N : BLOCK_ROWS;
  float *norm = malloc ((size_t) N * sizeof (float));
  float *dist = malloc ((size_t) R * N * sizeof (float));
  int *nbr = malloc ((size_t) N * K * sizeof (int));
  float *nd = malloc ((size_t) N * K * sizeof (float));
  float *cond = malloc ((size_t) K * sizeof (float));
  bool ok = false;
  if (norm == NULL || dist == NULL || nbr == NULL || nd == NULL || cond == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory for the affinities of %d points", N);
      goto done;
    }
  for (int i = 0; i < N; i++)
    {
      double s = 0.0;
      for (int j = 0; j < D; j++)
        s += (double) x[(size_t) i * D + j] * (double) x[(size_t) i * D + j];
      if (!isfinite (s))
        {
          nn_error_set (err, NN_ERROR_NUMERIC, "the features of point %d are not finite", i);
          goto done;
        }
      norm[i] = (float) s;
    }
  /* |x_i - x_j|^2 = |x_i|^2 + |x_j|^2 - 2 x_i . x_j, a block of R rows at a time. */
  for (int i0 = 0; i0 < N; i0 += R)
    {
      int rows = N - i0 < R ? N - i0 : R;
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, N, D, -2.0f,
                   x + (size_t) i0 * D, D, x, D, 0.0f, dist, N);
      for (int r = 0; r < rows; r++)
        {
          float *dr = dist + (size_t) r * N;
          for (int j = 0; j < N; j++)
            {
              float v = dr[j] + norm[i0 + r] + norm[j];
              dr[j] = v > 0.0f ? v : 0.0f;
            }
          select_nearest (nbr + (size_t) (i0 + r) * K, nd + (size_t) (i0 + r) * K, dr, N, K,
                          i0 + r);
        }
    }
  const double target = log (perplexity);
  for (int i = 0; i < N; i++)
    {
      float *row = nd + (size_t) i * K;
      /* The conditional probabilities overwrite the distances they came from. */
      calibrate (cond, row, K, target);
      memcpy (row, cond, (size_t) K * sizeof (float));
    }
  if (!symmetrize (p, nbr, nd, N, K))
    {
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory for the affinities of %d points", N);
      goto done;
    }
  ok = true;

done:
  if (!ok)
    nn_tsne_affinity_clear (p);
  free (norm);
  free (dist);
  free (nbr);
  free (nd);
  free (cond);
  return ok;
}
