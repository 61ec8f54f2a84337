/* SPDX-License-Identifier: MIT */
/* ScopeCompareView: opens model B on a worker (refused unless it is the window's network),
 * runs both on the input for the selected layer (its output and Grad-CAM there), maximizes the
 * selected channel in both (two ScopeAmJobs, same settings and seed), and compares them layer
 * by layer over a dataset, with progress and cancel; draws viz's channel pair and CKA plot. */
#include "scope-compare-view.h"

#include <glib/gi18n.h>
#include <gio/gio.h>

#include "scope-accessible.h"
#include "scope-am-job.h"
#include "scope-compare-job.h"
#include "scope-error.h"
#include "scope-figure.h"
#include "scope-file-dialog.h"
#include "viz.h"

/* Samples of the dataset a CKA run compares on, as cnnscope-cli compare's default. */
#define CKA_LIMIT 500

struct _ScopeCompareView
{
  ScopeView        parent_instance;

  /* Template children. */
  GtkLabel        *b_label;
  GtkLabel        *am_label;
  GtkProgressBar  *am_progress;
  GtkEntry        *dataset_entry;
  GtkProgressBar  *progress;
  GtkStack        *content_stack;
  GtkDrawingArea  *pair;
  GtkDrawingArea  *plot;

  ScopeModel      *b;
  /* Each job stays after its end until it is replaced or the view goes; the flags say which
   * are still running. */
  ScopeCompareJob *open_job;
  ScopeCompareJob *forward_job;
  ScopeCompareJob *cka_job;
  gboolean         opening, forwarding, comparing;
  float           *outputs[2];   /* the layer's output in A and B, (C, H, W) */
  float           *cams[2];      /* Grad-CAM there for A's top class, at the input's size */
  int              cam_class;
  char            *cam_note;     /* why there are no CAMs, or NULL */
  int              out_node;     /* the node of outputs */
  NnCkaLayers     *layers;
  /* Activation maximization of the selected channel in A and B: the jobs (kept after their
   * end), their newest results, and the layer and channel they are for (-1: none). */
  NnAmSettings     am_defaults;
  ScopeAmJob      *am_jobs[2];
  ScopeAmResult   *ams[2];
  int              am_node, am_channel;
  gboolean         am_stopped;   /* cancelled before the end: the images are partial */
};

G_DEFINE_FINAL_TYPE (ScopeCompareView, scope_compare_view, SCOPE_TYPE_VIEW)

static ScopeModel *
model_a (ScopeCompareView *self)
{
  return scope_view_get_model (SCOPE_VIEW (self));
}

static gboolean
am_running (ScopeCompareView *self)
{
  for (int m = 0; m < 2; m++)
    if (self->am_jobs[m] != NULL && scope_am_job_get_state (self->am_jobs[m]) == SCOPE_AM_RUNNING)
      return TRUE;
  return FALSE;
}

/* Steps done of the AM runs of both models, and of both in all. */
static void
am_steps (ScopeCompareView *self,
          int              *done,
          int              *total)
{
  *done = *total = 0;
  for (int m = 0; m < 2; m++)
    if (self->am_jobs[m] != NULL)
      {
        int steps = scope_am_job_get_settings (self->am_jobs[m])->steps;
        *total += steps;
        *done += self->ams[m] != NULL ? MIN (self->ams[m]->step, steps) : 0;
      }
}

