/* SPDX-License-Identifier: MIT */
/* What the figure captions share, so that every front end writes the same words: file names
 * without their folders, and text appended to a fixed buffer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The file name of path without its folders into buf (size bytes, truncated to fit), and
 * without its extension when keep_extension is false ("a/b.safetensors" -> "b"). Returns buf. */
const char *viz_caption_file_name (char       *buf,
                                   size_t      size,
                                   const char *path,
                                   bool        keep_extension);
/* Appends printf-style text to the string in buf (size bytes), truncating to fit. */
void        viz_caption_append (char       *buf,
                                size_t      size,
                                const char *format,
                                ...) __attribute__ ((format (printf, 3, 4)));
