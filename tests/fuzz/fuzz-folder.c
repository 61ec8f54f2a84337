/* SPDX-License-Identifier: MIT */
/* Fuzzes loading an image folder as a dataset (nn_dataset_open: class folders, train/ and
 * test/ splits, which names are samples, PNG and JPEG decoding, conversion and fitting to the
 * first image's or a given size) on a small tree written from the input:
 *   byte 0: bits 0-2 pick the size asked for (sizes[]), bit 3 the train or test split;
 *   then up to MAX_ENTRIES entries of u8 folder, u8 name, u16 LE n, n bytes: folders[] and
 *   names[] pick where; bits 4-5 of the name byte make the entry a file (0, 1), a folder (2)
 *   or a FIFO (3) of that name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz-util.h"

#define MAX_ENTRIES 12

static const char *const folders[] = {
  "a", "b", "c", "train/a", "train/b", "test/a", "test/b", ".hidden",
};
static const char *const names[] = {
  "0.png", "1.png", "2.jpg", "3.jpeg", "4.PNG", "5.mask.png", "6.lung.png", "7.txt", ".8.png",
  "9.png",
};
static const struct
{
  int c, h, w;
} sizes[] = {
  { 0, 0, 0 }, { 1, 28, 28 }, { 3, 16, 16 }, { 3, 0, 0 }, { 1, 1, 1 }, { 0, 0, 0 },
  { 1, 28, 28 }, { 3, 9, 40 },
};

/* Makes every folder of path (a file's path, under root) that is missing. */
static void
make_parents (char *path,
              size_t root_len)
{
  for (char *p = path + root_len + 1; *p != '\0'; p++)
    if (*p == '/')
      {
        *p = '\0';
        if (mkdir (path, 0755) != 0 && errno != EEXIST)
          {
            fprintf (stderr, "fuzz-folder: cannot make %s: %s\n", path, strerror (errno));
            abort ();
          }
        *p = '/';
      }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  if (size < 1)
    return -1;
  char root[4200];
  fuzz_path (root, sizeof root, "root");
  fuzz_remove_tree (root);
  if (mkdir (root, 0755) != 0)
    {
      fprintf (stderr, "fuzz-folder: cannot make %s: %s\n", root, strerror (errno));
      abort ();
    }
  size_t root_len = strlen (root);
  int pick = data[0] & 7;
  bool train = (data[0] & 8) != 0;

  size_t pos = 1;
  for (int e = 0; e < MAX_ENTRIES && size - pos >= 4; e++)
    {
      const char *folder = folders[data[pos] % (sizeof folders / sizeof folders[0])];
      const char *name = names[(data[pos + 1] & 15) % (sizeof names / sizeof names[0])];
      int kind = (data[pos + 1] >> 4) & 3;
      size_t n = (size_t) data[pos + 2] | (size_t) data[pos + 3] << 8;
      pos += 4;
      if (n > size - pos)
        n = size - pos;
      char path[4400];
      snprintf (path, sizeof path, "%s/%s/%s", root, folder, name);
      make_parents (path, root_len);
      struct stat st;
      if (lstat (path, &st) == 0)
        fuzz_remove_tree (path);
      if (kind == 2)
        mkdir (path, 0755);
      else if (kind == 3)
        mkfifo (path, 0644);
      else
        fuzz_write (path, data + pos, n);
      pos += n;
    }

  NnError err = { 0 };
  NnDataset *ds = nn_dataset_open (root, train, sizes[pick].c, sizes[pick].h, sizes[pick].w,
                                   &err);
  if (ds == NULL)
    {
      fuzz_check_error (&err, "nn_dataset_open");
      return 0;
    }
  if (ds->n < 1 || (ds->c != 1 && ds->c != 3) || ds->h < 1 || ds->w < 1
      || (sizes[pick].c > 0 && ds->c != sizes[pick].c)
      || (sizes[pick].h > 0 && (ds->h != sizes[pick].h || ds->w != sizes[pick].w)))
    abort ();
  for (int i = 0; i < ds->n; i++)
    if (ds->labels[i] < 0 || ds->labels[i] >= ds->n_classes)
      abort ();
  nn_dataset_free (ds);
  return 0;
}
