/* SPDX-License-Identifier: MIT */
/* ScopeEmbedView: the Feature Space view. The selected layer's features over a dataset, mapped
 * to 2-D with PCA or t-SNE on a worker, drawn as a scatter plot coloured by true class or by
 * prediction with the misclassified samples ringed; hovering a dot shows its image, clicking it
 * makes that image the input of every view. */
#pragma once

#include "scope-embed-job.h"
#include "scope-view.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_EMBED_VIEW (scope_embed_view_get_type ())

G_DECLARE_FINAL_TYPE (ScopeEmbedView, scope_embed_view, SCOPE, EMBED_VIEW, ScopeView)

/* Chooses the image folder as the dataset (what Choose Folder… does). */
void                  scope_embed_view_set_folder (ScopeEmbedView *self,
                                                   const char     *path);
/* The newest embedding, NULL before a run finished (or after the model changed); borrowed. */
const ScopeEmbedding *scope_embed_view_get_embedding (ScopeEmbedView *self);
/* Whether a run goes on. */
gboolean              scope_embed_view_is_running (ScopeEmbedView *self);
/* Where sample i's dot is drawn, in the plot's coordinates (the "embed.click" action's). */
void                  scope_embed_view_get_point (ScopeEmbedView *self,
                                                  int             i,
                                                  double         *x,
                                                  double         *y);
/* The sample whose dot is under (x, y) in the plot, or -1 (what hovering shows). */
int                   scope_embed_view_hit (ScopeEmbedView *self,
                                            double          x,
                                            double          y);
/* The sample under the pointer (ringed, its image in the preview popover), or -1. */
int                   scope_embed_view_get_hovered (ScopeEmbedView *self);
/* The popover that shows the hovered sample: its image, class and prediction. */
GtkWidget            *scope_embed_view_get_preview (ScopeEmbedView *self);

G_END_DECLS
