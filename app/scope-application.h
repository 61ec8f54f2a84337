/* SPDX-License-Identifier: MIT */
/* The application: `cnnscope [MODEL] [IMAGE]`, opening the shipped demo model and a sample
 * image when started without files; preferences, the About window, the quit action. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SCOPE_APPLICATION_ID "org.cnnscope.Cnnscope"

#define SCOPE_TYPE_APPLICATION (scope_application_get_type ())

G_DECLARE_FINAL_TYPE (ScopeApplication, scope_application, SCOPE, APPLICATION,
                      AdwApplication)

ScopeApplication *scope_application_new (GApplicationFlags flags);

/* The preferences (schema org.cnnscope.Cnnscope), or NULL when the schema is neither installed
 * nor in the build folder (the application then runs on its defaults). */
GSettings        *scope_application_get_settings (ScopeApplication *self);
/* Where the preferences are kept when there is no session bus (dconf, GSettings' usual store,
 * needs one): a key file, the path returned here; NULL when GSettings' default store is used. */
const char       *scope_application_get_settings_file (ScopeApplication *self);
/* The file: URI of the user guide (docs/app.md: the source tree's for a program of the build
 * tree, else the installed one), which Help (F1) opens. To g_free. */
char             *scope_application_get_help_uri (void);

G_END_DECLS
