/* SPDX-License-Identifier: MIT */
/* The isolated DICOM reader (nn-dicom-read.c): its replies checked byte by byte, and stand-in
 * helpers (shell scripts) that crash, hang, babble or fail, each of which must become an error
 * naming the file while this process goes on; the real helper's batches and memory limit. */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nn.h"
#include "io/nn-dicom-frame.h"
#include "io/nn-dicom-private.h"
#include "io/nn-file.h"
#include "test-util.h"

typedef TestUtilTmpDir Fixture;

static void
assert_error (const NnError *err,
              const char    *path,
              const char    *needle)
{
  g_assert_cmpint (err->code, !=, NN_ERROR_NONE);
  if (path != NULL && !g_str_has_prefix (err->message, path))
    g_error ("error '%s' does not start with '%s'", err->message, path);
  if (strstr (err->message, needle) == NULL)
    g_error ("error '%s' lacks '%s'", err->message, needle);
}

static void
put_u32 (GByteArray *b,
         guint32     v)
{
  guint8 le[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
  g_byte_array_append (b, le, 4);
}

static void
put_f64 (GByteArray *b,
         double      v)
{
  guint64 bits;
  memcpy (&bits, &v, sizeof bits);
  for (int i = 0; i < 8; i++)
    {
      guint8 byte = (guint8) (bits >> (8 * i));
      g_byte_array_append (b, &byte, 1);
    }
}

/* A reply carrying a rows x cols slice of values 0.5 * i - 100. */
static GByteArray *
slice_reply (guint32 rows,
             guint32 cols)
{
  GByteArray *b = g_byte_array_new ();
  g_byte_array_append (b, (const guint8 *) NN_DICOM_FRAME_MAGIC, 4);
  put_u32 (b, NN_DICOM_FRAME_VERSION);
  put_u32 (b, 0);
  put_u32 (b, rows);
  put_u32 (b, cols);
  put_f64 (b, 12.5);
  put_f64 (b, NAN);
  const double geometry[12] = { -100.0, -90.0, 12.5, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.7, 0.8,
                                NAN };
  for (int i = 0; i < 12; i++)
    put_f64 (b, geometry[i]);
  put_u32 (b, 5);
  put_u32 (b, 4);
  g_byte_array_append (b, (const guint8 *) "1.2.3", 5);
  g_byte_array_append (b, (const guint8 *) "Lung", 4);
  for (guint32 i = 0; i < rows * cols; i++)
    {
      float v = 0.5f * (float) i - 100.0f;
      guint32 bits;
      memcpy (&bits, &v, sizeof bits);
      put_u32 (b, bits);
    }
  return b;
}

static GByteArray *
error_reply (guint32     code,
             const char *message,
             guint32     n)
{
  GByteArray *b = g_byte_array_new ();
  g_byte_array_append (b, (const guint8 *) NN_DICOM_FRAME_MAGIC, 4);
  put_u32 (b, NN_DICOM_FRAME_VERSION);
  put_u32 (b, code);
  put_u32 (b, n);
  g_byte_array_append (b, (const guint8 *) message, (guint) strlen (message));
  return b;
}

static void
assert_reply_fails (const GByteArray *b,
                    const char       *needle)
{
  NnDicomSlice slice;
  NnError err = { 0 };
  g_assert_false (nn_dicom_reply_parse (b->data, b->len, "x.dcm", &slice, &err));
  g_assert_null (slice.image);
  assert_error (&err, "x.dcm: ", needle);
}

static void
test_reply_parse (void)
{
  GByteArray *b = slice_reply (2, 3);
  g_assert_cmpuint (nn_dicom_reply_length (b->data, b->len), ==, b->len);
  NnDicomSlice slice;
  NnError err = { 0 };
  g_assert_true (nn_dicom_reply_parse (b->data, b->len, "x.dcm", &slice, &err));
  g_assert_nonnull (slice.image);
  g_assert_cmpint (slice.image->h, ==, 2);
  g_assert_cmpint (slice.image->w, ==, 3);
  g_assert_true (slice.image->hu);
  g_assert_cmpfloat (slice.image->data[5], ==, -97.5f);
  g_assert_cmpfloat (slice.position, ==, 12.5);
  g_assert_true (isnan (slice.instance));
  g_assert_cmpfloat (slice.ipp[1], ==, -90.0);
  g_assert_cmpfloat (slice.iop[4], ==, 1.0);
  g_assert_cmpfloat (slice.spacing[1], ==, 0.8);
  g_assert_true (isnan (slice.tilt));
  g_assert_cmpstr (slice.series_uid, ==, "1.2.3");
  g_assert_cmpstr (slice.series_description, ==, "Lung");
  nn_image_free (slice.image);

  /* Cut anywhere, or one byte too long: malformed; for a cut reply the length asks for more
   * bytes (0: not known yet). */
  for (guint cut = 0; cut < b->len; cut++)
    {
      GByteArray *part = g_byte_array_new ();
      g_byte_array_append (part, b->data, cut);
      size_t len = nn_dicom_reply_length (part->data, part->len);
      g_assert_true (len == 0 || len > part->len);
      assert_reply_fails (part, "malformed");
      g_byte_array_free (part, TRUE);
    }
  g_byte_array_append (b, (const guint8 *) "", 1);
  assert_reply_fails (b, "length does not match");
  g_byte_array_free (b, TRUE);

  b = slice_reply (2, 3);
  b->data[0] = 'X';
  assert_reply_fails (b, "unknown format");
  g_assert_cmpuint (nn_dicom_reply_length (b->data, b->len), ==, NN_DICOM_FRAME_HEAD);
  g_byte_array_free (b, TRUE);
  b = slice_reply (2, 3);
  b->data[4] = 9;
  assert_reply_fails (b, "unknown format");
  g_byte_array_free (b, TRUE);
  b = slice_reply (0, 3);
  assert_reply_fails (b, "slice size out of range");
  g_byte_array_free (b, TRUE);
  b = slice_reply (NN_IMAGE_MAX_SIDE + 1, 1);
  b->len = NN_DICOM_FRAME_SLICE_HEAD;
  assert_reply_fails (b, "slice size out of range");
  g_byte_array_free (b, TRUE);
  /* A value that is not a finite number. */
  b = slice_reply (1, 2);
  memset (b->data + NN_DICOM_FRAME_SLICE_HEAD + 5 + 4 + 4, 0xff, 4);
  assert_reply_fails (b, "not a finite number");
  g_byte_array_free (b, TRUE);
  /* A series UID that is not digits and dots, or longer than a UID may be. */
  b = slice_reply (1, 2);
  b->data[NN_DICOM_FRAME_SLICE_HEAD + 1] = '/';
  assert_reply_fails (b, "bad series UID");
  g_byte_array_free (b, TRUE);
  b = slice_reply (1, 2);
  b->data[NN_DICOM_FRAME_SLICE_HEAD - 8] = NN_DICOM_FRAME_MAX_UID + 1;
  assert_reply_fails (b, "bad series UID length");
  g_byte_array_free (b, TRUE);
  /* A series description that is not printable, or too long. */
  b = slice_reply (1, 2);
  b->data[NN_DICOM_FRAME_SLICE_HEAD + 5 + 1] = '\n';
  assert_reply_fails (b, "bad series description");
  g_byte_array_free (b, TRUE);
  b = slice_reply (1, 2);
  b->data[NN_DICOM_FRAME_SLICE_HEAD - 4] = NN_DICOM_FRAME_MAX_DESCRIPTION + 1;
  assert_reply_fails (b, "bad series description length");
  g_byte_array_free (b, TRUE);

  /* Errors: the message is the helper's, after the file name; unprintable bytes are replaced;
   * an unknown code or a message of the wrong length is malformed. */
  b = error_reply (NN_ERROR_UNSUPPORTED, "no \x01 way", 8);
  g_assert_cmpuint (nn_dicom_reply_length (b->data, b->len), ==, b->len);
  g_assert_false (nn_dicom_reply_parse (b->data, b->len, "x.dcm", &slice, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_UNSUPPORTED);
  g_assert_cmpstr (err.message, ==, "x.dcm: no ? way");
  g_byte_array_free (b, TRUE);
  b = error_reply (99, "odd", 3);
  assert_reply_fails (b, "unknown error code");
  g_byte_array_free (b, TRUE);
  b = error_reply (NN_ERROR_FORMAT, "short", 9);
  assert_reply_fails (b, "bad message length");
  g_byte_array_free (b, TRUE);
  b = error_reply (NN_ERROR_FORMAT, "", NN_DICOM_FRAME_MAX_MESSAGE + 1);
  assert_reply_fails (b, "bad message length");
  g_byte_array_free (b, TRUE);
}

/* A stand-in helper: an executable shell script at dir/name with body. */
static char *
write_helper (const Fixture *fx,
              const char    *name,
              const char    *body)
{
  char *path = test_util_tmp_dir_path (fx, name);
  char *text = g_strdup_printf ("#!/bin/sh\n%s\n", body);
  test_util_write_file (path, text, strlen (text));
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
  g_free (text);
  return path;
}

/* A real slice written by nn_dicom_save, open for reading. */
static int
open_slice (const Fixture *fx,
            const char    *name,
            int            side,
            char         **path)
{
  NnImage *image = nn_image_new (1, side, side);
  for (int i = 0; i < side * side; i++)
    image->data[i] = (float) (i % 2000) - 1000.0f;
  *path = test_util_tmp_dir_path (fx, name);
  NnError err = { 0 };
  g_assert_true (nn_dicom_save (image, 0.5, NULL, *path, &err));
  nn_image_free (image);
  int fd = nn_file_open_regular (*path, NULL, &err);
  g_assert_cmpint (fd, >=, 0);
  return fd;
}

/* Runs the stand-in helper with body on one slice; the error must name the slice and hold
 * needle. */
static void
assert_helper_fails (const Fixture *fx,
                     const char    *body,
                     int            wall_ms,
                     const char    *needle)
{
  char *helper = write_helper (fx, "helper", body);
  char *path = NULL;
  int fd = open_slice (fx, "slice.dcm", 4, &path);
  const NnDicomLimits limits = { NN_DICOM_LIMIT_ADDRESS_SPACE, 10, wall_ms };
  NnDicomSlice slice;
  NnError err = { 0 };
  g_assert_false (nn_dicom_run_helper (helper, &fd, (const char *const *) &path, 1, &limits,
                                       &slice, &err));
  g_assert_null (slice.image);
  assert_error (&err, path, needle);
  g_test_message ("%s", err.message);
  close (fd);
  g_free (path);
  g_free (helper);
}

static void
test_crash (Fixture       *fx,
            gconstpointer  data)
{
  (void) data;
  assert_helper_fails (fx, "kill -ABRT $$", 30000,
                       "the DICOM decoder crashed on this file (signal 6: abort)");
  assert_helper_fails (fx, "kill -SEGV $$", 30000, "(signal 11: segmentation fault)");
  /* What it said on its way down is kept: an assertion from its start. */
  assert_helper_fails (fx, "echo 'cnnscope-dicom: x.cxx:1: f (): Assertion `0'\"'\"' failed.' "
                       ">&2\nkill -ABRT $$", 30000, "(signal 6: abort): Assertion `0' failed.");
  /* Part of a reply, then death: still a crash. */
  assert_helper_fails (fx, "printf 'NNDC'\nkill -KILL $$", 30000, "(signal 9: killed)");
}

/* A helper that never answers is stopped at the wall-clock limit, also when it has closed its
 * output. The limit is 1 s here; the helpers sleep far longer, so this cannot pass by luck. */
static void
test_timeout (Fixture       *fx,
              gconstpointer  data)
{
  (void) data;
  assert_helper_fails (fx, "exec sleep 600", 1000, "did not finish within 1 s");
  assert_helper_fails (fx, "exec >&- 2>&-\nexec sleep 600", 1000, "did not finish within 1 s");
}

static void
test_garbage (Fixture       *fx,
              gconstpointer  data)
{
  (void) data;
  assert_helper_fails (fx, "printf hello", 30000, "malformed (cut short)");
  assert_helper_fails (fx, "exit 0", 30000, "malformed (empty)");
  assert_helper_fails (fx, "head -c 100000 /dev/zero", 30000, "malformed (unknown format)");
  /* Endless output ends the run at the first impossible header. */
  assert_helper_fails (fx, "exec cat /dev/zero", 30000, "malformed (unknown format)");
  assert_helper_fails (fx, "echo 'no luck here' >&2\nexit 3", 30000,
                       "failed (exit status 3): no luck here");

  /* A helper that does not exist. */
  char *path = NULL;
  int fd = open_slice (fx, "slice.dcm", 4, &path);
  const NnDicomLimits limits = { NN_DICOM_LIMIT_ADDRESS_SPACE, 10, 30000 };
  NnDicomSlice slice;
  NnError err = { 0 };
  g_assert_false (nn_dicom_run_helper ("/nonexistent/cnnscope-dicom", &fd,
                                       (const char *const *) &path, 1, &limits, &slice, &err));
  assert_error (&err, path, "cannot run the DICOM decoder /nonexistent/cnnscope-dicom");
  close (fd);
  g_free (path);
}

/* The helper gets the file and nothing else of ours: not even a descriptor opened without
 * close-on-exec. */
static void
test_descriptors (Fixture       *fx,
                  gconstpointer  data)
{
  (void) data;
  char *leak_path = test_util_tmp_dir_path (fx, "leak");
  test_util_write_file (leak_path, "x", 1);
  int opened = open (leak_path, O_RDONLY);
  int leak = fcntl (opened, F_DUPFD, 50);   /* no close-on-exec, well above the helper's */
  g_assert_cmpint (leak, >=, 50);
  close (opened);
  char *body = g_strdup_printf ("[ -e /proc/self/fd/%d ] && exit 4\n"
                                "[ -e /proc/self/fd/3 ] || exit 5\nexit 6", leak);
  assert_helper_fails (fx, body, 30000, "exit status 6");
  close (leak);
  g_free (body);
  g_free (leak_path);
}

/* The real helper: several files in one run, in order; one bad file fails the run, naming it. */
static void
test_batch (Fixture       *fx,
            gconstpointer  data)
{
  (void) data;
  NnError err = { 0 };
  char *helper = nn_dicom_helper_path (&err);
  g_assert_nonnull (helper);
  char *paths[3];
  int fds[3];
  for (int k = 0; k < 3; k++)
    {
      char name[16];
      snprintf (name, sizeof name, "s%d.dcm", k);
      fds[k] = open_slice (fx, name, 4 + k, &paths[k]);
    }
  const NnDicomLimits limits = {
    NN_DICOM_LIMIT_ADDRESS_SPACE, NN_DICOM_LIMIT_CPU_SECONDS, NN_DICOM_LIMIT_WALL_MS,
  };
  NnDicomSlice slices[3];
  g_assert_true (nn_dicom_run_helper (helper, fds, (const char *const *) paths, 3, &limits,
                                      slices, &err));
  for (int k = 0; k < 3; k++)
    {
      g_assert_cmpint (slices[k].image->w, ==, 4 + k);
      g_assert_cmpfloat (slices[k].image->data[1], ==, -999.0f);
      nn_image_free (slices[k].image);
      close (fds[k]);
    }
  /* The middle file is not DICOM. */
  test_util_write_file (paths[1], "not a slice", 11);
  for (int k = 0; k < 3; k++)
    fds[k] = nn_file_open_regular (paths[k], NULL, &err);
  g_assert_false (nn_dicom_run_helper (helper, fds, (const char *const *) paths, 3, &limits,
                                       slices, &err));
  assert_error (&err, paths[1], "not a DICOM file");
  for (int k = 0; k < 3; k++)
    {
      g_assert_null (slices[k].image);
      close (fds[k]);
      g_free (paths[k]);
    }
  g_free (helper);
}

/* Sanitizers reserve terabytes of address space: the helper sets no address space limit then. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

/* A slice needing more memory than the helper may have is an error, not a swapping machine. */
static void
test_memory_limit (Fixture       *fx,
                   gconstpointer  data)
{
  (void) data;
#ifdef SANITIZED
  (void) fx;
  g_test_skip ("the helper sets no address space limit under a sanitizer");
#else
  NnError err = { 0 };
  char *helper = nn_dicom_helper_path (&err);
  g_assert_nonnull (helper);
  char *path = NULL;
  int fd = open_slice (fx, "big.dcm", 4096, &path);   /* 32 MiB of pixels */
  const NnDicomLimits limits = { (uint64_t) 96 << 20, NN_DICOM_LIMIT_CPU_SECONDS,
                                 NN_DICOM_LIMIT_WALL_MS };
  NnDicomSlice slice;
  g_assert_false (nn_dicom_run_helper (helper, &fd, (const char *const *) &path, 1, &limits,
                                       &slice, &err));
  assert_error (&err, path, "out of memory");
  close (fd);
  g_free (path);
  g_free (helper);
#endif
}

/* $CNNSCOPE_DICOM_HELPER (set by the build for the tests) names the helper; without it, a
 * program of the build tree (this test) gets the build tree's helper, never an installed one. */
static void
test_helper_path (void)
{
  const char *set = g_getenv ("CNNSCOPE_DICOM_HELPER");
  g_assert_nonnull (set);
  char *saved = g_strdup (set);
  NnError err = { 0 };
  char *path = nn_dicom_helper_path (&err);
  g_assert_cmpstr (path, ==, saved);
  g_free (path);
  g_unsetenv ("CNNSCOPE_DICOM_HELPER");
  path = nn_dicom_helper_path (&err);
  g_assert_nonnull (path);
  char *built = g_build_filename (g_getenv ("CNNSCOPE_BUILD_DIR"), "nn", "cnnscope-dicom", NULL);
  g_assert_cmpstr (path, ==, built);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE));
  g_free (built);
  g_free (path);
  g_setenv ("CNNSCOPE_DICOM_HELPER", saved, TRUE);
  g_free (saved);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/dicom-helper/reply-parse", test_reply_parse);
  g_test_add_func ("/nn/dicom-helper/path", test_helper_path);
#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, test_util_tmp_dir_setup, fn, test_util_tmp_dir_teardown)
  ADD ("/nn/dicom-helper/crash", test_crash);
  ADD ("/nn/dicom-helper/timeout", test_timeout);
  ADD ("/nn/dicom-helper/garbage", test_garbage);
  ADD ("/nn/dicom-helper/descriptors", test_descriptors);
  ADD ("/nn/dicom-helper/batch", test_batch);
  ADD ("/nn/dicom-helper/memory-limit", test_memory_limit);
#undef ADD
  return g_test_run ();
}
