/* SPDX-License-Identifier: MIT */
/* The attribution figure, as the Explain view and `cnnscope-cli cam` / `saliency` draw it: a
 * caption with every setting, one or two overlays with their colour bars, the top predictions,
 * the faithfulness numbers and the deletion and insertion curves. */
#pragma once

#include <cairo.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn.h"
#include "viz-heatmap.h"
#include "viz-style.h"

#define VIZ_EXPLAIN_FIGURE_PANELS 2
#define VIZ_EXPLAIN_FIGURE_TOP_K  NN_EXPLAIN_TOP_K

/* The size of an exported figure (pixels for PNG, points for SVG and PDF) unless asked for
 * another. */
#define VIZ_EXPLAIN_FIGURE_WIDTH  1200.0
#define VIZ_EXPLAIN_FIGURE_HEIGHT 750.0

typedef enum
{
  VIZ_EXPLAIN_HAS_DELETION      = 1 << 0,
  VIZ_EXPLAIN_HAS_INSERTION     = 1 << 1,
  VIZ_EXPLAIN_HAS_ROAD          = 1 << 2,
  VIZ_EXPLAIN_HAS_RANDOMIZATION = 1 << 3,
  VIZ_EXPLAIN_HAS_MASK          = 1 << 4,   /* pointing game and energy share */
} VizExplainHas;

/* The rows of the metrics table: five faithfulness numbers, then two with a mask. */
typedef enum
{
  VIZ_EXPLAIN_ROW_DELETION,
  VIZ_EXPLAIN_ROW_INSERTION,
  VIZ_EXPLAIN_ROW_ROAD_MORF,
  VIZ_EXPLAIN_ROW_ROAD_LERF,
  VIZ_EXPLAIN_ROW_RHO,
  VIZ_EXPLAIN_ROW_POINTING,
  VIZ_EXPLAIN_ROW_ENERGY,
  VIZ_EXPLAIN_N_ROWS
} VizExplainRow;

/* The numbers of one map known so far; a value without its flag shows as "…" (to come), or as
 * "–" once stopped (cancelled: none will come). The faithfulness numbers of a map that is zero
 * everywhere show as "n/a": there is no ranking of pixels for them to test. */
typedef struct
{
  unsigned has;             /* VizExplainHas */
  bool     stopped;         /* no more values come */
  NnCurve  deletion;
  NnCurve  insertion;
  double   road_morf;       /* mean probability over the ROAD fractions, most relevant first */
  double   road_lerf;       /* least relevant first */
  double   rho;             /* Spearman rho of the map and the randomized model's map */
  bool     pointing;        /* pointing game hit */
  double   energy;          /* share of the positive energy inside the mask */
} VizExplainMetrics;

typedef struct
{
  char              title[256];  /* method, class, layer (viz_explain_figure_panel_title) */
  char              method[64];  /* short name for the table header and legend */
  VizHeatmap        heatmap;     /* its arrays, colour map and surface borrowed; NULL map:
                                    nothing yet (the title and a note show) */
  VizExplainMetrics metrics;
} VizExplainPanel;

/* A plain value: the text and numbers are held in the struct, the maps and image borrowed. */
typedef struct
{
  char            caption[1024];  /* every setting; lines split at '\n' */
  int             n_panels;       /* 1 or 2 */
  VizExplainPanel panels[VIZ_EXPLAIN_FIGURE_PANELS];
  bool            faithfulness;   /* show the faithfulness rows and curves (their values may
                                     still be to come) */
  int             k;              /* top predictions */
  char            top_label[VIZ_EXPLAIN_FIGURE_TOP_K][128];
  double          top_probability[VIZ_EXPLAIN_FIGURE_TOP_K];
} VizExplainFigure;

/* The metrics of an explanation (nn_explain_run) as the figure shows them: ROAD once both of
 * its curves are in. */
void viz_explain_metrics_from_faith (VizExplainMetrics    *metrics,
                                     const NnFaithMetrics *faith);

/* What the caption says. */
typedef struct
{
  const char            *model_path;      /* named without its folders */
  const NnModel         *model;           /* its labels and CT window */
  const char            *input_path;      /* named without its folders; NULL: none */
  int                    target;          /* the class explained; < 0: not known yet */
  double                 probability;     /* of target */
  bool                   top_prediction;  /* target is the top prediction, not a chosen
                                             class */
  const char            *layer;           /* NULL: none */
  const char            *methods[VIZ_EXPLAIN_FIGURE_PANELS];  /* engine names ("gradcam") */
  int                    n_methods;
  double                 opacity;
  bool                   is_signed;       /* the signed (diverging) colour map */
  double                 fixed_scale;     /* > 0: the top of the scale; 0: each map's own
                                             maximum */
  const NnCtWindow      *display_window;  /* a CT slice shown through this window; NULL: a
                                             picture */
  bool                   faithfulness;    /* the faithfulness metrics are computed */
  const NnFaithSettings *faith;           /* how the metrics are computed (steps, ROAD, seed,
                                             the pointing game's tolerance); may be NULL
                                             without faithfulness and mask */
  int                    mask_pixels;     /* pixels of the ground-truth mask; < 0: no mask */
} VizExplainCaption;

/* How a method is written in figures and menus: its registry label (nn-method.h), "Grad-CAM"
 * for "gradcam"; the name itself when it is not known. */
const char *viz_explain_method_label (const char *method);

void viz_explain_figure_caption (char                    *buf,
                                 size_t                   size,
                                 const VizExplainCaption *caption);
/* A panel's title: the method's label, then (target >= 0) the class's label and the layer
 * when not NULL, or the error when not NULL. */
void viz_explain_figure_panel_title (char          *buf,
                                     size_t         size,
                                     const char    *method,
                                     const NnModel *model,
                                     int            target,
                                     const char    *layer,
                                     const char    *error);
/* Appends a top prediction: class k of model with its probability ("Ankle boot (9)"). */
void viz_explain_figure_add_prediction (VizExplainFigure *fig,
                                        const NnModel    *model,
                                        int               k,
                                        double            probability);

/* Draws fig into (0, 0, width, height); saves and restores cr. */
void viz_explain_figure_draw (cairo_t                *cr,
                              const VizExplainFigure *fig,
                              const VizStyle         *style,
                              double                  width,
                              double                  height);
/* Writes fig in viz's default style (dark on white) as PNG, SVG or PDF (by the extension of
 * path), atomically. */
bool viz_explain_figure_export (const VizExplainFigure *fig,
                                const char             *path,
                                double                  width,
                                double                  height,
                                NnError                *err);

/* The text the metrics table shows for panel's row: a number, "…" (to come), "–" (none will
 * come), "n/a" (a map of zeros ranks no pixels) or the pointing game's "hit"/"miss". */
void viz_explain_figure_format_metric (char                   *buf,
                                       size_t                  size,
                                       const VizExplainFigure *fig,
                                       int                     panel,
                                       VizExplainRow           row);
