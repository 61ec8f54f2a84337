/* SPDX-License-Identifier: MIT */
/* .npy reader and writer: a strict parser of the header's Python dict literal, size checks
 * before any allocation, atomic writes. */
#include "io/nn-npy.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/nn-atomic-file.h"
#include "io/nn-file.h"

static const unsigned char npy_magic[6] = { 0x93, 'N', 'U', 'M', 'P', 'Y' };

/* The fixed part before the header text: magic, version, header length (2 or 4 bytes). */
#define NPY_PRELUDE_MAX 12
/* No sane header is anywhere near this long; it bounds the allocation a file can ask for. */
#define NPY_HEADER_MAX  (1u << 20)

void
nn_npy_free (NnNpy *npy)
{
  if (npy == NULL)
    return;
  free (npy->data);
  free (npy);
}

/* Reads the prelude in bytes[0 .. size): sets the header length and where the header starts. */
static bool
parse_prelude (const unsigned char *bytes,
               size_t               size,
               const char          *name,
               size_t              *header_len,
               size_t              *header_start,
               NnError             *err)
{
  if (size < 10 || memcmp (bytes, npy_magic, sizeof npy_magic) != 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: not a .npy file (bad magic)", name);
  int major = bytes[6];
  if (major == 1)
    {
      *header_len = (size_t) bytes[8] | (size_t) bytes[9] << 8;
      *header_start = 10;
    }
  else if (major == 2 || major == 3)
    {
      if (size < 12)
        return nn_error_set (err, NN_ERROR_FORMAT, "%s: truncated .npy header", name);
      *header_len = (size_t) bytes[8] | (size_t) bytes[9] << 8 | (size_t) bytes[10] << 16
                    | (size_t) bytes[11] << 24;
      *header_start = 12;
    }
  else
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: .npy format version %d.%d is not "
                         "supported", name, major, bytes[7]);
  if (*header_len == 0 || *header_len > NPY_HEADER_MAX)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy header length %zu is invalid", name,
                         *header_len);
  return true;
}

typedef struct
{
  const char *p;
  const char *end;
} Cursor;

static void
skip_space (Cursor *c)
{
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static bool
accept (Cursor *c,
        char    ch)
{
  skip_space (c);
  if (c->p < c->end && *c->p == ch)
    {
      c->p++;
      return true;
    }
  return false;
}

/* A quoted Python string without escapes, copied into buf. */
static bool
parse_string (Cursor *c,
              char   *buf,
              size_t  size)
{
  skip_space (c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return false;
  char quote = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != quote)
    {
      if (*c->p == '\\' || n + 1 >= size)
        return false;
      buf[n++] = *c->p++;
    }
  if (c->p >= c->end)
    return false;
  c->p++;
  buf[n] = '\0';
  return true;
}

static bool
parse_word (Cursor     *c,
            const char *word)
{
  skip_space (c);
  size_t n = strlen (word);
  if ((size_t) (c->end - c->p) < n || memcmp (c->p, word, n) != 0)
    return false;
  c->p += n;
  return true;
}

/* "(d0, d1, ...)" with an optional trailing comma; "()" is a 0-d array. */
static bool
parse_shape (Cursor     *c,
             NnNpy      *npy,
             const char *name,
             NnError    *err)
{
  if (!accept (c, '('))
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy shape is not a tuple", name);
  npy->ndim = 0;
  npy->count = 1;
  while (!accept (c, ')'))
    {
      skip_space (c);
      if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy shape has a bad dimension", name);
      long long d = 0;
      while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        {
          d = d * 10 + (*c->p++ - '0');
          if (d > INT_MAX)
            return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy dimension is too large",
                                 name);
        }
      if (npy->ndim == NN_NPY_MAX_DIMS)
        return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: .npy arrays of more than %d "
                             "dimensions are not supported", name, NN_NPY_MAX_DIMS);
      npy->dims[npy->ndim++] = (int) d;
      if (d > 0 && npy->count > NN_NPY_MAX_COUNT / (size_t) d)
        return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy array is too large (more than %zu "
                             "elements)", name, NN_NPY_MAX_COUNT);
      npy->count *= (size_t) d;
      if (!accept (c, ','))
        {
          if (!accept (c, ')'))
            return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy shape is malformed", name);
          break;
        }
    }
  return true;
}

