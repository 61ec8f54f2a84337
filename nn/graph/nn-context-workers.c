/* SPDX-License-Identifier: MIT */
/* The jobs a context runs on its workers: chunked runs of consecutive nodes split over the
 * batch, batch norm split over channels, the linear backward split over outputs, a single
 * sample's conv input gradient split over input channels, and the private parameter gradients
 * of the workers with their reduction into the arena. */
#include "graph/nn-context-private.h"

#include "graph/nn-op.h"
#include <string.h>

#include "ops/nn-conv2d.h"
#include "ops/nn-linear.h"
#include "ops/nn-norm.h"
#include "ops/nn-winograd.h"
#include "core/nn-workers.h"

/* Adds the workers' private parameter gradients of node i into the arena. */
static void
reduce_param_grads (NnContext *ctx,
                    int        i)
{
  const NnGraph *graph = ctx->graph;
  const NnNode *node = &graph->nodes[i];
  if (node->n_params == 0)
    return;
  size_t first = graph->params[node->params[0]].offset;
  for (int k = 0; k < node->n_params; k++)
    {
      const NnParam *p = &graph->params[node->params[k]];
      if (!p->trainable)
        continue;
      float *dst = ctx->param_grads + p->offset;
      for (int w = 1; w < ctx->n_workers; w++)
        {
          const float *src = ctx->private_grads + (size_t) (w - 1) * ctx->private_size
                             + ctx->private_at[i] + (p->offset - first);
          for (size_t j = 0; j < p->count; j++)
            dst[j] += src[j];
        }
    }
}

/* Nodes from `first` to `last` (downwards when last < first), in chunks of `chunk` samples;
 * the backward skips `stop` and nodes whose gradient is not wanted. */
typedef struct
{
  NnContext *ctx;
  int        first;
  int        last;
  int        chunk;
  int        stop;
  bool       want_params;
  size_t     n_private; /* floats of each private slice the run uses */
} RunJob;

static bool
runs_alone (const NnNode *node)
{
  return nn_op_info (node->op)->split == NN_OP_SPLIT_WEIGHTS;
}

/* The run of nodes that starts at `first` and goes towards `limit` by `step` (+1 forward, -1
 * backward): the nodes that split over the batch, within NN_CONTEXT_RUN_PARAMS parameters (a
 * single node may hold more). A linear layer runs alone: each chunk would read all its weights
 * again. Fills the job's end and chunk size; the caller checked that `first` splits. */
static void
run_plan (RunJob    *job,
          NnContext *ctx,
          int        first,
          int        limit,
          int        step)
{
  const NnGraph *graph = ctx->graph;
  size_t params = nn_context_node_param_count (graph, first);
  size_t floats = nn_shape_size (graph->nodes[first].shape);
  int last = first;
  while (last != limit && !runs_alone (&graph->nodes[first])
         && !runs_alone (&graph->nodes[last + step])
         && nn_context_splits_over_batch (ctx, &graph->nodes[last + step]))
    {
      size_t p = nn_context_node_param_count (graph, last + step);
      if (params + p > NN_CONTEXT_RUN_PARAMS)
        break;
      params += p;
      floats += nn_shape_size (graph->nodes[last + step].shape);
      last += step;
    }
  job->ctx = ctx;
  job->first = first;
  job->last = last;
  job->chunk = ctx->batch;
  if (last != first)
    {
      size_t chunk = NN_CONTEXT_RUN_CHUNK_FLOATS / floats;
      job->chunk = chunk < 1 ? 1 : chunk < (size_t) ctx->batch ? (int) chunk : ctx->batch;
    }
}

static void
forward_run_work (void *data,
                  int   index,
                  int   n)
{
  RunJob *job = data;
  int b0, nb;
  nn_context_batch_share (job->ctx->batch, index, n, &b0, &nb);
  for (int c = b0; c < b0 + nb; c += job->chunk)
    {
      int nc = b0 + nb - c < job->chunk ? b0 + nb - c : job->chunk;
      for (int i = job->first; i <= job->last; i++)
        nn_context_forward_slice (job->ctx, i, c, nc, index);
    }
}

