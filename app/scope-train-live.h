/* SPDX-License-Identifier: MIT */
/* ScopeTrainLive: the live explanations under the Train view's curves. The probe images the
 * user chose, each with its Grad-CAM, and a strip of activation maximization images of a few
 * channels of one layer (or the logits), computed again in the background on a training run's
 * newest weights: one round (a ScopeExplainJob per probe and one ScopeAmJob) at a time, the
 * weights that arrive meanwhile coalesced to the newest, the AM images warm-started from the
 * previous round's. The Train view's template holds the widgets; this drives them. */
#pragma once

#include <gtk/gtk.h>

#include "scope-am-job.h"
#include "scope-explain-job.h"
#include "scope-input.h"
#include "scope-model.h"

G_BEGIN_DECLS

typedef struct _ScopeTrainLive ScopeTrainLive;

/* The widgets it fills (borrowed; they outlive it); changed (data) runs on the main thread
 * whenever a round starts or ends. */
typedef struct
{
  GtkCheckButton *live_check;     /* on: rounds run */
  GtkLabel       *live_label;     /* which weights the pictures show */
  GtkBox         *probe_box;      /* a tile per probe is appended here */
  GtkWidget      *probe_hint;     /* shown while there is no probe */
  GtkDropDown    *am_layer_drop;  /* the strip's layer */
  GtkDrawingArea *am_strip;
  GCallback       changed;        /* void changed (gpointer data) */
  gpointer        data;
} ScopeTrainLiveWidgets;

/* How many images the AM strip shows at most, and its steps from noise and from the previous
 * round's images. */
#define SCOPE_TRAIN_LIVE_AM_IMAGES     6
#define SCOPE_TRAIN_LIVE_AM_STEPS      48
#define SCOPE_TRAIN_LIVE_AM_WARM_STEPS 12

ScopeTrainLive   *scope_train_live_new (const ScopeTrainLiveWidgets *widgets);
/* Cancels and joins the running jobs. */
void              scope_train_live_free (ScopeTrainLive *self);
/* The run's newest weights (a stamped snapshot): a round starts on them now when none runs,
 * else when the running one ends, unless newer weights came by then. */
void              scope_train_live_set_weights (ScopeTrainLive *self,
                                                ScopeModel     *model);
/* Adds input (built for any model: it is built again for the run's) as a probe; its Grad-CAM
 * is of true_class, or of the top prediction when true_class is -1. */
void              scope_train_live_add_probe (ScopeTrainLive *self,
                                              ScopeInput     *input,
                                              int             true_class);
void              scope_train_live_remove_probe (ScopeTrainLive *self,
                                                 guint           index);
guint             scope_train_live_get_n_probes (ScopeTrainLive *self);
/* Probe index's Grad-CAM shown now (borrowed) and the stamp of the weights it was computed
 * with; NULL before the first. */
ScopeExplanation *scope_train_live_get_probe_explanation (ScopeTrainLive  *self,
                                                          guint            index,
                                                          ScopeTrainStamp *stamp);
/* The AM images shown now (borrowed) and the stamp of their weights; NULL before the first. */
ScopeAmResult    *scope_train_live_get_am (ScopeTrainLive  *self,
                                           ScopeTrainStamp *stamp);
/* Rounds started so far, and whether one runs. */
guint             scope_train_live_get_n_rounds (ScopeTrainLive *self);
gboolean          scope_train_live_is_running (ScopeTrainLive *self);

G_END_DECLS
