/* SPDX-License-Identifier: MIT */
/* ONNX import, one node at a time: each supported op becomes engine nodes (conv, linear, batch
 * norm, activations, pooling, scale, ...), an alias of its input (Identity, reshapes that keep
 * the per-sample layout) or a constant (nn-onnx-const.c). Run-time tensors keep their ONNX
 * shape, whose first dimension is the batch. */
#include "io/nn-onnx-private.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Attributes. */

/* The string attribute, or fallback. */
static const char *
attr_string (const NnOnnxNode *node,
             const char       *name,
             const char       *fallback,
             char             *buf,
             size_t            size)
{
  const Onnx__AttributeProto *a = nn_onnx_attr (node, name);
  if (a == NULL || !a->has_s)
    return fallback;
  size_t n = a->s.len < size - 1 ? a->s.len : size - 1;
  if (n > 0)
    memcpy (buf, a->s.data, n);
  buf[n] = '\0';
  return buf;
}

/* Integer list attribute of exactly `want` entries, or absent (false with *present false). */
static bool
attr_ints (const NnOnnxNode *node,
           const char       *name,
           int               want,
           int64_t          *out,
           bool             *present,
           NnError          *err)
{
  const Onnx__AttributeProto *a = nn_onnx_attr (node, name);
  *present = a != NULL;
  if (a == NULL)
    return true;
  if ((int) a->n_ints != want)
    return nn_onnx_node_fail (node, err, NN_ERROR_UNSUPPORTED, "attribute '%s' has %zu entries, "
                              "expected %d", name, a->n_ints, want);
  for (int k = 0; k < want; k++)
    {
      if (a->ints[k] < -(1 << 20) || a->ints[k] > (1 << 20))
        return nn_onnx_node_fail (node, err, NN_ERROR_SPEC, "attribute '%s' out of range", name);
      out[k] = a->ints[k];
    }
  return true;
}

/* Inputs and outputs. */

static NnOnnxValue *
dynamic_input (const NnOnnxNode *n,
               int               k,
               NnError          *err)
{
  if (k >= n->n_in || n->in[k] == NULL)
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "input %d is missing", k), NULL;
  if (n->in[k]->is_const)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "input %d ('%.100s') must be computed "
                              "from the image, not a constant", k, n->in[k]->name), NULL;
  return n->in[k];
}

static NnOnnxValue *
const_input (const NnOnnxNode *n,
             int               k,
             bool              optional,
             NnError          *err)
{
  if (k >= n->n_in || n->in[k] == NULL)
    {
      if (!optional)
        nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "input %d is missing", k);
      return NULL;
    }
  if (!n->in[k]->is_const)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "input %d ('%.100s') must be a "
                              "constant (initializer), but is computed at run time", k,
                              n->in[k]->name), NULL;
  return n->in[k];
}

static bool
has_extra_outputs (const NnOnnxNode *n)
{
  for (size_t k = 1; k < n->proto->n_output; k++)
    if (n->proto->output[k] != NULL && n->proto->output[k][0] != '\0')
      return true;
  return false;
}

/* Records the node's output 0 as run-time tensor of engine node `node` with an ONNX shape and
 * its batch at axis bax (-1: merged). */
static bool
set_output_b (NnOnnxImporter *im,
              NnOnnxNode     *n,
              int             node,
              int             ndim,
              const int64_t  *dims,
              int             bax,
              NnError        *err)
{
  if (n->proto->n_output < 1 || n->proto->output[0] == NULL || n->proto->output[0][0] == '\0')
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "no output");
  NnShape s;
  NnOnnxValue shape = { .ndim = ndim, .bax = bax };
  memcpy (shape.dims, dims, sizeof (int64_t) * (size_t) ndim);
  if (!nn_onnx_value_sample_shape (&shape, &s))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "its output of rank %d has an empty "
                              "or too large dimension", ndim);
  const NnShape t = im->graph->nodes[node].shape;
  if (s.c != t.c || s.h != t.h || s.w != t.w)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "output shape %dx%dx%d differs from the "
                              "computed %dx%dx%d", s.c, s.h, s.w, t.c, t.h, t.w);
  NnOnnxValue *v = nn_onnx_value_add (im, n->proto->output[0], err);
  if (v == NULL)
    return false;
  v->node = node;
  v->ndim = ndim;
  v->bax = bax;
  memcpy (v->dims, dims, sizeof (int64_t) * (size_t) ndim);
  return true;
}

/* The same with the batch first. */
static bool
set_output (NnOnnxImporter *im,
            NnOnnxNode     *n,
            int             node,
            int             ndim,
            const int64_t  *dims,
            NnError        *err)
{
  return set_output_b (im, n, node, ndim, dims, 0, err);
}

/* Appends an engine node named after the ONNX node. */
static int
emit (NnOnnxImporter *im,
      NnOnnxNode     *n,
      NnNode         *spec,
      NnError        *err)
{
  nn_onnx_layer_name (im, n, spec->name);
  int index = nn_graph_add (im->graph, spec, err);
  if (index < 0)
    {
      char copy[sizeof err->message];
      snprintf (copy, sizeof copy, "%s", err ? err->message : "");
      nn_onnx_node_fail (n, err, err ? err->code : NN_ERROR_SPEC, "%s", copy);
    }
  return index;
}

static NnNode
spec_for (NnOp               op,
          const NnOnnxValue *x)
{
  NnNode spec;
  memset (&spec, 0, sizeof spec);
  spec.op = op;
  spec.inputs[0] = x->node;
  spec.n_inputs = 1;
  return spec;
}

/* The output of the node is its input seen with another ONNX shape: an alias when the
 * per-sample (C, H, W) is the same, else a reshape node. */
static bool
reshape_to (NnOnnxImporter *im,
            NnOnnxNode     *n,
            NnOnnxValue    *x,
            int             ndim,
            const int64_t  *dims,
            NnError        *err)
{
  /* The batch stays first, or, in a graph of batch 1, is the first axis of size 1 of the
   * result, or merged into the others. */
  int bax = 0;
  if (x->bax != 0 || dims[0] != x->dims[0])
    {
      if (x->bax >= 0 && x->dims[x->bax] != 1)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "it changes the batch dimension "
                                  "(%lld to %lld)", (long long) x->dims[x->bax],
                                  (long long) dims[0]);
      bax = -1;
      for (int d = ndim - 1; d >= 0; d--)
        bax = dims[d] == 1 ? d : bax;
    }
  NnShape s;
  NnOnnxValue shape = { .ndim = ndim, .bax = bax };
  memcpy (shape.dims, dims, sizeof (int64_t) * (size_t) ndim);
  if (!nn_onnx_value_sample_shape (&shape, &s))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "its output of rank %d has an empty "
                              "or too large dimension", ndim);
  const NnShape t = im->graph->nodes[x->node].shape;
  if (s.c == t.c && s.h == t.h && s.w == t.w)
    return set_output_b (im, n, x->node, ndim, dims, bax, err);
  NnNode spec = spec_for (NN_OP_RESHAPE, x);
  spec.shape = s;
  int node = emit (im, n, &spec, err);
  return node >= 0 && set_output_b (im, n, node, ndim, dims, bax, err);
}

static void
format_dims (const NnOnnxValue *v,
             char            *buf,
             size_t           size)
{
  size_t len = (size_t) snprintf (buf, size, "[");
  for (int d = 0; d < v->ndim && len < size; d++)
    len += (size_t) snprintf (buf + len, size - len, d ? ",%lld" : "%lld",
                              (long long) v->dims[d]);
  if (len < size)
    snprintf (buf + len, size - len, "]");
}

/* How constant k broadcasts against a run-time tensor of shape (ndim, dims) without changing
 * its shape: 1 when it is a scalar, 2 when it varies along the channel axis (1) only, 3 when
 * it varies along other axes but not the batch, 0 when it varies along the batch or does not
 * broadcast. */
static int
channel_broadcast (const NnOnnxValue *k,
                   int                ndim,
                   const int64_t     *dims)
{
  if (k->ndim > ndim)
    return 0;
  int kind = 1;
  for (int j = 0; j < k->ndim; j++)
    {
      int axis = ndim - k->ndim + j;
      if (k->dims[j] == 1)
        continue;
      if (axis == 0 || k->dims[j] != dims[axis])
        return 0;
      kind = axis == 1 && kind < 3 ? 2 : 3;
    }
  return kind;
}

/* Fills out[C] from a scalar or per-channel constant. */
static void
channel_values (const NnOnnxValue *k,
                int                C,
                float             *out)
{
  for (int c = 0; c < C; c++)
    out[c] = (float) nn_onnx_value_get (k, k->count == 1 ? 0 : (size_t) c);
}

/* Fills out with constant k broadcast to one sample of a tensor of shape (ndim, dims): n values
 * in row-major order of dims[1 ..]. */
static void
element_values (const NnOnnxValue *k,
                int                ndim,
                const int64_t     *dims,
                size_t             n,
                float             *out)
{
  for (size_t e = 0; e < n; e++)
    {
      /* The index of e in k: its coordinates along the axes k has (size-1 axes repeat). */
      size_t rem = e, src = 0, stride = 1;
      for (int axis = ndim - 1; axis >= 1; axis--)
        {
          size_t coord = rem % (size_t) dims[axis];
          rem /= (size_t) dims[axis];
          int j = axis - (ndim - k->ndim);
          if (j < 0)
            continue;
          if (k->dims[j] != 1)
            src += coord * stride;
          stride *= (size_t) k->dims[j];
        }
      out[e] = (float) nn_onnx_value_get (k, src);
    }
}

/* Scale and PReLU parameters from constant k: per channel (n = C) or per element. */
static void
constant_params (const NnOnnxValue *k,
                 const NnOnnxValue *x,
                 bool               per_element,
                 size_t             n,
                 float             *out)
{
  if (per_element)
    element_values (k, x->ndim, x->dims, n, out);
  else
    channel_values (k, (int) n, out);
}

/* Whether constant k is a scalar or varies along `axis` of a tensor of shape (ndim, dims)
 * only. */
static bool
varies_along (const NnOnnxValue *k,
              int                ndim,
              const int64_t     *dims,
              int                axis)
{
  if (k->ndim > ndim)
    return false;
  for (int j = 0; j < k->ndim; j++)
    {
      const int d = ndim - k->ndim + j;
      if (k->dims[j] != 1 && (d != axis || k->dims[j] != dims[d]))
        return false;
    }
  return true;
}

