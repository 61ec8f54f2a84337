/* SPDX-License-Identifier: MIT */
/* Test helper for the PyTorch comparison: Grad-CAM at LAYER ("-": the default) for CLASS and the
 * input gradient of one input, written as raw float32 cam_layer.bin (before the ReLU), cam.bin
 * (upsampled) and input_grad.bin (C, H, W) in OUT; prints the layer's name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

static int
write_raw (const char  *dir,
           const char  *name,
           const float *data,
           size_t       n)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen (path, "wb");
  if (f == NULL || fwrite (data, sizeof (float), n, f) != n)
    {
      fprintf (stderr, "torch-cam: cannot write %s\n", path);
      if (f)
        fclose (f);
      return 1;
    }
  return fclose (f) != 0;
}

int
main (int    argc,
      char **argv)
{
  if (argc != 6)
    {
      fprintf (stderr, "usage: torch-cam MODEL INPUT.bin LAYER|- CLASS OUTDIR\n");
      return 2;
    }
  NnError err = { 0 };
  NnModel *model = nn_model_load (argv[1], &err);
  if (model == NULL)
    {
      fprintf (stderr, "torch-cam: %s\n", err.message);
      return 1;
    }
  NnGraph *graph = model->graph;
  NnContext *ctx = nn_context_new (graph, 1, NN_CONTEXT_BACKWARD, &err);
  if (ctx == NULL)
    {
      fprintf (stderr, "torch-cam: %s\n", err.message);
      return 1;
    }
  size_t in_size = nn_shape_size (graph->nodes[0].shape);
  float *x = malloc (sizeof (float) * in_size);
  FILE *f = fopen (argv[2], "rb");
  if (x == NULL || f == NULL || fread (x, sizeof (float), in_size, f) != in_size)
    {
      fprintf (stderr, "torch-cam: cannot read %zu floats from %s\n", in_size, argv[2]);
      return 1;
    }
  fclose (f);
  NnCamSpec cam;
  nn_cam_spec_init (&cam);
  cam.layer = strcmp (argv[3], "-") == 0 ? -1 : nn_graph_find (graph, argv[3]);
  cam.target = atoi (argv[4]);
  NnMap *map = nn_cam_compute (ctx, x, &cam, NULL, &err);
  NnSaliencySpec sal;
  nn_saliency_spec_init (&sal);
  sal.target = cam.target;
  NnMap *grad = map ? nn_saliency_compute (ctx, x, &sal, NULL, &err) : NULL;
  if (grad == NULL)
    {
      fprintf (stderr, "torch-cam: %s\n", err.message);
      return 1;
    }
  printf ("%s\n", graph->nodes[map->layer].name);
  int rc = write_raw (argv[5], "cam_layer.bin", map->layer_map,
                      (size_t) map->lh * (size_t) map->lw);
  rc |= write_raw (argv[5], "cam.bin", map->map, (size_t) map->h * (size_t) map->w);
  rc |= write_raw (argv[5], "input_grad.bin", grad->channels, in_size);
  nn_map_free (grad);
  nn_map_free (map);
  free (x);
  nn_context_free (ctx);
  nn_model_free (model);
  return rc;
}
