/* SPDX-License-Identifier: MIT */
/* One DICOM slice from bytes to Hounsfield units through GDCM, in the cnnscope-dicom helper. The
 * bytes are walked first (every declared length against the file size, valid VRs, delimiters
 * only where they belong), the attributes checked, and only then does GDCM parse and decode. */
#include "io/nn-dicom-decode.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <istream>
#include <new>
#include <streambuf>
#include <string>

#include <gdcmDataSet.h>
#include <gdcmFile.h>
#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmMediaStorage.h>
#include <gdcmPixelFormat.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfFragments.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>

extern "C" {
#include "io/nn-image.h"
}

namespace {

/* A read-only stream over bytes in memory, so GDCM reads the file without copying it. */
class MemoryBuffer : public std::streambuf
{
public:
  MemoryBuffer (const unsigned char *bytes,
                size_t               size)
  {
    char *p = const_cast<char *> (reinterpret_cast<const char *> (bytes));
    setg (p, p, p + size);
  }

protected:
  pos_type
  seekoff (off_type                off,
           std::ios_base::seekdir  dir,
           std::ios_base::openmode which) override
  {
    if (!(which & std::ios_base::in))
      return pos_type (off_type (-1));
    off_type base = dir == std::ios_base::beg ? 0
                    : dir == std::ios_base::cur ? gptr () - eback ()
                    : egptr () - eback ();
    off_type to = base + off;
    if (to < 0 || to > egptr () - eback ())
      return pos_type (off_type (-1));
    setg (eback (), eback () + to, egptr ());
    return pos_type (to);
  }

