/* SPDX-License-Identifier: MIT */
/* Fine-tuning a trained or imported model: another input size, a new classifier for other
 * classes, and layers frozen up to a given one (docs/cli.md, train --init). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "io/nn-model.h"

/* Re-infers the model for an input of h x w (its channels kept), the weights kept. Refused,
 * with err naming the layer, where the graph does not allow it (nn_graph_with_input); the
 * model is then unchanged. */
bool nn_finetune_resize_input (NnModel *model,
                               int      h,
                               int      w,
                               NnError *err);

/* The classifier: the last linear (ONNX Gemm, MatMul) or dense node, or -1. */
int  nn_finetune_classifier (const NnGraph *graph);

/* Replaces the classifier by a fresh one with n_classes outputs, seeded He normal weights and
 * zero bias, trainable; labels become "0" .. "n_classes - 1". Refused when the model has no
 * linear layer, or a layer after it cannot take the new size; the model is then unchanged. */
bool nn_finetune_new_head (NnModel  *model,
                           int       n_classes,
                           uint64_t  seed,
                           NnError  *err);

/* Freezes (marks not trainable) the weights and biases of `layer` and of every layer it reads,
 * directly or not: the network up to and including it. `layer` is a node's name or a module
 * path that prefixes node names ("layer3" for "layer3.0.conv1" ... "layer3.1.relu_1"); a batch
 * norm so frozen keeps its running statistics in training (nn_context_set_training). Returns
 * the number of layers with parameters frozen, or -1 with err set when no layer has that name
 * or nothing trainable would be left. */
int  nn_finetune_freeze (NnGraph    *graph,
                         const char *layer,
                         NnError    *err);
/* Whether `layer` names a node or prefixes node names as nn_finetune_freeze reads it. */
bool nn_finetune_has_layer (const NnGraph *graph,
                            const char    *layer);
