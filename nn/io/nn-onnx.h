/* SPDX-License-Identifier: MIT */
/* ONNX import: an .onnx file (protobuf, parsed by protobuf-c code generated from the system's
 * onnx.proto) translated into an NnModel whose graph and names follow the ONNX graph
 * (docs/onnx.md lists the ops and the limits). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/nn-error.h"
#include "io/nn-model.h"

#define NN_ONNX_MAX_RANK 8

/* A float tensor with its ONNX shape, e.g. the data of a conformance test. */
typedef struct
{
  char    name[256];
  int     ndim;
  int64_t dims[NN_ONNX_MAX_RANK];
  float  *data;   /* owned; count floats */
  size_t  count;
} NnOnnxTensor;

typedef struct
{
  /* Input channels and size; 0 takes them from the model (an error when the model leaves a
   * dimension other than the batch symbolic). */
  int                 channels;
  int                 height;
  int                 width;
  /* How many mean/std entries are given (0: mean 0, std 1, or the model's metadata entries
   * "cnnscope.mean" and "cnnscope.std"). One entry applies to every channel. */
  int                 n_norm;
  float               mean[NN_MODEL_MAX_CHANNELS];
  float               std[NN_MODEL_MAX_CHANNELS];
  /* Graph inputs bound to constant values (by name), as if they were initializers. */
  const NnOnnxTensor *bind;
  int                 n_bind;
  /* Progress and cancellation while loading, or NULL. */
  const NnLoadControl *control;
} NnOnnxOptions;

/* True when the first bytes of a file look like an ONNX ModelProto (a protobuf message that
 * starts with a varint field, as ir_version). */
bool     nn_onnx_sniff (const unsigned char *head,
                        size_t               size);

/* Loads an .onnx model; options may be NULL. Errors name the file and the node or tensor. */
NnModel *nn_onnx_load (const char          *path,
                       const NnOnnxOptions *options,
                       NnError             *err);

/* Reads one serialized TensorProto (a conformance test's input_0.pb) as float32. */
bool     nn_onnx_tensor_load (const char   *path,
                              NnOnnxTensor *tensor,
                              NnError      *err);
void     nn_onnx_tensor_clear (NnOnnxTensor *tensor);
