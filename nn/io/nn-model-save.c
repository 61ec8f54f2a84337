/* SPDX-License-Identifier: MIT */
/* Saving an NnModel atomically as .safetensors with the graph as JSON in __metadata__
 * (docs/model-format.md). */
#include "io/nn-model-private.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/nn-op.h"
#include "io/nn-atomic-file.h"

/* Floats are written in chunks of this many through a little-endian byte buffer. */
#define MODEL_WRITE_CHUNK 4096

static void
put_u64_le (unsigned char *out,
            uint64_t       value)
{
  for (int i = 0; i < 8; i++)
    out[i] = (unsigned char) (value >> (8 * i));
}

/* The shortest decimal text that reads back as exactly `value` (finite) when parsed as a
 * double and rounded to float, as the loader does; 9 digits always do. */
static void
float_text (char  *buf,
            size_t size,
            float  value)
{
  for (int digits = 6; digits <= 9; digits++)
    {
      snprintf (buf, size, "%.*g", digits, (double) value);
      if ((float) strtod (buf, NULL) == value)
        return;
    }
}

static void
double_text (char  *buf,
             size_t size,
             double value)
{
  for (int digits = 15; digits <= 17; digits++)
    {
      snprintf (buf, size, "%.*g", digits, value);
      if (strtod (buf, NULL) == value)
        return;
    }
}

/* Builders record an allocation failure in *ok instead of checking every call. */
static void
check (bool       *ok,
       const void *item)
{
  if (item == NULL)
    *ok = false;
}

static void
add_item (bool       *ok,
          cJSON      *object,
          const char *key,
          cJSON      *item)
{
  if (item == NULL || object == NULL || !cJSON_AddItemToObject (object, key, item))
    {
      cJSON_Delete (item);
      *ok = false;
    }
}

static void
append_item (bool  *ok,
             cJSON *array,
             cJSON *item)
{
  if (item == NULL || array == NULL || !cJSON_AddItemToArray (array, item))
    {
      cJSON_Delete (item);
      *ok = false;
    }
}

static void
add_float (bool       *ok,
           cJSON      *object,
           const char *key,
           float       value)
{
  char buf[32];
  float_text (buf, sizeof buf, value);
  add_item (ok, object, key, cJSON_CreateRaw (buf));
}

static void
add_ints (bool       *ok,
          cJSON      *object,
          const char *key,
          const int  *values,
          int         n)
{
  add_item (ok, object, key, cJSON_CreateIntArray (values, n));
}

/* Prints item unformatted and adds the text as the string object[key]. */
static void
add_json_string (bool       *ok,
                 cJSON      *object,
                 const char *key,
                 cJSON      *item)
{
  char *text = item != NULL ? cJSON_PrintUnformatted (item) : NULL;
  cJSON_Delete (item);
  check (ok, text);
  if (text != NULL)
    check (ok, cJSON_AddStringToObject (object, key, text));
  free (text);
}

/* A fixed-size char field as a string, even if the caller filled it to the last byte. */
static void
add_field (bool       *ok,
           cJSON      *object,
           const char *key,
           const char *field,
           size_t      size)
{
  char *text = strndup (field, size);
  check (ok, text);
  if (text != NULL)
    check (ok, cJSON_AddStringToObject (object, key, text));
  free (text);
}

