/* SPDX-License-Identifier: MIT */
/* ScopeInput: the opened input file as the window, its views and its jobs share it: the NnInput
 * built once for the current model on the engine thread (tensor, display image, HU plane), and
 * the ground-truth mask that came with it. Immutable and atomically reference-counted. */
#pragma once

#include <glib-object.h>

#include "nn.h"
#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_INPUT (scope_input_get_type ())

typedef struct _ScopeInput ScopeInput;

GType          scope_input_get_type (void);

/* Reads path (picture, CT slice or .npy array; nn_input_load) and builds it for model (NULL:
 * none yet). Errors name the file. Runs on a worker: it reads the disk. */
ScopeInput    *scope_input_load (const char  *path,
                                 ScopeModel  *model,
                                 GError     **error);
/* An image already in memory (a dataset's sample: a picture in [0, 1] or a CT slice in HU),
 * built for model; name stands for the file name. Errors name it. */
ScopeInput    *scope_input_new_image (const char     *name,
                                      const NnImage  *image,
                                      ScopeModel     *model,
                                      GError        **error);
/* The same file (and mask) built for another model, without reading the file again. */
ScopeInput    *scope_input_rebuild (const ScopeInput  *self,
                                    ScopeModel        *model,
                                    GError           **error);
/* The same input with a ground-truth mask: mask as read from its file (any size, gray or
 * colour), fitted to the input like an image and inside where at least NN_MASK_THRESHOLD
 * (nn_mask_from_image). An empty mask gives an input without a mask. */
ScopeInput    *scope_input_new_with_mask (const ScopeInput  *self,
                                          const NnImage     *mask,
                                          GError           **error);
ScopeInput    *scope_input_ref (ScopeInput *self);
void           scope_input_unref (ScopeInput *self);

const NnInput *scope_input_get_nn_input (const ScopeInput *self);
/* The file name without its folder. */
const char    *scope_input_get_name (const ScopeInput *self);
/* The mask at the input's size (h, w), 1 inside, 0 outside, or NULL without one; *lit (may be
 * NULL) receives the number of pixels inside. */
const guint8  *scope_input_get_mask (const ScopeInput *self,
                                     gsize            *lit);
/* Whether the input was built the way model reads it (its input size, normalization and CT
 * window), so that model can run on it; model NULL: built without a model. A snapshot of the
 * same training run fits the input of the one before. */
gboolean       scope_input_fits (const ScopeInput *self,
                                 const ScopeModel *model);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScopeInput, scope_input_unref)

G_END_DECLS
