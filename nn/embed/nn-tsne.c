/* SPDX-License-Identifier: MIT */
/* t-SNE's gradients (exact over every pair, or Barnes-Hut over a quadtree rebuilt each step)
 * and its optimization: early exaggeration 12 for 250 steps, momentum 0.5 then 0.8, and
 * per-coordinate gains (+0.2 when the gradient turns, x0.8 when it does not, at least 0.01). */
#include "embed/nn-tsne.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/nn-blas.h"
#include "core/nn-rng.h"
#include "core/nn-workers.h"
#include "embed/nn-tsne-private.h"

/* Subdividing stops here: points closer than 2^-60 of the map's width share a leaf. */
#define TREE_MAX_DEPTH 60

typedef struct
{
  double cx, cy, half;  /* the square's centre and half width */
  double mx, my;        /* the sum of its points' positions; after tree_build, their mean */
  int    count;         /* its points */
  int    child;         /* the first of four children (quadrants 0..3), or -1 for a leaf */
  int    depth;
} Cell;

typedef struct
{
  Cell *cells;
  int   n, cap;
} NnTsneTree;

void
nn_tsne_config_init (NnTsneConfig *config)
{
  *config = (NnTsneConfig) {
    .perplexity = 30.0,
    .iterations = 1000,
    .learning_rate = 0.0,
    .theta = 0.5,
    .exact_below = 1000,
    .threads = 0,
    .seed = 1,
  };
}

static int
tree_add_cell (NnTsneTree *tree,
               double      cx,
               double      cy,
               double      half,
               int         depth)
{
  if (tree->n == tree->cap)
    {
      int cap = tree->cap ? 2 * tree->cap : 1024;
      Cell *cells = realloc (tree->cells, (size_t) cap * sizeof (Cell));
      if (cells == NULL)
        return -1;
      tree->cells = cells;
      tree->cap = cap;
    }
  tree->cells[tree->n] = (Cell) { cx, cy, half, 0.0, 0.0, 0, -1, depth };
  return tree->n++;
}

static int
quadrant (const Cell *cell,
          double      x,
          double      y)
{
  return (x >= cell->cx) + 2 * (y >= cell->cy);
}

/* Splits leaf c into four children and moves its points (all at one position) into one. */
static bool
tree_split (NnTsneTree *tree,
            int         c)
{
  Cell old = tree->cells[c];
  double h = old.half / 2.0;
  int first = -1;
  for (int q = 0; q < 4; q++)
    {
      int k = tree_add_cell (tree, old.cx + ((q & 1) ? h : -h), old.cy + ((q & 2) ? h : -h), h,
                             old.depth + 1);
      if (k < 0)
        return false;
      if (q == 0)
        first = k;
    }
  Cell *cell = &tree->cells[c];
  cell->child = first;
  Cell *to = &tree->cells[first + quadrant (cell, old.mx / old.count, old.my / old.count)];
  to->mx = old.mx;
  to->my = old.my;
  to->count = old.count;
  return true;
}

static bool
tree_build (NnTsneTree   *tree,
            const double *y,
            int           N)
{
  double x0 = y[0], x1 = y[0], y0 = y[1], y1 = y[1];
  for (int i = 1; i < N; i++)
    {
      x0 = fmin (x0, y[2 * i]);
      x1 = fmax (x1, y[2 * i]);
      y0 = fmin (y0, y[2 * i + 1]);
      y1 = fmax (y1, y[2 * i + 1]);
    }
  tree->n = 0;
  double half = fmax (x1 - x0, y1 - y0) / 2.0 * (1.0 + 1e-9) + 1e-12;
  if (tree_add_cell (tree, (x0 + x1) / 2.0, (y0 + y1) / 2.0, half, 0) < 0)
    return false;
  for (int i = 0; i < N; i++)
    {
      const double px = y[2 * i], py = y[2 * i + 1];
      int c = 0;
      for (;;)
        {
          Cell *cell = &tree->cells[c];
          if (cell->child < 0)
            {
              bool differs = cell->count > 0
                             && (cell->mx / cell->count != px || cell->my / cell->count != py);
              if (!differs || cell->depth >= TREE_MAX_DEPTH)
                {
                  cell->mx += px;
                  cell->my += py;
                  cell->count++;
                  break;
                }
              if (!tree_split (tree, c))
                return false;
              cell = &tree->cells[c];
            }
          cell->mx += px;
          cell->my += py;
          cell->count++;
          c = cell->child + quadrant (cell, px, py);
        }
    }
  /* Centres of mass once here rather than at every visit of the traversals. */
  for (int c = 0; c < tree->n; c++)
    if (tree->cells[c].count > 0)
      {
        tree->cells[c].mx /= tree->cells[c].count;
        tree->cells[c].my /= tree->cells[c].count;
      }
  return true;
}

/* The repulsion on point i: rep (2) = sum_j w_ij^2 (y_i - y_j), returns sum_j w_ij, j != i,
 * with far cells standing for their points. */
