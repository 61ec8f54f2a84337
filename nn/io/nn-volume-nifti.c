/* SPDX-License-Identifier: MIT */
/* NIfTI-1 and NIfTI-2 volumes (.nii, .nii.gz) in and out. The header layouts, byte swapping and
 * quaternion algebra come from Debian's libnifti2; the file is opened and read here (through
 * nn-file and zlib), so that its sizes are checked before anything is allocated and a short
 * file is an error, never a crash. */
#include "io/nn-volume.h"
#include "io/nn-atomic-file.h"
#include "io/nn-file.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <nifti2_io.h>

/* Header extensions beyond this are refused (vox_offset is a file offset: a header may claim
 * any). */
#define MAX_EXTENSIONS ((int64_t) 64 << 20)
/* Converted a piece at a time. */
#define CHUNK ((size_t) 1 << 20)

/* The fields of either header version that matter here, in host byte order. */
typedef struct
{
  int     version;      /* 1 or 2 */
  bool    swapped;
  int64_t dim[8];
  int     datatype;
  int     bitpix;
  double  pixdim[8];
  int64_t vox_offset;
  double  slope, inter;
  int     qform_code, sform_code;
  double  quatern[3], qoffset[3];
  double  srow[3][4];
} Header;

/* The file, plain or gzip-compressed, read from the start on. */
typedef struct
{
  const char *path;
  int         fd;
  gzFile      gz;       /* NULL when plain */
  uint64_t    size;     /* of the file on disk */
  uint64_t    offset;   /* in the (uncompressed) stream */
} Source;

static bool
source_read (Source  *src,
             void    *buf,
             size_t   n,
             NnError *err)
{
  if (src->gz == NULL)
    {
      if (src->offset + n > src->size)
        return nn_error_set (err, NN_ERROR_FORMAT, "%s: truncated: the file holds %llu bytes, "
                             "%llu needed", src->path, (unsigned long long) src->size,
                             (unsigned long long) (src->offset + n));
      if (!nn_file_read_at (src->fd, src->path, buf, n, src->offset, err))
        return false;
      src->offset += n;
      return true;
    }
  size_t got = 0;
  while (got < n)
    {
      size_t want = n - got < ((size_t) 1 << 30) ? n - got : ((size_t) 1 << 30);
      int r = gzread (src->gz, (char *) buf + got, (unsigned) want);
      if (r <= 0)
        {
          int code = Z_OK;
          const char *why = gzerror (src->gz, &code);
          if (r < 0 && code != Z_BUF_ERROR)
            return nn_error_set (err, NN_ERROR_FORMAT, "%s: broken gzip data (%s) at byte %llu "
                                 "of the uncompressed stream", src->path, why,
                                 (unsigned long long) (src->offset + got));
          return nn_error_set (err, NN_ERROR_FORMAT, "%s: truncated: the compressed data ends "
                               "after %llu bytes, %llu needed", src->path,
                               (unsigned long long) (src->offset + got),
                               (unsigned long long) (src->offset + n));
        }
      got += (size_t) r;
    }
  src->offset += n;
  return true;
}

/* Reads and drops bytes up to offset. */
static bool
source_skip_to (Source   *src,
                uint64_t  offset,
                NnError  *err)
{
  if (src->gz == NULL)
    {
      src->offset = offset;
      return true;
    }
  unsigned char buf[4096];
  while (src->offset < offset)
    {
      size_t n = offset - src->offset < sizeof buf ? (size_t) (offset - src->offset) : sizeof buf;
      if (!source_read (src, buf, n, err))
        return false;
    }
  return true;
}

