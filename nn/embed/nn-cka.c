/* SPDX-License-Identifier: MIT */
/* Linear CKA. Each layer is kept centred, as its features when it has no more features than
 * examples and as its Gram matrix otherwise, so that every product below costs at most
 * N·N·min(D, N); the cross term ||Ycᵀ Xc||_F² = <Kx, Ky>_F is then one sgemm or one dot. */
#include "embed/nn-cka.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/nn-graph.h"

void
nn_cka_rep_clear (NnCkaRep *rep)
{
  if (rep == NULL)
    return;
  free (rep->values);
  memset (rep, 0, sizeof *rep);
}

/* ||S||_F² of a symmetric s (m, m) of which only the upper triangle is set. */
static double
upper_norm2 (const float *s,
             int          m)
{
  double sum = 0.0;
  for (int i = 0; i < m; i++)
    {
      const float *row = s + (size_t) i * m;
      sum += (double) row[i] * (double) row[i];
      double off = 0.0;
      for (int j = i + 1; j < m; j++)
        off += (double) row[j] * (double) row[j];
      sum += 2.0 * off;
    }
  return sum;
}

bool
nn_cka_rep_init (NnCkaRep    *rep,
                 const float *x,
                 int          n,
                 int          d,
                 NnCkaForm    form,
                 NnError     *err)
{
  NN_ASSERT (rep != NULL && x != NULL && d >= 1);
  memset (rep, 0, sizeof *rep);
  if (n < 2)
    return nn_error_set (err, NN_ERROR_SPEC, "CKA needs at least 2 examples, not %d", n);
  const bool gram = form == NN_CKA_GRAM || (form == NN_CKA_AUTO && d > n);
  float *xc = malloc ((size_t) n * d * sizeof (float));
  double *mean = calloc ((size_t) d, sizeof (double));
  /* the Gram matrix, or XcᵀXc for the norm */
  const int m = gram ? n : d;
  float *s = malloc ((size_t) m * m * sizeof (float));
  if (xc == NULL || mean == NULL || s == NULL)
    {
      free (xc);
      free (mean);
      free (s);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for CKA of %d x %d features",
                           n, d);
    }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      mean[j] += (double) x[(size_t) i * d + j];
  for (int j = 0; j < d; j++)
    {
      if (!isfinite (mean[j]))
        {
          free (xc);
          free (mean);
          free (s);
          return nn_error_set (err, NN_ERROR_NUMERIC, "feature %d of %d is not finite over "
                               "the %d examples", j, d, n);
        }
      mean[j] /= n;
    }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      xc[(size_t) i * d + j] = (float) ((double) x[(size_t) i * d + j] - mean[j]);
  free (mean);

  if (gram)
    cblas_ssyrk (CblasRowMajor, CblasUpper, CblasNoTrans, n, d, 1.0f, xc, d, 0.0f, s, n);
  else
    cblas_ssyrk (CblasRowMajor, CblasUpper, CblasTrans, d, n, 1.0f, xc, d, 0.0f, s, d);
  rep->norm = sqrt (upper_norm2 (s, m));
  rep->n = n;
  rep->d = d;
  rep->gram = gram;
  if (gram)
    {
      /* the full matrix: the products below read both triangles */
      for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
          s[(size_t) i * n + j] = s[(size_t) j * n + i];
      free (xc);
      rep->values = s;
    }
  else
    {
      free (s);
      rep->values = xc;
    }
  return true;
}

/* <Ka, Kb>_F = ||Xbᵀ Xa||_F² in the forms a and b are held in. */
static bool
inner (double         *out,
       const NnCkaRep *a,
       const NnCkaRep *b,
       NnError        *err)
{
  const int n = a->n;
  if (a->gram && b->gram)
    {
      double sum = 0.0;
      for (size_t i = 0; i < (size_t) n * n; i++)
        sum += (double) a->values[i] * (double) b->values[i];
      *out = sum;
      return true;
    }
  float *p;
  if (!a->gram && !b->gram)
    {
      /* P (da, db) = Xaᵀ Xb */
      p = malloc ((size_t) a->d * b->d * sizeof (float));
      if (p == NULL)
        return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for CKA of %d and %d features",
                             a->d, b->d);
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, a->d, b->d, n, 1.0f, a->values,
                   a->d, b->values, b->d, 0.0f, p, b->d);
      double sum = 0.0;
      for (size_t i = 0; i < (size_t) a->d * b->d; i++)
        sum += (double) p[i] * (double) p[i];
      free (p);
      *out = sum;
      return true;
    }
  /* <X Xᵀ, K> = sum (K X) ⊙ X, with P (n, d) = K X */
  const NnCkaRep *f = a->gram ? b : a, *g = a->gram ? a : b;
  p = malloc ((size_t) n * f->d * sizeof (float));
  if (p == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for CKA of %d x %d features", n,
                         f->d);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, f->d, n, 1.0f, g->values, n,
               f->values, f->d, 0.0f, p, f->d);
  double sum = 0.0;
  for (size_t i = 0; i < (size_t) n * f->d; i++)
    sum += (double) p[i] * (double) f->values[i];
  free (p);
  *out = sum;
  return true;
}

