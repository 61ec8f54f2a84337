/* SPDX-License-Identifier: MIT */
/* cnnscope-cli eval: accuracy, mean cross-entropy, the confusion matrix and clinical metrics of
 * a model on the test split of a dataset; --merge sums the parts of a sharded run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"
#include "cli-volume.h"

static const char usage[] =
  "Usage: cnnscope-cli eval MODEL DATASET [--json] [--threads N] [--shard I/N] [--roc FIGURE]\n"
  "       cnnscope-cli eval --merge FILE... [--json] [--roc FIGURE]\n"
  "Evaluates MODEL on the test split of DATASET ('fashion-mnist', or an image folder; a folder\n"
  "with train/ and test/ inside is evaluated on test/), with the images fitted to the model\n"
  "input. Reports accuracy, mean cross-entropy loss, the sample count, the confusion matrix\n"
  "(rows: true class, columns: predicted class) and, per class (one vs the rest) and as macro\n"
  "means, accuracy, precision, sensitivity (recall), specificity and F1 with 95% Wilson\n"
  "intervals, and the ROC AUC of the class's log-odds. A CT model (one with a window) reads\n"
  "16-bit gray PNGs as HU + 1024 through its window.\n"
  "--shard I/N evaluates only part I of N of the test samples (contiguous blocks in the\n"
  "dataset's order); its JSON line then also gives shard, loss_sum and every sample's true\n"
  "class and scores, so that the parts add up to the whole run (n, loss_sum and confusion are\n"
  "sums). --merge reads the JSON lines of all N parts (any files, concatenated or not) and\n"
  "prints the whole run's results, metrics and AUC included, as eval without --shard.\n"
  "--roc FIGURE draws the ROC curve of each class against the rest with its AUC (.png, .svg\n"
  "or .pdf; --width x --height, default 700 x 600), not with --shard.\n";

enum
{
  OPT_JSON = CLI_OPT_BASE,
  OPT_THREADS,
  OPT_SHARD,
  OPT_MERGE,
  OPT_ROC,
};

static const struct option options[] = {
  { "json", no_argument, NULL, OPT_JSON },
  { "threads", required_argument, NULL, OPT_THREADS },
  { "shard", required_argument, NULL, OPT_SHARD },
  { "merge", no_argument, NULL, OPT_MERGE },
  { "roc", required_argument, NULL, OPT_ROC },
  CLI_FIGURE_OPTIONS,
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

#define EVAL_BATCH 64
/* The largest part file --merge reads. */
#define MERGE_MAX_BYTES ((size_t) 1 << 30)

/* A run's sums (one part, or all merged) and what the metrics need. */
typedef struct
{
  int    k;
  long   n;
  double loss_sum;
  long  *confusion;  /* k * k */
  float *scores;     /* n * k, NULL when not known */
  int   *truth;      /* n */
  char **names;      /* k class labels */
} EvalRun;

static void
eval_run_clear (EvalRun *run)
{
  for (int i = 0; run->names != NULL && i < run->k; i++)
    free (run->names[i]);
  free (run->names);
  free (run->confusion);
  free (run->scores);
  free (run->truth);
  memset (run, 0, sizeof *run);
}

static bool
eval_run_init (EvalRun *run,
               int      k,
               long     n)
{
  memset (run, 0, sizeof *run);
  run->k = k;
  run->confusion = calloc ((size_t) k * (size_t) k, sizeof (long));
  run->names = calloc ((size_t) k, sizeof (char *));
  run->scores = malloc ((size_t) (n > 0 ? n : 1) * (size_t) k * sizeof (float));
  run->truth = malloc ((size_t) (n > 0 ? n : 1) * sizeof (int));
  if (run->confusion == NULL || run->names == NULL || run->scores == NULL
      || run->truth == NULL)
    {
      eval_run_clear (run);
      return cli_fail (CLI_EXIT_FAILURE, "out of memory for %ld samples", n), false;
    }
  return true;
}