static uint32_t
bswap32 (uint32_t v)
{
  return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

/* Reads the header: version by sizeof_hdr (348 or 540, in either byte order), magic checked,
 * swapped to host order. */
static bool
read_header (Source  *src,
             Header  *h,
             NnError *err)
{
  unsigned char head[540];
  if (!source_read (src, head, 4, err))
    return false;
  uint32_t size;
  memcpy (&size, head, 4);
  bool swapped = size != 348 && size != 540;
  if (swapped)
    size = bswap32 (size);
  if (size != 348 && size != 540)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: not a NIfTI file (the header size is "
                         "neither 348 nor 540 bytes)", src->path);
  if (!source_read (src, head + 4, size - 4, err))
    return false;
  memset (h, 0, sizeof *h);
  h->swapped = swapped;
  if (size == 348)
    {
      nifti_1_header n1;
      memcpy (&n1, head, sizeof n1);
      if (memcmp (n1.magic, "ni1", 4) == 0)
        return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: a NIfTI header of a .hdr/.img "
                             "pair; only single-file .nii (or .nii.gz) is read", src->path);
      if (memcmp (n1.magic, "n+1", 4) != 0)
        return nn_error_set (err, NN_ERROR_FORMAT, "%s: not a NIfTI-1 file (bad magic)",
                             src->path);
      if (swapped)
        nifti_swap_as_nifti1 (&n1);
      h->version = 1;
      for (int i = 0; i < 8; i++)
        {
          h->dim[i] = n1.dim[i];
          h->pixdim[i] = (double) n1.pixdim[i];
        }
      h->datatype = n1.datatype;
      h->bitpix = n1.bitpix;
      h->vox_offset = isfinite (n1.vox_offset) && n1.vox_offset >= 0.0f
                      && n1.vox_offset < 2147483648.0f ? (int64_t) n1.vox_offset : -1;
      h->slope = (double) n1.scl_slope;
      h->inter = (double) n1.scl_inter;
      h->qform_code = n1.qform_code;
      h->sform_code = n1.sform_code;
      const float q[6] = { n1.quatern_b, n1.quatern_c, n1.quatern_d, n1.qoffset_x,
                           n1.qoffset_y, n1.qoffset_z };
      for (int i = 0; i < 3; i++)
        {
          h->quatern[i] = (double) q[i];
          h->qoffset[i] = (double) q[3 + i];
        }
      for (int c = 0; c < 4; c++)
        {
          h->srow[0][c] = (double) n1.srow_x[c];
          h->srow[1][c] = (double) n1.srow_y[c];
          h->srow[2][c] = (double) n1.srow_z[c];
        }
      return true;
    }
  nifti_2_header n2;
  memcpy (&n2, head, sizeof n2);
  if (memcmp (n2.magic, "ni2", 4) == 0)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: a NIfTI-2 header of a .hdr/.img "
                         "pair; only single-file .nii (or .nii.gz) is read", src->path);
  if (memcmp (n2.magic, "n+2\0\r\n\032\n", 8) != 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: not a NIfTI-2 file (bad magic)", src->path);
  if (swapped)
    nifti_swap_as_nifti2 (&n2);
  h->version = 2;
  for (int i = 0; i < 8; i++)
    {
      h->dim[i] = n2.dim[i];
      h->pixdim[i] = n2.pixdim[i];
    }
  h->datatype = n2.datatype;
  h->bitpix = n2.bitpix;
  h->vox_offset = n2.vox_offset;
  h->slope = n2.scl_slope;
  h->inter = n2.scl_inter;
  h->qform_code = n2.qform_code;
  h->sform_code = n2.sform_code;
  const double q[6] = { n2.quatern_b, n2.quatern_c, n2.quatern_d, n2.qoffset_x, n2.qoffset_y,
                        n2.qoffset_z };
  for (int i = 0; i < 3; i++)
    {
      h->quatern[i] = q[i];
      h->qoffset[i] = q[3 + i];
    }
  for (int c = 0; c < 4; c++)
    {
      h->srow[0][c] = n2.srow_x[c];
      h->srow[1][c] = n2.srow_y[c];
      h->srow[2][c] = n2.srow_z[c];
    }
  return true;
}

/* Bytes per voxel of a supported datatype, 0 for others. */
static int
datatype_bytes (int datatype)
{
  switch (datatype)
    {
    case NIFTI_TYPE_UINT8:
    case NIFTI_TYPE_INT8:
      return 1;
    case NIFTI_TYPE_INT16:
    case NIFTI_TYPE_UINT16:
      return 2;
    case NIFTI_TYPE_INT32:
    case NIFTI_TYPE_UINT32:
    case NIFTI_TYPE_FLOAT32:
      return 4;
    case NIFTI_TYPE_INT64:
    case NIFTI_TYPE_UINT64:
    case NIFTI_TYPE_FLOAT64:
      return 8;
    default:
      return 0;
    }
}

