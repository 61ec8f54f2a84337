/* SPDX-License-Identifier: MIT */
/* NnWorkers: persistent pthreads woken by a generation counter under one mutex. */
#include "nn-workers.h"

#include <pthread.h>
#include <stdlib.h>

#include "nn-error.h"

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
  unsigned long   generation;  /* bumped for every job */
  int             pending;     /* members still running the current job */
  bool            quit;
  NnWorkFunc      fn;
  void           *data;
};

static void *
member_main (void *arg)
{
  Member *m = arg;
  NnWorkers *w = m->workers;
  unsigned long seen = 0;
  pthread_mutex_lock (&w->lock);
  for (;;)
    {
      while (!w->quit && w->generation == seen)
        pthread_cond_wait (&w->start, &w->lock);
      if (w->quit)
        break;
      seen = w->generation;
      NnWorkFunc fn = w->fn;
      void *data = w->data;
      pthread_mutex_unlock (&w->lock);
      fn (data, m->index, w->n);
      pthread_mutex_lock (&w->lock);
      if (--w->pending == 0)
        pthread_cond_signal (&w->done);
    }
  pthread_mutex_unlock (&w->lock);
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
  workers->quit = true;
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

int
nn_workers_get_count (const NnWorkers *workers)
{
  return workers->n;
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
  workers->pending = workers->n - 1;
  workers->generation++;
  pthread_cond_broadcast (&workers->start);
  pthread_mutex_unlock (&workers->lock);

  fn (data, 0, workers->n);

  pthread_mutex_lock (&workers->lock);
  while (workers->pending > 0)
    pthread_cond_wait (&workers->done, &workers->lock);
  pthread_mutex_unlock (&workers->lock);
}
