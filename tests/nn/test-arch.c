/* SPDX-License-Identifier: MIT */
/* Built-in architectures: the PFM filter bank against its closed forms and a naive twin,
 * torchvision's parameter names, shapes and counts, PFNet's frozen bank and parameter count,
 * every architecture built and run at small sizes, and errors for specs that do not fit. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"

static NnGraph *
build (const char *name,
       int         c,
       int         h,
       int         w,
       int         classes,
       float       width,
       NnPfmBank   bank,
       uint64_t    seed)
{
  NnArchSpec spec = {
    .name = name, .in_c = c, .in_h = h, .in_w = w, .n_classes = classes, .width = width,
    .bank = bank, .seed = seed,
  };
  NnError err = { 0 };
  NnGraph *graph = nn_arch_build (&spec, &err);
  if (graph == NULL)
    g_error ("%s %dx%dx%d: %s", name, c, h, w, err.message);
  return graph;
}

static const NnNode *
node (const NnGraph *graph,
      const char    *name)
{
  int i = nn_graph_find (graph, name);
  if (i < 0)
    g_error ("no node '%s'", name);
  return &graph->nodes[i];
}

static const NnParam *
weight_of (const NnGraph *graph,
           const char    *name)
{
  int p = nn_graph_node_param (graph, nn_graph_find (graph, name), NN_PARAM_WEIGHT);
  g_assert_cmpint (p, >=, 0);
  return &graph->params[p];
}

static void
assert_shape (const NnGraph *graph,
              const char    *name,
              int            c,
              int            h,
              int            w)
{
  NnShape s = node (graph, name)->shape;
  if (s.c != c || s.h != h || s.w != w)
    g_error ("'%s' is %dx%dx%d, expected %dx%dx%d", name, s.c, s.h, s.w, c, h, w);
}

/* FNV-1a over "name d0xd1x...\n" for every parameter, the format of a dump of torchvision's
 * state_dict (num_batches_tracked left out): equal hashes mean equal names, order and shapes. */
static uint64_t
param_hash (const NnGraph *graph)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (int i = 0; i < graph->n_params; i++)
    {
      const NnParam *p = &graph->params[i];
      GString *line = g_string_new (p->name);
      for (int d = 0; d < p->ndim; d++)
        g_string_append_printf (line, d == 0 ? " %d" : "x%d", p->dims[d]);
      g_string_append_c (line, '\n');
      for (gsize k = 0; k < line->len; k++)
        {
          h ^= (unsigned char) line->str[k];
          h *= 0x100000001b3ull;
        }
      g_string_free (line, TRUE);
    }
  return h;
}

/* The bank straight from its definition's wording (docs/architecture.md, "PFNet"), in double:
 * atan2, the absolute angle difference taken into [0, 180] degrees, c = r cos(difference), the
 * edge negated beyond 90 degrees; y grows downwards (row 0 at the top). */
static void
naive_bank (double bank[16][9])
{
  for (int a = 0; a < 4; a++)
    {
      double phi = 45.0 * a;
      double edge[9], line[9];
      for (int row = 0; row < 3; row++)
        for (int col = 0; col < 3; col++)
          {
            double x = col - 1, y = row - 1;
            double r = sqrt (x * x + y * y);
            double d = fabs (phi - atan2 (y, x) * 180.0 / G_PI);
            if (d > 180.0)
              d = 360.0 - d;
            double c = r * cos (d * G_PI / 180.0);
            double e = 1.0 - exp (-0.5 * (c / 0.9) * (c / 0.9));
            edge[row * 3 + col] = d > 90.0 ? -e : e;
            line[row * 3 + col] = 2.0 * exp (-0.5 * (c / 0.45) * (c / 0.45));
          }
      double *k[2] = { edge, line };
      for (int t = 0; t < 2; t++)
        {
          double mean = 0.0, l1 = 0.0;
          for (int i = 0; i < 9; i++)
            mean += k[t][i] / 9.0;
          for (int i = 0; i < 9; i++)
            l1 += fabs (k[t][i] - mean);
          for (int i = 0; i < 9; i++)
            {
              bank[8 * t + 2 * a][i] = -(k[t][i] - mean) / l1;
              bank[8 * t + 2 * a + 1][i] = (k[t][i] - mean) / l1;
            }
        }
    }
}

static void
test_bank_closed_form (void)
{
  float k[16][9];
  nn_pfm_bank_kernels (k);
  /* +U0: columns -1/6, 0, +1/6. */
  for (int row = 0; row < 3; row++)
    {
      g_assert_cmpfloat_with_epsilon (k[1][row * 3 + 0], -1.0 / 6.0, 1e-7);
      g_assert_cmpfloat (k[1][row * 3 + 1], ==, 0.0f);
      g_assert_cmpfloat_with_epsilon (k[1][row * 3 + 2], 1.0 / 6.0, 1e-7);
    }
  /* +E0: +1/6 in the centre column, -1/12 elsewhere. */
  for (int row = 0; row < 3; row++)
    for (int col = 0; col < 3; col++)
      g_assert_cmpfloat_with_epsilon (k[9][row * 3 + col], col == 1 ? 1.0 / 6.0 : -1.0 / 12.0,
                                      1e-7);
  for (int j = 0; j < 16; j++)
    {
      double sum = 0.0, l1 = 0.0;
      for (int i = 0; i < 9; i++)
        {
          sum += k[j][i];
          l1 += fabs (k[j][i]);
        }
      g_assert_cmpfloat_with_epsilon (sum, 0.0, 1e-6);
      g_assert_cmpfloat_with_epsilon (l1, 1.0, 1e-6);
      if (j % 2 == 0)
        for (int i = 0; i < 9; i++)
          g_assert_cmpfloat (k[j][i], ==, -k[j + 1][i]);
    }
  /* Orientation: y grows downwards, so angles turn clockwise on screen. +U90 is positive in the
   * bottom row, +U45 at the bottom-right corner, +U135 at the bottom-left corner; the kernel at
   * phi + 90 is the one at phi turned 90 degrees clockwise: K'[r][c] = K[2 - c][r]. */
  g_assert_cmpfloat (k[5][7], >, 0.0f);
  g_assert_cmpfloat (k[5][1], <, 0.0f);
  g_assert_cmpfloat (k[5][3], ==, 0.0f);
  g_assert_cmpfloat (k[3][8], >, 0.0f);
  g_assert_cmpfloat (k[3][0], <, 0.0f);
  g_assert_cmpfloat (k[3][2], ==, 0.0f);
  g_assert_cmpfloat (k[7][6], >, 0.0f);
  g_assert_cmpfloat (k[7][2], <, 0.0f);
  static const int rotations[4][2] = { { 1, 5 }, { 3, 7 }, { 9, 13 }, { 11, 15 } };
  for (int p = 0; p < 4; p++)
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 3; c++)
        g_assert_cmpfloat_with_epsilon (k[rotations[p][1]][r * 3 + c],
                                        k[rotations[p][0]][(2 - c) * 3 + r], 1e-7);
  /* +E45 is symmetric under transposition, +U45 odd under the point reflection. */
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      {
        g_assert_cmpfloat_with_epsilon (k[11][r * 3 + c], k[11][c * 3 + r], 1e-7);
        g_assert_cmpfloat_with_epsilon (k[3][r * 3 + c], -k[3][(2 - r) * 3 + (2 - c)], 1e-7);
      }
}

