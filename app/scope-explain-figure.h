/* SPDX-License-Identifier: MIT */
/* What the Explain view draws, on screen and in exported files alike: a caption with every
 * setting, one or two attribution overlays with their colour bars, the top predictions, the
 * faithfulness numbers and the deletion and insertion curves. Cairo and viz/ only, no GTK. */
#pragma once

#include <cairo.h>
#include <glib.h>

#include "scope-explain-job.h"
#include "viz.h"

G_BEGIN_DECLS

#define SCOPE_EXPLAIN_PANELS 2

typedef struct
{
  const char                *title;    /* method, class, layer */
  const char                *method;   /* short name for the table header and legend */
  VizHeatmap                 heatmap;  /* NULL map: nothing yet (the title and a note show) */
  const ScopeExplainMetrics *metrics;  /* NULL: none yet */
} ScopeExplainPanel;

typedef struct
{
  const char        *caption;   /* every setting; lines split at '\n' */
  int                n_panels;  /* 1 or 2 */
  ScopeExplainPanel  panels[SCOPE_EXPLAIN_PANELS];
  int                k;         /* top predictions */
  const char        *top_label[SCOPE_EXPLAIN_TOP_K];
  float              top_probability[SCOPE_EXPLAIN_TOP_K];
} ScopeExplainFigure;

/* Draws fig into (0, 0, width, height); saves and restores cr. */
void     scope_explain_figure_draw (cairo_t                  *cr,
                                    const ScopeExplainFigure *fig,
                                    const VizStyle           *style,
                                    double                    width,
                                    double                    height);
/* Writes fig as PNG, SVG or PDF (by the extension of path), dark on white, 1200 x 750. */
gboolean scope_explain_figure_export (const ScopeExplainFigure  *fig,
                                      const char                *path,
                                      GError                   **error);

G_END_DECLS
