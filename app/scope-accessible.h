/* SPDX-License-Identifier: MIT */
/* Names of controls and figures for assistive technologies. GTK 4.8 has no getter for a
 * widget's accessible properties, so each name given here is also kept on the widget, where
 * the UI tests read it. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Sets widget's accessible label (GTK_ACCESSIBLE_PROPERTY_LABEL) to label and keeps a copy. */
void        scope_accessible_set_label       (GtkWidget  *widget,
                                              const char *label);
/* The label set by scope_accessible_set_label, or NULL. */
const char *scope_accessible_get_label       (GtkWidget  *widget);
/* Relates widget to the label that names it on screen (GTK_ACCESSIBLE_RELATION_LABELLED_BY). */
void        scope_accessible_set_labelled_by (GtkWidget  *widget,
                                              GtkWidget  *label);
/* The label set by scope_accessible_set_labelled_by, or NULL. */
GtkWidget  *scope_accessible_get_labelled_by (GtkWidget  *widget);
/* Names the controls under root that have no name yet: an icon-only button (or menu button)
 * by its tooltip, a spin button, scale, drop-down or entry by the label (or labelled check
 * button) beside it: the cell to its left in a grid, else the one just before it or before its
 * box. Controls added later are named by calling it again. */
void        scope_accessible_name_controls   (GtkWidget  *root);

G_END_DECLS
