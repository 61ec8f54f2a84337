/* SPDX-License-Identifier: MIT */
/* The dispatch of one op: the switch over NnOp that runs a node's forward or backward kernel over
 * a range of samples, the split of a single sample over the workers, and which ops split how. */
#include "graph/nn-context-private.h"

#include "graph/nn-op.h"
#include <string.h>

#include "ops/nn-activation.h"
#include "ops/nn-channelwise.h"
#include "ops/nn-conv2d.h"
#include "ops/nn-elementwise.h"
#include "ops/nn-linear.h"
#include "ops/nn-norm.h"
#include "ops/nn-pool.h"
#include "core/nn-workers.h"

NnConvGeom
nn_context_conv_geom (const NnGraph *graph,
                      const NnNode  *node,
                      int            batch)
{
  const NnShape in = graph->nodes[node->inputs[0]].shape;
  const NnConvAttrs *a = &node->attrs.conv;
  return (NnConvGeom) {
    .B = batch, .C = in.c, .H = in.h, .W = in.w,
    .OC = a->out_channels, .KH = a->kh, .KW = a->kw, .SH = a->sh, .SW = a->sw,
    .PT = a->pad_t, .PL = a->pad_l, .PB = a->pad_b, .PR = a->pad_r,
    .DH = a->dh, .DW = a->dw, .G = a->groups, .OH = node->shape.h, .OW = node->shape.w,
  };
}

const float *
nn_context_param_ptr (const NnGraph *graph,
                      int            node,
                      NnParamRole    role)
{
  int p = nn_graph_node_param (graph, node, role);
  return p >= 0 ? graph->data + graph->params[p].offset : NULL;
}

const NnActAttrs *
nn_context_act_attrs (const NnContext *ctx,
                      const NnNode    *node,
                      NnActAttrs      *proxy)
{
  const NnActAttrs *a = &node->attrs.act;
  if (!ctx->has_override || ctx->policy_override.kind != NN_GRAD_PROXY_FULL
      || a->kind != NN_ACT_RELU)
    return a;
  *proxy = *a;
  proxy->slope = ctx->policy_override.beta;
  return proxy;
}

/* Whether the node, in the context's mode, ties the samples of the batch together
 * (NnOpCoupling). */
static bool
couples_batch (const NnContext *ctx,
               const NnNode    *node)
{
  if (!ctx->training)
    return false;
  switch (nn_op_info (node->op)->coupling)
    {
    case NN_OP_COUPLING_STATS:
      return true;
    case NN_OP_COUPLING_RNG:
      return node->attrs.dropout.p > 0.0f;
    case NN_OP_COUPLING_NONE:
      return false;
    }
  return false;
}

bool
nn_context_splits_over_batch (const NnContext *ctx,
                              const NnNode    *node)
{
  return nn_op_info (node->op)->split != NN_OP_SPLIT_NONE && !couples_batch (ctx, node);
}

bool
nn_context_splits_over_channels (const NnContext *ctx,
                                 const NnNode    *node)
{
  return nn_op_info (node->op)->coupling == NN_OP_COUPLING_STATS && couples_batch (ctx, node);
}

bool
nn_context_splits_single_sample (const NnContext *ctx,
                                 const NnNode    *node)
{
  return nn_op_info (node->op)->sample_split && !couples_batch (ctx, node);
}

