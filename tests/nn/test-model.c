/* SPDX-License-Identifier: MIT */
/* NnModel: exact save/load round trip, the safetensors layout, atomic saving, broken and fuzzed
 * files (each must fail with an error naming the file, never crash), and preprocessing. */
#include <cjson/cJSON.h>
#include <float.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "graph/nn-op.h"
#include "nn.h"
#include "test-util.h"

/* A scratch folder per test, removed with everything in it. */
typedef struct
{
  char *dir;
  char *path;  /* dir/model.safetensors */
} Fixture;

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  (void) data;
  fx->dir = test_util_make_tmp_dir ();
  fx->path = g_build_filename (fx->dir, "model.safetensors", NULL);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  (void) data;
  test_util_remove_tree (fx->dir);
  g_free (fx->dir);
  g_free (fx->path);
}

/* The names in a folder, sorted, as one string "a b c". */
static char *
folder_listing (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  g_assert_nonnull (dir);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (names, NULL);
  char *joined = g_strjoinv (" ", (char **) names->pdata);
  g_ptr_array_unref (names);
  return joined;
}

static int
add_node (NnGraph      *graph,
          const NnNode *spec)
{
  NnError err = { 0 };
  int index = nn_graph_add (graph, spec, &err);
  if (index < 0)
    g_error ("%s", err.message);
  return index;
}

/* A small graph with every attribute away from its default: conv, batch norm, ReLU with a
 * ProxyGrad policy, an asymmetric grouped conv without bias, a skip connection, max and
 * average pooling, leaky ReLU, dropout, flatten, linear. conv1 is frozen. */
static NnGraph *
build_graph (void)
{
  NnGraph *graph = nn_graph_new ();
  int in = nn_graph_add_input (graph, "input", 3, 8, 6);
  int conv1 = nn_graph_add_conv2d (graph, "conv1", in, 4, 3, 1, 1, 1, 1, true);
  int bn1 = nn_graph_add_batchnorm (graph, "bn1", conv1);
  int relu1 = nn_graph_add_relu (graph, "relu1", bn1);
  graph->nodes[relu1].attrs.act.policy = (NnGradPolicy) { NN_GRAD_PROXY, 0.3f };

  NnNode spec = { .op = NN_OP_CONV2D, .inputs = { relu1 }, .n_inputs = 1 };
  snprintf (spec.name, sizeof spec.name, "layer1.0.conv2");
  spec.attrs.conv = (NnConvAttrs) {
    .out_channels = 4, .kh = 3, .kw = 1, .sh = 1, .sw = 1,
    .pad_t = 1, .pad_l = 0, .pad_b = 1, .pad_r = 0, .dh = 1, .dw = 1, .groups = 2,
    .bias = false,
  };
  int conv2 = add_node (graph, &spec);
  int add = nn_graph_add_add (graph, "add", relu1, conv2);
  int pool = nn_graph_add_maxpool (graph, "pool", add, 2, 2, 0);

  memset (&spec, 0, sizeof spec);
  spec.op = NN_OP_AVGPOOL;
  snprintf (spec.name, sizeof spec.name, "avg");
  spec.inputs[0] = pool;
  spec.n_inputs = 1;
  spec.attrs.pool = (NnPoolAttrs) {
    .kh = 3, .kw = 2, .sh = 1, .sw = 2, .pad_t = 1, .pad_l = 1, .pad_b = 2, .pad_r = 0,
    .count_include_pad = false,
  };
  int avg = add_node (graph, &spec);
  int leaky = nn_graph_add_leaky_relu (graph, "leaky", avg, 0.125f);
  int drop = nn_graph_add_dropout (graph, "drop", leaky, 0.25f);
  int flat = nn_graph_add_flatten (graph, "flat", drop);
  nn_graph_add_linear (graph, "fc", flat, 5, true);
  nn_graph_set_trainable (graph, conv1, false);
  return graph;
}

/* Distinct values in every parameter, plus NaN with a payload, -0, a denormal and infinity,
 * so a byte-exact round trip is what the tests check. */
static void
fill_params (NnGraph *graph,
             float    scale)
{
  for (size_t i = 0; i < graph->n_data; i++)
    graph->data[i] = scale * ((float) (i + 1) / 7.0f) * ((i % 2) ? -1.0f : 1.0f);
  uint32_t nan_bits = 0x7fc01234u;
  memcpy (&graph->data[0], &nan_bits, sizeof nan_bits);
  graph->data[1] = -0.0f;
  graph->data[2] = FLT_MIN / 8.0f;
  graph->data[3] = INFINITY;
}

static NnModel *
build_model (void)
{
  NnGraph *graph = build_graph ();
  fill_params (graph, 1.0f);
  NnModel *model = nn_model_new (graph, "tiny-test");
  nn_model_set_label (model, 0, "cat");
  nn_model_set_label (model, 1, "dog");
  nn_model_set_label (model, 2, "\xc3\xbcnic\xc3\xb6" "de \"quoted\" \\ back");
  nn_model_set_label (model, 3, "");
  nn_model_set_label (model, 4, "two\nlines");
  const float mean[3] = { 0.485f, 0.456f, 0.406f };
  const float std[3] = { 0.229f, 0.224f, 0.225f };
  memcpy (model->mean, mean, sizeof mean);
  memcpy (model->std, std, sizeof std);
  snprintf (model->dataset, sizeof model->dataset, "synthetic dashes (seed 7)");
  snprintf (model->command, sizeof model->command,
            "cnnscope-cli train --arch tiny --lr 0.1 --out 'my model.safetensors'");
  model->test_accuracy = 0.8125123;
  return model;
}

static void
save_or_die (const NnModel *model,
             const char    *path)
{
  NnError err = { 0 };
  if (!nn_model_save (model, path, &err))
    g_error ("%s", err.message);
}

/* Attribute `attr` of the op table, as stored in a model file, is the same in both nodes. */
static void
assert_same_attr (const NnNode *x,
                  const NnNode *y,
                  const NnAttr *attr)
{
  size_t size = nn_attr_value_size (attr);
  for (int k = 0; k < attr->n; k++)
    if (memcmp (nn_attr_get (x, attr, k), nn_attr_get (y, attr, k), size) != 0)
      g_error ("node '%s': attribute '%s' differs", x->name, attr->key);
}

static void
assert_same_graph (const NnGraph *a,
                   const NnGraph *b)
{
  g_assert_cmpint (a->n_nodes, ==, b->n_nodes);
  for (int i = 0; i < a->n_nodes; i++)
    {
      const NnNode *x = &a->nodes[i], *y = &b->nodes[i];
      g_assert_cmpstr (x->name, ==, y->name);
      g_assert_cmpint (x->op, ==, y->op);
      g_assert_cmpint (x->n_inputs, ==, y->n_inputs);
      for (int k = 0; k < x->n_inputs; k++)
        g_assert_cmpint (x->inputs[k], ==, y->inputs[k]);
      g_assert_cmpint (x->n_params, ==, y->n_params);
      for (int k = 0; k < x->n_params; k++)
        g_assert_cmpint (x->params[k], ==, y->params[k]);
      g_assert_cmpint (x->shape.c, ==, y->shape.c);
      g_assert_cmpint (x->shape.h, ==, y->shape.h);
      g_assert_cmpint (x->shape.w, ==, y->shape.w);
      const NnOpInfo *info = nn_op_info (x->op);
      for (int k = 0; k < NN_OP_MAX_ATTRS && info->attrs[k].key != NULL; k++)
        if (nn_attr_present (x, &info->attrs[k]))
          assert_same_attr (x, y, &info->attrs[k]);
    }
  g_assert_cmpint (a->n_params, ==, b->n_params);
  for (int i = 0; i < a->n_params; i++)
    {
      const NnParam *x = &a->params[i], *y = &b->params[i];
      g_assert_cmpstr (x->name, ==, y->name);
      g_assert_cmpint (x->node, ==, y->node);
      g_assert_cmpint (x->role, ==, y->role);
      g_assert_cmpint (x->ndim, ==, y->ndim);
      for (int d = 0; d < x->ndim; d++)
        g_assert_cmpint (x->dims[d], ==, y->dims[d]);
      g_assert_cmpuint (x->offset, ==, y->offset);
      g_assert_cmpuint (x->count, ==, y->count);
      g_assert_cmpint (x->trainable, ==, y->trainable);
    }
  g_assert_cmpuint (a->n_data, ==, b->n_data);
  g_assert_cmpmem (a->data, a->n_data * sizeof (float), b->data, b->n_data * sizeof (float));
}