static void
test_bank_naive_twin (void)
{
  float k[16][9];
  double ref[16][9];
  nn_pfm_bank_kernels (k);
  naive_bank (ref);
  for (int j = 0; j < 16; j++)
    for (int i = 0; i < 9; i++)
      g_assert_cmpfloat_with_epsilon (k[j][i], ref[j][i], 1e-6);
}

static void
test_bank_names (void)
{
  static const char *const expected[16] = {
    "-U0", "+U0", "-U45", "+U45", "-U90", "+U90", "-U135", "+U135",
    "-E0", "+E0", "-E45", "+E45", "-E90", "+E90", "-E135", "+E135",
  };
  for (int j = 0; j < 16; j++)
    g_assert_cmpstr (nn_pfm_kernel_name (j), ==, expected[j]);
}

static void
test_names_list (void)
{
  static const char *const expected[] = {
    "smallcnn", "resnet18", "resnet34", "vgg11", "vgg16", "vgg19", "vgg11_bn", "vgg16_bn",
    "vgg19_bn", "pfnet18", "fpnet", "fpnet18", NULL,
  };
  const char *const *names = nn_arch_names ();
  for (int i = 0; expected[i] != NULL; i++)
    g_assert_cmpstr (names[i], ==, expected[i]);
  g_assert_null (names[G_N_ELEMENTS (expected) - 1]);
}

static void
test_smallcnn (void)
{
  NnGraph *g = build ("smallcnn", 1, 28, 28, 10, 1.0f, NN_PFM_BANK_FULL, 1);
  static const char *const names[] = {
    "input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3",
    "fc2",
  };
  g_assert_cmpint (g->n_nodes, ==, G_N_ELEMENTS (names));
  for (int i = 0; i < g->n_nodes; i++)
    g_assert_cmpstr (g->nodes[i].name, ==, names[i]);
  assert_shape (g, "conv1", 32, 28, 28);
  assert_shape (g, "pool1", 32, 14, 14);
  assert_shape (g, "conv2", 64, 14, 14);
  assert_shape (g, "pool2", 64, 7, 7);
  assert_shape (g, "flatten", 3136, 1, 1);
  assert_shape (g, "fc1", 128, 1, 1);
  assert_shape (g, "fc2", 10, 1, 1);
  g_assert_cmpint (node (g, "conv1")->attrs.conv.pad_t, ==, 1);
  g_assert_true (node (g, "conv1")->attrs.conv.bias);
  /* 320 + 18,496 + 401,536 + 1,290 */
  g_assert_cmpuint (nn_graph_count_trainable (g), ==, 421642);
  nn_graph_free (g);
}

static void
check_torchvision (const char *name,
                   size_t      count,
                   int         n_params,
                   uint64_t    hash)
{
  NnGraph *g = build (name, 3, 224, 224, 1000, 1.0f, NN_PFM_BANK_FULL, 1);
  g_assert_cmpuint (nn_graph_count_trainable (g), ==, count);
  g_assert_cmpint (g->n_params, ==, n_params);
  g_assert_cmpuint (param_hash (g), ==, hash);
  NnShape out = g->nodes[nn_graph_output (g)].shape;
  g_assert_cmpint (out.c, ==, 1000);
  g_assert_cmpint (out.h * out.w, ==, 1);
  for (int i = 0; i < g->n_params; i++)
    g_assert_true (g->params[i].trainable
                   == (g->params[i].role == NN_PARAM_WEIGHT
                       || g->params[i].role == NN_PARAM_BIAS));
  nn_graph_free (g);
}

static void
test_resnet18 (void)
{
  check_torchvision ("resnet18", 11689512, 102, 0x5c74aed51d44bfe2ull);
  NnGraph *g = build ("resnet18", 3, 224, 224, 1000, 1.0f, NN_PFM_BANK_FULL, 1);
  assert_shape (g, "conv1", 64, 112, 112);
  assert_shape (g, "maxpool", 64, 56, 56);
  assert_shape (g, "layer1.0.relu2", 64, 56, 56);
  assert_shape (g, "layer2.0.downsample.1", 128, 28, 28);
  assert_shape (g, "layer4.1.relu2", 512, 7, 7);
  const NnNode *add = node (g, "layer3.0.add");
  g_assert_cmpint (add->n_inputs, ==, 2);
  g_assert_cmpstr (g->nodes[add->inputs[0]].name, ==, "layer3.0.bn2");
  g_assert_cmpstr (g->nodes[add->inputs[1]].name, ==, "layer3.0.downsample.1");
  add = node (g, "layer3.1.add");
  g_assert_cmpstr (g->nodes[add->inputs[1]].name, ==, "layer3.0.relu2");
  g_assert_cmpint (node (g, "layer2.0.conv1")->attrs.conv.sh, ==, 2);
  g_assert_cmpint (nn_graph_find (g, "layer1.0.downsample.0"), ==, -1);
  nn_graph_free (g);
}

/* last_stride 1: layer4 keeps layer3's 6x6 at 96 px; its first block still projects the
 * shortcut (channels change), now with stride 1; the parameter count does not change. */
