/* SPDX-License-Identifier: MIT */
/* Decoding one DICOM slice from bytes in memory through GDCM: what the cnnscope-dicom helper
 * runs, in its own process (nn-dicom-read.c), never inside the application. C++. */
#pragma once

#include <cstddef>
#include <string>
#include <vector>

extern "C" {
#include "core/nn-error.h"
#include "io/nn-dicom-frame.h"
}

struct NnDicomDecoded
{
  int                rows = 0;
  int                cols = 0;
  std::vector<float> hu;                /* rows * cols, row-major */
  double             position = 0.0;    /* along the slice normal, mm; NaN when unknown */
  double             instance = 0.0;    /* Instance Number; NaN when unknown */
  double             ipp[3] = {};       /* Image Position (Patient), mm; NaN when unknown */
  double             iop[6] = {};       /* Image Orientation (Patient); NaN when unknown */
  double             spacing[2] = {};   /* Pixel Spacing: between rows, between columns, mm */
  double             tilt = 0.0;        /* Gantry/Detector Tilt, degrees; NaN when unknown */
  std::string        series_uid;        /* Series Instance UID, at most 64 characters */
  std::string        series_description; /* Series Description, printable ASCII, at most 64 */
};

/* Checks the structure of size bytes (every length the file declares must fit in the file),
 * the attributes of a single-frame gray slice, then decodes it to Hounsfield units. False with
 * err set (a message without the file name: the caller adds it) when it is not such a slice.
 * GDCM may still abort or exhaust memory on a hostile file: run this only in the helper. */
bool nn_dicom_decode (const unsigned char *bytes,
                      size_t               size,
                      NnDicomDecoded      *out,
                      NnError             *err);
