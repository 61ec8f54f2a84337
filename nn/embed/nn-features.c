/* SPDX-License-Identifier: MIT */
/* A layer's features over a dataset: batches through one eval-mode context, the layer kept so
 * that folding writes it, the logits read in the same pass for the predictions. */
#include "embed/nn-features.h"

#include <stdlib.h>
#include <string.h>

#include "graph/nn-context.h"
#include "graph/nn-graph.h"

void
nn_features_free (NnFeatures *features)
{
  if (features == NULL)
    return;
  free (features->values);
  free (features->labels);
  free (features->preds);
  free (features);
}

static bool
check (const NnModel   *model,
       const NnDataset *ds,
       int              node,
       int              batch,
       NnError         *err)
{
  const NnGraph *graph = model->graph;
  if (node < 1 || node >= graph->n_nodes)
    return nn_error_set (err, NN_ERROR_SPEC, "node %d is not a layer of the model (1 to %d)",
                         node, graph->n_nodes - 1);
  if (batch <= 0)
    return nn_error_set (err, NN_ERROR_SPEC, "batch size must be positive, not %d", batch);
  if (ds->n <= 0)
    return nn_error_set (err, NN_ERROR_SPEC, "the dataset is empty");
  NnShape in = graph->nodes[0].shape;
  if (in.c > NN_MODEL_MAX_CHANNELS)
    return nn_error_set (err, NN_ERROR_SPEC, "the model takes %d channels (at most %d)", in.c,
                         NN_MODEL_MAX_CHANNELS);
  if (ds->c != in.c || ds->h != in.h || ds->w != in.w)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "the dataset has images of %d x %d x %d, the model takes %d x %d x %d",
                         ds->c, ds->h, ds->w, in.c, in.h, in.w);
  return true;
}

static int
argmax (const float *v,
        int          n)
{
  int best = 0;
  for (int k = 1; k < n; k++)
    if (v[k] > v[best])
      best = k;
  return best;
}

/* The (n, d) features of one node, with the labels copied and room for the predictions. */
static NnFeatures *
features_alloc (const NnDataset *ds,
                size_t           d,
                NnError         *err)
{
  if ((size_t) ds->n * d > (size_t) 1 << 31)
    {
      nn_error_set (err, NN_ERROR_SPEC, "%d samples of %zu features are too many to embed",
                    ds->n, d);
      return NULL;
    }
  NnFeatures *f = calloc (1, sizeof *f);
  if (f != NULL)
    {
      f->values = malloc ((size_t) ds->n * d * sizeof (float));
      f->labels = malloc ((size_t) ds->n * sizeof (int));
      f->preds = malloc ((size_t) ds->n * sizeof (int));
    }
  if (f == NULL || f->values == NULL || f->labels == NULL || f->preds == NULL)
    {
      nn_features_free (f);
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory for %d x %zu features", ds->n, d);
      return NULL;
    }
  f->n = ds->n;
  f->d = (int) d;
  memcpy (f->labels, ds->labels, (size_t) ds->n * sizeof (int));
  return f;
}

static void
features_free_all (NnFeatures **out,
                   int          n_nodes)
{
  for (int i = 0; i < n_nodes; i++)
    {
      nn_features_free (out[i]);
      out[i] = NULL;
    }
}

/* Row r of a batch's output of node (shape s) into row `row` of f. */
static void
features_take (NnFeatures     *f,
               int             row,
               const float    *act,
               NnShape         s,
               NnFeaturesMode  mode)
{
  const size_t plane = (size_t) s.h * s.w;
  float *dst = f->values + (size_t) row * f->d;
  if (mode == NN_FEATURES_POOL)
    for (int c = 0; c < s.c; c++)
      {
        double sum = 0.0;
        for (size_t p = 0; p < plane; p++)
          sum += (double) act[(size_t) c * plane + p];
        dst[c] = (float) (sum / (double) plane);
      }
  else
    memcpy (dst, act, (size_t) f->d * sizeof (float));
}

