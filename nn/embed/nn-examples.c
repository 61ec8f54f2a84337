/* SPDX-License-Identifier: MIT */
/* Dataset examples: one pass over the dataset keeps, per channel, the k highest and k lowest
 * spatial maxima in two sorted lists; receptive fields from the graph's geometry; the cache
 * file (header, key, records, checksum). */
#include "embed/nn-examples.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/nn-atomic-file.h"
#include "io/nn-file.h"

/* Bounds a cache file must stay within (far above any real layer). */
#define MAX_CHANNELS  (1 << 20)
#define MAX_SIDE      (1 << 16)
#define MAX_K         4096
#define MAX_KEY       (1 << 16)

void
nn_examples_free (NnExamples *examples)
{
  if (examples == NULL)
    return;
  free (examples->top);
  free (examples->bottom);
  free (examples);
}

int
nn_examples_count (const NnExamples *examples)
{
  NN_ASSERT (examples != NULL);
  return examples->n < examples->k ? examples->n : examples->k;
}

const NnExample *
nn_examples_top (const NnExamples *examples,
                 int               c)
{
  NN_ASSERT (examples != NULL && c >= 0 && c < examples->c);
  return examples->top + (size_t) c * examples->k;
}

const NnExample *
nn_examples_bottom (const NnExamples *examples,
                    int               c)
{
  NN_ASSERT (examples != NULL && c >= 0 && c < examples->c);
  return examples->bottom + (size_t) c * examples->k;
}

static NnExamples *
examples_alloc (int      c,
                int      h,
                int      w,
                int      k,
                NnError *err)
{
  NnExamples *ex = calloc (1, sizeof *ex);
  if (ex != NULL)
    {
      ex->top = calloc ((size_t) c * k, sizeof (NnExample));
      ex->bottom = calloc ((size_t) c * k, sizeof (NnExample));
    }
  if (ex == NULL || ex->top == NULL || ex->bottom == NULL)
    {
      nn_examples_free (ex);
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory for %d x %d examples", c, k);
      return NULL;
    }
  ex->c = c;
  ex->h = h;
  ex->w = w;
  ex->k = k;
  return ex;
}

/* Inserts e into list (count entries, room for k) ordered by value, descending when `high`;
 * samples come in index order, so a tie stays behind the entries already there. */
static void
list_insert (NnExample       *list,
             int              count,
             int              k,
             const NnExample *e,
             bool             high)
{
  int p = count;
  while (p > 0 && (high ? e->value > list[p - 1].value : e->value < list[p - 1].value))
    p--;
  if (p >= k)
    return;
  int last = count < k ? count : k - 1;
  memmove (list + p + 1, list + p, sizeof (NnExample) * (size_t) (last - p));
  list[p] = *e;
}

typedef struct
{
  NnExamples *ex;
  int         node;
  const char *layer;
} ExamplesPass;

static bool
examples_visit (NnContext *ctx,
                int        start,
                int        rows,
                void      *user_data,
                NnError   *err)
{
  ExamplesPass *pass = user_data;
  NnExamples *ex = pass->ex;
  const size_t plane = (size_t) ex->h * ex->w;
  const float *act = nn_context_output (ctx, pass->node);
  for (int r = 0; r < rows; r++)
    {
      const int count = ex->n < ex->k ? ex->n : ex->k;
      for (int c = 0; c < ex->c; c++)
        {
          const float *v = act + ((size_t) r * ex->c + c) * plane;
          size_t best = 0;
          for (size_t p = 0; p < plane; p++)
            {
              if (!isfinite (v[p]))
                return nn_error_set (err, NN_ERROR_NUMERIC, "layer %s gives a non-finite value "
                                     "on sample %d, channel %d", pass->layer, start + r, c);
              if (v[p] > v[best])
                best = p;
            }
          NnExample e = { start + r, v[best], (int) (best / (size_t) ex->w),
                          (int) (best % (size_t) ex->w) };
          list_insert (ex->top + (size_t) c * ex->k, count, ex->k, &e, true);
          list_insert (ex->bottom + (size_t) c * ex->k, count, ex->k, &e, false);
        }
      ex->n++;
    }
  return true;
}

