/* SPDX-License-Identifier: MIT */
/* Constant folding for the ONNX importer: nodes whose inputs are all known when the graph is
 * read (Constant, the Shape -> Gather -> Unsqueeze -> Concat arithmetic that computes constant
 * shapes, casts, broadcasting +-x/, Mod, Min, Max, Equal, Where and Expand on small tensors)
 * are evaluated once into constants. */
#include "io/nn-onnx-private.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static NnOnnxValue *
new_output (NnOnnxImporter *im,
            NnOnnxNode     *n,
            bool            is_int,
            int             ndim,
            const int64_t  *dims,
            NnError        *err)
{
  if (n->proto->n_output < 1 || n->proto->output[0] == NULL || n->proto->output[0][0] == '\0')
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "no output"), NULL;
  int64_t count = 1;
  for (int d = 0; d < ndim; d++)
    {
      if (dims[d] < 0 || dims[d] > NN_ONNX_MAX_FOLDED)
        count = NN_ONNX_MAX_FOLDED + 1;
      else
        count *= dims[d];
      if (count > NN_ONNX_MAX_FOLDED)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "a constant of more than %d values "
                                  "or a negative dimension", NN_ONNX_MAX_FOLDED), NULL;
    }
  NnOnnxValue *v = nn_onnx_value_add (im, n->proto->output[0], err);
  if (v == NULL || !nn_onnx_value_alloc (v, is_int, ndim, dims, err))
    {
      nn_error_prefix (err, "node '%.120s'", n->proto->name ? n->proto->name : "");
      return NULL;
    }
  return v;
}

static void
set_elem (NnOnnxValue *v,
          size_t       k,
          double       x)
{
  if (v->is_int)
    v->i[k] = isfinite (x) && fabs (x) < 9.2e18 ? (int64_t) x : 0;
  else
    v->f[k] = (float) x;
}

/* A copy of `src` with another shape (Identity, Reshape, Squeeze, Unsqueeze, Flatten). */
static bool
fold_reshape (NnOnnxImporter    *im,
              NnOnnxNode        *n,
              const NnOnnxValue *src,
              int                ndim,
              const int64_t     *dims,
              NnError           *err)
{
  NnOnnxValue *v = new_output (im, n, src->is_int, ndim, dims, err);
  if (v == NULL)
    return false;
  if (v->count != src->count)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "%zu values cannot take a shape of %zu",
                              src->count, v->count);
  if (src->is_int)
    memcpy (v->i, src->i, sizeof (int64_t) * src->count);
  else
    memcpy (v->f, src->f, sizeof (float) * src->count);
  return true;
}

/* Reads an integer list from a constant input or an ints attribute. */
static bool
int_list (const NnOnnxNode *n,
          int               input,
          const char       *attr,
          int64_t          *out,
          int              *count,
          NnError          *err)
{
  *count = -1;
  if (input >= 0 && input < n->n_in && n->in[input] != NULL)
    {
      const NnOnnxValue *v = n->in[input];
      if (!v->is_const || v->ndim > 1 || v->count > NN_ONNX_MAX_RANK)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED,
                                  "input %d must be a short constant list", input);
      for (size_t k = 0; k < v->count; k++)
        out[k] = nn_onnx_value_get_int (v, k);
      *count = (int) v->count;
      return true;
    }
  const Onnx__AttributeProto *a = attr ? nn_onnx_attr (n, attr) : NULL;
  if (a != NULL)
    {
      if (a->n_ints > NN_ONNX_MAX_RANK)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "attribute '%s' is too long",
                                  attr);
      /* An empty list has no array (ints is NULL). */
      if (a->n_ints > 0)
        memcpy (out, a->ints, sizeof (int64_t) * a->n_ints);
      *count = (int) a->n_ints;
    }
  return true;
}

/* Normalizes a possibly negative axis for a rank; false when out of range. */
static bool
norm_axis (int64_t *axis,
           int      rank)
{
  if (*axis < 0)
    *axis += rank;
  return *axis >= 0 && *axis < rank;
}

