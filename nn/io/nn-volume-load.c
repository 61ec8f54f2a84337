/* SPDX-License-Identifier: MIT */
/* nn_volume_load: a folder is read as a DICOM series (nn-volume-dicom.c), a file as NIfTI
 * (nn-volume-nifti.c). */
#include "io/nn-volume.h"

#include <sys/stat.h>

NnVolume *
nn_volume_load (const char *path,
                NnError    *err)
{
  NN_ASSERT (path != NULL);
  struct stat st;
  if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
    return nn_volume_load_dicom (path, NULL, err);
  return nn_volume_load_nifti (path, err);
}
