/* SPDX-License-Identifier: MIT */
/* ScopeExamplesPanel: the Maximize view's dataset examples of the selected channel: the samples
 * of a dataset (Fashion-MNIST or an image folder) that activate it most and least, whole with
 * the unit's receptive field outlined or cropped to it. The ranking of the whole layer runs in
 * a ScopeExamplesJob with progress and stop, and is cached per model file, dataset and layer. */
#pragma once

#include <gtk/gtk.h>

#include "scope-examples-job.h"

G_BEGIN_DECLS

/* Examples per channel and end. */
#define SCOPE_EXAMPLES_K 8

#define SCOPE_TYPE_EXAMPLES_PANEL (scope_examples_panel_get_type ())

G_DECLARE_FINAL_TYPE (ScopeExamplesPanel, scope_examples_panel, SCOPE, EXAMPLES_PANEL, GtkWidget)

/* Follows the window's model, layer and channel (model may be NULL, layer -1). A new model or
 * layer drops the examples shown; when the cache holds the ranking for them, it is read at
 * once (in the background). A new channel of the same layer is shown from the ranking held. */
void           scope_examples_panel_set_target (ScopeExamplesPanel *self,
                                                ScopeModel         *model,
                                                int                 layer,
                                                int                 channel);
/* Chooses an image folder as the dataset. */
void           scope_examples_panel_set_folder (ScopeExamplesPanel *self,
                                                const char         *path);
/* Ranks the dataset for the layer (or reads the cache), in the background; FALSE when there is
 * no model, layer or dataset to rank. */
gboolean       scope_examples_panel_run (ScopeExamplesPanel *self);
/* Stops a ranking in progress (what was shown stays). */
void           scope_examples_panel_cancel (ScopeExamplesPanel *self);
gboolean       scope_examples_panel_is_running (ScopeExamplesPanel *self);
/* Whether each tile shows only the receptive field. */
void           scope_examples_panel_set_crop (ScopeExamplesPanel *self,
                                              gboolean            crop);
/* The ranking shown, or NULL. */
ScopeExamples *scope_examples_panel_get_examples (ScopeExamplesPanel *self);
/* The status line under the buttons. */
const char    *scope_examples_panel_get_status (ScopeExamplesPanel *self);

G_END_DECLS
