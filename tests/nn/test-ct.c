/* SPDX-License-Identifier: MIT */
/* CT input: window/level, 16-bit PNG as HU + 1024, DICOM through GDCM (hand-built files with
 * known values, the real CT_small.dcm against pydicom, writing and reading back, series order)
 * and broken DICOM and PNG files that must give an error naming the file. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"
#include "test-dicom.h"
#include "test-util.h"

typedef TestUtilTmpDir Fixture;

#define CT_SMALL "/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm"

/* ---- Window/level ------------------------------------------------------------------------- */

static void
test_window_presets (void)
{
  NnCtWindow w;
  NnError err = { 0 };
  g_assert_true (nn_ct_window_parse ("lung", &w, &err));
  g_assert_cmpfloat (w.width, ==, 1500.0f);
  g_assert_cmpfloat (w.level, ==, -600.0f);
  g_assert_cmpstr (nn_ct_window_name (&w), ==, "lung");
  g_assert_true (nn_ct_window_parse ("mediastinum", &w, &err));
  g_assert_cmpfloat (w.width, ==, 350.0f);
  g_assert_cmpfloat (w.level, ==, 50.0f);
  g_assert_true (nn_ct_window_parse ("bone", &w, &err));
  g_assert_cmpfloat (w.width, ==, 2000.0f);
  g_assert_cmpfloat (w.level, ==, 300.0f);
  g_assert_true (nn_ct_window_parse ("400,-40.5", &w, &err));
  g_assert_cmpfloat (w.width, ==, 400.0f);
  g_assert_cmpfloat (w.level, ==, -40.5f);
  g_assert_null (nn_ct_window_name (&w));
  char buf[64];
  nn_ct_window_format (&w, buf, sizeof buf);
  g_assert_cmpstr (buf, ==, "W 400, L -40.5");

  const char *bad[] = { "", "lungs", "0,40", "-5,40", "400", "400,", "400,40x", "nan,0",
                        "400;40" };
  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      NnError e = { 0 };
      g_assert_false (nn_ct_window_parse (bad[i], &w, &e));
      g_assert_cmpint (e.code, ==, NN_ERROR_SPEC);
      g_assert_nonnull (strstr (e.message, "window"));
    }
}

static void
test_window_apply (void)
{
  /* Lung: [-1350, 150] maps to [0, 1]. */
  NnCtWindow w = NN_CT_WINDOW_LUNG;
  const float hu[] = { -2000.0f, -1350.0f, -600.0f, -975.0f, 150.0f, 3000.0f, NAN };
  const float want[] = { 0.0f, 0.0f, 0.5f, 0.25f, 1.0f, 1.0f, 0.0f };
  float out[G_N_ELEMENTS (hu)];
  nn_ct_window_apply (&w, out, hu, G_N_ELEMENTS (hu));
  for (size_t i = 0; i < G_N_ELEMENTS (hu); i++)
    g_assert_cmpfloat (fabsf (out[i] - want[i]), <, 1e-6f);
  /* Mediastinum: 50 HU is the middle, -125 and 225 the ends. */
  w = NN_CT_WINDOW_MEDIASTINUM;
  const float hu2[] = { 50.0f, -125.0f, 225.0f, 137.5f };
  const float want2[] = { 0.5f, 0.0f, 1.0f, 0.75f };
  nn_ct_window_apply (&w, out, hu2, 4);
  for (size_t i = 0; i < 4; i++)
    g_assert_cmpfloat (fabsf (out[i] - want2[i]), <, 1e-6f);
}

/* ---- PNG ---------------------------------------------------------------------------------- */