bool
nn_onnx_reshape_dims (const NnOnnxNode *n,
                      const int64_t    *in_dims,
                      int               in_ndim,
                      size_t            count,
                      const int64_t    *shape,
                      int               ndim,
                      bool              allowzero,
                      int64_t          *out,
                      NnError          *err)
{
  int infer = -1;
  int64_t known = 1;
  for (int d = 0; d < ndim; d++)
    {
      out[d] = shape[d];
      if (shape[d] == 0 && !allowzero)
        {
          if (d >= in_ndim)
            return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "shape copies dimension %d of a "
                                      "rank-%d tensor", d, in_ndim);
          out[d] = in_dims[d];
        }
      if (out[d] == -1)
        {
          if (infer >= 0)
            return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "shape has two -1 entries");
          infer = d;
          continue;
        }
      if (out[d] < 0 || out[d] > NN_ONNX_MAX_ELEMS
          || (out[d] > 0 && known > NN_ONNX_MAX_ELEMS / out[d]))
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "shape entry %lld out of range",
                                  (long long) out[d]);
      known *= out[d];
    }
  if (infer >= 0)
    {
      if (known == 0 || count % (size_t) known != 0)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "cannot infer the -1 entry");
      out[infer] = (int64_t) count / known;
      known *= out[infer];
    }
  if ((size_t) known != count)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "%zu values cannot take the target shape",
                              count);
  return true;
}

/* The broadcast shape of the n values (NumPy rules) into dims; false when they do not
 * broadcast. */
static bool
broadcast_shape (const NnOnnxValue *const *v,
                 int                       n,
                 int64_t                  *dims,
                 int                      *ndim)
{
  *ndim = 0;
  for (int k = 0; k < n; k++)
    *ndim = v[k]->ndim > *ndim ? v[k]->ndim : *ndim;
  for (int d = 0; d < *ndim; d++)
    {
      dims[d] = 1;
      for (int k = 0; k < n; k++)
        {
          const int dk = d - (*ndim - v[k]->ndim);
          const int64_t x = dk >= 0 ? v[k]->dims[dk] : 1;
          if (x != 1 && dims[d] != 1 && x != dims[d])
            return false;
          dims[d] = x == 1 ? dims[d] : x;
        }
    }
  return true;
}

/* The index in v of element k of a tensor of the broadcast shape (ndim, dims). */
static size_t
broadcast_index (const NnOnnxValue *v,
                 size_t             k,
                 int                ndim,
                 const int64_t     *dims)
{
  size_t rem = k, iv = 0, sv = 1;
  for (int d = ndim - 1; d >= 0; d--)
    {
      const size_t idx = rem % (size_t) dims[d];
      rem /= (size_t) dims[d];
      const int dv = d - (ndim - v->ndim);
      if (dv >= 0)
        {
          if (v->dims[dv] != 1)
            iv += idx * sv;
          sv *= (size_t) v->dims[dv];
        }
    }
  return iv;
}

/* x op y of two integers: wrapping (unsigned) arithmetic keeps a hostile file from overflowing
 * a signed integer; modulo takes the sign of the divisor unless fmod. */
static bool
int_op (char     op,
        int64_t  x,
        int64_t  y,
        bool     fmod_sign,
        int64_t *out)
{
  const uint64_t ux = (uint64_t) x, uy = (uint64_t) y;
  switch (op)
    {
    case '+':
      *out = (int64_t) (ux + uy);
      return true;
    case '-':
      *out = (int64_t) (ux - uy);
      return true;
    case '*':
      *out = (int64_t) (ux * uy);
      return true;
    case '=':
      *out = x == y;
      return true;
    case '<':
      *out = x < y ? x : y;
      return true;
    case '>':
      *out = x > y ? x : y;
      return true;
    case '^':
      {
        uint64_t r = 1;
        for (int64_t k = 0; k < y && k < 64; k++)
          r *= ux;
        *out = y < 0 ? 0 : (int64_t) r;
        return true;
      }
    default:
      break;
    }
  if (y == 0 || (x == INT64_MIN && y == -1))
    return false;
  if (op == '/')
    *out = x / y;
  else
    {
      int64_t r = x % y;
      if (!fmod_sign && r != 0 && ((r < 0) != (y < 0)))
        r += y;
      *out = r;
    }
  return true;
}

static float
float_op (char  op,
          float x,
          float y)
{
  switch (op)
    {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return x / y;
    case '=':
      return x == y ? 1.0f : 0.0f;
    case '<':
      return x < y ? x : y;
    case '>':
      return x > y ? x : y;
    case '^':
      return powf (x, y);
    default:
      {
        /* Mod of floats is fmod (the attribute fmod is 1 for them). */
        return fmodf (x, y);
      }
    }
}

