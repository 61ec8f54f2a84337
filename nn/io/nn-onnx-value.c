/* SPDX-License-Identifier: MIT */
/* What every part of the ONNX importer uses: the string -> index map, the values of the graph
 * (constants and run-time tensors), decoding a TensorProto (inline, raw or external data), a
 * node's attributes, its error messages and the name its layer gets. */
#include "io/nn-onnx-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/nn-file.h"
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

bool
nn_onnx_map_put (NnOnnxMap  *map,
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

void
nn_onnx_map_clear (NnOnnxMap *map)
{
  free (map->keys);
  free (map->vals);
  memset (map, 0, sizeof *map);
}

/* Values. */

static bool initializer_read (NnOnnxImporter *im,
                              NnOnnxValue    *value,
                              NnError        *err);

NnOnnxValue *
nn_onnx_value_find (NnOnnxImporter *im,
                    const char     *name)
{
  int k = nn_onnx_map_get (&im->value_map, name);
  if (k < 0)
    return NULL;
  NnOnnxValue *value = nn_onnx_value_at (im, k);
  if (value->init >= 0 && value->f == NULL && value->i == NULL)
    {
      if (im->load_failed || !initializer_read (im, value, &im->load_error))
        {
          im->load_failed = true;
          return NULL;
        }
    }
  return value;
}

NnOnnxValue *
nn_onnx_value_at (const NnOnnxImporter *im,
                  int                   k)
{
  NN_ASSERT (k >= 0 && k < im->n_values);
  return &im->value_blocks[k / NN_ONNX_VALUE_BLOCK][k % NN_ONNX_VALUE_BLOCK];
}

void
nn_onnx_values_clear (NnOnnxImporter *im)
{
  for (int k = 0; k < im->n_values; k++)
    nn_onnx_value_clear (nn_onnx_value_at (im, k));
  for (int b = 0; b < im->n_blocks; b++)
    free (im->value_blocks[b]);
  free (im->value_blocks);
  im->value_blocks = NULL;
  im->n_values = im->n_blocks = 0;
}

NnOnnxValue *
nn_onnx_value_add (NnOnnxImporter *im,
                   const char     *name,
                   NnError        *err)
{
  if (nn_onnx_map_get (&im->value_map, name) >= 0)
    return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%.200s' is defined twice", name), NULL;
  if (im->n_values == im->n_blocks * NN_ONNX_VALUE_BLOCK)
    {
      const size_t n = (size_t) im->n_blocks + 1;
      NnOnnxValue **blocks = realloc (im->value_blocks, sizeof *blocks * n);
      if (blocks == NULL)
        return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
      im->value_blocks = blocks;
      blocks[im->n_blocks] = malloc (sizeof (NnOnnxValue) * NN_ONNX_VALUE_BLOCK);
      if (blocks[im->n_blocks] == NULL)
        return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
      im->n_blocks++;
    }
  const int k = im->n_values;
  NnOnnxValue *value = &im->value_blocks[k / NN_ONNX_VALUE_BLOCK][k % NN_ONNX_VALUE_BLOCK];
  memset (value, 0, sizeof *value);
  value->name = name;
  value->node = -1;
  value->init = -1;
  if (!nn_onnx_map_put (&im->value_map, name, im->n_values))
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

void
nn_onnx_value_clear (NnOnnxValue *value)
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
  if (ndim < 1 || ndim > NN_MAX_RANK + 1)
    return false;
  int64_t w = 1;
  int sample[NN_MAX_RANK] = { 1 };
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
      sample[d - 1] = (int) dims[d];
    }
  *shape = nn_shape_of (ndim > 1 ? ndim - 1 : 1, sample);
  return true;
}

