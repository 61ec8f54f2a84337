/* SPDX-License-Identifier: MIT */
/* The GDCM side of nn-dicom.h: the only C++ in nn/. Every GDCM call runs inside try/catch and
 * GDCM's own messages are switched off, so errors come back only through NnError. */
extern "C" {
#include "io/nn-atomic-file.h"
#include "io/nn-dicom.h"
#include "io/nn-file.h"
}

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <gdcmDataSet.h>
#include <gdcmFile.h>
#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmImageWriter.h>
#include <gdcmMediaStorage.h>
#include <gdcmPixelFormat.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfFragments.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>
#include <gdcmUIDGenerator.h>

/* Files larger than this are refused before reading them. */
#define DICOM_MAX_FILE_BYTES ((long long) 1 << 30)

namespace {

void
quiet_gdcm ()
{
  gdcm::Trace::SetDebug (false);
  gdcm::Trace::SetWarning (false);
  gdcm::Trace::SetError (false);
}

/* The text of a string element with trailing spaces and NULs removed; "" when absent. */
std::string
element_text (const gdcm::DataSet &ds,
              uint16_t             group,
              uint16_t             element)
{
  const gdcm::Tag tag (group, element);
  if (!ds.FindDataElement (tag))
    return "";
  const gdcm::DataElement &de = ds.GetDataElement (tag);
  const gdcm::ByteValue *bv = de.GetByteValue ();
  if (bv == NULL)
    return "";
  std::string s (bv->GetPointer (), bv->GetLength ());
  while (!s.empty () && (s.back () == ' ' || s.back () == '\0'))
    s.pop_back ();
  return s;
}

/* An unsigned short (US) element; GDCM keeps binary values little-endian in memory, also
 * for big-endian files. -1 when absent. */
long
element_us (const gdcm::DataSet &ds,
            uint16_t             group,
            uint16_t             element)
{
  const gdcm::Tag tag (group, element);
  if (!ds.FindDataElement (tag))
    return -1;
  const gdcm::ByteValue *bv = ds.GetDataElement (tag).GetByteValue ();
  if (bv == NULL || bv->GetLength () < 2)
    return -1;
  const unsigned char *p = reinterpret_cast<const unsigned char *> (bv->GetPointer ());
  return (long) (p[0] | (p[1] << 8));
}

/* A decimal (DS) or integer (IS) string element as a number; fallback when absent, NaN when
 * present but not a number. Multi-valued elements give their first value. */
double
element_number (const gdcm::DataSet &ds,
                uint16_t             group,
                uint16_t             element,
                double               fallback)
{
  std::string s = element_text (ds, group, element);
  if (s.empty ())
    return fallback;
  const char *text = s.c_str ();
  while (*text == ' ')
    text++;
  char *end = NULL;
  double v = strtod (text, &end);
  if (end == text || (*end != '\0' && *end != ' ' && *end != '\\'))
    return NAN;
  return v;
}

/* The i-th value of a multi-valued DS element; NaN when missing. */
double
element_number_at (const gdcm::DataSet &ds,
                   uint16_t             group,
                   uint16_t             element,
                   int                  index)
{
  std::string s = element_text (ds, group, element);
  size_t pos = 0;
  for (int i = 0; i < index; i++)
    {
      pos = s.find ('\\', pos);
      if (pos == std::string::npos)
        return NAN;
      pos++;
    }
  const char *text = s.c_str () + pos;
  char *end = NULL;
  double v = strtod (text, &end);
  return end == text ? NAN : v;
}

/* ---- Structure check --------------------------------------------------------------------
 * GDCM's parser asserts (aborts) on many truncated or malformed files, so every file is first
 * walked here: each element, sequence item and pixel data fragment must fit in the bytes that
 * are there. Only then does GDCM see it. */

#define UNDEFINED_LENGTH 0xffffffffu
#define MAX_DEPTH 16

struct Walk
{
  const unsigned char *bytes;
  size_t               size;
  bool                 explicit_vr;
  bool                 big_endian;
  size_t               bad_at;      /* where the structure broke */
  bool                 has_pixels;  /* Pixel Data (7fe0,0010) in the top-level data set */
};

uint32_t
walk_u16 (const Walk &w,
          size_t      pos,
          bool        big)
{
  const unsigned char *p = w.bytes + pos;
  return big ? (uint32_t) (p[0] << 8 | p[1]) : (uint32_t) (p[0] | p[1] << 8);
}

uint32_t
walk_u32 (const Walk &w,
          size_t      pos,
          bool        big)
{
  const unsigned char *p = w.bytes + pos;
  return big ? (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3]
             : (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
               | (uint32_t) p[3] << 24;
}

bool walk_elements (Walk &w, size_t &pos, size_t end, bool in_item, int depth, bool meta);

/* Items of a sequence (or fragments of encapsulated pixel data: items without elements)
 * from pos up to end or the sequence delimiter. */
bool
walk_items (Walk   &w,
            size_t &pos,
            size_t  end,
            bool    undefined,
            bool    fragments,
            int     depth)
{
  while (pos < end)
    {
      if (end - pos < 8)
        return false;
      uint32_t group = walk_u16 (w, pos, w.big_endian);
      uint32_t element = walk_u16 (w, pos + 2, w.big_endian);
      uint32_t len = walk_u32 (w, pos + 4, w.big_endian);
      if (group != 0xfffe)
        return false;
      pos += 8;
      if (element == 0xe0dd)
        return undefined;
      if (element != 0xe000)
        return false;
      if (len == UNDEFINED_LENGTH)
        {
          if (fragments || !walk_elements (w, pos, end, true, depth + 1, false))
            return false;
          continue;
        }
      if (len > end - pos)
        return false;
      size_t item_end = pos + len;
      if (!fragments && !walk_elements (w, pos, item_end, false, depth + 1, false))
        return false;
      pos = item_end;
    }
  /* A sequence of undefined length must end with its delimiter. */
  return !undefined;
}

/* The elements from pos up to end; in an item of undefined length, up to its delimiter.
 * meta: the file meta group, always explicit VR little endian, ends at the first other group. */
bool
walk_elements (Walk   &w,
               size_t &pos,
               size_t  end,
               bool    in_item,
               int     depth,
               bool    meta)
{
  if (depth > MAX_DEPTH)
    return false;
  bool explicit_vr = meta || w.explicit_vr;
  bool big = !meta && w.big_endian;
  while (pos < end)
    {
      if (end - pos < 8)
        {
          w.bad_at = pos;
          return false;
        }
      uint32_t group = walk_u16 (w, pos, big);
      uint32_t element = walk_u16 (w, pos + 2, big);
      if (meta && group != 0x0002)
        return true;
      if (group == 0xfffe && element == 0xe00d)
        {
          pos += 8;
          return in_item;
        }
      uint32_t len;
      bool sequence = false;
      size_t head;
      if (explicit_vr && group != 0xfffe)
        {
          char vr[3] = { (char) w.bytes[pos + 4], (char) w.bytes[pos + 5], 0 };
          static const char *const long_vrs[] = {
            "OB", "OW", "OF", "OD", "OL", "OV", "SQ", "UT", "UN", "UC", "UR", "SV", "UV",
          };
          bool long_form = false;
          for (const char *lv : long_vrs)
            long_form = long_form || strcmp (vr, lv) == 0;
          sequence = strcmp (vr, "SQ") == 0;
          if (long_form)
            {
              if (end - pos < 12)
                {
                  w.bad_at = pos;
                  return false;
                }
              len = walk_u32 (w, pos + 8, big);
              head = 12;
            }
          else
            {
              len = walk_u16 (w, pos + 6, big);
              head = 8;
            }
        }
      else
        {
          len = walk_u32 (w, pos + 4, big);
          head = 8;
        }
      size_t start = pos;
      pos += head;
      bool pixel_data = group == 0x7fe0 && element == 0x0010 && depth == 0 && !meta;
      w.has_pixels = w.has_pixels || pixel_data;
      if (len == UNDEFINED_LENGTH)
        {
          if (!walk_items (w, pos, end, true, pixel_data, depth))
            {
              w.bad_at = w.bad_at != 0 ? w.bad_at : start;
              return false;
            }
          continue;
        }
      if (len > end - pos)
        {
          w.bad_at = start;
          return false;
        }
      if (sequence)
        {
          size_t seq_end = pos + len;
          if (!walk_items (w, pos, seq_end, false, false, depth))
            {
              w.bad_at = w.bad_at != 0 ? w.bad_at : start;
              return false;
            }
          pos = seq_end;
          continue;
        }
      pos += len;
    }
  return !in_item;
}

/* Checks the structure of a whole file in memory; ts_uid gets the transfer syntax of the file
 * meta ("" without one). */
bool
check_structure (const char          *path,
                 const unsigned char *bytes,
                 size_t               size,
                 std::string         &ts_uid,
                 NnError             *err)
{
  if (size < 132 || memcmp (bytes + 128, "DICM", 4) != 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: not a DICOM file (no \"DICM\" after the "
                         "128-byte preamble)", path);
  Walk w = { bytes, size, true, false, 0, false };
  size_t pos = 132;
  if (!walk_elements (w, pos, size, false, 0, true))
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: file meta information is truncated or "
                         "broken at byte %zu", path, w.bad_at);
  /* The transfer syntax UID (0002,0010), looked up in the meta group just walked. */
  ts_uid.clear ();
  for (size_t p = 132; p + 8 <= pos;)
    {
      uint32_t group = walk_u16 (w, p, false), element = walk_u16 (w, p + 2, false);
      char vr[3] = { (char) bytes[p + 4], (char) bytes[p + 5], 0 };
      bool long_form = strcmp (vr, "OB") == 0 || strcmp (vr, "UN") == 0
                       || strcmp (vr, "UT") == 0 || strcmp (vr, "SQ") == 0;
      size_t head = long_form ? 12 : 8;
      uint32_t len = long_form ? walk_u32 (w, p + 8, false) : walk_u16 (w, p + 6, false);
      if (len == UNDEFINED_LENGTH || p + head + len > pos)
        break;
      if (group == 0x0002 && element == 0x0010)
        {
          ts_uid.assign (reinterpret_cast<const char *> (bytes + p + head), len);
          while (!ts_uid.empty () && (ts_uid.back () == '\0' || ts_uid.back () == ' '))
            ts_uid.pop_back ();
        }
      p += head + len;
    }
  if (ts_uid == "1.2.840.10008.1.2")
    w.explicit_vr = false;
  else if (ts_uid == "1.2.840.10008.1.2.2")
    w.big_endian = true;
  else if (ts_uid == "1.2.840.10008.1.2.1.99")
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: deflated transfer syntax "
                         "(1.2.840.10008.1.2.1.99) is not supported", path);
  else if (!ts_uid.empty ()
           && gdcm::TransferSyntax::GetTSType (ts_uid.c_str ()) == gdcm::TransferSyntax::TS_END)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: unsupported transfer syntax '%s'",
                         path, ts_uid.c_str ());
  w.bad_at = 0;
  if (!walk_elements (w, pos, size, false, 0, false))
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: truncated or broken at byte %zu of %zu",
                         path, w.bad_at, size);
  if (!w.has_pixels)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: DICOM file without pixel data (not an "
                         "image, or truncated before it)", path);
  return true;
}

