/* SPDX-License-Identifier: MIT */
/* Datasets: IDX files written by the test (plain and gzip, good and broken), the installed
 * Fashion-MNIST when present, image folders, seeded per-class subsets and statistics. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <turbojpeg.h>
#include <zlib.h>

#include "nn.h"
#include "test-util.h"

/* Every fixture test gets a temporary folder. */
typedef TestUtilTmpDir Fixture;

static void
assert_error_names (const NnError *err,
                    const char    *path,
                    const char    *expected)
{
  g_test_message ("%s", err->message);
  g_assert_cmpint (err->code, !=, NN_ERROR_NONE);
  if (strstr (err->message, path) == NULL)
    g_error ("message \"%s\" does not name %s", err->message, path);
  if (expected != NULL && strstr (err->message, expected) == NULL)
    g_error ("message \"%s\" lacks \"%s\"", err->message, expected);
}

/* ---- IDX ---------------------------------------------------------------------------------- */

static void
append_be32 (GByteArray *b,
             uint32_t    v)
{
  guint8 p[4] = { (guint8) (v >> 24), (guint8) (v >> 16), (guint8) (v >> 8), (guint8) v };
  g_byte_array_append (b, p, 4);
}

/* IDX bytes: magic, dims, then `ndata` bytes of data. */
static GByteArray *
make_idx (uint32_t             magic,
          const uint32_t      *dims,
          int                  n_dims,
          const unsigned char *values,
          size_t               ndata)
{
  GByteArray *b = g_byte_array_new ();
  append_be32 (b, magic);
  for (int i = 0; i < n_dims; i++)
    append_be32 (b, dims[i]);
  g_byte_array_append (b, values, (guint) ndata);
  return b;
}

static void
write_file (const char       *path,
            const GByteArray *b,
            gboolean          gzip)
{
  if (!gzip)
    {
      g_assert_true (g_file_set_contents (path, (const char *) b->data, b->len, NULL));
      return;
    }
  gzFile gz = gzopen (path, "wb");
  g_assert_nonnull (gz);
  g_assert_cmpint (gzwrite (gz, b->data, b->len), ==, (int) b->len);
  g_assert_cmpint (gzclose (gz), ==, Z_OK);
}

enum { N_IMG = 5, IMG_H = 3, IMG_W = 4 };
static const unsigned char idx_labels[N_IMG] = { 2, 0, 1, 2, 1 };

static unsigned char
idx_pixel (int i)
{
  return (unsigned char) (i * 13 + 7);
}

/* Writes images and labels, each plain or gzipped. */
static void
write_idx_pair (const char *images_path,
                const char *labels_path,
                gboolean    images_gz,
                gboolean    labels_gz)
{
  unsigned char pixels[N_IMG * IMG_H * IMG_W];
  for (int i = 0; i < N_IMG * IMG_H * IMG_W; i++)
    pixels[i] = idx_pixel (i);
  uint32_t idims[3] = { N_IMG, IMG_H, IMG_W }, ldims[1] = { N_IMG };
  GByteArray *bi = make_idx (0x803, idims, 3, pixels, sizeof pixels);
  GByteArray *bl = make_idx (0x801, ldims, 1, idx_labels, N_IMG);
  write_file (images_path, bi, images_gz);
  write_file (labels_path, bl, labels_gz);
  g_byte_array_free (bi, TRUE);
  g_byte_array_free (bl, TRUE);
}

static void
test_idx_read (Fixture      *fx,
               gconstpointer data)
{
  (void) data;
  for (int variant = 0; variant < 4; variant++)
    {
      gboolean images_gz = variant & 1, labels_gz = (variant >> 1) & 1;
      char *ip = test_util_tmp_dir_path (fx, images_gz ? "images.gz" : "images");
      char *lp = test_util_tmp_dir_path (fx, labels_gz ? "labels.gz" : "labels");
      write_idx_pair (ip, lp, images_gz, labels_gz);
      NnError err = { 0 };
      NnDataset *ds = nn_dataset_load_idx (ip, lp, &err);
      g_assert_nonnull (ds);
      g_assert_cmpint (ds->n, ==, N_IMG);
      g_assert_cmpint (ds->c, ==, 1);
      g_assert_cmpint (ds->h, ==, IMG_H);
      g_assert_cmpint (ds->w, ==, IMG_W);
      g_assert_cmpint (ds->n_classes, ==, 3);
      for (int i = 0; i < N_IMG; i++)
        g_assert_cmpint (ds->labels[i], ==, idx_labels[i]);
      for (int i = 0; i < N_IMG * IMG_H * IMG_W; i++)
        g_assert_cmpfloat (ds->images[i], ==, (float) idx_pixel (i) / 255.0f);
      g_assert_cmpstr (ds->class_names[2], ==, "2");
      nn_dataset_free (ds);
      g_free (ip);
      g_free (lp);
    }
}

