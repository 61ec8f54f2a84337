/* SPDX-License-Identifier: MIT */
/* ScopeExplainJob: one explanation (nn_explain_run: the map, the top predictions, the
 * faithfulness metrics) computed on a thread of its own. Results come back to the main context
 * as immutable values (the map first, then the metrics each time a stage is done) through one
 * idle callback that merges whatever is pending. */
#pragma once

#include <glib-object.h>

#include "scope-input.h"
#include "scope-model.h"

G_BEGIN_DECLS

/* The map and the top predictions (an NnExplanation; its metrics are those of the map stage),
 * and a snapshot of the metrics known so far: values, never changed after they are delivered. */
typedef NnExplanation  ScopeExplanation;
typedef NnFaithMetrics ScopeExplainMetrics;

#define SCOPE_TYPE_EXPLANATION     (scope_explanation_get_type ())
#define SCOPE_TYPE_EXPLAIN_METRICS (scope_explain_metrics_get_type ())

GType scope_explanation_get_type (void);
GType scope_explain_metrics_get_type (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScopeExplanation, nn_explanation_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScopeExplainMetrics, g_free)

#define SCOPE_TYPE_EXPLAIN_JOB (scope_explain_job_get_type ())

G_DECLARE_FINAL_TYPE (ScopeExplainJob, scope_explain_job, SCOPE, EXPLAIN_JOB, GObject)

/* An explanation of input (which must fit model) as spec asks (spec->mask and
 * spec->map.baseline, at the input's size, are copied). Signals are emitted on the
 * thread-default main context of the caller of scope_explain_job_start: "map-ready"
 * (ScopeExplanation), "metrics-changed" (ScopeExplainMetrics), "progress" (fraction in [0, 1]
 * and the stage's name), then "finished" (a GError, or NULL on success) once. */
ScopeExplainJob *scope_explain_job_new (ScopeModel          *model,
                                        ScopeInput          *input,
                                        const NnExplainSpec *spec);
/* Starts the thread; FALSE with error when it cannot start. */
gboolean         scope_explain_job_start (ScopeExplainJob  *self,
                                          GError          **error);
/* Sets the cancellation flag and joins the thread; nothing more is emitted. Safe to call more
 * than once; dispose calls it. */
void             scope_explain_job_cancel (ScopeExplainJob *self);
/* Whether the thread runs or a result waits for the idle callback. */
gboolean         scope_explain_job_is_running (ScopeExplainJob *self);
/* How long the map stage took and the whole run, in seconds; 0 until done (the map's time is
 * set when "map-ready" is emitted, the whole run's when "finished" is). */
void             scope_explain_job_get_seconds (ScopeExplainJob *self,
                                                double          *map,
                                                double          *total);

/* "Score-CAM, 512 channels, batch 2, 3.21 s (with metrics 9.8 s)": the method, the inputs its
 * passes evaluated and the batch, the map's time and (when longer) the whole run's. */
char            *scope_explain_timing_text (const NnExplanation *explanation,
                                            double               map_s,
                                            double               total_s);

G_END_DECLS
