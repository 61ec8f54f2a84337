/* SPDX-License-Identifier: MIT */
/* ScopeVolumeView: reads its volume on a worker (ScopeVolumeJob), cuts the three planes through
 * the crosshair, maps each to an image surface through the display window once when it changes
 * and paints them with viz_volume_plane_draw; classifies every slice on a worker for the strip
 * (with the out-of-distribution check when the model has statistics); reads a lesion mask
 * volume beside the scan (or chosen) for the contour and the pointing game; asks which series
 * to read from a DICOM folder of several. */
#include "scope-volume-view.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "scope-accessible.h"
#include "scope-error.h"
#include "scope-figure.h"
#include "scope-file-dialog.h"
#include "scope-volume-job.h"
#include "viz.h"

#define N_PLANES 3
/* HU per pixel of a secondary-button drag on a plane (right: wider, down: higher level). */
#define DRAG_HU_PER_PX 4.0

enum
{
  LUNG_WINDOW,
  MEDIASTINUM_WINDOW,
  BONE_WINDOW,
  CUSTOM_WINDOW,
};

static const NnCtWindow presets[CUSTOM_WINDOW] = {
  NN_CT_WINDOW_LUNG, NN_CT_WINDOW_MEDIASTINUM, NN_CT_WINDOW_BONE,
};

static const char *const plane_names[N_PLANES] = { N_ ("Axial"), N_ ("Coronal"), N_ ("Sagittal") };

static const ScopeFileType mask_types[] = {
  { N_ ("NIfTI volumes (.nii, .nii.gz)"), "*.nii;*.NII;*.nii.gz;*.NII.GZ" },
};

struct _ScopeVolumeView
{
  ScopeView        parent_instance;

  /* Template. */
  GtkDrawingArea  *areas[N_PLANES];   /* NnVolumePlane order */
  GtkLabel        *plane_labels[N_PLANES];
  GtkScale        *slice_scale;
  GtkDropDown     *ct_window_drop;
  GtkSpinButton   *ct_width_spin;
  GtkSpinButton   *ct_level_spin;
  GtkButton       *classify_button;
  GtkDropDown     *method_drop;
  GtkButton       *explain_button;
  GtkButton       *cancel_button;
  GtkProgressBar  *progress;
  GtkDrawingArea  *strip;
  GtkDrawingArea  *overlay_bar;
  GtkLabel        *info_label;
  GtkLabel        *slice_label;
  GtkCheckButton  *contour_check;

  GFile           *file;              /* the "file" property: what to read */
  char            *name;              /* its base name, for messages */
  ScopeVolumeJob  *load_job;
  ScopeVolumeJob  *classify_job;
  ScopeVolumeJob  *explain_job;
  ScopeVolumeJob  *mask_job;
  NnVolume        *volume;            /* LPS, or NULL */
  NnVolume        *mask;              /* the lesion mask volume on the volume's grid (LPS), or
                                         NULL */
  char            *mask_name;         /* its base name */
  char            *mask_reading;      /* the base name of the mask being read */
  gboolean         show_mask;         /* the "show-mask" property: draw its contour */
  guint8          *mask_planes[N_PLANES]; /* the mask through the crosshair, 1 inside */
  NnVolumeSeries  *series;            /* the series of a DICOM folder of several, while the
                                         user chooses; else NULL */
  int              n_series;
  AdwMessageDialog *series_dialog;
  GtkListBox      *series_list;
  float            lo, hi;            /* the value range, to show a volume that is not HU */
  int              cursor[3];         /* i, j, k */
  NnCtWindow       window;
  NnCtWindow       drag_start;
  gboolean         syncing;           /* the window controls are being set */
  cairo_surface_t *surfaces[N_PLANES];
  float           *probs;             /* nz x classes, the first `classified` rows valid */
  int              classes;
  int              classified;
  double          *ood_scores;        /* nz, the first `classified` valid; NULL without the
                                         model's out-of-distribution statistics */
  guint8          *ood_far;           /* nz: the score is above the threshold */
  double           ood_threshold;
  gint8           *pointing;          /* nz, the first `explained` valid: 1 hit, 0 miss, -1 no
                                         lesion in the mask */
  NnVolume        *attribution;       /* the explanation on the volume's grid, or NULL; slices
                                         below `explained` filled */
  VizColormap      overlay_map;       /* its colours, on one scale for the whole volume */
  float            overlay_lo;        /* the range of the slices explained so far */
  float            overlay_hi;
  cairo_surface_t *overlays[N_PLANES];
  int              explained;         /* slices explained so far */
  VizStyle         style;
};

enum
{
  PROP_0,
  PROP_FILE,
  PROP_SHOW_MASK,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (ScopeVolumeView, scope_volume_view, SCOPE_TYPE_VIEW)

/* Which cursor axis a plane fixes: axial k, coronal j, sagittal i. */
static int
fixed_axis (NnVolumePlane plane)
{
  return plane == NN_VOLUME_AXIAL ? 2 : plane == NN_VOLUME_CORONAL ? 1 : 0;
}

static int
axis_size (const NnVolume *v,
           int             axis)
{
  return axis == 0 ? v->nx : axis == 1 ? v->ny : v->nz;
}

/* The plane's figure: its surface, size and the crosshair in its own columns and rows (rows
 * of coronal and sagittal planes go down from the top, superior, slice). */
static VizVolumePlane
plane_figure (ScopeVolumeView *self,
              NnVolumePlane    plane)
{
  VizVolumePlane p = {
    .image = self->surfaces[plane],
    .overlay = self->overlays[plane],
    .mask = self->show_mask ? self->mask_planes[plane] : NULL,
    .crosshair = true,
  };
  nn_volume_plane_size (self->volume, plane, &p.w, &p.h, &p.width_mm, &p.height_mm);
  int i = self->cursor[0], j = self->cursor[1], top = self->volume->nz - 1 - self->cursor[2];
  p.cross_x = plane == NN_VOLUME_SAGITTAL ? j : i;
  p.cross_y = plane == NN_VOLUME_AXIAL ? j : top;
  return p;
}

static void
update_progress (ScopeVolumeView *self)
{
  gboolean loading = self->load_job != NULL || self->mask_job != NULL;
  gboolean classifying = self->classify_job != NULL;
  gboolean explaining = self->explain_job != NULL, working = classifying || explaining;
  gboolean ready = self->volume != NULL && !working
                   && scope_view_get_model (SCOPE_VIEW (self)) != NULL;
  scope_view_set_busy (SCOPE_VIEW (self), loading || working);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), working);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), working);
  gtk_widget_set_sensitive (GTK_WIDGET (self->classify_button), ready);
  gtk_widget_set_sensitive (GTK_WIDGET (self->explain_button), ready);
  if (working && self->volume != NULL)
    {
      int done = classifying ? self->classified : self->explained;
      gtk_progress_bar_set_fraction (self->progress, (double) done / self->volume->nz);
      gtk_progress_bar_set_text (self->progress,
                                 classifying ? _ ("Classifying") : _ ("Explaining"));
    }
}

