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
  "  --optimizer O      nga (normalized gradient ascent, default), adam, or sgd (a plain\n"
  "                     gradient step x <- x + lr * gradient)\n"
  "  --clip LO,HI       clamp every normalized input value to [LO, HI] after each step,\n"
  "                     instead of to the model's input range (pixels only)\n"
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
  OPT_CLIP,
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
  { "clip", required_argument, NULL, OPT_CLIP },
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

/* An error of one of nn's parsers as a usage error naming the option. */
static bool
option_error (const char *option,
              NnError    *err)
{
  nn_error_prefix (err, "%s", option);
  cli_fail_error (CLI_EXIT_USAGE, err);
  return false;
}

/* --unit Y,X: the unit objective at (Y, X). */
static bool
parse_unit (NnAmSettings *s,
            const char   *text)
{
  int *yx = NULL, n = 0;
  bool ok = parse_list ("--unit", text, true, (void **) &yx, &n);
  if (ok && n != 2)
    ok = (cli_fail (CLI_EXIT_USAGE, "bad value for --unit: '%s' (expected Y,X)", text), false);
  if (ok)
    {
      s->unit_y = yx[0];
      s->unit_x = yx[1];
      s->objective = NN_AM_OBJECTIVE_UNIT;
    }
  free (yx);
  return ok;
}

/* One of two words for option: *first is set to whether it is the first. */
static bool
parse_pair (const char *option,
            const char *text,
            const char *a,
            const char *b,
            bool       *first)
{
  if (strcmp (text, a) != 0 && strcmp (text, b) != 0)
    return cli_fail (CLI_EXIT_USAGE, "bad value for %s: '%s' (expected %s or %s)", option, text,
                     a, b), false;
  *first = strcmp (text, a) == 0;
  return true;
}

/* --optimizer nga|adam|sgd. */
static bool
parse_optimizer (NnAmSettings *s,
                 const char   *text)
{
  static const char *const names[] = { "nga", "adam", "sgd" };
  static const NnAmOptimizer values[] = {
    NN_AM_OPTIMIZER_NGA, NN_AM_OPTIMIZER_ADAM, NN_AM_OPTIMIZER_SGD,
  };
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
    if (strcmp (text, names[k]) == 0)
      {
        s->optimizer = values[k];
        return true;
      }
  return cli_fail (CLI_EXIT_USAGE, "bad value for --optimizer: '%s' (expected nga, adam or "
                   "sgd)", text), false;
}

/* --clip LO,HI: the box for the normalized input values. */
static bool
parse_clip (NnAmSettings *s,
            const char   *text)
{
  float *box = NULL;
  int n = 0;
  bool ok = parse_list ("--clip", text, false, (void **) &box, &n);
  if (ok && (n != 2 || !(box[0] < box[1])))
    ok = (cli_fail (CLI_EXIT_USAGE, "bad value for --clip: '%s' (expected LO,HI with LO < HI)",
                    text), false);
  if (ok)
    {
      s->clip = true;
      s->clip_lo = box[0];
      s->clip_hi = box[1];
    }
  free (box);
  return ok;
}

