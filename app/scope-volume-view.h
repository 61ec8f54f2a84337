/* SPDX-License-Identifier: MIT */
/* ScopeVolumeView: a volume (a DICOM series folder or a NIfTI file) in three orthogonal planes
 * with a linked crosshair, slice navigation, the CT display window, the model's class
 * probabilities of every axial slice as a strip along z (slices far from the training data
 * marked), an explanation of every slice as an attribution volume over the three planes, a
 * lesion mask volume as a contour, and a choice among the series of a DICOM folder. */
#pragma once

#include "scope-view.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_VOLUME_VIEW (scope_volume_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopeVolumeView, scope_volume_view, SCOPE, VOLUME_VIEW, ScopeView)

/* The volume shown (LPS order), NULL before one is read; borrowed. */
const NnVolume *scope_volume_view_get_volume (ScopeVolumeView *self);
/* Whether a volume or its mask is being read. */
gboolean        scope_volume_view_is_loading (ScopeVolumeView *self);
/* The crosshair's voxel (i, j, k). */
void            scope_volume_view_get_cursor (ScopeVolumeView *self,
                                              int              ijk[3]);
/* Where plane is drawn in its area, in its area's coordinates: x, y, width, height. */
void            scope_volume_view_get_plane_rect (ScopeVolumeView *self,
                                                  NnVolumePlane    plane,
                                                  double           rect[4]);
/* The display window of the planes. */
NnCtWindow      scope_volume_view_get_window (ScopeVolumeView *self);
/* Shows the planes through window from now on (the default display window, lung until set). */
void            scope_volume_view_set_default_window (ScopeVolumeView *self,
                                                      NnCtWindow       window);
/* Slices with class probabilities so far (the strip), and whether classifying goes on. */
int             scope_volume_view_get_classified (ScopeVolumeView *self);
gboolean        scope_volume_view_is_classifying (ScopeVolumeView *self);
/* Probabilities of slice k (the model's classes of them), NULL before it is classified. */
const float    *scope_volume_view_get_probs (ScopeVolumeView *self,
                                             int              k);

/* The attribution volume of the last explanation (on the volume's grid), NULL before one;
 * borrowed. Whether explaining goes on. */
const NnVolume *scope_volume_view_get_attribution (ScopeVolumeView *self);
gboolean        scope_volume_view_is_explaining (ScopeVolumeView *self);

/* Reads file as the lesion mask volume of the volume (on a worker); it must lie on the
 * volume's grid, else an error names it. A mask NAME.mask.nii.gz or NAME.mask.nii beside a
 * volume NAME.nii.gz or NAME.nii opens with it. The mask shows as a contour over the planes
 * (the "show-mask" property, action volume.show-mask) and explanations play the pointing game
 * on its slices. */
void            scope_volume_view_open_mask (ScopeVolumeView *self,
                                             GFile           *file);
/* The mask volume (LPS, on the volume's grid), NULL before one; borrowed. */
const NnVolume *scope_volume_view_get_mask (ScopeVolumeView *self);
/* Slice k's out-of-distribution score and the threshold above which it is far from the
 * training data; FALSE before it is classified or without the model's statistics. */
gboolean        scope_volume_view_get_ood (ScopeVolumeView *self,
                                           int              k,
                                           double          *score,
                                           double          *threshold);
/* The caption of the crosshair's axial slice (its class, out-of-distribution note, lesion and
 * pointing game); borrowed. */
const char     *scope_volume_view_get_slice_note (ScopeVolumeView *self);
/* The pointing game over the slices explained so far: hits among the slices with a lesion in
 * the mask (lesions); returns the slices explained. */
int             scope_volume_view_get_pointing (ScopeVolumeView *self,
                                                int             *hits,
                                                int             *lesions);
/* The series of a DICOM folder of several while the dialog asks which to read (n of them;
 * volume.choose-series reads one), else NULL; borrowed. */
const NnVolumeSeries *scope_volume_view_get_series (ScopeVolumeView *self,
                                                    int             *n);

G_END_DECLS
