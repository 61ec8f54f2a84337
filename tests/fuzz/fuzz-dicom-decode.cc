/* SPDX-License-Identifier: MIT */
/* Fuzzes the decoding the cnnscope-dicom helper runs, here in-process: nn_dicom_decode's walk
 * of the file's structure (every declared length against the file size, VRs, delimiters), its
 * checks of the attributes and of compressed streams before GDCM decodes, and the conversion
 * to HU. An assert() inside GDCM, which is what the helper process contains, ends that input
 * only: it is counted and listed at exit, not reported as a crash. */
#include <assert.h>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>

#include <sanitizer/lsan_interface.h>
#include <sanitizer/allocator_interface.h>

#include "io/nn-dicom-decode.h"

namespace {

/* Where an input goes back to after a GDCM assert. */
sigjmp_buf assert_return;
bool       decoding;

/* The distinct asserts seen (file:line), and how many inputs each stopped. */
struct AssertSeen
{
  char          where[160];
  unsigned long count;
};
AssertSeen asserts_seen[64];
int        n_asserts_seen;
unsigned long n_asserted;

/* The blocks allocated during the current decode and not yet freed (an open-addressing set
 * with tombstones, and the slots it used): after an assert their owners are gone without
 * freeing them, and LeakSanitizer is told to ignore them. */
const size_t LIVE_CAP = 1 << 16;
const volatile void *const TOMBSTONE = (const volatile void *) 1;
const volatile void *live[LIVE_CAP];
size_t used[LIVE_CAP];
size_t n_used;
unsigned long n_untracked;

size_t
live_slot (const volatile void *ptr)
{
  return (size_t) (((uintptr_t) ptr >> 4) * 0x9e3779b97f4a7c15ull >> 48) & (LIVE_CAP - 1);
}

void
on_malloc (const volatile void *ptr,
           size_t               size)
{
  (void) size;
  if (!decoding || ptr == NULL)
    return;
  size_t i = live_slot (ptr);
  for (size_t probe = 0; probe < LIVE_CAP; probe++, i = (i + 1) & (LIVE_CAP - 1))
    if (live[i] == NULL || live[i] == TOMBSTONE)
      {
        if (live[i] == NULL)
          used[n_used++] = i;
        live[i] = ptr;
        return;
      }
  n_untracked++;
}

void
on_free (const volatile void *ptr)
{
  if (!decoding || ptr == NULL)
    return;
  size_t i = live_slot (ptr);
  for (size_t probe = 0; probe < LIVE_CAP && live[i] != NULL;
       probe++, i = (i + 1) & (LIVE_CAP - 1))
    if (live[i] == ptr)
      {
        live[i] = TOMBSTONE;
        return;
      }
}

void
live_clear (void)
{
  for (size_t k = 0; k < n_used; k++)
    live[used[k]] = NULL;
  n_used = 0;
}

void
live_ignore (void)
{
  for (size_t k = 0; k < n_used; k++)
    if (live[used[k]] != TOMBSTONE)
      __lsan_ignore_object ((const void *) live[used[k]]);
}

void
report (void)
{
  fprintf (stderr, "fuzz-dicom-decode: %lu inputs stopped by an assert in GDCM\n", n_asserted);
  if (n_untracked > 0)
    fprintf (stderr, "fuzz-dicom-decode: %lu allocations during decodes were not tracked\n",
             n_untracked);
  for (int i = 0; i < n_asserts_seen; i++)
    fprintf (stderr, "  %6lu  %s\n", asserts_seen[i].count, asserts_seen[i].where);
}

void
record_assert (const char  *file,
               unsigned int line)
{
  char where[160];
  snprintf (where, sizeof where, "%s:%u", file, line);
  n_asserted++;
  for (int i = 0; i < n_asserts_seen; i++)
    if (strcmp (asserts_seen[i].where, where) == 0)
      {
        asserts_seen[i].count++;
        return;
      }
  if (n_asserts_seen < (int) (sizeof asserts_seen / sizeof asserts_seen[0]))
    {
      snprintf (asserts_seen[n_asserts_seen].where, sizeof asserts_seen[0].where, "%s", where);
      asserts_seen[n_asserts_seen++].count = 1;
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize (int *argc, char ***argv);
extern "C" int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* glibc's assert() handler, replaced in this program: our code asserts through NN_ASSERT
 * (nn_assert_fail, which aborts), so an assert() during a decode is GDCM's (or one of the
 * codecs it bundles). Anywhere else it is a real failure. */
extern "C" void
__assert_fail (const char  *assertion,
               const char  *file,
               unsigned int line,
               const char  *function) noexcept
{
  if (!decoding)
    {
      fprintf (stderr, "%s:%u: %s: assertion '%s' failed\n", file, line, function, assertion);
      abort ();
    }
  decoding = false;
  record_assert (file, line);
  siglongjmp (assert_return, 1);
}

extern "C" int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  (void) argc;
  (void) argv;
  __sanitizer_install_malloc_and_free_hooks (on_malloc, on_free);
  atexit (report);
  return 0;
}

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* Static: a local would be indeterminate after the longjmp. */
  static NnDicomDecoded *out;
  static NnError err;
  out = new NnDicomDecoded ();
  err = NnError ();
  live_clear ();
  if (sigsetjmp (assert_return, 0) != 0)
    {
      /* GDCM stopped; what the decode allocated is unreachable now. */
      live_ignore ();
      __lsan_ignore_object (out);
      return 0;
    }
  decoding = true;
  bool ok = nn_dicom_decode (data, size, out, &err);
  decoding = false;
  if (ok)
    {
      if (out->rows < 1 || out->cols < 1
          || out->hu.size () != (size_t) out->rows * (size_t) out->cols)
        abort ();
    }
  else if (err.code == NN_ERROR_NONE || err.message[0] == '\0')
    {
      fprintf (stderr, "fuzz-dicom-decode: nn_dicom_decode failed without saying why\n");
      abort ();
    }
  delete out;
  return 0;
}
