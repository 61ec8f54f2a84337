/* SPDX-License-Identifier: MIT */
/* The Explain figure's layout: caption lines on top; the overlays side by side on the left;
 * predictions, the metrics table and the curves on the right. */
#include "scope-explain-figure.h"

#include <math.h>
#include <stdio.h>

#include "scope-error.h"
#include "viz-text.h"

#define EXPORT_WIDTH  1200.0
#define EXPORT_HEIGHT 750.0
#define LEFT_SHARE    0.6
#define NAME_SHARE    0.55  /* of the metrics table for the row names; the panels share the rest */

/* Deletion and insertion colours; the second panel's curves are dashed. */
static const double deletion_rgba[4] = { 0.85, 0.37, 0.0, 1.0 };
static const double insertion_rgba[4] = { 0.0, 0.45, 0.74, 1.0 };

static double
draw_lines (cairo_t        *cr,
            const VizStyle *style,
            const char     *text,
            double          x,
            double          y)
{
  double line = viz_text_line_height (style);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i] != NULL; i++, y += line)
    viz_text_draw (cr, style, lines[i], x, y, 0.0, 0.0);
  return y;
}

static void
draw_panel (cairo_t                 *cr,
            const ScopeExplainPanel *panel,
            const VizStyle          *style,
            double                   x,
            double                   y,
            double                   w,
            double                   h)
{
  double line = viz_text_line_height (style);
  viz_text_draw (cr, style, panel->title, x + style->margin, y, 0.0, 0.0);
  if (panel->heatmap.map == NULL)
    {
      viz_text_draw (cr, style, "Computing…", x + w / 2.0, y + h / 2.0, 0.5, 0.5);
      return;
    }
  cairo_save (cr);
  cairo_translate (cr, x, y + line);
  viz_heatmap_draw (cr, &panel->heatmap, style, w, fmax (h - line, 0.0));
  cairo_restore (cr);
}

static void
format_metric (char                      *out,
               size_t                     size,
               const ScopeExplainMetrics *m,
               int                        row)
{
  if (m == NULL)
    {
      snprintf (out, size, "…");
      return;
    }
  switch (row)
    {
    case 0:
      if (m->has & SCOPE_EXPLAIN_HAS_DELETION)
        snprintf (out, size, "%.3f", m->deletion.auc);
      else
        snprintf (out, size, "…");
      break;
    case 1:
      if (m->has & SCOPE_EXPLAIN_HAS_INSERTION)
        snprintf (out, size, "%.3f", m->insertion.auc);
      else
        snprintf (out, size, "…");
      break;
    case 2:
      if (m->has & SCOPE_EXPLAIN_HAS_ROAD)
        snprintf (out, size, "%.3f", m->road_morf_mean);
      else
        snprintf (out, size, "…");
      break;
    case 3:
      if (m->has & SCOPE_EXPLAIN_HAS_ROAD)
        snprintf (out, size, "%.3f", m->road_lerf_mean);
      else
        snprintf (out, size, "…");
      break;
    case 4:
      if (m->has & SCOPE_EXPLAIN_HAS_RANDOMIZATION)
        snprintf (out, size, "%.3f", m->rho);
      else
        snprintf (out, size, "…");
      break;
    case 5:
      snprintf (out, size, "%s", m->pointing ? "hit" : "miss");
      break;
    default:
      snprintf (out, size, "%.1f %%", 100.0 * m->energy);
      break;
    }
}

static gboolean
any_mask (const ScopeExplainFigure *fig)
{
  for (int p = 0; p < fig->n_panels; p++)
    if (fig->panels[p].metrics != NULL && (fig->panels[p].metrics->has & SCOPE_EXPLAIN_HAS_MASK))
      return TRUE;
  return FALSE;
}

