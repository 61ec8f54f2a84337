/* SPDX-License-Identifier: MIT */
/* The inputs of a folder for the batch commands (cam, saliency, predict): every image, DICOM
 * slice and .npy under it, sorted, without the masks and windowed copies `synth ct` writes
 * beside its slices. */
#pragma once

#include <stdbool.h>

/* A growing list of strings. */
typedef struct
{
  char **items;
  int    n, cap;
} CliNames;

bool cli_names_add (CliNames   *names,
                    const char *name);
void cli_names_clear (CliNames *names);

/* True when path ends with ext (".png"), ignoring case. */
bool cli_has_extension (const char *path,
                        const char *ext);

/* Whether the file at path is an input of a folder run: an image, DICOM slice or .npy, but not
 * a lesion mask or windowed copy, nor a DICOM file with a PNG of the same name beside it. */
bool cli_is_folder_input (const char *path);

/* Appends every input under root/rel to list (paths relative to root; rel "" for root itself),
 * sorted, skipping hidden entries, links to folders and anything that is not a regular file.
 * False after printing the error. */
bool cli_collect_inputs (const char *root,
                         const char *rel,
                         CliNames   *list);
