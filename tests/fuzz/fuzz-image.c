/* SPDX-License-Identifier: MIT */
/* Fuzzes the image decoder nn_image_load_memory, built twice: fuzz-png (libpng: bit depths,
 * palettes, alpha, interlacing) and fuzz-jpeg (libjpeg-turbo), each keeping to inputs with its
 * format's magic; an image that decodes is converted and fitted as datasets and models do. */
#include <string.h>

#include "fuzz-util.h"

/* Images of at most this many pixels are also converted and fitted. */
#define RESAMPLE_MAX_PIXELS (1 << 20)

#if defined(FUZZ_PNG)
static const unsigned char magic[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
#elif defined(FUZZ_JPEG)
static const unsigned char magic[] = { 0xff, 0xd8, 0xff };
#else
#error "build with FUZZ_PNG or FUZZ_JPEG"
#endif

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  if (size < sizeof magic || memcmp (data, magic, sizeof magic) != 0)
    return -1;
  NnError err = { 0 };
  NnImage *image = nn_image_load_memory (data, size, "fuzz", &err);
  if (image == NULL)
    {
      fuzz_check_error (&err, "nn_image_load_memory");
      return 0;
    }
  if ((size_t) image->h * (size_t) image->w <= RESAMPLE_MAX_PIXELS)
    {
      NnImage *other = nn_image_convert (image, image->c == 1 ? 3 : 1);
      NnImage *fitted = nn_image_fit (image, 28, 28);
      NnImage *resized = nn_image_resize (image, 3, 5);
      nn_image_free (resized);
      nn_image_free (fitted);
      nn_image_free (other);
    }
  nn_image_free (image);
  return 0;
}
