/* SPDX-License-Identifier: MIT */
/* Fuzzes the ONNX importer (protobuf through protobuf-c, shapes, constant folding, op
 * translation, external data) through nn_onnx_load on a scratch file with a weights file
 * beside it, and the TensorProto reader nn_onnx_tensor_load on the same bytes; a model that
 * imports is run once. */
#include "fuzz-util.h"

/* The external data file every input may name: 4096 floats 0, 1/4096, 2/4096, ... */
#define WEIGHTS_NAME  "weights.bin"
#define WEIGHTS_COUNT 4096

static void
write_weights (void)
{
  static bool written;
  if (written)
    return;
  float w[WEIGHTS_COUNT];
  for (int i = 0; i < WEIGHTS_COUNT; i++)
    w[i] = (float) i / WEIGHTS_COUNT;
  char path[4200];
  fuzz_path (path, sizeof path, WEIGHTS_NAME);
  fuzz_write (path, w, sizeof w);
  written = true;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  write_weights ();
  char path[4200];
  fuzz_path (path, sizeof path, "model.onnx");
  fuzz_write (path, data, size);

  NnError err = { 0 };
  NnModel *model = nn_onnx_load (path, NULL, &err);
  if (model != NULL)
    {
      fuzz_forward (model);
      nn_model_free (model);
    }
  else
    fuzz_check_error (&err, "nn_onnx_load");

  NnOnnxTensor tensor = { 0 };
  err = (NnError) { 0 };
  if (nn_onnx_tensor_load (path, &tensor, &err))
    nn_onnx_tensor_clear (&tensor);
  else
    fuzz_check_error (&err, "nn_onnx_tensor_load");
  return 0;
}
