/* SPDX-License-Identifier: MIT */
/* ScopeVolumeJob: work on a whole volume on a worker thread: reading it (a DICOM series folder
 * or a NIfTI file, turned to LPS order), the model's class probabilities slice by slice (with
 * the out-of-distribution score of each when the model has statistics), or an explanation of
 * every slice as an attribution volume (with the pointing game of each slice that has a lesion
 * in the mask volume). */
#pragma once

#include <glib.h>

#include "nn.h"
#include "scope-model.h"

G_BEGIN_DECLS

typedef struct _ScopeVolumeJob ScopeVolumeJob;

/* On the main thread: slices done so far of total (classify: probs holds done rows of the
 * model's classes, borrowed for the call; explain: NULL). */
typedef void (*ScopeVolumeJobProgress) (int          done,
                                        int          total,
                                        const float *probs,
                                        gpointer     data);
/* On the main thread, once: the volume read (owned by the receiver; NULL for classify and
 * explain, or on error) or error (NULL on success; borrowed). After it, the job only waits
 * to be freed. */
typedef void (*ScopeVolumeJobDone)     (NnVolume     *volume,
                                        const GError *error,
                                        gpointer      data);

/* Reads path and reorients it to "LPS" on a new thread. A folder is a DICOM series: series
 * (may be NULL) chooses one by its Series Instance UID; without one, a folder of several series
 * ends with an error of code NN_ERROR_SPEC (SCOPE_NN_ERROR) and its series
 * (scope_volume_job_steal_series). */
ScopeVolumeJob *scope_volume_job_load     (const char              *path,
                                           const char              *series,
                                           ScopeVolumeJobDone       done,
                                           gpointer                 data,
                                           GError                 **error);
/* After a load's done: the series of a folder that holds several (a new array of *n, to
 * g_free), else NULL. */
NnVolumeSeries *scope_volume_job_steal_series (ScopeVolumeJob *self,
                                               int            *n);
/* Classifies every axial slice of volume (LPS; it must outlive the job) with model, its CT
 * window or, without one, window; with the model's out-of-distribution statistics
 * (scope_model_get_ood), each slice's score too (scope_volume_job_peek_ood_scores). */
ScopeVolumeJob *scope_volume_job_classify (ScopeModel              *model,
                                           const NnVolume          *volume,
                                           const char              *name,
                                           const NnCtWindow        *window,
                                           ScopeVolumeJobProgress   progress,
                                           ScopeVolumeJobDone       done,
                                           gpointer                 data,
                                           GError                 **error);
/* Explains every axial slice of volume (LPS; it must outlive the job) with spec (its map
 * only) into an attribution volume on volume's grid (scope_volume_job_peek_attribution);
 * progress counts slices (probs NULL); done gets no volume. masks (may be NULL; on volume's
 * grid, it must outlive the job) is a lesion mask volume: each slice with a lesion gets the
 * pointing game (scope_volume_job_peek_pointing). */
ScopeVolumeJob *scope_volume_job_explain  (ScopeModel              *model,
                                           const NnVolume          *volume,
                                           const NnVolume          *masks,
                                           const char              *name,
                                           const NnCtWindow        *window,
                                           const NnExplainSpec     *spec,
                                           ScopeVolumeJobProgress   progress,
                                           ScopeVolumeJobDone       done,
                                           gpointer                 data,
                                           GError                 **error);
/* The explain job's attribution volume: slices below the count progress last gave are final
 * and may be read on the main thread (the worker writes only the others). Owned by the job. */
const NnVolume *scope_volume_job_peek_attribution (ScopeVolumeJob *self);
/* The classify job's out-of-distribution scores (volume->nz of them), NULL without statistics;
 * as the attribution, slices below progress's last count are final. Owned by the job. */
const double   *scope_volume_job_peek_ood_scores (ScopeVolumeJob *self);
/* The explain job's pointing game per slice (volume->nz): 1 hit, 0 miss, -1 no lesion in the
 * mask (or no mask); slices below progress's last count are final. Owned by the job. */
const gint8    *scope_volume_job_peek_pointing (ScopeVolumeJob *self);
/* Stops the job (cancelled at the next slice; a read finishes first), joins its thread and
 * frees it: no callback runs afterwards. Accepts NULL. */
void            scope_volume_job_free     (ScopeVolumeJob          *job);

G_END_DECLS
