/* SPDX-License-Identifier: MIT */
/* ScopeModel: an atomically reference-counted box around an NnModel. */
#include "scope-model.h"

#include <stdlib.h>
#include <string.h>

#include "scope-error.h"

struct _ScopeModel
{
  NnModel        *nn_model;
  char           *name;
  ScopeTrainStamp stamp;          /* version 0: not a training run's snapshot */
  char           *file_identity;  /* nn_examples_model_identity of the file read, or NULL */
  NnOod          *ood;            /* the statistics of MODEL.ood.json, or NULL */
  char           *ood_error;      /* why that file could not be read, or NULL */
};

G_DEFINE_BOXED_TYPE (ScopeModel, scope_model, scope_model_ref, scope_model_unref)

ScopeModel *
scope_model_new_take (NnModel    *nn_model,
                      const char *path)
{
  g_return_val_if_fail (nn_model != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);

  ScopeModel *self = g_atomic_rc_box_new0 (ScopeModel);
  self->nn_model = nn_model;
  self->name = g_path_get_basename (path);
  return self;
}

ScopeModel *
scope_model_new_copy (const NnModel *nn_model,
                      const char    *path)
{
  g_return_val_if_fail (nn_model != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);

  NnModel *copy = nn_model_dup (nn_model);
  if (copy == NULL)
    g_error ("out of memory copying the model %s", path);
  return scope_model_new_take (copy, path);
}

ScopeModel *
scope_model_new_snapshot (const NnModel         *nn_model,
                          const char            *path,
                          const ScopeTrainStamp *stamp)
{
  g_return_val_if_fail (stamp != NULL && stamp->version > 0, NULL);

  ScopeModel *self = scope_model_new_copy (nn_model, path);
  self->stamp = *stamp;
  return self;
}

gboolean
scope_model_get_stamp (const ScopeModel *self,
                       ScopeTrainStamp  *stamp)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (stamp != NULL)
    *stamp = self->stamp;
  return self->stamp.version > 0;
}

ScopeModel *
scope_model_load (const char  *path,
                  GError     **error)
{
  return scope_model_load_with (path, NULL, error);
}

ScopeModel *
scope_model_load_with (const char           *path,
                       const NnLoadControl  *control,
                       GError              **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Taken before the file is read: a file rewritten meanwhile gets another identity. */
  char *identity = nn_examples_model_identity (path, NULL);
  NnError err = { 0 };
  NnModel *nn_model = nn_model_load_with (path, control, &err);
  if (nn_model == NULL)
    {
      free (identity);
      scope_error_from_nn (error, &err);
      return NULL;
    }
  ScopeModel *self = scope_model_new_take (nn_model, path);
  self->file_identity = g_strdup (identity);
  free (identity);
  /* The out-of-distribution statistics beside the model, as the CLI's predict reads them; a
   * broken file leaves the model usable and says why. */
  g_autofree char *ood_path = nn_ood_path_new (path);
  if (ood_path != NULL && g_file_test (ood_path, G_FILE_TEST_IS_REGULAR))
    {
      NnError ood_err = { 0 };
      self->ood = nn_ood_load (ood_path, nn_model->graph, &ood_err);
      if (self->ood == NULL)
        self->ood_error = g_strdup (ood_err.message);
    }
  return self;
}

ScopeModel *
scope_model_ref (ScopeModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_atomic_rc_box_acquire (self);
}

static void
scope_model_clear (gpointer data)
{
  ScopeModel *self = data;

  nn_model_free (self->nn_model);
  nn_ood_free (self->ood);
  g_free (self->ood_error);
  g_free (self->name);
  g_free (self->file_identity);
}

void
scope_model_unref (ScopeModel *self)
{
  if (self != NULL)
    g_atomic_rc_box_release_full (self, scope_model_clear);
}

const NnModel *
scope_model_get_nn_model (const ScopeModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->nn_model;
}

NnGraph *
scope_model_get_graph (const ScopeModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->nn_model->graph;
}

const NnOod *
scope_model_get_ood (const ScopeModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->ood;
}

const char *
scope_model_get_ood_error (const ScopeModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->ood_error;
}

const char *
scope_model_get_file_identity (const ScopeModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->file_identity;
}

const char *
scope_model_get_name (const ScopeModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->name;
}

char *
scope_model_get_stem (const ScopeModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  char *stem = g_strdup (self->name);
  char *dot = strrchr (stem, '.');
  if (dot != NULL && dot != stem)
    *dot = '\0';
  return stem;
}

gsize
scope_model_get_input_size (const ScopeModel *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return nn_shape_size (self->nn_model->graph->nodes[0].shape);
}

gboolean
scope_model_node_has_filters (const ScopeModel *self,
                              int               node)
{
  g_return_val_if_fail (self != NULL, FALSE);

  const NnGraph *graph = self->nn_model->graph;
  if (node < 0 || node >= graph->n_nodes || graph->nodes[node].op != NN_OP_CONV2D)
    return FALSE;
  int weight = nn_graph_node_param (graph, node, NN_PARAM_WEIGHT);
  return weight >= 0 && graph->params[weight].ndim == 4;
}

gboolean
scope_model_same_structure (const ScopeModel *a,
                            const ScopeModel *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  const NnGraph *ga = scope_model_get_graph (a), *gb = scope_model_get_graph (b);
  if (ga->n_nodes != gb->n_nodes)
    return FALSE;
  for (int i = 0; i < ga->n_nodes; i++)
    if (strcmp (ga->nodes[i].name, gb->nodes[i].name) != 0
        || ga->nodes[i].shape.c != gb->nodes[i].shape.c)
      return FALSE;
  return TRUE;
}
