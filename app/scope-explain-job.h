/* SPDX-License-Identifier: MIT */
/* ScopeExplainJob: one attribution map and its faithfulness metrics, computed on a thread of
 * its own with its own NnContext. Results come back to the main context as immutable,
 * reference-counted values (the map first, then a new metrics snapshot each time a curve or
 * number is done) through one idle callback that merges whatever is pending. */
#pragma once

#include <glib-object.h>

#include "scope-model.h"

G_BEGIN_DECLS

/* The methods of the Explain view in one list: the CAM family, then the saliency methods. */
int          scope_explain_method_count (void);
/* "Grad-CAM", "Integrated Gradients", ... */
const char  *scope_explain_method_label (int method);
/* The engine's name ("gradcam", "ig", ...) for captions. */
const char  *scope_explain_method_name (int method);
/* Whether the method works at a chosen layer (the CAM family and Guided Grad-CAM). */
gboolean     scope_explain_method_uses_layer (int method);

/* A job as a complete value. */
typedef struct
{
  int      method;          /* index into the list above */
  int      target;          /* class; -1: the top prediction */
  int      layer;           /* node; -1: the last spatial layer */
  gboolean keep_negative;   /* CAM methods: skip the final ReLU (a signed map) */
  gboolean metrics;         /* compute the faithfulness metrics after the map */
  guint64  seed;            /* SmoothGrad's noise, ROAD's noise, the randomized weights */
} ScopeExplainSpec;

#define SCOPE_EXPLAIN_TOP_K 5

/* The map and the predictions: immutable once delivered. */
typedef struct
{
  ScopeModel      *model;
  ScopeExplainSpec spec;
  NnMap           *map;                          /* map->target: the class explained */
  float            probability;                  /* softmax of map->target */
  int              k;                            /* entries in top_class */
  int              top_class[SCOPE_EXPLAIN_TOP_K];
  float            top_probability[SCOPE_EXPLAIN_TOP_K];
} ScopeExplanation;

typedef enum
{
  SCOPE_EXPLAIN_HAS_DELETION      = 1 << 0,
  SCOPE_EXPLAIN_HAS_INSERTION     = 1 << 1,
  SCOPE_EXPLAIN_HAS_ROAD          = 1 << 2,
  SCOPE_EXPLAIN_HAS_RANDOMIZATION = 1 << 3,
  SCOPE_EXPLAIN_HAS_MASK          = 1 << 4,   /* pointing game and energy share */
} ScopeExplainHas;

/* What is known of the metrics so far: a snapshot, never changed after it is delivered. */
typedef struct
{
  guint   has;              /* ScopeExplainHas */
  NnCurve deletion;
  NnCurve insertion;
  NnCurve road_morf;        /* most relevant first */
  NnCurve road_lerf;        /* least relevant first */
  double  road_morf_mean;   /* mean probability over the ROAD fractions */
  double  road_lerf_mean;
  double  rho;              /* Spearman rho of the map and the randomized model's map */
  gboolean pointing;        /* pointing game hit (15 px) */
  double  energy;           /* share of the positive energy inside the mask */
} ScopeExplainMetrics;

#define SCOPE_TYPE_EXPLANATION     (scope_explanation_get_type ())
#define SCOPE_TYPE_EXPLAIN_METRICS (scope_explain_metrics_get_type ())

GType                scope_explanation_get_type (void);
ScopeExplanation    *scope_explanation_ref (ScopeExplanation *self);
void                 scope_explanation_unref (ScopeExplanation *self);
GType                scope_explain_metrics_get_type (void);
ScopeExplainMetrics *scope_explain_metrics_ref (ScopeExplainMetrics *self);
void                 scope_explain_metrics_unref (ScopeExplainMetrics *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScopeExplanation, scope_explanation_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScopeExplainMetrics, scope_explain_metrics_unref)

#define SCOPE_TYPE_EXPLAIN_JOB (scope_explain_job_get_type ())

G_DECLARE_FINAL_TYPE (ScopeExplainJob, scope_explain_job, SCOPE, EXPLAIN_JOB, GObject)

/* input: the model's C * H * W floats, copied; mask: (H, W) at the model's input size, nonzero
 * inside, copied, or NULL. Signals are emitted on the thread-default main context of the
 * caller of scope_explain_job_start: "map-ready" (ScopeExplanation), "metrics-changed"
 * (ScopeExplainMetrics), "progress" (fraction in [0, 1] and a stage name), then "finished"
 * (a GError, or NULL on success) once. */
ScopeExplainJob *scope_explain_job_new (ScopeModel             *model,
                                        const float            *input,
                                        const guint8           *mask,
                                        const ScopeExplainSpec *spec);
/* Starts the thread; FALSE with error when it cannot start. */
gboolean         scope_explain_job_start (ScopeExplainJob  *self,
                                          GError          **error);
/* Sets the cancellation flag and joins the thread; nothing more is emitted. Safe to call more
 * than once; dispose calls it. */
void             scope_explain_job_cancel (ScopeExplainJob *self);
/* Whether the thread runs or a result waits for the idle callback. */
gboolean         scope_explain_job_is_running (ScopeExplainJob *self);

G_END_DECLS
