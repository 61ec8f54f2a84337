/* SPDX-License-Identifier: MIT */
/* Saving a file atomically: the contents go to a temporary file beside the target, which is
 * synced and renamed over it only once all of it is written, so a failed save leaves the
 * previous file (or none) and no temporary file behind. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "core/nn-error.h"

typedef struct
{
  FILE       *fp;    /* the contents go here */
  char       *tmp;   /* "<path>.tmp-XXXXXX" */
  const char *path;  /* the target, borrowed until nn_atomic_file_finish () */
} NnAtomicFile;

/* Creates the temporary file for path, with mode 0644 like any other document (mkstemp makes
 * it 0600). False, with err set and nothing left behind, when it cannot be created. */
bool nn_atomic_file_open (NnAtomicFile *file,
                          const char   *path,
                          NnError      *err);

/* Ends the save. When ok: flushes, fsyncs and closes the file, renames it over the target and
 * syncs the folder, so that the rename survives a crash; if one of these steps fails, err reads
 * "<path>: cannot write: <reason>". When !ok (the caller has set err; it is left as it is) or
 * when a step failed, removes the temporary file. True when the target holds the contents. */
bool nn_atomic_file_finish (NnAtomicFile *file,
                            bool          ok,
                            NnError      *err);
