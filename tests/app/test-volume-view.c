/* SPDX-License-Identifier: MIT */
/* The Volume view under Xvfb, driven through its actions: a small NIfTI volume written by the
 * test opens on a worker and shows three planes at the aspect of its spacing; clicks on a plane
 * and the crosshair move the other planes' slices, Page Up/Down and the slider the axial one;
 * the window presets render again; the CT model classifies every slice into the strip and
 * explains every slice into an attribution volume over the planes, and a cancel stops either;
 * the view fits 800 x 600; a file that is not a volume is refused with a toast naming it;
 * `cnnscope MODEL VOLUME` opens the volume. A synthetic version-2 volume opens with the lesion
 * mask beside it, drawn as a contour that can be switched off, used for the pointing game of
 * Explain Volume, refused with the file's name when its grid is another; slices far from the
 * training data are marked and captioned. A DICOM folder of two series asks which to read.
 * Screenshots go to $CNNSCOPE_SCREENSHOT_DIR. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "scope-accessible.h"
#include "scope-application.h"
#include "scope-volume-view.h"
#include "scope-window.h"
#include "test-dicom.h"
#include "test-util.h"
#include "ui-util.h"
#include "viz.h"

/* The volume: NX x NY x NZ voxels of SX x SY x SZ mm, already in LPS order. */
enum { NX = 64, NY = 48, NZ = 30 };
static const double SX = 0.7, SY = 0.7, SZ = 2.5;

static ScopeApplication *app;
static ScopeWindow      *window;
static char             *shot_dir;

