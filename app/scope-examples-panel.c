/* SPDX-License-Identifier: MIT */
/* ScopeExamplesPanel: the controls, the job, the cache's place (the user's cache folder,
 * cnnscope/examples/) and the figure of viz_examples_draw for the selected channel. */
#include "scope-examples-panel.h"

#include <glib/gi18n.h>
#include <stdlib.h>

#include "scope-accessible.h"
#include "scope-error.h"
#include "scope-figure.h"
#include "scope-file-dialog.h"
#include "scope-wrap-box.h"

struct _ScopeExamplesPanel
{
  GtkWidget         parent_instance;

  GtkDropDown      *dataset_drop;
  GtkWidget        *folder_button;
  GtkCheckButton   *crop_check;
  GtkProgressBar   *progress;
  GtkLabel         *status_label;
  GtkDrawingArea   *canvas;

  gboolean          have_fashion;  /* Fashion-MNIST is installed: the first dataset choice */
  char             *folder;        /* the chosen image folder, or NULL */

  ScopeModel       *model;         /* the target: the window's model, layer and channel */
  int               layer;
  int               channel;

  ScopeExamplesJob *job;
  ScopeModel       *job_model;     /* what the job ranks for */
  int               job_layer;
  char             *job_dataset;

  ScopeExamples    *examples;      /* the ranking shown, of examples_model's layer */
  ScopeModel       *examples_model;
  VizExampleTile   *tiles;         /* 2 * count: the channel's top, then bottom */
  int               n_tiles;
  char             *caption;
};

G_DEFINE_FINAL_TYPE (ScopeExamplesPanel, scope_examples_panel, GTK_TYPE_WIDGET)

static gboolean
folder_chosen_in_drop (ScopeExamplesPanel *self)
{
  return !self->have_fashion || gtk_drop_down_get_selected (self->dataset_drop) == 1;
}

/* The dataset as nn_dataset_open names it, or NULL when no folder is chosen yet. */
static const char *
dataset_spec (ScopeExamplesPanel *self)
{
  return folder_chosen_in_drop (self) ? self->folder : "fashion-mnist";
}

static void
set_status (ScopeExamplesPanel *self,
            const char         *text)
{
  gtk_label_set_label (self->status_label, text);
}

static void
update_controls (ScopeExamplesPanel *self)
{
  gboolean running = self->job != NULL;
  gtk_widget_set_visible (self->folder_button, folder_chosen_in_drop (self));
  gboolean can_run = self->model != NULL && self->layer > 0 && dataset_spec (self) != NULL;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "examples.run", can_run && !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "examples.stop", running);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), running);
}

