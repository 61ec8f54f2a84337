/* SPDX-License-Identifier: MIT */
/* Optimizers (SGD with momentum / Nesterov, AdamW, LAMB) and learning-rate schedules. The
 * update formulas follow torch.optim operation by operation, so results compare with PyTorch. */
#include "train/nn-train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct NnOptimizer
{
  NnOptimizerConfig config;
  size_t            n_data;  /* length of the graph's arena when the state was made */
  long              t;       /* updates taken so far */
  float            *m;       /* SGD momentum buffer or first moment; parallel to graph->data */
  float            *v;       /* second moment (AdamW, LAMB) */
};

NnOptimizer *
nn_optimizer_new (const NnGraph           *graph,
                  const NnOptimizerConfig *config)
{
  NN_ASSERT (graph != NULL && config != NULL);
  NN_ASSERT (config->momentum >= 0.0f && config->weight_decay >= 0.0f);
  NN_ASSERT (!config->nesterov || config->kind != NN_OPTIMIZER_SGD || config->momentum > 0.0f);
  NN_ASSERT (config->kind == NN_OPTIMIZER_SGD
             || (config->beta1 >= 0.0f && config->beta1 < 1.0f && config->beta2 >= 0.0f
                 && config->beta2 < 1.0f && config->eps >= 0.0f));

  NnOptimizer *opt = calloc (1, sizeof *opt);
  if (opt == NULL)
    return NULL;
  opt->config = *config;
  opt->n_data = graph->n_data;
  size_t bytes = sizeof (float) * (graph->n_data ? graph->n_data : 1);
  bool ok = true;
  /* Zero-initialised state makes the first SGD step buf = g, as PyTorch's clone does. */
  if (config->kind != NN_OPTIMIZER_SGD || config->momentum > 0.0f)
    ok = (opt->m = calloc (1, bytes)) != NULL;
  if (ok && config->kind != NN_OPTIMIZER_SGD)
    ok = (opt->v = calloc (1, bytes)) != NULL;
  if (!ok)
    {
      nn_optimizer_free (opt);
      return NULL;
    }
  return opt;
}

void
nn_optimizer_free (NnOptimizer *opt)
{
  if (opt == NULL)
    return;
  free (opt->m);
  free (opt->v);
  free (opt);
}

/* torch.optim.SGD, dampening 0: d = g + wd p; buf = momentum buf + d;
 * d = nesterov ? d + momentum buf : buf; p -= lr d. */
static void
sgd_update (float                   *p,
            float                   *buf,
            const float             *g,
            size_t                   N,
            float                    lr,
            const NnOptimizerConfig *c)
{
  for (size_t i = 0; i < N; i++)
    {
      float d = g[i] + c->weight_decay * p[i];
      if (buf)
        {
          buf[i] = c->momentum * buf[i] + d;
          d = c->nesterov ? d + c->momentum * buf[i] : buf[i];
        }
      p[i] -= lr * d;
    }
}

/* torch.optim.AdamW: p *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps), bc_k = 1 - b_k^t. */
static void
adamw_update (float                   *p,
              float                   *m,
              float                   *v,
              const float             *g,
              size_t                   N,
              float                    lr,
              float                    step_size,
              float                    bc2_sqrt,
              const NnOptimizerConfig *c)
{
  const float decay = 1.0f - lr * c->weight_decay;
  const float b1 = c->beta1, b2 = c->beta2;
  for (size_t i = 0; i < N; i++)
    {
      p[i] *= decay;
      m[i] = b1 * m[i] + (1.0f - b1) * g[i];
      v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
      p[i] -= step_size * (m[i] / (sqrtf (v[i]) / bc2_sqrt + c->eps));
    }
}

/* LAMB's update direction for one element: r = m_hat / (sqrt(v_hat) + eps) + wd p. */
static inline float
lamb_direction (float                    m,
                float                    v,
                float                    p,
                float                    inv_bc1,
                float                    inv_bc2,
                const NnOptimizerConfig *c)
{
  return (m * inv_bc1) / (sqrtf (v * inv_bc2) + c->eps) + c->weight_decay * p;
}

/* LAMB (You et al. 2020) for one parameter tensor: moments as Adam, then
 * p -= lr * (||p|| / ||r||) * r, with the trust ratio 1 when either norm is 0. */
