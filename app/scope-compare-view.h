/* SPDX-License-Identifier: MIT */
/* ScopeCompareView: a second model of the same network beside the window's: the selected
 * channel's filters, activation and activation-maximization image and the layer's Grad-CAM in
 * both, and the per-layer CKA of both over a dataset. */
#pragma once

#include "scope-am-job.h"
#include "scope-view.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_COMPARE_VIEW (scope_compare_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopeCompareView, scope_compare_view, SCOPE, COMPARE_VIEW, ScopeView)

/* Model B, or NULL. */
ScopeModel        *scope_compare_view_get_model_b (ScopeCompareView *self);
/* The last CKA run's result, or NULL (none yet, or the models changed since). */
const NnCkaLayers *scope_compare_view_get_layers (ScopeCompareView *self);
/* Whether the activations of both models for the selected layer are shown. */
gboolean           scope_compare_view_has_outputs (ScopeCompareView *self);
/* Whether both models' Grad-CAM at the selected layer is shown. */
gboolean           scope_compare_view_has_cams (ScopeCompareView *self);
/* The settings both models' AM runs take (the Maximize view's defaults from Preferences; the
 * window sets them): layer, channel and start are the view's own. */
void               scope_compare_view_set_am_defaults (ScopeCompareView   *self,
                                                       const NnAmSettings *settings);
/* The settings set by scope_compare_view_set_am_defaults (nn_am_settings_init's at first). */
void               scope_compare_view_get_am_defaults (ScopeCompareView *self,
                                                       NnAmSettings     *settings);
/* The newest AM result of model A (0) or B (1) for the selected channel, or NULL. */
const ScopeAmResult *
                   scope_compare_view_get_am (ScopeCompareView *self,
                                              int               model);
/* Whether an AM run of either model is going on. */
gboolean           scope_compare_view_get_am_running (ScopeCompareView *self);

G_END_DECLS
