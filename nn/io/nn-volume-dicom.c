/* SPDX-License-Identifier: MIT */
/* A DICOM series folder as an NnVolume: the slices decoded by the isolated reader
 * (nn-dicom-read.c), grouped by Series Instance UID, stacked along the slice normal, their
 * geometry checked (one orientation, one size, no tilt, no gaps) before it is believed. */
#include "io/nn-volume.h"
#include "io/nn-dicom-private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One series found in the folder. */
typedef struct
{
  const char *uid;          /* borrowed from a slice; "" when the files have none */
  const char *description;  /* the first slice's with one, borrowed; "" when none has */
  int         count;
} SeriesCount;

/* Slice k of the chosen series and its position along the normal. */
typedef struct
{
  int    index;       /* into the folder's slices */
  double position;
} Stacked;

static int
compare_stacked (const void *a,
                 const void *b)
{
  const Stacked *x = a, *y = b;
  if (x->position != y->position)
    return x->position < y->position ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* The distinct series among slices, in order of first appearance; NULL when out of memory. */
static SeriesCount *
count_series (const NnDicomSlice *slices,
              int                 n,
              int                *n_series)
{
  SeriesCount *series = calloc ((size_t) n, sizeof *series);
  *n_series = 0;
  if (series == NULL)
    return NULL;
  for (int k = 0; k < n; k++)
    {
      int s = 0;
      while (s < *n_series && strcmp (series[s].uid, slices[k].series_uid) != 0)
        s++;
      if (s == *n_series)
        series[(*n_series)++] = (SeriesCount) { slices[k].series_uid,
                                                slices[k].series_description, 0 };
      if (series[s].description[0] == '\0')
        series[s].description = slices[k].series_description;
      series[s].count++;
    }
  return series;
}

/* "1.2.3 (40 slices), 1.2.4 (2 slices)" into buf. */
static void
list_series (const SeriesCount *series,
             int                n_series,
             char              *buf,
             size_t             size)
{
  size_t at = 0;
  buf[0] = '\0';
  for (int s = 0; s < n_series && at + 1 < size; s++)
    {
      int w = snprintf (buf + at, size - at, "%s%s (%d slice%s)", s > 0 ? ", " : "",
                        series[s].uid[0] != '\0' ? series[s].uid : "(no Series Instance UID)",
                        series[s].count, series[s].count == 1 ? "" : "s");
      if (w < 0)
        break;
      at += (size_t) w;
    }
}

static double
dot3 (const double *a,
      const double *b)
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* Checks that every chosen slice has the first one's size, orientation and pixel spacing, and
 * a position. */
static bool
check_alike (const char         *dir,
             const NnDicomSlice *slices,
             char *const        *paths,
             const Stacked      *stack,
             int                 n,
             NnError            *err)
{
  const NnDicomSlice *first = &slices[stack[0].index];
  for (int i = 0; i < 6; i++)
    if (!isfinite (first->iop[i]))
      return nn_error_set (err, NN_ERROR_FORMAT, "%s: %s has no Image Orientation (Patient): "
                           "a volume needs each slice's orientation and position", dir,
                           paths[stack[0].index]);
  for (int i = 0; i < 2; i++)
    if (!(first->spacing[i] > 0.0))
      return nn_error_set (err, NN_ERROR_FORMAT, "%s: %s has no Pixel Spacing", dir,
                           paths[stack[0].index]);
  for (int k = 0; k < n; k++)
    {
      const NnDicomSlice *s = &slices[stack[k].index];
      const char *path = paths[stack[k].index];
      if (!isfinite (s->ipp[0]) || !isfinite (s->ipp[1]) || !isfinite (s->ipp[2]))
        return nn_error_set (err, NN_ERROR_FORMAT, "%s: %s has no Image Position (Patient)",
                             dir, path);
      if (s->image->h != first->image->h || s->image->w != first->image->w)
        return nn_error_set (err, NN_ERROR_FORMAT, "%s: mixed slice sizes: %s is %d x %d, %s "
                             "is %d x %d", dir, path, s->image->h, s->image->w,
                             paths[stack[0].index], first->image->h, first->image->w);
      for (int i = 0; i < 6; i++)
        if (!(fabs (s->iop[i] - first->iop[i]) <= 1e-4))
          return nn_error_set (err, NN_ERROR_FORMAT, "%s: mixed slice orientations: %s and %s "
                               "differ in Image Orientation (Patient)", dir, path,
                               paths[stack[0].index]);
      for (int i = 0; i < 2; i++)
        if (!(fabs (s->spacing[i] - first->spacing[i]) <= 1e-4 * first->spacing[i]))
          return nn_error_set (err, NN_ERROR_FORMAT, "%s: mixed pixel spacings: %s has %g x %g "
                               "mm, %s %g x %g mm", dir, path, s->spacing[0], s->spacing[1],
                               paths[stack[0].index], first->spacing[0], first->spacing[1]);
    }
  return true;
}

/* Checks that the sorted slices step along the normal, evenly, with no two at one place;
 * *step gets the median step (1 mm for a single slice). */
static bool
check_stack (const char         *dir,
             const NnDicomSlice *slices,
             char *const        *paths,
             const Stacked      *stack,
             int                 n,
             const double        normal[3],
             double             *step,
             NnError            *err)
{
  *step = 1.0;
  if (n < 2)
    return true;
  const double *p0 = slices[stack[0].index].ipp;
  for (int k = 1; k < n; k++)
    {
      const double *p = slices[stack[k].index].ipp;
      double d[3] = { p[0] - p0[0], p[1] - p0[1], p[2] - p0[2] };
      double along = dot3 (d, normal);
      double side[3] = { d[0] - along * normal[0], d[1] - along * normal[1],
                         d[2] - along * normal[2] };
      double off = sqrt (dot3 (side, side));
      if (off > 0.01 + 1e-3 * fabs (along))
        {
          double tilt = slices[stack[k].index].tilt;
          char said[64] = "";
          if (isfinite (tilt) && tilt != 0.0)
            snprintf (said, sizeof said, "; Gantry/Detector Tilt says %g degrees", tilt);
          return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: gantry tilt: the slices are not "
                               "stacked along their normal (%s lies %.3g mm to the side of "
                               "%s's normal, %.3g mm along it%s); tilted series are not "
                               "resampled", dir, paths[stack[k].index], off,
                               paths[stack[0].index], along, said);
        }
    }
  double *gaps = malloc (sizeof *gaps * (size_t) (n - 1));
  if (gaps == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir);
  for (int k = 0; k + 1 < n; k++)
    {
      gaps[k] = stack[k + 1].position - stack[k].position;
      if (gaps[k] < 1e-3)
        {
          free (gaps);
          return nn_error_set (err, NN_ERROR_FORMAT, "%s: two slices at one position (%.3f mm "
                               "along the normal): %s and %s", dir, stack[k].position,
                               paths[stack[k].index], paths[stack[k + 1].index]);
        }
    }
  double *sorted = malloc (sizeof *sorted * (size_t) (n - 1));
  if (sorted == NULL)
    {
      free (gaps);
      return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir);
    }
  memcpy (sorted, gaps, sizeof *sorted * (size_t) (n - 1));
  qsort (sorted, (size_t) (n - 1), sizeof *sorted, compare_double);
  double median = sorted[(n - 2) / 2];
  free (sorted);
  bool ok = true;
  for (int k = 0; ok && k + 1 < n; k++)
    {
      double g = gaps[k];
      if (fabs (g - median) <= fmax (0.01, 0.01 * median))
        continue;
      double ratio = g / median;
      const char *a = paths[stack[k].index], *b = paths[stack[k + 1].index];
      if (ratio > 1.5 && fabs (ratio - round (ratio)) < 0.05)
        ok = nn_error_set (err, NN_ERROR_FORMAT, "%s: missing slice%s: %.0f slice%s of %g mm "
                           "would fit between %s and %s (%g mm apart)", dir,
                           round (ratio) > 2.0 ? "s" : "", round (ratio) - 1.0,
                           round (ratio) > 2.0 ? "s" : "", median, a, b, g);
      else
        ok = nn_error_set (err, NN_ERROR_FORMAT, "%s: uneven slice spacing: %s and %s are %g "
                           "mm apart, the other slices %g mm (median)", dir, a, b, g, median);
    }
  free (gaps);
  *step = median;
  return ok;
}

