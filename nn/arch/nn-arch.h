/* SPDX-License-Identifier: MIT */
/* Built-in architectures, built by code for any input size and width. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "graph/nn-graph.h"

/* The filter bank of the pre-defined filter modules (PFNet); ablations users ask for. */
typedef enum
{
  NN_PFM_BANK_FULL,           /* the 16 edge and line filters */
  NN_PFM_BANK_EDGES,          /* the 8 edge filters, each used twice */
  NN_PFM_BANK_LINES,          /* the 8 line filters, each used twice */
  NN_PFM_BANK_RANDOM_FROZEN,  /* random zero-mean L1-normalized kernels, frozen */
  NN_PFM_BANK_TRAINABLE,      /* the full bank as initial values, trained */
} NnPfmBank;

typedef struct
{
  const char *name;       /* see nn_arch_names () */
  int         in_c, in_h, in_w;
  int         n_classes;
  float       width;      /* channel multiplier, 1 = published widths */
  NnPfmBank   bank;       /* PFNet only */
  int         pfm_size;   /* PFNet only: how many kernels of the bank the modules use, 0 for the
                             bank's own size (16; 8 for edges and lines); see
                             nn_pfm_bank_subset () */
  int         last_stride; /* ResNet only: stride of layer4, 2 (also when 0) or 1; 1 keeps
                              layer3's resolution, for class activation maps twice as fine */
  uint64_t    seed;       /* initialisation */
} NnArchSpec;

/* NULL-terminated list: smallcnn, resnet18, resnet34, vgg11, vgg16, vgg19, vgg11_bn,
 * vgg16_bn, vgg19_bn, pfnet18, fpnet (cnnscope's FP-blocks), fpnet18 (the FP-net authors'
 * layout). */
const char *const *nn_arch_names (void);
/* Builds and initialises the network; NULL with err for unknown names or sizes too small. */
NnGraph *nn_arch_build (const NnArchSpec *spec,
                        NnError          *err);

/* The 16 PFM kernels, 3x3 row-major, row 0 at the top, in the order -U0, +U0, -U45, +U45,
 * -U90, +U90, -U135, +U135, -E0, +E0, ..., +E135 (docs/architecture.md, "PFNet"). y grows downwards, as
 * in the published PFNet code: +U0 is positive in the right column, +U90 in the bottom row. */
void        nn_pfm_bank_kernels (float kernels[16][9]);
const char *nn_pfm_kernel_name (int index);

/* The text form of a bank ("full", "edges", "lines", "random-frozen", "trainable"), used on
 * the command line and in model files. */
const char *nn_pfm_bank_name (NnPfmBank bank);
bool        nn_pfm_bank_parse (const char *text,
                               NnPfmBank  *bank,
                               NnError    *err);
/* The kernels a bank of `size` kernels uses, as indices into the 16 of nn_pfm_bank_kernels
 * (for random-frozen: into its 16 random kernels, paired the same way); channel j of a
 * pre-defined conv uses kernel index[j mod n]. Returns n, or 0 with err when the bank has no
 * subset of that size (docs/pfnet.md lists them). size 0 is the bank's own size. */
int         nn_pfm_bank_subset (NnPfmBank bank,
                                int       size,
                                int       index[16],
                                NnError  *err);
/* The name of kernel `index` (as nn_pfm_bank_subset gives, 0..15) in bank: the names of
 * nn_pfm_kernel_name for full, edges, lines and trainable (there: the kernel it started as),
 * "-R0" "+R0" ... "-R7" "+R7" for the random pairs of random-frozen. */
const char *nn_pfm_bank_kernel_name (NnPfmBank bank,
                                     int       index);
/* The bank and size (nn_pfm_bank_subset's n) of a PFNet's model-file options (NnModel
 * arch_options, "pfm_bank=edges pfm_size=4"). Options without pfm_bank (files saved before
 * the banks could be chosen, ONNX imports) give the full bank of 16, which is what those
 * networks use; a missing pfm_size gives the bank's own size. False with err (NN_ERROR_FORMAT)
 * for an unknown bank or a size the bank has no subset of. */
bool        nn_pfm_bank_from_options (const char *options,
                                      NnPfmBank  *bank,
                                      int        *size,
                                      NnError    *err);
/* The builder options of spec beyond its name and sizes, as text for a model file ("pfm_bank=
 * edges pfm_size=8"; "" when there are none). */
void        nn_arch_spec_format_options (const NnArchSpec *spec,
                                         char             *buf,
                                         size_t            size);
