/* SPDX-License-Identifier: MIT */
/* NnVolume: allocation, the orientation of its axes, reorienting by permuting and flipping
 * them, and cutting slices and planes. Reading and writing are in nn-volume-dicom.c,
 * nn-volume-nifti.c and nn-volume-load.c. */
#include "io/nn-volume.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


NnVolume *
nn_volume_new (int nx,
               int ny,
               int nz)
{
  NN_ASSERT (nx >= 1 && ny >= 1 && nz >= 1);
  if (nx > NN_VOLUME_MAX_SIDE || ny > NN_VOLUME_MAX_SIDE || nz > NN_VOLUME_MAX_SIDE
      || (size_t) nx * (size_t) ny * (size_t) nz > NN_VOLUME_MAX_VOXELS)
    return NULL;
  NnVolume *v = calloc (1, sizeof *v);
  if (v == NULL)
    return NULL;
  v->data = calloc ((size_t) nx * (size_t) ny * (size_t) nz, sizeof *v->data);
  if (v->data == NULL)
    {
      free (v);
      return NULL;
    }
  v->nx = nx;
  v->ny = ny;
  v->nz = nz;
  for (int a = 0; a < 3; a++)
    {
      v->spacing[a] = 1.0;
      v->affine[a][a] = 1.0;
    }
  v->affine[3][3] = 1.0;
  v->sform_code = v->qform_code = NN_VOLUME_XFORM_SCANNER;
  return v;
}

NnVolume *
nn_volume_new_like (const NnVolume *like)
{
  NN_ASSERT (like != NULL);
  NnVolume *v = nn_volume_new (like->nx, like->ny, like->nz);
  if (v == NULL)
    return NULL;
  memcpy (v->spacing, like->spacing, sizeof v->spacing);
  memcpy (v->affine, like->affine, sizeof v->affine);
  v->sform_code = like->sform_code;
  v->qform_code = like->qform_code;
  return v;
}

bool
nn_volume_same_grid (const NnVolume *a,
                     const NnVolume *b,
                     double          tol_mm)
{
  NN_ASSERT (a != NULL && b != NULL);
  bool same = a->nx == b->nx && a->ny == b->ny && a->nz == b->nz;
  for (int r = 0; same && r < 3; r++)
    for (int c = 0; c < 4; c++)
      same = same && fabs (a->affine[r][c] - b->affine[r][c]) <= tol_mm;
  return same;
}

void
nn_volume_free (NnVolume *volume)
{
  if (volume == NULL)
    return;
  free (volume->data);
  free (volume);
}

/* ---- Orientation -------------------------------------------------------------------------- */

/* The letter for world axis w (RAS+) in direction sign. */
static char
axis_letter (int w,
             bool positive)
{
  static const char pos[] = "RAS", neg[] = "LPI";
  return positive ? pos[w] : neg[w];
}

/* For each voxel axis, the world axis it is closest to (a permutation: the one of the six that
 * best matches the normalized columns) and whether it points the positive way. */
