/* SPDX-License-Identifier: MIT */
/* ScopeTrainChart: the history as parallel double arrays (what viz_plot reads), two plots on
 * the left (loss, accuracy), the confusion matrix on the right when there is room. */
#include "scope-train-chart.h"

#include <math.h>
#include <stdlib.h>

#include "scope-error.h"
#include "scope-figure.h"

/* Narrower figures stack the confusion matrix under the plots. */
#define SIDE_BY_SIDE_MIN_WIDTH 760.0

#define EXPORT_WIDTH  1200.0
#define EXPORT_HEIGHT 750.0

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
  long       last_step;
  int       *confusion;
  int        n_classes;
  char     **class_names;
};

G_DEFINE_FINAL_TYPE (ScopeTrainChart, scope_train_chart, GTK_TYPE_WIDGET)

static const double step_colour[4] = { 0.55, 0.62, 0.75, 0.9 };
static const double train_colour[4] = { 0.12, 0.44, 0.85, 1.0 };
static const double test_colour[4] = { 0.90, 0.38, 0.05, 1.0 };

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

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* The top of the loss axis: the largest value, unless a few early spikes (the first steps of a
 * high learning rate) would flatten the rest of the curve; then 1.25 times the 95th
 * percentile of the step losses, and the spikes run off the top. 0: from the data. */
static double
loss_axis_top (ScopeTrainChart *self)
{
  guint n = self->step_loss->len;
  if (n < 20)
    return 0.0;
  g_autofree double *sorted = g_memdup2 (self->step_loss->data, sizeof (double) * n);
  qsort (sorted, n, sizeof (double), compare_double);
  double top = 1.25 * sorted[(n * 95) / 100];
  for (guint i = 0; i < self->epoch_train_loss->len; i++)
    top = fmax (top, g_array_index (self->epoch_train_loss, double, i));
  return top < sorted[n - 1] ? top : 0.0;
}

static void
draw_plot (ScopeTrainChart *self,
           cairo_t         *cr,
           const VizStyle  *style,
           gboolean         accuracy,
           double           x,
           double           y,
           double           w,
           double           h)
{
  VizPlotSeries series[3] = {
    {
      .x = values (self->step_x),
      .y = values (accuracy ? self->step_acc : self->step_loss),
      .n = (int) self->step_x->len,
      .line_width = 1.0,
      .label = "each step",
    },
    {
      .x = values (self->epoch_x),
      .y = values (accuracy ? self->epoch_train_acc : self->epoch_train_loss),
      .n = (int) self->epoch_x->len,
      .line_width = 2.0,
      .markers = TRUE,
      .label = "train, epoch mean",
    },
    {
      .x = values (self->epoch_x),
      .y = values (accuracy ? self->epoch_test_acc : self->epoch_test_loss),
      .n = (int) self->epoch_x->len,
      .line_width = 2.0,
      .markers = TRUE,
      .label = "test",
    },
  };
  for (int k = 0; k < 4; k++)
    {
      series[0].color[k] = step_colour[k];
      series[1].color[k] = train_colour[k];
      series[2].color[k] = test_colour[k];
    }
  VizPlot plot = {
    .title = accuracy ? "Accuracy" : "Loss (cross-entropy)",
    .x_label = "step",
    .series = series,
    .n_series = 3,
    .x_lo = 0.0,
    .x_hi = self->last_step > 0 ? (double) self->last_step : 0.0,
    .y_lo = 0.0,
    .y_hi = accuracy ? 1.0 : loss_axis_top (self),
  };
  cairo_save (cr);
  cairo_translate (cr, x, y);
  viz_plot_draw (cr, &plot, style, w, h);
  cairo_restore (cr);
}

void
scope_train_chart_draw (ScopeTrainChart *self,
                        cairo_t         *cr,
                        const VizStyle  *style,
                        double           width,
                        double           height)
{
  g_return_if_fail (SCOPE_IS_TRAIN_CHART (self));

  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
  double top = 0.0;
  if (self->caption != NULL)
    {
      viz_text_draw (cr, style, self->caption, style->margin, style->margin, 0.0, 0.0);
      top = style->margin + viz_text_line_height (style);
    }
  double body = height - top;
  gboolean side = width >= SIDE_BY_SIDE_MIN_WIDTH;
  double plots_w = side ? floor (width * 0.58) : width;
  double plots_h = side ? body : floor (body * 0.62);
  draw_plot (self, cr, style, FALSE, 0.0, top, plots_w, floor (plots_h / 2));
  draw_plot (self, cr, style, TRUE, 0.0, top + floor (plots_h / 2), plots_w,
             plots_h - floor (plots_h / 2));

  double cx = side ? plots_w : 0.0, cy = side ? top : top + plots_h;
  double cw = side ? width - plots_w : width, ch = side ? body : body - plots_h;
  cairo_translate (cr, cx, cy);
  if (self->confusion != NULL)
    {
      VizConfusion conf = {
        .counts = self->confusion,
        .n = self->n_classes,
        .labels = (const char *const *) self->class_names,
        .title = "Confusion on the test set (rows: true class)",
      };
      viz_confusion_draw (cr, &conf, style, cw, ch);
    }
  else
    viz_text_draw (cr, style, "The confusion matrix appears after the first epoch.",
                   style->margin, style->margin, 0.0, 0.0);
  cairo_restore (cr);
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
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  scope_train_chart_draw (self, cr, &style, width, height);
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
  self->last_step = 0;
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
}

GtkWidget *
scope_train_chart_new (void)
{
  return g_object_new (SCOPE_TYPE_TRAIN_CHART, NULL);
}

void
scope_train_chart_reset (ScopeTrainChart *self,
                         const char      *caption)
{
  g_return_if_fail (SCOPE_IS_TRAIN_CHART (self));

  clear_history (self);
  g_free (self->caption);
  self->caption = g_strdup (caption);
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
      self->last_step = s->step;
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

typedef struct
{
  ScopeTrainChart *self;
  VizStyle         style;
} ExportData;

static void
export_draw (cairo_t    *cr,
             const void *user_data,
             double      width,
             double      height)
{
  const ExportData *data = user_data;
  scope_train_chart_draw (data->self, cr, &data->style, width, height);
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
                   "%s: there is no training run to export yet", path);
      return FALSE;
    }
  ExportData data = { .self = self };
  viz_style_init (&data.style);
  NnError err = { 0 };
  if (!viz_export (path, export_draw, &data, EXPORT_WIDTH, EXPORT_HEIGHT, &err))
    {
      scope_error_from_nn (error, &err);
      return FALSE;
    }
  return TRUE;
}