/* Parses "{'descr': '<f4', 'fortran_order': False, 'shape': (...), }" followed by padding. */
static bool
parse_header (const char *text,
              size_t      len,
              const char *name,
              NnNpy      *npy,
              NnError    *err)
{
  Cursor c = { text, text + len };
  bool have_descr = false, have_order = false, have_shape = false;
  if (!accept (&c, '{'))
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy header is not a dictionary", name);
  while (!accept (&c, '}'))
    {
      char key[32];
      if (!parse_string (&c, key, sizeof key) || !accept (&c, ':'))
        return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy header is malformed", name);
      if (strcmp (key, "descr") == 0 && !have_descr)
        {
          char descr[32];
          if (!parse_string (&c, descr, sizeof descr))
            return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy dtype is malformed", name);
          if (strcmp (descr, "<f4") != 0)
            return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: .npy dtype is '%s'; only "
                                 "little-endian float32 ('<f4') is supported", name, descr);
          have_descr = true;
        }
      else if (strcmp (key, "fortran_order") == 0 && !have_order)
        {
          if (parse_word (&c, "True"))
            return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: .npy array is in Fortran "
                                 "order; only C order is supported", name);
          if (!parse_word (&c, "False"))
            return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy fortran_order is malformed",
                                 name);
          have_order = true;
        }
      else if (strcmp (key, "shape") == 0 && !have_shape)
        {
          if (!parse_shape (&c, npy, name, err))
            return false;
          have_shape = true;
        }
      else
        return nn_error_set (err, NN_ERROR_FORMAT, "%s: unexpected or repeated key '%s' in .npy "
                             "header", name, key);
      if (!accept (&c, ','))
        {
          if (!accept (&c, '}'))
            return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy header is malformed", name);
          break;
        }
    }
  skip_space (&c);
  if (c.p != c.end)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: unexpected bytes after the .npy header",
                         name);
  if (!have_descr || !have_order || !have_shape)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy header lacks '%s'", name,
                         !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
  return true;
}

/* Allocates npy->data and converts `count` little-endian floats from bytes. */
static bool
take_data (NnNpy               *npy,
           const unsigned char *bytes,
           const char          *name,
           NnError             *err)
{
  npy->data = malloc ((npy->count ? npy->count : 1) * sizeof (float));
  if (npy->data == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory for %zu floats", name,
                         npy->count);
  for (size_t i = 0; i < npy->count; i++)
    {
      const unsigned char *b = bytes + 4 * i;
      uint32_t u = (uint32_t) b[0] | (uint32_t) b[1] << 8 | (uint32_t) b[2] << 16
                   | (uint32_t) b[3] << 24;
      memcpy (&npy->data[i], &u, sizeof u);
    }
  return true;
}

static bool
check_data_size (const NnNpy *npy,
                 size_t       available,
                 const char  *name,
                 NnError     *err)
{
  size_t want = npy->count * sizeof (float);
  if (available < want)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: .npy data is truncated (%zu of %zu bytes)",
                         name, available, want);
  if (available > want)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: %zu unexpected bytes after the .npy data",
                         name, available - want);
  return true;
}

