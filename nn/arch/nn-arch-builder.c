/* SPDX-License-Identifier: MIT */
/* The checked builder every architecture uses (nn-arch-private.h): each node's sizes are checked
 * before nn_graph_add_* sees them, and a failure becomes the builder's error. */
#include "arch/nn-arch-private.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
nn_arch_builder_set_prefix (NnArchBuilder *b,
                            const char    *format,
                            ...)
{
  va_list ap;
  va_start (ap, format);
  int n = vsnprintf (b->prefix, sizeof b->prefix, format, ap);
  va_end (ap);
  NN_ASSERT (n >= 0 && (size_t) n < sizeof b->prefix);
}

/* Fills the error, prefixed with the architecture's name, marks b failed and returns false. */
static bool
fail (NnArchBuilder *b,
      const char    *format,
      ...) __attribute__ ((format (printf, 2, 3)));

static bool
fail (NnArchBuilder *b,
      const char    *format,
      ...)
{
  char msg[512];
  va_list ap;
  va_start (ap, format);
  vsnprintf (msg, sizeof msg, format, ap);
  va_end (ap);
  nn_error_set (b->err, NN_ERROR_SPEC, "%s: %s", b->arch, msg);
  b->failed = true;
  return false;
}

/* The index nn_graph_add_* returned; -1 with b failed when it ran out of memory. */
static int
added (NnArchBuilder *b,
       int            index)
{
  if (index < 0)
    {
      nn_error_set (b->err, NN_ERROR_NOMEM, "%s: out of memory at '%s'", b->arch, b->name);
      b->failed = true;
    }
  return index;
}

/* Puts the full node name in b->name; false when b has already failed (inputs are then -1). */
static bool
begin (NnArchBuilder *b,
       const char    *name,
       int            input)
{
  if (b->failed || input < 0)
    {
      NN_ASSERT (b->failed);
      return false;
    }
  int n = snprintf (b->name, sizeof b->name, "%s%s", b->prefix, name);
  NN_ASSERT (n >= 0 && (size_t) n < sizeof b->name);
  return true;
}

NnShape
nn_arch_builder_shape (const NnArchBuilder *b,
                       int                  node)
{
  NN_ASSERT (node >= 0 && node < b->graph->n_nodes);
  return b->graph->nodes[node].shape;
}

static bool
check_output (NnArchBuilder *b,
              size_t         c,
              int            h,
              int            w)
{
  if (h < 1 || w < 1)
    return fail (b, "the input is too small: '%s' would have an empty output", b->name);
  if (c > NN_ARCH_CHANNELS_MAX)
    return fail (b, "'%s' would have %zu channels, more than %d (reduce the input size or the "
                 "width)", b->name, c, NN_ARCH_CHANNELS_MAX);
  if (c * (size_t) h * (size_t) w > NN_ARCH_ACT_MAX)
    return fail (b, "'%s' would output %zux%dx%d values per sample, more than %zu (reduce the "
                 "input size or the width)", b->name, c, h, w, NN_ARCH_ACT_MAX);
  return true;
}

static bool
check_params (NnArchBuilder *b,
              size_t         count)
{
  if (count > NN_ARCH_PARAM_MAX || b->graph->n_data + count > NN_ARCH_PARAM_MAX)
    return fail (b, "more than %zu parameters at '%s' (reduce the width or the number of "
                 "classes)", NN_ARCH_PARAM_MAX, b->name);
  return true;
}

static int
window_out (int in,
            int k,
            int stride,
            int pad)
{
  int span = in + 2 * pad - k;
  return span < 0 ? 0 : span / stride + 1;
}

int
nn_arch_builder_input (NnArchBuilder *b,
                       int            c,
                       int            h,
                       int            w)
{
  NN_ASSERT (b->graph->n_nodes == 0);
  if (!begin (b, "input", 0) || !check_output (b, c, h, w))
    return -1;
  return added (b, nn_graph_add_input (b->graph, b->name, c, h, w));
}

int
nn_arch_builder_conv2d (NnArchBuilder *b,
                        const char    *name,
                        int            input,
                        int            out_channels,
                        int            k,
                        int            stride,
                        int            pad,
                        int            groups,
                        bool           bias)
{
  if (!begin (b, name, input))
    return -1;
  NnShape in = nn_arch_builder_shape (b, input);
  NN_ASSERT (groups >= 1 && in.c % groups == 0 && out_channels % groups == 0);
  size_t count = (size_t) out_channels * (size_t) (in.c / groups) * (size_t) k * (size_t) k
                 + (bias ? (size_t) out_channels : 0);
  if (!check_output (b, out_channels, window_out (in.h, k, stride, pad),
                     window_out (in.w, k, stride, pad))
      || !check_params (b, count))
    return -1;
  return added (b, nn_graph_add_conv2d (b->graph, b->name, input, out_channels, k, stride, pad,
                                        1, groups, bias));
}

int
nn_arch_builder_linear (NnArchBuilder *b,
                        const char    *name,
                        int            input,
                        int            out_features)
{
  if (!begin (b, name, input))
    return -1;
  size_t fan_in = nn_shape_size (nn_arch_builder_shape (b, input));
  if (!check_output (b, out_features, 1, 1)
      || !check_params (b, (fan_in + 1) * (size_t) out_features))
    return -1;
  return added (b, nn_graph_add_linear (b->graph, b->name, input, out_features, true));
}

