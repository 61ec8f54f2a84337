/* SPDX-License-Identifier: MIT */
/* Out-of-distribution score (nn-ood.h): Mahalanobis distance of penultimate features
 * to the nearest class mean; fitting, scoring and the JSON statistics file. */
#include "train/nn-ood.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/nn-context.h"
#include "io/nn-atomic-file.h"
#include "io/nn-file.h"

/* Added to the covariance's diagonal, as a share of the mean variance. */
#define OOD_RIDGE 1e-3
#define OOD_FILE_MAX ((size_t) 64 << 20)

int
nn_ood_feature_node (const NnGraph *graph,
                     NnError       *err)
{
  for (int i = graph->n_nodes - 1; i > 0; i--)
    if (graph->nodes[i].op == NN_OP_LINEAR)
      return graph->nodes[i].inputs[0];
  nn_error_set (err, NN_ERROR_UNSUPPORTED, "the model has no linear layer whose input could "
                "serve as the out-of-distribution features");
  return -1;
}

char *
nn_ood_path_new (const char *model_path)
{
  NN_ASSERT (model_path != NULL);
  size_t n = strlen (model_path);
  const char *ext = ".safetensors";
  size_t e = strlen (ext);
  if (n > e && strcmp (model_path + n - e, ext) == 0)
    n -= e;
  char *path = malloc (n + sizeof ".ood.json");
  if (path != NULL)
    {
      memcpy (path, model_path, n);
      memcpy (path + n, ".ood.json", sizeof ".ood.json");
    }
  return path;
}

void
nn_ood_free (NnOod *ood)
{
  if (ood == NULL)
    return;
  free (ood->means);
  free (ood->chol);
  free (ood);
}

static NnOod *
ood_new (int      classes,
         int      dim,
         NnError *err)
{
  NnOod *ood = calloc (1, sizeof *ood);
  if (ood != NULL)
    {
      ood->means = calloc ((size_t) classes * (size_t) dim, sizeof (float));
      ood->chol = calloc ((size_t) dim * (size_t) dim, sizeof (float));
    }
  if (ood == NULL || ood->means == NULL || ood->chol == NULL)
    {
      nn_ood_free (ood);
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory for the statistics of %d features", dim);
      return NULL;
    }
  ood->n_classes = classes;
  ood->dim = dim;
  return ood;
}

double
nn_ood_score (const NnOod *ood,
              const float *features)
{
  const int D = ood->dim;
  double best = (double) INFINITY;
  double *y = malloc ((size_t) D * sizeof (double));
  if (y == NULL)
    return (double) NAN;
  for (int c = 0; c < ood->n_classes; c++)
    {
      const float *mu = ood->means + (size_t) c * (size_t) D;
      /* Solve L y = f - mu; the squared distance is |y|^2. */
      double d = 0.0;
      for (int i = 0; i < D; i++)
        {
          const float *row = ood->chol + (size_t) i * (size_t) D;
          double v = (double) features[i] - (double) mu[i];
          for (int j = 0; j < i; j++)
            v -= (double) row[j] * y[j];
          y[i] = v / (double) row[i];
          d += y[i] * y[i];
        }
      best = d < best ? d : best;
    }
  free (y);
  return best / D;
}

/* The lower Cholesky factor of the symmetric positive definite a (n x n) into l; false when a
 * is not positive definite. */
static bool
cholesky (const double *a,
          float        *l,
          int           n)
{
  double *t = calloc ((size_t) n * (size_t) n, sizeof (double));
  if (t == NULL)
    return false;
  bool ok = true;
  for (int i = 0; ok && i < n; i++)
    for (int j = 0; j <= i; j++)
      {
        double s = a[(size_t) i * n + j];
        for (int k = 0; k < j; k++)
          s -= t[(size_t) i * n + k] * t[(size_t) j * n + k];
        if (i == j)
          {
            if (!(s > 0.0))
              {
                ok = false;
                break;
              }
            t[(size_t) i * n + i] = sqrt (s);
          }
        else
          t[(size_t) i * n + j] = s / t[(size_t) j * n + j];
      }
  for (size_t p = 0; ok && p < (size_t) n * (size_t) n; p++)
    l[p] = (float) t[p];
  free (t);
  return ok;
}