NnNpy *
nn_npy_load_memory (const unsigned char *bytes,
                    size_t               size,
                    const char          *name,
                    NnError             *err)
{
  NN_ASSERT (bytes != NULL || size == 0);
  NN_ASSERT (name != NULL);
  size_t hlen = 0, hstart = 0;
  if (!parse_prelude (bytes, size, name, &hlen, &hstart, err))
    return NULL;
  if (size - hstart < hlen)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: truncated .npy header", name), NULL;
  NnNpy *npy = calloc (1, sizeof *npy);
  if (npy == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", name), NULL;
  if (!parse_header ((const char *) bytes + hstart, hlen, name, npy, err)
      || !check_data_size (npy, size - hstart - hlen, name, err)
      || !take_data (npy, bytes + hstart + hlen, name, err))
    {
      nn_npy_free (npy);
      return NULL;
    }
  return npy;
}

NnNpy *
nn_npy_load (const char *path,
             NnError    *err)
{
  NN_ASSERT (path != NULL);
  uint64_t size;
  int fd = nn_file_open_regular (path, &size, err);
  if (fd < 0)
    return NULL;
  FILE *f = fdopen (fd, "rb");
  if (f == NULL)
    {
      close (fd);
      return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path), NULL;
    }
  NnNpy *npy = NULL;
  char *header = NULL;
  unsigned char *data = NULL;
  unsigned char prelude[NPY_PRELUDE_MAX];
  size_t hlen = 0, hstart = 0;
  size_t file_size = (size_t) size;
  size_t got = fread (prelude, 1, sizeof prelude, f);
  if (!parse_prelude (prelude, got, path, &hlen, &hstart, err))
    goto out;
  if (file_size - hstart < hlen)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: truncated .npy header", path);
      goto out;
    }
  header = malloc (hlen);
  npy = calloc (1, sizeof *npy);
  if (header == NULL || npy == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
      goto fail;
    }
  if (fseek (f, (long) hstart, SEEK_SET) != 0 || fread (header, 1, hlen, f) != hlen)
    {
      nn_error_set (err, NN_ERROR_IO, "%s: read error", path);
      goto fail;
    }
  if (!parse_header (header, hlen, path, npy, err)
      || !check_data_size (npy, file_size - hstart - hlen, path, err))
    goto fail;
  data = malloc (npy->count * sizeof (float) + 1);
  if (data == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory for %zu floats", path, npy->count);
      goto fail;
    }
  if (fread (data, sizeof (float), npy->count, f) != npy->count)
    {
      nn_error_set (err, NN_ERROR_IO, "%s: read error", path);
      goto fail;
    }
  if (!take_data (npy, data, path, err))
    goto fail;
  goto out;

fail:
  nn_npy_free (npy);
  npy = NULL;
out:
  free (data);
  free (header);
  fclose (f);
  return npy;
}

static bool
write_all (FILE       *f,
           const void *buf,
           size_t      n)
{
  return fwrite (buf, 1, n, f) == n;
}

bool
nn_npy_save (const char  *path,
             const float *data,
             const int   *dims,
             int          ndim,
             NnError     *err)
{
  NN_ASSERT (path != NULL && (dims != NULL || ndim == 0));
  NN_ASSERT (ndim >= 0 && ndim <= NN_NPY_MAX_DIMS);
  size_t count = 1;
  char shape[NN_NPY_MAX_DIMS * 12 + 4];
  size_t n = 0;
  shape[n++] = '(';
  for (int i = 0; i < ndim; i++)
    {
      NN_ASSERT (dims[i] >= 0);
      count *= (size_t) dims[i];
      n += (size_t) snprintf (shape + n, sizeof shape - n, i == 0 ? "%d" : ", %d", dims[i]);
    }
  if (ndim == 1)
    shape[n++] = ',';
  shape[n++] = ')';
  shape[n] = '\0';
  NN_ASSERT (data != NULL || count == 0);

  /* The header is padded with spaces so that the data starts at a multiple of 64 bytes. */
  char header[256];
  int len = snprintf (header, sizeof header,
                      "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape);
  size_t hlen = (size_t) len + 1;
  size_t padded = (10 + hlen + 63) / 64 * 64 - 10;
  NN_ASSERT (padded < sizeof header);
  memset (header + len, ' ', padded - (size_t) len - 1);
  header[padded - 1] = '\n';

  unsigned char prelude[10];
  memcpy (prelude, npy_magic, sizeof npy_magic);
  prelude[6] = 1;
  prelude[7] = 0;
  prelude[8] = (unsigned char) (padded & 0xff);
  prelude[9] = (unsigned char) (padded >> 8);

  NnAtomicFile file;
  if (!nn_atomic_file_open (&file, path, err))
    return false;
  bool ok = write_all (file.fp, prelude, sizeof prelude) && write_all (file.fp, header, padded);
  for (size_t i = 0; ok && i < count; i++)
    {
      uint32_t u;
      memcpy (&u, &data[i], sizeof u);
      unsigned char b[4] = { (unsigned char) u, (unsigned char) (u >> 8),
                             (unsigned char) (u >> 16), (unsigned char) (u >> 24) };
      ok = write_all (file.fp, b, sizeof b);
    }
  if (!ok)
    nn_error_set (err, NN_ERROR_IO, "%s: cannot write: %s", path, strerror (errno));
  return nn_atomic_file_finish (&file, ok, err);
}
