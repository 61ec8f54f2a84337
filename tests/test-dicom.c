/* SPDX-License-Identifier: MIT */
/* Hand-built DICOM files for the tests (test-dicom.h): explicit VR little endian, every
 * attribute the spec asks for, so that broken and unusual files can be made on purpose. */
#include "test-dicom.h"

#include <stdio.h>
#include <string.h>

/* Appends an explicit-VR little-endian element. */
static void
put (GByteArray *b,
     guint16     group,
     guint16     element,
     const char *vr,
     const void *value,
     gsize       len)
{
  guint8 head[12];
  head[0] = group & 0xff;
  head[1] = group >> 8;
  head[2] = element & 0xff;
  head[3] = element >> 8;
  head[4] = (guint8) vr[0];
  head[5] = (guint8) vr[1];
  gsize padded = len + (len & 1);
  if (strcmp (vr, "OB") == 0 || strcmp (vr, "OW") == 0 || strcmp (vr, "UN") == 0)
    {
      head[6] = head[7] = 0;
      for (int i = 0; i < 4; i++)
        head[8 + i] = (guint8) (padded >> (8 * i));
      g_byte_array_append (b, head, 12);
    }
  else
    {
      head[6] = (guint8) (padded & 0xff);
      head[7] = (guint8) (padded >> 8);
      g_byte_array_append (b, head, 8);
    }
  g_byte_array_append (b, value, (guint) len);
  if (len & 1)
    g_byte_array_append (b, (const guint8 *) (strcmp (vr, "UI") == 0 ? "\0" : " "), 1);
}

static void
put_text (GByteArray *b,
          guint16     group,
          guint16     element,
          const char *vr,
          const char *text)
{
  put (b, group, element, vr, text, strlen (text));
}

static void
put_us (GByteArray *b,
        guint16     group,
        guint16     element,
        guint16     v)
{
  guint8 le[2] = { v & 0xff, v >> 8 };
  put (b, group, element, "US", le, 2);
}



TestDicomSpec
test_dicom_spec_default (void)
{
  TestDicomSpec s = {
    .ts = "1.2.840.10008.1.2.1", .rows = 3, .cols = 4, .samples = 1, .bits_stored = 16,
    .signed_px = 1, .slope = "1", .intercept = "0", .pixels = TRUE,
  };
  return s;
}