#define activate(widget, ...) ui_util_activate (GTK_WIDGET (widget), __VA_ARGS__)

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_descendant (child, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
find_named (GtkWidget  *widget,
            const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_named (child, name);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* data: the file name of the model awaited. */
static gboolean
ct_model_delivered (gpointer data)
{
  ScopeActivations *act = scope_window_get_activations (window);
  return act != NULL && !scope_window_is_busy (window)
         && g_strcmp0 (scope_model_get_name (scope_activations_get_model (act)), data) == 0;
}

static gboolean
volume_read (gpointer data)
{
  ScopeVolumeView *view = data;
  return !scope_volume_view_is_loading (view) && scope_volume_view_get_volume (view) != NULL;
}

static gboolean
error_mentions (gpointer data)
{
  const char *message = scope_window_get_error_message (window);
  return message != NULL && strstr (message, data) != NULL;
}

static gboolean
classified (gpointer data)
{
  return !scope_volume_view_is_classifying (data);
}

static gboolean
explained (gpointer data)
{
  return !scope_volume_view_is_explaining (data);
}

static int ticks;

static gboolean
count_tick (GtkWidget     *widget,
            GdkFrameClock *clock,
            gpointer       data)
{
  (void) widget;
  (void) clock;
  (void) data;
  ticks++;
  return G_SOURCE_CONTINUE;
}

static gboolean
ticks_reached (gpointer data)
{
  return ticks >= GPOINTER_TO_INT (data);
}

/* Lets the window lay out and draw a few frames. */
static void
wait_frames (int frames)
{
  ticks = 0;
  guint id = gtk_widget_add_tick_callback (GTK_WIDGET (window), count_tick, NULL, NULL);
  test_util_wait (ticks_reached, GINT_TO_POINTER (frames), "frames to be drawn");
  gtk_widget_remove_tick_callback (GTK_WIDGET (window), id);
}

/* A chest-like phantom in HU: air around a soft-tissue body, two lungs that narrow toward the
 * top and bottom, a spine behind them and a nodule in the right lung, at voxel sizes SX, SY, SZ
 * with the axes along L, P and S. */
static char *
write_volume (const char *dir)
{
  NnVolume *v = nn_volume_new (NX, NY, NZ);
  g_assert_nonnull (v);
  double spacing[3] = { SX, SY, SZ };
  double sign[3] = { -1.0, -1.0, 1.0 };  /* RAS: i to the left and j backwards are negative */
  for (int a = 0; a < 3; a++)
    {
      v->spacing[a] = spacing[a];
      for (int b = 0; b < 4; b++)
        v->affine[a][b] = a == b ? sign[a] * spacing[a] : 0.0;
    }
  for (int k = 0; k < NZ; k++)
    for (int j = 0; j < NY; j++)
      for (int i = 0; i < NX; i++)
        {
          double x = (i - NX / 2.0) / (NX * 0.45), y = (j - NY / 2.0) / (NY * 0.4);
          double t = sin (M_PI * (k + 0.5) / NZ);
          double lx = (fabs (x) - 0.45) / (0.3 * t), ly = y / (0.7 * t);
          double sx = x / 0.12, sy = (y - 0.7) / 0.15;
          double nx = (i - NX * 0.3) * SX / 4.0, ny = (j - NY * 0.45) * SY / 4.0;
          double nz = (k - NZ * 0.5) * SZ / 4.0;
          float hu = -1000.0f;
          if (x * x + y * y < 1.0)
            hu = 40.0f;
          if (lx * lx + ly * ly < 1.0)
            hu = -850.0f;
          if (sx * sx + sy * sy < 1.0)
            hu = 700.0f;
          if (nx * nx + ny * ny + nz * nz < 1.0)
            hu = 30.0f;
          v->data[((size_t) k * NY + (size_t) j) * NX + (size_t) i] = hu;
        }
  v->hu = true;
  char *path = g_build_filename (dir, "chest.nii.gz", NULL);
  NnError err = { 0 };
  g_assert_true (nn_volume_save_nifti (v, "test phantom", path, &err));
  nn_volume_free (v);
  return path;
}

static void
assert_aspect (ScopeVolumeView *view,
               NnVolumePlane    plane,
               double           width_mm,
               double           height_mm)
{
  double r[4];
  scope_volume_view_get_plane_rect (view, plane, r);
  g_test_message ("plane %d drawn %.1f x %.1f for %.1f x %.1f mm", plane, r[2], r[3], width_mm,
                  height_mm);
  g_assert_cmpfloat (r[2], >, 20.0);
  g_assert_cmpfloat (fabs (r[2] / r[3] - width_mm / height_mm), <, 0.01 * width_mm / height_mm);
}

static void
assert_cursor (ScopeVolumeView *view,
               int              i,
               int              j,
               int              k)
{
  int c[3] = { 0, 0, 0 };
  scope_volume_view_get_cursor (view, c);
  g_assert_cmpint (c[0], ==, i);
  g_assert_cmpint (c[1], ==, j);
  g_assert_cmpint (c[2], ==, k);
}

static void
test_volume (void)
{
  g_autofree char *tmp = test_util_make_tmp_dir ();
  g_autofree char *path = write_volume (tmp);
  const char *data = g_getenv ("CNNSCOPE_DATA_DIR");
  g_autofree char *model_path = g_build_filename (data, "demo-ct.safetensors", NULL);
  g_autofree char *slice_path = g_build_filename (data, "samples", "ct-covid.png", NULL);
  g_autoptr (GFile) model = g_file_new_for_path (model_path);
  g_autoptr (GFile) slice = g_file_new_for_path (slice_path);
  g_assert_true (scope_window_open (window, model, slice));
  test_util_wait (ct_model_delivered, (gpointer) "demo-ct.safetensors",
                  "activations of the CT model");

  ScopeVolumeView *view = SCOPE_VOLUME_VIEW (find_descendant (GTK_WIDGET (window),
                                                              SCOPE_TYPE_VOLUME_VIEW));
  g_assert_nonnull (view);
  g_assert_null (scope_volume_view_get_volume (view));
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_assert_true (scope_window_is_volume (file));
  g_assert_true (scope_window_open_volume (window, file));
  test_util_wait (volume_read, view, "the volume to be read");
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (
                     ADW_VIEW_STACK (find_descendant (GTK_WIDGET (window),
                                                      ADW_TYPE_VIEW_STACK))), ==, "volume");
  const NnVolume *v = scope_volume_view_get_volume (view);
  g_assert_cmpint (v->nx, ==, NX);
  g_assert_cmpint (v->ny, ==, NY);
  g_assert_cmpint (v->nz, ==, NZ);
  g_assert_true (v->hu);
  assert_cursor (view, NX / 2, NY / 2, NZ / 2);
  wait_frames (3);

  /* Each plane at the aspect of its extent in mm, not of its voxel counts. */
  assert_aspect (view, NN_VOLUME_AXIAL, NX * SX, NY * SY);
  assert_aspect (view, NN_VOLUME_CORONAL, NX * SX, NZ * SZ);
  assert_aspect (view, NN_VOLUME_SAGITTAL, NY * SY, NZ * SZ);
  ui_util_screenshot (GTK_WIDGET (window), shot_dir, "volume-1-window", 20.0, 100);

  /* The crosshair on the nodule: every plane follows. */
  int ni = (int) (NX * 0.3), nj = (int) (NY * 0.45), nk = NZ / 2;
  activate (view, "volume.point", "(iii)", ni, nj, nk);
  assert_cursor (view, ni, nj, nk);
  GtkRange *slider = GTK_RANGE (find_named (GTK_WIDGET (view), "volume-slice"));
  g_assert_cmpfloat (gtk_range_get_value (slider), ==, nk);
  /* Out of range is clamped. */
  activate (view, "volume.point", "(iii)", -5, NY + 10, 3);
  assert_cursor (view, 0, NY - 1, 3);
  activate (view, "volume.point", "(iii)", ni, nj, nk);
  /* A click on the coronal plane at voxel column 40, row 5 from the top: i = 40 and k counted
   * from the bottom, j (the coronal slice) kept; on the sagittal plane at column 10, row 20:
   * j = 10, k from the bottom, i kept; on the axial plane: i and j, k kept. */
  double r[4];
  scope_volume_view_get_plane_rect (view, NN_VOLUME_CORONAL, r);
  activate (view, "volume.click", "(idd)", (int) NN_VOLUME_CORONAL,
            r[0] + (40 + 0.5) * r[2] / NX, r[1] + (5 + 0.5) * r[3] / NZ);
  assert_cursor (view, 40, nj, NZ - 1 - 5);
  scope_volume_view_get_plane_rect (view, NN_VOLUME_SAGITTAL, r);
  activate (view, "volume.click", "(idd)", (int) NN_VOLUME_SAGITTAL,
            r[0] + (10 + 0.5) * r[2] / NY, r[1] + (20 + 0.5) * r[3] / NZ);
  assert_cursor (view, 40, 10, NZ - 1 - 20);
  scope_volume_view_get_plane_rect (view, NN_VOLUME_AXIAL, r);
  activate (view, "volume.click", "(idd)", (int) NN_VOLUME_AXIAL,
            r[0] + (ni + 0.5) * r[2] / NX, r[1] + (nj + 0.5) * r[3] / NY);
  assert_cursor (view, ni, nj, NZ - 1 - 20);
  /* Outside the plane: nothing moves. */
  activate (view, "volume.click", "(idd)", (int) NN_VOLUME_AXIAL, r[0] - 2.0, r[1] - 2.0);
  assert_cursor (view, ni, nj, NZ - 1 - 20);
  activate (view, "volume.point", "(iii)", ni, nj, nk);

  /* Page Up/Down's action and the slider move the axial slice only. */
  activate (view, "volume.slice", "i", 1);
  assert_cursor (view, ni, nj, nk + 1);
  activate (view, "volume.slice", "i", -2);
  assert_cursor (view, ni, nj, nk - 1);
  gtk_range_set_value (slider, 4);
  assert_cursor (view, ni, nj, 4);
  activate (view, "volume.slice", "i", -100);
  assert_cursor (view, ni, nj, 0);
  activate (view, "volume.point", "(iii)", ni, nj, nk);

  /* The bone preset renders the planes again from the volume. */
  GtkWidget *axial = find_named (GTK_WIDGET (view), "axial");
  wait_frames (2);
  g_autoptr (GdkTexture) lung = ui_util_render_widget (axial);
  GtkDropDown *preset = GTK_DROP_DOWN (find_named (GTK_WIDGET (view), "volume-ct-window"));
  gtk_drop_down_set_selected (preset, 2);
  NnCtWindow bone = scope_volume_view_get_window (view);
  g_assert_cmpfloat (bone.width, ==, NN_CT_WINDOW_BONE.width);
  g_assert_cmpfloat (bone.level, ==, NN_CT_WINDOW_BONE.level);
  wait_frames (2);
  g_autoptr (GdkTexture) bone_texture = ui_util_render_widget (axial);
  g_autoptr (GBytes) a = gdk_texture_save_to_png_bytes (lung);
  g_autoptr (GBytes) b = gdk_texture_save_to_png_bytes (bone_texture);
  g_assert_false (g_bytes_equal (a, b));
  gtk_drop_down_set_selected (preset, 0);

  /* Every slice classified, its probabilities a distribution. */
  activate (view, "volume.classify", NULL);
  g_assert_true (scope_volume_view_is_classifying (view));
  test_util_wait (classified, view, "every slice to be classified");
  g_assert_null (scope_window_get_error_message (window));
  g_assert_cmpint (scope_volume_view_get_classified (view), ==, NZ);
  int classes = scope_model_get_nn_model (scope_window_get_model (window))->n_classes;
  for (int k = 0; k < NZ; k++)
    {
      const float *p = scope_volume_view_get_probs (view, k);
      g_assert_nonnull (p);
      double sum = 0.0;
      for (int c = 0; c < classes; c++)
        sum += p[c];
      g_assert_cmpfloat (fabs (sum - 1.0), <, 1e-4);
    }
  wait_frames (3);
  ui_util_screenshot (GTK_WIDGET (window), shot_dir, "volume-2-classified", 20.0, 100);
  ui_util_screenshot (GTK_WIDGET (view), shot_dir, "volume-2-view", 20.0, 100);

  /* A cancel at once: nothing more arrives and the view is idle. */
  activate (view, "volume.classify", NULL);
  g_assert_true (scope_volume_view_is_classifying (view));
  g_assert_true (scope_view_get_busy (SCOPE_VIEW (view)));
  gint64 start = g_get_monotonic_time ();
  activate (window, "view.cancel", NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, <, TEST_UTIL_PROMPT_US);
  g_assert_false (scope_volume_view_is_classifying (view));
  g_assert_false (scope_view_get_busy (SCOPE_VIEW (view)));
  int after_cancel = scope_volume_view_get_classified (view);
  g_assert_cmpint (after_cancel, <, NZ);
  wait_frames (3);
  g_assert_cmpint (scope_volume_view_get_classified (view), ==, after_cancel);

  /* Grad-CAM over every slice: an attribution volume on the volume's grid, over the planes. */
  g_assert_null (scope_volume_view_get_attribution (view));
  g_autoptr (GdkTexture) plain = ui_util_render_widget (axial);
  activate (view, "volume.explain", NULL);
  g_assert_true (scope_volume_view_is_explaining (view));
  test_util_wait (explained, view, "every slice to be explained");
  g_assert_null (scope_window_get_error_message (window));
  const NnVolume *attribution = scope_volume_view_get_attribution (view);
  g_assert_nonnull (attribution);
  g_assert_cmpint (attribution->nx, ==, NX);
  g_assert_cmpint (attribution->ny, ==, NY);
  g_assert_cmpint (attribution->nz, ==, NZ);
  /* Every slice has a map: somewhere non-zero. */
  for (int k = 0; k < NZ; k++)
    {
      gboolean any = FALSE;
      for (gsize n = 0; n < (gsize) NX * NY && !any; n++)
        any = attribution->data[(gsize) k * NX * NY + n] != 0.0f;
      g_assert_true (any);
    }
  wait_frames (3);
  g_autoptr (GdkTexture) overlaid = ui_util_render_widget (axial);
  g_autoptr (GBytes) c = gdk_texture_save_to_png_bytes (plain);
  g_autoptr (GBytes) d = gdk_texture_save_to_png_bytes (overlaid);
  g_assert_false (g_bytes_equal (c, d));
  g_assert_true (gtk_widget_get_visible (find_named (GTK_WIDGET (view), "volume-colorbar")));
  ui_util_screenshot (GTK_WIDGET (view), shot_dir, "volume-3-explained", 20.0, 100);
  g_autofree char *explained_png = g_build_filename (shot_dir, "volume-3-export.png", NULL);
  g_autoptr (GError) export_error = NULL;
  g_assert_true (scope_view_export (SCOPE_VIEW (view), explained_png, &export_error));
  g_assert_no_error (export_error);

  /* A cancel at once keeps no attribution volume and leaves the view idle. */
  activate (view, "volume.explain", NULL);
  g_assert_true (scope_volume_view_is_explaining (view));
  activate (window, "view.cancel", NULL);
  g_assert_false (scope_volume_view_is_explaining (view));
  g_assert_false (scope_view_get_busy (SCOPE_VIEW (view)));
  wait_frames (3);
  g_assert_null (scope_volume_view_get_attribution (view));
  g_assert_false (gtk_widget_get_visible (find_named (GTK_WIDGET (view), "volume-colorbar")));

  /* Export: the three planes as a figure. */
  g_autofree char *png = g_build_filename (tmp, "planes.png", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (scope_view_export (SCOPE_VIEW (view), png, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));

  /* The view fits the smallest window the application supports, 800 x 600. */
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 600);
  wait_frames (4);
  int min_w, min_h, nat;
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat, NULL,
                      NULL);
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_VERTICAL, 800, &min_h, &nat, NULL,
                      NULL);
  g_test_message ("Volume view: the window's minimum %dx%d", min_w, min_h);
  g_assert_cmpint (min_w, <=, 800);
  g_assert_cmpint (min_h, <=, 600);
  ui_util_screenshot (GTK_WIDGET (window), shot_dir, "volume-4-800x600", 20.0, 100);
  /* In the dark style the text of the strip and the colour bar follows the theme. */
  activate (view, "volume.explain", NULL);
  test_util_wait (explained, view, "every slice to be explained");
  AdwStyleManager *styles = adw_style_manager_get_default ();
  adw_style_manager_set_color_scheme (styles, ADW_COLOR_SCHEME_FORCE_DARK);
  wait_frames (4);
  ui_util_screenshot (GTK_WIDGET (window), shot_dir, "volume-5-800x600-dark", 20.0, 100);
  adw_style_manager_set_color_scheme (styles, ADW_COLOR_SCHEME_DEFAULT);
  wait_frames (2);

  /* A file that is not a volume: a toast names it, the view keeps its volume. */
  g_autofree char *bad = g_build_filename (tmp, "broken.nii", NULL);
  test_util_write_file (bad, "not a volume", 12);
  g_autoptr (GFile) bad_file = g_file_new_for_path (bad);
  g_assert_true (scope_window_open_volume (window, bad_file));
  test_util_wait (error_mentions, "broken.nii", "an error naming the file");
  g_assert_false (scope_volume_view_is_loading (view));
  g_assert_true (scope_volume_view_get_volume (view) == v);

  /* A volume dropped on the window (or chosen from the recent files) goes to the view too. */
  g_autoptr (GFile) dropped = g_file_new_for_path (path);
  g_assert_true (scope_window_open_file (window, dropped));
  g_assert_true (scope_volume_view_is_loading (view));
  test_util_wait (volume_read, view, "the dropped volume to be read");
  g_assert_cmpint (scope_volume_view_get_volume (view)->nz, ==, NZ);
  test_util_remove_tree (tmp);
}

