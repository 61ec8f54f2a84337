/* SPDX-License-Identifier: MIT */
/* The synthetic chest CT generator: an anatomy of ellipses and tubes painted with partial-pixel
 * coverage, lesions blended into the lungs, and the simulated parallel-beam scan. */
#include "data/nn-synth-ct.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/nn-synth-shapes.h"

#define PI_F 3.14159265358979f

/* Field of view in mm and the linear attenuation of water (about 70 keV) in 1/mm. */
#define FOV_MM  400.0f
#define MU_WATER 0.0195f

void
nn_synth_ct_options_init (NnSynthCtOptions *options)
{
  NN_ASSERT (options != NULL);
  options->size = 128;
  options->acquisition = false;
  options->photons = 2e5f;
  options->noise_hu = 12.0f;
}

const char *
nn_synth_ct_class_name (NnSynthCtClass cls)
{
  switch (cls)
    {
    case NN_SYNTH_CT_HEALTHY:
      return "healthy";
    case NN_SYNTH_CT_COVID:
      return "covid";
    case NN_SYNTH_CT_OTHER:
      return "other";
    default:
      return "unknown";
    }
}

/* ---- Painting ----------------------------------------------------------------------------- */

/* The slice being drawn. Shapes live in model coordinates: x, y in about [-1, 1] (x to the
 * image's right, y down), mapped to pixels through a random scale and shift of the patient. */
typedef struct
{
  int    size;
  float *hu;     /* size*size */
  float *lung;   /* size*size: how much of each pixel is lung parenchyma, 0 to 1 */
  float  scale;  /* patient size */
  float  ox, oy; /* patient shift */
  float  px;     /* one pixel in model units */
  NnRng *rng;
} Slice;

/* Model coordinates of pixel (i, j). */
static void
slice_point (const Slice *sl,
             int          i,
             int          j,
             float       *x,
             float       *y)
{
  float u = ((float) j + 0.5f) * 2.0f / (float) sl->size - 1.0f;
  float v = ((float) i + 0.5f) * 2.0f / (float) sl->size - 1.0f;
  *x = (u - sl->ox) / sl->scale;
  *y = (v - sl->oy) / sl->scale;
}

/* The pixel rows and columns [i0, i1) x [j0, j1) that may touch the box of model coordinates
 * centred on (cx, cy) with half-side r. */
static void
slice_range (const Slice *sl,
             float        cx,
             float        cy,
             float        r,
             int         *i0,
             int         *i1,
             int         *j0,
             int         *j1)
{
  float half = (float) sl->size / 2.0f;
  r += 2.0f * sl->px;
  float x0 = ((cx - r) * sl->scale + sl->ox + 1.0f) * half;
  float x1 = ((cx + r) * sl->scale + sl->ox + 1.0f) * half;
  float y0 = ((cy - r) * sl->scale + sl->oy + 1.0f) * half;
  float y1 = ((cy + r) * sl->scale + sl->oy + 1.0f) * half;
  *j0 = x0 < 0.0f ? 0 : (int) x0;
  *i0 = y0 < 0.0f ? 0 : (int) y0;
  *j1 = x1 >= (float) sl->size ? sl->size : (int) x1 + 1;
  *i1 = y1 >= (float) sl->size ? sl->size : (int) y1 + 1;
  *j1 = *j1 < *j0 ? *j0 : *j1;
  *i1 = *i1 < *i0 ? *i0 : *i1;
}

/* How much of a pixel lies inside an outline at signed distance d (a one-pixel ramp). */
static float
coverage (const Slice *sl,
          float        d)
{
  float a = 0.5f - d / sl->px;
  return a < 0.0f ? 0.0f : (a > 1.0f ? 1.0f : a);
}

