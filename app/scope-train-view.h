/* SPDX-License-Identifier: MIT */
/* The Train view: the settings of a run (dataset, architecture, width, optimizer, learning
 * rate, epochs, batch, images per class, gradient policy), start, pause, resume and stop (the
 * view's cancel), the live curves and confusion matrix, and saving the trained model. The run
 * is a ScopeTrainJob; the window shows each copy of its weights in every view (ScopeView's
 * "show-model") until another model is opened. */
#pragma once

#include "scope-train-chart.h"
#include "scope-train-job.h"
#include "scope-train-live.h"
#include "scope-view.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_TRAIN_VIEW (scope_train_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopeTrainView, scope_train_view, SCOPE, TRAIN_VIEW, ScopeView)

/* The settings as the controls show them. */
void             scope_train_view_get_settings (ScopeTrainView     *self,
                                                ScopeTrainSettings *settings);
/* Shows settings in the controls (a folder dataset selects "Image folder"); the snapshot
 * interval, which has no control, is kept for the next run. */
void             scope_train_view_set_settings (ScopeTrainView           *self,
                                                const ScopeTrainSettings *settings);
ScopeTrainState  scope_train_view_get_state (ScopeTrainView *self);
/* The newest weights of the run (NULL before the first copy arrives). */
ScopeModel      *scope_train_view_get_snapshot (ScopeTrainView *self);
ScopeTrainChart *scope_train_view_get_chart (ScopeTrainView *self);
/* The live explanations under the curves (the probes and the AM strip); owned by the view. */
ScopeTrainLive  *scope_train_view_get_live (ScopeTrainView *self);
/* The table of the last epoch's clinical metrics on the test set (per class sensitivity,
 * specificity, precision, F1, ROC AUC, then their means) as shown; NULL before the first
 * epoch ends. */
const char      *scope_train_view_get_metrics_text (ScopeTrainView *self);
/* Saves the newest weights as a .safetensors model, atomically. */
gboolean         scope_train_view_save_model (ScopeTrainView  *self,
                                              GFile           *file,
                                              GError         **error);

G_END_DECLS