/* The window's last error is still before: no error was shown since. */
static void
assert_no_new_error (const char *before)
{
  g_assert_cmpstr (scope_window_get_error_message (window), ==, before);
}

static gboolean
mask_read (gpointer data)
{
  ScopeVolumeView *view = data;
  return !scope_volume_view_is_loading (view) && scope_volume_view_get_mask (view) != NULL;
}

/* Pixels of the mask contour's colour (viz_volume_contour_rgb) in widget as drawn now. */
static guint
contour_pixels (GtkWidget *widget)
{
  wait_frames (2);
  g_autoptr (GdkTexture) texture = ui_util_render_widget (widget);
  return ui_util_count_colour (texture, (int) lround (viz_volume_contour_rgb[0] * 255.0),
                               (int) lround (viz_volume_contour_rgb[1] * 255.0),
                               (int) lround (viz_volume_contour_rgb[2] * 255.0), 40);
}

/* Volume 0001 (covid) of `cnnscope-cli synth ct --version 2 --volumes --count 3 --seed 4`
 * and its mask, as dir/0001.nii.gz and dir/0001.mask.nii.gz; the path of the first. */
static char *
write_synth_volume (const char *dir)
{
  NnSynthCt2Options options;
  nn_synth_ct2_options_init (&options);
  NnError err = { 0 };
  NnSynthCt2 *ct = nn_synth_ct2_new (&options, NN_SYNTH_CT2_COVID,
                                     4 * 0x9e3779b97f4a7c15ull + 1, &err);
  g_assert_nonnull (ct);
  NnVolume *hu = NULL, *mask = NULL;
  if (!nn_synth_ct2_volume (ct, &hu, &mask, &err))
    g_error ("%s", err.message);
  char *path = g_build_filename (dir, "0001.nii.gz", NULL);
  g_autofree char *mask_path = g_build_filename (dir, "0001.mask.nii.gz", NULL);
  g_assert_true (nn_volume_save_nifti (hu, "synthetic chest CT v2, covid", path, &err));
  g_assert_true (nn_volume_save_nifti (mask, "lesion mask", mask_path, &err));
  nn_volume_free (hu);
  nn_volume_free (mask);
  nn_synth_ct2_free (ct);
  return path;
}

