/* SPDX-License-Identifier: MIT */
/* Shared by the architecture builders: a graph under construction that turns every size that
 * does not fit (empty maps, too large maps or too many parameters) into an NnError
 * (nn-arch-builder.c), and the families nn-arch.c calls (nn-arch-{resnet,vgg,pfnet,fpnet}.c),
 * which call the builder. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "arch/nn-arch.h"
#include "graph/nn-graph.h"
#include "core/nn-rng.h"

/* Per-sample floats of one node's output, and floats of all parameters together: checked
 * before each node is added, so that nn_graph_add_* (which aborts) never sees a size it
 * rejects or an allocation that is bound to fail. */
#define NN_ARCH_ACT_MAX      ((size_t) 1 << 24)
#define NN_ARCH_PARAM_MAX    ((size_t) 1 << 29)
/* Channels of one node (a flattened vector counts its values as channels), the graph's bound. */
#define NN_ARCH_CHANNELS_MAX (1 << 20)

/* Once `failed` is set (err filled), every further call returns -1 and adds nothing, so a
 * builder can run to its end and check once. Node names are `prefix` + the given name. */
typedef struct
{
  NnGraph    *graph;
  NnError    *err;
  const char *arch;
  bool        failed;
  char        prefix[NN_NAME_MAX];
  char        name[NN_NAME_MAX];
} NnArchBuilder;

/* Sets the prefix (printf format), e.g. "layer1.0."; "" for none. */
void nn_arch_builder_set_prefix (NnArchBuilder *b,
                                 const char    *format,
                                 ...) __attribute__ ((format (printf, 2, 3)));

int  nn_arch_builder_input (NnArchBuilder *b,
                            int            c,
                            int            h,
                            int            w);
/* Square kernel k, stride, symmetric zero padding, no dilation. */
int  nn_arch_builder_conv2d (NnArchBuilder *b,
                             const char    *name,
                             int            input,
                             int            out_channels,
                             int            k,
                             int            stride,
                             int            pad,
                             int            groups,
                             bool           bias);
int  nn_arch_builder_linear (NnArchBuilder *b,
                             const char    *name,
                             int            input,
                             int            out_features);
int  nn_arch_builder_batchnorm (NnArchBuilder *b,
                                const char    *name,
                                int            input);
/* Instance norm, with or without its affine parameters; the map must have at least two
 * pixels. */
int  nn_arch_builder_instancenorm (NnArchBuilder *b,
                                   const char    *name,
                                   int            input,
                                   bool           affine);
int  nn_arch_builder_relu (NnArchBuilder *b,
                           const char    *name,
                           int            input);
int  nn_arch_builder_maxpool (NnArchBuilder *b,
                              const char    *name,
                              int            input,
                              int            k,
                              int            stride,
                              int            pad);
/* The average over the window's pixels inside the map (padding not counted). */
int  nn_arch_builder_avgpool (NnArchBuilder *b,
                              const char    *name,
                              int            input,
                              int            k,
                              int            stride,
                              int            pad);
/* x and y stacked along the channels. */
int  nn_arch_builder_concat (NnArchBuilder *b,
                             const char    *name,
                             int            x,
                             int            y);
/* Per-channel x * weight + bias, frozen at weight 0 and bias 0: zeros of x's shape without a
 * trained parameter (a parameter-free shortcut's added channels). */
int  nn_arch_builder_zeros (NnArchBuilder *b,
                            const char    *name,
                            int            x);
int  nn_arch_builder_global_avgpool (NnArchBuilder *b,
                                     const char    *name,
                                     int            input);
int  nn_arch_builder_add (NnArchBuilder *b,
                          const char    *name,
                          int            x,
                          int            y);
int  nn_arch_builder_mul (NnArchBuilder *b,
                          const char    *name,
                          int            x,
                          int            y);
int  nn_arch_builder_flatten (NnArchBuilder *b,
                              const char    *name,
                              int            input);
int  nn_arch_builder_dropout (NnArchBuilder *b,
                              const char    *name,
                              int            input,
                              float          p);

/* Per-sample output shape of a node. */
NnShape nn_arch_builder_shape (const NnArchBuilder *b,
                               int                  node);
/* round (base * width), at least 1: the channel count of a layer at a width multiplier. */
int     nn_arch_channels (int   base,
                          float width);

/* The families. Each adds the nodes after the input, then initialises the parameters with
 * rng; false when b failed. */
bool nn_arch_resnet_build (NnArchBuilder    *b,
                           const NnArchSpec *spec,
                           int               depth,
                           NnRng            *rng);
bool nn_arch_vgg_build (NnArchBuilder    *b,
                        const NnArchSpec *spec,
                        int               depth,
                        bool              batchnorm,
                        NnRng            *rng);
bool nn_arch_pfnet_build (NnArchBuilder    *b,
                          const NnArchSpec *spec,
                          NnRng            *rng);
bool nn_arch_fpnet_build (NnArchBuilder    *b,
                          const NnArchSpec *spec,
                          NnRng            *rng);
bool nn_arch_fpnet18_build (NnArchBuilder    *b,
                            const NnArchSpec *spec,
                            NnRng            *rng);
/* ResNet's BasicBlock (nn-arch-resnet.c) under the current prefix. */
int  nn_arch_resnet_basic_block (NnArchBuilder *b,
                                 int            x,
                                 int            channels,
                                 int            stride);
