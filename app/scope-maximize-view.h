/* SPDX-License-Identifier: MIT */
/* The Maximize view: activation maximization of the selected channel of the selected layer (or
 * of a class logit), live on a worker thread with the objective curve; plain and ProxyGrad side
 * by side with their final values; every channel of the layer as a grid filled in as batches
 * finish; stop (the view's cancel); export. The runs are ScopeAmJobs; errors go to the window
 * by ScopeView's "failed" signal. */
#pragma once

#include "scope-am-job.h"
#include "scope-examples-panel.h"
#include "scope-view.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_MAXIMIZE_VIEW (scope_maximize_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopeMaximizeView, scope_maximize_view, SCOPE, MAXIMIZE_VIEW, ScopeView)

typedef enum
{
  SCOPE_MAXIMIZE_NONE,      /* nothing run yet */
  SCOPE_MAXIMIZE_SINGLE,    /* one run of the chosen policy */
  SCOPE_MAXIMIZE_COMPARE,   /* exact and ProxyGrad side by side */
  SCOPE_MAXIMIZE_ALL,       /* every channel of the layer */
} ScopeMaximizeMode;

/* Where a run starts. */
typedef enum
{
  SCOPE_MAXIMIZE_START_NOISE,
  SCOPE_MAXIMIZE_START_IMAGE,     /* the image chosen (scope_maximize_view_set_start_image) */
  SCOPE_MAXIMIZE_START_PREVIOUS,  /* panel 0's final image of the last run */
} ScopeMaximizeStart;

/* The settings as the controls show them (layer and channel from the window's; the objective
 * and its unit, percentile or direction, policy, slope, warm-up, steps, learning rate,
 * optimizer, parameterization, penalties, seed, start, transforms and their strengths from the
 * controls). channels, direction and start point into the view and stay valid until the next
 * call (or the next run). */
void               scope_maximize_view_get_settings (ScopeMaximizeView *self,
                                                     NnAmSettings      *settings);
/* Shows settings in the controls: all of them but the layer, channel and start. */
void               scope_maximize_view_set_settings (ScopeMaximizeView  *self,
                                                     const NnAmSettings *settings);
/* Chooses where runs start; START_IMAGE asks for a file when none is chosen yet. */
void               scope_maximize_view_set_start (ScopeMaximizeView  *self,
                                                  ScopeMaximizeStart  start);
/* Reads file (image or .npy) as the start, built for the model, and chooses it; FALSE with
 * error when it cannot be read. */
gboolean           scope_maximize_view_set_start_image (ScopeMaximizeView  *self,
                                                        GFile              *file,
                                                        GError            **error);
/* Targets a class logit (class >= 0) instead of the layer's channel (class < 0). */
void               scope_maximize_view_set_class (ScopeMaximizeView *self,
                                                  int                class_index);

gboolean           scope_maximize_view_is_running (ScopeMaximizeView *self);
ScopeMaximizeMode  scope_maximize_view_get_mode (ScopeMaximizeView *self);
/* The newest result of panel k (0, or 1 for ProxyGrad when comparing), or NULL. */
ScopeAmResult     *scope_maximize_view_get_result (ScopeMaximizeView *self,
                                                   int                panel);
/* The dataset examples panel under the figure. */
ScopeExamplesPanel *scope_maximize_view_get_examples_panel (ScopeMaximizeView *self);
/* Images shown since the last start (panel 0's results), for the update rate. */
guint              scope_maximize_view_get_n_images (ScopeMaximizeView *self);
/* Channels of the grid with their final image, and the grid's size. */
int                scope_maximize_view_get_n_tiles_done (ScopeMaximizeView *self,
                                                         int               *n_tiles);
/* The label under grid tile k as the figure shows it (viz_am_figure_tile_label); NULL outside
 * a grid. To g_free. */
char              *scope_maximize_view_get_tile_label (ScopeMaximizeView *self,
                                                       int                k);

G_END_DECLS
