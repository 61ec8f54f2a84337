/* SPDX-License-Identifier: MIT */
/* The Explain view: the input with one or two attribution overlays, the top predictions and the
 * faithfulness metrics filled in as its ScopeExplainJobs compute them (the pickers, the jobs
 * and their results here; the drawing in ScopeExplainFigure). Work starts when the view is
 * shown and starts again when the model, the input (or its mask) or a setting that changes the
 * maps changes. */
#pragma once

#include "scope-explain-job.h"
#include "scope-view.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_EXPLAIN_VIEW (scope_explain_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopeExplainView, scope_explain_view, SCOPE, EXPLAIN_VIEW, ScopeView)

/* Whether the input has a ground-truth mask: the pointing game and the energy share show. */
gboolean             scope_explain_view_has_mask (ScopeExplainView *self);
/* Whether the input is a CT slice, and the window it is shown through under the overlays (the
 * model keeps its own). */
gboolean             scope_explain_view_get_ct_window (ScopeExplainView *self,
                                                       NnCtWindow       *window);
/* The method (an NnMethod) of panel 0, or of panel 1 (-1 there: no comparison). */
void                 scope_explain_view_set_method (ScopeExplainView *self,
                                                    int               panel,
                                                    int               method);
/* What panel shows now (borrowed), or NULL. */
ScopeExplanation    *scope_explain_view_get_explanation (ScopeExplainView *self,
                                                         int               panel);
ScopeExplainMetrics *scope_explain_view_get_metrics (ScopeExplainView *self,
                                                     int               panel);

G_END_DECLS