/* Add, Sub, Mul, Div, Mod, Min, Max, Equal and Pow with broadcasting ('+', '-', '*', '/', '%',
 * '<', '>', '=', '^'); Equal gives an integer 0 or 1 (a bool). */
static bool
fold_binary (NnOnnxImporter *im,
             NnOnnxNode     *n,
             char            op,
             NnError        *err)
{
  const NnOnnxValue *a = n->in[0], *b = n->in[1];
  const NnOnnxValue *both[2] = { a, b };
  int ndim;
  int64_t dims[NN_ONNX_MAX_RANK];
  if (!broadcast_shape (both, 2, dims, &ndim))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "shapes do not broadcast");
  const bool ints = a->is_int && b->is_int;
  NnOnnxValue *v = new_output (im, n, ints || op == '=', ndim, dims, err);
  if (v == NULL)
    return false;
  const bool fmod_sign = nn_onnx_attr_int (n, "fmod", 0) != 0;
  for (size_t k = 0; k < v->count; k++)
    {
      const size_t ia = broadcast_index (a, k, ndim, dims), ib = broadcast_index (b, k, ndim, dims);
      if (ints)
        {
          if (!int_op (op, a->i[ia], b->i[ib], fmod_sign, &v->i[k]))
            return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "integer division by zero or "
                                      "overflow");
        }
      else
        {
          const float r = float_op (op, (float) nn_onnx_value_get (a, ia),
                                    (float) nn_onnx_value_get (b, ib));
          set_elem (v, k, (double) r);
        }
    }
  return true;
}

/* Where (cond ? x : y) with broadcasting. */
static bool
fold_where (NnOnnxImporter *im,
            NnOnnxNode     *n,
            NnError        *err)
{
  if (n->n_in != 3 || n->in[1] == NULL || n->in[2] == NULL)
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "needs three inputs");
  const NnOnnxValue *c = n->in[0], *x = n->in[1], *y = n->in[2];
  const NnOnnxValue *all[3] = { c, x, y };
  int ndim;
  int64_t dims[NN_ONNX_MAX_RANK];
  if (!broadcast_shape (all, 3, dims, &ndim))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "shapes do not broadcast");
  NnOnnxValue *v = new_output (im, n, x->is_int && y->is_int, ndim, dims, err);
  if (v == NULL)
    return false;
  for (size_t k = 0; k < v->count; k++)
    {
      const bool pick = nn_onnx_value_get (c, broadcast_index (c, k, ndim, dims)) != 0.0;
      const NnOnnxValue *src = pick ? x : y;
      const size_t i = broadcast_index (src, k, ndim, dims);
      if (v->is_int)
        v->i[k] = src->i[i];
      else
        v->f[k] = (float) nn_onnx_value_get (src, i);
    }
  return true;
}

/* Expand: x broadcast to (x's shape broadcast with) a constant shape. */
static bool
fold_expand (NnOnnxImporter    *im,
             NnOnnxNode        *n,
             const NnOnnxValue *x,
             NnError           *err)
{
  const NnOnnxValue *s = n->in[1];
  if (s->ndim != 1 || s->count > NN_ONNX_MAX_RANK || !s->is_int)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "the shape is not a short integer list");
  NnOnnxValue shape = { .ndim = (int) s->count };
  for (size_t k = 0; k < s->count; k++)
    shape.dims[k] = s->i[k];
  const NnOnnxValue *both[2] = { x, &shape };
  int ndim;
  int64_t dims[NN_ONNX_MAX_RANK];
  if (!broadcast_shape (both, 2, dims, &ndim))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "shapes do not broadcast");
  NnOnnxValue *v = new_output (im, n, x->is_int, ndim, dims, err);
  if (v == NULL)
    return false;
  for (size_t k = 0; k < v->count; k++)
    {
      const size_t i = broadcast_index (x, k, ndim, dims);
      if (v->is_int)
        v->i[k] = x->i[i];
      else
        v->f[k] = x->f[i];
    }
  return true;
}

