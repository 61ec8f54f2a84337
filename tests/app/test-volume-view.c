/* SPDX-License-Identifier: MIT */
/* The Volume view under Xvfb, driven through its actions: a small NIfTI volume written by the
 * test opens on a worker and shows three planes at the aspect of its spacing; clicks on a plane
 * and the crosshair move the other planes' slices, Page Up/Down and the slider the axial one;
 * the window presets render again; the CT model classifies every slice into the strip and
 * explains every slice into an attribution volume over the planes, and a cancel stops either;
 * the view fits 800 x 600; a file that is not a volume is refused with a toast naming it;
 * `cnnscope MODEL VOLUME` opens the volume. Screenshots go to $CNNSCOPE_SCREENSHOT_DIR. */
#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "scope-application.h"
#include "scope-volume-view.h"
#include "scope-window.h"
#include "test-util.h"
#include "ui-util.h"

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

static gboolean
ct_model_delivered (gpointer data)
{
  (void) data;
  ScopeActivations *act = scope_window_get_activations (window);
  return act != NULL && !scope_window_is_busy (window)
         && g_strcmp0 (scope_model_get_name (scope_activations_get_model (act)),
                       "demo-ct.safetensors") == 0;
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
  int c[3];
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
  test_util_wait (ct_model_delivered, NULL, "activations of the CT model");

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
  int status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_unref (app);
  g_free (shot_dir);
  return status;
}
