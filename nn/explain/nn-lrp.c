/* SPDX-License-Identifier: MIT */
/* Layer-wise Relevance Propagation as a backward rule (nn_context_set_backward_rule): each
 * rule of a convolution or linear layer is a sum of terms, each the layer applied to a
 * modified input with modified parameters, as Zennit's BasicHook composes them:
 *   z_t = layer (in_t; W_t, b_t),  D_g = sum over the terms t of group g of sign_t z_t,
 *   R_in += sum_t coef_t in_t * W_t^T (mask_t R / stab (D_g(t))),
 * with stab (D) = D + eps (sign of D, + for 0). The registry's functions nn_lrp_* (nn-method.h)
 * and nn_lrp_compute (nn-lrp.h). */
#include "explain/nn-lrp.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain/nn-attribution.h"
#include "explain/nn-method.h"
#include "ops/nn-conv2d.h"
#include "ops/nn-linear.h"
#include "ops/nn-pool.h"

typedef enum
{
  IN_X,     /* the input */
  IN_POS,   /* its positive part */
  IN_NEG,   /* its negative part */
  IN_LOW,   /* the box's lower bound per channel */
  IN_HIGH,  /* ... upper bound */
  IN_ONES,
} InMod;

typedef enum
{
  PARAM_SAME,
  PARAM_POS,        /* max (p, 0) */
  PARAM_NEG,        /* min (p, 0) */
  PARAM_GAMMA_POS,  /* p + γ max (p, 0) */
  PARAM_GAMMA_NEG,  /* p + γ min (p, 0) */
  PARAM_ONES,       /* the weights all 1 (the bias is then dropped) */
} ParamMod;

typedef struct
{
  InMod    in;
  ParamMod param;
  bool     bias;    /* the modified bias, or none */
  int      mask;    /* 0: every output; 1: where the layer's output is > 0; -1: < 0 */
  int      group;   /* which denominator the term adds to */
  float    sign;    /* ... with this sign */
  float    coef;    /* its weight in the relevance */
} Term;

#define MAX_TERMS 4

/* The terms of a rule (Zennit's rules.py); returns how many. */
static int
rule_terms (const NnLrpRule *rule,
            Term            *t)
{
  const float a = rule->param;
  switch (rule->kind)
    {
    case NN_LRP_EPSILON:
      t[0] = (Term) { IN_X, PARAM_SAME, true, 0, 0, 1.0f, 1.0f };
      return 1;
    case NN_LRP_ZPLUS:
      t[0] = (Term) { IN_POS, PARAM_POS, true, 0, 0, 1.0f, 1.0f };
      t[1] = (Term) { IN_NEG, PARAM_NEG, false, 0, 0, 1.0f, 1.0f };
      return 2;
    case NN_LRP_ALPHA_BETA:
      t[0] = (Term) { IN_POS, PARAM_POS, true, 0, 0, 1.0f, a };
      t[1] = (Term) { IN_NEG, PARAM_NEG, false, 0, 0, 1.0f, a };
      t[2] = (Term) { IN_POS, PARAM_NEG, true, 0, 1, 1.0f, -(a - 1.0f) };
      t[3] = (Term) { IN_NEG, PARAM_POS, false, 0, 1, 1.0f, -(a - 1.0f) };
      return 4;
    case NN_LRP_GAMMA:
      t[0] = (Term) { IN_POS, PARAM_GAMMA_POS, true, 1, 0, 1.0f, 1.0f };
      t[1] = (Term) { IN_NEG, PARAM_GAMMA_NEG, false, 1, 0, 1.0f, 1.0f };
      t[2] = (Term) { IN_POS, PARAM_GAMMA_NEG, true, -1, 1, 1.0f, 1.0f };
      t[3] = (Term) { IN_NEG, PARAM_GAMMA_POS, false, -1, 1, 1.0f, 1.0f };
      return 4;
    case NN_LRP_ZBOX:
      t[0] = (Term) { IN_X, PARAM_SAME, true, 0, 0, 1.0f, 1.0f };
      t[1] = (Term) { IN_LOW, PARAM_POS, true, 0, 0, -1.0f, -1.0f };
      t[2] = (Term) { IN_HIGH, PARAM_NEG, true, 0, 0, -1.0f, -1.0f };
      return 3;
    case NN_LRP_FLAT:
      t[0] = (Term) { IN_ONES, PARAM_ONES, false, 0, 0, 1.0f, 1.0f };
      return 1;
    default:
      NN_ASSERT (!"unknown LRP rule");
      return 0;
    }
}

