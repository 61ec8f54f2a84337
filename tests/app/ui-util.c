/* SPDX-License-Identifier: MIT */
/* What the UI tests share: driving a window through its actions. */
#include "ui-util.h"

void
ui_util_activate (GtkWidget  *widget,
                  const char *action,
                  const char *format,
                  ...)
{
  GVariant *parameter = NULL;
  if (format != NULL)
    {
      va_list args;
      va_start (args, format);
      parameter = g_variant_new_va (format, NULL, &args);
      va_end (args);
    }
  g_assert_true (gtk_widget_activate_action_variant (widget, action, parameter));
}
