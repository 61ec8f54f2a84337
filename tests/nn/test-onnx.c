/* SPDX-License-Identifier: MIT */
/* ONNX import on models built here with the protobuf-c API: outputs equal to the same network
 * built with nn_graph_add_*, PyTorch-style layer names, constant folding of shape arithmetic,
 * bias and scale folding, conversion to .safetensors, loading by content; and bad input (a
 * truncated file, wrong magic, initializers of the wrong size, missing external data,
 * overflowing dims, cycles, dynamic shapes, unsupported ops) giving errors that name the node
 * or tensor, plus a seeded fuzz run of the loader. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn.h"
#include "onnx-builder.h"
#include "test-util.h"

/* Deterministic values in [-1, 1). */
static void
fill (float   *v,
      size_t   n,
      uint64_t seed)
{
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (size_t i = 0; i < n; i++)
    v[i] = 2.0f * nn_rng_uniform (&rng) - 1.0f;
}

enum { C = 2, H = 6, W = 6, OC = 4, K = 3, CLASSES = 5 };

/* The weights of the small test network. */
typedef struct
{
  float conv_w[OC * C * K * K], conv_b[OC];
  float bn[4][OC];
  float fc_w[OC * CLASSES], fc_b[CLASSES];   /* MatMul layout (OC, CLASSES) */
  float mean[C], inv_std[C];
} Weights;

static void
weights_init (Weights *w)
{
  fill (w->conv_w, G_N_ELEMENTS (w->conv_w), 1);
  fill (w->conv_b, OC, 2);
  for (int k = 0; k < 4; k++)
    fill (w->bn[k], OC, 3 + (uint64_t) k);
  for (int c = 0; c < OC; c++)
    w->bn[3][c] = 0.5f + fabsf (w->bn[3][c]);   /* variance */
  fill (w->fc_w, G_N_ELEMENTS (w->fc_w), 8);
  fill (w->fc_b, CLASSES, 9);
  w->mean[0] = 0.25f;
  w->mean[1] = -0.5f;
  w->inv_std[0] = 2.0f;
  w->inv_std[1] = 0.5f;
}

/* input (1,C,H,W) -> Sub mean -> Mul 1/std -> Conv 3x3 pad (1,1,0,2) stride 1 -> BN -> Relu ->
 * MaxPool 2 -> GlobalAveragePool -> Reshape by a Shape/Gather/Unsqueeze/Concat pattern ->
 * MatMul + Add (a linear layer with bias) -> output, with PyTorch node names. */
static guint8 *
build_model (const Weights *w,
             gsize         *size,
             int64_t        height)
{
  OnnxBuilder b;
  onnx_builder_init (&b, 13);
  const int64_t in_dims[4] = { 1, C, height, W };
  onnx_builder_add_input (&b, "input", 4, in_dims);
  const int64_t out_dims[2] = { 1, CLASSES };
  onnx_builder_add_output (&b, "logits", 2, out_dims);

  const int64_t cdims[4] = { 1, C, 1, 1 };
  onnx_builder_add_init (&b, "mean", 4, cdims, w->mean, C);
  onnx_builder_add_init (&b, "inv_std", 4, cdims, w->inv_std, C);
  const int64_t wdims[4] = { OC, C, K, K };
  onnx_builder_add_init (&b, "conv1.weight", 4, wdims, w->conv_w, G_N_ELEMENTS (w->conv_w));
  const int64_t vdims[1] = { OC };
  onnx_builder_add_init (&b, "conv1.bias", 1, vdims, w->conv_b, OC);
  const char *bn_names[4] = { "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var" };
  for (int k = 0; k < 4; k++)
    onnx_builder_add_init (&b, bn_names[k], 1, vdims, w->bn[k], OC);
  const int64_t fdims[2] = { OC, CLASSES };
  onnx_builder_add_init (&b, "fc.weight", 2, fdims, w->fc_w, G_N_ELEMENTS (w->fc_w));
  const int64_t bdims[1] = { CLASSES };
  onnx_builder_add_init (&b, "fc.bias", 1, bdims, w->fc_b, CLASSES);
  const int64_t zero = 0, minus_one = -1;
  onnx_builder_add_init_ints (&b, "index0", &zero, 0);
  onnx_builder_add_init_ints (&b, "zero", &zero, 1);
  onnx_builder_add_init_ints (&b, "minus_one", &minus_one, 1);

  onnx_builder_add_node (&b, "Sub", "/Sub", (const char *[]) { "input", "mean", NULL },
                         (const char *[]) { "sub", NULL });
  onnx_builder_add_node (&b, "Mul", "/Mul", (const char *[]) { "sub", "inv_std", NULL },
                         (const char *[]) { "norm", NULL });
  Onnx__NodeProto *conv = onnx_builder_add_node (
      &b, "Conv", "/conv1/Conv", (const char *[]) { "norm", "conv1.weight", "conv1.bias", NULL },
      (const char *[]) { "c1", NULL });
  onnx_builder_attr_ints (&b, conv, "pads", (const int64_t[]) { 1, 1, 0, 2 }, 4);
  onnx_builder_attr_ints (&b, conv, "kernel_shape", (const int64_t[]) { K, K }, 2);
  onnx_builder_add_node (&b, "BatchNormalization", "/bn1/BatchNormalization",
                         (const char *[]) { "c1", "bn1.weight", "bn1.bias", "bn1.running_mean",
                                           "bn1.running_var", NULL },
                         (const char *[]) { "b1", NULL });
  onnx_builder_add_node (&b, "Relu", "/relu/Relu", (const char *[]) { "b1", NULL },
                         (const char *[]) { "r1", NULL });
  Onnx__NodeProto *pool
      = onnx_builder_add_node (&b, "MaxPool", "/maxpool/MaxPool", (const char *[]) { "r1", NULL },
                               (const char *[]) { "p1", NULL });
  onnx_builder_attr_ints (&b, pool, "kernel_shape", (const int64_t[]) { 2, 2 }, 2);
  onnx_builder_attr_ints (&b, pool, "strides", (const int64_t[]) { 2, 2 }, 2);
  onnx_builder_add_node (&b, "GlobalAveragePool", "/avgpool/GlobalAveragePool",
                         (const char *[]) { "p1", NULL }, (const char *[]) { "g1", NULL });
  /* x.view (x.size (0), -1) as PyTorch exports it without constant folding. */
  onnx_builder_add_node (&b, "Shape", "/Shape", (const char *[]) { "g1", NULL },
                         (const char *[]) { "shape", NULL });
  Onnx__NodeProto *gather = onnx_builder_add_node (&b, "Gather", "/Gather",
                                                   (const char *[]) { "shape", "index0", NULL },
                                                   (const char *[]) { "batch", NULL });
  onnx_builder_attr_int (&b, gather, "axis", 0);
  onnx_builder_add_node (&b, "Unsqueeze", "/Unsqueeze",
                         (const char *[]) { "batch", "zero", NULL },
                         (const char *[]) { "batch1", NULL });
  Onnx__NodeProto *cat = onnx_builder_add_node (&b, "Concat", "/Concat",
                                                (const char *[]) { "batch1", "minus_one", NULL },
                                                (const char *[]) { "target", NULL });
  onnx_builder_attr_int (&b, cat, "axis", 0);
  onnx_builder_add_node (&b, "Reshape", "/Reshape", (const char *[]) { "g1", "target", NULL },
                         (const char *[]) { "flat", NULL });
  onnx_builder_add_node (&b, "MatMul", "/fc/MatMul",
                         (const char *[]) { "flat", "fc.weight", NULL },
                         (const char *[]) { "mm", NULL });
  onnx_builder_add_node (&b, "Add", "/fc/Add", (const char *[]) { "mm", "fc.bias", NULL },
                         (const char *[]) { "logits", NULL });
  guint8 *data = onnx_builder_pack (&b, size);
  onnx_builder_clear (&b);
  return data;
}