static float
modify_param (float    p,
              ParamMod mod,
              float    gamma)
{
  switch (mod)
    {
    case PARAM_SAME:
      return p;
    case PARAM_POS:
      return p > 0.0f ? p : 0.0f;
    case PARAM_NEG:
      return p < 0.0f ? p : 0.0f;
    case PARAM_GAMMA_POS:
      return p + gamma * (p > 0.0f ? p : 0.0f);
    case PARAM_GAMMA_NEG:
      return p + gamma * (p < 0.0f ? p : 0.0f);
    case PARAM_ONES:
      return 1.0f;
    default:
      NN_ASSERT (!"unknown parameter modifier");
      return p;
    }
}

/* What the rule needs, sized once for the largest layer. */
typedef struct
{
  const NnLrpComposite *composite;
  int     first;      /* the node that gets composite->first, or -1 */
  float  *low;        /* the z^B rule's box: each channel's bounds in the layer's input */
  float  *high;
  int    *merge;      /* per node: the batch norm folded into it, or -1 */
  float  *wm;         /* the layer's weight and bias with the batch norm folded in */
  float  *bm;
  float  *w;          /* a modified weight */
  float  *b;          /* a modified bias */
  float  *in;         /* a modified input */
  float  *z[MAX_TERMS];
  float  *d[2];       /* the denominators */
  float  *s;          /* R / stab (D), masked */
  float  *c;          /* W^T s */
  float  *scratch;    /* the convolution's */
} Lrp;

static float
stabilize (float d,
           float eps)
{
  return d + (d >= 0.0f ? eps : -eps);
}

