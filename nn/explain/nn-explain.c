/* SPDX-License-Identifier: MIT */
/* Shared pieces of the attribution methods: maps, the logit node, layer and class checks,
 * bilinear upsampling, cancellation and progress. */
#include "explain/nn-explain.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/nn-blas.h"
#include "ops/nn-elementwise.h"

NnMap *
nn_map_new (int lh,
            int lw,
            int h,
            int w,
            int c)
{
  NN_ASSERT (lh > 0 && lw > 0 && h > 0 && w > 0 && c >= 0);
  NnMap *map = calloc (1, sizeof *map);
  if (map == NULL)
    return NULL;
  map->lh = lh;
  map->lw = lw;
  map->h = h;
  map->w = w;
  map->c = c;
  map->target = -1;
  map->layer_map = calloc ((size_t) lh * (size_t) lw, sizeof (float));
  map->map = calloc ((size_t) h * (size_t) w, sizeof (float));
  if (c > 0)
    map->channels = calloc ((size_t) c * (size_t) h * (size_t) w, sizeof (float));
  if (map->layer_map == NULL || map->map == NULL || (c > 0 && map->channels == NULL))
    {
      nn_map_free (map);
      return NULL;
    }
  return map;
}

void
nn_map_free (NnMap *map)
{
  if (map == NULL)
    return;
  free (map->layer_map);
  free (map->map);
  free (map->channels);
  free (map->logits);
  free (map);
}

/* A copy of n floats of src, or NULL (also when src is NULL). */
static float *
floats_dup (const float *src,
            size_t       n,
            bool        *failed)
{
  if (src == NULL)
    return NULL;
  float *copy = malloc (sizeof (float) * n);
  if (copy == NULL)
    *failed = true;
  else
    memcpy (copy, src, sizeof (float) * n);
  return copy;
}

NnMap *
nn_map_dup (const NnMap *map)
{
  NN_ASSERT (map != NULL);
  NnMap *copy = malloc (sizeof *copy);
  if (copy == NULL)
    return NULL;
  *copy = *map;
  bool failed = false;
  const size_t hw = (size_t) map->h * (size_t) map->w;
  copy->layer_map = floats_dup (map->layer_map, (size_t) map->lh * (size_t) map->lw, &failed);
  copy->map = floats_dup (map->map, hw, &failed);
  copy->channels = floats_dup (map->channels, (size_t) map->c * hw, &failed);
  copy->logits = floats_dup (map->logits, (size_t) map->classes, &failed);
  if (failed)
    {
      nn_map_free (copy);
      return NULL;
    }
  return copy;
}

bool
nn_map_copy_logits (NnMap     *map,
                    NnContext *ctx)
{
  NN_ASSERT (map != NULL && ctx != NULL);
  const NnGraph *graph = nn_context_get_graph (ctx);
  const int logit = nn_explain_logit_node (graph);
  const int classes = (int) nn_shape_size (graph->nodes[logit].shape);
  float *logits = realloc (map->logits, sizeof (float) * (size_t) classes);
  if (logits == NULL)
    return false;
  memcpy (logits, nn_context_output (ctx, logit), sizeof (float) * (size_t) classes);
  map->logits = logits;
  map->classes = classes;
  return true;
}

/* The side g of a square n = g * g; 0 when n is not a square. */
static int
square_side (int n)
{
  int g = (int) lround (sqrt ((double) n));
  return n > 0 && g * g == n ? g : 0;
}

int
nn_explain_token_grid (int  n,
                       int *skip)
{
  int g = square_side (n - 1);
  *skip = g > 1 ? 1 : 0;
  if (g <= 1)
    g = square_side (n);
  return g > 1 ? g : 0;
}

int
nn_explain_logit_node (const NnGraph *graph)
{
  int out = nn_graph_output (graph);
  if (graph->nodes[out].op == NN_OP_SOFTMAX)
    return graph->nodes[out].inputs[0];
  return out;
}

bool
nn_explain_feeds_logits (const NnGraph *graph,
                         int            layer)
{
  int logit = nn_explain_logit_node (graph);
  if (layer > logit)
    return false;
  uint8_t *reach = calloc ((size_t) graph->n_nodes, 1);
  if (reach == NULL)
    return false;
  reach[logit] = 1;
  for (int i = logit; i >= 0; i--)
    if (reach[i])
      for (int k = 0; k < graph->nodes[i].n_inputs; k++)
        reach[graph->nodes[i].inputs[k]] = 1;
  bool r = reach[layer] != 0;
  free (reach);
  return r;
}