/* The lesion voxel nearest the centre of the largest lesion slice of mask (a slice may hold
 * several lesions, their centre in none): its (i, j, k). */
static void
lesion_centre (const NnVolume *mask,
               int             ijk[3])
{
  gsize plane = (gsize) mask->nx * (gsize) mask->ny, best = 0;
  for (int k = 0; k < mask->nz; k++)
    {
      gsize lit = 0;
      double si = 0.0, sj = 0.0;
      for (gsize n = 0; n < plane; n++)
        if (mask->data[(gsize) k * plane + n] >= 0.5f)
          {
            lit++;
            si += (double) (n % (gsize) mask->nx);
            sj += (double) (n / (gsize) mask->nx);
          }
      if (lit <= best)
        continue;
      best = lit;
      ijk[2] = k;
      double ci = si / (double) lit, cj = sj / (double) lit, nearest = INFINITY;
      for (gsize n = 0; n < plane; n++)
        {
          double di = (double) (n % (gsize) mask->nx) - ci;
          double dj = (double) (n / (gsize) mask->nx) - cj;
          if (mask->data[(gsize) k * plane + n] >= 0.5f && di * di + dj * dj < nearest)
            {
              nearest = di * di + dj * dj;
              ijk[0] = (int) (n % (gsize) mask->nx);
              ijk[1] = (int) (n / (gsize) mask->nx);
            }
        }
    }
  g_assert_cmpuint (best, >, 0);
}

