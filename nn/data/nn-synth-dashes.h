/* SPDX-License-Identifier: MIT */
/* Oriented dashes (docs/explain.md): square images of horizontal and vertical 5-px dashes,
 * labelled by the majority orientation, and a hand-set two-filter model that solves the task
 * exactly, so its explanations are known. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "io/nn-model.h"
#include "core/nn-rng.h"

#define NN_DASHES_LENGTH   5
#define NN_DASHES_SIZE     48   /* the default image side */
#define NN_DASHES_MIN_SIZE 12

/* Class 0 is "horizontal", class 1 "vertical". */
typedef enum
{
  NN_DASHES_HORIZONTAL,
  NN_DASHES_VERTICAL,
} NnDashesClass;

typedef struct
{
  int label;          /* the majority orientation (NnDashesClass) */
  int n_horizontal;
  int n_vertical;     /* never equal to n_horizontal */
} NnDashesInfo;

/* Draws one image into image (size x size): dashes 1, background 0. Between 3 and 9 dashes
 * (fewer for small sizes) of 1 x 5 px, none touching another (not even diagonally).
 * `orientation` (size x size) receives per pixel 0 (background), 1 (pixel of a horizontal
 * dash) or 2 (vertical). */
void     nn_synth_dashes_draw (float        *image,
                               uint8_t      *orientation,
                               int           size,
                               NnRng        *rng,
                               NnDashesInfo *info);

/* The hand-set model for size x size inputs: conv "detect" (two 5 x 5 filters, a row and a
 * column of ones, bias -4) -> ReLU "detect_relu" (1 exactly at the centre of each dash of the
 * filter's orientation, 0 elsewhere) -> global average pool -> linear "classify" (weight
 * size^2 on the diagonal): logits are the two dash counts. Input normalization mean 0, std 1.
 * NULL when size < NN_DASHES_MIN_SIZE or out of memory. */
NnModel *nn_synth_dashes_model_new (int size);

/* Writes `count` seeded images as dir/horizontal/NNNNN.png and dir/vertical/NNNNN.png (8-bit
 * gray, the folder layout nn_dataset_load_folder reads) and dir/labels.csv
 * (file,label,n_horizontal,n_vertical). Creates dir and its class folders. */
bool     nn_synth_dashes_write (const char *dir,
                                int         count,
                                uint64_t    seed,
                                int         size,
                                NnError    *err);
