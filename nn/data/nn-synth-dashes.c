/* SPDX-License-Identifier: MIT */
/* Oriented dashes: the generator, the hand-set model that counts dashes of each orientation,
 * and writing a labelled image folder. */
#include "data/nn-synth-dashes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/nn-atomic-file.h"
#include "io/nn-image.h"

/* True when a dash from (y, x) along (dy, dx) fits and no pixel of it touches a dash already
 * drawn in `orientation` (8-neighbourhood). */
static bool
dash_fits (const uint8_t *orientation,
           int            size,
           int            y,
           int            x,
           int            dy,
           int            dx)
{
  for (int i = 0; i < NN_DASHES_LENGTH; i++)
    {
      int py = y + i * dy, px = x + i * dx;
      if (py < 0 || py >= size || px < 0 || px >= size)
        return false;
      for (int ny = py - 1; ny <= py + 1; ny++)
        for (int nx = px - 1; nx <= px + 1; nx++)
          if (ny >= 0 && ny < size && nx >= 0 && nx < size && orientation[ny * size + nx])
            return false;
    }
  return true;
}

void
nn_synth_dashes_draw (float        *image,
                      uint8_t      *orientation,
                      int           size,
                      NnRng        *rng,
                      NnDashesInfo *info)
{
  NN_ASSERT (image && orientation && rng && info);
  NN_ASSERT (size >= NN_DASHES_MIN_SIZE && size <= 4096);
  const size_t n = (size_t) size * (size_t) size;
  uint8_t *own = orientation;
  int most = (int) (n / 250);
  most = most < 3 ? 3 : most > 9 ? 9 : most;
  for (;;)
    {
      int total = 3 + (int) nn_rng_below (rng, (uint32_t) (most - 2));
      int nh;
      do
        nh = (int) nn_rng_below (rng, (uint32_t) total + 1);
      while (2 * nh == total);
      memset (own, 0, n);
      bool placed = true;
      for (int d = 0; d < total && placed; d++)
        {
          bool horizontal = d < nh;
          int dy = horizontal ? 0 : 1, dx = horizontal ? 1 : 0;
          placed = false;
          for (int attempt = 0; attempt < 2000 && !placed; attempt++)
            {
              int y = (int) nn_rng_below (rng, (uint32_t) (size - dy * (NN_DASHES_LENGTH - 1)));
              int x = (int) nn_rng_below (rng, (uint32_t) (size - dx * (NN_DASHES_LENGTH - 1)));
              if (!dash_fits (own, size, y, x, dy, dx))
                continue;
              for (int i = 0; i < NN_DASHES_LENGTH; i++)
                own[(y + i * dy) * size + x + i * dx] = horizontal ? 1 : 2;
              placed = true;
            }
        }
      if (!placed)
        continue;
      for (size_t p = 0; p < n; p++)
        image[p] = own[p] ? 1.0f : 0.0f;
      info->n_horizontal = nh;
      info->n_vertical = total - nh;
      info->label = nh > total - nh ? NN_DASHES_HORIZONTAL : NN_DASHES_VERTICAL;
      break;
    }
}

/* The class names: the folder names and the model's labels. */
static const char *const class_names[] = {
  [NN_DASHES_HORIZONTAL] = "horizontal",
  [NN_DASHES_VERTICAL] = "vertical",
};
_Static_assert (sizeof class_names / sizeof class_names[0] == NN_DASHES_VERTICAL + 1,
                "class_names needs one name per NnDashesClass");

