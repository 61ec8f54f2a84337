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
/* The display window of CT slices for models without a window of their own (lung until set),
 * shown from now on. */
void                 scope_explain_view_set_default_window (ScopeExplainView *self,
                                                            NnCtWindow        window);
/* The method (an NnMethod) of panel 0, or of panel 1 (-1 there: no comparison). */
void                 scope_explain_view_set_method (ScopeExplainView *self,
                                                    int               panel,
                                                    int               method);
/* The settings of the methods that have their own (each panel using the method gets them). */
typedef struct
{
  int    ig_baseline;       /* an NnBaselineKind, or NN_BASELINE_COUNT_: the chosen image */
  int    ig_steps;
  int    smooth_samples;
  double smooth_noise;      /* sigma as a fraction of the input's range */
  int    occlusion_window;  /* patch side in pixels */
  int    occlusion_stride;
  int    shap_samples;
  double shap_noise;
} ScopeExplainMethodSettings;

/* Sets the controls (not the baseline) as a user would: a change computes the maps again. */
void                 scope_explain_view_set_method_settings (
  ScopeExplainView                 *self,
  const ScopeExplainMethodSettings *settings);
void                 scope_explain_view_get_method_settings (
  ScopeExplainView           *self,
  ScopeExplainMethodSettings *settings);
/* Chooses IG's baseline kind (an NnBaselineKind) in its menu; NN_BASELINE_COUNT_ (the chosen
 * image) asks for a file when there is none yet. */
void                 scope_explain_view_set_baseline (ScopeExplainView *self,
                                                      int               kind);
/* Reads file as IG's baseline image, built like the input for the model, and chooses it;
 * FALSE with error when it cannot be read. */
gboolean             scope_explain_view_set_baseline_image (ScopeExplainView  *self,
                                                            GFile             *file,
                                                            GError           **error);
/* Explains every image of folder with panel 0's method and settings on a thread of its own, in
 * a window of its own (a ScopeBatchWindow, returned borrowed) with progress, a cancel button and
 * a table of the results; NULL with error when the folder cannot be read or has no image. */
GtkWindow           *scope_explain_view_explain_folder (ScopeExplainView  *self,
                                                        GFile             *folder,
                                                        GError           **error);
/* What panel shows now (borrowed), or NULL. */
ScopeExplanation    *scope_explain_view_get_explanation (ScopeExplainView *self,
                                                         int               panel);
ScopeExplainMetrics *scope_explain_view_get_metrics (ScopeExplainView *self,
                                                     int               panel);
/* Whether panel shows a map of a training run's weights, and their stamp (step, epoch,
 * version; zeros when not). */
gboolean             scope_explain_view_get_stamp (ScopeExplainView *self,
                                                   int               panel,
                                                   ScopeTrainStamp  *stamp);
/* How many explanations the view started (each of its one or two panels), for tests of how
 * a training run's snapshots are coalesced. */
guint                scope_explain_view_get_n_runs (ScopeExplainView *self);
/* The status the progress bar shows ("Done: Score-CAM, 512 channels, batch 2, 3.20 s"; borrowed),
 * or NULL. */
const char          *scope_explain_view_get_status (ScopeExplainView *self);

G_END_DECLS
