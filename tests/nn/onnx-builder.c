/* SPDX-License-Identifier: MIT */
/* Small ONNX models built in memory for the tests (onnx-builder.h). */
#include "onnx-builder.h"

#include <string.h>

void *
onnx_builder_keep (OnnxBuilder *b,
                   void        *p)
{
  g_ptr_array_add (b->garbage, p);
  return p;
}

void
onnx_builder_init (OnnxBuilder *b,
                   int64_t      opset)
{
  memset (b, 0, sizeof *b);
  b->garbage = g_ptr_array_new_with_free_func (g_free);
  b->nodes = g_ptr_array_new ();
  b->inits = g_ptr_array_new ();
  b->inputs = g_ptr_array_new ();
  b->outputs = g_ptr_array_new ();
  onnx__model_proto__init (&b->model);
  onnx__graph_proto__init (&b->graph);
  onnx__operator_set_id_proto__init (&b->opset);
  b->opset.has_version = true;
  b->opset.version = opset;
  b->model.has_ir_version = true;
  b->model.ir_version = 8;
  b->model.producer_name = (char *) "cnnscope-test";
}

void
onnx_builder_clear (OnnxBuilder *b)
{
  g_ptr_array_unref (b->garbage);
  g_ptr_array_unref (b->nodes);
  g_ptr_array_unref (b->inits);
  g_ptr_array_unref (b->inputs);
  g_ptr_array_unref (b->outputs);
}

Onnx__TensorProto *
onnx_builder_add_init (OnnxBuilder   *b,
                       const char    *name,
                       int            ndim,
                       const int64_t *dims,
                       const float   *data,
                       size_t         n)
{
  Onnx__TensorProto *t = onnx_builder_keep (b, g_new0 (Onnx__TensorProto, 1));
  onnx__tensor_proto__init (t);
  t->name = onnx_builder_keep (b, g_strdup (name));
  t->has_data_type = true;
  t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  t->n_dims = (size_t) ndim;
  t->dims = onnx_builder_keep (b, g_memdup2 (dims, sizeof (int64_t) * (size_t) (ndim ? ndim : 1)));
  t->n_float_data = n;
  t->float_data = onnx_builder_keep (b, g_memdup2 (data, sizeof (float) * (n ? n : 1)));
  g_ptr_array_add (b->inits, t);
  return t;
}

void
onnx_builder_add_init_ints (OnnxBuilder   *b,
                            const char    *name,
                            const int64_t *values,
                            size_t         n)
{
  const bool scalar = n == 0;
  n = scalar ? 1 : n;
  Onnx__TensorProto *t = onnx_builder_keep (b, g_new0 (Onnx__TensorProto, 1));
  onnx__tensor_proto__init (t);
  t->name = onnx_builder_keep (b, g_strdup (name));
  t->has_data_type = true;
  t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
  t->n_dims = scalar ? 0 : 1;
  t->dims = onnx_builder_keep (b, g_new (int64_t, 1));
  t->dims[0] = (int64_t) n;
  t->n_int64_data = n;
  t->int64_data = onnx_builder_keep (b, g_memdup2 (values, sizeof (int64_t) * n));
  g_ptr_array_add (b->inits, t);
}

Onnx__NodeProto *
onnx_builder_add_node (OnnxBuilder       *b,
                       const char        *op,
                       const char        *name,
                       const char *const *inputs,
                       const char *const *outputs)
{
  Onnx__NodeProto *n = onnx_builder_keep (b, g_new0 (Onnx__NodeProto, 1));
  onnx__node_proto__init (n);
  n->op_type = (char *) op;
  n->name = (char *) name;
  n->n_input = g_strv_length ((char **) inputs);
  n->input = onnx_builder_keep (b, g_memdup2 (inputs, sizeof (char *) * (n->n_input + 1)));
  n->n_output = g_strv_length ((char **) outputs);
  n->output = onnx_builder_keep (b, g_memdup2 (outputs, sizeof (char *) * (n->n_output + 1)));
  g_ptr_array_add (b->nodes, n);
  return n;
}

Onnx__AttributeProto *
onnx_builder_add_attr (OnnxBuilder     *b,
                       Onnx__NodeProto *n,
                       const char      *name)
{
  Onnx__AttributeProto *a = onnx_builder_keep (b, g_new0 (Onnx__AttributeProto, 1));
  onnx__attribute_proto__init (a);
  a->name = (char *) name;
  Onnx__AttributeProto **list = onnx_builder_keep (b, g_new0 (Onnx__AttributeProto *,
                                                               n->n_attribute + 1));
  if (n->n_attribute)
    memcpy (list, n->attribute, sizeof (*list) * n->n_attribute);
  list[n->n_attribute++] = a;
  n->attribute = list;
  return a;
}

