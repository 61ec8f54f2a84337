/* SPDX-License-Identifier: MIT */
/* Our elementwise loops (activations, sums, batch norm's scale and shift) built once per x86-64
 * instruction set (nn-simd-kernels.c: baseline, AVX2, AVX-512) with the widest the CPU runs
 * chosen once; one plain build elsewhere. Every variant gives the same floats. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct
{
  const char *name;  /* "default", "avx2", "avx512" */
  /* out = x > 0 ? x : slope x (PyTorch's leaky ReLU; slope 0: ReLU) */
  void (*relu) (float *out, const float *in, size_t n, float slope);
  /* out = 1 / (1 + e^-x), and x / (1 + e^-x), e^x by a polynomial within a few ulp of expf */
  void (*sigmoid) (float *out, const float *in, size_t n);
  void (*silu) (float *out, const float *in, size_t n);
  /* out = a + b */
  void (*add) (float *out, const float *a, const float *b, size_t n);
  /* d += s */
  void (*accumulate) (float *d, const float *s, size_t n);
  /* out = x scale + shift */
  void (*scale_shift) (float *out, const float *in, size_t n, float scale, float shift);
  /* dinp += x > 0 ? dout : slope dout */
  void (*relu_backward) (float *dinp, const float *dout, const float *in, size_t n,
                         float slope);
} NnSimdKernels;

/* The variants, each built from nn-simd-kernels.c. */
extern const NnSimdKernels nn_simd_kernels_default;
#if defined(__x86_64__)
extern const NnSimdKernels nn_simd_kernels_avx2;
extern const NnSimdKernels nn_simd_kernels_avx512;
#endif

/* The kernels for this CPU: AVX-512 (avx512f) where it has it, else AVX2, else the baseline;
 * chosen at the first call. CNNSCOPE_SIMD=default, avx2 or avx512 in the environment (read at
 * that call; for tests and measurements) asks for one, which is taken only when the CPU runs
 * it. */
const NnSimdKernels *nn_simd (void);

/* The named variant, or NULL when it was not built or the CPU does not run it. */
const NnSimdKernels *nn_simd_variant (const char *name);
