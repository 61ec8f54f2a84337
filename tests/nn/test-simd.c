/* SPDX-License-Identifier: MIT */
/* The elementwise kernels of every instruction set this CPU runs (baseline, AVX2, AVX-512)
 * give the baseline's floats bit for bit, over lengths around every vector width, unaligned
 * starts, in place, and special values; the chosen variant is the widest the CPU runs. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "nn.h"
#include "ops/nn-simd.h"

#define MAX_N 200

/* Equal bits, or both NaN. */
static void
assert_same (const float *a,
             const float *b,
             size_t       n,
             const char  *what,
             const char  *variant)
{
  for (size_t i = 0; i < n; i++)
    if (!(isnan (a[i]) && isnan (b[i])) && memcmp (&a[i], &b[i], sizeof (float)) != 0)
      g_error ("%s (%s) differs from the baseline at %zu of %zu: %.9g against %.9g", what,
               variant, i, n, (double) b[i], (double) a[i]);
}

/* Values in [-100, 100] and every kind of special one. */
static void
fill (float *x,
      size_t n,
      GRand *rand)
{
  static const float special[] = { 0.0f, -0.0f, 1e-40f, -1e-40f, 87.0f, -87.0f, 88.5f, -88.5f,
                                   89.5f, -104.0f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN };
  for (size_t i = 0; i < n; i++)
    x[i] = g_rand_int_range (rand, 0, 5) == 0
           ? special[g_rand_int_range (rand, 0, G_N_ELEMENTS (special))]
           : (float) g_rand_double_range (rand, -100.0, 100.0);
}

/* Runs every kernel of k and of the baseline on the same inputs of n values starting at
 * offset `at` (unaligned), out of place and in place, and compares. */
static void
compare (const NnSimdKernels *k,
         size_t               n,
         size_t               at,
         GRand               *rand)
{
  const NnSimdKernels *base = &nn_simd_kernels_default;
  float a[MAX_N + 8], b[MAX_N + 8], want[MAX_N + 8], got[MAX_N + 8];
  fill (a, n + at, rand);
  fill (b, n + at, rand);
  const float *x = a + at, *y = b + at;
  const float slope = 0.01f * (float) g_rand_int_range (rand, 0, 50);

  base->relu (want, x, n, slope);
  k->relu (got, x, n, slope);
  assert_same (want, got, n, "relu", k->name);
  memcpy (got + at, x, sizeof (float) * n);
  k->relu (got + at, got + at, n, slope);
  assert_same (want, got + at, n, "relu in place", k->name);

  base->sigmoid (want, x, n);
  k->sigmoid (got, x, n);
  assert_same (want, got, n, "sigmoid", k->name);
  base->silu (want, x, n);
  k->silu (got, x, n);
  assert_same (want, got, n, "silu", k->name);
  memcpy (got + at, x, sizeof (float) * n);
  k->silu (got + at, got + at, n);
  assert_same (want, got + at, n, "silu in place", k->name);

  base->add (want, x, y, n);
  k->add (got, x, y, n);
  assert_same (want, got, n, "add", k->name);

  memcpy (want, y, sizeof (float) * n);
  memcpy (got, y, sizeof (float) * n);
  base->accumulate (want, x, n);
  k->accumulate (got, x, n);
  assert_same (want, got, n, "accumulate", k->name);

  base->scale_shift (want, x, n, 0.37f, -1.5f);
  k->scale_shift (got, x, n, 0.37f, -1.5f);
  assert_same (want, got, n, "scale_shift", k->name);

  memcpy (want, y, sizeof (float) * n);
  memcpy (got, y, sizeof (float) * n);
  base->relu_backward (want, y, x, n, slope);
  k->relu_backward (got, y, x, n, slope);
  assert_same (want, got, n, "relu_backward", k->name);
}

static void
test_variants_agree (void)
{
  static const char *const names[] = { "default", "avx2", "avx512" };
  GRand *rand = g_rand_new_with_seed (41);
  int ran = 0;
  for (size_t v = 0; v < G_N_ELEMENTS (names); v++)
    {
      const NnSimdKernels *k = nn_simd_variant (names[v]);
      if (k == NULL)
        {
          g_test_message ("%s: not run by this CPU or not built", names[v]);
          continue;
        }
      g_assert_cmpstr (k->name, ==, names[v]);
      ran++;
      for (size_t n = 0; n <= MAX_N; n += n < 70 ? 1 : 13)
        for (size_t at = 0; at < 4; at++)
          compare (k, n, at, rand);
    }
  g_assert_cmpint (ran, >=, 1);
  g_rand_free (rand);
}

/* Without CNNSCOPE_SIMD, the widest variant the CPU runs. */
static void
test_choice (void)
{
  if (g_getenv ("CNNSCOPE_SIMD") != NULL)
    {
      g_test_skip ("CNNSCOPE_SIMD is set");
      return;
    }
  const char *want = nn_simd_variant ("avx512") != NULL ? "avx512"
                     : nn_simd_variant ("avx2") != NULL ? "avx2" : "default";
  g_assert_cmpstr (nn_simd ()->name, ==, want);
  g_test_message ("kernels: %s", nn_simd ()->name);
}

/* CNNSCOPE_SIMD=default forces the baseline, a name the CPU does not know falls back to the
 * widest (each in a subprocess, since the choice is made at the first call). */
static void
test_forced (void)
{
  if (g_test_subprocess ())
    {
      const char *widest = nn_simd_variant ("avx512") != NULL ? "avx512"
                           : nn_simd_variant ("avx2") != NULL ? "avx2" : "default";
      const gboolean bogus = g_strcmp0 (g_getenv ("TEST_SIMD_BOGUS"), "1") == 0;
      g_setenv ("CNNSCOPE_SIMD", bogus ? "sse9" : "default", TRUE);
      g_assert_cmpstr (nn_simd ()->name, ==, bogus ? widest : "default");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_setenv ("TEST_SIMD_BOGUS", "1", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("TEST_SIMD_BOGUS");
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/simd/variants-agree", test_variants_agree);
  g_test_add_func ("/nn/simd/choice", test_choice);
  g_test_add_func ("/nn/simd/forced", test_forced);
  return g_test_run ();
}
