/* SPDX-License-Identifier: MIT */
/* Atomic saves (nn-atomic-file.h) and the writers built on them: on a full disk (RLIMIT_FSIZE
 * stands in for one) every writer fails naming the file and the reason and leaves the previous
 * file and nothing else; what a killed save left is cleaned by the next save of its target. */
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn.h"
#include "test-util.h"

typedef TestUtilTmpDir Fixture;

typedef enum
{
  WRITER_MODEL,
  WRITER_NPY,
  WRITER_PNG,
  WRITER_DICOM,
  WRITER_UNCHECKED,
} Writer;

static const char *const writer_files[] = {
  "model.safetensors", "values.npy", "image.png", "slice.dcm", "table.csv",
};

/* Writes a file of more than a kilobyte with writer w at path, the contents depending on
 * seed; false with err set when the writer fails. */
static bool
write_with (Writer      w,
            const char *path,
            int         seed,
            NnError    *err)
{
  switch (w)
    {
    case WRITER_MODEL:
      {
        NnModel *model = nn_synth_dashes_model_new (16 + seed);
        bool ok = nn_model_save (model, path, err);
        nn_model_free (model);
        return ok;
      }
    case WRITER_NPY:
      {
        float values[4000];
        for (int i = 0; i < 4000; i++)
          values[i] = (float) (i * (seed + 1));
        const int dims[1] = { 4000 };
        return nn_npy_save (path, values, dims, 1, err);
      }
    case WRITER_PNG:
    case WRITER_DICOM:
      {
        /* Noise does not compress: the PNG is about as large as its pixels. */
        NnImage *image = nn_image_new (1, 96, 96);
        NnRng rng;
        nn_rng_init (&rng, (uint64_t) seed + 1);
        for (int i = 0; i < 96 * 96; i++)
          image->data[i] = (float) nn_rng_below (&rng, 1000) / 1000.0f;
        bool ok = w == WRITER_PNG ? nn_image_save_png (image, path, 16, err)
                                  : nn_dicom_save (image, 1.0, NULL, path, err);
        nn_image_free (image);
        return ok;
      }
    case WRITER_UNCHECKED:
      {
        /* Like a CSV writer that never looks at fprintf's result: the save still fails. */
        NnAtomicFile file;
        if (!nn_atomic_file_open (&file, path, err))
          return false;
        for (int i = 0; i < 2000; i++)
          fprintf (file.fp, "%d,%d\n", i, i * seed);
        return nn_atomic_file_finish (&file, true, err);
      }
    default:
      g_assert_not_reached ();
    }
}

static void
test_full_disk (Fixture       *fx,
                gconstpointer  data)
{
  (void) data;
  signal (SIGXFSZ, SIG_IGN);
  for (Writer w = WRITER_MODEL; w <= WRITER_UNCHECKED; w++)
    {
      char *path = test_util_tmp_dir_path (fx, writer_files[w]);
      NnError err = { 0 };
      g_assert_true (write_with (w, path, 1, &err));
      char *before = NULL;
      gsize size = 0;
      g_assert_true (g_file_get_contents (path, &before, &size, NULL));
      g_assert_cmpuint (size, >, 1000);

      struct rlimit old, rl;
      g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old), ==, 0);
      rl = old;
      rl.rlim_cur = size / 2;
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &rl), ==, 0);
      bool ok = write_with (w, path, 2, &err);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old), ==, 0);
      g_test_message ("%s", err.message);
      g_assert_false (ok);
      g_assert_cmpint (err.code, ==, NN_ERROR_IO);
      g_assert_true (g_str_has_prefix (err.message, path));
      g_assert_nonnull (strstr (err.message, "cannot write: File too large"));

      /* The previous file, whole, and nothing else. */
      char *after = NULL;
      gsize after_size = 0;
      g_assert_true (g_file_get_contents (path, &after, &after_size, NULL));
      g_assert_cmpmem (after, after_size, before, size);
      g_assert_cmpint (test_util_count_entries (fx->dir), ==, 1);
      g_remove (path);
      g_free (after);
      g_free (before);
      g_free (path);
    }
  signal (SIGXFSZ, SIG_DFL);
}

/* A save killed after it started writing leaves its temporary file; the next save of the same
 * target takes it over, so afterwards only the target is there. */
