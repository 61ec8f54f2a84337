/* SPDX-License-Identifier: MIT */
/* Shared by the parts of the ONNX importer, each calling only the ones listed before it here:
 * the map, values, tensors and attributes every part uses (nn-onnx-value.c), folding constants
 * (nn-onnx-const.c), translating one node (nn-onnx-ops.c), and reading the file and walking the
 * graph (nn-onnx.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/nn-onnx.h"
#include "onnx.pb-c.h"

#define NN_ONNX_VALUE_BLOCK 256

/* Bounds that keep a hostile file from taking unbounded memory or time. */
#define NN_ONNX_MAX_FILE   ((uint64_t) 1 << 33)
#define NN_ONNX_MAX_NODES  100000
#define NN_ONNX_MAX_ELEMS  ((int64_t) 1 << 31)
#define NN_ONNX_MAX_INPUTS 1024   /* of one node (a DenseNet concatenation takes dozens) */
#define NN_ONNX_MAX_FOLDED (1 << 24)   /* values of a constant computed at load time */

/* A value of the ONNX graph: a constant (initializer, Constant node, folded shape arithmetic)
 * or a tensor computed at run time by engine node `node`. A run-time tensor's dims[bax] is the
 * batch (bax is 0 but where a Transpose or Reshape moved it); the rest is the per-sample shape
 * of its node (nn_onnx_value_sample_shape), or has the same (C, H, W) view when the node is an
 * alias of a reshape that kept the layout. In a graph exported with batch 1, a Reshape may
 * merge the batch into another axis (attention's (N, B * heads, d)): bax is then -1 and every
 * dim is per sample, the engine running each sample through the batch-1 graph. */
typedef struct
{
  const char *name;     /* borrowed from the proto */
  bool        is_const;
  int         ndim;
  int64_t     dims[NN_ONNX_MAX_RANK];
  size_t      count;    /* constants: number of elements */
  bool        is_int;   /* constants: integer (i) or floating point (f) */
  float      *f;        /* owned */
  int64_t    *i;        /* owned */
  int         node;     /* run-time tensors: the engine node */
  int         init;     /* an initializer whose data is read on first use and freed after the
                           last (its index in NnOnnxImporter.spans), or -1 */
  int         uses;     /* initializers: the needed nodes that read it and are not translated */
  size_t      bytes;    /* initializers: the size of the buffer f or i points to */
  int         bax;      /* run-time tensors: the batch axis, -1 when merged (see above) */
} NnOnnxValue;

/* Where the raw_data bytes of one initializer lie in the model file (offset 0 when the
 * initializer has none: no raw_data can start at the file's first byte); the rest of the file
 * is unpacked by protobuf-c. */
typedef struct
{
  uint64_t offset;
  uint64_t length;
} NnOnnxSpan;

/* A string -> index map (open addressing). */
typedef struct
{
  const char **keys;
  int         *vals;
  size_t       cap;
} NnOnnxMap;

typedef struct
{
  const char          *path;       /* for messages */
  char                *dir;        /* folder of the model file, for external data */
  Onnx__ModelProto    *model;
  const NnOnnxOptions *options;
  int64_t              opset;      /* of the default domain */
  NnGraph             *graph;
  NnOnnxValue        **value_blocks;  /* NN_ONNX_VALUE_BLOCK values each: a value never moves,
                                         so a node may hold its inputs while adding outputs */
  int                  n_values;
  int                  n_blocks;
  NnOnnxMap            value_map;
  int                 *consumers;  /* per ONNX node: how many needed nodes read its output 0 */
  int                 *first_use;  /* per ONNX node: the needed node that reads output 0 first */
  bool                *fused;      /* per ONNX node: an Add folded into the node before it */
  NnOnnxMap            producer;   /* value name -> ONNX node index */
  int                  fd;         /* the model file, read with pread (-1: none) */
  NnOnnxSpan          *spans;      /* per initializer, in the graph's order */
  size_t               n_spans;
  bool                 load_failed;  /* an initializer could not be read on first use: */
  NnError              load_error;   /* why (nn_onnx_value_find returned NULL) */
  uint64_t             bytes_done;   /* progress: bytes read of bytes_total */
  uint64_t             bytes_total;
  int                  reported;     /* the last progress reported, in 1/1000 */
  void                *spare;        /* the buffer of an initializer released, for the next */
  size_t               spare_bytes;
} NnOnnxImporter;

/* One node being translated, with its inputs resolved (NULL for an omitted optional one). */
typedef struct
{
  const Onnx__NodeProto *proto;
  int                    index;
  NnOnnxValue          **in;
  int                    n_in;
} NnOnnxNode;

/* nn-onnx-value.c: what every part uses. */

/* Maps key (borrowed, must outlive the map) to val; false when out of memory. */
bool       nn_onnx_map_put (NnOnnxMap  *map,
                            const char *key,
                            int         val);
/* The value of key, or -1. */
int        nn_onnx_map_get (const NnOnnxMap *map,
                            const char      *key);
void       nn_onnx_map_clear (NnOnnxMap *map);
/* The value named `name`, or NULL. An initializer's data is read now if it is not in memory;
 * when that fails, NULL, with im->load_failed set and the reason in im->load_error. */
