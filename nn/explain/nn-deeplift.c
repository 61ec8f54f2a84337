/* SPDX-License-Identifier: MIT */
/* DeepLIFT with the rescale rule (Shrikumar et al. 2017, as Captum computes it): the backward
 * pass from the target logit with every activation's derivative replaced by the multiplier
 * (f(x) - f(x')) / (x - x') between the input's and the baseline's pre-activations (the true
 * derivative where they differ by less than 1e-10), and max pooling's by Captum's rule (the
 * output differences routed through the input's and the baseline's winners, divided by the
 * input difference). Linear ops keep their gradient. The attribution (x - x') * multiplier
 * then sums to y(x) - y(x'). The registry's function nn_deeplift (nn-method.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain/nn-attribution.h"
#include "explain/nn-method.h"
#include "ops/nn-activation.h"
#include "ops/nn-pool.h"

#define DELTA_EPS 1e-10f

typedef struct
{
  float  **ref;      /* per node: its output for the baseline */
  float   *pooled;   /* scratch of the largest node: a max pool's output, recomputed */
  int32_t *win_x;    /* ... the winners for the input and for the baseline */
  int32_t *win_ref;
  float   *routed;   /* ... the routed differences, then the plain gradient */
} DeepLift;

/* din += dout * (out - out') / (in - in'), or the true derivative where in ~ in'. */
static void
rescale_activation (NnContext    *ctx,
                    const NnNode *node,
                    int           i,
                    DeepLift     *d)
{
  const int j = node->inputs[0];
  const size_t n = nn_shape_size (node->shape);
  float *din = nn_context_grad (ctx, j);
  const float *dout = nn_context_grad (ctx, i);
  const float *in = nn_context_output (ctx, j), *out = nn_context_output (ctx, i);
  const float *in_ref = d->ref[j], *out_ref = d->ref[i];
  const NnGradPolicy exact = { NN_GRAD_EXACT, 0.0f };
  for (size_t e = 0; e < n; e++)
    {
      float delta = in[e] - in_ref[e];
      if (fabsf (delta) < DELTA_EPS)
        nn_activation_backward (din + e, dout + e, in + e, out + e, 1, &node->attrs.act, &exact);
      else
        din[e] += dout[e] * (out[e] - out_ref[e]) / delta;
    }
}

/* Captum's max-pool rule: with M = max (y, y'), the input's winners receive dout (M - y') and
 * the baseline's winners dout (y - M); their sum over the plane divided by in - in' is the
 * multiplier (the plain gradient where in ~ in'). */
static void
rescale_maxpool (NnContext     *ctx,
                 const NnGraph *graph,
                 const NnNode  *node,
                 int            i,
                 DeepLift      *d)
{
  const int j = node->inputs[0];
  const NnShape is = graph->nodes[j].shape, os = node->shape;
  const size_t ihw = (size_t) is.h * (size_t) is.w, ohw = (size_t) os.h * (size_t) os.w;
  const size_t n_in = nn_shape_size (is);
  float *din = nn_context_grad (ctx, j);
  const float *dout = nn_context_grad (ctx, i);
  const float *in = nn_context_output (ctx, j), *out = nn_context_output (ctx, i);
  const float *in_ref = d->ref[j], *out_ref = d->ref[i];
  nn_maxpool_forward (d->pooled, d->win_x, in, &node->attrs.pool, 1, is.c, is.h, is.w, os.h,
                      os.w);
  nn_maxpool_forward (d->pooled, d->win_ref, in_ref, &node->attrs.pool, 1, is.c, is.h, is.w,
                      os.h, os.w);
  float *plain = d->routed + n_in;
  memset (d->routed, 0, sizeof (float) * 2 * n_in);
  for (int c = 0; c < os.c; c++)
    for (size_t o = 0; o < ohw; o++)
      {
        size_t k = (size_t) c * ohw + o;
        float m = out[k] > out_ref[k] ? out[k] : out_ref[k];
        d->routed[(size_t) c * ihw + (size_t) d->win_x[k]] += dout[k] * (m - out_ref[k]);
        d->routed[(size_t) c * ihw + (size_t) d->win_ref[k]] += dout[k] * (out[k] - m);
        plain[(size_t) c * ihw + (size_t) d->win_x[k]] += dout[k];
      }
  for (size_t e = 0; e < n_in; e++)
    {
      float delta = in[e] - in_ref[e];
      din[e] += fabsf (delta) < DELTA_EPS ? plain[e] : d->routed[e] / delta;
    }
}