  pos_type
  seekpos (pos_type                pos,
           std::ios_base::openmode which) override
  {
    return seekoff (off_type (pos), std::ios_base::beg, which);
  }
};

void
quiet_gdcm ()
{
  gdcm::Trace::SetDebug (false);
  gdcm::Trace::SetWarning (false);
  gdcm::Trace::SetError (false);
}

bool
element_present (const gdcm::DataSet &ds,
                 uint16_t             group,
                 uint16_t             element)
{
  return ds.FindDataElement (gdcm::Tag (group, element));
}

/* The text of a string element with leading and trailing spaces and NULs removed; "" when
 * absent. */
std::string
element_text (const gdcm::DataSet &ds,
              uint16_t             group,
              uint16_t             element)
{
  const gdcm::Tag tag (group, element);
  if (!ds.FindDataElement (tag))
    return "";
  const gdcm::ByteValue *bv = ds.GetDataElement (tag).GetByteValue ();
  if (bv == NULL)
    return "";
  std::string s (bv->GetPointer (), bv->GetLength ());
  while (!s.empty () && (s.back () == ' ' || s.back () == '\0'))
    s.pop_back ();
  size_t lead = s.find_first_not_of (' ');
  return lead == std::string::npos ? "" : s.substr (lead);
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

/* A decimal (DS) or integer (IS) string element as a number; fallback when absent or empty,
 * NaN when present but not a number. Multi-valued elements give their first value. */
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
 * GDCM's parser asserts (aborts) on many malformed files, and believes any length a file
 * declares, so every file is first walked here: each element, sequence item and pixel data
 * fragment must fit in the bytes that are there, each explicit VR must be one the standard
 * defines, and delimiters must stand where they belong. Only then does GDCM see it. */

#define UNDEFINED_LENGTH 0xffffffffu
#define MAX_DEPTH 16

struct Walk
{
  const unsigned char *bytes;
  size_t               size;
  bool                 explicit_vr;
  bool                 big_endian;
  size_t               bad_at;      /* where the structure broke */
  const char          *why;         /* and how (static text), or NULL */
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

/* Records where and why the walk stopped (the innermost reason wins); returns false. */
bool
walk_fail (Walk       &w,
           size_t      at,
           const char *why)
{
  if (w.why == NULL)
    {
      w.bad_at = at;
      w.why = why;
    }
  return false;
}

/* Whether the two bytes at p are a VR of the standard; *long_form: the VR has a 32-bit
 * length after two reserved bytes. */
bool
vr_known (const unsigned char *p,
          bool                *long_form)
{
  static const char *const short_vrs[] = {
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "PN", "SH", "SL",
    "SS", "ST", "TM", "UI", "UL", "US",
  };
  static const char *const long_vrs[] = {
    "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV",
  };
  for (const char *vr : short_vrs)
    if (p[0] == vr[0] && p[1] == vr[1])
      {
        *long_form = false;
        return true;
      }
  for (const char *vr : long_vrs)
    if (p[0] == vr[0] && p[1] == vr[1])
      {
        *long_form = true;
        return true;
      }
  return false;
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
        return walk_fail (w, pos, "item header cut short");
      uint32_t group = walk_u16 (w, pos, w.big_endian);
      uint32_t element = walk_u16 (w, pos + 2, w.big_endian);
      uint32_t len = walk_u32 (w, pos + 4, w.big_endian);
      if (group != 0xfffe || (element != 0xe0dd && element != 0xe000))
        return walk_fail (w, pos, "an element where a sequence item was expected");
      size_t start = pos;
      pos += 8;
      /* A delimiter's length must be 0: GDCM reads one as a value and allocates it. */
      if (element == 0xe0dd && len != 0)
        return walk_fail (w, start, "sequence delimiter with a length");
      if (element == 0xe0dd)
        return undefined || walk_fail (w, start, "sequence delimiter in a sequence of "
                                       "defined length");
      if (len == UNDEFINED_LENGTH)
        {
          if (fragments)
            return walk_fail (w, start, "pixel data fragment of undefined length");
          if (!walk_elements (w, pos, end, true, depth + 1, false))
            return false;
          continue;
        }
      if (len > end - pos)
        return walk_fail (w, start, "item longer than the file");
      size_t item_end = pos + len;
      if (!fragments && !walk_elements (w, pos, item_end, false, depth + 1, false))
        return false;
      pos = item_end;
    }
  /* A sequence of undefined length must end with its delimiter. */
  return !undefined || walk_fail (w, pos, "sequence without its delimiter");
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
    return walk_fail (w, pos, "sequences nested too deep");
  bool explicit_vr = meta || w.explicit_vr;
  bool big = !meta && w.big_endian;
  while (pos < end)
    {
      if (end - pos < 8)
        return walk_fail (w, pos, "element header cut short");
      uint32_t group = walk_u16 (w, pos, big);
      uint32_t element = walk_u16 (w, pos + 2, big);
      if (meta && group != 0x0002)
        return true;
      if (group == 0xfffe)
        {
          /* Only an item's own delimiter belongs here; an item or a sequence delimiter where
           * an element (and its value) is expected makes GDCM abort. */
          if (element == 0xe00d && in_item)
            {
              if (walk_u32 (w, pos + 4, big) != 0)
                return walk_fail (w, pos, "item delimiter with a length");
              pos += 8;
              return true;
            }
          return walk_fail (w, pos, "misplaced item or delimiter tag");
        }
      uint32_t len;
      bool sequence = false, may_be_undefined = true;
      size_t head;
      if (explicit_vr)
        {
          bool long_form = false;
          if (!vr_known (w.bytes + pos + 4, &long_form))
            return walk_fail (w, pos, meta ? "invalid VR in the file meta information"
                                           : "invalid VR");
          sequence = w.bytes[pos + 4] == 'S' && w.bytes[pos + 5] == 'Q';
          bool un = w.bytes[pos + 4] == 'U' && w.bytes[pos + 5] == 'N';
          bool ob_ow = w.bytes[pos + 4] == 'O'
                       && (w.bytes[pos + 5] == 'B' || w.bytes[pos + 5] == 'W');
          may_be_undefined = sequence || un
                             || (ob_ow && group == 0x7fe0 && element == 0x0010 && depth == 0);
          if (long_form)
            {
              if (end - pos < 12)
                return walk_fail (w, pos, "element header cut short");
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
          if (!may_be_undefined || meta)
            return walk_fail (w, start, "undefined length on an element that cannot have one");
          if (!walk_items (w, pos, end, true, pixel_data, depth))
            return walk_fail (w, start, "broken sequence");
          continue;
        }
      if (len > end - pos)
        return walk_fail (w, start, "element longer than the rest of the file");
      if (sequence)
        {
          size_t seq_end = pos + len;
          if (!walk_items (w, pos, seq_end, false, false, depth))
            return walk_fail (w, start, "broken sequence");
          pos = seq_end;
          continue;
        }
      pos += len;
    }
  return !in_item || walk_fail (w, pos, "item without its delimiter");
}

/* Checks the structure of a whole file in memory. */
bool
check_structure (const unsigned char *bytes,
                 size_t               size,
                 NnError             *err)
{
  if (size < 132 || memcmp (bytes + 128, "DICM", 4) != 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "not a DICOM file (no \"DICM\" after the "
                         "128-byte preamble)");
  Walk w = { bytes, size, true, false, 0, NULL, false };
  size_t pos = 132;
  if (!walk_elements (w, pos, size, false, 0, true))
    return nn_error_set (err, NN_ERROR_FORMAT, "file meta information is truncated or broken "
                         "at byte %zu (%s)", w.bad_at, w.why);
  /* The transfer syntax UID (0002,0010), looked up in the meta group just walked (every
   * element there has a known VR and fits). Without it GDCM guesses the encoding of the data
   * set, and may read it otherwise than this walk (a text value as a 32-bit length). */
  std::string ts_uid;
  for (size_t p = 132; p + 8 <= pos;)
    {
      uint32_t group = walk_u16 (w, p, false), element = walk_u16 (w, p + 2, false);
      bool long_form = false;
      vr_known (bytes + p + 4, &long_form);
      size_t head = long_form ? 12 : 8;
      uint32_t len = long_form ? walk_u32 (w, p + 8, false) : walk_u16 (w, p + 6, false);
      if (group == 0x0002 && element == 0x0010)
        {
          ts_uid.assign (reinterpret_cast<const char *> (bytes + p + head), len);
          while (!ts_uid.empty () && (ts_uid.back () == '\0' || ts_uid.back () == ' '))
            ts_uid.pop_back ();
        }
      p += head + len;
    }
  if (ts_uid.empty ())
    return nn_error_set (err, NN_ERROR_FORMAT, "file meta information without a transfer "
                         "syntax (0002,0010)");
  if (ts_uid == "1.2.840.10008.1.2")
    w.explicit_vr = false;
  else if (ts_uid == "1.2.840.10008.1.2.2")
    w.big_endian = true;
  else if (ts_uid == "1.2.840.10008.1.2.1.99")
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "deflated transfer syntax "
                         "(1.2.840.10008.1.2.1.99) is not supported");
  else if (gdcm::TransferSyntax::GetTSType (ts_uid.c_str ()) == gdcm::TransferSyntax::TS_END)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "unsupported transfer syntax '%.64s'",
                         ts_uid.c_str ());
  w.bad_at = 0;
  w.why = NULL;
  if (!walk_elements (w, pos, size, false, 0, false))
    return nn_error_set (err, NN_ERROR_FORMAT, "truncated or broken at byte %zu of %zu (%s)",
                         w.bad_at, size, w.why);
  if (!w.has_pixels)
    return nn_error_set (err, NN_ERROR_FORMAT, "DICOM file without pixel data (not an "
                         "image, or truncated before it)");
  return true;
}

/* ---- Compressed pixel data -------------------------------------------------------------- */

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

/* JPEG (baseline to lossless) and JPEG-LS: the marker segments up to the start of scan must
 * follow each other without stray bytes (libjpeg warns about those, and GDCM's 12-bit codec
 * asserts on any warning), and the frame header (SOFn, or SOF55) must give one component of
 * rows x cols samples of a sane precision. */
bool
check_jpeg (const unsigned char *p,
            size_t               n,
            long                 rows,
            long                 cols,
            NnError             *err)
{
  if (n < 4 || p[0] != 0xff || p[1] != 0xd8)
    return nn_error_set (err, NN_ERROR_FORMAT, "compressed pixel data is not a JPEG stream");
  bool frame = false;
  size_t i = 2;
  while (i + 4 <= n)
    {
      if (p[i] != 0xff)
        return nn_error_set (err, NN_ERROR_FORMAT, "corrupt JPEG header (stray bytes at byte "
                             "%zu of the stream)", i);
      unsigned int marker = p[i + 1];
      if (marker == 0xff)
        {
          i++;
          continue;
        }
      if (marker == 0xda)
        {
          if (!frame)
            break;
          return true;
        }
      size_t len = be16 (p + i + 2);
      bool sof = (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8
                  && marker != 0xcc) || marker == 0xf7;
      if (sof)
        {
          if (frame || i + 10 > n || len < 8)
            break;
          unsigned int precision = p[i + 4];
          long h = (long) be16 (p + i + 5), w = (long) be16 (p + i + 7);
          unsigned int components = p[i + 9];
          if (precision < 2 || precision > 16 || h != rows || w != cols || components != 1)
            return nn_error_set (err, NN_ERROR_FORMAT,
                                 "JPEG frame of %ld x %ld, %u components of %u bits does not "
                                 "match the header's %ld x %ld gray slice", h, w, components,
                                 precision, rows, cols);
          frame = true;
        }
      if (len < 2)
        break;
      i += 2 + len;
    }
  return nn_error_set (err, NN_ERROR_FORMAT, frame ? "JPEG pixel data without a start of scan"
                                                   : "JPEG pixel data without a valid frame "
                                                     "header");
}

/* JPEG 2000 codestream (possibly inside a JP2 box): SOC, SIZ with rows x cols, one
 * component. */
bool
check_j2k (const unsigned char *p,
           size_t               n,
           long                 rows,
           long                 cols,
           NnError             *err)
{
  size_t i = 0;
  while (i + 1 < n && i < 4096 && !(p[i] == 0xff && p[i + 1] == 0x4f))
    i++;
  if (i + 42 > n || p[i + 2] != 0xff || p[i + 3] != 0x51)
    return nn_error_set (err, NN_ERROR_FORMAT, "JPEG 2000 pixel data without a valid SIZ "
                         "header");
  const unsigned char *siz = p + i + 4;
  unsigned long xs = be32 (siz + 4), ys = be32 (siz + 8);
  unsigned long xo = be32 (siz + 12), yo = be32 (siz + 16);
  unsigned int components = be16 (siz + 36);
  long w = xs >= xo ? (long) (xs - xo) : -1, h = ys >= yo ? (long) (ys - yo) : -1;
  if (w != cols || h != rows || components != 1)
    return nn_error_set (err, NN_ERROR_FORMAT, "JPEG 2000 image of %ld x %ld with %u "
                         "components does not match the header's %ld x %ld gray slice", h, w,
                         components, rows, cols);
  return true;
}

/* RLE Lossless: a 64-byte header with one segment per byte of a sample and increasing
 * offsets inside the fragment. */
bool
check_rle (const unsigned char *p,
           size_t               n,
           long                 bits,
           NnError             *err)
{
  if (n < 64)
    return nn_error_set (err, NN_ERROR_FORMAT, "RLE pixel data shorter than its header");
  unsigned long segments = (unsigned long) p[0] | (unsigned long) p[1] << 8
                           | (unsigned long) p[2] << 16 | (unsigned long) p[3] << 24;
  if ((long) segments != bits / 8)
    return nn_error_set (err, NN_ERROR_FORMAT, "RLE pixel data with %lu segments for %ld-bit "
                         "samples", segments, bits);
  unsigned long last = 63;
  for (unsigned long s = 0; s < segments; s++)
    {
      const unsigned char *q = p + 4 + 4 * s;
      unsigned long off = (unsigned long) q[0] | (unsigned long) q[1] << 8
                          | (unsigned long) q[2] << 16 | (unsigned long) q[3] << 24;
      if (off <= last || off >= n)
        return nn_error_set (err, NN_ERROR_FORMAT, "RLE segment %lu starts outside the pixel "
                             "data", s);
      last = off;
    }
  return true;
}

/* Compressed pixel data goes to GDCM's codecs only after its own header is checked against
 * the DICOM header: those codecs assert (abort) on some malformed streams. Transfer syntaxes
 * other than JPEG, JPEG-LS, JPEG 2000 and RLE are refused. */
bool
check_fragments (const gdcm::DataElement    &pd,
                 const gdcm::TransferSyntax &ts,
                 const std::string          &ts_uid,
                 long                        rows,
                 long                        cols,
                 long                        bits,
                 NnError                    *err)
{
  const gdcm::SequenceOfFragments *sf = pd.GetSequenceOfFragments ();
  if (sf == NULL || sf->GetNumberOfFragments () == 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "compressed transfer syntax %.64s but the "
                         "pixel data is not encapsulated", ts_uid.c_str ());
  /* One frame in several fragments: the header is in the first one. */
  const gdcm::ByteValue *bv = sf->GetFragment (0).GetByteValue ();
  if (bv == NULL)
    return nn_error_set (err, NN_ERROR_FORMAT, "empty pixel data fragment");
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
      return check_jpeg (p, n, rows, cols, err);
    case gdcm::TransferSyntax::JPEG2000Lossless:
    case gdcm::TransferSyntax::JPEG2000:
    case gdcm::TransferSyntax::JPEG2000Part2Lossless:
    case gdcm::TransferSyntax::JPEG2000Part2:
      return check_j2k (p, n, rows, cols, err);
    case gdcm::TransferSyntax::RLELossless:
      return check_rle (p, n, bits, err);
    default:
      return nn_error_set (err, NN_ERROR_UNSUPPORTED, "unsupported compressed transfer syntax "
                           "%.64s", ts_uid.c_str ());
    }
}

