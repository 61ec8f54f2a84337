/* SPDX-License-Identifier: MIT */
/* The Train view: the settings of a run (dataset, architecture, width, optimizer, learning
 * rate, epochs, batch, images per class, gradient policy), start, pause, resume and stop, the
 * live curves and confusion matrix, and saving the trained model. The run is a ScopeTrainJob;
 * every copy of its weights is passed on by the "snapshot" signal for the other views. */
#pragma once

#include <gtk/gtk.h>

#include "scope-frame-timer.h"
#include "scope-train-chart.h"
#include "scope-train-job.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_TRAIN_VIEW (scope_train_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopeTrainView, scope_train_view, SCOPE, TRAIN_VIEW, GtkWidget)

GtkWidget       *scope_train_view_new (void);

/* The settings as the controls show them. */
void             scope_train_view_get_settings (ScopeTrainView     *self,
                                                ScopeTrainSettings *settings);
/* Shows settings in the controls (a folder dataset selects "Image folder"). */
void             scope_train_view_set_settings (ScopeTrainView           *self,
                                                const ScopeTrainSettings *settings);
/* Starts a run with the controls' settings, stopping the previous one. */
gboolean         scope_train_view_start (ScopeTrainView  *self,
                                         GError         **error);
void             scope_train_view_pause (ScopeTrainView *self);
void             scope_train_view_resume (ScopeTrainView *self);
/* Stops the run and joins its thread. */
void             scope_train_view_stop (ScopeTrainView *self);
ScopeTrainState  scope_train_view_get_state (ScopeTrainView *self);
/* The newest weights of the run (NULL before the first copy arrives). */
ScopeModel      *scope_train_view_get_model (ScopeTrainView *self);
ScopeTrainChart *scope_train_view_get_chart (ScopeTrainView *self);
/* Saves the newest weights as a .safetensors model, atomically. */
gboolean         scope_train_view_save_model (ScopeTrainView  *self,
                                              GFile           *file,
                                              GError         **error);
/* Writes the curves and the confusion matrix as PNG, SVG or PDF (by extension). */
gboolean         scope_train_view_export (ScopeTrainView  *self,
                                          const char      *path,
                                          GError         **error);
/* The main-thread work of each update (from start until now) is reported to timer (NULL: not
 * reported); the view does not own the timer. */
void             scope_train_view_set_frame_timer (ScopeTrainView  *self,
                                                   ScopeFrameTimer *timer);

G_END_DECLS
