/* SPDX-License-Identifier: MIT */
/* A model over a volume slice by slice (nn-volume-explain.h): classification in batches, and
 * explanations laid back over their slices. */
#include "explain/nn-volume-explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/nn-explain.h"
#include "explain/nn-mask.h"
#include "graph/nn-context.h"

NnInput *
nn_volume_slice_input (const NnVolume   *volume,
                       int               k,
                       const char       *name,
                       const NnModel    *model,
                       const NnCtWindow *window,
                       NnError          *err)
{
  NN_ASSERT (volume != NULL && k >= 0 && k < volume->nz && name != NULL);
  char label[4200];
  snprintf (label, sizeof label, "%s, slice %d", name, k);
  NnImage *slice = nn_volume_slice_image (volume, k);
  if (slice == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", label), NULL;
  NnInput *input = nn_input_new_image (label, slice, model, window, err);
  nn_image_free (slice);
  return input;
}

bool
nn_volume_classify (const NnModel     *model,
                    const NnVolume    *volume,
                    const char        *name,
                    const NnCtWindow  *window,
                    int                begin,
                    int                end,
                    int                batch,
                    float             *probs,
                    float             *logits,
                    NnVolumeSliceDone  done,
                    void              *user_data,
                    const atomic_int  *cancel,
                    NnError           *err)
{
  return nn_volume_classify_features (model, volume, name, window, begin, end, batch, probs,
                                      logits, -1, NULL, done, user_data, cancel, err);
}

bool
nn_volume_classify_features (const NnModel     *model,
                             const NnVolume    *volume,
                             const char        *name,
                             const NnCtWindow  *window,
                             int                begin,
                             int                end,
                             int                batch,
                             float             *probs,
                             float             *logits,
                             int                feature,
                             float             *features,
                             NnVolumeSliceDone  done,
                             void              *user_data,
                             const atomic_int  *cancel,
                             NnError           *err)
{
  NN_ASSERT (model != NULL && volume != NULL && name != NULL && probs != NULL);
  NN_ASSERT (0 <= begin && begin <= end && end <= volume->nz && batch >= 1);
  NN_ASSERT (feature < 0 || (feature < model->graph->n_nodes && features != NULL));
  if (begin == end)
    return true;
  NnGraph *g = model->graph;
  const size_t dim = feature >= 0 ? nn_shape_size (g->nodes[feature].shape) : 0;
  const int out = nn_graph_output (g);
  const size_t classes = nn_shape_size (g->nodes[out].shape);
  const size_t in_size = nn_shape_size (g->nodes[0].shape);
  batch = end - begin < batch ? end - begin : batch;
  NnContext *ctx = nn_context_new (g, batch, 0, err);
  if (ctx == NULL)
    return false;
  if (feature >= 0)
    nn_context_keep (ctx, feature);  /* written even where folding would skip it */
  bool ok = true;
  for (int start = begin; ok && start < end; start += batch)
    {
      if (cancel != NULL && atomic_load (cancel))
        {
          ok = nn_error_set (err, NN_ERROR_CANCELLED, "%s: cancelled", name);
          break;
        }
      int nb = end - start < batch ? end - start : batch;
      float *x = nn_context_input (ctx);
      memset (x, 0, (size_t) batch * in_size * sizeof (float));
      for (int i = 0; ok && i < nb; i++)
        {
          NnInput *input = nn_volume_slice_input (volume, start + i, name, model, window, err);
          ok = input != NULL;
          if (ok)
            memcpy (x + (size_t) i * in_size, input->tensor, in_size * sizeof (float));
          nn_input_unref (input);
        }
      if (!ok)
        break;
      nn_context_forward (ctx, -1);
      const float *y = nn_context_output (ctx, out);
      if (logits != NULL)
        memcpy (logits + (size_t) (start - begin) * classes, y,
                (size_t) nb * classes * sizeof (float));
      if (feature >= 0)
        memcpy (features + (size_t) (start - begin) * dim, nn_context_output (ctx, feature),
                (size_t) nb * dim * sizeof (float));
      for (int i = 0; i < nb; i++)
        {
          float *p = probs + (size_t) (start - begin + i) * classes;
          nn_explain_probabilities (p, y + (size_t) i * classes, g);
          if (done != NULL)
            done (start + i, p, NULL, user_data);
        }
    }
  nn_context_free (ctx);
  return ok;
}

/* Slice k of the mask volume fitted to the model's input; *mask NULL when it has no lesion. */
static bool
slice_mask (const NnModel  *model,
            const NnVolume *masks,
            int             k,
            const char     *name,
            uint8_t       **mask,
            NnError        *err)
{
  *mask = NULL;
  size_t lit = 0;
  NnImage *plane = nn_volume_slice_image (masks, k);
  uint8_t *m = plane != NULL ? nn_mask_from_image (plane, nn_model_input_height (model),
                                                   nn_model_input_width (model), &lit, err)
                             : NULL;
  nn_image_free (plane);
  if (m == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s, slice %d: out of memory for the mask", name,
                         k);
  if (lit == 0)
    free (m);
  else
    *mask = m;
  return true;
}

/* The map of e laid over slice k of attribution at the slice's resolution. */
static bool
lay_back (const NnExplanation *e,
          NnVolume            *attribution,
          int                  k)
{
  NnImage *map = nn_image_new (1, e->map->h, e->map->w);
  if (map == NULL)
    return false;
  memcpy (map->data, e->map->map, sizeof (float) * (size_t) e->map->h * (size_t) e->map->w);
  NnImage *back = nn_image_unfit (map, attribution->ny, attribution->nx);
  nn_image_free (map);
  if (back == NULL)
    return false;
  size_t plane = (size_t) attribution->nx * (size_t) attribution->ny;
  memcpy (attribution->data + (size_t) k * plane, back->data, sizeof (float) * plane);
  nn_image_free (back);
  return true;
}

bool
nn_volume_explain (const NnModel       *model,
                   const NnVolume      *volume,
                   const NnVolume      *masks,
                   const char          *name,
                   const NnCtWindow    *window,
                   const NnExplainSpec *spec,
                   int                  begin,
                   int                  end,
                   NnVolume            *attribution,
                   NnVolumeSliceDone    done,
                   void                *user_data,
                   const atomic_int    *cancel,
                   NnError             *err)
{
  NN_ASSERT (model != NULL && volume != NULL && name != NULL && spec != NULL);
  NN_ASSERT (attribution != NULL && attribution->nx == volume->nx
             && attribution->ny == volume->ny && attribution->nz == volume->nz);
  NN_ASSERT (masks == NULL || (masks->nx == volume->nx && masks->ny == volume->ny
                               && masks->nz == volume->nz));
  NN_ASSERT (0 <= begin && begin <= end && end <= volume->nz);
  NnExplainRunControl control = { .cancel = cancel };
  bool ok = true;
  for (int k = begin; ok && k < end; k++)
    {
      NnExplainSpec slice_spec = *spec;
      uint8_t *mask = NULL;
      ok = masks == NULL || slice_mask (model, masks, k, name, &mask, err);
      slice_spec.mask = mask;
      if (mask != NULL)
        slice_spec.faith.metrics |= NN_FAITH_MASK;
      else
        slice_spec.faith.metrics &= ~NN_FAITH_MASK;
      NnInput *input = ok ? nn_volume_slice_input (volume, k, name, model, window, err) : NULL;
      NnExplanation *e = input != NULL ? nn_explain_run (model, input, &slice_spec, &control,
                                                         err) : NULL;
      ok = e != NULL;
      if (!ok && input != NULL)
        nn_error_prefix (err, "%s", input->path);
      if (ok && !lay_back (e, attribution, k))
        ok = nn_error_set (err, NN_ERROR_NOMEM, "%s, slice %d: out of memory", name, k);
      if (ok && done != NULL)
        done (k, NULL, e, user_data);
      nn_explanation_free (e);
      nn_input_unref (input);
      free (mask);
    }
  return ok;
}