/* The tiles, title and caption of the target channel from the ranking held. */
static void
make_tiles (ScopeExamplesPanel *self)
{
  g_clear_pointer (&self->tiles, g_free);
  self->n_tiles = 0;
  const ScopeExamples *e = self->examples;
  if (e == NULL || self->channel < 0 || self->channel >= e->examples->c)
    {
      scope_accessible_set_label (GTK_WIDGET (self->canvas), _ ("No dataset examples"));
      gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
      return;
    }
  const int count = nn_examples_count (e->examples);
  self->tiles = g_new (VizExampleTile, 2 * (gsize) count);
  self->n_tiles = 2 * count;
  viz_examples_tiles (self->tiles, e->examples, self->channel, e->samples, &e->field);
  gboolean crop = gtk_check_button_get_active (self->crop_check);
  g_autofree char *dataset = g_strcmp0 (e->dataset, "fashion-mnist") == 0
                             ? g_strdup (e->dataset) : g_path_get_basename (e->dataset);
  char caption[512];
  viz_examples_caption (caption, sizeof caption, e->layer, self->channel, dataset,
                        e->examples->n, &e->field, crop);
  g_free (self->caption);
  self->caption = g_strdup (caption);
  g_autofree char *name = g_strdup_printf (_ ("Dataset examples of layer %s, channel %d: the "
                                              "%d samples that activate it most and least"),
                                           e->layer, self->channel, count);
  scope_accessible_set_label (GTK_WIDGET (self->canvas), name);
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

static VizExamples
figure (ScopeExamplesPanel *self)
{
  int count = self->n_tiles / 2;
  return (VizExamples) {
    .top = self->tiles, .bottom = self->tiles + count, .n = count,
    .crop = gtk_check_button_get_active (self->crop_check),
    .caption = self->caption,
    .heads = { _ ("Highest activation"), _ ("Lowest activation") },
  };
}

static void
draw_canvas (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        data)
{
  (void) area;
  ScopeExamplesPanel *self = data;
  if (self->n_tiles == 0)
    return;
  VizExamples fig = figure (self);
  VizStyle style;
  scope_figure_style_init_screen (&style, GTK_WIDGET (self->canvas));
  viz_examples_draw (cr, &fig, &style, width, height);
}

/* A tile's sample, class and value as its tooltip. */
static gboolean
on_query_tooltip (GtkWidget  *widget,
                  int         x,
                  int         y,
                  gboolean    keyboard,
                  GtkTooltip *tooltip,
                  gpointer    data)
{
  (void) keyboard;
  ScopeExamplesPanel *self = data;
  if (self->n_tiles == 0)
    return FALSE;
  VizExamples fig = figure (self);
  VizStyle style;
  scope_figure_style_init_screen (&style, widget);
  int t = viz_examples_hit (&fig, &style, gtk_widget_get_width (widget),
                            gtk_widget_get_height (widget), x, y);
  if (t < 0)
    return FALSE;
  const NnDataset *ds = self->examples->samples;
  const VizExampleTile *tile = &self->tiles[t];
  int label = ds->labels[tile->index];
  const char *cls = label < ds->n_classes && ds->class_names[label] != NULL
                    ? ds->class_names[label] : "";
  g_autofree char *text = g_strdup_printf (_ ("Sample %d (%s): maximum %.4g"), tile->index, cls,
                                           (double) tile->value);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
clear_job (ScopeExamplesPanel *self)
{
  if (self->job != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->job, self);
      scope_examples_job_cancel (self->job);
      g_clear_object (&self->job);
    }
  g_clear_pointer (&self->job_model, scope_model_unref);
  g_clear_pointer (&self->job_dataset, g_free);
  self->job_layer = -1;
}

static void
clear_examples (ScopeExamplesPanel *self)
{
  g_clear_pointer (&self->examples, scope_examples_unref);
  g_clear_pointer (&self->examples_model, scope_model_unref);
  make_tiles (self);
}

static void
on_job_progress (ScopeExamplesJob   *job,
                 double              fraction,
                 const char         *stage,
                 ScopeExamplesPanel *self)
{
  (void) job;
  gtk_progress_bar_set_fraction (self->progress, fraction);
  gtk_progress_bar_set_text (self->progress, _ (stage));
}

static void
on_job_finished (ScopeExamplesJob   *job,
                 ScopeExamples      *examples,
                 const GError       *error,
                 ScopeExamplesPanel *self)
{
  (void) job;
  g_autoptr (ScopeModel) model = g_steal_pointer (&self->job_model);
  clear_job (self);
  if (examples != NULL)
    {
      g_clear_pointer (&self->examples, scope_examples_unref);
      g_clear_pointer (&self->examples_model, scope_model_unref);
      self->examples = scope_examples_ref (examples);
      self->examples_model = g_steal_pointer (&model);
      make_tiles (self);
      g_autofree char *text = examples->from_cache
        ? g_strdup_printf (_ ("%d samples ranked for every channel of %s (read from the "
                              "cache)."), examples->examples->n, examples->layer)
        : g_strdup_printf (_ ("%d samples ranked for every channel of %s."),
                           examples->examples->n, examples->layer);
      if (examples->cache_note != NULL)
        {
          g_autofree char *note = g_strdup_printf (_ ("%s Cache: %s"), text,
                                                   examples->cache_note);
          set_status (self, note);
        }
      else
        set_status (self, text);
    }
  else if (g_error_matches (error, SCOPE_NN_ERROR, NN_ERROR_CANCELLED))
    set_status (self, _ ("Stopped."));
  else
    {
      g_autofree char *text = g_strdup_printf (_ ("Dataset examples: %s"), error->message);
      set_status (self, text);
    }
  update_controls (self);
}

/* The cache file and its key for the target, or FALSE when the model was not read from a file
 * (a training snapshot: nothing identifies its weights on disk). */
static gboolean
cache_for (ScopeExamplesPanel  *self,
           const char          *dataset,
           char               **path,
           char               **key)
{
  const char *identity = scope_model_get_file_identity (self->model);
  if (identity == NULL)
    return FALSE;
  const NnGraph *graph = scope_model_get_graph (self->model);
  char *nn_key = nn_examples_cache_key (identity, dataset, graph->nodes[self->layer].name,
                                        SCOPE_EXAMPLES_K, NULL);
  if (nn_key == NULL)
    return FALSE;
  char name[64];
  nn_examples_cache_name (name, sizeof name, nn_key);
  *key = g_strdup (nn_key);
  free (nn_key);
  *path = g_build_filename (g_get_user_cache_dir (), "cnnscope", "examples", name, NULL);
  return TRUE;
}

gboolean
scope_examples_panel_run (ScopeExamplesPanel *self)
{
  g_return_val_if_fail (SCOPE_IS_EXAMPLES_PANEL (self), FALSE);

  const char *dataset = dataset_spec (self);
  if (self->model == NULL || self->layer <= 0 || dataset == NULL)
    return FALSE;
  clear_job (self);
  g_autofree char *path = NULL, *key = NULL;
  cache_for (self, dataset, &path, &key);
  ScopeExamplesSettings settings = {
    .dataset = (char *) dataset, .node = self->layer, .k = SCOPE_EXAMPLES_K,
    .cache_path = path, .cache_key = key,
  };
  self->job = scope_examples_job_new (self->model, &settings);
  self->job_model = scope_model_ref (self->model);
  self->job_layer = self->layer;
  self->job_dataset = g_strdup (dataset);
  g_signal_connect (self->job, "progress", G_CALLBACK (on_job_progress), self);
  g_signal_connect (self->job, "finished", G_CALLBACK (on_job_finished), self);
  gtk_progress_bar_set_fraction (self->progress, 0.0);
  gtk_progress_bar_set_text (self->progress, _ ("starting"));
  set_status (self, _ ("Ranking the dataset's samples for every channel of the layer…"));
  g_autoptr (GError) error = NULL;
  if (!scope_examples_job_start (self->job, &error))
    {
      clear_job (self);
      g_autofree char *text = g_strdup_printf (_ ("Dataset examples: %s"), error->message);
      set_status (self, text);
    }
  update_controls (self);
  return self->job != NULL;
}

void
scope_examples_panel_cancel (ScopeExamplesPanel *self)
{
  g_return_if_fail (SCOPE_IS_EXAMPLES_PANEL (self));

  if (self->job == NULL)
    return;
  clear_job (self);
  set_status (self, _ ("Stopped."));
  update_controls (self);
}

gboolean
scope_examples_panel_is_running (ScopeExamplesPanel *self)
{
  g_return_val_if_fail (SCOPE_IS_EXAMPLES_PANEL (self), FALSE);

  return self->job != NULL;
}

/* Reads the ranking of the target from the cache when the cache holds a file for it and the
 * panel is on screen (a hidden Maximize view reads nothing while layers are browsed). */
static void
run_if_cached (ScopeExamplesPanel *self)
{
  const char *dataset = dataset_spec (self);
  g_autofree char *path = NULL, *key = NULL;
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)) || self->model == NULL || self->layer <= 0
      || dataset == NULL || !cache_for (self, dataset, &path, &key))
    return;
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    scope_examples_panel_run (self);
}

