/* SPDX-License-Identifier: MIT */
/* cnnscope-cli filters: the kernels of a conv layer as the layer figure the Filters view
 * exports: a grid, one tile per output channel, on the diverging map (0 is white) with a shared
 * max-|w| scale, and one kernel large with its values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage[] =
  "Usage: cnnscope-cli filters MODEL --layer NAME --out PNG [--input-channel K]\n"
  "       [--channel K] [--width W] [--height H]\n"
  "Draws the weights of conv layer NAME, one tile per output channel: the kernel summed over\n"
  "the input channels, or the kernel of input channel K. Blue is negative, red positive, white\n"
  "zero, on one scale for all tiles; output channel --channel (default 0) is shown large, as\n"
  "the application's Filters view exports it. The format follows the extension of --out (.png,\n"
  ".svg, .pdf); the figure is W x H (default 1200 x 750) pixels, or points for .svg and .pdf.\n"
  "'cnnscope-cli info MODEL' lists the layers (op conv2d).\n";

enum
{
  OPT_LAYER = CLI_OPT_BASE,
  OPT_OUT,
  OPT_INPUT_CHANNEL,
  OPT_CHANNEL,
};

static const struct option options[] = {
  { "layer", required_argument, NULL, OPT_LAYER },
  { "out", required_argument, NULL, OPT_OUT },
  { "input-channel", required_argument, NULL, OPT_INPUT_CHANNEL },
  { "channel", required_argument, NULL, OPT_CHANNEL },
  CLI_FIGURE_OPTIONS,
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

int
cli_filters_main (int    argc,
                  char **argv)
{
  const char *layer = NULL, *out_path = NULL;
  int input_channel = -1, channel = 0;
  CliFigureSize size = { VIZ_LAYER_FIGURE_WIDTH, VIZ_LAYER_FIGURE_HEIGHT };
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    switch (c)
      {
      case OPT_LAYER:
        layer = optarg;
        break;
      case OPT_OUT:
        out_path = optarg;
        break;
      case OPT_INPUT_CHANNEL:
        if (!cli_parse_int ("input-channel", optarg, 0, 1 << 20, &input_channel))
          return CLI_EXIT_USAGE;
        break;
      case OPT_CHANNEL:
        if (!cli_parse_int ("channel", optarg, 0, 1 << 24, &channel))
          return CLI_EXIT_USAGE;
        break;
      case CLI_OPT_FIGURE_WIDTH:
      case CLI_OPT_FIGURE_HEIGHT:
        if (!cli_parse_figure_size (c, optarg, &size))
          return CLI_EXIT_USAGE;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return CLI_EXIT_USAGE;
      }
  if (argc - optind != 1)
    return cli_fail (CLI_EXIT_USAGE, "filters: expected one MODEL (see 'cnnscope-cli filters "
                     "--help')");
  if (layer == NULL || out_path == NULL)
    return cli_fail (CLI_EXIT_USAGE, "filters: --%s is required", layer ? "out" : "layer");

  const char *model_path = argv[optind];
  int node = -1;
  NnModel *model = cli_load_model_layer (model_path, layer, &node);
  if (model == NULL)
    return CLI_EXIT_FAILURE;
  int status = CLI_EXIT_FAILURE;
  const NnGraph *g = model->graph;
  if (g->nodes[node].op != NN_OP_CONV2D)
    {
      cli_fail (CLI_EXIT_FAILURE, "layer '%s' of %s has op '%s', not 'conv2d': filters draws "
                "conv weights only", layer, model_path, nn_op_name (g->nodes[node].op));
      goto done;
    }
  int wi = nn_graph_node_param (g, node, NN_PARAM_WEIGHT);
  const NnParam *p = &g->params[wi];
  NN_ASSERT (p->ndim == 4);
  VizFilterGrid filters = {
    .weights = nn_graph_param_data (g, wi), .oc = p->dims[0], .ic = p->dims[1],
    .kh = p->dims[2], .kw = p->dims[3], .input_channel = input_channel, .selected = -1,
  };
  if (input_channel >= filters.ic || channel >= filters.oc)
    {
      bool in = input_channel >= filters.ic;
      cli_fail (CLI_EXIT_USAGE, "bad value '%d' for --%s (layer '%s' has %d %s)",
                in ? input_channel : channel, in ? "input-channel" : "channel", layer,
                in ? filters.ic : filters.oc,
                in ? "input channels per group" : "output channels");
      status = CLI_EXIT_USAGE;
      goto done;
    }
  VizColormap cm;
  float *maps = viz_filter_grid_maps_new (&filters, &cm);
  if (maps == NULL)
    {
      cli_fail (CLI_EXIT_FAILURE, "out of memory");
      goto done;
    }
  VizLayerFigure fig;
  viz_layer_figure_init_filters (&fig, model_path, layer, &filters, maps, &cm, channel);
  NnError err = { 0 };
  if (!viz_layer_figure_export (&fig, out_path, size.width, size.height, &err))
    cli_fail_error (CLI_EXIT_FAILURE, &err);
  else
    status = 0;
  free (maps);

done:
  nn_model_free (model);
  return status;
}