NnExamples *
nn_examples_new (NnModel          *model,
                 const NnDataset  *ds,
                 int               node,
                 int               k,
                 int               batch,
                 NnEmbedProgress   progress,
                 void             *user_data,
                 const atomic_int *cancel,
                 NnError          *err)
{
  NN_ASSERT (model != NULL && model->graph != NULL && ds != NULL);
  const NnGraph *graph = model->graph;
  if (node < 1 || node >= graph->n_nodes)
    {
      nn_error_set (err, NN_ERROR_SPEC, "node %d is not a layer of the model (1 to %d)", node,
                    graph->n_nodes - 1);
      return NULL;
    }
  if (k < 1 || k > MAX_K)
    {
      nn_error_set (err, NN_ERROR_SPEC, "k must be 1 to %d, not %d", MAX_K, k);
      return NULL;
    }
  const NnNode *n = &graph->nodes[node];
  if (n->shape.rank != 3)
    {
      nn_error_set (err, NN_ERROR_SPEC, "layer %s has no channels with a spatial plane (its "
                    "output is not C x H x W)", n->name);
      return NULL;
    }
  NnExamples *ex = examples_alloc (n->shape.c, n->shape.h, n->shape.w, k, err);
  if (ex == NULL)
    return NULL;
  ExamplesPass pass = { ex, node, n->name };
  if (!nn_features_run (model, ds, &node, 1, batch, examples_visit, &pass, progress, user_data,
                        cancel, err))
    {
      if (err != NULL && err->code == NN_ERROR_CANCELLED)
        nn_error_prefix (err, "dataset examples");
      nn_examples_free (ex);
      return NULL;
    }
  return ex;
}

/* Receptive fields. */

static void
field_window (NnReceptiveField       *out,
              const NnReceptiveField *in,
              int                     kh,
              int                     kw,
              int                     sh,
              int                     sw,
              int                     pad_t,
              int                     pad_l,
              int                     dh,
              int                     dw)
{
  /* Output unit o reads input units o*s - p .. o*s - p + d*(k-1), each covering `size` pixels
   * from start + i*jump. */
  *out = *in;
  out->start_h = in->start_h - pad_t * in->jump_h;
  out->start_w = in->start_w - pad_l * in->jump_w;
  out->size_h = in->size_h + dh * (kh - 1) * in->jump_h;
  out->size_w = in->size_w + dw * (kw - 1) * in->jump_w;
  out->jump_h = in->jump_h * sh;
  out->jump_w = in->jump_w * sw;
}

/* The union of the inputs' fields for an op that works unit by unit. */
static bool
field_union (NnReceptiveField       *out,
             const NnReceptiveField *fields,
             const NnGraph          *graph,
             int                     node,
             NnError                *err)
{
  const NnNode *n = &graph->nodes[node];
  *out = fields[n->inputs[0]];
  for (int i = 0; i < n->n_inputs; i++)
    if (fields[n->inputs[i]].whole)
      {
        out->whole = true;
        return true;
      }
  for (int i = 1; i < n->n_inputs; i++)
    {
      const NnReceptiveField *f = &fields[n->inputs[i]];
      if (f->jump_h != out->jump_h || f->jump_w != out->jump_w)
        return nn_error_set (err, NN_ERROR_UNSUPPORTED, "layer %s joins paths of different "
                             "strides (%d x %d and %d x %d): its units have no common receptive "
                             "field", n->name, out->jump_h, out->jump_w, f->jump_h, f->jump_w);
      int end_h = out->start_h + out->size_h, end_w = out->start_w + out->size_w;
      int f_end_h = f->start_h + f->size_h, f_end_w = f->start_w + f->size_w;
      out->start_h = out->start_h < f->start_h ? out->start_h : f->start_h;
      out->start_w = out->start_w < f->start_w ? out->start_w : f->start_w;
      out->size_h = (end_h > f_end_h ? end_h : f_end_h) - out->start_h;
      out->size_w = (end_w > f_end_w ? end_w : f_end_w) - out->start_w;
    }
  return true;
}

