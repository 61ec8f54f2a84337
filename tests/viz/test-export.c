/* SPDX-License-Identifier: MIT */
/* Figure export: PNG read back pixel for pixel, SVG and PDF headers, the format chosen by
 * extension, data pixels sharp in SVG, failures that leave no file (atomic writes), also on a
 * full disk. */
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "test-util.h"
#include "viz.h"

typedef struct
{
  VizTileGrid grid;
  VizStyle    style;
} Figure;

static void
draw_figure (cairo_t    *cr,
             const void *user_data,
             double      width,
             double      height)
{
  const Figure *fig = user_data;
  viz_tile_grid_draw (cr, &fig->grid, &fig->style, width, height);
}

typedef struct
{
  float       data[4 * 6 * 6];
  VizColormap cm;
  Figure      fig;
  char       *dir;
} Fixture;

static void
fixture_setup (Fixture      *f,
               gconstpointer unused)
{
  (void) unused;
  for (int i = 0; i < 4 * 36; i++)
    f->data[i] = (float) ((i * 37) % 11) - 3.0f;
  viz_colormap_init_for_data (&f->cm, VIZ_COLORMAP_DIVERGING, f->data, 4 * 36);
  f->fig.grid = (VizTileGrid) {
    .data = f->data, .c = 4, .h = 6, .w = 6, .colormap = &f->cm, .selected = 1,
  };
  viz_style_init (&f->fig.style);
  f->dir = test_util_make_tmp_dir ();
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer unused)
{
  (void) unused;
  test_util_remove_tree (f->dir);
  g_free (f->dir);
}

static void
test_png_roundtrip (Fixture      *f,
                    gconstpointer unused)
{
  (void) unused;
  char *path = g_build_filename (f->dir, "grid.png", NULL);
  NnError err = { 0 };
  g_assert_true (viz_export_png (path, draw_figure, &f->fig, 320, 200, &err));
  g_assert_cmpint (test_util_count_entries (f->dir), ==, 1);

  cairo_surface_t *read = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (read), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (read), ==, 320);
  g_assert_cmpint (cairo_image_surface_get_height (read), ==, 200);

  cairo_surface_t *direct = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 320, 200);
  cairo_t *cr = cairo_create (direct);
  draw_figure (cr, &f->fig, 320, 200);
  cairo_destroy (cr);
  cairo_surface_flush (direct);
  g_assert_cmpint (cairo_image_surface_get_stride (read), ==,
                   cairo_image_surface_get_stride (direct));
  g_assert_cmpmem (cairo_image_surface_get_data (read),
                   cairo_image_surface_get_stride (read) * 200,
                   cairo_image_surface_get_data (direct),
                   cairo_image_surface_get_stride (direct) * 200);
  cairo_surface_destroy (direct);
  cairo_surface_destroy (read);

  /* Exporting again replaces the file in place. */
  g_assert_true (viz_export (path, draw_figure, &f->fig, 160, 100, &err));
  read = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_image_surface_get_width (read), ==, 160);
  cairo_surface_destroy (read);
  g_assert_cmpint (test_util_count_entries (f->dir), ==, 1);
  g_free (path);
}

static void
assert_file_starts_with (const char *path,
                         const char *prefix)
{
  char *contents = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 200);
  g_assert_cmpint (strncmp (contents, prefix, strlen (prefix)), ==, 0);
  g_free (contents);
}

static void
test_vector_formats (Fixture      *f,
                     gconstpointer unused)
{
  (void) unused;
  char *svg = g_build_filename (f->dir, "grid.SVG", NULL);
  char *pdf = g_build_filename (f->dir, "grid.pdf", NULL);
  NnError err = { 0 };
  g_assert_true (viz_export (svg, draw_figure, &f->fig, 320, 200, &err));
  g_assert_true (viz_export (pdf, draw_figure, &f->fig, 320, 200, &err));
  assert_file_starts_with (svg, "<?xml");
  assert_file_starts_with (pdf, "%PDF-");
  g_assert_cmpint (test_util_count_entries (f->dir), ==, 2);
  g_free (svg);
  g_free (pdf);
}