static void
paint_ellipse (Slice         *sl,
               const Ellipse *e,
               float          value)
{
  int i0, i1, j0, j1;
  slice_range (sl, e->cx, e->cy, fmaxf (e->ax, e->ay), &i0, &i1, &j0, &j1);
  for (int i = i0; i < i1; i++)
    for (int j = j0; j < j1; j++)
      {
        float x, y;
        slice_point (sl, i, j, &x, &y);
        float a = coverage (sl, nn_synth_ellipse_distance (e, x, y));
        float *p = sl->hu + (size_t) i * sl->size + j;
        *p += (value - *p) * a;
      }
}

/* Distance from (x, y) to the segment a-b. */
static float
segment_distance (float ax,
                  float ay,
                  float bx,
                  float by,
                  float x,
                  float y)
{
  float dx = bx - ax, dy = by - ay;
  float len2 = dx * dx + dy * dy;
  float t = len2 > 0.0f ? ((x - ax) * dx + (y - ay) * dy) / len2 : 0.0f;
  t = t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
  float ex = x - (ax + t * dx), ey = y - (ay + t * dy);
  return sqrtf (ex * ex + ey * ey);
}

/* A vessel of radius r from a to b inside the lung: a Gaussian cross-section widened to at
 * least half a pixel, with its peak lowered to keep the same integral, so thin vessels fade
 * instead of aliasing. */
static void
paint_vessel (Slice *sl,
              float  ax,
              float  ay,
              float  bx,
              float  by,
              float  r,
              float  value)
{
  float sigma = sqrtf (r * r + 0.25f * sl->px * sl->px);
  float peak = r / sigma;
  int i0, i1, j0, j1;
  float cx = 0.5f * (ax + bx), cy = 0.5f * (ay + by);
  float half = 0.5f * sqrtf ((bx - ax) * (bx - ax) + (by - ay) * (by - ay)) + 3.0f * sigma;
  slice_range (sl, cx, cy, half, &i0, &i1, &j0, &j1);
  for (int i = i0; i < i1; i++)
    for (int j = j0; j < j1; j++)
      {
        size_t k = (size_t) i * sl->size + j;
        if (sl->lung[k] <= 0.0f)
          continue;
        float x, y;
        slice_point (sl, i, j, &x, &y);
        float d = segment_distance (ax, ay, bx, by, x, y);
        float a = peak * expf (-0.5f * d * d / (sigma * sigma)) * sl->lung[k];
        float target = fmaxf (sl->hu[k], value);
        sl->hu[k] += (target - sl->hu[k]) * a;
      }
}

/* ---- Anatomy ------------------------------------------------------------------------------ */

typedef struct
{
  Ellipse body, muscle, cavity;
  Ellipse lungs[2];   /* the patient's right (image left), then left */
  Ellipse heart, aorta_up, aorta_down, vertebra;
  float   lung_hu[2];
} Anatomy;

/* Lung coverage: inside a lung ellipse and the cavity, outside the heart, the aortas and the
 * vertebra (each with a small margin of pleura). */
static void
compute_lung (Slice         *sl,
              const Anatomy *an)
{
  const float margin = 0.02f;
  for (int i = 0; i < sl->size; i++)
    for (int j = 0; j < sl->size; j++)
      {
        float x, y;
        slice_point (sl, i, j, &x, &y);
        float in = 0.0f;
        for (int l = 0; l < 2; l++)
          in = fmaxf (in, coverage (sl, nn_synth_ellipse_distance (&an->lungs[l], x, y)));
        in *= coverage (sl, nn_synth_ellipse_distance (&an->cavity, x, y) + margin);
        in *= 1.0f - coverage (sl, nn_synth_ellipse_distance (&an->heart, x, y) - margin);
        in *= 1.0f - coverage (sl, nn_synth_ellipse_distance (&an->aorta_up, x, y) - margin);
        in *= 1.0f - coverage (sl, nn_synth_ellipse_distance (&an->aorta_down, x, y) - margin);
        in *= 1.0f - coverage (sl, nn_synth_ellipse_distance (&an->vertebra, x, y) - margin);
        sl->lung[(size_t) i * sl->size + j] = in;
      }
}