static bool
field_of_node (NnReceptiveField       *out,
               const NnReceptiveField *fields,
               const NnGraph          *graph,
               int                     node,
               NnError                *err)
{
  const NnNode *n = &graph->nodes[node];
  const NnReceptiveField *in = n->n_inputs > 0 ? &fields[n->inputs[0]] : NULL;
  switch (n->op)
    {
    case NN_OP_CONV2D:
      {
        const NnConvAttrs *a = &n->attrs.conv;
        field_window (out, in, a->kh, a->kw, a->sh, a->sw, a->pad_t, a->pad_l, a->dh, a->dw);
        return true;
      }
    case NN_OP_MAXPOOL:
    case NN_OP_AVGPOOL:
      {
        const NnPoolAttrs *a = &n->attrs.pool;
        field_window (out, in, a->kh, a->kw, a->sh, a->sw, a->pad_t, a->pad_l, 1, 1);
        return true;
      }
    case NN_OP_PAD:
      field_window (out, in, 1, 1, 1, 1, n->attrs.pad.pad_t, n->attrs.pad.pad_l, 1, 1);
      return true;
    case NN_OP_SLICE:
      /* A slice of channels keeps the plane; any other axis mixes it up. */
      *out = *in;
      out->whole = in->whole || n->attrs.slice.axis != 0 || n->shape.rank != 3;
      return true;
    case NN_OP_BATCHNORM:
    case NN_OP_ACTIVATION:
    case NN_OP_DROPOUT:
    case NN_OP_SCALE:
    case NN_OP_PRELU:
    case NN_OP_ADD:
    case NN_OP_MUL:
    case NN_OP_CONCAT:
    case NN_OP_BROADCAST_ADD:
    case NN_OP_BROADCAST_SUB:
    case NN_OP_BROADCAST_MUL:
    case NN_OP_BROADCAST_DIV:
      return field_union (out, fields, graph, node, err);
    case NN_OP_INPUT:
    case NN_OP_LINEAR:
    case NN_OP_INSTANCENORM:
    case NN_OP_GLOBAL_AVGPOOL:
    case NN_OP_FLATTEN:
    case NN_OP_SOFTMAX:
    case NN_OP_RESHAPE:
    case NN_OP_REDUCE_SUM:
    case NN_OP_REDUCE_MEAN:
    case NN_OP_REDUCE_MAX:
    case NN_OP_TRANSPOSE:
    case NN_OP_DENSE:
    case NN_OP_MATMUL:
    case NN_OP_SOFTMAX_AXIS:
    case NN_OP_COUNT_:
    default:
      *out = (NnReceptiveField) { .whole = true, .size_h = 1, .size_w = 1, .jump_h = 1,
                                  .jump_w = 1 };
      return true;
    }
}

