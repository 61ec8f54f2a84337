/* SPDX-License-Identifier: MIT */
/* Elementwise activations, their names, and the gradient policies of the ReLU family (exact,
 * ProxyGrad, SUGAR with B-SiLU or NeLU, identity warm-up, Lucid's redirected ReLU, guided
 * backprop, the full proxy) with their text form. */
#include "ops/nn-activation.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/nn-error.h"
#include "ops/nn-simd.h"

/* Each kind's name in model files and on the command line, whether it reads alpha and beta,
 * and whether those must be in order (alpha <= beta). */
static const struct
{
  const char *name;
  bool        has_params;
  bool        ordered;
} act_kinds[] = {
  [NN_ACT_RELU] = { "relu", false, false },
  [NN_ACT_SIGMOID] = { "sigmoid", false, false },
  [NN_ACT_TANH] = { "tanh", false, false },
  [NN_ACT_CLIP] = { "clip", true, true },
  [NN_ACT_HARDSIGMOID] = { "hardsigmoid", true, false },
  [NN_ACT_HARDSWISH] = { "hardswish", false, false },
  [NN_ACT_ERF] = { "erf", false, false },
  [NN_ACT_GELU] = { "gelu", false, false },
  [NN_ACT_GELU_TANH] = { "gelu_tanh", false, false },
  [NN_ACT_SILU] = { "silu", false, false },
  [NN_ACT_POW] = { "pow", true, false },
  [NN_ACT_SQRT] = { "sqrt", false, false },
};
_Static_assert (sizeof act_kinds / sizeof act_kinds[0] == NN_ACT_COUNT_,
                "act_kinds needs one row per NnActKind");

static const char *const grad_names[] = {
  [NN_GRAD_EXACT] = "exact",
  [NN_GRAD_PROXY] = "proxygrad",
  [NN_GRAD_SUGAR_BSILU] = "sugar:bsilu",
  [NN_GRAD_SUGAR_NELU] = "sugar:nelu",
  [NN_GRAD_IDENTITY] = "identity",
  [NN_GRAD_REDIRECTED] = "redirected",
  [NN_GRAD_GUIDED] = "guided",
  [NN_GRAD_PROXY_FULL] = "proxygrad-full",
};
_Static_assert (sizeof grad_names / sizeof grad_names[0] == NN_GRAD_COUNT_,
                "grad_names needs one name per NnGradKind");

const char *
nn_act_name (NnActKind kind)
{
  NN_ASSERT (kind >= 0 && kind < NN_ACT_COUNT_);
  return act_kinds[kind].name;
}

bool
nn_act_from_name (const char *name,
                  NnActKind  *kind)
{
  for (int i = 0; i < NN_ACT_COUNT_; i++)
    if (strcmp (name, act_kinds[i].name) == 0)
      {
        *kind = (NnActKind) i;
        return true;
      }
  return false;
}

bool
nn_act_has_params (NnActKind kind)
{
  NN_ASSERT (kind >= 0 && kind < NN_ACT_COUNT_);
  return act_kinds[kind].has_params;
}

bool
nn_act_params_valid (NnActKind kind,
                     float     alpha,
                     float     beta)
{
  NN_ASSERT (kind >= 0 && kind < NN_ACT_COUNT_);
  return isfinite (alpha) && isfinite (beta) && (!act_kinds[kind].ordered || alpha <= beta);
}

const char *
nn_grad_kind_name (NnGradKind kind)
{
  NN_ASSERT (kind >= 0 && kind < NN_GRAD_COUNT_);
  return grad_names[kind];
}

