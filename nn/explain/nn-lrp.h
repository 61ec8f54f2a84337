/* SPDX-License-Identifier: MIT */
/* Layer-wise Relevance Propagation (Bach et al. 2015) through the engine's backward pass with
 * a rule per op, as Zennit computes it with modified gradients: the ε, γ, αβ, z+, z^B (box)
 * and flat rules on convolutions and linear layers, chosen per layer type by a composite;
 * activations and batch norms pass relevance on, sums and average pools share it in proportion
 * to their inputs, max pools route it to the winner. The registry's rows are Zennit's
 * composites EpsilonGammaBox, EpsilonPlusFlat and EpsilonAlpha2Beta1. */
#pragma once

#include "explain/nn-explain.h"

typedef enum
{
  NN_LRP_EPSILON,     /* R_i = x_i sum_j w_ji R_j / (z_j + eps sign z_j); param: eps */
  NN_LRP_GAMMA,       /* Zennit's generalized γ: w + γ w+ for positive outputs from positive
                         inputs (w + γ w- from negative ones), the reverse for negative
                         outputs; param: γ */
  NN_LRP_ALPHA_BETA,  /* α (positive contributions) - β (negative ones); param: α, β = α - 1 */
  NN_LRP_ZPLUS,       /* α = 1, β = 0 */
  NN_LRP_ZBOX,        /* z^B for inputs in a box [low, high]: the bounds are each channel's
                         minimum and maximum in the layer's input */
  NN_LRP_FLAT,        /* relevance spread evenly over the receptive field */
} NnLrpRuleKind;

typedef struct
{
  NnLrpRuleKind kind;
  float         param;
} NnLrpRule;

/* Which rule each layer type gets; `first` is the first convolution (or, when first_linear,
 * the first convolution or linear layer). Denominators are stabilized by adding `stabilizer`
 * with their sign (the ε rule uses its own ε). With merge_batchnorm, a batch norm that is the
 * only reader of a convolution or linear layer is folded into its weights and bias for the
 * rule (Zennit's SequentialMergeBatchNorm canonizer) and then passes relevance on. */
typedef struct
{
  NnLrpRule first;
  bool      first_linear;
  NnLrpRule conv;
  NnLrpRule linear;
  float     stabilizer;
  bool      merge_batchnorm;
} NnLrpComposite;

/* The relevance of input (C, H, W) for the target (-1: the top class) on ctx (batch 1, with
 * gradient buffers), starting from R = y_c at the target's logit: map->channels (C, H, W) and
 * their sum over channels in map->map (signed). NULL with err on a bad class, a context without
 * gradient buffers, or when out of memory. */
NnMap *nn_lrp_compute (NnContext              *ctx,
                       const float            *input,
                       int                     target,
                       const NnLrpComposite   *composite,
                       const NnExplainControl *control,
                       NnError                *err);