bool
nn_onnx_value_sample_shape (const NnOnnxValue *v,
                            NnShape           *shape)
{
  if (v->bax == 0)
    return nn_onnx_shape_to_nn (v->ndim, v->dims, shape);
  /* The same with a leading batch of 1 in place of the batch axis. */
  int64_t dims[NN_ONNX_MAX_RANK + 1] = { 1 };
  int nd = 1;
  for (int d = 0; d < v->ndim && nd <= NN_ONNX_MAX_RANK; d++)
    if (d != v->bax)
      dims[nd++] = v->dims[d];
  return nd <= NN_ONNX_MAX_RANK && nn_onnx_shape_to_nn (nd, dims, shape);
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

/* Reading a tensor's data. */

/* Elements converted per step when the raw bytes are not float32 in the host's order. */
#define CONVERT_CHUNK 4096

static bool
host_little_endian (void)
{
  const uint16_t one = 1;
  unsigned char first;
  memcpy (&first, &one, 1);
  return first == 1;
}

/* Converts count elements of little-endian raw data (element `first` onwards of value) into
 * value's storage. */
static void
convert_raw (NnOnnxValue   *value,
             int32_t        type,
             const uint8_t *raw,
             size_t         first,
             size_t         count)
{
  if (count == 0)
    return;   /* raw may be NULL (empty raw_data) */
  if (type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && host_little_endian ())
    {
      memcpy (value->f + first, raw, count * sizeof (float));
      return;
    }
  for (size_t k = 0; k < count; k++)
    {
      if (value->is_int)
        value->i[first + k] = raw_get_int (raw, type, k);
      else
        value->f[first + k] = raw_get_float (raw, type, k);
    }
}

/* Reads exactly size bytes at offset of fd into buf. The message says what ended or failed
 * (the caller names the tensor and the file). */
static bool
read_at (int       fd,
         void     *buf,
         size_t    size,
         uint64_t  offset,
         NnError  *err)
{
  unsigned char *p = buf;
  while (size > 0)
    {
      ssize_t n = pread (fd, p, size, (off_t) offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          char buf_text[128];
          return nn_error_set (err, NN_ERROR_IO, "cannot read: %s",
                               nn_model_errno_text (errno, buf_text, sizeof buf_text));
        }
      if (n == 0)
        return nn_error_set (err, NN_ERROR_FORMAT, "the file ends early (did it change while "
                             "loading?)");
      p += n;
      size -= (size_t) n;
      offset += (uint64_t) n;
    }
  return true;
}

/* Reads value->count elements of raw data at offset of fd into value's storage: float32
 * straight into it, other types through a small buffer. */
static bool
read_raw (NnOnnxValue *value,
          int32_t      type,
          int          fd,
          uint64_t     offset,
          NnError     *err)
{
  const size_t esize = element_size (type);
  if (type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && host_little_endian ())
    return read_at (fd, value->f, value->count * sizeof (float), offset, err);
  uint8_t buf[CONVERT_CHUNK * 8];
  for (size_t first = 0; first < value->count; first += CONVERT_CHUNK)
    {
      size_t n = value->count - first < CONVERT_CHUNK ? value->count - first : CONVERT_CHUNK;
      if (!read_at (fd, buf, n * esize, offset + first * esize, err))
        return false;
      convert_raw (value, type, buf, first, n);
    }
  return true;
}

/* Where a tensor's external data is: its location (checked when opened), offset and length. */
typedef struct
{
  const char *location;
  uint64_t    offset;
  uint64_t    length;   /* UINT64_MAX when not given */
} External;

static bool
external_parse (const Onnx__TensorProto *t,
                size_t                   size,
                External                *ext,
                NnError                 *err)
{
  ext->location = NULL;
  ext->offset = 0;
  ext->length = UINT64_MAX;
  for (size_t k = 0; k < t->n_external_data; k++)
    {
      const Onnx__StringStringEntryProto *e = t->external_data[k];
      if (e->key == NULL || e->value == NULL)
        continue;
      if (strcmp (e->key, "location") == 0)
        ext->location = e->value;
      else if (strcmp (e->key, "offset") == 0)
        ext->offset = strtoull (e->value, NULL, 10);
      else if (strcmp (e->key, "length") == 0)
        ext->length = strtoull (e->value, NULL, 10);
    }
  if (ext->location == NULL || ext->location[0] == '\0')
    return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%.200s': external data without a "
                         "location", t->name);
  if (ext->length != UINT64_MAX && ext->length != size)
    return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%.200s': external data has %llu bytes, "
                         "its shape needs %zu", t->name, (unsigned long long) ext->length, size);
  return true;
}