/* The same network built directly. */
static NnGraph *
reference_graph (const Weights *w)
{
  NnGraph *g = nn_graph_new ();
  int x = nn_graph_add_input (g, "input", C, H, W);
  x = nn_graph_add_scale (g, "sub", x, false);
  x = nn_graph_add_scale (g, "mul", x, false);
  NnNode spec;
  memset (&spec, 0, sizeof spec);
  spec.op = NN_OP_CONV2D;
  snprintf (spec.name, sizeof spec.name, "conv1");
  spec.inputs[0] = x;
  spec.n_inputs = 1;
  spec.attrs.conv = (NnConvAttrs) { .out_channels = OC, .kh = K, .kw = K, .sh = 1, .sw = 1,
                                    .pad_t = 1, .pad_l = 1, .pad_b = 0, .pad_r = 2,
                                    .dh = 1, .dw = 1, .groups = 1, .bias = true };
  x = nn_graph_add (g, &spec, NULL);
  int conv = x;
  x = nn_graph_add_batchnorm (g, "bn1", x);
  int bn = x;
  x = nn_graph_add_relu (g, "relu", x);
  x = nn_graph_add_maxpool (g, "maxpool", x, 2, 2, 0);
  x = nn_graph_add_global_avgpool (g, "avgpool", x);
  x = nn_graph_add_flatten (g, "flatten", x);
  int fc = nn_graph_add_linear (g, "fc", x, CLASSES, true);
  float *p = nn_graph_param_data (g, nn_graph_node_param (g, 1, NN_PARAM_BIAS));
  float *q = nn_graph_param_data (g, nn_graph_node_param (g, 2, NN_PARAM_WEIGHT));
  for (int c = 0; c < C; c++)
    {
      p[c] = -w->mean[c];
      q[c] = w->inv_std[c];
    }
  memcpy (nn_graph_param_data (g, nn_graph_node_param (g, conv, NN_PARAM_WEIGHT)), w->conv_w,
          sizeof w->conv_w);
  memcpy (nn_graph_param_data (g, nn_graph_node_param (g, conv, NN_PARAM_BIAS)), w->conv_b,
          sizeof w->conv_b);
  const NnParamRole roles[4] = { NN_PARAM_WEIGHT, NN_PARAM_BIAS, NN_PARAM_RUNNING_MEAN,
                                 NN_PARAM_RUNNING_VAR };
  for (int k = 0; k < 4; k++)
    memcpy (nn_graph_param_data (g, nn_graph_node_param (g, bn, roles[k])), w->bn[k],
            sizeof w->bn[k]);
  float *fw = nn_graph_param_data (g, nn_graph_node_param (g, fc, NN_PARAM_WEIGHT));
  for (int o = 0; o < CLASSES; o++)
    for (int k = 0; k < OC; k++)
      fw[o * OC + k] = w->fc_w[k * CLASSES + o];
  memcpy (nn_graph_param_data (g, nn_graph_node_param (g, fc, NN_PARAM_BIAS)), w->fc_b,
          sizeof w->fc_b);
  return g;
}

/* Output of a graph on a fixed batch of 2. */
static void
run (NnGraph *g,
     float   *out)
{
  NnContext *ctx = nn_context_new (g, 2, 0, NULL);
  fill (nn_context_input (ctx), 2 * C * H * W, 42);
  nn_context_forward (ctx, -1);
  memcpy (out, nn_context_output (ctx, nn_graph_output (g)), sizeof (float) * 2 * CLASSES);
  nn_context_free (ctx);
}

static char *
write_model (const char   *dir,
             const char   *name,
             const guint8 *data,
             gsize         size)
{
  char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, (const char *) data, (gssize) size, NULL));
  return path;
}

static void
test_import (void)
{
  Weights w;
  weights_init (&w);
  gsize size;
  guint8 *data = build_model (&w, &size, H);
  char *dir = test_util_make_tmp_dir ();
  char *path = write_model (dir, "net.onnx", data, size);

  NnError err = { 0 };
  NnModel *model = nn_onnx_load (path, NULL, &err);
  g_assert_true (model != NULL || (g_printerr ("%s\n", err.message), FALSE));
  NnGraph *g = model->graph;
  /* Names as in PyTorch; the shape arithmetic folded into a constant, so that the reshape,
   * which keeps the per-sample layout, is no node at all; the Add folded into fc's bias. */
  const char *names[] = { "input", "sub", "mul", "conv1", "bn1", "relu", "maxpool", "avgpool",
                          "fc" };
  const NnOp ops[] = { NN_OP_INPUT, NN_OP_SCALE, NN_OP_SCALE, NN_OP_CONV2D, NN_OP_BATCHNORM,
                       NN_OP_ACTIVATION, NN_OP_MAXPOOL, NN_OP_GLOBAL_AVGPOOL, NN_OP_LINEAR };
  g_assert_cmpint (g->n_nodes, ==, G_N_ELEMENTS (names));
  for (int i = 0; i < g->n_nodes; i++)
    {
      g_assert_cmpstr (g->nodes[i].name, ==, names[i]);
      g_assert_cmpint (g->nodes[i].op, ==, ops[i]);
    }
  g_assert_cmpint (model->n_classes, ==, CLASSES);
  g_assert_nonnull (strstr (model->dataset, "cnnscope-test"));

  float got[2 * CLASSES], want[2 * CLASSES];
  run (g, got);
  NnGraph *ref = reference_graph (&w);
  run (ref, want);
  for (int i = 0; i < 2 * CLASSES; i++)
    g_assert_cmpfloat_with_epsilon (got[i], want[i], 1e-5 + 1e-5 * fabsf (want[i]));

  /* nn_model_load opens it by content, whatever its name. */
  char *disguised = write_model (dir, "net.safetensors", data, size);
  NnModel *again = nn_model_load (disguised, &err);
  g_assert_nonnull (again);
  g_assert_cmpint (again->graph->n_nodes, ==, g->n_nodes);
  nn_model_free (again);

  /* Converted and loaded back: same graph and outputs. */
  char *converted = g_build_filename (dir, "net-converted.safetensors", NULL);
  g_assert_true (nn_model_save (model, converted, &err));
  NnModel *back = nn_model_load (converted, &err);
  g_assert_nonnull (back);
  float back_out[2 * CLASSES];
  run (back->graph, back_out);
  g_assert_cmpmem (back_out, sizeof back_out, got, sizeof got);
  for (int i = 0; i < g->n_nodes; i++)
    g_assert_cmpstr (back->graph->nodes[i].name, ==, names[i]);

  /* Normalization from the cnnscope.mean / cnnscope.std metadata entries. */
  {
    Onnx__ModelProto *m = onnx__model_proto__unpack (NULL, size, data);
    g_assert_nonnull (m);
    Onnx__StringStringEntryProto entries[2], *list[2] = { &entries[0], &entries[1] };
    onnx__string_string_entry_proto__init (&entries[0]);
    onnx__string_string_entry_proto__init (&entries[1]);
    entries[0].key = (char *) "cnnscope.mean";
    entries[0].value = (char *) "0.25, 0.75";
    entries[1].key = (char *) "cnnscope.std";
    entries[1].value = (char *) "0.5,2";
    size_t saved_n = m->n_metadata_props;
    Onnx__StringStringEntryProto **saved = m->metadata_props;
    m->n_metadata_props = 2;
    m->metadata_props = list;
    gsize msize = onnx__model_proto__get_packed_size (m);
    guint8 *mdata = g_malloc (msize);
    onnx__model_proto__pack (m, mdata);
    m->n_metadata_props = saved_n;
    m->metadata_props = saved;
    onnx__model_proto__free_unpacked (m, NULL);
    char *mpath = write_model (dir, "meta.onnx", mdata, msize);
    NnModel *meta = nn_model_load (mpath, &err);
    g_assert_nonnull (meta);
    g_assert_cmpfloat (meta->mean[0], ==, 0.25f);
    g_assert_cmpfloat (meta->mean[1], ==, 0.75f);
    g_assert_cmpfloat (meta->std[1], ==, 2.0f);
    nn_model_free (meta);
    g_free (mpath);
    g_free (mdata);
  }

  /* Options: normalization stored with the model. */
  NnOnnxOptions opt = { .n_norm = 1, .mean = { 0.5f }, .std = { 0.25f } };
  NnModel *normed = nn_onnx_load (path, &opt, &err);
  g_assert_nonnull (normed);
  g_assert_cmpfloat (normed->mean[1], ==, 0.5f);
  g_assert_cmpfloat (normed->std[1], ==, 0.25f);

  nn_model_free (normed);
  nn_model_free (back);
  nn_graph_free (ref);
  nn_model_free (model);
  test_util_remove_tree (dir);
  g_free (converted);
  g_free (disguised);
  g_free (path);
  g_free (dir);
  g_free (data);
}

/* Loads data (written as NAME in a fresh folder) and checks the error mentions every string of
 * `want` (NULL-terminated). */
