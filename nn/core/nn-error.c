/* SPDX-License-Identifier: MIT */
/* NnError helpers and the assertion handler. */
#include "core/nn-error.h"

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
  size_t lp = strnlen (prefix, sizeof prefix);
  size_t lo = strnlen (old, sizeof old - 1);
  size_t cap = sizeof err->message - 1;
  size_t n = 0;
  for (size_t i = 0; i < lp && n < cap; i++)
    err->message[n++] = prefix[i];
  for (size_t i = 0; i < 2 && n < cap; i++)
    err->message[n++] = ": "[i];
  for (size_t i = 0; i < lo && n < cap; i++)
    err->message[n++] = old[i];
  err->message[n] = '\0';
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
