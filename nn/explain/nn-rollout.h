/* SPDX-License-Identifier: MIT */
/* Attention rollout (Abnar and Zuidema 2020) of a vision transformer: the attention of the
 * class token to the patch tokens, carried through every block. */
#pragma once

#include "explain/nn-explain.h"

/* The attention maps of the graph: its softmax_axis nodes over the last axis of a (heads, N,
 * N) or (N, N) output, in graph order. Writes at most `cap` node indices to nodes and returns
 * how many there are (0: the model has no attention). */
int    nn_rollout_attention_nodes (const NnGraph *graph,
                                   int           *nodes,
                                   int            cap);

/* The attention maps of graph, checked for an attention method named `name` (in the errors):
 * their nodes in graph order (malloc'd, *n_att of them), all over the same *tokens tokens, of
 * which *skip (1 with a class token, else 0) precede a *grid x *grid grid of patches. NULL with
 * err when the model has no attention ("no attention maps: NAME applies to vision
 * transformers"), its maps differ in size, their tokens form no square grid or out of memory. */
int   *nn_rollout_attention_grid (const NnGraph *graph,
                                  const char    *name,
                                  int           *n_att,
                                  int           *tokens,
                                  int           *skip,
                                  int           *grid,
                                  NnError       *err);
/* layer_map (g, g) = the class token's row of R (N, N) over the patch tokens (skip = 1), or
 * the mean of all rows when there is no class token (skip = 0). */
void   nn_rollout_read_row       (float       *layer_map,
                                  const float *R,
                                  int          N,
                                  int          skip,
                                  int          g);

/* The rollout of input (C, H, W) on ctx, which the calling thread owns (no gradients needed):
 * each block's attention averaged over heads, plus the identity (the residual), rows
 * renormalised to sum to 1, multiplied through the blocks from the first; the class token's
 * row over the patch tokens (the mean of all rows when there is no class token) on their
 * g x g grid (N - 1 or N = g * g), upsampled to the input. m->layer is the last attention
 * node; the map is class-agnostic (m->target is the top prediction). NULL with err when the
 * model has no attention ("no attention maps: rollout applies to vision transformers"), its
 * attention maps differ in size or their tokens form no square grid, on a NaN input or when
 * out of memory. The registry's row (nn-method.h) calls it as nn_rollout. */
NnMap *nn_rollout_compute (NnContext   *ctx,
                           const float *input,
                           NnError     *err);
