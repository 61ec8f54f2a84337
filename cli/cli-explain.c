/* SPDX-License-Identifier: MIT */
/* The runner behind cnnscope-cli cam and saliency: parses the options, makes the contexts,
 * computes each input's map and, when asked, its faithfulness metrics, and writes the figure
 * (the Explain view's, drawn by viz/), the .npy map, JSON and (for a folder) metrics.csv. */
#include "cli-explain.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli-common.h"

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
  CLI_FIGURE_OPTIONS,
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

/* The metrics' settings: 20 steps per curve, ROAD at 10% .. 90%, the pointing game's
 * tolerance. */
#define CURVE_STEPS   20
#define ROAD_POINTS   9
#define ROAD_NOISE    0.01f
#define POINTING_PX   15.0f

typedef struct
{
  CliExplainKind  kind;
  const char     *command;
  NnModel        *model;
  const char     *model_path;
  NnCamSpec       cam;
  NnSaliencySpec  sal;
  bool            metrics, json, signed_display;
  double          opacity, scale;   /* of the figure's overlay */
  CliFigureSize   size;             /* of the figure */
  int             batch;
  uint64_t        seed;
  NnContext      *grad_ctx;   /* what the method runs on */
  NnContext      *batch_ctx;  /* forward only, `batch` images per pass: the metrics */
  NnInput        *input;      /* the current input, or NULL */
  uint8_t        *mask;       /* (H, W) or NULL */
  bool            has_mask;   /* mask holds the current input's ground truth */
  bool            has_window; /* --window: the window of CT slices without one of the model */
  NnCtWindow      window;
  int             pointing_hits, pointing_n;  /* over the inputs with a mask */
} Job;

typedef struct
{
  bool    faithful;              /* the faithfulness part below was computed (--metrics) */
  NnCurve deletion, insertion, morf, lerf;
  double  road_morf, road_lerf;  /* mean probability over the ROAD fractions */
  double  rho;
  bool    has_mask, pointing;    /* with a ground-truth mask */
  double  energy;
} Metrics;

static bool
method_parse (Job        *job,
              const char *name)
{
  if (job->kind == CLI_EXPLAIN_CAM)
    return nn_cam_method_from_name (name, &job->cam.method);
  return nn_saliency_method_from_name (name, &job->sal.method);
}

static const char *
method_name (const Job *job)
{
  return job->kind == CLI_EXPLAIN_CAM ? nn_cam_method_name (job->cam.method)
                                      : nn_saliency_method_name (job->sal.method);
}

/* How many samples the method's own context needs: gradient methods take one, the batched
 * ones `batch`. */
static int
method_batch (const Job *job)
{
  if (job->kind == CLI_EXPLAIN_CAM)
    return job->cam.method == NN_CAM_SCORECAM ? job->batch : 1;
  return job->sal.method == NN_SALIENCY_SMOOTHGRAD || job->sal.method == NN_SALIENCY_IG
         ? job->batch : 1;
}

static bool
method_needs_grads (const Job *job)
{
  return job->kind == CLI_EXPLAIN_SALIENCY
         || (job->cam.method != NN_CAM_SCORECAM && job->cam.method != NN_CAM_EIGENCAM);
}

static NnMap *
compute_map (Job     *job,
             NnError *err)
{
  if (job->kind == CLI_EXPLAIN_CAM)
    return nn_cam_compute (job->grad_ctx, job->input->tensor, &job->cam, NULL, err);
  return nn_saliency_compute (job->grad_ctx, job->input->tensor, &job->sal, NULL, err);
}

/* The mask, fitted to the model input like an image; nonzero pixels (>= half) count. An empty
 * mask is an error, unless found beside a slice in a folder (optional): that slice then has no
 * ground truth (a healthy slice from `synth ct`). */