/* Maps plane (through the cursor) to its surface through the display window. */
static void
render_plane (ScopeVolumeView *self,
              NnVolumePlane    plane)
{
  int w, h;
  nn_volume_plane_size (self->volume, plane, &w, &h, NULL, NULL);
  g_autofree float *values = g_new (float, (gsize) w * (gsize) h);
  nn_volume_plane_get (self->volume, plane, self->cursor[fixed_axis (plane)], values);
  if (self->volume->hu)
    nn_ct_window_apply (&self->window, values, values, (size_t) w * (size_t) h);
  else
    for (gsize n = 0; n < (gsize) w * (gsize) h; n++)
      values[n] = (values[n] - self->lo) / (self->hi - self->lo);
  g_clear_pointer (&self->surfaces[plane], cairo_surface_destroy);
  self->surfaces[plane] = viz_image_surface_new (values, 1, h, w);
  g_clear_pointer (&self->overlays[plane], cairo_surface_destroy);
  if (self->attribution != NULL)
    {
      nn_volume_plane_get (self->attribution, plane, self->cursor[fixed_axis (plane)], values);
      self->overlays[plane] = viz_volume_overlay_surface_new (values, w, h, &self->overlay_map,
                                                              0.7);
    }
  g_clear_pointer (&self->mask_planes[plane], g_free);
  if (self->mask != NULL)
    {
      nn_volume_plane_get (self->mask, plane, self->cursor[fixed_axis (plane)], values);
      self->mask_planes[plane] = g_new (guint8, (gsize) w * (gsize) h);
      for (gsize n = 0; n < (gsize) w * (gsize) h; n++)
        self->mask_planes[plane][n] = values[n] >= NN_MASK_THRESHOLD;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self->areas[plane]));
}

/* Whether axial slice k of the mask holds a lesion voxel. */
static gboolean
mask_slice_lit (ScopeVolumeView *self,
                int              k)
{
  gsize plane = (gsize) self->mask->nx * (gsize) self->mask->ny;
  const float *m = self->mask->data + (gsize) k * plane;
  for (gsize n = 0; n < plane; n++)
    if (m[n] >= NN_MASK_THRESHOLD)
      return TRUE;
  return FALSE;
}

/* The caption of the crosshair's axial slice: its top class, the out-of-distribution note,
 * the mask and the pointing game there and over the slices explained so far. */
static void
update_slice_note (ScopeVolumeView *self)
{
  int k = self->cursor[2];
  g_autoptr (GString) note = g_string_new (NULL);
  /* Translators: the caption of the crosshair's axial slice, "Slice 16 of 30". */
  g_string_append_printf (note, _ ("Slice %d of %d"), k + 1, self->volume->nz);
  ScopeModel *model = scope_view_get_model (SCOPE_VIEW (self));
  if (self->probs != NULL && k < self->classified && model != NULL)
    {
      const NnModel *m = scope_model_get_nn_model (model);
      const float *p = self->probs + (gsize) k * (gsize) self->classes;
      int top = 0;
      for (int c = 1; c < self->classes; c++)
        if (p[c] > p[top])
          top = c;
      g_autofree char *number = g_strdup_printf ("%d", top);
      const char *label = m->labels != NULL && m->n_classes == self->classes ? m->labels[top]
                                                                             : number;
      /* Translators: the slice's top class and its probability, "covid 87 %". */
      g_string_append_printf (note, _ (" · %s %.0f %%"), label, 100.0 * p[top]);
    }
  if (self->ood_scores != NULL && k < self->classified)
    {
      if (self->ood_far[k])
        g_string_append_printf (note, _ (" · far from the training data (out-of-distribution "
                                         "score %.2f above the threshold %.2f)"),
                                self->ood_scores[k], self->ood_threshold);
      else
        g_string_append_printf (note, _ (" · out-of-distribution score %.2f (threshold %.2f)"),
                                self->ood_scores[k], self->ood_threshold);
    }
  if (self->mask != NULL)
    {
      if (!mask_slice_lit (self, k))
        g_string_append (note, _ (" · no lesion in the mask"));
      else if (self->pointing != NULL && k < self->explained && self->pointing[k] >= 0)
        g_string_append (note, self->pointing[k] ? _ (" · lesion; pointing game: hit")
                                                 : _ (" · lesion; pointing game: miss"));
      else
        g_string_append (note, _ (" · lesion in the mask"));
    }
  if (self->pointing != NULL)
    {
      int hits = 0, lesions = 0;
      scope_volume_view_get_pointing (self, &hits, &lesions);
      if (lesions > 0)
        /* Translators: over the slices explained so far, "pointing game 12 of 14 slices with
         * a lesion". */
        g_string_append_printf (note, _ (" · pointing game %d of %d slices with a lesion"),
                                hits, lesions);
    }
  gtk_label_set_text (self->slice_label, note->str);
}

static void
update_labels (ScopeVolumeView *self)
{
  for (int p = 0; p < N_PLANES; p++)
    {
      int axis = fixed_axis (p);
      g_autofree char *text = g_strdup_printf ("%s %d / %d", _ (plane_names[p]),
                                               self->cursor[axis] + 1,
                                               axis_size (self->volume, axis));
      gtk_label_set_text (self->plane_labels[p], text);
      /* Translators: "Axial plane of chest.nii.gz, slice 40 of 80", for screen readers. */
      g_autofree char *label = g_strdup_printf (_ ("%s plane of %s, slice %d of %d"),
                                                _ (plane_names[p]), self->name,
                                                self->cursor[axis] + 1,
                                                axis_size (self->volume, axis));
      scope_accessible_set_label (GTK_WIDGET (self->areas[p]), label);
    }
  double xyz[3];
  nn_volume_world (self->volume, self->cursor[0], self->cursor[1], self->cursor[2], xyz);
  float value = self->volume->data[((gsize) self->cursor[2] * (gsize) self->volume->ny
                                    + (gsize) self->cursor[1]) * (gsize) self->volume->nx
                                   + (gsize) self->cursor[0]];
  g_autofree char *info = g_strdup_printf (
    _ ("%s · %d × %d × %d voxels, %.2f × %.2f × %.2f mm · voxel (%d, %d, %d) at (%.1f, %.1f, "
       "%.1f) mm RAS: %.0f%s"), self->name, self->volume->nx, self->volume->ny, self->volume->nz,
    self->volume->spacing[0], self->volume->spacing[1], self->volume->spacing[2],
    self->cursor[0], self->cursor[1], self->cursor[2], xyz[0], xyz[1], xyz[2], value,
    self->volume->hu ? " HU" : "");
  if (self->attribution != NULL)
    {
      float a = self->attribution->data[((gsize) self->cursor[2] * (gsize) self->volume->ny
                                         + (gsize) self->cursor[1]) * (gsize) self->volume->nx
                                        + (gsize) self->cursor[0]];
      g_autofree char *with = g_strdup_printf (_ ("%s · attribution %.3g (overlay %.3g to %.3g)"),
                                               info, a, self->overlay_map.lo,
                                               self->overlay_map.hi);
      gtk_label_set_text (self->info_label, with);
    }
  else
    gtk_label_set_text (self->info_label, info);
  update_slice_note (self);
}

/* Moves the crosshair to (i, j, k), clamped; renders again the planes whose slice changed. */
static void
set_cursor (ScopeVolumeView *self,
            int              i,
            int              j,
            int              k)
{
  if (self->volume == NULL)
    return;
  int next[3] = {
    CLAMP (i, 0, self->volume->nx - 1),
    CLAMP (j, 0, self->volume->ny - 1),
    CLAMP (k, 0, self->volume->nz - 1),
  };
  for (int p = 0; p < N_PLANES; p++)
    {
      int axis = fixed_axis (p);
      gboolean moved = next[axis] != self->cursor[axis];
      self->cursor[axis] = next[axis];
      if (moved)
        render_plane (self, p);
    }
  self->syncing = TRUE;
  gtk_range_set_value (GTK_RANGE (self->slice_scale), self->cursor[2]);
  self->syncing = FALSE;
  for (int p = 0; p < N_PLANES; p++)
    gtk_widget_queue_draw (GTK_WIDGET (self->areas[p]));
  gtk_widget_queue_draw (GTK_WIDGET (self->strip));
  update_labels (self);
}

/* The display window. */

