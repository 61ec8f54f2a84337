/* SPDX-License-Identifier: MIT */
/* cnnscope: the desktop application. `cnnscope [MODEL] [IMAGE]`. */
#include "scope-application.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr (ScopeApplication) application = scope_application_new (G_APPLICATION_HANDLES_OPEN);
  return g_application_run (G_APPLICATION (application), argc, argv);
}