static void
test_resnet_last_stride (void)
{
  NnArchSpec spec = { .name = "resnet18", .in_c = 1, .in_h = 96, .in_w = 96, .n_classes = 3,
                      .width = 0.25f, .seed = 1 };
  NnError err = { 0 };
  NnGraph *plain = nn_arch_build (&spec, &err);
  spec.last_stride = 1;
  NnGraph *fine = nn_arch_build (&spec, &err);
  g_assert_nonnull (plain);
  g_assert_nonnull (fine);
  assert_shape (plain, "layer3.1.relu2", 64, 6, 6);
  assert_shape (plain, "layer4.1.relu2", 128, 3, 3);
  assert_shape (fine, "layer4.1.relu2", 128, 6, 6);
  g_assert_cmpint (node (fine, "layer4.0.conv1")->attrs.conv.sh, ==, 1);
  g_assert_cmpint (node (fine, "layer4.0.downsample.0")->attrs.conv.sh, ==, 1);
  g_assert_cmpint (node (fine, "layer3.0.conv1")->attrs.conv.sh, ==, 2);
  g_assert_cmpuint (fine->n_data, ==, plain->n_data);
  nn_graph_free (plain);
  nn_graph_free (fine);
}

static void
test_resnet34 (void)
{
  check_torchvision ("resnet34", 21797672, 182, 0x63d88a4059e79f26ull);
}

static void
test_vgg (void)
{
  check_torchvision ("vgg11", 132863336, 22, 0xf9c2b3fe02391981ull);
  check_torchvision ("vgg16", 138357544, 32, 0xc3c36606220a7498ull);
  check_torchvision ("vgg11_bn", 132868840, 54, 0x7fbe2ff658c29279ull);
}

/* Small inputs: the CIFAR stem for ResNet, pools left out (with their indices) and the small
 * head for VGG. */
static void
test_small_variants (void)
{
  NnGraph *g = build ("resnet18", 1, 28, 28, 10, 0.25f, NN_PFM_BANK_FULL, 1);
  g_assert_cmpint (node (g, "conv1")->attrs.conv.kh, ==, 3);
  g_assert_cmpint (node (g, "conv1")->attrs.conv.sh, ==, 1);
  g_assert_cmpint (nn_graph_find (g, "maxpool"), ==, -1);
  assert_shape (g, "layer1.0.relu2", 16, 28, 28);
  assert_shape (g, "layer4.1.relu2", 128, 4, 4);
  nn_graph_free (g);

  g = build ("vgg11", 1, 28, 28, 10, 0.25f, NN_PFM_BANK_FULL, 1);
  assert_shape (g, "features.2", 16, 14, 14);
  assert_shape (g, "features.15", 128, 1, 1);
  assert_shape (g, "features.19", 128, 1, 1);
  g_assert_cmpint (nn_graph_find (g, "features.20"), ==, -1);
  g_assert_cmpint (node (g, "features.18")->op, ==, NN_OP_CONV2D);
  assert_shape (g, "avgpool", 128, 1, 1);
  const NnParam *w = weight_of (g, "classifier.0");
  g_assert_cmpint (w->dims[0], ==, 128);
  g_assert_cmpint (w->dims[1], ==, 128);
  assert_shape (g, "classifier.6", 10, 1, 1);
  nn_graph_free (g);

  g = build ("vgg16_bn", 3, 64, 64, 5, 0.25f, NN_PFM_BANK_FULL, 1);
  assert_shape (g, "features.43", 128, 2, 2);
  assert_shape (g, "avgpool", 128, 1, 1);
  nn_graph_free (g);
}

static void
test_pfnet_params (void)
{
  /* Published: 1.46 M for PFNet18 at 224 px on Caltech101 / Flowers102 (102 classes). */
  NnGraph *g = build ("pfnet18", 3, 224, 224, 102, 1.0f, NN_PFM_BANK_FULL, 1);
  size_t n = nn_graph_count_trainable (g);
  g_assert_cmpuint (n, >=, 1455000);
  g_assert_cmpuint (n, <, 1465000);
  g_assert_cmpuint (n, ==, 1464518);
  assert_shape (g, "conv1.predefined", 48, 112, 112);
  assert_shape (g, "maxpool", 64, 56, 56);
  assert_shape (g, "layer4.1.relu2", 512, 7, 7);
  assert_shape (g, "fc", 102, 1, 1);
  nn_graph_free (g);
}

static void
test_pfnet_frozen_bank (void)
{
  float bank[16][9];
  nn_pfm_bank_kernels (bank);
  NnGraph *g = build ("pfnet18", 3, 32, 32, 10, 0.25f, NN_PFM_BANK_FULL, 3);
  int n_predefined = 0;
  size_t frozen = 0, weights = 0;
  for (int i = 0; i < g->n_nodes; i++)
    {
      const NnNode *n = &g->nodes[i];
      if (!g_str_has_suffix (n->name, ".predefined"))
        continue;
      n_predefined++;
      int in_c = g->nodes[n->inputs[0]].shape.c;
      int f = strcmp (n->name, "conv1.predefined") == 0 ? 16 : 1;
      g_assert_cmpint (n->op, ==, NN_OP_CONV2D);
      g_assert_cmpint (n->attrs.conv.groups, ==, in_c);
      g_assert_cmpint (n->attrs.conv.out_channels, ==, in_c * f);
      g_assert_cmpint (n->attrs.conv.kh, ==, 3);
      g_assert_cmpint (n->attrs.conv.pad_t, ==, 1);
      g_assert_false (n->attrs.conv.bias);
      const NnParam *w = weight_of (g, n->name);
      g_assert_false (w->trainable);
      const float *data = g->data + w->offset;
      for (int j = 0; j < n->attrs.conv.out_channels; j++)
        g_assert_cmpmem (data + 9 * j, sizeof bank[0], bank[j % 16], sizeof bank[0]);
    }
  g_assert_cmpint (n_predefined, ==, 17);
  /* Downsampling blocks: the stride on the first PFM's depthwise conv and on the shortcut's
   * 1x1 conv; the shortcut's blur is a frozen 3x3 Gaussian summing to 1. */
  for (int stage = 2; stage <= 4; stage++)
    {
      char name[64];
      g_snprintf (name, sizeof name, "layer%d.0.pfm1.predefined", stage);
      g_assert_cmpint (node (g, name)->attrs.conv.sh, ==, 2);
      g_snprintf (name, sizeof name, "layer%d.0.pfm2.predefined", stage);
      g_assert_cmpint (node (g, name)->attrs.conv.sh, ==, 1);
      g_snprintf (name, sizeof name, "layer%d.0.downsample.1", stage);
      g_assert_cmpint (node (g, name)->attrs.conv.sh, ==, 2);
      g_assert_cmpint (node (g, name)->attrs.conv.kh, ==, 1);
      g_snprintf (name, sizeof name, "layer%d.0.downsample.0", stage);
      const NnNode *blur = node (g, name);
      g_assert_cmpint (blur->attrs.conv.sh, ==, 1);
      g_assert_cmpint (blur->attrs.conv.groups, ==, blur->attrs.conv.out_channels);
      const NnParam *w = weight_of (g, name);
      g_assert_false (w->trainable);
      const float *k = g->data + w->offset;
      double sum = 0.0;
      for (int i = 0; i < 9; i++)
        sum += k[i];
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-6);
      /* exp(-1 / (2 * 0.75^2)) between centre and side, squared for the corner. */
      g_assert_cmpfloat_with_epsilon (k[1] / k[4], exp (-1.0 / 1.125), 1e-6);
      g_assert_cmpfloat_with_epsilon (k[0] / k[4], exp (-2.0 / 1.125), 1e-6);
      g_assert_cmpmem (k, 9 * sizeof (float), k + 9 * (w->dims[0] - 1), 9 * sizeof (float));
    }
  /* Everything else learns; the frozen weights are the only non-trainable weights. */
  for (int i = 0; i < g->n_params; i++)
    {
      const NnParam *p = &g->params[i];
      if (p->role != NN_PARAM_WEIGHT && p->role != NN_PARAM_BIAS)
        continue;
      weights += p->count;
      if (!p->trainable)
        {
          const char *name = g->nodes[p->node].name;
          g_assert_true (g_str_has_suffix (name, ".predefined")
                         || g_str_has_suffix (name, ".downsample.0"));
          frozen += p->count;
        }
    }
  g_assert_cmpuint (nn_graph_count_trainable (g), ==, weights - frozen);
  /* Block wiring: pfm1 - relu1 - pfm2, add with the shortcut, relu2. */
  const NnNode *add = node (g, "layer2.0.add");
  g_assert_cmpstr (g->nodes[add->inputs[0]].name, ==, "layer2.0.pfm2.norm2");
  g_assert_cmpstr (g->nodes[add->inputs[1]].name, ==, "layer2.0.downsample.2");
  g_assert_cmpstr (g->nodes[node (g, "layer2.0.pfm2.predefined")->inputs[0]].name, ==,
                   "layer2.0.relu1");
  g_assert_cmpint (node (g, "layer1.0.pfm1.conv1x1")->attrs.conv.kh, ==, 1);
  g_assert_false (node (g, "layer1.0.pfm1.conv1x1")->attrs.conv.bias);
  nn_graph_free (g);
}