static void
update_state (ScopeCompareView *self)
{
  ScopeView *view = SCOPE_VIEW (self);
  gboolean running = self->comparing;
  gboolean maximizing = am_running (self);
  scope_view_set_busy (view, running || self->opening || self->forwarding || maximizing);
  scope_view_set_can_export (view, self->layers != NULL || self->outputs[0] != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), running);
  GtkWidget *widget = GTK_WIDGET (self);
  gtk_widget_action_set_enabled (widget, "compare.run", self->b != NULL && !running);
  gtk_widget_action_set_enabled (widget, "compare.cancel", running || maximizing);
  gtk_widget_action_set_enabled (widget, "compare.choose", model_a (self) != NULL);
  gtk_widget_action_set_enabled (widget, "compare.open", model_a (self) != NULL);
  if (model_a (self) == NULL)
    scope_view_show_status (view, "view-dual-symbolic", _ ("No Model"),
                            _ ("Open a model (Ctrl+O), then a second model of the same network "
                               "to compare it with."));
  else
    scope_view_show_status (view, NULL, NULL, NULL);
  if (self->b == NULL)
    gtk_label_set_text (self->b_label, _ ("Model B: none (a second model of the same "
                                             "network, such as another snapshot of the run)"));
  else
    {
      g_autofree char *text = g_strdup_printf (_ ("Model B: %s"), scope_model_get_name (self->b));
      gtk_label_set_text (self->b_label, text);
    }
  gtk_stack_set_visible_child_name (self->content_stack, self->b != NULL ? "figures" : "empty");
  /* the channel pair has the whole height until there is a plot */
  gtk_widget_set_visible (GTK_WIDGET (self->plot), self->layers != NULL);
  int done, total;
  am_steps (self, &done, &total);
  gtk_widget_set_visible (GTK_WIDGET (self->am_progress), maximizing);
  gtk_progress_bar_set_fraction (self->am_progress, total > 0 ? (double) done / total : 0.0);
  gtk_widget_set_visible (GTK_WIDGET (self->am_label), maximizing || self->am_stopped);
  gtk_label_set_text (self->am_label, maximizing ? _ ("Maximizing the channel")
                                                 : _ ("Maximization stopped"));
  gtk_widget_queue_draw (GTK_WIDGET (self->pair));
  gtk_widget_queue_draw (GTK_WIDGET (self->plot));
}

static void
clear_outputs (ScopeCompareView *self)
{
  g_clear_pointer (&self->outputs[0], g_free);
  g_clear_pointer (&self->outputs[1], g_free);
  g_clear_pointer (&self->cams[0], g_free);
  g_clear_pointer (&self->cams[1], g_free);
  g_clear_pointer (&self->cam_note, g_free);
  self->out_node = -1;
}

static void
clear_am (ScopeCompareView *self)
{
  for (int m = 0; m < 2; m++)
    {
      if (self->am_jobs[m] != NULL)
        {
          g_signal_handlers_disconnect_by_data (self->am_jobs[m], self);
          scope_am_job_stop (self->am_jobs[m]);
        }
      g_clear_object (&self->am_jobs[m]);
      g_clear_pointer (&self->ams[m], scope_am_result_unref);
    }
  self->am_node = self->am_channel = -1;
  self->am_stopped = FALSE;
}

static void
on_am_update (ScopeAmJob          *job,
              const ScopeAmUpdate *update,
              gpointer             data)
{
  ScopeCompareView *self = data;
  int m = job == self->am_jobs[0] ? 0 : job == self->am_jobs[1] ? 1 : -1;
  if (m < 0)
    return;
  if (update->n_results > 0)
    {
      g_clear_pointer (&self->ams[m], scope_am_result_unref);
      self->ams[m] = scope_am_result_ref (update->results[update->n_results - 1]);
    }
  if (update->error != NULL)
    scope_view_report_error (SCOPE_VIEW (self), _ ("Activation maximization failed: %s"),
                             update->error->message);
  update_state (self);
}

/* Maximizes the selected channel in both models, unless that is what the jobs there are for
 * (running or done); another layer or channel replaces them. Runs start only while the view
 * is on screen (and when it comes back): the other views' channel choices cost nothing here. */
static void
request_am (ScopeCompareView *self)
{
  ScopeView *view = SCOPE_VIEW (self);
  ScopeModel *models[2] = { model_a (self), self->b };
  int node = scope_view_get_layer (view);
  if (models[0] == NULL || models[1] == NULL || node < 1)
    {
      clear_am (self);
      update_state (self);
      return;
    }
  const NnNode *n = &scope_model_get_graph (models[0])->nodes[node];
  int channel = CLAMP (scope_view_get_channel (view), 0, n->shape.c - 1);
  if (self->am_jobs[0] != NULL && self->am_node == node && self->am_channel == channel)
    return;
  clear_am (self);
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      update_state (self);
      return;
    }
  self->am_node = node;
  self->am_channel = channel;
  NnAmSettings s = self->am_defaults;
  s.layer = node;
  s.channels = &channel;
  s.n_channels = 1;
  s.start = NULL;
  s.start_items = 1;
  for (int m = 0; m < 2; m++)
    {
      self->am_jobs[m] = scope_am_job_new (models[m], &s, 1);
      g_signal_connect (self->am_jobs[m], "update", G_CALLBACK (on_am_update), self);
      g_autoptr (GError) error = NULL;
      if (!scope_am_job_start (self->am_jobs[m], &error))
        {
          scope_view_report_error (view, _ ("Activation maximization failed: %s"),
                                   error->message);
          clear_am (self);
          break;
        }
    }
  update_state (self);
}