static void
set_window (ScopeVolumeView *self,
            NnCtWindow       window)
{
  self->window = window;
  guint k = CUSTOM_WINDOW;
  for (guint n = 0; n < CUSTOM_WINDOW; n++)
    if (presets[n].width == window.width && presets[n].level == window.level)
      k = n;
  self->syncing = TRUE;
  gtk_drop_down_set_selected (self->ct_window_drop, k);
  gtk_spin_button_set_value (self->ct_width_spin, window.width);
  gtk_spin_button_set_value (self->ct_level_spin, window.level);
  self->syncing = FALSE;
  if (self->volume != NULL)
    for (int p = 0; p < N_PLANES; p++)
      render_plane (self, p);
}

static void
on_window_preset_changed (GObject         *object,
                          GParamSpec      *pspec,
                          ScopeVolumeView *self)
{
  (void) object;
  (void) pspec;
  guint k = gtk_drop_down_get_selected (self->ct_window_drop);
  if (!self->syncing && k < CUSTOM_WINDOW)
    set_window (self, presets[k]);
}

static void
on_window_value_changed (ScopeVolumeView *self)
{
  if (!self->syncing)
    set_window (self, (NnCtWindow) {
                  (float) gtk_spin_button_get_value (self->ct_width_spin),
                  (float) gtk_spin_button_get_value (self->ct_level_spin),
                });
}

static void
on_window_drag_begin (GtkGestureDrag  *gesture,
                      double           x,
                      double           y,
                      ScopeVolumeView *self)
{
  (void) x;
  (void) y;
  if (self->volume == NULL || !self->volume->hu)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  self->drag_start = self->window;
}

static void
on_window_drag_update (GtkGestureDrag  *gesture,
                       double           dx,
                       double           dy,
                       ScopeVolumeView *self)
{
  (void) gesture;
  GtkAdjustment *wa = gtk_spin_button_get_adjustment (self->ct_width_spin);
  GtkAdjustment *la = gtk_spin_button_get_adjustment (self->ct_level_spin);
  double width = CLAMP (round (self->drag_start.width + dx * DRAG_HU_PER_PX),
                        gtk_adjustment_get_lower (wa), gtk_adjustment_get_upper (wa));
  double level = CLAMP (round (self->drag_start.level + dy * DRAG_HU_PER_PX),
                        gtk_adjustment_get_lower (la), gtk_adjustment_get_upper (la));
  set_window (self, (NnCtWindow) { (float) width, (float) level });
}

/* The planes. */

/* How widget draws on screen: the text in its CSS colour, on nothing; the geometry and the
 * crosshair's colour of self->style, which an export uses as it is (on white). */
static VizStyle
screen_style (ScopeVolumeView *self,
              GtkWidget       *widget)
{
  VizStyle style;
  scope_figure_style_init_screen (&style, widget);
  style.tile_labels = FALSE;
  style.margin = self->style.margin;
  memcpy (style.accent, self->style.accent, sizeof style.accent);
  return style;
}

static NnVolumePlane
area_plane (ScopeVolumeView *self,
            GtkWidget       *area)
{
  for (int p = 0; p < N_PLANES; p++)
    if (GTK_WIDGET (self->areas[p]) == area)
      return p;
  g_return_val_if_reached (NN_VOLUME_AXIAL);
}

static void
draw_plane (GtkDrawingArea *area,
            cairo_t        *cr,
            int             width,
            int             height,
            gpointer        data)
{
  ScopeVolumeView *self = data;
  if (self->volume == NULL)
    return;
  VizVolumePlane p = plane_figure (self, area_plane (self, GTK_WIDGET (area)));
  VizStyle style = screen_style (self, GTK_WIDGET (area));
  viz_volume_plane_draw (cr, &p, &style, width, height);
}

/* A primary click or drag on a plane moves the crosshair to the voxel under the pointer. */
static void
point_at (ScopeVolumeView *self,
          GtkWidget       *area,
          double           x,
          double           y)
{
  if (self->volume == NULL)
    return;
  NnVolumePlane plane = area_plane (self, area);
  VizVolumePlane p = plane_figure (self, plane);
  int column, row;
  if (!viz_volume_plane_locate (&p, &self->style, gtk_widget_get_width (area),
                                gtk_widget_get_height (area), x, y, &column, &row))
    return;
  int top_k = self->volume->nz - 1 - row;
  switch (plane)
    {
    case NN_VOLUME_AXIAL:
      set_cursor (self, column, row, self->cursor[2]);
      break;
    case NN_VOLUME_CORONAL:
      set_cursor (self, column, self->cursor[1], top_k);
      break;
    case NN_VOLUME_SAGITTAL:
      set_cursor (self, self->cursor[0], column, top_k);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
on_point_begin (GtkGestureDrag  *gesture,
                double           x,
                double           y,
                ScopeVolumeView *self)
{
  point_at (self, gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture)), x, y);
}

static void
on_point_update (GtkGestureDrag  *gesture,
                 double           dx,
                 double           dy,
                 ScopeVolumeView *self)
{
  double x, y;
  gtk_gesture_drag_get_start_point (gesture, &x, &y);
  point_at (self, gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture)), x + dx,
            y + dy);
}

/* Steps plane's slice by delta. */
static void
step_slice (ScopeVolumeView *self,
            NnVolumePlane    plane,
            int              delta)
{
  if (self->volume == NULL)
    return;
  int next[3] = { self->cursor[0], self->cursor[1], self->cursor[2] };
  next[fixed_axis (plane)] += delta;
  set_cursor (self, next[0], next[1], next[2]);
}

static gboolean
on_scroll (GtkEventControllerScroll *controller,
           double                    dx,
           double                    dy,
           ScopeVolumeView          *self)
{
  (void) dx;
  GtkWidget *area = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (controller));
  /* Scrolling up goes superior (axial), anterior (coronal) or to the right (sagittal): the
   * direction of increasing index except for the coronal plane, which LPS counts backwards. */
  NnVolumePlane plane = area_plane (self, area);
  int delta = dy < 0 ? 1 : dy > 0 ? -1 : 0;
  step_slice (self, plane, plane == NN_VOLUME_CORONAL ? -delta : delta);
  return delta != 0;
}

static void
on_slice_changed (ScopeVolumeView *self)
{
  if (!self->syncing && self->volume != NULL)
    set_cursor (self, self->cursor[0], self->cursor[1],
                (int) lround (gtk_range_get_value (GTK_RANGE (self->slice_scale))));
}

/* The strip: the class probabilities of every classified slice, a column per slice (inferior
 * on the left), a row per class; the crosshair's slice marked. */
static void
draw_strip (GtkDrawingArea *area,
            cairo_t        *cr,
            int             width,
            int             height,
            gpointer        data)
{
  ScopeVolumeView *self = data;
  if (self->volume == NULL || self->probs == NULL)
    return;
  ScopeModel *model = scope_view_get_model (SCOPE_VIEW (self));
  const char *const *labels = model != NULL
                              ? (const char *const *) scope_model_get_nn_model (model)->labels
                              : NULL;
  VizVolumeStrip strip = {
    .probs = self->probs,
    .slices = self->volume->nz,
    .classes = self->classes,
    .done = self->classified,
    .current = self->cursor[2],
    .labels = labels != NULL && scope_model_get_nn_model (model)->n_classes == self->classes
              ? labels : NULL,
    .far = self->ood_far,
    .far_label = _ ("hatched: far from the training data (out-of-distribution check)"),
  };
  VizStyle style = screen_style (self, GTK_WIDGET (area));
  viz_volume_strip_draw (cr, &strip, &style, width, height);
}

/* The overlay's scale in real values. */
static void
draw_overlay_bar (GtkDrawingArea *area,
                  cairo_t        *cr,
                  int             width,
                  int             height,
                  gpointer        data)
{
  ScopeVolumeView *self = data;
  VizStyle style = screen_style (self, GTK_WIDGET (area));
  if (self->attribution != NULL)
    viz_colorbar_draw (cr, &self->overlay_map, &style, width, height);
}

