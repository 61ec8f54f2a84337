/* SPDX-License-Identifier: MIT */
/* The image side of an activation-maximization step: the parameterization (pixels, or a cosine
 * basis with decorrelated colour), the per-step transforms and their adjoints, the penalties. */
#include "explain/nn-am-private.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI_F 3.14159265358979f

/* The square root of the colour correlation of natural images (ImageNet), as Lucid and Lucent
 * use it to decorrelate colour; columns are scaled by the largest column norm. */
static const float colour_sqrt[9] = {
  0.26f, 0.09f, 0.02f,
  0.27f, 0.00f, -0.05f,
  0.27f, -0.09f, 0.03f,
};

static float *
dct_matrix (int N)
{
  float *d = malloc (sizeof (float) * (size_t) N * (size_t) N);
  if (d == NULL)
    return NULL;
  for (int k = 0; k < N; k++)
    {
      double alpha = k == 0 ? sqrt (1.0 / N) : sqrt (2.0 / N);
      for (int i = 0; i < N; i++)
        d[(size_t) k * N + i] = (float) (alpha * cos (M_PI * (2.0 * i + 1.0) * k / (2.0 * N)));
    }
  return d;
}

static void
invert3 (float       *inv,
         const float *m)
{
  double a = (double) m[0], b = (double) m[1], c = (double) m[2], d = (double) m[3],
         e = (double) m[4], f = (double) m[5], g = (double) m[6], h = (double) m[7],
         i = (double) m[8];
  double det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  inv[0] = (float) ((e * i - f * h) / det);
  inv[1] = (float) ((c * h - b * i) / det);
  inv[2] = (float) ((b * f - c * e) / det);
  inv[3] = (float) ((f * g - d * i) / det);
  inv[4] = (float) ((a * i - c * g) / det);
  inv[5] = (float) ((c * d - a * f) / det);
  inv[6] = (float) ((d * h - e * g) / det);
  inv[7] = (float) ((b * g - a * h) / det);
  inv[8] = (float) ((a * e - b * d) / det);
}

bool
nn_am_basis_init (NnAmRun *run)
{
  NnAmBasis *basis = &run->basis;
  const int H = run->ishape.h, W = run->ishape.w;
  basis->dct_h = dct_matrix (H);
  basis->dct_w = dct_matrix (W);
  basis->scale = malloc (sizeof (float) * (size_t) H * W);
  basis->tmp = malloc (sizeof (float) * (size_t) H * W);
  basis->tmp2 = malloc (sizeof (float) * (size_t) H * W);
  if (!basis->dct_h || !basis->dct_w || !basis->scale || !basis->tmp || !basis->tmp2)
    return false;
  /* Coefficient (ky, kx) has frequency sqrt ((ky / 2H)^2 + (kx / 2W)^2) cycles per pixel;
   * its scale is 1 / max (f, 1 / max (H, W)), normalized to a mean square of 1 so that white
   * coefficients give pixels of the same energy. */
  const double fmin = 1.0 / (H > W ? H : W);
  double sum = 0.0;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        double fy = y / (2.0 * H), fx = x / (2.0 * W);
        double f = sqrt (fy * fy + fx * fx);
        double s = 1.0 / (f > fmin ? f : fmin);
        basis->scale[(size_t) y * W + x] = (float) s;
        sum += s * s;
      }
  float norm = (float) sqrt (sum / ((double) H * W));
  for (size_t i = 0; i < (size_t) H * W; i++)
    basis->scale[i] /= norm;
  float most = 0.0f;
  for (int col = 0; col < 3; col++)
    {
      float s = 0.0f;
      for (int row = 0; row < 3; row++)
        s += colour_sqrt[row * 3 + col] * colour_sqrt[row * 3 + col];
      most = sqrtf (s) > most ? sqrtf (s) : most;
    }
  for (int k = 0; k < 9; k++)
    basis->colour[k] = colour_sqrt[k] / most;
  invert3 (basis->colour_inv, basis->colour);
  return true;
}

void
nn_am_basis_free (NnAmBasis *basis)
{
  free (basis->dct_h);
  free (basis->dct_w);
  free (basis->scale);
  free (basis->tmp);
  free (basis->tmp2);
}

/* out (H, W) = Dh^T in Dw (inverse 2-D DCT) or Dh in Dw^T (forward), through tmp. */
static void
dct2 (const NnAmBasis *basis,
      float           *out,
      const float     *in,
      int              H,
      int              W,
      bool             inverse)
{
  cblas_sgemm (CblasRowMajor, inverse ? CblasTrans : CblasNoTrans, CblasNoTrans, H, W, H, 1.0f,
               basis->dct_h, H, in, W, 0.0f, basis->tmp2, W);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, inverse ? CblasNoTrans : CblasTrans, H, W, W, 1.0f,
               basis->tmp2, W, basis->dct_w, W, 0.0f, out, W);
}

