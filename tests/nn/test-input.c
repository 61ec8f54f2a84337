/* SPDX-License-Identifier: MIT */
/* NnInput: the tensor against nn_model_preprocess of the loaded file, the display image and HU
 * plane of pictures, 16-bit PNG and DICOM CT slices (generated with nn_synth_ct), re-windowing,
 * .npy arrays, rebuilding for another model without the file, sharing between threads, and
 * errors that name the file. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nn.h"
#include "test-util.h"

typedef TestUtilTmpDir Fixture;

/* input (c, h, w) -> conv (2, 3x3) -> global average pool -> linear (3), with a normalization
 * and, for a CT model, a window. */
static NnModel *
model_new (int               c,
           int               h,
           int               w,
           const NnCtWindow *window)
{
  NnGraph *g = nn_graph_new ();
  int in = nn_graph_add_input (g, "input", c, h, w);
  int conv = nn_graph_add_conv2d (g, "conv", in, 2, 3, 1, 1, 1, 1, true);
  int gap = nn_graph_add_global_avgpool (g, "gap", conv);
  nn_graph_add_linear (g, "fc", gap, 3, true);
  NnRng rng;
  nn_rng_init (&rng, 1);
  nn_graph_init_params (g, &rng);
  NnModel *model = nn_model_new (g, "test");
  for (int k = 0; k < c && k < NN_MODEL_MAX_CHANNELS; k++)
    {
      model->mean[k] = 0.4f + 0.05f * (float) k;
      model->std[k] = 0.2f + 0.03f * (float) k;
    }
  if (window != NULL)
    {
      model->has_window = true;
      model->window = *window;
    }
  return model;
}