/* Reading. */

/* Drops the attribution volume and its overlays. */
static void
clear_attribution (ScopeVolumeView *self)
{
  g_clear_pointer (&self->explain_job, scope_volume_job_free);
  g_clear_pointer (&self->attribution, nn_volume_free);
  g_clear_pointer (&self->pointing, g_free);
  self->explained = 0;
  for (int p = 0; p < N_PLANES; p++)
    {
      g_clear_pointer (&self->overlays[p], cairo_surface_destroy);
      if (self->areas[p] != NULL)
        gtk_widget_queue_draw (GTK_WIDGET (self->areas[p]));
    }
  if (self->overlay_bar != NULL)
    gtk_widget_set_visible (GTK_WIDGET (self->overlay_bar), FALSE);
}

/* Names the strip for assistive technologies: what it shows and, with the out-of-distribution
 * check, how many slices so far are far from the training data. */
static void
update_strip_label (ScopeVolumeView *self)
{
  if (self->ood_far == NULL)
    {
      scope_accessible_set_label (GTK_WIDGET (self->strip),
                                  _ ("Probability of each class along the axial slices"));
      return;
    }
  int far = 0;
  for (int k = 0; k < self->classified; k++)
    far += self->ood_far[k] != 0;
  g_autofree char *label = g_strdup_printf (_ ("Probability of each class along the axial "
                                               "slices; %d of %d slices far from the training "
                                               "data"), far, self->classified);
  scope_accessible_set_label (GTK_WIDGET (self->strip), label);
}

/* Drops the class probabilities and out-of-distribution scores of the slices. */
static void
clear_probs (ScopeVolumeView *self)
{
  g_clear_pointer (&self->classify_job, scope_volume_job_free);
  g_clear_pointer (&self->probs, g_free);
  g_clear_pointer (&self->ood_scores, g_free);
  g_clear_pointer (&self->ood_far, g_free);
  self->classified = 0;
  if (self->strip != NULL)
    update_strip_label (self);
}

/* Drops the mask volume (and a mask being read) and its contour. */
static void
clear_mask (ScopeVolumeView *self)
{
  g_clear_pointer (&self->mask_job, scope_volume_job_free);
  g_clear_pointer (&self->mask, nn_volume_free);
  g_clear_pointer (&self->mask_name, g_free);
  g_clear_pointer (&self->mask_reading, g_free);
  for (int p = 0; p < N_PLANES; p++)
    {
      g_clear_pointer (&self->mask_planes[p], g_free);
      if (self->areas[p] != NULL)
        gtk_widget_queue_draw (GTK_WIDGET (self->areas[p]));
    }
  if (self->contour_check != NULL)
    gtk_widget_set_sensitive (GTK_WIDGET (self->contour_check), FALSE);
}

/* Closes the dialog choosing a series, if open, without choosing. */
static void
close_series_dialog (ScopeVolumeView *self)
{
  if (self->series_dialog != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->series_dialog, self);
      g_signal_handlers_disconnect_by_data (self->series_list, self);
      gtk_window_destroy (GTK_WINDOW (self->series_dialog));
      g_clear_weak_pointer (&self->series_dialog);
      self->series_list = NULL;
    }
}

static void
clear_volume (ScopeVolumeView *self)
{
  clear_probs (self);
  clear_attribution (self);
  clear_mask (self);
  for (int p = 0; p < N_PLANES; p++)
    g_clear_pointer (&self->surfaces[p], cairo_surface_destroy);
  g_clear_pointer (&self->volume, nn_volume_free);
}

/* The mask. */

static void
on_mask_loaded (NnVolume     *mask,
                const GError *error,
                gpointer      data)
{
  ScopeVolumeView *self = data;
  g_autofree char *name = g_steal_pointer (&self->mask_reading);
  g_clear_pointer (&self->mask_job, scope_volume_job_free);
  update_progress (self);
  if (mask == NULL)
    {
      scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot open the mask %s"), error->message);
      return;
    }
  if (self->volume == NULL || !nn_volume_same_grid (self->volume, mask, 0.01))
    {
      if (self->volume != NULL)
        scope_view_report_error (SCOPE_VIEW (self),
                                 _ ("Cannot use %s as the mask of %s: its voxel grid (%d × %d × "
                                    "%d) is not the volume's (%d × %d × %d, at the same place "
                                    "in mm)"), name, self->name, mask->nx, mask->ny, mask->nz,
                                 self->volume->nx, self->volume->ny, self->volume->nz);
      nn_volume_free (mask);
      return;
    }
  /* The pointing game belongs to the mask it ran with: an explanation going on stops (its
   * slices so far stay) and the results so far are dropped. */
  g_clear_pointer (&self->explain_job, scope_volume_job_free);
  g_clear_pointer (&self->pointing, g_free);
  clear_mask (self);
  self->mask = mask;
  self->mask_name = g_steal_pointer (&name);
  gtk_widget_set_sensitive (GTK_WIDGET (self->contour_check), TRUE);
  for (int p = 0; p < N_PLANES; p++)
    render_plane (self, p);
  update_labels (self);
  update_progress (self);
  g_autofree char *message = g_strdup_printf (_ ("Mask %s over %s"), self->mask_name,
                                              self->name);
  scope_view_report_done (SCOPE_VIEW (self), message);
}

/* Reads the mask volume at path on a worker; it replaces the mask once it is checked. */
static void
load_mask (ScopeVolumeView *self,
           const char      *path)
{
  g_clear_pointer (&self->mask_job, scope_volume_job_free);
  g_free (self->mask_reading);
  self->mask_reading = g_path_get_basename (path);
  g_autoptr (GError) error = NULL;
  self->mask_job = scope_volume_job_load (path, NULL, on_mask_loaded, self, &error);
  if (self->mask_job == NULL)
    scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot open the mask %s: %s"),
                             self->mask_reading,
                             error->message);
  update_progress (self);
}

/* Series. */

static void load_series (ScopeVolumeView *self,
                         const char      *uid);

static void
on_series_response (AdwMessageDialog *dialog,
                    const char       *response,
                    ScopeVolumeView  *self)
{
  (void) dialog;
  GtkListBoxRow *row = self->series_list != NULL
                       ? gtk_list_box_get_selected_row (self->series_list) : NULL;
  g_signal_handlers_disconnect_by_data (self->series_list, self);
  g_signal_handlers_disconnect_by_data (self->series_dialog, self);
  g_clear_weak_pointer (&self->series_dialog);
  self->series_list = NULL;
  if (g_strcmp0 (response, "open") == 0 && row != NULL)
    {
      g_autofree char *uid = g_strdup (self->series[gtk_list_box_row_get_index (row)].uid);
      load_series (self, uid);
      return;
    }
  g_clear_pointer (&self->series, g_free);
  self->n_series = 0;
  if (self->volume == NULL)
    scope_view_show_status (SCOPE_VIEW (self), "view-grid-symbolic", _ ("No Series Chosen"),
                            _ ("Open the folder again to choose one of its series"));
}

static void
on_series_row_activated (GtkListBox      *list,
                         GtkListBoxRow   *row,
                         ScopeVolumeView *self)
{
  (void) list;
  g_autofree char *uid = g_strdup (self->series[gtk_list_box_row_get_index (row)].uid);
  close_series_dialog (self);
  load_series (self, uid);
}