/* A constant Add right after this node (its only reader) that is a bias along `axis` (the
 * channels of a convolution, the features of a linear layer): folded in. */
static const NnOnnxValue *
fusable_bias (NnOnnxImporter *im,
              NnOnnxNode     *n,
              int             ndim,
              const int64_t  *dims,
              int             axis)
{
  if (im->consumers[n->index] != 1)
    return NULL;
  const Onnx__NodeProto *next = im->model->graph->node[im->first_use[n->index]];
  if (strcmp (next->op_type, "Add") != 0 || next->n_input != 2 || next->n_output < 1
      || (next->domain != NULL && next->domain[0] != '\0'))
    return NULL;
  const char *mine = n->proto->output[0];
  const char *other = strcmp (next->input[0], mine) == 0 ? next->input[1]
                      : strcmp (next->input[1], mine) == 0 ? next->input[0] : NULL;
  const NnOnnxValue *b = other != NULL ? nn_onnx_value_find (im, other) : NULL;
  if (b == NULL || !b->is_const || b->is_int || !varies_along (b, ndim, dims, axis))
    return NULL;
  im->fused[im->first_use[n->index]] = true;
  return b;
}

/* Spatial attributes of Conv and the pools over 1 or 2 spatial dims. */
typedef struct
{
  int k[2], s[2], d[2];
  int pb[2], pe[2];   /* padding at the beginning and end of each spatial dim */
  int extra[2];       /* of pe, what ceil_mode added */
} Window;

static bool
window_attrs (const NnOnnxNode  *n,
              const NnOnnxValue *x,
              const int64_t     *kernel,
              bool               allow_ceil,
              Window            *w,
              NnError           *err)
{
  const int nsp = x->ndim - 2;
  int64_t s[2] = { 1, 1 }, d[2] = { 1, 1 }, pads[4] = { 0, 0, 0, 0 };
  bool have;
  if (!attr_ints (n, "strides", nsp, s, &have, err)
      || !attr_ints (n, "dilations", nsp, d, &have, err)
      || !attr_ints (n, "pads", 2 * nsp, pads, &have, err))
    return false;
  char buf[32];
  const char *auto_pad = attr_string (n, "auto_pad", "NOTSET", buf, sizeof buf);
  for (int i = 0; i < 2; i++)
    {
      w->k[i] = i < nsp ? (int) kernel[i] : 1;
      w->s[i] = i < nsp ? (int) s[i] : 1;
      w->d[i] = i < nsp ? (int) d[i] : 1;
      w->pb[i] = i < nsp ? (int) pads[i] : 0;
      w->pe[i] = i < nsp ? (int) pads[nsp + i] : 0;
      w->extra[i] = 0;
      if (w->k[i] <= 0 || w->s[i] <= 0 || w->d[i] <= 0 || w->pb[i] < 0 || w->pe[i] < 0)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "kernel, strides, dilations or pads out "
                                  "of range");
      if (i >= nsp)
        continue;
      /* 64-bit arithmetic: attributes reach 2^20 and inputs 2^30. */
      const int64_t in = x->dims[2 + i], s_i = w->s[i];
      const int64_t span = (int64_t) (w->k[i] - 1) * w->d[i] + 1;
      if (strcmp (auto_pad, "SAME_UPPER") == 0 || strcmp (auto_pad, "SAME_LOWER") == 0)
        {
          int64_t out = (in + s_i - 1) / s_i;
          int64_t total = (out - 1) * s_i + span - in;
          total = total > 0 ? total : 0;
          if (total > 2048)
            return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "padding out of range");
          w->pb[i] = (int) (auto_pad[5] == 'U' ? total / 2 : total - total / 2);
          w->pe[i] = (int) total - w->pb[i];
        }
      else if (strcmp (auto_pad, "VALID") == 0)
        w->pb[i] = w->pe[i] = 0;
      else if (strcmp (auto_pad, "NOTSET") != 0)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "auto_pad '%s' is not supported",
                                  auto_pad);
      if (nn_onnx_attr_int (n, "ceil_mode", 0) != 0)
        {
          if (!allow_ceil)
            return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "ceil_mode is not supported "
                                      "here");
          /* Output size rounded up, as long as the last window starts inside the input or
           * its leading padding (PyTorch's rule); the end padding grows to match. */
          int64_t num = in + w->pb[i] + w->pe[i] - span;
          if (num < 0)
            return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "kernel larger than the input");
          int64_t out = (num + s_i - 1) / s_i + 1;
          if ((out - 1) * s_i >= in + w->pb[i])
            out--;
          int64_t extra = (out - 1) * s_i + span - (in + w->pb[i] + w->pe[i]);
          if (extra > 0)
            {
              w->pe[i] += (int) extra;
              w->extra[i] = (int) extra;
            }
        }
    }
  return true;
}

/* Output dims (B, C, spatial...) of a run-time tensor produced by a windowed node. */
static void
window_out_dims (const NnOnnxValue *x,
                 const NnShape     *s,
                 int64_t           *dims)
{
  dims[0] = x->dims[0];
  dims[1] = s->c;
  dims[2] = s->h;
  if (x->ndim == 4)
    dims[3] = s->w;
}

static bool
op_conv (NnOnnxImporter *im,
         NnOnnxNode     *n,
         NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  const NnOnnxValue *wt = x ? const_input (n, 1, false, err) : NULL;
  if (wt == NULL)
    return false;
  const NnOnnxValue *b = const_input (n, 2, true, err);
  if (b == NULL && n->n_in > 2 && n->in[2] != NULL)
    return false;
  if (x->ndim != 3 && x->ndim != 4)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "input of rank %d; 1-D and 2-D "
                              "convolutions are supported", x->ndim);
  if (wt->ndim != x->ndim || wt->is_int)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "weight of rank %d for an input of rank %d",
                              wt->ndim, x->ndim);
  const int64_t group = nn_onnx_attr_int (n, "group", 1);
  if (group <= 0 || group > x->dims[1] || wt->dims[1] * group != x->dims[1])
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "weight has %lld input channels per group "
                              "for %lld channels in %lld groups", (long long) wt->dims[1],
                              (long long) x->dims[1], (long long) group);
  int64_t kshape[2];
  bool have;
  if (!attr_ints (n, "kernel_shape", x->ndim - 2, kshape, &have, err))
    return false;
  for (int i = 0; i < x->ndim - 2; i++)
    if (have && kshape[i] != wt->dims[2 + i])
      return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "kernel_shape disagrees with the weight");
  Window w;
  if (!window_attrs (n, x, wt->dims + 2, false, &w, err))
    return false;
  if (wt->dims[0] < 1 || wt->dims[0] > (1 << 20))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "%lld output channels",
                              (long long) wt->dims[0]);
  const int OC = (int) wt->dims[0];
  if (b != NULL && (b->count != (size_t) OC || b->is_int))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "bias has %zu values for %d channels",
                              b->count, OC);
  int64_t out_dims[4] = { x->dims[0], OC, 1, 1 };
  const NnOnnxValue *fused = b == NULL ? fusable_bias (im, n, x->ndim, out_dims, 1) : NULL;
  NnNode spec = spec_for (NN_OP_CONV2D, x);
  spec.attrs.conv = (NnConvAttrs) {
    .out_channels = OC, .kh = w.k[0], .kw = w.k[1], .sh = w.s[0], .sw = w.s[1],
    .pad_t = w.pb[0], .pad_l = w.pb[1], .pad_b = w.pe[0], .pad_r = w.pe[1],
    .dh = w.d[0], .dw = w.d[1], .groups = (int) group, .bias = b != NULL || fused != NULL,
  };
  int node = emit (im, n, &spec, err);
  if (node < 0)
    return false;
  float *weight = nn_graph_param_data (im->graph, nn_graph_node_param (im->graph, node,
                                                                       NN_PARAM_WEIGHT));
  memcpy (weight, wt->f, sizeof (float) * wt->count);
  if (b != NULL || fused != NULL)
    channel_values (b != NULL ? b : fused, OC,
                    nn_graph_param_data (im->graph, nn_graph_node_param (im->graph, node,
                                                                         NN_PARAM_BIAS)));
  window_out_dims (x, &im->graph->nodes[node].shape, out_dims);
  return set_output (im, n, node, x->ndim, out_dims, err);
}

static int exact_shape (NnOnnxImporter    *im,
                        NnOnnxNode        *n,
                        const NnOnnxValue *x,
                        int                k,
                        NnError           *err);

/* MatMul of two run-time tensors (..., M, K) (..., K, N) of one rank whose leading dims are
 * equal: a matmul node. */
static bool
op_matmul (NnOnnxImporter *im,
           NnOnnxNode     *n,
           NnError        *err)
{
  const NnOnnxValue *a = n->in[0], *b = n->in[1];
  const int r = a->ndim;
  /* The batch is a leading axis (or merged), and two axes are left for the matrices. */
  bool ok = a->bax == b->bax && a->bax < r - 2 && r - (a->bax >= 0) >= 2 && b->ndim == r
            && a->dims[r - 1] == b->dims[r - 2];
  for (int d = 0; ok && d < r - 2; d++)
    ok = a->dims[d] == b->dims[d];
  if (!ok)
    {
      char as[96], bs[96];
      format_dims (a, as, sizeof as);
      format_dims (b, bs, sizeof bs);
      return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "product of run-time tensors of "
                                "shapes %s and %s; the same rank (at least 3, the batch first) "
                                "and leading dims are supported", as, bs);
    }
  const int ia = exact_shape (im, n, a, 0, err);
  const int ib = ia >= 0 ? exact_shape (im, n, b, 1, err) : -1;
  if (ib < 0)
    return false;
  NnNode spec = spec_for (NN_OP_MATMUL, a);
  spec.inputs[0] = ia;
  spec.inputs[1] = ib;
  spec.n_inputs = 2;
  int64_t out_dims[NN_ONNX_MAX_RANK];
  memcpy (out_dims, a->dims, sizeof (int64_t) * (size_t) r);
  out_dims[r - 1] = b->dims[r - 1];
  int node = emit (im, n, &spec, err);
  return node >= 0 && set_output_b (im, n, node, r, out_dims, a->bax, err);
}

