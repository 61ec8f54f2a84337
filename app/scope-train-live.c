/* SPDX-License-Identifier: MIT */
/* ScopeTrainLive: rounds of probe Grad-CAMs and AM images on a training run's newest weights,
 * and the tiles and strip that show them. Jobs go in as values and their results come back as
 * immutable values through their own idle callbacks; a round never waits for the training,
 * and the training never waits for a round. */
#include "scope-train-live.h"

#include <glib/gi18n.h>
#include <string.h>

#include "scope-accessible.h"
#include "scope-figure.h"

/* a probe's tile: the image and its colour bar under two lines of text */
#define TILE_W 210
#define TILE_H 170

typedef struct
{
  ScopeTrainLive   *live;
  ScopeInput       *input;        /* as chosen */
  int               true_class;   /* its class when known (a test image), else -1 */
  ScopeInput       *built;        /* built for the weights of the last round, or NULL */
  ScopeExplainJob  *job;          /* this round's, or NULL */
  gboolean          done;         /* the job has finished */
  ScopeTrainStamp   job_stamp;
  ScopeExplanation *explanation;  /* shown */
  ScopeTrainStamp   stamp;        /* of the weights `explanation` came from */
  char             *error;        /* the last round's, or NULL */
  GtkWidget        *tile;         /* in probe_box: the drawing and its Remove button */
  GtkWidget        *area;
} Probe;

struct _ScopeTrainLive
{
  ScopeTrainLiveWidgets w;
  GPtrArray            *probes;      /* Probe */
  ScopeModel           *newest;      /* the newest weights given */
  ScopeModel           *round;       /* those of the last round started */
  gboolean              stale;       /* a probe or the layer changed since: explain again */
  ScopeTrainStamp       done;        /* of the weights of the last round that ended */
  ScopeModel           *layers_of;   /* the model am_layer_drop was filled for */
  int                  *layers;      /* node of each entry of am_layer_drop, -1: the logits */
  int                   n_layers;
  gboolean              filling;     /* am_layer_drop is being filled: ignore it */
  guint                 n_rounds;

  ScopeAmJob           *am_job;      /* this round's, or NULL */
  ScopeModel           *am_model;    /* its weights */
  gboolean              am_done;
  ScopeTrainStamp       am_job_stamp;
  ScopeAmResult        *am;          /* shown */
  ScopeTrainStamp       am_stamp;
  int                   am_layer;    /* the node of `am` and `am_start` */
  float                *am_start;    /* am's images normalized for the model: the next start */
  char                **am_labels;   /* a label per image of `am` */
  char                 *am_error;    /* why the last round's AM images failed, or NULL */
};

static gboolean
round_running (ScopeTrainLive *self)
{
  if (self->am_job != NULL && !self->am_done)
    return TRUE;
  for (guint i = 0; i < self->probes->len; i++)
    {
      Probe *p = self->probes->pdata[i];
      if (p->job != NULL && !p->done)
        return TRUE;
    }
  return FALSE;
}

static void
notify_changed (ScopeTrainLive *self)
{
  if (self->w.changed != NULL)
    ((void (*) (gpointer)) self->w.changed) (self->w.data);
}

static const char *
class_label (const NnModel *m,
             int            k,
             char          *buf,
             gsize          size)
{
  if (k >= 0 && k < m->n_classes && m->labels != NULL && m->labels[k] != NULL)
    return m->labels[k];
  g_snprintf (buf, size, "%d", k);
  return buf;
}

static void
update_label (ScopeTrainLive *self)
{
  g_autofree char *text = NULL;
  ScopeTrainStamp shown = self->done;
  ScopeTrainStamp running = { 0 };
  if (self->round != NULL && round_running (self))
    scope_model_get_stamp (self->round, &running);
  if (!gtk_check_button_get_active (self->w.live_check))
    text = g_strdup (_ ("Off"));
  else if (shown.version > 0 && running.version > 0)
    /* Translators: the training step and (1-based) epoch of the weights the probes and AM
     * images show, then of those being explained now. */
    text = g_strdup_printf (_ ("Weights of step %ld, epoch %d; computing step %ld…"), shown.step,
                            shown.epoch + 1, running.step);
  else if (shown.version > 0)
    text = g_strdup_printf (_ ("Weights of step %ld, epoch %d"), shown.step, shown.epoch + 1);
  else if (running.version > 0)
    text = g_strdup_printf (_ ("Computing step %ld…"), running.step);
  else
    text = g_strdup (_ ("Follows the weights while a run trains"));
  gtk_label_set_label (self->w.live_label, text);
}