/* An RGB picture with a smooth pattern, saved as an 8-bit PNG. */
static char *
write_picture (Fixture    *fx,
               const char *name,
               int         h,
               int         w)
{
  NnImage *img = nn_image_new (3, h, w);
  for (int k = 0; k < 3; k++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        img->data[(k * h + y) * w + x] = 0.5f + 0.45f * sinf (0.3f * (float) (x + 2 * y + 5 * k));
  char *path = test_util_tmp_dir_path (fx, name);
  g_assert_true (nn_image_save_png (img, path, 8, NULL));
  nn_image_free (img);
  return path;
}

/* A synthetic chest CT slice in HU (size x size). */
static NnImage *
ct_slice (int size)
{
  NnSynthCtOptions options;
  nn_synth_ct_options_init (&options);
  options.size = size;
  NnRng rng;
  nn_rng_init (&rng, 4);
  NnImage *img = nn_image_new (1, size, size);
  unsigned char *mask = g_malloc ((gsize) size * (gsize) size);
  g_assert_true (nn_synth_ct_generate (&options, NN_SYNTH_CT_COVID, &rng, img->data, mask, NULL));
  g_free (mask);
  img->hu = true;
  return img;
}

static void
assert_in_unit_range (const float *v,
                      size_t       n)
{
  for (size_t i = 0; i < n; i++)
    g_assert_true (v[i] >= 0.0f && v[i] <= 1.0f);
}

static void
assert_tensor_is_preprocess (const NnInput *input,
                             const NnModel *model,
                             const NnImage *image)
{
  size_t n = (size_t) input->c * (size_t) input->h * (size_t) input->w;
  float *want = g_new (float, n);
  nn_model_preprocess (model, image, want);
  g_assert_cmpmem (input->tensor, sizeof (float) * n, want, sizeof (float) * n);
  g_free (want);
}

static void
test_picture (Fixture      *fx,
              gconstpointer data)
{
  (void) data;
  char *path = write_picture (fx, "cat.png", 20, 26);
  NnImage *image = nn_image_load (path, NULL);
  for (int c = 1; c <= 3; c += 2)
    {
      NnModel *model = model_new (c, 16, 12, NULL);
      NnError err = { 0 };
      NnInput *input = nn_input_load (path, model, NULL, &err);
      g_assert_nonnull (input);
      g_assert_cmpstr (input->path, ==, path);
      g_assert_cmpint (input->image_h, ==, 20);
      g_assert_cmpint (input->image_w, ==, 26);
      g_assert_cmpint (input->c, ==, c);
      g_assert_cmpint (input->h, ==, 16);
      g_assert_cmpint (input->w, ==, 12);
      g_assert_null (input->hu);
      assert_tensor_is_preprocess (input, model, image);
      /* The display image is what the model sees, before the normalization. */
      size_t plane = 16 * 12;
      assert_in_unit_range (input->display, (size_t) c * plane);
      for (int k = 0; k < c; k++)
        for (size_t p = 0; p < plane; p++)
          g_assert_cmpfloat_with_epsilon (input->display[k * plane + p],
                                          input->tensor[k * plane + p] * model->std[k]
                                          + model->mean[k], 1e-5);
      /* Rendering a picture for a window gives the display image. */
      float *out = g_new (float, (gsize) c * plane);
      nn_input_render (input, &NN_CT_WINDOW_BONE, out);
      g_assert_cmpmem (out, sizeof (float) * c * plane, input->display,
                       sizeof (float) * c * plane);
      g_free (out);
      nn_input_unref (input);
      nn_model_free (model);
    }
  nn_image_free (image);
  g_free (path);
}

/* The display image of a CT slice is its HU through the window; another window re-renders it
 * from the HU plane. */
static void
assert_ct_display (const NnInput    *input,
                   const NnCtWindow *window)
{
  size_t plane = (size_t) input->h * (size_t) input->w;
  float *want = g_new (float, plane);
  nn_ct_window_apply (window, want, input->hu, plane);
  for (int k = 0; k < input->c; k++)
    g_assert_cmpmem (input->display + k * plane, sizeof (float) * plane, want,
                     sizeof (float) * plane);
  assert_in_unit_range (input->display, (size_t) input->c * plane);
  g_free (want);
}

static void
test_ct_slice (const char *path,
               const NnImage *slice)
{
  NnImage *image = nn_ct_load (path, NULL);
  g_assert_nonnull (image);
  g_assert_true (image->hu);

  /* A CT model (3 channels, smaller than the slice) reads it through its window. */
  NnModel *ct = model_new (3, 24, 24, &NN_CT_WINDOW_LUNG);
  NnError err = { 0 };
  NnInput *input = nn_input_load (path, ct, NULL, &err);
  g_assert_nonnull (input);
  g_assert_nonnull (input->hu);
  g_assert_cmpint (input->image_h, ==, slice->h);
  assert_tensor_is_preprocess (input, ct, image);
  NnImage *fit = nn_image_fit (image, 24, 24);
  g_assert_cmpmem (input->hu, sizeof (float) * 24 * 24, fit->data, sizeof (float) * 24 * 24);
  nn_image_free (fit);
  g_assert_cmpfloat (input->window.width, ==, NN_CT_WINDOW_LUNG.width);
  assert_ct_display (input, &NN_CT_WINDOW_LUNG);
  /* Through the model's own window the display is the tensor before the normalization. */
  for (int k = 0; k < 3; k++)
    for (int p = 0; p < 24 * 24; p++)
      g_assert_cmpfloat_with_epsilon (input->display[k * 576 + p],
                                      input->tensor[k * 576 + p] * ct->std[k] + ct->mean[k],
                                      1e-5);
  /* Another window: the display changes, the tensor does not. */
  float *shown = g_new (float, 3 * 576);
  nn_input_render (input, &NN_CT_WINDOW_MEDIASTINUM, shown);
  float *want = g_new (float, 576);
  nn_ct_window_apply (&NN_CT_WINDOW_MEDIASTINUM, want, input->hu, 576);
  for (int k = 0; k < 3; k++)
    g_assert_cmpmem (shown + k * 576, sizeof (float) * 576, want, sizeof (float) * 576);
  g_assert_true (memcmp (shown, input->display, sizeof (float) * 576) != 0);
  assert_tensor_is_preprocess (input, ct, image);
  g_free (want);
  g_free (shown);
  nn_input_unref (input);

  /* A model without a window reads the slice as a 16-bit PNG stores it, and shows it through
   * the lung window; given a window, it reads and shows the slice through that. */
  NnModel *plain = model_new (1, slice->h, slice->w, NULL);
  input = nn_input_load (path, plain, NULL, &err);
  g_assert_nonnull (input);
  assert_tensor_is_preprocess (input, plain, image);
  g_assert_cmpfloat (input->window.level, ==, NN_CT_WINDOW_LUNG.level);
  assert_ct_display (input, &NN_CT_WINDOW_LUNG);
  g_assert_cmpmem (input->hu, sizeof (float) * slice->h * slice->w, image->data,
                   sizeof (float) * slice->h * slice->w);
  nn_input_unref (input);
  NnCtWindow soft = { 400.0f, 40.0f };
  input = nn_input_load (path, plain, &soft, &err);
  g_assert_nonnull (input);
  NnImage *windowed = nn_ct_window_image (image, &soft);
  assert_tensor_is_preprocess (input, plain, windowed);
  assert_ct_display (input, &soft);
  nn_image_free (windowed);
  nn_input_unref (input);

  nn_model_free (plain);
  nn_model_free (ct);
  nn_image_free (image);
}

static void
test_png16 (Fixture      *fx,
            gconstpointer data)
{
  (void) data;
  NnImage *slice = ct_slice (40);
  char *path = test_util_tmp_dir_path (fx, "slice.png");
  g_assert_true (nn_ct_save_png16 (slice, path, NULL));
  test_ct_slice (path, slice);
  g_free (path);
  nn_image_free (slice);
}

static void
test_dicom (Fixture      *fx,
            gconstpointer data)
{
  (void) data;
  NnImage *slice = ct_slice (36);
  char *path = test_util_tmp_dir_path (fx, "slice.dcm");
  g_assert_true (nn_dicom_save (slice, 0.7, "test", path, NULL));
  test_ct_slice (path, slice);
  g_free (path);
  nn_image_free (slice);
}

static void
test_npy (Fixture      *fx,
          gconstpointer data)
{
  (void) data;
  NnModel *model = model_new (3, 6, 5, NULL);
  float x[3 * 6 * 5];
  for (size_t i = 0; i < G_N_ELEMENTS (x); i++)
    x[i] = 3.0f * sinf ((float) i);
  char *path = test_util_tmp_dir_path (fx, "x.npy");
  char *path4 = test_util_tmp_dir_path (fx, "x4.NPY");
  const int dims[4] = { 1, 3, 6, 5 };
  g_assert_true (nn_npy_save (path, x, dims + 1, 3, NULL));
  g_assert_true (nn_npy_save (path4, x, dims, 4, NULL));
  for (int i = 0; i < 2; i++)
    {
      NnError err = { 0 };
      NnInput *input = nn_input_load (i == 0 ? path : path4, model, NULL, &err);
      g_assert_nonnull (input);
      g_assert_cmpmem (input->tensor, sizeof x, x, sizeof x);
      g_assert_null (input->hu);
      g_assert_cmpint (input->image_h, ==, 6);
      /* The display image: un-normalized once, clamped to [0, 1]. */
      for (int k = 0; k < 3; k++)
        for (int p = 0; p < 30; p++)
          {
            float v = x[k * 30 + p] * model->std[k] + model->mean[k];
            g_assert_cmpfloat (input->display[k * 30 + p], ==, fminf (fmaxf (v, 0.0f), 1.0f));
          }
      nn_input_unref (input);
    }
  /* A model of another shape: the error names the file and both shapes. */
  NnModel *other = model_new (3, 5, 6, NULL);
  NnError err = { 0 };
  g_assert_null (nn_input_load (path, other, NULL, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  g_assert_nonnull (strstr (err.message, path));
  g_assert_nonnull (strstr (err.message, "(3, 6, 5)"));
  g_assert_nonnull (strstr (err.message, "(3, 5, 6)"));
  /* Four channels: a tensor, nothing to show. */
  NnModel *four = model_new (4, 6, 5, NULL);
  float x4[4 * 30] = { 0 };
  g_assert_true (nn_npy_save (path, x4, (const int[]) { 4, 6, 5 }, 3, NULL));
  NnInput *input = nn_input_load (path, four, NULL, &err);
  g_assert_nonnull (input);
  g_assert_nonnull (input->tensor);
  g_assert_null (input->display);
  nn_input_unref (input);
  nn_model_free (four);
  nn_model_free (other);
  nn_model_free (model);
  g_free (path4);
  g_free (path);
}

/* Rebuilt for another model: the same as loading for it, and the file is not read again. */
static void
test_rebuild (Fixture      *fx,
              gconstpointer data)
{
  (void) data;
  NnImage *slice = ct_slice (30);
  char *ct_path = test_util_tmp_dir_path (fx, "slice.png");
  char *pic_path = write_picture (fx, "pic.png", 18, 18);
  g_assert_true (nn_ct_save_png16 (slice, ct_path, NULL));
  NnModel *a = model_new (1, 30, 30, NULL), *b = model_new (3, 16, 20, &NN_CT_WINDOW_LUNG);
  NnCtWindow soft = { 400.0f, 40.0f };
  const char *paths[] = { ct_path, pic_path };
  for (int i = 0; i < 2; i++)
    {
      NnInput *first = nn_input_load (paths[i], a, &soft, NULL);
      NnInput *want = nn_input_load (paths[i], b, &soft, NULL);
      NnInput *bare = nn_input_load (paths[i], NULL, &soft, NULL);
      g_assert_nonnull (first);
      g_assert_nonnull (want);
      g_assert_nonnull (bare);
      g_assert_cmpint (unlink (paths[i]), ==, 0);
      NnError err = { 0 };
      NnInput *inputs[2] = { nn_input_rebuild (first, b, &err), nn_input_rebuild (bare, b, &err) };
      for (int k = 0; k < 2; k++)
        {
          NnInput *got = inputs[k];
          g_assert_nonnull (got);
          g_assert_cmpstr (got->path, ==, paths[i]);
          g_assert_cmpint (got->c, ==, 3);
          g_assert_cmpint (got->h, ==, 16);
          g_assert_cmpint (got->w, ==, 20);
          size_t n = 3 * 16 * 20;
          g_assert_cmpmem (got->tensor, sizeof (float) * n, want->tensor, sizeof (float) * n);
          g_assert_cmpmem (got->display, sizeof (float) * n, want->display, sizeof (float) * n);
          g_assert_true ((got->hu != NULL) == (i == 0));
          if (got->hu)
            g_assert_cmpmem (got->hu, sizeof (float) * 320, want->hu, sizeof (float) * 320);
          g_assert_cmpfloat (got->window.width, ==, soft.width);
        }
      /* Without a model: the file at its own size, nothing for a model to read. */
      g_assert_null (bare->tensor);
      g_assert_cmpint (bare->h, ==, i == 0 ? 30 : 18);
      g_assert_cmpint (bare->c, ==, i == 0 ? 1 : 3);
      assert_in_unit_range (bare->display, (size_t) bare->c * bare->h * bare->w);
      nn_input_unref (first);
      nn_input_unref (inputs[0]);
      nn_input_unref (inputs[1]);
      nn_input_unref (bare);
      nn_input_unref (want);
    }
  nn_model_free (a);
  nn_model_free (b);
  g_free (pic_path);
  g_free (ct_path);
  nn_image_free (slice);
}

static gpointer
share_thread (gpointer data)
{
  NnInput *input = data;
  double sum = 0.0;
  for (int i = 0; i < 1000; i++)
    {
      NnInput *mine = nn_input_ref (input);
      sum += (double) mine->tensor[i % (mine->c * mine->h * mine->w)];
      nn_input_unref (mine);
    }
  nn_input_unref (input);
  return GINT_TO_POINTER (isfinite (sum));
}

/* Threads take and drop references while the owner lets go of its own (ASan checks that
 * nothing is freed twice or leaked). */
static void
test_shared_between_threads (Fixture      *fx,
                             gconstpointer data)
{
  (void) data;
  char *path = write_picture (fx, "pic.png", 10, 10);
  NnModel *model = model_new (3, 8, 8, NULL);
  NnInput *input = nn_input_load (path, model, NULL, NULL);
  GThread *threads[4];
  for (int i = 0; i < 4; i++)
    threads[i] = g_thread_new ("share", share_thread, nn_input_ref (input));
  nn_input_unref (input);
  for (int i = 0; i < 4; i++)
    g_assert_true (GPOINTER_TO_INT (g_thread_join (threads[i])));
  nn_input_unref (NULL);
  nn_model_free (model);
  g_free (path);
}

static void
test_bad_files (Fixture      *fx,
                gconstpointer data)
{
  (void) data;
  NnModel *model = model_new (3, 8, 8, NULL);
  char *missing = test_util_tmp_dir_path (fx, "missing.png");
  char *garbage = test_util_tmp_dir_path (fx, "garbage.png");
  char *bad_npy = test_util_tmp_dir_path (fx, "bad.npy");
  char *rgb16 = test_util_tmp_dir_path (fx, "rgb16.png");
  char *pic = write_picture (fx, "pic.png", 8, 8);
  test_util_write_file (garbage, "not an image at all", 19);
  test_util_write_file (bad_npy, "\x93NUMPY garbage", 14);
  NnImage *img = nn_image_new (3, 4, 4);
  memset (img->data, 0, sizeof (float) * 48);
  g_assert_true (nn_image_save_png (img, rgb16, 16, NULL));
  nn_image_free (img);
  const char *paths[] = { missing, garbage, bad_npy, rgb16 };
  for (size_t i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      NnError err = { 0 };
      g_assert_null (nn_input_load (paths[i], model, NULL, &err));
      g_assert_cmpint (err.code, !=, NN_ERROR_NONE);
      g_assert_nonnull (strstr (err.message, paths[i]));
      if (paths[i] == garbage)
        g_assert_nonnull (strstr (err.message, "unsupported input"));
    }
  /* A picture for a model that does not take one. */
  NnModel *two = model_new (2, 8, 8, NULL);
  NnError err = { 0 };
  g_assert_null (nn_input_load (pic, two, NULL, &err));
  g_assert_nonnull (strstr (err.message, pic));
  g_assert_nonnull (strstr (err.message, ".npy"));
  NnInput *input = nn_input_load (pic, NULL, NULL, NULL);
  nn_error_clear (&err);
  g_assert_null (nn_input_rebuild (input, two, &err));
  g_assert_nonnull (strstr (err.message, pic));
  nn_input_unref (input);
  nn_model_free (two);
  nn_model_free (model);
  g_free (pic);
  g_free (rgb16);
  g_free (bad_npy);
  g_free (garbage);
  g_free (missing);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, test_util_tmp_dir_setup, fn, test_util_tmp_dir_teardown)
  ADD ("/nn/input/picture", test_picture);
  ADD ("/nn/input/png16-ct-slice", test_png16);
  ADD ("/nn/input/dicom-ct-slice", test_dicom);
  ADD ("/nn/input/npy", test_npy);
  ADD ("/nn/input/rebuild-without-the-file", test_rebuild);
  ADD ("/nn/input/shared-between-threads", test_shared_between_threads);
  ADD ("/nn/input/bad-files-named", test_bad_files);
#undef ADD
  return g_test_run ();
}
