/* SPDX-License-Identifier: MIT */
/* The runner behind cnnscope-cli cam and saliency: parses the options into an NnExplainSpec,
 * runs nn_explain_run on each input and writes what it gives: the figure (the Explain view's,
 * drawn by viz/), the .npy map, JSON and (for a folder) metrics.csv. */
#include "cli-explain.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli-common.h"
#include "cli-inputs.h"
#include "cli-volume.h"

enum
{
  OPT_LAYER = CLI_OPT_BASE,
  OPT_CLASS,
  OPT_METHOD,
  OPT_OUT,
  OPT_NPY,
  OPT_METRICS,
  OPT_MASK,
  OPT_OPACITY,
  OPT_SIGNED,
  OPT_SCALE,
  OPT_BATCH,
  OPT_SAMPLES,
  OPT_NOISE,
  OPT_SEED,
  OPT_JSON,
  OPT_WINDOW,
  OPT_PATCH,
  OPT_STRIDE,
  OPT_SERIES,
  OPT_MONTAGE,
  OPT_SHARD,
  OPT_FILES,
  OPT_BLOCK,
  OPT_NO_WINOGRAD,
};

static const struct option options[] = {
  { "layer", required_argument, NULL, OPT_LAYER },
  { "class", required_argument, NULL, OPT_CLASS },
  { "method", required_argument, NULL, OPT_METHOD },
  { "out", required_argument, NULL, OPT_OUT },
  { "npy", required_argument, NULL, OPT_NPY },
  { "metrics", no_argument, NULL, OPT_METRICS },
  { "mask", required_argument, NULL, OPT_MASK },
  { "opacity", required_argument, NULL, OPT_OPACITY },
  { "signed", no_argument, NULL, OPT_SIGNED },
  { "scale", required_argument, NULL, OPT_SCALE },
  { "batch", required_argument, NULL, OPT_BATCH },
  { "samples", required_argument, NULL, OPT_SAMPLES },
  { "noise", required_argument, NULL, OPT_NOISE },
  { "seed", required_argument, NULL, OPT_SEED },
  { "json", no_argument, NULL, OPT_JSON },
  { "window", required_argument, NULL, OPT_WINDOW },
  { "patch", required_argument, NULL, OPT_PATCH },
  { "stride", required_argument, NULL, OPT_STRIDE },
  { "series", required_argument, NULL, OPT_SERIES },
  { "montage", required_argument, NULL, OPT_MONTAGE },
  { "shard", required_argument, NULL, OPT_SHARD },
  { "files", no_argument, NULL, OPT_FILES },
  { "block", required_argument, NULL, OPT_BLOCK },
  { "no-winograd", no_argument, NULL, OPT_NO_WINOGRAD },
  CLI_FIGURE_OPTIONS,
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

typedef struct
{
  /* The command line. */
  CliExplainKind  kind;
  const char     *command;
  const char     *model_path, *input_path;
  const char     *layer, *method, *out, *npy, *mask_path;
  int             target;
  bool            metrics, json, signed_display, folder;
  bool            volume;           /* INPUT is a NIfTI file or a DICOM series folder */
  bool            files;            /* --files: a DICOM folder is separate slices */
  const char     *series;           /* --series UID */
  const char     *montage;          /* --montage PNG (volumes) */
  CliShard        shard;
  double          opacity, scale;   /* of the figure's overlay */
  CliFigureSize   size;             /* of the figure */
  bool            has_window;       /* --window: how CT slices are shown (and read by a model
                                       without a window of its own) */
  NnCtWindow      window;
  NnExplainSpec   spec;             /* what each input gets (spec.mask: the current mask) */
  /* The run. */
  NnModel        *model;
  uint8_t        *mask;             /* (H, W) of the current input, or NULL */
  size_t          mask_lit;         /* its pixels inside */
  int             pointing_hits, pointing_n;  /* over the inputs with a mask that came through */
} Job;

/* The names the command accepts for --method: the registry's CAM rows for cam, the others for
 * saliency. */
static unsigned
method_flags (CliExplainKind kind)
{
  return kind == CLI_EXPLAIN_CAM ? NN_METHOD_FLAG_CAM : 0;
}

static unsigned
method_flags_without (CliExplainKind kind)
{
  return kind == CLI_EXPLAIN_CAM ? 0 : NN_METHOD_FLAG_CAM;
}

static bool
method_fits (CliExplainKind kind,
             NnMethod       method)
{
  return nn_method_has_flags (method, method_flags (kind))
         && (nn_method_get_info (method)->flags & method_flags_without (kind)) == 0;
}

/* "a|b|c" for the usage text. */
static void
method_names_joined (CliExplainKind kind,
                     char          *buf,
                     size_t         size)
{
  size_t used = 0;
  buf[0] = '\0';
  for (int m = 0; m < NN_METHOD_COUNT_ && used < size; m++)
    if (method_fits (kind, (NnMethod) m))
      {
        int n = snprintf (buf + used, size - used, "%s%s", used > 0 ? "|" : "",
                          nn_method_get_info ((NnMethod) m)->name);
        used += n > 0 ? (size_t) n : 0;
      }
}

static void
print_usage (CliExplainKind  kind,
             const char     *usage_head,
             const char     *usage_tail)
{
  char names[512];
  method_names_joined (kind, names, sizeof names);
  printf ("%s%s%s", usage_head, names, usage_tail);
}

/* --method NAME into job->spec.map.method. */
static bool
parse_method (Job *job)
{
  char names[512];
  nn_method_format_names (names, sizeof names, method_flags (job->kind),
                          method_flags_without (job->kind));
  if (job->method == NULL && job->kind == CLI_EXPLAIN_SALIENCY)
    return cli_fail (CLI_EXIT_USAGE, "saliency: --method is required (%s)", names), false;
  NnMethod method = job->spec.map.method;
  if (job->method != NULL
      && (!nn_method_from_name (job->method, &method) || !method_fits (job->kind, method)))
    return cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --method (expected %s)", job->method,
                     names), false;
  job->spec.map.method = method;
  return true;
}

