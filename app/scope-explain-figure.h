/* SPDX-License-Identifier: MIT */
/* ScopeExplainFigure: the drawing half of the Explain view. A thin widget over immutable values
 * (each panel's explanation and metrics, copied, and the display settings): a map is blended
 * over the image into a surface once, when it or the display changes; every frame draws the
 * VizExplainFigure of what it holds, and export writes the same figure. */
#pragma once

#include <gtk/gtk.h>

#include "scope-explain-job.h"
#include "scope-input.h"
#include "scope-model.h"
#include "viz.h"

G_BEGIN_DECLS

#define SCOPE_TYPE_EXPLAIN_FIGURE (scope_explain_figure_get_type ())

G_DECLARE_FINAL_TYPE (ScopeExplainFigure, scope_explain_figure, SCOPE, EXPLAIN_FIGURE,
                      GtkWidget)

/* What the figure shows the maps of, and how; the pointers are borrowed for the call. */
typedef struct
{
  ScopeModel       *model;          /* NULL: the figure shows nothing */
  ScopeInput       *input;          /* its name and mask; NULL: none */
  const float      *image;          /* the input's (c, h, w) the overlays are drawn on, in
                                       [0, 1] (a CT slice through display_window); NULL: none */
  const NnCtWindow *display_window; /* a CT slice's window; NULL: a picture */
  double            opacity;
  gboolean          is_signed;      /* the maps keep their negative part: diverging colours */
  double            fixed_scale;    /* > 0: the top of every scale; 0: each map's maximum */
  int               target;         /* the class asked for; -1: the top prediction */
  int               layer;          /* the layer asked for; -1: none */
  int               n_panels;       /* 1 or 2 */
  NnMethod          methods[VIZ_EXPLAIN_FIGURE_PANELS];
} ScopeExplainFigureSettings;

/* New settings: the overlays are blended again (the maps stay). */
void     scope_explain_figure_set_settings (ScopeExplainFigure               *self,
                                            const ScopeExplainFigureSettings *settings);
/* Panel panel's map and predictions (NULL: none yet), copied. */
void     scope_explain_figure_set_explanation (ScopeExplainFigure     *self,
                                               int                     panel,
                                               const ScopeExplanation *explanation);
/* Panel panel's metrics known so far (NULL: none) and why it failed (NULL: it did not),
 * copied. */
void     scope_explain_figure_set_metrics (ScopeExplainFigure        *self,
                                           int                        panel,
                                           const ScopeExplainMetrics *metrics,
                                           const char                *error);
/* What the metrics table shows for panel's row (viz_explain_figure_format_metric); NULL
 * without a model or such a panel. To g_free. */
char    *scope_explain_figure_get_metric_text (ScopeExplainFigure *self,
                                               int                 panel,
                                               VizExplainRow       row);
/* Whether panel's job was cancelled (its missing map and numbers show as not coming, "–"
 * rather than "…"); a new job clears it. */
void     scope_explain_figure_set_stopped (ScopeExplainFigure *self,
                                           int                 panel,
                                           gboolean            stopped);
/* Writes what the figure shows as PNG, SVG or PDF (by the extension of path) at the export
 * size; FALSE with an error naming path when there is no map yet. */
gboolean scope_explain_figure_export (ScopeExplainFigure  *self,
                                      const char          *path,
                                      GError             **error);

G_END_DECLS
