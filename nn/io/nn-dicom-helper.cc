/* SPDX-License-Identifier: MIT */
/* cnnscope-dicom: decodes DICOM slices and writes one reply for each, framed as nn-dicom-frame.h
 * says, on its standard output. nn-dicom-read.c runs it, so that GDCM aborting, looping or
 * exhausting memory on a hostile file ends this process only.
 * Usage: cnnscope-dicom [--limit-as BYTES] [--limit-cpu SECONDS] [--files N]
 * decodes standard input, or with --files the N files open as descriptors 3 to 2 + N. */
#include <cerrno>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/nn-dicom-decode.h"
#include "io/nn-dicom-frame.h"

/* Sanitizers reserve terabytes of address space for their shadow memory: no address space
 * limit then (the CPU and wall-clock limits still hold). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HELPER_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) \
  || __has_feature(memory_sanitizer)
#define HELPER_SANITIZED 1
#endif
#endif
#ifndef HELPER_SANITIZED
#define HELPER_SANITIZED 0
#endif

namespace {

bool
set_limit (int      resource,
           rlim_t   soft,
           rlim_t   hard)
{
  struct rlimit rl = { soft, hard };
  return setrlimit (resource, &rl) == 0;
}

/* The limits, set before a byte of any file is read; false if one cannot be set. The CPU time
 * limit is per file (cpu_limit_next), within a budget for all n_files. */
bool
apply_limits (unsigned long long address_space,
              unsigned long long cpu_seconds,
              unsigned long long n_files)
{
  bool ok = set_limit (RLIMIT_CORE, 0, 0) && set_limit (RLIMIT_FSIZE, 0, 0);
  if (cpu_seconds > 0)
    ok = ok && set_limit (RLIMIT_CPU, (rlim_t) cpu_seconds,
                          (rlim_t) (cpu_seconds * n_files + 1));
  if (address_space > 0 && !HELPER_SANITIZED)
    ok = ok && set_limit (RLIMIT_AS, (rlim_t) address_space, (rlim_t) address_space);
  /* A write past RLIMIT_FSIZE fails with EFBIG instead of ending the process. */
  signal (SIGXFSZ, SIG_IGN);
  /* No privileges to gain through exec, and gone when the reader that started it is. */
  prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  return ok;
}

/* Gives the next file cpu_seconds of CPU time from now (SIGXCPU ends the process after
 * that); the hard limit set by apply_limits stays. */
void
cpu_limit_next (unsigned long long cpu_seconds)
{
  struct rusage ru;
  struct rlimit rl;
  if (cpu_seconds == 0 || getrusage (RUSAGE_SELF, &ru) != 0 || getrlimit (RLIMIT_CPU, &rl) != 0)
    return;
  rlim_t used = (rlim_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1);
  rl.rlim_cur = used + (rlim_t) cpu_seconds;
  if (rl.rlim_cur > rl.rlim_max)
    rl.rlim_cur = rl.rlim_max;
  setrlimit (RLIMIT_CPU, &rl);
}

bool
parse_count (const char         *text,
             unsigned long long *out)
{
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull (text, &end, 10);
  if (end == text || *end != '\0' || errno != 0 || text[0] == '-')
    return false;
  *out = v;
  return true;
}

/* All of fd, at most max bytes; false when there is more or it cannot be read. */
bool
read_input (int          fd,
            std::string &bytes,
            size_t       max,
            NnError     *err)
{
  struct stat st;
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && (unsigned long long) st.st_size <= max)
    bytes.reserve ((size_t) st.st_size);
  char chunk[1 << 16];
  for (;;)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return nn_error_set (err, NN_ERROR_IO, "cannot read: %s", strerror (errno));
      if (n == 0)
        return true;
      if (bytes.size () + (size_t) n > max)
        return nn_error_set (err, NN_ERROR_UNSUPPORTED, "file of more than %zu bytes is too "
                             "large for a slice", max);
      bytes.append (chunk, (size_t) n);
    }
}

void
put_u32 (std::string &out,
         uint32_t     v)
{
  for (int i = 0; i < 4; i++)
    out.push_back ((char) (v >> (8 * i) & 0xff));
}

void
put_f64 (std::string &out,
         double       v)
{
  uint64_t bits;
  memcpy (&bits, &v, sizeof bits);
  for (int i = 0; i < 8; i++)
    out.push_back ((char) (bits >> (8 * i) & 0xff));
}

