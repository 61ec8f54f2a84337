/* SPDX-License-Identifier: MIT */
/* Forward and backward execution of a graph: the one switch over NnOp that dispatches to the
 * kernels. */
#include "nn-context.h"

#include <stdlib.h>
#include <string.h>

#include "nn-activation.h"
#include "nn-conv2d.h"
#include "nn-elementwise.h"
#include "nn-linear.h"
#include "nn-norm.h"
#include "nn-pool.h"
#include "nn-workers.h"
#include "nn-blas.h"

struct NnContext
{
  NnGraph     *graph;
  int          batch;
  unsigned     flags;
  bool         training;
  bool         has_override;
  NnGradPolicy policy_override;
  NnRng        rng;

  float      **out;       /* per node, B * size floats */
  float      **grad;      /* per node, or NULL */
  float      **stats;     /* batch/instance norm: saved mean then invstd */
  int32_t    **argmax;    /* max pooling */
  uint8_t    **mask;      /* dropout */
  float       *scratch;       /* n_workers slices of scratch_size floats */
  size_t       scratch_size;
  float       *param_grads;
  NnWorkers   *workers;       /* NULL: everything runs on the calling thread */
  int          n_workers;
  float       *private_grads; /* (n_workers - 1) slices of private_size floats */
  size_t       private_size;  /* the most parameters a run of nodes holds */
  size_t      *private_at;    /* per node: where its parameters start in a private slice */
  int          blas_threads;  /* OpenBLAS threads for ops that do not split */
  int          blas_current;
  uint8_t     *reach;     /* backward bookkeeping, one byte per node */
  uint8_t     *want;
  int         *zero_by;   /* per node: the node whose backward zeroes its gradient, or 0 */
};

/* A run of consecutive nodes that split over the batch goes through the workers in chunks of
 * samples, each chunk through all of the run's nodes: their outputs and gradients then stay in
 * the worker's cache. A run holds at most RUN_PARAMS parameters (its private gradients and the
 * weights each chunk reads again); a chunk's activations take about RUN_CHUNK_FLOATS. */
#define RUN_PARAMS       ((size_t) 1 << 18)
#define RUN_CHUNK_FLOATS ((size_t) 1 << 16)

static NnConvGeom
conv_geom (const NnGraph *graph,
           const NnNode  *node,
           int            batch)
{
  const NnShape in = graph->nodes[node->inputs[0]].shape;
  const NnConvAttrs *a = &node->attrs.conv;
  return (NnConvGeom) {
    .B = batch, .C = in.c, .H = in.h, .W = in.w,
    .OC = a->out_channels, .KH = a->kh, .KW = a->kw, .SH = a->sh, .SW = a->sw,
    .PT = a->pad_t, .PL = a->pad_l, .PB = a->pad_b, .PR = a->pad_r,
    .DH = a->dh, .DW = a->dw, .G = a->groups, .OH = node->shape.h, .OW = node->shape.w,
  };
}

static void *
alloc_zero (size_t bytes,
            bool  *ok)
{
  void *p = calloc (1, bytes ? bytes : 1);
  if (p == NULL)
    *ok = false;
  return p;
}