unsigned int
be16 (const unsigned char *p)
{
  return (unsigned int) (p[0] << 8 | p[1]);
}

unsigned long
be32 (const unsigned char *p)
{
  return (unsigned long) p[0] << 24 | (unsigned long) p[1] << 16 | (unsigned long) p[2] << 8
         | p[3];
}

/* JPEG (baseline to lossless) and JPEG-LS: the frame header (SOFn, or SOF55) must give one
 * component of rows x cols samples of a sane precision. */
bool
check_jpeg (const unsigned char *p,
            size_t               n,
            long                 rows,
            long                 cols,
            const char          *path,
            NnError             *err)
{
  if (n < 4 || p[0] != 0xff || p[1] != 0xd8)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: compressed pixel data is not a JPEG "
                         "stream", path);
  size_t i = 2;
  while (i + 4 <= n)
    {
      if (p[i] != 0xff)
        break;
      unsigned int marker = p[i + 1];
      if (marker == 0xff)
        {
          i++;
          continue;
        }
      size_t len = be16 (p + i + 2);
      bool sof = (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8
                  && marker != 0xcc) || marker == 0xf7;
      if (sof)
        {
          if (i + 10 > n || len < 8)
            break;
          unsigned int precision = p[i + 4];
          long h = (long) be16 (p + i + 5), w = (long) be16 (p + i + 7);
          unsigned int components = p[i + 9];
          if (precision < 2 || precision > 16 || h != rows || w != cols || components != 1)
            return nn_error_set (err, NN_ERROR_FORMAT,
                                 "%s: JPEG frame of %ld x %ld, %u components of %u bits does "
                                 "not match the header's %ld x %ld gray slice", path, h, w,
                                 components, precision, rows, cols);
          return true;
        }
      if (len < 2)
        break;
      i += 2 + len;
    }
  return nn_error_set (err, NN_ERROR_FORMAT, "%s: JPEG pixel data without a valid frame "
                       "header", path);
}

