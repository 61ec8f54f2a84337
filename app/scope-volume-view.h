/* SPDX-License-Identifier: MIT */
/* ScopeVolumeView: a volume (a DICOM series folder or a NIfTI file) in three orthogonal planes
 * with a linked crosshair, slice navigation, the CT display window, the model's class
 * probabilities of every axial slice as a strip along z, and an explanation of every slice as
 * an attribution volume over the three planes. */
#pragma once

#include "scope-view.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_VOLUME_VIEW (scope_volume_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopeVolumeView, scope_volume_view, SCOPE, VOLUME_VIEW, ScopeView)

/* The volume shown (LPS order), NULL before one is read; borrowed. */
const NnVolume *scope_volume_view_get_volume (ScopeVolumeView *self);
/* Whether a volume is being read. */
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

G_END_DECLS