static void
assert_load_fails (const guint8      *data,
                   gsize              size,
                   const char        *name,
                   const char *const *want)
{
  char *dir = test_util_make_tmp_dir ();
  char *path = write_model (dir, name, data, size);
  NnError err = { 0 };
  NnModel *model = nn_model_load (path, &err);
  g_assert_null (model);
  g_assert_nonnull (strstr (err.message, path));
  for (int k = 0; want[k] != NULL; k++)
    if (strstr (err.message, want[k]) == NULL)
      g_error ("error '%s' does not mention '%s'", err.message, want[k]);
  test_util_remove_tree (dir);
  g_free (path);
  g_free (dir);
}

static void
test_bad_files (void)
{
  Weights w;
  weights_init (&w);
  gsize size;
  guint8 *data = build_model (&w, &size, H);

  /* Truncated in the middle of a tensor. */
  assert_load_fails (data, size / 2, "cut.onnx",
                     (const char *[]) { "truncated or corrupt", NULL });
  /* Not ONNX at all, whatever the name says. */
  const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13 };
  assert_load_fails (png, sizeof png, "image.onnx",
                     (const char *[]) { "not a valid ONNX file", NULL });
  assert_load_fails (png, sizeof png, "image.safetensors", (const char *[]) { NULL });
  assert_load_fails ((const guint8 *) "", 0, "empty.onnx",
                     (const char *[]) { "not an ONNX model", NULL });
  g_free (data);
}

/* A one-node model Relu(input) with an extra initializer or node, for the error cases. */
typedef void (*Mutate) (OnnxBuilder *b);

static void
assert_model_fails (Mutate             mutate,
                    const int64_t     *in_dims,
                    const char *const *want)
{
  OnnxBuilder b;
  onnx_builder_init (&b, 13);
  onnx_builder_add_input (&b, "input", 4, in_dims);
  const int64_t out_dims[4] = { 1, 2, 4, 4 };
  onnx_builder_add_output (&b, "output", 4, out_dims);
  mutate (&b);
  gsize size;
  guint8 *data = onnx_builder_pack (&b, &size);
  assert_load_fails (data, size, "bad.onnx", want);
  g_free (data);
  onnx_builder_clear (&b);
}

static const int64_t fixed_dims[4] = { 1, 2, 4, 4 };

static void
relu_output (OnnxBuilder *b,
             const char  *input)
{
  onnx_builder_add_node (b, "Relu", "/relu/Relu", (const char *[]) { input, NULL },
                         (const char *[]) { "output", NULL });
}

static void
mutate_wrong_size (OnnxBuilder *b)
{
  const float v[3] = { 1, 2, 3 };
  const int64_t dims[1] = { 2 };
  onnx_builder_add_init (b, "scale.weight", 1, dims, v, 3);
  onnx_builder_add_node (b, "Mul", "/scale/Mul",
                         (const char *[]) { "input", "scale.weight", NULL },
                         (const char *[]) { "m", NULL });
  relu_output (b, "m");
}

static void
mutate_overflow (OnnxBuilder *b)
{
  const float v[1] = { 1 };
  const int64_t dims[3] = { (int64_t) 1 << 40, (int64_t) 1 << 40, 1 << 20 };
  onnx_builder_add_init (b, "huge", 3, dims, v, 1);
  onnx_builder_add_node (b, "Mul", "/Mul", (const char *[]) { "input", "huge", NULL },
                         (const char *[]) { "m", NULL });
  relu_output (b, "m");
}

static void
external (OnnxBuilder *b,
          const char  *location)
{
  const float v[1] = { 0 };
  const int64_t dims[3] = { 2, 1, 1 };   /* one per channel */
  Onnx__TensorProto *t = onnx_builder_add_init (b, "ext.weight", 3, dims, v, 0);
  t->has_data_location = true;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  Onnx__StringStringEntryProto *e
      = onnx_builder_keep (b, g_new0 (Onnx__StringStringEntryProto, 1));
  onnx__string_string_entry_proto__init (e);
  e->key = (char *) "location";
  e->value = (char *) location;
  t->n_external_data = 1;
  t->external_data = onnx_builder_keep (b, g_new0 (Onnx__StringStringEntryProto *, 1));
  t->external_data[0] = e;
  onnx_builder_add_node (b, "Mul", "/ext/Mul", (const char *[]) { "input", "ext.weight", NULL },
                         (const char *[]) { "m", NULL });
  relu_output (b, "m");
}

static void
mutate_missing_external (OnnxBuilder *b)
{
  external (b, "weights.bin");
}

static void
mutate_escaping_external (OnnxBuilder *b)
{
  external (b, "../../etc/passwd");
}

static void
mutate_cycle (OnnxBuilder *b)
{
  onnx_builder_add_node (b, "Relu", "/a/Relu", (const char *[]) { "b", NULL },
                         (const char *[]) { "a", NULL });
  onnx_builder_add_node (b, "Relu", "/b/Relu", (const char *[]) { "a", NULL },
                         (const char *[]) { "b", NULL });
  onnx_builder_add_node (b, "Add", "/add/Add", (const char *[]) { "input", "b", NULL },
                         (const char *[]) { "output", NULL });
}

static void
mutate_plain (OnnxBuilder *b)
{
  relu_output (b, "input");
}

static void
mutate_dynamic_reshape (OnnxBuilder *b)
{
  /* The target shape is computed from the image: it cannot be resolved when loading. */
  onnx_builder_add_node (b, "Relu", "/r/Relu", (const char *[]) { "input", NULL },
                         (const char *[]) { "r", NULL });
  onnx_builder_add_node (b, "Reshape", "/view/Reshape", (const char *[]) { "input", "r", NULL },
                         (const char *[]) { "output", NULL });
}

static void
mutate_unsupported (OnnxBuilder *b)
{
  onnx_builder_add_node (b, "Resize", "/up/Resize", (const char *[]) { "input", NULL },
                         (const char *[]) { "e", NULL });
  relu_output (b, "e");
}

static void
mutate_huge_constant (OnnxBuilder *b)
{
  const int64_t shape[2] = { 1 << 20, 1 << 20 };
  onnx_builder_add_init_ints (b, "big_shape", shape, 2);
  onnx_builder_add_node (b, "ConstantOfShape", "/ConstantOfShape",
                         (const char *[]) { "big_shape", NULL }, (const char *[]) { "big", NULL });
  onnx_builder_add_node (b, "Mul", "/Mul", (const char *[]) { "input", "big", NULL },
                         (const char *[]) { "m", NULL });
  relu_output (b, "m");
}

static void
mutate_float_shape (OnnxBuilder *b)
{
  /* A shape given as floats far beyond int64. */
  const float shape[4] = { 1.0f, 1e30f, -1e30f, 1.0f };
  const int64_t dims[1] = { 4 };
  onnx_builder_add_init (b, "shape", 1, dims, shape, 4);
  onnx_builder_add_node (b, "Reshape", "/view/Reshape",
                         (const char *[]) { "input", "shape", NULL },
                         (const char *[]) { "output", NULL });
}

static void
mutate_undefined_input (OnnxBuilder *b)
{
  relu_output (b, "nowhere");
}

static void
test_bad_models (void)
{
  assert_model_fails (mutate_wrong_size, fixed_dims,
                      (const char *[]) { "scale.weight", "holds 3 values", "needs 2", NULL });
  assert_model_fails (mutate_overflow, fixed_dims,
                      (const char *[]) { "huge", "overflow", NULL });
  assert_model_fails (mutate_missing_external, fixed_dims,
                      (const char *[]) { "ext.weight", "weights.bin", "cannot be opened", NULL });
  assert_model_fails (mutate_escaping_external, fixed_dims,
                      (const char *[]) { "ext.weight", "\"..\" leaves the folder", NULL });
  assert_model_fails (mutate_cycle, fixed_dims,
                      (const char *[]) { "cycle", "/a/Relu", NULL });
  const int64_t dynamic_dims[4] = { -1, 2, -1, 4 };
  assert_model_fails (mutate_plain, dynamic_dims,
                      (const char *[]) { "input 'input'", "height", "dynamic", "--size", NULL });
  assert_model_fails (mutate_dynamic_reshape, fixed_dims,
                      (const char *[]) { "/view/Reshape", "computed at run time", NULL });
  assert_model_fails (mutate_unsupported, fixed_dims,
                      (const char *[]) { "/up/Resize", "'Resize' is not supported", NULL });
  assert_model_fails (mutate_huge_constant, fixed_dims,
                      (const char *[]) { "/ConstantOfShape", "more than", NULL });
  assert_model_fails (mutate_float_shape, fixed_dims,
                      (const char *[]) { "/view/Reshape", "out of range", NULL });
  assert_model_fails (mutate_undefined_input, fixed_dims,
                      (const char *[]) { "/relu/Relu", "'nowhere'", "not produced", NULL });
}