static bool
fold_gather (NnOnnxImporter *im,
             NnOnnxNode     *n,
             NnError        *err)
{
  const NnOnnxValue *data = n->in[0], *ind = n->in[1];
  int64_t axis = nn_onnx_attr_int (n, "axis", 0);
  if (!norm_axis (&axis, data->ndim))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "axis out of range");
  int ndim = data->ndim - 1 + ind->ndim;
  if (ndim > NN_ONNX_MAX_RANK)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "result rank too high");
  int64_t dims[NN_ONNX_MAX_RANK];
  int nd = 0;
  for (int d = 0; d < axis; d++)
    dims[nd++] = data->dims[d];
  for (int d = 0; d < ind->ndim; d++)
    dims[nd++] = ind->dims[d];
  for (int d = (int) axis + 1; d < data->ndim; d++)
    dims[nd++] = data->dims[d];
  NnOnnxValue *v = new_output (im, n, data->is_int, ndim, dims, err);
  if (v == NULL)
    return false;
  size_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++)
    outer *= (size_t) data->dims[d];
  for (int d = (int) axis + 1; d < data->ndim; d++)
    inner *= (size_t) data->dims[d];
  const int64_t len = data->dims[axis];
  size_t k = 0;
  for (size_t o = 0; o < outer; o++)
    for (size_t j = 0; j < ind->count; j++)
      {
        int64_t idx = nn_onnx_value_get_int (ind, j);
        if (idx < 0)
          idx += len;
        if (idx < 0 || idx >= len)
          return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "index %lld out of range",
                                    (long long) nn_onnx_value_get_int (ind, j));
        for (size_t i = 0; i < inner; i++)
          set_elem (v, k++,
                    nn_onnx_value_get (data, (o * (size_t) len + (size_t) idx) * inner + i));
      }
  return true;
}

static bool
fold_concat (NnOnnxImporter *im,
             NnOnnxNode     *n,
             NnError        *err)
{
  const NnOnnxValue *first = n->in[0];
  int64_t axis = nn_onnx_attr_int (n, "axis", 0);
  if (!norm_axis (&axis, first->ndim))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "axis out of range");
  int64_t dims[NN_ONNX_MAX_RANK];
  memcpy (dims, first->dims, sizeof dims);
  bool is_int = true;
  dims[axis] = 0;
  for (int k = 0; k < n->n_in; k++)
    {
      const NnOnnxValue *v = n->in[k];
      if (v == NULL || v->ndim != first->ndim)
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "inputs differ in rank");
      for (int d = 0; d < v->ndim; d++)
        if (d != axis && v->dims[d] != first->dims[d])
          return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "inputs differ in shape");
      dims[axis] += v->dims[axis];
      is_int = is_int && v->is_int;
    }
  NnOnnxValue *out = new_output (im, n, is_int, first->ndim, dims, err);
  if (out == NULL)
    return false;
  size_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++)
    outer *= (size_t) dims[d];
  for (int d = (int) axis + 1; d < first->ndim; d++)
    inner *= (size_t) dims[d];
  size_t k = 0;
  for (size_t o = 0; o < outer; o++)
    for (int j = 0; j < n->n_in; j++)
      {
        size_t block = (size_t) n->in[j]->dims[axis] * inner;
        for (size_t i = 0; i < block; i++)
          set_elem (out, k++, nn_onnx_value_get (n->in[j], o * block + i));
      }
  return true;
}

