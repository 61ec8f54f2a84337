/* SPDX-License-Identifier: MIT */
/* NnInput: the file as read (shared between the builds for different models) and, per model,
 * the tensor, display image and HU plane at the model's size. */
#include "io/nn-input.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/nn-npy.h"

/* What was read from the file, shared by every NnInput built from it. */
typedef struct
{
  atomic_int refs;
  char      *path;
  NnImage   *image;  /* a picture in [0, 1] or a CT slice in HU (image->hu); NULL for .npy */
  NnNpy     *npy;
} Source;

typedef struct
{
  NnInput     pub;   /* first: an NnInput pointer is an Input pointer */
  atomic_int  refs;
  Source     *source;
  bool        has_window;
  NnCtWindow  given;
  float      *tensor;
  float      *display;
  float      *hu;
} Input;

static void
source_unref (Source *source)
{
  if (source == NULL || atomic_fetch_sub (&source->refs, 1) != 1)
    return;
  free (source->path);
  nn_image_free (source->image);
  nn_npy_free (source->npy);
  free (source);
}

static bool
is_npy (const char *path)
{
  size_t len = strlen (path);
  return len > 4 && strcasecmp (path + len - 4, ".npy") == 0;
}

static Source *
source_read (const char *path,
             NnError    *err)
{
  Source *source = calloc (1, sizeof *source);
  if (source == NULL || (source->path = strdup (path)) == NULL)
    {
      free (source);
      return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path), NULL;
    }
  atomic_init (&source->refs, 1);
  if (is_npy (path))
    source->npy = nn_npy_load (path, err);
  else
    source->image = nn_ct_load (path, err);
  if (source->npy == NULL && source->image == NULL)
    {
      source_unref (source);
      return NULL;
    }
  return source;
}

static void
input_free (Input *in)
{
  source_unref (in->source);
  free (in->tensor);
  free (in->display);
  free (in->hu);
  free (in);
}

static float *
floats_dup (const float *src,
            size_t       n)
{
  float *copy = malloc (sizeof (float) * n);
  if (copy != NULL)
    memcpy (copy, src, sizeof (float) * n);
  return copy;
}

/* "2, 3, 4" */
static void
format_dims (const NnNpy *npy,
             char        *buf,
             size_t       size)
{
  size_t n = 0;
  buf[0] = '\0';
  for (int i = 0; i < npy->ndim && n < size; i++)
    n += (size_t) snprintf (buf + n, size - n, i ? ", %d" : "%d", npy->dims[i]);
}

/* A .npy array: the tensor as it is, the display image un-normalized. */
static bool
build_npy (Input         *in,
           const NnModel *model,
           NnError       *err)
{
  const NnNpy *npy = in->source->npy;
  const int *d = npy->dims;
  const int lead = npy->ndim == 4 ? 1 : 0;
  char shape[128];
  format_dims (npy, shape, sizeof shape);
  if (model == NULL)
    {
      if ((npy->ndim != 3 && npy->ndim != 4) || (lead && d[0] != 1))
        return nn_error_set (err, NN_ERROR_SPEC, "%s: array of shape (%s) is not an input "
                             "(C, H, W) or (1, C, H, W)", in->pub.path, shape);
      in->pub.c = d[lead];
      in->pub.h = d[lead + 1];
      in->pub.w = d[lead + 2];
      return true;
    }
  const int c = nn_model_input_channels (model), h = nn_model_input_height (model);
  const int w = nn_model_input_width (model);
  bool fits = (npy->ndim == 3 && d[0] == c && d[1] == h && d[2] == w)
              || (npy->ndim == 4 && d[0] == 1 && d[1] == c && d[2] == h && d[3] == w);
  if (!fits)
    return nn_error_set (err, NN_ERROR_SPEC, "%s: array of shape (%s) does not fit the model "
                         "input (%d, %d, %d) or (1, %d, %d, %d)", in->pub.path, shape, c, h, w,
                         c, h, w);
  const size_t plane = (size_t) h * (size_t) w;
  in->tensor = floats_dup (npy->data, (size_t) c * plane);
  if (in->tensor == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", in->pub.path);
  if (c == 1 || c == 3)
    {
      in->display = malloc (sizeof (float) * (size_t) c * plane);
      if (in->display == NULL)
        return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", in->pub.path);
      for (int k = 0; k < c; k++)
        for (size_t p = 0; p < plane; p++)
          {
            float v = in->tensor[(size_t) k * plane + p] * model->std[k] + model->mean[k];
            in->display[(size_t) k * plane + p] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
          }
    }
  in->pub.c = c;
  in->pub.h = h;
  in->pub.w = w;
  return true;
}

/* An image: converted and fitted to the model's input as nn_model_preprocess does, so the
 * display image and HU plane are the model's view of the file. */
static bool
build_image (Input         *in,
             const NnModel *model,
             NnError       *err)
{
  const NnImage *image = in->source->image;
  const char *path = in->pub.path;
  int c = image->c, h = image->h, w = image->w;
  if (model != NULL)
    {
      c = nn_model_input_channels (model);
      h = nn_model_input_height (model);
      w = nn_model_input_width (model);
      if (c != 1 && c != 3)
        return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: the model takes %d input "
                             "channels; give it a .npy array instead of an image", path, c);
    }
  NnImage *converted = image->c != c ? nn_image_convert (image, c) : NULL;
  bool ok = image->c == c || converted != NULL;
  const NnImage *src = converted != NULL ? converted : image;
  bool fit = ok && (src->h != h || src->w != w);
  NnImage *fitted = fit ? nn_image_fit (src, h, w) : NULL;
  ok = ok && (!fit || fitted != NULL);
  const NnImage *at = fitted != NULL ? fitted : src;
  const size_t plane = (size_t) h * (size_t) w;
  if (ok && model != NULL)
    {
      in->tensor = malloc (sizeof (float) * (size_t) c * plane);
      ok = in->tensor != NULL;
      if (ok && image->hu && !model->has_window && in->has_window)
        {
          /* A model without a window of its own reads the slice through the given one, as
           * the file would look windowed. */
          NnImage *windowed = nn_ct_window_image (image, &in->given);
          ok = windowed != NULL;
          ok = ok && nn_model_preprocess (model, windowed, in->tensor);
          nn_image_free (windowed);
        }
      else if (ok)
        ok = nn_model_preprocess (model, at, in->tensor);
    }
  if (ok && image->hu)
    ok = (in->hu = floats_dup (at->data, plane)) != NULL;
  if (ok)
    ok = (in->display = floats_dup (at->data, (size_t) c * plane)) != NULL;
  nn_image_free (fitted);
  nn_image_free (converted);
  if (!ok)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
  in->pub.c = c;
  in->pub.h = h;
  in->pub.w = w;
  if (in->hu != NULL)
    for (int k = 0; k < c; k++)
      nn_ct_window_apply (&in->pub.window, in->display + (size_t) k * plane, in->hu, plane);
  return true;
}

