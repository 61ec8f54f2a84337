/* SPDX-License-Identifier: MIT */
/* The engine thread (its plumbing in scope-worker.c, where threads meet). Jobs go in as
 * complete values (references to an immutable model and input); the worker runs
 * them with its own NnContext and results come back to the main thread as immutable values
 * through one idle callback that merges whatever is pending. */
#pragma once

#include <glib-object.h>

#include "scope-activations.h"
#include "scope-input.h"
#include "scope-model.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_ENGINE (scope_engine_get_type ())

G_DECLARE_FINAL_TYPE (ScopeEngine, scope_engine, SCOPE, ENGINE, GObject)

/* What an open job made: a model read, and an input (the image read, or the current input
 * rebuilt for another model or given a mask), each with the error that kept it from being made.
 * An image a/b.png or a/b.dcm brings the mask a/b.mask.png beside it when there is one (the
 * nn_mask rule). Handed to the "opened" handlers, which may steal model and input. */
typedef struct
{
  char       *model_path;   /* NULL when no model was asked for */
  ScopeModel *model;        /* NULL when not asked for or not read */
  GError     *model_error;
  char       *image_path;   /* NULL when no image was asked for */
  char       *mask_path;    /* asked for, or found beside the image; else NULL */
  GError     *mask_error;
  ScopeInput *input;        /* NULL when no input was asked for or it could not be made */
  GError     *input_error;
} ScopeOpened;

ScopeEngine *scope_engine_new (void);

/* Reads a model and an image (either path may be NULL) on the engine thread, so that the
 * window never waits on the disk; "open-progress" reports how much of the model was read, and
 * the result comes by "opened", in the order of the calls. The
 * image is built for the model read, else for model (the current one; may be NULL); with a
 * model read and no image, input (the current one; may be NULL) is rebuilt for it. Returns 0
 * with error when the engine thread cannot start or is shut down. */
guint64      scope_engine_open (ScopeEngine  *self,
                                const char   *model_path,
                                const char   *image_path,
                                ScopeModel   *model,
                                ScopeInput   *input,
                                GError      **error);
/* Reads a ground-truth mask (PNG, nonzero inside) on the engine thread and gives it to input;
 * the result comes by "opened" with image_path NULL. Returns 0 with error as
 * scope_engine_open does. */
guint64      scope_engine_open_mask (ScopeEngine  *self,
                                     const char   *mask_path,
                                     ScopeInput   *input,
                                     GError      **error);
/* Builds input for model on the engine thread, without reading the file again; the result comes
 * by "opened" with no path set. Returns 0 with error as scope_engine_open does. */
guint64      scope_engine_rebuild (ScopeEngine  *self,
                                   ScopeInput   *input,
                                   ScopeModel   *model,
                                   GError      **error);

/* Queues a forward pass of model on input (which must fit it), replacing a queued job and
 * cancelling the running one: only the newest job's result is delivered, by
 * "activations-ready" (or "job-failed") on the main context. Returns the job's id (> 0), or 0
 * with error when the worker thread cannot start or the engine is shut down. */
guint64      scope_engine_run_forward (ScopeEngine  *self,
                                       ScopeModel   *model,
                                       ScopeInput   *input,
                                       GError      **error);
/* Stops the open jobs queued and the one running: a model being read stops at its next tensor
 * and comes by "opened" with a model_error of code NN_ERROR_CANCELLED. */
void         scope_engine_cancel_open (ScopeEngine *self);
/* Drops the queued job and cancels the running one; neither delivers a result. */
void         scope_engine_cancel (ScopeEngine *self);
/* Cancels, joins the worker and drops undelivered results; later jobs are refused. Safe to
 * call more than once; dispose calls it. */
void         scope_engine_shutdown (ScopeEngine *self);
/* Whether a job (forward or open) is queued, running, or its result not yet delivered. */
gboolean     scope_engine_is_busy (ScopeEngine *self);

G_END_DECLS