bool
nn_explain_check_layer (const NnGraph *graph,
                        int            layer,
                        NnError       *err)
{
  if (layer < 0 || layer >= graph->n_nodes)
    return nn_error_set (err, NN_ERROR_SPEC, "layer %d does not exist (the model has %d)",
                         layer, graph->n_nodes);
  const NnNode *node = &graph->nodes[layer];
  if (node->shape.h * node->shape.w <= 1)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "layer '%s' has no spatial extent (output %d x %d x %d); choose a "
                         "convolutional layer", node->name, node->shape.c, node->shape.h,
                         node->shape.w);
  if (!nn_explain_feeds_logits (graph, layer))
    return nn_error_set (err, NN_ERROR_SPEC, "layer '%s' does not feed the class logits",
                         node->name);
  return true;
}

bool
nn_explain_check_class (const NnGraph *graph,
                        int            target,
                        NnError       *err)
{
  int classes = (int) nn_shape_size (graph->nodes[nn_explain_logit_node (graph)].shape);
  if (target < -1 || target >= classes)
    return nn_error_set (err, NN_ERROR_SPEC, "class %d out of range (the model has %d classes, "
                         "0 to %d)", target, classes, classes - 1);
  return true;
}

int
nn_explain_argmax (const float *logits,
                   int          n)
{
  int best = 0;
  for (int k = 1; k < n; k++)
    if (logits[k] > logits[best])
      best = k;
  return best;
}

void
nn_explain_probabilities (float         *probs,
                          const float   *output,
                          const NnGraph *graph)
{
  NN_ASSERT (probs != NULL && output != NULL && graph != NULL);
  const int out = nn_graph_output (graph);
  const int n = (int) nn_shape_size (graph->nodes[out].shape);
  if (graph->nodes[out].op == NN_OP_SOFTMAX)
    memcpy (probs, output, sizeof (float) * (size_t) n);
  else
    nn_softmax_forward (probs, output, 1, n);
}

/* Whether a ranks above b: larger, NaN below every number. */
static bool
ranks_above (float a,
             float b)
{
  return a > b || (isnan (b) && !isnan (a));
}

void
nn_explain_top_k (int         *order,
                  const float *values,
                  int          n,
                  int          k)
{
  NN_ASSERT (order != NULL && values != NULL && k >= 0 && k <= n);
  /* Insertion into the sorted list so far: a value moves up past those it ranks above only, so
   * equal values keep their index order. */
  int kept = 0;
  for (int i = 0; i < n && k > 0; i++)
    {
      if (kept == k && !ranks_above (values[i], values[order[k - 1]]))
        continue;
      int pos = kept < k ? kept++ : k - 1;
      for (; pos > 0 && ranks_above (values[i], values[order[pos - 1]]); pos--)
        order[pos] = order[pos - 1];
      order[pos] = i;
    }
}

/* Source coordinate of output pixel i when n pixels are stretched to N: centres aligned. */
static void
source_coord (int    i,
              int    n,
              int    N,
              int   *i0,
              int   *i1,
              float *t)
{
  float s = ((float) i + 0.5f) * (float) n / (float) N - 0.5f;
  if (s < 0.0f)
    s = 0.0f;
  int a = (int) s;
  if (a > n - 1)
    a = n - 1;
  *i0 = a;
  *i1 = a + 1 < n ? a + 1 : n - 1;
  *t = s - (float) a;
}

void
nn_explain_upsample (float       *out,
                     const float *in,
                     int          h,
                     int          w,
                     int          H,
                     int          W)
{
  NN_ASSERT (out && in && h > 0 && w > 0 && H > 0 && W > 0);
  for (int y = 0; y < H; y++)
    {
      int y0, y1;
      float ty;
      source_coord (y, h, H, &y0, &y1, &ty);
      for (int x = 0; x < W; x++)
        {
          int x0, x1;
          float tx;
          source_coord (x, w, W, &x0, &x1, &tx);
          float top = in[y0 * w + x0] + tx * (in[y0 * w + x1] - in[y0 * w + x0]);
          float bot = in[y1 * w + x0] + tx * (in[y1 * w + x1] - in[y1 * w + x0]);
          out[(size_t) y * (size_t) W + (size_t) x] = top + ty * (bot - top);
        }
    }
}

