/* SPDX-License-Identifier: MIT */
/* cnnscope-cli eval: accuracy, mean cross-entropy and the confusion matrix of a model on the
 * test split of a dataset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"
#include "cli-volume.h"

static const char usage[] =
  "Usage: cnnscope-cli eval MODEL DATASET [--json] [--threads N] [--shard I/N]\n"
  "Evaluates MODEL on the test split of DATASET ('fashion-mnist', or an image folder; a folder\n"
  "with train/ and test/ inside is evaluated on test/), with the images fitted to the model\n"
  "input. Reports accuracy, mean cross-entropy loss, the sample count and the confusion\n"
  "matrix (rows: true class, columns: predicted class). A CT model (one with a window) reads\n"
  "16-bit gray PNGs as HU + 1024 through its window.\n"
  "--shard I/N evaluates only part I of N of the test samples (contiguous blocks in the\n"
  "dataset's order); its JSON then also gives shard and loss_sum, so that the lines of all\n"
  "parts, concatenated, add up to the whole run (n, loss_sum and confusion are sums).\n";

enum
{
  OPT_JSON = CLI_OPT_BASE,
  OPT_THREADS,
  OPT_SHARD,
};

static const struct option options[] = {
  { "json", no_argument, NULL, OPT_JSON },
  { "threads", required_argument, NULL, OPT_THREADS },
  { "shard", required_argument, NULL, OPT_SHARD },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

#define EVAL_BATCH 64

static void
print_table (const NnModel      *model,
             const NnEvalResult *r)
{
  printf ("accuracy  %.2f%% (%d of %d)\n", 100.0 * r->accuracy,
          (int) (r->accuracy * r->n + 0.5), r->n);
  printf ("loss      %.4f\n\n", r->loss);
  int k = r->n_classes;
  int wl = 5;
  char buf[16];
  for (int i = 0; i < k; i++)
    {
      int l = (int) strlen (cli_label (model, i, buf, sizeof buf));
      wl = l > wl ? l : wl;
    }
  wl = wl < 24 ? wl : 24;
  printf ("%-*s  ", wl, "true\\pred");
  for (int j = 0; j < k; j++)
    printf (" %6d", j);
  printf ("\n");
  for (int i = 0; i < k; i++)
    {
      printf ("%-*.*s  ", wl, wl, cli_label (model, i, buf, sizeof buf));
      for (int j = 0; j < k; j++)
        printf (" %6d", r->confusion[i * k + j]);
      printf ("\n");
    }
}

static int
print_json (const NnModel      *model,
            const char         *model_path,
            const char         *dataset,
            const CliShard     *shard,
            const NnEvalResult *r)
{
  cJSON *root = cJSON_CreateObject ();
  cJSON_AddStringToObject (root, "model", model_path);
  cJSON_AddStringToObject (root, "dataset", dataset);
  if (shard->count > 1)
    {
      char text[32];
      snprintf (text, sizeof text, "%d/%d", shard->index, shard->count);
      cJSON_AddStringToObject (root, "shard", text);
      cJSON_AddNumberToObject (root, "loss_sum", r->loss * r->n);
    }
  cJSON_AddNumberToObject (root, "n", r->n);
  cJSON_AddNumberToObject (root, "accuracy", r->accuracy);
  cJSON_AddNumberToObject (root, "loss", r->loss);
  cJSON *labels = cJSON_AddArrayToObject (root, "labels");
  char buf[16];
  for (int i = 0; i < r->n_classes; i++)
    cJSON_AddItemToArray (labels, cJSON_CreateString (cli_label (model, i, buf, sizeof buf)));
  cJSON *confusion = cJSON_AddArrayToObject (root, "confusion");
  for (int i = 0; i < r->n_classes; i++)
    cJSON_AddItemToArray (confusion, cJSON_CreateIntArray (r->confusion + i * r->n_classes,
                                                           r->n_classes));
  return cli_print_json (root) ? 0 : CLI_EXIT_FAILURE;
}

int
cli_eval_main (int    argc,
               char **argv)
{
  bool json = false;
  int threads = 0;
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
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return CLI_EXIT_USAGE;
      }
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
  if (json)
    status = print_json (model, model_path, dataset, &shard, &result);
  else
    {
      print_table (model, &result);
      status = 0;
    }

done:
  nn_eval_result_clear (&result);
  nn_dataset_free (ds);
  nn_model_free (model);
  return status;
}
