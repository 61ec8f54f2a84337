/* SPDX-License-Identifier: MIT */
/* The ONNX node conformance tests of Debian's libonnx-testdata, for every op the importer
 * supports: each case's model.onnx is imported (inputs after the first bound as constants),
 * run on input_0.pb and compared with output_0.pb. Prints passed/total per op; every case the
 * importer accepts must pass, and the accepted cases must be exactly the list below. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"
#include "io/nn-onnx.h"
#include "onnx.pb-c.h"

#define NODE_DIR "/usr/share/libonnx-testdata/data/node"

static const char *const supported_ops[] = {
  "Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "PRelu", "Clip",
  "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "BatchNormalization", "MaxPool",
  "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Concat",
  "Pad", "Dropout", "Identity", "Softmax", "Constant", "Shape", "Gather", "ReduceSum",
  "ReduceMean", "ReduceMax", "Transpose", "Slice", "Erf", "Pow", "Sqrt", "LayerNormalization",
};

/* The cases the importer accepts (and which then must match the expected outputs). */
static const char *const expected_accepted[] = {
  "test_add_bcast", "test_averagepool_1d_default", "test_averagepool_2d_ceil",
  "test_averagepool_2d_default", "test_averagepool_2d_pads",
  "test_averagepool_2d_pads_count_include_pad", "test_averagepool_2d_precomputed_pads",
  "test_averagepool_2d_precomputed_pads_count_include_pad",
  "test_averagepool_2d_precomputed_same_upper", "test_averagepool_2d_precomputed_strides",
  "test_averagepool_2d_same_lower", "test_averagepool_2d_same_upper",
  "test_averagepool_2d_strides", "test_basic_conv_with_padding",
  "test_basic_conv_without_padding", "test_batchnorm_epsilon", "test_batchnorm_example",
  "test_clip", "test_clip_default_inbounds", "test_clip_default_int8_inbounds",
  "test_clip_default_int8_max", "test_clip_default_int8_min", "test_clip_default_max",
  "test_clip_default_min", "test_clip_example", "test_clip_inbounds", "test_clip_outbounds",
  "test_clip_splitbounds", "test_constant_pad", "test_conv_with_autopad_same",
  "test_conv_with_strides_and_asymmetric_padding", "test_conv_with_strides_no_padding",
  "test_conv_with_strides_padding", "test_div_bcast", "test_dropout_default",
  "test_dropout_default_old", "test_dropout_default_ratio", "test_dropout_random_old",
  "test_erf",
  "test_flatten_axis1", "test_flatten_default_axis", "test_flatten_negative_axis3",
  "test_gemm_alpha", "test_gemm_beta", "test_gemm_default_no_bias",
  "test_gemm_default_scalar_bias", "test_gemm_default_single_elem_vector_bias",
  "test_gemm_default_vector_bias", "test_gemm_default_zero_bias", "test_gemm_transposeB",
  "test_globalaveragepool", "test_globalaveragepool_precomputed", "test_hardsigmoid",
  "test_hardsigmoid_default", "test_hardsigmoid_example", "test_hardswish",
  "test_hardswish_expanded", "test_identity", "test_leakyrelu", "test_leakyrelu_default",
  "test_leakyrelu_example", "test_matmul_2d", "test_maxpool_1d_default", "test_maxpool_2d_ceil",
  "test_maxpool_2d_default", "test_maxpool_2d_pads", "test_maxpool_2d_precomputed_pads",
  "test_maxpool_2d_precomputed_same_upper", "test_maxpool_2d_precomputed_strides",
  "test_maxpool_2d_same_lower", "test_maxpool_2d_same_upper", "test_maxpool_2d_strides",
  "test_maxpool_2d_uint8", "test_mul_bcast", "test_pow_bcast_scalar", "test_prelu_broadcast",
  "test_reduce_max_do_not_keepdims_example", "test_reduce_max_do_not_keepdims_random",
  "test_reduce_max_keepdims_example", "test_reduce_max_keepdims_random",
  "test_reduce_max_negative_axes_keepdims_example",
  "test_reduce_max_negative_axes_keepdims_random", "test_reduce_mean_do_not_keepdims_example",
  "test_reduce_mean_do_not_keepdims_random", "test_reduce_mean_keepdims_example",
  "test_reduce_mean_keepdims_random", "test_reduce_mean_negative_axes_keepdims_example",
  "test_reduce_mean_negative_axes_keepdims_random", "test_reduce_sum_do_not_keepdims_example",
  "test_reduce_sum_do_not_keepdims_random", "test_reduce_sum_empty_axes_input_noop_example",
  "test_reduce_sum_empty_axes_input_noop_random", "test_reduce_sum_keepdims_example",
  "test_reduce_sum_keepdims_random", "test_reduce_sum_negative_axes_keepdims_example",
  "test_reduce_sum_negative_axes_keepdims_random", "test_relu",
  "test_reshape_extended_dims", "test_reshape_negative_dim", "test_reshape_reduced_dims",
  "test_reshape_reordered_last_dims", "test_reshape_zero_and_negative_dim",
  "test_reshape_zero_dim", "test_sigmoid", "test_sigmoid_example", "test_slice_default_axes",
  "test_slice_default_steps", "test_slice_end_out_of_bounds", "test_slice_neg",
  "test_slice_negative_axes", "test_softmax_example", "test_softmax_axis_1", "test_softmax_axis_2",
  "test_softmax_default_axis", "test_softmax_large_number", "test_softmax_negative_axis",
  "test_sqrt", "test_sqrt_example", "test_squeeze_negative_axes", "test_sub_bcast", "test_tanh",
  "test_tanh_example", "test_training_dropout_zero_ratio", "test_transpose_all_permutations_0",
  "test_transpose_all_permutations_1", "test_unsqueeze_axis_1", "test_unsqueeze_axis_2",
  "test_unsqueeze_axis_3", "test_unsqueeze_negative_axes", "test_unsqueeze_three_axes",
  "test_unsqueeze_two_axes", "test_unsqueeze_unsorted_axes",
  NULL,
};

