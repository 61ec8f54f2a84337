/* SPDX-License-Identifier: MIT */
/* A network as a directed acyclic graph of named nodes. Nodes are stored in topological order
 * (every input of node i has an index below i); node 0 is the input. Every node produces one
 * tensor with the batch first; its per-sample shape has rank 1 to NN_MAX_RANK, and is also seen
 * as (C, H, W) by the spatial ops. All parameters and buffers live in one float arena; nodes
 * refer to them by index into `params`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/nn-error.h"
#include "core/nn-rng.h"
#include "ops/nn-activation.h"
#include "ops/nn-pool.h"

#define NN_NAME_MAX      96
#define NN_MAX_INPUTS    8
#define NN_MAX_NODE_PARAMS 4
#define NN_MAX_RANK      6

typedef enum
{
  NN_OP_INPUT,
  NN_OP_CONV2D,
  NN_OP_LINEAR,
  NN_OP_BATCHNORM,
  NN_OP_INSTANCENORM,
  NN_OP_ACTIVATION,
  NN_OP_MAXPOOL,
  NN_OP_AVGPOOL,
  NN_OP_GLOBAL_AVGPOOL,
  NN_OP_ADD,
  NN_OP_MUL,
  NN_OP_CONCAT,
  NN_OP_FLATTEN,
  NN_OP_SOFTMAX,
  NN_OP_DROPOUT,
  NN_OP_SCALE,     /* per-channel x * weight[c] + bias[c] (constant Mul/Add/Sub/Div of ONNX) */
  NN_OP_PRELU,     /* x > 0 ? x : weight[c] * x, learned slope per channel */
  NN_OP_PAD,       /* constant padding of H and W */
  NN_OP_RESHAPE,   /* the same values seen with the per-sample shape given in the spec */
  NN_OP_BROADCAST_ADD,  /* a + b, a - b, a * b, a / b of two tensors whose shapes broadcast */
  NN_OP_BROADCAST_SUB,
  NN_OP_BROADCAST_MUL,
  NN_OP_BROADCAST_DIV,
  NN_OP_REDUCE_SUM,     /* sum, mean, max over the per-sample axes in attrs.reduce */
  NN_OP_REDUCE_MEAN,
  NN_OP_REDUCE_MAX,
  NN_OP_TRANSPOSE,      /* the per-sample axes permuted: output dim d is input dim perm[d] */
  NN_OP_SLICE,          /* size values from start along one per-sample axis */
  NN_OP_DENSE,          /* a linear layer over the last per-sample axis: (..., IN) -> (..., OUT) */
  NN_OP_MATMUL,         /* a (..., M, K) b (..., K, N) of two run-time tensors, batched */
  NN_OP_SOFTMAX_AXIS,   /* softmax along one per-sample axis */
  NN_OP_COUNT_
} NnOp;

typedef struct
{
  int  out_channels;
  int  kh, kw;
  int  sh, sw;
  int  pad_t, pad_l, pad_b, pad_r;
  int  dh, dw;
  int  groups;
  bool bias;
} NnConvAttrs;

typedef struct
{
  int  out_features;
  bool bias;
} NnLinearAttrs;

typedef struct
{
  float eps;
  float momentum;  /* weight of the new batch statistic, as in PyTorch (default 0.1) */
  bool  affine;
} NnNormAttrs;

typedef struct
{
  float p;
} NnDropoutAttrs;

typedef struct
{
  int   pad_t, pad_l, pad_b, pad_r;
  float value;
} NnPadAttrs;

/* Reductions: bit d of axes reduces per-sample dim d; keepdims keeps it with size 1, else it
 * is dropped (a reduction to a single value is the shape (1)). */
typedef struct
{
  int  axes;
  bool keepdims;
} NnReduceAttrs;

/* Transpose: a permutation of the input's `rank` per-sample axes. */
typedef struct
{
  int perm[NN_MAX_RANK];
  int rank;
} NnTransposeAttrs;

/* Slice: values start .. start + size - 1 along per-sample axis `axis`. */
typedef struct
{
  int axis;
  int start;
  int size;
} NnSliceAttrs;

/* Softmax along per-sample axis `axis`. */
typedef struct
{
  int axis;
} NnAxisAttrs;

/* Scale and PReLU: one parameter per channel, or one per value of a sample (C, H, W). */
typedef struct
{
  bool per_element;
} NnChannelAttrs;