static inline float
sigmoid (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

/* Fourier: y_c = idct (scale * p_c), z = colour y (RGB) or y (gray), pixel = sigmoid (z),
 * image = (pixel - mean) / std. The decorrelated y of the current step stays in gimage's
 * place only transiently; z is recomputed in the backward pass. */
static void
render_fourier (NnAmRun *run,
                int      b,
                float   *z)
{
  const int C = run->ishape.c, H = run->ishape.h, W = run->ishape.w;
  const size_t hw = (size_t) H * W;
  const float *p = run->params + (size_t) b * run->n;
  NnAmBasis *basis = &run->basis;
  float *y = run->tmp;
  for (int c = 0; c < C; c++)
    {
      for (size_t i = 0; i < hw; i++)
        basis->tmp[i] = p[c * hw + i] * basis->scale[i];
      dct2 (basis, y + c * hw, basis->tmp, H, W, true);
    }
  if (C == 3)
    for (size_t i = 0; i < hw; i++)
      for (int r = 0; r < 3; r++)
        z[r * hw + i] = basis->colour[r * 3 + 0] * y[i] + basis->colour[r * 3 + 1] * y[hw + i]
                        + basis->colour[r * 3 + 2] * y[2 * hw + i];
  else
    memcpy (z, y, sizeof (float) * run->n);
}

void
nn_am_render (NnAmRun *run)
{
  if (run->settings.param == NN_AM_PARAM_PIXELS)
    {
      memcpy (run->image, run->params, sizeof (float) * run->n * (size_t) run->items);
      return;
    }
  const size_t hw = (size_t) run->ishape.h * run->ishape.w;
  for (int b = 0; b < run->items; b++)
    {
      float *img = run->image + (size_t) b * run->n;
      render_fourier (run, b, img);
      for (int c = 0; c < run->ishape.c; c++)
        for (size_t i = 0; i < hw; i++)
          img[c * hw + i] = (sigmoid (img[c * hw + i]) - run->model->mean[c])
                            / run->model->std[c];
    }
}

void
nn_am_render_backward (NnAmRun *run)
{
  if (run->settings.param == NN_AM_PARAM_PIXELS)
    {
      memcpy (run->gparams, run->gimage, sizeof (float) * run->n * (size_t) run->items);
      return;
    }
  const int C = run->ishape.c, H = run->ishape.h, W = run->ishape.w;
  const size_t hw = (size_t) H * W;
  NnAmBasis *basis = &run->basis;
  for (int b = 0; b < run->items; b++)
    {
      const float *img = run->image + (size_t) b * run->n;
      const float *gimg = run->gimage + (size_t) b * run->n;
      float *gp = run->gparams + (size_t) b * run->n;
      /* d pixel = d image / std; d z = d pixel s (1 - s) with s the pixel itself. */
      for (int c = 0; c < C; c++)
        for (size_t i = 0; i < hw; i++)
          {
            float s = img[c * hw + i] * run->model->std[c] + run->model->mean[c];
            gp[c * hw + i] = gimg[c * hw + i] / run->model->std[c] * s * (1.0f - s);
          }
      /* d y = colour^T d z */
      float *gy = run->tmp;
      if (C == 3)
        for (size_t i = 0; i < hw; i++)
          for (int col = 0; col < 3; col++)
            gy[col * hw + i] = basis->colour[0 * 3 + col] * gp[i]
                               + basis->colour[1 * 3 + col] * gp[hw + i]
                               + basis->colour[2 * 3 + col] * gp[2 * hw + i];
      else
        memcpy (gy, gp, sizeof (float) * run->n);
      /* d p = scale * dct (d y): the adjoint of an orthonormal inverse DCT is the DCT. */
      for (int c = 0; c < C; c++)
        {
          dct2 (basis, gp + c * hw, gy + c * hw, H, W, false);
          for (size_t i = 0; i < hw; i++)
            gp[c * hw + i] *= basis->scale[i];
        }
    }
}

static inline float
logit (float p)
{
  p = p < 1e-3f ? 1e-3f : p > 1.0f - 1e-3f ? 1.0f - 1e-3f : p;
  return logf (p / (1.0f - p));
}

void
nn_am_params_from_image (NnAmRun     *run,
                         int          b,
                         const float *image)
{
  const int C = run->ishape.c, H = run->ishape.h, W = run->ishape.w;
  const size_t hw = (size_t) H * W;
  float *p = run->params + (size_t) b * run->n;
  if (run->settings.param == NN_AM_PARAM_PIXELS)
    {
      for (int c = 0; c < C; c++)
        for (size_t i = 0; i < hw; i++)
          {
            float v = image[c * hw + i];
            p[c * hw + i] = v < run->lo[c] ? run->lo[c] : v > run->hi[c] ? run->hi[c] : v;
          }
      return;
    }
  NnAmBasis *basis = &run->basis;
  float *z = run->tmp;
  for (int c = 0; c < C; c++)
    for (size_t i = 0; i < hw; i++)
      z[c * hw + i] = logit (image[c * hw + i] * run->model->std[c] + run->model->mean[c]);
  float *y = p;
  if (C == 3)
    for (size_t i = 0; i < hw; i++)
      for (int r = 0; r < 3; r++)
        y[r * hw + i] = basis->colour_inv[r * 3 + 0] * z[i]
                        + basis->colour_inv[r * 3 + 1] * z[hw + i]
                        + basis->colour_inv[r * 3 + 2] * z[2 * hw + i];
  else
    memcpy (y, z, sizeof (float) * run->n);
  for (int c = 0; c < C; c++)
    {
      memcpy (run->tmp, y + c * hw, sizeof (float) * hw);
      dct2 (basis, p + c * hw, run->tmp, H, W, false);
      for (size_t i = 0; i < hw; i++)
        p[c * hw + i] /= basis->scale[i];
    }
}

/* Bilinear sampling of one channel at the affine positions; outside the image the value is 0
 * (the normalized dataset mean). With adjoint, scatters gout back into gimg instead. */
static void
affine_channel (float            *out,
                const float      *img,
                float            *gimg,
                const float      *gout,
                const NnAmAffine *t,
                int               H,
                int               W)
{
  const float cy = 0.5f * (float) (H - 1), cx = 0.5f * (float) (W - 1);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        float dy = (float) y - cy - t->ty, dx = (float) x - cx - t->tx;
        float sy = cy + t->a * dy + t->b * dx, sx = cx + t->c * dy + t->d * dx;
        float fy = floorf (sy), fx = floorf (sx);
        int y0 = (int) fy, x0 = (int) fx;
        float wy = sy - fy, wx = sx - fx;
        float v = 0.0f;
        const float g = gout ? gout[(size_t) y * W + x] : 0.0f;
        for (int k = 0; k < 4; k++)
          {
            int yy = y0 + (k >> 1), xx = x0 + (k & 1);
            if (yy < 0 || yy >= H || xx < 0 || xx >= W)
              continue;
            float w = ((k >> 1) ? wy : 1.0f - wy) * ((k & 1) ? wx : 1.0f - wx);
            if (gimg)
              gimg[(size_t) yy * W + xx] += w * g;
            else
              v += w * img[(size_t) yy * W + xx];
          }
        if (out)
          out[(size_t) y * W + x] = v;
      }
}