/* Checks the dimensions, type and offset; *nx, *ny, *nz get the size. */
static bool
check_header (const Source *src,
              const Header *h,
              int           size[3],
              NnError      *err)
{
  const char *path = src->path;
  int64_t nd = h->dim[0];
  if (nd < 1 || nd > 7)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: bad number of dimensions %lld (dim[0] must "
                         "be 1 to 7)", path, (long long) nd);
  for (int a = 1; a <= nd; a++)
    if (h->dim[a] < 1)
      return nn_error_set (err, NN_ERROR_FORMAT, "%s: dimension %d is %lld (must be at least "
                           "1)", path, a, (long long) h->dim[a]);
  for (int a = 4; a <= nd; a++)
    if (h->dim[a] > 1)
      return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: a %lld-D image with %lld values "
                           "along dimension %d; only 3-D volumes are read", path,
                           (long long) nd, (long long) h->dim[a], a);
  uint64_t voxels = 1;
  for (int a = 0; a < 3; a++)
    {
      int64_t n = a + 1 <= nd ? h->dim[a + 1] : 1;
      if (n > NN_VOLUME_MAX_SIDE)
        return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: %lld voxels along axis %d exceed "
                             "the limit of %d", path, (long long) n, a + 1, NN_VOLUME_MAX_SIDE);
      size[a] = (int) n;
      voxels *= (uint64_t) n;
    }
  if (voxels > NN_VOLUME_MAX_VOXELS)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: volume of %d x %d x %d voxels exceeds "
                         "the limit of %zu", path, size[0], size[1], size[2],
                         NN_VOLUME_MAX_VOXELS);
  int bytes = datatype_bytes (h->datatype);
  if (bytes == 0)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: voxel type %d (%s) is not supported "
                         "(integers and floats up to 64 bits are)", path, h->datatype,
                         nifti_datatype_to_string (h->datatype));
  if (h->bitpix != 8 * bytes)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: bitpix %d does not match voxel type %s",
                         path, h->bitpix, nifti_datatype_to_string (h->datatype));
  int64_t min_offset = h->version == 1 ? 352 : 544;
  if (h->vox_offset < min_offset || h->vox_offset > min_offset + MAX_EXTENSIONS)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: bad vox_offset %lld (expected %lld to "
                         "%lld)", path, (long long) h->vox_offset, (long long) min_offset,
                         (long long) (min_offset + MAX_EXTENSIONS));
  uint64_t need = (uint64_t) h->vox_offset + voxels * (uint64_t) bytes;
  if (src->gz == NULL && src->size < need)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: truncated: the file holds %llu bytes, its "
                         "header needs %llu", path, (unsigned long long) src->size,
                         (unsigned long long) need);
  return true;
}

/* One stored value as a double (bytes in file order, swapped when the file is). */
static double
stored_value (const unsigned char *p,
              int                  datatype,
              int                  bytes,
              bool                 swapped)
{
  unsigned char b[8];
  for (int i = 0; i < bytes; i++)
    b[i] = p[swapped ? bytes - 1 - i : i];
  switch (datatype)
    {
    case NIFTI_TYPE_UINT8:
      return b[0];
    case NIFTI_TYPE_INT8:
      return (int8_t) b[0];
    case NIFTI_TYPE_INT16:
      {
        int16_t v;
        memcpy (&v, b, 2);
        return v;
      }
    case NIFTI_TYPE_UINT16:
      {
        uint16_t v;
        memcpy (&v, b, 2);
        return v;
      }
    case NIFTI_TYPE_INT32:
      {
        int32_t v;
        memcpy (&v, b, 4);
        return v;
      }
    case NIFTI_TYPE_UINT32:
      {
        uint32_t v;
        memcpy (&v, b, 4);
        return v;
      }
    case NIFTI_TYPE_FLOAT32:
      {
        float v;
        memcpy (&v, b, 4);
        return (double) v;
      }
    case NIFTI_TYPE_INT64:
      {
        int64_t v;
        memcpy (&v, b, 8);
        return (double) v;
      }
    case NIFTI_TYPE_UINT64:
      {
        uint64_t v;
        memcpy (&v, b, 8);
        return (double) v;
      }
    case NIFTI_TYPE_FLOAT64:
      {
        double v;
        memcpy (&v, b, 8);
        return v;
      }
    default:
      return (double) NAN;
    }
}

/* The affine: sform when its code is set, else qform, else the voxel sizes alone. */
static void
set_geometry (NnVolume     *v,
              const Header *h)
{
  double dx = fabs (h->pixdim[1]) > 0.0 ? fabs (h->pixdim[1]) : 1.0;
  double dy = fabs (h->pixdim[2]) > 0.0 ? fabs (h->pixdim[2]) : 1.0;
  double dz = fabs (h->pixdim[3]) > 0.0 ? fabs (h->pixdim[3]) : 1.0;
  memset (v->affine, 0, sizeof v->affine);
  v->affine[3][3] = 1.0;
  bool finite = true;
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 4; c++)
      finite = finite && isfinite (h->srow[r][c]);
  if (h->sform_code > 0 && finite)
    memcpy (v->affine, h->srow, sizeof h->srow);
  else if (h->qform_code > 0)
    {
      nifti_dmat44 m = nifti_quatern_to_dmat44 (h->quatern[0], h->quatern[1], h->quatern[2],
                                                h->qoffset[0], h->qoffset[1], h->qoffset[2],
                                                dx, dy, dz, h->pixdim[0] < 0.0 ? -1.0 : 1.0);
      for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
          v->affine[r][c] = m.m[r][c];
    }
  else
    {
      v->affine[0][0] = dx;
      v->affine[1][1] = dy;
      v->affine[2][2] = dz;
    }
  for (int a = 0; a < 3; a++)
    {
      double len = 0.0;
      for (int w = 0; w < 3; w++)
        len += v->affine[w][a] * v->affine[w][a];
      v->spacing[a] = sqrt (len);
    }
  v->sform_code = h->sform_code;
  v->qform_code = h->qform_code;
}

