/* SPDX-License-Identifier: MIT */
/* Colormaps designed in OKLab (lightness L, chroma C, hue h): lightness is linear in t, so
 * equal steps of value look like equal steps of colour; chroma is reduced where a colour would
 * fall outside sRGB, which leaves lightness untouched. */
#include "viz-colormap.h"

#include <math.h>
#include <stdbool.h>

/* Our own anchors of the sequential map, (t, L, C, hue in degrees): violet, blue, teal, green,
 * yellow. L, C and hue are interpolated linearly between anchors. */
static const double seq_anchors[][4] = {
  { 0.0, 0.27, 0.11, 305.0 },
  { 0.2, 0.40, 0.11, 275.0 },
  { 0.4, 0.52, 0.09, 235.0 },
  { 0.6, 0.64, 0.11, 180.0 },
  { 0.8, 0.77, 0.16, 140.0 },
  { 1.0, 0.92, 0.19, 105.0 },
};

/* Diverging: both ends share lightness and chroma, so the map is symmetric in lightness. */
#define DIV_L_MID   0.97
#define DIV_L_END   0.50
#define DIV_C_END   0.17
#define DIV_HUE_NEG 262.0  /* blue */
#define DIV_HUE_POS 27.0   /* red */

/* OKLab to linear sRGB (Ottosson's published matrices, which define the space). */
static void
oklab_to_linear_srgb (double L,
                      double a,
                      double b,
                      double rgb[3])
{
  double l = L + 0.3963377774 * a + 0.2158037573 * b;
  double m = L - 0.1055613458 * a - 0.0638541728 * b;
  double s = L - 0.0894841775 * a - 1.2914855480 * b;
  l = l * l * l;
  m = m * m * m;
  s = s * s * s;
  rgb[0] = 4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s;
  rgb[1] = -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s;
  rgb[2] = -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s;
}

static bool
in_gamut (const double rgb[3])
{
  const double eps = 1e-7;
  for (int i = 0; i < 3; i++)
    if (rgb[i] < -eps || rgb[i] > 1.0 + eps)
      return false;
  return true;
}

static double
srgb_encode (double x)
{
  x = x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x;
  return x <= 0.0031308 ? 12.92 * x : 1.055 * pow (x, 1.0 / 2.4) - 0.055;
}

/* The sRGB colour of (L, C, h), with C reduced by bisection until it fits the gamut. */
static void
lch_to_srgb (double L,
             double C,
             double hue,
             double rgb[3])
{
  double ca = cos (hue * M_PI / 180.0), sa = sin (hue * M_PI / 180.0);
  oklab_to_linear_srgb (L, C * ca, C * sa, rgb);
  if (!in_gamut (rgb))
    {
      double lo = 0.0, hi = C;
      for (int i = 0; i < 32; i++)
        {
          double mid = 0.5 * (lo + hi);
          oklab_to_linear_srgb (L, mid * ca, mid * sa, rgb);
          if (in_gamut (rgb))
            lo = mid;
          else
            hi = mid;
        }
      oklab_to_linear_srgb (L, lo * ca, lo * sa, rgb);
    }
  for (int i = 0; i < 3; i++)
    rgb[i] = srgb_encode (rgb[i]);
}

void
viz_colormap_eval (VizColormapKind kind,
                   double          t,
                   double          rgb[3])
{
  if (isnan (t))
    t = 0.0;
  switch (kind)
    {
    case VIZ_COLORMAP_SEQUENTIAL:
      {
        t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
        int n = (int) (sizeof seq_anchors / sizeof seq_anchors[0]);
        int i = 0;
        while (i < n - 2 && t > seq_anchors[i + 1][0])
          i++;
        const double *a = seq_anchors[i], *b = seq_anchors[i + 1];
        double u = (t - a[0]) / (b[0] - a[0]);
        lch_to_srgb (a[1] + u * (b[1] - a[1]), a[2] + u * (b[2] - a[2]),
                     a[3] + u * (b[3] - a[3]), rgb);
        return;
      }
    case VIZ_COLORMAP_DIVERGING:
      {
        t = t < -1.0 ? -1.0 : t > 1.0 ? 1.0 : t;
        double u = fabs (t);
        lch_to_srgb (DIV_L_MID + u * (DIV_L_END - DIV_L_MID), u * DIV_C_END,
                     t < 0.0 ? DIV_HUE_NEG : DIV_HUE_POS, rgb);
        return;
      }
    default:
      rgb[0] = rgb[1] = rgb[2] = 0.5;
      return;
    }
}

static uint32_t
pack_rgb (const double rgb[3])
{
  uint32_t p = 0xff000000u;
  for (int i = 0; i < 3; i++)
    p |= (uint32_t) lround (rgb[i] * 255.0) << (16 - 8 * i);
  return p;
}

void
viz_colormap_init (VizColormap    *cm,
                   VizColormapKind kind,
                   double          lo,
                   double          hi)
{
  cm->kind = kind;
  if (!isfinite (lo) || !isfinite (hi))
    lo = hi = 0.0;
  if (kind == VIZ_COLORMAP_DIVERGING)
    {
      double m = fmax (fabs (lo), fabs (hi));
      if (!(m > 0.0))
        m = 1.0;
      cm->lo = -m;
      cm->hi = m;
    }
  else
    {
      if (hi < lo)
        {
          double t = lo;
          lo = hi;
          hi = t;
        }
      if (!(hi > lo))
        hi = lo + 1.0;
      cm->lo = lo;
      cm->hi = hi;
    }
  for (int i = 0; i < VIZ_COLORMAP_LUT_SIZE; i++)
    {
      double t = (double) i / (VIZ_COLORMAP_LUT_SIZE - 1);
      double rgb[3];
      viz_colormap_eval (kind, kind == VIZ_COLORMAP_DIVERGING ? 2.0 * t - 1.0 : t, rgb);
      cm->lut[i] = pack_rgb (rgb);
    }
}

void
viz_colormap_init_for_data (VizColormap    *cm,
                            VizColormapKind kind,
                            const float    *data,
                            size_t          n)
{
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (size_t i = 0; i < n; i++)
    {
      double v = (double) data[i];
      if (!isfinite (v))
        continue;
      lo = fmin (lo, v);
      hi = fmax (hi, v);
    }
  if (lo > hi)
    lo = hi = 0.0;
  viz_colormap_init (cm, kind, lo, hi);
}

double
viz_colormap_position (const VizColormap *cm,
                       double             value)
{
  if (isnan (value))
    return 0.0;
  double t = (value - cm->lo) / (cm->hi - cm->lo);
  t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
  return cm->kind == VIZ_COLORMAP_DIVERGING ? 2.0 * t - 1.0 : t;
}

void
viz_colormap_rgb (const VizColormap *cm,
                  double             value,
                  double             rgb[3])
{
  viz_colormap_eval (cm->kind, viz_colormap_position (cm, value), rgb);
}

uint32_t
viz_colormap_pixel (const VizColormap *cm,
                    float              value)
{
  if (!isfinite (value))
    return 0xff808080u;
  double t = ((double) value - cm->lo) / (cm->hi - cm->lo);
  t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
  return cm->lut[(int) lround (t * (VIZ_COLORMAP_LUT_SIZE - 1))];
}