bool
nn_grad_policy_parse (const char   *text,
                      NnGradPolicy *policy,
                      NnError      *err)
{
  policy->beta = 0.0f;
  static const struct
  {
    const char *prefix;
    NnGradKind  kind;
  } proxies[] = { { "proxygrad-full", NN_GRAD_PROXY_FULL }, { "proxygrad", NN_GRAD_PROXY } };
  for (size_t k = 0; k < sizeof proxies / sizeof proxies[0]; k++)
    {
      size_t len = strlen (proxies[k].prefix);
      if (strncmp (text, proxies[k].prefix, len) != 0 || (text[len] != ':' && text[len] != '\0'))
        continue;
      policy->kind = proxies[k].kind;
      policy->beta = 0.3f;
      if (text[len] == '\0')
        return true;
      char *end = NULL;
      double beta = strtod (text + len + 1, &end);
      if (end == text + len + 1 || *end != '\0' || !(beta >= 0.0 && beta <= 10.0))
        return nn_error_set (err, NN_ERROR_SPEC,
                             "gradient policy '%s': the slope must be a number in [0, 10]", text);
      policy->beta = (float) beta;
      return true;
    }
  /* NeLU's alpha: "sugar:nelu" or "nelu" alone take the SUGAR paper's 0.01; "sugar:nelu:A" and
   * "nelu:A" set it (the paper also used 0.1). */
  static const char *const nelu_prefixes[] = { "sugar:nelu", "nelu" };
  for (size_t k = 0; k < sizeof nelu_prefixes / sizeof nelu_prefixes[0]; k++)
    {
      size_t len = strlen (nelu_prefixes[k]);
      if (strncmp (text, nelu_prefixes[k], len) != 0 || (text[len] != ':' && text[len] != '\0'))
        continue;
      policy->kind = NN_GRAD_SUGAR_NELU;
      policy->beta = NN_NELU_ALPHA_DEFAULT;
      if (text[len] == '\0')
        return true;
      char *end = NULL;
      double alpha = strtod (text + len + 1, &end);
      if (end == text + len + 1 || *end != '\0' || !(alpha >= 0.0 && alpha <= 10.0))
        return nn_error_set (err, NN_ERROR_SPEC,
                             "gradient policy '%s': NeLU's alpha must be a number in [0, 10]",
                             text);
      policy->beta = (float) alpha;
      return true;
    }
  if (strcmp (text, "bsilu") == 0)
    {
      policy->kind = NN_GRAD_SUGAR_BSILU;
      return true;
    }
  for (int i = 0; i < NN_GRAD_COUNT_; i++)
    if (strcmp (text, grad_names[i]) == 0)
      {
        policy->kind = (NnGradKind) i;
        return true;
      }
  return nn_error_set (err, NN_ERROR_SPEC,
                       "unknown gradient policy '%s' (expected exact, proxygrad:B, "
                       "proxygrad-full:B, sugar:bsilu, sugar:nelu[:A], identity, redirected or "
                       "guided)", text);
}

void
nn_grad_policy_format (const NnGradPolicy *policy,
                       char               *buf,
                       size_t              size)
{
  if (policy->kind == NN_GRAD_PROXY || policy->kind == NN_GRAD_PROXY_FULL)
    snprintf (buf, size, "%s:%g", nn_grad_kind_name (policy->kind), (double) policy->beta);
  else if (policy->kind == NN_GRAD_SUGAR_NELU && policy->beta != NN_NELU_ALPHA_DEFAULT)
    snprintf (buf, size, "%s:%g", nn_grad_kind_name (policy->kind), (double) policy->beta);
  else
    snprintf (buf, size, "%s", nn_grad_kind_name (policy->kind));
}

/* The B-SiLU surrogate of SUGAR: (x + a) sigmoid(x) - a/2. */
#define NN_BSILU_A 1.67f