static bool
load_mask (Job        *job,
           const char *path,
           bool        optional)
{
  job->has_mask = false;
  NnError err = { 0 };
  NnImage *img = nn_image_load (path, &err);
  if (img == NULL)
    return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
  int h = nn_model_input_height (job->model), w = nn_model_input_width (job->model);
  NnImage *gray = img->c == 1 ? img : nn_image_convert (img, 1);
  NnImage *fit = gray && (gray->h != h || gray->w != w) ? nn_image_fit (gray, h, w) : gray;
  bool ok = fit != NULL;
  size_t lit = 0;
  for (size_t p = 0; ok && p < (size_t) h * (size_t) w; p++)
    lit += job->mask[p] = fit->data[p] >= 0.5f;
  if (fit != gray)
    nn_image_free (fit);
  if (gray != img)
    nn_image_free (gray);
  nn_image_free (img);
  if (!ok)
    return cli_fail (CLI_EXIT_FAILURE, "%s: cannot fit the mask to %d x %d", path, h, w), false;
  if (lit == 0 && optional)
    return true;
  if (lit == 0)
    return cli_fail (CLI_EXIT_FAILURE, "%s: the mask is empty (no pixel >= half)", path), false;
  job->has_mask = true;
  return true;
}

/* Opens the input at path as job->input, in place of the one before. */
static bool
load_input (Job        *job,
            const char *path)
{
  nn_input_unref (job->input);
  job->input = cli_load_input (job->model, path, job->has_window ? &job->window : NULL);
  return job->input != NULL;
}

/* Deletion, insertion, ROAD and the randomization check (--metrics). */
static bool
compute_faithfulness (Job         *job,
                      const NnMap *map,
                      Metrics     *m,
                      NnError     *err)
{
  m->faithful = true;
  NnContext *ctx = job->batch_ctx;
  float blur = (float) (map->h > map->w ? map->h : map->w) / 16.0f;
  float fractions[ROAD_POINTS];
  for (int i = 0; i < ROAD_POINTS; i++)
    fractions[i] = 0.1f * (float) (i + 1);
  const float *x = job->input->tensor;
  if (!nn_faith_curve (ctx, x, map->map, map->target, NN_CURVE_DELETION, CURVE_STEPS, 0.0f,
                       &m->deletion, NULL, err)
      || !nn_faith_curve (ctx, x, map->map, map->target, NN_CURVE_INSERTION, CURVE_STEPS, blur,
                          &m->insertion, NULL, err)
      || !nn_faith_road (ctx, x, map->map, map->target, fractions, ROAD_POINTS, true,
                         ROAD_NOISE, job->seed, &m->morf, NULL, err)
      || !nn_faith_road (ctx, x, map->map, map->target, fractions, ROAD_POINTS, false,
                         ROAD_NOISE, job->seed, &m->lerf, NULL, err))
    return false;
  for (int i = 0; i < ROAD_POINTS; i++)
    {
      m->road_morf += (double) m->morf.prob[i] / ROAD_POINTS;
      m->road_lerf += (double) m->lerf.prob[i] / ROAD_POINTS;
    }
  bool cam = job->kind == CLI_EXPLAIN_CAM;
  if (!nn_faith_randomization (job->model->graph, x, cam ? &job->cam : NULL,
                               cam ? NULL : &job->sal, map, method_batch (job), job->seed,
                               &m->rho, NULL, err))
    return false;
  return true;
}

/* The top predictions of the unchanged input, from its logits. */
typedef struct
{
  int   k;
  int   classes[VIZ_EXPLAIN_FIGURE_TOP_K];
  float probability[VIZ_EXPLAIN_FIGURE_TOP_K];
} Top;

static void
top_predictions (Top         *top,
                 const float *logits,
                 int          n)
{
  top->k = 0;
  for (int k = 0; k < VIZ_EXPLAIN_FIGURE_TOP_K && k < n; k++)
    {
      int best = -1;
      for (int i = 0; i < n; i++)
        {
          bool used = false;
          for (int j = 0; j < top->k; j++)
            used |= top->classes[j] == i;
          if (!used && (best < 0 || logits[i] > logits[best]))
            best = i;
        }
      top->classes[k] = best;
      top->probability[k] = nn_explain_softmax_at (logits, n, best);
      top->k++;
    }
}