NnContext *
nn_context_new (NnGraph  *graph,
                int       batch,
                unsigned  flags,
                NnError  *err)
{
  NN_ASSERT (graph != NULL && graph->n_nodes > 0);
  if (batch <= 0 || batch > 65536)
    return nn_error_set (err, NN_ERROR_SPEC, "batch size %d out of range", batch), NULL;
  int n = graph->n_nodes;
  for (int i = 0; i < n; i++)
    if (nn_shape_size (graph->nodes[i].shape) * (size_t) batch > ((size_t) 1 << 32))
      return nn_error_set (err, NN_ERROR_NOMEM, "node '%s' is too large for batch %d",
                           graph->nodes[i].name, batch), NULL;

  bool ok = true;
  NnContext *ctx = alloc_zero (sizeof *ctx, &ok);
  if (!ok)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  ctx->graph = graph;
  ctx->batch = batch;
  ctx->flags = flags;
  nn_rng_init (&ctx->rng, 0x5eed);
  ctx->out = alloc_zero (sizeof (float *) * (size_t) n, &ok);
  ctx->grad = alloc_zero (sizeof (float *) * (size_t) n, &ok);
  ctx->stats = alloc_zero (sizeof (float *) * (size_t) n, &ok);
  ctx->argmax = alloc_zero (sizeof (int32_t *) * (size_t) n, &ok);
  ctx->mask = alloc_zero (sizeof (uint8_t *) * (size_t) n, &ok);
  ctx->reach = alloc_zero ((size_t) n, &ok);
  ctx->want = alloc_zero ((size_t) n, &ok);
  ctx->zero_by = alloc_zero (sizeof (int) * (size_t) n, &ok);
  ctx->private_at = alloc_zero (sizeof (size_t) * (size_t) n, &ok);
  if (!ok)
    {
      nn_context_free (ctx);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }

  size_t scratch = 0;
  for (int i = 0; i < n && ok; i++)
    {
      const NnNode *node = &graph->nodes[i];
      size_t size = nn_shape_size (node->shape) * (size_t) batch;
      ctx->out[i] = alloc_zero (sizeof (float) * size, &ok);
      if (flags & NN_CONTEXT_BACKWARD)
        ctx->grad[i] = alloc_zero (sizeof (float) * size, &ok);
      switch (node->op)
        {
        case NN_OP_CONV2D:
          {
            NnConvGeom g = conv_geom (graph, node, batch);
            size_t s = nn_conv2d_scratch_size (&g);
            if (s > scratch)
              scratch = s;
            /* A single sample split over the workers by groups may leave a worker one group,
             * which runs as an ungrouped conv (depthwise ones then no longer run direct). */
            g.B = 1;
            g.C /= g.G;
            g.OC /= g.G;
            g.G = 1;
            s = nn_conv2d_scratch_size (&g);
            if (s > scratch)
              scratch = s;
            break;
          }
        case NN_OP_BATCHNORM:
          ctx->stats[i] = alloc_zero (sizeof (float) * 2 * (size_t) node->shape.c, &ok);
          break;
        case NN_OP_INSTANCENORM:
          ctx->stats[i] = alloc_zero (sizeof (float) * 2 * (size_t) node->shape.c
                                      * (size_t) batch, &ok);
          break;
        case NN_OP_MAXPOOL:
          ctx->argmax[i] = alloc_zero (sizeof (int32_t) * size, &ok);
          break;
        case NN_OP_DROPOUT:
          ctx->mask[i] = alloc_zero (size, &ok);
          break;
        case NN_OP_INPUT:
        case NN_OP_LINEAR:
        case NN_OP_ACTIVATION:
        case NN_OP_AVGPOOL:
        case NN_OP_GLOBAL_AVGPOOL:
        case NN_OP_ADD:
        case NN_OP_MUL:
        case NN_OP_CONCAT:
        case NN_OP_FLATTEN:
        case NN_OP_SOFTMAX:
        case NN_OP_COUNT_:
        default:
          break;
        }
    }
  ctx->scratch_size = scratch;
  ctx->n_workers = 1;
  if (ok)
    ctx->scratch = alloc_zero (sizeof (float) * scratch, &ok);
  if (ok && (flags & NN_CONTEXT_PARAM_GRADS))
    ctx->param_grads = alloc_zero (sizeof (float) * graph->n_data, &ok);
  if (!ok)
    {
      nn_context_free (ctx);
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
  for (int i = 0; i < ctx->graph->n_nodes; i++)
    {
      if (ctx->out)
        free (ctx->out[i]);
      if (ctx->grad)
        free (ctx->grad[i]);
      if (ctx->stats)
        free (ctx->stats[i]);
      if (ctx->argmax)
        free (ctx->argmax[i]);
      if (ctx->mask)
        free (ctx->mask[i]);
    }
  free (ctx->out);
  free (ctx->grad);
  free (ctx->stats);
  free (ctx->argmax);
  free (ctx->mask);
  free (ctx->reach);
  free (ctx->want);
  free (ctx->zero_by);
  free (ctx->private_at);
  free (ctx->scratch);
  free (ctx->param_grads);
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

/* All parameters of a node, trainable or not. */
static size_t
node_param_count (const NnGraph *graph,
                  int            i)
{
  size_t count = 0;
  const NnNode *node = &graph->nodes[i];
  for (int k = 0; k < node->n_params; k++)
    count += graph->params[node->params[k]].count;
  return count;
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

  size_t most = RUN_PARAMS;
  for (int i = 0; i < ctx->graph->n_nodes; i++)
    {
      size_t count = node_param_count (ctx->graph, i);
      if (count > most)
        most = count;
    }
  float *scratch = calloc ((size_t) threads * ctx->scratch_size + 1, sizeof (float));
  float *priv = ctx->param_grads
                ? calloc ((size_t) (threads - 1) * most + 1, sizeof (float)) : NULL;
  NnWorkers *workers = nn_workers_new (threads);
  if (scratch == NULL || (ctx->param_grads && priv == NULL) || workers == NULL)
    {
      free (scratch);
      free (priv);
      nn_workers_free (workers);
      return nn_error_set (err, NN_ERROR_NOMEM, "cannot set up %d worker threads", threads);
    }
  free (ctx->scratch);
  free (ctx->private_grads);
  ctx->scratch = scratch;
  ctx->private_grads = priv;
  ctx->private_size = most;
  ctx->workers = workers;
  ctx->n_workers = threads;
  return true;
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
  return ctx->out[node];
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

static const float *
param_ptr (const NnGraph *graph,
           int            node,
           NnParamRole    role)
{
  int p = nn_graph_node_param (graph, node, role);
  return p >= 0 ? graph->data + graph->params[p].offset : NULL;
}

/* Ops whose samples are independent run split over the batch on the context's workers (the
 * backward of a linear layer splits its weight gradient by outputs instead); the rest (batch
 * statistics, the dropout RNG) run on the calling thread. */
static bool
splits_over_batch (const NnContext *ctx,
                   const NnNode    *node)
{
  switch (node->op)
    {
    case NN_OP_BATCHNORM:
      return !ctx->training;
    case NN_OP_DROPOUT:
      return !ctx->training || node->attrs.dropout.p == 0.0f;
    case NN_OP_INPUT:
      return false;
    case NN_OP_LINEAR:
    case NN_OP_CONV2D:
    case NN_OP_INSTANCENORM:
    case NN_OP_ACTIVATION:
    case NN_OP_MAXPOOL:
    case NN_OP_AVGPOOL:
    case NN_OP_GLOBAL_AVGPOOL:
    case NN_OP_ADD:
    case NN_OP_MUL:
    case NN_OP_CONCAT:
    case NN_OP_FLATTEN:
    case NN_OP_SOFTMAX:
      return true;
    case NN_OP_COUNT_:
    default:
      return false;
    }
}

/* Runs node i on samples [b0, b0 + nb); `w` is the worker (its own scratch). */
static void
forward_slice (NnContext *ctx,
               int        i,
               int        b0,
               int        nb,
               int        w)
{
  NnGraph *graph = ctx->graph;
  const NnNode *node = &graph->nodes[i];
  const size_t osz = nn_shape_size (node->shape);
  float *out = ctx->out[i] + (size_t) b0 * osz;
  const NnShape is = node->n_inputs > 0 ? graph->nodes[node->inputs[0]].shape : node->shape;
  const size_t isz = nn_shape_size (is);
  const float *in = node->n_inputs > 0 ? ctx->out[node->inputs[0]] + (size_t) b0 * isz : NULL;
  const size_t n = osz * (size_t) nb;
  const int B = ctx->batch;

  switch (node->op)
    {
    case NN_OP_INPUT:
      break;
    case NN_OP_CONV2D:
      {
        NnConvGeom g = conv_geom (graph, node, nb);
        nn_conv2d_forward (out, ctx->scratch + (size_t) w * ctx->scratch_size, in,
                           param_ptr (graph, i, NN_PARAM_WEIGHT),
                           param_ptr (graph, i, NN_PARAM_BIAS), &g);
        break;
      }
    case NN_OP_LINEAR:
      nn_linear_forward (out, in, param_ptr (graph, i, NN_PARAM_WEIGHT),
                         param_ptr (graph, i, NN_PARAM_BIAS), nb, (int) isz, node->shape.c);
      break;
    case NN_OP_BATCHNORM:
      {
        const NnNormAttrs *a = &node->attrs.norm;
        int pm = nn_graph_node_param (graph, i, NN_PARAM_RUNNING_MEAN);
        int pv = nn_graph_node_param (graph, i, NN_PARAM_RUNNING_VAR);
        float *rm = graph->data + graph->params[pm].offset;
        float *rv = graph->data + graph->params[pv].offset;
        int C = node->shape.c, HW = node->shape.h * node->shape.w;
        if (ctx->training)
          nn_batchnorm_forward_train (out, ctx->stats[i], ctx->stats[i] + C, rm, rv, in,
                                      param_ptr (graph, i, NN_PARAM_WEIGHT),
                                      param_ptr (graph, i, NN_PARAM_BIAS), nb, C, HW, a->eps,
                                      a->momentum);
        else
          nn_batchnorm_forward_eval (out, in, param_ptr (graph, i, NN_PARAM_WEIGHT),
                                     param_ptr (graph, i, NN_PARAM_BIAS), rm, rv, nb, C, HW,
                                     a->eps);
        break;
      }
    case NN_OP_INSTANCENORM:
      {
        int C = node->shape.c, HW = node->shape.h * node->shape.w;
        float *mean = ctx->stats[i] + (size_t) b0 * C;
        float *invstd = ctx->stats[i] + (size_t) B * C + (size_t) b0 * C;
        nn_instancenorm_forward (out, mean, invstd, in, param_ptr (graph, i, NN_PARAM_WEIGHT),
                                 param_ptr (graph, i, NN_PARAM_BIAS), nb, C, HW,
                                 node->attrs.norm.eps);
        break;
      }
    case NN_OP_ACTIVATION:
      nn_activation_forward (out, in, n, &node->attrs.act);
      break;
    case NN_OP_MAXPOOL:
      nn_maxpool_forward (out, ctx->argmax[i] + (size_t) b0 * osz, in, &node->attrs.pool, nb,
                          is.c, is.h, is.w, node->shape.h, node->shape.w);
      break;
    case NN_OP_AVGPOOL:
      nn_avgpool_forward (out, in, &node->attrs.pool, nb, is.c, is.h, is.w, node->shape.h,
                          node->shape.w);
      break;
    case NN_OP_GLOBAL_AVGPOOL:
      nn_global_avgpool_forward (out, in, nb, is.c, is.h * is.w);
      break;
    case NN_OP_ADD:
      nn_add_forward (out, in, ctx->out[node->inputs[1]] + (size_t) b0 * osz, n);
      break;
    case NN_OP_MUL:
      nn_mul_forward (out, in, ctx->out[node->inputs[1]] + (size_t) b0 * osz, n);
      break;
    case NN_OP_CONCAT:
      {
        const float *ins[NN_MAX_INPUTS];
        int channels[NN_MAX_INPUTS];
        for (int k = 0; k < node->n_inputs; k++)
          {
            const NnShape ks = graph->nodes[node->inputs[k]].shape;
            ins[k] = ctx->out[node->inputs[k]] + (size_t) b0 * nn_shape_size (ks);
            channels[k] = ks.c;
          }
        nn_concat_forward (out, ins, channels, node->n_inputs, nb,
                           node->shape.h * node->shape.w);
        break;
      }
    case NN_OP_FLATTEN:
      memcpy (out, in, sizeof (float) * n);
      break;
    case NN_OP_SOFTMAX:
      nn_softmax_forward (out, in, nb, (int) osz);
      break;
    case NN_OP_DROPOUT:
      if (ctx->training && node->attrs.dropout.p > 0.0f)
        nn_dropout_forward (out, ctx->mask[i] + (size_t) b0 * osz, in, n, node->attrs.dropout.p,
                            &ctx->rng);
      else
        memcpy (out, in, sizeof (float) * n);
      break;
    case NN_OP_COUNT_:
    default:
      NN_ASSERT (!"unknown op");
    }
}

/* Which part of the batch worker `index` of `n` takes. */
static void
batch_share (int  batch,
             int  index,
             int  n,
             int *b0,
             int *nb)
{
  int base = batch / n, extra = batch % n;
  *b0 = index * base + (index < extra ? index : extra);
  *nb = base + (index < extra ? 1 : 0);
}

typedef struct
{
  NnContext *ctx;
  int        node;
  bool       want_params;
  bool       backward;
} SliceJob;

/* Where worker w accumulates the gradient of a parameter: the context's arena for worker 0,
 * a private buffer (summed into the arena afterwards) for the others. */
static float *
param_grad_ptr (NnContext  *ctx,
                int         node,
                NnParamRole role,
                bool        want_params,
                int         w)
{
  if (!want_params || ctx->param_grads == NULL)
    return NULL;
  int p = nn_graph_node_param (ctx->graph, node, role);
  if (p < 0 || !ctx->graph->params[p].trainable)
    return NULL;
  const NnParam *param = &ctx->graph->params[p];
  if (w == 0)
    return ctx->param_grads + param->offset;
  const NnParam *first = &ctx->graph->params[ctx->graph->nodes[node].params[0]];
  return ctx->private_grads + (size_t) (w - 1) * ctx->private_size + ctx->private_at[node]
         + (param->offset - first->offset);
}

/* Batch norm in training mode shares its batch statistics over the samples, so its workers
 * split the channels instead. */
static bool
splits_over_channels (const NnContext *ctx,
                      const NnNode    *node)
{
  return node->op == NN_OP_BATCHNORM && ctx->training;
}

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
  batch_share (C, index, n, &c0, &nc);
  if (nc == 0)
    return;
  const float *in = ctx->out[node->inputs[0]];
  const float *gamma = param_ptr (graph, i, NN_PARAM_WEIGHT);
  if (!job->backward)
    {
      int pm = nn_graph_node_param (graph, i, NN_PARAM_RUNNING_MEAN);
      int pv = nn_graph_node_param (graph, i, NN_PARAM_RUNNING_VAR);
      nn_batchnorm_forward_train_channels (ctx->out[i], ctx->stats[i], ctx->stats[i] + C,
                                           graph->data + graph->params[pm].offset,
                                           graph->data + graph->params[pv].offset, in, gamma,
                                           param_ptr (graph, i, NN_PARAM_BIAS), ctx->batch, C,
                                           HW, node->attrs.norm.eps,
                                           node->attrs.norm.momentum, c0, c0 + nc);
      return;
    }
  const int i0 = node->inputs[0];
  float *din = ctx->want[i0] ? ctx->grad[i0] : NULL;
  float *dg = param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, job->want_params, 0);
  float *db = param_grad_ptr (ctx, i, NN_PARAM_BIAS, job->want_params, 0);
  if (din || dg || db)
    nn_batchnorm_backward_train_channels (din, dg, db, ctx->grad[i], in, gamma, ctx->stats[i],
                                          ctx->stats[i] + C, ctx->batch, C, HW, c0, c0 + nc);
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

/* The run of nodes that starts at `first` and goes towards `limit` by `step` (+1 forward, -1
 * backward): the nodes that split over the batch, within RUN_PARAMS parameters (a single node
 * may hold more). A linear layer runs alone: each chunk would read all its weights again.
 * Fills the job's end and chunk size; the caller checked that `first` splits. */
static void
run_plan (RunJob    *job,
          NnContext *ctx,
          int        first,
          int        limit,
          int        step)
{
  const NnGraph *graph = ctx->graph;
  size_t params = node_param_count (graph, first);
  size_t floats = nn_shape_size (graph->nodes[first].shape);
  int last = first;
  while (last != limit && graph->nodes[first].op != NN_OP_LINEAR
         && graph->nodes[last + step].op != NN_OP_LINEAR
         && splits_over_batch (ctx, &graph->nodes[last + step]))
    {
      size_t p = node_param_count (graph, last + step);
      if (params + p > RUN_PARAMS)
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
      size_t chunk = RUN_CHUNK_FLOATS / floats;
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
  batch_share (job->ctx->batch, index, n, &b0, &nb);
  for (int c = b0; c < b0 + nb; c += job->chunk)
    {
      int nc = b0 + nb - c < job->chunk ? b0 + nb - c : job->chunk;
      for (int i = job->first; i <= job->last; i++)
        forward_slice (job->ctx, i, c, nc, index);
    }
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

/* A single sample is split by channels instead: output channels (or groups) of a conv, channels
 * of per-channel ops, ranges of elementwise ones; the rest runs on the calling thread. */
static bool
splits_single_sample (const NnContext *ctx,
                      const NnNode    *node)
{
  switch (node->op)
    {
    case NN_OP_CONV2D:
    case NN_OP_MAXPOOL:
    case NN_OP_AVGPOOL:
    case NN_OP_GLOBAL_AVGPOOL:
    case NN_OP_ACTIVATION:
    case NN_OP_ADD:
    case NN_OP_MUL:
    case NN_OP_FLATTEN:
      return true;
    case NN_OP_BATCHNORM:
    case NN_OP_DROPOUT:
      return !ctx->training;
    case NN_OP_INPUT:
    case NN_OP_LINEAR:
    case NN_OP_INSTANCENORM:
    case NN_OP_CONCAT:
    case NN_OP_SOFTMAX:
    case NN_OP_COUNT_:
    default:
      return false;
    }
}

static void
single_sample_work (void *data,
                    int   index,
                    int   n)
{
  SliceJob *job = data;
  NnContext *ctx = job->ctx;
  NnGraph *graph = ctx->graph;
  const int i = job->node;
  const NnNode *node = &graph->nodes[i];
  const NnShape is = graph->nodes[node->inputs[0]].shape;
  const size_t ohw = (size_t) node->shape.h * node->shape.w, ihw = (size_t) is.h * is.w;
  const float *in = ctx->out[node->inputs[0]];
  float *out = ctx->out[i];
  int c0, nc;

  switch (node->op)
    {
    case NN_OP_CONV2D:
      {
        /* Groups are independent; without groups each worker takes a share of the output rows
         * or of the output channels (and then builds its own im2col matrix). */
        NnConvGeom g = conv_geom (graph, node, 1);
        const float *weight = param_ptr (graph, i, NN_PARAM_WEIGHT);
        const float *bias = param_ptr (graph, i, NN_PARAM_BIAS);
        const int Cg = g.C / g.G, M = g.OC / g.G;
        const size_t wsize = (size_t) Cg * g.KH * g.KW;
        if (g.G > 1)
          {
            batch_share (g.G, index, n, &c0, &nc);
            g.G = nc;
            g.C = nc * Cg;
            g.OC = nc * M;
            in += (size_t) c0 * Cg * ihw;
            weight += (size_t) c0 * M * wsize;
            bias = bias ? bias + (size_t) c0 * M : NULL;
            out += (size_t) c0 * M * ohw;
          }
        else if (nn_conv2d_splits_rows (&g, n))
          {
            nn_conv2d_forward_part (out, ctx->scratch + (size_t) index * ctx->scratch_size, in,
                                    weight, bias, &g, index, n);
            return;
          }
        else
          {
            batch_share (g.OC, index, n, &c0, &nc);
            g.OC = nc;
            weight += (size_t) c0 * wsize;
            bias = bias ? bias + c0 : NULL;
            out += (size_t) c0 * ohw;
          }
        if (nc > 0)
          nn_conv2d_forward (out, ctx->scratch + (size_t) index * ctx->scratch_size, in, weight,
                             bias, &g);
        return;
      }
    case NN_OP_BATCHNORM:
      {
        batch_share (node->shape.c, index, n, &c0, &nc);
        if (nc == 0)
          return;
        const float *gamma = param_ptr (graph, i, NN_PARAM_WEIGHT);
        const float *beta = param_ptr (graph, i, NN_PARAM_BIAS);
        nn_batchnorm_forward_eval (out + (size_t) c0 * ohw, in + (size_t) c0 * ihw,
                                   gamma ? gamma + c0 : NULL, beta ? beta + c0 : NULL,
                                   param_ptr (graph, i, NN_PARAM_RUNNING_MEAN) + c0,
                                   param_ptr (graph, i, NN_PARAM_RUNNING_VAR) + c0, 1, nc,
                                   (int) ohw, node->attrs.norm.eps);
        return;
      }
    case NN_OP_MAXPOOL:
      batch_share (node->shape.c, index, n, &c0, &nc);
      if (nc > 0)
        nn_maxpool_forward (out + (size_t) c0 * ohw, ctx->argmax[i] + (size_t) c0 * ohw,
                            in + (size_t) c0 * ihw, &node->attrs.pool, 1, nc, is.h, is.w,
                            node->shape.h, node->shape.w);
      return;
    case NN_OP_AVGPOOL:
      batch_share (node->shape.c, index, n, &c0, &nc);
      if (nc > 0)
        nn_avgpool_forward (out + (size_t) c0 * ohw, in + (size_t) c0 * ihw, &node->attrs.pool, 1,
                            nc, is.h, is.w, node->shape.h, node->shape.w);
      return;
    case NN_OP_GLOBAL_AVGPOOL:
      batch_share (node->shape.c, index, n, &c0, &nc);
      if (nc > 0)
        nn_global_avgpool_forward (out + c0, in + (size_t) c0 * ihw, 1, nc, (int) ihw);
      return;
    case NN_OP_ACTIVATION:
    case NN_OP_ADD:
    case NN_OP_MUL:
    case NN_OP_FLATTEN:
    case NN_OP_DROPOUT:
      {
        /* Ranges of whole cache lines (16 floats). */
        const size_t total = nn_shape_size (node->shape);
        int l0, nl;
        batch_share ((int) ((total + 15) / 16), index, n, &l0, &nl);
        size_t e0 = (size_t) l0 * 16, e1 = (size_t) (l0 + nl) * 16;
        if (e1 > total)
          e1 = total;
        if (e0 >= e1)
          return;
        if (node->op == NN_OP_ACTIVATION)
          nn_activation_forward (out + e0, in + e0, e1 - e0, &node->attrs.act);
        else if (node->op == NN_OP_ADD)
          nn_add_forward (out + e0, in + e0, ctx->out[node->inputs[1]] + e0, e1 - e0);
        else if (node->op == NN_OP_MUL)
          nn_mul_forward (out + e0, in + e0, ctx->out[node->inputs[1]] + e0, e1 - e0);
        else
          memcpy (out + e0, in + e0, sizeof (float) * (e1 - e0));
        return;
      }
    case NN_OP_INPUT:
    case NN_OP_LINEAR:
    case NN_OP_INSTANCENORM:
    case NN_OP_CONCAT:
    case NN_OP_SOFTMAX:
    case NN_OP_COUNT_:
    default:
      NN_ASSERT (!"op does not split within a sample");
    }
}

void
nn_context_forward (NnContext *ctx,
                    int        last)
{
  if (last < 0)
    last = ctx->graph->n_nodes - 1;
  NN_ASSERT (last < ctx->graph->n_nodes);
  if (ctx->workers)
    blas_threads (ctx, true);
  for (int i = 1; i <= last; i++)
    {
      if (ctx->workers && ctx->batch == 1)
        {
          SliceJob job = { ctx, i, false, false };
          if (splits_single_sample (ctx, &ctx->graph->nodes[i]))
            nn_workers_run (ctx->workers, single_sample_work, &job);
          else
            forward_slice (ctx, i, 0, 1, 0);
        }
      else if (ctx->workers && splits_over_batch (ctx, &ctx->graph->nodes[i]))
        {
          RunJob job = { 0 };
          run_plan (&job, ctx, i, last, 1);
          nn_workers_run (ctx->workers, forward_run_work, &job);
          i = job.last;
        }
      else if (ctx->workers && splits_over_channels (ctx, &ctx->graph->nodes[i]))
        {
          SliceJob job = { ctx, i, false, false };
          nn_workers_run (ctx->workers, batchnorm_train_work, &job);
        }
      else
        forward_slice (ctx, i, 0, ctx->batch, 0);
    }
  if (ctx->workers)
    blas_threads (ctx, false);
}

static bool
has_trainable (const NnGraph *graph,
               int            node)
{
  const NnNode *n = &graph->nodes[node];
  for (int k = 0; k < n->n_params; k++)
    if (graph->params[n->params[k]].trainable)
      return true;
  return false;
}

/* Zeroes, for samples [b0, b0 + nb), the gradients of node i's inputs whose first writer it is. */
static void
zero_input_grads (NnContext *ctx,
                  int        i,
                  int        b0,
                  int        nb)
{
  const NnNode *node = &ctx->graph->nodes[i];
  for (int k = 0; k < node->n_inputs; k++)
    {
      int j = node->inputs[k];
      if (ctx->zero_by[j] != i)
        continue;
      size_t size = nn_shape_size (ctx->graph->nodes[j].shape);
      memset (ctx->grad[j] + (size_t) b0 * size, 0, sizeof (float) * size * (size_t) nb);
    }
}

/* Backward of node i for samples [b0, b0 + nb), by worker w. */
static void
backward_slice (NnContext *ctx,
                int        i,
                int        b0,
                int        nb,
                int        w,
                bool       want_params)
{
  NnGraph *graph = ctx->graph;
  const NnNode *node = &graph->nodes[i];
  const size_t osz = nn_shape_size (node->shape);
  const float *dout = ctx->grad[i] + (size_t) b0 * osz;
  const float *out = ctx->out[i] + (size_t) b0 * osz;
  const int i0 = node->n_inputs > 0 ? node->inputs[0] : 0;
  const NnShape is = node->n_inputs > 0 ? graph->nodes[i0].shape : node->shape;
  const size_t isz = nn_shape_size (is);
  float *din = node->n_inputs > 0 && ctx->want[i0] ? ctx->grad[i0] + (size_t) b0 * isz : NULL;
  const float *in = node->n_inputs > 0 ? ctx->out[i0] + (size_t) b0 * isz : NULL;
  const size_t n = osz * (size_t) nb;
  const int B = ctx->batch;

  zero_input_grads (ctx, i, b0, nb);
  switch (node->op)
    {
    case NN_OP_INPUT:
      break;
    case NN_OP_CONV2D:
      {
        NnConvGeom g = conv_geom (graph, node, nb);
        float *dw = param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, want_params, w);
        float *db = param_grad_ptr (ctx, i, NN_PARAM_BIAS, want_params, w);
        if (din || dw || db)
          nn_conv2d_backward (din, dw, db, ctx->scratch + (size_t) w * ctx->scratch_size, dout,
                              in, param_ptr (graph, i, NN_PARAM_WEIGHT), &g);
        break;
      }
    case NN_OP_LINEAR:
      {
        float *dw = param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, want_params, w);
        float *db = param_grad_ptr (ctx, i, NN_PARAM_BIAS, want_params, w);
        if (din || dw || db)
          nn_linear_backward (din, dw, db, dout, in, param_ptr (graph, i, NN_PARAM_WEIGHT), nb,
                              (int) isz, node->shape.c);
        break;
      }
    case NN_OP_BATCHNORM:
      {
        const NnNormAttrs *a = &node->attrs.norm;
        int C = node->shape.c, HW = node->shape.h * node->shape.w;
        float *dg = param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, want_params, w);
        float *db = param_grad_ptr (ctx, i, NN_PARAM_BIAS, want_params, w);
        const float *gamma = param_ptr (graph, i, NN_PARAM_WEIGHT);
        if (!(din || dg || db))
          break;
        if (ctx->training)
          nn_batchnorm_backward_train (din, dg, db, dout, in, gamma, ctx->stats[i],
                                       ctx->stats[i] + C, nb, C, HW);
        else
          nn_batchnorm_backward_eval (din, dg, db, dout, in, gamma,
                                      param_ptr (graph, i, NN_PARAM_RUNNING_MEAN),
                                      param_ptr (graph, i, NN_PARAM_RUNNING_VAR), nb, C, HW,
                                      a->eps);
        break;
      }
    case NN_OP_INSTANCENORM:
      {
        int C = node->shape.c, HW = node->shape.h * node->shape.w;
        float *dg = param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, want_params, w);
        float *db = param_grad_ptr (ctx, i, NN_PARAM_BIAS, want_params, w);
        if (din || dg || db)
          nn_instancenorm_backward (din, dg, db, dout, in, param_ptr (graph, i, NN_PARAM_WEIGHT),
                                    ctx->stats[i] + (size_t) b0 * C,
                                    ctx->stats[i] + (size_t) B * C + (size_t) b0 * C, nb, C, HW);
        break;
      }
    case NN_OP_ACTIVATION:
      if (din)
        {
          const NnActAttrs *a = &node->attrs.act;
          const NnGradPolicy *policy = ctx->has_override && a->kind == NN_ACT_RELU
                                       ? &ctx->policy_override : &a->policy;
          nn_activation_backward (din, dout, in, out, n, a, policy);
        }
      break;
    case NN_OP_MAXPOOL:
      if (din)
        nn_maxpool_backward (din, dout, ctx->argmax[i] + (size_t) b0 * osz, nb, is.c, is.h,
                             is.w, node->shape.h, node->shape.w);
      break;
    case NN_OP_AVGPOOL:
      if (din)
        nn_avgpool_backward (din, dout, &node->attrs.pool, nb, is.c, is.h, is.w, node->shape.h,
                             node->shape.w);
      break;
    case NN_OP_GLOBAL_AVGPOOL:
      if (din)
        nn_global_avgpool_backward (din, dout, nb, is.c, is.h * is.w);
      break;
    case NN_OP_ADD:
      {
        int i1 = node->inputs[1];
        nn_add_backward (din, ctx->want[i1] ? ctx->grad[i1] + (size_t) b0 * osz : NULL, dout, n);
        break;
      }
    case NN_OP_MUL:
      {
        int i1 = node->inputs[1];
        nn_mul_backward (din, ctx->want[i1] ? ctx->grad[i1] + (size_t) b0 * osz : NULL, dout, in,
                         ctx->out[i1] + (size_t) b0 * osz, n);
        break;
      }
    case NN_OP_CONCAT:
      {
        float *dins[NN_MAX_INPUTS];
        int channels[NN_MAX_INPUTS];
        for (int k = 0; k < node->n_inputs; k++)
          {
            int j = node->inputs[k];
            size_t ksz = nn_shape_size (graph->nodes[j].shape);
            dins[k] = ctx->want[j] ? ctx->grad[j] + (size_t) b0 * ksz : NULL;
            channels[k] = graph->nodes[j].shape.c;
          }
        nn_concat_backward (dins, dout, channels, node->n_inputs, nb,
                            node->shape.h * node->shape.w);
        break;
      }
    case NN_OP_FLATTEN:
      if (din)
        nn_add_backward (din, NULL, dout, n);
      break;
    case NN_OP_SOFTMAX:
      if (din)
        nn_softmax_backward (din, dout, out, nb, (int) osz);
      break;
    case NN_OP_DROPOUT:
      if (din)
        {
          if (ctx->training && node->attrs.dropout.p > 0.0f)
            nn_dropout_backward (din, dout, ctx->mask[i] + (size_t) b0 * osz, n,
                                 node->attrs.dropout.p);
          else
            nn_add_backward (din, NULL, dout, n);
        }
      break;
    case NN_OP_COUNT_:
    default:
      NN_ASSERT (!"unknown op");
    }
}