/* A per-sample shape: `rank` dims (the batch excluded), row-major. c, h and w see it as
 * (C, H, W): dims[0], dims[1] (1 for rank 1) and the product of the rest (1 for rank 1 and 2),
 * so a rank-3 shape is exactly (C, H, W). Build one with nn_shape_chw or nn_shape_of. In a spec
 * of an input or reshape node, rank 0 means (c, h, w). */
typedef struct
{
  int c, h, w;
  int rank;
  int dims[NN_MAX_RANK];
} NnShape;

typedef struct
{
  NnOp    op;
  char    name[NN_NAME_MAX];
  int     inputs[NN_MAX_INPUTS];
  int     n_inputs;
  int     params[NN_MAX_NODE_PARAMS];  /* indices into NnGraph.params, in the op's order */
  int     n_params;
  NnShape shape;                       /* per-sample output shape (given in the spec for input
                                          and reshape nodes) */
  union
  {
    NnConvAttrs    conv;
    NnLinearAttrs  linear;
    NnNormAttrs    norm;
    NnActAttrs     act;
    NnPoolAttrs    pool;
    NnDropoutAttrs dropout;
    NnPadAttrs     pad;
    NnChannelAttrs channel;
    NnReduceAttrs  reduce;
    NnTransposeAttrs transpose;
    NnSliceAttrs   slice;
    NnAxisAttrs    axis;
  } attrs;
} NnNode;

/* What a parameter tensor is to its node. Conv/linear: WEIGHT then BIAS. Batch norm: WEIGHT
 * (gamma), BIAS (beta), RUNNING_MEAN, RUNNING_VAR. Instance norm: WEIGHT, BIAS when affine.
 * Scale: WEIGHT, BIAS (C each, or C x H x W when per element). PReLU: WEIGHT (the C or
 * C x H x W slopes). */
typedef enum
{
  NN_PARAM_WEIGHT,
  NN_PARAM_BIAS,
  NN_PARAM_RUNNING_MEAN,
  NN_PARAM_RUNNING_VAR,
  NN_PARAM_ROLE_COUNT_
} NnParamRole;

typedef struct
{
  char        name[NN_NAME_MAX + 16];  /* "<node>.weight", as PyTorch names it */
  int         node;
  NnParamRole role;
  int         ndim;
  int         dims[4];
  size_t      offset;     /* into NnGraph.data, in floats */
  size_t      count;
  bool        trainable;  /* false for buffers and frozen weights (PFM filter banks) */
} NnParam;

typedef struct
{
  NnNode  *nodes;
  int      n_nodes;
  int      cap_nodes;
  NnParam *params;
  int      n_params;
  int      cap_params;
  float   *data;       /* every parameter and buffer, one arena */
  size_t   n_data;
  size_t   cap_data;
  uint64_t version;    /* changes whenever values in data change (nn_graph_bump_version) */
  struct NnPacks *packs; /* weights prepared for the convs, shared by the contexts on the graph
                          * (graph/nn-packs.h); NULL until a context asks for one */
} NnGraph;

/* An empty graph; NULL when out of memory. */
NnGraph    *nn_graph_new (void);
void        nn_graph_free (NnGraph *graph);
/* A deep copy; NULL when out of memory. */
NnGraph    *nn_graph_dup (const NnGraph *graph);

/* Validates `spec` (op, inputs, attributes), infers its shape, allocates its parameters
 * (zero-filled; BN gamma and running var are 1) and appends it. Returns the node index, or -1
 * with err set when the spec does not fit the graph. */
int         nn_graph_add (NnGraph      *graph,
                          const NnNode *spec,
                          NnError      *err);

/* The number of floats nn_graph_add would allocate for the parameters of `spec`, computed
 * without allocating (a reader bounds it by the data a file holds). False with err when
 * nn_graph_add would reject the spec. */
bool        nn_graph_spec_param_count (const NnGraph *graph,
                                       const NnNode  *spec,
                                       size_t        *count,
                                       NnError       *err);

/* Convenience builders for code that builds architectures: a spec nn_graph_add rejects is a
 * programmer error and aborts; out of memory returns -1. `name` must be unique. */
int nn_graph_add_input (NnGraph *graph, const char *name, int c, int h, int w);
int nn_graph_add_conv2d (NnGraph *graph, const char *name, int input, int out_channels, int k,
                         int stride, int pad, int dilation, int groups, bool bias);
