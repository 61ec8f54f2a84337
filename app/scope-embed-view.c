/* SPDX-License-Identifier: MIT */
/* ScopeEmbedView: the settings, one ScopeEmbedJob at a time, and the scatter drawn with
 * viz_scatter_draw (the CLI's embed figure); hover and click find the dot with
 * viz_scatter_hit. */
#include "scope-embed-view.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "scope-accessible.h"
#include "scope-error.h"
#include "scope-figure.h"
#include "scope-file-dialog.h"
#include "viz.h"

/* How far from a dot's centre (px) hovering and clicking still find it. */
#define HIT_RADIUS 6.0
/* The side of the hover thumbnail (px). */
#define THUMB_SIDE 112
/* The exported figure, as the CLI's embed draws it by default. */
#define EXPORT_WIDTH  900
#define EXPORT_HEIGHT 700

struct _ScopeEmbedView
{
  ScopeView        parent_instance;

  /* Template. */
  GtkDropDown     *dataset_drop;
  GtkWidget       *folder_button;
  GtkSpinButton   *limit_spin;
  GtkLabel        *layer_label;
  GtkDropDown     *mode_drop;
  GtkDropDown     *method_drop;
  GtkWidget       *perplexity_label;
  GtkSpinButton   *perplexity_spin;
  GtkSpinButton   *seed_spin;
  GtkDropDown     *colour_drop;
  GtkProgressBar  *progress;
  GtkStack        *canvas_stack;
  GtkDrawingArea  *canvas;
  GtkLabel        *info_label;

  gboolean         have_fashion;   /* Fashion-MNIST is installed: the first dataset choice */
  char            *folder;         /* the chosen image folder, or NULL */
  ScopeEmbedJob   *job;
  ScopeEmbedding  *embedding;      /* the newest result, or NULL */
  ScopeModel      *run_model;      /* the running job's model, or NULL */
  ScopeModel      *map_model;      /* the model that computed `embedding`, or NULL */
  char            *title;          /* the figure's, "Feature space of <model>" */
  char            *caption;
  int              hovered;        /* the sample under the pointer, or -1 */
  GtkPopover      *preview;        /* the hovered sample's image, class and prediction */
  GtkImage        *preview_image;
  GtkLabel        *preview_label;
};

G_DEFINE_FINAL_TYPE (ScopeEmbedView, scope_embed_view, SCOPE_TYPE_VIEW)

static gboolean
folder_chosen_in_drop (ScopeEmbedView *self)
{
  return !self->have_fashion || gtk_drop_down_get_selected (self->dataset_drop) == 1;
}

static void
update_controls (ScopeEmbedView *self)
{
  gboolean running = self->job != NULL;
  gboolean folder = folder_chosen_in_drop (self);
  gtk_widget_set_visible (self->folder_button, folder);
  ScopeModel *model = scope_view_get_model (SCOPE_VIEW (self));
  int layer = scope_view_get_layer (SCOPE_VIEW (self));
  g_autofree char *layer_text = model != NULL && layer >= 0
    ? g_strdup_printf (_ ("Layer %s"), scope_model_get_graph (model)->nodes[layer].name)
    : g_strdup ("");
  gtk_label_set_label (self->layer_label, layer_text);
  gboolean tsne = gtk_drop_down_get_selected (self->method_drop) == 1;
  gtk_widget_set_sensitive (self->perplexity_label, tsne);
  gtk_widget_set_sensitive (GTK_WIDGET (self->perplexity_spin), tsne);
  gboolean can_run = model != NULL && layer >= 0 && (!folder || self->folder != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "embed.run", can_run && !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "embed.cancel", running);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), running);
  scope_view_set_busy (SCOPE_VIEW (self), running);
  scope_view_set_can_export (SCOPE_VIEW (self), self->embedding != NULL);
}