static const float *
first_kernels (const NnGraph *g,
               const char    *name)
{
  return g->data + weight_of (g, name)->offset;
}

static void
test_pfnet_banks (void)
{
  float full[16][9];
  nn_pfm_bank_kernels (full);

  NnGraph *g = build ("pfnet18", 1, 28, 28, 10, 0.25f, NN_PFM_BANK_EDGES, 1);
  const float *k = first_kernels (g, "layer1.0.pfm1.predefined");
  for (int j = 0; j < 16; j++)
    g_assert_cmpmem (k + 9 * j, sizeof full[0], full[j % 8], sizeof full[0]);
  nn_graph_free (g);

  g = build ("pfnet18", 1, 28, 28, 10, 0.25f, NN_PFM_BANK_LINES, 1);
  k = first_kernels (g, "layer1.0.pfm1.predefined");
  for (int j = 0; j < 16; j++)
    g_assert_cmpmem (k + 9 * j, sizeof full[0], full[8 + j % 8], sizeof full[0]);
  nn_graph_free (g);

  NnGraph *t = build ("pfnet18", 1, 28, 28, 10, 0.25f, NN_PFM_BANK_TRAINABLE, 1);
  g = build ("pfnet18", 1, 28, 28, 10, 0.25f, NN_PFM_BANK_FULL, 1);
  const NnParam *w = weight_of (t, "layer3.1.pfm2.predefined");
  g_assert_true (w->trainable);
  k = t->data + w->offset;
  for (int j = 0; j < w->dims[0]; j++)
    g_assert_cmpmem (k + 9 * j, sizeof full[0], full[j % 16], sizeof full[0]);
  g_assert_false (weight_of (t, "layer3.0.downsample.0")->trainable);
  /* Depthwise channels (the input channels of each PFM), 9 weights each: the stem 1 * 16,
   * layer1 4 * 16, layer2 16 + 3 * 32, layer3 32 + 3 * 64, layer4 64 + 3 * 128. */
  g_assert_cmpuint (nn_graph_count_trainable (t) - nn_graph_count_trainable (g), ==,
                    9 * (16 + 64 + 112 + 224 + 448));
  nn_graph_free (t);
  nn_graph_free (g);

  NnGraph *r1 = build ("pfnet18", 1, 28, 28, 10, 0.25f, NN_PFM_BANK_RANDOM_FROZEN, 5);
  NnGraph *r2 = build ("pfnet18", 1, 28, 28, 10, 0.25f, NN_PFM_BANK_RANDOM_FROZEN, 5);
  NnGraph *r3 = build ("pfnet18", 1, 28, 28, 10, 0.25f, NN_PFM_BANK_RANDOM_FROZEN, 6);
  w = weight_of (r1, "layer2.1.pfm1.predefined");
  g_assert_false (w->trainable);
  k = r1->data + w->offset;
  g_assert_cmpmem (k, 16 * 9 * sizeof (float), first_kernels (r2, "layer2.1.pfm1.predefined"),
                   16 * 9 * sizeof (float));
  g_assert_cmpint (memcmp (k, first_kernels (r3, "layer2.1.pfm1.predefined"),
                           16 * 9 * sizeof (float)), !=, 0);
  g_assert_cmpint (memcmp (k, full, sizeof full), !=, 0);
  for (int j = 0; j < 16; j++)
    {
      double sum = 0.0, l1 = 0.0;
      for (int i = 0; i < 9; i++)
        {
          sum += k[9 * j + i];
          l1 += fabs (k[9 * j + i]);
          if (j % 2 == 0)
            g_assert_cmpfloat (k[9 * j + i], ==, -k[9 * (j + 1) + i]);
        }
      g_assert_cmpfloat_with_epsilon (sum, 0.0, 1e-6);
      g_assert_cmpfloat_with_epsilon (l1, 1.0, 1e-6);
    }
  g_assert_cmpmem (k, 16 * 9 * sizeof (float), first_kernels (r1, "conv1.predefined"),
                   16 * 9 * sizeof (float));
  nn_graph_free (r1);
  nn_graph_free (r2);
  nn_graph_free (r3);
}