static bool
fold_slice (NnOnnxImporter *im,
            NnOnnxNode     *n,
            NnError        *err)
{
  const NnOnnxValue *data = n->in[0];
  int64_t starts[NN_ONNX_MAX_RANK], ends[NN_ONNX_MAX_RANK], axes[NN_ONNX_MAX_RANK],
          steps[NN_ONNX_MAX_RANK];
  int ns, ne, na, nst;
  if (!int_list (n, 1, "starts", starts, &ns, err) || !int_list (n, 2, "ends", ends, &ne, err)
      || !int_list (n, 3, "axes", axes, &na, err) || !int_list (n, 4, NULL, steps, &nst, err))
    return false;
  if (ns < 0 || ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "starts, ends, axes and steps disagree");
  int64_t lo[NN_ONNX_MAX_RANK], step[NN_ONNX_MAX_RANK], dims[NN_ONNX_MAX_RANK];
  for (int d = 0; d < data->ndim; d++)
    {
      lo[d] = 0;
      step[d] = 1;
      dims[d] = data->dims[d];
    }
  for (int k = 0; k < ns; k++)
    {
      int64_t axis = na >= 0 ? axes[k] : k;
      int64_t s = nst >= 0 ? steps[k] : 1;
      if (!norm_axis (&axis, data->ndim) || s == 0 || s < -NN_ONNX_MAX_ELEMS)
        return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "axis out of range or step 0");
      int64_t len = data->dims[axis], b = starts[k], e = ends[k];
      if (s > 0)
        {
          b = b < 0 ? (b < -len ? 0 : b + len) : (b > len ? len : b);
          e = e < 0 ? (e < -len ? 0 : e + len) : (e > len ? len : e);
          dims[axis] = e > b ? (e - b - 1) / s + 1 : 0;
        }
      else
        {
          /* Backwards: start within [0, len - 1], end within [-1, len - 1]. */
          b = b < 0 ? (b < -len ? -1 : b + len) : (b > len - 1 ? len - 1 : b);
          e = e < 0 ? (e < -len ? -1 : e + len) : (e > len - 1 ? len - 1 : e);
          dims[axis] = b > e ? (b - e - 1) / -s + 1 : 0;
        }
      lo[axis] = b;
      step[axis] = s;
    }
  NnOnnxValue *v = new_output (im, n, data->is_int, data->ndim, dims, err);
  if (v == NULL)
    return false;
  for (size_t k = 0; k < v->count; k++)
    {
      size_t rem = k, src = 0, stride = 1;
      for (int d = data->ndim - 1; d >= 0; d--)
        {
          size_t idx = rem % (size_t) dims[d];
          rem /= (size_t) dims[d];
          src += (size_t) (lo[d] + (int64_t) idx * step[d]) * stride;  /* within [0, len) */
          stride *= (size_t) data->dims[d];
        }
      set_elem (v, k, nn_onnx_value_get (data, src));
    }
  return true;
}

/* Range (start, limit, delta): the 1-D sequence, at most NN_ONNX_MAX_FOLDED values. */
static bool
fold_range (NnOnnxImporter *im,
            NnOnnxNode     *n,
            NnError        *err)
{
  if (n->n_in != 3 || n->in[1] == NULL || n->in[2] == NULL)
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "needs three inputs");
  const NnOnnxValue *s = n->in[0], *l = n->in[1], *d = n->in[2];
  if (s->count != 1 || l->count != 1 || d->count != 1)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "start, limit and delta must be scalars");
  const double start = nn_onnx_value_get (s, 0), limit = nn_onnx_value_get (l, 0),
               delta = nn_onnx_value_get (d, 0);
  const double count = delta != 0.0 ? ceil ((limit - start) / delta) : -1.0;
  if (!(count >= 0.0 && count <= NN_ONNX_MAX_FOLDED))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "a range of %g values", count);
  const int64_t dims[1] = { (int64_t) count };
  NnOnnxValue *v = new_output (im, n, s->is_int, 1, dims, err);
  if (v == NULL)
    return false;
  for (size_t k = 0; k < v->count; k++)
    set_elem (v, k, start + (double) k * delta);
  return true;
}

/* Not of booleans (integers 0 or 1). */
static bool
fold_not (NnOnnxImporter    *im,
          NnOnnxNode        *n,
          const NnOnnxValue *x,
          NnError           *err)
{
  NnOnnxValue *v = new_output (im, n, true, x->ndim, x->dims, err);
  if (v == NULL)
    return false;
  for (size_t k = 0; k < v->count; k++)
    v->i[k] = nn_onnx_value_get (x, k) == 0.0;
  return true;
}

/* ScatterND without reduction: data with the slices that indices (..., q) name replaced by
 * updates. */