/* Asks which of the n series of the folder to read (takes series). */
static void
ask_series (ScopeVolumeView *self,
            NnVolumeSeries  *series,
            int              n)
{
  close_series_dialog (self);
  g_free (self->series);
  self->series = series;
  self->n_series = n;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *body = g_strdup_printf (_ ("%s holds %d DICOM series. Which one should "
                                              "open?"), self->name, n);
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (
    adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                            _ ("Choose a Series"), body));
  GtkListBox *list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_widget_set_name (GTK_WIDGET (list), "volume-series-list");
  gtk_widget_add_css_class (GTK_WIDGET (list), "boxed-list");
  gtk_list_box_set_selection_mode (list, GTK_SELECTION_SINGLE);
  scope_accessible_set_label (GTK_WIDGET (list), _ ("The series of the folder"));
  for (int s = 0; s < n; s++)
    {
      const char *uid = series[s].uid[0] != '\0' ? series[s].uid
                                                 : _ ("(no Series Instance UID)");
      g_autofree char *text = NULL;
      if (series[s].description[0] != '\0')
        /* Translators: a series of a DICOM folder: its Series Description, Series Instance
         * UID and size. */
        text = g_strdup_printf (ngettext ("%s · %s · %d slice", "%s · %s · %d slices",
                                          (gulong) series[s].slices),
                                series[s].description, uid, series[s].slices);
      else
        /* Translators: a series of a DICOM folder: its Series Instance UID and size. */
        text = g_strdup_printf (ngettext ("%s · %d slice", "%s · %d slices",
                                          (gulong) series[s].slices),
                                uid, series[s].slices);
      GtkWidget *label = gtk_label_new (text);
      gtk_label_set_xalign (GTK_LABEL (label), 0.0f);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
      gtk_widget_set_margin_start (label, 12);
      gtk_widget_set_margin_end (label, 12);
      gtk_widget_set_margin_top (label, 8);
      gtk_widget_set_margin_bottom (label, 8);
      gtk_list_box_append (list, label);
    }
  gtk_list_box_select_row (list, gtk_list_box_get_row_at_index (list, 0));
  g_signal_connect (list, "row-activated", G_CALLBACK (on_series_row_activated), self);
  adw_message_dialog_set_extra_child (dialog, GTK_WIDGET (list));
  adw_message_dialog_add_responses (dialog, "cancel", _ ("_Cancel"), "open", _ ("_Open"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "open", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "open");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_series_response), self);
  g_set_weak_pointer (&self->series_dialog, dialog);
  self->series_list = list;
  if (self->volume == NULL)
    scope_view_show_status (SCOPE_VIEW (self), "view-grid-symbolic", _ ("Choose a Series"),
                            body);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_loaded (NnVolume     *volume,
           const GError *error,
           gpointer      data)
{
  ScopeVolumeView *self = data;
  int n_series = 0;
  NnVolumeSeries *series = scope_volume_job_steal_series (self->load_job, &n_series);
  g_clear_pointer (&self->load_job, scope_volume_job_free);
  if (volume == NULL && series != NULL && n_series > 1)
    {
      ask_series (self, series, n_series);
      update_progress (self);
      return;
    }
  g_free (series);
  if (volume == NULL)
    {
      scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot open %s"), error->message);
      if (self->volume == NULL)
        scope_view_show_status (SCOPE_VIEW (self), "dialog-error-symbolic",
                                _ ("Could Not Read the Volume"), error->message);
      update_progress (self);
      return;
    }
  clear_volume (self);
  self->volume = volume;
  gsize n = (gsize) volume->nx * (gsize) volume->ny * (gsize) volume->nz;
  self->lo = INFINITY;
  self->hi = -INFINITY;
  for (gsize v = 0; v < n; v++)
    if (isfinite (volume->data[v]))
      {
        self->lo = fminf (self->lo, volume->data[v]);
        self->hi = fmaxf (self->hi, volume->data[v]);
      }
  if (!(self->hi > self->lo))
    {
      self->lo = isfinite (self->lo) ? self->lo : 0.0f;
      self->hi = self->lo + 1.0f;
    }
  self->cursor[0] = volume->nx / 2;
  self->cursor[1] = volume->ny / 2;
  self->cursor[2] = volume->nz / 2;
  gtk_range_set_range (GTK_RANGE (self->slice_scale), 0, MAX (volume->nz - 1, 1));
  gtk_widget_set_sensitive (GTK_WIDGET (self->slice_scale), volume->nz > 1);
  gtk_widget_set_sensitive (GTK_WIDGET (self->ct_window_drop), volume->hu);
  gtk_widget_set_sensitive (GTK_WIDGET (self->ct_width_spin), volume->hu);
  gtk_widget_set_sensitive (GTK_WIDGET (self->ct_level_spin), volume->hu);
  for (int p = 0; p < N_PLANES; p++)
    render_plane (self, p);
  set_cursor (self, self->cursor[0], self->cursor[1], self->cursor[2]);
  scope_view_show_status (SCOPE_VIEW (self), NULL, NULL, NULL);
  scope_view_set_can_export (SCOPE_VIEW (self), TRUE);
  update_progress (self);
  g_autofree char *message = g_strdup_printf (_ ("Opened %s"), self->name);
  scope_view_report_done (SCOPE_VIEW (self), message);
  /* The lesion mask beside it (NAME.mask.nii.gz or NAME.mask.nii), as synth ct writes it. */
  g_autofree char *path = g_file_get_path (self->file);
  char *mask_path = path != NULL ? nn_mask_volume_find (path) : NULL;
  if (mask_path != NULL)
    load_mask (self, mask_path);
  free (mask_path);
}

/* Reads the file (series uid of a DICOM folder, or NULL) on a worker. */
static void
load_series (ScopeVolumeView *self,
             const char      *uid)
{
  g_clear_pointer (&self->load_job, scope_volume_job_free);
  g_clear_pointer (&self->series, g_free);
  self->n_series = 0;
  g_autofree char *path = g_file_get_path (self->file);
  g_autoptr (GError) error = NULL;
  self->load_job = scope_volume_job_load (path, uid, on_loaded, self, &error);
  if (self->load_job == NULL)
    scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot open %s: %s"), self->name,
                             error->message);
  else if (self->volume == NULL)
    scope_view_show_status (SCOPE_VIEW (self), "content-loading-symbolic", _ ("Reading the Volume"),
                            self->name);
  update_progress (self);
}

static void
load_file (ScopeVolumeView *self)
{
  close_series_dialog (self);
  g_clear_pointer (&self->series, g_free);
  self->n_series = 0;
  g_clear_pointer (&self->load_job, scope_volume_job_free);
  g_clear_pointer (&self->name, g_free);
  if (self->file == NULL)
    return;
  g_autofree char *path = g_file_get_path (self->file);
  self->name = g_file_get_basename (self->file);
  if (path == NULL)
    {
      scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot open %s: not a local file"),
                               self->name);
      return;
    }
  g_autoptr (GError) error = NULL;
  self->load_job = scope_volume_job_load (path, NULL, on_loaded, self, &error);
  if (self->load_job == NULL)
    scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot open %s: %s"), self->name,
                             error->message);
  else if (self->volume == NULL)
    scope_view_show_status (SCOPE_VIEW (self), "content-loading-symbolic", _ ("Reading the Volume"),
                            self->name);
  update_progress (self);
}

/* Classifying. */

static void
on_classify_progress (int          done,
                      int          total,
                      const float *probs,
                      gpointer     data)
{
  (void) total;
  ScopeVolumeView *self = data;
  memcpy (self->probs, probs, (gsize) done * (gsize) self->classes * sizeof (float));
  const double *scores = scope_volume_job_peek_ood_scores (self->classify_job);
  for (int k = self->classified; self->ood_scores != NULL && scores != NULL && k < done; k++)
    {
      self->ood_scores[k] = scores[k];
      self->ood_far[k] = scores[k] > self->ood_threshold;
    }
  self->classified = done;
  update_strip_label (self);
  update_slice_note (self);
  update_progress (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->strip));
}

