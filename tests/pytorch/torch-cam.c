/* SPDX-License-Identifier: MIT */
/* Test helper for the PyTorch comparison: Grad-CAM at LAYER ("-": the default) for CLASS and the
 * input gradient of one input, written as raw float32 cam_layer.bin (before the ReLU), cam.bin
 * (upsampled) and input_grad.bin (C, H, W) in OUT; prints the layer's name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper-io.h"

int
main (int    argc,
      char **argv)
{
  if (argc != 6)
    {
      fprintf (stderr, "usage: torch-cam MODEL INPUT.bin LAYER|- CLASS OUTDIR\n");
      return 2;
    }
  NnModel *model = helper_load_model ("torch-cam", argv[1]);
  if (model == NULL)
    return 1;
  NnGraph *graph = model->graph;
  NnContext *ctx = helper_context_new ("torch-cam", graph, 1, NN_CONTEXT_BACKWARD);
  if (ctx == NULL)
    return 1;
  size_t in_size = nn_shape_size (graph->nodes[0].shape);
  float *x = malloc (sizeof (float) * in_size);
  if (x == NULL || !helper_read_raw ("torch-cam", argv[2], x, in_size))
    return 1;
  NnError err = { 0 };
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
  int rc = helper_write_raw ("torch-cam", argv[5], "cam_layer.bin", map->layer_map,
                      (size_t) map->lh * (size_t) map->lw);
  rc |= helper_write_raw ("torch-cam", argv[5], "cam.bin", map->map, (size_t) map->h * (size_t) map->w);
  rc |= helper_write_raw ("torch-cam", argv[5], "input_grad.bin", grad->channels, in_size);
  nn_map_free (grad);
  nn_map_free (map);
  free (x);
  nn_context_free (ctx);
  nn_model_free (model);
  return rc;
}