/* The figure of the current embedding, its arrays borrowed from it. */
static VizScatter
scatter (ScopeEmbedView *self)
{
  const ScopeEmbedding *e = self->embedding;
  return (VizScatter) {
    .xy = e->xy, .n = e->n, .truth = e->samples->labels, .pred = e->preds,
    .colour_pred = gtk_drop_down_get_selected (self->colour_drop) == 1,
    .n_classes = e->n_classes, .labels = (const char *const *) e->names,
    .title = self->title, .caption = self->caption,
    .x_label = e->tsne ? "t-SNE 1" : "PC 1", .y_label = e->tsne ? "t-SNE 2" : "PC 2",
  };
}

static void
screen_style (ScopeEmbedView *self,
              VizStyle       *style)
{
  scope_figure_style_init_screen (style, GTK_WIDGET (self->canvas));
  style->tile_labels = FALSE;
}

/* The caption as the CLI writes it; the title names the model that computed the map. */
static void
make_caption (ScopeEmbedView *self)
{
  const ScopeEmbedding *e = self->embedding;
  g_free (self->title);
  const char *name = self->map_model != NULL ? scope_model_get_name (self->map_model) : "the model";
  self->title = g_strdup_printf ("Feature space of %s", name);
  g_autofree char *dataset = g_strcmp0 (e->dataset, "fashion-mnist") == 0
                             ? g_strdup (e->dataset) : g_path_get_basename (e->dataset);
  VizScatterCaption what = {
    .layer = e->layer, .flatten = e->flatten, .features = e->d, .tsne = e->tsne, .n = e->n,
    .perplexity = e->perplexity, .seed = e->seed, .variance = { e->variance[0], e->variance[1] },
    .dataset = dataset, .colour_pred = gtk_drop_down_get_selected (self->colour_drop) == 1,
    .wrong = e->wrong,
  };
  char caption[512] = "";
  viz_scatter_caption (caption, sizeof caption, &what);
  g_free (self->caption);
  self->caption = g_strdup (caption);
}

static void
draw_canvas (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        data)
{
  (void) area;
  ScopeEmbedView *self = data;
  if (self->embedding == NULL)
    return;
  VizScatter fig = scatter (self);
  VizStyle style;
  screen_style (self, &style);
  viz_scatter_draw (cr, &fig, &style, width, height);
  if (self->hovered >= 0 && self->hovered < self->embedding->n)
    {
      double x, y;
      viz_scatter_point (&fig, &style, width, height, self->hovered, &x, &y);
      cairo_set_source_rgba (cr, style.foreground[0], style.foreground[1], style.foreground[2],
                             1.0);
      cairo_set_line_width (cr, 2.0);
      cairo_arc (cr, x, y, 7.0, 0.0, 2 * M_PI);
      cairo_stroke (cr);
    }
}

/* A texture of sample i, scaled up to about THUMB_SIDE pixels by whole pixels (nearest), so
 * that a 28-pixel image stays sharp. */
static GdkTexture *
sample_texture (const NnDataset *ds,
                int              i)
{
  int scale = MAX (1, THUMB_SIDE / MAX (ds->h, ds->w));
  int w = ds->w * scale, h = ds->h * scale;
  gsize stride = (gsize) w * 3;
  guint8 *rgb = g_malloc (stride * (gsize) h);
  const float *img = ds->images + (size_t) i * ds->c * ds->h * ds->w;
  const size_t plane = (size_t) ds->h * ds->w;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int k = 0; k < 3; k++)
        {
          float v = img[(ds->c == 3 ? (size_t) k * plane : 0)
                        + (size_t) (y / scale) * ds->w + (size_t) (x / scale)];
          rgb[(gsize) y * stride + (gsize) x * 3 + (gsize) k] =
            (guint8) lrintf (255.0f * CLAMP (v, 0.0f, 1.0f));
        }
  g_autoptr (GBytes) bytes = g_bytes_new_take (rgb, stride * (gsize) h);
  return gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8, bytes, stride);
}