static void
backward_run_work (void *data,
                   int   index,
                   int   n)
{
  RunJob *job = data;
  NnContext *ctx = job->ctx;
  int b0, nb;
  batch_share (ctx->batch, index, n, &b0, &nb);
  if (index > 0 && job->n_private > 0)
    memset (ctx->private_grads + (size_t) (index - 1) * ctx->private_size, 0,
            sizeof (float) * job->n_private);
  for (int c = b0; c < b0 + nb; c += job->chunk)
    {
      int nc = b0 + nb - c < job->chunk ? b0 + nb - c : job->chunk;
      for (int i = job->first; i >= job->last; i--)
        if (ctx->want[i] && i != job->stop)
          backward_slice (ctx, i, c, nc, index, job->want_params);
    }
}

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

/* The backward of a linear layer on the workers: the input gradient split over the batch, the
 * parameter gradients over the outputs, so that no worker needs a private copy. */
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
  batch_share (B, index, n, &b0, &nb);
  zero_input_grads (ctx, i, b0, nb);
  if (ctx->want[i0] && nb > 0)
    nn_linear_backward (ctx->grad[i0] + (size_t) b0 * IN, NULL, NULL,
                        ctx->grad[i] + (size_t) b0 * OUT, ctx->out[i0] + (size_t) b0 * IN,
                        param_ptr (graph, i, NN_PARAM_WEIGHT), nb, IN, OUT);
  batch_share (OUT, index, n, &o0, &no);
  float *dw = param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, job->want_params, 0);
  float *db = param_grad_ptr (ctx, i, NN_PARAM_BIAS, job->want_params, 0);
  if (dw || db)
    nn_linear_backward_params (dw, db, ctx->grad[i], ctx->out[i0], B, IN, OUT, o0, o0 + no);
}

