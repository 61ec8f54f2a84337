/* SPDX-License-Identifier: MIT */
/* A fixed team of threads that run one function together and wait for each other: how a
 * context spreads the samples of a batch over the cores. The calling thread is member 0. */
#pragma once

#include <stdbool.h>

typedef struct NnWorkers NnWorkers;

/* fn (data, index, n) runs once for every index in [0, n). */
typedef void (*NnWorkFunc) (void *data,
                            int   index,
                            int   n);

/* n threads in all (n - 1 are started); NULL when a thread cannot be created. */
NnWorkers *nn_workers_new (int n);
void       nn_workers_free (NnWorkers *workers);
/* Runs fn on every member and returns when all are done. Not reentrant. */
void       nn_workers_run (NnWorkers  *workers,
                           NnWorkFunc  fn,
                           void       *data);
