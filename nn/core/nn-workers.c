/* SPDX-License-Identifier: MIT */
/* NnWorkers: persistent pthreads woken by a generation counter under one mutex. A member spins
 * briefly on the counter before it sleeps: a graph's ops come a few dozen microseconds apart,
 * and waking a sleeping thread costs about as much. */
#include "core/nn-workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/nn-error.h"

typedef struct
{
  NnWorkers *workers;
  int        index;
} Member;

struct NnWorkers
{
  int             n;
  pthread_t      *threads;
  Member         *members;
  pthread_mutex_t lock;
  pthread_cond_t  start;
  pthread_cond_t  done;
  atomic_ulong    generation;  /* bumped (under the lock) for every job */
  atomic_int      pending;     /* members still running the current job */
  atomic_bool     quit;
  NnWorkFunc      fn;
  void           *data;
};

/* Polls before sleeping: about 100 microseconds. */
#define SPIN_ROUNDS 4096

static inline void
spin_pause (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

static void *
member_main (void *arg)
{
  Member *m = arg;
  NnWorkers *w = m->workers;
  unsigned long seen = 0;
  for (;;)
    {
      for (int i = 0; i < SPIN_ROUNDS && atomic_load (&w->generation) == seen
                      && !atomic_load (&w->quit); i++)
        spin_pause ();
      pthread_mutex_lock (&w->lock);
      while (!atomic_load (&w->quit) && atomic_load (&w->generation) == seen)
        pthread_cond_wait (&w->start, &w->lock);
      if (atomic_load (&w->quit))
        {
          pthread_mutex_unlock (&w->lock);
          break;
        }
      seen = atomic_load (&w->generation);
      NnWorkFunc fn = w->fn;
      void *data = w->data;
      pthread_mutex_unlock (&w->lock);
      fn (data, m->index, w->n);
      if (atomic_fetch_sub (&w->pending, 1) == 1)
        {
          /* under the lock, so that the caller cannot miss it between its test and its wait */
          pthread_mutex_lock (&w->lock);
          pthread_cond_signal (&w->done);
          pthread_mutex_unlock (&w->lock);
        }
    }
  return NULL;
}

NnWorkers *
nn_workers_new (int n)
{
  NN_ASSERT (n >= 1);
  NnWorkers *w = calloc (1, sizeof *w);
  if (w == NULL)
    return NULL;
  w->n = n;
  w->threads = calloc ((size_t) n, sizeof *w->threads);
  w->members = calloc ((size_t) n, sizeof *w->members);
  if (w->threads == NULL || w->members == NULL)
    {
      free (w->threads);
      free (w->members);
      free (w);
      return NULL;
    }
  atomic_init (&w->generation, 0);
  atomic_init (&w->pending, 0);
  atomic_init (&w->quit, false);
  pthread_mutex_init (&w->lock, NULL);
  pthread_cond_init (&w->start, NULL);
  pthread_cond_init (&w->done, NULL);
  for (int i = 1; i < n; i++)
    {
      w->members[i] = (Member) { w, i };
      if (pthread_create (&w->threads[i], NULL, member_main, &w->members[i]) != 0)
        {
          w->n = i;
          nn_workers_free (w);
          return NULL;
        }
    }
  return w;
}

void
nn_workers_free (NnWorkers *workers)
{
  if (workers == NULL)
    return;
  pthread_mutex_lock (&workers->lock);
  atomic_store (&workers->quit, true);
  pthread_cond_broadcast (&workers->start);
  pthread_mutex_unlock (&workers->lock);
  for (int i = 1; i < workers->n; i++)
    pthread_join (workers->threads[i], NULL);
  pthread_mutex_destroy (&workers->lock);
  pthread_cond_destroy (&workers->start);
  pthread_cond_destroy (&workers->done);
  free (workers->threads);
  free (workers->members);
  free (workers);
}

void
nn_workers_run (NnWorkers  *workers,
                NnWorkFunc  fn,
                void       *data)
{
  if (workers->n == 1)
    {
      fn (data, 0, 1);
      return;
    }
  pthread_mutex_lock (&workers->lock);
  workers->fn = fn;
  workers->data = data;
  atomic_store (&workers->pending, workers->n - 1);
  atomic_fetch_add (&workers->generation, 1);
  pthread_cond_broadcast (&workers->start);
  pthread_mutex_unlock (&workers->lock);

  fn (data, 0, workers->n);

  for (int i = 0; i < SPIN_ROUNDS && atomic_load (&workers->pending) > 0; i++)
    spin_pause ();
  if (atomic_load (&workers->pending) > 0)
    {
      pthread_mutex_lock (&workers->lock);
      while (atomic_load (&workers->pending) > 0)
        pthread_cond_wait (&workers->done, &workers->lock);
      pthread_mutex_unlock (&workers->lock);
    }
}