/* The options that shape the optimization (NnAmSettings); false after printing the error. */
static bool
parse_setting (NnAmSettings *s,
               int           c)
{
  NnError err = { 0 };
  bool first = false;
  switch (c)
    {
    case OPT_OBJECTIVE:
      return nn_am_objective_parse (optarg, &s->objective, &err)
             || option_error ("--objective", &err);
    case OPT_UNIT:
      return parse_unit (s, optarg);
    case OPT_PERCENTILE:
      return cli_parse_float ("--percentile", optarg, 1e-6, 100.0, &s->percentile);
    case OPT_POLICY:
      return nn_grad_policy_parse (optarg, &s->policy, &err) || option_error ("--policy", &err);
    case OPT_WARMUP:
      return cli_parse_float ("--warmup", optarg, 0.0, 1.0, &s->warmup);
    case OPT_STEPS:
      return cli_parse_int ("--steps", optarg, 1, NN_AM_MAX_STEPS, &s->steps);
    case OPT_LR:
      return cli_parse_float ("--lr", optarg, 1e-9, 1e6, &s->lr);
    case OPT_SEED:
      return cli_parse_u64 ("--seed", optarg, &s->seed);
    case OPT_OPTIMIZER:
      return parse_optimizer (s, optarg);
    case OPT_CLIP:
      return parse_clip (s, optarg);
    case OPT_PARAM:
      if (!parse_pair ("--param", optarg, "pixels", "fourier", &first))
        return false;
      s->param = first ? NN_AM_PARAM_PIXELS : NN_AM_PARAM_FOURIER;
      return true;
    case OPT_TRANSFORMS:
      return nn_am_transforms_parse (optarg, &s->transforms, &err)
             || option_error ("--transforms", &err);
    case OPT_L2:
      return cli_parse_float ("--l2", optarg, 0.0, 1e6, &s->l2);
    case OPT_TV:
      return cli_parse_float ("--tv", optarg, 0.0, 1e6, &s->tv);
    default:  /* '?': cli_getopt has said what is wrong */
      return false;
    }
}

/* One option c with its value optarg; false after printing the error. */
static bool
parse_option (Args *a,
              int   c)
{
  switch (c)
    {
    case OPT_LAYER:
      a->layer = optarg;
      return true;
    case OPT_CHANNEL:
      free (a->channels);
      a->channels = NULL;
      return parse_list ("--channel", optarg, true, (void **) &a->channels, &a->n_channels);
    case OPT_ALL:
      a->all = true;
      return true;
    case OPT_BATCH:
      return cli_parse_int ("--batch", optarg, 1, NN_AM_MAX_BATCH, &a->batch);
    case OPT_DIRECTION:
      free (a->direction);
      a->direction = NULL;
      a->settings.objective = NN_AM_OBJECTIVE_DIRECTION;
      return parse_list ("--direction", optarg, false, (void **) &a->direction,
                         &a->n_direction);
    case OPT_START:
      a->start = strcmp (optarg, "noise") == 0 ? NULL : optarg;
      return true;
    case OPT_THREADS:
      return cli_parse_int ("--threads", optarg, 1, 64, &a->threads);
    case OPT_OUT:
      a->out = optarg;
      return true;
    case OPT_NPY:
      a->npy = optarg;
      return true;
    case OPT_JSON:
      a->json = true;
      return true;
    case CLI_OPT_FIGURE_WIDTH:
    case CLI_OPT_FIGURE_HEIGHT:
      return cli_parse_figure_size (c, optarg, &a->size);
    default:
      return parse_setting (&a->settings, c);
    }
}

/* What the options must agree on, once all are read. */
static int
check_args (const Args *a)
{
  const NnAmSettings *s = &a->settings;
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
  return 0;
}