GByteArray *
test_dicom_make (const TestDicomSpec *s)
{
  GByteArray *b = g_byte_array_new ();
  guint8 preamble[128] = { 0 };
  g_byte_array_append (b, preamble, 128);
  g_byte_array_append (b, (const guint8 *) "DICM", 4);

  GByteArray *meta = g_byte_array_new ();
  guint8 version[2] = { 0, 1 };
  put (meta, 0x0002, 0x0001, "OB", version, 2);
  const char *sop = s->sop != NULL ? s->sop : "1.2.840.10008.5.1.4.1.1.2";
  put_text (meta, 0x0002, 0x0002, "UI", sop);
  put_text (meta, 0x0002, 0x0003, "UI", "1.2.3.4.5.6.7");
  put_text (meta, 0x0002, 0x0010, "UI", s->ts);
  if (s->ts_vr != NULL)
    memcpy (meta->data + meta->len - 8 - strlen (s->ts) - (strlen (s->ts) & 1) + 4, s->ts_vr,
            2);
  guint8 glen[4] = { meta->len & 0xff, (meta->len >> 8) & 0xff, 0, 0 };
  put (b, 0x0002, 0x0000, "UL", glen, 4);
  g_byte_array_append (b, meta->data, meta->len);
  g_byte_array_free (meta, TRUE);

  put_text (b, 0x0008, 0x0016, "UI", sop);
  put_text (b, 0x0008, 0x0018, "UI", "1.2.3.4.5.6.7");
  put_text (b, 0x0008, 0x0060, "CS", "CT");
  if (s->series_description != NULL)
    put_text (b, 0x0008, 0x103e, "LO", s->series_description);
  if (s->extra != NULL)
    g_byte_array_append (b, s->extra, (guint) s->extra_len);
  if (s->tilt != NULL)
    put_text (b, 0x0018, 0x1120, "DS", s->tilt);
  if (s->series_uid != NULL)
    put_text (b, 0x0020, 0x000e, "UI", s->series_uid);
  if (s->instance != NULL)
    put_text (b, 0x0020, 0x0013, "IS", s->instance);
  if (s->position != NULL)
    {
      put_text (b, 0x0020, 0x0032, s->position_vr != NULL ? s->position_vr : "DS", s->position);
      put_text (b, 0x0020, 0x0037, "DS", s->orientation != NULL ? s->orientation
                                         : "1\\0\\0\\0\\1\\0");
    }
  put_us (b, 0x0028, 0x0002, (guint16) s->samples);
  put_text (b, 0x0028, 0x0004, "CS", s->photometric != NULL ? s->photometric
                                      : s->samples == 1 ? "MONOCHROME2" : "RGB");
  if (s->frames > 0)
    {
      char text[16];
      snprintf (text, sizeof text, "%d", s->frames);
      put_text (b, 0x0028, 0x0008, "IS", text);
    }
  put_us (b, 0x0028, 0x0010, (guint16) s->rows);
  put_us (b, 0x0028, 0x0011, (guint16) s->cols);
  if (s->spacing != NULL)
    put_text (b, 0x0028, 0x0030, "DS", s->spacing);
  put_us (b, 0x0028, 0x0100, 16);
  put_us (b, 0x0028, 0x0101, (guint16) s->bits_stored);
  put_us (b, 0x0028, 0x0102, (guint16) (s->bits_stored - 1));
  put_us (b, 0x0028, 0x0103, (guint16) s->signed_px);
  if (s->intercept != NULL)
    put_text (b, 0x0028, 0x1052, "DS", s->intercept);
  if (s->slope != NULL)
    put_text (b, 0x0028, 0x1053, "DS", s->slope);
  if (s->fragments)
    {
      /* (7fe0,0010) OB of undefined length, an empty offset table item, one fragment of 16
       * bytes, the sequence delimiter. */
      const guint8 pd[12] = { 0xe0, 0x7f, 0x10, 0x00, 'O', 'B', 0, 0, 0xff, 0xff, 0xff, 0xff };
      const guint8 bot[8] = { 0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0 };
      const guint8 junk[16] = { 0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
      const guint8 *bytes = s->fragment != NULL ? s->fragment : junk;
      gsize len = s->fragment != NULL ? s->fragment_len : sizeof junk;
      const guint8 item[8] = { 0xfe, 0xff, 0x00, 0xe0, (len + (len & 1)) & 0xff,
                               ((len + (len & 1)) >> 8) & 0xff, 0, 0 };
      const guint8 end[8] = { 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0 };
      g_byte_array_append (b, pd, 12);
      g_byte_array_append (b, bot, 8);
      g_byte_array_append (b, item, 8);
      g_byte_array_append (b, bytes, (guint) len);
      if (len & 1)
        g_byte_array_append (b, (const guint8 *) "", 1);
      g_byte_array_append (b, end, 8);
    }
  else if (s->pixels)
    {
      int frames = s->frames > 0 ? s->frames : 1;
      gsize n = (gsize) s->rows * s->cols * s->samples * frames;
      gsize bytes = s->pixel_bytes > 0 ? s->pixel_bytes : 2 * n;
      guint8 *px = g_new0 (guint8, bytes + 2);
      for (gsize i = 0; i < n && 2 * i + 1 < bytes; i++)
        {
          guint16 v = s->values != NULL ? s->values[i] : (guint16) (i * 7);
          px[2 * i] = v & 0xff;
          px[2 * i + 1] = v >> 8;
        }
      put (b, 0x7fe0, 0x0010, "OW", px, bytes);
      g_free (px);
    }
  return b;
}
