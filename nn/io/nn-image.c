/* SPDX-License-Identifier: MIT */
/* Image files (PNG through libpng, JPEG through TurboJPEG) to float CHW planes and back, plus
 * resampling, centre-fitting and gray/RGB conversion. */
#include "io/nn-image.h"

#include <limits.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "io/nn-atomic-file.h"
#include "io/nn-file.h"

/* Image files larger than this are refused before reading them. */
#define NN_IMAGE_MAX_FILE_BYTES ((size_t) 1 << 30)

/* Room for libpng's error messages. */
#define PNG_MESSAGE_SIZE 256

static const unsigned char png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

NnImage *
nn_image_new (int c,
              int h,
              int w)
{
  NN_ASSERT (c >= 1 && h >= 1 && w >= 1);
  size_t count = (size_t) c * (size_t) h;
  if ((size_t) w > SIZE_MAX / sizeof (float) / count)
    return NULL;
  count *= (size_t) w;

  NnImage *image = calloc (1, sizeof *image);
  if (image == NULL)
    return NULL;
  image->data = calloc (count, sizeof *image->data);
  if (image->data == NULL)
    {
      free (image);
      return NULL;
    }
  image->c = c;
  image->h = h;
  image->w = w;
  image->bit_depth = 8;
  return image;
}

void
nn_image_free (NnImage *image)
{
  if (image == NULL)
    return;
  free (image->data);
  free (image);
}

NnImage *
nn_image_dup (const NnImage *image)
{
  NN_ASSERT (image != NULL);
  NnImage *copy = nn_image_new (image->c, image->h, image->w);
  if (copy == NULL)
    return NULL;
  copy->bit_depth = image->bit_depth;
  copy->hu = image->hu;
  memcpy (copy->data, image->data,
          (size_t) image->c * (size_t) image->h * (size_t) image->w * sizeof *image->data);
  return copy;
}

/* Checks a header's dimensions against the limits before anything is allocated. */
static bool
check_size (const char   *name,
            unsigned long w,
            unsigned long h,
            NnError      *err)
{
  if (w == 0 || h == 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: image has zero size (%lu x %lu)",
                         name, w, h);
  if (w > NN_IMAGE_MAX_SIDE || h > NN_IMAGE_MAX_SIDE
      || (unsigned long long) w * h > NN_IMAGE_MAX_PIXELS)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED,
                         "%s: image of %lu x %lu pixels exceeds the limit of %d pixels a side "
                         "and %u pixels in all", name, w, h, NN_IMAGE_MAX_SIDE,
                         NN_IMAGE_MAX_PIXELS);
  return true;
}

/* ---- PNG ---------------------------------------------------------------------------------- */

/* State shared with libpng's callbacks. It lives in the caller of the function that calls
 * setjmp, so its fields stay valid after a longjmp. */
typedef struct
{
  const unsigned char *bytes;
  size_t               size;
  size_t               pos;
  NnImage             *image;
  png_bytep            pixels;
  png_bytepp           rows;
  NnErrorCode          code;     /* of an error raised through libpng */
  char                 message[PNG_MESSAGE_SIZE];
} PngRead;

static void
png_error_cb (png_structp     png,
              png_const_charp message)
{
  char *dest = png_get_error_ptr (png);
  snprintf (dest, PNG_MESSAGE_SIZE, "%s", message);
  png_longjmp (png, 1);
}

static void
png_warning_cb (png_structp     png,
                png_const_charp message)
{
  (void) png;
  (void) message;
}

static void
png_read_cb (png_structp png,
             png_bytep   out,
             png_size_t  n)
{
  PngRead *rd = png_get_io_ptr (png);
  if (n > rd->size - rd->pos)
    png_error (png, "file is truncated");
  memcpy (out, rd->bytes + rd->pos, n);
  rd->pos += n;
}