/* ---- Attributes ------------------------------------------------------------------------- */

/* Rescale Slope and Intercept: both or neither (then 1 and 0), one finite number each, the
 * slope not zero. GDCM asserts on an intercept without a usable slope, as in pydicom's
 * MR_small.dcm given an intercept. */
bool
check_rescale (const gdcm::DataSet &ds,
               double              *slope,
               double              *intercept,
               NnError             *err)
{
  bool has_slope = element_present (ds, 0x0028, 0x1053);
  bool has_intercept = element_present (ds, 0x0028, 0x1052);
  std::string slope_text = element_text (ds, 0x0028, 0x1053);
  std::string intercept_text = element_text (ds, 0x0028, 0x1052);
  *slope = element_number (ds, 0x0028, 0x1053, NAN);
  *intercept = element_number (ds, 0x0028, 0x1052, NAN);
  if (!has_slope && !has_intercept)
    {
      *slope = 1.0;
      *intercept = 0.0;
      return true;
    }
  if (!std::isfinite (*slope) || !std::isfinite (*intercept) || *slope == 0.0
      || slope_text.find ('\\') != std::string::npos
      || intercept_text.find ('\\') != std::string::npos)
    return nn_error_set (err, NN_ERROR_FORMAT, "bad Rescale Slope '%.32s'%s or Intercept "
                         "'%.32s'%s (both must be single numbers, the slope not 0)",
                         slope_text.c_str (), has_slope ? "" : " (absent)",
                         intercept_text.c_str (), has_intercept ? "" : " (absent)");
  return true;
}

