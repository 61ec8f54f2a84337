/* SPDX-License-Identifier: MIT */
/* Reading DICOM slices and series without trusting GDCM with the application: each file is
 * opened here (regular files only) and handed as standard input to the cnnscope-dicom helper,
 * run with posix_spawn under resource limits, whose framed reply is checked before it is
 * believed. A helper that aborts, loops, runs out of memory or babbles gives an NnError. */
#include "core/nn-shipped.h"
#include "io/nn-dicom.h"
#include "io/nn-dicom-frame.h"
#include "io/nn-dicom-private.h"
#include "io/nn-file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nn-config.h"

extern char **environ;

/* Everything the helper writes on standard error beyond this is dropped. */
#define STDERR_KEEP 4096

/* ---- The reply ---------------------------------------------------------------------------- */

static uint32_t
get_u32 (const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static double
get_f64 (const unsigned char *p)
{
  uint64_t bits = 0;
  for (int i = 0; i < 8; i++)
    bits |= (uint64_t) p[i] << (8 * i);
  double v;
  memcpy (&v, &bits, sizeof v);
  return v;
}

NnDicomSlice
nn_dicom_slice_empty (void)
{
  NnDicomSlice s = { .image = NULL, .position = (double) NAN, .instance = (double) NAN,
                     .tilt = (double) NAN };
  for (int i = 0; i < 3; i++)
    s.ipp[i] = (double) NAN;
  for (int i = 0; i < 6; i++)
    s.iop[i] = (double) NAN;
  s.spacing[0] = s.spacing[1] = (double) NAN;
  return s;
}

/* v when finite, else NaN (the reply may carry infinities). */
static double
finite_or_nan (double v)
{
  return isfinite (v) ? v : (double) NAN;
}

static bool
reply_fail (NnError    *err,
            const char *path,
            const char *why)
{
  return nn_error_set (err, NN_ERROR_FORMAT, "%s: the DICOM decoder's reply is malformed (%s)",
                       path, why);
}

bool
nn_dicom_reply_parse (const unsigned char *bytes,
                      size_t               size,
                      const char          *path,
                      NnDicomSlice        *out,
                      NnError             *err)
{
  NN_ASSERT ((bytes != NULL || size == 0) && path != NULL && out != NULL);
  *out = nn_dicom_slice_empty ();
  if (size < NN_DICOM_FRAME_HEAD)
    return reply_fail (err, path, size == 0 ? "empty" : "cut short");
  if (memcmp (bytes, NN_DICOM_FRAME_MAGIC, 4) != 0
      || get_u32 (bytes + 4) != NN_DICOM_FRAME_VERSION)
    return reply_fail (err, path, "unknown format");
  uint32_t code = get_u32 (bytes + 8);
  if (code != 0)
    {
      if (code > NN_ERROR_NUMERIC)
        return reply_fail (err, path, "unknown error code");
      if (size < NN_DICOM_FRAME_HEAD + 4)
        return reply_fail (err, path, "cut short");
      uint32_t n = get_u32 (bytes + NN_DICOM_FRAME_HEAD);
      if (n > NN_DICOM_FRAME_MAX_MESSAGE || size != NN_DICOM_FRAME_HEAD + 4 + (size_t) n)
        return reply_fail (err, path, "bad message length");
      /* Printable ASCII only: the message may quote the file. */
      char message[NN_DICOM_FRAME_MAX_MESSAGE + 1];
      const unsigned char *m = bytes + NN_DICOM_FRAME_HEAD + 4;
      for (uint32_t i = 0; i < n; i++)
        message[i] = m[i] >= 0x20 && m[i] < 0x7f ? (char) m[i] : '?';
      message[n] = '\0';
      return nn_error_set (err, (NnErrorCode) code, "%s: %s", path,
                           n > 0 ? message : "cannot decode the slice");
    }
  if (size < NN_DICOM_FRAME_SLICE_HEAD)
    return reply_fail (err, path, "cut short");
  uint32_t rows = get_u32 (bytes + 12), cols = get_u32 (bytes + 16);
  if (rows < 1 || cols < 1 || rows > NN_IMAGE_MAX_SIDE || cols > NN_IMAGE_MAX_SIDE
      || (uint64_t) rows * cols > NN_IMAGE_MAX_PIXELS)
    return reply_fail (err, path, "slice size out of range");
  size_t count = (size_t) rows * cols;
  uint32_t n_uid = get_u32 (bytes + NN_DICOM_FRAME_SLICE_HEAD - 8);
  if (n_uid > NN_DICOM_FRAME_MAX_UID)
    return reply_fail (err, path, "bad series UID length");
  uint32_t n_desc = get_u32 (bytes + NN_DICOM_FRAME_SLICE_HEAD - 4);
  if (n_desc > NN_DICOM_FRAME_MAX_DESCRIPTION)
    return reply_fail (err, path, "bad series description length");
  if (size != NN_DICOM_FRAME_SLICE_HEAD + n_uid + n_desc + 4 * count)
    return reply_fail (err, path, "length does not match the slice size");
  const unsigned char *uid = bytes + NN_DICOM_FRAME_SLICE_HEAD;
  for (uint32_t i = 0; i < n_uid; i++)
    if (!((uid[i] >= '0' && uid[i] <= '9') || uid[i] == '.'))
      return reply_fail (err, path, "bad series UID");
  const unsigned char *desc = uid + n_uid;
  for (uint32_t i = 0; i < n_desc; i++)
    if (!(desc[i] >= 0x20 && desc[i] < 0x7f))
      return reply_fail (err, path, "bad series description");
  double position = get_f64 (bytes + 20), instance = get_f64 (bytes + 28);
  NnImage *image = nn_image_new (1, (int) rows, (int) cols);
  if (image == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory for a %u x %u slice", path,
                         rows, cols);
  const unsigned char *p = bytes + NN_DICOM_FRAME_SLICE_HEAD + n_uid + n_desc;
  for (size_t i = 0; i < count; i++)
    {
      uint32_t bits = get_u32 (p + 4 * i);
      float v;
      memcpy (&v, &bits, sizeof v);
      if (!isfinite (v))
        {
          nn_image_free (image);
          return nn_error_set (err, NN_ERROR_NUMERIC, "%s: the slice holds a value that is not "
                               "a finite number of Hounsfield units", path);
        }
      image->data[i] = v;
    }
  image->hu = true;
  image->bit_depth = 16;
  out->image = image;
  out->position = finite_or_nan (position);
  out->instance = finite_or_nan (instance);
  for (int i = 0; i < 3; i++)
    out->ipp[i] = finite_or_nan (get_f64 (bytes + 36 + 8 * i));
  for (int i = 0; i < 6; i++)
    out->iop[i] = finite_or_nan (get_f64 (bytes + 60 + 8 * i));
  for (int i = 0; i < 2; i++)
    out->spacing[i] = finite_or_nan (get_f64 (bytes + 108 + 8 * i));
  out->tilt = finite_or_nan (get_f64 (bytes + 124));
  memcpy (out->series_uid, uid, n_uid);
  out->series_uid[n_uid] = '\0';
  memcpy (out->series_description, desc, n_desc);
  out->series_description[n_desc] = '\0';
  return true;
}

/* ---- Running the helper ------------------------------------------------------------------- */

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The bytes the helper has sent and not yet consumed; at most one reply and a read more. */
typedef struct
{
  unsigned char *data;
  size_t         start;  /* of the first unconsumed byte */
  size_t         size;   /* end of the data */
  size_t         cap;
} Buffer;

#define READ_CHUNK ((size_t) 1 << 16)

/* Appends what fd has to buf (growing it up to max unconsumed bytes); 1 when something was
 * read or nothing was ready, 0 at end of file, -1 on an error or when more than max bytes
 * would be waiting. */
static int
buffer_read (Buffer *buf,
             int     fd,
             size_t  max)
{
  if (buf->start > 0 && buf->start == buf->size)
    buf->start = buf->size = 0;
  if (buf->size - buf->start > max)
    return -1;
  if (buf->cap - buf->size < READ_CHUNK)
    {
      if (buf->start > 0)
        {
          memmove (buf->data, buf->data + buf->start, buf->size - buf->start);
          buf->size -= buf->start;
          buf->start = 0;
        }
      if (buf->cap - buf->size < READ_CHUNK)
        {
          size_t cap = buf->cap > 0 ? buf->cap : READ_CHUNK * 2;
          while (cap - buf->size < READ_CHUNK)
            cap *= 2;
          unsigned char *grown = realloc (buf->data, cap);
          if (grown == NULL)
            return -1;
          buf->data = grown;
          buf->cap = cap;
        }
    }
  ssize_t n = read (fd, buf->data + buf->size, READ_CHUNK);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 1;
  if (n < 0)
    return -1;
  buf->size += (size_t) n;
  return n > 0;
}

size_t
nn_dicom_reply_length (const unsigned char *bytes,
                       size_t               size)
{
  if (size < NN_DICOM_FRAME_HEAD)
    return 0;
  if (memcmp (bytes, NN_DICOM_FRAME_MAGIC, 4) != 0
      || get_u32 (bytes + 4) != NN_DICOM_FRAME_VERSION)
    return NN_DICOM_FRAME_HEAD;
  if (get_u32 (bytes + 8) != 0)
    {
      if (size < NN_DICOM_FRAME_HEAD + 4)
        return 0;
      uint32_t n = get_u32 (bytes + NN_DICOM_FRAME_HEAD);
      return NN_DICOM_FRAME_HEAD + 4 + (n <= NN_DICOM_FRAME_MAX_MESSAGE ? n : 0);
    }
  if (size < NN_DICOM_FRAME_SLICE_HEAD)
    return 0;
  uint64_t count = (uint64_t) get_u32 (bytes + 12) * get_u32 (bytes + 16);
  uint32_t n_uid = get_u32 (bytes + NN_DICOM_FRAME_SLICE_HEAD - 8);
  uint32_t n_desc = get_u32 (bytes + NN_DICOM_FRAME_SLICE_HEAD - 4);
  return NN_DICOM_FRAME_SLICE_HEAD + (n_uid <= NN_DICOM_FRAME_MAX_UID ? n_uid : 0)
         + (n_desc <= NN_DICOM_FRAME_MAX_DESCRIPTION ? n_desc : 0)
         + (count <= NN_IMAGE_MAX_PIXELS ? 4 * (size_t) count : 0);
}

/* fd moved above the standard descriptors (it is about to become one of them in the child);
 * -1 on failure. fd itself is closed when moved. */
static int
above_stdio (int fd)
{
  if (fd > 2 || fd < 0)
    return fd;
  int moved = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  close (fd);
  return moved;
}

static const char *
signal_text (int sig)
{
  switch (sig)
    {
    case SIGABRT:
      return "abort";
    case SIGSEGV:
      return "segmentation fault";
    case SIGBUS:
      return "bus error";
    case SIGFPE:
      return "arithmetic exception";
    case SIGILL:
      return "illegal instruction";
    case SIGKILL:
      return "killed";
    case SIGTRAP:
      return "trap";
    case SIGSYS:
      return "bad system call";
    default:
      return "signal";
    }
}

/* What the helper said on standard error, for the message: from "Assertion" on when it is an
 * assertion, else its last line; printable ASCII, at most 200 characters, "" when nothing. */
static void
stderr_hint (const char *said,
             size_t      len,
             char       *out,
             size_t      size)
{
  out[0] = '\0';
  char text[STDERR_KEEP + 1];
  for (size_t i = 0; i < len; i++)
    text[i] = said[i] == '\n' || (said[i] >= 0x20 && said[i] < 0x7f) ? said[i] : '?';
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
    len--;
  text[len] = '\0';
  const char *from = strstr (text, "Assertion");
  if (from == NULL)
    {
      char *nl = strrchr (text, '\n');
      from = nl != NULL ? nl + 1 : text;
    }
  size_t n = strcspn (from, "\n");
  if (n > 0)
    snprintf (out, size, ": %.*s", (int) (n < 200 ? n : 200), from);
}

/* One run of the helper over n files. */
typedef struct
{
  pid_t              pid;
  int                out_fd;
  int                err_fd;
  Buffer             out;
  char               said[STDERR_KEEP];  /* the start of its standard error */
  size_t             n_said;
  int                status;
  struct rusage      usage;      /* of the helper, once it has ended */
  int                done;       /* replies read */
  int                n;
  const char *const *paths;
  NnDicomSlice      *slices;
  bool               failed;     /* a reply carried an error, or broke the format: err set */
  bool               timed_out;
  bool               babbled;    /* more bytes than any reply, or after the last one */
} Run;

/* Reads every complete reply in the buffer. */
static void
run_consume (Run     *r,
             NnError *err)
{
  while (!r->failed && !r->babbled)
    {
      const unsigned char *p = r->out.data + r->out.start;
      size_t have = r->out.size - r->out.start;
      if (r->done == r->n)
        {
          r->babbled = have > 0;
          return;
        }
      size_t len = nn_dicom_reply_length (p, have);
      if (len == 0 || len > have)
        return;
      if (!nn_dicom_reply_parse (p, len, r->paths[r->done], &r->slices[r->done], err))
        {
          r->failed = true;
          return;
        }
      r->out.start += len;
      r->done++;
    }
}

/* Reads the helper's replies until it ends, giving it wall_ms for each; kills it when it takes
 * longer, says too much, or a reply ends the run. */
static void
run_wait (Run     *r,
          int      wall_ms,
          NnError *err)
{
  /* A pidfd tells when the helper ends while its pipes are still open (Linux 5.3); without
   * one, its end is awaited after the pipes close. */
  int pidfd = (int) syscall (SYS_pidfd_open, r->pid, 0);
  bool exited = false;
  int done = 0;
  int64_t deadline = now_ms () + wall_ms;
  while ((r->out_fd >= 0 || r->err_fd >= 0 || !exited) && !r->failed && !r->babbled)
    {
      if (r->done > done)
        {
          done = r->done;
          deadline = now_ms () + wall_ms;
        }
      int64_t left = deadline - now_ms ();
      if (left <= 0)
        {
          r->timed_out = true;
          break;
        }
      struct pollfd fds[3];
      int nfds = 0, out_i = -1, err_i = -1, pid_i = -1;
      if (r->out_fd >= 0)
        fds[out_i = nfds++] = (struct pollfd) { .fd = r->out_fd, .events = POLLIN };
      if (r->err_fd >= 0)
        fds[err_i = nfds++] = (struct pollfd) { .fd = r->err_fd, .events = POLLIN };
      if (!exited && pidfd >= 0)
        fds[pid_i = nfds++] = (struct pollfd) { .fd = pidfd, .events = POLLIN };
      if (nfds == 0)
        {
          /* Pipes closed, no pidfd: the helper is ending; look again shortly. */
          pid_t w = wait4 (r->pid, &r->status, WNOHANG, &r->usage);
          if (w == r->pid || (w < 0 && errno != EINTR))
            exited = true;
          else
            poll (NULL, 0, left < 5 ? (int) left : 5);
          continue;
        }
      int ready = poll (fds, (nfds_t) nfds, left > INT_MAX ? INT_MAX : (int) left);
      if (ready < 0 && errno == EINTR)
        continue;
      if (ready < 0)
        {
          r->timed_out = true;
          break;
        }
      if (out_i >= 0 && fds[out_i].revents != 0)
        {
          int got = buffer_read (&r->out, r->out_fd,
                                 NN_DICOM_FRAME_SLICE_HEAD + NN_DICOM_FRAME_MAX_UID
                                 + 4 * (size_t) NN_IMAGE_MAX_PIXELS);
          r->babbled = got < 0;
          if (got <= 0)
            {
              close (r->out_fd);
              r->out_fd = -1;
            }
          run_consume (r, err);
        }
      if (err_i >= 0 && fds[err_i].revents != 0)
        {
          /* The first STDERR_KEEP bytes are kept, the rest read and dropped. */
          char chunk[4096];
          ssize_t got = read (r->err_fd, chunk, sizeof chunk);
          if (got > 0 && r->n_said < STDERR_KEEP)
            {
              size_t take = STDERR_KEEP - r->n_said < (size_t) got ? STDERR_KEEP - r->n_said
                                                                   : (size_t) got;
              memcpy (r->said + r->n_said, chunk, take);
              r->n_said += take;
            }
          if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
            {
              close (r->err_fd);
              r->err_fd = -1;
            }
        }
      if (pid_i >= 0 && fds[pid_i].revents != 0)
        {
          while (wait4 (r->pid, &r->status, 0, &r->usage) < 0 && errno == EINTR)
            ;
          exited = true;
        }
    }
  if (!exited)
    {
      kill (r->pid, SIGKILL);
      while (wait4 (r->pid, &r->status, 0, &r->usage) < 0 && errno == EINTR)
        ;
    }
  if (pidfd >= 0)
    close (pidfd);
}

/* The error for a run that did not end with every reply read and the helper exiting 0. */
static void
run_error (Run                 *r,
           const char          *helper,
           const NnDicomLimits *limits,
           NnError             *err)
{
  const char *path = r->paths[r->done < r->n ? r->done : r->n - 1];
  char hint[256];
  stderr_hint (r->said, r->n_said, hint, sizeof hint);
  if (r->timed_out)
    nn_error_set (err, NN_ERROR_FORMAT, "%s: the DICOM decoder did not finish within %d s and "
                  "was stopped (a damaged or hostile file?)", path, limits->wall_ms / 1000);
  else if (r->babbled)
    nn_error_set (err, NN_ERROR_FORMAT, "%s: the DICOM decoder's reply is malformed (longer "
                  "than its slice)", path);
  else if (WIFSIGNALED (r->status)
           && (WTERMSIG (r->status) == SIGXCPU
               || (WTERMSIG (r->status) == SIGKILL
                   && r->usage.ru_utime.tv_sec + r->usage.ru_stime.tv_sec
                      >= limits->cpu_seconds)))
    nn_error_set (err, NN_ERROR_FORMAT, "%s: the DICOM decoder used more than %d s of CPU time "
                  "and was stopped (a damaged or hostile file?)", path, limits->cpu_seconds);
  else if (WIFSIGNALED (r->status))
    nn_error_set (err, NN_ERROR_FORMAT, "%s: the DICOM decoder crashed on this file (signal "
                  "%d: %s)%s", path, WTERMSIG (r->status), signal_text (WTERMSIG (r->status)),
                  hint);
  else if (!WIFEXITED (r->status) || WEXITSTATUS (r->status) != 0)
    nn_error_set (err, NN_ERROR_IO, "%s: the DICOM decoder %s failed (exit status %d)%s", path,
                  helper, WIFEXITED (r->status) ? WEXITSTATUS (r->status) : -1, hint);
  else
    {
      /* It exited 0 with replies missing or cut short: the parser says how. */
      NnDicomSlice extra;
      if (nn_dicom_reply_parse (r->out.data + r->out.start, r->out.size - r->out.start, path,
                                &extra, err))
        {
          nn_image_free (extra.image);
          nn_error_set (err, NN_ERROR_FORMAT, "%s: the DICOM decoder's reply is malformed "
                        "(cut short)", path);
        }
    }
}

bool
nn_dicom_run_helper (const char          *helper,
                     const int           *fds,
                     const char *const   *paths,
                     int                  n,
                     const NnDicomLimits *limits,
                     NnDicomSlice        *slices,
                     NnError             *err)
{
  NN_ASSERT (helper != NULL && fds != NULL && paths != NULL && limits != NULL);
  NN_ASSERT (slices != NULL && n >= 1 && n <= NN_DICOM_MAX_BATCH);
  for (int k = 0; k < n; k++)
    slices[k] = nn_dicom_slice_empty ();
  char buf[128];
  int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
  int in_fds[NN_DICOM_MAX_BATCH];
  int opened = 0;
  bool ready = pipe2 (out_pipe, O_CLOEXEC) == 0 && pipe2 (err_pipe, O_CLOEXEC) == 0
               && (out_pipe[1] = above_stdio (out_pipe[1])) >= 0
               && (err_pipe[1] = above_stdio (err_pipe[1])) >= 0;
  /* Each file becomes descriptor 3 + k of the helper: first moved out of the way of the
   * targets, all of which are below 3 + n. */
  for (; ready && opened < n; opened++)
    ready = (in_fds[opened] = fcntl (fds[opened], F_DUPFD_CLOEXEC, 3 + n)) >= 0;
  if (!ready)
    {
      nn_error_set (err, NN_ERROR_IO, "%s: cannot start the DICOM decoder: %s", paths[0],
                    strerror_r (errno, buf, sizeof buf));
      for (int i = 0; i < 2; i++)
        {
          if (out_pipe[i] >= 0)
            close (out_pipe[i]);
          if (err_pipe[i] >= 0)
            close (err_pipe[i]);
        }
      for (int k = 0; k < opened; k++)
        if (in_fds[k] >= 0)
          close (in_fds[k]);
      return false;
    }

  char as_text[32], cpu_text[32], n_text[32];
  snprintf (as_text, sizeof as_text, "%llu", (unsigned long long) limits->address_space);
  snprintf (cpu_text, sizeof cpu_text, "%d", limits->cpu_seconds);
  snprintf (n_text, sizeof n_text, "%d", n);
  char *argv[] = {
    (char *) helper, (char *) "--limit-as", as_text, (char *) "--limit-cpu", cpu_text,
    (char *) "--files", n_text, NULL,
  };
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t none, all;
  sigemptyset (&none);
  sigfillset (&all);
  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_addopen (&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2 (&actions, err_pipe[1], 2);
  for (int k = 0; k < n; k++)
    posix_spawn_file_actions_adddup2 (&actions, in_fds[k], 3 + k);
  /* Nothing else of ours reaches the helper, even a descriptor opened without O_CLOEXEC. */
  posix_spawn_file_actions_addclosefrom_np (&actions, 3 + n);
  posix_spawnattr_init (&attr);
  posix_spawnattr_setsigmask (&attr, &none);
  posix_spawnattr_setsigdefault (&attr, &all);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  Run r = {
    .pid = -1,
    .out_fd = out_pipe[0],
    .err_fd = err_pipe[0],
    .n = n,
    .paths = paths,
    .slices = slices,
  };
  int spawned = posix_spawn (&r.pid, helper, &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy (&actions);
  posix_spawnattr_destroy (&attr);
  for (int k = 0; k < n; k++)
    close (in_fds[k]);
  close (out_pipe[1]);
  close (err_pipe[1]);
  if (spawned != 0)
    {
      close (out_pipe[0]);
      close (err_pipe[0]);
      return nn_error_set (err, NN_ERROR_IO, "%s: cannot run the DICOM decoder %s: %s",
                           paths[0], helper, strerror_r (spawned, buf, sizeof buf));
    }
  fcntl (r.out_fd, F_SETFL, O_NONBLOCK);
  fcntl (r.err_fd, F_SETFL, O_NONBLOCK);
  run_wait (&r, limits->wall_ms, err);
  if (r.out_fd >= 0)
    close (r.out_fd);
  if (r.err_fd >= 0)
    close (r.err_fd);
  bool ok = !r.failed && !r.timed_out && !r.babbled && r.done == n && WIFEXITED (r.status)
            && WEXITSTATUS (r.status) == 0;
  if (!ok && !r.failed)
    run_error (&r, helper, limits, err);
  if (!ok)
    for (int k = 0; k < n; k++)
      {
        nn_image_free (slices[k].image);
        slices[k].image = NULL;
      }
  free (r.out.data);
  return ok;
}

/* ---- Finding the helper ------------------------------------------------------------------- */

char *
nn_dicom_helper_path (NnError *err)
{
  const char *env = secure_getenv ("CNNSCOPE_DICOM_HELPER");
  if (env != NULL && env[0] != '\0')
    {
      char *path = strdup (env);
      if (path == NULL)
        nn_error_set (err, NN_ERROR_NOMEM, "out of memory");
      return path;
    }
  char *path = nn_shipped_path (NN_DICOM_HELPER_BUILD, NN_DICOM_HELPER_RELATIVE,
                                NN_DICOM_HELPER_INSTALLED, X_OK, err);
  if (path == NULL && err != NULL && err->code != NN_ERROR_NOMEM)
    nn_error_prefix (err, "DICOM needs the cnnscope-dicom helper (CNNSCOPE_DICOM_HELPER may "
                     "name it)");
  return path;
}

/* ---- Slices and series -------------------------------------------------------------------- */

static const NnDicomLimits default_limits = {
  NN_DICOM_LIMIT_ADDRESS_SPACE, NN_DICOM_LIMIT_CPU_SECONDS, NN_DICOM_LIMIT_WALL_MS,
};

/* Whether the regular file open as fd, of size bytes, has "DICM" after the preamble. */
static bool
has_dicm (int      fd,
          uint64_t size)
{
  unsigned char head[132];
  return size >= sizeof head && nn_file_read_at (fd, "", head, sizeof head, 0, NULL)
         && memcmp (head + 128, "DICM", 4) == 0;
}

/* Whether the regular file open as fd, of size bytes, may be a slice: "DICM" after the
 * preamble and not too large. Else err names path. */
static bool
check_candidate (int         fd,
                 uint64_t    size,
                 const char *path,
                 NnError    *err)
{
  if (!has_dicm (fd, size))
    return nn_error_set (err, NN_ERROR_FORMAT, "%s: not a DICOM file (no \"DICM\" after the "
                         "128-byte preamble)", path);
  if (size > NN_DICOM_MAX_FILE_BYTES)
    return nn_error_set (err, NN_ERROR_UNSUPPORTED, "%s: file of %llu bytes is too large for a "
                         "slice", path, (unsigned long long) size);
  return true;
}

NnImage *
nn_dicom_load (const char *path,
               NnError    *err)
{
  NN_ASSERT (path != NULL);
  uint64_t size;
  int fd = nn_file_open_regular (path, &size, err);
  if (fd < 0)
    return NULL;
  char *helper = NULL;
  NnDicomSlice slice = nn_dicom_slice_empty ();
  if (check_candidate (fd, size, path, err))
    {
      helper = nn_dicom_helper_path (err);
      if (helper == NULL)
        nn_error_prefix (err, "%s", path);
      else
        nn_dicom_run_helper (helper, &fd, &path, 1, &default_limits, &slice, err);
    }
  close (fd);
  free (helper);
  return slice.image;
}

/* A slice of a series with what orders it. */
typedef struct
{
  int          index;  /* in name order */
  NnDicomSlice slice;
} SeriesEntry;

static int
compare_names (const void *a,
               const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* key: 1 by position, 2 by instance, 0 by name; ties keep the name order. */
static int
compare_entries (const void *a,
                 const void *b,
                 void       *key)
{
  const SeriesEntry *x = a, *y = b;
  int by = *(const int *) key;
  double u = by == 1 ? x->slice.position : x->slice.instance;
  double v = by == 1 ? y->slice.position : y->slice.instance;
  if (by != 0 && u != v)
    return u < v ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static void
free_names (char **names,
            int    n)
{
  for (int k = 0; k < n; k++)
    free (names[k]);
  free (names);
}

/* The names in dir (hidden ones left out), sorted; NULL with err when it cannot be read. */
static char **
list_names (const char *dir,
            int        *n_names,
            NnError    *err)
{
  char buf[128];
  *n_names = 0;
  DIR *d = opendir (dir);
  if (d == NULL)
    return nn_error_set (err, NN_ERROR_IO, "%s: %s", dir,
                         strerror_r (errno, buf, sizeof buf)), NULL;
  char **names = NULL;
  int n = 0, cap = 0;
  bool ok = true;
  struct dirent *e;
  while (ok && (e = readdir (d)) != NULL)
    {
      if (e->d_name[0] == '.')
        continue;
      if (n == cap)
        {
          cap = cap ? 2 * cap : 64;
          char **grown = realloc (names, sizeof *names * (size_t) cap);
          ok = grown != NULL;
          if (ok)
            names = grown;
        }
      if (ok)
        ok = (names[n++] = strdup (e->d_name)) != NULL;
    }
  closedir (d);
  if (!ok)
    {
      free_names (names, n);
      return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir), NULL;
    }
  /* An empty folder gives an empty list, not an error. */
  if (names == NULL)
    names = malloc (sizeof *names);
  if (names == NULL)
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir), NULL;
  qsort (names, (size_t) n, sizeof *names, compare_names);
  *n_names = n;
  return names;
}

/* Opens the next batch of DICOM files from names[*i] on (other files, not regular or not
 * DICOM, are skipped) into fds and paths. The number opened, or -1 with err. */
static int
open_batch (const char         *dir,
            char *const        *names,
            int                 n_names,
            int                *i,
            int                 fds[NN_DICOM_MAX_BATCH],
            char               *paths[NN_DICOM_MAX_BATCH],
            NnError            *err)
{
  int b = 0;
  bool ok = true;
  for (; ok && *i < n_names && b < NN_DICOM_MAX_BATCH; (*i)++)
    {
      size_t len = strlen (dir) + strlen (names[*i]) + 2;
      char *path = malloc (len);
      if (path == NULL)
        {
          ok = nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir);
          break;
        }
      snprintf (path, len, "%s/%s", dir, names[*i]);
      struct stat st;
      uint64_t size = 0;
      int fd = stat (path, &st) == 0 && S_ISREG (st.st_mode)
               ? nn_file_open_regular (path, &size, NULL) : -1;
      if (fd >= 0 && has_dicm (fd, size))
        {
          ok = check_candidate (fd, size, path, err);
          fds[b] = fd;
          paths[b] = path;
          b++;
          continue;
        }
      if (fd >= 0)
        close (fd);
      free (path);
    }
  if (!ok)
    {
      for (int k = 0; k < b; k++)
        {
          close (fds[k]);
          free (paths[k]);
        }
      return -1;
    }
  return b;
}

void
nn_dicom_folder_free (NnDicomSlice *slices,
                      char        **paths,
                      int           n)
{
  for (int k = 0; k < n; k++)
    {
      if (slices != NULL)
        nn_image_free (slices[k].image);
      if (paths != NULL)
        free (paths[k]);
    }
  free (slices);
  free (paths);
}

bool
nn_dicom_read_folder (const char    *dir,
                      NnDicomSlice **slices,
                      char        ***paths,
                      int           *n,
                      NnError       *err)
{
  NN_ASSERT (dir != NULL && slices != NULL && paths != NULL && n != NULL);
  *slices = NULL;
  *paths = NULL;
  *n = 0;
  int n_names = 0;
  char **names = list_names (dir, &n_names, err);
  if (names == NULL)
    return false;
  NnDicomSlice *out = calloc ((size_t) (n_names > 0 ? n_names : 1), sizeof *out);
  char **out_paths = calloc ((size_t) (n_names > 0 ? n_names : 1), sizeof *out_paths);
  char *helper = NULL;
  bool ok = out != NULL && out_paths != NULL;
  if (!ok)
    nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir);
  int count = 0;
  for (int i = 0; ok && i < n_names;)
    {
      int fds[NN_DICOM_MAX_BATCH];
      char *batch[NN_DICOM_MAX_BATCH];
      int b = open_batch (dir, names, n_names, &i, fds, batch, err);
      if (b < 0)
        {
          ok = false;
          break;
        }
      if (b > 0 && helper == NULL && (helper = nn_dicom_helper_path (err)) == NULL)
        nn_error_prefix (err, "%s", dir);
      ok = b == 0 || (helper != NULL
                      && nn_dicom_run_helper (helper, fds, (const char *const *) batch, b,
                                              &default_limits, out + count, err));
      for (int k = 0; k < b; k++)
        {
          close (fds[k]);
          if (ok)
            out_paths[count + k] = batch[k];
          else
            free (batch[k]);
        }
      if (ok)
        count += b;
    }
  free (helper);
  free_names (names, n_names);
  if (!ok)
    {
      nn_dicom_folder_free (out, out_paths, count);
      return false;
    }
  *slices = out;
  *paths = out_paths;
  *n = count;
  return true;
}

NnImage **
nn_dicom_load_series (const char *dir,
                      int        *n,
                      NnError    *err)
{
  NN_ASSERT (dir != NULL && n != NULL);
  *n = 0;
  NnDicomSlice *decoded = NULL;
  char **paths = NULL;
  int count = 0;
  if (!nn_dicom_read_folder (dir, &decoded, &paths, &count, err))
    return NULL;
  bool ok = true;
  if (count == 0)
    ok = nn_error_set (err, NN_ERROR_FORMAT, "%s: no DICOM files in the folder", dir);
  for (int k = 1; ok && k < count; k++)
    if (decoded[k].image->h != decoded[0].image->h || decoded[k].image->w != decoded[0].image->w)
      ok = nn_error_set (err, NN_ERROR_FORMAT, "%s: slice of %d x %d in a series of %d x %d",
                         paths[k], decoded[k].image->h, decoded[k].image->w,
                         decoded[0].image->h, decoded[0].image->w);
  SeriesEntry *entries = ok ? calloc ((size_t) count, sizeof *entries) : NULL;
  NnImage **slices = ok ? calloc ((size_t) count, sizeof *slices) : NULL;
  if (ok && (entries == NULL || slices == NULL))
    ok = nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", dir);
  if (ok)
    {
      bool by_position = true, by_instance = true;
      for (int i = 0; i < count; i++)
        {
          entries[i] = (SeriesEntry) { i, decoded[i] };
          by_position = by_position && isfinite (decoded[i].position);
          by_instance = by_instance && isfinite (decoded[i].instance);
        }
      int key = by_position ? 1 : by_instance ? 2 : 0;
      qsort_r (entries, (size_t) count, sizeof *entries, compare_entries, &key);
      for (int i = 0; i < count; i++)
        {
          slices[i] = entries[i].slice.image;
          decoded[entries[i].index].image = NULL;
        }
      *n = count;
    }
  else
    {
      free (slices);
      slices = NULL;
    }
  free (entries);
  nn_dicom_folder_free (decoded, paths, count);
  return slices;
}

void
nn_dicom_series_free (NnImage **slices,
                      int       n)
{
  if (slices == NULL)
    return;
  for (int i = 0; i < n; i++)
    nn_image_free (slices[i]);
  free (slices);
}