static NnGraph *
build_bank (NnPfmBank bank,
            int       size)
{
  NnArchSpec spec = {
    .name = "pfnet18", .in_c = 1, .in_h = 16, .in_w = 16, .n_classes = 3, .width = 0.25f,
    .bank = bank, .pfm_size = size, .seed = 2,
  };
  NnError err = { 0 };
  NnGraph *graph = nn_arch_build (&spec, &err);
  if (graph == NULL)
    g_error ("bank %d size %d: %s", (int) bank, size, err.message);
  return graph;
}

/* Model-file options without a bank (files saved before banks could be chosen) are the full
 * bank; a missing size is the bank's own; unknown banks and sizes are errors that quote the
 * options. Random-frozen kernels have their own names. */
static void
test_pfnet_bank_options (void)
{
  NnPfmBank bank = NN_PFM_BANK_LINES;
  int size = -1;
  g_assert_true (nn_pfm_bank_from_options ("", &bank, &size, NULL));
  g_assert_cmpint (bank, ==, NN_PFM_BANK_FULL);
  g_assert_cmpint (size, ==, 16);
  g_assert_true (nn_pfm_bank_from_options ("pfm_bank=edges", &bank, &size, NULL));
  g_assert_cmpint (bank, ==, NN_PFM_BANK_EDGES);
  g_assert_cmpint (size, ==, 8);
  g_assert_true (nn_pfm_bank_from_options ("  pfm_size=4  pfm_bank=random-frozen ", &bank,
                                           &size, NULL));
  g_assert_cmpint (bank, ==, NN_PFM_BANK_RANDOM_FROZEN);
  g_assert_cmpint (size, ==, 4);
  static const char *const bad[][2] = {
    { "pfm_bank=corners pfm_size=8", "unknown filter bank 'corners'" },
    { "pfm_bank=edges pfm_size=9", "has no subset of 9" },
    { "pfm_bank=full pfm_size=x", "bad pfm_size 'x'" },
    { "pfm_bank=full pfm_size=17", "bad pfm_size '17'" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      NnError err = { 0 };
      g_assert_false (nn_pfm_bank_from_options (bad[i][0], &bank, &size, &err));
      g_assert_cmpint (err.code, ==, NN_ERROR_FORMAT);
      g_assert_nonnull (strstr (err.message, bad[i][0]));
      g_assert_nonnull (strstr (err.message, bad[i][1]));
    }
  g_assert_cmpstr (nn_pfm_bank_kernel_name (NN_PFM_BANK_FULL, 5), ==, "+U90");
  g_assert_cmpstr (nn_pfm_bank_kernel_name (NN_PFM_BANK_TRAINABLE, 8), ==, "-E0");
  g_assert_cmpstr (nn_pfm_bank_kernel_name (NN_PFM_BANK_RANDOM_FROZEN, 0), ==, "-R0");
  g_assert_cmpstr (nn_pfm_bank_kernel_name (NN_PFM_BANK_RANDOM_FROZEN, 15), ==, "+R7");
}

/* Every bank at every size gives the kernels docs/pfnet.md lists, by name, in every
 * pre-defined conv (channel j uses kernel j mod n of the list), and frozen unless trainable;
 * the options text names bank and size and reads back. */
static void
test_pfnet_bank_sizes (void)
{
  static const struct
  {
    NnPfmBank   bank;
    int         size;
    const char *kernels;   /* the list, space-separated names */
    const char *options;
  } cases[] = {
    { NN_PFM_BANK_FULL, 0, "-U0 +U0 -U45 +U45 -U90 +U90 -U135 +U135 -E0 +E0 -E45 +E45 -E90 +E90 "
      "-E135 +E135", "pfm_bank=full pfm_size=16" },
    { NN_PFM_BANK_FULL, 8, "+U0 +U45 +U90 +U135 +E0 +E45 +E90 +E135",
      "pfm_bank=full pfm_size=8" },
    { NN_PFM_BANK_FULL, 9, "+U0 +U45 +U90 +U135 +E0 +E45 +E90 +E135 -U0",
      "pfm_bank=full pfm_size=9" },
    { NN_PFM_BANK_FULL, 4, "+U0 +U90 +E0 +E90", "pfm_bank=full pfm_size=4" },
    { NN_PFM_BANK_TRAINABLE, 4, "+U0 +U90 +E0 +E90", "pfm_bank=trainable pfm_size=4" },
    { NN_PFM_BANK_EDGES, 0, "-U0 +U0 -U45 +U45 -U90 +U90 -U135 +U135",
      "pfm_bank=edges pfm_size=8" },
    { NN_PFM_BANK_EDGES, 4, "+U0 +U45 +U90 +U135", "pfm_bank=edges pfm_size=4" },
    { NN_PFM_BANK_LINES, 16, "-E0 +E0 -E45 +E45 -E90 +E90 -E135 +E135 -E0 +E0 -E45 +E45 -E90 "
      "+E90 -E135 +E135", "pfm_bank=lines pfm_size=16" },
    { NN_PFM_BANK_LINES, 4, "+E0 +E45 +E90 +E135", "pfm_bank=lines pfm_size=4" },
  };
  float full[16][9];
  nn_pfm_bank_kernels (full);
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_auto (GStrv) names = g_strsplit (cases[c].kernels, " ", -1);
      int n = (int) g_strv_length (names);
      int expect[16];
      for (int j = 0; j < n; j++)
        {
          expect[j] = -1;
          for (int k = 0; k < 16; k++)
            if (strcmp (nn_pfm_kernel_name (k), names[j]) == 0)
              expect[j] = k;
          g_assert_cmpint (expect[j], >=, 0);
        }
      int index[16];
      g_assert_cmpint (nn_pfm_bank_subset (cases[c].bank, cases[c].size, index, NULL), ==, n);
      g_assert_cmpmem (index, sizeof (int) * (size_t) n, expect, sizeof (int) * (size_t) n);

      NnGraph *g = build_bank (cases[c].bank, cases[c].size);
      int modules = 0;
      for (int i = 0; i < g->n_nodes; i++)
        {
          if (!g_str_has_suffix (g->nodes[i].name, ".predefined"))
            continue;
          modules++;
          const NnParam *w = weight_of (g, g->nodes[i].name);
          g_assert_true (w->trainable == (cases[c].bank == NN_PFM_BANK_TRAINABLE));
          const float *k = g->data + w->offset;
          for (int j = 0; j < w->dims[0]; j++)
            g_assert_cmpmem (k + 9 * j, sizeof full[0], full[expect[j % n]], sizeof full[0]);
        }
      g_assert_cmpint (modules, ==, 17);
      char text[128];
      NnArchSpec spec = { .name = "pfnet18", .bank = cases[c].bank, .pfm_size = cases[c].size };
      nn_arch_spec_format_options (&spec, text, sizeof text);
      g_assert_cmpstr (text, ==, cases[c].options);
      /* The options read back give the bank and its size. */
      NnPfmBank bank;
      int size;
      g_assert_true (nn_pfm_bank_from_options (text, &bank, &size, NULL));
      g_assert_cmpint (bank, ==, cases[c].bank);
      g_assert_cmpint (size, ==, n);
      nn_graph_free (g);
    }

  /* A random-frozen bank of 4 takes the kernels at the same places of its 16 random ones. */
  NnGraph *r16 = build_bank (NN_PFM_BANK_RANDOM_FROZEN, 16);
  NnGraph *r4 = build_bank (NN_PFM_BANK_RANDOM_FROZEN, 4);
  const float *k16 = first_kernels (r16, "layer1.0.pfm1.predefined");
  const float *k4 = first_kernels (r4, "layer1.0.pfm1.predefined");
  const int at[4] = { 1, 5, 9, 13 };
  for (int j = 0; j < 16; j++)
    g_assert_cmpmem (k4 + 9 * j, 9 * sizeof (float), k16 + 9 * at[j % 4], 9 * sizeof (float));
  g_assert_false (weight_of (r4, "layer1.0.pfm1.predefined")->trainable);
  nn_graph_free (r16);
  nn_graph_free (r4);

  /* Sizes a bank has no subset of, and bank options on other architectures. */
  NnArchSpec bad = {
    .name = "pfnet18", .in_c = 1, .in_h = 16, .in_w = 16, .n_classes = 3, .width = 0.25f,
    .bank = NN_PFM_BANK_EDGES, .pfm_size = 9,
  };
  NnError err = { 0 };
  g_assert_null (nn_arch_build (&bad, &err));
  g_assert_nonnull (strstr (err.message, "edges"));
  g_assert_nonnull (strstr (err.message, "9"));
  bad.bank = NN_PFM_BANK_FULL;
  bad.pfm_size = 5;
  g_assert_null (nn_arch_build (&bad, &err));
  g_assert_nonnull (strstr (err.message, "5 kernels"));
  bad.name = "resnet18";
  bad.pfm_size = 0;
  bad.bank = NN_PFM_BANK_EDGES;
  g_assert_null (nn_arch_build (&bad, &err));
  g_assert_nonnull (strstr (err.message, "pfnet18 only"));
  NnPfmBank parsed;
  g_assert_true (nn_pfm_bank_parse ("random-frozen", &parsed, NULL));
  g_assert_cmpint (parsed, ==, NN_PFM_BANK_RANDOM_FROZEN);
  g_assert_cmpstr (nn_pfm_bank_name (parsed), ==, "random-frozen");
  g_assert_false (nn_pfm_bank_parse ("edge", &parsed, &err));
  g_assert_nonnull (strstr (err.message, "edge"));
}

