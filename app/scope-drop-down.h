/* SPDX-License-Identifier: MIT */
/* Drop-downs of strings whose button keeps one width whatever is chosen, so that choosing does
 * not move the controls around them (the popup lists the whole strings). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Gives drop (a GtkDropDown over a GtkStringList) a button label exactly `chars` characters
 * wide, ellipsized at the end, and a popup of whole labels. */
void scope_drop_down_fix_width (GtkDropDown *drop,
                                int          chars);

G_END_DECLS
