/* SPDX-License-Identifier: MIT */
/* DICOM CT slices through GDCM (the C++ stays in nn-dicom.cc behind this C interface): single
 * slices and series in Hounsfield units (rescale slope and intercept applied), and writing a
 * slice as uncompressed explicit-VR little-endian CT with rescale tags. */
#pragma once

#include <stdbool.h>

#include "core/nn-error.h"
#include "io/nn-image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One single-frame grayscale slice (any transfer syntax GDCM decodes) as an HU image (1
 * channel, hu set, bit_depth 16). Errors name the file and the problem: not DICOM, truncated,
 * no pixel data, multi-frame, colour, sizes that do not match the pixel data, a compression
 * that cannot be decoded. */
NnImage  *nn_dicom_load (const char *path,
                         NnError    *err);

/* Every DICOM file in folder dir (other files are skipped) as slices of one series, ordered
 * by slice position along the normal (Image Position and Orientation), else by Instance
 * Number, else by file name. All must have the same size. *n gets the count; free the result
 * with nn_dicom_series_free. */
NnImage **nn_dicom_load_series (const char *dir,
                                int        *n,
                                NnError    *err);
void      nn_dicom_series_free (NnImage **slices,
                                int       n);

/* Writes a 1-channel HU image as a CT Image Storage file: 16-bit unsigned samples of HU +
 * 1024 (clamped), Rescale Slope 1 and Intercept -1024, square pixels of pixel_mm millimetres,
 * atomically. description goes to Series Description (may be NULL). */
bool      nn_dicom_save (const NnImage *image,
                         double         pixel_mm,
                         const char    *description,
                         const char    *path,
                         NnError       *err);

#ifdef __cplusplus
}
#endif