static void
test_new_defaults (void)
{
  NnModel *model = nn_model_new (build_graph (), NULL);
  g_assert_cmpstr (model->arch, ==, "");
  g_assert_cmpint (model->n_classes, ==, 5);
  for (int k = 0; k < 5; k++)
    {
      char want[8];
      snprintf (want, sizeof want, "%d", k);
      g_assert_cmpstr (model->labels[k], ==, want);
    }
  for (int c = 0; c < NN_MODEL_MAX_CHANNELS; c++)
    {
      g_assert_true (model->mean[c] == 0.0f);
      g_assert_true (model->std[c] == 1.0f);
    }
  g_assert_cmpfloat (model->test_accuracy, <, 0.0);
  g_assert_false (model->has_window);
  g_assert_cmpint (nn_model_input_channels (model), ==, 3);
  g_assert_cmpint (nn_model_input_height (model), ==, 8);
  g_assert_cmpint (nn_model_input_width (model), ==, 6);
  nn_model_set_label (model, 4, "last");
  g_assert_cmpstr (model->labels[4], ==, "last");
  nn_model_free (model);
  nn_model_free (NULL);
}

static void
test_round_trip (Fixture       *fx,
                 gconstpointer  data)
{
  (void) data;
  NnModel *model = build_model ();
  /* The frozen conv and the policy must survive, not only the defaults. */
  g_assert_false (model->graph->params[0].trainable);
  g_assert_true (model->graph->params[2].trainable);
  save_or_die (model, fx->path);

  NnError err = { 0 };
  NnModel *back = nn_model_load (fx->path, &err);
  g_assert_nonnull (back);
  g_assert_cmpint (err.code, ==, NN_ERROR_NONE);
  assert_same_graph (model->graph, back->graph);
  g_assert_cmpstr (back->arch, ==, "tiny-test");
  g_assert_cmpint (back->n_classes, ==, 5);
  for (int k = 0; k < 5; k++)
    g_assert_cmpstr (back->labels[k], ==, model->labels[k]);
  g_assert_cmpmem (back->mean, sizeof back->mean, model->mean, sizeof model->mean);
  g_assert_cmpmem (back->std, sizeof back->std, model->std, sizeof model->std);
  g_assert_cmpstr (back->dataset, ==, model->dataset);
  g_assert_cmpstr (back->command, ==, model->command);
  g_assert_true (back->test_accuracy == model->test_accuracy);

  /* Saving what was loaded gives the same bytes. */
  char *again = g_build_filename (fx->dir, "again.safetensors", NULL);
  save_or_die (back, again);
  char *a, *b;
  gsize na, nb;
  g_assert_true (g_file_get_contents (fx->path, &a, &na, NULL));
  g_assert_true (g_file_get_contents (again, &b, &nb, NULL));
  g_assert_cmpmem (a, na, b, nb);
  g_free (a);
  g_free (b);
  g_free (again);
  nn_model_free (back);
  nn_model_free (model);
}

/* A model without labels, normalization or provenance keeps the defaults. */
static void
test_round_trip_defaults (Fixture       *fx,
                          gconstpointer  data)
{
  (void) data;
  NnModel *model = nn_model_new (build_graph (), NULL);
  save_or_die (model, fx->path);
  NnError err = { 0 };
  NnModel *back = nn_model_load (fx->path, &err);
  g_assert_nonnull (back);
  assert_same_graph (model->graph, back->graph);
  g_assert_cmpstr (back->arch, ==, "");
  g_assert_cmpstr (back->labels[3], ==, "3");
  g_assert_true (back->std[2] == 1.0f);
  g_assert_cmpstr (back->dataset, ==, "");
  g_assert_cmpfloat (back->test_accuracy, <, 0.0);
  nn_model_free (back);
  nn_model_free (model);
}

/* A valid file split into its parsed header and data section. */
typedef struct
{
  cJSON      *header;
  GByteArray *data;
} ModelFile;

static ModelFile
file_read (const char *path)
{
  char *bytes;
  gsize size;
  g_assert_true (g_file_get_contents (path, &bytes, &size, NULL));
  g_assert_cmpuint (size, >=, 8);
  uint64_t n = 0;
  for (int i = 0; i < 8; i++)
    n |= (uint64_t) (unsigned char) bytes[i] << (8 * i);
  g_assert_cmpuint (n, <=, size - 8);
  ModelFile file;
  file.header = cJSON_ParseWithLength (bytes + 8, (size_t) n);
  g_assert_nonnull (file.header);
  file.data = g_byte_array_new ();
  g_byte_array_append (file.data, (guint8 *) bytes + 8 + n, (guint) (size - 8 - n));
  g_free (bytes);
  return file;
}

static void
file_clear (ModelFile *file)
{
  cJSON_Delete (file->header);
  g_byte_array_unref (file->data);
}

/* Writes 8-byte length, header text padded with spaces to 8 bytes, data. */
static void
write_raw (const char    *path,
           const char    *header,
           const guint8  *data,
           gsize          size)
{
  size_t len = strlen (header);
  size_t padded = (len + 7) / 8 * 8;
  GByteArray *out = g_byte_array_new ();
  guint8 prefix[8];
  for (int i = 0; i < 8; i++)
    prefix[i] = (guint8) ((uint64_t) padded >> (8 * i));
  g_byte_array_append (out, prefix, 8);
  g_byte_array_append (out, (const guint8 *) header, (guint) len);
  for (size_t i = len; i < padded; i++)
    g_byte_array_append (out, (const guint8 *) " ", 1);
  g_byte_array_append (out, data, (guint) size);
  test_util_write_file (path, out->data, out->len);
  g_byte_array_unref (out);
}

static void
file_write (const ModelFile *file,
            const char      *path)
{
  char *text = cJSON_PrintUnformatted (file->header);
  write_raw (path, text, file->data->data, file->data->len);
  cJSON_free (text);
}

/* The graph of a file as parsed JSON (from its metadata string), and back. */
static cJSON *
file_graph (const ModelFile *file)
{
  cJSON *meta = cJSON_GetObjectItemCaseSensitive (file->header, "__metadata__");
  cJSON *graph = cJSON_Parse (cJSON_GetObjectItemCaseSensitive (meta, "graph")->valuestring);
  g_assert_true (cJSON_IsArray (graph));
  return graph;
}

static void
file_set_meta (ModelFile  *file,
               const char *key,
               const char *value)
{
  cJSON *meta = cJSON_GetObjectItemCaseSensitive (file->header, "__metadata__");
  cJSON_DeleteItemFromObjectCaseSensitive (meta, key);
  cJSON_AddStringToObject (meta, key, value);
}

/* Takes ownership of graph. */
static void
file_set_graph (ModelFile *file,
                cJSON     *graph)
{
  char *text = cJSON_PrintUnformatted (graph);
  file_set_meta (file, "graph", text);
  cJSON_free (text);
  cJSON_Delete (graph);
}

static cJSON *
graph_node (cJSON      *graph,
            const char *name)
{
  cJSON *node;
  cJSON_ArrayForEach (node, graph)
    if (strcmp (cJSON_GetObjectItemCaseSensitive (node, "name")->valuestring, name) == 0)
      return node;
  g_error ("no node %s", name);
}

