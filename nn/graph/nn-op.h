/* SPDX-License-Identifier: MIT */
/* The op table: the fixed facts of every NnOp in one place (its name in files, its inputs, its
 * parameters, the attributes a model file stores, how it splits over a context's workers, the
 * buffers it needs in a context, whether it has a backward), and the shape rule of each op. The
 * graph, the context and the model files read the table; where code must differ per op, a
 * switch over NnOp calls one function per op. Inside nn/ only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "graph/nn-graph.h"

/* The most floats of one node's output per sample (over 64) and of the parameter arena: far
 * away from any overflow in a size computation. */
#define NN_GRAPH_ELEMS_MAX ((size_t) 1 << 31)

/* n_inputs of an op that takes 1 to NN_MAX_INPUTS inputs (concat). */
#define NN_OP_INPUTS_ANY (-1)
#define NN_OP_MAX_ATTRS  8

/* A parameter an op may hold. */
typedef struct
{
  NnParamRole role;
  float       init;       /* the value it is created with; nn_graph_init_params resets it to this
                             unless `he` */
  bool        trainable;  /* false for buffers (running statistics) */
  bool        he;         /* He normal initialisation (conv and linear weights) */
} NnOpParam;

/* How an attribute is written in a model file. */
typedef enum
{
  NN_ATTR_INT,     /* an integer */
  NN_ATTR_INTS,    /* a list of n integers */
  NN_ATTR_FLOAT,   /* a finite number */
  NN_ATTR_BOOL,
  NN_ATTR_ACT,     /* an NnActKind, by name */
  NN_ATTR_POLICY,  /* an NnGradPolicy, as text */
  NN_ATTR_SHAPE,   /* an NnShape, as the list of its 1 to NN_MAX_RANK dims */
  NN_ATTR_LIST,    /* 1 to NN_MAX_RANK integers: the array at at[0], their count at at[1] */
} NnAttrType;

/* An attribute of a node in a model file: its key, its type and where its value lives in NnNode
 * (one offset per integer of a list). Attributes are read and written in table order. */
typedef struct
{
  const char *key;
  NnAttrType  type;
  int         n;
  size_t      at[4];
  bool        act_params;  /* only for activation kinds that read alpha and beta */
} NnAttr;

/* How the samples of a batch split over a context's workers. */
typedef enum
{
  NN_OP_SPLIT_NONE,     /* on the calling thread */
  NN_OP_SPLIT_BATCH,    /* independent samples: chunks of samples go through runs of such nodes */
  NN_OP_SPLIT_WEIGHTS,  /* independent samples, but in a run of its own (each chunk would read
                           all the weights again); the backward splits the weight gradient over
                           the outputs */
} NnOpSplit;

/* What ties the samples of a batch together in training mode; a coupled node does not split over
 * the batch or within a sample. */
typedef enum
{
  NN_OP_COUPLING_NONE,
  NN_OP_COUPLING_STATS,  /* statistics over the batch: the workers split the channels instead */
  NN_OP_COUPLING_RNG,    /* a draw from the context's RNG per value in sample order (dropout with
                            p > 0): on the calling thread */
} NnOpCoupling;

/* A buffer a node keeps in a context between its forward and backward passes. */
typedef enum
{
  NN_OP_BUFFER_NONE,
  NN_OP_BUFFER_STATS,         /* 2 C floats: the batch's mean, then its invstd, per channel */
  NN_OP_BUFFER_SAMPLE_STATS,  /* 2 B C floats: mean, then invstd, per sample and channel */
  NN_OP_BUFFER_ARGMAX,        /* an int32 per output value: where each window's maximum was */
  NN_OP_BUFFER_MASK,          /* a byte per output value: which values dropout kept */
} NnOpBuffer;

/* Scratch a node borrows from the context's shared scratch (one slice per worker). */
typedef enum
{
  NN_OP_SCRATCH_NONE,
  NN_OP_SCRATCH_CONV,  /* im2col columns (nn_conv2d_scratch_size) */
} NnOpScratch;

typedef struct
{
  const char  *name;        /* in model files and on screen */
  int          n_inputs;    /* exactly, or NN_OP_INPUTS_ANY */
  int          n_params;
  NnOpParam    params[NN_MAX_NODE_PARAMS];  /* in the order the node holds them; some are
                                               optional (a bias, an affine norm's) */
  NnAttr       attrs[NN_OP_MAX_ATTRS];      /* up to the first with a NULL key */
  NnOpSplit    split;
  NnOpCoupling coupling;
  bool         sample_split;  /* a batch of one splits within the sample (output channels,
                                 channels, ranges of values) */
  NnOpBuffer   buffer;
  NnOpScratch  scratch;
  bool         backward;      /* has a backward pass (every op but the input) */
} NnOpInfo;

const NnOpInfo *nn_op_info (NnOp op);
/* "weight", "bias", "running_mean", "running_var": the suffix of a parameter's name. */
const char     *nn_param_role_name (NnParamRole role);

/* Where attribute `attr` (integer k of a list) of a node lives. */
static inline void *
nn_attr_at (NnNode       *node,
            const NnAttr *attr,
            int           k)
{
  return (char *) node + attr->at[k];
}

static inline const void *
nn_attr_get (const NnNode *node,
             const NnAttr *attr,
             int           k)
{
  return (const char *) node + attr->at[k];
}

/* The bytes of one stored value of attr (all its values, for a list). */
size_t          nn_attr_value_size (const NnAttr *attr);

/* Whether the node stores attribute `attr` (activation parameters only for the kinds that read
 * them). */
bool            nn_attr_present (const NnNode *node,
                                 const NnAttr *attr);

/* The dims of one parameter a shape rule asks for; ndim 0: the node does not hold it. */
typedef struct
{
  int ndim;
  int dims[4];
} NnParamShape;

/* The shape rule of the node's op. Checks the node's attributes against its
 * inputs (already in the graph), fills node->shape and the dims of each parameter of the op
 * table's row, in its order; false with err naming the node when they do not fit. */
bool            nn_op_shape (const NnGraph *graph,
                             NnNode        *node,
                             NnParamShape  *params,
                             NnError       *err);