NnModel *
nn_synth_dashes_model_new (int size)
{
  if (size < NN_DASHES_MIN_SIZE || size > 4096)
    return NULL;
  NnGraph *g = nn_graph_new ();
  if (g == NULL)
    return NULL;
  /* Each builder returns -1 only when out of memory. */
  int x = nn_graph_add_input (g, "input", 1, size, size);
  int conv = x < 0 ? -1 : nn_graph_add_conv2d (g, "detect", x, 2, NN_DASHES_LENGTH, 1,
                                               NN_DASHES_LENGTH / 2, 1, 1, true);
  int relu = conv < 0 ? -1 : nn_graph_add_relu (g, "detect_relu", conv);
  int pool = relu < 0 ? -1 : nn_graph_add_global_avgpool (g, "pool", relu);
  int fc = pool < 0 ? -1 : nn_graph_add_linear (g, "classify", pool, 2, true);
  if (fc < 0)
    {
      nn_graph_free (g);
      return NULL;
    }

  /* Filter 0: the middle row of ones (horizontal dashes); filter 1: the middle column. A
   * window sums to 5 only on a whole dash of its orientation, since dashes never touch. */
  float *w = nn_graph_param_data (g, nn_graph_node_param (g, conv, NN_PARAM_WEIGHT));
  float *b = nn_graph_param_data (g, nn_graph_node_param (g, conv, NN_PARAM_BIAS));
  const int K = NN_DASHES_LENGTH, mid = K / 2;
  for (int i = 0; i < K; i++)
    {
      w[0 * K * K + mid * K + i] = 1.0f;
      w[1 * K * K + i * K + mid] = 1.0f;
    }
  b[0] = b[1] = 1.0f - (float) K;
  float *lw = nn_graph_param_data (g, nn_graph_node_param (g, fc, NN_PARAM_WEIGHT));
  lw[0] = lw[3] = (float) size * (float) size;
  NnModel *model = nn_model_new (g, "dashes");
  if (model == NULL)
    {
      nn_graph_free (g);
      return NULL;
    }
  for (int k = NN_DASHES_HORIZONTAL; k <= NN_DASHES_VERTICAL; k++)
    if (!nn_model_set_label (model, k, class_names[k]))
      {
        nn_model_free (model);
        return NULL;
      }
  snprintf (model->dataset, sizeof model->dataset, "oriented dashes %dx%d", size, size);
  return model;
}

static bool
make_dir (const char *path,
          NnError    *err)
{
  if (mkdir (path, 0755) == 0 || errno == EEXIST)
    {
      struct stat st;
      if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
        return true;
      return nn_error_set (err, NN_ERROR_IO, "%s: exists and is not a folder", path);
    }
  return nn_error_set (err, NN_ERROR_IO, "%s: cannot create the folder: %s", path,
                       strerror (errno));
}

bool
nn_synth_dashes_write (const char *dir,
                       int         count,
                       uint64_t    seed,
                       int         size,
                       NnError    *err)
{
  NN_ASSERT (dir != NULL);
  if (count < 1 || count > 10000000)
    return nn_error_set (err, NN_ERROR_SPEC, "count %d out of range (1 to 10000000)", count);
  if (size < NN_DASHES_MIN_SIZE || size > 4096)
    return nn_error_set (err, NN_ERROR_SPEC, "image size %d out of range (%d to 4096)", size,
                         NN_DASHES_MIN_SIZE);
  size_t len = strlen (dir) + 64;
  char *path = malloc (len);
  uint8_t *orientation = malloc ((size_t) size * (size_t) size);
  NnImage *img = nn_image_new (1, size, size);
  if (path == NULL || orientation == NULL || img == NULL)
    {
      free (path);
      free (orientation);
      nn_image_free (img);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
    }
  bool ok = make_dir (dir, err);
  for (int k = 0; k < 2 && ok; k++)
    {
      snprintf (path, len, "%s/%s", dir, class_names[k]);
      ok = make_dir (path, err);
    }
  NnAtomicFile csv = { 0 };
  snprintf (path, len, "%s/labels.csv", dir);
  char *csv_path = ok ? strdup (path) : NULL;
  if (ok && csv_path == NULL)
    ok = nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  bool csv_open = ok && nn_atomic_file_open (&csv, csv_path, err);
  ok = ok && csv_open;
  if (ok)
    fprintf (csv.fp, "file,label,n_horizontal,n_vertical\n");
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (int i = 0; i < count && ok; i++)
    {
      NnDashesInfo info;
      nn_synth_dashes_draw (img->data, orientation, size, &rng, &info);
      snprintf (path, len, "%s/%s/%05d.png", dir, class_names[info.label], i);
      ok = nn_image_save_png (img, path, 8, err);
      if (ok)
        fprintf (csv.fp, "%s/%05d.png,%s,%d,%d\n", class_names[info.label], i,
                 class_names[info.label], info.n_horizontal, info.n_vertical);
    }
  if (csv_open)
    ok = nn_atomic_file_finish (&csv, ok, err) && ok;
  free (csv_path);
  free (path);
  free (orientation);
  nn_image_free (img);
  return ok;
}