/* Adds attribute `attr` of the op table to obj. */
static void
add_attr (bool         *ok,
          cJSON        *obj,
          const NnNode *node,
          const NnAttr *attr)
{
  int ints[4];
  char policy[64];
  const NnShape *shape;
  switch (attr->type)
    {
    case NN_ATTR_INT:
      check (ok, cJSON_AddNumberToObject (obj, attr->key,
                                          *(const int *) nn_attr_get (node, attr, 0)));
      break;
    case NN_ATTR_INTS:
      for (int k = 0; k < attr->n; k++)
        ints[k] = *(const int *) nn_attr_get (node, attr, k);
      add_ints (ok, obj, attr->key, ints, attr->n);
      break;
    case NN_ATTR_FLOAT:
      add_float (ok, obj, attr->key, *(const float *) nn_attr_get (node, attr, 0));
      break;
    case NN_ATTR_BOOL:
      check (ok, cJSON_AddBoolToObject (obj, attr->key,
                                        *(const bool *) nn_attr_get (node, attr, 0)));
      break;
    case NN_ATTR_ACT:
      check (ok, cJSON_AddStringToObject (obj, attr->key,
                                          nn_act_name (*(const NnActKind *) nn_attr_get (node, attr,
                                                                                         0))));
      break;
    case NN_ATTR_POLICY:
      nn_grad_policy_format (nn_attr_get (node, attr, 0), policy, sizeof policy);
      check (ok, cJSON_AddStringToObject (obj, attr->key, policy));
      break;
    case NN_ATTR_SHAPE:
      shape = nn_attr_get (node, attr, 0);
      add_ints (ok, obj, attr->key, shape->dims, shape->rank);
      break;
    case NN_ATTR_LIST:
      add_ints (ok, obj, attr->key, nn_attr_get (node, attr, 0),
                *(const int *) nn_attr_get (node, attr, 1));
      break;
    }
}

static cJSON *
node_to_json (const NnGraph *graph,
              const NnNode  *node)
{
  bool ok = true;
  cJSON *obj = cJSON_CreateObject ();
  check (&ok, obj);
  check (&ok, cJSON_AddStringToObject (obj, "name", node->name));
  check (&ok, cJSON_AddStringToObject (obj, "op", nn_op_name (node->op)));
  cJSON *inputs = cJSON_AddArrayToObject (obj, "inputs");
  check (&ok, inputs);
  for (int i = 0; i < node->n_inputs; i++)
    append_item (&ok, inputs, cJSON_CreateString (graph->nodes[node->inputs[i]].name));
  const NnOpInfo *info = nn_op_info (node->op);
  for (int k = 0; k < NN_OP_MAX_ATTRS && info->attrs[k].key != NULL; k++)
    if (nn_attr_present (node, &info->attrs[k]))
      add_attr (&ok, obj, node, &info->attrs[k]);
  if (!ok)
    {
      cJSON_Delete (obj);
      return NULL;
    }
  return obj;
}

static cJSON *
floats_to_json (const float *values,
                int          n)
{
  bool ok = true;
  cJSON *array = cJSON_CreateArray ();
  check (&ok, array);
  for (int i = 0; i < n; i++)
    {
      char buf[32];
      float_text (buf, sizeof buf, values[i]);
      append_item (&ok, array, cJSON_CreateRaw (buf));
    }
  if (!ok)
    {
      cJSON_Delete (array);
      return NULL;
    }
  return array;
}

