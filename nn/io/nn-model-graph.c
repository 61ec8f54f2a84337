/* SPDX-License-Identifier: MIT */
/* The graph of a model file: the "graph" entry of __metadata__, a JSON list of nodes, read into
 * an NnGraph. Every attribute is checked, and each node's parameters are bounded by the data the
 * file holds before nn_graph_add allocates them. */
#include "io/nn-model-private.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MODEL_MAX_NODES 16384

/* Graph attributes. Each reader sets an error naming the node and the attribute. */

static bool
attr_error (const NnNode *spec,
            const char   *key,
            const char   *what,
            NnError      *err)
{
  return nn_error_set (err, NN_ERROR_FORMAT, "node '%s': attribute '%s' is missing or not %s",
                       spec->name, key, what);
}

static bool
attr_ints (const cJSON  *obj,
           const char   *key,
           int           n,
           int         **out,
           const NnNode *spec,
           NnError      *err)
{
  const cJSON *array = cJSON_GetObjectItemCaseSensitive (obj, key);
  static const char *const what[] = { "", "an integer", "[a, b]", "[c, h, w]", "[t, l, b, r]" };
  NN_ASSERT (n >= 1 && n <= 4);
  if (!cJSON_IsArray (array) || cJSON_GetArraySize (array) != n)
    return attr_error (spec, key, what[n], err);
  for (int i = 0; i < n; i++)
    {
      double v;
      if (!nn_model_json_integer (cJSON_GetArrayItem (array, i), INT_MIN, INT_MAX, &v))
        return attr_error (spec, key, what[n], err);
      *out[i] = (int) v;
    }
  return true;
}

static bool
attr_int (const cJSON  *obj,
          const char   *key,
          int          *out,
          const NnNode *spec,
          NnError      *err)
{
  double v;
  if (!nn_model_json_integer (cJSON_GetObjectItemCaseSensitive (obj, key), INT_MIN, INT_MAX, &v))
    return attr_error (spec, key, "an integer", err);
  *out = (int) v;
  return true;
}

static bool
attr_float (const cJSON  *obj,
            const char   *key,
            float        *out,
            const NnNode *spec,
            NnError      *err)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (obj, key);
  if (!cJSON_IsNumber (item) || !(fabs (item->valuedouble) <= (double) FLT_MAX))
    return attr_error (spec, key, "a finite number", err);
  *out = (float) item->valuedouble;
  return true;
}

static bool
attr_bool (const cJSON  *obj,
           const char   *key,
           bool         *out,
           const NnNode *spec,
           NnError      *err)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (obj, key);
  if (!cJSON_IsBool (item))
    return attr_error (spec, key, "true or false", err);
  *out = cJSON_IsTrue (item);
  return true;
}

static const char *
attr_string (const cJSON  *obj,
             const char   *key,
             const NnNode *spec,
             NnError      *err)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (obj, key);
  if (!cJSON_IsString (item))
    {
      attr_error (spec, key, "a string", err);
      return NULL;
    }
  return item->valuestring;
}

/* Node lookup from the end: inputs usually name a recent node. */
static int
find_node_backwards (const NnGraph *graph,
                     const char    *name)
{
  for (int i = graph->n_nodes - 1; i >= 0; i--)
    if (strcmp (graph->nodes[i].name, name) == 0)
      return i;
  return -1;
}