static void
on_classified (NnVolume     *volume,
               const GError *error,
               gpointer      data)
{
  (void) volume;
  ScopeVolumeView *self = data;
  g_clear_pointer (&self->classify_job, scope_volume_job_free);
  if (error != NULL && !g_error_matches (error, SCOPE_NN_ERROR, NN_ERROR_CANCELLED))
    scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot classify %s: %s"), self->name,
                             error->message);
  update_progress (self);
}

static void
classify (ScopeVolumeView *self)
{
  ScopeModel *model = scope_view_get_model (SCOPE_VIEW (self));
  if (self->volume == NULL || model == NULL || self->classify_job != NULL
      || self->explain_job != NULL)
    return;
  const NnModel *m = scope_model_get_nn_model (model);
  clear_probs (self);
  self->classes = m->n_classes;
  self->probs = g_new0 (float, (gsize) self->volume->nz * (gsize) self->classes);
  const NnOod *ood = scope_model_get_ood (model);
  if (ood != NULL)
    {
      self->ood_scores = g_new0 (double, (gsize) self->volume->nz);
      self->ood_far = g_new0 (guint8, (gsize) self->volume->nz);
      self->ood_threshold = ood->threshold;
    }
  else if (scope_model_get_ood_error (model) != NULL)
    scope_view_report_error (SCOPE_VIEW (self), _ ("No out-of-distribution check: %s"),
                             scope_model_get_ood_error (model));
  g_autoptr (GError) error = NULL;
  self->classify_job = scope_volume_job_classify (model, self->volume, self->name,
                                                  m->has_window ? NULL : &self->window,
                                                  on_classify_progress, on_classified, self,
                                                  &error);
  if (self->classify_job == NULL)
    scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot classify %s: %s"), self->name,
                             error->message);
  if (self->classify_job == NULL || scope_volume_job_peek_ood_scores (self->classify_job) == NULL)
    {
      /* Scores only where the job computes them. */
      g_clear_pointer (&self->ood_scores, g_free);
      g_clear_pointer (&self->ood_far, g_free);
    }
  update_progress (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->strip));
}

/* Explaining. */

/* The overlay's scale from the slices explained so far: sequential from 0, or diverging when
 * some value is negative. */
static void
update_overlay_map (ScopeVolumeView *self)
{
  if (self->overlay_lo < 0.0f)
    viz_colormap_init (&self->overlay_map, VIZ_COLORMAP_DIVERGING, self->overlay_lo,
                       self->overlay_hi);
  else
    viz_colormap_init (&self->overlay_map, VIZ_COLORMAP_SEQUENTIAL, 0.0, self->overlay_hi);
  for (int p = 0; p < N_PLANES; p++)
    render_plane (self, p);
  gtk_widget_set_visible (GTK_WIDGET (self->overlay_bar), TRUE);
  gtk_widget_queue_draw (GTK_WIDGET (self->overlay_bar));
  update_labels (self);
}

/* Slices [explained, done) are final in the job's volume: copied into the view's, shown. */
static void
on_explain_progress (int          done,
                     int          total,
                     const float *probs,
                     gpointer     data)
{
  (void) total;
  (void) probs;
  ScopeVolumeView *self = data;
  const NnVolume *from = scope_volume_job_peek_attribution (self->explain_job);
  gsize plane = (gsize) from->nx * (gsize) from->ny;
  const gint8 *pointing = scope_volume_job_peek_pointing (self->explain_job);
  for (int k = self->explained; k < done; k++)
    {
      self->pointing[k] = pointing[k];
      const float *src = from->data + (gsize) k * plane;
      memcpy (self->attribution->data + (gsize) k * plane, src, plane * sizeof (float));
      for (gsize v = 0; v < plane; v++)
        if (isfinite (src[v]))
          {
            self->overlay_lo = fminf (self->overlay_lo, src[v]);
            self->overlay_hi = fmaxf (self->overlay_hi, src[v]);
          }
    }
  self->explained = done;
  update_overlay_map (self);
  update_progress (self);
}

static void
on_explained (NnVolume     *volume,
              const GError *error,
              gpointer      data)
{
  (void) volume;
  ScopeVolumeView *self = data;
  g_clear_pointer (&self->explain_job, scope_volume_job_free);
  if (error != NULL && !g_error_matches (error, SCOPE_NN_ERROR, NN_ERROR_CANCELLED))
    {
      scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot explain %s: %s"), self->name,
                               error->message);
      clear_attribution (self);
    }
  update_progress (self);
}

static void
explain (ScopeVolumeView *self)
{
  ScopeModel *model = scope_view_get_model (SCOPE_VIEW (self));
  if (self->volume == NULL || model == NULL || self->explain_job != NULL
      || self->classify_job != NULL)
    return;
  clear_attribution (self);
  self->attribution = nn_volume_new_like (self->volume);
  self->pointing = g_new (gint8, (gsize) self->volume->nz);
  memset (self->pointing, -1, (gsize) self->volume->nz);
  if (self->attribution == NULL)
    {
      scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot explain %s: out of memory"),
                               self->name);
      return;
    }
  self->overlay_lo = 0.0f;
  self->overlay_hi = 0.0f;
  viz_colormap_init (&self->overlay_map, VIZ_COLORMAP_SEQUENTIAL, 0.0, 0.0);
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.faith.metrics = 0;
  spec.map.method = (NnMethod) gtk_drop_down_get_selected (self->method_drop);
  self->explained = 0;
  const NnModel *m = scope_model_get_nn_model (model);
  g_autoptr (GError) error = NULL;
  self->explain_job = scope_volume_job_explain (model, self->volume, self->mask, self->name,
                                                m->has_window ? NULL : &self->window, &spec,
                                                on_explain_progress, on_explained, self,
                                                &error);
  if (self->explain_job == NULL)
    {
      scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot explain %s: %s"), self->name,
                               error->message);
      clear_attribution (self);
    }
  update_progress (self);
}

/* Actions. */

static void
action_explain (GtkWidget  *widget,
                const char *name,
                GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  explain (SCOPE_VOLUME_VIEW (widget));
}