static void
on_forward_done (ScopeCompareResult *result,
                 const GError       *error,
                 gpointer            data)
{
  ScopeCompareView *self = data;
  self->forwarding = FALSE;
  if (error != NULL)
    scope_view_report_error (SCOPE_VIEW (self), "%s", error->message);
  else
    {
      clear_outputs (self);
      self->outputs[0] = g_steal_pointer (&result->outputs[0]);
      self->outputs[1] = g_steal_pointer (&result->outputs[1]);
      self->cams[0] = g_steal_pointer (&result->cams[0]);
      self->cams[1] = g_steal_pointer (&result->cams[1]);
      self->cam_note = g_steal_pointer (&result->cam_note);
      self->cam_class = result->cam_class;
      self->out_node = scope_view_get_layer (SCOPE_VIEW (self));
    }
  scope_compare_result_free (result);
  update_state (self);
}

/* Runs both models on the input for the selected layer, replacing a run going on. */
static void
request_forward (ScopeCompareView *self)
{
  ScopeView *view = SCOPE_VIEW (self);
  g_clear_pointer (&self->forward_job, scope_compare_job_free);
  self->forwarding = FALSE;
  clear_outputs (self);
  ScopeInput *input = scope_view_get_input (view);
  int node = scope_view_get_layer (view);
  if (self->b != NULL && input != NULL && node >= 1)
    {
      g_autoptr (GError) error = NULL;
      self->forward_job = scope_compare_job_forward (model_a (self), self->b, input, node,
                                                     on_forward_done, self, &error);
      self->forwarding = self->forward_job != NULL;
      if (self->forward_job == NULL)
        scope_view_report_error (view, "%s", error->message);
    }
  update_state (self);
}

static void
on_open_done (ScopeCompareResult *result,
              const GError       *error,
              gpointer            data)
{
  ScopeCompareView *self = data;
  self->opening = FALSE;
  if (error != NULL)
    scope_view_report_error (SCOPE_VIEW (self), "%s", error->message);
  else
    {
      g_clear_pointer (&self->b, scope_model_unref);
      g_clear_pointer (&self->layers, nn_cka_layers_free);
      self->b = g_steal_pointer (&result->model);
      clear_am (self);
    }
  scope_compare_result_free (result);
  request_forward (self);
  request_am (self);
}

static void
open_b (ScopeCompareView *self,
        const char       *path)
{
  if (model_a (self) == NULL)
    return;
  g_clear_pointer (&self->open_job, scope_compare_job_free);
  self->opening = FALSE;
  g_autoptr (GError) error = NULL;
  self->open_job = scope_compare_job_open (path, model_a (self), on_open_done, self, &error);
  self->opening = self->open_job != NULL;
  if (self->open_job == NULL)
    scope_view_report_error (SCOPE_VIEW (self), "%s", error->message);
  update_state (self);
}

static void
on_b_chosen (GtkWidget *owner,
             GFile     *file)
{
  g_autofree char *path = g_file_get_path (file);
  if (path != NULL)
    open_b (SCOPE_COMPARE_VIEW (owner), path);
}

static void
on_cka_progress (int      done,
                 int      total,
                 gpointer data)
{
  ScopeCompareView *self = data;
  gtk_progress_bar_set_fraction (self->progress, total > 0 ? (double) done / total : 0.0);
}

static void
on_cka_done (ScopeCompareResult *result,
             const GError       *error,
             gpointer            data)
{
  ScopeCompareView *self = data;
  self->comparing = FALSE;
  if (error != NULL)
    {
      if (!g_error_matches (error, SCOPE_NN_ERROR, NN_ERROR_CANCELLED))
        scope_view_report_error (SCOPE_VIEW (self), "%s", error->message);
    }
  else
    {
      g_clear_pointer (&self->layers, nn_cka_layers_free);
      self->layers = g_steal_pointer (&result->layers);
      scope_view_report_done (SCOPE_VIEW (self), _ ("Layers compared"));
    }
  scope_compare_result_free (result);
  update_state (self);
}