static void
draw_anatomy (Slice   *sl,
              Anatomy *an)
{
  NnRng *rng = sl->rng;
  float bx = nn_rng_range (rng, 0.82f, 0.9f), by = nn_rng_range (rng, 0.58f, 0.66f);
  float fat = nn_rng_range (rng, 0.03f, 0.08f), muscle = nn_rng_range (rng, 0.04f, 0.065f);
  an->body = nn_synth_ellipse (0.0f, 0.02f, bx, by, 0.0f);
  an->muscle = nn_synth_ellipse (0.0f, 0.02f, bx - fat, by - fat, 0.0f);
  an->cavity = nn_synth_ellipse (0.0f, 0.0f, bx - fat - muscle, by - fat - muscle + 0.01f, 0.0f);
  float cax = an->cavity.ax, cay = an->cavity.ay;

  for (size_t k = 0; k < (size_t) sl->size * sl->size; k++)
    sl->hu[k] = -1000.0f;
  paint_ellipse (sl, &an->body, nn_rng_range (rng, -115.0f, -85.0f));
  paint_ellipse (sl, &an->muscle, nn_rng_range (rng, 35.0f, 55.0f));
  paint_ellipse (sl, &an->cavity, nn_rng_range (rng, -60.0f, -20.0f));

  /* Lungs fill most of the cavity; the right one (image left) is the larger. Each draw is
   * its own statement: the order of evaluation of function arguments is unspecified. */
  float lh = cay - 0.07f;
  for (int l = 0; l < 2; l++)
    {
      float cy = nn_rng_range (rng, -0.03f, 0.01f);
      float ax = (l == 0 ? 0.39f : 0.35f) * cax * nn_rng_range (rng, 0.95f, 1.05f);
      float ay = lh * nn_rng_range (rng, l == 0 ? 0.92f : 0.9f, 1.0f);
      float angle = l == 0 ? nn_rng_range (rng, -0.12f, 0.05f) : nn_rng_range (rng, -0.05f, 0.12f);
      an->lungs[l] = nn_synth_ellipse ((l == 0 ? -0.44f : 0.47f) * cax, cy, ax, ay, angle);
    }
  float heart_x = nn_rng_range (rng, 0.06f, 0.14f), heart_y = nn_rng_range (rng, 0.04f, 0.12f);
  float hax = nn_rng_range (rng, 0.18f, 0.23f), hay = nn_rng_range (rng, 0.15f, 0.19f);
  float hangle = nn_rng_range (rng, -0.5f, -0.2f);
  an->heart = nn_synth_ellipse (heart_x, heart_y, hax, hay, hangle);
  an->aorta_up = nn_synth_ellipse (-0.02f, -0.12f, 0.055f, 0.055f, 0.0f);
  an->aorta_down = nn_synth_ellipse (0.07f, 0.28f, 0.05f, 0.05f, 0.0f);
  an->vertebra = nn_synth_ellipse (0.0f, cay - 0.1f, 0.09f, 0.08f, 0.0f);
  for (int l = 0; l < 2; l++)
    an->lung_hu[l] = nn_rng_range (rng, -880.0f, -830.0f);

  compute_lung (sl, an);
  for (size_t k = 0; k < (size_t) sl->size * sl->size; k++)
    {
      float a = sl->lung[k];
      float *p = sl->hu + k;
      /* The image's left half holds the right lung. */
      float base = an->lung_hu[k % (size_t) sl->size < (size_t) sl->size / 2 ? 0 : 1];
      *p += (base - *p) * a;
    }

  /* Mediastinum and heart, contrast-free blood about 40 HU. */
  paint_ellipse (sl, &an->heart, nn_rng_range (rng, 35.0f, 50.0f));
  paint_ellipse (sl, &an->aorta_up, 42.0f);
  paint_ellipse (sl, &an->aorta_down, 42.0f);

  /* Spine: cortical shell, cancellous core, canal, spinous process. */
  Ellipse shell = an->vertebra;
  Ellipse core = nn_synth_ellipse (shell.cx, shell.cy, shell.ax - 0.015f, shell.ay - 0.015f, 0.0f);
  paint_ellipse (sl, &shell, nn_rng_range (rng, 600.0f, 800.0f));
  paint_ellipse (sl, &core, nn_rng_range (rng, 180.0f, 260.0f));
  Ellipse process = nn_synth_ellipse (0.0f, shell.cy + shell.ay + 0.09f, 0.025f, 0.06f, 0.0f);
  paint_ellipse (sl, &process, nn_rng_range (rng, 450.0f, 650.0f));
  Ellipse canal = nn_synth_ellipse (0.0f, shell.cy + shell.ay + 0.035f, 0.035f, 0.03f, 0.0f);
  paint_ellipse (sl, &canal, 15.0f);

  /* Sternum in front, ribs in the chest wall. */
  Ellipse sternum = nn_synth_ellipse (0.0f, -cay - 0.02f, 0.06f, 0.025f, 0.0f);
  paint_ellipse (sl, &sternum, nn_rng_range (rng, 350.0f, 500.0f));
  int n_ribs = 8 + (int) nn_rng_below (rng, 3);
  for (int r = 0; r < n_ribs; r++)
    {
      /* Spread over both sides, avoiding the sternum (top) and the spine (bottom). */
      float t = ((float) (r % (n_ribs / 2)) + nn_rng_range (rng, 0.2f, 0.8f))
                / (float) (n_ribs / 2);
      float angle = -0.35f * PI_F + t * 0.75f * PI_F;
      float side = r < n_ribs / 2 ? -1.0f : 1.0f;
      float ca = cosf (angle), sa = sinf (angle);
      float rx = side * (cax + 0.5f * muscle) * ca;
      float ry = (cay + 0.5f * muscle) * sa;
      Ellipse rib = nn_synth_ellipse (rx, ry, 0.035f, 0.022f, atan2f (ry, rx) + 0.5f * PI_F);
      paint_ellipse (sl, &rib, nn_rng_range (rng, 450.0f, 700.0f));
    }

  /* Pulmonary vessels: branches from each hilum towards the periphery, and cross-sections. */
  for (int l = 0; l < 2; l++)
    {
      const Ellipse *lung = &an->lungs[l];
      float hx = lung->cx + (l == 0 ? 0.7f : -0.7f) * lung->ax, hy = lung->cy + 0.05f;
      int n_branches = 7 + (int) nn_rng_below (rng, 4);
      for (int b = 0; b < n_branches; b++)
        {
          float angle = nn_rng_range (rng, 0.0f, 2.0f * PI_F);
          float reach = nn_rng_range (rng, 0.55f, 0.95f);
          float tx = lung->cx + reach * lung->ax * cosf (angle);
          float ty = lung->cy + reach * lung->ay * sinf (angle);
          float x0 = hx, y0 = hy, r = nn_rng_range (rng, 0.011f, 0.016f);
          for (int s = 1; s <= 3; s++)
            {
              float f = (float) s / 3.0f;
              float x1 = hx + (tx - hx) * f + nn_rng_range (rng, -0.03f, 0.03f);
              float y1 = hy + (ty - hy) * f + nn_rng_range (rng, -0.03f, 0.03f);
              paint_vessel (sl, x0, y0, x1, y1, r, 40.0f);
              x0 = x1;
              y0 = y1;
              r *= 0.65f;
            }
        }
      int n_dots = 10 + (int) nn_rng_below (rng, 10);
      for (int d = 0; d < n_dots; d++)
        {
          float angle = nn_rng_range (rng, 0.0f, 2.0f * PI_F);
          float rho = sqrtf (nn_rng_uniform (rng)) * 0.9f;
          float x = lung->cx + rho * lung->ax * cosf (angle);
          float y = lung->cy + rho * lung->ay * sinf (angle);
          paint_vessel (sl, x, y, x, y, nn_rng_range (rng, 0.004f, 0.01f), 40.0f);
        }
    }
}