static void
action_classify (GtkWidget  *widget,
                 const char *name,
                 GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  classify (SCOPE_VOLUME_VIEW (widget));
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

static void
mask_chosen (GtkWidget *owner,
             GFile     *file)
{
  scope_volume_view_open_mask (SCOPE_VOLUME_VIEW (owner), file);
}

/* volume.open-mask: a file dialog for the lesion mask volume, in the volume's folder. */
static void
action_open_mask (GtkWidget  *widget,
                  const char *name,
                  GVariant   *parameter)
{
  (void) name;
  (void) parameter;
  ScopeVolumeView *self = SCOPE_VOLUME_VIEW (widget);
  g_autoptr (GFile) folder = self->file != NULL ? g_file_get_parent (self->file) : NULL;
  scope_file_dialog_run (widget, GTK_FILE_CHOOSER_ACTION_OPEN, _ ("Open Mask"), _ ("_Open"),
                         mask_types, G_N_ELEMENTS (mask_types), folder, NULL, mask_chosen);
}

/* volume.choose-series (s): reads that series of the DICOM folder asked about. */
static void
action_choose_series (GtkWidget  *widget,
                      const char *name,
                      GVariant   *parameter)
{
  (void) name;
  ScopeVolumeView *self = SCOPE_VOLUME_VIEW (widget);
  g_autofree char *uid = g_variant_dup_string (parameter, NULL);
  if (self->file == NULL)
    return;
  close_series_dialog (self);
  load_series (self, uid);
}

/* volume.slice (i): steps the axial slice by i (Page Up/Down). */
static void
action_slice (GtkWidget  *widget,
              const char *name,
              GVariant   *parameter)
{
  (void) name;
  step_slice (SCOPE_VOLUME_VIEW (widget), NN_VOLUME_AXIAL, g_variant_get_int32 (parameter));
}

/* volume.click ((idd)): a primary click on plane (an NnVolumePlane) at (x, y) in its area,
 * as the pointer gives it. */
static void
action_click (GtkWidget  *widget,
              const char *name,
              GVariant   *parameter)
{
  (void) name;
  ScopeVolumeView *self = SCOPE_VOLUME_VIEW (widget);
  int plane;
  double x, y;
  g_variant_get (parameter, "(idd)", &plane, &x, &y);
  g_return_if_fail (plane >= 0 && plane < N_PLANES);
  point_at (self, GTK_WIDGET (self->areas[plane]), x, y);
}

/* volume.point ((iii)): moves the crosshair to a voxel. */
static void
action_point (GtkWidget  *widget,
              const char *name,
              GVariant   *parameter)
{
  (void) name;
  int i, j, k;
  g_variant_get (parameter, "(iii)", &i, &j, &k);
  set_cursor (SCOPE_VOLUME_VIEW (widget), i, j, k);
}

/* ScopeView. */

static void
scope_volume_view_changed (ScopeView       *view,
                           ScopeViewChange  what)
{
  ScopeVolumeView *self = SCOPE_VOLUME_VIEW (view);
  if (what & SCOPE_VIEW_MODEL)
    {
      /* Probabilities belong to the model that computed them. */
      clear_probs (self);
      clear_attribution (self);
      if (self->volume != NULL)
        update_slice_note (self);
      gtk_widget_queue_draw (GTK_WIDGET (self->strip));
      update_progress (self);
    }
}

static void
draw_figure (cairo_t    *cr,
             const void *data,
             double      width,
             double      height)
{
  ScopeVolumeView *self = (ScopeVolumeView *) data;
  double bar = self->attribution != NULL ? 80.0 : 0.0;
  /* An exported figure is on white, as the other views' are. */
  cairo_set_source_rgb (cr, 1.0, 1.0, 1.0);
  cairo_paint (cr);
  double w = (width - bar) / N_PLANES;
  for (int p = 0; p < N_PLANES; p++)
    {
      VizVolumePlane plane = plane_figure (self, p);
      cairo_save (cr);
      cairo_translate (cr, p * w, 0);
      viz_volume_plane_draw (cr, &plane, &self->style, w, height);
      cairo_restore (cr);
    }
  if (self->attribution != NULL)
    {
      cairo_save (cr);
      cairo_translate (cr, width - bar, height * 0.1);
      viz_colorbar_draw (cr, &self->overlay_map, &self->style, bar, height * 0.8);
      cairo_restore (cr);
    }
}

static gboolean
scope_volume_view_export (ScopeView   *view,
                          const char  *path,
                          GError     **error)
{
  ScopeVolumeView *self = SCOPE_VOLUME_VIEW (view);
  if (self->volume == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("%s: no volume is open"), path);
      return FALSE;
    }
  NnError err = { 0 };
  if (!viz_export (path, draw_figure, self, 1200, 400, &err))
    {
      scope_error_from_nn (error, &err);
      return FALSE;
    }
  return TRUE;
}

static void
scope_volume_view_cancel (ScopeView *view)
{
  ScopeVolumeView *self = SCOPE_VOLUME_VIEW (view);
  g_clear_pointer (&self->classify_job, scope_volume_job_free);
  if (self->explain_job != NULL)
    {
      /* The slices explained so far stay shown; none at all is no explanation. */
      g_clear_pointer (&self->explain_job, scope_volume_job_free);
      if (self->explained == 0)
        clear_attribution (self);
    }
  update_progress (self);
}

/* Public API. */

void
scope_volume_view_open_mask (ScopeVolumeView *self,
                             GFile           *file)
{
  g_return_if_fail (SCOPE_IS_VOLUME_VIEW (self));
  g_return_if_fail (G_IS_FILE (file));

  g_autofree char *path = g_file_get_path (file);
  g_autofree char *name = g_file_get_basename (file);
  if (self->volume == NULL)
    scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot open the mask %s: no volume is open"),
                             name);
  else if (path == NULL)
    scope_view_report_error (SCOPE_VIEW (self), _ ("Cannot open %s: not a local file"), name);
  else
    load_mask (self, path);
}

const NnVolume *
scope_volume_view_get_mask (ScopeVolumeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), NULL);
  return self->mask;
}

gboolean
scope_volume_view_get_ood (ScopeVolumeView *self,
                           int              k,
                           double          *score,
                           double          *threshold)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), FALSE);
  if (self->ood_scores == NULL || k < 0 || k >= self->classified)
    return FALSE;
  *score = self->ood_scores[k];
  *threshold = self->ood_threshold;
  return TRUE;
}

const char *
scope_volume_view_get_slice_note (ScopeVolumeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), NULL);
  return gtk_label_get_text (self->slice_label);
}

int
scope_volume_view_get_pointing (ScopeVolumeView *self,
                                int             *hits,
                                int             *lesions)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), -1);
  *hits = 0;
  *lesions = 0;
  for (int k = 0; self->pointing != NULL && k < self->explained; k++)
    if (self->pointing[k] >= 0)
      {
        (*lesions)++;
        *hits += self->pointing[k];
      }
  return self->pointing != NULL ? self->explained : 0;
}

const NnVolumeSeries *
scope_volume_view_get_series (ScopeVolumeView *self,
                              int             *n)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), NULL);
  *n = self->n_series;
  return self->series;
}

const NnVolume *
scope_volume_view_get_attribution (ScopeVolumeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), NULL);
  return self->attribution;
}

gboolean
scope_volume_view_is_explaining (ScopeVolumeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), FALSE);
  return self->explain_job != NULL;
}

const NnVolume *
scope_volume_view_get_volume (ScopeVolumeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), NULL);
  return self->volume;
}

gboolean
scope_volume_view_is_loading (ScopeVolumeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), FALSE);
  return self->load_job != NULL || self->mask_job != NULL;
}

void
scope_volume_view_get_cursor (ScopeVolumeView *self,
                              int              ijk[3])
{
  g_return_if_fail (SCOPE_IS_VOLUME_VIEW (self));
  for (int a = 0; a < 3; a++)
    ijk[a] = self->cursor[a];
}

void
scope_volume_view_get_plane_rect (ScopeVolumeView *self,
                                  NnVolumePlane    plane,
                                  double           rect[4])
{
  g_return_if_fail (SCOPE_IS_VOLUME_VIEW (self));
  g_return_if_fail (self->volume != NULL);
  VizVolumePlane p = plane_figure (self, plane);
  GtkWidget *area = GTK_WIDGET (self->areas[plane]);
  viz_volume_plane_layout (&p, &self->style, gtk_widget_get_width (area),
                           gtk_widget_get_height (area), rect);
}

NnCtWindow
scope_volume_view_get_window (ScopeVolumeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), NN_CT_WINDOW_LUNG);
  return self->window;
}

void
scope_volume_view_set_default_window (ScopeVolumeView *self,
                                      NnCtWindow       window)
{
  g_return_if_fail (SCOPE_IS_VOLUME_VIEW (self));

  set_window (self, window);
}

int
scope_volume_view_get_classified (ScopeVolumeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), 0);
  return self->classified;
}

gboolean
scope_volume_view_is_classifying (ScopeVolumeView *self)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), FALSE);
  return self->classify_job != NULL;
}

const float *
scope_volume_view_get_probs (ScopeVolumeView *self,
                             int              k)
{
  g_return_val_if_fail (SCOPE_IS_VOLUME_VIEW (self), NULL);
  if (self->probs == NULL || k < 0 || k >= self->classified)
    return NULL;
  return self->probs + (gsize) k * (gsize) self->classes;
}

/* GObject. */