static void
run_cka (GtkWidget  *widget,
         const char *action,
         GVariant   *parameter)
{
  (void) action;
  (void) parameter;
  ScopeCompareView *self = SCOPE_COMPARE_VIEW (widget);
  const char *dataset = gtk_editable_get_text (GTK_EDITABLE (self->dataset_entry));
  if (self->b == NULL || self->comparing)
    return;
  if (dataset[0] == '\0')
    {
      scope_view_report_error (SCOPE_VIEW (self), _ ("Give a dataset to compare the layers on"));
      return;
    }
  g_autoptr (GError) error = NULL;
  gtk_progress_bar_set_fraction (self->progress, 0.0);
  g_clear_pointer (&self->cka_job, scope_compare_job_free);
  self->cka_job = scope_compare_job_cka (model_a (self), self->b, dataset, CKA_LIMIT,
                                         on_cka_progress, on_cka_done, self, &error);
  self->comparing = self->cka_job != NULL;
  if (self->cka_job == NULL)
    scope_view_report_error (SCOPE_VIEW (self), "%s", error->message);
  update_state (self);
}

static void
cancel (ScopeView *view)
{
  ScopeCompareView *self = SCOPE_COMPARE_VIEW (view);
  g_clear_pointer (&self->cka_job, scope_compare_job_free);
  g_clear_pointer (&self->open_job, scope_compare_job_free);
  self->comparing = self->opening = FALSE;
  /* the AM images stay as far as they got, marked as stopped */
  if (am_running (self))
    {
      for (int m = 0; m < 2; m++)
        if (self->am_jobs[m] != NULL)
          scope_am_job_stop (self->am_jobs[m]);
      self->am_stopped = TRUE;
    }
  update_state (self);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action,
               GVariant   *parameter)
{
  (void) action;
  (void) parameter;
  cancel (SCOPE_VIEW (widget));
}

static void
choose_action (GtkWidget  *widget,
               const char *action,
               GVariant   *parameter)
{
  (void) action;
  (void) parameter;
  static const ScopeFileType types[] = {
    { N_ ("Models"), "*.safetensors;*.onnx" },
  };
  scope_file_dialog_run (widget, GTK_FILE_CHOOSER_ACTION_OPEN, _ ("Open Model B"), _ ("_Open"),
                         types, G_N_ELEMENTS (types), NULL, NULL, on_b_chosen);
}

static void
open_action (GtkWidget  *widget,
             const char *action,
             GVariant   *parameter)
{
  (void) action;
  open_b (SCOPE_COMPARE_VIEW (widget), g_variant_get_string (parameter, NULL));
}

/* The channel pair of the selected layer and channel: filters (conv layers) and activations. */
static gboolean
pair_figure (ScopeCompareView *self,
             VizChannelPair   *pair,
             char              names[2][128])
{
  ScopeView *view = SCOPE_VIEW (self);
  int node = self->out_node;
  if (self->outputs[0] == NULL || node != scope_view_get_layer (view)
      || scope_view_get_input (view) == NULL)
    return FALSE;
  const NnNode *n = &scope_model_get_graph (model_a (self))->nodes[node];
  int c = CLAMP (scope_view_get_channel (view), 0, n->shape.c - 1);
  gsize plane = (gsize) n->shape.h * (gsize) n->shape.w;
  ScopeModel *models[2] = { model_a (self), self->b };
  *pair = (VizChannelPair) { .h = n->shape.h, .w = n->shape.w };
  for (int m = 0; m < 2; m++)
    {
      g_snprintf (names[m], 128, "%s: %s", m == 0 ? "A" : "B", scope_model_get_name (models[m]));
      pair->names[m] = names[m];
      pair->acts[m] = self->outputs[m] + (gsize) c * plane;
      NnGraph *graph = scope_model_get_graph (models[m]);
      int w = nn_graph_node_param (graph, node, NN_PARAM_WEIGHT);
      if (scope_model_node_has_filters (models[m], node) && w >= 0)
        {
          const NnParam *p = &graph->params[w];
          pair->ic = p->dims[1];
          pair->kh = p->dims[2];
          pair->kw = p->dims[3];
          pair->filters[m] = nn_graph_param_data (graph, w)
                             + (gsize) c * (gsize) p->dims[1] * (gsize) p->dims[2]
                               * (gsize) p->dims[3];
        }
    }
  return TRUE;
}

typedef struct
{
  VizChannelPair pair;
  char           names[2][128];
  char           title[160];
  char           cam_label[160];
  char           am_label[200];
  char           caption[1100];
  VizStyle       style;
} PairDraw;

