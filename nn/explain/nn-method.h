/* SPDX-License-Identifier: MIT */
/* The attribution methods in one registry: an enum over every CAM and saliency method and one
 * row per method (name, label, flags, the function that computes it). Menus iterate it, the
 * CLI looks names up in it, nn_explain_run reads the flags to make its contexts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "explain/nn-explain.h"

typedef enum
{
  NN_METHOD_FLAG_GRADIENTS = 1 << 0,  /* backpropagates: needs a context with NN_CONTEXT_BACKWARD */
  NN_METHOD_FLAG_LAYER     = 1 << 1,  /* works at a chosen layer (NnMethodSpec.layer) */
  NN_METHOD_FLAG_SIGNED    = 1 << 2,  /* the map is signed whatever the options */
  NN_METHOD_FLAG_BATCHED   = 1 << 3,  /* evaluates many inputs per pass: give it a batch */
  NN_METHOD_FLAG_CAM       = 1 << 4,  /* a class activation map (cnnscope-cli cam): the map at
                                         the layer's resolution, signed with keep_negative */
  NN_METHOD_FLAG_ATTENTION = 1 << 5,  /* needs attention maps (softmax_axis nodes of shape
                                         (heads, N, N) or (N, N)): vision transformers only */
} NnMethodFlags;

/* The CAM methods that backpropagate down to the layer. */
#define NN_METHOD_FLAGS_GRADIENT_CAM \
  (NN_METHOD_FLAG_GRADIENTS | NN_METHOD_FLAG_LAYER | NN_METHOD_FLAG_CAM)

/* The registry, one row per method: ROW (ID, name, label, flags, function). The enum value is
 * NN_METHOD_<ID>; the function has the type NnMethodFn and lives beside the method's formula
 * (nn-cam.c, nn-saliency.c, or a file of its own: nn-ablation-cam.c, nn-lrp.c, nn-rollout.c,
 * nn-attn-grad.c, ...). The order is that of the menus. Adding a method: its function, its row
 * here, its test (and its line in docs/explain.md). */
#define NN_METHOD_LIST(ROW)                                                                    \
  ROW (GRADCAM, "gradcam", "Grad-CAM", NN_METHOD_FLAGS_GRADIENT_CAM, nn_cam_gradcam)           \
  ROW (GRADCAM_PP, "gradcam++", "Grad-CAM++", NN_METHOD_FLAGS_GRADIENT_CAM, nn_cam_gradcam_pp) \
  ROW (XGRADCAM, "xgradcam", "XGrad-CAM", NN_METHOD_FLAGS_GRADIENT_CAM, nn_cam_xgradcam)       \
  ROW (HIRESCAM, "hirescam", "HiResCAM", NN_METHOD_FLAGS_GRADIENT_CAM, nn_cam_hirescam)        \
  ROW (LAYERCAM, "layercam", "LayerCAM", NN_METHOD_FLAGS_GRADIENT_CAM, nn_cam_layercam)        \
  ROW (SCORECAM, "scorecam", "Score-CAM",                                                      \
       NN_METHOD_FLAG_LAYER | NN_METHOD_FLAG_BATCHED | NN_METHOD_FLAG_CAM, nn_cam_scorecam)    \
  ROW (EIGENCAM, "eigencam", "Eigen-CAM", NN_METHOD_FLAG_LAYER | NN_METHOD_FLAG_CAM,           \
       nn_cam_eigencam)                                                                        \
  ROW (ABLATIONCAM, "ablationcam", "AblationCAM",                                              \
       NN_METHOD_FLAG_LAYER | NN_METHOD_FLAG_BATCHED | NN_METHOD_FLAG_CAM, nn_cam_ablationcam) \
  ROW (EIGENGRADCAM, "eigengradcam", "Eigen-Grad-CAM", NN_METHOD_FLAGS_GRADIENT_CAM,           \
       nn_cam_eigengradcam)                                                                    \
  ROW (GRADIENT, "gradient", "Gradient", NN_METHOD_FLAG_GRADIENTS, nn_saliency_gradient)       \
  ROW (SMOOTHGRAD, "smoothgrad", "SmoothGrad",                                                 \
       NN_METHOD_FLAG_GRADIENTS | NN_METHOD_FLAG_BATCHED, nn_saliency_smoothgrad)              \
  ROW (IG, "ig", "Integrated Gradients",                                                       \
       NN_METHOD_FLAG_GRADIENTS | NN_METHOD_FLAG_BATCHED | NN_METHOD_FLAG_SIGNED,              \
       nn_saliency_ig)                                                                         \
  ROW (GUIDED, "guided", "Guided Backprop", NN_METHOD_FLAG_GRADIENTS, nn_saliency_guided)      \
  ROW (GUIDED_GRADCAM, "guided-gradcam", "Guided Grad-CAM",                                    \
       NN_METHOD_FLAG_GRADIENTS | NN_METHOD_FLAG_LAYER, nn_saliency_guided_gradcam)            \
  ROW (FULLGRAD, "fullgrad", "FullGrad", NN_METHOD_FLAG_GRADIENTS, nn_fullgrad)                \
  ROW (OCCLUSION, "occlusion", "Occlusion",                                                    \
       NN_METHOD_FLAG_BATCHED | NN_METHOD_FLAG_SIGNED, nn_occlusion)                           \
  ROW (DEEPLIFT, "deeplift", "DeepLIFT", NN_METHOD_FLAG_GRADIENTS | NN_METHOD_FLAG_SIGNED,     \
       nn_deeplift)                                                                            \
  ROW (GRADIENT_SHAP, "gradientshap", "GradientSHAP",                                          \
       NN_METHOD_FLAG_GRADIENTS | NN_METHOD_FLAG_BATCHED | NN_METHOD_FLAG_SIGNED,              \
       nn_gradient_shap)                                                                       \
  ROW (LRP_GAMMA_BOX, "lrp-epsilon-gamma-box", "LRP (ε, γ, box)",                              \
       NN_METHOD_FLAG_GRADIENTS | NN_METHOD_FLAG_SIGNED, nn_lrp_epsilon_gamma_box)             \
  ROW (LRP_PLUS_FLAT, "lrp-epsilon-plus-flat", "LRP (ε, z+, flat)",                            \
       NN_METHOD_FLAG_GRADIENTS | NN_METHOD_FLAG_SIGNED, nn_lrp_epsilon_plus_flat)             \
  ROW (LRP_ALPHA_BETA, "lrp-epsilon-alpha2-beta1", "LRP (ε, α2β1)",                            \
       NN_METHOD_FLAG_GRADIENTS | NN_METHOD_FLAG_SIGNED, nn_lrp_epsilon_alpha2_beta1)        \
  ROW (ROLLOUT, "rollout", "Attention rollout", NN_METHOD_FLAG_ATTENTION, nn_rollout)           \
  ROW (ATTN_GRAD, "attn-grad", "Attention × gradient",                                         \
       NN_METHOD_FLAG_GRADIENTS | NN_METHOD_FLAG_ATTENTION, nn_attn_grad)