/* Opens the external data file of t inside the model's folder (no absolute path, no "..", no
 * symbolic link) and checks that it holds size bytes at the tensor's offset, before anything of
 * that size is allocated: the descriptor (to close), with ext filled, or -1. */
static int
external_open (NnOnnxImporter          *im,
               const Onnx__TensorProto *t,
               size_t                   size,
               External                *ext,
               NnError                 *err)
{
  if (!external_parse (t, size, ext, err))
    return -1;
  int dir_fd = open (im->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    {
      char buf[128];
      return nn_error_set (err, NN_ERROR_IO, "tensor '%.200s': cannot open the model's folder "
                           "for its external data: %s", t->name,
                           nn_model_errno_text (errno, buf, sizeof buf)), -1;
    }
  uint64_t file_size = 0;
  int fd = nn_file_open_beneath (dir_fd, ext->location, &file_size, err);
  close (dir_fd);
  if (fd < 0)
    {
      nn_error_prefix (err, "tensor '%.200s': external data file cannot be opened", t->name);
      return -1;
    }
  if (ext->offset > file_size || size > file_size - ext->offset
      || ext->offset > (uint64_t) INT64_MAX)
    {
      close (fd);
      return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%.200s': external data file '%.200s' "
                           "is shorter than the %zu bytes at offset %llu", t->name,
                           ext->location, size, (unsigned long long) ext->offset), -1;
    }
  return fd;
}

/* Reads the external data of t from fd (external_open) into value's storage, and closes fd. */
static bool
external_read (int                      fd,
               const External          *ext,
               const Onnx__TensorProto *t,
               NnOnnxValue             *value,
               NnError                 *err)
{
  bool ok = read_raw (value, t->data_type, fd, ext->offset, err);
  if (!ok)
    nn_error_prefix (err, "tensor '%.200s': external data file '%.200s'", t->name,
                     ext->location);
  close (fd);
  return ok;
}

/* The checks every tensor gets before anything of its size is allocated: a known type, a
 * rank and element count in range, and as many values as the shape needs (given: the count
 * its data holds, SIZE_MAX when raw bytes are not a whole number of elements). */
static bool
tensor_check (const Onnx__TensorProto *t,
              size_t                   given,
              size_t                  *count,
              NnError                 *err)
{
  const char *name = t->name != NULL ? t->name : "";
  if (element_size (t->data_type) == 0)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "tensor '%.200s': data type %d is not "
                         "supported", name, (int) t->data_type);
  if (t->n_dims > NN_ONNX_MAX_RANK)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "tensor '%.200s': rank %zu is above %d",
                         name, t->n_dims, NN_ONNX_MAX_RANK);
  if (!count_elements ((int) t->n_dims, t->dims, count))
    return nn_error_set (err, NN_ERROR_FORMAT,
                         "tensor '%.200s': dimensions are negative or overflow", name);
  if (given != *count)
    return nn_error_set (err, NN_ERROR_FORMAT, "tensor '%.200s': holds %zu values, its shape "
                         "needs %zu", name, given == SIZE_MAX ? 0 : given, *count);
  return true;
}

static bool
is_external (const Onnx__TensorProto *t)
{
  return t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
}

static bool
is_int_type (int32_t type)
{
  return type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
         && type != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
}

/* The values held by the typed fields (float_data, int64_data, ...) of t. */
static size_t
typed_count (const Onnx__TensorProto *t)
{
  switch (t->data_type)
    {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
      return t->n_float_data;
    case ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE:
      return t->n_double_data;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
      return t->n_int64_data;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT32:
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT64:
      return t->n_uint64_data;
    default:
      return t->n_int32_data;
    }
}