/* Einsum of two run-time tensors that is a batched matrix product, as MaxViT's attention
 * exports it: "...ik,...kj->...ij" (a matmul node) or "...ik,...jk->...ij" (the second
 * transposed first, "<layer>.in1"), the leading labels the same on all three. */
static bool
op_einsum (NnOnnxImporter *im,
           NnOnnxNode     *n,
           NnError        *err)
{
  char eq[64];
  const char *text = attr_string (n, "equation", "", eq, sizeof eq);
  char l[3][NN_ONNX_MAX_RANK + 1];
  int len[3] = { 0, 0, 0 }, part = 0;
  bool ok = n->n_in == 2 && n->in[0] != NULL && n->in[1] != NULL && !n->in[0]->is_const
            && !n->in[1]->is_const;
  for (const char *c = text; ok && *c != '\0'; c++)
    if (*c == ',' && part == 0)
      part = 1;
    else if (*c == '-' && c[1] == '>' && part == 1)
      {
        part = 2;
        c++;
      }
    else if (((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z'))
             && len[part] < NN_ONNX_MAX_RANK)
      l[part][len[part]++] = *c;
    else
      ok = *c == ' ';
  const int r = len[0];
  ok = ok && part == 2 && r >= 3 && len[1] == r && len[2] == r && n->in[0]->ndim == r
       && n->in[1]->ndim == r;
  for (int d = 0; ok && d < r - 2; d++)
    ok = l[0][d] == l[1][d] && l[0][d] == l[2][d];
  /* i k on the left; the right is k j, or j k (transposed). */
  const char i = ok ? l[0][r - 2] : 0, k = ok ? l[0][r - 1] : 0;
  const bool plain = ok && l[1][r - 2] == k && l[2][r - 2] == i && l[2][r - 1] == l[1][r - 1];
  const bool trans = ok && l[1][r - 1] == k && l[2][r - 2] == i && l[2][r - 1] == l[1][r - 2];
  const NnOnnxValue *a = n->in[0], *b = n->in[1];
  if (!plain && !trans)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "equation '%.40s'; a batched matrix "
                              "product of two run-time tensors is supported", text);
  const int64_t K = trans ? b->dims[r - 1] : b->dims[r - 2];
  bool fits = a->bax == b->bax && a->bax < r - 2 && a->dims[r - 1] == K;
  for (int d = 0; fits && d < r - 2; d++)
    fits = a->dims[d] == b->dims[d];
  if (!fits)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "the operands' shapes do not fit");
  const int ia = exact_shape (im, n, a, 0, err);
  int ib = ia >= 0 ? exact_shape (im, n, b, 1, err) : -1;
  if (ib >= 0 && trans)
    {
      NnShape bs = im->graph->nodes[ib].shape;
      NnNode spec = { .op = NN_OP_TRANSPOSE, .inputs = { ib }, .n_inputs = 1 };
      spec.attrs.transpose.rank = bs.rank;
      for (int d = 0; d < bs.rank; d++)
        spec.attrs.transpose.perm[d] = d < bs.rank - 2 ? d : d == bs.rank - 2 ? d + 1 : d - 1;
      char layer[NN_NAME_MAX];
      nn_onnx_layer_name (im, n, layer);
      snprintf (spec.name, sizeof spec.name, "%.80s.in1", layer);
      ib = nn_graph_add (im->graph, &spec, err);
    }
  if (ib < 0)
    return false;
  NnNode spec = spec_for (NN_OP_MATMUL, a);
  spec.inputs[0] = ia;
  spec.inputs[1] = ib;
  spec.n_inputs = 2;
  int64_t out_dims[NN_ONNX_MAX_RANK];
  memcpy (out_dims, a->dims, sizeof (int64_t) * (size_t) r);
  out_dims[r - 1] = trans ? b->dims[r - 2] : b->dims[r - 1];
  int node = emit (im, n, &spec, err);
  return node >= 0 && set_output_b (im, n, node, r, out_dims, a->bax, err);
}

/* Gemm (alpha A B' + beta C) and MatMul with a constant right-hand side: a linear layer (a
 * dense node over the last axis for a tensor of rank above 2). */
static bool
op_linear (NnOnnxImporter *im,
           NnOnnxNode     *n,
           bool            gemm,
           NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x != NULL && !gemm && n->n_in == 2 && n->in[1] != NULL && !n->in[1]->is_const)
    return op_matmul (im, n, err);
  const NnOnnxValue *wt = x ? const_input (n, 1, false, err) : NULL;
  if (wt == NULL)
    return false;
  const NnOnnxValue *c = gemm ? const_input (n, 2, true, err) : NULL;
  if (gemm && c == NULL && n->n_in > 2 && n->in[2] != NULL)
    return false;
  if (x->ndim < 2 || (gemm && x->ndim != 2))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "input of rank %d; a matrix (batch, "
                              "features) or a tensor times a matrix is supported", x->ndim);
  if (gemm && nn_onnx_attr_int (n, "transA", 0) != 0)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "transA would mix the batch into the "
                              "features");
  const bool trans = gemm && nn_onnx_attr_int (n, "transB", 0) != 0;
  const float alpha = gemm ? nn_onnx_attr_float (n, "alpha", 1.0f) : 1.0f;
  const float beta = gemm ? nn_onnx_attr_float (n, "beta", 1.0f) : 1.0f;
  if (wt->ndim != 2 || wt->is_int)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "the weight must be a float matrix");
  const int64_t K = trans ? wt->dims[1] : wt->dims[0], N = trans ? wt->dims[0] : wt->dims[1];
  if (N < 1 || N > (1 << 24))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "%lld output features", (long long) N);
  const int last = x->ndim - 1;
  if (x->bax == last)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "the features are the batch axis");
  if (K != x->dims[last])
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "weight has %lld rows for %lld features",
                              (long long) K, (long long) x->dims[last]);
  int64_t out_dims[NN_ONNX_MAX_RANK];
  memcpy (out_dims, x->dims, sizeof (int64_t) * (size_t) x->ndim);
  out_dims[last] = N;
  if (c != NULL && (c->is_int || channel_broadcast (c, 2, out_dims) == 0))
    {
      char shape[96];
      format_dims (c, shape, sizeof shape);
      return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "bias C of shape %s varies over the "
                                "batch", shape);
    }
  const NnOnnxValue *fused = c == NULL ? fusable_bias (im, n, x->ndim, out_dims, last) : NULL;
  const bool rows = x->ndim > 2 || x->bax != 0;
  NnNode spec = spec_for (rows ? NN_OP_DENSE : NN_OP_LINEAR, x);
  if (rows && (spec.inputs[0] = exact_shape (im, n, x, 0, err)) < 0)
    return false;
  spec.attrs.linear = (NnLinearAttrs) { .out_features = (int) N, .bias = c || fused };
  int node = emit (im, n, &spec, err);
  if (node < 0)
    return false;
  float *weight = nn_graph_param_data (im->graph, nn_graph_node_param (im->graph, node,
                                                                       NN_PARAM_WEIGHT));
  /* Our weight is (N, K). */
  for (int64_t o = 0; o < N; o++)
    for (int64_t k = 0; k < K; k++)
      weight[o * K + k] = alpha * (trans ? wt->f[o * K + k] : wt->f[k * N + o]);
  if (c != NULL || fused != NULL)
    {
      float *bias = nn_graph_param_data (im->graph, nn_graph_node_param (im->graph, node,
                                                                         NN_PARAM_BIAS));
      channel_values (c != NULL ? c : fused, (int) N, bias);
      if (c != NULL)
        for (int64_t o = 0; o < N; o++)
          bias[o] *= beta;
    }
  return set_output_b (im, n, node, x->ndim, out_dims, x->bax, err);
}

/* Engine node that holds run-time value x with exactly its ONNX per-sample shape: x's own, or
 * a reshape of it named "<layer>.in<k>" when x is an alias with another rank. -1 on failure. */
static int
exact_shape (NnOnnxImporter    *im,
             NnOnnxNode        *n,
             const NnOnnxValue *x,
             int                k,
             NnError           *err)
{
  NnShape want;
  if (!nn_onnx_value_sample_shape (x, &want))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "input %d of rank %d has an empty "
                              "or too large dimension", k, x->ndim), -1;
  if (nn_shape_equal (im->graph->nodes[x->node].shape, want))
    return x->node;
  NnNode spec = spec_for (NN_OP_RESHAPE, x);
  spec.shape = want;
  char layer[NN_NAME_MAX];
  nn_onnx_layer_name (im, n, layer);
  snprintf (spec.name, sizeof spec.name, "%.80s.in%d", layer, k);
  int node = nn_graph_add (im->graph, &spec, err);
  if (node < 0)
    {
      char copy[sizeof err->message];
      snprintf (copy, sizeof copy, "%s", err ? err->message : "");
      nn_onnx_node_fail (n, err, err ? err->code : NN_ERROR_SPEC, "%s", copy);
    }
  return node;
}

/* Two run-time tensors of the same rank whose shapes broadcast, the batch (dim 0) equal: a
 * broadcast_* node. */
static bool
op_broadcast (NnOnnxImporter *im,
              NnOnnxNode     *n,
              NnError        *err)
{
  const NnOnnxValue *a = n->in[0], *b = n->in[1];
  char as[96], bs[96];
  format_dims (a, as, sizeof as);
  format_dims (b, bs, sizeof bs);
  if (a->ndim != b->ndim || (a->bax >= 0 && a->dims[a->bax] != b->dims[a->bax]))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "two run-time tensors of shapes %s "
                              "and %s: broadcasting needs the same rank and batch", as, bs);
  int64_t out_dims[NN_ONNX_MAX_RANK];
  for (int d = 0; d < a->ndim; d++)
    {
      if (a->dims[d] != b->dims[d] && a->dims[d] != 1 && b->dims[d] != 1)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "shapes %s and %s do not broadcast",
                                  as, bs);
      out_dims[d] = a->dims[d] > b->dims[d] ? a->dims[d] : b->dims[d];
    }
  static const NnOp ops[] = { NN_OP_BROADCAST_ADD, NN_OP_BROADCAST_SUB, NN_OP_BROADCAST_MUL,
                              NN_OP_BROADCAST_DIV };
  const char op = n->proto->op_type[0];
  const int kind = op == 'A' ? 0 : op == 'S' ? 1 : op == 'M' ? 2 : 3;
  const int ia = exact_shape (im, n, a, 0, err);
  const int ib = ia >= 0 ? exact_shape (im, n, b, 1, err) : -1;
  if (ib < 0)
    return false;
  NnNode spec = spec_for (ops[kind], a);
  spec.inputs[0] = ia;
  spec.inputs[1] = ib;
  spec.n_inputs = 2;
  int node = emit (im, n, &spec, err);
  return node >= 0 && set_output_b (im, n, node, a->ndim, out_dims, a->bax, err);
}

