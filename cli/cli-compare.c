/* SPDX-License-Identifier: MIT */
/* cnnscope-cli compare: two models of the same graph (two checkpoints of a run, a model before
 * and after fine-tuning) layer by layer: linear CKA over a dataset and the weights' change, as
 * a table, JSON and figures; one channel's filters, activation, Grad-CAM and activation-
 * maximization image side by side. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage[] =
  "Usage: cnnscope-cli compare MODEL_A MODEL_B --data DATASET [--out FIGURE] [--json]\n"
  "       [--features flatten|pool] [--limit N] [--seed S] [--matrix FIGURE] [--layer NAME]\n"
  "       [--channel K --input IMAGE --channel-out FIGURE] [--threads N] [--width W]\n"
  "       [--am-steps N] [--height H]\n"
  "Compares two models of the same graph; models whose graphs differ are refused, saying at\n"
  "which node. Both run over the test split of DATASET ('fashion-mnist' or an image folder; at\n"
  "most --limit samples, default 500, drawn at random with --seed, default 1), and every\n"
  "layer's features (--features flatten: the whole output, the default; pool: each channel's\n"
  "mean) are compared by linear CKA (Kornblith et al. 2019): 1 when one model's features are\n"
  "the other's rotated and scaled, near 0 when unrelated. Each layer's weight change is\n"
  "||B - A|| / ||A|| over its weights and biases. Prints a table (or with --json one object),\n"
  "--out draws the per-layer plot (.png, .svg or .pdf; W x H, default 1000 x 600; --layer\n"
  "outlines that layer), --matrix the CKA of every layer of A with every layer of B.\n"
  "--channel K with --layer NAME and --input IMAGE writes to --channel-out the channel's\n"
  "filters (conv layers), its activation on IMAGE, the layer's Grad-CAM for A's top class\n"
  "and the image that maximizes the channel's mean (activation maximization with the\n"
  "defaults of 'cnnscope-cli am', seed 1, --am-steps steps, default 256; 0: no AM row) in\n"
  "both models, side by side.\n";

enum
{
  OPT_DATA = CLI_OPT_BASE,
  OPT_OUT,
  OPT_JSON,
  OPT_FEATURES,
  OPT_LIMIT,
  OPT_SEED,
  OPT_MATRIX,
  OPT_LAYER,
  OPT_CHANNEL,
  OPT_INPUT,
  OPT_CHANNEL_OUT,
  OPT_THREADS,
  OPT_AM_STEPS,
};

static const struct option options[] = {
  { "data", required_argument, NULL, OPT_DATA },
  { "out", required_argument, NULL, OPT_OUT },
  { "json", no_argument, NULL, OPT_JSON },
  { "features", required_argument, NULL, OPT_FEATURES },
  { "limit", required_argument, NULL, OPT_LIMIT },
  { "seed", required_argument, NULL, OPT_SEED },
  { "matrix", required_argument, NULL, OPT_MATRIX },
  { "layer", required_argument, NULL, OPT_LAYER },
  { "channel", required_argument, NULL, OPT_CHANNEL },
  { "input", required_argument, NULL, OPT_INPUT },
  { "channel-out", required_argument, NULL, OPT_CHANNEL_OUT },
  { "threads", required_argument, NULL, OPT_THREADS },
  { "am-steps", required_argument, NULL, OPT_AM_STEPS },
  CLI_FIGURE_OPTIONS,
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

#define COMPARE_BATCH  64
#define COMPARE_LIMIT  500
#define COMPARE_WIDTH  1000
#define COMPARE_HEIGHT 600
#define COMPARE_AM_STEPS 256

typedef struct
{
  const char *data;
  const char *out;
  const char *matrix;
  const char *layer;
  const char *input;
  const char *channel_out;
  bool        json;
  bool        pool;
  int         limit;
  int         channel;
  int         threads;
  int         am_steps;
  uint64_t    seed;
  CliFigureSize size;
} CompareArgs;

static int
parse_args (CompareArgs *a,
            int          argc,
            char       **argv)
{
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    {
      bool ok = true;
      switch (c)
        {
        case OPT_DATA:
          a->data = optarg;
          break;
        case OPT_OUT:
          a->out = optarg;
          break;
        case OPT_JSON:
          a->json = true;
          break;
        case OPT_FEATURES:
          if (strcmp (optarg, "pool") != 0 && strcmp (optarg, "flatten") != 0)
            return cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --features (flatten or pool)",
                             optarg);
          a->pool = strcmp (optarg, "pool") == 0;
          break;
        case OPT_LIMIT:
          ok = cli_parse_int ("limit", optarg, 2, 1 << 30, &a->limit);
          break;
        case OPT_SEED:
          ok = cli_parse_u64 ("seed", optarg, &a->seed);
          break;
        case OPT_MATRIX:
          a->matrix = optarg;
          break;
        case OPT_LAYER:
          a->layer = optarg;
          break;
        case OPT_CHANNEL:
          ok = cli_parse_int ("channel", optarg, 0, 1 << 24, &a->channel);
          break;
        case OPT_INPUT:
          a->input = optarg;
          break;
        case OPT_CHANNEL_OUT:
          a->channel_out = optarg;
          break;
        case OPT_THREADS:
          ok = cli_parse_int ("threads", optarg, 1, 1024, &a->threads);
          break;
        case OPT_AM_STEPS:
          ok = cli_parse_int ("am-steps", optarg, 0, 1 << 20, &a->am_steps);
          break;
        case CLI_OPT_FIGURE_WIDTH:
        case CLI_OPT_FIGURE_HEIGHT:
          ok = cli_parse_figure_size (c, optarg, &a->size);
          break;
        case 'h':
          fputs (usage, stdout);
          return -1;
        default:
          return CLI_EXIT_USAGE;
        }
      if (!ok)
        return CLI_EXIT_USAGE;
    }
  if (argc - optind != 2)
    return cli_fail (CLI_EXIT_USAGE, "compare: expected MODEL_A and MODEL_B (see 'cnnscope-cli "
                     "compare --help')");
  if (a->data == NULL)
    return cli_fail (CLI_EXIT_USAGE, "compare: --data is required");
  bool any = a->channel >= 0 || a->input != NULL || a->channel_out != NULL;
  bool all = a->channel >= 0 && a->input != NULL && a->channel_out != NULL && a->layer != NULL;
  if (any && !all)
    return cli_fail (CLI_EXIT_USAGE, "compare: the channel figure needs --layer, --channel, "
                     "--input and --channel-out together");
  return 0;
}

/* value, or null when it is not finite (a layer that does not vary, a layer without
 * weights) */