/* Fills spec from one node of the graph JSON; nn_graph_add validates the values. */
static bool
node_from_json (const cJSON   *obj,
                const NnGraph *graph,
                NnNode        *spec,
                NnError       *err)
{
  memset (spec, 0, sizeof *spec);
  int index = graph->n_nodes;
  const cJSON *name = cJSON_IsObject (obj) ? cJSON_GetObjectItemCaseSensitive (obj, "name") : NULL;
  if (!cJSON_IsString (name) || name->valuestring[0] == '\0'
      || strlen (name->valuestring) >= NN_NAME_MAX)
    return nn_error_set (err, NN_ERROR_FORMAT,
                         "node %d: not an object with a name of 1 to %d bytes", index,
                         NN_NAME_MAX - 1);
  memcpy (spec->name, name->valuestring, strlen (name->valuestring) + 1);

  const char *op = attr_string (obj, "op", spec, err);
  if (op == NULL)
    return false;
  if (!nn_op_from_name (op, &spec->op))
    return nn_error_set (err, NN_ERROR_FORMAT, "node '%s': unknown op '%.64s'", spec->name, op);

  const cJSON *inputs = cJSON_GetObjectItemCaseSensitive (obj, "inputs");
  if (!cJSON_IsArray (inputs) || cJSON_GetArraySize (inputs) > NN_MAX_INPUTS)
    return nn_error_set (err, NN_ERROR_FORMAT,
                         "node '%s': 'inputs' is not a list of at most %d node names",
                         spec->name, NN_MAX_INPUTS);
  const cJSON *input;
  cJSON_ArrayForEach (input, inputs)
    {
      if (!cJSON_IsString (input))
        return nn_error_set (err, NN_ERROR_FORMAT, "node '%s': an input is not a node name",
                             spec->name);
      int k = find_node_backwards (graph, input->valuestring);
      if (k < 0)
        return nn_error_set (err, NN_ERROR_FORMAT, "node '%s': input '%.96s' is not an earlier "
                             "node", spec->name, input->valuestring);
      spec->inputs[spec->n_inputs++] = k;
    }

  switch (spec->op)
    {
    case NN_OP_INPUT:
      return attr_ints (obj, "shape", 3,
                        (int *[]) { &spec->shape.c, &spec->shape.h, &spec->shape.w }, spec, err);
    case NN_OP_CONV2D:
      {
        NnConvAttrs *a = &spec->attrs.conv;
        return attr_int (obj, "out_channels", &a->out_channels, spec, err)
               && attr_ints (obj, "kernel", 2, (int *[]) { &a->kh, &a->kw }, spec, err)
               && attr_ints (obj, "stride", 2, (int *[]) { &a->sh, &a->sw }, spec, err)
               && attr_ints (obj, "padding", 4,
                             (int *[]) { &a->pad_t, &a->pad_l, &a->pad_b, &a->pad_r }, spec, err)
               && attr_ints (obj, "dilation", 2, (int *[]) { &a->dh, &a->dw }, spec, err)
               && attr_int (obj, "groups", &a->groups, spec, err)
               && attr_bool (obj, "bias", &a->bias, spec, err);
      }
    case NN_OP_LINEAR:
      return attr_int (obj, "out_features", &spec->attrs.linear.out_features, spec, err)
             && attr_bool (obj, "bias", &spec->attrs.linear.bias, spec, err);
    case NN_OP_BATCHNORM:
    case NN_OP_INSTANCENORM:
      return attr_float (obj, "eps", &spec->attrs.norm.eps, spec, err)
             && attr_float (obj, "momentum", &spec->attrs.norm.momentum, spec, err)
             && attr_bool (obj, "affine", &spec->attrs.norm.affine, spec, err);
    case NN_OP_ACTIVATION:
      {
        NnActAttrs *a = &spec->attrs.act;
        const char *kind = attr_string (obj, "kind", spec, err);
        if (kind == NULL)
          return false;
        if (!nn_act_from_name (kind, &a->kind))
          return nn_error_set (err, NN_ERROR_FORMAT, "node '%s': unknown activation '%.64s'",
                               spec->name, kind);
        if (!attr_float (obj, "slope", &a->slope, spec, err))
          return false;
        if ((a->kind == NN_ACT_CLIP || a->kind == NN_ACT_HARDSIGMOID)
            && !(attr_float (obj, "alpha", &a->alpha, spec, err)
                 && attr_float (obj, "beta", &a->beta, spec, err)))
          return false;
        const char *policy = attr_string (obj, "policy", spec, err);
        if (policy == NULL)
          return false;
        if (!nn_grad_policy_parse (policy, &a->policy, err))
          {
            nn_error_prefix (err, "node '%s'", spec->name);
            return false;
          }
        return true;
      }
    case NN_OP_MAXPOOL:
    case NN_OP_AVGPOOL:
      {
        NnPoolAttrs *a = &spec->attrs.pool;
        return attr_ints (obj, "kernel", 2, (int *[]) { &a->kh, &a->kw }, spec, err)
               && attr_ints (obj, "stride", 2, (int *[]) { &a->sh, &a->sw }, spec, err)
               && attr_ints (obj, "padding", 4,
                             (int *[]) { &a->pad_t, &a->pad_l, &a->pad_b, &a->pad_r }, spec, err)
               && attr_bool (obj, "count_include_pad", &a->count_include_pad, spec, err);
      }
    case NN_OP_DROPOUT:
      return attr_float (obj, "p", &spec->attrs.dropout.p, spec, err);
    case NN_OP_PAD:
      {
        NnPadAttrs *a = &spec->attrs.pad;
        return attr_ints (obj, "padding", 4,
                          (int *[]) { &a->pad_t, &a->pad_l, &a->pad_b, &a->pad_r }, spec, err)
               && attr_float (obj, "value", &a->value, spec, err);
      }
    case NN_OP_RESHAPE:
      return attr_ints (obj, "shape", 3,
                        (int *[]) { &spec->shape.c, &spec->shape.h, &spec->shape.w }, spec, err);
    case NN_OP_SCALE:
    case NN_OP_PRELU:
      return attr_bool (obj, "per_element", &spec->attrs.channel.per_element, spec, err);
    case NN_OP_GLOBAL_AVGPOOL:
    case NN_OP_ADD:
    case NN_OP_MUL:
    case NN_OP_CONCAT:
    case NN_OP_FLATTEN:
    case NN_OP_SOFTMAX:
      return true;
    case NN_OP_COUNT_:
    default:
      break;
    }
  return nn_error_set (err, NN_ERROR_FORMAT, "node '%s': unknown op", spec->name);
}