/* Drawing. */

static void
draw_probe (GtkDrawingArea *area,
            cairo_t        *cr,
            int             width,
            int             height,
            gpointer        data)
{
  Probe *p = data;
  VizStyle style;
  scope_figure_style_init_screen (&style, GTK_WIDGET (area));
  style.margin = 2.0;
  ScopeInput *input = p->built != NULL ? p->built : p->input;
  const NnInput *in = scope_input_get_nn_input (input);
  const ScopeExplanation *e = p->explanation;
  if (e == NULL || p->built == NULL || in->display == NULL
      || e->map->h != in->h || e->map->w != in->w)
    {
      const char *label = p->error != NULL ? p->error : scope_input_get_name (input);
      VizAmStrip strip = { .n = in->display != NULL ? 1 : 0, .pixels = in->display, .c = in->c,
                           .h = in->h, .w = in->w, .title = label };
      viz_am_strip_draw (cr, &strip, &style, width, height);
      return;
    }
  const NnModel *m = scope_model_get_nn_model (p->live->round != NULL ? p->live->round
                                                                      : p->live->newest);
  char buf[16];
  g_autofree char *title
    = p->true_class >= 0
      /* Translators: a probe's Grad-CAM: its true class and the probability the model gives
       * it. */
      ? g_strdup_printf (_ ("true: %s %.1f %%"), class_label (m, e->map->target, buf, sizeof buf),
                         100.0 * e->probability)
      /* Translators: a probe's Grad-CAM: the predicted class and its probability. */
      : g_strdup_printf (_ ("%s %.1f %%"), class_label (m, e->map->target, buf, sizeof buf),
                         100.0 * e->probability);
  /* Translators: the training step and (1-based) epoch of the weights a map was computed with. */
  g_autofree char *subtitle = g_strdup_printf (_ ("step %ld, epoch %d"), p->stamp.step,
                                               p->stamp.epoch + 1);
  VizColormap cm;
  viz_heatmap_colormap_init (&cm, e->map->map, (size_t) e->map->h * (size_t) e->map->w, false,
                             0.0);
  VizProbe probe = {
    .heatmap = { .image = in->display, .c = in->c, .map = e->map->map, .h = e->map->h,
                 .w = e->map->w, .colormap = &cm, .opacity = 0.5 },
    .title = title,
    .subtitle = subtitle,
  };
  viz_probe_draw (cr, &probe, &style, width, height);
}

static void
draw_am_strip (GtkDrawingArea *area,
               cairo_t        *cr,
               int             width,
               int             height,
               gpointer        data)
{
  ScopeTrainLive *self = data;
  VizStyle style;
  scope_figure_style_init_screen (&style, GTK_WIDGET (area));
  style.margin = 2.0;
  style.gap = 4.0;
  g_autofree char *title = NULL;
  if (self->am_error != NULL)
    /* Translators: why the activation maximization strip has no images. */
    title = g_strdup_printf (_ ("AM images failed: %s"), self->am_error);
  else if (self->am != NULL)
    /* Translators: the activation maximization strip's title: the training step and (1-based)
     * epoch of its weights. */
    title = g_strdup_printf (_ ("AM images, step %ld, epoch %d"), self->am_stamp.step,
                             self->am_stamp.epoch + 1);
  VizAmStrip strip = {
    .n = self->am != NULL ? self->am->n_items : 0,
    .pixels = self->am != NULL ? self->am->pixels : NULL,
    .c = self->am != NULL ? self->am->c : 0,
    .h = self->am != NULL ? self->am->h : 0,
    .w = self->am != NULL ? self->am->w : 0,
    .labels = (const char *const *) self->am_labels,
    .title = title != NULL ? title : _ ("AM images: none yet"),
  };
  viz_am_strip_draw (cr, &strip, &style, width, height);
}