/* "12.34 [10.00, 15.00]" for a proportion in percent, "-" when undefined. */
static const char *
format_proportion (const NnProportion *p,
                   char               *buf,
                   size_t              size)
{
  if (isnan (p->value))
    snprintf (buf, size, "-");
  else if (isnan (p->lo))
    snprintf (buf, size, "%.1f", 100.0 * p->value);
  else
    snprintf (buf, size, "%.1f [%.1f,%.1f]", 100.0 * p->value, 100.0 * p->lo, 100.0 * p->hi);
  return buf;
}

static const char *
format_number (double v,
               char  *buf,
               size_t size)
{
  if (isnan (v))
    snprintf (buf, size, "-");
  else
    snprintf (buf, size, "%.4f", v);
  return buf;
}

static void
print_metrics_row (const char           *name,
                   int                   wl,
                   const NnClassMetrics *c)
{
  char a[48], p[48], se[48], sp[48], f1[16], auc[16];
  printf ("%-*.*s %6ld  %-18s %-18s %-18s %-18s %-7s %s\n", wl, wl, name, c->n,
          format_proportion (&c->accuracy, a, sizeof a),
          format_proportion (&c->precision, p, sizeof p),
          format_proportion (&c->sensitivity, se, sizeof se),
          format_proportion (&c->specificity, sp, sizeof sp),
          format_number (c->f1, f1, sizeof f1), format_number (c->auc, auc, sizeof auc));
}

static void
print_table (const EvalRun   *run,
             const NnMetrics *m)
{
  printf ("accuracy  %.2f%% (%ld of %ld; 95%% CI %.2f-%.2f%%)\n", 100.0 * m->accuracy.value,
          m->accuracy.num, m->accuracy.den, 100.0 * m->accuracy.lo, 100.0 * m->accuracy.hi);
  printf ("loss      %.4f\n\n", run->loss_sum / (double) run->n);
  int k = run->k;
  int wl = 9;
  for (int i = 0; i < k; i++)
    {
      int l = (int) strlen (run->names[i]);
      wl = l > wl ? l : wl;
    }
  wl = wl < 24 ? wl : 24;
  printf ("%-*s  ", wl, "true\\pred");
  for (int j = 0; j < k; j++)
    printf (" %6d", j);
  printf ("\n");
  for (int i = 0; i < k; i++)
    {
      printf ("%-*.*s  ", wl, wl, run->names[i]);
      for (int j = 0; j < k; j++)
        printf (" %6ld", run->confusion[i * k + j]);
      printf ("\n");
    }
  printf ("\nper class, one vs the rest (%%, 95%% Wilson interval):\n");
  printf ("%-*s %6s  %-18s %-18s %-18s %-18s %-7s %s\n", wl, "class", "n", "accuracy",
          "precision", "sensitivity", "specificity", "F1", "ROC AUC");
  for (int i = 0; i < k; i++)
    print_metrics_row (run->names[i], wl, &m->classes[i]);
  print_metrics_row ("macro", wl, &m->macro);
}

static void
add_number_or_null (cJSON      *obj,
                    const char *key,
                    double      v)
{
  if (isnan (v))
    cJSON_AddNullToObject (obj, key);
  else
    cJSON_AddNumberToObject (obj, key, v);
}

static void
add_proportion (cJSON              *obj,
                const char         *key,
                const NnProportion *p,
                bool                interval)
{
  if (!interval)
    {
      add_number_or_null (obj, key, p->value);
      return;
    }
  cJSON *o = cJSON_AddObjectToObject (obj, key);
  add_number_or_null (o, "value", p->value);
  add_number_or_null (o, "lo", p->lo);
  add_number_or_null (o, "hi", p->hi);
  cJSON_AddNumberToObject (o, "num", (double) p->num);
  cJSON_AddNumberToObject (o, "den", (double) p->den);
}

