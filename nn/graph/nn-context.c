/* SPDX-License-Identifier: MIT */
/* An execution context: creating and freeing its buffers, the accessors, and the public forward
 * and backward passes, which choose for every node how it runs (on the calling thread, split
 * over the batch, over channels or within a single sample) and which gradients it needs. */
#include "graph/nn-context-private.h"

#include <stdlib.h>
#include <string.h>

#include "core/nn-blas.h"
#include "core/nn-workers.h"
#include "graph/nn-op.h"

NnContext *
nn_context_new (NnGraph  *graph,
                int       batch,
                unsigned  flags,
                NnError  *err)
{
  NN_ASSERT (graph != NULL && graph->n_nodes > 0);
  if (batch <= 0 || batch > 65536)
    return nn_error_set (err, NN_ERROR_SPEC, "batch size %d out of range", batch), NULL;
  for (int i = 0; i < graph->n_nodes; i++)
    if (nn_shape_size (graph->nodes[i].shape) * (size_t) batch > ((size_t) 1 << 32))
      return nn_error_set (err, NN_ERROR_NOMEM, "node '%s' is too large for batch %d",
                           graph->nodes[i].name, batch), NULL;

  NnContext *ctx = calloc (1, sizeof *ctx);
  if (ctx == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  ctx->graph = graph;
  ctx->batch = batch;
  ctx->flags = flags;
  ctx->n_workers = 1;
  nn_rng_init (&ctx->rng, 0x5eed);
  ctx->scratch_size = nn_context_scratch_floats (ctx);
  if (!nn_context_plan (ctx))
    {
      free (ctx);
      return nn_error_set (err, NN_ERROR_NOMEM,
                           "out of memory for a batch of %d (model too large?)", batch), NULL;
    }
  return ctx;
}

void
nn_context_free (NnContext *ctx)
{
  if (ctx == NULL)
    return;
  free (ctx->block);
  free (ctx->worker_block);
  free (ctx->private_grads);
  nn_workers_free (ctx->workers);
  free (ctx);
}

NnGraph *
nn_context_get_graph (const NnContext *ctx)
{
  return ctx->graph;
}

int
nn_context_get_batch (const NnContext *ctx)
{
  return ctx->batch;
}

bool
nn_context_set_threads (NnContext *ctx,
                        int        threads,
                        NnError   *err)
{
  if (threads <= 0)
    threads = nn_blas_get_threads ();
  if (ctx->batch > 1 && threads > ctx->batch)
    threads = ctx->batch;
  if (threads > 64)
    threads = 64;
  nn_workers_free (ctx->workers);
  ctx->workers = NULL;
  ctx->n_workers = 1;
  ctx->blas_threads = nn_blas_get_threads ();
  ctx->blas_current = -1;
  if (threads < 2)
    return true;

  size_t most = NN_CONTEXT_RUN_PARAMS;
  for (int i = 0; i < ctx->graph->n_nodes; i++)
    {
      size_t count = nn_context_node_param_count (ctx->graph, i);
      if (count > most)
        most = count;
    }
  void *block = NULL;
  float *scratch = nn_context_alloc_aligned (sizeof (float) * (size_t) (threads - 1)
                                             * ctx->scratch_size, &block);
  float *priv = ctx->param_grads
                ? calloc ((size_t) (threads - 1) * most + 1, sizeof (float)) : NULL;
  NnWorkers *workers = nn_workers_new (threads);
  if (scratch == NULL || (ctx->param_grads && priv == NULL) || workers == NULL)
    {
      free (block);
      free (priv);
      nn_workers_free (workers);
      return nn_error_set (err, NN_ERROR_NOMEM, "cannot set up %d worker threads", threads);
    }
  free (ctx->worker_block);
  free (ctx->private_grads);
  ctx->worker_block = block;
  ctx->worker_scratch = scratch;
  ctx->private_grads = priv;
  ctx->private_size = most;
  ctx->workers = workers;
  ctx->n_workers = threads;
  return true;
}

int
nn_context_get_threads (const NnContext *ctx)
{
  return ctx->n_workers;
}

void
nn_context_set_training (NnContext *ctx,
                         bool       training)
{
  ctx->training = training;
}

void
nn_context_set_seed (NnContext *ctx,
                     uint64_t   seed)
{
  nn_rng_init (&ctx->rng, seed);
}

void
nn_context_set_policy_override (NnContext          *ctx,
                                const NnGradPolicy *policy)
{
  ctx->has_override = policy != NULL;
  if (policy)
    ctx->policy_override = *policy;
}

float *
nn_context_input (NnContext *ctx)
{
  return ctx->out[0];
}

float *
nn_context_output (NnContext *ctx,
                   int        node)
{
  NN_ASSERT (node >= 0 && node < ctx->graph->n_nodes);
  NN_ASSERT (!ctx->fold_unwritten[node]);
  return ctx->out[node];
}

void
nn_context_keep (NnContext *ctx,
                 int        node)
{
  NN_ASSERT (node >= 0 && node < ctx->graph->n_nodes);
  ctx->keep[node] = 1;
}

float *
nn_context_grad (NnContext *ctx,
                 int        node)
{
  NN_ASSERT (node >= 0 && node < ctx->graph->n_nodes);
  return ctx->grad[node];
}

float *
nn_context_param_grads (NnContext *ctx)
{
  return ctx->param_grads;
}

void
nn_context_zero_param_grads (NnContext *ctx)
{
  if (ctx->param_grads)
    memset (ctx->param_grads, 0, sizeof (float) * ctx->graph->n_data);
}

/* While a context with workers runs, OpenBLAS stays single-threaded, also for the ops that do
 * not split: its idle threads spin for a while after every call and would take the core from
 * our workers. Afterwards it gets its threads back. */
static void
blas_threads (NnContext *ctx,
              bool       running)
{
  int want = running ? 1 : ctx->blas_threads;
  if (ctx->blas_current != want)
    {
      nn_blas_set_threads (want);
      ctx->blas_current = want;
    }
}

void
nn_context_set_backward_rule (NnContext      *ctx,
                              NnBackwardRule  rule,
                              void           *user_data)
{
  ctx->rule = rule;
  ctx->rule_data = user_data;
}

void
nn_context_forward (NnContext *ctx,
                    int        last)
{
  nn_context_forward_from (ctx, 1, last);
}

void
nn_context_forward_from (NnContext *ctx,
                         int        first,
                         int        last)
{
  if (last < 0)
    last = ctx->graph->n_nodes - 1;
  NN_ASSERT (first >= 1 && last < ctx->graph->n_nodes);
  nn_context_conv_pack (ctx);
  nn_context_fold_begin (ctx, last);
  if (ctx->workers)
    blas_threads (ctx, true);
  for (int i = first; i <= last; i++)
    {
      const NnNode *node = &ctx->graph->nodes[i];
      if (ctx->workers && ctx->batch == 1)
        {
          if (nn_context_splits_single_sample (ctx, node))
            nn_context_forward_single_sample (ctx, i);
          else
            nn_context_forward_slice (ctx, i, 0, 1, 0);
        }
      else if (ctx->workers && nn_context_splits_over_batch (ctx, node))
        i = nn_context_forward_run (ctx, i, last);
      else if (ctx->workers && nn_context_splits_over_channels (ctx, node))
        nn_context_batchnorm_train_split (ctx, i, false, false);
      else
        nn_context_forward_slice (ctx, i, 0, ctx->batch, 0);
    }
  if (ctx->workers)
    blas_threads (ctx, false);
  /* A training pass moved the batch norms' running statistics. */
  if (ctx->training)
    nn_graph_bump_version (ctx->graph);
}

static void
backward_node (NnContext *ctx,
               int        i,
               bool       want_params)
{
  const NnNode *node = &ctx->graph->nodes[i];
  NnWorkers *workers = ctx->batch > 1 && ctx->rule == NULL ? ctx->workers : NULL;
  if (workers && nn_context_splits_over_channels (ctx, node))
    nn_context_batchnorm_train_split (ctx, i, true, want_params);
  else if (workers && nn_op_info (node->op)->split == NN_OP_SPLIT_WEIGHTS)
    nn_context_linear_backward_split (ctx, i, want_params);
  else
    nn_context_backward_slice (ctx, i, 0, ctx->batch, 0, want_params);
}

void
nn_context_backward (NnContext *ctx,
                     int        seed,
                     unsigned   what,
                     int        stop)
{
  NnGraph *graph = ctx->graph;
  NN_ASSERT (ctx->flags & NN_CONTEXT_BACKWARD);
  NN_ASSERT (seed >= 0 && seed < graph->n_nodes);
  NN_ASSERT (stop < 0 || stop <= seed);
  NN_ASSERT (!(what & NN_BACKWARD_PARAMS) || ctx->param_grads != NULL);
  nn_context_conv_pack (ctx);

  /* reach: the node feeds the seed. want: its output gradient is needed, because it lies on a
   * path from something asked for (the stop node, a trainable node, the input) to the seed. */
  memset (ctx->reach, 0, (size_t) graph->n_nodes);
  ctx->reach[seed] = 1;
  for (int i = seed; i >= 0; i--)
    if (ctx->reach[i])
      for (int k = 0; k < graph->nodes[i].n_inputs; k++)
        ctx->reach[graph->nodes[i].inputs[k]] = 1;
  bool want_params = (what & NN_BACKWARD_PARAMS) != 0;
  for (int i = 0; i <= seed; i++)
    {
      bool w = false;
      if (ctx->reach[i] && (stop < 0 || i >= stop))
        {
          w = i == stop || (i == 0 && (what & NN_BACKWARD_INPUT))
              || (want_params && nn_context_node_has_trainable (graph, i));
          for (int k = 0; k < graph->nodes[i].n_inputs && !w; k++)
            w = ctx->want[graph->nodes[i].inputs[k]];
        }
      ctx->want[i] = w;
    }
  for (int i = seed + 1; i < graph->n_nodes; i++)
    ctx->want[i] = 0;
  ctx->want[seed] = 1;

  /* A wanted gradient is zeroed, sample range by sample range, just before the backward of its
   * last consumer (the first to run) accumulates into it. */
  memset (ctx->zero_by, 0, sizeof (int) * (size_t) graph->n_nodes);
  for (int i = seed; i > 0; i--)
    if (ctx->want[i] && i != stop)
      for (int k = 0; k < graph->nodes[i].n_inputs; k++)
        {
          int j = graph->nodes[i].inputs[k];
          if (ctx->want[j] && ctx->zero_by[j] == 0)
            ctx->zero_by[j] = i;
        }

  /* A single sample goes backward on the calling thread, with OpenBLAS' threads, except the
   * input gradient of a convolution, which the workers split by input channels (OpenBLAS then
   * keeps one thread, as in the forward pass). */
  NnWorkers *workers = ctx->batch > 1 && ctx->rule == NULL ? ctx->workers : NULL;
  bool single = ctx->batch == 1 && ctx->workers != NULL && ctx->rule == NULL;
  if (workers)
    blas_threads (ctx, true);
  for (int i = seed; i > 0; i--)
    {
      if (!ctx->want[i] || i == stop)
        continue;
      if (single && nn_context_conv_input_splits (ctx, i, want_params))
        {
          blas_threads (ctx, true);
          nn_context_conv_backward_input_split (ctx, i);
        }
      else if (workers && nn_context_splits_over_batch (ctx, &graph->nodes[i])
               && nn_op_info (graph->nodes[i].op)->split != NN_OP_SPLIT_WEIGHTS)
        i = nn_context_backward_run (ctx, i, stop, want_params);
      else
        {
          if (single)
            blas_threads (ctx, false);
          backward_node (ctx, i, want_params);
        }
    }
  if (ctx->workers)
    blas_threads (ctx, false);
}