/* One option c with its value optarg; false after printing the error. */
static bool
parse_option (Job *job,
              int  c)
{
  NnMethodSpec *map = &job->spec.map;
  switch (c)
    {
    case OPT_LAYER:
      job->layer = optarg;
      return true;
    case OPT_CLASS:
      return cli_parse_int ("class", optarg, 0, 1 << 24, &job->target);
    case OPT_METHOD:
      job->method = optarg;
      return true;
    case OPT_OUT:
      job->out = optarg;
      return true;
    case OPT_NPY:
      job->npy = optarg;
      return true;
    case OPT_METRICS:
      job->metrics = true;
      return true;
    case OPT_MASK:
      job->mask_path = optarg;
      return true;
    case OPT_OPACITY:
      return cli_parse_double ("opacity", optarg, 0.0, 1.0, &job->opacity);
    case OPT_SIGNED:
      job->signed_display = true;
      return true;
    case OPT_SCALE:
      return cli_parse_double ("scale", optarg, 1e-30, 1e30, &job->scale);
    case CLI_OPT_FIGURE_WIDTH:
    case CLI_OPT_FIGURE_HEIGHT:
      return cli_parse_figure_size (c, optarg, &job->size);
    case OPT_BATCH:
      return cli_parse_int ("batch", optarg, 1, 256, &job->spec.batch);
    case OPT_SAMPLES:
      return cli_parse_int ("samples", optarg, 1, 100000, &map->samples);
    case OPT_NOISE:
      return cli_parse_float ("noise", optarg, 0.0, 10.0, &map->noise);
    case OPT_SEED:
      return cli_parse_u64 ("seed", optarg, &map->seed);
    case OPT_JSON:
      job->json = true;
      return true;
    case OPT_WINDOW:
      job->has_window = true;
      return cli_parse_window (optarg, &job->window);
    case OPT_PATCH:
      return cli_parse_int ("patch", optarg, 1, 1 << 16, &map->window);
    case OPT_STRIDE:
      return cli_parse_int ("stride", optarg, 1, 1 << 16, &map->stride);
    case OPT_SERIES:
      job->series = optarg;
      return true;
    case OPT_MONTAGE:
      job->montage = optarg;
      return true;
    case OPT_SHARD:
      return cli_shard_parse ("shard", optarg, &job->shard);
    case OPT_FILES:
      job->files = true;
      return true;
    case OPT_BLOCK:
      return cli_parse_int ("block", optarg, 1, 1 << 16, &map->block);
    case OPT_NO_WINOGRAD:
      job->spec.no_winograd = true;
      return true;
    default:
      return false;
    }
}

/* The command line into job: 0 to go on, -1 after --help, else the exit code. */
static int
parse_args (int         argc,
            char      **argv,
            Job        *job,
            const char *usage_head,
            const char *usage_tail)
{
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    {
      if (c == 'h')
        {
          print_usage (job->kind, usage_head, usage_tail);
          return -1;
        }
      if (!parse_option (job, c))
        return CLI_EXIT_USAGE;
    }
  if (argc - optind != 2)
    return cli_fail (CLI_EXIT_USAGE, "%s: expected MODEL and one INPUT (see 'cnnscope-cli %s "
                     "--help')", job->command, job->command);
  if (!parse_method (job))
    return CLI_EXIT_USAGE;
  job->model_path = argv[optind];
  job->input_path = argv[optind + 1];
  struct stat st;
  job->volume = !job->files && cli_volume_is_volume (job->input_path);
  job->folder = !job->volume && stat (job->input_path, &st) == 0 && S_ISDIR (st.st_mode);
  if (job->volume && job->npy)
    return cli_fail (CLI_EXIT_USAGE, "%s: --npy takes a single image INPUT, not a volume (see "
                     "--out)", job->command);
  if (!job->volume && (job->series || job->montage))
    return cli_fail (CLI_EXIT_USAGE, "%s: --%s needs a volume INPUT (a .nii or .nii.gz file or "
                     "a DICOM series folder)", job->command, job->series ? "series" : "montage");
  if (!job->volume && !job->folder && job->shard.count > 1)
    return cli_fail (CLI_EXIT_USAGE, "%s: --shard needs a folder or a volume INPUT",
                     job->command);
  if (job->folder && job->out == NULL)
    return cli_fail (CLI_EXIT_USAGE, "%s: INPUT is a folder: --out must name the folder for the "
                     "overlays and metrics.csv", job->command);
  if (job->folder && (job->npy || job->mask_path))
    return cli_fail (CLI_EXIT_USAGE, "%s: --%s takes a single INPUT, not a folder", job->command,
                     job->npy ? "npy" : "mask");
  /* The same seed drives SmoothGrad's noise, ROAD's and the randomized weights. */
  job->spec.faith.seed = job->spec.map.seed;
  job->spec.map.target = job->target;
  job->spec.map.keep_negative = job->kind == CLI_EXPLAIN_CAM && job->signed_display;
  return 0;
}