/* The metrics as the figure shows them. */
static void
figure_metrics (VizExplainMetrics *out,
                const Metrics     *m)
{
  memset (out, 0, sizeof *out);
  if (m->faithful)
    {
      out->has |= VIZ_EXPLAIN_HAS_DELETION | VIZ_EXPLAIN_HAS_INSERTION | VIZ_EXPLAIN_HAS_ROAD
                  | VIZ_EXPLAIN_HAS_RANDOMIZATION;
      out->deletion = m->deletion;
      out->insertion = m->insertion;
      out->road_morf = m->road_morf;
      out->road_lerf = m->road_lerf;
      out->rho = m->rho;
    }
  if (m->has_mask)
    {
      out->has |= VIZ_EXPLAIN_HAS_MASK;
      out->pointing = m->pointing;
      out->energy = m->energy;
    }
}

/* The Explain view's figure of one map. */
static bool
write_figure (const Job     *job,
              const char    *input_path,
              const NnMap   *map,
              const char    *path,
              float          probability,
              const Top     *top,
              const Metrics *m,
              NnError       *err)
{
  const NnModel *model = job->model;
  const NnGraph *g = model->graph;
  size_t hw = (size_t) map->h * (size_t) map->w;
  bool is_signed = map->is_signed && (job->signed_display || job->kind == CLI_EXPLAIN_SALIENCY);
  VizColormap cm;
  viz_heatmap_colormap_init (&cm, map->map, hw, is_signed, job->scale);
  int layer = map->layer > 0 ? map->layer : job->cam.layer;
  layer = layer >= 0 ? layer : nn_explain_default_layer (g);
  int mask_pixels = -1;
  if (job->has_mask)
    {
      mask_pixels = 0;
      for (size_t p = 0; p < hw; p++)
        mask_pixels += job->mask[p] != 0;
    }
  VizExplainCaption caption = {
    .model_path = job->model_path,
    .model = model,
    .input_path = input_path,
    .target = map->target,
    .probability = probability,
    .top_prediction = job->cam.target < 0,
    .layer = layer >= 0 ? g->nodes[layer].name : NULL,
    .methods = { method_name (job) },
    .n_methods = 1,
    .opacity = job->opacity,
    .is_signed = is_signed,
    .fixed_scale = job->scale,
    .display_window = job->input->hu != NULL ? &job->input->window : NULL,
    .faithfulness = job->metrics,
    .seed = job->seed,
    .mask_pixels = mask_pixels,
  };
  VizExplainFigure fig = { .n_panels = 1, .faithfulness = job->metrics };
  viz_explain_figure_caption (fig.caption, sizeof fig.caption, &caption);
  VizExplainPanel *panel = &fig.panels[0];
  snprintf (panel->method, sizeof panel->method, "%s", method_name (job));
  bool layered = (job->kind == CLI_EXPLAIN_CAM || job->sal.method == NN_SALIENCY_GUIDED_GRADCAM)
                 && map->layer > 0;
  viz_explain_figure_panel_title (panel->title, sizeof panel->title, method_name (job), model,
                                  map->target, layered ? g->nodes[map->layer].name : NULL,
                                  NULL);
  panel->heatmap = (VizHeatmap) {
    .image = job->input->display, .c = job->input->c, .map = map->map, .h = map->h,
    .w = map->w, .colormap = &cm, .opacity = job->opacity, .fade = is_signed,
  };
  figure_metrics (&panel->metrics, m);
  for (int i = 0; i < top->k; i++)
    viz_explain_figure_add_prediction (&fig, model, top->classes[i], top->probability[i]);
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
  cJSON *fr = cJSON_AddArrayToObject (o, "fraction"), *pr = cJSON_AddArrayToObject (o, "prob");
  for (int i = 0; i < c->n; i++)
    {
      cJSON_AddItemToArray (fr, cJSON_CreateNumber ((double) c->fraction[i]));
      cJSON_AddItemToArray (pr, cJSON_CreateNumber ((double) c->prob[i]));
    }
  return o;
}