/* JPEG 2000 codestream (possibly inside a JP2 box): SOC, SIZ with rows x cols, one
 * component. */
bool
check_j2k (const unsigned char *p,
           size_t               n,
           long                 rows,
           long                 cols,
           const char          *path,
           NnError             *err)
{
  size_t i = 0;
  while (i + 1 < n && i < 4096 && !(p[i] == 0xff && p[i + 1] == 0x4f))
    i++;
  if (i + 42 > n || p[i + 2] != 0xff || p[i + 3] != 0x51)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: JPEG 2000 pixel data without a valid "
                         "SIZ header", path);
  const unsigned char *siz = p + i + 4;
  unsigned long xs = be32 (siz + 4), ys = be32 (siz + 8);
  unsigned long xo = be32 (siz + 12), yo = be32 (siz + 16);
  unsigned int components = be16 (siz + 36);
  long w = xs >= xo ? (long) (xs - xo) : -1, h = ys >= yo ? (long) (ys - yo) : -1;
  if (w != cols || h != rows || components != 1)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: JPEG 2000 image of %ld x %ld with %u "
                         "components does not match the header's %ld x %ld gray slice", path,
                         h, w, components, rows, cols);
  return true;
}

/* RLE Lossless: a 64-byte header with one segment per byte of a sample and increasing
 * offsets inside the fragment. */