/* The mask at path as job->mask (nn-mask.h). An empty mask is an error, unless found beside a
 * slice in a folder (optional): that slice then has no ground truth (a healthy slice from
 * `synth ct`). */
static bool
load_mask (Job        *job,
           const char *path,
           bool        optional)
{
  free (job->mask);
  job->mask = NULL;
  NnError err = { 0 };
  size_t lit = 0;
  uint8_t *mask = nn_mask_load (path, nn_model_input_height (job->model),
                                nn_model_input_width (job->model), &lit, &err);
  if (mask == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
  if (lit == 0)
    {
      free (mask);
      if (optional)
        return true;
      return cli_fail (CLI_EXIT_FAILURE, "%s: the mask is empty (no pixel >= half)", path), false;
    }
  job->mask = mask;
  job->mask_lit = lit;
  return true;
}

/* What each input gets: the metrics asked for, and the mask's when it has one. */
static void
spec_for_input (Job *job)
{
  job->spec.mask = job->mask;
  job->spec.faith.metrics = (job->metrics ? NN_FAITH_ALL & ~NN_FAITH_MASK : 0)
                            | (job->mask != NULL ? NN_FAITH_MASK : 0);
}

static const char *
method_name (const NnExplanation *e)
{
  return nn_method_get_info (e->method)->name;
}

/* The Explain view's figure of one explanation. */
static bool
write_figure (const Job           *job,
              const NnInput       *input,
              const NnExplanation *e,
              const char          *path,
              NnError             *err)
{
  const NnModel *model = job->model;
  const NnGraph *g = model->graph;
  const NnMap *map = e->map;
  bool is_signed = map->is_signed && (job->signed_display || job->kind == CLI_EXPLAIN_SALIENCY);
  VizColormap cm;
  viz_heatmap_colormap_init (&cm, map->map, (size_t) map->h * (size_t) map->w, is_signed,
                             job->scale);
  int layer = map->layer > 0 ? map->layer : job->spec.map.layer;
  layer = layer >= 0 ? layer : nn_explain_default_layer (g);
  VizExplainCaption caption = {
    .model_path = job->model_path,
    .model = model,
    .input_path = input->path,
    .target = map->target,
    .probability = e->probability,
    .top_prediction = job->target < 0,
    .layer = layer >= 0 ? g->nodes[layer].name : NULL,
    .methods = { method_name (e) },
    .n_methods = 1,
    .opacity = job->opacity,
    .is_signed = is_signed,
    .fixed_scale = job->scale,
    .display_window = input->hu != NULL ? &input->window : NULL,
    .faithfulness = job->metrics,
    .faith = &job->spec.faith,
    .mask_pixels = job->mask != NULL ? (int) job->mask_lit : -1,
  };
  VizExplainFigure fig = { .n_panels = 1, .faithfulness = job->metrics };
  viz_explain_figure_caption (fig.caption, sizeof fig.caption, &caption);
  VizExplainPanel *panel = &fig.panels[0];
  snprintf (panel->method, sizeof panel->method, "%s", method_name (e));
  bool layered = nn_method_has_flags (e->method, NN_METHOD_FLAG_LAYER) && map->layer > 0;
  viz_explain_figure_panel_title (panel->title, sizeof panel->title, method_name (e), model,
                                  map->target, layered ? g->nodes[map->layer].name : NULL,
                                  NULL);
  panel->heatmap = (VizHeatmap) {
    .image = input->display, .c = input->c, .map = map->map, .h = map->h, .w = map->w,
    .colormap = &cm, .opacity = job->opacity, .fade = is_signed, .mask = job->mask,
  };
  viz_explain_metrics_from_faith (&panel->metrics, &e->metrics);
  for (int i = 0; i < e->k; i++)
    viz_explain_figure_add_prediction (&fig, model, e->top_class[i], e->top_probability[i]);
  return viz_explain_figure_export (&fig, path, job->size.width, job->size.height, err);
}

static void
map_range (const NnMap *map,
           float       *lo,
           float       *hi)
{
  size_t n = (size_t) map->h * (size_t) map->w;
  *lo = *hi = map->map[0];
  for (size_t p = 1; p < n; p++)
    {
      *lo = map->map[p] < *lo ? map->map[p] : *lo;
      *hi = map->map[p] > *hi ? map->map[p] : *hi;
    }
}

static cJSON *
curve_json (const NnCurve *c)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddNumberToObject (o, "auc", c->auc);
  bool normalised = !isnan (c->auc_logit);
  if (normalised)
    cJSON_AddNumberToObject (o, "auc_logit", c->auc_logit);
  cJSON *fr = cJSON_AddArrayToObject (o, "fraction"), *pr = cJSON_AddArrayToObject (o, "prob");
  cJSON *lg = cJSON_AddArrayToObject (o, "logit");
  cJSON *ln = normalised ? cJSON_AddArrayToObject (o, "logit_norm") : NULL;
  for (int i = 0; i < c->n; i++)
    {
      cJSON_AddItemToArray (fr, cJSON_CreateNumber ((double) c->fraction[i]));
      cJSON_AddItemToArray (pr, cJSON_CreateNumber ((double) c->prob[i]));
      cJSON_AddItemToArray (lg, cJSON_CreateNumber ((double) c->logit[i]));
      if (ln != NULL)
        cJSON_AddItemToArray (ln, cJSON_CreateNumber ((double) c->logit_norm[i]));
    }
  return o;
}

