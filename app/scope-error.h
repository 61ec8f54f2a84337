/* SPDX-License-Identifier: MIT */
/* The one place where an engine error (NnError) becomes a GError, so that failures reach the
 * window as values it can show in a toast. */
#pragma once

#include <glib.h>

#include "nn.h"

G_BEGIN_DECLS

/* Codes of this domain are NnErrorCode values. */
#define SCOPE_NN_ERROR (scope_nn_error_quark ())

GQuark scope_nn_error_quark (void);

/* Sets *error (when error is not NULL) to err's code and message; err names the file and what
 * is wrong with it. */
void   scope_error_from_nn (GError        **error,
                            const NnError  *err);

G_END_DECLS
