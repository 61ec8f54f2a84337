/* SPDX-License-Identifier: MIT */
/* cnnscope: the desktop application. `cnnscope [MODEL] [IMAGE]`. */
#include <glib/gi18n.h>
#include <locale.h>

#include "scope-application.h"
#include "scope-config.h"

int
main (int    argc,
      char **argv)
{
  /* The strings of the window in the user's language (po/), where a catalogue is installed. */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, SCOPE_LOCALE_DIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_autoptr (ScopeApplication) application = scope_application_new (G_APPLICATION_HANDLES_OPEN);
  return g_application_run (G_APPLICATION (application), argc, argv);
}