/* The metrics object of an explanation's JSON. */
static cJSON *
metrics_json (const NnFaithMetrics *m)
{
  cJSON *mt = cJSON_CreateObject ();
  if (m->has & NN_FAITH_DELETION)
    {
      cJSON_AddItemToObject (mt, "deletion", curve_json (&m->deletion));
      cJSON_AddItemToObject (mt, "insertion", curve_json (&m->insertion));
      cJSON_AddItemToObject (mt, "road_morf", curve_json (&m->road_morf));
      cJSON_AddItemToObject (mt, "road_lerf", curve_json (&m->road_lerf));
      cJSON_AddNumberToObject (mt, "road_morf_mean", m->road_morf_mean);
      cJSON_AddNumberToObject (mt, "road_lerf_mean", m->road_lerf_mean);
      cJSON_AddNumberToObject (mt, "randomization_rho", m->rho);
    }
  if (m->has & NN_FAITH_MASK)
    {
      cJSON_AddBoolToObject (mt, "pointing_game", m->pointing);
      cJSON_AddNumberToObject (mt, "energy_share", m->energy);
    }
  return mt;
}

static cJSON *
result_json (const Job           *job,
             const char          *input,
             const NnExplanation *e)
{
  const NnMap *map = e->map;
  char buf[32];
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "input", input);
  cJSON_AddStringToObject (o, "method", method_name (e));
  cJSON_AddStringToObject (o, "layer", job->model->graph->nodes[map->layer].name);
  cJSON_AddNumberToObject (o, "class", map->target);
  cJSON_AddStringToObject (o, "label", cli_label (job->model, map->target, buf, sizeof buf));
  cJSON_AddNumberToObject (o, "score", (double) map->score);
  cJSON_AddNumberToObject (o, "probability", (double) e->probability);
  cJSON_AddBoolToObject (o, "signed", map->is_signed);
  float lo, hi;
  map_range (map, &lo, &hi);
  cJSON *mo = cJSON_AddObjectToObject (o, "map");
  cJSON_AddNumberToObject (mo, "h", map->h);
  cJSON_AddNumberToObject (mo, "w", map->w);
  cJSON_AddNumberToObject (mo, "layer_h", map->lh);
  cJSON_AddNumberToObject (mo, "layer_w", map->lw);
  cJSON_AddNumberToObject (mo, "min", (double) lo);
  cJSON_AddNumberToObject (mo, "max", (double) hi);
  if (e->metrics.has != 0)
    cJSON_AddItemToObject (o, "metrics", metrics_json (&e->metrics));
  return o;
}

/* A CSV field in quotes, with quotes inside doubled. */
static void
csv_field (FILE       *f,
           const char *text)
{
  fputc ('"', f);
  for (const char *p = text; *p; p++)
    {
      if (*p == '"')
        fputc ('"', f);
      fputc (*p, f);
    }
  fputc ('"', f);
}

static const char csv_header[] =
  "input,class,label,score,probability,deletion_auc,insertion_auc,road_morf,road_lerf,"
  "randomization_rho,pointing_game,energy_share,deletion_auc_logit,insertion_auc_logit\n";

/* One row of metrics.csv (csv_header). */
static void
csv_row (FILE                *csv,
         const Job           *job,
         const char          *input,
         const NnExplanation *e)
{
  const NnMap *map = e->map;
  const NnFaithMetrics *m = &e->metrics;
  char buf[32];
  csv_field (csv, input);
  fprintf (csv, ",%d,", map->target);
  csv_field (csv, cli_label (job->model, map->target, buf, sizeof buf));
  fprintf (csv, ",%.6g,%.6g", (double) map->score, (double) e->probability);
  if (m->has & NN_FAITH_DELETION)
    fprintf (csv, ",%.6g,%.6g,%.6g,%.6g,%.6g", m->deletion.auc, m->insertion.auc,
             m->road_morf_mean, m->road_lerf_mean, m->rho);
  else
    fprintf (csv, ",,,,,");
  if (m->has & NN_FAITH_MASK)
    fprintf (csv, ",%d,%.6g", m->pointing, m->energy);
  else
    fprintf (csv, ",,");
  /* The normalised-logit areas; empty when the logit does not change (or not computed). */
  if ((m->has & NN_FAITH_DELETION) && !isnan (m->deletion.auc_logit))
    fprintf (csv, ",%.6g", m->deletion.auc_logit);
  else
    fprintf (csv, ",");
  if ((m->has & NN_FAITH_INSERTION) && !isnan (m->insertion.auc_logit))
    fprintf (csv, ",%.6g\n", m->insertion.auc_logit);
  else
    fprintf (csv, ",\n");
}

/* The summary of one explanation on stderr. */
static void
print_summary (const Job           *job,
               const char          *input,
               const NnExplanation *e)
{
  const NnMap *map = e->map;
  const NnFaithMetrics *m = &e->metrics;
  char buf[32];
  float lo, hi;
  map_range (map, &lo, &hi);
  fprintf (stderr, "%s: %s at %s for class %d (%s, p = %.3f): map %.4g to %.4g\n", input,
           method_name (e), job->model->graph->nodes[map->layer].name, map->target,
           cli_label (job->model, map->target, buf, sizeof buf), (double) e->probability,
           (double) lo, (double) hi);
  if (m->has & NN_FAITH_DELETION)
    fprintf (stderr, "  deletion AUC %.4f (logit %.4f), insertion AUC %.4f (logit %.4f), "
             "ROAD MoRF %.4f, LeRF %.4f, randomization rho %.3f\n", m->deletion.auc,
             m->deletion.auc_logit, m->insertion.auc, m->insertion.auc_logit, m->road_morf_mean,
             m->road_lerf_mean, m->rho);
  if (m->has & NN_FAITH_MASK)
    fprintf (stderr, "  pointing game %s, energy share %.3f\n", m->pointing ? "hit" : "miss",
             m->energy);
}