/* The AM row when the images are for the layer and channel shown. */
static void
pair_am (ScopeCompareView *self,
         PairDraw         *d,
         int               channel)
{
  if (self->am_node != self->out_node || self->am_channel != channel)
    return;
  if (self->am_jobs[0] == NULL)
    return;
  const NnAmSettings *s = scope_am_job_get_settings (self->am_jobs[0]);
  int done = s->steps;   /* the fewer steps of the two */
  for (int m = 0; m < 2; m++)
    {
      const ScopeAmResult *r = self->ams[m];
      done = r != NULL ? MIN (done, r->step) : 0;
      if (r == NULL)
        continue;
      d->pair.ams[m] = r->pixels;
      d->pair.am_c = r->c;
      d->pair.am_h = r->h;
      d->pair.am_w = r->w;
    }
  if (d->pair.ams[0] == NULL && d->pair.ams[1] == NULL)
    return;
  int steps = s->steps;
  if (done >= steps)
    g_snprintf (d->am_label, sizeof d->am_label, "activation maximization of the channel's "
                "mean (%d steps, lr %g, seed %" G_GUINT64_FORMAT ", both models alike)", steps,
                (double) s->lr, (guint64) s->seed);
  else
    g_snprintf (d->am_label, sizeof d->am_label, "activation maximization of the channel's "
                "mean: %s at step %d of %d", self->am_stopped ? "stopped" : "running", done,
                steps);
  d->pair.am_label = d->am_label;
}

static gboolean
pair_draw_init (ScopeCompareView *self,
                PairDraw         *d)
{
  if (!pair_figure (self, &d->pair, d->names))
    return FALSE;
  const NnNode *n = &scope_model_get_graph (model_a (self))->nodes[self->out_node];
  int c = CLAMP (scope_view_get_channel (SCOPE_VIEW (self)), 0, n->shape.c - 1);
  g_snprintf (d->title, sizeof d->title, "Layer %s, channel %d", n->name, c);
  d->pair.title = d->title;
  const NnInput *input = scope_input_get_nn_input (scope_view_get_input (SCOPE_VIEW (self)));
  if (self->cams[0] != NULL && input->display != NULL)
    {
      char number[16];
      const NnModel *a = scope_model_get_nn_model (model_a (self));
      g_snprintf (number, sizeof number, "%d", self->cam_class);
      g_snprintf (d->cam_label, sizeof d->cam_label, "Grad-CAM for class %s (A's top class)",
                  self->cam_class < a->n_classes ? a->labels[self->cam_class] : number);
      d->pair.cams[0] = self->cams[0];
      d->pair.cams[1] = self->cams[1];
      d->pair.image = input->display;
      d->pair.image_c = input->c;
      d->pair.cam_h = input->h;
      d->pair.cam_w = input->w;
      d->pair.cam_label = d->cam_label;
    }
  else if (self->cam_note != NULL)
    {
      g_snprintf (d->caption, sizeof d->caption, "No Grad-CAM here: %s", self->cam_note);
      d->pair.caption = d->caption;
    }
  pair_am (self, d, c);
  viz_style_init (&d->style);
  return TRUE;
}

static void
draw_pair (GtkDrawingArea *area,
           cairo_t        *cr,
           int             width,
           int             height,
           gpointer        data)
{
  PairDraw d;
  if (!pair_draw_init (data, &d))
    return;
  scope_figure_style_init_screen (&d.style, GTK_WIDGET (area));
  viz_channel_pair_draw (cr, &d.pair, &d.style, width, height);
}

typedef struct
{
  VizCkaPlot   plot;
  const char **names;
  char         title[320];
  char         caption[256];
  VizStyle     style;
} PlotDraw;

static gboolean
plot_draw_init (ScopeCompareView *self,
                PlotDraw         *d)
{
  const NnCkaLayers *r = self->layers;
  if (r == NULL || self->b == NULL)
    return FALSE;
  const NnGraph *graph = scope_model_get_graph (model_a (self));
  d->names = g_new (const char *, r->n_layers);
  for (int l = 0; l < r->n_layers; l++)
    d->names[l] = graph->nodes[r->nodes[l]].name;
  g_snprintf (d->title, sizeof d->title, "%s against %s", scope_model_get_name (model_a (self)),
              scope_model_get_name (self->b));
  g_snprintf (d->caption, sizeof d->caption, "linear CKA of each layer's flattened features "
              "over %d samples; accuracy %.1f%% (A), %.1f%% (B)", r->n, 100.0 * r->accuracy[0],
              100.0 * r->accuracy[1]);
  int layer = scope_view_get_layer (SCOPE_VIEW (self));
  d->plot = (VizCkaPlot) { r->cka, r->distance, d->names, r->n_layers,
                           layer >= 1 ? layer - 1 : -1, d->title, d->caption };
  viz_style_init (&d->style);
  return TRUE;
}