/* Elementwise ops of two run-time tensors of different shapes: squeeze-and-excitation
 * x * sigmoid (mean (x)), then - s, then a reshape to (4, 30) divided by the mean reshaped to
 * (4, 1) (an alias of the pool's (4, 1, 1) in the engine, so the importer reshapes it). */
static void
test_broadcast (void)
{
  enum { BC = 4, BH = 5, BW = 6, N = 2 };
  OnnxBuilder b;
  onnx_builder_init (&b, 13);
  onnx_builder_add_input (&b, "input", 4, (const int64_t[]) { 1, BC, BH, BW });
  onnx_builder_add_output (&b, "out", 3, (const int64_t[]) { 1, BC, BH * BW });
  onnx_builder_add_init_ints (&b, "tokens_shape", (const int64_t[]) { 1, BC, BH * BW }, 3);
  onnx_builder_add_init_ints (&b, "col_shape", (const int64_t[]) { 1, BC, 1 }, 3);
  onnx_builder_add_node (&b, "GlobalAveragePool", "/se/avgpool/GlobalAveragePool",
                         (const char *[]) { "input", NULL }, (const char *[]) { "g", NULL });
  onnx_builder_add_node (&b, "Sigmoid", "/se/scale_activation/Sigmoid",
                         (const char *[]) { "g", NULL }, (const char *[]) { "s", NULL });
  onnx_builder_add_node (&b, "Mul", "/se/Mul", (const char *[]) { "input", "s", NULL },
                         (const char *[]) { "m", NULL });
  onnx_builder_add_node (&b, "Sub", "/Sub", (const char *[]) { "m", "s", NULL },
                         (const char *[]) { "d", NULL });
  onnx_builder_add_node (&b, "Reshape", "/Reshape",
                         (const char *[]) { "d", "tokens_shape", NULL },
                         (const char *[]) { "t", NULL });
  onnx_builder_add_node (&b, "Reshape", "/Reshape_1", (const char *[]) { "g", "col_shape", NULL },
                         (const char *[]) { "u", NULL });
  onnx_builder_add_node (&b, "Div", "/Div", (const char *[]) { "t", "u", NULL },
                         (const char *[]) { "out", NULL });
  gsize size;
  guint8 *data = onnx_builder_pack (&b, &size);
  char *dir = test_util_make_tmp_dir ();
  char *path = write_model (dir, "se.onnx", data, size);
  NnError err = { 0 };
  NnModel *model = nn_onnx_load (path, NULL, &err);
  g_assert_true (model != NULL || (g_printerr ("%s\n", err.message), FALSE));
  NnGraph *g = model->graph;
  const int mul = nn_graph_find (g, "se"), div = nn_graph_find (g, "div");
  g_assert_cmpint (mul, >, 0);
  g_assert_cmpint (g->nodes[mul].op, ==, NN_OP_BROADCAST_MUL);
  g_assert_cmpint (g->nodes[nn_graph_find (g, "sub")].op, ==, NN_OP_BROADCAST_SUB);
  g_assert_cmpint (g->nodes[div].op, ==, NN_OP_BROADCAST_DIV);
  g_assert_cmpint (g->nodes[nn_graph_find (g, "div.in1")].op, ==, NN_OP_RESHAPE);
  g_assert_cmpint (g->nodes[div].shape.rank, ==, 2);

  NnContext *ctx = nn_context_new (g, N, 0, NULL);
  float *x = nn_context_input (ctx);
  fill (x, N * BC * BH * BW, 5);
  for (int i = 0; i < N * BC * BH * BW; i++)
    x[i] = 1.0f + 0.5f * x[i];
  nn_context_forward (ctx, -1);
  const float *out = nn_context_output (ctx, nn_graph_output (g));
  for (int k = 0; k < N * BC; k++)
    {
      const float *xc = x + (size_t) k * BH * BW;
      double mean = 0.0;
      for (int i = 0; i < BH * BW; i++)
        mean += xc[i];
      mean /= BH * BW;
      const double sg = 1.0 / (1.0 + exp (-mean));
      for (int i = 0; i < BH * BW; i++)
        g_assert_cmpfloat_with_epsilon (out[(size_t) k * BH * BW + i],
                                        (xc[i] * sg - sg) / mean, 1e-5);
    }
  nn_context_free (ctx);
  nn_model_free (model);
  test_util_remove_tree (dir);
  g_free (path);
  g_free (dir);
  g_free (data);
  onnx_builder_clear (&b);
}

/* Attention as nn.MultiheadAttention exports it with batch 1: the batch moved to axis 1 by a
 * Transpose and merged with the heads by a Reshape, products of run-time tensors (MatMul, and
 * Einsum as MaxViT writes Q K^T), a softmax along the last axis; then a class token made by
 * folding Equal, Where and Expand joined by
 * Concat, and tokens picked by Gather (one index from a folded Mod). Checked against the same
 * computed by hand for 2 samples, and the gradient reaches the input. */
