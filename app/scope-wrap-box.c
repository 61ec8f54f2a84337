/* SPDX-License-Identifier: MIT */
/* ScopeWrapBox: lines filled left to right with the visible children at their natural widths
 * (a child wider than the box gets the box's width); each line as high as its tallest child. */
#include "scope-wrap-box.h"

struct _ScopeWrapBox
{
  GtkWidget parent_instance;

  int       spacing;
  int       row_spacing;
};

enum
{
  PROP_0,
  PROP_SPACING,
  PROP_ROW_SPACING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (ScopeWrapBox, scope_wrap_box, GTK_TYPE_WIDGET)

/* Lays the children out in lines at most width wide: calls place (when not NULL) with each
 * child's box, and returns the total height. */
static int
flow (ScopeWrapBox *self,
      int           width,
      void        (*place) (GtkWidget *child,
                            int        x,
                            int        y,
                            int        w,
                            int        h))
{
  int y = 0, lines = 0;
  GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self));
  while (child != NULL)
    {
      /* The children of one line, and its height. */
      GtkWidget *first = child, *end = child;
      int used = 0, line_h = 0, n = 0;
      for (; end != NULL; end = gtk_widget_get_next_sibling (end))
        {
          if (!gtk_widget_should_layout (end))
            continue;
          int min_w, nat_w;
          gtk_widget_measure (end, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat_w, NULL, NULL);
          int w = MIN (nat_w, width);
          int x = n > 0 ? used + self->spacing : 0;
          if (n > 0 && x + w > width)
            break;
          int min_h, nat_h;
          gtk_widget_measure (end, GTK_ORIENTATION_VERTICAL, w, &min_h, &nat_h, NULL, NULL);
          line_h = MAX (line_h, nat_h);
          used = x + w;
          n++;
        }
      if (n > 0)
        {
          if (lines > 0)
            y += self->row_spacing;
          int x = 0;
          for (GtkWidget *c = first; c != end; c = gtk_widget_get_next_sibling (c))
            {
              if (!gtk_widget_should_layout (c))
                continue;
              int min_w, nat_w;
              gtk_widget_measure (c, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat_w, NULL, NULL);
              int w = MIN (nat_w, width);
              if (place != NULL)
                place (c, x, y, w, line_h);
              x += w + self->spacing;
            }
          y += line_h;
          lines++;
        }
      child = end;
    }
  return y;
}

static void
allocate_child (GtkWidget *child,
                int        x,
                int        y,
                int        w,
                int        h)
{
  gtk_widget_size_allocate (child, &(GtkAllocation) { x, y, w, h }, -1);
}

static GtkSizeRequestMode
scope_wrap_box_get_request_mode (GtkWidget *widget)
{
  (void) widget;
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
scope_wrap_box_measure (GtkWidget      *widget,
                        GtkOrientation  orientation,
                        int             for_size,
                        int            *minimum,
                        int            *natural,
                        int            *minimum_baseline,
                        int            *natural_baseline)
{
  ScopeWrapBox *self = SCOPE_WRAP_BOX (widget);

  *minimum_baseline = *natural_baseline = -1;
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* At least the widest child; naturally all of them on one line. */
      int min = 0, nat = 0, n = 0;
      for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL;
           c = gtk_widget_get_next_sibling (c))
        {
          if (!gtk_widget_should_layout (c))
            continue;
          int child_min, child_nat;
          gtk_widget_measure (c, GTK_ORIENTATION_HORIZONTAL, -1, &child_min, &child_nat, NULL,
                              NULL);
          min = MAX (min, child_min);
          nat += child_nat + (n > 0 ? self->spacing : 0);
          n++;
        }
      *minimum = min;
      *natural = nat;
      return;
    }
  int width = for_size >= 0 ? for_size : G_MAXINT / 2;
  *minimum = *natural = flow (self, width, NULL);
}

static void
scope_wrap_box_size_allocate (GtkWidget *widget,
                              int        width,
                              int        height,
                              int        baseline)
{
  (void) height;
  (void) baseline;
  flow (SCOPE_WRAP_BOX (widget), width, allocate_child);
}

static void
scope_wrap_box_dispose (GObject *object)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (scope_wrap_box_parent_class)->dispose (object);
}

static void
scope_wrap_box_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  ScopeWrapBox *self = SCOPE_WRAP_BOX (object);

  switch (prop_id)
    {
    case PROP_SPACING:
      g_value_set_int (value, self->spacing);
      break;
    case PROP_ROW_SPACING:
      g_value_set_int (value, self->row_spacing);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_wrap_box_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  ScopeWrapBox *self = SCOPE_WRAP_BOX (object);

  switch (prop_id)
    {
    case PROP_SPACING:
      self->spacing = g_value_get_int (value);
      break;
    case PROP_ROW_SPACING:
      self->row_spacing = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

static void
scope_wrap_box_class_init (ScopeWrapBoxClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = scope_wrap_box_dispose;
  object_class->get_property = scope_wrap_box_get_property;
  object_class->set_property = scope_wrap_box_set_property;
  widget_class->get_request_mode = scope_wrap_box_get_request_mode;
  widget_class->measure = scope_wrap_box_measure;
  widget_class->size_allocate = scope_wrap_box_size_allocate;

  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  properties[PROP_SPACING] = g_param_spec_int ("spacing", NULL, NULL, 0, G_MAXINT16, 0, rw);
  properties[PROP_ROW_SPACING] = g_param_spec_int ("row-spacing", NULL, NULL, 0, G_MAXINT16, 0,
                                                   rw);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
scope_wrap_box_init (ScopeWrapBox *self)
{
  (void) self;
}

GtkWidget *
scope_wrap_box_new (void)
{
  return g_object_new (SCOPE_TYPE_WRAP_BOX, NULL);
}
