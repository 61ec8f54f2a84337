/* SPDX-License-Identifier: MIT */
/* Fuzzes the IDX reader of Fashion-MNIST (magic numbers, dimensions, label range, plain or
 * gzip through zlib) through nn_dataset_load_idx on two scratch files. The input is
 * u16 LE n, then n bytes of the labels file, then the images file (the rest). */
#include <stdlib.h>

#include "fuzz-util.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  if (size < 2)
    return -1;
  size_t n = (size_t) data[0] | (size_t) data[1] << 8;
  if (n > size - 2)
    n = size - 2;
  char images[4200], labels[4200];
  fuzz_path (labels, sizeof labels, "labels-idx1-ubyte");
  fuzz_path (images, sizeof images, "images-idx3-ubyte");
  fuzz_write (labels, data + 2, n);
  fuzz_write (images, data + 2 + n, size - 2 - n);

  NnError err = { 0 };
  NnDataset *ds = nn_dataset_load_idx (images, labels, &err);
  if (ds == NULL)
    {
      fuzz_check_error (&err, "nn_dataset_load_idx");
      return 0;
    }
  for (int i = 0; i < ds->n; i++)
    if (ds->labels[i] < 0 || ds->labels[i] >= ds->n_classes)
      abort ();
  NnDataset *subset = nn_dataset_subset_per_class (ds, 2, 1);
  nn_dataset_free (subset);
  nn_dataset_free (ds);
  return 0;
}
