/* SPDX-License-Identifier: MIT */
/* Loading an NnModel from .safetensors (docs/model-format.md). The loader treats the file as
 * hostile: every length, offset, shape and attribute is checked. */
#include "io/nn-model-private.h"
#include "io/nn-file.h"
#include "io/nn-onnx.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Limits that keep a hostile file from taking unbounded memory or time. The parameter arena
 * holds at most 2^31 floats (8 GiB), so no valid model is larger than MODEL_MAX_FILE. */
#define MODEL_MAX_FILE    ((uint64_t) 1 << 34)
#define MODEL_MAX_HEADER  ((uint64_t) 100 << 20)
#define MODEL_MAX_CLASSES (1 << 20)

static const char not_a_model[] = "not a cnnscope model (no graph in __metadata__)";

static uint64_t
get_u64_le (const unsigned char *in)
{
  uint64_t value = 0;
  for (int i = 0; i < 8; i++)
    value |= (uint64_t) in[i] << (8 * i);
  return value;
}

/* Internal functions set errors without the path; nn_model_load prefixes it once. */

typedef struct
{
  const char  *name;   /* the header's key, owned by the cJSON tree */
  const cJSON *item;
  uint64_t     begin;  /* byte offsets into the data section */
  uint64_t     end;
} Tensor;

typedef struct
{
  int          fd;
  uint64_t     file_size;
  uint64_t     data_start;  /* 8 + header length */
  uint64_t     data_size;
  char        *header;      /* NUL-terminated copy of the header */
  cJSON       *root;
  const cJSON *meta;
  Tensor      *tensors;     /* sorted by name */
  int          n_tensors;
  NnGraph     *graph;
  const NnLoadControl *control;   /* may be NULL */
} Loader;

static bool
read_at (int      fd,
         void    *buf,
         size_t   size,
         uint64_t offset,
         NnError *err)
{
  unsigned char *p = buf;
  while (size > 0)
    {
      ssize_t n = pread (fd, p, size, (off_t) offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          char errbuf[128];
          return nn_error_set (err, NN_ERROR_IO, "cannot read: %s",
                               nn_model_errno_text (errno, errbuf, sizeof errbuf));
        }
      if (n == 0)
        return nn_error_set (err, NN_ERROR_FORMAT, "unexpected end of file");
      p += n;
      size -= (size_t) n;
      offset += (uint64_t) n;
    }
  return true;
}