static void
test_attention (void)
{
  enum { T = 3, E = 4, HEADS = 2, D = 2, N = 2 };
  OnnxBuilder b;
  onnx_builder_init (&b, 13);
  onnx_builder_add_input (&b, "x", 3, (const int64_t[]) { 1, T, E });
  onnx_builder_add_output (&b, "out", 2, (const int64_t[]) { 1, E });
  float wq[E * E], cls[E];
  fill (wq, E * E, 7);
  fill (cls, E, 8);
  onnx_builder_add_init (&b, "wq", 2, (const int64_t[]) { E, E }, wq, E * E);
  onnx_builder_add_init (&b, "cls", 2, (const int64_t[]) { 1, E }, cls, E);
  onnx_builder_add_init_ints (&b, "heads_shape", (const int64_t[]) { T, HEADS, D }, 3);
  onnx_builder_add_init_ints (&b, "rows_shape", (const int64_t[]) { T, E }, 2);
  onnx_builder_add_init_ints (&b, "back_shape", (const int64_t[]) { T, 1, E }, 3);
  onnx_builder_add_init_ints (&b, "cls_shape", (const int64_t[]) { 1, 1, E }, 3);
  onnx_builder_add_init_ints (&b, "minus", (const int64_t[]) { -1, -1, -1 }, 3);
  onnx_builder_add_init_ints (&b, "ones", (const int64_t[]) { 1, 1, 1 }, 3);
  onnx_builder_add_init_ints (&b, "five", (const int64_t[]) { 5 }, 0);
  onnx_builder_add_init_ints (&b, "four", (const int64_t[]) { 4 }, 0);
  onnx_builder_add_init_ints (&b, "zero", (const int64_t[]) { 0 }, 0);
  static const int64_t swap[3] = { 1, 0, 2 }, last[3] = { 0, 2, 1 };
  onnx_builder_attr_ints (&b,
                          onnx_builder_add_node (&b, "Transpose", "/attn/Transpose",
                                                 (const char *[]) { "x", NULL },
                                                 (const char *[]) { "t0", NULL }),
                          "perm", swap, 3);
  onnx_builder_add_node (&b, "MatMul", "/attn/MatMul", (const char *[]) { "t0", "wq", NULL },
                         (const char *[]) { "p", NULL });
  onnx_builder_add_node (&b, "Reshape", "/attn/Reshape",
                         (const char *[]) { "p", "heads_shape", NULL },
                         (const char *[]) { "r", NULL });
  onnx_builder_attr_ints (&b,
                          onnx_builder_add_node (&b, "Transpose", "/attn/Transpose_1",
                                                 (const char *[]) { "r", NULL },
                                                 (const char *[]) { "q", NULL }),
                          "perm", swap, 3);
  onnx_builder_attr_ints (&b,
                          onnx_builder_add_node (&b, "Transpose", "/attn/Transpose_2",
                                                 (const char *[]) { "q", NULL },
                                                 (const char *[]) { "kt", NULL }),
                          "perm", last, 3);
  onnx_builder_add_node (&b, "MatMul", "/attn/MatMul_1", (const char *[]) { "q", "kt", NULL },
                         (const char *[]) { "s0", NULL });
  /* The same product as Einsum with the second operand transposed, then their mean. */
  Onnx__AttributeProto *eq = onnx_builder_add_attr (
      &b,
      onnx_builder_add_node (&b, "Einsum", "/attn/Einsum", (const char *[]) { "q", "q", NULL },
                             (const char *[]) { "s1", NULL }),
      "equation");
  eq->has_type = true;
  eq->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  eq->has_s = true;
  eq->s.data = (uint8_t *) "h i d, h j d -> h i j";
  eq->s.len = strlen ((const char *) eq->s.data);
  const float half = 0.5f;
  onnx_builder_add_init (&b, "half", 0, (const int64_t[]) { 1 }, &half, 1);
  onnx_builder_add_node (&b, "Add", "/attn/Add", (const char *[]) { "s0", "s1", NULL },
                         (const char *[]) { "s2", NULL });
  onnx_builder_add_node (&b, "Mul", "/attn/Mul", (const char *[]) { "s2", "half", NULL },
                         (const char *[]) { "s", NULL });
  onnx_builder_attr_int (&b,
                         onnx_builder_add_node (&b, "Softmax", "/attn/Softmax",
                                                (const char *[]) { "s", NULL },
                                                (const char *[]) { "a", NULL }),
                         "axis", -1);
  onnx_builder_add_node (&b, "MatMul", "/attn/MatMul_2", (const char *[]) { "a", "q", NULL },
                         (const char *[]) { "o", NULL });
  onnx_builder_attr_ints (&b,
                          onnx_builder_add_node (&b, "Transpose", "/attn/Transpose_3",
                                                 (const char *[]) { "o", NULL },
                                                 (const char *[]) { "o1", NULL }),
                          "perm", swap, 3);
  onnx_builder_add_node (&b, "Reshape", "/attn/Reshape_1",
                         (const char *[]) { "o1", "rows_shape", NULL },
                         (const char *[]) { "o2", NULL });
  onnx_builder_add_node (&b, "Reshape", "/attn/Reshape_2",
                         (const char *[]) { "o2", "back_shape", NULL },
                         (const char *[]) { "o3", NULL });
  onnx_builder_attr_ints (&b,
                          onnx_builder_add_node (&b, "Transpose", "/attn/Transpose_4",
                                                 (const char *[]) { "o3", NULL },
                                                 (const char *[]) { "y", NULL }),
                          "perm", swap, 3);
  onnx_builder_add_node (&b, "Equal", "/Equal", (const char *[]) { "cls_shape", "minus", NULL },
                         (const char *[]) { "eq", NULL });
  onnx_builder_add_node (&b, "Where", "/Where",
                         (const char *[]) { "eq", "ones", "cls_shape", NULL },
                         (const char *[]) { "shape", NULL });
  onnx_builder_add_node (&b, "Expand", "/Expand", (const char *[]) { "cls", "shape", NULL },
                         (const char *[]) { "cls3", NULL });
  onnx_builder_attr_int (&b,
                         onnx_builder_add_node (&b, "Concat", "/Concat",
                                                (const char *[]) { "cls3", "y", NULL },
                                                (const char *[]) { "c", NULL }),
                         "axis", 1);
  onnx_builder_add_node (&b, "Mod", "/Mod", (const char *[]) { "five", "four", NULL },
                         (const char *[]) { "one", NULL });
  onnx_builder_attr_int (&b,
                         onnx_builder_add_node (&b, "Gather", "/Gather",
                                                (const char *[]) { "c", "one", NULL },
                                                (const char *[]) { "first", NULL }),
                         "axis", 1);
  onnx_builder_attr_int (&b,
                         onnx_builder_add_node (&b, "Gather", "/Gather_1",
                                                (const char *[]) { "c", "zero", NULL },
                                                (const char *[]) { "token", NULL }),
                         "axis", 1);
  onnx_builder_add_node (&b, "Add", "/Add", (const char *[]) { "token", "first", NULL },
                         (const char *[]) { "out", NULL });
  gsize size;
  guint8 *data = onnx_builder_pack (&b, &size);
  char *dir = test_util_make_tmp_dir ();
  char *path = write_model (dir, "attn.onnx", data, size);
  NnError err = { 0 };
  NnModel *model = nn_onnx_load (path, NULL, &err);
  g_assert_true (model != NULL || (g_printerr ("%s\n", err.message), FALSE));
  NnGraph *g = model->graph;
  g_assert_cmpint (g->nodes[nn_graph_find (g, "attn")].op, ==, NN_OP_DENSE);
  g_assert_cmpint (g->nodes[nn_graph_find (g, "attn_4")].op, ==, NN_OP_MATMUL);
  g_assert_cmpint (g->nodes[nn_graph_find (g, "attn_4.in1")].op, ==, NN_OP_TRANSPOSE);
  g_assert_cmpint (g->nodes[nn_graph_find (g, "attn_5")].op, ==, NN_OP_MATMUL);
  g_assert_cmpint (g->nodes[nn_graph_find (g, "attn_8")].op, ==, NN_OP_SOFTMAX_AXIS);
  g_assert_cmpint (g->nodes[nn_graph_find (g, "concat.in0_1")].op, ==, NN_OP_SCALE);

  NnContext *ctx = nn_context_new (g, N, NN_CONTEXT_BACKWARD, NULL);
  float *x = nn_context_input (ctx);
  fill (x, N * T * E, 9);
  nn_context_forward (ctx, -1);
  const int outn = nn_graph_output (g);
  const float *out = nn_context_output (ctx, outn);
  for (int n = 0; n < N; n++)
    {
      const float *xs = x + n * T * E;
      double p[T][E], q[HEADS][T][D], y0[E];
      for (int t = 0; t < T; t++)
        for (int o = 0; o < E; o++)
          {
            p[t][o] = 0.0;
            for (int e = 0; e < E; e++)
              p[t][o] += xs[t * E + e] * wq[e * E + o];
            q[o / D][t][o % D] = p[t][o];
          }
      for (int h = 0; h < HEADS; h++)
        {
          /* Row 0 of the attention output of head h. */
          double s[T], sum = 0.0;
          for (int j = 0; j < T; j++)
            {
              s[j] = 0.0;
              for (int d = 0; d < D; d++)
                s[j] += q[h][0][d] * q[h][j][d];
            }
          for (int j = 0; j < T; j++)
            sum += exp (s[j]);
          for (int d = 0; d < D; d++)
            {
              y0[h * D + d] = 0.0;
              for (int j = 0; j < T; j++)
                y0[h * D + d] += exp (s[j]) / sum * q[h][j][d];
            }
        }
      for (int e = 0; e < E; e++)
        g_assert_cmpfloat_with_epsilon (out[n * E + e], cls[e] + y0[e], 1e-5);
    }
  /* The gradient reaches the input through the products and the softmax. */
  float *seed = nn_context_grad (ctx, outn);
  for (int i = 0; i < N * E; i++)
    seed[i] = 1.0f;
  nn_context_backward (ctx, outn, NN_BACKWARD_INPUT, -1);
  double norm = 0.0;
  for (int i = 0; i < N * T * E; i++)
    norm += fabs (nn_context_grad (ctx, 0)[i]);
  g_assert_cmpfloat (norm, >, 0.1);
  nn_context_free (ctx);
  nn_model_free (model);
  test_util_remove_tree (dir);
  g_free (path);
  g_free (dir);
  g_free (data);
  onnx_builder_clear (&b);
}

/* LayerNormalization (opset 17) over the last axis of (1, T, E) tokens, with its scale and
 * bias, against the same computed by hand for 2 samples. */