bool
check_rle (const unsigned char *p,
           size_t               n,
           long                 bits,
           const char          *path,
           NnError             *err)
{
  if (n < 64)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: RLE pixel data shorter than its header",
                         path);
  unsigned long segments = (unsigned long) p[0] | (unsigned long) p[1] << 8
                           | (unsigned long) p[2] << 16 | (unsigned long) p[3] << 24;
  if ((long) segments != bits / 8)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: RLE pixel data with %lu segments for "
                         "%ld-bit samples", path, segments, bits);
  unsigned long last = 63;
  for (unsigned long s = 0; s < segments; s++)
    {
      const unsigned char *q = p + 4 + 4 * s;
      unsigned long off = (unsigned long) q[0] | (unsigned long) q[1] << 8
                          | (unsigned long) q[2] << 16 | (unsigned long) q[3] << 24;
      if (off <= last || off >= n)
        return nn_error_set (err, NN_ERROR_FORMAT, "%s: RLE segment %lu starts outside the "
                             "pixel data", path, s);
      last = off;
    }
  return true;
}

/* Compressed pixel data goes to GDCM's codecs only after its own header is checked against
 * the DICOM header: those codecs assert (abort) on some malformed streams. Transfer syntaxes
 * other than JPEG, JPEG-LS, JPEG 2000 and RLE are refused. */
