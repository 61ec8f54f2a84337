/* SPDX-License-Identifier: MIT */
/* Labelled image sets in memory: Fashion-MNIST (IDX, gzip), image folders root/<class>/<image>,
 * and seeded per-class subsets. Pixels are stored raw in [0, 1]; normalization belongs to the
 * model. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "io/nn-ct.h"
#include "core/nn-error.h"

#define NN_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

typedef struct
{
  int    n, c, h, w;
  float *images;       /* n*c*h*w */
  int   *labels;       /* n, each in [0, n_classes) */
  int    n_classes;
  char **class_names;  /* n_classes strings */
  bool   ct16;         /* every image came from a 16-bit gray PNG, a CT slice in HU + 1024:
                        * pixels are (HU + 1024) / 65535 until nn_dataset_apply_ct_window */
} NnDataset;

NnDataset *nn_dataset_new (int n,
                           int c,
                           int h,
                           int w,
                           int n_classes);
void       nn_dataset_free (NnDataset *ds);
void       nn_dataset_set_class_name (NnDataset  *ds,
                                      int         k,
                                      const char *name);

/* IDX files (optionally gzip-compressed): images idx3 uint8, labels idx1 uint8. */
NnDataset *nn_dataset_load_idx (const char *images_path,
                                const char *labels_path,
                                NnError    *err);
/* Fashion-MNIST's train or test split from `dir` (NULL: NN_FASHION_MNIST_DIR). */
NnDataset *nn_dataset_load_fashion_mnist (const char *dir,
                                          bool        train,
                                          NnError    *err);
/* root/<class>/<name>.{png,jpg,jpeg}; classes sorted by name; files named *.mask.png (lesion
 * masks) and *.lung.png (windowed views), as `cnnscope-cli synth ct` writes beside each slice,
 * are not samples; every image converted to c
 * channels and fitted to h x w (c, h, w <= 0: taken from the first image). */
NnDataset *nn_dataset_load_folder (const char *root,
                                   int         c,
                                   int         h,
                                   int         w,
                                   NnError    *err);
/* "fashion-mnist" or a folder; a folder with train/ and test/ inside gives those splits,
 * otherwise the whole folder is both. */
NnDataset *nn_dataset_open (const char *spec,
                            bool        train,
                            int         c,
                            int         h,
                            int         w,
                            NnError    *err);
/* Maps the pixels of a ct16 dataset through a CT window to [0, 1] and clears ct16. */
void       nn_dataset_apply_ct_window (NnDataset        *ds,
                                       const NnCtWindow *window);
/* A seeded subset with at most `per_class` samples of each class. */
NnDataset *nn_dataset_subset_per_class (const NnDataset *ds,
                                        int              per_class,
                                        uint64_t         seed);
/* `n` samples of ds drawn at random (seeded; the first n of a shuffled order), kept in their
 * order in ds; index (n entries, may be NULL) receives each one's place in ds. NULL when out
 * of memory. Needs 1 <= n <= ds->n. */
NnDataset *nn_dataset_sample (const NnDataset *ds,
                              int              n,
                              uint64_t         seed,
                              int             *index);
/* Per-channel mean and standard deviation of all pixels (c floats each). */
void       nn_dataset_mean_std (const NnDataset *ds,
                                float           *mean,
                                float           *std);