static void
test_layernorm (void)
{
  enum { T = 3, E = 5, N = 2 };
  OnnxBuilder b;
  onnx_builder_init (&b, 17);
  onnx_builder_add_input (&b, "x", 3, (const int64_t[]) { 1, T, E });
  onnx_builder_add_output (&b, "y", 3, (const int64_t[]) { 1, T, E });
  float gamma[E], beta[E];
  fill (gamma, E, 11);
  fill (beta, E, 12);
  onnx_builder_add_init (&b, "gamma", 1, (const int64_t[]) { E }, gamma, E);
  onnx_builder_add_init (&b, "beta", 1, (const int64_t[]) { E }, beta, E);
  Onnx__NodeProto *ln = onnx_builder_add_node (
      &b, "LayerNormalization", "/ln/LayerNormalization",
      (const char *[]) { "x", "gamma", "beta", NULL }, (const char *[]) { "y", NULL });
  Onnx__AttributeProto *a = onnx_builder_add_attr (&b, ln, "epsilon");
  a->has_type = true;
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  a->has_f = true;
  a->f = 0.25f;
  gsize size;
  guint8 *data = onnx_builder_pack (&b, &size);
  char *dir = test_util_make_tmp_dir ();
  char *path = write_model (dir, "ln.onnx", data, size);
  NnError err = { 0 };
  NnModel *model = nn_onnx_load (path, NULL, &err);
  g_assert_true (model != NULL || (g_printerr ("%s\n", err.message), FALSE));
  NnGraph *g = model->graph;
  g_assert_cmpint (g->nodes[nn_graph_find (g, "ln")].op, ==, NN_OP_REDUCE_MEAN);
  NnContext *ctx = nn_context_new (g, N, 0, NULL);
  float *x = nn_context_input (ctx);
  fill (x, N * T * E, 13);
  nn_context_forward (ctx, -1);
  const float *y = nn_context_output (ctx, nn_graph_output (g));
  for (int r = 0; r < N * T; r++)
    {
      double mean = 0.0, var = 0.0;
      for (int e = 0; e < E; e++)
        mean += x[r * E + e] / (double) E;
      for (int e = 0; e < E; e++)
        var += (x[r * E + e] - mean) * (x[r * E + e] - mean) / E;
      for (int e = 0; e < E; e++)
        g_assert_cmpfloat_with_epsilon (y[r * E + e], (x[r * E + e] - mean) / sqrt (var + 0.25)
                                        * gamma[e] + beta[e], 1e-5);
    }
  nn_context_free (ctx);
  nn_model_free (model);
  test_util_remove_tree (dir);
  g_free (path);
  g_free (dir);
  g_free (data);
  onnx_builder_clear (&b);
}

/* Swin's window ops: a Slice with step 2 along two axes (patch merging), a Concat along
 * another axis than 1 (torch.roll), and an added constant folded from Range, ScatterND, a
 * Slice with step -1, Unsqueeze and Transpose; against hand values for 2 samples. */
static void
test_window_ops (void)
{
  enum { WH = 4, WW = 4, WC = 2, N = 2 };
  OnnxBuilder b;
  onnx_builder_init (&b, 13);
  onnx_builder_add_input (&b, "x", 4, (const int64_t[]) { 1, WH, WW, WC });
  onnx_builder_add_output (&b, "out", 4, (const int64_t[]) { 1, 2, 4, WC });
  const float zero = 0.0f, four = 4.0f, one = 1.0f, ten = 10.0f;
  onnx_builder_add_init (&b, "r0", 0, (const int64_t[]) { 1 }, &zero, 1);
  onnx_builder_add_init (&b, "r1", 0, (const int64_t[]) { 1 }, &four, 1);
  onnx_builder_add_init (&b, "rd", 0, (const int64_t[]) { 1 }, &one, 1);
  onnx_builder_add_init (&b, "upd", 1, (const int64_t[]) { 1 }, &ten, 1);
  onnx_builder_add_init_ints (&b, "idx", (const int64_t[]) { 1 }, 1);
  Onnx__TensorProto *idx = g_ptr_array_index (b.inits, b.inits->len - 1);
  idx->n_dims = 2;
  idx->dims
      = onnx_builder_keep (&b, g_memdup2 ((const int64_t[]) { 1, 1 }, 2 * sizeof (int64_t)));
  onnx_builder_add_init_ints (&b, "s_starts", (const int64_t[]) { 1, 0 }, 2);
  onnx_builder_add_init_ints (&b, "s_ends", (const int64_t[]) { WH, WW }, 2);
  onnx_builder_add_init_ints (&b, "s_axes", (const int64_t[]) { 1, 2 }, 2);
  onnx_builder_add_init_ints (&b, "s_steps", (const int64_t[]) { 2, 2 }, 2);
  onnx_builder_add_init_ints (&b, "r_starts", (const int64_t[]) { -1 }, 1);
  onnx_builder_add_init_ints (&b, "r_ends", (const int64_t[]) { -5 }, 1);
  onnx_builder_add_init_ints (&b, "r_axes", (const int64_t[]) { 0 }, 1);
  onnx_builder_add_init_ints (&b, "r_steps", (const int64_t[]) { -1 }, 1);
  onnx_builder_add_init_ints (&b, "u_axes", (const int64_t[]) { 0 }, 1);
  onnx_builder_add_node (
      &b, "Slice", "/merge/Slice",
      (const char *[]) { "x", "s_starts", "s_ends", "s_axes", "s_steps", NULL },
      (const char *[]) { "a", NULL });
  onnx_builder_attr_int (&b,
                         onnx_builder_add_node (&b, "Concat", "/roll/Concat",
                                                (const char *[]) { "a", "a", NULL },
                                                (const char *[]) { "c", NULL }),
                         "axis", 2);
  onnx_builder_add_node (&b, "Range", "/Range", (const char *[]) { "r0", "r1", "rd", NULL },
                         (const char *[]) { "r", NULL });
  onnx_builder_add_node (&b, "ScatterND", "/ScatterND",
                         (const char *[]) { "r", "idx", "upd", NULL },
                         (const char *[]) { "sc", NULL });
  onnx_builder_add_node (
      &b, "Slice", "/Slice",
      (const char *[]) { "sc", "r_starts", "r_ends", "r_axes", "r_steps", NULL },
      (const char *[]) { "rev", NULL });
  onnx_builder_add_node (&b, "Unsqueeze", "/Unsqueeze",
                         (const char *[]) { "rev", "u_axes", NULL },
                         (const char *[]) { "row", NULL });
  onnx_builder_add_node (&b, "Transpose", "/Transpose", (const char *[]) { "row", NULL },
                         (const char *[]) { "col", NULL });
  onnx_builder_add_node (&b, "Add", "/Add", (const char *[]) { "c", "col", NULL },
                         (const char *[]) { "out", NULL });
  gsize size;
  guint8 *data = onnx_builder_pack (&b, &size);
  char *dir = test_util_make_tmp_dir ();
  char *path = write_model (dir, "window.onnx", data, size);
  NnError err = { 0 };
  NnModel *model = nn_onnx_load (path, NULL, &err);
  g_assert_true (model != NULL || (g_printerr ("%s\n", err.message), FALSE));
  NnGraph *g = model->graph;
  NnContext *ctx = nn_context_new (g, N, NN_CONTEXT_BACKWARD, NULL);
  float *x = nn_context_input (ctx);
  fill (x, N * WH * WW * WC, 21);
  nn_context_forward (ctx, -1);
  const int outn = nn_graph_output (g);
  const float *out = nn_context_output (ctx, outn);
  const float rev[4] = { 3.0f, 2.0f, 10.0f, 0.0f };
  for (int n = 0; n < N; n++)
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 4; j++)
        for (int c = 0; c < WC; c++)
          g_assert_cmpfloat_with_epsilon (out[((n * 2 + i) * 4 + j) * WC + c],
                                          x[((n * WH + 1 + 2 * i) * WW + 2 * (j % 2)) * WC + c]
                                          + rev[j], 1e-6);
  /* The gradient of the sum: 2 on the kept values (each is concatenated twice), 0 elsewhere. */
  float *seed = nn_context_grad (ctx, outn);
  for (int k = 0; k < N * 2 * 4 * WC; k++)
    seed[k] = 1.0f;
  nn_context_backward (ctx, outn, NN_BACKWARD_INPUT, -1);
  const float *dx = nn_context_grad (ctx, 0);
  for (int n = 0; n < N; n++)
    for (int h = 0; h < WH; h++)
      for (int w = 0; w < WW; w++)
        g_assert_cmpfloat (dx[((n * WH + h) * WW + w) * WC], ==,
                           h % 2 == 1 && w % 2 == 0 ? 2.0f : 0.0f);
  nn_context_free (ctx);
  nn_model_free (model);
  test_util_remove_tree (dir);
  g_free (path);
  g_free (dir);
  g_free (data);
  onnx_builder_clear (&b);
}

/* A chain of ReLUs named as PyTorch's exporter names nested modules (and one named by another
 * exporter): each layer gets PyTorch's module path, as named_modules () prints it. */