/* Where the results of one input go. */
typedef struct
{
  const char *figure;     /* or NULL */
  const char *npy;        /* or NULL */
  FILE       *csv;        /* a row of metrics.csv, or NULL */
  cJSON      *json_list;  /* the result appended, or NULL */
  cJSON     **json_one;   /* the result, or NULL */
} Outputs;

/* Explains the input at path (with job->mask as its mask) and writes the outputs. */
static bool
explain (Job           *job,
         const char    *path,
         const Outputs *out)
{
  NnError err = { 0 };
  NnInput *input = cli_load_input (job->model, path, job->has_window ? &job->window : NULL);
  if (input == NULL)
    return false;
  spec_for_input (job);
  NnExplanation *e = nn_explain_run (job->model, input, &job->spec, NULL, &err);
  bool ok = e != NULL;
  if (ok && out->figure)
    ok = write_figure (job, input, e, out->figure, &err);
  if (ok && out->npy)
    {
      const int dims[2] = { e->map->h, e->map->w };
      ok = nn_npy_save (out->npy, e->map->map, dims, 2, &err);
    }
  nn_input_unref (input);
  if (!ok)
    {
      nn_error_prefix (&err, "%s", path);
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      nn_explanation_free (e);
      return false;
    }
  /* The pointing game counts the inputs that came through, not those that failed. */
  if (e->metrics.has & NN_FAITH_MASK)
    {
      job->pointing_hits += e->metrics.pointing;
      job->pointing_n++;
    }
  if (out->csv)
    csv_row (out->csv, job, path, e);
  if (out->json_list)
    cJSON_AddItemToArray (out->json_list, result_json (job, path, e));
  else if (out->json_one)
    *out->json_one = result_json (job, path, e);
  if (!job->json)
    print_summary (job, path, e);
  nn_explanation_free (e);
  return true;
}

/* The input root/rel and its figure: root/a/b.png -> out_dir/a_b.png. False when a path is too
 * long. */
static bool
folder_paths (const char *root,
              const char *rel,
              const char *out_dir,
              char       *path,
              char       *figure,
              size_t      size)
{
  char flat[4096];
  snprintf (flat, sizeof flat, "%s", rel);
  for (char *p = flat; *p; p++)
    *p = *p == '/' ? '_' : *p;
  char *dot = strrchr (flat, '.');
  if (dot)
    *dot = '\0';
  return snprintf (path, size, "%s/%s", root, rel) < (int) size
         && snprintf (figure, size, "%s/%s.png", out_dir, flat) < (int) size;
}

/* The mask found beside an input of a folder (nn_mask_find) as job->mask, or none. */
static bool
find_mask (Job        *job,
           const char *path)
{
  free (job->mask);
  job->mask = NULL;
  char *mask = nn_mask_find (path);
  bool ok = mask == NULL || load_mask (job, mask, true);
  free (mask);
  return ok;
}

/* Explains each input of the list: its figure in out_dir, its row in csv, its JSON in list.
 * Returns how many failed. */
static int
explain_each (Job            *job,
              const CliNames *inputs,
              const char     *out_dir,
              FILE           *csv,
              cJSON          *list)
{
  int failed = 0;
  for (int i = 0; i < inputs->n; i++)
    {
      char path[4096], figure[4096];
      Outputs out = { .figure = figure, .csv = csv, .json_list = list };
      if (!folder_paths (job->input_path, inputs->items[i], out_dir, path, figure, sizeof path))
        {
          cli_fail (CLI_EXIT_FAILURE, "%s/%s: the path is too long", job->input_path,
                    inputs->items[i]);
          failed++;
        }
      else if (!find_mask (job, path) || !explain (job, path, &out))
        failed++;
    }
  return failed;
}

/* The JSON of a folder run: the model, method and CSV, then the results. */
static cJSON *
folder_json_new (const Job  *job,
                 const char *csv_path,
                 cJSON     **list)
{
  cJSON *root = cJSON_CreateObject ();
  cJSON_AddStringToObject (root, "model", job->model_path);
  cJSON_AddStringToObject (root, "method", nn_method_get_info (job->spec.map.method)->name);
  cJSON_AddStringToObject (root, "csv", csv_path);
  *list = cJSON_AddArrayToObject (root, "results");
  return root;
}

/* After the inputs of a folder: the pointing game's count, metrics.csv in place, the JSON. */
static int
folder_finish (Job          *job,
               NnAtomicFile *csv,
               const char   *csv_path,
               cJSON        *root,
               int           n,
               int           failed)
{
  NnError err = { 0 };
  int status = 0;
  if (job->pointing_n > 0 && !job->json)
    fprintf (stderr, "pointing game: %d of %d inputs with a mask (%.1f%%)\n", job->pointing_hits,
             job->pointing_n, 100.0 * job->pointing_hits / job->pointing_n);
  if (!nn_atomic_file_finish (csv, true, &err))
    status = cli_fail_error (CLI_EXIT_FAILURE, &err);
  else if (!job->json)
    fprintf (stderr, "%s: %d inputs, %d failed\n", csv_path, n, failed);
  if (root)
    {
      cJSON_AddNumberToObject (root, "failed", failed);
      if (job->pointing_n > 0)
        {
          cJSON_AddNumberToObject (root, "pointing_game_hits", job->pointing_hits);
          cJSON_AddNumberToObject (root, "pointing_game_n", job->pointing_n);
        }
      if (!cli_print_json (root) && status == 0)
        status = CLI_EXIT_FAILURE;
    }
  return status ? status : failed ? CLI_EXIT_FAILURE : 0;
}

