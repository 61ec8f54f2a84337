/* SPDX-License-Identifier: MIT */
/* make-seeds OUT SOURCE_DIR: writes the seed corpora of the fuzz harnesses, into OUT/<harness>/:
 * small valid files of every variant each parser reads, made here with the engine's writers,
 * libpng, TurboJPEG, zlib and protobuf-c, plus samples and the demo model of SOURCE_DIR/data. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <zlib.h>

#include "nn.h"
#include "onnx.pb-c.h"

static const char *out_root;
static const char *source_dir;
static char *scratch;
static int n_seeds;

G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN static void
die (const char *format,
     ...)
{
  va_list ap;
  va_start (ap, format);
  fprintf (stderr, "make-seeds: ");
  vfprintf (stderr, format, ap);
  fprintf (stderr, "\n");
  va_end (ap);
  exit (1);
}

/* Writes a seed OUT/harness/name. */
static void
put (const char *harness,
     const char *name,
     const void *data,
     size_t      size)
{
  g_autofree char *dir = g_build_filename (out_root, harness, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GError *error = NULL;
  if (g_mkdir_with_parents (dir, 0755) != 0
      || !g_file_set_contents (path, data, (gssize) size, &error))
    die ("cannot write %s: %s", path, error != NULL ? error->message : g_strerror (errno));
  n_seeds++;
}

static void
put_bytes (const char       *harness,
           const char       *name,
           const GByteArray *bytes)
{
  put (harness, name, bytes->data, bytes->len);
}

static GByteArray *
read_file (const char *path)
{
  char *data = NULL;
  gsize size = 0;
  GError *error = NULL;
  if (!g_file_get_contents (path, &data, &size, &error))
    die ("%s", error->message);
  return g_byte_array_new_take ((guint8 *) data, size);
}

/* The bytes an engine writer left in the scratch folder under name. */
static GByteArray *
scratch_take (const char *name)
{
  g_autofree char *path = g_build_filename (scratch, name, NULL);
  GByteArray *bytes = read_file (path);
  g_unlink (path);
  return bytes;
}

static char *
scratch_path (const char *name)
{
  return g_build_filename (scratch, name, NULL);
}

static void
append_u16 (GByteArray *b,
            unsigned    v,
            bool        big)
{
  guint8 p[2] = { (guint8) (big ? v >> 8 : v), (guint8) (big ? v : v >> 8) };
  g_byte_array_append (b, p, 2);
}

static void
append_u32 (GByteArray *b,
            uint32_t    v,
            bool        big)
{
  guint8 p[4];
  for (int i = 0; i < 4; i++)
    p[big ? 3 - i : i] = (guint8) (v >> (8 * i));
  g_byte_array_append (b, p, 4);
}

static void
append_f64 (GByteArray *b,
            double      v)
{
  uint64_t bits;
  memcpy (&bits, &v, sizeof bits);
  append_u32 (b, (uint32_t) bits, false);
  append_u32 (b, (uint32_t) (bits >> 32), false);
}

/* Deterministic pixel bytes. */
static guint8
pattern (size_t i)
{
  return (guint8) (i * 37u + (i >> 3) * 11u);
}

/* ---- PNG and JPEG ------------------------------------------------------------------------- */

static void
png_write_cb (png_structp png,
              png_bytep   data,
              size_t      n)
{
  g_byte_array_append (png_get_io_ptr (png), data, (guint) n);
}

static void
png_flush_cb (png_structp png)
{
  (void) png;
}

/* A w x h PNG of the colour type and bit depth, its samples a pattern (palette indices kept
 * within the palette). */
static GByteArray *
make_png (int  w,
          int  h,
          int  color,
          int  depth,
          bool interlace,
          bool trns)
{
  GByteArray *out = g_byte_array_new ();
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png != NULL ? png_create_info_struct (png) : NULL;
  if (info == NULL)
    die ("out of memory");
  int channels = color == PNG_COLOR_TYPE_RGB ? 3 : color == PNG_COLOR_TYPE_RGB_ALPHA ? 4
                 : color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
  size_t row_bytes = ((size_t) w * (size_t) channels * (size_t) depth + 7) / 8;
  guint8 *pixels = g_malloc (row_bytes * (size_t) h);
  for (size_t i = 0; i < row_bytes * (size_t) h; i++)
    pixels[i] = pattern (i);
  if (color == PNG_COLOR_TYPE_PALETTE && depth == 8)
    for (size_t i = 0; i < row_bytes * (size_t) h; i++)
      pixels[i] &= 15;
  png_bytep *rows = g_new (png_bytep, h);
  for (int y = 0; y < h; y++)
    rows[y] = pixels + (size_t) y * row_bytes;
  if (setjmp (png_jmpbuf (png)))
    die ("libpng failed");
  png_set_write_fn (png, out, png_write_cb, png_flush_cb);
  png_set_IHDR (png, info, (png_uint_32) w, (png_uint_32) h, depth, color,
                interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (color == PNG_COLOR_TYPE_PALETTE)
    {
      png_color palette[16];
      int n = depth < 4 ? 1 << depth : 16;
      for (int i = 0; i < n; i++)
        palette[i] = (png_color) { (png_byte) (i * 16), (png_byte) (255 - i * 9),
                                   (png_byte) (i * 5) };
      png_set_PLTE (png, info, palette, n);
      if (trns)
        {
          png_byte alpha[2] = { 0, 128 };
          png_set_tRNS (png, info, alpha, 2, NULL);
        }
    }
  else if (trns && (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_RGB))
    {
      png_color_16 key = { 0, 1, 2, 3, 1 };
      png_set_tRNS (png, info, NULL, 0, &key);
    }
  png_write_info (png, info);
  png_write_image (png, rows);
  png_write_end (png, info);
  png_destroy_write_struct (&png, &info);
  g_free (rows);
  g_free (pixels);
  return out;
}

static GByteArray *
make_jpeg (int  w,
           int  h,
           bool gray,
           int  subsamp,
           int  flags)
{
  int channels = gray ? 1 : 3;
  guint8 *pixels = g_malloc ((size_t) w * (size_t) h * (size_t) channels);
  for (size_t i = 0; i < (size_t) w * (size_t) h * (size_t) channels; i++)
    pixels[i] = pattern (i);
  tjhandle tj = tjInitCompress ();
  unsigned char *jpeg = NULL;
  unsigned long size = 0;
  if (tj == NULL
      || tjCompress2 (tj, pixels, w, 0, h, gray ? TJPF_GRAY : TJPF_RGB, &jpeg, &size,
                      gray ? TJSAMP_GRAY : subsamp, 90, flags) != 0)
    die ("TurboJPEG failed: %s", tjGetErrorStr2 (tj));
  GByteArray *out = g_byte_array_new ();
  g_byte_array_append (out, jpeg, (guint) size);
  tjFree (jpeg);
  tjDestroy (tj);
  g_free (pixels);
  return out;
}

static void
image_seeds (void)
{
  static const struct
  {
    const char *name;
    int         color, depth;
    bool        interlace, trns;
  } pngs[] = {
    { "gray1.png", PNG_COLOR_TYPE_GRAY, 1, false, false },
    { "gray2.png", PNG_COLOR_TYPE_GRAY, 2, false, false },
    { "gray4.png", PNG_COLOR_TYPE_GRAY, 4, false, false },
    { "gray8.png", PNG_COLOR_TYPE_GRAY, 8, false, false },
    { "gray8-trns.png", PNG_COLOR_TYPE_GRAY, 8, false, true },
    { "gray16.png", PNG_COLOR_TYPE_GRAY, 16, false, false },
    { "gray16-adam7.png", PNG_COLOR_TYPE_GRAY, 16, true, false },
    { "gray-alpha8.png", PNG_COLOR_TYPE_GRAY_ALPHA, 8, false, false },
    { "gray-alpha16.png", PNG_COLOR_TYPE_GRAY_ALPHA, 16, false, false },
    { "rgb8.png", PNG_COLOR_TYPE_RGB, 8, false, false },
    { "rgb8-adam7-trns.png", PNG_COLOR_TYPE_RGB, 8, true, true },
    { "rgb16.png", PNG_COLOR_TYPE_RGB, 16, false, false },
    { "rgba8.png", PNG_COLOR_TYPE_RGB_ALPHA, 8, false, false },
    { "rgba16.png", PNG_COLOR_TYPE_RGB_ALPHA, 16, false, false },
    { "palette1.png", PNG_COLOR_TYPE_PALETTE, 1, false, false },
    { "palette4-trns.png", PNG_COLOR_TYPE_PALETTE, 4, false, true },
    { "palette8.png", PNG_COLOR_TYPE_PALETTE, 8, true, false },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (pngs); i++)
    {
      g_autoptr (GByteArray) png = make_png (7, 5, pngs[i].color, pngs[i].depth,
                                             pngs[i].interlace, pngs[i].trns);
      put_bytes ("png", pngs[i].name, png);
      if (pngs[i].depth == 16 || pngs[i].depth == 8)
        put_bytes ("ct16", pngs[i].name, png);
    }
  static const char *const samples[] = {
    "fashion-bag.png", "fashion-sandal.png", "ct-other.mask.png",
  };
  for (size_t i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autofree char *path = g_build_filename (source_dir, "data", "samples", samples[i], NULL);
      g_autoptr (GByteArray) bytes = read_file (path);
      put_bytes ("png", samples[i], bytes);
    }

  static const struct
  {
    const char *name;
    int         w, h;
    bool        gray;
    int         subsamp, flags;
  } jpegs[] = {
    { "gray.jpg", 9, 7, true, TJSAMP_GRAY, 0 },
    { "rgb444.jpg", 9, 7, false, TJSAMP_444, 0 },
    { "rgb420.jpg", 17, 9, false, TJSAMP_420, 0 },
    { "rgb422.jpg", 8, 8, false, TJSAMP_422, 0 },
    { "rgb440.jpg", 8, 8, false, TJSAMP_440, 0 },
    { "gray-progressive.jpg", 9, 7, true, TJSAMP_GRAY, TJFLAG_PROGRESSIVE },
    { "rgb420-progressive.jpg", 16, 16, false, TJSAMP_420, TJFLAG_PROGRESSIVE },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (jpegs); i++)
    {
      g_autoptr (GByteArray) jpeg = make_jpeg (jpegs[i].w, jpegs[i].h, jpegs[i].gray,
                                               jpegs[i].subsamp, jpegs[i].flags);
      put_bytes ("jpeg", jpegs[i].name, jpeg);
    }
}

/* ---- CT slices ---------------------------------------------------------------------------- */

/* A synthetic slice of the class, size x size, in HU. */
static NnImage *
synth_slice (int            size,
             NnSynthCtClass cls)
{
  NnSynthCtOptions options;
  nn_synth_ct_options_init (&options);
  options.size = size;
  NnImage *image = nn_image_new (1, size, size);
  unsigned char *mask = g_malloc ((size_t) size * (size_t) size);
  NnRng rng;
  nn_rng_init (&rng, 7 + (uint64_t) cls);
  NnError err = { 0 };
  if (image == NULL || !nn_synth_ct_generate (&options, cls, &rng, image->data, mask, &err))
    die ("cannot make a CT slice: %s", err.message);
  image->hu = true;
  g_free (mask);
  return image;
}

static void
ct_seeds (void)
{
  for (int cls = 0; cls < NN_SYNTH_CT_N_CLASSES; cls++)
    {
      NnImage *slice = synth_slice (cls == 0 ? 16 : 24, (NnSynthCtClass) cls);
      g_autofree char *path = scratch_path ("slice.png");
      NnError err = { 0 };
      if (!nn_ct_save_png16 (slice, path, &err))
        die ("%s", err.message);
      g_autoptr (GByteArray) png = scratch_take ("slice.png");
      g_autofree char *name = g_strdup_printf ("synth-%s.png",
                                               nn_synth_ct_class_name ((NnSynthCtClass) cls));
      put_bytes ("ct16", name, png);
      nn_image_free (slice);
    }
  static const char *const samples[] = { "ct-covid.png", "ct-healthy.png" };
  for (size_t i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      g_autofree char *path = g_build_filename (source_dir, "data", "samples", samples[i], NULL);
      g_autoptr (GByteArray) bytes = read_file (path);
      put_bytes ("ct16", samples[i], bytes);
    }
  g_autoptr (GByteArray) jpeg = make_jpeg (9, 7, true, TJSAMP_GRAY, 0);
  put_bytes ("ct16", "windowed.jpg", jpeg);
}

/* ---- DICOM -------------------------------------------------------------------------------- */

/* A data set being written: explicit or implicit VR, little or big endian. */
typedef struct
{
  GByteArray *b;
  bool        explicit_vr;
  bool        big;
} Dcm;

static bool
vr_long (const char *vr)
{
  static const char *const long_vrs[] = { "OB", "OW", "OF", "SQ", "UT", "UN" };
  for (size_t i = 0; i < G_N_ELEMENTS (long_vrs); i++)
    if (strcmp (vr, long_vrs[i]) == 0)
      return true;
  return false;
}

/* An element header; len 0xffffffff is an undefined length. */
static void
dcm_head (Dcm        *d,
          unsigned    group,
          unsigned    element,
          const char *vr,
          uint32_t    len)
{
  append_u16 (d->b, group, d->big);
  append_u16 (d->b, element, d->big);
  if (!d->explicit_vr)
    {
      append_u32 (d->b, len, d->big);
      return;
    }
  g_byte_array_append (d->b, (const guint8 *) vr, 2);
  if (vr_long (vr))
    {
      append_u16 (d->b, 0, d->big);
      append_u32 (d->b, len, d->big);
    }
  else
    append_u16 (d->b, (unsigned) len, d->big);
}

/* A text element, padded to an even length (UI with a NUL, the others with a space). */
static void
dcm_text (Dcm        *d,
          unsigned    group,
          unsigned    element,
          const char *vr,
          const char *text)
{
  size_t n = strlen (text);
  dcm_head (d, group, element, vr, (uint32_t) (n + (n & 1)));
  g_byte_array_append (d->b, (const guint8 *) text, (guint) n);
  if (n & 1)
    g_byte_array_append (d->b, (const guint8 *) (strcmp (vr, "UI") == 0 ? "" : " "), 1);
}

static void
dcm_us (Dcm     *d,
        unsigned group,
        unsigned element,
        unsigned value)
{
  dcm_head (d, group, element, "US", 2);
  append_u16 (d->b, value, d->big);
}

/* The item/delimiter tags (fffe,xxxx) with a length, never with a VR. */
static void
dcm_item (Dcm     *d,
          unsigned element,
          uint32_t len)
{
  append_u16 (d->b, 0xfffe, d->big);
  append_u16 (d->b, element, d->big);
  append_u32 (d->b, len, d->big);
}

/* Preamble, "DICM" and the file meta group (always explicit VR little endian). */
static GByteArray *
dcm_file (const char *transfer_syntax)
{
  GByteArray *file = g_byte_array_new ();
  guint8 preamble[128] = { 0 };
  g_byte_array_append (file, preamble, sizeof preamble);
  g_byte_array_append (file, (const guint8 *) "DICM", 4);
  Dcm meta = { g_byte_array_new (), true, false };
  dcm_head (&meta, 0x0002, 0x0001, "OB", 2);
  g_byte_array_append (meta.b, (const guint8 *) "\0\1", 2);
  dcm_text (&meta, 0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.2");
  dcm_text (&meta, 0x0002, 0x0003, "UI", "1.2.826.0.1.3680043.9.9999.1");
  dcm_text (&meta, 0x0002, 0x0010, "UI", transfer_syntax);
  Dcm group = { file, true, false };
  dcm_head (&group, 0x0002, 0x0000, "UL", 4);
  append_u32 (file, meta.b->len, false);
  g_byte_array_append (file, meta.b->data, meta.b->len);
  g_byte_array_unref (meta.b);
  return file;
}

typedef enum
{
  PIXELS_NATIVE,
  PIXELS_RLE,
  PIXELS_JPEG,
} DcmPixels;

/* RLE Lossless of one 8- or 16-bit gray frame: a segment per byte of a sample, most
 * significant first, each as PackBits literal runs. */
static GByteArray *
rle_frame (const guint8 *samples,
           int           n,
           int           bytes_per_sample)
{
  GByteArray *segs[2] = { g_byte_array_new (), g_byte_array_new () };
  for (int s = 0; s < bytes_per_sample; s++)
    for (int i = 0; i < n; i += 128)
      {
        int run = n - i < 128 ? n - i : 128;
        guint8 head = (guint8) (run - 1);
        g_byte_array_append (segs[s], &head, 1);
        for (int k = 0; k < run; k++)
          {
            /* Little-endian samples: byte bytes_per_sample - 1 - s is segment s. */
            guint8 v = samples[(size_t) (i + k) * (size_t) bytes_per_sample
                               + (size_t) (bytes_per_sample - 1 - s)];
            g_byte_array_append (segs[s], &v, 1);
          }
        if (segs[s]->len & 1)
          g_byte_array_append (segs[s], (const guint8 *) "\x80", 1);
      }
  GByteArray *frame = g_byte_array_new ();
  append_u32 (frame, (uint32_t) bytes_per_sample, false);
  uint32_t offset = 64;
  for (int s = 0; s < 15; s++)
    {
      append_u32 (frame, s < bytes_per_sample ? offset : 0, false);
      if (s < bytes_per_sample)
        offset += segs[s]->len;
    }
  for (int s = 0; s < bytes_per_sample; s++)
    g_byte_array_append (frame, segs[s]->data, segs[s]->len);
  g_byte_array_unref (segs[0]);
  g_byte_array_unref (segs[1]);
  return frame;
}

/* A rows x cols CT slice in the transfer syntax, with a referenced-image sequence of defined
 * or undefined length. */
static GByteArray *
make_dicom (const char *transfer_syntax,
            bool        explicit_vr,
            bool        big,
            int         rows,
            int         cols,
            int         bits,
            bool        is_signed,
            const char *photometric,
            bool        undefined_sequence,
            DcmPixels   encoding)
{
  GByteArray *file = dcm_file (transfer_syntax);
  Dcm d = { file, explicit_vr, big };
  dcm_text (&d, 0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.2");
  dcm_text (&d, 0x0008, 0x0060, "CS", "CT");

  /* (0008,1140) Referenced Image Sequence, one item with a Referenced SOP Instance UID. */
  Dcm item = { g_byte_array_new (), explicit_vr, big };
  dcm_text (&item, 0x0008, 0x1150, "UI", "1.2.840.10008.5.1.4.1.1.2");
  dcm_text (&item, 0x0008, 0x1155, "UI", "1.2.826.0.1.3680043.9.9999.2");
  if (undefined_sequence)
    {
      dcm_head (&d, 0x0008, 0x1140, "SQ", 0xffffffffu);
      dcm_item (&d, 0xe000, 0xffffffffu);
      g_byte_array_append (file, item.b->data, item.b->len);
      dcm_item (&d, 0xe00d, 0);
      dcm_item (&d, 0xe0dd, 0);
    }
  else
    {
      dcm_head (&d, 0x0008, 0x1140, "SQ", 8 + item.b->len);
      dcm_item (&d, 0xe000, item.b->len);
      g_byte_array_append (file, item.b->data, item.b->len);
    }
  g_byte_array_unref (item.b);

  dcm_text (&d, 0x0020, 0x0013, "IS", "3");
  dcm_text (&d, 0x0020, 0x0032, "DS", "-200\\-200\\-12.5");
  dcm_text (&d, 0x0020, 0x0037, "DS", "1\\0\\0\\0\\1\\0");
  dcm_us (&d, 0x0028, 0x0002, 1);
  dcm_text (&d, 0x0028, 0x0004, "CS", photometric);
  dcm_us (&d, 0x0028, 0x0010, (unsigned) rows);
  dcm_us (&d, 0x0028, 0x0011, (unsigned) cols);
  dcm_us (&d, 0x0028, 0x0100, (unsigned) bits);
  dcm_us (&d, 0x0028, 0x0101, (unsigned) (bits == 16 ? 12 : bits));
  dcm_us (&d, 0x0028, 0x0102, (unsigned) (bits == 16 ? 11 : bits - 1));
  dcm_us (&d, 0x0028, 0x0103, is_signed ? 1 : 0);
  dcm_text (&d, 0x0028, 0x1052, "DS", "-1024");
  dcm_text (&d, 0x0028, 0x1053, "DS", "1");

  int bytes_per_sample = bits / 8;
  size_t n = (size_t) rows * (size_t) cols;
  guint8 *samples = g_malloc (n * (size_t) bytes_per_sample);
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < bytes_per_sample; k++)
      samples[i * (size_t) bytes_per_sample + (size_t) k]
        = k == 1 ? (guint8) (pattern (i) & 0x0f) : pattern (i);
  if (encoding == PIXELS_NATIVE)
    {
      size_t len = n * (size_t) bytes_per_sample;
      dcm_head (&d, 0x7fe0, 0x0010, bits == 8 ? "OB" : "OW", (uint32_t) (len + (len & 1)));
      for (size_t i = 0; i < n; i++)
        for (int k = 0; k < bytes_per_sample; k++)
          g_byte_array_append (file, &samples[i * (size_t) bytes_per_sample
                                              + (size_t) (big ? bytes_per_sample - 1 - k : k)],
                               1);
      if (len & 1)
        g_byte_array_append (file, (const guint8 *) "", 1);
    }
  else
    {
      GByteArray *frame = NULL;
      if (encoding == PIXELS_RLE)
        frame = rle_frame (samples, (int) n, bytes_per_sample);
      else
        frame = make_jpeg (cols, rows, true, TJSAMP_GRAY, 0);
      if (frame->len & 1)
        g_byte_array_append (frame, (const guint8 *) "", 1);
      dcm_head (&d, 0x7fe0, 0x0010, "OB", 0xffffffffu);
      dcm_item (&d, 0xe000, 0);
      dcm_item (&d, 0xe000, frame->len);
      g_byte_array_append (file, frame->data, frame->len);
      dcm_item (&d, 0xe0dd, 0);
      g_byte_array_unref (frame);
    }
  g_free (samples);
  return file;
}

static void
dicom_seeds (void)
{
  static const struct
  {
    const char *name;
    const char *ts;
    bool        explicit_vr, big;
    int         bits;
    bool        is_signed;
    const char *photometric;
    bool        undefined_sequence;
    DcmPixels   encoding;
  } files[] = {
    { "explicit-le.dcm", "1.2.840.10008.1.2.1", true, false, 16, false, "MONOCHROME2", false,
      PIXELS_NATIVE },
    { "implicit-le-signed.dcm", "1.2.840.10008.1.2", false, false, 16, true, "MONOCHROME2", true,
      PIXELS_NATIVE },
    { "explicit-be-8bit.dcm", "1.2.840.10008.1.2.2", true, true, 8, false, "MONOCHROME1", false,
      PIXELS_NATIVE },
    { "explicit-le-32bit.dcm", "1.2.840.10008.1.2.1", true, false, 32, true, "MONOCHROME2", true,
      PIXELS_NATIVE },
    { "rle-16bit.dcm", "1.2.840.10008.1.2.5", true, false, 16, false, "MONOCHROME2", true,
      PIXELS_RLE },
    { "jpeg-baseline.dcm", "1.2.840.10008.1.2.4.50", true, false, 8, false, "MONOCHROME2", false,
      PIXELS_JPEG },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autoptr (GByteArray) dcm = make_dicom (files[i].ts, files[i].explicit_vr, files[i].big,
                                               6, 8, files[i].bits, files[i].is_signed,
                                               files[i].photometric, files[i].undefined_sequence,
                                               files[i].encoding);
      put_bytes ("dicom-decode", files[i].name, dcm);
    }

  NnImage *slice = synth_slice (16, NN_SYNTH_CT_COVID);
  g_autofree char *path = scratch_path ("slice.dcm");
  NnError err = { 0 };
  if (!nn_dicom_save (slice, 25.0, "fuzz seed", path, &err))
    die ("%s", err.message);
  nn_image_free (slice);
  g_autoptr (GByteArray) saved = scratch_take ("slice.dcm");
  put_bytes ("dicom-decode", "nn-dicom-save.dcm", saved);
  g_autofree char *sample = g_build_filename (source_dir, "data", "samples", "ct-covid.dcm",
                                              NULL);
  g_autoptr (GByteArray) bytes = read_file (sample);
  put_bytes ("dicom-decode", "ct-covid.dcm", bytes);
}

/* The helper's replies (io/nn-dicom-frame.h): a slice, an error, and a batch of both. */
static void
append_reply_slice (GByteArray *b,
                    uint32_t    rows,
                    uint32_t    cols,
                    double      position,
                    double      instance)
{
  g_byte_array_append (b, (const guint8 *) "NNDC", 4);
  append_u32 (b, 3, false);
  append_u32 (b, 0, false);
  append_u32 (b, rows, false);
  append_u32 (b, cols, false);
  append_f64 (b, position);
  append_f64 (b, instance);
  const double geometry[12] = { -100.0, -90.0, position, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.7,
                                0.7, 0.0 };
  for (int i = 0; i < 12; i++)
    append_f64 (b, geometry[i]);
  append_u32 (b, 7, false);
  append_u32 (b, 4, false);
  g_byte_array_append (b, (const guint8 *) "1.2.840", 7);
  g_byte_array_append (b, (const guint8 *) "Lung", 4);
  for (uint32_t i = 0; i < rows * cols; i++)
    {
      float v = -1024.0f + 13.5f * (float) i;
      uint32_t bits;
      memcpy (&bits, &v, sizeof bits);
      append_u32 (b, bits, false);
    }
}

static void
append_reply_error (GByteArray *b,
                    uint32_t    code,
                    const char *message)
{
  g_byte_array_append (b, (const guint8 *) "NNDC", 4);
  append_u32 (b, 3, false);
  append_u32 (b, code, false);
  append_u32 (b, (uint32_t) strlen (message), false);
  g_byte_array_append (b, (const guint8 *) message, (guint) strlen (message));
}

static void
reply_seeds (void)
{
  g_autoptr (GByteArray) slice = g_byte_array_new ();
  append_reply_slice (slice, 3, 4, -12.5, 7.0);
  put_bytes ("dicom-reply", "slice", slice);
  g_autoptr (GByteArray) error = g_byte_array_new ();
  append_reply_error (error, NN_ERROR_FORMAT, "truncated or broken at byte 300 of 310");
  put_bytes ("dicom-reply", "error", error);
  g_autoptr (GByteArray) batch = g_byte_array_new ();
  append_reply_slice (batch, 2, 2, 1.0, 1.0);
  append_reply_slice (batch, 2, 2, NAN, NAN);
  append_reply_error (batch, NN_ERROR_UNSUPPORTED, "");
  put_bytes ("dicom-reply", "batch", batch);
}

/* ---- .npy --------------------------------------------------------------------------------- */

/* An .npy of the major version with the header dict text and n floats of data. */
static GByteArray *
make_npy (int         major,
          const char *dict,
          size_t      n)
{
  GByteArray *b = g_byte_array_new ();
  size_t prelude = major == 1 ? 10 : 12;
  size_t padded = (prelude + strlen (dict) + 1 + 63) / 64 * 64 - prelude;
  g_byte_array_append (b, (const guint8 *) "\x93NUMPY", 6);
  guint8 version[2] = { (guint8) major, 0 };
  g_byte_array_append (b, version, 2);
  if (major == 1)
    append_u16 (b, (unsigned) padded, false);
  else
    append_u32 (b, (uint32_t) padded, false);
  g_byte_array_append (b, (const guint8 *) dict, (guint) strlen (dict));
  for (size_t i = strlen (dict); i + 1 < padded; i++)
    g_byte_array_append (b, (const guint8 *) " ", 1);
  g_byte_array_append (b, (const guint8 *) "\n", 1);
  for (size_t i = 0; i < n; i++)
    {
      float v = 0.125f * (float) i - 1.0f;
      g_byte_array_append (b, (const guint8 *) &v, sizeof v);
    }
  return b;
}

/* A .npy of float32 (dims) written by nn_npy_save. */
static GByteArray *
saved_npy (const int *dims,
           int        ndim)
{
  size_t n = 1;
  for (int i = 0; i < ndim; i++)
    n *= (size_t) dims[i];
  float *data = g_new0 (float, n ? n : 1);
  for (size_t i = 0; i < n; i++)
    data[i] = (float) i / 8.0f - 0.5f;
  g_autofree char *path = scratch_path ("array.npy");
  NnError err = { 0 };
  if (!nn_npy_save (path, data, dims, ndim, &err))
    die ("%s", err.message);
  g_free (data);
  return scratch_take ("array.npy");
}

static void
npy_seeds (void)
{
  static const struct
  {
    int major;
    const char *dict;
    size_t n;
  } npys[] = {
    { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 6 },
    { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 1 },
    { 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", 5 },
    { 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2, 2), }", 8 },
    { 3, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3, 0), }", 0 },
    { 1, "{'shape': (2, 2), 'fortran_order': False, 'descr': '<f4'}", 4 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (npys); i++)
    {
      g_autoptr (GByteArray) b = make_npy (npys[i].major, npys[i].dict, npys[i].n);
      g_autofree char *name = g_strdup_printf ("v%d-%zu.npy", npys[i].major, i);
      put_bytes ("npy", name, b);
    }
  g_autoptr (GByteArray) saved = saved_npy ((const int[]) { 1, 3, 4, 5 }, 4);
  put_bytes ("npy", "nn-npy-save.npy", saved);
}

/* ---- NIfTI ------------------------------------------------------------------------------- */

/* Volumes written by nn_volume_save_nifti: plain and compressed, a rotated geometry and a
 * single slice. */
static void
nifti_seeds (void)
{
  static const struct
  {
    int nx, ny, nz;
    const char *name;
  } volumes[] = {
    { 4, 3, 2, "v.nii" }, { 5, 4, 3, "v.nii.gz" }, { 6, 5, 1, "slice.nii" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (volumes); i++)
    {
      NnVolume *v = nn_volume_new (volumes[i].nx, volumes[i].ny, volumes[i].nz);
      size_t n = (size_t) v->nx * (size_t) v->ny * (size_t) v->nz;
      for (size_t k = 0; k < n; k++)
        v->data[k] = -1000.0f + 17.0f * (float) k;
      if (i == 1)
        {
          v->affine[0][0] = -0.8;
          v->affine[0][1] = 0.2;
          v->affine[1][0] = 0.2;
          v->affine[1][1] = 0.8;
          v->affine[2][2] = 2.5;
          v->affine[0][3] = 12.0;
          v->sform_code = 2;
        }
      NnError err = { 0 };
      g_autofree char *path = scratch_path (volumes[i].name);
      if (!nn_volume_save_nifti (v, "fuzz seed", path, &err))
        die ("%s", err.message);
      nn_volume_free (v);
      g_autoptr (GByteArray) b = scratch_take (volumes[i].name);
      put_bytes ("nifti", volumes[i].name, b);
    }
}

/* ---- IDX ---------------------------------------------------------------------------------- */

static GByteArray *
gzip_bytes (const GByteArray *in)
{
  z_stream z = { 0 };
  if (deflateInit2 (&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    die ("zlib failed");
  GByteArray *out = g_byte_array_sized_new ((guint) deflateBound (&z, in->len) + 32);
  g_byte_array_set_size (out, (guint) deflateBound (&z, in->len) + 32);
  z.next_in = in->data;
  z.avail_in = in->len;
  z.next_out = out->data;
  z.avail_out = out->len;
  if (deflate (&z, Z_FINISH) != Z_STREAM_END)
    die ("zlib failed");
  g_byte_array_set_size (out, (guint) z.total_out);
  deflateEnd (&z);
  return out;
}

/* The idx harness's input: u16 LE length of the labels file, the labels, the images. */
static void
put_idx (const char       *name,
         const GByteArray *labels,
         const GByteArray *images)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  append_u16 (b, labels->len, false);
  g_byte_array_append (b, labels->data, labels->len);
  g_byte_array_append (b, images->data, images->len);
  put_bytes ("idx", name, b);
}

static void
idx_seeds (void)
{
  const uint32_t n = 6, h = 4, w = 5;
  g_autoptr (GByteArray) labels = g_byte_array_new ();
  append_u32 (labels, 0x00000801, true);
  append_u32 (labels, n, true);
  for (uint32_t i = 0; i < n; i++)
    {
      guint8 label = (guint8) (i % 3);
      g_byte_array_append (labels, &label, 1);
    }
  g_autoptr (GByteArray) images = g_byte_array_new ();
  append_u32 (images, 0x00000803, true);
  append_u32 (images, n, true);
  append_u32 (images, h, true);
  append_u32 (images, w, true);
  for (uint32_t i = 0; i < n * h * w; i++)
    {
      guint8 v = pattern (i);
      g_byte_array_append (images, &v, 1);
    }
  put_idx ("plain", labels, images);
  g_autoptr (GByteArray) zlabels = gzip_bytes (labels);
  g_autoptr (GByteArray) zimages = gzip_bytes (images);
  put_idx ("gzip", zlabels, zimages);
  put_idx ("gzip-labels", zlabels, images);
}

/* ---- Image folders ------------------------------------------------------------------------ */

/* An entry of the folder harness's input (fuzz-folder.c): folder and name indices, the kind
 * (0 file, 2 folder, 3 FIFO) and the file's bytes. */
static void
folder_entry (GByteArray       *b,
              int               folder,
              int               name,
              int               kind,
              const GByteArray *file)
{
  guint8 head[2] = { (guint8) folder, (guint8) (name | kind << 4) };
  g_byte_array_append (b, head, 2);
  append_u16 (b, file != NULL ? file->len : 0, false);
  if (file != NULL)
    g_byte_array_append (b, file->data, file->len);
}

static void
folder_seeds (void)
{
  g_autoptr (GByteArray) gray = make_png (7, 5, PNG_COLOR_TYPE_GRAY, 8, false, false);
  g_autoptr (GByteArray) rgb = make_png (6, 6, PNG_COLOR_TYPE_RGB, 8, false, false);
  g_autoptr (GByteArray) gray16 = make_png (5, 5, PNG_COLOR_TYPE_GRAY, 16, false, false);
  g_autoptr (GByteArray) jpeg = make_jpeg (9, 7, false, TJSAMP_420, 0);
  g_autoptr (GByteArray) text = g_byte_array_new ();
  g_byte_array_append (text, (const guint8 *) "not an image\n", 13);

  /* folders: 0 a, 1 b, 2 c, 3 train/a, 4 train/b, 5 test/a, 6 test/b, 7 .hidden; names: 0
   * 0.png, 1 1.png, 2 2.jpg, 3 3.jpeg, 4 4.PNG, 5 5.mask.png, 6 6.lung.png, 7 7.txt, 8 .8.png,
   * 9 9.png. */
  g_autoptr (GByteArray) classes = g_byte_array_new ();
  g_byte_array_append (classes, (const guint8 *) "\0", 1);
  folder_entry (classes, 0, 0, 0, gray);
  folder_entry (classes, 0, 1, 0, gray);
  folder_entry (classes, 1, 0, 0, rgb);
  folder_entry (classes, 1, 2, 0, jpeg);
  folder_entry (classes, 1, 5, 0, gray);
  folder_entry (classes, 2, 7, 0, text);
  put_bytes ("folder", "classes", classes);

  g_autoptr (GByteArray) split = g_byte_array_new ();
  g_byte_array_append (split, (const guint8 *) "\x09", 1);
  folder_entry (split, 3, 0, 0, gray);
  folder_entry (split, 4, 1, 0, rgb);
  folder_entry (split, 5, 0, 0, gray);
  folder_entry (split, 6, 9, 0, jpeg);
  put_bytes ("folder", "split", split);

  g_autoptr (GByteArray) ct = g_byte_array_new ();
  g_byte_array_append (ct, (const guint8 *) "\x03", 1);
  folder_entry (ct, 0, 0, 0, gray16);
  folder_entry (ct, 1, 4, 0, gray16);
  folder_entry (ct, 1, 6, 0, gray);
  folder_entry (ct, 7, 0, 0, gray16);
  put_bytes ("folder", "ct16", ct);

  g_autoptr (GByteArray) odd = g_byte_array_new ();
  g_byte_array_append (odd, (const guint8 *) "\x02", 1);
  folder_entry (odd, 0, 0, 0, gray);
  folder_entry (odd, 0, 1, 3, NULL);
  folder_entry (odd, 1, 0, 2, NULL);
  folder_entry (odd, 1, 3, 0, jpeg);
  folder_entry (odd, 0, 8, 0, rgb);
  put_bytes ("folder", "fifo-and-folder", odd);
}

/* ---- Inputs ------------------------------------------------------------------------------- */

/* The input harness's input (fuzz-input.c): the option byte, then the file. */
static void
put_input (const char       *name,
           guint8            options,
           const GByteArray *file)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_byte_array_append (b, &options, 1);
  g_byte_array_append (b, file->data, file->len);
  put_bytes ("input", name, b);
}

static void
input_seeds (void)
{
  /* Options: bit 0 .npy, bits 1-2 the model (0 none, 1 gray 28 x 28, 2 CT 32 x 32, 3 RGB
   * 20 x 24), bit 3 a window given. */
  g_autoptr (GByteArray) gray = make_png (28, 28, PNG_COLOR_TYPE_GRAY, 8, false, false);
  g_autoptr (GByteArray) rgb = make_jpeg (24, 20, false, TJSAMP_444, 0);
  NnImage *slice = synth_slice (32, NN_SYNTH_CT_OTHER);
  g_autofree char *path = scratch_path ("slice.png");
  NnError err = { 0 };
  if (!nn_ct_save_png16 (slice, path, &err))
    die ("%s", err.message);
  nn_image_free (slice);
  g_autoptr (GByteArray) ct = scratch_take ("slice.png");
  put_input ("png-none", 0, gray);
  put_input ("png-gray", 1 << 1, gray);
  put_input ("jpeg-rgb", 3 << 1, rgb);
  put_input ("ct-ct-window", 2 << 1 | 8, ct);
  put_input ("ct-none", 0, ct);
  put_input ("ct-gray", 1 << 1, ct);
  g_autoptr (GByteArray) npy_gray = saved_npy ((const int[]) { 1, 28, 28 }, 3);
  g_autoptr (GByteArray) npy_rgb = saved_npy ((const int[]) { 1, 3, 20, 24 }, 4);
  g_autoptr (GByteArray) npy_ct = saved_npy ((const int[]) { 1, 32, 32 }, 3);
  g_autoptr (GByteArray) npy_other = saved_npy ((const int[]) { 2, 5 }, 2);
  put_input ("npy-gray", 1 | 1 << 1, npy_gray);
  put_input ("npy-rgb", 1 | 3 << 1, npy_rgb);
  put_input ("npy-ct-window", 1 | 2 << 1 | 8, npy_ct);
  put_input ("npy-none", 1, npy_other);
}

/* ---- Models ------------------------------------------------------------------------------- */

static void
model_seeds (void)
{
  static const struct
  {
    const char *arch;
    int         c, h, w, classes;
    float       width;
    bool        ct;
  } models[] = {
    { "smallcnn", 1, 12, 12, 3, 0.125f, false },
    { "smallcnn", 1, 16, 16, 3, 0.125f, true },
    { "resnet18", 3, 16, 16, 2, 0.03125f, false },
    { "vgg11_bn", 1, 32, 32, 2, 0.03125f, false },
    { "pfnet18", 1, 16, 16, 2, 0.0625f, false },
    { "fpnet", 1, 16, 16, 2, 0.125f, false },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (models); i++)
    {
      NnArchSpec spec = {
        .name = models[i].arch, .in_c = models[i].c, .in_h = models[i].h, .in_w = models[i].w,
        .n_classes = models[i].classes, .width = models[i].width, .seed = 3,
      };
      NnError err = { 0 };
      NnGraph *graph = nn_arch_build (&spec, &err);
      if (graph == NULL)
        {
          fprintf (stderr, "make-seeds: no %s seed: %s\n", models[i].arch, err.message);
          continue;
        }
      NnModel *model = nn_model_new (graph, models[i].arch);
      for (int k = 0; k < models[i].classes; k++)
        {
          char label[32];
          snprintf (label, sizeof label, "class \"%d\"", k);
          nn_model_set_label (model, k, label);
        }
      for (int k = 0; k < models[i].c; k++)
        {
          model->mean[k] = 0.25f + 0.125f * (float) k;
          model->std[k] = 0.5f;
        }
      model->has_window = models[i].ct;
      model->window = NN_CT_WINDOW_LUNG;
      snprintf (model->dataset, sizeof model->dataset, "seed");
      snprintf (model->command, sizeof model->command, "make-seeds --arch %s", models[i].arch);
      model->test_accuracy = 0.5;
      g_autofree char *path = scratch_path ("model.safetensors");
      if (!nn_model_save (model, path, &err))
        die ("%s", err.message);
      nn_model_free (model);
      g_autoptr (GByteArray) bytes = scratch_take ("model.safetensors");
      g_autofree char *name = g_strdup_printf ("%s-%zu.safetensors", models[i].arch, i);
      put_bytes ("model", name, bytes);
    }
  g_autofree char *demo = g_build_filename (source_dir, "data", "demo-pfnet-fashion.safetensors",
                                            NULL);
  g_autoptr (GByteArray) bytes = read_file (demo);
  put_bytes ("model", "demo-pfnet-fashion.safetensors", bytes);
}

/* ---- ONNX --------------------------------------------------------------------------------- */

/* A model under construction; every allocation goes to `garbage`. */
typedef struct
{
  GPtrArray               *garbage;
  GPtrArray               *nodes;
  GPtrArray               *inits;
  Onnx__ValueInfoProto    *input;
  Onnx__ValueInfoProto    *output;
  Onnx__ModelProto         model;
  Onnx__GraphProto         graph;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsets[1];
} Onnx;

static void *
keep (Onnx *b,
      void *p)
{
  g_ptr_array_add (b->garbage, p);
  return p;
}

static void
onnx_init (Onnx   *b,
           int64_t opset)
{
  memset (b, 0, sizeof *b);
  b->garbage = g_ptr_array_new_with_free_func (g_free);
  b->nodes = g_ptr_array_new ();
  b->inits = g_ptr_array_new ();
  onnx__model_proto__init (&b->model);
  onnx__graph_proto__init (&b->graph);
  onnx__operator_set_id_proto__init (&b->opset);
  b->opset.has_version = true;
  b->opset.version = opset;
  b->model.has_ir_version = true;
  b->model.ir_version = 8;
  b->model.producer_name = (char *) "make-seeds";
}

static Onnx__TensorProto *
tensor_new (Onnx          *b,
            const char    *name,
            int32_t        type,
            int            ndim,
            const int64_t *dims)
{
  Onnx__TensorProto *t = keep (b, g_new0 (Onnx__TensorProto, 1));
  onnx__tensor_proto__init (t);
  t->name = keep (b, g_strdup (name));
  t->has_data_type = true;
  t->data_type = type;
  t->n_dims = (size_t) ndim;
  t->dims = keep (b, g_memdup2 (dims, sizeof (int64_t) * (size_t) (ndim ? ndim : 1)));
  return t;
}

static size_t
dims_count (int            ndim,
            const int64_t *dims)
{
  size_t n = 1;
  for (int i = 0; i < ndim; i++)
    n *= (size_t) dims[i];
  return n;
}

/* A float initializer of deterministic values, as float_data or raw_data. */
static Onnx__TensorProto *
init_float (Onnx          *b,
            const char    *name,
            int            ndim,
            const int64_t *dims,
            bool           raw)
{
  Onnx__TensorProto *t = tensor_new (b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, ndim, dims);
  size_t n = dims_count (ndim, dims);
  float *v = keep (b, g_new (float, n ? n : 1));
  for (size_t i = 0; i < n; i++)
    v[i] = 0.5f + (float) ((i * 7) % 11) / 16.0f;
  if (raw)
    {
      t->has_raw_data = true;
      t->raw_data.len = n * sizeof (float);
      t->raw_data.data = (uint8_t *) v;
    }
  else
    {
      t->n_float_data = n;
      t->float_data = v;
    }
  g_ptr_array_add (b->inits, t);
  return t;
}

static Onnx__TensorProto *
tensor_ints (Onnx          *b,
             const char    *name,
             const int64_t *values,
             size_t         n)
{
  int64_t dims[1] = { (int64_t) n };
  Onnx__TensorProto *t = tensor_new (b, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 1, dims);
  t->n_int64_data = n;
  t->int64_data = keep (b, g_memdup2 (values, sizeof (int64_t) * (n ? n : 1)));
  return t;
}

static void
init_ints (Onnx          *b,
           const char    *name,
           const int64_t *values,
           size_t         n)
{
  g_ptr_array_add (b->inits, tensor_ints (b, name, values, n));
}

/* A node; inputs and outputs are NULL-terminated lists ("" for an omitted input). */
static Onnx__NodeProto *
node (Onnx              *b,
      const char        *op,
      const char        *name,
      const char *const *inputs,
      const char *const *outputs)
{
  Onnx__NodeProto *n = keep (b, g_new0 (Onnx__NodeProto, 1));
  onnx__node_proto__init (n);
  n->op_type = (char *) op;
  n->name = (char *) name;
  n->n_input = g_strv_length ((char **) inputs);
  n->input = keep (b, g_memdup2 (inputs, sizeof (char *) * (n->n_input + 1)));
  n->n_output = g_strv_length ((char **) outputs);
  n->output = keep (b, g_memdup2 (outputs, sizeof (char *) * (n->n_output + 1)));
  g_ptr_array_add (b->nodes, n);
  return n;
}

static Onnx__AttributeProto *
attr (Onnx            *b,
      Onnx__NodeProto *n,
      const char      *name,
      int              type)
{
  Onnx__AttributeProto *a = keep (b, g_new0 (Onnx__AttributeProto, 1));
  onnx__attribute_proto__init (a);
  a->name = (char *) name;
  a->has_type = true;
  a->type = type;
  Onnx__AttributeProto **list = keep (b, g_new0 (Onnx__AttributeProto *, n->n_attribute + 1));
  if (n->n_attribute > 0)
    memcpy (list, n->attribute, sizeof *list * n->n_attribute);
  list[n->n_attribute++] = a;
  n->attribute = list;
  return a;
}

static void
attr_int (Onnx            *b,
          Onnx__NodeProto *n,
          const char      *name,
          int64_t          v)
{
  Onnx__AttributeProto *a = attr (b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  a->has_i = true;
  a->i = v;
}

static void
attr_float (Onnx            *b,
            Onnx__NodeProto *n,
            const char      *name,
            float            v)
{
  Onnx__AttributeProto *a = attr (b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  a->has_f = true;
  a->f = v;
}

static void
attr_ints (Onnx            *b,
           Onnx__NodeProto *n,
           const char      *name,
           const int64_t   *v,
           size_t           count)
{
  Onnx__AttributeProto *a = attr (b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = count;
  a->ints = keep (b, g_memdup2 (v, sizeof (int64_t) * count));
}

static void
attr_string (Onnx            *b,
             Onnx__NodeProto *n,
             const char      *name,
             const char      *s)
{
  Onnx__AttributeProto *a = attr (b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = true;
  a->s.len = strlen (s);
  a->s.data = (uint8_t *) s;
}

/* A float tensor value info; a negative dim is symbolic ("batch"). */
static Onnx__ValueInfoProto *
value_info (Onnx          *b,
            const char    *name,
            int            ndim,
            const int64_t *dims)
{
  Onnx__ValueInfoProto *v = keep (b, g_new0 (Onnx__ValueInfoProto, 1));
  onnx__value_info_proto__init (v);
  v->name = (char *) name;
  Onnx__TypeProto *type = keep (b, g_new0 (Onnx__TypeProto, 1));
  onnx__type_proto__init (type);
  Onnx__TypeProto__Tensor *tt = keep (b, g_new0 (Onnx__TypeProto__Tensor, 1));
  onnx__type_proto__tensor__init (tt);
  tt->has_elem_type = true;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  Onnx__TensorShapeProto *shape = keep (b, g_new0 (Onnx__TensorShapeProto, 1));
  onnx__tensor_shape_proto__init (shape);
  shape->n_dim = (size_t) ndim;
  shape->dim = keep (b, g_new0 (Onnx__TensorShapeProto__Dimension *, (gsize) ndim + 1));
  for (int d = 0; d < ndim; d++)
    {
      Onnx__TensorShapeProto__Dimension *dim
        = keep (b, g_new0 (Onnx__TensorShapeProto__Dimension, 1));
      onnx__tensor_shape_proto__dimension__init (dim);
      if (dims[d] >= 0)
        {
          dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
          dim->dim_value = dims[d];
        }
      else
        {
          dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
          dim->dim_param = (char *) "batch";
        }
      shape->dim[d] = dim;
    }
  tt->shape = shape;
  type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  type->tensor_type = tt;
  v->type = type;
  return v;
}

/* Packs the model, checks that it imports (a seed that does not is reported: the importer
 * changed) and writes it. */
static void
onnx_put (Onnx       *b,
          const char *name)
{
  b->graph.n_node = b->nodes->len;
  b->graph.node = (Onnx__NodeProto **) b->nodes->pdata;
  b->graph.n_initializer = b->inits->len;
  b->graph.initializer = (Onnx__TensorProto **) b->inits->pdata;
  b->graph.n_input = 1;
  b->graph.input = &b->input;
  b->graph.n_output = 1;
  b->graph.output = &b->output;
  b->graph.name = (char *) "seed";
  b->model.graph = &b->graph;
  b->opsets[0] = &b->opset;
  b->model.n_opset_import = 1;
  b->model.opset_import = b->opsets;
  size_t size = onnx__model_proto__get_packed_size (&b->model);
  guint8 *data = g_malloc (size);
  onnx__model_proto__pack (&b->model, data);
  put ("onnx", name, data, size);

  /* The external data file as fuzz-onnx.c writes it: 4096 floats i / 4096. */
  float weights[4096];
  for (int i = 0; i < 4096; i++)
    weights[i] = (float) i / 4096;
  g_autofree char *weights_path = scratch_path ("weights.bin");
  g_autofree char *path = scratch_path ("model.onnx");
  g_file_set_contents (weights_path, (const char *) weights, sizeof weights, NULL);
  g_file_set_contents (path, (const char *) data, (gssize) size, NULL);
  NnError err = { 0 };
  NnModel *model = nn_onnx_load (path, NULL, &err);
  if (model == NULL)
    fprintf (stderr, "make-seeds: warning: ONNX seed %s does not import: %s\n", name,
             err.message);
  nn_model_free (model);
  g_unlink (path);
  g_unlink (weights_path);
  g_free (data);
  g_ptr_array_unref (b->garbage);
  g_ptr_array_unref (b->nodes);
  g_ptr_array_unref (b->inits);
}

#define IN(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* Conv, Relu, MaxPool, BatchNormalization, the exporter's flatten by shape arithmetic
 * (Shape, Gather, Unsqueeze, Concat, Reshape), Gemm and Softmax: a torch.onnx export. */
static void
onnx_cnn (void)
{
  Onnx b;
  onnx_init (&b, 13);
  b.input = value_info (&b, "input", 4, (const int64_t[]) { -1, 1, 8, 8 });
  b.output = value_info (&b, "output", 2, (const int64_t[]) { -1, 3 });
  init_float (&b, "conv.weight", 4, (const int64_t[]) { 4, 1, 3, 3 }, true);
  init_float (&b, "conv.bias", 1, (const int64_t[]) { 4 }, false);
  Onnx__NodeProto *n = node (&b, "Conv", "/conv/Conv", IN ("input", "conv.weight", "conv.bias"),
                             IN ("c"));
  attr_ints (&b, n, "pads", (const int64_t[]) { 1, 1, 1, 1 }, 4);
  attr_ints (&b, n, "kernel_shape", (const int64_t[]) { 3, 3 }, 2);
  node (&b, "Relu", "/relu/Relu", IN ("c"), IN ("r"));
  n = node (&b, "MaxPool", "/pool/MaxPool", IN ("r"), IN ("p"));
  attr_ints (&b, n, "kernel_shape", (const int64_t[]) { 2, 2 }, 2);
  attr_ints (&b, n, "strides", (const int64_t[]) { 2, 2 }, 2);
  for (int k = 0; k < 4; k++)
    {
      static const char *const names[] = { "bn.weight", "bn.bias", "bn.running_mean",
                                           "bn.running_var" };
      init_float (&b, names[k], 1, (const int64_t[]) { 4 }, k % 2 == 0);
    }
  n = node (&b, "BatchNormalization", "/bn/BatchNormalization",
            IN ("p", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"), IN ("bn"));
  attr_float (&b, n, "epsilon", 1e-5f);
  node (&b, "Shape", "/Shape", IN ("bn"), IN ("shape"));
  init_ints (&b, "zero", (const int64_t[]) { 0 }, 1);
  n = node (&b, "Gather", "/Gather", IN ("shape", "zero"), IN ("batch"));
  attr_int (&b, n, "axis", 0);
  init_ints (&b, "minus_one", (const int64_t[]) { -1 }, 1);
  n = node (&b, "Concat", "/Concat", IN ("batch", "minus_one"), IN ("flat_shape"));
  attr_int (&b, n, "axis", 0);
  node (&b, "Reshape", "/Reshape", IN ("bn", "flat_shape"), IN ("flat"));
  init_float (&b, "fc.weight", 2, (const int64_t[]) { 3, 64 }, true);
  init_float (&b, "fc.bias", 1, (const int64_t[]) { 3 }, true);
  n = node (&b, "Gemm", "/fc/Gemm", IN ("flat", "fc.weight", "fc.bias"), IN ("logits"));
  attr_int (&b, n, "transB", 1);
  attr_float (&b, n, "alpha", 1.0f);
  n = node (&b, "Softmax", "/Softmax", IN ("logits"), IN ("output"));
  attr_int (&b, n, "axis", 1);
  onnx_put (&b, "cnn.onnx");
}

/* Grouped dilated Conv with auto_pad, LeakyRelu, PRelu, Clip, a residual Add, Mul and Sub by
 * constants, Pad, AveragePool, Concat, HardSwish, Sigmoid, Dropout, Identity,
 * GlobalAveragePool, Flatten, MatMul + Add. */
static void
onnx_misc (void)
{
  Onnx b;
  onnx_init (&b, 14);
  b.input = value_info (&b, "x", 4, (const int64_t[]) { 1, 2, 6, 6 });
  b.output = value_info (&b, "y", 2, (const int64_t[]) { 1, 5 });
  init_float (&b, "g.weight", 4, (const int64_t[]) { 4, 1, 3, 3 }, false);
  Onnx__NodeProto *n = node (&b, "Conv", "/g/Conv", IN ("x", "g.weight"), IN ("g"));
  attr_int (&b, n, "group", 2);
  attr_ints (&b, n, "dilations", (const int64_t[]) { 2, 2 }, 2);
  attr_string (&b, n, "auto_pad", "SAME_UPPER");
  n = node (&b, "LeakyRelu", "/act/LeakyRelu", IN ("g"), IN ("l"));
  attr_float (&b, n, "alpha", 0.1f);
  init_float (&b, "slope", 3, (const int64_t[]) { 4, 1, 1 }, false);
  node (&b, "PRelu", "/prelu/PRelu", IN ("l", "slope"), IN ("pr"));
  init_float (&b, "lo", 0, NULL, false);
  init_float (&b, "hi", 0, NULL, true);
  node (&b, "Clip", "/Clip", IN ("pr", "lo", "hi"), IN ("clip"));
  node (&b, "Add", "/res/Add", IN ("clip", "l"), IN ("res"));
  init_float (&b, "scale", 4, (const int64_t[]) { 1, 4, 1, 1 }, false);
  node (&b, "Mul", "/Mul", IN ("res", "scale"), IN ("mul"));
  init_float (&b, "shift", 0, NULL, false);
  node (&b, "Sub", "/Sub", IN ("mul", "shift"), IN ("sub"));
  init_ints (&b, "pads", (const int64_t[]) { 0, 0, 1, 0, 0, 0, 0, 1 }, 8);
  n = node (&b, "Pad", "/Pad", IN ("sub", "pads"), IN ("pad"));
  attr_string (&b, n, "mode", "constant");
  n = node (&b, "AveragePool", "/AveragePool", IN ("pad"), IN ("avg"));
  attr_ints (&b, n, "kernel_shape", (const int64_t[]) { 3, 3 }, 2);
  attr_ints (&b, n, "pads", (const int64_t[]) { 1, 1, 1, 1 }, 4);
  attr_int (&b, n, "count_include_pad", 1);
  n = node (&b, "Concat", "/cat/Concat", IN ("avg", "pad"), IN ("cat"));
  attr_int (&b, n, "axis", 1);
  node (&b, "HardSwish", "/HardSwish", IN ("cat"), IN ("hs"));
  node (&b, "Sigmoid", "/Sigmoid", IN ("hs"), IN ("sig"));
  node (&b, "Dropout", "/Dropout", IN ("sig"), IN ("drop"));
  node (&b, "Identity", "/Identity", IN ("drop"), IN ("id"));
  node (&b, "GlobalAveragePool", "/gap/GlobalAveragePool", IN ("id"), IN ("gap"));
  n = node (&b, "Flatten", "/Flatten", IN ("gap"), IN ("flat"));
  attr_int (&b, n, "axis", 1);
  init_float (&b, "fc.weight", 2, (const int64_t[]) { 8, 5 }, true);
  node (&b, "MatMul", "/fc/MatMul", IN ("flat", "fc.weight"), IN ("mm"));
  init_float (&b, "fc.bias", 1, (const int64_t[]) { 5 }, false);
  node (&b, "Add", "/fc/Add", IN ("mm", "fc.bias"), IN ("y"));
  onnx_put (&b, "misc.onnx");
}

/* Opset 9: Clip and Softmax by attributes, a Constant node, Unsqueeze and Squeeze by
 * attribute, Tanh, HardSigmoid, MaxPool with ceil_mode, and a weight in external data (the
 * harness writes weights.bin beside the model). */
static void
onnx_opset9 (void)
{
  Onnx b;
  onnx_init (&b, 9);
  b.input = value_info (&b, "x", 4, (const int64_t[]) { -1, 1, 7, 7 });
  b.output = value_info (&b, "y", 2, (const int64_t[]) { -1, 2 });
  Onnx__TensorProto *w = tensor_new (&b, "conv.weight", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT,
                                     4, (const int64_t[]) { 2, 1, 3, 3 });
  w->has_data_location = true;
  w->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  static const char *const keys[] = { "location", "offset", "length" };
  static const char *const values[] = { "weights.bin", "64", "72" };
  w->n_external_data = 3;
  w->external_data = keep (&b, g_new0 (Onnx__StringStringEntryProto *, 3));
  for (int k = 0; k < 3; k++)
    {
      Onnx__StringStringEntryProto *e = keep (&b, g_new0 (Onnx__StringStringEntryProto, 1));
      onnx__string_string_entry_proto__init (e);
      e->key = (char *) keys[k];
      e->value = (char *) values[k];
      w->external_data[k] = e;
    }
  g_ptr_array_add (b.inits, w);
  Onnx__NodeProto *n = node (&b, "Conv", "conv", IN ("x", "conv.weight"), IN ("c"));
  attr_ints (&b, n, "strides", (const int64_t[]) { 2, 2 }, 2);
  n = node (&b, "Clip", "clip", IN ("c"), IN ("clip"));
  attr_float (&b, n, "min", 0.0f);
  attr_float (&b, n, "max", 6.0f);
  n = node (&b, "MaxPool", "pool", IN ("clip"), IN ("p"));
  attr_ints (&b, n, "kernel_shape", (const int64_t[]) { 2, 2 }, 2);
  attr_ints (&b, n, "strides", (const int64_t[]) { 2, 2 }, 2);
  attr_int (&b, n, "ceil_mode", 1);
  node (&b, "Tanh", "tanh", IN ("p"), IN ("t"));
  n = node (&b, "HardSigmoid", "hsig", IN ("t"), IN ("hsig"));
  attr_float (&b, n, "alpha", 0.2f);
  node (&b, "GlobalAveragePool", "gap", IN ("hsig"), IN ("gap"));
  n = node (&b, "Squeeze", "squeeze", IN ("gap"), IN ("sq"));
  attr_ints (&b, n, "axes", (const int64_t[]) { 2, 3 }, 2);
  n = node (&b, "Unsqueeze", "unsqueeze", IN ("sq"), IN ("unsq"));
  attr_ints (&b, n, "axes", (const int64_t[]) { 2 }, 1);
  n = node (&b, "Constant", "shape", IN (NULL), IN ("target"));
  Onnx__AttributeProto *a = attr (&b, n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  a->t = tensor_ints (&b, "target_value", (const int64_t[]) { 0, -1 }, 2);
  node (&b, "Reshape", "reshape", IN ("unsq", "target"), IN ("flat"));
  n = node (&b, "Softmax", "softmax", IN ("flat"), IN ("y"));
  attr_int (&b, n, "axis", 1);
  onnx_put (&b, "opset9-external.onnx");
}

/* A serialized TensorProto, as a conformance test's input_0.pb. */
static void
onnx_tensor (void)
{
  Onnx b;
  onnx_init (&b, 13);
  Onnx__TensorProto *t = init_float (&b, "input_0", 4, (const int64_t[]) { 1, 1, 2, 3 }, true);
  size_t size = onnx__tensor_proto__get_packed_size (t);
  guint8 *data = g_malloc (size);
  onnx__tensor_proto__pack (t, data);
  put ("onnx", "tensor.pb", data, size);
  g_free (data);
  g_ptr_array_unref (b.garbage);
  g_ptr_array_unref (b.nodes);
  g_ptr_array_unref (b.inits);
}

int
main (int    argc,
      char **argv)
{
  if (argc != 3)
    {
      fprintf (stderr, "usage: make-seeds OUT SOURCE_DIR\n");
      return 2;
    }
  out_root = argv[1];
  source_dir = argv[2];
  scratch = g_dir_make_tmp ("cnnscope-seeds-XXXXXX", NULL);
  if (scratch == NULL)
    die ("cannot make a scratch folder");

  image_seeds ();
  ct_seeds ();
  dicom_seeds ();
  reply_seeds ();
  npy_seeds ();
  nifti_seeds ();
  idx_seeds ();
  folder_seeds ();
  input_seeds ();
  model_seeds ();
  onnx_cnn ();
  onnx_misc ();
  onnx_opset9 ();
  onnx_tensor ();

  g_rmdir (scratch);
  g_free (scratch);
  printf ("make-seeds: %d seeds in %s\n", n_seeds, out_root);
  return 0;
}
