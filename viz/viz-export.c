/* SPDX-License-Identifier: MIT */
/* PNG / SVG / PDF export through cairo's stream writers into a temporary file that is renamed
 * over the target only once everything is written and synced. */
#include "viz-export.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The temporary file cairo's stream writers write into. */
typedef struct
{
  NnAtomicFile file;
} Sink;

static cairo_status_t
sink_write (void                *closure,
            const unsigned char *data,
            unsigned int         length)
{
  Sink *sink = closure;
  if (fwrite (data, 1, length, sink->file.fp) != length)
    return CAIRO_STATUS_WRITE_ERROR;
  return CAIRO_STATUS_SUCCESS;
}

/* Completes the file, or removes it with an error giving the failed write's reason, else
 * cairo's. A write that failed counts even when cairo's verdict is success: its PDF surface
 * does not always pass a write error on. */
static bool
sink_close (Sink          *sink,
            cairo_status_t status,
            NnError       *err)
{
  int errnum = nn_atomic_file_error (&sink->file);
  bool ok = status == CAIRO_STATUS_SUCCESS && errnum == 0;
  if (!ok)
    {
      char buf[128];
      nn_error_set (err, NN_ERROR_IO, "%s: cannot write: %s", sink->file.path,
                    errnum != 0 ? strerror_r (errnum, buf, sizeof buf)
                                : cairo_status_to_string (status));
    }
  return nn_atomic_file_finish (&sink->file, ok, err);
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
  if (!nn_atomic_file_open (&sink.file, path, err))
    {
      cairo_surface_destroy (surface);
      return false;
    }
  status = cairo_surface_write_to_png_stream (surface, sink_write, &sink);
  cairo_surface_destroy (surface);
  return sink_close (&sink, status, err);
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
  if (!nn_atomic_file_open (&sink.file, path, err))
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
  return sink_close (&sink, status, err);
}

/* SVG and PDF: width x height points (1/72 inch). */
static bool
viz_export_svg (const char  *path,
                VizDrawFunc  draw,
                const void  *user_data,
                double       width,
                double       height,
                NnError     *err)
{
  return export_vector (VECTOR_SVG, path, draw, user_data, width, height, err);
}

static bool
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
  if (path[0] == '\0')
    return nn_error_set (err, NN_ERROR_IO, "cannot write: empty output path");
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