bool
nn_cka_similarity (double         *out,
                   const NnCkaRep *a,
                   const NnCkaRep *b,
                   NnError        *err)
{
  NN_ASSERT (out != NULL && a != NULL && b != NULL && a->values != NULL && b->values != NULL);
  NN_ASSERT (a->n == b->n);
  if (a->norm == 0.0 || b->norm == 0.0)
    {
      *out = (double) NAN;
      return true;
    }
  double ab = 0.0;
  if (!inner (&ab, a, b, err))
    return false;
  /* in [0, 1] by Cauchy-Schwarz; float products can step past either end by rounding */
  *out = fmin (fmax (ab / (a->norm * b->norm), 0.0), 1.0);
  return true;
}

bool
nn_cka_linear (double      *out,
               const float *x,
               int          dx,
               const float *y,
               int          dy,
               int          n,
               NnCkaForm    form,
               NnError     *err)
{
  NnCkaRep a, b;
  if (!nn_cka_rep_init (&a, x, n, dx, form, err))
    return false;
  if (!nn_cka_rep_init (&b, y, n, dy, form, err))
    {
      nn_cka_rep_clear (&a);
      return false;
    }
  bool ok = nn_cka_similarity (out, &a, &b, err);
  nn_cka_rep_clear (&a);
  nn_cka_rep_clear (&b);
  return ok;
}

void
nn_cka_layers_free (NnCkaLayers *layers)
{
  if (layers == NULL)
    return;
  free (layers->nodes);
  free (layers->dims);
  free (layers->cka);
  free (layers->distance);
  free (layers->matrix);
  free (layers);
}

/* Progress of one pass mapped onto the whole run: `offset` samples were done before it. */
typedef struct
{
  NnEmbedProgress progress;
  void           *user_data;
  long            offset;
  long            total;
} Progress;

static void
on_pass_progress (int   done,
                  int   total,
                  void *user_data)
{
  (void) total;
  Progress *p = user_data;
  p->progress ((int) (p->offset + done), (int) p->total, p->user_data);
}

/* The layers' representations of one model: one pass per group of layers whose features fit
 * the budget together. */
