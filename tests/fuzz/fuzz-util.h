/* SPDX-License-Identifier: MIT */
/* What the libFuzzer harnesses share: a scratch folder of their own for the loaders that read
 * files, the contract every failed load must keep, and a bounded forward pass over a model. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* libFuzzer's entry points (declared for -Wmissing-prototypes): the test returns 0, or -1 for
 * an input that must not join the corpus; the optional initialization runs once, first. */
int  LLVMFuzzerTestOneInput (const uint8_t *data,
                             size_t         size);
int  LLVMFuzzerInitialize (int    *argc,
                           char ***argv);

/* "<scratch>/<name>" into buf; the harness's own scratch folder (under $TMPDIR) is made on
 * first use and removed at exit. Aborts when it cannot be made. */
void fuzz_path (char       *buf,
                size_t      size,
                const char *name);
/* Writes size bytes to path (created or truncated); aborts on failure. */
void fuzz_write (const char *path,
                 const void *data,
                 size_t      size);
/* Removes path and everything under it; symbolic links are removed, never followed. */
void fuzz_remove_tree (const char *path);

/* A loader that returned false or NULL must have said why: aborts (a finding) when err has no
 * code or an empty message. */
void fuzz_check_error (const NnError *err,
                       const char    *what);

/* Runs one forward pass of a model that loaded, on a zero input, when its activations and
 * parameters are small enough to take well under a second: a graph the loader accepted must
 * run. */
void fuzz_forward (const NnModel *model);

#ifdef __cplusplus
}
#endif
