/* SPDX-License-Identifier: MIT */
/* Builds small ONNX models in memory with the protobuf-c API, for tests that need an ONNX file
 * to import (test-onnx.c, test-finetune.c). Every allocation belongs to the builder. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "onnx.pb-c.h"

typedef struct
{
  GPtrArray               *garbage;
  GPtrArray               *nodes;
  GPtrArray               *inits;
  GPtrArray               *inputs;
  GPtrArray               *outputs;
  Onnx__ModelProto         model;
  Onnx__GraphProto         graph;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsets[1];
} OnnxBuilder;

void             onnx_builder_init (OnnxBuilder *b,
                                    int64_t      opset);
void             onnx_builder_clear (OnnxBuilder *b);
/* Hands p (g_malloc'd) to the builder, which frees it with the rest; returns p. */
void            *onnx_builder_keep (OnnxBuilder *b,
                                    void        *p);
/* A float initializer of the given dims holding n values. */
Onnx__TensorProto *
                 onnx_builder_add_init (OnnxBuilder   *b,
                                        const char    *name,
                                        int            ndim,
                                        const int64_t *dims,
                                        const float   *data,
                                        size_t         n);
/* An int64 vector of n values, or a scalar (rank 0) when n is 0 (one value). */
void             onnx_builder_add_init_ints (OnnxBuilder   *b,
                                             const char    *name,
                                             const int64_t *values,
                                             size_t         n);
/* A node; inputs and outputs are NULL-terminated lists (copied) of strings that must outlive
 * the builder. */
Onnx__NodeProto *onnx_builder_add_node (OnnxBuilder       *b,
                                        const char        *op,
                                        const char        *name,
                                        const char *const *inputs,
                                        const char *const *outputs);
/* A new attribute of node n, its type and value still to be set. */
Onnx__AttributeProto *
                 onnx_builder_add_attr (OnnxBuilder     *b,
                                        Onnx__NodeProto *n,
                                        const char      *name);
void             onnx_builder_attr_ints (OnnxBuilder     *b,
                                         Onnx__NodeProto *n,
                                         const char      *name,
                                         const int64_t   *v,
                                         size_t           count);
void             onnx_builder_attr_int (OnnxBuilder     *b,
                                        Onnx__NodeProto *n,
                                        const char      *name,
                                        int64_t          v);
/* The graph's input or output: a float tensor of the given dims (a negative dim is symbolic,
 * "dyn"). */
void             onnx_builder_add_input (OnnxBuilder   *b,
                                         const char    *name,
                                         int            ndim,
                                         const int64_t *dims);
void             onnx_builder_add_output (OnnxBuilder   *b,
                                          const char    *name,
                                          int            ndim,
                                          const int64_t *dims);
/* The serialized ModelProto (g_free it). */
guint8          *onnx_builder_pack (OnnxBuilder *b,
                                    gsize       *size);