void
nn_context_forward_slice (NnContext *ctx,
                          int        i,
                          int        b0,
                          int        nb,
                          int        w)
{
  NnGraph *graph = ctx->graph;
  const NnNode *node = &graph->nodes[i];
  const size_t osz = nn_shape_size (node->shape);
  float *out = ctx->out[i] + (size_t) b0 * osz;
  const NnShape is = node->n_inputs > 0 ? graph->nodes[node->inputs[0]].shape : node->shape;
  const size_t isz = nn_shape_size (is);
  const float *in = node->n_inputs > 0 ? ctx->out[node->inputs[0]] + (size_t) b0 * isz : NULL;
  const size_t n = osz * (size_t) nb;
  const int B = ctx->batch;

  switch (node->op)
    {
    case NN_OP_INPUT:
      break;
    case NN_OP_CONV2D:
      {
        NnConvGeom g = nn_context_conv_geom (graph, node, nb);
        nn_conv2d_forward (out, ctx->scratch + (size_t) w * ctx->scratch_size, in,
                           nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT),
                           nn_context_param_ptr (graph, i, NN_PARAM_BIAS), &g);
        break;
      }
    case NN_OP_LINEAR:
      nn_linear_forward (out, in, nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT),
                         nn_context_param_ptr (graph, i, NN_PARAM_BIAS), nb, (int) isz,
                         node->shape.c);
      break;
    case NN_OP_BATCHNORM:
      {
        const NnNormAttrs *a = &node->attrs.norm;
        int pm = nn_graph_node_param (graph, i, NN_PARAM_RUNNING_MEAN);
        int pv = nn_graph_node_param (graph, i, NN_PARAM_RUNNING_VAR);
        float *rm = graph->data + graph->params[pm].offset;
        float *rv = graph->data + graph->params[pv].offset;
        int C = node->shape.c, HW = node->shape.h * node->shape.w;
        if (ctx->training)
          nn_batchnorm_forward_train (out, ctx->stats[i], ctx->stats[i] + C, rm, rv, in,
                                      nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT),
                                      nn_context_param_ptr (graph, i, NN_PARAM_BIAS), nb, C, HW,
                                      a->eps, a->momentum);
        else
          nn_batchnorm_forward_eval (out, in, nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT),
                                     nn_context_param_ptr (graph, i, NN_PARAM_BIAS), rm, rv, nb, C,
                                     HW, a->eps);
        break;
      }
    case NN_OP_INSTANCENORM:
      {
        int C = node->shape.c, HW = node->shape.h * node->shape.w;
        float *mean = ctx->stats[i] + (size_t) b0 * C;
        float *invstd = ctx->stats[i] + (size_t) B * C + (size_t) b0 * C;
        nn_instancenorm_forward (out, mean, invstd, in,
                                 nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT),
                                 nn_context_param_ptr (graph, i, NN_PARAM_BIAS), nb, C, HW,
                                 node->attrs.norm.eps);
        break;
      }
    case NN_OP_ACTIVATION:
      {
        NnActAttrs proxy;
        nn_activation_forward (out, in, n, nn_context_act_attrs (ctx, node, &proxy));
        break;
      }
    case NN_OP_MAXPOOL:
      nn_maxpool_forward (out, ctx->argmax[i] + (size_t) b0 * osz, in, &node->attrs.pool, nb,
                          is.c, is.h, is.w, node->shape.h, node->shape.w);
      break;
    case NN_OP_AVGPOOL:
      nn_avgpool_forward (out, in, &node->attrs.pool, nb, is.c, is.h, is.w, node->shape.h,
                          node->shape.w);
      break;
    case NN_OP_GLOBAL_AVGPOOL:
      nn_global_avgpool_forward (out, in, nb, is.c, is.h * is.w);
      break;
    case NN_OP_ADD:
      nn_add_forward (out, in, ctx->out[node->inputs[1]] + (size_t) b0 * osz, n);
      break;
    case NN_OP_MUL:
      nn_mul_forward (out, in, ctx->out[node->inputs[1]] + (size_t) b0 * osz, n);
      break;
    case NN_OP_CONCAT:
      {
        const float *ins[NN_MAX_INPUTS];
        int channels[NN_MAX_INPUTS];
        for (int k = 0; k < node->n_inputs; k++)
          {
            const NnShape ks = graph->nodes[node->inputs[k]].shape;
            ins[k] = ctx->out[node->inputs[k]] + (size_t) b0 * nn_shape_size (ks);
            channels[k] = ks.c;
          }
        nn_concat_forward (out, ins, channels, node->n_inputs, nb,
                           node->shape.h * node->shape.w);
        break;
      }
    case NN_OP_FLATTEN:
    case NN_OP_RESHAPE:
      memcpy (out, in, sizeof (float) * n);
      break;
    case NN_OP_SOFTMAX:
      nn_softmax_forward (out, in, nb, (int) osz);
      break;
    case NN_OP_SCALE:
    case NN_OP_PRELU:
      {
        /* Per element is per channel over (C H W, 1). */
        const bool pe = node->attrs.channel.per_element;
        const int C = pe ? (int) isz : is.c, HW = pe ? 1 : is.h * is.w;
        if (node->op == NN_OP_SCALE)
          nn_scale_forward (out, in, nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT),
                            nn_context_param_ptr (graph, i, NN_PARAM_BIAS), nb, C, HW);
        else
          nn_prelu_forward (out, in, nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT), nb, C, HW);
        break;
      }
    case NN_OP_PAD:
      {
        const NnPadAttrs *a = &node->attrs.pad;
        nn_pad_forward (out, in, nb, is.c, is.h, is.w, a->pad_t, a->pad_l, a->pad_b, a->pad_r,
                        a->value);
        break;
      }
    case NN_OP_DROPOUT:
      if (ctx->training && node->attrs.dropout.p > 0.0f)
        nn_dropout_forward (out, ctx->mask[i] + (size_t) b0 * osz, in, n, node->attrs.dropout.p,
                            &ctx->rng);
      else
        memcpy (out, in, sizeof (float) * n);
      break;
    case NN_OP_COUNT_:
    default:
      NN_ASSERT (!"unknown op");
    }
}