static void
test_idx_errors (Fixture      *fx,
                 gconstpointer data)
{
  (void) data;
  char *ip = test_util_tmp_dir_path (fx, "images.gz");
  char *lp = test_util_tmp_dir_path (fx, "labels");
  write_idx_pair (ip, lp, TRUE, FALSE);
  NnError err = { 0 };

  /* Truncated pixels, plain and gzipped. */
  unsigned char pixels[N_IMG * IMG_H * IMG_W] = { 0 };
  uint32_t idims[3] = { N_IMG, IMG_H, IMG_W };
  GByteArray *short_idx = make_idx (0x803, idims, 3, pixels, sizeof pixels - 5);
  for (int gz = 0; gz < 2; gz++)
    {
      char *bad = test_util_tmp_dir_path (fx, gz ? "short.gz" : "short");
      write_file (bad, short_idx, gz);
      g_assert_null (nn_dataset_load_idx (bad, lp, &err));
      assert_error_names (&err, bad, "truncated");
      g_free (bad);
    }
  g_byte_array_free (short_idx, TRUE);

  /* A gzip stream cut in the middle. */
  gchar *gz_bytes = NULL;
  gsize gz_size = 0;
  g_assert_true (g_file_get_contents (ip, &gz_bytes, &gz_size, NULL));
  char *cut = test_util_tmp_dir_path (fx, "cut.gz");
  g_assert_true (g_file_set_contents (cut, gz_bytes, (gssize) gz_size / 2, NULL));
  g_assert_null (nn_dataset_load_idx (cut, lp, &err));
  assert_error_names (&err, cut, NULL);
  g_free (cut);
  g_free (gz_bytes);

  /* A header cut short. */
  char *tiny = test_util_tmp_dir_path (fx, "tiny");
  g_assert_true (g_file_set_contents (tiny, "\0\0\x08\x03\0\0", 6, NULL));
  g_assert_null (nn_dataset_load_idx (tiny, lp, &err));
  assert_error_names (&err, tiny, "truncated");
  g_free (tiny);

  /* Wrong magic: the files swapped, and a float IDX. */
  g_assert_null (nn_dataset_load_idx (lp, ip, &err));
  assert_error_names (&err, lp, "magic");
  GByteArray *floats = make_idx (0x0d03, idims, 3, pixels, sizeof pixels);
  char *fp = test_util_tmp_dir_path (fx, "floats");
  write_file (fp, floats, FALSE);
  g_assert_null (nn_dataset_load_idx (fp, lp, &err));
  assert_error_names (&err, fp, "magic");
  g_byte_array_free (floats, TRUE);
  g_free (fp);

  /* Counts that disagree: both files are named. */
  uint32_t ldims[1] = { N_IMG - 1 };
  GByteArray *few = make_idx (0x801, ldims, 1, idx_labels, N_IMG - 1);
  char *fl = test_util_tmp_dir_path (fx, "few-labels");
  write_file (fl, few, FALSE);
  g_assert_null (nn_dataset_load_idx (ip, fl, &err));
  assert_error_names (&err, fl, NULL);
  assert_error_names (&err, ip, NULL);
  g_byte_array_free (few, TRUE);
  g_free (fl);

  /* Absurd dimensions, refused before anything is allocated or read. */
  static const uint32_t absurd[][3] = { { 0xffffffffu, 28, 28 }, { 10, 0, 28 },
                                        { 10, 100000, 100000 }, { 0, 28, 28 } };
  for (size_t a = 0; a < G_N_ELEMENTS (absurd); a++)
    {
      GByteArray *huge = make_idx (0x803, absurd[a], 3, pixels, sizeof pixels);
      char *hp = test_util_tmp_dir_path (fx, "huge");
      write_file (hp, huge, FALSE);
      g_assert_null (nn_dataset_load_idx (hp, lp, &err));
      assert_error_names (&err, hp, "dimensions");
      g_byte_array_free (huge, TRUE);
      g_free (hp);
    }

  /* Missing file, and a directory. */
  char *missing = test_util_tmp_dir_path (fx, "missing.gz");
  g_assert_null (nn_dataset_load_idx (missing, lp, &err));
  assert_error_names (&err, missing, NULL);
  g_assert_cmpint (err.code, ==, NN_ERROR_IO);
  g_assert_null (nn_dataset_load_idx (ip, fx->dir, &err));
  assert_error_names (&err, fx->dir, "directory");
  g_free (missing);

  g_free (ip);
  g_free (lp);
}