/* The volume of the stacked slices; the affine from the first slice's position, the
 * orientation and spacings, and the stack's direction, from DICOM's LPS to RAS. */
static NnVolume *
build_volume (const char         *dir,
              const NnDicomSlice *slices,
              const Stacked      *stack,
              int                 n,
              double              step,
              NnError            *err)
{
  const NnDicomSlice *first = &slices[stack[0].index];
  if ((size_t) first->image->w * (size_t) first->image->h * (size_t) n > NN_VOLUME_MAX_VOXELS)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: a volume of %d x %d x %d voxels "
                         "exceeds the limit of %zu", dir, first->image->w, first->image->h, n,
                         NN_VOLUME_MAX_VOXELS), NULL;
  NnVolume *v = nn_volume_new (first->image->w, first->image->h, n);
  if (v == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory for a volume of %d x %d x %d",
                         dir, first->image->w, first->image->h, n), NULL;
  size_t plane = (size_t) v->nx * (size_t) v->ny;
  for (int k = 0; k < n; k++)
    memcpy (v->data + (size_t) k * plane, slices[stack[k].index].image->data,
            plane * sizeof *v->data);
  const double *last = slices[stack[n - 1].index].ipp;
  double lps[3][4];
  for (int w = 0; w < 3; w++)
    {
      lps[w][0] = first->iop[w] * first->spacing[1];
      lps[w][1] = first->iop[3 + w] * first->spacing[0];
      lps[w][3] = first->ipp[w];
    }
  double normal[3] = {
    first->iop[1] * first->iop[5] - first->iop[2] * first->iop[4],
    first->iop[2] * first->iop[3] - first->iop[0] * first->iop[5],
    first->iop[0] * first->iop[4] - first->iop[1] * first->iop[3],
  };
  for (int w = 0; w < 3; w++)
    lps[w][2] = n > 1 ? (last[w] - first->ipp[w]) / (double) (n - 1) : normal[w] * step;
  for (int w = 0; w < 3; w++)
    for (int c = 0; c < 4; c++)
      v->affine[w][c] = w < 2 ? -lps[w][c] : lps[w][c];
  v->spacing[0] = first->spacing[1];
  v->spacing[1] = first->spacing[0];
  v->spacing[2] = step;
  v->hu = true;
  snprintf (v->source, sizeof v->source, "DICOM series");
  return v;
}

