/* SPDX-License-Identifier: MIT */
/* FP-nets: networks with feature-product blocks, where two depthwise filters see the same
 * expanded features and their rectified outputs are multiplied. `fpnet` is cnnscope's own small
 * stack of them; `fpnet18` the authors' layout, a ResNet-18 whose first block of every stage is
 * an FP-block (docs/fpnet.md says how the two blocks differ). */
#include "arch/nn-arch-private.h"

#define EXPANSION 2
#define N_STAGES  3
#define N_BLOCKS  2

/* conv1 (1x1 expansion to EXPANSION * in_c) - bn1 - relu1, then two depthwise 3x3 branches
 * conv_a - norm_a - relu_a and conv_b - norm_b - relu_b (affine instance norm, both with the
 * block's stride) multiplied in `mul`, then conv2 (1x1 projection) - bn2 - relu2, plus the
 * shortcut (identity, or downsample.0 = 1x1 conv with the stride and downsample.1 = BN when the
 * shape changes), summed in `add`. */
static int
fp_block (NnArchBuilder *b,
          int            x,
          int            out_c,
          int            stride)
{
  if (b->failed)
    return -1;
  int in_c = nn_arch_builder_shape (b, x).c;
  int mid = EXPANSION * in_c;
  int e = nn_arch_builder_conv2d (b, "conv1", x, mid, 1, 1, 0, 1, false);
  e = nn_arch_builder_batchnorm (b, "bn1", e);
  e = nn_arch_builder_relu (b, "relu1", e);
  int u = nn_arch_builder_conv2d (b, "conv_a", e, mid, 3, stride, 1, mid, false);
  u = nn_arch_builder_instancenorm (b, "norm_a", u, true);
  u = nn_arch_builder_relu (b, "relu_a", u);
  int v = nn_arch_builder_conv2d (b, "conv_b", e, mid, 3, stride, 1, mid, false);
  v = nn_arch_builder_instancenorm (b, "norm_b", v, true);
  v = nn_arch_builder_relu (b, "relu_b", v);
  int y = nn_arch_builder_mul (b, "mul", u, v);
  y = nn_arch_builder_conv2d (b, "conv2", y, out_c, 1, 1, 0, 1, false);
  y = nn_arch_builder_batchnorm (b, "bn2", y);
  y = nn_arch_builder_relu (b, "relu2", y);
  int shortcut = x;
  if (stride != 1 || in_c != out_c)
    {
      shortcut = nn_arch_builder_conv2d (b, "downsample.0", x, out_c, 1, stride, 0, 1, false);
      shortcut = nn_arch_builder_batchnorm (b, "downsample.1", shortcut);
    }
  return nn_arch_builder_add (b, "add", y, shortcut);
}

/* Stem conv1 (3x3, 32 channels) - bn1 - relu; inputs of at least 64x64 get stride 2 and a 3x3
 * stride 2 max pool as in ResNet, so a 224 px input reaches the blocks at 56x56. Then three
 * stages of two blocks (64, 128, 256 channels; strides 1, 2, 2), global average pool and fc. */
bool
nn_arch_fpnet_build (NnArchBuilder    *b,
                     const NnArchSpec *spec,
                     NnRng            *rng)
{
  bool big = spec->in_h >= 64 && spec->in_w >= 64;
  int x = nn_arch_builder_conv2d (b, "conv1", 0, nn_arch_channels (32, spec->width), 3,
                                  big ? 2 : 1, 1, 1, false);
  x = nn_arch_builder_batchnorm (b, "bn1", x);
  x = nn_arch_builder_relu (b, "relu", x);
  if (big)
    x = nn_arch_builder_maxpool (b, "maxpool", x, 3, 2, 1);
  for (int stage = 0; stage < N_STAGES; stage++)
    {
      int channels = nn_arch_channels (64 << stage, spec->width);
      for (int i = 0; i < N_BLOCKS; i++)
        {
          nn_arch_builder_set_prefix (b, "layer%d.%d.", stage + 1, i);
          x = fp_block (b, x, channels, stage > 0 && i == 0 ? 2 : 1);
        }
    }
  nn_arch_builder_set_prefix (b, "%s", "");
  x = nn_arch_builder_global_avgpool (b, "avgpool", x);
  x = nn_arch_builder_flatten (b, "flatten", x);
  nn_arch_builder_linear (b, "fc", x, spec->n_classes);
  if (b->failed)
    return false;
  nn_graph_init_params (b->graph, rng);
  return true;
}

