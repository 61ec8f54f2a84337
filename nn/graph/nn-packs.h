/* SPDX-License-Identifier: MIT */
/* Weights prepared for the convolutions (folded batch norms, Winograd-transformed kernels),
 * kept with the graph and shared by every context on it; rebuilt when the graph's weight
 * version changes (nn_graph_bump_version). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "graph/nn-graph.h"

typedef enum
{
  NN_PACK_FOLD,             /* conv weights and bias with its batch norm folded in */
  NN_PACK_WINOGRAD,         /* Winograd kernels of the forward pass */
  NN_PACK_WINOGRAD_FOLDED,  /* ... of the folded weights */
  NN_PACK_WINOGRAD_BACKWARD, /* ... of the input gradient */
  NN_PACK_KINDS
} NnPackKind;

/* Makes room for a packing of conv node `node` (for NN_PACK_FOLD and
 * NN_PACK_WINOGRAD_FOLDED, folded with batch norm node `norm`; else -1), filled by the next
 * nn_graph_packs_get. Several contexts reserving the same packing share one. False when out of
 * memory. Safe from several threads. */
bool         nn_graph_packs_reserve (NnGraph    *graph,
                                     int         node,
                                     NnPackKind  kind,
                                     int         norm);

/* The reserved packing, built again first when the graph's weights changed since it was
 * built. The folded kind holds the weights (OC x C/G x KH x KW) then the bias (OC). Safe from
 * several threads, as long as no thread writes the weights meanwhile. */
const float *nn_graph_packs_get (NnGraph    *graph,
                                 int         node,
                                 NnPackKind  kind);

/* Bytes the graph's packings take, and how many times a packing was built (tests). */
size_t       nn_graph_packs_bytes (const NnGraph *graph);
size_t       nn_graph_packs_builds (const NnGraph *graph);

/* Frees the packings (nn_graph_free). */
void         nn_graph_packs_free (NnGraph *graph);