float
nn_explain_softmax_at (const float *logits,
                       int          n,
                       int          k)
{
  float m = logits[0];
  for (int i = 1; i < n; i++)
    m = logits[i] > m ? logits[i] : m;
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    sum += exp ((double) (logits[i] - m));
  return (float) (exp ((double) (logits[k] - m)) / sum);
}

size_t
nn_explain_sample_bytes (const NnGraph *graph,
                         unsigned       context_flags)
{
  NN_ASSERT (graph != NULL);
  size_t floats = 0;
  for (int i = 0; i < graph->n_nodes; i++)
    floats += nn_shape_size (graph->nodes[i].shape);
  if (context_flags & NN_CONTEXT_BACKWARD)
    floats *= 2;
  return sizeof (float) * floats;
}

/* Why small batches: the workers share a batch out and run each share through the network one
 * input at a time (a convolution is im2col and one sgemm per input), so a larger batch does not
 * make an input cheaper: Score-CAM on ResNet-18 at 224 px took 47-53 ms of CPU per masked
 * input at batch 2 and at batch 16 alike (2 threads, a loaded 2-core machine). What a larger
 * batch does cost: memory (34 MB of activations per input there, 540 MB at batch 16),
 * caches (every node writes its output for the whole share and the next one reads it back),
 * and whole passes for nothing, since a pass always runs the whole batch: the one-input pass
 * that resolves the class, and the last, partly filled batch (SmoothGrad's 25 samples at batch
 * 16 ran 48 inputs forward and backward, a 21-point deletion curve 32). So: one input per
 * thread (every core busy), more only while a thread's share fits NN_EXPLAIN_BATCH_BYTES (a
 * 2 MB L2 and a few MB of L3), at most NN_EXPLAIN_BATCH_MAX (small models: fewer passes and
 * wake-ups of the workers, while a pass stays short for progress and cancellation). */
int
nn_explain_batch_size (const NnGraph *graph,
                       unsigned       context_flags,
                       int            threads,
                       int            inputs)
{
  NN_ASSERT (graph != NULL);
  if (threads <= 0)
    threads = nn_blas_get_threads ();
  threads = threads < 1 ? 1 : threads > 64 ? 64 : threads;
  size_t per_input = nn_explain_sample_bytes (graph, context_flags);
  size_t fit = per_input > 0 ? NN_EXPLAIN_BATCH_BYTES / per_input : NN_EXPLAIN_BATCH_MAX;
  int per_thread = fit < 1 ? 1 : fit > NN_EXPLAIN_BATCH_MAX ? NN_EXPLAIN_BATCH_MAX : (int) fit;
  int batch = threads * per_thread;
  if (inputs > 0 && batch > inputs)
    batch = inputs;
  return batch;
}

bool
nn_explain_cancelled (const NnExplainControl *control,
                      NnError                *err)
{
  if (control == NULL || control->cancel == NULL || atomic_load (control->cancel) == 0)
    return false;
  nn_error_set (err, NN_ERROR_CANCELLED, "cancelled");
  return true;
}

void
nn_explain_report (const NnExplainControl *control,
                   int                     done,
                   int                     total)
{
  if (control != NULL && control->progress != NULL)
    control->progress (done, total, control->user_data);
}

bool
nn_explain_prepare (NnContext   *ctx,
                    const float *input,
                    int         *target,
                    float       *score,
                    NnError     *err)
{
  NnGraph *graph = nn_context_get_graph (ctx);
  NN_ASSERT (input != NULL && target != NULL);
  if (!nn_explain_check_class (graph, *target, err))
    return false;
  size_t in_size = nn_shape_size (graph->nodes[0].shape);
  float *x = nn_context_input (ctx);
  memcpy (x, input, sizeof (float) * in_size);
  memset (x + in_size, 0, sizeof (float) * in_size * (size_t) (nn_context_get_batch (ctx) - 1));
  for (size_t i = 0; i < in_size; i++)
    if (!isfinite (input[i]))
      return nn_error_set (err, NN_ERROR_NUMERIC, "the input holds a NaN or infinite value");
  nn_context_set_training (ctx, false);
  int logit = nn_explain_logit_node (graph);
  nn_context_forward (ctx, logit);
  const float *logits = nn_context_output (ctx, logit);
  int classes = (int) nn_shape_size (graph->nodes[logit].shape);
  if (*target < 0)
    *target = nn_explain_argmax (logits, classes);
  if (score)
    *score = logits[*target];
  return true;
}
