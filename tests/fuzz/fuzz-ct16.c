/* SPDX-License-Identifier: MIT */
/* Fuzzes reading a CT slice from a 16-bit gray PNG (HU + 1024) through nn_ct_load on a scratch
 * file, with its checks on bit depth and colour type and the HU conversion, and windows what
 * loads. DICOM content would start the decoder helper; fuzz-dicom-decode covers it. */
#include <string.h>

#include "fuzz-util.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  if (size >= 132 && memcmp (data + 128, "DICM", 4) == 0)
    return -1;
  char path[4200];
  fuzz_path (path, sizeof path, "slice.png");
  fuzz_write (path, data, size);

  NnError err = { 0 };
  NnImage *image = nn_ct_load (path, &err);
  if (image == NULL)
    {
      fuzz_check_error (&err, "nn_ct_load");
      return 0;
    }
  if (image->hu)
    {
      NnCtWindow lung = NN_CT_WINDOW_LUNG;
      nn_image_free (nn_ct_window_image (image, &lung));
    }
  nn_image_free (image);
  return 0;
}
