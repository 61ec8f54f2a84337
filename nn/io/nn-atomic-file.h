/* SPDX-License-Identifier: MIT */
/* Saving a file atomically: the contents go to a temporary file beside the target, which is
 * synced and renamed over it only once all of it is written, so a failed save leaves the
 * previous file (or none) and no temporary file behind. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "core/nn-error.h"

struct NnAtomicSink;

typedef struct
{
  FILE                *fp;    /* the contents go here */
  char                *tmp;   /* "<folder>/.<name>.tmp", or ".tmp-XXXXXX" (see below) */
  const char          *path;  /* the target, borrowed until nn_atomic_file_finish () */
  struct NnAtomicSink *sink;  /* what is under fp: the descriptor and its first error */
} NnAtomicFile;

/* Creates the temporary file for path, with mode 0644 like any other document: <folder>/.<name>
 * .tmp, shared by the saves of path and locked by the one in progress, so that what a killed
 * save left is taken over by the next one. When another save of path holds it, a name of this
 * save's own, .<name>.tmp-XXXXXX, after removing such files that no save holds. False, with err
 * set and nothing left behind, when it cannot be created; an empty path is refused with
 * "cannot write: empty output path". */
bool nn_atomic_file_open (NnAtomicFile *file,
                          const char   *path,
                          NnError      *err);

/* The errno of the first failed write to file->fp (a full disk: ENOSPC), 0 when none failed:
 * for the caller's message when its own writes report a failure. */
int  nn_atomic_file_error (const NnAtomicFile *file);

/* Ends the save. When ok: checks that no write failed, flushes, fsyncs and closes the file,
 * renames it over the target and syncs the folder, so that the rename survives a crash; if one
 * of these steps fails, err reads "<path>: cannot write: <reason>". When !ok (the caller has
 * set err; it is left as it is) or when a step failed, removes the temporary file. True when
 * the target holds the contents. */
bool nn_atomic_file_finish (NnAtomicFile *file,
                            bool          ok,
                            NnError      *err);