/* Add, Sub, Mul, Div: two run-time tensors (add or mul of one shape, else a broadcast_* node),
 * or one and a scalar or per-channel constant (a scale node). */
static bool
op_binary (NnOnnxImporter *im,
           NnOnnxNode     *n,
           NnError        *err)
{
  const char op = n->proto->op_type[0];
  if (n->n_in != 2 || n->in[0] == NULL || n->in[1] == NULL)
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "needs two inputs");
  NnOnnxValue *a = n->in[0], *b = n->in[1];
  if (im->fused[n->index])
    {
      NnOnnxValue *x = a->is_const ? b : a;
      return set_output_b (im, n, x->node, x->ndim, x->dims, x->bax, err);
    }
  if (!a->is_const && !b->is_const)
    {
      if (a->bax != b->bax)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "the batch is at axis %d of one "
                                  "input and %d of the other", a->bax, b->bax);
      if ((op != 'A' && op != 'M') || a->ndim != b->ndim
          || memcmp (a->dims, b->dims, sizeof (int64_t) * (size_t) a->ndim) != 0)
        return op_broadcast (im, n, err);
      const int ia = a->bax == 0 ? a->node : exact_shape (im, n, a, 0, err);
      const int ib = ia < 0 ? -1 : b->bax == 0 ? b->node : exact_shape (im, n, b, 1, err);
      if (ib < 0)
        return false;
      NnNode spec = spec_for (op == 'A' ? NN_OP_ADD : NN_OP_MUL, a);
      spec.inputs[0] = ia;
      spec.inputs[1] = ib;
      spec.n_inputs = 2;
      int node = emit (im, n, &spec, err);
      return node >= 0 && set_output_b (im, n, node, a->ndim, a->dims, a->bax, err);
    }
  const bool x_first = !a->is_const;
  NnOnnxValue *x = x_first ? a : b;
  const NnOnnxValue *k = x_first ? b : a;
  int kind = channel_broadcast (k, x->ndim, x->dims);
  /* With the batch merged, every axis is per sample: a constant that broadcasts to the tensor
   * is one value per element of a sample (attention's position bias and window mask). */
  NnOnnxValue whole = { .ndim = x->ndim + 1, .dims = { 1 } };
  memcpy (whole.dims + 1, x->dims, sizeof (int64_t) * (size_t) x->ndim);
  if (x->bax == -1 && kind != 1)
    kind = channel_broadcast (k, whole.ndim, whole.dims) != 0 ? 3 : 0;
  else if (kind > 1 && x->bax != 0)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "a constant that is not a scalar on "
                              "a tensor whose batch is not the first axis");
  if (kind == 0)
    {
      char shape[96], xs[96];
      format_dims (k, shape, sizeof shape);
      format_dims (x, xs, sizeof xs);
      return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "a constant of shape %s on a tensor "
                                "of shape %s; constants that vary over the batch or change the "
                                "tensor's shape are not supported", shape, xs);
    }
  if (op == 'D' && !x_first)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "dividing a constant by a run-time "
                              "tensor is not supported");
  NnNode spec = spec_for (NN_OP_SCALE, x);
  spec.attrs.channel.per_element = kind == 3;
  int node = emit (im, n, &spec, err);
  if (node < 0)
    return false;
  const int wp = nn_graph_node_param (im->graph, node, NN_PARAM_WEIGHT);
  const size_t C = im->graph->params[wp].count;
  float *w = nn_graph_param_data (im->graph, wp);
  float *s = nn_graph_param_data (im->graph, nn_graph_node_param (im->graph, node,
                                                                  NN_PARAM_BIAS));
  constant_params (k, x->bax == -1 ? &whole : x, kind == 3, C, op == 'M' || op == 'D' ? w : s);
  const int bax = x->bax;
  for (size_t c = 0; c < C; c++)
    switch (op)
      {
      case 'A':
        w[c] = 1.0f;
        break;
      case 'S':
        w[c] = x_first ? 1.0f : -1.0f;
        s[c] = x_first ? -s[c] : s[c];
        break;
      case 'M':
        s[c] = 0.0f;
        break;
      default:
        w[c] = 1.0f / w[c];
        s[c] = 0.0f;
        break;
      }
  return set_output_b (im, n, node, x->ndim, x->dims, bax, err);
}

static bool
op_activation (NnOnnxImporter *im,
               NnOnnxNode     *n,
               NnActKind       kind,
               float           slope,
               float           alpha,
               float           beta,
               NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  NnNode spec = spec_for (NN_OP_ACTIVATION, x);
  spec.attrs.act = (NnActAttrs) { .kind = kind, .slope = slope, .alpha = alpha, .beta = beta,
                                  .policy = { NN_GRAD_EXACT, 0.0f } };
  int node = emit (im, n, &spec, err);
  return node >= 0 && set_output_b (im, n, node, x->ndim, x->dims, x->bax, err);
}

static bool
op_clip (NnOnnxImporter *im,
         NnOnnxNode     *n,
         NnError        *err)
{
  float lo = -FLT_MAX, hi = FLT_MAX;
  if (im->opset < 11)
    {
      lo = nn_onnx_attr_float (n, "min", lo);
      hi = nn_onnx_attr_float (n, "max", hi);
    }
  for (int k = 1; k < 3 && k < n->n_in; k++)
    {
      if (n->in[k] == NULL)
        continue;
      const NnOnnxValue *v = const_input (n, k, false, err);
      if (v == NULL)
        return false;
      if (v->count != 1)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "min and max must be scalars");
      float value = (float) nn_onnx_value_get (v, 0);
      if (k == 1)
        lo = value;
      else
        hi = value;
    }
  if (!(lo <= hi))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "min %g above max %g", (double) lo,
                              (double) hi);
  lo = lo < -FLT_MAX ? -FLT_MAX : lo;
  hi = hi > FLT_MAX ? FLT_MAX : hi;
  return op_activation (im, n, NN_ACT_CLIP, 0.0f, lo, hi, err);
}

/* Pow of a run-time tensor by a constant scalar exponent. */
static bool
op_pow (NnOnnxImporter *im,
        NnOnnxNode     *n,
        NnError        *err)
{
  const NnOnnxValue *e = dynamic_input (n, 0, err) ? const_input (n, 1, false, err) : NULL;
  if (e == NULL)
    return false;
  if (e->count != 1)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "an exponent of %zu values; a scalar "
                              "is supported", e->count);
  const double v = nn_onnx_value_get (e, 0);
  if (!isfinite (v))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "exponent %g is not finite", v);
  return op_activation (im, n, NN_ACT_POW, 0.0f, (float) v, 0.0f, err);
}

static bool
op_prelu (NnOnnxImporter *im,
          NnOnnxNode     *n,
          NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  const NnOnnxValue *slope = x ? const_input (n, 1, false, err) : NULL;
  if (slope == NULL)
    return false;
  const int kind = channel_broadcast (slope, x->ndim, x->dims);
  if (kind == 0)
    {
      char shape[96];
      format_dims (slope, shape, sizeof shape);
      return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "slope of shape %s varies over the "
                                "batch or does not broadcast", shape);
    }
  NnNode spec = spec_for (NN_OP_PRELU, x);
  spec.attrs.channel.per_element = kind == 3;
  int node = emit (im, n, &spec, err);
  if (node < 0)
    return false;
  const int wp = nn_graph_node_param (im->graph, node, NN_PARAM_WEIGHT);
  constant_params (slope, x, kind == 3, im->graph->params[wp].count,
                   nn_graph_param_data (im->graph, wp));
  return set_output (im, n, node, x->ndim, x->dims, err);
}

static bool
op_batchnorm (NnOnnxImporter *im,
              NnOnnxNode     *n,
              NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  if (nn_onnx_attr_int (n, "training_mode", 0) != 0 || has_extra_outputs (n))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "training mode is not supported");
  if (nn_onnx_attr_int (n, "spatial", 1) != 1)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "spatial=0 is not supported");
  if (x->ndim < 2)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "input has no channel axis");
  const NnOnnxValue *p[4];
  for (int k = 0; k < 4; k++)
    {
      p[k] = const_input (n, k + 1, false, err);
      if (p[k] == NULL)
        return false;
      if (p[k]->count != (size_t) x->dims[1] || p[k]->is_int)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "input %d has %zu values for %lld "
                                  "channels", k + 1, p[k]->count, (long long) x->dims[1]);
    }
  NnNode spec = spec_for (NN_OP_BATCHNORM, x);
  spec.attrs.norm = (NnNormAttrs) { .eps = nn_onnx_attr_float (n, "epsilon", 1e-5f),
                                    .momentum = 0.1f, .affine = true };
  int node = emit (im, n, &spec, err);
  if (node < 0)
    return false;
  const NnParamRole roles[4] = { NN_PARAM_WEIGHT, NN_PARAM_BIAS, NN_PARAM_RUNNING_MEAN,
                                 NN_PARAM_RUNNING_VAR };
  for (int k = 0; k < 4; k++)
    memcpy (nn_graph_param_data (im->graph, nn_graph_node_param (im->graph, node, roles[k])),
            p[k]->f, sizeof (float) * p[k]->count);
  return set_output (im, n, node, x->ndim, x->dims, err);
}

