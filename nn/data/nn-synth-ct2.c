/* SPDX-License-Identifier: MIT */
/* The version-2 synthetic chest CT: a patient drawn once from a seed (outline, lungs, airway and
 * vessel trees, lesions, all in 3-D), painted level by level, then scanned slice by slice. */
#include "data/nn-synth-ct2.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/nn-rng.h"
#include "data/nn-synth-shapes.h"
#include "data/nn-synth-ct.h"

#define PI_F 3.14159265358979f

/* Field of view in mm (one model unit is half of it) and the attenuation of water in 1/mm. */
#define FOV_MM   400.0f
#define UNIT_MM  200.0f
#define MU_WATER 0.0195f

/* The levels a volume covers: u = 0 at the lung apices, 1 at the deepest costophrenic
 * recesses. */
#define U_TOP -0.12f
#define U_BOT 1.08f
/* Ground glass is a hazy rise in attenuation over the lung around it: a COVID patch stays at
 * least this far above its local parenchyma, also where the dependent lung is dense. */
#define COVID_GGO_RISE 200.0f

/* ---- Shapes ------------------------------------------------------------------------------- */

/* A segment in 3-D (model units; z grows from the apex down) with a radius. */
typedef struct
{
  float ax, ay, az, bx, by, bz;
  float r;
  int   lobe;      /* of its midpoint, 0 to 4 */
  bool  terminal;  /* no children */
} Seg;

typedef struct
{
  Seg *items;
  int  n, cap;
} SegList;

typedef enum
{
  LESION_BLOB,   /* an irregular ellipsoid: ground glass, consolidation, a nodule */
  LESION_LOBE,   /* consolidation of (part of) a lobe, bounded by its fissures */
  LESION_TUBE,   /* a filled small airway (tree-in-bud), a centrilobular dot, a spicule */
} LesionKind;

typedef struct
{
  LesionKind kind;
  bool       in_mask;      /* a lesion of the class (incidental findings are not) */
  float      cx, cy, cz;   /* centre (model units) */
  float      rx, ry, rz;   /* radii */
  float      harm[4];      /* edge: amplitudes and phases of the 2nd and 3rd harmonics */
  float      core;         /* flat core, fraction of the radius */
  float      hu;           /* density of the ground glass / the lesion */
  float      rise;         /* the ground glass at least this far above the local lung (HU) */
  float      cons_hu;      /* consolidated core: density */
  float      cons_frac;    /* and its extent, fraction of the radius (0: none) */
  float      paving;       /* crazy paving: HU added along interlobular septa */
  float      retic;        /* reticulation: HU added along a finer net */
  float      cell;         /* septal spacing */
  int        lobe;         /* LESION_LOBE */
  Seg        seg;          /* LESION_TUBE */
} Lesion;

struct NnSynthCt2
{
  NnSynthCt2Options opt;
  NnSynthCt2Class   cls;
  uint64_t          seed;
  NnSynthCt2Info    info;

  float scale, ox, oy;     /* patient size and position in the field */
  float len_mm, lm;        /* lung height in mm and in model units */
  float bx, by, fat, muscle;
  float fat_hu, muscle_hu, med_hu, liver_hu, spleen_hu, blood_hu, heart_hu;
  float cortex_hu, marrow_hu, rib_hu;
  float lung_hu, dep_hu;   /* parenchyma and its dependent (posterior) rise */
  float lung_cx[2], lung_cy[2], lung_ax[2], lung_ay[2];
  float dome_top[2];
  float heart_x, heart_y, heart_ax, heart_ay, heart_angle;
  float carina_u;
  float fiss_u0[2], fiss_u1[2], horiz_u;
  float rib_u0, rib_step, rib_drop;
  float disc_phase;
  float effusion_h[2];     /* 0: none */
  float effusion_hu;

  SegList airways, vessels;
  Lesion *lesions;
  int     n_lesions, cap_lesions;
};

/* A slice being painted. */
typedef struct
{
  const NnSynthCt2 *ct;
  int    size;
  float  u, z;             /* level and its depth in model units */
  float  px;               /* one pixel in model units */
  float *hu, *lung, *base; /* size*size: HU, lung parenchyma fraction, parenchyma HU */
  unsigned char *mask;
  /* The level's outline. */
  Ellipse body, muscle, cavity;
  Ellipse lungs[2];        /* scaled to the level (zero size above the apex) */
} Level;

static float
clampf (float v,
        float lo,
        float hi)
{
  return v < lo ? lo : (v > hi ? hi : v);
}

static float
smoothstep (float e0,
            float e1,
            float x)
{
  float t = clampf ((x - e0) / (e1 - e0), 0.0f, 1.0f);
  return t * t * (3.0f - 2.0f * t);
}

/* How much of a pixel lies inside an outline at signed distance d (a one-pixel ramp). */
static float
coverage (const Level *lv,
          float        d)
{
  return clampf (0.5f - d / lv->px, 0.0f, 1.0f);
}

static float
segment_distance2 (float ax,
                   float ay,
                   float bx,
                   float by,
                   float x,
                   float y)
{
  float dx = bx - ax, dy = by - ay;
  float len2 = dx * dx + dy * dy;
  float t = len2 > 0.0f ? ((x - ax) * dx + (y - ay) * dy) / len2 : 0.0f;
  t = clampf (t, 0.0f, 1.0f);
  float ex = x - (ax + t * dx), ey = y - (ay + t * dy);
  return sqrtf (ex * ex + ey * ey);
}

static float
segment_distance3 (const Seg *s,
                   float      x,
                   float      y,
                   float      z)
{
  float dx = s->bx - s->ax, dy = s->by - s->ay, dz = s->bz - s->az;
  float len2 = dx * dx + dy * dy + dz * dz;
  float t = len2 > 0.0f ? ((x - s->ax) * dx + (y - s->ay) * dy + (z - s->az) * dz) / len2 : 0.0f;
  t = clampf (t, 0.0f, 1.0f);
  float ex = x - (s->ax + t * dx), ey = y - (s->ay + t * dy), ez = z - (s->az + t * dz);
  return sqrtf (ex * ex + ey * ey + ez * ez);
}

/* Model coordinates of pixel (i, j). */
static void
level_point (const Level *lv,
             int          i,
             int          j,
             float       *x,
             float       *y)
{
  float u = ((float) j + 0.5f) * 2.0f / (float) lv->size - 1.0f;
  float v = ((float) i + 0.5f) * 2.0f / (float) lv->size - 1.0f;
  *x = (u - lv->ct->ox) / lv->ct->scale;
  *y = (v - lv->ct->oy) / lv->ct->scale;
}

/* Pixel rows [i0, i1) and columns [j0, j1) that may touch the box x0..x1, y0..y1. */
static void
level_range (const Level *lv,
             float        x0,
             float        x1,
             float        y0,
             float        y1,
             int         *i0,
             int         *i1,
             int         *j0,
             int         *j1)
{
  const NnSynthCt2 *ct = lv->ct;
  float half = (float) lv->size / 2.0f, m = 2.0f * lv->px;
  float a = ((x0 - m) * ct->scale + ct->ox + 1.0f) * half;
  float b = ((x1 + m) * ct->scale + ct->ox + 1.0f) * half;
  float c = ((y0 - m) * ct->scale + ct->oy + 1.0f) * half;
  float d = ((y1 + m) * ct->scale + ct->oy + 1.0f) * half;
  *j0 = a < 0.0f ? 0 : (a > (float) lv->size ? lv->size : (int) a);
  *i0 = c < 0.0f ? 0 : (c > (float) lv->size ? lv->size : (int) c);
  *j1 = b >= (float) lv->size ? lv->size : (b < 0.0f ? 0 : (int) b + 1);
  *i1 = d >= (float) lv->size ? lv->size : (d < 0.0f ? 0 : (int) d + 1);
  *j1 = *j1 < *j0 ? *j0 : *j1;
  *i1 = *i1 < *i0 ? *i0 : *i1;
}

static void
paint_shape (Level         *lv,
             const Ellipse *e,
             float          value)
{
  if (e->ax <= 0.0f || e->ay <= 0.0f)
    return;
  float r = fmaxf (e->ax, e->ay);
  int i0, i1, j0, j1;
  level_range (lv, e->cx - r, e->cx + r, e->cy - r, e->cy + r, &i0, &i1, &j0, &j1);
  for (int i = i0; i < i1; i++)
    for (int j = j0; j < j1; j++)
      {
        float x, y;
        level_point (lv, i, j, &x, &y);
        float a = coverage (lv, nn_synth_ellipse_distance (e, x, y));
        float *p = lv->hu + (size_t) i * lv->size + j;
        *p += (value - *p) * a;
      }
}

/* A capsule of radius r around the segment a-b. */
static void
paint_capsule (Level *lv,
               float  ax,
               float  ay,
               float  bx,
               float  by,
               float  r,
               float  value)
{
  int i0, i1, j0, j1;
  level_range (lv, fminf (ax, bx) - r, fmaxf (ax, bx) + r, fminf (ay, by) - r,
               fmaxf (ay, by) + r, &i0, &i1, &j0, &j1);
  for (int i = i0; i < i1; i++)
    for (int j = j0; j < j1; j++)
      {
        float x, y;
        level_point (lv, i, j, &x, &y);
        float a = coverage (lv, segment_distance2 (ax, ay, bx, by, x, y) - r);
        float *p = lv->hu + (size_t) i * lv->size + j;
        *p += (value - *p) * a;
      }
}

