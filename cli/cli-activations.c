/* SPDX-License-Identifier: MIT */
/* cnnscope-cli activations: every channel of one layer's output for one input, as the layer
 * figure the Activations view exports (a tile grid on one scale with its colour bar, one channel
 * large), and optionally the raw values (.npy). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage[] =
  "Usage: cnnscope-cli activations MODEL INPUT --layer NAME --out PNG [--npy FILE]\n"
  "       [--channel K] [--width W] [--height H] [--window lung|mediastinum|bone|W,L]\n"
  "Runs MODEL on INPUT (.png, .jpg, .jpeg or .npy) up to layer NAME and draws each channel of\n"
  "its output as a tile, all on one scale with a colour bar (the diverging map when values\n"
  "are signed), and channel K (default 0) large beside them, as the application's Activations\n"
  "view exports it. The figure's format follows the extension of --out (.png, .svg or .pdf);\n"
  "it is W x H (default 1200 x 750) pixels, or points for .svg and .pdf.\n"
  "--npy writes the layer's output as a float32 (C, H, W) array. 'cnnscope-cli info MODEL'\n"
  "lists the layer names. INPUT may be a CT slice (.dcm, 16-bit PNG in HU + 1024): a CT model\n"
  "reads it through its own window; for other models --window chooses the window (default:\n"
  "(HU + 1024) / 65535).\n";

enum
{
  OPT_LAYER = CLI_OPT_BASE,
  OPT_OUT,
  OPT_NPY,
  OPT_WINDOW,
  OPT_CHANNEL,
};

static const struct option options[] = {
  { "layer", required_argument, NULL, OPT_LAYER },
  { "out", required_argument, NULL, OPT_OUT },
  { "npy", required_argument, NULL, OPT_NPY },
  { "window", required_argument, NULL, OPT_WINDOW },
  { "channel", required_argument, NULL, OPT_CHANNEL },
  CLI_FIGURE_OPTIONS,
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

int
cli_activations_main (int    argc,
                      char **argv)
{
  const char *layer = NULL, *out_path = NULL, *npy_path = NULL;
  NnCtWindow window;
  bool has_window = false;
  int channel = 0;
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
      case OPT_NPY:
        npy_path = optarg;
        break;
      case OPT_WINDOW:
        if (!cli_parse_window (optarg, &window))
          return CLI_EXIT_USAGE;
        has_window = true;
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
  if (argc - optind != 2)
    return cli_fail (CLI_EXIT_USAGE, "activations: expected MODEL and one INPUT (see "
                     "'cnnscope-cli activations --help')");
  if (layer == NULL || out_path == NULL)
    return cli_fail (CLI_EXIT_USAGE, "activations: --%s is required", layer ? "out" : "layer");

  const char *model_path = argv[optind], *input_path = argv[optind + 1];
  int node = -1;
  NnModel *model = cli_load_model_layer (model_path, layer, &node);
  if (model == NULL)
    return CLI_EXIT_FAILURE;
  int status = CLI_EXIT_FAILURE;
  NnError err = { 0 };
  float *tokens = NULL;
  NnContext *ctx = nn_context_new (model->graph, 1, 0, &err);
  if (ctx == NULL)
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  NnInput *input = cli_load_input (model, input_path, has_window ? &window : NULL);
  if (input == NULL)
    goto done;
  memcpy (nn_context_input (ctx), input->tensor,
          sizeof (float) * nn_shape_size (model->graph->nodes[0].shape));
  nn_input_unref (input);
  nn_context_forward (ctx, node);

  NnShape s = model->graph->nodes[node].shape;
  const float *act = nn_context_output (ctx, node);
  size_t n = nn_shape_size (s);
  if (npy_path != NULL)
    {
      const int dims[3] = { s.c, s.h, s.w };
      if (!nn_npy_save (npy_path, act, dims, 3, &err))
        {
          cli_fail_error (CLI_EXIT_FAILURE, &err);
          goto done;
        }
    }

  /* A token layer is drawn as its features over the patch grid; --channel is a feature. */
  NnShape view;
  int skip;
  if (viz_layer_figure_token_view (s, &view, &skip))
    {
      tokens = malloc (sizeof (float) * nn_shape_size (view));
      if (tokens == NULL)
        {
          cli_fail (CLI_EXIT_FAILURE, "out of memory");
          goto done;
        }
      viz_layer_figure_token_grid (tokens, act, s, view, skip);
    }
  else
    view = s;
  if (channel >= view.c)
    {
      cli_fail (CLI_EXIT_USAGE, "bad value '%d' for --channel (layer '%s' has %d channels)",
                channel, layer, view.c);
      status = CLI_EXIT_USAGE;
      goto done;
    }
  /* The finite range; signed values (before a ReLU) read best on the diverging map centred on
   * 0. */
  float lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (isfinite (act[i]))
      {
        lo = act[i] < lo ? act[i] : lo;
        hi = act[i] > hi ? act[i] : hi;
      }
  VizColormap cm;
  viz_colormap_init (&cm, lo < 0.0f ? VIZ_COLORMAP_DIVERGING : VIZ_COLORMAP_SEQUENTIAL, lo, hi);
  VizLayerFigure fig;
  viz_layer_figure_init_activations (&fig, model_path, &model->graph->nodes[node], input_path,
                                     tokens != NULL ? tokens : act, &cm, channel);
  if (!viz_layer_figure_export (&fig, out_path, size.width, size.height, &err))
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  fprintf (stderr, "%s: layer %s, %d channels of %dx%d, values %.4g to %.4g\n", out_path,
           layer, view.c, view.h, view.w, (double) lo + 0.0, (double) hi + 0.0);
  status = 0;

done:
  free (tokens);
  nn_context_free (ctx);
  nn_model_free (model);
  return status;
}
