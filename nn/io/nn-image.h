/* SPDX-License-Identifier: MIT */
/* Images in memory as float CHW planes, and PNG (libpng) / JPEG (libjpeg-turbo) files.
 * The format is recognised by its magic bytes, never by the file name. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/nn-error.h"

typedef struct
{
  int    c, h, w;     /* 1 (gray) or 3 (RGB); an alpha channel is dropped on load */
  int    bit_depth;   /* of the file it came from: 8 or 16 */
  float *data;        /* c*h*w values in [0, 1] (sample / (2^bit_depth - 1)), or HU */
  bool   hu;          /* a CT slice: data holds Hounsfield units, not [0, 1] (nn-ct.h) */
} NnImage;

/* Limits that keep a hostile header from allocating gigabytes. */
#define NN_IMAGE_MAX_SIDE   16384
#define NN_IMAGE_MAX_PIXELS (64u * 1024u * 1024u)

NnImage *nn_image_new (int c,
                       int h,
                       int w);
void     nn_image_free (NnImage *image);
NnImage *nn_image_dup (const NnImage *image);

/* Loads a PNG or JPEG; errors name the file and what is wrong with it. */
NnImage *nn_image_load (const char *path,
                        NnError    *err);
NnImage *nn_image_load_memory (const unsigned char *bytes,
                               size_t               size,
                               const char          *name,
                               NnError             *err);

/* Writes a PNG of 8 or 16 bits per sample, atomically (temporary file, fsync, rename). */
bool     nn_image_save_png (const NnImage *image,
                            const char    *path,
                            int            bit_depth,
                            NnError       *err);

/* Bilinear resampling (area-averaging when shrinking by more than 2x) to h x w. */
NnImage *nn_image_resize (const NnImage *image,
                          int            h,
                          int            w);
/* Central crop to the aspect ratio h:w, then resize to h x w. */
NnImage *nn_image_fit (const NnImage *image,
                       int            h,
                       int            w);
/* The inverse of nn_image_fit's geometry: fitted (any size) resized onto the central crop of
 * an h x w image that nn_image_fit would take, zero outside it. E.g. a map computed on the
 * model's input, laid back over the slice it came from. NULL when out of memory. */
NnImage *nn_image_unfit (const NnImage *fitted,
                         int            h,
                         int            w);
/* Gray to RGB (replicate) or RGB to gray (ITU-R BT.601 luma). */
NnImage *nn_image_convert (const NnImage *image,
                           int            c);
