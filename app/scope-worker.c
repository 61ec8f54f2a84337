/* SPDX-License-Identifier: MIT */
/* ScopeWorker: where the threads of app/ meet (the engine, and the jobs for training,
 * activation maximization and explanations). Shared state is under a pthread mutex, which
 * ThreadSanitizer understands; at most one idle is scheduled at a time, and none after a stop. */
#include "scope-worker.h"

#include <gio/gio.h>
#include <string.h>

/* Main thread: the idle runs on the thread-default main context of the caller. */
void
scope_worker_init (ScopeWorker *self,
                   int          priority,
                   GSourceFunc  deliver,
                   gpointer     deliver_data)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (deliver != NULL);

  memset (self, 0, sizeof *self);
  pthread_mutex_init (&self->lock, NULL);
  atomic_init (&self->cancel, 0);
  self->context = g_main_context_ref_thread_default ();
  self->priority = priority;
  self->deliver = deliver;
  self->deliver_data = deliver_data;
}

/* After the thread was joined. */
void
scope_worker_clear (ScopeWorker *self)
{
  g_return_if_fail (self != NULL);

  g_clear_pointer (&self->context, g_main_context_unref);
  pthread_mutex_destroy (&self->lock);
}

gboolean
scope_worker_start (ScopeWorker      *self,
                    ScopeWorkerFunc   func,
                    void             *data,
                    const char       *what,
                    GError          **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);

  int rc = pthread_create (&self->thread, NULL, func, data);
  if (rc != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (rc),
                   "cannot start the %s thread: %s", what, g_strerror (rc));
      return FALSE;
    }
  self->started = TRUE;
  self->joined = FALSE;
  return TRUE;
}

/* Sets the cancel flag and stops deliveries; the worker may still run until joined. */
void
scope_worker_request_stop (ScopeWorker *self)
{
  g_return_if_fail (self != NULL);

  atomic_store (&self->cancel, 1);
  pthread_mutex_lock (&self->lock);
  self->stopped = TRUE;
  pthread_mutex_unlock (&self->lock);
}

/* Main thread, after scope_worker_request_stop: waits for the worker and drops the scheduled
 * idle (it runs on this thread, so it is not running now). */
void
scope_worker_join (ScopeWorker *self)
{
  g_return_if_fail (self != NULL);

  if (self->started && !self->joined)
    {
      pthread_join (self->thread, NULL);
      self->joined = TRUE;
    }
  pthread_mutex_lock (&self->lock);
  if (self->idle != NULL)
    {
      g_source_destroy (self->idle);
      g_clear_pointer (&self->idle, g_source_unref);
    }
  pthread_mutex_unlock (&self->lock);
}

atomic_int *
scope_worker_get_cancel (ScopeWorker *self)
{
  return &self->cancel;
}

void
scope_worker_lock (ScopeWorker *self)
{
  pthread_mutex_lock (&self->lock);
}

void
scope_worker_unlock (ScopeWorker *self)
{
  pthread_mutex_unlock (&self->lock);
}

/* Under lock: schedules the deliver callback unless it is scheduled or the worker stopped. */
void
scope_worker_schedule_locked (ScopeWorker *self)
{
  if (self->idle != NULL || self->stopped)
    return;
  self->idle = g_idle_source_new ();
  g_source_set_priority (self->idle, self->priority);
  g_source_set_callback (self->idle, self->deliver, self->deliver_data, NULL);
  g_source_attach (self->idle, self->context);
}

/* Main context, first thing in the deliver callback: takes the lock and forgets the idle.
 * TRUE with the lock held; FALSE (unlocked) when nothing is to be delivered any more. */
gboolean
scope_worker_begin_deliver (ScopeWorker *self)
{
  pthread_mutex_lock (&self->lock);
  g_clear_pointer (&self->idle, g_source_unref);
  if (self->stopped)
    {
      pthread_mutex_unlock (&self->lock);
      return FALSE;
    }
  return TRUE;
}
