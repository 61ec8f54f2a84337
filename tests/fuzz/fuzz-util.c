/* SPDX-License-Identifier: MIT */
/* Scratch files, the error contract and a bounded forward pass for the fuzz harnesses. */
#include "fuzz-util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A model runs only when the sum of its nodes' output sizes (floats per sample) times its
 * parameter count stays below this: no node then does more multiply-adds, and a forward pass
 * takes well under a second even under the sanitizers. */
#define FORWARD_MAX_WORK ((size_t) 1 << 28)

static char scratch[4096];

static void
fail (const char *what,
      const char *path)
{
  fprintf (stderr, "fuzz harness: %s %s: %s\n", what, path, strerror (errno));
  abort ();
}

static void
scratch_remove (void)
{
  fuzz_remove_tree (scratch);
}

void
fuzz_path (char       *buf,
           size_t      size,
           const char *name)
{
  if (scratch[0] == '\0')
    {
      const char *tmp = getenv ("TMPDIR");
      snprintf (scratch, sizeof scratch, "%s/cnnscope-fuzz-XXXXXX",
                tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
      if (mkdtemp (scratch) == NULL)
        fail ("cannot make", scratch);
      atexit (scratch_remove);
    }
  if ((size_t) snprintf (buf, size, "%s/%s", scratch, name) >= size)
    {
      fprintf (stderr, "fuzz harness: path %s/%s is too long\n", scratch, name);
      abort ();
    }
}

void
fuzz_write (const char *path,
            const void *data,
            size_t      size)
{
  /* A new file each time: ext4 flushes a file truncated and rewritten when it is closed,
   * which would cost milliseconds per input. */
  if (unlink (path) != 0 && errno != ENOENT)
    fail ("cannot remove", path);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    fail ("cannot create", path);
  const unsigned char *p = data;
  while (size > 0)
    {
      ssize_t n = write (fd, p, size);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        fail ("cannot write", path);
      p += n;
      size -= (size_t) n;
    }
  if (close (fd) != 0)
    fail ("cannot close", path);
}

static int
remove_entry (const char        *path,
              const struct stat *st,
              int                flag,
              struct FTW        *ftw)
{
  (void) st;
  (void) flag;
  (void) ftw;
  remove (path);
  return 0;
}

void
fuzz_remove_tree (const char *path)
{
  nftw (path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void
fuzz_check_error (const NnError *err,
                  const char    *what)
{
  if (err->code != NN_ERROR_NONE && err->message[0] != '\0')
    return;
  fprintf (stderr, "fuzz harness: %s failed without %s\n", what,
           err->code == NN_ERROR_NONE ? "an error code" : "a message");
  abort ();
}

void
fuzz_forward (const NnModel *model)
{
  NnGraph *graph = model->graph;
  size_t params = graph->n_data > 0 ? graph->n_data : 1;
  size_t values = 0;
  for (int i = 0; i < graph->n_nodes; i++)
    {
      NnShape s = graph->nodes[i].shape;
      values += (size_t) s.c * (size_t) s.h * (size_t) s.w;
      if (values > FORWARD_MAX_WORK / params)
        return;
    }
  NnError err = { 0 };
  NnContext *ctx = nn_context_new (graph, 1, 0, &err);
  if (ctx == NULL)
    {
      fuzz_check_error (&err, "nn_context_new");
      return;
    }
  NnShape in = graph->nodes[0].shape;
  memset (nn_context_input (ctx), 0, (size_t) in.c * in.h * in.w * sizeof (float));
  nn_context_forward (ctx, -1);
  nn_context_free (ctx);
}
