/* SPDX-License-Identifier: MIT */
/* NnModel: a graph with labels, input normalization and provenance, and the helpers the file
 * format's parts share (nn-model-private.h). The format is written in nn-model-save.c and read
 * in nn-model-load.c and nn-model-graph.c. */
#include "io/nn-model-private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Model, labels. */

char *
nn_model_label_new (const char *text)
{
  size_t len = strlen (text);
  char *copy = malloc (len + 1);
  if (copy != NULL)
    memcpy (copy, text, len + 1);
  return copy;
}

NnModel *
nn_model_new (NnGraph    *graph,
              const char *arch)
{
  NN_ASSERT (graph != NULL && graph->n_nodes > 0);
  NnModel *model = calloc (1, sizeof *model);
  if (model == NULL)
    return NULL;
  model->n_classes = (int) nn_shape_size (graph->nodes[nn_graph_output (graph)].shape);
  model->labels = calloc ((size_t) model->n_classes, sizeof (char *));
  if (model->labels == NULL)
    {
      free (model);
      return NULL;
    }
  for (int k = 0; k < model->n_classes; k++)
    {
      char text[16];
      snprintf (text, sizeof text, "%d", k);
      model->labels[k] = nn_model_label_new (text);
      if (model->labels[k] == NULL)
        {
          nn_model_free (model);
          return NULL;
        }
    }
  model->graph = graph;
  snprintf (model->arch, sizeof model->arch, "%s", arch != NULL ? arch : "");
  for (int c = 0; c < NN_MODEL_MAX_CHANNELS; c++)
    {
      model->mean[c] = 0.0f;
      model->std[c] = 1.0f;
    }
  model->test_accuracy = -1.0;
  return model;
}

void
nn_model_free (NnModel *model)
{
  if (model == NULL)
    return;
  if (model->labels != NULL)
    for (int k = 0; k < model->n_classes; k++)
      free (model->labels[k]);
  free (model->labels);
  nn_graph_free (model->graph);
  free (model);
}

NnModel *
nn_model_dup (const NnModel *model)
{
  NN_ASSERT (model != NULL && model->graph != NULL);
  NnGraph *graph = nn_graph_dup (model->graph);
  if (graph == NULL)
    return NULL;
  NnModel *copy = nn_model_new (graph, model->arch);
  if (copy == NULL)
    {
      nn_graph_free (graph);
      return NULL;
    }
  /* Every field by value, then the graph and the labels as copies of their own. */
  char **labels = copy->labels;
  *copy = *model;
  copy->graph = graph;
  copy->labels = labels;
  for (int k = 0; k < copy->n_classes; k++)
    if (model->labels[k] != NULL && !nn_model_set_label (copy, k, model->labels[k]))
      {
        nn_model_free (copy);
        return NULL;
      }
  return copy;
}

bool
nn_model_set_label (NnModel    *model,
                    int         k,
                    const char *label)
{
  NN_ASSERT (model != NULL && label != NULL);
  NN_ASSERT (k >= 0 && k < model->n_classes);
  char *copy = nn_model_label_new (label);
  if (copy == NULL)
    return false;
  free (model->labels[k]);
  model->labels[k] = copy;
  return true;
}

int
nn_model_input_channels (const NnModel *model)
{
  NN_ASSERT (model != NULL && model->graph->n_nodes > 0);
  return model->graph->nodes[0].shape.c;
}

int
nn_model_input_height (const NnModel *model)
{
  NN_ASSERT (model != NULL && model->graph->n_nodes > 0);
  return model->graph->nodes[0].shape.h;
}

int
nn_model_input_width (const NnModel *model)
{
  NN_ASSERT (model != NULL && model->graph->n_nodes > 0);
  return model->graph->nodes[0].shape.w;
}

int
nn_model_norm_channels (const NnModel *model)
{
  int c = nn_model_input_channels (model);
  return c < NN_MODEL_MAX_CHANNELS ? c : NN_MODEL_MAX_CHANNELS;
}

/* Small helpers shared by save and load. */

bool
nn_model_c_locale_enter (NnModelCLocale *loc)
{
  loc->c = newlocale (LC_NUMERIC_MASK, "C", (locale_t) 0);
  if (loc->c == (locale_t) 0)
    return false;
  loc->saved = uselocale (loc->c);
  return true;
}

void
nn_model_c_locale_leave (NnModelCLocale *loc)
{
  uselocale (loc->saved);
  freelocale (loc->c);
}

