/* SPDX-License-Identifier: MIT */
/* Writing a DICOM CT slice through GDCM (nn-dicom.h). The data written is our own, so this runs
 * in the process; reading goes through the cnnscope-dicom helper (nn-dicom-read.c). Every GDCM
 * call runs inside try/catch, so errors come back only through NnError. */
extern "C" {
#include "io/nn-atomic-file.h"
#include "io/nn-dicom.h"
}

#include <cerrno>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <gdcmDataSet.h>
#include <gdcmFile.h>
#include <gdcmImage.h>
#include <gdcmImageWriter.h>
#include <gdcmMediaStorage.h>
#include <gdcmPixelFormat.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>

namespace {

void
quiet_gdcm ()
{
  gdcm::Trace::SetDebug (false);
  gdcm::Trace::SetWarning (false);
  gdcm::Trace::SetError (false);
}

/* Adds or replaces a string element of the data set. */
void
set_text (gdcm::DataSet     &ds,
          uint16_t           group,
          uint16_t           element,
          const std::string &value)
{
  gdcm::DataElement de (gdcm::Tag (group, element));
  std::string v = value;
  if (v.size () % 2 != 0)
    v += ' ';
  de.SetByteValue (v.data (), (uint32_t) v.size ());
  ds.Replace (de);
}

bool
save_slice (const NnImage *image,
            double         pixel_mm,
            const char    *description,
            const char    *path,
            NnError       *err)
{
  quiet_gdcm ();
  int rows = image->h, cols = image->w;
  std::vector<unsigned char> pixels ((size_t) rows * (size_t) cols * 2);
  for (size_t i = 0; i < (size_t) rows * (size_t) cols; i++)
    {
      float v = image->data[i] + 1024.0f;
      v = v > 0.0f ? (v < 65535.0f ? v : 65535.0f) : 0.0f;
      unsigned int q = (unsigned int) lrintf (v);
      pixels[2 * i] = (unsigned char) (q & 0xff);
      pixels[2 * i + 1] = (unsigned char) (q >> 8);
    }

  gdcm::ImageWriter writer;
  gdcm::Image &img = writer.GetImage ();
  img.SetNumberOfDimensions (2);
  img.SetDimension (0, (unsigned int) cols);
  img.SetDimension (1, (unsigned int) rows);
  img.SetPixelFormat (gdcm::PixelFormat::UINT16);
  img.SetPhotometricInterpretation (gdcm::PhotometricInterpretation::MONOCHROME2);
  img.SetTransferSyntax (gdcm::TransferSyntax::ExplicitVRLittleEndian);
  img.SetSpacing (0, pixel_mm);
  img.SetSpacing (1, pixel_mm);
  img.SetSlope (1.0);
  img.SetIntercept (-1024.0);
  gdcm::DataElement pd (gdcm::Tag (0x7fe0, 0x0010));
  pd.SetByteValue (reinterpret_cast<const char *> (pixels.data ()), (uint32_t) pixels.size ());
  img.SetDataElement (pd);

  gdcm::File &file = writer.GetFile ();
  gdcm::DataSet &ds = file.GetDataSet ();
  gdcm::MediaStorage ms (gdcm::MediaStorage::CTImageStorage);
  set_text (ds, 0x0008, 0x0016, ms.GetString ());
  set_text (ds, 0x0008, 0x0060, "CT");
  set_text (ds, 0x0010, 0x0010, "Synthetic^Phantom");
  set_text (ds, 0x0010, 0x0020, "SYNTH");
  set_text (ds, 0x0028, 0x1054, "HU");
  if (description != NULL)
    set_text (ds, 0x0008, 0x103e, std::string (description).substr (0, 64));

  std::ostringstream out;
  writer.SetStream (out);
  if (!writer.Write ())
    return nn_error_set (err, NN_ERROR_IO, "%s: GDCM cannot encode the slice", path);
  std::string bytes = out.str ();

  NnAtomicFile af;
  if (!nn_atomic_file_open (&af, path, err))
    return false;
  bool written = fwrite (bytes.data (), 1, bytes.size (), af.fp) == bytes.size ();
  if (!written)
    nn_error_set (err, NN_ERROR_IO, "%s: cannot write: %s", path, strerror (errno));
  return nn_atomic_file_finish (&af, written, err);
}

}  // namespace

extern "C" bool
nn_dicom_save (const NnImage *image,
               double         pixel_mm,
               const char    *description,
               const char    *path,
               NnError       *err)
{
  NN_ASSERT (image != NULL && image->c == 1 && path != NULL && pixel_mm > 0.0);
  try
    {
      return save_slice (image, pixel_mm, description, path, err);
    }
  catch (const std::bad_alloc &)
    {
      return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
    }
  catch (...)
    {
      return nn_error_set (err, NN_ERROR_IO, "%s: GDCM failed to write the slice", path);
    }
}
