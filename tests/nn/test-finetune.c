/* SPDX-License-Identifier: MIT */
/* Fine-tuning: another input size (refused, naming the layer, where the graph does not allow
 * it), a new classifier, frozen layers (weights and batch-norm statistics bit-identical after
 * training, the rest changed), continuing a saved model from its weights, and an ONNX model
 * built here fine-tuned, saved and reloaded with identical predictions. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"
#include "onnx-builder.h"
#include "test-util.h"

/* n images c x side x side of seeded noise, n_classes classes in turn, each class brightening
 * its own horizontal band so that the set can be learnt. */
static NnDataset *
make_bands (int      n,
            int      c,
            int      side,
            int      n_classes,
            uint64_t seed)
{
  NnDataset *ds = nn_dataset_new (n, c, side, side, n_classes);
  g_assert_nonnull (ds);
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (int i = 0; i < n; i++)
    {
      int label = i % n_classes;
      ds->labels[i] = label;
      float *img = ds->images + (size_t) i * c * side * side;
      for (int ch = 0; ch < c; ch++)
        for (int y = 0; y < side; y++)
          for (int x = 0; x < side; x++)
            {
              bool band = y * n_classes / side == label;
              img[(ch * side + y) * side + x] = 0.2f + 0.4f * nn_rng_uniform (&rng)
                                                + (band ? 0.3f : 0.0f);
            }
    }
  for (int k = 0; k < n_classes; k++)
    {
      char name[16];
      g_snprintf (name, sizeof name, "class%d", k);
      nn_dataset_set_class_name (ds, k, name);
    }
  return ds;
}

static NnModel *
make_arch (const char *arch,
           int         c,
           int         side,
           int         n_classes)
{
  NnArchSpec spec = {
    .name = arch, .in_c = c, .in_h = side, .in_w = side, .n_classes = n_classes,
    .width = 0.125f, .bank = NN_PFM_BANK_FULL, .seed = 3,
  };
  NnError err = { 0 };
  NnGraph *graph = nn_arch_build (&spec, &err);
  g_assert_true (graph != NULL);
  NnModel *model = nn_model_new (graph, arch);
  g_assert_nonnull (model);
  return model;
}

/* The logits of every image of ds (n x outputs), through nn_evaluate's one-vs-rest scores'
 * source: a context over the whole set. */
static float *
logits_of (NnModel         *model,
           const NnDataset *ds)
{
  NnError err = { 0 };
  NnContext *ctx = nn_context_new (model->graph, ds->n, 0, &err);
  g_assert_nonnull (ctx);
  const size_t sample = (size_t) ds->c * ds->h * ds->w;
  float *in = nn_context_input (ctx);
  for (int i = 0; i < ds->n; i++)
    for (int ch = 0; ch < ds->c; ch++)
      for (size_t j = 0; j < (size_t) ds->h * ds->w; j++)
        {
          size_t at = (size_t) i * sample + (size_t) ch * ds->h * ds->w + j;
          in[at] = (ds->images[at] - model->mean[ch]) / model->std[ch];
        }
  nn_context_forward (ctx, -1);
  const int out = nn_graph_output (model->graph);
  size_t n = (size_t) ds->n * nn_shape_size (model->graph->nodes[out].shape);
  float *logits = g_memdup2 (nn_context_output (ctx, out), sizeof (float) * n);
  nn_context_free (ctx);
  return logits;
}

