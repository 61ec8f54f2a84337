/* SPDX-License-Identifier: MIT */
/* ONNX import, the outer part: reading and unpacking the file, decoding tensors (inline, raw or
 * external data), ordering the nodes (cycles, missing inputs), naming layers, and building the
 * NnModel. The file is treated as hostile: every size is checked. */
#include "io/nn-onnx-private.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/nn-model-private.h"

/* The string -> index map. */

static uint64_t
hash_text (const char *text)
{
  uint64_t h = 1469598103934665603u;
  for (const unsigned char *p = (const unsigned char *) text; *p; p++)
    h = (h ^ *p) * 1099511628211u;
  return h;
}

static bool
map_put (NnOnnxMap  *map,
         const char *key,
         int         val)
{
  if (map->cap == 0 || 2 * (size_t) (map->vals[map->cap] + 1) > map->cap)
    {
      size_t ncap = map->cap ? map->cap * 2 : 64;
      const char **keys = calloc (ncap, sizeof *keys);
      int *vals = calloc (ncap + 1, sizeof *vals);   /* vals[cap] holds the count */
      if (keys == NULL || vals == NULL)
        {
          free (keys);
          free (vals);
          return false;
        }
      vals[ncap] = map->cap ? map->vals[map->cap] : 0;
      for (size_t k = 0; k < map->cap; k++)
        if (map->keys[k] != NULL)
          {
            size_t j = hash_text (map->keys[k]) & (ncap - 1);
            while (keys[j] != NULL)
              j = (j + 1) & (ncap - 1);
            keys[j] = map->keys[k];
            vals[j] = map->vals[k];
          }
      free (map->keys);
      free (map->vals);
      map->keys = keys;
      map->vals = vals;
      map->cap = ncap;
    }
  size_t j = hash_text (key) & (map->cap - 1);
  while (map->keys[j] != NULL)
    {
      if (strcmp (map->keys[j], key) == 0)
        {
          map->vals[j] = val;
          return true;
        }
      j = (j + 1) & (map->cap - 1);
    }
  map->keys[j] = key;
  map->vals[j] = val;
  map->vals[map->cap]++;
  return true;
}

int
nn_onnx_map_get (const NnOnnxMap *map,
                 const char      *key)
{
  if (map->cap == 0)
    return -1;
  size_t j = hash_text (key) & (map->cap - 1);
  while (map->keys[j] != NULL)
    {
      if (strcmp (map->keys[j], key) == 0)
        return map->vals[j];
      j = (j + 1) & (map->cap - 1);
    }
  return -1;
}

static void
map_clear (NnOnnxMap *map)
{
  free (map->keys);
  free (map->vals);
  memset (map, 0, sizeof *map);
}

/* Values. */

NnOnnxValue *
nn_onnx_value_find (NnOnnxImporter *im,
                    const char     *name)
{
  int k = nn_onnx_map_get (&im->value_map, name);
  return k >= 0 ? &im->values[k] : NULL;
}

NnOnnxValue *
nn_onnx_value_add (NnOnnxImporter *im,
                   const char     *name,
                   NnError        *err)
{
  if (nn_onnx_map_get (&im->value_map, name) >= 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%.200s' is defined twice", name), NULL;
  if (im->n_values == im->cap_values)
    {
      int ncap = im->cap_values ? im->cap_values * 2 : 256;
      NnOnnxValue *p = realloc (im->values, sizeof *p * (size_t) ncap);
      if (p == NULL)
        return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
      im->values = p;
      im->cap_values = ncap;
    }
  NnOnnxValue *value = &im->values[im->n_values];
  memset (value, 0, sizeof *value);
  value->name = name;
  value->node = -1;
  if (!map_put (&im->value_map, name, im->n_values))
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  im->n_values++;
  return value;
}

static bool
count_elements (int            ndim,
                const int64_t *dims,
                size_t        *count)
{
  int64_t n = 1;
  for (int d = 0; d < ndim; d++)
    {
      if (dims[d] < 0 || dims[d] > NN_ONNX_MAX_ELEMS)
        return false;
      if (dims[d] != 0 && n > NN_ONNX_MAX_ELEMS / dims[d])
        return false;
      n *= dims[d];
    }
  *count = (size_t) n;
  return true;
}

bool
nn_onnx_value_alloc (NnOnnxValue   *value,
                     bool           is_int,
                     int            ndim,
                     const int64_t *dims,
                     NnError       *err)
{
  if (ndim < 0 || ndim > NN_ONNX_MAX_RANK)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "tensor '%.200s': rank %d is above %d",
                         value->name, ndim, NN_ONNX_MAX_RANK);
  size_t count;
  if (!count_elements (ndim, dims, &count))
    return nn_error_set (err, NN_ERROR_FORMAT,
                         "tensor '%.200s': dimensions are negative or overflow", value->name);
  value->is_const = true;
  value->is_int = is_int;
  value->ndim = ndim;
  if (ndim > 0)
    memcpy (value->dims, dims, sizeof (int64_t) * (size_t) ndim);
  value->count = count;
  if (is_int)
    value->i = calloc (count ? count : 1, sizeof (int64_t));
  else
    value->f = calloc (count ? count : 1, sizeof (float));
  if (value->i == NULL && value->f == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "tensor '%.200s': out of memory", value->name);
  return true;
}

