/* SPDX-License-Identifier: MIT */
/* VGG-11/16/19, with and without batch norm, with torchvision's node names (features.N,
 * classifier.N) so that parameter names equal the keys of torchvision's state_dict. */
#include "arch/nn-arch-private.h"

#include <stdio.h>

#define POOL 0
#define END  (-1)

/* torchvision's configurations A, D and E: conv widths, POOL for a 2x2 max pool. */
static const int cfg11[] = { 64, POOL, 128, POOL, 256, 256, POOL, 512, 512, POOL, 512, 512, POOL,
                             END };
static const int cfg16[] = { 64, 64, POOL, 128, 128, POOL, 256, 256, 256, POOL, 512, 512, 512,
                             POOL, 512, 512, 512, POOL, END };
static const int cfg19[] = { 64, 64, POOL, 128, 128, POOL, 256, 256, 256, 256, POOL, 512, 512,
                             512, 512, POOL, 512, 512, 512, 512, POOL, END };

/* features: torchvision's layers and indices. A pool that would take the map below 1x1 (inputs
 * under 32 px) is left out, but its index is still counted so that the later names stay
 * torchvision's. classifier: at a 7x7 feature map (224 to 255 px inputs) torchvision's head
 * 512*7*7 -> 4096 -> 4096 -> classes, where the adaptive 7x7 pool is the identity and is left
 * out; any other size gets a global average pool ("avgpool") and the smaller head
 * 512 -> 512 -> classes. Hidden widths scale with the width multiplier. */
bool
nn_arch_vgg_build (NnArchBuilder    *b,
                   const NnArchSpec *spec,
                   int               depth,
                   bool              batchnorm,
                   NnRng            *rng)
{
  const int *cfg = depth == 11 ? cfg11 : depth == 16 ? cfg16 : cfg19;
  NN_ASSERT (depth == 11 || depth == 16 || depth == 19);
  char name[32];
  int index = 0;
  int x = 0;

  for (int i = 0; cfg[i] != END; i++)
    {
      if (cfg[i] == POOL)
        {
          NnShape s = b->failed ? nn_shape_chw (0, 0, 0) : nn_arch_builder_shape (b, x);
          snprintf (name, sizeof name, "features.%d", index++);
          if (s.h >= 2 && s.w >= 2)
            x = nn_arch_builder_maxpool (b, name, x, 2, 2, 0);
          continue;
        }
      snprintf (name, sizeof name, "features.%d", index++);
      x = nn_arch_builder_conv2d (b, name, x, nn_arch_channels (cfg[i], spec->width), 3, 1, 1, 1,
                                  true);
      if (batchnorm)
        {
          snprintf (name, sizeof name, "features.%d", index++);
          x = nn_arch_builder_batchnorm (b, name, x);
        }
      snprintf (name, sizeof name, "features.%d", index++);
      x = nn_arch_builder_relu (b, name, x);
    }

  if (b->failed)
    return false;
  NnShape s = nn_arch_builder_shape (b, x);
  int hidden;
  if (s.h == 7 && s.w == 7)
    hidden = nn_arch_channels (4096, spec->width);
  else
    {
      x = nn_arch_builder_global_avgpool (b, "avgpool", x);
      hidden = nn_arch_channels (512, spec->width);
    }
  x = nn_arch_builder_flatten (b, "flatten", x);
  x = nn_arch_builder_linear (b, "classifier.0", x, hidden);
  x = nn_arch_builder_relu (b, "classifier.1", x);
  x = nn_arch_builder_dropout (b, "classifier.2", x, 0.5f);
  x = nn_arch_builder_linear (b, "classifier.3", x, hidden);
  x = nn_arch_builder_relu (b, "classifier.4", x);
  x = nn_arch_builder_dropout (b, "classifier.5", x, 0.5f);
  nn_arch_builder_linear (b, "classifier.6", x, spec->n_classes);
  if (b->failed)
    return false;
  nn_graph_init_params (b->graph, rng);
  return true;
}