static void
lamb_update (float                   *p,
             float                   *m,
             float                   *v,
             const float             *g,
             size_t                   N,
             float                    lr,
             float                    inv_bc1,
             float                    inv_bc2,
             const NnOptimizerConfig *c)
{
  const float b1 = c->beta1, b2 = c->beta2;
  double pp = 0.0, rr = 0.0;
  for (size_t i = 0; i < N; i++)
    {
      m[i] = b1 * m[i] + (1.0f - b1) * g[i];
      v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
      float r = lamb_direction (m[i], v[i], p[i], inv_bc1, inv_bc2, c);
      pp += (double) p[i] * (double) p[i];
      rr += (double) r * (double) r;
    }
  float trust = pp > 0.0 && rr > 0.0 ? (float) (sqrt (pp) / sqrt (rr)) : 1.0f;
  for (size_t i = 0; i < N; i++)
    p[i] -= lr * trust * lamb_direction (m[i], v[i], p[i], inv_bc1, inv_bc2, c);
}

void
nn_optimizer_step (NnOptimizer *opt,
                   NnGraph     *graph,
                   const float *grads,
                   float        lr)
{
  NN_ASSERT (opt != NULL && graph != NULL && grads != NULL);
  NN_ASSERT (graph->n_data == opt->n_data);
  const NnOptimizerConfig *c = &opt->config;
  opt->t++;
  /* Bias corrections in double, as PyTorch computes them with Python floats. */
  double bc1 = 1.0 - pow ((double) c->beta1, (double) opt->t);
  double bc2 = 1.0 - pow ((double) c->beta2, (double) opt->t);

  /* Trainable tensors are read at every step, so freezing a layer mid-training is honoured. */
  for (int k = 0; k < graph->n_params; k++)
    {
      const NnParam *prm = &graph->params[k];
      if (!prm->trainable)
        continue;
      size_t o = prm->offset;
      float *p = graph->data + o;
      const float *g = grads + o;
      switch (c->kind)
        {
        case NN_OPTIMIZER_SGD:
          sgd_update (p, opt->m ? opt->m + o : NULL, g, prm->count, lr, c);
          break;
        case NN_OPTIMIZER_ADAMW:
          adamw_update (p, opt->m + o, opt->v + o, g, prm->count, lr, (float) ((double) lr / bc1),
                        (float) sqrt (bc2), c);
          break;
        case NN_OPTIMIZER_LAMB:
          lamb_update (p, opt->m + o, opt->v + o, g, prm->count, lr, (float) (1.0 / bc1),
                       (float) (1.0 / bc2), c);
          break;
        default:
          NN_ASSERT (!"unknown optimizer");
        }
    }
  nn_graph_bump_version (graph);
}

bool
nn_optimizer_parse (const char        *name,
                    NnOptimizerConfig *config,
                    NnError           *err)
{
  NN_ASSERT (name != NULL && config != NULL);
  NnOptimizerConfig c = {
    .momentum = 0.0f, .nesterov = false, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
  };
  if (strcmp (name, "sgd") == 0)
    {
      c.kind = NN_OPTIMIZER_SGD;
      c.momentum = 0.9f;
      c.nesterov = true;
      c.weight_decay = 5e-4f;
    }
  else if (strcmp (name, "adamw") == 0)
    {
      c.kind = NN_OPTIMIZER_ADAMW;
      c.weight_decay = 0.01f;
    }
  else if (strcmp (name, "lamb") == 0)
    {
      c.kind = NN_OPTIMIZER_LAMB;
      c.weight_decay = 0.01f;
    }
  else
    return nn_error_set (err, NN_ERROR_SPEC,
                         "unknown optimizer '%s' (expected sgd, adamw or lamb)", name);
  *config = c;
  return true;
}

/* A linear warm-up over the first `warmup` steps (lr (step + 1) / warmup), then the schedule
 * proper on t = step - warmup of T = total - warmup steps. Cosine reaches 0 at t = T. */
float
nn_schedule_lr (const NnSchedule *schedule,
                float             base_lr,
                long              step,
                long              total)
{
  NN_ASSERT (schedule != NULL && step >= 0);
  long warmup = schedule->warmup > 0 ? schedule->warmup : 0;
  if (step < warmup)
    return (float) ((double) base_lr * (double) (step + 1) / (double) warmup);
  long t = step - warmup;
  long T = total - warmup;
  switch (schedule->kind)
    {
    case NN_SCHEDULE_CONSTANT:
      return base_lr;
    case NN_SCHEDULE_STEP:
      NN_ASSERT (schedule->step_size > 0);
      return (float) ((double) base_lr
                      * pow ((double) schedule->gamma, (double) (t / schedule->step_size)));
    case NN_SCHEDULE_COSINE:
      if (T <= 0)
        return base_lr;
      if (t > T)
        t = T;
      return (float) ((double) base_lr * 0.5 * (1.0 + cos (M_PI * (double) t / (double) T)));
    default:
      NN_ASSERT (!"unknown schedule");
    }
  return base_lr;
}
