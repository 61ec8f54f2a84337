/* SPDX-License-Identifier: MIT */
/* VizExplainFigure: the caption and title rules, and the layout: caption lines on top; the
 * overlays side by side on the left; predictions, the metrics table and the curves on the
 * right. */
#include "viz-explain-figure.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "viz-caption.h"
#include "viz-curve.h"
#include "viz-export.h"
#include "viz-text.h"

#define LEFT_SHARE 0.6
#define NAME_SHARE 0.55  /* of the metrics table for the row names; the panels share the rest */

/* Deletion and insertion colours; the second panel's curves are dashed. */
static const double deletion_rgba[4] = { 0.85, 0.37, 0.0, 1.0 };
static const double insertion_rgba[4] = { 0.0, 0.45, 0.74, 1.0 };

const char *
viz_explain_method_label (const char *method)
{
  NN_ASSERT (method != NULL);

  NnMethod m;
  return nn_method_from_name (method, &m) ? nn_method_get_info (m)->label : method;
}

void
viz_explain_metrics_from_faith (VizExplainMetrics    *metrics,
                                const NnFaithMetrics *faith)
{
  NN_ASSERT (metrics != NULL && faith != NULL);

  static const unsigned flags[][2] = {
    { NN_FAITH_DELETION, VIZ_EXPLAIN_HAS_DELETION },
    { NN_FAITH_INSERTION, VIZ_EXPLAIN_HAS_INSERTION },
    { NN_FAITH_ROAD_MORF | NN_FAITH_ROAD_LERF, VIZ_EXPLAIN_HAS_ROAD },
    { NN_FAITH_RANDOMIZATION, VIZ_EXPLAIN_HAS_RANDOMIZATION },
    { NN_FAITH_MASK, VIZ_EXPLAIN_HAS_MASK },
  };
  *metrics = (VizExplainMetrics) {
    .deletion = faith->deletion,
    .insertion = faith->insertion,
    .road_morf = faith->road_morf_mean,
    .road_lerf = faith->road_lerf_mean,
    .rho = faith->rho,
    .pointing = faith->pointing,
    .energy = faith->energy,
  };
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if ((faith->has & flags[i][0]) == flags[i][0])
      metrics->has |= flags[i][1];
}

/* The label of class k, "?" when the model has none. */
static const char *
class_label (const NnModel *model,
             int            k)
{
  return k >= 0 && k < model->n_classes && model->labels != NULL && model->labels[k] != NULL
         ? model->labels[k] : "?";
}

/* Whether class k has a name of its own: not "?" and not its number (an ONNX model's classes
 * are named "0", "1", ..., which "class 3 3" and "3 (3)" would repeat). */
static bool
class_named (const NnModel *model,
             int            k)
{
  char number[16];
  snprintf (number, sizeof number, "%d", k);
  const char *label = class_label (model, k);
  return strcmp (label, "?") != 0 && strcmp (label, number) != 0;
}

void
viz_explain_figure_caption (char                    *buf,
                            size_t                   size,
                            const VizExplainCaption *c)
{
  NN_ASSERT (buf != NULL && size > 0 && c != NULL && c->model_path != NULL && c->model != NULL);
  NN_ASSERT (c->n_methods >= 1 && c->n_methods <= VIZ_EXPLAIN_FIGURE_PANELS);
  NN_ASSERT (c->faith != NULL || (!c->faithfulness && c->mask_pixels < 0));

  char model[256], input[256];
  snprintf (buf, size, "%s · input %s",
            viz_caption_file_name (model, sizeof model, c->model_path, true),
            c->input_path != NULL ? viz_caption_file_name (input, sizeof input, c->input_path,
                                                           true) : "none");
  if (c->target >= 0)
    viz_caption_append (buf, size, " · class %d%s%s (p = %.3f)%s", c->target,
                        class_named (c->model, c->target) ? " " : "",
                        class_named (c->model, c->target) ? class_label (c->model, c->target)
                                                          : "", c->probability,
                        c->top_prediction ? ", the top prediction" : "");
  /* The layer only when a method works at one (Integrated Gradients, say, does not). */
  bool layered = false;
  for (int i = 0; i < c->n_methods; i++)
    {
      NnMethod method;
      layered |= !nn_method_from_name (c->methods[i], &method)
                 || nn_method_has_flags (method, NN_METHOD_FLAG_LAYER);
    }
  if (layered)
    viz_caption_append (buf, size, " · layer %s", c->layer != NULL ? c->layer : "–");
  viz_caption_append (buf, size, "\nmethod %s", c->methods[0]);
  if (c->n_methods > 1)
    viz_caption_append (buf, size, " vs %s", c->methods[1]);
  viz_caption_append (buf, size, " · opacity %.2f · %s colormap · %s", c->opacity,
                      c->is_signed ? "signed (diverging)" : "positive-only",
                      c->fixed_scale > 0.0 ? "fixed scale" : "per-image scale");
  if (c->fixed_scale > 0.0)
    viz_caption_append (buf, size, " (max %g)", c->fixed_scale);
  if (c->display_window != NULL)
    {
      char model_window[64] = "none", shown[64];
      if (c->model->has_window)
        nn_ct_window_format (&c->model->window, model_window, sizeof model_window);
      nn_ct_window_format (c->display_window, shown, sizeof shown);
      viz_caption_append (buf, size, "\nCT slice · model window %s · display window %s",
                          model_window, shown);
    }
  const NnFaithSettings *faith = c->faith;
  if (c->faithfulness)
    {
      float road[NN_CURVE_MAX];
      nn_faith_settings_road_fractions (faith, road);
      viz_caption_append (buf, size, "\ndeletion/insertion %d steps (insertion from a blur) · "
                          "ROAD %.0f–%.0f %%, noise %g · randomization seed %" PRIu64,
                          faith->steps, 100.0 * (double) road[0],
                          100.0 * (double) road[faith->road_points - 1],
                          (double) faith->road_noise, faith->seed);
    }
  if (c->mask_pixels >= 0)
    viz_caption_append (buf, size, "%smask of %d px, pointing game within %g px",
                        c->faithfulness ? " · " : "\n", c->mask_pixels,
                        (double) faith->pointing_tolerance);
}

