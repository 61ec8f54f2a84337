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

/* order[0 .. k) = indices of the k largest probabilities, largest first (ties: lower index). */
static void
top_k (int         *order,
       const float *probs,
       int          n,
       int          k)
{
  for (int i = 0; i < k; i++)
    {
      int best = -1;
      for (int j = 0; j < n; j++)
        {
          bool taken = false;
          for (int t = 0; t < i; t++)
            taken = taken || order[t] == j;
          if (!taken && (best < 0 || probs[j] > probs[best]))
            best = j;
        }
      order[i] = best;
    }
}

int
cli_predict_main (int    argc,
                  char **argv)
{
  int top = 5;
  bool top_set = false, json = false;
  const char *logits_path = NULL;
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    switch (c)
      {
      case OPT_TOP:
        if (!cli_parse_int ("top", optarg, 1, 1 << 20, &top))
          return CLI_EXIT_USAGE;
        top_set = true;
        break;
      case OPT_LOGITS_NPY:
        logits_path = optarg;
        break;
      case OPT_JSON:
        json = true;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return CLI_EXIT_USAGE;
      }
  if (argc - optind < 2)
    return cli_fail (CLI_EXIT_USAGE, "predict: expected MODEL and at least one INPUT (see "
                     "'cnnscope-cli predict --help')");

  const char *model_path = argv[optind];
  char **inputs = argv + optind + 1;
  int n_inputs = argc - optind - 1;
  NnModel *model = cli_load_model (model_path);
  if (model == NULL)
    return CLI_EXIT_FAILURE;

  NnGraph *g = model->graph;
  const int out = nn_graph_output (g);
  const int n_out = (int) nn_shape_size (g->nodes[out].shape);
  const size_t in_size = nn_shape_size (g->nodes[0].shape);
  if (top_set && top > n_out)
    {
      nn_model_free (model);
      return cli_fail (CLI_EXIT_USAGE, "bad value '%d' for --top (the model has %d classes)",
                       top, n_out);
    }
  top = top < n_out ? top : n_out;

  int status = CLI_EXIT_FAILURE;
  cJSON *root = NULL;
  NnError err = { 0 };
  int batch = n_inputs < CHUNK ? n_inputs : CHUNK;
  float *logits = malloc ((size_t) n_inputs * (size_t) n_out * sizeof (float));
  float *probs = malloc ((size_t) n_out * sizeof (float));
  int *order = malloc ((size_t) top * sizeof (int));
  NnContext *ctx = nn_context_new (g, batch, 0, &err);
  if (ctx == NULL)
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  if (logits == NULL || probs == NULL || order == NULL)
    {
      cli_fail (CLI_EXIT_FAILURE, "out of memory");
      goto done;
    }
  for (int start = 0; start < n_inputs; start += batch)
    {
      int n = n_inputs - start < batch ? n_inputs - start : batch;
      float *x = nn_context_input (ctx);
      memset (x, 0, (size_t) batch * in_size * sizeof (float));
      for (int i = 0; i < n; i++)
        if (!cli_load_input (model, inputs[start + i], x + (size_t) i * in_size))
          goto done;
      nn_context_forward (ctx, -1);
      memcpy (logits + (size_t) start * (size_t) n_out, nn_context_output (ctx, out),
              (size_t) n * (size_t) n_out * sizeof (float));
    }

  if (json)
    {
      root = cJSON_CreateObject ();
      cJSON_AddStringToObject (root, "model", model_path);
    }
  cJSON *predictions = json ? cJSON_AddArrayToObject (root, "predictions") : NULL;
  for (int i = 0; i < n_inputs; i++)
    {
      cli_probabilities (g, probs, logits + (size_t) i * (size_t) n_out, n_out);
      top_k (order, probs, n_out, top);
      char buf[16];
      if (json)
        {
          cJSON *p = cJSON_CreateObject ();
          cJSON_AddStringToObject (p, "input", inputs[i]);
          cJSON *list = cJSON_AddArrayToObject (p, "top");
          for (int t = 0; t < top; t++)
            {
              cJSON *e = cJSON_CreateObject ();
              cJSON_AddNumberToObject (e, "class", order[t]);
              cJSON_AddStringToObject (e, "label", cli_label (model, order[t], buf, sizeof buf));
              cJSON_AddNumberToObject (e, "probability", (double) probs[order[t]]);
              cJSON_AddItemToArray (list, e);
            }
          cJSON_AddItemToArray (predictions, p);
        }
      else
        {
          printf ("%s\n", inputs[i]);
          for (int t = 0; t < top; t++)
            printf ("  %2d. %-24s %7.3f%%\n", t + 1, cli_label (model, order[t], buf, sizeof buf),
                    100.0 * (double) probs[order[t]]);
        }
    }

  if (logits_path != NULL)
    {
      const int dims[2] = { n_inputs, n_out };
      if (!nn_npy_save (logits_path, logits, dims, 2, &err))
        {
          cli_fail_error (CLI_EXIT_FAILURE, &err);
          goto done;
        }
    }
  if (json)
    {
      cJSON *r = root;
      root = NULL;
      if (!cli_print_json (r))
        goto done;
    }
  status = 0;

done:
  cJSON_Delete (root);
  nn_context_free (ctx);
  free (order);
  free (probs);
  free (logits);
  nn_model_free (model);
  return status;
}
