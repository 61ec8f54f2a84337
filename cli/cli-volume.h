/* SPDX-License-Identifier: MIT */
/* What the batch commands share for volumes and for splitting work across machines: telling a
 * volume (NIfTI file, DICOM series folder) from an input folder, loading it for slice-by-slice
 * work, and --shard I/N. */
#pragma once

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "nn.h"

/* --shard I/N: this run does part I (0-based) of N. Parts are contiguous blocks of the sorted
 * items (files, or a volume's slices): part I holds items [floor (I n / N), floor ((I + 1) n /
 * N)), so the outputs of parts 0 .. N-1 concatenated are the output of the whole run. */
typedef struct
{
  int index;  /* I */
  int count;  /* N; 1: no sharding */
} CliShard;

#define CLI_SHARD_NONE ((CliShard) { 0, 1 })

/* Parses "I/N" (0 <= I < N <= 1000000) for option (printing the error). */
bool      cli_shard_parse (const char *option,
                           const char *text,
                           CliShard   *shard);
/* The items [*begin, *end) of n that the shard does. */
void      cli_shard_range (const CliShard *shard,
                           int             n,
                           int            *begin,
                           int            *end);
/* "-03-of-16" (I zero-padded to the width of N - 1) into buf for file names, "" without
 * sharding. */
void      cli_shard_suffix (const CliShard *shard,
                            char           *buf,
                            size_t          size);

/* Whether path is a volume: a file named *.nii or *.nii.gz, or a folder whose own files
 * include DICOM files and no .png, .jpg, .jpeg or .npy inputs (a series folder). */
bool      cli_volume_is_volume (const char *path);

/* Reads the volume at path (a DICOM folder: the series with UID series, NULL when the folder
 * holds one) and gives it reoriented to LPS (axial slices along k, as a model sees them);
 * *as_read (may be NULL) keeps it as read, for the geometry of the outputs. Prints the error
 * and returns NULL on failure. */
NnVolume *cli_volume_load (const char  *path,
                           const char  *series,
                           NnVolume   **as_read);

/* The world z (mm, superior positive) of the centre of slice k of an LPS volume. */
double    cli_volume_slice_z (const NnVolume *volume,
                              int             k);

/* Writes values (a volume in LPS order, as cli_volume_load gives) as NIfTI with the geometry
 * of as_read (the same affine and codes: it overlays the scan in other viewers). Prints the
 * error. */
bool      cli_volume_save (const NnVolume *values,
                           const NnVolume *as_read,
                           const char     *description,
                           const char     *path);