static bool
fold_scatter_nd (NnOnnxImporter    *im,
                 NnOnnxNode        *n,
                 const NnOnnxValue *data,
                 NnError           *err)
{
  if (n->n_in != 3 || n->in[1] == NULL || n->in[2] == NULL)
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "needs three inputs");
  const NnOnnxValue *idx = n->in[1], *up = n->in[2];
  const Onnx__AttributeProto *r = nn_onnx_attr (n, "reduction");
  if (r != NULL && r->has_s && !(r->s.len == 4 && memcmp (r->s.data, "none", 4) == 0))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "a reduction is not supported");
  const int q = idx->ndim > 0 ? (int) idx->dims[idx->ndim - 1] : 0;
  if (!idx->is_int || idx->ndim < 1 || q < 1 || q > data->ndim
      || up->ndim != idx->ndim - 1 + data->ndim - q)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "indices and updates do not fit the data");
  size_t slice = 1;
  for (int d = q; d < data->ndim; d++)
    slice *= (size_t) data->dims[d];
  const size_t n_idx = idx->count / (size_t) q;
  if (up->count != n_idx * slice)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "updates hold %zu values, not %zu",
                              up->count, n_idx * slice);
  NnOnnxValue *v = new_output (im, n, data->is_int, data->ndim, data->dims, err);
  if (v == NULL)
    return false;
  for (size_t k = 0; k < v->count; k++)
    set_elem (v, k, nn_onnx_value_get (data, k));
  for (size_t j = 0; j < n_idx; j++)
    {
      size_t at = 0;
      for (int d = 0; d < q; d++)
        {
          int64_t i = idx->i[j * (size_t) q + (size_t) d];
          i = i < 0 ? i + data->dims[d] : i;
          if (i < 0 || i >= data->dims[d])
            return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "index %lld out of range",
                                      (long long) idx->i[j * (size_t) q + (size_t) d]);
          at = at * (size_t) data->dims[d] + (size_t) i;
        }
      for (size_t e = 0; e < slice; e++)
        set_elem (v, at * slice + e, nn_onnx_value_get (up, j * slice + e));
    }
  return true;
}

/* Transpose (perm, reversed by default). */
static bool
fold_transpose (NnOnnxImporter    *im,
                NnOnnxNode        *n,
                const NnOnnxValue *x,
                NnError           *err)
{
  int64_t perm[NN_ONNX_MAX_RANK], dims[NN_ONNX_MAX_RANK];
  const Onnx__AttributeProto *a = nn_onnx_attr (n, "perm");
  if (a != NULL && (int) a->n_ints != x->ndim)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "perm does not fit the rank");
  bool seen[NN_ONNX_MAX_RANK] = { false };
  for (int d = 0; d < x->ndim; d++)
    {
      perm[d] = a != NULL ? a->ints[d] : x->ndim - 1 - d;
      if (perm[d] < 0 || perm[d] >= x->ndim || seen[perm[d]])
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "perm is not a permutation");
      seen[perm[d]] = true;
      dims[d] = x->dims[perm[d]];
    }
  NnOnnxValue *v = new_output (im, n, x->is_int, x->ndim, dims, err);
  if (v == NULL)
    return false;
  size_t stride[NN_ONNX_MAX_RANK];
  for (int d = x->ndim - 1, s = 1; d >= 0; d--)
    {
      stride[d] = (size_t) s;
      s *= (int) x->dims[d];
    }
  for (size_t k = 0; k < v->count; k++)
    {
      size_t rem = k, src = 0;
      for (int d = x->ndim - 1; d >= 0; d--)
        {
          src += rem % (size_t) dims[d] * stride[perm[d]];
          rem /= (size_t) dims[d];
        }
      if (v->is_int)
        v->i[k] = x->i[src];
      else
        v->f[k] = x->f[src];
    }
  return true;
}

/* Constant: a tensor, or one or several floats or integers. */
static bool
fold_constant (NnOnnxImporter *im,
               NnOnnxNode     *n,
               NnError        *err)
{
  const Onnx__AttributeProto *a = nn_onnx_attr (n, "value");
  if (a != NULL && a->t != NULL)
    {
      NnOnnxValue *v = nn_onnx_value_add (im, n->proto->output[0], err);
      return v != NULL && nn_onnx_tensor_decode (im, a->t, v, err);
    }
  const Onnx__AttributeProto *vf = nn_onnx_attr (n, "value_float");
  const Onnx__AttributeProto *vfs = nn_onnx_attr (n, "value_floats");
  const Onnx__AttributeProto *vi = nn_onnx_attr (n, "value_int");
  const Onnx__AttributeProto *vis = nn_onnx_attr (n, "value_ints");
  int64_t len = vfs ? (int64_t) vfs->n_floats : vis ? (int64_t) vis->n_ints : 0;
  if (!(vf || vfs || vi || vis))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "no supported value attribute");
  NnOnnxValue *v = new_output (im, n, vi || vis, vf || vi ? 0 : 1, &len, err);
  if (v == NULL)
    return false;
  for (size_t k = 0; k < v->count; k++)
    {
      if (vf)
        v->f[k] = vf->f;
      else if (vfs)
        v->f[k] = vfs->floats[k];
      else if (vi)
        v->i[k] = vi->i;
      else
        v->i[k] = vis->ints[k];
    }
  return true;
}