static gboolean
note_is_final (gpointer data)
{
  return !scope_volume_view_is_classifying (data) && !scope_volume_view_is_explaining (data);
}

/* A version-2 volume with its mask, under the version-2 demo model: the contour over the
 * planes (and off with the switch), the out-of-distribution marks of the strip and the slice's
 * caption, the pointing game of the explanation on the mask's slices, a mask on another grid
 * refused; screenshots light and dark. */
static void
test_mask_and_ood (void)
{
  g_autofree char *errors_before = g_strdup (scope_window_get_error_message (window));
  g_autofree char *tmp = test_util_make_tmp_dir ();
  g_autofree char *path = write_synth_volume (tmp);
  const char *data = g_getenv ("CNNSCOPE_DATA_DIR");
  g_autofree char *model_path = g_build_filename (data, "demo-ct2.safetensors", NULL);
  g_autofree char *ood_path = g_build_filename (data, "demo-ct2.ood.json", NULL);
  g_autoptr (GFile) model = g_file_new_for_path (model_path);
  g_assert_true (scope_window_open (window, model, NULL));
  test_util_wait (ct_model_delivered, (gpointer) "demo-ct2.safetensors",
                  "activations of the version-2 CT model");
  gboolean has_ood = g_file_test (ood_path, G_FILE_TEST_IS_REGULAR);
  g_assert_true ((scope_model_get_ood (scope_window_get_model (window)) != NULL) == has_ood);

  ScopeVolumeView *view = SCOPE_VOLUME_VIEW (find_descendant (GTK_WIDGET (window),
                                                              SCOPE_TYPE_VOLUME_VIEW));
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_assert_true (scope_window_open_volume (window, file));
  test_util_wait (mask_read, view, "the volume and the mask beside it to be read");
  const NnVolume *v = scope_volume_view_get_volume (view);
  const NnVolume *mask = scope_volume_view_get_mask (view);
  g_assert_cmpint (mask->nx, ==, v->nx);
  g_assert_cmpint (mask->nz, ==, v->nz);
  g_assert_cmpint (v->nz, ==, 64);
  int c[3] = { 0, 0, 0 };
  lesion_centre (mask, c);
  activate (view, "volume.point", "(iii)", c[0], c[1], c[2]);

  /* The contour on every plane through the lesion, in its own colour; none when switched off. */
  const char *areas[] = { "axial", "coronal", "sagittal" };
  for (int p = 0; p < 3; p++)
    g_assert_cmpuint (contour_pixels (find_named (GTK_WIDGET (view), areas[p])), >, 8);
  activate (view, "volume.show-mask", NULL);
  for (int p = 0; p < 3; p++)
    g_assert_cmpuint (contour_pixels (find_named (GTK_WIDGET (view), areas[p])), ==, 0);
  activate (view, "volume.show-mask", NULL);
  g_assert_cmpuint (contour_pixels (find_named (GTK_WIDGET (view), "axial")), >, 8);
  g_assert_nonnull (strstr (scope_volume_view_get_slice_note (view), "lesion"));

  /* Every slice classified; with the model's statistics, every slice has a score, and the
   * caption says whether the crosshair's slice is far from the training data. */
  activate (view, "volume.classify", NULL);
  test_util_wait (note_is_final, view, "every slice to be classified");
  assert_no_new_error (errors_before);
  double score = 0.0, threshold = 0.0;
  for (int k = 0; k < v->nz; k++)
    g_assert_true (scope_volume_view_get_ood (view, k, &score, &threshold) == has_ood);
  const char *note = scope_volume_view_get_slice_note (view);
  g_test_message ("slice note: %s", note);
  if (has_ood)
    {
      int far = 0;
      for (int k = 0; k < v->nz; k++)
        {
          g_assert_true (scope_volume_view_get_ood (view, k, &score, &threshold));
          g_assert_true (isfinite (score));
          far += score > threshold;
        }
      g_test_message ("%d of %d slices far from the training data (threshold %.2f)", far,
                      v->nz, threshold);
      /* The strip's name for assistive technologies counts them. */
      g_autofree char *counted = g_strdup_printf ("%d of %d slices far", far, v->nz);
      g_assert_nonnull (strstr (scope_accessible_get_label (find_named (GTK_WIDGET (view),
                                                                        "volume-strip")),
                                counted));
      g_assert_true (scope_volume_view_get_ood (view, c[2], &score, &threshold));
      g_assert_true ((strstr (note, "far from the training data") != NULL)
                     == (score > threshold));
      g_assert_nonnull (strstr (note, "out-of-distribution score"));
    }

  /* Grad-CAM over every slice with the mask: the pointing game on the slices with a lesion. */
  activate (view, "volume.explain", NULL);
  test_util_wait (note_is_final, view, "every slice to be explained");
  assert_no_new_error (errors_before);
  int hits = -1, lesions = -1, lit = 0;
  g_assert_cmpint (scope_volume_view_get_pointing (view, &hits, &lesions), ==, v->nz);
  gsize plane = (gsize) mask->nx * (gsize) mask->ny;
  for (int k = 0; k < mask->nz; k++)
    {
      gboolean any = FALSE;
      for (gsize n = 0; n < plane && !any; n++)
        any = mask->data[(gsize) k * plane + n] >= 0.5f;
      lit += any;
    }
  g_test_message ("pointing game: %d of %d slices with a lesion (%d lit in the mask)", hits,
                  lesions, lit);
  g_assert_cmpint (lesions, >, 0);
  g_assert_cmpint (lesions, <=, lit);
  g_assert_cmpint (hits, <=, lesions);
  g_assert_nonnull (strstr (scope_volume_view_get_slice_note (view), "pointing game"));
  wait_frames (4);
  ui_util_screenshot (GTK_WIDGET (window), shot_dir, "volume-6-synth-mask", 20.0, 100);
  ui_util_screenshot (GTK_WIDGET (view), shot_dir, "volume-6-synth-mask-view", 20.0, 100);
  g_autofree char *export_png = g_build_filename (shot_dir, "volume-6-export.png", NULL);
  g_autoptr (GError) export_error = NULL;
  g_assert_true (scope_view_export (SCOPE_VIEW (view), export_png, &export_error));
  AdwStyleManager *styles = adw_style_manager_get_default ();
  adw_style_manager_set_color_scheme (styles, ADW_COLOR_SCHEME_FORCE_DARK);
  wait_frames (4);
  ui_util_screenshot (GTK_WIDGET (window), shot_dir, "volume-7-synth-mask-dark", 20.0, 100);
  adw_style_manager_set_color_scheme (styles, ADW_COLOR_SCHEME_DEFAULT);

  /* A mask on another grid: an error naming it; the mask and the pointing game stay. */
  g_autofree char *other = write_volume (tmp);
  g_autoptr (GFile) other_file = g_file_new_for_path (other);
  scope_volume_view_open_mask (view, other_file);
  test_util_wait (error_mentions, "chest.nii.gz as the mask of 0001.nii.gz",
                  "an error naming the mask on another grid");
  test_util_wait (note_is_final, view, "the view to be idle");
  g_assert_false (scope_volume_view_is_loading (view));
  g_assert_true (scope_volume_view_get_mask (view) == mask);
  /* The mask chosen again (Open Mask…): the explanation's pointing game is dropped with it. */
  g_autofree char *mask_path = g_build_filename (tmp, "0001.mask.nii.gz", NULL);
  g_autoptr (GFile) mask_file = g_file_new_for_path (mask_path);
  scope_volume_view_open_mask (view, mask_file);
  test_util_wait (mask_read, view, "the mask chosen to be read");
  g_assert_true (scope_volume_view_get_mask (view) != mask);
  g_assert_cmpint (scope_volume_view_get_pointing (view, &hits, &lesions), ==, 0);
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 800);
  test_util_remove_tree (tmp);
}

