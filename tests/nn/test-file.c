/* SPDX-License-Identifier: MIT */
/* Safe opening of user-named files (nn-file.h): FIFOs, folders, devices and sockets are refused
 * without blocking, by the helper and by every reader built on it; paths inside a folder never
 * leave it nor follow a symbolic link. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>

#include "nn.h"
#include "io/nn-file.h"
#include "test-util.h"

typedef TestUtilTmpDir Fixture;

static void
assert_error (const NnError *err,
              const char    *path,
              const char    *needle)
{
  g_assert_cmpint (err->code, !=, NN_ERROR_NONE);
  if (path != NULL && strstr (err->message, path) == NULL)
    g_error ("error '%s' does not name '%s'", err->message, path);
  if (strstr (err->message, needle) == NULL)
    g_error ("error '%s' lacks '%s'", err->message, needle);
}

/* A FIFO at dir/name, to g_free. Nothing ever writes to it: a reader that opens it without
 * O_NONBLOCK would wait forever. */
static char *
make_fifo (const Fixture *fx,
           const char    *name)
{
  char *path = test_util_tmp_dir_path (fx, name);
  g_assert_cmpint (mkfifo (path, 0644), ==, 0);
  return path;
}

static void
test_open_regular (Fixture       *fx,
                   gconstpointer  data)
{
  (void) data;
  NnError err = { 0 };
  char *fifo = make_fifo (fx, "fifo");
  g_assert_cmpint (nn_file_open_regular (fifo, NULL, &err), ==, -1);
  assert_error (&err, fifo, "not a regular file (a FIFO)");

  g_assert_cmpint (nn_file_open_regular (fx->dir, NULL, &err), ==, -1);
  assert_error (&err, fx->dir, "not a regular file (a directory)");

  g_assert_cmpint (nn_file_open_regular ("/dev/null", NULL, &err), ==, -1);
  assert_error (&err, "/dev/null", "(a character device)");

  char *sock_path = test_util_tmp_dir_path (fx, "sock");
  int sock = socket (AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_assert_cmpuint (strlen (sock_path), <, sizeof addr.sun_path);
  strcpy (addr.sun_path, sock_path);
  g_assert_cmpint (bind (sock, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (nn_file_open_regular (sock_path, NULL, &err), ==, -1);
  assert_error (&err, sock_path, "(a socket)");
  close (sock);

  char *missing = test_util_tmp_dir_path (fx, "missing");
  g_assert_cmpint (nn_file_open_regular (missing, NULL, &err), ==, -1);
  assert_error (&err, missing, "No such file");
  g_assert_cmpint (nn_file_open_regular ("", NULL, &err), ==, -1);
  assert_error (&err, NULL, "empty file name");

  /* A regular file opens with blocking reads and its size. */
  char *plain = test_util_tmp_dir_path (fx, "plain");
  test_util_write_file (plain, "hello", 5);
  uint64_t size = 0;
  int fd = nn_file_open_regular (plain, &size, &err);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpuint (size, ==, 5);
  g_assert_cmpint (fcntl (fd, F_GETFL) & O_NONBLOCK, ==, 0);
  g_assert_cmpint (fcntl (fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
  char buf[8] = { 0 };
  g_assert_true (nn_file_read_at (fd, plain, buf, 5, 0, &err));
  g_assert_cmpstr (buf, ==, "hello");
  g_assert_false (nn_file_read_at (fd, plain, buf, 3, 4, &err));
  assert_error (&err, plain, "unexpected end of file");
  close (fd);

  size_t n = 0;
  unsigned char *bytes = nn_file_load (plain, 4, "a test", &n, &err);
  g_assert_null (bytes);
  assert_error (&err, plain, "file of 5 bytes is too large for a test");
  bytes = nn_file_load (plain, 5, "a test", &n, &err);
  g_assert_nonnull (bytes);
  g_assert_cmpuint (n, ==, 5);
  g_assert_cmpstr ((char *) bytes, ==, "hello");
  g_free (bytes);
  g_assert_null (nn_file_load (fifo, 100, "a test", &n, &err));
  assert_error (&err, fifo, "(a FIFO)");

  g_free (plain);
  g_free (missing);
  g_free (sock_path);
  g_free (fifo);
}

static void
test_open_beneath (Fixture       *fx,
                   gconstpointer  data)
{
  (void) data;
  /* dir/model/{w.bin, sub/x.bin, link -> ../secret, sublink -> ../outside, fifo} and
   * dir/secret, dir/outside/x.bin. */
  char *model = test_util_tmp_dir_path (fx, "model");
  char *sub = g_build_filename (model, "sub", NULL);
  char *outside = test_util_tmp_dir_path (fx, "outside");
  g_assert_cmpint (g_mkdir (model, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (outside, 0755), ==, 0);
  char *p = g_build_filename (model, "w.bin", NULL);
  test_util_write_file (p, "1234", 4);
  g_free (p);
  p = g_build_filename (sub, "x.bin", NULL);
  test_util_write_file (p, "12", 2);
  g_free (p);
  p = g_build_filename (outside, "x.bin", NULL);
  test_util_write_file (p, "secret", 6);
  g_free (p);
  p = test_util_tmp_dir_path (fx, "secret");
  test_util_write_file (p, "secret", 6);
  g_free (p);
  p = g_build_filename (model, "link", NULL);
  g_assert_cmpint (symlink ("../secret", p), ==, 0);
  g_free (p);
  p = g_build_filename (model, "sublink", NULL);
  g_assert_cmpint (symlink ("../outside", p), ==, 0);
  g_free (p);
  p = g_build_filename (model, "fifo", NULL);
  g_assert_cmpint (mkfifo (p, 0644), ==, 0);
  g_free (p);

  int dir_fd = open (model, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (dir_fd, >=, 0);
  NnError err = { 0 };
  uint64_t size = 0;
  int fd = nn_file_open_beneath (dir_fd, "w.bin", &size, &err);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpuint (size, ==, 4);
  close (fd);
  fd = nn_file_open_beneath (dir_fd, "sub/x.bin", &size, &err);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpuint (size, ==, 2);
  close (fd);

  const struct { const char *name, *needle; } bad[] = {
    { "link", "link: a symbolic link (not followed)" },
    { "sublink/x.bin", "sublink/x.bin: a symbolic link (not followed)" },
    { "../secret", "\"..\" leaves the folder" },
    { "sub/../../secret", "\"..\" leaves the folder" },
    { "/etc/passwd", "an absolute path leaves the folder" },
    { "fifo", "fifo: not a regular file (a FIFO)" },
    { "sub", "sub: not a regular file (a directory)" },
    { "missing", "missing: No such file" },
    { "", "empty name" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      nn_error_clear (&err);
      g_assert_cmpint (nn_file_open_beneath (dir_fd, bad[i].name, NULL, &err), ==, -1);
      assert_error (&err, NULL, bad[i].needle);
    }
  close (dir_fd);
  g_free (outside);
  g_free (sub);
  g_free (model);
}

/* Every reader of a user-named file refuses a FIFO (and returns: none of them blocks). */
static void
test_readers_refuse_fifo (Fixture       *fx,
                          gconstpointer  data)
{
  (void) data;
  NnError err = { 0 };
  const char *names[] = {
    "model.safetensors", "model.onnx", "input.png", "input.npy", "slice.dcm", "tensor.pb",
  };
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      char *fifo = make_fifo (fx, names[i]);
      nn_error_clear (&err);
      switch (i)
        {
        case 0:
        case 1:
          g_assert_null (nn_model_load (fifo, &err));
          break;
        case 2:
          g_assert_null (nn_image_load (fifo, &err));
          assert_error (&err, fifo, "(a FIFO)");
          nn_error_clear (&err);
          g_assert_null (nn_ct_load (fifo, &err));
          break;
        case 3:
          g_assert_null (nn_npy_load (fifo, &err));
          break;
        case 4:
          g_assert_null (nn_dicom_load (fifo, &err));
          assert_error (&err, fifo, "(a FIFO)");
          nn_error_clear (&err);
          g_assert_null (nn_ct_load (fifo, &err));
          break;
        default:
          {
            NnOnnxTensor tensor;
            g_assert_false (nn_onnx_tensor_load (fifo, &tensor, &err));
          }
          break;
        }
      assert_error (&err, fifo, "not a regular file (a FIFO)");
      g_free (fifo);
    }

  /* An IDX dataset whose image file is a FIFO. */
  char *idx = make_fifo (fx, "train-images-idx3-ubyte");
  char *labels = test_util_tmp_dir_path (fx, "train-labels-idx1-ubyte");
  test_util_write_file (labels, "\0\0\x08\x01\0\0\0\0", 8);
  g_assert_null (nn_dataset_load_fashion_mnist (fx->dir, true, &err));
  assert_error (&err, idx, "(a FIFO)");
  g_free (labels);
  g_free (idx);
}

/* An image folder skips a FIFO named like an image. */
static void
test_folder_skips_fifo (Fixture       *fx,
                        gconstpointer  data)
{
  (void) data;
  char *cls = test_util_tmp_dir_path (fx, "cat");
  g_assert_cmpint (g_mkdir (cls, 0755), ==, 0);
  NnImage *image = nn_image_new (1, 4, 4);
  char *png = g_build_filename (cls, "a.png", NULL);
  NnError err = { 0 };
  g_assert_true (nn_image_save_png (image, png, 8, &err));
  char *fifo = g_build_filename (cls, "b.png", NULL);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  NnDataset *ds = nn_dataset_load_folder (fx->dir, 0, 0, 0, &err);
  g_assert_nonnull (ds);
  g_assert_cmpint (ds->n, ==, 1);
  nn_dataset_free (ds);
  nn_image_free (image);
  g_free (fifo);
  g_free (png);
  g_free (cls);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) \
  g_test_add (path, Fixture, NULL, test_util_tmp_dir_setup, fn, test_util_tmp_dir_teardown)
  ADD ("/nn/file/open-regular", test_open_regular);
  ADD ("/nn/file/open-beneath", test_open_beneath);
  ADD ("/nn/file/readers-refuse-fifo", test_readers_refuse_fifo);
  ADD ("/nn/file/folder-skips-fifo", test_folder_skips_fifo);
#undef ADD
  return g_test_run ();
}
