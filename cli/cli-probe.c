/* SPDX-License-Identifier: MIT */
/* The probes of cnnscope-cli train: loading them, explaining them during the run, and their
 * PNGs and JSON lines. */
#include "cli-probe.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli-common.h"

#define PROBE_PNG_W 360
#define PROBE_PNG_H 300

struct CliProbes
{
  int       n;
  NnInput **inputs;
  char    **names;      /* file name without folder and extension */
  char     *dir;
  long      every;
  long      last_step;  /* the step written last, 0 before */
  char     *lines;      /* every JSON line so far, rewritten whole into probes.jsonl */
  size_t    len, cap;
};

void
cli_probes_free (CliProbes *probes)
{
  if (probes == NULL)
    return;
  for (int i = 0; i < probes->n; i++)
    {
      nn_input_unref (probes->inputs[i]);
      free (probes->names[i]);
    }
  free (probes->inputs);
  free (probes->names);
  free (probes->dir);
  free (probes->lines);
  free (probes);
}

/* The base name of path without its extension; NULL when out of memory. */
static char *
stem_of (const char *path)
{
  const char *slash = strrchr (path, '/');
  const char *base = slash != NULL ? slash + 1 : path;
  const char *dot = strrchr (base, '.');
  size_t n = dot != NULL && dot != base ? (size_t) (dot - base) : strlen (base);
  char *stem = malloc (n + 1);
  if (stem != NULL)
    {
      memcpy (stem, base, n);
      stem[n] = '\0';
    }
  return stem;
}

CliProbes *
cli_probes_new (const NnModel *model,
                const char    *list,
                const char    *dir,
                long           every)
{
  NN_ASSERT (model != NULL && list != NULL && dir != NULL && every >= 1);

  if (access (dir, W_OK | X_OK) != 0)
    {
      cli_fail (CLI_EXIT_FAILURE, "--probe-out %s: cannot write into it: %s", dir,
                strerror (errno));
      return NULL;
    }
  CliProbes *probes = calloc (1, sizeof *probes);
  char *copy = strdup (list);
  int max = 1;
  for (const char *p = list; *p != '\0'; p++)
    max += *p == ',';
  if (probes == NULL || copy == NULL
      || (probes->inputs = calloc ((size_t) max, sizeof *probes->inputs)) == NULL
      || (probes->names = calloc ((size_t) max, sizeof *probes->names)) == NULL
      || (probes->dir = strdup (dir)) == NULL)
    {
      free (copy);
      cli_probes_free (probes);
      cli_fail (CLI_EXIT_FAILURE, "out of memory");
      return NULL;
    }
  probes->every = every;
  char *save = NULL;
  for (char *path = strtok_r (copy, ",", &save); path != NULL; path = strtok_r (NULL, ",", &save))
    {
      NnInput *in = cli_load_input (model, path, NULL);
      if (in == NULL)
        {
          free (copy);
          cli_probes_free (probes);
          return NULL;
        }
      probes->inputs[probes->n] = in;
      probes->names[probes->n] = stem_of (path);
      if (probes->names[probes->n++] == NULL)
        {
          free (copy);
          cli_probes_free (probes);
          cli_fail (CLI_EXIT_FAILURE, "out of memory");
          return NULL;
        }
    }
  free (copy);
  if (probes->n == 0)
    {
      cli_probes_free (probes);
      cli_fail (CLI_EXIT_USAGE, "--probe: no image given");
      return NULL;
    }
  return probes;
}

bool
cli_probes_due (const CliProbes *probes,
                long             step,
                bool             epoch_done)
{
  if (probes == NULL || step == probes->last_step)
    return false;
  return epoch_done || step % probes->every == 0;
}

typedef struct
{
  const VizProbe *probe;
} ProbeFigure;

static void
draw_probe (cairo_t    *cr,
            const void *user_data,
            double      width,
            double      height)
{
  VizStyle style;
  viz_style_init (&style);
  viz_probe_draw (cr, ((const ProbeFigure *) user_data)->probe, &style, width, height);
}