int
nn_context_forward_run (NnContext *ctx,
                        int        first,
                        int        last)
{
  RunJob job = { 0 };
  run_plan (&job, ctx, first, last, 1);
  nn_workers_run (ctx->workers, forward_run_work, &job);
  return job.last;
}

static void
backward_run_work (void *data,
                   int   index,
                   int   n)
{
  RunJob *job = data;
  NnContext *ctx = job->ctx;
  int b0, nb;
  nn_context_batch_share (ctx->batch, index, n, &b0, &nb);
  if (index > 0 && job->n_private > 0)
    memset (ctx->private_grads + (size_t) (index - 1) * ctx->private_size, 0,
            sizeof (float) * job->n_private);
  for (int c = b0; c < b0 + nb; c += job->chunk)
    {
      int nc = b0 + nb - c < job->chunk ? b0 + nb - c : job->chunk;
      for (int i = job->first; i >= job->last; i--)
        if (ctx->want[i] && i != job->stop)
          nn_context_backward_slice (ctx, i, c, nc, index, job->want_params);
    }
}

int
nn_context_backward_run (NnContext *ctx,
                         int        first,
                         int        stop,
                         bool       want_params)
{
  RunJob job = { 0 };
  run_plan (&job, ctx, first, 1, -1);
  job.stop = stop;
  job.want_params = want_params && ctx->param_grads != NULL;
  if (job.want_params)
    for (int i = first; i >= job.last; i--)
      {
        ctx->private_at[i] = job.n_private;
        job.n_private += nn_context_node_param_count (ctx->graph, i);
      }
  nn_workers_run (ctx->workers, backward_run_work, &job);
  if (job.want_params)
    for (int i = first; i >= job.last; i--)
      if (ctx->want[i] && i != stop && nn_context_node_has_trainable (ctx->graph, i))
        reduce_param_grads (ctx, i);
  return job.last;
}

/* One node on the workers, split by channels (batch norm) or outputs (linear). */
typedef struct
{
  NnContext *ctx;
  int        node;
  bool       want_params;
  bool       backward;
} SliceJob;

static void
batchnorm_train_work (void *data,
                      int   index,
                      int   n)
{
  SliceJob *job = data;
  NnContext *ctx = job->ctx;
  NnGraph *graph = ctx->graph;
  const int i = job->node;
  const NnNode *node = &graph->nodes[i];
  const int C = node->shape.c, HW = node->shape.h * node->shape.w;
  int c0, nc;
  nn_context_batch_share (C, index, n, &c0, &nc);
  if (nc == 0)
    return;
  const float *in = ctx->out[node->inputs[0]];
  const float *gamma = nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT);
  if (!job->backward)
    {
      int pm = nn_graph_node_param (graph, i, NN_PARAM_RUNNING_MEAN);
      int pv = nn_graph_node_param (graph, i, NN_PARAM_RUNNING_VAR);
      nn_batchnorm_forward_train_channels (ctx->out[i], ctx->stats[i], ctx->stats[i] + C,
                                           graph->data + graph->params[pm].offset,
                                           graph->data + graph->params[pv].offset, in, gamma,
                                           nn_context_param_ptr (graph, i, NN_PARAM_BIAS),
                                           ctx->batch, C, HW, node->attrs.norm.eps,
                                           node->attrs.norm.momentum, c0, c0 + nc);
      return;
    }
  const int i0 = node->inputs[0];
  float *din = ctx->want[i0] ? ctx->grad[i0] : NULL;
  float *dg = nn_context_param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, job->want_params, 0);
  float *db = nn_context_param_grad_ptr (ctx, i, NN_PARAM_BIAS, job->want_params, 0);
  if (din || dg || db)
    nn_batchnorm_backward_train_channels (din, dg, db, ctx->grad[i], in, gamma, ctx->stats[i],
                                          ctx->stats[i] + C, ctx->batch, C, HW, c0, c0 + nc);
}

