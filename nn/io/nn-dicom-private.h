/* SPDX-License-Identifier: MIT */
/* The parts of the isolated DICOM reader (nn-dicom-read.c) that tests and fuzzers call on their
 * own: reading the helper's reply, and running a given helper under given limits. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/nn-error.h"
#include "io/nn-dicom-frame.h"
#include "io/nn-image.h"

/* What the helper may use: address space in bytes (0: no limit), CPU seconds per file, and
 * the time the reader waits for each reply, in milliseconds. */
typedef struct
{
  uint64_t address_space;
  int      cpu_seconds;
  int      wall_ms;
} NnDicomLimits;

/* The limits nn_dicom_load uses. */
#define NN_DICOM_LIMIT_ADDRESS_SPACE ((uint64_t) 1 << 30)
#define NN_DICOM_LIMIT_CPU_SECONDS   10
#define NN_DICOM_LIMIT_WALL_MS       30000

/* One decoded slice, what orders it in a series and where it lies (DICOM patient coordinates,
 * LPS, mm). */
typedef struct
{
  NnImage *image;       /* 1 channel, HU */
  double   position;    /* along the slice normal; NaN when unknown */
  double   instance;    /* NaN when unknown */
  double   ipp[3];      /* Image Position (Patient): the centre of the first pixel */
  double   iop[6];      /* Image Orientation (Patient): row direction, then column direction */
  double   spacing[2];  /* Pixel Spacing: between rows, between columns */
  double   tilt;        /* Gantry/Detector Tilt, degrees */
  char     series_uid[NN_DICOM_FRAME_MAX_UID + 1];  /* "" when absent */
  char     series_description[NN_DICOM_FRAME_MAX_DESCRIPTION + 1];  /* "" when absent */
} NnDicomSlice;         /* every number NaN when unknown */

/* A slice with no image and every number unknown. */
NnDicomSlice nn_dicom_slice_empty (void);

/* Checks and reads a whole reply (nn-dicom-frame.h) of size bytes. A reply carrying an error
 * becomes err "<path>: <its message>"; a reply that breaks the format is an error too. */
bool  nn_dicom_reply_parse (const unsigned char *bytes,
                            size_t               size,
                            const char          *path,
                            NnDicomSlice        *out,
                            NnError             *err);

/* The length of the reply that starts bytes (size of them so far): 0 while more bytes are
 * needed to tell, else what its header says (an impossible header gives a length at which
 * nn_dicom_reply_parse fails). */
size_t nn_dicom_reply_length (const unsigned char *bytes,
                              size_t               size);

/* The most files one helper decodes. */
#define NN_DICOM_MAX_BATCH 64

/* Runs helper once on the n regular files open as fds (named paths), each with limits (CPU
 * time and wall-clock time per file), and reads its n replies into slices. A reply carrying
 * an error, a crash, a signal, a timeout, an exit status other than 0 or a malformed reply is
 * an error naming the file at fault; then no slice is returned. */
bool  nn_dicom_run_helper (const char          *helper,
                           const int           *fds,
                           const char *const   *paths,
                           int                  n,
                           const NnDicomLimits *limits,
                           NnDicomSlice        *slices,
                           NnError             *err);

/* The helper program to run: $CNNSCOPE_DICOM_HELPER, else the build tree's for a program that
 * runs from the build tree, else the installed one (nn_shipped_path: libexecdir/cnnscope
 * relative to the running program, then the configured one). NULL with err when there is none.
 * Free the result. */
char *nn_dicom_helper_path (NnError *err);

/* Every DICOM file in folder dir (other files are skipped), decoded, in file name order, with
 * its path ("dir/name") in paths[i]. *n gets the count (0 is not an error). Free with
 * nn_dicom_folder_free. */
bool  nn_dicom_read_folder (const char    *dir,
                            NnDicomSlice **slices,
                            char        ***paths,
                            int           *n,
                            NnError       *err);
void  nn_dicom_folder_free (NnDicomSlice *slices,
                            char        **paths,
                            int           n);