static void
test_fpnet (void)
{
  NnGraph *g = build ("fpnet", 1, 28, 28, 10, 1.0f, NN_PFM_BANK_FULL, 1);
  const NnNode *mul = node (g, "layer2.0.mul");
  g_assert_cmpint (mul->op, ==, NN_OP_MUL);
  g_assert_cmpstr (g->nodes[mul->inputs[0]].name, ==, "layer2.0.relu_a");
  g_assert_cmpstr (g->nodes[mul->inputs[1]].name, ==, "layer2.0.relu_b");
  const char *branches[2] = { "a", "b" };
  for (int i = 0; i < 2; i++)
    {
      char name[64];
      g_snprintf (name, sizeof name, "layer2.0.conv_%s", branches[i]);
      const NnNode *dw = node (g, name);
      g_assert_cmpstr (g->nodes[dw->inputs[0]].name, ==, "layer2.0.relu1");
      g_assert_cmpint (dw->attrs.conv.groups, ==, 128);
      g_assert_cmpint (dw->attrs.conv.out_channels, ==, 128);
      g_assert_cmpint (dw->attrs.conv.kh, ==, 3);
      g_assert_cmpint (dw->attrs.conv.sh, ==, 2);
      g_snprintf (name, sizeof name, "layer2.0.norm_%s", branches[i]);
      g_assert_cmpint (node (g, name)->op, ==, NN_OP_INSTANCENORM);
      g_assert_true (node (g, name)->attrs.norm.affine);
      g_assert_cmpuint (nn_graph_node_param_count (g, nn_graph_find (g, name)), ==, 2 * 128);
    }
  assert_shape (g, "layer1.0.conv1", 64, 28, 28);
  assert_shape (g, "layer2.0.conv2", 128, 14, 14);
  assert_shape (g, "layer3.1.add", 256, 7, 7);
  const NnNode *add = node (g, "layer2.0.add");
  g_assert_cmpstr (g->nodes[add->inputs[0]].name, ==, "layer2.0.relu2");
  g_assert_cmpstr (g->nodes[add->inputs[1]].name, ==, "layer2.0.downsample.1");
  add = node (g, "layer2.1.add");
  g_assert_cmpstr (g->nodes[add->inputs[1]].name, ==, "layer2.0.add");
  assert_shape (g, "fc", 10, 1, 1);
  nn_graph_free (g);
}

/* The authors' FP-net: a ResNet-18 whose first block of each stage is an FP-block with
 * expansion 2 * out, non-affine instance norms and a parameter-free shortcut (2x2 average pool
 * and zero channels), the second a BasicBlock. */
