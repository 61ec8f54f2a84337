/* SPDX-License-Identifier: MIT */
/* PNG/JPEG loading and saving with files the test writes itself (libpng and TurboJPEG directly),
 * broken files that must give an error naming the file without printing, and resampling
 * checked against hand values, PyTorch's bilinear and a naive area-average twin. */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

#include "nn.h"
#include "test-util.h"

/* Every fixture test gets a temporary folder. */
typedef TestUtilTmpDir Fixture;

/* ---- Writers independent of the code under test ------------------------------------------- */

/* Writes a PNG from interleaved rows with libpng's defaults; palette and trans (palette
 * alpha, tRNS) may be NULL; interlace is PNG_INTERLACE_NONE or PNG_INTERLACE_ADAM7. */
static void
write_png_raw (const char          *path,
               int                  w,
               int                  h,
               int                  depth,
               int                  color_type,
               const unsigned char *pixels,
               size_t               row_bytes,
               const png_color     *palette,
               int                  n_palette,
               const png_byte      *trans,
               int                  interlace)
{
  FILE *fp = fopen (path, "wb");
  g_assert_nonnull (fp);
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  g_assert_nonnull (png);
  g_assert_nonnull (info);
  png_init_io (png, fp);
  png_set_IHDR (png, info, (png_uint_32) w, (png_uint_32) h, depth, color_type,
                interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (palette != NULL)
    png_set_PLTE (png, info, palette, n_palette);
  if (trans != NULL)
    png_set_tRNS (png, info, trans, n_palette, NULL);
  png_write_info (png, info);
  png_bytepp rows = g_new (png_bytep, h);
  for (int y = 0; y < h; y++)
    rows[y] = (png_bytep) pixels + (size_t) y * row_bytes;
  png_write_image (png, rows);
  g_free (rows);
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  g_assert_cmpint (fclose (fp), ==, 0);
}

/* JPEG bytes of interleaved 8-bit pixels (caller frees with tjFree). */
static unsigned char *
encode_jpeg (const unsigned char *pixels,
             int                  w,
             int                  h,
             int                  pixel_format,
             int                  subsamp,
             unsigned long       *size)
{
  tjhandle tj = tjInitCompress ();
  g_assert_nonnull (tj);
  unsigned char *jpeg = NULL;
  *size = 0;
  int r = tjCompress2 (tj, pixels, w, 0, h, pixel_format, &jpeg, size, subsamp, 95,
                       TJFLAG_ACCURATEDCT);
  g_assert_cmpint (r, ==, 0);
  tjDestroy (tj);
  return jpeg;
}

static void
write_jpeg (const char          *path,
            const unsigned char *pixels,
            int                  w,
            int                  h,
            int                  pixel_format,
            int                  subsamp)
{
  unsigned long size = 0;
  unsigned char *jpeg = encode_jpeg (pixels, w, h, pixel_format, subsamp, &size);
  test_util_write_file (path, jpeg, size);
  tjFree (jpeg);
}

/* A smooth test pattern in 0..255 (JPEG keeps it well at quality 95). */
static unsigned char
smooth_value (int x,
              int y,
              int k)
{
  return (unsigned char) (40 + 3 * x + 2 * y + 50 * k);
}

/* Loads path with stderr redirected to a file; *printed gets how many bytes were written. */
static NnImage *
load_quietly (Fixture    *fx,
              const char *path,
              NnError    *err,
              off_t      *printed)
{
  char *log = test_util_tmp_dir_path (fx, "stderr.log");
  fflush (stderr);
  int saved = dup (STDERR_FILENO);
  int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  g_assert_cmpint (saved, >=, 0);
  g_assert_cmpint (fd, >=, 0);
  dup2 (fd, STDERR_FILENO);
  NnImage *image = nn_image_load (path, err);
  fflush (stderr);
  dup2 (saved, STDERR_FILENO);
  close (saved);
  close (fd);
  struct stat st;
  g_assert_cmpint (stat (log, &st), ==, 0);
  *printed = st.st_size;
  g_remove (log);
  g_free (log);
  return image;
}

/* The load must fail with an error naming the file, and print nothing. */
static void
assert_load_fails (Fixture    *fx,
                   const char *path,
                   const char *expected)
{
  NnError err = { 0 };
  off_t printed = -1;
  NnImage *image = load_quietly (fx, path, &err, &printed);
  if (image != NULL)
    g_error ("%s: loaded although broken", path);
  g_assert_cmpint (err.code, !=, NN_ERROR_NONE);
  g_assert_nonnull (strstr (err.message, path));
  if (expected != NULL && strstr (err.message, expected) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", err.message, expected);
  g_assert_cmpint (printed, ==, 0);
  g_test_message ("%s", err.message);
}

static NnImage *
random_image (int      c,
              int      h,
              int      w,
              int      levels,
              guint32  seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  NnImage *image = nn_image_new (c, h, w);
  g_assert_nonnull (image);
  for (int i = 0; i < c * h * w; i++)
    image->data[i] = (float) g_rand_int_range (rand, 0, levels) / (float) (levels - 1);
  g_rand_free (rand);
  return image;
}

static void
assert_images_equal (const NnImage *a,
                     const NnImage *b,
                     float          tolerance)
{
  g_assert_cmpint (a->c, ==, b->c);
  g_assert_cmpint (a->h, ==, b->h);
  g_assert_cmpint (a->w, ==, b->w);
  for (int i = 0; i < a->c * a->h * a->w; i++)
    if (!(fabsf (a->data[i] - b->data[i]) <= tolerance))
      g_error ("sample %d: %.7g vs %.7g (tolerance %g)", i, (double) a->data[i],
               (double) b->data[i], (double) tolerance);
}

/* ---- PNG ---------------------------------------------------------------------------------- */

static void
test_png_roundtrip (Fixture      *fx,
                    gconstpointer data)
{
  (void) data;
  static const int depths[] = { 8, 16 };
  static const int channels[] = { 1, 3 };
  for (int d = 0; d < 2; d++)
    for (int k = 0; k < 2; k++)
      {
        int depth = depths[d];
        NnImage *image = random_image (channels[k], 7, 13, depth == 8 ? 256 : 65536,
                                       (guint32) (depth + k));
        char *path = test_util_tmp_dir_path (fx, "roundtrip.png");
        NnError err = { 0 };
        g_assert_true (nn_image_save_png (image, path, depth, &err));
        NnImage *back = nn_image_load (path, &err);
        g_assert_nonnull (back);
        g_assert_cmpint (back->bit_depth, ==, depth);
        assert_images_equal (image, back, 0.0f);
        nn_image_free (back);
        nn_image_free (image);
        g_free (path);
      }
}

static void
test_png_save_clamps (Fixture      *fx,
                      gconstpointer data)
{
  (void) data;
  NnImage *image = nn_image_new (1, 1, 4);
  image->data[0] = -0.5f;
  image->data[1] = 1.5f;
  image->data[2] = NAN;
  image->data[3] = 0.5f;
  char *path = test_util_tmp_dir_path (fx, "clamp.png");
  g_assert_true (nn_image_save_png (image, path, 8, NULL));
  NnImage *back = nn_image_load (path, NULL);
  g_assert_nonnull (back);
  g_assert_cmpfloat (back->data[0], ==, 0.0f);
  g_assert_cmpfloat (back->data[1], ==, 1.0f);
  g_assert_cmpfloat (back->data[2], ==, 0.0f);
  g_assert_cmpfloat (back->data[3], ==, 128.0f / 255.0f);
  nn_image_free (back);
  nn_image_free (image);
  g_free (path);
}

/* Only the final file may remain after saving, also when overwriting; a failed save leaves
 * nothing behind and names the file. */
static void
test_png_save_atomic (Fixture      *fx,
                      gconstpointer data)
{
  (void) data;
  char *path = test_util_tmp_dir_path (fx, "out.png");
  NnImage *a = random_image (3, 4, 5, 256, 1);
  NnImage *b = random_image (1, 6, 2, 256, 2);
  g_assert_true (nn_image_save_png (a, path, 8, NULL));
  g_assert_true (nn_image_save_png (b, path, 16, NULL));
  NnImage *back = nn_image_load (path, NULL);
  g_assert_nonnull (back);
  assert_images_equal (b, back, 0.0f);
  nn_image_free (back);

  struct stat st;
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);

  g_assert_cmpint (test_util_count_entries (fx->dir), ==, 1);

  char *bad = test_util_tmp_dir_path (fx, "missing-folder/out.png");
  NnError err = { 0 };
  g_assert_false (nn_image_save_png (a, bad, 8, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_IO);
  g_assert_nonnull (strstr (err.message, bad));

  /* A directory in the way: the rename fails after the data were written. */
  char *blocked = test_util_tmp_dir_path (fx, "blocked.png");
  char *inside = g_build_filename (blocked, "x", NULL);
  g_assert_cmpint (g_mkdir (blocked, 0755), ==, 0);
  test_util_write_file (inside, "x", 1);
  g_assert_false (nn_image_save_png (a, blocked, 8, &err));
  g_assert_nonnull (strstr (err.message, blocked));
  g_remove (inside);
  g_remove (blocked);

  GDir *d = g_dir_open (fx->dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    g_assert_cmpstr (name, ==, "out.png");
  g_dir_close (d);

  nn_image_free (a);
  nn_image_free (b);
  g_free (path);
  g_free (bad);
  g_free (blocked);
  g_free (inside);
}

static void
test_png_alpha (Fixture      *fx,
                gconstpointer data)
{
  (void) data;
  /* RGBA 8-bit: alpha must vanish and the colours stay exact. */
  int w = 5, h = 3;
  unsigned char rgba[3 * 5 * 4];
  for (int i = 0; i < w * h; i++)
    for (int k = 0; k < 4; k++)
      rgba[4 * i + k] = (unsigned char) (17 * i + 61 * k);
  char *path = test_util_tmp_dir_path (fx, "rgba.png");
  write_png_raw (path, w, h, 8, PNG_COLOR_TYPE_RGBA, rgba, (size_t) w * 4, NULL, 0, NULL,
                 PNG_INTERLACE_NONE);
  NnError err = { 0 };
  NnImage *image = nn_image_load (path, &err);
  g_assert_nonnull (image);
  g_assert_cmpint (image->c, ==, 3);
  g_assert_cmpint (image->bit_depth, ==, 8);
  for (int i = 0; i < w * h; i++)
    for (int k = 0; k < 3; k++)
      g_assert_cmpfloat (image->data[k * w * h + i], ==, (float) rgba[4 * i + k] / 255.0f);
  nn_image_free (image);
  g_free (path);

  /* Gray + alpha, 16-bit (big-endian samples in the file). */
  unsigned char ga[3 * 5 * 4];
  for (int i = 0; i < w * h; i++)
    {
      unsigned int v = 4099u * (unsigned int) i + 7u;
      ga[4 * i] = (unsigned char) (v >> 8);
      ga[4 * i + 1] = (unsigned char) (v & 0xff);
      ga[4 * i + 2] = 0x12;
      ga[4 * i + 3] = 0x34;
    }
  path = test_util_tmp_dir_path (fx, "gray-alpha.png");
  write_png_raw (path, w, h, 16, PNG_COLOR_TYPE_GRAY_ALPHA, ga, (size_t) w * 4, NULL, 0, NULL,
                 PNG_INTERLACE_NONE);
  image = nn_image_load (path, &err);
  g_assert_nonnull (image);
  g_assert_cmpint (image->c, ==, 1);
  g_assert_cmpint (image->bit_depth, ==, 16);
  for (int i = 0; i < w * h; i++)
    g_assert_cmpfloat (image->data[i], ==, (float) (4099u * (unsigned int) i + 7u) / 65535.0f);
  nn_image_free (image);
  g_free (path);
}

static void
test_png_palette_and_low_depth (Fixture      *fx,
                                gconstpointer data)
{
  (void) data;
  png_color palette[3] = { { 255, 0, 0 }, { 10, 200, 30 }, { 1, 2, 250 } };
  int w = 4, h = 2;
  unsigned char idx[8] = { 0, 1, 2, 1, 2, 2, 0, 1 };
  /* Plain, and with palette transparency (tRNS), which is dropped like alpha. */
  png_byte trans[3] = { 0, 128, 255 };
  for (int t = 0; t < 2; t++)
    {
      char *path = test_util_tmp_dir_path (fx, "palette.png");
      write_png_raw (path, w, h, 8, PNG_COLOR_TYPE_PALETTE, idx, (size_t) w, palette, 3,
                     t ? trans : NULL, PNG_INTERLACE_NONE);
      NnError err = { 0 };
      NnImage *image = nn_image_load (path, &err);
      if (image == NULL)
        g_error ("%s", err.message);
      g_assert_cmpint (image->c, ==, 3);
      g_assert_cmpint (image->bit_depth, ==, 8);
      for (int i = 0; i < w * h; i++)
        {
          const png_color *p = &palette[idx[i]];
          g_assert_cmpfloat (image->data[i], ==, (float) p->red / 255.0f);
          g_assert_cmpfloat (image->data[w * h + i], ==, (float) p->green / 255.0f);
          g_assert_cmpfloat (image->data[2 * w * h + i], ==, (float) p->blue / 255.0f);
        }
      nn_image_free (image);
      g_free (path);
    }

  /* 1-bit gray: pixels 1,0,1,1,0,0,0,1 packed MSB first; 1 must become 1.0. */
  unsigned char bits[1] = { 0xb1 };
  char *path = test_util_tmp_dir_path (fx, "bits.png");
  write_png_raw (path, 8, 1, 1, PNG_COLOR_TYPE_GRAY, bits, 1, NULL, 0, NULL,
                 PNG_INTERLACE_NONE);
  NnImage *image = nn_image_load (path, NULL);
  g_assert_nonnull (image);
  g_assert_cmpint (image->c, ==, 1);
  static const float expected[8] = { 1, 0, 1, 1, 0, 0, 0, 1 };
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat (image->data[i], ==, expected[i]);
  nn_image_free (image);
  g_free (path);
}

static void
test_png_interlaced (Fixture      *fx,
                     gconstpointer data)
{
  (void) data;
  int w = 11, h = 9;
  unsigned char rgb[9 * 11 * 6];
  for (int i = 0; i < w * h * 3; i++)
    {
      unsigned int v = (unsigned int) i * 977u;
      rgb[2 * i] = (unsigned char) (v >> 8);
      rgb[2 * i + 1] = (unsigned char) v;
    }
  char *path = test_util_tmp_dir_path (fx, "adam7.png");
  write_png_raw (path, w, h, 16, PNG_COLOR_TYPE_RGB, rgb, (size_t) w * 6, NULL, 0, NULL,
                 PNG_INTERLACE_ADAM7);
  NnImage *image = nn_image_load (path, NULL);
  g_assert_nonnull (image);
  g_assert_cmpint (image->c, ==, 3);
  g_assert_cmpint (image->bit_depth, ==, 16);
  for (int i = 0; i < w * h; i++)
    for (int k = 0; k < 3; k++)
      g_assert_cmpfloat (image->data[k * w * h + i], ==,
                         (float) (((unsigned int) (3 * i + k) * 977u) & 0xffffu) / 65535.0f);
  nn_image_free (image);
  g_free (path);
}

/* ---- JPEG --------------------------------------------------------------------------------- */

static void
test_jpeg (Fixture      *fx,
           gconstpointer data)
{
  (void) data;
  int w = 24, h = 16;
  unsigned char gray[24 * 16], rgb[24 * 16 * 3];
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        gray[y * w + x] = smooth_value (x, y, 0);
        for (int k = 0; k < 3; k++)
          rgb[3 * (y * w + x) + k] = smooth_value (x, y, k);
      }

  char *path = test_util_tmp_dir_path (fx, "gray.jpg");
  write_jpeg (path, gray, w, h, TJPF_GRAY, TJSAMP_GRAY);
  NnError err = { 0 };
  NnImage *image = nn_image_load (path, &err);
  g_assert_nonnull (image);
  g_assert_cmpint (image->c, ==, 1);
  g_assert_cmpint (image->h, ==, h);
  g_assert_cmpint (image->w, ==, w);
  g_assert_cmpint (image->bit_depth, ==, 8);
  for (int i = 0; i < w * h; i++)
    g_assert_cmpfloat_with_epsilon (image->data[i], (float) gray[i] / 255.0f, 3.0f / 255.0f);
  nn_image_free (image);
  g_free (path);

  path = test_util_tmp_dir_path (fx, "rgb.jpeg");
  write_jpeg (path, rgb, w, h, TJPF_RGB, TJSAMP_444);
  image = nn_image_load (path, &err);
  g_assert_nonnull (image);
  g_assert_cmpint (image->c, ==, 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int k = 0; k < 3; k++)
        g_assert_cmpfloat_with_epsilon (image->data[(k * h + y) * w + x],
                                        (float) rgb[3 * (y * w + x) + k] / 255.0f,
                                        3.0f / 255.0f);
  nn_image_free (image);
  g_free (path);
}

static void
test_jpeg_cmyk_rejected (Fixture      *fx,
                         gconstpointer data)
{
  (void) data;
  unsigned char cmyk[8 * 8 * 4];
  for (int i = 0; i < 8 * 8 * 4; i++)
    cmyk[i] = (unsigned char) (i * 7);
  char *path = test_util_tmp_dir_path (fx, "cmyk.jpg");
  write_jpeg (path, cmyk, 8, 8, TJPF_CMYK, TJSAMP_444);
  NnError err = { 0 };
  g_assert_null (nn_image_load (path, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (err.message, path));
  g_assert_nonnull (strstr (err.message, "CMYK"));
  g_free (path);
}

/* The format comes from the content: a JPEG named .png and a PNG named .jpg both load. */
static void
test_format_by_content (Fixture      *fx,
                        gconstpointer data)
{
  (void) data;
  unsigned char gray[8 * 8];
  for (int i = 0; i < 64; i++)
    gray[i] = smooth_value (i % 8, i / 8, 0);
  char *jpeg_path = test_util_tmp_dir_path (fx, "really-a-jpeg.png");
  write_jpeg (jpeg_path, gray, 8, 8, TJPF_GRAY, TJSAMP_GRAY);
  NnImage *image = nn_image_load (jpeg_path, NULL);
  g_assert_nonnull (image);
  g_assert_cmpint (image->c, ==, 1);
  g_assert_cmpfloat_with_epsilon (image->data[9], (float) gray[9] / 255.0f, 3.0f / 255.0f);
  nn_image_free (image);

  char *png_path = test_util_tmp_dir_path (fx, "really-a-png.jpg");
  NnImage *src = random_image (3, 3, 3, 256, 5);
  g_assert_true (nn_image_save_png (src, png_path, 8, NULL));
  image = nn_image_load (png_path, NULL);
  g_assert_nonnull (image);
  assert_images_equal (src, image, 0.0f);
  nn_image_free (image);
  nn_image_free (src);
  g_free (jpeg_path);
  g_free (png_path);
}

/* ---- Broken inputs ------------------------------------------------------------------------ */

static void
put_be32 (unsigned char *p,
          uint32_t       v)
{
  p[0] = (unsigned char) (v >> 24);
  p[1] = (unsigned char) (v >> 16);
  p[2] = (unsigned char) (v >> 8);
  p[3] = (unsigned char) v;
}

/* Appends a PNG chunk with its CRC. */
static void
append_chunk (GByteArray          *b,
              const char          *type,
              const unsigned char *payload,
              uint32_t             len)
{
  unsigned char head[8], crc_bytes[4];
  put_be32 (head, len);
  memcpy (head + 4, type, 4);
  g_byte_array_append (b, head, 8);
  if (len > 0)
    g_byte_array_append (b, payload, len);
  uLong crc = crc32 (0, (const Bytef *) type, 4);
  if (len > 0)
    crc = crc32 (crc, payload, len);
  put_be32 (crc_bytes, (uint32_t) crc);
  g_byte_array_append (b, crc_bytes, 4);
}

static void
test_broken_inputs (Fixture      *fx,
                    gconstpointer data)
{
  (void) data;
  gchar *contents = NULL;
  gsize size = 0;

  /* A valid PNG and JPEG to break. */
  char *good_png = test_util_tmp_dir_path (fx, "good.png");
  NnImage *src = random_image (3, 32, 32, 256, 9);
  g_assert_true (nn_image_save_png (src, good_png, 8, NULL));
  nn_image_free (src);
  unsigned char rgb[32 * 32 * 3];
  for (int i = 0; i < 32 * 32 * 3; i++)
    rgb[i] = (unsigned char) (i * 37 + (i >> 5));
  unsigned long jpeg_size = 0;
  unsigned char *jpeg = encode_jpeg (rgb, 32, 32, TJPF_RGB, TJSAMP_420, &jpeg_size);

  g_assert_true (g_file_get_contents (good_png, &contents, &size, NULL));
  char *path = test_util_tmp_dir_path (fx, "truncated.png");
  test_util_write_file (path, contents, size / 2);
  assert_load_fails (fx, path, NULL);
  g_free (path);

  /* Damaged bytes inside IDAT: the CRC check catches them. */
  contents[size - 30] ^= 0x55;
  path = test_util_tmp_dir_path (fx, "corrupt.png");
  test_util_write_file (path, contents, size);
  assert_load_fails (fx, path, NULL);
  g_free (path);
  g_free (contents);

  path = test_util_tmp_dir_path (fx, "truncated.jpg");
  test_util_write_file (path, jpeg, jpeg_size / 2);
  assert_load_fails (fx, path, NULL);
  g_free (path);

  /* A JPEG whose frame header claims 60000 x 60000 pixels. */
  for (unsigned long i = 2; i + 8 < jpeg_size; i++)
    if (jpeg[i] == 0xff && jpeg[i + 1] == 0xc0)
      {
        jpeg[i + 5] = 0xea;
        jpeg[i + 6] = 0x60;
        jpeg[i + 7] = 0xea;
        jpeg[i + 8] = 0x60;
        break;
      }
  path = test_util_tmp_dir_path (fx, "huge.jpg");
  test_util_write_file (path, jpeg, jpeg_size);
  assert_load_fails (fx, path, "60000");
  g_free (path);
  tjFree (jpeg);

  unsigned char noise[500];
  GRand *rand = g_rand_new_with_seed (3);
  for (size_t i = 0; i < sizeof noise; i++)
    noise[i] = (unsigned char) g_rand_int_range (rand, 0, 256);
  g_rand_free (rand);
  noise[0] = 'x';
  path = test_util_tmp_dir_path (fx, "noise.png");
  test_util_write_file (path, noise, sizeof noise);
  assert_load_fails (fx, path, "not a PNG or JPEG image");
  g_free (path);

  /* Magic bytes only, then noise. */
  memcpy (noise, "\x89PNG\r\n\x1a\n", 8);
  path = test_util_tmp_dir_path (fx, "noise-after-magic.png");
  test_util_write_file (path, noise, sizeof noise);
  assert_load_fails (fx, path, NULL);
  noise[0] = 0xff;
  noise[1] = 0xd8;
  noise[2] = 0xff;
  test_util_write_file (path, noise, sizeof noise);
  assert_load_fails (fx, path, NULL);
  g_free (path);

  path = test_util_tmp_dir_path (fx, "empty.png");
  test_util_write_file (path, "", 0);
  assert_load_fails (fx, path, NULL);
  g_free (path);

  path = test_util_tmp_dir_path (fx, "folder.png");
  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
  assert_load_fails (fx, path, "directory");
  g_free (path);

  path = test_util_tmp_dir_path (fx, "does-not-exist.png");
  assert_load_fails (fx, path, NULL);
  g_free (path);

  /* A well-formed PNG header claiming 100000 x 100000 RGB pixels. */
  GByteArray *b = g_byte_array_new ();
  g_byte_array_append (b, (const guint8 *) "\x89PNG\r\n\x1a\n", 8);
  unsigned char ihdr[13] = { 0 };
  put_be32 (ihdr, 100000);
  put_be32 (ihdr + 4, 100000);
  ihdr[8] = 8;
  ihdr[9] = 2;
  append_chunk (b, "IHDR", ihdr, 13);
  unsigned char idat[16] = { 0x78, 0x9c, 0x03, 0x00 };
  append_chunk (b, "IDAT", idat, sizeof idat);
  append_chunk (b, "IEND", NULL, 0);
  path = test_util_tmp_dir_path (fx, "huge.png");
  test_util_write_file (path, b->data, b->len);
  assert_load_fails (fx, path, "100000");
  g_byte_array_free (b, TRUE);
  g_free (path);

  /* A 44-byte file whose sPLT chunk claims 512 MiB (found by the PNG fuzzer, which stopped at
   * 1 GB of memory: the chunk was allocated before its bytes were found missing): skipped
   * unread, then the file is truncated. */
  b = g_byte_array_new ();
  g_byte_array_append (b, (const guint8 *) "\x89PNG\r\n\x1a\n", 8);
  put_be32 (ihdr, 7);
  put_be32 (ihdr + 4, 5);
  ihdr[9] = 3;
  append_chunk (b, "IHDR", ihdr, 13);
  unsigned char splt_head[12] = { 0 };
  put_be32 (splt_head, 0x20000031u);
  memcpy (splt_head + 4, "sPLTE\0\xff\0", 8);
  g_byte_array_append (b, splt_head, sizeof splt_head);
  path = test_util_tmp_dir_path (fx, "huge-chunk.png");
  test_util_write_file (path, b->data, b->len);
  struct rusage before, after;
  g_assert_cmpint (getrusage (RUSAGE_SELF, &before), ==, 0);
  assert_load_fails (fx, path, "truncated");
  g_assert_cmpint (getrusage (RUSAGE_SELF, &after), ==, 0);
  g_assert_cmpint (after.ru_maxrss - before.ru_maxrss, <, 128 * 1024);  /* KiB: 512 MiB before */
  g_byte_array_free (b, TRUE);
  g_free (path);

  /* An ancillary chunk with a bad CRC only draws a libpng warning: the image loads, and the
   * warning is not printed. */
  NnImage *small = random_image (1, 3, 4, 256, 4);
  char *warn_path = test_util_tmp_dir_path (fx, "bad-text-crc.png");
  g_assert_true (nn_image_save_png (small, warn_path, 8, NULL));
  g_assert_true (g_file_get_contents (warn_path, &contents, &size, NULL));
  GByteArray *patched = g_byte_array_new ();
  g_byte_array_append (patched, (const guint8 *) contents, 33);
  append_chunk (patched, "tEXt", (const unsigned char *) "Title\0x", 7);
  patched->data[patched->len - 1] ^= 0xff;
  g_byte_array_append (patched, (const guint8 *) contents + 33, (guint) size - 33);
  test_util_write_file (warn_path, patched->data, patched->len);
  off_t printed = -1;
  NnImage *loaded = load_quietly (fx, warn_path, NULL, &printed);
  g_assert_nonnull (loaded);
  assert_images_equal (small, loaded, 0.0f);
  g_assert_cmpint (printed, ==, 0);
  nn_image_free (loaded);
  nn_image_free (small);
  g_byte_array_free (patched, TRUE);
  g_free (contents);
  g_free (warn_path);

  /* From memory, the name stands in for the path. */
  NnError err = { 0 };
  g_assert_null (nn_image_load_memory (noise, 20, "blob-in-memory", &err));
  g_assert_nonnull (strstr (err.message, "blob-in-memory"));

  g_free (good_png);
}

/* ---- Resampling --------------------------------------------------------------------------- */

static NnImage *
image_from (int          c,
            int          h,
            int          w,
            const float *values)
{
  NnImage *image = nn_image_new (c, h, w);
  g_assert_nonnull (image);
  memcpy (image->data, values, (size_t) c * h * w * sizeof (float));
  return image;
}

static void
test_resize_constant (void)
{
  static const int sizes[][2] = { { 1, 1 }, { 2, 3 }, { 9, 40 }, { 17, 5 }, { 100, 3 },
                                  { 31, 31 }, { 64, 64 } };
  NnImage *image = nn_image_new (3, 31, 47);
  for (int i = 0; i < 3 * 31 * 47; i++)
    image->data[i] = 0.37f;
  for (size_t s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      NnImage *out = nn_image_resize (image, sizes[s][0], sizes[s][1]);
      g_assert_nonnull (out);
      g_assert_cmpint (out->c, ==, 3);
      g_assert_cmpint (out->h, ==, sizes[s][0]);
      g_assert_cmpint (out->w, ==, sizes[s][1]);
      for (int i = 0; i < out->c * out->h * out->w; i++)
        g_assert_cmpfloat_with_epsilon (out->data[i], 0.37f, 1e-6f);
      nn_image_free (out);
    }
  nn_image_free (image);
}

/* Reference values from torch.nn.functional.interpolate (mode='bilinear',
 * align_corners=False). */
static void
test_resize_bilinear_pytorch (void)
{
  static const float in22[4] = { 0, 1, 2, 3 };
  static const float out44[16] = {
    0.00f, 0.25f, 0.75f, 1.00f,
    0.50f, 0.75f, 1.25f, 1.50f,
    1.50f, 1.75f, 2.25f, 2.50f,
    2.00f, 2.25f, 2.75f, 3.00f,
  };
  NnImage *image = image_from (1, 2, 2, in22);
  NnImage *out = nn_image_resize (image, 4, 4);
  NnImage *expected = image_from (1, 4, 4, out44);
  assert_images_equal (out, expected, 1e-6f);
  nn_image_free (image);
  nn_image_free (out);
  nn_image_free (expected);

  /* torch.arange(6.).reshape(1, 1, 2, 3) / 5 to 3 x 5. */
  float in23[6];
  for (int i = 0; i < 6; i++)
    in23[i] = (float) i / 5.0f;
  static const float out35[15] = {
    0.00f, 0.08f, 0.20f, 0.32f, 0.40f,
    0.30f, 0.38f, 0.50f, 0.62f, 0.70f,
    0.60f, 0.68f, 0.80f, 0.92f, 1.00f,
  };
  image = image_from (1, 2, 3, in23);
  out = nn_image_resize (image, 3, 5);
  expected = image_from (1, 3, 5, out35);
  assert_images_equal (out, expected, 1e-6f);
  nn_image_free (image);
  nn_image_free (out);
  nn_image_free (expected);

  /* Shrinking by less than 2x stays bilinear: torch.arange(20.).reshape(1, 1, 5, 4) / 19 to
   * 3 x 3. */
  float in54[20];
  for (int i = 0; i < 20; i++)
    in54[i] = (float) i / 19.0f;
  static const float out33[9] = {
    0.07894736528f, 0.14912280440f, 0.21929824352f,
    0.42982456088f, 0.50000000000f, 0.57017540932f,
    0.78070175648f, 0.85087716579f, 0.92105257511f,
  };
  image = image_from (1, 5, 4, in54);
  out = nn_image_resize (image, 3, 3);
  expected = image_from (1, 3, 3, out33);
  assert_images_equal (out, expected, 1e-6f);
  nn_image_free (image);
  nn_image_free (out);
  nn_image_free (expected);
}

/* Naive twin of area averaging: each output pixel is the mean of the input over the rectangle
 * it covers, with partial pixels weighted by their covered area (2-D, not separable). */
static float
area_twin (const NnImage *image,
           int            k,
           int            oy,
           int            ox,
           int            oh,
           int            ow)
{
  double sy = (double) image->h / oh, sx = (double) image->w / ow;
  double y0 = oy * sy, y1 = (oy + 1) * sy, x0 = ox * sx, x1 = (ox + 1) * sx;
  double sum = 0.0;
  for (int y = 0; y < image->h; y++)
    for (int x = 0; x < image->w; x++)
      {
        double cy = fmin (y1, y + 1.0) - fmax (y0, (double) y);
        double cx = fmin (x1, x + 1.0) - fmax (x0, (double) x);
        if (cy > 0 && cx > 0)
          sum += cy * cx * image->data[((size_t) k * image->h + y) * image->w + x];
      }
  return (float) (sum / (sy * sx));
}

static void
test_resize_area (void)
{
  /* 12 x 12 to 3 x 3: exactly the 4 x 4 block means. */
  NnImage *image = random_image (2, 12, 12, 256, 11);
  NnImage *out = nn_image_resize (image, 3, 3);
  for (int k = 0; k < 2; k++)
    for (int oy = 0; oy < 3; oy++)
      for (int ox = 0; ox < 3; ox++)
        {
          double sum = 0.0;
          for (int y = 4 * oy; y < 4 * oy + 4; y++)
            for (int x = 4 * ox; x < 4 * ox + 4; x++)
              sum += image->data[(k * 12 + y) * 12 + x];
          g_assert_cmpfloat_with_epsilon (out->data[(k * 3 + oy) * 3 + ox], (float) (sum / 16),
                                          1e-5f);
        }
  nn_image_free (out);

  /* Fractional coverage. */
  static const int sizes[][2] = { { 2, 5 }, { 5, 2 }, { 1, 1 } };
  for (size_t s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      int oh = sizes[s][0], ow = sizes[s][1];
      out = nn_image_resize (image, oh, ow);
      for (int k = 0; k < 2; k++)
        for (int oy = 0; oy < oh; oy++)
          for (int ox = 0; ox < ow; ox++)
            g_assert_cmpfloat_with_epsilon (out->data[(k * oh + oy) * ow + ox],
                                            area_twin (image, k, oy, ox, oh, ow), 1e-5f);
      nn_image_free (out);
    }

  /* One axis area-averaged while the other enlarges: the same as the two steps apart. */
  out = nn_image_resize (image, 20, 3);
  NnImage *narrow = nn_image_resize (image, 12, 3);
  NnImage *two_steps = nn_image_resize (narrow, 20, 3);
  for (int k = 0; k < 2; k++)
    for (int oy = 0; oy < 12; oy++)
      for (int ox = 0; ox < 3; ox++)
        g_assert_cmpfloat_with_epsilon (narrow->data[(k * 12 + oy) * 3 + ox],
                                        area_twin (image, k, oy, ox, 12, 3), 1e-5f);
  assert_images_equal (out, two_steps, 1e-6f);
  nn_image_free (two_steps);
  nn_image_free (narrow);
  nn_image_free (out);
  nn_image_free (image);

  /* A one-pixel checkerboard shrunk 5x is flat gray, not an aliased pattern. */
  image = nn_image_new (1, 50, 50);
  for (int y = 0; y < 50; y++)
    for (int x = 0; x < 50; x++)
      image->data[y * 50 + x] = (float) ((x + y) & 1);
  out = nn_image_resize (image, 10, 10);
  for (int i = 0; i < 100; i++)
    g_assert_cmpfloat_with_epsilon (out->data[i], 0.5f, 0.021f);
  nn_image_free (out);
  nn_image_free (image);
}

static void
test_fit (void)
{
  /* 4 x 8, value = column: a square fit keeps the four centre columns. */
  NnImage *wide = nn_image_new (1, 4, 8);
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 8; x++)
      wide->data[y * 8 + x] = (float) x;
  NnImage *out = nn_image_fit (wide, 4, 4);
  g_assert_cmpint (out->h, ==, 4);
  g_assert_cmpint (out->w, ==, 4);
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 4; x++)
      g_assert_cmpfloat (out->data[y * 4 + x], ==, (float) (x + 2));
  nn_image_free (out);

  /* Crop to columns 2..5, then halve: bilinear at scale 2 averages column pairs. */
  out = nn_image_fit (wide, 2, 2);
  for (int y = 0; y < 2; y++)
    {
      g_assert_cmpfloat_with_epsilon (out->data[y * 2], 2.5f, 1e-6f);
      g_assert_cmpfloat_with_epsilon (out->data[y * 2 + 1], 4.5f, 1e-6f);
    }
  nn_image_free (out);
  nn_image_free (wide);

  /* 9 x 3 tall, value = row: a 3 x 3 fit keeps rows 3..5. */
  NnImage *tall = nn_image_new (2, 9, 3);
  for (int k = 0; k < 2; k++)
    for (int y = 0; y < 9; y++)
      for (int x = 0; x < 3; x++)
        tall->data[(k * 9 + y) * 3 + x] = (float) (y + 10 * k);
  out = nn_image_fit (tall, 3, 3);
  g_assert_cmpint (out->c, ==, 2);
  for (int k = 0; k < 2; k++)
    for (int y = 0; y < 3; y++)
      for (int x = 0; x < 3; x++)
        g_assert_cmpfloat (out->data[(k * 3 + y) * 3 + x], ==, (float) (y + 3 + 10 * k));
  nn_image_free (out);

  /* Same aspect: a plain resize. */
  out = nn_image_fit (tall, 18, 6);
  NnImage *resized = nn_image_resize (tall, 18, 6);
  assert_images_equal (out, resized, 0.0f);
  nn_image_free (out);
  nn_image_free (resized);
  nn_image_free (tall);
}

static void
test_convert (void)
{
  /* CHW planes: pixel 0 is (1, 0, 0), pixel 1 is (0.2, 0.4, 0.6). */
  static const float rgb[6] = { 1.0f, 0.2f, 0.0f, 0.4f, 0.0f, 0.6f };
  NnImage *color = image_from (3, 1, 2, rgb);
  NnImage *gray = nn_image_convert (color, 1);
  g_assert_cmpint (gray->c, ==, 1);
  g_assert_cmpfloat_with_epsilon (gray->data[0], 0.299f, 1e-6f);
  g_assert_cmpfloat_with_epsilon (gray->data[1], 0.299f * 0.2f + 0.587f * 0.4f + 0.114f * 0.6f,
                                  1e-6f);

  NnImage *back = nn_image_convert (gray, 3);
  g_assert_cmpint (back->c, ==, 3);
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < 2; i++)
      g_assert_cmpfloat (back->data[k * 2 + i], ==, gray->data[i]);
  NnImage *again = nn_image_convert (back, 1);
  assert_images_equal (again, gray, 1e-6f);

  NnImage *same = nn_image_convert (color, 3);
  assert_images_equal (same, color, 0.0f);
  g_assert_true (same->data != color->data);

  nn_image_free (NULL);
  nn_image_free (same);
  nn_image_free (again);
  nn_image_free (back);
  nn_image_free (gray);
  nn_image_free (color);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD_FX(path, fn) \
  g_test_add (path, Fixture, NULL, test_util_tmp_dir_setup, fn, test_util_tmp_dir_teardown)
  ADD_FX ("/nn/image/png-roundtrip", test_png_roundtrip);
  ADD_FX ("/nn/image/png-save-clamps", test_png_save_clamps);
  ADD_FX ("/nn/image/png-save-atomic", test_png_save_atomic);
  ADD_FX ("/nn/image/png-alpha", test_png_alpha);
  ADD_FX ("/nn/image/png-palette-and-low-depth", test_png_palette_and_low_depth);
  ADD_FX ("/nn/image/png-interlaced", test_png_interlaced);
  ADD_FX ("/nn/image/jpeg", test_jpeg);
  ADD_FX ("/nn/image/jpeg-cmyk-rejected", test_jpeg_cmyk_rejected);
  ADD_FX ("/nn/image/format-by-content", test_format_by_content);
  ADD_FX ("/nn/image/broken-inputs", test_broken_inputs);
#undef ADD_FX
  g_test_add_func ("/nn/image/resize-constant", test_resize_constant);
  g_test_add_func ("/nn/image/resize-bilinear-pytorch", test_resize_bilinear_pytorch);
  g_test_add_func ("/nn/image/resize-area", test_resize_area);
  g_test_add_func ("/nn/image/fit", test_fit);
  g_test_add_func ("/nn/image/convert", test_convert);
  return g_test_run ();
}