/* Keeps the shard's block of names (cli-volume.h). */
static void
shard_names (const CliShard *shard,
             CliNames       *names)
{
  int begin, end;
  cli_shard_range (shard, names->n, &begin, &end);
  for (int i = 0; i < names->n; i++)
    if (i < begin || i >= end)
      free (names->items[i]);
  memmove (names->items, names->items + begin, sizeof (char *) * (size_t) (end - begin));
  names->n = end - begin;
}

/* Every input in the folder job->input_path: a figure each in job->out, and metrics.csv. */
static int
run_folder (Job *job)
{
  const char *dir = job->input_path, *out_dir = job->out;
  if (mkdir (out_dir, 0755) != 0 && errno != EEXIST)
    return cli_fail (CLI_EXIT_FAILURE, "%s: cannot create the folder: %s", out_dir,
                     strerror (errno));
  CliNames inputs = { 0 };
  if (!cli_collect_inputs (dir, "", &inputs))
    return cli_names_clear (&inputs), CLI_EXIT_FAILURE;
  int all = inputs.n;
  shard_names (&job->shard, &inputs);
  char csv_path[4096], suffix[32];
  cli_shard_suffix (&job->shard, suffix, sizeof suffix);
  snprintf (csv_path, sizeof csv_path, "%s/metrics%s.csv", out_dir, suffix);
  NnAtomicFile csv = { 0 };
  NnError err = { 0 };
  int status;
  if (all == 0)
    status = cli_fail (CLI_EXIT_FAILURE, "%s: no .png, .jpg, .jpeg, .dcm or .npy inputs in the "
                       "folder", dir);
  else if (!nn_atomic_file_open (&csv, csv_path, &err))
    status = cli_fail_error (CLI_EXIT_FAILURE, &err);
  else
    {
      /* Shards after the first leave the header out, so that their files concatenate. */
      if (job->shard.index == 0)
        fputs (csv_header, csv.fp);
      cJSON *list = NULL;
      cJSON *root = job->json ? folder_json_new (job, csv_path, &list) : NULL;
      int failed = explain_each (job, &inputs, out_dir, csv.fp, list);
      status = folder_finish (job, &csv, csv_path, root, inputs.n, failed);
    }
  cli_names_clear (&inputs);
  return status;
}

/* ---- Volumes ------------------------------------------------------------------------------ */

/* The most slices a montage shows (evenly spaced over those explained). */
#define MONTAGE_MAX 48

/* The montage's tiles as they are explained: the slice through the display window and its
 * map, both at the slice's resolution. */
typedef struct
{
  int             n, cap;
  VizMontageTile *tiles;
  float          *pixels;   /* 2 * cap planes: image, map */
  char          (*labels)[96];
  int             h, w;
  double          aspect;
} Montage;

static void
montage_free (Montage *m)
{
  free (m->tiles);
  free (m->pixels);
  free (m->labels);
}

static void
draw_montage (cairo_t    *cr,
              const void *data,
              double      width,
              double      height)
{
  const VizMontage *m = data;
  VizStyle style;
  viz_style_init (&style);
  viz_montage_draw (cr, m, &style, width, height);
}

/* Writes the montage PNG (size job->size, taller for many rows). */
static bool
write_montage (const Job     *job,
               const Montage *mt,
               const char    *path)
{
  size_t plane = (size_t) mt->h * (size_t) mt->w;
  float *maps = malloc (sizeof (float) * plane * (size_t) (mt->n > 0 ? mt->n : 1));
  if (maps == NULL)
    return cli_fail (CLI_EXIT_FAILURE, "%s: out of memory", path), false;
  for (int t = 0; t < mt->n; t++)
    memcpy (maps + (size_t) t * plane, mt->tiles[t].map, sizeof (float) * plane);
  bool is_signed = job->kind == CLI_EXPLAIN_SALIENCY || job->signed_display;
  VizColormap cm;
  viz_heatmap_colormap_init (&cm, maps, plane * (size_t) mt->n, is_signed, job->scale);
  free (maps);
  VizMontage m = {
    .tiles = mt->tiles, .n = mt->n, .h = mt->h, .w = mt->w, .aspect = mt->aspect,
    .colormap = &cm, .opacity = job->opacity, .fade = is_signed,
  };
  NnError err = { 0 };
  if (!viz_export_png (path, draw_montage, &m, job->size.width, job->size.height, &err))
    return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
  return true;
}

/* The JSON line of slice k. */
static cJSON *
slice_json (const Job           *job,
            const NnVolume      *volume,
            int                  k,
            const NnExplanation *e)
{
  cJSON *o = result_json (job, job->input_path, e);
  cJSON_AddNumberToObject (o, "slice", k);
  cJSON_AddNumberToObject (o, "slices", volume->nz);
  cJSON_AddNumberToObject (o, "z_mm", cli_volume_slice_z (volume, k));
  cJSON *top = cJSON_AddArrayToObject (o, "top");
  char buf[32];
  for (int i = 0; i < e->k; i++)
    {
      cJSON *t = cJSON_CreateObject ();
      cJSON_AddNumberToObject (t, "class", e->top_class[i]);
      cJSON_AddStringToObject (t, "label", cli_label (job->model, e->top_class[i], buf,
                                                      sizeof buf));
      cJSON_AddNumberToObject (t, "probability", (double) e->top_probability[i]);
      cJSON_AddItemToArray (top, t);
    }
  return o;
}

