/* SPDX-License-Identifier: MIT */
/* Fixed-width drop-down buttons: list item factories whose labels are sized in characters. */
#include "scope-drop-down.h"

/* The label's width in characters: the chosen string's (-1) or a fixed one. */
static void
setup_label (GtkSignalListItemFactory *factory,
             GtkListItem              *item,
             gpointer                  data)
{
  (void) factory;
  int chars = GPOINTER_TO_INT (data);
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
  if (chars > 0)
    {
      gtk_label_set_width_chars (GTK_LABEL (label), chars);
      gtk_label_set_max_width_chars (GTK_LABEL (label), chars);
      /* the middle: the end of a long layer name tells the blocks apart */
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
    }
  gtk_list_item_set_child (item, label);
}

static void
bind_label (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            gpointer                  data)
{
  (void) factory;
  (void) data;
  GtkStringObject *string = gtk_list_item_get_item (item);
  GtkWidget *label = gtk_list_item_get_child (item);
  const char *text = string != NULL ? gtk_string_object_get_string (string) : "";
  gtk_label_set_label (GTK_LABEL (label), text);
  gtk_widget_set_tooltip_text (label, text);
}

static GtkListItemFactory *
label_factory_new (int chars)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_label), GINT_TO_POINTER (chars));
  g_signal_connect (factory, "bind", G_CALLBACK (bind_label), NULL);
  return factory;
}

void
scope_drop_down_fix_width (GtkDropDown *drop,
                           int          chars)
{
  g_return_if_fail (GTK_IS_DROP_DOWN (drop));
  g_return_if_fail (chars > 0);

  g_autoptr (GtkListItemFactory) button = label_factory_new (chars);
  g_autoptr (GtkListItemFactory) popup = label_factory_new (-1);
  gtk_drop_down_set_factory (drop, button);
  gtk_drop_down_set_list_factory (drop, popup);
}