double
nn_onnx_value_get (const NnOnnxValue *value,
                   size_t             k)
{
  NN_ASSERT (value->is_const && k < value->count);
  return value->is_int ? (double) value->i[k] : (double) value->f[k];
}

int64_t
nn_onnx_value_get_int (const NnOnnxValue *value,
                       size_t             k)
{
  NN_ASSERT (value->is_const && k < value->count);
  if (value->is_int)
    return value->i[k];
  const float f = value->f[k];
  if (!(f == f))
    return 0;
  return f >= 9.2e18f ? INT64_MAX : f <= -9.2e18f ? INT64_MIN : (int64_t) f;
}

static void
value_clear (NnOnnxValue *value)
{
  free (value->f);
  free (value->i);
  value->f = NULL;
  value->i = NULL;
}

bool
nn_onnx_shape_to_nn (int            ndim,
                     const int64_t *dims,
                     NnShape       *shape)
{
  if (ndim < 1 || ndim > NN_ONNX_MAX_RANK)
    return false;
  int64_t w = 1;
  for (int d = 1; d < ndim; d++)
    {
      if (dims[d] <= 0 || dims[d] > (1 << 30))
        return false;
      if (d >= 3)
        {
          w *= dims[d];
          if (w > (1 << 30))
            return false;
        }
    }
  shape->c = ndim > 1 ? (int) dims[1] : 1;
  shape->h = ndim > 2 ? (int) dims[2] : 1;
  shape->w = (int) w;
  return true;
}

/* Tensors. */

static size_t
element_size (int32_t type)
{
  switch (type)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
      return 4;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
      return 8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT16:
      return 2;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8:
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL:
      return 1;
    default:
      return 0;
    }
}

static uint64_t
raw_bits (const uint8_t *raw,
          size_t         size,
          size_t         k)
{
  uint64_t bits = 0;
  for (size_t b = 0; b < size; b++)
    bits |= (uint64_t) raw[k * size + b] << (8 * b);
  return bits;
}

/* Element k of little-endian raw data of an integer type. */
static int64_t
raw_get_int (const uint8_t *raw,
             int32_t        type,
             size_t         k)
{
  uint64_t bits = raw_bits (raw, element_size (type), k);
  switch (type)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
      return (int64_t) bits;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
      return bits > (uint64_t) INT64_MAX ? INT64_MAX : (int64_t) bits;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
      return (int32_t) (uint32_t) bits;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT16:
      return (int16_t) (uint16_t) bits;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8:
      return (int8_t) (uint8_t) bits;
    default:
      return (int64_t) bits;
    }
}

/* Element k of little-endian raw data of a floating-point type. */
static float
raw_get_float (const uint8_t *raw,
               int32_t        type,
               size_t         k)
{
  if (type == ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE)
    {
      uint64_t bits = raw_bits (raw, 8, k);
      double d;
      memcpy (&d, &bits, sizeof d);
      return (float) d;
    }
  uint32_t u = (uint32_t) raw_bits (raw, 4, k);
  float f;
  memcpy (&f, &u, sizeof f);
  return f;
}

/* Reads `size` bytes of external data into a new buffer. The location must stay inside the
 * model's folder. */