bool
write_all (const char *p,
           size_t      n)
{
  while (n > 0)
    {
      ssize_t w = write (1, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return false;
      p += w;
      n -= (size_t) w;
    }
  return true;
}

bool
reply_error (const NnError &err)
{
  std::string out (NN_DICOM_FRAME_MAGIC, 4);
  put_u32 (out, NN_DICOM_FRAME_VERSION);
  put_u32 (out, (uint32_t) (err.code != NN_ERROR_NONE ? err.code : NN_ERROR_FORMAT));
  size_t n = strnlen (err.message, NN_DICOM_FRAME_MAX_MESSAGE);
  put_u32 (out, (uint32_t) n);
  out.append (err.message, n);
  return write_all (out.data (), out.size ());
}

/* The slice, sent in pieces so that no second copy of the pixels is made. */
bool
reply_slice (const NnDicomDecoded &slice)
{
  std::string head (NN_DICOM_FRAME_MAGIC, 4);
  put_u32 (head, NN_DICOM_FRAME_VERSION);
  put_u32 (head, 0);
  put_u32 (head, (uint32_t) slice.rows);
  put_u32 (head, (uint32_t) slice.cols);
  put_f64 (head, slice.position);
  put_f64 (head, slice.instance);
  for (double v : slice.ipp)
    put_f64 (head, v);
  for (double v : slice.iop)
    put_f64 (head, v);
  for (double v : slice.spacing)
    put_f64 (head, v);
  put_f64 (head, slice.tilt);
  put_u32 (head, (uint32_t) slice.series_uid.size ());
  put_u32 (head, (uint32_t) slice.series_description.size ());
  head += slice.series_uid;
  head += slice.series_description;
  if (!write_all (head.data (), head.size ()))
    return false;
  unsigned char chunk[1 << 16];
  size_t fill = 0;
  for (float v : slice.hu)
    {
      uint32_t bits;
      memcpy (&bits, &v, sizeof bits);
      for (int i = 0; i < 4; i++)
        chunk[fill++] = (unsigned char) (bits >> (8 * i) & 0xff);
      if (fill == sizeof chunk)
        {
          if (!write_all (reinterpret_cast<const char *> (chunk), fill))
            return false;
          fill = 0;
        }
    }
  return write_all (reinterpret_cast<const char *> (chunk), fill);
}

}  // namespace

int
main (int    argc,
      char **argv)
{
  unsigned long long address_space = 0, cpu_seconds = 0, n_files = 0;
  for (int i = 1; i < argc; i += 2)
    {
      unsigned long long *target = strcmp (argv[i], "--limit-as") == 0 ? &address_space
                                   : strcmp (argv[i], "--limit-cpu") == 0 ? &cpu_seconds
                                   : strcmp (argv[i], "--files") == 0 ? &n_files
                                   : NULL;
      if (target == NULL || i + 1 >= argc || !parse_count (argv[i + 1], target)
          || n_files > 1024)
        {
          fprintf (stderr, "usage: %s [--limit-as BYTES] [--limit-cpu SECONDS] [--files N]\n",
                   argv[0]);
          return 2;
        }
    }
  if (!apply_limits (address_space, cpu_seconds, n_files > 0 ? n_files : 1))
    {
      fprintf (stderr, "%s: cannot set the resource limits: %s\n", argv[0], strerror (errno));
      return 1;
    }

  bool sent = true;
  for (unsigned long long k = 0; sent && k < (n_files > 0 ? n_files : 1); k++)
    {
      int fd = n_files > 0 ? 3 + (int) k : 0;
      cpu_limit_next (cpu_seconds);
      NnError err = { NN_ERROR_NONE, "" };
      NnDicomDecoded slice;
      bool ok;
      try
        {
          std::string bytes;
          ok = read_input (fd, bytes, NN_DICOM_MAX_FILE_BYTES, &err)
               && nn_dicom_decode (reinterpret_cast<const unsigned char *> (bytes.data ()),
                                   bytes.size (), &slice, &err);
        }
      catch (const std::bad_alloc &)
        {
          ok = nn_error_set (&err, NN_ERROR_NOMEM, "out of memory reading the file");
        }
      close (fd);
      sent = ok ? reply_slice (slice) : reply_error (err);
    }
  /* _exit: the process ends here; freeing what GDCM allocated would only cost time. */
  _exit (sent ? 0 : 1);
}