/* The expansion factor q of the authors' FP-block: the expanded width is q * out. */
#define AUTHORS_Q 2

/* The authors' FP-block: conv1 (1x1 expansion to q * out) - bn1 - relu1, two depthwise 3x3
 * branches conv_a - norm_a - relu_a and conv_b - norm_b - relu_b with the stride and a
 * non-affine instance norm, multiplied in `mul`, then conv2 (1x1 projection to out) - bn2, plus
 * a parameter-free shortcut, `add` and relu2. The shortcut is the identity when the shape stays;
 * otherwise downsample.pool (3x3 average pool, stride 2, padding 1 and not counted: the size of
 * the strided depthwise convs' output, also for odd maps) when the block strides, and, when the
 * block doubles the channels, the pooled input stacked with zero channels (downsample.zeros, a
 * frozen scale by 0, and downsample.concat). */
static int
authors_block (NnArchBuilder *b,
               int            x,
               int            out_c,
               int            stride)
{
  if (b->failed)
    return -1;
  int in_c = nn_arch_builder_shape (b, x).c;
  NN_ASSERT (out_c == in_c || out_c == 2 * in_c);
  int mid = AUTHORS_Q * out_c;
  int e = nn_arch_builder_conv2d (b, "conv1", x, mid, 1, 1, 0, 1, false);
  e = nn_arch_builder_batchnorm (b, "bn1", e);
  e = nn_arch_builder_relu (b, "relu1", e);
  int u = nn_arch_builder_conv2d (b, "conv_a", e, mid, 3, stride, 1, mid, false);
  u = nn_arch_builder_instancenorm (b, "norm_a", u, false);
  u = nn_arch_builder_relu (b, "relu_a", u);
  int v = nn_arch_builder_conv2d (b, "conv_b", e, mid, 3, stride, 1, mid, false);
  v = nn_arch_builder_instancenorm (b, "norm_b", v, false);
  v = nn_arch_builder_relu (b, "relu_b", v);
  int y = nn_arch_builder_mul (b, "mul", u, v);
  y = nn_arch_builder_conv2d (b, "conv2", y, out_c, 1, 1, 0, 1, false);
  y = nn_arch_builder_batchnorm (b, "bn2", y);
  int shortcut = x;
  if (stride != 1)
    shortcut = nn_arch_builder_avgpool (b, "downsample.pool", shortcut, 3, 2, 1);
  if (out_c != in_c)
    {
      int zeros = nn_arch_builder_zeros (b, "downsample.zeros", shortcut);
      shortcut = nn_arch_builder_concat (b, "downsample.concat", shortcut, zeros);
    }
  y = nn_arch_builder_add (b, "add", y, shortcut);
  return nn_arch_builder_relu (b, "relu2", y);
}

/* ResNet-18's stem and stages (nn-arch-resnet.c) with the first block of each stage an
 * authors' FP-block and the second a BasicBlock. The stage widths are the stem's times 1, 2,
 * 4, 8, so that a stage exactly doubles its input's channels. */
bool
nn_arch_fpnet18_build (NnArchBuilder    *b,
                       const NnArchSpec *spec,
                       NnRng            *rng)
{
  bool big = spec->in_h >= 64 && spec->in_w >= 64;
  int stem_c = nn_arch_channels (64, spec->width);
  int x = big ? nn_arch_builder_conv2d (b, "conv1", 0, stem_c, 7, 2, 3, 1, false)
              : nn_arch_builder_conv2d (b, "conv1", 0, stem_c, 3, 1, 1, 1, false);
  x = nn_arch_builder_batchnorm (b, "bn1", x);
  x = nn_arch_builder_relu (b, "relu", x);
  if (big)
    x = nn_arch_builder_maxpool (b, "maxpool", x, 3, 2, 1);
  for (int stage = 0; stage < 4; stage++)
    {
      int channels = stem_c << stage;
      nn_arch_builder_set_prefix (b, "layer%d.0.", stage + 1);
      x = authors_block (b, x, channels, stage > 0 ? 2 : 1);
      nn_arch_builder_set_prefix (b, "layer%d.1.", stage + 1);
      x = nn_arch_resnet_basic_block (b, x, channels, 1);
    }
  nn_arch_builder_set_prefix (b, "%s", "");
  x = nn_arch_builder_global_avgpool (b, "avgpool", x);
  x = nn_arch_builder_flatten (b, "flatten", x);
  nn_arch_builder_linear (b, "fc", x, spec->n_classes);
  if (b->failed)
    return false;
  nn_graph_init_params (b->graph, rng);
  return true;
}