static cJSON *
class_json (const NnClassMetrics *c,
            const char           *label,
            bool                  interval)
{
  cJSON *o = cJSON_CreateObject ();
  if (label != NULL)
    cJSON_AddStringToObject (o, "label", label);
  if (interval)
    cJSON_AddNumberToObject (o, "n", (double) c->n);
  add_proportion (o, "accuracy", &c->accuracy, interval);
  add_proportion (o, "precision", &c->precision, interval);
  add_proportion (o, "sensitivity", &c->sensitivity, interval);
  add_proportion (o, "specificity", &c->specificity, interval);
  add_number_or_null (o, "f1", c->f1);
  add_number_or_null (o, "auc", c->auc);
  return o;
}

/* The run as one JSON line. A part (shard not NULL) also carries shard, loss_sum and each
 * sample's true class and scores, for --merge. */
static int
print_json (const EvalRun   *run,
            const NnMetrics *m,
            const char      *model_path,
            const char      *dataset,
            const CliShard  *shard,
            int              parts)
{
  cJSON *root = cJSON_CreateObject ();
  cJSON_AddStringToObject (root, "model", model_path);
  cJSON_AddStringToObject (root, "dataset", dataset);
  if (shard != NULL)
    {
      char text[32];
      snprintf (text, sizeof text, "%d/%d", shard->index, shard->count);
      cJSON_AddStringToObject (root, "shard", text);
      cJSON_AddNumberToObject (root, "loss_sum", run->loss_sum);
    }
  if (parts > 0)
    cJSON_AddNumberToObject (root, "parts", parts);
  cJSON_AddNumberToObject (root, "n", (double) run->n);
  cJSON_AddNumberToObject (root, "accuracy", m->accuracy.value);
  cJSON_AddNumberToObject (root, "loss", run->loss_sum / (double) run->n);
  cJSON *labels = cJSON_AddArrayToObject (root, "labels");
  for (int i = 0; i < run->k; i++)
    cJSON_AddItemToArray (labels, cJSON_CreateString (run->names[i]));
  cJSON *confusion = cJSON_AddArrayToObject (root, "confusion");
  for (int i = 0; i < run->k; i++)
    {
      cJSON *row = cJSON_CreateArray ();
      for (int j = 0; j < run->k; j++)
        cJSON_AddItemToArray (row, cJSON_CreateNumber ((double) run->confusion[i * run->k + j]));
      cJSON_AddItemToArray (confusion, row);
    }
  cJSON *metrics = cJSON_AddObjectToObject (root, "metrics");
  add_proportion (metrics, "accuracy", &m->accuracy, true);
  cJSON *classes = cJSON_AddArrayToObject (metrics, "classes");
  for (int i = 0; i < run->k; i++)
    cJSON_AddItemToArray (classes, class_json (&m->classes[i], run->names[i], true));
  cJSON_AddItemToObject (metrics, "macro", class_json (&m->macro, NULL, false));
  if (shard != NULL && run->scores != NULL)
    {
      cJSON_AddItemToObject (root, "truth", cJSON_CreateIntArray (run->truth, (int) run->n));
      cJSON *scores = cJSON_AddArrayToObject (root, "scores");
      for (long i = 0; i < run->n; i++)
        cJSON_AddItemToArray (scores, cJSON_CreateFloatArray (run->scores + i * run->k,
                                                              run->k));
    }
  return cli_print_json (root) ? 0 : CLI_EXIT_FAILURE;
}

/* --roc FIGURE and its size. */
typedef struct
{
  const char   *path;   /* NULL: no figure */
  CliFigureSize size;
} EvalRoc;

typedef struct
{
  VizRoc   roc;
  VizStyle style;
} RocFigure;

static void
draw_roc (cairo_t    *cr,
          const void *user_data,
          double      width,
          double      height)
{
  const RocFigure *fig = user_data;
  viz_roc_draw (cr, &fig->roc, &fig->style, width, height);
}