/* Whether the ranking held (or being made) is the target layer's of the target model, for the
 * dataset chosen. */
static gboolean
holds_target (ScopeExamplesPanel *self)
{
  return self->examples != NULL && self->examples_model == self->model
         && self->examples->node == self->layer
         && g_strcmp0 (self->examples->dataset, dataset_spec (self)) == 0;
}

static void
target_changed (ScopeExamplesPanel *self)
{
  if (self->job != NULL && (self->job_model != self->model || self->job_layer != self->layer
                            || g_strcmp0 (self->job_dataset, dataset_spec (self)) != 0))
    clear_job (self);
  if (holds_target (self))
    make_tiles (self);
  else
    {
      clear_examples (self);
      set_status (self, self->model == NULL || self->layer <= 0
                  ? _ ("Choose a layer to see the samples its channels respond to.")
                  : _ ("Find Examples ranks the dataset's samples for this layer."));
      if (self->job == NULL)
        run_if_cached (self);
    }
  update_controls (self);
}

void
scope_examples_panel_set_target (ScopeExamplesPanel *self,
                                 ScopeModel         *model,
                                 int                 layer,
                                 int                 channel)
{
  g_return_if_fail (SCOPE_IS_EXAMPLES_PANEL (self));

  gboolean same_layer = model == self->model && layer == self->layer;
  if (model != self->model)
    {
      g_clear_pointer (&self->model, scope_model_unref);
      self->model = model != NULL ? scope_model_ref (model) : NULL;
    }
  self->layer = layer;
  self->channel = channel;
  if (same_layer)
    make_tiles (self);
  else
    target_changed (self);
}