static bool
fold_cast (NnOnnxImporter    *im,
           NnOnnxNode        *n,
           const NnOnnxValue *x,
           NnError           *err)
{
  int64_t to = nn_onnx_attr_int (n, "to", 1);
  bool is_int = to != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT
                && to != ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE
                && to != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
  NnOnnxValue *v = new_output (im, n, is_int, x->ndim, x->dims, err);
  if (v == NULL)
    return false;
  for (size_t k = 0; k < x->count; k++)
    set_elem (v, k, nn_onnx_value_get (x, k));
  return true;
}

/* Shape: dims [start, end) of the input, constant or not. */
static bool
fold_shape (NnOnnxImporter    *im,
            NnOnnxNode        *n,
            const NnOnnxValue *x,
            NnError           *err)
{
  int64_t start = nn_onnx_attr_int (n, "start", 0), end = nn_onnx_attr_int (n, "end", x->ndim);
  start = start < 0 ? start + x->ndim : start;
  end = end < 0 ? end + x->ndim : end;
  start = start < 0 ? 0 : start > x->ndim ? x->ndim : start;
  end = end < 0 ? 0 : end > x->ndim ? x->ndim : end;
  int64_t len = end > start ? end - start : 0;
  NnOnnxValue *v = new_output (im, n, true, 1, &len, err);
  if (v == NULL)
    return false;
  for (int64_t k = 0; k < len; k++)
    v->i[k] = x->dims[start + k];
  return true;
}

static bool
fold_constant_of_shape (NnOnnxImporter    *im,
                        NnOnnxNode        *n,
                        const NnOnnxValue *x,
                        NnError           *err)
{
  int64_t dims[NN_ONNX_MAX_RANK];
  if (x->count > NN_ONNX_MAX_RANK || x->ndim != 1)
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "shape input out of range");
  for (size_t k = 0; k < x->count; k++)
    dims[k] = nn_onnx_value_get_int (x, k);
  const Onnx__AttributeProto *a = nn_onnx_attr (n, "value");
  NnOnnxValue fill = { .name = "value" };
  double value = 0.0;
  bool is_int = false;
  if (a != NULL && a->t != NULL)
    {
      if (!nn_onnx_tensor_decode (im, a->t, &fill, err))
        return false;
      value = fill.count > 0 ? nn_onnx_value_get (&fill, 0) : 0.0;
      is_int = fill.is_int;
      nn_onnx_value_clear (&fill);
    }
  NnOnnxValue *v = new_output (im, n, is_int, (int) x->count, dims, err);
  if (v == NULL)
    return false;
  for (size_t k = 0; k < v->count; k++)
    set_elem (v, k, value);
  return true;
}

/* Squeeze and Unsqueeze: the axes from the input (opset 13) or the attribute. */
static bool
fold_squeeze (NnOnnxImporter    *im,
              NnOnnxNode        *n,
              const NnOnnxValue *x,
              bool               unsqueeze,
              NnError           *err)
{
  int64_t axes[NN_ONNX_MAX_RANK], dims[NN_ONNX_MAX_RANK];
  int na;
  if (!int_list (n, 1, "axes", axes, &na, err))
    return false;
  int ndim = unsqueeze ? x->ndim + (na > 0 ? na : 0) : x->ndim;
  if (ndim > NN_ONNX_MAX_RANK || (unsqueeze && na <= 0))
    return nn_onnx_node_fail (n, err, NN_ERROR_UNSUPPORTED, "axes out of range");
  bool mark[NN_ONNX_MAX_RANK] = { false };
  for (int k = 0; k < na; k++)
    {
      if (!norm_axis (&axes[k], ndim))
        return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "axis out of range");
      mark[axes[k]] = true;
    }
  int nd = 0, src = 0;
  for (int d = 0; d < ndim; d++)
    {
      if (unsqueeze)
        dims[nd++] = mark[d] ? 1 : x->dims[src++];
      else if (!(na > 0 ? mark[d] : x->dims[d] == 1))
        dims[nd++] = x->dims[d];
    }
  return fold_reshape (im, n, x, nd, dims, err);
}

