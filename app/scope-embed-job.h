/* SPDX-License-Identifier: MIT */
/* ScopeEmbedJob: the Feature Space view's worker. It reads a dataset, runs the model over it
 * keeping one layer (nn_features_new) and maps the features to 2-D with PCA or t-SNE, on a
 * thread of its own; the result comes back to the main context as an immutable embedding. */
#pragma once

#include <glib-object.h>

#include "scope-model.h"

G_BEGIN_DECLS

/* What to embed. */
typedef struct
{
  char           *dataset;     /* "fashion-mnist" or an image folder (its test/ when it has
                                  train/ and test/) */
  int             node;        /* the layer */
  NnFeaturesMode  mode;
  gboolean        tsne;        /* else PCA */
  int             limit;       /* samples drawn at random (seeded); 0: all */
  double          perplexity;  /* t-SNE's */
  guint64         seed;        /* the draw's and t-SNE's */
} ScopeEmbedSettings;

/* The result: immutable once delivered, atomically reference-counted. */
typedef struct
{
  NnDataset  *samples;       /* the embedded samples: images in [0, 1] (a CT set through the
                                model's window), labels, the dataset's class names */
  int        *index;         /* (n) each sample's place in the dataset */
  int        *preds;         /* (n) the model's top class */
  float      *xy;            /* (n, 2) */
  int         n, d;          /* samples, features per sample */
  int         n_classes;     /* the dataset's or the model's, whichever has more */
  char      **names;         /* n_classes: the dataset's class names, else the model's labels,
                                else numbers */
  int         wrong;         /* misclassified samples */
  double      variance[2];   /* PCA: the shares of the total variance on the axes, percent */
  char       *layer;         /* the layer's name */
  char       *dataset;       /* as asked */
  gboolean    tsne;
  gboolean    flatten;
  double      perplexity;
  guint64     seed;
} ScopeEmbedding;

#define SCOPE_TYPE_EMBEDDING (scope_embedding_get_type ())

GType           scope_embedding_get_type (void);
ScopeEmbedding *scope_embedding_ref (ScopeEmbedding *self);
void            scope_embedding_unref (ScopeEmbedding *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ScopeEmbedding, scope_embedding_unref)

#define SCOPE_TYPE_EMBED_JOB (scope_embed_job_get_type ())

G_DECLARE_FINAL_TYPE (ScopeEmbedJob, scope_embed_job, SCOPE, EMBED_JOB, GObject)

/* Signals are emitted on the thread-default main context of the caller of
 * scope_embed_job_start: "progress" (the fraction done in [0, 1] and what runs: "reading the
 * dataset", "features", "t-SNE", "PCA"), then "finished" once (the ScopeEmbedding, or NULL and
 * a GError). settings are copied. */
ScopeEmbedJob *scope_embed_job_new (ScopeModel               *model,
                                    const ScopeEmbedSettings *settings);
/* Starts the thread; FALSE with error when it cannot start. */
gboolean       scope_embed_job_start (ScopeEmbedJob  *self,
                                      GError        **error);
/* Sets the cancel flag and joins the thread; nothing more is emitted. Safe to call more than
 * once; dispose calls it. */
void           scope_embed_job_cancel (ScopeEmbedJob *self);
/* Whether the thread runs or a result waits for the idle callback. */
gboolean       scope_embed_job_is_running (ScopeEmbedJob *self);

G_END_DECLS
