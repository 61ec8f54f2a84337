/* SPDX-License-Identifier: MIT */
/* cnnscope-cli filters: the kernels of a conv layer as a grid, one tile per output channel, on
 * the diverging map (0 is white) with a shared max-|w| scale. */
#include <stdio.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage[] =
  "Usage: cnnscope-cli filters MODEL --layer NAME --out PNG [--input-channel K]\n"
  "Draws the weights of conv layer NAME, one tile per output channel: the kernel summed over\n"
  "the input channels, or the kernel of input channel K. Blue is negative, red positive, white\n"
  "zero, on one scale for all tiles. The format follows the extension of --out (.png, .svg,\n"
  ".pdf). 'cnnscope-cli info MODEL' lists the layers (op conv2d).\n";

enum
{
  OPT_LAYER = CLI_OPT_BASE,
  OPT_OUT,
  OPT_INPUT_CHANNEL,
};

static const struct option options[] = {
  { "layer", required_argument, NULL, OPT_LAYER },
  { "out", required_argument, NULL, OPT_OUT },
  { "input-channel", required_argument, NULL, OPT_INPUT_CHANNEL },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

typedef struct
{
  VizFilterGrid grid;
  VizStyle      style;
} Figure;

static void
draw_figure (cairo_t    *cr,
             const void *user_data,
             double      width,
             double      height)
{
  const Figure *fig = user_data;
  viz_filter_grid_draw (cr, &fig->grid, &fig->style, width, height);
}

int
cli_filters_main (int    argc,
                  char **argv)
{
  const char *layer = NULL, *out_path = NULL;
  int input_channel = -1;
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
  Figure fig = {
    .grid = {
      .weights = nn_graph_param_data (g, wi), .oc = p->dims[0], .ic = p->dims[1],
      .kh = p->dims[2], .kw = p->dims[3], .input_channel = input_channel, .selected = -1,
    },
  };
  if (input_channel >= fig.grid.ic)
    {
      cli_fail (CLI_EXIT_USAGE, "bad value '%d' for --input-channel (layer '%s' has %d input "
                "channels per group)", input_channel, layer, fig.grid.ic);
      status = CLI_EXIT_USAGE;
      goto done;
    }
  viz_style_init (&fig.style);
  double width, height;
  cli_grid_figure_size (&fig.style, fig.grid.oc, fig.grid.kh, fig.grid.kw, 48, &width, &height);
  NnError err = { 0 };
  if (!viz_export (out_path, draw_figure, &fig, width, height, &err))
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  status = 0;

done:
  nn_model_free (model);
  return status;
}
