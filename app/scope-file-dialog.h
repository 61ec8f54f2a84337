/* SPDX-License-Identifier: MIT */
/* The one helper behind every file dialog of the application: GtkFileChooserNative (GTK 4.8
 * has no GtkFileDialog), portal-aware, modal to its window. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A filter of the dialog: its name and glob patterns separated by ';' ("*.png;*.jpg"). */
typedef struct
{
  const char *name;
  const char *patterns;
} ScopeFileType;

/* Called with the chosen file when the user accepts, and only while owner still exists. */
typedef void (*ScopeFileDialogFunc) (GtkWidget *owner,
                                     GFile     *file);

/* Opens a dialog, modal to owner's window, to open (GTK_FILE_CHOOSER_ACTION_OPEN) or save
 * (..._SAVE) one file or to choose a folder (..._SELECT_FOLDER), offering the n_types filters
 * (the first is chosen) and, for saving, current_name. It opens in folder (NULL: the chooser's
 * own choice, which is Recent, where a typed path is not followed). Returns at once. */
void scope_file_dialog_run (GtkWidget            *owner,
                            GtkFileChooserAction  action,
                            const char           *title,
                            const char           *accept_label,
                            const ScopeFileType  *types,
                            int                   n_types,
                            GFile                *folder,
                            const char           *current_name,
                            ScopeFileDialogFunc   func);

G_END_DECLS
