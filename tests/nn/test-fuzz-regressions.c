/* SPDX-License-Identifier: MIT */
/* The inputs that made a fuzz harness fail (tests/fuzz/regressions/<harness>/<file>), each read
 * again by the loader that harness drives and refused with the error expected of it; every
 * committed input must have its case here. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "nn.h"
#include "test-util.h"

typedef struct
{
  const char *file;    /* under tests/fuzz/regressions */
  const char *expect;  /* a part of the error message */
} Case;

static const Case cases[] = {
  /* An Unsqueeze with an empty 'axes' attribute: the importer copied from the attribute's
   * NULL array (undefined behaviour, reported by UBSan). */
  { "onnx/unsqueeze-empty-axes.onnx", "axes must be given" },
  /* No transfer syntax in the file meta information: GDCM guessed another encoding than the
   * structure check assumed and read text as a length, allocating 942 MB. */
  { "dicom-decode/no-transfer-syntax.dcm",
    "file meta information without a transfer syntax (0002,0010)" },
  /* A sequence delimiter with a length: GDCM read it as a pixel data fragment of 1.1 GB. */
  { "dicom-decode/delimiter-with-length.dcm", "(sequence delimiter with a length)" },
  /* The same file with a length on the item delimiter of its referenced-image sequence. */
  { "dicom-decode/item-delimiter-with-length.dcm", "(item delimiter with a length)" },
};

static char *
regressions_dir (void)
{
  const char *source = g_getenv ("CNNSCOPE_SOURCE_DIR");
  g_assert_nonnull (source);
  return g_build_filename (source, "tests", "fuzz", "regressions", NULL);
}

/* Reads path as fuzz-onnx does: from a folder holding the weights.bin it writes (4096 floats
 * i / 4096), which the input may name as external data. */
static bool
load_onnx (const char *path,
           NnError    *err)
{
  char *dir = test_util_make_tmp_dir ();
  float weights[4096];
  for (int i = 0; i < 4096; i++)
    weights[i] = (float) i / 4096;
  char *weights_path = g_build_filename (dir, "weights.bin", NULL);
  char *model_path = g_build_filename (dir, "model.onnx", NULL);
  char *bytes = NULL;
  gsize size = 0;
  g_assert_true (g_file_get_contents (path, &bytes, &size, NULL));
  test_util_write_file (weights_path, weights, sizeof weights);
  test_util_write_file (model_path, bytes, size);
  NnModel *model = nn_onnx_load (model_path, NULL, err);
  nn_model_free (model);
  g_free (bytes);
  g_free (model_path);
  g_free (weights_path);
  test_util_remove_tree (dir);
  g_free (dir);
  return model != NULL;
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  char *dir = regressions_dir ();
  char *path = g_build_filename (dir, c->file, NULL);
  NnError err = { 0 };
  bool loaded;
  if (g_str_has_prefix (c->file, "onnx/"))
    loaded = load_onnx (path, &err);
  else if (g_str_has_prefix (c->file, "dicom-decode/"))
    {
      NnImage *image = nn_dicom_load (path, &err);
      loaded = image != NULL;
      nn_image_free (image);
    }
  else
    g_assert_not_reached ();
  g_assert_false (loaded);
  g_assert_nonnull (strstr (err.message, c->expect));
  g_free (path);
  g_free (dir);
}

/* Every file under the regressions folder has a case above. */
static void
test_all_listed (void)
{
  char *dir = regressions_dir ();
  GDir *parsers = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (parsers);
  int n = 0;
  const char *parser;
  while ((parser = g_dir_read_name (parsers)) != NULL)
    {
      char *sub = g_build_filename (dir, parser, NULL);
      GDir *files = g_dir_open (sub, 0, NULL);
      g_assert_nonnull (files);
      const char *name;
      while ((name = g_dir_read_name (files)) != NULL)
        {
          char *file = g_strdup_printf ("%s/%s", parser, name);
          bool listed = false;
          for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
            listed = listed || strcmp (cases[i].file, file) == 0;
          if (!listed)
            g_error ("tests/fuzz/regressions/%s has no case in %s", file, __FILE__);
          g_free (file);
          n++;
        }
      g_dir_close (files);
      g_free (sub);
    }
  g_dir_close (parsers);
  g_assert_cmpint (n, ==, (int) G_N_ELEMENTS (cases));
  g_free (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *name = g_strdup_printf ("/nn/fuzz-regressions/%s", cases[i].file);
      g_test_add_data_func (name, &cases[i], test_case);
      g_free (name);
    }
  g_test_add_func ("/nn/fuzz-regressions/all-listed", test_all_listed);
  return g_test_run ();
}