bool
check_fragments (const char                 *path,
                 const gdcm::DataElement    &pd,
                 const gdcm::TransferSyntax &ts,
                 const std::string          &ts_uid,
                 long                        rows,
                 long                        cols,
                 long                        bits,
                 NnError                    *err)
{
  const gdcm::SequenceOfFragments *sf = pd.GetSequenceOfFragments ();
  if (sf == NULL || sf->GetNumberOfFragments () == 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: compressed transfer syntax %s but the "
                         "pixel data is not encapsulated", path, ts_uid.c_str ());
  /* One frame in several fragments: the header is in the first one. */
  const gdcm::ByteValue *bv = sf->GetFragment (0).GetByteValue ();
  if (bv == NULL)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: empty pixel data fragment", path);
  const unsigned char *p = reinterpret_cast<const unsigned char *> (bv->GetPointer ());
  size_t n = bv->GetLength ();
  switch ((gdcm::TransferSyntax::TSType) ts)
    {
    case gdcm::TransferSyntax::JPEGBaselineProcess1:
    case gdcm::TransferSyntax::JPEGExtendedProcess2_4:
    case gdcm::TransferSyntax::JPEGExtendedProcess3_5:
    case gdcm::TransferSyntax::JPEGSpectralSelectionProcess6_8:
    case gdcm::TransferSyntax::JPEGFullProgressionProcess10_12:
    case gdcm::TransferSyntax::JPEGLosslessProcess14:
    case gdcm::TransferSyntax::JPEGLosslessProcess14_1:
    case gdcm::TransferSyntax::JPEGLSLossless:
    case gdcm::TransferSyntax::JPEGLSNearLossless:
      return check_jpeg (p, n, rows, cols, path, err);
    case gdcm::TransferSyntax::JPEG2000Lossless:
    case gdcm::TransferSyntax::JPEG2000:
    case gdcm::TransferSyntax::JPEG2000Part2Lossless:
    case gdcm::TransferSyntax::JPEG2000Part2:
      return check_j2k (p, n, rows, cols, path, err);
    case gdcm::TransferSyntax::RLELossless:
      return check_rle (p, n, bits, path, err);
    default:
      return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: unsupported compressed transfer "
                           "syntax %s", path, ts_uid.c_str ());
    }
}