/* Probes. */

static void
probe_free (gpointer data)
{
  Probe *p = data;
  if (p->job != NULL)
    g_signal_handlers_disconnect_by_data (p->job, p);
  g_clear_object (&p->job);
  g_clear_pointer (&p->input, scope_input_unref);
  g_clear_pointer (&p->built, scope_input_unref);
  g_clear_pointer (&p->explanation, nn_explanation_free);
  g_free (p->error);
  if (p->tile != NULL && gtk_widget_get_parent (p->tile) != NULL)
    gtk_box_remove (GTK_BOX (gtk_widget_get_parent (p->tile)), p->tile);
  g_free (p);
}

static void live_follow (ScopeTrainLive *self);

/* After a job of the round ended: when it was the last, the round's weights are those shown. */
static void
round_ended (ScopeTrainLive *self)
{
  if (!round_running (self) && self->round != NULL)
    scope_model_get_stamp (self->round, &self->done);
}

static void
on_probe_map (ScopeExplainJob  *job,
              ScopeExplanation *explanation,
              Probe            *p)
{
  (void) job;
  g_clear_pointer (&p->explanation, nn_explanation_free);
  p->explanation = g_boxed_copy (SCOPE_TYPE_EXPLANATION, explanation);
  p->stamp = p->job_stamp;
  g_clear_pointer (&p->error, g_free);
  gtk_widget_queue_draw (p->area);
  update_label (p->live);
}

static void
on_probe_finished (ScopeExplainJob *job,
                   const GError    *error,
                   Probe           *p)
{
  (void) job;
  p->done = TRUE;
  if (error != NULL)
    {
      g_free (p->error);
      p->error = g_strdup (error->message);
      gtk_widget_queue_draw (p->area);
    }
  ScopeTrainLive *self = p->live;
  round_ended (self);
  live_follow (self);
  update_label (self);
  notify_changed (self);
}

static void
on_remove_clicked (GtkButton *button,
                   Probe     *p)
{
  (void) button;
  ScopeTrainLive *self = p->live;
  for (guint i = 0; i < self->probes->len; i++)
    if (self->probes->pdata[i] == p)
      {
        scope_train_live_remove_probe (self, i);
        return;
      }
}

void
scope_train_live_add_probe (ScopeTrainLive *self,
                            ScopeInput     *input,
                            int             true_class)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (input != NULL);

  Probe *p = g_new0 (Probe, 1);
  p->live = self;
  p->input = scope_input_ref (input);
  p->true_class = true_class;
  p->area = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (p->area), TILE_W);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (p->area), TILE_H);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (p->area), draw_probe, p, NULL);
  /* Translators: the accessible name of a probe's picture; %s is the image's name. */
  g_autofree char *name = g_strdup_printf (_ ("Probe %s with its Grad-CAM"),
                                           scope_input_get_name (input));
  scope_accessible_set_label (p->area, name);
  GtkWidget *remove = gtk_button_new_with_mnemonic (_ ("_Remove"));
  gtk_widget_set_tooltip_text (remove, _ ("Remove this probe"));
  gtk_widget_set_halign (remove, GTK_ALIGN_START);
  gtk_widget_add_css_class (remove, "flat");
  g_signal_connect (remove, "clicked", G_CALLBACK (on_remove_clicked), p);
  p->tile = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_box_append (GTK_BOX (p->tile), p->area);
  gtk_box_append (GTK_BOX (p->tile), remove);
  gtk_box_append (self->w.probe_box, p->tile);
  g_ptr_array_add (self->probes, p);
  gtk_widget_set_visible (self->w.probe_hint, FALSE);
  /* explained on the next weights, or on the current ones when no round runs */
  self->stale = TRUE;
  live_follow (self);
  update_label (self);
}

void
scope_train_live_remove_probe (ScopeTrainLive *self,
                               guint           index)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (index < self->probes->len);

  g_ptr_array_remove_index (self->probes, index);
  gtk_widget_set_visible (self->w.probe_hint, self->probes->len == 0);
  live_follow (self);
  update_label (self);
  notify_changed (self);
}

guint
scope_train_live_get_n_probes (ScopeTrainLive *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->probes->len;
}

/* The AM strip. */

