/* SPDX-License-Identifier: MIT */
/* cnnscope-cli examples: the samples of a dataset that activate a channel most and least, as a
 * figure of two rows (whole images with the unit's receptive field outlined, or crops at it)
 * and as JSON; the ranking of the whole layer cached in a file when asked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage[] =
  "Usage: cnnscope-cli examples MODEL DATASET --layer NAME --channel K [--k N] [--crop]\n"
  "       [--out FIGURE] [--json] [--cache FILE] [--batch N] [--threads N] [--width W]\n"
  "       [--height H]\n"
  "Runs MODEL over the test split of DATASET ('fashion-mnist', or an image folder; a folder\n"
  "with train/ and test/ inside gives test/) and ranks the samples by channel K's spatial\n"
  "maximum at layer NAME (a layer with C x H x W output). --out draws the k highest (default\n"
  "8) in one row and the k lowest in another (.png, .svg or .pdf; W x H, default 900 x 420),\n"
  "each with its value: whole images with the receptive field of the unit at the maximum\n"
  "outlined, or with --crop only that field. --json prints the ranking (sample, value, unit\n"
  "position, field rectangle, class). --cache FILE reads the ranking of every channel of the\n"
  "layer from FILE when FILE was written for this model file (path, size, modification time),\n"
  "dataset, layer and k, and otherwise computes it and writes FILE.\n";

enum
{
  OPT_LAYER = CLI_OPT_BASE,
  OPT_CHANNEL,
  OPT_K,
  OPT_CROP,
  OPT_OUT,
  OPT_JSON,
  OPT_CACHE,
  OPT_BATCH,
  OPT_THREADS,
};

static const struct option options[] = {
  { "layer", required_argument, NULL, OPT_LAYER },
  { "channel", required_argument, NULL, OPT_CHANNEL },
  { "k", required_argument, NULL, OPT_K },
  { "crop", no_argument, NULL, OPT_CROP },
  { "out", required_argument, NULL, OPT_OUT },
  { "json", no_argument, NULL, OPT_JSON },
  { "cache", required_argument, NULL, OPT_CACHE },
  { "batch", required_argument, NULL, OPT_BATCH },
  { "threads", required_argument, NULL, OPT_THREADS },
  CLI_FIGURE_OPTIONS,
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

#define EXAMPLES_K      8
#define EXAMPLES_BATCH  64
#define EXAMPLES_WIDTH  900
#define EXAMPLES_HEIGHT 420

typedef struct
{
  VizExamples figure;
  VizStyle    style;
} Figure;

static void
draw_figure (cairo_t    *cr,
             const void *user_data,
             double      width,
             double      height)
{
  const Figure *fig = user_data;
  viz_examples_draw (cr, &fig->figure, &fig->style, width, height);
}

static cJSON *
json_tiles (const VizExampleTile *tiles,
            int                   n,
            const NnExample      *list,
            const NnDataset      *ds,
            const NnModel        *model)
{
  cJSON *array = cJSON_CreateArray ();
  for (int i = 0; i < n; i++)
    {
      const VizExampleTile *t = &tiles[i];
      cJSON *e = cJSON_CreateObject ();
      cJSON_AddNumberToObject (e, "index", t->index);
      cJSON_AddNumberToObject (e, "value", t->value);
      cJSON_AddNumberToObject (e, "y", list[i].y);
      cJSON_AddNumberToObject (e, "x", list[i].x);
      cJSON_AddItemToObject (e, "rect", cJSON_CreateIntArray (t->rect, 4));
      int label = ds->labels[t->index];
      char num[16];
      cJSON_AddNumberToObject (e, "class", label);
      cJSON_AddStringToObject (e, "class_name", label < ds->n_classes
                               && ds->class_names[label] != NULL ? ds->class_names[label]
                               : cli_label (model, label, num, sizeof num));
      cJSON_AddItemToArray (array, e);
    }
  return array;
}

/* The ranking from the cache when it holds one for key, else computed (and written to the
 * cache when there is one). *cached says which. */
