/* SPDX-License-Identifier: MIT */
/* The engine thread (its plumbing in scope-worker.c, where threads meet). Jobs go in as
 * complete values (a reference to an immutable model, a copy of the input); the worker runs
 * them with its own NnContext and results come back to the main thread as immutable values
 * through one idle callback that merges whatever is pending. */
#pragma once

#include <glib-object.h>

#include "scope-activations.h"
#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_ENGINE (scope_engine_get_type ())

G_DECLARE_FINAL_TYPE (ScopeEngine, scope_engine, SCOPE, ENGINE, GObject)

/* What an open job read: a model, an image and/or a ground-truth mask, each with the error that
 * kept it from being read. An image a/b.png or a/b.dcm brings the mask a/b.mask.png beside it
 * when there is one. Handed to the "opened" handlers, which may steal model, image and mask. */
typedef struct
{
  char       *model_path;   /* NULL when no model was asked for */
  ScopeModel *model;        /* NULL when not asked for or not read */
  GError     *model_error;
  char       *image_path;
  NnImage    *image;
  GError     *image_error;
  char       *mask_path;    /* asked for, or found beside the image; else NULL */
  NnImage    *mask;         /* as read, at its own size: nonzero inside */
  GError     *mask_error;
} ScopeOpened;

ScopeEngine *scope_engine_new (void);

/* Reads a model and an image (either path may be NULL) on the engine thread, so that the
 * window never waits on the disk; the result comes by "opened", in the order of the calls.
 * Returns 0 with error when the engine thread cannot start or is shut down. */
guint64      scope_engine_open (ScopeEngine  *self,
                                const char   *model_path,
                                const char   *image_path,
                                GError      **error);
/* Reads a ground-truth mask (PNG, nonzero inside) on the engine thread; the result comes by
 * "opened" with only mask_path set. Returns 0 with error as scope_engine_open does. */
guint64      scope_engine_open_mask (ScopeEngine  *self,
                                     const char   *mask_path,
                                     GError      **error);

/* Queues a forward pass of model on input (the model's C * H * W floats, copied), replacing a
 * queued job and cancelling the running one: only the newest job's result is delivered, by
 * "activations-ready" (or "job-failed") on the main context. Returns the job's id (> 0), or 0
 * with error when the worker thread cannot start or the engine is shut down. */
guint64      scope_engine_run_forward (ScopeEngine  *self,
                                       ScopeModel   *model,
                                       const float  *input,
                                       const char   *input_name,
                                       GError      **error);
/* Drops the queued job and cancels the running one; neither delivers a result. */
void         scope_engine_cancel (ScopeEngine *self);
/* Cancels, joins the worker and drops undelivered results; later jobs are refused. Safe to
 * call more than once; dispose calls it. */
void         scope_engine_shutdown (ScopeEngine *self);
/* Whether a job (forward or open) is queued, running, or its result not yet delivered. */
gboolean     scope_engine_is_busy (ScopeEngine *self);

G_END_DECLS