static bool
append_line (CliProbes  *probes,
             const char *line,
             NnError    *err)
{
  size_t n = strlen (line);
  if (probes->len + n + 2 > probes->cap)
    {
      size_t cap = (probes->cap + n + 2) * 2;
      char *grown = realloc (probes->lines, cap);
      if (grown == NULL)
        return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
      probes->lines = grown;
      probes->cap = cap;
    }
  memcpy (probes->lines + probes->len, line, n);
  probes->len += n;
  probes->lines[probes->len++] = '\n';
  probes->lines[probes->len] = '\0';
  return true;
}

/* probes.jsonl with every line so far, replacing the previous file at once. */
static bool
write_lines (CliProbes *probes,
             NnError   *err)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/probes.jsonl", probes->dir);
  NnAtomicFile file;
  if (!nn_atomic_file_open (&file, path, err))
    return false;
  bool ok = fwrite (probes->lines, 1, probes->len, file.fp) == probes->len;
  if (!ok)
    nn_error_set (err, NN_ERROR_IO, "%s: cannot write: %s", path,
                  strerror (nn_atomic_file_error (&file)));
  return nn_atomic_file_finish (&file, ok, err);
}

/* Probe i explained at the current weights: its PNG and its JSON line. */
static bool
write_probe (CliProbes     *probes,
             int            i,
             const NnModel *model,
             long           step,
             int            epoch,
             NnError       *err)
{
  const NnInput *in = probes->inputs[i];
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.faith.metrics = 0;
  spec.threads = 0;
  NnExplanation *e = nn_explain_run (model, in, &spec, NULL, err);
  if (e == NULL)
    return false;
  const NnMap *map = e->map;
  char label[64], title[160], subtitle[96], path[4096];
  const char *name = cli_label (model, map->target, label, sizeof label);
  snprintf (title, sizeof title, "%s: %s %.1f %%", probes->names[i], name,
            100.0 * (double) e->probability);
  snprintf (subtitle, sizeof subtitle, "Grad-CAM, step %ld, epoch %d", step, epoch + 1);
  snprintf (path, sizeof path, "%s/p%d-%s-step%06ld.png", probes->dir, i + 1, probes->names[i],
            step);
  VizColormap cm;
  viz_heatmap_colormap_init (&cm, map->map, (size_t) map->h * (size_t) map->w, false, 0.0);
  VizProbe probe = {
    .heatmap = { .image = in->display, .c = in->c, .map = map->map, .h = map->h, .w = map->w,
                 .colormap = &cm, .opacity = 0.5 },
    .title = title,
    .subtitle = subtitle,
  };
  ProbeFigure fig = { &probe };
  bool ok = viz_export_png (path, draw_probe, &fig, PROBE_PNG_W, PROBE_PNG_H, err);

  cJSON *line = ok ? cJSON_CreateObject () : NULL;
  if (line != NULL)
    {
      cJSON_AddNumberToObject (line, "step", (double) step);
      cJSON_AddNumberToObject (line, "epoch", epoch + 1);
      cJSON_AddStringToObject (line, "probe", in->path);
      cJSON_AddStringToObject (line, "png", path);
      cJSON_AddNumberToObject (line, "class", map->target);
      cJSON_AddStringToObject (line, "label", name);
      cJSON *probs = cJSON_AddArrayToObject (line, "probabilities");
      float *p = map->logits != NULL ? malloc (sizeof (float) * (size_t) map->classes) : NULL;
      if (p != NULL)
        {
          nn_explain_probabilities (p, map->logits, model->graph);
          for (int k = 0; k < map->classes; k++)
            cJSON_AddItemToArray (probs, cJSON_CreateNumber ((double) p[k]));
        }
      free (p);
      char *text = cJSON_PrintUnformatted (line);
      ok = text != NULL && append_line (probes, text, err);
      if (text == NULL)
        nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
      free (text);
      cJSON_Delete (line);
    }
  else if (ok)
    ok = nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  nn_explanation_free (e);
  return ok;
}

bool
cli_probes_write (CliProbes     *probes,
                  const NnModel *model,
                  long           step,
                  int            epoch,
                  NnError       *err)
{
  NN_ASSERT (probes != NULL && model != NULL);

  probes->last_step = step;
  for (int i = 0; i < probes->n; i++)
    if (!write_probe (probes, i, model, step, epoch, err))
      return false;
  return write_lines (probes, err);
}