/* The command line into a: 0 to go on, -1 after --help, else the exit code. */
static int
parse_args (int    argc,
            char **argv,
            Args  *a)
{
  nn_am_settings_init (&a->settings);
  a->batch = 16;
  a->threads = 1;
  a->size = (CliFigureSize) { VIZ_AM_FIGURE_WIDTH, VIZ_AM_FIGURE_HEIGHT };
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    {
      if (c == 'h')
        {
          fputs (usage, stdout);
          return -1;
        }
      if (!parse_option (a, c))
        return CLI_EXIT_USAGE;
    }
  if (argc - optind != 1)
    return cli_fail (CLI_EXIT_USAGE, "am: expected one MODEL (see 'cnnscope-cli am --help')");
  a->settings.threads = a->threads;
  return check_args (a);
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
      fig.class_model = s.objective == NN_AM_OBJECTIVE_LOGIT ? model : NULL;
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

/* A run of the command: what parse_args gave, and what the batches fill. */
typedef struct
{
  Args        a;
  const char *model_path;
  NnModel    *model;
  int         lnode;      /* the layer whose channels are maximized (the logits' for logit) */
  NnInput    *start;      /* --start, or NULL */
  int         total;      /* images */
  size_t      size;       /* floats per image */
  float      *images;     /* total normalized images */
  Outcome     outcome;
  cJSON      *json;       /* the settings, then the channels' results */
  cJSON      *items;      /* the channels' results, inside json */
} Am;

/* The model and what the settings need of it: the layer, the direction's length, the start
 * image, the channels. 0 or the exit code. */
static int
am_load (Am *am)
{
  Args *a = &am->a;
  NnAmSettings *s = &a->settings;
  int node = -1;
  am->model = a->layer ? cli_load_model_layer (am->model_path, a->layer, &node)
                       : cli_load_model (am->model_path);
  if (am->model == NULL)
    return CLI_EXIT_FAILURE;
  s->layer = node;
  const NnGraph *g = am->model->graph;
  if (s->objective == NN_AM_OBJECTIVE_DIRECTION)
    {
      if (a->n_direction != g->nodes[node].shape.c)
        return cli_fail (CLI_EXIT_USAGE, "--direction: %d weights for the %d channels of layer "
                         "'%s'", a->n_direction, g->nodes[node].shape.c, a->layer);
      s->direction = a->direction;
    }
  if (a->start)
    {
      am->start = cli_load_input (am->model, a->start, NULL);
      if (am->start == NULL)
        return CLI_EXIT_FAILURE;
      s->start = am->start->tensor;
      s->start_items = 1;
    }
  am->lnode = node >= 0 ? node : nn_explain_logit_node (g);
  if (a->all)
    {
      a->n_channels = g->nodes[am->lnode].shape.c;
      a->channels = malloc (sizeof (int) * (size_t) a->n_channels);
      if (a->channels == NULL)
        return cli_fail (CLI_EXIT_FAILURE, "out of memory");
      for (int k = 0; k < a->n_channels; k++)
        a->channels[k] = k;
    }
  return 0;
}

/* The buffers of the images and outcome, and the JSON's settings. False when out of memory. */
static bool
am_alloc (Am *am)
{
  const NnAmSettings *s = &am->a.settings;
  const NnGraph *g = am->model->graph;
  am->total = s->objective == NN_AM_OBJECTIVE_DIRECTION ? 1 : am->a.n_channels;
  am->size = nn_shape_size (g->nodes[0].shape);
  am->images = malloc (sizeof (float) * am->size * (size_t) am->total);
  am->outcome.values = malloc (sizeof (double) * (size_t) am->total);
  am->json = cJSON_CreateObject ();
  am->items = cJSON_CreateArray ();
  if (am->images == NULL || am->outcome.values == NULL || am->json == NULL || am->items == NULL)
    {
      cJSON_Delete (am->items);
      am->items = NULL;
      return cli_fail (CLI_EXIT_FAILURE, "out of memory"), false;
    }
  char policy[64];
  nn_grad_policy_format (&s->policy, policy, sizeof policy);
  cJSON_AddStringToObject (am->json, "layer", g->nodes[am->lnode].name);
  cJSON_AddStringToObject (am->json, "target", nn_am_objective_name (s->objective));
  cJSON_AddStringToObject (am->json, "policy", policy);
  cJSON_AddNumberToObject (am->json, "steps", s->steps);
  cJSON_AddNumberToObject (am->json, "seed", (double) s->seed);
  cJSON_AddStringToObject (am->json, "optimizer", s->optimizer == NN_AM_OPTIMIZER_SGD ? "sgd"
                           : s->optimizer == NN_AM_OPTIMIZER_ADAM ? "adam" : "nga");
  if (s->clip)
    {
      const double box[2] = { s->clip_lo, s->clip_hi };
      cJSON_AddItemToObject (am->json, "clip", cJSON_CreateDoubleArray (box, 2));
    }
  cJSON_AddItemToObject (am->json, "channels", am->items);
  return true;
}

/* Runs the images in batches (all at once unless --all-channels), keeping each batch's images
 * and results. 0; -1 when a run failed (the best images so far are kept, to be written);
 * else the exit code. */
static int
am_run (Am *am)
{
  const Args *a = &am->a;
  NnAmSettings *s = &am->a.settings;
  const bool direction = s->objective == NN_AM_OBJECTIVE_DIRECTION;
  const int batch = a->all ? a->batch : am->total;
  am->outcome.done = true;
  for (int first = 0; first < am->total; first += batch)
    {
      int nb = am->total - first < batch ? am->total - first : batch;
      s->channels = direction ? NULL : a->channels + first;
      s->n_channels = nb;
      NnError err = { 0 };
      NnAmRun *run = nn_am_run_new (am->model, s, &err);
      if (run == NULL)
        {
          nn_error_prefix (&err, "%s", am->model_path);
          return cli_fail_error (CLI_EXIT_FAILURE, &err);
        }
      bool ok = nn_am_run_step (run, s->steps, NULL, &err);
      bool kept = keep_batch (a, run, first, nb, ok, am->images, am->size, am->items,
                              &am->outcome);
      nn_am_run_free (run);
      if (!kept)
        return CLI_EXIT_FAILURE;
      if (!ok)
        {
          cli_fail_error (CLI_EXIT_FAILURE, &err);
          if (a->npy || a->out)
            fprintf (stderr, "cnnscope-cli: writing the best images so far\n");
          return -1;
        }
    }
  return 0;
}

/* The images (--npy), the figure (--out) and, when every run came through, the JSON (--json).
 * 0 or the exit code. */
static int
am_write (Am  *am,
          bool done)
{
  const Args *a = &am->a;
  if (cJSON_GetArraySize (am->items) > 0)
    {
      /* The first image's final objective and history, at the top for a single image. */
      cJSON *first = cJSON_GetArrayItem (am->items, 0);
      cJSON_AddNumberToObject (am->json, "objective",
                               cJSON_GetNumberValue (cJSON_GetObjectItem (first, "objective")));
      cJSON *hist = cJSON_GetObjectItem (first, "history");
      if (hist)
        cJSON_AddItemToObject (am->json, "history", cJSON_Duplicate (hist, true));
    }
  NnError err = { 0 };
  if (a->npy)
    {
      const NnShape in = am->model->graph->nodes[0].shape;
      const int dims[4] = { am->total, in.c, in.h, in.w };
      bool one = am->total == 1;
      if (!nn_npy_save (a->npy, am->images, one ? dims + 1 : dims, one ? 3 : 4, &err))
        return cli_fail_error (CLI_EXIT_FAILURE, &err);
    }
  if (a->out && !write_figure (am->model, am->model_path, a, am->images, am->total,
                               &am->outcome))
    return CLI_EXIT_FAILURE;
  if (!done)
    return CLI_EXIT_FAILURE;
  if (a->json)
    {
      bool printed = cli_print_json (am->json);
      am->json = NULL;
      if (!printed)
        return CLI_EXIT_FAILURE;
    }
  return 0;
}

static void
am_clear (Am *am)
{
  cJSON_Delete (am->json);
  nn_input_unref (am->start);
  free (am->images);
  free (am->outcome.values);
  free (am->outcome.history);
  free (am->a.channels);
  free (am->a.direction);
  nn_model_free (am->model);
}

int
cli_am_main (int    argc,
             char **argv)
{
  Am am = { 0 };
  int status = parse_args (argc, argv, &am.a);
  if (status != 0)
    {
      am_clear (&am);
      return status < 0 ? 0 : status;
    }
  am.model_path = argv[optind];
  status = am_load (&am);
  if (status == 0)
    {
      status = am_alloc (&am) ? am_run (&am) : CLI_EXIT_FAILURE;
      /* After a failed run the best images so far are still written. */
      if (status <= 0)
        status = am_write (&am, status == 0);
    }
  am_clear (&am);
  return status;
}