/* "#12: Sneaker\npredicted Sandal (wrong)". To g_free. */
static char *
describe_sample (const ScopeEmbedding *e,
                 int                   i)
{
  int truth = e->samples->labels[i], pred = e->preds[i];
  return g_strdup_printf ("#%d: %s\npredicted %s (%s)", e->index[i], e->names[truth],
                          e->names[pred], truth == pred ? "right" : "wrong");
}

/* Rings sample i (-1: none) and shows its image, class and prediction in the preview popover
 * pointing at its dot. */
static void
set_hovered (ScopeEmbedView *self,
             int             i)
{
  if (self->embedding == NULL || i >= self->embedding->n)
    i = -1;
  if (i == self->hovered || self->preview == NULL)
    return;
  self->hovered = i;
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
  if (i < 0)
    {
      gtk_popover_popdown (self->preview);
      return;
    }
  g_autoptr (GdkTexture) texture = sample_texture (self->embedding->samples, i);
  gtk_image_set_from_paintable (self->preview_image, GDK_PAINTABLE (texture));
  g_autofree char *text = describe_sample (self->embedding, i);
  gtk_label_set_label (self->preview_label, text);
  double x, y;
  scope_embed_view_get_point (self, i, &x, &y);
  /* Beyond the hit radius, so that the pointer on the dot is never inside the popover. */
  const int r = (int) HIT_RADIUS + 4;
  gtk_popover_set_pointing_to (self->preview,
                               &(GdkRectangle) { (int) x - r, (int) y - r, 2 * r, 2 * r });
  gtk_popover_popup (self->preview);
}

static void
on_motion (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           ScopeEmbedView           *self)
{
  (void) controller;
  set_hovered (self, scope_embed_view_hit (self, x, y));
}

static void
on_leave (GtkEventControllerMotion *controller,
          ScopeEmbedView           *self)
{
  (void) controller;
  set_hovered (self, -1);
}

/* Makes sample i the input of every view. */
static void
open_sample (ScopeEmbedView *self,
             int             i)
{
  const ScopeEmbedding *e = self->embedding;
  ScopeModel *model = scope_view_get_model (SCOPE_VIEW (self));
  if (e == NULL || model == NULL || i < 0 || i >= e->n)
    return;
  const NnDataset *ds = e->samples;
  NnImage *image = nn_image_new (ds->c, ds->h, ds->w);
  if (image == NULL)
    {
      scope_view_report_error (SCOPE_VIEW (self), _ ("Out of memory for sample %d"), e->index[i]);
      return;
    }
  memcpy (image->data, ds->images + (size_t) i * ds->c * ds->h * ds->w,
          sizeof (float) * (size_t) ds->c * ds->h * ds->w);
  g_autofree char *base = g_strcmp0 (e->dataset, "fashion-mnist") == 0
                          ? g_strdup ("Fashion-MNIST") : g_path_get_basename (e->dataset);
  /* A name, not a path: a class such as "T-shirt/top" must not look like folders. */
  g_autofree char *name = g_strdelimit (g_strdup_printf ("%s #%d (%s)", base, e->index[i],
                                                         e->names[ds->labels[i]]),
                                        G_DIR_SEPARATOR_S, '-');
  g_autoptr (GError) error = NULL;
  g_autoptr (ScopeInput) input = scope_input_new_image (name, image, model, &error);
  nn_image_free (image);
  if (input == NULL)
    {
      scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot open sample %d: %s"), e->index[i],
                               error->message);
      return;
    }
  scope_view_show_input (SCOPE_VIEW (self), input);
  g_autofree char *text = g_strdelimit (describe_sample (e, i), "\n", ' ');
  g_autofree char *info = g_strdup_printf (_ ("Opened %s in the other views"), text);
  gtk_label_set_label (self->info_label, info);
}

static void
on_pressed (GtkGestureClick *gesture,
            int              n_press,
            double           x,
            double           y,
            ScopeEmbedView  *self)
{
  (void) gesture;
  (void) n_press;
  gtk_widget_activate_action (GTK_WIDGET (self), "embed.click", "(dd)", x, y);
}

/* The run. */