static uint8_t *
read_external (NnOnnxImporter          *im,
               const Onnx__TensorProto *t,
               size_t                   size,
               NnError                 *err)
{
  const char *location = NULL;
  uint64_t offset = 0, length = UINT64_MAX;
  for (size_t k = 0; k < t->n_external_data; k++)
    {
      const Onnx__StringStringEntryProto *e = t->external_data[k];
      if (e->key == NULL || e->value == NULL)
        continue;
      if (strcmp (e->key, "location") == 0)
        location = e->value;
      else if (strcmp (e->key, "offset") == 0)
        offset = strtoull (e->value, NULL, 10);
      else if (strcmp (e->key, "length") == 0)
        length = strtoull (e->value, NULL, 10);
    }
  if (location == NULL || location[0] == '\0')
    return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%.200s': external data without a "
                         "location", t->name), NULL;
  if (location[0] == '/' || strstr (location, "..") != NULL)
    return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%.200s': external data location "
                         "'%.200s' leaves the model's folder", t->name, location), NULL;
  if (length != UINT64_MAX && length != size)
    return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%.200s': external data has %llu bytes, "
                         "its shape needs %zu", t->name, (unsigned long long) length, size),
           NULL;
  size_t plen = strlen (im->dir) + strlen (location) + 2;
  char *path = malloc (plen);
  if (path == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  snprintf (path, plen, "%s/%s", im->dir, location);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  free (path);
  if (fd < 0)
    {
      char buf[128];
      return nn_error_set (err, NN_ERROR_IO, "tensor '%.200s': external data file '%.200s' "
                           "cannot be opened: %s", t->name, location,
                           nn_model_errno_text (errno, buf, sizeof buf)), NULL;
    }
  uint8_t *data = malloc (size ? size : 1);
  size_t done = 0;
  while (data != NULL && done < size)
    {
      ssize_t n = pread (fd, data + done, size - done, (off_t) (offset + done));
      if (n <= 0)
        break;
      done += (size_t) n;
    }
  close (fd);
  if (data == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  if (done != size || offset > (uint64_t) INT64_MAX)
    {
      free (data);
      return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%.200s': external data file "
                           "'%.200s' is shorter than the %zu bytes at offset %llu", t->name,
                           location, size, (unsigned long long) offset), NULL;
    }
  return data;
}

bool
nn_onnx_tensor_decode (NnOnnxImporter          *im,
                       const Onnx__TensorProto *t,
                       NnOnnxValue             *value,
                       NnError                 *err)
{
  const char *name = t->name != NULL ? t->name : "";
  int32_t type = t->data_type;
  size_t esize = element_size (type);
  if (esize == 0)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "tensor '%.200s': data type %d is not "
                         "supported", name, (int) type);
  if (t->n_dims > NN_ONNX_MAX_RANK)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "tensor '%.200s': rank %zu is above %d",
                         name, t->n_dims, NN_ONNX_MAX_RANK);
  bool is_int = type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
                && type != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
  size_t n;
  if (!count_elements ((int) t->n_dims, t->dims, &n))
    return nn_error_set (err, NN_ERROR_FORMAT,
                         "tensor '%.200s': dimensions are negative or overflow", name);
  const uint8_t *raw = NULL;
  uint8_t *external = NULL;
  size_t given = 0;
  bool external_loc = t->has_data_location
                      && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  if (external_loc)
    {
      if (im == NULL)
        return nn_error_set (err, NN_ERROR_UNSUPPORTED, "tensor '%.200s': external data is "
                             "not supported here", name);
      external = read_external (im, t, n * esize, err);
      if (external == NULL)
        return false;
      raw = external;
      given = n;
    }
  else if (t->has_raw_data)
    {
      raw = t->raw_data.data;
      given = t->raw_data.len % esize == 0 ? t->raw_data.len / esize : SIZE_MAX;
    }
  else
    switch (type)
      {
      case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
        given = t->n_float_data;
        break;
      case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
        given = t->n_double_data;
        break;
      case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
        given = t->n_int64_data;
        break;
      case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
      case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
        given = t->n_uint64_data;
        break;
      default:
        given = t->n_int32_data;
        break;
      }
  /* The data is checked against the shape before anything of the shape's size is allocated. */
  if (given != n)
    {
      free (external);
      return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%.200s': holds %zu values, its shape "
                           "needs %zu", name, given == SIZE_MAX ? 0 : given, n);
    }
  if (!nn_onnx_value_alloc (value, is_int, (int) t->n_dims, t->dims, err))
    {
      free (external);
      return false;
    }
  for (size_t k = 0; k < n; k++)
    {
      if (is_int)
        {
          int64_t v;
          if (raw != NULL)
            v = raw_get_int (raw, type, k);
          else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
            v = t->int64_data[k];
          else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT32
                   || type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT64)
            v = t->uint64_data[k] > (uint64_t) INT64_MAX ? INT64_MAX
                                                          : (int64_t) t->uint64_data[k];
          else
            v = t->int32_data[k];
          value->i[k] = v;
          continue;
        }
      if (raw != NULL)
        value->f[k] = raw_get_float (raw, type, k);
      else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        value->f[k] = t->float_data[k];
      else
        value->f[k] = (float) t->double_data[k];
    }
  free (external);
  return true;
}

/* Messages and names. */

static const char *
node_label (const Onnx__NodeProto *proto)
{
  if (proto->name != NULL && proto->name[0] != '\0')
    return proto->name;
  if (proto->n_output > 0 && proto->output[0] != NULL)
    return proto->output[0];
  return "";
}

