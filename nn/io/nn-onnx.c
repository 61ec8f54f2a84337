/* SPDX-License-Identifier: MIT */
/* ONNX import, the outer part: reading and unpacking the file, the graph's constants and input,
 * ordering the nodes (cycles, missing inputs) and translating the ones the output needs, and
 * building the NnModel. The file is treated as hostile: every size is checked. */
#include "io/nn-onnx-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/nn-file.h"
#include "io/nn-model-private.h"

/* Reading the file. */

bool
nn_onnx_sniff (const unsigned char *head,
               size_t               size)
{
  /* Field 1 (ir_version) as a varint: tag byte 0x08, then a small version number. */
  return size >= 2 && head[0] == 0x08 && head[1] > 0 && head[1] < 0x40;
}

bool
nn_onnx_tensor_load (const char   *path,
                     NnOnnxTensor *tensor,
                     NnError      *err)
{
  NN_ASSERT (path != NULL && tensor != NULL);
  memset (tensor, 0, sizeof *tensor);
  size_t size;
  uint8_t *data = nn_file_load (path, NN_ONNX_MAX_FILE, "an ONNX tensor", &size, err);
  if (data == NULL)
    return false;
  Onnx__TensorProto *t = onnx__tensor_proto__unpack (NULL, size, data);
  free (data);
  if (t == NULL)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: not a valid ONNX TensorProto", path);
  NnOnnxValue value = { .name = t->name != NULL ? t->name : "" };
  bool ok = nn_onnx_tensor_decode (NULL, t, &value, err);
  if (ok)
    {
      snprintf (tensor->name, sizeof tensor->name, "%s", value.name);
      tensor->ndim = value.ndim;
      memcpy (tensor->dims, value.dims, sizeof value.dims);
      tensor->count = value.count;
      tensor->data = malloc (sizeof (float) * (value.count ? value.count : 1));
      if (tensor->data == NULL)
        ok = nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
      for (size_t k = 0; ok && k < value.count; k++)
        tensor->data[k] = (float) nn_onnx_value_get (&value, k);
    }
  else
    nn_error_prefix (err, "%s", path);
  nn_onnx_value_clear (&value);
  onnx__tensor_proto__free_unpacked (t, NULL);
  return ok;
}

void
nn_onnx_tensor_clear (NnOnnxTensor *tensor)
{
  if (tensor == NULL)
    return;
  free (tensor->data);
  memset (tensor, 0, sizeof *tensor);
}

/* The graph. */

static const Onnx__TensorShapeProto *
value_info_shape (const Onnx__ValueInfoProto *info)
{
  if (info->type == NULL || info->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
      || info->type->tensor_type == NULL)
    return NULL;
  return info->type->tensor_type->shape;
}