int nn_graph_add_linear (NnGraph *graph, const char *name, int input, int out_features,
                         bool bias);
int nn_graph_add_batchnorm (NnGraph *graph, const char *name, int input);
int nn_graph_add_instancenorm (NnGraph *graph, const char *name, int input, bool affine);
int nn_graph_add_relu (NnGraph *graph, const char *name, int input);
int nn_graph_add_leaky_relu (NnGraph *graph, const char *name, int input, float slope);
int nn_graph_add_activation (NnGraph *graph, const char *name, int input, NnActKind kind);
int nn_graph_add_maxpool (NnGraph *graph, const char *name, int input, int k, int stride,
                          int pad);
int nn_graph_add_avgpool (NnGraph *graph, const char *name, int input, int k, int stride,
                          int pad);
int nn_graph_add_global_avgpool (NnGraph *graph, const char *name, int input);
int nn_graph_add_add (NnGraph *graph, const char *name, int a, int b);
int nn_graph_add_mul (NnGraph *graph, const char *name, int a, int b);
/* One of the NN_OP_REDUCE_* ops over the per-sample axes set in the mask `axes`. */
int nn_graph_add_reduce (NnGraph *graph, NnOp op, const char *name, int input, int axes,
                         bool keepdims);
/* The input's per-sample axes permuted by perm (as many entries as the input's rank). */
int nn_graph_add_transpose (NnGraph *graph, const char *name, int input, const int *perm);
/* Values start .. start + size - 1 of the input along per-sample axis `axis`. */
int nn_graph_add_slice (NnGraph *graph, const char *name, int input, int axis, int start,
                        int size);
/* A linear layer over the input's last per-sample axis. */
int nn_graph_add_dense (NnGraph *graph, const char *name, int input, int out_features,
                        bool bias);
/* The matrix product of a (..., M, K) and b (..., K, N), the leading dims equal. */
int nn_graph_add_matmul (NnGraph *graph, const char *name, int a, int b);
/* Softmax along per-sample axis `axis`. */
int nn_graph_add_softmax_axis (NnGraph *graph, const char *name, int input, int axis);
/* One of the NN_OP_BROADCAST_* ops of a and b. */
int nn_graph_add_broadcast (NnGraph *graph, NnOp op, const char *name, int a, int b);
int nn_graph_add_concat (NnGraph *graph, const char *name, const int *inputs, int n_inputs);
int nn_graph_add_flatten (NnGraph *graph, const char *name, int input);
int nn_graph_add_softmax (NnGraph *graph, const char *name, int input);
int nn_graph_add_dropout (NnGraph *graph, const char *name, int input, float p);
int nn_graph_add_scale (NnGraph *graph, const char *name, int input, bool per_element);
int nn_graph_add_prelu (NnGraph *graph, const char *name, int input, bool per_element);
int nn_graph_add_pad (NnGraph *graph, const char *name, int input, int pad_t, int pad_l,
                      int pad_b, int pad_r, float value);
int nn_graph_add_reshape (NnGraph *graph, const char *name, int input, int c, int h, int w);
/* An input or a reshape of any rank (nn_shape_of). */
int nn_graph_add_input_shape (NnGraph *graph, const char *name, NnShape shape);
int nn_graph_add_reshape_shape (NnGraph *graph, const char *name, int input, NnShape shape);
/* An activation with its two parameters (clip, hard sigmoid). */
int nn_graph_add_activation_full (NnGraph *graph, const char *name, int input, NnActKind kind,
                                  float alpha, float beta);

/* Node lookup by name; -1 when absent. */
int          nn_graph_find (const NnGraph *graph,
                            const char    *name);
/* The last node: the network's output. */
int          nn_graph_output (const NnGraph *graph);
/* Marks the parameter values as changed: whoever writes into graph->data while a context on
 * the graph lives (an optimizer step, a finite-difference probe, an edit) calls it, and the
 * context rebuilds what it prepared from the weights before its next pass. */
void         nn_graph_bump_version (NnGraph *graph);
/* Float pointer to parameter `index` (valid until the graph grows). */
float       *nn_graph_param_data (const NnGraph *graph,
                                  int            index);
/* The node's parameter with the given role, or -1. */
int          nn_graph_node_param (const NnGraph *graph,
                                  int            node,
                                  NnParamRole    role);