/* Predictions and the metrics table from (x, y) down; returns the y below them. */
static double
draw_numbers (cairo_t                  *cr,
              const ScopeExplainFigure *fig,
              const VizStyle           *style,
              double                    x,
              double                    y,
              double                    w)
{
  static const char *rows[] = {
    "Deletion AUC (lower is better)", "Insertion AUC (higher)", "ROAD MoRF (lower)",
    "ROAD LeRF (higher)", "Randomization ρ (lower)", "Pointing game (15 px)", "Energy in mask",
  };
  double line = viz_text_line_height (style);
  char text[128];
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
  viz_text_draw (cr, style, "Faithfulness", x, y, 0.0, 0.0);
  double col = w * (1.0 - NAME_SHARE) / MAX (fig->n_panels, 1);
  for (int p = 0; p < fig->n_panels; p++)
    viz_text_draw (cr, style, fig->panels[p].method, x + w * NAME_SHARE + (p + 1) * col, y, 1.0,
                   0.0);
  y += line;
  int n_rows = any_mask (fig) ? 7 : 5;
  for (int r = 0; r < n_rows; r++, y += line)
    {
      viz_text_draw (cr, style, rows[r], x + line, y, 0.0, 0.0);
      for (int p = 0; p < fig->n_panels; p++)
        {
          const ScopeExplainMetrics *m = fig->panels[p].metrics;
          if (r >= 5 && (m == NULL || !(m->has & SCOPE_EXPLAIN_HAS_MASK)))
            snprintf (text, sizeof text, "–");
          else
            format_metric (text, sizeof text, m, r);
          viz_text_draw (cr, style, text, x + w * NAME_SHARE + (p + 1) * col, y, 1.0, 0.0);
        }
    }
  return y + line * 0.5;
}

static void
draw_curves (cairo_t                  *cr,
             const ScopeExplainFigure *fig,
             const VizStyle           *style,
             double                    w,
             double                    h)
{
  VizCurveSeries series[2 * SCOPE_EXPLAIN_PANELS];
  char labels[2 * SCOPE_EXPLAIN_PANELS][96];
  int n = 0;
  for (int p = 0; p < fig->n_panels; p++)
    {
      const ScopeExplainMetrics *m = fig->panels[p].metrics;
      if (m == NULL)
        continue;
      for (int kind = 0; kind < 2; kind++)
        {
          guint flag = kind == 0 ? SCOPE_EXPLAIN_HAS_DELETION : SCOPE_EXPLAIN_HAS_INSERTION;
          if (!(m->has & flag))
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
scope_explain_figure_draw (cairo_t                  *cr,
                           const ScopeExplainFigure *fig,
                           const VizStyle           *style,
                           double                    width,
                           double                    height)
{
  g_return_if_fail (cr != NULL && fig != NULL && style != NULL);

  cairo_save (cr);
  if (style->background[3] > 0.0)
    {
      cairo_set_source_rgba (cr, style->background[0], style->background[1],
                             style->background[2], style->background[3]);
      cairo_paint (cr);
    }
  double m = style->margin, line = viz_text_line_height (style);
  double y = draw_lines (cr, style, fig->caption != NULL ? fig->caption : "", m, m);
  y += line * 0.5;

  double body_h = fmax (height - y - m, 0.0);
  double left_w = floor (width * LEFT_SHARE);
  int n = CLAMP (fig->n_panels, 1, SCOPE_EXPLAIN_PANELS);
  double panel_w = left_w / n;
  for (int p = 0; p < n; p++)
    draw_panel (cr, &fig->panels[p], style, p * panel_w, y, panel_w, body_h);

  double right_x = left_w + m, right_w = fmax (width - left_w - 2.0 * m, 0.0);
  double below = draw_numbers (cr, fig, style, right_x, y, right_w);
  cairo_save (cr);
  cairo_translate (cr, left_w, below);
  draw_curves (cr, fig, style, width - left_w, fmax (height - below, 0.0));
  cairo_restore (cr);
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
  scope_explain_figure_draw (cr, data, &style, width, height);
}

gboolean
scope_explain_figure_export (const ScopeExplainFigure  *fig,
                             const char                *path,
                             GError                   **error)
{
  g_return_val_if_fail (fig != NULL && path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  NnError err = { 0 };
  if (!viz_export (path, export_draw, fig, EXPORT_WIDTH, EXPORT_HEIGHT, &err))
    {
      scope_error_from_nn (error, &err);
      return FALSE;
    }
  return TRUE;
}
