/* SPDX-License-Identifier: MIT */
/* ScopeBatchWindow: a folder explained image by image (a ScopeBatchJob) shown as it goes: a
 * progress bar, a cancel button and a table of file, class, probability and metrics. */
#pragma once

#include <gtk/gtk.h>

#include "scope-batch-job.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_BATCH_WINDOW (scope_batch_window_get_type ())

G_DECLARE_FINAL_TYPE (ScopeBatchWindow, scope_batch_window, SCOPE, BATCH_WINDOW, GtkWindow)

/* A window over job (referenced; started by the caller), transient for parent; its class
 * labels from model. Closing it cancels the job. */
ScopeBatchWindow *scope_batch_window_new (GtkWindow     *parent,
                                          ScopeBatchJob *job,
                                          ScopeModel    *model,
                                          const char    *title);
ScopeBatchJob    *scope_batch_window_get_job (ScopeBatchWindow *self);
/* The text of the table's cell (row 0: the headings; a file without a result has its error in
 * column 1), or NULL outside it. */
const char       *scope_batch_window_get_cell (ScopeBatchWindow *self,
                                               int               row,
                                               int               column);

G_END_DECLS
