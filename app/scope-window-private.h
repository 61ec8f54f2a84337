/* SPDX-License-Identifier: MIT */
/* What the parts of ScopeWindow share: the instance struct and the functions that change the
 * selection or tell the user something. scope-window.c holds the type, the state and the engine
 * glue; scope-window-actions.c the actions, the keys and the file dialogs. */
#pragma once

#include "scope-window.h"

#include "scope-activations-view.h"
#include "scope-engine.h"
#include "scope-explain-view.h"
#include "scope-filters-view.h"
#include "scope-frame-timer.h"
#include "scope-maximize-view.h"
#include "scope-model.h"
#include "scope-pfm-view.h"
#include "scope-train-view.h"

G_BEGIN_DECLS

struct _ScopeWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template children. */
  AdwToastOverlay      *toast_overlay;
  AdwViewStack         *view_stack;
  GtkPaned             *paned;
  GtkLabel             *model_label;
  GtkLabel             *model_detail_label;
  GtkLabel             *input_label;
  GtkLabel             *prediction_label;
  GtkSearchEntry       *search_entry;
  GtkListView          *layer_list;
  GtkSingleSelection   *layer_selection;
  GtkFilterListModel   *layer_filter_model;
  GtkStack             *activations_stack;
  AdwStatusPage        *activations_status;
  ScopeActivationsView *activations_view;
  GtkStack             *filters_stack;
  GtkLabel             *input_channel_label;
  GtkSpinButton        *input_channel_spin;
  ScopeFiltersView     *filters_view;
  ScopePfmView         *pfm_view;
  ScopeTrainView       *train_view;
  ScopeMaximizeView    *maximize_view;
  GMenu                *recent_menu;
  gboolean              follow_training; /* the views show the training run's weights */
  ScopeExplainView     *explain_view;

  GSettings            *settings;   /* NULL without an installed or built schema */
  ScopeEngine          *engine;
  ScopeModel           *model;
  ScopeInput           *input;      /* the input opened last; fits model, or is being rebuilt */
  int                   node;       /* selected layer, -1 without a model */
  int                   channel;
  char                 *filter_mode; /* "summed" or "input-channel" */
  char                 *error_message;
  ScopeFrameTimer      *frame_timer; /* NULL unless frame timing is on */
};

/* Errors the user must see: kept as the window's state and shown as a toast. */
void           scope_window_show_error (ScopeWindow *self,
                                        const char  *format,
                                        ...) G_GNUC_PRINTF (2, 3);
void           scope_window_show_message (ScopeWindow *self,
                                          const char  *message);
const NnGraph *scope_window_get_graph (ScopeWindow *self);
/* Position of node in the (searched) layer list, or GTK_INVALID_LIST_POSITION. */
guint          scope_window_find_layer_position (ScopeWindow *self,
                                                 int          node);
/* Selects node everywhere: the views, the filters controls and the layer list. The channel is
 * kept when the new layer has it. */
void           scope_window_select_layer (ScopeWindow *self,
                                          int          node);
void           scope_window_select_channel (ScopeWindow *self,
                                            int          channel);

/* Puts path first in the recent files (GSettings "recent-files") and rebuilds the menu. */
void           scope_window_add_recent (ScopeWindow *self,
                                        const char  *path);
/* Fills the Open Recent menu from the settings. */
void           scope_window_update_recent_menu (ScopeWindow *self);

/* scope-window-actions.c: installs the actions on the class; adds the keys to a new window. */
void           scope_window_class_install_actions (GtkWidgetClass *widget_class);
void           scope_window_add_keys (ScopeWindow *self);

G_END_DECLS