static NnExamples *
get_examples (NnModel         *model,
              const NnDataset *ds,
              int              node,
              int              k,
              int              batch,
              const char      *cache,
              const char      *key,
              bool            *cached)
{
  NnError err = { 0 };
  *cached = false;
  if (cache != NULL)
    {
      NnExamples *ex = nn_examples_load (cache, key, &err);
      if (ex != NULL && ex->n == ds->n && ex->c == model->graph->nodes[node].shape.c)
        {
          *cached = true;
          return ex;
        }
      if (ex != NULL)
        fprintf (stderr, "cnnscope-cli: %s: written for another size of data or layer; "
                 "computing the examples again\n", cache);
      else if (err.code != NN_ERROR_IO)
        fprintf (stderr, "cnnscope-cli: %s; computing the examples again\n", err.message);
      nn_examples_free (ex);
    }
  NnExamples *ex = nn_examples_new (model, ds, node, k, batch, NULL, NULL, NULL, &err);
  if (ex == NULL)
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      return NULL;
    }
  if (cache != NULL && !nn_examples_save (ex, cache, key, &err))
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      nn_examples_free (ex);
      return NULL;
    }
  return ex;
}

int
cli_examples_main (int    argc,
                   char **argv)
{
  const char *layer = NULL, *out_path = NULL, *cache = NULL;
  bool crop = false, json = false;
  int channel = -1, k = EXAMPLES_K, batch = EXAMPLES_BATCH, threads = 0;
  CliFigureSize size = { EXAMPLES_WIDTH, EXAMPLES_HEIGHT };
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    switch (c)
      {
      case OPT_LAYER:
        layer = optarg;
        break;
      case OPT_CHANNEL:
        if (!cli_parse_int ("channel", optarg, 0, 1 << 30, &channel))
          return CLI_EXIT_USAGE;
        break;
      case OPT_K:
        if (!cli_parse_int ("k", optarg, 1, 64, &k))
          return CLI_EXIT_USAGE;
        break;
      case OPT_CROP:
        crop = true;
        break;
      case OPT_OUT:
        out_path = optarg;
        break;
      case OPT_JSON:
        json = true;
        break;
      case OPT_CACHE:
        cache = optarg;
        break;
      case OPT_BATCH:
        if (!cli_parse_int ("batch", optarg, 1, 4096, &batch))
          return CLI_EXIT_USAGE;
        break;
      case OPT_THREADS:
        if (!cli_parse_int ("threads", optarg, 1, 1024, &threads))
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
    return cli_fail (CLI_EXIT_USAGE, "examples: expected MODEL and DATASET (see 'cnnscope-cli "
                     "examples --help')");
  if (layer == NULL)
    return cli_fail (CLI_EXIT_USAGE, "examples: --layer is required");
  if (channel < 0)
    return cli_fail (CLI_EXIT_USAGE, "examples: --channel is required");
  if (out_path == NULL && !json)
    return cli_fail (CLI_EXIT_USAGE, "examples: --out or --json is required");
  cli_set_threads (threads);

  const char *model_path = argv[optind], *dataset = argv[optind + 1];
  NnError err = { 0 };
  /* The file's identity before it is read: a file rewritten meanwhile gets another key. */
  char *identity = NULL;
  if (cache != NULL && (identity = nn_examples_model_identity (model_path, &err)) == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err);
  int node = -1;
  NnModel *model = cli_load_model_layer (model_path, layer, &node);
  if (model == NULL)
    {
      free (identity);
      return CLI_EXIT_FAILURE;
    }
  int status = CLI_EXIT_FAILURE;
  NnDataset *ds = NULL;
  NnExamples *ex = NULL;
  VizExampleTile *tiles = NULL;
  char *key = NULL;
  const NnShape shape = model->graph->nodes[node].shape;
  if (shape.rank != 3)
    {
      cli_fail (CLI_EXIT_FAILURE, "%s: layer %s has no channels with a spatial plane (its "
                "output is not C x H x W)", model_path, layer);
      goto done;
    }
  if (channel >= shape.c)
    {
      cli_fail (CLI_EXIT_USAGE, "%s: layer %s has %d channels (0 to %d), not %d", model_path,
                layer, shape.c, shape.c - 1, channel);
      status = CLI_EXIT_USAGE;
      goto done;
    }
  NnReceptiveField field;
  if (!nn_receptive_field (&field, model->graph, node, &err))
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
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
  if (model->has_window && ds->ct16)
    nn_dataset_apply_ct_window (ds, &model->window);
  if (cache != NULL)
    {
      key = nn_examples_cache_key (identity, dataset, layer, k, &err);
      if (key == NULL)
        {
          cli_fail_error (CLI_EXIT_FAILURE, &err);
          goto done;
        }
    }
  bool cached = false;
  ex = get_examples (model, ds, node, k, batch, cache, key, &cached);
  if (ex == NULL)
    goto done;

  const int count = nn_examples_count (ex);
  tiles = calloc ((size_t) 2 * count, sizeof *tiles);
  if (tiles == NULL)
    {
      cli_fail (CLI_EXIT_FAILURE, "out of memory");
      goto done;
    }
  viz_examples_tiles (tiles, ex, channel, ds, &field);
  char name[128], title[256] = "", caption[512];
  viz_caption_append (title, sizeof title, "Dataset examples of %s",
                      viz_caption_file_name (name, sizeof name, model_path, false));
  viz_examples_caption (caption, sizeof caption, layer, channel, dataset, ex->n, &field, crop);
  if (out_path != NULL)
    {
      Figure fig = {
        .figure = { tiles, tiles + count, count, crop, title, caption, { NULL, NULL } },
      };
      viz_style_init (&fig.style);
      if (!viz_export (out_path, draw_figure, &fig, size.width, size.height, &err))
        {
          cli_fail_error (CLI_EXIT_FAILURE, &err);
          goto done;
        }
    }
  if (json)
    {
      cJSON *root = cJSON_CreateObject ();
      cJSON_AddStringToObject (root, "model", model_path);
      cJSON_AddStringToObject (root, "dataset", dataset);
      cJSON_AddStringToObject (root, "layer", layer);
      cJSON_AddNumberToObject (root, "channel", channel);
      cJSON_AddNumberToObject (root, "k", k);
      cJSON_AddNumberToObject (root, "n", ex->n);
      cJSON_AddStringToObject (root, "statistic", "spatial max");
      cJSON_AddBoolToObject (root, "cached", cached);
      cJSON *f = cJSON_AddObjectToObject (root, "receptive_field");
      cJSON_AddBoolToObject (f, "whole", field.whole);
      int fs[2] = { field.size_h, field.size_w }, fj[2] = { field.jump_h, field.jump_w };
      int f0[2] = { field.start_h, field.start_w };
      cJSON_AddItemToObject (f, "size", cJSON_CreateIntArray (fs, 2));
      cJSON_AddItemToObject (f, "jump", cJSON_CreateIntArray (fj, 2));
      cJSON_AddItemToObject (f, "start", cJSON_CreateIntArray (f0, 2));
      cJSON_AddItemToObject (root, "top", json_tiles (tiles, count, nn_examples_top (ex, channel),
                                                      ds, model));
      cJSON_AddItemToObject (root, "bottom", json_tiles (tiles + count, count,
                                                         nn_examples_bottom (ex, channel), ds,
                                                         model));
      if (!cli_print_json (root))
        goto done;
    }
  fprintf (stderr, "%s: layer %s channel %d, %d samples%s\n", out_path ? out_path : "examples",
           layer, channel, ex->n, cached ? " (from the cache)" : "");
  status = 0;

done:
  free (tiles);
  free (key);
  free (identity);
  nn_examples_free (ex);
  nn_dataset_free (ds);
  nn_model_free (model);
  return status;
}