/* Reads the header and checks everything that must hold before the pixels are decoded. */
bool
check_slice (const char         *path,
             const gdcm::Reader &reader,
             int                *rows,
             int                *cols,
             NnError            *err)
{
  const gdcm::File &file = reader.GetFile ();
  const gdcm::DataSet &ds = file.GetDataSet ();
  if (!ds.FindDataElement (gdcm::Tag (0x7fe0, 0x0010)))
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: DICOM file without pixel data (not an image)",
                         path);

  const gdcm::TransferSyntax &ts = file.GetHeader ().GetDataSetTransferSyntax ();
  std::string ts_uid = element_text (file.GetHeader (), 0x0002, 0x0010);
  if (!ts.IsValid ())
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: unsupported transfer syntax '%s'",
                         path, ts_uid.empty () ? "(none)" : ts_uid.c_str ());

  double frames = element_number (ds, 0x0028, 0x0008, 1.0);
  if (!(frames >= 1.0))
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: bad Number of Frames '%s'", path,
                         element_text (ds, 0x0028, 0x0008).c_str ());
  if (frames > 1.0)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED,
                         "%s: multi-frame DICOM (%.0f frames); only single slices are "
                         "supported (open a series folder of single-slice files instead)",
                         path, frames);
  /* A multi-frame object class (RT Dose, enhanced CT, ...) is refused even with one frame:
   * GDCM asserts when such a file lacks Number of Frames. */
  gdcm::MediaStorage ms;
  ms.SetFromFile (file);
  if (ms.GetModalityDimension () > 2)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED,
                         "%s: multi-frame DICOM object (%s); only single slices are supported",
                         path, ms.GetString () != NULL ? ms.GetString () : "?");

  long samples = element_us (ds, 0x0028, 0x0002);
  long r = element_us (ds, 0x0028, 0x0010);
  long c = element_us (ds, 0x0028, 0x0011);
  long bits = element_us (ds, 0x0028, 0x0100);
  if (samples != -1 && samples != 1)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED,
                         "%s: %ld samples per pixel (colour); a CT slice has one", path,
                         samples);
  if (r <= 0 || c <= 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: missing or zero Rows/Columns (%ld x %ld)",
                         path, r, c);
  if (r > NN_IMAGE_MAX_SIDE || c > NN_IMAGE_MAX_SIDE)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED,
                         "%s: slice of %ld x %ld pixels exceeds the limit of %d a side", path, r,
                         c, NN_IMAGE_MAX_SIDE);
  if (bits != 8 && bits != 16 && bits != 32)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: %ld bits allocated (expected 8, 16 "
                         "or 32)", path, bits);

  /* Uncompressed pixel data must hold Rows x Columns samples: a header that claims more
   * lies about the size. */
  if (ts.IsEncapsulated ())
    {
      const gdcm::DataElement &pd = ds.GetDataElement (gdcm::Tag (0x7fe0, 0x0010));
      if (!check_fragments (path, pd, ts, ts_uid, r, c, bits, err))
        return false;
    }
  else
    {
      const gdcm::DataElement &pd = ds.GetDataElement (gdcm::Tag (0x7fe0, 0x0010));
      const gdcm::ByteValue *bv = pd.GetByteValue ();
      unsigned long long have = bv != NULL ? (unsigned long long) bv->GetLength () : 0ull;
      unsigned long long need = (unsigned long long) r * (unsigned long long) c
                                * (unsigned long long) (bits / 8);
      if (have < need)
        return nn_error_set (err, NN_ERROR_FORMAT,
                             "%s: pixel data holds %llu bytes, but %ld rows x %ld columns x "
                             "%ld bits need %llu", path, have, r, c, bits, need);
    }
  *rows = (int) r;
  *cols = (int) c;
  return true;
}

/* Sample i of a decoded buffer as a stored value (bits stored honoured: masked, or sign
 * extended for signed data, as the standard and pydicom read them). */
double
stored_value (const std::vector<char> &buf,
              const gdcm::PixelFormat &pf,
              size_t                   i)
{
  const unsigned char *p = reinterpret_cast<const unsigned char *> (buf.data ());
  int allocated = pf.GetBitsAllocated ();
  int stored = pf.GetBitsStored ();
  if (stored <= 0 || stored > allocated)
    stored = allocated;
  unsigned long long raw = 0;
  for (int b = 0; b < allocated / 8; b++)
    raw |= (unsigned long long) p[i * (size_t) (allocated / 8) + (size_t) b] << (8 * b);
  unsigned long long mask = stored >= 64 ? ~0ull : ((1ull << stored) - 1);
  raw &= mask;
  if (pf.GetPixelRepresentation () == 1 && (raw >> (stored - 1)) & 1)
    return (double) (long long) (raw | ~mask);
  return (double) raw;
}

