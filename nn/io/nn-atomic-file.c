/* SPDX-License-Identifier: MIT */
/* Atomic saves: a locked temporary file per target (reused, so a killed save leaves nothing
 * for long), written through a stdio stream that remembers its first write error, fsync,
 * rename, folder sync. */
#include "io/nn-atomic-file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_SUFFIX      ".tmp"
#define TMP_RANDOM      "-XXXXXX"   /* for mkostemp */

struct NnAtomicSink
{
  int fd;       /* written through fp */
  int lock_fd;  /* the same open file, holding the lock until the rename is done */
  int errnum;   /* of the first failed write or close, 0 when none */
};

static ssize_t
sink_write (void       *cookie,
            const char *buf,
            size_t      size)
{
  struct NnAtomicSink *sink = cookie;
  size_t done = 0;
  while (done < size)
    {
      ssize_t n = write (sink->fd, buf + done, size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (sink->errnum == 0)
            sink->errnum = n < 0 ? errno : EIO;
          /* stdio marks the stream as failed; what did get written stays counted. */
          return done > 0 ? (ssize_t) done : -1;
        }
      done += (size_t) n;
    }
  return (ssize_t) done;
}

static int
sink_close (void *cookie)
{
  struct NnAtomicSink *sink = cookie;
  int r = close (sink->fd);
  if (r != 0 && sink->errnum == 0)
    sink->errnum = errno;
  sink->fd = -1;
  return r;
}

/* The folder of path ("." when it has none) and its last component, both new strings. */
static bool
split_path (const char *path,
            char      **folder,
            char      **name)
{
  const char *slash = strrchr (path, '/');
  *name = strdup (slash != NULL ? slash + 1 : path);
  if (slash == NULL)
    *folder = strdup (".");
  else if (slash == path)
    *folder = strdup ("/");
  else
    *folder = strndup (path, (size_t) (slash - path));
  if (*folder == NULL || *name == NULL)
    {
      free (*folder);
      free (*name);
      return false;
    }
  return true;
}

/* The temporary file of a target is folder/.<name>.tmp, reused by every save of the target:
 * what a killed save left is truncated and written over by the next one. Opened and locked
 * here; -1 when it cannot be used (a save in progress holds it, it is not a regular file of
 * ours, or it cannot be created), and the caller falls back to a name of its own. */
static int
open_shared_tmp (const char *tmp)
{
  int fd = open (tmp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0)
    return -1;
  /* Once locked it must still be the file of that name: a save that held the lock may have
   * renamed it over the target just before. */
  struct stat st, named;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_uid != geteuid ()
      || flock (fd, LOCK_EX | LOCK_NB) != 0 || lstat (tmp, &named) != 0
      || named.st_ino != st.st_ino || named.st_dev != st.st_dev || ftruncate (fd, 0) != 0
      || fchmod (fd, 0644) != 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Removes folder/.<name>.tmp-XXXXXX files that no save holds locked: what a killed save that
 * could not use the shared temporary file left. Best effort. */
static void
remove_stale (const char *folder,
              const char *name)
{
  DIR *d = opendir (folder);
  if (d == NULL)
    return;
  size_t name_len = strlen (name);
  size_t len = 1 + name_len + sizeof TMP_SUFFIX - 1 + sizeof TMP_RANDOM - 1;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      const char *n = e->d_name;
      if (strlen (n) != len || n[0] != '.' || strncmp (n + 1, name, name_len) != 0
          || strncmp (n + 1 + name_len, TMP_SUFFIX "-", sizeof TMP_SUFFIX) != 0)
        continue;
      int fd = openat (dirfd (d), n, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (fd < 0)
        continue;
      struct stat st;
      if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && flock (fd, LOCK_EX | LOCK_NB) == 0)
        unlinkat (dirfd (d), n, 0);
      close (fd);
    }
  closedir (d);
}

/* A temporary file folder/.<name>.tmp-XXXXXX of this save alone, locked; -1 with errno set
 * when it cannot be created. */
static int
open_own_tmp (char *tmp)
{
  for (int attempt = 0; attempt < 8; attempt++)
    {
      memcpy (tmp + strlen (tmp) - (sizeof TMP_RANDOM - 2), "XXXXXX", 6);
      int fd = mkostemp (tmp, O_CLOEXEC);
      if (fd < 0)
        return -1;
      /* The lock tells remove_stale of another save that this file is in use. One that
       * looked at it between mkostemp and flock may have removed it: then again. */
      struct stat st;
      if (fchmod (fd, 0644) != 0 || flock (fd, LOCK_EX) != 0 || fstat (fd, &st) != 0)
        {
          int e = errno;
          close (fd);
          unlink (tmp);
          errno = e;
          return -1;
        }
      if (st.st_nlink > 0)
        return fd;
      close (fd);
    }
  errno = EBUSY;
  return -1;
}

