/* SPDX-License-Identifier: MIT */
/* cnnscope-cli predict: the top-K classes with their probabilities for each input, and
 * optionally the raw logits as .npy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli-commands.h"
#include "cli-common.h"
#include "cli-inputs.h"
#include "cli-volume.h"

static const char usage[] =
  "Usage: cnnscope-cli predict MODEL INPUT... [--top K] [--logits-npy FILE] [--json | --jsonl]\n"
  "         [--shard I/N] [--series UID] [--files]\n"
  "Classifies each INPUT (.png, .jpg, .jpeg, .dcm, or .npy: float32 (C,H,W) or (1,C,H,W),\n"
  "already normalized, the model's exact input shape) and prints the K most likely classes\n"
  "(default 5). --logits-npy writes the logits of all inputs as a float32 (N, classes) array.\n"
  "A CT model (one with a window, see 'info') reads DICOM and 16-bit PNG (HU + 1024) as HU\n"
  "through its window, and 8-bit PNG/JPEG as already windowed.\n"
  "A folder INPUT stands for every image, DICOM slice and .npy under it (sorted). A single\n"
  "volume INPUT (.nii, .nii.gz, or a folder of one DICOM series; --series UID picks one of\n"
  "several, --files reads such a folder as separate slices) is classified slice by slice\n"
  "along z, one JSON line per slice (slice, z_mm, top). --jsonl prints one JSON line per\n"
  "input. --shard I/N classifies only part I of N (contiguous blocks of the inputs, or of the\n"
  "slices): the outputs of parts 0 to N-1 concatenated are the output of the whole run.\n"
  "--ood FILE reads out-of-distribution statistics ('cnnscope-cli ood-fit'; default: MODEL\n"
  "with .safetensors replaced by .ood.json, when it exists; 'none': no check) and gives each\n"
  "input file (or each slice of a volume) its score, marking those above the threshold as far\n"
  "from the training data.\n";

enum
{
  OPT_TOP = CLI_OPT_BASE,
  OPT_LOGITS_NPY,
  OPT_JSON,
  OPT_JSONL,
  OPT_SHARD,
  OPT_SERIES,
  OPT_FILES,
  OPT_OOD,
};

static const struct option options[] = {
  { "top", required_argument, NULL, OPT_TOP },
  { "logits-npy", required_argument, NULL, OPT_LOGITS_NPY },
  { "json", no_argument, NULL, OPT_JSON },
  { "jsonl", no_argument, NULL, OPT_JSONL },
  { "shard", required_argument, NULL, OPT_SHARD },
  { "series", required_argument, NULL, OPT_SERIES },
  { "files", no_argument, NULL, OPT_FILES },
  { "ood", required_argument, NULL, OPT_OOD },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

/* Inputs per forward pass. */
#define CHUNK 32

typedef struct
{
  int         top;        /* classes listed per input */
  bool        top_set;    /* --top given */
  bool        json;
  bool        jsonl;      /* one JSON object per input, one line each */
  bool        files;      /* --files */
  const char *series;
  const char *logits_path;
  const char *ood_path;   /* --ood; NULL: the default file when it exists */
  CliShard    shard;
} Args;

/* The options; 0 to go on, -1 after --help, else the exit code. */
static int
parse_args (int    argc,
            char **argv,
            Args  *a)
{
  *a = (Args) { .top = 5, .shard = CLI_SHARD_NONE };
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    switch (c)
      {
      case OPT_TOP:
        if (!cli_parse_int ("top", optarg, 1, 1 << 20, &a->top))
          return CLI_EXIT_USAGE;
        a->top_set = true;
        break;
      case OPT_LOGITS_NPY:
        a->logits_path = optarg;
        break;
      case OPT_JSON:
        a->json = true;
        break;
      case OPT_JSONL:
        a->jsonl = true;
        break;
      case OPT_SHARD:
        if (!cli_shard_parse ("shard", optarg, &a->shard))
          return CLI_EXIT_USAGE;
        break;
      case OPT_SERIES:
        a->series = optarg;
        break;
      case OPT_OOD:
        a->ood_path = optarg;
        break;
      case OPT_FILES:
        a->files = true;
        break;
      case 'h':
        fputs (usage, stdout);
        return -1;
      default:
        return CLI_EXIT_USAGE;
      }
  if (argc - optind < 2)
    return cli_fail (CLI_EXIT_USAGE, "predict: expected MODEL and at least one INPUT (see "
                     "'cnnscope-cli predict --help')");
  if (a->json && a->jsonl)
    return cli_fail (CLI_EXIT_USAGE, "predict: --json and --jsonl exclude each other");
  return 0;
}

/* Input i of a run, built for model; NULL after printing the error. */
typedef NnInput *(*LoadFunc) (const NnModel *model,
                              const void    *data,
                              int            i);