static bool
fold_flatten (NnOnnxImporter    *im,
              NnOnnxNode        *n,
              const NnOnnxValue *x,
              NnError           *err)
{
  int64_t dims[2];
  int64_t axis = nn_onnx_attr_int (n, "axis", 1);
  if (axis < 0)
    axis += x->ndim;
  if (axis < 0 || axis > x->ndim)
    return nn_onnx_node_fail (n, err, NN_ERROR_SPEC, "axis out of range");
  int64_t outer = 1;
  for (int d = 0; d < axis; d++)
    outer *= x->dims[d];
  dims[0] = outer;
  dims[1] = outer > 0 ? (int64_t) x->count / outer : 0;
  return fold_reshape (im, n, x, 2, dims, err);
}

static bool
fold_reshape_op (NnOnnxImporter    *im,
                 NnOnnxNode        *n,
                 const NnOnnxValue *x,
                 NnError           *err)
{
  int64_t shape[NN_ONNX_MAX_RANK], dims[NN_ONNX_MAX_RANK];
  int ns;
  if (!int_list (n, 1, "shape", shape, &ns, err))
    return false;
  if (ns < 0)
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "no shape");
  return nn_onnx_reshape_dims (n, x->dims, x->ndim, x->count, shape, ns,
                               nn_onnx_attr_int (n, "allowzero", 0) != 0, dims, err)
         && fold_reshape (im, n, x, ns, dims, err);
}

/* The ops that need two inputs. */
static bool
has_two_inputs (const NnOnnxNode *n,
                NnError          *err)
{
  if (n->n_in != 2 || n->in[1] == NULL)
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "needs two inputs");
  return true;
}

static bool
is_op (const char *op,
       const char *name)
{
  return strcmp (op, name) == 0;
}

bool
nn_onnx_fold (NnOnnxImporter *im,
              NnOnnxNode     *n,
              bool           *handled,
              NnError        *err)
{
  const char *op = n->proto->op_type;
  const NnOnnxValue *x = n->n_in > 0 ? n->in[0] : NULL;
  *handled = true;
  if (is_op (op, "Constant"))
    return fold_constant (im, n, err);
  if (x == NULL)
    return nn_onnx_node_fail (n, err, NN_ERROR_FORMAT, "missing first input");
  if (is_op (op, "Identity") || is_op (op, "Dropout"))
    return fold_reshape (im, n, x, x->ndim, x->dims, err);
  if (is_op (op, "Cast"))
    return fold_cast (im, n, x, err);
  if (is_op (op, "Shape"))
    return fold_shape (im, n, x, err);
  if (is_op (op, "ConstantOfShape"))
    return fold_constant_of_shape (im, n, x, err);
  static const struct
  {
    const char *name;
    char        sym;
  } binary[] = {
    { "Add", '+' }, { "Sub", '-' }, { "Mul", '*' }, { "Div", '/' }, { "Mod", '%' },
    { "Min", '<' }, { "Max", '>' }, { "Equal", '=' }, { "Pow", '^' },
  };
  for (size_t k = 0; k < sizeof binary / sizeof binary[0]; k++)
    if (is_op (op, binary[k].name))
      return has_two_inputs (n, err) && fold_binary (im, n, binary[k].sym, err);
  if (is_op (op, "Where"))
    return fold_where (im, n, err);
  if (is_op (op, "Transpose"))
    return fold_transpose (im, n, x, err);
  if (is_op (op, "Range"))
    return fold_range (im, n, err);
  if (is_op (op, "Not"))
    return fold_not (im, n, x, err);
  if (is_op (op, "ScatterND"))
    return fold_scatter_nd (im, n, x, err);
  if (is_op (op, "Expand"))
    return has_two_inputs (n, err) && fold_expand (im, n, x, err);
  if (is_op (op, "Gather"))
    return has_two_inputs (n, err) && fold_gather (im, n, err);
  if (is_op (op, "Concat"))
    return fold_concat (im, n, err);
  if (is_op (op, "Slice"))
    return fold_slice (im, n, err);
  if (is_op (op, "Unsqueeze") || is_op (op, "Squeeze"))
    return fold_squeeze (im, n, x, op[0] == 'U', err);
  if (is_op (op, "Flatten"))
    return fold_flatten (im, n, x, err);
  if (is_op (op, "Reshape"))
    return fold_reshape_op (im, n, x, err);
  *handled = false;
  return true;
}