static NnImage *
png_decode (PngRead    *rd,
            const char *name,
            NnError    *err)
{
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, rd->message, png_error_cb,
                                            png_warning_cb);
  if (png == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", name);
      return NULL;
    }
  png_infop info = png_create_info_struct (png);
  if (info == NULL)
    {
      png_destroy_read_struct (&png, NULL, NULL);
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", name);
      return NULL;
    }

  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_read_struct (&png, &info, NULL);
      nn_image_free (rd->image);
      free (rd->rows);
      free (rd->pixels);
      rd->image = NULL;
      nn_error_set (err, rd->code, "%s: %s", name, rd->message);
      return NULL;
    }

  /* Skip every ancillary chunk but tRNS, unread: libpng allocates what such a chunk's length
   * claims before it reads it (a 44-byte file declaring a 512 MiB sPLT took 600 MB), and none
   * of them changes the pixels we keep. */
  png_set_keep_unknown_chunks (png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
  png_set_read_fn (png, rd, png_read_cb);
  png_read_info (png, info);

  png_uint_32 w = 0, h = 0;
  int depth = 0, color = 0;
  png_get_IHDR (png, info, &w, &h, &depth, &color, NULL, NULL, NULL);
  if (!check_size (name, w, h, err))
    {
      png_destroy_read_struct (&png, &info, NULL);
      return NULL;
    }

  /* Everything becomes 8- or 16-bit gray or RGB. Alpha is dropped, including the alpha that
   * expanding a palette with transparency (tRNS) adds. */
  if (color == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb (png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8 (png);
  png_set_strip_alpha (png);
  png_set_interlace_handling (png);
  png_read_update_info (png, info);

  int channels = png_get_channels (png, info);
  int out_depth = png_get_bit_depth (png, info);
  if ((channels != 1 && channels != 3) || (out_depth != 8 && out_depth != 16))
    png_error (png, "unexpected pixel layout after conversion");

  size_t row_bytes = png_get_rowbytes (png, info);
  rd->image = nn_image_new (channels, (int) h, (int) w);
  rd->pixels = malloc (row_bytes * h);
  rd->rows = malloc (h * sizeof *rd->rows);
  if (rd->image == NULL || rd->pixels == NULL || rd->rows == NULL)
    {
      rd->code = NN_ERROR_NOMEM;
      png_error (png, "out of memory");
    }
  for (png_uint_32 y = 0; y < h; y++)
    rd->rows[y] = rd->pixels + y * row_bytes;
  png_read_image (png, rd->rows);

  NnImage *image = rd->image;
  image->bit_depth = out_depth;
  size_t plane = (size_t) h * w;
  if (out_depth == 8)
    {
      for (size_t i = 0; i < plane; i++)
        for (int k = 0; k < channels; k++)
          image->data[k * plane + i] = (float) rd->pixels[i * channels + k] / 255.0f;
    }
  else
    {
      for (size_t i = 0; i < plane; i++)
        for (int k = 0; k < channels; k++)
          {
            const png_byte *s = rd->pixels + 2 * (i * channels + k);
            image->data[k * plane + i] = (float) ((s[0] << 8) | s[1]) / 65535.0f;
          }
    }

  png_destroy_read_struct (&png, &info, NULL);
  free (rd->rows);
  free (rd->pixels);
  rd->image = NULL;
  return image;
}

/* ---- JPEG --------------------------------------------------------------------------------- */

static NnImage *
jpeg_decode (const unsigned char *bytes,
             size_t               size,
             const char          *name,
             NnError             *err)
{
  if (size > ULONG_MAX)
    {
      nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: file too large", name);
      return NULL;
    }
  tjhandle tj = tjInitDecompress ();
  if (tj == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: cannot start the JPEG decoder", name);
      return NULL;
    }

  NnImage *image = NULL;
  unsigned char *pixels = NULL;
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3 (tj, bytes, (unsigned long) size, &w, &h, &subsamp, &colorspace) != 0)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: %s", name, tjGetErrorStr2 (tj));
      goto out;
    }
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK)
    {
      nn_error_set (err, NN_ERROR_UNSUPPORTED,
                    "%s: CMYK JPEG images are not supported (convert it to RGB)", name);
      goto out;
    }
  if (w < 0 || h < 0 || !check_size (name, (unsigned long) w, (unsigned long) h, err))
    goto out;

  int channels = colorspace == TJCS_GRAY ? 1 : 3;
  image = nn_image_new (channels, h, w);
  pixels = malloc ((size_t) channels * (size_t) h * (size_t) w);
  if (image == NULL || pixels == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory for %d x %d pixels", name, w, h);
      nn_image_free (image);
      image = NULL;
      goto out;
    }

  /* A warning (such as a truncated file) stops decoding and counts as an error: the pixels
   * would be partly made up. */
  int flags = TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
  if (tjDecompress2 (tj, bytes, (unsigned long) size, pixels, w, 0, h,
                     channels == 1 ? TJPF_GRAY : TJPF_RGB, flags) != 0)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: %s", name, tjGetErrorStr2 (tj));
      nn_image_free (image);
      image = NULL;
      goto out;
    }

  size_t plane = (size_t) h * (size_t) w;
  for (size_t i = 0; i < plane; i++)
    for (int k = 0; k < channels; k++)
      image->data[k * plane + i] = (float) pixels[i * channels + k] / 255.0f;
  image->bit_depth = 8;