static void
test_layer_names (void)
{
  static const char *const cases[][2] = {
    { "/layer3/layer3.1/conv2/Relu", "layer3.1.conv2" },
    { "/layer4/layer4.0/downsample/downsample.0/Relu", "layer4.0.downsample.0" },
    { "/features/features.17/conv/conv.2/Relu", "features.17.conv.2" },
    { "/features/features.1/conv/conv.0/conv.0.0/Relu", "features.1.conv.0.0" },
    { "/features/features.1/features.1.0/block/block.1/block.1.0/Relu",
      "features.1.0.block.1.0" },
    { "/trunk/trunks/Relu", "trunk.trunks" },
    { "/layer3/layer3.1/conv2/Relu_1", "layer3.1.conv2_1" },
    { "/Relu_1", "relu_1" },
    { "plain_relu", "plain_relu" },
  };
  OnnxBuilder b;
  onnx_builder_init (&b, 13);
  onnx_builder_add_input (&b, "input", 4, fixed_dims);
  onnx_builder_add_output (&b, "output", 4, fixed_dims);
  const char *prev = "input";
  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      const char *out = k + 1 < G_N_ELEMENTS (cases)
                            ? onnx_builder_keep (&b, g_strdup_printf ("r%" G_GSIZE_FORMAT, k))
                            : "output";
      onnx_builder_add_node (&b, "Relu", cases[k][0], (const char *[]) { prev, NULL },
                             (const char *[]) { out, NULL });
      prev = out;
    }
  gsize size;
  guint8 *data = onnx_builder_pack (&b, &size);
  char *dir = test_util_make_tmp_dir ();
  char *path = write_model (dir, "names.onnx", data, size);
  NnError err = { 0 };
  NnModel *model = nn_onnx_load (path, NULL, &err);
  g_assert_true (model != NULL || (g_printerr ("%s\n", err.message), FALSE));
  g_assert_cmpint (model->graph->n_nodes, ==, 1 + G_N_ELEMENTS (cases));
  for (gsize k = 0; k < G_N_ELEMENTS (cases); k++)
    g_assert_cmpstr (model->graph->nodes[1 + k].name, ==, cases[k][1]);
  nn_model_free (model);
  test_util_remove_tree (dir);
  g_free (path);
  g_free (dir);
  g_free (data);
  onnx_builder_clear (&b);
}

/* External data that exists is read; one that is too short is an error naming it. */
static void
test_external_data (void)
{
  OnnxBuilder b;
  onnx_builder_init (&b, 13);
  onnx_builder_add_input (&b, "input", 4, fixed_dims);
  onnx_builder_add_output (&b, "output", 4, fixed_dims);
  external (&b, "weights.bin");
  gsize size;
  guint8 *data = onnx_builder_pack (&b, &size);
  char *dir = test_util_make_tmp_dir ();
  char *path = write_model (dir, "ext.onnx", data, size);
  char *bin = g_build_filename (dir, "weights.bin", NULL);
  const float scale[2] = { 2.0f, -3.0f };
  g_assert_true (g_file_set_contents (bin, (const char *) scale, 4, NULL));
  NnError err = { 0 };
  g_assert_null (nn_model_load (path, &err));
  g_assert_nonnull (strstr (err.message, "shorter"));
  g_assert_true (g_file_set_contents (bin, (const char *) scale, sizeof scale, NULL));
  NnModel *model = nn_model_load (path, &err);
  g_assert_nonnull (model);
  const float *wv = nn_graph_param_data (model->graph,
                                         nn_graph_node_param (model->graph, 1, NN_PARAM_WEIGHT));
  g_assert_cmpfloat (wv[0], ==, 2.0f);
  g_assert_cmpfloat (wv[1], ==, -3.0f);
  nn_model_free (model);

  /* A symbolic link to a file outside the folder is not followed (convert would otherwise copy
   * that file's bytes into its output), and a FIFO does not block. */
  char *outside = test_util_make_tmp_dir ();
  char *secret = g_build_filename (outside, "secret", NULL);
  g_assert_true (g_file_set_contents (secret, (const char *) scale, sizeof scale, NULL));
  g_assert_cmpint (g_remove (bin), ==, 0);
  g_assert_cmpint (symlink (secret, bin), ==, 0);
  g_assert_null (nn_model_load (path, &err));
  g_assert_nonnull (strstr (err.message, path));
  g_assert_nonnull (strstr (err.message, "weights.bin: a symbolic link (not followed)"));
  g_assert_cmpint (g_remove (bin), ==, 0);
  g_assert_cmpint (mkfifo (bin, 0644), ==, 0);
  g_assert_null (nn_model_load (path, &err));
  g_assert_nonnull (strstr (err.message, "weights.bin: not a regular file (a FIFO)"));
  test_util_remove_tree (outside);
  g_free (secret);
  g_free (outside);
  test_util_remove_tree (dir);
  g_free (bin);
  g_free (path);
  g_free (dir);
  g_free (data);
  onnx_builder_clear (&b);
}

/* Hundreds of constants folded one from another: a node's inputs stay valid while its output
 * is added (the values never move), and the result is exact. */
static void
test_many_constants (void)
{
  enum { STEPS = 600 };
  OnnxBuilder b;
  onnx_builder_init (&b, 13);
  onnx_builder_add_input (&b, "input", 4, fixed_dims);
  onnx_builder_add_output (&b, "output", 4, fixed_dims);
  const float one[1] = { 1.0f };
  const int64_t dims[1] = { 1 };
  onnx_builder_add_init (&b, "c0", 1, dims, one, 1);
  onnx_builder_add_init (&b, "one", 1, dims, one, 1);
  const char *prev = "c0";
  for (int k = 1; k < STEPS; k++)
    {
      const char *name = onnx_builder_keep (&b, g_strdup_printf ("c%d", k));
      const char *node = onnx_builder_keep (&b, g_strdup_printf ("/fold%d/Add", k));
      onnx_builder_add_node (&b, "Add", node, (const char *[]) { prev, "one", NULL },
                             (const char *[]) { name, NULL });
      prev = name;
    }
  onnx_builder_add_node (&b, "Mul", "/scale/Mul", (const char *[]) { "input", prev, NULL },
                         (const char *[]) { "output", NULL });
  gsize size;
  guint8 *data = onnx_builder_pack (&b, &size);
  char *dir = test_util_make_tmp_dir ();
  char *path = write_model (dir, "folds.onnx", data, size);
  NnError err = { 0 };
  NnModel *model = nn_onnx_load (path, NULL, &err);
  g_assert_true (model != NULL || (g_printerr ("%s\n", err.message), FALSE));
  NnContext *ctx = nn_context_new (model->graph, 1, 0, NULL);
  float *x = nn_context_input (ctx);
  const size_t n = nn_shape_size (model->graph->nodes[0].shape);
  for (size_t i = 0; i < n; i++)
    x[i] = (float) i - 7.0f;
  nn_context_forward (ctx, -1);
  const float *y = nn_context_output (ctx, nn_graph_output (model->graph));
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (y[i], ==, ((float) i - 7.0f) * STEPS);
  nn_context_free (ctx);
  nn_model_free (model);
  test_util_remove_tree (dir);
  g_free (path);
  g_free (dir);
  g_free (data);
  onnx_builder_clear (&b);
}

/* The model of build_model with every float initializer stored as raw_data (as PyTorch writes
 * them), in a new buffer. */
static guint8 *
with_raw_data (const guint8 *data,
               gsize         size,
               gsize        *raw_size)
{
  Onnx__ModelProto *m = onnx__model_proto__unpack (NULL, size, data);
  g_assert_nonnull (m);
  GPtrArray *garbage = g_ptr_array_new_with_free_func (g_free);
  for (size_t k = 0; k < m->graph->n_initializer; k++)
    {
      Onnx__TensorProto *t = m->graph->initializer[k];
      if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        continue;
      guint8 *raw = g_malloc (4 * t->n_float_data + 1);
      for (size_t i = 0; i < t->n_float_data; i++)
        {
          guint32 bits;
          memcpy (&bits, &t->float_data[i], 4);
          for (int b = 0; b < 4; b++)
            raw[4 * i + (size_t) b] = (guint8) (bits >> (8 * b));
        }
      g_ptr_array_add (garbage, raw);
      t->has_raw_data = true;
      t->raw_data.data = raw;
      t->raw_data.len = 4 * t->n_float_data;
      t->n_float_data = 0;
    }
  *raw_size = onnx__model_proto__get_packed_size (m);
  guint8 *out = g_malloc (*raw_size);
  g_assert_cmpuint (onnx__model_proto__pack (m, out), ==, *raw_size);
  /* The raw buffers are ours, not protobuf-c's. */
  for (size_t k = 0; k < m->graph->n_initializer; k++)
    {
      Onnx__TensorProto *t = m->graph->initializer[k];
      if (t->has_raw_data)
        {
          t->has_raw_data = false;
          t->raw_data.data = NULL;
          t->raw_data.len = 0;
        }
    }
  onnx__model_proto__free_unpacked (m, NULL);
  g_ptr_array_unref (garbage);
  return out;
}