/* A node of a batch of one, split within the sample over the workers. */
typedef struct
{
  NnContext *ctx;
  int        node;
} SampleJob;

static void
single_sample_work (void *data,
                    int   index,
                    int   n)
{
  SampleJob *job = data;
  NnContext *ctx = job->ctx;
  NnGraph *graph = ctx->graph;
  const int i = job->node;
  const NnNode *node = &graph->nodes[i];
  const NnShape is = graph->nodes[node->inputs[0]].shape;
  const size_t ohw = (size_t) node->shape.h * node->shape.w, ihw = (size_t) is.h * is.w;
  const float *in = ctx->out[node->inputs[0]];
  float *out = ctx->out[i];
  int c0, nc;

  switch (node->op)
    {
    case NN_OP_CONV2D:
      {
        /* Groups are independent; without groups each worker takes a share of the output rows
         * or of the output channels (and then builds its own im2col matrix). */
        NnConvGeom g = nn_context_conv_geom (graph, node, 1);
        const float *weight = nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT);
        const float *bias = nn_context_param_ptr (graph, i, NN_PARAM_BIAS);
        const int Cg = g.C / g.G, M = g.OC / g.G;
        const size_t wsize = (size_t) Cg * g.KH * g.KW;
        if (g.G > 1)
          {
            nn_context_batch_share (g.G, index, n, &c0, &nc);
            g.G = nc;
            g.C = nc * Cg;
            g.OC = nc * M;
            in += (size_t) c0 * Cg * ihw;
            weight += (size_t) c0 * M * wsize;
            bias = bias ? bias + (size_t) c0 * M : NULL;
            out += (size_t) c0 * M * ohw;
          }
        else if (nn_conv2d_splits_rows (&g, n))
          {
            nn_conv2d_forward_part (out, ctx->scratch + (size_t) index * ctx->scratch_size, in,
                                    weight, bias, &g, index, n);
            return;
          }
        else
          {
            nn_context_batch_share (g.OC, index, n, &c0, &nc);
            g.OC = nc;
            weight += (size_t) c0 * wsize;
            bias = bias ? bias + c0 : NULL;
            out += (size_t) c0 * ohw;
          }
        if (nc > 0)
          nn_conv2d_forward (out, ctx->scratch + (size_t) index * ctx->scratch_size, in, weight,
                             bias, &g);
        return;
      }
    case NN_OP_BATCHNORM:
      {
        nn_context_batch_share (node->shape.c, index, n, &c0, &nc);
        if (nc == 0)
          return;
        const float *gamma = nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT);
        const float *beta = nn_context_param_ptr (graph, i, NN_PARAM_BIAS);
        nn_batchnorm_forward_eval (out + (size_t) c0 * ohw, in + (size_t) c0 * ihw,
                                   gamma ? gamma + c0 : NULL, beta ? beta + c0 : NULL,
                                   nn_context_param_ptr (graph, i, NN_PARAM_RUNNING_MEAN) + c0,
                                   nn_context_param_ptr (graph, i, NN_PARAM_RUNNING_VAR) + c0, 1,
                                   nc, (int) ohw, node->attrs.norm.eps);
        return;
      }
    case NN_OP_MAXPOOL:
      nn_context_batch_share (node->shape.c, index, n, &c0, &nc);
      if (nc > 0)
        nn_maxpool_forward (out + (size_t) c0 * ohw, ctx->argmax[i] + (size_t) c0 * ohw,
                            in + (size_t) c0 * ihw, &node->attrs.pool, 1, nc, is.h, is.w,
                            node->shape.h, node->shape.w);
      return;
    case NN_OP_AVGPOOL:
      nn_context_batch_share (node->shape.c, index, n, &c0, &nc);
      if (nc > 0)
        nn_avgpool_forward (out + (size_t) c0 * ohw, in + (size_t) c0 * ihw, &node->attrs.pool, 1,
                            nc, is.h, is.w, node->shape.h, node->shape.w);
      return;
    case NN_OP_GLOBAL_AVGPOOL:
      nn_context_batch_share (node->shape.c, index, n, &c0, &nc);
      if (nc > 0)
        nn_global_avgpool_forward (out + c0, in + (size_t) c0 * ihw, 1, nc, (int) ihw);
      return;
    case NN_OP_ACTIVATION:
    case NN_OP_ADD:
    case NN_OP_MUL:
    case NN_OP_FLATTEN:
    case NN_OP_RESHAPE:
    case NN_OP_DROPOUT:
      {
        /* Ranges of whole cache lines (16 floats). */
        const size_t total = nn_shape_size (node->shape);
        int l0, nl;
        nn_context_batch_share ((int) ((total + 15) / 16), index, n, &l0, &nl);
        size_t e0 = (size_t) l0 * 16, e1 = (size_t) (l0 + nl) * 16;
        if (e1 > total)
          e1 = total;
        if (e0 >= e1)
          return;
        NnActAttrs proxy;
        if (node->op == NN_OP_ACTIVATION)
          nn_activation_forward (out + e0, in + e0, e1 - e0,
                                 nn_context_act_attrs (ctx, node, &proxy));
        else if (node->op == NN_OP_ADD)
          nn_add_forward (out + e0, in + e0, ctx->out[node->inputs[1]] + e0, e1 - e0);
        else if (node->op == NN_OP_MUL)
          nn_mul_forward (out + e0, in + e0, ctx->out[node->inputs[1]] + e0, e1 - e0);
        else
          memcpy (out + e0, in + e0, sizeof (float) * (e1 - e0));
        return;
      }
    case NN_OP_INPUT:
    case NN_OP_LINEAR:
    case NN_OP_INSTANCENORM:
    case NN_OP_CONCAT:
    case NN_OP_SOFTMAX:
    case NN_OP_SCALE:
    case NN_OP_PRELU:
    case NN_OP_PAD:
    case NN_OP_COUNT_:
    default:
      NN_ASSERT (!"op does not split within a sample");
    }
}