static inline float
sigmoidf (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

static inline float
hard_sigmoid (float x,
              float alpha,
              float beta)
{
  float z = alpha * x + beta;
  return z < 0.0f ? 0.0f : z > 1.0f ? 1.0f : z;
}

/* d/dx [(x + a) s(x) - a/2] = s(x) + (x + a) s(x) (1 - s(x)). */
static inline float
bsilu_grad (float x)
{
  float s = sigmoidf (x);
  return s + (x + NN_BSILU_A) * s * (1.0f - s);
}

/* NeLU(x) = x for x > 0, -a / (1 + x^2) otherwise; its derivative for x <= 0 is
 * 2 a x / (1 + x^2)^2 (negative for x < 0, as in the SUGAR paper's definition). */
static inline float
nelu_grad (float x,
           float a)
{
  if (x > 0.0f)
    return 1.0f;
  float q = 1.0f + x * x;
  return 2.0f * a * x / (q * q);
}

/* Lucid's redirected ReLU, in our gradient-ascent convention (dy is d objective / d out and the
 * input moves along +dy): where x <= 0 the gradient passes unchanged when dy > 0, i.e. when it
 * would push x towards the active region, and otherwise gets the forward slope (0 for ReLU).
 * Lucid (which minimizes -objective) applies this only to samples whose ReLU gradient is zero
 * everywhere; we apply the elementwise rule unconditionally. */
static inline float
redirected_grad (float x,
                 float dy,
                 float slope)
{
  if (x > 0.0f || dy > 0.0f)
    return 1.0f;
  return slope;
}

float
nn_relu_policy_grad (float               x,
                     float               dy,
                     float               slope,
                     const NnGradPolicy *policy)
{
  NN_ASSERT (policy != NULL);
  switch (policy->kind)
    {
    case NN_GRAD_EXACT:
      return x > 0.0f ? 1.0f : slope;
    case NN_GRAD_PROXY:
    case NN_GRAD_PROXY_FULL:
      return x > 0.0f ? 1.0f : policy->beta;
    case NN_GRAD_SUGAR_BSILU:
      return bsilu_grad (x);
    case NN_GRAD_SUGAR_NELU:
      return nelu_grad (x, policy->beta);
    case NN_GRAD_IDENTITY:
      return 1.0f;
    case NN_GRAD_REDIRECTED:
      return redirected_grad (x, dy, slope);
    case NN_GRAD_GUIDED:
      return x > 0.0f && dy > 0.0f ? 1.0f : 0.0f;
    case NN_GRAD_COUNT_:
    default:
      NN_ASSERT (!"unknown gradient policy");
    }
}

#define NN_SQRT1_2    0.70710678118654752440
#define NN_2_SQRTPI   1.12837916709551257390   /* 2 / sqrt (pi) */
#define NN_SQRT_2_PI  0.79788456080286535588   /* sqrt (2 / pi) */
#define NN_GELU_CUBIC 0.044715

/* The inner value of the tanh GELU and its derivative in x. */
static inline double
gelu_tanh_inner (double  x,
                 double *dinner)
{
  *dinner = NN_SQRT_2_PI * (1.0 + 3.0 * NN_GELU_CUBIC * x * x);
  return NN_SQRT_2_PI * (x + NN_GELU_CUBIC * x * x * x);
}

/* x^e, with the exponents exports use written as products or a root (as PyTorch computes them,
 * so that x^2 of a negative x is not NaN from a general pow). */
static void
pow_forward (float       *out,
             const float *inp,
             size_t       N,
             float        e)
{
  if (e == 2.0f)
    for (size_t i = 0; i < N; i++)
      out[i] = inp[i] * inp[i];
  else if (e == 0.5f)
    for (size_t i = 0; i < N; i++)
      out[i] = sqrtf (inp[i]);
  else if (e == 1.0f)
    memcpy (out, inp, sizeof (float) * N);
  else
    for (size_t i = 0; i < N; i++)
      out[i] = powf (inp[i], e);
}

void
nn_activation_forward (float            *out,
                       const float      *inp,
                       size_t            N,
                       const NnActAttrs *attrs)
{
  NN_ASSERT (out && inp && attrs);
  switch (attrs->kind)
    {
    case NN_ACT_RELU:
      {
        /* PyTorch's leaky ReLU: x for x > 0, slope x otherwise (max (x, slope x) for
         * slope <= 1). */
        nn_simd ()->relu (out, inp, N, attrs->slope);
        break;
      }
    case NN_ACT_SIGMOID:
      nn_simd ()->sigmoid (out, inp, N);
      break;
    case NN_ACT_TANH:
      for (size_t i = 0; i < N; i++)
        out[i] = tanhf (inp[i]);
      break;
    case NN_ACT_CLIP:
      {
        const float lo = attrs->alpha, hi = attrs->beta;
        for (size_t i = 0; i < N; i++)
          out[i] = inp[i] < lo ? lo : inp[i] > hi ? hi : inp[i];
        break;
      }
    case NN_ACT_HARDSIGMOID:
      for (size_t i = 0; i < N; i++)
        out[i] = hard_sigmoid (inp[i], attrs->alpha, attrs->beta);
      break;
    case NN_ACT_HARDSWISH:
      for (size_t i = 0; i < N; i++)
        out[i] = inp[i] * hard_sigmoid (inp[i], 1.0f / 6.0f, 0.5f);
      break;
    case NN_ACT_ERF:
      for (size_t i = 0; i < N; i++)
        out[i] = erff (inp[i]);
      break;
    case NN_ACT_GELU:
      for (size_t i = 0; i < N; i++)
        {
          const double x = (double) inp[i];
          out[i] = (float) (0.5 * x * (1.0 + erf (x * NN_SQRT1_2)));
        }
      break;
    case NN_ACT_GELU_TANH:
      for (size_t i = 0; i < N; i++)
        {
          const double x = (double) inp[i];
          double d;
          out[i] = (float) (0.5 * x * (1.0 + tanh (gelu_tanh_inner (x, &d))));
        }
      break;
    case NN_ACT_SILU:
      nn_simd ()->silu (out, inp, N);
      break;
    case NN_ACT_POW:
      pow_forward (out, inp, N, attrs->alpha);
      break;
    case NN_ACT_SQRT:
      for (size_t i = 0; i < N; i++)
        out[i] = sqrtf (inp[i]);
      break;
    case NN_ACT_COUNT_:
    default:
      NN_ASSERT (!"unknown activation");
    }
}

/* The ReLU family: one loop per policy, each the inlined form of nn_relu_policy_grad. */
static void
relu_backward (float              *dinp,
               const float        *dout,
               const float        *inp,
               size_t              N,
               float               slope,
               const NnGradPolicy *policy)
{
  switch (policy->kind)
    {
    case NN_GRAD_EXACT:
      nn_simd ()->relu_backward (dinp, dout, inp, N, slope);
      break;
    case NN_GRAD_PROXY:
    case NN_GRAD_PROXY_FULL:
      {
        /* Straight-through, or (full proxy) the proxy's own derivative at the pre-activations
         * its forward pass stored: the same formula. */
        const float beta = policy->beta;
        for (size_t i = 0; i < N; i++)
          dinp[i] += inp[i] > 0.0f ? dout[i] : beta * dout[i];
        break;
      }
    case NN_GRAD_SUGAR_BSILU:
      for (size_t i = 0; i < N; i++)
        dinp[i] += dout[i] * bsilu_grad (inp[i]);
      break;
    case NN_GRAD_SUGAR_NELU:
      for (size_t i = 0; i < N; i++)
        dinp[i] += dout[i] * nelu_grad (inp[i], policy->beta);
      break;
    case NN_GRAD_IDENTITY:
      for (size_t i = 0; i < N; i++)
        dinp[i] += dout[i];
      break;
    case NN_GRAD_REDIRECTED:
      for (size_t i = 0; i < N; i++)
        dinp[i] += dout[i] * redirected_grad (inp[i], dout[i], slope);
      break;
    case NN_GRAD_GUIDED:
      /* The exact ReLU mask times the ReLU of the incoming gradient. */
      for (size_t i = 0; i < N; i++)
        dinp[i] += inp[i] > 0.0f && dout[i] > 0.0f ? dout[i] : 0.0f;
      break;
    case NN_GRAD_COUNT_:
    default:
      NN_ASSERT (!"unknown gradient policy");
    }
}

void
nn_activation_backward (float              *dinp,
                        const float        *dout,
                        const float        *inp,
                        const float        *out,
                        size_t              N,
                        const NnActAttrs   *attrs,
                        const NnGradPolicy *policy)
{
  NN_ASSERT (dinp && dout && attrs);
  switch (attrs->kind)
    {
    case NN_ACT_RELU:
      NN_ASSERT (inp != NULL && policy != NULL);
      relu_backward (dinp, dout, inp, N, attrs->slope, policy);
      break;
    case NN_ACT_SIGMOID:
      /* s' = s (1 - s) */
      NN_ASSERT (out != NULL);
      for (size_t i = 0; i < N; i++)
        dinp[i] += dout[i] * out[i] * (1.0f - out[i]);
      break;
    case NN_ACT_TANH:
      /* tanh' = 1 - tanh^2 */
      NN_ASSERT (out != NULL);
      for (size_t i = 0; i < N; i++)
        dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
      break;
    case NN_ACT_CLIP:
      /* 1 strictly inside (alpha, beta), 0 outside, as PyTorch's hardtanh */
      NN_ASSERT (inp != NULL);
      for (size_t i = 0; i < N; i++)
        if (inp[i] > attrs->alpha && inp[i] < attrs->beta)
          dinp[i] += dout[i];
      break;
    case NN_ACT_HARDSIGMOID:
      /* alpha where 0 < alpha x + beta < 1 */
      NN_ASSERT (inp != NULL);
      for (size_t i = 0; i < N; i++)
        {
          float z = attrs->alpha * inp[i] + attrs->beta;
          if (z > 0.0f && z < 1.0f)
            dinp[i] += dout[i] * attrs->alpha;
        }
      break;
    case NN_ACT_HARDSWISH:
      /* 0 for x < -3, (2x + 3) / 6 on [-3, 3], 1 above */
      NN_ASSERT (inp != NULL);
      for (size_t i = 0; i < N; i++)
        {
          float x = inp[i];
          dinp[i] += x < -3.0f ? 0.0f : x > 3.0f ? dout[i] : dout[i] * (2.0f * x + 3.0f) / 6.0f;
        }
      break;
    case NN_ACT_ERF:
      /* erf' = 2 / sqrt (pi) exp (-x^2) */
      NN_ASSERT (inp != NULL);
      for (size_t i = 0; i < N; i++)
        {
          const double x = (double) inp[i];
          dinp[i] += dout[i] * (float) (NN_2_SQRTPI * exp (-x * x));
        }
      break;
    case NN_ACT_GELU:
      /* Phi (x) + x phi (x) */
      NN_ASSERT (inp != NULL);
      for (size_t i = 0; i < N; i++)
        {
          const double x = (double) inp[i];
          const double cdf = 0.5 * (1.0 + erf (x * NN_SQRT1_2));
          const double pdf = 0.5 * NN_2_SQRTPI * NN_SQRT1_2 * exp (-0.5 * x * x);
          dinp[i] += dout[i] * (float) (cdf + x * pdf);
        }
      break;
    case NN_ACT_GELU_TANH:
      NN_ASSERT (inp != NULL);
      for (size_t i = 0; i < N; i++)
        {
          const double x = (double) inp[i];
          double dinner;
          const double t = tanh (gelu_tanh_inner (x, &dinner));
          dinp[i] += dout[i] * (float) (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner);
        }
      break;
    case NN_ACT_SILU:
      /* s + x s (1 - s) */
      NN_ASSERT (inp != NULL);
      for (size_t i = 0; i < N; i++)
        {
          const float s = sigmoidf (inp[i]);
          dinp[i] += dout[i] * (s + inp[i] * s * (1.0f - s));
        }
      break;
    case NN_ACT_POW:
      /* alpha x^(alpha - 1) */
      NN_ASSERT (inp != NULL);
      if (attrs->alpha == 2.0f)
        for (size_t i = 0; i < N; i++)
          dinp[i] += dout[i] * 2.0f * inp[i];
      else
        for (size_t i = 0; i < N; i++)
          dinp[i] += dout[i] * attrs->alpha * powf (inp[i], attrs->alpha - 1.0f);
      break;
    case NN_ACT_SQRT:
      /* 1 / (2 sqrt (x)) */
      NN_ASSERT (out != NULL);
      for (size_t i = 0; i < N; i++)
        dinp[i] += dout[i] * 0.5f / out[i];
      break;
    case NN_ACT_COUNT_:
    default:
      NN_ASSERT (!"unknown activation");
    }
}