static void
test_layout (Fixture       *fx,
             gconstpointer  data)
{
  (void) data;
  NnModel *model = build_model ();
  save_or_die (model, fx->path);
  const NnGraph *graph = model->graph;

  char *bytes;
  gsize size;
  g_assert_true (g_file_get_contents (fx->path, &bytes, &size, NULL));
  uint64_t n = 0;
  for (int i = 0; i < 8; i++)
    n |= (uint64_t) (unsigned char) bytes[i] << (8 * i);
  g_assert_cmpuint (n % 8, ==, 0);
  g_assert_cmpuint (8 + n + graph->n_data * 4, ==, size);
  /* Padding is spaces after the closing brace. */
  const char *end = bytes + 8 + n;
  const char *p = end;
  while (p[-1] == ' ')
    p--;
  g_assert_cmpint (p[-1], ==, '}');
  g_assert_cmpint (end - p, <, 8);

  ModelFile file = file_read (fx->path);
  cJSON *meta = cJSON_GetObjectItemCaseSensitive (file.header, "__metadata__");
  g_assert_true (cJSON_IsObject (meta));
  const cJSON *item;
  cJSON_ArrayForEach (item, meta)
    g_assert_true (cJSON_IsString (item));  /* safetensors allows only string values */
  g_assert_cmpstr (cJSON_GetObjectItemCaseSensitive (meta, "format")->valuestring, ==,
                   "cnnscope");
  g_assert_cmpstr (cJSON_GetObjectItemCaseSensitive (meta, "version")->valuestring, ==, "1");
  g_assert_cmpstr (cJSON_GetObjectItemCaseSensitive (meta, "arch")->valuestring, ==,
                   "tiny-test");
  g_assert_cmpstr (cJSON_GetObjectItemCaseSensitive (meta, "mean")->valuestring, ==,
                   "[0.485,0.456,0.406]");
  g_assert_cmpstr (cJSON_GetObjectItemCaseSensitive (meta, "labels")->valuestring, ==,
                   "[\"cat\",\"dog\",\"\xc3\xbcnic\xc3\xb6" "de \\\"quoted\\\" \\\\ back\",\"\","
                   "\"two\\nlines\"]");
  cJSON *trainable = cJSON_Parse (cJSON_GetObjectItemCaseSensitive (meta,
                                                                    "trainable")->valuestring);
  g_assert_true (cJSON_IsFalse (cJSON_GetObjectItemCaseSensitive (trainable, "conv1.weight")));
  g_assert_true (cJSON_IsFalse (cJSON_GetObjectItemCaseSensitive (trainable, "conv1.bias")));
  g_assert_true (cJSON_IsTrue (cJSON_GetObjectItemCaseSensitive (trainable, "bn1.weight")));
  g_assert_true (cJSON_IsFalse (cJSON_GetObjectItemCaseSensitive (trainable,
                                                                  "bn1.running_var")));
  cJSON_Delete (trainable);

  /* One entry per parameter, in arena order, contiguous. */
  uint64_t offset = 0;
  for (int i = 0; i < graph->n_params; i++)
    {
      const NnParam *param = &graph->params[i];
      cJSON *t = cJSON_GetObjectItemCaseSensitive (file.header, param->name);
      g_assert_nonnull (t);
      g_assert_cmpstr (cJSON_GetObjectItemCaseSensitive (t, "dtype")->valuestring, ==, "F32");
      cJSON *shape = cJSON_GetObjectItemCaseSensitive (t, "shape");
      g_assert_cmpint (cJSON_GetArraySize (shape), ==, param->ndim);
      for (int d = 0; d < param->ndim; d++)
        g_assert_cmpint (cJSON_GetArrayItem (shape, d)->valueint, ==, param->dims[d]);
      cJSON *offsets = cJSON_GetObjectItemCaseSensitive (t, "data_offsets");
      g_assert_cmpfloat (cJSON_GetArrayItem (offsets, 0)->valuedouble, ==, (double) offset);
      offset += param->count * 4;
      g_assert_cmpfloat (cJSON_GetArrayItem (offsets, 1)->valuedouble, ==, (double) offset);
    }
  g_assert_cmpint (cJSON_GetArraySize (file.header), ==, graph->n_params + 1);
  /* Little-endian float32 data: fc.bias is the last tensor. */
  const NnParam *last = &graph->params[graph->n_params - 1];
  const float *want = graph->data + last->offset;
  const guint8 *got = file.data->data + file.data->len - last->count * 4;
  for (size_t j = 0; j < last->count; j++)
    {
      uint32_t bits;
      memcpy (&bits, &want[j], 4);
      for (int b = 0; b < 4; b++)
        g_assert_cmpuint (got[4 * j + (size_t) b], ==, (bits >> (8 * b)) & 0xff);
    }

  /* The graph: names as inputs, attributes in PyTorch's terms. */
  cJSON *nodes = file_graph (&file);
  g_assert_cmpint (cJSON_GetArraySize (nodes), ==, graph->n_nodes);
  char *text = cJSON_PrintUnformatted (graph_node (nodes, "layer1.0.conv2"));
  g_assert_cmpstr (text, ==,
                   "{\"name\":\"layer1.0.conv2\",\"op\":\"conv2d\",\"inputs\":[\"relu1\"],"
                   "\"out_channels\":4,\"kernel\":[3,1],\"stride\":[1,1],\"padding\":[1,0,1,0],"
                   "\"dilation\":[1,1],\"groups\":2,\"bias\":false}");
  cJSON_free (text);
  text = cJSON_PrintUnformatted (graph_node (nodes, "relu1"));
  g_assert_cmpstr (text, ==,
                   "{\"name\":\"relu1\",\"op\":\"activation\",\"inputs\":[\"bn1\"],"
                   "\"kind\":\"relu\",\"slope\":0,\"policy\":\"proxygrad:0.3\"}");
  cJSON_free (text);
  text = cJSON_PrintUnformatted (graph_node (nodes, "bn1"));
  g_assert_cmpstr (text, ==,
                   "{\"name\":\"bn1\",\"op\":\"batchnorm\",\"inputs\":[\"conv1\"],"
                   "\"eps\":1e-05,\"momentum\":0.1,\"affine\":true}");
  cJSON_free (text);
  text = cJSON_PrintUnformatted (graph_node (nodes, "add"));
  g_assert_cmpstr (text, ==,
                   "{\"name\":\"add\",\"op\":\"add\",\"inputs\":[\"relu1\",\"layer1.0.conv2\"]}");
  cJSON_free (text);
  text = cJSON_PrintUnformatted (graph_node (nodes, "input"));
  g_assert_cmpstr (text, ==,
                   "{\"name\":\"input\",\"op\":\"input\",\"inputs\":[],\"shape\":[3,8,6]}");
  cJSON_free (text);
  text = cJSON_PrintUnformatted (graph_node (nodes, "avg"));
  g_assert_cmpstr (text, ==,
                   "{\"name\":\"avg\",\"op\":\"avgpool\",\"inputs\":[\"pool\"],"
                   "\"kernel\":[3,2],\"stride\":[1,2],\"padding\":[1,1,2,0],"
                   "\"count_include_pad\":false}");
  cJSON_free (text);
  cJSON_Delete (nodes);
  file_clear (&file);
  g_free (bytes);
  nn_model_free (model);
}

