/* SPDX-License-Identifier: MIT */
/* What the UI tests share: driving a window through its actions, and screenshots. */
#include "ui-util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-util.h"

void
ui_util_activate (GtkWidget  *widget,
                  const char *action,
                  const char *format,
                  ...)
{
  GVariant *parameter = NULL;
  if (format != NULL)
    {
      va_list args;
      va_start (args, format);
      parameter = g_variant_new_va (format, NULL, &args);
      va_end (args);
    }
  g_assert_true (gtk_widget_activate_action_variant (widget, action, parameter));
}

UiUtilPixelStats
ui_util_texture_stats (GdkTexture *texture)
{
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  gsize stride = (gsize) w * 4;
  g_autofree guchar *pixels = g_malloc (stride * (gsize) h);
  gdk_texture_download (texture, pixels, stride);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  double sum = 0.0, sum2 = 0.0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint32 p;
        memcpy (&p, pixels + (gsize) y * stride + (gsize) x * 4, 4);
        double r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
        double luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        sum += luma;
        sum2 += luma * luma;
        g_hash_table_add (seen, GUINT_TO_POINTER (p | 1u));
      }
  double n = (double) w * h;
  UiUtilPixelStats stats = { .mean = sum / n, .colours = g_hash_table_size (seen) };
  stats.stddev = sqrt (fmax (sum2 / n - stats.mean * stats.mean, 0.0));
  return stats;
}

guint
ui_util_count_colour (GdkTexture *texture,
                      int         r,
                      int         g,
                      int         b,
                      int         tolerance)
{
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  gsize stride = (gsize) w * 4;
  g_autofree guchar *pixels = g_malloc (stride * (gsize) h);
  gdk_texture_download (texture, pixels, stride);
  guint n = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint32 p;
        memcpy (&p, pixels + (gsize) y * stride + (gsize) x * 4, 4);
        int pr = (p >> 16) & 0xff, pg = (p >> 8) & 0xff, pb = p & 0xff;
        if (abs (pr - r) <= tolerance && abs (pg - g) <= tolerance && abs (pb - b) <= tolerance)
          n++;
      }
  return n;
}

typedef struct
{
  GdkPaintable  *paintable;
  int            w, h;
  GskRenderNode *node;
} Render;

/* Whether the widget has drawn: on a busy machine a window just shown may not have had its
 * first frame yet, and its paintable then gives no render node. */
static gboolean
render_node_ready (gpointer data)
{
  Render *r = data;
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (r->paintable, snapshot, r->w, r->h);
  r->node = gtk_snapshot_free_to_node (snapshot);
  return r->node != NULL;
}

GdkTexture *
ui_util_render_widget (GtkWidget *widget)
{
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  g_assert_cmpint (w, >, 0);
  g_assert_cmpint (h, >, 0);
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  Render r = { paintable, w, h, NULL };
  test_util_wait (render_node_ready, &r, "the widget's first frame");
  GskRenderNode *node = r.node;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  GdkTexture *texture = gsk_renderer_render_texture (renderer, node,
                                                     &GRAPHENE_RECT_INIT (0, 0, w, h));
  gsk_render_node_unref (node);
  return texture;
}

void
ui_util_screenshot (GtkWidget  *widget,
                    const char *dir,
                    const char *name,
                    double      min_stddev,
                    guint       min_colours)
{
  g_autoptr (GdkTexture) texture = ui_util_render_widget (widget);
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));

  UiUtilPixelStats stats = ui_util_texture_stats (texture);
  g_test_message ("%s: %dx%d, luma mean %.1f sd %.1f, %u colours", path,
                  gdk_texture_get_width (texture), gdk_texture_get_height (texture), stats.mean,
                  stats.stddev, stats.colours);
  g_assert_cmpfloat (stats.stddev, >, min_stddev);
  g_assert_cmpuint (stats.colours, >=, min_colours);
}