static void
write_png16 (const char     *path,
             int             w,
             int             h,
             int             color_type,
             const guint16  *samples,
             int             channels)
{
  FILE *fp = fopen (path, "wb");
  g_assert_nonnull (fp);
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  png_init_io (png, fp);
  png_set_IHDR (png, info, w, h, 16, color_type, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  guint8 *row = g_new (guint8, (gsize) w * channels * 2);
  for (int y = 0; y < h; y++)
    {
      for (int i = 0; i < w * channels; i++)
        {
          guint16 v = samples[(gsize) y * w * channels + i];
          row[2 * i] = (guint8) (v >> 8);
          row[2 * i + 1] = (guint8) (v & 0xff);
        }
      png_write_row (png, row);
    }
  g_free (row);
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  fclose (fp);
}

static void
test_png16_hu (Fixture       *fx,
               gconstpointer  data)
{
  (void) data;
  /* Samples written by libpng directly: HU = sample - 1024. */
  const guint16 samples[6] = { 0, 24, 1024, 1074, 2024, 4095 };
  char *path = test_util_tmp_dir_path (fx, "slice.png");
  write_png16 (path, 3, 2, PNG_COLOR_TYPE_GRAY, samples, 1);
  NnError err = { 0 };
  NnImage *image = nn_ct_load (path, &err);
  g_assert_nonnull (image);
  g_assert_true (image->hu);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (fabsf (image->data[i] - ((float) samples[i] - 1024.0f)), <, 0.01f);

  /* nn_ct_save_png16 writes the same samples back. */
  char *copy = test_util_tmp_dir_path (fx, "copy.png");
  g_assert_true (nn_ct_save_png16 (image, copy, &err));
  NnImage *again = nn_ct_load (copy, &err);
  g_assert_nonnull (again);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (fabsf (again->data[i] - image->data[i]), <, 0.01f);
  nn_image_free (again);
  nn_image_free (image);
  g_free (copy);
  g_free (path);
}

static void
test_png_bad (Fixture       *fx,
              gconstpointer  data)
{
  (void) data;
  guint16 samples[4 * 4 * 4];
  for (int i = 0; i < 64; i++)
    samples[i] = (guint16) (i * 1000);
  const struct { int type, channels; const char *what; } cases[] = {
    { PNG_COLOR_TYPE_RGBA, 4, "RGBA" },
    { PNG_COLOR_TYPE_RGB, 3, "RGB" },
    { PNG_COLOR_TYPE_GRAY_ALPHA, 2, "gray + alpha" },
  };
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      char *path = test_util_tmp_dir_path (fx, "colour16.png");
      write_png16 (path, 4, 4, cases[c].type, samples, cases[c].channels);
      NnError err = { 0 };
      g_assert_null (nn_ct_load (path, &err));
      g_assert_cmpint (err.code, ==, NN_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (err.message, path));
      g_assert_nonnull (strstr (err.message, cases[c].what));
      g_free (path);
    }

  /* An 8-bit PNG is an already windowed view: [0, 1], not HU. */
  NnImage *gray = nn_image_new (1, 2, 2);
  gray->data[1] = 1.0f;
  char *path8 = test_util_tmp_dir_path (fx, "view.png");
  NnError err = { 0 };
  g_assert_true (nn_image_save_png (gray, path8, 8, &err));
  NnImage *view = nn_ct_load (path8, &err);
  g_assert_nonnull (view);
  g_assert_false (view->hu);
  g_assert_cmpfloat (view->data[1], ==, 1.0f);
  nn_image_free (view);
  nn_image_free (gray);
  g_free (path8);
}

/* ---- Hand-built DICOM --------------------------------------------------------------------- */

static char *
write_dicom (Fixture         *fx,
             const char      *name,
             const TestDicomSpec *s)
{
  char *path = test_util_tmp_dir_path (fx, name);
  GByteArray *b = test_dicom_make (s);
  test_util_write_file (path, b->data, b->len);
  g_byte_array_free (b, TRUE);
  return path;
}