static void
clear_job (ScopeEmbedView *self)
{
  if (self->job == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->job, self);
  scope_embed_job_cancel (self->job);
  g_clear_object (&self->job);
  g_clear_pointer (&self->run_model, scope_model_unref);
}

static void
on_job_progress (ScopeEmbedJob  *job,
                 double          fraction,
                 const char     *stage,
                 ScopeEmbedView *self)
{
  (void) job;
  gtk_progress_bar_set_fraction (self->progress, fraction);
  gtk_progress_bar_set_text (self->progress, stage);
}

static void
show_embedding (ScopeEmbedView *self,
                ScopeEmbedding *embedding)
{
  g_clear_pointer (&self->embedding, scope_embedding_unref);
  set_hovered (self, -1);
  self->embedding = embedding;
  if (embedding != NULL)
    {
      make_caption (self);
      gtk_stack_set_visible_child_name (self->canvas_stack, "figure");
      g_autofree char *info = g_strdup_printf (_ ("%d samples, %d misclassified: hover a dot "
                                                  "to see its image, click it to open it in "
                                                  "the other views"), embedding->n,
                                               embedding->wrong);
      gtk_label_set_label (self->info_label, info);
      g_autofree char *name = g_strdup_printf (_ ("Feature space scatter plot: %d samples, %d "
                                                  "misclassified"), embedding->n,
                                               embedding->wrong);
      scope_accessible_set_label (GTK_WIDGET (self->canvas), name);
    }
  else
    {
      gtk_stack_set_visible_child_name (self->canvas_stack, "empty");
      gtk_label_set_label (self->info_label, "");
      scope_accessible_set_label (GTK_WIDGET (self->canvas),
                                  _ ("Feature space scatter plot (nothing computed yet)"));
    }
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

static void
on_job_finished (ScopeEmbedJob  *job,
                 ScopeEmbedding *embedding,
                 const GError   *error,
                 ScopeEmbedView *self)
{
  (void) job;
  ScopeModel *model = g_steal_pointer (&self->run_model);
  clear_job (self);
  if (embedding != NULL)
    {
      g_clear_pointer (&self->map_model, scope_model_unref);
      self->map_model = g_steal_pointer (&model);
      show_embedding (self, scope_embedding_ref (embedding));
    }
  else if (!g_error_matches (error, SCOPE_NN_ERROR, NN_ERROR_CANCELLED))
    scope_view_report_error (SCOPE_VIEW (self), _ ("Feature space: %s"), error->message);
  g_clear_pointer (&model, scope_model_unref);
  update_controls (self);
}

static void
run (ScopeEmbedView *self)
{
  ScopeModel *model = scope_view_get_model (SCOPE_VIEW (self));
  int layer = scope_view_get_layer (SCOPE_VIEW (self));
  if (model == NULL || layer < 0)
    return;
  const char *dataset = folder_chosen_in_drop (self) ? self->folder : "fashion-mnist";
  if (dataset == NULL)
    return;
  clear_job (self);
  ScopeEmbedSettings settings = {
    .dataset = (char *) dataset,
    .node = layer,
    .mode = gtk_drop_down_get_selected (self->mode_drop) == 1 ? NN_FEATURES_FLATTEN
                                                                : NN_FEATURES_POOL,
    .tsne = gtk_drop_down_get_selected (self->method_drop) == 1,
    .limit = gtk_spin_button_get_value_as_int (self->limit_spin),
    .perplexity = gtk_spin_button_get_value (self->perplexity_spin),
    .seed = (guint64) gtk_spin_button_get_value_as_int (self->seed_spin),
  };
  self->run_model = scope_model_ref (model);
  self->job = scope_embed_job_new (model, &settings);
  g_signal_connect (self->job, "progress", G_CALLBACK (on_job_progress), self);
  g_signal_connect (self->job, "finished", G_CALLBACK (on_job_finished), self);
  gtk_progress_bar_set_fraction (self->progress, 0.0);
  gtk_progress_bar_set_text (self->progress, "starting");
  g_autoptr (GError) error = NULL;
  if (!scope_embed_job_start (self->job, &error))
    {
      clear_job (self);
      scope_view_report_error (SCOPE_VIEW (self), "%s", error->message);
    }
  update_controls (self);
}

/* Actions. */

static void
action_run (GtkWidget  *widget,
            const char *name,
            GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  run (SCOPE_EMBED_VIEW (widget));
}

static void
action_cancel (GtkWidget  *widget,
               const char *name,
               GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  scope_view_cancel (SCOPE_VIEW (widget));
}

/* "embed.click" (dd): a click at (x, y) in the plot opens the sample under it. */
static void
action_click (GtkWidget  *widget,
              const char *name,
              GVariant   *parameter)
{
  (void) name;
  ScopeEmbedView *self = SCOPE_EMBED_VIEW (widget);
  double x, y;
  g_variant_get (parameter, "(dd)", &x, &y);
  open_sample (self, scope_embed_view_hit (self, x, y));
}

/* "embed.hover" (dd): the pointer at (x, y) in the plot (what moving the mouse does). */
static void
action_hover (GtkWidget  *widget,
              const char *name,
              GVariant   *parameter)
{
  (void) name;
  ScopeEmbedView *self = SCOPE_EMBED_VIEW (widget);
  double x, y;
  g_variant_get (parameter, "(dd)", &x, &y);
  set_hovered (self, scope_embed_view_hit (self, x, y));
}

/* "embed.open-sample" (i): opens the i-th embedded sample. */
static void
action_open_sample (GtkWidget  *widget,
                    const char *name,
                    GVariant   *parameter)
{
  (void) name;
  open_sample (SCOPE_EMBED_VIEW (widget), g_variant_get_int32 (parameter));
}

static void
folder_chosen (GtkWidget *owner,
               GFile     *file)
{
  g_autofree char *path = g_file_get_path (file);
  if (path != NULL)
    scope_embed_view_set_folder (SCOPE_EMBED_VIEW (owner), path);
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
on_colour_changed (ScopeEmbedView *self)
{
  if (self->embedding != NULL)
    make_caption (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

static void
on_setting_changed (ScopeEmbedView *self)
{
  update_controls (self);
}

/* ScopeView. */

static void
scope_embed_view_changed (ScopeView       *view,
                          ScopeViewChange  what)
{
  ScopeEmbedView *self = SCOPE_EMBED_VIEW (view);
  ScopeModel *model = scope_view_get_model (view);
  /* A map and a run belong to the model they use; newer weights of the same training run (a
   * snapshot every half second) keep them. */
  if ((what & SCOPE_VIEW_MODEL) && self->run_model != NULL
      && (model == NULL || !scope_model_same_structure (self->run_model, model)))
    clear_job (self);
  if ((what & SCOPE_VIEW_MODEL) && self->map_model != NULL
      && (model == NULL || !scope_model_same_structure (self->map_model, model)))
    {
      show_embedding (self, NULL);
      g_clear_pointer (&self->map_model, scope_model_unref);
    }
  if (what & SCOPE_VIEW_MODEL)
    {
      if (model == NULL)
        scope_view_show_status (view, "view-app-grid-symbolic", _ ("No Model"),
                                _ ("Open a model to map a layer's features over a dataset"));
      else
        scope_view_show_status (view, NULL, NULL, NULL);
    }
  update_controls (self);
}

static void
draw_figure (cairo_t    *cr,
             const void *data,
             double      width,
             double      height)
{
  ScopeEmbedView *self = (ScopeEmbedView *) data;
  VizScatter fig = scatter (self);
  VizStyle style;
  viz_style_init (&style);
  viz_scatter_draw (cr, &fig, &style, width, height);
}

static gboolean
scope_embed_view_export (ScopeView   *view,
                         const char  *path,
                         GError     **error)
{
  ScopeEmbedView *self = SCOPE_EMBED_VIEW (view);
  if (self->embedding == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: no feature space to export",
                   path);
      return FALSE;
    }
  NnError err = { 0 };
  if (!viz_export (path, draw_figure, self, EXPORT_WIDTH, EXPORT_HEIGHT, &err))
    {
      scope_error_from_nn (error, &err);
      return FALSE;
    }
  return TRUE;
}

static void
scope_embed_view_cancel (ScopeView *view)
{
  ScopeEmbedView *self = SCOPE_EMBED_VIEW (view);
  if (self->job == NULL)
    return;
  clear_job (self);
  gtk_label_set_label (self->info_label, _ ("Stopped; the plot shows the last finished run"));
  update_controls (self);
}

/* Public API. */

void
scope_embed_view_set_folder (ScopeEmbedView *self,
                             const char     *path)
{
  g_return_if_fail (SCOPE_IS_EMBED_VIEW (self));
  g_return_if_fail (path != NULL);

  g_free (self->folder);
  self->folder = g_strdup (path);
  /* The button names the folder from now on; its tooltip gives the whole path. */
  g_autofree char *name = g_path_get_basename (path);
  gtk_button_set_use_underline (GTK_BUTTON (self->folder_button), FALSE);
  gtk_button_set_label (GTK_BUTTON (self->folder_button), name);
  GtkWidget *label = gtk_button_get_child (GTK_BUTTON (self->folder_button));
  if (GTK_IS_LABEL (label))
    {
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 18);
    }
  gtk_widget_set_tooltip_text (self->folder_button, path);
  if (self->have_fashion)
    gtk_drop_down_set_selected (self->dataset_drop, 1);
  update_controls (self);
}

const ScopeEmbedding *
scope_embed_view_get_embedding (ScopeEmbedView *self)
{
  g_return_val_if_fail (SCOPE_IS_EMBED_VIEW (self), NULL);

  return self->embedding;
}

gboolean
scope_embed_view_is_running (ScopeEmbedView *self)
{
  g_return_val_if_fail (SCOPE_IS_EMBED_VIEW (self), FALSE);

  return self->job != NULL;
}

void
scope_embed_view_get_point (ScopeEmbedView *self,
                            int             i,
                            double         *x,
                            double         *y)
{
  g_return_if_fail (SCOPE_IS_EMBED_VIEW (self));
  g_return_if_fail (self->embedding != NULL && i >= 0 && i < self->embedding->n);

  VizScatter fig = scatter (self);
  VizStyle style;
  screen_style (self, &style);
  viz_scatter_point (&fig, &style, gtk_widget_get_width (GTK_WIDGET (self->canvas)),
                     gtk_widget_get_height (GTK_WIDGET (self->canvas)), i, x, y);
}

int
scope_embed_view_get_hovered (ScopeEmbedView *self)
{
  g_return_val_if_fail (SCOPE_IS_EMBED_VIEW (self), -1);

  return self->hovered;
}

GtkWidget *
scope_embed_view_get_preview (ScopeEmbedView *self)
{
  g_return_val_if_fail (SCOPE_IS_EMBED_VIEW (self), NULL);

  return GTK_WIDGET (self->preview);
}

int
scope_embed_view_hit (ScopeEmbedView *self,
                      double          x,
                      double          y)
{
  g_return_val_if_fail (SCOPE_IS_EMBED_VIEW (self), -1);

  if (self->embedding == NULL)
    return -1;
  VizScatter fig = scatter (self);
  VizStyle style;
  screen_style (self, &style);
  return viz_scatter_hit (&fig, &style, gtk_widget_get_width (GTK_WIDGET (self->canvas)),
                          gtk_widget_get_height (GTK_WIDGET (self->canvas)), x, y, HIT_RADIUS);
}

static void
scope_embed_view_dispose (GObject *object)
{
  ScopeEmbedView *self = SCOPE_EMBED_VIEW (object);

  clear_job (self);
  if (self->preview != NULL)
    {
      gtk_widget_unparent (GTK_WIDGET (self->preview));
      self->preview = NULL;
    }
  g_clear_pointer (&self->embedding, scope_embedding_unref);
  g_clear_pointer (&self->map_model, scope_model_unref);
  g_clear_pointer (&self->folder, g_free);
  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->caption, g_free);

  G_OBJECT_CLASS (scope_embed_view_parent_class)->dispose (object);
}

static void
scope_embed_view_class_init (ScopeEmbedViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ScopeViewClass *view_class = SCOPE_VIEW_CLASS (klass);

  object_class->dispose = scope_embed_view_dispose;
  view_class->changed = scope_embed_view_changed;
  view_class->export = scope_embed_view_export;
  view_class->cancel = scope_embed_view_cancel;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cnnscope/Cnnscope/ui/scope-embed-view.ui");
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, dataset_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, folder_button);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, limit_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, layer_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, mode_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, method_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, perplexity_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, perplexity_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, seed_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, colour_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, progress);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, canvas_stack);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, canvas);
  gtk_widget_class_bind_template_child (widget_class, ScopeEmbedView, info_label);
  gtk_widget_class_bind_template_callback (widget_class, on_colour_changed);

  gtk_widget_class_install_action (widget_class, "embed.run", NULL, action_run);
  gtk_widget_class_install_action (widget_class, "embed.cancel", NULL, action_cancel);
  gtk_widget_class_install_action (widget_class, "embed.choose-folder", NULL,
                                   action_choose_folder);
  gtk_widget_class_install_action (widget_class, "embed.click", "(dd)", action_click);
  gtk_widget_class_install_action (widget_class, "embed.hover", "(dd)", action_hover);
  gtk_widget_class_install_action (widget_class, "embed.open-sample", "i",
                                   action_open_sample);
}

