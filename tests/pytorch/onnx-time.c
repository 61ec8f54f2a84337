/* SPDX-License-Identifier: MIT */
/* Timing helper for bench/onnx-families.py: loads MODEL LOADS times and runs the forward pass
 * of one sample (raw float32 file INPUT.bin, C x H x W) REPEAT times after a warm-up, with
 * THREADS OpenBLAS threads, and prints the medians as one JSON line:
 * {"load_ms": L, "forward_ms": F}. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "helper-io.h"

static double
now_ms (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median (double *v,
        int     n)
{
  qsort (v, (size_t) n, sizeof *v, compare_doubles);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int
main (int    argc,
      char **argv)
{
  if (argc != 6)
    {
      fprintf (stderr, "usage: onnx-time MODEL INPUT.bin LOADS REPEAT THREADS\n");
      return 2;
    }
  const int loads = atoi (argv[3]), repeat = atoi (argv[4]), threads = atoi (argv[5]);
  if (loads < 1 || repeat < 1 || threads < 1)
    {
      fprintf (stderr, "onnx-time: LOADS, REPEAT and THREADS must be positive\n");
      return 2;
    }
  nn_blas_set_threads (threads);
  double *times = malloc (sizeof (double) * (size_t) (loads > repeat ? loads : repeat));
  NnModel *model = NULL;
  for (int k = 0; k < loads; k++)
    {
      nn_model_free (model);
      double t = now_ms ();
      model = helper_load_model ("onnx-time", argv[1]);
      times[k] = now_ms () - t;
      if (model == NULL)
        return 1;
    }
  const double load_ms = median (times, loads);
  NnGraph *graph = model->graph;
  NnContext *ctx = helper_context_new ("onnx-time", graph, 1, 0);
  if (ctx == NULL)
    return 1;
  if (!helper_read_raw ("onnx-time", argv[2], nn_context_input (ctx),
                        nn_shape_size (graph->nodes[0].shape)))
    return 1;
  nn_context_forward (ctx, -1);
  for (int k = 0; k < repeat; k++)
    {
      double t = now_ms ();
      nn_context_forward (ctx, -1);
      times[k] = now_ms () - t;
    }
  printf ("{\"load_ms\": %.3f, \"forward_ms\": %.3f}\n", load_ms, median (times, repeat));
  nn_context_free (ctx);
  nn_model_free (model);
  free (times);
  return 0;
}
