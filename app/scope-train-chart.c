/* SPDX-License-Identifier: MIT */
/* ScopeTrainChart: the history as parallel double arrays, what VizTrainFigure borrows. */
#include "scope-train-chart.h"

#include <glib/gi18n.h>
#include <math.h>

#include "scope-accessible.h"
#include "scope-error.h"
#include "scope-figure.h"

struct _ScopeTrainChart
{
  GtkWidget  parent_instance;

  char      *caption;
  GArray    *step_x;      /* double: global step */
  GArray    *step_loss;
  GArray    *step_acc;
  GArray    *epoch_x;     /* double: the global step where the epoch ended */
  GArray    *epoch_train_loss;
  GArray    *epoch_test_loss;
  GArray    *epoch_train_acc;
  GArray    *epoch_test_acc;
  int       *confusion;
  int        n_classes;
  char     **class_names;
};

G_DEFINE_FINAL_TYPE (ScopeTrainChart, scope_train_chart, GTK_TYPE_WIDGET)

static GArray *
double_array (void)
{
  return g_array_new (FALSE, FALSE, sizeof (double));
}

static void
append (GArray *array,
        double  value)
{
  g_array_append_val (array, value);
}

static const double *
values (GArray *array)
{
  return (const double *) (void *) array->data;
}

/* The figure of the history so far, borrowing its arrays. */
static void
make_figure (ScopeTrainChart *self,
             VizTrainFigure  *fig)
{
  *fig = (VizTrainFigure) {
    .step_x = values (self->step_x),
    .step_loss = values (self->step_loss),
    .step_acc = values (self->step_acc),
    .n_steps = (int) self->step_x->len,
    .epoch_x = values (self->epoch_x),
    .epoch_train_loss = values (self->epoch_train_loss),
    .epoch_test_loss = values (self->epoch_test_loss),
    .epoch_train_acc = values (self->epoch_train_acc),
    .epoch_test_acc = values (self->epoch_test_acc),
    .n_epochs = (int) self->epoch_x->len,
    .confusion = self->confusion,
    .n_classes = self->n_classes,
    .class_names = (const char *const *) self->class_names,
  };
  if (self->caption != NULL)
    g_strlcpy (fig->caption, self->caption, sizeof fig->caption);
}

static void
scope_train_chart_snapshot (GtkWidget   *widget,
                            GtkSnapshot *snapshot)
{
  ScopeTrainChart *self = SCOPE_TRAIN_CHART (widget);
  double width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  if (width <= 0 || height <= 0)
    return;
  VizStyle style;
  scope_figure_style_init_screen (&style, widget);
  VizTrainFigure fig;
  make_figure (self, &fig);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  viz_train_figure_draw (cr, &fig, &style, width, height);
  cairo_destroy (cr);
}

static void
scope_train_chart_css_changed (GtkWidget         *widget,
                               GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (scope_train_chart_parent_class)->css_changed (widget, change);
  gtk_widget_queue_draw (widget);
}

static void
clear_history (ScopeTrainChart *self)
{
  GArray *arrays[] = {
    self->step_x, self->step_loss, self->step_acc, self->epoch_x, self->epoch_train_loss,
    self->epoch_test_loss, self->epoch_train_acc, self->epoch_test_acc,
  };
  for (gsize i = 0; i < G_N_ELEMENTS (arrays); i++)
    g_array_set_size (arrays[i], 0);
  g_clear_pointer (&self->confusion, g_free);
  g_clear_pointer (&self->class_names, g_strfreev);
  self->n_classes = 0;
}

static void
scope_train_chart_finalize (GObject *object)
{
  ScopeTrainChart *self = SCOPE_TRAIN_CHART (object);

  clear_history (self);
  g_array_unref (self->step_x);
  g_array_unref (self->step_loss);
  g_array_unref (self->step_acc);
  g_array_unref (self->epoch_x);
  g_array_unref (self->epoch_train_loss);
  g_array_unref (self->epoch_test_loss);
  g_array_unref (self->epoch_train_acc);
  g_array_unref (self->epoch_test_acc);
  g_free (self->caption);

  G_OBJECT_CLASS (scope_train_chart_parent_class)->finalize (object);
}