/* The run-time input: node 0 of the engine graph, its shape from the model or the options. */
static bool
add_input (NnOnnxImporter             *im,
           const Onnx__ValueInfoProto *info,
           NnError                    *err)
{
  const NnOnnxOptions *opt = im->options;
  const Onnx__TensorShapeProto *shape = value_info_shape (info);
  if (shape == NULL)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "input '%.200s' is not a tensor with a "
                         "shape", info->name);
  int ndim = (int) shape->n_dim;
  if (ndim < 1 || ndim > 4)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "input '%.200s' has rank %d; 1 to 4 "
                         "are supported", info->name, ndim);
  int64_t dims[4];
  const int given[4] = { 0, opt ? opt->channels : 0, opt ? opt->height : 0,
                         opt ? opt->width : 0 };
  static const char *const what[4] = { "batch", "channels", "height", "width" };
  for (int d = 0; d < ndim; d++)
    {
      const Onnx__TensorShapeProto__Dimension *dim = shape->dim[d];
      bool known = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      dims[d] = known ? dim->dim_value : -1;
      if (d == 0)
        {
          /* The batch is chosen at run time; an exported one (usually 1) is kept for the
           * shape arithmetic of the graph. */
          if (!known || dims[0] <= 0)
            dims[0] = 1;
          continue;
        }
      if (given[d] > 0)
        {
          if (known && dims[d] != given[d])
            return nn_error_set (err, NN_ERROR_SPEC, "input '%.200s': the model fixes the %s "
                                 "at %lld, not %d", info->name, what[d],
                                 (long long) dims[d], given[d]);
          dims[d] = given[d];
        }
      if (dims[d] <= 0 || dims[d] > (1 << 20))
        return nn_error_set (err, NN_ERROR_SPEC, "input '%.200s': the %s (dimension %d) is "
                             "dynamic or out of range; give it (cnnscope-cli convert --size)",
                             info->name, what[d], d);
    }
  NnShape s;
  if (!nn_onnx_shape_to_nn (ndim, dims, &s))
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "input '%.200s': unsupported shape",
                         info->name);
  NnOnnxValue *value = nn_onnx_value_add (im, info->name, err);
  if (value == NULL)
    return false;
  value->ndim = ndim;
  memcpy (value->dims, dims, sizeof (int64_t) * (size_t) ndim);
  NnNode spec;
  memset (&spec, 0, sizeof spec);
  spec.op = NN_OP_INPUT;
  snprintf (spec.name, sizeof spec.name, "input");
  spec.shape = s;
  value->node = nn_graph_add (im->graph, &spec, err);
  if (value->node < 0)
    {
      nn_error_prefix (err, "input '%.200s'", info->name);
      return false;
    }
  return true;
}

static const NnOnnxTensor *
find_bound (const NnOnnxOptions *opt,
            const char          *name)
{
  for (int k = 0; opt != NULL && k < opt->n_bind; k++)
    if (strcmp (opt->bind[k].name, name) == 0)
      return &opt->bind[k];
  return NULL;
}

static bool
add_constants_and_input (NnOnnxImporter *im,
                         NnError        *err)
{
  const Onnx__GraphProto *g = im->model->graph;
  for (size_t k = 0; k < g->n_initializer; k++)
    {
      const Onnx__TensorProto *t = g->initializer[k];
      if (t->name == NULL || t->name[0] == '\0')
        return nn_error_set (err, NN_ERROR_FORMAT, "initializer %zu has no name", k);
      NnOnnxValue *value = nn_onnx_value_add (im, t->name, err);
      if (value == NULL || !nn_onnx_tensor_decode (im, t, value, err))
        return false;
    }
  if (g->n_sparse_initializer > 0)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "sparse initializers are not supported");
  const Onnx__ValueInfoProto *input = NULL;
  for (size_t k = 0; k < g->n_input; k++)
    {
      const Onnx__ValueInfoProto *info = g->input[k];
      if (info->name == NULL || info->name[0] == '\0')
        return nn_error_set (err, NN_ERROR_FORMAT, "graph input %zu has no name", k);
      if (nn_onnx_value_find (im, info->name) != NULL)
        continue;   /* an initializer listed as an input (IR version < 4) */
      const NnOnnxTensor *bound = find_bound (im->options, info->name);
      if (bound != NULL)
        {
          NnOnnxValue *value = nn_onnx_value_add (im, info->name, err);
          if (value == NULL || !nn_onnx_value_alloc (value, false, bound->ndim, bound->dims, err))
            return false;
          if (value->count != bound->count)
            return nn_error_set (err, NN_ERROR_SPEC, "bound input '%.200s': shape and data "
                                 "disagree", info->name);
          memcpy (value->f, bound->data, sizeof (float) * bound->count);
          continue;
        }
      if (input != NULL)
        return nn_error_set (err, NN_ERROR_UNSUPPORTED, "the graph has several inputs ('%.100s', "
                             "'%.100s'); one image input is supported", input->name,
                             info->name);
      input = info;
    }
  if (input == NULL)
    return nn_error_set (err, NN_ERROR_FORMAT, "the graph has no input");
  return add_input (im, input, err);
}