static double
tree_repulsion (double           *rep,
                const NnTsneTree *tree,
                double            px,
                double            py,
                double            theta,
                int              *stack)
{
  double z = 0.0, fx = 0.0, fy = 0.0;
  int top = 0;
  stack[top++] = 0;
  while (top > 0)
    {
      const Cell *cell = &tree->cells[stack[--top]];
      if (cell->count == 0)
        continue;
      const double dx = px - cell->mx, dy = py - cell->my;
      const double d2 = dx * dx + dy * dy;
      /* width / distance < theta, squared */
      if (cell->child < 0 || 4.0 * cell->half * cell->half < theta * theta * d2)
        {
          /* A leaf at the point's own position holds the point itself: the others there
           * are at distance 0 (w = 1, no force). */
          if (cell->child < 0 && d2 == 0.0)
            {
              z += cell->count - 1;
              continue;
            }
          const double w = 1.0 / (1.0 + d2);
          z += cell->count * w;
          fx += cell->count * w * w * dx;
          fy += cell->count * w * w * dy;
          continue;
        }
      for (int q = 0; q < 4; q++)
        stack[top++] = cell->child + q;
    }
  rep[0] = fx;
  rep[1] = fy;
  return z;
}

/* The exact repulsion on point i: rep (2) = sum_j w_ij^2 (y_i - y_j), returns sum_j w_ij. */
static double
pair_repulsion (double       *rep,
                const double *y,
                int           N,
                int           i)
{
  double z = 0.0, fx = 0.0, fy = 0.0;
  for (int j = 0; j < N; j++)
    if (j != i)
      {
        double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        double w = 1.0 / (1.0 + dx * dx + dy * dy);
        z += w;
        fx += w * w * dx;
        fy += w * w * dy;
      }
  rep[0] = fx;
  rep[1] = fy;
  return z;
}

struct NnTsneGradient
{
  int           N, threads;
  NnWorkers    *workers;    /* NULL for one thread */
  NnTsneTree    tree;
  double       *rep;        /* (N, 2) */
  double       *z;          /* (N): each point's share of the normalization Z */
  int          *stacks;     /* (threads, STACK) */
  /* the current call's */
  const double *y;
  double        theta;
};

#define STACK (4 * (TREE_MAX_DEPTH + 2))

NnTsneGradient *
nn_tsne_gradient_new (int N,
                      int threads)
{
  NN_ASSERT (N >= 2);
  if (threads <= 0)
    threads = nn_blas_get_threads ();
  if (threads > N)
    threads = N;
  NnTsneGradient *g = calloc (1, sizeof *g);
  if (g == NULL)
    return NULL;
  g->N = N;
  g->threads = threads;
  g->rep = malloc ((size_t) 2 * N * sizeof (double));
  g->z = malloc ((size_t) N * sizeof (double));
  g->stacks = malloc ((size_t) threads * STACK * sizeof (int));
  if (threads > 1)
    g->workers = nn_workers_new (threads);
  if (g->rep == NULL || g->z == NULL || g->stacks == NULL || (threads > 1 && !g->workers))
    {
      nn_tsne_gradient_free (g);
      return NULL;
    }
  return g;
}

void
nn_tsne_gradient_free (NnTsneGradient *g)
{
  if (g == NULL)
    return;
  nn_workers_free (g->workers);
  free (g->tree.cells);
  free (g->rep);
  free (g->z);
  free (g->stacks);
  free (g);
}

/* Member `index` of n takes the points index, index + n, ...: each point's sums are its own,
 * so the result does not depend on the thread count. */
static void
repulsion_part (void *data,
                int   index,
                int   n)
{
  NnTsneGradient *g = data;
  for (int i = index; i < g->N; i += n)
    g->z[i] = g->theta > 0.0
              ? tree_repulsion (g->rep + 2 * i, &g->tree, g->y[2 * i], g->y[2 * i + 1],
                                g->theta, g->stacks + (size_t) index * STACK)
              : pair_repulsion (g->rep + 2 * i, g->y, g->N, i);
}

bool
nn_tsne_gradient (NnTsneGradient       *g,
                  double               *grad,
                  const double         *y,
                  const NnTsneAffinity *p,
                  double                exaggeration,
                  double                theta)
{
  NN_ASSERT (g != NULL && grad != NULL && y != NULL && p != NULL && p->n == g->N);
  const int N = g->N;
  if (theta > 0.0 && !tree_build (&g->tree, y, N))
    return false;
  g->y = y;
  g->theta = theta;
  if (g->workers != NULL)
    nn_workers_run (g->workers, repulsion_part, g);
  else
    repulsion_part (g, 0, 1);
  double z = 0.0;
  for (int i = 0; i < N; i++)
    z += g->z[i];
  /* grad_i = 4 sum_j e p_ij w_ij (y_i - y_j) - (4 / Z) sum_j w_ij^2 (y_i - y_j) */
  for (int i = 0; i < N; i++)
    {
      double gx = 0.0, gy = 0.0;
      for (int s = p->row[i]; s < p->row[i + 1]; s++)
        {
          int j = p->col[s];
          double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
          double f = exaggeration * (double) p->val[s] / (1.0 + dx * dx + dy * dy);
          gx += f * dx;
          gy += f * dy;
        }
      grad[2 * i] = 4.0 * (gx - g->rep[2 * i] / z);
      grad[2 * i + 1] = 4.0 * (gy - g->rep[2 * i + 1] / z);
    }
  return true;
}

