/* SPDX-License-Identifier: MIT */
/* What the attribution methods (nn-cam, nn-saliency, nn-faithfulness) share: the map they
 * produce, the class and layer they explain, and how a worker thread drives them. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "graph/nn-context.h"

/* nn_explain_batch_size: the activations one thread's share of a batch may take, and the most
 * inputs it takes per pass. */
#define NN_EXPLAIN_BATCH_BYTES ((size_t) 8 << 20)
#define NN_EXPLAIN_BATCH_MAX   32

/* Called on the calling (worker) thread after each pass: `done` of `total` passes. */
typedef void (*NnExplainProgress) (int   done,
                                   int   total,
                                   void *user_data);

/* How a worker thread drives a long method (nn_explain_run, which drives several, takes an
 * NnExplainRunControl). Every field may be NULL. */
typedef struct
{
  const atomic_int  *cancel;     /* polled before every pass; non-zero stops the method, which
                                    then fails with NN_ERROR_CANCELLED */
  NnExplainProgress  progress;
  void              *user_data;
} NnExplainControl;

/* An attribution map: an immutable value once computed, owned by the caller. */
typedef struct
{
  int    target;     /* the class explained */
  float  score;      /* its logit for the unchanged input */
  int    layer;      /* node the map was computed at (0: the input) */
  int    lh, lw;     /* the map at that layer's resolution ... */
  float *layer_map;  /* lh * lw values, before any final ReLU */
  int    h, w;       /* ... and at the input's, upsampled bilinearly */
  float *map;        /* h * w values */
  int    c;          /* channels of `channels` (0: none) */
  float *channels;   /* (c, h, w) attribution per input channel (saliency), or NULL */
  bool   is_signed;  /* the map may hold negative values */
  int    classes;    /* values in `logits` (0: none) */
  float *logits;     /* the class logits of the unchanged input, from the forward pass that
                        resolved the target (so the top predictions need no pass of their own),
                        or NULL */
} NnMap;

/* A zeroed map with its buffers; c = 0 gives no `channels`. NULL when out of memory. */
NnMap *nn_map_new (int lh,
                   int lw,
                   int h,
                   int w,
                   int c);
void   nn_map_free (NnMap *map);
/* A deep copy; NULL when out of memory. */
NnMap *nn_map_dup (const NnMap *map);
/* Copies the logits of sample 0 of ctx's last forward pass into map->logits. False when out of
 * memory. */
bool   nn_map_copy_logits (NnMap     *map,
                           NnContext *ctx);

/* The node whose output are the class logits: the graph's output, or the input of a final
 * softmax. */
int    nn_explain_logit_node (const NnGraph *graph);
/* The side g >= 2 of the patch grid of n tokens: n - 1 = g * g (a class token first,
 * *skip = 1) or else n = g * g (*skip = 0); 0 when neither is such a square (one token, as
 * the class token alone, is no grid). */
int    nn_explain_token_grid (int  n,
                              int *skip);
/* Whether `layer` feeds the logits (false when out of memory). */
bool   nn_explain_feeds_logits (const NnGraph *graph,
                                int            layer);
/* The default layer of the CAMs, or -1. On a model with attention maps (nn-rollout.h): the
 * last token layer (N, E) with a square grid of patch tokens (nn_explain_token_grid) that every
 * path from the input to the last attention map goes through (ViT's last block's first layer
 * norm: after the last attention the patch tokens no longer reach the class token). Otherwise,
 * or when there is none: the last node that feeds the logits and that a CAM can see as a map
 * (H * W > 1, and a token layer only with a square grid: not the class token alone). */
int    nn_explain_default_layer (const NnGraph *graph);
/* Checks that `layer` exists, has spatial extent and feeds the logits; the error names the
 * layer and its shape. */
bool   nn_explain_check_layer (const NnGraph *graph,
                               int            layer,
                               NnError       *err);
/* Checks 0 <= target < classes (target -1, "the top prediction", passes). */
bool   nn_explain_check_class (const NnGraph *graph,
                               int            target,
                               NnError       *err);
/* The class with the largest of n logits (the first on ties). */
int    nn_explain_argmax (const float *logits,
                          int          n);
/* probs = the class probabilities of one row of the graph's output (nn_graph_output, n
 * values): the row itself when the graph ends in a softmax, otherwise its softmax. */
void   nn_explain_probabilities (float         *probs,
                                 const float   *output,
                                 const NnGraph *graph);
/* order[0 .. k) = the indices of the k largest of n values (logits or probabilities), largest
 * first, ties in index order, NaN last. 0 <= k <= n. */
void   nn_explain_top_k (int         *order,
                         const float *values,
                         int          n,
                         int          k);

/* out (H, W) = bilinear resampling of in (h, w), pixel centres aligned (PyTorch's
 * align_corners=False, clamped at the borders). */
void   nn_explain_upsample (float       *out,
                            const float *in,
                            int          h,
                            int          w,
                            int          H,
                            int          W);

/* Softmax probability of class k among n logits (computed stably). */
float  nn_explain_softmax_at (const float *logits,
                              int          n,
                              int          k);

/* Writes input (C, H, W) into sample 0 of ctx (the other samples are zeroed), switches the
 * context to eval mode and runs the forward pass up to the logits. Resolves *target (-1: the
 * top prediction; otherwise checked) and gives its logit in *score (may be NULL). */
bool   nn_explain_prepare (NnContext   *ctx,
                           const float *input,
                           int         *target,
                           float       *score,
                           NnError     *err);

/* The bytes of one input's activations in a context of graph: every node's output, and its
 * gradient too when context_flags has NN_CONTEXT_BACKWARD. */
size_t nn_explain_sample_bytes (const NnGraph *graph,
                                unsigned       context_flags);
/* How many inputs a batched method or metric should evaluate per pass on `threads` threads
 * (<= 0: as many as OpenBLAS uses) when `inputs` are to be evaluated in all (<= 0: unknown):
 * a multiple of the threads whose per-thread share of activations
 * (nn_explain_sample_bytes) fits NN_EXPLAIN_BATCH_BYTES, at least one and at most
 * NN_EXPLAIN_BATCH_MAX inputs per thread, and no more than `inputs` (the rule and its
 * measurements: nn-explain.c). */
int    nn_explain_batch_size (const NnGraph *graph,
                              unsigned       context_flags,
                              int            threads,
                              int            inputs);

/* True (with err set to NN_ERROR_CANCELLED) when control's flag is set. */
bool   nn_explain_cancelled (const NnExplainControl *control,
                             NnError                *err);
void   nn_explain_report (const NnExplainControl *control,
                          int                     done,
                          int                     total);