bool
nn_receptive_field (NnReceptiveField *field,
                    const NnGraph    *graph,
                    int               node,
                    NnError          *err)
{
  NN_ASSERT (field != NULL && graph != NULL && node >= 0 && node < graph->n_nodes);
  NnReceptiveField *fields = malloc ((size_t) (node + 1) * sizeof *fields);
  if (fields == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for receptive fields");
  fields[0] = (NnReceptiveField) { .size_h = 1, .size_w = 1, .jump_h = 1, .jump_w = 1 };
  bool ok = true;
  for (int i = 1; ok && i <= node; i++)
    ok = field_of_node (&fields[i], fields, graph, i, err);
  if (ok)
    *field = fields[node];
  free (fields);
  return ok;
}

static void
clip_span (int  start,
           int  size,
           int  limit,
           int *out_start,
           int *out_size)
{
  int end = start + size;
  start = start < 0 ? 0 : start;
  end = end > limit ? limit : end;
  if (end <= start)
    {
      start = 0;
      end = limit;
    }
  *out_start = start;
  *out_size = end - start;
}

void
nn_receptive_field_rect (const NnReceptiveField *field,
                         int                     y,
                         int                     x,
                         int                     in_h,
                         int                     in_w,
                         int                     rect[4])
{
  NN_ASSERT (field != NULL && in_h > 0 && in_w > 0);
  if (field->whole)
    {
      rect[0] = rect[1] = 0;
      rect[2] = in_h;
      rect[3] = in_w;
      return;
    }
  clip_span (field->start_h + y * field->jump_h, field->size_h, in_h, &rect[0], &rect[2]);
  clip_span (field->start_w + x * field->jump_w, field->size_w, in_w, &rect[1], &rect[3]);
}

/* The cache file. */

static uint64_t
fnv1a (uint64_t    h,
       const void *data,
       size_t      size)
{
  const unsigned char *p = data;
  for (size_t i = 0; i < size; i++)
    {
      h ^= p[i];
      h *= UINT64_C (0x100000001b3);
    }
  return h;
}

#define FNV_BASIS UINT64_C (0xcbf29ce484222325)

/* printf into a new string (free); NULL when out of memory. */
static char *
format_new (const char *format,
            ...) __attribute__ ((format (printf, 1, 2)));

static char *
format_new (const char *format,
            ...)
{
  va_list ap;
  va_start (ap, format);
  int len = vsnprintf (NULL, 0, format, ap);
  va_end (ap);
  char *s = len >= 0 ? malloc ((size_t) len + 1) : NULL;
  if (s == NULL)
    return NULL;
  va_start (ap, format);
  vsnprintf (s, (size_t) len + 1, format, ap);
  va_end (ap);
  return s;
}

char *
nn_examples_model_identity (const char *model_path,
                            NnError    *err)
{
  NN_ASSERT (model_path != NULL);
  struct stat st;
  char *model = realpath (model_path, NULL);
  if (model == NULL || stat (model, &st) != 0)
    {
      free (model);
      nn_error_set (err, NN_ERROR_IO, "%s: cannot examine the model file", model_path);
      return NULL;
    }
  char *id = format_new ("model=%s size=%lld mtime=%lld.%09lld", model, (long long) st.st_size,
                         (long long) st.st_mtim.tv_sec, (long long) st.st_mtim.tv_nsec);
  free (model);
  if (id == NULL)
    nn_error_set (err, NN_ERROR_NOMEM, "out of memory for a cache key");
  return id;
}

char *
nn_examples_cache_key (const char *model_identity,
                       const char *dataset,
                       const char *layer,
                       int         k,
                       NnError    *err)
{
  NN_ASSERT (model_identity != NULL && dataset != NULL && layer != NULL);
  /* A folder's modification time changes when an image is added or removed in it. */
  const char *folder = strcmp (dataset, "fashion-mnist") == 0 ? NN_FASHION_MNIST_DIR : dataset;
  char *data = realpath (folder, NULL);
  struct stat st;
  long long d_s = 0, d_ns = 0;
  if (data != NULL && stat (data, &st) == 0)
    {
      d_s = (long long) st.st_mtim.tv_sec;
      d_ns = (long long) st.st_mtim.tv_nsec;
    }
  char *key = format_new ("%s dataset=%s dmtime=%lld.%09lld layer=%s k=%d", model_identity,
                          data != NULL ? data : dataset, d_s, d_ns, layer, k);
  free (data);
  if (key == NULL)
    nn_error_set (err, NN_ERROR_NOMEM, "out of memory for a cache key");
  return key;
}

void
nn_examples_cache_name (char       *name,
                        size_t      size,
                        const char *key)
{
  NN_ASSERT (name != NULL && key != NULL);
  snprintf (name, size, "examples-%016llx.bin",
            (unsigned long long) fnv1a (FNV_BASIS, key, strlen (key)));
}

/* Layout, in the host's byte order (a cache belongs to one machine): "CNNSEXM1", u32 key
 * length, the key, i32 c h w k n, then per end (top, bottom) and channel min(k, n) records of
 * i32 index, f32 value, i32 y, i32 x, then u64 FNV-1a of everything before it. */
static const char magic[8] = { 'C', 'N', 'N', 'S', 'E', 'X', 'M', '1' };

typedef struct
{
  int32_t index;
  float   value;
  int32_t y, x;
} Record;

bool
nn_examples_save (const NnExamples *examples,
                  const char       *path,
                  const char       *key,
                  NnError          *err)
{
  NN_ASSERT (examples != NULL && path != NULL && key != NULL);
  size_t key_len = strlen (key);
  if (key_len > MAX_KEY)
    return nn_error_set (err, NN_ERROR_SPEC, "%s: cache key of %zu bytes is too long", path,
                         key_len);
  NnAtomicFile file;
  if (!nn_atomic_file_open (&file, path, err))
    return false;
  uint64_t h = FNV_BASIS;
  uint32_t len32 = (uint32_t) key_len;
  int32_t dims[5] = { examples->c, examples->h, examples->w, examples->k, examples->n };
#define PUT(ptr, size) (h = fnv1a (h, (ptr), (size)), fwrite ((ptr), 1, (size), file.fp))
  PUT (magic, sizeof magic);
  PUT (&len32, sizeof len32);
  PUT (key, key_len);
  PUT (dims, sizeof dims);
  const int count = nn_examples_count (examples);
  for (int end = 0; end < 2; end++)
    for (int c = 0; c < examples->c; c++)
      {
        const NnExample *list = end == 0 ? nn_examples_top (examples, c)
                                         : nn_examples_bottom (examples, c);
        for (int i = 0; i < count; i++)
          {
            Record r = { list[i].index, list[i].value, list[i].y, list[i].x };
            PUT (&r, sizeof r);
          }
      }
#undef PUT
  fwrite (&h, 1, sizeof h, file.fp);
  return nn_atomic_file_finish (&file, true, err);
}

static bool
take (void                *dst,
      size_t               size,
      const unsigned char *data,
      size_t               n,
      size_t              *at)
{
  if (n - *at < size)
    return false;
  memcpy (dst, data + *at, size);
  *at += size;
  return true;
}

static bool
list_valid (const NnExample  *list,
            int               count,
            const NnExamples *ex,
            bool              high)
{
  for (int i = 0; i < count; i++)
    {
      const NnExample *e = &list[i];
      if (e->index < 0 || e->index >= ex->n || e->y < 0 || e->y >= ex->h || e->x < 0
          || e->x >= ex->w || !isfinite (e->value))
        return false;
      if (i > 0 && (high ? e->value > list[i - 1].value : e->value < list[i - 1].value))
        return false;
    }
  return true;
}

NnExamples *
nn_examples_load (const char *path,
                  const char *key,
                  NnError    *err)
{
  NN_ASSERT (path != NULL && key != NULL);
  const size_t max = (size_t) 1 << 31;
  size_t n = 0;
  unsigned char *data = nn_file_load (path, max, "a dataset examples cache", &n, err);
  if (data == NULL)
    return NULL;
  NnExamples *ex = NULL;
  size_t at = 0;
  char head[8];
  uint32_t key_len = 0;
  int32_t dims[5];
  uint64_t sum;
  if (n < sizeof sum)
    goto broken;
  memcpy (&sum, data + n - sizeof sum, sizeof sum);
  n -= sizeof sum;
  if (!take (head, sizeof head, data, n, &at) || memcmp (head, magic, sizeof magic) != 0)
    goto broken;
  if (fnv1a (FNV_BASIS, data, n) != sum)
    goto broken;
  if (!take (&key_len, sizeof key_len, data, n, &at) || key_len > MAX_KEY || n - at < key_len)
    goto broken;
  if (key_len != strlen (key) || memcmp (data + at, key, key_len) != 0)
    {
      free (data);
      nn_error_set (err, NN_ERROR_FORMAT, "%s: written for another model, dataset, layer or k",
                    path);
      return NULL;
    }
  at += key_len;
  if (!take (dims, sizeof dims, data, n, &at))
    goto broken;
  if (dims[0] < 1 || dims[0] > MAX_CHANNELS || dims[1] < 1 || dims[1] > MAX_SIDE || dims[2] < 1
      || dims[2] > MAX_SIDE || dims[3] < 1 || dims[3] > MAX_K || dims[4] < 1)
    goto broken;
  const int count = dims[4] < dims[3] ? dims[4] : dims[3];
  if ((n - at) / sizeof (Record) != (size_t) 2 * dims[0] * count
      || (n - at) % sizeof (Record) != 0)
    goto broken;
  ex = examples_alloc (dims[0], dims[1], dims[2], dims[3], err);
  if (ex == NULL)
    {
      free (data);
      return NULL;
    }
  ex->n = dims[4];
  for (int end = 0; end < 2; end++)
    for (int c = 0; c < ex->c; c++)
      {
        NnExample *list = (end == 0 ? ex->top : ex->bottom) + (size_t) c * ex->k;
        for (int i = 0; i < count; i++)
          {
            Record r;
            if (!take (&r, sizeof r, data, n, &at))
              goto broken;
            list[i] = (NnExample) { r.index, r.value, r.y, r.x };
          }
        if (!list_valid (list, count, ex, end == 0))
          goto broken;
      }
  free (data);
  return ex;

broken:
  free (data);
  nn_examples_free (ex);
  nn_error_set (err, NN_ERROR_FORMAT, "%s: not a valid dataset examples cache", path);
  return NULL;
}
