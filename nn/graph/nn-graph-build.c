/* SPDX-License-Identifier: MIT */
/* The nn_graph_add_* convenience builders: one node spec per call with the usual defaults. A
 * spec that nn_graph_add rejects is a programmer error and aborts; out of memory returns -1. */
#include "graph/nn-graph.h"

#include <stdio.h>
#include <string.h>

static NnNode
spec_new (NnOp        op,
          const char *name,
          int         input)
{
  NnNode spec;
  memset (&spec, 0, sizeof spec);
  spec.op = op;
  snprintf (spec.name, sizeof spec.name, "%s", name);
  if (input >= 0)
    {
      spec.inputs[0] = input;
      spec.n_inputs = 1;
    }
  return spec;
}

static int
add_or_die (NnGraph      *graph,
            const NnNode *spec)
{
  NnError err = { 0 };
  int index = nn_graph_add (graph, spec, &err);
  if (index < 0 && err.code != NN_ERROR_NOMEM)
    nn_assert_fail (err.message, __FILE__, __LINE__);
  return index;
}

int
nn_graph_add_input (NnGraph    *graph,
                    const char *name,
                    int         c,
                    int         h,
                    int         w)
{
  return nn_graph_add_input_shape (graph, name, nn_shape_chw (c, h, w));
}

int
nn_graph_add_input_shape (NnGraph    *graph,
                          const char *name,
                          NnShape     shape)
{
  NnNode spec = spec_new (NN_OP_INPUT, name, -1);
  spec.shape = shape;
  return add_or_die (graph, &spec);
}

int
nn_graph_add_conv2d (NnGraph    *graph,
                     const char *name,
                     int         input,
                     int         out_channels,
                     int         k,
                     int         stride,
                     int         pad,
                     int         dilation,
                     int         groups,
                     bool        bias)
{
  NnNode spec = spec_new (NN_OP_CONV2D, name, input);
  spec.attrs.conv = (NnConvAttrs) {
    .out_channels = out_channels, .kh = k, .kw = k, .sh = stride, .sw = stride,
    .pad_t = pad, .pad_l = pad, .pad_b = pad, .pad_r = pad,
    .dh = dilation, .dw = dilation, .groups = groups, .bias = bias,
  };
  return add_or_die (graph, &spec);
}

int
nn_graph_add_linear (NnGraph    *graph,
                     const char *name,
                     int         input,
                     int         out_features,
                     bool        bias)
{
  NnNode spec = spec_new (NN_OP_LINEAR, name, input);
  spec.attrs.linear = (NnLinearAttrs) { .out_features = out_features, .bias = bias };
  return add_or_die (graph, &spec);
}

int
nn_graph_add_batchnorm (NnGraph    *graph,
                        const char *name,
                        int         input)
{
  NnNode spec = spec_new (NN_OP_BATCHNORM, name, input);
  spec.attrs.norm = (NnNormAttrs) { .eps = 1e-5f, .momentum = 0.1f, .affine = true };
  return add_or_die (graph, &spec);
}

int
nn_graph_add_instancenorm (NnGraph    *graph,
                           const char *name,
                           int         input,
                           bool        affine)
{
  NnNode spec = spec_new (NN_OP_INSTANCENORM, name, input);
  spec.attrs.norm = (NnNormAttrs) { .eps = 1e-5f, .momentum = 0.1f, .affine = affine };
  return add_or_die (graph, &spec);
}

int
nn_graph_add_leaky_relu (NnGraph    *graph,
                         const char *name,
                         int         input,
                         float       slope)
{
  NnNode spec = spec_new (NN_OP_ACTIVATION, name, input);
  spec.attrs.act = (NnActAttrs) { .kind = NN_ACT_RELU, .slope = slope,
                                  .policy = { NN_GRAD_EXACT, 0.0f } };
  return add_or_die (graph, &spec);
}

int
nn_graph_add_relu (NnGraph    *graph,
                   const char *name,
                   int         input)
{
  return nn_graph_add_leaky_relu (graph, name, input, 0.0f);
}

