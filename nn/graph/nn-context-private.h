/* SPDX-License-Identifier: MIT */
/* Shared by the parts of NnContext, each calling only the ones listed before it here: what the
 * context knows about one node (nn-context-node.c), the plan of its memory (nn-context-plan.c),
 * one op's forward and backward over a range of samples (nn-context-forward.c,
 * nn-context-backward.c), the jobs that run on the workers (nn-context-workers.c), and the type
 * with its public entry points (nn-context.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/nn-context.h"
#include "ops/nn-broadcast.h"
#include "ops/nn-conv2d.h"
#include "ops/nn-reduce.h"
#include "graph/nn-graph.h"
#include "core/nn-rng.h"
#include "core/nn-workers.h"

struct NnContext
{
  NnGraph     *graph;
  int          batch;
  unsigned     flags;
  bool         training;
  bool         has_override;
  NnGradPolicy policy_override;
  NnBackwardRule rule;       /* nn_context_set_backward_rule, or NULL */
  void        *rule_data;
  NnRng        rng;

  void        *block;     /* everything below up to param_grads (nn-context-plan.c) */
  float      **out;       /* per node, B * size floats */
  float      **grad;      /* per node, or NULL */
  float      **stats;     /* batch/instance norm: saved mean then invstd */
  int32_t    **argmax;    /* max pooling */
  uint8_t    **mask;      /* dropout */
  float       *scratch;       /* worker 0's scratch_size floats */
  size_t       scratch_size;  /* a multiple of 16 */
  float       *param_grads;
  void        *worker_block;  /* worker_scratch */
  float       *worker_scratch; /* (n_workers - 1) slices of scratch_size floats */
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
  /* The graph's packings (nn-packs.h) this context runs with, looked up before a pass when the
   * graph's version changed. */
  uint8_t     *pack_use;  /* per node: the NnPackKinds it uses, one bit each */
  const float **wino_fwd; /* per node: a conv's Winograd packing for the forward pass, or NULL */
  const float **wino_bwd; /* ... for its input gradient, or NULL */
  uint64_t     packed_version; /* the graph's version the pointers were looked up at */
  /* Inference folding (nn-context-fold.c), planned without NN_CONTEXT_BACKWARD and
   * NN_CONTEXT_NO_FOLD: per conv node, the node whose output it writes when folded (its batch
   * norm, or the ReLU after it), else 0; its folded weights and bias (in the graph's
   * packings), else NULL. */
  bool         has_folds;
  int         *fold_tail;
  const float **fold_weight;
  const float **fold_bias;
  uint8_t     *keep;           /* per node: computed even where folding would leave it out */
  uint8_t     *fold_skip;      /* per node: this pass does not run it (a folded conv did) */
  uint8_t     *fold_unwritten; /* per node: this pass does not write its output */
};

/* What conv node i runs with in the current pass. */
typedef struct
{
  const float      *weight, *bias;
  const float      *packed;      /* its Winograd forward packing, or NULL */
  float            *out;         /* its output, or its batch norm's or ReLU's when folded */
  const NnActAttrs *act;         /* applied in place after it, or NULL */
  bool              no_winograd; /* im2col only */
} NnConvRun;

/* A run of consecutive nodes that split over the batch goes through the workers in chunks of
 * samples, each chunk through all of the run's nodes: their outputs and gradients then stay in
 * the worker's cache. A run holds at most NN_CONTEXT_RUN_PARAMS parameters (its private
 * gradients and the weights each chunk reads again); a chunk's activations take about
 * NN_CONTEXT_RUN_CHUNK_FLOATS. */
#define NN_CONTEXT_RUN_PARAMS       ((size_t) 1 << 18)
#define NN_CONTEXT_RUN_CHUNK_FLOATS ((size_t) 1 << 16)

/* Every buffer of a context starts on a 64-byte line (SIMD loads, no false sharing between the
 * workers' slices). */
#define NN_CONTEXT_ALIGN 64

/* nn-context-node.c: what the context knows about one node. */

