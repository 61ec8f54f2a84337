/* SPDX-License-Identifier: MIT */
/* A training run on a worker thread of its own: the settings go in as a value; the worker
 * loads the data, builds the network and trains it, and its progress (loss and accuracy per
 * step and per epoch, a confusion matrix and the clinical metrics per epoch, copies of the weights every
 * snapshot_interval) comes back to the main thread through one idle callback that merges what
 * is pending. Pause makes the worker wait on a condition variable; stop cancels and joins. */
#pragma once

#include <glib-object.h>

#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_TRAIN_JOB (scope_train_job_get_type ())

G_DECLARE_FINAL_TYPE (ScopeTrainJob, scope_train_job, SCOPE, TRAIN_JOB, GObject)

typedef struct
{
  char    dataset[1024];   /* "fashion-mnist" or a folder (nn_dataset_open) */
  char    arch[32];        /* nn_arch_names () */
  double  width;           /* channel multiplier */
  char    optimizer[16];   /* sgd, adamw, lamb */
  double  lr;
  int     epochs;
  int     batch;
  int     per_class;       /* at most this many training images per class; 0: all */
  char    policy[32];      /* nn_grad_policy_parse: exact, proxygrad:B, sugar:bsilu, ... */
  guint64 seed;
  int     snapshot_ms;     /* how often the weights are copied for the other views */
} ScopeTrainSettings;

/* smallcnn on Fashion-MNIST, width 1, SGD, lr 0.02, 2 epochs, batch 64, 500 images per
 * class, exact gradients, seed 1, a snapshot every 500 ms. */
void scope_train_settings_init (ScopeTrainSettings *settings);

typedef enum
{
  SCOPE_TRAIN_IDLE,      /* not started */
  SCOPE_TRAIN_LOADING,   /* reading the data, building the network */
  SCOPE_TRAIN_RUNNING,
  SCOPE_TRAIN_PAUSED,
  SCOPE_TRAIN_FINISHED,
  SCOPE_TRAIN_STOPPED,   /* by scope_train_job_stop () */
  SCOPE_TRAIN_FAILED,
} ScopeTrainState;

typedef struct
{
  long  step;       /* 1-based */
  int   epoch;      /* 0-based */
  float lr;
  float loss;       /* the step's batch */
  float accuracy;
  float ms;         /* wall time since the previous step's end (its batch, forward, backward,
                       update); 0 for a run's first step and the first after an epoch's end
                       or a pause */
} ScopeTrainStep;

typedef struct
{
  int   epoch;      /* 0-based */
  long  step;       /* the global step at its end */
  float train_loss, train_accuracy;
  float test_loss, test_accuracy;
} ScopeTrainEpoch;

/* What arrived since the previous update: valid during the "update" signal only; the
 * receiver copies (or refs) what it keeps. */
typedef struct
{
  ScopeTrainState        state;
  long                   total_steps;     /* 0 until the data is loaded */
  int                    n_classes;
  const char *const     *class_names;     /* n_classes, NULL until the data is loaded */
  const ScopeTrainStep  *steps;
  guint                  n_steps;
  const ScopeTrainEpoch *epochs;
  guint                  n_epochs;
  ScopeModel            *snapshot;        /* the newest weights, NULL when unchanged */
  const int             *confusion;       /* n_classes^2 on the test set, NULL: unchanged */
  const NnMetrics       *metrics;         /* the clinical metrics on the test set after the
                                             last epoch, NULL: unchanged */
  const GError          *error;           /* when state is SCOPE_TRAIN_FAILED */
} ScopeTrainUpdate;

ScopeTrainJob  *scope_train_job_new (const ScopeTrainSettings *settings);
/* Starts the worker; FALSE with error when it cannot start or was started before. */
gboolean        scope_train_job_start (ScopeTrainJob  *self,
                                       GError        **error);
/* The worker waits after its current step until resumed (or stopped). */
void            scope_train_job_pause (ScopeTrainJob *self);
void            scope_train_job_resume (ScopeTrainJob *self);
/* Cancels the run and joins the worker (it stops at its next step); updates not yet delivered
 * are dropped, except that the state becomes SCOPE_TRAIN_STOPPED at once and the weights it
 * stopped on are kept (scope_train_job_get_final). Safe to call more than once; dispose
 * cancels and joins too. */
void            scope_train_job_stop (ScopeTrainJob *self);
/* The weights a run stopped by scope_train_job_stop stopped on, named "ARCH (DATASET, stopped
 * at step N)", the command in its metadata saying how far it got (steps and epochs done), its
 * test accuracy unknown (< 0) unless it stopped right after an epoch; NULL when the run was
 * not stopped while going. Owned by the job. */
ScopeModel     *scope_train_job_get_final (ScopeTrainJob *self);
/* The first test image of class k, as the model's input sees it, once an update has said
 * the data is loaded (total_steps > 0); NULL before, or when the class has none. Owned by the
 * job. */
const NnImage  *scope_train_job_get_test_image (ScopeTrainJob *self,
                                                int            k);
ScopeTrainState scope_train_job_get_state (ScopeTrainJob *self);
/* Whether the state is loading, running or paused. */
gboolean        scope_train_state_is_active (ScopeTrainState state);

G_END_DECLS
