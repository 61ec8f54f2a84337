/* SPDX-License-Identifier: MIT */
/* PNG / SVG / PDF export through cairo's stream writers into a temporary file that is renamed
 * over the target only once everything is written and synced. */
#include "viz-export.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct
{
  FILE *f;
  char *tmp;
  int   errnum;  /* the first write error */
} Sink;

static cairo_status_t
sink_write (void                *closure,
            const unsigned char *data,
            unsigned int         length)
{
  Sink *sink = closure;
  if (fwrite (data, 1, length, sink->f) != length)
    {
      if (sink->errnum == 0)
        sink->errnum = errno ? errno : EIO;
      return CAIRO_STATUS_WRITE_ERROR;
    }
  return CAIRO_STATUS_SUCCESS;
}

static bool
sink_open (Sink       *sink,
           const char *path,
           NnError    *err)
{
  *sink = (Sink) { 0 };
  size_t len = strlen (path) + 16;
  sink->tmp = malloc (len);
  if (sink->tmp == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
  snprintf (sink->tmp, len, "%s.tmp-XXXXXX", path);
  int fd = mkstemp (sink->tmp);
  if (fd >= 0)
    sink->f = fdopen (fd, "wb");
  if (sink->f == NULL)
    {
      int e = errno;
      if (fd >= 0)
        {
          close (fd);
          unlink (sink->tmp);
        }
      free (sink->tmp);
      sink->tmp = NULL;
      return nn_error_set (err, NN_ERROR_IO, "%s: cannot create a temporary file: %s", path,
                           strerror (e));
    }
  return true;
}

/* Syncs and renames the temporary file over path when ok, removes it otherwise. */
static bool
sink_close (Sink       *sink,
            const char *path,
            bool        ok,
            const char *why,
            NnError    *err)
{
  int e = sink->errnum;
  if (ok && (fflush (sink->f) != 0 || fsync (fileno (sink->f)) != 0))
    {
      ok = false;
      e = errno;
    }
  if (fclose (sink->f) != 0 && ok)
    {
      ok = false;
      e = errno;
    }
  if (ok && rename (sink->tmp, path) != 0)
    {
      ok = false;
      e = errno;
    }
  if (!ok)
    {
      unlink (sink->tmp);
      if (why != NULL)
        nn_error_set (err, NN_ERROR_IO, "%s: cannot write: %s", path, why);
      else
        nn_error_set (err, NN_ERROR_IO, "%s: cannot write: %s", path,
                      strerror (e ? e : EIO));
    }
  free (sink->tmp);
  *sink = (Sink) { 0 };
  return ok;
}

/* Runs the callback on a fresh context; returns cairo's verdict on the drawing. */
static cairo_status_t
render (cairo_surface_t *surface,
        VizDrawFunc      draw,
        const void      *user_data,
        double           width,
        double           height)
{
  cairo_t *cr = cairo_create (surface);
  draw (cr, user_data, width, height);
  cairo_status_t status = cairo_status (cr);
  cairo_destroy (cr);
  return status;
}

bool
viz_export_png (const char  *path,
                VizDrawFunc  draw,
                const void  *user_data,
                int          width,
                int          height,
                NnError     *err)
{
  NN_ASSERT (path != NULL && draw != NULL);
  NN_ASSERT (width > 0 && height > 0);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_status_t status = cairo_surface_status (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = render (surface, draw, user_data, width, height);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      return nn_error_set (err, NN_ERROR_IO, "%s: cannot draw a %dx%d image: %s", path, width,
                           height, cairo_status_to_string (status));
    }
  Sink sink;
  if (!sink_open (&sink, path, err))
    {
      cairo_surface_destroy (surface);
      return false;
    }
  status = cairo_surface_write_to_png_stream (surface, sink_write, &sink);
  cairo_surface_destroy (surface);
  bool ok = status == CAIRO_STATUS_SUCCESS;
  return sink_close (&sink, path, ok,
                     (ok || sink.errnum) ? NULL : cairo_status_to_string (status), err);
}

typedef enum
{
  VECTOR_SVG,
  VECTOR_PDF,
} VectorFormat;

static bool
export_vector (VectorFormat format,
               const char  *path,
               VizDrawFunc  draw,
               const void  *user_data,
               double       width,
               double       height,
               NnError     *err)
{
  NN_ASSERT (path != NULL && draw != NULL);
  NN_ASSERT (width > 0.0 && height > 0.0);
  Sink sink;
  if (!sink_open (&sink, path, err))
    return false;
  cairo_surface_t *surface = format == VECTOR_SVG
    ? cairo_svg_surface_create_for_stream (sink_write, &sink, width, height)
    : cairo_pdf_surface_create_for_stream (sink_write, &sink, width, height);
  cairo_status_t status = cairo_surface_status (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = render (surface, draw, user_data, width, height);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  bool ok = status == CAIRO_STATUS_SUCCESS;
  return sink_close (&sink, path, ok,
                     (ok || sink.errnum) ? NULL : cairo_status_to_string (status), err);
}

bool
viz_export_svg (const char  *path,
                VizDrawFunc  draw,
                const void  *user_data,
                double       width,
                double       height,
                NnError     *err)
{
  return export_vector (VECTOR_SVG, path, draw, user_data, width, height, err);
}

bool
viz_export_pdf (const char  *path,
                VizDrawFunc  draw,
                const void  *user_data,
                double       width,
                double       height,
                NnError     *err)
{
  return export_vector (VECTOR_PDF, path, draw, user_data, width, height, err);
}

bool
viz_export (const char  *path,
            VizDrawFunc  draw,
            const void  *user_data,
            double       width,
            double       height,
            NnError     *err)
{
  NN_ASSERT (path != NULL);
  if (!(width >= 1.0 && height >= 1.0 && width <= 32767.0 && height <= 32767.0))
    return nn_error_set (err, NN_ERROR_SPEC, "%s: figure size %gx%g is out of range", path,
                         width, height);
  const char *dot = strrchr (path, '.');
  const char *slash = strrchr (path, '/');
  if (dot != NULL && (slash == NULL || dot > slash))
    {
      if (strcasecmp (dot, ".png") == 0)
        return viz_export_png (path, draw, user_data, (int) width, (int) height, err);
      if (strcasecmp (dot, ".svg") == 0)
        return viz_export_svg (path, draw, user_data, width, height, err);
      if (strcasecmp (dot, ".pdf") == 0)
        return viz_export_pdf (path, draw, user_data, width, height, err);
    }
  return nn_error_set (err, NN_ERROR_SPEC, "%s: unknown figure format (expected .png, .svg or "
                       ".pdf)", path);
}
