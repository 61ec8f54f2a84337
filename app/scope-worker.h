/* SPDX-License-Identifier: MIT */
/* ScopeWorker: where the threads of app/ meet. A worker thread, its lock, its cancel flag and
 * the one idle source that hands its results to the main context; each job embeds one. */
#pragma once

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>

G_BEGIN_DECLS

typedef void *(*ScopeWorkerFunc) (void *data);

typedef struct
{
  pthread_mutex_t  lock;
  atomic_int       cancel;     /* polled by the worker without the lock */
  pthread_t        thread;
  gboolean         started;    /* main thread only: a thread was created */
  gboolean         joined;     /* main thread only: and joined */
  GMainContext    *context;    /* where the idle runs: the thread default of the creator */
  int              priority;
  GSourceFunc      deliver;
  gpointer         deliver_data;

  /* Under lock. */
  gboolean         stopped;    /* nothing more is delivered */
  GSource         *idle;       /* the scheduled idle source, or NULL */
} ScopeWorker;

/* deliver (deliver_data) runs on the thread-default main context of the caller, at priority,
 * each time the worker has scheduled results. */
void          scope_worker_init             (ScopeWorker      *self,
                                             int               priority,
                                             GSourceFunc       deliver,
                                             gpointer          deliver_data);
/* Releases the main context and destroys the lock; the thread must be joined already. */
void          scope_worker_clear            (ScopeWorker      *self);
/* Starts func (data) on a new thread; `what` names it in the error ("cannot start the WHAT
 * thread: reason"). */
gboolean      scope_worker_start            (ScopeWorker      *self,
                                             ScopeWorkerFunc   func,
                                             void             *data,
                                             const char       *what,
                                             GError          **error);
/* Sets the cancel flag and marks the worker stopped: nothing is delivered any more. */
void          scope_worker_request_stop     (ScopeWorker      *self);
/* Joins the thread (if one was started and not yet joined) and removes a scheduled idle. */
void          scope_worker_join             (ScopeWorker      *self);
/* The flag the worker's loop polls each step. */
atomic_int   *scope_worker_get_cancel       (ScopeWorker      *self);
void          scope_worker_lock             (ScopeWorker      *self);
void          scope_worker_unlock           (ScopeWorker      *self);
/* With the lock held: schedules the deliver idle unless one is pending or the worker stopped,
 * so pending results merge into one main-loop callback. */
void          scope_worker_schedule_locked  (ScopeWorker      *self);
/* First call of a deliver callback: takes the lock and forgets the idle; FALSE (lock released)
 * when the worker was stopped and nothing may be delivered. */
gboolean      scope_worker_begin_deliver    (ScopeWorker      *self);

G_END_DECLS
