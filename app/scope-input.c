/* SPDX-License-Identifier: MIT */
/* ScopeInput: an NnInput with its mask, and what it was built for (the model's preprocessing,
 * by value, so that an input never keeps an old model alive). */
#include "scope-input.h"

#include <string.h>

#include "scope-error.h"

/* How a model reads its input: what an NnInput built for it depends on. */
typedef struct
{
  gboolean   model;      /* FALSE: built without a model; the rest is unset */
  int        c, h, w;
  float      mean[NN_MODEL_MAX_CHANNELS];
  float      std[NN_MODEL_MAX_CHANNELS];
  gboolean   has_window;
  NnCtWindow window;
} Preprocessing;

struct _ScopeInput
{
  NnInput       *nn_input;
  char          *name;
  Preprocessing  built_for;
  NnImage       *mask_image;  /* as read, to be fitted again for another model; or NULL */
  guint8        *mask;        /* mask_image fitted to the input (h, w); NULL when empty */
  gsize          mask_lit;
};

G_DEFINE_BOXED_TYPE (ScopeInput, scope_input, scope_input_ref, scope_input_unref)

static void
preprocessing_init (Preprocessing    *p,
                    const ScopeModel *model)
{
  memset (p, 0, sizeof *p);
  if (model == NULL)
    return;
  const NnModel *m = scope_model_get_nn_model (model);
  p->model = TRUE;
  p->c = nn_model_input_channels (m);
  p->h = nn_model_input_height (m);
  p->w = nn_model_input_width (m);
  for (int k = 0; k < MIN (p->c, NN_MODEL_MAX_CHANNELS); k++)
    {
      p->mean[k] = m->mean[k];
      p->std[k] = m->std[k];
    }
  p->has_window = m->has_window;
  if (m->has_window)
    p->window = m->window;
}

/* Takes nn_input. */
static ScopeInput *
input_new (NnInput          *nn_input,
           const ScopeModel *model)
{
  ScopeInput *self = g_atomic_rc_box_new0 (ScopeInput);
  self->nn_input = nn_input;
  self->name = g_path_get_basename (nn_input->path);
  preprocessing_init (&self->built_for, model);
  return self;
}

/* Fits mask (when not NULL) to self; FALSE with error when out of memory. */
static gboolean
input_set_mask (ScopeInput     *self,
                const NnImage  *mask,
                GError        **error)
{
  if (mask == NULL)
    return TRUE;
  self->mask_image = nn_image_dup (mask);
  NnError err = { 0 };
  self->mask = self->mask_image != NULL
               ? nn_mask_from_image (mask, self->nn_input->h, self->nn_input->w, &self->mask_lit,
                                     &err)
               : NULL;
  if (self->mask == NULL)
    {
      if (self->mask_image == NULL)
        nn_error_set (&err, NN_ERROR_NOMEM, "out of memory for the mask");
      scope_error_from_nn (error, &err);
      return FALSE;
    }
  if (self->mask_lit == 0)
    g_clear_pointer (&self->mask, g_free);
  return TRUE;
}

ScopeInput *
scope_input_load (const char  *path,
                  ScopeModel  *model,
                  GError     **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  NnError err = { 0 };
  NnInput *nn_input = nn_input_load (path, model != NULL ? scope_model_get_nn_model (model)
                                                         : NULL, NULL, &err);
  if (nn_input == NULL)
    {
      scope_error_from_nn (error, &err);
      return NULL;
    }
  return input_new (nn_input, model);
}

ScopeInput *
scope_input_new_image (const char     *name,
                       const NnImage  *image,
                       ScopeModel     *model,
                       GError        **error)
{
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (image != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  NnError err = { 0 };
  NnInput *nn_input = nn_input_new_image (name, image, model != NULL
                                          ? scope_model_get_nn_model (model) : NULL, NULL,
                                          &err);
  if (nn_input == NULL)
    {
      scope_error_from_nn (error, &err);
      return NULL;
    }
  return input_new (nn_input, model);
}

ScopeInput *
scope_input_rebuild (const ScopeInput  *self,
                     ScopeModel        *model,
                     GError           **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  NnError err = { 0 };
  NnInput *nn_input = nn_input_rebuild (self->nn_input, model != NULL
                                                        ? scope_model_get_nn_model (model)
                                                        : NULL, &err);
  if (nn_input == NULL)
    {
      scope_error_from_nn (error, &err);
      return NULL;
    }
  ScopeInput *rebuilt = input_new (nn_input, model);
  if (!input_set_mask (rebuilt, self->mask_image, error))
    g_clear_pointer (&rebuilt, scope_input_unref);
  return rebuilt;
}

ScopeInput *
scope_input_new_with_mask (const ScopeInput  *self,
                           const NnImage     *mask,
                           GError           **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (mask != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ScopeInput *copy = g_atomic_rc_box_new0 (ScopeInput);
  copy->nn_input = nn_input_ref (self->nn_input);
  copy->name = g_strdup (self->name);
  copy->built_for = self->built_for;
  if (!input_set_mask (copy, mask, error))
    g_clear_pointer (&copy, scope_input_unref);
  return copy;
}

ScopeInput *
scope_input_ref (ScopeInput *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_atomic_rc_box_acquire (self);
}

static void
scope_input_clear (gpointer data)
{
  ScopeInput *self = data;

  nn_input_unref (self->nn_input);
  g_free (self->name);
  nn_image_free (self->mask_image);
  g_free (self->mask);
}

void
scope_input_unref (ScopeInput *self)
{
  if (self != NULL)
    g_atomic_rc_box_release_full (self, scope_input_clear);
}

const NnInput *
scope_input_get_nn_input (const ScopeInput *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->nn_input;
}

const char *
scope_input_get_name (const ScopeInput *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->name;
}

const guint8 *
scope_input_get_mask (const ScopeInput *self,
                      gsize            *lit)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (lit != NULL)
    *lit = self->mask != NULL ? self->mask_lit : 0;
  return self->mask;
}

gboolean
scope_input_fits (const ScopeInput *self,
                  const ScopeModel *model)
{
  g_return_val_if_fail (self != NULL, FALSE);

  Preprocessing p;
  preprocessing_init (&p, model);
  const Preprocessing *q = &self->built_for;
  if (p.model != q->model || p.c != q->c || p.h != q->h || p.w != q->w
      || p.has_window != q->has_window || p.window.width != q->window.width
      || p.window.level != q->window.level)
    return FALSE;
  for (int k = 0; k < NN_MODEL_MAX_CHANNELS; k++)
    if (p.mean[k] != q->mean[k] || p.std[k] != q->std[k])
      return FALSE;
  return TRUE;
}
