/* SPDX-License-Identifier: MIT */
/* The Preferences window: the settings people change (the colour map of activations, the
 * default CT window, the export format, the settings activation maximization starts with, the
 * engine's threads), bound to the application's GSettings. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* A new preferences window over parent, its rows bound to settings (schema
 * org.cnnscope.Cnnscope): a change applies at once and is kept. */
GtkWindow *scope_preferences_new (GtkWindow *parent,
                                  GSettings *settings);

G_END_DECLS
