/* SPDX-License-Identifier: MIT */
/* A loaded model shared between the window and the engine thread: an NnModel that nobody
 * modifies after loading, with an atomic reference count, so a job can hold it as a value. */
#pragma once

#include <glib-object.h>

#include "nn.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_MODEL (scope_model_get_type ())

typedef struct _ScopeModel ScopeModel;

GType          scope_model_get_type (void);

/* Loads a .safetensors model written by cnnscope, or an ONNX model; errors name the file and
 * the reason. Its out-of-distribution statistics come with it when MODEL.ood.json is beside
 * it (nn_ood_path_new; scope_model_get_ood). */
ScopeModel    *scope_model_load (const char  *path,
                                 GError     **error);
/* scope_model_load on a worker thread: progress and the cancel flag of control (may be NULL;
 * a cancelled load fails with code NN_ERROR_CANCELLED of SCOPE_NN_ERROR). */
ScopeModel    *scope_model_load_with (const char           *path,
                                      const NnLoadControl  *control,
                                      GError              **error);
/* Takes ownership of nn_model; path is what the model is called in the window and captions. */
ScopeModel    *scope_model_new_take (NnModel    *nn_model,
                                     const char *path);
/* A deep copy of nn_model (graph, weights, labels, normalization), for snapshots of a model
 * being trained. */
ScopeModel    *scope_model_new_copy (const NnModel *nn_model,
                                     const char    *path);
/* Where a training run was when it copied its weights: the snapshot's place in the run. */
typedef struct
{
  guint64 version;   /* 1, 2, ... in the order the run published them; 0: not a snapshot */
  long    step;      /* steps done (1-based; 0 before the first) */
  int     epoch;     /* 0-based epoch of that step */
} ScopeTrainStamp;

/* scope_model_new_copy, stamped (stamp->version > 0) as a training run's snapshot. */
ScopeModel    *scope_model_new_snapshot (const NnModel         *nn_model,
                                         const char            *path,
                                         const ScopeTrainStamp *stamp);
/* Whether self is a training run's snapshot, and its stamp (zeros when not). */
gboolean       scope_model_get_stamp (const ScopeModel *self,
                                      ScopeTrainStamp  *stamp);
ScopeModel    *scope_model_ref (ScopeModel *self);
void           scope_model_unref (ScopeModel *self);

const NnModel *scope_model_get_nn_model (const ScopeModel *self);
/* The graph, for engine contexts (nn_context_new borrows a non-const graph); read-only. */
NnGraph       *scope_model_get_graph (const ScopeModel *self);
/* What identifies the file the model was read from for caches (nn_examples_model_identity,
 * taken when it was read), or NULL for a model not read from a file (a training snapshot). */
const char    *scope_model_get_file_identity (const ScopeModel *self);
/* The out-of-distribution statistics loaded with the model, or NULL (none beside it, a copy,
 * or the file could not be read: then scope_model_get_ood_error says why). */
const NnOod   *scope_model_get_ood (const ScopeModel *self);
const char    *scope_model_get_ood_error (const ScopeModel *self);
/* The file name without its folder. */
const char    *scope_model_get_name (const ScopeModel *self);

/* The file name without its folder and extension, to g_free. */
char          *scope_model_get_stem (const ScopeModel *self);

/* Floats in the model's input (C * H * W). */
gsize          scope_model_get_input_size (const ScopeModel *self);
/* Whether node has conv kernels to show (a conv2d with a 4-D weight). */
gboolean       scope_model_node_has_filters (const ScopeModel *self,
                                             int               node);
/* Whether b has a's layers (names and channels): a snapshot of the same training run. */
gboolean       scope_model_same_structure (const ScopeModel *a,
                                           const ScopeModel *b);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScopeModel, scope_model_unref)

G_END_DECLS