static bool
op_pool (NnOnnxImporter *im,
         NnOnnxNode     *n,
         bool            max,
         NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  if (x->ndim != 3 && x->ndim != 4)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "input of rank %d; 1-D and 2-D "
                              "pooling are supported", x->ndim);
  if (has_extra_outputs (n))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "the Indices output is not "
                              "supported");
  int64_t kernel[2];
  bool have;
  if (!attr_ints (n, "kernel_shape", x->ndim - 2, kernel, &have, err))
    return false;
  if (!have)
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "kernel_shape is missing");
  const bool include_pad = !max && nn_onnx_attr_int (n, "count_include_pad", 0) != 0;
  Window w;
  if (!window_attrs (n, x, kernel, true, &w, err))
    return false;
  if (w.d[0] != 1 || w.d[1] != 1)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "dilated pooling is not supported");
  if (include_pad && (w.extra[0] > 0 || w.extra[1] > 0))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "ceil_mode with count_include_pad "
                              "past the padding is not supported");
  NnNode spec = spec_for (max ? NN_OP_MAXPOOL : NN_OP_AVGPOOL, x);
  spec.attrs.pool = (NnPoolAttrs) {
    .kh = w.k[0], .kw = w.k[1], .sh = w.s[0], .sw = w.s[1],
    .pad_t = w.pb[0], .pad_l = w.pb[1], .pad_b = w.pe[0], .pad_r = w.pe[1],
    .count_include_pad = include_pad,
  };
  int node = emit (im, n, &spec, err);
  if (node < 0)
    return false;
  int64_t out_dims[4];
  window_out_dims (x, &im->graph->nodes[node].shape, out_dims);
  return set_output (im, n, node, x->ndim, out_dims, err);
}

static bool
op_global_avgpool (NnOnnxImporter *im,
                   NnOnnxNode     *n,
                   NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  if (x->ndim != 3 && x->ndim != 4)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "input of rank %d", x->ndim);
  NnNode spec = spec_for (NN_OP_GLOBAL_AVGPOOL, x);
  int node = emit (im, n, &spec, err);
  int64_t dims[4] = { x->dims[0], x->dims[1], 1, 1 };
  return node >= 0 && set_output (im, n, node, x->ndim, dims, err);
}

static bool
op_flatten (NnOnnxImporter *im,
            NnOnnxNode     *n,
            NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  int64_t axis = nn_onnx_attr_int (n, "axis", 1);
  if (axis < 0)
    axis += x->ndim;
  if (axis != 1)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "axis %lld mixes the batch with the "
                              "features; axis 1 is supported", (long long) axis);
  int64_t dims[2] = { x->dims[0], 1 };
  for (int d = 1; d < x->ndim; d++)
    dims[1] *= x->dims[d];
  if (x->ndim == 2)
    return set_output (im, n, x->node, 2, dims, err);
  NnNode spec = spec_for (NN_OP_FLATTEN, x);
  int node = emit (im, n, &spec, err);
  return node >= 0 && set_output (im, n, node, 2, dims, err);
}

/* Integer list from a constant input (opset >= 13 style) or an attribute. */
static bool
int_input_or_attr (const NnOnnxNode *n,
                   int               input,
                   const char       *attr,
                   int64_t          *out,
                   int              *count,
                   NnError          *err)
{
  *count = -1;
  if (input < n->n_in && n->in[input] != NULL)
    {
      const NnOnnxValue *v = const_input (n, input, false, err);
      if (v == NULL)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "'%s' is computed at run time; "
                                  "only constant shapes are supported", attr);
      if (v->ndim > 1 || v->count > NN_ONNX_MAX_RANK * 2)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "'%s' is not a short list", attr);
      for (size_t k = 0; k < v->count; k++)
        out[k] = nn_onnx_value_get_int (v, k);
      *count = (int) v->count;
      return true;
    }
  const Onnx__AttributeProto *a = nn_onnx_attr (n, attr);
  if (a != NULL)
    {
      if (a->n_ints > NN_ONNX_MAX_RANK * 2)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "'%s' is too long", attr);
      /* An empty list has no array (ints is NULL). */
      if (a->n_ints > 0)
        memcpy (out, a->ints, sizeof (int64_t) * a->n_ints);
      *count = (int) a->n_ints;
    }
  return true;
}

static bool
op_reshape (NnOnnxImporter *im,
            NnOnnxNode     *n,
            NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  int64_t shape[2 * NN_ONNX_MAX_RANK], dims[NN_ONNX_MAX_RANK];
  int ns;
  if (!int_input_or_attr (n, 1, "shape", shape, &ns, err))
    return false;
  if (ns < 1 || ns > NN_ONNX_MAX_RANK)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "no usable target shape");
  size_t count = 1;
  for (int d = 0; d < x->ndim; d++)
    count *= (size_t) x->dims[d];
  if (!nn_onnx_reshape_dims (n, x->dims, x->ndim, count, shape, ns,
                             nn_onnx_attr_int (n, "allowzero", 0) != 0, dims, err))
    return false;
  return reshape_to (im, n, x, ns, dims, err);
}

/* ReduceSum, ReduceMean, ReduceMax over axes other than the batch: a reduce_* node. */
static bool
op_reduce (NnOnnxImporter *im,
           NnOnnxNode     *n,
           NnOp            op,
           NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  int64_t axes[2 * NN_ONNX_MAX_RANK];
  int na;
  if (!int_input_or_attr (n, 1, "axes", axes, &na, err))
    return false;
  const bool keepdims = nn_onnx_attr_int (n, "keepdims", 1) != 0;
  if (na <= 0 && nn_onnx_attr_int (n, "noop_with_empty_axes", 0) != 0)
    return set_output (im, n, x->node, x->ndim, x->dims, err);
  if (na <= 0)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "without axes it reduces over the "
                              "batch (dimension 0)");
  int mask = 0;
  for (int k = 0; k < na; k++)
    {
      int64_t a = axes[k] < 0 ? axes[k] + x->ndim : axes[k];
      if (a < 0 || a >= x->ndim)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "axis %lld out of range",
                                  (long long) axes[k]);
      if (a == 0)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "axis 0 is the batch");
      mask |= 1 << (a - 1);
    }
  int64_t dims[NN_ONNX_MAX_RANK];
  int nd = 0;
  for (int d = 0; d < x->ndim; d++)
    if (d == 0 || !(mask & (1 << (d - 1))))
      dims[nd++] = x->dims[d];
    else if (keepdims)
      dims[nd++] = 1;
  const int ix = exact_shape (im, n, x, 0, err);
  if (ix < 0)
    return false;
  NnNode spec = spec_for (op, x);
  spec.inputs[0] = ix;
  spec.attrs.reduce = (NnReduceAttrs) { mask, keepdims };
  int node = emit (im, n, &spec, err);
  return node >= 0 && set_output (im, n, node, nd, dims, err);
}

/* Appends a slice node of `size` values from `start` along per-sample axis `axis` of node
 * `in`; -1 on failure. */
static int
slice_node (NnOnnxImporter *im,
            NnOnnxNode     *n,
            int             in,
            int             axis,
            int64_t         start,
            int64_t         size,
            NnError        *err)
{
  NnNode spec = { .op = NN_OP_SLICE, .inputs = { in }, .n_inputs = 1 };
  spec.attrs.slice = (NnSliceAttrs) { axis, (int) start, (int) size };
  return emit (im, n, &spec, err);
}

/* Appends a reshape of node `in` to the per-sample dims (rank, dims); -1 on failure. */
static int
reshape_node (NnOnnxImporter *im,
              NnOnnxNode     *n,
              int             in,
              int             rank,
              const int      *dims,
              NnError        *err)
{
  NnNode spec = { .op = NN_OP_RESHAPE, .inputs = { in }, .n_inputs = 1 };
  spec.shape = nn_shape_of (rank, dims);
  return emit (im, n, &spec, err);
}

/* Slice of a run-time tensor along axes other than the batch: a slice node per axis with step
 * 1; a step s > 1 takes whole blocks of s values (a slice), splits the axis into (blocks, s)
 * (a reshape), keeps one value of each block (a slice) and merges the axis back (a reshape),
 * as Swin's patch merging x[..., 0::2, 1::2, :] needs. */
static bool
op_slice (NnOnnxImporter *im,
          NnOnnxNode     *n,
          NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  int64_t starts[2 * NN_ONNX_MAX_RANK], ends[2 * NN_ONNX_MAX_RANK], axes[2 * NN_ONNX_MAX_RANK],
          steps[2 * NN_ONNX_MAX_RANK];
  int ns, ne, na, nst;
  if (!int_input_or_attr (n, 1, "starts", starts, &ns, err)
      || !int_input_or_attr (n, 2, "ends", ends, &ne, err)
      || !int_input_or_attr (n, 3, "axes", axes, &na, err)
      || !int_input_or_attr (n, 4, "steps", steps, &nst, err))
    return false;
  if (ns < 0 || ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "starts, ends, axes and steps disagree");
  int64_t dims[NN_ONNX_MAX_RANK];
  memcpy (dims, x->dims, sizeof (int64_t) * (size_t) x->ndim);
  NnShape cs;
  if (!nn_onnx_value_sample_shape (x, &cs))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "input of an unsupported shape");
  int cur = -1;
  for (int k = 0; k < ns; k++)
    {
      int64_t a = na >= 0 ? axes[k] : k;
      a = a < 0 ? a + x->ndim : a;
      if (a < 0 || a >= x->ndim)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "axis %lld out of range",
                                  (long long) a);
      const int64_t step = nst >= 0 ? steps[k] : 1;
      if (step < 1 || step > (1 << 20))
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "step %lld; positive steps are "
                                  "supported on a run-time tensor", (long long) step);
      const int64_t len = x->dims[a];
      int64_t b = starts[k], e = ends[k];
      b = b < 0 ? (b < -len ? 0 : b + len) : (b > len ? len : b);
      e = e < 0 ? (e < -len ? 0 : e + len) : (e > len ? len : e);
      if (e <= b)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "the slice of axis %lld is "
                                  "empty", (long long) a);
      const int64_t count = (e - b - 1) / step + 1;
      if (b == 0 && count == len)
        continue;
      if (a == x->bax)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "it slices the batch "
                                  "(dimension %d)", x->bax);
      const int pa = (int) a - (x->bax >= 0 && a > x->bax);
      if (cur < 0 && (cur = exact_shape (im, n, x, 0, err)) < 0)
        return false;
      if (step == 1)
        cur = slice_node (im, n, cur, pa, b, count, err);
      else
        {
          /* Blocks from b0 on, the kept value at offset b - b0 of each. */
          const int64_t b0 = b - step + 1 > 0 ? b - step + 1 : 0;
          if (b0 + step * count > len || cs.rank >= NN_MAX_RANK)
            return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "a step of %lld that does not "
                                      "take whole blocks of axis %lld", (long long) step,
                                      (long long) a);
          if (b0 != 0 || step * count != len)
            cur = slice_node (im, n, cur, pa, b0, step * count, err);
          int split[NN_MAX_RANK];
          for (int d = 0, j = 0; d < cs.rank; d++)
            if (d == pa)
              {
                split[j++] = (int) count;
                split[j++] = (int) step;
              }
            else
              split[j++] = cs.dims[d];
          cur = cur < 0 ? -1 : reshape_node (im, n, cur, cs.rank + 1, split, err);
          cur = cur < 0 ? -1 : slice_node (im, n, cur, pa + 1, b - b0, 1, err);
          cs.dims[pa] = (int) count;
          cur = cur < 0 ? -1 : reshape_node (im, n, cur, cs.rank, cs.dims, err);
        }
      if (cur < 0)
        return false;
      cs = im->graph->nodes[cur].shape;
      dims[a] = count;
    }
  if (cur < 0)
    return set_output_b (im, n, x->node, x->ndim, x->dims, x->bax, err);
  return set_output_b (im, n, cur, x->ndim, dims, x->bax, err);
}

