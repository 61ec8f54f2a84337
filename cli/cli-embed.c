/* SPDX-License-Identifier: MIT */
/* cnnscope-cli embed: a layer's features over a dataset mapped to 2-D by PCA or t-SNE, as a
 * scatter figure coloured by class (misclassified samples ringed) and as CSV. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage[] =
  "Usage: cnnscope-cli embed MODEL DATASET --layer NAME [--method pca|tsne] [--out FIGURE]\n"
  "       [--csv FILE] [--features pool|flatten] [--perplexity P] [--iterations N]\n"
  "       [--limit N] [--seed S] [--colour true|pred] [--threads N] [--width W] [--height H]\n"
  "Runs MODEL over the test split of DATASET ('fashion-mnist', or an image folder such as\n"
  "'cnnscope-cli synth' writes; a folder with train/ and test/ inside gives test/), keeps layer\n"
  "NAME's output per sample (--features pool: each channel's mean, the default; flatten: every\n"
  "value), and maps those vectors to 2-D with PCA (the default) or t-SNE (--perplexity, default\n"
  "30; --iterations, default 1000; exact below 1000 points, Barnes-Hut from there).\n"
  "--limit N embeds N samples drawn at random (seeded by --seed, default 1, which also seeds\n"
  "t-SNE). --out draws the scatter (.png, .svg or .pdf; W x H, default 900 x 700), dots\n"
  "coloured by the true class or by the prediction (--colour), a ring on every misclassified\n"
  "sample. --csv writes index,true,true_name,pred,pred_name,x,y per sample (index: the\n"
  "sample's place in the test split). At least one of --out and --csv is needed.\n";

enum
{
  OPT_LAYER = CLI_OPT_BASE,
  OPT_METHOD,
  OPT_OUT,
  OPT_CSV,
  OPT_FEATURES,
  OPT_PERPLEXITY,
  OPT_ITERATIONS,
  OPT_LIMIT,
  OPT_SEED,
  OPT_COLOUR,
  OPT_THREADS,
};

static const struct option options[] = {
  { "layer", required_argument, NULL, OPT_LAYER },
  { "method", required_argument, NULL, OPT_METHOD },
  { "out", required_argument, NULL, OPT_OUT },
  { "csv", required_argument, NULL, OPT_CSV },
  { "features", required_argument, NULL, OPT_FEATURES },
  { "perplexity", required_argument, NULL, OPT_PERPLEXITY },
  { "iterations", required_argument, NULL, OPT_ITERATIONS },
  { "limit", required_argument, NULL, OPT_LIMIT },
  { "seed", required_argument, NULL, OPT_SEED },
  { "colour", required_argument, NULL, OPT_COLOUR },
  { "color", required_argument, NULL, OPT_COLOUR },
  { "threads", required_argument, NULL, OPT_THREADS },
  CLI_FIGURE_OPTIONS,
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

#define EMBED_BATCH  64
#define EMBED_WIDTH  900
#define EMBED_HEIGHT 700

typedef struct
{
  VizScatter  scatter;
  VizStyle    style;
} Figure;

static void
draw_figure (cairo_t    *cr,
             const void *user_data,
             double      width,
             double      height)
{
  const Figure *fig = user_data;
  viz_scatter_draw (cr, &fig->scatter, &fig->style, width, height);
}

/* CSV fields are class names: quoted when they hold a comma, a quote or a line break. */
static void
write_field (FILE       *f,
             const char *s)
{
  if (strpbrk (s, ",\"\n\r") == NULL)
    {
      fputs (s, f);
      return;
    }
  fputc ('"', f);
  for (; *s; s++)
    {
      if (*s == '"')
        fputc ('"', f);
      fputc (*s, f);
    }
  fputc ('"', f);
}

/* Written atomically: a failed write leaves no half file. */
static bool
write_csv (const char        *path,
           const NnFeatures  *f,
           const float       *xy,
           const int         *index,
           const char *const *names)
{
  NnAtomicFile file;
  NnError err = { 0 };
  if (!nn_atomic_file_open (&file, path, &err))
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      return false;
    }
  FILE *out = file.fp;
  fputs ("index,true,true_name,pred,pred_name,x,y\n", out);
  for (int i = 0; i < f->n; i++)
    {
      fprintf (out, "%d,%d,", index[i], f->labels[i]);
      write_field (out, names[f->labels[i]]);
      fprintf (out, ",%d,", f->preds[i]);
      write_field (out, names[f->preds[i]]);
      fprintf (out, ",%.9g,%.9g\n", (double) xy[2 * i], (double) xy[2 * i + 1]);
    }
  if (!nn_atomic_file_finish (&file, true, &err))
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      return false;
    }
  return true;
}