static cJSON *
metadata_to_json (const NnModel *model)
{
  const NnGraph *graph = model->graph;
  bool ok = true;
  cJSON *meta = cJSON_CreateObject ();
  check (&ok, meta);
  check (&ok, cJSON_AddStringToObject (meta, "format", NN_MODEL_FORMAT_NAME));
  check (&ok, cJSON_AddStringToObject (meta, "version", NN_MODEL_FORMAT_VERSION));

  cJSON *nodes = cJSON_CreateArray ();
  check (&ok, nodes);
  for (int i = 0; i < graph->n_nodes && ok; i++)
    append_item (&ok, nodes, node_to_json (graph, &graph->nodes[i]));
  add_json_string (&ok, meta, "graph", nodes);

  cJSON *trainable = cJSON_CreateObject ();
  check (&ok, trainable);
  for (int i = 0; i < graph->n_params; i++)
    check (&ok, cJSON_AddBoolToObject (trainable, graph->params[i].name,
                                       graph->params[i].trainable));
  add_json_string (&ok, meta, "trainable", trainable);

  cJSON *labels = cJSON_CreateArray ();
  check (&ok, labels);
  for (int k = 0; k < model->n_classes && ok; k++)
    append_item (&ok, labels, cJSON_CreateString (model->labels[k]));
  add_json_string (&ok, meta, "labels", labels);

  int channels = nn_model_norm_channels (model);
  add_json_string (&ok, meta, "mean", floats_to_json (model->mean, channels));
  add_json_string (&ok, meta, "std", floats_to_json (model->std, channels));
  if (model->has_window)
    {
      cJSON *window = cJSON_CreateObject ();
      add_float (&ok, window, "width", model->window.width);
      add_float (&ok, window, "level", model->window.level);
      add_json_string (&ok, meta, "ct_window", window);
    }
  add_field (&ok, meta, "arch", model->arch, sizeof model->arch);
  if (model->arch_options[0] != '\0')
    add_field (&ok, meta, "arch_options", model->arch_options, sizeof model->arch_options);
  add_field (&ok, meta, "dataset", model->dataset, sizeof model->dataset);
  add_field (&ok, meta, "command", model->command, sizeof model->command);
  if (model->test_accuracy >= 0.0)
    {
      char buf[32];
      double_text (buf, sizeof buf, model->test_accuracy);
      check (&ok, cJSON_AddStringToObject (meta, "test_accuracy", buf));
    }

  if (!ok)
    {
      cJSON_Delete (meta);
      return NULL;
    }
  return meta;
}

/* The whole header text, padded with spaces to a multiple of 8 bytes; NULL when out of
 * memory. */
static char *
header_build (const NnModel *model,
              size_t        *length)
{
  const NnGraph *graph = model->graph;
  bool ok = true;
  cJSON *root = cJSON_CreateObject ();
  check (&ok, root);
  add_item (&ok, root, "__metadata__", metadata_to_json (model));

  uint64_t offset = 0;
  for (int i = 0; i < graph->n_params && ok; i++)
    {
      const NnParam *p = &graph->params[i];
      uint64_t bytes = (uint64_t) p->count * sizeof (float);
      double offsets[2] = { (double) offset, (double) (offset + bytes) };
      cJSON *tensor = cJSON_CreateObject ();
      check (&ok, cJSON_AddStringToObject (tensor, "dtype", "F32"));
      add_ints (&ok, tensor, "shape", p->dims, p->ndim);
      add_item (&ok, tensor, "data_offsets", cJSON_CreateDoubleArray (offsets, 2));
      add_item (&ok, root, p->name, tensor);
      offset += bytes;
    }

  char *text = ok ? cJSON_PrintUnformatted (root) : NULL;
  cJSON_Delete (root);
  if (text == NULL)
    return NULL;
  size_t len = strlen (text);
  size_t padded = (len + 7) / 8 * 8;
  char *header = realloc (text, padded + 1);
  if (header == NULL)
    {
      free (text);
      return NULL;
    }
  memset (header + len, ' ', padded - len);
  header[padded] = '\0';
  *length = padded;
  return header;
}

static bool
write_floats (FILE        *file,
              const float *data,
              size_t       n)
{
  unsigned char buf[MODEL_WRITE_CHUNK * 4];
  while (n > 0)
    {
      size_t m = n < MODEL_WRITE_CHUNK ? n : MODEL_WRITE_CHUNK;
      for (size_t i = 0; i < m; i++)
        {
          uint32_t bits;
          memcpy (&bits, &data[i], sizeof bits);
          for (int b = 0; b < 4; b++)
            buf[4 * i + (size_t) b] = (unsigned char) (bits >> (8 * b));
        }
      if (fwrite (buf, 4, m, file) != m)
        return false;
      data += m;
      n -= m;
    }
  return true;
}

