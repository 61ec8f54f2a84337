/* SPDX-License-Identifier: MIT */
/* NnInput: an opened input file, built once for a model and shared by everything that shows or
 * explains it (reference-counted, immutable, safe to hand to other threads): the tensor the
 * model reads, the image overlays are drawn on, and for a CT slice its Hounsfield units. */
#pragma once

#include <stdbool.h>

#include "core/nn-error.h"
#include "io/nn-ct.h"
#include "io/nn-model.h"

/* Read-only fields; the buffers belong to the input. */
typedef struct
{
  const char  *path;              /* the file it was read from */
  int          image_h, image_w;  /* the file's own size */
  int          c, h, w;           /* the model's input; the file's own without a model */
  const float *tensor;            /* (c, h, w), normalized: what the model reads; NULL without
                                     a model */
  const float *display;           /* (c, h, w) in [0, 1]: what overlays are drawn on; NULL for
                                     a .npy array of other than 1 or 3 channels, or without a
                                     model */
  const float *hu;                /* (h, w): a CT slice's Hounsfield units, else NULL */
  NnCtWindow   window;            /* the window `display` shows `hu` through */
} NnInput;

/* Reads path and builds it for model (NULL: none yet; see nn_input_rebuild).
 * - DICOM, PNG and JPEG are recognised by content (nn_ct_load): a DICOM file or a 16-bit gray
 *   PNG is a CT slice in HU, which the model reads through its own window (or, without one,
 *   through `window` when given, else as a 16-bit PNG stores it: (HU + 1024) / 65535). The
 *   tensor is nn_model_preprocess of the image.
 * - A .npy file is an already normalized (C, H, W) or (1, C, H, W) float32 array of the
 *   model's input shape; its display image is the tensor un-normalized (clamped to [0, 1]).
 * `window` (may be NULL) is also the display window; without it a CT slice is shown through
 * the model's window, or the lung window. Errors name the file. */
NnInput *nn_input_load (const char       *path,
                        const NnModel    *model,
                        const NnCtWindow *window,
                        NnError          *err);
/* The same for an image already in memory (a CT slice in HU, image->hu, or a picture in [0, 1]),
 * e.g. a slice of a volume: image is copied; name stands for the path in messages and in
 * `path` (e.g. "scan.nii.gz, slice 12"). */
NnInput *nn_input_new_image (const char       *name,
                             const NnImage    *image,
                             const NnModel    *model,
                             const NnCtWindow *window,
                             NnError          *err);
/* The same file, with the same window, built for another model (NULL: none) without reading
 * it again. Errors name the file. */
NnInput *nn_input_rebuild (const NnInput *input,
                           const NnModel *model,
                           NnError       *err);

/* Atomic reference counting: any thread may ref and unref. unref accepts NULL. */
NnInput *nn_input_ref (NnInput *input);
void     nn_input_unref (NnInput *input);

/* The display image for another window into out (c, h, w): the HU plane through window in
 * every channel for a CT slice, a copy of `display` for anything else (which must then have
 * one). */
void     nn_input_render (const NnInput    *input,
                          const NnCtWindow *window,
                          float            *out);