void
scope_examples_panel_set_folder (ScopeExamplesPanel *self,
                                 const char         *path)
{
  g_return_if_fail (SCOPE_IS_EXAMPLES_PANEL (self));
  g_return_if_fail (path != NULL);

  g_free (self->folder);
  self->folder = g_strdup (path);
  g_autofree char *name = g_path_get_basename (path);
  gtk_button_set_label (GTK_BUTTON (self->folder_button), name);
  GtkWidget *label = gtk_button_get_child (GTK_BUTTON (self->folder_button));
  if (GTK_IS_LABEL (label))
    {
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 18);
    }
  gtk_widget_set_tooltip_text (self->folder_button, path);
  if (self->have_fashion && gtk_drop_down_get_selected (self->dataset_drop) != 1)
    gtk_drop_down_set_selected (self->dataset_drop, 1);  /* notify runs target_changed */
  else
    target_changed (self);
}

void
scope_examples_panel_set_crop (ScopeExamplesPanel *self,
                               gboolean            crop)
{
  g_return_if_fail (SCOPE_IS_EXAMPLES_PANEL (self));

  gtk_check_button_set_active (self->crop_check, crop);
}

ScopeExamples *
scope_examples_panel_get_examples (ScopeExamplesPanel *self)
{
  g_return_val_if_fail (SCOPE_IS_EXAMPLES_PANEL (self), NULL);

  return self->examples;
}

const char *
scope_examples_panel_get_status (ScopeExamplesPanel *self)
{
  g_return_val_if_fail (SCOPE_IS_EXAMPLES_PANEL (self), NULL);

  return gtk_label_get_label (self->status_label);
}

/* Actions. */

static void
action_run (GtkWidget  *widget,
            const char *name,
            GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  scope_examples_panel_run (SCOPE_EXAMPLES_PANEL (widget));
}

static void
action_stop (GtkWidget  *widget,
             const char *name,
             GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  scope_examples_panel_cancel (SCOPE_EXAMPLES_PANEL (widget));
}

static void
folder_chosen (GtkWidget *owner,
               GFile     *file)
{
  g_autofree char *path = g_file_get_path (file);
  if (path != NULL)
    scope_examples_panel_set_folder (SCOPE_EXAMPLES_PANEL (owner), path);
}