static void
scope_embed_view_init (ScopeEmbedView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->hovered = -1;

  /* Fashion-MNIST is offered when it is installed where nn_dataset_open looks. */
  self->have_fashion = g_file_test (NN_FASHION_MNIST_DIR, G_FILE_TEST_IS_DIR);
  GtkStringList *datasets = gtk_string_list_new (NULL);
  if (self->have_fashion)
    gtk_string_list_append (datasets, _ ("Fashion-MNIST"));
  gtk_string_list_append (datasets, _ ("Image folder"));
  gtk_drop_down_set_model (self->dataset_drop, G_LIST_MODEL (datasets));
  g_object_unref (datasets);
  g_signal_connect_swapped (self->dataset_drop, "notify::selected",
                            G_CALLBACK (on_setting_changed), self);
  g_signal_connect_swapped (self->method_drop, "notify::selected",
                            G_CALLBACK (on_setting_changed), self);

  gtk_drawing_area_set_draw_func (self->canvas, draw_canvas, self, NULL);
  scope_accessible_set_label (GTK_WIDGET (self->canvas),
                              _ ("Feature space scatter plot (nothing computed yet)"));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  self->preview_image = GTK_IMAGE (gtk_image_new ());
  gtk_image_set_pixel_size (self->preview_image, THUMB_SIDE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->preview_image));
  self->preview_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_justify (self->preview_label, GTK_JUSTIFY_CENTER);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->preview_label));
  self->preview = GTK_POPOVER (gtk_popover_new ());
  gtk_widget_set_name (GTK_WIDGET (self->preview), "embed-preview");
  gtk_popover_set_child (self->preview, box);
  gtk_popover_set_autohide (self->preview, FALSE);
  gtk_widget_set_can_target (GTK_WIDGET (self->preview), FALSE);
  gtk_widget_set_parent (GTK_WIDGET (self->preview), GTK_WIDGET (self->canvas));
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self->canvas), motion);
  GtkGesture *click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self->canvas), GTK_EVENT_CONTROLLER (click));

  scope_view_show_status (SCOPE_VIEW (self), "view-app-grid-symbolic", _ ("No Model"),
                          _ ("Open a model to map a layer's features over a dataset"));
  update_controls (self);
}