/* in_t of the node's input x (n values, C channels of hw). */
static void
modify_input (float       *in,
              const float *x,
              InMod        mod,
              const Lrp   *lrp,
              size_t       n,
              size_t       hw)
{
  for (size_t i = 0; i < n; i++)
    switch (mod)
      {
      case IN_X:
        in[i] = x[i];
        break;
      case IN_POS:
        in[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
      case IN_NEG:
        in[i] = x[i] < 0.0f ? x[i] : 0.0f;
        break;
      case IN_LOW:
        in[i] = lrp->low[i / hw];
        break;
      case IN_HIGH:
        in[i] = lrp->high[i / hw];
        break;
      case IN_ONES:
        in[i] = 1.0f;
        break;
      default:
        NN_ASSERT (!"unknown input modifier");
      }
}

/* wm, bm = weight w (n_b rows) and bias (or none) of a layer followed by batch norm node bn:
 * row k scaled by s_k = gamma_k / sqrt (var_k + eps), bias (b_k - mean_k) s_k + beta_k. */
static void
fold_batchnorm (float         *wm,
                float         *bm,
                const NnGraph *graph,
                int            bn,
                const float   *w,
                const float   *bias,
                size_t         n_w,
                int            n_b)
{
  const int gi = nn_graph_node_param (graph, bn, NN_PARAM_WEIGHT);
  const int bi = nn_graph_node_param (graph, bn, NN_PARAM_BIAS);
  const float *mean = nn_graph_param_data (graph, nn_graph_node_param (graph, bn,
                                                                       NN_PARAM_RUNNING_MEAN));
  const float *var = nn_graph_param_data (graph, nn_graph_node_param (graph, bn,
                                                                      NN_PARAM_RUNNING_VAR));
  const size_t row = n_w / (size_t) n_b;
  for (int k = 0; k < n_b; k++)
    {
      float gamma = gi >= 0 ? nn_graph_param_data (graph, gi)[k] : 1.0f;
      float beta = bi >= 0 ? nn_graph_param_data (graph, bi)[k] : 0.0f;
      float sk = gamma / sqrtf (var[k] + graph->nodes[bn].attrs.norm.eps);
      for (size_t e = 0; e < row; e++)
        wm[(size_t) k * row + e] = w[(size_t) k * row + e] * sk;
      bm[k] = ((bias != NULL ? bias[k] : 0.0f) - mean[k]) * sk + beta;
    }
}

/* The rule of a convolution or linear node i. */
static void
layer_rule (NnContext *ctx,
            int        i,
            Lrp       *lrp)
{
  const NnGraph *graph = nn_context_get_graph (ctx);
  const NnNode *node = &graph->nodes[i];
  const int j = node->inputs[0];
  const bool conv = node->op == NN_OP_CONV2D;
  const NnLrpComposite *cp = lrp->composite;
  const NnLrpRule *rule = i == lrp->first ? &cp->first : conv ? &cp->conv : &cp->linear;
  const float eps = rule->kind == NN_LRP_EPSILON ? rule->param : cp->stabilizer;
  const float gamma = rule->kind == NN_LRP_GAMMA ? rule->param : 0.0f;
  const NnShape is = graph->nodes[j].shape;
  const size_t n_in = nn_shape_size (is), n_out = nn_shape_size (node->shape);
  const size_t in_hw = conv ? (size_t) is.h * (size_t) is.w : n_in;
  const int wi = nn_graph_node_param (graph, i, NN_PARAM_WEIGHT);
  const int bi = nn_graph_node_param (graph, i, NN_PARAM_BIAS);
  const float *w = nn_graph_param_data (graph, wi);
  const float *bias = bi >= 0 ? nn_graph_param_data (graph, bi) : NULL;
  const size_t n_w = graph->params[wi].count;
  const int n_b = conv ? node->shape.c : (int) n_out;
  const int bn = lrp->merge[i];
  if (bn >= 0)
    {
      fold_batchnorm (lrp->wm, lrp->bm, graph, bn, w, bias, n_w, n_b);
      w = lrp->wm;
      bias = lrp->bm;
    }
  /* im2col, not Winograd: the rules divide by sums of positive or negative parts that are
   * exactly 0 where no input contributes, and Winograd's transforms leave rounding residue
   * there (1e-9 / 1e-9 instead of 0 / 0 moved the α2β1 map by 0.1 on the small CNN). */
  NnConvGeom g = { 0 };
  if (conv)
    {
      const NnConvAttrs *a = &node->attrs.conv;
      g = (NnConvGeom) {
        .B = 1, .C = is.c, .H = is.h, .W = is.w, .OC = a->out_channels, .KH = a->kh,
        .KW = a->kw, .SH = a->sh, .SW = a->sw, .PT = a->pad_t, .PL = a->pad_l, .PB = a->pad_b,
        .PR = a->pad_r, .DH = a->dh, .DW = a->dw, .G = a->groups, .OH = node->shape.h,
        .OW = node->shape.w, .no_winograd = true,
      };
    }
  const float *x = nn_context_output (ctx, j);
  const float *y = nn_context_output (ctx, bn >= 0 ? bn : i);
  const float *R = nn_context_grad (ctx, i);
  float *din = nn_context_grad (ctx, j);
  Term t[MAX_TERMS];
  const int nt = rule_terms (rule, t);
  if (rule->kind == NN_LRP_ZBOX)
    for (size_t c = 0; c < n_in / in_hw; c++)
      {
        lrp->low[c] = FLT_MAX;
        lrp->high[c] = -FLT_MAX;
        for (size_t p = 0; p < in_hw; p++)
          {
            lrp->low[c] = fminf (lrp->low[c], x[c * in_hw + p]);
            lrp->high[c] = fmaxf (lrp->high[c], x[c * in_hw + p]);
          }
      }

  /* Forward: each term's output, and the denominators. */
  memset (lrp->d[0], 0, sizeof (float) * n_out);
  memset (lrp->d[1], 0, sizeof (float) * n_out);
  for (int k = 0; k < nt; k++)
    {
      modify_input (lrp->in, x, t[k].in, lrp, n_in, in_hw);
      for (size_t e = 0; e < n_w; e++)
        lrp->w[e] = modify_param (w[e], t[k].param, gamma);
      for (int e = 0; e < n_b; e++)
        lrp->b[e] = t[k].bias && bias != NULL ? modify_param (bias[e], t[k].param, gamma) : 0.0f;
      if (conv)
        nn_conv2d_forward (lrp->z[k], lrp->scratch, lrp->in, lrp->w, lrp->b, &g);
      else
        nn_linear_forward (lrp->z[k], lrp->in, lrp->w, lrp->b, 1, (int) n_in, (int) n_out);
      for (size_t o = 0; o < n_out; o++)
        lrp->d[t[k].group][o] += t[k].sign * lrp->z[k][o];
    }
  /* Backward: each term's share. */
  for (int k = 0; k < nt; k++)
    {
      const float *d = lrp->d[t[k].group];
      for (size_t o = 0; o < n_out; o++)
        {
          bool on = t[k].mask == 0 || (t[k].mask > 0 ? y[o] > 0.0f : y[o] < 0.0f);
          lrp->s[o] = on ? R[o] / stabilize (d[o], eps) : 0.0f;
        }
      modify_input (lrp->in, x, t[k].in, lrp, n_in, in_hw);
      for (size_t e = 0; e < n_w; e++)
        lrp->w[e] = modify_param (w[e], t[k].param, gamma);
      memset (lrp->c, 0, sizeof (float) * n_in);
      if (conv)
        nn_conv2d_backward (lrp->c, NULL, NULL, lrp->scratch, lrp->s, lrp->in, lrp->w, &g);
      else
        nn_linear_backward (lrp->c, NULL, NULL, lrp->s, lrp->in, lrp->w, 1, (int) n_in,
                            (int) n_out);
      for (size_t e = 0; e < n_in; e++)
        din[e] += t[k].coef * lrp->in[e] * lrp->c[e];
    }
}

/* Zennit's Norm rule on a sum: each input's share of its output, R_k = a_k R / stab (a + b). */
static void
add_rule (NnContext *ctx,
          int        i,
          float      eps)
{
  const NnGraph *graph = nn_context_get_graph (ctx);
  const NnNode *node = &graph->nodes[i];
  const size_t n = nn_shape_size (node->shape);
  const float *y = nn_context_output (ctx, i), *R = nn_context_grad (ctx, i);
  for (int k = 0; k < node->n_inputs; k++)
    {
      const float *a = nn_context_output (ctx, node->inputs[k]);
      float *din = nn_context_grad (ctx, node->inputs[k]);
      for (size_t e = 0; e < n; e++)
        din[e] += a[e] * R[e] / stabilize (y[e], eps);
    }
}

/* The Norm rule on an average pool: R_in = x * pool^T (R / stab (pool (x))). */
static void
avgpool_rule (NnContext *ctx,
              int        i,
              float      eps,
              Lrp       *lrp)
{
  const NnGraph *graph = nn_context_get_graph (ctx);
  const NnNode *node = &graph->nodes[i];
  const int j = node->inputs[0];
  const NnShape is = graph->nodes[j].shape;
  const size_t n_in = nn_shape_size (is), n_out = nn_shape_size (node->shape);
  const float *x = nn_context_output (ctx, j), *y = nn_context_output (ctx, i);
  const float *R = nn_context_grad (ctx, i);
  float *din = nn_context_grad (ctx, j);
  for (size_t o = 0; o < n_out; o++)
    lrp->s[o] = R[o] / stabilize (y[o], eps);
  memset (lrp->c, 0, sizeof (float) * n_in);
  if (node->op == NN_OP_AVGPOOL)
    nn_avgpool_backward (lrp->c, lrp->s, &node->attrs.pool, 1, is.c, is.h, is.w, node->shape.h,
                         node->shape.w);
  else
    nn_global_avgpool_backward (lrp->c, lrp->s, 1, is.c, is.h * is.w);
  for (size_t e = 0; e < n_in; e++)
    din[e] += x[e] * lrp->c[e];
}

/* Activations and batch norms pass the relevance on unchanged. */
static void
pass_rule (NnContext *ctx,
           int        i)
{
  const NnGraph *graph = nn_context_get_graph (ctx);
  const size_t n = nn_shape_size (graph->nodes[i].shape);
  const float *R = nn_context_grad (ctx, i);
  float *din = nn_context_grad (ctx, graph->nodes[i].inputs[0]);
  for (size_t e = 0; e < n; e++)
    din[e] += R[e];
}

/* The backward rule: the op's LRP rule, or its gradient (max pooling routes the relevance to
 * the winner; reshapes, slices and concatenations move it unchanged). */
static bool
lrp_rule (NnContext *ctx,
          int        i,
          void      *user_data)
{
  Lrp *lrp = user_data;
  const NnOp op = nn_context_get_graph (ctx)->nodes[i].op;
  if (op == NN_OP_CONV2D || op == NN_OP_LINEAR)
    layer_rule (ctx, i, lrp);
  else if (op == NN_OP_ADD)
    add_rule (ctx, i, lrp->composite->stabilizer);
  else if (op == NN_OP_AVGPOOL || op == NN_OP_GLOBAL_AVGPOOL)
    avgpool_rule (ctx, i, lrp->composite->stabilizer, lrp);
  else if (op == NN_OP_ACTIVATION || op == NN_OP_BATCHNORM)
    pass_rule (ctx, i);
  else
    return false;
  return true;
}

/* Sizes the buffers for the largest layer; false when out of memory. */
static bool
lrp_alloc (Lrp           *lrp,
           const NnGraph *graph)
{
  size_t most = 0, most_w = 1, scratch = 1;
  for (int i = 0; i < graph->n_nodes; i++)
    {
      const NnNode *node = &graph->nodes[i];
      size_t n = nn_shape_size (node->shape);
      most = n > most ? n : most;
      if (node->op != NN_OP_CONV2D && node->op != NN_OP_LINEAR)
        continue;
      size_t w = graph->params[nn_graph_node_param (graph, i, NN_PARAM_WEIGHT)].count;
      most_w = w > most_w ? w : most_w;
      if (node->op == NN_OP_CONV2D)
        {
          const NnShape is = graph->nodes[node->inputs[0]].shape;
          const NnConvAttrs *a = &node->attrs.conv;
          NnConvGeom g = {
            .B = 1, .C = is.c, .H = is.h, .W = is.w, .OC = a->out_channels, .KH = a->kh,
            .KW = a->kw, .SH = a->sh, .SW = a->sw, .PT = a->pad_t, .PL = a->pad_l,
            .PB = a->pad_b, .PR = a->pad_r, .DH = a->dh, .DW = a->dw, .G = a->groups,
            .OH = node->shape.h, .OW = node->shape.w, .no_winograd = true,
          };
          size_t sc = nn_conv2d_scratch_size (&g);
          scratch = sc > scratch ? sc : scratch;
        }
      if (lrp->first < 0 && (node->op == NN_OP_CONV2D || lrp->composite->first_linear))
        lrp->first = i;
    }
  lrp->merge = malloc (sizeof (int) * (size_t) graph->n_nodes);
  int *readers = calloc ((size_t) graph->n_nodes, sizeof (int));
  if (lrp->merge == NULL || readers == NULL)
    {
      free (readers);
      return false;
    }
  for (int i = 0; i < graph->n_nodes; i++)
    {
      lrp->merge[i] = -1;
      for (int k = 0; k < graph->nodes[i].n_inputs; k++)
        readers[graph->nodes[i].inputs[k]]++;
    }
  for (int i = 0; lrp->composite->merge_batchnorm && i < graph->n_nodes; i++)
    {
      const NnNode *node = &graph->nodes[i];
      if (node->op != NN_OP_BATCHNORM)
        continue;
      const NnOp op = graph->nodes[node->inputs[0]].op;
      if (readers[node->inputs[0]] == 1 && (op == NN_OP_CONV2D || op == NN_OP_LINEAR))
        lrp->merge[node->inputs[0]] = i;
    }
  free (readers);
  lrp->wm = malloc (sizeof (float) * most_w);
  lrp->bm = malloc (sizeof (float) * most);
  lrp->low = malloc (sizeof (float) * most);
  lrp->high = malloc (sizeof (float) * most);
  lrp->w = malloc (sizeof (float) * most_w);
  lrp->b = malloc (sizeof (float) * most);
  lrp->in = malloc (sizeof (float) * most);
  lrp->s = malloc (sizeof (float) * most);
  lrp->c = malloc (sizeof (float) * most);
  lrp->scratch = malloc (sizeof (float) * scratch);
  bool ok = lrp->merge && lrp->wm && lrp->bm && lrp->low && lrp->high && lrp->w && lrp->b
            && lrp->in && lrp->s && lrp->c && lrp->scratch;
  for (int k = 0; k < MAX_TERMS; k++)
    ok = (lrp->z[k] = malloc (sizeof (float) * most)) != NULL && ok;
  for (int k = 0; k < 2; k++)
    ok = (lrp->d[k] = malloc (sizeof (float) * most)) != NULL && ok;
  if (!ok)
    return false;
  return true;
}

static void
lrp_free (Lrp *lrp)
{
  free (lrp->merge);
  free (lrp->wm);
  free (lrp->bm);
  free (lrp->low);
  free (lrp->high);
  free (lrp->w);
  free (lrp->b);
  free (lrp->in);
  free (lrp->s);
  free (lrp->c);
  free (lrp->scratch);
  for (int k = 0; k < MAX_TERMS; k++)
    free (lrp->z[k]);
  for (int k = 0; k < 2; k++)
    free (lrp->d[k]);
}

NnMap *
nn_lrp_compute (NnContext              *ctx,
                const float            *input,
                int                     target,
                const NnLrpComposite   *composite,
                const NnExplainControl *control,
                NnError                *err)
{
  NN_ASSERT (ctx && input && composite);
  NnGraph *graph = nn_context_get_graph (ctx);
  const NnShape in = graph->nodes[0].shape;
  const size_t hw = (size_t) in.h * (size_t) in.w, in_size = nn_shape_size (in);
  if (!nn_attribution_check_gradients (ctx, "LRP", err)
      || nn_explain_cancelled (control, err))
    return NULL;
  NnMap *m = nn_attribution_begin (ctx, input, &target, in.h, in.w, in.c, err);
  if (m == NULL)
    return NULL;
  Lrp lrp = { .composite = composite, .first = -1 };
  if (!lrp_alloc (&lrp, graph))
    {
      lrp_free (&lrp);
      nn_map_free (m);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory"), NULL;
    }
  const int logit = nn_explain_logit_node (graph);
  const size_t classes = nn_shape_size (graph->nodes[logit].shape);
  float *seed = nn_context_grad (ctx, logit);
  memset (seed, 0, sizeof (float) * classes * (size_t) nn_context_get_batch (ctx));
  seed[target] = m->score;
  nn_context_set_backward_rule (ctx, lrp_rule, &lrp);
  nn_context_backward (ctx, logit, NN_BACKWARD_INPUT, -1);
  nn_context_set_backward_rule (ctx, NULL, NULL);
  memcpy (m->channels, nn_context_grad (ctx, 0), sizeof (float) * in_size);
  nn_attribution_sum_channels (m->map, m->channels, in.c, hw);
  memcpy (m->layer_map, m->map, sizeof (float) * hw);
  m->is_signed = true;
  lrp_free (&lrp);
  nn_explain_report (control, 1, 1);
  return m;
}

/* The registry's functions (nn-method.h): Zennit's composites with its default parameters,
 * batch norms folded into the layers before them. */

NnMap *
nn_lrp_epsilon_gamma_box (NnContext              *ctx,
                          const float            *input,
                          const NnMethodSpec     *spec,
                          const NnExplainControl *control,
                          NnError                *err)
{
  const NnLrpComposite c = {
    .first = { NN_LRP_ZBOX, 0.0f },
    .conv = { NN_LRP_GAMMA, 0.25f },
    .linear = { NN_LRP_EPSILON, 1e-6f },
    .stabilizer = 1e-6f,
    .merge_batchnorm = true,
  };
  return nn_lrp_compute (ctx, input, spec->target, &c, control, err);
}

NnMap *
nn_lrp_epsilon_plus_flat (NnContext              *ctx,
                          const float            *input,
                          const NnMethodSpec     *spec,
                          const NnExplainControl *control,
                          NnError                *err)
{
  const NnLrpComposite c = {
    .first = { NN_LRP_FLAT, 0.0f },
    .first_linear = true,
    .conv = { NN_LRP_ZPLUS, 0.0f },
    .linear = { NN_LRP_EPSILON, 1e-6f },
    .stabilizer = 1e-6f,
    .merge_batchnorm = true,
  };
  return nn_lrp_compute (ctx, input, spec->target, &c, control, err);
}

NnMap *
nn_lrp_epsilon_alpha2_beta1 (NnContext              *ctx,
                             const float            *input,
                             const NnMethodSpec     *spec,
                             const NnExplainControl *control,
                             NnError                *err)
{
  const NnLrpComposite c = {
    .first = { NN_LRP_ALPHA_BETA, 2.0f },
    .conv = { NN_LRP_ALPHA_BETA, 2.0f },
    .linear = { NN_LRP_EPSILON, 1e-6f },
    .stabilizer = 1e-6f,
    .merge_batchnorm = true,
  };
  return nn_lrp_compute (ctx, input, spec->target, &c, control, err);
}
