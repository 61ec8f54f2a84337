/* SPDX-License-Identifier: MIT */
/* NumPy .npy files of float32 in C order, little-endian ('<f4'): maps, logits, activations and
 * already normalized inputs, exchanged with Python for exact comparison. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/nn-error.h"

#define NN_NPY_MAX_DIMS  8
/* Refuse arrays larger than this many elements (1 GiB of floats). */
#define NN_NPY_MAX_COUNT ((size_t) 1 << 28)

typedef struct
{
  int    ndim;
  int    dims[NN_NPY_MAX_DIMS];
  size_t count;  /* product of dims (1 for a 0-d array) */
  float *data;   /* count floats in host byte order */
} NnNpy;

void   nn_npy_free (NnNpy *npy);

/* Reads an .npy file (format versions 1.0, 2.0 and 3.0). Rejects a bad magic, any dtype but
 * '<f4', Fortran order, malformed or oversized shapes, and missing or extra data; errors name
 * the file. */
NnNpy *nn_npy_load (const char *path,
                    NnError    *err);
/* The same from bytes in memory; `name` is used in error messages. */
NnNpy *nn_npy_load_memory (const unsigned char *bytes,
                           size_t               size,
                           const char          *name,
                           NnError             *err);

/* Writes data (dims[0], ..., dims[ndim-1]) as a version 1.0 '<f4' file, atomically (temporary
 * file in the same folder, fsync, rename). */
bool   nn_npy_save (const char  *path,
                    const float *data,
                    const int   *dims,
                    int          ndim,
                    NnError     *err);