NnImage *
load_slice (const char *path,
            NnError    *err)
{
  uint64_t size;
  int fd = nn_file_open_regular (path, &size, err);
  if (fd < 0)
    return NULL;
  if (size > (uint64_t) DICOM_MAX_FILE_BYTES)
    {
      close (fd);
      nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: file of %llu bytes is too large for a slice",
                    path, (unsigned long long) size);
      return NULL;
    }
  std::string bytes ((size_t) size, '\0');
  bool read = nn_file_read_at (fd, path, &bytes[0], bytes.size (), 0, err);
  close (fd);
  if (!read)
    return NULL;
  std::string ts_checked;
  if (!check_structure (path, reinterpret_cast<const unsigned char *> (bytes.data ()),
                        bytes.size (), ts_checked, err))
    return NULL;

  quiet_gdcm ();
  std::istringstream header_stream (bytes), image_stream (bytes);
  gdcm::ImageReader reader;
  reader.SetStream (image_stream);
  gdcm::Reader header;
  header.SetStream (header_stream);
  if (!header.Read ())
    {
      /* GDCM stops at a transfer syntax it does not know; the file meta is read by then. */
      std::string ts = element_text (header.GetFile ().GetHeader (), 0x0002, 0x0010);
      if (!ts.empty ()
          && gdcm::TransferSyntax::GetTSType (ts.c_str ()) == gdcm::TransferSyntax::TS_END)
        nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: unsupported transfer syntax '%s'", path,
                      ts.c_str ());
      else
        nn_error_set (err, NN_ERROR_FORMAT, "%s: not a DICOM file, or it is truncated", path);
      return NULL;
    }
  int rows = 0, cols = 0;
  if (!check_slice (path, header, &rows, &cols, err))
    return NULL;
  if (!reader.Read ())
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: cannot read the image (truncated or damaged)",
                    path);
      return NULL;
    }
  const gdcm::Image &img = reader.GetImage ();
  const gdcm::PixelFormat &pf = img.GetPixelFormat ();
  std::string ts = element_text (header.GetFile ().GetHeader (), 0x0002, 0x0010);
  size_t length = img.GetBufferLength ();
  size_t need = (size_t) rows * (size_t) cols * (size_t) (pf.GetBitsAllocated () / 8);
  if (pf.GetSamplesPerPixel () != 1 || (pf.GetBitsAllocated () % 8) != 0 || length < need)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: decoded pixel data does not match the header "
                    "(%zu bytes for %d x %d)", path, length, rows, cols);
      return NULL;
    }
  std::vector<char> buf (length);
  if (!img.GetBuffer (buf.data ()))
    {
      nn_error_set (err, NN_ERROR_UNSUPPORTED,
                    "%s: cannot decode the pixel data (transfer syntax %s)", path, ts.c_str ());
      return NULL;
    }
  if (pf.GetScalarType () == gdcm::PixelFormat::FLOAT32
      || pf.GetScalarType () == gdcm::PixelFormat::FLOAT64)
    {
      nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: floating-point pixel data is not supported",
                    path);
      return NULL;
    }

  const gdcm::DataSet &ds = header.GetFile ().GetDataSet ();
  double slope = element_number (ds, 0x0028, 0x1053, 1.0);
  double intercept = element_number (ds, 0x0028, 0x1052, 0.0);
  if (!std::isfinite (slope) || !std::isfinite (intercept) || slope == 0.0)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: bad Rescale Slope '%s' or Intercept '%s'", path,
                    element_text (ds, 0x0028, 0x1053).c_str (),
                    element_text (ds, 0x0028, 0x1052).c_str ());
      return NULL;
    }

  NnImage *image = nn_image_new (1, rows, cols);
  if (image == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
      return NULL;
    }
  image->hu = true;
  image->bit_depth = 16;
  for (size_t i = 0; i < (size_t) rows * (size_t) cols; i++)
    image->data[i] = (float) (stored_value (buf, pf, i) * slope + intercept);
  return image;
}

/* A slice of a series with what orders it. */
struct SeriesEntry
{
  std::string name;
  NnImage    *image;
  double      position;  /* along the slice normal; NaN when unknown */
  double      instance;  /* NaN when unknown */
};

/* Position of the slice along its normal: Image Position (Patient) . (row x column). */
double
slice_position (const char *path)
{
  gdcm::Reader reader;
  reader.SetFileName (path);
  if (!reader.Read ())
    return NAN;
  const gdcm::DataSet &ds = reader.GetFile ().GetDataSet ();
  double o[6], p[3];
  for (int i = 0; i < 6; i++)
    o[i] = element_number_at (ds, 0x0020, 0x0037, i);
  for (int i = 0; i < 3; i++)
    p[i] = element_number_at (ds, 0x0020, 0x0032, i);
  double nx = o[1] * o[5] - o[2] * o[4];
  double ny = o[2] * o[3] - o[0] * o[5];
  double nz = o[0] * o[4] - o[1] * o[3];
  return nx * p[0] + ny * p[1] + nz * p[2];
}

double
slice_instance (const char *path)
{
  gdcm::Reader reader;
  reader.SetFileName (path);
  if (!reader.Read ())
    return NAN;
  return element_number (reader.GetFile ().GetDataSet (), 0x0020, 0x0013, NAN);
}

