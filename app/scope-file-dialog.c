/* SPDX-License-Identifier: MIT */
/* GtkFileChooserNative with a weak reference to its owner: the dialog holds itself until the
 * user answers, then calls back if the owner is still there. */
#include "scope-file-dialog.h"

#include <glib/gi18n.h>

typedef struct
{
  GWeakRef            owner;
  ScopeFileDialogFunc func;
} Request;

static void
on_response (GtkNativeDialog *dialog,
             int              response,
             gpointer         data)
{
  Request *request = data;
  g_autoptr (GtkWidget) owner = g_weak_ref_get (&request->owner);

  if (response == GTK_RESPONSE_ACCEPT && owner != NULL)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (file != NULL)
        request->func (owner, file);
    }
  g_weak_ref_clear (&request->owner);
  g_free (request);
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

void
scope_file_dialog_run (GtkWidget            *owner,
                       GtkFileChooserAction  action,
                       const char           *title,
                       const char           *accept_label,
                       const ScopeFileType  *types,
                       int                   n_types,
                       GFile                *folder,
                       const char           *current_name,
                       ScopeFileDialogFunc   func)
{
  g_return_if_fail (GTK_IS_WIDGET (owner));
  g_return_if_fail (func != NULL);

  GtkWindow *parent = GTK_WINDOW (gtk_widget_get_root (owner));
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (title, parent, action,
                                                              accept_label, NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  for (int i = 0; i < n_types; i++)
    {
      GtkFileFilter *filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, _ (types[i].name));
      g_auto (GStrv) patterns = g_strsplit (types[i].patterns, ";", -1);
      for (int k = 0; patterns[k] != NULL; k++)
        gtk_file_filter_add_pattern (filter, patterns[k]);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
      if (i == 0)
        gtk_file_chooser_set_filter (GTK_FILE_CHOOSER (dialog), filter);
      g_object_unref (filter);
    }
  if (folder != NULL)
    gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (dialog), folder, NULL);
  if (action == GTK_FILE_CHOOSER_ACTION_SAVE && current_name != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), current_name);

  Request *request = g_new0 (Request, 1);
  g_weak_ref_init (&request->owner, owner);
  request->func = func;
  g_signal_connect (dialog, "response", G_CALLBACK (on_response), request);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}