static void
test_save_atomic (Fixture       *fx,
                  gconstpointer  data)
{
  (void) data;
  NnModel *model = build_model ();
  NnError err = { 0 };

  /* A folder that does not exist: an error naming the path, and nothing created. */
  char *missing_dir = g_build_filename (fx->dir, "no-such-folder", NULL);
  char *missing = g_build_filename (missing_dir, "m.safetensors", NULL);
  g_assert_false (nn_model_save (model, missing, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_IO);
  g_assert_nonnull (strstr (err.message, missing));
  g_assert_false (g_file_test (missing_dir, G_FILE_TEST_EXISTS));

  /* A path that is a folder: rename fails, the temporary file is removed. */
  char *folder = g_build_filename (fx->dir, "folder.safetensors", NULL);
  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  nn_error_clear (&err);
  g_assert_false (nn_model_save (model, folder, &err));
  g_assert_nonnull (strstr (err.message, folder));
  char *listing = folder_listing (fx->dir);
  g_assert_cmpstr (listing, ==, "folder.safetensors");
  g_free (listing);
  g_assert_cmpint (g_rmdir (folder), ==, 0);

  /* Success leaves exactly the model in the folder, no temporary file. */
  save_or_die (model, fx->path);
  listing = folder_listing (fx->dir);
  g_assert_cmpstr (listing, ==, "model.safetensors");
  g_free (listing);

  /* Saving over an existing file (here garbage) replaces it. */
  g_assert_true (g_file_set_contents (fx->path, "not a model at all", -1, NULL));
  fill_params (model->graph, 2.0f);
  nn_model_set_label (model, 0, "replaced");
  save_or_die (model, fx->path);
  listing = folder_listing (fx->dir);
  g_assert_cmpstr (listing, ==, "model.safetensors");
  g_free (listing);
  NnModel *back = nn_model_load (fx->path, &err);
  g_assert_nonnull (back);
  g_assert_cmpstr (back->labels[0], ==, "replaced");
  assert_same_graph (model->graph, back->graph);
  nn_model_free (back);

  g_free (folder);
  g_free (missing);
  g_free (missing_dir);
  nn_model_free (model);
}

/* Non-finite or zero normalization is refused before anything is written. */
static void
test_save_rejects_bad_values (Fixture       *fx,
                              gconstpointer  data)
{
  (void) data;
  NnModel *model = build_model ();
  NnError err = { 0 };
  model->std[1] = 0.0f;
  g_assert_false (nn_model_save (model, fx->path, &err));
  g_assert_nonnull (strstr (err.message, fx->path));
  g_assert_nonnull (strstr (err.message, "std"));
  model->std[1] = 1.0f;
  model->mean[2] = NAN;
  g_assert_false (nn_model_save (model, fx->path, &err));
  char *listing = folder_listing (fx->dir);
  g_assert_cmpstr (listing, ==, "");
  g_free (listing);

  /* A failed save leaves the previous file as it was. */
  model->mean[2] = 0.5f;
  save_or_die (model, fx->path);
  char *before, *after;
  gsize n_before, n_after;
  g_assert_true (g_file_get_contents (fx->path, &before, &n_before, NULL));
  model->std[0] = INFINITY;
  g_assert_false (nn_model_save (model, fx->path, &err));
  g_assert_true (g_file_get_contents (fx->path, &after, &n_after, NULL));
  g_assert_cmpmem (before, n_before, after, n_after);
  listing = folder_listing (fx->dir);
  g_assert_cmpstr (listing, ==, "model.safetensors");
  g_free (listing);
  g_free (before);
  g_free (after);
  nn_model_free (model);
}

/* Broken files. Each case edits a valid file (or writes bytes of its own); loading must fail
 * with an error that names the file and, when given, contains `expect`. */

typedef void (*BreakFunc) (ModelFile *file, const char *path);

static void
break_empty (ModelFile  *file,
             const char *path)
{
  (void) file;
  test_util_write_file (path, "", 0);
}

static void
break_seven_bytes (ModelFile  *file,
                   const char *path)
{
  (void) file;
  test_util_write_file (path, "\x10\0\0\0\0\0\0", 7);
}

static void
write_length_prefix (const char *path,
                     uint64_t    n)
{
  char bytes[24] = "........{\"a\":1}        ";
  for (int i = 0; i < 8; i++)
    bytes[i] = (char) (n >> (8 * i));
  test_util_write_file (path, bytes, sizeof bytes);
}

static void
break_length_past_end (ModelFile  *file,
                       const char *path)
{
  (void) file;
  write_length_prefix (path, 17);
}

static void
break_length_huge (ModelFile  *file,
                   const char *path)
{
  (void) file;
  write_length_prefix (path, (uint64_t) 1 << 63);
}

static void
break_length_max (ModelFile  *file,
                  const char *path)
{
  (void) file;
  write_length_prefix (path, UINT64_MAX);
}

static void
break_invalid_json (ModelFile  *file,
                    const char *path)
{
  write_raw (path, "{\"__metadata__\": {\"format\": \"cnnscope\",", file->data->data,
             file->data->len);
}

static void
break_nul_in_header (ModelFile  *file,
                     const char *path)
{
  (void) file;
  test_util_write_file (path, "\x10\0\0\0\0\0\0\0{}\0xxxxxxxxxxxxx", 24);
}

static void
break_not_object (ModelFile  *file,
                  const char *path)
{
  (void) file;
  write_raw (path, "[1, 2, 3]", NULL, 0);
}

static void
break_no_metadata (ModelFile  *file,
                   const char *path)
{
  cJSON_DeleteItemFromObjectCaseSensitive (file->header, "__metadata__");
  file_write (file, path);
}

static void
break_metadata_not_object (ModelFile  *file,
                           const char *path)
{
  cJSON_ReplaceItemInObjectCaseSensitive (file->header, "__metadata__",
                                          cJSON_CreateString ("cnnscope"));
  file_write (file, path);
}

static void
break_other_format (ModelFile  *file,
                    const char *path)
{
  file_set_meta (file, "format", "pt");
  file_write (file, path);
}

static void
break_graph_not_string (ModelFile  *file,
                        const char *path)
{
  cJSON *meta = cJSON_GetObjectItemCaseSensitive (file->header, "__metadata__");
  cJSON_ReplaceItemInObjectCaseSensitive (meta, "graph", cJSON_CreateArray ());
  file_write (file, path);
}

static void
break_version (ModelFile  *file,
               const char *path)
{
  file_set_meta (file, "version", "2");
  file_write (file, path);
}

static void
break_graph_json (ModelFile  *file,
                  const char *path)
{
  file_set_meta (file, "graph", "[{\"name\": \"input\", ");
  file_write (file, path);
}

static void
break_graph_trailing (ModelFile  *file,
                      const char *path)
{
  cJSON *meta = cJSON_GetObjectItemCaseSensitive (file->header, "__metadata__");
  char *text = g_strconcat (cJSON_GetObjectItemCaseSensitive (meta, "graph")->valuestring, " x",
                            NULL);
  file_set_meta (file, "graph", text);
  g_free (text);
  file_write (file, path);
}

/* A second __metadata__ (cJSON keeps both): cJSON would read the first, Python the last. */
static void
break_duplicate_metadata (ModelFile  *file,
                          const char *path)
{
  cJSON *other = cJSON_CreateObject ();
  cJSON_AddStringToObject (other, "format", "something else");
  cJSON_AddItemToObject (file->header, "__metadata__", other);
  file_write (file, path);
}

/* A node of the graph with its "op" twice. */
static void
break_graph_duplicate_key (ModelFile  *file,
                           const char *path)
{
  cJSON *graph = file_graph (file);
  cJSON_AddStringToObject (graph_node (graph, "pool"), "op", "relu");
  file_set_graph (file, graph);
  file_write (file, path);
}

static void
break_graph_empty (ModelFile  *file,
                   const char *path)
{
  file_set_meta (file, "graph", "[]");
  file_write (file, path);
}

static void
break_graph_object (ModelFile  *file,
                    const char *path)
{
  file_set_meta (file, "graph", "{\"name\": \"input\"}");
  file_write (file, path);
}

static void
break_unknown_op (ModelFile  *file,
                  const char *path)
{
  cJSON *graph = file_graph (file);
  cJSON_ReplaceItemInObjectCaseSensitive (graph_node (graph, "pool"), "op",
                                          cJSON_CreateString ("foo"));
  file_set_graph (file, graph);
  file_write (file, path);
}

static void
set_inputs (ModelFile  *file,
            const char *node,
            const char *input)
{
  cJSON *graph = file_graph (file);
  const char *inputs[1] = { input };
  cJSON_ReplaceItemInObjectCaseSensitive (graph_node (graph, node), "inputs",
                                          cJSON_CreateStringArray (inputs, 1));
  file_set_graph (file, graph);
}

static void
break_input_later (ModelFile  *file,
                   const char *path)
{
  set_inputs (file, "bn1", "fc");
  file_write (file, path);
}

static void
break_input_self (ModelFile  *file,
                  const char *path)
{
  set_inputs (file, "bn1", "bn1");
  file_write (file, path);
}

static void
break_input_unknown (ModelFile  *file,
                     const char *path)
{
  set_inputs (file, "bn1", "nowhere");
  file_write (file, path);
}

static void
break_input_not_string (ModelFile  *file,
                        const char *path)
{
  cJSON *graph = file_graph (file);
  cJSON_ReplaceItemInObjectCaseSensitive (graph_node (graph, "bn1"), "inputs",
                                          cJSON_CreateIntArray ((int[]) { 1 }, 1));
  file_set_graph (file, graph);
  file_write (file, path);
}

static void
break_groups (ModelFile  *file,
              const char *path)
{
  cJSON *graph = file_graph (file);
  cJSON_ReplaceItemInObjectCaseSensitive (graph_node (graph, "layer1.0.conv2"), "groups",
                                          cJSON_CreateNumber (3));
  file_set_graph (file, graph);
  file_write (file, path);
}

static void
break_attribute_missing (ModelFile  *file,
                         const char *path)
{
  cJSON *graph = file_graph (file);
  cJSON_DeleteItemFromObjectCaseSensitive (graph_node (graph, "layer1.0.conv2"), "dilation");
  file_set_graph (file, graph);
  file_write (file, path);
}

/* The input's shape as the JSON list `dims`. */
static void
break_input_shape (ModelFile  *file,
                   const char *path,
                   const char *dims)
{
  cJSON *graph = file_graph (file);
  cJSON_ReplaceItemInObjectCaseSensitive (graph_node (graph, "input"), "shape",
                                          cJSON_Parse (dims));
  file_set_graph (file, graph);
  file_write (file, path);
}

static void
break_shape_rank_7 (ModelFile  *file,
                    const char *path)
{
  break_input_shape (file, path, "[3, 8, 6, 1, 1, 1, 1]");
}

static void
break_shape_zero (ModelFile  *file,
                  const char *path)
{
  break_input_shape (file, path, "[3, 0, 6]");
}

static void
break_shape_empty (ModelFile  *file,
                   const char *path)
{
  break_input_shape (file, path, "[]");
}

static void
break_shape_huge (ModelFile  *file,
                  const char *path)
{
  break_input_shape (file, path, "[3, 8, 6, 65536, 65536]");
}

static void
break_attribute_fraction (ModelFile  *file,
                          const char *path)
{
  cJSON *graph = file_graph (file);
  cJSON_ReplaceItemInObjectCaseSensitive (graph_node (graph, "fc"), "out_features",
                                          cJSON_CreateNumber (4.5));
  file_set_graph (file, graph);
  file_write (file, path);
}

static void
break_duplicate_node (ModelFile  *file,
                      const char *path)
{
  cJSON *graph = file_graph (file);
  cJSON_ReplaceItemInObjectCaseSensitive (graph_node (graph, "leaky"), "name",
                                          cJSON_CreateString ("avg"));
  cJSON_ReplaceItemInObjectCaseSensitive (graph_node (graph, "drop"), "inputs",
                                          cJSON_CreateStringArray ((const char *[]) { "avg" },
                                                                   1));
  file_set_graph (file, graph);
  file_write (file, path);
}

/* A linear layer asking for 2^40 floats: refused before anything is allocated. */
static void
break_huge_layer (ModelFile  *file,
                  const char *path)
{
  cJSON *graph = file_graph (file);
  cJSON_ReplaceItemInObjectCaseSensitive (graph_node (graph, "fc"), "out_features",
                                          cJSON_CreateNumber (1 << 20));
  file_set_graph (file, graph);
  file_write (file, path);
}

static cJSON *
tensor (ModelFile  *file,
        const char *name)
{
  cJSON *t = cJSON_GetObjectItemCaseSensitive (file->header, name);
  g_assert_nonnull (t);
  return t;
}

static void
break_shape (ModelFile  *file,
             const char *path)
{
  cJSON_ReplaceItemInObjectCaseSensitive (tensor (file, "conv1.weight"), "shape",
                                          cJSON_CreateIntArray ((int[]) { 4, 3, 1, 9 }, 4));
  file_write (file, path);
}

static void
break_shape_rank (ModelFile  *file,
                  const char *path)
{
  cJSON_ReplaceItemInObjectCaseSensitive (tensor (file, "conv1.weight"), "shape",
                                          cJSON_CreateIntArray ((int[]) { 108 }, 1));
  file_write (file, path);
}

static void
break_dtype (ModelFile  *file,
             const char *path)
{
  cJSON_ReplaceItemInObjectCaseSensitive (tensor (file, "bn1.weight"), "dtype",
                                          cJSON_CreateString ("F16"));
  file_write (file, path);
}

static void
set_offsets (ModelFile  *file,
             const char *name,
             cJSON      *offsets)
{
  cJSON_ReplaceItemInObjectCaseSensitive (tensor (file, name), "data_offsets", offsets);
}

static double
offset_of (ModelFile  *file,
           const char *name,
           int         which)
{
  cJSON *offsets = cJSON_GetObjectItemCaseSensitive (tensor (file, name), "data_offsets");
  return cJSON_GetArrayItem (offsets, which)->valuedouble;
}

static void
break_offsets_past_end (ModelFile  *file,
                        const char *path)
{
  double begin = offset_of (file, "fc.bias", 0);
  double end = offset_of (file, "fc.bias", 1);
  set_offsets (file, "fc.bias", cJSON_CreateDoubleArray ((double[]) { begin + 4, end + 4 }, 2));
  file_write (file, path);
}

static void
break_offsets_overlap (ModelFile  *file,
                       const char *path)
{
  /* conv1.weight holds bytes [0, 432); conv1.bias moves from [432, 448) onto its start. */
  g_assert_cmpfloat (offset_of (file, "conv1.bias", 0), ==, 432);
  set_offsets (file, "conv1.bias", cJSON_CreateDoubleArray ((double[]) { 0, 16 }, 2));
  file_write (file, path);
}

static void
break_offsets_negative (ModelFile  *file,
                        const char *path)
{
  set_offsets (file, "conv1.weight", cJSON_CreateDoubleArray ((double[]) { -4, 428 }, 2));
  file_write (file, path);
}

static void
break_offsets_fraction (ModelFile  *file,
                        const char *path)
{
  set_offsets (file, "conv1.weight", cJSON_CreateDoubleArray ((double[]) { 0.5, 432 }, 2));
  file_write (file, path);
}

static void
break_offsets_reversed (ModelFile  *file,
                        const char *path)
{
  set_offsets (file, "conv1.weight", cJSON_CreateDoubleArray ((double[]) { 432, 0 }, 2));
  file_write (file, path);
}

static void
break_offsets_strings (ModelFile  *file,
                       const char *path)
{
  set_offsets (file, "conv1.weight",
               cJSON_CreateStringArray ((const char *[]) { "0", "432" }, 2));
  file_write (file, path);
}

static void
break_offsets_huge (ModelFile  *file,
                    const char *path)
{
  set_offsets (file, "conv1.weight", cJSON_CreateDoubleArray ((double[]) { 0, 1e300 }, 2));
  file_write (file, path);
}

static void
break_tensor_not_object (ModelFile  *file,
                         const char *path)
{
  cJSON_ReplaceItemInObjectCaseSensitive (file->header, "bn1.bias", cJSON_CreateNumber (3));
  file_write (file, path);
}

static void
break_missing_tensor (ModelFile  *file,
                      const char *path)
{
  /* The bytes stay, under another name (ignored), so only the missing name is wrong. */
  cJSON *t = cJSON_DetachItemFromObjectCaseSensitive (file->header, "fc.bias");
  cJSON_AddItemToObject (file->header, "fc.bias_renamed", t);
  file_write (file, path);
}

static void
break_truncated (ModelFile  *file,
                 const char *path)
{
  g_byte_array_set_size (file->data, file->data->len - 3);
  file_write (file, path);
}

static void
break_trailing_bytes (ModelFile  *file,
                      const char *path)
{
  g_byte_array_append (file->data, (const guint8 *) "junk", 4);
  file_write (file, path);
}

static void
break_labels_count (ModelFile  *file,
                    const char *path)
{
  file_set_meta (file, "labels", "[\"a\", \"b\"]");
  file_write (file, path);
}

static void
break_labels_type (ModelFile  *file,
                   const char *path)
{
  file_set_meta (file, "labels", "[1, 2, 3, 4, 5]");
  file_write (file, path);
}

static void
break_std_zero (ModelFile  *file,
                const char *path)
{
  file_set_meta (file, "std", "[0.2, 0, 0.2]");
  file_write (file, path);
}

static void
break_mean_huge (ModelFile  *file,
                 const char *path)
{
  file_set_meta (file, "mean", "[0.2, 1e300, 0.2]");
  file_write (file, path);
}

static void
break_trainable_unknown (ModelFile  *file,
                         const char *path)
{
  file_set_meta (file, "trainable", "{\"ghost.weight\": false}");
  file_write (file, path);
}

static void
break_accuracy (ModelFile  *file,
                const char *path)
{
  file_set_meta (file, "test_accuracy", "0.9x");
  file_write (file, path);
}

static void
break_window_zero (ModelFile  *file,
                   const char *path)
{
  file_set_meta (file, "ct_window", "{\"width\": 0, \"level\": -600}");
  file_write (file, path);
}

static void
break_window_type (ModelFile  *file,
                   const char *path)
{
  file_set_meta (file, "ct_window", "[1500, -600]");
  file_write (file, path);
}

static void
break_arch_long (ModelFile  *file,
                 const char *path)
{
  char name[200];
  memset (name, 'a', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  file_set_meta (file, "arch", name);
  file_write (file, path);
}

static void
break_directory (ModelFile  *file,
                 const char *path)
{
  (void) file;
  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
}

/* A real 1x1 grey PNG, renamed. */
static void
break_png (ModelFile  *file,
           const char *path)
{
  (void) file;
  static const guint8 png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
    0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a,
    0x7e, 0x9b, 0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x48, 0xaf, 0xa4, 0x71, 0x00, 0x00, 0x00, 0x00, 0x49,
    0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
  };
  test_util_write_file (path, (const char *) png, sizeof png);
}

static void
break_missing_file (ModelFile  *file,
                    const char *path)
{
  (void) file;
  (void) path;
}

typedef struct
{
  const char *name;
  BreakFunc   make;
  const char *expect;  /* a substring of the error, or NULL */
} BrokenCase;

static const BrokenCase broken_cases[] = {
  { "empty", break_empty, "too short" },
  { "seven-bytes", break_seven_bytes, "too short" },
  { "length-past-end", break_length_past_end, "exceeds the file size" },
  { "length-2^63", break_length_huge, "exceeds the file size" },
  { "length-max", break_length_max, "exceeds the file size" },
  { "invalid-json", break_invalid_json, "header is not valid JSON" },
  { "nul-in-header", break_nul_in_header, "header is not valid JSON" },
  { "not-object", break_not_object, "not a JSON object" },
  { "no-metadata", break_no_metadata, "not a cnnscope model (no graph in __metadata__)" },
  { "metadata-string", break_metadata_not_object, "not a cnnscope model" },
  { "other-format", break_other_format, "not a cnnscope model" },
  { "graph-not-string", break_graph_not_string, "not a cnnscope model" },
  { "version", break_version, "version '2'" },
  { "graph-json", break_graph_json, "graph in __metadata__ is not valid JSON" },
  { "graph-trailing", break_graph_trailing, "graph in __metadata__ is not valid JSON" },
  { "duplicate-metadata", break_duplicate_metadata,
    "header has the key '__metadata__' twice in one object" },
  { "graph-duplicate-key", break_graph_duplicate_key,
    "the graph in __metadata__ has the key 'op' twice in one object" },
  { "graph-empty", break_graph_empty, "not a list of 1 to" },
  { "graph-object", break_graph_object, "not a list of 1 to" },
  { "unknown-op", break_unknown_op, "node 'pool': unknown op 'foo'" },
  { "input-later", break_input_later, "node 'bn1': input 'fc' is not an earlier node" },
  { "input-self", break_input_self, "input 'bn1' is not an earlier node" },
  { "input-unknown", break_input_unknown, "input 'nowhere' is not an earlier node" },
  { "input-not-string", break_input_not_string, "node 'bn1'" },
  { "groups", break_groups, "3 groups do not divide 4 input" },
  { "attribute-missing", break_attribute_missing, "'dilation' is missing" },
  { "attribute-fraction", break_attribute_fraction, "'out_features'" },
  { "shape-rank-7", break_shape_rank_7, "node 'input': attribute 'shape'" },
  { "shape-zero", break_shape_zero, "node 'input': dimension 1 of 3 out of range" },
  { "shape-empty", break_shape_empty, "node 'input': attribute 'shape'" },
  { "shape-huge", break_shape_huge, "node 'input'" },
  { "duplicate-node", break_duplicate_node, "name used twice" },
  { "huge-layer", break_huge_layer, "more data than the file holds" },
  { "shape", break_shape, "tensor 'conv1.weight': shape is not [4, 3, 3, 3]" },
  { "shape-rank", break_shape_rank, "tensor 'conv1.weight': shape" },
  { "dtype", break_dtype, "tensor 'bn1.weight': dtype is 'F16', expected F32" },
  { "offsets-past-end", break_offsets_past_end, "tensor 'fc.bias': data_offsets" },
  { "offsets-overlap", break_offsets_overlap, "overlap" },
  { "offsets-negative", break_offsets_negative, "tensor 'conv1.weight': data_offsets" },
  { "offsets-fraction", break_offsets_fraction, "tensor 'conv1.weight': data_offsets" },
  { "offsets-reversed", break_offsets_reversed, "tensor 'conv1.weight': data_offsets" },
  { "offsets-strings", break_offsets_strings, "tensor 'conv1.weight': data_offsets" },
  { "offsets-huge", break_offsets_huge, "tensor 'conv1.weight': data_offsets" },
  { "tensor-not-object", break_tensor_not_object, "tensor 'bn1.bias' is not a JSON object" },
  { "missing-tensor", break_missing_tensor, "tensor 'fc.bias' is missing" },
  { "truncated", break_truncated, "data_offsets" },
  { "trailing-bytes", break_trailing_bytes, "data section" },
  { "labels-count", break_labels_count, "'labels'" },
  { "labels-type", break_labels_type, "'labels'" },
  { "std-zero", break_std_zero, "'std'" },
  { "mean-huge", break_mean_huge, "'mean'" },
  { "trainable-unknown", break_trainable_unknown, "'ghost.weight'" },
  { "accuracy", break_accuracy, "'test_accuracy'" },
  { "arch-long", break_arch_long, "'arch'" },
  { "window-zero", break_window_zero, "'ct_window'" },
  { "window-type", break_window_type, "'ct_window'" },
  { "directory", break_directory, "not a regular file" },
  { "png", break_png, "not a safetensors file" },
  { "missing-file", break_missing_file, "cannot open" },
};

static void
test_broken (Fixture       *fx,
             gconstpointer  data)
{
  const BrokenCase *bc = data;
  NnModel *model = build_model ();
  char *valid = g_build_filename (fx->dir, "valid.safetensors", NULL);
  save_or_die (model, valid);
  ModelFile file = file_read (valid);
  bc->make (&file, fx->path);

  NnError err = { 0 };
  NnModel *back = nn_model_load (fx->path, &err);
  if (back != NULL)
    g_error ("case %s: loaded", bc->name);
  g_assert_cmpint (err.code, !=, NN_ERROR_NONE);
  if (strstr (err.message, fx->path) != err.message)
    g_error ("case %s: error does not start with the path: %s", bc->name, err.message);
  if (bc->expect != NULL && strstr (err.message, bc->expect) == NULL)
    g_error ("case %s: error '%s' lacks '%s'", bc->name, err.message, bc->expect);
  g_test_message ("%s: %s", bc->name, err.message);

  /* Without an NnError, the same. */
  g_assert_null (nn_model_load (fx->path, NULL));
  file_clear (&file);
  g_free (valid);
  nn_model_free (model);
}

/* Shapes of rank 1 to 6 are stored as their dims and read back; the (C, H, W) view follows. */
static void
test_any_rank (Fixture       *fx,
               gconstpointer  data)
{
  (void) data;
  NnGraph *graph = nn_graph_new ();
  int x = nn_graph_add_input_shape (graph, "input", nn_shape_of (4, (const int[]) { 2, 3, 4, 5 }));
  x = nn_graph_add_reshape_shape (graph, "tokens", x, nn_shape_of (2, (const int[]) { 6, 20 }));
  x = nn_graph_add_relu (graph, "relu", x);
  x = nn_graph_add_reshape_shape (graph, "deep", x,
                                  nn_shape_of (6, (const int[]) { 1, 2, 3, 2, 5, 2 }));
  x = nn_graph_add_reshape_shape (graph, "flat", x, nn_shape_of (1, (const int[]) { 120 }));
  nn_graph_add_linear (graph, "fc", x, 4, true);
  fill_params (graph, 0.5f);
  const NnShape in = graph->nodes[0].shape;
  g_assert_cmpint (in.rank, ==, 4);
  g_assert_cmpint (in.c, ==, 2);
  g_assert_cmpint (in.h, ==, 3);
  g_assert_cmpint (in.w, ==, 20);
  const NnShape tokens = graph->nodes[1].shape;
  g_assert_cmpint (tokens.rank, ==, 2);
  g_assert_cmpint (tokens.c, ==, 6);
  g_assert_cmpint (tokens.h, ==, 20);
  g_assert_cmpint (tokens.w, ==, 1);
  g_assert_true (nn_shape_equal (graph->nodes[2].shape, tokens));
  const NnShape flat = graph->nodes[4].shape;
  g_assert_cmpint (flat.rank, ==, 1);
  g_assert_cmpint (flat.c * flat.h * flat.w, ==, 120);
  NnNodeDescription desc;
  nn_node_describe (&graph->nodes[3], &desc);
  g_assert_cmpstr (desc.shape, ==, "1x2x3x2x5x2");

  NnModel *model = nn_model_new (graph, "any-rank");
  save_or_die (model, fx->path);
  ModelFile file = file_read (fx->path);
  cJSON *nodes = file_graph (&file);
  char *text = cJSON_PrintUnformatted (graph_node (nodes, "deep"));
  g_assert_nonnull (strstr (text, "\"shape\":[1,2,3,2,5,2]"));
  free (text);
  cJSON_Delete (nodes);
  file_clear (&file);
  NnError err = { 0 };
  NnModel *back = nn_model_load (fx->path, &err);
  g_assert_true (back != NULL || (g_printerr ("%s\n", err.message), FALSE));
  assert_same_graph (model->graph, back->graph);
  for (int i = 0; i < graph->n_nodes; i++)
    g_assert_true (nn_shape_equal (back->graph->nodes[i].shape, graph->nodes[i].shape));
  nn_model_free (back);
  nn_model_free (model);
}

/* Tensors the graph does not use (PyTorch's num_batches_tracked) are allowed and ignored. */
static void
test_extra_tensor (Fixture       *fx,
                   gconstpointer  data)
{
  (void) data;
  NnModel *model = build_model ();
  save_or_die (model, fx->path);
  ModelFile file = file_read (fx->path);
  cJSON *t = cJSON_CreateObject ();
  cJSON_AddStringToObject (t, "dtype", "I64");
  cJSON_AddItemToObject (t, "shape", cJSON_CreateArray ());
  double end = (double) file.data->len;
  cJSON_AddItemToObject (t, "data_offsets", cJSON_CreateDoubleArray ((double[]) { end,
                                                                                  end + 8 },
                                                                     2));
  cJSON_AddItemToObject (file.header, "bn1.num_batches_tracked", t);
  g_byte_array_append (file.data, (const guint8 *) "\x07\0\0\0\0\0\0\0", 8);
  file_write (&file, fx->path);

  NnError err = { 0 };
  NnModel *back = nn_model_load (fx->path, &err);
  g_assert_nonnull (back);
  assert_same_graph (model->graph, back->graph);
  nn_model_free (back);

  /* Two entries with the same name are refused. */
  cJSON_DeleteItemFromObjectCaseSensitive (file.header, "bn1.num_batches_tracked");
  g_byte_array_set_size (file.data, file.data->len - 8);
  cJSON *dup = cJSON_Duplicate (cJSON_GetObjectItemCaseSensitive (file.header, "fc.bias"), 1);
  cJSON_AddItemToObject (file.header, "fc.bias", dup);
  file_write (&file, fx->path);
  g_assert_null (nn_model_load (fx->path, &err));
  g_assert_nonnull (strstr (err.message, fx->path));
  file_clear (&file);
  nn_model_free (model);
}

/* Loads path: either a model or NULL with an error naming the file. Returns whether it loaded. */
static bool
load_any (const char *path)
{
  NnError err = { 0 };
  NnModel *model = nn_model_load (path, &err);
  if (model != NULL)
    {
      g_assert_cmpint (model->graph->n_nodes, >, 0);
      nn_model_free (model);
      return true;
    }
  if (strstr (err.message, path) != err.message)
    g_error ("error does not start with the path: %s", err.message);
  return false;
}

/* Random byte flips (mostly in the header, where parsing happens) and truncations. */
static void
test_fuzz_bytes (Fixture       *fx,
                 gconstpointer  data)
{
  (void) data;
  NnModel *model = build_model ();
  save_or_die (model, fx->path);
  char *bytes;
  gsize size;
  g_assert_true (g_file_get_contents (fx->path, &bytes, &size, NULL));
  uint64_t header_end = 8;
  for (int i = 0; i < 8; i++)
    header_end += (uint64_t) (unsigned char) bytes[i] << (8 * i);

  static const char json_chars[] = "{}[]\",:0123456789-.eE \\tfnul";
  GRand *rand = g_rand_new_with_seed (20240611);
  char *mutated = g_malloc (size);
  int loaded = 0;
  const int iterations = 600;
  for (int it = 0; it < iterations; it++)
    {
      memcpy (mutated, bytes, size);
      gsize len = size;
      int kind = g_rand_int_range (rand, 0, 4);
      if (kind == 3)
        len = (gsize) g_rand_int_range (rand, 0, (gint32) size);
      else
        {
          int flips = g_rand_int_range (rand, 1, 5);
          for (int f = 0; f < flips; f++)
            {
              gsize at = kind == 2 ? (gsize) g_rand_int_range (rand, 0, (gint32) size)
                                   : (gsize) g_rand_int_range (rand, 0, (gint32) header_end);
              gint32 pick = g_rand_int_range (rand, 0, (gint32) sizeof json_chars - 1);
              if (kind == 0)
                mutated[at] = json_chars[pick];
              else
                mutated[at] = (char) (mutated[at] ^ (1 << g_rand_int_range (rand, 0, 8)));
            }
        }
      test_util_write_file (fx->path, mutated, len);
      loaded += load_any (fx->path);
    }
  /* Flips in the data section leave a loadable model: the loop exercised both outcomes. */
  g_test_message ("%d of %d mutated files loaded", loaded, iterations);
  g_assert_cmpint (loaded, >, 0);
  g_assert_cmpint (loaded, <, iterations);
  g_rand_free (rand);
  g_free (mutated);
  g_free (bytes);
  nn_model_free (model);
}

/* Every attribute of every node, and every metadata value, replaced by hostile values:
 * negative, zero, huge, fractional, of the wrong type. */
static void
test_fuzz_attributes (Fixture       *fx,
                      gconstpointer  data)
{
  (void) data;
  static const char *const values[] = {
    "-1", "0", "1", "2", "7", "1024", "1048576", "2147483647", "2147483648", "-2147483649",
    "1e300", "-1e300", "0.5", "\"x\"", "\"\"", "null", "true", "false", "[]", "{}", "[1]",
    "[0,0]", "[-1,-1,-1,-1]", "[1e10,1,1,1]", "[2147483647,2147483647,2147483647]",
    "[65536,65536]", "[3,3,3]", "\"proxygrad:1e9\"", "\"sigmoid\"", "\"input\"",
    ("[\"input\",\"input\",\"input\",\"input\",\"input\",\"input\",\"input\",\"input\","
     "\"input\"]"),
  };
  NnModel *model = build_model ();
  save_or_die (model, fx->path);
  ModelFile file = file_read (fx->path);
  cJSON *graph = file_graph (&file);
  int n_nodes = cJSON_GetArraySize (graph);
  int loads = 0, loaded = 0;
  for (int i = 0; i < n_nodes; i++)
    {
      int n_keys = cJSON_GetArraySize (cJSON_GetArrayItem (graph, i));
      for (int k = 0; k < n_keys; k++)
        for (size_t v = 0; v < G_N_ELEMENTS (values); v++)
          {
            ModelFile copy = { cJSON_Duplicate (file.header, 1), file.data };
            cJSON *g = cJSON_Duplicate (graph, 1);
            cJSON *node = cJSON_GetArrayItem (g, i);
            cJSON *item = cJSON_GetArrayItem (node, k);
            cJSON_ReplaceItemViaPointer (node, item, cJSON_Parse (values[v]));
            file_set_graph (&copy, g);
            file_write (&copy, fx->path);
            cJSON_Delete (copy.header);
            loaded += load_any (fx->path);
            loads++;
          }
    }
  static const char *const meta_keys[] = {
    "labels", "mean", "std", "trainable", "test_accuracy", "arch", "format", "version",
  };
  for (size_t m = 0; m < G_N_ELEMENTS (meta_keys); m++)
    for (size_t v = 0; v < G_N_ELEMENTS (values); v++)
      {
        ModelFile copy = { cJSON_Duplicate (file.header, 1), file.data };
        file_set_meta (&copy, meta_keys[m], values[v]);
        file_write (&copy, fx->path);
        cJSON_Delete (copy.header);
        loaded += load_any (fx->path);
        loads++;
      }
  g_test_message ("%d of %d edited files loaded", loaded, loads);
  g_assert_cmpint (loaded, >, 0);
  g_assert_cmpint (loaded, <, loads);
  cJSON_Delete (graph);
  file_clear (&file);
  nn_model_free (model);
}

static NnModel *
input_model (int c,
             int h,
             int w)
{
  NnGraph *graph = nn_graph_new ();
  nn_graph_add_input (graph, "input", c, h, w);
  return nn_model_new (graph, "input-only");
}

static void
test_preprocess (void)
{
  /* Same size and channels: exactly (x - mean) / std per channel. */
  NnModel *model = input_model (3, 2, 3);
  const float mean[3] = { 0.5f, 0.25f, 0.125f };
  const float std[3] = { 0.5f, 2.0f, 0.25f };
  memcpy (model->mean, mean, sizeof mean);
  memcpy (model->std, std, sizeof std);
  NnImage *image = nn_image_new (3, 2, 3);
  for (int i = 0; i < 18; i++)
    image->data[i] = (float) i / 17.0f;
  float out[18];
  nn_model_preprocess (model, image, out);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 6; i++)
      g_assert_cmpfloat (out[c * 6 + i], ==, (image->data[c * 6 + i] - mean[c]) / std[c]);

  /* Gray into an RGB model: replicated, then normalized per channel. */
  NnImage *gray = nn_image_new (1, 2, 3);
  for (int i = 0; i < 6; i++)
    gray->data[i] = (float) i / 5.0f;
  nn_model_preprocess (model, gray, out);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 6; i++)
      g_assert_cmpfloat (out[c * 6 + i], ==, (gray->data[i] - mean[c]) / std[c]);

  /* Another size: the same as nn_image_fit, then normalized. */
  NnImage *big = nn_image_new (3, 8, 6);
  for (int i = 0; i < 3 * 8 * 6; i++)
    big->data[i] = (float) ((i * 37) % 101) / 100.0f;
  NnImage *fitted = nn_image_fit (big, 2, 3);
  nn_model_preprocess (model, big, out);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 6; i++)
      g_assert_cmpfloat (out[c * 6 + i], ==, (fitted->data[c * 6 + i] - mean[c]) / std[c]);
  nn_model_free (model);

  /* RGB into a gray model: BT.601 luma. */
  model = input_model (1, 2, 3);
  model->mean[0] = 0.5f;
  model->std[0] = 0.25f;
  nn_model_preprocess (model, image, out);
  for (int i = 0; i < 6; i++)
    {
      float luma = 0.299f * image->data[i] + 0.587f * image->data[6 + i]
                   + 0.114f * image->data[12 + i];
      g_assert_cmpfloat_with_epsilon (out[i], (luma - 0.5f) / 0.25f, 1e-5);
    }
  nn_model_free (model);
  nn_image_free (fitted);
  nn_image_free (big);
  nn_image_free (gray);
  nn_image_free (image);
}