bool
nn_onnx_node_fail (const NnOnnxNode *node,
                   NnError        *err,
                   NnErrorCode     code,
                   const char     *format,
                   ...)
{
  if (err == NULL)
    return false;
  char message[768];
  va_list ap;
  va_start (ap, format);
  vsnprintf (message, sizeof message, format, ap);
  va_end (ap);
  return nn_error_set (err, code, "node '%.120s' (%.40s): %s", node_label (node->proto),
                       node->proto->op_type != NULL ? node->proto->op_type : "", message);
}

void
nn_onnx_layer_name (const NnOnnxImporter *im,
                    const NnOnnxNode     *node,
                    char                 *buf)
{
  const char *name = node->proto->name;
  char base[NN_NAME_MAX] = "";
  if (name != NULL && name[0] == '/')
    {
      /* PyTorch scopes: "/layer3/layer3.1/conv2/Conv". Each component either extends the
       * path so far ("layer3.1" after "layer3") or names a child ("conv2"); the last one is
       * the op. */
      const char *last = strrchr (name, '/') + 1;
      const char *p = name + 1;
      size_t len = 0;
      while (p < last)
        {
          const char *end = strchr (p, '/');
          size_t n = (size_t) (end - p);
          if (n > 0)
            {
              if (len > 0 && n > len && strncmp (p, base, len) == 0 && p[len] == '.')
                len = 0;
              else if (len > 0 && len + 1 < sizeof base)
                base[len++] = '.';
              if (len + n >= sizeof base)
                n = sizeof base - 1 - len;
              memcpy (base + len, p, n);
              len += n;
              base[len] = '\0';
            }
          p = end + 1;
        }
      if (len == 0)
        {
          snprintf (base, sizeof base, "%s", last);
          for (char *c = base; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
              *c = (char) (*c - 'A' + 'a');
        }
    }
  else
    snprintf (base, sizeof base, "%s", node_label (node->proto));
  if (base[0] == '\0')
    snprintf (base, sizeof base, "node%d", node->index);
  snprintf (buf, NN_NAME_MAX, "%s", base);
  for (int k = 1; nn_graph_find (im->graph, buf) >= 0; k++)
    {
      char suffix[16];
      int n = snprintf (suffix, sizeof suffix, "_%d", k);
      size_t keep = strlen (base);
      if (keep + (size_t) n >= NN_NAME_MAX)
        keep = NN_NAME_MAX - 1 - (size_t) n;
      snprintf (buf, NN_NAME_MAX, "%.*s%s", (int) keep, base, suffix);
    }
}

/* Reading the file. */

bool
nn_onnx_sniff (const unsigned char *head,
               size_t               size)
{
  /* Field 1 (ir_version) as a varint: tag byte 0x08, then a small version number. */
  return size >= 2 && head[0] == 0x08 && head[1] > 0 && head[1] < 0x40;
}

static uint8_t *
read_file (const char *path,
           size_t     *size,
           NnError    *err)
{
  char buf[128];
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nn_error_set (err, NN_ERROR_IO, "cannot open: %s",
                         nn_model_errno_text (errno, buf, sizeof buf)), NULL;
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return nn_error_set (err, NN_ERROR_IO, "not a regular file"), NULL;
    }
  if ((uint64_t) st.st_size > NN_ONNX_MAX_FILE)
    {
      close (fd);
      return nn_error_set (err, NN_ERROR_FORMAT, "file too large (%lld bytes)",
                           (long long) st.st_size), NULL;
    }
  size_t n = (size_t) st.st_size;
  uint8_t *data = malloc (n ? n : 1);
  size_t done = 0;
  while (data != NULL && done < n)
    {
      ssize_t r = read (fd, data + done, n - done);
      if (r <= 0)
        break;
      done += (size_t) r;
    }
  close (fd);
  if (data == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory reading the file"), NULL;
  if (done != n)
    {
      free (data);
      return nn_error_set (err, NN_ERROR_IO, "read error"), NULL;
    }
  *size = n;
  return data;
}

bool
nn_onnx_tensor_load (const char   *path,
                     NnOnnxTensor *tensor,
                     NnError      *err)
{
  NN_ASSERT (path != NULL && tensor != NULL);
  memset (tensor, 0, sizeof *tensor);
  size_t size;
  uint8_t *data = read_file (path, &size, err);
  if (data == NULL)
    {
      nn_error_prefix (err, "%s", path);
      return false;
    }
  Onnx__TensorProto *t = onnx__tensor_proto__unpack (NULL, size, data);
  free (data);
  if (t == NULL)
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: not a valid ONNX TensorProto", path);
  NnOnnxValue value = { .name = t->name != NULL ? t->name : "" };
  bool ok = nn_onnx_tensor_decode (NULL, t, &value, err);
  if (ok)
    {
      snprintf (tensor->name, sizeof tensor->name, "%s", value.name);
      tensor->ndim = value.ndim;
      memcpy (tensor->dims, value.dims, sizeof value.dims);
      tensor->count = value.count;
      tensor->data = malloc (sizeof (float) * (value.count ? value.count : 1));
      if (tensor->data == NULL)
        ok = nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
      for (size_t k = 0; ok && k < value.count; k++)
        tensor->data[k] = (float) nn_onnx_value_get (&value, k);
    }
  else
    nn_error_prefix (err, "%s", path);
  value_clear (&value);
  onnx__tensor_proto__free_unpacked (t, NULL);
  return ok;
}

void
nn_onnx_tensor_clear (NnOnnxTensor *tensor)
{
  if (tensor == NULL)
    return;
  free (tensor->data);
  memset (tensor, 0, sizeof *tensor);
}

/* The graph. */

static const Onnx__TensorShapeProto *
value_info_shape (const Onnx__ValueInfoProto *info)
{
  if (info->type == NULL || info->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
      || info->type->tensor_type == NULL)
    return NULL;
  return info->type->tensor_type->shape;
}

/* The run-time input: node 0 of the engine graph, its shape from the model or the options. */
static bool
add_input (NnOnnxImporter             *im,
           const Onnx__ValueInfoProto *info,
           NnError                    *err)
{
  const NnOnnxOptions *opt = im->options;
  const Onnx__TensorShapeProto *shape = value_info_shape (info);
  if (shape == NULL)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "input '%.200s' is not a tensor with a "
                         "shape", info->name);
  int ndim = (int) shape->n_dim;
  if (ndim < 1 || ndim > 4)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "input '%.200s' has rank %d; 1 to 4 "
                         "are supported", info->name, ndim);
  int64_t dims[4];
  const int given[4] = { 0, opt ? opt->channels : 0, opt ? opt->height : 0,
                         opt ? opt->width : 0 };
  static const char *const what[4] = { "batch", "channels", "height", "width" };
  for (int d = 0; d < ndim; d++)
    {
      const Onnx__TensorShapeProto__Dimension *dim = shape->dim[d];
      bool known = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      dims[d] = known ? dim->dim_value : -1;
      if (d == 0)
        {
          /* The batch is chosen at run time; an exported one (usually 1) is kept for the
           * shape arithmetic of the graph. */
          if (!known || dims[0] <= 0)
            dims[0] = 1;
          continue;
        }
      if (given[d] > 0)
        {
          if (known && dims[d] != given[d])
            return nn_error_set (err, NN_ERROR_SPEC, "input '%.200s': the model fixes the %s "
                                 "at %lld, not %d", info->name, what[d],
                                 (long long) dims[d], given[d]);
          dims[d] = given[d];
        }
      if (dims[d] <= 0 || dims[d] > (1 << 20))
        return nn_error_set (err, NN_ERROR_SPEC, "input '%.200s': the %s (dimension %d) is "
                             "dynamic or out of range; give it (cnnscope-cli convert --size)",
                             info->name, what[d], d);
    }
  NnShape s;
  if (!nn_onnx_shape_to_nn (ndim, dims, &s))
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "input '%.200s': unsupported shape",
                         info->name);
  NnOnnxValue *value = nn_onnx_value_add (im, info->name, err);
  if (value == NULL)
    return false;
  value->ndim = ndim;
  memcpy (value->dims, dims, sizeof (int64_t) * (size_t) ndim);
  NnNode spec;
  memset (&spec, 0, sizeof spec);
  spec.op = NN_OP_INPUT;
  snprintf (spec.name, sizeof spec.name, "input");
  spec.shape = s;
  value->node = nn_graph_add (im->graph, &spec, err);
  if (value->node < 0)
    {
      nn_error_prefix (err, "input '%.200s'", info->name);
      return false;
    }
  return true;
}

