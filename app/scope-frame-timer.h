/* SPDX-License-Identifier: MIT */
/* Main-thread work per frame, for checking that the window stays fluid while the engine works:
 * each frame's own work (the frame clock's paint cycle, before-paint to after-paint: layout,
 * snapshot, Cairo drawing, rendering) plus the work of the result deliveries that ran since the
 * previous frame (reported by the idle handlers). Both in wall-clock time and in the main
 * thread's CPU time: on a loaded machine the wall-clock time also counts the time the thread
 * waited for a core. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct _ScopeFrameTimer ScopeFrameTimer;

/* A moment on both clocks, in microseconds. */
typedef struct
{
  gint64 wall;  /* g_get_monotonic_time () */
  gint64 cpu;   /* the calling thread's CPU time */
} ScopeFrameStamp;

void             scope_frame_stamp_now (ScopeFrameStamp *stamp);

/* Measures the frames of widget's frame clock (from when widget is realized). */
ScopeFrameTimer *scope_frame_timer_new (GtkWidget *widget);
void             scope_frame_timer_free (ScopeFrameTimer *self);
/* Work done on the main thread outside the paint cycle, from start until now, counted into
 * the next frame. */
void             scope_frame_timer_add_work (ScopeFrameTimer       *self,
                                             const ScopeFrameStamp *start);
guint            scope_frame_timer_get_n_frames (ScopeFrameTimer *self);
/* "N frames: CPU median .. p99 .. max .. ms; wall-clock median .. p99 .. max .. ms", to
 * g_free. */
char            *scope_frame_timer_format (ScopeFrameTimer *self);
/* Prints scope_frame_timer_format () on standard error. */
void             scope_frame_timer_print (ScopeFrameTimer *self);

G_END_DECLS
