/* SPDX-License-Identifier: MIT */
/* What the UI tests share: driving a window through its actions. */
#pragma once

#include <gtk/gtk.h>

/* Activates `action` on widget with the parameter built from format and the arguments
 * (g_variant_new; NULL format: no parameter); the test fails when the action is not there. */
void ui_util_activate (GtkWidget  *widget,
                       const char *action,
                       const char *format,
                       ...);