out:
  free (pixels);
  tjDestroy (tj);
  return image;
}

/* ---- Loading ------------------------------------------------------------------------------ */

NnImage *
nn_image_load_memory (const unsigned char *bytes,
                      size_t               size,
                      const char          *name,
                      NnError             *err)
{
  NN_ASSERT (bytes != NULL || size == 0);
  if (name == NULL)
    name = "(memory)";

  if (size == 0)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: empty file", name);
      return NULL;
    }
  if (size >= sizeof png_magic && memcmp (bytes, png_magic, sizeof png_magic) == 0)
    {
      PngRead rd = { .bytes = bytes, .size = size, .code = NN_ERROR_FORMAT };
      return png_decode (&rd, name, err);
    }
  if (size >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff)
    return jpeg_decode (bytes, size, name, err);

  nn_error_set (err, NN_ERROR_FORMAT, "%s: not a PNG or JPEG image", name);
  return NULL;
}

NnImage *
nn_image_load (const char *path,
               NnError    *err)
{
  NN_ASSERT (path != NULL);
  size_t size;
  unsigned char *bytes = nn_file_load (path, NN_IMAGE_MAX_FILE_BYTES, "an image", &size, err);
  if (bytes == NULL)
    return NULL;
  NnImage *image = nn_image_load_memory (bytes, size, path, err);
  free (bytes);
  return image;
}

/* ---- Saving ------------------------------------------------------------------------------- */

/* State of one save; lives in the caller of png_encode so it survives a longjmp. */
typedef struct
{
  FILE      *fp;
  png_bytep  row;
  char       message[PNG_MESSAGE_SIZE];
} PngWrite;

static bool
png_encode (PngWrite      *wr,
            const NnImage *image,
            int            bit_depth)
{
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, wr->message, png_error_cb,
                                             png_warning_cb);
  if (png == NULL)
    {
      snprintf (wr->message, sizeof wr->message, "out of memory");
      return false;
    }
  png_infop info = png_create_info_struct (png);
  if (info == NULL)
    {
      png_destroy_write_struct (&png, NULL);
      snprintf (wr->message, sizeof wr->message, "out of memory");
      return false;
    }
  if (setjmp (png_jmpbuf (png)))
    {
      png_destroy_write_struct (&png, &info);
      return false;
    }

  int c = image->c, h = image->h, w = image->w;
  int bytes_per_sample = bit_depth / 8;
  wr->row = malloc ((size_t) w * (size_t) c * (size_t) bytes_per_sample);
  if (wr->row == NULL)
    png_error (png, "out of memory");

  png_init_io (png, wr->fp);
  png_set_IHDR (png, info, (png_uint_32) w, (png_uint_32) h, bit_depth,
                c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);

  float maxval = bit_depth == 8 ? 255.0f : 65535.0f;
  size_t plane = (size_t) h * (size_t) w;
  for (int y = 0; y < h; y++)
    {
      for (int x = 0; x < w; x++)
        for (int k = 0; k < c; k++)
          {
            float v = image->data[k * plane + (size_t) y * w + x];
            /* NaN fails both comparisons and becomes 0. */
            v = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;
            unsigned int q = (unsigned int) (v * maxval + 0.5f);
            size_t i = (size_t) x * c + k;
            if (bit_depth == 8)
              wr->row[i] = (png_byte) q;
            else
              {
                wr->row[2 * i] = (png_byte) (q >> 8);
                wr->row[2 * i + 1] = (png_byte) (q & 0xff);
              }
          }
      png_write_row (png, wr->row);
    }
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  return true;
}

bool
nn_image_save_png (const NnImage *image,
                   const char    *path,
                   int            bit_depth,
                   NnError       *err)
{
  NN_ASSERT (image != NULL && path != NULL);
  NN_ASSERT (image->c == 1 || image->c == 3);
  NN_ASSERT (bit_depth == 8 || bit_depth == 16);

  NnAtomicFile file;
  if (!nn_atomic_file_open (&file, path, err))
    return false;
  PngWrite wr = { .fp = file.fp };
  bool ok = png_encode (&wr, image, bit_depth);
  free (wr.row);
  if (!ok && nn_atomic_file_error (&file) != 0)
    {
      char buf[128];
      nn_error_set (err, NN_ERROR_IO, "%s: cannot write: %s", path,
                    strerror_r (nn_atomic_file_error (&file), buf, sizeof buf));
    }
  else if (!ok)
    nn_error_set (err, NN_ERROR_IO, "%s: %s", path, wr.message);
  return nn_atomic_file_finish (&file, ok, err);
}

