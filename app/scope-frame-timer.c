/* SPDX-License-Identifier: MIT */
/* ScopeFrameTimer: signal handlers on the frame clock record the paint cycle's duration; the
 * idle handlers' work is added to the frame that follows it. */
#include "scope-frame-timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct _ScopeFrameTimer
{
  GtkWidget     *widget;     /* weak */
  GdkFrameClock *clock;      /* the realized widget's, referenced */
  gulong         realize_id;
  gulong         unrealize_id;
  gulong         before_id;
  gulong         after_id;
  ScopeFrameStamp paint_start;
  ScopeFrameStamp pending;   /* idle work since the last frame, us */
  GArray        *frames;     /* ScopeFrameStamp: work per frame, us */
};

void
scope_frame_stamp_now (ScopeFrameStamp *stamp)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  stamp->cpu = (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
  stamp->wall = g_get_monotonic_time ();
}

static void
on_before_paint (GdkFrameClock   *clock,
                 ScopeFrameTimer *self)
{
  (void) clock;
  scope_frame_stamp_now (&self->paint_start);
}

static void
on_after_paint (GdkFrameClock   *clock,
                ScopeFrameTimer *self)
{
  (void) clock;
  if (self->paint_start.wall == 0)
    return;
  ScopeFrameStamp now;
  scope_frame_stamp_now (&now);
  ScopeFrameStamp work = {
    .wall = now.wall - self->paint_start.wall + self->pending.wall,
    .cpu = now.cpu - self->paint_start.cpu + self->pending.cpu,
  };
  self->pending = (ScopeFrameStamp) { 0, 0 };
  self->paint_start = (ScopeFrameStamp) { 0, 0 };
  g_array_append_val (self->frames, work);
}

static void
attach_clock (ScopeFrameTimer *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (self->widget);
  if (clock == NULL || clock == self->clock)
    return;
  self->clock = g_object_ref (clock);
  self->before_id = g_signal_connect (clock, "before-paint", G_CALLBACK (on_before_paint), self);
  self->after_id = g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), self);
}

/* The frame clock goes with the widget's surface, and takes its handlers with it: they are
 * disconnected before, while the clock still has them, so that freeing the timer later does not
 * disconnect them twice. */
static void
detach_clock (ScopeFrameTimer *self)
{
  if (self->clock == NULL)
    return;
  g_clear_signal_handler (&self->before_id, self->clock);
  g_clear_signal_handler (&self->after_id, self->clock);
  g_clear_object (&self->clock);
}

static void
on_realize (GtkWidget       *widget,
            ScopeFrameTimer *self)
{
  (void) widget;
  attach_clock (self);
}

static void
on_unrealize (GtkWidget       *widget,
              ScopeFrameTimer *self)
{
  (void) widget;
  detach_clock (self);
}

ScopeFrameTimer *
scope_frame_timer_new (GtkWidget *widget)
{
  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);

  ScopeFrameTimer *self = g_new0 (ScopeFrameTimer, 1);
  self->widget = widget;
  self->frames = g_array_new (FALSE, FALSE, sizeof (ScopeFrameStamp));
  self->realize_id = g_signal_connect (widget, "realize", G_CALLBACK (on_realize), self);
  self->unrealize_id = g_signal_connect (widget, "unrealize", G_CALLBACK (on_unrealize), self);
  if (gtk_widget_get_realized (widget))
    attach_clock (self);
  return self;
}

void
scope_frame_timer_free (ScopeFrameTimer *self)
{
  if (self == NULL)
    return;
  g_clear_signal_handler (&self->realize_id, self->widget);
  g_clear_signal_handler (&self->unrealize_id, self->widget);
  detach_clock (self);
  g_array_unref (self->frames);
  g_free (self);
}

void
scope_frame_timer_add_work (ScopeFrameTimer       *self,
                            const ScopeFrameStamp *start)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (start != NULL);

  ScopeFrameStamp now;
  scope_frame_stamp_now (&now);
  self->pending.wall += now.wall - start->wall;
  self->pending.cpu += now.cpu - start->cpu;
}

guint
scope_frame_timer_get_n_frames (ScopeFrameTimer *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->frames->len;
}

static int
compare_gint64 (const void *a,
                const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

/* Median, 99th percentile and maximum of the work per frame, in ms (0 without frames), in
 * CPU time (cpu TRUE) or wall-clock time. */
static void
get_stats (ScopeFrameTimer *self,
           gboolean         cpu,
           double          *median_ms,
           double          *p99_ms,
           double          *max_ms)
{
  *median_ms = *p99_ms = *max_ms = 0.0;
  guint n = self->frames->len;
  if (n == 0)
    return;
  g_autofree gint64 *sorted = g_new (gint64, n);
  for (guint i = 0; i < n; i++)
    {
      const ScopeFrameStamp *f = &g_array_index (self->frames, ScopeFrameStamp, i);
      sorted[i] = cpu ? f->cpu : f->wall;
    }
  qsort (sorted, n, sizeof (gint64), compare_gint64);
  /* Nearest rank. */
  *median_ms = sorted[(n - 1) / 2] / 1000.0;
  guint rank = (guint) ((99 * (guint64) n + 99) / 100);
  *p99_ms = sorted[MAX (rank, 1u) - 1] / 1000.0;
  *max_ms = sorted[n - 1] / 1000.0;
}

char *
scope_frame_timer_format (ScopeFrameTimer *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  double median, p99, max, wall_median, wall_p99, wall_max;
  get_stats (self, TRUE, &median, &p99, &max);
  get_stats (self, FALSE, &wall_median, &wall_p99, &wall_max);
  return g_strdup_printf ("%u frames: main-thread work per frame in CPU time median %.2f ms, "
                          "p99 %.2f ms, max %.2f ms; in wall-clock time median %.2f ms, "
                          "p99 %.2f ms, max %.2f ms", self->frames->len, median, p99, max,
                          wall_median, wall_p99, wall_max);
}

void
scope_frame_timer_print (ScopeFrameTimer *self)
{
  g_return_if_fail (self != NULL);

  g_autofree char *text = scope_frame_timer_format (self);
  fprintf (stderr, "cnnscope: %s\n", text);
}
