/* SPDX-License-Identifier: MIT */
/* The graph of a model file: the "graph" entry of __metadata__, a JSON list of nodes, read into
 * an NnGraph. Each node's attributes are those of its op's row in the op table; every one is
 * checked, and each node's parameters are bounded by the data the file holds before
 * nn_graph_add allocates them. */
#include "io/nn-model-private.h"

#include "graph/nn-op.h"

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
  static const char *const what[] = { "", "an integer", "[a, b]", "[a, b, c]", "[t, l, b, r]" };
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

/* A shape: a list of 1 to NN_MAX_RANK integers (files before rank were added hold [c, h, w],
 * which reads as that rank-3 shape); nn_graph_add checks their range. */
static bool
attr_shape (const cJSON  *obj,
            const char   *key,
            NnShape      *out,
            const NnNode *spec,
            NnError      *err)
{
  const cJSON *array = cJSON_GetObjectItemCaseSensitive (obj, key);
  int n = cJSON_IsArray (array) ? cJSON_GetArraySize (array) : 0;
  if (n < 1 || n > NN_MAX_RANK)
    return attr_error (spec, key, "a list of 1 to 6 integers", err);
  memset (out, 0, sizeof *out);
  out->rank = n;
  for (int i = 0; i < n; i++)
    {
      double v;
      if (!nn_model_json_integer (cJSON_GetArrayItem (array, i), INT_MIN, INT_MAX, &v))
        return attr_error (spec, key, "a list of 1 to 6 integers", err);
      out->dims[i] = (int) v;
    }
  return true;
}

/* A list of 1 to NN_MAX_RANK integers into values, its length into count. */
static bool
attr_list (const cJSON  *obj,
           const char   *key,
           int          *values,
           int          *count,
           const NnNode *spec,
           NnError      *err)
{
  const cJSON *array = cJSON_GetObjectItemCaseSensitive (obj, key);
  int n = cJSON_IsArray (array) ? cJSON_GetArraySize (array) : 0;
  if (n < 1 || n > NN_MAX_RANK)
    return attr_error (spec, key, "a list of 1 to 6 integers", err);
  for (int i = 0; i < n; i++)
    {
      double v;
      if (!nn_model_json_integer (cJSON_GetArrayItem (array, i), INT_MIN, INT_MAX, &v))
        return attr_error (spec, key, "a list of 1 to 6 integers", err);
      values[i] = (int) v;
    }
  *count = n;
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

static bool
attr_act (const cJSON  *obj,
          const char   *key,
          NnActKind    *out,
          const NnNode *spec,
          NnError      *err)
{
  const char *kind = attr_string (obj, key, spec, err);
  if (kind == NULL)
    return false;
  if (!nn_act_from_name (kind, out))
    return nn_error_set (err, NN_ERROR_FORMAT, "node '%s': unknown activation '%.64s'",
                         spec->name, kind);
  return true;
}

static bool
attr_policy (const cJSON  *obj,
             const char   *key,
             NnGradPolicy *out,
             const NnNode *spec,
             NnError      *err)
{
  const char *policy = attr_string (obj, key, spec, err);
  if (policy == NULL)
    return false;
  if (!nn_grad_policy_parse (policy, out, err))
    {
      nn_error_prefix (err, "node '%s'", spec->name);
      return false;
    }
  return true;
}

/* Reads attribute `attr` of the op table into spec. */
static bool
attr_read (const cJSON  *obj,
           const NnAttr *attr,
           NnNode       *spec,
           NnError      *err)
{
  int *ints[4];
  switch (attr->type)
    {
    case NN_ATTR_INT:
      return attr_int (obj, attr->key, nn_attr_at (spec, attr, 0), spec, err);
    case NN_ATTR_INTS:
      for (int k = 0; k < attr->n; k++)
        ints[k] = nn_attr_at (spec, attr, k);
      return attr_ints (obj, attr->key, attr->n, ints, spec, err);
    case NN_ATTR_FLOAT:
      return attr_float (obj, attr->key, nn_attr_at (spec, attr, 0), spec, err);
    case NN_ATTR_BOOL:
      return attr_bool (obj, attr->key, nn_attr_at (spec, attr, 0), spec, err);
    case NN_ATTR_ACT:
      return attr_act (obj, attr->key, nn_attr_at (spec, attr, 0), spec, err);
    case NN_ATTR_POLICY:
      return attr_policy (obj, attr->key, nn_attr_at (spec, attr, 0), spec, err);
    case NN_ATTR_SHAPE:
      return attr_shape (obj, attr->key, nn_attr_at (spec, attr, 0), spec, err);
    case NN_ATTR_LIST:
      return attr_list (obj, attr->key, nn_attr_at (spec, attr, 0), nn_attr_at (spec, attr, 1),
                        spec, err);
    }
  return nn_error_set (err, NN_ERROR_FORMAT, "node '%s': unknown attribute type", spec->name);
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

static bool
inputs_from_json (const cJSON   *obj,
                  const NnGraph *graph,
                  NnNode        *spec,
                  NnError       *err)
{
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
  return true;
}

/* Fills spec from one node of the graph JSON: its name, op, inputs and the attributes the op
 * table lists; nn_graph_add validates the values. */
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
  if (!inputs_from_json (obj, graph, spec, err))
    return false;
  const NnOpInfo *info = nn_op_info (spec->op);
  for (int k = 0; k < NN_OP_MAX_ATTRS && info->attrs[k].key != NULL; k++)
    if (nn_attr_present (spec, &info->attrs[k]) && !attr_read (obj, &info->attrs[k], spec, err))
      return false;
  return true;
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
  if (graph == NULL)
    {
      cJSON_Delete (nodes);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }
  /* Every parameter needs its own bytes in the data section: this bound keeps a small file
   * from making nn_graph_add allocate gigabytes. */
  const cJSON *obj;
  cJSON_ArrayForEach (obj, nodes)
    {
      NnNode spec;
      if (!node_from_json (obj, graph, &spec, err))
        break;
      size_t need;
      if (!nn_graph_spec_param_count (graph, &spec, &need, err))
        break;
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
