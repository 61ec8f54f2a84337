/* SPDX-License-Identifier: MIT */
/* Activation maximization on a worker thread of its own: a model and NnAmSettings go in as
 * values; the worker runs the channels in batches (one NnAmRun each) and posts immutable
 * results (the images as pixels, the objectives, item 0's objective history) at most every
 * 50 ms and at the end of each batch, through one idle callback that merges what is pending. */
#pragma once

#include <glib-object.h>

#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_AM_JOB (scope_am_job_get_type ())

G_DECLARE_FINAL_TYPE (ScopeAmJob, scope_am_job, SCOPE, AM_JOB, GObject)

/* Shortest time between two results of a running batch, in microseconds (~20 per second). */
#define SCOPE_AM_JOB_INTERVAL_US 50000

typedef enum
{
  SCOPE_AM_IDLE,       /* not started */
  SCOPE_AM_RUNNING,
  SCOPE_AM_FINISHED,
  SCOPE_AM_STOPPED,    /* by scope_am_job_stop () */
  SCOPE_AM_FAILED,
} ScopeAmState;

/* One batch as it was at one step; never changed after it is posted (reference counted). */
typedef struct
{
  int          first;       /* index of the batch's first item in the job's channel list */
  int          n_items;
  const int   *channels;    /* n_items channels (or classes) */
  int          c, h, w;     /* per image */
  const float *pixels;      /* n_items x (c, h, w), 0..1: the current images */
  const float *objectives;  /* n_items: the last history entry's (NAN before the first step) */
  const float *history;     /* item 0's objective before each step (and after the last) */
  int          n_history;
  int          step;        /* steps done */
  int          steps;       /* of the run */
  gboolean     done;        /* the batch's final images and values */
} ScopeAmResult;

ScopeAmResult *scope_am_result_ref (ScopeAmResult *result);
void           scope_am_result_unref (ScopeAmResult *result);

/* What arrived since the previous update: valid during the "update" signal only; the
 * receiver refs the results it keeps. Results come in order; a batch's newer result replaces
 * an older one not yet delivered. */
typedef struct
{
  ScopeAmState          state;
  ScopeAmResult *const *results;
  guint                 n_results;
  int                   n_done;     /* items whose batch is finished */
  int                   n_total;    /* items of the job */
  const GError         *error;      /* when state is SCOPE_AM_FAILED */
} ScopeAmUpdate;

/* settings->channels holds every channel to maximize; batch (>= 1) of them run together.
 * The settings, channels, start images and direction weights are copied; the model is
 * referenced. */
ScopeAmJob   *scope_am_job_new (ScopeModel         *model,
                                const NnAmSettings *settings,
                                int                 batch);
gboolean      scope_am_job_start (ScopeAmJob  *self,
                                  GError     **error);
/* Cancels the run and joins the worker (it stops before its next step); updates not yet
 * delivered are dropped and the state becomes SCOPE_AM_STOPPED unless it had ended. Safe to
 * call more than once; dispose calls it. */
void          scope_am_job_stop (ScopeAmJob *self);
ScopeAmState  scope_am_job_get_state (ScopeAmJob *self);
const NnAmSettings *
              scope_am_job_get_settings (ScopeAmJob *self);
/* How many results the worker posted so far (delivered or merged away), for rate checks. */
guint         scope_am_job_get_n_posted (ScopeAmJob *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScopeAmResult, scope_am_result_unref)

G_END_DECLS