/* Copies the typed fields of t into value's storage. */
static void
read_typed (const Onnx__TensorProto *t,
            NnOnnxValue             *value)
{
  const int32_t type = t->data_type;
  for (size_t k = 0; k < value->count; k++)
    {
      if (value->is_int)
        {
          int64_t v;
          if (type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
            v = t->int64_data[k];
          else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT32
                   || type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT64)
            v = t->uint64_data[k] > (uint64_t) INT64_MAX ? INT64_MAX
                                                          : (int64_t) t->uint64_data[k];
          else
            v = t->int32_data[k];
          value->i[k] = v;
        }
      else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        value->f[k] = t->float_data[k];
      else
        value->f[k] = (float) t->double_data[k];
    }
}

bool
nn_onnx_tensor_decode (NnOnnxImporter          *im,
                       const Onnx__TensorProto *t,
                       NnOnnxValue             *value,
                       NnError                 *err)
{
  const char *name = t->name != NULL ? t->name : "";
  const int32_t type = t->data_type;
  const size_t esize = element_size (type);
  size_t given, n;
  if (is_external (t))
    {
      if (im == NULL)
        return nn_error_set (err, NN_ERROR_UNSUPPORTED, "tensor '%.200s': external data is "
                             "not supported here", name);
      if (!count_elements ((int) t->n_dims, t->dims, &given) || given > SIZE_MAX / 8)
        given = SIZE_MAX;
    }
  else if (t->has_raw_data)
    given = esize != 0 && t->raw_data.len % esize == 0 ? t->raw_data.len / esize : SIZE_MAX;
  else
    given = typed_count (t);
  if (!tensor_check (t, given, &n, err))
    return false;
  External ext;
  int fd = is_external (t) ? external_open (im, t, n * esize, &ext, err) : -1;
  if (is_external (t) && fd < 0)
    return false;
  if (!nn_onnx_value_alloc (value, is_int_type (type), (int) t->n_dims, t->dims, err))
    {
      if (fd >= 0)
        close (fd);
      return false;
    }
  if (fd >= 0)
    return external_read (fd, &ext, t, value, err);
  if (t->has_raw_data)
    convert_raw (value, type, t->raw_data.data, 0, n);
  else
    read_typed (t, value);
  return true;
}

bool
nn_onnx_initializer_add (NnOnnxImporter          *im,
                         size_t                   k,
                         const Onnx__TensorProto *t,
                         NnError                 *err)
{
  NN_ASSERT (k < im->n_spans);
  const NnOnnxSpan *span = &im->spans[k];
  const size_t esize = element_size (t->data_type);
  size_t given = 0, n;
  if (is_external (t))
    {
      if (!count_elements ((int) t->n_dims, t->dims, &given) || given > SIZE_MAX / 8)
        given = SIZE_MAX;
    }
  else if (span->offset != 0)
    given = esize != 0 && span->length % esize == 0 ? (size_t) (span->length / esize)
                                                    : SIZE_MAX;
  else
    given = typed_count (t);
  if (!tensor_check (t, given, &n, err))
    return false;
  External ext;
  if (is_external (t) && !external_parse (t, n * esize, &ext, err))
    return false;
  NnOnnxValue *value = nn_onnx_value_add (im, t->name, err);
  if (value == NULL)
    return false;
  /* The shape now, the data on first use. */
  value->is_const = true;
  value->is_int = is_int_type (t->data_type);
  value->ndim = (int) t->n_dims;
  if (t->n_dims > 0)
    memcpy (value->dims, t->dims, sizeof (int64_t) * t->n_dims);
  value->count = n;
  value->init = (int) k;
  if (is_external (t) || span->offset != 0)
    im->bytes_total += (uint64_t) n * esize;
  return true;
}