bool
nn_tsne (float              *out,
         const float        *x,
         int                 N,
         int                 D,
         const NnTsneConfig *config,
         NnEmbedProgress     progress,
         void               *user_data,
         const atomic_int   *cancel,
         NnError            *err)
{
  NN_ASSERT (out != NULL && x != NULL && config != NULL);
  const double perp = config->perplexity;
  if (N < 2)
    return nn_error_set (err, NN_ERROR_SPEC, "t-SNE needs at least 2 points, not %d", N);
  if (D < 1)
    return nn_error_set (err, NN_ERROR_SPEC, "t-SNE needs at least one feature per point");
  if (!(perp >= 1.0) || 3.0 * perp > N - 1)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "perplexity %g needs at least %d points (3 x perplexity + 1), not %d; "
                         "lower the perplexity", perp, (int) ceil (3.0 * perp) + 1, N);
  if (config->iterations < 1 || !(config->theta > 0.0))
    return nn_error_set (err, NN_ERROR_SPEC, "t-SNE needs at least one step and theta > 0");

  const bool exact = N < config->exact_below;
  const int K = exact ? N - 1 : (int) ceil (3.0 * perp);
  const double theta = exact ? 0.0 : config->theta;
  const double rate = config->learning_rate > 0.0 ? config->learning_rate
                      : fmax (NN_TSNE_MIN_RATE, N / NN_TSNE_EXAGGERATION);
  NnTsneAffinity p;
  if (!nn_tsne_affinity_init (&p, x, N, D, perp, K, err))
    return false;
  if (progress != NULL)
    progress (0, config->iterations, user_data);

  bool ok = false;
  NnTsneGradient *g = nn_tsne_gradient_new (N, config->threads);
  double *y = malloc ((size_t) 2 * N * sizeof (double));
  double *grad = malloc ((size_t) 2 * N * sizeof (double));
  double *update = calloc ((size_t) 2 * N, sizeof (double));
  double *gains = malloc ((size_t) 2 * N * sizeof (double));
  if (g == NULL || y == NULL || grad == NULL || update == NULL || gains == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory for t-SNE of %d points", N);
      goto done;
    }
  NnRng rng;
  nn_rng_init (&rng, config->seed);
  for (int k = 0; k < 2 * N; k++)
    {
      y[k] = 1e-4 * (double) nn_rng_normal (&rng);
      gains[k] = 1.0;
    }
  for (int it = 0; it < config->iterations; it++)
    {
      if (cancel != NULL && atomic_load (cancel))
        {
          nn_error_set (err, NN_ERROR_CANCELLED, "t-SNE cancelled after %d of %d steps", it,
                        config->iterations);
          goto done;
        }
      const bool early = it < NN_TSNE_EXAGGERATION_STEPS;
      const double momentum = early ? 0.5 : 0.8;
      if (!nn_tsne_gradient (g, grad, y, &p, early ? NN_TSNE_EXAGGERATION : 1.0, theta))
        {
          nn_error_set (err, NN_ERROR_NOMEM, "out of memory for t-SNE's quadtree");
          goto done;
        }
      double mx = 0.0, my = 0.0;
      for (int k = 0; k < 2 * N; k++)
        {
          /* The gain grows while the step keeps pointing against the gradient's new sign. */
          gains[k] = (grad[k] > 0.0) != (update[k] > 0.0) ? gains[k] + 0.2 : gains[k] * 0.8;
          if (gains[k] < 0.01)
            gains[k] = 0.01;
          update[k] = momentum * update[k] - rate * gains[k] * grad[k];
          y[k] += update[k];
        }
      for (int i = 0; i < N; i++)
        {
          mx += y[2 * i];
          my += y[2 * i + 1];
        }
      mx /= N;
      my /= N;
      for (int i = 0; i < N; i++)
        {
          y[2 * i] -= mx;
          y[2 * i + 1] -= my;
        }
      if (!isfinite (mx) || !isfinite (my))
        {
          nn_error_set (err, NN_ERROR_NUMERIC, "t-SNE diverged at step %d", it + 1);
          goto done;
        }
      if (progress != NULL)
        progress (it + 1, config->iterations, user_data);
    }
  for (int k = 0; k < 2 * N; k++)
    out[k] = (float) y[k];
  ok = true;

done:
  nn_tsne_affinity_clear (&p);
  nn_tsne_gradient_free (g);
  free (y);
  free (grad);
  free (update);
  free (gains);
  return ok;
}