bool
nn_atomic_file_open (NnAtomicFile *file,
                     const char   *path,
                     NnError      *err)
{
  NN_ASSERT (file != NULL && path != NULL);
  *file = (NnAtomicFile) { .path = path };
  if (path[0] == '\0')
    return nn_error_set (err, NN_ERROR_IO, "cannot write: empty output path");
  char *folder = NULL, *name = NULL;
  if (!split_path (path, &folder, &name))
    return nn_error_set (err, NN_ERROR_NOMEM, "%s: out of memory", path);
  if (name[0] == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    {
      free (folder);
      free (name);
      return nn_error_set (err, NN_ERROR_IO, "%s: cannot write: the path names a folder", path);
    }
  size_t len = strlen (folder) + strlen (name) + sizeof "/." TMP_SUFFIX TMP_RANDOM;
  file->tmp = malloc (len);
  file->sink = calloc (1, sizeof *file->sink);
  int fd = -1, e = ENOMEM;
  if (file->tmp != NULL && file->sink != NULL)
    {
      snprintf (file->tmp, len, "%s/.%s" TMP_SUFFIX, folder, name);
      fd = open_shared_tmp (file->tmp);
      if (fd < 0)
        {
          remove_stale (folder, name);
          snprintf (file->tmp, len, "%s/.%s" TMP_SUFFIX TMP_RANDOM, folder, name);
          fd = open_own_tmp (file->tmp);
          e = errno;
        }
    }
  free (folder);
  free (name);
  if (fd >= 0)
    {
      file->sink->fd = fd;
      file->sink->lock_fd = fcntl (fd, F_DUPFD_CLOEXEC, 0);
      e = errno;
      if (file->sink->lock_fd >= 0)
        file->fp = fopencookie (file->sink, "w",
                                (cookie_io_functions_t) { .write = sink_write,
                                                          .close = sink_close });
      if (file->fp == NULL)
        {
          e = file->sink->lock_fd >= 0 ? ENOMEM : e;
          unlink (file->tmp);
          close (fd);
          if (file->sink->lock_fd >= 0)
            close (file->sink->lock_fd);
        }
    }
  if (file->fp == NULL)
    {
      char buf[128];
      free (file->tmp);
      free (file->sink);
      *file = (NnAtomicFile) { .path = path };
      /* The GNU strerror_r (we build with _GNU_SOURCE): thread-safe, returns the text. */
      return nn_error_set (err, e == ENOMEM ? NN_ERROR_NOMEM : NN_ERROR_IO,
                           "%s: cannot create a temporary file: %s", path,
                           strerror_r (e, buf, sizeof buf));
    }
  return true;
}

int
nn_atomic_file_error (const NnAtomicFile *file)
{
  NN_ASSERT (file != NULL && file->sink != NULL);
  return file->sink->errnum;
}

/* Syncs the folder holding path, so the rename itself survives a crash. Best effort: the file
 * is complete at this point whatever happens. */
static void
sync_folder (const char *path)
{
  char *folder = NULL, *name = NULL;
  if (!split_path (path, &folder, &name))
    return;
  int fd = open (folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
  free (folder);
  free (name);
}

bool
nn_atomic_file_finish (NnAtomicFile *file,
                       bool          ok,
                       NnError      *err)
{
  NN_ASSERT (file != NULL && file->fp != NULL && file->tmp != NULL && file->sink != NULL);
  struct NnAtomicSink *sink = file->sink;
  int e = 0;
  /* A failed write may have been noticed by nobody (the caller did not check, or stdio only
   * failed when it emptied its buffer): the stream's error flag and the sink both tell. */
  if (ok && fflush (file->fp) != 0)
    e = sink->errnum != 0 ? sink->errnum : errno != 0 ? errno : EIO;
  if (ok && e == 0 && (ferror (file->fp) || sink->errnum != 0))
    e = sink->errnum != 0 ? sink->errnum : EIO;
  if (ok && e == 0 && fsync (sink->fd) != 0)
    e = errno;
  if (fclose (file->fp) != 0 && ok && e == 0)
    e = sink->errnum != 0 ? sink->errnum : errno != 0 ? errno : EIO;
  /* Renamed, or removed, while the lock is still held: no other save takes the file over. */
  if (ok && e == 0 && rename (file->tmp, file->path) != 0)
    e = errno;
  if (ok && e != 0)
    {
      char buf[128];
      nn_error_set (err, NN_ERROR_IO, "%s: cannot write: %s", file->path,
                    strerror_r (e, buf, sizeof buf));
      ok = false;
    }
  if (!ok)
    unlink (file->tmp);
  close (sink->lock_fd);
  if (ok)
    sync_folder (file->path);
  free (file->tmp);
  free (sink);
  *file = (NnAtomicFile) { 0 };
  return ok;
}
