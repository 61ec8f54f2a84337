/* SPDX-License-Identifier: MIT */
/* The names go to GTK's accessible properties and relations, and a copy on the widget under
 * the keys below. */
#include "scope-accessible.h"

#define LABEL_KEY       "scope-accessible-label"
#define LABELLED_BY_KEY "scope-accessible-labelled-by"

void
scope_accessible_set_label (GtkWidget  *widget,
                            const char *label)
{
  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (label != NULL);

  if (g_strcmp0 (scope_accessible_get_label (widget), label) == 0)
    return;
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
  g_object_set_data_full (G_OBJECT (widget), LABEL_KEY, g_strdup (label), g_free);
}

const char *
scope_accessible_get_label (GtkWidget *widget)
{
  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);

  return g_object_get_data (G_OBJECT (widget), LABEL_KEY);
}

void
scope_accessible_set_labelled_by (GtkWidget *widget,
                                  GtkWidget *label)
{
  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (GTK_IS_WIDGET (label));

  /* GTK 4.8 takes the references of a list one by one, NULL-terminated. */
  gtk_accessible_update_relation (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  label, NULL, -1);
  /* The label lives in the same tree as the widget: no reference, which would make a cycle. */
  g_object_set_data (G_OBJECT (widget), LABELLED_BY_KEY, label);
}

GtkWidget *
scope_accessible_get_labelled_by (GtkWidget *widget)
{
  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);

  return g_object_get_data (G_OBJECT (widget), LABELLED_BY_KEY);
}

/* Whether widget names what follows it: a label, or a check button with a label ("Fixed
 * scale, max" before its spin button). */
static gboolean
is_naming (GtkWidget *widget)
{
  if (GTK_IS_CHECK_BUTTON (widget))
    {
      const char *label = gtk_check_button_get_label (GTK_CHECK_BUTTON (widget));
      return label != NULL && *label != '\0';
    }
  return GTK_IS_LABEL (widget);
}

/* The label naming a control in a settings layout: the grid cell left of it, else the label
 * just before it. */
static GtkWidget *
label_beside (GtkWidget *control)
{
  GtkWidget *parent = gtk_widget_get_parent (control);
  if (GTK_IS_GRID (parent))
    {
      int column, row;
      gtk_grid_query_child (GTK_GRID (parent), control, &column, &row, NULL, NULL);
      GtkWidget *left = column > 0 ? gtk_grid_get_child_at (GTK_GRID (parent), column - 1, row)
                                   : NULL;
      return left != NULL && is_naming (left) ? left : NULL;
    }
  GtkWidget *before = gtk_widget_get_prev_sibling (control);
  return before != NULL && is_naming (before) ? before : NULL;
}

static gboolean
is_named_control (GtkWidget *widget)
{
  return GTK_IS_SPIN_BUTTON (widget) || GTK_IS_SCALE (widget) || GTK_IS_DROP_DOWN (widget)
         || GTK_IS_ENTRY (widget) || GTK_IS_SEARCH_ENTRY (widget);
}

/* The text of a label inside a button (its label, or a label deeper down), or NULL. */
static const char *
button_text (GtkWidget *button)
{
  for (GtkWidget *c = gtk_widget_get_first_child (button); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    {
      if (GTK_IS_LABEL (c) && *gtk_label_get_text (GTK_LABEL (c)) != '\0')
        return gtk_label_get_text (GTK_LABEL (c));
      const char *inner = button_text (c);
      if (inner != NULL)
        return inner;
    }
  return NULL;
}

static void
name_control (GtkWidget *widget)
{
  const char *tooltip = gtk_widget_get_tooltip_text (widget);
  if (GTK_IS_MENU_BUTTON (widget))
    {
      const char *label = gtk_menu_button_get_label (GTK_MENU_BUTTON (widget));
      if ((label == NULL || *label == '\0') && tooltip != NULL
          && scope_accessible_get_label (widget) == NULL)
        scope_accessible_set_label (widget, tooltip);
    }
  else if (GTK_IS_BUTTON (widget))
    {
      if (button_text (widget) == NULL && tooltip != NULL
          && scope_accessible_get_label (widget) == NULL)
        scope_accessible_set_label (widget, tooltip);
    }
  else if (is_named_control (widget) && scope_accessible_get_label (widget) == NULL
           && scope_accessible_get_labelled_by (widget) == NULL)
    {
      GtkWidget *label = label_beside (widget);
      /* A control inside a box (a spin button with its own button) takes the box's label. */
      GtkWidget *parent = gtk_widget_get_parent (widget);
      if (label == NULL && GTK_IS_BOX (parent))
        label = label_beside (parent);
      if (label != NULL)
        scope_accessible_set_labelled_by (widget, label);
    }
}

void
scope_accessible_name_controls (GtkWidget *root)
{
  g_return_if_fail (GTK_IS_WIDGET (root));

  name_control (root);
  /* The parts of a compound control are its own business. */
  if (is_named_control (root) || GTK_IS_MENU_BUTTON (root))
    return;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    scope_accessible_name_controls (c);
}