typedef struct
{
  const guchar *data;
  gsize         len, pos;
} PngSource;

static cairo_status_t
png_read (void          *closure,
          unsigned char *out,
          unsigned int   length)
{
  PngSource *src = closure;
  if (src->pos + length > src->len)
    return CAIRO_STATUS_READ_ERROR;
  memcpy (out, src->data + src->pos, length);
  src->pos += length;
  return CAIRO_STATUS_SUCCESS;
}

/* Whether every pixel of image equals the top-left one of its block x block square. */
static gboolean
blocky (cairo_surface_t *image,
        int              block)
{
  const guchar *p = cairo_image_surface_get_data (image);
  int stride = cairo_image_surface_get_stride (image);
  int w = cairo_image_surface_get_width (image), h = cairo_image_surface_get_height (image);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if (memcmp (p + (gsize) y * stride + (gsize) x * 4,
                  p + (gsize) (y - y % block) * stride + (gsize) (x - x % block) * 4, 4) != 0)
        return FALSE;
  return TRUE;
}

/* The tiles of an SVG export stay sharp in any viewer: cairo writes no nearest-filter hint, so
 * every embedded picture of data pixels carries them as blocks of at least 8 x 8 (the 1-px
 * wide colour bar, smoothed on purpose, aside). */
static void
test_svg_pixels_sharp (Fixture      *f,
                       gconstpointer unused)
{
  (void) unused;
  g_autofree char *svg = g_build_filename (f->dir, "grid.svg", NULL);
  NnError err = { 0 };
  g_assert_true (viz_export (svg, draw_figure, &f->fig, 320, 200, &err));
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (svg, &text, NULL, NULL));
  int tiles = 0;
  for (const char *p = strstr (text, "base64,"); p != NULL; p = strstr (p, "base64,"))
    {
      p += strlen ("base64,");
      const char *end = strchr (p, '"');
      g_assert_nonnull (end);
      g_autofree char *b64 = g_strndup (p, (gsize) (end - p));
      gsize len;
      g_autofree guchar *png = g_base64_decode (b64, &len);
      PngSource src = { png, len, 0 };
      cairo_surface_t *image = cairo_image_surface_create_from_png_stream (png_read, &src);
      g_assert_cmpint (cairo_surface_status (image), ==, CAIRO_STATUS_SUCCESS);
      int w = cairo_image_surface_get_width (image), h = cairo_image_surface_get_height (image);
      if (w > 2 && h > 2)
        {
          g_test_message ("embedded image %dx%d", w, h);
          g_assert_cmpint (w, >=, 6 * 8);
          g_assert_cmpint (h, >=, 6 * 8);
          g_assert_cmpint (w % 6, ==, 0);
          g_assert_true (blocky (image, w / 6));
          tiles++;
        }
      cairo_surface_destroy (image);
      p = end;
    }
  g_assert_cmpint (tiles, >=, 4);
}