/* An engine node of op on inputs a (and b unless -1), named after the ONNX node (the first
 * plainly, the next with _1, _2, ...); -1 on failure. */
static int
emit_on (NnOnnxImporter *im,
         NnOnnxNode     *n,
         NnNode         *spec,
         int             a,
         int             b,
         NnError        *err)
{
  spec->inputs[0] = a;
  spec->n_inputs = 1;
  if (b >= 0)
    spec->inputs[spec->n_inputs++] = b;
  return emit (im, n, spec, err);
}

/* LayerNormalization (opset 17) over the last axis, as the engine nodes of the pattern older
 * exports decompose it into: mean, x - mean, its square, their mean plus epsilon, its root,
 * the quotient, and the affine scale per element. */
static bool
op_layernorm (NnOnnxImporter *im,
              NnOnnxNode     *n,
              NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  const NnOnnxValue *g = x ? const_input (n, 1, false, err) : NULL;
  if (g == NULL)
    return false;
  const NnOnnxValue *bias = const_input (n, 2, true, err);
  if (bias == NULL && n->n_in > 2 && n->in[2] != NULL)
    return false;
  if (has_extra_outputs (n))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "the mean and inverse deviation "
                              "outputs are not supported");
  int64_t axis = nn_onnx_attr_int (n, "axis", -1);
  axis = axis < 0 ? axis + x->ndim : axis;
  if (axis != x->ndim - 1 || axis < 1)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "normalization from axis %lld of a "
                              "rank-%d tensor; over the last axis (not the batch) is supported",
                              (long long) axis, x->ndim);
  const float eps = nn_onnx_attr_float (n, "epsilon", 1e-5f);
  if (!(eps >= 0.0f && eps < 1.0f))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "epsilon %g out of range", (double) eps);
  if (g->is_int || channel_broadcast (g, x->ndim, x->dims) == 0
      || (bias != NULL && (bias->is_int || channel_broadcast (bias, x->ndim, x->dims) == 0)))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "scale or bias does not broadcast "
                              "to the input without varying over the batch");
  const int ix = exact_shape (im, n, x, 0, err);
  if (ix < 0)
    return false;
  NnNode spec;
  memset (&spec, 0, sizeof spec);
  spec.op = NN_OP_REDUCE_MEAN;
  spec.attrs.reduce = (NnReduceAttrs) { 1 << (x->ndim - 2), true };
  const int mean = emit_on (im, n, &spec, ix, -1, err);
  spec.op = NN_OP_BROADCAST_SUB;
  const int d = mean < 0 ? -1 : emit_on (im, n, &spec, ix, mean, err);
  spec.op = NN_OP_ACTIVATION;
  spec.attrs.act = (NnActAttrs) { .kind = NN_ACT_POW, .alpha = 2.0f,
                                  .policy = { NN_GRAD_EXACT, 0.0f } };
  const int sq = d < 0 ? -1 : emit_on (im, n, &spec, d, -1, err);
  spec.op = NN_OP_REDUCE_MEAN;
  spec.attrs.reduce = (NnReduceAttrs) { 1 << (x->ndim - 2), true };
  const int var = sq < 0 ? -1 : emit_on (im, n, &spec, sq, -1, err);
  spec.op = NN_OP_SCALE;
  spec.attrs.channel.per_element = false;
  const int ve = var < 0 ? -1 : emit_on (im, n, &spec, var, -1, err);
  if (ve < 0)
    return false;
  const int vw = nn_graph_node_param (im->graph, ve, NN_PARAM_WEIGHT);
  float *w = nn_graph_param_data (im->graph, vw);
  float *b = nn_graph_param_data (im->graph, nn_graph_node_param (im->graph, ve,
                                                                  NN_PARAM_BIAS));
  for (size_t c = 0; c < im->graph->params[vw].count; c++)
    {
      w[c] = 1.0f;
      b[c] = eps;
    }
  spec.op = NN_OP_ACTIVATION;
  spec.attrs.act = (NnActAttrs) { .kind = NN_ACT_SQRT, .policy = { NN_GRAD_EXACT, 0.0f } };
  const int sd = emit_on (im, n, &spec, ve, -1, err);
  spec.op = NN_OP_BROADCAST_DIV;
  const int y = sd < 0 ? -1 : emit_on (im, n, &spec, d, sd, err);
  spec.op = NN_OP_SCALE;
  spec.attrs.channel.per_element = true;
  const int node = y < 0 ? -1 : emit_on (im, n, &spec, y, -1, err);
  if (node < 0)
    return false;
  const int aw = nn_graph_node_param (im->graph, node, NN_PARAM_WEIGHT);
  const size_t count = im->graph->params[aw].count;
  constant_params (g, x, true, count, nn_graph_param_data (im->graph, aw));
  float *ab = nn_graph_param_data (im->graph, nn_graph_node_param (im->graph, node,
                                                                   NN_PARAM_BIAS));
  if (bias != NULL)
    constant_params (bias, x, true, count, ab);
  else
    memset (ab, 0, sizeof (float) * count);
  return set_output (im, n, node, x->ndim, x->dims, err);
}

/* Gather of one constant index along an axis other than the batch (ViT's class token,
 * x[:, 0]): a slice node, and a reshape when a scalar index drops the axis. */
static bool
op_gather (NnOnnxImporter *im,
           NnOnnxNode     *n,
           NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  const NnOnnxValue *idx = x ? const_input (n, 1, false, err) : NULL;
  if (idx == NULL)
    return false;
  int64_t axis = nn_onnx_attr_int (n, "axis", 0);
  axis = axis < 0 ? axis + x->ndim : axis;
  if (axis < 0 || axis >= x->ndim || axis == x->bax)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "gather along axis %lld; an axis "
                              "other than the batch is supported", (long long) axis);
  if (idx->count != 1 || idx->ndim > 1 || !idx->is_int)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "%zu indices; one constant index is "
                              "supported", idx->count);
  int64_t at = idx->i[0];
  at = at < 0 ? at + x->dims[axis] : at;
  if (at < 0 || at >= x->dims[axis])
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "index %lld out of range",
                              (long long) idx->i[0]);
  const int ix = exact_shape (im, n, x, 0, err);
  if (ix < 0)
    return false;
  NnNode spec = spec_for (NN_OP_SLICE, x);
  spec.inputs[0] = ix;
  spec.attrs.slice = (NnSliceAttrs) { (int) axis - (x->bax >= 0 && axis > x->bax), (int) at,
                                      1 };
  int node = emit (im, n, &spec, err);
  if (node < 0)
    return false;
  int64_t dims[NN_ONNX_MAX_RANK];
  int nd = 0;
  for (int d = 0; d < x->ndim; d++)
    if (d != axis || idx->ndim == 1)
      dims[nd++] = d == axis ? 1 : x->dims[d];
  const int bax = x->bax > axis && idx->ndim == 0 ? x->bax - 1 : x->bax;
  NnShape s;
  NnOnnxValue shape = { .ndim = nd, .bax = bax };
  memcpy (shape.dims, dims, sizeof (int64_t) * (size_t) nd);
  if (!nn_onnx_value_sample_shape (&shape, &s))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "output of rank %d", nd);
  const NnShape t = im->graph->nodes[node].shape;
  if (s.c != t.c || s.h != t.h || s.w != t.w)
    {
      spec = (NnNode) { .op = NN_OP_RESHAPE, .inputs = { node }, .n_inputs = 1, .shape = s };
      node = emit (im, n, &spec, err);
      if (node < 0)
        return false;
    }
  return set_output_b (im, n, node, nd, dims, bax, err);
}

/* Transpose that keeps the batch first: a transpose node of the per-sample axes. */
static bool
op_transpose (NnOnnxImporter *im,
              NnOnnxNode     *n,
              NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  const Onnx__AttributeProto *a = nn_onnx_attr (n, "perm");
  int64_t perm[NN_ONNX_MAX_RANK];
  for (int d = 0; d < x->ndim; d++)
    perm[d] = x->ndim - 1 - d;
  if (a != NULL)
    {
      if ((int) a->n_ints != x->ndim)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "perm has %d entries for a tensor of "
                                  "rank %d", (int) a->n_ints, x->ndim);
      memcpy (perm, a->ints, sizeof (int64_t) * a->n_ints);
    }
  /* The batch moves with its axis (only in a graph of batch 1); the engine permutes the other
   * axes. */
  int64_t dims[NN_ONNX_MAX_RANK];
  NnNode spec = spec_for (NN_OP_TRANSPOSE, x);
  int bax = x->bax, rank = 0;
  bool identity = true;
  for (int d = 0; d < x->ndim; d++)
    {
      if (perm[d] < 0 || perm[d] >= x->ndim)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "perm entry %lld out of range",
                                  (long long) perm[d]);
      dims[d] = x->dims[perm[d]];
      if (perm[d] == x->bax)
        {
          bax = d;
          continue;
        }
      const int p = (int) perm[d] - (x->bax >= 0 && perm[d] > x->bax);
      identity = identity && p == rank;
      spec.attrs.transpose.perm[rank++] = p;
    }
  if (bax != x->bax && x->dims[x->bax] != 1)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "it moves the batch (dimension %d) "
                              "of a graph exported with batch %lld", x->bax,
                              (long long) x->dims[x->bax]);
  spec.attrs.transpose.rank = rank > 0 ? rank : 1;
  if (identity)
    return set_output_b (im, n, x->node, x->ndim, dims, bax, err);
  const int ix = exact_shape (im, n, x, 0, err);
  if (ix < 0)
    return false;
  spec.inputs[0] = ix;
  int node = emit (im, n, &spec, err);
  return node >= 0 && set_output_b (im, n, node, x->ndim, dims, bax, err);
}