void
viz_explain_figure_panel_title (char          *buf,
                                size_t         size,
                                const char    *method,
                                const NnModel *model,
                                int            target,
                                const char    *layer,
                                const char    *error)
{
  NN_ASSERT (buf != NULL && size > 0 && method != NULL && model != NULL);

  const char *label = viz_explain_method_label (method);
  if (target >= 0)
    snprintf (buf, size, "%s · %s%s%s", label, class_label (model, target),
              layer != NULL ? " · " : "", layer != NULL ? layer : "");
  else if (error != NULL)
    snprintf (buf, size, "%s: %s", label, error);
  else
    snprintf (buf, size, "%s", label);
}

void
viz_explain_figure_add_prediction (VizExplainFigure *fig,
                                   const NnModel    *model,
                                   int               k,
                                   double            probability)
{
  NN_ASSERT (fig != NULL && model != NULL);
  NN_ASSERT (fig->k >= 0 && fig->k < VIZ_EXPLAIN_FIGURE_TOP_K);

  if (class_named (model, k))
    snprintf (fig->top_label[fig->k], sizeof fig->top_label[fig->k], "%s (%d)",
              class_label (model, k), k);
  else
    snprintf (fig->top_label[fig->k], sizeof fig->top_label[fig->k], "%d", k);
  fig->top_probability[fig->k] = probability;
  fig->k++;
}

static void
draw_panel (cairo_t               *cr,
            const VizExplainPanel *panel,
            const VizStyle        *style,
            double                 x,
            double                 y,
            double                 w,
            double                 h)
{
  double line = viz_text_line_height (style);
  viz_text_draw (cr, style, panel->title, x + style->margin, y, 0.0, 0.0);
  if (panel->heatmap.map == NULL)
    {
      viz_text_draw (cr, style, panel->metrics.stopped ? "Cancelled" : "Computing…",
                     x + w / 2.0, y + h / 2.0, 0.5, 0.5);
      return;
    }
  cairo_save (cr);
  cairo_translate (cr, x, y + line);
  viz_heatmap_draw (cr, &panel->heatmap, style, w, fmax (h - line, 0.0));
  cairo_restore (cr);
}

enum
{
  ROW_DELETION = VIZ_EXPLAIN_ROW_DELETION,
  ROW_INSERTION = VIZ_EXPLAIN_ROW_INSERTION,
  ROW_ROAD_MORF = VIZ_EXPLAIN_ROW_ROAD_MORF,
  ROW_ROAD_LERF = VIZ_EXPLAIN_ROW_ROAD_LERF,
  ROW_RHO = VIZ_EXPLAIN_ROW_RHO,
  ROW_POINTING = VIZ_EXPLAIN_ROW_POINTING,
  ROW_ENERGY = VIZ_EXPLAIN_ROW_ENERGY,
  N_ROWS = VIZ_EXPLAIN_N_ROWS
};