static void
test_failures (Fixture      *f,
               gconstpointer unused)
{
  (void) unused;
  NnError err = { 0 };
  char *bad_ext = g_build_filename (f->dir, "grid.jpg", NULL);
  g_assert_false (viz_export (bad_ext, draw_figure, &f->fig, 100, 100, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);
  g_assert_nonnull (strstr (err.message, "grid.jpg"));

  nn_error_clear (&err);
  g_assert_false (viz_export (bad_ext, draw_figure, &f->fig, 0, 100, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_SPEC);

  char *missing = g_build_filename (f->dir, "no-such-dir", "grid.png", NULL);
  nn_error_clear (&err);
  g_assert_false (viz_export (missing, draw_figure, &f->fig, 100, 100, &err));
  g_assert_cmpint (err.code, ==, NN_ERROR_IO);
  g_assert_nonnull (strstr (err.message, missing));
  g_assert_cmpint (test_util_count_entries (f->dir), ==, 0);

  /* A read-only folder: the export fails and leaves nothing behind. */
  if (getuid () != 0)
    {
      g_assert_cmpint (g_chmod (f->dir, 0500), ==, 0);
      char *ro = g_build_filename (f->dir, "grid.pdf", NULL);
      nn_error_clear (&err);
      g_assert_false (viz_export (ro, draw_figure, &f->fig, 100, 100, &err));
      g_assert_cmpint (err.code, ==, NN_ERROR_IO);
      g_assert_cmpint (g_chmod (f->dir, 0700), ==, 0);
      g_assert_cmpint (test_util_count_entries (f->dir), ==, 0);
      g_free (ro);
    }
  g_free (missing);
  g_free (bad_ext);
}

/* Runs export on path twice: without a limit, then (after lowering RLIMIT_FSIZE below the
 * size of that first file, as a full disk would stop it) again. The second export must fail
 * naming the file and the reason, and leave the first file as it was and nothing else. */
static void
assert_full_disk_fails (Fixture    *f,
                        const char *name,
                        double      width,
                        double      height)
{
  char *path = g_build_filename (f->dir, name, NULL);
  NnError err = { 0 };
  g_assert_true (viz_export (path, draw_figure, &f->fig, width, height, &err));
  char *before = NULL;
  gsize size = 0;
  g_assert_true (g_file_get_contents (path, &before, &size, NULL));
  g_assert_cmpuint (size, >, 600);
  struct rlimit old, rl;
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old), ==, 0);
  rl = old;
  rl.rlim_cur = size / 2;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &rl), ==, 0);
  g_assert_false (viz_export (path, draw_figure, &f->fig, width, height, &err));
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old), ==, 0);
  g_test_message ("%s", err.message);
  g_assert_cmpint (err.code, ==, NN_ERROR_IO);
  g_assert_true (g_str_has_prefix (err.message, path));
  g_assert_nonnull (strstr (err.message, "cannot write: File too large"));
  char *after = NULL;
  gsize after_size = 0;
  g_assert_true (g_file_get_contents (path, &after, &after_size, NULL));
  g_assert_cmpmem (after, after_size, before, size);
  g_assert_cmpint (test_util_count_entries (f->dir), ==, 1);
  g_remove (path);
  g_free (after);
  g_free (before);
  g_free (path);
}

/* A full disk (RLIMIT_FSIZE, which fails writes with EFBIG once SIGXFSZ is ignored, stands in
 * for one): every format fails cleanly. A PDF used to be renamed into place truncated. */
static void
test_full_disk (Fixture      *f,
                gconstpointer unused)
{
  (void) unused;
  signal (SIGXFSZ, SIG_IGN);
  assert_full_disk_fails (f, "grid.pdf", 320, 200);
  assert_full_disk_fails (f, "grid.svg", 320, 200);
  assert_full_disk_fails (f, "grid.png", 320, 200);
  signal (SIGXFSZ, SIG_DFL);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/viz/export/png-roundtrip", Fixture, NULL, fixture_setup, test_png_roundtrip,
              fixture_teardown);
  g_test_add ("/viz/export/vector-formats", Fixture, NULL, fixture_setup, test_vector_formats,
              fixture_teardown);
  g_test_add ("/viz/export/svg-pixels-sharp", Fixture, NULL, fixture_setup,
              test_svg_pixels_sharp, fixture_teardown);
  g_test_add ("/viz/export/failures", Fixture, NULL, fixture_setup, test_failures,
              fixture_teardown);
  g_test_add ("/viz/export/full-disk", Fixture, NULL, fixture_setup, test_full_disk,
              fixture_teardown);
  return g_test_run ();
}