static const NnOnnxTensor *
find_bound (const NnOnnxOptions *opt,
            const char          *name)
{
  for (int k = 0; opt != NULL && k < opt->n_bind; k++)
    if (strcmp (opt->bind[k].name, name) == 0)
      return &opt->bind[k];
  return NULL;
}

static bool
add_constants_and_input (NnOnnxImporter *im,
                         NnError        *err)
{
  const Onnx__GraphProto *g = im->model->graph;
  for (size_t k = 0; k < g->n_initializer; k++)
    {
      const Onnx__TensorProto *t = g->initializer[k];
      if (t->name == NULL || t->name[0] == '\0')
        return nn_error_set (err, NN_ERROR_FORMAT, "initializer %zu has no name", k);
      NnOnnxValue *value = nn_onnx_value_add (im, t->name, err);
      if (value == NULL || !nn_onnx_tensor_decode (im, t, value, err))
        return false;
    }
  if (g->n_sparse_initializer > 0)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "sparse initializers are not supported");
  const Onnx__ValueInfoProto *input = NULL;
  for (size_t k = 0; k < g->n_input; k++)
    {
      const Onnx__ValueInfoProto *info = g->input[k];
      if (info->name == NULL || info->name[0] == '\0')
        return nn_error_set (err, NN_ERROR_FORMAT, "graph input %zu has no name", k);
      if (nn_onnx_value_find (im, info->name) != NULL)
        continue;   /* an initializer listed as an input (IR version < 4) */
      const NnOnnxTensor *bound = find_bound (im->options, info->name);
      if (bound != NULL)
        {
          NnOnnxValue *value = nn_onnx_value_add (im, info->name, err);
          if (value == NULL || !nn_onnx_value_alloc (value, false, bound->ndim, bound->dims, err))
            return false;
          if (value->count != bound->count)
            return nn_error_set (err, NN_ERROR_SPEC, "bound input '%.200s': shape and data "
                                 "disagree", info->name);
          memcpy (value->f, bound->data, sizeof (float) * bound->count);
          continue;
        }
      if (input != NULL)
        return nn_error_set (err, NN_ERROR_UNSUPPORTED, "the graph has several inputs ('%.100s', "
                             "'%.100s'); one image input is supported", input->name,
                             info->name);
      input = info;
    }
  if (input == NULL)
    return nn_error_set (err, NN_ERROR_FORMAT, "the graph has no input");
  return add_input (im, input, err);
}