/* Whether the panel's map is zero everywhere (then nothing ranks its pixels). */
static bool
map_is_zero (const VizExplainPanel *panel)
{
  const VizHeatmap *hm = &panel->heatmap;
  if (hm->map == NULL)
    return false;
  for (size_t i = 0; i < (size_t) hm->h * (size_t) hm->w; i++)
    if (hm->map[i] != 0.0f)
      return false;
  return true;
}

static void
format_metric (char                    *out,
               size_t                   size,
               const VizExplainMetrics *m,
               bool                     zero_map,
               int                      row)
{
  static const unsigned needs[N_ROWS] = {
    VIZ_EXPLAIN_HAS_DELETION, VIZ_EXPLAIN_HAS_INSERTION, VIZ_EXPLAIN_HAS_ROAD,
    VIZ_EXPLAIN_HAS_ROAD, VIZ_EXPLAIN_HAS_RANDOMIZATION, VIZ_EXPLAIN_HAS_MASK,
    VIZ_EXPLAIN_HAS_MASK,
  };
  if (zero_map && row < ROW_POINTING)
    {
      snprintf (out, size, "n/a");
      return;
    }
  if (!(m->has & needs[row]))
    {
      snprintf (out, size, "%s", row >= ROW_POINTING || m->stopped ? "–" : "…");
      return;
    }
  double value = 0.0;
  switch (row)
    {
    case ROW_DELETION:
      value = m->deletion.auc;
      break;
    case ROW_INSERTION:
      value = m->insertion.auc;
      break;
    case ROW_ROAD_MORF:
      value = m->road_morf;
      break;
    case ROW_ROAD_LERF:
      value = m->road_lerf;
      break;
    case ROW_RHO:
      value = m->rho;
      break;
    case ROW_POINTING:
      snprintf (out, size, "%s", m->pointing ? "hit" : "miss");
      return;
    default:
      snprintf (out, size, "%.1f %%", 100.0 * m->energy);
      return;
    }
  snprintf (out, size, "%.3f", value);
}

void
viz_explain_figure_format_metric (char                   *buf,
                                  size_t                  size,
                                  const VizExplainFigure *fig,
                                  int                     panel,
                                  VizExplainRow           row)
{
  NN_ASSERT (buf != NULL && size > 0 && fig != NULL);
  NN_ASSERT (panel >= 0 && panel < fig->n_panels && row >= 0 && row < VIZ_EXPLAIN_N_ROWS);
  format_metric (buf, size, &fig->panels[panel].metrics, map_is_zero (&fig->panels[panel]),
                 (int) row);
}

static bool
any_mask (const VizExplainFigure *fig)
{
  for (int p = 0; p < fig->n_panels; p++)
    if (fig->panels[p].metrics.has & VIZ_EXPLAIN_HAS_MASK)
      return true;
  return false;
}

/* Predictions and the metrics table from (x, y) down; returns the y below them. */
static double
draw_numbers (cairo_t                *cr,
              const VizExplainFigure *fig,
              const VizStyle         *style,
              double                  x,
              double                  y,
              double                  w)
{
  static const char *const rows[N_ROWS] = {
    "Deletion AUC (lower is better)", "Insertion AUC (higher)", "ROAD MoRF (lower)",
    "ROAD LeRF (higher)", "Randomization ρ (lower)", "Pointing game", "Energy in mask",
  };
  double line = viz_text_line_height (style);
  char text[160];
  viz_text_draw (cr, style, "Top predictions", x, y, 0.0, 0.0);
  y += line;
  for (int i = 0; i < fig->k; i++, y += line)
    {
      snprintf (text, sizeof text, "%d. %s", i + 1, fig->top_label[i]);
      viz_text_draw (cr, style, text, x + line, y, 0.0, 0.0);
      snprintf (text, sizeof text, "%.1f %%", 100.0 * fig->top_probability[i]);
      viz_text_draw (cr, style, text, x + w * 0.6, y, 1.0, 0.0);
      double bar = w * 0.35 * fig->top_probability[i];
      cairo_rectangle (cr, x + w * 0.62, y + 0.2 * line, bar, 0.6 * line);
      cairo_set_source_rgba (cr, insertion_rgba[0], insertion_rgba[1], insertion_rgba[2], 0.8);
      cairo_fill (cr);
    }
  y += line * 0.5;
  int first = fig->faithfulness ? ROW_DELETION : ROW_POINTING;
  int last = any_mask (fig) ? ROW_ENERGY : ROW_RHO;
  if (first > last)
    return y;
  viz_text_draw (cr, style, fig->faithfulness ? "Faithfulness" : "Against the mask", x, y, 0.0,
                 0.0);
  int n = fig->n_panels > 1 ? fig->n_panels : 1;
  double col = w * (1.0 - NAME_SHARE) / n;
  for (int p = 0; p < fig->n_panels; p++)
    viz_text_draw (cr, style, fig->panels[p].method, x + w * NAME_SHARE + (p + 1) * col, y, 1.0,
                   0.0);
  y += line;
  for (int r = first; r <= last; r++, y += line)
    {
      viz_text_draw (cr, style, rows[r], x + line, y, 0.0, 0.0);
      for (int p = 0; p < fig->n_panels; p++)
        {
          viz_explain_figure_format_metric (text, sizeof text, fig, p, (VizExplainRow) r);
          viz_text_draw (cr, style, text, x + w * NAME_SHARE + (p + 1) * col, y, 1.0, 0.0);
        }
    }
  return y + line * 0.5;
}

