/* SPDX-License-Identifier: MIT */
/* Test helper for compare-methods.py: one registry method (nn-method.h) of one input, written
 * as raw float32 layer_map.bin (lh, lw), map.bin (H, W) and, when the method gives them,
 * channels.bin (C, H, W) in OUT; prints the layer's name, the class and the map's layer
 * size. Options after OUT: patch=N stride=N samples=N noise=X seed=S batch=N
 * baseline=FILE.bin (C, H, W). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper-io.h"

int
main (int    argc,
      char **argv)
{
  if (argc < 7)
    {
      fprintf (stderr, "usage: torch-methods MODEL INPUT.bin METHOD LAYER|- CLASS OUTDIR "
               "[KEY=VALUE...]\n");
      return 2;
    }
  NnModel *model = helper_load_model ("torch-methods", argv[1]);
  if (model == NULL)
    return 1;
  NnGraph *graph = model->graph;
  size_t in_size = nn_shape_size (graph->nodes[0].shape);
  float *x = malloc (sizeof (float) * in_size);
  float *baseline = malloc (sizeof (float) * in_size);
  if (x == NULL || baseline == NULL || !helper_read_raw ("torch-methods", argv[2], x, in_size))
    return 1;
  NnMethodSpec spec;
  nn_method_spec_init (&spec);
  if (!nn_method_from_name (argv[3], &spec.method))
    {
      fprintf (stderr, "torch-methods: no method %s\n", argv[3]);
      return 2;
    }
  spec.layer = strcmp (argv[4], "-") == 0 ? -1 : nn_graph_find (graph, argv[4]);
  spec.target = atoi (argv[5]);
  int batch = 4;
  for (int i = 7; i < argc; i++)
    {
      const char *eq = strchr (argv[i], '=');
      if (eq == NULL)
        return 2;
      const char *v = eq + 1;
      if (strncmp (argv[i], "patch=", 6) == 0)
        spec.window = atoi (v);
      else if (strncmp (argv[i], "stride=", 7) == 0)
        spec.stride = atoi (v);
      else if (strncmp (argv[i], "samples=", 8) == 0)
        spec.samples = atoi (v);
      else if (strncmp (argv[i], "noise=", 6) == 0)
        spec.noise = (float) atof (v);
      else if (strncmp (argv[i], "seed=", 5) == 0)
        spec.seed = strtoull (v, NULL, 10);
      else if (strncmp (argv[i], "batch=", 6) == 0)
        batch = atoi (v);
      else if (strncmp (argv[i], "baseline=", 9) == 0)
        {
          if (!helper_read_raw ("torch-methods", v, baseline, in_size))
            return 1;
          spec.baseline = baseline;
        }
      else
        return 2;
    }
  const NnMethodInfo *info = nn_method_get_info (spec.method);
  NnContext *ctx = helper_context_new ("torch-methods", graph,
                                       (info->flags & NN_METHOD_FLAG_BATCHED) ? batch : 1,
                                       (info->flags & NN_METHOD_FLAG_GRADIENTS)
                                       ? NN_CONTEXT_BACKWARD : 0);
  if (ctx == NULL)
    return 1;
  NnError err = { 0 };
  NnMap *map = nn_method_compute (ctx, x, &spec, NULL, &err);
  if (map == NULL)
    {
      fprintf (stderr, "torch-methods: %s\n", err.message);
      return 1;
    }
  printf ("%s %d %d %d\n", graph->nodes[map->layer].name, map->target, map->lh, map->lw);
  int rc = helper_write_raw ("torch-methods", argv[6], "layer_map.bin", map->layer_map,
                             (size_t) map->lh * (size_t) map->lw);
  rc |= helper_write_raw ("torch-methods", argv[6], "map.bin", map->map,
                          (size_t) map->h * (size_t) map->w);
  if (map->channels != NULL)
    rc |= helper_write_raw ("torch-methods", argv[6], "channels.bin", map->channels,
                            (size_t) map->c * (size_t) map->h * (size_t) map->w);
  nn_map_free (map);
  free (x);
  free (baseline);
  nn_context_free (ctx);
  nn_model_free (model);
  return rc;
}
