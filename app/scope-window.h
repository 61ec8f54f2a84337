/* SPDX-License-Identifier: MIT */
/* The main window: a model and an image, the layer list, the Activations, Filters and Train
 * views, the engine thread that computes the activations. Errors the user must see (a bad file, a
 * failed export) become the window's error message and a toast; the window keeps working. */
#pragma once

#include <adwaita.h>

#include "scope-activations.h"
#include "scope-frame-timer.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_WINDOW (scope_window_get_type ())

G_DECLARE_FINAL_TYPE (ScopeWindow, scope_window, SCOPE, WINDOW, AdwApplicationWindow)

ScopeWindow      *scope_window_new (GtkApplication *application);

/* Opens a model and an image (either may be NULL to keep the current one): the engine thread
 * reads them, then the activations are computed. A file that cannot be read shows a toast
 * naming it and the reason, and keeps what was open. Returns FALSE when a file was refused at
 * once (not a local file); read errors come later. */
gboolean          scope_window_open (ScopeWindow *self,
                                     GFile       *model,
                                     GFile       *image);
/* Reads a ground-truth mask (PNG, nonzero inside) on the engine thread and gives it to the
 * Explain view, fitted to the model input; an error shows a toast naming the file. Returns FALSE
 * when the file was refused at once. */
gboolean          scope_window_open_mask (ScopeWindow *self,
                                          GFile       *mask);
/* Opens a file dropped on the window or chosen from the recent files: a model when its name
 * ends in .safetensors, an image otherwise. */
gboolean          scope_window_open_file (ScopeWindow *self,
                                          GFile       *file);
/* Writes the visible view as PNG, SVG or PDF (by the file's extension), with a caption. */
gboolean          scope_window_export (ScopeWindow  *self,
                                       GFile        *file,
                                       GError      **error);

/* The activations shown (NULL until the first forward job has finished). */
ScopeActivations *scope_window_get_activations (ScopeWindow *self);
/* The selected layer (a node index of the model's graph, -1 without a model) and channel. */
int               scope_window_get_layer (ScopeWindow *self);
int               scope_window_get_channel (ScopeWindow *self);
/* Whether the engine has work queued, running or waiting for delivery. */
gboolean          scope_window_is_busy (ScopeWindow *self);
/* The last error shown to the user, NULL when there was none. */
const char       *scope_window_get_error_message (ScopeWindow *self);
/* Measures the main thread's work per frame (scope-frame-timer.h) from now on, or stops. Also
 * on when the environment variable CNNSCOPE_FRAME_TIMES is set; the figures are then printed
 * when the window closes. */
void              scope_window_set_frame_timing (ScopeWindow *self,
                                                 gboolean     enabled);
/* The running measurement, NULL when frame timing is off. */
ScopeFrameTimer  *scope_window_get_frame_timer (ScopeWindow *self);

G_END_DECLS