/* ---- The patient's anatomy as a function of the level ------------------------------------- */

static float
level_u (const NnSynthCt2 *ct,
         int               k)
{
  return U_BOT - ((float) k + 0.5f) * (U_BOT - U_TOP) / (float) ct->opt.n_slices;
}

/* Shoulder girdle: 1 at the top of the volume, 0 from mid chest down. */
static float
shoulders (float u)
{
  return smoothstep (0.45f, -0.1f, u);
}

static void
level_outline (const NnSynthCt2 *ct,
               float             u,
               Ellipse          *body,
               Ellipse          *muscle,
               Ellipse          *cavity)
{
  float sh = shoulders (u);
  float bx = ct->bx * (1.0f + 0.08f * sh);
  float by = ct->by * (0.86f + 0.14f * smoothstep (-0.1f, 0.6f, u))
             + 0.03f * smoothstep (0.8f, 1.1f, u);
  float mus = ct->muscle + 0.05f * sh;
  *body = nn_synth_ellipse (0.0f, 0.02f, bx, by, 0.0f);
  *muscle = nn_synth_ellipse (0.0f, 0.02f, bx - ct->fat, by - ct->fat, 0.0f);
  *cavity = nn_synth_ellipse (0.0f, 0.0f, bx - ct->fat - mus, by - ct->fat - mus + 0.01f, 0.0f);
}

/* Lung s's ellipse at level u: growing from the apex to full size at u = 0.3. */
static Ellipse
lung_ellipse (const NnSynthCt2 *ct,
              int               s,
              float             u)
{
  float g = u <= 0.0f ? 0.0f : sqrtf (fminf (1.0f, u / 0.3f));
  float taper = 1.0f - 0.06f * smoothstep (0.7f, 1.05f, u);
  return nn_synth_ellipse (ct->lung_cx[s] * (0.8f + 0.2f * g), ct->lung_cy[s] + 0.12f * (1.0f - g),
                           ct->lung_ax[s] * g * taper, ct->lung_ay[s] * powf (g, 1.6f), 0.0f);
}

/* The diaphragm under lung s: the level below which (x, y) is abdomen. Highest at the dome's
 * centre, deepest at the periphery and behind (the posterior recesses). */
static float
dome_level (const NnSynthCt2 *ct,
            int               s,
            float             x,
            float             y)
{
  float dx = (x - ct->lung_cx[s]) / ct->lung_ax[s];
  float dy = (y - ct->lung_cy[s] + 0.15f * ct->lung_ay[s]) / ct->lung_ay[s];
  return ct->dome_top[s] + 0.28f * (dx * dx + dy * dy) + 0.1f * fmaxf (0.0f, dy);
}

/* The oblique fissure of lung s at level u: points behind y_obl belong to the lower lobe. */
static float
oblique_y (const NnSynthCt2 *ct,
           int               s,
           float             x,
           float             u)
{
  float t = clampf ((u - ct->fiss_u0[s]) / (ct->fiss_u1[s] - ct->fiss_u0[s]), 0.0f, 1.0f);
  float dx = (x - ct->lung_cx[s]) / ct->lung_ax[s];
  return ct->lung_cy[s] + ct->lung_ay[s] * (1.2f - 2.4f * t + 0.2f * dx * dx);
}

static float
horizontal_u (const NnSynthCt2 *ct,
              float             y)
{
  return ct->horiz_u + 0.04f * (y - ct->lung_cy[0]) / ct->lung_ay[0];
}

static int
lung_side (const NnSynthCt2 *ct,
           float             x)
{
  return x < 0.5f * (ct->lung_cx[0] + ct->lung_cx[1]) ? 0 : 1;
}

/* Signed distance (negative inside) from (x, y, u) to lobe 0 RUL, 1 RML, 2 RLL, 3 LUL, 4 LLL,
 * ignoring the pleura. */
static float
lobe_distance (const NnSynthCt2 *ct,
               int               lobe,
               float             x,
               float             y,
               float             u)
{
  int s = lobe < 3 ? 0 : 1;
  float d = y - oblique_y (ct, s, x, u);
  switch (lobe)
    {
    case 0:
      return fmaxf (d, (u - horizontal_u (ct, y)) * ct->lm);
    case 1:
      return fmaxf (d, (horizontal_u (ct, y) - u) * ct->lm);
    case 3:
      return d;
    default:
      return -d;
    }
}

static int
lobe_of (const NnSynthCt2 *ct,
         float             x,
         float             y,
         float             u)
{
  int s = lung_side (ct, x);
  if (y > oblique_y (ct, s, x, u))
    return s == 0 ? 2 : 4;
  if (s == 1)
    return 3;
  return u < horizontal_u (ct, y) ? 0 : 1;
}

/* The heart at level u (zero size outside its levels). */
static Ellipse
heart_ellipse (const NnSynthCt2 *ct,
               float             u)
{
  float t = (u - 0.42f) / 0.56f;
  float g = t <= 0.0f || t >= 1.0f ? 0.0f : sqrtf (sinf (PI_F * t));
  return nn_synth_ellipse (ct->heart_x + 0.03f * t, ct->heart_y - 0.02f * t, ct->heart_ax * g,
                           ct->heart_ay * g, ct->heart_angle);
}

/* Whether (x, y, z) lies well inside a lung (away from the pleura, the diaphragm, the heart);
 * its side or -1. */
static int
inside_lung (const NnSynthCt2 *ct,
             float             x,
             float             y,
             float             z,
             float             margin)
{
  float u = z / ct->lm;
  if (u <= 0.02f || u >= 1.05f)
    return -1;
  int s = lung_side (ct, x);
  Ellipse e = lung_ellipse (ct, s, u);
  if (nn_synth_ellipse_radius (&e, x, y) > 1.0f - margin)
    return -1;
  if (u > dome_level (ct, s, x, y) - margin * 0.3f)
    return -1;
  Ellipse h = heart_ellipse (ct, u);
  if (nn_synth_ellipse_radius (&h, x, y) < 1.0f + margin)
    return -1;
  Ellipse body, muscle, cavity;
  level_outline (ct, u, &body, &muscle, &cavity);
  if (nn_synth_ellipse_radius (&cavity, x, y) > 1.0f - margin)
    return -1;
  return s;
}

/* ---- Trees: airways and vessels ----------------------------------------------------------- */

static bool
seg_push (SegList   *list,
          const Seg *s)
{
  if (list->n == list->cap)
    {
      int cap = list->cap ? 2 * list->cap : 256;
      Seg *items = realloc (list->items, (size_t) cap * sizeof *items);
      if (items == NULL)
        return false;
      list->items = items;
      list->cap = cap;
    }
  list->items[list->n++] = *s;
  return true;
}