static void
scope_volume_view_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  ScopeVolumeView *self = SCOPE_VOLUME_VIEW (object);

  switch (prop_id)
    {
    case PROP_FILE:
      if (g_set_object (&self->file, g_value_get_object (value)))
        {
          load_file (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_SHOW_MASK:
      if (self->show_mask != g_value_get_boolean (value))
        {
          self->show_mask = g_value_get_boolean (value);
          for (int p = 0; p < N_PLANES; p++)
            gtk_widget_queue_draw (GTK_WIDGET (self->areas[p]));
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_volume_view_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  ScopeVolumeView *self = SCOPE_VOLUME_VIEW (object);

  switch (prop_id)
    {
    case PROP_FILE:
      g_value_set_object (value, self->file);
      break;
    case PROP_SHOW_MASK:
      g_value_set_boolean (value, self->show_mask);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
scope_volume_view_dispose (GObject *object)
{
  ScopeVolumeView *self = SCOPE_VOLUME_VIEW (object);

  g_clear_pointer (&self->load_job, scope_volume_job_free);
  close_series_dialog (self);
  g_clear_pointer (&self->series, g_free);
  clear_volume (self);
  g_clear_object (&self->file);
  g_clear_pointer (&self->name, g_free);

  G_OBJECT_CLASS (scope_volume_view_parent_class)->dispose (object);
}

static void
scope_volume_view_class_init (ScopeVolumeViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  ScopeViewClass *view_class = SCOPE_VIEW_CLASS (klass);

  object_class->set_property = scope_volume_view_set_property;
  object_class->get_property = scope_volume_view_get_property;
  object_class->dispose = scope_volume_view_dispose;
  view_class->changed = scope_volume_view_changed;
  view_class->export = scope_volume_view_export;
  view_class->cancel = scope_volume_view_cancel;

  /* The volume to read (a NIfTI file or a DICOM series folder): the window binds its
   * "volume-file" here. */
  properties[PROP_FILE] = g_param_spec_object ("file", NULL, NULL, G_TYPE_FILE,
                                               G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                               | G_PARAM_STATIC_STRINGS);
  /* Whether the lesion mask's contour is drawn over the planes (volume.show-mask). */
  properties[PROP_SHOW_MASK] = g_param_spec_boolean ("show-mask", NULL, NULL, TRUE,
                                                     G_PARAM_READWRITE
                                                     | G_PARAM_EXPLICIT_NOTIFY
                                                     | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/cnnscope/Cnnscope/ui/scope-volume-view.ui");
  gtk_widget_class_bind_template_child_full (widget_class, "axial_area", FALSE,
                                             G_STRUCT_OFFSET (ScopeVolumeView, areas[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "coronal_area", FALSE,
                                             G_STRUCT_OFFSET (ScopeVolumeView, areas[1]));
  gtk_widget_class_bind_template_child_full (widget_class, "sagittal_area", FALSE,
                                             G_STRUCT_OFFSET (ScopeVolumeView, areas[2]));
  gtk_widget_class_bind_template_child_full (widget_class, "axial_label", FALSE,
                                             G_STRUCT_OFFSET (ScopeVolumeView,
                                                              plane_labels[0]));
  gtk_widget_class_bind_template_child_full (widget_class, "coronal_label", FALSE,
                                             G_STRUCT_OFFSET (ScopeVolumeView,
                                                              plane_labels[1]));
  gtk_widget_class_bind_template_child_full (widget_class, "sagittal_label", FALSE,
                                             G_STRUCT_OFFSET (ScopeVolumeView,
                                                              plane_labels[2]));
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, slice_scale);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, ct_window_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, ct_width_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, ct_level_spin);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, classify_button);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, method_drop);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, explain_button);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, progress);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, strip);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, overlay_bar);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, info_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, slice_label);
  gtk_widget_class_bind_template_child (widget_class, ScopeVolumeView, contour_check);
  gtk_widget_class_bind_template_callback (widget_class, on_window_preset_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_window_value_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_slice_changed);

  gtk_widget_class_install_action (widget_class, "volume.classify", NULL, action_classify);
  gtk_widget_class_install_action (widget_class, "volume.explain", NULL, action_explain);
  gtk_widget_class_install_action (widget_class, "volume.cancel", NULL, action_cancel);
  gtk_widget_class_install_action (widget_class, "volume.slice", "i", action_slice);
  gtk_widget_class_install_action (widget_class, "volume.point", "(iii)", action_point);
  gtk_widget_class_install_action (widget_class, "volume.click", "(idd)", action_click);
  gtk_widget_class_install_action (widget_class, "volume.open-mask", NULL, action_open_mask);
  gtk_widget_class_install_action (widget_class, "volume.choose-series", "s",
                                   action_choose_series);
  gtk_widget_class_install_property_action (widget_class, "volume.show-mask", "show-mask");
  /* The view's own keys, active while the focus is inside it. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Up, 0, "volume.slice", "i",
                                       1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Down, 0, "volume.slice",
                                       "i", -1);
}

static void
scope_volume_view_init (ScopeVolumeView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  viz_style_init (&self->style);
  self->style.background[3] = 0.0;
  self->style.margin = 4.0;
  self->style.accent[0] = 1.0;
  self->style.accent[1] = 0.8;
  self->style.accent[2] = 0.0;
  self->window = NN_CT_WINDOW_LUNG;
  self->show_mask = TRUE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->contour_check), FALSE);
  set_window (self, self->window);
  /* The methods of the registry, in its order (the index is the NnMethod). */
  GtkStringList *methods = gtk_string_list_new (NULL);
  for (int m = 0; m < NN_METHOD_COUNT_; m++)
    gtk_string_list_append (methods, nn_method_get_info (m)->label);
  gtk_drop_down_set_model (self->method_drop, G_LIST_MODEL (methods));
  g_object_unref (methods);
  gtk_drop_down_set_selected (self->method_drop, NN_METHOD_GRADCAM);

  for (int p = 0; p < N_PLANES; p++)
    {
      GtkWidget *area = GTK_WIDGET (self->areas[p]);
      gtk_drawing_area_set_draw_func (self->areas[p], draw_plane, self, NULL);
      g_autofree char *label = g_strdup_printf (_ ("%s plane (no volume open)"),
                                                _ (plane_names[p]));
      scope_accessible_set_label (area, label);

      GtkGesture *point = gtk_gesture_drag_new ();
      gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (point), GDK_BUTTON_PRIMARY);
      g_signal_connect (point, "drag-begin", G_CALLBACK (on_point_begin), self);
      g_signal_connect (point, "drag-update", G_CALLBACK (on_point_update), self);
      gtk_widget_add_controller (area, GTK_EVENT_CONTROLLER (point));

      GtkGesture *window = gtk_gesture_drag_new ();
      gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (window), GDK_BUTTON_SECONDARY);
      g_signal_connect (window, "drag-begin", G_CALLBACK (on_window_drag_begin), self);
      g_signal_connect (window, "drag-update", G_CALLBACK (on_window_drag_update), self);
      gtk_widget_add_controller (area, GTK_EVENT_CONTROLLER (window));

      GtkEventController *scroll = gtk_event_controller_scroll_new (
        GTK_EVENT_CONTROLLER_SCROLL_VERTICAL | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
      g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
      gtk_widget_add_controller (area, scroll);
    }
  gtk_drawing_area_set_draw_func (self->strip, draw_strip, self, NULL);
  gtk_drawing_area_set_draw_func (self->overlay_bar, draw_overlay_bar, self, NULL);
  update_strip_label (self);
  scope_accessible_set_label (GTK_WIDGET (self->overlay_bar), _ ("Colour bar of the attribution"));
  scope_view_show_status (SCOPE_VIEW (self), "view-grid-symbolic", _ ("No Volume"),
                          _ ("Open a NIfTI file or a DICOM series folder with Open Volume… in "
                             "the main menu, or start cnnscope MODEL VOLUME"));
  update_progress (self);
}
