/* SPDX-License-Identifier: MIT */
/* ScopeExplainView: the input with one or two attribution overlays, the top predictions and the
 * faithfulness metrics filled in as a ScopeExplainJob computes them. */
#pragma once

#include <gtk/gtk.h>

#include "scope-explain-job.h"
#include "scope-input.h"
#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_EXPLAIN_VIEW (scope_explain_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopeExplainView, scope_explain_view, SCOPE, EXPLAIN_VIEW, GtkWidget)

/* The model and the input to explain (either may be NULL; input must fit model). Work starts
 * when the view is shown, and starts again when a setting that changes the maps changes. The
 * input's mask, when it has one, adds the pointing game and the energy share. */
void                       scope_explain_view_set_input (ScopeExplainView *self,
                                                         ScopeModel       *model,
                                                         ScopeInput       *input);
gboolean                   scope_explain_view_has_mask (ScopeExplainView *self);
/* Whether the input is a CT slice, and the window it is shown through under the overlays (the
 * model keeps its own). */
gboolean                   scope_explain_view_get_ct_window (ScopeExplainView *self,
                                                             NnCtWindow       *window);
/* The method of panel 0, or of panel 1 (-1 there: no comparison). */
void                       scope_explain_view_set_method (ScopeExplainView *self,
                                                          int               panel,
                                                          int               method);
/* Cancels and joins the running jobs; their partial results stay on screen. */
void                       scope_explain_view_cancel (ScopeExplainView *self);
gboolean                   scope_explain_view_is_busy (ScopeExplainView *self);
/* What panel shows now (borrowed), or NULL. */
ScopeExplanation          *scope_explain_view_get_explanation (ScopeExplainView *self,
                                                               int               panel);
ScopeExplainMetrics       *scope_explain_view_get_metrics (ScopeExplainView *self,
                                                           int               panel);
/* The view as PNG, SVG or PDF with colour bars and a caption of every setting. */
gboolean                   scope_explain_view_export (ScopeExplainView  *self,
                                                      const char        *path,
                                                      GError           **error);

G_END_DECLS
