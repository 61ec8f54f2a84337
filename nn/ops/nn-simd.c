/* SPDX-License-Identifier: MIT */
/* Chooses the kernels of nn-simd.h for the CPU once, from its features (or CNNSCOPE_SIMD). */
#include "ops/nn-simd.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

const NnSimdKernels *
nn_simd_variant (const char *name)
{
  if (strcmp (name, "default") == 0)
    return &nn_simd_kernels_default;
#if defined(__x86_64__)
  __builtin_cpu_init ();
  if (strcmp (name, "avx2") == 0 && __builtin_cpu_supports ("avx2"))
    return &nn_simd_kernels_avx2;
  if (strcmp (name, "avx512") == 0 && __builtin_cpu_supports ("avx512f"))
    return &nn_simd_kernels_avx512;
#endif
  return NULL;
}

static const NnSimdKernels *
choose (void)
{
  const char *want = getenv ("CNNSCOPE_SIMD");
  const NnSimdKernels *k = want != NULL ? nn_simd_variant (want) : NULL;
  if (k != NULL)
    return k;
  k = nn_simd_variant ("avx512");
  if (k == NULL)
    k = nn_simd_variant ("avx2");
  return k != NULL ? k : &nn_simd_kernels_default;
}

const NnSimdKernels *
nn_simd (void)
{
  /* Threads that race on the first call choose the same kernels. */
  static _Atomic (const NnSimdKernels *) chosen;
  const NnSimdKernels *k = atomic_load_explicit (&chosen, memory_order_acquire);
  if (k == NULL)
    {
      k = choose ();
      atomic_store_explicit (&chosen, k, memory_order_release);
    }
  return k;
}