static int
compare_double (const void *a,
                const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Runs ds through ctx and hands each sample's features to `use`. */
typedef void (*UseFeatures) (const float *features, int label, long i, void *data);

static void
for_each_features (NnContext       *ctx,
                   const NnModel   *model,
                   const NnDataset *ds,
                   int              node,
                   int              dim,
                   UseFeatures      use,
                   void            *data)
{
  const int B = nn_context_get_batch (ctx);
  const size_t hw = (size_t) ds->h * (size_t) ds->w, sample = (size_t) ds->c * hw;
  float *in = nn_context_input (ctx);
  for (int start = 0; start < ds->n; start += B)
    {
      int rows = ds->n - start < B ? ds->n - start : B;
      for (int r = 0; r < rows; r++)
        {
          const float *s = ds->images + (size_t) (start + r) * sample;
          float *d = in + (size_t) r * sample;
          for (int c = 0; c < ds->c; c++)
            for (size_t p = 0; p < hw; p++)
              d[(size_t) c * hw + p] = (s[(size_t) c * hw + p] - model->mean[c]) / model->std[c];
        }
      if (rows < B)
        memset (in + (size_t) rows * sample, 0, sizeof (float) * sample * (size_t) (B - rows));
      nn_context_forward (ctx, node);
      const float *f = nn_context_output (ctx, node);
      for (int r = 0; r < rows; r++)
        use (f + (size_t) r * (size_t) dim, ds->labels[start + r], start + r, data);
    }
}

typedef struct
{
  NnOod  *ood;
  double *sum;     /* class sums, then squared deviations */
  long   *count;
  double *scores;
  int     pass;
} FitState;

static void
fit_use (const float *f,
         int          label,
         long         i,
         void        *data)
{
  FitState *s = data;
  NnOod *o = s->ood;
  if (s->pass == 0)
    {
      for (int k = 0; k < o->dim; k++)
        s->sum[(size_t) label * (size_t) o->dim + (size_t) k] += (double) f[k];
      s->count[label]++;
    }
  else if (s->pass == 1)
    {
      const float *mu = o->means + (size_t) label * (size_t) o->dim;
      for (int k = 0; k < o->dim; k++)
        {
          double zk = (double) f[k] - (double) mu[k];
          for (int j = 0; j <= k; j++)
            s->sum[(size_t) k * o->dim + j] += zk * ((double) f[j] - (double) mu[j]);
        }
    }
  else
    s->scores[i] = nn_ood_score (o, f);
}

NnOod *
nn_ood_fit (NnModel         *model,
            const NnDataset *ds,
            double           percentile,
            int              batch,
            NnError         *err)
{
  NnGraph *g = model->graph;
  if (!(percentile > 0.0 && percentile <= 100.0))
    return nn_error_set (err, NN_ERROR_SPEC, "the percentile must lie in (0, 100], not %g",
                         percentile), NULL;
  if (ds->n < 2 || batch < 1)
    return nn_error_set (err, NN_ERROR_SPEC, "fitting the out-of-distribution statistics "
                         "needs at least 2 samples"), NULL;
  NnShape in = g->nodes[0].shape;
  if (in.c != ds->c || in.h != ds->h || in.w != ds->w)
    return nn_error_set (err, NN_ERROR_SPEC, "the dataset's images (%d x %d x %d) do not fit "
                         "the model's input (%d x %d x %d)", ds->c, ds->h, ds->w, in.c, in.h,
                         in.w), NULL;
  int node = nn_ood_feature_node (g, err);
  if (node < 0)
    return NULL;
  int dim = (int) nn_shape_size (g->nodes[node].shape);
  int classes = model->n_classes;
  for (int i = 0; i < ds->n; i++)
    if (ds->labels[i] < 0 || ds->labels[i] >= classes)
      return nn_error_set (err, NN_ERROR_SPEC, "sample %d has label %d; the model has %d "
                           "classes", i, ds->labels[i], classes), NULL;
  NnOod *ood = ood_new (classes, dim, err);
  if (ood == NULL)
    return NULL;
  size_t sums = (size_t) dim * (size_t) (classes > dim ? classes : dim);
  FitState s = { ood, calloc (sums, sizeof (double)),
                 calloc ((size_t) classes, sizeof (long)),
                 malloc ((size_t) ds->n * sizeof (double)), 0 };
  NnContext *ctx = NULL;
  if (s.sum == NULL || s.count == NULL || s.scores == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory for the statistics of %d samples", ds->n);
      goto fail;
    }
  ctx = nn_context_new (g, batch < ds->n ? batch : ds->n, 0, err);
  if (ctx == NULL || !nn_context_set_threads (ctx, 0, err))
    goto fail;
  nn_context_keep (ctx, node);
  nn_context_set_training (ctx, false);

  for_each_features (ctx, model, ds, node, dim, fit_use, &s);
  for (int c = 0; c < classes; c++)
    for (int k = 0; k < dim; k++)
      ood->means[(size_t) c * dim + k] = s.count[c] > 0
        ? (float) (s.sum[(size_t) c * dim + k] / (double) s.count[c]) : (float) INFINITY;
  memset (s.sum, 0, sums * sizeof (double));
  s.pass = 1;
  for_each_features (ctx, model, ds, node, dim, fit_use, &s);
  /* The pooled within-class covariance (lower half summed above), with a ridge of
   * OOD_RIDGE times the mean variance on the diagonal so that dead or collinear features
   * keep it invertible. */
  double mean_var = 0.0;
  for (int k = 0; k < dim; k++)
    for (int j = 0; j <= k; j++)
      {
        double v = s.sum[(size_t) k * dim + j] / (double) (ds->n - classes > 0
                                                             ? ds->n - classes : 1);
        s.sum[(size_t) k * dim + j] = s.sum[(size_t) j * dim + k] = v;
        mean_var += j == k ? v / dim : 0.0;
      }
  double ridge = mean_var > 0.0 ? OOD_RIDGE * mean_var : 1.0;
  for (int k = 0; k < dim; k++)
    s.sum[(size_t) k * dim + k] += ridge;
  if (!cholesky (s.sum, ood->chol, dim))
    {
      nn_error_set (err, NN_ERROR_NUMERIC, "the feature covariance is not positive definite");
      goto fail;
    }
  s.pass = 2;
  for_each_features (ctx, model, ds, node, dim, fit_use, &s);
  qsort (s.scores, (size_t) ds->n, sizeof (double), compare_double);
  /* The nearest-rank percentile. */
  long rank = (long) ceil (percentile / 100.0 * (double) ds->n);
  ood->threshold = s.scores[(rank < 1 ? 1 : rank) - 1];
  ood->percentile = percentile;
  ood->train_n = ds->n;
  snprintf (ood->layer, sizeof ood->layer, "%s", g->nodes[node].name);
  nn_context_free (ctx);
  free (s.sum);
  free (s.count);
  free (s.scores);
  return ood;

fail:
  nn_context_free (ctx);
  free (s.sum);
  free (s.count);
  free (s.scores);
  nn_ood_free (ood);
  return NULL;
}

bool
nn_ood_save (const NnOod *ood,
             const char  *path,
             NnError     *err)
{
  cJSON *root = cJSON_CreateObject ();
  cJSON_AddStringToObject (root, "format", "cnnscope-ood");
  cJSON_AddNumberToObject (root, "version", 1);
  cJSON_AddStringToObject (root, "score", "min over classes of the squared Mahalanobis "
                           "distance / dim; chol: lower Cholesky factor of the shared covariance");
  cJSON_AddStringToObject (root, "layer", ood->layer);
  cJSON_AddNumberToObject (root, "classes", ood->n_classes);
  cJSON_AddNumberToObject (root, "dim", ood->dim);
  cJSON_AddNumberToObject (root, "threshold", ood->threshold);
  cJSON_AddNumberToObject (root, "percentile", ood->percentile);
  cJSON_AddNumberToObject (root, "train_n", (double) ood->train_n);
  cJSON *means = cJSON_AddArrayToObject (root, "means");
  for (int c = 0; c < ood->n_classes; c++)
    cJSON_AddItemToArray (means, cJSON_CreateFloatArray (ood->means + (size_t) c * ood->dim,
                                                         ood->dim));
  cJSON_AddItemToObject (root, "chol", cJSON_CreateFloatArray (ood->chol,
                                                               ood->dim * ood->dim));
  char *text = cJSON_PrintUnformatted (root);
  cJSON_Delete (root);
  if (text == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory writing %s", path);
  NnAtomicFile f;
  if (!nn_atomic_file_open (&f, path, err))
    {
      cJSON_free (text);
      return false;
    }
  fputs (text, f.fp);
  fputc ('\n', f.fp);
  cJSON_free (text);
  return nn_atomic_file_finish (&f, true, err);
}

/* Reads n floats of a JSON array into out; false when it is not n finite numbers. */
static bool
read_floats (const cJSON *array,
             float       *out,
             int          n)
{
  if (!cJSON_IsArray (array) || cJSON_GetArraySize (array) != n)
    return false;
  int i = 0;
  for (const cJSON *v = array->child; v != NULL; v = v->next, i++)
    {
      if (!cJSON_IsNumber (v) || !isfinite (v->valuedouble))
        return false;
      out[i] = (float) v->valuedouble;
    }
  return true;
}

NnOod *
nn_ood_load (const char    *path,
             const NnGraph *graph,
             NnError       *err)
{
  size_t size;
  char *text = (char *) nn_file_load (path, OOD_FILE_MAX, "out-of-distribution statistics",
                                      &size, err);
  if (text == NULL)
    return NULL;
  cJSON *root = cJSON_Parse (text);
  free (text);
  NnOod *ood = NULL;
  const char *format = cJSON_GetStringValue (cJSON_GetObjectItem (root, "format"));
  const char *layer = cJSON_GetStringValue (cJSON_GetObjectItem (root, "layer"));
  const cJSON *classes = cJSON_GetObjectItem (root, "classes");
  const cJSON *dim = cJSON_GetObjectItem (root, "dim");
  const cJSON *threshold = cJSON_GetObjectItem (root, "threshold");
  if (root == NULL || format == NULL || strcmp (format, "cnnscope-ood") != 0 || layer == NULL
      || !cJSON_IsNumber (classes) || !cJSON_IsNumber (dim) || !cJSON_IsNumber (threshold))
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: not a cnnscope out-of-distribution statistics "
                    "file", path);
      goto done;
    }
  int node = nn_graph_find (graph, layer);
  int out = nn_graph_output (graph);
  int k = classes->valueint, d = dim->valueint;
  if (node < 0 || (int) nn_shape_size (graph->nodes[node].shape) != d
      || (int) nn_shape_size (graph->nodes[out].shape) != k || k < 1 || d < 1)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: the statistics (layer %s, %d features, %d "
                    "classes) do not belong to this model", path, layer, d, k);
      goto done;
    }
  ood = ood_new (k, d, err);
  if (ood == NULL)
    goto done;
  const cJSON *means = cJSON_GetObjectItem (root, "means");
  bool ok = cJSON_IsArray (means) && cJSON_GetArraySize (means) == k
            && read_floats (cJSON_GetObjectItem (root, "chol"), ood->chol, d * d);
  for (int i = 0; ok && i < d; i++)
    ok = ood->chol[(size_t) i * d + i] > 0.0f;
  for (int c = 0; ok && c < k; c++)
    ok = read_floats (cJSON_GetArrayItem (means, c), ood->means + (size_t) c * d, d);
  if (!ok)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s: means or chol are not %d x %d and %d x %d "
                    "finite numbers (chol with a positive diagonal)", path, k, d, d, d);
      nn_ood_free (ood);
      ood = NULL;
      goto done;
    }
  snprintf (ood->layer, sizeof ood->layer, "%s", layer);
  ood->threshold = threshold->valuedouble;
  const cJSON *p = cJSON_GetObjectItem (root, "percentile");
  const cJSON *n = cJSON_GetObjectItem (root, "train_n");
  ood->percentile = cJSON_IsNumber (p) ? p->valuedouble : (double) NAN;
  ood->train_n = cJSON_IsNumber (n) ? (long) n->valuedouble : 0;

done:
  cJSON_Delete (root);
  return ood;
}
