/* SPDX-License-Identifier: MIT */
/* The window's actions (layer.*, channel.*, view.*, search.*, file.*) with their file dialogs,
 * and the one table of every key of the window. The application adds them to each window it
 * makes; they reach the window through its public API only. */
#pragma once

#include "scope-window.h"

G_BEGIN_DECLS

void scope_window_actions_add (ScopeWindow *window);

G_END_DECLS