static void
test_dicom_known_values (Fixture       *fx,
                         gconstpointer  data)
{
  (void) data;
  /* 12 bits stored, signed, in 16-bit words with junk in the top 4 bits; slope 2, intercept
   * -1024: HU = 2 * sign_extend_12 (word & 0xfff) - 1024. */
  const guint16 words[6] = { 0x0000, 0x0001, 0x07ff, 0x0800, 0xfffe, 0xa123 };
  const float want[6] = { -1024.0f, -1022.0f, 2.0f * 2047.0f - 1024.0f,
                          2.0f * -2048.0f - 1024.0f, 2.0f * -2.0f - 1024.0f,
                          2.0f * 0x123 - 1024.0f };
  TestDicomSpec s = test_dicom_spec_default ();
  s.rows = 2;
  s.cols = 3;
  s.bits_stored = 12;
  s.slope = "2";
  s.intercept = "-1024";
  s.values = words;
  char *path = write_dicom (fx, "known.dcm", &s);
  NnError err = { 0 };
  NnImage *image = nn_dicom_load (path, &err);
  g_assert_nonnull (image);
  g_assert_true (image->hu);
  g_assert_cmpint (image->c, ==, 1);
  g_assert_cmpint (image->h, ==, 2);
  g_assert_cmpint (image->w, ==, 3);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (image->data[i], ==, want[i]);
  nn_image_free (image);

  /* nn_ct_load recognises DICOM by content, whatever the name. */
  char *renamed = test_util_tmp_dir_path (fx, "known.bin");
  g_assert_cmpint (g_rename (path, renamed), ==, 0);
  image = nn_ct_load (renamed, &err);
  g_assert_nonnull (image);
  g_assert_cmpfloat (image->data[1], ==, -1022.0f);
  nn_image_free (image);
  g_free (renamed);
  g_free (path);
}

/* Runs /usr/bin/python3 with pydicom: HU of path (pixel_array * slope + intercept) as float32
 * into npy_path. False when pydicom is not there. */
static gboolean
pydicom_hu (const char *path,
            const char *npy_path)
{
  char *script = g_strdup_printf (
    "import numpy, pydicom\n"
    "d = pydicom.dcmread(r'''%s''')\n"
    "hu = d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept)\n"
    "numpy.save(r'''%s''', hu.astype('<f4'))\n", path, npy_path);
  char *argv[] = { (char *) "/usr/bin/python3", (char *) "-c", script, NULL };
  int status = -1;
  gboolean ran = g_spawn_sync (NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL
                               | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status,
                               NULL);
  g_free (script);
  return ran && g_spawn_check_wait_status (status, NULL);
}

static void
assert_matches_pydicom (Fixture    *fx,
                        const char *path,
                        const NnImage *image)
{
  char *npy_path = test_util_tmp_dir_path (fx, "pydicom.npy");
  if (!pydicom_hu (path, npy_path))
    {
      g_test_skip ("pydicom (python3-pydicom, numpy) not available under /usr/bin/python3");
      g_free (npy_path);
      return;
    }
  NnError err = { 0 };
  NnNpy *ref = nn_npy_load (npy_path, &err);
  g_assert_nonnull (ref);
  g_assert_cmpint (ref->ndim, ==, 2);
  g_assert_cmpint (ref->dims[0], ==, image->h);
  g_assert_cmpint (ref->dims[1], ==, image->w);
  double max_diff = 0.0;
  for (size_t i = 0; i < ref->count; i++)
    max_diff = fmax (max_diff, fabs ((double) ref->data[i] - (double) image->data[i]));
  g_test_message ("%s: %zu pixels, largest difference from pydicom %g HU", path, ref->count,
                  max_diff);
  g_assert_cmpfloat (max_diff, ==, 0.0);
  nn_npy_free (ref);
  g_free (npy_path);
}