static bool
load_header (Loader  *ld,
             NnError *err)
{
  /* ld->fd is open on a regular file (nn_model_load). */
  char errbuf[128];
  struct stat st;
  if (fstat (ld->fd, &st) != 0)
    return nn_error_set (err, NN_ERROR_IO, "cannot read: %s",
                         nn_model_errno_text (errno, errbuf, sizeof errbuf));
  ld->file_size = (uint64_t) st.st_size;
  if (ld->file_size < 8)
    return nn_error_set (err, NN_ERROR_FORMAT,
                         "not a safetensors file (%llu bytes, too short for a header)",
                         (unsigned long long) ld->file_size);
  if (ld->file_size > MODEL_MAX_FILE)
    return nn_error_set (err, NN_ERROR_FORMAT, "file of %llu bytes is too large for a model",
                         (unsigned long long) ld->file_size);

  unsigned char prefix[8];
  if (!read_at (ld->fd, prefix, 8, 0, err))
    return false;
  uint64_t n = get_u64_le (prefix);
  if (n > ld->file_size - 8)
    return nn_error_set (err, NN_ERROR_FORMAT,
                         "not a safetensors file (header length %llu exceeds the file size "
                         "%llu)", (unsigned long long) n, (unsigned long long) ld->file_size);
  if (n > MODEL_MAX_HEADER)
    return nn_error_set (err, NN_ERROR_FORMAT, "header of %llu bytes is too large",
                         (unsigned long long) n);
  ld->data_start = 8 + n;
  ld->data_size = ld->file_size - ld->data_start;

  ld->header = malloc ((size_t) n + 1);
  if (ld->header == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory reading the header");
  if (!read_at (ld->fd, ld->header, (size_t) n, 8, err))
    return false;
  ld->header[n] = '\0';
  /* cJSON reads up to the first NUL; a NUL inside the header would hide the rest of it. */
  if (memchr (ld->header, '\0', (size_t) n) != NULL)
    return nn_error_set (err, NN_ERROR_FORMAT, "header is not valid JSON");
  ld->root = nn_model_json_parse (ld->header);
  if (ld->root == NULL)
    return nn_model_json_fail (ld->header, "header", err);
  if (!cJSON_IsObject (ld->root))
    return nn_error_set (err, NN_ERROR_FORMAT, "header is not a JSON object");
  return true;
}

static int
tensor_by_begin (const void *a,
                 const void *b)
{
  const Tensor *x = a, *y = b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

static int
tensor_by_name (const void *a,
                const void *b)
{
  const Tensor *x = a, *y = b;
  return strcmp (x->name, y->name);
}

/* Collects every tensor of the header, checks its offsets, and that together they tile the
 * data section exactly (no gap, no overlap, nothing left over), as safetensors requires. */
static bool
load_tensor_index (Loader  *ld,
                   NnError *err)
{
  int count = cJSON_GetArraySize (ld->root);
  ld->tensors = calloc ((size_t) (count > 0 ? count : 1), sizeof (Tensor));
  if (ld->tensors == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory indexing tensors");
  const cJSON *item;
  cJSON_ArrayForEach (item, ld->root)
    {
      if (strcmp (item->string, "__metadata__") == 0)
        continue;
      const char *name = item->string;
      if (!cJSON_IsObject (item))
        return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%s' is not a JSON object", name);
      const cJSON *offsets = cJSON_GetObjectItemCaseSensitive (item, "data_offsets");
      double begin, end;
      if (!cJSON_IsArray (offsets) || cJSON_GetArraySize (offsets) != 2
          || !nn_model_json_integer (cJSON_GetArrayItem (offsets, 0), 0, (double) UINT64_MAX, &begin)
          || !nn_model_json_integer (cJSON_GetArrayItem (offsets, 1), 0, (double) UINT64_MAX, &end)
          || begin > end)
        return nn_error_set (err, NN_ERROR_FORMAT,
                             "tensor '%s': data_offsets are not [begin, end] with "
                             "0 <= begin <= end", name);
      if (end > (double) ld->data_size)
        return nn_error_set (err, NN_ERROR_FORMAT,
                             "tensor '%s': data_offsets end at byte %.0f, past the %llu bytes of "
                             "data (is the file truncated?)", name, end,
                             (unsigned long long) ld->data_size);
      ld->tensors[ld->n_tensors++] = (Tensor) {
        .name = name, .item = item, .begin = (uint64_t) begin, .end = (uint64_t) end,
      };
    }

  qsort (ld->tensors, (size_t) ld->n_tensors, sizeof (Tensor), tensor_by_begin);
  uint64_t covered = 0;
  for (int i = 0; i < ld->n_tensors; i++)
    {
      if (ld->tensors[i].begin != covered)
        return nn_error_set (err, NN_ERROR_FORMAT,
                             "tensor '%s': data_offsets %s the previous tensor (byte %llu)",
                             ld->tensors[i].name,
                             ld->tensors[i].begin < covered ? "overlap" : "leave a gap after",
                             (unsigned long long) covered);
      covered = ld->tensors[i].end;
    }
  if (covered != ld->data_size)
    return nn_error_set (err, NN_ERROR_FORMAT,
                         "the tensors cover %llu bytes but the data section has %llu",
                         (unsigned long long) covered, (unsigned long long) ld->data_size);

  qsort (ld->tensors, (size_t) ld->n_tensors, sizeof (Tensor), tensor_by_name);
  for (int i = 1; i < ld->n_tensors; i++)
    if (strcmp (ld->tensors[i - 1].name, ld->tensors[i].name) == 0)
      return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%s' appears twice",
                           ld->tensors[i].name);
  return true;
}

static const Tensor *
find_tensor (const Loader *ld,
             const char   *name)
{
  Tensor key = { .name = name };
  return bsearch (&key, ld->tensors, (size_t) ld->n_tensors, sizeof (Tensor), tensor_by_name);
}

/* The string metadata[key]: *text is NULL when absent; an error when it is not a string. */
static bool
meta_string (const Loader *ld,
             const char   *key,
             const char  **text,
             NnError      *err)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive (ld->meta, key);
  *text = NULL;
  if (item == NULL)
    return true;
  if (!cJSON_IsString (item))
    return nn_error_set (err, NN_ERROR_FORMAT, "__metadata__ '%s' is not a string", key);
  *text = item->valuestring;
  return true;
}

static bool
load_params (Loader  *ld,
             NnError *err)
{
  NnGraph *graph = ld->graph;
  const NnLoadControl *control = ld->control;
  uint64_t done = 0;
  for (int i = 0; i < graph->n_params; i++)
    {
      if (control != NULL && control->cancel != NULL && atomic_load (control->cancel) != 0)
        return nn_error_set (err, NN_ERROR_CANCELLED, "loading was cancelled");
      const NnParam *p = &graph->params[i];
      const Tensor *t = find_tensor (ld, p->name);
      if (t == NULL)
        return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%s' is missing", p->name);
      const cJSON *dtype = cJSON_GetObjectItemCaseSensitive (t->item, "dtype");
      if (!cJSON_IsString (dtype) || strcmp (dtype->valuestring, "F32") != 0)
        return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%s': dtype is '%.16s', expected F32",
                             p->name, cJSON_IsString (dtype) ? dtype->valuestring : "?");
      const cJSON *shape = cJSON_GetObjectItemCaseSensitive (t->item, "shape");
      bool same = cJSON_IsArray (shape) && cJSON_GetArraySize (shape) == p->ndim;
      for (int d = 0; d < p->ndim && same; d++)
        {
          double v;
          same = nn_model_json_integer (cJSON_GetArrayItem (shape, d), 0, INT_MAX, &v)
                 && (int) v == p->dims[d];
        }
      if (!same)
        {
          char want[64];
          int len = 0;
          for (int d = 0; d < p->ndim; d++)
            len += snprintf (want + len, sizeof want - (size_t) len, d ? ", %d" : "%d",
                             p->dims[d]);
          return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%s': shape is not [%s]", p->name,
                               want);
        }
      if (t->end - t->begin != (uint64_t) p->count * sizeof (float))
        return nn_error_set (err, NN_ERROR_FORMAT,
                             "tensor '%s': data_offsets span %llu bytes, expected %llu",
                             p->name, (unsigned long long) (t->end - t->begin),
                             (unsigned long long) p->count * sizeof (float));
      /* Read the little-endian bytes into the arena, then decode them in place. */
      float *dst = graph->data + p->offset;
      unsigned char *bytes = (unsigned char *) dst;
      if (!read_at (ld->fd, bytes, p->count * sizeof (float), ld->data_start + t->begin, err))
        return false;
      for (size_t j = 0; j < p->count; j++)
        {
          const unsigned char *b = bytes + 4 * j;
          uint32_t bits = (uint32_t) b[0] | (uint32_t) b[1] << 8 | (uint32_t) b[2] << 16
                          | (uint32_t) b[3] << 24;
          memcpy (&dst[j], &bits, sizeof bits);
        }
      done += t->end - t->begin;
      if (control != NULL && control->progress != NULL && ld->data_size > 0)
        control->progress ((double) done / (double) ld->data_size, control->user_data);
    }
  return true;
}