/* Reads and converts the voxels. */
static bool
read_voxels (Source       *src,
             const Header *h,
             NnVolume     *v,
             NnError      *err)
{
  int bytes = datatype_bytes (h->datatype);
  size_t count = (size_t) v->nx * (size_t) v->ny * (size_t) v->nz;
  unsigned char *buf = malloc (CHUNK);
  if (buf == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", src->path);
  bool scale = h->slope != 0.0 && isfinite (h->slope) && isfinite (h->inter);
  bool ok = source_skip_to (src, (uint64_t) h->vox_offset, err);
  size_t per_chunk = CHUNK / (size_t) bytes;
  for (size_t at = 0; ok && at < count; at += per_chunk)
    {
      size_t n = count - at < per_chunk ? count - at : per_chunk;
      ok = source_read (src, buf, n * (size_t) bytes, err);
      for (size_t i = 0; ok && i < n; i++)
        {
          double x = stored_value (buf + i * (size_t) bytes, h->datatype, bytes, h->swapped);
          if (scale)
            x = x * h->slope + h->inter;
          float f = (float) x;
          if (!isfinite (f))
            ok = nn_error_set (err, NN_ERROR_NUMERIC, "%s: voxel %zu holds a value that is not "
                               "a finite float (%g)", src->path, at + i, x);
          v->data[at + i] = f;
        }
    }
  free (buf);
  return ok;
}

NnVolume *
nn_volume_load_nifti (const char *path,
                      NnError    *err)
{
  NN_ASSERT (path != NULL);
  Source src = { .path = path, .fd = -1 };
  src.fd = nn_file_open_regular (path, &src.size, err);
  if (src.fd < 0)
    return NULL;
  unsigned char magic[2] = { 0, 0 };
  bool ok = src.size >= 2 && nn_file_read_at (src.fd, path, magic, 2, 0, NULL);
  if (ok && magic[0] == 0x1f && magic[1] == 0x8b)
    {
      int copy = dup (src.fd);
      src.gz = copy >= 0 ? gzdopen (copy, "rb") : NULL;
      if (src.gz == NULL)
        {
          if (copy >= 0)
            close (copy);
          ok = nn_error_set (err, NN_ERROR_IO, "%s: cannot read: %s", path, strerror (errno));
        }
    }
  if (!ok && err != NULL && err->code == NN_ERROR_NONE)
    nn_error_set (err, NN_ERROR_FORMAT, "%s: not a NIfTI file (too short)", path);
  Header h;
  int size[3] = { 0, 0, 0 };
  NnVolume *v = NULL;
  ok = ok && read_header (&src, &h, err) && check_header (&src, &h, size, err);
  if (ok)
    {
      v = nn_volume_new (size[0], size[1], size[2]);
      if (v == NULL)
        ok = nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory for %d x %d x %d voxels",
                           path, size[0], size[1], size[2]);
    }
  ok = ok && read_voxels (&src, &h, v, err);
  if (src.gz != NULL)
    gzclose (src.gz);
  close (src.fd);
  if (!ok)
    {
      nn_volume_free (v);
      return NULL;
    }
  set_geometry (v, &h);
  float lo = INFINITY, hi = -INFINITY;
  size_t count = (size_t) v->nx * (size_t) v->ny * (size_t) v->nz;
  for (size_t i = 0; i < count; i++)
    {
      lo = fminf (lo, v->data[i]);
      hi = fmaxf (hi, v->data[i]);
    }
  v->hu = lo < -500.0f && hi > 0.0f;
  snprintf (v->source, sizeof v->source, "NIfTI-%d", h.version);
  return v;
}

/* ---- Writing ------------------------------------------------------------------------------ */

