/* SPDX-License-Identifier: MIT */
/* Test helper for the PyTorch comparison: runs a model on a batch (raw float32 file), takes
 * the mean cross-entropy against the given labels and writes, as raw little-endian float32
 * files in OUT: logits.bin (B, classes), input_grad.bin (B, C, H, W) and one
 * <param name>.grad.bin per trainable parameter. MODE is train (batch statistics) or eval. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper-io.h"

int
main (int    argc,
      char **argv)
{
  if (argc < 6)
    {
      fprintf (stderr, "usage: torch-grads MODEL INPUT.bin train|eval OUTDIR LABEL...\n");
      return 2;
    }
  NnModel *model = helper_load_model ("torch-grads", argv[1]);
  if (model == NULL)
    return 1;
  NnGraph *graph = model->graph;
  int batch = argc - 5;
  NnContext *ctx = helper_context_new ("torch-grads", graph, batch,
                                       NN_CONTEXT_BACKWARD | NN_CONTEXT_PARAM_GRADS);
  if (ctx == NULL)
    return 1;
  size_t in_size = nn_shape_size (graph->nodes[0].shape) * (size_t) batch;
  if (!helper_read_raw ("torch-grads", argv[2], nn_context_input (ctx), in_size))
    return 1;
  int *labels = calloc ((size_t) batch, sizeof (int));
  for (int b = 0; b < batch; b++)
    labels[b] = atoi (argv[5 + b]);

  int out = nn_graph_output (graph);
  int classes = (int) nn_shape_size (graph->nodes[out].shape);
  nn_context_set_training (ctx, strcmp (argv[3], "train") == 0);
  nn_context_forward (ctx, -1);
  nn_cross_entropy (nn_context_grad (ctx, out), NULL, nn_context_output (ctx, out), labels,
                    batch, classes);
  nn_context_zero_param_grads (ctx);
  nn_context_backward (ctx, out, NN_BACKWARD_PARAMS | NN_BACKWARD_INPUT, -1);

  int rc = helper_write_raw ("torch-grads", argv[4], "logits.bin", nn_context_output (ctx, out),
                      (size_t) batch * (size_t) classes);
  rc |= helper_write_raw ("torch-grads", argv[4], "input_grad.bin", nn_context_grad (ctx, 0), in_size);
  const float *grads = nn_context_param_grads (ctx);
  for (int i = 0; i < graph->n_params; i++)
    {
      const NnParam *p = &graph->params[i];
      if (!p->trainable)
        continue;
      char name[256];
      snprintf (name, sizeof name, "%s.grad.bin", p->name);
      rc |= helper_write_raw ("torch-grads", argv[4], name, grads + p->offset, p->count);
    }
  free (labels);
  nn_context_free (ctx);
  nn_model_free (model);
  return rc;
}