static int
selected_am_layer (ScopeTrainLive *self)
{
  guint k = gtk_drop_down_get_selected (self->w.am_layer_drop);
  return k < (guint) self->n_layers ? self->layers[k] : -1;
}

/* The strip's layers for model: the logits first (the default), then every layer with a
 * spatial output. */
static void
fill_layers (ScopeTrainLive *self,
             ScopeModel     *model)
{
  g_clear_pointer (&self->layers_of, scope_model_unref);
  self->layers_of = scope_model_ref (model);
  const NnGraph *g = scope_model_get_graph (model);
  g_free (self->layers);
  self->layers = g_new (int, g->n_nodes + 1);
  self->n_layers = 0;
  g_autoptr (GtkStringList) names = gtk_string_list_new (NULL);
  self->layers[self->n_layers++] = -1;
  gtk_string_list_append (names, _ ("Logits (classes)"));
  for (int i = 1; i < g->n_nodes; i++)
    {
      const NnShape s = g->nodes[i].shape;
      if (s.h < 2 || s.w < 2)
        continue;
      self->layers[self->n_layers++] = i;
      g_autofree char *text = g_strdup_printf ("%s (%d×%d×%d)", g->nodes[i].name, s.c, s.h,
                                               s.w);
      gtk_string_list_append (names, text);
    }
  self->filling = TRUE;
  gtk_drop_down_set_model (self->w.am_layer_drop, G_LIST_MODEL (names));
  gtk_drop_down_set_selected (self->w.am_layer_drop, 0);
  self->filling = FALSE;
}

/* The normalized images of result for model, to start the next round from. */
static void
keep_am_start (ScopeTrainLive      *self,
               const ScopeAmResult *result,
               const NnModel       *m)
{
  gsize plane = (gsize) result->h * (gsize) result->w;
  g_free (self->am_start);
  self->am_start = g_new (float, (gsize) result->n_items * (gsize) result->c * plane);
  for (int i = 0; i < result->n_items; i++)
    for (int c = 0; c < result->c; c++)
      {
        gsize at = ((gsize) i * (gsize) result->c + (gsize) c) * plane;
        float mean = c < NN_MODEL_MAX_CHANNELS ? m->mean[c] : 0.0f;
        float std = c < NN_MODEL_MAX_CHANNELS && m->std[c] != 0.0f ? m->std[c] : 1.0f;
        for (gsize k = 0; k < plane; k++)
          self->am_start[at + k] = (result->pixels[at + k] - mean) / std;
      }
}

static void
set_am_labels (ScopeTrainLive      *self,
               const ScopeAmResult *result,
               const NnModel       *m,
               int                  layer)
{
  g_strfreev (self->am_labels);
  self->am_labels = g_new0 (char *, result->n_items + 1);
  for (int i = 0; i < result->n_items; i++)
    {
      char buf[16];
      self->am_labels[i] = layer < 0
                           ? g_strdup (class_label (m, result->channels[i], buf, sizeof buf))
                           /* Translators: a channel's number under its AM image. */
                           : g_strdup_printf (_ ("ch %d"), result->channels[i]);
    }
}

static void
on_am_update (ScopeAmJob          *job,
              const ScopeAmUpdate *update,
              ScopeTrainLive      *self)
{
  (void) job;
  if (update->n_results > 0)
    {
      ScopeAmResult *result = update->results[update->n_results - 1];
      g_clear_pointer (&self->am, scope_am_result_unref);
      self->am = scope_am_result_ref (result);
      self->am_stamp = self->am_job_stamp;
      const NnModel *m = scope_model_get_nn_model (self->am_model);
      self->am_layer = scope_am_job_get_settings (self->am_job)->layer;
      set_am_labels (self, result, m, self->am_layer);
      if (result->done)
        keep_am_start (self, result, m);
      gtk_widget_queue_draw (GTK_WIDGET (self->w.am_strip));
    }
  if (update->state != SCOPE_AM_RUNNING)
    {
      self->am_done = TRUE;
      round_ended (self);
      g_clear_pointer (&self->am_error, g_free);
      if (update->error != NULL)
        {
          self->am_error = g_strdup (update->error->message);
          gtk_widget_queue_draw (GTK_WIDGET (self->w.am_strip));
        }
      live_follow (self);
      update_label (self);
      notify_changed (self);
    }
}

