/* SPDX-License-Identifier: MIT */
/* Rotated ellipses, the outlines both synthetic chest CT generators draw bodies, lungs and
 * organs with (nn-synth-ct.c, nn-synth-ct2.c). Private to the data wing. */
#pragma once

#include <math.h>

typedef struct
{
  float cx, cy;
  float ax, ay;   /* semi-axes */
  float c, s;     /* cos and sin of the rotation */
} Ellipse;

static inline Ellipse
nn_synth_ellipse (float cx,
                  float cy,
                  float ax,
                  float ay,
                  float angle)
{
  Ellipse e = { cx, cy, ax, ay, cosf (angle), sinf (angle) };
  return e;
}

/* The elliptical radius of (x, y): 0 at the centre, 1 on the outline; a degenerate ellipse (a
 * semi-axis <= 0) is far from every point. */
static inline float
nn_synth_ellipse_radius (const Ellipse *e,
                         float          x,
                         float          y)
{
  float dx = x - e->cx, dy = y - e->cy;
  float u = dx * e->c + dy * e->s;
  float v = -dx * e->s + dy * e->c;
  if (e->ax <= 0.0f || e->ay <= 0.0f)
    return 1e9f;
  return sqrtf ((u / e->ax) * (u / e->ax) + (v / e->ay) * (v / e->ay));
}

/* Signed distance from (x, y) to the outline, negative inside, measured along the ray from the
 * centre (exact for circles, close enough for the mild ellipses drawn here); a degenerate
 * ellipse (a semi-axis <= 0) gives the distance to its centre. */
static inline float
nn_synth_ellipse_distance (const Ellipse *e,
                           float          x,
                           float          y)
{
  float dx = x - e->cx, dy = y - e->cy;
  float u = dx * e->c + dy * e->s;
  float v = -dx * e->s + dy * e->c;
  if (e->ax <= 0.0f || e->ay <= 0.0f)
    return sqrtf (u * u + v * v);
  float rho = sqrtf ((u / e->ax) * (u / e->ax) + (v / e->ay) * (v / e->ay));
  float r = sqrtf (u * u + v * v);
  if (rho < 1e-6f)
    return -fminf (e->ax, e->ay);
  return r * (1.0f - 1.0f / rho);
}
