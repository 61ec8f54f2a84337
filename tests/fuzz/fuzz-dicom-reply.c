/* SPDX-License-Identifier: MIT */
/* Fuzzes the reader's side of the DICOM isolation: the replies of the cnnscope-dicom helper
 * (io/nn-dicom-frame.h), split with nn_dicom_reply_length and read with nn_dicom_reply_parse
 * exactly as nn-dicom-read.c consumes them, up to one batch of replies. A helper that GDCM
 * turned hostile writes whatever it likes on this pipe. */
#include <math.h>
#include <stdlib.h>

#include "fuzz-util.h"
#include "io/nn-dicom-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  size_t pos = 0;
  for (int done = 0; done < NN_DICOM_MAX_BATCH; done++)
    {
      size_t have = size - pos;
      size_t len = nn_dicom_reply_length (data + pos, have);
      /* The reader waits for more; at the end of the pipe what is left is a cut reply. */
      if (len == 0 || len > have)
        len = have;
      NnDicomSlice slice;
      NnError err = { 0 };
      if (!nn_dicom_reply_parse (data + pos, len, "fuzz.dcm", &slice, &err))
        {
          fuzz_check_error (&err, "nn_dicom_reply_parse");
          break;
        }
      NnImage *image = slice.image;
      if (image == NULL || image->c != 1 || !image->hu || (!isnan (slice.position)
                                                           && !isfinite (slice.position)))
        abort ();
      nn_image_free (image);
      pos += len;
      if (pos == size)
        break;
    }
  return 0;
}
