/* SPDX-License-Identifier: MIT */
/* The finite-difference gradient checker: central differences in double of a float forward
 * pass, a one-sided fallback counted against kink_share, the graph front end over NnContext. */
#include "grad-check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
grad_check_init (GradCheck  *gc,
                 const char *op)
{
  memset (gc, 0, sizeof *gc);
  gc->op = op;
  gc->eps = 1e-2;
  gc->abs_tol = 2e-3;
  gc->rel_tol = 1e-2;
  gc->seed = 1;
  gc->batch = 2;
  gc->threads = 1;
}

static bool
fail (GradCheck  *gc,
      const char *format,
      ...) G_GNUC_PRINTF (2, 3);

/* Records the first failure, prefixed with the op; returns false. */
static bool
fail (GradCheck  *gc,
      const char *format,
      ...)
{
  if (gc->failure[0] != '\0')
    return false;
  int n = snprintf (gc->failure, sizeof gc->failure, "%s: ", gc->op != NULL ? gc->op : "op");
  va_list args;
  va_start (args, format);
  vsnprintf (gc->failure + n, sizeof gc->failure - (size_t) n, format, args);
  va_end (args);
  return false;
}

static double
tolerance (const GradCheck *gc,
           double           a,
           double           b)
{
  return gc->abs_tol + gc->rel_tol * fmax (fabs (a), fabs (b));
}

/* Checks element i: the central difference, else (a kink within +-eps) one side of it. */
static bool
check_element (GradCheck     *gc,
               const char    *tensor,
               float         *x,
               const float   *analytic,
               size_t         i,
               GradCheckLoss  loss,
               void          *data)
{
  const float x0 = x[i];
  x[i] = (float) ((double) x0 + gc->eps);
  const double xp = x[i];
  const double lp = loss (data);
  x[i] = (float) ((double) x0 - gc->eps);
  const double xm = x[i];
  const double lm = loss (data);
  x[i] = x0;
  /* The steps actually taken, after rounding to float. */
  const double central = (lp - lm) / (xp - xm);
  const double ana = analytic[i];
  gc->n_checked++;
  if (fabs (ana - central) <= tolerance (gc, ana, central))
    return true;

  const double l0 = loss (data);
  const double right = (lp - l0) / (xp - (double) x0);
  const double left = (l0 - lm) / ((double) x0 - xm);
  if (gc->kink_share > 0.0
      && (fabs (ana - right) <= 2.0 * tolerance (gc, ana, right)
          || fabs (ana - left) <= 2.0 * tolerance (gc, ana, left)))
    {
      gc->n_one_sided++;
      return true;
    }
  return fail (gc, "%s[%zu]: analytic %.7g, finite differences %.7g (left %.7g, right %.7g; "
               "step %g, tolerance %.3g)", tensor, i, ana, central, left, right, gc->eps,
               tolerance (gc, ana, central));
}

bool
grad_check_values (GradCheck     *gc,
                   const char    *tensor,
                   float         *x,
                   const float   *analytic,
                   size_t         n,
                   GradCheckLoss  loss,
                   void          *data)
{
  if (gc->failure[0] != '\0')
    return false;
  if (gc->max_points == 0 || n <= gc->max_points)
    {
      for (size_t i = 0; i < n; i++)
        if (!check_element (gc, tensor, x, analytic, i, loss, data))
          return false;
      return true;
    }
  /* One element at random from each of max_points equal stretches of the array. */
  NnRng rng;
  nn_rng_init (&rng, gc->seed + gc->n_checked);
  const size_t m = gc->max_points;
  for (size_t k = 0; k < m; k++)
    {
      size_t lo = k * n / m, hi = (k + 1) * n / m;
      size_t i = lo + nn_rng_below (&rng, (uint32_t) (hi - lo));
      if (!check_element (gc, tensor, x, analytic, i, loss, data))
        return false;
    }
  return true;
}

/* The graph's loss: sum (w * output) over the batch, accumulated in double; the probe may have
 * moved a parameter, so the graph gets a new version first. */
typedef struct
{
  NnGraph     *graph;
  NnContext   *ctx;
  int          out;
  const float *w;
  size_t       n_out;
} GraphLoss;

static double
graph_loss (void *data)
{
  GraphLoss *l = data;
  nn_graph_bump_version (l->graph);
  nn_context_forward (l->ctx, -1);
  const float *y = nn_context_output (l->ctx, l->out);
  double s = 0.0;
  for (size_t i = 0; i < l->n_out; i++)
    s += (double) l->w[i] * (double) y[i];
  return s;
}

/* A forward pass, the output's gradient seeded with w, and a backward pass for `what`. */
static void
graph_backward (GraphLoss *l,
                unsigned   what)
{
  nn_context_forward (l->ctx, -1);
  memcpy (nn_context_grad (l->ctx, l->out), l->w, sizeof (float) * l->n_out);
  nn_context_backward (l->ctx, l->out, what, -1);
}