/* ---- Lesions ------------------------------------------------------------------------------ */

/* Blends a lesion of density target with profile s (0 to 1, from `profile`) into the lung:
 * the lung part of a pixel (fraction l) rises from base towards v = base + (target - base) s,
 * that is hu + l (v - base), but never above v; denser tissue already there (vessels, the
 * pleura) stays. mask marks s >= 0.5 inside the lung. */
typedef float (*ProfileFunc) (const void *shape, const Slice *sl, float x, float y);

static void
blend_lesion (Slice         *sl,
              unsigned char *mask,
              ProfileFunc    profile,
              const void    *shape,
              float          cx,
              float          cy,
              float          r,
              float          base,
              float          target)
{
  int i0, i1, j0, j1;
  slice_range (sl, cx, cy, r, &i0, &i1, &j0, &j1);
  for (int i = i0; i < i1; i++)
    for (int j = j0; j < j1; j++)
      {
        size_t k = (size_t) i * sl->size + j;
        if (sl->lung[k] <= 0.0f)
          continue;
        float x, y;
        slice_point (sl, i, j, &x, &y);
        float s = profile (shape, sl, x, y);
        if (s <= 0.0f)
          continue;
        float v = base + (target - base) * s;
        float raised = fminf (sl->hu[k] + sl->lung[k] * (v - base), v);
        sl->hu[k] = fmaxf (sl->hu[k], raised);
        if (s >= 0.5f && sl->lung[k] >= 0.5f)
          mask[k] = 1;
      }
}

