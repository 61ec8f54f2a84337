/* SPDX-License-Identifier: MIT */
/* NnVolume: a 3-D scan as float voxels (Hounsfield units for CT) with its place in the patient:
 * read from a DICOM series folder or a NIfTI-1/2 file (.nii, .nii.gz), reoriented so that its
 * slices are axial, cut into planes, and written as NIfTI with the same geometry. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/nn-error.h"
#include "io/nn-image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Volumes larger than this (voxels, and voxels a side) are refused before any allocation. */
#define NN_VOLUME_MAX_VOXELS ((size_t) 1 << 29)
#define NN_VOLUME_MAX_SIDE   16384

/* NIfTI's xform codes, kept as the file had them (1 scanner, 2 aligned, 3 Talairach, 4 MNI,
 * 5 template; 0 unknown). A DICOM series has scanner coordinates. */
#define NN_VOLUME_XFORM_UNKNOWN 0
#define NN_VOLUME_XFORM_SCANNER 1

/* Voxel (i, j, k) is data[(k * ny + j) * nx + i]. The affine maps (i, j, k, 1) to the world
 * point (x, y, z, 1) in mm at the voxel's centre, in NIfTI's RAS+ convention: +x toward the
 * patient's right, +y anterior, +z superior (DICOM's patient coordinates are LPS+: x and y
 * change sign). Fields are read-only outside nn/io, except the values in data. */
typedef struct
{
  int     nx, ny, nz;       /* voxels along i, j, k */
  float  *data;             /* nz * ny * nx values */
  double  spacing[3];       /* mm between voxel centres along i, j, k (the affine's columns) */
  double  affine[4][4];     /* voxel -> world (RAS+, mm); last row 0 0 0 1 */
  int     sform_code;       /* NN_VOLUME_XFORM_* for writing (the file's; scanner for DICOM) */
  int     qform_code;
  bool    hu;               /* values are Hounsfield units */
  char    source[32];       /* "DICOM series", "NIfTI-1", "NIfTI-2", "" for a new volume */
} NnVolume;

/* A new volume of zeros, identity-like geometry: spacing 1 mm, affine diag (1, 1, 1), codes
 * scanner. NULL when out of memory or the size is out of range (asserted positive). */
NnVolume *nn_volume_new (int nx,
                         int ny,
                         int nz);
/* A new volume of zeros with the size and geometry (affine, spacing, codes) of like. */
NnVolume *nn_volume_new_like (const NnVolume *like);
void      nn_volume_free (NnVolume *volume);

/* Whether b lies on a's voxel grid: the same size and every entry of the affine within tol_mm
 * (e.g. a lesion mask volume over its scan). */
bool      nn_volume_same_grid (const NnVolume *a,
                               const NnVolume *b,
                               double          tol_mm);

/* Reads path: a folder is a DICOM series (see nn_volume_load_dicom with series NULL); a file
 * is NIfTI-1 or NIfTI-2, plain or gzip-compressed, recognised by content. Errors name the
 * file or folder. */
NnVolume *nn_volume_load (const char *path,
                          NnError    *err);

/* The DICOM files of folder dir (others are skipped) as a volume: grouped by Series Instance
 * UID, the series given (NULL: the folder must hold one; with several, the error, of code
 * NN_ERROR_SPEC, lists them with their slice counts; nn_volume_dicom_series lists them too),
 * sorted along the slice normal from Image Position and Orientation (Patient), the slice
 * spacing from the positions. HU through each slice's rescale. Errors
 * name the folder: gantry tilt (positions not along the normal), missing or uneven slices
 * (gaps differing by more than 1 % of their median or 0.01 mm), slices of different sizes,
 * orientations or pixel spacings, two slices at one position, no position or orientation. */
NnVolume *nn_volume_load_dicom (const char *dir,
                                const char *series,
                                NnError    *err);

/* One series of a DICOM folder. */
typedef struct
{
  char uid[65];          /* Series Instance UID, "" when the files have none */
  char description[65];  /* Series Description (printable ASCII) of its first file with one,
                          * else "" */
  int  slices;           /* DICOM files of the series */
} NnVolumeSeries;

