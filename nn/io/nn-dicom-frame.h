/* SPDX-License-Identifier: MIT */
/* What the cnnscope-dicom helper (nn-dicom-helper.cc) and the reader that runs it
 * (nn-dicom-read.c) share: the file size limit and the reply on the helper's standard output. */
#pragma once

/* All integers little-endian, floats as their IEEE bits:
 *   "NNDC", u32 version (3), u32 code: 0 when a slice follows, else an NnErrorCode;
 *   code != 0: u32 n (at most NN_DICOM_FRAME_MAX_MESSAGE), then n bytes of the message (no
 *              file name, no NUL);
 *   code == 0: u32 rows, u32 cols, f64 position along the slice normal, f64 Instance Number
 *              (NaN when unknown), f64 x 3 Image Position (Patient), f64 x 6 Image
 *              Orientation (Patient), f64 x 2 Pixel Spacing (between rows, between columns),
 *              f64 Gantry/Detector Tilt (each NaN when unknown), u32 n (at most
 *              NN_DICOM_FRAME_MAX_UID), u32 m (at most NN_DICOM_FRAME_MAX_DESCRIPTION), n
 *              bytes of Series Instance UID (no NUL), m bytes of Series Description
 *              (printable ASCII, no NUL), then rows * cols f32 Hounsfield units, row-major;
 * and nothing after that. */
/* Files larger than this are refused before reading them. */
#define NN_DICOM_MAX_FILE_BYTES ((size_t) 256 << 20)

#define NN_DICOM_FRAME_MAGIC       "NNDC"
#define NN_DICOM_FRAME_VERSION     3u
#define NN_DICOM_FRAME_HEAD        12u   /* magic, version, code */
#define NN_DICOM_FRAME_SLICE_HEAD  140u  /* ... rows, cols, position, instance, geometry,
                                            tilt, uid length, description length */
#define NN_DICOM_FRAME_MAX_MESSAGE 900u
#define NN_DICOM_FRAME_MAX_UID     64u
#define NN_DICOM_FRAME_MAX_DESCRIPTION 64u
