/* SPDX-License-Identifier: MIT */
/* The Train view's figure: loss and accuracy curves per step and per epoch, and the newest
 * confusion matrix on the test set. A thin widget over the run's history (appended to as
 * updates arrive, never changed otherwise); viz_train_figure draws it. */
#pragma once

#include <gtk/gtk.h>

#include "scope-train-job.h"
#include "viz.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_TRAIN_CHART (scope_train_chart_get_type ())

G_DECLARE_FINAL_TYPE (ScopeTrainChart, scope_train_chart, SCOPE, TRAIN_CHART, GtkWidget)

/* Forgets the previous run; caption names the new one (model, dataset, settings). */
void       scope_train_chart_reset (ScopeTrainChart *self,
                                    const char      *caption);
/* Appends the update's steps and epochs and takes its confusion matrix; queues a draw. */
void       scope_train_chart_add (ScopeTrainChart        *self,
                                  const ScopeTrainUpdate *update);
guint      scope_train_chart_get_n_steps (ScopeTrainChart *self);
guint      scope_train_chart_get_n_epochs (ScopeTrainChart *self);
gboolean   scope_train_chart_has_confusion (ScopeTrainChart *self);

/* Writes the figure with its caption as PNG, SVG or PDF (by extension), atomically. */
gboolean   scope_train_chart_export (ScopeTrainChart  *self,
                                     const char       *path,
                                     GError          **error);

G_END_DECLS
