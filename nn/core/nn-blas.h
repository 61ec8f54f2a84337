/* SPDX-License-Identifier: MIT */
/* The one place nn/ talks to OpenBLAS' global settings. */
#pragma once

/* Number of threads OpenBLAS may use (n <= 0: one per core). */
void nn_blas_set_threads (int n);
int  nn_blas_get_threads (void);
/* The name of the kernel set OpenBLAS chose for this CPU (e.g. "Haswell", "SkylakeX"). */
const char *nn_blas_core_name (void);