static void
test_dicom_ct_small (Fixture       *fx,
                     gconstpointer  data)
{
  (void) data;
  if (!g_file_test (CT_SMALL, G_FILE_TEST_EXISTS))
    {
      g_test_skip (CT_SMALL " not installed (python3-pydicom)");
      return;
    }
  NnError err = { 0 };
  NnImage *image = nn_dicom_load (CT_SMALL, &err);
  g_assert_nonnull (image);
  g_assert_cmpint (image->h, ==, 128);
  g_assert_cmpint (image->w, ==, 128);
  /* Values pydicom gives for this file (int16 pixels, slope 1, intercept -1024): the first
   * row starts -849, -844, -858. */
  g_assert_cmpfloat (image->data[0], ==, -849.0f);
  g_assert_cmpfloat (image->data[1], ==, -844.0f);
  g_assert_cmpfloat (image->data[2], ==, -858.0f);
  assert_matches_pydicom (fx, CT_SMALL, image);
  nn_image_free (image);
}

static void
test_dicom_save_load (Fixture       *fx,
                      gconstpointer  data)
{
  (void) data;
  NnImage *image = nn_image_new (1, 5, 7);
  image->hu = TRUE;
  for (int i = 0; i < 35; i++)
    image->data[i] = -1024.0f + 97.0f * (float) i;
  image->data[3] = -3000.0f;  /* below the range: clamped to -1024 */
  char *path = test_util_tmp_dir_path (fx, "out.dcm");
  NnError err = { 0 };
  g_assert_true (nn_dicom_save (image, 0.75, "test slice", path, &err));
  NnImage *back = nn_dicom_load (path, &err);
  g_assert_nonnull (back);
  g_assert_cmpint (back->h, ==, 5);
  g_assert_cmpint (back->w, ==, 7);
  for (int i = 0; i < 35; i++)
    g_assert_cmpfloat (back->data[i], ==, i == 3 ? -1024.0f : image->data[i]);
  assert_matches_pydicom (fx, path, back);
  nn_image_free (back);
  nn_image_free (image);
  g_free (path);
}

static void
test_dicom_series (Fixture       *fx,
                   gconstpointer  data)
{
  (void) data;
  char *dir = test_util_tmp_dir_path (fx, "series");
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  /* File names in the opposite order of the positions along z. */
  const char *names[3] = { "a.dcm", "b.dcm", "c.dcm" };
  const char *positions[3] = { "0\\0\\20", "0\\0\\10", "0\\0\\-5" };
  for (int k = 0; k < 3; k++)
    {
      guint16 words[12];
      for (int i = 0; i < 12; i++)
        words[i] = (guint16) (100 * k + i);
      TestDicomSpec s = test_dicom_spec_default ();
      s.values = words;
      s.position = positions[k];
      char *name = g_build_filename ("series", names[k], NULL);
      g_free (write_dicom (fx, name, &s));
      g_free (name);
    }
  char *other = g_build_filename (dir, "notes.txt", NULL);
  test_util_write_file (other, "not dicom", 9);
  int n = 0;
  NnError err = { 0 };
  NnImage **slices = nn_dicom_load_series (dir, &n, &err);
  g_assert_nonnull (slices);
  g_assert_cmpint (n, ==, 3);
  /* z = -5 (c), 10 (b), 20 (a). */
  g_assert_cmpfloat (slices[0]->data[0], ==, 200.0f);
  g_assert_cmpfloat (slices[1]->data[0], ==, 100.0f);
  g_assert_cmpfloat (slices[2]->data[0], ==, 0.0f);
  nn_dicom_series_free (slices, n);

  /* A slice of another size breaks the series. */
  TestDicomSpec s = test_dicom_spec_default ();
  s.rows = 4;
  char *name = g_build_filename ("series", "d.dcm", NULL);
  g_free (write_dicom (fx, name, &s));
  g_free (name);
  g_assert_null (nn_dicom_load_series (dir, &n, &err));
  g_assert_nonnull (strstr (err.message, "in a series of"));
  g_free (other);
  g_free (dir);
}

static void
assert_dicom_error (const char *path,
                    const char *needle)
{
  NnError err = { 0 };
  NnImage *image = nn_dicom_load (path, &err);
  if (image != NULL)
    g_error ("%s loaded, expected an error with '%s'", path, needle);
  g_assert_cmpint (err.code, !=, NN_ERROR_NONE);
  g_assert_nonnull (strstr (err.message, path));
  if (strstr (err.message, needle) == NULL)
    g_error ("error '%s' lacks '%s'", err.message, needle);
}