/* The ROC curve of each class against the rest from the run's scores, drawn to roc->path. */
static bool
write_roc (const EvalRun   *run,
           const NnMetrics *m,
           const char      *model_path,
           const char      *dataset,
           const EvalRoc   *roc)
{
  const int k = run->k;
  float **fpr = calloc ((size_t) k, sizeof *fpr), **tpr = calloc ((size_t) k, sizeof *tpr);
  long *n_points = calloc ((size_t) k, sizeof *n_points);
  double *auc = calloc ((size_t) k, sizeof *auc);
  float *column = malloc (sizeof (float) * (size_t) (run->n > 0 ? run->n : 1));
  unsigned char *positive = malloc ((size_t) (run->n > 0 ? run->n : 1));
  bool ok = fpr != NULL && tpr != NULL && n_points != NULL && auc != NULL && column != NULL
            && positive != NULL;
  NnError err = { 0 };
  if (!ok)
    cli_fail (CLI_EXIT_FAILURE, "out of memory");
  for (int c = 0; ok && c < k; c++)
    {
      for (long i = 0; i < run->n; i++)
        {
          column[i] = run->scores[i * k + c];
          positive[i] = run->truth[i] == c;
        }
      auc[c] = m->classes[c].auc;
      ok = nn_roc_curve (column, positive, run->n, &fpr[c], &tpr[c], &n_points[c], &err);
      if (!ok)
        cli_fail_error (CLI_EXIT_FAILURE, &err);
    }
  if (ok)
    {
      char name[128], title[512];
      snprintf (title, sizeof title, "ROC, each class against the rest: %s on %s, N = %ld "
                "(x: 1 - specificity, y: sensitivity)",
                viz_caption_file_name (name, sizeof name, model_path, false), dataset, run->n);
      RocFigure fig = {
        .roc = { k, (const float *const *) fpr, (const float *const *) tpr, n_points, auc,
                 (const char *const *) run->names, title },
      };
      viz_style_init (&fig.style);
      ok = viz_export (roc->path, draw_roc, &fig, roc->size.width, roc->size.height, &err);
      if (!ok)
        cli_fail_error (CLI_EXIT_FAILURE, &err);
    }
  for (int c = 0; c < k && fpr != NULL && tpr != NULL; c++)
    {
      free (fpr[c]);
      free (tpr[c]);
    }
  free (fpr);
  free (tpr);
  free (n_points);
  free (auc);
  free (column);
  free (positive);
  return ok;
}

/* Computes the metrics of run and prints them (and draws the ROC curves when asked). */
static int
report (const EvalRun  *run,
        bool            json,
        const char     *model_path,
        const char     *dataset,
        const CliShard *shard,
        int             parts,
        const EvalRoc  *roc)
{
  NnMetrics m;
  NnError err = { 0 };
  if (!nn_metrics_compute (run->confusion, run->k, run->scores, run->truth, run->n, &m, &err))
    return cli_fail_error (CLI_EXIT_FAILURE, &err);
  int status = 0;
  if (roc->path != NULL && !write_roc (run, &m, model_path != NULL ? model_path : "model",
                                       dataset != NULL ? dataset : "the data", roc))
    status = CLI_EXIT_FAILURE;
  else if (json)
    status = print_json (run, &m, model_path, dataset, shard, parts);
  else
    print_table (run, &m);
  nn_metrics_clear (&m);
  return status;
}

/* One JSON line of an 'eval --shard' part, with where it came from. */
typedef struct
{
  cJSON      *json;
  const char *file;
  int         line;
  int         index;
} EvalPart;

static const cJSON *
part_item (const EvalPart *part,
           const char     *key,
           bool            array)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (part->json, key);
  if (array ? !cJSON_IsArray (item) : !(cJSON_IsNumber (item) || cJSON_IsString (item)))
    {
      cli_fail (CLI_EXIT_FAILURE, "%s:%d: not a part of 'eval --shard --json' (no %s '%s')",
                part->file, part->line, array ? "array" : "value", key);
      return NULL;
    }
  return item;
}

