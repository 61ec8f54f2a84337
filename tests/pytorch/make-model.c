/* SPDX-License-Identifier: MIT */
/* Test and benchmark helper: builds a built-in architecture with seeded random weights (and
 * random batch-norm statistics, so eval mode is not the identity) and saves it. */
#include <stdio.h>
#include <stdlib.h>

#include "nn.h"

int
main (int    argc,
      char **argv)
{
  if (argc < 8)
    {
      fprintf (stderr, "usage: make-model ARCH C H W CLASSES WIDTH OUT [SEED]\n");
      return 2;
    }
  NnArchSpec spec = {
    .name = argv[1],
    .in_c = atoi (argv[2]),
    .in_h = atoi (argv[3]),
    .in_w = atoi (argv[4]),
    .n_classes = atoi (argv[5]),
    .width = (float) atof (argv[6]),
    .bank = NN_PFM_BANK_FULL,
    .seed = argc > 8 ? strtoull (argv[8], NULL, 10) : 1,
  };
  NnError err = { 0 };
  NnGraph *graph = nn_arch_build (&spec, &err);
  if (graph == NULL)
    {
      fprintf (stderr, "make-model: %s\n", err.message);
      return 1;
    }
  NnRng rng;
  nn_rng_init (&rng, spec.seed + 1000);
  for (int i = 0; i < graph->n_params; i++)
    {
      NnParam *p = &graph->params[i];
      float *data = graph->data + p->offset;
      for (size_t j = 0; j < p->count; j++)
        {
          if (p->role == NN_PARAM_RUNNING_MEAN || p->role == NN_PARAM_BIAS)
            data[j] = 0.1f * nn_rng_normal (&rng);
          else if (p->role == NN_PARAM_RUNNING_VAR)
            data[j] = 0.5f + nn_rng_uniform (&rng);
          else if (p->role == NN_PARAM_WEIGHT && graph->nodes[p->node].op != NN_OP_CONV2D
                   && graph->nodes[p->node].op != NN_OP_LINEAR)
            data[j] = 0.75f + 0.5f * nn_rng_uniform (&rng);
        }
    }
  NnModel *model = nn_model_new (graph, spec.name);
  bool ok = nn_model_save (model, argv[7], &err);
  nn_model_free (model);
  if (!ok)
    {
      fprintf (stderr, "make-model: %s\n", err.message);
      return 1;
    }
  return 0;
}
