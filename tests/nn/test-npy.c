/* SPDX-License-Identifier: MIT */
/* .npy reader and writer: a file written by NumPy, round trips, and broken files that must be
 * rejected with an error naming the file (from memory and from disk). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "nn.h"
#include "test-util.h"

/* np.save of np.array([[1.5, -2], [0.25, 3e-8]], dtype='<f4') by NumPy 1.x. */
static const char numpy_header[] =
  "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
static const unsigned char numpy_data[16] = {
  0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0,
  0x00, 0x00, 0x80, 0x3e, 0x59, 0xd9, 0x00, 0x33,
};

/* An .npy image: prelude of the given major version, header padded to 64 bytes with '\n'
 * last, then `ndata` bytes of data. */
static GByteArray *
make_npy (int                  major,
          const char          *header,
          const unsigned char *data,
          size_t               ndata)
{
  GByteArray *b = g_byte_array_new ();
  size_t prelude = major == 1 ? 10 : 12;
  size_t hlen = strlen (header) + 1;
  size_t padded = (prelude + hlen + 63) / 64 * 64 - prelude;
  guint8 head[12] = { 0x93, 'N', 'U', 'M', 'P', 'Y', (guint8) major, 0 };
  head[8] = (guint8) (padded & 0xff);
  head[9] = (guint8) ((padded >> 8) & 0xff);
  head[10] = (guint8) ((padded >> 16) & 0xff);
  head[11] = (guint8) ((padded >> 24) & 0xff);
  g_byte_array_append (b, head, (guint) prelude);
  g_byte_array_append (b, (const guint8 *) header, (guint) strlen (header));
  for (size_t i = hlen - 1; i < padded - 1; i++)
    g_byte_array_append (b, (const guint8 *) " ", 1);
  g_byte_array_append (b, (const guint8 *) "\n", 1);
  if (ndata > 0)
    g_byte_array_append (b, data, (guint) ndata);
  return b;
}

static char *
write_temp (const GByteArray *bytes,
            const char       *basename)
{
  char *dir = test_util_make_tmp_dir ();
  char *path = g_build_filename (dir, basename, NULL);
  g_assert_true (g_file_set_contents (path, (const char *) bytes->data, bytes->len, NULL));
  g_free (dir);
  return path;
}

static void
remove_temp (char *path)
{
  char *dir = g_path_get_dirname (path);
  g_remove (path);
  g_rmdir (dir);
  g_free (dir);
  g_free (path);
}

static void
test_numpy_file (void)
{
  g_autoptr (GByteArray) b = make_npy (1, numpy_header, numpy_data, sizeof numpy_data);
  g_assert_cmpuint (b->len, ==, 144);  /* what NumPy writes: 128 bytes of prelude + header */
  NnError err = { 0 };
  NnNpy *npy = nn_npy_load_memory (b->data, b->len, "mem.npy", &err);
  g_assert_nonnull (npy);
  g_assert_cmpint (npy->ndim, ==, 2);
  g_assert_cmpint (npy->dims[0], ==, 2);
  g_assert_cmpint (npy->dims[1], ==, 2);
  g_assert_cmpuint (npy->count, ==, 4);
  g_assert_cmpfloat (npy->data[0], ==, 1.5f);
  g_assert_cmpfloat (npy->data[1], ==, -2.0f);
  g_assert_cmpfloat (npy->data[2], ==, 0.25f);
  g_assert_cmpfloat (npy->data[3], ==, 3e-8f);
  nn_npy_free (npy);

  char *path = write_temp (b, "numpy.npy");
  npy = nn_npy_load (path, &err);
  g_assert_nonnull (npy);
  g_assert_cmpfloat (npy->data[3], ==, 3e-8f);
  nn_npy_free (npy);
  remove_temp (path);
}

static void
test_version_2 (void)
{
  g_autoptr (GByteArray) b = make_npy (2, numpy_header, numpy_data, sizeof numpy_data);
  NnNpy *npy = nn_npy_load_memory (b->data, b->len, "v2.npy", NULL);
  g_assert_nonnull (npy);
  g_assert_cmpfloat (npy->data[1], ==, -2.0f);
  nn_npy_free (npy);
}

static void
roundtrip (const int *dims,
           int        ndim)
{
  size_t count = 1;
  for (int i = 0; i < ndim; i++)
    count *= (size_t) dims[i];
  float *data = g_new (float, count + 1);
  for (size_t i = 0; i < count; i++)
    data[i] = (float) i * 0.37f - 5.0f;
  char *dir = test_util_make_tmp_dir ();
  char *path = g_build_filename (dir, "out.npy", NULL);
  NnError err = { 0 };
  g_assert_true (nn_npy_save (path, data, dims, ndim, &err));

  char *contents = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  size_t hlen = (guint8) contents[8] | (size_t) (guint8) contents[9] << 8;
  g_assert_cmpuint ((10 + hlen) % 64, ==, 0);
  g_assert_cmpuint (len, ==, 10 + hlen + 4 * count);
  g_assert_cmpint (contents[10 + hlen - 1], ==, '\n');
  g_free (contents);

  NnNpy *npy = nn_npy_load (path, &err);
  g_assert_nonnull (npy);
  g_assert_cmpint (npy->ndim, ==, ndim);
  for (int i = 0; i < ndim; i++)
    g_assert_cmpint (npy->dims[i], ==, dims[i]);
  g_assert_cmpuint (npy->count, ==, count);
  g_assert_cmpmem (npy->data, count * sizeof (float), data, count * sizeof (float));
  nn_npy_free (npy);

  /* Only the file itself is left in the folder: no temporary file. */
  g_assert_cmpint (test_util_count_entries (dir), ==, 1);
  g_remove (path);
  g_rmdir (dir);
  g_free (path);
  g_free (dir);
  g_free (data);
}