/* The lesion mask volume (--mask) in LPS order, which must share the scan's grid: the same
 * size and, voxel for voxel, the same place (to 0.01 mm). NULL after printing the error. */
static NnVolume *
load_mask_volume (const Job      *job,
                  const NnVolume *volume)
{
  NnVolume *masks = cli_volume_load (job->mask_path, NULL, NULL);
  if (masks == NULL)
    return NULL;
  if (!nn_volume_same_grid (volume, masks, 0.01))
    {
      cli_fail (CLI_EXIT_FAILURE, "%s: the mask volume (%d x %d x %d) does not lie on the "
                "scan's voxel grid (%d x %d x %d, same affine)", job->mask_path, masks->nx,
                masks->ny, masks->nz, volume->nx, volume->ny, volume->nz);
      nn_volume_free (masks);
      return NULL;
    }
  return masks;
}

/* What the slices of a volume run share with the callback after each slice. */
typedef struct
{
  Job            *job;
  const NnVolume *volume;
  const NnVolume *attribution;
  Montage        *montage;
  int             begin, count;  /* the shard's slices */
  int             next_tile;
  atomic_int      stop;          /* set when an output fails: ends the run */
} VolumeRun;

/* Whether slice k (of the shard's count from begin) is the montage's next tile: tile t shows
 * the slice at t (count - 1) / (cap - 1). */
static bool
is_next_tile (VolumeRun *run,
              int        k)
{
  Montage *mt = run->montage;
  if (run->next_tile >= mt->cap)
    return false;
  int at = mt->cap > 1 ? (int) ((long long) run->next_tile * (run->count - 1) / (mt->cap - 1))
                       : 0;
  if (k - run->begin != at)
    return false;
  run->next_tile++;
  return true;
}

/* Keeps slice k and its laid-back map as the montage's next tile. */
static void
add_tile (VolumeRun           *run,
          int                  k,
          const NnExplanation *e)
{
  const NnVolume *volume = run->volume;
  Montage *mt = run->montage;
  size_t plane = (size_t) volume->nx * (size_t) volume->ny;
  int t = mt->n++;
  float *image = mt->pixels + 2 * (size_t) t * plane;
  nn_volume_plane_get (volume, NN_VOLUME_AXIAL, k, image);
  const Job *job = run->job;
  NnCtWindow window = job->has_window ? job->window
                      : job->model->has_window ? job->model->window : NN_CT_WINDOW_LUNG;
  if (volume->hu)
    nn_ct_window_apply (&window, image, image, plane);
  else
    for (size_t p = 0; p < plane; p++)
      image[p] = image[p] < 0.0f ? 0.0f : image[p] > 1.0f ? 1.0f : image[p];
  memcpy (image + plane, run->attribution->data + (size_t) k * plane, sizeof (float) * plane);
  char buf[32];
  snprintf (mt->labels[t], sizeof mt->labels[t], "%d  z %.1f  %s %.2f", k,
            cli_volume_slice_z (volume, k), cli_label (job->model, e->map->target, buf,
                                                       sizeof buf), (double) e->probability);
  mt->tiles[t] = (VizMontageTile) { image, image + plane, mt->labels[t] };
}

/* After each slice: the montage tile, progress on stderr, the JSON line, the pointing game. */
static void
slice_done (int                  k,
            const float         *probs,
            const NnExplanation *e,
            void                *user_data)
{
  (void) probs;
  VolumeRun *run = user_data;
  Job *job = run->job;
  if (is_next_tile (run, k))
    add_tile (run, k, e);
  if (e->metrics.has & NN_FAITH_MASK)
    {
      job->pointing_hits += e->metrics.pointing;
      job->pointing_n++;
    }
  char buf[32];
  fprintf (stderr, "%s: slice %d of %d (z %.1f mm): %s %.3f\n", job->command, k + 1,
           run->volume->nz, cli_volume_slice_z (run->volume, k),
           cli_label (job->model, e->map->target, buf, sizeof buf), (double) e->probability);
  if (!cli_print_json (slice_json (job, run->volume, k, e)))
    atomic_store (&run->stop, 1);
}

/* "<out without .nii or .nii.gz>.png" into buf. */
static void
montage_path (const char *out,
              char       *buf,
              size_t      size)
{
  size_t n = strlen (out);
  if (cli_has_extension (out, ".nii.gz"))
    n -= 7;
  else if (cli_has_extension (out, ".nii"))
    n -= 4;
  snprintf (buf, size, "%.*s.png", (int) n, out);
}

/* A volume: every axial slice of the shard explained in turn (JSON lines on stdout, progress
 * on stderr), the attribution volume as NIfTI with the input's geometry (--out), a montage
 * (--montage, else beside --out). */
