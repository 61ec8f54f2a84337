/* SPDX-License-Identifier: MIT */
/* Finding the files shipped with cnnscope (the DICOM helper, the demo data) for the running
 * program: in the build tree when it runs from there, else where it was installed. */
#pragma once

#include "core/nn-error.h"

/* The path of a shipped file or folder, to free. A program of this build tree gets build_path.
 * An installed one gets the first of <its own folder>/relative (the installation it runs from,
 * even staged with DESTDIR or moved to another prefix; skipped when relative is NULL or "") and
 * installed_path (the configured place) that access () allows with mode (R_OK, X_OK). NULL with
 * err naming the places tried when there is none, or when out of memory. */
char *nn_shipped_path (const char *build_path,
                       const char *relative,
                       const char *installed_path,
                       int         mode,
                       NnError    *err);