/* The walk over the graph's nodes: their order and which ones the output needs. */
typedef struct
{
  size_t  n;
  int    *indeg;       /* inputs produced by a node not yet ordered */
  int    *order;       /* topological, stable */
  int    *edge_start;  /* edges[edge_start[p] .. edge_start[p + 1]): the nodes that read an */
  int    *edges;       /* output of node p */
  bool   *needed;
} Walk;

static void
walk_clear (Walk *walk)
{
  free (walk->indeg);
  free (walk->order);
  free (walk->edge_start);
  free (walk->edges);
  free (walk->needed);
}

/* The node that produces value `name`, or -1 (an initializer, the input, or none). */
static int
producer_of (const NnOnnxImporter *im,
             const char           *name)
{
  return name != NULL && name[0] != '\0' ? nn_onnx_map_get (&im->producer, name) : -1;
}

/* Records which node produces each named output (each name once), and counts the inputs. */
static bool
index_producers (NnOnnxImporter *im,
                 size_t         *n_inputs,
                 NnError        *err)
{
  const Onnx__GraphProto *g = im->model->graph;
  *n_inputs = 0;
  for (size_t k = 0; k < g->n_node; k++)
    {
      const Onnx__NodeProto *node = g->node[k];
      NnOnnxNode view = { .proto = node, .index = (int) k };
      if (node->op_type == NULL)
        return nn_error_set (err, NN_ERROR_FORMAT, "node %zu has no op type", k);
      for (size_t o = 0; o < node->n_output; o++)
        {
          const char *name = node->output[o];
          if (name == NULL || name[0] == '\0')
            continue;
          if (nn_onnx_map_get (&im->producer, name) >= 0 || nn_onnx_value_find (im, name) != NULL)
            return nn_onnx_node_fail (&view, err, NN_ERROR_FORMAT,
                                      "output '%.200s' is defined twice", name);
          if (!nn_onnx_map_put (&im->producer, name, (int) k))
            return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
        }
      *n_inputs += node->n_input;
    }
  return true;
}

/* Checks that every input exists, and builds the edges from producers to readers (CSR) and
 * each node's count of produced inputs. */