/* Ground glass: flat core to 40 % of the radius, then a raised-cosine edge. */
static float
profile_ggo (const void  *shape,
             const Slice *sl,
             float        x,
             float        y)
{
  (void) sl;
  float rho = nn_synth_ellipse_radius (shape, x, y);
  if (rho <= 0.4f)
    return 1.0f;
  if (rho >= 1.0f)
    return 0.0f;
  return 0.5f * (1.0f + cosf (PI_F * (rho - 0.4f) / 0.6f));
}

/* A solid nodule: sharp edge. */
static float
profile_nodule (const void  *shape,
                const Slice *sl,
                float        x,
                float        y)
{
  return coverage (sl, nn_synth_ellipse_distance (shape, x, y));
}

/* Consolidation behind a fissure: the line through (cx, cy) with normal (c, s); the lobe is
 * on the side the normal points to, inside one lung. */
typedef struct
{
  Ellipse fissure;     /* cx, cy: a point on the line; c, s: the normal */
  Ellipse lung;        /* the lung it lies in */
} Lobe;

static float
profile_lobe (const void  *shape,
              const Slice *sl,
              float        x,
              float        y)
{
  const Lobe *lobe = shape;
  float d = (x - lobe->fissure.cx) * lobe->fissure.c + (y - lobe->fissure.cy) * lobe->fissure.s;
  /* Only this lung: its ellipse grown by two pixels, so that at the pleura the lung coverage
   * alone shapes the edge (a soft factor here too would leave a dark rim). */
  if (nn_synth_ellipse_distance (&lobe->lung, x, y) > 2.0f * sl->px)
    return 0.0f;
  return coverage (sl, -d / 1.5f);
}

/* A point inside lung l at elliptical radius in [rho0, rho1] and well inside the parenchyma. */
static void
lung_point (Slice         *sl,
            const Anatomy *an,
            int            l,
            float          rho0,
            float          rho1,
            float         *x,
            float         *y)
{
  const Ellipse *lung = &an->lungs[l];
  for (int attempt = 0; attempt < 200; attempt++)
    {
      float angle = nn_rng_range (sl->rng, 0.0f, 2.0f * PI_F);
      float rho = nn_rng_range (sl->rng, rho0, rho1);
      float u = rho * lung->ax * cosf (angle), v = rho * lung->ay * sinf (angle);
      *x = lung->cx + u * lung->c - v * lung->s;
      *y = lung->cy + u * lung->s + v * lung->c;
      float half = (float) sl->size / 2.0f;
      int j = (int) ((*x * sl->scale + sl->ox + 1.0f) * half);
      int i = (int) ((*y * sl->scale + sl->oy + 1.0f) * half);
      if (i >= 0 && i < sl->size && j >= 0 && j < sl->size
          && sl->lung[(size_t) i * sl->size + j] >= 1.0f)
        return;
    }
  *x = lung->cx;
  *y = lung->cy;
}