static void
test_dicom_bad (Fixture       *fx,
                gconstpointer  data)
{
  (void) data;
  TestDicomSpec s = test_dicom_spec_default ();
  s.pixels = FALSE;
  char *path = write_dicom (fx, "nopixels.dcm", &s);
  assert_dicom_error (path, "without pixel data");
  g_free (path);

  s = test_dicom_spec_default ();
  s.frames = 2;
  path = write_dicom (fx, "frames.dcm", &s);
  assert_dicom_error (path, "multi-frame");
  g_free (path);

  s = test_dicom_spec_default ();
  s.samples = 3;
  path = write_dicom (fx, "rgb.dcm", &s);
  assert_dicom_error (path, "samples per pixel");
  g_free (path);

  /* Rows x Columns say 3 x 4 x 2 bytes, the pixel data holds 10. */
  s = test_dicom_spec_default ();
  s.pixel_bytes = 10;
  path = write_dicom (fx, "lies.dcm", &s);
  assert_dicom_error (path, "pixel data holds 10 bytes");
  g_free (path);

  s = test_dicom_spec_default ();
  s.rows = 40000;
  path = write_dicom (fx, "huge.dcm", &s);
  assert_dicom_error (path, "exceeds the limit");
  g_free (path);

  /* A transfer syntax nobody knows, and a compressed one (JPEG baseline) whose pixel data is
   * not JPEG at all. */
  s = test_dicom_spec_default ();
  s.ts = "1.2.3.999.1";
  path = write_dicom (fx, "unknown-ts.dcm", &s);
  assert_dicom_error (path, "unsupported transfer syntax '1.2.3.999.1'");
  g_free (path);
  s = test_dicom_spec_default ();
  s.ts = "1.2.840.10008.1.2.4.50";
  s.fragments = TRUE;
  path = write_dicom (fx, "fake-jpeg.dcm", &s);
  assert_dicom_error (path, "");
  g_free (path);

  s = test_dicom_spec_default ();
  s.slope = "abc";
  path = write_dicom (fx, "slope.dcm", &s);
  assert_dicom_error (path, "Rescale Slope");
  g_free (path);

  /* Truncated anywhere: an error, never a crash. */
  s = test_dicom_spec_default ();
  s.rows = 16;
  s.cols = 16;
  GByteArray *b = test_dicom_make (&s);
  path = test_util_tmp_dir_path (fx, "cut.dcm");
  for (guint cut = 0; cut < b->len - 1; cut += 13)
    {
      test_util_write_file (path, b->data, cut);
      NnError err = { 0 };
      NnImage *image = nn_dicom_load (path, &err);
      g_assert_null (image);
      g_assert_nonnull (strstr (err.message, path));
    }
  g_byte_array_free (b, TRUE);
  g_free (path);

  path = test_util_tmp_dir_path (fx, "text.dcm");
  test_util_write_file (path, "hello", 5);
  assert_dicom_error (path, "not a DICOM file");
  g_free (path);
  path = test_util_tmp_dir_path (fx, "missing.dcm");
  assert_dicom_error (path, "No such file");
  g_free (path);
}

/* Files that made GDCM abort the whole process, or allocate most of a gigabyte, when it ran in
 * it: each is now an error naming the file, and this process goes on. Most are caught before
 * GDCM sees them; the last one reaches GDCM and kills only the cnnscope-dicom helper. */
