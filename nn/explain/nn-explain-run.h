/* SPDX-License-Identifier: MIT */
/* A whole explanation in one call, the same for the app and the CLI: the map of a registry
 * method, the top predictions from the same forward pass, the faithfulness metrics with their
 * curves, and the mask's pointing game and energy share. Runs on the calling (worker) thread,
 * reports progress per stage, hands each stage's result over as it completes, and stops when
 * the cancel flag is set. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "explain/nn-baseline.h"
#include "explain/nn-faithfulness.h"
#include "explain/nn-method.h"
#include "io/nn-input.h"
#include "io/nn-model.h"

#define NN_EXPLAIN_TOP_K 5

/* The stages, in the order they run; those whose metrics are not asked for are skipped. */
typedef enum
{
  NN_EXPLAIN_STAGE_MAP,            /* the map, the top predictions, the mask's metrics */
  NN_EXPLAIN_STAGE_DELETION,
  NN_EXPLAIN_STAGE_INSERTION,
  NN_EXPLAIN_STAGE_ROAD_MORF,
  NN_EXPLAIN_STAGE_ROAD_LERF,
  NN_EXPLAIN_STAGE_RANDOMIZATION,
  NN_EXPLAIN_STAGE_COUNT_
} NnExplainStage;

/* An explanation as a complete value. */
typedef struct
{
  NnMethodSpec     map;      /* the method and its options (map.seed: SmoothGrad's noise) */
  const uint8_t   *mask;     /* (H, W) at the model's input size, nonzero inside (nn-mask.h),
                                borrowed; NULL: none */
  NnFaithSettings  faith;    /* which metrics, and how (faith.seed: ROAD, randomization) */
  int              batch;    /* inputs per pass, for the batched methods and the metrics;
                                0: nn_explain_batch_size's for the model and threads */
  int              threads;  /* per context (nn_context_set_threads; <= 0: as OpenBLAS) */
  bool             no_winograd;  /* 3x3 convolutions through im2col only
                                    (NN_CONTEXT_NO_WINOGRAD): slower, but no Winograd rounding
                                    to flip ReLUs near 0, so input gradients at full size agree
                                    with other frameworks' to float rounding (docs/onnx.md) */
} NnExplainSpec;

/* The result: immutable once returned; each stage fills its fields. */
typedef struct
{
  NnMethod        method;
  NnMap          *map;                           /* map->target: the class explained */
  float           probability;                   /* softmax of map->target */
  int             k;                             /* entries in top_class */
  int             top_class[NN_EXPLAIN_TOP_K];   /* highest first (ties: lower class first) */
  float           top_probability[NN_EXPLAIN_TOP_K];
  NnFaithMetrics  metrics;                       /* metrics.has: what was computed */
  bool            has_delta;                     /* Integrated Gradients: delta is set */
  double          delta;                         /* nn_ig_convergence_delta */
  int             inputs;  /* inputs the map's method evaluated (Score-CAM's masked images,
                              SmoothGrad's samples, ...); 0 when not known, 1: one pass */
  int             batch;   /* inputs per pass the map ran at */
} NnExplanation;

/* Called on the calling thread: `done` of `total` passes of a stage; (stage, 0, 1) when a
 * stage starts. */
typedef void (*NnExplainStageProgress) (NnExplainStage  stage,
                                        int             done,
                                        int             total,
                                        void           *user_data);
/* Called on the calling thread when a stage has completed: the fields of so_far that belong to
 * it and to the stages before are final. so_far is valid during the call only: keep a copy
 * (nn_explanation_dup, or its metrics by value). */
typedef void (*NnExplainStageDone) (NnExplainStage       stage,
                                    const NnExplanation *so_far,
                                    void                *user_data);

/* How a worker drives a run. Every field may be NULL. */
typedef struct
{
  const atomic_int       *cancel;      /* polled before every pass; non-zero stops the run */
  NnExplainStageProgress  progress;
  NnExplainStageDone      stage_done;
  void                   *user_data;
} NnExplainRunControl;

/* Grad-CAM (nn_method_spec_init), no mask, every metric (nn_faith_settings_init), batches
 * chosen for the model (batch 0), one thread. Set faith.metrics to 0 for the map alone. */
void           nn_explain_spec_init (NnExplainSpec *spec);
/* "map", "deletion", "insertion", "ROAD MoRF", "ROAD LeRF", "randomization". */
const char    *nn_explain_stage_name (NnExplainStage stage);
/* Whether a run of spec goes through stage. */
bool           nn_explain_spec_runs_stage (const NnExplainSpec *spec,
                                           NnExplainStage       stage);
/* The fraction in [0, 1] of the whole run that is done at (stage, done, total). */
double         nn_explain_spec_fraction (const NnExplainSpec *spec,
                                         NnExplainStage       stage,
                                         int                  done,
                                         int                  total);

/* Runs spec on input (built for model) on the calling thread, which owns the contexts it makes:
 * one for the method (gradient buffers only when it needs them), kept for the metrics when
 * their batch is the same, else a forward-only one for them. NULL with err on bad settings, a
 * bad class or layer, an input built for another model's shape, out of memory, or
 * NN_ERROR_CANCELLED when cancelled; everything is freed then. */
NnExplanation *nn_explain_run (const NnModel             *model,
                               const NnInput             *input,
                               const NnExplainSpec       *spec,
                               const NnExplainRunControl *control,
                               NnError                   *err);

/* A deep copy; NULL when out of memory. */
NnExplanation *nn_explanation_dup (const NnExplanation *explanation);
void           nn_explanation_free (NnExplanation *explanation);
