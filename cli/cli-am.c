/* SPDX-License-Identifier: MIT */
/* cnnscope-cli am: activation maximization of channels, units or class logits under a chosen
 * gradient policy (exact, ProxyGrad, ...), writing the images (the Maximize view's figure as
 * PNG/SVG/PDF, .npy) and, with --json, the original network's objective per step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage[] =
  "Usage: cnnscope-cli am MODEL --layer NAME --channel K[,K...] [options]\n"
  "       cnnscope-cli am MODEL --layer NAME --all-channels [options]\n"
  "Generates the input that maximizes an objective of layer NAME by gradient ascent on the\n"
  "image, all channels of one call in one batch. The objective is always reported for the\n"
  "original network (its own forward pass), whatever the gradient policy.\n"
  "  --objective O      mean (default), center, percentile, unit, logit or direction\n"
  "  --channel K[,K]    channels (classes for logit) to maximize, one image each\n"
  "  --all-channels     every channel of the layer (every class for logit), in batches\n"
  "  --batch N          images per batch with --all-channels (default 16)\n"
  "  --unit Y,X         the unit of objective 'unit'\n"
  "  --percentile P     top share in percent of objective 'percentile' (default 10)\n"
  "  --direction W,...  one weight per channel of objective 'direction'\n"
  "  --policy P         exact (default), proxygrad:B, proxygrad-full:B, sugar:bsilu,\n"
  "                     sugar:nelu, identity or redirected\n"
  "  --warmup F         share of the steps run with the identity policy first (default 0)\n"
  "  --steps N          (default 256)    --lr X (default 0.05)    --seed S (default 1)\n"
  "  --optimizer O      nga (normalized gradient ascent, default) or adam\n"
  "  --param P          pixels (default) or fourier (cosine basis, decorrelated colour)\n"
  "  --transforms LIST  none (default), all, or some of pad,jitter,scale,rotate,blur\n"
  "  --l2 X, --tv X     penalty weights of mean (x^2) and total variation (default 0)\n"
  "  --start S          noise (default) or an image (.png, .jpg, .npy, e.g. a previous --npy)\n"
  "  --threads N        worker threads (default 1)\n"
  "  --out FILE         the figure (.png, .svg or .pdf): one image with its objective curve,\n"
  "                     or a grid of several with their final objectives\n"
  "  --width W, --height H  the figure's size (default 1200 x 800)\n"
  "  --npy FILE         the normalized images, float32 (C, H, W) or (N, C, H, W)\n"
  "  --json             the final objective and its history (per channel with several)\n"
  "The logit objective needs no --layer (the logits of the output).\n";

enum
{
  OPT_LAYER = CLI_OPT_BASE,
  OPT_CHANNEL,
  OPT_ALL,
  OPT_BATCH,
  OPT_OBJECTIVE,
  OPT_UNIT,
  OPT_PERCENTILE,
  OPT_DIRECTION,
  OPT_POLICY,
  OPT_WARMUP,
  OPT_STEPS,
  OPT_LR,
  OPT_SEED,
  OPT_OPTIMIZER,
  OPT_PARAM,
  OPT_TRANSFORMS,
  OPT_L2,
  OPT_TV,
  OPT_START,
  OPT_THREADS,
  OPT_OUT,
  OPT_NPY,
  OPT_JSON,
};

static const struct option options[] = {
  { "layer", required_argument, NULL, OPT_LAYER },
  { "channel", required_argument, NULL, OPT_CHANNEL },
  { "all-channels", no_argument, NULL, OPT_ALL },
  { "batch", required_argument, NULL, OPT_BATCH },
  { "objective", required_argument, NULL, OPT_OBJECTIVE },
  { "unit", required_argument, NULL, OPT_UNIT },
  { "percentile", required_argument, NULL, OPT_PERCENTILE },
  { "direction", required_argument, NULL, OPT_DIRECTION },
  { "policy", required_argument, NULL, OPT_POLICY },
  { "warmup", required_argument, NULL, OPT_WARMUP },
  { "steps", required_argument, NULL, OPT_STEPS },
  { "lr", required_argument, NULL, OPT_LR },
  { "seed", required_argument, NULL, OPT_SEED },
  { "optimizer", required_argument, NULL, OPT_OPTIMIZER },
  { "param", required_argument, NULL, OPT_PARAM },
  { "transforms", required_argument, NULL, OPT_TRANSFORMS },
  { "l2", required_argument, NULL, OPT_L2 },
  { "tv", required_argument, NULL, OPT_TV },
  { "start", required_argument, NULL, OPT_START },
  { "threads", required_argument, NULL, OPT_THREADS },
  { "out", required_argument, NULL, OPT_OUT },
  { "npy", required_argument, NULL, OPT_NPY },
  { "json", no_argument, NULL, OPT_JSON },
  CLI_FIGURE_OPTIONS,
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

typedef struct
{
  NnAmSettings settings;
  const char  *layer, *start, *out, *npy;
  int         *channels;
  int          n_channels;
  float       *direction;
  int          n_direction;
  bool         all, json;
  int          batch, threads;
  CliFigureSize size;
} Args;

/* Parses "a,b,c" into a new array of floats (ints when as_int). */
static bool
parse_list (const char *option,
            const char *text,
            bool        as_int,
            void      **out,
            int        *n)
{
  int count = 1;
  for (const char *p = text; *p; p++)
    count += *p == ',';
  if (count > NN_AM_MAX_BATCH * 16)
    return cli_fail (CLI_EXIT_USAGE, "%s: too many values", option), false;
  void *values = calloc ((size_t) count, as_int ? sizeof (int) : sizeof (float));
  char *copy = strdup (text);
  if (values == NULL || copy == NULL)
    {
      free (values);
      free (copy);
      return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
    }
  int k = 0;
  bool ok = true;
  char *save = NULL;
  for (char *tok = strtok_r (copy, ",", &save); tok && ok; tok = strtok_r (NULL, ",", &save))
    {
      if (as_int)
        ok = cli_parse_int (option, tok, 0, 1 << 30, &((int *) values)[k]);
      else
        ok = cli_parse_float (option, tok, -1e6, 1e6, &((float *) values)[k]);
      k++;
    }
  free (copy);
  if (ok && k != count)
    ok = (cli_fail (CLI_EXIT_USAGE, "bad value for %s: '%s' (empty entry)", option, text), false);
  if (!ok)
    {
      free (values);
      return false;
    }
  *out = values;
  *n = k;
  return true;
}