static cJSON *
result_json (const Job     *job,
             const char    *input,
             const NnMap   *map,
             float          probability,
             const Metrics *m)
{
  char buf[32];
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "input", input);
  cJSON_AddStringToObject (o, "method", method_name (job));
  cJSON_AddStringToObject (o, "layer", job->model->graph->nodes[map->layer].name);
  cJSON_AddNumberToObject (o, "class", map->target);
  cJSON_AddStringToObject (o, "label", cli_label (job->model, map->target, buf, sizeof buf));
  cJSON_AddNumberToObject (o, "score", (double) map->score);
  cJSON_AddNumberToObject (o, "probability", (double) probability);
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
  if (m->faithful || m->has_mask)
    {
      cJSON *mt = cJSON_AddObjectToObject (o, "metrics");
      if (m->faithful)
        {
          cJSON_AddItemToObject (mt, "deletion", curve_json (&m->deletion));
          cJSON_AddItemToObject (mt, "insertion", curve_json (&m->insertion));
          cJSON_AddItemToObject (mt, "road_morf", curve_json (&m->morf));
          cJSON_AddItemToObject (mt, "road_lerf", curve_json (&m->lerf));
          cJSON_AddNumberToObject (mt, "road_morf_mean", m->road_morf);
          cJSON_AddNumberToObject (mt, "road_lerf_mean", m->road_lerf);
          cJSON_AddNumberToObject (mt, "randomization_rho", m->rho);
        }
      if (m->has_mask)
        {
          cJSON_AddBoolToObject (mt, "pointing_game", m->pointing);
          cJSON_AddNumberToObject (mt, "energy_share", m->energy);
        }
    }
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

/* Explains the input already in job->input. */
static bool
explain (Job        *job,
         const char *input_path,
         const char *figure,
         const char *npy,
         FILE       *csv,
         cJSON      *json_list,
         cJSON     **json_one)
{
  NnError err = { 0 };
  NnMap *map = compute_map (job, &err);
  if (map == NULL)
    {
      nn_error_prefix (&err, "%s", input_path);
      return cli_fail_error (CLI_EXIT_FAILURE, &err), false;
    }
  const NnGraph *g = job->model->graph;
  int logit = nn_explain_logit_node (g);
  int classes = (int) nn_shape_size (g->nodes[logit].shape);
  /* The probability of the explained class on the unchanged input. */
  memcpy (nn_context_input (job->batch_ctx), job->input->tensor,
          sizeof (float) * nn_shape_size (g->nodes[0].shape));
  nn_context_forward (job->batch_ctx, logit);
  const float *logits = nn_context_output (job->batch_ctx, logit);
  float probability = nn_explain_softmax_at (logits, classes, map->target);
  Top top;
  top_predictions (&top, logits, classes);
  Metrics metrics = { 0 };
  bool ok = !job->metrics || compute_faithfulness (job, map, &metrics, &err);
  if (job->has_mask)
    {
      metrics.has_mask = true;
      metrics.pointing = nn_faith_pointing_game (map->map, job->mask, map->h, map->w,
                                                 POINTING_PX);
      metrics.energy = nn_faith_energy_share (map->map, job->mask, map->h, map->w);
    }
  if (ok && figure)
    ok = write_figure (job, input_path, map, figure, probability, &top, &metrics, &err);
  if (ok && npy)
    {
      const int dims[2] = { map->h, map->w };
      ok = nn_npy_save (npy, map->map, dims, 2, &err);
    }
  if (!ok)
    {
      nn_error_prefix (&err, "%s", input_path);
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      nn_map_free (map);
      return false;
    }
  /* The pointing game counts the inputs that came through, not those that failed. */
  if (metrics.has_mask)
    {
      job->pointing_hits += metrics.pointing;
      job->pointing_n++;
    }
  const Metrics *m = &metrics;
  char buf[32];
  const char *label = cli_label (job->model, map->target, buf, sizeof buf);
  if (csv)
    {
      csv_field (csv, input_path);
      fprintf (csv, ",%d,", map->target);
      csv_field (csv, label);
      fprintf (csv, ",%.6g,%.6g", (double) map->score, (double) probability);
      if (m->faithful)
        fprintf (csv, ",%.6g,%.6g,%.6g,%.6g,%.6g", m->deletion.auc, m->insertion.auc,
                 m->road_morf, m->road_lerf, m->rho);
      else
        fprintf (csv, ",,,,,");
      if (m->has_mask)
        fprintf (csv, ",%d,%.6g\n", m->pointing, m->energy);
      else
        fprintf (csv, ",,\n");
    }
  if (json_list)
    cJSON_AddItemToArray (json_list, result_json (job, input_path, map, probability, m));
  else if (json_one)
    *json_one = result_json (job, input_path, map, probability, m);
  if (!job->json)
    {
      float lo, hi;
      map_range (map, &lo, &hi);
      fprintf (stderr, "%s: %s at %s for class %d (%s, p = %.3f): map %.4g to %.4g\n",
               input_path, method_name (job), g->nodes[map->layer].name, map->target, label,
               (double) probability, (double) lo, (double) hi);
      if (m->faithful)
        fprintf (stderr, "  deletion AUC %.4f, insertion AUC %.4f, ROAD MoRF %.4f, LeRF %.4f, "
                 "randomization rho %.3f\n", m->deletion.auc, m->insertion.auc, m->road_morf,
                 m->road_lerf, m->rho);
      if (m->has_mask)
        fprintf (stderr, "  pointing game %s, energy share %.3f\n", m->pointing ? "hit" : "miss",
                 m->energy);
    }
  nn_map_free (map);
  return true;
}

