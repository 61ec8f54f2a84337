/* SPDX-License-Identifier: MIT */
/* cnnscope-cli: the headless front end over nn/ and viz/. Dispatches to one command per file
 * (docs/cli.md). */
#include <stdio.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"

#ifndef CNNSCOPE_VERSION
#error "CNNSCOPE_VERSION must be defined by the build"
#endif

typedef struct
{
  const char *name;
  int       (*run) (int argc, char **argv);
  const char *synopsis;
} CliCommand;

static const CliCommand commands[] = {
  { "info", cli_info_main, "info MODEL [--json]" },
  { "predict", cli_predict_main,
    "predict MODEL INPUT... [--top K] [--logits-npy FILE] [--json] [--ood FILE|none]" },
  { "train", cli_train_main,
    "train --arch NAME --data DATASET --out MODEL [--epochs N] [--batch N] [--lr X]\n"
    "        [--optimizer sgd|adamw|lamb] [--weight-decay X]\n"
    "        [--policy exact|proxygrad:B|sugar:bsilu|sugar:nelu[:A]]\n"
    "        [--schedule cosine|step|constant] [--seed S] [--threads N] [--width W]\n"
    "        [--pfm-bank B] [--pfm-size N] [--bn-batches N] [--per-class N]\n"
    "        [--test-per-class N] [--augment] [--snapshot-every N] [--json]\n"
    "        | train --init MODEL [--new-head N] [--freeze LAYER] [--size N|HxW] (fine-tuning)" },
  { "eval", cli_eval_main, "eval MODEL DATASET [--json] [--shard I/N] | eval --merge FILE..." },
  { "embed", cli_embed_main,
    "embed MODEL DATASET --layer NAME [--method pca|tsne] [--out FIGURE] [--csv FILE]\n"
    "        [--features pool|flatten] [--perplexity P] [--limit N] [--colour true|pred]" },
  { "examples", cli_examples_main,
    "examples MODEL DATASET --layer NAME --channel K [--k N] [--crop] [--out FIGURE] [--json]\n"
    "        [--cache FILE]" },
  { "compare", cli_compare_main,
    "compare MODEL_A MODEL_B --data DATASET [--out FIGURE] [--json] [--features flatten|pool]\n"
    "        [--limit N] [--matrix FIGURE] [--layer NAME [--channel K --input IMAGE\n"
    "        --channel-out FIGURE [--am-steps N]]]" },
  { "ood-fit", cli_ood_fit_main, "ood-fit MODEL DATASET [--out FILE] [--percentile P]" },
  { "activations", cli_activations_main,
    "activations MODEL INPUT --layer NAME --out PNG [--npy FILE] [--window W]" },
  { "filters", cli_filters_main, "filters MODEL --layer NAME --out PNG" },
  { "am", cli_am_main,
    "am MODEL --layer NAME --channel K|--all-channels [--objective mean|center|percentile|\n"
    "        unit|logit|direction] [--policy exact|proxygrad:B|proxygrad-full:B|...] [--steps N]\n"
    "        [--lr X] [--seed S] [--out PNG] [--npy FILE] [--json] (see am --help)" },
  { "cam", cli_cam_main,
    "cam MODEL INPUT|FOLDER [--layer NAME] [--class K] [--method M] [--out FIGURE|FOLDER]\n"
    "        [--npy FILE] [--metrics] [--mask PNG] [--opacity X] [--signed] [--scale X]\n"
    "        [--batch N] [--json] (see cam --help for the methods)" },
  { "saliency", cli_saliency_main,
    "saliency MODEL INPUT|FOLDER --method M [--class K] [--samples N] [--noise X] [--seed S]\n"
    "        [--out FIGURE|FOLDER] [--npy FILE] [--metrics] [--json] (see saliency --help)" },
  { "synth", cli_synth_main,
    "synth ct|dashes --count N --out DIR [--seed S] [--size PX] [--acquisition] [--window W]\n"
    "        [--version 2 [--volumes] [--slices N]] [--json]; synth baseline DATA [TEST]" },
  { "bench", cli_bench_main, "bench [--json] [--threads N] [--repeat N]" },
  { "convert", cli_convert_main,
    "convert MODEL.onnx --out MODEL.safetensors [--mean M,..] [--std S,..] [--size N|HxW]" },
};

#define N_COMMANDS ((int) (sizeof commands / sizeof commands[0]))

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: cnnscope-cli COMMAND [ARGS...]\n\nCommands:\n");
  for (int i = 0; i < N_COMMANDS; i++)
    fprintf (out, "  %s\n", commands[i].synopsis);
  fprintf (out, "\nMODEL is a .safetensors or .onnx file; INPUT is a PNG, JPEG or DICOM file or "
           "a .npy array\n(float32 C x H x W, already normalized); DATASET is 'fashion-mnist' "
           "or an image folder\nroot/<class>/<image>.\n'cnnscope-cli COMMAND --help' describes "
           "one command.\n");
}

int
main (int    argc,
      char **argv)
{
  if (argc < 2)
    return cli_fail (CLI_EXIT_USAGE, "no command given (see 'cnnscope-cli --help')");
  const char *cmd = argv[1];
  if (strcmp (cmd, "--help") == 0 || strcmp (cmd, "-h") == 0 || strcmp (cmd, "help") == 0)
    {
      print_usage (stdout);
      return 0;
    }
  if (strcmp (cmd, "--version") == 0)
    {
      printf ("cnnscope-cli %s\n", CNNSCOPE_VERSION);
      return 0;
    }
  for (int i = 0; i < N_COMMANDS; i++)
    if (strcmp (cmd, commands[i].name) == 0)
      {
        cli_set_threads (0);
        return commands[i].run (argc - 1, argv + 1);
      }
  return cli_fail (CLI_EXIT_USAGE, "unknown command '%s' (see 'cnnscope-cli --help')", cmd);
}