/* A CT model: the window survives a save and load, and preprocessing takes HU through it
 * before the normalization; a model without a window reads HU as a 16-bit PNG would. */
static void
test_ct_window (Fixture       *fx,
                gconstpointer  data)
{
  (void) data;
  NnModel *model = input_model (1, 2, 3);
  g_assert_false (model->has_window);
  model->has_window = TRUE;
  model->window = NN_CT_WINDOW_MEDIASTINUM;
  model->mean[0] = 0.25f;
  model->std[0] = 0.5f;
  save_or_die (model, fx->path);
  NnError err = { 0 };
  NnModel *back = nn_model_load (fx->path, &err);
  g_assert_nonnull (back);
  g_assert_true (back->has_window);
  g_assert_cmpfloat (back->window.width, ==, 350.0f);
  g_assert_cmpfloat (back->window.level, ==, 50.0f);

  /* Mediastinum: -125 HU -> 0, 50 -> 0.5, 225 -> 1. */
  NnImage *hu = nn_image_new (1, 2, 3);
  hu->hu = TRUE;
  const float values[6] = { -1000.0f, -125.0f, 50.0f, 137.5f, 225.0f, 900.0f };
  const float windowed[6] = { 0.0f, 0.0f, 0.5f, 0.75f, 1.0f, 1.0f };
  memcpy (hu->data, values, sizeof values);
  float out[6];
  nn_model_preprocess (back, hu, out);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (fabsf (out[i] - (windowed[i] - 0.25f) / 0.5f), <, 1e-6f);
  /* The image itself is untouched. */
  g_assert_cmpmem (hu->data, sizeof values, values, sizeof values);

  /* Without a window: (HU + 1024) / 65535. */
  back->has_window = FALSE;
  nn_model_preprocess (back, hu, out);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (fabsf (out[i] - ((values[i] + 1024.0f) / 65535.0f - 0.25f) / 0.5f), <,
                       1e-6f);
  nn_image_free (hu);
  nn_model_free (back);
  nn_model_free (model);
}

