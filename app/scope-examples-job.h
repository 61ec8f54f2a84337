/* SPDX-License-Identifier: MIT */
/* ScopeExamplesJob: the dataset examples panel's worker. It reads a dataset and ranks its
 * samples for every channel of one layer (nn_examples_new), or reads that ranking from the
 * cache file, on a thread of its own; the result comes back as an immutable value. */
#pragma once

#include <glib-object.h>

#include "scope-model.h"

G_BEGIN_DECLS

/* What to rank. */
typedef struct
{
  char *dataset;     /* "fashion-mnist" or an image folder (its test/ when it has one) */
  int   node;        /* the layer */
  int   k;           /* examples per channel and end */
  char *cache_path;  /* the cache file to read and write, or NULL (no cache) */
  char *cache_key;   /* what it must have been written for (with cache_path) */
} ScopeExamplesSettings;

/* The result: immutable once delivered, atomically reference-counted. */
typedef struct
{
  NnExamples       *examples;
  NnDataset        *samples;     /* the dataset the examples index: images in [0, 1] (a CT
                                    set through the model's window) */
  NnReceptiveField  field;       /* of the layer's units */
  int               node;
  char             *layer;       /* the layer's name */
  char             *dataset;     /* as asked */
  gboolean          from_cache;
  char             *cache_note;  /* why the cache was not used or not written, or NULL */
} ScopeExamples;

#define SCOPE_TYPE_EXAMPLES (scope_examples_get_type ())

GType          scope_examples_get_type (void);
ScopeExamples *scope_examples_ref (ScopeExamples *self);
void           scope_examples_unref (ScopeExamples *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScopeExamples, scope_examples_unref)

#define SCOPE_TYPE_EXAMPLES_JOB (scope_examples_job_get_type ())

G_DECLARE_FINAL_TYPE (ScopeExamplesJob, scope_examples_job, SCOPE, EXAMPLES_JOB, GObject)

/* Signals are emitted on the thread-default main context of the caller of
 * scope_examples_job_start: "progress" (the fraction done in [0, 1] and what runs: "reading
 * the dataset", "reading the cache", "ranking"), then "finished" once (the ScopeExamples, or
 * NULL and a GError). settings are copied. */
ScopeExamplesJob *scope_examples_job_new (ScopeModel                  *model,
                                          const ScopeExamplesSettings *settings);
/* Starts the thread; FALSE with error when it cannot start. */
gboolean          scope_examples_job_start (ScopeExamplesJob  *self,
                                            GError           **error);
/* Sets the cancel flag and joins the thread; nothing more is emitted. Safe to call more than
 * once; dispose calls it. */
void              scope_examples_job_cancel (ScopeExamplesJob *self);

G_END_DECLS
