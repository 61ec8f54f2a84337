/* SPDX-License-Identifier: MIT */
/* The one place nn/ talks to OpenBLAS' global settings. */
#pragma once

/* Number of threads OpenBLAS may use (n <= 0: one per core). */
void nn_blas_set_threads (int n);
int  nn_blas_get_threads (void);