static void
start_am (ScopeTrainLive *self,
          ScopeModel     *model)
{
  const NnModel *m = scope_model_get_nn_model (model);
  int layer = selected_am_layer (self);
  int n = layer < 0 ? m->n_classes : m->graph->nodes[layer].shape.c;
  n = MIN (n, SCOPE_TRAIN_LIVE_AM_IMAGES);
  if (n < 1)
    return;
  int channels[SCOPE_TRAIN_LIVE_AM_IMAGES];
  for (int i = 0; i < n; i++)
    channels[i] = i;
  NnAmSettings s;
  nn_am_settings_init (&s);
  s.layer = layer;
  s.objective = layer < 0 ? NN_AM_OBJECTIVE_LOGIT : NN_AM_OBJECTIVE_MEAN;
  s.channels = channels;
  s.n_channels = n;
  s.steps = SCOPE_TRAIN_LIVE_AM_STEPS;
  /* warm start: the previous round's images, when they are of this layer and input shape */
  const NnShape in = m->graph->nodes[0].shape;
  if (self->am_start != NULL && self->am != NULL && self->am->done && self->am_layer == layer
      && self->am->n_items == n && self->am->c == in.c && self->am->h == in.h
      && self->am->w == in.w)
    {
      s.start = self->am_start;
      s.start_items = n;
      s.steps = SCOPE_TRAIN_LIVE_AM_WARM_STEPS;
    }
  g_clear_pointer (&self->am_model, scope_model_unref);
  self->am_model = scope_model_ref (model);
  self->am_job = scope_am_job_new (model, &s, n);
  scope_model_get_stamp (model, &self->am_job_stamp);
  self->am_done = FALSE;
  g_signal_connect (self->am_job, "update", G_CALLBACK (on_am_update), self);
  g_autoptr (GError) error = NULL;
  if (!scope_am_job_start (self->am_job, &error))
    {
      self->am_done = TRUE;
      g_free (self->am_error);
      self->am_error = g_strdup (error->message);
      gtk_widget_queue_draw (GTK_WIDGET (self->w.am_strip));
    }
}

/* Rounds. */

static void
start_probe (Probe      *p,
             ScopeModel *model)
{
  if (p->job != NULL)
    g_signal_handlers_disconnect_by_data (p->job, p);
  g_clear_object (&p->job);
  p->done = TRUE;
  if (p->built == NULL || !scope_input_fits (p->built, model))
    {
      g_autoptr (GError) error = NULL;
      g_clear_pointer (&p->built, scope_input_unref);
      p->built = scope_input_rebuild (p->input, model, &error);
      if (p->built == NULL)
        {
          g_free (p->error);
          p->error = g_strdup (error->message);
          gtk_widget_queue_draw (p->area);
          return;
        }
    }
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.faith.metrics = 0;   /* the map and the top predictions only */
  spec.threads = 1;         /* the training has the other cores */
  /* a test image's own class, else the top prediction */
  spec.map.target = p->true_class < scope_model_get_nn_model (model)->n_classes ? p->true_class
                                                                                 : -1;
  p->job = scope_explain_job_new (model, p->built, &spec);
  scope_model_get_stamp (model, &p->job_stamp);
  p->done = FALSE;
  g_signal_connect (p->job, "map-ready", G_CALLBACK (on_probe_map), p);
  g_signal_connect (p->job, "finished", G_CALLBACK (on_probe_finished), p);
  g_autoptr (GError) error = NULL;
  if (!scope_explain_job_start (p->job, &error))
    {
      p->done = TRUE;
      g_free (p->error);
      p->error = g_strdup (error->message);
    }
}

/* Starts a round on the newest weights unless one runs, they were explained already, or live
 * explanations are off. */