/* Separable Gaussian blur with zero padding: a symmetric matrix, so it is its own adjoint.
 * buf (H, W) is overwritten in place through tmp. */
static void
blur_channel (float       *buf,
              float       *tmp,
              const float *kernel,
              int          radius,
              int          H,
              int          W)
{
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        float s = 0.0f;
        for (int k = -radius; k <= radius; k++)
          if (x + k >= 0 && x + k < W)
            s += kernel[k + radius] * buf[(size_t) y * W + x + k];
        tmp[(size_t) y * W + x] = s;
      }
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        float s = 0.0f;
        for (int k = -radius; k <= radius; k++)
          if (y + k >= 0 && y + k < H)
            s += kernel[k + radius] * tmp[(size_t) (y + k) * W + x];
        buf[(size_t) y * W + x] = s;
      }
}

static bool
has_affine (unsigned transforms)
{
  return (transforms & (NN_AM_TRANSFORM_PAD | NN_AM_TRANSFORM_JITTER | NN_AM_TRANSFORM_SCALE
                        | NN_AM_TRANSFORM_ROTATE)) != 0;
}

static float
symmetric (NnRng *rng)
{
  return 2.0f * nn_rng_uniform (rng) - 1.0f;
}

void
nn_am_transform (NnAmRun *run,
                 NnRng   *rng,
                 float   *inp)
{
  const NnAmSettings *s = &run->settings;
  const int C = run->ishape.c, H = run->ishape.h, W = run->ishape.w;
  const size_t hw = (size_t) H * W;
  const int side = H > W ? H : W;
  for (int b = 0; b < run->items; b++)
    {
      /* Source positions: the inverse of shrink (pad), scale, rotate, then the shift. */
      float zoom = 1.0f, angle = 0.0f, ty = 0.0f, tx = 0.0f;
      if (s->transforms & NN_AM_TRANSFORM_PAD)
        zoom *= (float) side / (float) (side + 2 * s->pad);
      if (s->transforms & NN_AM_TRANSFORM_SCALE)
        zoom *= 1.0f + s->scale * symmetric (rng);
      if (s->transforms & NN_AM_TRANSFORM_ROTATE)
        angle = s->rotate * PI_F / 180.0f * symmetric (rng);
      if (s->transforms & NN_AM_TRANSFORM_JITTER)
        {
          ty = (float) s->jitter * symmetric (rng);
          tx = (float) s->jitter * symmetric (rng);
        }
      float co = cosf (angle) / zoom, si = sinf (angle) / zoom;
      run->affine[b] = (NnAmAffine) { .a = co, .b = -si, .c = si, .d = co, .ty = ty, .tx = tx };
      const float *img = run->image + (size_t) b * run->n;
      float *out = inp + (size_t) b * run->n;
      for (int c = 0; c < C; c++)
        {
          if (has_affine (s->transforms))
            affine_channel (out + c * hw, img + c * hw, NULL, NULL, &run->affine[b], H, W);
          else
            memcpy (out + c * hw, img + c * hw, sizeof (float) * hw);
          if (s->transforms & NN_AM_TRANSFORM_BLUR)
            blur_channel (out + c * hw, run->tmp, run->blur_kernel, run->blur_radius, H, W);
        }
    }
}

