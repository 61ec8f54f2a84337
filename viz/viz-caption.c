/* SPDX-License-Identifier: MIT */
/* Caption helpers. */
#include "viz-caption.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
viz_caption_file_name (char       *buf,
                       size_t      size,
                       const char *path,
                       bool        keep_extension)
{
  const char *slash = strrchr (path, '/');
  const char *name = slash != NULL ? slash + 1 : path;
  const char *dot = keep_extension ? NULL : strrchr (name, '.');
  /* A leading dot is part of the name, not an extension. */
  int len = dot != NULL && dot != name ? (int) (dot - name) : (int) strlen (name);
  snprintf (buf, size, "%.*s", len, name);
  return buf;
}

void
viz_caption_append (char       *buf,
                    size_t      size,
                    const char *format,
                    ...)
{
  size_t used = strnlen (buf, size);
  if (used + 1 >= size)
    return;
  va_list ap;
  va_start (ap, format);
  vsnprintf (buf + used, size - used, format, ap);
  va_end (ap);
}
