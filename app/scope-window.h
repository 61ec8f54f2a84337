/* SPDX-License-Identifier: MIT */
/* The main window: a model and an input, the layer list, and the views (ScopeView pages of its
 * template, which binds the window's state to each of them); the engine thread opens files and
 * runs the forward pass. Errors the user must see (a bad file, a failed export) become the
 * window's error message and a toast; the window keeps working. Its actions and keys are added
 * by scope-window-actions.c, through this API only. */
#pragma once

#include <adwaita.h>

#include "scope-activations.h"
#include "scope-frame-timer.h"
#include "scope-input.h"
#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_WINDOW (scope_window_get_type ())

G_DECLARE_FINAL_TYPE (ScopeWindow, scope_window, SCOPE, WINDOW, AdwApplicationWindow)

/* settings: the preferences (size, recent files, colour map), or NULL to run on defaults. */
ScopeWindow      *scope_window_new (GtkApplication *application,
                                    GSettings      *settings);

/* Opens a model and an image (either may be NULL to keep the current one): the engine thread
 * reads them, then the activations are computed. A file that cannot be read shows a toast
 * naming it and the reason, and keeps what was open. Another model while a view holds unsaved
 * work (training, weights not saved) is opened only once the user confirms in a dialog. Returns
 * FALSE when a file was refused at once (not a local file); read errors come later. */
gboolean          scope_window_open (ScopeWindow *self,
                                     GFile       *model,
                                     GFile       *image);
/* Stops reading the models asked for and not yet open (a toast says so; the current model
 * stays). */
void              scope_window_cancel_open (ScopeWindow *self);
/* Whether a model asked for has not come back yet; the header shows a progress bar meanwhile. */
gboolean          scope_window_is_opening (ScopeWindow *self);
/* Reads a ground-truth mask (PNG, nonzero inside) on the engine thread and gives it to the
 * input; an error shows a toast naming the file. Returns FALSE when the file was refused at
 * once. */
gboolean          scope_window_open_mask (ScopeWindow *self,
                                          GFile       *mask);
/* Shows the Volume view reading volume (a NIfTI file or a DICOM series folder) on a worker;
 * an error shows a toast naming it, and the view keeps the volume it had. */
gboolean          scope_window_open_volume (ScopeWindow *self,
                                            GFile       *volume);
/* Whether file is a volume: a folder (a DICOM series) or a name ending in .nii or .nii.gz. */
gboolean          scope_window_is_volume (GFile *file);
/* Opens a file dropped on the window or chosen from the recent files: a volume (see
 * scope_window_is_volume), a model when its name ends in .safetensors or .onnx, an image
 * otherwise. */
gboolean          scope_window_open_file (ScopeWindow *self,
                                          GFile       *file);
/* Writes the visible view as PNG, SVG or PDF (by the file's extension), with a caption; a toast
 * names the file written. */
gboolean          scope_window_export (ScopeWindow  *self,
                                       GFile        *file,
                                       GError      **error);
/* A file name to export the visible view to: "<model>-<layer>-<view>.png" (or the extension of
 * the export-format preference); NULL without a model. To g_free. */
char             *scope_window_get_export_name (ScopeWindow *self);

/* Where a file dialog opens: the folder of the model opened last (for_model), else of the input
 * opened last, or the other way round; NULL before anything was opened. To g_object_unref. */
GFile            *scope_window_get_dialog_folder (ScopeWindow *self,
                                                  gboolean     for_model);

/* Shows the view of that name (its page's name: "activations", "explain", ...); FALSE when there
 * is none. */
gboolean          scope_window_show_view (ScopeWindow *self,
                                          const char  *name);
/* Shows the view named before the dot of action ("maximize.run": Maximize) and activates that
 * action of it (nothing when it is disabled); FALSE when there is no such view or action. */
gboolean          scope_window_activate_view_action (ScopeWindow *self,
                                                     const char  *action);
/* Stops the work of the visible view (its jobs cancelled and joined; what it shows stays). */
void              scope_window_cancel_view (ScopeWindow *self);

/* The model, the input (NULL or fitting the model), the newest activations (NULL until the
 * first forward pass has finished): the "model", "input" and "activations" properties. */
ScopeModel       *scope_window_get_model (ScopeWindow *self);
ScopeInput       *scope_window_get_input (ScopeWindow *self);
ScopeActivations *scope_window_get_activations (ScopeWindow *self);
/* The selected layer (a node index of the model's graph, -1 without a model) and channel. */
int               scope_window_get_layer (ScopeWindow *self);
int               scope_window_get_channel (ScopeWindow *self);
/* Selects node everywhere: the views and the layer list (a search that hides it is cleared).
 * The channel is kept when the new layer has it. */
void              scope_window_select_layer (ScopeWindow *self,
                                             int          node);
/* Selects the layer before (step < 0) or after (step > 0) the selected one in the layer list
 * as the search shows it. */
void              scope_window_step_layer (ScopeWindow *self,
                                           int          step);
/* Selects channel (clamped to the layer's channels) in every view. */
void              scope_window_select_channel (ScopeWindow *self,
                                               int          channel);
void              scope_window_focus_search (ScopeWindow *self);

/* Whether the engine or the visible view has work queued, running or waiting for delivery. */
gboolean          scope_window_is_busy (ScopeWindow *self);
/* Tells the user: the error becomes the window's error message and a toast. */
void              scope_window_show_error (ScopeWindow *self,
                                           const char  *format,
                                           ...) G_GNUC_PRINTF (2, 3);
void              scope_window_show_message (ScopeWindow *self,
                                             const char  *message);
/* The last message (not an error) shown to the user, NULL when there was none. */
const char       *scope_window_get_message (ScopeWindow *self);
/* The last error shown to the user, NULL when there was none. */
const char       *scope_window_get_error_message (ScopeWindow *self);
/* Measures the main thread's work per frame (scope-frame-timer.h) from now on, or stops; the
 * views report their work on delivery to it. Also on when the environment variable
 * CNNSCOPE_FRAME_TIMES is set; the figures are then printed when the window closes. */
void              scope_window_set_frame_timing (ScopeWindow *self,
                                                 gboolean     enabled);
/* The running measurement, NULL when frame timing is off. */
ScopeFrameTimer  *scope_window_get_frame_timer (ScopeWindow *self);

G_END_DECLS