/* The backward of the run of nodes from `first` downwards on the workers; each worker's
 * parameter gradients go to its private slice (the run's nodes one after another) and are
 * added into the arena afterwards. Returns the run's last node. */
static int
backward_run (NnContext *ctx,
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
        job.n_private += node_param_count (ctx->graph, i);
      }
  nn_workers_run (ctx->workers, backward_run_work, &job);
  if (job.want_params)
    for (int i = first; i >= job.last; i--)
      if (ctx->want[i] && i != stop && has_trainable (ctx->graph, i))
        reduce_param_grads (ctx, i);
  return job.last;
}

static void
backward_node (NnContext *ctx,
               int        i,
               bool       want_params)
{
  const NnNode *node = &ctx->graph->nodes[i];
  NnWorkers *workers = ctx->batch > 1 ? ctx->workers : NULL;
  if (workers && splits_over_channels (ctx, node))
    {
      SliceJob job = { ctx, i, want_params, true };
      zero_input_grads (ctx, i, 0, ctx->batch);
      nn_workers_run (workers, batchnorm_train_work, &job);
    }
  else if (workers && node->op == NN_OP_LINEAR)
    {
      SliceJob job = { ctx, i, want_params, true };
      nn_workers_run (workers, linear_backward_work, &job);
    }
  else
    backward_slice (ctx, i, 0, ctx->batch, 0, want_params);
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
              || (want_params && has_trainable (graph, i));
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

  /* A single sample goes backward on the calling thread, with OpenBLAS' threads. */
  NnWorkers *workers = ctx->batch > 1 ? ctx->workers : NULL;
  if (workers)
    blas_threads (ctx, true);
  for (int i = seed; i > 0; i--)
    {
      if (!ctx->want[i] || i == stop)
        continue;
      if (workers && splits_over_batch (ctx, &graph->nodes[i])
          && graph->nodes[i].op != NN_OP_LINEAR)
        i = backward_run (ctx, i, stop, want_params);
      else
        backward_node (ctx, i, want_params);
    }
  if (ctx->workers)
    blas_threads (ctx, false);
}