/* ---- Fashion-MNIST ------------------------------------------------------------------------ */

static void
test_fashion_mnist_test_split (void)
{
  if (!g_file_test (NN_FASHION_MNIST_DIR, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("Fashion-MNIST is not installed in " NN_FASHION_MNIST_DIR);
      return;
    }
  NnError err = { 0 };
  NnDataset *ds = nn_dataset_load_fashion_mnist (NULL, false, &err);
  if (ds == NULL)
    g_error ("%s", err.message);
  g_assert_cmpint (ds->n, ==, 10000);
  g_assert_cmpint (ds->c, ==, 1);
  g_assert_cmpint (ds->h, ==, 28);
  g_assert_cmpint (ds->w, ==, 28);
  g_assert_cmpint (ds->n_classes, ==, 10);
  g_assert_cmpstr (ds->class_names[0], ==, "T-shirt/top");
  g_assert_cmpstr (ds->class_names[9], ==, "Ankle boot");

  /* First labels as read by NumPy from t10k-labels-idx1-ubyte.gz. */
  static const int first[10] = { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7 };
  for (int i = 0; i < 10; i++)
    g_assert_cmpint (ds->labels[i], ==, first[i]);
  int counts[10] = { 0 };
  for (int i = 0; i < ds->n; i++)
    counts[ds->labels[i]]++;
  for (int k = 0; k < 10; k++)
    g_assert_cmpint (counts[k], ==, 1000);

  float mean, std;
  nn_dataset_mean_std (ds, &mean, &std);
  g_assert_cmpfloat_with_epsilon (mean, 0.286849f, 1e-5f);
  g_assert_cmpfloat_with_epsilon (std, 0.352444f, 1e-5f);
  nn_dataset_free (ds);
}

static void
test_fashion_mnist_train_mean (void)
{
  if (!g_file_test (NN_FASHION_MNIST_DIR, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("Fashion-MNIST is not installed in " NN_FASHION_MNIST_DIR);
      return;
    }
  NnError err = { 0 };
  NnDataset *ds = nn_dataset_load_fashion_mnist (NN_FASHION_MNIST_DIR, true, &err);
  if (ds == NULL)
    g_error ("%s", err.message);
  g_assert_cmpint (ds->n, ==, 60000);
  g_assert_cmpint (ds->labels[0], ==, 9);
  g_assert_cmpint (ds->labels[1], ==, 0);
  float mean, std;
  nn_dataset_mean_std (ds, &mean, &std);
  /* NumPy over all pixels / 255: mean 0.2860406, std 0.3530242. */
  g_assert_cmpfloat_with_epsilon (mean, 0.2860406f, 1e-5f);
  g_assert_cmpfloat_with_epsilon (std, 0.3530242f, 1e-5f);
  nn_dataset_free (ds);
}

static void
test_fashion_mnist_missing (Fixture      *fx,
                            gconstpointer data)
{
  (void) data;
  NnError err = { 0 };
  g_assert_null (nn_dataset_load_fashion_mnist (fx->dir, true, &err));
  assert_error_names (&err, fx->dir, "train-images-idx3-ubyte");

  /* Uncompressed files are found too. */
  char *ip = test_util_tmp_dir_path (fx, "t10k-images-idx3-ubyte");
  char *lp = test_util_tmp_dir_path (fx, "t10k-labels-idx1-ubyte.gz");
  write_idx_pair (ip, lp, FALSE, TRUE);
  NnDataset *ds = nn_dataset_load_fashion_mnist (fx->dir, false, &err);
  g_assert_nonnull (ds);
  g_assert_cmpint (ds->n, ==, N_IMG);
  g_assert_cmpint (ds->n_classes, ==, 10);
  g_assert_cmpstr (ds->class_names[8], ==, "Bag");
  nn_dataset_free (ds);

  /* Fashion-MNIST has ten classes; a label of 12 is an error. */
  static const unsigned char bad_labels[N_IMG] = { 1, 12, 0, 0, 0 };
  uint32_t ldims[1] = { N_IMG };
  GByteArray *bl = make_idx (0x801, ldims, 1, bad_labels, N_IMG);
  write_file (lp, bl, TRUE);
  g_assert_null (nn_dataset_load_fashion_mnist (fx->dir, false, &err));
  assert_error_names (&err, lp, "label 12");
  g_byte_array_free (bl, TRUE);
  g_free (ip);
  g_free (lp);
}

/* ---- Image folders ------------------------------------------------------------------------ */

/* A constant gray image of value v / 255. */
static void
write_gray_png (const char *path,
                int         h,
                int         w,
                int         v,
                int         c)
{
  NnImage *image = nn_image_new (c, h, w);
  for (int i = 0; i < c * h * w; i++)
    image->data[i] = (float) v / 255.0f;
  NnError err = { 0 };
  if (!nn_image_save_png (image, path, 8, &err))
    g_error ("%s", err.message);
  nn_image_free (image);
}

/* root/<class>/<file>, made with g_mkdir_with_parents; returns the path. */
static char *
make_in (const char *root,
         const char *cls,
         const char *file)
{
  char *dir = g_build_filename (root, cls, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  char *path = file != NULL ? g_build_filename (dir, file, NULL) : g_strdup (dir);
  g_free (dir);
  return path;
}

/* Three classes created out of order, mixed sizes, channels and formats. Value of image j of
 * class k (sorted) is 10 * (k + 1) + j. */
static void
build_folder (const char *root)
{
  static const struct
  {
    const char *cls, *file;
    int         h, w, c, v;
  } files[] = {
    { "owl", "b.png", 6, 6, 3, 31 },
    { "cat", "b.PNG", 8, 4, 1, 11 },
    { "cat", "a.png", 5, 6, 1, 10 },
    { "dog", "z.png", 12, 12, 3, 22 },
    { "dog", "c.png", 3, 9, 1, 20 },
    { "owl", "a.png", 2, 2, 1, 30 },
    { "dog", "d.Png", 4, 4, 3, 21 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (files); i++)
    {
      char *path = make_in (root, files[i].cls, files[i].file);
      write_gray_png (path, files[i].h, files[i].w, files[i].v, files[i].c);
      g_free (path);
    }
  /* Things to ignore: other files, hidden files, a stray file at the top. */
  char *path = make_in (root, "cat", "notes.txt");
  g_assert_true (g_file_set_contents (path, "not an image", -1, NULL));
  g_free (path);
  path = make_in (root, "cat", ".hidden.png");
  g_assert_true (g_file_set_contents (path, "not an image", -1, NULL));
  g_free (path);
  path = g_build_filename (root, "README", NULL);
  g_assert_true (g_file_set_contents (path, "top-level file", -1, NULL));
  g_free (path);
}

static void
assert_constant_sample (const NnDataset *ds,
                        int              i,
                        int              v)
{
  size_t per = (size_t) ds->c * ds->h * ds->w;
  for (size_t j = 0; j < per; j++)
    g_assert_cmpfloat_with_epsilon (ds->images[i * per + j], (float) v / 255.0f, 1e-6f);
}

static void
test_folder (Fixture      *fx,
             gconstpointer data)
{
  (void) data;
  char *root = test_util_tmp_dir_path (fx, "set");
  build_folder (root);

  NnError err = { 0 };
  NnDataset *ds = nn_dataset_load_folder (root, 3, 4, 4, &err);
  if (ds == NULL)
    g_error ("%s", err.message);
  g_assert_cmpint (ds->n, ==, 7);
  g_assert_cmpint (ds->c, ==, 3);
  g_assert_cmpint (ds->h, ==, 4);
  g_assert_cmpint (ds->w, ==, 4);
  g_assert_cmpint (ds->n_classes, ==, 3);
  g_assert_cmpstr (ds->class_names[0], ==, "cat");
  g_assert_cmpstr (ds->class_names[1], ==, "dog");
  g_assert_cmpstr (ds->class_names[2], ==, "owl");
  /* Sorted by class, then by file name (byte order: "a.png" < "b.PNG"; "c" < "d" < "z"). */
  static const int labels[7] = { 0, 0, 1, 1, 1, 2, 2 };
  static const int values[7] = { 10, 11, 20, 21, 22, 30, 31 };
  for (int i = 0; i < 7; i++)
    {
      g_assert_cmpint (ds->labels[i], ==, labels[i]);
      assert_constant_sample (ds, i, values[i]);
    }
  nn_dataset_free (ds);

  /* Shape from the first image: cat/a.png, 5 x 6 gray. */
  ds = nn_dataset_load_folder (root, 0, 0, 0, &err);
  g_assert_nonnull (ds);
  g_assert_cmpint (ds->c, ==, 1);
  g_assert_cmpint (ds->h, ==, 5);
  g_assert_cmpint (ds->w, ==, 6);
  for (int i = 0; i < 7; i++)
    assert_constant_sample (ds, i, values[i]);
  nn_dataset_free (ds);

  /* Loading twice gives the same bytes. */
  NnDataset *a = nn_dataset_load_folder (root, 1, 3, 3, &err);
  NnDataset *b = nn_dataset_load_folder (root, 1, 3, 3, &err);
  g_assert_cmpmem (a->images, 7 * 9 * sizeof (float), b->images, 7 * 9 * sizeof (float));
  g_assert_cmpmem (a->labels, 7 * sizeof (int), b->labels, 7 * sizeof (int));
  nn_dataset_free (a);
  nn_dataset_free (b);
  g_free (root);
}

/* A CT folder as `synth ct` writes it: 16-bit slices (HU + 1024) are samples, the masks and
 * windowed views beside them are not; the lung window maps HU to [0, 1]. */
static void
test_folder_ct (Fixture      *fx,
                gconstpointer data)
{
  (void) data;
  char *root = test_util_tmp_dir_path (fx, "ct");
  const float hu[2] = { -975.0f, -600.0f };
  const char *classes[2] = { "covid", "healthy" };
  NnError err = { 0 };
  for (int k = 0; k < 2; k++)
    {
      NnImage *slice = nn_image_new (1, 4, 4);
      for (int i = 0; i < 16; i++)
        slice->data[i] = hu[k];
      char *path = make_in (root, classes[k], "0000.png");
      g_assert_true (nn_ct_save_png16 (slice, path, &err));
      g_free (path);
      nn_image_free (slice);
      const char *companions[3] = { "0000.mask.png", "0000.lung.png", "0000.dcm" };
      for (int c = 0; c < 3; c++)
        {
          path = make_in (root, classes[k], companions[c]);
          write_gray_png (path, 4, 4, 255, 1);
          g_free (path);
        }
    }
  NnDataset *ds = nn_dataset_load_folder (root, 0, 0, 0, &err);
  if (ds == NULL)
    g_error ("%s", err.message);
  g_assert_cmpint (ds->n, ==, 2);
  g_assert_true (ds->ct16);
  g_assert_cmpfloat_with_epsilon (ds->images[0], (-975.0f + 1024.0f) / 65535.0f, 1e-7f);
  NnCtWindow lung = NN_CT_WINDOW_LUNG;
  nn_dataset_apply_ct_window (ds, &lung);
  g_assert_false (ds->ct16);
  for (int i = 0; i < 16; i++)
    {
      g_assert_cmpfloat_with_epsilon (ds->images[i], 0.25f, 1e-4f);
      g_assert_cmpfloat_with_epsilon (ds->images[16 + i], 0.5f, 1e-4f);
    }
  nn_dataset_free (ds);

  /* One 8-bit image among them: not a CT set. */
  char *path = make_in (root, "healthy", "0001.png");
  write_gray_png (path, 4, 4, 100, 1);
  g_free (path);
  ds = nn_dataset_load_folder (root, 0, 0, 0, &err);
  g_assert_nonnull (ds);
  g_assert_cmpint (ds->n, ==, 3);
  g_assert_false (ds->ct16);
  nn_dataset_free (ds);
  g_free (root);
}

/* JPEG files (any case of .jpg / .jpeg); a flat gray survives quality 95 almost exactly. */
static void
test_folder_jpeg (Fixture      *fx,
                  gconstpointer data)
{
  (void) data;
  char *root = test_util_tmp_dir_path (fx, "jpegs");
  unsigned char pixels[16 * 16 * 3];
  memset (pixels, 128, sizeof pixels);
  static const char *const names[] = { "x.jpg", "y.JPEG", "z.jpeg" };
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      char *path = make_in (root, i == 0 ? "one" : "two", names[i]);
      tjhandle tj = tjInitCompress ();
      unsigned char *jpeg = NULL;
      unsigned long size = 0;
      g_assert_cmpint (tjCompress2 (tj, pixels, 16, 0, 16, TJPF_RGB, &jpeg, &size, TJSAMP_444,
                                    95, 0), ==, 0);
      g_assert_true (g_file_set_contents (path, (const char *) jpeg, (gssize) size, NULL));
      tjFree (jpeg);
      tjDestroy (tj);
      g_free (path);
    }
  NnError err = { 0 };
  NnDataset *ds = nn_dataset_load_folder (root, 0, 8, 8, &err);
  if (ds == NULL)
    g_error ("%s", err.message);
  g_assert_cmpint (ds->n, ==, 3);
  g_assert_cmpint (ds->c, ==, 3);
  g_assert_cmpint (ds->labels[0], ==, 0);
  g_assert_cmpint (ds->labels[2], ==, 1);
  for (int i = 0; i < 3 * 3 * 8 * 8; i++)
    g_assert_cmpfloat_with_epsilon (ds->images[i], 128.0f / 255.0f, 2.0f / 255.0f);
  nn_dataset_free (ds);
  g_free (root);
}

static void
test_folder_errors (Fixture      *fx,
                    gconstpointer data)
{
  (void) data;
  NnError err = { 0 };

  char *missing = test_util_tmp_dir_path (fx, "missing");
  g_assert_null (nn_dataset_load_folder (missing, 0, 0, 0, &err));
  assert_error_names (&err, missing, NULL);

  char *file = test_util_tmp_dir_path (fx, "file.png");
  write_gray_png (file, 2, 2, 5, 1);
  g_assert_null (nn_dataset_load_folder (file, 0, 0, 0, &err));
  assert_error_names (&err, file, "not a directory");

  char *flat = test_util_tmp_dir_path (fx, "flat");
  g_assert_cmpint (g_mkdir (flat, 0755), ==, 0);
  char *inside = g_build_filename (flat, "img.png", NULL);
  write_gray_png (inside, 2, 2, 5, 1);
  g_assert_null (nn_dataset_load_folder (flat, 0, 0, 0, &err));
  assert_error_names (&err, flat, "no class folders");

  char *empty = test_util_tmp_dir_path (fx, "empty");
  char *e1 = make_in (empty, "a", NULL);
  char *e2 = make_in (empty, "b", "readme.txt");
  g_assert_true (g_file_set_contents (e2, "text", -1, NULL));
  g_assert_null (nn_dataset_load_folder (empty, 0, 0, 0, &err));
  assert_error_names (&err, empty, "no images found");

  /* A class folder without images is still a class, so indices follow the names. */
  char *e3 = make_in (empty, "c", "img.png");
  write_gray_png (e3, 2, 2, 5, 1);
  NnDataset *ds = nn_dataset_load_folder (empty, 0, 0, 0, &err);
  g_assert_nonnull (ds);
  g_assert_cmpint (ds->n_classes, ==, 3);
  g_assert_cmpint (ds->n, ==, 1);
  g_assert_cmpint (ds->labels[0], ==, 2);
  nn_dataset_free (ds);

  /* A broken image stops the load and is named. */
  char *broken = make_in (empty, "b", "broken.png");
  g_assert_true (g_file_set_contents (broken, "\x89PNG\r\n\x1a\nnonsense", -1, NULL));
  g_assert_null (nn_dataset_load_folder (empty, 0, 0, 0, &err));
  assert_error_names (&err, broken, NULL);

  g_free (missing);
  g_free (file);
  g_free (flat);
  g_free (inside);
  g_free (empty);
  g_free (e1);
  g_free (e2);
  g_free (e3);
  g_free (broken);
}

static void
test_open (Fixture      *fx,
           gconstpointer data)
{
  (void) data;
  NnError err = { 0 };

  /* A folder with train/ and test/ gives the splits. */
  char *root = test_util_tmp_dir_path (fx, "split");
  char *p1 = make_in (root, "train/a", "1.png");
  char *p2 = make_in (root, "train/b", "1.png");
  char *p3 = make_in (root, "test/a", "1.png");
  char *p4 = make_in (root, "test/b", "1.png");
  char *p5 = make_in (root, "test/b", "2.png");
  write_gray_png (p1, 3, 3, 1, 1);
  write_gray_png (p2, 3, 3, 2, 1);
  write_gray_png (p3, 3, 3, 3, 1);
  write_gray_png (p4, 3, 3, 4, 1);
  write_gray_png (p5, 3, 3, 5, 1);
  NnDataset *train = nn_dataset_open (root, true, 0, 0, 0, &err);
  NnDataset *test = nn_dataset_open (root, false, 0, 0, 0, &err);
  g_assert_nonnull (train);
  g_assert_nonnull (test);
  g_assert_cmpint (train->n, ==, 2);
  g_assert_cmpint (test->n, ==, 3);
  assert_constant_sample (train, 1, 2);
  assert_constant_sample (test, 2, 5);
  g_assert_cmpstr (test->class_names[1], ==, "b");
  nn_dataset_free (train);
  nn_dataset_free (test);

  /* Without both, the whole folder serves either way. */
  char *whole = test_util_tmp_dir_path (fx, "split/train");
  train = nn_dataset_open (whole, true, 1, 2, 2, &err);
  test = nn_dataset_open (whole, false, 1, 2, 2, &err);
  g_assert_cmpint (train->n, ==, 2);
  g_assert_cmpint (test->n, ==, 2);
  g_assert_cmpint (train->h, ==, 2);
  nn_dataset_free (train);
  nn_dataset_free (test);

  char *missing = test_util_tmp_dir_path (fx, "nowhere");
  g_assert_null (nn_dataset_open (missing, true, 0, 0, 0, &err));
  assert_error_names (&err, missing, "fashion-mnist");

  if (g_file_test (NN_FASHION_MNIST_DIR, G_FILE_TEST_IS_DIR))
    {
      /* Fashion-MNIST conformed to the model input: 3 x 14 x 14. */
      NnDataset *ds = nn_dataset_open ("fashion-mnist", false, 3, 14, 14, &err);
      if (ds == NULL)
        g_error ("%s", err.message);
      g_assert_cmpint (ds->n, ==, 10000);
      g_assert_cmpint (ds->c, ==, 3);
      g_assert_cmpint (ds->h, ==, 14);
      g_assert_cmpint (ds->labels[0], ==, 9);
      g_assert_cmpstr (ds->class_names[9], ==, "Ankle boot");
      g_assert_cmpmem (ds->images, 196 * sizeof (float), ds->images + 196, 196 * sizeof (float));
      float mean[3], std[3];
      nn_dataset_mean_std (ds, mean, std);
      g_assert_cmpfloat_with_epsilon (mean[0], 0.286849f, 1e-4f);
      nn_dataset_free (ds);
    }

  g_free (root);
  g_free (p1);
  g_free (p2);
  g_free (p3);
  g_free (p4);
  g_free (p5);
  g_free (whole);
  g_free (missing);
}

/* ---- Subsets and statistics --------------------------------------------------------------- */

/* 100 samples, classes 0/1/2 with 50/30/20 samples interleaved; sample i holds value i. */
static NnDataset *
make_indexed (void)
{
  NnDataset *ds = nn_dataset_new (100, 1, 1, 2, 3);
  for (int i = 0; i < 100; i++)
    {
      ds->labels[i] = i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2;
      ds->images[2 * i] = (float) i;
      ds->images[2 * i + 1] = (float) -i;
    }
  nn_dataset_set_class_name (ds, 1, "one");
  return ds;
}

/* A seeded sample of 17: original samples with their labels, in order, with their places. */
static void
test_sample (void)
{
  NnDataset *ds = make_indexed ();
  int index[17], again[17];
  NnDataset *a = nn_dataset_sample (ds, 17, 3, index);
  NnDataset *b = nn_dataset_sample (ds, 17, 3, again);
  NnDataset *other = nn_dataset_sample (ds, 17, 4, NULL);
  g_assert_cmpint (a->n, ==, 17);
  g_assert_cmpstr (a->class_names[1], ==, "one");
  for (int j = 0; j < a->n; j++)
    {
      g_assert_cmpfloat (a->images[2 * j], ==, (float) index[j]);
      g_assert_cmpint (a->labels[j], ==, ds->labels[index[j]]);
      if (j > 0)
        g_assert_cmpint (index[j], >, index[j - 1]);
    }
  g_assert_cmpint (index[16], >, 16);  /* not the first 17 */
  g_assert_cmpmem (index, sizeof index, again, sizeof again);
  g_assert_true (memcmp (a->images, other->images, 34 * sizeof (float)) != 0);
  NnDataset *all = nn_dataset_sample (ds, 100, 3, NULL);
  g_assert_cmpmem (all->images, 200 * sizeof (float), ds->images, 200 * sizeof (float));
  nn_dataset_free (all);
  nn_dataset_free (other);
  nn_dataset_free (b);
  nn_dataset_free (a);
  nn_dataset_free (ds);
}

static void
test_subset_per_class (void)
{
  NnDataset *ds = make_indexed ();
  NnDataset *a = nn_dataset_subset_per_class (ds, 10, 7);
  NnDataset *b = nn_dataset_subset_per_class (ds, 10, 7);
  NnDataset *other = nn_dataset_subset_per_class (ds, 10, 8);
  g_assert_cmpint (a->n, ==, 30);
  g_assert_cmpint (a->n_classes, ==, 3);
  g_assert_cmpstr (a->class_names[1], ==, "one");
  int counts[3] = { 0 };
  for (int j = 0; j < a->n; j++)
    {
      int i = (int) a->images[2 * j];
      counts[a->labels[j]]++;
      /* Each sample is an original one, with its own label, in the original order. */
      g_assert_cmpint (a->labels[j], ==, ds->labels[i]);
      g_assert_cmpfloat (a->images[2 * j + 1], ==, (float) -i);
      if (j > 0)
        g_assert_cmpfloat (a->images[2 * j], >, a->images[2 * (j - 1)]);
    }
  for (int k = 0; k < 3; k++)
    g_assert_cmpint (counts[k], ==, 10);
  g_assert_cmpmem (a->images, 60 * sizeof (float), b->images, 60 * sizeof (float));
  g_assert_true (memcmp (a->images, other->images, 60 * sizeof (float)) != 0);

  /* Not just the first per class: a seeded choice. */
  int first_ten = 0;
  for (int j = 0; j < a->n; j++)
    first_ten += a->labels[j] == 0 && a->images[2 * j] < 20.0f;
  g_assert_cmpint (first_ten, <, 10);

  /* More than a class has: all of it. */
  NnDataset *big = nn_dataset_subset_per_class (ds, 25, 1);
  g_assert_cmpint (big->n, ==, 25 + 25 + 20);
  NnDataset *none = nn_dataset_subset_per_class (ds, 0, 1);
  g_assert_cmpint (none->n, ==, 0);

  nn_dataset_free (none);
  nn_dataset_free (big);
  nn_dataset_free (a);
  nn_dataset_free (b);
  nn_dataset_free (other);
  nn_dataset_free (ds);
}

static void
test_mean_std (void)
{
  /* Channel 0: 0 and 1 in equal numbers (mean 0.5, std 0.5); channel 1: constant 0.25;
   * channel 2: 0.1, 0.2, 0.3, 0.6 (mean 0.3, population std sqrt(0.035)). */
  NnDataset *ds = nn_dataset_new (2, 3, 1, 2, 1);
  static const float images[12] = { 0, 1, 0.25f, 0.25f, 0.1f, 0.2f,
                                    1, 0, 0.25f, 0.25f, 0.3f, 0.6f };
  memcpy (ds->images, images, sizeof images);
  float mean[3], std[3];
  nn_dataset_mean_std (ds, mean, std);
  g_assert_cmpfloat_with_epsilon (mean[0], 0.5f, 1e-6f);
  g_assert_cmpfloat_with_epsilon (std[0], 0.5f, 1e-6f);
  g_assert_cmpfloat_with_epsilon (mean[1], 0.25f, 1e-6f);
  g_assert_cmpfloat_with_epsilon (std[1], 0.0f, 1e-6f);
  g_assert_cmpfloat_with_epsilon (mean[2], 0.3f, 1e-6f);
  g_assert_cmpfloat_with_epsilon (std[2], sqrtf (0.035f), 1e-6f);
  nn_dataset_free (ds);
  nn_dataset_free (NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
#define ADD_FX(path, fn) \
  g_test_add (path, Fixture, NULL, test_util_tmp_dir_setup, fn, test_util_tmp_dir_teardown)
  ADD_FX ("/nn/dataset/idx-read", test_idx_read);
  ADD_FX ("/nn/dataset/idx-errors", test_idx_errors);
  ADD_FX ("/nn/dataset/fashion-mnist-missing", test_fashion_mnist_missing);
  ADD_FX ("/nn/dataset/folder", test_folder);
  ADD_FX ("/nn/dataset/folder-jpeg", test_folder_jpeg);
  ADD_FX ("/nn/dataset/folder-ct", test_folder_ct);
  ADD_FX ("/nn/dataset/folder-errors", test_folder_errors);
  ADD_FX ("/nn/dataset/open", test_open);
#undef ADD_FX
  g_test_add_func ("/nn/dataset/fashion-mnist-test-split", test_fashion_mnist_test_split);
  g_test_add_func ("/nn/dataset/fashion-mnist-train-mean", test_fashion_mnist_train_mean);
  g_test_add_func ("/nn/dataset/subset-per-class", test_subset_per_class);
  g_test_add_func ("/nn/dataset/sample", test_sample);
  g_test_add_func ("/nn/dataset/mean-std", test_mean_std);
  return g_test_run ();
}
