/* SPDX-License-Identifier: MIT */
/* Elementwise activations. The backward pass of the ReLU family follows a gradient policy
 * chosen independently of the forward pass (docs/architecture.md, "Gradient policies"). N is the
 * element count. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/nn-error.h"

/* The forward function of an activation node. */
typedef enum
{
  NN_ACT_RELU,       /* max(x, slope * x); slope 0 is ReLU, slope > 0 leaky ReLU */
  NN_ACT_SIGMOID,
  NN_ACT_TANH,
  NN_ACT_CLIP,         /* min (max (x, alpha), beta); ReLU6 is alpha 0, beta 6 */
  NN_ACT_HARDSIGMOID,  /* max (0, min (1, alpha x + beta)) */
  NN_ACT_HARDSWISH,    /* x * relu6 (x + 3) / 6 */
  NN_ACT_ERF,          /* the error function */
  NN_ACT_GELU,         /* x Phi (x) = x (1 + erf (x / sqrt 2)) / 2 */
  NN_ACT_GELU_TANH,    /* x (1 + tanh (sqrt (2 / pi) (x + 0.044715 x^3))) / 2 */
  NN_ACT_SILU,         /* x sigmoid (x) (Swish) */
  NN_ACT_POW,          /* x^alpha, a constant exponent (2 and 0.5 exactly as x x and sqrt) */
  NN_ACT_SQRT,         /* sqrt (x) */
  NN_ACT_COUNT_
} NnActKind;

/* How the backward pass of a ReLU-family node is computed, independently of its forward
 * (docs/architecture.md, gradient policies). `beta` is ProxyGrad's backward slope. */
typedef enum
{
  NN_GRAD_EXACT,         /* the true derivative */
  NN_GRAD_PROXY,         /* slope beta for x < 0 in the backward pass (straight-through) */
  NN_GRAD_SUGAR_BSILU,   /* derivative of (x + a) sigmoid(x) - a/2, a = 1.67 */
  NN_GRAD_SUGAR_NELU,    /* 1 for x > 0, 2 a x / (1 + x^2)^2 otherwise (a = beta, default
                            0.01, written sugar:nelu:A) */
  NN_GRAD_IDENTITY,      /* derivative 1 everywhere (identity warm-up) */
  NN_GRAD_REDIRECTED,    /* Lucid's redirected ReLU: pass the gradient where x < 0 only if it
                            points towards x > 0 */
  NN_GRAD_GUIDED,        /* guided backpropagation: pass the gradient only where x > 0 and it is
                            positive (Springenberg et al.) */
  NN_GRAD_PROXY_FULL,    /* ProxyGrad read as the proxy network: as a context's override (never a
                            node's own policy), the forward pass too uses slope beta, and the
                            backward the proxy's exact derivative */
  NN_GRAD_COUNT_
} NnGradKind;

typedef struct
{
  NnGradKind kind;
  float      beta;
} NnGradPolicy;

typedef struct
{
  NnActKind    kind;
  float        slope;   /* negative slope of the forward pass (ReLU family) */
  float        alpha;   /* clip: minimum; hard sigmoid: alpha; pow: the exponent */
  float        beta;    /* clip: maximum; hard sigmoid: beta */
  NnGradPolicy policy;  /* backward policy stored with the model */
} NnActAttrs;

/* out (N) = act(inp (N)); `slope` is the forward negative slope (ReLU family). */
void nn_activation_forward (float            *out,
                            const float      *inp,
                            size_t            N,
                            const NnActAttrs *attrs);

/* Accumulates dinp (N) += dout (N) * g(inp, out), where g is the derivative the policy
 * prescribes (ReLU family) or the true derivative (sigmoid, tanh use `out`; clip and the hard
 * functions `inp`). */
void nn_activation_backward (float              *dinp,
                             const float        *dout,
                             const float        *inp,
                             const float        *out,
                             size_t              N,
                             const NnActAttrs   *attrs,
                             const NnGradPolicy *policy);

/* The text form of kinds and policies, used in model files and on the command line. */
const char *nn_act_name (NnActKind kind);
bool        nn_act_from_name (const char *name,
                              NnActKind  *kind);
/* Whether the kind reads alpha and beta (clip, hard sigmoid, pow); model files store them
 * only then. */
bool        nn_act_has_params (NnActKind kind);
/* Whether alpha and beta are finite and, for the kind, in order (clip: alpha <= beta). */
bool        nn_act_params_valid (NnActKind kind,
                                 float     alpha,
                                 float     beta);
const char *nn_grad_kind_name (NnGradKind kind);
/* NeLU's alpha when none is given (the SUGAR paper's main setting). */
#define NN_NELU_ALPHA_DEFAULT 0.01f

/* Parses "exact", "proxygrad:B", "proxygrad-full:B", "sugar:bsilu", "sugar:nelu:A", "identity",
 * "redirected", "guided" ("proxygrad" and "proxygrad-full" alone take beta = 0.3, "sugar:nelu"
 * alone alpha = 0.01 in beta; "nelu[:A]" and "bsilu" are short for the SUGAR ones). */
bool        nn_grad_policy_parse (const char   *text,
                                  NnGradPolicy *policy,
                                  NnError      *err);
/* Writes the text form of a policy into buf (inverse of nn_grad_policy_parse). */
void        nn_grad_policy_format (const NnGradPolicy *policy,
                                   char               *buf,
                                   size_t              size);

/* The derivative a policy uses at pre-activation x for a ReLU of forward slope `slope`, given
 * the incoming gradient dy (redirected ReLU depends on its sign). */
float nn_relu_policy_grad (float               x,
                           float               dy,
                           float               slope,
                           const NnGradPolicy *policy);