static void
test_dicom_hostile (Fixture       *fx,
                    gconstpointer  data)
{
  (void) data;
  /* An MR slice with a Rescale Intercept and no (or an empty) Rescale Slope; a multi-valued
   * intercept. */
  TestDicomSpec s = test_dicom_spec_default ();
  s.sop = "1.2.840.10008.5.1.4.1.1.4";
  s.slope = NULL;
  s.intercept = "5";
  char *path = write_dicom (fx, "mr-intercept.dcm", &s);
  assert_dicom_error (path, "Rescale Slope '' (absent) or Intercept '5'");
  g_free (path);
  s.slope = "";
  path = write_dicom (fx, "mr-empty-slope.dcm", &s);
  assert_dicom_error (path, "Rescale Slope '' or Intercept '5'");
  g_free (path);
  s = test_dicom_spec_default ();
  s.intercept = "5\\6";
  path = write_dicom (fx, "two-intercepts.dcm", &s);
  assert_dicom_error (path, "Intercept '5\\6'");
  g_free (path);

  /* A VR that is no VR in the file meta group. */
  s = test_dicom_spec_default ();
  s.ts_vr = "\x01\x02";
  path = write_dicom (fx, "meta-vr.dcm", &s);
  assert_dicom_error (path, "invalid VR in the file meta information");
  g_free (path);

  /* A sequence delimiter where an element is expected. */
  static const guint8 delimiter[8] = { 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0 };
  s = test_dicom_spec_default ();
  s.extra = delimiter;
  s.extra_len = sizeof delimiter;
  path = write_dicom (fx, "delimiter.dcm", &s);
  assert_dicom_error (path, "misplaced item or delimiter tag");
  g_free (path);

  /* A 12-bit JPEG (extended, process 2/4) whose header has stray bytes after the frame header:
   * libjpeg warns, and GDCM's 12-bit codec asserts on any warning. */
  static const guint8 jpeg[] = {
    0xff, 0xd8,                                          /* SOI */
    0xff, 0xc1, 0, 11, 12, 0, 3, 0, 4, 1, 1, 0x11, 0,    /* SOF1: 12 bits, 3 x 4, 1 component */
    0x12, 0x34,                                          /* stray bytes */
    0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0,               /* SOS */
    0xff, 0xd9,                                          /* EOI */
  };
  s = test_dicom_spec_default ();
  s.ts = "1.2.840.10008.1.2.4.51";
  s.bits_stored = 12;
  s.fragments = TRUE;
  s.fragment = jpeg;
  s.fragment_len = sizeof jpeg;
  path = write_dicom (fx, "jpeg12.dcm", &s);
  assert_dicom_error (path, "corrupt JPEG header");
  g_free (path);

  /* PALETTE COLOR without a palette. */
  s = test_dicom_spec_default ();
  s.photometric = "PALETTE COLOR";
  path = write_dicom (fx, "palette.dcm", &s);
  assert_dicom_error (path, "photometric interpretation 'PALETTE COLOR'");
  g_free (path);

  /* A private element declaring 770 MB in a file of a few hundred bytes. */
  static const guint8 huge[12] = { 0x09, 0x00, 0x10, 0x10, 'O', 'B', 0, 0, 0, 0, 0xe0, 0x2d };
  s = test_dicom_spec_default ();
  s.extra = huge;
  s.extra_len = sizeof huge;
  path = write_dicom (fx, "huge-length.dcm", &s);
  assert_dicom_error (path, "element longer than the rest of the file");
  g_free (path);

  /* Image Position (Patient) as UL: well formed, but GDCM asserts that the VR fits the
   * attribute. The helper dies; the error says how. */
  s = test_dicom_spec_default ();
  s.position = "0\\0\\20";
  s.position_vr = "UL";
  path = write_dicom (fx, "position-vr.dcm", &s);
  assert_dicom_error (path, "the DICOM decoder crashed on this file (signal 6: abort)");
  g_free (path);
}

/* pydicom's MR_small.dcm given a Rescale Intercept and no Rescale Slope, written by pydicom
 * itself (skipped without it). */
