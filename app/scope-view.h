/* SPDX-License-Identifier: MIT */
/* ScopeView: the abstract page under every view of the window. The window's .ui binds the
 * window's state to each page (model, input, the forward pass's activations, the selected layer
 * and channel, the frame timer) and the window reaches the visible page only through this type
 * (export, cancel, busy, can-export), never by its name. Each page owns a status page, shown
 * instead of its content while it has nothing to show. docs/architecture.md: adding a view. */
#pragma once

#include <gtk/gtk.h>

#include "scope-activations.h"
#include "scope-frame-timer.h"
#include "scope-input.h"
#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_VIEW (scope_view_get_type ())

G_DECLARE_DERIVABLE_TYPE (ScopeView, scope_view, SCOPE, VIEW, GtkWidget)

/* What changed in the window's state, for ScopeViewClass.changed. */
typedef enum
{
  SCOPE_VIEW_MODEL       = 1 << 0,
  SCOPE_VIEW_INPUT       = 1 << 1,
  SCOPE_VIEW_ACTIVATIONS = 1 << 2,
  SCOPE_VIEW_LAYER       = 1 << 3,
  SCOPE_VIEW_CHANNEL     = 1 << 4,
} ScopeViewChange;

struct _ScopeViewClass
{
  GtkWidgetClass parent_class;

  /* The window's state changed: the new value is stored (the getters return it) and is
   * notified after this returns. Optional. */
  void     (*changed) (ScopeView       *self,
                       ScopeViewChange  what);
  /* Writes what the view shows, with its caption, as PNG, SVG or PDF (by the extension of
   * path); FALSE with an error naming path. */
  gboolean (*export)  (ScopeView   *self,
                       const char  *path,
                       GError     **error);
  /* Stops the view's work at once (cancels and joins its jobs); what it has stays shown.
   * Optional. */
  void     (*cancel)  (ScopeView *self);
};

/* Registers the type of every view of app/meson.build's list (scope-view-types.c, made from
 * that list), so that the window's template can name them. */
void              scope_view_ensure_types (void);

/* The window's state, as bound by its template. */
ScopeModel       *scope_view_get_model (ScopeView *self);
/* The input, NULL or fitting the model. */
ScopeInput       *scope_view_get_input (ScopeView *self);
/* The newest forward pass (of the model or of an earlier snapshot of the same structure), or
 * NULL. */
ScopeActivations *scope_view_get_activations (ScopeView *self);
/* The selected node of the model's graph; -1 without a model or for a node it does not have. */
int               scope_view_get_layer (ScopeView *self);
/* The selected channel, -1 for none. */
int               scope_view_get_channel (ScopeView *self);
/* Selects channel, in the window too: the window binds "channel" both ways. */
void              scope_view_set_channel (ScopeView *self,
                                          int        channel);
/* The window's frame timer (NULL when frame timing is off), for work done on delivery. */
ScopeFrameTimer  *scope_view_get_frame_timer (ScopeView *self);

gboolean          scope_view_export (ScopeView   *self,
                                     const char  *path,
                                     GError     **error);
void              scope_view_cancel (ScopeView *self);
/* Whether the view has work queued or running (the "busy" property). */
gboolean          scope_view_get_busy (ScopeView *self);
/* Whether the view has a figure to export (the "can-export" property). */
gboolean          scope_view_get_can_export (ScopeView *self);
/* What closing the window would lose (a training run going on, weights not saved), as the
 * user reads it; NULL when nothing. The window asks before closing when a view has some. */
const char       *scope_view_get_unsaved (ScopeView *self);

/* For the views themselves. */
void              scope_view_set_busy (ScopeView *self,
                                       gboolean   busy);
void              scope_view_set_can_export (ScopeView *self,
                                             gboolean   can_export);
void              scope_view_set_unsaved (ScopeView  *self,
                                          const char *reason);
/* Shows the status page (an icon, a title and a description, which may be NULL) instead of the
 * content, or the content again (title NULL). */
void              scope_view_show_status (ScopeView  *self,
                                          const char *icon_name,
                                          const char *title,
                                          const char *description);
/* Tells the window something went wrong (the "failed" signal): a toast shows the message. */
void              scope_view_report_error (ScopeView  *self,
                                           const char *format,
                                           ...) G_GNUC_PRINTF (2, 3);
/* Tells the window a user's request was done (the "done" signal): a toast shows message. */
void              scope_view_report_done (ScopeView  *self,
                                          const char *message);
/* Asks the window to show model in every view (the "show-model" signal): a training run's
 * newest weights. */
void              scope_view_show_model (ScopeView  *self,
                                         ScopeModel *model);
/* Asks the window to make input (built for the current model) the input of every view (the
 * "show-input" signal): a sample of a dataset picked in the Feature Space view. */
void              scope_view_show_input (ScopeView  *self,
                                         ScopeInput *input);

G_END_DECLS
