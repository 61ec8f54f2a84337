/* SPDX-License-Identifier: MIT */
/* Ground-truth masks for the pointing game and the energy share: where the mask of an input is
 * found (a/b.png or a/b.dcm: a/b.mask.png, as `cnnscope-cli synth ct` writes it) and how it is
 * read (fitted to the model's input like the image, inside where at least half). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/nn-error.h"
#include "io/nn-image.h"

/* A fitted mask value at or above this is inside. */
#define NN_MASK_THRESHOLD 0.5f

/* The mask path of an input path: its extension (if any) replaced by ".mask.png". NULL when
 * out of memory. */
char    *nn_mask_path_new (const char *input_path);
/* Whether path names a mask by that rule (it ends in ".mask.png", any case). */
bool     nn_mask_path_is_mask (const char *path);
/* The mask path of input_path when a regular file is there, else NULL (also when out of
 * memory). */
char    *nn_mask_find (const char *input_path);

/* The lesion mask volume beside a volume file, as `cnnscope-cli synth ct --volumes` writes it:
 * for a/b.nii.gz or a/b.nii, a/b.mask.nii.gz, else a/b.mask.nii, when a regular file is
 * there; else NULL (also for other names, a folder, a path that is itself a mask, or out of
 * memory). */
char    *nn_mask_volume_find (const char *volume_path);

/* The mask image (gray or RGB, in [0, 1]) as an (h, w) plane of 0 and 1: converted to gray,
 * fitted to h x w like an input image (central crop, resize), 1 where >= NN_MASK_THRESHOLD.
 * *lit (may be NULL) gets the number of 1s; an empty mask is not an error here. NULL with err
 * when out of memory. */
uint8_t *nn_mask_from_image (const NnImage *image,
                             int            h,
                             int            w,
                             size_t        *lit,
                             NnError       *err);
/* nn_mask_from_image of the PNG or JPEG at path; errors name the file. */
uint8_t *nn_mask_load (const char *path,
                       int         h,
                       int         w,
                       size_t     *lit,
                       NnError    *err);