int
nn_graph_add_activation (NnGraph    *graph,
                         const char *name,
                         int         input,
                         NnActKind   kind)
{
  NnNode spec = spec_new (NN_OP_ACTIVATION, name, input);
  spec.attrs.act = (NnActAttrs) { .kind = kind, .slope = 0.0f,
                                  .policy = { NN_GRAD_EXACT, 0.0f } };
  return add_or_die (graph, &spec);
}

static int
add_pool (NnGraph    *graph,
          NnOp        op,
          const char *name,
          int         input,
          int         k,
          int         stride,
          int         pad)
{
  NnNode spec = spec_new (op, name, input);
  spec.attrs.pool = (NnPoolAttrs) {
    .kh = k, .kw = k, .sh = stride, .sw = stride,
    .pad_t = pad, .pad_l = pad, .pad_b = pad, .pad_r = pad, .count_include_pad = true,
  };
  return add_or_die (graph, &spec);
}

int
nn_graph_add_maxpool (NnGraph    *graph,
                      const char *name,
                      int         input,
                      int         k,
                      int         stride,
                      int         pad)
{
  return add_pool (graph, NN_OP_MAXPOOL, name, input, k, stride, pad);
}

int
nn_graph_add_avgpool (NnGraph    *graph,
                      const char *name,
                      int         input,
                      int         k,
                      int         stride,
                      int         pad)
{
  return add_pool (graph, NN_OP_AVGPOOL, name, input, k, stride, pad);
}

int
nn_graph_add_global_avgpool (NnGraph    *graph,
                             const char *name,
                             int         input)
{
  NnNode spec = spec_new (NN_OP_GLOBAL_AVGPOOL, name, input);
  return add_or_die (graph, &spec);
}

static int
add_binary (NnGraph    *graph,
            NnOp        op,
            const char *name,
            int         a,
            int         b)
{
  NnNode spec = spec_new (op, name, a);
  spec.inputs[1] = b;
  spec.n_inputs = 2;
  return add_or_die (graph, &spec);
}

int
nn_graph_add_add (NnGraph    *graph,
                  const char *name,
                  int         a,
                  int         b)
{
  return add_binary (graph, NN_OP_ADD, name, a, b);
}

int
nn_graph_add_mul (NnGraph    *graph,
                  const char *name,
                  int         a,
                  int         b)
{
  return add_binary (graph, NN_OP_MUL, name, a, b);
}

int
nn_graph_add_reduce (NnGraph    *graph,
                     NnOp        op,
                     const char *name,
                     int         input,
                     int         axes,
                     bool        keepdims)
{
  NN_ASSERT (op == NN_OP_REDUCE_SUM || op == NN_OP_REDUCE_MEAN || op == NN_OP_REDUCE_MAX);
  NnNode spec = spec_new (op, name, input);
  spec.attrs.reduce = (NnReduceAttrs) { axes, keepdims };
  return add_or_die (graph, &spec);
}

int
nn_graph_add_transpose (NnGraph    *graph,
                        const char *name,
                        int         input,
                        const int  *perm)
{
  NN_ASSERT (input >= 0 && input < graph->n_nodes);
  NnNode spec = spec_new (NN_OP_TRANSPOSE, name, input);
  spec.attrs.transpose.rank = graph->nodes[input].shape.rank;
  for (int d = 0; d < spec.attrs.transpose.rank; d++)
    spec.attrs.transpose.perm[d] = perm[d];
  return add_or_die (graph, &spec);
}

int
nn_graph_add_slice (NnGraph    *graph,
                    const char *name,
                    int         input,
                    int         axis,
                    int         start,
                    int         size)
{
  NnNode spec = spec_new (NN_OP_SLICE, name, input);
  spec.attrs.slice = (NnSliceAttrs) { axis, start, size };
  return add_or_die (graph, &spec);
}

int
nn_graph_add_dense (NnGraph    *graph,
                    const char *name,
                    int         input,
                    int         out_features,
                    bool        bias)
{
  NnNode spec = spec_new (NN_OP_DENSE, name, input);
  spec.attrs.linear = (NnLinearAttrs) { .out_features = out_features, .bias = bias };
  return add_or_die (graph, &spec);
}

int
nn_graph_add_matmul (NnGraph    *graph,
                     const char *name,
                     int         a,
                     int         b)
{
  NnNode spec = spec_new (NN_OP_MATMUL, name, a);
  spec.inputs[1] = b;
  spec.n_inputs = 2;
  return add_or_die (graph, &spec);
}

