/* SPDX-License-Identifier: MIT */
/* Fuzzes opening an input file for a model (nn_input_load: a PNG, JPEG or 16-bit CT slice
 * recognised by content, or a .npy array recognised by name, checked against the model's
 * input shape, then preprocessed, windowed and rendered) on a scratch file. Byte 0 picks the
 * name (bit 0: .npy or .png), the model (bits 1-2: none, gray 28 x 28, a CT model with a
 * window, RGB 20 x 24) and whether a window is given (bit 3); the file is the rest. DICOM
 * content would start the decoder helper; fuzz-dicom-decode covers it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"

static NnModel *models[4];

static NnModel *
small_model (int  c,
             int  h,
             int  w,
             bool ct)
{
  NnArchSpec spec = {
    .name = "smallcnn", .in_c = c, .in_h = h, .in_w = w, .n_classes = 3, .width = 0.25f,
    .seed = 1,
  };
  NnError err = { 0 };
  NnGraph *graph = nn_arch_build (&spec, &err);
  NnModel *model = graph != NULL ? nn_model_new (graph, "smallcnn") : NULL;
  if (model == NULL)
    {
      fprintf (stderr, "fuzz-input: cannot build a model: %s\n", err.message);
      abort ();
    }
  for (int k = 0; k < c; k++)
    {
      model->mean[k] = 0.25f * (float) k;
      model->std[k] = 0.5f;
    }
  model->has_window = ct;
  model->window = (NnCtWindow) { 400.0f, 40.0f };
  return model;
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  (void) argc;
  (void) argv;
  models[1] = small_model (1, 28, 28, false);
  models[2] = small_model (1, 32, 32, true);
  models[3] = small_model (3, 20, 24, false);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  if (size < 1 || (size >= 133 && memcmp (data + 129, "DICM", 4) == 0))
    return -1;
  bool npy = data[0] & 1;
  const NnModel *model = models[(data[0] >> 1) & 3];
  const NnModel *other = models[((data[0] >> 1) + 1) & 3];
  NnCtWindow given = NN_CT_WINDOW_BONE;
  const NnCtWindow *window = data[0] & 8 ? &given : NULL;
  char path[4200];
  fuzz_path (path, sizeof path, npy ? "input.npy" : "input.png");
  fuzz_write (path, data + 1, size - 1);

  NnError err = { 0 };
  NnInput *input = nn_input_load (path, model, window, &err);
  if (input == NULL)
    {
      fuzz_check_error (&err, "nn_input_load");
      return 0;
    }
  err = (NnError) { 0 };
  NnInput *rebuilt = nn_input_rebuild (input, other, &err);
  if (rebuilt == NULL)
    fuzz_check_error (&err, "nn_input_rebuild");
  const NnInput *shown[2] = { input, rebuilt };
  for (int i = 0; i < 2; i++)
    if (shown[i] != NULL && (shown[i]->hu != NULL || shown[i]->display != NULL))
      {
        float *out = malloc ((size_t) shown[i]->c * shown[i]->h * shown[i]->w * sizeof *out);
        if (out != NULL)
          nn_input_render (shown[i], &given, out);
        free (out);
      }
  nn_input_unref (rebuilt);
  nn_input_unref (input);
  return 0;
}