static void
action_choose_folder (GtkWidget  *widget,
                      const char *name,
                      GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  scope_file_dialog_run (widget, GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                         _ ("Choose Image Folder"), _ ("_Choose"), NULL, 0, NULL, NULL,
                         folder_chosen);
}

static void
on_crop_toggled (ScopeExamplesPanel *self)
{
  make_tiles (self);
}

static void
scope_examples_panel_map (GtkWidget *widget)
{
  ScopeExamplesPanel *self = SCOPE_EXAMPLES_PANEL (widget);

  GTK_WIDGET_CLASS (scope_examples_panel_parent_class)->map (widget);
  if (self->job == NULL && !holds_target (self))
    run_if_cached (self);
}

static void
scope_examples_panel_dispose (GObject *object)
{
  ScopeExamplesPanel *self = SCOPE_EXAMPLES_PANEL (object);

  clear_job (self);
  g_clear_pointer (&self->examples, scope_examples_unref);
  g_clear_pointer (&self->examples_model, scope_model_unref);
  g_clear_pointer (&self->model, scope_model_unref);
  g_clear_pointer (&self->tiles, g_free);
  g_clear_pointer (&self->folder, g_free);
  g_clear_pointer (&self->caption, g_free);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (scope_examples_panel_parent_class)->dispose (object);
}

static void
scope_examples_panel_class_init (ScopeExamplesPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = scope_examples_panel_dispose;
  widget_class->map = scope_examples_panel_map;

  g_type_ensure (SCOPE_TYPE_WRAP_BOX);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cnnscope/Cnnscope/ui/"
                                               "scope-examples-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, ScopeExamplesPanel, dataset_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeExamplesPanel, folder_button);
  gtk_widget_class_bind_template_child (widget_class, ScopeExamplesPanel, crop_check);
  gtk_widget_class_bind_template_child (widget_class, ScopeExamplesPanel, progress);
  gtk_widget_class_bind_template_child (widget_class, ScopeExamplesPanel, status_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeExamplesPanel, canvas);
  gtk_widget_class_install_action (widget_class, "examples.run", NULL, action_run);
  gtk_widget_class_install_action (widget_class, "examples.stop", NULL, action_stop);
  gtk_widget_class_install_action (widget_class, "examples.choose-folder", NULL,
                                   action_choose_folder);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
scope_examples_panel_init (ScopeExamplesPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->layer = -1;
  self->job_layer = -1;

  /* Fashion-MNIST is offered when it is installed where nn_dataset_open looks. */
  self->have_fashion = g_file_test (NN_FASHION_MNIST_DIR, G_FILE_TEST_IS_DIR);
  GtkStringList *datasets = gtk_string_list_new (NULL);
  if (self->have_fashion)
    gtk_string_list_append (datasets, _ ("Fashion-MNIST"));
  gtk_string_list_append (datasets, _ ("Image folder"));
  gtk_drop_down_set_model (self->dataset_drop, G_LIST_MODEL (datasets));
  g_object_unref (datasets);
  scope_accessible_set_label (GTK_WIDGET (self->dataset_drop), _ ("Dataset"));
  g_signal_connect_swapped (self->dataset_drop, "notify::selected",
                            G_CALLBACK (target_changed), self);
  g_signal_connect_swapped (self->crop_check, "toggled", G_CALLBACK (on_crop_toggled), self);
  gtk_drawing_area_set_draw_func (self->canvas, draw_canvas, self, NULL);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->canvas), TRUE);
  g_signal_connect (self->canvas, "query-tooltip", G_CALLBACK (on_query_tooltip), self);
  scope_accessible_set_label (GTK_WIDGET (self->canvas), _ ("No dataset examples"));
  set_status (self, _ ("Choose a layer to see the samples its channels respond to."));
  update_controls (self);
}