static int
compare_keys (const void *a,
              const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The first key found twice in one object anywhere in item, NULL when there is none; *nomem
 * is set when the keys could not be sorted. JSON parsers disagree on which of two equal keys
 * counts (cJSON takes the first, Python the last), so a file must not have any. */
static const char *
duplicate_key (const cJSON *item,
               bool        *nomem)
{
  if (!cJSON_IsObject (item) && !cJSON_IsArray (item))
    return NULL;
  if (cJSON_IsObject (item))
    {
      int n = cJSON_GetArraySize (item);
      const char **keys = malloc (sizeof *keys * (size_t) (n > 0 ? n : 1));
      if (keys == NULL)
        {
          *nomem = true;
          return NULL;
        }
      int k = 0;
      for (const cJSON *c = item->child; c != NULL; c = c->next)
        keys[k++] = c->string != NULL ? c->string : "";
      qsort (keys, (size_t) k, sizeof *keys, compare_keys);
      const char *dup = NULL;
      for (int i = 1; i < k && dup == NULL; i++)
        if (strcmp (keys[i - 1], keys[i]) == 0)
          dup = keys[i];
      free (keys);
      if (dup != NULL)
        return dup;
    }
  for (const cJSON *c = item->child; c != NULL && !*nomem; c = c->next)
    {
      const char *dup = duplicate_key (c, nomem);
      if (dup != NULL)
        return dup;
    }
  return NULL;
}

cJSON *
nn_model_json_parse (const char *text)
{
  cJSON *root = cJSON_ParseWithOpts (text, NULL, true);
  bool nomem = false;
  if (root != NULL && (duplicate_key (root, &nomem) != NULL || nomem))
    {
      cJSON_Delete (root);
      return NULL;
    }
  return root;
}

bool
nn_model_json_fail (const char *text,
                    const char *what,
                    NnError    *err)
{
  cJSON *root = cJSON_ParseWithOpts (text, NULL, true);
  bool nomem = false;
  const char *dup = root != NULL ? duplicate_key (root, &nomem) : NULL;
  if (dup != NULL)
    nn_error_set (err, NN_ERROR_FORMAT, "%s has the key '%.200s' twice in one object", what,
                  dup);
  else if (nomem)
    nn_error_set (err, NN_ERROR_NOMEM, "out of memory reading %s", what);
  else
    nn_error_set (err, NN_ERROR_FORMAT, "%s is not valid JSON", what);
  cJSON_Delete (root);
  return false;
}

bool
nn_model_json_integer (const cJSON *item,
                       double       lo,
                       double       hi,
                       double      *out)
{
  if (!cJSON_IsNumber (item))
    return false;
  double v = item->valuedouble;
  if (!(v >= lo && v <= hi) || v != floor (v))
    return false;
  *out = v;
  return true;
}

const char *
nn_model_errno_text (int    errnum,
                     char  *buf,
                     size_t size)
{
  /* The GNU strerror_r (we build with _GNU_SOURCE): thread-safe, returns the text. */
  return strerror_r (errnum, buf, size);
}

/* Preprocessing. */

/* A copy of image at the model's channels and size, HU values through the model's window (or
 * read as a 16-bit PNG would read them): pixels in [0, 1]. NULL when out of memory. */
static NnImage *
model_image_new (const NnModel *model,
                 const NnImage *image)
{
  const int c = nn_model_input_channels (model);
  const int h = nn_model_input_height (model);
  const int w = nn_model_input_width (model);
  NnImage *copy = image->c != c ? nn_image_convert (image, c) : nn_image_dup (image);
  if (copy != NULL && (copy->h != h || copy->w != w))
    {
      NnImage *fitted = nn_image_fit (copy, h, w);
      nn_image_free (copy);
      copy = fitted;
    }
  if (copy == NULL || !copy->hu)
    return copy;
  const size_t n = (size_t) c * (size_t) h * (size_t) w;
  if (model->has_window)
    nn_ct_window_apply (&model->window, copy->data, copy->data, n);
  else
    for (size_t i = 0; i < n; i++)
      copy->data[i] = nn_ct_png16_from_hu (copy->data[i]);
  return copy;
}

bool
nn_model_preprocess (const NnModel *model,
                     const NnImage *image,
                     float         *out)
{
  NN_ASSERT (model != NULL && image != NULL && out != NULL);
  const int c = nn_model_input_channels (model);
  NN_ASSERT (c == 1 || c == 3);
  NnImage *src = model_image_new (model, image);
  if (src == NULL)
    return false;
  const size_t plane = (size_t) nn_model_input_height (model)
                       * (size_t) nn_model_input_width (model);
  for (int ch = 0; ch < c; ch++)
    {
      const float *in = src->data + (size_t) ch * plane;
      float *o = out + (size_t) ch * plane;
      float mean = model->mean[ch];
      float std = model->std[ch];
      for (size_t i = 0; i < plane; i++)
        o[i] = (in[i] - mean) / std;
    }
  nn_image_free (src);
  return true;
}