static cJSON *
json_number (double v)
{
  return isfinite (v) ? cJSON_CreateNumber (v) : cJSON_CreateNull ();
}

static void
print_table (const NnCkaLayers *r,
             const NnGraph     *graph)
{
  printf ("%-32s %-14s %10s %8s %14s\n", "layer", "op", "features", "CKA", "weight change");
  for (int l = 0; l < r->n_layers; l++)
    {
      const NnNode *node = &graph->nodes[r->nodes[l]];
      char cka[32] = "-", dist[32] = "-";
      if (isfinite (r->cka[l]))
        snprintf (cka, sizeof cka, "%.4f", r->cka[l]);
      if (isfinite (r->distance[l]))
        snprintf (dist, sizeof dist, "%.4g", r->distance[l]);
      printf ("%-32s %-14s %10d %8s %14s\n", node->name, nn_op_name (node->op), r->dims[l], cka,
              dist);
    }
}

static bool
print_json (const CompareArgs *a,
            const char        *path_a,
            const char        *path_b,
            const NnCkaLayers *r,
            const NnGraph     *graph)
{
  cJSON *root = cJSON_CreateObject ();
  cJSON_AddStringToObject (root, "model_a", path_a);
  cJSON_AddStringToObject (root, "model_b", path_b);
  cJSON_AddStringToObject (root, "dataset", a->data);
  cJSON_AddNumberToObject (root, "n", r->n);
  cJSON_AddStringToObject (root, "features", a->pool ? "pool" : "flatten");
  cJSON_AddNumberToObject (root, "accuracy_a", r->accuracy[0]);
  cJSON_AddNumberToObject (root, "accuracy_b", r->accuracy[1]);
  cJSON *layers = cJSON_AddArrayToObject (root, "layers");
  for (int l = 0; l < r->n_layers; l++)
    {
      const NnNode *node = &graph->nodes[r->nodes[l]];
      cJSON *e = cJSON_CreateObject ();
      cJSON_AddStringToObject (e, "name", node->name);
      cJSON_AddStringToObject (e, "op", nn_op_name (node->op));
      cJSON_AddNumberToObject (e, "features", r->dims[l]);
      cJSON_AddItemToObject (e, "cka", json_number (r->cka[l]));
      cJSON_AddItemToObject (e, "weight_change", json_number (r->distance[l]));
      cJSON_AddItemToArray (layers, e);
    }
  if (r->matrix != NULL)
    {
      cJSON *m = cJSON_AddArrayToObject (root, "matrix");
      for (int i = 0; i < r->n_layers; i++)
        {
          cJSON *row = cJSON_CreateArray ();
          for (int j = 0; j < r->n_layers; j++)
            cJSON_AddItemToArray (row, json_number (r->matrix[(size_t) i * r->n_layers + j]));
          cJSON_AddItemToArray (m, row);
        }
    }
  return cli_print_json (root);
}