static bool
build_edges (NnOnnxImporter *im,
             Walk           *walk,
             NnError        *err)
{
  const Onnx__GraphProto *g = im->model->graph;
  for (size_t k = 0; k < walk->n; k++)
    {
      const Onnx__NodeProto *node = g->node[k];
      NnOnnxNode view = { .proto = node, .index = (int) k };
      for (size_t i = 0; i < node->n_input; i++)
        {
          const char *name = node->input[i];
          if (name == NULL || name[0] == '\0')
            continue;
          int p = nn_onnx_map_get (&im->producer, name);
          if (p < 0 && nn_onnx_value_find (im, name) == NULL)
            return nn_onnx_node_fail (&view, err, NN_ERROR_FORMAT, "input '%.200s' is not "
                                      "produced by any node, initializer or graph input", name);
          if (p >= 0)
            {
              walk->indeg[k]++;
              walk->edge_start[p + 1]++;
            }
        }
    }
  for (size_t k = 0; k < walk->n; k++)
    walk->edge_start[k + 1] += walk->edge_start[k];
  int *fill = calloc (walk->n + 1, sizeof (int));
  if (fill == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  for (size_t k = 0; k < walk->n; k++)
    {
      const Onnx__NodeProto *node = g->node[k];
      for (size_t i = 0; i < node->n_input; i++)
        {
          int p = producer_of (im, node->input[i]);
          if (p >= 0)
            walk->edges[walk->edge_start[p] + fill[p]++] = (int) k;
        }
    }
  free (fill);
  return true;
}

/* Kahn's algorithm; a node left over lies on a cycle. */
static bool
order_nodes (NnOnnxImporter *im,
             Walk           *walk,
             NnError        *err)
{
  size_t head = 0, tail = 0;
  for (size_t k = 0; k < walk->n; k++)
    if (walk->indeg[k] == 0)
      walk->order[tail++] = (int) k;
  while (head < tail)
    {
      int k = walk->order[head++];
      for (int e = walk->edge_start[k]; e < walk->edge_start[k + 1]; e++)
        if (--walk->indeg[walk->edges[e]] == 0)
          walk->order[tail++] = walk->edges[e];
    }
  if (tail == walk->n)
    return true;
  for (size_t k = 0; k < walk->n; k++)
    if (walk->indeg[k] > 0)
      {
        NnOnnxNode view = { .proto = im->model->graph->node[k], .index = (int) k };
        return nn_onnx_node_fail (&view, err, NN_ERROR_FORMAT, "the graph has a cycle through "
                                  "this node");
      }
  return false;
}

/* The nodes the output needs, and who reads each node's first output (how many needed nodes,
 * and the first of them). */
static bool
mark_needed (NnOnnxImporter *im,
             Walk           *walk,
             const char     *out_name,
             NnError        *err)
{
  const Onnx__GraphProto *g = im->model->graph;
  int out_producer = nn_onnx_map_get (&im->producer, out_name);
  if (out_producer < 0)
    {
      const NnOnnxValue *out = nn_onnx_value_find (im, out_name);
      if (out == NULL || out->is_const)
        return nn_error_set (err, NN_ERROR_UNSUPPORTED, "the output '%.200s' is not computed "
                             "from the input", out_name);
    }
  else
    walk->needed[out_producer] = true;
  for (size_t r = walk->n; r-- > 0;)
    {
      int k = walk->order[r];
      if (!walk->needed[k])
        continue;
      const Onnx__NodeProto *node = g->node[k];
      for (size_t i = 0; i < node->n_input; i++)
        {
          int p = producer_of (im, node->input[i]);
          if (p < 0)
            continue;
          walk->needed[p] = true;
          if (g->node[p]->n_output > 0 && strcmp (g->node[p]->output[0], node->input[i]) == 0)
            {
              im->consumers[p]++;
              im->first_use[p] = k;
            }
        }
    }
  if (out_producer >= 0)
    im->consumers[out_producer]++;
  return true;
}

/* Translates the needed nodes in order, each with its inputs resolved. */
static bool
translate_needed (NnOnnxImporter *im,
                  const Walk     *walk,
                  NnError        *err)
{
  const Onnx__GraphProto *g = im->model->graph;
  NnOnnxValue **inputs = calloc (NN_ONNX_MAX_INPUTS, sizeof (NnOnnxValue *));
  if (inputs == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  bool ok = true;
  for (size_t r = 0; r < walk->n && ok; r++)
    {
      int k = walk->order[r];
      if (!walk->needed[k])
        continue;
      NnOnnxNode view = { .proto = g->node[k], .index = k, .in = inputs };
      const Onnx__NodeProto *node = view.proto;
      if (node->n_input > NN_ONNX_MAX_INPUTS)
        {
          ok = nn_onnx_node_fail (&view, err, NN_ERROR_UNSUPPORTED, "%zu inputs, more than %d",
                                  node->n_input, NN_ONNX_MAX_INPUTS);
          break;
        }
      view.n_in = (int) node->n_input;
      /* Room for the node's outputs first: its inputs point into im->values. */
      if (!nn_onnx_values_reserve (im, node->n_output, err))
        {
          ok = false;
          break;
        }
      for (int i = 0; i < view.n_in; i++)
        view.in[i] = node->input[i] != NULL && node->input[i][0] != '\0'
                     ? nn_onnx_value_find (im, node->input[i]) : NULL;
      ok = nn_onnx_translate (im, &view, err);
    }
  free (inputs);
  return ok;
}

/* Orders the nodes, checks that every input exists, finds the nodes the output needs, and
 * translates those in order; the output must then be the graph's last layer. */
static bool
translate_graph (NnOnnxImporter *im,
                 NnError        *err)
{
  const Onnx__GraphProto *g = im->model->graph;
  const size_t n = g->n_node;
  if (n > NN_ONNX_MAX_NODES)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%zu nodes, more than %d", n,
                         NN_ONNX_MAX_NODES);
  if (g->n_output != 1 || g->output[0]->name == NULL)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "the graph has %zu outputs; one is "
                         "supported", g->n_output);
  Walk walk = {
    .n = n, .indeg = calloc (n + 1, sizeof (int)), .order = calloc (n + 1, sizeof (int)),
    .edge_start = calloc (n + 2, sizeof (int)), .needed = calloc (n + 1, sizeof (bool)),
  };
  im->consumers = calloc (n + 1, sizeof (int));
  im->first_use = calloc (n + 1, sizeof (int));
  im->fused = calloc (n + 1, sizeof (bool));
  size_t n_edges = 0;
  bool ok = walk.indeg && walk.order && walk.edge_start && walk.needed && im->consumers
            && im->first_use && im->fused;
  if (!ok)
    nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  ok = ok && index_producers (im, &n_edges, err);
  if (ok)
    {
      walk.edges = calloc (n_edges + 1, sizeof (int));
      if (walk.edges == NULL)
        ok = nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
    }
  const char *out_name = g->output[0]->name;
  ok = ok && build_edges (im, &walk, err) && order_nodes (im, &walk, err)
       && mark_needed (im, &walk, out_name, err) && translate_needed (im, &walk, err);
  walk_clear (&walk);
  if (!ok)
    return false;
  const NnOnnxValue *out = nn_onnx_value_find (im, out_name);
  if (out == NULL || out->is_const)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "the output '%.200s' is constant",
                         out_name);
  if (out->node != nn_graph_output (im->graph))
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "the output '%.200s' is not the last layer",
                         out_name);
  return true;
}