/* Under a locale whose decimal separator is a comma, the file still holds JSON numbers. */
static void
test_locale (Fixture       *fx,
             gconstpointer  data)
{
  (void) data;
  static const char *const locales[] = { "de_DE.UTF-8", "fr_FR.UTF-8", "ru_RU.UTF-8" };
  const char *set = NULL;
  for (size_t i = 0; i < G_N_ELEMENTS (locales) && set == NULL; i++)
    set = setlocale (LC_NUMERIC, locales[i]);
  if (set == NULL || strcmp (localeconv ()->decimal_point, ",") != 0)
    {
      setlocale (LC_NUMERIC, "C");
      g_test_skip ("no locale with a decimal comma is installed");
      return;
    }
  NnModel *model = build_model ();
  save_or_die (model, fx->path);
  NnError err = { 0 };
  NnModel *back = nn_model_load (fx->path, &err);
  setlocale (LC_NUMERIC, "C");
  g_assert_nonnull (back);
  assert_same_graph (model->graph, back->graph);
  g_assert_cmpmem (back->mean, sizeof back->mean, model->mean, sizeof model->mean);
  ModelFile file = file_read (fx->path);
  cJSON *graph = file_graph (&file);
  g_assert_cmpfloat (cJSON_GetObjectItemCaseSensitive (graph_node (graph, "drop"),
                                                       "p")->valuedouble, ==, 0.25);
  cJSON_Delete (graph);
  file_clear (&file);
  nn_model_free (back);
  nn_model_free (model);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/model/new-defaults", test_new_defaults);
  g_test_add ("/nn/model/round-trip", Fixture, NULL, fixture_setup, test_round_trip,
              fixture_teardown);
  g_test_add ("/nn/model/round-trip-defaults", Fixture, NULL, fixture_setup,
              test_round_trip_defaults, fixture_teardown);
  g_test_add ("/nn/model/layout", Fixture, NULL, fixture_setup, test_layout, fixture_teardown);
  g_test_add ("/nn/model/any-rank", Fixture, NULL, fixture_setup, test_any_rank,
              fixture_teardown);
  g_test_add ("/nn/model/save-atomic", Fixture, NULL, fixture_setup, test_save_atomic,
              fixture_teardown);
  g_test_add ("/nn/model/save-rejects-bad-values", Fixture, NULL, fixture_setup,
              test_save_rejects_bad_values, fixture_teardown);
  for (size_t i = 0; i < G_N_ELEMENTS (broken_cases); i++)
    {
      char *name = g_strdup_printf ("/nn/model/broken/%s", broken_cases[i].name);
      g_test_add (name, Fixture, &broken_cases[i], fixture_setup, test_broken, fixture_teardown);
      g_free (name);
    }
  g_test_add ("/nn/model/extra-tensor", Fixture, NULL, fixture_setup, test_extra_tensor,
              fixture_teardown);
  g_test_add ("/nn/model/fuzz-bytes", Fixture, NULL, fixture_setup, test_fuzz_bytes,
              fixture_teardown);
  g_test_add ("/nn/model/fuzz-attributes", Fixture, NULL, fixture_setup, test_fuzz_attributes,
              fixture_teardown);
  g_test_add_func ("/nn/model/preprocess", test_preprocess);
  g_test_add ("/nn/model/ct-window", Fixture, NULL, fixture_setup, test_ct_window,
              fixture_teardown);
  g_test_add ("/nn/model/locale", Fixture, NULL, fixture_setup, test_locale, fixture_teardown);
  return g_test_run ();
}