/* Slice k of a 3 x 4 DICOM series uid (with its description, or NULL) at z into dir/name. */
static void
write_dicom_slice (const char *dir,
                   const char *name,
                   const char *uid,
                   const char *description,
                   double      z,
                   int         k)
{
  guint16 words[12];
  for (int i = 0; i < 12; i++)
    words[i] = (guint16) (1000 + 40 * k + 10 * i);
  g_autofree char *position = g_strdup_printf ("-20\\-30\\%g", z);
  TestDicomSpec spec = test_dicom_spec_default ();
  spec.values = words;
  spec.position = position;
  spec.spacing = "0.75\\0.75";
  spec.series_uid = uid;
  spec.series_description = description;
  GByteArray *bytes = test_dicom_make (&spec);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  test_util_write_file (path, bytes->data, bytes->len);
  g_byte_array_free (bytes, TRUE);
}

static gboolean
series_asked (gpointer data)
{
  int n = 0;
  return !scope_volume_view_is_loading (data) && scope_volume_view_get_series (data, &n) != NULL;
}

static gboolean
slices_read (gpointer data)
{
  ScopeVolumeView *view = data;
  const NnVolume *v = scope_volume_view_get_volume (view);
  int want = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (view), "want-slices"));
  return !scope_volume_view_is_loading (view) && v != NULL && v->nz == want;
}