static void
draw_covid (Slice         *sl,
            const Anatomy *an,
            unsigned char *mask)
{
  int n = 3 + (int) nn_rng_below (sl->rng, 4);
  for (int g = 0; g < n; g++)
    {
      int l = (int) nn_rng_below (sl->rng, 2);
      float x, y;
      lung_point (sl, an, l, 0.62f, 0.85f, &x, &y);
      float r = nn_rng_range (sl->rng, 0.09f, 0.15f);
      float rx = r * nn_rng_range (sl->rng, 0.8f, 1.25f),
            ry = r * nn_rng_range (sl->rng, 0.8f, 1.25f);
      float angle = nn_rng_range (sl->rng, 0.0f, PI_F);
      Ellipse e = nn_synth_ellipse (x, y, rx, ry, angle);
      blend_lesion (sl, mask, profile_ggo, &e, x, y, fmaxf (e.ax, e.ay), an->lung_hu[l],
                    nn_rng_range (sl->rng, -700.0f, -300.0f));
    }
}

static void
draw_other (Slice         *sl,
            const Anatomy *an,
            unsigned char *mask)
{
  int l = (int) nn_rng_below (sl->rng, 2);
  if (nn_rng_below (sl->rng, 2) == 0)
    {
      float x, y;
      lung_point (sl, an, l, 0.0f, 0.7f, &x, &y);
      float r = nn_rng_range (sl->rng, 0.055f, 0.09f);
      float rx = r * nn_rng_range (sl->rng, 0.85f, 1.15f),
            ry = r * nn_rng_range (sl->rng, 0.85f, 1.15f);
      float angle = nn_rng_range (sl->rng, 0.0f, PI_F);
      Ellipse e = nn_synth_ellipse (x, y, rx, ry, angle);
      blend_lesion (sl, mask, profile_nodule, &e, x, y, fmaxf (e.ax, e.ay), an->lung_hu[l],
                    nn_rng_range (sl->rng, 20.0f, 60.0f));
      return;
    }
  /* A posterior (dependent) lobe: the fissure crosses the lung below its centre, tilted. */
  const Ellipse *lung = &an->lungs[l];
  float angle = 0.5f * PI_F + nn_rng_range (sl->rng, -0.5f, 0.5f);
  Lobe lobe = { 0 };
  lobe.fissure = nn_synth_ellipse (lung->cx,
                                  lung->cy + nn_rng_range (sl->rng, -0.1f, 0.35f) * lung->ay,
                                  1.0f, 1.0f, angle);
  lobe.lung = *lung;
  blend_lesion (sl, mask, profile_lobe, &lobe, lung->cx, lung->cy, fmaxf (lung->ax, lung->ay),
                an->lung_hu[l], nn_rng_range (sl->rng, -20.0f, 45.0f));
}

/* ---- Simulated acquisition ---------------------------------------------------------------- */

void
nn_synth_ct_geometry (int  size,
                      int *n_angles,
                      int *n_bins)
{
  NN_ASSERT (size >= 1 && n_angles != NULL && n_bins != NULL);
  *n_angles = size < 16 ? 24 : (size * 3) / 2;
  *n_bins = (int) ceilf ((float) size * 1.41422f) + 3;
}

/* Bilinear sample of image at pixel coordinates (x, y) measured from the image centre;
 * 0 outside. */