static void
test_killed_save (Fixture       *fx,
                  gconstpointer  data)
{
  (void) data;
  char *path = test_util_tmp_dir_path (fx, "model.safetensors");
  char *tmp = test_util_tmp_dir_path (fx, ".model.safetensors.tmp");
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      NnAtomicFile file;
      if (!nn_atomic_file_open (&file, path, NULL))
        _exit (1);
      fputs ("half a model", file.fp);
      fflush (file.fp);
      raise (SIGKILL);
    }
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_true (g_file_test (tmp, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  NnError err = { 0 };
  g_assert_true (write_with (WRITER_MODEL, path, 1, &err));
  g_assert_false (g_file_test (tmp, G_FILE_TEST_EXISTS));
  g_assert_cmpint (test_util_count_entries (fx->dir), ==, 1);
  NnModel *model = nn_model_load (path, &err);
  g_assert_nonnull (model);
  nn_model_free (model);
  g_free (tmp);
  g_free (path);
}

/* While another save of the target holds the shared temporary file, a save uses a name of its
 * own, after removing such names that no save holds (left by killed saves). */
static void
test_concurrent_save (Fixture       *fx,
                      gconstpointer  data)
{
  (void) data;
  char *path = test_util_tmp_dir_path (fx, "values.npy");
  char *shared = test_util_tmp_dir_path (fx, ".values.npy.tmp");
  char *stale = test_util_tmp_dir_path (fx, ".values.npy.tmp-Ab12Cd");
  char *other = test_util_tmp_dir_path (fx, ".other.npy.tmp-Ab12Cd");
  test_util_write_file (stale, "left by a killed save", 21);
  test_util_write_file (other, "another target's", 16);
  int busy = open (shared, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  g_assert_cmpint (busy, >=, 0);
  g_assert_cmpint (flock (busy, LOCK_EX), ==, 0);

  NnError err = { 0 };
  g_assert_true (write_with (WRITER_NPY, path, 1, &err));
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (stale, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (other, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (shared, G_FILE_TEST_EXISTS));
  g_assert_cmpint (test_util_count_entries (fx->dir), ==, 3);
  close (busy);

  /* Once it is free, the next save takes the shared file over. */
  g_assert_true (write_with (WRITER_NPY, path, 2, &err));
  g_assert_false (g_file_test (shared, G_FILE_TEST_EXISTS));
  g_assert_cmpint (test_util_count_entries (fx->dir), ==, 2);
  g_free (other);
  g_free (stale);
  g_free (shared);
  g_free (path);
}

/* A temporary file name that is not a regular file of ours (a FIFO, a symbolic link planted
 * there) is left alone, and the save goes to a name of its own. */
static void
test_planted_tmp (Fixture       *fx,
                  gconstpointer  data)
{
  (void) data;
  char *path = test_util_tmp_dir_path (fx, "image.png");
  char *shared = test_util_tmp_dir_path (fx, ".image.png.tmp");
  char *victim = test_util_tmp_dir_path (fx, "victim");
  test_util_write_file (victim, "keep me", 7);
  g_assert_cmpint (symlink (victim, shared), ==, 0);
  NnError err = { 0 };
  g_assert_true (write_with (WRITER_PNG, path, 1, &err));
  char *text = NULL;
  g_assert_true (g_file_get_contents (victim, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "keep me");
  g_free (text);
  g_assert_true (g_file_test (shared, G_FILE_TEST_IS_SYMLINK));
  g_remove (shared);
  g_assert_cmpint (mkfifo (shared, 0644), ==, 0);
  g_assert_true (write_with (WRITER_PNG, path, 2, &err));
  g_assert_cmpint (test_util_count_entries (fx->dir), ==, 3);
  g_free (victim);
  g_free (shared);
  g_free (path);
}

static void
test_bad_paths (Fixture       *fx,
                gconstpointer  data)
{
  (void) data;
  NnAtomicFile file;
  NnError err = { 0 };
  g_assert_false (nn_atomic_file_open (&file, "", &err));
  g_assert_cmpstr (err.message, ==, "cannot write: empty output path");
  char *folder = g_strconcat (fx->dir, "/", NULL);
  g_assert_false (nn_atomic_file_open (&file, folder, &err));
  g_assert_true (g_str_has_prefix (err.message, folder));
  g_assert_nonnull (strstr (err.message, "names a folder"));
  char *missing = test_util_tmp_dir_path (fx, "no-such-dir/x.png");
  g_assert_false (nn_atomic_file_open (&file, missing, &err));
  g_assert_true (g_str_has_prefix (err.message, missing));
  g_assert_nonnull (strstr (err.message, "No such file or directory"));
  g_assert_cmpint (test_util_count_entries (fx->dir), ==, 0);
  g_free (missing);
  g_free (folder);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, test_util_tmp_dir_setup, fn, test_util_tmp_dir_teardown)
  ADD ("/nn/atomic-file/full-disk", test_full_disk);
  ADD ("/nn/atomic-file/killed-save", test_killed_save);
  ADD ("/nn/atomic-file/concurrent-save", test_concurrent_save);
  ADD ("/nn/atomic-file/planted-tmp", test_planted_tmp);
  ADD ("/nn/atomic-file/bad-paths", test_bad_paths);
#undef ADD
  return g_test_run ();
}
