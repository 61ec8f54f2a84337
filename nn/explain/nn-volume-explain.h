/* SPDX-License-Identifier: MIT */
/* A model over a whole volume, slice by slice, the same for the app and the CLI: the class
 * probabilities of every axial slice (the strip along z), and an explanation of every slice
 * laid back over it as an attribution volume on the scan's grid. Both run on the calling
 * (worker) thread, report each slice as it completes and stop when the cancel flag is set. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>

#include "explain/nn-explain-run.h"
#include "io/nn-ct.h"
#include "io/nn-model.h"
#include "io/nn-volume.h"

/* Slice k of an LPS volume (nn_volume_reorient (v, "LPS")) as the model's input: fitted to its
 * size, read through its CT window (or, without one, through window when given, as
 * nn_input_load does). name prefixes messages ("scan.nii.gz" gives "scan.nii.gz, slice 12");
 * display through window (may be NULL: the model's, else lung). */
NnInput *nn_volume_slice_input (const NnVolume   *volume,
                                int               k,
                                const char       *name,
                                const NnModel    *model,
                                const NnCtWindow *window,
                                NnError          *err);

/* Called on the calling thread after slice k: its probabilities (classes of them, softmax) for
 * nn_volume_classify, or its explanation (borrowed for the call) for nn_volume_explain, the
 * other NULL. */
typedef void (*NnVolumeSliceDone) (int                  k,
                                   const float         *probs,
                                   const NnExplanation *explanation,
                                   void                *user_data);

/* The model's output for axial slices [begin, end) of an LPS volume, batch of them per
 * forward pass: probs ((end - begin) x classes) its softmax, logits (may be NULL) the same
 * shape. done (may be NULL) after each slice; cancel (may be NULL) polled before every pass
 * (then NN_ERROR_CANCELLED). Errors name `name`. */
bool nn_volume_classify (const NnModel     *model,
                         const NnVolume    *volume,
                         const char        *name,
                         const NnCtWindow  *window,
                         int                begin,
                         int                end,
                         int                batch,
                         float             *probs,
                         float             *logits,
                         NnVolumeSliceDone  done,
                         void              *user_data,
                         const atomic_int  *cancel,
                         NnError           *err);

/* nn_volume_classify that also copies node feature's output (e.g. the out-of-distribution
 * score's features, nn_ood_feature_node) of each slice into features ((end - begin) x that
 * node's values per sample); row k - begin is filled before done (k) runs. feature -1 (and
 * features NULL): none, as nn_volume_classify. */
bool nn_volume_classify_features (const NnModel     *model,
                                  const NnVolume    *volume,
                                  const char        *name,
                                  const NnCtWindow  *window,
                                  int                begin,
                                  int                end,
                                  int                batch,
                                  float             *probs,
                                  float             *logits,
                                  int                feature,
                                  float             *features,
                                  NnVolumeSliceDone  done,
                                  void              *user_data,
                                  const atomic_int  *cancel,
                                  NnError           *err);

/* Explains axial slices [begin, end) of an LPS volume with spec (spec->mask is ignored: masks,
 * when not NULL, is a lesion mask volume on the same grid whose slice k, fitted like the
 * image, is slice k's mask; a slice without a lesion gets none). Each map is laid back over its
 * slice at the slice's resolution (nn_image_unfit: zero outside the fitted crop) into slice k
 * of attribution (a volume of volume's size, e.g. nn_volume_new_like; other slices untouched).
 * done (may be NULL) after each slice; cancel (may be NULL) polled before every pass of every
 * slice (then NN_ERROR_CANCELLED; the slices done stay in attribution). Errors name `name` and
 * the slice. */
bool nn_volume_explain (const NnModel       *model,
                        const NnVolume      *volume,
                        const NnVolume      *masks,
                        const char          *name,
                        const NnCtWindow    *window,
                        const NnExplainSpec *spec,
                        int                  begin,
                        int                  end,
                        NnVolume            *attribution,
                        NnVolumeSliceDone    done,
                        void                *user_data,
                        const atomic_int    *cancel,
                        NnError             *err);
