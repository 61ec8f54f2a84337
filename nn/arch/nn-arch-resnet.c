/* SPDX-License-Identifier: MIT */
/* ResNet-18/34 with torchvision's node names, so that parameter names equal the keys of
 * torchvision's state_dict (without num_batches_tracked). */
#include "arch/nn-arch-private.h"

/* BasicBlock: conv1 (3x3, stride) - bn1 - relu1 - conv2 (3x3) - bn2, plus the shortcut
 * (downsample.0 = 1x1 conv with the stride, downsample.1 = BN, when the shape changes), then
 * add and relu2. torchvision applies one ReLU module twice ("relu"); a graph needs two nodes. */
int
nn_arch_resnet_basic_block (NnArchBuilder *b,
                            int            x,
                            int            channels,
                            int            stride)
{
  int in_c = b->failed ? 0 : nn_arch_builder_shape (b, x).c;
  int y = nn_arch_builder_conv2d (b, "conv1", x, channels, 3, stride, 1, 1, false);
  y = nn_arch_builder_batchnorm (b, "bn1", y);
  y = nn_arch_builder_relu (b, "relu1", y);
  y = nn_arch_builder_conv2d (b, "conv2", y, channels, 3, 1, 1, 1, false);
  y = nn_arch_builder_batchnorm (b, "bn2", y);
  int shortcut = x;
  if (stride != 1 || in_c != channels)
    {
      shortcut = nn_arch_builder_conv2d (b, "downsample.0", x, channels, 1, stride, 0, 1, false);
      shortcut = nn_arch_builder_batchnorm (b, "downsample.1", shortcut);
    }
  y = nn_arch_builder_add (b, "add", y, shortcut);
  return nn_arch_builder_relu (b, "relu2", y);
}

/* Inputs of at least 64x64 get torchvision's stem (7x7 stride 2 conv, 3x3 stride 2 max pool);
 * smaller ones the CIFAR stem (3x3 stride 1 conv, no pool), so 28 px maps end at 4x4. With
 * last_stride 1, layer4 keeps layer3's resolution (96 px: 6x6 instead of 3x3). */
bool
nn_arch_resnet_build (NnArchBuilder    *b,
                      const NnArchSpec *spec,
                      int               depth,
                      NnRng            *rng)
{
  static const int blocks18[4] = { 2, 2, 2, 2 };
  static const int blocks34[4] = { 3, 4, 6, 3 };
  NN_ASSERT (depth == 18 || depth == 34);
  const int *blocks = depth == 18 ? blocks18 : blocks34;
  bool big = spec->in_h >= 64 && spec->in_w >= 64;

  int x = 0;
  int stem_c = nn_arch_channels (64, spec->width);
  if (big)
    x = nn_arch_builder_conv2d (b, "conv1", x, stem_c, 7, 2, 3, 1, false);
  else
    x = nn_arch_builder_conv2d (b, "conv1", x, stem_c, 3, 1, 1, 1, false);
  x = nn_arch_builder_batchnorm (b, "bn1", x);
  x = nn_arch_builder_relu (b, "relu", x);
  if (big)
    x = nn_arch_builder_maxpool (b, "maxpool", x, 3, 2, 1);

  for (int stage = 0; stage < 4; stage++)
    {
      int channels = nn_arch_channels (64 << stage, spec->width);
      for (int i = 0; i < blocks[stage]; i++)
        {
          nn_arch_builder_set_prefix (b, "layer%d.%d.", stage + 1, i);
          int stride = stage == 0 || i > 0 ? 1 : stage == 3 && spec->last_stride == 1 ? 1 : 2;
          x = nn_arch_resnet_basic_block (b, x, channels, stride);
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