static int
parse_args (int    argc,
            char **argv,
            Args  *a)
{
  NnError err = { 0 };
  nn_am_settings_init (&a->settings);
  NnAmSettings *s = &a->settings;
  a->batch = 16;
  a->threads = 1;
  a->size = (CliFigureSize) { VIZ_AM_FIGURE_WIDTH, VIZ_AM_FIGURE_HEIGHT };
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    {
      bool ok = true;
      switch (c)
        {
        case OPT_LAYER:
          a->layer = optarg;
          break;
        case OPT_CHANNEL:
          free (a->channels);
          a->channels = NULL;
          ok = parse_list ("--channel", optarg, true, (void **) &a->channels, &a->n_channels);
          break;
        case OPT_ALL:
          a->all = true;
          break;
        case OPT_BATCH:
          ok = cli_parse_int ("--batch", optarg, 1, NN_AM_MAX_BATCH, &a->batch);
          break;
        case OPT_OBJECTIVE:
          if (!nn_am_objective_parse (optarg, &s->objective, &err))
            {
              nn_error_prefix (&err, "--objective");
              return cli_fail_error (CLI_EXIT_USAGE, &err);
            }
          break;
        case OPT_UNIT:
          {
            int *yx = NULL, n = 0;
            ok = parse_list ("--unit", optarg, true, (void **) &yx, &n);
            if (ok && n != 2)
              ok = (cli_fail (CLI_EXIT_USAGE, "bad value for --unit: '%s' (expected Y,X)",
                              optarg), false);
            if (ok)
              {
                s->unit_y = yx[0];
                s->unit_x = yx[1];
                s->objective = NN_AM_OBJECTIVE_UNIT;
              }
            free (yx);
            break;
          }
        case OPT_PERCENTILE:
          ok = cli_parse_float ("--percentile", optarg, 1e-6, 100.0, &s->percentile);
          break;
        case OPT_DIRECTION:
          free (a->direction);
          a->direction = NULL;
          ok = parse_list ("--direction", optarg, false, (void **) &a->direction,
                           &a->n_direction);
          s->objective = NN_AM_OBJECTIVE_DIRECTION;
          break;
        case OPT_POLICY:
          if (!nn_grad_policy_parse (optarg, &s->policy, &err))
            {
              nn_error_prefix (&err, "--policy");
              return cli_fail_error (CLI_EXIT_USAGE, &err);
            }
          break;
        case OPT_WARMUP:
          ok = cli_parse_float ("--warmup", optarg, 0.0, 1.0, &s->warmup);
          break;
        case OPT_STEPS:
          ok = cli_parse_int ("--steps", optarg, 1, NN_AM_MAX_STEPS, &s->steps);
          break;
        case OPT_LR:
          ok = cli_parse_float ("--lr", optarg, 1e-9, 1e6, &s->lr);
          break;
        case OPT_SEED:
          ok = cli_parse_u64 ("--seed", optarg, &s->seed);
          break;
        case OPT_OPTIMIZER:
          if (strcmp (optarg, "nga") == 0)
            s->optimizer = NN_AM_OPTIMIZER_NGA;
          else if (strcmp (optarg, "adam") == 0)
            s->optimizer = NN_AM_OPTIMIZER_ADAM;
          else
            return cli_fail (CLI_EXIT_USAGE, "bad value for --optimizer: '%s' (expected nga "
                             "or adam)", optarg);
          break;
        case OPT_PARAM:
          if (strcmp (optarg, "pixels") == 0)
            s->param = NN_AM_PARAM_PIXELS;
          else if (strcmp (optarg, "fourier") == 0)
            s->param = NN_AM_PARAM_FOURIER;
          else
            return cli_fail (CLI_EXIT_USAGE, "bad value for --param: '%s' (expected pixels or "
                             "fourier)", optarg);
          break;
        case OPT_TRANSFORMS:
          if (!nn_am_transforms_parse (optarg, &s->transforms, &err))
            {
              nn_error_prefix (&err, "--transforms");
              return cli_fail_error (CLI_EXIT_USAGE, &err);
            }
          break;
        case OPT_L2:
          ok = cli_parse_float ("--l2", optarg, 0.0, 1e6, &s->l2);
          break;
        case OPT_TV:
          ok = cli_parse_float ("--tv", optarg, 0.0, 1e6, &s->tv);
          break;
        case OPT_START:
          a->start = strcmp (optarg, "noise") == 0 ? NULL : optarg;
          break;
        case OPT_THREADS:
          ok = cli_parse_int ("--threads", optarg, 1, 64, &a->threads);
          break;
        case OPT_OUT:
          a->out = optarg;
          break;
        case OPT_NPY:
          a->npy = optarg;
          break;
        case OPT_JSON:
          a->json = true;
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
  if (argc - optind != 1)
    return cli_fail (CLI_EXIT_USAGE, "am: expected one MODEL (see 'cnnscope-cli am --help')");
  bool logit = s->objective == NN_AM_OBJECTIVE_LOGIT;
  bool direction = s->objective == NN_AM_OBJECTIVE_DIRECTION;
  if (a->layer == NULL && !logit)
    return cli_fail (CLI_EXIT_USAGE, "am: --layer is required (except for --objective logit)");
  if (direction && a->direction == NULL)
    return cli_fail (CLI_EXIT_USAGE, "am: objective 'direction' needs --direction W,...");
  if (!direction && a->all == (a->channels != NULL))
    return cli_fail (CLI_EXIT_USAGE, "am: give either --channel K[,K...] or --all-channels");
  if (direction && (a->all || a->channels))
    return cli_fail (CLI_EXIT_USAGE, "am: objective 'direction' makes one image; drop "
                     "--channel and --all-channels");
  if (a->out == NULL && a->npy == NULL && !a->json)
    return cli_fail (CLI_EXIT_USAGE, "am: nothing to write (give --out, --npy or --json)");
  s->threads = a->threads;
  return 0;
}

/* What the figure shows besides the images: each image's final objective, and the first
 * image's history (a single image is drawn with its curve). */
typedef struct
{
  double *values;    /* one per image; NAN where not finite */
  double *history;   /* of image 0 */
  int     n_history;
  bool    done;      /* every run reached its last step */
} Outcome;

/* Keeps what a finished (ok) or failed run of nb images tells, the first of them image
 * `first`: the images (after a NaN the best ones so far: that is what there is to write), one
 * JSON item and one line on stderr each, and their outcome for the figure. */
static bool
keep_batch (const Args    *a,
            const NnAmRun *run,
            int            first,
            int            nb,
            bool           ok,
            float         *images,
            size_t         size,
            cJSON         *items,
            Outcome       *out)
{
  const bool direction = a->settings.objective == NN_AM_OBJECTIVE_DIRECTION;
  for (int b = 0; b < nb; b++)
    {
      memcpy (images + (size_t) (first + b) * size,
              ok ? nn_am_run_peek_image (run, b) : nn_am_run_peek_best (run, b),
              sizeof (float) * size);
      cJSON *item = cJSON_CreateObject ();
      cJSON_AddItemToArray (items, item);
      if (!direction)
        cJSON_AddNumberToObject (item, "channel", a->channels[first + b]);
      float f = nn_am_run_get_objective (run, b);
      float best = nn_am_run_get_best_objective (run, b);
      int n = 0;
      const float *h = nn_am_run_peek_history (run, b, &n);
      cJSON_AddNumberToObject (item, "objective", isfinite (f) ? (double) f : NAN);
      cJSON_AddNumberToObject (item, "initial", (double) h[0]);
      cJSON_AddNumberToObject (item, "best_objective", (double) best);
      if (!a->all)
        {
          cJSON *hist = cJSON_AddArrayToObject (item, "history");
          for (int t = 0; t < n; t++)
            cJSON_AddItemToArray (hist, cJSON_CreateNumber (isfinite (h[t]) ? (double) h[t]
                                                                          : NAN));
        }
      if (!a->json)
        fprintf (stderr, "%s %d: objective %.6g -> %.6g (best %.6g)\n",
                 a->settings.objective == NN_AM_OBJECTIVE_LOGIT ? "class" : "channel",
                 direction ? -1 : a->channels[first + b], (double) h[0], (double) f,
                 (double) best);
      out->values[first + b] = isfinite (f) ? (double) f : NAN;
    }
  out->done &= ok;
  if (first > 0)
    return true;
  int n = 0;
  const float *h = nn_am_run_peek_history (run, 0, &n);
  out->history = malloc (sizeof (double) * (size_t) (n > 0 ? n : 1));
  if (out->history == NULL)
    return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
  for (int t = 0; t < n; t++)
    out->history[t] = isfinite (h[t]) ? (double) h[t] : NAN;
  out->n_history = n;
  return true;
}

/* The Maximize view's figure of n normalized images: one with its curve, or a grid of the
 * channels in a->channels (nothing but the first run's settings differ between the batches). */
static bool
write_figure (const NnModel *model,
              const char    *model_path,
              const Args    *a,
              const float   *images,
              int            n,
              const Outcome *out)
{
  const NnShape in = model->graph->nodes[0].shape;
  const size_t size = nn_shape_size (in);
  NnAmSettings s = a->settings;
  bool direction = s.objective == NN_AM_OBJECTIVE_DIRECTION;
  s.channels = direction ? NULL : a->channels;
  s.n_channels = n;
  cairo_surface_t **tiles = calloc ((size_t) n, sizeof (cairo_surface_t *));
  NnImage *pixels = nn_image_new (in.c, in.h, in.w);
  bool ok = tiles != NULL && pixels != NULL;
  for (int k = 0; k < n && ok; k++)
    {
      nn_am_image_to_pixels (model, images + (size_t) k * size, pixels);
      ok = (tiles[k] = viz_image_surface_new (pixels->data, in.c, in.h, in.w)) != NULL;
    }
  VizAmFigure fig = { 0 };
  char policy[64];
  nn_grad_policy_format (&s.policy, policy, sizeof policy);
  viz_am_figure_caption (fig.caption, sizeof fig.caption, model_path, model, &s, policy,
                         a->all);
  if (n == 1)
    {
      VizAmPanel *p = &fig.panels[0];
      viz_am_figure_panel_title (p->title, sizeof p->title, &s.policy, out->values[0],
                                 out->done);
      p->image = ok ? tiles[0] : NULL;
      p->history = out->history;
      p->n_history = out->n_history;
      fig.n_panels = 1;
    }
  else
    {
      fig.tiles = tiles;
      fig.tile_values = out->values;
      fig.tile_channels = a->channels;
      fig.n_tiles = n;
    }
  NnError err = { 0 };
  if (!ok)
    cli_fail (CLI_EXIT_FAILURE, "out of memory");
  else if (!viz_am_figure_export (&fig, a->out, a->size.width, a->size.height, &err))
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      ok = false;
    }
  for (int k = 0; k < n && tiles != NULL; k++)
    if (tiles[k] != NULL)
      cairo_surface_destroy (tiles[k]);
  free (tiles);
  nn_image_free (pixels);
  return ok;
}

int
cli_am_main (int    argc,
             char **argv)
{
  Args a = { 0 };
  int status = parse_args (argc, argv, &a);
  if (status != 0)
    {
      free (a.channels);
      free (a.direction);
      return status < 0 ? 0 : status;
    }
  NnAmSettings *s = &a.settings;
  status = CLI_EXIT_FAILURE;
  NnModel *model = NULL;
  int node = -1;
  NnInput *start = NULL;
  float *images = NULL;
  cJSON *json = NULL;
  NnAmRun *run = NULL;
  Outcome outcome = { .done = true };
  if (a.layer)
    model = cli_load_model_layer (argv[optind], a.layer, &node);
  else
    model = cli_load_model (argv[optind]);
  if (model == NULL)
    goto done;
  s->layer = node;
  const NnGraph *g = model->graph;
  if (s->objective == NN_AM_OBJECTIVE_DIRECTION)
    {
      int lc = g->nodes[node].shape.c;
      if (a.n_direction != lc)
        {
          cli_fail (CLI_EXIT_USAGE, "--direction: %d weights for the %d channels of layer '%s'",
                    a.n_direction, lc, a.layer);
          status = CLI_EXIT_USAGE;
          goto done;
        }
      s->direction = a.direction;
    }
  const size_t size = nn_shape_size (g->nodes[0].shape);
  if (a.start)
    {
      start = cli_load_input (model, a.start, NULL);
      if (start == NULL)
        goto done;
      s->start = start->tensor;
      s->start_items = 1;
    }

  /* The channels: the given ones, or all of the layer's (the logits' for logit). */
  int lnode = node;
  if (lnode < 0)
    {
      lnode = nn_graph_output (g);
      if (g->nodes[lnode].op == NN_OP_SOFTMAX)
        lnode = g->nodes[lnode].inputs[0];
    }
  if (a.all)
    {
      a.n_channels = g->nodes[lnode].shape.c;
      a.channels = malloc (sizeof (int) * (size_t) a.n_channels);
      if (a.channels == NULL)
        goto done;
      for (int k = 0; k < a.n_channels; k++)
        a.channels[k] = k;
    }
  const bool direction = s->objective == NN_AM_OBJECTIVE_DIRECTION;
  const int total = direction ? 1 : a.n_channels;
  const int batch = a.all ? a.batch : total;
  images = malloc (sizeof (float) * size * (size_t) total);
  outcome.values = malloc (sizeof (double) * (size_t) total);
  json = cJSON_CreateObject ();
  cJSON *items = cJSON_CreateArray ();
  if (images == NULL || outcome.values == NULL || json == NULL || items == NULL)
    {
      cJSON_Delete (items);
      cli_fail (CLI_EXIT_FAILURE, "out of memory");
      goto done;
    }
  char policy[64];
  nn_grad_policy_format (&s->policy, policy, sizeof policy);
  cJSON_AddStringToObject (json, "layer", g->nodes[lnode].name);
  cJSON_AddStringToObject (json, "target", nn_am_objective_name (s->objective));
  cJSON_AddStringToObject (json, "policy", policy);
  cJSON_AddNumberToObject (json, "steps", s->steps);
  cJSON_AddNumberToObject (json, "seed", (double) s->seed);
  cJSON_AddItemToObject (json, "channels", items);

  NnError err = { 0 };
  for (int first = 0; first < total; first += batch)
    {
      int nb = total - first < batch ? total - first : batch;
      s->channels = direction ? NULL : a.channels + first;
      s->n_channels = nb;
      run = nn_am_run_new (model, s, &err);
      if (run == NULL)
        {
          nn_error_prefix (&err, "%s", argv[optind]);
          cli_fail_error (CLI_EXIT_FAILURE, &err);
          goto done;
        }
      bool ok = nn_am_run_step (run, s->steps, NULL, &err);
      if (!keep_batch (&a, run, first, nb, ok, images, size, items, &outcome))
        goto done;
      nn_am_run_free (run);
      run = NULL;
      if (!ok)
        {
          /* Keep what there is: the best images so far are still written. */
          cli_fail_error (CLI_EXIT_FAILURE, &err);
          if (a.npy || a.out)
            fprintf (stderr, "cnnscope-cli: writing the best images so far\n");
          status = -1;
          break;
        }
    }
  if (cJSON_GetArraySize (items) > 0)
    {
      /* The first image's final objective and history, at the top for a single image. */
      cJSON *first = cJSON_GetArrayItem (items, 0);
      cJSON_AddNumberToObject (json, "objective",
                               cJSON_GetNumberValue (cJSON_GetObjectItem (first, "objective")));
      cJSON *hist = cJSON_GetObjectItem (first, "history");
      if (hist)
        cJSON_AddItemToObject (json, "history", cJSON_Duplicate (hist, true));
    }

  if (a.npy)
    {
      const NnShape in = g->nodes[0].shape;
      const int dims[4] = { total, in.c, in.h, in.w };
      bool one = total == 1;
      if (!nn_npy_save (a.npy, images, one ? dims + 1 : dims, one ? 3 : 4, &err))
        {
          cli_fail_error (CLI_EXIT_FAILURE, &err);
          goto done;
        }
    }
  if (a.out && !write_figure (model, argv[optind], &a, images, total, &outcome))
    goto done;
  if (status == -1)
    {
      status = CLI_EXIT_FAILURE;
      goto done;
    }
  if (a.json)
    {
      bool printed = cli_print_json (json);
      json = NULL;
      if (!printed)
        goto done;
    }
  status = 0;

done:
  nn_am_run_free (run);
  cJSON_Delete (json);
  nn_input_unref (start);
  free (images);
  free (outcome.values);
  free (outcome.history);
  free (a.channels);
  free (a.direction);
  nn_model_free (model);
  return status;
}