/* All parameters of a node, trainable or not. */
size_t       nn_context_node_param_count (const NnGraph *graph,
                                          int            i);
bool         nn_context_node_has_trainable (const NnGraph *graph,
                                            int            node);
/* The geometry of conv node `node` of ctx's graph for `batch` samples, with the context's
 * choice of paths (NN_CONTEXT_NO_WINOGRAD). */
NnConvGeom   nn_context_conv_geom (const NnContext *ctx,
                                   const NnNode    *node,
                                   int              batch);
/* Whether the input gradient of a conv of geometry g runs through Winograd in ctx (on the
 * packing the context reserved): with NN_CONTEXT_BACKWARD, where it pays; with
 * NN_CONTEXT_PARAM_GRADS (training), where it pays beside the weight gradient. */
bool         nn_context_winograd_backward (const NnContext  *ctx,
                                           const NnConvGeom *g);
/* The broadcast geometry of a broadcast_* node and its op as a kind. */
NnBroadcastGeom nn_context_broadcast_geom (const NnGraph *graph,
                                           const NnNode  *node);
NnBinaryKind nn_context_binary_kind (NnOp op);
/* A matmul node per sample: `stack` products of (M, K) by (K, N); its second input holds bsz
 * values per sample. */
typedef struct
{
  size_t stack;
  int    M, K, N;
  size_t bsz;
} NnMatmulGeom;

NnMatmulGeom nn_context_matmul_geom (const NnGraph *graph,
                                     const NnNode  *node);
/* The geometry of a reduce_* node and its op as a kind. */
NnReduceGeom nn_context_reduce_geom (const NnGraph *graph,
                                     const NnNode  *node);
NnReduceKind nn_context_reduce_kind (NnOp op);
/* The node's parameter with the given role in graph->data, or NULL. */
const float *nn_context_param_ptr (const NnGraph *graph,
                                   int            node,
                                   NnParamRole    role);
/* Where worker w accumulates the gradient of a parameter: the context's arena for worker 0,
 * a private buffer (summed into the arena afterwards) for the others; NULL when the parameter
 * gradient is not wanted or the parameter is frozen. */
float       *nn_context_param_grad_ptr (NnContext  *ctx,
                                        int         node,
                                        NnParamRole role,
                                        bool        want_params,
                                        int         w);
/* The scratch of worker w (ctx->scratch_size floats). */
float       *nn_context_scratch (NnContext *ctx,
                                 int        w);
/* The attributes an activation node's forward pass uses: its own, or under a proxygrad-full
 * override those of the proxy (slope beta), written into *proxy. */
const NnActAttrs *nn_context_act_attrs (const NnContext *ctx,
                                        const NnNode    *node,
                                        NnActAttrs      *proxy);
/* Which part of the batch worker `index` of `n` takes. */
void         nn_context_batch_share (int  batch,
                                     int  index,
                                     int  n,
                                     int *b0,
                                     int *nb);
/* Whether batch norm `node` normalizes with the batch's statistics (and updates its running
 * ones): in training mode, unless its weight and bias are both frozen; a frozen layer of a
 * fine-tuned network keeps the statistics it was trained with, as in inference. */
bool         nn_context_batch_stats (const NnContext *ctx,
                                     const NnNode    *node);
/* How a node runs on the workers, from the op table and the mode (training or not): split over
 * the batch (the backward of a linear layer splits its weight gradient by outputs instead)... */
bool         nn_context_splits_over_batch (const NnContext *ctx,
                                           const NnNode    *node);
/* ... over channels (batch norm in training mode shares its batch statistics over the
 * samples) ... */
bool         nn_context_splits_over_channels (const NnContext *ctx,
                                              const NnNode    *node);
/* ... or, for a single sample, within it: output channels (or groups) of a conv, channels of
 * per-channel ops, ranges of elementwise ones. The rest runs on the calling thread. */
bool         nn_context_splits_single_sample (const NnContext *ctx,
                                              const NnNode    *node);
