/* SPDX-License-Identifier: MIT */
/* Optimizers, learning-rate schedules, the training loop and evaluation. Deterministic for a
 * given seed and thread count; cancellable through an atomic flag polled every step. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "data/nn-dataset.h"
#include "graph/nn-context.h"
#include "io/nn-model.h"

typedef enum
{
  NN_OPTIMIZER_SGD,
  NN_OPTIMIZER_ADAMW,
  NN_OPTIMIZER_LAMB,
} NnOptimizerKind;

typedef struct
{
  NnOptimizerKind kind;
  float           momentum;      /* SGD */
  bool            nesterov;      /* SGD */
  float           weight_decay;  /* SGD: L2 added to the gradient; AdamW/LAMB: decoupled */
  float           beta1, beta2, eps;
} NnOptimizerConfig;

typedef struct NnOptimizer NnOptimizer;

/* State (one arena parallel to graph->data) for the trainable parameters of graph. */
NnOptimizer *nn_optimizer_new (const NnGraph           *graph,
                               const NnOptimizerConfig *config);
void         nn_optimizer_free (NnOptimizer *opt);
/* One update of every trainable parameter from grads (parallel to graph->data). */
void         nn_optimizer_step (NnOptimizer *opt,
                                NnGraph     *graph,
                                const float *grads,
                                float        lr);
bool         nn_optimizer_parse (const char        *name,
                                 NnOptimizerConfig *config,
                                 NnError           *err);

typedef enum
{
  NN_SCHEDULE_CONSTANT,
  NN_SCHEDULE_STEP,    /* lr * gamma^(floor(step / step_size)) */
  NN_SCHEDULE_COSINE,  /* lr * (1 + cos(pi * step / total)) / 2, after a linear warm-up */
} NnScheduleKind;

typedef struct
{
  NnScheduleKind kind;
  long           step_size;
  float          gamma;
  long           warmup;
} NnSchedule;

float nn_schedule_lr (const NnSchedule *schedule,
                      float             base_lr,
                      long              step,
                      long              total);

typedef struct
{
  int               epochs;
  int               batch;
  float             lr;
  NnOptimizerConfig optimizer;
  NnSchedule        schedule;
  bool              set_policy;   /* train with `policy` on every ReLU */
  NnGradPolicy      policy;
  bool              augment;      /* random shifts (and flips for RGB) */
  /* Precise batch norm: at the end of every epoch, before its evaluation, the running
   * statistics of every batch norm are recomputed as the plain average of the batch statistics
   * of this many training batches (at most one epoch's), with the epoch's final weights. The
   * moving averages alone never settle when an epoch has few steps (10 images per class and
   * batch 64 is one step per epoch: the model then tests near chance). 0 keeps the moving
   * averages. */
  int               bn_batches;
  uint64_t          seed;
} NnTrainConfig;

/* Sensible defaults: SGD momentum 0.9 Nesterov, wd 5e-4, lr 0.05, cosine, batch 64, precise
 * batch norm over 50 batches. */
void nn_train_config_init (NnTrainConfig *config);

typedef struct
{
  int    epoch;           /* 0-based */
  long   step;            /* 1-based global step */
  long   total_steps;
  float  lr;
  float  loss;            /* this step's batch loss */
  float  accuracy;        /* this step's batch accuracy */
  bool   epoch_done;      /* when true, the test_* fields hold this epoch's evaluation */
  float  train_loss;      /* mean over the epoch */
  float  train_accuracy;
  float  test_loss;
  float  test_accuracy;
  /* When epoch_done, on a fixed probe batch of training images (evenly spaced through the
   * set, no augmentation, eval mode) after the epoch: the fraction of ReLU units (every value
   * of every ReLU node's per-sample output) that are <= 0 on every probe image ("dead"), and
   * the fraction of all probe outputs of the ReLUs that are <= 0 (sparsity). -1 for a model
   * without ReLUs. */
  float  dead_relu;
  float  relu_sparsity;
} NnTrainProgress;

/* The dead-unit fraction and sparsity of NnTrainProgress over the first `rows` samples of the
 * last forward pass of ctx, which must have written every ReLU node's output (a context with
 * NN_CONTEXT_BACKWARD or NN_CONTEXT_NO_FOLD). The ReLU nodes are the activation nodes of kind
 * relu (leaky ones count values <= 0 too). False, with both -1, when the graph has none. */
bool nn_relu_activity (NnContext *ctx,
                       int        rows,
                       float     *dead,
                       float     *sparsity);

/* Called after every step on the training thread; must be quick. */
typedef void (*NnTrainCallback) (const NnTrainProgress *progress,
                                 void                  *user_data);

/* Trains model->graph in place. `test` may be NULL. Returns false with NN_ERROR_CANCELLED
 * when *cancel becomes non-zero (the model keeps the weights of the last full step), or
 * NN_ERROR_NUMERIC when the loss becomes NaN. */
bool nn_train (NnModel             *model,
               const NnDataset     *train,
               const NnDataset     *test,
               const NnTrainConfig *config,
               NnTrainCallback      callback,
               void                *user_data,
               const atomic_int    *cancel,
               NnError             *err);

typedef struct
{
  int     n;
  int     n_classes;
  double  accuracy;
  double  loss;
  int    *confusion;  /* n_classes * n_classes, row = true class, column = predicted */
  /* n * n_classes one-vs-rest scores: the log-odds of each class, z_c - log sum_{j != c}
   * exp z_j for logits z (ordered as its probability, without a saturated softmax's ties). */
  float  *scores;
  int    *labels;     /* n true classes */
} NnEvalResult;

bool nn_evaluate (NnModel         *model,
                  const NnDataset *ds,
                  int              batch,
                  NnEvalResult    *result,
                  const atomic_int *cancel,
                  NnError         *err);
void nn_eval_result_clear (NnEvalResult *result);