void
nn_context_forward_single_sample (NnContext *ctx,
                                  int        i)
{
  SampleJob job = { ctx, i };
  nn_workers_run (ctx->workers, single_sample_work, &job);
}

void
nn_context_zero_input_grads (NnContext *ctx,
                             int        i,
                             int        b0,
                             int        nb)
{
  const NnNode *node = &ctx->graph->nodes[i];
  for (int k = 0; k < node->n_inputs; k++)
    {
      int j = node->inputs[k];
      if (ctx->zero_by[j] != i)
        continue;
      size_t size = nn_shape_size (ctx->graph->nodes[j].shape);
      memset (ctx->grad[j] + (size_t) b0 * size, 0, sizeof (float) * size * (size_t) nb);
    }
}

void
nn_context_backward_slice (NnContext *ctx,
                           int        i,
                           int        b0,
                           int        nb,
                           int        w,
                           bool       want_params)
{
  NnGraph *graph = ctx->graph;
  const NnNode *node = &graph->nodes[i];
  const size_t osz = nn_shape_size (node->shape);
  const float *dout = ctx->grad[i] + (size_t) b0 * osz;
  const float *out = ctx->out[i] + (size_t) b0 * osz;
  const int i0 = node->n_inputs > 0 ? node->inputs[0] : 0;
  const NnShape is = node->n_inputs > 0 ? graph->nodes[i0].shape : node->shape;
  const size_t isz = nn_shape_size (is);
  float *din = node->n_inputs > 0 && ctx->want[i0] ? ctx->grad[i0] + (size_t) b0 * isz : NULL;
  const float *in = node->n_inputs > 0 ? ctx->out[i0] + (size_t) b0 * isz : NULL;
  const size_t n = osz * (size_t) nb;
  const int B = ctx->batch;

  nn_context_zero_input_grads (ctx, i, b0, nb);
  switch (node->op)
    {
    case NN_OP_INPUT:
      break;
    case NN_OP_CONV2D:
      {
        NnConvGeom g = nn_context_conv_geom (graph, node, nb);
        float *dw = nn_context_param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, want_params, w);
        float *db = nn_context_param_grad_ptr (ctx, i, NN_PARAM_BIAS, want_params, w);
        if (din || dw || db)
          nn_conv2d_backward (din, dw, db, ctx->scratch + (size_t) w * ctx->scratch_size, dout,
                              in, nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT), &g);
        break;
      }
    case NN_OP_LINEAR:
      {
        float *dw = nn_context_param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, want_params, w);
        float *db = nn_context_param_grad_ptr (ctx, i, NN_PARAM_BIAS, want_params, w);
        if (din || dw || db)
          nn_linear_backward (din, dw, db, dout, in,
                              nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT), nb, (int) isz,
                              node->shape.c);
        break;
      }
    case NN_OP_BATCHNORM:
      {
        const NnNormAttrs *a = &node->attrs.norm;
        int C = node->shape.c, HW = node->shape.h * node->shape.w;
        float *dg = nn_context_param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, want_params, w);
        float *db = nn_context_param_grad_ptr (ctx, i, NN_PARAM_BIAS, want_params, w);
        const float *gamma = nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT);
        if (!(din || dg || db))
          break;
        if (ctx->training)
          nn_batchnorm_backward_train (din, dg, db, dout, in, gamma, ctx->stats[i],
                                       ctx->stats[i] + C, nb, C, HW);
        else
          nn_batchnorm_backward_eval (din, dg, db, dout, in, gamma,
                                      nn_context_param_ptr (graph, i, NN_PARAM_RUNNING_MEAN),
                                      nn_context_param_ptr (graph, i, NN_PARAM_RUNNING_VAR), nb, C,
                                      HW, a->eps);
        break;
      }
    case NN_OP_INSTANCENORM:
      {
        int C = node->shape.c, HW = node->shape.h * node->shape.w;
        float *dg = nn_context_param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, want_params, w);
        float *db = nn_context_param_grad_ptr (ctx, i, NN_PARAM_BIAS, want_params, w);
        if (din || dg || db)
          nn_instancenorm_backward (din, dg, db, dout, in,
                                    nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT),
                                    ctx->stats[i] + (size_t) b0 * C,
                                    ctx->stats[i] + (size_t) B * C + (size_t) b0 * C, nb, C, HW);
        break;
      }
    case NN_OP_ACTIVATION:
      if (din)
        {
          const NnActAttrs *a = &node->attrs.act;
          const NnGradPolicy *policy = ctx->has_override && a->kind == NN_ACT_RELU
                                       ? &ctx->policy_override : &a->policy;
          nn_activation_backward (din, dout, in, out, n, a, policy);
        }
      break;
    case NN_OP_MAXPOOL:
      if (din)
        nn_maxpool_backward (din, dout, ctx->argmax[i] + (size_t) b0 * osz, nb, is.c, is.h,
                             is.w, node->shape.h, node->shape.w);
      break;
    case NN_OP_AVGPOOL:
      if (din)
        nn_avgpool_backward (din, dout, &node->attrs.pool, nb, is.c, is.h, is.w, node->shape.h,
                             node->shape.w);
      break;
    case NN_OP_GLOBAL_AVGPOOL:
      if (din)
        nn_global_avgpool_backward (din, dout, nb, is.c, is.h * is.w);
      break;
    case NN_OP_ADD:
      {
        int i1 = node->inputs[1];
        nn_add_backward (din, ctx->want[i1] ? ctx->grad[i1] + (size_t) b0 * osz : NULL, dout, n);
        break;
      }
    case NN_OP_MUL:
      {
        int i1 = node->inputs[1];
        nn_mul_backward (din, ctx->want[i1] ? ctx->grad[i1] + (size_t) b0 * osz : NULL, dout, in,
                         ctx->out[i1] + (size_t) b0 * osz, n);
        break;
      }
    case NN_OP_CONCAT:
      {
        float *dins[NN_MAX_INPUTS];
        int channels[NN_MAX_INPUTS];
        for (int k = 0; k < node->n_inputs; k++)
          {
            int j = node->inputs[k];
            size_t ksz = nn_shape_size (graph->nodes[j].shape);
            dins[k] = ctx->want[j] ? ctx->grad[j] + (size_t) b0 * ksz : NULL;
            channels[k] = graph->nodes[j].shape.c;
          }
        nn_concat_backward (dins, dout, channels, node->n_inputs, nb,
                            node->shape.h * node->shape.w);
        break;
      }
    case NN_OP_FLATTEN:
    case NN_OP_RESHAPE:
      if (din)
        nn_add_backward (din, NULL, dout, n);
      break;
    case NN_OP_SCALE:
    case NN_OP_PRELU:
      {
        const bool pe = node->attrs.channel.per_element;
        const int C = pe ? (int) isz : is.c, HW = pe ? 1 : is.h * is.w;
        const float *weight = nn_context_param_ptr (graph, i, NN_PARAM_WEIGHT);
        float *dw = nn_context_param_grad_ptr (ctx, i, NN_PARAM_WEIGHT, want_params, w);
        float *db = nn_context_param_grad_ptr (ctx, i, NN_PARAM_BIAS, want_params, w);
        if (node->op == NN_OP_SCALE && (din || dw || db))
          nn_scale_backward (din, dw, db, dout, in, weight, nb, C, HW);
        else if (node->op == NN_OP_PRELU && (din || dw))
          nn_prelu_backward (din, dw, dout, in, weight, nb, C, HW);
        break;
      }
    case NN_OP_PAD:
      if (din)
        {
          const NnPadAttrs *a = &node->attrs.pad;
          nn_pad_backward (din, dout, nb, is.c, is.h, is.w, a->pad_t, a->pad_l, a->pad_b,
                           a->pad_r);
        }
      break;
    case NN_OP_SOFTMAX:
      if (din)
        nn_softmax_backward (din, dout, out, nb, (int) osz);
      break;
    case NN_OP_DROPOUT:
      if (din)
        {
          if (ctx->training && node->attrs.dropout.p > 0.0f)
            nn_dropout_backward (din, dout, ctx->mask[i] + (size_t) b0 * osz, n,
                                 node->attrs.dropout.p);
          else
            nn_add_backward (din, NULL, dout, n);
        }
      break;
    case NN_OP_COUNT_:
    default:
      NN_ASSERT (!"unknown op");
    }
}
