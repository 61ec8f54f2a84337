/* SPDX-License-Identifier: MIT */
/* Opening the files a user names, safely: regular files only (a FIFO, device, socket or folder
 * is refused without blocking), and files named by a file (ONNX external data) only inside a
 * given folder, without following symbolic links. Every reader in nn/ opens through here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/nn-error.h"

/* Opens path for reading (close-on-exec, blocking reads) when it is a regular file; *size (may
 * be NULL) gets its size. -1 with err "<path>: <reason>" otherwise, e.g. "x.png: not a regular
 * file (a FIFO)". The open itself never blocks. */
int            nn_file_open_regular (const char *path,
                                     uint64_t   *size,
                                     NnError    *err);

/* Opens name, a relative path, inside the folder open as dir_fd: no component may be "..",
 * empty or a symbolic link, and name may not be absolute; the file must be regular. -1 with err
 * "<name>: <reason>" otherwise. */
int            nn_file_open_beneath (int         dir_fd,
                                     const char *name,
                                     uint64_t   *size,
                                     NnError    *err);

/* Reads exactly size bytes at offset of fd into buf (retrying short reads and EINTR). False
 * with err "<path>: <reason>" on an error or a file that ends early. */
bool           nn_file_read_at (int         fd,
                                const char *path,
                                void       *buf,
                                size_t      size,
                                uint64_t    offset,
                                NnError    *err);

/* The whole regular file path in a new buffer (free), *size its length; a file larger than
 * max bytes is refused with "<path>: file of N bytes is too large for <what>". The buffer has
 * one extra NUL byte after the contents. */
unsigned char *nn_file_load (const char *path,
                             size_t      max,
                             const char *what,
                             size_t     *size,
                             NnError    *err);
