/* SPDX-License-Identifier: MIT */
/* cnnscope-cli ood-fit: the out-of-distribution statistics of a model, from the training split
 * of its dataset, for predict's "far from the training data" note. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage[] =
  "Usage: cnnscope-cli ood-fit MODEL DATASET [--out FILE] [--percentile P] [--threads N]\n"
  "Runs the training split of DATASET (an image folder as for train; a CT model reads its\n"
  "16-bit PNGs through its window) through MODEL and stores, at the input of its last linear\n"
  "layer, each class's mean feature vector and the pooled within-class covariance, with a\n"
  "threshold at percentile P (default 100: the largest) of the training samples' scores.\n"
  "The score of an input is the squared Mahalanobis distance (shared covariance) to the\n"
  "nearest class mean, divided by the number of features. predict reads FILE (default:\n"
  "MODEL with .safetensors replaced by .ood.json) and marks inputs above the threshold as far\n"
  "from the training data.\n";

enum
{
  OPT_OUT = CLI_OPT_BASE,
  OPT_PERCENTILE,
  OPT_THREADS,
};

static const struct option options[] = {
  { "out", required_argument, NULL, OPT_OUT },
  { "percentile", required_argument, NULL, OPT_PERCENTILE },
  { "threads", required_argument, NULL, OPT_THREADS },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

int
cli_ood_fit_main (int    argc,
                  char **argv)
{
  const char *out = NULL;
  double percentile = 100.0;
  int threads = 0, c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    switch (c)
      {
      case OPT_OUT:
        out = optarg;
        break;
      case OPT_PERCENTILE:
        if (!cli_parse_double ("percentile", optarg, 1e-9, 100.0, &percentile))
          return CLI_EXIT_USAGE;
        break;
      case OPT_THREADS:
        if (!cli_parse_int ("threads", optarg, 1, 1024, &threads))
          return CLI_EXIT_USAGE;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return CLI_EXIT_USAGE;
      }
  if (argc - optind != 2)
    return cli_fail (CLI_EXIT_USAGE, "ood-fit: expected MODEL and DATASET (see 'cnnscope-cli "
                     "ood-fit --help')");
  cli_set_threads (threads);
  const char *model_path = argv[optind], *dataset = argv[optind + 1];
  NnModel *model = cli_load_model (model_path);
  if (model == NULL)
    return CLI_EXIT_FAILURE;
  int status = CLI_EXIT_FAILURE;
  NnError err = { 0 };
  NnOod *ood = NULL;
  char *path = out != NULL ? strdup (out) : nn_ood_path_new (model_path);
  NnDataset *ds = nn_dataset_open (dataset, true, nn_model_input_channels (model),
                                   nn_model_input_height (model),
                                   nn_model_input_width (model), &err);
  if (path == NULL)
    cli_fail (CLI_EXIT_FAILURE, "out of memory");
  else if (ds == NULL)
    cli_fail_error (CLI_EXIT_FAILURE, &err);
  else
    {
      if (model->has_window && ds->ct16)
        nn_dataset_apply_ct_window (ds, &model->window);
      ood = nn_ood_fit (model, ds, percentile, 64, &err);
      if (ood == NULL || !nn_ood_save (ood, path, &err))
        cli_fail_error (CLI_EXIT_FAILURE, &err);
      else
        {
          printf ("%s: %d features at %s, %ld training samples; threshold %.4g (percentile "
                  "%g)\n", path, ood->dim, ood->layer, ood->train_n, ood->threshold,
                  ood->percentile);
          status = 0;
        }
    }
  nn_ood_free (ood);
  nn_dataset_free (ds);
  free (path);
  nn_model_free (model);
  return status;
}