typedef struct
{
  VizCkaPlot plot;
  VizStyle   style;
} PlotFigure;

static void
draw_plot (cairo_t    *cr,
           const void *user_data,
           double      width,
           double      height)
{
  const PlotFigure *fig = user_data;
  viz_cka_plot_draw (cr, &fig->plot, &fig->style, width, height);
}

typedef struct
{
  VizMatrix   matrix;
  const char *title;
  const char *caption;
  VizStyle    style;
} MatrixFigure;

static void
draw_matrix (cairo_t    *cr,
             const void *user_data,
             double      width,
             double      height)
{
  const MatrixFigure *fig = user_data;
  const VizStyle *style = &fig->style;
  cairo_save (cr);
  cairo_set_source_rgba (cr, style->background[0], style->background[1], style->background[2],
                         style->background[3]);
  cairo_paint (cr);
  double y = viz_text_draw_lines (cr, style, fig->caption, style->margin,
                                  style->margin + viz_text_line_height (style));
  viz_text_draw (cr, style, fig->title, style->margin, style->margin, 0.0, 0.0);
  cairo_translate (cr, 0.0, y);
  viz_matrix_draw (cr, &fig->matrix, style, width, height - y);
  cairo_restore (cr);
}

typedef struct
{
  VizChannelPair pair;
  VizStyle       style;
} PairFigure;

static void
draw_pair (cairo_t    *cr,
           const void *user_data,
           double      width,
           double      height)
{
  const PairFigure *fig = user_data;
  viz_channel_pair_draw (cr, &fig->pair, &fig->style, width, height);
}