static uint64_t
mul_sat (uint64_t a,
         uint64_t b)
{
  if (a != 0 && b > UINT64_MAX / a)
    return UINT64_MAX;
  return a * b;
}

static uint64_t
positive (int value)
{
  return value > 0 ? (uint64_t) value : 0;
}

/* The floats nn_graph_add will allocate for spec, computed before the allocation happens (for
 * a spec nn_graph_add rejects, any value). It must not exceed the exact count, or a valid file
 * whose data section holds exactly its parameters would be refused. */
static uint64_t
node_param_bound (const NnGraph *graph,
                  const NnNode  *spec)
{
  if (spec->n_inputs < 1)
    return 0;
  NnShape in = graph->nodes[spec->inputs[0]].shape;
  switch (spec->op)
    {
    case NN_OP_CONV2D:
      {
        const NnConvAttrs *a = &spec->attrs.conv;
        if (a->groups <= 0)
          return 0;
        uint64_t w = mul_sat (mul_sat (positive (a->out_channels), positive (in.c / a->groups)),
                              mul_sat (positive (a->kh), positive (a->kw)));
        return w == UINT64_MAX || !a->bias ? w : w + positive (a->out_channels);
      }
    case NN_OP_LINEAR:
      {
        uint64_t n = positive (spec->attrs.linear.out_features);
        uint64_t w = mul_sat (n, nn_shape_size (in));
        return w == UINT64_MAX || !spec->attrs.linear.bias ? w : w + n;
      }
    case NN_OP_BATCHNORM:
      return 4 * positive (in.c);
    case NN_OP_INSTANCENORM:
      return spec->attrs.norm.affine ? 2 * positive (in.c) : 0;
    case NN_OP_SCALE:
    case NN_OP_PRELU:
      {
        uint64_t n = spec->attrs.channel.per_element ? nn_shape_size (in) : positive (in.c);
        return spec->op == NN_OP_SCALE ? 2 * n : n;
      }
    case NN_OP_INPUT:
    case NN_OP_ACTIVATION:
    case NN_OP_MAXPOOL:
    case NN_OP_AVGPOOL:
    case NN_OP_GLOBAL_AVGPOOL:
    case NN_OP_ADD:
    case NN_OP_MUL:
    case NN_OP_CONCAT:
    case NN_OP_FLATTEN:
    case NN_OP_SOFTMAX:
    case NN_OP_DROPOUT:
    case NN_OP_PAD:
    case NN_OP_RESHAPE:
    case NN_OP_COUNT_:
    default:
      return 0;
    }
}

NnGraph *
nn_model_graph_from_json (const char *graph_text,
                          uint64_t    max_floats,
                          NnError    *err)
{
  cJSON *nodes = nn_model_json_parse (graph_text);
  if (nodes == NULL)
    return nn_model_json_fail (graph_text, "the graph in __metadata__", err), NULL;
  int n = cJSON_GetArraySize (nodes);
  if (!cJSON_IsArray (nodes) || n < 1 || n > MODEL_MAX_NODES)
    {
      cJSON_Delete (nodes);
      nn_error_set (err, NN_ERROR_FORMAT, "the graph in __metadata__ is not a list of 1 to %d nodes",
                    MODEL_MAX_NODES);
      return NULL;
    }
  NnGraph *graph = nn_graph_new ();
  /* Every parameter needs its own bytes in the data section: this bound keeps a small file
   * from making nn_graph_add allocate gigabytes. */
  const cJSON *obj;
  cJSON_ArrayForEach (obj, nodes)
    {
      NnNode spec;
      if (!node_from_json (obj, graph, &spec, err))
        break;
      uint64_t need = node_param_bound (graph, &spec);
      if (need > max_floats - graph->n_data)
        {
          nn_error_set (err, NN_ERROR_FORMAT,
                        "node '%s': its parameters need more data than the file holds",
                        spec.name);
          break;
        }
      if (nn_graph_add (graph, &spec, err) < 0)
        break;
    }
  cJSON_Delete (nodes);
  if (graph->n_nodes != n)
    {
      nn_graph_free (graph);
      return NULL;
    }
  return graph;
}