static bool
op_squeeze (NnOnnxImporter *im,
            NnOnnxNode     *n,
            bool            unsqueeze,
            NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  int64_t axes[2 * NN_ONNX_MAX_RANK], dims[NN_ONNX_MAX_RANK];
  int na;
  if (!int_input_or_attr (n, 1, "axes", axes, &na, err))
    return false;
  if (na <= 0)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "axes must be given");
  int ndim = unsqueeze ? x->ndim + na : x->ndim;
  if (ndim > NN_ONNX_MAX_RANK)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "rank too high");
  bool mark[NN_ONNX_MAX_RANK] = { false };
  for (int k = 0; k < na; k++)
    {
      int64_t a = axes[k] < 0 ? axes[k] + ndim : axes[k];
      if (a < 0 || a >= ndim)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "axis %lld out of range",
                                  (long long) axes[k]);
      if (a == 0)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "axis 0 is the batch");
      if (!unsqueeze && x->dims[a] != 1)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "axis %lld has size %lld, not 1",
                                  (long long) a, (long long) x->dims[a]);
      mark[a] = true;
    }
  int nd = 0, src = 0;
  for (int d = 0; d < ndim; d++)
    if (unsqueeze)
      dims[nd++] = mark[d] ? 1 : x->dims[src++];
    else if (!mark[d])
      dims[nd++] = x->dims[d];
  return reshape_to (im, n, x, nd, dims, err);
}

/* An engine node that gives constant k (of ref's rank, batch 1, at most ref's size along axis 1
 * and its size along the others) to every sample: ref's first values along axis 1 times 0 plus
 * the constant (a slice and a scale node, "<layer>.in<k>" and "<layer>.in<k>_1"). -1 on
 * failure. */
static int
constant_node (NnOnnxImporter    *im,
               NnOnnxNode        *n,
               const NnOnnxValue *ref,
               const NnOnnxValue *c,
               int                k,
               NnError           *err)
{
  bool ok = c->ndim == ref->ndim && c->ndim >= 2 && c->dims[0] == 1 && !c->is_int
            && c->dims[1] >= 1 && c->dims[1] <= ref->dims[1];
  for (int d = 2; ok && d < c->ndim; d++)
    ok = c->dims[d] == ref->dims[d];
  if (!ok)
    {
      char cs[96], rs[96];
      format_dims (c, cs, sizeof cs);
      format_dims (ref, rs, sizeof rs);
      return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "a constant of shape %s beside a "
                                "run-time tensor of shape %s", cs, rs), -1;
    }
  const int ir = exact_shape (im, n, ref, 0, err);
  if (ir < 0)
    return -1;
  char layer[NN_NAME_MAX];
  nn_onnx_layer_name (im, n, layer);
  NnNode spec = spec_for (NN_OP_SLICE, ref);
  spec.inputs[0] = ir;
  spec.attrs.slice = (NnSliceAttrs) { 0, 0, (int) c->dims[1] };
  snprintf (spec.name, sizeof spec.name, "%.80s.in%d", layer, k);
  int sl = nn_graph_add (im->graph, &spec, err);
  if (sl < 0)
    return -1;
  spec = (NnNode) { .op = NN_OP_SCALE, .inputs = { sl }, .n_inputs = 1,
                    .attrs.channel.per_element = true };
  snprintf (spec.name, sizeof spec.name, "%.80s.in%d_1", layer, k);
  int node = nn_graph_add (im->graph, &spec, err);
  if (node < 0)
    return -1;
  const int wp = nn_graph_node_param (im->graph, node, NN_PARAM_WEIGHT);
  float *w = nn_graph_param_data (im->graph, wp);
  float *b = nn_graph_param_data (im->graph, nn_graph_node_param (im->graph, node,
                                                                  NN_PARAM_BIAS));
  NN_ASSERT (im->graph->params[wp].count == c->count);
  for (size_t e = 0; e < c->count; e++)
    {
      w[e] = 0.0f;
      b[e] = c->f[e];
    }
  return node;
}

static bool
op_concat (NnOnnxImporter *im,
           NnOnnxNode     *n,
           NnError        *err)
{
  if (n->n_in < 1)
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "no inputs");
  /* Constants (a class token) join run-time tensors; the first run-time input is the
   * reference. */
  NnOnnxValue *first = NULL;
  for (int k = 0; k < n->n_in && first == NULL; k++)
    first = n->in[k] != NULL && !n->in[k]->is_const ? n->in[k] : NULL;
  if (first == NULL)
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "no run-time input");
  int64_t axis = nn_onnx_attr_int (n, "axis", 1);
  if (axis < 0)
    axis += first->ndim;
  if (axis < 0 || axis >= first->ndim || axis == first->bax)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "concatenation along axis %lld, the "
                              "batch or out of range", (long long) axis);
  /* Along the channels (per-sample axis 0) directly; along another axis between transposes
   * that bring it first ("<layer>.in<k>") and back ("<layer>_1"). */
  const int pa = (int) axis - (first->bax >= 0 && axis > first->bax);
  const bool moved = pa != 0 || first->bax != 0;
  NnShape fs;
  if (!nn_onnx_value_sample_shape (first, &fs))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "input of an unsupported shape");
  int perm[NN_MAX_RANK], inverse[NN_MAX_RANK];
  for (int d = 0; d < fs.rank; d++)
    perm[d] = d == 0 ? pa : d <= pa ? d - 1 : d;
  for (int d = 0; d < fs.rank; d++)
    inverse[perm[d]] = d;
  int64_t dims[NN_ONNX_MAX_RANK];
  memcpy (dims, first->dims, sizeof (int64_t) * (size_t) first->ndim);
  dims[axis] = 0;
  int nodes[NN_ONNX_MAX_INPUTS];
  for (int k = 0; k < n->n_in; k++)
    {
      NnOnnxValue *v = n->in[k];
      if (v == NULL)
        return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "input %d is missing", k);
      if (v->ndim != first->ndim || (!v->is_const && v->bax != first->bax))
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "inputs differ in rank or batch axis");
      for (int d = 1; d < v->ndim; d++)
        if (d != axis && v->dims[d] != first->dims[d])
          return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "inputs differ in size");
      dims[axis] += v->dims[axis];
      if (v->is_const && moved)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "a constant joins along axis "
                                  "%lld; along the channel axis (1) only", (long long) axis);
      nodes[k] = v->is_const ? constant_node (im, n, first, v, k, err)
                 : moved ? exact_shape (im, n, v, k, err) : v->node;
      if (nodes[k] >= 0 && moved)
        {
          char layer[NN_NAME_MAX];
          nn_onnx_layer_name (im, n, layer);
          NnNode spec = { .op = NN_OP_TRANSPOSE, .inputs = { nodes[k] }, .n_inputs = 1 };
          spec.attrs.transpose.rank = fs.rank;
          memcpy (spec.attrs.transpose.perm, perm, sizeof perm);
          snprintf (spec.name, sizeof spec.name, "%.80s.in%d", layer, k);
          nodes[k] = nn_graph_add (im->graph, &spec, err);
        }
      if (nodes[k] < 0)
        return false;
    }
  /* Engine nodes take up to NN_MAX_INPUTS inputs: longer lists concatenate in parts, each
   * part feeding the next. */
  int prev = -1, k = 0, part = 0;
  while (k < n->n_in)
    {
      NnNode spec;
      memset (&spec, 0, sizeof spec);
      spec.op = NN_OP_CONCAT;
      if (prev >= 0)
        spec.inputs[spec.n_inputs++] = prev;
      while (k < n->n_in && spec.n_inputs < NN_MAX_INPUTS)
        spec.inputs[spec.n_inputs++] = nodes[k++];
      if (k < n->n_in)
        {
          nn_onnx_layer_name (im, n, spec.name);
          char name[NN_NAME_MAX];
          snprintf (name, sizeof name, "%.80s.part%d", spec.name, ++part);
          memcpy (spec.name, name, sizeof name);
          prev = nn_graph_add (im->graph, &spec, err);
          if (prev < 0)
            return false;
          continue;
        }
      prev = emit (im, n, &spec, err);
      if (prev < 0)
        return false;
    }
  if (moved)
    {
      NnNode spec = { .op = NN_OP_TRANSPOSE, .inputs = { prev }, .n_inputs = 1 };
      spec.attrs.transpose.rank = fs.rank;
      memcpy (spec.attrs.transpose.perm, inverse, sizeof inverse);
      prev = emit (im, n, &spec, err);
      if (prev < 0)
        return false;
    }
  return set_output_b (im, n, prev, first->ndim, dims, first->bax, err);
}

static bool
op_pad (NnOnnxImporter *im,
        NnOnnxNode     *n,
        NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  char buf[32];
  const char *mode = attr_string (n, "mode", "constant", buf, sizeof buf);
  if (strcmp (mode, "constant") != 0)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "mode '%s'; constant padding is "
                              "supported", mode);
  if (n->n_in > 3 && n->in[3] != NULL)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "the axes input is not supported");
  int64_t pads[2 * NN_ONNX_MAX_RANK];
  int np;
  if (!int_input_or_attr (n, 1, "pads", pads, &np, err))
    return false;
  if (np != 2 * x->ndim)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "%d pads for rank %d", np, x->ndim);
  float value = nn_onnx_attr_float (n, "value", 0.0f);
  if (n->n_in > 2 && n->in[2] != NULL)
    {
      const NnOnnxValue *v = const_input (n, 2, false, err);
      if (v == NULL)
        return false;
      if (v->count != 1)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "constant_value is not a scalar");
      value = (float) nn_onnx_value_get (v, 0);
    }
  const int r = x->ndim;
  for (int d = 0; d < 2 && d < r; d++)
    if (pads[d] != 0 || pads[r + d] != 0)
      return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "padding of the batch or channel "
                                "axis is not supported");
  if (r < 3 || r > 4)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "input of rank %d; 1 or 2 spatial "
                              "axes are supported", r);
  for (int d = 0; d < 2 * r; d++)
    if (pads[d] < 0 || pads[d] > 1024)
      return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "pads must be 0 to 1024");
  NnNode spec = spec_for (NN_OP_PAD, x);
  spec.attrs.pad = (NnPadAttrs) {
    .pad_t = (int) pads[2], .pad_l = r == 4 ? (int) pads[3] : 0,
    .pad_b = (int) pads[r + 2], .pad_r = r == 4 ? (int) pads[r + 3] : 0, .value = value,
  };
  int node = emit (im, n, &spec, err);
  if (node < 0)
    return false;
  int64_t dims[4];
  for (int d = 0; d < r; d++)
    dims[d] = x->dims[d] + pads[d] + pads[r + d];
  return set_output (im, n, node, r, dims, err);
}