int
nn_arch_builder_batchnorm (NnArchBuilder *b,
                           const char    *name,
                           int            input)
{
  if (!begin (b, name, input)
      || !check_params (b, 4 * (size_t) nn_arch_builder_shape (b, input).c))
    return -1;
  return added (b, nn_graph_add_batchnorm (b->graph, b->name, input));
}

int
nn_arch_builder_instancenorm (NnArchBuilder *b,
                              const char    *name,
                              int            input,
                              bool           affine)
{
  if (!begin (b, name, input))
    return -1;
  NnShape in = nn_arch_builder_shape (b, input);
  if (in.h * in.w < 2)
    {
      fail (b, "the input is too small: instance norm '%s' would see a single pixel", b->name);
      return -1;
    }
  if (affine && !check_params (b, 2 * (size_t) in.c))
    return -1;
  return added (b, nn_graph_add_instancenorm (b->graph, b->name, input, affine));
}

int
nn_arch_builder_relu (NnArchBuilder *b,
                      const char    *name,
                      int            input)
{
  if (!begin (b, name, input))
    return -1;
  return added (b, nn_graph_add_relu (b->graph, b->name, input));
}

int
nn_arch_builder_maxpool (NnArchBuilder *b,
                         const char    *name,
                         int            input,
                         int            k,
                         int            stride,
                         int            pad)
{
  if (!begin (b, name, input))
    return -1;
  NnShape in = nn_arch_builder_shape (b, input);
  if (!check_output (b, in.c, window_out (in.h, k, stride, pad),
                     window_out (in.w, k, stride, pad)))
    return -1;
  return added (b, nn_graph_add_maxpool (b->graph, b->name, input, k, stride, pad));
}

int
nn_arch_builder_avgpool (NnArchBuilder *b,
                         const char    *name,
                         int            input,
                         int            k,
                         int            stride,
                         int            pad)
{
  if (!begin (b, name, input))
    return -1;
  NnShape in = nn_arch_builder_shape (b, input);
  if (!check_output (b, in.c, window_out (in.h, k, stride, pad),
                     window_out (in.w, k, stride, pad)))
    return -1;
  int node = added (b, nn_graph_add_avgpool (b->graph, b->name, input, k, stride, pad));
  if (node >= 0)
    b->graph->nodes[node].attrs.pool.count_include_pad = false;
  return node;
}

int
nn_arch_builder_concat (NnArchBuilder *b,
                        const char    *name,
                        int            x,
                        int            y)
{
  if (!begin (b, name, x < 0 ? x : y))
    return -1;
  NnShape sx = nn_arch_builder_shape (b, x);
  if (!check_output (b, (size_t) sx.c + (size_t) nn_arch_builder_shape (b, y).c, sx.h, sx.w))
    return -1;
  const int inputs[2] = { x, y };
  return added (b, nn_graph_add_concat (b->graph, b->name, inputs, 2));
}

int
nn_arch_builder_zeros (NnArchBuilder *b,
                       const char    *name,
                       int            x)
{
  if (!begin (b, name, x) || !check_params (b, 2 * (size_t) nn_arch_builder_shape (b, x).c))
    return -1;
  int node = added (b, nn_graph_add_scale (b->graph, b->name, x, false));
  if (node >= 0)
    {
      nn_graph_set_trainable (b->graph, node, false);
      const NnParamRole roles[2] = { NN_PARAM_WEIGHT, NN_PARAM_BIAS };
      for (int r = 0; r < 2; r++)
        {
          int p = nn_graph_node_param (b->graph, node, roles[r]);
          memset (nn_graph_param_data (b->graph, p), 0,
                  b->graph->params[p].count * sizeof (float));
        }
    }
  return node;
}

int
nn_arch_builder_global_avgpool (NnArchBuilder *b,
                                const char    *name,
                                int            input)
{
  if (!begin (b, name, input))
    return -1;
  return added (b, nn_graph_add_global_avgpool (b->graph, b->name, input));
}

int
nn_arch_builder_add (NnArchBuilder *b,
                     const char    *name,
                     int            x,
                     int            y)
{
  if (!begin (b, name, x < 0 ? x : y))
    return -1;
  return added (b, nn_graph_add_add (b->graph, b->name, x, y));
}

int
nn_arch_builder_mul (NnArchBuilder *b,
                     const char    *name,
                     int            x,
                     int            y)
{
  if (!begin (b, name, x < 0 ? x : y))
    return -1;
  return added (b, nn_graph_add_mul (b->graph, b->name, x, y));
}

int
nn_arch_builder_flatten (NnArchBuilder *b,
                         const char    *name,
                         int            input)
{
  if (!begin (b, name, input)
      || !check_output (b, nn_shape_size (nn_arch_builder_shape (b, input)), 1, 1))
    return -1;
  return added (b, nn_graph_add_flatten (b->graph, b->name, input));
}

int
nn_arch_builder_dropout (NnArchBuilder *b,
                         const char    *name,
                         int            input,
                         float          p)
{
  if (!begin (b, name, input))
    return -1;
  return added (b, nn_graph_add_dropout (b->graph, b->name, input, p));
}

int
nn_arch_channels (int   base,
                  float width)
{
  long c = lroundf ((float) base * width);
  return c < 1 ? 1 : (int) c;
}