/* The share of the total variance (the trace of the covariance) along the first two
 * components, in percent. */
static void
explained (double            pct[2],
           const NnFeatures *f,
           const float       variance[2])
{
  double total = 0.0;
  for (int j = 0; j < f->d; j++)
    {
      double s = 0.0, s2 = 0.0;
      for (int i = 0; i < f->n; i++)
        {
          double v = f->values[(size_t) i * f->d + j];
          s += v;
          s2 += v * v;
        }
      total += (s2 - s * s / f->n) / (f->n - 1);
    }
  for (int c = 0; c < 2; c++)
    pct[c] = total > 0.0 ? 100.0 * variance[c] / total : 0.0;
}

int
cli_embed_main (int    argc,
                char **argv)
{
  const char *layer = NULL, *out_path = NULL, *csv_path = NULL;
  bool tsne = false, flatten = false, colour_pred = false;
  int limit = 0, threads = 0;
  uint64_t seed = 1;
  NnTsneConfig config;
  nn_tsne_config_init (&config);
  CliFigureSize size = { EMBED_WIDTH, EMBED_HEIGHT };
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    switch (c)
      {
      case OPT_LAYER:
        layer = optarg;
        break;
      case OPT_METHOD:
        if (strcmp (optarg, "pca") != 0 && strcmp (optarg, "tsne") != 0)
          return cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --method (pca or tsne)", optarg);
        tsne = strcmp (optarg, "tsne") == 0;
        break;
      case OPT_OUT:
        out_path = optarg;
        break;
      case OPT_CSV:
        csv_path = optarg;
        break;
      case OPT_FEATURES:
        if (strcmp (optarg, "pool") != 0 && strcmp (optarg, "flatten") != 0)
          return cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --features (pool or flatten)",
                           optarg);
        flatten = strcmp (optarg, "flatten") == 0;
        break;
      case OPT_PERPLEXITY:
        if (!cli_parse_double ("perplexity", optarg, 1.0, 1e4, &config.perplexity))
          return CLI_EXIT_USAGE;
        break;
      case OPT_ITERATIONS:
        if (!cli_parse_int ("iterations", optarg, 1, 1000000, &config.iterations))
          return CLI_EXIT_USAGE;
        break;
      case OPT_LIMIT:
        if (!cli_parse_int ("limit", optarg, 2, 1 << 30, &limit))
          return CLI_EXIT_USAGE;
        break;
      case OPT_SEED:
        if (!cli_parse_u64 ("seed", optarg, &seed))
          return CLI_EXIT_USAGE;
        break;
      case OPT_COLOUR:
        if (strcmp (optarg, "true") != 0 && strcmp (optarg, "pred") != 0)
          return cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --colour (true or pred)", optarg);
        colour_pred = strcmp (optarg, "pred") == 0;
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
    return cli_fail (CLI_EXIT_USAGE, "embed: expected MODEL and DATASET (see 'cnnscope-cli "
                     "embed --help')");
  if (layer == NULL)
    return cli_fail (CLI_EXIT_USAGE, "embed: --layer is required");
  if (out_path == NULL && csv_path == NULL)
    return cli_fail (CLI_EXIT_USAGE, "embed: --out or --csv is required");
  cli_set_threads (threads);
  config.seed = seed;
  config.threads = threads;

  const char *model_path = argv[optind], *dataset = argv[optind + 1];
  int node = -1;
  NnModel *model = cli_load_model_layer (model_path, layer, &node);
  if (model == NULL)
    return CLI_EXIT_FAILURE;
  int status = CLI_EXIT_FAILURE;
  NnError err = { 0 };
  NnDataset *ds = NULL, *part = NULL;
  NnFeatures *f = NULL;
  float *xy = NULL;
  int *index = NULL;
  const char **names = NULL;
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
  const int n = limit > 0 && limit < ds->n ? limit : ds->n;
  index = malloc ((size_t) ds->n * sizeof (int));
  if (index == NULL)
    {
      cli_fail (CLI_EXIT_FAILURE, "out of memory");
      goto done;
    }
  if (n < ds->n)
    {
      part = nn_dataset_sample (ds, n, seed, index);
      if (part == NULL)
        {
          cli_fail (CLI_EXIT_FAILURE, "out of memory for %d samples", n);
          goto done;
        }
    }
  else
    for (int i = 0; i < n; i++)
      index[i] = i;

  struct timespec t0, t1, t2;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  f = nn_features_new (model, part ? part : ds, node, flatten ? NN_FEATURES_FLATTEN
                       : NN_FEATURES_POOL, EMBED_BATCH, NULL, NULL, NULL, &err);
  if (f == NULL)
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  clock_gettime (CLOCK_MONOTONIC, &t1);
  xy = malloc ((size_t) 2 * n * sizeof (float));
  if (xy == NULL)
    {
      cli_fail (CLI_EXIT_FAILURE, "out of memory");
      goto done;
    }
  float variance[2] = { 0 };
  bool ok = tsne ? nn_tsne (xy, f->values, f->n, f->d, &config, NULL, NULL, NULL, &err)
                 : f->d >= 2
                   ? nn_pca (xy, variance, f->values, f->n, f->d, 2, &err)
                   : nn_error_set (&err, NN_ERROR_SPEC,
                                   "layer %s gives 1 feature per sample; PCA needs 2", layer);
  if (!ok)
    {
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  clock_gettime (CLOCK_MONOTONIC, &t2);

  /* Class names: the dataset's (folder names), else the model's labels, else numbers. */
  int n_classes = model->n_classes > ds->n_classes ? model->n_classes : ds->n_classes;
  names = calloc ((size_t) n_classes, sizeof (char *));
  char (*numbers)[16] = calloc ((size_t) n_classes, sizeof *numbers);
  if (names == NULL || numbers == NULL)
    {
      free (numbers);
      cli_fail (CLI_EXIT_FAILURE, "out of memory");
      goto done;
    }
  for (int k = 0; k < n_classes; k++)
    names[k] = k < ds->n_classes && ds->class_names[k] != NULL
               ? ds->class_names[k] : cli_label (model, k, numbers[k], sizeof numbers[k]);

  const char *mode = flatten ? "flattened" : "pooled";
  char caption[512] = "", title[256] = "", name[128];
  viz_caption_append (title, sizeof title, "Feature space of %s",
                      viz_caption_file_name (name, sizeof name, model_path, false));
  viz_caption_append (caption, sizeof caption, "layer %s (%s, %d features), %s, N = %d",
                      layer, mode, f->d, tsne ? "t-SNE" : "PCA", f->n);
  if (tsne)
    viz_caption_append (caption, sizeof caption, ", perplexity %g, seed %llu",
                        config.perplexity, (unsigned long long) seed);
  double pct[2] = { 0 };
  if (!tsne)
    {
      explained (pct, f, variance);
      viz_caption_append (caption, sizeof caption, ", variance %.1f%% + %.1f%%", pct[0],
                          pct[1]);
    }
  int wrong = 0;
  for (int i = 0; i < f->n; i++)
    wrong += f->preds[i] != f->labels[i];
  viz_caption_append (caption, sizeof caption, "\n%s, coloured by %s class, %d misclassified "
                      "(ringed)", dataset, colour_pred ? "predicted" : "true", wrong);

  if (csv_path != NULL && !write_csv (csv_path, f, xy, index, names))
    goto done;
  if (out_path != NULL)
    {
      Figure fig = {
        .scatter = { xy, f->n, f->labels, f->preds, colour_pred, n_classes, names, title,
                     caption, tsne ? "t-SNE 1" : "PC 1", tsne ? "t-SNE 2" : "PC 2" },
      };
      viz_style_init (&fig.style);
      if (!viz_export (out_path, draw_figure, &fig, size.width, size.height, &err))
        {
          free (numbers);
          cli_fail_error (CLI_EXIT_FAILURE, &err);
          goto done;
        }
    }
  free (numbers);
  double tf = (double) (t1.tv_sec - t0.tv_sec) + 1e-9 * (double) (t1.tv_nsec - t0.tv_nsec);
  double te = (double) (t2.tv_sec - t1.tv_sec) + 1e-9 * (double) (t2.tv_nsec - t1.tv_nsec);
  fprintf (stderr, "%s: layer %s, %d samples of %d features (%.1f s), %s in %.1f s, "
           "%d misclassified\n", out_path ? out_path : csv_path, layer, f->n, f->d, tf,
           tsne ? "t-SNE" : "PCA", te, wrong);
  status = 0;

done:
  free (names);
  free (xy);
  free (index);
  nn_features_free (f);
  nn_dataset_free (part);
  nn_dataset_free (ds);
  nn_model_free (model);
  return status;
}