/* Runs model on input up to node and copies channel k's (h, w) plane into out. */
static bool
channel_activation (float         *out,
                    NnModel       *model,
                    const NnInput *input,
                    int            node,
                    int            k)
{
  NnError err = { 0 };
  NnContext *ctx = nn_context_new (model->graph, 1, 0, &err);
  if (ctx == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
  nn_context_keep (ctx, node);
  memcpy (nn_context_input (ctx), input->tensor,
          sizeof (float) * nn_shape_size (model->graph->nodes[0].shape));
  nn_context_forward (ctx, node);
  const NnShape s = model->graph->nodes[node].shape;
  memcpy (out, nn_context_output (ctx, node) + (size_t) k * s.h * s.w,
          (size_t) s.h * s.w * sizeof (float));
  nn_context_free (ctx);
  return true;
}

/* Grad-CAM at node for *target (-1: model's top class, then set) into out (h, w at the
 * input's size). *cam false, with a note on stderr, when the layer takes no CAM. */
static bool
channel_cam (float         *out,
             bool          *cam,
             NnModel       *model,
             const NnInput *input,
             int            node,
             int           *target)
{
  NnExplainSpec spec;
  nn_explain_spec_init (&spec);
  spec.map.layer = node;
  spec.map.target = *target;
  spec.faith.metrics = 0;
  NnError err = { 0 };
  NnExplanation *e = nn_explain_run (model, input, &spec, NULL, &err);
  if (e == NULL && err.code == NN_ERROR_SPEC)
    {
      fprintf (stderr, "no Grad-CAM row: %s\n", err.message);
      *cam = false;
      return true;
    }
  if (e == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
  memcpy (out, e->map->map, (size_t) e->map->h * e->map->w * sizeof (float));
  *target = e->map->target;
  nn_explanation_free (e);
  return true;
}

/* Activation maximization of channel k at node in model (the defaults of cnnscope-cli am,
 * seed 1, `steps` steps) into out (the input's c x h x w, pixels in [0, 1]). *am false, with a
 * note on stderr, when the layer takes none; a run that stops being finite gives its best
 * image, with a note. */
static bool
channel_am (float         *out,
            bool          *am,
            const NnModel *model,
            int            node,
            int            k,
            int            steps,
            int            threads)
{
  NnAmSettings s;
  nn_am_settings_init (&s);
  s.layer = node;
  s.channels = &k;
  s.n_channels = 1;
  s.steps = steps;
  s.threads = threads > 0 ? threads : 1;
  NnError err = { 0 };
  NnAmRun *run = nn_am_run_new (model, &s, &err);
  if (run == NULL && err.code == NN_ERROR_SPEC)
    {
      fprintf (stderr, "no activation-maximization row: %s\n", err.message);
      *am = false;
      return true;
    }
  if (run == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
  bool ok = nn_am_run_step (run, steps, NULL, &err);
  if (!ok && err.code != NN_ERROR_NUMERIC)
    {
      nn_am_run_free (run);
      return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
    }
  if (!ok)
    fprintf (stderr, "activation maximization stopped (%s); its best image is shown\n",
             err.message);
  NnShape in = nn_am_run_get_shape (run);
  NnImage *pixels = nn_image_new (in.c, in.h, in.w);
  if (pixels == NULL)
    {
      nn_am_run_free (run);
      return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
    }
  nn_am_image_to_pixels (model, ok ? nn_am_run_peek_image (run, 0)
                                   : nn_am_run_peek_best (run, 0), pixels);
  memcpy (out, pixels->data, nn_shape_size (in) * sizeof (float));
  nn_image_free (pixels);
  nn_am_run_free (run);
  return true;
}

/* The channel figure: its kernels (a conv layer), its activation on --input, the layer's
 * Grad-CAM for A's top class and the channel's AM image, in both. */
static bool
write_channel_figure (const CompareArgs *a,
                      const char        *paths[2],
                      NnModel           *models[2],
                      int                node)
{
  const NnGraph *g = models[0]->graph;
  const NnNode *n = &g->nodes[node];
  if (a->channel >= n->shape.c)
    return cli_fail (CLI_EXIT_USAGE, "bad value '%d' for --channel (layer '%s' has %d "
                     "channels)", a->channel, a->layer, n->shape.c), false;
  PairFigure fig = { 0 };
  viz_style_init (&fig.style);
  char names[2][160], file[128], title[256] = "", caption[512] = "", cam_label[256] = "";
  const size_t plane = (size_t) n->shape.h * n->shape.w;
  NnInput *inputs[2] = { NULL, NULL };
  for (int m = 0; m < 2; m++)
    if ((inputs[m] = cli_load_input (models[m], a->input, NULL)) == NULL)
      {
        nn_input_unref (inputs[0]);
        return false;
      }
  const size_t pixels = (size_t) inputs[0]->h * inputs[0]->w;
  const size_t am_size = nn_shape_size (g->nodes[0].shape);
  float *acts = malloc (2 * plane * sizeof (float));
  float *cams = malloc (2 * pixels * sizeof (float));
  float *ams = malloc (2 * am_size * sizeof (float));
  if (acts == NULL || cams == NULL || ams == NULL)
    {
      free (acts);
      free (cams);
      free (ams);
      nn_input_unref (inputs[0]);
      nn_input_unref (inputs[1]);
      return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
    }
  bool ok = true, cam = inputs[0]->display != NULL, am = a->am_steps > 0;
  int target = -1;
  for (int m = 0; ok && m < 2; m++)
    {
      ok = channel_activation (acts + m * plane, models[m], inputs[m], node, a->channel)
           && (!cam || channel_cam (cams + m * pixels, &cam, models[m], inputs[m], node,
                                    &target))
           && (!am || channel_am (ams + m * am_size, &am, models[m], node, a->channel,
                                  a->am_steps, a->threads));
      snprintf (names[m], sizeof names[m], "%s: %s", m == 0 ? "A" : "B",
                viz_caption_file_name (file, sizeof file, paths[m], false));
      fig.pair.names[m] = names[m];
      fig.pair.acts[m] = acts + m * plane;
      int w = nn_graph_node_param (models[m]->graph, node, NN_PARAM_WEIGHT);
      if (n->op == NN_OP_CONV2D && w >= 0)
        {
          const NnParam *p = &models[m]->graph->params[w];
          fig.pair.ic = p->dims[1];
          fig.pair.kh = p->dims[2];
          fig.pair.kw = p->dims[3];
          fig.pair.filters[m] = nn_graph_param_data (models[m]->graph, w)
                                + (size_t) a->channel * p->dims[1] * p->dims[2] * p->dims[3];
        }
    }
  fig.pair.h = n->shape.h;
  fig.pair.w = n->shape.w;
  if (ok && cam)
    {
      char number[16];
      viz_caption_append (cam_label, sizeof cam_label, "Grad-CAM for class %s (A's top class)",
                          cli_label (models[0], target, number, sizeof number));
      fig.pair.cams[0] = cams;
      fig.pair.cams[1] = cams + pixels;
      fig.pair.image = inputs[0]->display;
      fig.pair.image_c = inputs[0]->c;
      fig.pair.cam_h = inputs[0]->h;
      fig.pair.cam_w = inputs[0]->w;
      fig.pair.cam_label = cam_label;
    }
  char am_label[256] = "";
  if (ok && am)
    {
      const NnShape in = g->nodes[0].shape;
      viz_caption_append (am_label, sizeof am_label, "activation maximization of the channel's "
                          "mean (%d steps, seed 1)", a->am_steps);
      fig.pair.ams[0] = ams;
      fig.pair.ams[1] = ams + am_size;
      fig.pair.am_c = in.c;
      fig.pair.am_h = in.h;
      fig.pair.am_w = in.w;
      fig.pair.am_label = am_label;
    }
  viz_caption_append (title, sizeof title, "Layer %s, channel %d", a->layer, a->channel);
  viz_caption_append (caption, sizeof caption, "input %s; each row on one scale for both models",
                      viz_caption_file_name (file, sizeof file, a->input, false));
  fig.pair.title = title;
  fig.pair.caption = caption;
  NnError err = { 0 };
  if (ok && !viz_export (a->channel_out, draw_pair, &fig, a->size.width, a->size.height, &err))
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      ok = false;
    }
  free (acts);
  free (cams);
  free (ams);
  nn_input_unref (inputs[0]);
  nn_input_unref (inputs[1]);
  return ok;
}

static bool
write_figures (const CompareArgs *a,
               const char        *paths[2],
               const NnCkaLayers *r,
               const NnGraph     *graph,
               int                selected)
{
  char title[320] = "", caption[512] = "", fa[128], fb[128];
  viz_caption_append (title, sizeof title, "%s against %s",
                      viz_caption_file_name (fa, sizeof fa, paths[0], false),
                      viz_caption_file_name (fb, sizeof fb, paths[1], false));
  viz_caption_append (caption, sizeof caption, "linear CKA of each layer's %s features over "
                      "%d samples of %s; accuracy %.1f%% (A), %.1f%% (B)", a->pool ? "pooled"
                      : "flattened", r->n, a->data, 100.0 * r->accuracy[0],
                      100.0 * r->accuracy[1]);
  const char **names = malloc ((size_t) r->n_layers * sizeof (char *));
  float *values = a->matrix ? malloc ((size_t) r->n_layers * r->n_layers * sizeof (float)) : NULL;
  if (names == NULL || (a->matrix != NULL && values == NULL))
    {
      free (names);
      free (values);
      return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
    }
  for (int l = 0; l < r->n_layers; l++)
    names[l] = graph->nodes[r->nodes[l]].name;
  NnError err = { 0 };
  bool ok = true;
  if (a->out != NULL)
    {
      PlotFigure fig = {
        .plot = { r->cka, r->distance, names, r->n_layers, selected, title, caption },
      };
      viz_style_init (&fig.style);
      ok = viz_export (a->out, draw_plot, &fig, a->size.width, a->size.height, &err);
    }
  if (ok && a->matrix != NULL)
    {
      for (size_t i = 0; i < (size_t) r->n_layers * r->n_layers; i++)
        values[i] = (float) r->matrix[i];
      VizColormap cm;
      viz_colormap_init (&cm, VIZ_COLORMAP_SEQUENTIAL, 0.0, 1.0);
      char rows[192], cols[192];
      snprintf (rows, sizeof rows, "layers of A in graph order (0 = %s)", names[0]);
      snprintf (cols, sizeof cols, "layers of B (0 = %s)", names[0]);
      MatrixFigure fig = {
        .matrix = { values, r->n_layers, r->n_layers, &cm, selected, rows, cols },
        .title = title, .caption = caption,
      };
      viz_style_init (&fig.style);
      ok = viz_export (a->matrix, draw_matrix, &fig, a->size.width, a->size.height, &err);
    }
  free (values);
  free (names);
  if (!ok)
    cli_fail_error (CLI_EXIT_FAILURE, &err);
  return ok;
}

int
cli_compare_main (int    argc,
                  char **argv)
{
  CompareArgs a = {
    .limit = COMPARE_LIMIT, .channel = -1, .seed = 1, .am_steps = COMPARE_AM_STEPS,
    .size = { COMPARE_WIDTH, COMPARE_HEIGHT },
  };
  int status = parse_args (&a, argc, argv);
  if (status != 0)
    return status < 0 ? 0 : status;
  cli_set_threads (a.threads);
  const char *paths[2] = { argv[optind], argv[optind + 1] };
  NnModel *models[2] = { NULL, NULL };
  NnDataset *ds = NULL, *part = NULL;
  NnCkaLayers *r = NULL;
  NnError err = { 0 };
  status = CLI_EXIT_FAILURE;
  for (int m = 0; m < 2; m++)
    if ((models[m] = cli_load_model (paths[m])) == NULL)
      goto done;
  if (!nn_graph_check_same (models[0]->graph, models[1]->graph, &err))
    {
      cli_fail (CLI_EXIT_FAILURE, "%s and %s are not the same network: %s", paths[0], paths[1],
                err.message);
      goto done;
    }
  int node = -1;
  if (a.layer != NULL && (node = nn_graph_find (models[0]->graph, a.layer)) < 1)
    {
      if (node == 0)
        cli_fail (CLI_EXIT_USAGE, "'%s' is the input of %s; --layer takes a layer after it",
                  a.layer, paths[0]);
      else
        cli_fail (CLI_EXIT_USAGE, "%s has no layer '%s' (see 'cnnscope-cli info %s')",
                  paths[0], a.layer, paths[0]);
      status = CLI_EXIT_USAGE;
      goto done;
    }
  const NnModel *m0 = models[0];
  int ic = nn_model_input_channels (m0);
  if (ic != 1 && ic != 3)
    {
      cli_fail (CLI_EXIT_FAILURE, "%s: the model takes %d input channels; datasets give 1 or 3",
                paths[0], ic);
      goto done;
    }
  ds = nn_dataset_open (a.data, false, ic, nn_model_input_height (m0),
                        nn_model_input_width (m0), &err);
  if (ds == NULL)
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  if (ds->ct16)
    {
      /* both models see the slices through one window: two checkpoints of a run share it */
      const NnModel *m1 = models[1];
      if (!m0->has_window || !m1->has_window || m0->window.width != m1->window.width
          || m0->window.level != m1->window.level)
        {
          cli_fail (CLI_EXIT_FAILURE, "%s: a CT dataset, but %s and %s do not have the same CT "
                    "window", a.data, paths[0], paths[1]);
          goto done;
        }
      nn_dataset_apply_ct_window (ds, &m0->window);
    }
  if (a.limit < ds->n && (part = nn_dataset_sample (ds, a.limit, a.seed, NULL)) == NULL)
    {
      cli_fail (CLI_EXIT_FAILURE, "out of memory for %d samples", a.limit);
      goto done;
    }
  struct timespec t0, t1;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  r = nn_cka_layers_new (models[0], models[1], part ? part : ds, a.pool ? NN_FEATURES_POOL
                         : NN_FEATURES_FLATTEN, a.matrix != NULL, COMPARE_BATCH, NULL, NULL,
                         NULL, &err);
  if (r == NULL)
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  clock_gettime (CLOCK_MONOTONIC, &t1);
  fprintf (stderr, "%d layers compared over %d samples (%s features) in %.1f s\n", r->n_layers,
           r->n, a.pool ? "pooled" : "flattened", (double) (t1.tv_sec - t0.tv_sec)
           + 1e-9 * (double) (t1.tv_nsec - t0.tv_nsec));
  if (!write_figures (&a, paths, r, m0->graph, node >= 1 ? node - 1 : -1))
    goto done;
  if (a.channel_out != NULL && !write_channel_figure (&a, paths, models, node))
    goto done;
  if (a.json)
    {
      if (!print_json (&a, paths[0], paths[1], r, m0->graph))
        goto done;
    }
  else
    print_table (r, m0->graph);
  status = 0;

done:
  nn_cka_layers_free (r);
  nn_dataset_free (part);
  nn_dataset_free (ds);
  nn_model_free (models[0]);
  nn_model_free (models[1]);
  return status;
}