static int
op_index (const char *op)
{
  for (size_t k = 0; k < G_N_ELEMENTS (supported_ops); k++)
    if (strcmp (supported_ops[k], op) == 0)
      return (int) k;
  return -1;
}

static bool
is_expected (const char *name)
{
  for (size_t k = 0; expected_accepted[k] != NULL; k++)
    if (strcmp (expected_accepted[k], name) == 0)
      return true;
  return false;
}

/* The op of a case: that of its last node, when every node's op is supported; else -1. */
static int
case_op (const char *model_path,
         char      **input_names,
         int        *n_inputs)
{
  gchar *data;
  gsize size;
  *n_inputs = 0;
  if (!g_file_get_contents (model_path, &data, &size, NULL))
    return -1;
  Onnx__ModelProto *m = onnx__model_proto__unpack (NULL, size, (const uint8_t *) data);
  g_free (data);
  if (m == NULL)
    return -1;
  int op = -1;
  if (m->graph != NULL && m->graph->n_node > 0)
    {
      op = op_index (m->graph->node[m->graph->n_node - 1]->op_type);
      for (size_t k = 0; k < m->graph->n_node && op >= 0; k++)
        if (op_index (m->graph->node[k]->op_type) < 0)
          op = -1;
      for (size_t k = 0; k < m->graph->n_input && k < 8; k++)
        input_names[(*n_inputs)++] = g_strdup (m->graph->input[k]->name);
    }
  onnx__model_proto__free_unpacked (m, NULL);
  return op;
}

typedef enum
{
  CASE_REJECTED,
  CASE_PASSED,
  CASE_FAILED,
} CaseResult;