/* Reads the header and checks everything that must hold before the pixels are decoded. */
bool
check_slice (const gdcm::Reader &reader,
             int                *rows,
             int                *cols,
             NnError            *err)
{
  const gdcm::File &file = reader.GetFile ();
  const gdcm::DataSet &ds = file.GetDataSet ();
  if (!ds.FindDataElement (gdcm::Tag (0x7fe0, 0x0010)))
    return nn_error_set (err, NN_ERROR_FORMAT, "DICOM file without pixel data (not an image)");

  const gdcm::TransferSyntax &ts = file.GetHeader ().GetDataSetTransferSyntax ();
  std::string ts_uid = element_text (file.GetHeader (), 0x0002, 0x0010);
  if (!ts.IsValid ())
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "unsupported transfer syntax '%.64s'",
                         ts_uid.empty () ? "(none)" : ts_uid.c_str ());

  double frames = element_number (ds, 0x0028, 0x0008, 1.0);
  if (!(frames >= 1.0))
    return nn_error_set (err, NN_ERROR_FORMAT, "bad Number of Frames '%.32s'",
                         element_text (ds, 0x0028, 0x0008).c_str ());
  if (frames > 1.0)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED,
                         "multi-frame DICOM (%.0f frames); only single slices are supported "
                         "(open a series folder of single-slice files instead)", frames);
  /* A multi-frame object class (RT Dose, enhanced CT, ...) is refused even with one frame:
   * GDCM asserts when such a file lacks Number of Frames. */
  gdcm::MediaStorage ms;
  ms.SetFromFile (file);
  if (ms.GetModalityDimension () > 2)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED,
                         "multi-frame DICOM object (%s); only single slices are supported",
                         ms.GetString () != NULL ? ms.GetString () : "?");

  long samples = element_us (ds, 0x0028, 0x0002);
  long r = element_us (ds, 0x0028, 0x0010);
  long c = element_us (ds, 0x0028, 0x0011);
  long bits = element_us (ds, 0x0028, 0x0100);
  if (samples != -1 && samples != 1)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED,
                         "%ld samples per pixel (colour); a CT slice has one", samples);
  /* A gray slice is MONOCHROME1 or 2; GDCM asserts on PALETTE COLOR without its palette. */
  std::string photometric = element_text (ds, 0x0028, 0x0004);
  if (!photometric.empty () && photometric != "MONOCHROME1" && photometric != "MONOCHROME2")
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "photometric interpretation '%.32s'; a CT "
                         "slice is MONOCHROME1 or MONOCHROME2", photometric.c_str ());
  if (r <= 0 || c <= 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "missing or zero Rows/Columns (%ld x %ld)", r,
                         c);
  if (r > NN_IMAGE_MAX_SIDE || c > NN_IMAGE_MAX_SIDE
      || (unsigned long) r * (unsigned long) c > NN_IMAGE_MAX_PIXELS)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED,
                         "slice of %ld x %ld pixels exceeds the limit of %d a side and %u in "
                         "all", r, c, NN_IMAGE_MAX_SIDE, NN_IMAGE_MAX_PIXELS);
  if (bits != 8 && bits != 16 && bits != 32)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%ld bits allocated (expected 8, 16 or "
                         "32)", bits);
  double slope, intercept;
  if (!check_rescale (ds, &slope, &intercept, err))
    return false;

  /* Uncompressed pixel data must hold Rows x Columns samples: a header that claims more
   * lies about the size. */
  const gdcm::DataElement &pd = ds.GetDataElement (gdcm::Tag (0x7fe0, 0x0010));
  if (ts.IsEncapsulated ())
    {
      if (!check_fragments (pd, ts, ts_uid, r, c, bits, err))
        return false;
    }
  else
    {
      const gdcm::ByteValue *bv = pd.GetByteValue ();
      unsigned long long have = bv != NULL ? (unsigned long long) bv->GetLength () : 0ull;
      unsigned long long need = (unsigned long long) r * (unsigned long long) c
                                * (unsigned long long) (bits / 8);
      if (have < need)
        return nn_error_set (err, NN_ERROR_FORMAT,
                             "pixel data holds %llu bytes, but %ld rows x %ld columns x %ld "
                             "bits need %llu", have, r, c, bits, need);
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

/* Position of the slice along its normal: Image Position (Patient) . (row x column); NaN when
 * either is missing. */
double
slice_position (const gdcm::DataSet &ds)
{
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

bool
decode (const unsigned char *bytes,
        size_t               size,
        NnDicomDecoded      *out,
        NnError             *err)
{
  if (size > NN_DICOM_MAX_FILE_BYTES)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "file of %zu bytes is too large for a "
                         "slice", size);
  if (!check_structure (bytes, size, err))
    return false;

  quiet_gdcm ();
  int rows = 0, cols = 0;
  double slope = 1.0, intercept = 0.0;
  std::string ts;
  {
    /* The header alone first: it is checked before GDCM's image reader sees the file, and
     * released before the pixels are decoded. */
    MemoryBuffer buffer (bytes, size);
    std::istream stream (&buffer);
    gdcm::Reader header;
    header.SetStream (stream);
    if (!header.Read ())
      {
        /* GDCM stops at a transfer syntax it does not know; the file meta is read by then. */
        std::string uid = element_text (header.GetFile ().GetHeader (), 0x0002, 0x0010);
        if (!uid.empty ()
            && gdcm::TransferSyntax::GetTSType (uid.c_str ()) == gdcm::TransferSyntax::TS_END)
          return nn_error_set (err, NN_ERROR_UNSUPPORTED, "unsupported transfer syntax '%.64s'",
                               uid.c_str ());
        return nn_error_set (err, NN_ERROR_FORMAT, "not a DICOM file, or it is truncated");
      }
    if (!check_slice (header, &rows, &cols, err))
      return false;
    const gdcm::DataSet &ds = header.GetFile ().GetDataSet ();
    check_rescale (ds, &slope, &intercept, err);
    out->position = slice_position (ds);
    out->instance = element_number (ds, 0x0020, 0x0013, NAN);
    for (int i = 0; i < 3; i++)
      out->ipp[i] = element_number_at (ds, 0x0020, 0x0032, i);
    for (int i = 0; i < 6; i++)
      out->iop[i] = element_number_at (ds, 0x0020, 0x0037, i);
    for (int i = 0; i < 2; i++)
      out->spacing[i] = element_number_at (ds, 0x0028, 0x0030, i);
    out->tilt = element_number (ds, 0x0018, 0x1120, NAN);
    /* A UID is digits and dots; anything else is dropped rather than trusted. */
    for (char ch : element_text (ds, 0x0020, 0x000e))
      if (((ch >= '0' && ch <= '9') || ch == '.')
          && out->series_uid.size () < NN_DICOM_FRAME_MAX_UID)
        out->series_uid.push_back (ch);
    /* The description is shown to the user: printable ASCII, trailing padding dropped. */
    for (char ch : element_text (ds, 0x0008, 0x103e))
      if (out->series_description.size () < NN_DICOM_FRAME_MAX_DESCRIPTION)
        out->series_description.push_back (ch >= 0x20 && ch < 0x7f ? ch : '?');
    while (!out->series_description.empty () && out->series_description.back () == ' ')
      out->series_description.pop_back ();
    ts = element_text (header.GetFile ().GetHeader (), 0x0002, 0x0010);
  }

  MemoryBuffer buffer (bytes, size);
  std::istream stream (&buffer);
  gdcm::ImageReader reader;
  reader.SetStream (stream);
  if (!reader.Read ())
    return nn_error_set (err, NN_ERROR_FORMAT, "cannot read the image (truncated or damaged)");
  const gdcm::Image &img = reader.GetImage ();
  const gdcm::PixelFormat &pf = img.GetPixelFormat ();
  size_t length = img.GetBufferLength ();
  size_t need = (size_t) rows * (size_t) cols * (size_t) (pf.GetBitsAllocated () / 8);
  if (pf.GetSamplesPerPixel () != 1 || (pf.GetBitsAllocated () % 8) != 0 || length < need)
    return nn_error_set (err, NN_ERROR_FORMAT, "decoded pixel data does not match the header "
                         "(%zu bytes for %d x %d)", length, rows, cols);
  if (pf.GetScalarType () == gdcm::PixelFormat::FLOAT32
      || pf.GetScalarType () == gdcm::PixelFormat::FLOAT64)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "floating-point pixel data is not "
                         "supported");
  std::vector<char> buf (length);
  if (!img.GetBuffer (buf.data ()))
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "cannot decode the pixel data (transfer "
                         "syntax %.64s)", ts.c_str ());

  out->rows = rows;
  out->cols = cols;
  out->hu.resize ((size_t) rows * (size_t) cols);
  for (size_t i = 0; i < out->hu.size (); i++)
    out->hu[i] = (float) (stored_value (buf, pf, i) * slope + intercept);
  return true;
}

}  // namespace

bool
nn_dicom_decode (const unsigned char *bytes,
                 size_t               size,
                 NnDicomDecoded      *out,
                 NnError             *err)
{
  NN_ASSERT ((bytes != NULL || size == 0) && out != NULL);
  try
    {
      return decode (bytes, size, out, err);
    }
  catch (const std::bad_alloc &)
    {
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory decoding the slice");
    }
  catch (...)
    {
      return nn_error_set (err, NN_ERROR_FORMAT, "broken DICOM file");
    }
}