static void
test_roundtrip (void)
{
  const int d3[] = { 3, 5, 7 };
  const int d1[] = { 11 };
  const int d4[] = { 1, 2, 3, 4 };
  const int d0[] = { 2, 0 };
  roundtrip (d3, 3);
  roundtrip (d1, 1);
  roundtrip (d4, 4);
  roundtrip (d0, 2);
  roundtrip (NULL, 0);
}

static void
test_save_fails_cleanly (void)
{
  const float v[2] = { 1, 2 };
  const int dims[1] = { 2 };
  NnError err = { 0 };
  g_assert_false (nn_npy_save ("/nonexistent-dir/x.npy", v, dims, 1, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_IO);
  g_assert_nonnull (strstr (err.message, "/nonexistent-dir/x.npy"));
}

typedef struct
{
  const char *what;
  const char *header;  /* NULL: use numpy_header */
  int         major;
  int         data_delta;  /* bytes added to (or removed from) the 16 data bytes */
  const char *expect;      /* a word the message must contain */
} BadCase;

static const BadCase bad_cases[] = {
  { "f8", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 1, 0, "'<f8'" },
  { "big endian", "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", 1, 0, "'>f4'" },
  { "int", "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", 1, 0, "float32" },
  { "fortran", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 1, 0, "Fortran" },
  { "wrong shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 1, 0,
    "truncated" },
  { "negative dim", "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 2), }", 1, 0,
    "dimension" },
  { "huge", "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", 1,
    0, "too large" },
  { "dim overflow", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 1), }", 1,
    0, "too large" },
  { "nine dims",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 4), }", 1, 0,
    "dimensions" },
  { "no shape", "{'descr': '<f4', 'fortran_order': False, }", 1, 0, "shape" },
  { "repeated key",
    "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 1, 0,
    "descr" },
  { "unknown key", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'x': 1, }", 1, 0,
    "'x'" },
  { "not a dict", "['descr', '<f4']", 1, 0, "dictionary" },
  { "shape not tuple", "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 2], }", 1, 0,
    "tuple" },
  { "unterminated", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)", 1, 0,
    "malformed" },
  { "garbage after", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), } x", 1, 0,
    "after" },
  { "version 9", NULL, 9, 0, "version" },
  { "truncated data", NULL, 1, -1, "truncated" },
  { "no data", NULL, 1, -16, "truncated" },
  { "extra data", NULL, 1, 4, "unexpected" },
};

static void
check_bad (const GByteArray *b,
           const char       *expect)
{
  NnError err = { 0 };
  NnNpy *npy = nn_npy_load_memory (b->data, b->len, "bad-mem.npy", &err);
  g_assert_null (npy);
  g_assert_cmpint (err.code, !=, NN_ERROR_NONE);
  g_assert_nonnull (strstr (err.message, "bad-mem.npy"));
  if (strstr (err.message, expect) == NULL)
    g_error ("message '%s' lacks '%s'", err.message, expect);

  char *path = write_temp (b, "bad-file.npy");
  nn_error_clear (&err);
  npy = nn_npy_load (path, &err);
  g_assert_null (npy);
  g_assert_nonnull (strstr (err.message, path));
  if (strstr (err.message, expect) == NULL)
    g_error ("message '%s' lacks '%s'", err.message, expect);
  remove_temp (path);
}

static void
test_rejects_bad_headers (void)
{
  unsigned char data[32] = { 0 };
  memcpy (data, numpy_data, sizeof numpy_data);
  for (size_t i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      const BadCase *c = &bad_cases[i];
      g_test_message ("case: %s", c->what);
      GByteArray *b = make_npy (c->major, c->header ? c->header : numpy_header, data,
                                (size_t) (16 + c->data_delta));
      check_bad (b, c->expect);
      g_byte_array_unref (b);
    }
}

static void
test_rejects_bad_prelude (void)
{
  g_autoptr (GByteArray) good = make_npy (1, numpy_header, numpy_data, sizeof numpy_data);

  GByteArray *b = g_byte_array_new ();
  g_byte_array_append (b, good->data, good->len);
  b->data[1] = 'X';
  check_bad (b, "magic");

  /* A header length pointing past the end of the file. */
  g_byte_array_set_size (b, 0);
  g_byte_array_append (b, good->data, good->len);
  b->data[8] = 0xff;
  b->data[9] = 0x7f;
  check_bad (b, "truncated");

  /* A file cut inside the header, and one cut inside the prelude. */
  g_byte_array_set_size (b, 0);
  g_byte_array_append (b, good->data, 40);
  check_bad (b, "truncated");
  g_byte_array_set_size (b, 0);
  g_byte_array_append (b, good->data, 7);
  check_bad (b, "magic");
  g_byte_array_set_size (b, 0);
  check_bad (b, "magic");
  g_byte_array_unref (b);
}

static void
test_missing_file (void)
{
  NnError err = { 0 };
  g_assert_null (nn_npy_load ("/nonexistent/input.npy", &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_IO);
  g_assert_nonnull (strstr (err.message, "/nonexistent/input.npy"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/npy/numpy-file", test_numpy_file);
  g_test_add_func ("/nn/npy/version-2", test_version_2);
  g_test_add_func ("/nn/npy/roundtrip", test_roundtrip);
  g_test_add_func ("/nn/npy/save-fails-cleanly", test_save_fails_cleanly);
  g_test_add_func ("/nn/npy/rejects-bad-headers", test_rejects_bad_headers);
  g_test_add_func ("/nn/npy/rejects-bad-prelude", test_rejects_bad_prelude);
  g_test_add_func ("/nn/npy/missing-file", test_missing_file);
  return g_test_run ();
}
