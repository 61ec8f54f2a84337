/* SPDX-License-Identifier: MIT */
/* Built-in architectures: the list, spec validation and the small CNN. The families live in
 * nn-arch-{resnet,vgg,pfnet,fpnet}.c, the checked builder they all use in nn-arch-builder.c. */
#include "arch/nn-arch.h"

#include <string.h>

#include "arch/nn-arch-private.h"

typedef enum
{
  ARCH_SMALLCNN,
  ARCH_RESNET,
  ARCH_VGG,
  ARCH_PFNET,
  ARCH_FPNET,
  ARCH_FPNET18,
} ArchFamily;

typedef struct
{
  const char *name;
  ArchFamily  family;
  int         depth;
  bool        batchnorm;  /* VGG only */
  int         min_size;   /* smallest in_h and in_w accepted */
} ArchInfo;

/* Minimum sizes: the small CNN needs 4 px for its two 2x2 pools; the others need 8 px so that
 * each of their three stride-2 stages halves a map of at least 2x2 (ResNet, PFNet and FP-net at
 * small sizes; VGG from 8 px keeps three of its pools). fpnet18 needs 16 px: the instance norms
 * of its fourth stage need a map of at least 2x2. */
static const ArchInfo archs[] = {
  { "smallcnn", ARCH_SMALLCNN, 0, false, 4 },
  { "resnet18", ARCH_RESNET, 18, false, 8 },
  { "resnet34", ARCH_RESNET, 34, false, 8 },
  { "vgg11", ARCH_VGG, 11, false, 8 },
  { "vgg16", ARCH_VGG, 16, false, 8 },
  { "vgg19", ARCH_VGG, 19, false, 8 },
  { "vgg11_bn", ARCH_VGG, 11, true, 8 },
  { "vgg16_bn", ARCH_VGG, 16, true, 8 },
  { "vgg19_bn", ARCH_VGG, 19, true, 8 },
  { "pfnet18", ARCH_PFNET, 18, false, 8 },
  { "fpnet", ARCH_FPNET, 0, false, 8 },
  { "fpnet18", ARCH_FPNET18, 18, false, 16 },
};

#define N_ARCHS ((int) (sizeof archs / sizeof archs[0]))

static const char *const arch_names[] = {
  "smallcnn", "resnet18", "resnet34", "vgg11", "vgg16", "vgg19", "vgg11_bn", "vgg16_bn",
  "vgg19_bn", "pfnet18", "fpnet", "fpnet18", NULL,
};
_Static_assert (sizeof arch_names / sizeof arch_names[0] == N_ARCHS + 1,
                "arch_names needs the name of every row of archs, then NULL");

#define IN_C_MAX      1024
#define IN_SIZE_MAX   16384
#define CLASSES_MAX   (1 << 20)
#define WIDTH_MIN     (1.0f / 64.0f)
#define WIDTH_MAX     16.0f

const char *const *
nn_arch_names (void)
{
  return arch_names;
}

/* The small CNN for 28x28 inputs: conv 3x3 (32) - pool - conv 3x3 (64) - pool - fc 128 - fc;
 * 421,642 parameters at width 1, one input channel and 10 classes. */
static bool
smallcnn_build (NnArchBuilder    *b,
                const NnArchSpec *spec,
                NnRng            *rng)
{
  int x = 0;
  x = nn_arch_builder_conv2d (b, "conv1", x, nn_arch_channels (32, spec->width), 3, 1, 1, 1,
                              true);
  x = nn_arch_builder_relu (b, "relu1", x);
  x = nn_arch_builder_maxpool (b, "pool1", x, 2, 2, 0);
  x = nn_arch_builder_conv2d (b, "conv2", x, nn_arch_channels (64, spec->width), 3, 1, 1, 1,
                              true);
  x = nn_arch_builder_relu (b, "relu2", x);
  x = nn_arch_builder_maxpool (b, "pool2", x, 2, 2, 0);
  x = nn_arch_builder_flatten (b, "flatten", x);
  x = nn_arch_builder_linear (b, "fc1", x, nn_arch_channels (128, spec->width));
  x = nn_arch_builder_relu (b, "relu3", x);
  nn_arch_builder_linear (b, "fc2", x, spec->n_classes);
  if (b->failed)
    return false;
  nn_graph_init_params (b->graph, rng);
  return true;
}

static const ArchInfo *
arch_lookup (const char *name)
{
  for (int i = 0; i < N_ARCHS; i++)
    if (strcmp (archs[i].name, name) == 0)
      return &archs[i];
  return NULL;
}

