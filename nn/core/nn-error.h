/* SPDX-License-Identifier: MIT */
/* Errors of the engine: programmer errors abort through NN_ASSERT, runtime failures fill an
 * optional caller-owned NnError and the function returns false or NULL. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

typedef enum
{
  NN_ERROR_NONE = 0,
  NN_ERROR_IO,          /* the file cannot be opened, read or written */
  NN_ERROR_FORMAT,      /* the file is not what it claims to be, or is broken */
  NN_ERROR_SPEC,        /* a graph, shape or argument that does not fit together */
  NN_ERROR_UNSUPPORTED, /* valid, but something we do not implement */
  NN_ERROR_NOMEM,
  NN_ERROR_CANCELLED,
  NN_ERROR_NUMERIC,     /* NaN or Inf appeared */
} NnErrorCode;

typedef struct
{
  NnErrorCode code;
  char        message[1024];
} NnError;

/* Fills err (when not NULL) and returns false, so callers can write
 * `return nn_error_set (err, ...);`. */
bool nn_error_set (NnError    *err,
                   NnErrorCode code,
                   const char *format,
                   ...) __attribute__ ((format (printf, 3, 4)));

/* Prepends "prefix: " to an already set message (adds context such as a file name). */
void nn_error_prefix (NnError    *err,
                      const char *format,
                      ...) __attribute__ ((format (printf, 2, 3)));

void nn_error_clear (NnError *err);

/* nn-dicom.cc includes this header from C++, where the spelling differs. */
#ifdef __cplusplus
#define NN_NORETURN [[noreturn]]
#else
#define NN_NORETURN _Noreturn
#endif

NN_NORETURN void nn_assert_fail (const char *expr,
                               const char *file,
                               int         line);

#define NN_ASSERT(cond) \
  do { if (!(cond)) nn_assert_fail (#cond, __FILE__, __LINE__); } while (0)