typedef struct
{
  const char *name;
  int         index;
} ParamName;

static int
param_by_name (const void *a,
               const void *b)
{
  return strcmp (((const ParamName *) a)->name, ((const ParamName *) b)->name);
}

/* "trainable": a JSON object mapping parameter names to true or false. */
static bool
load_trainable (Loader  *ld,
                NnError *err)
{
  const char *text;
  if (!meta_string (ld, "trainable", &text, err))
    return false;
  if (text == NULL)
    return true;
  NnGraph *graph = ld->graph;
  /* Parameter names sorted for lookup: a hostile map may name thousands of them. */
  ParamName *names = malloc (sizeof (ParamName) * (size_t) (graph->n_params + 1));
  if (names == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
  for (int i = 0; i < graph->n_params; i++)
    names[i] = (ParamName) { graph->params[i].name, i };
  qsort (names, (size_t) graph->n_params, sizeof (ParamName), param_by_name);

  cJSON *map = nn_model_json_parse (text);
  bool ok = cJSON_IsObject (map);
  if (!ok)
    nn_error_set (err, NN_ERROR_FORMAT,
                  "__metadata__ 'trainable' is not a JSON object of parameter names");
  const cJSON *item;
  if (ok)
    cJSON_ArrayForEach (item, map)
      {
        ParamName key = { item->string, -1 };
        const ParamName *found = bsearch (&key, names, (size_t) graph->n_params,
                                          sizeof (ParamName), param_by_name);
        if (found == NULL || !cJSON_IsBool (item))
          {
            ok = nn_error_set (err, NN_ERROR_FORMAT,
                               "__metadata__ 'trainable': '%.128s' is not a parameter of the "
                               "graph mapped to true or false", item->string);
            break;
          }
        graph->params[found->index].trainable = cJSON_IsTrue (item);
      }
  cJSON_Delete (map);
  free (names);
  return ok;
}

static bool
load_labels (Loader  *ld,
             NnModel *model,
             NnError *err)
{
  const char *text;
  if (!meta_string (ld, "labels", &text, err))
    return false;
  if (text == NULL)
    return true;
  cJSON *labels = nn_model_json_parse (text);
  bool ok = cJSON_IsArray (labels) && cJSON_GetArraySize (labels) == model->n_classes;
  if (!ok)
    nn_error_set (err, NN_ERROR_FORMAT,
                  "__metadata__ 'labels' is not a list of %d strings (one per output)",
                  model->n_classes);
  const cJSON *item;
  int k = 0;
  if (ok)
    cJSON_ArrayForEach (item, labels)
      {
        if (!cJSON_IsString (item))
          {
            ok = nn_error_set (err, NN_ERROR_FORMAT,
                               "__metadata__ 'labels': label %d is not a string", k);
            break;
          }
        char *copy = nn_model_label_new (item->valuestring);
        if (copy == NULL)
          {
            ok = nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
            break;
          }
        free (model->labels[k]);
        model->labels[k++] = copy;
      }
  cJSON_Delete (labels);
  return ok;
}

/* "mean" or "std": a JSON list of one number per input channel. */
static bool
load_norm (Loader     *ld,
           const char *key,
           int         n,
           float      *out,
           NnError    *err)
{
  const char *text;
  if (!meta_string (ld, key, &text, err))
    return false;
  if (text == NULL)
    return true;
  cJSON *values = nn_model_json_parse (text);
  bool ok = cJSON_IsArray (values) && cJSON_GetArraySize (values) == n;
  for (int c = 0; c < n && ok; c++)
    {
      const cJSON *v = cJSON_GetArrayItem (values, c);
      ok = cJSON_IsNumber (v) && fabs (v->valuedouble) <= (double) FLT_MAX;
      if (ok)
        out[c] = (float) v->valuedouble;
      if (ok && strcmp (key, "std") == 0)
        ok = out[c] > 0.0f;
    }
  cJSON_Delete (values);
  if (!ok)
    return nn_error_set (err, NN_ERROR_FORMAT,
                         "__metadata__ '%s' is not a list of %d finite numbers%s", key, n,
                         strcmp (key, "std") == 0 ? " above 0" : "");
  return true;
}

static bool
load_text (Loader     *ld,
           const char *key,
           char       *field,
           size_t      size,
           NnError    *err)
{
  const char *text;
  if (!meta_string (ld, key, &text, err))
    return false;
  if (text == NULL)
    return true;
  if (strlen (text) >= size)
    return nn_error_set (err, NN_ERROR_FORMAT, "__metadata__ '%s' is longer than %zu bytes",
                         key, size - 1);
  memcpy (field, text, strlen (text) + 1);
  return true;
}

/* "ct_window": {"width": W, "level": L}, W > 0. */
static bool
load_window (Loader  *ld,
             NnModel *model,
             NnError *err)
{
  const char *text;
  if (!meta_string (ld, "ct_window", &text, err))
    return false;
  if (text == NULL)
    return true;
  cJSON *window = nn_model_json_parse (text);
  const cJSON *w = cJSON_GetObjectItemCaseSensitive (window, "width");
  const cJSON *l = cJSON_GetObjectItemCaseSensitive (window, "level");
  bool ok = cJSON_IsNumber (w) && cJSON_IsNumber (l) && isfinite (w->valuedouble)
            && isfinite (l->valuedouble) && w->valuedouble > 0.0 && w->valuedouble <= 1e5
            && fabs (l->valuedouble) <= 1e5;
  if (ok)
    {
      model->has_window = true;
      model->window.width = (float) w->valuedouble;
      model->window.level = (float) l->valuedouble;
    }
  cJSON_Delete (window);
  if (!ok)
    return nn_error_set (err, NN_ERROR_FORMAT, "__metadata__ 'ct_window' is not "
                         "{\"width\": W, \"level\": L} with finite numbers, 0 < W <= 1e5");
  return true;
}

static bool
load_metadata (Loader  *ld,
               NnModel *model,
               NnError *err)
{
  const char *accuracy;
  if (!load_labels (ld, model, err)
      || !load_norm (ld, "mean", nn_model_norm_channels (model), model->mean, err)
      || !load_norm (ld, "std", nn_model_norm_channels (model), model->std, err)
      || !load_window (ld, model, err)
      || !load_text (ld, "arch_options", model->arch_options, sizeof model->arch_options, err)
      || !load_text (ld, "dataset", model->dataset, sizeof model->dataset, err)
      || !load_text (ld, "command", model->command, sizeof model->command, err)
      || !meta_string (ld, "test_accuracy", &accuracy, err))
    return false;
  if (accuracy != NULL)
    {
      char *end = NULL;
      double value = strtod (accuracy, &end);
      if (end == accuracy || *end != '\0' || !isfinite (value))
        return nn_error_set (err, NN_ERROR_FORMAT, "__metadata__ 'test_accuracy' is not a number");
      model->test_accuracy = value;
    }
  return true;
}

static NnModel *
load_model (Loader  *ld,
            NnError *err)
{
  if (!load_header (ld, err))
    return NULL;

  ld->meta = cJSON_GetObjectItemCaseSensitive (ld->root, "__metadata__");
  const char *format = NULL, *version = NULL, *graph_text = NULL, *arch = NULL;
  if (!cJSON_IsObject (ld->meta)
      || !meta_string (ld, "format", &format, err)
      || !meta_string (ld, "graph", &graph_text, err)
      || format == NULL || strcmp (format, NN_MODEL_FORMAT_NAME) != 0
      || graph_text == NULL)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "%s", not_a_model);
      return NULL;
    }
  if (!meta_string (ld, "version", &version, err))
    return NULL;
  if (version == NULL || strcmp (version, NN_MODEL_FORMAT_VERSION) != 0)
    {
      nn_error_set (err, NN_ERROR_UNSUPPORTED, "model format version '%.32s' is not supported "
                    "(expected " NN_MODEL_FORMAT_VERSION ")", version != NULL ? version : "");
      return NULL;
    }
  if (!meta_string (ld, "arch", &arch, err))
    return NULL;
  if (arch != NULL && strlen (arch) >= sizeof ((NnModel *) NULL)->arch)
    {
      nn_error_set (err, NN_ERROR_FORMAT, "__metadata__ 'arch' is too long");
      return NULL;
    }

  if (!load_tensor_index (ld, err))
    return NULL;
  ld->graph = nn_model_graph_from_json (graph_text, ld->data_size / sizeof (float), err);
  if (ld->graph == NULL || !load_params (ld, err) || !load_trainable (ld, err))
    return NULL;

  size_t outputs = nn_shape_size (ld->graph->nodes[nn_graph_output (ld->graph)].shape);
  if (outputs > MODEL_MAX_CLASSES)
    {
      nn_error_set (err, NN_ERROR_UNSUPPORTED,
                    "the output has %zu values, more than the %d a model may have", outputs,
                    MODEL_MAX_CLASSES);
      return NULL;
    }
  NnModel *model = nn_model_new (ld->graph, arch);
  if (model == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
      return NULL;
    }
  ld->graph = NULL;
  if (!load_metadata (ld, model, err))
    {
      nn_model_free (model);
      return NULL;
    }
  return model;
}