/* The series among the DICOM files of folder dir, in order of first appearance (files in name
 * order), into a new array of *n (free with free); NULL with err when the folder cannot be
 * read, holds no DICOM file or out of memory. Every file is decoded, as for a load. */
NnVolumeSeries *nn_volume_dicom_series (const char *dir,
                                        int        *n,
                                        NnError    *err);

/* A NIfTI-1 or NIfTI-2 file (.nii, optionally gzip-compressed; not .hdr/.img pairs), 3-D (a
 * 4-D file with one volume is accepted), any of the integer or float voxel types up to 64
 * bits, scaled by scl_slope/scl_inter when the slope is not 0, as float. Oriented by the
 * sform when its code is not 0, else the qform, else the voxel sizes alone. Absurd sizes and
 * files shorter than their header says are errors naming the file. hu is set when the file's
 * values look like CT (a minimum below -500 and a maximum above 0). */
NnVolume *nn_volume_load_nifti (const char *path,
                                NnError    *err);

/* Writes the volume as NIfTI-1 float32 (gzip-compressed when path ends in ".gz"), atomically:
 * sform = the affine with sform_code, qform = its nearest rotation, voxel sizes and offset,
 * with qform_code, scl_slope 1, xyzt units mm. description (may be NULL) goes to descrip. */
bool      nn_volume_save_nifti (const NnVolume *volume,
                                const char     *description,
                                const char     *path,
                                NnError        *err);

/* The patient direction each voxel axis points to most, as three letters from "LRAPSI" (e.g.
 * "LPS" for a DICOM axial series: i to the left, j to the back, k up), into codes[4]. */
void      nn_volume_orientation (const NnVolume *volume,
                                 char            codes[4]);

/* A copy with its axes permuted and flipped (no resampling) so that nn_volume_orientation
 * gives codes, e.g. "LPS": axial slices along k, each with row 0 anterior and the patient's
 * right on column 0 (how radiologists and the CT models here see a slice). The affine is
 * changed to match, so every voxel keeps its world position. NULL with err when codes is not
 * a valid triple (one of L/R, A/P, S/I each) or out of memory. */
NnVolume *nn_volume_reorient (const NnVolume *volume,
                              const char     *codes,
                              NnError        *err);

/* values (e.g. an attribution volume computed on nn_volume_reorient (like, "LPS")) turned back
 * to like's voxel order, with like's geometry exactly (affine, spacing, codes): ready to write
 * so that it overlays like in other viewers. values must be a reorientation of like's grid
 * (asserted: the same size once turned). NULL with err when out of memory. */
NnVolume *nn_volume_reorient_like (const NnVolume *values,
                                   const NnVolume *like,
                                   NnError        *err);

/* The world point (RAS+, mm) of voxel (i, j, k), which may be fractional or outside. */
void      nn_volume_world (const NnVolume *volume,
                           double          i,
                           double          j,
                           double          k,
                           double          xyz[3]);

/* Axial slice k (of a volume in "LPS" order: row 0 anterior, the patient's right on column 0)
 * as a new 1-channel image (hu as the volume's); NULL when out of memory. */
NnImage  *nn_volume_slice_image (const NnVolume *volume,
                                 int             k);

/* The three planes through a voxel, for a volume in "LPS" order (nn_volume_reorient): */
typedef enum
{
  NN_VOLUME_AXIAL,     /* k fixed: width nx (patient's right first), height ny (anterior up) */
  NN_VOLUME_CORONAL,   /* j fixed: width nx, height nz (superior up) */
  NN_VOLUME_SAGITTAL,  /* i fixed: width ny (anterior first), height nz (superior up) */
} NnVolumePlane;

/* The plane's size in voxels and in mm (its true aspect ratio). */
void      nn_volume_plane_size (const NnVolume *volume,
                                NnVolumePlane   plane,
                                int            *width,
                                int            *height,
                                double         *width_mm,
                                double         *height_mm);
/* Copies plane number index (0 <= index < the count along the fixed axis) into out (height x
 * width, row-major, as laid out above). */
void      nn_volume_plane_get (const NnVolume *volume,
                               NnVolumePlane   plane,
                               int             index,
                               float          *out);

#ifdef __cplusplus
}
#endif
