/* SPDX-License-Identifier: MIT */
/* Test helper for tests/pytorch/onnx-compare.py: loads a model (an .onnx file goes through the
 * importer), runs a batch (raw float32 file, B x C x H x W) in eval mode, seeds the backward
 * pass with the logit of the given class of each sample, and writes raw little-endian float32
 * files to OUT: logits.bin (B, classes), input_grad.bin (B, C, H, W) and cam.bin, the Grad-CAM
 * map ReLU (sum_c mean_yx (dY/dA_c) A_c) of layer LAYER (B, H', W'), the layer's activation and
 * its gradient (act.bin, act_grad.bin, for token layers), logits_infer.bin, the logits of a
 * context without gradients (batch norms folded), and layers.txt, the names of the graph's
 * nodes one a line. Prints the layer's shape. */
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

  const NnShape s = graph->nodes[layer].shape;
  const size_t hw = (size_t) s.h * (size_t) s.w;
  const float *act = nn_context_output (ctx, layer);
  const float *grad = nn_context_grad (ctx, layer);
  float *cam = calloc ((size_t) batch * hw, sizeof (float));
  for (int b = 0; b < batch; b++)
    {
      float *m = cam + (size_t) b * hw;
      for (int c = 0; c < s.c; c++)
        {
          const size_t o = ((size_t) b * s.c + c) * hw;
          double w = 0.0;
          for (size_t i = 0; i < hw; i++)
            w += grad[o + i];
          w /= (double) hw;
          for (size_t i = 0; i < hw; i++)
            m[i] += (float) w * act[o + i];
        }
      for (size_t i = 0; i < hw; i++)
        m[i] = m[i] > 0.0f ? m[i] : 0.0f;
    }
  int rc = helper_write_raw ("onnx-grads", argv[4], "logits.bin", nn_context_output (ctx, out),
                      (size_t) batch * (size_t) classes);
  rc |= helper_write_raw ("onnx-grads", argv[4], "input_grad.bin", nn_context_grad (ctx, 0), in_size);
  rc |= helper_write_raw ("onnx-grads", argv[4], "cam.bin", cam, (size_t) batch * hw);
  rc |= helper_write_raw ("onnx-grads", argv[4], "act.bin", act, (size_t) batch * s.c * hw);
  rc |= helper_write_raw ("onnx-grads", argv[4], "act_grad.bin", grad, (size_t) batch * s.c * hw);
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