void
nn_am_transform_backward (NnAmRun     *run,
                          const float *gin)
{
  const NnAmSettings *s = &run->settings;
  const int C = run->ishape.c, H = run->ishape.h, W = run->ishape.w;
  const size_t hw = (size_t) H * W;
  float *g = run->tmp + hw;
  for (int b = 0; b < run->items; b++)
    for (int c = 0; c < C; c++)
      {
        const size_t at = (size_t) b * run->n + (size_t) c * hw;
        memcpy (g, gin + at, sizeof (float) * hw);
        if (s->transforms & NN_AM_TRANSFORM_BLUR)
          blur_channel (g, run->tmp, run->blur_kernel, run->blur_radius, H, W);
        if (has_affine (s->transforms))
          affine_channel (NULL, NULL, run->gimage + at, g, &run->affine[b], H, W);
        else
          for (size_t i = 0; i < hw; i++)
            run->gimage[at + i] += g[i];
      }
}

static inline float
signf (float x)
{
  return (float) ((x > 0.0f) - (x < 0.0f));
}

float
nn_am_penalty (NnAmRun *run,
               int      b)
{
  const NnAmSettings *s = &run->settings;
  const int C = run->ishape.c, H = run->ishape.h, W = run->ishape.w;
  const float *x = run->image + (size_t) b * run->n;
  float *g = run->gimage + (size_t) b * run->n;
  const float inv_n = 1.0f / (float) run->n;
  double penalty = 0.0;
  if (s->l2 > 0.0f)
    /* l2 mean (x^2): gradient 2 l2 x / n */
    for (size_t i = 0; i < run->n; i++)
      {
        penalty += (double) (s->l2 * x[i] * x[i] * inv_n);
        g[i] -= 2.0f * s->l2 * x[i] * inv_n;
      }
  if (s->tv > 0.0f)
    /* tv mean over pixels of |x(y, x+1) - x(y, x)| + |x(y+1, x) - x(y, x)| */
    for (int c = 0; c < C; c++)
      for (int y = 0; y < H; y++)
        for (int xx = 0; xx < W; xx++)
          {
            size_t i = ((size_t) c * H + y) * W + xx;
            if (xx + 1 < W)
              {
                float d = x[i + 1] - x[i];
                penalty += (double) (s->tv * fabsf (d) * inv_n);
                g[i + 1] -= s->tv * signf (d) * inv_n;
                g[i] += s->tv * signf (d) * inv_n;
              }
            if (y + 1 < H)
              {
                float d = x[i + W] - x[i];
                penalty += (double) (s->tv * fabsf (d) * inv_n);
                g[i + W] -= s->tv * signf (d) * inv_n;
                g[i] += s->tv * signf (d) * inv_n;
              }
          }
  return (float) penalty;
}
