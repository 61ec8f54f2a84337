/* SPDX-License-Identifier: MIT */
/* cnnscope-cli predict: the top-K classes with their probabilities for each input, and
 * optionally the raw logits as .npy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage[] =
  "Usage: cnnscope-cli predict MODEL INPUT... [--top K] [--logits-npy FILE] [--json]\n"
  "Classifies each INPUT (.png, .jpg, .jpeg, .dcm, or .npy: float32 (C,H,W) or (1,C,H,W),\n"
  "already normalized, the model's exact input shape) and prints the K most likely classes\n"
  "(default 5). --logits-npy writes the logits of all inputs as a float32 (N, classes) array.\n"
  "A CT model (one with a window, see 'info') reads DICOM and 16-bit PNG (HU + 1024) as HU\n"
  "through its window, and 8-bit PNG/JPEG as already windowed.\n";

enum
{
  OPT_TOP = CLI_OPT_BASE,
  OPT_LOGITS_NPY,
  OPT_JSON,
};

static const struct option options[] = {
  { "top", required_argument, NULL, OPT_TOP },
  { "logits-npy", required_argument, NULL, OPT_LOGITS_NPY },
  { "json", no_argument, NULL, OPT_JSON },
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
  const char *logits_path;
} Args;

/* The options; 0 to go on, -1 after --help, else the exit code. */
static int
parse_args (int    argc,
            char **argv,
            Args  *a)
{
  *a = (Args) { .top = 5 };
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
      case 'h':
        fputs (usage, stdout);
        return -1;
      default:
        return CLI_EXIT_USAGE;
      }
  if (argc - optind < 2)
    return cli_fail (CLI_EXIT_USAGE, "predict: expected MODEL and at least one INPUT (see "
                     "'cnnscope-cli predict --help')");
  return 0;
}

/* The logits (n, classes) of the n inputs, CHUNK per forward pass. False after printing the
 * error. */
static bool
classify (const NnModel *model,
          char         **inputs,
          int            n,
          float         *logits)
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
  bool ok = true;
  for (int start = 0; ok && start < n; start += batch)
    {
      int nb = n - start < batch ? n - start : batch;
      float *x = nn_context_input (ctx);
      memset (x, 0, (size_t) batch * in_size * sizeof (float));
      for (int i = 0; ok && i < nb; i++)
        {
          NnInput *input = cli_load_input (model, inputs[start + i], NULL);
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
    }
  nn_context_free (ctx);
  return ok;
}

/* The top classes of each input: printed on stdout, or (--json) in *json, to be printed once
 * everything else is written. */
static bool
report_top (const NnModel *model,
            const char    *model_path,
            const Args    *a,
            char         **inputs,
            int            n,
            const float   *logits,
            cJSON        **json)
{
  const NnGraph *g = model->graph;
  const int classes = (int) nn_shape_size (g->nodes[nn_graph_output (g)].shape);
  float *probs = malloc ((size_t) classes * sizeof (float));
  int *order = malloc ((size_t) a->top * sizeof (int));
  if (probs == NULL || order == NULL)
    {
      free (probs);
      free (order);
      return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
    }
  cJSON *root = a->json ? cJSON_CreateObject () : NULL;
  cJSON *predictions = NULL;
  if (root != NULL)
    {
      cJSON_AddStringToObject (root, "model", model_path);
      predictions = cJSON_AddArrayToObject (root, "predictions");
    }
  for (int i = 0; i < n; i++)
    {
      nn_explain_probabilities (probs, logits + (size_t) i * (size_t) classes, g);
      nn_explain_top_k (order, probs, classes, a->top);
      char buf[16];
      cJSON *list = NULL;
      if (root != NULL)
        {
          cJSON *p = cJSON_CreateObject ();
          cJSON_AddStringToObject (p, "input", inputs[i]);
          list = cJSON_AddArrayToObject (p, "top");
          cJSON_AddItemToArray (predictions, p);
        }
      else
        printf ("%s\n", inputs[i]);
      for (int t = 0; t < a->top; t++)
        {
          const char *label = cli_label (model, order[t], buf, sizeof buf);
          if (list == NULL)
            {
              printf ("  %2d. %-24s %7.3f%%\n", t + 1, label, 100.0 * (double) probs[order[t]]);
              continue;
            }
          cJSON *e = cJSON_CreateObject ();
          cJSON_AddNumberToObject (e, "class", order[t]);
          cJSON_AddStringToObject (e, "label", label);
          cJSON_AddNumberToObject (e, "probability", (double) probs[order[t]]);
          cJSON_AddItemToArray (list, e);
        }
    }
  free (order);
  free (probs);
  *json = root;
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
  char **inputs = argv + optind + 1;
  int n_inputs = argc - optind - 1;
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

  status = CLI_EXIT_FAILURE;
  NnError err = { 0 };
  const int dims[2] = { n_inputs, n_out };
  cJSON *json = NULL;
  float *logits = malloc ((size_t) n_inputs * (size_t) n_out * sizeof (float));
  if (logits == NULL)
    cli_fail (CLI_EXIT_FAILURE, "out of memory");
  else if (classify (model, inputs, n_inputs, logits)
           && report_top (model, model_path, &a, inputs, n_inputs, logits, &json))
    {
      if (a.logits_path != NULL && !nn_npy_save (a.logits_path, logits, dims, 2, &err))
        cli_fail_error (CLI_EXIT_FAILURE, &err);
      else
        {
          status = json == NULL || cli_print_json (json) ? 0 : CLI_EXIT_FAILURE;
          json = NULL;
        }
    }
  cJSON_Delete (json);
  free (logits);
  nn_model_free (model);
  return status;
}