size_t       nn_graph_count_trainable (const NnGraph *graph);
size_t       nn_graph_node_param_count (const NnGraph *graph,
                                        int            node);
/* Marks every parameter of a node trainable or frozen. */
void         nn_graph_set_trainable (NnGraph *graph,
                                     int      node,
                                     bool     trainable);
/* Whether any parameter of a node is trainable (a batch norm with a frozen weight and bias
 * keeps its running statistics in training). */
bool         nn_graph_node_trainable (const NnGraph *graph,
                                      int            node);
/* True when a and b are the same network: the same nodes in the same order (op, name,
 * attributes, output shape, inputs) with parameter tensors of the same roles and sizes. Else
 * false with err saying at which node they part and how (two checkpoints of one run pass). */
bool         nn_graph_check_same (const NnGraph *a,
                                  const NnGraph *b,
                                  NnError       *err);
/* How far node's weights and biases moved from a to b (graphs that pass nn_graph_check_same):
 * ||b - a|| / ||a|| over all of them together, L2. Running statistics do not count. NaN for a
 * node without weights; 0 when both are all zero, +inf when only a is. */
double       nn_graph_node_param_distance (const NnGraph *a,
                                           const NnGraph *b,
                                           int            node);
/* Sets the gradient policy of every ReLU-family node (training with ProxyGrad or SUGAR). */
void         nn_graph_set_policy (NnGraph           *graph,
                                  const NnGradPolicy *policy);

/* He (Kaiming) normal initialisation of conv and linear weights (fan-in, gain sqrt(2)),
 * zero biases, BN gamma 1 beta 0, PReLU slopes 0.25 (as PyTorch); frozen parameters are left
 * untouched. */
void         nn_graph_init_params (NnGraph *graph,
                                   NnRng   *rng);
/* The same for the parameters of one node. */
void         nn_graph_init_node_params (NnGraph *graph,
                                        int      node,
                                        NnRng   *rng);

/* A copy of graph whose input takes (c, h, w) per sample, every shape inferred again and every
 * parameter copied with its trainable flag. Refused, with err naming the layer, where a layer
 * cannot take its new input (a fixed reshape, a pooling window larger than its input) or its
 * parameters would change size (a classifier reading flattened feature maps rather than
 * globally pooled ones). NULL also when out of memory. */
NnGraph     *nn_graph_with_input (const NnGraph *graph,
                                  int            c,
                                  int            h,
                                  int            w,
                                  NnError       *err);
/* A copy of graph whose linear or dense node `node` has out_features outputs, its weight and
 * bias trainable and drawn afresh from rng as nn_graph_init_params would, the nodes after it
 * inferred again (refused as above where one cannot take the new size). */
NnGraph     *nn_graph_with_outputs (const NnGraph *graph,
                                    int            node,
                                    int            out_features,
                                    NnRng         *rng,
                                    NnError       *err);

const char  *nn_op_name (NnOp op);
bool         nn_op_from_name (const char *name,
                              NnOp       *op);

/* A node in words, as `cnnscope-cli info` lists it. */
typedef struct
{
  const char *op;         /* nn_op_name */
  char        shape[48];  /* per-sample output shape, "64x56x56" */
  char        attrs[96];  /* "3x3 s2 p1", "leaky 0.1, grad exact", "p 0.5"; "" when the op has
                             nothing worth showing */
} NnNodeDescription;

void         nn_node_describe (const NnNode      *node,
                               NnNodeDescription *desc);

static inline size_t
nn_shape_size (NnShape shape)
{
  return (size_t) shape.c * (size_t) shape.h * (size_t) shape.w;
}

/* The rank-3 shape (c, h, w). */
static inline NnShape
nn_shape_chw (int c,
              int h,
              int w)
{
  return (NnShape) { c, h, w, 3, { c, h, w } };
}

/* The shape of `rank` (1 to NN_MAX_RANK) dims, with its (C, H, W) view; the product of the
 * dims must fit in an int (nn_graph_add checks the sizes of what it is given). */
NnShape      nn_shape_of (int        rank,
                          const int *dims);
/* Same rank and dims. */
bool         nn_shape_equal (NnShape a,
                             NnShape b);
/* "64x56x56", "197x768": the dims joined by 'x'. */
void         nn_shape_format (NnShape shape,
                              char   *buf,
                              size_t  size);
