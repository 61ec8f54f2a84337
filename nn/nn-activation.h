/* SPDX-License-Identifier: MIT */
/* Elementwise activations. The backward pass of the ReLU family follows a gradient policy
 * chosen independently of the forward pass (DESIGN.md section 3). N is the element count. */
#pragma once

#include <stddef.h>

#include "nn-graph.h"

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

/* The derivative a policy uses at pre-activation x for a ReLU of forward slope `slope`, given
 * the incoming gradient dy (redirected ReLU depends on its sign). */
float nn_relu_policy_grad (float               x,
                           float               dy,
                           float               slope,
                           const NnGradPolicy *policy);