static void
test_fpnet18 (void)
{
  NnGraph *g = build ("fpnet18", 1, 16, 16, 10, 0.25f, NN_PFM_BANK_FULL, 1);
  /* Width 0.25: stem 16, stages 16, 32, 64, 128. */
  const NnNode *e = node (g, "layer2.0.conv1");
  g_assert_cmpint (e->attrs.conv.out_channels, ==, 2 * 32);
  g_assert_cmpint (e->attrs.conv.kh, ==, 1);
  const char *branches[2] = { "a", "b" };
  for (int i = 0; i < 2; i++)
    {
      char name[64];
      g_snprintf (name, sizeof name, "layer3.0.conv_%s", branches[i]);
      const NnNode *dw = node (g, name);
      g_assert_cmpint (dw->attrs.conv.groups, ==, 2 * 64);
      g_assert_cmpint (dw->attrs.conv.sh, ==, 2);
      g_snprintf (name, sizeof name, "layer3.0.norm_%s", branches[i]);
      g_assert_cmpint (node (g, name)->op, ==, NN_OP_INSTANCENORM);
      g_assert_false (node (g, name)->attrs.norm.affine);
      g_assert_cmpuint (nn_graph_node_param_count (g, nn_graph_find (g, name)), ==, 0);
    }
  g_assert_cmpint (node (g, "layer3.0.mul")->op, ==, NN_OP_MUL);
  g_assert_cmpint (node (g, "layer3.1.conv1")->attrs.conv.kh, ==, 3);
  g_assert_cmpint (nn_graph_find (g, "layer3.1.mul"), <, 0);
  /* layer1.0 keeps its shape: the identity. */
  const NnNode *add = node (g, "layer1.0.add");
  g_assert_cmpstr (g->nodes[add->inputs[1]].name, ==, "relu");
  add = node (g, "layer4.0.add");
  g_assert_cmpstr (g->nodes[add->inputs[0]].name, ==, "layer4.0.bn2");
  g_assert_cmpstr (g->nodes[add->inputs[1]].name, ==, "layer4.0.downsample.concat");
  int zeros = nn_graph_find (g, "layer4.0.downsample.zeros");
  g_assert_false (g->params[nn_graph_node_param (g, zeros, NN_PARAM_WEIGHT)].trainable);
  assert_shape (g, "layer4.0.downsample.concat", 128, 2, 2);
  assert_shape (g, "fc", 10, 1, 1);
  /* The trainable parameters of an FP-block: conv1, bn1, two depthwise convs, conv2, bn2. */
  size_t block = 0;
  for (int i = 0; i < g->n_nodes; i++)
    if (g_str_has_prefix (g->nodes[i].name, "layer2.0."))
      for (int p = 0; p < g->n_params; p++)
        if (g->params[p].node == i && g->params[p].trainable)
          block += g->params[p].count;
  g_assert_cmpuint (block, ==, 16 * 64 + 2 * 64 + 2 * 64 * 9 + 64 * 32 + 2 * 32);

  /* The shortcut, run: the first channels the means of the block's input over 3x3 windows
   * with stride 2 and padding 1 (the padding not counted), the rest 0. */
  NnContext *ctx = nn_context_new (g, 1, NN_CONTEXT_NO_FOLD, NULL);
  g_assert_nonnull (ctx);
  NnRng rng;
  nn_rng_init (&rng, 9);
  float *in = nn_context_input (ctx);
  for (int i = 0; i < 16 * 16; i++)
    in[i] = nn_rng_normal (&rng);
  nn_context_forward (ctx, -1);
  const float *x = nn_context_output (ctx, nn_graph_find (g, "layer3.1.relu2"));
  const float *sc = nn_context_output (ctx, nn_graph_find (g, "layer4.0.downsample.concat"));
  for (int c = 0; c < 64; c++)
    for (int y = 0; y < 2; y++)
      for (int xx = 0; xx < 2; xx++)
        {
          float sum = 0.0f;
          int count = 0;
          for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
              {
                int sy = 2 * y + dy, sx = 2 * xx + dx;
                if (sy >= 0 && sy < 4 && sx >= 0 && sx < 4)
                  {
                    sum += x[(c * 4 + sy) * 4 + sx];
                    count++;
                  }
              }
          float mean = sum / (float) count;
          g_assert_cmpfloat_with_epsilon (sc[(c * 2 + y) * 2 + xx], mean, 1e-5);
          g_assert_cmpfloat (sc[((64 + c) * 2 + y) * 2 + xx], ==, 0.0f);
        }
  nn_context_free (ctx);
  nn_graph_free (g);
}

static void
test_all_small (void)
{
  static const int sizes[2][3] = { { 1, 28, 28 }, { 3, 64, 64 } };
  for (const char *const *name = nn_arch_names (); *name != NULL; name++)
    for (int s = 0; s < 2; s++)
      {
        NnGraph *g = build (*name, sizes[s][0], sizes[s][1], sizes[s][2], 7, 0.25f,
                            NN_PFM_BANK_FULL, 1);
        const NnNode *out = &g->nodes[nn_graph_output (g)];
        g_assert_cmpint (out->op, ==, NN_OP_LINEAR);
        g_assert_cmpint (out->shape.c, ==, 7);
        g_assert_cmpint (out->shape.h, ==, 1);
        g_assert_cmpint (out->shape.w, ==, 1);
        g_assert_cmpint (g->nodes[0].shape.c, ==, sizes[s][0]);
        g_assert_cmpuint (nn_graph_count_trainable (g), >, 0);
        nn_graph_free (g);
      }
}

static void
test_deterministic (void)
{
  NnGraph *a = build ("resnet18", 3, 32, 32, 10, 0.25f, NN_PFM_BANK_FULL, 42);
  NnGraph *b = build ("resnet18", 3, 32, 32, 10, 0.25f, NN_PFM_BANK_FULL, 42);
  NnGraph *c = build ("resnet18", 3, 32, 32, 10, 0.25f, NN_PFM_BANK_FULL, 43);
  g_assert_cmpuint (a->n_data, ==, b->n_data);
  g_assert_cmpmem (a->data, a->n_data * sizeof (float), b->data, b->n_data * sizeof (float));
  g_assert_cmpint (memcmp (a->data, c->data, a->n_data * sizeof (float)), !=, 0);
  /* He initialisation of conv1: std sqrt(2 / 27). */
  const NnParam *w = weight_of (a, "conv1");
  double sq = 0.0;
  for (size_t i = 0; i < w->count; i++)
    sq += a->data[w->offset + i] * (double) a->data[w->offset + i];
  g_assert_cmpfloat (sqrt (sq / (double) w->count), >, 0.5 * sqrt (2.0 / 27.0));
  g_assert_cmpfloat (sqrt (sq / (double) w->count), <, 1.5 * sqrt (2.0 / 27.0));
  nn_graph_free (a);
  nn_graph_free (b);
  nn_graph_free (c);
}

/* Every architecture runs: a forward pass at 28x28 in training mode gives finite logits. In
 * PFNet, the stem's pre-defined conv is the correlation (not flipped) of each input channel
 * with kernel j mod 16, zero padded. */