static void
draw_plot (GtkDrawingArea *area,
           cairo_t        *cr,
           int             width,
           int             height,
           gpointer        data)
{
  PlotDraw d;
  if (!plot_draw_init (data, &d))
    return;
  scope_figure_style_init_screen (&d.style, GTK_WIDGET (area));
  viz_cka_plot_draw (cr, &d.plot, &d.style, width, height);
  g_free (d.names);
}

static void
export_pair (cairo_t    *cr,
             const void *data,
             double      width,
             double      height)
{
  const PairDraw *d = data;
  viz_channel_pair_draw (cr, &d->pair, &d->style, width, height);
}

static void
export_plot (cairo_t    *cr,
             const void *data,
             double      width,
             double      height)
{
  const PlotDraw *d = data;
  viz_cka_plot_draw (cr, &d->plot, &d->style, width, height);
}

/* The CKA plot when there is one, else the channel pair, at 1000 x 600. */
static gboolean
export (ScopeView   *view,
        const char  *path,
        GError     **error)
{
  ScopeCompareView *self = SCOPE_COMPARE_VIEW (view);
  NnError err = { 0 };
  gboolean ok;
  PlotDraw plot;
  PairDraw pair;
  if (plot_draw_init (self, &plot))
    {
      ok = viz_export (path, export_plot, &plot, 1000, 600, &err);
      g_free (plot.names);
    }
  else if (pair_draw_init (self, &pair))
    ok = viz_export (path, export_pair, &pair, 1000, 600, &err);
  else
    return g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: nothing to export yet",
                        path), FALSE;
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
  return ok;
}

static void
changed (ScopeView       *view,
         ScopeViewChange  what)
{
  ScopeCompareView *self = SCOPE_COMPARE_VIEW (view);
  if (what & SCOPE_VIEW_MODEL)
    {
      /* another model A: the comparison is stale, and B may no longer be its network */
      g_clear_pointer (&self->cka_job, scope_compare_job_free);
      g_clear_pointer (&self->open_job, scope_compare_job_free);
      self->comparing = self->opening = FALSE;
      g_clear_pointer (&self->layers, nn_cka_layers_free);
      ScopeModel *a = model_a (self);
      if (self->b != NULL
          && (a == NULL || !nn_graph_check_same (scope_model_get_graph (a),
                                                 scope_model_get_graph (self->b), NULL)))
        g_clear_pointer (&self->b, scope_model_unref);
      if (a != NULL && gtk_editable_get_text (GTK_EDITABLE (self->dataset_entry))[0] == '\0')
        gtk_editable_set_text (GTK_EDITABLE (self->dataset_entry),
                               scope_model_get_nn_model (a)->dataset);
    }
  if (what & SCOPE_VIEW_MODEL)
    clear_am (self);
  if (what & (SCOPE_VIEW_MODEL | SCOPE_VIEW_INPUT | SCOPE_VIEW_LAYER))
    request_forward (self);
  else
    update_state (self);
  if (what & (SCOPE_VIEW_MODEL | SCOPE_VIEW_LAYER | SCOPE_VIEW_CHANNEL))
    request_am (self);
}

static void
scope_compare_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (scope_compare_view_parent_class)->map (widget);
  request_am (SCOPE_COMPARE_VIEW (widget));
}

static void
scope_compare_view_dispose (GObject *object)
{
  ScopeCompareView *self = SCOPE_COMPARE_VIEW (object);

  g_clear_pointer (&self->open_job, scope_compare_job_free);
  g_clear_pointer (&self->forward_job, scope_compare_job_free);
  g_clear_pointer (&self->cka_job, scope_compare_job_free);
  g_clear_pointer (&self->b, scope_model_unref);
  g_clear_pointer (&self->layers, nn_cka_layers_free);
  clear_outputs (self);
  clear_am (self);

  G_OBJECT_CLASS (scope_compare_view_parent_class)->dispose (object);
}