static float
sample (const float *image,
        int          size,
        float        x,
        float        y)
{
  float fx = x + (float) size / 2.0f - 0.5f, fy = y + (float) size / 2.0f - 0.5f;
  if (fx <= -1.0f || fy <= -1.0f || fx >= (float) size || fy >= (float) size)
    return 0.0f;
  int x0 = (int) floorf (fx), y0 = (int) floorf (fy);
  float ax = fx - (float) x0, ay = fy - (float) y0;
  float v = 0.0f;
  for (int dy = 0; dy < 2; dy++)
    for (int dx = 0; dx < 2; dx++)
      {
        int xi = x0 + dx, yi = y0 + dy;
        if (xi < 0 || yi < 0 || xi >= size || yi >= size)
          continue;
        float w = (dx ? ax : 1.0f - ax) * (dy ? ay : 1.0f - ay);
        v += w * image[(size_t) yi * size + xi];
      }
  return v;
}

void
nn_synth_ct_project (float       *sino,
                     const float *image,
                     int          size,
                     int          n_angles,
                     int          n_bins)
{
  NN_ASSERT (sino != NULL && image != NULL && size >= 1 && n_angles >= 1 && n_bins >= 1);
  /* Ray-driven: each ray is sampled every half pixel across the image's circumcircle. */
  const float step = 0.5f;
  float radius = 0.5f * (float) size * 1.41422f + 1.0f;
  int n_steps = (int) ceilf (2.0f * radius / step);
  for (int a = 0; a < n_angles; a++)
    {
      float theta = PI_F * (float) a / (float) n_angles;
      float c = cosf (theta), s = sinf (theta);
      for (int b = 0; b < n_bins; b++)
        {
          float t = (float) b - 0.5f * (float) (n_bins - 1);
          double sum = 0.0;
          for (int k = 0; k < n_steps; k++)
            {
              float u = -radius + ((float) k + 0.5f) * step;
              sum += (double) sample (image, size, t * c - u * s, t * s + u * c);
            }
          sino[(size_t) a * n_bins + b] = (float) (sum * (double) step);
        }
    }
}

bool
nn_synth_ct_reconstruct (float       *image,
                         const float *sino,
                         int          size,
                         int          n_angles,
                         int          n_bins,
                         NnError     *err)
{
  NN_ASSERT (image != NULL && sino != NULL && size >= 1 && n_angles >= 1 && n_bins >= 1);
  float *kernel = malloc ((size_t) (2 * n_bins - 1) * sizeof *kernel);
  float *filtered = malloc ((size_t) n_angles * n_bins * sizeof *filtered);
  if (kernel == NULL || filtered == NULL)
    {
      free (kernel);
      free (filtered);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for a %d x %d sinogram",
                           n_angles, n_bins);
    }
  /* Ram-Lak on unit bins (Kak and Slaney, eq. 3.61): h(0) = 1/4, h(n) = -1/(pi n)^2 for odd
   * n, 0 for even n; the convolution is linear (zero-padded). */
  for (int n = -(n_bins - 1); n <= n_bins - 1; n++)
    {
      float h = 0.0f;
      if (n == 0)
        h = 0.25f;
      else if (n % 2 != 0)
        h = -1.0f / (PI_F * PI_F * (float) n * (float) n);
      kernel[n + n_bins - 1] = h;
    }
  for (int a = 0; a < n_angles; a++)
    {
      const float *p = sino + (size_t) a * n_bins;
      float *q = filtered + (size_t) a * n_bins;
      for (int b = 0; b < n_bins; b++)
        {
          double acc = 0.0;
          for (int k = 0; k < n_bins; k++)
            acc += (double) kernel[b - k + n_bins - 1] * (double) p[k];
          q[b] = (float) acc;
        }
    }
  /* Back-projection with linear interpolation between bins, times d(theta) = pi / n_angles. */
  float half = 0.5f * (float) size;
  for (int i = 0; i < size; i++)
    for (int j = 0; j < size; j++)
      {
        float x = (float) j + 0.5f - half, y = (float) i + 0.5f - half;
        double acc = 0.0;
        for (int a = 0; a < n_angles; a++)
          {
            float theta = PI_F * (float) a / (float) n_angles;
            float t = x * cosf (theta) + y * sinf (theta) + 0.5f * (float) (n_bins - 1);
            int b0 = (int) floorf (t);
            float f = t - (float) b0;
            const float *q = filtered + (size_t) a * n_bins;
            if (b0 >= 0 && b0 < n_bins)
              acc += (double) ((1.0f - f) * q[b0]);
            if (b0 + 1 >= 0 && b0 + 1 < n_bins)
              acc += (double) (f * q[b0 + 1]);
          }
        image[(size_t) i * size + j] = (float) (acc * (double) PI_F / (double) n_angles);
      }
  free (kernel);
  free (filtered);
  return true;
}