/* ---- Resampling --------------------------------------------------------------------------- */

/* Resampling weights along one axis: output index o reads `taps` consecutive input samples
 * starting at first[o], with weights weight[o * taps + t] summing to 1. */
typedef struct
{
  int    taps;
  int   *first;
  float *weight;
} Kernel1d;

static void
kernel_free (Kernel1d *k)
{
  free (k->first);
  free (k->weight);
  k->first = NULL;
  k->weight = NULL;
}

/* Enlarging or shrinking by at most 2x: bilinear with PyTorch's align_corners=False sampling,
 * src = (o + 0.5) * in / out - 0.5 clamped at 0. Shrinking more: each output sample averages
 * the input interval [o, o + 1) * in / out it covers, weighted by overlap (a box filter). */
static bool
kernel_init (Kernel1d *k,
             int       in,
             int       out)
{
  double scale = (double) in / (double) out;
  bool area = scale > 2.0;
  k->taps = area ? (int) scale + 2 : 2;
  k->first = malloc ((size_t) out * sizeof *k->first);
  k->weight = calloc ((size_t) out * (size_t) k->taps, sizeof *k->weight);
  if (k->first == NULL || k->weight == NULL)
    {
      kernel_free (k);
      return false;
    }

  for (int o = 0; o < out; o++)
    {
      float *wt = k->weight + (size_t) o * k->taps;
      if (!area)
        {
          double src = ((double) o + 0.5) * scale - 0.5;
          if (src < 0.0)
            src = 0.0;
          int i0 = (int) src;
          if (i0 > in - 1)
            i0 = in - 1;
          double lambda = src - i0;
          if (i0 == in - 1)
            {
              /* Both taps at the last sample; keep first + 1 inside the input. */
              k->first[o] = in >= 2 ? in - 2 : 0;
              wt[in >= 2 ? 1 : 0] = 1.0f;
            }
          else
            {
              k->first[o] = i0;
              wt[0] = (float) (1.0 - lambda);
              wt[1] = (float) lambda;
            }
        }
      else
        {
          double lo = o * scale, hi = (o + 1) * scale;
          int i0 = (int) lo;
          k->first[o] = i0;
          double total = 0.0;
          for (int t = 0; t < k->taps && i0 + t < in; t++)
            {
              double a = i0 + t > lo ? i0 + t : lo;
              double b = i0 + t + 1 < hi ? i0 + t + 1 : hi;
              double overlap = b > a ? b - a : 0.0;
              wt[t] = (float) overlap;
              total += overlap;
            }
          for (int t = 0; t < k->taps; t++)
            wt[t] = (float) ((double) wt[t] / total);
        }
    }
  return true;
}

/* The weights of the last taps may reach past the input end only with weight 0; n is how many
 * taps stay inside. */
static inline int
kernel_valid_taps (const Kernel1d *k,
                   int             o,
                   int             in)
{
  int n = in - k->first[o];
  return n < k->taps ? n : k->taps;
}

/* out (C, oh, ow) = resample (the window (C, ch, cw) at (y0, x0) of image): a horizontal pass
 * into a (C, ch, ow) buffer, then a vertical pass. */
static NnImage *
resize_region (const NnImage *image,
               int            y0,
               int            x0,
               int            ch,
               int            cw,
               int            oh,
               int            ow)
{
  NnImage *out = nn_image_new (image->c, oh, ow);
  float *tmp = malloc ((size_t) image->c * (size_t) ch * (size_t) ow * sizeof *tmp);
  Kernel1d kx = { 0 }, ky = { 0 };
  bool ok = out != NULL && tmp != NULL && kernel_init (&kx, cw, ow);
  ok = ok && kernel_init (&ky, ch, oh);
  if (!ok)
    {
      nn_image_free (out);
      free (tmp);
      kernel_free (&kx);
      kernel_free (&ky);
      return NULL;
    }
  out->bit_depth = image->bit_depth;
  out->hu = image->hu;

  int c = image->c;
  size_t in_plane = (size_t) image->h * image->w;
  for (int k = 0; k < c; k++)
    for (int y = 0; y < ch; y++)
      {
        const float *src = image->data + k * in_plane + (size_t) (y0 + y) * image->w + x0;
        float *dst = tmp + ((size_t) k * ch + y) * ow;
        for (int o = 0; o < ow; o++)
          {
            const float *wt = kx.weight + (size_t) o * kx.taps;
            const float *s = src + kx.first[o];
            int n = kernel_valid_taps (&kx, o, cw);
            float acc = 0.0f;
            for (int t = 0; t < n; t++)
              acc += wt[t] * s[t];
            dst[o] = acc;
          }
      }

  size_t out_plane = (size_t) oh * ow;
  for (int k = 0; k < c; k++)
    for (int o = 0; o < oh; o++)
      {
        const float *wt = ky.weight + (size_t) o * ky.taps;
        int n = kernel_valid_taps (&ky, o, ch);
        float *dst = out->data + k * out_plane + (size_t) o * ow;
        for (int x = 0; x < ow; x++)
          dst[x] = 0.0f;
        for (int t = 0; t < n; t++)
          {
            const float *s = tmp + ((size_t) k * ch + ky.first[o] + t) * ow;
            for (int x = 0; x < ow; x++)
              dst[x] += wt[t] * s[x];
          }
      }

  free (tmp);
  kernel_free (&kx);
  kernel_free (&ky);
  return out;
}