/* Writes n bytes to file, through the deflate stream z when it is not NULL (flush: finish). */
static bool
put_bytes (NnAtomicFile *file,
           z_stream     *z,
           const void   *bytes,
           size_t        n,
           bool          finish)
{
  if (z == NULL)
    return fwrite (bytes, 1, n, file->fp) == n;
  unsigned char out[1 << 16];
  z->next_in = (Bytef *) bytes;
  z->avail_in = (uInt) n;
  int r;
  do
    {
      z->next_out = out;
      z->avail_out = sizeof out;
      r = deflate (z, finish ? Z_FINISH : Z_NO_FLUSH);
      if (r == Z_STREAM_ERROR)
        return false;
      size_t have = sizeof out - z->avail_out;
      if (have > 0 && fwrite (out, 1, have, file->fp) != have)
        return false;
    }
  while (z->avail_out == 0 || (finish && r != Z_STREAM_END));
  return true;
}

static void
fill_header (const NnVolume *v,
             const char     *description,
             nifti_1_header *h)
{
  memset (h, 0, sizeof *h);
  h->sizeof_hdr = 348;
  h->dim[0] = 3;
  h->dim[1] = (short) v->nx;
  h->dim[2] = (short) v->ny;
  h->dim[3] = (short) v->nz;
  for (int i = 4; i < 8; i++)
    h->dim[i] = 1;
  h->datatype = NIFTI_TYPE_FLOAT32;
  h->bitpix = 32;
  h->vox_offset = 352.0f;
  h->scl_slope = 1.0f;
  h->scl_inter = 0.0f;
  h->xyzt_units = NIFTI_UNITS_MM;
  h->qform_code = (short) v->qform_code;
  h->sform_code = (short) v->sform_code;
  nifti_dmat44 m;
  memset (&m, 0, sizeof m);
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++)
      m.m[r][c] = v->affine[r][c];
  double qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;
  nifti_dmat44_to_quatern (m, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);
  h->quatern_b = (float) qb;
  h->quatern_c = (float) qc;
  h->quatern_d = (float) qd;
  h->qoffset_x = (float) qx;
  h->qoffset_y = (float) qy;
  h->qoffset_z = (float) qz;
  h->pixdim[0] = (float) qfac;
  h->pixdim[1] = (float) v->spacing[0];
  h->pixdim[2] = (float) v->spacing[1];
  h->pixdim[3] = (float) v->spacing[2];
  for (int c = 0; c < 4; c++)
    {
      h->srow_x[c] = (float) v->affine[0][c];
      h->srow_y[c] = (float) v->affine[1][c];
      h->srow_z[c] = (float) v->affine[2][c];
    }
  if (description != NULL)
    snprintf (h->descrip, sizeof h->descrip, "%s", description);
  memcpy (h->magic, "n+1", 4);
}

bool
nn_volume_save_nifti (const NnVolume *volume,
                      const char     *description,
                      const char     *path,
                      NnError        *err)
{
  NN_ASSERT (volume != NULL && path != NULL);
  if (volume->nx > 32767 || volume->ny > 32767 || volume->nz > 32767)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: NIfTI-1 holds at most 32767 voxels a "
                         "side", path);
  nifti_1_header h;
  fill_header (volume, description, &h);
  size_t len = strlen (path);
  bool gz = len > 3 && strcmp (path + len - 3, ".gz") == 0;
  NnAtomicFile file;
  if (!nn_atomic_file_open (&file, path, err))
    return false;
  z_stream z;
  memset (&z, 0, sizeof z);
  bool ok = !gz || deflateInit2 (&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  z_stream *zp = gz ? &z : NULL;
  const unsigned char extension[4] = { 0, 0, 0, 0 };
  ok = ok && put_bytes (&file, zp, &h, sizeof h, false)
       && put_bytes (&file, zp, extension, sizeof extension, false);
  size_t count = (size_t) volume->nx * (size_t) volume->ny * (size_t) volume->nz;
  size_t per_chunk = CHUNK / sizeof (float);
  for (size_t at = 0; ok && at < count; at += per_chunk)
    {
      size_t n = count - at < per_chunk ? count - at : per_chunk;
      ok = put_bytes (&file, zp, volume->data + at, n * sizeof (float), false);
    }
  ok = ok && (zp == NULL || put_bytes (&file, zp, extension, 0, true));
  if (gz)
    deflateEnd (&z);
  if (!ok)
    {
      int e = nn_atomic_file_error (&file);
      nn_error_set (err, NN_ERROR_IO, "%s: cannot write: %s", path,
                    e != 0 ? strerror (e) : "compression failed");
    }
  return nn_atomic_file_finish (&file, ok, err);
}