/* Orders the nodes (Kahn's algorithm, stable), checks that every input exists, finds the
 * nodes the output needs, and translates those in order. */
static bool
translate_graph (NnOnnxImporter *im,
                 NnError        *err)
{
  const Onnx__GraphProto *g = im->model->graph;
  const size_t n = g->n_node;
  bool ok = false;
  if (n > NN_ONNX_MAX_NODES)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%zu nodes, more than %d", n,
                         NN_ONNX_MAX_NODES);
  if (g->n_output != 1 || g->output[0]->name == NULL)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "the graph has %zu outputs; one is "
                         "supported", g->n_output);
  int *indeg = calloc (n + 1, sizeof (int));
  int *order = calloc (n + 1, sizeof (int));
  int *edge_start = calloc (n + 2, sizeof (int));
  int *edges = NULL;
  bool *needed = calloc (n + 1, sizeof (bool));
  NnOnnxValue **inputs = calloc (NN_ONNX_MAX_INPUTS, sizeof (NnOnnxValue *));
  im->consumers = calloc (n + 1, sizeof (int));
  im->first_use = calloc (n + 1, sizeof (int));
  im->fused = calloc (n + 1, sizeof (bool));
  size_t n_edges = 0;
  if (!indeg || !order || !edge_start || !needed || !inputs || !im->consumers || !im->first_use
      || !im->fused)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
      goto out;
    }
  for (size_t k = 0; k < n; k++)
    {
      const Onnx__NodeProto *node = g->node[k];
      NnOnnxNode view = { .proto = node, .index = (int) k };
      if (node->op_type == NULL)
        {
          nn_error_set (err, NN_ERROR_FORMAT, "node %zu has no op type", k);
          goto out;
        }
      for (size_t o = 0; o < node->n_output; o++)
        {
          const char *name = node->output[o];
          if (name == NULL || name[0] == '\0')
            continue;
          if (nn_onnx_map_get (&im->producer, name) >= 0 || nn_onnx_value_find (im, name) != NULL)
            {
              nn_onnx_node_fail (&view, err, NN_ERROR_FORMAT, "output '%.200s' is defined twice",
                                 name);
              goto out;
            }
          if (!map_put (&im->producer, name, (int) k))
            {
              nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
              goto out;
            }
        }
      n_edges += node->n_input;
    }
  edges = calloc (n_edges + 1, sizeof (int));
  if (edges == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
      goto out;
    }
  /* edges: for each producer, the nodes that read one of its outputs (CSR). */
  for (size_t k = 0; k < n; k++)
    {
      const Onnx__NodeProto *node = g->node[k];
      NnOnnxNode view = { .proto = node, .index = (int) k };
      for (size_t i = 0; i < node->n_input; i++)
        {
          const char *name = node->input[i];
          if (name == NULL || name[0] == '\0')
            continue;
          int p = nn_onnx_map_get (&im->producer, name);
          if (p < 0 && nn_onnx_value_find (im, name) == NULL)
            {
              nn_onnx_node_fail (&view, err, NN_ERROR_FORMAT, "input '%.200s' is not produced by "
                                 "any node, initializer or graph input", name);
              goto out;
            }
          if (p >= 0)
            {
              indeg[k]++;
              edge_start[p + 1]++;
            }
        }
    }
  for (size_t k = 0; k < n; k++)
    edge_start[k + 1] += edge_start[k];
  {
    int *fill = calloc (n + 1, sizeof (int));
    if (fill == NULL)
      {
        nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
        goto out;
      }
    for (size_t k = 0; k < n; k++)
      {
        const Onnx__NodeProto *node = g->node[k];
        for (size_t i = 0; i < node->n_input; i++)
          {
            const char *name = node->input[i];
            int p = name != NULL && name[0] != '\0' ? nn_onnx_map_get (&im->producer, name) : -1;
            if (p >= 0)
              edges[edge_start[p] + fill[p]++] = (int) k;
          }
      }
    free (fill);
  }
  size_t head = 0, tail = 0;
  for (size_t k = 0; k < n; k++)
    if (indeg[k] == 0)
      order[tail++] = (int) k;
  while (head < tail)
    {
      int k = order[head++];
      for (int e = edge_start[k]; e < edge_start[k + 1]; e++)
        if (--indeg[edges[e]] == 0)
          order[tail++] = edges[e];
    }
  if (tail != n)
    {
      for (size_t k = 0; k < n; k++)
        if (indeg[k] > 0)
          {
            NnOnnxNode view = { .proto = g->node[k], .index = (int) k };
            nn_onnx_node_fail (&view, err, NN_ERROR_FORMAT, "the graph has a cycle through this "
                               "node");
            break;
          }
      goto out;
    }

  /* The nodes the output needs, and who reads each node's first output. */
  const char *out_name = g->output[0]->name;
  int out_producer = nn_onnx_map_get (&im->producer, out_name);
  if (out_producer < 0)
    {
      if (nn_onnx_value_find (im, out_name) == NULL || nn_onnx_value_find (im, out_name)->is_const)
        {
          nn_error_set (err, NN_ERROR_UNSUPPORTED, "the output '%.200s' is not computed from "
                        "the input", out_name);
          goto out;
        }
    }
  else
    needed[out_producer] = true;
  for (size_t r = n; r-- > 0;)
    {
      int k = order[r];
      if (!needed[k])
        continue;
      const Onnx__NodeProto *node = g->node[k];
      for (size_t i = 0; i < node->n_input; i++)
        {
          const char *name = node->input[i];
          int p = name != NULL && name[0] != '\0' ? nn_onnx_map_get (&im->producer, name) : -1;
          if (p < 0)
            continue;
          needed[p] = true;
          if (g->node[p]->n_output > 0 && strcmp (g->node[p]->output[0], name) == 0)
            {
              im->consumers[p]++;
              im->first_use[p] = k;
            }
        }
    }
  if (out_producer >= 0)
    im->consumers[out_producer]++;

  for (size_t r = 0; r < n; r++)
    {
      int k = order[r];
      if (!needed[k])
        continue;
      NnOnnxNode view = { .proto = g->node[k], .index = k };
      const Onnx__NodeProto *node = view.proto;
      if (node->n_input > NN_ONNX_MAX_INPUTS)
        {
          nn_onnx_node_fail (&view, err, NN_ERROR_UNSUPPORTED, "%zu inputs, more than %d",
                             node->n_input, NN_ONNX_MAX_INPUTS);
          goto out;
        }
      view.in = inputs;
      view.n_in = (int) node->n_input;
      for (int i = 0; i < view.n_in; i++)
        view.in[i] = node->input[i] != NULL && node->input[i][0] != '\0'
                     ? nn_onnx_value_find (im, node->input[i]) : NULL;
      if (!nn_onnx_translate (im, &view, err))
        goto out;
    }
  const NnOnnxValue *out = nn_onnx_value_find (im, out_name);
  if (out == NULL || out->is_const)
    {
      nn_error_set (err, NN_ERROR_UNSUPPORTED, "the output '%.200s' is constant", out_name);
      goto out;
    }
  if (out->node != nn_graph_output (im->graph))
    {
      nn_error_set (err, NN_ERROR_UNSUPPORTED, "the output '%.200s' is not the last layer",
                    out_name);
      goto out;
    }
  ok = true;