NnOnnxValue *nn_onnx_value_find (NnOnnxImporter *im,
                                 const char     *name);
/* Adds initializer k of the graph (span im->spans[k]) as a constant whose shape and size are
 * checked now and whose data is read on first use. */
bool       nn_onnx_initializer_add (NnOnnxImporter          *im,
                                    size_t                   k,
                                    const Onnx__TensorProto *tensor,
                                    NnError                 *err);
/* Drops a read initializer's data once no node is left to read it (read again if needed),
 * keeping the largest buffer for the next initializer: its pages are not faulted in again. */
void       nn_onnx_initializer_release (NnOnnxImporter *im,
                                        NnOnnxValue    *value);
/* Reports progress (bytes_done of bytes_total) to the options' control when it moved on by a
 * tenth of a percent; false with NN_ERROR_CANCELLED when the control's cancel flag is set. */
bool       nn_onnx_progress (NnOnnxImporter *im,
                             NnError        *err);
/* Value k (0 <= k < n_values), in the order they were added. */
NnOnnxValue *nn_onnx_value_at (const NnOnnxImporter *im,
                               int                   k);
/* Frees every value and their blocks. */
void       nn_onnx_values_clear (NnOnnxImporter *im);
/* A new value named `name` (an error if the name is taken). */
NnOnnxValue *nn_onnx_value_add (NnOnnxImporter *im,
                                const char     *name,
                                NnError        *err);
/* Allocates a constant's storage for the given shape. */
bool       nn_onnx_value_alloc (NnOnnxValue   *value,
                                bool           is_int,
                                int            ndim,
                                const int64_t *dims,
                                NnError       *err);
/* Element k of a constant as a double. */
double     nn_onnx_value_get (const NnOnnxValue *value,
                              size_t             k);
/* Element k of a constant as an integer (floats truncated, saturated). */
int64_t    nn_onnx_value_get_int (const NnOnnxValue *value,
                                  size_t             k);
/* Frees a constant's storage. */
void       nn_onnx_value_clear (NnOnnxValue *value);
/* Decodes a TensorProto into a constant value (external data relative to im->dir). */
bool       nn_onnx_tensor_decode (NnOnnxImporter          *im,
                                  const Onnx__TensorProto *tensor,
                                  NnOnnxValue             *value,
                                  NnError                 *err);
/* The per-sample shape of a run-time tensor of the given ONNX shape (B, d1, ..., dn): (d1, ...,
 * dn), (1) for a tensor of rank 1; false when a dimension is empty or too large or n is more
 * than NN_MAX_RANK. */
bool       nn_onnx_shape_to_nn (int            ndim,
                                const int64_t *dims,
                                NnShape       *shape);
/* The per-sample shape of run-time value v: its dims without the batch axis (all of them when
 * the batch is merged), (1) when nothing is left; false as nn_onnx_shape_to_nn. */
bool       nn_onnx_value_sample_shape (const NnOnnxValue *v,
                                       NnShape           *shape);
/* Sets err to "node 'N' (Op): <message>" and returns false. */
bool       nn_onnx_node_fail (const NnOnnxNode *node,
                           NnError        *err,
                           NnErrorCode     code,
                           const char     *format,
                           ...) __attribute__ ((format (printf, 4, 5)));
/* The name a user sees for the node's layer ("/layer3/layer3.1/conv2/Conv" gives
 * "layer3.1.conv2"), made unique in the graph, written into buf (NN_NAME_MAX). */
void       nn_onnx_layer_name (const NnOnnxImporter *im,
                               const NnOnnxNode     *node,
                               char                 *buf);
/* The node's attribute `name`, or NULL; its integer or float value, or fallback. */
const Onnx__AttributeProto *nn_onnx_attr (const NnOnnxNode *node,
                                          const char       *name);
int64_t    nn_onnx_attr_int (const NnOnnxNode *node,
                             const char       *name,
                             int64_t           fallback);
float      nn_onnx_attr_float (const NnOnnxNode *node,
                               const char       *name,
                               float             fallback);

/* nn-onnx-const.c: evaluates a node whose inputs are all constants; *handled is false when the
 * op is not one that folds. */
bool       nn_onnx_fold (NnOnnxImporter *im,
                         NnOnnxNode     *node,
                         bool           *handled,
                         NnError        *err);
/* The target shape of Reshape (0 copies an input dimension unless allowzero, -1 is
 * inferred) into out; shared by folding and run-time translation. */
bool       nn_onnx_reshape_dims (const NnOnnxNode *node,
                                 const int64_t    *in_dims,
                                 int               in_ndim,
                                 size_t            count,
                                 const int64_t    *shape,
                                 int               ndim,
                                 bool              allowzero,
                                 int64_t          *out,
                                 NnError          *err);

/* nn-onnx-ops.c: translates one node into engine nodes, aliases or constants (folding the
 * nodes whose inputs are all constants). */
bool       nn_onnx_translate (NnOnnxImporter *im,
                              NnOnnxNode     *node,
                              NnError        *err);
