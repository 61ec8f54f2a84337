/* SPDX-License-Identifier: MIT */
/* A model: a graph plus what it takes to use it (class labels, input normalization,
 * provenance). Stored as .safetensors with the graph as JSON in __metadata__
 * (docs/model-format.md). */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>

#include "io/nn-ct.h"
#include "graph/nn-graph.h"
#include "io/nn-image.h"

#define NN_MODEL_MAX_CHANNELS 4

typedef struct
{
  NnGraph *graph;
  char     arch[64];                      /* builder name, "" when unknown */
  char     arch_options[128];             /* the builder's options beyond name and sizes, e.g.
                                             "pfm_bank=edges pfm_size=8"; "" when none */
  int      n_classes;
  char   **labels;                        /* n_classes strings */
  float    mean[NN_MODEL_MAX_CHANNELS];   /* input = (pixel in [0,1] - mean) / std */
  float    std[NN_MODEL_MAX_CHANNELS];
  bool       has_window;                  /* a CT model: HU input goes through window first */
  NnCtWindow window;                      /* pixel in [0, 1] = window (HU) */
  char     dataset[256];                  /* what it was trained on, free text */
  char     command[1024];                 /* the command that trained it */
  double   test_accuracy;                 /* < 0 when unknown */
} NnModel;

/* Takes ownership of graph. Labels default to "0" .. "n-1", mean 0, std 1. NULL when out of
 * memory (graph is then not taken). */
NnModel *nn_model_new (NnGraph    *graph,
                       const char *arch);
void     nn_model_free (NnModel *model);
/* A deep copy (graph, labels and every setting); NULL when out of memory. */
NnModel *nn_model_dup (const NnModel *model);
/* False when out of memory (the label is then unchanged). */
bool     nn_model_set_label (NnModel    *model,
                             int         k,
                             const char *label);
int      nn_model_input_channels (const NnModel *model);
int      nn_model_input_height (const NnModel *model);
int      nn_model_input_width (const NnModel *model);

/* Atomic save: temporary file in the same folder, fsync, rename. */
bool     nn_model_save (const NnModel *model,
                        const char    *path,
                        NnError       *err);
/* Loads a .safetensors model or imports an ONNX one (recognised by content, whatever the
 * name); every size and offset is checked. */
NnModel *nn_model_load (const char *path,
                        NnError    *err);

/* Called on the loading thread while a model loads: the fraction of its bytes read so far,
 * rising from 0 to 1. */
typedef void (*NnLoadProgress) (double  fraction,
                                void   *user_data);

/* How a worker thread drives a long load. Every field may be NULL. */
typedef struct
{
  const atomic_int *cancel;     /* polled between tensors; non-zero stops the load, which then
                                   fails with NN_ERROR_CANCELLED */
  NnLoadProgress    progress;
  void             *user_data;
} NnLoadControl;

/* nn_model_load, reporting progress and polling the cancel flag of control (may be NULL). */
NnModel *nn_model_load_with (const char          *path,
                             const NnLoadControl *control,
                             NnError             *err);

/* Converts an image to the model's channels and size and normalizes it into
 * out (C, H, W). An HU image (image->hu) first goes through the model's window, or, for a model
 * without one, becomes (HU + 1024) / 65535 as a 16-bit PNG would read. False when out of
 * memory. */
bool     nn_model_preprocess (const NnModel *model,
                              const NnImage *image,
                              float         *out);