/* Reads initializer value->init into value's storage. */
static bool
initializer_read (NnOnnxImporter *im,
                  NnOnnxValue    *value,
                  NnError        *err)
{
  const Onnx__TensorProto *t = im->model->graph->initializer[value->init];
  const NnOnnxSpan *span = &im->spans[value->init];
  const size_t bytes = value->count * element_size (t->data_type);
  External ext;
  int fd = is_external (t) ? external_open (im, t, bytes, &ext, err) : -1;
  if (is_external (t) && fd < 0)
    return false;
  /* Not zeroed: every element is written below. */
  const size_t need = (value->count ? value->count : 1)
                      * (value->is_int ? sizeof (int64_t) : sizeof (float));
  void *buf = NULL;
  if (im->spare != NULL && im->spare_bytes >= need)
    {
      buf = im->spare;
      value->bytes = im->spare_bytes;
      im->spare = NULL;
      im->spare_bytes = 0;
    }
  else if ((buf = malloc (need)) == NULL)
    {
      if (fd >= 0)
        close (fd);
      return nn_error_set (err, NN_ERROR_NOMEM, "tensor '%.200s': out of memory", value->name);
    }
  else
    value->bytes = need;
  if (value->is_int)
    value->i = buf;
  else
    value->f = buf;
  bool ok = true;
  if (fd >= 0)
    ok = external_read (fd, &ext, t, value, err);
  else if (span->offset != 0)
    {
      ok = read_raw (value, t->data_type, im->fd, span->offset, err);
      if (!ok)
        nn_error_prefix (err, "tensor '%.200s'", value->name);
    }
  else
    read_typed (t, value);
  if (!ok)
    {
      nn_onnx_value_clear (value);
      return false;
    }
  if (is_external (t) || span->offset != 0)
    im->bytes_done += bytes;
  return nn_onnx_progress (im, err);
}

void
nn_onnx_initializer_release (NnOnnxImporter *im,
                             NnOnnxValue    *value)
{
  if (value->init < 0)
    return;
  void *buf = value->is_int ? (void *) value->i : (void *) value->f;
  if (buf != NULL && value->bytes > im->spare_bytes)
    {
      free (im->spare);
      im->spare = buf;
      im->spare_bytes = value->bytes;
      value->f = NULL;
      value->i = NULL;
    }
  nn_onnx_value_clear (value);
}

bool
nn_onnx_progress (NnOnnxImporter *im,
                  NnError        *err)
{
  const NnLoadControl *control = im->options != NULL ? im->options->control : NULL;
  if (control == NULL)
    return true;
  if (control->cancel != NULL && atomic_load (control->cancel) != 0)
    return nn_error_set (err, NN_ERROR_CANCELLED, "loading was cancelled");
  const uint64_t total = im->bytes_total ? im->bytes_total : 1;
  const uint64_t done = im->bytes_done < total ? im->bytes_done : total;
  const int permille = (int) (done * 1000 / total);
  if (control->progress != NULL && permille > im->reported)
    {
      im->reported = permille;
      control->progress ((double) done / (double) total, control->user_data);
    }
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
      /* PyTorch scopes: "/layer4/layer4.0/downsample/downsample.0/Conv". Each component
       * either extends the last component of the path so far ("downsample.0" after
       * "downsample", replacing it) or names a child ("downsample"); the last one is the op. */
      const char *last = strrchr (name, '/') + 1;
      const char *p = name + 1;
      size_t len = 0;
      size_t start = 0; /* where the path's last component begins in base */
      while (p < last)
        {
          const char *end = strchr (p, '/');
          size_t n = (size_t) (end - p);
          if (n > 0)
            {
              size_t tail = len - start;
              if (len > 0 && n > tail && strncmp (p, base + start, tail) == 0 && p[tail] == '.')
                len = start;
              else if (len > 0 && len + 1 < sizeof base)
                base[len++] = '.';
              start = len;
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

/* Attributes. */

const Onnx__AttributeProto *
nn_onnx_attr (const NnOnnxNode *node,
              const char       *name)
{
  for (size_t k = 0; k < node->proto->n_attribute; k++)
    {
      const Onnx__AttributeProto *a = node->proto->attribute[k];
      if (a->name != NULL && strcmp (a->name, name) == 0)
        return a;
    }
  return NULL;
}

int64_t
nn_onnx_attr_int (const NnOnnxNode *node,
                  const char       *name,
                  int64_t           fallback)
{
  const Onnx__AttributeProto *a = nn_onnx_attr (node, name);
  return a != NULL && a->has_i ? a->i : fallback;
}

float
nn_onnx_attr_float (const NnOnnxNode *node,
                    const char       *name,
                    float             fallback)
{
  const Onnx__AttributeProto *a = nn_onnx_attr (node, name);
  return a != NULL && a->has_f ? a->f : fallback;
}