/* The dialog asking for a series, or NULL. */
static AdwMessageDialog *
series_dialog (void)
{
  AdwMessageDialog *found = NULL;
  GListModel *toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels) && found == NULL; i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (toplevels, i);
      if (ADW_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w))
          && find_named (GTK_WIDGET (w), "volume-series-list") != NULL)
        found = ADW_MESSAGE_DIALOG (w);
    }
  return found;
}

/* A DICOM folder of two series: a dialog lists them (description, UID, slices); either can be
 * read. */
static void
test_series (void)
{
  g_autofree char *errors_before = g_strdup (scope_window_get_error_message (window));
  g_autofree char *tmp = test_util_make_tmp_dir ();
  g_autofree char *dir = g_build_filename (tmp, "study", NULL);
  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  for (int k = 0; k < 4; k++)
    {
      g_autofree char *name = g_strdup_printf ("a%d.dcm", k);
      write_dicom_slice (dir, name, "1.2.840.99.1", "Chest 2.5 mm", 10.0 + 2.5 * k, k);
    }
  for (int k = 0; k < 2; k++)
    {
      g_autofree char *name = g_strdup_printf ("b%d.dcm", k);
      write_dicom_slice (dir, name, "1.2.840.99.2", NULL, 5.0 * k, k);
    }
  ScopeVolumeView *view = SCOPE_VOLUME_VIEW (find_descendant (GTK_WIDGET (window),
                                                              SCOPE_TYPE_VOLUME_VIEW));
  g_autoptr (GFile) folder = g_file_new_for_path (dir);
  g_assert_true (scope_window_open_volume (window, folder));
  test_util_wait (series_asked, view, "the series of the folder to be listed");
  int n = 0;
  const NnVolumeSeries *series = scope_volume_view_get_series (view, &n);
  g_assert_cmpint (n, ==, 2);
  g_assert_cmpstr (series[0].uid, ==, "1.2.840.99.1");
  g_assert_cmpstr (series[0].description, ==, "Chest 2.5 mm");
  g_assert_cmpstr (series[1].description, ==, "");
  g_assert_cmpint (series[0].slices, ==, 4);
  g_assert_cmpstr (series[1].uid, ==, "1.2.840.99.2");
  g_assert_cmpint (series[1].slices, ==, 2);
  assert_no_new_error (errors_before);
  AdwMessageDialog *dialog = series_dialog ();
  g_assert_nonnull (dialog);
  wait_frames (3);
  ui_util_screenshot (GTK_WIDGET (dialog), shot_dir, "volume-8-series", 5.0, 4);

  /* The second series by its UID (what a click on its row does). */
  activate (view, "volume.choose-series", "s", "1.2.840.99.2");
  g_object_set_data (G_OBJECT (view), "want-slices", GINT_TO_POINTER (2));
  test_util_wait (slices_read, view, "the second series to be read");
  g_assert_null (scope_volume_view_get_series (view, &n));
  g_assert_null (series_dialog ());

  /* Again, and the dialog's Open: the selected (first) row. */
  g_autoptr (GFile) again = g_file_new_for_path (dir);
  g_assert_true (scope_window_open_volume (window, again));
  test_util_wait (series_asked, view, "the series to be listed again");
  dialog = series_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "open");
  g_object_set_data (G_OBJECT (view), "want-slices", GINT_TO_POINTER (4));
  test_util_wait (slices_read, view, "the first series to be read");
  g_assert_true (scope_volume_view_get_volume (view)->hu);
  assert_no_new_error (errors_before);
  test_util_remove_tree (tmp);
}

