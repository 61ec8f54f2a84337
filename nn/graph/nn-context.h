/* SPDX-License-Identifier: MIT */
/* An execution context: activations, gradients and scratch of one graph for one batch size,
 * owned by one thread. Everything is allocated here, once; forward and backward allocate
 * nothing. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "graph/nn-graph.h"

typedef enum
{
  NN_CONTEXT_BACKWARD    = 1 << 0,  /* keep gradient buffers for every node's output */
  NN_CONTEXT_PARAM_GRADS = 1 << 1,  /* keep a parameter-gradient arena (training) */
  NN_CONTEXT_NO_WINOGRAD = 1 << 2,  /* 3x3 convs through im2col only (to measure or compare) */
  /* Without NN_CONTEXT_BACKWARD, a conv read only by an eval-mode batch norm (and that by a
   * ReLU) runs folded: the norm in its weights and bias, the ReLU on its output, whose result
   * lands in the last node's output; the conv's and the norm's own outputs are then not
   * written (see nn_context_keep). This flag turns folding off. */
  NN_CONTEXT_NO_FOLD     = 1 << 3,
} NnContextFlags;

typedef enum
{
  NN_BACKWARD_PARAMS = 1 << 0,  /* accumulate gradients of trainable parameters */
  NN_BACKWARD_INPUT  = 1 << 1,  /* fill the gradient of the input node */
} NnBackwardFlags;

typedef struct NnContext NnContext;

/* The graph is borrowed and must outlive the context; its structure must not change. */
NnContext *nn_context_new (NnGraph  *graph,
                           int       batch,
                           unsigned  flags,
                           NnError  *err);
void       nn_context_free (NnContext *ctx);

NnGraph   *nn_context_get_graph (const NnContext *ctx);
int        nn_context_get_batch (const NnContext *ctx);

/* Spreads the samples of each batch over `threads` threads (<= 0: as many as OpenBLAS uses),
 * for the ops whose samples are independent; OpenBLAS then runs single-threaded inside them.
 * A batch of one stays on the calling thread. The default is 1. */
bool       nn_context_set_threads (NnContext *ctx,
                                   int        threads,
                                   NnError   *err);
/* The threads the context spreads its batches over (1 without workers). */
int        nn_context_get_threads (const NnContext *ctx);
/* Training mode: batch norm uses batch statistics (and updates the running ones) except where
 * its weight and bias are both frozen, dropout is active. Off by default (eval). */
void       nn_context_set_training (NnContext *ctx,
                                    bool       training);
void       nn_context_set_seed (NnContext *ctx,
                                uint64_t   seed);
/* Overrides the gradient policy of every ReLU-family node for the following backward passes,
 * without touching the model; NULL restores the model's own policies. A proxygrad-full
 * override also makes the following forward passes those of the proxy network (every
 * ReLU-family node with slope beta); any other override leaves the forward pass alone. */
void       nn_context_set_policy_override (NnContext          *ctx,
                                           const NnGradPolicy *policy);

/* A replacement for the backward pass of some nodes (attribution rules such as LRP's and
 * DeepLIFT's, docs/architecture.md "Backward rules"): called for every node the backward pass
 * visits, after the gradients of the node's inputs that it writes first are zeroed. It either
 * accumulates into those gradients (nn_context_grad of the inputs, whole batch) and returns
 * true, or returns false and the node runs its own backward. While a rule is set, the backward
 * pass runs on the calling thread. */
typedef bool (*NnBackwardRule) (NnContext *ctx,
                                int        node,
                                void      *user_data);

/* Sets the rule for the following backward passes; NULL removes it. */
void       nn_context_set_backward_rule (NnContext      *ctx,
                                         NnBackwardRule  rule,
                                         void           *user_data);

/* The input buffer (B, C, H, W) of node 0, to be filled by the caller. */
float     *nn_context_input (NnContext *ctx);
/* Runs nodes 1 .. last (last = -1: the whole graph). */
void       nn_context_forward (NnContext *ctx,
                               int        last);
/* Runs nodes first .. last only (first >= 1), reading the outputs of the nodes before `first`
 * as they are: a changed activation (AblationCAM) propagates to the logits (keep that node with
 * nn_context_keep, so that folding writes it). */
void       nn_context_forward_from (NnContext *ctx,
                                    int        first,
                                    int        last);
/* Asks that forward passes write node's output even where folding would leave it out (a layer
 * whose activations are read after a pass that goes past it). */
void       nn_context_keep (NnContext *ctx,
                            int        node);
/* Output (B, C, H, W) of a node after a forward pass; not for a node the last pass folded away
 * (NN_CONTEXT_NO_FOLD, nn_context_keep). */
float     *nn_context_output (NnContext *ctx,
                              int        node);
/* Gradient buffer of a node's output; NULL without NN_CONTEXT_BACKWARD. */
float     *nn_context_grad (NnContext *ctx,
                            int        node);
/* Parameter gradients, parallel to graph->data; NULL without NN_CONTEXT_PARAM_GRADS. */
float     *nn_context_param_grads (NnContext *ctx);
void       nn_context_zero_param_grads (NnContext *ctx);

/* Backward pass seeded by the gradient the caller wrote into nn_context_grad (ctx, seed).
 * Computes only what `what` asks for and what it needs; with stop >= 0 the pass goes no
 * further down than node `stop`, whose gradient is then filled (Grad-CAM). Parameter
 * gradients accumulate; node gradients are recomputed from zero. */
void       nn_context_backward (NnContext *ctx,
                                int        seed,
                                unsigned   what,
                                int        stop);
