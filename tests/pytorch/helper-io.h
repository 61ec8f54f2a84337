/* SPDX-License-Identifier: MIT */
/* What the PyTorch comparison helpers share: loading the model and a context, reading the
 * input batch and writing results as raw little-endian float32 files. Each prints
 * "TOOL: <reason>" on stderr when it fails. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "nn.h"

NnModel   *helper_load_model (const char *tool,
                              const char *path);
NnContext *helper_context_new (const char    *tool,
                               NnGraph       *graph,
                               int            batch,
                               unsigned       flags);
/* Reads exactly n floats from path into out. */
bool       helper_read_raw (const char *tool,
                            const char *path,
                            float      *out,
                            size_t      n);
/* Writes n floats to dir/name; returns 0 on success, 1 on failure (an exit status). */
int        helper_write_raw (const char  *tool,
                             const char  *dir,
                             const char  *name,
                             const float *data,
                             size_t       n);