static void
draw_curves (cairo_t                *cr,
             const VizExplainFigure *fig,
             const VizStyle         *style,
             double                  w,
             double                  h)
{
  VizCurveSeries series[2 * VIZ_EXPLAIN_FIGURE_PANELS];
  char labels[2 * VIZ_EXPLAIN_FIGURE_PANELS][96];
  int n = 0;
  for (int p = 0; p < fig->n_panels; p++)
    {
      const VizExplainMetrics *m = &fig->panels[p].metrics;
      for (int kind = 0; kind < 2; kind++)
        {
          unsigned flag = kind == 0 ? VIZ_EXPLAIN_HAS_DELETION : VIZ_EXPLAIN_HAS_INSERTION;
          if (!(m->has & flag) || map_is_zero (&fig->panels[p]))
            continue;
          const NnCurve *c = kind == 0 ? &m->deletion : &m->insertion;
          const double *rgba = kind == 0 ? deletion_rgba : insertion_rgba;
          snprintf (labels[n], sizeof labels[n], "%s %s", fig->panels[p].method,
                    kind == 0 ? "deletion" : "insertion");
          series[n] = (VizCurveSeries) {
            .x = c->fraction, .y = c->prob, .n = c->n,
            .rgba = { rgba[0], rgba[1], rgba[2], rgba[3] },
            .dashed = p > 0, .label = labels[n],
          };
          n++;
        }
    }
  VizCurve curve = {
    .series = series, .n_series = n, .x_min = 0.0, .x_max = 1.0, .y_min = 0.0, .y_max = 1.0,
    .title = "Deletion and insertion: class probability",
  };
  viz_curve_draw (cr, &curve, style, w, h);
}

void
viz_explain_figure_draw (cairo_t                *cr,
                         const VizExplainFigure *fig,
                         const VizStyle         *style,
                         double                  width,
                         double                  height)
{
  NN_ASSERT (cr != NULL && fig != NULL && style != NULL);
  NN_ASSERT (fig->n_panels >= 1 && fig->n_panels <= VIZ_EXPLAIN_FIGURE_PANELS);
  NN_ASSERT (fig->k >= 0 && fig->k <= VIZ_EXPLAIN_FIGURE_TOP_K);

  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
  double m = style->margin, line = viz_text_line_height (style);
  double y = viz_text_draw_wrapped (cr, style, fig->caption, m, m, width - 2.0 * m);
  y += line * 0.5;

  double body_h = fmax (height - y - m, 0.0);
  double left_w = floor (width * LEFT_SHARE);
  double panel_w = left_w / fig->n_panels;
  for (int p = 0; p < fig->n_panels; p++)
    draw_panel (cr, &fig->panels[p], style, p * panel_w, y, panel_w, body_h);

  double right_x = left_w + m, right_w = fmax (width - left_w - 2.0 * m, 0.0);
  double below = draw_numbers (cr, fig, style, right_x, y, right_w);
  if (fig->faithfulness)
    {
      cairo_save (cr);
      cairo_translate (cr, left_w, below);
      draw_curves (cr, fig, style, width - left_w, fmax (height - below, 0.0));
      cairo_restore (cr);
    }
  cairo_restore (cr);
}

static void
export_draw (cairo_t    *cr,
             const void *data,
             double      width,
             double      height)
{
  VizStyle style;
  viz_style_init (&style);
  viz_explain_figure_draw (cr, data, &style, width, height);
}

bool
viz_explain_figure_export (const VizExplainFigure *fig,
                           const char             *path,
                           double                  width,
                           double                  height,
                           NnError                *err)
{
  NN_ASSERT (fig != NULL && path != NULL);

  return viz_export (path, export_draw, fig, width, height, err);
}
