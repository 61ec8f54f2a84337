/* SPDX-License-Identifier: MIT */
/* OpenBLAS thread control and the kernel set it runs. */
#include "core/nn-blas.h"

#include <cblas.h>
#include <unistd.h>

void
nn_blas_set_threads (int n)
{
  if (n <= 0)
    n = (int) sysconf (_SC_NPROCESSORS_ONLN);
  if (n <= 0)
    n = 1;
  openblas_set_num_threads (n);
}

int
nn_blas_get_threads (void)
{
  return openblas_get_num_threads ();
}

const char *
nn_blas_core_name (void)
{
  const char *name = openblas_get_corename ();
  return name != NULL ? name : "unknown";
}
