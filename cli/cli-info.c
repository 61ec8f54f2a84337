/* SPDX-License-Identifier: MIT */
/* cnnscope-cli info: what a model is (architecture, input, classes, normalization, provenance)
 * and its layers, as a table or as JSON. */
#include <stdio.h>
#include <string.h>

#include "cli-commands.h"
#include "cli-common.h"

static const char usage[] =
  "Usage: cnnscope-cli info MODEL [--json]\n"
  "Shows the architecture, input shape, classes, normalization and provenance of MODEL and\n"
  "every layer with its op, output shape and parameter count. Layer names are what\n"
  "'activations' and 'filters' take as --layer.\n";

enum
{
  OPT_JSON = CLI_OPT_BASE,
};

static const struct option options[] = {
  { "json", no_argument, NULL, OPT_JSON },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 },
};

static cJSON *
shape_json (NnShape s)
{
  const int dims[3] = { s.c, s.h, s.w };
  return cJSON_CreateIntArray (dims, 3);
}

static cJSON *
float_array (const float *v,
             int          n)
{
  cJSON *a = cJSON_CreateArray ();
  for (int i = 0; i < n; i++)
    cJSON_AddItemToArray (a, cJSON_CreateNumber ((double) v[i]));
  return a;
}

static int
print_json (const NnModel *model,
            const char    *path)
{
  const NnGraph *g = model->graph;
  int c = nn_model_input_channels (model);
  c = c < NN_MODEL_MAX_CHANNELS ? c : NN_MODEL_MAX_CHANNELS;
  cJSON *root = cJSON_CreateObject ();
  cJSON_AddStringToObject (root, "model", path);
  cJSON_AddStringToObject (root, "arch", model->arch);
  cJSON_AddStringToObject (root, "arch_options", model->arch_options);
  cJSON_AddItemToObject (root, "input_shape", shape_json (g->nodes[0].shape));
  cJSON_AddNumberToObject (root, "n_classes", model->n_classes);
  cJSON *labels = cJSON_AddArrayToObject (root, "labels");
  for (int k = 0; k < model->n_classes; k++)
    cJSON_AddItemToArray (labels, cJSON_CreateString (model->labels[k]));
  cJSON_AddItemToObject (root, "mean", float_array (model->mean, c));
  cJSON_AddItemToObject (root, "std", float_array (model->std, c));
  if (model->has_window)
    {
      cJSON *window = cJSON_AddObjectToObject (root, "ct_window");
      cJSON_AddNumberToObject (window, "width", (double) model->window.width);
      cJSON_AddNumberToObject (window, "level", (double) model->window.level);
      const char *name = nn_ct_window_name (&model->window);
      if (name != NULL)
        cJSON_AddStringToObject (window, "name", name);
      else
        cJSON_AddNullToObject (window, "name");
    }
  else
    cJSON_AddNullToObject (root, "ct_window");
  cJSON_AddStringToObject (root, "dataset", model->dataset);
  cJSON_AddStringToObject (root, "command", model->command);
  if (model->test_accuracy >= 0.0)
    cJSON_AddNumberToObject (root, "test_accuracy", model->test_accuracy);
  else
    cJSON_AddNullToObject (root, "test_accuracy");
  cJSON_AddNumberToObject (root, "params", (double) cli_count_params (g));
  cJSON_AddNumberToObject (root, "trainable_params", (double) nn_graph_count_trainable (g));
  cJSON *nodes = cJSON_AddArrayToObject (root, "nodes");
  for (int i = 0; i < g->n_nodes; i++)
    {
      const NnNode *node = &g->nodes[i];
      NnNodeDescription desc;
      nn_node_describe (node, &desc);
      cJSON *n = cJSON_CreateObject ();
      cJSON_AddStringToObject (n, "name", node->name);
      cJSON_AddStringToObject (n, "op", desc.op);
      cJSON *inputs = cJSON_AddArrayToObject (n, "inputs");
      for (int j = 0; j < node->n_inputs; j++)
        cJSON_AddItemToArray (inputs, cJSON_CreateString (g->nodes[node->inputs[j]].name));
      cJSON_AddItemToObject (n, "output_shape", shape_json (node->shape));
      cJSON_AddNumberToObject (n, "params", (double) nn_graph_node_param_count (g, i));
      cJSON_AddStringToObject (n, "detail", desc.attrs);
      cJSON_AddItemToArray (nodes, n);
    }
  return cli_print_json (root) ? 0 : CLI_EXIT_FAILURE;
}