/* Zeroes, for samples [b0, b0 + nb), the gradients of node i's inputs whose first writer it is. */
void         nn_context_zero_input_grads (NnContext *ctx,
                                          int        i,
                                          int        b0,
                                          int        nb);

/* nn-context-plan.c: the context's memory in one block. */

/* `bytes` of zeroed memory aligned to NN_CONTEXT_ALIGN; *raw is what to free. NULL when out of
 * memory. */
void        *nn_context_alloc_aligned (size_t  bytes,
                                       void  **raw);
/* The floats of one worker's scratch for ctx's graph, batch and flags (a multiple of 16). */
size_t       nn_context_scratch_floats (const NnContext *ctx);
/* Lays out every buffer of ctx (graph, batch, flags and scratch_size set), allocates one block
 * and points the context's buffers into it; false when out of memory. */
bool         nn_context_plan (NnContext *ctx);
/* Points the context at the graph's packings (folded weights, Winograd kernels), which are
 * built again when the graph's version is not the one they were made at
 * (nn_graph_bump_version); called before each forward and backward pass. */
void         nn_context_conv_pack (NnContext *ctx);

/* nn-context-fold.c: inference folding. The node a conv's group ends with (0: none). */
int          nn_context_fold_tail (const NnContext *ctx,
                                   int              i);
/* Which groups fold in a forward pass to node `last`: not in training mode, nor under a
 * policy override, nor where a kept node would be left out, nor where the group ends after
 * `last`. */
void         nn_context_fold_begin (NnContext *ctx,
                                    int        last);
NnConvRun    nn_context_conv_run (const NnContext *ctx,
                                  int              i);

/* nn-context-forward.c: one op's forward pass. */

/* Runs node i on samples [b0, b0 + nb); `w` is the worker (its own scratch). */
void         nn_context_forward_slice (NnContext *ctx,
                                       int        i,
                                       int        b0,
                                       int        nb,
                                       int        w);
/* Runs node i of a batch of one on the workers, split within the sample; the node must split
 * (nn_context_splits_single_sample). */
void         nn_context_forward_single_sample (NnContext *ctx,
                                               int        i);

/* nn-context-backward.c: one op's backward pass. */

/* Backward of node i for samples [b0, b0 + nb), by worker w. */
void         nn_context_backward_slice (NnContext *ctx,
                                        int        i,
                                        int        b0,
                                        int        nb,
                                        int        w,
                                        bool       want_params);

/* nn-context-workers.c: jobs spread over the workers. */

/* The forward of the run of nodes from `first` up to at most `last` on the workers, split over
 * the batch; `first` must split (nn_context_splits_over_batch). Returns the run's last node. */
int          nn_context_forward_run (NnContext *ctx,
                                     int        first,
                                     int        last);
/* The backward of the run of nodes from `first` downwards on the workers; each worker's
 * parameter gradients go to its private slice (the run's nodes one after another) and are
 * added into the arena afterwards. Returns the run's last node. */
int          nn_context_backward_run (NnContext *ctx,
                                      int        first,
                                      int        stop,
                                      bool       want_params);
/* Batch norm node i in training mode on the workers, split over its channels
 * (nn_context_splits_over_channels). */
void         nn_context_batchnorm_train_split (NnContext *ctx,
                                               int        i,
                                               bool       backward,
                                               bool       want_params);
/* The backward of linear node i on the workers: the input gradient split over the batch, the
 * parameter gradients over the outputs, so that no worker needs a private copy. */
void         nn_context_linear_backward_split (NnContext *ctx,
                                               int        i,
                                               bool       want_params);
/* Whether the backward of node i, for a batch of one, is a convolution's input gradient alone
 * that the workers can split by input channels (activation maximization, saliency). */
bool         nn_context_conv_input_splits (const NnContext *ctx,
                                           int              i,
                                           bool             want_params);
/* That backward on the workers (nn_context_conv_input_splits). */
void         nn_context_conv_backward_input_split (NnContext *ctx,
                                                   int        i);