static bool
deeplift_rule (NnContext *ctx,
               int        i,
               void      *user_data)
{
  const NnGraph *graph = nn_context_get_graph (ctx);
  const NnNode *node = &graph->nodes[i];
  if (node->op == NN_OP_ACTIVATION)
    rescale_activation (ctx, node, i, user_data);
  else if (node->op == NN_OP_MAXPOOL)
    rescale_maxpool (ctx, graph, node, i, user_data);
  return node->op == NN_OP_ACTIVATION || node->op == NN_OP_MAXPOOL;
}

NnMap *
nn_deeplift (NnContext              *ctx,
             const float            *input,
             const NnMethodSpec     *spec,
             const NnExplainControl *control,
             NnError                *err)
{
  NN_ASSERT (ctx && input && spec);
  NnGraph *graph = nn_context_get_graph (ctx);
  const NnShape in = graph->nodes[0].shape;
  const size_t hw = (size_t) in.h * (size_t) in.w, in_size = nn_shape_size (in);
  const int logit = nn_explain_logit_node (graph);
  int target = spec->target;
  if (!nn_attribution_check_gradients (ctx, "deeplift", err))
    return NULL;
  if (nn_explain_cancelled (control, err))
    return NULL;
  NnMap *m = nn_attribution_begin (ctx, input, &target, in.h, in.w, in.c, err);
  if (m == NULL)
    return NULL;
  size_t total = 0, most = 0;
  for (int i = 0; i <= logit; i++)
    {
      size_t n = nn_shape_size (graph->nodes[i].shape);
      total += n;
      most = n > most ? n : most;
    }
  DeepLift d = {
    .ref = malloc (sizeof (float *) * (size_t) (logit + 1)),
    .pooled = malloc (sizeof (float) * most),
    .win_x = malloc (sizeof (int32_t) * most),
    .win_ref = malloc (sizeof (int32_t) * most),
    .routed = malloc (sizeof (float) * 2 * most),
  };
  float *block = malloc (sizeof (float) * total);
  float *zeros = calloc (in_size, sizeof (float));
  if (d.ref == NULL || d.pooled == NULL || d.win_x == NULL || d.win_ref == NULL
      || d.routed == NULL || block == NULL || zeros == NULL)
    {
      nn_map_free (m);
      m = NULL;
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
      goto out;
    }
  const float *base = spec->baseline != NULL ? spec->baseline : zeros;
  for (size_t i = 0; i < in_size; i++)
    if (!isfinite (base[i]))
      {
        nn_map_free (m);
        m = NULL;
        nn_error_set (err, NN_ERROR_NUMERIC, "the baseline holds a NaN or infinite value");
        goto out;
      }
  /* The baseline's activations, then the input's again for the backward pass. */
  memcpy (nn_context_input (ctx), base, sizeof (float) * in_size);
  nn_context_forward (ctx, logit);
  size_t at = 0;
  for (int i = 0; i <= logit; i++)
    {
      size_t n = nn_shape_size (graph->nodes[i].shape);
      d.ref[i] = block + at;
      memcpy (d.ref[i], nn_context_output (ctx, i), sizeof (float) * n);
      at += n;
    }
  memcpy (nn_context_input (ctx), input, sizeof (float) * in_size);
  nn_context_forward (ctx, logit);
  nn_context_set_backward_rule (ctx, deeplift_rule, &d);
  nn_attribution_backward (ctx, m->target, -1);
  nn_context_set_backward_rule (ctx, NULL, NULL);
  const float *g = nn_context_grad (ctx, 0);
  for (size_t i = 0; i < in_size; i++)
    m->channels[i] = (input[i] - base[i]) * g[i];
  nn_attribution_sum_channels (m->map, m->channels, in.c, hw);
  memcpy (m->layer_map, m->map, sizeof (float) * hw);
  m->is_signed = true;
  nn_explain_report (control, 1, 1);
out:
  free (d.ref);
  free (d.pooled);
  free (d.win_x);
  free (d.win_ref);
  free (d.routed);
  free (block);
  free (zeros);
  return m;
}
