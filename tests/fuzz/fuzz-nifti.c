/* SPDX-License-Identifier: MIT */
/* Fuzzes the NIfTI reader (nn_volume_load_nifti: header versions and byte orders, dimensions,
 * voxel types, offsets, scaling, sform and qform, gzip) on a scratch file; a volume that loads
 * is reoriented to LPS and cut into its three middle planes. */
#include <stdlib.h>

#include "fuzz-util.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  char path[4200];
  fuzz_path (path, sizeof path, "volume.nii");
  fuzz_write (path, data, size);
  NnError err = { 0 };
  NnVolume *v = nn_volume_load_nifti (path, &err);
  if (v == NULL)
    {
      fuzz_check_error (&err, "nn_volume_load_nifti");
      return 0;
    }
  NnVolume *lps = nn_volume_reorient (v, "LPS", &err);
  if (lps == NULL)
    fuzz_check_error (&err, "nn_volume_reorient");
  else
    {
      const NnVolumePlane planes[3] = { NN_VOLUME_AXIAL, NN_VOLUME_CORONAL, NN_VOLUME_SAGITTAL };
      const int middle[3] = { lps->nz / 2, lps->ny / 2, lps->nx / 2 };
      for (int p = 0; p < 3; p++)
        {
          int w = 0, h = 0;
          nn_volume_plane_size (lps, planes[p], &w, &h, NULL, NULL);
          float *out = malloc (sizeof (float) * (size_t) w * (size_t) h);
          if (out != NULL)
            nn_volume_plane_get (lps, planes[p], middle[p], out);
          free (out);
        }
    }
  nn_volume_free (lps);
  nn_volume_free (v);
  return 0;
}