static int64_t
default_opset (const Onnx__ModelProto *model)
{
  for (size_t k = 0; k < model->n_opset_import; k++)
    {
      const Onnx__OperatorSetIdProto *o = model->opset_import[k];
      if (o->domain == NULL || o->domain[0] == '\0' || strcmp (o->domain, "ai.onnx") == 0)
        return o->version;
    }
  return -1;
}

/* Mean and std: the options, else "cnnscope.mean" / "cnnscope.std" metadata, else 0 / 1. */
static bool
parse_floats (const char *text,
              float      *out,
              int         max)
{
  int n = 0;
  const char *p = text;
  while (*p && n < max)
    {
      char *end;
      double v = strtod (p, &end);
      if (end == p)
        return false;
      out[n++] = (float) v;
      p = end;
      while (*p == ',' || *p == ' ')
        p++;
    }
  for (int k = n; k < max && n > 0; k++)
    out[k] = out[n - 1];
  return n > 0 && *p == '\0';
}

static void
set_norm (NnModel                *model,
          const Onnx__ModelProto *proto,
          const NnOnnxOptions    *opt)
{
  if (opt != NULL && opt->n_norm > 0)
    {
      for (int c = 0; c < NN_MODEL_MAX_CHANNELS; c++)
        {
          int k = c < opt->n_norm ? c : opt->n_norm - 1;
          model->mean[c] = opt->mean[k];
          model->std[c] = opt->std[k];
        }
      return;
    }
  float mean[NN_MODEL_MAX_CHANNELS], std[NN_MODEL_MAX_CHANNELS];
  bool have_mean = false, have_std = false;
  for (size_t k = 0; k < proto->n_metadata_props; k++)
    {
      const Onnx__StringStringEntryProto *e = proto->metadata_props[k];
      if (e->key == NULL || e->value == NULL)
        continue;
      if (strcmp (e->key, "cnnscope.mean") == 0)
        have_mean = parse_floats (e->value, mean, NN_MODEL_MAX_CHANNELS);
      else if (strcmp (e->key, "cnnscope.std") == 0)
        have_std = parse_floats (e->value, std, NN_MODEL_MAX_CHANNELS);
    }
  if (!have_mean || !have_std)
    return;
  for (int c = 0; c < NN_MODEL_MAX_CHANNELS; c++)
    if (!(std[c] > 0.0f))
      return;
  memcpy (model->mean, mean, sizeof mean);
  memcpy (model->std, std, sizeof std);
}

