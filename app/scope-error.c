/* SPDX-License-Identifier: MIT */
/* NnError to GError. */
#include "scope-error.h"

G_DEFINE_QUARK (scope-nn-error-quark, scope_nn_error)

void
scope_error_from_nn (GError        **error,
                     const NnError  *err)
{
  g_return_if_fail (err != NULL);

  g_set_error_literal (error, SCOPE_NN_ERROR, (int) err->code,
                       err->message[0] != '\0' ? err->message : "unknown engine error");
}