static void
scope_train_chart_class_init (ScopeTrainChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = scope_train_chart_finalize;
  widget_class->snapshot = scope_train_chart_snapshot;
  widget_class->css_changed = scope_train_chart_css_changed;
  gtk_widget_class_set_css_name (widget_class, "train-chart");
}

static void
scope_train_chart_init (ScopeTrainChart *self)
{
  self->step_x = double_array ();
  self->step_loss = double_array ();
  self->step_acc = double_array ();
  self->epoch_x = double_array ();
  self->epoch_train_loss = double_array ();
  self->epoch_test_loss = double_array ();
  self->epoch_train_acc = double_array ();
  self->epoch_test_acc = double_array ();
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_size_request (GTK_WIDGET (self), 360, 300);
  scope_accessible_set_label (GTK_WIDGET (self), _ ("Training curves (no run yet)"));
}

void
scope_train_chart_reset (ScopeTrainChart *self,
                         const char      *caption)
{
  g_return_if_fail (SCOPE_IS_TRAIN_CHART (self));

  clear_history (self);
  g_free (self->caption);
  self->caption = g_strdup (caption);
  g_autofree char *label = g_strdup_printf (_ ("Loss and accuracy curves and confusion matrix of "
                                               "%s"), caption);
  scope_accessible_set_label (GTK_WIDGET (self), label);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
scope_train_chart_add (ScopeTrainChart        *self,
                       const ScopeTrainUpdate *update)
{
  g_return_if_fail (SCOPE_IS_TRAIN_CHART (self));
  g_return_if_fail (update != NULL);

  for (guint i = 0; i < update->n_steps; i++)
    {
      const ScopeTrainStep *s = &update->steps[i];
      append (self->step_x, (double) s->step);
      append (self->step_loss, s->loss);
      append (self->step_acc, s->accuracy);
    }
  for (guint i = 0; i < update->n_epochs; i++)
    {
      const ScopeTrainEpoch *e = &update->epochs[i];
      append (self->epoch_x, (double) e->step);
      append (self->epoch_train_loss, e->train_loss);
      append (self->epoch_train_acc, e->train_accuracy);
      /* Without a test set nn_train reports -1: a gap in the test curve. */
      append (self->epoch_test_loss, e->test_loss >= 0.0f ? e->test_loss : NAN);
      append (self->epoch_test_acc, e->test_accuracy >= 0.0f ? e->test_accuracy : NAN);
    }
  if (update->confusion != NULL && update->n_classes > 0)
    {
      g_free (self->confusion);
      self->n_classes = update->n_classes;
      self->confusion = g_memdup2 (update->confusion, sizeof (int) * (gsize) update->n_classes
                                                      * (gsize) update->n_classes);
      g_strfreev (self->class_names);
      self->class_names = update->class_names != NULL
                          ? g_strdupv ((char **) update->class_names) : NULL;
    }
  if (update->n_steps > 0 || update->n_epochs > 0 || update->confusion != NULL)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
scope_train_chart_get_n_steps (ScopeTrainChart *self)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_CHART (self), 0);

  return self->step_x->len;
}

guint
scope_train_chart_get_n_epochs (ScopeTrainChart *self)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_CHART (self), 0);

  return self->epoch_x->len;
}

gboolean
scope_train_chart_has_confusion (ScopeTrainChart *self)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_CHART (self), FALSE);

  return self->confusion != NULL;
}

gboolean
scope_train_chart_export (ScopeTrainChart  *self,
                          const char       *path,
                          GError          **error)
{
  g_return_val_if_fail (SCOPE_IS_TRAIN_CHART (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->step_x->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _ ("%s: there is no training run to export yet"), path);
      return FALSE;
    }
  VizTrainFigure fig;
  make_figure (self, &fig);
  NnError err = { 0 };
  if (viz_train_figure_export (&fig, path, VIZ_TRAIN_FIGURE_WIDTH, VIZ_TRAIN_FIGURE_HEIGHT,
                               &err))
    return TRUE;
  scope_error_from_nn (error, &err);
  return FALSE;
}