bool
grad_check_graph (GradCheck *gc,
                  NnGraph   *graph)
{
  if (gc->failure[0] != '\0')
    return false;
  NnError err = { 0 };
  NnContext *ctx = nn_context_new (graph, gc->batch,
                                   NN_CONTEXT_BACKWARD | NN_CONTEXT_PARAM_GRADS, &err);
  if (ctx == NULL)
    return fail (gc, "no context: %s", err.message);
  if (gc->threads > 1 && !nn_context_set_threads (ctx, gc->threads, &err))
    {
      nn_context_free (ctx);
      return fail (gc, "no %d threads: %s", gc->threads, err.message);
    }
  nn_context_set_training (ctx, gc->training);

  const int out = nn_graph_output (graph);
  const size_t n_in = nn_shape_size (graph->nodes[0].shape) * (size_t) gc->batch;
  GraphLoss l = { graph, ctx, out, NULL, nn_shape_size (graph->nodes[out].shape) * (size_t) gc->batch };
  float *x = nn_context_input (ctx);
  if (gc->input != NULL)
    memcpy (x, gc->input, sizeof (float) * n_in);
  else
    grad_check_fill (x, n_in, gc->seed, -1.0f, 1.0f);
  float *w = g_new (float, l.n_out);
  grad_check_fill (w, l.n_out, gc->seed + 1, -1.0f, 1.0f);
  l.w = w;

  nn_context_zero_param_grads (ctx);
  graph_backward (&l, NN_BACKWARD_PARAMS | NN_BACKWARD_INPUT);
  float *dx = g_memdup2 (nn_context_grad (ctx, 0), sizeof (float) * n_in);
  float *dp = g_memdup2 (nn_context_param_grads (ctx), sizeof (float) * graph->n_data);
  graph_backward (&l, NN_BACKWARD_INPUT);
  const float *dx_only = nn_context_grad (ctx, 0);
  for (size_t i = 0; i < n_in && gc->failure[0] == '\0'; i++)
    if (!(fabs ((double) dx_only[i] - dx[i]) <= tolerance (gc, dx_only[i], dx[i])))
      fail (gc, "input[%zu]: the input-only backward gives %.7g, the full one %.7g", i,
            (double) dx_only[i], (double) dx[i]);

  for (int p = 0; p < graph->n_params && gc->failure[0] == '\0'; p++)
    {
      const NnParam *prm = &graph->params[p];
      for (size_t j = 0; j < prm->count && !prm->trainable; j++)
        if (dp[prm->offset + j] != 0.0f)
          {
            fail (gc, "%s[%zu]: not trainable, yet its gradient is %.7g", prm->name, j,
                  (double) dp[prm->offset + j]);
            break;
          }
    }

  grad_check_values (gc, "input", x, dx, n_in, graph_loss, &l);
  for (int p = 0; p < graph->n_params; p++)
    {
      const NnParam *prm = &graph->params[p];
      if (prm->trainable)
        grad_check_values (gc, prm->name, graph->data + prm->offset, dp + prm->offset,
                           prm->count, graph_loss, &l);
    }
  g_free (dx);
  g_free (dp);
  g_free (w);
  nn_context_free (ctx);
  return gc->failure[0] == '\0';
}

bool
grad_check_passed (GradCheck *gc)
{
  if (gc->failure[0] != '\0')
    return false;
  if (gc->n_checked == 0)
    return fail (gc, "no element was checked");
  if ((double) gc->n_one_sided > gc->kink_share * (double) gc->n_checked)
    return fail (gc, "%zu of %zu elements matched a one-sided difference only, more than the "
                 "share of %g allowed for kinks", gc->n_one_sided, gc->n_checked,
                 gc->kink_share);
  if (gc->n_one_sided > 0)
    g_test_message ("%s: %zu of %zu elements matched a one-sided difference only", gc->op,
                    gc->n_one_sided, gc->n_checked);
  return true;
}

void
grad_check_fill (float    *x,
                 size_t    n,
                 uint64_t  seed,
                 float     lo,
                 float     hi)
{
  NnRng rng;
  nn_rng_init (&rng, seed);
  for (size_t i = 0; i < n; i++)
    x[i] = lo + (hi - lo) * nn_rng_uniform (&rng);
}

void
grad_check_fill_param (NnGraph     *graph,
                       int          node,
                       NnParamRole  role,
                       uint64_t     seed,
                       float        lo,
                       float        hi)
{
  int p = nn_graph_node_param (graph, node, role);
  g_assert_cmpint (p, >=, 0);
  grad_check_fill (nn_graph_param_data (graph, p), graph->params[p].count, seed, lo, hi);
}