static ScopeWindow *
other_window (void)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l != NULL; l = l->next)
    if (l->data != window)
      return l->data;
  return NULL;
}

static gboolean
other_window_read (gpointer data)
{
  (void) data;
  ScopeWindow *other = other_window ();
  if (other == NULL)
    return FALSE;
  ScopeVolumeView *view = SCOPE_VOLUME_VIEW (find_descendant (GTK_WIDGET (other),
                                                              SCOPE_TYPE_VOLUME_VIEW));
  return volume_read (view);
}

/* cnnscope MODEL VOLUME: a window on the model with the volume in its Volume view. */
static void
test_command_line (void)
{
  g_autofree char *tmp = test_util_make_tmp_dir ();
  g_autofree char *path = write_volume (tmp);
  const char *data = g_getenv ("CNNSCOPE_DATA_DIR");
  g_autofree char *model_path = g_build_filename (data, "demo-ct.safetensors", NULL);
  GFile *files[2] = { g_file_new_for_path (model_path), g_file_new_for_path (path) };
  g_application_open (G_APPLICATION (app), files, 2, "");
  test_util_wait (other_window_read, NULL, "the volume of the command line");
  ScopeWindow *other = other_window ();
  ScopeVolumeView *view = SCOPE_VOLUME_VIEW (find_descendant (GTK_WIDGET (other),
                                                              SCOPE_TYPE_VOLUME_VIEW));
  g_assert_cmpint (scope_volume_view_get_volume (view)->nz, ==, NZ);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (
                     ADW_VIEW_STACK (find_descendant (GTK_WIDGET (other),
                                                      ADW_TYPE_VIEW_STACK))), ==, "volume");
  gtk_window_destroy (GTK_WINDOW (other));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_unref (files[0]);
  g_object_unref (files[1]);
  test_util_remove_tree (tmp);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  const char *dir = g_getenv ("CNNSCOPE_SCREENSHOT_DIR");
  shot_dir = g_strdup (dir != NULL ? dir : "screenshots");
  g_assert_cmpint (g_mkdir_with_parents (shot_dir, 0755), ==, 0);

  app = scope_application_new (G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  g_autoptr (GError) error = NULL;
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = SCOPE_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_nonnull (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 800);

  g_test_add_func ("/ui/volume/open-navigate-classify", test_volume);
  g_test_add_func ("/ui/volume/command-line", test_command_line);
  g_test_add_func ("/ui/volume/mask-and-ood", test_mask_and_ood);
  g_test_add_func ("/ui/volume/series", test_series);
  int status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_unref (app);
  g_free (shot_dir);
  return status;
}