/* HU -> attenuation per pixel -> projection -> photon counts with Poisson noise -> log ->
 * filtered back-projection -> HU. */
static bool
simulate_scan (const NnSynthCtOptions *options,
               NnRng                  *rng,
               float                  *hu,
               NnError                *err)
{
  int size = options->size, n_angles, n_bins;
  nn_synth_ct_geometry (size, &n_angles, &n_bins);
  size_t n = (size_t) size * size;
  float *mu = malloc (n * sizeof *mu);
  float *sino = malloc ((size_t) n_angles * n_bins * sizeof *sino);
  if (mu == NULL || sino == NULL)
    {
      free (mu);
      free (sino);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory simulating a %d px scan", size);
    }
  float mu_water = MU_WATER * FOV_MM / (float) size;
  for (size_t k = 0; k < n; k++)
    mu[k] = fmaxf (0.0f, mu_water * (1.0f + hu[k] / 1000.0f));
  nn_synth_ct_project (sino, mu, size, n_angles, n_bins);
  float n0 = options->photons;
  for (size_t k = 0; k < (size_t) n_angles * n_bins; k++)
    {
      float counts = nn_rng_poisson (rng, n0 * expf (-sino[k]));
      sino[k] = logf (n0 / fmaxf (counts, 1.0f));
    }
  bool ok = nn_synth_ct_reconstruct (mu, sino, size, n_angles, n_bins, err);
  if (ok)
    for (size_t k = 0; k < n; k++)
      hu[k] = 1000.0f * (mu[k] / mu_water - 1.0f);
  free (mu);
  free (sino);
  return ok;
}

/* ---- The slice ---------------------------------------------------------------------------- */

bool
nn_synth_ct_generate (const NnSynthCtOptions *options,
                      NnSynthCtClass          cls,
                      NnRng                  *rng,
                      float                  *hu,
                      unsigned char          *mask,
                      NnError                *err)
{
  NN_ASSERT (options != NULL && rng != NULL && hu != NULL && mask != NULL);
  NN_ASSERT (options->size >= 8 && options->size <= 4096);
  NN_ASSERT (cls == NN_SYNTH_CT_HEALTHY || cls == NN_SYNTH_CT_COVID || cls == NN_SYNTH_CT_OTHER);
  size_t n = (size_t) options->size * options->size;
  Slice sl = { .size = options->size, .hu = hu, .rng = rng };
  sl.lung = malloc (n * sizeof *sl.lung);
  if (sl.lung == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for a %d px slice", options->size);
  sl.scale = nn_rng_range (rng, 0.92f, 1.06f);
  sl.ox = nn_rng_range (rng, -0.04f, 0.04f);
  sl.oy = nn_rng_range (rng, -0.04f, 0.04f);
  sl.px = 2.0f / (float) options->size / sl.scale;
  memset (mask, 0, n);

  Anatomy an;
  draw_anatomy (&sl, &an);
  switch (cls)
    {
    case NN_SYNTH_CT_HEALTHY:
      break;
    case NN_SYNTH_CT_COVID:
      draw_covid (&sl, &an, mask);
      break;
    case NN_SYNTH_CT_OTHER:
      draw_other (&sl, &an, mask);
      break;
    default:
      break;
    }
  free (sl.lung);

  if (options->acquisition)
    return simulate_scan (options, rng, hu, err);
  if (options->noise_hu > 0.0f)
    for (size_t k = 0; k < n; k++)
      hu[k] += options->noise_hu * nn_rng_normal (rng);
  return true;
}
