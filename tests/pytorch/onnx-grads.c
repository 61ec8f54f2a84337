/* SPDX-License-Identifier: MIT */
/* Test helper for tests/pytorch/onnx-compare.py: loads a model (an .onnx file goes through the
 * importer), runs a batch (raw float32 file, B x C x H x W) in eval mode, seeds the backward
 * pass with the logit of the given class of each sample, and writes raw little-endian float32
 * files to OUT: logits.bin (B, classes), input_grad.bin (B, C, H, W) and cam.bin, the engine's
 * Grad-CAM (nn_cam_compute) of layer LAYER at the layer's resolution, after its ReLU (B, H', W';
 * a token layer's patch grid, B, g, g), rollout.bin, the attention rollout (nn_rollout_compute,
 * B, g, g) when the model has attention, with attn_grad.bin and attn_grad_block1.bin, its
 * gradient-weighted attention for each sample's class (nn_attn_grad_compute over all blocks,
 * then the first block alone, B, g, g), logits_infer.bin, the logits of a context without
 * gradients (batch norms folded), layers.txt, the names of the graph's nodes one a line, and
 * default.txt, the name of the CAMs' default layer (nn_explain_default_layer). Prints the
 * layer's shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper-io.h"

static int
write_names (const char    *dir,
             const NnGraph *graph)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/layers.txt", dir);
  FILE *f = fopen (path, "w");
  if (f == NULL)
    {
      fprintf (stderr, "onnx-grads: cannot write %s\n", path);
      return 1;
    }
  for (int i = 0; i < graph->n_nodes; i++)
    fprintf (f, "%s\n", graph->nodes[i].name);
  if (fclose (f) != 0)
    {
      fprintf (stderr, "onnx-grads: cannot write %s\n", path);
      return 1;
    }
  const int def = nn_explain_default_layer (graph);
  snprintf (path, sizeof path, "%s/default.txt", dir);
  f = fopen (path, "w");
  if (f == NULL || fprintf (f, "%s\n", def >= 0 ? graph->nodes[def].name : "") < 0
      || fclose (f) != 0)
    {
      fprintf (stderr, "onnx-grads: cannot write %s\n", path);
      return 1;
    }
  return 0;
}

int
main (int    argc,
      char **argv)
{
  if (argc < 6)
    {
      fprintf (stderr, "usage: onnx-grads MODEL INPUT.bin LAYER OUTDIR CLASS...\n");
      return 2;
    }
  NnModel *model = helper_load_model ("onnx-grads", argv[1]);
  if (model == NULL)
    return 1;
  NnGraph *graph = model->graph;
  const int batch = argc - 5;
  const int layer = nn_graph_find (graph, argv[3]);
  if (layer < 0)
    {
      fprintf (stderr, "onnx-grads: no layer '%s'\n", argv[3]);
      return 1;
    }
  NnContext *ctx = helper_context_new ("onnx-grads", graph, batch, NN_CONTEXT_BACKWARD);
  if (ctx == NULL)
    return 1;
  const size_t in_size = nn_shape_size (graph->nodes[0].shape) * (size_t) batch;
  if (!helper_read_raw ("onnx-grads", argv[2], nn_context_input (ctx), in_size))
    return 1;

  const int out = nn_graph_output (graph);
  const int classes = (int) nn_shape_size (graph->nodes[out].shape);
  nn_context_forward (ctx, -1);
  float *seed = nn_context_grad (ctx, out);
  memset (seed, 0, sizeof (float) * (size_t) batch * (size_t) classes);
  for (int b = 0; b < batch; b++)
    {
      int k = atoi (argv[5 + b]);
      if (k < 0 || k >= classes)
        {
          fprintf (stderr, "onnx-grads: class %d out of range\n", k);
          return 1;
        }
      seed[(size_t) b * classes + k] = 1.0f;
    }
  nn_context_backward (ctx, out, NN_BACKWARD_INPUT, -1);

  /* The engine's Grad-CAM of each sample at the layer (a token layer through its patch grid),
   * at the layer's resolution, on a context of its own. */
  NnContext *cam_ctx = helper_context_new ("onnx-grads", graph, 1, NN_CONTEXT_BACKWARD);
  if (cam_ctx == NULL)
    return 1;
  float *cam = NULL;
  size_t hw = 0;
  const size_t sample_size = nn_shape_size (graph->nodes[0].shape);
  for (int b = 0; b < batch; b++)
    {
      NnCamSpec spec;
      nn_cam_spec_init (&spec);
      spec.layer = layer;
      spec.target = atoi (argv[5 + b]);
      NnError err = { 0 };
      NnMap *m = nn_cam_compute (cam_ctx, nn_context_input (ctx) + (size_t) b * sample_size,
                                 &spec, NULL, &err);
      if (m == NULL)
        {
          fprintf (stderr, "onnx-grads: grad-cam: %s\n", err.message);
          return 1;
        }
      hw = (size_t) m->lh * (size_t) m->lw;
      if (cam == NULL)
        cam = calloc ((size_t) batch * hw, sizeof (float));
      if (cam == NULL)
        {
          fprintf (stderr, "onnx-grads: out of memory\n");
          return 1;
        }
      for (size_t i = 0; i < hw; i++)
        cam[(size_t) b * hw + i] = m->layer_map[i] > 0.0f ? m->layer_map[i] : 0.0f;
      nn_map_free (m);
    }
  /* The attention rollout and gradient-weighted attention of each sample when the model has
   * attention (rollout.bin, attn_grad.bin, attn_grad_block1.bin: B, g, g). */
  if (nn_rollout_attention_nodes (graph, NULL, 0) > 0)
    {
      static const char *const files[2] = { "attn_grad.bin", "attn_grad_block1.bin" };
      for (int block = 0; block < 2; block++)
        {
          float *maps = NULL;
          size_t ghw = 0;
          for (int b = 0; b < batch; b++)
            {
              NnError err = { 0 };
              NnMap *m = nn_attn_grad_compute (cam_ctx, nn_context_input (ctx)
                                               + (size_t) b * sample_size,
                                               atoi (argv[5 + b]), block, &err);
              if (m == NULL)
                {
                  fprintf (stderr, "onnx-grads: attn-grad: %s\n", err.message);
                  return 1;
                }
              ghw = (size_t) m->lh * (size_t) m->lw;
              if (maps == NULL)
                maps = calloc ((size_t) batch * ghw, sizeof (float));
              if (maps == NULL)
                {
                  fprintf (stderr, "onnx-grads: out of memory\n");
                  return 1;
                }
              memcpy (maps + (size_t) b * ghw, m->layer_map, sizeof (float) * ghw);
              nn_map_free (m);
            }
          int wrc = helper_write_raw ("onnx-grads", argv[4], files[block], maps,
                                      (size_t) batch * ghw);
          free (maps);
          if (wrc != 0)
            return 1;
        }
      float *roll = NULL;
      size_t ghw = 0;
      for (int b = 0; b < batch; b++)
        {
          NnError err = { 0 };
          NnMap *m = nn_rollout_compute (cam_ctx, nn_context_input (ctx)
                                         + (size_t) b * sample_size, &err);
          if (m == NULL)
            {
              fprintf (stderr, "onnx-grads: rollout: %s\n", err.message);
              return 1;
            }
          ghw = (size_t) m->lh * (size_t) m->lw;
          if (roll == NULL)
            roll = calloc ((size_t) batch * ghw, sizeof (float));
          if (roll == NULL)
            {
              fprintf (stderr, "onnx-grads: out of memory\n");
              return 1;
            }
          memcpy (roll + (size_t) b * ghw, m->layer_map, sizeof (float) * ghw);
          nn_map_free (m);
        }
      int wrc = helper_write_raw ("onnx-grads", argv[4], "rollout.bin", roll,
                                  (size_t) batch * ghw);
      free (roll);
      if (wrc != 0)
        return 1;
    }
  nn_context_free (cam_ctx);
  const NnShape s = graph->nodes[layer].shape;
  int rc = helper_write_raw ("onnx-grads", argv[4], "logits.bin", nn_context_output (ctx, out),
                             (size_t) batch * (size_t) classes);
  rc |= helper_write_raw ("onnx-grads", argv[4], "input_grad.bin", nn_context_grad (ctx, 0),
                          in_size);
  rc |= helper_write_raw ("onnx-grads", argv[4], "cam.bin", cam, (size_t) batch * hw);
  rc |= write_names (argv[4], graph);
  NnContext *infer = helper_context_new ("onnx-grads", graph, batch, 0);
  if (infer == NULL)
    return 1;
  memcpy (nn_context_input (infer), nn_context_input (ctx), sizeof (float) * in_size);
  nn_context_forward (infer, -1);
  rc |= helper_write_raw ("onnx-grads", argv[4], "logits_infer.bin",
                          nn_context_output (infer, out), (size_t) batch * (size_t) classes);
  nn_context_free (infer);
  printf ("%d %d %d %d\n", classes, s.c, s.h, s.w);
  free (cam);
  nn_context_free (ctx);
  nn_model_free (model);
  return rc;
}