bool
nn_features_run (NnModel          *model,
                 const NnDataset  *ds,
                 const int        *nodes,
                 int               n_nodes,
                 int               batch,
                 NnFeaturesVisit   visit,
                 void             *visit_data,
                 NnEmbedProgress   progress,
                 void             *user_data,
                 const atomic_int *cancel,
                 NnError          *err)
{
  NN_ASSERT (model != NULL && model->graph != NULL && ds != NULL && visit != NULL);
  NN_ASSERT (nodes != NULL && n_nodes >= 1);
  for (int i = 0; i < n_nodes; i++)
    if (!check (model, ds, nodes[i], batch, err))
      return false;
  NnGraph *graph = model->graph;
  const int B = batch < ds->n ? batch : ds->n;
  NnContext *ctx = nn_context_new (graph, B, 0, err);
  if (ctx == NULL || !nn_context_set_threads (ctx, 0, err))
    {
      nn_context_free (ctx);
      return false;
    }
  nn_context_set_training (ctx, false);
  for (int i = 0; i < n_nodes; i++)
    nn_context_keep (ctx, nodes[i]);

  const size_t sample = (size_t) ds->c * ds->h * ds->w;
  const size_t plane = (size_t) ds->h * ds->w;
  float *in = nn_context_input (ctx);
  bool ok = true;
  for (int start = 0; ok && start < ds->n; start += B)
    {
      if (cancel != NULL && atomic_load (cancel))
        {
          ok = nn_error_set (err, NN_ERROR_CANCELLED, "cancelled after %d of %d samples", start,
                             ds->n);
          break;
        }
      /* A partial last batch zeroes its spare rows: in eval mode samples do not interact. */
      int rows = ds->n - start < B ? ds->n - start : B;
      for (int r = 0; r < rows; r++)
        {
          const float *src = ds->images + (size_t) (start + r) * sample;
          float *dst = in + (size_t) r * sample;
          for (int c = 0; c < ds->c; c++)
            for (size_t p = 0; p < plane; p++)
              dst[(size_t) c * plane + p] = (src[(size_t) c * plane + p] - model->mean[c])
                                            / model->std[c];
        }
      if (rows < B)
        memset (in + (size_t) rows * sample, 0, sizeof (float) * sample * (size_t) (B - rows));
      nn_context_forward (ctx, -1);
      ok = visit (ctx, start, rows, visit_data, err);
      if (ok && progress != NULL)
        progress (start + rows, ds->n, user_data);
    }
  nn_context_free (ctx);
  return ok;
}

typedef struct
{
  NnFeatures     **out;
  const int       *nodes;
  int              n_nodes;
  NnFeaturesMode   mode;
} FeaturesPass;

static bool
features_visit (NnContext *ctx,
                int        start,
                int        rows,
                void      *user_data,
                NnError   *err)
{
  (void) err;
  const FeaturesPass *pass = user_data;
  const NnGraph *graph = nn_context_get_graph (ctx);
  const int output = nn_graph_output (graph);
  const int n_out = (int) nn_shape_size (graph->nodes[output].shape);
  const float *logits = nn_context_output (ctx, output);
  for (int i = 0; i < pass->n_nodes; i++)
    {
      const NnShape s = graph->nodes[pass->nodes[i]].shape;
      const float *act = nn_context_output (ctx, pass->nodes[i]);
      for (int r = 0; r < rows; r++)
        {
          features_take (pass->out[i], start + r, act + (size_t) r * nn_shape_size (s), s,
                         pass->mode);
          pass->out[i]->preds[start + r] = argmax (logits + (size_t) r * n_out, n_out);
        }
    }
  return true;
}

bool
nn_features_new_many (NnFeatures      **out,
                      NnModel          *model,
                      const NnDataset  *ds,
                      const int        *nodes,
                      int               n_nodes,
                      NnFeaturesMode    mode,
                      int               batch,
                      NnEmbedProgress   progress,
                      void             *user_data,
                      const atomic_int *cancel,
                      NnError          *err)
{
  NN_ASSERT (out != NULL && model != NULL && model->graph != NULL && ds != NULL);
  NN_ASSERT (nodes != NULL && n_nodes >= 1);
  for (int i = 0; i < n_nodes; i++)
    out[i] = NULL;
  for (int i = 0; i < n_nodes; i++)
    if (!check (model, ds, nodes[i], batch, err))
      return false;
  const NnGraph *graph = model->graph;
  for (int i = 0; i < n_nodes; i++)
    {
      const NnShape s = graph->nodes[nodes[i]].shape;
      out[i] = features_alloc (ds, mode == NN_FEATURES_POOL ? (size_t) s.c : nn_shape_size (s),
                               err);
      if (out[i] == NULL)
        {
          features_free_all (out, n_nodes);
          return false;
        }
    }
  FeaturesPass pass = { out, nodes, n_nodes, mode };
  if (!nn_features_run (model, ds, nodes, n_nodes, batch, features_visit, &pass, progress,
                        user_data, cancel, err))
    {
      if (err != NULL && err->code == NN_ERROR_CANCELLED)
        nn_error_prefix (err, "features");
      features_free_all (out, n_nodes);
      return false;
    }
  return true;
}

NnFeatures *
nn_features_new (NnModel          *model,
                 const NnDataset  *ds,
                 int               node,
                 NnFeaturesMode    mode,
                 int               batch,
                 NnEmbedProgress   progress,
                 void             *user_data,
                 const atomic_int *cancel,
                 NnError          *err)
{
  NnFeatures *f = NULL;
  if (!nn_features_new_many (&f, model, ds, &node, 1, mode, batch, progress, user_data, cancel,
                             err))
    return NULL;
  return f;
}