/* Writes header and data to an open temporary file. */
static bool
write_contents (FILE          *file,
                const NnModel *model,
                const char    *header,
                size_t         header_len)
{
  unsigned char prefix[8];
  put_u64_le (prefix, header_len);
  if (fwrite (prefix, 1, 8, file) != 8 || fwrite (header, 1, header_len, file) != header_len)
    return false;
  const NnGraph *graph = model->graph;
  for (int i = 0; i < graph->n_params; i++)
    if (!write_floats (file, graph->data + graph->params[i].offset, graph->params[i].count))
      return false;
  return true;
}

/* Whether every number attribute the file would store is finite (JSON has no inf or nan). */
static bool
attrs_finite (const NnNode *node)
{
  const NnOpInfo *info = nn_op_info (node->op);
  for (int k = 0; k < NN_OP_MAX_ATTRS && info->attrs[k].key != NULL; k++)
    {
      const NnAttr *attr = &info->attrs[k];
      if (!nn_attr_present (node, attr))
        continue;
      if (attr->type == NN_ATTR_FLOAT && !isfinite (*(const float *) nn_attr_get (node, attr, 0)))
        return false;
      if (attr->type == NN_ATTR_POLICY
          && !isfinite (((const NnGradPolicy *) nn_attr_get (node, attr, 0))->beta))
        return false;
    }
  return true;
}

static bool
model_check_values (const NnModel *model,
                    NnError       *err)
{
  for (int c = 0; c < nn_model_norm_channels (model); c++)
    if (!isfinite (model->mean[c]) || !isfinite (model->std[c]) || !(model->std[c] > 0.0f))
      return nn_error_set (err, NN_ERROR_SPEC,
                           "channel %d: mean %g and std %g must be finite, std positive", c,
                           (double) model->mean[c], (double) model->std[c]);
  if (!(model->test_accuracy < 0.0 || isfinite (model->test_accuracy)))
    return nn_error_set (err, NN_ERROR_SPEC, "test accuracy is not finite");
  if (model->has_window && !(isfinite (model->window.level) && isfinite (model->window.width)
                             && model->window.width > 0.0f))
    return nn_error_set (err, NN_ERROR_SPEC, "CT window W %g, L %g: W must be positive, both "
                         "finite", (double) model->window.width, (double) model->window.level);
  const NnGraph *graph = model->graph;
  for (int i = 0; i < graph->n_nodes; i++)
    if (!attrs_finite (&graph->nodes[i]))
      return nn_error_set (err, NN_ERROR_SPEC, "node '%s': an attribute is not finite",
                           graph->nodes[i].name);
  return true;
}

static bool
model_save (const NnModel *model,
            const char    *path,
            NnError       *err)
{
  if (!model_check_values (model, err))
    {
      nn_error_prefix (err, "%s", path);
      return false;
    }
  size_t header_len = 0;
  char *header = header_build (model, &header_len);
  if (header == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory building the header", path);

  NnAtomicFile file;
  if (!nn_atomic_file_open (&file, path, err))
    {
      free (header);
      return false;
    }
  bool ok = write_contents (file.fp, model, header, header_len);
  if (!ok)
    {
      char errbuf[128];
      nn_error_set (err, NN_ERROR_IO, "%s: cannot write: %s", path,
                    nn_model_errno_text (errno, errbuf, sizeof errbuf));
    }
  free (header);
  return nn_atomic_file_finish (&file, ok, err);
}

bool
nn_model_save (const NnModel *model,
               const char    *path,
               NnError       *err)
{
  NN_ASSERT (model != NULL && path != NULL);
  NN_ASSERT (model->graph != NULL && model->graph->n_nodes > 0);
  NN_ASSERT ((size_t) model->n_classes
             == nn_shape_size (model->graph->nodes[nn_graph_output (model->graph)].shape));
  for (int k = 0; k < model->n_classes; k++)
    NN_ASSERT (model->labels[k] != NULL);

  NnModelCLocale loc;
  if (!nn_model_c_locale_enter (&loc))
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
  bool ok = model_save (model, path, err);
  nn_model_c_locale_leave (&loc);
  return ok;
}
