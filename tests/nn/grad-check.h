/* SPDX-License-Identifier: MIT */
/* The one finite-difference gradient checker of the nn tests: the analytic gradient against
 * central differences of a scalar loss, over a graph run through NnContext (loss sum (w * out))
 * or over any float array and loss function. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn.h"

/* One check: the settings (grad_check_init gives the defaults), then what the checks found. An
 * element passes when |analytic - numeric| <= abs_tol + rel_tol * max (|analytic|, |numeric|). */
typedef struct
{
  const char  *op;          /* names the check in the failure message: "conv2d 'groups 2'" */
  double       eps;         /* step of the central difference (1e-2) */
  double       abs_tol;     /* 2e-3 */
  double       rel_tol;     /* 1e-2 */
  size_t       max_points;  /* elements checked per array, spread over it; 0 (default): all */
  /* The share of the checked elements that may match only a one-sided difference: a ReLU kink
   * or a change of max-pool winner within +-eps spoils the central one. 0 by default. */
  double       kink_share;
  uint64_t     seed;        /* the loss weights w, the default input, the elements checked */

  /* grad_check_graph only. */
  int          batch;       /* 2 */
  bool         training;    /* batch norm on batch statistics; false (eval) by default */
  int          threads;     /* workers of the context (1) */
  const float *input;       /* batch x input size values; NULL: uniform in [-1, 1] */

  /* What the checks found. */
  size_t       n_checked;
  size_t       n_one_sided;
  char         failure[512];  /* the first failure ("" while none): op, tensor, element */
} GradCheck;

/* The loss whose derivatives grad_check_values takes, evaluated at the current values. */
typedef double (*GradCheckLoss) (void *data);

void     grad_check_init (GradCheck  *gc,
                          const char *op);

/* Compares analytic[i] with the central difference (loss (x + eps) - loss (x - eps)) / 2 eps
 * in each checked element x[i] of the n floats at x, which it restores. `tensor` names the
 * array in the failure message. Returns false once any check of gc has failed. */
bool     grad_check_values (GradCheck     *gc,
                            const char    *tensor,
                            float         *x,
                            const float   *analytic,
                            size_t         n,
                            GradCheckLoss  loss,
                            void          *data);

/* Runs graph (input -> op -> ...) through a fresh context with gc->batch samples, seeds the
 * output's gradient with fixed random weights w and compares what the context's backward gives
 * with central differences of its forward pass in sum (w * output): the input gradient (the
 * full pass's, which the input-only pass must equal) and the gradient of every trainable
 * parameter; parameters that are not trainable must get none. The graph's values are restored;
 * batch norm in training mode moves its running statistics. */
bool     grad_check_graph (GradCheck *gc,
                           NnGraph   *graph);

/* Whether every check passed and no more elements than kink_share allows matched only a
 * one-sided difference; when not, gc->failure says why. */
bool     grad_check_passed (GradCheck *gc);

/* Fails the test with gc->failure unless grad_check_passed (gc). */
#define grad_check_assert(gc)                                                               \
  G_STMT_START                                                                              \
  {                                                                                         \
    if (!grad_check_passed (gc))                                                            \
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, (gc)->failure);     \
  }                                                                                         \
  G_STMT_END

/* n values uniform in [lo, hi), from seed. */
void     grad_check_fill (float    *x,
                          size_t    n,
                          uint64_t  seed,
                          float     lo,
                          float     hi);

/* Fills the parameter of `node` with `role` (which must exist) uniform in [lo, hi). */
void     grad_check_fill_param (NnGraph     *graph,
                                int          node,
                                NnParamRole  role,
                                uint64_t     seed,
                                float        lo,
                                float        hi);