static void
print_table (const NnModel *model,
             const char    *path)
{
  const NnGraph *g = model->graph;
  NnShape in = g->nodes[0].shape;
  printf ("model        %s\n", path);
  printf ("arch         %s\n", model->arch[0] ? model->arch : "(unknown)");
  if (model->arch_options[0] != '\0')
    printf ("arch options %s\n", model->arch_options);
  printf ("input        %d x %d x %d\n", in.c, in.h, in.w);
  printf ("classes      %d:", model->n_classes);
  for (int k = 0; k < model->n_classes; k++)
    {
      if (k == 12 && model->n_classes > 14)
        {
          printf (" ... (%d more)", model->n_classes - k);
          break;
        }
      printf ("%s %s", k ? "," : "", model->labels[k]);
    }
  printf ("\nnormalize    mean");
  for (int ch = 0; ch < nn_model_input_channels (model) && ch < NN_MODEL_MAX_CHANNELS; ch++)
    printf (" %.4g", (double) model->mean[ch]);
  printf ("  std");
  for (int ch = 0; ch < nn_model_input_channels (model) && ch < NN_MODEL_MAX_CHANNELS; ch++)
    printf (" %.4g", (double) model->std[ch]);
  printf ("\n");
  if (model->has_window)
    {
      char wbuf[64];
      nn_ct_window_format (&model->window, wbuf, sizeof wbuf);
      printf ("ct window    %s (HU input goes through it before the normalization)\n", wbuf);
    }
  if (model->dataset[0])
    printf ("dataset      %s\n", model->dataset);
  if (model->command[0])
    printf ("trained by   %s\n", model->command);
  if (model->test_accuracy >= 0.0)
    printf ("test acc     %.2f%%\n", 100.0 * model->test_accuracy);
  printf ("params       %zu (%zu trainable)\n\n", cli_count_params (g),
          nn_graph_count_trainable (g));

  int wname = 4;
  for (int i = 0; i < g->n_nodes; i++)
    {
      int l = (int) strlen (g->nodes[i].name);
      wname = l > wname ? l : wname;
    }
  printf ("%4s  %-*s  %-14s  %-16s  %10s  detail\n", "#", wname, "name", "op", "output",
          "params");
  for (int i = 0; i < g->n_nodes; i++)
    {
      NnNodeDescription desc;
      nn_node_describe (&g->nodes[i], &desc);
      printf ("%4d  %-*s  %-14s  %-16s  %10zu%s%s\n", i, wname, g->nodes[i].name, desc.op,
              desc.shape, nn_graph_node_param_count (g, i), desc.attrs[0] ? "  " : "",
              desc.attrs);
    }
}

int
cli_info_main (int    argc,
               char **argv)
{
  bool json = false;
  int c;
  while ((c = cli_getopt (argc, argv, options)) != -1)
    switch (c)
      {
      case OPT_JSON:
        json = true;
        break;
      case 'h':
        fputs (usage, stdout);
        return 0;
      default:
        return CLI_EXIT_USAGE;
      }
  if (argc - optind != 1)
    return cli_fail (CLI_EXIT_USAGE, "info: expected one MODEL (see 'cnnscope-cli info "
                     "--help')");
  const char *path = argv[optind];
  NnModel *model = cli_load_model (path);
  if (model == NULL)
    return CLI_EXIT_FAILURE;
  int status = 0;
  if (json)
    status = print_json (model, path);
  else
    print_table (model, path);
  nn_model_free (model);
  return status;
}