static CaseResult
run_case (const char *dir,
          char      **input_names,
          int         n_inputs,
          GString    *why)
{
  NnOnnxTensor tensors[8];
  NnOnnxTensor expected;
  NnError err = { 0 };
  int n_loaded = 0;
  CaseResult result = CASE_FAILED;
  memset (&expected, 0, sizeof expected);
  for (int k = 0; k < n_inputs; k++)
    {
      gchar *path = g_strdup_printf ("%s/test_data_set_0/input_%d.pb", dir, k);
      bool ok = nn_onnx_tensor_load (path, &tensors[k], &err);
      g_free (path);
      if (!ok)
        {
          /* Sequences and optionals are not tensors: not a case for an image model. */
          g_string_assign (why, err.message);
          result = CASE_REJECTED;
          goto out;
        }
      snprintf (tensors[k].name, sizeof tensors[k].name, "%s", input_names[k]);
      n_loaded++;
    }
  gchar *out_path = g_strdup_printf ("%s/test_data_set_0/output_0.pb", dir);
  bool have_out = nn_onnx_tensor_load (out_path, &expected, &err);
  g_free (out_path);
  if (!have_out)
    {
      g_string_assign (why, err.message);
      goto out;
    }
  NnOnnxOptions options = { 0 };
  options.bind = n_loaded > 1 ? &tensors[1] : NULL;
  options.n_bind = n_loaded > 1 ? n_loaded - 1 : 0;
  gchar *model_path = g_strdup_printf ("%s/model.onnx", dir);
  NnModel *model = nn_onnx_load (model_path, &options, &err);
  g_free (model_path);
  if (model == NULL)
    {
      g_string_assign (why, err.message);
      result = CASE_REJECTED;
      goto out;
    }
  NnGraph *graph = model->graph;
  const int batch = n_loaded > 0 && tensors[0].ndim > 0 ? (int) tensors[0].dims[0] : 1;
  const size_t in_size = nn_shape_size (graph->nodes[0].shape) * (size_t) batch;
  const size_t out_size = nn_shape_size (graph->nodes[nn_graph_output (graph)].shape)
                          * (size_t) batch;
  if (n_loaded < 1 || in_size != tensors[0].count || out_size != expected.count)
    {
      g_string_printf (why, "sizes differ: input %zu vs %zu, output %zu vs %zu", in_size,
                       n_loaded > 0 ? tensors[0].count : 0, out_size, expected.count);
      nn_model_free (model);
      goto out;
    }
  NnContext *ctx = nn_context_new (graph, batch, 0, &err);
  g_assert_nonnull (ctx);
  memcpy (nn_context_input (ctx), tensors[0].data, sizeof (float) * in_size);
  nn_context_forward (ctx, -1);
  const float *got = nn_context_output (ctx, nn_graph_output (graph));
  double worst = 0.0;
  result = CASE_PASSED;
  for (size_t i = 0; i < out_size; i++)
    {
      double diff = fabs ((double) got[i] - (double) expected.data[i]);
      double tol = 1e-5 + 1e-3 * fabs ((double) expected.data[i]);
      if (!(diff <= tol))
        result = CASE_FAILED;
      worst = diff > worst ? diff : worst;
    }
  g_string_printf (why, "max abs diff %.3g", worst);
  nn_context_free (ctx);
  nn_model_free (model);
out:
  for (int k = 0; k < n_loaded; k++)
    nn_onnx_tensor_clear (&tensors[k]);
  nn_onnx_tensor_clear (&expected);
  return result;
}

/* g_ptr_array_sort passes pointers to the elements. */
static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static void
test_conformance (void)
{
  GDir *dir = g_dir_open (NODE_DIR, 0, NULL);
  if (dir == NULL)
    {
      g_test_skip ("libonnx-testdata is not installed");
      return;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;
  while ((entry = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (entry));
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_names);
  int total[G_N_ELEMENTS (supported_ops)] = { 0 };
  int passed[G_N_ELEMENTS (supported_ops)] = { 0 };
  int n_failed = 0, n_unexpected = 0;
  GString *why = g_string_new (NULL);
  for (guint k = 0; k < names->len; k++)
    {
      const char *name = g_ptr_array_index (names, k);
      gchar *case_dir = g_build_filename (NODE_DIR, name, NULL);
      gchar *model_path = g_build_filename (case_dir, "model.onnx", NULL);
      char *inputs[8];
      int n_inputs;
      int op = case_op (model_path, inputs, &n_inputs);
      if (op >= 0)
        {
          CaseResult r = run_case (case_dir, inputs, n_inputs, why);
          total[op]++;
          const bool expected = is_expected (name);
          switch (r)
            {
            case CASE_PASSED:
              passed[op]++;
              g_test_message ("PASS %s (%s)", name, why->str);
              if (!expected)
                {
                  n_unexpected++;
                  g_test_message ("  ^ accepted but not in the expected list");
                }
              break;
            case CASE_FAILED:
              n_failed++;
              g_test_message ("FAIL %s (%s)", name, why->str);
              break;
            case CASE_REJECTED:
              g_test_message ("rejected %s: %s", name, why->str);
              if (expected)
                {
                  n_failed++;
                  g_test_message ("  ^ expected to be accepted");
                }
              break;
            }
        }
      for (int i = 0; i < n_inputs; i++)
        g_free (inputs[i]);
      g_free (model_path);
      g_free (case_dir);
    }
  int all_passed = 0, all_total = 0;
  for (size_t k = 0; k < G_N_ELEMENTS (supported_ops); k++)
    {
      g_test_message ("%-20s %3d / %3d passed", supported_ops[k], passed[k], total[k]);
      all_passed += passed[k];
      all_total += total[k];
    }
  g_test_message ("all supported ops    %3d / %3d passed (the rest rejected with a message)",
                  all_passed, all_total);
  g_string_free (why, TRUE);
  g_ptr_array_unref (names);
  g_assert_cmpint (n_failed, ==, 0);
  g_assert_cmpint (n_unexpected, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/onnx-conformance/node-tests", test_conformance);
  return g_test_run ();
}