NnImage *
nn_image_resize (const NnImage *image,
                 int            h,
                 int            w)
{
  NN_ASSERT (image != NULL && h >= 1 && w >= 1);
  if (h == image->h && w == image->w)
    return nn_image_dup (image);
  return resize_region (image, 0, 0, image->h, image->w, h, w);
}

/* The central crop (y0, x0, ch, cw) of an image_h x image_w image with the aspect ratio h:w. */
static void
fit_region (int  image_h,
            int  image_w,
            int  h,
            int  w,
            int *y0,
            int *x0,
            int *ch,
            int *cw)
{
  *ch = image_h;
  *cw = image_w;
  /* Compare aspect ratios W/H and w/h without division. */
  long long lhs = (long long) image_w * h, rhs = (long long) image_h * w;
  if (lhs > rhs)
    {
      *cw = (int) (((long long) image_h * w * 2 + h) / (2LL * h));
      *cw = *cw < 1 ? 1 : *cw;
    }
  else if (lhs < rhs)
    {
      *ch = (int) (((long long) image_w * h * 2 + w) / (2LL * w));
      *ch = *ch < 1 ? 1 : *ch;
    }
  *y0 = (image_h - *ch) / 2;
  *x0 = (image_w - *cw) / 2;
}

NnImage *
nn_image_fit (const NnImage *image,
              int            h,
              int            w)
{
  NN_ASSERT (image != NULL && h >= 1 && w >= 1);
  int y0, x0, ch, cw;
  fit_region (image->h, image->w, h, w, &y0, &x0, &ch, &cw);
  if (ch == h && cw == w && ch == image->h && cw == image->w)
    return nn_image_dup (image);
  return resize_region (image, y0, x0, ch, cw, h, w);
}

NnImage *
nn_image_unfit (const NnImage *fitted,
                int            h,
                int            w)
{
  NN_ASSERT (fitted != NULL && h >= 1 && w >= 1);
  int y0, x0, ch, cw;
  fit_region (h, w, fitted->h, fitted->w, &y0, &x0, &ch, &cw);
  NnImage *region = ch == fitted->h && cw == fitted->w ? nn_image_dup (fitted)
                    : nn_image_resize (fitted, ch, cw);
  NnImage *out = region != NULL ? nn_image_new (fitted->c, h, w) : NULL;
  if (out == NULL)
    {
      nn_image_free (region);
      return NULL;
    }
  for (int c = 0; c < fitted->c; c++)
    for (int y = 0; y < ch; y++)
      memcpy (out->data + ((size_t) c * h + (size_t) (y0 + y)) * w + x0,
              region->data + ((size_t) c * ch + (size_t) y) * cw, sizeof (float) * (size_t) cw);
  out->hu = fitted->hu;
  nn_image_free (region);
  return out;
}

NnImage *
nn_image_convert (const NnImage *image,
                  int            c)
{
  NN_ASSERT (image != NULL && (c == 1 || c == 3));
  NN_ASSERT (image->c == 1 || image->c == 3);
  if (c == image->c)
    return nn_image_dup (image);

  NnImage *out = nn_image_new (c, image->h, image->w);
  if (out == NULL)
    return NULL;
  out->bit_depth = image->bit_depth;
  out->hu = image->hu;
  size_t plane = (size_t) image->h * image->w;
  if (c == 3)
    {
      for (int k = 0; k < 3; k++)
        memcpy (out->data + k * plane, image->data, plane * sizeof *image->data);
    }
  else
    {
      const float *r = image->data, *g = r + plane, *b = g + plane;
      for (size_t i = 0; i < plane; i++)
        out->data[i] = 0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i];
    }
  return out;
}