NnVolumeSeries *
nn_volume_dicom_series (const char *dir,
                        int        *n,
                        NnError    *err)
{
  NN_ASSERT (dir != NULL && n != NULL);
  *n = 0;
  NnDicomSlice *slices = NULL;
  char **paths = NULL;
  int n_slices = 0;
  if (!nn_dicom_read_folder (dir, &slices, &paths, &n_slices, err))
    return NULL;
  NnVolumeSeries *out = NULL;
  if (n_slices == 0)
    nn_error_set (err, NN_ERROR_FORMAT, "%s: no DICOM files in the folder", dir);
  else
    {
      int n_series = 0;
      SeriesCount *found = count_series (slices, n_slices, &n_series);
      out = found != NULL ? calloc ((size_t) n_series, sizeof *out) : NULL;
      if (out == NULL)
        nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir);
      for (int s = 0; out != NULL && s < n_series; s++)
        {
          snprintf (out[s].uid, sizeof out[s].uid, "%s", found[s].uid);
          snprintf (out[s].description, sizeof out[s].description, "%s",
                    found[s].description);
          out[s].slices = found[s].count;
        }
      if (out != NULL)
        *n = n_series;
      free (found);
    }
  nn_dicom_folder_free (slices, paths, n_slices);
  return out;
}

NnVolume *
nn_volume_load_dicom (const char *dir,
                      const char *series,
                      NnError    *err)
{
  NN_ASSERT (dir != NULL);
  NnDicomSlice *slices = NULL;
  char **paths = NULL;
  int n = 0;
  if (!nn_dicom_read_folder (dir, &slices, &paths, &n, err))
    return NULL;
  if (n == 0)
    {
      nn_dicom_folder_free (slices, paths, n);
      return nn_error_set (err, NN_ERROR_FORMAT, "%s: no DICOM files in the folder", dir), NULL;
    }
  int n_series = 0;
  SeriesCount *found = count_series (slices, n, &n_series);
  Stacked *stack = malloc (sizeof *stack * (size_t) n);
  NnVolume *volume = NULL;
  bool ok = found != NULL && stack != NULL;
  if (!ok)
    nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir);
  int chosen = -1;
  for (int s = 0; ok && s < n_series; s++)
    if (series != NULL ? strcmp (found[s].uid, series) == 0 : n_series == 1)
      chosen = s;
  if (ok && chosen < 0)
    {
      char list[700];
      list_series (found, n_series, list, sizeof list);
      if (series != NULL)
        ok = nn_error_set (err, NN_ERROR_SPEC, "%s: no series %s in the folder; it holds %s",
                           dir, series, list);
      else
        ok = nn_error_set (err, NN_ERROR_SPEC, "%s: the folder holds %d series; choose one by "
                           "its Series Instance UID: %s", dir, n_series, list);
    }
  int m = 0;
  double normal[3] = { 0.0, 0.0, 0.0 };
  if (ok)
    {
      for (int k = 0; k < n; k++)
        if (strcmp (slices[k].series_uid, found[chosen].uid) == 0)
          stack[m++].index = k;
      ok = check_alike (dir, slices, paths, stack, m, err);
    }
  if (ok)
    {
      const double *o = slices[stack[0].index].iop;
      normal[0] = o[1] * o[5] - o[2] * o[4];
      normal[1] = o[2] * o[3] - o[0] * o[5];
      normal[2] = o[0] * o[4] - o[1] * o[3];
      double len = sqrt (dot3 (normal, normal));
      if (!(len > 0.5))
        ok = nn_error_set (err, NN_ERROR_FORMAT, "%s: %s has an Image Orientation (Patient) "
                           "whose row and column directions are not orthogonal unit vectors",
                           dir, paths[stack[0].index]);
      for (int w = 0; ok && w < 3; w++)
        normal[w] /= len;
    }
  double step = 1.0;
  if (ok)
    {
      for (int k = 0; k < m; k++)
        stack[k].position = dot3 (slices[stack[k].index].ipp, normal);
      qsort (stack, (size_t) m, sizeof *stack, compare_stacked);
      ok = check_stack (dir, slices, paths, stack, m, normal, &step, err);
    }
  if (ok)
    volume = build_volume (dir, slices, stack, m, step, err);
  free (stack);
  free (found);
  nn_dicom_folder_free (slices, paths, n);
  return volume;
}