static int
run_volume (Job *job)
{
  NnVolume *as_read = NULL;
  NnVolume *volume = cli_volume_load (job->input_path, job->series, &as_read);
  if (volume == NULL)
    return CLI_EXIT_FAILURE;
  int begin, end;
  cli_shard_range (&job->shard, volume->nz, &begin, &end);
  NnVolume *masks = NULL;
  if (job->mask_path != NULL && (masks = load_mask_volume (job, volume)) == NULL)
    {
      nn_volume_free (volume);
      nn_volume_free (as_read);
      return CLI_EXIT_FAILURE;
    }
  NnVolume *attribution = nn_volume_new_like (volume);
  Montage mt = { .h = volume->ny, .w = volume->nx,
                 .aspect = volume->spacing[1] / volume->spacing[0] };
  int count = end - begin;
  mt.cap = count < MONTAGE_MAX ? count : MONTAGE_MAX;
  size_t plane = (size_t) volume->nx * (size_t) volume->ny;
  mt.tiles = calloc ((size_t) (mt.cap > 0 ? mt.cap : 1), sizeof *mt.tiles);
  mt.labels = calloc ((size_t) (mt.cap > 0 ? mt.cap : 1), sizeof *mt.labels);
  mt.pixels = malloc (sizeof (float) * 2 * plane * (size_t) (mt.cap > 0 ? mt.cap : 1));
  bool ok = attribution != NULL && mt.tiles != NULL && mt.labels != NULL && mt.pixels != NULL;
  if (!ok)
    cli_fail (CLI_EXIT_FAILURE, "%s: out of memory", job->input_path);
  VolumeRun run = { .job = job, .volume = volume, .attribution = attribution,
                    .montage = &mt, .begin = begin, .count = count };
  atomic_init (&run.stop, 0);
  NnError err = { 0 };
  /* The metrics asked for; the mask volume's slices add the mask's per slice. */
  spec_for_input (job);
  if (ok && !nn_volume_explain (job->model, volume, masks, job->input_path,
                                job->has_window ? &job->window : NULL, &job->spec, begin, end,
                                attribution, slice_done, &run, &run.stop, &err))
    {
      /* A failed JSON line has said why already. */
      if (!atomic_load (&run.stop))
        cli_fail_error (CLI_EXIT_FAILURE, &err);
      ok = false;
    }
  char description[80];
  snprintf (description, sizeof description, "cnnscope %s %s", job->command,
            nn_method_get_info (job->spec.map.method)->name);
  if (ok && job->out != NULL)
    ok = cli_volume_save (attribution, as_read, description, job->out);
  char derived[4096];
  const char *montage = job->montage;
  if (montage == NULL && job->out != NULL)
    {
      montage_path (job->out, derived, sizeof derived);
      montage = derived;
    }
  if (ok && montage != NULL && mt.n > 0)
    ok = write_montage (job, &mt, montage);
  if (ok && job->pointing_n > 0)
    fprintf (stderr, "pointing game: %d of %d slices with a lesion (%.1f%%)\n",
             job->pointing_hits, job->pointing_n, 100.0 * job->pointing_hits / job->pointing_n);
  if (ok)
    fprintf (stderr, "%s: %d slice%s explained%s%s%s%s\n", job->input_path, count,
             count == 1 ? "" : "s", job->out ? ", " : "", job->out ? job->out : "",
             montage && mt.n > 0 ? ", " : "", montage && mt.n > 0 ? montage : "");
  montage_free (&mt);
  nn_volume_free (masks);
  nn_volume_free (attribution);
  nn_volume_free (volume);
  nn_volume_free (as_read);
  return ok ? 0 : CLI_EXIT_FAILURE;
}

/* One input: the figure (--out), the map (--npy), the JSON on stdout (--json). */
static int
run_one (Job *job)
{
  if (job->mask_path != NULL && !load_mask (job, job->mask_path, false))
    return CLI_EXIT_FAILURE;
  cJSON *one = NULL;
  Outputs out = { .figure = job->out, .npy = job->npy, .json_one = job->json ? &one : NULL };
  if (!explain (job, job->input_path, &out))
    return CLI_EXIT_FAILURE;
  if (one == NULL)
    return 0;
  cJSON_AddStringToObject (one, "model", job->model_path);
  return cli_print_json (one) ? 0 : CLI_EXIT_FAILURE;
}

/* The model, and the class and layer checked against it before any input is read. */
static bool
load_model (Job *job)
{
  int node = -1;
  job->model = job->layer ? cli_load_model_layer (job->model_path, job->layer, &node)
                          : cli_load_model (job->model_path);
  if (job->model == NULL)
    return false;
  job->spec.map.layer = node;
  NnError err = { 0 };
  const NnGraph *g = job->model->graph;
  if (nn_explain_check_class (g, job->target, &err)
      && (node < 0 || nn_explain_check_layer (g, node, &err)))
    return true;
  nn_error_prefix (&err, "%s", job->model_path);
  return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
}

int
cli_explain_main (int             argc,
                  char          **argv,
                  CliExplainKind  kind,
                  const char     *usage_head,
                  const char     *usage_tail)
{
  Job job = { .kind = kind, .command = argv[0], .target = -1, .opacity = 0.6,
              .size = { VIZ_EXPLAIN_FIGURE_WIDTH, VIZ_EXPLAIN_FIGURE_HEIGHT },
              .shard = CLI_SHARD_NONE };
  nn_explain_spec_init (&job.spec);
  job.spec.threads = 0;  /* one explanation at a time: every core */
  int status = parse_args (argc, argv, &job, usage_head, usage_tail);
  if (status != 0)
    return status < 0 ? 0 : status;
  status = CLI_EXIT_FAILURE;
  if (load_model (&job))
    status = job.volume ? run_volume (&job) : job.folder ? run_folder (&job) : run_one (&job);
  free (job.mask);
  nn_model_free (job.model);
  return status;
}