/* Input i is the file inputs[i]. */
static NnInput *
load_file (const NnModel *model,
           const void    *data,
           int            i)
{
  char *const *inputs = data;
  return cli_load_input (model, inputs[i], NULL);
}

/* The logits (n, classes) of the n inputs given by load, CHUNK per forward pass, and with ood
 * their out-of-distribution scores. False after printing the error. */
static bool
classify (const NnModel *model,
          const NnOod   *ood,
          LoadFunc       load,
          const void    *data,
          int            n,
          float         *logits,
          double        *scores)
{
  NnGraph *g = model->graph;
  const int out = nn_graph_output (g);
  const size_t classes = nn_shape_size (g->nodes[out].shape);
  const size_t in_size = nn_shape_size (g->nodes[0].shape);
  const int batch = n < CHUNK ? n : CHUNK;
  NnError err = { 0 };
  NnContext *ctx = nn_context_new (g, batch, 0, &err);
  if (ctx == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
  const int feature = ood != NULL ? nn_graph_find (g, ood->layer) : -1;
  if (feature >= 0)
    nn_context_keep (ctx, feature);
  bool ok = true;
  for (int start = 0; ok && start < n; start += batch)
    {
      int nb = n - start < batch ? n - start : batch;
      float *x = nn_context_input (ctx);
      memset (x, 0, (size_t) batch * in_size * sizeof (float));
      for (int i = 0; ok && i < nb; i++)
        {
          NnInput *input = load (model, data, start + i);
          ok = input != NULL;
          if (ok)
            memcpy (x + (size_t) i * in_size, input->tensor, in_size * sizeof (float));
          nn_input_unref (input);
        }
      if (!ok)
        break;
      nn_context_forward (ctx, -1);
      memcpy (logits + (size_t) start * classes, nn_context_output (ctx, out),
              (size_t) nb * classes * sizeof (float));
      for (int i = 0; feature >= 0 && i < nb; i++)
        scores[start + i] = nn_ood_score (ood, nn_context_output (ctx, feature)
                                               + (size_t) i * (size_t) ood->dim);
    }
  nn_context_free (ctx);
  return ok;
}

/* The top classes of one input as a JSON array, from probabilities probs and their order. */
static cJSON *
top_json (const NnModel *model,
          const float   *probs,
          const int     *order,
          int            top)
{
  cJSON *list = cJSON_CreateArray ();
  char buf[16];
  for (int t = 0; t < top; t++)
    {
      cJSON *e = cJSON_CreateObject ();
      cJSON_AddNumberToObject (e, "class", order[t]);
      cJSON_AddStringToObject (e, "label", cli_label (model, order[t], buf, sizeof buf));
      cJSON_AddNumberToObject (e, "probability", (double) probs[order[t]]);
      cJSON_AddItemToArray (list, e);
    }
  return list;
}

/* Where the results of a run go: the text table, one JSON object at the end (--json), or a
 * JSON line per input (--jsonl, and always for a volume's slices). */
typedef struct
{
  const NnModel  *model;
  const char     *model_path;
  const Args     *a;
  char          **inputs;     /* the files; NULL for a volume */
  const NnVolume *volume;     /* the volume (LPS), or NULL */
  const char     *volume_path;
  int             first;      /* the volume's slice of input 0 */
  const NnOod    *ood;        /* out-of-distribution statistics, or NULL */
  double         *ood_scores; /* n, with ood */
} Report;

/* The top classes of each input: printed on stdout, or (--json) in *json, to be printed once
 * everything else is written. */
static bool
report_top (const Report *r,
            int           n,
            const float  *logits,
            cJSON       **json)
{
  const NnGraph *g = r->model->graph;
  const Args *a = r->a;
  const int classes = (int) nn_shape_size (g->nodes[nn_graph_output (g)].shape);
  float *probs = malloc ((size_t) classes * sizeof (float));
  int *order = malloc ((size_t) a->top * sizeof (int));
  if (probs == NULL || order == NULL)
    {
      free (probs);
      free (order);
      return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
    }
  bool lines = a->jsonl || r->volume != NULL;
  cJSON *root = a->json && !lines ? cJSON_CreateObject () : NULL;
  cJSON *predictions = NULL;
  if (root != NULL)
    {
      cJSON_AddStringToObject (root, "model", r->model_path);
      predictions = cJSON_AddArrayToObject (root, "predictions");
    }
  bool ok = true;
  for (int i = 0; ok && i < n; i++)
    {
      nn_explain_probabilities (probs, logits + (size_t) i * (size_t) classes, g);
      nn_explain_top_k (order, probs, classes, a->top);
      if (root == NULL && !lines)
        {
          char buf[16];
          printf ("%s\n", r->inputs[i]);
          for (int t = 0; t < a->top; t++)
            printf ("  %2d. %-24s %7.3f%%\n", t + 1, cli_label (r->model, order[t], buf,
                                                               sizeof buf),
                    100.0 * (double) probs[order[t]]);
          if (r->ood != NULL && r->volume == NULL)
            {
              double score = r->ood_scores[i];
              if (score > r->ood->threshold)
                printf ("  far from the training data: out-of-distribution score %.3g > "
                        "threshold %.3g\n", score, r->ood->threshold);
              else
                printf ("  out-of-distribution score %.3g (threshold %.3g)\n", score,
                        r->ood->threshold);
            }
          continue;
        }
      cJSON *p = cJSON_CreateObject ();
      if (r->volume != NULL)
        {
          int k = r->first + i;
          cJSON_AddStringToObject (p, "input", r->volume_path);
          cJSON_AddNumberToObject (p, "slice", k);
          cJSON_AddNumberToObject (p, "slices", r->volume->nz);
          cJSON_AddNumberToObject (p, "z_mm", cli_volume_slice_z (r->volume, k));
        }
      else
        cJSON_AddStringToObject (p, "input", r->inputs[i]);
      cJSON_AddItemToObject (p, "top", top_json (r->model, probs, order, a->top));
      if (r->ood != NULL)
        {
          cJSON *o = cJSON_AddObjectToObject (p, "ood");
          cJSON_AddNumberToObject (o, "score", r->ood_scores[i]);
          cJSON_AddNumberToObject (o, "threshold", r->ood->threshold);
          cJSON_AddBoolToObject (o, "far", r->ood_scores[i] > r->ood->threshold);
        }
      if (root != NULL)
        cJSON_AddItemToArray (predictions, p);
      else
        ok = cli_print_json (p);
    }
  free (order);
  free (probs);
  *json = root;
  return ok;
}

/* Progress on stderr after each slice. */
static void
slice_done (int                  k,
            const float         *probs,
            const NnExplanation *explanation,
            void                *user_data)
{
  (void) probs;
  (void) explanation;
  const Report *r = user_data;
  fprintf (stderr, "predict: slice %d of %d\n", k + 1, r->volume->nz);
}

/* The inputs of the command line, folders expanded to their inputs (sorted), then the shard's
 * block of them. False after printing the error. */
static bool
expand_inputs (char         **args,
               int            n_args,
               const CliShard *shard,
               CliNames       *inputs)
{
  for (int i = 0; i < n_args; i++)
    {
      struct stat st;
      if (stat (args[i], &st) != 0 || !S_ISDIR (st.st_mode))
        {
          if (!cli_names_add (inputs, args[i]))
            return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
          continue;
        }
      CliNames found = { 0 };
      bool ok = cli_collect_inputs (args[i], "", &found);
      for (int k = 0; ok && k < found.n; k++)
        {
          char path[4096];
          snprintf (path, sizeof path, "%s/%s", args[i], found.items[k]);
          ok = cli_names_add (inputs, path);
          if (!ok)
            cli_fail (CLI_EXIT_FAILURE, "out of memory");
        }
      if (ok && found.n == 0)
        ok = cli_fail (CLI_EXIT_FAILURE, "%s: no .png, .jpg, .jpeg, .dcm or .npy inputs in "
                       "the folder", args[i]) == 0;
      cli_names_clear (&found);
      if (!ok)
        return false;
    }
  int begin, end;
  cli_shard_range (shard, inputs->n, &begin, &end);
  for (int i = 0; i < inputs->n; i++)
    if (i < begin || i >= end)
      free (inputs->items[i]);
  memmove (inputs->items, inputs->items + begin, sizeof (char *) * (size_t) (end - begin));
  inputs->n = end - begin;
  return true;
}

/* The logits of the n inputs: files through load, or the volume's slices. */
static bool
classify_all (const Report *r,
              LoadFunc      load,
              const void   *data,
              int           n,
              float        *logits)
{
  if (r->volume == NULL)
    return classify (r->model, r->ood, load, data, n, logits, r->ood_scores);
  const NnGraph *g = r->model->graph;
  size_t classes = nn_shape_size (g->nodes[nn_graph_output (g)].shape);
  float *probs = malloc (sizeof (float) * (size_t) n * classes);
  /* With statistics, each slice's features at their node, scored after the run. */
  const int feature = r->ood != NULL ? nn_graph_find (g, r->ood->layer) : -1;
  float *features = feature >= 0 ? malloc (sizeof (float) * (size_t) n
                                           * (size_t) r->ood->dim) : NULL;
  NnError err = { 0 };
  bool ok = probs != NULL && (feature < 0 || features != NULL);
  if (!ok)
    cli_fail (CLI_EXIT_FAILURE, "out of memory");
  else if (!nn_volume_classify_features (r->model, r->volume, r->volume_path, NULL, r->first,
                                         r->first + n, CHUNK, probs, logits, feature, features,
                                         slice_done, (void *) r, NULL, &err))
    ok = cli_fail_error (CLI_EXIT_FAILURE, &err) == 0;
  for (int i = 0; ok && feature >= 0 && i < n; i++)
    r->ood_scores[i] = nn_ood_score (r->ood, features + (size_t) i * (size_t) r->ood->dim);
  free (features);
  free (probs);
  return ok;
}

/* Classifies the n inputs (files, or the volume's slices) and reports them. */
static int
run (Report     *r,
     LoadFunc    load,
     const void *data,
     int         n)
{
  const NnGraph *g = r->model->graph;
  const int n_out = (int) nn_shape_size (g->nodes[nn_graph_output (g)].shape);
  int status = CLI_EXIT_FAILURE;
  NnError err = { 0 };
  const int dims[2] = { n, n_out };
  cJSON *json = NULL;
  float *logits = malloc ((size_t) (n > 0 ? n : 1) * (size_t) n_out * sizeof (float));
  r->ood_scores = calloc ((size_t) (n > 0 ? n : 1), sizeof (double));
  if (logits == NULL || r->ood_scores == NULL)
    cli_fail (CLI_EXIT_FAILURE, "out of memory");
  else if ((n == 0 || classify_all (r, load, data, n, logits))
           && report_top (r, n, logits, &json))
    {
      if (r->a->logits_path != NULL && !nn_npy_save (r->a->logits_path, logits, dims, 2, &err))
        cli_fail_error (CLI_EXIT_FAILURE, &err);
      else
        {
          status = json == NULL || cli_print_json (json) ? 0 : CLI_EXIT_FAILURE;
          json = NULL;
        }
    }
  cJSON_Delete (json);
  free (logits);
  free (r->ood_scores);
  r->ood_scores = NULL;
  return status;
}

/* The out-of-distribution statistics: --ood FILE, none with "none", else the model's default
 * file when there is one. False after printing the error. */
static bool
load_ood (const NnModel *model,
          const char    *model_path,
          const char    *option,
          NnOod        **ood)
{
  *ood = NULL;
  if (option != NULL && strcmp (option, "none") == 0)
    return true;
  char *path = option != NULL ? strdup (option) : nn_ood_path_new (model_path);
  if (path == NULL)
    return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
  NnError err = { 0 };
  if (option == NULL && access (path, F_OK) != 0)
    {
      free (path);
      return true;
    }
  *ood = nn_ood_load (path, model->graph, &err);
  free (path);
  if (*ood == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
  return true;
}

int
cli_predict_main (int    argc,
                  char **argv)
{
  Args a;
  int status = parse_args (argc, argv, &a);
  if (status != 0)
    return status < 0 ? 0 : status;
  const char *model_path = argv[optind];
  char **args = argv + optind + 1;
  int n_args = argc - optind - 1;
  bool volume = n_args == 1 && !a.files && cli_volume_is_volume (args[0]);
  if (a.series != NULL && !volume)
    return cli_fail (CLI_EXIT_USAGE, "predict: --series needs one volume INPUT (a DICOM series "
                     "folder)");
  NnModel *model = cli_load_model (model_path);
  if (model == NULL)
    return CLI_EXIT_FAILURE;
  const NnGraph *g = model->graph;
  const int n_out = (int) nn_shape_size (g->nodes[nn_graph_output (g)].shape);
  if (a.top_set && a.top > n_out)
    {
      nn_model_free (model);
      return cli_fail (CLI_EXIT_USAGE, "bad value '%d' for --top (the model has %d classes)",
                       a.top, n_out);
    }
  a.top = a.top < n_out ? a.top : n_out;
  Report r = { .model = model, .model_path = model_path, .a = &a };
  NnOod *ood = NULL;
  if (!load_ood (model, model_path, a.ood_path, &ood))
    {
      nn_model_free (model);
      return CLI_EXIT_FAILURE;
    }
  r.ood = ood;
  status = CLI_EXIT_FAILURE;
  if (volume)
    {
      NnVolume *v = cli_volume_load (args[0], a.series, NULL);
      if (v != NULL)
        {
          int begin, end;
          cli_shard_range (&a.shard, v->nz, &begin, &end);
          r.volume = v;
          r.volume_path = args[0];
          r.first = begin;
          status = run (&r, NULL, NULL, end - begin);
        }
      nn_volume_free (v);
    }
  else
    {
      CliNames inputs = { 0 };
      if (expand_inputs (args, n_args, &a.shard, &inputs))
        {
          r.inputs = inputs.items;
          status = run (&r, load_file, inputs.items, inputs.n);
        }
      cli_names_clear (&inputs);
    }
  nn_ood_free (ood);
  nn_model_free (model);
  return status;
}