out:
  free (indeg);
  free (order);
  free (edge_start);
  free (edges);
  free (needed);
  free (inputs);
  return ok;
}

static int64_t
default_opset (const Onnx__ModelProto *model)
{
  for (size_t k = 0; k < model->n_opset_import; k++)
    {
      const Onnx__OperatorSetIdProto *o = model->opset_import[k];
      if (o->domain == NULL || o->domain[0] == '\0' || strcmp (o->domain, "ai.onnx") == 0)
        return o->version;
    }
  return -1;
}

/* Mean and std: the options, else "cnnscope.mean" / "cnnscope.std" metadata, else 0 / 1. */
static bool
parse_floats (const char *text,
              float      *out,
              int         max)
{
  int n = 0;
  const char *p = text;
  while (*p && n < max)
    {
      char *end;
      double v = strtod (p, &end);
      if (end == p)
        return false;
      out[n++] = (float) v;
      p = end;
      while (*p == ',' || *p == ' ')
        p++;
    }
  for (int k = n; k < max && n > 0; k++)
    out[k] = out[n - 1];
  return n > 0 && *p == '\0';
}

static void
set_norm (NnModel                *model,
          const Onnx__ModelProto *proto,
          const NnOnnxOptions    *opt)
{
  if (opt != NULL && opt->n_norm > 0)
    {
      for (int c = 0; c < NN_MODEL_MAX_CHANNELS; c++)
        {
          int k = c < opt->n_norm ? c : opt->n_norm - 1;
          model->mean[c] = opt->mean[k];
          model->std[c] = opt->std[k];
        }
      return;
    }
  float mean[NN_MODEL_MAX_CHANNELS], std[NN_MODEL_MAX_CHANNELS];
  bool have_mean = false, have_std = false;
  for (size_t k = 0; k < proto->n_metadata_props; k++)
    {
      const Onnx__StringStringEntryProto *e = proto->metadata_props[k];
      if (e->key == NULL || e->value == NULL)
        continue;
      if (strcmp (e->key, "cnnscope.mean") == 0)
        have_mean = parse_floats (e->value, mean, NN_MODEL_MAX_CHANNELS);
      else if (strcmp (e->key, "cnnscope.std") == 0)
        have_std = parse_floats (e->value, std, NN_MODEL_MAX_CHANNELS);
    }
  if (!have_mean || !have_std)
    return;
  for (int c = 0; c < NN_MODEL_MAX_CHANNELS; c++)
    if (!(std[c] > 0.0f))
      return;
  memcpy (model->mean, mean, sizeof mean);
  memcpy (model->std, std, sizeof std);
}

