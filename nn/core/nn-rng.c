/* SPDX-License-Identifier: MIT */
/* xoshiro128+ with splitmix64 seeding: small, fast, and reproducible on every platform. */
#include "core/nn-rng.h"

#include <math.h>

static uint64_t
splitmix64 (uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void
nn_rng_init (NnRng   *rng,
             uint64_t seed)
{
  uint64_t x = seed;
  uint64_t a = splitmix64 (&x);
  uint64_t b = splitmix64 (&x);
  rng->s[0] = (uint32_t) a;
  rng->s[1] = (uint32_t) (a >> 32);
  rng->s[2] = (uint32_t) b;
  rng->s[3] = (uint32_t) (b >> 32) | 1u;
  rng->has_spare = 0;
  rng->spare = 0.0f;
}

static inline uint32_t
rotl (uint32_t x,
      int      k)
{
  return (x << k) | (x >> (32 - k));
}

static uint32_t
nn_rng_u32 (NnRng *rng)
{
  uint32_t *s = rng->s;
  uint32_t result = s[0] + s[3];
  uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 11);
  return result;
}

float
nn_rng_uniform (NnRng *rng)
{
  return (float) (nn_rng_u32 (rng) >> 8) * (1.0f / 16777216.0f);
}

uint32_t
nn_rng_below (NnRng   *rng,
              uint32_t n)
{
  /* Lemire's multiply-shift; the bias for n << 2^32 is negligible for shuffling. */
  return (uint32_t) (((uint64_t) nn_rng_u32 (rng) * n) >> 32);
}

float
nn_rng_normal (NnRng *rng)
{
  if (rng->has_spare)
    {
      rng->has_spare = 0;
      return rng->spare;
    }
  float u1;
  do
    u1 = nn_rng_uniform (rng);
  while (u1 <= 1e-7f);
  float u2 = nn_rng_uniform (rng);
  float r = sqrtf (-2.0f * logf (u1));
  float t = 6.28318530718f * u2;
  rng->spare = r * sinf (t);
  rng->has_spare = 1;
  return r * cosf (t);
}

float
nn_rng_range (NnRng *rng,
              float  lo,
              float  hi)
{
  return lo + (hi - lo) * nn_rng_uniform (rng);
}

float
nn_rng_poisson (NnRng *rng,
                float  lambda)
{
  if (lambda > 30.0f)
    {
      float v = roundf (lambda + sqrtf (lambda) * nn_rng_normal (rng));
      return v < 0.0f ? 0.0f : v;
    }
  float limit = expf (-lambda), p = 1.0f;
  int k = 0;
  do
    {
      k++;
      p *= nn_rng_uniform (rng);
    }
  while (p > limit);
  return (float) (k - 1);
}

void
nn_rng_shuffle (NnRng *rng,
                int   *items,
                int    n)
{
  for (int i = n - 1; i > 0; i--)
    {
      int j = (int) nn_rng_below (rng, (uint32_t) i + 1);
      int t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
}