static bool
op_dropout (NnOnnxImporter *im,
            NnOnnxNode     *n,
            NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  /* The mask output stays undefined: a node that reads it fails to import. */
  float ratio = nn_onnx_attr_float (n, "ratio", 0.5f);
  if (n->n_in > 1 && n->in[1] != NULL)
    {
      const NnOnnxValue *v = const_input (n, 1, false, err);
      if (v == NULL)
        return false;
      ratio = v->count == 1 ? (float) nn_onnx_value_get (v, 0) : -1.0f;
    }
  if (n->n_in > 2 && n->in[2] != NULL)
    {
      const NnOnnxValue *v = const_input (n, 2, false, err);
      if (v == NULL)
        return false;
      /* Training mode with ratio 0 (Swin's attention dropout) is the identity too. */
      if (v->count != 1 || (nn_onnx_value_get (v, 0) != 0.0 && ratio != 0.0f))
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "training mode is not supported");
    }
  if (!(ratio >= 0.0f && ratio < 1.0f))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "ratio %g out of [0, 1)", (double) ratio);
  NnNode spec = spec_for (NN_OP_DROPOUT, x);
  spec.attrs.dropout.p = ratio;
  int node = emit (im, n, &spec, err);
  return node >= 0 && set_output_b (im, n, node, x->ndim, x->dims, x->bax, err);
}

static bool
op_softmax (NnOnnxImporter *im,
            NnOnnxNode     *n,
            NnError        *err)
{
  NnOnnxValue *x = dynamic_input (n, 0, err);
  if (x == NULL)
    return false;
  int64_t axis = nn_onnx_attr_int (n, "axis", im->opset < 13 ? 1 : -1);
  if (axis < 0)
    axis += x->ndim;
  /* Ours is over all values of a sample: the old coerce-to-2D form at axis 1, or a single
   * axis 1 followed only by axes of size 1. */
  bool whole = axis == 1 && x->bax == 0;
  if (whole && im->opset >= 13)
    for (int d = 2; d < x->ndim; d++)
      whole = whole && x->dims[d] == 1;
  if (whole)
    {
      NnNode spec = spec_for (NN_OP_SOFTMAX, x);
      int node = emit (im, n, &spec, err);
      return node >= 0 && set_output (im, n, node, x->ndim, x->dims, err);
    }
  /* Opset 13: along one axis (a softmax_axis node); before, over the flattened axes from
   * `axis` on, supported when that is the last axis. */
  if (axis < 0 || axis >= x->ndim || axis == x->bax || (im->opset < 13 && axis != x->ndim - 1))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "softmax over axis %lld of a rank-%d "
                              "tensor whose batch is axis %d", (long long) axis, x->ndim, x->bax);
  const int ix = exact_shape (im, n, x, 0, err);
  if (ix < 0)
    return false;
  NnNode spec = spec_for (NN_OP_SOFTMAX_AXIS, x);
  spec.inputs[0] = ix;
  spec.attrs.axis.axis = (int) axis - (x->bax >= 0 && axis > x->bax);
  int node = emit (im, n, &spec, err);
  return node >= 0 && set_output_b (im, n, node, x->ndim, x->dims, x->bax, err);
}

bool
nn_onnx_translate (NnOnnxImporter *im,
                   NnOnnxNode     *n,
                   NnError        *err)
{
  const Onnx__NodeProto *p = n->proto;
  const char *op = p->op_type;
  if (p->domain != NULL && p->domain[0] != '\0' && strcmp (p->domain, "ai.onnx") != 0)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "op domain '%.60s' is not supported",
                              p->domain);
  for (int k = 0; k < n->n_in; k++)
    if (n->in[k] == NULL && p->input[k] != NULL && p->input[k][0] != '\0')
      return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "input '%.200s' is not defined",
                                p->input[k]);
  if (p->n_output < 1 || p->output[0] == NULL || p->output[0][0] == '\0')
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "no output");

  bool all_const = true;
  for (int k = 0; k < n->n_in; k++)
    all_const = all_const && (n->in[k] == NULL || n->in[k]->is_const);
  if (all_const || strcmp (op, "Shape") == 0)
    {
      bool handled;
      if (!nn_onnx_fold (im, n, &handled, err))
        return false;
      if (handled)
        return true;
      if (n->n_in > 0)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "op '%s' on constants does not "
                                  "fold", op);
    }

  /* The ops that follow a batch moved from the first axis (in a graph of batch 1). */
  static const char *const batch_anywhere[] = {
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Transpose", "Slice", "Reshape", "Softmax",
    "Identity", "Erf", "Sqrt", "Pow", "Relu", "Sigmoid", "Tanh", "Gather", "Dropout", "Einsum",
  };
  bool anywhere = false;
  for (size_t k = 0; k < sizeof batch_anywhere / sizeof batch_anywhere[0]; k++)
    anywhere = anywhere || strcmp (op, batch_anywhere[k]) == 0;
  for (int k = 0; k < n->n_in && !anywhere; k++)
    if (n->in[k] != NULL && !n->in[k]->is_const && n->in[k]->bax != 0)
      return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "input %d has its batch at axis %d "
                                "(moved by a Transpose or Reshape), which '%s' does not support",
                                k, n->in[k]->bax, op);

  if (strcmp (op, "Conv") == 0)
    return op_conv (im, n, err);
  if (strcmp (op, "Gemm") == 0 || strcmp (op, "MatMul") == 0)
    return op_linear (im, n, op[0] == 'G', err);
  if (strcmp (op, "Add") == 0 || strcmp (op, "Sub") == 0 || strcmp (op, "Mul") == 0
      || strcmp (op, "Div") == 0)
    return op_binary (im, n, err);
  if (strcmp (op, "Transpose") == 0)
    return op_transpose (im, n, err);
  if (strcmp (op, "Slice") == 0)
    return op_slice (im, n, err);
  if (strcmp (op, "Gather") == 0)
    return op_gather (im, n, err);
  if (strcmp (op, "Einsum") == 0)
    return op_einsum (im, n, err);
  if (strcmp (op, "LayerNormalization") == 0)
    return op_layernorm (im, n, err);
  if (strcmp (op, "ReduceSum") == 0)
    return op_reduce (im, n, NN_OP_REDUCE_SUM, err);
  if (strcmp (op, "ReduceMean") == 0)
    return op_reduce (im, n, NN_OP_REDUCE_MEAN, err);
  if (strcmp (op, "ReduceMax") == 0)
    return op_reduce (im, n, NN_OP_REDUCE_MAX, err);
  if (strcmp (op, "Relu") == 0)
    return op_activation (im, n, NN_ACT_RELU, 0.0f, 0.0f, 0.0f, err);
  if (strcmp (op, "LeakyRelu") == 0)
    return op_activation (im, n, NN_ACT_RELU, nn_onnx_attr_float (n, "alpha", 0.01f), 0.0f, 0.0f,
                          err);
  if (strcmp (op, "Sigmoid") == 0)
    return op_activation (im, n, NN_ACT_SIGMOID, 0.0f, 0.0f, 0.0f, err);
  if (strcmp (op, "Erf") == 0)
    return op_activation (im, n, NN_ACT_ERF, 0.0f, 0.0f, 0.0f, err);
  if (strcmp (op, "Sqrt") == 0)
    return op_activation (im, n, NN_ACT_SQRT, 0.0f, 0.0f, 0.0f, err);
  if (strcmp (op, "Pow") == 0)
    return op_pow (im, n, err);
  if (strcmp (op, "Tanh") == 0)
    return op_activation (im, n, NN_ACT_TANH, 0.0f, 0.0f, 0.0f, err);
  if (strcmp (op, "HardSigmoid") == 0)
    return op_activation (im, n, NN_ACT_HARDSIGMOID, 0.0f, nn_onnx_attr_float (n, "alpha", 0.2f),
                          nn_onnx_attr_float (n, "beta", 0.5f), err);
  if (strcmp (op, "HardSwish") == 0)
    return op_activation (im, n, NN_ACT_HARDSWISH, 0.0f, 0.0f, 0.0f, err);
  if (strcmp (op, "Clip") == 0)
    return op_clip (im, n, err);
  if (strcmp (op, "PRelu") == 0)
    return op_prelu (im, n, err);
  if (strcmp (op, "BatchNormalization") == 0)
    return op_batchnorm (im, n, err);
  if (strcmp (op, "MaxPool") == 0 || strcmp (op, "AveragePool") == 0)
    return op_pool (im, n, op[0] == 'M', err);
  if (strcmp (op, "GlobalAveragePool") == 0)
    return op_global_avgpool (im, n, err);
  if (strcmp (op, "Flatten") == 0)
    return op_flatten (im, n, err);
  if (strcmp (op, "Reshape") == 0)
    return op_reshape (im, n, err);
  if (strcmp (op, "Squeeze") == 0 || strcmp (op, "Unsqueeze") == 0)
    return op_squeeze (im, n, op[0] == 'U', err);
  if (strcmp (op, "Concat") == 0)
    return op_concat (im, n, err);
  if (strcmp (op, "Pad") == 0)
    return op_pad (im, n, err);
  if (strcmp (op, "Dropout") == 0)
    return op_dropout (im, n, err);
  if (strcmp (op, "Softmax") == 0)
    return op_softmax (im, n, err);
  if (strcmp (op, "Identity") == 0)
    {
      NnOnnxValue *x = dynamic_input (n, 0, err);
      return x != NULL && set_output_b (im, n, x->node, x->ndim, x->dims, x->bax, err);
    }
  return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "op '%.60s' is not supported", op);
}