/* Takes a reference to source. */
static NnInput *
input_build (Source           *source,
             const NnModel    *model,
             const NnCtWindow *window,
             NnError          *err)
{
  Input *in = calloc (1, sizeof *in);
  if (in == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", source->path);
      source_unref (source);
      return NULL;
    }
  atomic_init (&in->refs, 1);
  in->source = source;
  in->has_window = window != NULL;
  if (window != NULL)
    in->given = *window;
  in->pub.path = source->path;
  in->pub.window = window != NULL ? *window
                   : model != NULL && model->has_window ? model->window : NN_CT_WINDOW_LUNG;
  if (source->image != NULL)
    {
      in->pub.image_h = source->image->h;
      in->pub.image_w = source->image->w;
    }
  bool ok = source->npy != NULL ? build_npy (in, model, err) : build_image (in, model, err);
  if (source->npy != NULL)
    {
      in->pub.image_h = in->pub.h;
      in->pub.image_w = in->pub.w;
    }
  if (!ok)
    {
      input_free (in);
      return NULL;
    }
  in->pub.tensor = in->tensor;
  in->pub.display = in->display;
  in->pub.hu = in->hu;
  return &in->pub;
}

NnInput *
nn_input_load (const char       *path,
               const NnModel    *model,
               const NnCtWindow *window,
               NnError          *err)
{
  NN_ASSERT (path != NULL);
  Source *source = source_read (path, err);
  if (source == NULL)
    return NULL;
  return input_build (source, model, window, err);
}

NnInput *
nn_input_new_image (const char       *name,
                    const NnImage    *image,
                    const NnModel    *model,
                    const NnCtWindow *window,
                    NnError          *err)
{
  NN_ASSERT (name != NULL && image != NULL);
  Source *source = calloc (1, sizeof *source);
  if (source == NULL || (source->path = strdup (name)) == NULL
      || (source->image = nn_image_dup (image)) == NULL)
    {
      if (source != NULL)
        free (source->path);
      free (source);
      return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", name), NULL;
    }
  atomic_init (&source->refs, 1);
  return input_build (source, model, window, err);
}

NnInput *
nn_input_rebuild (const NnInput *input,
                  const NnModel *model,
                  NnError       *err)
{
  NN_ASSERT (input != NULL);
  const Input *in = (const Input *) input;
  atomic_fetch_add (&in->source->refs, 1);
  return input_build (in->source, model, in->has_window ? &in->given : NULL, err);
}

NnInput *
nn_input_ref (NnInput *input)
{
  NN_ASSERT (input != NULL);
  atomic_fetch_add (&((Input *) input)->refs, 1);
  return input;
}

void
nn_input_unref (NnInput *input)
{
  if (input != NULL && atomic_fetch_sub (&((Input *) input)->refs, 1) == 1)
    input_free ((Input *) input);
}

void
nn_input_render (const NnInput    *input,
                 const NnCtWindow *window,
                 float            *out)
{
  NN_ASSERT (input != NULL && window != NULL && out != NULL);
  NN_ASSERT (input->hu != NULL || input->display != NULL);
  const size_t plane = (size_t) input->h * (size_t) input->w;
  if (input->hu == NULL)
    {
      memcpy (out, input->display, sizeof (float) * (size_t) input->c * plane);
      return;
    }
  for (int k = 0; k < input->c; k++)
    nn_ct_window_apply (window, out + (size_t) k * plane, input->hu, plane);
}
