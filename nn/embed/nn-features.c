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
  NN_ASSERT (model != NULL && model->graph != NULL && ds != NULL);
  if (!check (model, ds, node, batch, err))
    return NULL;
  NnGraph *graph = model->graph;
  const NnShape s = graph->nodes[node].shape;
  const int out = nn_graph_output (graph);
  const int n_out = (int) nn_shape_size (graph->nodes[out].shape);
  const size_t plane = (size_t) s.h * s.w;
  const size_t d = mode == NN_FEATURES_POOL ? (size_t) s.c : nn_shape_size (s);
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

  const int B = batch < ds->n ? batch : ds->n;
  NnContext *ctx = nn_context_new (graph, B, 0, err);
  if (ctx == NULL || !nn_context_set_threads (ctx, 0, err))
    {
      nn_context_free (ctx);
      nn_features_free (f);
      return NULL;
    }
  nn_context_set_training (ctx, false);
  nn_context_keep (ctx, node);

  const size_t sample = (size_t) ds->c * ds->h * ds->w;
  float *in = nn_context_input (ctx);
  for (int start = 0; start < ds->n; start += B)
    {
      if (cancel != NULL && atomic_load (cancel))
        {
          nn_context_free (ctx);
          nn_features_free (f);
          nn_error_set (err, NN_ERROR_CANCELLED, "features cancelled after %d of %d samples",
                        start, ds->n);
          return NULL;
        }
      /* A partial last batch zeroes its spare rows: in eval mode samples do not interact. */
      int rows = ds->n - start < B ? ds->n - start : B;
      for (int r = 0; r < rows; r++)
        {
          const float *src = ds->images + (size_t) (start + r) * sample;
          float *dst = in + (size_t) r * sample;
          for (int c = 0; c < ds->c; c++)
            for (size_t p = 0; p < (size_t) ds->h * ds->w; p++)
              dst[(size_t) c * ds->h * ds->w + p] =
                (src[(size_t) c * ds->h * ds->w + p] - model->mean[c]) / model->std[c];
        }
      if (rows < B)
        memset (in + (size_t) rows * sample, 0, sizeof (float) * sample * (size_t) (B - rows));
      nn_context_forward (ctx, -1);
      const float *act = nn_context_output (ctx, node);
      const float *logits = nn_context_output (ctx, out);
      for (int r = 0; r < rows; r++)
        {
          float *row = f->values + (size_t) (start + r) * d;
          const float *a = act + (size_t) r * nn_shape_size (s);
          if (mode == NN_FEATURES_POOL)
            for (int c = 0; c < s.c; c++)
              {
                double sum = 0.0;
                for (size_t p = 0; p < plane; p++)
                  sum += (double) a[(size_t) c * plane + p];
                row[c] = (float) (sum / (double) plane);
              }
          else
            memcpy (row, a, d * sizeof (float));
          f->preds[start + r] = argmax (logits + (size_t) r * n_out, n_out);
        }
      if (progress != NULL)
        progress (start + rows, ds->n, user_data);
    }
  nn_context_free (ctx);
  return f;
}