int
nn_graph_add_softmax_axis (NnGraph    *graph,
                           const char *name,
                           int         input,
                           int         axis)
{
  NnNode spec = spec_new (NN_OP_SOFTMAX_AXIS, name, input);
  spec.attrs.axis.axis = axis;
  return add_or_die (graph, &spec);
}

int
nn_graph_add_broadcast (NnGraph    *graph,
                        NnOp        op,
                        const char *name,
                        int         a,
                        int         b)
{
  NN_ASSERT (op == NN_OP_BROADCAST_ADD || op == NN_OP_BROADCAST_SUB
             || op == NN_OP_BROADCAST_MUL || op == NN_OP_BROADCAST_DIV);
  return add_binary (graph, op, name, a, b);
}

int
nn_graph_add_concat (NnGraph    *graph,
                     const char *name,
                     const int  *inputs,
                     int         n_inputs)
{
  NN_ASSERT (n_inputs >= 1 && n_inputs <= NN_MAX_INPUTS);
  NnNode spec = spec_new (NN_OP_CONCAT, name, -1);
  for (int i = 0; i < n_inputs; i++)
    spec.inputs[i] = inputs[i];
  spec.n_inputs = n_inputs;
  return add_or_die (graph, &spec);
}

int
nn_graph_add_flatten (NnGraph    *graph,
                      const char *name,
                      int         input)
{
  NnNode spec = spec_new (NN_OP_FLATTEN, name, input);
  return add_or_die (graph, &spec);
}

int
nn_graph_add_softmax (NnGraph    *graph,
                      const char *name,
                      int         input)
{
  NnNode spec = spec_new (NN_OP_SOFTMAX, name, input);
  return add_or_die (graph, &spec);
}

int
nn_graph_add_dropout (NnGraph    *graph,
                      const char *name,
                      int         input,
                      float       p)
{
  NnNode spec = spec_new (NN_OP_DROPOUT, name, input);
  spec.attrs.dropout.p = p;
  return add_or_die (graph, &spec);
}

int
nn_graph_add_scale (NnGraph    *graph,
                    const char *name,
                    int         input,
                    bool        per_element)
{
  NnNode spec = spec_new (NN_OP_SCALE, name, input);
  spec.attrs.channel.per_element = per_element;
  return add_or_die (graph, &spec);
}

int
nn_graph_add_prelu (NnGraph    *graph,
                    const char *name,
                    int         input,
                    bool        per_element)
{
  NnNode spec = spec_new (NN_OP_PRELU, name, input);
  spec.attrs.channel.per_element = per_element;
  return add_or_die (graph, &spec);
}

int
nn_graph_add_pad (NnGraph    *graph,
                  const char *name,
                  int         input,
                  int         pad_t,
                  int         pad_l,
                  int         pad_b,
                  int         pad_r,
                  float       value)
{
  NnNode spec = spec_new (NN_OP_PAD, name, input);
  spec.attrs.pad = (NnPadAttrs) { pad_t, pad_l, pad_b, pad_r, value };
  return add_or_die (graph, &spec);
}

int
nn_graph_add_reshape (NnGraph    *graph,
                      const char *name,
                      int         input,
                      int         c,
                      int         h,
                      int         w)
{
  return nn_graph_add_reshape_shape (graph, name, input, nn_shape_chw (c, h, w));
}

int
nn_graph_add_reshape_shape (NnGraph    *graph,
                            const char *name,
                            int         input,
                            NnShape     shape)
{
  NnNode spec = spec_new (NN_OP_RESHAPE, name, input);
  spec.shape = shape;
  return add_or_die (graph, &spec);
}

int
nn_graph_add_activation_full (NnGraph    *graph,
                              const char *name,
                              int         input,
                              NnActKind   kind,
                              float       alpha,
                              float       beta)
{
  NnNode spec = spec_new (NN_OP_ACTIVATION, name, input);
  spec.attrs.act = (NnActAttrs) { .kind = kind, .slope = 0.0f, .alpha = alpha, .beta = beta,
                                  .policy = { NN_GRAD_EXACT, 0.0f } };
  return add_or_die (graph, &spec);
}
