/* SPDX-License-Identifier: MIT */
/* NnError helpers and the assertion handler. */
#include "nn-error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
nn_error_set (NnError    *err,
              NnErrorCode code,
              const char *format,
              ...)
{
  if (err == NULL)
    return false;
  va_list ap;
  va_start (ap, format);
  err->code = code;
  vsnprintf (err->message, sizeof err->message, format, ap);
  va_end (ap);
  return false;
}

void
nn_error_prefix (NnError    *err,
                 const char *format,
                 ...)
{
  if (err == NULL)
    return;
  char prefix[512];
  char old[sizeof err->message];
  va_list ap;
  va_start (ap, format);
  vsnprintf (prefix, sizeof prefix, format, ap);
  va_end (ap);
  memcpy (old, err->message, sizeof old);
  snprintf (err->message, sizeof err->message, "%s: %s", prefix, old);
}

void
nn_error_clear (NnError *err)
{
  if (err == NULL)
    return;
  err->code = NN_ERROR_NONE;
  err->message[0] = '\0';
}

void
nn_assert_fail (const char *expr,
                const char *file,
                int         line)
{
  /* The only place nn/ writes to a stream: a programmer error is about to abort. */
  fprintf (stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
  abort ();
}