static void
axis_map (const NnVolume *v,
          int             world[3],
          bool            positive[3])
{
  double c[3][3];
  for (int a = 0; a < 3; a++)
    {
      double len = 0.0;
      for (int w = 0; w < 3; w++)
        len += v->affine[w][a] * v->affine[w][a];
      len = len > 0.0 ? sqrt (len) : 1.0;
      for (int w = 0; w < 3; w++)
        c[a][w] = v->affine[w][a] / len;
    }
  static const int perms[6][3] = {
    { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
  };
  int best = 0;
  double best_score = -1.0;
  for (int p = 0; p < 6; p++)
    {
      double score = 0.0;
      for (int a = 0; a < 3; a++)
        score += fabs (c[a][perms[p][a]]);
      if (score > best_score + 1e-12)
        {
          best_score = score;
          best = p;
        }
    }
  for (int a = 0; a < 3; a++)
    {
      world[a] = perms[best][a];
      positive[a] = c[a][world[a]] >= 0.0;
    }
}

void
nn_volume_orientation (const NnVolume *volume,
                       char            codes[4])
{
  NN_ASSERT (volume != NULL && codes != NULL);
  int world[3];
  bool positive[3];
  axis_map (volume, world, positive);
  for (int a = 0; a < 3; a++)
    codes[a] = axis_letter (world[a], positive[a]);
  codes[3] = '\0';
}

/* The world axis and direction of an orientation letter; false when it is none. */
static bool
letter_axis (char  letter,
             int  *world,
             bool *positive)
{
  const char *all = "RASLPI";
  const char *at = letter != '\0' ? strchr (all, letter) : NULL;
  if (at == NULL)
    return false;
  int i = (int) (at - all);
  *world = i % 3;
  *positive = i < 3;
  return true;
}

NnVolume *
nn_volume_reorient (const NnVolume *volume,
                    const char     *codes,
                    NnError        *err)
{
  NN_ASSERT (volume != NULL && codes != NULL);
  int want_world[3];
  bool want_positive[3];
  bool valid = strlen (codes) == 3;
  for (int a = 0; valid && a < 3; a++)
    valid = letter_axis (codes[a], &want_world[a], &want_positive[a]);
  valid = valid && want_world[0] != want_world[1] && want_world[0] != want_world[2]
          && want_world[1] != want_world[2];
  if (!valid)
    return nn_error_set (err, NN_ERROR_SPEC, "orientation '%s': expected three letters, one "
                         "of L/R, one of A/P and one of S/I (e.g. LPS)", codes), NULL;
  int world[3];
  bool positive[3];
  axis_map (volume, world, positive);
  /* New axis a is source axis src[a], flipped when flip[a]. */
  int src[3];
  bool flip[3];
  int n_src[3] = { volume->nx, volume->ny, volume->nz };
  for (int a = 0; a < 3; a++)
    for (int s = 0; s < 3; s++)
      if (world[s] == want_world[a])
        {
          src[a] = s;
          flip[a] = positive[s] != want_positive[a];
        }
  NnVolume *out = nn_volume_new (n_src[src[0]], n_src[src[1]], n_src[src[2]]);
  if (out == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory reorienting a volume of %d x %d x "
                         "%d", volume->nx, volume->ny, volume->nz), NULL;
  out->sform_code = volume->sform_code;
  out->qform_code = volume->qform_code;
  out->hu = volume->hu;
  memcpy (out->source, volume->source, sizeof out->source);
  out->affine[3][3] = 1.0;
  for (int w = 0; w < 3; w++)
    {
      double origin = volume->affine[w][3];
      for (int a = 0; a < 3; a++)
        {
          double col = volume->affine[w][src[a]];
          out->affine[w][a] = flip[a] ? -col : col;
          if (flip[a])
            origin += (double) (n_src[src[a]] - 1) * col;
        }
      out->affine[w][3] = origin;
    }
  for (int a = 0; a < 3; a++)
    out->spacing[a] = volume->spacing[src[a]];
  /* stride[s]: the step in the source data for one step along source axis s. */
  size_t stride[3] = { 1, (size_t) volume->nx, (size_t) volume->nx * (size_t) volume->ny };
  for (int k = 0; k < out->nz; k++)
    for (int j = 0; j < out->ny; j++)
      {
        int idx[3] = { 0, j, k };
        size_t base = 0;
        for (int a = 1; a < 3; a++)
          {
            int n = a == 1 ? out->ny : out->nz;
            base += stride[src[a]] * (size_t) (flip[a] ? n - 1 - idx[a] : idx[a]);
          }
        float *row = out->data + ((size_t) k * (size_t) out->ny + (size_t) j) * (size_t) out->nx;
        size_t step = stride[src[0]];
        if (flip[0])
          base += step * (size_t) (out->nx - 1);
        for (int i = 0; i < out->nx; i++)
          row[i] = volume->data[flip[0] ? base - step * (size_t) i : base + step * (size_t) i];
      }
  return out;
}

NnVolume *
nn_volume_reorient_like (const NnVolume *values,
                         const NnVolume *like,
                         NnError        *err)
{
  NN_ASSERT (values != NULL && like != NULL);
  char codes[4];
  nn_volume_orientation (like, codes);
  NnVolume *back = nn_volume_reorient (values, codes, err);
  if (back == NULL)
    return NULL;
  NN_ASSERT (back->nx == like->nx && back->ny == like->ny && back->nz == like->nz);
  /* The same voxels in the same order: like's geometry, exactly. */
  memcpy (back->affine, like->affine, sizeof back->affine);
  memcpy (back->spacing, like->spacing, sizeof back->spacing);
  back->sform_code = like->sform_code;
  back->qform_code = like->qform_code;
  return back;
}

void
nn_volume_world (const NnVolume *volume,
                 double          i,
                 double          j,
                 double          k,
                 double          xyz[3])
{
  NN_ASSERT (volume != NULL && xyz != NULL);
  for (int w = 0; w < 3; w++)
    xyz[w] = volume->affine[w][0] * i + volume->affine[w][1] * j + volume->affine[w][2] * k
             + volume->affine[w][3];
}

NnImage *
nn_volume_slice_image (const NnVolume *volume,
                       int             k)
{
  NN_ASSERT (volume != NULL && k >= 0 && k < volume->nz);
  NnImage *image = nn_image_new (1, volume->ny, volume->nx);
  if (image == NULL)
    return NULL;
  nn_volume_plane_get (volume, NN_VOLUME_AXIAL, k, image->data);
  image->hu = volume->hu;
  if (volume->hu)
    image->bit_depth = 16;
  return image;
}

/* ---- Planes ------------------------------------------------------------------------------- */

void
nn_volume_plane_size (const NnVolume *volume,
                      NnVolumePlane   plane,
                      int            *width,
                      int            *height,
                      double         *width_mm,
                      double         *height_mm)
{
  NN_ASSERT (volume != NULL);
  int w = 0, h = 0, aw = 0, ah = 0;
  switch (plane)
    {
    case NN_VOLUME_AXIAL:
      w = volume->nx, h = volume->ny, aw = 0, ah = 1;
      break;
    case NN_VOLUME_CORONAL:
      w = volume->nx, h = volume->nz, aw = 0, ah = 2;
      break;
    case NN_VOLUME_SAGITTAL:
      w = volume->ny, h = volume->nz, aw = 1, ah = 2;
      break;
    default:
      NN_ASSERT (!"unknown plane");
    }
  if (width != NULL)
    *width = w;
  if (height != NULL)
    *height = h;
  if (width_mm != NULL)
    *width_mm = w * volume->spacing[aw];
  if (height_mm != NULL)
    *height_mm = h * volume->spacing[ah];
}

void
nn_volume_plane_get (const NnVolume *volume,
                     NnVolumePlane   plane,
                     int             index,
                     float          *out)
{
  NN_ASSERT (volume != NULL && out != NULL);
  size_t nx = (size_t) volume->nx, ny = (size_t) volume->ny;
  int nz = volume->nz;
  switch (plane)
    {
    case NN_VOLUME_AXIAL:
      NN_ASSERT (index >= 0 && index < nz);
      memcpy (out, volume->data + (size_t) index * nx * ny, nx * ny * sizeof *out);
      break;
    case NN_VOLUME_CORONAL:
      NN_ASSERT (index >= 0 && index < (int) ny);
      for (int r = 0; r < nz; r++)
        memcpy (out + (size_t) r * nx,
                volume->data + ((size_t) (nz - 1 - r) * ny + (size_t) index) * nx,
                nx * sizeof *out);
      break;
    case NN_VOLUME_SAGITTAL:
      NN_ASSERT (index >= 0 && index < (int) nx);
      for (int r = 0; r < nz; r++)
        for (size_t j = 0; j < ny; j++)
          out[(size_t) r * ny + j] = volume->data[((size_t) (nz - 1 - r) * ny + j) * nx
                                                  + (size_t) index];
      break;
    default:
      NN_ASSERT (!"unknown plane");
    }
}