static bool
spec_check (const NnArchSpec *spec,
            const ArchInfo   *info,
            NnError          *err)
{
  const char *name = info->name;
  if (spec->in_c < 1 || spec->in_c > IN_C_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "%s: %d input channels, expected 1 to %d", name,
                         spec->in_c, IN_C_MAX);
  if (spec->in_h < info->min_size || spec->in_w < info->min_size)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "%s: the input %dx%d is too small (at least %dx%d)", name, spec->in_w,
                         spec->in_h, info->min_size, info->min_size);
  if (spec->in_h > IN_SIZE_MAX || spec->in_w > IN_SIZE_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "%s: the input %dx%d is too large (at most %dx%d)",
                         name, spec->in_w, spec->in_h, IN_SIZE_MAX, IN_SIZE_MAX);
  if (spec->n_classes < 1 || spec->n_classes > CLASSES_MAX)
    return nn_error_set (err, NN_ERROR_SPEC, "%s: %d classes, expected 1 to %d", name,
                         spec->n_classes, CLASSES_MAX);
  if (!(spec->width >= WIDTH_MIN && spec->width <= WIDTH_MAX))
    return nn_error_set (err, NN_ERROR_SPEC, "%s: width %g out of range [%g, %g]", name,
                         (double) spec->width, (double) WIDTH_MIN, (double) WIDTH_MAX);
  if (spec->last_stride != 0 && (info->family != ARCH_RESNET
                                 || (spec->last_stride != 1 && spec->last_stride != 2)))
    return nn_error_set (err, NN_ERROR_SPEC, "%s: last stride %d (only ResNets take one, 1 or "
                         "2)", name, spec->last_stride);
  if ((int) spec->bank < NN_PFM_BANK_FULL || (int) spec->bank > NN_PFM_BANK_TRAINABLE)
    return nn_error_set (err, NN_ERROR_SPEC, "%s: unknown filter bank %d", name,
                         (int) spec->bank);
  if (info->family != ARCH_PFNET && (spec->bank != NN_PFM_BANK_FULL || spec->pfm_size != 0))
    return nn_error_set (err, NN_ERROR_SPEC, "%s: a filter bank and its size are options of "
                         "pfnet18 only", name);
  int index[16];
  if (info->family == ARCH_PFNET && nn_pfm_bank_subset (spec->bank, spec->pfm_size, index,
                                                        err) == 0)
    {
      nn_error_prefix (err, "%s", name);
      return false;
    }
  return true;
}

NnGraph *
nn_arch_build (const NnArchSpec *spec,
               NnError          *err)
{
  NN_ASSERT (spec != NULL);
  if (spec->name == NULL)
    return nn_error_set (err, NN_ERROR_SPEC, "no architecture name given"), NULL;
  const ArchInfo *info = arch_lookup (spec->name);
  if (info == NULL)
    return nn_error_set (err, NN_ERROR_SPEC,
                         "unknown architecture '%s' (expected smallcnn, resnet18, resnet34, "
                         "vgg11, vgg16, vgg19, vgg11_bn, vgg16_bn, vgg19_bn, pfnet18, fpnet or "
                         "fpnet18)",
                         spec->name), NULL;
  if (!spec_check (spec, info, err))
    return NULL;

  NnArchBuilder b = { .graph = nn_graph_new (), .err = err, .arch = info->name };
  if (b.graph == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", info->name), NULL;
  NnRng rng;
  nn_rng_init (&rng, spec->seed);
  nn_arch_builder_input (&b, spec->in_c, spec->in_h, spec->in_w);
  bool ok = !b.failed;
  if (ok)
    switch (info->family)
      {
      case ARCH_SMALLCNN:
        ok = smallcnn_build (&b, spec, &rng);
        break;
      case ARCH_RESNET:
        ok = nn_arch_resnet_build (&b, spec, info->depth, &rng);
        break;
      case ARCH_VGG:
        ok = nn_arch_vgg_build (&b, spec, info->depth, info->batchnorm, &rng);
        break;
      case ARCH_PFNET:
        ok = nn_arch_pfnet_build (&b, spec, &rng);
        break;
      case ARCH_FPNET:
        ok = nn_arch_fpnet_build (&b, spec, &rng);
        break;
      case ARCH_FPNET18:
        ok = nn_arch_fpnet18_build (&b, spec, &rng);
        break;
      }
  if (!ok)
    {
      nn_graph_free (b.graph);
      return NULL;
    }
  return b.graph;
}