/* Reads the lines of path into parts (grown as needed). */
static bool
read_parts (const char  *path,
            EvalPart   **parts,
            int         *count)
{
  NnError err = { 0 };
  size_t size;
  char *text = (char *) nn_file_load (path, MERGE_MAX_BYTES, "an eval part", &size, &err);
  if (text == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
  int line = 0;
  for (char *p = text, *next; p < text + size; p = next)
    {
      char *eol = memchr (p, '\n', (size_t) (text + size - p));
      next = eol != NULL ? eol + 1 : text + size;
      if (eol != NULL)
        *eol = '\0';
      line++;
      if (strspn (p, " \t\r") == strlen (p))
        continue;
      cJSON *json = cJSON_Parse (p);
      if (!cJSON_IsObject (json))
        {
          cJSON_Delete (json);
          free (text);
          return cli_fail (CLI_EXIT_FAILURE, "%s:%d: not a JSON line", path, line), false;
        }
      EvalPart *grown = realloc (*parts, (size_t) (*count + 1) * sizeof **parts);
      if (grown == NULL)
        {
          cJSON_Delete (json);
          free (text);
          return cli_fail (CLI_EXIT_FAILURE, "out of memory reading %s", path), false;
        }
      *parts = grown;
      (*parts)[(*count)++] = (EvalPart) { json, path, line, -1 };
    }
  free (text);
  return true;
}

/* Checks part against the first (k classes, N parts, labels, model) and adds it to run. */
static bool
add_part (EvalRun        *run,
          long           *filled,
          const EvalPart *part,
          const EvalPart *first)
{
  const cJSON *confusion = part_item (part, "confusion", true);
  const cJSON *truth = part_item (part, "truth", true);
  const cJSON *scores = part_item (part, "scores", true);
  const cJSON *n = part_item (part, "n", false), *loss = part_item (part, "loss_sum", false);
  if (confusion == NULL || truth == NULL || scores == NULL || n == NULL || loss == NULL)
    return false;
  int k = run->k;
  long count = (long) n->valuedouble;
  if (cJSON_GetArraySize (confusion) != k || cJSON_GetArraySize (truth) != count
      || cJSON_GetArraySize (scores) != count || *filled + count > run->n)
    return cli_fail (CLI_EXIT_FAILURE, "%s:%d: the confusion matrix, truth or scores do not "
                     "match n = %ld and %d classes", part->file, part->line, count, k), false;
  const char *model = cJSON_GetStringValue (cJSON_GetObjectItem (part->json, "model"));
  const char *model0 = cJSON_GetStringValue (cJSON_GetObjectItem (first->json, "model"));
  if (model == NULL || model0 == NULL || strcmp (model, model0) != 0)
    return cli_fail (CLI_EXIT_FAILURE, "%s:%d: a part of another model (%s, not %s)",
                     part->file, part->line, model ? model : "none", model0), false;
  const cJSON *labels = cJSON_GetObjectItem (part->json, "labels");
  for (int i = 0; i < k; i++)
    {
      const char *l = cJSON_GetStringValue (cJSON_GetArrayItem (labels, i));
      if (l == NULL || strcmp (l, run->names[i]) != 0)
        return cli_fail (CLI_EXIT_FAILURE, "%s:%d: class %d is '%s', not '%s' as in %s:%d",
                         part->file, part->line, i, l ? l : "", run->names[i], first->file,
                         first->line), false;
      const cJSON *row = cJSON_GetArrayItem (confusion, i);
      if (cJSON_GetArraySize (row) != k)
        return cli_fail (CLI_EXIT_FAILURE, "%s:%d: confusion row %d is not %d long",
                         part->file, part->line, i, k), false;
      for (int j = 0; j < k; j++)
        run->confusion[i * k + j] += (long) cJSON_GetArrayItem (row, j)->valuedouble;
    }
  run->loss_sum += loss->valuedouble;
  const cJSON *t = truth->child, *row = scores->child;
  for (long i = 0; i < count; i++, t = t->next, row = row->next)
    {
      int label = (int) t->valuedouble;
      if (label < 0 || label >= k || cJSON_GetArraySize (row) != k)
        return cli_fail (CLI_EXIT_FAILURE, "%s:%d: sample %ld has a bad class or scores",
                         part->file, part->line, i), false;
      run->truth[*filled] = label;
      const cJSON *v = row->child;
      for (int c = 0; c < k; c++, v = v->next)
        run->scores[*filled * k + c] = (float) v->valuedouble;
      (*filled)++;
    }
  return true;
}

/* eval --merge FILE...: sums the parts of a sharded run and reports the whole. */
static int
merge_main (char          **files,
            int             n_files,
            bool            json,
            const EvalRoc  *roc)
{
  EvalPart *parts = NULL;
  int count = 0, status = CLI_EXIT_FAILURE, n_shards = 0;
  EvalRun run = { 0 };
  bool *seen = NULL;
  for (int f = 0; f < n_files; f++)
    if (!read_parts (files[f], &parts, &count))
      goto done;
  if (count == 0)
    {
      cli_fail (CLI_EXIT_FAILURE, "eval --merge: the files hold no parts");
      goto done;
    }
  long total = 0;
  for (int p = 0; p < count; p++)
    {
      const cJSON *shard = part_item (&parts[p], "shard", false);
      const cJSON *n = part_item (&parts[p], "n", false);
      int index, of;
      char extra;
      if (shard == NULL || n == NULL)
        goto done;
      if (!cJSON_IsString (shard)
          || sscanf (shard->valuestring, "%d/%d%c", &index, &of, &extra) != 2 || of < 1
          || index < 0 || index >= of || (p > 0 && of != n_shards) || n->valuedouble < 1)
        {
          cli_fail (CLI_EXIT_FAILURE, "%s:%d: shard '%s' is not one of the %d parts of the "
                    "other lines", parts[p].file, parts[p].line,
                    cJSON_IsString (shard) ? shard->valuestring : "", n_shards);
          goto done;
        }
      n_shards = of;
      parts[p].index = index;
      total += (long) n->valuedouble;
    }
  seen = calloc ((size_t) n_shards, sizeof *seen);
  const cJSON *labels = part_item (&parts[0], "labels", true);
  if (seen == NULL || labels == NULL || cJSON_GetArraySize (labels) < 1
      || !eval_run_init (&run, cJSON_GetArraySize (labels), total))
    goto done;
  run.n = total;
  for (int i = 0; i < run.k; i++)
    {
      const char *l = cJSON_GetStringValue (cJSON_GetArrayItem (labels, i));
      run.names[i] = strdup (l != NULL ? l : "");
      if (run.names[i] == NULL)
        {
          cli_fail (CLI_EXIT_FAILURE, "out of memory");
          goto done;
        }
    }
  long filled = 0;
  for (int p = 0; p < count; p++)
    {
      if (seen[parts[p].index])
        {
          cli_fail (CLI_EXIT_FAILURE, "%s:%d: part %d/%d appears twice", parts[p].file,
                    parts[p].line, parts[p].index, n_shards);
          goto done;
        }
      seen[parts[p].index] = true;
      if (!add_part (&run, &filled, &parts[p], &parts[0]))
        goto done;
    }
  for (int i = 0; i < n_shards; i++)
    if (!seen[i])
      {
        cli_fail (CLI_EXIT_FAILURE, "eval --merge: part %d/%d is missing", i, n_shards);
        goto done;
      }
  status = report (&run, json,
                   cJSON_GetStringValue (cJSON_GetObjectItem (parts[0].json, "model")),
                   cJSON_GetStringValue (cJSON_GetObjectItem (parts[0].json, "dataset")), NULL,
                   n_shards, roc);

done:
  for (int p = 0; p < count; p++)
    cJSON_Delete (parts[p].json);
  free (parts);
  free (seen);
  eval_run_clear (&run);
  return status;
}

int
cli_eval_main (int    argc,
               char **argv)
{
  bool json = false, merge = false;
  int threads = 0;
  EvalRoc roc = { .path = NULL, .size = { 700, 600 } };
  CliShard shard = CLI_SHARD_NONE;
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    switch (c)
      {
      case OPT_JSON:
        json = true;
        break;
      case OPT_THREADS:
        if (!cli_parse_int ("threads", optarg, 1, 1024, &threads))
          return CLI_EXIT_USAGE;
        break;
      case OPT_SHARD:
        if (!cli_shard_parse ("shard", optarg, &shard))
          return CLI_EXIT_USAGE;
        break;
      case OPT_MERGE:
        merge = true;
        break;
      case OPT_ROC:
        roc.path = optarg;
        break;
      case CLI_OPT_FIGURE_WIDTH:
      case CLI_OPT_FIGURE_HEIGHT:
        if (!cli_parse_figure_size (c, optarg, &roc.size))
          return CLI_EXIT_USAGE;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return CLI_EXIT_USAGE;
      }
  if (merge)
    {
      if (argc - optind < 1)
        return cli_fail (CLI_EXIT_USAGE, "eval --merge: expected the files of the parts");
      if (shard.count > 1)
        return cli_fail (CLI_EXIT_USAGE, "eval: --merge and --shard do not go together");
      return merge_main (argv + optind, argc - optind, json, &roc);
    }
  if (roc.path != NULL && shard.count > 1)
    return cli_fail (CLI_EXIT_USAGE, "eval: --roc draws a whole run; give it to eval --merge, "
                     "not to one --shard part");
  if (argc - optind != 2)
    return cli_fail (CLI_EXIT_USAGE, "eval: expected MODEL and DATASET (see 'cnnscope-cli eval "
                     "--help')");
  cli_set_threads (threads);
  const char *model_path = argv[optind], *dataset = argv[optind + 1];
  NnModel *model = cli_load_model (model_path);
  if (model == NULL)
    return CLI_EXIT_FAILURE;

  int status = CLI_EXIT_FAILURE;
  NnError err = { 0 };
  NnDataset *ds = NULL;
  NnEvalResult result = { 0 };
  EvalRun run = { 0 };
  int ic = nn_model_input_channels (model);
  if (ic != 1 && ic != 3)
    {
      cli_fail (CLI_EXIT_FAILURE, "%s: the model takes %d input channels; datasets give 1 or 3",
                model_path, ic);
      goto done;
    }
  ds = nn_dataset_open (dataset, false, ic, nn_model_input_height (model),
                        nn_model_input_width (model), &err);
  if (ds == NULL)
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  /* A CT model reads 16-bit PNGs as HU through its own window. */
  if (model->has_window && ds->ct16)
    nn_dataset_apply_ct_window (ds, &model->window);
  if (ds->n_classes > model->n_classes)
    {
      cli_fail (CLI_EXIT_FAILURE, "%s has %d classes but %s only %d", dataset, ds->n_classes,
                model_path, model->n_classes);
      goto done;
    }
  /* The shard's block of samples, as a view into the dataset. */
  int begin, end;
  cli_shard_range (&shard, ds->n, &begin, &end);
  NnDataset part = *ds;
  part.n = end - begin;
  part.images += (size_t) begin * (size_t) ds->c * (size_t) ds->h * (size_t) ds->w;
  part.labels += begin;
  if (part.n == 0)
    {
      cli_fail (CLI_EXIT_FAILURE, "%s: shard %d/%d of %d test samples is empty", dataset,
                shard.index, shard.count, ds->n);
      goto done;
    }
  if (!nn_evaluate (model, &part, EVAL_BATCH, &result, NULL, &err))
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  if (!eval_run_init (&run, result.n_classes, result.n))
    goto done;
  run.n = result.n;
  run.loss_sum = result.loss * result.n;
  for (int i = 0; i < run.k * run.k; i++)
    run.confusion[i] = result.confusion[i];
  memcpy (run.scores, result.scores, (size_t) run.n * (size_t) run.k * sizeof (float));
  memcpy (run.truth, result.labels, (size_t) run.n * sizeof (int));
  for (int i = 0; i < run.k; i++)
    {
      char buf[16];
      run.names[i] = strdup (cli_label (model, i, buf, sizeof buf));
      if (run.names[i] == NULL)
        {
          cli_fail (CLI_EXIT_FAILURE, "out of memory");
          goto done;
        }
    }
  status = report (&run, json, model_path, dataset, shard.count > 1 ? &shard : NULL, 0, &roc);

done:
  eval_run_clear (&run);
  nn_eval_result_clear (&result);
  nn_dataset_free (ds);
  nn_model_free (model);
  return status;
}