/* Initializers stored as raw_data (read from the file on first use) give the same weights as
 * the same values inline. */
static void
test_raw_data (void)
{
  Weights w;
  weights_init (&w);
  gsize size, raw_size;
  guint8 *data = build_model (&w, &size, H);
  guint8 *raw = with_raw_data (data, size, &raw_size);
  char *dir = test_util_make_tmp_dir ();
  char *path = write_model (dir, "typed.onnx", data, size);
  char *raw_path = write_model (dir, "raw.onnx", raw, raw_size);
  NnError err = { 0 };
  NnModel *typed = nn_onnx_load (path, NULL, &err);
  g_assert_true (typed != NULL || (g_printerr ("%s\n", err.message), FALSE));
  NnModel *model = nn_onnx_load (raw_path, NULL, &err);
  g_assert_true (model != NULL || (g_printerr ("%s\n", err.message), FALSE));
  g_assert_cmpint (model->graph->n_nodes, ==, typed->graph->n_nodes);
  g_assert_cmpuint (model->graph->n_data, ==, typed->graph->n_data);
  g_assert_cmpmem (model->graph->data, sizeof (float) * model->graph->n_data,
                   typed->graph->data, sizeof (float) * typed->graph->n_data);
  nn_model_free (model);
  nn_model_free (typed);
  test_util_remove_tree (dir);
  g_free (raw_path);
  g_free (path);
  g_free (dir);
  g_free (raw);
  g_free (data);
}

typedef struct
{
  GArray     *fractions;
  atomic_int  cancel;
  int         cancel_at;     /* sets cancel at this report (0: never) */
  const char *shrink;        /* truncates this file to shrink_to bytes at the first report */
  gsize       shrink_to;
} Progress;

static void
on_progress (double  fraction,
             void   *user_data)
{
  Progress *p = user_data;
  g_array_append_val (p->fractions, fraction);
  if (p->cancel_at > 0 && (int) p->fractions->len == p->cancel_at)
    atomic_store (&p->cancel, 1);
  if (p->shrink != NULL && p->fractions->len == 1)
    g_assert_cmpint (truncate (p->shrink, (off_t) p->shrink_to), ==, 0);
}

/* Loads the raw-data model at path with a Progress; NULL with err as the load gives it. */
static NnModel *
load_with_progress (const char *path,
                    Progress   *p,
                    NnError    *err)
{
  const NnLoadControl control = { .cancel = &p->cancel, .progress = on_progress,
                                  .user_data = p };
  return nn_model_load_with (path, &control, err);
}

/* Progress rises to 1; the cancel flag stops the load, whether set before or during it; a file
 * that shrinks while it loads is an error naming it, not a crash. */
static void
test_progress (void)
{
  Weights w;
  weights_init (&w);
  gsize size, raw_size;
  guint8 *data = build_model (&w, &size, H);
  guint8 *raw = with_raw_data (data, size, &raw_size);
  char *dir = test_util_make_tmp_dir ();
  char *path = write_model (dir, "net.onnx", raw, raw_size);

  Progress p = { .fractions = g_array_new (FALSE, FALSE, sizeof (double)) };
  atomic_init (&p.cancel, 0);
  NnError err = { 0 };
  NnModel *model = load_with_progress (path, &p, &err);
  g_assert_true (model != NULL || (g_printerr ("%s\n", err.message), FALSE));
  nn_model_free (model);
  /* The skeleton first, then the weights initializer by initializer. */
  g_assert_cmpuint (p.fractions->len, >=, 3);
  for (guint k = 1; k < p.fractions->len; k++)
    g_assert_cmpfloat (g_array_index (p.fractions, double, k), >,
                       g_array_index (p.fractions, double, k - 1));
  g_assert_cmpfloat (g_array_index (p.fractions, double, 0), >=, 0.0);
  g_assert_cmpfloat (g_array_index (p.fractions, double, p.fractions->len - 1), ==, 1.0);

  atomic_store (&p.cancel, 1);
  g_array_set_size (p.fractions, 0);
  g_assert_null (load_with_progress (path, &p, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  g_assert_nonnull (strstr (err.message, path));

  atomic_store (&p.cancel, 0);
  p.cancel_at = 2;
  g_assert_null (load_with_progress (path, &p, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_CANCELLED);
  g_assert_cmpuint (p.fractions->len, ==, 2);

  /* Cut inside the weights after the graph was read. */
  atomic_store (&p.cancel, 0);
  p.cancel_at = 0;
  p.shrink = path;
  p.shrink_to = raw_size / 2;
  g_array_set_size (p.fractions, 0);
  g_assert_null (load_with_progress (path, &p, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_FORMAT);
  g_assert_nonnull (strstr (err.message, path));
  g_assert_nonnull (strstr (err.message, "ends early"));

  g_array_unref (p.fractions);
  test_util_remove_tree (dir);
  g_free (path);
  g_free (dir);
  g_free (raw);
  g_free (data);
}

/* Thousands of seeded mutations of a valid model: each loads or fails with a message. */
static void
test_fuzz (void)
{
  Weights w;
  weights_init (&w);
  gsize size;
  guint8 *data = build_model (&w, &size, H);
  guint8 *copy = g_malloc (size + 64);
  char *dir = test_util_make_tmp_dir ();
  char *path = g_build_filename (dir, "fuzz.onnx", NULL);
  NnRng rng;
  nn_rng_init (&rng, 2026);
  int loaded = 0, failed = 0;
  for (int iter = 0; iter < 3000; iter++)
    {
      memcpy (copy, data, size);
      gsize n = size;
      int edits = 1 + (int) nn_rng_below (&rng, 8);
      for (int e = 0; e < edits; e++)
        {
          uint32_t at = nn_rng_below (&rng, (uint32_t) n);
          switch (nn_rng_below (&rng, 4))
            {
            case 0:
              copy[at] ^= (guint8) (1u << nn_rng_below (&rng, 8));
              break;
            case 1:
              copy[at] = (guint8) nn_rng_below (&rng, 256);
              break;
            case 2:
              copy[at] = nn_rng_below (&rng, 2) ? 0xff : 0x00;
              break;
            default:
              n = at + 1;   /* truncate */
              break;
            }
        }
      /* Plain writes: g_file_set_contents would fsync 3000 times. */
      FILE *f = fopen (path, "wb");
      g_assert_nonnull (f);
      g_assert_cmpuint (fwrite (copy, 1, n, f), ==, n);
      g_assert_cmpint (fclose (f), ==, 0);
      NnError err = { 0 };
      NnModel *model = nn_onnx_load (path, NULL, &err);
      if (model != NULL)
        {
          loaded++;
          nn_model_free (model);
        }
      else
        {
          failed++;
          g_assert_cmpuint (strlen (err.message), >, strlen (path) + 2);
        }
    }
  g_test_message ("fuzz: %d mutated models loaded, %d rejected with a message", loaded, failed);
  g_assert_cmpint (loaded + failed, ==, 3000);
  g_assert_cmpint (failed, >, 0);
  test_util_remove_tree (dir);
  g_free (path);
  g_free (dir);
  g_free (copy);
  g_free (data);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/onnx/import", test_import);
  g_test_add_func ("/nn/onnx/bad-files", test_bad_files);
  g_test_add_func ("/nn/onnx/bad-models", test_bad_models);
  g_test_add_func ("/nn/onnx/layer-names", test_layer_names);
  g_test_add_func ("/nn/onnx/broadcast", test_broadcast);
  g_test_add_func ("/nn/onnx/attention", test_attention);
  g_test_add_func ("/nn/onnx/layernorm", test_layernorm);
  g_test_add_func ("/nn/onnx/window-ops", test_window_ops);
  g_test_add_func ("/nn/onnx/external-data", test_external_data);
  g_test_add_func ("/nn/onnx/many-constants", test_many_constants);
  g_test_add_func ("/nn/onnx/raw-data", test_raw_data);
  g_test_add_func ("/nn/onnx/progress", test_progress);
  g_test_add_func ("/nn/onnx/fuzz", test_fuzz);
  return g_test_run ();
}
