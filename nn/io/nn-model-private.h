/* SPDX-License-Identifier: MIT */
/* Shared by the parts of NnModel: the type and the helpers below (nn-model.c), saving
 * (nn-model-save.c) and loading (nn-model-load.c, which calls nn-model-graph.c for the graph)
 * of the .safetensors file described in docs/model-format.md. */
#pragma once

#include <cjson/cJSON.h>
#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/nn-model.h"

/* The "format" and "version" entries of __metadata__. */
#define NN_MODEL_FORMAT_NAME    "cnnscope"
#define NN_MODEL_FORMAT_VERSION "1"

/* A copy of text for model->labels; NULL when out of memory. */
char       *nn_model_label_new (const char *text);
/* Number of mean/std entries stored: one per input channel, at most NN_MODEL_MAX_CHANNELS. */
int         nn_model_norm_channels (const NnModel *model);

/* Numbers in the file are printed and parsed in the C locale whatever the application's
 * LC_NUMERIC (GTK sets it from the environment, and "0,5" is not JSON). The switch is per
 * thread and undone before returning. */
typedef struct
{
  locale_t c;
  locale_t saved;
} NnModelCLocale;

/* false when out of memory (nothing to undo then). */
bool        nn_model_c_locale_enter (NnModelCLocale *loc);
void        nn_model_c_locale_leave (NnModelCLocale *loc);

/* A whole JSON text (cJSON_Parse alone accepts trailing garbage) in which no object has a key
 * twice; NULL when invalid. */
cJSON      *nn_model_json_parse (const char *text);
/* After nn_model_json_parse failed on text: sets err to why ("<what> has the key 'k' twice in
 * one object", "<what> is not valid JSON"); returns false. */
bool        nn_model_json_fail (const char *text,
                                const char *what,
                                NnError    *err);
/* Whether item is a JSON number that is an integer in [lo, hi] (stored in *out). */
bool        nn_model_json_integer (const cJSON *item,
                                   double       lo,
                                   double       hi,
                                   double      *out);
/* nn-model-graph.c: the graph of a model file from graph_text (the JSON list of nodes in __metadata__); all
 * parameters together must fit in max_floats floats (the file's data section). NULL with err
 * naming the node and attribute at fault. */
NnGraph    *nn_model_graph_from_json (const char *graph_text,
                                      uint64_t    max_floats,
                                      NnError    *err);

/* The text of errnum, written into buf or a static string. */
const char *nn_model_errno_text (int    errnum,
                                 char  *buf,
                                 size_t size);
