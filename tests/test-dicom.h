/* SPDX-License-Identifier: MIT */
/* Hand-built DICOM slices for the tests: a spec of the attributes (sizes, rescale, geometry,
 * series) and of deliberate defects, made into the bytes of a file. GLib only. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct
{
  const char *ts;           /* transfer syntax UID */
  int         rows, cols;
  int         frames;       /* 0: no Number of Frames element */
  int         samples;
  int         bits_stored;
  int         signed_px;
  const char *slope, *intercept;
  const char *position;     /* Image Position (Patient), or NULL */
  const char *instance;     /* Instance Number, or NULL */
  bool        pixels;       /* write Pixel Data */
  gsize       pixel_bytes;  /* how many bytes of it (0: what the header says) */
  const guint16 *values;    /* the 16-bit words, or NULL for i * 7 */
  bool        fragments;    /* encapsulated Pixel Data: one fragment of bytes that decode as
                             * nothing */
  /* The fields below default to zero: a plain CT slice. */
  const char   *sop;          /* SOP class UID (NULL: CT Image Storage) */
  const char   *photometric;  /* NULL: MONOCHROME2 or RGB by samples */
  const char   *ts_vr;        /* VR of the transfer syntax element in the file meta (NULL: UI) */
  const char   *position_vr;  /* VR of Image Position (Patient) (NULL: DS) */
  const guint8 *extra;        /* bytes inserted after Modality, as they are */
  gsize         extra_len;
  const guint8 *fragment;     /* with fragments: the fragment's bytes (NULL: the junk) */
  gsize         fragment_len;
  const char   *orientation;  /* Image Orientation (Patient) (NULL: 1\0\0\0\1\0 when there
                               * is a position) */
  const char   *spacing;      /* Pixel Spacing, or NULL */
  const char   *series_uid;   /* Series Instance UID, or NULL */
  const char   *series_description; /* Series Description, or NULL */
  const char   *tilt;         /* Gantry/Detector Tilt, or NULL */
} TestDicomSpec;

/* A plain 3 x 4 signed 16-bit CT slice, slope 1, intercept 0, no geometry. */
TestDicomSpec test_dicom_spec_default (void);
/* The file's bytes (free with g_byte_array_free (b, TRUE)). */
GByteArray   *test_dicom_make (const TestDicomSpec *s);