static void
live_follow (ScopeTrainLive *self)
{
  if (self->newest == NULL || (self->newest == self->round && !self->stale)
      || round_running (self) || !gtk_check_button_get_active (self->w.live_check))
    return;
  ScopeModel *model = self->newest;
  g_clear_pointer (&self->round, scope_model_unref);
  self->round = scope_model_ref (model);
  self->stale = FALSE;
  self->n_rounds++;
  if (self->layers_of == NULL || !scope_model_same_structure (self->layers_of, model))
    {
      fill_layers (self, model);
      g_clear_pointer (&self->am_start, g_free);
    }
  for (guint i = 0; i < self->probes->len; i++)
    start_probe (self->probes->pdata[i], model);
  if (self->am_job != NULL)
    g_signal_handlers_disconnect_by_data (self->am_job, self);
  g_clear_object (&self->am_job);
  start_am (self, model);
  update_label (self);
  notify_changed (self);
}

void
scope_train_live_set_weights (ScopeTrainLive *self,
                              ScopeModel     *model)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (model != NULL);

  if (model == self->newest)
    return;
  g_clear_pointer (&self->newest, scope_model_unref);
  self->newest = scope_model_ref (model);
  live_follow (self);
}

static void
on_live_toggled (GtkCheckButton *check,
                 ScopeTrainLive *self)
{
  (void) check;
  live_follow (self);
  update_label (self);
}

static void
on_am_layer_changed (GObject        *drop,
                     GParamSpec     *pspec,
                     ScopeTrainLive *self)
{
  (void) drop;
  (void) pspec;
  if (self->filling)
    return;
  /* from noise on the layer chosen, with the next weights (or these, when none runs) */
  g_clear_pointer (&self->am_start, g_free);
  self->stale = TRUE;
  live_follow (self);
}

ScopeTrainLive *
scope_train_live_new (const ScopeTrainLiveWidgets *widgets)
{
  g_return_val_if_fail (widgets != NULL, NULL);

  ScopeTrainLive *self = g_new0 (ScopeTrainLive, 1);
  self->w = *widgets;
  self->probes = g_ptr_array_new_with_free_func (probe_free);
  gtk_drawing_area_set_draw_func (self->w.am_strip, draw_am_strip, self, NULL);
  scope_accessible_set_label (GTK_WIDGET (self->w.am_strip),
                              _ ("Activation maximization images of the training weights"));
  g_signal_connect (self->w.live_check, "toggled", G_CALLBACK (on_live_toggled), self);
  g_signal_connect (self->w.am_layer_drop, "notify::selected",
                    G_CALLBACK (on_am_layer_changed), self);
  update_label (self);
  return self;
}

void
scope_train_live_free (ScopeTrainLive *self)
{
  if (self == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->w.live_check, self);
  g_signal_handlers_disconnect_by_data (self->w.am_layer_drop, self);
  gtk_drawing_area_set_draw_func (self->w.am_strip, NULL, NULL, NULL);
  if (self->am_job != NULL)
    g_signal_handlers_disconnect_by_data (self->am_job, self);
  g_clear_object (&self->am_job);
  for (guint i = 0; i < self->probes->len; i++)
    {
      Probe *p = self->probes->pdata[i];
      gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (p->area), NULL, NULL, NULL);
    }
  g_ptr_array_unref (self->probes);
  g_clear_pointer (&self->am, scope_am_result_unref);
  g_clear_pointer (&self->newest, scope_model_unref);
  g_clear_pointer (&self->round, scope_model_unref);
  g_clear_pointer (&self->am_model, scope_model_unref);
  g_clear_pointer (&self->layers_of, scope_model_unref);
  g_free (self->layers);
  g_free (self->am_start);
  g_strfreev (self->am_labels);
  g_free (self->am_error);
  g_free (self);
}

ScopeExplanation *
scope_train_live_get_probe_explanation (ScopeTrainLive  *self,
                                        guint            index,
                                        ScopeTrainStamp *stamp)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->probes->len, NULL);

  Probe *p = self->probes->pdata[index];
  if (stamp != NULL)
    *stamp = p->stamp;
  return p->explanation;
}

ScopeAmResult *
scope_train_live_get_am (ScopeTrainLive  *self,
                         ScopeTrainStamp *stamp)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (stamp != NULL)
    *stamp = self->am_stamp;
  return self->am;
}

guint
scope_train_live_get_n_rounds (ScopeTrainLive *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_rounds;
}

gboolean
scope_train_live_is_running (ScopeTrainLive *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return round_running (self);
}
