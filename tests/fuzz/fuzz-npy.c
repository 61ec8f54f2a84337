/* SPDX-License-Identifier: MIT */
/* Fuzzes the .npy reader (magic, versions 1 to 3, the header's Python dict, shape, dtype, data
 * length) through nn_npy_load_memory. */
#include "fuzz-util.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  NnError err = { 0 };
  NnNpy *npy = nn_npy_load_memory (data, size, "fuzz.npy", &err);
  if (npy == NULL)
    fuzz_check_error (&err, "nn_npy_load_memory");
  nn_npy_free (npy);
  return 0;
}