/* Whether the file at path is an input of a folder run: an image, DICOM slice or .npy, but not
 * the lesion mask or the windowed copy that `synth ct` writes beside each slice, nor a DICOM
 * file with a PNG of the same name beside it (the same slice, written both ways). */
static bool
is_folder_input (const char *path)
{
  if (cli_has_extension (path, ".mask.png") || cli_has_extension (path, ".lung.png"))
    return false;
  if (cli_has_extension (path, ".dcm"))
    {
      char twin[4096];
      struct stat st;
      return snprintf (twin, sizeof twin, "%.*s.png", (int) strlen (path) - 4, path)
             >= (int) sizeof twin || stat (twin, &st) != 0;
    }
  return cli_has_extension (path, ".png") || cli_has_extension (path, ".jpg")
         || cli_has_extension (path, ".jpeg") || cli_has_extension (path, ".npy");
}

/* Appends every input (is_folder_input) under root/rel to list (paths relative to root), sorted,
 * skipping hidden entries, links to folders and anything that is not a regular file (a FIFO
 * named *.png would block the reader). */
static bool
collect_inputs (const char *root,
                const char *rel,
                char     ***list,
                int        *n,
                int        *cap)
{
  char path[4096];
  snprintf (path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
  DIR *d = opendir (path);
  if (d == NULL)
    return cli_fail (CLI_EXIT_FAILURE, "%s: cannot open the folder: %s", path,
                     strerror (errno)), false;
  char **names = NULL;
  int nn = 0, cn = 0;
  struct dirent *e;
  bool ok = true;
  while (ok && (e = readdir (d)) != NULL)
    {
      if (e->d_name[0] == '.')
        continue;
      if (nn == cn)
        {
          cn = cn ? 2 * cn : 64;
          char **grown = realloc (names, sizeof (char *) * (size_t) cn);
          ok = grown != NULL;
          if (ok)
            names = grown;
        }
      if (ok)
        ok = (names[nn++] = strdup (e->d_name)) != NULL;
    }
  closedir (d);
  for (int i = 1; i < nn; i++)
    for (int j = i; j > 0 && strcmp (names[j - 1], names[j]) > 0; j--)
      {
        char *t = names[j];
        names[j] = names[j - 1];
        names[j - 1] = t;
      }
  for (int i = 0; ok && i < nn; i++)
    {
      char sub[4096], full[4096];
      struct stat st;
      if (snprintf (sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", names[i]) >= (int) sizeof sub
          || snprintf (full, sizeof full, "%s/%s", root, sub) >= (int) sizeof full
          || lstat (full, &st) != 0)
        continue;
      /* Symbolic links count only when they lead to a file: a linked folder could loop. */
      if (S_ISLNK (st.st_mode) && (stat (full, &st) != 0 || !S_ISREG (st.st_mode)))
        continue;
      if (S_ISDIR (st.st_mode))
        ok = collect_inputs (root, sub, list, n, cap);
      else if (S_ISREG (st.st_mode) && is_folder_input (full))
        {
          if (*n == *cap)
            {
              *cap = *cap ? 2 * *cap : 64;
              char **grown = realloc (*list, sizeof (char *) * (size_t) *cap);
              if (grown == NULL)
                {
                  ok = false;
                  break;
                }
              *list = grown;
            }
          ok = ((*list)[(*n)++] = strdup (sub)) != NULL;
        }
    }
  for (int i = 0; i < nn; i++)
    free (names[i]);
  free (names);
  if (!ok)
    cli_fail (CLI_EXIT_FAILURE, "%s: out of memory listing the inputs", root);
  return ok;
}

static int
run_folder (Job        *job,
            const char *dir,
            const char *out_dir)
{
  if (mkdir (out_dir, 0755) != 0 && errno != EEXIST)
    return cli_fail (CLI_EXIT_FAILURE, "%s: cannot create the folder: %s", out_dir,
                     strerror (errno));
  char **inputs = NULL;
  int n = 0, cap = 0;
  if (!collect_inputs (dir, "", &inputs, &n, &cap))
    return CLI_EXIT_FAILURE;
  int status = 0;
  if (n == 0)
    status = cli_fail (CLI_EXIT_FAILURE, "%s: no .png, .jpg, .jpeg, .dcm or .npy inputs in the "
                       "folder", dir);
  char csv_path[4096];
  snprintf (csv_path, sizeof csv_path, "%s/metrics.csv", out_dir);
  NnAtomicFile csv = { 0 };
  NnError err = { 0 };
  if (status == 0 && !nn_atomic_file_open (&csv, csv_path, &err))
    status = cli_fail_error (CLI_EXIT_FAILURE, &err);
  cJSON *root = NULL, *list = NULL;
  if (status == 0)
    {
      fprintf (csv.fp, "input,class,label,score,probability,deletion_auc,insertion_auc,"
               "road_morf,road_lerf,randomization_rho,pointing_game,energy_share\n");
      if (job->json)
        {
          root = cJSON_CreateObject ();
          cJSON_AddStringToObject (root, "model", job->model_path);
          cJSON_AddStringToObject (root, "method", method_name (job));
          cJSON_AddStringToObject (root, "csv", csv_path);
          list = cJSON_AddArrayToObject (root, "results");
        }
    }
  int failed = 0;
  for (int i = 0; status == 0 && i < n; i++)
    {
      char path[4096], figure[4096];
      /* a/b.png -> OUT/a_b.png */
      char flat[4096];
      snprintf (flat, sizeof flat, "%s", inputs[i]);
      for (char *p = flat; *p; p++)
        *p = *p == '/' ? '_' : *p;
      char *dot = strrchr (flat, '.');
      if (dot)
        *dot = '\0';
      if (snprintf (path, sizeof path, "%s/%s", dir, inputs[i]) >= (int) sizeof path
          || snprintf (figure, sizeof figure, "%s/%s.png", out_dir, flat) >= (int) sizeof figure)
        {
          cli_fail (CLI_EXIT_FAILURE, "%s/%s: the path is too long", dir, inputs[i]);
          failed++;
          continue;
        }
      /* The ground truth of a/b.png, when there is one, is a/b.mask.png. */
      char mask[4096];
      int stem = (int) (strrchr (path, '.') - path);
      struct stat st;
      job->has_mask = false;
      bool has_mask = snprintf (mask, sizeof mask, "%.*s.mask.png", stem, path) < (int) sizeof mask
                      && stat (mask, &st) == 0 && S_ISREG (st.st_mode);
      if ((has_mask && !load_mask (job, mask, true))
          || !load_input (job, path)
          || !explain (job, path, figure, NULL, csv.fp, list, NULL))
        failed++;
    }
  if (status == 0 && job->pointing_n > 0 && !job->json)
    fprintf (stderr, "pointing game: %d of %d inputs with a mask (%.1f%%)\n", job->pointing_hits,
             job->pointing_n, 100.0 * job->pointing_hits / job->pointing_n);
  if (status == 0)
    {
      if (!nn_atomic_file_finish (&csv, true, &err))
        status = cli_fail_error (CLI_EXIT_FAILURE, &err);
      else if (!job->json)
        fprintf (stderr, "%s: %d inputs, %d failed\n", csv_path, n, failed);
    }
  if (root)
    {
      cJSON_AddNumberToObject (root, "failed", failed);
      if (job->pointing_n > 0)
        {
          cJSON_AddNumberToObject (root, "pointing_game_hits", job->pointing_hits);
          cJSON_AddNumberToObject (root, "pointing_game_n", job->pointing_n);
        }
      if (!cli_print_json (root))
        status = CLI_EXIT_FAILURE;
    }
  for (int i = 0; i < n; i++)
    free (inputs[i]);
  free (inputs);
  return status ? status : failed ? CLI_EXIT_FAILURE : 0;
}

int
cli_explain_main (int             argc,
                  char          **argv,
                  CliExplainKind  kind,
                  const char     *usage)
{
  Job job = { .kind = kind, .command = argv[0], .opacity = 0.6, .batch = 8, .seed = 1,
              .size = { VIZ_EXPLAIN_FIGURE_WIDTH, VIZ_EXPLAIN_FIGURE_HEIGHT } };
  nn_cam_spec_init (&job.cam);
  nn_saliency_spec_init (&job.sal);
  const char *layer = NULL, *out = NULL, *npy = NULL, *mask = NULL, *method = NULL;
  int target = -1;
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    switch (c)
      {
      case OPT_LAYER:
        layer = optarg;
        break;
      case OPT_CLASS:
        if (!cli_parse_int ("class", optarg, 0, 1 << 24, &target))
          return CLI_EXIT_USAGE;
        break;
      case OPT_METHOD:
        method = optarg;
        break;
      case OPT_OUT:
        out = optarg;
        break;
      case OPT_NPY:
        npy = optarg;
        break;
      case OPT_METRICS:
        job.metrics = true;
        break;
      case OPT_MASK:
        mask = optarg;
        break;
      case OPT_OPACITY:
        if (!cli_parse_double ("opacity", optarg, 0.0, 1.0, &job.opacity))
          return CLI_EXIT_USAGE;
        break;
      case OPT_SIGNED:
        job.signed_display = true;
        break;
      case OPT_SCALE:
        if (!cli_parse_double ("scale", optarg, 1e-30, 1e30, &job.scale))
          return CLI_EXIT_USAGE;
        break;
      case CLI_OPT_FIGURE_WIDTH:
      case CLI_OPT_FIGURE_HEIGHT:
        if (!cli_parse_figure_size (c, optarg, &job.size))
          return CLI_EXIT_USAGE;
        break;
      case OPT_BATCH:
        if (!cli_parse_int ("batch", optarg, 1, 256, &job.batch))
          return CLI_EXIT_USAGE;
        break;
      case OPT_SAMPLES:
        if (!cli_parse_int ("samples", optarg, 1, 100000, &job.sal.samples))
          return CLI_EXIT_USAGE;
        break;
      case OPT_NOISE:
        if (!cli_parse_float ("noise", optarg, 0.0, 10.0, &job.sal.noise))
          return CLI_EXIT_USAGE;
        break;
      case OPT_SEED:
        if (!cli_parse_u64 ("seed", optarg, &job.seed))
          return CLI_EXIT_USAGE;
        break;
      case OPT_JSON:
        job.json = true;
        break;
      case OPT_WINDOW:
        if (!cli_parse_window (optarg, &job.window))
          return CLI_EXIT_USAGE;
        job.has_window = true;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return CLI_EXIT_USAGE;
      }
  if (argc - optind != 2)
    return cli_fail (CLI_EXIT_USAGE, "%s: expected MODEL and one INPUT (see 'cnnscope-cli %s "
                     "--help')", job.command, job.command);
  if (method == NULL && kind == CLI_EXPLAIN_SALIENCY)
    return cli_fail (CLI_EXIT_USAGE, "saliency: --method is required (gradient, smoothgrad, ig, "
                     "guided or guided-gradcam)");
  if (method != NULL && !method_parse (&job, method))
    return cli_fail (CLI_EXIT_USAGE, "bad value '%s' for --method (expected %s)", method,
                     kind == CLI_EXPLAIN_CAM
                     ? "gradcam, gradcam++, xgradcam, hirescam, layercam, scorecam or eigencam"
                     : "gradient, smoothgrad, ig, guided or guided-gradcam");
  job.cam.keep_negative = job.signed_display;
  job.sal.seed = job.seed;
  job.model_path = argv[optind];
  const char *input_path = argv[optind + 1];
  struct stat st;
  bool folder = stat (input_path, &st) == 0 && S_ISDIR (st.st_mode);
  if (folder && out == NULL)
    return cli_fail (CLI_EXIT_USAGE, "%s: INPUT is a folder: --out must name the folder for the "
                     "overlays and metrics.csv", job.command);
  if (folder && (npy || mask))
    return cli_fail (CLI_EXIT_USAGE, "%s: --%s takes a single INPUT, not a folder", job.command,
                     npy ? "npy" : "mask");

  int node = -1;
  job.model = layer ? cli_load_model_layer (job.model_path, layer, &node)
                    : cli_load_model (job.model_path);
  if (job.model == NULL)
    return CLI_EXIT_FAILURE;
  job.cam.layer = job.sal.layer = node;
  job.cam.target = job.sal.target = target;
  NnGraph *g = job.model->graph;
  int status = CLI_EXIT_FAILURE;
  NnError err = { 0 };
  if (!nn_explain_check_class (g, target, &err)
      || (node >= 0 && !nn_explain_check_layer (g, node, &err)))
    {
      nn_error_prefix (&err, "%s", job.model_path);
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  job.grad_ctx = nn_context_new (g, method_batch (&job),
                                 method_needs_grads (&job) ? NN_CONTEXT_BACKWARD : 0, &err);
  job.batch_ctx = job.grad_ctx ? nn_context_new (g, job.metrics ? job.batch : 1, 0, &err) : NULL;
  size_t hw = (size_t) nn_model_input_height (job.model)
              * (size_t) nn_model_input_width (job.model);
  job.mask = mask || folder ? malloc (hw) : NULL;
  if (job.batch_ctx == NULL || ((mask || folder) && job.mask == NULL))
    {
      if (err.code == NN_ERROR_NONE)
        nn_error_set (&err, NN_ERROR_NOMEM, "out of memory");
      cli_fail_error (CLI_EXIT_FAILURE, &err);
      goto done;
    }
  if (mask && !load_mask (&job, mask, false))
    goto done;
  if (folder)
    status = run_folder (&job, input_path, out);
  else
    {
      cJSON *one = NULL;
      if (load_input (&job, input_path)
          && explain (&job, input_path, out, npy, NULL, NULL, job.json ? &one : NULL))
        {
          status = 0;
          if (one)
            {
              cJSON_AddStringToObject (one, "model", job.model_path);
              if (!cli_print_json (one))
                status = CLI_EXIT_FAILURE;
            }
        }
    }

done:
  nn_input_unref (job.input);
  free (job.mask);
  nn_context_free (job.batch_ctx);
  nn_context_free (job.grad_ctx);
  nn_model_free (job.model);
  return status;
}