static void
test_forward_small (void)
{
  float bank[16][9];
  nn_pfm_bank_kernels (bank);
  for (const char *const *name = nn_arch_names (); *name != NULL; name++)
    {
      NnGraph *g = build (*name, 1, 28, 28, 5, 0.25f, NN_PFM_BANK_FULL, 1);
      NnError err = { 0 };
      NnContext *ctx = nn_context_new (g, 2, 0, &err);
      g_assert_nonnull (ctx);
      nn_context_set_training (ctx, true);
      float *in = nn_context_input (ctx);
      NnRng rng;
      nn_rng_init (&rng, 7);
      for (int i = 0; i < 2 * 28 * 28; i++)
        in[i] = nn_rng_normal (&rng);
      nn_context_forward (ctx, -1);
      const float *out = nn_context_output (ctx, nn_graph_output (g));
      for (int i = 0; i < 2 * 5; i++)
        g_assert_true (isfinite (out[i]));
      int pre = nn_graph_find (g, "conv1.predefined");
      if (pre >= 0)
        {
          const float *o = nn_context_output (ctx, pre);
          for (int j = 0; j < 16; j++)
            for (int y = 0; y < 28; y++)
              for (int x = 0; x < 28; x++)
                {
                  double sum = 0.0;
                  for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                      if (y + dy >= 0 && y + dy < 28 && x + dx >= 0 && x + dx < 28)
                        sum += (double) bank[j][(dy + 1) * 3 + dx + 1]
                               * in[(y + dy) * 28 + x + dx];
                  g_assert_cmpfloat_with_epsilon (o[(j * 28 + y) * 28 + x], sum, 1e-5);
                }
        }
      nn_context_free (ctx);
      nn_graph_free (g);
    }
}

static void
expect_error (NnArchSpec  spec,
              const char *fragment)
{
  NnError err = { 0 };
  NnGraph *g = nn_arch_build (&spec, &err);
  g_assert_null (g);
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  if (strstr (err.message, fragment) == NULL)
    g_error ("'%s' does not mention '%s'", err.message, fragment);
  /* Without an error to fill, still NULL. */
  g_assert_null (nn_arch_build (&spec, NULL));
}

static void
test_too_small (void)
{
  for (const char *const *name = nn_arch_names (); *name != NULL; name++)
    {
      int min = strcmp (*name, "smallcnn") == 0 ? 4 : strcmp (*name, "fpnet18") == 0 ? 16 : 8;
      NnArchSpec spec = { .name = *name, .in_c = 1, .in_h = min, .in_w = min, .n_classes = 3,
                          .width = 0.25f, .seed = 1 };
      NnGraph *g = nn_arch_build (&spec, NULL);
      g_assert_nonnull (g);
      nn_graph_free (g);
      spec.in_w = min - 1;
      expect_error (spec, "too small");
      spec.in_w = min;
      spec.in_h = 2;
      expect_error (spec, "too small");
    }
}

static void
test_bad_spec (void)
{
  NnArchSpec ok = { .name = "resnet18", .in_c = 3, .in_h = 32, .in_w = 32, .n_classes = 10,
                    .width = 1.0f, .seed = 1 };
  NnArchSpec spec = ok;
  spec.name = "resnet50";
  expect_error (spec, "unknown architecture 'resnet50'");
  spec = ok;
  spec.name = NULL;
  expect_error (spec, "name");
  spec = ok;
  spec.width = 0.0f;
  expect_error (spec, "width");
  spec.width = NAN;
  expect_error (spec, "width");
  spec = ok;
  spec.n_classes = 0;
  expect_error (spec, "classes");
  spec = ok;
  spec.in_c = 0;
  expect_error (spec, "channels");
  spec = ok;
  spec.in_h = 100000;
  expect_error (spec, "too large");
  spec = ok;
  spec.bank = (NnPfmBank) 99;
  expect_error (spec, "bank");
  spec = ok;
  spec.last_stride = 3;
  expect_error (spec, "last stride 3");
  spec = ok;
  spec.name = "vgg11";
  spec.last_stride = 1;
  expect_error (spec, "only ResNets");
  /* 64 x 1024 x 1024 values after the first conv. */
  spec = ok;
  spec.name = "vgg11";
  spec.in_h = spec.in_w = 1024;
  expect_error (spec, "features.0");
  /* 128 * 128 * 128 values to flatten: more than a node's channels may be. */
  spec = ok;
  spec.name = "smallcnn";
  spec.in_c = 1;
  spec.in_h = spec.in_w = 512;
  spec.width = 2.0f;
  expect_error (spec, "'flatten' would have 2097152 channels");
  /* fc1 would need 256 * 64 * 64 * 512 weights, more than the parameter budget. */
  spec.in_h = spec.in_w = 256;
  spec.width = 4.0f;
  expect_error (spec, "parameters at 'fc1'");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/arch/bank/closed-form", test_bank_closed_form);
  g_test_add_func ("/nn/arch/pfnet-bank-sizes", test_pfnet_bank_sizes);
  g_test_add_func ("/nn/arch/pfnet-bank-options", test_pfnet_bank_options);
  g_test_add_func ("/nn/arch/bank/naive-twin", test_bank_naive_twin);
  g_test_add_func ("/nn/arch/bank/names", test_bank_names);
  g_test_add_func ("/nn/arch/names", test_names_list);
  g_test_add_func ("/nn/arch/smallcnn", test_smallcnn);
  g_test_add_func ("/nn/arch/resnet18-torchvision", test_resnet18);
  g_test_add_func ("/nn/arch/resnet18-last-stride", test_resnet_last_stride);
  g_test_add_func ("/nn/arch/resnet34-torchvision", test_resnet34);
  g_test_add_func ("/nn/arch/vgg-torchvision", test_vgg);
  g_test_add_func ("/nn/arch/small-variants", test_small_variants);
  g_test_add_func ("/nn/arch/pfnet/params", test_pfnet_params);
  g_test_add_func ("/nn/arch/pfnet/frozen-bank", test_pfnet_frozen_bank);
  g_test_add_func ("/nn/arch/pfnet/banks", test_pfnet_banks);
  g_test_add_func ("/nn/arch/fpnet", test_fpnet);
  g_test_add_func ("/nn/arch/all-small", test_all_small);
  g_test_add_func ("/nn/arch/fpnet18", test_fpnet18);
  g_test_add_func ("/nn/arch/deterministic", test_deterministic);
  g_test_add_func ("/nn/arch/forward-small", test_forward_small);
  g_test_add_func ("/nn/arch/too-small", test_too_small);
  g_test_add_func ("/nn/arch/bad-spec", test_bad_spec);
  return g_test_run ();
}