static void
conv_input_work (void *data,
                 int   index,
                 int   n)
{
  SliceJob *job = data;
  NnContext *ctx = job->ctx;
  const int i = job->node;
  const NnNode *node = &ctx->graph->nodes[i];
  NnConvGeom g = nn_context_conv_geom (ctx, node, 1);
  float *dinp = ctx->grad[node->inputs[0]], *scratch = nn_context_scratch (ctx, index);
  if (ctx->wino_bwd[i] != NULL)
    {
      /* the channel shares nn_conv2d_backward_input_part takes */
      const int c0 = (int) ((long) g.C * index / n), c1 = (int) ((long) g.C * (index + 1) / n);
      nn_winograd_backward_input_packed (dinp, scratch, ctx->grad[i], ctx->wino_bwd[i], &g, c0,
                                         c1);
      return;
    }
  g.no_winograd = true;
  nn_conv2d_backward_input_part (dinp, scratch, ctx->grad[i],
                                 nn_context_param_ptr (ctx->graph, i, NN_PARAM_WEIGHT), &g,
                                 index, n);
}

bool
nn_context_conv_input_splits (const NnContext *ctx,
                              int              i,
                              bool             want_params)
{
  const NnNode *node = &ctx->graph->nodes[i];
  if (ctx->batch != 1 || ctx->workers == NULL || node->op != NN_OP_CONV2D
      || !ctx->want[node->inputs[0]]
      || (want_params && nn_context_node_has_trainable (ctx->graph, i)))
    return false;
  NnConvGeom g = nn_context_conv_geom (ctx, node, 1);
  return g.G == 1 && g.C > 1;
}

void
nn_context_conv_backward_input_split (NnContext *ctx,
                                      int        i)
{
  SliceJob job = { ctx, i, false, true };
  nn_context_zero_input_grads (ctx, i, 0, 1);
  nn_workers_run (ctx->workers, conv_input_work, &job);
}

void
nn_context_batchnorm_train_split (NnContext *ctx,
                                  int        i,
                                  bool       backward,
                                  bool       want_params)
{
  SliceJob job = { ctx, i, want_params, backward };
  if (backward)
    nn_context_zero_input_grads (ctx, i, 0, ctx->batch);
  nn_workers_run (ctx->workers, batchnorm_train_work, &job);
}

static void
linear_backward_work (void *data,
                      int   index,
                      int   n)
{
  SliceJob *job = data;
  NnContext *ctx = job->ctx;
  const NnGraph *graph = ctx->graph;
  const int i = job->node, i0 = graph->nodes[i].inputs[0];
  const int B = ctx->batch, IN = (int) nn_shape_size (graph->nodes[i0].shape);
  const int OUT = graph->nodes[i].shape.c;
  int b0, nb, o0, no;
  nn_context_batch_share (B, index, n, &b0, &nb);
  nn_context_zero_input_grads (ctx, i, b0, nb);
  if (ctx->want[i0] && nb > 0)
    nn_linear_backward (ctx->grad[i0] + (size_t) b0 * IN, NULL, NULL,
                        ctx->grad[i] + (size_t) b0 * OUT, ctx->out[i0] + (size_t) b0 * IN,
                        nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT), nb, IN, OUT);
  nn_context_batch_share (OUT, index, n, &o0, &no);
  float *dw = nn_context_param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, job->want_params, 0);
  float *db = nn_context_param_grad_ptr (ctx, i, NN_PARAM_BIAS, job->want_params, 0);
  if (dw || db)
    nn_linear_backward_params (dw, db, ctx->grad[i], ctx->out[i0], B, IN, OUT, o0, o0 + no);
}

void
nn_context_linear_backward_split (NnContext *ctx,
                                  int        i,
                                  bool       want_params)
{
  SliceJob job = { ctx, i, want_params, true };
  nn_workers_run (ctx->workers, linear_backward_work, &job);
}