static void
normalize3 (float *v)
{
  float n = sqrtf (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  if (n < 1e-9f)
    {
      v[0] = 1.0f;
      v[1] = v[2] = 0.0f;
      return;
    }
  v[0] /= n;
  v[1] /= n;
  v[2] /= n;
}

/* A branch from p along d, then two children, down to radius min_r. false when out of
 * memory. */
static bool
grow (NnSynthCt2 *ct,
      NnRng      *rng,
      SegList    *list,
      const float p[3],
      const float dir[3],
      float       len,
      float       r,
      float       min_r,
      int         depth)
{
  float d[3] = { dir[0], dir[1], dir[2] };
  float q[3] = { 0 };
  bool placed = false;
  for (int attempt = 0; attempt < 4 && !placed; attempt++)
    {
      q[0] = p[0] + d[0] * len;
      q[1] = p[1] + d[1] * len;
      q[2] = p[2] + d[2] * len;
      if (inside_lung (ct, q[0], q[1], q[2], 0.04f) >= 0)
        placed = true;
      else
        {
          len *= 0.6f;
          for (int c = 0; c < 3; c++)
            d[c] += 0.5f * (nn_rng_uniform (rng) - 0.5f);
          normalize3 (d);
        }
    }
  if (!placed)
    return true;
  bool leaf = r * 0.72f < min_r || depth >= 9;
  Seg s = { p[0], p[1], p[2], q[0], q[1], q[2], r, 0, leaf };
  s.lobe = lobe_of (ct, 0.5f * (p[0] + q[0]), 0.5f * (p[1] + q[1]), 0.5f * (p[2] + q[2]) / ct->lm);
  if (!seg_push (list, &s))
    return false;
  if (leaf)
    return true;
  /* Two children splayed about a random perpendicular, the major one thicker. */
  float w[3] = { nn_rng_normal (rng), nn_rng_normal (rng), nn_rng_normal (rng) };
  float dot = w[0] * d[0] + w[1] * d[1] + w[2] * d[2];
  for (int c = 0; c < 3; c++)
    w[c] -= dot * d[c];
  normalize3 (w);
  float spread = nn_rng_range (rng, 0.45f, 0.8f);
  float share = nn_rng_range (rng, 0.75f, 0.85f);
  for (int child = 0; child < 2; child++)
    {
      float sign = child == 0 ? 1.0f : -1.0f;
      float cd[3];
      for (int c = 0; c < 3; c++)
        cd[c] = d[c] + sign * spread * (child == 0 ? 0.6f : 1.0f) * w[c];
      normalize3 (cd);
      float cr = r * (child == 0 ? share : share - 0.15f);
      float cl = len * nn_rng_range (rng, 0.7f, 0.85f);
      if (!grow (ct, rng, list, q, cd, cl, cr, min_r, depth + 1))
        return false;
    }
  return true;
}

/* The trachea, main bronchi and a tree per lobe (airways, down to about 1.5 mm); arteries
 * beside the bronchi and veins from the lower hila (down to about 0.6 mm). */
static bool
grow_trees (NnSynthCt2 *ct,
            NnRng      *rng)
{
  float cay = ct->by - ct->fat - ct->muscle - 0.05f;
  float ty = cay - 0.29f;
  float zc = ct->carina_u * ct->lm;
  Seg trachea = { 0.0f, ty, U_TOP * ct->lm - 0.2f, 0.0f, ty, zc, 0.05f, -1, false };
  if (!seg_push (&ct->airways, &trachea))
    return false;
  for (int s = 0; s < 2; s++)
    {
      float side = s == 0 ? -1.0f : 1.0f;
      /* The right main bronchus is shorter and steeper. */
      float hx = ct->lung_cx[s] * 0.55f, hy = ty + 0.04f;
      float hz = zc + (s == 0 ? 0.07f : 0.11f) * ct->lm;
      Seg main_bronchus = { 0.0f, ty, zc, hx, hy, hz, s == 0 ? 0.03f : 0.027f, -1, false };
      if (!seg_push (&ct->airways, &main_bronchus))
        return false;
      /* Lobar directions: up, forward-down (middle lobe or lingula), down-back twice. */
      const float dirs[4][3] = {
        { side * 0.5f, -0.2f, -1.0f },
        { side * 0.7f, -0.8f, 0.5f },
        { side * 0.5f, 0.5f, 1.0f },
        { side * 0.9f, 0.1f, 0.8f },
      };
      for (int b = 0; b < 4; b++)
        {
          float d[3] = { dirs[b][0], dirs[b][1], dirs[b][2] };
          normalize3 (d);
          float p[3] = { hx, hy, hz };
          float len = nn_rng_range (rng, 0.09f, 0.13f);
          if (!grow (ct, rng, &ct->airways, p, d, len, 0.02f, 0.008f, 0))
            return false;
          /* The artery: the same course from just beside the bronchus. */
          float pa[3] = { hx + side * 0.015f, hy + 0.01f, hz - 0.01f };
          if (!grow (ct, rng, &ct->vessels, pa, d, len, 0.022f, 0.003f, 0))
            return false;
          /* A vein from the lower hilum (toward the left atrium). */
          float pv[3] = { hx * 0.9f, hy + 0.03f, hz + 0.06f * ct->lm };
          float dv[3] = { d[0] + nn_rng_normal (rng) * 0.3f, d[1] + 0.3f, d[2] };
          normalize3 (dv);
          if (!grow (ct, rng, &ct->vessels, pv, dv, len, 0.02f, 0.003f, 0))
            return false;
        }
    }
  return true;
}

/* ---- Lesions ------------------------------------------------------------------------------ */

static Lesion *
lesion_add (NnSynthCt2 *ct,
            LesionKind  kind,
            bool        in_mask)
{
  if (ct->n_lesions == ct->cap_lesions)
    {
      int cap = ct->cap_lesions ? 2 * ct->cap_lesions : 32;
      Lesion *items = realloc (ct->lesions, (size_t) cap * sizeof *items);
      if (items == NULL)
        return NULL;
      ct->lesions = items;
      ct->cap_lesions = cap;
    }
  Lesion *l = ct->lesions + ct->n_lesions++;
  memset (l, 0, sizeof *l);
  l->kind = kind;
  l->in_mask = in_mask;
  l->lobe = -1;
  return l;
}

/* A point of lung s at level u, at rho0 to rho1 of the lung's elliptical radius and at an
 * angle drawn around theta (pi / 2 points backward: y grows toward the back) with standard
 * deviation sd; false when none of the tries fell well inside the lung. */
static bool
lung_point (const NnSynthCt2 *ct,
            NnRng            *rng,
            int               s,
            float             u,
            float             rho0,
            float             rho1,
            float             theta,
            float             sd,
            float            *x,
            float            *y)
{
  Ellipse e = lung_ellipse (ct, s, u);
  for (int attempt = 0; attempt < 30; attempt++)
    {
      float a = theta + sd * nn_rng_normal (rng);
      float rho = nn_rng_range (rng, rho0, rho1);
      *x = e.cx + rho * e.ax * cosf (a);
      *y = e.cy + rho * e.ay * sinf (a);
      if (inside_lung (ct, *x, *y, u * ct->lm, 0.03f) == s)
        return true;
    }
  return false;
}

static void
blob_shape (NnRng  *rng,
            Lesion *l,
            float   r,
            float   irregular)
{
  l->rx = r * nn_rng_range (rng, 0.8f, 1.25f);
  l->ry = r * nn_rng_range (rng, 0.8f, 1.25f);
  l->rz = r * nn_rng_range (rng, 0.8f, 1.4f);
  l->harm[0] = irregular * nn_rng_range (rng, 0.3f, 1.0f);
  l->harm[1] = nn_rng_range (rng, 0.0f, 2.0f * PI_F);
  l->harm[2] = irregular * nn_rng_range (rng, 0.2f, 0.8f);
  l->harm[3] = nn_rng_range (rng, 0.0f, 2.0f * PI_F);
}

/* COVID-like: ground glass at the periphery, behind and at the base, in both lungs; crazy
 * paving, consolidation or reticulation with the stage. */
static bool
draw_covid (NnSynthCt2 *ct,
            NnRng      *rng)
{
  static const char *stages[] = { "covid-early", "covid-progressive", "covid-peak",
                                  "covid-late" };
  int stage = (int) nn_rng_below (rng, 4);
  ct->info.pattern = stages[stage];
  static const int n_lo[] = { 2, 3, 4, 3 }, n_hi[] = { 4, 7, 9, 7 };
  int n = n_lo[stage] + (int) nn_rng_below (rng, (uint32_t) (n_hi[stage] - n_lo[stage] + 1));
  for (int g = 0; g < n; g++)
    {
      int s = (int) nn_rng_below (rng, 2);
      float u = 0.3f + 0.62f * sqrtf (nn_rng_uniform (rng));
      float x, y;
      if (!lung_point (ct, rng, s, u, 0.6f, 0.92f, 0.5f * PI_F, 1.0f, &x, &y))
        continue;
      Lesion *l = lesion_add (ct, LESION_BLOB, true);
      if (l == NULL)
        return false;
      l->cx = x;
      l->cy = y;
      l->cz = u * ct->lm;
      float r = stage == 0 ? nn_rng_range (rng, 0.05f, 0.1f) : nn_rng_range (rng, 0.06f, 0.15f);
      blob_shape (rng, l, r, 0.25f);
      l->core = nn_rng_range (rng, 0.2f, 0.5f);
      l->cell = nn_rng_range (rng, 0.03f, 0.05f);
      l->rise = COVID_GGO_RISE;
      switch (stage)
        {
        case 0:
          l->hu = nn_rng_range (rng, -680.0f, -520.0f);
          break;
        case 1:
          l->hu = nn_rng_range (rng, -680.0f, -450.0f);
          if (nn_rng_uniform (rng) < 0.6f)
            l->paving = nn_rng_range (rng, 120.0f, 260.0f);
          if (nn_rng_uniform (rng) < 0.3f)
            {
              l->cons_frac = nn_rng_range (rng, 0.15f, 0.35f);
              l->cons_hu = nn_rng_range (rng, -80.0f, 20.0f);
            }
          break;
        case 2:
          l->hu = nn_rng_range (rng, -620.0f, -380.0f);
          if (nn_rng_uniform (rng) < 0.4f)
            l->paving = nn_rng_range (rng, 100.0f, 220.0f);
          if (nn_rng_uniform (rng) < 0.7f)
            {
              l->cons_frac = nn_rng_range (rng, 0.25f, 0.6f);
              l->cons_hu = nn_rng_range (rng, -60.0f, 35.0f);
            }
          break;
        default:
          l->hu = nn_rng_range (rng, -660.0f, -500.0f);
          l->retic = nn_rng_range (rng, 120.0f, 260.0f);
          l->cell = nn_rng_range (rng, 0.018f, 0.03f);
          if (nn_rng_uniform (rng) < 0.3f)
            {
              l->cons_frac = nn_rng_range (rng, 0.1f, 0.3f);
              l->cons_hu = nn_rng_range (rng, -120.0f, 0.0f);
            }
          break;
        }
    }
  return true;
}

/* Another pneumonia: lobar (a lobe or part of it, up to its fissures; the airways painted
 * afterwards stay as air bronchograms) or bronchopneumonia (patches around small airways of
 * one or two lobes, tree-in-bud). */
static bool
draw_pneumonia (NnSynthCt2 *ct,
                NnRng      *rng)
{
  static const int lobes[] = { 0, 1, 2, 2, 3, 4, 4 };
  if (nn_rng_below (rng, 2) == 0)
    {
      ct->info.pattern = "lobar";
      int lobe = lobes[nn_rng_below (rng, 7)];
      ct->info.lobe = lobe;
      Lesion *l = lesion_add (ct, LESION_LOBE, true);
      if (l == NULL)
        return false;
      l->lobe = lobe;
      l->hu = nn_rng_range (rng, -30.0f, 45.0f);
      /* Extent: the whole lobe or a segmental part of it, around an airway of the lobe. */
      int n_in = 0;
      const Seg *pick = NULL;
      for (int k = 0; k < ct->airways.n; k++)
        if (ct->airways.items[k].lobe == lobe && nn_rng_below (rng, (uint32_t) ++n_in) == 0)
          pick = ct->airways.items + k;
      float r = nn_rng_uniform (rng) < 0.5f ? 2.0f : nn_rng_range (rng, 0.1f, 0.2f);
      if (pick != NULL)
        {
          l->cx = pick->bx;
          l->cy = pick->by;
          l->cz = pick->bz;
        }
      l->rx = l->ry = l->rz = pick != NULL ? r : 2.0f;
      l->core = 0.7f;
      return true;
    }
  ct->info.pattern = "bronchopneumonia";
  int lobe_a = lobes[nn_rng_below (rng, 7)], lobe_b = lobes[nn_rng_below (rng, 7)];
  int n_patch = 4 + (int) nn_rng_below (rng, 10), n_bud = 30 + (int) nn_rng_below (rng, 50);
  /* The vessels of the two lobes in a random order. */
  int *order = malloc ((size_t) ct->vessels.n * sizeof *order);
  if (order == NULL)
    return false;
  int n_in = 0;
  for (int k = 0; k < ct->vessels.n; k++)
    if (ct->vessels.items[k].lobe == lobe_a || ct->vessels.items[k].lobe == lobe_b)
      order[n_in++] = k;
  nn_rng_shuffle (rng, order, n_in);
  bool ok = true;
  for (int k = 0; k < n_in && ok && (n_patch > 0 || n_bud > 0); k++)
    {
      const Seg *v = ct->vessels.items + order[k];
      if (v->terminal && n_bud > 0)
        {
          /* A filled bronchiole beside the artery and the bud at its end. */
          Lesion *l = lesion_add (ct, LESION_TUBE, true);
          Lesion *bud = l == NULL ? NULL : lesion_add (ct, LESION_TUBE, true);
          ok = bud != NULL;
          if (!ok)
            break;
          l = bud - 1;   /* the second addition may have moved the first */
          l->seg = *v;
          l->seg.ax += 0.006f;
          l->seg.bx += 0.006f;
          l->seg.r = nn_rng_range (rng, 0.006f, 0.01f);
          l->hu = nn_rng_range (rng, -50.0f, 40.0f);
          bud->seg = l->seg;
          bud->seg.ax = bud->seg.bx;
          bud->seg.ay = bud->seg.by;
          bud->seg.az = bud->seg.bz;
          bud->seg.r = nn_rng_range (rng, 0.01f, 0.016f);
          bud->hu = l->hu;
          n_bud--;
        }
      else if (!v->terminal && v->r < 0.014f && n_patch > 0)
        {
          Lesion *l = lesion_add (ct, LESION_BLOB, true);
          ok = l != NULL;
          if (!ok)
            break;
          l->cx = 0.5f * (v->ax + v->bx);
          l->cy = 0.5f * (v->ay + v->by);
          l->cz = 0.5f * (v->az + v->bz);
          blob_shape (rng, l, nn_rng_range (rng, 0.035f, 0.08f), 0.3f);
          l->core = nn_rng_range (rng, 0.1f, 0.4f);
          l->hu = nn_rng_range (rng, -550.0f, -250.0f);
          l->cons_frac = nn_rng_range (rng, 0.0f, 0.6f);
          l->cons_hu = nn_rng_range (rng, -60.0f, 40.0f);
          n_patch--;
        }
    }
  free (order);
  return ok;
}

/* A nodule of 4 to 30 mm anywhere in a lung: lobulated edge, and spicules half the time. */
static bool
draw_nodule (NnSynthCt2 *ct,
             NnRng      *rng)
{
  float d_mm = 4.0f * expf (nn_rng_range (rng, 0.0f, logf (30.0f / 4.0f)));
  int s = (int) nn_rng_below (rng, 2);
  float u = nn_rng_range (rng, 0.15f, 0.85f), x, y;
  if (!lung_point (ct, rng, s, u, 0.0f, 0.8f, 0.0f, 3.0f, &x, &y))
    return true;
  ct->info.nodule = true;
  ct->info.nodule_mm = d_mm;
  Lesion *l = lesion_add (ct, LESION_BLOB, false);
  if (l == NULL)
    return false;
  float r = 0.5f * d_mm / UNIT_MM, cz = u * ct->lm;
  l->cx = x;
  l->cy = y;
  l->cz = cz;
  blob_shape (rng, l, r, 0.35f);
  l->rx = l->ry = l->rz = r;
  l->core = 0.8f;
  l->hu = nn_rng_range (rng, -20.0f, 60.0f);
  if (nn_rng_below (rng, 2) == 0)
    return true;
  int n = 5 + (int) nn_rng_below (rng, 8);
  for (int k = 0; k < n; k++)
    {
      float d[3] = { nn_rng_normal (rng), nn_rng_normal (rng), nn_rng_normal (rng) };
      normalize3 (d);
      float len = r * nn_rng_range (rng, 1.3f, 2.4f);
      /* (Adding may move the lesions: l is not used past here.) */
      Lesion *sp = lesion_add (ct, LESION_TUBE, false);
      if (sp == NULL)
        return false;
      Seg seg = { x, y, cz, x + d[0] * len, y + d[1] * len, cz + d[2] * len,
                  nn_rng_range (rng, 0.0015f, 0.0035f), -1, true };
      sp->seg = seg;
      sp->hu = nn_rng_range (rng, -100.0f, 30.0f);
    }
  return true;
}

/* Dependent atelectasis, common in healthy lungs: 1 to 3 thin subpleural bands of partly
 * collapsed lung, -550 to -250 HU, along the posterior wall of the lower lungs (flat against
 * the pleura, smooth: the look-alike of early ground glass). */
static bool
draw_atelectasis (NnSynthCt2 *ct,
                  NnRng      *rng)
{
  int n = 1 + (int) nn_rng_below (rng, 3);
  for (int k = 0; k < n; k++)
    {
      int s = (int) nn_rng_below (rng, 2);
      float u = nn_rng_range (rng, 0.5f, 0.95f), x, y;
      if (!lung_point (ct, rng, s, u, 0.88f, 0.97f, 0.5f * PI_F, 0.35f, &x, &y))
        continue;
      Lesion *l = lesion_add (ct, LESION_BLOB, false);
      if (l == NULL)
        return false;
      l->cx = x;
      l->cy = y + 0.01f;
      l->cz = u * ct->lm;
      l->rx = nn_rng_range (rng, 0.06f, 0.13f);
      l->ry = nn_rng_range (rng, 0.025f, 0.045f);
      l->rz = nn_rng_range (rng, 0.04f, 0.09f);
      l->core = 0.5f;
      l->hu = nn_rng_range (rng, -550.0f, -250.0f);
    }
  return true;
}

/* ---- The patient -------------------------------------------------------------------------- */

void
nn_synth_ct2_options_init (NnSynthCt2Options *options)
{
  NN_ASSERT (options != NULL);
  options->size = 128;
  options->n_slices = 64;
  options->acquisition = true;
  options->photons = 0.0f;
  options->noise_hu = 12.0f;
}

const char *
nn_synth_ct2_class_name (NnSynthCt2Class cls)
{
  switch (cls)
    {
    case NN_SYNTH_CT2_HEALTHY:
      return "healthy";
    case NN_SYNTH_CT2_COVID:
      return "covid";
    case NN_SYNTH_CT2_PNEUMONIA:
      return "pneumonia";
    default:
      return "unknown";
    }
}

void
nn_synth_ct2_free (NnSynthCt2 *ct)
{
  if (ct == NULL)
    return;
  free (ct->airways.items);
  free (ct->vessels.items);
  free (ct->lesions);
  free (ct);
}

const NnSynthCt2Info *
nn_synth_ct2_info (const NnSynthCt2 *ct)
{
  NN_ASSERT (ct != NULL);
  return &ct->info;
}

static void
draw_anatomy (NnSynthCt2 *ct,
              NnRng      *rng)
{
  ct->scale = nn_rng_range (rng, 0.86f, 1.06f);
  ct->ox = nn_rng_range (rng, -0.05f, 0.05f);
  ct->oy = nn_rng_range (rng, -0.05f, 0.05f);
  ct->len_mm = nn_rng_range (rng, 230.0f, 290.0f) * ct->scale;
  ct->lm = ct->len_mm / UNIT_MM / ct->scale;
  ct->bx = nn_rng_range (rng, 0.8f, 0.9f);
  ct->by = nn_rng_range (rng, 0.56f, 0.66f);
  ct->fat = nn_rng_range (rng, 0.02f, 0.09f);
  ct->muscle = nn_rng_range (rng, 0.04f, 0.065f);
  ct->fat_hu = nn_rng_range (rng, -115.0f, -85.0f);
  ct->muscle_hu = nn_rng_range (rng, 35.0f, 55.0f);
  ct->med_hu = nn_rng_range (rng, -60.0f, -20.0f);
  ct->liver_hu = nn_rng_range (rng, 50.0f, 68.0f);
  ct->spleen_hu = nn_rng_range (rng, 38.0f, 50.0f);
  ct->blood_hu = nn_rng_range (rng, 35.0f, 48.0f);
  ct->heart_hu = ct->blood_hu + nn_rng_range (rng, -5.0f, 5.0f);
  ct->cortex_hu = nn_rng_range (rng, 550.0f, 800.0f);
  ct->marrow_hu = nn_rng_range (rng, 160.0f, 260.0f);
  ct->rib_hu = nn_rng_range (rng, 300.0f, 550.0f);
  /* Inflation varies from a deep breath to a shallow one; the dependent lung is denser. */
  ct->lung_hu = nn_rng_range (rng, -900.0f, -770.0f);
  ct->dep_hu = nn_rng_range (rng, 10.0f, 150.0f);
  float cax = ct->bx - ct->fat - ct->muscle, cay = ct->by - ct->fat - ct->muscle + 0.01f;
  for (int s = 0; s < 2; s++)
    {
      ct->lung_cx[s] = (s == 0 ? -0.44f : 0.47f) * cax;
      ct->lung_cy[s] = nn_rng_range (rng, -0.03f, 0.01f);
      ct->lung_ax[s] = (s == 0 ? 0.4f : 0.36f) * cax * nn_rng_range (rng, 0.95f, 1.05f);
      ct->lung_ay[s] = (cay - 0.06f) * nn_rng_range (rng, 0.92f, 1.0f);
      ct->fiss_u0[s] = nn_rng_range (rng, 0.2f, 0.32f);
      ct->fiss_u1[s] = nn_rng_range (rng, 0.95f, 1.1f);
    }
  ct->dome_top[0] = nn_rng_range (rng, 0.6f, 0.7f);
  ct->dome_top[1] = ct->dome_top[0] + nn_rng_range (rng, 0.03f, 0.1f);
  ct->horiz_u = nn_rng_range (rng, 0.42f, 0.55f);
  ct->heart_x = nn_rng_range (rng, 0.06f, 0.14f);
  ct->heart_y = nn_rng_range (rng, 0.0f, 0.08f);
  ct->heart_ax = nn_rng_range (rng, 0.19f, 0.25f);
  ct->heart_ay = nn_rng_range (rng, 0.15f, 0.19f);
  ct->heart_angle = nn_rng_range (rng, -0.5f, -0.2f);
  ct->carina_u = nn_rng_range (rng, 0.3f, 0.38f);
  ct->rib_u0 = nn_rng_range (rng, -0.16f, -0.08f);
  ct->rib_step = nn_rng_range (rng, 0.08f, 0.095f);
  ct->rib_drop = nn_rng_range (rng, 0.25f, 0.4f);
  ct->disc_phase = nn_rng_range (rng, 0.0f, 26.0f);
}

NnSynthCt2 *
nn_synth_ct2_new (const NnSynthCt2Options *options,
                  NnSynthCt2Class          cls,
                  uint64_t                 seed,
                  NnError                 *err)
{
  NN_ASSERT (options != NULL);
  NN_ASSERT (options->size >= 8 && options->size <= 4096);
  NN_ASSERT (options->n_slices >= 1 && options->n_slices <= 4096);
  NN_ASSERT (cls == NN_SYNTH_CT2_HEALTHY || cls == NN_SYNTH_CT2_COVID
             || cls == NN_SYNTH_CT2_PNEUMONIA);
  NnSynthCt2 *ct = calloc (1, sizeof *ct);
  if (ct == NULL)
    {
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory for a synthetic CT volume");
      return NULL;
    }
  ct->opt = *options;
  ct->cls = cls;
  ct->seed = seed;
  ct->info.pattern = "none";
  ct->info.lobe = -1;
  NnRng rng;
  nn_rng_init (&rng, seed);
  draw_anatomy (ct, &rng);
  ct->info.photons = options->photons > 0.0f
                     ? options->photons : 5e4f * expf (nn_rng_range (&rng, 0.0f, logf (10.0f)));
  ct->info.pixel_mm = (double) FOV_MM / options->size;
  ct->info.slice_mm = (double) (ct->len_mm * (U_BOT - U_TOP)) / options->n_slices;
  bool ok = grow_trees (ct, &rng);
  /* The class, then findings of any class, each from its own stream so that a class's draws
   * do not shift the others'. */
  NnRng crng, frng;
  nn_rng_init (&crng, seed ^ 0xc1a55c1a55ull);
  nn_rng_init (&frng, seed ^ 0xf1d1f1d1ull);
  if (ok && cls == NN_SYNTH_CT2_COVID)
    ok = draw_covid (ct, &crng);
  else if (ok && cls == NN_SYNTH_CT2_PNEUMONIA)
    ok = draw_pneumonia (ct, &crng);
  if (ok && nn_rng_uniform (&frng) < 0.3f)
    ok = draw_nodule (ct, &frng);
  if (ok && nn_rng_uniform (&frng) < 0.15f)
    {
      ct->info.effusion = 1 + (int) nn_rng_below (&frng, 3);
      for (int s = 0; s < 2; s++)
        if (ct->info.effusion & (1 << s))
          ct->effusion_h[s] = nn_rng_range (&frng, 0.12f, 0.4f);
      ct->effusion_hu = nn_rng_range (&frng, 0.0f, 20.0f);
    }
  if (ok && nn_rng_uniform (&frng) < 0.5f)
    ok = draw_atelectasis (ct, &frng);
  if (!ok)
    {
      nn_synth_ct2_free (ct);
      nn_error_set (err, NN_ERROR_NOMEM, "out of memory for a synthetic CT volume");
      return NULL;
    }
  return ct;
}

/* ---- Painting a level --------------------------------------------------------------------- */

/* The effusion of lung s at (x, y): how much of the pixel is fluid. */
static float
effusion_cover (const Level *lv,
                int          s,
                float        x,
                float        y)
{
  const NnSynthCt2 *ct = lv->ct;
  float h = ct->effusion_h[s];
  if (h <= 0.0f)
    return 0.0f;
  const Ellipse *e = &lv->lungs[s];
  float depth = 2.0f * h * smoothstep (0.25f, 0.95f, lv->u);
  float dx = (x - e->cx) / fmaxf (e->ax, 1e-6f);
  float line = e->cy + e->ay * (1.0f - depth + 0.3f * depth * dx * dx);
  return coverage (lv, line - y);
}

/* The level's mediastinum: shapes excluded from the lungs and painted over them. */
typedef struct
{
  Ellipse e;
  float   ax, ay, bx, by, r;   /* a capsule when r > 0 */
  float   hu;
} Organ;

static int
level_organs (const Level *lv,
              Organ       *o)
{
  const NnSynthCt2 *ct = lv->ct;
  float u = lv->u, cay = lv->cavity.ay;
  float ty = ct->by - ct->fat - ct->muscle - 0.05f - 0.29f;
  int n = 0;
  Organ none = { 0 };
  /* Heart. */
  o[n] = none;
  o[n].e = heart_ellipse (ct, u);
  o[n++].hu = ct->heart_hu;
  /* Descending aorta, drifting to the midline below the heart. */
  float dx = 0.07f - 0.05f * smoothstep (0.6f, 1.1f, u);
  if (u > 0.22f)
    {
      o[n] = none;
      o[n].e = nn_synth_ellipse (dx, cay - 0.2f, 0.045f, 0.045f, 0.0f);
      o[n++].hu = ct->blood_hu;
    }
  /* Ascending aorta and the arch. */
  if (u > 0.26f && u < 0.47f)
    {
      o[n] = none;
      o[n].e = nn_synth_ellipse (-0.02f, -0.08f, 0.05f, 0.05f, 0.0f);
      o[n++].hu = ct->blood_hu;
    }
  else if (u > 0.19f && u <= 0.26f)
    {
      o[n] = none;
      o[n].ax = -0.02f;
      o[n].ay = -0.08f;
      o[n].bx = 0.07f;
      o[n].by = cay - 0.2f;
      o[n].r = 0.042f;
      o[n++].hu = ct->blood_hu;
    }
  /* Pulmonary trunk and its right and left arteries. */
  if (u > 0.36f && u < 0.48f)
    {
      o[n] = none;
      o[n].e = nn_synth_ellipse (0.08f, -0.05f, 0.05f, 0.05f, 0.0f);
      o[n++].hu = ct->blood_hu;
    }
  if (u > 0.36f && u < 0.42f)
    {
      o[n] = none;
      o[n].ax = 0.04f;
      o[n].ay = -0.03f;
      o[n].bx = ct->lung_cx[0] * 0.5f;
      o[n].by = ty + 0.06f;
      o[n].r = 0.028f;
      o[n++].hu = ct->blood_hu;
    }
  if (u > 0.33f && u < 0.38f)
    {
      o[n] = none;
      o[n].ax = 0.08f;
      o[n].ay = -0.03f;
      o[n].bx = ct->lung_cx[1] * 0.5f;
      o[n].by = ty + 0.08f;
      o[n].r = 0.028f;
      o[n++].hu = ct->blood_hu;
    }
  /* Superior vena cava; the arch's branches above it. */
  if (u > 0.05f && u < 0.46f)
    {
      o[n] = none;
      o[n].e = nn_synth_ellipse (-0.1f, -0.06f, 0.033f, 0.04f, 0.0f);
      o[n++].hu = ct->blood_hu;
    }
  if (u < 0.2f)
    {
      static const float bx[3] = { -0.045f, 0.01f, 0.055f }, by[3] = { -0.06f, -0.05f, 0.0f };
      static const float br[3] = { 0.026f, 0.018f, 0.02f };
      for (int k = 0; k < 3; k++)
        {
          o[n] = none;
          o[n].e = nn_synth_ellipse (bx[k], ty + by[k] - 0.02f, br[k], br[k], 0.0f);
          o[n++].hu = ct->blood_hu;
        }
    }
  /* Oesophagus, vertebral body. */
  o[n] = none;
  o[n].e = nn_synth_ellipse (0.025f, cay - 0.21f, 0.025f, 0.02f, 0.0f);
  o[n++].hu = ct->muscle_hu;
  o[n] = none;
  o[n].e = nn_synth_ellipse (0.0f, cay - 0.1f, 0.09f, 0.08f, 0.0f);
  o[n++].hu = ct->marrow_hu;
  return n;
}

static float
organ_distance (const Organ *o,
                float        x,
                float        y)
{
  if (o->r > 0.0f)
    return segment_distance2 (o->ax, o->ay, o->bx, o->by, x, y) - o->r;
  return nn_synth_ellipse_distance (&o->e, x, y);
}

static void
paint_organ (Level       *lv,
             const Organ *o)
{
  if (o->r > 0.0f)
    paint_capsule (lv, o->ax, o->ay, o->bx, o->by, o->r, o->hu);
  else
    paint_shape (lv, &o->e, o->hu);
}

/* Outline, fat, muscle, lungs with their diaphragm and fissures, the abdomen below the domes,
 * effusions; fills lv->lung and lv->base. */
static void
paint_body (Level       *lv,
            const Organ *organs,
            int          n_organs)
{
  const NnSynthCt2 *ct = lv->ct;
  size_t n = (size_t) lv->size * lv->size;
  for (size_t k = 0; k < n; k++)
    lv->hu[k] = -1000.0f;
  paint_shape (lv, &lv->body, ct->fat_hu);
  paint_shape (lv, &lv->muscle, ct->muscle_hu);
  /* Above the apices the cavity is the neck's muscle; below, mediastinal fat. */
  float neck = smoothstep (0.2f, -0.05f, lv->u);
  paint_shape (lv, &lv->cavity, ct->med_hu + (ct->muscle_hu - ct->med_hu) * neck);
  const float margin = 0.015f;
  float slice_m = (float) ct->info.slice_mm / UNIT_MM / ct->scale;
  for (int i = 0; i < lv->size; i++)
    for (int j = 0; j < lv->size; j++)
      {
        size_t k = (size_t) i * lv->size + j;
        lv->lung[k] = 0.0f;
        float x, y;
        level_point (lv, i, j, &x, &y);
        int s = lung_side (ct, x);
        const Ellipse *e = &lv->lungs[s];
        if (e->ax <= 0.0f)
          continue;
        float d = nn_synth_ellipse_distance (e, x, y);
        if (d > lv->px)
          continue;
        float in = coverage (lv, d);
        in *= coverage (lv, nn_synth_ellipse_distance (&lv->cavity, x, y) + margin);
        float below = coverage (lv, (dome_level (ct, s, x, y) - lv->u) * ct->lm);
        float eff = effusion_cover (lv, s, x, y);
        float *p = lv->hu + k;
        /* The abdomen under the domes: liver on the right, spleen and stomach on the left. */
        if (below > 0.0f)
          {
            float organ = s == 0 ? ct->liver_hu : ct->spleen_hu;
            if (s == 1 && y < e->cy && lv->u < ct->dome_top[1] + 0.25f)
              organ = -1000.0f + 1000.0f * smoothstep (-0.25f, 0.0f, (y - e->cy) / e->ay);
            *p += (organ - *p) * in * below;
          }
        in *= 1.0f - below;
        for (int o = 0; o < n_organs; o++)
          in *= 1.0f - coverage (lv, organ_distance (organs + o, x, y) - margin);
        if (eff > 0.0f)
          {
            *p += (ct->effusion_hu - *p) * eff * fmaxf (in, below);
            in *= 1.0f - eff;
          }
        if (in <= 0.0f)
          continue;
        /* Parenchyma: denser behind (gravity) and toward the base. */
        float post = fmaxf (0.0f, (y - e->cy) / fmaxf (e->ay, 1e-6f));
        float base = ct->lung_hu + ct->dep_hu * post * post + 25.0f * lv->u;
        /* Fissures: the oblique one in both lungs, the horizontal one on the right. */
        float t = (lv->u - ct->fiss_u0[s]) / (ct->fiss_u1[s] - ct->fiss_u0[s]);
        float fissure = 0.0f;
        if (t > 0.0f && t < 1.0f)
          fissure = clampf (1.0f - fabsf (y - oblique_y (ct, s, x, lv->u)) / lv->px, 0.0f, 1.0f);
        if (s == 0 && y < oblique_y (ct, 0, x, lv->u)
            && fabsf (lv->u - horizontal_u (ct, y)) * ct->lm < 0.5f * slice_m)
          fissure = fmaxf (fissure, 0.6f);
        lv->base[k] = base;
        *p += (base + 0.25f * fissure * (0.0f - base) - *p) * in;
        lv->lung[k] = in;
      }
  for (int o = 0; o < n_organs; o++)
    paint_organ (lv, organs + o);
}

/* A 3-D tube met by the level: a Gaussian cross-section widened to half a pixel with its peak
 * lowered to keep the integral (thin vessels fade instead of aliasing). mode 0: a vessel,
 * raised toward value inside the lung only; 1: an airway wall, raised toward value anywhere;
 * 2: an airway lumen, lowered toward value anywhere. */
static void
paint_tube (Level     *lv,
            const Seg *s,
            float      r,
            float      value,
            int        mode)
{
  float sigma = sqrtf (r * r + 0.25f * lv->px * lv->px);
  float reach = 2.5f * sigma;
  float z0 = fminf (s->az, s->bz), z1 = fmaxf (s->az, s->bz);
  if (lv->z < z0 - reach || lv->z > z1 + reach)
    return;
  /* The part of the segment within reach of the plane. */
  float dz = s->bz - s->az;
  float t0 = 0.0f, t1 = 1.0f;
  if (fabsf (dz) > 1e-6f)
    {
      float ta = (lv->z - reach - s->az) / dz, tb = (lv->z + reach - s->az) / dz;
      t0 = fmaxf (0.0f, fminf (ta, tb));
      t1 = fminf (1.0f, fmaxf (ta, tb));
    }
  float xa = s->ax + t0 * (s->bx - s->ax), xb = s->ax + t1 * (s->bx - s->ax);
  float ya = s->ay + t0 * (s->by - s->ay), yb = s->ay + t1 * (s->by - s->ay);
  int i0, i1, j0, j1;
  level_range (lv, fminf (xa, xb) - reach, fmaxf (xa, xb) + reach, fminf (ya, yb) - reach,
               fmaxf (ya, yb) + reach, &i0, &i1, &j0, &j1);
  float peak = r / sigma;
  for (int i = i0; i < i1; i++)
    for (int j = j0; j < j1; j++)
      {
        size_t k = (size_t) i * lv->size + j;
        float weight = mode == 0 ? lv->lung[k] : 1.0f;
        if (weight <= 0.0f)
          continue;
        float x, y;
        level_point (lv, i, j, &x, &y);
        float d = segment_distance3 (s, x, y, lv->z);
        if (d > reach)
          continue;
        float a = fminf (1.0f, peak * expf (-0.5f * d * d / (sigma * sigma))) * weight;
        float target = mode == 2 ? fminf (lv->hu[k], value) : fmaxf (lv->hu[k], value);
        lv->hu[k] += (target - lv->hu[k]) * a;
      }
}

/* The lesion's profile at (x, y) of the level: 0 outside, 1 in its core. */
static float
lesion_profile (const Level  *lv,
                const Lesion *l,
                float         x,
                float         y,
                float        *rho_out)
{
  const NnSynthCt2 *ct = lv->ct;
  switch (l->kind)
    {
    case LESION_BLOB:
      {
        float dx = (x - l->cx) / l->rx, dy = (y - l->cy) / l->ry, dz = (lv->z - l->cz) / l->rz;
        float rho = sqrtf (dx * dx + dy * dy + dz * dz);
        float theta = atan2f (dy, dx);
        float edge = 1.0f + l->harm[0] * 0.4f * cosf (2.0f * theta + l->harm[1])
                     + l->harm[2] * 0.4f * cosf (3.0f * theta + l->harm[3] + 2.0f * dz);
        rho /= fmaxf (0.3f, edge);
        *rho_out = rho;
        if (rho <= l->core)
          return 1.0f;
        if (rho >= 1.0f)
          return 0.0f;
        return 0.5f * (1.0f + cosf (PI_F * (rho - l->core) / (1.0f - l->core)));
      }
    case LESION_LOBE:
      {
        if (lung_side (ct, x) != (l->lobe < 3 ? 0 : 1))
          return 0.0f;
        float d = lobe_distance (ct, l->lobe, x, y, lv->u);
        float dx = (x - l->cx) / l->rx, dy = (y - l->cy) / l->ry, dz = (lv->z - l->cz) / l->rz;
        float rho = sqrtf (dx * dx + dy * dy + dz * dz);
        *rho_out = 0.0f;
        float extent = rho <= l->core ? 1.0f
                       : (rho >= 1.0f ? 0.0f
                          : 0.5f * (1.0f + cosf (PI_F * (rho - l->core) / (1.0f - l->core))));
        return coverage (lv, d) * extent;
      }
    case LESION_TUBE:
      {
        *rho_out = 0.0f;
        return coverage (lv, segment_distance3 (&l->seg, x, y, lv->z) - l->seg.r);
      }
    default:
      return 0.0f;
    }
}

/* Septal lines: 1 on a warped grid of spacing cell, fading over half a pixel. */
static float
septa (const Level *lv,
       float        cell,
       float        x,
       float        y)
{
  float wx = x + 0.3f * cell * sinf (y / cell * 2.1f + lv->z * 40.0f);
  float wy = y + 0.3f * cell * sinf (x / cell * 1.7f - lv->z * 30.0f);
  float gx = wx / cell, gy = wy / cell;
  float d = fminf (fabsf (gx - roundf (gx)), fabsf (gy - roundf (gy))) * cell;
  return clampf (1.0f - d / (0.6f * lv->px), 0.0f, 1.0f);
}

/* Blends a lesion into the lung: the lung part of a pixel rises toward the lesion's density
 * (never above it; denser tissue already there stays). The mask marks profile >= 0.5 where the
 * pixel is at least half lung. */
static void
paint_lesion (Level        *lv,
              const Lesion *l)
{
  float x0, x1, y0, y1, z0, z1;
  if (l->kind == LESION_TUBE)
    {
      const Seg *s = &l->seg;
      float r = s->r + 2.0f * lv->px;
      x0 = fminf (s->ax, s->bx) - r;
      x1 = fmaxf (s->ax, s->bx) + r;
      y0 = fminf (s->ay, s->by) - r;
      y1 = fmaxf (s->ay, s->by) + r;
      z0 = fminf (s->az, s->bz) - s->r;
      z1 = fmaxf (s->az, s->bz) + s->r;
    }
  else
    {
      float grow_by = l->kind == LESION_BLOB ? 1.6f : 1.0f;
      x0 = l->cx - grow_by * l->rx;
      x1 = l->cx + grow_by * l->rx;
      y0 = l->cy - grow_by * l->ry;
      y1 = l->cy + grow_by * l->ry;
      z0 = l->cz - grow_by * l->rz;
      z1 = l->cz + grow_by * l->rz;
    }
  if (lv->z < z0 || lv->z > z1)
    return;
  int i0, i1, j0, j1;
  level_range (lv, x0, x1, y0, y1, &i0, &i1, &j0, &j1);
  for (int i = i0; i < i1; i++)
    for (int j = j0; j < j1; j++)
      {
        size_t k = (size_t) i * lv->size + j;
        if (lv->lung[k] <= 0.0f)
          continue;
        float x, y, rho;
        level_point (lv, i, j, &x, &y);
        float s = lesion_profile (lv, l, x, y, &rho);
        if (s <= 0.0f)
          continue;
        float base = lv->base[k];
        float target = l->rise > 0.0f ? fmaxf (l->hu, base + l->rise) : l->hu;
        if (l->cons_frac > 0.0f && rho < l->cons_frac)
          target = l->cons_hu;
        float v = base + (target - base) * s;
        if (l->paving > 0.0f)
          v += l->paving * s * septa (lv, l->cell, x, y);
        if (l->retic > 0.0f)
          v += l->retic * s * septa (lv, l->cell, x, y);
        float raised = fminf (lv->hu[k] + lv->lung[k] * (v - base), v);
        lv->hu[k] = fmaxf (lv->hu[k], raised);
        if (l->in_mask && s >= 0.5f && lv->lung[k] >= 0.5f)
          lv->mask[k] = 1;
      }
}

/* Vertebra with discs, spinous process and canal; sternum; ribs as arcs in the chest wall
 * (each sloping down toward the front, so a level cuts it in an arc); scapulae behind the
 * upper ribs. */
static void
paint_bones (Level *lv)
{
  const NnSynthCt2 *ct = lv->ct;
  float u = lv->u, cay = lv->cavity.ay;
  float z_mm = u * ct->len_mm + ct->disc_phase;
  bool disc = fmodf (z_mm, 26.0f) < 5.0f;
  Ellipse shell = nn_synth_ellipse (0.0f, cay - 0.1f, 0.09f, 0.08f, 0.0f);
  Ellipse core = nn_synth_ellipse (shell.cx, shell.cy, shell.ax - 0.015f, shell.ay - 0.015f, 0.0f);
  paint_shape (lv, &shell, disc ? 90.0f : ct->cortex_hu);
  paint_shape (lv, &core, disc ? 80.0f : ct->marrow_hu);
  Ellipse process = nn_synth_ellipse (0.0f, shell.cy + shell.ay + 0.09f, 0.025f, 0.06f, 0.0f);
  paint_shape (lv, &process, 0.8f * ct->cortex_hu);
  Ellipse canal = nn_synth_ellipse (0.0f, shell.cy + shell.ay + 0.035f, 0.035f, 0.03f, 0.0f);
  paint_shape (lv, &canal, 15.0f);
  if (u > 0.02f && u < 0.85f)
    {
      Ellipse sternum = nn_synth_ellipse (0.0f, -cay - 0.02f, u < 0.25f ? 0.07f : 0.045f, 0.022f,
                                          0.0f);
      paint_shape (lv, &sternum, ct->rib_hu);
    }

  const float rt = 0.03f;
  float half_mm = 5.0f, slice_mm = (float) ct->info.slice_mm;
  float sh = smoothstep (0.45f, 0.0f, u);
  int i0, i1, j0, j1;
  float ex = lv->muscle.ax, ey = lv->muscle.ay + 0.05f;
  level_range (lv, -ex, ex, -ey, ey, &i0, &i1, &j0, &j1);
  for (int i = i0; i < i1; i++)
    for (int j = j0; j < j1; j++)
      {
        float x, y;
        level_point (lv, i, j, &x, &y);
        float dc = nn_synth_ellipse_distance (&lv->cavity, x, y);
        if (dc < -lv->px || dc > rt + 0.07f)
          continue;
        float phi = atan2f (fabsf (x), y) / PI_F;   /* 0 behind, 1 in front */
        float *p = lv->hu + (size_t) i * lv->size + j;
        float radial = coverage (lv, fabsf (dc - 0.5f * rt - 0.003f) - 0.5f * rt);
        if (radial > 0.0f && phi > 0.1f && phi < 0.93f)
          for (int r = 0; r < 12; r++)
            {
              float ur = ct->rib_u0 + (float) r * ct->rib_step
                         + ct->rib_drop * powf (phi, 1.5f);
              float dz_mm = fabsf (u - ur) * ct->len_mm;
              float a = clampf ((half_mm - dz_mm) / slice_mm + 0.5f, 0.0f, 1.0f) * radial;
              if (a <= 0.0f)
                continue;
              float value = phi > 0.8f ? 120.0f : ct->rib_hu;
              *p += (value - *p) * a;
            }
        /* The scapular blade: a thin plate behind the ribs, narrowing to its lower angle. */
        if (sh > 0.0f)
          {
            float lo = 0.22f + 0.08f * (1.0f - sh), hi = 0.3f + 0.22f * sh;
            float a = coverage (lv, fabsf (dc - rt - 0.03f) - 0.007f)
                      * clampf ((phi - lo) * 40.0f, 0.0f, 1.0f)
                      * clampf ((hi - phi) * 40.0f, 0.0f, 1.0f);
            *p += (ct->rib_hu - *p) * a;
          }
      }
}

/* ---- Simulated acquisition ---------------------------------------------------------------- */

/* HU -> attenuation -> pixel-driven parallel-beam projection -> Poisson counts -> log ->
 * Ram-Lak filter -> back-projection -> HU. Pixel-driven with tabled angles: about twenty
 * times faster than version 1's ray-driven projector, for the same geometry. */
static bool
scan_slice (int     size,
            float   photons,
            NnRng  *rng,
            float  *hu,
            NnError *err)
{
  int n_angles, n_bins;
  nn_synth_ct_geometry (size, &n_angles, &n_bins);
  size_t n = (size_t) size * size, ns = (size_t) n_angles * n_bins;
  float *mu = malloc (n * sizeof *mu);
  float *sino = calloc (ns, sizeof *sino);
  float *filtered = malloc (ns * sizeof *filtered);
  float *kernel = malloc ((size_t) n_bins * sizeof *kernel);
  float *cs = malloc ((size_t) n_angles * 2 * sizeof *cs);
  if (mu == NULL || sino == NULL || filtered == NULL || kernel == NULL || cs == NULL)
    {
      free (mu);
      free (sino);
      free (filtered);
      free (kernel);
      free (cs);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory simulating a %d px scan", size);
    }
  float mu_water = MU_WATER * FOV_MM / (float) size;
  for (size_t k = 0; k < n; k++)
    mu[k] = fmaxf (0.0f, mu_water * (1.0f + hu[k] / 1000.0f));
  for (int a = 0; a < n_angles; a++)
    {
      float theta = PI_F * (float) a / (float) n_angles;
      cs[2 * a] = cosf (theta);
      cs[2 * a + 1] = sinf (theta);
    }
  float half = 0.5f * (float) size, centre = 0.5f * (float) (n_bins - 1);
  for (int a = 0; a < n_angles; a++)
    {
      float c = cs[2 * a], s = cs[2 * a + 1];
      float *row = sino + (size_t) a * n_bins;
      for (int i = 0; i < size; i++)
        {
          float y = (float) i + 0.5f - half;
          float t = (0.5f - half) * c + y * s + centre;
          const float *m = mu + (size_t) i * size;
          for (int j = 0; j < size; j++, t += c)
            if (m[j] > 0.0f)
              {
                int b = (int) floorf (t);
                float f = t - (float) b;
                if (b >= 0 && b + 1 < n_bins)
                  {
                    row[b] += (1.0f - f) * m[j];
                    row[b + 1] += f * m[j];
                  }
              }
        }
    }
  for (size_t k = 0; k < ns; k++)
    {
      float counts = nn_rng_poisson (rng, photons * expf (-sino[k]));
      sino[k] = logf (photons / fmaxf (counts, 1.0f));
    }
  /* Ram-Lak on unit bins: h(0) = 1/4, h(n) = -1/(pi n)^2 for odd n, 0 for even n. */
  for (int d = 0; d < n_bins; d++)
    kernel[d] = d == 0 ? 0.25f : (d % 2 ? -1.0f / (PI_F * PI_F * (float) d * (float) d) : 0.0f);
  for (int a = 0; a < n_angles; a++)
    {
      const float *p = sino + (size_t) a * n_bins;
      float *q = filtered + (size_t) a * n_bins;
      for (int b = 0; b < n_bins; b++)
        {
          float acc = kernel[0] * p[b];
          for (int d = 1; d < n_bins; d += 2)
            {
              float v = (b - d >= 0 ? p[b - d] : 0.0f) + (b + d < n_bins ? p[b + d] : 0.0f);
              acc += kernel[d] * v;
            }
          q[b] = acc;
        }
    }
  memset (mu, 0, n * sizeof *mu);
  for (int a = 0; a < n_angles; a++)
    {
      float c = cs[2 * a], s = cs[2 * a + 1];
      const float *q = filtered + (size_t) a * n_bins;
      for (int i = 0; i < size; i++)
        {
          float y = (float) i + 0.5f - half;
          float t = (0.5f - half) * c + y * s + centre;
          float *m = mu + (size_t) i * size;
          for (int j = 0; j < size; j++, t += c)
            {
              int b = (int) floorf (t);
              float f = t - (float) b;
              if (b >= 0 && b + 1 < n_bins)
                m[j] += (1.0f - f) * q[b] + f * q[b + 1];
            }
        }
    }
  float dtheta = PI_F / (float) n_angles;
  for (size_t k = 0; k < n; k++)
    hu[k] = 1000.0f * (mu[k] * dtheta / mu_water - 1.0f);
  free (mu);
  free (sino);
  free (filtered);
  free (kernel);
  free (cs);
  return true;
}

/* ---- Slices and volumes ------------------------------------------------------------------- */

static uint64_t
slice_seed (uint64_t seed,
            int      k)
{
  return (seed ^ 0x5ca75ca7ull) * 0x9e3779b97f4a7c15ull + (uint64_t) k;
}

bool
nn_synth_ct2_slice (const NnSynthCt2 *ct,
                    int               k,
                    float            *hu,
                    unsigned char    *mask,
                    NnError          *err)
{
  NN_ASSERT (ct != NULL && hu != NULL && mask != NULL);
  NN_ASSERT (k >= 0 && k < ct->opt.n_slices);
  int size = ct->opt.size;
  size_t n = (size_t) size * size;
  Level lv = { .ct = ct, .size = size, .hu = hu, .mask = mask };
  lv.lung = malloc (n * sizeof *lv.lung);
  lv.base = malloc (n * sizeof *lv.base);
  if (lv.lung == NULL || lv.base == NULL)
    {
      free (lv.lung);
      free (lv.base);
      return nn_error_set (err, NN_ERROR_NOMEM, "out of memory for a %d px slice", size);
    }
  memset (mask, 0, n);
  lv.u = level_u (ct, k);
  lv.z = lv.u * ct->lm;
  lv.px = 2.0f / (float) size / ct->scale;
  level_outline (ct, lv.u, &lv.body, &lv.muscle, &lv.cavity);
  for (int s = 0; s < 2; s++)
    lv.lungs[s] = lung_ellipse (ct, s, lv.u);

  Organ organs[16];
  int n_organs = level_organs (&lv, organs);
  paint_body (&lv, organs, n_organs);
  for (int v = 0; v < ct->vessels.n; v++)
    paint_tube (&lv, ct->vessels.items + v, ct->vessels.items[v].r, ct->blood_hu, 0);
  for (int l = 0; l < ct->n_lesions; l++)
    if (ct->lesions[l].kind != LESION_TUBE)
      paint_lesion (&lv, ct->lesions + l);
  /* Airways after the lesions: air in a consolidation shows as air bronchograms. */
  for (int a = 0; a < ct->airways.n; a++)
    {
      const Seg *s = ct->airways.items + a;
      paint_tube (&lv, s, s->r, 20.0f, 1);
      paint_tube (&lv, s, 0.8f * s->r, -1000.0f, 2);
    }
  for (int l = 0; l < ct->n_lesions; l++)
    if (ct->lesions[l].kind == LESION_TUBE)
      paint_lesion (&lv, ct->lesions + l);
  paint_bones (&lv);
  free (lv.lung);
  free (lv.base);

  NnRng rng;
  nn_rng_init (&rng, slice_seed (ct->seed, k));
  if (ct->opt.acquisition)
    return scan_slice (size, ct->info.photons, &rng, hu, err);
  if (ct->opt.noise_hu > 0.0f)
    for (size_t p = 0; p < n; p++)
      hu[p] += ct->opt.noise_hu * nn_rng_normal (&rng);
  return true;
}

static int
level_slice (const NnSynthCt2 *ct,
             float             u)
{
  int n = ct->opt.n_slices;
  int k = (int) floorf ((U_BOT - u) / (U_BOT - U_TOP) * (float) n);
  return k < 0 ? 0 : (k >= n ? n - 1 : k);
}

int
nn_synth_ct2_pick_slice (const NnSynthCt2 *ct,
                         int               min_area,
                         float            *hu,
                         unsigned char    *mask,
                         NnError          *err)
{
  NN_ASSERT (ct != NULL && hu != NULL && mask != NULL);
  NnRng rng;
  nn_rng_init (&rng, ct->seed ^ 0x91c591c5ull);
  size_t n = (size_t) ct->opt.size * ct->opt.size;
  if (ct->cls == NN_SYNTH_CT2_HEALTHY)
    {
      /* Levels spread as the lesions' are: mostly the lower half of the lungs. */
      int k = level_slice (ct, 0.25f + 0.65f * sqrtf (nn_rng_uniform (&rng)));
      return nn_synth_ct2_slice (ct, k, hu, mask, err) ? k : -2;
    }
  int n_mask = 0;
  for (int l = 0; l < ct->n_lesions; l++)
    n_mask += ct->lesions[l].in_mask;
  for (int attempt = 0; attempt < 12 && n_mask > 0; attempt++)
    {
      int pick = (int) nn_rng_below (&rng, (uint32_t) n_mask), l = 0;
      for (; l < ct->n_lesions; l++)
        if (ct->lesions[l].in_mask && pick-- == 0)
          break;
      const Lesion *les = ct->lesions + l;
      float z = les->kind == LESION_TUBE ? 0.5f * (les->seg.az + les->seg.bz) : les->cz;
      if (les->kind == LESION_LOBE && les->rz > 1.0f)
        z = nn_rng_range (&rng, 0.3f, 0.9f) * ct->lm;
      float dz = les->kind == LESION_BLOB ? les->rz * nn_rng_range (&rng, -0.4f, 0.4f) : 0.0f;
      int k = level_slice (ct, (z + dz) / ct->lm);
      if (!nn_synth_ct2_slice (ct, k, hu, mask, err))
        return -2;
      size_t area = 0;
      for (size_t p = 0; p < n; p++)
        area += mask[p];
      if (area >= (size_t) min_area)
        return k;
    }
  return -1;
}

bool
nn_synth_ct2_volume (const NnSynthCt2 *ct,
                     NnVolume        **hu,
                     NnVolume        **mask,
                     NnError          *err)
{
  NN_ASSERT (ct != NULL && hu != NULL && mask != NULL);
  int size = ct->opt.size, nz = ct->opt.n_slices;
  size_t n = (size_t) size * size;
  *hu = nn_volume_new (size, size, nz);
  *mask = nn_volume_new (size, size, nz);
  unsigned char *bits = malloc (n);
  bool ok = *hu != NULL && *mask != NULL && bits != NULL;
  if (!ok)
    nn_error_set (err, NN_ERROR_NOMEM, "out of memory for a %d x %d x %d volume", size, size,
                  nz);
  for (int k = 0; k < nz && ok; k++)
    {
      ok = nn_synth_ct2_slice (ct, k, (*hu)->data + (size_t) k * n, bits, err);
      for (size_t p = 0; p < n && ok; p++)
        (*mask)->data[(size_t) k * n + p] = bits[p];
    }
  free (bits);
  if (!ok)
    {
      nn_volume_free (*hu);
      nn_volume_free (*mask);
      *hu = *mask = NULL;
      return false;
    }
  /* LPS voxels: i to the patient's left (-x in RAS), j posterior (-y), k superior (+z),
   * centred on the field and the covered levels. */
  double dxy = ct->info.pixel_mm, dz = ct->info.slice_mm;
  NnVolume *vols[2] = { *hu, *mask };
  for (int v = 0; v < 2; v++)
    {
      NnVolume *vol = vols[v];
      memset (vol->affine, 0, sizeof vol->affine);
      vol->affine[0][0] = -dxy;
      vol->affine[1][1] = -dxy;
      vol->affine[2][2] = dz;
      vol->affine[0][3] = 0.5 * (size - 1) * dxy;
      vol->affine[1][3] = 0.5 * (size - 1) * dxy;
      vol->affine[2][3] = -0.5 * (nz - 1) * dz;
      vol->affine[3][3] = 1.0;
      vol->spacing[0] = vol->spacing[1] = dxy;
      vol->spacing[2] = dz;
    }
  (*hu)->hu = true;
  return true;
}