static void
scope_compare_view_class_init (ScopeCompareViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ScopeViewClass *view_class = SCOPE_VIEW_CLASS (klass);

  object_class->dispose = scope_compare_view_dispose;
  widget_class->map = scope_compare_view_map;
  view_class->changed = changed;
  view_class->export = export;
  view_class->cancel = cancel;

  gtk_widget_class_install_action (widget_class, "compare.choose", NULL, choose_action);
  gtk_widget_class_install_action (widget_class, "compare.open", "s", open_action);
  gtk_widget_class_install_action (widget_class, "compare.run", NULL, run_cka);
  gtk_widget_class_install_action (widget_class, "compare.cancel", NULL, cancel_action);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cnnscope/Cnnscope/ui/scope-compare-view.ui");
  gtk_widget_class_bind_template_child (widget_class, ScopeCompareView, b_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeCompareView, am_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeCompareView, am_progress);
  gtk_widget_class_bind_template_child (widget_class, ScopeCompareView, content_stack);
  gtk_widget_class_bind_template_child (widget_class, ScopeCompareView, dataset_entry);
  gtk_widget_class_bind_template_child (widget_class, ScopeCompareView, progress);
  gtk_widget_class_bind_template_child (widget_class, ScopeCompareView, pair);
  gtk_widget_class_bind_template_child (widget_class, ScopeCompareView, plot);
  gtk_widget_class_set_css_name (widget_class, "compare-view");
}

static void
scope_compare_view_init (ScopeCompareView *self)
{
  self->out_node = -1;
  self->am_node = self->am_channel = -1;
  nn_am_settings_init (&self->am_defaults);
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_drawing_area_set_draw_func (self->pair, draw_pair, self, NULL);
  gtk_drawing_area_set_draw_func (self->plot, draw_plot, self, NULL);
  scope_accessible_set_label (GTK_WIDGET (self->pair),
                              _ ("The selected channel in model A and model B: filters, "
                                 "activation, Grad-CAM and activation-maximization image"));
  scope_accessible_set_label (GTK_WIDGET (self->plot),
                              _ ("Linear CKA and relative weight change of each layer between "
                                 "model A and model B"));
  update_state (self);
}

ScopeModel *
scope_compare_view_get_model_b (ScopeCompareView *self)
{
  g_return_val_if_fail (SCOPE_IS_COMPARE_VIEW (self), NULL);
  return self->b;
}

const NnCkaLayers *
scope_compare_view_get_layers (ScopeCompareView *self)
{
  g_return_val_if_fail (SCOPE_IS_COMPARE_VIEW (self), NULL);
  return self->layers;
}

gboolean
scope_compare_view_has_outputs (ScopeCompareView *self)
{
  g_return_val_if_fail (SCOPE_IS_COMPARE_VIEW (self), FALSE);
  return self->outputs[0] != NULL;
}

gboolean
scope_compare_view_has_cams (ScopeCompareView *self)
{
  g_return_val_if_fail (SCOPE_IS_COMPARE_VIEW (self), FALSE);
  return self->cams[0] != NULL && self->cams[1] != NULL;
}

void
scope_compare_view_set_am_defaults (ScopeCompareView   *self,
                                    const NnAmSettings *settings)
{
  g_return_if_fail (SCOPE_IS_COMPARE_VIEW (self));
  g_return_if_fail (settings != NULL);

  self->am_defaults = *settings;
  self->am_defaults.channels = NULL;
  self->am_defaults.n_channels = 0;
  self->am_defaults.direction = NULL;
  self->am_defaults.start = NULL;
  self->am_defaults.start_items = 1;
}

void
scope_compare_view_get_am_defaults (ScopeCompareView *self,
                                    NnAmSettings     *settings)
{
  g_return_if_fail (SCOPE_IS_COMPARE_VIEW (self));
  g_return_if_fail (settings != NULL);

  *settings = self->am_defaults;
}

const ScopeAmResult *
scope_compare_view_get_am (ScopeCompareView *self,
                           int               model)
{
  g_return_val_if_fail (SCOPE_IS_COMPARE_VIEW (self), NULL);
  g_return_val_if_fail (model == 0 || model == 1, NULL);
  return self->ams[model];
}

gboolean
scope_compare_view_get_am_running (ScopeCompareView *self)
{
  g_return_val_if_fail (SCOPE_IS_COMPARE_VIEW (self), FALSE);
  return am_running (self);
}