static NnModel *
import (NnOnnxImporter *im,
        const uint8_t  *data,
        size_t          size,
        NnError        *err)
{
  im->model = onnx__model_proto__unpack (NULL, size, data);
  if (im->model == NULL)
    return nn_error_set (err, NN_ERROR_FORMAT, "not a valid ONNX file (the protobuf is "
                         "truncated or corrupt)"), NULL;
  if (im->model->graph == NULL || !im->model->has_ir_version)
    return nn_error_set (err, NN_ERROR_FORMAT, "not an ONNX model (no graph or IR version)"),
           NULL;
  im->opset = default_opset (im->model);
  if (im->opset < 1)
    return nn_error_set (err, NN_ERROR_FORMAT, "the model imports no default opset"), NULL;
  if (im->opset > 18)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "opset %lld is newer than the 18 we know",
                         (long long) im->opset), NULL;
  im->graph = nn_graph_new ();
  if (im->graph == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  if (!add_constants_and_input (im, err) || !translate_graph (im, err))
    return NULL;
  const NnShape out = im->graph->nodes[nn_graph_output (im->graph)].shape;
  if (nn_shape_size (out) > (1 << 20))
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "the output has %zu values, too many for "
                         "class scores", nn_shape_size (out)), NULL;
  NnModel *model = nn_model_new (im->graph, "");
  if (model == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  im->graph = NULL;
  set_norm (model, im->model, im->options);
  snprintf (model->dataset, sizeof model->dataset, "imported from ONNX (%.100s %.60s, opset "
            "%lld)", im->model->producer_name ? im->model->producer_name : "unknown producer",
            im->model->producer_version ? im->model->producer_version : "",
            (long long) im->opset);
  return model;
}

NnModel *
nn_onnx_load (const char          *path,
              const NnOnnxOptions *options,
              NnError             *err)
{
  NN_ASSERT (path != NULL);
  NnOnnxImporter im = { .path = path, .options = options };
  const char *slash = strrchr (path, '/');
  size_t dlen = slash != NULL ? (size_t) (slash - path) : 1;
  im.dir = malloc (dlen + 1);
  if (im.dir == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
      return NULL;
    }
  if (slash != NULL)
    memcpy (im.dir, path, dlen);
  else
    im.dir[0] = '.';
  im.dir[dlen] = '\0';
  if (slash == path)
    snprintf (im.dir, dlen + 1, "/");

  size_t size;
  uint8_t *data = nn_file_load (path, NN_ONNX_MAX_FILE, "an ONNX model", &size, err);
  NnModel *model = data != NULL ? import (&im, data, size, err) : NULL;
  if (model == NULL && data != NULL)
    nn_error_prefix (err, "%s", path);
  free (data);
  for (int k = 0; k < im.n_values; k++)
    nn_onnx_value_clear (&im.values[k]);
  free (im.values);
  nn_onnx_map_clear (&im.value_map);
  nn_onnx_map_clear (&im.producer);
  free (im.consumers);
  free (im.first_use);
  free (im.fused);
  free (im.dir);
  nn_graph_free (im.graph);
  if (im.model != NULL)
    onnx__model_proto__free_unpacked (im.model, NULL);
  return model;
}