static bool
model_reps (NnCkaRep          *reps,
            double            *accuracy,
            NnModel           *model,
            const NnDataset   *ds,
            const NnCkaLayers *layers,
            NnFeaturesMode     mode,
            int                batch,
            size_t             budget,
            Progress          *progress,
            const atomic_int *cancel,
            NnError          *err)
{
  NnFeatures **f = calloc ((size_t) layers->n_layers, sizeof *f);
  if (f == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  bool ok = true;
  for (int first = 0; ok && first < layers->n_layers;)
    {
      int end = first + 1;
      size_t floats = (size_t) ds->n * layers->dims[first];
      while (end < layers->n_layers
             && floats + (size_t) ds->n * layers->dims[end] <= budget)
        floats += (size_t) ds->n * layers->dims[end++];
      ok = nn_features_new_many (f + first, model, ds, layers->nodes + first, end - first, mode,
                                 batch, progress->progress ? on_pass_progress : NULL, progress,
                                 cancel, err);
      if (ok && first == 0)
        {
          int right = 0;
          for (int i = 0; i < ds->n; i++)
            right += f[0]->preds[i] == f[0]->labels[i];
          *accuracy = (double) right / ds->n;
        }
      for (int l = first; ok && l < end; l++)
        {
          ok = nn_cka_rep_init (&reps[l], f[l]->values, f[l]->n, f[l]->d, NN_CKA_AUTO, err);
          if (!ok)
            nn_error_prefix (err, "layer %s", model->graph->nodes[layers->nodes[l]].name);
        }
      for (int l = first; l < end; l++)
        {
          nn_features_free (f[l]);
          f[l] = NULL;
        }
      progress->offset += ds->n;
      first = end;
    }
  free (f);
  return ok;
}

static size_t
layer_dim (const NnGraph  *graph,
           int             node,
           NnFeaturesMode  mode)
{
  const NnShape s = graph->nodes[node].shape;
  return mode == NN_FEATURES_POOL ? (size_t) s.c : nn_shape_size (s);
}

NnCkaLayers *
nn_cka_layers_new (NnModel          *a,
                   NnModel          *b,
                   const NnDataset  *ds,
                   NnFeaturesMode    mode,
                   bool              matrix,
                   int               batch,
                   NnEmbedProgress   progress,
                   void             *user_data,
                   const atomic_int *cancel,
                   NnError          *err)
{
  return nn_cka_layers_new_with (a, b, ds, mode, matrix, batch, NN_CKA_BUDGET, progress,
                                 user_data, cancel, err);
}

NnCkaLayers *
nn_cka_layers_new_with (NnModel          *a,
                        NnModel          *b,
                        const NnDataset  *ds,
                        NnFeaturesMode    mode,
                        bool              matrix,
                        int               batch,
                        size_t            budget,
                        NnEmbedProgress   progress,
                        void             *user_data,
                        const atomic_int *cancel,
                        NnError          *err)
{
  NN_ASSERT (a != NULL && b != NULL && ds != NULL);
  if (!nn_graph_check_same (a->graph, b->graph, err))
    return NULL;
  const int L = a->graph->n_nodes - 1;
  if (L < 1)
    {
      nn_error_set (err, NN_ERROR_SPEC, "the models have no layer after the input");
      return NULL;
    }
  if (ds->n < 2)
    {
      nn_error_set (err, NN_ERROR_SPEC, "CKA needs at least 2 examples, not %d", ds->n);
      return NULL;
    }
  NnCkaLayers *r = calloc (1, sizeof *r);
  NnCkaRep *reps = calloc ((size_t) 2 * L, sizeof *reps);
  if (r != NULL)
    {
      r->nodes = malloc ((size_t) L * sizeof (int));
      r->dims = malloc ((size_t) L * sizeof (int));
      r->cka = malloc ((size_t) L * sizeof (double));
      r->distance = malloc ((size_t) L * sizeof (double));
      if (matrix)
        r->matrix = malloc ((size_t) L * L * sizeof (double));
    }
  if (r == NULL || reps == NULL || r->nodes == NULL || r->dims == NULL || r->cka == NULL
      || r->distance == NULL || (matrix && r->matrix == NULL))
    {
      nn_cka_layers_free (r);
      free (reps);
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory for %d layers", L);
      return NULL;
    }
  r->n = ds->n;
  r->n_layers = L;
  int groups = 0;
  size_t floats = budget + 1;
  for (int l = 0; l < L; l++)
    {
      r->nodes[l] = l + 1;
      size_t d = layer_dim (a->graph, l + 1, mode);
      r->dims[l] = (int) (d < (size_t) 1 << 30 ? d : (size_t) 1 << 30);
      r->distance[l] = nn_graph_node_param_distance (a->graph, b->graph, l + 1);
      /* the same grouping as model_reps, to know the passes in advance */
      if (floats + (size_t) ds->n * d > budget)
        {
          groups++;
          floats = 0;
        }
      floats += (size_t) ds->n * d;
    }

  Progress p = { progress, user_data, 0, 2L * groups * ds->n };
  bool ok = model_reps (reps, &r->accuracy[0], a, ds, r, mode, batch, budget, &p, cancel, err)
            && model_reps (reps + L, &r->accuracy[1], b, ds, r, mode, batch, budget, &p, cancel,
                           err);
  for (int l = 0; ok && l < L; l++)
    ok = nn_cka_similarity (&r->cka[l], &reps[l], &reps[L + l], err);
  for (int i = 0; ok && matrix && i < L; i++)
    for (int j = 0; ok && j < L; j++)
      {
        if (cancel != NULL && atomic_load (cancel))
          ok = nn_error_set (err, NN_ERROR_CANCELLED, "CKA cancelled at row %d of %d", i, L);
        else
          ok = nn_cka_similarity (&r->matrix[(size_t) i * L + j], &reps[i], &reps[L + j], err);
      }
  for (int l = 0; l < 2 * L; l++)
    nn_cka_rep_clear (&reps[l]);
  free (reps);
  if (!ok)
    {
      nn_cka_layers_free (r);
      return NULL;
    }
  return r;
}
