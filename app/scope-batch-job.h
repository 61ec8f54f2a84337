/* SPDX-License-Identifier: MIT */
/* ScopeBatchJob: the explanation of every image of a folder (nn_explain_run, the same spec for
 * each), on a thread of its own; one row per file comes back to the main context as it is done,
 * through one idle callback that merges whatever is pending. */
#pragma once

#include <glib-object.h>

#include "scope-model.h"

G_BEGIN_DECLS

/* One file's result: a value, never changed after it is delivered. */
typedef struct
{
  char           *name;         /* the file name without its folder */
  char           *error;        /* why it has no result, or NULL */
  int             target;       /* the class explained */
  double          probability;  /* its softmax probability */
  NnFaithMetrics  metrics;      /* metrics.has: what was computed */
} ScopeBatchRow;

#define SCOPE_TYPE_BATCH_JOB (scope_batch_job_get_type ())

G_DECLARE_FINAL_TYPE (ScopeBatchJob, scope_batch_job, SCOPE, BATCH_JOB, GObject)

/* Explains the images of folder (PNG, JPEG, DICOM and .npy files, in name order) for model as
 * spec asks (spec->mask is ignored; spec->map.baseline, at the model's input size, is copied).
 * For Integrated Gradients, a baseline kind other than zeros (an NnBaselineKind; -1: none) is
 * made for each image instead. Signals on the thread-default main context of the caller of
 * scope_batch_job_start: "rows" (a GPtrArray of the new ScopeBatchRow, borrowed for the call,
 * the files done and the files in all), then "finished" (a GError, or NULL) once. */
ScopeBatchJob       *scope_batch_job_new (ScopeModel          *model,
                                          const char          *folder,
                                          const NnExplainSpec *spec,
                                          int                  baseline_kind);
/* Lists the folder and starts the thread; FALSE with error when it cannot. */
gboolean             scope_batch_job_start (ScopeBatchJob  *self,
                                            GError        **error);
/* Stops at the next pass and joins the thread; "finished" comes with a G_IO_ERROR_CANCELLED
 * error unless the run had ended. Safe to call more than once; dispose calls it. */
void                 scope_batch_job_cancel (ScopeBatchJob *self);
gboolean             scope_batch_job_is_running (ScopeBatchJob *self);
/* The rows delivered so far, in file order (borrowed), and the files in all. */
const ScopeBatchRow *scope_batch_job_get_rows (ScopeBatchJob *self,
                                               guint         *n_rows,
                                               guint         *n_files);

G_END_DECLS