static void
test_resize_input (void)
{
  NnModel *model = make_arch ("resnet18", 3, 32, 4);
  NnGraph *before = nn_graph_dup (model->graph);
  NnError err = { 0 };
  g_assert_true (nn_finetune_resize_input (model, 48, 40, &err));
  const NnGraph *g = model->graph;
  g_assert_cmpint (nn_model_input_height (model), ==, 48);
  g_assert_cmpint (nn_model_input_width (model), ==, 40);
  g_assert_cmpint (nn_model_input_channels (model), ==, 3);
  g_assert_cmpint (g->n_nodes, ==, before->n_nodes);
  g_assert_cmpint (g->n_params, ==, before->n_params);
  g_assert_cmpuint (g->n_data, ==, before->n_data);
  g_assert_cmpint (memcmp (g->data, before->data, sizeof (float) * g->n_data), ==, 0);
  g_assert_cmpint ((int) nn_shape_size (g->nodes[nn_graph_output (g)].shape), ==, 4);
  int l4 = nn_graph_find (g, "layer4.1.relu2");
  g_assert_cmpint (l4, >, 0);
  /* The small-input stem keeps the size and three stages halve it: 6 x 5 where 32 gave 4 x 4. */
  g_assert_cmpint (g->nodes[l4].shape.h, ==, 6);
  g_assert_cmpint (g->nodes[l4].shape.w, ==, 5);
  nn_graph_free (before);

  /* smallcnn flattens its feature maps into fc1: refused, naming it; the model unchanged. */
  NnModel *flat = make_arch ("smallcnn", 1, 28, 10);
  g_assert_false (nn_finetune_resize_input (flat, 32, 32, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  g_assert_nonnull (strstr (err.message, "layer 'fc1'"));
  g_assert_nonnull (strstr (err.message, "1x32x32"));
  g_assert_cmpint (nn_model_input_height (flat), ==, 28);
  nn_model_free (flat);
  nn_model_free (model);
}

static void
test_new_head (void)
{
  NnModel *model = make_arch ("resnet18", 3, 32, 10);
  NnModel *twin = nn_model_dup (model);
  NnGraph *before = nn_graph_dup (model->graph);
  NnError err = { 0 };
  g_assert_true (nn_finetune_new_head (model, 3, 7, &err));
  g_assert_true (nn_finetune_new_head (twin, 3, 7, &err));
  const NnGraph *g = model->graph;
  int fc = nn_finetune_classifier (g);
  g_assert_cmpstr (g->nodes[fc].name, ==, "fc");
  g_assert_cmpint ((int) nn_shape_size (g->nodes[nn_graph_output (g)].shape), ==, 3);
  g_assert_cmpint (model->n_classes, ==, 3);
  g_assert_cmpstr (model->labels[2], ==, "2");
  /* Every parameter before the head is the old one; the head is seeded and not zero. */
  for (int p = 0; p < g->n_params; p++)
    {
      const NnParam *prm = &g->params[p];
      if (prm->node == fc)
        continue;
      g_assert_cmpint (memcmp (g->data + prm->offset, before->data + before->params[p].offset,
                               sizeof (float) * prm->count), ==, 0);
    }
  const float *w = nn_graph_param_data (g, nn_graph_node_param (g, fc, NN_PARAM_WEIGHT));
  double sum = 0.0;
  for (int k = 0; k < 3 * g->nodes[g->nodes[fc].inputs[0]].shape.c; k++)
    sum += fabs ((double) w[k]);
  g_assert_cmpfloat (sum, >, 0.0);
  g_assert_cmpint (memcmp (g->data, twin->graph->data, sizeof (float) * g->n_data), ==, 0);

  g_assert_false (nn_finetune_new_head (model, 0, 7, &err));
  g_assert_nonnull (strstr (err.message, "at least one class"));
  nn_graph_free (before);
  nn_model_free (twin);
  nn_model_free (model);
}

/* Trains model on ds for a few steps frozen up to `layer` and checks that every parameter and
 * buffer of the frozen layers is bit-identical, and every other trainable tensor changed. */
static void
assert_freeze_trains (NnModel         *model,
                      const NnDataset *ds,
                      const char      *layer,
                      int              expect_frozen)
{
  NnError err = { 0 };
  int frozen = nn_finetune_freeze (model->graph, layer, &err);
  g_assert_cmpint (frozen, ==, expect_frozen);
  NnGraph *before = nn_graph_dup (model->graph);
  NnTrainConfig config;
  nn_train_config_init (&config);
  config.epochs = 2;
  config.batch = 4;
  config.lr = 0.01f;
  g_assert_true (nn_train (model, ds, NULL, &config, NULL, NULL, NULL, &err));
  const NnGraph *g = model->graph;
  int n_frozen = 0, n_changed = 0;
  for (int p = 0; p < g->n_params; p++)
    {
      const NnParam *prm = &g->params[p];
      bool frozen_node = nn_graph_node_param_count (g, prm->node) > 0
                         && !g->params[g->nodes[prm->node].params[0]].trainable;
      bool same = memcmp (g->data + prm->offset, before->data + prm->offset,
                          sizeof (float) * prm->count) == 0;
      if (frozen_node)
        {
          g_assert_true (same);
          n_frozen++;
        }
      else if (prm->trainable)
        {
          if (same)
            g_error ("%s did not change", prm->name);
          n_changed++;
        }
    }
  g_assert_cmpint (n_frozen, >, 0);
  g_assert_cmpint (n_changed, >, 0);
  nn_graph_free (before);
}

static void
test_freeze (void)
{
  NnModel *model = make_arch ("resnet18", 3, 16, 3);
  NnDataset *ds = make_bands (12, 3, 16, 3, 2);
  /* conv1, bn1, then layer1 and layer2: two blocks of two convs and two norms each, plus
   * layer2.0's downsample conv and norm. */
  assert_freeze_trains (model, ds, "layer2", 2 + 8 + 10);
  /* layer2.0.bn1's running statistics did not move, while layer3.0.bn1's did: the frozen norm
   * ran in inference mode. */
  int frozen_bn = nn_graph_find (model->graph, "layer2.0.bn1");
  int free_bn = nn_graph_find (model->graph, "layer3.0.bn1");
  const float *rm_frozen = nn_graph_param_data (model->graph,
                                                nn_graph_node_param (model->graph, frozen_bn,
                                                                     NN_PARAM_RUNNING_MEAN));
  const float *rm_free = nn_graph_param_data (model->graph,
                                              nn_graph_node_param (model->graph, free_bn,
                                                                   NN_PARAM_RUNNING_MEAN));
  g_assert_cmpfloat (rm_frozen[0], ==, 0.0f);
  g_assert_cmpfloat (rm_free[0], !=, 0.0f);

  NnError err = { 0 };
  g_assert_cmpint (nn_finetune_freeze (model->graph, "layer9", &err), ==, -1);
  g_assert_nonnull (strstr (err.message, "no layer is named 'layer9'"));
  g_assert_cmpint (nn_finetune_freeze (model->graph, "layer", &err), ==, -1);
  g_assert_cmpint (nn_finetune_freeze (model->graph, "fc", &err), ==, -1);
  g_assert_nonnull (strstr (err.message, "nothing to train"));
  nn_dataset_free (ds);
  nn_model_free (model);
}

typedef struct
{
  float first_loss;
  long  steps;
} FirstLoss;

static void
on_step (const NnTrainProgress *p,
         void                  *user_data)
{
  FirstLoss *f = user_data;
  if (p->epoch_done)
    return;
  if (f->steps++ == 0)
    f->first_loss = p->loss;
}

/* A saved model fine-tuned with --init continues from its weights: the loss of the first step
 * (one batch of the whole set, taken before the update) is the saved model's evaluation loss;
 * every norm is frozen, so none uses batch statistics. */
static void
test_continue (void)
{
  g_autofree char *dir = test_util_make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "m.safetensors", NULL);
  NnModel *model = make_arch ("resnet18", 3, 16, 3);
  NnDataset *ds = make_bands (12, 3, 16, 3, 4);
  NnTrainConfig config;
  nn_train_config_init (&config);
  config.epochs = 2;
  config.batch = 4;
  config.lr = 0.01f;
  NnError err = { 0 };
  g_assert_true (nn_train (model, ds, NULL, &config, NULL, NULL, NULL, &err));
  g_assert_true (nn_model_save (model, path, &err));
  nn_model_free (model);

  NnModel *loaded = nn_model_load (path, &err);
  g_assert_nonnull (loaded);
  NnEvalResult res;
  g_assert_true (nn_evaluate (loaded, ds, 12, &res, NULL, &err));
  g_assert_cmpint (nn_finetune_freeze (loaded->graph, "avgpool", &err), >, 0);
  config.batch = 12;
  config.epochs = 1;
  FirstLoss first = { 0 };
  g_assert_true (nn_train (loaded, ds, NULL, &config, on_step, &first, NULL, &err));
  g_assert_cmpint (first.steps, ==, 1);
  g_assert_cmpfloat (fabs ((double) first.first_loss - res.loss), <, 1e-5 * res.loss);

  /* A fresh network of the same architecture starts elsewhere. */
  NnModel *fresh = make_arch ("resnet18", 3, 16, 3);
  NnEvalResult fresh_res;
  g_assert_true (nn_evaluate (fresh, ds, 12, &fresh_res, NULL, &err));
  g_assert_cmpfloat (fabs (fresh_res.loss - res.loss), >, 1e-3);
  nn_eval_result_clear (&fresh_res);
  nn_model_free (fresh);
  nn_eval_result_clear (&res);
  nn_model_free (loaded);
  nn_dataset_free (ds);
  test_util_remove_tree (dir);
}

enum { OC = 4, CLASSES = 5 };

static void
fill (float   *v,
      size_t   n,
      uint64_t seed,
      float    scale)
{
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (size_t i = 0; i < n; i++)
    v[i] = scale * (2.0f * nn_rng_uniform (&rng) - 1.0f);
}

/* An ONNX classifier of 3 x 8 x 8 images as PyTorch exports one: conv1 - bn1 - relu -
 * layer1.conv - layer1.relu - GlobalAveragePool - Flatten - fc (Gemm, transB). */
static void
write_onnx (const char *path)
{
  OnnxBuilder b;
  onnx_builder_init (&b, 13);
  onnx_builder_add_input (&b, "input", 4, (const int64_t[]) { 1, 3, 8, 8 });
  onnx_builder_add_output (&b, "logits", 2, (const int64_t[]) { 1, CLASSES });
  float w1[OC * 3 * 9], w2[OC * OC * 9], bn[4][OC], fc_w[CLASSES * OC], fc_b[CLASSES];
  fill (w1, G_N_ELEMENTS (w1), 1, 0.5f);
  fill (w2, G_N_ELEMENTS (w2), 2, 0.3f);
  for (int k = 0; k < 4; k++)
    fill (bn[k], OC, 3 + (uint64_t) k, 0.2f);
  for (int c = 0; c < OC; c++)
    {
      bn[0][c] += 1.0f;                    /* gamma near 1 */
      bn[3][c] = 0.5f + fabsf (bn[3][c]);  /* variance */
    }
  fill (fc_w, G_N_ELEMENTS (fc_w), 8, 0.5f);
  fill (fc_b, CLASSES, 9, 0.1f);
  onnx_builder_add_init (&b, "conv1.weight", 4, (const int64_t[]) { OC, 3, 3, 3 }, w1,
                         G_N_ELEMENTS (w1));
  onnx_builder_add_init (&b, "layer1.conv.weight", 4, (const int64_t[]) { OC, OC, 3, 3 }, w2,
                         G_N_ELEMENTS (w2));
  const char *bn_names[4] = { "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var" };
  for (int k = 0; k < 4; k++)
    onnx_builder_add_init (&b, bn_names[k], 1, (const int64_t[]) { OC }, bn[k], OC);
  onnx_builder_add_init (&b, "fc.weight", 2, (const int64_t[]) { CLASSES, OC }, fc_w,
                         G_N_ELEMENTS (fc_w));
  onnx_builder_add_init (&b, "fc.bias", 1, (const int64_t[]) { CLASSES }, fc_b, CLASSES);

  const int64_t pads[4] = { 1, 1, 1, 1 }, kernel[2] = { 3, 3 };
  Onnx__NodeProto *n = onnx_builder_add_node (&b, "Conv", "/conv1/Conv",
                                              (const char *[]) { "input", "conv1.weight", NULL },
                                              (const char *[]) { "c1", NULL });
  onnx_builder_attr_ints (&b, n, "pads", pads, 4);
  onnx_builder_attr_ints (&b, n, "kernel_shape", kernel, 2);
  onnx_builder_add_node (&b, "BatchNormalization", "/bn1/BatchNormalization",
                         (const char *[]) { "c1", "bn1.weight", "bn1.bias", "bn1.running_mean",
                                            "bn1.running_var", NULL },
                         (const char *[]) { "b1", NULL });
  onnx_builder_add_node (&b, "Relu", "/relu/Relu", (const char *[]) { "b1", NULL },
                         (const char *[]) { "r1", NULL });
  n = onnx_builder_add_node (&b, "Conv", "/layer1/conv/Conv",
                             (const char *[]) { "r1", "layer1.conv.weight", NULL },
                             (const char *[]) { "c2", NULL });
  onnx_builder_attr_ints (&b, n, "pads", pads, 4);
  onnx_builder_attr_ints (&b, n, "kernel_shape", kernel, 2);
  onnx_builder_add_node (&b, "Relu", "/layer1/relu/Relu", (const char *[]) { "c2", NULL },
                         (const char *[]) { "r2", NULL });
  onnx_builder_add_node (&b, "GlobalAveragePool", "/avgpool/GlobalAveragePool",
                         (const char *[]) { "r2", NULL }, (const char *[]) { "pooled", NULL });
  n = onnx_builder_add_node (&b, "Flatten", "/Flatten", (const char *[]) { "pooled", NULL },
                             (const char *[]) { "flat", NULL });
  onnx_builder_attr_int (&b, n, "axis", 1);
  n = onnx_builder_add_node (&b, "Gemm", "/fc/Gemm",
                             (const char *[]) { "flat", "fc.weight", "fc.bias", NULL },
                             (const char *[]) { "logits", NULL });
  onnx_builder_attr_int (&b, n, "transB", 1);
  gsize size;
  g_autofree guint8 *data = onnx_builder_pack (&b, &size);
  test_util_write_file (path, data, size);
  onnx_builder_clear (&b);
}

static void
test_onnx (void)
{
  g_autofree char *dir = test_util_make_tmp_dir ();
  g_autofree char *onnx = g_build_filename (dir, "m.onnx", NULL);
  g_autofree char *out = g_build_filename (dir, "tuned.safetensors", NULL);
  write_onnx (onnx);
  NnError err = { 0 };
  NnModel *model = nn_model_load (onnx, &err);
  if (model == NULL)
    g_error ("%s", err.message);
  g_assert_cmpint (model->n_classes, ==, CLASSES);
  NnModel *imported = nn_model_dup (model);

  g_assert_true (nn_finetune_resize_input (model, 12, 12, &err));
  g_assert_true (nn_finetune_new_head (model, 3, 5, &err));
  g_assert_cmpint (model->n_classes, ==, 3);
  g_assert_cmpint (nn_finetune_freeze (model->graph, "bn1", &err), ==, 2);
  NnDataset *ds = make_bands (12, 3, 12, 3, 6);
  NnTrainConfig config;
  nn_train_config_init (&config);
  config.epochs = 3;
  config.batch = 4;
  config.lr = 0.02f;
  g_assert_true (nn_train (model, ds, NULL, &config, NULL, NULL, NULL, &err));

  /* conv1 and bn1 (with its running statistics) as imported; layer1.conv and fc trained. */
  const char *same[] = { "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                         "bn1.running_var" };
  for (size_t k = 0; k < G_N_ELEMENTS (same); k++)
    {
      const NnGraph *g = model->graph, *i = imported->graph;
      int p = -1, q = -1;
      for (int j = 0; j < g->n_params; j++)
        p = strcmp (g->params[j].name, same[k]) == 0 ? j : p;
      for (int j = 0; j < i->n_params; j++)
        q = strcmp (i->params[j].name, same[k]) == 0 ? j : q;
      g_assert_cmpint (p, >=, 0);
      g_assert_cmpint (q, >=, 0);
      g_assert_cmpint (memcmp (nn_graph_param_data (g, p), nn_graph_param_data (i, q),
                               sizeof (float) * g->params[p].count), ==, 0);
    }
  int conv2 = nn_graph_find (model->graph, "layer1.conv");
  g_assert_cmpint (memcmp (nn_graph_param_data (model->graph, model->graph->nodes[conv2].params[0]),
                           nn_graph_param_data (imported->graph,
                                                imported->graph->nodes[conv2].params[0]),
                           sizeof (float) * OC * OC * 9), !=, 0);

  g_assert_true (nn_model_save (model, out, &err));
  NnModel *reloaded = nn_model_load (out, &err);
  g_assert_nonnull (reloaded);
  g_assert_cmpint (nn_model_input_height (reloaded), ==, 12);
  g_assert_cmpint (reloaded->n_classes, ==, 3);
  g_autofree float *a = logits_of (model, ds);
  g_autofree float *b = logits_of (reloaded, ds);
  g_assert_cmpint (memcmp (a, b, sizeof (float) * 12 * 3), ==, 0);
  NnEvalResult ra, rb;
  g_assert_true (nn_evaluate (model, ds, 5, &ra, NULL, &err));
  g_assert_true (nn_evaluate (reloaded, ds, 5, &rb, NULL, &err));
  g_assert_cmpint (memcmp (ra.confusion, rb.confusion, sizeof (int) * 9), ==, 0);
  g_assert_cmpfloat (ra.loss, ==, rb.loss);
  nn_eval_result_clear (&ra);
  nn_eval_result_clear (&rb);

  nn_model_free (reloaded);
  nn_dataset_free (ds);
  nn_model_free (imported);
  nn_model_free (model);
  test_util_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/finetune/resize-input", test_resize_input);
  g_test_add_func ("/nn/finetune/new-head", test_new_head);
  g_test_add_func ("/nn/finetune/freeze", test_freeze);
  g_test_add_func ("/nn/finetune/continue", test_continue);
  g_test_add_func ("/nn/finetune/onnx", test_onnx);
  return g_test_run ();
}