#define NN_METHOD_ENUM_VALUE(id, name, label, flags, fn) NN_METHOD_##id,

typedef enum
{
  NN_METHOD_LIST (NN_METHOD_ENUM_VALUE)
  NN_METHOD_COUNT_
} NnMethod;

/* What a method computes: one spec for every method; each reads the fields it uses. */
typedef struct
{
  NnMethod     method;
  int          target;         /* class; -1: the top prediction (Eigen-CAM ignores it) */
  int          layer;          /* NN_METHOD_FLAG_LAYER: node; -1: the last spatial layer */
  bool         keep_negative;  /* NN_METHOD_FLAG_CAM: skip the final ReLU (a signed map) */
  int          samples;        /* SmoothGrad's noisy copies, IG's steps, GradientSHAP's
                                  samples; 0: 25, 32, 25 */
  float        noise;          /* SmoothGrad, GradientSHAP: sigma as a fraction of the input's
                                  range */
  const float *baseline;       /* IG, Occlusion, DeepLIFT: x' (C, H, W), borrowed; NULL:
                                  zeros; GradientSHAP: NULL draws uniform noise baselines */
  uint64_t     seed;           /* SmoothGrad's noise, GradientSHAP's draws */
  int          window;         /* Occlusion: side of the square patch in pixels; 0: a
                                  quarter of min (H, W) */
  int          stride;         /* Occlusion: step of the patch; 0: half the window */
  int          block;          /* attn-grad: the one attention block to use, counted from 1;
                                  0: all */
} NnMethodSpec;

/* Computes the map of input (C, H, W) on ctx, owned by the calling thread (with gradient
 * buffers for NN_METHOD_FLAG_GRADIENTS; its batch is how many inputs a batched method
 * evaluates per pass), polling control->cancel before each pass. The map carries the logits
 * of the unchanged input. NULL with err on a bad layer or class, cancellation, or when out of
 * memory. */
typedef NnMap *(*NnMethodFn) (NnContext              *ctx,
                              const float            *input,
                              const NnMethodSpec     *spec,
                              const NnExplainControl *control,
                              NnError                *err);

#define NN_METHOD_DECLARE_FN(id, name, label, flags, fn) \
  NnMap *fn (NnContext *ctx, const float *input, const NnMethodSpec *spec,  \
             const NnExplainControl *control, NnError *err);

/* The functions of the rows: nn_cam_gradcam, ..., nn_saliency_guided_gradcam, nn_rollout,
 * nn_attn_grad. */
NN_METHOD_LIST (NN_METHOD_DECLARE_FN)

typedef struct
{
  const char *name;    /* "gradcam", "ig", ...: the CLI's --method and captions */
  const char *label;   /* "Grad-CAM", "Integrated Gradients", ...: menus */
  unsigned    flags;   /* NnMethodFlags */
  NnMethodFn  compute;
} NnMethodInfo;

/* The registry's row of a method; iterate with 0 <= method < NN_METHOD_COUNT_. */
const NnMethodInfo *nn_method_get_info (NnMethod method);
bool                nn_method_has_flags (NnMethod method,
                                         unsigned flags);
/* Looks a method up by its name; false when there is none. */
bool                nn_method_from_name (const char *name,
                                         NnMethod   *method);
/* "a, b or c": the names of the methods whose flags include all of `flags` and none of
 * `without`, for a usage message; truncated to size. */
void                nn_method_format_names (char     *buf,
                                            size_t    size,
                                            unsigned  flags,
                                            unsigned  without);

/* Grad-CAM at the last spatial layer for the top class, positive part only; SmoothGrad's
 * defaults (noise 0.15, seed 1), IG from zeros. */
void                nn_method_spec_init (NnMethodSpec *spec);

/* The method's function, after checking that ctx has gradient buffers when the method needs
 * them. */
NnMap              *nn_method_compute (NnContext              *ctx,
                                       const float            *input,
                                       const NnMethodSpec     *spec,
                                       const NnExplainControl *control,
                                       NnError                *err);