/* What the first bytes say the file is: safetensors (an 8-byte header length, then '{'),
 * ONNX (a protobuf ModelProto), or neither. The content decides before the name. */
typedef enum
{
  FILE_SAFETENSORS,
  FILE_ONNX,
  FILE_OTHER,
} FileKind;

static FileKind
sniff_file (int fd)
{
  unsigned char head[16];
  ssize_t n = pread (fd, head, sizeof head, 0);
  if (n >= 9 && head[8] == '{')
    return FILE_SAFETENSORS;
  if (n > 0 && nn_onnx_sniff (head, (size_t) n))
    return FILE_ONNX;
  return FILE_OTHER;
}

static bool
has_suffix (const char *path,
            const char *suffix)
{
  size_t n = strlen (path), m = strlen (suffix);
  return n >= m && strcasecmp (path + n - m, suffix) == 0;
}

NnModel *
nn_model_load (const char *path,
               NnError    *err)
{
  return nn_model_load_with (path, NULL, err);
}

NnModel *
nn_model_load_with (const char          *path,
                    const NnLoadControl *control,
                    NnError             *err)
{
  NN_ASSERT (path != NULL);
  /* ONNX content, or a .onnx file that is not safetensors: the ONNX importer (whose errors
   * say what is wrong with it as ONNX); anything else: the safetensors loader. */
  int fd = nn_file_open_regular (path, NULL, err);
  if (fd < 0)
    return NULL;
  FileKind kind = sniff_file (fd);
  if (kind == FILE_ONNX || (kind == FILE_OTHER && has_suffix (path, ".onnx")))
    {
      close (fd);
      NnOnnxOptions options = { .control = control };
      return nn_onnx_load (path, &options, err);
    }
  NnModelCLocale loc;
  if (!nn_model_c_locale_enter (&loc))
    {
      close (fd);
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
      return NULL;
    }
  Loader ld = { .fd = fd, .control = control };
  NnModel *model = load_model (&ld, err);
  nn_model_c_locale_leave (&loc);
  if (model == NULL)
    nn_error_prefix (err, "%s", path);
  if (ld.fd >= 0)
    close (ld.fd);
  free (ld.header);
  cJSON_Delete (ld.root);
  free (ld.tensors);
  nn_graph_free (ld.graph);
  return model;
}