void
onnx_builder_attr_ints (OnnxBuilder     *b,
                        Onnx__NodeProto *n,
                        const char      *name,
                        const int64_t   *v,
                        size_t           count)
{
  Onnx__AttributeProto *a = onnx_builder_add_attr (b, n, name);
  a->has_type = true;
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  a->n_ints = count;
  a->ints = onnx_builder_keep (b, g_memdup2 (v, sizeof (int64_t) * count));
}

void
onnx_builder_attr_int (OnnxBuilder     *b,
                       Onnx__NodeProto *n,
                       const char      *name,
                       int64_t          v)
{
  Onnx__AttributeProto *a = onnx_builder_add_attr (b, n, name);
  a->has_type = true;
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  a->has_i = true;
  a->i = v;
}

static Onnx__ValueInfoProto *
value_info (OnnxBuilder   *b,
            const char    *name,
            int            ndim,
            const int64_t *dims)
{
  Onnx__ValueInfoProto *v = onnx_builder_keep (b, g_new0 (Onnx__ValueInfoProto, 1));
  onnx__value_info_proto__init (v);
  v->name = (char *) name;
  Onnx__TypeProto *type = onnx_builder_keep (b, g_new0 (Onnx__TypeProto, 1));
  onnx__type_proto__init (type);
  Onnx__TypeProto__Tensor *tt = onnx_builder_keep (b, g_new0 (Onnx__TypeProto__Tensor, 1));
  onnx__type_proto__tensor__init (tt);
  tt->has_elem_type = true;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  Onnx__TensorShapeProto *shape = onnx_builder_keep (b, g_new0 (Onnx__TensorShapeProto, 1));
  onnx__tensor_shape_proto__init (shape);
  shape->n_dim = (size_t) ndim;
  shape->dim = onnx_builder_keep (b, g_new0 (Onnx__TensorShapeProto__Dimension *,
                                             (gsize) ndim + 1));
  for (int d = 0; d < ndim; d++)
    {
      Onnx__TensorShapeProto__Dimension *dim
        = onnx_builder_keep (b, g_new0 (Onnx__TensorShapeProto__Dimension, 1));
      onnx__tensor_shape_proto__dimension__init (dim);
      if (dims[d] >= 0)
        {
          dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
          dim->dim_value = dims[d];
        }
      else
        {
          dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
          dim->dim_param = (char *) "dyn";
        }
      shape->dim[d] = dim;
    }
  tt->shape = shape;
  type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  type->tensor_type = tt;
  v->type = type;
  return v;
}

void
onnx_builder_add_input (OnnxBuilder   *b,
                        const char    *name,
                        int            ndim,
                        const int64_t *dims)
{
  g_ptr_array_add (b->inputs, value_info (b, name, ndim, dims));
}

void
onnx_builder_add_output (OnnxBuilder   *b,
                         const char    *name,
                         int            ndim,
                         const int64_t *dims)
{
  g_ptr_array_add (b->outputs, value_info (b, name, ndim, dims));
}

guint8 *
onnx_builder_pack (OnnxBuilder *b,
                   gsize       *size)
{
  b->graph.n_node = b->nodes->len;
  b->graph.node = (Onnx__NodeProto **) b->nodes->pdata;
  b->graph.n_initializer = b->inits->len;
  b->graph.initializer = (Onnx__TensorProto **) b->inits->pdata;
  b->graph.n_input = b->inputs->len;
  b->graph.input = (Onnx__ValueInfoProto **) b->inputs->pdata;
  b->graph.n_output = b->outputs->len;
  b->graph.output = (Onnx__ValueInfoProto **) b->outputs->pdata;
  b->graph.name = (char *) "test";
  b->model.graph = &b->graph;
  b->opsets[0] = &b->opset;
  b->model.n_opset_import = 1;
  b->model.opset_import = b->opsets;
  *size = onnx__model_proto__get_packed_size (&b->model);
  guint8 *data = g_malloc (*size);
  g_assert_cmpuint (onnx__model_proto__pack (&b->model, data), ==, *size);
  return data;
}
