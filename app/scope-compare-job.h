/* SPDX-License-Identifier: MIT */
/* ScopeCompareJob: the Compare view's work on a worker thread: opening model B (refused when
 * its graph is not model A's), one layer of both models on the input with Grad-CAM there, and
 * the per-layer CKA of both over a dataset. */
#pragma once

#include <glib.h>

#include "nn.h"
#include "scope-input.h"
#include "scope-model.h"

G_BEGIN_DECLS

typedef struct _ScopeCompareJob ScopeCompareJob;

/* What a job gives; the receiver owns every field that is set. */
typedef struct
{
  ScopeModel  *model;       /* open: model B */
  float       *outputs[2];  /* forward: the layer's output (C, H, W) in A and in B */
  float       *cams[2];     /* forward: Grad-CAM at the layer for A's top class, (H, W) at the
                               input's size, in A and in B; NULL when the layer has none */
  int          cam_class;   /* A's top class */
  char        *cam_note;    /* why there are no CAMs (the layer does not take one), or NULL */
  NnCkaLayers *layers;      /* cka */
} ScopeCompareResult;

/* On the main thread: samples done of total, over both models. */
typedef void (*ScopeCompareJobProgress) (int      done,
                                         int      total,
                                         gpointer data);
/* On the main thread, once: the result (NULL on error; the receiver frees it with
 * scope_compare_result_free) or error (borrowed). After it, the job only waits to be freed. */
typedef void (*ScopeCompareJobDone)     (ScopeCompareResult *result,
                                         const GError       *error,
                                         gpointer            data);

void             scope_compare_result_free (ScopeCompareResult *result);

/* Reads path and checks that it is model a's network. */
ScopeCompareJob *scope_compare_job_open    (const char               *path,
                                            ScopeModel               *a,
                                            ScopeCompareJobDone       done,
                                            gpointer                  data,
                                            GError                  **error);
/* Runs a and b (the same graph) on input (built for a; b reads the same tensor) up to node,
 * and explains A's top class with Grad-CAM at node in both. */
ScopeCompareJob *scope_compare_job_forward (ScopeModel               *a,
                                            ScopeModel               *b,
                                            ScopeInput               *input,
                                            int                       node,
                                            ScopeCompareJobDone       done,
                                            gpointer                  data,
                                            GError                  **error);
/* nn_cka_layers_new of a and b over at most `limit` samples (drawn with seed 1) of the test
 * split of dataset (as cnnscope-cli compare opens it), flattened features. */
ScopeCompareJob *scope_compare_job_cka     (ScopeModel               *a,
                                            ScopeModel               *b,
                                            const char               *dataset,
                                            int                       limit,
                                            ScopeCompareJobProgress   progress,
                                            ScopeCompareJobDone       done,
                                            gpointer                  data,
                                            GError                  **error);
/* Stops the job (the CKA at its next batch), joins its thread and frees it: no callback runs
 * afterwards. Accepts NULL. */
void             scope_compare_job_free    (ScopeCompareJob          *job);

G_END_DECLS