static NnModel *
import (NnOnnxImporter *im,
        NnError        *err)
{
  size_t size;
  uint8_t *data = read_file (im->path, &size, err);
  if (data == NULL)
    return NULL;
  im->model = onnx__model_proto__unpack (NULL, size, data);
  free (data);
  if (im->model == NULL)
    return nn_error_set (err, NN_ERROR_FORMAT, "not a valid ONNX file (the protobuf is "
                         "truncated or corrupt)"), NULL;
  if (im->model->graph == NULL || !im->model->has_ir_version)
    return nn_error_set (err, NN_ERROR_FORMAT, "not an ONNX model (no graph or IR version)"),
           NULL;
  im->opset = default_opset (im->model);
  if (im->opset < 1)
    return nn_error_set (err, NN_ERROR_FORMAT, "the model imports no default opset"), NULL;
  if (im->opset > 18)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "opset %lld is newer than the 18 we know",
                         (long long) im->opset), NULL;
  im->graph = nn_graph_new ();
  if (im->graph == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  if (!add_constants_and_input (im, err) || !translate_graph (im, err))
    return NULL;
  const NnShape out = im->graph->nodes[nn_graph_output (im->graph)].shape;
  if (nn_shape_size (out) > (1 << 20))
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "the output has %zu values, too many for "
                         "class scores", nn_shape_size (out)), NULL;
  NnModel *model = nn_model_new (im->graph, "");
  if (model == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
  im->graph = NULL;
  set_norm (model, im->model, im->options);
  snprintf (model->dataset, sizeof model->dataset, "imported from ONNX (%.100s %.60s, opset "
            "%lld)", im->model->producer_name ? im->model->producer_name : "unknown producer",
            im->model->producer_version ? im->model->producer_version : "",
            (long long) im->opset);
  return model;
}

NnModel *
nn_onnx_load (const char          *path,
              const NnOnnxOptions *options,
              NnError             *err)
{
  NN_ASSERT (path != NULL);
  NnOnnxImporter im = { .path = path, .options = options };
  const char *slash = strrchr (path, '/');
  size_t dlen = slash != NULL ? (size_t) (slash - path) : 1;
  im.dir = malloc (dlen + 1);
  if (im.dir == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
      return NULL;
    }
  if (slash != NULL)
    memcpy (im.dir, path, dlen);
  else
    im.dir[0] = '.';
  im.dir[dlen] = '\0';
  if (slash == path)
    snprintf (im.dir, dlen + 1, "/");

  NnModel *model = import (&im, err);
  if (model == NULL)
    nn_error_prefix (err, "%s", path);
  for (int k = 0; k < im.n_values; k++)
    value_clear (&im.values[k]);
  free (im.values);
  map_clear (&im.value_map);
  map_clear (&im.producer);
  free (im.consumers);
  free (im.first_use);
  free (im.fused);
  free (im.dir);
  nn_graph_free (im.graph);
  if (im.model != NULL)
    onnx__model_proto__free_unpacked (im.model, NULL);
  return model;
}