static void
test_dicom_pydicom_intercept (Fixture       *fx,
                              gconstpointer  data)
{
  (void) data;
  const char *mr = "/usr/lib/python3/dist-packages/pydicom/data/test_files/MR_small.dcm";
  char *path = test_util_tmp_dir_path (fx, "mr-intercept.dcm");
  char *script = g_strdup_printf (
    "import pydicom\n"
    "d = pydicom.dcmread(r'''%s''')\n"
    "d.RescaleIntercept = '5'\n"
    "if 'RescaleSlope' in d:\n"
    "    del d.RescaleSlope\n"
    "d.save_as(r'''%s''')\n", mr, path);
  char *argv[] = { (char *) "/usr/bin/python3", (char *) "-c", script, NULL };
  int status = -1;
  gboolean ran = g_file_test (mr, G_FILE_TEST_EXISTS)
                 && g_spawn_sync (NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL
                                  | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status,
                                  NULL)
                 && g_spawn_check_wait_status (status, NULL);
  if (ran)
    assert_dicom_error (path, "Rescale Slope '' (absent) or Intercept '5'");
  else
    g_test_skip ("pydicom (python3-pydicom) not available under /usr/bin/python3");
  g_free (script);
  g_free (path);
}

/* Files shipped with pydicom that are not CT slices (multi-frame, no pixel data, truncated,
 * colour, deflated); on some of them GDCM alone would abort. */
static void
test_dicom_pydicom_files (void)
{
  const char *dir = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
  const struct { const char *name, *needle; } cases[] = {
    { "rtdose.dcm", "multi-frame" },
    { "rtdose_1frame.dcm", "multi-frame DICOM object" },
    { "liver_1frame.dcm", "multi-frame DICOM object" },
    { "rtplan.dcm", "without pixel data" },
    { "MR_truncated.dcm", "truncated" },
    { "rtplan_truncated.dcm", "truncated" },
    { "SC_rgb_rle.dcm", "samples per pixel" },
    { "image_dfl.dcm", "deflated" },
  };
  int tested = 0;
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *path = g_build_filename (dir, cases[i].name, NULL);
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        {
          assert_dicom_error (path, cases[i].needle);
          tested++;
        }
      g_free (path);
    }
  /* A compressed slice GDCM decodes (RLE) reads like its uncompressed twin. */
  char *rle = g_build_filename (dir, "MR_small_RLE.dcm", NULL);
  char *plain = g_build_filename (dir, "MR_small.dcm", NULL);
  if (g_file_test (rle, G_FILE_TEST_EXISTS) && g_file_test (plain, G_FILE_TEST_EXISTS))
    {
      NnError err = { 0 };
      NnImage *a = nn_dicom_load (rle, &err);
      g_assert_nonnull (a);
      NnImage *b = nn_dicom_load (plain, &err);
      g_assert_nonnull (b);
      g_assert_cmpmem (a->data, (gsize) a->h * a->w * 4, b->data, (gsize) b->h * b->w * 4);
      nn_image_free (a);
      nn_image_free (b);
      tested++;
    }
  g_free (rle);
  g_free (plain);
  if (tested == 0)
    g_test_skip ("pydicom's test files are not installed");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/ct/window-presets", test_window_presets);
  g_test_add_func ("/nn/ct/window-apply", test_window_apply);
#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, test_util_tmp_dir_setup, fn, test_util_tmp_dir_teardown)
  ADD ("/nn/ct/png16-hu", test_png16_hu);
  ADD ("/nn/ct/png-bad", test_png_bad);
  ADD ("/nn/ct/dicom-known-values", test_dicom_known_values);
  ADD ("/nn/ct/dicom-ct-small", test_dicom_ct_small);
  ADD ("/nn/ct/dicom-save-load", test_dicom_save_load);
  ADD ("/nn/ct/dicom-series", test_dicom_series);
  ADD ("/nn/ct/dicom-bad", test_dicom_bad);
  ADD ("/nn/ct/dicom-hostile", test_dicom_hostile);
  ADD ("/nn/ct/dicom-pydicom-intercept", test_dicom_pydicom_intercept);
#undef ADD
  g_test_add_func ("/nn/ct/dicom-pydicom-files", test_dicom_pydicom_files);
  return g_test_run ();
}
