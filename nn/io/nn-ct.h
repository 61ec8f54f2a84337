/* SPDX-License-Identifier: MIT */
/* CT slices: window/level (presets lung, mediastinum, bone, or free W,L) from Hounsfield units to
 * [0, 1], and reading a slice from DICOM, 16-bit PNG (HU + 1024) or 8-bit PNG/JPEG (already
 * windowed). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/nn-error.h"
#include "io/nn-image.h"

/* A 16-bit PNG sample holds HU + NN_CT_PNG_OFFSET (so -1024 HU, air, is 0). */
#define NN_CT_PNG_OFFSET 1024.0f

typedef struct
{
  float width;  /* W in HU, > 0 */
  float level;  /* L (centre) in HU */
} NnCtWindow;

/* W 1500, L -600. */
#define NN_CT_WINDOW_LUNG        ((NnCtWindow) { 1500.0f, -600.0f })
/* W 350, L 50. */
#define NN_CT_WINDOW_MEDIASTINUM ((NnCtWindow) { 350.0f, 50.0f })
/* W 2000, L 300. */
#define NN_CT_WINDOW_BONE        ((NnCtWindow) { 2000.0f, 300.0f })

/* "lung", "mediastinum", "bone", or "W,L" (numbers, W > 0), e.g. "400,40". */
bool        nn_ct_window_parse (const char *text,
                                NnCtWindow *window,
                                NnError    *err);
/* The preset's name when window is one, else NULL. */
const char *nn_ct_window_name (const NnCtWindow *window);
/* "lung (W 1500, L -600)" or "W 400, L 40". */
void        nn_ct_window_format (const NnCtWindow *window,
                                 char             *buf,
                                 size_t            size);
/* out[i] = clamp ((hu[i] - (L - W/2)) / W, 0, 1); out may be hu. */
void        nn_ct_window_apply (const NnCtWindow *window,
                                float            *out,
                                const float      *hu,
                                size_t            n);
/* A new [0, 1] image of an HU image through window; NULL when out of memory. */
NnImage    *nn_ct_window_image (const NnImage    *image,
                                const NnCtWindow *window);

/* HU from a value read from a 16-bit PNG by nn_image_load (sample / 65535), and back. */
float       nn_ct_hu_from_png16 (float value);
float       nn_ct_png16_from_hu (float hu);

/* Saves a 1-channel HU image as a 16-bit gray PNG (HU + 1024, clamped to 0 .. 65535),
 * atomically. */
bool        nn_ct_save_png16 (const NnImage *image,
                              const char    *path,
                              NnError       *err);

/* Reads a CT slice, recognised by content: DICOM (nn-dicom.h) and 16-bit gray PNG give HU
 * (image->hu set); 8-bit PNG and JPEG are taken as already windowed ([0, 1], hu unset). A
 * 16-bit PNG that is not gray (RGB, RGBA, gray + alpha) is an error: a CT slice has one
 * channel. So is a file that is none of these ("unsupported input"). */
NnImage    *nn_ct_load (const char *path,
                        NnError    *err);
