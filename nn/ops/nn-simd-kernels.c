/* SPDX-License-Identifier: MIT */
/* The loops of nn-simd.h, compiled once per instruction set (nn/ops/meson.build defines
 * NN_SIMD_VARIANT and the -m flags) with floating-point contraction off, so that every variant
 * computes the same floats, only more of them per instruction. */
#include "ops/nn-simd.h"

#include <stdint.h>
#include <string.h>

#ifndef NN_SIMD_VARIANT
#error "nn-simd-kernels.c is built with -DNN_SIMD_VARIANT=<name> (nn/ops/meson.build)"
#endif

#define NN_SIMD_CAT_(a, b) a##b
#define NN_SIMD_CAT(a, b)  NN_SIMD_CAT_ (a, b)
#define NN_SIMD_STR_(a)    #a
#define NN_SIMD_STR(a)     NN_SIMD_STR_ (a)

static void
relu (float       *out,
      const float *in,
      size_t       n,
      float        slope)
{
  for (size_t i = 0; i < n; i++)
    out[i] = in[i] > 0.0f ? in[i] : slope * in[i];
}

/* e^x within a few ulp of expf, without branches or calls so that the loops vectorize:
 * x = n ln 2 + r with |r| <= ln 2 / 2, a degree-6 polynomial for e^r, and 2^n put into the
 * exponent bits. Below -87.3 it stays at e^-87.3 (the smallest normal float), above 88.4 it is
 * +inf; NaN stays NaN. */
static inline float
exp_poly (float x)
{
  const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
  x = x < -87.3f ? -87.3f : x;
  x = x > 89.0f ? 89.0f : x;
  const float t = x * 1.44269504f + magic;
  const float n = t - magic;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  uint32_t bits;
  memcpy (&bits, &t, sizeof bits);
  /* the low bits of t hold n + 2^22; unsigned, so that a NaN's bits shift without overflow
   * (y is NaN then, and so is the product) */
  const uint32_t e = (bits - 0x4b400000u + 127u) << 23;
  float scale;
  memcpy (&scale, &e, sizeof scale);
  return y * scale;
}

static void
sigmoid (float       *out,
         const float *in,
         size_t       n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = 1.0f / (1.0f + exp_poly (-in[i]));
}

static void
silu (float       *out,
      const float *in,
      size_t       n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = in[i] * (1.0f / (1.0f + exp_poly (-in[i])));
}

/* In place (out == a or b) is allowed: each element is read before it is written. */
static void
add (float       *out,
     const float *a,
     const float *b,
     size_t       n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = a[i] + b[i];
}

static void
accumulate (float       *d,
            const float *s,
            size_t       n)
{
  for (size_t i = 0; i < n; i++)
    d[i] += s[i];
}

/* In place (out == in) is allowed. */
static void
scale_shift (float       *out,
             const float *in,
             size_t       n,
             float        scale,
             float        shift)
{
  for (size_t i = 0; i < n; i++)
    out[i] = in[i] * scale + shift;
}

static void
relu_backward (float       *dinp,
               const float *dout,
               const float *in,
               size_t       n,
               float        slope)
{
  for (size_t i = 0; i < n; i++)
    dinp[i] += in[i] > 0.0f ? dout[i] : slope * dout[i];
}

const NnSimdKernels NN_SIMD_CAT (nn_simd_kernels_, NN_SIMD_VARIANT) = {
  .name = NN_SIMD_STR (NN_SIMD_VARIANT),
  .relu = relu,
  .sigmoid = sigmoid,
  .silu = silu,
  .add = add,
  .accumulate = accumulate,
  .scale_shift = scale_shift,
  .relu_backward = relu_backward,
};
