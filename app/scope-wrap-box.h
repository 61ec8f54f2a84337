/* SPDX-License-Identifier: MIT */
/* ScopeWrapBox: its children side by side at their natural widths, wrapping onto further lines
 * when the box is too narrow for one (GTK 4.8 has no wrap box; GtkFlowBox aligns columns). A
 * toolbar built of it keeps a narrow window usable. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SCOPE_TYPE_WRAP_BOX (scope_wrap_box_get_type ())

G_DECLARE_FINAL_TYPE (ScopeWrapBox, scope_wrap_box, SCOPE, WRAP_BOX, GtkWidget)

/* Children are added as <child> in a .ui file or with gtk_widget_set_parent; the box unparents
 * them when it goes. Properties: "spacing" between children of a line, "row-spacing" between
 * lines (px). */
GtkWidget *scope_wrap_box_new (void);

G_END_DECLS
