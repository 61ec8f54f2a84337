/* SPDX-License-Identifier: MIT */
/* Model, context and raw float32 file handling for the PyTorch comparison helpers. */
#include "helper-io.h"

#include <stdio.h>

NnModel *
helper_load_model (const char *tool,
                   const char *path)
{
  NnError err = { 0 };
  NnModel *model = nn_model_load (path, &err);
  if (model == NULL)
    fprintf (stderr, "%s: %s\n", tool, err.message);
  return model;
}

NnContext *
helper_context_new (const char    *tool,
                    NnGraph       *graph,
                    int            batch,
                    unsigned       flags)
{
  NnError err = { 0 };
  NnContext *ctx = nn_context_new (graph, batch, flags, &err);
  if (ctx == NULL)
    fprintf (stderr, "%s: %s\n", tool, err.message);
  return ctx;
}

bool
helper_read_raw (const char *tool,
                 const char *path,
                 float      *out,
                 size_t      n)
{
  FILE *f = fopen (path, "rb");
  bool ok = f != NULL && fread (out, sizeof (float), n, f) == n;
  if (f != NULL)
    fclose (f);
  if (!ok)
    fprintf (stderr, "%s: cannot read %zu floats from %s\n", tool, n, path);
  return ok;
}

int
helper_write_raw (const char  *tool,
                  const char  *dir,
                  const char  *name,
                  const float *data,
                  size_t       n)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen (path, "wb");
  bool ok = f != NULL && fwrite (data, sizeof (float), n, f) == n;
  if (f != NULL && fclose (f) != 0)
    ok = false;
  if (!ok)
    fprintf (stderr, "%s: cannot write %s\n", tool, path);
  return ok ? 0 : 1;
}
