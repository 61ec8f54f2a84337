/* SPDX-License-Identifier: MIT */
/* Bench helper for bench/compare-explain.py: times one explanation method (the map alone,
 * through nn_explain_run, as the CLI and the application run it), or the deletion curve of a
 * random map (METHOD "deletion", SAMPLES steps), on a model and a seeded random input, and
 * prints the median, minimum and maximum in ms, the batch it ran at and the peak RSS as one
 * JSON object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "helper-io.h"

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return 1e3 * (double) ts.tv_sec + 1e-6 * (double) ts.tv_nsec;
}

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int
main (int    argc,
      char **argv)
{
  if (argc != 7)
    {
      fprintf (stderr, "usage: explain-time MODEL METHOD|deletion SAMPLES THREADS BATCH REPEAT\n"
               "(SAMPLES: SmoothGrad's copies, IG's steps, deletion's steps; BATCH 0: chosen)\n");
      return 2;
    }
  NnModel *model = helper_load_model ("explain-time", argv[1]);
  if (model == NULL)
    return 1;
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  const bool deletion = strcmp (argv[2], "deletion") == 0;
  if (!deletion && !nn_method_from_name (argv[2], &spec.map.method))
    {
      fprintf (stderr, "explain-time: unknown method '%s'\n", argv[2]);
      return 2;
    }
  spec.map.samples = atoi (argv[3]);
  spec.threads = atoi (argv[4]);
  spec.batch = atoi (argv[5]);
  spec.faith.metrics = 0;
  const int repeat = atoi (argv[6]);
  if (repeat < 1 || spec.map.samples < 0 || spec.batch < 0)
    {
      fprintf (stderr, "explain-time: bad SAMPLES, BATCH or REPEAT\n");
      return 2;
    }
  nn_blas_set_threads (spec.threads > 0 ? spec.threads : nn_blas_get_threads ());

  const NnShape in = model->graph->nodes[0].shape;
  const size_t n = nn_shape_size (in);
  float *x = malloc (sizeof (float) * n);
  double *times = malloc (sizeof (double) * (size_t) repeat);
  if (x == NULL || times == NULL)
    {
      fprintf (stderr, "explain-time: out of memory\n");
      return 1;
    }
  NnRng rng;
  nn_rng_init (&rng, 5);
  for (size_t i = 0; i < n; i++)
    x[i] = nn_rng_normal (&rng);
  NnInput input = { .path = "random", .image_h = in.h, .image_w = in.w, .c = in.c, .h = in.h,
                    .w = in.w, .tensor = x };

  int batch = spec.batch;
  NnContext *ctx = NULL;
  float *map = NULL;
  if (deletion)
    {
      if (batch == 0)
        batch = nn_explain_batch_size (model->graph, 0, spec.threads, spec.map.samples + 1);
      ctx = helper_context_new ("explain-time", model->graph, batch, 0);
      map = malloc (sizeof (float) * (size_t) in.h * (size_t) in.w);
      NnError err = { 0 };
      if (ctx == NULL || map == NULL || !nn_context_set_threads (ctx, spec.threads, &err))
        {
          fprintf (stderr, "explain-time: %s\n", map == NULL ? "out of memory" : err.message);
          return 1;
        }
      for (int p = 0; p < in.h * in.w; p++)
        map[p] = nn_rng_normal (&rng);
    }
  else if (batch == 0 && nn_method_has_flags (spec.map.method, NN_METHOD_FLAG_BATCHED))
    batch = nn_explain_batch_size (model->graph,
                                   nn_method_has_flags (spec.map.method,
                                                        NN_METHOD_FLAG_GRADIENTS)
                                   ? NN_CONTEXT_BACKWARD : 0, spec.threads,
                                   spec.map.method == NN_METHOD_SCORECAM ? 0
                                                                         : spec.map.samples);
  for (int r = -1; r < repeat; r++)
    {
      NnError err = { 0 };
      NnCurve curve;
      double t0 = now_ms ();
      NnExplanation *e = deletion ? NULL : nn_explain_run (model, &input, &spec, NULL, &err);
      bool ok = deletion ? nn_faith_curve (ctx, x, map, 0, NN_CURVE_DELETION, spec.map.samples,
                                           0.0f, &curve, NULL, &err)
                         : e != NULL;
      double t = now_ms () - t0;
      if (!ok)
        {
          fprintf (stderr, "explain-time: %s\n", err.message);
          return 1;
        }
      nn_explanation_free (e);
      if (r >= 0)  /* r = -1: the warm-up run */
        times[r] = t;
    }
  qsort (times, (size_t) repeat, sizeof (double), compare_double);
  double median = repeat % 2 ? times[repeat / 2]
                             : 0.5 * (times[repeat / 2 - 1] + times[repeat / 2]);
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  printf ("{\"median_ms\": %.3f, \"min_ms\": %.3f, \"max_ms\": %.3f, \"batch\": %d, "
          "\"peak_rss_mb\": %.1f}\n", median, times[0], times[repeat - 1], batch,
          (double) ru.ru_maxrss / 1024.0);
  free (times);
  free (x);
  free (map);
  nn_context_free (ctx);
  nn_model_free (model);
  return 0;
}
