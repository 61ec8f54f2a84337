/* SPDX-License-Identifier: MIT */
/* cnnscope-cli convert: imports an ONNX model and saves it as a cnnscope .safetensors model,
 * keeping the graph and the layer names; input size and normalization come from the model or
 * from the options, and are stored in the new file. */
#include <stdio.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage[] =
  "Usage: cnnscope-cli convert MODEL.onnx --out MODEL.safetensors [--mean M[,M,M]]\n"
  "                            [--std S[,S,S]] [--size N|HxW] [--channels C] [--json]\n"
  "Imports an ONNX model (docs/onnx.md lists the supported ops) and writes it as a cnnscope\n"
  "model, atomically. Layer names follow the ONNX node names ('/layer1/layer1.0/conv1/Conv'\n"
  "becomes 'layer1.0.conv1').\n"
  "  --out FILE        the .safetensors file to write\n"
  "  --mean, --std     input normalization, one value or one per channel: input =\n"
  "                    (pixel in [0,1] - mean) / std (default: the model's cnnscope.mean and\n"
  "                    cnnscope.std metadata, else 0 and 1)\n"
  "  --size N|HxW      input size, needed when the model leaves it dynamic\n"
  "  --channels C      input channels, needed when the model leaves them dynamic\n"
  "  --json            print one JSON object describing the result\n";

enum
{
  OPT_OUT = CLI_OPT_BASE,
  OPT_MEAN,
  OPT_STD,
  OPT_SIZE,
  OPT_CHANNELS,
  OPT_JSON,
};

static const struct option options[] = {
  { "out", required_argument, NULL, OPT_OUT },
  { "mean", required_argument, NULL, OPT_MEAN },
  { "std", required_argument, NULL, OPT_STD },
  { "size", required_argument, NULL, OPT_SIZE },
  { "channels", required_argument, NULL, OPT_CHANNELS },
  { "json", no_argument, NULL, OPT_JSON },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

/* "0.485,0.456,0.406" into values; returns the count, or -1 after printing the error. */
static int
parse_list (const char *option,
            const char *text,
            double      min,
            float      *values)
{
  char buf[256];
  snprintf (buf, sizeof buf, "%s", text);
  int n = 0;
  char *save = NULL;
  for (char *tok = strtok_r (buf, ",", &save); tok != NULL; tok = strtok_r (NULL, ",", &save))
    {
      if (n == NN_MODEL_MAX_CHANNELS)
        {
          cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --%s (at most %d values)", text, option,
                    NN_MODEL_MAX_CHANNELS);
          return -1;
        }
      if (!cli_parse_float (option, tok, min, 1e6, &values[n++]))
        return -1;
    }
  if (n == 0)
    {
      cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --%s", text, option);
      return -1;
    }
  return n;
}

int
cli_convert_main (int    argc,
                  char **argv)
{
  NnOnnxOptions opt = { 0 };
  const char *out = NULL;
  bool json = false;
  int n_mean = 0, n_std = 0;
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    switch (c)
      {
      case OPT_OUT:
        out = optarg;
        break;
      case OPT_MEAN:
        if ((n_mean = parse_list ("mean", optarg, -1e6, opt.mean)) < 0)
          return CLI_EXIT_USAGE;
        break;
      case OPT_STD:
        if ((n_std = parse_list ("std", optarg, 1e-6, opt.std)) < 0)
          return CLI_EXIT_USAGE;
        break;
      case OPT_SIZE:
        if (!cli_parse_size (optarg, &opt.height, &opt.width))
          return CLI_EXIT_USAGE;
        break;
      case OPT_CHANNELS:
        if (!cli_parse_int ("channels", optarg, 1, 1 << 16, &opt.channels))
          return CLI_EXIT_USAGE;
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
  if (argc - optind != 1)
    return cli_fail (CLI_EXIT_USAGE, "convert: expected one MODEL.onnx (see 'cnnscope-cli "
                     "convert --help')");
  if (out == NULL)
    return cli_fail (CLI_EXIT_USAGE, "convert: --out MODEL.safetensors is required");
  if ((n_mean > 0) != (n_std > 0) || (n_mean > 1 && n_std > 1 && n_mean != n_std))
    return cli_fail (CLI_EXIT_USAGE, "convert: give --mean and --std together, with one value "
                     "or the same number of values");
  /* One value applies to every channel. */
  opt.n_norm = n_mean > n_std ? n_mean : n_std;
  for (int k = n_mean; k < opt.n_norm; k++)
    opt.mean[k] = opt.mean[0];
  for (int k = n_std; k < opt.n_norm; k++)
    opt.std[k] = opt.std[0];

  const char *path = argv[optind];
  NnError err = { 0 };
  NnModel *model = nn_onnx_load (path, &opt, &err);
  if (model == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err);
  int channels = nn_model_input_channels (model);
  if (opt.n_norm > 1 && opt.n_norm != channels)
    {
      nn_model_free (model);
      return cli_fail (CLI_EXIT_USAGE, "convert: %d --mean/--std values for %d input channels",
                       opt.n_norm, channels);
    }
  snprintf (model->command, sizeof model->command, "cnnscope-cli convert %s", path);
  if (!nn_model_save (model, out, &err))
    {
      nn_model_free (model);
      return cli_fail_error (CLI_EXIT_FAILURE, &err);
    }
  const NnGraph *g = model->graph;
  int status = 0;
  if (json)
    {
      cJSON *root = cJSON_CreateObject ();
      cJSON_AddStringToObject (root, "model", path);
      cJSON_AddStringToObject (root, "out", out);
      const int shape[3] = { g->nodes[0].shape.c, g->nodes[0].shape.h, g->nodes[0].shape.w };
      cJSON_AddItemToObject (root, "input_shape", cJSON_CreateIntArray (shape, 3));
      cJSON_AddNumberToObject (root, "layers", g->n_nodes);
      cJSON_AddNumberToObject (root, "outputs", model->n_classes);
      cJSON_AddNumberToObject (root, "parameters", (double) nn_graph_count_trainable (g));
      status = cli_print_json (root) ? 0 : CLI_EXIT_FAILURE;
    }
  else
    printf ("%s -> %s: %d layers, input %dx%dx%d, %d outputs, %zu parameters\n", path, out,
            g->n_nodes, g->nodes[0].shape.c, g->nodes[0].shape.h, g->nodes[0].shape.w,
            model->n_classes, nn_graph_count_trainable (g));
  nn_model_free (model);
  return status;
}