/* A regular file that starts like DICOM (preamble + "DICM"). */
bool
looks_like_dicom (const std::string &path)
{
  int fd = nn_file_open_regular (path.c_str (), NULL, NULL);
  if (fd < 0)
    return false;
  char head[132];
  bool read = nn_file_read_at (fd, path.c_str (), head, sizeof head, 0, NULL);
  close (fd);
  return read && memcmp (head + 128, "DICM", 4) == 0;
}

NnImage **
load_series (const char *dir,
             int        *n,
             NnError    *err)
{
  DIR *d = opendir (dir);
  if (d == NULL)
    {
      nn_error_set (err, NN_ERROR_IO, "%s: %s", dir, strerror (errno));
      return NULL;
    }
  std::vector<std::string> names;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      names.push_back (e->d_name);
  closedir (d);
  std::sort (names.begin (), names.end ());

  std::vector<SeriesEntry> entries;
  bool ok = true;
  for (const std::string &name : names)
    {
      std::string path = std::string (dir) + "/" + name;
      struct stat st;
      if (stat (path.c_str (), &st) != 0 || !S_ISREG (st.st_mode) || !looks_like_dicom (path))
        continue;
      NnImage *image = load_slice (path.c_str (), err);
      if (image == NULL)
        {
          ok = false;
          break;
        }
      if (!entries.empty () && (image->h != entries[0].image->h
                                || image->w != entries[0].image->w))
        {
          nn_error_set (err, NN_ERROR_FORMAT, "%s: slice of %d x %d in a series of %d x %d",
                        path.c_str (), image->h, image->w, entries[0].image->h,
                        entries[0].image->w);
          nn_image_free (image);
          ok = false;
          break;
        }
      entries.push_back ({ name, image, slice_position (path.c_str ()),
                           slice_instance (path.c_str ()) });
    }
  if (ok && entries.empty ())
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: no DICOM files in the folder", dir);
      ok = false;
    }
  NnImage **slices = NULL;
  if (ok)
    {
      bool by_position = true, by_instance = true;
      for (const SeriesEntry &s : entries)
        {
          by_position = by_position && std::isfinite (s.position);
          by_instance = by_instance && std::isfinite (s.instance);
        }
      std::stable_sort (entries.begin (), entries.end (),
                        [by_position, by_instance] (const SeriesEntry &a, const SeriesEntry &b)
                        {
                          if (by_position)
                            return a.position < b.position;
                          if (by_instance)
                            return a.instance < b.instance;
                          return a.name < b.name;
                        });
      slices = static_cast<NnImage **> (calloc (entries.size (), sizeof *slices));
      if (slices == NULL)
        {
          nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir);
          ok = false;
        }
    }
  if (!ok)
    {
      for (SeriesEntry &s : entries)
        nn_image_free (s.image);
      return NULL;
    }
  for (size_t i = 0; i < entries.size (); i++)
    slices[i] = entries[i].image;
  *n = (int) entries.size ();
  return slices;
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

extern "C" NnImage *
nn_dicom_load (const char *path,
               NnError    *err)
{
  NN_ASSERT (path != NULL);
  try
    {
      return load_slice (path, err);
    }
  catch (const std::bad_alloc &)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
    }
  catch (...)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: broken DICOM file", path);
    }
  return NULL;
}

extern "C" NnImage **
nn_dicom_load_series (const char *dir,
                      int        *n,
                      NnError    *err)
{
  NN_ASSERT (dir != NULL && n != NULL);
  *n = 0;
  try
    {
      return load_series (dir, n, err);
    }
  catch (const std::bad_alloc &)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir);
    }
  catch (...)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: broken DICOM file in the series", dir);
    }
  return NULL;
}

extern "C" void
nn_dicom_series_free (NnImage **slices,
                      int       n)
{
  if (slices == NULL)
    return;
  for (int i = 0; i < n; i++)
    nn_image_free (slices[i]);
  free (slices);
}

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
