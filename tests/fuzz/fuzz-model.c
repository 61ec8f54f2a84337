/* SPDX-License-Identifier: MIT */
/* Fuzzes the model loader: a .safetensors file with the graph as JSON in __metadata__ (header,
 * tensor index, graph nodes, parameters, labels, normalization, CT window), through
 * nn_model_load on a scratch file; a model that loads is preprocessed into and run once. */
#include <stdlib.h>

#include "fuzz-util.h"

/* Inputs of at most this many values per sample are preprocessed. */
#define PREPROCESS_MAX ((size_t) 1 << 16)

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  char path[4200];
  fuzz_path (path, sizeof path, "model.safetensors");
  fuzz_write (path, data, size);

  NnError err = { 0 };
  NnModel *model = nn_model_load (path, &err);
  if (model == NULL)
    {
      fuzz_check_error (&err, "nn_model_load");
      return 0;
    }
  size_t n = (size_t) nn_model_input_channels (model) * nn_model_input_height (model)
             * nn_model_input_width (model);
  NnImage *image = nn_image_new (1, 5, 7);
  float *out = n <= PREPROCESS_MAX ? malloc (n * sizeof *out) : NULL;
  if (image != NULL && out != NULL)
    {
      image->hu = model->has_window;
      nn_model_preprocess (model, image, out);
    }
  free (out);
  nn_image_free (image);
  fuzz_forward (model);
  nn_model_free (model);
  return 0;
}
